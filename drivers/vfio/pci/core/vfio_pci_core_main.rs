// SPDX-License-Identifier: GPL-2.0

//! `vfio-pci-core.ko` in Rust: a drop-in for upstream's `drivers/vfio/pci/vfio_pci_core.c` and
//! its companions, the library that vfio-pci and the variant drivers build their VFIO devices
//! on.
//!
//! Drivers allocate `struct vfio_pci_core_device` themselves (often embedded in a larger
//! struct) and call the core's exports with it, so the core owns neither the allocation nor its
//! layout: the fields C drivers read keep upstream's meaning, and what only the core uses lives
//! in [`state::CoreState`], created by `vfio_pci_core_init_dev` and dropped by
//! `vfio_pci_core_release_dev`. The C ABI is all in [`ffi`]; the rest is safe Rust, by
//! upstream's split: [`enable`] (open, close, registration, power states), [`info`] (the
//! `GET_*_INFO` ioctls), [`hot_reset`] (slot and bus resets of a device set), [`rdwr`] (region
//! reads and writes), [`ioeventfd`] (`VFIO_DEVICE_IOEVENTFD`), [`config_kernel`] (the kernel
//! side of the config-space engine in
//! `../config/`).
//!
//! Part of `--impl rust` (docs/design/pci-core-plan.md for what is and is not ported).

use vfio_rs_kernel_ext as kernel_ext;

/// The config-space engine (pure, also built on the host).
#[path = "../config/mod.rs"]
#[expect(
    unreachable_pub,
    reason = "the engine's items are `pub` for the host tests, which use it as a library"
)]
#[expect(
    dead_code,
    reason = "the igd and BAR access helpers wait for the parts of the core not ported yet"
)]
mod config;
mod config_kernel;
mod enable;
mod ffi;
mod hot_reset;
mod info;
mod intrs;
mod io_steps;
mod ioeventfd;
mod ioeventfd_args;
mod irq_plan;
mod low_power;
mod rdwr;
mod sriov;
mod state;

// Pure code's errno, at the crate root where the config engine finds it.
use kernel_ext::{
    errno,
    irq_flags, //
};

use kernel::prelude::*;

module! {
    type: VfioPciCoreModule,
    name: "vfio_pci_core",
    authors: ["vfio-rs developers"],
    description: "core driver for PCI devices using VFIO",
    license: "GPL v2",
}

/// The module: no global state (upstream's `vfio_pci_init_perm_bits` builds tables that are
/// `static`s here).
struct VfioPciCoreModule;

impl kernel::Module for VfioPciCoreModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        sriov::init();
        Ok(Self)
    }
}

impl Drop for VfioPciCoreModule {
    fn drop(&mut self) {
        sriov::exit();
    }
}
