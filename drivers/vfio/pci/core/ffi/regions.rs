// SPDX-License-Identifier: GPL-2.0

//! Device-specific regions (`vfio_pci_core_register_dev_region`): a variant driver adds
//! regions after the standard ones, each with its C ops (`struct vfio_pci_regops`) called for
//! reads and writes, mmaps, region info capabilities and release at close. The table is kept
//! here and published in `region`/`num_regions`, which C readers of the struct see.

use super::{
    CoreDev,
    VFIO_PCI_OFFSET_SHIFT, //
};
use crate::kernel_ext::{
    bindings,
    uapi, //
};
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    error::to_result,
    new_mutex,
    prelude::*,
    sync::Mutex, //
};

/// One region as the driver described it.
#[repr(transparent)]
struct RawRegion(bindings::vfio_pci_region);

// SAFETY: The region's ops are the driver's static table and `data` its own pointer, which
// the driver makes safe to use from any thread (upstream's contract).
unsafe impl Send for RawRegion {}

/// The device-specific regions of an open device.
#[pin_data]
pub(crate) struct DevRegions {
    #[pin]
    table: Mutex<KVec<RawRegion>>,
}

impl DevRegions {
    /// No regions.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            table <- new_mutex!(KVec::new()),
        })
    }
}

impl CoreDev {
    fn publish_regions(&self, table: &mut KVec<RawRegion>) {
        let ptr = if table.is_empty() {
            core::ptr::null_mut()
        } else {
            table.as_mut_ptr().cast::<bindings::vfio_pci_region>()
        };
        // CAST: At most a handful of regions.
        let n = table.len() as c_int;
        // SAFETY: Written at enable and disable, under the device set's lock, as upstream.
        unsafe {
            (*self.raw()).region = ptr;
            (*self.raw()).num_regions = n;
        }
    }

    /// The region after the standard ones at `index` (0 is `VFIO_PCI_NUM_REGIONS`), as a raw
    /// pointer valid until the table changes (at enable or disable, not while the device is
    /// used).
    fn region(&self, index: u32) -> Option<*mut bindings::vfio_pci_region> {
        let mut table = self.state().regions.table.lock();
        let r = table.get_mut(usize::try_from(index).ok()?)?;
        Some(&raw mut r.0)
    }

    /// `ops->rw` of device region `index`.
    pub(crate) fn region_rw(
        &self,
        index: u32,
        buf: usize,
        count: usize,
        ppos: &mut i64,
        iswrite: bool,
    ) -> Result<isize> {
        let region = self.region(index).ok_or(EINVAL)?;
        // SAFETY: `region` is one registered by the driver, with its static ops; `buf` is the
        // user's buffer and `ppos` the file position for the call.
        let ret = unsafe {
            let rw = (*(*region).ops).rw.ok_or(EINVAL)?;
            rw(self.raw(), buf as *mut c_char, count, ppos, iswrite)
        };
        if ret < 0 {
            // CAST: An errno.
            Err(Error::from_errno(ret as c_int))
        } else {
            Ok(ret)
        }
    }

    /// The region info of device region `index`: its place, size and flags, the type
    /// capability, and the driver's own capabilities.
    ///
    /// # Safety
    ///
    /// `caps` is the chain the VFIO core passed to `get_region_info_caps`.
    pub(crate) unsafe fn region_info(
        &self,
        index: u32,
        info: &mut bindings::vfio_region_info,
        caps: *mut bindings::vfio_info_cap,
    ) -> Result {
        let region = self.region(index).ok_or(EINVAL)?;
        info.offset = u64::from(info.index) << VFIO_PCI_OFFSET_SHIFT;
        // SAFETY: A registered region (see `region`).
        let r = unsafe { &*region };
        info.size = r.size as u64;
        info.flags = r.flags;
        let mut cap = bindings::vfio_region_info_cap_type {
            header: bindings::vfio_info_cap_header {
                id: uapi::VFIO_REGION_INFO_CAP_TYPE as u16,
                version: 1,
                next: 0,
            },
            type_: r.type_,
            subtype: r.subtype,
        };
        // SAFETY: `caps` is the core's chain (contract); the capability is copied.
        to_result(unsafe {
            bindings::vfio_info_add_capability(
                caps,
                &mut cap.header,
                size_of::<bindings::vfio_region_info_cap_type>(),
            )
        })?;
        // SAFETY: The driver's op, called with its region and the core's chain.
        unsafe {
            if let Some(add) = (*r.ops).add_capability {
                to_result(add(self.raw(), region, caps))?;
            }
        }
        Ok(())
    }

    /// `ops->mmap` of device region `index`, if it has one and is mappable.
    ///
    /// # Safety
    ///
    /// `vma` is being set up by the mmap handler.
    pub(crate) unsafe fn region_mmap(
        &self,
        index: u32,
        vma: *mut bindings::vm_area_struct,
    ) -> Result {
        let region = self.region(index).ok_or(EINVAL)?;
        // SAFETY: A registered region; the driver's op gets the VMA of this mmap call.
        unsafe {
            let r = &*region;
            match (
                r.ops.as_ref().and_then(|o| o.mmap),
                r.flags & uapi::VFIO_REGION_INFO_FLAG_MMAP,
            ) {
                (Some(mmap), f) if f != 0 => to_result(mmap(self.raw(), region, vma)),
                _ => Err(EINVAL),
            }
        }
    }

    /// Calls every region's `release` and empties the table (`vfio_pci_core_disable`).
    pub(crate) fn release_regions(&self) {
        let mut table = core::mem::take(&mut *self.state().regions.table.lock());
        for r in table.iter_mut() {
            // SAFETY: The driver's op, called once per region at close.
            unsafe {
                if let Some(release) = (*r.0.ops).release {
                    release(self.raw(), &raw mut r.0);
                }
            }
        }
        self.publish_regions(&mut KVec::new());
    }
}

/// `vfio_pci_core_register_dev_region`: adds a region of `size` bytes with `flags`, typed
/// `type_`/`subtype` in its info, handled by `ops` with `data`.
///
/// # Safety
///
/// The exports' contract; `ops` is a static table of the driver.
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_register_dev_region(
    vdev: *mut bindings::vfio_pci_core_device,
    type_: c_uint,
    subtype: c_uint,
    ops: *const bindings::vfio_pci_regops,
    size: usize,
    flags: u32,
    data: *mut c_void,
) -> c_int {
    // SAFETY: The exports' contract.
    let vdev = unsafe { CoreDev::from_raw(vdev) };
    let mut table = vdev.state().regions.table.lock();
    let region = RawRegion(bindings::vfio_pci_region {
        type_,
        subtype,
        ops,
        data,
        size,
        flags,
    });
    if table.push(region, GFP_KERNEL_ACCOUNT).is_err() {
        return ENOMEM.to_errno();
    }
    vdev.publish_regions(&mut table);
    0
}
