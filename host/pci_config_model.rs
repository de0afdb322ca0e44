// SPDX-License-Identifier: GPL-2.0

//! A model of vfio-pci's config virtualization, transcribed independently from upstream's
//! `vfio_pci_config.c` (Linux 7.3) in a different shape: the permission tables are a
//! per-byte `match` on (capability, offset), the merges are done byte by byte, the walk reads
//! the fake's memory directly. The property tests run the real code
//! (`drivers/vfio/pci/config/`) and the model side by side on random devices and random
//! access sequences, and compare everything observable: every read, every error, the
//! hardware, the log of kernel requests, `vconfig` and the capability map.

// The model reads like the C it transcribes (modulo tests, index loops).
#![allow(
    clippy::manual_is_multiple_of,
    clippy::manual_div_ceil,
    clippy::needless_range_loop,
    clippy::type_complexity
)]

use proptest::prelude::*;

use super::pci_config_devices::{edu, igb, nvme};
use super::pci_config_fake::{Ev, Fake};
use crate::errno::Errno;
use crate::pci_config::{DeviceInfo, Notice, PciConfig, PowerState, Resource};

const INVALID: u8 = 0xff;
const INVALID_VIRT: u8 = 0xfe;

/// How a region is read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rd {
    Default,
    Direct,
    Raw,
    Virt,
    Basic,
    Msi,
}

/// How a region is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wr {
    Drop,
    Default,
    Raw,
    Virt,
    Basic,
    Pm,
    Vpd,
    Exp,
    Af,
    Msi,
}

/// The model's state of one device.
pub struct Model {
    info: DeviceInfo,
    pub map: Vec<u8>,
    pub v: Vec<u8>,
    rbar: [u32; 7],
    bardirty: bool,
    ext: bool,
    /// The flags of the first MSI capability (`vdev->msi_perm`) and its length.
    msi: Option<(u16, usize)>,
    /// Hardware the handlers wrote on their own (MSI flags from `vconfig`, BAR restore),
    /// as (offset, length): exempt from the "only writable bits" check.
    pub side_writes: Vec<(usize, usize)>,
}

fn byte_of(v: u32, i: usize) -> u8 {
    (v >> (8 * i)) as u8
}

/// (virt, write) of byte `off` of standard capability `cap` (0: header); `msi` is the
/// device's MSI flags and length.
fn std_perm(cap: u8, off: usize, msi: Option<(u16, usize)>) -> (u8, u8) {
    match cap {
        0 => match off {
            0..=3 => (0xff, 0),
            4 => (0, 0xff),
            5 => (0x04, 0xff),
            6 => (0x10, 0),
            0x0c | 0x0d | 0x0f => (0, 0xff),
            0x10..=0x27 | 0x30..=0x33 => (0xff, 0xff),
            0x34 => (0xff, 0),
            0x3c => (0xff, 0xff),
            0x3d => (0xff, 0),
            _ => (0, 0),
        },
        1 => match off {
            1 => (0xff, 0),
            3 => (0xf8, 0),
            4 => (0, 0xfc),
            5 => (0x81, 0x7e),
            6 | 7 => (0, 0xff),
            _ => (0, 0),
        },
        3 => match off {
            1 => (0xff, 0),
            2..=7 => (0xff, 0xff),
            _ => (0, 0),
        },
        7 => match off {
            1 => (0xff, 0),
            2 | 3 | 8..=11 => (0, 0xff),
            _ => (0, 0),
        },
        0x10 => match off {
            1 => (0xff, 0),
            8 => (0xe0, 0xff),
            9 => (0xf0, 0xfd),
            0x28 => (0, 0xdf),
            0x29 => (0, 0xff),
            _ => (0, 0),
        },
        0x13 => match off {
            1 => (0xff, 0),
            4 => (1, 1),
            _ => (0, 0),
        },
        5 => {
            let Some((flags, len)) = msi else {
                return (0, 0);
            };
            if off >= (len + 3) / 4 * 4 {
                return (0, 0);
            }
            let b64 = flags & 0x80 != 0;
            let mask = flags & 0x100 != 0;
            match off {
                1 => (0xff, 0),
                2 => (0xff, 0xff),
                4..=7 => (0xff, 0xff),
                8..=13 if b64 => (0xff, 0xff),
                8 | 9 if !b64 => (0xff, 0xff),
                0x10..=0x17 if b64 && mask => (0, 0xff),
                0x0c..=0x13 if !b64 && mask => (0, 0xff),
                _ => (0, 0),
            }
        }
        _ => (0, 0),
    }
}

/// (virt, write) of byte `off` of extended capability `ecap`.
fn ext_perm(ecap: u8, off: usize) -> (u8, u8) {
    match ecap {
        1 => match off {
            0..=3 => (0xff, 0),
            4..=15 => (0, byte_of(0x03ff_f031, off % 4)),
            16..=23 => (0, byte_of(0x0000_f1c1, off % 4)),
            24..=27 => (0, byte_of(0x0000_0140, off % 4)),
            _ => (0, 0),
        },
        4 => match off {
            0..=3 => (0xff, 0),
            8 => (0, 0xff),
            _ => (0, 0),
        },
        _ => (0, 0),
    }
}

/// The functions of a region: upstream's `cap_perms`, `ecap_perms` and the special ones.
fn std_fns(cap: u8) -> (Rd, Wr) {
    match cap {
        0 => (Rd::Basic, Wr::Basic),
        1 => (Rd::Default, Wr::Pm),
        3 => (Rd::Default, Wr::Vpd),
        5 => (Rd::Msi, Wr::Msi),
        7 => (Rd::Default, Wr::Default),
        9 => (Rd::Direct, Wr::Raw),
        0x10 => (Rd::Default, Wr::Exp),
        0x13 => (Rd::Default, Wr::Af),
        _ => (Rd::Direct, Wr::Drop),
    }
}

fn ext_fns(ecap: u8) -> (Rd, Wr) {
    match ecap {
        1 | 4 => (Rd::Default, Wr::Default),
        0x0b | 0x23 => (Rd::Direct, Wr::Raw),
        _ => (Rd::Direct, Wr::Drop),
    }
}

/// Standard capability lengths, 0xff variable (upstream's `pci_cap_length`).
fn std_len(cap: u8) -> usize {
    match cap {
        1 => 8,
        2 => 12,
        3 => 8,
        5 | 7 | 8 | 9 | 0x10 | 0x12 => 0xff,
        0x11 => 12,
        0x13 => 6,
        _ => 0,
    }
}

/// Extended capability lengths (upstream's `pci_ext_cap_length`).
fn ext_len(ecap: u16) -> usize {
    match ecap {
        1 => 0x2c,
        3 => 12,
        4 => 0x10,
        0x0e | 0x0f | 0x18 => 8,
        0x10 => 0x40,
        0x12 => 40,
        0x13 => 16,
        2 | 8 | 9 | 0x0b | 0x0d | 0x15 | 0x16 | 0x17 | 0x23 => 0xff,
        _ => 0,
    }
}

fn hw(f: &Fake, pos: usize, n: usize) -> Result<u32, Errno> {
    if pos % n != 0 {
        return Err(Errno::EFAULT);
    }
    if pos + n > 4096 {
        return Err(Errno::EINVAL);
    }
    Ok(f.get(pos, n))
}

impl Model {
    fn get(&self, pos: usize, n: usize) -> u32 {
        (0..n).fold(0, |a, i| a | (self.v[pos + i] as u32) << (8 * i))
    }

    fn put(&mut self, pos: usize, n: usize, val: u32) {
        for i in 0..n {
            self.v[pos + i] = byte_of(val, i);
        }
    }

    fn copy_hw(&mut self, f: &Fake, pos: usize, len: usize) -> Result<(), Errno> {
        // Chunks as upstream reads them, for the alignment errors.
        let mut p = pos;
        while p < pos + len {
            let left = pos + len - p;
            let n = if left >= 4 && p % 4 == 0 {
                4
            } else if left >= 2 && p % 2 == 0 {
                2
            } else {
                1
            };
            let val = hw(f, p, n)?;
            self.put(p, n, val);
            p += n;
        }
        Ok(())
    }

    /// `vfio_config_init`.
    pub fn init(f: &mut Fake, info: DeviceInfo, prev_ext: bool) -> Result<Model, Errno> {
        let mut m = Model {
            info,
            map: vec![INVALID; 4096],
            v: vec![0; 4096],
            rbar: [0; 7],
            bardirty: true,
            ext: prev_ext,
            msi: None,
            side_writes: Vec::new(),
        };
        m.map[..64].fill(0);
        m.copy_hw(f, 0, 64)?;
        for i in 0..6 {
            m.rbar[i] = m.get(0x10 + 4 * i, 4);
        }
        m.rbar[6] = m.get(0x30, 4);
        if info.is_virtfn {
            m.put(0, 2, info.vendor as u32);
            m.put(2, 2, info.device as u32);
            if m.v[0x3d] != 0 && (info.vendor, info.device) != (0x8086, 0x270c) {
                f.log.push(Ev::Notice(Notice::BogusVfIntxPin(m.v[0x3d])));
            }
            m.v[0x3d] = 0;
        }
        if info.no_command_memory {
            m.v[4] |= 2;
        }
        if !info.config_intx || info.nointx || info.irq == 0 || info.irq == 1 << 31 {
            m.v[0x3d] = 0;
        }
        m.walk_std(f)?;
        m.walk_ext(f)?;
        Ok(m)
    }

    fn claim(&mut self, f: &mut Fake, ext: bool, id: u16, pos: usize, len: usize) {
        for p in pos..pos + len {
            if self.map[p] != INVALID {
                f.log.push(Ev::Notice(Notice::Conflict {
                    ext,
                    pos: p,
                    was: self.map[p],
                    now: id,
                }));
            }
            self.map[p] = id as u8;
        }
    }

    fn test_ext(&mut self, f: &Fake) {
        if self.info.cfg_size > 256 {
            self.ext = f.get(256, 4) != 0;
        }
    }

    fn walk_std(&mut self, f: &mut Fake) -> Result<(), Errno> {
        if hw(f, 6, 2)? & 0x10 == 0 {
            return Ok(());
        }
        let mut pos = hw(f, 0x34, 1)? as usize;
        let mut link = 0x34;
        let mut found = 0;
        for _ in 0..48 {
            if pos == 0 {
                break;
            }
            let id = hw(f, pos, 1)? as u8;
            let next = hw(f, pos + 1, 1)? as u8;
            let mut len = if id == 0 || id > 0x14 { 0 } else { std_len(id) };
            if len == 0xff {
                len = match id {
                    5 => {
                        let flags = hw(f, pos + 2, 2)? as u16;
                        let l = 10
                            + if flags & 0x80 != 0 { 4 } else { 0 }
                            + if flags & 0x100 != 0 { 10 } else { 0 };
                        if self.msi.is_none() {
                            self.msi = Some((flags, l));
                        }
                        l
                    }
                    7 => {
                        if (hw(f, pos + 2, 2)? >> 12) & 3 != 0 {
                            self.test_ext(f);
                            24
                        } else {
                            8
                        }
                    }
                    9 => hw(f, pos + 2, 1)? as usize,
                    0x10 => {
                        self.test_ext(f);
                        let fl = self.info.pcie_flags_reg;
                        let rc = (fl >> 4) & 0xf == 9;
                        match (fl & 0xf == 1, rc) {
                            (true, true) => 12,
                            (true, false) => 20,
                            (false, true) => 0x2c,
                            (false, false) => 0x34,
                        }
                    }
                    8 => {
                        if hw(f, pos + 3, 1)? & 0xe0 != 0 {
                            24
                        } else {
                            28
                        }
                    }
                    _ => {
                        if hw(f, pos + 4, 1)? & 0xf == 0xf {
                            16
                        } else {
                            8
                        }
                    }
                };
            }
            if len == 0 {
                f.log.push(Ev::Notice(Notice::Hiding {
                    ext: false,
                    cap: id as u16,
                    pos,
                }));
                self.v[link] = next;
                pos = next as usize;
                continue;
            }
            self.claim(f, false, id as u16, pos, len);
            self.copy_hw(f, pos, len)?;
            if id == 1 {
                self.v[pos + 3] &= !0xf8;
                self.v[pos + 5] &= !0x81;
            }
            link = pos + 1;
            pos = next as usize;
            found += 1;
        }
        if found == 0 {
            self.v[6] &= !0x10;
        }
        Ok(())
    }

    fn ext_var_len(&self, f: &Fake, id: u16, pos: usize) -> Result<usize, Errno> {
        Ok(match id {
            0x0b | 0x23 => (hw(f, pos + 4, 4)? >> 20) as usize,
            2 | 8 | 9 => {
                let evcc = (hw(f, pos + 4, 4)? & 7) as usize;
                let c2 = hw(f, pos + 8, 4)?;
                let arb = if c2 & 8 != 0 {
                    512
                } else if c2 & 4 != 0 {
                    256
                } else if c2 & 2 != 0 {
                    128
                } else {
                    0
                };
                let len = 16 + 12 * (evcc + 1);
                if arb != 0 {
                    len.div_ceil(16) * 16 + arb / 8
                } else {
                    len
                }
            }
            0x0d => {
                if hw(f, pos + 4, 1)? & 0x20 != 0 {
                    let n = hw(f, pos + 5, 1)? as usize;
                    8 + if n == 0 { 32 } else { n.div_ceil(32) * 4 }
                } else {
                    8
                }
            }
            0x15 => 4 + 8 * ((hw(f, pos + 8, 1)? >> 5) & 7) as usize,
            0x16 => 17 + (hw(f, pos + 4, 1)? & 0x1f) as usize,
            _ => {
                let c = hw(f, pos + 4, 4)?;
                if c & 0x600 == 0x200 {
                    12 + 2 * ((c >> 16) & 0x7ff) as usize + 2
                } else {
                    12
                }
            }
        })
    }

    fn walk_ext(&mut self, f: &mut Fake) -> Result<(), Errno> {
        if !self.ext {
            return Ok(());
        }
        let mut pos = 256;
        let mut prev: Option<usize> = None;
        let mut found = 0;
        let mut loops = self.info.cfg_size.saturating_sub(256) / 4;
        while loops > 0 && pos >= 256 {
            loops -= 1;
            let header = hw(f, pos, 4)?;
            let id = header as u16;
            let next = ((header >> 20) & 0xffc) as usize;
            let mut len = if id <= 0x31 { ext_len(id) } else { 0 };
            if len == 0xff {
                len = self.ext_var_len(f, id, pos)?;
            }
            let mut placeholder = false;
            if len == 0 {
                f.log.push(Ev::Notice(Notice::Hiding {
                    ext: true,
                    cap: id,
                    pos,
                }));
                if let Some(p) = prev {
                    // Rewrite the previous header's next field; upstream's mask (0xffc << 20)
                    // keeps its two reserved low bits.
                    let h = self.get(p, 4) & 0x003f_ffff | (next as u32) << 20;
                    self.put(p, 4, h);
                    pos = next;
                    continue;
                }
                len = 4;
                placeholder = true;
            }
            if pos + len > 4096 {
                return Err(Errno::EINVAL);
            }
            self.claim(f, true, id, pos, len);
            self.copy_hw(f, pos, len)?;
            if placeholder {
                let h = self.get(pos, 4) & 0xffc0_0000;
                self.put(pos, 4, h);
            } else {
                found += 1;
            }
            prev = Some(pos);
            pos = next;
        }
        if found == 0 {
            self.put(256, 4, 0);
        }
        Ok(())
    }

    /// Start of the capability at `pos` (`vfio_find_cap_start`).
    fn start_of(&self, pos: usize) -> usize {
        let id = self.map[pos];
        if id == 0 {
            return 0;
        }
        let floor = if pos >= 256 { 256 } else { 64 };
        let mut s = pos;
        while s > floor && self.map[s - 1] == id {
            s -= 1;
        }
        s
    }

    /// Region of `pos`: read and write functions, capability start, and per-byte perms.
    fn region(&self, pos: usize) -> (Rd, Wr, usize, Box<dyn Fn(usize) -> (u8, u8)>) {
        let id = self.map[pos];
        if id == INVALID {
            return (Rd::Raw, Wr::Raw, pos, Box::new(|_| (0, 0)));
        }
        if id == INVALID_VIRT {
            return (Rd::Virt, Wr::Virt, pos, Box::new(|_| (0, 0)));
        }
        let start = self.start_of(pos);
        if pos >= 256 {
            if id > 0x31 {
                return (Rd::Direct, Wr::Drop, start, Box::new(|_| (0, 0)));
            }
            let (r, w) = ext_fns(id);
            return (r, w, start, Box::new(move |o| ext_perm(id, o)));
        }
        let (r, w) = std_fns(id);
        if id == 5 && self.msi.is_none() {
            return (Rd::Direct, Wr::Drop, start, Box::new(|_| (0, 0)));
        }
        let msi = self.msi;
        (r, w, start, Box::new(move |o| std_perm(id, o, msi)))
    }

    fn sized_bars(&mut self) {
        if !self.bardirty {
            return;
        }
        let mut i = 0;
        while i < 6 {
            let r = self.info.bars[i];
            let at = 0x10 + 4 * i;
            if r.start == 0 {
                self.put(at, 4, 0);
                i += 1;
                continue;
            }
            let size_mask = !(r.len.wrapping_sub(1));
            let kind = if r.flags & 0x100 != 0 {
                1
            } else {
                (if r.flags & 0x2000 != 0 { 8 } else { 0 })
                    | (if r.flags & 0x10_0000 != 0 { 4 } else { 0 })
            };
            let val = (self.get(at, 4) & size_mask as u32) | kind;
            self.put(at, 4, val);
            i += 1;
            if val & 4 != 0 {
                let hi = self.get(at + 4, 4) & (size_mask >> 32) as u32;
                self.put(at + 4, 4, hi);
                i += 1;
            }
        }
        let rom = self.info.rom;
        let v = if rom.start != 0 {
            self.get(0x30, 4) & (!(rom.len.wrapping_sub(1)) as u32 | 1)
        } else if self.info.shadow_rom_len != 0 {
            let p2 = self.info.shadow_rom_len.next_power_of_two();
            self.get(0x30, 4) & (!(p2 - 1) as u32 | 1)
        } else {
            0
        };
        self.put(0x30, 4, v);
        self.bardirty = false;
    }

    fn hw_read(f: &mut Fake, pos: usize, n: usize) -> Result<u32, Errno> {
        if pos % n != 0 {
            return Err(Errno::EINVAL);
        }
        use crate::pci_config::ConfigBackend;
        f.user_read_config(pos, n)
    }

    fn hw_write(f: &mut Fake, pos: usize, n: usize, val: u32) -> Result<(), Errno> {
        if pos % n != 0 {
            return Err(Errno::EINVAL);
        }
        use crate::pci_config::ConfigBackend;
        f.user_write_config(pos, n, val)
    }

    /// Per-byte default read.
    fn merged_read(
        &self,
        f: &mut Fake,
        pos: usize,
        n: usize,
        perm: &dyn Fn(usize) -> (u8, u8),
        off: usize,
    ) -> Result<u32, Errno> {
        let all_virt = (0..n).all(|i| perm(off + i).0 == 0xff);
        let phys = if all_virt {
            0
        } else {
            Self::hw_read(f, pos, n)?
        };
        let mut out = 0u32;
        for i in 0..n {
            let virt = perm(off + i).0;
            let b = byte_of(phys, i) & !virt | self.v[pos + i] & virt;
            out |= (b as u32) << (8 * i);
        }
        Ok(out)
    }

    /// Per-byte default write.
    fn merged_write(
        &mut self,
        f: &mut Fake,
        pos: usize,
        n: usize,
        perm: &dyn Fn(usize) -> (u8, u8),
        off: usize,
        val: u32,
    ) -> Result<(), Errno> {
        let bits: Vec<(u8, u8)> = (0..n).map(|i| perm(off + i)).collect();
        if bits.iter().all(|&(_, w)| w == 0) {
            return Ok(());
        }
        for (i, &(virt, wr)) in bits.iter().enumerate() {
            let m = virt & wr;
            self.v[pos + i] = self.v[pos + i] & !m | byte_of(val, i) & m;
        }
        if bits.iter().any(|&(virt, wr)| wr & !virt != 0) {
            let phys = Self::hw_read(f, pos, n)?;
            let mut out = 0u32;
            for (i, &(virt, wr)) in bits.iter().enumerate() {
                let m = wr & !virt;
                let b = byte_of(phys, i) & !m | byte_of(val, i) & m;
                out |= (b as u32) << (8 * i);
            }
            Self::hw_write(f, pos, n, out)?;
        }
        Ok(())
    }

    fn chunk_len(&self, pos: usize, left: usize) -> usize {
        let id = self.map[pos];
        let mut same = 1;
        while (pos + same) % 4 != 0 && self.map[pos + same] == id {
            same += 1;
        }
        let n = left.min(same);
        if n >= 4 && pos % 4 == 0 {
            4
        } else if n >= 2 && pos % 2 == 0 {
            2
        } else {
            1
        }
    }

    fn read_one(&mut self, f: &mut Fake, pos: usize, n: usize) -> Result<u32, Errno> {
        let (rd, _, start, perm) = self.region(pos);
        let off = pos - start;
        match rd {
            Rd::Raw => Self::hw_read(f, pos, n),
            Rd::Virt => Ok(self.get(pos, n)),
            Rd::Default => self.merged_read(f, pos, n, &*perm, off),
            Rd::Direct => {
                let mut v = Self::hw_read(f, pos, n)?;
                if pos >= 256 {
                    if off < 4 {
                        v = self.get(pos, n);
                    }
                } else if pos >= 64 {
                    if off == 0 && n >= 2 {
                        v = v & !0xffff | self.get(pos, 2);
                    } else if off == 1 {
                        v = v & !0xff | self.v[pos] as u32;
                    }
                }
                Ok(v)
            }
            Rd::Basic => {
                if (0x10..0x28).contains(&off) || (0x30..0x34).contains(&off) {
                    self.sized_bars();
                }
                let mut v = self.merged_read(f, pos, n, &*perm, off)?;
                if off == 4 && self.info.no_command_memory {
                    v |= (self.v[4] & 2) as u32;
                }
                Ok(v)
            }
            Rd::Msi => {
                if off <= 2 && off + n >= 2 {
                    let s = self.start_of(pos);
                    // Upstream's refresh hits the ID byte, bits 1..3.
                    self.v[s] = self.v[s] & !0x0e | f.qmax << 1;
                    self.v[s + 1] |= ((f.qmax as u16) << 1 >> 8) as u8;
                }
                self.merged_read(f, pos, n, &*perm, off)
            }
        }
    }

    fn reset_if(&self, f: &mut Fake, ok: bool) {
        if ok {
            f.log.push(Ev::Reset {
                vcmd: self.get(4, 2) as u16,
            });
        }
    }

    fn write_one(&mut self, f: &mut Fake, pos: usize, n: usize, val: u32) -> Result<(), Errno> {
        let (_, wr, start, perm) = self.region(pos);
        let off = pos - start;
        match wr {
            Wr::Drop => Ok(()),
            Wr::Raw => Self::hw_write(f, pos, n, val),
            Wr::Virt => {
                self.put(pos, n, val);
                Ok(())
            }
            Wr::Default => self.merged_write(f, pos, n, &*perm, off, val),
            Wr::Basic => {
                let cmd = off == 4;
                if cmd {
                    let phys = Self::hw_read(f, 4, 2)?;
                    let vc = self.get(4, 2);
                    let newc = val & 0xffff;
                    f.log.push(Ev::CmdBegin(newc & 2 != 0));
                    let mem_lost = newc & 2 != 0
                        && vc & 2 != 0
                        && phys & 2 == 0
                        && !self.info.no_command_memory;
                    let io_lost = newc & 1 != 0 && vc & 1 != 0 && phys & 1 == 0;
                    let bars_moved = mem_lost
                        || io_lost
                        || (0..6).any(|i| {
                            self.rbar[i] != 0
                                && Self::hw_read(f, 0x10 + 4 * i, 4) != Ok(self.rbar[i])
                        });
                    if bars_moved && !self.info.is_virtfn {
                        f.log.push(Ev::Notice(Notice::BarRestore));
                        for i in 0..7 {
                            let at = if i < 6 { 0x10 + 4 * i } else { 0x30 };
                            let _ = Self::hw_write(f, at, 4, self.rbar[i]);
                            self.side_writes.push((at, 4));
                        }
                        if self.info.nointx {
                            let c = Self::hw_read(f, 4, 2).unwrap_or(0xffff);
                            let _ = Self::hw_write(f, 4, 2, c | 0x400);
                            self.side_writes.push((4, 2));
                        }
                    }
                }
                if let Err(e) = self.merged_write(f, pos, n, &*perm, off, val) {
                    if cmd {
                        f.log.push(Ev::CmdEnd(None));
                    }
                    return Err(e);
                }
                if cmd {
                    self.v[4] = self.v[4] & !3 | (val as u8 & 3);
                    f.log.push(Ev::CmdEnd(Some(self.get(4, 2) as u16)));
                }
                if off == 4 || off == 5 {
                    let dis = self.v[5] & 4 != 0;
                    if dis != f.virq {
                        f.virq = dis;
                        f.log.push(Ev::Virq(dis));
                    }
                }
                if (0x10..0x28).contains(&off) || (0x30..0x34).contains(&off) {
                    self.bardirty = true;
                }
                Ok(())
            }
            Wr::Pm => {
                self.merged_write(f, pos, n, &*perm, off, val)?;
                if off == 4 {
                    let state = [
                        PowerState::D0,
                        PowerState::D1,
                        PowerState::D2,
                        PowerState::D3Hot,
                    ][(val & 3) as usize];
                    f.log.push(Ev::Power {
                        state,
                        vcmd: self.get(4, 2) as u16,
                    });
                }
                Ok(())
            }
            Wr::Vpd => {
                self.merged_write(f, pos, n, &*perm, off, val)?;
                // Only writes covering byte 3 (the F flag) start a transfer.
                if !(off..off + n).contains(&3) {
                    return Ok(());
                }
                let s = pos - off;
                let addr = self.get(s + 2, 2) as u16;
                use crate::pci_config::ConfigBackend;
                if addr & 0x8000 != 0 {
                    if f.write_vpd(addr & 0x7fff, self.get(s + 4, 4)) != 4 {
                        return Ok(());
                    }
                } else {
                    match f.read_vpd(addr) {
                        Ok(d) => self.put(s + 4, 4, d),
                        Err(_) => return Ok(()),
                    }
                }
                self.put(s + 2, 2, (addr ^ 0x8000) as u32);
                Ok(())
            }
            Wr::Exp => {
                let s = pos - off;
                let old_rq = self.v[s + 9] & 0x70;
                self.merged_write(f, pos, n, &*perm, off, val)?;
                if self.v[s + 9] & 0x80 != 0 {
                    self.v[s + 9] &= 0x7f;
                    let flr = matches!(Self::hw_read(f, s + 4, 4), Ok(c) if c & (1 << 28) != 0);
                    self.reset_if(f, flr);
                }
                let rq = self.v[s + 9] & 0x70;
                if rq != old_rq {
                    let bytes = (128u32 << (rq >> 4)).max(f.mps);
                    f.log.push(Ev::Readrq(bytes));
                }
                Ok(())
            }
            Wr::Af => {
                let s = pos - off;
                self.merged_write(f, pos, n, &*perm, off, val)?;
                if self.v[s + 4] & 1 != 0 {
                    self.v[s + 4] &= !1;
                    let ok = matches!(Self::hw_read(f, s + 3, 1), Ok(c) if c & 3 == 3);
                    self.reset_if(f, ok);
                }
                Ok(())
            }
            Wr::Msi => {
                self.merged_write(f, pos, n, &*perm, off, val)?;
                if off <= 2 && off + n >= 2 {
                    let s = self.start_of(pos);
                    let mut fl = self.get(s + 2, 2) as u16;
                    if !f.msi_on {
                        fl &= !1;
                    }
                    let q = f.qmax as u16;
                    if (fl >> 4) & 7 > q {
                        fl = fl & !0x70 | q << 4;
                    }
                    self.put(s + 2, 2, fl as u32);
                    // The flags word of wherever the capability starts: on a bogus device
                    // whose pointer leads into the header, that is header hardware.
                    self.side_writes.push((s + 2, 2));
                    Self::hw_write(f, s + 2, 2, fl as u32)?;
                }
                Ok(())
            }
        }
    }

    /// `vfio_pci_config_rw` on a buffer.
    pub fn rw(
        &mut self,
        f: &mut Fake,
        ppos: u64,
        buf: &mut [u8],
        write: bool,
    ) -> Result<usize, Errno> {
        let base = (ppos & ((1 << 40) - 1)) as usize;
        let cfg = self.info.cfg_size;
        let mut done = 0;
        while done < buf.len() {
            let pos = base + done;
            let left = buf.len() - done;
            if pos >= cfg || pos + left > cfg {
                return Err(Errno::EFAULT);
            }
            let n = self.chunk_len(pos, left);
            if write {
                let val = (0..n).fold(0u32, |a, i| a | (buf[done + i] as u32) << (8 * i));
                self.write_one(f, pos, n, val)?;
            } else {
                let val = self.read_one(f, pos, n)?;
                for i in 0..n {
                    buf[done + i] = byte_of(val, i);
                }
            }
            done += n;
        }
        Ok(done)
    }

    /// Bits of byte `pos` a user write may change in hardware: the writable non-virtual
    /// bits of its region, everything in raw regions.
    pub fn hw_writable(&self, pos: usize) -> u8 {
        let (_, wr, start, perm) = self.region(pos);
        let off = pos - start;
        match wr {
            Wr::Raw => 0xff,
            Wr::Drop | Wr::Virt => 0,
            _ => {
                let (virt, w) = perm(off);
                w & !virt
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Random devices.
// ---------------------------------------------------------------------------------------

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

fn op() -> impl Strategy<Value = Op> {
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

/// `cases` cases, or `PROPTEST_CASES` for a deeper run; failures print their shrunk input
/// instead of being saved.
fn cfg(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

/// Compare the real state with the model's.
fn same_bytes(what: &str, a: &[u8], b: &[u8]) -> Result<(), TestCaseError> {
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        prop_assert!(
            false,
            "{} differs at {:#x}: {:#x} vs model {:#x}",
            what,
            i,
            a[i],
            b[i]
        );
    }
    Ok(())
}

fn same_state(pc: &PciConfig, m: &Model) -> Result<(), TestCaseError> {
    same_bytes("map", &pc.map, &m.map)?;
    same_bytes("vconfig", &pc.vconfig, &m.v)?;
    prop_assert_eq!(pc.bardirty, m.bardirty);
    prop_assert_eq!(pc.extended_caps, m.ext);
    Ok(())
}

proptest! {
    #![proptest_config(cfg(256))]

    /// `vfio_config_init` builds the model's map and vconfig and logs the same.
    #[test]
    fn init_matches_model(dev in device()) {
        let mut fr = Fake::new(&dev.bytes);
        let mut fm = fr.clone();
        let mut pc = Box::new(PciConfig::EMPTY);
        let r = pc.init(&mut fr, dev.info);
        let m = Model::init(&mut fm, dev.info, false);
        prop_assert_eq!(&fr.log, &fm.log);
        match (r, m) {
            (Ok(()), Ok(m)) => same_state(&pc, &m)?,
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "init {:?} vs model {:?}", a, b.map(|_| ())),
        }
    }

    /// Random access sequences on random devices: see [`check`].
    #[test]
    fn accesses_match_model(dev in device(), ops in prop::collection::vec(op(), 1..40)) {
        check(dev, ops)?;
    }

}

proptest! {
    #![proptest_config(cfg(128))]

    /// The same on config spaces of random bytes (chains of garbage), for panics above all.
    #[test]
    fn random_bytes_match_model(
        dev in device(),
        bytes in prop::collection::vec(any::<u8>(), 4096),
        ops in prop::collection::vec(op(), 1..20),
    ) {
        let mut bytes = bytes;
        bytes[6] |= 0x10;
        check(Dev { bytes, caps: vec![0, 0x40, 0x100], ..dev }, ops)?;
    }

    /// The same on the QEMU devices of the test guest.
    #[test]
    fn qemu_devices_match_model(which in 0usize..3, ops in prop::collection::vec(op(), 1..60)) {
        let (c, info) = [igb, edu, nvme][which]();
        let caps = match which {
            0 => vec![0, 0x40, 0x50, 0x70, 0xa0, 0x100, 0x150, 0x160],
            1 => vec![0, 0x40],
            _ => vec![0, 0x40, 0x60, 0x80],
        };
        check(Dev { bytes: c.0, info, caps, virt_only: None }, ops)?;
    }
}

/// Run `ops` on `dev` through the real code and the model, comparing everything after each
/// step; writes must leave hardware bits upstream keeps virtual or read-only alone.
fn check(dev: Dev, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut fr = Fake::new(&dev.bytes);
    let mut fm = fr.clone();
    let mut pc = Box::new(PciConfig::EMPTY);
    let r = pc.init(&mut fr, dev.info);
    let m = Model::init(&mut fm, dev.info, false);
    let (Ok(()), Ok(mut m)) = (r, m) else {
        return Ok(());
    };
    if let Some(at) = dev.virt_only {
        pc.set_virt_only(at, 4);
        m.map[at..at + 4].fill(INVALID_VIRT);
    }
    for op in ops {
        let op = match op {
            Op::Cap(k, o, v, w) => {
                let at = (dev.caps[k % dev.caps.len()] + o) as u64;
                if w {
                    Op::Write(at, v)
                } else {
                    Op::Read(at, v.len())
                }
            }
            op => op,
        };
        let hw_before = fr.hw.clone();
        m.side_writes.clear();
        match op {
            Op::Read(p, n) => {
                let mut a = vec![0u8; n];
                let mut b = vec![0u8; n];
                let ra = pc.rw(&mut fr, &mut a[..], p, n, false);
                let rb = m.rw(&mut fm, p, &mut b, false);
                prop_assert_eq!(ra, rb);
                if ra.is_ok() {
                    prop_assert_eq!(a, b);
                }
                same_bytes("hardware after a read", &fr.hw, &hw_before)?;
            }
            Op::Write(p, v) => {
                let mut a = v.clone();
                let mut b = v.clone();
                let ra = pc.rw(&mut fr, &mut a[..], p, v.len(), true);
                let rb = m.rw(&mut fm, p, &mut b, true);
                prop_assert_eq!(ra, rb);
                for i in 0..4096 {
                    let changed = fr.hw[i] ^ hw_before[i];
                    if changed == 0 {
                        continue;
                    }
                    if m.side_writes
                        .iter()
                        .any(|&(at, n)| (at..at + n).contains(&i))
                    {
                        continue;
                    }
                    let ok = m.hw_writable(i);
                    prop_assert_eq!(
                        changed & !ok,
                        0,
                        "byte {:#x} changed {:#x}, writable {:#x}",
                        i,
                        changed,
                        ok
                    );
                }
            }
            Op::Msi(on, q) => {
                fr.msi_on = on;
                fm.msi_on = on;
                fr.qmax = q;
                fm.qmax = q;
            }
            Op::Mps(v) => {
                fr.mps = v;
                fm.mps = v;
            }
            Op::FailRead(at) => {
                fr.fail_read = at;
                fm.fail_read = at;
            }
            Op::FailWrite(at) => {
                fr.fail_write = at;
                fm.fail_write = at;
            }
            Op::FailVpd(x) => {
                fr.fail_vpd = x;
                fm.fail_vpd = x;
            }
            Op::Backdoor(at, v) => {
                fr.hw[at] = v;
                fm.hw[at] = v;
            }
            Op::Cap(..) => unreachable!(),
        }
        same_bytes("hardware", &fr.hw, &fm.hw)?;
        prop_assert_eq!(&fr.log, &fm.log, "log");
        same_bytes("vpd", &fr.vpd, &fm.vpd)?;
        prop_assert_eq!(fr.virq, fm.virq);
        same_state(&pc, &m)?;
    }
    Ok(())
}

/// The generators reach every handler and every init outcome (so the properties above are
/// not vacuous): a deterministic sample, counted by what the fake logged.
#[test]
fn generators_reach_every_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;
    let mut runner = TestRunner::deterministic();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut count = |k: &str| *seen.entry(k.to_string()).or_default() += 1;
    for _ in 0..400 {
        let dev = device().new_tree(&mut runner).unwrap().current();
        let ops = prop::collection::vec(op(), 1..40)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut f = Fake::new(&dev.bytes);
        let mut pc = Box::new(PciConfig::EMPTY);
        match pc.init(&mut f, dev.info) {
            Ok(()) => count("init ok"),
            Err(e) => {
                count(&format!("init {e:?}"));
                continue;
            }
        }
        if pc.extended_caps {
            count("extended");
        }
        for op in ops {
            let (at, data, write) = match op {
                Op::Cap(k, o, v, w) => ((dev.caps[k % dev.caps.len()] + o) as u64, v, w),
                Op::Read(p, n) => (p, vec![0; n], false),
                Op::Write(p, v) => (p, v, true),
                Op::Msi(on, q) => {
                    f.msi_on = on;
                    f.qmax = q;
                    continue;
                }
                Op::FailRead(x) => {
                    f.fail_read = x;
                    continue;
                }
                Op::FailWrite(x) => {
                    f.fail_write = x;
                    continue;
                }
                Op::Backdoor(at, v) => {
                    f.hw[at] = v;
                    continue;
                }
                _ => continue,
            };
            let mut buf = data.clone();
            if let Err(e) = pc.rw(&mut f, &mut buf[..], at, data.len(), write) {
                count(&format!("{e:?}"));
            }
        }
        for e in &f.log {
            let k = format!("{e:?}");
            let k = k.trim_start_matches("Notice(").trim_end_matches(')');
            count(k.split(['(', ' ', '{']).next().unwrap());
        }
    }
    for k in [
        "init ok",
        "init EFAULT(14)",
        "init EINVAL(22)",
        "extended",
        "EFAULT(14)",
        "EIO(5)",
        "Write",
        "Reset",
        "Power",
        "Readrq",
        "VpdRead",
        "VpdWrite",
        "Virq",
        "CmdBegin",
        "Conflict",
        "Hiding",
        "BarRestore",
        "BogusVfIntxPin",
    ] {
        assert!(
            seen.get(k).copied().unwrap_or(0) > 0,
            "{k} never seen: {seen:?}"
        );
    }
}
