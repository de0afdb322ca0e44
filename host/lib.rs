// SPDX-License-Identifier: GPL-2.0

//! Host build of the kernel-independent modules of vfio-rs, so their unit tests run with
//! `cargo test` (the kernel build compiles the same files into the modules).

#![allow(dead_code)]

#[path = "../drivers/vfio/info_caps.rs"]
pub mod info_caps;

#[path = "../drivers/vfio/irq_set.rs"]
pub mod irq_set;

#[path = "../drivers/vfio/mig_state.rs"]
pub mod mig_state;

#[path = "../drivers/vfio/iova_ranges.rs"]
pub mod iova_ranges;
