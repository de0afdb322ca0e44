// SPDX-License-Identifier: GPL-2.0

//! What type1 needs to act for an emulated-IOMMU device in a process's address space: pfn
//! tests for single pinned pages, the `struct page` array `vfio_pin_pages` fills, and copies
//! to or from another process's memory (`kthread_use_mm` when called from a kernel thread).
//!
//! C helpers: `drivers/vfio/type1/type1_emulated.c` (prototypes in
//! `include/vfio-rs/type1_emulated.h`). C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/kthread.h`](srctree/include/linux/kthread.h).

use crate::{
    bindings,
    helpers::{
        vfio_rs_access_ok,
        vfio_rs_mm_rw,
        vfio_rs_pfn_reserved,
        vfio_rs_pfn_to_page,
        vfio_rs_pfn_valid, //
    },
};
use kernel::{mm::Mm, prelude::*};

/// type1's `is_invalid_reserved_pfn`: the pfn has no `struct page` or a reserved one, so it
/// is not charged as locked memory and needs no unpin.
// Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
#[inline]
pub fn pfn_reserved(pfn: u64) -> bool {
    // SAFETY: A pure test on a number.
    unsafe { vfio_rs_pfn_reserved(pfn as c_ulong) }
}

/// `pfn_valid`: the pfn has a `struct page`.
// Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
#[inline]
pub fn pfn_valid(pfn: u64) -> bool {
    // SAFETY: A pure test on a number.
    unsafe { vfio_rs_pfn_valid(pfn as c_ulong) }
}

/// `access_ok`: `[addr, addr + size)` lies in the user address range.
// Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
#[inline]
pub fn access_ok(addr: u64, size: u64) -> bool {
    // SAFETY: A pure range test; nothing is dereferenced.
    unsafe { vfio_rs_access_ok(addr as c_ulong, size as c_ulong) }
}

/// The caller's `struct page *pages[]` of `vfio_pin_pages`, filled one slot at a time.
pub struct PageArray<'a>(&'a mut [*mut bindings::page]);

impl<'a> PageArray<'a> {
    /// Wraps the array the IOMMU driver's op received.
    ///
    /// # Safety
    ///
    /// `pages` must be valid for writes of `len` pointers, unaliased for `'a`.
    pub unsafe fn from_raw(pages: *mut *mut bindings::page, len: usize) -> Self {
        // SAFETY: Per the function contract.
        Self(unsafe { core::slice::from_raw_parts_mut(pages, len) })
    }

    /// Slot `i` gets the page of `pfn`, which must be [`pfn_valid`].
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn set(&mut self, i: usize, pfn: u64) {
        if let Some(slot) = self.0.get_mut(i) {
            // SAFETY: The caller passes a valid pfn (one it holds a pin on).
            *slot = unsafe { vfio_rs_pfn_to_page(pfn as c_ulong) };
        }
    }

    /// Slot `i` becomes `NULL` (unwinding a failed pin).
    pub fn clear(&mut self, i: usize) {
        if let Some(slot) = self.0.get_mut(i) {
            *slot = core::ptr::null_mut();
        }
    }
}

/// The kernel buffer of a `vfio_dma_rw`: the source of a write to the process, the
/// destination of a read.
pub enum RwData<'a> {
    /// Device writes: copy to the process.
    Write(&'a [u8]),
    /// Device reads: copy from the process.
    Read(&'a mut [u8]),
}

impl RwData<'_> {
    /// Bytes left.
    #[expect(
        clippy::len_without_is_empty,
        reason = "a size for the caller, not a collection API"
    )]
    pub fn len(&self) -> usize {
        match self {
            RwData::Write(b) => b.len(),
            RwData::Read(b) => b.len(),
        }
    }

    /// Whether the device writes.
    pub fn is_write(&self) -> bool {
        matches!(self, RwData::Write(_))
    }

    /// Copies the first `count` bytes between the buffer and `vaddr` in `mm` and drops them
    /// from the buffer. A kernel thread borrows `mm` (`kthread_use_mm`); a process reaches only
    /// its own memory. `EPERM` once the process is gone; `EFAULT` if nothing could be copied.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn copy(&mut self, mm: &Mm, vaddr: u64, count: usize) -> Result<usize> {
        let count = count.min(self.len());
        let (ptr, write) = match self {
            RwData::Write(b) => (b.as_ptr().cast_mut(), true),
            RwData::Read(b) => (b.as_mut_ptr(), false),
        };
        // SAFETY: `mm` is a live (grabbed) mm; `ptr` is valid for `count` bytes, read only
        // for a write and written only for a read, and the borrow of `self` keeps it so.
        let ret = unsafe { vfio_rs_mm_rw(mm.as_raw(), vaddr as c_ulong, ptr.cast(), count, write) };
        if ret < 0 {
            return Err(Error::from_errno(ret as c_int));
        }
        if ret == 0 {
            return Err(EFAULT);
        }
        let done = ret as usize;
        match self {
            RwData::Write(b) => *b = b.get(done..).unwrap_or(&[]),
            RwData::Read(b) => {
                let rest = core::mem::take(b);
                *b = rest.get_mut(done..).unwrap_or(&mut []);
            }
        }
        Ok(done)
    }
}
