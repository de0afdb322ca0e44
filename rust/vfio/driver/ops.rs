// SPDX-License-Identifier: GPL-2.0

//! The C ops tables of a [`Driver`] (`vfio_device_ops`, `vfio_migration_ops`,
//! `vfio_log_ops`) and the trampolines they point to.

use super::{
    Binding,
    Device,
    DirtyBitmap,
    Driver,
    RegionInfoCaps,
    SetHeld, //
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
    mm::virt::VmaNew,
    prelude::*,
    sync::aref::ARef,
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

/// An errno or a count as a C `ssize_t`/`long`.
fn to_long(r: Result<isize>) -> c_long {
    match r {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// 0 or an errno as a C `int`.
fn to_int(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The ops tables of driver `T` and their trampolines.
///
/// Every trampoline's contract: the core calls it on a registered `Device<T>` (`vdev`), as
/// `include/linux/vfio.h` documents for that op.
pub(super) struct Ops<T: Driver>(PhantomData<T>);

impl<T: Driver> Ops<T> {
    /// `struct vfio_device_ops`: NULL where `T` does not implement the op.
    pub(super) const DEVICE: bindings::vfio_device_ops = {
        // SAFETY: All-zero is a valid `vfio_device_ops`: null name and no callbacks.
        let mut ops: bindings::vfio_device_ops = unsafe { core::mem::zeroed() };
        #[expect(
            clippy::disallowed_methods,
            reason = "`as_char_ptr` is not `const`; the pointer is only handed to C as `char *`"
        )]
        let name = T::NAME.as_ptr();
        ops.name = name.cast_mut().cast();
        if core::mem::needs_drop::<T>() {
            ops.release = Some(Self::release);
        }
        match T::BINDING {
            Binding::Physical { pasid } => {
                ops.bind_iommufd = Some(bindings::vfio_iommufd_physical_bind);
                ops.unbind_iommufd = Some(bindings::vfio_iommufd_physical_unbind);
                ops.attach_ioas = Some(bindings::vfio_iommufd_physical_attach_ioas);
                ops.detach_ioas = Some(bindings::vfio_iommufd_physical_detach_ioas);
                if pasid {
                    ops.pasid_attach_ioas = Some(bindings::vfio_iommufd_physical_pasid_attach_ioas);
                    ops.pasid_detach_ioas = Some(bindings::vfio_iommufd_physical_pasid_detach_ioas);
                }
            }
            Binding::Emulated => {
                ops.bind_iommufd = Some(bindings::vfio_iommufd_emulated_bind);
                ops.unbind_iommufd = Some(bindings::vfio_iommufd_emulated_unbind);
                ops.attach_ioas = Some(bindings::vfio_iommufd_emulated_attach_ioas);
                ops.detach_ioas = Some(bindings::vfio_iommufd_emulated_detach_ioas);
            }
        }
        ops.open_device = Some(Self::open_device);
        ops.close_device = Some(Self::close_device);
        if T::HAS_READ {
            ops.read = Some(Self::read);
        }
        if T::HAS_WRITE {
            ops.write = Some(Self::write);
        }
        if T::HAS_IOCTL {
            ops.ioctl = Some(Self::ioctl);
        }
        if T::HAS_GET_REGION_INFO_CAPS {
            ops.get_region_info_caps = Some(Self::get_region_info_caps);
        }
        if T::HAS_MMAP {
            ops.mmap = Some(Self::mmap);
        }
        if T::HAS_REQUEST {
            ops.request = Some(Self::request);
        }
        if T::HAS_MATCH_NAME {
            ops.match_ = Some(Self::match_name);
        }
        if T::HAS_MATCH_TOKEN_UUID {
            ops.match_token_uuid = Some(Self::match_token_uuid);
        }
        if T::HAS_DMA_UNMAP {
            ops.dma_unmap = Some(Self::dma_unmap);
        }
        if T::HAS_DEVICE_FEATURE {
            ops.device_feature = Some(Self::device_feature);
        }
        ops
    };

    /// `struct vfio_migration_ops`, installed when `T` implements `migration_set_state`.
    pub(super) const MIGRATION: Option<bindings::vfio_migration_ops> = if T::HAS_MIGRATION_SET_STATE
    {
        Some(bindings::vfio_migration_ops {
            migration_set_state: Some(Self::migration_set_state),
            migration_get_state: if T::HAS_MIGRATION_GET_STATE {
                Some(Self::migration_get_state)
            } else {
                None
            },
            migration_get_data_size: if T::HAS_MIGRATION_GET_DATA_SIZE {
                Some(Self::migration_get_data_size)
            } else {
                None
            },
        })
    } else {
        None
    };

    /// `struct vfio_log_ops`, installed when `T` implements `log_start`.
    pub(super) const LOG: Option<bindings::vfio_log_ops> = if T::HAS_LOG_START {
        Some(bindings::vfio_log_ops {
            log_start: Some(Self::log_start),
            log_stop: if T::HAS_LOG_STOP {
                Some(Self::log_stop)
            } else {
                None
            },
            log_read_and_clear: if T::HAS_LOG_READ_AND_CLEAR {
                Some(Self::log_read_and_clear)
            } else {
                None
            },
        })
    } else {
        None
    };

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe fn dev<'a>(vdev: *mut bindings::vfio_device) -> &'a Device<T> {
        // SAFETY: A registered device's data is initialised (function contract).
        unsafe { Device::<T>::from_vdev(vdev) }
    }

    /// # Safety
    ///
    /// See [`Ops`]; `open_device`/`close_device` run with the set's mutex held.
    unsafe fn held<'a>(vdev: *mut bindings::vfio_device) -> (&'a Device<T>, SetHeld<'a>) {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        // INVARIANT: The core calls `open_device`/`close_device` with the device's set mutex
        // held for the call, and `'a` is chosen by the trampolines, which drop the proof before
        // they return.
        let held = SetHeld {
            // SAFETY: `vdev` is live; registered, so its set is assigned.
            set: unsafe { (*vdev).dev_set },
            _lock: PhantomData,
        };
        (dev, held)
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn open_device(vdev: *mut bindings::vfio_device) -> c_int {
        // SAFETY: Per the function contract.
        let (dev, held) = unsafe { Self::held(vdev) };
        to_int(T::open_device(dev, &held))
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn close_device(vdev: *mut bindings::vfio_device) {
        // SAFETY: Per the function contract.
        let (dev, held) = unsafe { Self::held(vdev) };
        T::close_device(dev, &held);
    }

    /// # Safety
    ///
    /// See [`Ops`]; `ppos` is valid for reads and writes.
    unsafe extern "C" fn read(
        vdev: *mut bindings::vfio_device,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        let user = UserSlice::new(UserPtr::from_ptr(buf.cast()), count).writer();
        // SAFETY: `ppos` is valid for the call (function contract).
        let pos = unsafe { &mut *ppos };
        to_long(T::read(dev, user, pos).map(|n| n as isize)) as isize
    }

    /// # Safety
    ///
    /// See [`Ops`]; `ppos` is valid for reads and writes.
    unsafe extern "C" fn write(
        vdev: *mut bindings::vfio_device,
        buf: *const c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        let user = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), count).reader();
        // SAFETY: `ppos` is valid for the call (function contract).
        let pos = unsafe { &mut *ppos };
        to_long(T::write(dev, user, pos).map(|n| n as isize)) as isize
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn ioctl(
        vdev: *mut bindings::vfio_device,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        to_long(T::ioctl(dev, cmd, arg))
    }

    /// # Safety
    ///
    /// See [`Ops`]; `info` and `caps` are the core's, valid for the call.
    unsafe extern "C" fn get_region_info_caps(
        vdev: *mut bindings::vfio_device,
        info: *mut bindings::vfio_region_info,
        caps: *mut bindings::vfio_info_cap,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        // SAFETY: `caps` is the core's empty (or kmalloc'd) chain, valid for the call.
        let Some(mut caps) = (unsafe { RegionInfoCaps::from_raw(caps) }) else {
            return EINVAL.to_errno();
        };
        // SAFETY: `info` is valid for the call (function contract).
        let info = unsafe { &mut *info };
        to_int(T::get_region_info_caps(dev, info, &mut caps))
    }

    /// # Safety
    ///
    /// See [`Ops`]; `vma` is being set up by the device fd's `mmap`.
    unsafe extern "C" fn mmap(
        vdev: *mut bindings::vfio_device,
        vma: *mut bindings::vm_area_struct,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        // SAFETY: The core calls this from `f_op->mmap` (function contract).
        let vma = unsafe { VmaNew::from_raw(vma) };
        to_int(T::mmap(dev, vma))
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn request(vdev: *mut bindings::vfio_device, count: c_uint) {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        T::request(dev, count);
    }

    /// # Safety
    ///
    /// See [`Ops`]; `buf` is a NUL-terminated string valid for the call.
    unsafe extern "C" fn match_name(vdev: *mut bindings::vfio_device, buf: *mut c_char) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        // SAFETY: `buf` is NUL-terminated and valid for the call (function contract).
        let name = unsafe { CStr::from_char_ptr(buf) };
        match T::match_name(dev, name) {
            Ok(m) => c_int::from(m),
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// See [`Ops`]; `uuid` is null or valid for the call.
    unsafe extern "C" fn match_token_uuid(
        vdev: *mut bindings::vfio_device,
        uuid: *const bindings::uuid_t,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        // SAFETY: `uuid` is null or valid for the call (function contract).
        let uuid = unsafe { uuid.as_ref() }.map(|u| &u.b);
        to_int(T::match_token_uuid(dev, uuid))
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn dma_unmap(vdev: *mut bindings::vfio_device, iova: u64, length: u64) {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        T::dma_unmap(dev, iova, length);
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn device_feature(
        vdev: *mut bindings::vfio_device,
        flags: u32,
        arg: *mut c_void,
        argsz: usize,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        to_int(T::device_feature(dev, flags, UserPtr::from_ptr(arg), argsz))
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn migration_set_state(
        vdev: *mut bindings::vfio_device,
        new_state: bindings::vfio_device_mig_state,
    ) -> *mut bindings::file {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        match T::migration_set_state(dev, new_state) {
            // The reference goes to the core, which `fput`s it (or installs it in an fd).
            Ok(Some(file)) => ARef::into_raw(file).as_ptr().cast(),
            Ok(None) => core::ptr::null_mut(),
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// See [`Ops`]; `state` is valid for writes.
    unsafe extern "C" fn migration_get_state(
        vdev: *mut bindings::vfio_device,
        state: *mut bindings::vfio_device_mig_state,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        to_int(T::migration_get_state(dev).map(|s| {
            // SAFETY: `state` is valid for writes (function contract).
            unsafe { state.write(s) }
        }))
    }

    /// # Safety
    ///
    /// See [`Ops`]; `len` is valid for writes.
    unsafe extern "C" fn migration_get_data_size(
        vdev: *mut bindings::vfio_device,
        len: *mut c_ulong,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        to_int(T::migration_get_data_size(dev).map(|n| {
            // SAFETY: `len` is valid for writes (function contract).
            unsafe { len.write(n as c_ulong) }
        }))
    }

    /// # Safety
    ///
    /// See [`Ops`]; `ranges` is the core's tree of `interval_tree_node`s, which only this call
    /// uses while it runs, and `page_size` is valid for reads and writes.
    unsafe extern "C" fn log_start(
        vdev: *mut bindings::vfio_device,
        ranges: *mut bindings::rb_root_cached,
        nnodes: u32,
        page_size: *mut u64,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        let Some(root) = NonNull::new(ranges) else {
            return EINVAL.to_errno();
        };
        // SAFETY: The core's tree is this call's alone and its nodes outlive it (function
        // contract).
        let mut cursor = unsafe { IntervalTreeCursor::new(root) };
        // SAFETY: Valid for the call (function contract).
        let page_size = unsafe { &mut *page_size };
        to_int(T::log_start(dev, &mut cursor, nnodes, page_size))
    }

    /// # Safety
    ///
    /// See [`Ops`].
    unsafe extern "C" fn log_stop(vdev: *mut bindings::vfio_device) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        to_int(T::log_stop(dev))
    }

    /// # Safety
    ///
    /// See [`Ops`]; `dirty` is the core's bitmap, valid for the call.
    unsafe extern "C" fn log_read_and_clear(
        vdev: *mut bindings::vfio_device,
        iova: c_ulong,
        length: c_ulong,
        dirty: *mut bindings::iova_bitmap,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::dev(vdev) };
        let dirty = DirtyBitmap {
            raw: dirty,
            _call: PhantomData,
        };
        to_int(T::log_read_and_clear(
            dev,
            iova as u64,
            length as u64,
            &dirty,
        ))
    }

    /// # Safety
    ///
    /// Called once by the core when the last reference on the device drops.
    unsafe extern "C" fn release(vdev: *mut bindings::vfio_device) {
        let dev = vdev.cast::<Device<T>>();
        // SAFETY: The allocation is a `Device<T>` (function contract); `data` is initialised iff
        // `data_live` (type invariant), and dropped only here; the core frees the memory after
        // this returns.
        unsafe {
            if (*dev).data_live {
                core::ptr::drop_in_place(&raw mut (*dev).data);
            }
        }
    }
}
