// SPDX-License-Identifier: GPL-2.0

//! Capability chains of `VFIO_*_GET_INFO` replies, as pure logic over a byte buffer.
//!
//! A chain is a sequence of 8-byte aligned entries, each starting with
//! `struct vfio_info_cap_header { u16 id; u16 version; u32 next; }`, where `next` is the offset
//! of the following entry (0 ends the chain). While built, offsets are from the buffer start;
//! [`shift`] rebases them to where the buffer lands in the user's reply. Kernel-independent: the
//! host build runs this file's unit tests.

use crate::errno::Errno;

/// Size of `struct vfio_info_cap_header`.
pub(crate) const HEADER_SIZE: usize = 8;

/// Offset of `next` in the header.
const NEXT: usize = 4;

/// Entry sizes are rounded up to this, so every entry stays aligned.
pub(crate) const ALIGN: usize = 8;

/// Rounds an entry size up to [`ALIGN`]; `ENOMEM` on overflow (no buffer could hold it).
pub(crate) fn aligned_size(size: usize) -> Result<usize, Errno> {
    size.checked_add(ALIGN - 1)
        .map(|s| s & !(ALIGN - 1))
        .ok_or(Errno::ENOMEM)
}

fn read_next(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at + NEXT..at + NEXT + 4)?;
    Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn write_next(buf: &mut [u8], at: usize, next: u32) {
    if let Some(bytes) = buf.get_mut(at + NEXT..at + NEXT + 4) {
        bytes.copy_from_slice(&next.to_ne_bytes());
    }
}

/// Initialises the entry at `old_len..` of a buffer just grown from `old_len` bytes (zeroed, with
/// `id` and `version`) and links it at the end of the chain that starts at offset 0.
///
/// Mirrors upstream's `vfio_info_cap_add` after its `krealloc`. `EINVAL` (and nothing changed)
/// if the new entry has no room for a header or an offset does not fit in 32 bits.
pub(crate) fn append(buf: &mut [u8], old_len: usize, id: u16, version: u16) -> Result<(), Errno> {
    let new_offset = u32::try_from(old_len).map_err(|_| Errno::EINVAL)?;
    if buf.len() < old_len + HEADER_SIZE {
        return Err(Errno::EINVAL);
    }
    buf[old_len..].fill(0);
    buf[old_len..old_len + 2].copy_from_slice(&id.to_ne_bytes());
    buf[old_len + 2..old_len + 4].copy_from_slice(&version.to_ne_bytes());
    // Walk to the last entry; offsets only grow, so a non-increasing one ends the walk.
    let mut at = 0;
    while let Some(next) = read_next(buf, at) {
        let next = next as usize;
        if next == 0 || next <= at || next >= old_len {
            break;
        }
        at = next;
    }
    // For the first entry `at == old_len == 0`: it links to itself with 0, ending the chain.
    write_next(buf, at, new_offset);
    Ok(())
}

/// Adds `offset` to every `next` link, for a chain copied `offset` bytes into a reply.
///
/// Mirrors upstream's `vfio_info_cap_shift`; the caller warns if `offset` is not aligned.
pub(crate) fn shift(buf: &mut [u8], offset: u32) {
    let mut at = 0;
    while let Some(next) = read_next(buf, at) {
        let next_at = next as usize;
        if next == 0 || next_at <= at || next_at >= buf.len() {
            break;
        }
        write_next(buf, at, next.wrapping_add(offset));
        at = next_at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grow(buf: &mut Vec<u8>, size: usize, id: u16, version: u16) -> usize {
        let old = buf.len();
        buf.resize(old + aligned_size(size).unwrap(), 0xAA);
        append(buf, old, id, version).unwrap();
        old
    }

    fn links(buf: &[u8]) -> Vec<u32> {
        let mut out = vec![];
        let mut at = 0;
        loop {
            let next = read_next(buf, at).unwrap();
            out.push(next);
            if next == 0 {
                return out;
            }
            at = next as usize;
        }
    }

    #[test]
    fn sizes_round_to_eight() {
        assert_eq!(aligned_size(0), Ok(0));
        assert_eq!(aligned_size(1), Ok(8));
        assert_eq!(aligned_size(8), Ok(8));
        assert_eq!(aligned_size(13), Ok(16));
        assert_eq!(aligned_size(usize::MAX), Err(Errno::ENOMEM));
    }

    #[test]
    fn chain_links_entries_in_order_and_zeroes_them() {
        let mut buf = Vec::new();
        assert_eq!(grow(&mut buf, 12, 1, 1), 0);
        assert_eq!(grow(&mut buf, 24, 2, 3), 16);
        assert_eq!(grow(&mut buf, 8, 3, 1), 40);
        assert_eq!(buf.len(), 48);
        assert_eq!(links(&buf), vec![16, 40, 0]);
        assert_eq!(&buf[16..20], &[2, 0, 3, 0]);
        assert!(buf[24..40].iter().all(|b| *b == 0));
    }

    #[test]
    fn shift_rebases_every_link() {
        let mut buf = Vec::new();
        grow(&mut buf, 8, 1, 1);
        grow(&mut buf, 16, 2, 1);
        grow(&mut buf, 8, 3, 1);
        shift(&mut buf, 64);
        assert_eq!(read_next(&buf, 0), Some(72));
        assert_eq!(read_next(&buf, 8), Some(88));
        assert_eq!(read_next(&buf, 24), Some(0));
    }

    #[test]
    fn single_entry_has_no_next() {
        let mut buf = Vec::new();
        grow(&mut buf, 8, 7, 1);
        shift(&mut buf, 32);
        assert_eq!(links(&buf), vec![0]);
    }

    #[test]
    fn refuses_entry_without_room() {
        let mut buf = vec![0u8; 4];
        assert_eq!(append(&mut buf, 0, 1, 1), Err(Errno::EINVAL));
    }
}
