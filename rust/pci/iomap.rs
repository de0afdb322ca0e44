// SPDX-License-Identifier: GPL-2.0

//! A BAR claimed and mapped with `pci_iomap`: memory or I/O ports behind one cookie, accessed
//! with `ioread*`/`iowrite*` 1, 2, 4 or 8 bytes at a time, as vfio-pci's `vfio_pci_rdwr.c`
//! does (its `barmap`, set up by `vfio_pci_core_setup_barmap`).
//!
//! 7.3's [`kernel::pci::Bar`] maps memory BARs only, borrowing the device for its driver's
//! binding; an [`IoMap`] also maps I/O BARs and owns a device reference, so a VFIO device's
//! state can keep it between `open_device` and `close_device`.
//!
//! C header: [`include/asm-generic/iomap.h`](srctree/include/asm-generic/iomap.h).

use super::device::{
    raw,
    DeviceExt,
    Regions, //
};
use crate::bindings;
use core::ptr::NonNull;
use kernel::{
    device::Bound,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// A BAR requested for a name and mapped whole (`pci_request_selected_regions` +
/// `pci_iomap`); unmapped and released on drop.
///
/// # Invariants
///
/// `addr` is `pci_iomap(dev, bar, 0)` of the device of `regions`, which holds the BAR's
/// region, mapping `len` bytes, until drop.
pub struct IoMap {
    mem: IoMem,
    bar: u32,
    io: bool,
    regions: Regions,
}

/// An `__iomem` range (MMIO or ports mapped with `pci_iomap`) accessed with
/// `ioread*`/`iowrite*`: an [`IoMap`]'s, or one a C caller passes in.
///
/// # Invariants
///
/// `addr` maps at least `len` bytes of device memory or ports for as long as the value lives.
pub struct IoMem {
    addr: NonNull<c_void>,
    len: usize,
}

// SAFETY: As for `IoMap`: accesses are single MMIO or port accesses.
unsafe impl Send for IoMem {}
// SAFETY: As above.
unsafe impl Sync for IoMem {}

impl IoMem {
    /// A view of `len` bytes mapped at `addr`.
    ///
    /// # Safety
    ///
    /// `addr` is a non-NULL `__iomem` address mapping `len` bytes (accessible with
    /// `ioread*`/`iowrite*`) for the view's whole life.
    pub unsafe fn from_raw(addr: *mut c_void, len: usize) -> Result<Self> {
        // INVARIANT: Per the function contract.
        Ok(Self {
            addr: NonNull::new(addr).ok_or(EINVAL)?,
            len,
        })
    }
}

// SAFETY: `ioread*`/`iowrite*` and `pci_iounmap` may be called from any thread.
unsafe impl Send for IoMap {}
// SAFETY: Accesses through `&IoMap` are single MMIO or port accesses, which the hardware
// serialises; the mapping does not change while shared.
unsafe impl Sync for IoMap {}

impl IoMap {
    /// Requests BAR `bar` of `dev` for `name` and maps all of it.
    pub fn new(dev: &pci::Device<Bound>, bar: u32, name: &'static CStr) -> Result<Self> {
        let flags = dev.resource_flags(bar)?;
        let len = usize::try_from(dev.resource_len(bar)?)?;
        if len == 0 || !(flags.is_io() || flags.is_mem()) {
            return Err(ENODEV);
        }
        let regions = dev.request_regions(1 << bar, name)?;
        // CAST: `bar` < `PCI_STD_NUM_BARS`, checked by `resource_flags`.
        let index = bar as c_int;
        // SAFETY: The device is valid and we hold its BAR's region.
        let addr = unsafe { bindings::pci_iomap(raw(dev), index, 0) };
        let addr = NonNull::new(addr).ok_or(ENOMEM)?;
        // INVARIANT: Mapped whole just now, with the region held by `regions`.
        Ok(Self {
            mem: IoMem { addr, len },
            bar,
            io: flags.is_io(),
            regions,
        })
    }

    /// The BAR's index.
    pub fn bar(&self) -> u32 {
        self.bar
    }

    /// Whether the BAR is I/O ports (else memory).
    pub fn is_io(&self) -> bool {
        self.io
    }
}

impl core::ops::Deref for IoMap {
    type Target = IoMem;

    fn deref(&self) -> &IoMem {
        &self.mem
    }
}

impl IoMem {
    /// The mapping's size in bytes (the BAR's).
    pub fn size(&self) -> usize {
        self.len
    }

    /// The kernel address of the mapping, for C code that reads it (e.g. a driver struct's
    /// `barmap`); valid while `self` lives.
    pub fn as_ptr(&self) -> *mut c_void {
        self.addr.as_ptr()
    }

    /// The address of a `size`-byte access at `offset`: in the mapping and naturally aligned.
    #[inline]
    fn at(&self, offset: usize, size: usize) -> Result<*mut c_void> {
        let end = offset.checked_add(size).ok_or(EINVAL)?;
        if end > self.len || offset % size != 0 {
            return Err(EINVAL);
        }
        // SAFETY: `offset` is within the mapping (checked above), so the result is too.
        Ok(unsafe { self.addr.as_ptr().byte_add(offset) })
    }

    /// `ioread8` at `offset`.
    #[inline]
    pub fn read8(&self, offset: usize) -> Result<u8> {
        let addr = self.at(offset, 1)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        let val = unsafe { bindings::ioread8(addr) };
        // CAST: `ioread8` returns an `unsigned int` holding one byte.
        Ok(val as u8)
    }

    /// `ioread16` (little-endian) at `offset`.
    #[inline]
    pub fn read16(&self, offset: usize) -> Result<u16> {
        let addr = self.at(offset, 2)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        let val = unsafe { bindings::ioread16(addr) };
        // CAST: `ioread16` returns an `unsigned int` holding two bytes.
        Ok(val as u16)
    }

    /// `ioread32` (little-endian) at `offset`.
    #[inline]
    pub fn read32(&self, offset: usize) -> Result<u32> {
        let addr = self.at(offset, 4)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        Ok(unsafe { bindings::ioread32(addr) })
    }

    /// `ioread64` (little-endian) at `offset`: one access on memory, low then high dword on
    /// I/O ports (`io-64-nonatomic-lo-hi.h`, as `vfio_pci_rdwr.c`).
    #[cfg(all(CONFIG_64BIT, CONFIG_GENERIC_IOMAP))]
    #[inline]
    pub fn read64(&self, offset: usize) -> Result<u64> {
        let addr = self.at(offset, 8)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        Ok(unsafe { bindings::__ioread64_lo_hi(addr) })
    }

    /// `iowrite8` at `offset`.
    #[inline]
    pub fn write8(&self, val: u8, offset: usize) -> Result {
        let addr = self.at(offset, 1)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        unsafe { bindings::iowrite8(val, addr) };
        Ok(())
    }

    /// `iowrite16` (little-endian) at `offset`.
    #[inline]
    pub fn write16(&self, val: u16, offset: usize) -> Result {
        let addr = self.at(offset, 2)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        unsafe { bindings::iowrite16(val, addr) };
        Ok(())
    }

    /// `iowrite32` (little-endian) at `offset`.
    #[inline]
    pub fn write32(&self, val: u32, offset: usize) -> Result {
        let addr = self.at(offset, 4)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        unsafe { bindings::iowrite32(val, addr) };
        Ok(())
    }

    /// `iowrite64` (little-endian) at `offset`; see [`IoMap::read64`].
    #[cfg(all(CONFIG_64BIT, CONFIG_GENERIC_IOMAP))]
    #[inline]
    pub fn write64(&self, val: u64, offset: usize) -> Result {
        let addr = self.at(offset, 8)?;
        // SAFETY: `addr` is in the mapping (type invariant, checked by `at`).
        unsafe { bindings::__iowrite64_lo_hi(val, addr) };
        Ok(())
    }
}

impl IoMap {
    /// `iowrite8`, `iowrite16`, `iowrite32` or `iowrite64` (lo-hi on I/O ports, see
    /// [`IoMap::read64`]) of the low `width` bytes of `val` at `offset`, which need not be
    /// aligned to `width`: what C gets from `iowrite*` at any address of a mapping (vfio-pci's
    /// ioeventfds take any offset of a BAR). `EINVAL` for another width or past the mapping.
    #[cfg(all(CONFIG_64BIT, CONFIG_GENERIC_IOMAP))]
    pub fn write_unaligned(&self, val: u64, width: usize, offset: usize) -> Result {
        let end = offset.checked_add(width).ok_or(EINVAL)?;
        if end > self.len {
            return Err(EINVAL);
        }
        // SAFETY: `offset` is within the mapping (checked above), so the result is too.
        let addr = unsafe { self.addr.as_ptr().byte_add(offset) };
        // CAST: Each write takes `val`'s low `width` bytes, as C's implicit conversions.
        // SAFETY: The `width` bytes at `addr` are in the mapping (type invariant, checked
        // above); the accessors take any address of a mapping, aligned or not.
        unsafe {
            match width {
                1 => bindings::iowrite8(val as u8, addr),
                2 => bindings::iowrite16(val as u16, addr),
                4 => bindings::iowrite32(val as u32, addr),
                8 => bindings::__iowrite64_lo_hi(val, addr),
                _ => return Err(EINVAL),
            }
        }
        Ok(())
    }
}

impl Drop for IoMap {
    fn drop(&mut self) {
        // SAFETY: `addr` is our mapping of the device (type invariant), unmapped once, before
        // `regions` releases the BAR.
        unsafe { bindings::pci_iounmap(raw(self.regions.device()), self.mem.addr.as_ptr()) };
    }
}

/// A device's expansion ROM mapped for reading, unmapped on drop: the ROM BAR
/// (`pci_map_rom`, which enables its decoding; callers hold memory decoding on) or the
/// platform's shadow copy (`ioremap` of `pdev->rom`, e.g. a video BIOS).
///
/// # Invariants
///
/// `mem` is `pci_map_rom(dev)` (`shadow` false) or `ioremap(dev->rom, romlen)` (`shadow`
/// true), unmapped only by drop.
pub struct RomMap {
    mem: IoMem,
    dev: ARef<pci::Device>,
    shadow: bool,
    rom_len: usize,
}

impl RomMap {
    /// Maps the ROM BAR; `ENOMEM` when the PCI core finds no valid ROM image in it.
    pub fn map_bar(dev: &pci::Device<Bound>) -> Result<Self> {
        let mut size = 0usize;
        // SAFETY: The device is valid and bound; `size` receives the image's size.
        let addr = unsafe { bindings::pci_map_rom(raw(dev), &mut size) };
        let addr = NonNull::new(addr).ok_or(ENOMEM)?;
        // INVARIANT: Mapped just now.
        Ok(Self {
            mem: IoMem { addr, len: size },
            dev: dev.into(),
            shadow: false,
            rom_len: size,
        })
    }

    /// Maps the shadow copy at physical `addr`, `len` bytes.
    pub fn map_shadow(dev: &pci::Device<Bound>, addr: u64, len: usize) -> Result<Self> {
        // SAFETY: `addr`/`len` are the device's shadow ROM (`pdev->rom`/`romlen`), memory the
        // platform set aside for it.
        let ptr = unsafe { bindings::ioremap(addr, len as c_ulong) };
        let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
        // INVARIANT: Mapped just now.
        Ok(Self {
            mem: IoMem { addr: ptr, len },
            dev: dev.into(),
            shadow: true,
            rom_len: len,
        })
    }

    /// The ROM image's size: what the mapping holds (the BAR may be larger).
    pub fn rom_len(&self) -> usize {
        self.rom_len
    }
}

impl core::ops::Deref for RomMap {
    type Target = IoMem;

    fn deref(&self) -> &IoMem {
        &self.mem
    }
}

impl Drop for RomMap {
    fn drop(&mut self) {
        let addr = self.mem.addr.as_ptr();
        // SAFETY: Mapped by `map_bar` or `map_shadow` as `shadow` says (type invariant).
        unsafe {
            if self.shadow {
                bindings::iounmap(addr);
            } else {
                bindings::pci_unmap_rom(raw(&self.dev), addr);
            }
        }
    }
}
