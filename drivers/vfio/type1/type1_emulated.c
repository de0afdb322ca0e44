// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of vfio_iommu_type1.ko for emulated-IOMMU devices (mdev-style
 * drivers pinning pages or copying through the CPU) and dirty tracking: pfn
 * tests that are static inlines or macros, a copy through another process's
 * address space (mmget, kthread_use_mm, copy, unuse, mmput must stay together)
 * and the walk of the devices to tell about an unmap. Linked only into that
 * module, never exported; prototypes in include/vfio-rs/type1_emulated.h.
 */
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include <vfio-rs/type1_emulated.h>

/* type1's is_invalid_reserved_pfn(): no struct page, or a reserved one. */
bool vfio_rs_pfn_reserved(unsigned long pfn)
{
	if (pfn_valid(pfn))
		return PageReserved(pfn_to_page(pfn));
	return true;
}

bool vfio_rs_pfn_valid(unsigned long pfn)
{
	return pfn_valid(pfn);
}

struct page *vfio_rs_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

bool vfio_rs_access_ok(unsigned long addr, unsigned long size)
{
	return access_ok((void __user *)addr, size);
}

/*
 * Copies `count` bytes between `data` and `vaddr` in `mm` (to the process if
 * `write`), as type1's dma_rw_chunk: a kernel thread borrows the mm, a
 * process may only reach its own. Returns the bytes copied (0 or `count`), or
 * -EPERM once the process is gone.
 */
long vfio_rs_mm_rw(struct mm_struct *mm, unsigned long vaddr, void *data,
		   size_t count, bool write)
{
	bool kthread = !current->mm;
	long copied = 0;

	if (!mmget_not_zero(mm))
		return -EPERM;
	if (kthread)
		kthread_use_mm(mm);
	else if (current->mm != mm)
		goto out;
	if (write)
		copied = copy_to_user((void __user *)vaddr, data, count) ? 0 : count;
	else
		copied = copy_from_user(data, (void __user *)vaddr, count) ? 0 : count;
	if (kthread)
		kthread_unuse_mm(mm);
out:
	mmput(mm);
	return copied;
}

void vfio_rs_devlist_init(struct list_head *head)
{
	INIT_LIST_HEAD(head);
}

void vfio_rs_devlist_add(struct list_head *head, struct vfio_device *vdev)
{
	list_add(&vdev->iommu_entry, head);
}

void vfio_rs_devlist_del(struct vfio_device *vdev)
{
	list_del(&vdev->iommu_entry);
}

bool vfio_rs_device_has_dma_unmap(struct vfio_device *vdev)
{
	return vdev->ops->dma_unmap;
}

/* Asks every listed device to drop its pins in [iova, iova + size). */
void vfio_rs_devlist_notify(struct list_head *head, u64 iova, u64 size)
{
	struct vfio_device *device;

	list_for_each_entry(device, head, iommu_entry)
		device->ops->dma_unmap(device, iova, size);
}
