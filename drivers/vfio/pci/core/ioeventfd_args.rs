// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_IOEVENTFD`'s argument checks, in upstream's order: `vfio_pci_ioctl_ioeventfd`
//! (`vfio_pci_core.c`: `argsz`, flags, one size bit, `fd`), then the start of
//! `vfio_pci_ioeventfd` (`vfio_pci_rdwr.c`: a BAR, inside it, clear of the MSI-X table). Pure,
//! so the host tests check it against a transcription of upstream's C.
//!
//! Upstream checks no alignment: an ioeventfd may write at any offset of its BAR.

use crate::errno::Errno;

/// `offsetofend(struct vfio_device_ioeventfd, fd)`.
pub(crate) const MINSZ: usize = 28;

/// `VFIO_PCI_IOEVENTFD_MAX`: ioeventfds per device (upstream's arbitrary cap).
pub(crate) const MAX: usize = 1000;

/// `VFIO_PCI_OFFSET_SHIFT`: a region's index is the offset's bits from here up.
const OFFSET_SHIFT: u32 = 40;

/// `VFIO_DEVICE_IOEVENTFD_SIZE_MASK`.
const SIZE_MASK: u32 = 0xf;

/// `VFIO_PCI_BAR5_REGION_INDEX`.
const BAR5: u64 = 5;

/// What the device tells the checks: each BAR's length (`pci_resource_len`) and the MSI-X
/// table's place (`msix_bar`, 0xff without MSI-X, `msix_offset`, `msix_size`).
pub(crate) struct DevLayout<F: Fn(usize) -> u64> {
    pub(crate) bar_len: F,
    pub(crate) msix_bar: u8,
    pub(crate) msix_offset: u32,
    pub(crate) msix_size: u16,
}

/// A request that passed the checks: the write of `count` bytes at `pos` of BAR `bar`, or its
/// removal (`fd` -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) bar: usize,
    pub(crate) pos: u64,
    pub(crate) count: u32,
    pub(crate) fd: i32,
}

/// Checks a `struct vfio_device_ioeventfd` (`argsz`, `flags`, `offset`, `fd`) against a
/// device's layout; every refusal is `EINVAL`, as upstream's.
pub(crate) fn check<F: Fn(usize) -> u64>(
    argsz: u32,
    flags: u32,
    offset: u64,
    fd: i32,
    dev: &DevLayout<F>,
) -> Result<Request, Errno> {
    if (argsz as usize) < MINSZ || flags & !SIZE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    // `hweight8(count) != 1`: exactly one size bit.
    let count = flags & SIZE_MASK;
    if count.count_ones() != 1 || fd < -1 {
        return Err(Errno::EINVAL);
    }
    // Only BARs.
    let index = offset >> OFFSET_SHIFT;
    if index > BAR5 {
        return Err(Errno::EINVAL);
    }
    // CAST: At most 5.
    let bar = index as usize;
    let pos = offset & ((1 << OFFSET_SHIFT) - 1);
    let end = pos + u64::from(count);
    if end > (dev.bar_len)(bar) {
        return Err(Errno::EINVAL);
    }
    // No ioeventfd writing the MSI-X table (C's `msix_offset + msix_size` is `unsigned int`).
    if bar == usize::from(dev.msix_bar) {
        let x_start = u64::from(dev.msix_offset);
        let x_end = u64::from(dev.msix_offset.wrapping_add(u32::from(dev.msix_size)));
        if !(end <= x_start || pos >= x_end) {
            return Err(Errno::EINVAL);
        }
    }
    Ok(Request {
        bar,
        pos,
        count,
        fd,
    })
}
