// SPDX-License-Identifier: GPL-2.0

//! Device-specific regions this driver adds with the core's `vfio_pci_core_register_dev_region`
//! (upstream's IGD regions), the `struct vfio_pci_regops` table the core calls for them (reads
//! and writes go to a [`DevRegion`], release drops it), and the config dword such a driver
//! virtualizes.

use super::CoreDevice;
use crate::kernel_ext::{
    bindings,
    uapi, //
};
use core::marker::PhantomData;
use kernel::{
    error::to_result,
    prelude::*, //
};

/// `VFIO_PCI_OFFSET_SHIFT`: a region's index is in the file offset's high bits.
const OFFSET_SHIFT: u32 = 40;
/// `PCI_CAP_ID_INVALID_VIRT`: a config byte that lives in `vconfig` only.
const PCI_CAP_ID_INVALID_VIRT: u8 = 0xfe;

/// A device-specific region's contents, from registration to the device's last close.
pub(crate) trait DevRegion: Send + Sync + Sized + 'static {
    /// `regops->rw`: `count` bytes at `pos` of the region (`size` bytes long), to or from the
    /// user buffer at `buf`; the bytes done.
    fn rw(&self, size: u64, pos: u64, buf: usize, count: usize, iswrite: bool) -> Result<usize>;
}

/// The ops table of regions served by an `R`.
struct RegOps<R>(PhantomData<R>);

impl<R: DevRegion> RegOps<R> {
    const TABLE: bindings::vfio_pci_regops = bindings::vfio_pci_regops {
        rw: Some(Self::rw),
        release: Some(Self::release),
        mmap: None,
        add_capability: None,
    };

    const fn table() -> &'static bindings::vfio_pci_regops {
        &Self::TABLE
    }

    /// # Safety
    ///
    /// Called by the core for a region registered with this table, `*ppos` in it.
    unsafe extern "C" fn rw(
        vdev: *mut bindings::vfio_pci_core_device,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
        iswrite: bool,
    ) -> isize {
        // SAFETY: The core passes the position of this access (the contract).
        let off = unsafe { *ppos } as u64;
        // CAST: The index bits of a position of a device-specific region, at least
        // `VFIO_PCI_NUM_REGIONS` (the core dispatches only those here).
        let index = (off >> OFFSET_SHIFT) as usize - uapi::VFIO_PCI_NUM_REGIONS as usize;
        // SAFETY: The core calls a region's `rw` for its own index, below `num_regions`, while
        // the table it published is in place (the device is open).
        let region = unsafe { &*(*vdev).region.add(index) };
        // SAFETY: `data` is the `R` registered with this table, alive until `release`.
        let data = unsafe { &*region.data.cast::<R>() };
        let pos = off & ((1 << OFFSET_SHIFT) - 1);
        match data.rw(region.size as u64, pos, buf as usize, count, iswrite) {
            Ok(n) => {
                // SAFETY: As above; `n` is at most `count`, which fits a file position.
                unsafe { *ppos += n as bindings::loff_t };
                n as isize
            }
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// Called by the core once per region registered with this table, at its release.
    unsafe extern "C" fn release(
        _vdev: *mut bindings::vfio_pci_core_device,
        region: *mut bindings::vfio_pci_region,
    ) {
        // SAFETY: `data` is the `KBox<R>` given up at registration (the contract: once).
        drop(unsafe { KBox::from_raw((*region).data.cast::<R>()) });
    }
}

impl CoreDevice {
    /// `vfio_pci_core_register_dev_region`: a region of `size` bytes typed `ty`/`subtype`
    /// with `flags`, served by `data` until the device's last close.
    pub(crate) fn register_dev_region<R: DevRegion>(
        &self,
        ty: u32,
        subtype: u32,
        size: usize,
        flags: u32,
        data: KBox<R>,
    ) -> Result {
        let raw = KBox::into_raw(data);
        // SAFETY: Called from `open_device` after `vfio_pci_core_enable`; the table is static
        // and `raw` a valid `R` that the core keeps until it calls `release`.
        let ret = unsafe {
            bindings::vfio_pci_core_register_dev_region(
                self.raw(),
                ty,
                subtype,
                RegOps::<R>::table(),
                size,
                flags,
                raw.cast(),
            )
        };
        if ret != 0 {
            // SAFETY: Not registered, so still this function's to free.
            drop(unsafe { KBox::from_raw(raw) });
        }
        to_result(ret)
    }

    /// Config dword `off` of the header reads `val` from now on and ignores writes: upstream
    /// writes `vconfig` and marks the bytes `PCI_CAP_ID_INVALID_VIRT` in `pci_config_map`.
    pub(crate) fn virtualize_config_dword(&self, off: u8, val: u32) {
        let off = usize::from(off.min(252));
        // SAFETY: Called from `open_device` after `vfio_pci_core_enable` built both maps (at
        // least the 256-byte header each), before user space can access the device; `off + 4`
        // is within the header.
        unsafe {
            let vdev = self.raw();
            let at = (*vdev).vconfig.add(off);
            core::ptr::copy_nonoverlapping(val.to_le_bytes().as_ptr(), at, 4);
            core::ptr::write_bytes((*vdev).pci_config_map.add(off), PCI_CAP_ID_INVALID_VIRT, 4);
        }
    }
}
