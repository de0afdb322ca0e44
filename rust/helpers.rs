// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C helpers in `rust/helpers.c` (static inlines the kernel crate lacks).

use kernel::{
    bindings::{
        cdev,
        device,
        file,
        ida,
        inode,
        iommu_domain,
        iommu_group,
        list_head,
        mm_struct,
        module,
        mutex,
        poll_queue_proc,
        poll_table,
        refcount_t,
        task_struct,
        wait_queue_entry,
        wait_queue_func_t,
        workqueue_struct, //
    },
    ffi::{
        c_char,
        c_int,
        c_long,
        c_uint,
        c_ulong,
        c_void, //
    },
};

/// `struct vfio_rs_unmap_region` of `rust/helpers.h`: one region of an unmap batch.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct VfioRsUnmapRegion {
    /// First IOVA to unmap.
    pub(crate) iova: u64,
    /// Bytes to unmap.
    pub(crate) len: u64,
    /// Bytes unmapped (output).
    pub(crate) unmapped: u64,
}

/// `struct vfio_rs_resv_region` of `rust/helpers.h`: one reserved region of a group.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct VfioRsResvRegion {
    /// First address.
    pub(crate) start: u64,
    /// Bytes.
    pub(crate) length: u64,
    /// `enum iommu_resv_type`.
    pub(crate) kind: u32,
}

// Kernel structs behind these pointers hold zero-sized members (the kernel's own `bindings`
// crate allows the same lint); only pointers cross the boundary.
#[expect(improper_ctypes)]
extern "C" {
    /// `list_del()`.
    pub(crate) fn vfio_rs_list_del(entry: *mut list_head);
    /// `refcount_inc_not_zero()`.
    pub(crate) fn vfio_rs_refcount_inc_not_zero(r: *mut refcount_t) -> bool;
    /// `lockdep_assert_held()` on a mutex.
    pub(crate) fn vfio_rs_mutex_assert_held(lock: *mut mutex);
    /// `ida_init()`.
    pub(crate) fn vfio_rs_ida_init(ida: *mut ida);
    /// `inode->i_cdev`.
    pub(crate) fn vfio_rs_inode_cdev(inode: *mut inode) -> *mut cdev;
    /// `pm_runtime_resume_and_get()` if the bound driver has PM ops.
    pub(crate) fn vfio_rs_pm_get(dev: *mut device) -> c_int;
    /// `pm_runtime_put()` if the bound driver has PM ops.
    pub(crate) fn vfio_rs_pm_put(dev: *mut device);
    /// `dev->driver->owner`, or null without a driver.
    pub(crate) fn vfio_rs_dev_driver_owner(dev: *mut device) -> *mut module;

    // rust/type1_helpers.c, linked into vfio_iommu_type1.ko only.
    /// `iommu_paging_domain_alloc()` for the group's first device; `ERR_PTR` on failure.
    pub(crate) fn vfio_rs_group_paging_domain_alloc(group: *mut iommu_group) -> *mut iommu_domain;
    /// `domain->ops->enforce_cache_coherency(domain)`, false without that op.
    pub(crate) fn vfio_rs_domain_enforce_cache_coherency(domain: *mut iommu_domain) -> bool;
    /// `domain->ops`, as an identity.
    pub(crate) fn vfio_rs_domain_ops(domain: *mut iommu_domain) -> *const c_void;
    /// The domain's aperture and page sizes.
    pub(crate) fn vfio_rs_domain_info(
        domain: *mut iommu_domain,
        aperture_start: *mut u64,
        aperture_end: *mut u64,
        pgsize_bitmap: *mut u64,
    );
    /// Copies up to `max` of the group's reserved regions to `out`; returns how many it has.
    pub(crate) fn vfio_rs_group_resv_regions(
        group: *mut iommu_group,
        out: *mut VfioRsResvRegion,
        max: c_int,
    ) -> c_int;
    /// `pin_user_pages_remote(FOLL_LONGTERM [| FOLL_WRITE])` under the mmap lock, writing the
    /// pinned pages' pfns to `pfns`; returns how many were pinned or `-errno`.
    pub(crate) fn vfio_rs_pin_user_pfns(
        mm: *mut mm_struct,
        vaddr: c_ulong,
        npages: c_long,
        write: bool,
        pfns: *mut c_ulong,
    ) -> c_long;
    /// `pin_user_pages_remote(FOLL_LONGTERM [| FOLL_WRITE])` of up to `npages` pages (at most
    /// 2047) into `buf`, then the stretches of contiguous pages among them packed over it, one
    /// word each (`VFIO_RS_RUN_*` of `rust/helpers.h`); returns how many runs (the pages
    /// pinned in `*pinned`) or `-errno`.
    pub(crate) fn vfio_rs_pin_user_runs(
        mm: *mut mm_struct,
        vaddr: c_ulong,
        npages: c_long,
        write: bool,
        buf: *mut c_ulong,
        pinned: *mut c_long,
    ) -> c_long;
    /// Whether charging `npage` more pages to `mm` would pass the caller's `RLIMIT_MEMLOCK`
    /// (never with `lock_cap`); warns as upstream if so. Read without the mmap lock.
    pub(crate) fn vfio_rs_memlock_exceeded(
        mm: *mut mm_struct,
        lock_cap: bool,
        npage: c_ulong,
    ) -> bool;
    /// `unpin_user_page_range_dirty_lock()` on `npages` pages from `pfn`.
    pub(crate) fn vfio_rs_unpin_pfns(pfn: c_ulong, npages: c_ulong, dirty: bool);
    /// `__account_locked_vm()` under the mmap write lock (type1's `mm_lock_acct`).
    pub(crate) fn vfio_rs_lock_acct(
        task: *mut task_struct,
        mm: *mut mm_struct,
        lock_cap: bool,
        npage: c_long,
        is_async: bool,
    ) -> c_int;
    /// `capable(CAP_IPC_LOCK)`.
    pub(crate) fn vfio_rs_capable_ipc_lock() -> bool;
    /// `iommu_unmap_fast()` of each region, then one `iommu_iotlb_sync()`.
    pub(crate) fn vfio_rs_unmap_batch(
        domain: *mut iommu_domain,
        regions: *mut VfioRsUnmapRegion,
        n: c_uint,
    );
    /// `create_singlethread_workqueue()`: null on failure.
    pub(crate) fn vfio_rs_create_singlethread_workqueue(
        name: *const c_char,
    ) -> *mut workqueue_struct;
    /// `init_waitqueue_func_entry()`: an entry whose wake-ups call `func`.
    pub(crate) fn vfio_rs_init_waitqueue_func_entry(
        entry: *mut wait_queue_entry,
        func: wait_queue_func_t,
    );
    /// `init_poll_funcptr()`: a poll table whose `poll_wait` calls `qproc`, for all events.
    pub(crate) fn vfio_rs_init_poll_funcptr(pt: *mut poll_table, qproc: poll_queue_proc);
    /// `vfs_poll()`: the file's ready events, registering through `pt`.
    pub(crate) fn vfio_rs_vfs_poll(file: *mut file, pt: *mut poll_table) -> c_uint;
}
