// SPDX-License-Identifier: GPL-2.0

//! `ioeventfd_args::check` (`drivers/vfio/pci/core/ioeventfd_args.rs`) against upstream's
//! `vfio_pci_ioctl_ioeventfd` and the start of `vfio_pci_ioeventfd`, transcribed with C's
//! types.

use crate::errno::Errno;
use crate::pci_ioeventfd_args::{check, DevLayout, Request};
use proptest::prelude::*;

/// BAR lengths of a test device: BAR0 16 KiB, BAR1 none, BAR2 4 KiB, BAR3 none, BAR4 256 B
/// (say I/O), BAR5 none.
fn bar_len(bar: usize) -> u64 {
    [0x4000, 0, 0x1000, 0, 0x100, 0][bar]
}

fn dev(msix_bar: u8, msix_offset: u32, msix_size: u16) -> DevLayout<fn(usize) -> u64> {
    DevLayout {
        bar_len,
        msix_bar,
        msix_offset,
        msix_size,
    }
}

/// Upstream's C: `Ok` with (bar, pos, count) where it would go on to the list.
fn model(
    argsz: u32,
    flags: u32,
    offset: u64,
    fd: i32,
    msix_bar: u8,
    msix_offset: u32,
    msix_size: u16,
) -> Result<(i32, i64, i32), Errno> {
    if argsz < 28 {
        return Err(Errno::EINVAL);
    }
    if flags & !0xf != 0 {
        return Err(Errno::EINVAL);
    }
    let count = (flags & 0xf) as i32;
    if (count as u8).count_ones() != 1 || fd < -1 {
        return Err(Errno::EINVAL);
    }
    // `loff_t offset`, `VFIO_PCI_OFFSET_TO_INDEX` on `(u64)`, into an `int`.
    let off = offset as i64;
    let pos = (off as u64 & ((1u64 << 40) - 1)) as i64;
    let bar = ((off as u64) >> 40) as i32;
    if bar > 5 {
        return Err(Errno::EINVAL);
    }
    if pos + count as i64 > bar_len(bar as usize) as i64 {
        return Err(Errno::EINVAL);
    }
    let x_end = msix_offset.wrapping_add(msix_size as u32);
    if bar == msix_bar as i32 && !(pos + count as i64 <= msix_offset as i64 || pos >= x_end as i64)
    {
        return Err(Errno::EINVAL);
    }
    Ok((bar, pos, count))
}

fn ours(
    argsz: u32,
    flags: u32,
    offset: u64,
    fd: i32,
    msix_bar: u8,
    msix_offset: u32,
    msix_size: u16,
) -> Result<(i32, i64, i32), Errno> {
    check(
        argsz,
        flags,
        offset,
        fd,
        &dev(msix_bar, msix_offset, msix_size),
    )
    .map(|r| (r.bar as i32, r.pos as i64, r.count as i32))
}

const BAR: u64 = 1 << 40;

#[test]
fn a_doorbell_in_bar0() {
    assert_eq!(
        check(32, 4, 0x10, 3, &dev(0xff, 0, 0)),
        Ok(Request {
            bar: 0,
            pos: 0x10,
            count: 4,
            fd: 3
        })
    );
}

#[test]
fn refusals() {
    let d = dev(2, 0x800, 0x100);
    let einval = Err(Errno::EINVAL);
    // argsz, unknown flags, no size, two sizes, fd < -1.
    assert_eq!(check(27, 4, 0, 3, &d), einval);
    assert_eq!(check(32, 0x14, 0, 3, &d), einval);
    assert_eq!(check(32, 0, 0, 3, &d), einval);
    assert_eq!(check(32, 6, 0, 3, &d), einval);
    assert_eq!(check(32, 4, 0, -2, &d), einval);
    // The config region, a BAR that does not exist, past the BAR's end.
    assert_eq!(check(32, 4, 7 * BAR, 3, &d), einval);
    assert_eq!(check(32, 4, BAR, 3, &d), einval);
    assert_eq!(check(32, 8, 0x3ffc, 3, &d), einval);
    // Touching the MSI-X table, from either side.
    assert_eq!(check(32, 4, 2 * BAR + 0x7fe, 3, &d), einval);
    assert_eq!(check(32, 8, 2 * BAR + 0x8f8 + 4, 3, &d), einval);
    // Just clear of it, and misaligned: fine.
    assert!(check(32, 4, 2 * BAR + 0x7fc, 3, &d).is_ok());
    assert!(check(32, 8, 2 * BAR + 0x900, 3, &d).is_ok());
    assert!(check(32, 8, 0x3, -1, &d).is_ok());
}

proptest! {
    #[test]
    fn matches_upstream(
        argsz in prop::sample::select(vec![0u32, 27, 28, 32, 64]),
        flags in prop_oneof![0u32..0x20, any::<u32>()],
        bar in prop_oneof![0u64..8, Just(1 << 23), Just((1 << 24) - 1)],
        pos in prop_oneof![0u64..0x4010, Just((1 << 40) - 1)],
        fd in -3i32..4,
        msix_bar in prop::sample::select(vec![0u8, 2, 4, 0xff]),
        msix_offset in prop_oneof![0u32..0x4000, Just(u32::MAX - 8)],
        msix_size in prop_oneof![0u16..0x200, Just(u16::MAX)],
    ) {
        let offset = (bar << 40) | pos;
        prop_assert_eq!(
            ours(argsz, flags, offset, fd, msix_bar, msix_offset, msix_size),
            model(argsz, flags, offset, fd, msix_bar, msix_offset, msix_size)
        );
    }
}
