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

use super::pci_config_fake::{Ev, Fake};
use crate::errno::Errno;
use crate::pci_config::{DeviceInfo, Notice, PowerState};

const INVALID: u8 = 0xff;
pub const INVALID_VIRT: u8 = 0xfe;

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
    pub bardirty: bool,
    pub ext: bool,
    /// The flags of the first MSI capability (`vdev->msi_perm`) and its length.
    msi: Option<(u16, usize)>,
    /// Per byte, the hardware bits the accesses since the last `clear_allowed` were entitled
    /// to change: the writable non-virtual bits of each chunk written, all of a raw write,
    /// and what the handlers write on their own (MSI flags from `vconfig`, BAR restore).
    pub allowed: Vec<u8>,
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
            allowed: vec![0; 4096],
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
        for (i, &(virt, wr)) in bits.iter().enumerate() {
            self.allowed[pos + i] |= wr & !virt;
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
            Wr::Raw => {
                self.allow(pos, n);
                Self::hw_write(f, pos, n, val)
            }
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
                            self.allow(at, 4);
                        }
                        if self.info.nointx {
                            let c = Self::hw_read(f, 4, 2).unwrap_or(0xffff);
                            let _ = Self::hw_write(f, 4, 2, c | 0x400);
                            self.allow(4, 2);
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
                    self.allow(s + 2, 2);
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

    /// Entitle `n` bytes at `pos` to any change.
    fn allow(&mut self, pos: usize, n: usize) {
        for b in &mut self.allowed[pos..pos + n] {
            *b = 0xff;
        }
    }

    /// Forget the entitlements (before the next step).
    pub fn clear_allowed(&mut self) {
        self.allowed.fill(0);
    }
}
