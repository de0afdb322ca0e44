// SPDX-License-Identifier: GPL-2.0

//! VFIO device drivers written in Rust, registering through the VFIO core's C ABI
//! (`include/linux/vfio.h`), so they run on any core exporting upstream's symbols: ours or
//! upstream's C `vfio.ko`.
//!
//! A driver implements [`Driver`] (a `#[vtable]` trait: an op it does not implement stays NULL
//! in its `struct vfio_device_ops`, exactly as a C driver leaves it) and registers devices with
//! [`Registration`]. Its device is a [`Device<T>`]: `struct vfio_device` first, as C drivers
//! embed it, then the driver's data.
//!
//! How `struct vfio_device_ops` maps to the trait:
//! - `init`/`release`: the driver data's [`PinInit`] (run after the core's allocation, before
//!   registration) and its `Drop` (run by `release`; `release` stays NULL when the data needs no
//!   drop). `init` itself stays NULL.
//! - `bind_iommufd`, `unbind_iommufd`, `attach_ioas`, `detach_ioas`, `pasid_*`: the core's
//!   physical or emulated helpers, chosen by [`Driver::BINDING`] (every upstream 7.3 driver uses
//!   one of the two sets).
//! - `open_device`/`close_device` (with a [`SetHeld`] proof), `read`/`write`, `ioctl`, `mmap`,
//!   `get_region_info_caps`, `request`, `match`, `match_token_uuid`, `dma_unmap`,
//!   `device_feature`: one trait method each.
//! - `mig_ops`/`log_ops` and `migration_flags`: the `migration_*` and `log_*` methods and
//!   [`Driver::MIGRATION_FLAGS`]; each table is installed only if its first method is
//!   implemented.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

mod info_caps;
mod irqs;
mod ops;
mod registration;

pub use info_caps::RegionInfoCaps;
pub use irqs::{
    read_irq_set,
    validate_irq_set,
    Virqfd,
    VirqfdHandler, //
};
pub use registration::{
    DevSet,
    Registration,
    SetKey, //
};

use crate::{
    bindings,
    interval_tree::IntervalTreeCursor, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    device,
    fs::File,
    mm::virt::VmaNew,
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::Opaque,
    uaccess::{
        UserPtr,
        UserSliceReader,
        UserSliceWriter, //
    }, //
};

/// Which of the core's iommufd helpers a driver's devices bind with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// A device the IOMMU translates for (`vfio_iommufd_physical_*`); `pasid` also installs
    /// the PASID attach/detach ops. Registered with [`Registration::new_physical`].
    Physical {
        /// Whether the device supports PASID attachment.
        pasid: bool,
    },
    /// A device doing its DMA through the CPU (`vfio_iommufd_emulated_*`). Registered with
    /// [`Registration::new_emulated`].
    Emulated,
}

/// `enum vfio_device_mig_state` as the core passes it.
pub type MigState = bindings::vfio_device_mig_state;

/// Proof that the device set's mutex is held: given to [`Driver`] callbacks only.
///
/// # Invariants
///
/// `set` is the live set of the device whose `open_device`/`close_device` callback runs, and
/// the core holds its mutex, on this thread, for `'a` (the callback's duration). The raw
/// pointer keeps the proof on that thread (not `Send`).
pub struct SetHeld<'a> {
    set: *mut bindings::vfio_device_set,
    _lock: PhantomData<&'a ()>,
}

impl SetHeld<'_> {
    /// How many devices of the set are open (`vfio_device_set_open_count`).
    // Inline: calls a vfio.ko export (see kernel_ext.rs).
    #[inline]
    pub fn open_count(&self) -> u32 {
        // SAFETY: `set` is a live set whose mutex the current thread holds (type invariant), as
        // the export requires.
        unsafe { bindings::vfio_device_set_open_count(self.set) }
    }
}

/// A VFIO device driver: the ops of `struct vfio_device_ops`, `mig_ops` and `log_ops`.
///
/// Every method but the two open/close ones is optional; the core treats a missing one as C
/// drivers' NULL op (e.g. `ENOTTY` for ioctls, `EINVAL` for region info, no `request`).
#[vtable]
pub trait Driver: Sized + Send + Sync + 'static {
    /// `vfio_device_ops::name`.
    const NAME: &'static CStr;

    /// Which iommufd helpers the devices bind with.
    const BINDING: Binding;

    /// `vfio_device::migration_flags` (`VFIO_MIGRATION_*`), with the `migration_*` methods.
    const MIGRATION_FLAGS: u32 = 0;

    /// The device's first open (`open_device`), with the set's mutex held.
    fn open_device(dev: &Device<Self>, set: &SetHeld<'_>) -> Result;

    /// The device's last close (`close_device`), with the set's mutex held.
    fn close_device(dev: &Device<Self>, set: &SetHeld<'_>);

    /// `read` of the device fd at `*pos`; returns the bytes read.
    fn read(_dev: &Device<Self>, _buf: UserSliceWriter, _pos: &mut i64) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `write` of the device fd at `*pos`; returns the bytes written.
    fn write(_dev: &Device<Self>, _buf: UserSliceReader, _pos: &mut i64) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// A device ioctl the core does not handle itself (`ioctl`).
    fn ioctl(_dev: &Device<Self>, _cmd: u32, _arg: usize) -> Result<isize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` (`get_region_info_caps`): fill `info` (its `index` and
    /// `argsz` are the user's) and add capabilities to `caps`; the core copies both out.
    fn get_region_info_caps(
        _dev: &Device<Self>,
        _info: &mut bindings::vfio_region_info,
        _caps: &mut RegionInfoCaps<'_>,
    ) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `mmap` of the device fd.
    fn mmap(_dev: &Device<Self>, _vma: &VmaNew) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The core asks user space, for the `count`th time, to release the device so it can be
    /// unregistered (`request`).
    fn request(_dev: &Device<Self>, _count: u32) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Whether `name` (a `VFIO_GROUP_GET_DEVICE_FD` argument) names this device (`match`);
    /// without it the core compares `name` with the parent's device name.
    fn match_name(_dev: &Device<Self>, _name: &CStr) -> Result<bool> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Checks the VF token of a cdev bind (`match_token_uuid`; `None`: no token given).
    fn match_token_uuid(_dev: &Device<Self>, _uuid: Option<&[u8; 16]>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The IOVA range `[iova, iova + length)` is being unmapped: drop pins in it
    /// (`dma_unmap`; the core refuses [`Device::pin`] to drivers without it).
    fn dma_unmap(_dev: &Device<Self>, _iova: u64, _length: u64) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// A `VFIO_DEVICE_FEATURE` the core does not handle itself (`device_feature`); `arg` is
    /// the feature's data after the header, `argsz` the user's size of it.
    fn device_feature(_dev: &Device<Self>, _flags: u32, _arg: UserPtr, _argsz: usize) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `mig_ops->migration_set_state`: move to `new_state` (one arc of the FSM), returning the
    /// data-transfer file of the new state, if it has one.
    fn migration_set_state(
        _dev: &Device<Self>,
        _new_state: MigState,
    ) -> Result<Option<ARef<File>>> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `mig_ops->migration_get_state`.
    fn migration_get_state(_dev: &Device<Self>) -> Result<MigState> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `mig_ops->migration_get_data_size`: estimated bytes of the STOP_COPY stream.
    fn migration_get_data_size(_dev: &Device<Self>) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `log_ops->log_start`: start DMA logging of the `nnodes` ranges of `ranges` (which the
    /// driver may combine, removing nodes), at `*page_size` granularity (which it may round up).
    fn log_start(
        _dev: &Device<Self>,
        _ranges: &mut IntervalTreeCursor<'_>,
        _nnodes: u32,
        _page_size: &mut u64,
    ) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `log_ops->log_stop`.
    fn log_stop(_dev: &Device<Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `log_ops->log_read_and_clear`: report what was dirtied in `[iova, iova + length)`.
    fn log_read_and_clear(
        _dev: &Device<Self>,
        _iova: u64,
        _length: u64,
        _dirty: &DirtyBitmap<'_>,
    ) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// `vfio_check_feature` for a `device_feature` op: whether to do the GET or SET (`false`: a
/// PROBE, answer 0); `EINVAL` for a direction outside `supported` (`VFIO_DEVICE_FEATURE_GET`,
/// `_SET`), neither direction, or less than `minsz` bytes of data.
pub fn check_feature(flags: u32, argsz: usize, supported: u32, minsz: usize) -> Result<bool> {
    let action = super::feature_check::check_feature(flags, argsz, supported, minsz)?;
    Ok(action == super::feature_check::Action::Run)
}

/// The bitmap `log_read_and_clear` reports dirty IOVA ranges into (`struct iova_bitmap`).
pub struct DirtyBitmap<'a> {
    raw: *mut bindings::iova_bitmap,
    _call: PhantomData<&'a ()>,
}

impl DirtyBitmap<'_> {
    /// Marks `[iova, iova + length)` dirty (`iova_bitmap_set`).
    pub fn set(&self, iova: u64, length: usize) {
        let Ok(iova) = c_ulong::try_from(iova) else {
            return;
        };
        // SAFETY: `raw` is the bitmap of the running `log_read_and_clear` call (set by the
        // trampoline, which outlives `self`); iova_bitmap ignores bits outside its window.
        unsafe { bindings::iova_bitmap_set(self.raw, iova, length) };
    }
}

/// A driver's VFIO device: `struct vfio_device` followed by the driver's data.
///
/// # Invariants
///
/// Allocated by `_vfio_alloc_device` with this type's size (zeroed), so `data_live` starts
/// false; `data` is initialised iff `data_live`, from right after the allocation until the
/// core's `release` callback drops it.
#[repr(C)]
pub struct Device<T: Driver> {
    vdev: Opaque<bindings::vfio_device>,
    data_live: bool,
    data: T,
}

// SAFETY: The core shares a registered device between threads (ops may run concurrently), so
// its C part is thread-safe; the driver's data is `Send + Sync` (`Driver`'s bounds).
unsafe impl<T: Driver> Send for Device<T> {}
// SAFETY: As above.
unsafe impl<T: Driver> Sync for Device<T> {}

// SAFETY: The device's lifetime is the refcount of its embedded `struct device`
// (`vfio_put_device` is `put_device`): the core's `release`, then the free, run when it drops to
// zero, so a reference keeps the device and its data alive.
unsafe impl<T: Driver> AlwaysRefCounted for Device<T> {
    fn inc_ref(&self) {
        // SAFETY: The device is live (we have a reference to it).
        unsafe { bindings::get_device(&raw mut (*self.vdev()).device) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference (function contract), which this drops.
        unsafe { bindings::put_device(&raw mut (*obj.as_ref().vdev()).device) };
    }
}

/// The user's input of a `VFIO_MIG_GET_PRECOPY_INFO` ioctl, as [`Device::check_precopy_ioctl`]
/// validated it.
#[derive(Clone, Copy)]
pub struct PrecopyInfoArgs {
    /// `argsz`.
    pub argsz: u32,
    /// `flags`: the user's value, or 0 once the device opted in to the v2 behaviour
    /// (`VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2`), where flags are output only.
    pub flags: u32,
}

/// `offsetofend(struct vfio_precopy_info, dirty_bytes)`: all of it.
pub const PRECOPY_INFO_SIZE: usize = 24;
const _: () = assert!(PRECOPY_INFO_SIZE == size_of::<bindings::vfio_precopy_info>());

impl<T: Driver> Device<T> {
    /// `vfio_check_precopy_ioctl`: whether `cmd`/`arg` are a well-formed
    /// `VFIO_MIG_GET_PRECOPY_INFO` (`ENOTTY` for another ioctl, `EFAULT`, `EINVAL` for a short
    /// `argsz`), for a migration data file's `ioctl`.
    pub fn check_precopy_ioctl(&self, cmd: u32, arg: usize) -> Result<PrecopyInfoArgs> {
        if cmd != crate::uapi::VFIO_MIG_GET_PRECOPY_INFO {
            return Err(ENOTTY);
        }
        let mut r =
            kernel::uaccess::UserSlice::new(UserPtr::from_addr(arg), PRECOPY_INFO_SIZE).reader();
        let argsz: u32 = r.read()?;
        let flags: u32 = r.read()?;
        let _initial: u64 = r.read()?;
        let _dirty: u64 = r.read()?;
        if (argsz as usize) < PRECOPY_INFO_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: The device is live; the core writes this byte only from the device's feature
        // ioctl and its last close, a plain byte store read here as C reads it.
        let v2 = unsafe { core::ptr::read_volatile(&raw const (*self.vdev()).precopy_info_v2) };
        Ok(PrecopyInfoArgs {
            argsz,
            flags: if v2 != 0 { 0 } else { flags },
        })
    }

    /// `vfio_mig_get_next_state`: the next state to step to on the way from `cur` to `new`
    /// (`EINVAL` for an unsupported or unreachable state).
    pub fn mig_get_next_state(&self, cur: MigState, new: MigState) -> Result<MigState> {
        let mut next: MigState = 0;
        // SAFETY: The device is live; `next` is valid for writes.
        kernel::error::to_result(unsafe {
            bindings::vfio_mig_get_next_state(self.vdev(), cur, new, &mut next)
        })?;
        Ok(next)
    }

    /// The driver's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The driver's data, pinned (the device never moves).
    pub fn data_pinned(&self) -> Pin<&T> {
        // SAFETY: The core's allocation never moves while referenced.
        unsafe { Pin::new_unchecked(&self.data) }
    }

    /// The device the VFIO device was registered for (`vfio_device::dev`).
    pub fn parent(&self) -> &device::Device {
        // SAFETY: `dev` was set by the allocation to a device the core holds a reference on
        // while the VFIO device lives.
        unsafe { device::Device::from_raw((*self.vdev()).dev) }
    }

    /// # Safety
    ///
    /// `vdev` must be the `vfio_device` of a live `Device<T>` whose data is initialised.
    unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: `vdev` is the first field of a `#[repr(C)]` `Device<T>` (function contract).
        unsafe { &*vdev.cast::<Self>() }
    }

    fn vdev(&self) -> *mut bindings::vfio_device {
        self.vdev.get()
    }

    /// Copies between the IOVA space the device sees and `buf` through the CPU
    /// (`vfio_dma_rw`); the device must be open.
    pub fn dma_rw(&self, iova: u64, buf: &mut [u8], write: bool) -> Result {
        // SAFETY: The device is live; `buf` is valid for its length in both directions.
        kernel::error::to_result(unsafe {
            bindings::vfio_dma_rw(self.vdev(), iova, buf.as_mut_ptr().cast(), buf.len(), write)
        })
    }

    /// Pins `npage` pages from the page of `iova` (`vfio_pin_pages`), keeping only the pin:
    /// [`Device::unpin`] or the core's [`Driver::dma_unmap`] call must release it.
    pub fn pin(&self, iova: u64, npage: usize, write: bool) -> Result<usize> {
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
    pub fn unpin(&self, iova: u64, npage: usize) {
        let Ok(n) = c_int::try_from(npage) else {
            return;
        };
        // SAFETY: The device is live; the core checks the range was pinned.
        unsafe { bindings::vfio_unpin_pages(self.vdev(), iova, n) };
    }
}
