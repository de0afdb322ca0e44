// SPDX-License-Identifier: GPL-2.0

//! Page frames of `VM_PFNMAP` mappings (an mmap of a device BAR, say): there is no
//! `struct page` to pin, so the frame is read from the page tables, faulting it in first if
//! needed, and never pinned or accounted (`user_mm::pfn_reserved` tests such frames).
//!
//! C helper: `vfio_rs_untagged_addr_remote` (`drivers/vfio/type1/type1_helpers.c`). C headers:
//! [`include/linux/mm.h`](srctree/include/linux/mm.h).
//!
//! Lock order: the mm's mmap read lock, then (inside `follow_pfnmap_start`/`_end`) the page
//! table lock.

use crate::helpers;
use kernel::{
    bindings,
    mm::{virt::flags, Mm},
    prelude::*, //
};

/// One frame found in a `VM_PFNMAP` mapping.
#[derive(Clone, Copy, Debug)]
pub struct PfnmapFrame {
    /// The frame at the looked-up address.
    pub pfn: u64,
    /// Mask of the address bits the page table entry maps as one unit (`PAGE_MASK` for a PTE,
    /// `PMD_MASK` for a huge PMD...): the frames up to the end of that unit are contiguous.
    pub addr_mask: u64,
}

/// Looks up user address `vaddr` of `mm` in a `VM_PFNMAP` mapping, faulting the entry in if it
/// is not present (upstream type1's `follow_fault_pfn` in the `vma_lookup` retry loop of
/// `vaddr_get_pfns`). `Ok(None)`: no `VM_PFNMAP` mapping at `vaddr`. `EFAULT` if `write` and
/// the entry is read-only; `ESRCH` once the process has exited; the fault's error otherwise.
// Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
#[inline]
pub fn follow_fault_pfnmap(mm: &Mm, vaddr: u64, write: bool) -> Result<Option<PfnmapFrame>> {
    let mm = mm.mmget_not_zero().ok_or(ESRCH)?;
    let guard = mm.mmap_read_lock();
    // SAFETY: The mmap lock of `mm` is held by `guard`.
    let vaddr = unsafe { helpers::vfio_rs_untagged_addr_remote(mm.as_raw(), vaddr as c_ulong) };
    let fault_flags = bindings::fault_flag_FAULT_FLAG_REMOTE
        | if write {
            bindings::fault_flag_FAULT_FLAG_WRITE
        } else {
            0
        };
    'retry: loop {
        let Some(vma) = guard.vma_lookup(vaddr as usize) else {
            return Ok(None);
        };
        if vma.flags() & flags::PFNMAP == 0 {
            return Ok(None);
        }
        let mut args = bindings::follow_pfnmap_args {
            vma: vma.as_ptr(),
            address: vaddr,
            ..Default::default()
        };
        // SAFETY: `args.vma` is a vma of `mm`, whose mmap lock `guard` holds.
        if unsafe { bindings::follow_pfnmap_start(&mut args) } != 0 {
            let mut unlocked = false;
            // SAFETY: The mmap read lock is held, as `fixup_user_fault` requires; with
            // `unlocked` it may drop and retake it, in which case `vma` is not used again (the
            // loop looks it up anew).
            let ret = unsafe {
                bindings::fixup_user_fault(mm.as_raw(), vaddr, fault_flags, &mut unlocked)
            };
            if unlocked {
                continue 'retry;
            }
            kernel::error::to_result(ret)?;
            // SAFETY: As above; the lock was not dropped, so `args.vma` is still valid.
            kernel::error::to_result(unsafe { bindings::follow_pfnmap_start(&mut args) })?;
        }
        let frame = PfnmapFrame {
            pfn: args.pfn as u64,
            addr_mask: args.addr_mask as u64,
        };
        let denied = write && !args.writable;
        // SAFETY: `follow_pfnmap_start` succeeded on `args`, which is ended exactly once here.
        unsafe { bindings::follow_pfnmap_end(&mut args) };
        return if denied { Err(EFAULT) } else { Ok(Some(frame)) };
    }
}
