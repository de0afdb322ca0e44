/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-pci-core.ko's C side (drivers/vfio/pci/core/pci_core_helpers.c): what
 * vfio_pci_core_init_dev and _release_dev do to the C members of a driver's
 * struct vfio_pci_core_device (locks keep upstream's lockdep names), and the
 * runtime PM ops the core installs on its driver. The Rust side gets these
 * prototypes from bindgen (the `helpers` module of kernel_ext).
 */
#ifndef VFIO_RS_PCI_CORE_H
#define VFIO_RS_PCI_CORE_H

struct device;
struct vfio_pci_core_device;

/*
 * pdev from the VFIO device's parent, irq_type "none", igate, irqlock,
 * ioeventfds_lock, memory_lock, the lists and the ctx xarray, and
 * pcim_p2pdma_init(); 0 or -errno.
 */
int vfio_rs_pci_core_init_members(struct vfio_pci_core_device *vdev);
/* mutex_destroy() of igate and ioeventfds_lock. */
void vfio_rs_pci_core_destroy_members(struct vfio_pci_core_device *vdev);
/* dev->driver->pm = the core's runtime PM ops (upstream's vfio_pci_core_pm_ops). */
void vfio_rs_pci_core_set_pm_ops(struct device *dev);

#endif
