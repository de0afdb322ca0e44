// SPDX-License-Identifier: GPL-2.0

//! How `vfio_pci_core_do_io_rw` (`vfio_pci_rdwr.c`) cuts a region access into device
//! accesses: the widest naturally aligned access that fits, up to a maximum width, and an
//! excluded range (a BAR's MSI-X table) that reads fill with 0xff and writes skip. Pure, so the
//! host tests check it against a transcription of upstream's loop.

/// One step of an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IoStep {
    /// A device access of `width` bytes (1, 2, 4 or 8) at the current offset.
    Access(usize),
    /// `len` bytes of the excluded range: no device access.
    Excluded(usize),
}

/// What an access may touch: the excluded range `[x_start, x_end)`, the widest access, and
/// whether memory decoding gates it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IoSpan {
    pub(crate) x_start: u64,
    pub(crate) x_end: u64,
    pub(crate) max_width: usize,
    /// Check memory decoding before each device access (memory BARs).
    pub(crate) test_mem: bool,
}

impl IoSpan {
    /// The step at `off` with `count` (> 0) bytes left.
    pub(crate) fn step(&self, off: u64, count: usize) -> IoStep {
        let fillable = if off < self.x_start {
            count.min(usize::try_from(self.x_start - off).unwrap_or(usize::MAX))
        } else if off >= self.x_end {
            count
        } else {
            0
        };
        if fillable == 0 {
            return IoStep::Excluded(
                count.min(usize::try_from(self.x_end - off).unwrap_or(usize::MAX)),
            );
        }
        for width in [8, 4, 2] {
            if fillable >= width && off.is_multiple_of(width as u64) && self.max_width >= width {
                return IoStep::Access(width);
            }
        }
        IoStep::Access(1)
    }
}

/// `vfio_pci_core_range_intersect_range`: where an access of `buf_cnt` bytes at `buf_start`
/// meets a register of `reg_cnt` bytes at `reg_start`: the offset into the access, the bytes
/// in common and the offset into the register, or `None` if they do not meet. An access
/// starting at the register's start takes the first branch, as upstream's.
pub(crate) fn range_intersect(
    buf_start: i64,
    buf_cnt: usize,
    reg_start: i64,
    reg_cnt: usize,
) -> Option<(i64, usize, usize)> {
    // C's `loff_t + size_t` is unsigned 64-bit arithmetic.
    let (bs, rs) = (buf_start as u64, reg_start as u64);
    let (bc, rc) = (buf_cnt as u64, reg_cnt as u64);
    if buf_start <= reg_start && bs.wrapping_add(bc) > rs {
        let n = rc.min(bs.wrapping_add(bc).wrapping_sub(rs));
        return Some((reg_start.wrapping_sub(buf_start), n as usize, 0));
    }
    if buf_start > reg_start && bs < rs.wrapping_add(rc) {
        let n = bc.min(rs.wrapping_add(rc).wrapping_sub(bs));
        return Some((0, n as usize, buf_start.wrapping_sub(reg_start) as usize));
    }
    None
}
