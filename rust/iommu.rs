// SPDX-License-Identifier: GPL-2.0

//! IOMMU groups (`struct iommu_group`), as seen by a VFIO core.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h).

use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*, //
};

/// A counted reference on an IOMMU group.
///
/// # Invariants
///
/// `ptr` is a group on which this object owns one reference.
pub struct IommuGroup {
    ptr: NonNull<bindings::iommu_group>,
}

// SAFETY: Group references may be taken and dropped on any thread.
unsafe impl Send for IommuGroup {}
// SAFETY: Only thread-safe C functions are called through `&self`.
unsafe impl Sync for IommuGroup {}

impl IommuGroup {
    /// The group of `dev`, if it has one.
    ///
    /// # Safety
    ///
    /// `dev` must be a valid device.
    pub unsafe fn of_device(dev: *mut bindings::device) -> Option<Self> {
        // SAFETY: `dev` is valid per the function contract; the result is a new reference.
        NonNull::new(unsafe { bindings::iommu_group_get(dev) }).map(|ptr| Self { ptr })
    }

    /// The group's id (`/sys/kernel/iommu_groups/<id>`).
    pub fn id(&self) -> i32 {
        // SAFETY: The group is valid while referenced (type invariant).
        unsafe { bindings::iommu_group_id(self.ptr.as_ptr()) }
    }

    /// Whether both refer to the same group.
    pub fn same(&self, other: &IommuGroup) -> bool {
        self.ptr == other.ptr
    }

    /// The raw group, for IOMMU drivers (`attach_group`).
    pub fn as_raw(&self) -> *mut bindings::iommu_group {
        self.ptr.as_ptr()
    }
}

impl IommuGroup {
    /// A new group named `vfio-noiommu` holding only `dev`, as upstream's core makes for
    /// emulated-IOMMU devices (which have no IOMMU group of their own).
    ///
    /// The device leaves it with [`IommuGroup::remove_device`].
    ///
    /// # Safety
    ///
    /// `dev` must be a valid device that is in no IOMMU group.
    pub unsafe fn alloc_for_device(dev: *mut bindings::device) -> Result<Self> {
        // SAFETY: No precondition; the result is a new reference or an error pointer.
        let ptr = kernel::error::from_err_ptr(unsafe { bindings::iommu_group_alloc() })?;
        // INVARIANT: `iommu_group_alloc` returned a group with one reference, now ours.
        let group = Self {
            // SAFETY: `from_err_ptr` returned a valid, non-null pointer.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
        };
        // SAFETY: The group is valid; the name is a NUL-terminated string the callee copies.
        kernel::error::to_result(unsafe {
            bindings::iommu_group_set_name(ptr, kernel::c_str!("vfio-noiommu").as_char_ptr())
        })?;
        // SAFETY: The group is valid; `dev` is valid and groupless per the function contract.
        kernel::error::to_result(unsafe { bindings::iommu_group_add_device(ptr, dev) })?;
        Ok(group)
    }

    /// Takes `dev` out of the group [`IommuGroup::alloc_for_device`] put it in.
    ///
    /// # Safety
    ///
    /// `dev` must be a valid device added to this group by [`IommuGroup::alloc_for_device`].
    pub unsafe fn remove_device(&self, dev: *mut bindings::device) {
        // SAFETY: `dev` is valid and in this group per the function contract.
        unsafe { bindings::iommu_group_remove_device(dev) };
    }
}

impl Clone for IommuGroup {
    fn clone(&self) -> Self {
        // SAFETY: The group is valid (type invariant); the result is a new reference.
        unsafe { bindings::iommu_group_ref_get(self.ptr.as_ptr()) };
        // INVARIANT: The reference was just taken.
        Self { ptr: self.ptr }
    }
}

impl IommuGroup {
    /// Whether a kernel driver or another owner uses the group's DMA (the group is then not
    /// viable for userspace).
    pub fn dma_owner_claimed(&self) -> bool {
        // SAFETY: The group is valid (type invariant).
        unsafe { bindings::iommu_group_dma_owner_claimed(self.ptr.as_ptr()) }
    }

    /// Claims the group's DMA for userspace on behalf of `owner` (an identity token); fails
    /// with `EPERM` while a kernel driver is bound, `EBUSY` while another owner holds it.
    pub fn claim_dma_owner(&self, owner: usize) -> Result<DmaOwnership> {
        // SAFETY: The group is valid; `owner` is only compared by the IOMMU core.
        kernel::error::to_result(unsafe {
            bindings::iommu_group_claim_dma_owner(self.ptr.as_ptr(), owner as *mut c_void)
        })?;
        Ok(DmaOwnership {
            group: self.clone(),
        })
    }
}

/// DMA ownership of a group, released on drop.
pub struct DmaOwnership {
    group: IommuGroup,
}

impl Drop for DmaOwnership {
    fn drop(&mut self) {
        // SAFETY: This object holds the claim taken in `claim_dma_owner`.
        unsafe { bindings::iommu_group_release_dma_owner(self.group.ptr.as_ptr()) };
    }
}

impl Drop for IommuGroup {
    fn drop(&mut self) {
        // SAFETY: This object owns one reference (type invariant).
        unsafe { bindings::iommu_group_put(self.ptr.as_ptr()) };
    }
}

/// Whether `dev`'s IOMMU keeps DMA cache coherent (`IOMMU_CAP_CACHE_COHERENCY`).
///
/// # Safety
///
/// `dev` must be a valid device.
pub unsafe fn cache_coherent(dev: *mut bindings::device) -> bool {
    // SAFETY: `dev` is valid per the function contract.
    unsafe { bindings::device_iommu_capable(dev, bindings::iommu_cap_IOMMU_CAP_CACHE_COHERENCY) }
}

/// Whether `dev`'s IOMMU can ignore no-snoop, keeping even such DMA cache coherent
/// (`IOMMU_CAP_ENFORCE_CACHE_COHERENCY`).
///
/// # Safety
///
/// `dev` must be a valid device.
pub unsafe fn enforces_cache_coherency(dev: *mut bindings::device) -> bool {
    // SAFETY: `dev` is valid per the function contract.
    unsafe {
        bindings::device_iommu_capable(dev, bindings::iommu_cap_IOMMU_CAP_ENFORCE_CACHE_COHERENCY)
    }
}

impl IommuGroup {
    /// Gives the reference to a C caller, who must drop it with `iommu_group_put`.
    pub fn into_raw(self) -> *mut bindings::iommu_group {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }
}

impl IommuGroup {
    /// Takes a new reference on a group a caller lends (`iommu_group_ref_get`).
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid group on which the caller holds a reference for the call.
    pub unsafe fn from_borrowed(ptr: *mut bindings::iommu_group) -> Option<Self> {
        let ptr = NonNull::new(ptr)?;
        // SAFETY: The group is valid per the function contract; this takes our own reference.
        unsafe { bindings::iommu_group_ref_get(ptr.as_ptr()) };
        // INVARIANT: The reference was just taken.
        Some(Self { ptr })
    }

    /// Whether the group's devices have isolated MSIs (interrupt remapping), so a device cannot
    /// forge interrupts of others (`iommu_group_has_isolated_msi`).
    pub fn has_isolated_msi(&self) -> bool {
        // SAFETY: The group is valid (type invariant).
        unsafe { bindings::iommu_group_has_isolated_msi(self.ptr.as_ptr()) }
    }

    /// Calls `f` with each reserved IOVA region of the group's devices
    /// (`iommu_get_group_resv_regions`) as `(start, length, enum iommu_resv_type)`. Up to 16
    /// regions are copied out on the stack; a group with more takes one heap buffer.
    pub fn for_each_resv_region(&self, mut f: impl FnMut(u64, u64, u32) -> Result) -> Result {
        const ON_STACK: usize = 16;
        let mut small = [crate::helpers::vfio_rs_resv_region::default(); ON_STACK];
        let mut heap = KVec::new();
        let mut buf: &mut [crate::helpers::vfio_rs_resv_region] = &mut small;
        loop {
            let max = c_int::try_from(buf.len()).map_err(|_| EINVAL)?;
            // SAFETY: The group is valid; `buf` has room for `max` entries.
            let n = unsafe {
                crate::helpers::vfio_rs_group_resv_regions(self.ptr.as_ptr(), buf.as_mut_ptr(), max)
            };
            if n < 0 {
                return Err(Error::from_errno(n));
            }
            if n <= max {
                for r in buf.iter().take(n as usize) {
                    f(r.start, r.length, r.type_)?;
                }
                return Ok(());
            }
            // More regions than room: retry with room for all (the list may grow meanwhile).
            heap.clear();
            heap.resize(
                n as usize,
                crate::helpers::vfio_rs_resv_region::default(),
                GFP_KERNEL,
            )?;
            buf = &mut heap;
        }
    }
}
