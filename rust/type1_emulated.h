/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of vfio_iommu_type1.ko for emulated-IOMMU devices and dirty
 * tracking (rust/type1_emulated.c), declared on the Rust side in
 * rust/user_mm.rs and rust/vfio/unmap_notify.rs.
 */
#ifndef VFIO_RS_TYPE1_EMULATED_H
#define VFIO_RS_TYPE1_EMULATED_H

#include <linux/types.h>

struct list_head;
struct mm_struct;
struct page;
struct vfio_device;

bool vfio_rs_pfn_reserved(unsigned long pfn);
bool vfio_rs_pfn_valid(unsigned long pfn);
struct page *vfio_rs_pfn_to_page(unsigned long pfn);
bool vfio_rs_access_ok(unsigned long addr, unsigned long size);
long vfio_rs_mm_rw(struct mm_struct *mm, unsigned long vaddr, void *data,
		   size_t count, bool write);

void vfio_rs_devlist_init(struct list_head *head);
void vfio_rs_devlist_add(struct list_head *head, struct vfio_device *vdev);
void vfio_rs_devlist_del(struct vfio_device *vdev);
bool vfio_rs_device_has_dma_unmap(struct vfio_device *vdev);
void vfio_rs_devlist_notify(struct list_head *head, u64 iova, u64 size);

#endif
