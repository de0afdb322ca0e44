// SPDX-License-Identifier: GPL-2.0

//! Mediated device core (`mdev.ko`) in Rust: a drop-in for upstream's `drivers/vfio/mdev`.
//!
//! Module init mirrors upstream's `mdev_init`: the `mdev` bus, then the `mdev_bus`
//! compatibility class. Drivers reach the core through the four exports of [`ffi`] (the
//! module's only FFI glue); parents, types and devices are in [`mdev_core`], their sysfs
//! files in [`sysfs`], the bus callbacks in [`driver`], and the pure rules in [`rules`].
//!
//! Lock order: a parent's `unreg_sem`, then the device list (`mdev_core::devices`), then the
//! compatibility class (`mdev_core::compat`), each released before a driver callback.

use vfio_rs_kernel_ext as kernel_ext;

mod driver;
mod ffi;
mod mdev_core;
mod rules;
mod sysfs;

// The pure rules name `crate::guid`, as the host build has it.
use kernel_ext::{
    errno,
    guid, //
};

use kernel::prelude::*;

module! {
    type: MdevModule,
    name: "mdev",
    authors: ["vfio-rs developers"],
    description: "Mediated device Core Driver",
    license: "GPL v2",
}

/// The loaded module. Fields drop top to bottom: the class first, then the bus.
#[pin_data]
struct MdevModule {
    _compat: mdev_core::Published,
    _bus: kernel_ext::bus::BusRegistration,
}

impl kernel::InPlaceModule for MdevModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _bus: ffi::MDEV_BUS.bus_type().register()?,
            _compat: mdev_core::Published::new()?,
        })
    }
}
