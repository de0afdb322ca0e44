// SPDX-License-Identifier: GPL-2.0

//! `vfio-pci.ko` in Rust: a drop-in for upstream's `drivers/vfio/pci/vfio_pci.c`.
//!
//! The PCI driver `vfio-pci` binds devices named through `driver_override` (or the `ids=`
//! parameter's dynamic ids), refuses the denylisted ones, and hands each to a VFIO PCI core
//! through its exported C ABI (upstream's `vfio-pci-core.ko` today): the VFIO device is a
//! `struct vfio_pci_core_device` allocated with this driver's `vfio_device_ops`, whose entries
//! are the core's exports except `init` (latching the module parameters into the device) and
//! `open_device` (enable, Intel IGD, finish enable). The C glue is all in [`ffi`]; this file is
//! the driver's logic, as upstream's functions of the same names.

use vfio_rs_kernel_ext as kernel_ext;

mod ffi;
mod ids;
/// IGD's rules (pure, also built on the host).
mod igd;
mod igd_kernel;

// Pure code's errno, at the crate root where `igd` finds it.
use kernel_ext::errno;

use ffi::CoreDevice;
use ids::IdEntry;
use kernel::{
    device::{
        Bound,
        Core, //
    },
    pci,
    prelude::*,
    str::BStr,
    sync::aref::ARef,
};
use kernel_ext::{
    param::{
        module_param_rw,
        module_param_string, //
    },
    pci::{
        ChannelState,
        DeviceId,
        Driver,
        DrvDataSlot,
        ErsResult,
        Installed,
        Registration,
        ANY_ID, //
    },
};

module! {
    type: VfioPciModule,
    name: "vfio_pci",
    authors: ["vfio-rs developers"],
    description: "VFIO PCI - User Level meta-driver",
    license: "GPL v2",
}

/// Upstream's parameters: same names, types and modes (`vfio_pci.c` 33-61).
pub(crate) mod module_params {
    use super::*;

    module_param_string!(
        /// Initial dynamic ids, read once at init (mode 0: no sysfs file).
        static ids: 1024,
        "Initial PCI IDs to add to the vfio driver, format is \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\" and multiple comma separated entries can be specified";
    );
    module_param_rw!(
        /// Latched into each device at init: no PCI 2.3 INTx masking.
        static nointxmask: bool = false, 0o644,
        "Disable support for PCI 2.3 style INTx masking.  If this resolves problems for specific devices, report lspci -vvvxxx to linux-pci@vger.kernel.org so the device can be fixed automatically via the broken_intx_masking flag.";
    );
    #[cfg(CONFIG_VFIO_PCI_VGA)]
    module_param_rw!(
        /// Latched into each device at init: no VGA resource access.
        static disable_vga: bool = false, 0o444,
        "Disable VGA resource access through vfio-pci";
    );
    module_param_rw!(
        /// Latched into each device at init: idle devices stay in D0.
        static disable_idle_d3: bool = false, 0o644,
        "Disable using the PCI D3 low power state for idle, unused devices";
    );
    #[cfg(CONFIG_PCI_IOV)]
    module_param_rw!(
        /// `sriov_configure` is refused (`-ENOENT`) unless set.
        static enable_sriov: bool = false, 0o644,
        "Enable support for SR-IOV configuration.  Enabling SR-IOV on a PF typically requires support of the userspace PF driver, enabling VFs without such support may result in non-functional VFs or PF.";
    );
    module_param_rw!(
        /// Bind denylisted devices too (with a warning).
        static disable_denylist: bool = false, 0o444,
        "Disable use of device denylist. Disabling the denylist allows binding to devices with known errata that may lead to exploitable stability or security issues when accessed by untrusted users.";
    );
}

/// `enable_sriov`: without `CONFIG_PCI_IOV` upstream has no such parameter and it stays false.
fn enable_sriov() -> bool {
    #[cfg(CONFIG_PCI_IOV)]
    {
        module_params::enable_sriov.get()
    }
    #[cfg(not(CONFIG_PCI_IOV))]
    {
        false
    }
}

/// `disable_vga`: only a parameter with `CONFIG_VFIO_PCI_VGA`.
fn disable_vga() -> bool {
    #[cfg(CONFIG_VFIO_PCI_VGA)]
    {
        module_params::disable_vga.get()
    }
    #[cfg(not(CONFIG_VFIO_PCI_VGA))]
    {
        false
    }
}

/// `PCI_VENDOR_ID_INTEL`.
const PCI_VENDOR_ID_INTEL: u16 = 0x8086;
/// `PCI_BASE_CLASS_DISPLAY`.
const PCI_BASE_CLASS_DISPLAY: u32 = 0x03;

/// `vfio_pci_is_denylisted`: whether probing `dev` is refused, with upstream's warnings.
fn is_denylisted(dev: &pci::Device<Core<'_>>) -> bool {
    let vendor = dev.vendor_id().as_raw();
    let device = dev.device_id();
    if !ids::in_denylist(vendor, device) {
        return false;
    }
    if module_params::disable_denylist.get() {
        dev_warn!(
            dev.as_ref(),
            "device denylist disabled - allowing device {:04x}:{:04x}.\n",
            vendor,
            device
        );
        return false;
    }
    dev_warn!(
        dev.as_ref(),
        "{:04x}:{:04x} exists in vfio-pci device denylist, driver probing disallowed.\n",
        vendor,
        device
    );
    true
}

/// `vfio_pci_is_intel_display` (`vfio_pci_igd.c`): an Intel display-class function.
fn is_intel_display(dev: &pci::Device) -> bool {
    dev.vendor_id().as_raw() == PCI_VENDOR_ID_INTEL
        && dev.pci_class().as_raw() >> 16 == PCI_BASE_CLASS_DISPLAY
}

/// `vfio_device_ops.init` (`vfio_pci_init_dev`): latches the module parameters into the
/// device, so later changes do not affect it, then the core's `vfio_pci_core_init_dev`.
pub(crate) fn init_dev(vdev: &mut ffi::CoreDeviceInit<'_>) -> Result {
    vdev.set_nointxmask(module_params::nointxmask.get());
    vdev.set_disable_idle_d3(module_params::disable_idle_d3.get());
    if cfg!(CONFIG_VFIO_PCI_VGA) {
        vdev.set_disable_vga(disable_vga());
    }
    vdev.core_init_dev()
}

/// `vfio_device_ops.open_device` (`vfio_pci_open_device`).
pub(crate) fn open_device(vdev: &CoreDevice) -> Result {
    vdev.enable()?;
    let pdev = vdev.pdev();
    if is_intel_display(pdev) {
        if let Err(e) = igd_kernel::init(vdev) {
            if e != ENODEV {
                dev_warn!(pdev.as_ref(), "Failed to setup Intel IGD regions\n");
                vdev.disable();
                return Err(e);
            }
        }
    }
    vdev.finish_enable();
    Ok(())
}

kernel_ext::pci_device_table!(VFIO_PCI_TABLE, [DeviceId::vfio_override(ANY_ID, ANY_ID)]);

/// The PCI driver (`vfio_pci_driver`).
struct VfioPciDriver;

#[vtable]
impl Driver for VfioPciDriver {
    const NAME: &'static CStr = c"vfio-pci";
    const ID_TABLE: kernel_ext::pci::IdTable = &VFIO_PCI_TABLE;
    const DRIVER_MANAGED_DMA: bool = true;
    type Data = ARef<CoreDevice>;

    /// `vfio_pci_probe`.
    fn probe<'a>(
        dev: &'a pci::Device<Core<'_>>,
        _id: &DeviceId,
        drvdata: DrvDataSlot<'a, Self::Data>,
    ) -> Result<Installed<'a, Self::Data>> {
        if is_denylisted(dev) {
            return Err(EINVAL);
        }
        // On failure from here on, the abstraction drops the installed reference: the
        // `vfio_put_device` of upstream's error path.
        let vdev = drvdata.set(CoreDevice::alloc(dev)?);
        vdev.borrow().register()?;
        Ok(vdev)
    }

    /// `vfio_pci_remove`; the abstraction then drops the reference (`vfio_put_device`).
    fn remove(_dev: &pci::Device<Core<'_>>, vdev: &CoreDevice) {
        vdev.unregister();
    }

    /// `vfio_pci_sriov_configure`.
    fn sriov_configure(_dev: &pci::Device<Bound>, vdev: &CoreDevice, num_vfs: i32) -> Result<i32> {
        if !enable_sriov() {
            return Err(ENOENT);
        }
        vdev.sriov_configure(num_vfs)
    }

    /// `vfio_pci_core_err_handlers.error_detected`: the core's own handler.
    fn error_detected(
        dev: &pci::Device<Bound>,
        _vdev: &CoreDevice,
        state: ChannelState,
    ) -> ErsResult {
        ffi::aer_err_detected(dev, state)
    }
}

/// `vfio_pci_fill_ids`: adds the `ids=` entries as dynamic ids, with upstream's messages.
fn fill_ids(driver: &Registration<VfioPciDriver>) {
    for entry in ids::entries(module_params::ids.value()) {
        let id = match entry {
            IdEntry::Valid(id) => id,
            IdEntry::Invalid(text) => {
                pr_warn!("invalid id string \"{}\"\n", BStr::from_bytes(text));
                continue;
            }
        };
        let dynid = DeviceId::new(id.vendor, id.device)
            .subsystem(id.subvendor, id.subdevice)
            .class(id.class, id.class_mask);
        match driver.add_dynid(&dynid) {
            Err(e) => pr_warn!(
                "failed to add dynamic id [{:04x}:{:04x}[{:04x}:{:04x}]] class {:#08x}/{:08x} ({})\n",
                id.vendor,
                id.device,
                id.subvendor,
                id.subdevice,
                id.class,
                id.class_mask,
                e.to_errno()
            ),
            Ok(()) => pr_info!(
                "add [{:04x}:{:04x}[{:04x}:{:04x}]] class {:#08x}/{:08x}\n",
                id.vendor,
                id.device,
                id.subvendor,
                id.subdevice,
                id.class,
                id.class_mask
            ),
        }
    }
}

/// The loaded module: the registered driver, unregistered on unload (`vfio_pci_cleanup`).
struct VfioPciModule {
    _driver: Pin<KBox<Registration<VfioPciDriver>>>,
}

impl kernel::Module for VfioPciModule {
    /// `vfio_pci_init`.
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let driver = KBox::pin_init(Registration::<VfioPciDriver>::new(), GFP_KERNEL)?;
        fill_ids(&driver);
        if module_params::disable_denylist.get() {
            pr_warn!("device denylist disabled.\n");
        }
        Ok(Self { _driver: driver })
    }
}
