// SPDX-License-Identifier: GPL-2.0

//! The migration side of `struct vfio_device`: the fields drivers set before registering and
//! never change afterwards (`migration_flags`, `mig_ops`, `log_ops`), the callbacks behind the
//! two ops tables, and `precopy_info_v2`, which userspace opts into.
//!
//! The core takes no lock around these callbacks (as upstream): drivers serialise their
//! migration state themselves.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::{
    bindings,
    interval_tree::IntervalTree,
    iova_bitmap::IovaBitmap,
    vfio::device::RawDevice, //
};
use kernel::{
    fs::File,
    prelude::*,
    sync::aref::ARef, //
};

impl RawDevice {
    /// `migration_flags`: which `VFIO_MIGRATION_*` features the driver implements.
    pub fn migration_flags(&self) -> u32 {
        // SAFETY: Reading a field of the live struct, written by the driver before
        // registration only.
        unsafe { (*self.as_raw()).migration_flags }
    }

    /// The driver's migration callbacks (`mig_ops`), if it supports migration.
    pub fn mig_ops(&self) -> Option<MigOps<'_>> {
        // SAFETY: `mig_ops` is null or a table that outlives the device, set before
        // registration and never changed.
        let ops = unsafe { (*self.as_raw()).mig_ops.as_ref() }?;
        Some(MigOps { dev: self, ops })
    }

    /// The driver's DMA logging callbacks (`log_ops`), if it supports dirty logging.
    pub fn log_ops(&self) -> Option<LogOps<'_>> {
        // SAFETY: As for `mig_ops`.
        let ops = unsafe { (*self.as_raw()).log_ops.as_ref() }?;
        Some(LogOps { dev: self, ops })
    }

    /// Sets `precopy_info_v2`: the driver's `VFIO_MIG_GET_PRECOPY_INFO` reports `flags` from now
    /// until the device's last close.
    pub fn set_precopy_info_v2(&self) {
        // SAFETY: A field of the live struct. Upstream writes it without a lock while drivers
        // may read it (`vfio_check_precopy_ioctl`); the byte store is a `WRITE_ONCE` here.
        unsafe { core::ptr::write_volatile(&raw mut (*self.as_raw()).precopy_info_v2, 1) };
    }
}

/// A device's `struct vfio_migration_ops`.
///
/// Upstream calls the three callbacks without checking them (drivers must set all three, which
/// vfio-pci-core checks at registration); a missing one is `EOPNOTSUPP` here instead of a null
/// call.
pub struct MigOps<'a> {
    dev: &'a RawDevice,
    ops: &'a bindings::vfio_migration_ops,
}

/// A callback's `int` result: a negative errno is an error, anything else is passed on (upstream
/// returns a positive value to userspace as is).
fn int_result(ret: c_int) -> Result<c_int> {
    kernel::error::to_result(ret)?;
    Ok(ret)
}

impl MigOps<'_> {
    /// `migration_get_state`: the driver's non-negative return (0 normally) and the device's
    /// current `enum vfio_device_mig_state` (meaningful when the return is 0).
    pub fn get_state(&self) -> Result<(c_int, u32)> {
        let f = self.ops.migration_get_state.ok_or(EOPNOTSUPP)?;
        let mut state: bindings::vfio_device_mig_state = 0;
        // SAFETY: The device is open (the caller holds a device file with access); `state` is
        // writable for the call.
        let ret = int_result(unsafe { f(self.dev.as_raw(), &mut state) })?;
        Ok((ret, state))
    }

    /// `migration_set_state`: moves the device to `new_state` (any value userspace passed; the
    /// driver validates it). Returns the data transfer file the driver opened for the new state,
    /// if any, with the reference the driver gave the caller.
    pub fn set_state(&self, new_state: u32) -> Result<Option<ARef<File>>> {
        let f = self.ops.migration_set_state.ok_or(EOPNOTSUPP)?;
        // SAFETY: The device is open; the driver returns null, an error pointer, or a file
        // reference the caller owns.
        let file = unsafe { f(self.dev.as_raw(), new_state) };
        if file.is_null() {
            return Ok(None);
        }
        let file = kernel::error::from_err_ptr(file)?;
        // SAFETY: A non-null, non-error return is a file reference now ours (upstream installs it
        // in an fd or `fput`s it); `File` is transparent over `struct file`.
        Ok(Some(unsafe {
            ARef::from_raw(core::ptr::NonNull::new_unchecked(file.cast::<File>()))
        }))
    }

    /// `migration_get_data_size`: the driver's non-negative return (0 normally) and the
    /// estimated `STOP_COPY` data length (meaningful when the return is 0).
    pub fn get_data_size(&self) -> Result<(c_int, u64)> {
        let f = self.ops.migration_get_data_size.ok_or(EOPNOTSUPP)?;
        let mut len: c_ulong = 0;
        // SAFETY: The device is open; `len` is writable for the call.
        let ret = int_result(unsafe { f(self.dev.as_raw(), &mut len) })?;
        Ok((ret, len as u64))
    }
}

/// A device's `struct vfio_log_ops`.
///
/// As for [`MigOps`], a missing callback is `EOPNOTSUPP` (upstream requires all three).
pub struct LogOps<'a> {
    dev: &'a RawDevice,
    ops: &'a bindings::vfio_log_ops,
}

impl LogOps<'_> {
    /// `log_start`: starts DMA logging of the ranges in `ranges`; the driver may change
    /// `page_size` to the granularity it picked, and may remove nodes from the tree.
    pub fn start(&self, ranges: &mut IntervalTree, page_size: &mut u64) -> Result<c_int> {
        let f = self.ops.log_start.ok_or(EOPNOTSUPP)?;
        let nnodes = ranges.len() as u32;
        // SAFETY: The device is open; the tree and its nodes live across the call and the driver
        // only reads or unlinks nodes; `page_size` is writable.
        int_result(unsafe { f(self.dev.as_raw(), ranges.as_raw(), nnodes, page_size) })
    }

    /// `log_stop`.
    pub fn stop(&self) -> Result<c_int> {
        let f = self.ops.log_stop.ok_or(EOPNOTSUPP)?;
        // SAFETY: The device is open.
        int_result(unsafe { f(self.dev.as_raw()) })
    }

    /// `DMA_LOGGING_REPORT`'s walk: a bitmap over `iova .. iova + length` in `page_size` units
    /// at the user address `bitmap`, filled by the driver's `log_read_and_clear`.
    pub fn report(
        &self,
        iova: usize,
        length: usize,
        page_size: usize,
        bitmap: UserPtr,
    ) -> Result<c_int> {
        let mut dirty = IovaBitmap::alloc(iova, length, page_size, bitmap)?;
        let read_and_clear = self.ops.log_read_and_clear;
        let dev = self.dev.as_raw();
        dirty.for_each(|window, iova, length| match read_and_clear {
            // SAFETY: The device is open; the window's bitmap is live for the call, which is
            // what the driver records the dirty pages of `iova .. iova + length` in.
            Some(f) => unsafe { f(dev, iova, length, window.as_raw()) },
            None => EOPNOTSUPP.to_errno(),
        })
    }
}
