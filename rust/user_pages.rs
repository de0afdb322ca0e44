// SPDX-License-Identifier: GPL-2.0

//! Long-term pinning of a process's pages for device DMA, and its locked-memory accounting.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).

use crate::helpers;
use core::ptr::NonNull;
use kernel::{
    bindings,
    mm::Mm,
    prelude::*,
    sync::aref::ARef,
    task::Task, //
};

/// Physically contiguous pages one [`PinOwner::pin_runs`] call pinned: `npages` frames from
/// `pfn`, reserved (`PageReserved`, never unpinned nor charged) if `rsvd`.
#[derive(Clone, Copy, Debug)]
pub struct PinRun {
    /// First frame.
    pub pfn: u64,
    /// Frames in the run.
    pub npages: u64,
    /// The first page is reserved.
    pub rsvd: bool,
}

/// Bits of a packed run's pfn (`VFIO_RS_RUN_PFN_BITS` of `include/vfio-rs/type1_helpers.h`).
const RUN_PFN_BITS: u32 = helpers::VFIO_RS_RUN_PFN_BITS;
/// Bit of a packed run's reserved flag (`VFIO_RS_RUN_RSVD_BIT`).
const RUN_RSVD_BIT: u32 = helpers::VFIO_RS_RUN_RSVD_BIT;
/// Most pages one call pins (`VFIO_RS_RUN_NPAGES_MAX`: what the packed count holds).
const RUN_NPAGES_MAX: usize = helpers::VFIO_RS_RUN_NPAGES_MAX as usize;
// The page count fills the bits between the pfn and the reserved flag.
const _: () = assert!(RUN_NPAGES_MAX == (1 << (RUN_RSVD_BIT - RUN_PFN_BITS)) - 1);

impl PinRun {
    /// A run as the pin helper packs it in one word.
    fn unpack(word: u64) -> Self {
        Self {
            pfn: word & ((1 << RUN_PFN_BITS) - 1),
            npages: (word >> RUN_PFN_BITS) & RUN_NPAGES_MAX as u64,
            rsvd: word >> RUN_RSVD_BIT != 0,
        }
    }
}

/// Most pages one [`PinOwner::pin_runs`] call pins (1 GiB: 512 folios or huge pages of
/// 2 MiB): what may be pinned before the caller's next `RLIMIT_MEMLOCK` check, when folios
/// make a batch hold far more pages than runs.
pub const PIN_CALL_MAX: usize = 1 << 18;

/// Pages one call pins when the batch lives on the stack.
const SMALL_BATCH: usize = 16;

/// Pages one call pins into a page of page pointers (upstream's `VFIO_BATCH_MAX_CAPACITY`).
const PAGE_BATCH: usize = kernel::page::PAGE_SIZE / size_of::<u64>();

/// Scratch space of [`PinOwner::pin_runs`]: one buffer GUP fills with page pointers and the
/// helper then packs the runs over. Like upstream's `vfio_batch`, large batches are a page from
/// the page allocator (no slab object: on debug kernels kmemleak's backtrace of a slab
/// allocation costs more than pinning a small mapping), and small ones, or any batch when that
/// page cannot be had, are on the stack.
///
/// # Invariants
///
/// `page`, if set, is an order-0 page from `get_free_pages` owned by this object, and
/// `capacity` words fit in the buffer in use (at most `PAGE_BATCH`, else `SMALL_BATCH`); the
/// first `nruns` words of it hold packed runs.
pub struct PinBatch {
    page: Option<NonNull<u64>>,
    small: [u64; SMALL_BATCH],
    capacity: usize,
    nruns: usize,
    /// End of the ordinary VMA the last call found: the helper's hint to skip the VMA lookup.
    plain_end: c_ulong,
}

impl PinBatch {
    /// Room for `capacity` pages per call, as far as one page of pointers holds (at least 1).
    pub fn new(capacity: usize) -> Self {
        let mut batch = Self {
            page: None,
            small: [0; SMALL_BATCH],
            capacity: capacity.clamp(1, SMALL_BATCH),
            nruns: 0,
            plain_end: 0,
        };
        if capacity > SMALL_BATCH {
            // SAFETY: No precondition; 0 means no page. The address is the page's direct
            // mapping (order 0, `GFP_KERNEL`: lowmem).
            let addr = unsafe { bindings::get_free_pages_noprof(bindings::GFP_KERNEL, 0) };
            batch.page = NonNull::new(addr as *mut u64);
            if batch.page.is_some() {
                batch.capacity = capacity.min(PAGE_BATCH).min(RUN_NPAGES_MAX);
            }
        }
        batch
    }

    /// Pages one call may pin.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The buffer the helper writes, with room for [`Self::capacity`] words.
    fn buf(&mut self) -> *mut u64 {
        match self.page {
            Some(p) => p.as_ptr(),
            None => self.small.as_mut_ptr(),
        }
    }

    /// The runs of the last successful [`PinOwner::pin_runs`], in address order.
    pub fn runs(&self) -> impl Iterator<Item = PinRun> + '_ {
        let words = match self.page {
            // SAFETY: Per the invariants the page holds `nruns` packed runs written by the
            // helper; it lives as long as `self`.
            Some(p) => unsafe { core::slice::from_raw_parts(p.as_ptr(), self.nruns) },
            None => self.small.get(..self.nruns).unwrap_or(&[]),
        };
        words.iter().map(|&w| PinRun::unpack(w))
    }
}

impl Drop for PinBatch {
    fn drop(&mut self) {
        if let Some(p) = self.page {
            // SAFETY: Per the invariants the page is ours and freed once.
            unsafe { bindings::free_pages(p.as_ptr() as c_ulong, 0) };
        }
    }
}

/// The process a DMA mapping's pages belong to: its thread-group leader (whose `RLIMIT_MEMLOCK`
/// applies), its address space (kept with `mmgrab`) and whether it may lock memory without
/// limit (`CAP_IPC_LOCK` when the mapping was made).
pub struct PinOwner {
    task: ARef<Task>,
    mm: ARef<Mm>,
    lock_cap: bool,
}

impl PinOwner {
    /// The calling process; `ENODEV` for a task without an address space.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn current() -> Result<Self> {
        let current = kernel::current!();
        let mm = current.mm().ok_or(ENODEV)?;
        Ok(Self {
            task: ARef::from(current.group_leader()),
            mm: ARef::from(&**mm),
            lock_cap: has_cap_ipc_lock(),
        })
    }

    /// The owner's address space (for copies through it, `rust/user_mm.rs`).
    pub fn mm(&self) -> &Mm {
        &self.mm
    }

    /// Whether both owners' memory is the same address space.
    pub fn same_mm(&self, other: &PinOwner) -> bool {
        self.mm.as_raw() == other.mm.as_raw()
    }

    /// Pins `pfns.len()` pages from user address `vaddr` long-term (writable if `write`) and
    /// stores their pfns in `pfns`; returns how many were pinned (at least one), `ESRCH` once the
    /// process has exited. The caller gives each pinned page back with [`Self::unpin`].
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn pin(&self, vaddr: u64, write: bool, pfns: &mut [u64]) -> Result<usize> {
        let n = c_long::try_from(pfns.len()).map_err(|_| EINVAL)?;
        // SAFETY: `mm` is kept alive by `mmgrab`; the helper checks it still has users. `pfns`
        // has room for `n` pointer-sized slots (`u64` is `unsigned long` here).
        let ret = unsafe {
            helpers::vfio_rs_pin_user_pfns(
                self.mm.as_raw(),
                vaddr as c_ulong,
                n,
                write,
                pfns.as_mut_ptr().cast(),
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret as c_int));
        }
        if ret == 0 {
            return Err(EFAULT);
        }
        Ok(ret as usize)
    }

    /// Pins up to `npages` pages from user address `vaddr` long-term (writable if `write`) and
    /// records them in `batch` as runs of contiguous pages; returns how many pages were pinned
    /// (at least one), `ESRCH` once the process has exited. Ordinary memory is pinned page by
    /// page, up to the batch's capacity; a shared shmem or hugetlbfs mapping (the file's page
    /// cache) up to as many folios (`memfd_pin_folios`), a private hugetlb mapping up to as
    /// many huge pages (one GUP each); at most [`PIN_CALL_MAX`] pages. Either way each page
    /// carries one pin: the caller gives each non-reserved run, or any part of one, back with
    /// [`Self::unpin`].
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn pin_runs(
        &self,
        vaddr: u64,
        npages: usize,
        write: bool,
        batch: &mut PinBatch,
    ) -> Result<usize> {
        let n = c_long::try_from(npages.min(PIN_CALL_MAX)).map_err(|_| EINVAL)?;
        let max_runs = c_long::try_from(batch.capacity()).map_err(|_| EINVAL)?;
        let mut pinned: c_long = 0;
        batch.nruns = 0;
        // SAFETY: `mm` is kept alive by `mmgrab`; the helper checks it still has users. The
        // buffer has room for `max_runs` words (the batch's capacity); `plain_end` is the
        // batch's own.
        let ret = unsafe {
            helpers::vfio_rs_pin_user_runs(
                self.mm.as_raw(),
                vaddr as c_ulong,
                n,
                max_runs,
                write,
                batch.buf().cast(),
                &mut pinned,
                &mut batch.plain_end,
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret as c_int));
        }
        if ret == 0 {
            return Err(EFAULT);
        }
        // INVARIANT: The helper packed `ret` (at most `max_runs`) runs at the start of the
        // buffer.
        batch.nruns = ret as usize;
        Ok(pinned as usize)
    }

    /// Whether charging `npage` more pages would pass `RLIMIT_MEMLOCK` (upstream's early check
    /// while pinning, with its warning); the charge itself ([`Self::account`]) decides.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn memlock_exceeded(&self, npage: u64) -> bool {
        // `CAP_IPC_LOCK` has no limit (the helper's first test; no call for it).
        if self.lock_cap {
            return false;
        }
        // SAFETY: `mm` is kept alive by `mmgrab`; only its counter is read.
        unsafe {
            helpers::vfio_rs_memlock_exceeded(self.mm.as_raw(), self.lock_cap, npage as c_ulong)
        }
    }

    /// Unpins `npages` physically contiguous pages from `pfn`, marking them dirty if the device
    /// could write them. They must be pages [`Self::pin`] returned and not yet unpinned.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn unpin(&self, pfn: u64, npages: u64, dirty: bool) {
        // SAFETY: The caller passes back pages it pinned, which are therefore valid.
        unsafe { helpers::vfio_rs_unpin_pfns(pfn as c_ulong, npages as c_ulong, dirty) };
    }

    /// Charges (`npage > 0`) or returns (`npage < 0`) locked memory on the owner's mm; charging
    /// past `RLIMIT_MEMLOCK` without `CAP_IPC_LOCK` fails with `ENOMEM`. `is_async`: the
    /// caller may run in another process, so the mm is only used while it has users (`ESRCH`).
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn account(&self, npage: i64, is_async: bool) -> Result {
        let npage = c_long::try_from(npage).map_err(|_| EINVAL)?;
        // SAFETY: `task` and `mm` are referenced by this object.
        kernel::error::to_result(unsafe {
            helpers::vfio_rs_lock_acct(
                self.task.as_ptr(),
                self.mm.as_raw(),
                self.lock_cap,
                npage,
                is_async,
            )
        })
    }
}

/// `capable(CAP_IPC_LOCK)` for the calling task.
// Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
#[inline]
pub fn has_cap_ipc_lock() -> bool {
    // SAFETY: No precondition.
    unsafe { helpers::vfio_rs_capable_ipc_lock() }
}
