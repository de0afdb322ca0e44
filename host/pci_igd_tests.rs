// SPDX-License-Identifier: GPL-2.0

//! `igd` (`drivers/vfio/pci/igd.rs`) against upstream's `vfio_pci_igd.c`, transcribed with its
//! buffers and C's integer types: the OpRegion checks, the OpRegion region's bytes for every
//! read, and the config reads of the bridge regions.

use crate::errno::Errno;
use crate::pci_igd::{
    cfg_read_steps, check_asls, opregion_layout, opregion_read, OpRegionLayout, Source,
    OPREGION_SIZE, RVDA, RVDS, SIGNATURE, VERSION,
};
use proptest::prelude::*;

/// An OpRegion header: signature, size in KiB, version, RVDA and RVDS; the rest a pattern.
fn opregion(size_kb: u32, version: u16, rvda: u64, rvds: u32) -> Vec<u8> {
    let mut b: Vec<u8> = (0..OPREGION_SIZE as usize)
        .map(|i| (i * 7 + 3) as u8)
        .collect();
    b[..16].copy_from_slice(SIGNATURE);
    b[16..20].copy_from_slice(&size_kb.to_le_bytes());
    b[VERSION as usize..VERSION as usize + 2].copy_from_slice(&version.to_le_bytes());
    b[RVDA as usize..RVDA as usize + 8].copy_from_slice(&rvda.to_le_bytes());
    b[RVDS as usize..RVDS as usize + 4].copy_from_slice(&rvds.to_le_bytes());
    b
}

/// `vfio_pci_igd_opregion_init`'s arithmetic with C's `u32 addr, size`.
fn model_layout(b: &[u8], addr: u32) -> Result<OpRegionLayout, Errno> {
    if b[..16] != SIGNATURE[..] {
        return Err(Errno::EINVAL);
    }
    let mut size = u32::from_le_bytes(b[16..20].try_into().unwrap());
    if size == 0 {
        return Err(Errno::EINVAL);
    }
    size = size.wrapping_mul(1024);
    let mut addr = addr;
    let mut vbt = None;
    let version = u16::from_le_bytes([b[0x16], b[0x17]]);
    if version >= 0x0200 {
        let rvda = u64::from_le_bytes(b[0x3ba..0x3c2].try_into().unwrap());
        let rvds = u32::from_le_bytes(b[0x3c2..0x3c6].try_into().unwrap());
        if rvda != 0 && rvds != 0 {
            size = size.wrapping_add(rvds);
            if version == 0x0200 {
                addr = rvda as u32;
            } else {
                addr = (u64::from(addr) + rvda) as u32;
            }
            vbt = Some((u64::from(addr), rvds));
        }
    }
    Ok(OpRegionLayout {
        size: u64::from(size),
        vbt,
        asls: addr,
    })
}

/// `vfio_pci_igd_rw` with its five copies; a missing VBT read as a fault.
fn model_read(
    op: &[u8],
    vbt: Option<&[u8]>,
    size: u64,
    pos: u64,
    count: usize,
) -> Result<Vec<u8>, Errno> {
    if pos >= size {
        return Err(Errno::EINVAL);
    }
    let count = count.min((size - pos) as usize);
    let mut out = Vec::new();
    let (mut pos, mut remaining) = (pos as usize, count);
    let (ver, rvda_at, opsz) = (VERSION as usize, RVDA as usize, OPREGION_SIZE as usize);
    if remaining > 0 && pos < ver {
        let n = remaining.min(ver - pos);
        out.extend_from_slice(&op[pos..pos + n]);
        pos += n;
        remaining -= n;
    }
    if remaining > 0 && pos < ver + 2 {
        let n = remaining.min(ver + 2 - pos);
        let mut version = u16::from_le_bytes([op[ver], op[ver + 1]]);
        if version == 0x0200 && vbt.is_some() {
            version = 0x0201;
        }
        out.extend_from_slice(&version.to_le_bytes()[pos - ver..pos - ver + n]);
        pos += n;
        remaining -= n;
    }
    if remaining > 0 && pos < rvda_at {
        let n = remaining.min(rvda_at - pos);
        out.extend_from_slice(&op[pos..pos + n]);
        pos += n;
        remaining -= n;
    }
    if remaining > 0 && pos < rvda_at + 8 {
        let n = remaining.min(rvda_at + 8 - pos);
        let rvda: u64 = if vbt.is_some() { OPREGION_SIZE } else { 0 };
        out.extend_from_slice(&rvda.to_le_bytes()[pos - rvda_at..pos - rvda_at + n]);
        pos += n;
        remaining -= n;
    }
    if remaining > 0 && pos < opsz {
        let n = remaining.min(opsz - pos);
        out.extend_from_slice(&op[pos..pos + n]);
        pos += n;
        remaining -= n;
    }
    if remaining > 0 {
        let v = vbt.ok_or(Errno::EFAULT)?;
        out.extend_from_slice(
            v.get(pos - opsz..pos - opsz + remaining)
                .ok_or(Errno::EFAULT)?,
        );
    }
    Ok(out)
}

/// The pieces of `opregion_read` applied to the same buffers.
fn read(
    op: &[u8],
    vbt: Option<&[u8]>,
    size: u64,
    pos: u64,
    count: usize,
) -> Result<Vec<u8>, Errno> {
    let version = u16::from_le_bytes([op[0x16], op[0x17]]);
    let (pieces, n) = opregion_read(size, pos, count, false, version, vbt.is_some())?;
    let mut out = Vec::new();
    for p in pieces.iter().flatten() {
        match p.src {
            Source::OpRegion(off) => out.extend_from_slice(&op[off as usize..off as usize + p.len]),
            Source::Patched(bytes, from) => out.extend_from_slice(&bytes[from..from + p.len]),
            Source::Vbt(off) => {
                let v = vbt.ok_or(Errno::EFAULT)?;
                out.extend_from_slice(
                    v.get(off as usize..off as usize + p.len)
                        .ok_or(Errno::EFAULT)?,
                );
            }
        }
    }
    assert_eq!(out.len(), n);
    Ok(out)
}

/// `vfio_pci_igd_cfg_rw`'s loops: the (offset, width) reads.
fn model_cfg(size: u64, pos: u64, count: usize) -> Result<Vec<(u32, usize)>, Errno> {
    if pos >= size {
        return Err(Errno::EINVAL);
    }
    let mut size_left = count.min((size - pos) as usize);
    let mut pos = pos as u32;
    let mut v = Vec::new();
    if pos & 1 != 0 && size_left > 0 {
        v.push((pos, 1));
        pos += 1;
        size_left -= 1;
    }
    if pos & 3 != 0 && size_left > 2 {
        v.push((pos, 2));
        pos += 2;
        size_left -= 2;
    }
    while size_left > 3 {
        v.push((pos, 4));
        pos += 4;
        size_left -= 4;
    }
    while size_left >= 2 {
        v.push((pos, 2));
        pos += 2;
        size_left -= 2;
    }
    while size_left > 0 {
        v.push((pos, 1));
        pos += 1;
        size_left -= 1;
    }
    Ok(v)
}

#[test]
fn asls_none_is_enodev() {
    assert_eq!(check_asls(0), Err(Errno::ENODEV));
    assert_eq!(check_asls(!0), Err(Errno::ENODEV));
    assert_eq!(check_asls(0xdead_0000), Ok(()));
}

#[test]
fn layout_checks_and_vbt_location() {
    let addr = 0x7f00_0000;
    let mut bad = opregion(8, 0x0200, 0, 0);
    bad[3] ^= 1;
    assert_eq!(opregion_layout(&bad, addr), Err(Errno::EINVAL));
    assert_eq!(
        opregion_layout(&opregion(0, 0x0200, 0, 0), addr),
        Err(Errno::EINVAL)
    );
    // 1.x and 2.x without RVDA/RVDS: the OpRegion alone.
    let plain = OpRegionLayout {
        size: 8192,
        vbt: None,
        asls: addr,
    };
    assert_eq!(
        opregion_layout(&opregion(8, 0x0100, 0x1000, 0x2000), addr),
        Ok(plain)
    );
    assert_eq!(
        opregion_layout(&opregion(8, 0x0201, 0x1000, 0), addr),
        Ok(plain)
    );
    // 2.0: RVDA absolute; 2.1+: relative to the OpRegion.
    let abs = opregion_layout(&opregion(8, 0x0200, 0x8000_0000, 0x1800), addr).unwrap();
    assert_eq!(
        abs,
        OpRegionLayout {
            size: 8192 + 0x1800,
            vbt: Some((0x8000_0000, 0x1800)),
            asls: 0x8000_0000
        }
    );
    let rel = opregion_layout(&opregion(8, 0x0201, 0x2000, 0x1800), addr).unwrap();
    assert_eq!(rel.vbt, Some((u64::from(addr) + 0x2000, 0x1800)));
    // Shorter than the OpRegion: not one.
    assert_eq!(
        opregion_layout(&opregion(8, 0x0200, 0, 0)[..100], addr),
        Err(Errno::EINVAL)
    );
}

#[test]
fn reads_patch_version_and_rvda() {
    let op = opregion(8, 0x0200, 0x8000_0000, 16);
    let vbt: Vec<u8> = (0..16).map(|i| 0xa0 + i).collect();
    // The version word reads 2.1 with the VBT, 2.0 without it.
    assert_eq!(
        read(&op, Some(&vbt), 8192 + 16, VERSION, 2,).unwrap(),
        vec![0x01, 0x02]
    );
    assert_eq!(read(&op, None, 8192, VERSION, 2).unwrap(), vec![0x00, 0x02]);
    // RVDA reads the VBT's offset in the region.
    assert_eq!(
        read(&op, Some(&vbt), 8192 + 16, RVDA, 8).unwrap(),
        8192u64.to_le_bytes()
    );
    assert_eq!(read(&op, None, 8192, RVDA, 8).unwrap(), [0; 8]);
    // RVDS is not patched; the VBT follows the OpRegion.
    assert_eq!(
        read(&op, Some(&vbt), 8192 + 16, RVDS, 4).unwrap(),
        16u32.to_le_bytes()
    );
    assert_eq!(
        read(&op, Some(&vbt), 8192 + 16, 8190, 100).unwrap()[2..],
        vbt[..]
    );
    // At or past the end, and writes.
    assert_eq!(read(&op, None, 8192, 8192, 4), Err(Errno::EINVAL));
    assert_eq!(
        opregion_read(8192, 0, 4, true, 0x0200, false),
        Err(Errno::EINVAL)
    );
}

proptest! {
    #[test]
    fn layout_agrees_with_upstream(
        size_kb in prop_oneof![Just(0u32), 1u32..16, Just(0x40_0000), any::<u32>()],
        version in prop_oneof![Just(0x0100u16), Just(0x0200), Just(0x0201), Just(0x0300), any::<u16>()],
        rvda in prop_oneof![Just(0u64), 1u64..0x10000, any::<u64>()],
        rvds in prop_oneof![Just(0u32), 1u32..0x10000, any::<u32>()],
        addr in any::<u32>(),
    ) {
        let op = opregion(size_kb, version, rvda, rvds);
        prop_assert_eq!(opregion_layout(&op, addr), model_layout(&op, addr));
    }

    #[test]
    fn reads_agree_with_upstream(
        version in prop_oneof![Just(0x0100u16), Just(0x0200), Just(0x0201), any::<u16>()],
        vbt_len in prop_oneof![Just(0usize), 1usize..64],
        short in any::<bool>(),
        pos in prop_oneof![0u64..32, 0x3b0u64..0x3d0, 8150u64..8300],
        count in prop_oneof![1usize..24, 0usize..9000],
    ) {
        let op = opregion(8, version, 0, 0);
        let vbt: Vec<u8> = (0..vbt_len).map(|i| (i as u8) ^ 0x5a).collect();
        let vbt = (vbt_len > 0).then_some(&vbt[..]);
        // A header size below the OpRegion's (1 KiB) as well as the whole.
        let size = if short { 1024 } else { OPREGION_SIZE + vbt_len as u64 };
        prop_assert_eq!(read(&op, vbt, size, pos, count), model_read(&op, vbt, size, pos, count));
    }
}

#[test]
fn cfg_reads_agree_with_upstream_everywhere() {
    for size in [256u64, 4096] {
        for pos in 0..270u64 {
            for count in 0..40usize {
                let ours = cfg_read_steps(size, pos, count, false)
                    .map(|(steps, n)| (steps.collect::<Vec<_>>(), n));
                let model = model_cfg(size, pos, count);
                match (ours, model) {
                    (Ok((steps, n)), Ok(m)) => {
                        assert_eq!(steps, m, "size {size} pos {pos} count {count}");
                        assert_eq!(n, m.iter().map(|s| s.1).sum::<usize>());
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("size {size} pos {pos} count {count}: {a:?} vs {b:?}"),
                }
            }
        }
    }
    assert_eq!(
        cfg_read_steps(256, 0, 4, true).map(|(_, n)| n),
        Err(Errno::EINVAL)
    );
}
