// SPDX-License-Identifier: GPL-2.0

//! Argument checks of `VFIO_DEVICE_FEATURE` and of the features the core handles itself
//! (migration and DMA logging), as pure logic.
//!
//! Mirrors upstream's `vfio_ioctl_device_feature` header checks, `vfio_check_feature` (an inline
//! of `include/linux/vfio.h`) and the range and page-size checks of
//! `vfio_ioctl_device_feature_logging_{start,report}`: the same tests in the same order, with the
//! same C integer arithmetic, so userspace sees the same errno in every case. Kernel-independent:
//! the host build runs the tests.

use crate::errno::Errno;
pub(crate) use crate::feature_check::{
    FEATURE_GET,
    FEATURE_MASK,
    FEATURE_PROBE,
    FEATURE_SET, //
};

/// `VFIO_DEVICE_FEATURE_MIGRATION`.
pub(crate) const MIGRATION: u32 = 1;
/// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
pub(crate) const MIG_DEVICE_STATE: u32 = 2;
/// `VFIO_DEVICE_FEATURE_DMA_LOGGING_START`.
pub(crate) const DMA_LOGGING_START: u32 = 6;
/// `VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP`.
pub(crate) const DMA_LOGGING_STOP: u32 = 7;
/// `VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT`.
pub(crate) const DMA_LOGGING_REPORT: u32 = 8;
/// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
pub(crate) const MIG_DATA_SIZE: u32 = 9;
/// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2`.
pub(crate) const MIG_PRECOPY_INFO_V2: u32 = 12;

/// `offsetofend(struct vfio_device_feature, flags)`: the header before the feature's data.
pub(crate) const HEADER_SIZE: usize = 8;
/// `sizeof(struct vfio_device_feature_migration)`.
pub(crate) const MIGRATION_SIZE: usize = 8;
/// `sizeof(struct vfio_device_feature_mig_state)` (also its `offsetofend(.., data_fd)`).
pub(crate) const MIG_STATE_SIZE: usize = 8;
/// `sizeof(struct vfio_device_feature_mig_data_size)`.
pub(crate) const MIG_DATA_SIZE_SIZE: usize = 8;
/// `sizeof(struct vfio_device_feature_dma_logging_control)` (also its
/// `offsetofend(.., ranges)`).
pub(crate) const LOGGING_CONTROL_SIZE: usize = 24;
/// `sizeof(struct vfio_device_feature_dma_logging_range)`.
pub(crate) const LOGGING_RANGE_SIZE: usize = 16;
/// `sizeof(struct vfio_device_feature_dma_logging_report)` (also its `offsetofend(.., bitmap)`).
pub(crate) const LOGGING_REPORT_SIZE: usize = 32;
/// `SZ_4K`: the smallest report page size.
const SZ_4K: u64 = 4096;

/// Which handler a feature index goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feature {
    /// `VFIO_DEVICE_FEATURE_MIGRATION`.
    Migration,
    /// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
    MigDeviceState,
    /// `VFIO_DEVICE_FEATURE_DMA_LOGGING_START`.
    LoggingStart,
    /// `VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP`.
    LoggingStop,
    /// `VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT`.
    LoggingReport,
    /// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    MigDataSize,
    /// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2`.
    PrecopyInfoV2,
    /// Anything else: the driver's `device_feature`.
    Driver,
}

/// The `VFIO_DEVICE_FEATURE` header checks of `vfio_ioctl_device_feature`: `argsz` covers the
/// header, no unknown flag, GET and SET together only with PROBE. Returns the handler of the
/// feature and the size of the data after the header.
pub(crate) fn check_header(argsz: u32, flags: u32) -> Result<(Feature, usize), Errno> {
    if (argsz as usize) < HEADER_SIZE {
        return Err(Errno::EINVAL);
    }
    if flags & !(FEATURE_MASK | FEATURE_SET | FEATURE_GET | FEATURE_PROBE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & FEATURE_PROBE == 0 && flags & FEATURE_SET != 0 && flags & FEATURE_GET != 0 {
        return Err(Errno::EINVAL);
    }
    let feature = match flags & FEATURE_MASK {
        MIGRATION => Feature::Migration,
        MIG_DEVICE_STATE => Feature::MigDeviceState,
        DMA_LOGGING_START => Feature::LoggingStart,
        DMA_LOGGING_STOP => Feature::LoggingStop,
        DMA_LOGGING_REPORT => Feature::LoggingReport,
        MIG_DATA_SIZE => Feature::MigDataSize,
        MIG_PRECOPY_INFO_V2 => Feature::PrecopyInfoV2,
        _ => Feature::Driver,
    };
    Ok((feature, argsz as usize - HEADER_SIZE))
}

/// `LOG_MAX_RANGES`: how many `struct vfio_device_feature_dma_logging_range` fit in a page.
pub(crate) const fn log_max_ranges(page_size: usize) -> usize {
    page_size / LOGGING_RANGE_SIZE
}

/// `DMA_LOGGING_START`'s count check: at least one range, at most `max` (a page's worth).
pub(crate) fn check_num_ranges(num_ranges: u32, max: usize) -> Result<(), Errno> {
    if num_ranges == 0 {
        return Err(Errno::EINVAL);
    }
    if num_ranges as usize > max {
        return Err(Errno::E2BIG);
    }
    Ok(())
}

/// `IS_ALIGNED(x, a)` of two `u64`s: `(x & (a - 1)) == 0` in wrapping arithmetic, so any `a`
/// (0 and non-powers of two included) is taken as C takes it.
const fn is_aligned(x: u64, a: u64) -> bool {
    x & a.wrapping_sub(1) == 0
}

/// One `DMA_LOGGING_START` range: both ends aligned to the caller's `page_size` (`EINVAL`), the
/// end within `unsigned long` (`EOVERFLOW`). Returns the interval tree node's `start` and
/// `last` (`iova + length - 1`, wrapping as in C for an empty range).
pub(crate) fn range_bounds(
    iova: u64,
    length: u64,
    page_size: u64,
) -> Result<(usize, usize), Errno> {
    if !is_aligned(iova, page_size) || !is_aligned(length, page_size) {
        return Err(Errno::EINVAL);
    }
    match iova.checked_add(length) {
        Some(end) if end <= usize::MAX as u64 => {}
        _ => return Err(Errno::EOVERFLOW),
    }
    Ok((
        iova as usize,
        iova.wrapping_add(length).wrapping_sub(1) as usize,
    ))
}

/// `DMA_LOGGING_REPORT`'s checks: a power-of-two page size of at least 4 KiB (`EINVAL`), the
/// range's end within `unsigned long` (`EOVERFLOW`).
pub(crate) fn check_report(iova: u64, length: u64, page_size: u64) -> Result<(), Errno> {
    // `is_power_of_2` takes an `unsigned long`.
    if page_size < SZ_4K || !(page_size as usize).is_power_of_two() {
        return Err(Errno::EINVAL);
    }
    match iova.checked_add(length) {
        Some(end) if end <= usize::MAX as u64 => Ok(()),
        _ => Err(Errno::EOVERFLOW),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const G: u32 = FEATURE_GET;
    const S: u32 = FEATURE_SET;
    const P: u32 = FEATURE_PROBE;

    #[test]
    fn header() {
        assert_eq!(check_header(7, G | 1), Err(Errno::EINVAL));
        assert_eq!(check_header(8, G | 1), Ok((Feature::Migration, 0)));
        assert_eq!(check_header(16, S | 2), Ok((Feature::MigDeviceState, 8)));
        assert_eq!(check_header(8, G | (1 << 19)), Err(Errno::EINVAL));
        assert_eq!(check_header(8, G | S | 1), Err(Errno::EINVAL));
        assert_eq!(check_header(8, P | G | S | 1), Ok((Feature::Migration, 0)));
        // No direction is the feature's business, not the header's.
        assert_eq!(check_header(8, 7), Ok((Feature::LoggingStop, 0)));
        assert_eq!(check_header(8, G | 6).unwrap().0, Feature::LoggingStart);
        assert_eq!(check_header(8, G | 8).unwrap().0, Feature::LoggingReport);
        assert_eq!(check_header(8, G | 9).unwrap().0, Feature::MigDataSize);
        assert_eq!(check_header(8, S | 12).unwrap().0, Feature::PrecopyInfoV2);
        for f in [0, 3, 4, 5, 10, 11, 13, 0xffff] {
            assert_eq!(
                check_header(8, G | f).unwrap().0,
                Feature::Driver,
                "feature {f}"
            );
        }
        // `argsz` is unsigned: a huge one is a big data size, not negative.
        assert_eq!(
            check_header(u32::MAX, G | 1).unwrap().1,
            u32::MAX as usize - 8
        );
    }

    #[test]
    fn num_ranges() {
        let max = log_max_ranges(4096);
        assert_eq!(max, 256);
        assert_eq!(check_num_ranges(0, max), Err(Errno::EINVAL));
        assert_eq!(check_num_ranges(1, max), Ok(()));
        assert_eq!(check_num_ranges(256, max), Ok(()));
        assert_eq!(check_num_ranges(257, max), Err(Errno::E2BIG));
        assert_eq!(check_num_ranges(u32::MAX, max), Err(Errno::E2BIG));
    }

    #[test]
    fn ranges() {
        assert_eq!(range_bounds(0x1000, 0x2000, 0x1000), Ok((0x1000, 0x2fff)));
        assert_eq!(range_bounds(0x1001, 0x2000, 0x1000), Err(Errno::EINVAL));
        assert_eq!(range_bounds(0x1000, 0x2001, 0x1000), Err(Errno::EINVAL));
        // Upstream does not check the page size: 0 only accepts zeros, 3 is a mask of 2.
        assert_eq!(range_bounds(0, 0, 0), Ok((0, usize::MAX)));
        assert_eq!(range_bounds(0x1000, 0, 0), Err(Errno::EINVAL));
        assert_eq!(range_bounds(0x10, 0x8, 3), Ok((0x10, 0x17)));
        assert_eq!(range_bounds(0x11, 0x8, 3), Ok((0x11, 0x18)));
        assert_eq!(range_bounds(0x12, 0x8, 3), Err(Errno::EINVAL));
        // An empty range ends before it starts.
        assert_eq!(range_bounds(0x1000, 0, 0x1000), Ok((0x1000, 0xfff)));
        // The end must fit: alignment is checked first.
        let top = u64::MAX - 0x1fff;
        assert_eq!(
            range_bounds(top, 0x1000, 0x1000),
            Ok((top as usize, top as usize + 0xfff))
        );
        assert_eq!(range_bounds(top, 0x2000, 0x1000), Err(Errno::EOVERFLOW));
        assert_eq!(
            range_bounds(top + 0x1000, 0x1000, 0x1000),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(range_bounds(top + 1, 0x2000, 0x1000), Err(Errno::EINVAL));
    }

    #[test]
    fn report() {
        assert_eq!(check_report(0, 0x10000, 4096), Ok(()));
        assert_eq!(check_report(0, 0x10000, 1 << 30), Ok(()));
        for bad in [0, 1, 2048, 4095, 4097, 3 * 4096, u64::MAX] {
            assert_eq!(check_report(0, 0x10000, bad), Err(Errno::EINVAL), "{bad}");
        }
        assert_eq!(check_report(u64::MAX, 1, 4096), Err(Errno::EOVERFLOW));
        assert_eq!(check_report(u64::MAX, 0, 4096), Ok(()));
        // The page size is checked before the range.
        assert_eq!(check_report(u64::MAX, 1, 0), Err(Errno::EINVAL));
    }

    proptest! {
        /// `range_bounds` against a transcription of upstream's C in 128-bit arithmetic.
        #[test]
        fn range_bounds_matches_c(iova: u64, length: u64, shift in 0u32..64, any_ps: u64,
                                  pick in 0u8..3) {
            let page_size = match pick { 0 => 1u64 << shift, 1 => any_ps, _ => 0 };
            let mask = page_size.wrapping_sub(1);
            let want = if iova & mask != 0 || length & mask != 0 {
                Err(Errno::EINVAL)
            } else if u128::from(iova) + u128::from(length) > u128::from(u64::MAX) {
                Err(Errno::EOVERFLOW)
            } else {
                let last = (u128::from(iova) + u128::from(length) + (1u128 << 64) - 1) as u64;
                Ok((iova as usize, last as usize))
            };
            prop_assert_eq!(range_bounds(iova, length, page_size), want);
        }
    }
}
