// SPDX-License-Identifier: GPL-2.0

//! `IoSpan::step` (`drivers/vfio/pci/core/io_steps.rs`) against upstream's
//! `vfio_pci_core_do_io_rw` loop, transcribed.

use crate::pci_io_steps::{IoSpan, IoStep};
use proptest::prelude::*;

/// Upstream's loop (`vfio_pci_rdwr.c`): the list of (offset, width) device accesses, 0 width
/// for an excluded stretch of `len` given as the second member.
fn model(span: &IoSpan, mut off: u64, mut count: usize) -> Vec<(u64, usize, bool)> {
    let mut out = Vec::new();
    while count != 0 {
        let fillable = if off < span.x_start {
            count.min((span.x_start - off) as usize)
        } else if off >= span.x_end {
            count
        } else {
            0
        };
        let filled;
        if fillable >= 8 && off % 8 == 0 && span.max_width >= 8 {
            filled = 8;
        } else if fillable >= 4 && off % 4 == 0 && span.max_width >= 4 {
            filled = 4;
        } else if fillable >= 2 && off % 2 == 0 && span.max_width >= 2 {
            filled = 2;
        } else if fillable != 0 {
            filled = 1;
        } else {
            let len = count.min((span.x_end - off) as usize);
            out.push((off, len, false));
            count -= len;
            off += len as u64;
            continue;
        }
        out.push((off, filled, true));
        count -= filled;
        off += filled as u64;
    }
    out
}

fn ours(span: &IoSpan, mut off: u64, mut count: usize) -> Vec<(u64, usize, bool)> {
    let mut out = Vec::new();
    while count != 0 {
        let (len, access) = match span.step(off, count) {
            IoStep::Access(w) => (w, true),
            IoStep::Excluded(len) => (len, false),
        };
        assert!(
            len > 0 && len <= count,
            "a step must make progress within the access"
        );
        out.push((off, len, access));
        count -= len;
        off += len as u64;
    }
    out
}

fn span(x_start: u64, len: u64, max_width: usize) -> IoSpan {
    IoSpan {
        x_start,
        x_end: x_start + len,
        max_width,
        test_mem: true,
    }
}

#[test]
fn msix_table_is_skipped() {
    // A 16-byte read across a 16-byte table at 0x10.
    let s = span(0x10, 0x10, 8);
    assert_eq!(
        ours(&s, 0x8, 0x20),
        vec![(0x8, 8, true), (0x10, 16, false), (0x20, 8, true)]
    );
}

#[test]
fn unaligned_access_splits() {
    let s = span(0, 0, 8);
    assert_eq!(
        ours(&s, 1, 8),
        vec![(1, 1, true), (2, 2, true), (4, 4, true), (8, 1, true)]
    );
}

#[test]
fn rom_width_is_four() {
    let s = span(0, 0, 4);
    assert_eq!(ours(&s, 0, 8), vec![(0, 4, true), (4, 4, true)]);
}

proptest! {
    #[test]
    fn matches_upstream(
        x_start in 0u64..64,
        x_len in 0u64..48,
        max_width in prop::sample::select(vec![1usize, 2, 4, 8]),
        off in 0u64..128,
        count in 1usize..96,
    ) {
        let s = span(x_start, x_len, max_width);
        prop_assert_eq!(ours(&s, off, count), model(&s, off, count));
    }
}

/// `vfio_pci_core_range_intersect_range` transcribed (C's `loff_t + size_t` is unsigned).
fn intersect_model(bs: i64, bc: usize, rs: i64, rc: usize) -> Option<(i64, usize, usize)> {
    let (ubs, urs) = (bs as u64, rs as u64);
    if bs <= rs && ubs.wrapping_add(bc as u64) > urs {
        let n = core::cmp::min(rc as u64, ubs.wrapping_add(bc as u64).wrapping_sub(urs));
        return Some((rs - bs, n as usize, 0));
    }
    if bs > rs && ubs < urs.wrapping_add(rc as u64) {
        let n = core::cmp::min(bc as u64, urs.wrapping_add(rc as u64).wrapping_sub(ubs));
        return Some((0, n as usize, (bs - rs) as usize));
    }
    None
}

#[test]
fn intersect_cases() {
    use crate::pci_io_steps::range_intersect;
    // An access covering a 4-byte register at 0x10 from 0x0e.
    assert_eq!(range_intersect(0x0e, 8, 0x10, 4), Some((2, 4, 0)));
    // Starting inside the register.
    assert_eq!(range_intersect(0x12, 8, 0x10, 4), Some((0, 2, 2)));
    // Ending right before it; starting right after it.
    assert_eq!(range_intersect(0x08, 8, 0x10, 4), None);
    assert_eq!(range_intersect(0x14, 8, 0x10, 4), None);
    // The same start takes the first branch.
    assert_eq!(range_intersect(0x10, 2, 0x10, 4), Some((0, 2, 0)));
}

proptest! {
    #[test]
    fn intersect_matches_upstream(
        bs in 0i64..64,
        bc in 0usize..32,
        rs in 0i64..64,
        rc in 0usize..32,
    ) {
        prop_assert_eq!(
            crate::pci_io_steps::range_intersect(bs, bc, rs, rc),
            intersect_model(bs, bc, rs, rc)
        );
    }
}
