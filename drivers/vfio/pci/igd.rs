// SPDX-License-Identifier: GPL-2.0

//! The kernel-independent rules of vfio-pci's Intel IGD support (`vfio_pci_igd.c`): which
//! OpRegion a display function exposes and how its read-only region is laid out, and how the
//! host and LPC bridge config regions cut a read into config accesses. The kernel side
//! (`igd_kernel.rs`) maps the memory and registers the regions.
//!
//! The OpRegion region is the 8 KiB OpRegion followed by the extended VBT, if any, as one
//! range, presented as OpRegion 2.1+ (VBT right after the OpRegion): version 2.0 with an
//! extended VBT reads as 2.1, and RVDA reads as the VBT's offset (8 KiB) or 0.

use crate::errno::Errno;

/// `OPREGION_SIGNATURE`: the first 16 bytes of an OpRegion.
pub(crate) const SIGNATURE: &[u8; 16] = b"IntelGraphicsMem";
/// `OPREGION_SIZE`: the OpRegion proper, mapped whole.
pub(crate) const OPREGION_SIZE: u64 = 8 * 1024;
/// `OPREGION_PCI_ADDR`: the config dword (ASLS) holding the OpRegion's physical address.
pub(crate) const OPREGION_PCI_ADDR: usize = 0xfc;
/// `OPREGION_VERSION`: the header's version word.
pub(crate) const VERSION: u64 = 0x16;
/// `OPREGION_RVDA`: the extended VBT's address (absolute in 2.0, relative in 2.1+), 8 bytes.
pub(crate) const RVDA: u64 = 0x3ba;
/// `OPREGION_RVDS`: the extended VBT's size, 4 bytes.
pub(crate) const RVDS: u64 = 0x3c2;
/// The header's size field (in KiB), 4 bytes after the signature.
const SIZE_KB: usize = 16;

/// Where a device's OpRegion region comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpRegionLayout {
    /// The region's size: the header's size in KiB, plus the extended VBT's.
    pub(crate) size: u64,
    /// The extended VBT's physical address and length, if RVDA and RVDS are set (2.0+).
    pub(crate) vbt: Option<(u64, u32)>,
    /// What the virtualized ASLS dword reads: upstream writes its `addr` variable, which is
    /// the VBT's address once an extended VBT was found.
    pub(crate) asls: u32,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | u64::from(le32(b, at + 4)) << 32
}

/// The ASLS value `addr` read from config space: `ENODEV` for none (0 or all ones).
pub(crate) fn check_asls(addr: u32) -> Result<(), Errno> {
    if addr == 0 || addr == !0 {
        return Err(Errno::ENODEV);
    }
    Ok(())
}

/// `vfio_pci_igd_opregion_init`'s checks of the OpRegion mapped at `addr` (`header`: its first
/// [`OPREGION_SIZE`] bytes): `EINVAL` without the signature or with a zero size.
pub(crate) fn opregion_layout(header: &[u8], addr: u32) -> Result<OpRegionLayout, Errno> {
    if header.len() < OPREGION_SIZE as usize || header[..16] != SIGNATURE[..] {
        return Err(Errno::EINVAL);
    }
    let size_kb = le32(header, SIZE_KB);
    if size_kb == 0 {
        return Err(Errno::EINVAL);
    }
    // In KiB, as a u32 (upstream multiplies the u32 in place).
    let mut size = u64::from(size_kb.wrapping_mul(1024));
    let (mut vbt, mut asls) = (None, addr);
    let version = le16(header, VERSION as usize);
    if version >= 0x0200 {
        let rvda = le64(header, RVDA as usize);
        let rvds = le32(header, RVDS as usize);
        // The extended VBT is valid only when RVDA and RVDS are non-zero.
        if rvda != 0 && rvds != 0 {
            // A u32 again: upstream adds to `size` and `addr` in 32 bits.
            size = u64::from((size as u32).wrapping_add(rvds));
            // Absolute in 2.0, relative to the OpRegion in 2.1+ (a 32-bit address either way).
            let at = if version == 0x0200 {
                rvda as u32
            } else {
                addr.wrapping_add(rvda as u32)
            };
            vbt = Some((u64::from(at), rvds));
            asls = at;
        }
    }
    Ok(OpRegionLayout { size, vbt, asls })
}

/// Where one piece of a region read comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The OpRegion, from this offset.
    OpRegion(u64),
    /// These bytes (a patched header field), from this index.
    Patched([u8; 8], usize),
    /// The extended VBT, from this offset.
    Vbt(u64),
}

/// One piece of a read: `len` bytes from `src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Where the bytes come from.
    pub(crate) src: Source,
    /// How many.
    pub(crate) len: usize,
}

/// The pieces `vfio_pci_igd_rw` copies for a read of `count` bytes at `pos` of a region of
/// `size` bytes (`EINVAL` for a write or a read at or past the end), with the OpRegion's
/// `version` word and whether there is an extended VBT. Returns the pieces and the bytes read.
pub(crate) fn opregion_read(
    size: u64,
    pos: u64,
    count: usize,
    iswrite: bool,
    version: u16,
    has_vbt: bool,
) -> Result<([Option<Piece>; 6], usize), Errno> {
    if pos >= size || iswrite {
        return Err(Errno::EINVAL);
    }
    let count = usize::try_from((size - pos).min(count as u64)).map_err(|_| Errno::EINVAL)?;
    let mut pieces = [None; 6];
    let (mut pos, mut remaining, mut n) = (pos, count, 0);
    let mut take = |end: u64, src: &dyn Fn(u64) -> Source, pos: &mut u64, remaining: &mut usize| {
        if *remaining > 0 && *pos < end {
            // CAST: At most `remaining`, a usize.
            let len = (*remaining as u64).min(end - *pos) as usize;
            pieces[n] = Some(Piece {
                src: src(*pos),
                len,
            });
            n += 1;
            *pos += len as u64;
            *remaining -= len;
        }
    };
    // Up to the version, the version (2.0 with an extended VBT reads as 2.1), up to RVDA,
    // RVDA (the VBT right after the OpRegion, or none), the rest of the OpRegion.
    let version = if version == 0x0200 && has_vbt {
        0x0201
    } else {
        version
    };
    let mut version_bytes = [0; 8];
    version_bytes[..2].copy_from_slice(&version.to_le_bytes());
    let rvda = if has_vbt { OPREGION_SIZE } else { 0 };
    take(VERSION, &Source::OpRegion, &mut pos, &mut remaining);
    take(
        VERSION + 2,
        &|p| Source::Patched(version_bytes, (p - VERSION) as usize),
        &mut pos,
        &mut remaining,
    );
    take(RVDA, &Source::OpRegion, &mut pos, &mut remaining);
    take(
        RVDA + 8,
        &|p| Source::Patched(rvda.to_le_bytes(), (p - RVDA) as usize),
        &mut pos,
        &mut remaining,
    );
    take(OPREGION_SIZE, &Source::OpRegion, &mut pos, &mut remaining);
    // The rest is the extended VBT's.
    take(
        u64::MAX,
        &|p| Source::Vbt(p - OPREGION_SIZE),
        &mut pos,
        &mut remaining,
    );
    Ok((pieces, count))
}

/// `vfio_pci_igd_cfg_rw`: the config reads (offset, width) that serve a read of `count` bytes
/// at `pos` of a bridge's config space of `size` bytes: an odd first byte alone, a word to
/// reach a dword boundary, dwords, then a word and a byte. `EINVAL` for a write or a read at
/// or past the end. Returns the reads and the bytes read.
pub(crate) fn cfg_read_steps(
    size: u64,
    pos: u64,
    count: usize,
    iswrite: bool,
) -> Result<(CfgSteps, usize), Errno> {
    if pos >= size || iswrite {
        return Err(Errno::EINVAL);
    }
    // CAST: Config space is at most 4 KiB.
    let count = (size - pos).min(count as u64) as usize;
    Ok((
        CfgSteps {
            pos: pos as u32,
            size: count,
            first: true,
        },
        count,
    ))
}

/// The reads of [`cfg_read_steps`], in order: `(offset, width)`.
#[derive(Clone, Debug)]
pub(crate) struct CfgSteps {
    pos: u32,
    size: usize,
    first: bool,
}

impl Iterator for CfgSteps {
    type Item = (u32, usize);

    fn next(&mut self) -> Option<(u32, usize)> {
        let width = if self.first && self.pos & 1 != 0 && self.size > 0 {
            1
        } else if self.first && self.pos & 3 != 0 && self.size > 2 {
            self.first = false;
            2
        } else {
            self.first = false;
            match self.size {
                0 => return None,
                1 => 1,
                2 | 3 => 2,
                _ => 4,
            }
        };
        let step = (self.pos, width);
        // CAST: At most 4.
        self.pos += width as u32;
        self.size -= width;
        Some(step)
    }
}
