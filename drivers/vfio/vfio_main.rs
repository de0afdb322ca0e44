// SPDX-License-Identifier: GPL-2.0

//! VFIO core (`vfio.ko`) in Rust: a drop-in for upstream's `drivers/vfio` core.
//!
//! Module init mirrors upstream's `vfio_init`: the IOMMU driver registry and the container
//! misc device, the `vfio` class with the group chrdev region, then the `vfio-dev` class with
//! the device cdev region. What exported functions need of it ([`Core`]) is published in a
//! global for them and withdrawn first at exit.

use vfio_rs_kernel_ext as kernel_ext;

mod container;
mod dev_set;
mod device;
mod device_cdev;
mod device_feature;
mod device_file;
mod device_open;
mod dma_access;
mod feature_args;
mod ffi;
mod group;
mod info_cap;
mod info_cap_chain;
mod iommu_driver;
mod iommufd;
mod iova_combine;
mod irq_set;
mod mig_state;
mod virqfd;

use kernel::{
    prelude::*,
    sync::Arc, //
};
use kernel_ext::{
    chrdev::{
        ChrdevRegion,
        ALL_MINORS, //
    },
    class::{
        Class,
        ClassInfo, //
    },
    global::module_mutex,
    ida::Ida,
    misc::{
        FixedMiscDevice,
        FixedMiscOptions, //
    }, //
};

// Pure code's errno and the driver API's `vfio_check_feature`, at the crate root where the pure
// modules (also built on the host) find them.
use kernel_ext::{
    errno,
    irq_flags,
    vfio::feature_check, //
};

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

/// State shared by the exported functions and the files. Fields drop top to bottom: the
/// container node first, then the device side, then the group side.
#[pin_data]
pub(crate) struct Core {
    #[pin]
    container: FixedMiscDevice<container::Container>,
    #[pin]
    device_ida: Ida,
    device_devt: ChrdevRegion,
    #[pin]
    device_class: Class<DeviceClass>,
    #[pin]
    group_ida: Ida,
    group_devt: ChrdevRegion,
    #[pin]
    group_class: Class<GroupClass>,
}

module_mutex! {
    /// The loaded core, while the module is live.
    static core_slot: Option<Arc<Core>> = None;
}

/// The loaded core; `ENODEV` outside module init..exit.
pub(crate) fn core() -> Result<Arc<Core>> {
    core_slot::lock().clone().ok_or(ENODEV)
}

/// Publishes the core for exported functions; dropping it withdraws the core.
struct Published;

impl Published {
    fn new() -> Result<Self> {
        core_slot::init();
        kernel_ext::vfio::kvm::init_kvm_ref_lock();
        dev_set::sets::init();
        group::groups::init();
        dma_access::container_users::init();
        let core = Arc::pin_init(
            try_pin_init!(Core {
                group_class <- Class::register(),
                group_devt: ChrdevRegion::alloc(ALL_MINORS, c"vfio")?,
                group_ida <- Ida::new(),
                device_class <- Class::register(),
                device_devt: ChrdevRegion::alloc(ALL_MINORS, c"vfio-dev")?,
                device_ida <- Ida::new(),
                container <- FixedMiscDevice::register(FixedMiscOptions {
                    name: c"vfio",
                    minor: kernel_ext::bindings::VFIO_MINOR,
                    nodename: c"vfio/vfio",
                    mode: 0o666,
                }),
            }? Error),
            GFP_KERNEL,
        )?;
        *core_slot::lock() = Some(core);
        Ok(Self)
    }
}

impl Drop for Published {
    fn drop(&mut self) {
        // Importers pin this module, so none can still call in; the last `Arc` goes here.
        *core_slot::lock() = None;
        // Statics are not dropped at unload: free the registries' (now empty) buffers.
        *dev_set::sets::lock() = KVec::new();
        *group::groups::lock() = KVec::new();
        *dma_access::container_users::lock() = KVec::new();
    }
}

/// The loaded module. Fields are declared in teardown order (Rust drops them top to bottom).
#[pin_data]
struct VfioModule {
    _iommu_drivers: iommu_driver::Registry,
    _core: Published,
    _virqfd: ffi::virqfd::object::Runtime,
}

impl kernel::InPlaceModule for VfioModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _virqfd: ffi::virqfd::object::Runtime::new()?,
            _core: Published::new()?,
            _iommu_drivers: iommu_driver::Registry::new(),
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
