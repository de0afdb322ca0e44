// SPDX-License-Identifier: GPL-2.0

//! VFIO core (`vfio.ko`) in Rust: a drop-in for upstream's `drivers/vfio` core.
//!
//! Module init mirrors upstream's `vfio_init`: the container misc device and the IOMMU backend
//! registry, the `vfio` class with its group chrdev region, then the `vfio-dev` class with the
//! device cdev region. Teardown runs in reverse.

#[path = "../../rust/kabi.rs"]
mod kabi;

#[path = "../../rust/vfio/core_exports.rs"]
mod core_exports;

mod caps;
mod container;
mod info_caps;
mod iommu_drivers;
mod irq_set;

use kabi::{
    chrdev::{
        ChrdevRegion,
        ALL_MINORS, //
    },
    class::{
        Class,
        ClassInfo, //
    },
    misc::{
        FixedMiscDevice,
        FixedMiscOptions, //
    },
};
use kernel::prelude::*;

module! {
    type: VfioModule,
    name: "vfio",
    authors: ["vfio-rs developers"],
    description: "VFIO - User Level meta-driver",
    license: "GPL v2",
}

/// Upstream's driver version string, printed at load as upstream does.
const DRIVER_VERSION: &str = "0.3";

/// `/sys/class/vfio`: group nodes `/dev/vfio/N`.
struct GroupClass;

impl ClassInfo for GroupClass {
    const NAME: &'static CStr = c"vfio";
    const DEVNODE_DIR: &'static CStr = c"vfio";
}

/// `/sys/class/vfio-dev`: device cdevs `/dev/vfio/devices/vfioN`.
struct DeviceClass;

impl ClassInfo for DeviceClass {
    const NAME: &'static CStr = c"vfio-dev";
    const DEVNODE_DIR: &'static CStr = c"vfio/devices";
}

/// The loaded core. Fields are declared in teardown order (Rust drops them top to bottom).
#[pin_data]
struct VfioModule {
    _device_devt: ChrdevRegion,
    #[pin]
    _device_class: Class<DeviceClass>,
    _group_devt: ChrdevRegion,
    #[pin]
    _group_class: Class<GroupClass>,
    #[pin]
    _container: FixedMiscDevice<container::Container>,
    _iommu_drivers: iommu_drivers::Registry,
}

impl kernel::InPlaceModule for VfioModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _iommu_drivers: iommu_drivers::Registry::new(),
            _container <- FixedMiscDevice::register(FixedMiscOptions {
                name: c"vfio",
                minor: kabi::bindings::VFIO_MINOR,
                nodename: c"vfio/vfio",
                mode: 0o666,
            }),
            _group_class <- Class::register(),
            _group_devt: ChrdevRegion::alloc(ALL_MINORS, c"vfio")?,
            _device_class <- Class::register(),
            _device_devt: ChrdevRegion::alloc(ALL_MINORS, c"vfio-dev")?,
        })
        .pin_chain(|_| {
            pr_info!(
                "VFIO - User Level meta-driver version: {}\n",
                DRIVER_VERSION
            );
            Ok(())
        })
    }
}
