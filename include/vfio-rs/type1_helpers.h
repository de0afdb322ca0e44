/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of vfio_iommu_type1.ko (drivers/vfio/type1/type1_helpers.c) for
 * IOMMU domains and groups, pinning, accounting and PFNMAP lookups, and the
 * structs they share with Rust. Linked only into that module, never exported;
 * the Rust side gets them from bindgen (the `helpers` module of kernel_ext).
 */
#ifndef VFIO_RS_TYPE1_HELPERS_H
#define VFIO_RS_TYPE1_HELPERS_H

#include <linux/types.h>

struct iommu_domain;
struct iommu_group;
struct mm_struct;
struct task_struct;

/* One `struct iommu_resv_region`, copied out of the group's list. */
struct vfio_rs_resv_region {
	u64 start;
	u64 length;
	/* enum iommu_resv_type */
	u32 type;
};

/* One region of an unmap batch: in `iova`, `len`; out `unmapped` bytes. */
struct vfio_rs_unmap_region {
	u64 iova;
	u64 len;
	u64 unmapped;
};

/*
 * A run of physically contiguous pinned pages packed in one word (rust/user_pages.rs
 * decodes it): pfn in bits 0-39 (MAX_PHYSMEM_BITS - PAGE_SHIFT), page count in
 * bits 40-62 (a 1 GiB folio is one run), PageReserved in bit 63.
 */
#define VFIO_RS_RUN_PFN_BITS 40
#define VFIO_RS_RUN_NPAGES_MAX ((1UL << 23) - 1)
#define VFIO_RS_RUN_RSVD_BIT 63

/* iommu_paging_domain_alloc() for the group's first device; ERR_PTR on failure. */
struct iommu_domain *vfio_rs_group_paging_domain_alloc(struct iommu_group *group);
/* domain->ops->enforce_cache_coherency(domain), false without that op. */
bool vfio_rs_domain_enforce_cache_coherency(struct iommu_domain *domain);
/* domain->ops, as an identity. */
const void *vfio_rs_domain_ops(struct iommu_domain *domain);
/* The domain's aperture and page sizes. */
void vfio_rs_domain_info(struct iommu_domain *domain, u64 *aperture_start,
			 u64 *aperture_end, u64 *pgsize_bitmap);
/* Copies up to max of the group's reserved regions to out; returns how many it has. */
int vfio_rs_group_resv_regions(struct iommu_group *group,
			       struct vfio_rs_resv_region *out, int max);
/* iommu_unmap_fast() of each region, then one iommu_iotlb_sync(). */
void vfio_rs_unmap_batch(struct iommu_domain *domain,
			 struct vfio_rs_unmap_region *regions, unsigned int n);

/*
 * pin_user_pages_remote(FOLL_LONGTERM [| FOLL_WRITE]) under the mmap lock,
 * writing the pinned pages' pfns to pfns; returns how many were pinned or -errno.
 */
long vfio_rs_pin_user_pfns(struct mm_struct *mm, unsigned long vaddr,
			   long npages, bool write, unsigned long *pfns);
/*
 * Long-term pins of up to npages pages (at most VFIO_RS_RUN_NPAGES_MAX) from
 * vaddr, writable if write, recorded in buf (max_runs words) as the stretches
 * of physically contiguous pages among them, one word each (VFIO_RS_RUN_*);
 * returns how many runs (the pages pinned in *pinned) or -errno. In a shared
 * shmem or hugetlbfs mapping (the file's page cache) up to max_runs folios of
 * the VMA at vaddr are pinned with memfd_pin_folios(); in a private hugetlb
 * mapping up to max_runs huge pages, each by one GUP of its first page in the
 * range; elsewhere pin_user_pages_remote(FOLL_LONGTERM [| FOLL_WRITE]) pins up
 * to max_runs pages. Either way every 4 KiB page holds one pin, as upstream's
 * per-page pinning leaves it (folio_add_pins() for the rest of a folio).
 * *plain_end (0 at first) is where the ordinary VMA the last call found ends:
 * calls below it go straight to GUP.
 */
long vfio_rs_pin_user_runs(struct mm_struct *mm, unsigned long vaddr,
			   long npages, long max_runs, bool write,
			   unsigned long *buf, long *pinned,
			   unsigned long *plain_end);
/*
 * Whether charging npage more pages to mm would pass the caller's
 * RLIMIT_MEMLOCK (never with lock_cap); warns as upstream if so. Read without
 * the mmap lock.
 */
bool vfio_rs_memlock_exceeded(struct mm_struct *mm, bool lock_cap,
			      unsigned long npage);
/* unpin_user_page_range_dirty_lock() on npages pages from pfn. */
void vfio_rs_unpin_pfns(unsigned long pfn, unsigned long npages, bool dirty);
/* __account_locked_vm() under the mmap write lock (type1's mm_lock_acct). */
int vfio_rs_lock_acct(struct task_struct *task, struct mm_struct *mm,
		      bool lock_cap, long npage, bool async);
/* capable(CAP_IPC_LOCK). */
bool vfio_rs_capable_ipc_lock(void);

/* untagged_addr_remote(); the caller holds the mmap lock of mm. */
unsigned long vfio_rs_untagged_addr_remote(struct mm_struct *mm,
					   unsigned long addr);

#endif
