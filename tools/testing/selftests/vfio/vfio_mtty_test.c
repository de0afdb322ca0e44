// SPDX-License-Identifier: GPL-2.0
/*
 * Upstream's unmodified C mdev core and mtty sample (from the test kernel) on
 * the loaded VFIO core: an mdev is an emulated-IOMMU device
 * (vfio_register_emulated_iommu_dev) with its own group. It must open through
 * the group + type1 container and through its cdev bound to iommufd (the
 * vfio_iommufd_emulated_* ops), answer GET_INFO and config reads, and go away
 * on remove.
 */
#include <limits.h>
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

TEST_HARNESS_MAIN
