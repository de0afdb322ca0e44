// SPDX-License-Identifier: GPL-2.0
/*
 * Device registration through the core, driven by upstream's C vfio-pci on
 * the guest's igb: binding creates /dev/vfio/<iommu group> (class vfio) and
 * <bdf>/vfio-dev/vfioN + /dev/vfio/devices/vfioN (class vfio-dev, minor N);
 * unbinding removes them; rebinding reuses the lowest free N.
 */
#include <sys/sysmacros.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9

static int exists(const char *fmt, const char *a)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), fmt, a);
	return stat(path, &st) == 0;
}

FIXTURE(igb) {
	char bdf[32];
	int group;
};

FIXTURE_SETUP(igb)
{
	if (vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, self->bdf, sizeof(self->bdf)))
		SKIP(return, "no igb in this guest");
	if (!exists("/sys/bus/pci/drivers/%s", "vfio-pci"))
		SKIP(return, "vfio-pci is not loaded on this core");
	self->group = vfio_rs_iommu_group(self->bdf);
	ASSERT_GE(self->group, 0);
	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->bdf));
}

FIXTURE_TEARDOWN(igb)
{
	vfio_rs_unbind(self->bdf);
}

TEST_F(igb, bind_creates_group_and_device_nodes)
{
	char name[64], path[PATH_MAX], grp[16];
	struct stat st;
	int major;

	snprintf(grp, sizeof(grp), "%d", self->group);
	ASSERT_TRUE(exists("/sys/bus/pci/devices/%s/driver", self->bdf));
	/* /dev/vfio/<group>, a vfio class device without parent. */
	ASSERT_TRUE(exists("/sys/class/vfio/%s", grp));
	ASSERT_TRUE(exists("/sys/devices/virtual/vfio/%s", grp));
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	major = vfio_rs_chrdev_major("vfio");
	ASSERT_GT(major, 0);
	ASSERT_EQ(major, major(st.st_rdev));

	/* vfioN under the parent, in class vfio-dev, node minor N. */
	ASSERT_EQ(0, vfio_rs_vfio_dev_name(self->bdf, name, sizeof(name)));
	ASSERT_TRUE(exists("/sys/class/vfio-dev/%s", name));
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(vfio_rs_chrdev_major("vfio-dev"), major(st.st_rdev));
	ASSERT_EQ(atoi(name + 4), minor(st.st_rdev));
}

TEST_F(igb, unbind_removes_nodes_and_rebind_reuses_index)
{
	char name[64], again[64], grp[16];

	snprintf(grp, sizeof(grp), "%d", self->group);
	ASSERT_EQ(0, vfio_rs_vfio_dev_name(self->bdf, name, sizeof(name)));
	ASSERT_EQ(0, vfio_rs_unbind(self->bdf));
	ASSERT_FALSE(exists("/sys/class/vfio/%s", grp));
	ASSERT_FALSE(exists("/dev/vfio/devices/%s", name));
	ASSERT_FALSE(exists("/sys/class/vfio-dev/%s", name));

	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->bdf));
	ASSERT_EQ(0, vfio_rs_vfio_dev_name(self->bdf, again, sizeof(again)));
	ASSERT_STREQ(name, again);
	ASSERT_TRUE(exists("/sys/class/vfio/%s", grp));
}

TEST_F(igb, rebind_cycles)
{
	int i;

	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, vfio_rs_unbind(self->bdf));
		ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->bdf));
		ASSERT_TRUE(exists("/sys/bus/pci/devices/%s/vfio-dev", self->bdf));
	}
}

TEST_HARNESS_MAIN
