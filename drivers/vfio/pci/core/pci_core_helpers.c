// SPDX-License-Identifier: GPL-2.0
/*
 * The C members of struct vfio_pci_core_device, initialised as upstream's
 * vfio_pci_core_init_dev does (each lock with its own lockdep class and name),
 * and the runtime PM ops the core installs on its driver. Prototypes in
 * include/vfio-rs/pci_core.h.
 */
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/pm_runtime.h>
#include <linux/vfio_pci_core.h>

#include <vfio-rs/pci_core.h>

int vfio_rs_pci_core_init_members(struct vfio_pci_core_device *vdev)
{
	int ret;

	vdev->pdev = to_pci_dev(vdev->vdev.dev);
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
	mutex_init(&vdev->igate);
	spin_lock_init(&vdev->irqlock);
	mutex_init(&vdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vdev->dummy_resources_list);
	INIT_LIST_HEAD(&vdev->ioeventfds_list);
	INIT_LIST_HEAD(&vdev->sriov_pfs_item);
	ret = pcim_p2pdma_init(vdev->pdev);
	if (ret && ret != -EOPNOTSUPP)
		return ret;
	INIT_LIST_HEAD(&vdev->dmabufs);
	init_rwsem(&vdev->memory_lock);
	xa_init(&vdev->ctx);
	return 0;
}

void vfio_rs_pci_core_destroy_members(struct vfio_pci_core_device *vdev)
{
	mutex_destroy(&vdev->igate);
	mutex_destroy(&vdev->ioeventfds_lock);
}

/* drivers/vfio/pci/core/ffi/exports.rs */
int vfio_rs_pci_core_runtime_suspend(struct device *dev);
int vfio_rs_pci_core_runtime_resume(struct device *dev);

static const struct dev_pm_ops vfio_rs_pci_core_pm_ops = {
	SET_RUNTIME_PM_OPS(vfio_rs_pci_core_runtime_suspend, vfio_rs_pci_core_runtime_resume, NULL)
};

void vfio_rs_pci_core_set_pm_ops(struct device *dev)
{
	dev->driver->pm = &vfio_rs_pci_core_pm_ops;
}
