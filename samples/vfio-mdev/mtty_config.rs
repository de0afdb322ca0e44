// SPDX-License-Identifier: GPL-2.0

//! The emulated PCI function of upstream's `samples/vfio-mdev/mtty.c`, as pure logic: its
//! config space, the region/device/IRQ info it reports, and the region decoding of its
//! `read`/`write` ops (`mtty_read`, `mtty_write`, `mdev_access`).
//!
//! [`MttyDevice`] is the part of `struct mdev_state` that needs no kernel object: config
//! space, BAR masks, region info, both serial ports, and the `num_irqs` remembered from
//! `VFIO_DEVICE_GET_INFO`. The kernel side holds it under its `ops_lock`, splits a user
//! access with [`chunk_len`] as `mtty_read`/`mtty_write` do, and calls
//! [`MttyDevice::access`] once per chunk, delivering the returned [`Triggers`].
//!
//! Where upstream reads memory it never wrote (stack bytes, heap past `vconfig`, `s[2..]`
//! for BAR2-5), the C result is undefined; we return zeros and say so at each place.
//!
//! Kernel-independent: the host build runs the tests.

use super::mtty_uart::{SerialPort, Triggers};
use crate::errno::Errno;

/// `MTTY_CONFIG_SPACE_SIZE`: the config region's size as reported and allocated (255, not
/// 256: upstream's off-by-one).
// upstream: mtty.c:47
pub(crate) const CONFIG_SPACE_SIZE: u32 = 0xff;
/// The config bytes we keep: `kzalloc(255)` comes from the 256-byte slab, zeroed whole, so
/// byte 0xff reads 0 in C too. Reads past it are heap over-reads in C; we return 0.
const VCONFIG_LEN: usize = 256;
/// `MTTY_IO_BAR_SIZE`: each port's I/O BAR.
pub(crate) const IO_BAR_SIZE: u32 = 0x8;
/// `MTTY_VFIO_PCI_OFFSET_SHIFT`: a region's file offset is its index shifted by this.
pub(crate) const OFFSET_SHIFT: u32 = 40;
/// `MTTY_VFIO_PCI_OFFSET_MASK`: the offset within a region.
pub(crate) const OFFSET_MASK: u64 = (1 << OFFSET_SHIFT) - 1;
/// `MAX_MTTYS`: ports shared by all mtty devices.
pub(crate) const MAX_MTTYS: u32 = 24;

/// `VFIO_PCI_BAR0_REGION_INDEX`.
pub(crate) const BAR0_REGION_INDEX: u32 = 0;
/// `VFIO_PCI_BAR1_REGION_INDEX`.
pub(crate) const BAR1_REGION_INDEX: u32 = 1;
/// `VFIO_PCI_BAR5_REGION_INDEX`.
pub(crate) const BAR5_REGION_INDEX: u32 = 5;
/// `VFIO_PCI_CONFIG_REGION_INDEX`.
pub(crate) const CONFIG_REGION_INDEX: u32 = 7;
/// `VFIO_PCI_NUM_REGIONS`.
pub(crate) const NUM_REGIONS: u32 = 9;
/// `VFIO_PCI_INTX_IRQ_INDEX`.
pub(crate) const INTX_IRQ_INDEX: u32 = 0;
/// `VFIO_PCI_MSI_IRQ_INDEX`.
pub(crate) const MSI_IRQ_INDEX: u32 = 1;
/// `VFIO_PCI_NUM_IRQS`.
pub(crate) const NUM_IRQS: u32 = 5;

/// `VFIO_DEVICE_FLAGS_PCI`.
pub(crate) const DEVICE_FLAGS_PCI: u32 = 1 << 1;
/// `VFIO_REGION_INFO_FLAG_READ`.
pub(crate) const REGION_INFO_FLAG_READ: u32 = 1 << 0;
/// `VFIO_REGION_INFO_FLAG_WRITE`.
pub(crate) const REGION_INFO_FLAG_WRITE: u32 = 1 << 1;
/// `VFIO_IRQ_INFO_EVENTFD`.
pub(crate) const IRQ_INFO_EVENTFD: u32 = 1 << 0;
/// `VFIO_IRQ_INFO_MASKABLE`.
pub(crate) const IRQ_INFO_MASKABLE: u32 = 1 << 1;
/// `VFIO_IRQ_INFO_AUTOMASKED`.
pub(crate) const IRQ_INFO_AUTOMASKED: u32 = 1 << 2;
/// `VFIO_IRQ_INFO_NORESIZE`.
pub(crate) const IRQ_INFO_NORESIZE: u32 = 1 << 3;
/// `offsetofend(struct vfio_device_info, num_irqs)`.
pub(crate) const DEVICE_INFO_MINSZ: u32 = 16;
/// `offsetofend(struct vfio_irq_info, count)`.
pub(crate) const IRQ_INFO_MINSZ: u32 = 16;

/// `MTTY_VFIO_PCI_INDEX_TO_OFFSET`.
pub(crate) const fn index_to_offset(index: u32) -> u64 {
    (index as u64) << OFFSET_SHIFT
}

/// `MTTY_VFIO_PCI_OFFSET_TO_INDEX`, as `mdev_access` stores it in an `unsigned int`.
pub(crate) const fn offset_to_index(pos: u64) -> u32 {
    (pos >> OFFSET_SHIFT) as u32
}

/// How many bytes of a `count`-byte access at `pos` the next `mdev_access` call handles:
/// 4 if at least 4 are left and `pos` is 4-aligned, else 2 likewise, else 1.
// upstream: mtty.c:1425
pub(crate) fn chunk_len(pos: u64, count: usize) -> usize {
    // `!(*ppos % 4)`, `!(*ppos % 2)`.
    if count >= 4 && pos & 3 == 0 {
        4
    } else if count >= 2 && pos & 1 == 0 {
        2
    } else {
        1
    }
}

/// `mtty_get_available`: how many more devices of a type with `nr_ports` ports fit (types
/// have 1 or 2; a type of 0 ports, which upstream would divide by, has none available).
// upstream: mtty.c:1903
pub(crate) fn available_instances(avail_ports: u32, nr_ports: u32) -> u32 {
    avail_ports.checked_div(nr_ports).unwrap_or(0)
}

/// `mtty_init_dev`'s port accounting: the ports left after creating a device of `nr_ports`,
/// or `ENOSPC`.
// upstream: mtty.c:1320
pub(crate) fn claim_ports(avail_ports: u32, nr_ports: u32) -> Result<u32, Errno> {
    avail_ports.checked_sub(nr_ports).ok_or(Errno::ENOSPC)
}

/// The emulated config space and the BAR size masks (`vconfig`, `bar_mask`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigSpace {
    bytes: [u8; VCONFIG_LEN],
    /// `bar_mask[0..2]` (upstream has one per region; only BAR0/1 are ever used).
    bar_mask: [u32; 2],
    nr_ports: u32,
}

/// `STORE_LE32`.
fn store_le32(bytes: &mut [u8; VCONFIG_LEN], off: usize, val: u32) {
    bytes[off..off + 4].copy_from_slice(&val.to_le_bytes());
}

fn load_le32(bytes: &[u8; VCONFIG_LEN], off: usize) -> u32 {
    u32::from_le_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]])
}

/// `~(MTTY_IO_BAR_SIZE) + 1` as stored in the `u32` `bar_mask`.
const IO_BAR_MASK: u32 = !IO_BAR_SIZE + 1;

/// `mtty_create_config_space` for a device of `nr_ports` (1 or 2) ports.
// upstream: mtty.c:249
pub(crate) fn create_config_space(nr_ports: u32) -> ConfigSpace {
    let mut c = [0u8; VCONFIG_LEN];
    // Vendor 0x4348, device 0x3253.
    store_le32(&mut c, 0x0, 0x3253_4348);
    // Command: I/O space enabled.
    c[0x4..0x6].copy_from_slice(&0x0001u16.to_le_bytes());
    // Status: 0x0200 (DEVSEL medium; the comment upstream says "capabilities list absent").
    c[0x6..0x8].copy_from_slice(&0x0200u16.to_le_bytes());
    c[0x8] = 0x10; // revision
    c[0x9] = 0x02; // prog-if: 16550-compatible
    c[0xa] = 0x00; // subclass: serial
    c[0xb] = 0x07; // class: simple communication controller
    let mut bar_mask = [0u32; 2];
    store_le32(&mut c, 0x10, 0x000001); // BAR0: I/O
    bar_mask[0] = IO_BAR_MASK;
    if nr_ports == 2 {
        store_le32(&mut c, 0x14, 0x000001); // BAR1: I/O
        bar_mask[1] = IO_BAR_MASK;
    }
    store_le32(&mut c, 0x2c, 0x3253_4348); // subsystem IDs
    c[0x34] = 0x00; // capabilities pointer
    c[0x3d] = 0x01; // interrupt pin INTA#
                    // Vendor specific data, then "PCI Serial/UART".
    c[0x40] = 0x23;
    c[0x43] = 0x80;
    c[0x44] = 0x23;
    c[0x48] = 0x23;
    c[0x4c] = 0x23;
    c[0x60..0x6f].copy_from_slice(b"PCI Serial/UART");
    ConfigSpace {
        bytes: c,
        bar_mask,
        nr_ports,
    }
}

impl ConfigSpace {
    /// The bytes (0xff and up are never written).
    pub(crate) fn bytes(&self) -> &[u8; 256] {
        &self.bytes
    }

    /// `bar_mask[0..2]`.
    pub(crate) fn bar_mask(&self) -> [u32; 2] {
        self.bar_mask
    }

    /// A config read: `memcpy(buf, vconfig + offset, count)` for any in-region `offset`
    /// (upstream checks no bound; bytes past 0xff read 0 here).
    // upstream: mtty.c:735
    pub(crate) fn read(&self, offset: u64, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = usize::try_from(offset)
                .ok()
                .and_then(|o| o.checked_add(i))
                .and_then(|o| self.bytes.get(o))
                .copied()
                .unwrap_or(0);
        }
    }

    /// `handle_pci_cfg_write`: `offset` is the region offset truncated to `u16` (as upstream
    /// passes it, so offset 0x10010 writes BAR0), `data` the 1, 2 or 4 bytes written.
    ///
    /// Only the offsets below are handled, each as one register whatever the size:
    /// - 0x3c: the interrupt line takes `data[0]`;
    /// - 0x10/0x14: BAR0/BAR1 take the 32-bit value; all ones sizes it (`bar_mask`), other
    ///   values are stored unaligned as written; the low two bits stay as they were (I/O).
    ///   With one port, BAR1 is zeroed instead (and stays 0);
    /// - 0x18, 0x1c, 0x20: BAR2-4 are zeroed;
    /// - everything else (command, status, BAR5, byte writes into a BAR, ...) is ignored.
    ///
    /// A 1- or 2-byte write to 0x10/0x14 makes upstream read the BAR value as `*(u32 *)buf`
    /// from a 1- or 2-byte stack variable: the upper bytes are stack garbage. We zero-extend.
    // upstream: mtty.c:313
    pub(crate) fn write(&mut self, offset: u16, data: &[u8]) {
        let off = usize::from(offset);
        match offset {
            0x3c => {
                if let Some(&b) = data.first() {
                    self.bytes[0x3c] = b;
                }
            }
            0x10 | 0x14 => {
                let bar_index = usize::from(offset == 0x14);
                if self.nr_ports == 1 && bar_index == 1 {
                    store_le32(&mut self.bytes, off, 0);
                    return;
                }
                let mut raw = [0u8; 4];
                let n = data.len().min(4);
                raw[..n].copy_from_slice(&data[..n]);
                let mut cfg_addr = u32::from_le_bytes(raw);
                if cfg_addr == 0xffff_ffff {
                    cfg_addr &= self.bar_mask[bar_index];
                }
                cfg_addr |= u32::from(self.bytes[off] & 0x3);
                store_le32(&mut self.bytes, off, cfg_addr);
            }
            0x18 | 0x1c | 0x20 => store_le32(&mut self.bytes, off, 0),
            // 0x04 command, 0x06 status, 0x3d pin: write-protected; the rest unhandled.
            _ => {}
        }
    }
}

/// The part of `struct mdev_region_info` mtty uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MdevRegionInfo {
    /// The BAR address `mdev_read_base` last found (never used for anything upstream).
    pub(crate) start: u64,
    /// The size last reported by `VFIO_DEVICE_GET_REGION_INFO` (0 until then).
    pub(crate) size: u32,
    /// `MTTY_VFIO_PCI_INDEX_TO_OFFSET(index)`, once reported.
    pub(crate) vfio_offset: u64,
}

/// What `VFIO_DEVICE_GET_REGION_INFO` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RegionInfo {
    /// `size`: 0xff for config, 8 for BAR0 (and BAR1 with two ports), else 0.
    pub(crate) size: u64,
    /// `offset`: the index shifted by [`OFFSET_SHIFT`].
    pub(crate) offset: u64,
    /// `flags`: READ | WRITE for every region, including empty ones.
    pub(crate) flags: u32,
}

/// What `VFIO_DEVICE_GET_INFO` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeviceInfo {
    /// `VFIO_DEVICE_FLAGS_PCI`.
    pub(crate) flags: u32,
    /// `VFIO_PCI_NUM_REGIONS`.
    pub(crate) num_regions: u32,
    /// `VFIO_PCI_NUM_IRQS`.
    pub(crate) num_irqs: u32,
}

/// What `VFIO_DEVICE_GET_IRQ_INFO` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IrqInfo {
    /// EVENTFD, plus MASKABLE | AUTOMASKED for INTx or NORESIZE for MSI.
    pub(crate) flags: u32,
    /// Always 1.
    pub(crate) count: u32,
}

/// The kernel-independent state of one mtty device (`struct mdev_state` without locks,
/// eventfds, migration files and IRQ state).
///
/// Nothing here is ever reset: upstream's `VFIO_DEVICE_RESET` only returns the migration
/// state to RUNNING and drops the migration files (`mtty_reset`, deferred while the state
/// mutex is held), and close only drops the files and eventfds, so the UARTs, config space
/// and remembered `num_irqs` carry over to the next open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MttyDevice {
    nr_ports: u32,
    /// Config space and BAR masks.
    pub(crate) config: ConfigSpace,
    /// `region_info[VFIO_PCI_NUM_REGIONS]`.
    pub(crate) region_info: [MdevRegionInfo; NUM_REGIONS as usize],
    /// `s[2]`: both ports exist even on a one-port device, and BAR1 accesses reach port 1
    /// there too (upstream does not check), though its BAR reads 0 and its region size is 0.
    pub(crate) ports: [SerialPort; 2],
    /// `dev_info.num_irqs`: 0 until the first successful `VFIO_DEVICE_GET_INFO`, and
    /// upstream checks `GET_IRQ_INFO` and `SET_IRQS` indices against it, so both fail with
    /// `EINVAL` before user space has asked for the device info. Kept across open/close.
    num_irqs: u32,
}

impl MttyDevice {
    /// The state `mtty_init_dev` builds for `nr_ports` (1 or 2) ports.
    // upstream: mtty.c:1309
    pub(crate) fn new(nr_ports: u32) -> Self {
        MttyDevice {
            nr_ports,
            config: create_config_space(nr_ports),
            region_info: [MdevRegionInfo::default(); NUM_REGIONS as usize],
            ports: [SerialPort::new(); 2],
            num_irqs: 0,
        }
    }

    /// The device's port count.
    pub(crate) fn nr_ports(&self) -> u32 {
        self.nr_ports
    }

    /// `dev_info.num_irqs` as last reported by `VFIO_DEVICE_GET_INFO` (0 before): the
    /// `max_irq_type` and `num_irqs` upstream passes to `vfio_set_irqs_validate_and_prepare`.
    pub(crate) fn num_irqs(&self) -> u32 {
        self.num_irqs
    }

    /// `mdev_read_base`: the BAR addresses of the regions with a reported size. Upstream
    /// calls it on a BAR access while that region's `start` is 0 and never uses the result;
    /// kept for fidelity of [`Self::region_info`].
    // upstream: mtty.c:673
    fn read_base(&mut self) {
        let mut pos = 0x10usize; // PCI_BASE_ADDRESS_0
        for index in 0..=BAR5_REGION_INDEX as usize {
            if self.region_info[index].size == 0 {
                continue;
            }
            let bar = load_le32(&self.config.bytes, pos);
            let start_lo = bar & !0x0f; // PCI_BASE_ADDRESS_MEM_MASK
            let start_hi = match bar & 0x06 {
                // PCI_BASE_ADDRESS_MEM_TYPE_64
                0x04 => {
                    let hi = load_le32(&self.config.bytes, pos + 4);
                    pos += 4;
                    hi
                }
                _ => 0,
            };
            pos += 4;
            self.region_info[index].start = (u64::from(start_hi) << 32) | u64::from(start_lo);
        }
    }

    /// `mdev_access` for one chunk (see [`chunk_len`]) at file offset `pos`: `buf` is the
    /// data to write, or is filled with the data read.
    ///
    /// - Config region: see [`ConfigSpace::read`] and [`ConfigSpace::write`].
    /// - BAR0-5: the register at the offset (truncated to `u16`) of port `index`, one byte
    ///   whatever the chunk size. Read chunks are `[value, 0, 0, 0]`: upstream stores only
    ///   the first byte and copies the rest of its uninitialised stack variable out (and
    ///   the whole of it where [`SerialPort::read`] gives `None`); we give zeros. BAR2-5
    ///   index `s[2..5]` past the array upstream (memory corruption); here they succeed
    ///   with no effect and read 0.
    /// - Any other region: `EFAULT`, what `mtty_read`/`mtty_write` make of `mdev_access`'s
    ///   -1. Earlier chunks of the same access keep their effect.
    // upstream: mtty.c:710
    pub(crate) fn access(
        &mut self,
        pos: u64,
        buf: &mut [u8],
        is_write: bool,
    ) -> Result<Triggers, Errno> {
        let index = offset_to_index(pos);
        let offset = pos & OFFSET_MASK;
        match index {
            CONFIG_REGION_INDEX => {
                if is_write {
                    self.config.write(offset as u16, buf);
                } else {
                    self.config.read(offset, buf);
                }
                Ok(Triggers::NONE)
            }
            BAR0_REGION_INDEX..=BAR5_REGION_INDEX => {
                if self.region_info[index as usize].start == 0 {
                    self.read_base();
                }
                let Some(port) = self.ports.get_mut(index as usize) else {
                    if !is_write {
                        buf.fill(0);
                    }
                    return Ok(Triggers::NONE);
                };
                if is_write {
                    Ok(port.write(offset as u16, buf.first().copied().unwrap_or(0)))
                } else {
                    let (val, irq) = port.read(offset as u16);
                    buf.fill(0);
                    if let Some(b) = buf.first_mut() {
                        *b = val.unwrap_or(0);
                    }
                    Ok(irq)
                }
            }
            _ => Err(Errno::EFAULT),
        }
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` for `index` (`mtty_ioctl_get_region_info`); also
    /// records the size, which [`Self::access`]'s BAR base lookup uses.
    // upstream: mtty.c:1717
    pub(crate) fn region_info(&mut self, index: u32) -> Result<RegionInfo, Errno> {
        if index >= NUM_REGIONS {
            return Err(Errno::EINVAL);
        }
        let size = match index {
            CONFIG_REGION_INDEX => CONFIG_SPACE_SIZE,
            BAR0_REGION_INDEX => IO_BAR_SIZE,
            BAR1_REGION_INDEX if self.nr_ports == 2 => IO_BAR_SIZE,
            _ => 0,
        };
        let ri = &mut self.region_info[index as usize];
        ri.size = size;
        ri.vfio_offset = index_to_offset(index);
        Ok(RegionInfo {
            size: u64::from(size),
            offset: index_to_offset(index),
            flags: REGION_INFO_FLAG_READ | REGION_INFO_FLAG_WRITE,
        })
    }

    /// `VFIO_DEVICE_GET_INFO` with the user's `argsz`: `EINVAL` below the minimum, else the
    /// info, and from now on IRQ indices are checked against its `num_irqs`.
    // upstream: mtty.c:1796
    pub(crate) fn device_info(&mut self, argsz: u32) -> Result<DeviceInfo, Errno> {
        if argsz < DEVICE_INFO_MINSZ {
            return Err(Errno::EINVAL);
        }
        let info = DeviceInfo {
            flags: DEVICE_FLAGS_PCI,
            num_regions: NUM_REGIONS,
            num_irqs: NUM_IRQS,
        };
        self.num_irqs = info.num_irqs;
        Ok(info)
    }

    /// `VFIO_DEVICE_GET_IRQ_INFO` with the user's `argsz` and `index`: `EINVAL` below the
    /// minimum size, for an index at or past the remembered `num_irqs` (all of them before
    /// [`Self::device_info`]), and for anything but INTx and MSI.
    // upstream: mtty.c:1820, mtty.c:1760
    pub(crate) fn irq_info(&self, argsz: u32, index: u32) -> Result<IrqInfo, Errno> {
        if argsz < IRQ_INFO_MINSZ || index >= self.num_irqs {
            return Err(Errno::EINVAL);
        }
        let extra = match index {
            INTX_IRQ_INDEX => IRQ_INFO_MASKABLE | IRQ_INFO_AUTOMASKED,
            MSI_IRQ_INDEX => IRQ_INFO_NORESIZE,
            _ => return Err(Errno::EINVAL),
        };
        Ok(IrqInfo {
            flags: IRQ_INFO_EVENTFD | extra,
            count: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::mtty_uart::reg;
    use super::*;

    fn dword(c: &ConfigSpace, off: usize) -> u32 {
        load_le32(&c.bytes, off)
    }

    #[test]
    fn config_space_bytes() {
        for nr in [1u32, 2] {
            let c = create_config_space(nr);
            let b = c.bytes();
            assert_eq!(b[0..4], [0x48, 0x43, 0x53, 0x32]);
            assert_eq!(b[4..12], [0x01, 0, 0x00, 0x02, 0x10, 0x02, 0x00, 0x07]);
            assert_eq!(dword(&c, 0x10), 1);
            assert_eq!(dword(&c, 0x14), if nr == 2 { 1 } else { 0 });
            assert_eq!(dword(&c, 0x2c), 0x3253_4348);
            assert_eq!((b[0x3c], b[0x3d]), (0, 1));
            assert_eq!(
                b[0x40..0x4d],
                [0x23, 0, 0, 0x80, 0x23, 0, 0, 0, 0x23, 0, 0, 0, 0x23]
            );
            assert_eq!(&b[0x60..0x6f], b"PCI Serial/UART");
            let set = b.iter().filter(|&&x| x != 0).count();
            assert_eq!(set, 34 + nr as usize);
            let mask = if nr == 2 { 0xffff_fff8 } else { 0 };
            assert_eq!(c.bar_mask(), [0xffff_fff8, mask]);
        }
    }

    #[test]
    fn bar_sizing() {
        let mut c = create_config_space(2);
        c.write(0x10, &[0xff; 4]);
        assert_eq!(dword(&c, 0x10), 0xffff_fff9);
        c.write(0x10, &0xc000u32.to_le_bytes());
        assert_eq!(dword(&c, 0x10), 0xc001);
        // Not aligned to the size, not masked: stored as written, bits 0-1 kept.
        c.write(0x14, &0x1234_5676u32.to_le_bytes());
        assert_eq!(dword(&c, 0x14), 0x1234_5677);
        // A 2-byte write of all ones is not a sizing request (zero-extended).
        c.write(0x14, &[0xff, 0xff]);
        assert_eq!(dword(&c, 0x14), 0xffff);
        // A write into the middle of a BAR is ignored.
        c.write(0x12, &[0xaa, 0xaa]);
        assert_eq!(dword(&c, 0x10), 0xc001);
    }

    #[test]
    fn bar1_with_one_port() {
        let mut c = create_config_space(1);
        c.write(0x14, &[0xff; 4]);
        assert_eq!(dword(&c, 0x14), 0);
        c.write(0x14, &[0x01]);
        assert_eq!(dword(&c, 0x14), 0);
    }

    #[test]
    fn other_cfg_writes() {
        let mut c = create_config_space(2);
        let before = c.clone();
        for off in [
            0x00u16, 0x04, 0x06, 0x08, 0x24, 0x2c, 0x3d, 0x3e, 0x40, 0xfe, 0x100, 0xffff,
        ] {
            c.write(off, &[0xff; 4]);
        }
        assert_eq!(c, before);
        c.write(0x3c, &[0x0b, 0xee, 0xee, 0xee]);
        assert_eq!(c.bytes()[0x3c..0x40], [0x0b, 0x01, 0, 0]);
        c.bytes[0x18] = 5;
        c.bytes[0x20] = 5;
        c.write(0x18, &[0xff]);
        c.write(0x20, &[0xff; 2]);
        assert_eq!((dword(&c, 0x18), dword(&c, 0x20)), (0, 0));
    }

    #[test]
    fn config_reads_past_the_end() {
        let c = create_config_space(1);
        let mut buf = [0xaau8; 4];
        c.read(0xfc, &mut buf);
        assert_eq!(buf, [0; 4]);
        c.read(0x6c, &mut buf);
        assert_eq!(buf, *b"ART\0");
        c.read(OFFSET_MASK, &mut buf);
        assert_eq!(buf, [0; 4]);
    }

    #[test]
    fn chunks() {
        assert_eq!(chunk_len(0, 8), 4);
        assert_eq!(chunk_len(0, 3), 2);
        assert_eq!(chunk_len(2, 8), 2);
        assert_eq!(chunk_len(1, 8), 1);
        assert_eq!(chunk_len(4, 1), 1);
        assert_eq!(chunk_len(index_to_offset(7) + 4, 4), 4);
    }

    #[test]
    fn region_infos() {
        for nr in [1u32, 2] {
            let mut d = MttyDevice::new(nr);
            for index in 0..NUM_REGIONS {
                let ri = d.region_info(index).unwrap();
                let size = match index {
                    7 => 0xff,
                    0 => 8,
                    1 if nr == 2 => 8,
                    _ => 0,
                };
                assert_eq!(
                    ri,
                    RegionInfo {
                        size,
                        offset: u64::from(index) << 40,
                        flags: 3
                    }
                );
                assert_eq!(d.region_info[index as usize].size as u64, size);
            }
            assert_eq!(d.region_info(9), Err(Errno::EINVAL));
            assert_eq!(d.region_info(u32::MAX), Err(Errno::EINVAL));
        }
    }

    #[test]
    fn irq_info_needs_device_info_first() {
        let mut d = MttyDevice::new(2);
        assert_eq!(d.irq_info(16, 0), Err(Errno::EINVAL));
        assert_eq!(d.device_info(15), Err(Errno::EINVAL));
        assert_eq!(d.num_irqs(), 0);
        let info = d.device_info(16).unwrap();
        assert_eq!(
            info,
            DeviceInfo {
                flags: 2,
                num_regions: 9,
                num_irqs: 5
            }
        );
        assert_eq!(d.irq_info(16, 0), Ok(IrqInfo { flags: 7, count: 1 }));
        assert_eq!(d.irq_info(32, 1), Ok(IrqInfo { flags: 9, count: 1 }));
        assert_eq!(d.irq_info(15, 0), Err(Errno::EINVAL));
        for index in [2, 3, 4, 5, 100] {
            assert_eq!(d.irq_info(16, index), Err(Errno::EINVAL));
        }
    }

    #[test]
    fn access_regions() {
        let mut d = MttyDevice::new(1);
        let mut buf = [0xaau8; 4];
        // Config via the 40-bit offset; a write past 0xffff aliases (u16 truncation).
        let _ = d.access(index_to_offset(7), &mut buf, false).unwrap();
        assert_eq!(buf, [0x48, 0x43, 0x53, 0x32]);
        let mut line = [9u8];
        assert!(d
            .access(index_to_offset(7) + 0x1_003c, &mut line, true)
            .unwrap()
            .is_none());
        assert_eq!(d.config.bytes()[0x3c], 9);
        // BAR1 reaches port 1 even with one port.
        let mut b = [0x41u8];
        assert!(d
            .access(index_to_offset(1) + 7, &mut b, true)
            .unwrap()
            .is_none());
        assert_eq!(d.ports[1].uart_reg[7], 0x41);
        let mut r4 = [0xaau8; 4];
        let _ = d.access(index_to_offset(1) + 4, &mut r4, false).unwrap();
        assert_eq!(
            r4,
            [0, 0, 0, 0],
            "MCR at 4; 4-byte reads touch one register"
        );
        let _ = d
            .access(index_to_offset(1) + 0x1_0007, &mut r4[..1], false)
            .unwrap();
        assert_eq!(r4[0], 0x41, "BAR offsets truncate to u16");
        // BAR2-5: no effect, zeros.
        let before = d.clone();
        for index in 2..=5 {
            let mut w = [0xffu8; 4];
            assert!(d
                .access(index_to_offset(index), &mut w, true)
                .unwrap()
                .is_none());
            let _ = d.access(index_to_offset(index) + 5, &mut w, false).unwrap();
            assert_eq!(w, [0; 4]);
        }
        assert_eq!(d.ports, before.ports);
        // ROM, VGA and beyond: EFAULT.
        for index in [6u32, 8, 9, 1 << 20] {
            assert_eq!(
                d.access(index_to_offset(index), &mut buf, false),
                Err(Errno::EFAULT)
            );
            assert_eq!(
                d.access(index_to_offset(index), &mut buf, true),
                Err(Errno::EFAULT)
            );
        }
    }

    #[test]
    fn bar_access_triggers() {
        let mut d = MttyDevice::new(2);
        let mut ier = [0x0bu8, 0, 0, 0];
        let t = d
            .access(
                index_to_offset(0) + u64::from(reg::IER),
                &mut ier[..1],
                true,
            )
            .unwrap();
        assert_eq!(t.count(), 1, "THRI with an empty FIFO");
        let mut mcr = [0x0bu8, 0];
        let t = d
            .access(index_to_offset(0) + u64::from(reg::MCR), &mut mcr, true)
            .unwrap();
        assert_eq!(t.count(), 2);
    }

    #[test]
    fn read_base_follows_reported_sizes() {
        let mut d = MttyDevice::new(2);
        let mut b = [0u8; 1];
        let _ = d.access(0, &mut b, false).unwrap();
        assert_eq!(d.region_info[0].start, 0, "no size reported yet");
        d.region_info(0).unwrap();
        d.region_info(1).unwrap();
        d.config.write(0x10, &0xc050u32.to_le_bytes());
        d.config.write(0x14, &0xc045u32.to_le_bytes()); // bit 2 set: "64-bit"
        let _ = d.access(index_to_offset(1), &mut b, false).unwrap();
        assert_eq!(d.region_info[0].start, 0xc050);
        assert_eq!(d.region_info[1].start, 0xc040);
    }

    #[test]
    fn port_accounting() {
        assert_eq!(available_instances(MAX_MTTYS, 2), 12);
        assert_eq!(available_instances(3, 2), 1);
        // No division by zero (a panic path in the module): a 0-port type has none.
        assert_eq!(available_instances(MAX_MTTYS, 0), 0);
        assert_eq!(claim_ports(3, 2), Ok(1));
        assert_eq!(claim_ports(1, 2), Err(Errno::ENOSPC));
    }
}
