// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for static inline kernel functions that the kernel's own
 * rust/helpers do not cover. Linked once, into vfio_rs_kernel_ext.ko, which
 * exports them (an #[inline] or generic user in another module calls them
 * there); prototypes in include/vfio-rs/helpers.h.
 */
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/msi.h>

#include <vfio-rs/helpers.h>

void *vfio_rs_kmalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags);
}

void vfio_rs_pci_msi_rewrite(unsigned int irq)
{
	struct msi_msg msg;

	get_cached_msi_msg(irq, &msg);
	pci_write_msi_msg(irq, &msg);
}

struct pci_dev *vfio_rs_pci_upstream_bridge(struct pci_dev *pdev)
{
	return pci_upstream_bridge(pdev);
}

int vfio_rs_pci_domain_nr(struct pci_dev *pdev)
{
	return pci_domain_nr(pdev->bus);
}

void vfio_rs_pfn_vma_setup(struct vm_area_struct *vma, void *private_data,
			   const struct vm_operations_struct *ops)
{
	vma->vm_private_data = private_data;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_page_prot = pgprot_decrypted(vma->vm_page_prot);
	vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED | VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = ops;
}

unsigned int vfio_rs_vmf_insert_pfn_order(struct vm_fault *vmf, unsigned long pfn,
					  unsigned int order)
{
	if (!order)
		return vmf_insert_pfn(vmf->vma, vmf->address, pfn);
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	if (order == PMD_ORDER)
		return vmf_insert_pfn_pmd(vmf, pfn, false);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	if (order == PUD_ORDER)
		return vmf_insert_pfn_pud(vmf, pfn, false);
#endif
	return VM_FAULT_FALLBACK;
}

void vfio_rs_list_del(struct list_head *entry)
{
	list_del(entry);
}

bool vfio_rs_refcount_inc_not_zero(refcount_t *r)
{
	return refcount_inc_not_zero(r);
}

void vfio_rs_mutex_assert_held(struct mutex *lock)
{
	lockdep_assert_held(lock);
}

void vfio_rs_ida_init(struct ida *ida)
{
	ida_init(ida);
}

/* inode->i_cdev sits in an anonymous union whose position depends on the config. */
struct cdev *vfio_rs_inode_cdev(struct inode *inode)
{
	return inode->i_cdev;
}

#include <linux/pm_runtime.h>

/* Resume a device whose driver has PM ops, as upstream brackets device ioctls. */
int vfio_rs_pm_get(struct device *dev)
{
	if (dev->driver && dev->driver->pm)
		return pm_runtime_resume_and_get(dev);
	return 0;
}

void vfio_rs_pm_put(struct device *dev)
{
	if (dev->driver && dev->driver->pm)
		pm_runtime_put(dev);
}

int vfio_rs_pm_runtime_resume_and_get(struct device *dev)
{
	return pm_runtime_resume_and_get(dev);
}

void vfio_rs_pm_runtime_put(struct device *dev)
{
	pm_runtime_put(dev);
}

void vfio_rs_pm_runtime_get_noresume(struct device *dev)
{
	pm_runtime_get_noresume(dev);
}

void vfio_rs_pm_runtime_put_noidle(struct device *dev)
{
	pm_runtime_put_noidle(dev);
}

int vfio_rs_pm_runtime_resume(struct device *dev)
{
	return pm_runtime_resume(dev);
}

struct module *vfio_rs_dev_driver_owner(struct device *dev)
{
	return dev->driver ? dev->driver->owner : NULL;
}

/* A macro: alloc_workqueue("%s", WQ_UNBOUND | __WQ_ORDERED | __WQ_LEGACY | WQ_MEM_RECLAIM, 1, name). */
struct workqueue_struct *vfio_rs_create_singlethread_workqueue(const char *name)
{
	return create_singlethread_workqueue(name);
}

void vfio_rs_init_waitqueue_func_entry(struct wait_queue_entry *entry, wait_queue_func_t func)
{
	init_waitqueue_func_entry(entry, func);
}

void vfio_rs_init_poll_funcptr(poll_table *pt, poll_queue_proc qproc)
{
	init_poll_funcptr(pt, qproc);
}

__poll_t vfio_rs_vfs_poll(struct file *file, poll_table *pt)
{
	return vfs_poll(file, pt);
}
