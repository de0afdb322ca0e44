// SPDX-License-Identifier: GPL-2.0

//! Validation of a `VFIO_DEVICE_SET_IRQS` header, as pure logic.
//!
//! Mirrors upstream's `vfio_set_irqs_validate_and_prepare`: the same checks in the same order,
//! so drivers get the same `-EINVAL` cases. Kernel-independent: the host build runs the tests.

use crate::{
    errno::Errno,
    irq_flags::{
        ACTION_TYPE_MASK,
        DATA_BOOL,
        DATA_EVENTFD,
        DATA_NONE,
        DATA_TYPE_MASK, //
    },
};

/// `offsetofend(struct vfio_irq_set, count)`: the header without the data.
pub(crate) const MINSZ: u32 = 20;

/// The fixed fields of `struct vfio_irq_set`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IrqSetHeader {
    /// `argsz`.
    pub(crate) argsz: u32,
    /// `flags`.
    pub(crate) flags: u32,
    /// `index`.
    pub(crate) index: u32,
    /// `start`.
    pub(crate) start: u32,
    /// `count`.
    pub(crate) count: u32,
}

/// First stage: the header itself (size, index, count overflow, flag bits). Upstream leaves the
/// caller's `data_size` untouched when this fails.
pub(crate) fn check_header(hdr: &IrqSetHeader, max_irq_type: i32) -> Result<(), Errno> {
    // Signed/unsigned comparisons as in C: `int` operands convert to the unsigned type.
    if hdr.argsz < MINSZ
        || hdr.index >= max_irq_type as u32
        || hdr.count >= u32::MAX - hdr.start
        || hdr.flags & !(DATA_TYPE_MASK | ACTION_TYPE_MASK) != 0
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Second stage, for a header that passed [`check_header`]: the range against `num_irqs` and
/// the data type; returns the size of the data following the header.
///
/// `wants_size` is whether the caller passed a `data_size` pointer: upstream refuses
/// data-carrying requests without one.
pub(crate) fn data_size(
    hdr: &IrqSetHeader,
    num_irqs: i32,
    wants_size: bool,
) -> Result<usize, Errno> {
    let num = num_irqs as u32;
    if hdr.start >= num || hdr.start + hdr.count > num {
        return Err(Errno::EINVAL);
    }
    let size: u32 = match hdr.flags & DATA_TYPE_MASK {
        DATA_NONE => 0,
        DATA_BOOL => 1,
        DATA_EVENTFD => 4,
        _ => return Err(Errno::EINVAL),
    };
    if size == 0 {
        return Ok(0);
    }
    // `u32 * size_t` is 64-bit in C, so widen.
    let need = u64::from(hdr.count) * u64::from(size);
    if u64::from(hdr.argsz - MINSZ) < need || !wants_size {
        return Err(Errno::EINVAL);
    }
    Ok(need as usize)
}

/// Both stages, for tests.
#[cfg(test)]
fn validate(
    hdr: &IrqSetHeader,
    num_irqs: i32,
    max_irq_type: i32,
    wants_size: bool,
) -> Result<usize, Errno> {
    check_header(hdr, max_irq_type)?;
    data_size(hdr, num_irqs, wants_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(argsz: u32, flags: u32, index: u32, start: u32, count: u32) -> IrqSetHeader {
        IrqSetHeader {
            argsz,
            flags,
            index,
            start,
            count,
        }
    }
    const TRIGGER: u32 = 1 << 5;

    #[test]
    fn eventfd_data_size() {
        let h = hdr(MINSZ + 8, DATA_EVENTFD | TRIGGER, 0, 0, 2);
        assert_eq!(validate(&h, 4, 5, true), Ok(8));
        // Too short for two eventfds.
        let h = hdr(MINSZ + 7, DATA_EVENTFD | TRIGGER, 0, 0, 2);
        assert_eq!(validate(&h, 4, 5, true), Err(Errno::EINVAL));
        // Data needs a data_size pointer.
        let h = hdr(MINSZ + 8, DATA_EVENTFD | TRIGGER, 0, 0, 2);
        assert_eq!(validate(&h, 4, 5, false), Err(Errno::EINVAL));
    }

    #[test]
    fn none_has_no_data() {
        let h = hdr(MINSZ, DATA_NONE | TRIGGER, 1, 0, 0);
        assert_eq!(validate(&h, 1, 5, false), Ok(0));
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            validate(&hdr(MINSZ - 1, DATA_NONE, 0, 0, 1), 1, 5, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            validate(&hdr(MINSZ, DATA_NONE, 5, 0, 1), 1, 5, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            validate(&hdr(MINSZ, DATA_NONE | 1 << 6, 0, 0, 1), 1, 5, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            validate(&hdr(MINSZ, DATA_NONE, 0, 1, 1), 1, 5, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            validate(&hdr(MINSZ, DATA_NONE, 0, 0, 2), 1, 5, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            validate(&hdr(MINSZ, 0, 0, 0, 1), 1, 5, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            validate(&hdr(MINSZ, DATA_NONE | DATA_BOOL, 0, 0, 1), 1, 5, true),
            Err(Errno::EINVAL)
        );
        // count + start overflow.
        assert_eq!(
            validate(&hdr(MINSZ, DATA_NONE, 0, 1, u32::MAX - 1), 9, 5, true),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn negative_num_irqs_compares_unsigned() {
        // C converts -1 to UINT_MAX, so start 0 is "in range".
        let h = hdr(MINSZ, DATA_NONE | TRIGGER, 0, 0, 1);
        assert_eq!(validate(&h, -1, 5, true), Ok(0));
    }
}
