// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko only: the private pseudo filesystem that gives each vfio_device an
 * inode, so drivers can zap every user mapping of the device through
 * device->inode->i_mapping (vfio-pci does on reset and memory disable), and
 * device files share that mapping. Same magic and name as upstream's.
 * Prototypes in include/vfio-rs/device_inode.h.
 */
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include <vfio-rs/device_inode.h>

#define VFIO_MAGIC 0x5646494f /* "VFIO" */

static struct vfsmount *vfio_rs_fs_mnt;
static int vfio_rs_fs_count;

static int vfio_rs_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VFIO_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type vfio_rs_fs_type = {
	.name = "vfio",
	.owner = THIS_MODULE,
	.init_fs_context = vfio_rs_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

struct inode *vfio_rs_device_inode_new(void)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&vfio_rs_fs_type, &vfio_rs_fs_mnt, &vfio_rs_fs_count);
	if (ret)
		return ERR_PTR(ret);
	inode = alloc_anon_inode(vfio_rs_fs_mnt->mnt_sb);
	if (IS_ERR(inode))
		simple_release_fs(&vfio_rs_fs_mnt, &vfio_rs_fs_count);
	return inode;
}

void vfio_rs_device_inode_put(struct inode *inode)
{
	iput(inode);
	simple_release_fs(&vfio_rs_fs_mnt, &vfio_rs_fs_count);
}

void vfio_rs_file_set_mapping(struct file *file, struct inode *inode)
{
	file->f_mapping = inode->i_mapping;
}
