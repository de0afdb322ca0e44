// SPDX-License-Identifier: GPL-2.0

//! Crate root of vfio-rs's shared kernel abstractions (`kernel_ext`): what the VFIO modules need
//! that 7.3's `kernel` crate lacks. Not a stable ABI: the modules are built together.
//!
//! Written as if it were a set of `rust/kernel` patches: with each module's own C ABI glue
//! (`drivers/vfio/ffi.rs` for `vfio.ko`), the only place in the project that touches raw
//! bindings, `extern "C"` or C helpers. Every module's crate root includes it with
//! `#[path = "../../rust/kernel_ext.rs"] mod kernel_ext;`, so each `.ko` carries its own copy of
//! the subset it uses.

// Each module uses a different subset of this shared layer, so which items are dead depends on
// the crate including it: `expect` cannot be used, an unused item is not a bug here.
#![allow(dead_code)]

pub(crate) mod bindings;
pub(crate) mod bus;
pub(crate) mod cdev_fops;
pub(crate) mod cdev_node;
pub(crate) mod chrdev;
pub(crate) mod class;
pub(crate) mod class_compat;
pub(crate) mod dev_ext;
pub(crate) mod errno;
pub(crate) mod eventfd;
pub(crate) mod fops;
pub(crate) mod global;
pub(crate) mod guid;
pub(crate) mod helpers;
pub(crate) mod ida;
pub(crate) mod interval_tree;
pub(crate) mod iommu;
pub(crate) mod iommu_domain;
pub(crate) mod iommufd;
pub(crate) mod iova_bitmap;
pub(crate) mod kobject;
pub(crate) mod kvm;
pub(crate) mod mdev;
pub(crate) mod misc;
pub(crate) mod module_ref;
pub(crate) mod param;
pub(crate) mod pfnmap;
pub(crate) mod rwsem;
pub(crate) mod sysfs;
pub(crate) mod uaccess_ext;
pub(crate) mod uapi;
pub(crate) mod user_mm;
pub(crate) mod user_pages;
pub(crate) mod vfio;
pub(crate) mod workqueue_ext;
