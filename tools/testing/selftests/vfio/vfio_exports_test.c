// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko exports only kernel code calls, driven through the test-only module
 * out/kmod/vfio_rs_exports_kmod.ko (tools/testing/selftests/vfio/kmod):
 * vfio_mig_get_next_state and vfio_combine_iova_ranges (checked at its load),
 * and the KVM-facing vfio_file_is_valid, vfio_file_is_group,
 * vfio_file_enforced_coherent, vfio_file_iommu_group and vfio_file_set_kvm on
 * fds this test opens: the container, a group file, a device fd from the
 * group and a cdev fd of the guest's igb, and a non-VFIO file.
 */
#include <limits.h>
#include <libgen.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
#define KMOD "vfio_rs_exports_kmod"
#define PARAMS "/sys/module/" KMOD "/parameters/"

/* The file_report line for fd, parsed; 0 or -errno. */
struct file_report {
	int valid, group, coherent, iommu_group;
};

static int check_fd(int fd, struct file_report *r)
{
	char num[16], buf[128] = "";
	int ret;

	snprintf(num, sizeof(num), "%d", fd);
	ret = vfio_rs_sysfs_write(PARAMS "check_fd", num);
	if (!ret)
		ret = vfio_rs_read_file(PARAMS "file_report", buf, sizeof(buf));
	if (!ret && sscanf(buf, "valid=%d group=%d coherent=%d iommu_group=%d", &r->valid,
			   &r->group, &r->coherent, &r->iommu_group) != 4)
		ret = -EINVAL;
	return ret;
}

FIXTURE(exports) {
	char bdf[32];
};

FIXTURE_SETUP(exports)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	ASSERT_GT(n, 0);
	exe[n] = 0;
	vfio_rs_sh("rmmod " KMOD " 2>/dev/null");
	snprintf(cmd, sizeof(cmd), "insmod %s/../kmod/" KMOD ".ko", dirname(exe));
	ASSERT_EQ(0, vfio_rs_sh(cmd)) TH_LOG("%s failed", cmd);
	self->bdf[0] = 0;
}

FIXTURE_TEARDOWN(exports)
{
	if (self->bdf[0])
		vfio_rs_unbind(self->bdf);
	vfio_rs_sh("rmmod " KMOD);
}

/* The module's load-time checks: every line must say ok. */
TEST_F(exports, mig_state_and_iova_ranges)
{
	char buf[4096] = "", *line, *save;
	int fd = open(PARAMS "report", O_RDONLY), lines = 0;

	ASSERT_GE(fd, 0);
	ASSERT_GT(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		TH_LOG("%s", line);
		EXPECT_NE(NULL, strstr(line, " ok")) TH_LOG("failed: %s", line);
		lines++;
	}
	ASSERT_EQ(9, lines);
}

TEST_F(exports, non_vfio_files)
{
	struct file_report r;
	int fd = open("/dev/null", O_RDWR);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, check_fd(fd, &r));
	/* Not VFIO files; "coherent" is upstream's default for unknown files. */
	EXPECT_EQ(0, r.valid);
	EXPECT_EQ(0, r.group);
	EXPECT_EQ(1, r.coherent);
	EXPECT_EQ(-1, r.iommu_group);
	close(fd);
	/* The container is not a group or device file either. */
	fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, check_fd(fd, &r));
	EXPECT_EQ(0, r.valid);
	EXPECT_EQ(1, r.coherent);
	close(fd);
}

TEST_F(exports, group_device_and_cdev_files)
{
	struct file_report g, d, c;
	int container, group, device, cdev;
	char path[64], name[32];

	if (vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, self->bdf, sizeof(self->bdf))) {
		self->bdf[0] = 0;
		SKIP(return, "no igb in this guest");
	}
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
		self->bdf[0] = 0;
		SKIP(return, "vfio-pci is not loaded on this core");
	}
	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->bdf));

	snprintf(path, sizeof(path), "/dev/vfio/%d", vfio_rs_iommu_group(self->bdf));
	group = open(path, O_RDWR);
	ASSERT_GE(group, 0) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(0, check_fd(group, &g));
	EXPECT_EQ(1, g.valid);
	EXPECT_EQ(1, g.group);
	/* Only SPAPR kernels hand the IOMMU group out. */
	EXPECT_EQ(-1, g.iommu_group);

	container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(container, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container));
	ASSERT_EQ(0, vfio_rs_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	device = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(device, 0) TH_LOG("GET_DEVICE_FD: %s", strerror(-device));
	ASSERT_EQ(0, check_fd(device, &d));
	EXPECT_EQ(1, d.valid);
	EXPECT_EQ(0, d.group);
	EXPECT_EQ(-1, d.iommu_group);
	/* A one-device group is coherent exactly when its device is. */
	EXPECT_EQ(g.coherent, d.coherent);
	close(device);
	close(group);
	close(container);

	/* An unbound cdev fd is already a device file. */
	ASSERT_EQ(0, vfio_rs_vfio_dev_name(self->bdf, name, sizeof(name)));
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	cdev = open(path, O_RDWR);
	ASSERT_GE(cdev, 0) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(0, check_fd(cdev, &c));
	EXPECT_EQ(1, c.valid);
	EXPECT_EQ(0, c.group);
	EXPECT_EQ(d.coherent, c.coherent);
	TH_LOG("enforced coherent: group %d, device fd %d, cdev fd %d", g.coherent, d.coherent,
	       c.coherent);
	close(cdev);
}

TEST_HARNESS_MAIN
