// SPDX-License-Identifier: GPL-2.0
/*
 * Device fds from VFIO_GROUP_GET_DEVICE_FD, with upstream's C vfio-pci on the
 * guest's igb and upstream's C type1: the open order rules, pass-through of
 * ioctls, config space reads and BAR mmap, the core's REGION_INFO and FEATURE
 * handling, group and container busy rules while a device is open, and
 * unbinding with a device fd open (the request reaches userspace, the unbind
 * completes once the fd closes).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9

FIXTURE(dev) {
	char bdf[32];
	char path[64];
	int group;
	int container;
};

FIXTURE_SETUP(dev)
{
	self->group = self->container = -1;
	VFIO_RS_SETUP_PCI(IGB_VENDOR, IGB_DEVICE, "igb", self->bdf, self->path);
	self->group = open(self->path, O_RDWR);
	ASSERT_GE(self->group, 0);
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(self->container, 0);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	vfio_rs_unbind(self->bdf);
}

static void attach(struct __test_metadata *_metadata, int group, int container)
{
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container));
	ASSERT_EQ(0, vfio_rs_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
}

TEST_F(dev, open_needs_container_and_backend)
{
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
					 (unsigned long)self->bdf));
	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
					 (unsigned long)self->bdf));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-ENODEV, vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
					 (unsigned long)"0000:ff:1f.7"));
	ASSERT_EQ(-EFAULT, vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, 8));
}

TEST_F(dev, info_config_and_bar_mmap)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					 .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info small = { .argsz = 8 };
	__u16 ids[2];
	void *map;
	int fd;

	attach(_metadata, self->group, self->container);
	fd = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	ASSERT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_GE(info.num_regions, VFIO_PCI_NUM_REGIONS);
	ASSERT_GE(info.num_irqs, VFIO_PCI_NUM_IRQS);

	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&small));
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&cfg));
	ASSERT_TRUE(cfg.flags & VFIO_REGION_INFO_FLAG_READ);
	ASSERT_EQ(sizeof(ids), pread(fd, ids, sizeof(ids), cfg.offset));
	ASSERT_EQ(IGB_VENDOR, ids[0]);
	ASSERT_EQ(IGB_DEVICE, ids[1]);

	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&bar0));
	ASSERT_TRUE(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_GT(bar0.size, 0);
	map = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, bar0.offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map, bar0.size));
	close(fd);
}

TEST_F(dev, core_ioctl_rules)
{
	struct vfio_device_feature feat = { .argsz = sizeof(feat) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	int fd;

	attach(_metadata, self->group, self->container);
	fd = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(fd, 0);
	/* A group-derived fd is already bound. */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
	feat.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET;
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&feat));
	feat.flags = 1 << 20;
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&feat));
	feat.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		     VFIO_DEVICE_FEATURE_MIGRATION;
	ASSERT_EQ(-ENOTTY, vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&feat));
	feat.argsz = 4;
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&feat));
	/* Unknown device ioctls reach vfio-pci, which says -ENOTTY. */
	ASSERT_EQ(-ENOTTY, vfio_rs_ioctl(fd, _IO(VFIO_TYPE, VFIO_BASE + 60), 0));
	close(fd);
}

TEST_F(dev, busy_rules_while_open)
{
	int fd, fd2, again;

	attach(_metadata, self->group, self->container);
	fd = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(fd, 0);
	fd2 = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(fd2, 0);
	close(fd2);
	ASSERT_EQ(-EBUSY, vfio_rs_ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));

	/* The device fd keeps the group file busy after it is closed. */
	close(self->group);
	self->group = -1;
	again = open(self->path, O_RDWR);
	ASSERT_EQ(-1, again);
	ASSERT_EQ(EBUSY, errno);
	/* The container still works for the open device. */
	ASSERT_EQ(1, vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	close(fd);
	self->group = open(self->path, O_RDWR);
	ASSERT_GE(self->group, 0);
}

struct unbind_arg {
	const char *bdf;
	int done;
};

static void *unbind_thread(void *p)
{
	struct unbind_arg *a = p;

	vfio_rs_unbind(a->bdf);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST_F(dev, unbind_requests_release_and_waits)
{
	struct {
		struct vfio_irq_set set;
		__s32 fd;
	} req = { .set = { .argsz = sizeof(req), .index = VFIO_PCI_REQ_IRQ_INDEX,
			   .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			   .count = 1 } };
	struct unbind_arg a = { .bdf = self->bdf };
	struct pollfd pfd;
	pthread_t t;
	int fd, efd;

	attach(_metadata, self->group, self->container);
	fd = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(fd, 0);
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	req.fd = efd;
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_SET_IRQS, (unsigned long)&req));

	ASSERT_EQ(0, pthread_create(&t, NULL, unbind_thread, &a));
	pfd.fd = efd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 20000)) TH_LOG("no release request reached userspace");
	usleep(200000);
	ASSERT_EQ(0, __atomic_load_n(&a.done, __ATOMIC_SEQ_CST)) TH_LOG("unbind did not wait");
	close(fd);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(1, __atomic_load_n(&a.done, __ATOMIC_SEQ_CST));
	ASSERT_NE(0, access(self->path, F_OK));
	close(efd);
}

TEST_HARNESS_MAIN
