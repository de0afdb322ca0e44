// SPDX-License-Identifier: GPL-2.0
/*
 * Group files and containers, with upstream's C vfio-pci on the guest's igb
 * and upstream's C type1 backend: single opener, GET_STATUS, SET_CONTAINER
 * and its errors, SET_IOMMU, DMA map/unmap through the container,
 * UNSET_CONTAINER, close orders; and a group that is not viable (a device of
 * the same IOMMU group stays bound to a kernel driver) refusing a container.
 */
#include <sys/mman.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9

static int group_status(int fd, __u32 *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int ret = vfio_rs_ioctl(fd, VFIO_GROUP_GET_STATUS, (unsigned long)&st);

	*flags = st.flags;
	return ret;
}

FIXTURE(group) {
	char bdf[32];
	char path[64];
	int fd;
	int container;
};

FIXTURE_SETUP(group)
{
	self->fd = self->container = -1;
	VFIO_RS_SETUP_PCI(IGB_VENDOR, IGB_DEVICE, "igb", self->bdf, self->path);
	self->fd = open(self->path, O_RDWR);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", self->path, strerror(errno));
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(self->container, 0);
}

FIXTURE_TEARDOWN(group)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->container >= 0)
		close(self->container);
	vfio_rs_unbind(self->bdf);
}

TEST_F(group, single_opener)
{
	int again = open(self->path, O_RDWR);

	ASSERT_EQ(-1, again);
	ASSERT_EQ(EBUSY, errno);
	close(self->fd);
	self->fd = open(self->path, O_RDWR);
	ASSERT_GE(self->fd, 0);
}

TEST_F(group, get_status)
{
	struct vfio_group_status st = { .argsz = 7 };
	__u32 flags;

	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_GROUP_GET_STATUS, (unsigned long)&st));
	ASSERT_EQ(-EFAULT, vfio_rs_ioctl(self->fd, VFIO_GROUP_GET_STATUS, 8));
	ASSERT_EQ(0, group_status(self->fd, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	ASSERT_EQ(-ENOTTY, vfio_rs_ioctl(self->fd, _IO(VFIO_TYPE, VFIO_BASE + 60), 0));
	ASSERT_EQ(-ENOTTY, vfio_rs_ioctl(self->fd, VFIO_GET_API_VERSION, 0));
}

TEST_F(group, set_container_errors)
{
	int bad = -1, devnull = open("/dev/null", O_RDWR);

	ASSERT_EQ(-EFAULT, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER, 8));
	ASSERT_EQ(-EBADF, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER, (unsigned long)&bad));
	ASSERT_EQ(-EBADFD, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER, (unsigned long)&devnull));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_GROUP_UNSET_CONTAINER, 0));
	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER,
					 (unsigned long)&self->container));
	close(devnull);
}

TEST_F(group, container_with_type1_maps_dma)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	size_t size = 1 << 20;
	__u32 flags;
	void *buf;

	/* No group yet: no privilege to pick a backend. */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	ASSERT_EQ(0, group_status(self->fd, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET, flags);
	/* Backend ioctls before SET_IOMMU. */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_GET_INFO, (unsigned long)&info));
	ASSERT_EQ(-ENODEV, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, 12345));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* Now the backend answers, including ioctls it does not know. */
	ASSERT_EQ(1, vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-ENOTTY, vfio_rs_ioctl(self->container, _IO(VFIO_TYPE, VFIO_BASE + 60), 0));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_GET_INFO, (unsigned long)&info));
	ASSERT_TRUE(info.flags & VFIO_IOMMU_INFO_PGSIZES);

	buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	map.vaddr = (unsigned long)buf;
	map.size = size;
	map.iova = 1 << 30;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_MAP_DMA, (unsigned long)&map));
	ASSERT_EQ(-EEXIST, vfio_rs_ioctl(self->container, VFIO_IOMMU_MAP_DMA, (unsigned long)&map));
	unmap.iova = map.iova;
	unmap.size = size;
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&unmap));
	ASSERT_EQ(size, unmap.size);

	/* Leaving with the last group drops the backend. */
	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_GROUP_UNSET_CONTAINER, 0));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_GROUP_UNSET_CONTAINER, 0));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_GET_INFO, (unsigned long)&info));
	ASSERT_EQ(0, group_status(self->fd, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	munmap(buf, size);
}

TEST_F(group, close_container_before_group)
{
	__u32 flags;

	ASSERT_EQ(0, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	close(self->container);
	self->container = -1;
	/* The group still holds the container. */
	ASSERT_EQ(0, group_status(self->fd, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET, flags);
	close(self->fd);
	self->fd = open(self->path, O_RDWR);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, group_status(self->fd, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
}

TEST_F(group, unbind_while_open_makes_group_dead)
{
	__u32 flags;

	ASSERT_EQ(0, vfio_rs_unbind(self->bdf));
	ASSERT_EQ(-ENODEV, group_status(self->fd, &flags));
	ASSERT_EQ(-ENODEV, vfio_rs_ioctl(self->fd, VFIO_GROUP_SET_CONTAINER,
					  (unsigned long)&self->container));
}

/* ICH9 functions share an IOMMU group; SMBus (00:1f.3) stays on i801_smbus. */
TEST(group_with_kernel_driver_is_not_viable)
{
	const char *sata = "0000:00:1f.2";
	char path[64];
	int group, fd, container;
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (access("/sys/bus/pci/devices/0000:00:1f.3/driver", F_OK))
		SKIP(return, "no driver-bound device shares the SATA function's group");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded on this core");
	group = vfio_rs_iommu_group(sata);
	ASSERT_GE(group, 0);
	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(sata));
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(container, 0);
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_GROUP_GET_STATUS, (unsigned long)&st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(-EPERM, vfio_rs_ioctl(fd, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container));
	close(container);
	close(fd);
	vfio_rs_unbind(sata);
}

TEST_HARNESS_MAIN
