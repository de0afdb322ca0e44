// SPDX-License-Identifier: GPL-2.0
/*
 * The mtty sample (upstream's C mtty.ko, or ours, samples/vfio-mdev/mtty.ko,
 * when the boot's SPEC picks it: --impl rust, mtty=rust) on the loaded mdev and
 * VFIO cores: an mdev is an emulated-IOMMU device
 * (vfio_register_emulated_iommu_dev) with its own group. It must open through
 * the group + type1 container and through its cdev bound to iommufd (the
 * vfio_iommufd_emulated_* ops), answer GET_INFO and config reads, and go away
 * on remove: at once when closed, after the last close when open; a migration
 * data fd kept past the device's close and removal pins the module and reads
 * ENODEV.
 */
#include <limits.h>
#include <pthread.h>
#include <linux/iommufd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define MDEV "/sys/bus/mdev/devices/" UUID
#define CREATE "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create"
#define MTTY_ID 0x32534348u /* vendor 0x4348, device 0x3253 */

static int mdev_group(void)
{
	return vfio_rs_sysdev_iommu_group(MDEV);
}

static int mdev_cdev(char *buf, size_t len)
{
	char name[32];
	int ret = vfio_rs_sysdev_vfio_dev(MDEV, name, sizeof(name));

	if (!ret)
		snprintf(buf, len, "/dev/vfio/devices/%s", name);
	return ret;
}

/* GET_INFO and a config-space read through the region the device reports. */
static int check_device(struct __test_metadata *_metadata, int fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info reg = { .argsz = sizeof(reg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	unsigned int id = 0;

	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&reg));
	EXPECT_EQ(4, pread(fd, &id, 4, reg.offset));
	EXPECT_EQ(MTTY_ID, id);
	return 0;
}

FIXTURE(mtty) {
	int created;
};

FIXTURE_SETUP(mtty)
{
	self->created = 0;
	if (vfio_rs_sh("modinfo mtty >/dev/null 2>&1"))
		SKIP(return, "no mtty module in this kernel");
	/* Loading fails if the core lacks an export mtty uses. */
	ASSERT_EQ(0, vfio_rs_modprobe_mdev_driver("mtty"));
	ASSERT_EQ(0, vfio_rs_sysfs_write(CREATE, UUID));
	self->created = 1;
	/* The UUID namespace is global: a second create fails. */
	EXPECT_EQ(-EEXIST, vfio_rs_sysfs_write(CREATE, UUID));
}

FIXTURE_TEARDOWN(mtty)
{
	if (self->created)
		EXPECT_EQ(0, vfio_rs_sysfs_write(MDEV "/remove", "1"));
	EXPECT_NE(0, access(MDEV, F_OK));
	vfio_rs_sh("rmmod mtty mdev");
}

TEST_F(mtty, group_and_type1)
{
	int container, group, fd, fd2, id = mdev_group();
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[32];

	ASSERT_GE(id, 0);
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	group = open(path, O_RDWR);
	ASSERT_GE(group, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_GET_STATUS, (unsigned long)&st));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, st.flags);
	container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(container, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container));
	ASSERT_EQ(0, vfio_rs_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	fd = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)UUID);
	ASSERT_GE(fd, 0);
	check_device(_metadata, fd);
	fd2 = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)UUID);
	EXPECT_GE(fd2, 0);
	close(fd2);
	close(fd);
	close(group);
	close(container);
}

/*
 * The mtty loaded is the build the boot's SPEC asked for: ours (out-of-tree, taint O)
 * when scripts/guest-load exported VFIO_RS_KO_mtty (--impl rust, mtty=rust), else the
 * test kernel's.
 */
TEST_F(mtty, wanted_build)
{
	const char *ko = getenv("VFIO_RS_KO_mtty");
	char taint[16] = "";
	FILE *f = fopen("/sys/module/mtty/taint", "r");

	ASSERT_NE(NULL, f);
	if (!fgets(taint, sizeof(taint), f))
		taint[0] = 0;
	fclose(f);
	EXPECT_EQ(ko && *ko, strchr(taint, 'O') != NULL) {
		TH_LOG("VFIO_RS_KO_mtty=%s, taint '%s'", ko ? ko : "(unset)", taint);
	}
}

TEST_F(mtty, cdev_and_iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int iommufd, fd;
	char cdev[64];

	ASSERT_EQ(0, mdev_cdev(cdev, sizeof(cdev)));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(iommufd, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(iommufd, IOMMU_IOAS_ALLOC, (unsigned long)&alloc));
	fd = open(cdev, O_RDWR);
	ASSERT_GE(fd, 0);
	bind.iommufd = iommufd;
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
	attach.pt_id = alloc.out_ioas_id;
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, (unsigned long)&attach));
	/* Replacing with the same IOAS goes through iommufd_access_replace. */
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, (unsigned long)&attach));
	check_device(_metadata, fd);
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, (unsigned long)&detach));
	close(fd);
	close(iommufd);
}

/* The device opened through its cdev bound to a new iommufd (into *iommufd), or -1. */
static int open_bound(int *iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char cdev[64];
	int fd;

	*iommufd = -1;
	if (mdev_cdev(cdev, sizeof(cdev)))
		return -1;
	fd = open(cdev, O_RDWR);
	*iommufd = open("/dev/iommu", O_RDWR);
	if (fd < 0 || *iommufd < 0)
		return -1;
	bind.iommufd = *iommufd;
	if (vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind))
		return -1;
	return fd;
}

/* MIG_DEVICE_STATE SET; the data fd (or -1). */
static int set_state(int fd, __u32 state)
{
	struct {
		struct vfio_device_feature h;
		struct vfio_device_feature_mig_state m;
	} s = { .h = { .argsz = sizeof(s),
		       .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.m = { .device_state = state, .data_fd = -1 } };

	if (vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&s))
		return -2;
	return s.m.data_fd;
}

/*
 * A STOP_COPY data fd kept past the device's close and removal: it pins the module
 * (its fops' owner), the close disabled it (ENODEV), and the device goes away.
 */
TEST_F(mtty, data_fd_outlives_device)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	int iommufd, fd, data;
	char buf[128];

	fd = open_bound(&iommufd);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-1, set_state(fd, VFIO_DEVICE_STATE_STOP));
	data = set_state(fd, VFIO_DEVICE_STATE_STOP_COPY);
	ASSERT_GE(data, 0);
	EXPECT_EQ(96, read(data, buf, sizeof(buf)));
	close(fd);
	close(iommufd);
	/* Not PRE_COPY: EINVAL, with the device closed as with it open. */
	EXPECT_EQ(-EINVAL, vfio_rs_ioctl(data, VFIO_MIG_GET_PRECOPY_INFO, (unsigned long)&info));
	EXPECT_NE(0, vfio_rs_sh("rmmod mtty 2>/dev/null"));
	EXPECT_EQ(0, vfio_rs_sysfs_write(MDEV "/remove", "1"));
	self->created = 0;
	EXPECT_EQ(-1, read(data, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(data);
}

static void *remover(void *arg)
{
	*(int *)arg = vfio_rs_sysfs_write(MDEV "/remove", "1");
	return NULL;
}

/*
 * Removing an open device waits for its last close (mtty has no request op: nothing asks
 * user space to close).
 */
TEST_F(mtty, remove_waits_for_close)
{
	int iommufd, fd, ret = 1;
	pthread_t t;

	fd = open_bound(&iommufd);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, remover, &ret));
	usleep(500 * 1000);
	/* Still waiting (its sysfs links are gone already), and the open device still works. */
	EXPECT_EQ(1, ret);
	check_device(_metadata, fd);
	close(fd);
	close(iommufd);
	pthread_join(t, NULL);
	EXPECT_EQ(0, ret);
	self->created = 0;
}

TEST_HARNESS_MAIN
