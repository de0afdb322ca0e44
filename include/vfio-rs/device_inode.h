/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio.ko's device inodes on its private pseudo filesystem
 * (drivers/vfio/device_inode.c). The Rust side gets these prototypes from
 * bindgen (the `helpers` module of kernel_ext), used by rust/vfio/device.rs.
 */
#ifndef VFIO_RS_DEVICE_INODE_H
#define VFIO_RS_DEVICE_INODE_H

struct file;
struct inode;

/* A new inode on the pseudo filesystem (pinned while any exists); ERR_PTR on failure. */
struct inode *vfio_rs_device_inode_new(void);
/* Drops an inode of vfio_rs_device_inode_new() and its pin of the filesystem. */
void vfio_rs_device_inode_put(struct inode *inode);
/* file->f_mapping = inode->i_mapping: the file's mmaps are zapped with the device's. */
void vfio_rs_file_set_mapping(struct file *file, struct inode *inode);

#endif
