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

void vfio_rs_list_del(struct list_head *entry);
bool vfio_rs_refcount_inc_not_zero(refcount_t *r);
void vfio_rs_mutex_assert_held(struct mutex *lock);
void vfio_rs_ida_init(struct ida *ida);
struct cdev *vfio_rs_inode_cdev(struct inode *inode);

int vfio_rs_pm_get(struct device *dev);
void vfio_rs_pm_put(struct device *dev);
struct module *vfio_rs_dev_driver_owner(struct device *dev);

#endif
