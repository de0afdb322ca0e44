// SPDX-License-Identifier: GPL-2.0

//! The user's config accesses: upstream's `vfio_pci_config_rw`,
//! `vfio_pci_config_rw_single`, `vfio_pci_cap_remaining_dword`, `vfio_find_cap_start` and
//! the generic read/write functions (default, direct, raw, virt).
//!
//! An access is cut into chunks that stay within one dword and one capability, aligned to
//! their size (1, 2 or 4 bytes); each chunk is served by its capability's functions with
//! its permission bits. The user copy is the kernel side's, behind [`UserBuf`], and happens
//! where upstream's `copy_from_user`/`copy_to_user` do: a write to a region without a write
//! function never reads the user's buffer.

use super::perm::{cap_perms, ecap_perms, PermBits, ReadFn, WriteFn, DIRECT_RO, UNASSIGNED, VIRT};
use super::regs::*;
use super::{user_read, user_write, ConfigBackend, PciConfig};
use crate::errno::Errno;

/// `VFIO_PCI_OFFSET_MASK`: the offset within a region of a device file position.
pub const VFIO_PCI_OFFSET_MASK: u64 = (1 << 40) - 1;

/// The user's buffer of one `read`/`write` call.
pub trait UserBuf {
    /// `copy_from_user` of `out.len()` bytes at `done` bytes into the buffer.
    fn copy_from(&mut self, done: usize, out: &mut [u8]) -> Result<(), Errno>;
    /// `copy_to_user` of `data` at `done` bytes into the buffer.
    fn copy_to(&mut self, done: usize, data: &[u8]) -> Result<(), Errno>;
}

/// A plain buffer, for in-kernel callers and tests.
impl UserBuf for [u8] {
    fn copy_from(&mut self, done: usize, out: &mut [u8]) -> Result<(), Errno> {
        let src = self.get(done..done + out.len()).ok_or(Errno::EFAULT)?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn copy_to(&mut self, done: usize, data: &[u8]) -> Result<(), Errno> {
        let dst = self.get_mut(done..done + data.len()).ok_or(Errno::EFAULT)?;
        dst.copy_from_slice(data);
        Ok(())
    }
}

/// One chunk of an access, with what its capability's `perm_bits` say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Config offset.
    pub pos: usize,
    /// 1, 2 or 4, aligned.
    pub count: usize,
    /// Offset from the start of the owning capability.
    pub offset: usize,
    /// The virt bits of these bytes.
    pub virt: u32,
    /// The writable bits of these bytes.
    pub write: u32,
    /// The read function.
    pub readfn: ReadFn,
    /// The write function (`None`: writes are dropped).
    pub writefn: Option<WriteFn>,
}

impl PciConfig {
    /// `vfio_find_cap_start`: the start of the capability owning `pos` (0 for the header).
    /// Two abutting capabilities of one ID look like one here, as upstream.
    pub fn find_cap_start(&self, mut pos: usize) -> usize {
        let base = if pos >= PCI_CFG_SPACE_SIZE {
            PCI_CFG_SPACE_SIZE
        } else {
            PCI_STD_HEADER_SIZEOF
        };
        let cap = self.map[pos];
        if cap == PCI_CAP_ID_BASIC {
            return 0;
        }
        while pos > base && self.map[pos - 1] == cap {
            pos -= 1;
        }
        pos
    }

    /// `vfio_pci_cap_remaining_dword`: bytes from `pos` to the end of its dword or of its
    /// capability, whichever comes first.
    fn cap_remaining_dword(&self, pos: usize) -> usize {
        let cap = self.map[pos];
        let mut i = 1;
        while !(pos + i).is_multiple_of(4) && self.map[pos + i] == cap {
            i += 1;
        }
        i
    }

    /// Mark `len` bytes at `pos` as virtual-only (`PCI_CAP_ID_INVALID_VIRT`), as
    /// `vfio_pci_igd_opregion_init` does for the OpRegion address after setting `vconfig`.
    /// A range past the map is ignored.
    pub fn set_virt_only(&mut self, pos: usize, len: usize) {
        if let Some(bytes) = self.map.get_mut(pos..pos.saturating_add(len)) {
            bytes.fill(PCI_CAP_ID_INVALID_VIRT);
        }
    }

    /// The first half of `vfio_pci_config_rw_single`: bounds, the chunk at `pos` of at most
    /// `count` bytes, and its permissions.
    pub fn chunk(&self, pos: i64, count: usize) -> Result<Chunk, Errno> {
        let cfg_size = self.info.cfg_size as u64;
        if pos < 0 || pos as u64 >= cfg_size || (pos as u64).wrapping_add(count as u64) > cfg_size {
            return Err(Errno::EFAULT);
        }
        let pos = pos as usize;
        let count = count.min(self.cap_remaining_dword(pos));
        let count = if count >= 4 && pos.is_multiple_of(4) {
            4
        } else if count >= 2 && pos.is_multiple_of(2) {
            2
        } else {
            1
        };

        let cap_id = self.map[pos];
        let (perm, cap_start): (PermBits<'_>, usize) = if cap_id == PCI_CAP_ID_INVALID {
            (UNASSIGNED, pos)
        } else if cap_id == PCI_CAP_ID_INVALID_VIRT {
            (VIRT, pos)
        } else if pos >= PCI_CFG_SPACE_SIZE {
            // An ID above PCI_EXT_CAP_ID_MAX is the low byte of a hidden unknown capability
            // anchoring the chain: read-only, its header virtualized.
            let perm = if u16::from(cap_id) > PCI_EXT_CAP_ID_MAX {
                DIRECT_RO
            } else {
                ecap_perms(cap_id)
            };
            (perm, self.find_cap_start(pos))
        } else {
            let perm = if cap_id == PCI_CAP_ID_MSI {
                match &self.msi_perm {
                    Some((table, size)) => PermBits {
                        virt: &table.virt[..*size],
                        write: &table.write[..*size],
                        readfn: ReadFn::Msi,
                        writefn: Some(WriteFn::Msi),
                    },
                    // Cannot happen: the walk builds the table when it maps an MSI byte.
                    None => DIRECT_RO,
                }
            } else {
                cap_perms(cap_id)
            };
            let start = if cap_id > PCI_CAP_ID_BASIC {
                self.find_cap_start(pos)
            } else {
                0
            };
            (perm, start)
        };
        let offset = pos - cap_start;
        Ok(Chunk {
            pos,
            count,
            offset,
            virt: perm.virt_bits(offset, count),
            write: perm.write_bits(offset, count),
            readfn: perm.readfn,
            writefn: perm.writefn,
        })
    }

    /// Read a chunk through its read function.
    pub fn read_chunk<B: ConfigBackend>(&self, b: &mut B, c: &Chunk) -> Result<u32, Errno> {
        match c.readfn {
            ReadFn::Default => self.default_read(b, c),
            ReadFn::Direct => self.direct_read(b, c),
            ReadFn::Raw => user_read(b, c.pos, c.count),
            ReadFn::Virt => Ok(self.vget(c.pos, c.count)),
            ReadFn::Basic => self.basic_read(b, c),
            ReadFn::Msi => self.msi_read(b, c),
        }
    }

    /// Write a chunk through its write function (nothing without one).
    pub fn write_chunk<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        match c.writefn {
            None => Ok(()),
            Some(WriteFn::Default) => self.default_write(b, c, val),
            Some(WriteFn::Raw) => user_write(b, c.pos, c.count, val),
            Some(WriteFn::Virt) => {
                self.vset(c.pos, c.count, val);
                Ok(())
            }
            Some(WriteFn::Basic) => self.basic_write(b, c, val),
            Some(WriteFn::Pm) => self.pm_write(b, c, val),
            Some(WriteFn::Vpd) => self.vpd_write(b, c, val),
            Some(WriteFn::Exp) => self.exp_write(b, c, val),
            Some(WriteFn::Af) => self.af_write(b, c, val),
            Some(WriteFn::Msi) => self.msi_write(b, c, val),
        }
    }

    /// `vfio_pci_config_rw_single`: one chunk of a user access at `pos` of at most `count`
    /// bytes of `buf` (from its start); the number of bytes done.
    pub fn rw_single<B: ConfigBackend, U: UserBuf + ?Sized>(
        &self,
        b: &mut B,
        buf: &mut U,
        done: usize,
        pos: i64,
        count: usize,
        iswrite: bool,
    ) -> Result<usize, Errno> {
        let c = self.chunk(pos, count)?;
        let mut bytes = [0u8; 4];
        if iswrite {
            if c.writefn.is_none() {
                return Ok(c.count);
            }
            buf.copy_from(done, &mut bytes[..c.count])?;
            self.write_chunk(b, &c, u32::from_le_bytes(bytes))?;
        } else {
            let val = self.read_chunk(b, &c)?;
            bytes = val.to_le_bytes();
            buf.copy_to(done, &bytes[..c.count])?;
        }
        Ok(c.count)
    }

    /// `vfio_pci_config_rw`: a user `read`/`write` of `count` bytes at file position `ppos`
    /// of the config region. Stops at the first failing chunk, returning its error (the
    /// chunks before it are done, as upstream).
    pub fn rw<B: ConfigBackend, U: UserBuf + ?Sized>(
        &self,
        b: &mut B,
        buf: &mut U,
        ppos: u64,
        count: usize,
        iswrite: bool,
    ) -> Result<usize, Errno> {
        let mut pos = (ppos & VFIO_PCI_OFFSET_MASK) as i64;
        let mut done = 0;
        let mut count = count;
        while count != 0 {
            let ret = self.rw_single(b, buf, done, pos, count, iswrite)?;
            count -= ret;
            done += ret;
            pos += ret as i64;
        }
        Ok(done)
    }

    /// `vfio_default_config_read`: virtual bits from `vconfig`, the rest from hardware
    /// (not read at all when every bit is virtual).
    pub(crate) fn default_read<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
    ) -> Result<u32, Errno> {
        let val = self.vget(c.pos, c.count);
        if c.virt != !0u32 >> (32 - c.count * 8) {
            let phys = user_read(b, c.pos, c.count)?;
            return Ok(phys & !c.virt | val & c.virt);
        }
        Ok(val)
    }

    /// `vfio_default_config_write`: writable virtual bits go to `vconfig`, writable
    /// physical bits to hardware (read-modify-write), the rest is dropped.
    pub(crate) fn default_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        let (write, virt) = (c.write, c.virt);
        if write == 0 {
            return Ok(());
        }
        if write & virt != 0 {
            let v = self.vget(c.pos, c.count) & !(write & virt) | val & (write & virt);
            self.vset(c.pos, c.count, v);
        }
        if write & !virt != 0 {
            let phys = user_read(b, c.pos, c.count)?;
            let phys = phys & !(write & !virt) | val & (write & !virt);
            user_write(b, c.pos, c.count, phys)?;
        }
        Ok(())
    }

    /// `vfio_direct_config_read`: hardware, except the chain: the ID and next bytes of a
    /// standard capability (the ID only when read with the next byte) and the whole header
    /// dword of an extended one come from `vconfig`.
    fn direct_read<B: ConfigBackend>(&self, b: &mut B, c: &Chunk) -> Result<u32, Errno> {
        let mut val = user_read(b, c.pos, c.count)?;
        if c.pos >= PCI_CFG_SPACE_SIZE {
            if c.offset < 4 {
                val = self.vget(c.pos, c.count);
            }
        } else if c.pos >= PCI_STD_HEADER_SIZEOF {
            if c.offset == PCI_CAP_LIST_ID && c.count > 1 {
                let n = c.count.min(PCI_CAP_FLAGS);
                let mask = !0u32 >> (32 - n * 8);
                val = val & !mask | self.vget(c.pos, n);
            } else if c.offset == PCI_CAP_LIST_NEXT {
                val = val & !0xff | self.vget(c.pos, 1);
            }
        }
        Ok(val)
    }
}

/// The overlap of a buffer and a register range, as offsets into both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intersection {
    /// Where the overlap starts in the buffer.
    pub buf_offset: u64,
    /// How many bytes overlap.
    pub count: u64,
    /// Where the overlap starts in the register.
    pub register_offset: u64,
}

/// `vfio_pci_core_range_intersect_range` (exported for variant drivers that emulate
/// registers inside a config or BAR access): the overlap of `buf_cnt` bytes at `buf_start`
/// with `reg_cnt` bytes at `reg_start`, if any.
pub fn range_intersect_range(
    buf_start: u64,
    buf_cnt: u64,
    reg_start: u64,
    reg_cnt: u64,
) -> Option<Intersection> {
    if buf_start <= reg_start && buf_start.wrapping_add(buf_cnt) > reg_start {
        return Some(Intersection {
            buf_offset: reg_start - buf_start,
            count: reg_cnt.min(buf_start.wrapping_add(buf_cnt) - reg_start),
            register_offset: 0,
        });
    }
    if buf_start > reg_start && buf_start < reg_start.wrapping_add(reg_cnt) {
        return Some(Intersection {
            buf_offset: 0,
            count: buf_cnt.min(reg_start.wrapping_add(reg_cnt) - buf_start),
            register_offset: buf_start - reg_start,
        });
    }
    None
}
