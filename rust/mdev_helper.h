/* SPDX-License-Identifier: GPL-2.0 */
/*
 * include/linux/mdev.h for bindgen (scripts/gen-bindings ->
 * rust/generated/mdev.rs): the four structs mdev drivers share with mdev.ko,
 * and their sizes and member offsets computed by clang with the target's
 * config, which rust/mdev/layout.rs compares with bindgen's layouts.
 */
#include <linux/stddef.h>
#include <linux/mdev.h>

#define VFIO_RS_MDEV_SIZE(type) \
	const size_t RUST_CONST_HELPER_VFIO_RS_SIZE_##type = sizeof(struct type)
#define VFIO_RS_MDEV_OFF(type, member) \
	const size_t RUST_CONST_HELPER_VFIO_RS_OFF_##type##__##member = offsetof(struct type, member)

VFIO_RS_MDEV_SIZE(mdev_device);
VFIO_RS_MDEV_OFF(mdev_device, dev);
VFIO_RS_MDEV_OFF(mdev_device, uuid);
VFIO_RS_MDEV_OFF(mdev_device, next);
VFIO_RS_MDEV_OFF(mdev_device, type);
VFIO_RS_MDEV_OFF(mdev_device, active);

VFIO_RS_MDEV_SIZE(mdev_type);
VFIO_RS_MDEV_OFF(mdev_type, sysfs_name);
VFIO_RS_MDEV_OFF(mdev_type, pretty_name);
VFIO_RS_MDEV_OFF(mdev_type, parent);
VFIO_RS_MDEV_OFF(mdev_type, kobj);
VFIO_RS_MDEV_OFF(mdev_type, devices_kobj);

VFIO_RS_MDEV_SIZE(mdev_parent);
VFIO_RS_MDEV_OFF(mdev_parent, dev);
VFIO_RS_MDEV_OFF(mdev_parent, mdev_driver);
VFIO_RS_MDEV_OFF(mdev_parent, mdev_types_kset);
VFIO_RS_MDEV_OFF(mdev_parent, unreg_sem);
VFIO_RS_MDEV_OFF(mdev_parent, types);
VFIO_RS_MDEV_OFF(mdev_parent, nr_types);
VFIO_RS_MDEV_OFF(mdev_parent, available_instances);

VFIO_RS_MDEV_SIZE(mdev_driver);
VFIO_RS_MDEV_OFF(mdev_driver, device_api);
VFIO_RS_MDEV_OFF(mdev_driver, max_instances);
VFIO_RS_MDEV_OFF(mdev_driver, probe);
VFIO_RS_MDEV_OFF(mdev_driver, remove);
VFIO_RS_MDEV_OFF(mdev_driver, get_available);
VFIO_RS_MDEV_OFF(mdev_driver, show_description);
VFIO_RS_MDEV_OFF(mdev_driver, driver);
