/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sizes and member offsets of the VFIO structs C code shares with vfio.ko,
 * computed by clang against the target's headers and config when bindgen reads
 * this file (scripts/gen-bindings strips RUST_CONST_HELPER_). rust/vfio/layout.rs
 * asserts at compile time that the Rust struct layouts bindgen produced agree.
 */
#ifndef VFIO_RS_LAYOUT_HELPER_H
#define VFIO_RS_LAYOUT_HELPER_H

#include <linux/stddef.h>
#include <linux/vfio.h>
#include "vfio.h"

#define VFIO_RS_SIZE(type) \
	const size_t RUST_CONST_HELPER_VFIO_RS_SIZE_##type = sizeof(struct type)
/* `rust` is the member's name in Rust (bindgen renames keywords, e.g. match_). */
#define VFIO_RS_OFF_AS(type, member, rust) \
	const size_t RUST_CONST_HELPER_VFIO_RS_OFF_##type##__##rust = offsetof(struct type, member)
#define VFIO_RS_OFF(type, member) VFIO_RS_OFF_AS(type, member, member)

VFIO_RS_SIZE(vfio_device);
VFIO_RS_OFF(vfio_device, dev);
VFIO_RS_OFF(vfio_device, ops);
VFIO_RS_OFF(vfio_device, mig_ops);
VFIO_RS_OFF(vfio_device, log_ops);
#if IS_ENABLED(CONFIG_VFIO_GROUP)
VFIO_RS_OFF(vfio_device, group);
VFIO_RS_OFF(vfio_device, group_next);
VFIO_RS_OFF(vfio_device, iommu_entry);
#endif
VFIO_RS_OFF(vfio_device, dev_set);
VFIO_RS_OFF(vfio_device, dev_set_list);
VFIO_RS_OFF(vfio_device, migration_flags);
VFIO_RS_OFF(vfio_device, precopy_info_v2);
VFIO_RS_OFF(vfio_device, kvm);
VFIO_RS_OFF(vfio_device, index);
VFIO_RS_OFF(vfio_device, device);
#if IS_ENABLED(CONFIG_VFIO_DEVICE_CDEV)
VFIO_RS_OFF(vfio_device, cdev);
#endif
VFIO_RS_OFF(vfio_device, refcount);
VFIO_RS_OFF(vfio_device, open_count);
VFIO_RS_OFF(vfio_device, comp);
VFIO_RS_OFF(vfio_device, iommufd_access);
VFIO_RS_OFF(vfio_device, put_kvm);
VFIO_RS_OFF(vfio_device, inode);
#if IS_ENABLED(CONFIG_IOMMUFD)
VFIO_RS_OFF(vfio_device, iommufd_device);
VFIO_RS_OFF(vfio_device, pasids);
/* The byte holding the iommufd_attached/cdev_opened/noiommu bitfields follows. */
const size_t RUST_CONST_HELPER_VFIO_RS_BITFIELD_vfio_device =
	offsetofend(struct vfio_device, pasids);
#else
const size_t RUST_CONST_HELPER_VFIO_RS_BITFIELD_vfio_device =
	offsetofend(struct vfio_device, inode);
#endif
VFIO_RS_OFF(vfio_device, debug_root);

VFIO_RS_SIZE(vfio_device_set);
VFIO_RS_OFF(vfio_device_set, set_id);
VFIO_RS_OFF(vfio_device_set, lock);
VFIO_RS_OFF(vfio_device_set, device_list);
VFIO_RS_OFF(vfio_device_set, device_count);

VFIO_RS_SIZE(vfio_device_ops);
VFIO_RS_OFF(vfio_device_ops, name);
VFIO_RS_OFF(vfio_device_ops, init);
VFIO_RS_OFF(vfio_device_ops, release);
VFIO_RS_OFF(vfio_device_ops, bind_iommufd);
VFIO_RS_OFF(vfio_device_ops, unbind_iommufd);
VFIO_RS_OFF(vfio_device_ops, attach_ioas);
VFIO_RS_OFF(vfio_device_ops, detach_ioas);
VFIO_RS_OFF(vfio_device_ops, pasid_attach_ioas);
VFIO_RS_OFF(vfio_device_ops, pasid_detach_ioas);
VFIO_RS_OFF(vfio_device_ops, open_device);
VFIO_RS_OFF(vfio_device_ops, close_device);
VFIO_RS_OFF(vfio_device_ops, read);
VFIO_RS_OFF(vfio_device_ops, write);
VFIO_RS_OFF(vfio_device_ops, ioctl);
VFIO_RS_OFF(vfio_device_ops, get_region_info_caps);
VFIO_RS_OFF(vfio_device_ops, mmap);
VFIO_RS_OFF(vfio_device_ops, request);
VFIO_RS_OFF_AS(vfio_device_ops, match, match_);
VFIO_RS_OFF(vfio_device_ops, match_token_uuid);
VFIO_RS_OFF(vfio_device_ops, dma_unmap);
VFIO_RS_OFF(vfio_device_ops, device_feature);

VFIO_RS_SIZE(vfio_migration_ops);
VFIO_RS_OFF(vfio_migration_ops, migration_set_state);
VFIO_RS_OFF(vfio_migration_ops, migration_get_state);
VFIO_RS_OFF(vfio_migration_ops, migration_get_data_size);

VFIO_RS_SIZE(vfio_log_ops);
VFIO_RS_OFF(vfio_log_ops, log_start);
VFIO_RS_OFF(vfio_log_ops, log_stop);
VFIO_RS_OFF(vfio_log_ops, log_read_and_clear);

VFIO_RS_SIZE(vfio_info_cap);
VFIO_RS_OFF(vfio_info_cap, buf);
VFIO_RS_OFF(vfio_info_cap, size);

VFIO_RS_SIZE(vfio_iommu_driver_ops);
VFIO_RS_OFF(vfio_iommu_driver_ops, name);
VFIO_RS_OFF(vfio_iommu_driver_ops, owner);
VFIO_RS_OFF(vfio_iommu_driver_ops, open);
VFIO_RS_OFF(vfio_iommu_driver_ops, release);
VFIO_RS_OFF(vfio_iommu_driver_ops, ioctl);
VFIO_RS_OFF(vfio_iommu_driver_ops, attach_group);
VFIO_RS_OFF(vfio_iommu_driver_ops, detach_group);
VFIO_RS_OFF(vfio_iommu_driver_ops, pin_pages);
VFIO_RS_OFF(vfio_iommu_driver_ops, unpin_pages);
VFIO_RS_OFF(vfio_iommu_driver_ops, register_device);
VFIO_RS_OFF(vfio_iommu_driver_ops, unregister_device);
VFIO_RS_OFF(vfio_iommu_driver_ops, dma_rw);
VFIO_RS_OFF(vfio_iommu_driver_ops, group_iommu_domain);


/* Drivers hold `struct virqfd *` slots; the objects are ours (rust/vfio/virqfd.rs). */
VFIO_RS_SIZE(virqfd);
VFIO_RS_OFF(virqfd, opaque);
VFIO_RS_OFF(virqfd, eventfd);
VFIO_RS_OFF(virqfd, handler);
VFIO_RS_OFF(virqfd, thread);
VFIO_RS_OFF(virqfd, data);
VFIO_RS_OFF(virqfd, inject);
VFIO_RS_OFF(virqfd, wait);
VFIO_RS_OFF(virqfd, pt);
VFIO_RS_OFF(virqfd, shutdown);
VFIO_RS_OFF(virqfd, flush_inject);
VFIO_RS_OFF(virqfd, pvirqfd);

/*
 * struct vfio_pci_core_device: vfio-pci.ko (drivers/vfio/pci/) allocates it with its size,
 * reaches it from its vdev (first member), and writes pdev's neighbour pci_ops and the
 * bitfields before needs_reset (nointxmask, disable_idle_d3, disable_vga).
 */
#include <linux/vfio_pci_core.h>
VFIO_RS_SIZE(vfio_pci_core_device);
VFIO_RS_OFF(vfio_pci_core_device, vdev);
VFIO_RS_OFF(vfio_pci_core_device, pdev);
VFIO_RS_OFF(vfio_pci_core_device, pci_ops);
VFIO_RS_OFF(vfio_pci_core_device, rbar);
VFIO_RS_OFF(vfio_pci_core_device, needs_reset);
VFIO_RS_OFF(vfio_pci_core_device, dmabufs);
VFIO_RS_SIZE(vfio_pci_device_ops);
VFIO_RS_OFF(vfio_pci_device_ops, get_dmabuf_phys);

#endif
