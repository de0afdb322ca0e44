// SPDX-License-Identifier: GPL-2.0

//! IOMMU paging domains (`struct iommu_domain`) owned by a VFIO IOMMU driver: allocation for
//! a group, attaching groups, and the mapping calls.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h).

use crate::{
    helpers,
    iommu::IommuGroup, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*, //
};

/// One region of [`IommuDomain::unmap_batch`].
pub use crate::helpers::vfio_rs_unmap_region as UnmapRegion;

/// `IOMMU_READ`.
pub const IOMMU_READ: u32 = bindings::IOMMU_READ;
/// `IOMMU_WRITE`.
pub const IOMMU_WRITE: u32 = bindings::IOMMU_WRITE;
/// `IOMMU_CACHE`.
pub const IOMMU_CACHE: u32 = bindings::IOMMU_CACHE;

/// A paging domain this object owns; freed on drop.
///
/// # Invariants
///
/// `ptr` is a domain returned by `iommu_paging_domain_alloc` and not yet freed. Groups attached
/// to it are detached by the owner before it drops.
pub struct IommuDomain {
    ptr: NonNull<bindings::iommu_domain>,
}

// SAFETY: The IOMMU API may be called on a domain from any thread; callers serialise attach,
// detach and overlapping map/unmap, as the C API requires.
unsafe impl Send for IommuDomain {}
// SAFETY: As above.
unsafe impl Sync for IommuDomain {}

impl IommuDomain {
    /// A new paging domain for the IOMMU of `group`'s devices (`iommu_paging_domain_alloc`).
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn alloc_for_group(group: &IommuGroup) -> Result<Self> {
        // SAFETY: The group is referenced by `group`; the helper returns a domain or ERR_PTR.
        let ptr = kernel::error::from_err_ptr(unsafe {
            helpers::vfio_rs_group_paging_domain_alloc(group.as_raw())
        })?;
        // INVARIANT: A freshly allocated domain, now owned here.
        NonNull::new(ptr).map(|ptr| Self { ptr }).ok_or(ENODEV)
    }

    /// The raw domain, for an IOMMU driver's `group_iommu_domain` (the core gets a bare pointer).
    pub fn as_raw(&self) -> *mut bindings::iommu_domain {
        self.ptr.as_ptr()
    }

    /// Routes `group`'s DMA through this domain (`iommu_attach_group`).
    pub fn attach_group(&self, group: &IommuGroup) -> Result {
        // SAFETY: Both objects are live (type invariants).
        kernel::error::to_result(unsafe {
            bindings::iommu_attach_group(self.ptr.as_ptr(), group.as_raw())
        })
    }

    /// Takes `group` back out (`iommu_detach_group`); it must be attached here.
    pub fn detach_group(&self, group: &IommuGroup) {
        // SAFETY: Both objects are live; the C side tolerates a group of another domain.
        unsafe { bindings::iommu_detach_group(self.ptr.as_ptr(), group.as_raw()) }
    }

    /// Maps `size` bytes at `iova` to physical `paddr` with `prot` (`iommu_map`), using the
    /// largest page sizes alignment allows. Memory is charged to the caller's memcg.
    pub fn map(&self, iova: u64, paddr: u64, size: u64, prot: u32) -> Result {
        let size = usize::try_from(size).map_err(|_| EINVAL)?;
        // SAFETY: The domain is live; the IOMMU core validates the arguments.
        kernel::error::to_result(unsafe {
            bindings::iommu_map(
                self.ptr.as_ptr(),
                iova as c_ulong,
                paddr,
                size,
                prot as c_int,
                bindings::GFP_KERNEL_ACCOUNT,
            )
        })
    }

    /// Unmaps up to `size` bytes at `iova` (`iommu_unmap`); returns the bytes unmapped, which
    /// can exceed `size` when a larger page covered it.
    pub fn unmap(&self, iova: u64, size: u64) -> u64 {
        let Ok(size) = usize::try_from(size) else {
            return 0;
        };
        // SAFETY: The domain is live.
        unsafe { bindings::iommu_unmap(self.ptr.as_ptr(), iova as c_ulong, size) as u64 }
    }

    /// Unmaps every region of `regions` (`iova`, `len`) with deferred IOTLB invalidation and
    /// one sync at the end, recording the bytes each unmapped in its `unmapped`.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn unmap_batch(&self, regions: &mut [UnmapRegion]) {
        let Ok(n) = c_uint::try_from(regions.len()) else {
            return;
        };
        // SAFETY: The domain is live; `regions` has `n` entries the helper reads and writes.
        unsafe { helpers::vfio_rs_unmap_batch(self.ptr.as_ptr(), regions.as_mut_ptr(), n) };
    }

    /// The physical address `iova` translates to, 0 if unmapped (`iommu_iova_to_phys`).
    pub fn iova_to_phys(&self, iova: u64) -> u64 {
        // SAFETY: The domain is live.
        unsafe { bindings::iommu_iova_to_phys(self.ptr.as_ptr(), iova) }
    }

    /// `(aperture_start, aperture_end, pgsize_bitmap)` of the domain.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    fn info(&self) -> (u64, u64, u64) {
        let (mut start, mut end, mut pgsizes) = (0, 0, 0);
        // SAFETY: The domain is live; the helper writes the three out-parameters.
        unsafe {
            helpers::vfio_rs_domain_info(self.ptr.as_ptr(), &mut start, &mut end, &mut pgsizes)
        };
        (start, end, pgsizes)
    }

    /// The IOVA window the domain can translate, both ends inclusive.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn aperture(&self) -> (u64, u64) {
        let (start, end, _) = self.info();
        (start, end)
    }

    /// The page sizes the domain maps with.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn pgsize_bitmap(&self) -> u64 {
        self.info().2
    }

    /// Makes the domain block no-snoop DMA if its driver can; whether it now does.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn enforce_cache_coherency(&self) -> bool {
        // SAFETY: The domain is live.
        unsafe { helpers::vfio_rs_domain_enforce_cache_coherency(self.ptr.as_ptr()) }
    }

    /// Whether both domains come from the same IOMMU driver (same `ops`).
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn same_ops(&self, other: &IommuDomain) -> bool {
        // SAFETY: Both domains are live.
        unsafe {
            helpers::vfio_rs_domain_ops(self.ptr.as_ptr())
                == helpers::vfio_rs_domain_ops(other.ptr.as_ptr())
        }
    }

    /// Sets up the software-managed MSI window at `base` (`iommu_get_msi_cookie`).
    pub fn get_msi_cookie(&self, base: u64) -> Result {
        // SAFETY: The domain is live.
        kernel::error::to_result(unsafe { bindings::iommu_get_msi_cookie(self.ptr.as_ptr(), base) })
    }
}

impl Drop for IommuDomain {
    fn drop(&mut self) {
        // SAFETY: Owned and not yet freed (type invariant); no group is attached any more.
        unsafe { bindings::iommu_domain_free(self.ptr.as_ptr()) };
    }
}
