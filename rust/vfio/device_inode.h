/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VFIO_RS_DEVICE_INODE_H
#define VFIO_RS_DEVICE_INODE_H

struct file;
struct inode;

struct inode *vfio_rs_device_inode_new(void);
void vfio_rs_device_inode_put(struct inode *inode);
void vfio_rs_file_set_mapping(struct file *file, struct inode *inode);

#endif
