// SPDX-License-Identifier: GPL-2.0

//! The subset of vfio-rs's kernel abstractions (`kernel_ext`, see `rust/kernel_ext.rs`) that
//! `mdev.ko` includes, under the same module paths.
//!
//! Upstream's `mdev.ko` depends on no other module; the full layer would link its iommufd
//! helpers into every module that includes it (symbols of the `IOMMUFD` namespace, whose
//! import makes the module depend on `iommufd.ko`), so `mdev.ko` takes only what it uses.

// Which items are dead depends on the crate including the layer (see `rust/kernel_ext.rs`).
#![allow(dead_code)]

pub(crate) mod bus;
pub(crate) mod class_compat;
pub(crate) mod dev_ext;
pub(crate) mod errno;
pub(crate) mod global;
pub(crate) mod guid;
pub(crate) mod kobject;
pub(crate) mod mdev;
pub(crate) mod rwsem;
pub(crate) mod sysfs;
