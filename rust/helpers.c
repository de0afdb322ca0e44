// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for static inline kernel functions that the kernel's own
 * rust/helpers do not cover. Linked into each module that needs them, never
 * exported; declared on the Rust side in rust/helpers.rs.
 */
#include <linux/lockdep.h>

#include "helpers.h"

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
