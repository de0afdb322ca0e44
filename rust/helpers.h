/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of rust/helpers.c; the Rust side declares them in rust/helpers.rs. */
#ifndef VFIO_RS_HELPERS_H
#define VFIO_RS_HELPERS_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

void vfio_rs_list_del(struct list_head *entry);
bool vfio_rs_refcount_inc_not_zero(refcount_t *r);
void vfio_rs_mutex_assert_held(struct mutex *lock);
void vfio_rs_ida_init(struct ida *ida);
struct cdev *vfio_rs_inode_cdev(struct inode *inode);

int vfio_rs_pm_get(struct device *dev);
void vfio_rs_pm_put(struct device *dev);
struct module *vfio_rs_dev_driver_owner(struct device *dev);


/* rust/type1_helpers.c (vfio_iommu_type1.ko only) */
struct iommu_domain;
struct iommu_group;
struct mm_struct;
struct page;
struct task_struct;

/* One `struct iommu_resv_region`, copied out of the group's list. */
struct vfio_rs_resv_region {
	u64 start;
	u64 length;
	u32 type;
};

struct iommu_domain *vfio_rs_group_paging_domain_alloc(struct iommu_group *group);
bool vfio_rs_domain_enforce_cache_coherency(struct iommu_domain *domain);
const void *vfio_rs_domain_ops(struct iommu_domain *domain);
void vfio_rs_domain_info(struct iommu_domain *domain, u64 *aperture_start,
			 u64 *aperture_end, u64 *pgsize_bitmap);
int vfio_rs_group_resv_regions(struct iommu_group *group,
			       struct vfio_rs_resv_region *out, int max);
long vfio_rs_pin_user_pfns(struct mm_struct *mm, unsigned long vaddr,
			   long npages, bool write, unsigned long *pfns);
long vfio_rs_pin_user_pages(struct mm_struct *mm, unsigned long vaddr,
			    long npages, bool write, struct page **pages);

/*
 * A run of physically contiguous pinned pages packed in one word (rust/user_pages.rs
 * decodes it): pfn in bits 0-51, page count in bits 52-62, PageReserved in bit 63.
 */
#define VFIO_RS_RUN_PFN_BITS 52
#define VFIO_RS_RUN_NPAGES_MAX ((1UL << 11) - 1)
#define VFIO_RS_RUN_RSVD_BIT 63

long vfio_rs_pin_user_runs(struct mm_struct *mm, unsigned long vaddr,
			   long npages, bool write, unsigned long *buf,
			   long *pinned);
bool vfio_rs_memlock_exceeded(struct mm_struct *mm, bool lock_cap,
			      unsigned long npage);
void vfio_rs_unpin_pfns(unsigned long pfn, unsigned long npages, bool dirty);
int vfio_rs_lock_acct(struct task_struct *task, struct mm_struct *mm,
		      bool lock_cap, long npage, bool async);
bool vfio_rs_capable_ipc_lock(void);

/* One region of an unmap batch: in `iova`, `len`; out `unmapped` bytes. */
struct vfio_rs_unmap_region {
	u64 iova;
	u64 len;
	u64 unmapped;
};

void vfio_rs_unmap_batch(struct iommu_domain *domain,
			 struct vfio_rs_unmap_region *regions, unsigned int n);
struct workqueue_struct *vfio_rs_create_singlethread_workqueue(const char *name);
void vfio_rs_init_waitqueue_func_entry(struct wait_queue_entry *entry, wait_queue_func_t func);
void vfio_rs_init_poll_funcptr(poll_table *pt, poll_queue_proc qproc);
__poll_t vfio_rs_vfs_poll(struct file *file, poll_table *pt);

#endif
