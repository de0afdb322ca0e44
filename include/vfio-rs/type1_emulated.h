/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of vfio_iommu_type1.ko for emulated-IOMMU devices and dirty
 * tracking (drivers/vfio/type1/type1_emulated.c). The Rust side gets them from
 * bindgen (the `helpers` module of kernel_ext), used by rust/user_mm.rs and
 * rust/vfio/unmap_notify.rs.
 */
#ifndef VFIO_RS_TYPE1_EMULATED_H
#define VFIO_RS_TYPE1_EMULATED_H

#include <linux/types.h>

struct list_head;
struct mm_struct;
struct page;
struct vfio_device;

/* type1's is_invalid_reserved_pfn(): no struct page, or a PageReserved() one. */
bool vfio_rs_pfn_reserved(unsigned long pfn);
/* pfn_valid(). */
bool vfio_rs_pfn_valid(unsigned long pfn);
/* pfn_to_page(). */
struct page *vfio_rs_pfn_to_page(unsigned long pfn);
/* access_ok(): [addr, addr + size) lies in the user address range. */
bool vfio_rs_access_ok(unsigned long addr, unsigned long size);
/*
 * Copies count bytes between data and vaddr in mm (to the process if write);
 * returns the bytes copied (0 or count), or -EPERM once the process is gone.
 */
long vfio_rs_mm_rw(struct mm_struct *mm, unsigned long vaddr, void *data,
		   size_t count, bool write);

/* The devices to tell about unmaps, linked through vfio_device::iommu_entry. */
void vfio_rs_devlist_init(struct list_head *head);
void vfio_rs_devlist_add(struct list_head *head, struct vfio_device *vdev);
void vfio_rs_devlist_del(struct vfio_device *vdev);
bool vfio_rs_device_has_dma_unmap(struct vfio_device *vdev);
/* Calls every listed device's dma_unmap on [iova, iova + size). */
void vfio_rs_devlist_notify(struct list_head *head, u64 iova, u64 size);

#endif
