// SPDX-License-Identifier: GPL-2.0

//! Region reads and writes (`vfio_pci_core_read`, `_write`, upstream's `vfio_pci_rw`): the
//! config region through the config-space engine, BARs through their kernel mappings
//! (`vfio_pci_rdwr.c`). The ROM and VGA are not ported yet.

use crate::{
    config::{
        self,
        access::UserBuf, //
    },
    enable,
    errno::Errno,
    ffi::{
        CoreDev,
        VFIO_PCI_OFFSET_SHIFT, //
    },
    io_steps::{
        IoSpan,
        IoStep, //
    },
    kernel_ext::{
        bindings,
        pci::{
            DeviceFields,
            IoMem,
            PowerState,
            RomMap, //
        },
        uapi,
    },
    state::Opened,
};
use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// The user's buffer of one `read` or `write`.
pub(crate) struct User(pub(crate) usize);

impl UserBuf for User {
    fn copy_from(&mut self, done: usize, out: &mut [u8]) -> Result<(), Errno> {
        let addr = self.0.checked_add(done).ok_or(Errno::EFAULT)?;
        UserSlice::new(UserPtr::from_addr(addr), out.len())
            .reader()
            .read_slice(out)
            .map_err(|_| Errno::EFAULT)
    }

    fn copy_to(&mut self, done: usize, data: &[u8]) -> Result<(), Errno> {
        let addr = self.0.checked_add(done).ok_or(Errno::EFAULT)?;
        UserSlice::new(UserPtr::from_addr(addr), data.len())
            .writer()
            .write_slice(data)
            .map_err(|_| Errno::EFAULT)
    }
}

/// `vfio_pci_rw`: `count` bytes at `*ppos` (region index in the high bits), to or from the
/// user buffer at `buf`; advances `*ppos` by what was done.
pub(crate) fn rw(
    vdev: &CoreDev,
    opened: Option<&Opened>,
    buf: usize,
    count: usize,
    ppos: &mut i64,
    iswrite: bool,
) -> Result<isize> {
    // CAST: The high bits of the offset are the region index.
    let index = (*ppos as u64 >> VFIO_PCI_OFFSET_SHIFT) as u32;
    if index >= uapi::VFIO_PCI_NUM_REGIONS + vdev.num_regions() {
        return Err(EINVAL);
    }
    if let Err(e) = vdev.pm_runtime_resume_and_get() {
        dev_info!(
            vdev.pdev().as_ref(),
            "runtime resume failed {}\n",
            e.to_errno()
        );
        return Err(EIO);
    }
    let ret = match index {
        uapi::VFIO_PCI_CONFIG_REGION_INDEX => {
            // CAST: A file position is not negative here (the index check above).
            let done = opened.ok_or(EINVAL).and_then(|opened| {
                enable::config_access(vdev, &opened.config, |cfg, backend| {
                    cfg.rw(backend, &mut User(buf), *ppos as u64, count, iswrite)
                })
                .map_err(Error::from)
            });
            done.map(|done| {
                // CAST: At most `count` bytes, which fit a file position.
                *ppos += done as i64;
                done as isize
            })
        }
        uapi::VFIO_PCI_BAR0_REGION_INDEX..=uapi::VFIO_PCI_BAR5_REGION_INDEX => {
            bar_rw(vdev, opened, index as usize, buf, count, ppos, iswrite)
        }
        uapi::VFIO_PCI_ROM_REGION_INDEX if !iswrite => rom_read(vdev, buf, count, ppos),
        i if i >= uapi::VFIO_PCI_NUM_REGIONS => {
            vdev.region_rw(i - uapi::VFIO_PCI_NUM_REGIONS, buf, count, ppos, iswrite)
        }
        // ROM writes; VGA (only with `CONFIG_VFIO_PCI_VGA`, which the target lacks).
        _ => Err(EINVAL),
    };
    vdev.pm_runtime_put();
    ret
}

/// `__vfio_pci_memory_enabled`: may the BARs be accessed? Not in D3; devices without a memory
/// enable bit (VFs) always, others by the virtual bit the user wrote. Callers hold
/// `memory_lock`.
pub(crate) fn memory_enabled(vdev: &CoreDev) -> bool {
    let pdev = vdev.pdev();
    config::memory_enabled(
        vdev.state().vcmd(),
        pdev.no_command_memory(),
        pdev.current_state() < PowerState::D3Hot as i32,
    )
}
/// `VFIO_PCI_OFFSET_MASK`.
const OFFSET_MASK: u64 = (1 << VFIO_PCI_OFFSET_SHIFT) - 1;

/// `vfio_pci_bar_rw` for BAR `bar`: bounded by the BAR, the MSI-X table skipped (reads of it
/// are 0xff, writes dropped).
fn bar_rw(
    vdev: &CoreDev,
    opened: Option<&Opened>,
    bar: usize,
    buf: usize,
    count: usize,
    ppos: &mut i64,
    iswrite: bool,
) -> Result<isize> {
    // CAST: A non-negative position (the caller's index check).
    let pos = *ppos as u64 & OFFSET_MASK;
    let (start, len, flags) = vdev.pdev().resource(bar);
    if start == 0 || pos >= len {
        return Err(EINVAL);
    }
    // CAST: Bounded by `count`.
    let count = count.min((len - pos) as usize);
    let io = opened.ok_or(ENODEV)?.bar(bar)?;
    let (msix_bar, msix_offset, msix_size) = vdev.msix();
    let (x_start, x_end) = if usize::from(msix_bar) == bar {
        (
            u64::from(msix_offset),
            u64::from(msix_offset) + u64::from(msix_size),
        )
    } else {
        (0, 0)
    };
    let span = IoSpan {
        x_start,
        x_end,
        max_width: 8,
        test_mem: flags & u64::from(bindings::IORESOURCE_MEM) != 0,
    };
    let done = do_io_rw(vdev, io, &span, buf, pos, count, iswrite)?;
    // CAST: At most `count` bytes.
    *ppos += done as i64;
    Ok(done as isize)
}

/// `vfio_pci_bar_rw` for the ROM: the ROM BAR (or the shadow ROM) mapped for the access;
/// past the image's end up to the BAR's reads 0xff. At most 4 bytes at a time: some devices
/// (e.g. Intel X710) fault on 8-byte ROM reads.
fn rom_read(vdev: &CoreDev, buf: usize, count: usize, ppos: &mut i64) -> Result<isize> {
    let pdev = vdev.pdev();
    // CAST: A non-negative position (the caller's index check).
    let pos = *ppos as u64 & OFFSET_MASK;
    let (start, bar_len, flags) = pdev.resource(6);
    let shadow_len = pdev.shadow_rom_len();
    let end = if start != 0 {
        bar_len
    } else if pdev.shadow_rom_addr() != 0 && shadow_len != 0 {
        shadow_len.next_power_of_two()
    } else {
        return Err(EINVAL);
    };
    if pos >= end {
        return Err(EINVAL);
    }
    // CAST: Bounded by `count`.
    let count = count.min((end - pos) as usize);
    let rom = if start != 0 {
        RomMap::map_bar(pdev)?
    } else {
        // CAST: A shadow ROM is small.
        RomMap::map_shadow(pdev, pdev.shadow_rom_addr(), shadow_len as usize)?
    };
    let span = IoSpan {
        x_start: rom.rom_len() as u64,
        x_end: end,
        max_width: 4,
        test_mem: flags & u64::from(bindings::IORESOURCE_MEM) != 0,
    };
    let done = do_io_rw(vdev, &rom, &span, buf, pos, count, false)?;
    // CAST: At most `count` bytes.
    *ppos += done as i64;
    Ok(done as isize)
}

/// `vfio_pci_core_do_io_rw`: `count` bytes at `off` of `io`, in the steps of
/// [`IoSpan::step`].
pub(crate) fn do_io_rw(
    vdev: &CoreDev,
    io: &IoMem,
    span: &IoSpan,
    buf: usize,
    mut off: u64,
    mut count: usize,
    iswrite: bool,
) -> Result<usize> {
    let mut done = 0;
    while count != 0 {
        let user = buf.checked_add(done).ok_or(EFAULT)?;
        let filled = match span.step(off, count) {
            IoStep::Excluded(len) => {
                if !iswrite {
                    for i in 0..len {
                        User(user).copy_to(i, &[0xff]).map_err(Error::from)?;
                    }
                }
                len
            }
            IoStep::Access(width) => {
                io_one(vdev, io, span.test_mem, user, off, width, iswrite)?;
                width
            }
        };
        count -= filled;
        done += filled;
        off += filled as u64;
    }
    Ok(done)
}

/// One access of `width` bytes (`vfio_pci_iordwr8/16/32/64` with `vfio_pci_core_ioread*`/
/// `iowrite*`): the user copy outside `memory_lock`, the access inside it.
fn io_one(
    vdev: &CoreDev,
    io: &IoMem,
    test_mem: bool,
    user: usize,
    off: u64,
    width: usize,
    iswrite: bool,
) -> Result {
    let off = usize::try_from(off)?;
    let mut bytes = [0u8; 8];
    if iswrite {
        User(user)
            .copy_from(0, &mut bytes[..width])
            .map_err(Error::from)?;
        let val = u64::from_le_bytes(bytes);
        // CAST: `val` holds `width` bytes.
        with_memory(vdev, test_mem, || match width {
            8 => io.write64(val, off),
            4 => io.write32(val as u32, off),
            2 => io.write16(val as u16, off),
            _ => io.write8(val as u8, off),
        })
    } else {
        let val = with_memory(vdev, test_mem, || match width {
            8 => io.read64(off),
            4 => io.read32(off).map(u64::from),
            2 => io.read16(off).map(u64::from),
            _ => io.read8(off).map(u64::from),
        })?;
        bytes = val.to_le_bytes();
        User(user).copy_to(0, &bytes[..width]).map_err(Error::from)
    }
}

/// Runs `f` with `memory_lock` held for reading if `test_mem`, failing with `EIO` while
/// memory decoding is off (`vfio_pci_core_ioread*`/`iowrite*`).
pub(crate) fn with_memory<T>(
    vdev: &CoreDev,
    test_mem: bool,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if !test_mem {
        return f();
    }
    let _held = vdev.memory_lock().read();
    if !memory_enabled(vdev) {
        return Err(EIO);
    }
    f()
}
