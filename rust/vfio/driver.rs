// SPDX-License-Identifier: GPL-2.0

//! VFIO device drivers written in Rust, registering through the VFIO core's C ABI
//! (`include/linux/vfio.h`), so they run on any core exporting upstream's symbols: ours or
//! upstream's C `vfio.ko`.
//!
//! A driver's device is a [`Device<T>`]: `struct vfio_device` first (as C drivers embed it),
//! then the driver's data. Only emulated-IOMMU devices (`vfio_register_emulated_iommu_dev`) are
//! offered so far; they bind to iommufd through the core's `vfio_iommufd_emulated_*` ops.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::kernel_ext::bindings;
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    device,
    prelude::*,
    types::Opaque, //
};

/// Proof that the device set's mutex is held: given to [`Driver`] callbacks only.
///
/// # Invariants
///
/// `set` is the live set of the device whose `open_device`/`close_device` callback runs, and
/// the core holds its mutex, on this thread, for `'a` (the callback's duration). The raw
/// pointer keeps the proof on that thread (not `Send`).
pub(crate) struct SetHeld<'a> {
    set: *mut bindings::vfio_device_set,
    _lock: PhantomData<&'a ()>,
}

impl SetHeld<'_> {
    /// How many devices of the set are open (`vfio_device_set_open_count`).
    pub(crate) fn open_count(&self) -> u32 {
        // SAFETY: `set` is a live set whose mutex the current thread holds (type invariant), as
        // the export requires.
        unsafe { bindings::vfio_device_set_open_count(self.set) }
    }
}

/// A VFIO device driver: what the core calls on a device's first open and last close.
pub(crate) trait Driver: Sized + Send + Sync + 'static {
    /// `vfio_device_ops::name`.
    const NAME: &'static CStr;

    /// The device's first open (`open_device`), with the set's mutex held.
    fn open_device(dev: &Device<Self>, set: &SetHeld<'_>) -> Result;

    /// The device's last close (`close_device`), with the set's mutex held.
    fn close_device(dev: &Device<Self>, set: &SetHeld<'_>);

    /// A device ioctl the core does not handle itself (`ioctl`).
    fn ioctl(_dev: &Device<Self>, _cmd: u32, _arg: usize) -> Result<isize> {
        Err(ENOTTY)
    }

    /// The IOVA range `[iova, iova + length)` is being unmapped: drop pins in it
    /// (`dma_unmap`; the core refuses [`Device::pin`] to drivers without it, so it is always
    /// installed).
    fn dma_unmap(_dev: &Device<Self>, _iova: u64, _length: u64) {}
}

/// A driver's VFIO device: `struct vfio_device` followed by the driver's data.
///
/// # Invariants
///
/// Allocated by `_vfio_alloc_device` with this type's size; `data` is initialised from right
/// after the allocation until the core's `release` callback drops it.
#[repr(C)]
pub(crate) struct Device<T: Driver> {
    vdev: Opaque<bindings::vfio_device>,
    data: T,
}

impl<T: Driver> Device<T> {
    /// The driver's data.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// # Safety
    ///
    /// `vdev` must be the `vfio_device` of a live `Device<T>`.
    unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: `vdev` is the first field of a `#[repr(C)]` `Device<T>` (function contract).
        unsafe { &*vdev.cast::<Self>() }
    }

    fn vdev(&self) -> *mut bindings::vfio_device {
        self.vdev.get()
    }

    /// Copies between the IOVA space the device sees and `buf` through the CPU
    /// (`vfio_dma_rw`); the device must be open.
    pub(crate) fn dma_rw(&self, iova: u64, buf: &mut [u8], write: bool) -> Result {
        // SAFETY: The device is live; `buf` is valid for its length in both directions.
        kernel::error::to_result(unsafe {
            bindings::vfio_dma_rw(self.vdev(), iova, buf.as_mut_ptr().cast(), buf.len(), write)
        })
    }

    /// Pins `npage` pages from the page of `iova` (`vfio_pin_pages`), keeping only the pin:
    /// [`Device::unpin`] or the core's [`Driver::dma_unmap`] call must release it.
    pub(crate) fn pin(&self, iova: u64, npage: usize, write: bool) -> Result<usize> {
        let mut pages = KVec::from_elem(core::ptr::null_mut(), npage, GFP_KERNEL)?;
        let prot = bindings::IOMMU_READ | if write { bindings::IOMMU_WRITE } else { 0 };
        let n = c_int::try_from(npage).map_err(|_| EINVAL)?;
        // SAFETY: The device is live; `pages` has room for `npage` pointers.
        let ret = unsafe {
            bindings::vfio_pin_pages(self.vdev(), iova, n, prot as c_int, pages.as_mut_ptr())
        };
        kernel::error::to_result(ret).map(|()| ret as usize)
    }

    /// Releases pins taken by [`Device::pin`] (`vfio_unpin_pages`).
    pub(crate) fn unpin(&self, iova: u64, npage: usize) {
        let Ok(n) = c_int::try_from(npage) else {
            return;
        };
        // SAFETY: The device is live; the core checks the range was pinned.
        unsafe { bindings::vfio_unpin_pages(self.vdev(), iova, n) };
    }
}

/// The ops table of driver `T` and its trampolines.
struct Ops<T: Driver>(PhantomData<T>);

impl<T: Driver> Ops<T> {
    const TABLE: bindings::vfio_device_ops = {
        // SAFETY: All-zero is a valid `vfio_device_ops`: null name and no callbacks.
        let mut ops: bindings::vfio_device_ops = unsafe { core::mem::zeroed() };
        #[expect(
            clippy::disallowed_methods,
            reason = "`as_char_ptr` is not `const`; the pointer is only handed to C as `char *`"
        )]
        let name = T::NAME.as_ptr();
        ops.name = name.cast_mut().cast();
        ops.release = Some(Self::release);
        ops.open_device = Some(Self::open_device);
        ops.close_device = Some(Self::close_device);
        ops.bind_iommufd = Some(bindings::vfio_iommufd_emulated_bind);
        ops.unbind_iommufd = Some(bindings::vfio_iommufd_emulated_unbind);
        ops.attach_ioas = Some(bindings::vfio_iommufd_emulated_attach_ioas);
        ops.detach_ioas = Some(bindings::vfio_iommufd_emulated_detach_ioas);
        ops.ioctl = Some(Self::ioctl);
        ops.dma_unmap = Some(Self::dma_unmap);
        ops
    };

    /// # Safety
    ///
    /// Called by the core on an open `Device<T>`.
    unsafe extern "C" fn ioctl(
        vdev: *mut bindings::vfio_device,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        // SAFETY: Per the function contract.
        let dev = unsafe { Device::<T>::from_vdev(vdev) };
        match T::ioctl(dev, cmd, arg) {
            Ok(v) => v as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// Called by the core (from the IOMMU driver) on an open `Device<T>`.
    unsafe extern "C" fn dma_unmap(vdev: *mut bindings::vfio_device, iova: u64, length: u64) {
        // SAFETY: Per the function contract.
        let dev = unsafe { Device::<T>::from_vdev(vdev) };
        T::dma_unmap(dev, iova, length);
    }

    /// # Safety
    ///
    /// Called by the core on a registered `Device<T>` with its set's mutex held.
    unsafe extern "C" fn open_device(vdev: *mut bindings::vfio_device) -> c_int {
        // SAFETY: Per the function contract.
        let (dev, held) = unsafe { Self::held(vdev) };
        match T::open_device(dev, &held) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// As [`Ops::open_device`].
    unsafe extern "C" fn close_device(vdev: *mut bindings::vfio_device) {
        // SAFETY: Per the function contract.
        let (dev, held) = unsafe { Self::held(vdev) };
        T::close_device(dev, &held);
    }

    /// # Safety
    ///
    /// As [`Ops::open_device`].
    unsafe fn held<'a>(vdev: *mut bindings::vfio_device) -> (&'a Device<T>, SetHeld<'a>) {
        // SAFETY: `vdev` belongs to a live `Device<T>` (function contract).
        let dev = unsafe { Device::<T>::from_vdev(vdev) };
        // INVARIANT: The core calls `open_device`/`close_device` with the device's set mutex
        // held for the call (function contract), and `'a` is chosen by the trampolines, which
        // drop the proof before they return.
        let held = SetHeld {
            // SAFETY: `vdev` is live (function contract); registered, so its set is assigned.
            set: unsafe { (*vdev).dev_set },
            _lock: PhantomData,
        };
        (dev, held)
    }

    /// # Safety
    ///
    /// Called once by the core when the last reference on the device drops.
    unsafe extern "C" fn release(vdev: *mut bindings::vfio_device) {
        let dev = vdev.cast::<Device<T>>();
        // SAFETY: `data` was initialised after allocation and is dropped only here (type
        // invariant); the core frees the memory after this returns.
        unsafe { core::ptr::drop_in_place(&raw mut (*dev).data) };
    }
}

/// Identity of a device set: devices registered with the same key share one set.
pub(crate) struct SetKey(#[expect(dead_code, reason = "only its address matters")] u8);

impl SetKey {
    /// A key; give it a `static` home so its address stays unique.
    pub(crate) const fn new() -> Self {
        Self(0)
    }
}

/// A registered emulated-IOMMU device, unregistered (waiting for its users) on drop.
///
/// # Invariants
///
/// `dev` is registered with the core, and this object owns one reference on it.
pub(crate) struct Registration<T: Driver> {
    dev: NonNull<Device<T>>,
}

// SAFETY: The device is shared with the core, which calls it from any thread; `T: Send + Sync`.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Driver> Sync for Registration<T> {}

/// The raw `struct device` of a device.
fn raw_device<Ctx: device::DeviceContext>(dev: &device::Device<Ctx>) -> *mut bindings::device {
    // `device::Device` is a transparent wrapper of `struct device`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

impl<T: Driver> Registration<T> {
    /// Allocates a device under `parent` (which must have no IOMMU group: the core gives it
    /// one), puts it in the set of `key` and registers it (`/dev/vfio/N`, `vfioN` cdev).
    pub(crate) fn new_emulated(
        parent: &device::Device<device::Bound>,
        data: T,
        key: &'static SetKey,
    ) -> Result<Self> {
        let ops: &'static bindings::vfio_device_ops = &Ops::<T>::TABLE;
        // SAFETY: `parent` is a bound device; the size covers `Device<T>`, whose first field is
        // the `vfio_device`; `ops` is static.
        let vdev = unsafe {
            bindings::_vfio_alloc_device(size_of::<Device<T>>(), raw_device(parent), ops)
        };
        let vdev = kernel::error::from_err_ptr(vdev)?;
        let dev = vdev.cast::<Device<T>>();
        // SAFETY: The allocation is `Device<T>`-sized and `data` not yet initialised.
        unsafe { (&raw mut (*dev).data).write(data) };
        // SAFETY: The device is allocated and not registered; the key is static.
        let ret = kernel::error::to_result(unsafe {
            bindings::vfio_assign_device_set(vdev, core::ptr::from_ref(key).cast_mut().cast())
        })
        .and_then(|()| {
            // SAFETY: The device is allocated, in a set, not registered.
            kernel::error::to_result(unsafe { bindings::vfio_register_emulated_iommu_dev(vdev) })
        });
        if let Err(e) = ret {
            // SAFETY: Our allocation reference; its release drops `data`.
            unsafe { bindings::put_device(&raw mut (*vdev).device) };
            return Err(e);
        }
        // INVARIANT: Registered, `data` initialised, and we own the allocation's reference.
        Ok(Self {
            // SAFETY: `from_err_ptr` returned a non-null pointer.
            dev: unsafe { NonNull::new_unchecked(dev) },
        })
    }

    /// The device.
    pub(crate) fn device(&self) -> &Device<T> {
        // SAFETY: The device is live while registered (type invariant).
        unsafe { self.dev.as_ref() }
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        let vdev = self.device().vdev();
        // SAFETY: Registered (type invariant); this waits for every user to close it.
        unsafe { bindings::vfio_unregister_group_dev(vdev) };
        // SAFETY: We own one reference (type invariant); `self` is not used after.
        unsafe { bindings::put_device(&raw mut (*vdev).device) };
    }
}
