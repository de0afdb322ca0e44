// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio-pci.ko`: its one FFI place.
//!
//! The VFIO PCI core's device (`struct vfio_pci_core_device`) as this driver holds it
//! ([`CoreDevice`], reference-counted by its embedded `struct device`), the calls into the
//! core's exports, and the two tables handed to C: the `vfio_device_ops` of every device
//! (upstream's `vfio_pci_ops`) and its `vfio_pci_device_ops` (`vfio_pci_dev_ops`). The
//! `init` and `open_device` callbacks turn their raw arguments into these views and call the
//! safe code in the crate root. Device-specific regions (IGD's) and their ops table are in
//! [`regions`].

mod regions;

pub(crate) use regions::DevRegion;

use crate::kernel_ext::{
    bindings,
    pci::{
        ChannelState,
        ErsResult, //
    },
};
use core::ptr::NonNull;
use kernel::{
    device::{
        Bound,
        Core, //
    },
    error::{
        from_err_ptr,
        to_result, //
    },
    pci,
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::Opaque,
};

/// A `struct vfio_pci_core_device` of this driver.
///
/// # Invariants
///
/// Allocated by [`CoreDevice::alloc`] with [`VFIO_PCI_OPS`] and initialised by the core
/// (`vfio_pci_core_init_dev` through `init`), so `pdev` is set and its fields are the core's to
/// use; alive while a reference on its `vdev.device` is held.
#[repr(transparent)]
pub(crate) struct CoreDevice(Opaque<bindings::vfio_pci_core_device>);

// SAFETY: The core device is used from any thread; the core serialises its own state (its
// locks), and this driver only calls the core's exports on it.
unsafe impl Send for CoreDevice {}
// SAFETY: As for `Send`: every access goes through the core's exports, safe from any thread.
unsafe impl Sync for CoreDevice {}

// SAFETY: The device's refcount is its embedded `struct device`'s (`vfio_put_device` is
// `put_device(&vdev->device)`); the last put frees it through the core's release.
unsafe impl AlwaysRefCounted for CoreDevice {
    fn inc_ref(&self) {
        // SAFETY: The device is alive (a reference is held), so is its `struct device`.
        unsafe { bindings::get_device(&raw mut (*self.0.get()).vdev.device) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference (function contract): `vfio_put_device`.
        unsafe { bindings::put_device(&raw mut (*obj.as_ref().0.get()).vdev.device) };
    }
}

/// `e` as a C return value.
fn to_int(r: Result) -> c_int {
    r.map_or_else(|e| e.to_errno(), |()| 0)
}

/// The raw `struct pci_dev` of `dev`.
fn raw_pci<Ctx: kernel::device::DeviceContext>(dev: &pci::Device<Ctx>) -> *mut bindings::pci_dev {
    // CAST: `pci::Device<Ctx>` is a transparent wrapper of `Opaque<struct pci_dev>`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

// `from_vdev` is `container_of(core_vdev, struct vfio_pci_core_device, vdev)` as a cast.
const _: () = assert!(core::mem::offset_of!(bindings::vfio_pci_core_device, vdev) == 0);

impl CoreDevice {
    fn raw(&self) -> *mut bindings::vfio_pci_core_device {
        self.0.get()
    }

    /// The device viewed from a `vfio_device_ops` callback.
    ///
    /// # Safety
    ///
    /// `vdev` must be the `vdev` of a [`CoreDevice`] (a device of [`VFIO_PCI_OPS`]), alive for
    /// `'a`.
    unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: `vdev` is the first member of `struct vfio_pci_core_device`
        // (`container_of(core_vdev, struct vfio_pci_core_device, vdev)`), alive for `'a`.
        unsafe { &*vdev.cast::<Self>() }
    }

    /// `vfio_alloc_device(vfio_pci_core_device, vdev, &pdev->dev, &vfio_pci_ops)`: allocates
    /// the device, calls [`VFIO_PCI_OPS`]' `init`, and returns the first reference.
    pub(crate) fn alloc(dev: &pci::Device<Core<'_>>) -> Result<ARef<Self>> {
        // SAFETY: The PCI device is valid (probed), and so is its embedded `struct device`,
        // the parent; the ops table is static.
        let vdev = from_err_ptr(unsafe {
            bindings::_vfio_alloc_device(
                size_of::<bindings::vfio_pci_core_device>(),
                &raw mut (*raw_pci(dev)).dev,
                &VFIO_PCI_OPS.0,
            )
        })?;
        // SAFETY: `_vfio_alloc_device` succeeded: `vdev` heads a `vfio_pci_core_device` of
        // `VFIO_PCI_OPS`, initialised, with one reference, which the `ARef` takes over.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(vdev.cast::<Self>())) })
    }

    /// The PCI device (`vdev->pdev`).
    pub(crate) fn pdev(&self) -> &pci::Device {
        // SAFETY: `pdev` was set by `vfio_pci_core_init_dev` (type invariant) and the PCI
        // device outlives the VFIO device (the core holds it while registered, and the device
        // is only used while bound).
        unsafe { &*(*self.raw()).pdev.cast::<pci::Device>() }
    }

    /// The PCI device as bound to this driver: a registered VFIO device's callbacks run only
    /// while it is (`remove` unregisters it first and waits for its users).
    pub(crate) fn pdev_bound(&self) -> &pci::Device<Bound> {
        // SAFETY: As above; the driver's `remove` unregisters the VFIO device, which waits for
        // every open to close, before the device is unbound.
        unsafe { crate::kernel_ext::pci::as_bound(self.pdev()) }
    }

    /// `vfio_pci_core_register_device`, after setting `pci_ops` (`vfio_pci_dev_ops`); drvdata
    /// must be this device (the core checks it).
    pub(crate) fn register(&self) -> Result {
        // SAFETY: The device is not registered yet, so nothing else reads `pci_ops`; the
        // table is static.
        unsafe { (*self.raw()).pci_ops = &VFIO_PCI_DEV_OPS.0 };
        // SAFETY: An initialised core device (type invariant) whose PCI device's drvdata is it.
        to_result(unsafe { bindings::vfio_pci_core_register_device(self.raw()) })
    }

    /// `vfio_pci_core_unregister_device`.
    pub(crate) fn unregister(&self) {
        // SAFETY: Called from `remove`, so the device was registered by `probe`.
        unsafe { bindings::vfio_pci_core_unregister_device(self.raw()) };
    }

    /// `vfio_pci_core_sriov_configure` (the PCI device's lock is held: the callback's).
    pub(crate) fn sriov_configure(&self, num_vfs: i32) -> Result<i32> {
        // SAFETY: A registered core device; called under the device lock from the PCI core.
        let ret = unsafe { bindings::vfio_pci_core_sriov_configure(self.raw(), num_vfs) };
        to_result(ret.min(0)).map(|()| ret)
    }

    /// `vfio_pci_core_enable`.
    pub(crate) fn enable(&self) -> Result {
        // SAFETY: Called from `open_device`, under the device set's lock, as the core expects.
        to_result(unsafe { bindings::vfio_pci_core_enable(self.raw()) })
    }

    /// `vfio_pci_core_disable`: undoes [`Self::enable`] when the open fails after it.
    pub(crate) fn disable(&self) {
        // SAFETY: Called from `open_device` after a successful `enable`.
        unsafe { bindings::vfio_pci_core_disable(self.raw()) };
    }

    /// `vfio_pci_core_finish_enable`.
    pub(crate) fn finish_enable(&self) {
        // SAFETY: Called from `open_device` after a successful `enable`.
        unsafe { bindings::vfio_pci_core_finish_enable(self.raw()) };
    }
}

/// The device during `init`, before anything else can see it: its flags may be written.
pub(crate) struct CoreDeviceInit<'a>(&'a mut bindings::vfio_pci_core_device);

impl CoreDeviceInit<'_> {
    /// `vdev->nointxmask`.
    pub(crate) fn set_nointxmask(&mut self, val: bool) {
        self.0.set_nointxmask(val);
    }

    /// `vdev->disable_idle_d3`.
    pub(crate) fn set_disable_idle_d3(&mut self, val: bool) {
        self.0.set_disable_idle_d3(val);
    }

    /// `vdev->disable_vga`.
    pub(crate) fn set_disable_vga(&mut self, val: bool) {
        self.0.set_disable_vga(val);
    }

    /// `vfio_pci_core_init_dev`.
    pub(crate) fn core_init_dev(&mut self) -> Result {
        // SAFETY: Called from `init`, on the device being initialised.
        to_result(unsafe { bindings::vfio_pci_core_init_dev(&raw mut self.0.vdev) })
    }
}

/// `vfio_pci_core_aer_err_detected` on a device bound to this driver (drvdata: its core
/// device, which the core's handler reads).
pub(crate) fn aer_err_detected(dev: &pci::Device<Bound>, state: ChannelState) -> ErsResult {
    // SAFETY: The device is bound to this driver with its core device as drvdata (the
    // abstraction calls `error_detected` only then).
    let res = unsafe { bindings::vfio_pci_core_aer_err_detected(raw_pci(dev), state.as_raw()) };
    ErsResult::from_raw(res)
}

/// `vfio_device_ops.init` (`vfio_pci_init_dev`).
///
/// # Safety
///
/// Called by `_vfio_alloc_device` on a device of [`VFIO_PCI_OPS`] being allocated, which
/// nothing else sees yet.
unsafe extern "C" fn vfio_pci_init_dev(core_vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: `core_vdev` heads a zeroed `vfio_pci_core_device` of `size_of` bytes, allocated
    // by `_vfio_alloc_device` for this call's exclusive use.
    let vdev = unsafe { &mut *core_vdev.cast::<bindings::vfio_pci_core_device>() };
    to_int(crate::init_dev(&mut CoreDeviceInit(vdev)))
}

/// `vfio_device_ops.open_device` (`vfio_pci_open_device`).
///
/// # Safety
///
/// Called by the VFIO core on a registered device of [`VFIO_PCI_OPS`].
unsafe extern "C" fn vfio_pci_open_device(core_vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: A device of `VFIO_PCI_OPS` (the contract), alive for the call.
    to_int(crate::open_device(unsafe {
        CoreDevice::from_vdev(core_vdev)
    }))
}

/// `vfio_pci_device_ops.get_dmabuf_phys`: as `vfio_pci_core_get_dmabuf_phys` without
/// `CONFIG_VFIO_PCI_DMABUF` (the core's header inline), `-EOPNOTSUPP`.
///
/// # Safety
///
/// None: the arguments are not used.
#[cfg(not(CONFIG_VFIO_PCI_DMABUF))]
unsafe extern "C" fn vfio_pci_get_dmabuf_phys(
    _vdev: *mut bindings::vfio_pci_core_device,
    _provider: *mut *mut bindings::p2pdma_provider,
    _region_index: c_uint,
    _phys_vec: *mut bindings::phys_vec,
    _dma_ranges: *mut bindings::vfio_region_dma_range,
    _nr_ranges: usize,
) -> c_int {
    EOPNOTSUPP.to_errno()
}

/// A C ops table in a `static`.
#[repr(transparent)]
struct Table<T>(T);

// SAFETY: The tables are immutable; they hold function pointers and a static string.
unsafe impl<T> Sync for Table<T> {}

/// Upstream's `vfio_pci_ops`.
static VFIO_PCI_OPS: Table<bindings::vfio_device_ops> = Table({
    // SAFETY: All-zero is a valid `vfio_device_ops`: null name and no callbacks.
    let mut ops: bindings::vfio_device_ops = unsafe { core::mem::zeroed() };
    #[expect(clippy::disallowed_methods, reason = "`as_char_ptr` is not a const fn")]
    {
        ops.name = c"vfio-pci".as_ptr().cast_mut().cast();
    }
    ops.init = Some(vfio_pci_init_dev);
    ops.release = Some(bindings::vfio_pci_core_release_dev);
    ops.open_device = Some(vfio_pci_open_device);
    ops.close_device = Some(bindings::vfio_pci_core_close_device);
    ops.ioctl = Some(bindings::vfio_pci_core_ioctl);
    ops.get_region_info_caps = Some(bindings::vfio_pci_ioctl_get_region_info);
    ops.device_feature = Some(bindings::vfio_pci_core_ioctl_feature);
    ops.read = Some(bindings::vfio_pci_core_read);
    ops.write = Some(bindings::vfio_pci_core_write);
    ops.mmap = Some(bindings::vfio_pci_core_mmap);
    ops.request = Some(bindings::vfio_pci_core_request);
    ops.match_ = Some(bindings::vfio_pci_core_match);
    ops.match_token_uuid = Some(bindings::vfio_pci_core_match_token_uuid);
    ops.bind_iommufd = Some(bindings::vfio_iommufd_physical_bind);
    ops.unbind_iommufd = Some(bindings::vfio_iommufd_physical_unbind);
    ops.attach_ioas = Some(bindings::vfio_iommufd_physical_attach_ioas);
    ops.detach_ioas = Some(bindings::vfio_iommufd_physical_detach_ioas);
    ops.pasid_attach_ioas = Some(bindings::vfio_iommufd_physical_pasid_attach_ioas);
    ops.pasid_detach_ioas = Some(bindings::vfio_iommufd_physical_pasid_detach_ioas);
    ops
});

/// Upstream's `vfio_pci_dev_ops`.
#[cfg(not(CONFIG_VFIO_PCI_DMABUF))]
static VFIO_PCI_DEV_OPS: Table<bindings::vfio_pci_device_ops> =
    Table(bindings::vfio_pci_device_ops {
        get_dmabuf_phys: Some(vfio_pci_get_dmabuf_phys),
    });

/// Upstream's `vfio_pci_dev_ops`, with the core's DMA-buf support.
#[cfg(CONFIG_VFIO_PCI_DMABUF)]
static VFIO_PCI_DEV_OPS: Table<bindings::vfio_pci_device_ops> =
    Table(bindings::vfio_pci_device_ops {
        get_dmabuf_phys: Some(bindings::vfio_pci_core_get_dmabuf_phys),
    });
