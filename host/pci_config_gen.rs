// SPDX-License-Identifier: GPL-2.0

//! Generators for the config-space property tests: devices of realistic shape (a header, a
//! random standard chain and, with 4 KiB config space, a random extended chain, of every
//! kind upstream knows or hides, with random contents; sometimes bogus) and the steps run
//! on them.

use proptest::prelude::*;

use crate::pci_config::{DeviceInfo, Resource};

/// A standard capability to place: ID and a length for placement.
fn std_kinds() -> impl Strategy<Value = (u8, u16)> {
    prop_oneof![
        Just((1u8, 0u16)),
        (0u16..4).prop_map(|f| (5u8, (f & 1) << 7 | (f & 2) << 7 | 0x06)),
        Just((0x11, 0)),
        Just((3, 0)),
        (0u16..2).prop_map(|v| (7u8, v << 12)),
        Just((0x10, 0)),
        Just((0x13, 0)),
        (2u16..40).prop_map(|l| (9u8, l)),
        (0u16..2).prop_map(|s| (8u8, s)),
        (0u16..2).prop_map(|s| (0x12u8, s)),
        Just((2, 0)),
        prop_oneof![
            Just(4u8),
            Just(0),
            Just(0x0a),
            Just(0x14),
            Just(0x20),
            Just(0xfe)
        ]
        .prop_map(|id| (id, 0)),
    ]
}

/// An extended capability to place: ID and a parameter.
fn ext_kinds() -> impl Strategy<Value = (u16, u32)> {
    prop_oneof![
        Just((1u16, 0u32)),
        (0u32..0x10000).prop_map(|p| (2u16, p)),
        Just((3, 0)),
        Just((4, 0)),
        (2u32..64).prop_map(|l| (0x0b, l)),
        (0u32..0x200).prop_map(|p| (0x0d, p)),
        Just((0x0e, 0)),
        Just((0x0f, 0)),
        Just((0x10, 0)),
        (0u32..8).prop_map(|n| (0x15, n)),
        (0u32..32).prop_map(|n| (0x16, n)),
        (0u32..0x40).prop_map(|p| (0x17, p)),
        Just((0x18, 0)),
        (8u32..64).prop_map(|l| (0x23, l)),
        prop_oneof![
            Just(0x1bu16),
            Just(0),
            Just(5),
            Just(0x40),
            Just(0x1ff),
            Just(0x134)
        ]
        .prop_map(|id| (id, 0)),
    ]
}

/// Room to leave for a capability.
fn std_room(id: u8, p: u16) -> usize {
    match id {
        5 => 24,
        7 => 24,
        9 => p as usize,
        0x10 => 0x34,
        8 => 28,
        0x12 => 16,
        _ => 12,
    }
}

fn ext_room(id: u16, p: u32) -> usize {
    match id {
        1 => 0x2c,
        2 => 0x80,
        0x0b | 0x23 => p as usize,
        0x0d => 48,
        0x10 => 0x40,
        0x15 => 0x44,
        0x16 => 0x30,
        0x17 => 0x90,
        _ => 16,
    }
}

/// A generated device.
#[derive(Clone)]
pub struct Dev {
    pub bytes: Vec<u8>,
    pub info: DeviceInfo,
    /// Where capabilities were placed, for targeted accesses.
    pub caps: Vec<usize>,
    /// A dword a variant driver made virtual-only (igd's OpRegion address).
    pub virt_only: Option<usize>,
}

/// Only the non-zero config bytes, so a failure stays readable.
impl core::fmt::Debug for Dev {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let nz: Vec<(usize, u8)> = (0..self.bytes.len())
            .filter(|&i| self.bytes[i] != 0)
            .map(|i| (i, self.bytes[i]))
            .collect();
        f.debug_struct("Dev")
            .field("nonzero", &format_args!("{:x?}", nz))
            .field("info", &self.info)
            .field("caps", &format_args!("{:x?}", self.caps))
            .field("virt_only", &self.virt_only)
            .finish()
    }
}

prop_compose! {
    fn resource()(kind in 0u8..4, start in prop::bool::weighted(0.8), shift in 2u32..34)
        -> Resource
    {
        let flags = [0x100u64, 0x200, 0x0010_2200, 0x0010_0200][kind as usize];
        let shift = if kind == 0 { shift.min(8) } else { shift.max(4) };
        Resource { start: if start { 0xc000 } else { 0 }, len: 1 << shift, flags }
    }
}

prop_compose! {
    pub fn device()(
        big in prop::bool::weighted(0.7),
        header in prop::collection::vec(any::<u8>(), 64),
        body in prop::collection::vec(any::<u8>(), 4096),
        caps in prop::collection::vec((std_kinds(), 0usize..3), 0..7),
        want_exp in prop::bool::weighted(0.8),
        bad_end in prop_oneof![18 => Just(0u8), 1 => Just(1), 1 => Just(2)],
        virt_only in prop::option::weighted(0.1, (0x10usize..0x40).prop_map(|d| d * 4)),
        ecaps in prop::collection::vec((ext_kinds(), 0usize..3), 0..7),
        cap_list in prop::bool::weighted(0.9),
        chaos in prop::collection::vec((any::<usize>(), 0usize..4, any::<u8>()), 1..4),
        chaotic in prop::bool::weighted(0.2),
        exp_flags in prop_oneof![Just(2u16), Just(1), Just(0x92), Just(0x91), Just(0)],
        bars in prop::collection::vec(resource(), 6),
        rom in resource(),
        shadow in prop_oneof![Just(0u64), 1u64..0x20000],
        flags in any::<[bool; 5]>(),
        irq in prop_oneof![Just(0u32), Just(11), Just(1 << 31)],
    ) -> Dev {
        let mut b = body;
        b[..64].copy_from_slice(&header);
        let cfg_size = if big { 4096 } else { 256 };
        let st = u16::from_le_bytes([b[6], b[7]]) & !0x10 | if cap_list { 0x10 } else { 0 };
        b[6..8].copy_from_slice(&st.to_le_bytes());
        let mut caps = caps;
        if big && want_exp && !caps.iter().any(|c| (c.0).0 == 0x10) {
            caps.insert(0, ((0x10, 0), 0));
        }
        let mut placed = Vec::new();
        // Standard chain, placed in order from 0x40.
        let mut pos = 0x40usize;
        let mut link = 0x34usize;
        for ((id, p), gap) in caps {
            let at = pos + 4 * gap;
            let room = (std_room(id, p) + 3) & !3;
            if at + room > 0x100 {
                break;
            }
            b[link] = at as u8;
            placed.push(at);
            b[at] = id;
            b[at + 1] = 0;
            match id {
                5 => b[at + 2..at + 4].copy_from_slice(&p.to_le_bytes()),
                7 => b[at + 2..at + 4].copy_from_slice(&p.to_le_bytes()),
                9 => b[at + 2] = p as u8,
                0x10 => b[at + 2..at + 4].copy_from_slice(&exp_flags.to_le_bytes()),
                8 => b[at + 3] = if p == 1 { 0x20 } else { 0 },
                0x12 => b[at + 4] = if p == 1 { 0x0f } else { 0x01 },
                _ => {}
            }
            link = at + 1;
            pos = at + room;
        }
        b[link] = 0;
        // Extended chain from 0x100.
        let mut pos = 0x100usize;
        let mut prev: Option<usize> = None;
        if big {
            for ((id, p), gap) in ecaps {
                let at = if prev.is_none() { 0x100 } else { pos + 4 * gap };
                let room = (ext_room(id, p) + 3) & !3;
                if at + room > 0x1000 {
                    break;
                }
                if let Some(pp) = prev {
                    let h = u32::from_le_bytes(b[pp..pp + 4].try_into().unwrap());
                    let h = h & 0x000f_ffff | (at as u32) << 20;
                    b[pp..pp + 4].copy_from_slice(&h.to_le_bytes());
                }
                placed.push(at);
                let h = id as u32 | 1 << 16;
                b[at..at + 4].copy_from_slice(&h.to_le_bytes());
                match id {
                    2 => {
                        b[at + 4] = p as u8 & 7;
                        b[at + 8] = (p >> 8) as u8 & 0x0e;
                    }
                    0x0b | 0x23 => {
                        let v = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap());
                        let v = v & 0x000f_ffff | p << 20;
                        b[at + 4..at + 8].copy_from_slice(&v.to_le_bytes());
                    }
                    0x0d => {
                        b[at + 4] = if p & 0x100 != 0 { 0x20 } else { 0 };
                        b[at + 5] = p as u8;
                    }
                    0x15 => b[at + 8] = (p as u8) << 5,
                    0x16 => b[at + 4] = p as u8,
                    0x17 => {
                        let v = (p & 3) << 9 | (p >> 2) << 16;
                        b[at + 4..at + 8].copy_from_slice(&v.to_le_bytes());
                    }
                    _ => {}
                }
                prev = Some(at);
                pos = at + room;
            }
            if prev.is_none() {
                b[0x100..0x104].fill(0);
            }
        }
        // An MSI capability at an odd pointer (its flags read is misaligned), or an extended
        // capability running past 4 KiB.
        if bad_end == 1 {
            b[0xf1] = 5;
            b[0xf2] = b[0x34];
            b[0x34] = 0xf1;
        }
        if bad_end == 2 && big {
            if let Some(pp) = prev {
                let h = u32::from_le_bytes(b[pp..pp + 4].try_into().unwrap());
                let h = h & 0x000f_ffff | 0xffc << 20;
                b[pp..pp + 4].copy_from_slice(&h.to_le_bytes());
                b[0xffc..0x1000].copy_from_slice(&0x0001_0010u32.to_le_bytes());
            }
        }
        // Bogus devices: pointers and headers overwritten (odd, looping, into the header).
        if chaotic {
            for (k, off, v) in chaos {
                let at = if placed.is_empty() || k % 5 == 0 {
                    0x34
                } else {
                    placed[k % placed.len()] + off
                };
                b[at] = v;
            }
        }
        placed.insert(0, 0);
        let mut bars_a = [Resource::default(); 6];
        bars_a.copy_from_slice(&bars);
        let info = DeviceInfo {
            cfg_size,
            vendor: 0x8086,
            device: if flags[4] { 0x270c } else { 0x10ca },
            is_virtfn: flags[0],
            no_command_memory: flags[1],
            nointx: flags[2],
            config_intx: flags[3] || irq != 11,
            irq,
            pcie_flags_reg: exp_flags,
            bars: bars_a,
            rom,
            shadow_rom_len: shadow,
        };
        Dev { bytes: b, info, caps: placed, virt_only }
    }
}

/// One step of a test.
#[derive(Clone, Debug)]
pub enum Op {
    /// An access at offset .1 of the .0th capability placed (modulo their number).
    Cap(usize, usize, Vec<u8>, bool),
    Read(u64, usize),
    Write(u64, Vec<u8>),
    Msi(bool, u8),
    Mps(u32),
    FailRead(Option<usize>),
    FailWrite(Option<usize>),
    FailVpd(bool),
    /// The device changes its own registers (a reset the kernel did not see).
    Backdoor(usize, u8),
}

fn position() -> impl Strategy<Value = u64> {
    prop_oneof![
        5 => 0u64..0x100,
        3 => 0x100u64..0x300,
        1 => 0u64..0x1008,
        1 => (0u64..0x100).prop_map(|p| p | 3 << 40),
    ]
}

fn fail_at() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..0x40, 0x40usize..0x100, 0usize..0x300]
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (any::<usize>(), prop_oneof![3 => 0usize..8, 1 => 0usize..0x34], prop::collection::vec(any::<u8>(), 1..5), any::<bool>())
            .prop_map(|(k, o, v, w)| Op::Cap(k, o, v, w)),
        8 => (position(), 1usize..9).prop_map(|(p, n)| Op::Read(p, n)),
        8 => (position(), prop::collection::vec(any::<u8>(), 1..9)).prop_map(|(p, v)| Op::Write(p, v)),
        1 => (any::<bool>(), 0u8..6).prop_map(|(e, q)| Op::Msi(e, q)),
        1 => prop_oneof![Just(128u32), Just(256), Just(4096)].prop_map(Op::Mps),
        1 => prop_oneof![Just(None), fail_at().prop_map(Some)].prop_map(Op::FailRead),
        1 => prop_oneof![Just(None), fail_at().prop_map(Some)].prop_map(Op::FailWrite),
        1 => any::<bool>().prop_map(Op::FailVpd),
        1 => (prop_oneof![4usize..6, 0x10usize..0x28, 0usize..0x300], any::<u8>())
            .prop_map(|(p, v)| Op::Backdoor(p, v)),
    ]
}
