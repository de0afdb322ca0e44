/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic C helpers (rust/helpers.c): static inline kernel functions and
 * macros the kernel's own rust/helpers do not cover. Linked into the library
 * module vfio_rs_kernel_ext.ko, which exports them. The Rust side gets these prototypes from
 * bindgen (rust/helpers_helper.h -> rust/generated/helpers.rs, the `helpers`
 * module of kernel_ext).
 */
#ifndef VFIO_RS_HELPERS_H
#define VFIO_RS_HELPERS_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

/* kmalloc(): __kmalloc_noprof() reached by a tail call, no frame of its own. */
void *vfio_rs_kmalloc(size_t size, gfp_t flags);
/* pci_upstream_bridge(). */
struct pci_dev *vfio_rs_pci_upstream_bridge(struct pci_dev *pdev);
/* pci_domain_nr(pdev->bus): the device's PCI segment. */
int vfio_rs_pci_domain_nr(struct pci_dev *pdev);
/* pm_runtime_resume_and_get(). */
int vfio_rs_pm_runtime_resume_and_get(struct device *dev);
/* pm_runtime_put(). */
void vfio_rs_pm_runtime_put(struct device *dev);
/* pm_runtime_get_noresume(). */
void vfio_rs_pm_runtime_get_noresume(struct device *dev);
/* pm_runtime_put_noidle(). */
void vfio_rs_pm_runtime_put_noidle(struct device *dev);
/* pm_runtime_resume(). */
int vfio_rs_pm_runtime_resume(struct device *dev);
/*
 * An mmap being set up as a device-memory mapping filled by faults: private
 * data and ops set, page protection uncached and decrypted, and the flags
 * io_remap_pfn_range() would set (VM_IO | VM_PFNMAP | VM_DONTEXPAND |
 * VM_DONTDUMP) plus VM_ALLOW_ANY_UNCACHED.
 */
void vfio_rs_pfn_vma_setup(struct vm_area_struct *vma, void *private_data,
			   const struct vm_operations_struct *ops);
/*
 * Inserts the frame pfn for a fault of order 0 (a page), PMD_ORDER or PUD_ORDER
 * (where the architecture maps PFNs that large), else VM_FAULT_FALLBACK.
 */
unsigned int vfio_rs_vmf_insert_pfn_order(struct vm_fault *vmf, unsigned long pfn,
					  unsigned int order);
/* list_del(). */
void vfio_rs_list_del(struct list_head *entry);
/* refcount_inc_not_zero(). */
bool vfio_rs_refcount_inc_not_zero(refcount_t *r);
/* lockdep_assert_held() on a mutex. */
void vfio_rs_mutex_assert_held(struct mutex *lock);
/* ida_init(). */
void vfio_rs_ida_init(struct ida *ida);
/* inode->i_cdev. */
struct cdev *vfio_rs_inode_cdev(struct inode *inode);

/* pm_runtime_resume_and_get() if the bound driver has PM ops. */
int vfio_rs_pm_get(struct device *dev);
/* pm_runtime_put() if the bound driver has PM ops. */
void vfio_rs_pm_put(struct device *dev);
/* dev->driver->owner, or NULL without a driver. */
struct module *vfio_rs_dev_driver_owner(struct device *dev);

/* create_singlethread_workqueue(): NULL on failure. */
struct workqueue_struct *vfio_rs_create_singlethread_workqueue(const char *name);
/* init_waitqueue_func_entry(): an entry whose wake-ups call func. */
void vfio_rs_init_waitqueue_func_entry(struct wait_queue_entry *entry, wait_queue_func_t func);
/* init_poll_funcptr(): a poll table whose poll_wait calls qproc, for all events. */
void vfio_rs_init_poll_funcptr(poll_table *pt, poll_queue_proc qproc);
/* vfs_poll(): the file's ready events, registering through pt. */
__poll_t vfio_rs_vfs_poll(struct file *file, poll_table *pt);
/*
 * get_cached_msi_msg() + pci_write_msi_msg(): writes an MSI/MSI-X vector's
 * message back to the device (struct msi_msg is opaque to the kernel's bindings).
 */
void vfio_rs_pci_msi_rewrite(unsigned int irq);

#endif
