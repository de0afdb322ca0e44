// SPDX-License-Identifier: GPL-2.0

//! Host build of the kernel-independent modules of vfio-rs, so their unit tests run with
//! `cargo test` (the kernel build compiles the same files into the modules).
//!
//! Outside tests the crate is `no_std` without `alloc`, like a kernel module, so anything
//! that would not build in the kernel fails here first.

#![cfg_attr(not(test), no_std)]
#![allow(dead_code)]

#[path = "../rust/errno.rs"]
pub mod errno;

#[path = "../drivers/vfio/info_cap_chain.rs"]
pub mod info_cap_chain;

/// `struct vfio_irq_set`'s flags (`rust/irq_flags.rs`).
#[path = "../rust/irq_flags.rs"]
pub mod irq_flags;

#[path = "../drivers/vfio/irq_set.rs"]
pub mod irq_set;

/// The pure logic of the type1 IOMMU driver (`drivers/vfio/type1/`).
pub mod type1;

/// The pure logic of the mtty sample driver (`samples/vfio-mdev/`).
pub mod mtty;

#[path = "../drivers/vfio/mig_state.rs"]
pub mod mig_state;

#[path = "../drivers/vfio/iova_combine.rs"]
pub mod iova_combine;

#[path = "../rust/vfio/feature_check.rs"]
pub mod feature_check;

#[path = "../drivers/vfio/feature_args.rs"]
pub mod feature_args;

#[path = "../rust/guid.rs"]
pub mod guid;

/// The pure rules of `mdev.ko` (`drivers/vfio/mdev/rules.rs`).
#[path = "../drivers/vfio/mdev/rules.rs"]
pub mod mdev_rules;

/// vfio-pci's `ids=` parameter and denylist (`drivers/vfio/pci/ids.rs`).
#[path = "../drivers/vfio/pci/ids.rs"]
pub mod pci_ids;

/// vfio-pci's config space virtualization (`drivers/vfio/pci/config/`).
#[path = "../drivers/vfio/pci/config/mod.rs"]
pub mod pci_config;

/// How the vfio-pci core cuts a BAR access into device accesses
/// (`drivers/vfio/pci/core/io_steps.rs`).
#[path = "../drivers/vfio/pci/core/io_steps.rs"]
pub mod pci_io_steps;

#[cfg(test)]
#[path = "pci_io_steps_tests.rs"]
mod pci_io_steps_tests;

/// What the vfio-pci core's `VFIO_DEVICE_SET_IRQS` decides from a request
/// (`drivers/vfio/pci/core/irq_plan.rs`).
#[path = "../drivers/vfio/pci/core/irq_plan.rs"]
pub mod pci_irq_plan;

#[cfg(test)]
#[path = "pci_irq_plan_model.rs"]
mod pci_irq_plan_model;

/// `VFIO_DEVICE_IOEVENTFD`'s argument checks (`drivers/vfio/pci/core/ioeventfd_args.rs`).
#[path = "../drivers/vfio/pci/core/ioeventfd_args.rs"]
pub mod pci_ioeventfd_args;
#[cfg(test)]
#[path = "pci_irq_plan_tests.rs"]
mod pci_irq_plan_tests;

#[cfg(test)]
#[path = "pci_ioeventfd_args_tests.rs"]
mod pci_ioeventfd_args_tests;

#[cfg(test)]
#[path = "pci_config_fake.rs"]
mod pci_config_fake;

#[cfg(test)]
#[path = "pci_config_tests.rs"]
mod pci_config_tests;

#[cfg(test)]
#[path = "pci_config_devices.rs"]
mod pci_config_devices;

#[cfg(test)]
#[path = "pci_config_model.rs"]
mod pci_config_model;

#[cfg(test)]
#[path = "pci_config_gen.rs"]
mod pci_config_gen;

#[cfg(test)]
#[path = "pci_config_props.rs"]
mod pci_config_props;

/// vfio-pci's Intel IGD rules: the OpRegion region and the bridge config regions
/// (`drivers/vfio/pci/igd.rs`).
#[path = "../drivers/vfio/pci/igd.rs"]
pub mod pci_igd;

#[cfg(test)]
#[path = "pci_igd_tests.rs"]
mod pci_igd_tests;
