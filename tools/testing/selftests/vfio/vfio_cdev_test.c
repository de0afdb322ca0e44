// SPDX-License-Identifier: GPL-2.0
/*
 * The device cdev, /dev/vfio/devices/vfioN, with upstream's C vfio-pci on the
 * guest's igb: a fresh fd does nothing before VFIO_DEVICE_BIND_IOMMUFD (every
 * ioctl and read fail with upstream's errno), BIND validates its arguments,
 * binds once, attaches page tables; cdev and group path exclude each other
 * (EBUSY both ways).
 */
#include <sys/ioctl.h>
#include <linux/iommufd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9

FIXTURE(cdev) {
	char bdf[32];
	char cdev[64];
	char group[64];
	int fd;
	int iommufd;
};

FIXTURE_SETUP(cdev)
{
	char name[32];

	self->fd = self->iommufd = -1;
	if (vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, self->bdf, sizeof(self->bdf)))
		SKIP(return, "no igb in this guest");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded on this core");
	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->bdf));
	ASSERT_EQ(0, vfio_rs_vfio_dev_name(self->bdf, name, sizeof(name)));
	snprintf(self->cdev, sizeof(self->cdev), "/dev/vfio/devices/%s", name);
	snprintf(self->group, sizeof(self->group), "/dev/vfio/%d",
		 vfio_rs_iommu_group(self->bdf));
	self->fd = open(self->cdev, O_RDWR);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", self->cdev, strerror(errno));
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(self->iommufd, 0);
}

FIXTURE_TEARDOWN(cdev)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	vfio_rs_unbind(self->bdf);
}

static int bind(int fd, int iommufd, __u32 *devid)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };
	int ret = vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&b);

	if (devid)
		*devid = b.out_devid;
	return ret;
}

TEST_F(cdev, nothing_works_before_bind)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	char buf[4];

	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
					 (unsigned long)&at));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_RESET, 0));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, _IO(VFIO_TYPE, VFIO_BASE + 60), 0));
	ASSERT_EQ(-1, pread(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(cdev, bind_argument_checks)
{
	struct {
		struct vfio_device_bind_iommufd b;
		__u64 extra;
	} big = { .b = { .argsz = sizeof(big), .iommufd = self->iommufd }, .extra = 1 };
	struct vfio_device_bind_iommufd b = { .argsz = 15, .iommufd = self->iommufd };

	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&b));
	b.argsz = sizeof(b);
	b.iommufd = -1;
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&b));
	b.iommufd = self->iommufd;
	b.flags = 2;
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&b));
	b.flags = 0;
	b.iommufd = open("/dev/null", O_RDWR);
	ASSERT_EQ(-EBADFD, vfio_rs_ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&b));
	close(b.iommufd);
	ASSERT_EQ(-E2BIG, vfio_rs_ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&big));
	ASSERT_EQ(-EFAULT, vfio_rs_ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, 8));
}

TEST_F(cdev, bind_once_then_attach)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	__u32 devid = 0;
	int second;

	ASSERT_EQ(0, bind(self->fd, self->iommufd, &devid));
	ASSERT_NE(0, devid);
	ASSERT_EQ(-EINVAL, bind(self->fd, self->iommufd, NULL));
	/* Only one bound cdev fd per device. */
	second = open(self->cdev, O_RDWR);
	ASSERT_GE(second, 0);
	ASSERT_EQ(-EINVAL, bind(second, self->iommufd, NULL));
	close(second);

	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	ASSERT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &alloc));
	at.pt_id = alloc.out_ioas_id;
	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, (unsigned long)&at));
	at.flags = 2;
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
					 (unsigned long)&at));
	at.flags = 0;
	at.pt_id = 0xfffff;
	ASSERT_EQ(-ENOENT, vfio_rs_ioctl(self->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
					 (unsigned long)&at));
	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, (unsigned long)&dt));
}

TEST_F(cdev, group_and_cdev_exclude_each_other)
{
	int group;

	/* Bound cdev: the group file cannot open. */
	ASSERT_EQ(0, bind(self->fd, self->iommufd, NULL));
	group = open(self->group, O_RDWR);
	ASSERT_EQ(-1, group);
	ASSERT_EQ(EBUSY, errno);
	close(self->fd);

	/* Open group file: a cdev fd opens but cannot bind. */
	group = open(self->group, O_RDWR);
	ASSERT_GE(group, 0);
	self->fd = open(self->cdev, O_RDWR);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(-EBUSY, bind(self->fd, self->iommufd, NULL));
	close(group);
	ASSERT_EQ(0, bind(self->fd, self->iommufd, NULL));
}

TEST_HARNESS_MAIN
