// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_FEATURE` on a device file: the header checks, the features the core handles
//! itself (migration state and data size, pre-copy info v2, DMA logging start/stop/report), and
//! the driver's `device_feature` for every other feature.
//!
//! Mirrors upstream's `vfio_ioctl_device_feature*` (vfio_main.c): the same checks in the same
//! order (the pure ones in `feature_args.rs`), the same user copies, the same driver callbacks.
//! No lock is taken: drivers serialise their migration state themselves, as upstream expects.

use crate::{
    feature_args::{
        self,
        Feature, //
    },
    kernel_ext::{
        interval_tree::IntervalTree,
        uaccess_ext::{
            read_user,
            write_user, //
        },
        uapi,
        vfio::{
            device::RawDevice,
            driver::check_feature, //
        }, //
    },
};
use kernel::{
    fs::{
        file::{
            flags::O_CLOEXEC,
            FileDescriptorReservation, //
        },
        File,
    },
    page::PAGE_SIZE,
    prelude::*,
    sync::aref::ARef, //
};

// The pure logic spells the uapi values out; they must be the target's.
const _: () = {
    use core::mem::size_of;
    assert!(feature_args::FEATURE_MASK == uapi::VFIO_DEVICE_FEATURE_MASK);
    assert!(feature_args::FEATURE_GET == uapi::VFIO_DEVICE_FEATURE_GET);
    assert!(feature_args::FEATURE_SET == uapi::VFIO_DEVICE_FEATURE_SET);
    assert!(feature_args::FEATURE_PROBE == uapi::VFIO_DEVICE_FEATURE_PROBE);
    assert!(feature_args::MIGRATION == uapi::VFIO_DEVICE_FEATURE_MIGRATION);
    assert!(feature_args::MIG_DEVICE_STATE == uapi::VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE);
    assert!(feature_args::DMA_LOGGING_START == uapi::VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
    assert!(feature_args::DMA_LOGGING_STOP == uapi::VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP);
    assert!(feature_args::DMA_LOGGING_REPORT == uapi::VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
    assert!(feature_args::MIG_DATA_SIZE == uapi::VFIO_DEVICE_FEATURE_MIG_DATA_SIZE);
    assert!(feature_args::MIG_PRECOPY_INFO_V2 == uapi::VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2);
    assert!(feature_args::HEADER_SIZE == size_of::<uapi::vfio_device_feature>());
    assert!(feature_args::MIGRATION_SIZE == size_of::<uapi::vfio_device_feature_migration>());
    assert!(feature_args::MIG_STATE_SIZE == size_of::<uapi::vfio_device_feature_mig_state>());
    assert!(
        feature_args::MIG_DATA_SIZE_SIZE == size_of::<uapi::vfio_device_feature_mig_data_size>()
    );
    assert!(
        feature_args::LOGGING_CONTROL_SIZE
            == size_of::<uapi::vfio_device_feature_dma_logging_control>()
    );
    assert!(
        feature_args::LOGGING_RANGE_SIZE
            == size_of::<uapi::vfio_device_feature_dma_logging_range>()
    );
    assert!(
        feature_args::LOGGING_REPORT_SIZE
            == size_of::<uapi::vfio_device_feature_dma_logging_report>()
    );
};

const GET: u32 = feature_args::FEATURE_GET;
const SET: u32 = feature_args::FEATURE_SET;

/// `VFIO_DEVICE_FEATURE` at user address `arg`.
pub(crate) fn ioctl(dev: &RawDevice, arg: usize) -> Result<isize> {
    let hdr: uapi::vfio_device_feature = read_user(arg)?;
    let (argsz, flags) = (hdr.argsz, hdr.flags);
    let (feature, size) = feature_args::check_header(argsz, flags)?;
    // `arg->data`.
    let data = arg.wrapping_add(feature_args::HEADER_SIZE);
    match feature {
        Feature::Migration => migration(dev, flags, data, size),
        Feature::MigDeviceState => mig_device_state(dev, flags, data, size),
        Feature::LoggingStart => logging_start(dev, flags, data, size),
        Feature::LoggingStop => logging_stop(dev, flags, size),
        Feature::LoggingReport => logging_report(dev, flags, data, size),
        Feature::MigDataSize => mig_data_size(dev, flags, data, size),
        Feature::PrecopyInfoV2 => precopy_info_v2(dev, flags, size),
        Feature::Driver => dev.driver_feature(flags, data, size),
    }
}

/// `VFIO_DEVICE_FEATURE_MIGRATION` (GET): the driver's `migration_flags`.
fn migration(dev: &RawDevice, flags: u32, data: usize, argsz: usize) -> Result<isize> {
    if dev.mig_ops().is_none() {
        return Err(ENOTTY);
    }
    if !check_feature(flags, argsz, GET, feature_args::MIGRATION_SIZE)? {
        return Ok(0);
    }
    let mig = uapi::vfio_device_feature_migration {
        flags: u64::from(dev.migration_flags()),
    };
    write_user(data, &mig)?;
    Ok(0)
}

/// A `struct vfio_device_feature_mig_state` to copy to userspace.
fn mig_state(device_state: u32, data_fd: i32) -> uapi::vfio_device_feature_mig_state {
    uapi::vfio_device_feature_mig_state {
        device_state,
        data_fd,
    }
}

/// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`: GET the current state, or SET a new one, returning
/// the data transfer file the driver opened for it as a new fd.
fn mig_device_state(dev: &RawDevice, flags: u32, data: usize, argsz: usize) -> Result<isize> {
    let ops = dev.mig_ops().ok_or(ENOTTY)?;
    if !check_feature(flags, argsz, GET | SET, feature_args::MIG_STATE_SIZE)? {
        return Ok(0);
    }
    let mig: uapi::vfio_device_feature_mig_state = read_user(data)?;
    if flags & GET != 0 {
        let (ret, state) = ops.get_state()?;
        if ret != 0 {
            return Ok(ret as isize);
        }
        write_user(data, &mig_state(state, -1))?;
        return Ok(0);
    }
    let device_state = mig.device_state;
    match ops.set_state(device_state) {
        Ok(Some(file)) => return_fd(file, data, device_state),
        // No file, or an error: `data_fd` is -1 either way, and a failed copy wins.
        other => {
            write_user(data, &mig_state(device_state, -1))?;
            other.map(|_| 0)
        }
    }
}

/// `vfio_ioct_mig_return_fd`: reserves a close-on-exec fd for `file`, tells userspace its
/// number, and installs it only once that copy succeeded; on any error the reservation and the
/// driver's file reference are dropped.
fn return_fd(file: ARef<File>, data: usize, device_state: u32) -> Result<isize> {
    // On error `file` is dropped here: `fput`.
    let fd = FileDescriptorReservation::get_unused_fd_flags(O_CLOEXEC)?;
    if write_user(data, &mig_state(device_state, fd.reserved_fd() as i32)).is_err() {
        // `put_unused_fd`, then `fput`, as upstream.
        drop(fd);
        drop(file);
        return Err(EFAULT);
    }
    fd.fd_install(file);
    Ok(0)
}

/// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` (GET): the driver's estimate of the `STOP_COPY` data.
fn mig_data_size(dev: &RawDevice, flags: u32, data: usize, argsz: usize) -> Result<isize> {
    let ops = dev.mig_ops().ok_or(ENOTTY)?;
    if !check_feature(flags, argsz, GET, feature_args::MIG_DATA_SIZE_SIZE)? {
        return Ok(0);
    }
    let (ret, len) = ops.get_data_size()?;
    if ret != 0 {
        return Ok(ret as isize);
    }
    let size = uapi::vfio_device_feature_mig_data_size {
        stop_copy_length: len,
    };
    write_user(data, &size)?;
    Ok(0)
}

/// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (SET): opts into `flags` in the driver's pre-copy
/// info until the device's last close. Checked against `migration_flags` first, so a device
/// without pre-copy (or without migration) answers `EINVAL`, not `ENOTTY`.
fn precopy_info_v2(dev: &RawDevice, flags: u32, argsz: usize) -> Result<isize> {
    if dev.migration_flags() & uapi::VFIO_MIGRATION_PRE_COPY == 0 {
        return Err(EINVAL);
    }
    if !check_feature(flags, argsz, SET, 0)? {
        return Ok(0);
    }
    dev.set_precopy_info_v2();
    Ok(0)
}

/// `VFIO_DEVICE_FEATURE_DMA_LOGGING_START` (SET): copies the ranges into an interval tree
/// (aligned, not overflowing, not overlapping), has the driver start logging them, and copies
/// the control struct back with the page size the driver picked; if that copy fails logging is
/// stopped again.
fn logging_start(dev: &RawDevice, flags: u32, data: usize, argsz: usize) -> Result<isize> {
    let ops = dev.log_ops().ok_or(ENOTTY)?;
    if !check_feature(flags, argsz, SET, feature_args::LOGGING_CONTROL_SIZE)? {
        return Ok(0);
    }
    let mut control: uapi::vfio_device_feature_dma_logging_control = read_user(data)?;
    let mut page_size = control.page_size;
    let num_ranges = control.num_ranges;
    let ranges = control.ranges as usize;
    feature_args::check_num_ranges(num_ranges, feature_args::log_max_ranges(PAGE_SIZE))?;
    let mut tree = IntervalTree::with_capacity(num_ranges as usize)?;
    for i in 0..num_ranges as usize {
        let range: uapi::vfio_device_feature_dma_logging_range =
            read_user(ranges.wrapping_add(i * feature_args::LOGGING_RANGE_SIZE))?;
        let (start, last) = feature_args::range_bounds(range.iova, range.length, page_size)?;
        if tree.overlaps(start, last) {
            return Err(EINVAL);
        }
        tree.insert(start, last)?;
    }
    let ret = ops.start(&mut tree, &mut page_size)?;
    if ret != 0 {
        return Ok(ret as isize);
    }
    control.page_size = page_size;
    if write_user(data, &control).is_err() {
        // Upstream ignores the result of this undo.
        let _ = ops.stop();
        return Err(EFAULT);
    }
    Ok(0)
}

/// `VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP` (SET).
fn logging_stop(dev: &RawDevice, flags: u32, argsz: usize) -> Result<isize> {
    let ops = dev.log_ops().ok_or(ENOTTY)?;
    if !check_feature(flags, argsz, SET, 0)? {
        return Ok(0);
    }
    Ok(ops.stop()? as isize)
}

/// `VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT` (GET): the driver reads and clears its log of
/// `iova .. iova + length` into the user bitmap, one bit per `page_size`.
fn logging_report(dev: &RawDevice, flags: u32, data: usize, argsz: usize) -> Result<isize> {
    let ops = dev.log_ops().ok_or(ENOTTY)?;
    if !check_feature(flags, argsz, GET, feature_args::LOGGING_REPORT_SIZE)? {
        return Ok(0);
    }
    let report: uapi::vfio_device_feature_dma_logging_report = read_user(data)?;
    let (iova, length, page_size) = (report.iova, report.length, report.page_size);
    feature_args::check_report(iova, length, page_size)?;
    let bitmap = UserPtr::from_addr(report.bitmap as usize);
    Ok(ops.report(iova as usize, length as usize, page_size as usize, bitmap)? as isize)
}
