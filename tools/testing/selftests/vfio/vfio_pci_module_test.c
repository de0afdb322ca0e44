// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci.ko as a module, the same on upstream's C vfio-pci and our Rust one
 * (drivers/vfio/pci/): its parameters in sysfs (names and modes; ids has mode 0,
 * so no file), a reload with ids= binding the edu (1234:11e8) by a dynamic id
 * with upstream's "add [...]" line, an invalid ids= entry warned about while
 * the rest load, driver_override binding of the edu and the igb, unbind and
 * rebind, and enable_sriov: off, a write to the igb's sriov_numvfs fails with
 * ENOENT; on, one VF comes up bound to vfio-pci.
 *
 * The device denylist (Intel QAT, DSA and IAX functions) cannot be exercised:
 * the test guest has none of those devices (ids.rs's host tests cover the list).
 *
 * A reload loads the build scripts/guest-load chose: ours by path when it
 * exported VFIO_RS_KO_vfio_pci, upstream's by modprobe otherwise.
 */
#include <limits.h>
#include <sys/stat.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
#define PARAMS "/sys/module/vfio_pci/parameters"
#define DRIVER_DIR "/sys/bus/pci/drivers/vfio-pci"

/* Loads vfio-pci with args (may be ""), the build guest-load chose. */
static int load_vfio_pci(const char *args)
{
	const char *ko = getenv("VFIO_RS_KO_vfio_pci");
	char cmd[PATH_MAX + 256];

	if (ko && *ko)
		snprintf(cmd, sizeof(cmd), "insmod %s %s", ko, args);
	else
		snprintf(cmd, sizeof(cmd), "modprobe vfio-pci %s", args);
	return vfio_rs_sh(cmd);
}

/* Reloads vfio-pci with args; its bound devices are unbound by the unload. */
static int reload_vfio_pci(const char *args)
{
	if (!access("/sys/module/vfio_pci", F_OK) && vfio_rs_sh("rmmod vfio_pci"))
		return -1;
	return load_vfio_pci(args);
}

/* The name of the driver bound to bdf into drv ("" when none); 0 or -errno. */
static int bound_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		drv[0] = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	link[n] = 0;
	snprintf(drv, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

/* Whether bdf is bound to vfio-pci. */
static bool on_vfio_pci(const char *bdf)
{
	char drv[64];

	return !bound_driver(bdf, drv, sizeof(drv)) && !strcmp(drv, "vfio-pci");
}

/* Writes a unique marker to the kernel log; since_marker() greps what follows it. */
static void mark(const char *tag)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "echo 'vfio_pci_module_test: %s' >/dev/kmsg", tag);
	vfio_rs_sh(cmd);
}

/* Whether the kernel log after marker tag has a line containing text (fixed string). */
static bool logged_since(const char *tag, const char *text)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "dmesg | sed -n '/vfio_pci_module_test: %s$/,$p' | grep -qF -- '%s'", tag, text);
	return vfio_rs_sh(cmd) == 0;
}

/* Puts a device back unbound, without a driver_override. */
static void release_dev(const char *bdf)
{
	vfio_rs_unbind(bdf);
}

FIXTURE(mod) {
	char edu[32];
	char igb[32];
	bool have_edu, have_igb;
};

FIXTURE_SETUP(mod)
{
	if (access("/sys/module/vfio_pci", F_OK))
		SKIP(return, "vfio-pci is not loaded on this core");
	self->have_edu = !vfio_rs_find_pci(EDU_VENDOR, EDU_DEVICE, self->edu, sizeof(self->edu));
	self->have_igb = !vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, self->igb, sizeof(self->igb));
}

FIXTURE_TEARDOWN(mod)
{
	/* Leave vfio-pci loaded without ids=, as guest-load had it. */
	if (access("/sys/module/vfio_pci", F_OK))
		load_vfio_pci("");
}

/* The parameters in sysfs: upstream's names and modes (ids: mode 0, no file). */
TEST_F(mod, params)
{
	static const struct {
		const char *name;
		mode_t mode;
	} want[] = {
		{ "disable_denylist", 0444 },
		{ "disable_idle_d3", 0644 },
		{ "enable_sriov", 0644 },
		{ "nointxmask", 0644 },
	};
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	int n = 0;
	DIR *d;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), PARAMS "/%s", want[i].name);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s missing", want[i].name);
		EXPECT_EQ(want[i].mode, st.st_mode & 07777) TH_LOG("%s", want[i].name);
	}
	d = opendir(PARAMS);
	ASSERT_NE(NULL, d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			n++;
			TH_LOG("parameter %s", e->d_name);
		}
	closedir(d);
	/* Exactly those: no ids file (mode 0), no disable_vga (CONFIG_VFIO_PCI_VGA off). */
	EXPECT_EQ(4, n);
	ASSERT_EQ(0, vfio_rs_read_file(PARAMS "/enable_sriov", path, sizeof(path)));
	EXPECT_STREQ("N\n", path);
}

/* ids=1234:11e8 binds the edu at load, with upstream's pr_info line. */
TEST_F(mod, ids_bind_edu)
{
	if (!self->have_edu)
		SKIP(return, "no edu in this guest");
	release_dev(self->edu);
	mark("ids_bind_edu");
	ASSERT_EQ(0, reload_vfio_pci("ids=1234:11e8"));
	EXPECT_TRUE(on_vfio_pci(self->edu));
	EXPECT_TRUE(logged_since("ids_bind_edu",
				 "vfio_pci: add [1234:11e8[ffffffff:ffffffff]] class 0x000000/00000000"));
	/* ids has mode 0: not in sysfs. */
	EXPECT_NE(0, access(PARAMS "/ids", F_OK));
	ASSERT_EQ(0, vfio_rs_sh("rmmod vfio_pci"));
	EXPECT_FALSE(on_vfio_pci(self->edu));
	release_dev(self->edu);
}

/*
 * An invalid entry is warned about; empty entries are skipped and the entries after
 * them still load (one matching nothing, with every field given, then the edu's).
 */
TEST_F(mod, ids_invalid_entry)
{
	if (!self->have_edu)
		SKIP(return, "no edu in this guest");
	release_dev(self->edu);
	mark("ids_invalid_entry");
	ASSERT_EQ(0, reload_vfio_pci("ids=zz,,1234:11e9:0:0:ff0000:ff0000,1234:11e8"));
	EXPECT_TRUE(logged_since("ids_invalid_entry", "vfio_pci: invalid id string \"zz\""));
	EXPECT_TRUE(logged_since("ids_invalid_entry",
				 "vfio_pci: add [1234:11e9[0000:0000]] class 0xff0000/00ff0000"));
	EXPECT_TRUE(logged_since("ids_invalid_entry",
				 "vfio_pci: add [1234:11e8[ffffffff:ffffffff]] class 0x000000/00000000"));
	EXPECT_TRUE(on_vfio_pci(self->edu));
	ASSERT_EQ(0, vfio_rs_sh("rmmod vfio_pci"));
	release_dev(self->edu);
}

/* driver_override binds the edu and the igb; unbind and a sysfs bind work. */
TEST_F(mod, override_bind_unbind_rebind)
{
	const char *devs[2] = { self->have_edu ? self->edu : NULL,
				self->have_igb ? self->igb : NULL };
	char path[PATH_MAX];

	if (!self->have_edu && !self->have_igb)
		SKIP(return, "no edu and no igb in this guest");
	for (int i = 0; i < 2; i++) {
		const char *bdf = devs[i];

		if (!bdf)
			continue;
		ASSERT_EQ(0, vfio_rs_bind_vfio_pci(bdf));
		EXPECT_TRUE(on_vfio_pci(bdf)) TH_LOG("%s", bdf);
		EXPECT_LE(0, vfio_rs_iommu_group(bdf));
		ASSERT_EQ(0, vfio_rs_sysfs_write(DRIVER_DIR "/unbind", bdf));
		EXPECT_FALSE(on_vfio_pci(bdf)) TH_LOG("%s", bdf);
		/* driver_override still names vfio-pci: an explicit bind takes it back. */
		ASSERT_EQ(0, vfio_rs_sysfs_write(DRIVER_DIR "/bind", bdf));
		EXPECT_TRUE(on_vfio_pci(bdf)) TH_LOG("%s", bdf);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
		EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s: no vfio-dev", bdf);
		release_dev(bdf);
		EXPECT_FALSE(on_vfio_pci(bdf)) TH_LOG("%s", bdf);
	}
}

/* A table without override_only entries matches nothing: a plain bind is refused. */
TEST_F(mod, no_bind_without_override)
{
	if (!self->have_edu)
		SKIP(return, "no edu in this guest");
	release_dev(self->edu);
	EXPECT_NE(0, vfio_rs_sysfs_write(DRIVER_DIR "/bind", self->edu));
	EXPECT_FALSE(on_vfio_pci(self->edu));
}

/* enable_sriov off: sriov_numvfs refused with ENOENT; on: a VF bound to vfio-pci. */
TEST_F(mod, sriov_configure)
{
	char path[PATH_MAX], link[PATH_MAX], vf[32];
	ssize_t n;

	if (!self->have_igb)
		SKIP(return, "no igb in this guest");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_totalvfs", self->igb);
	if (access(path, F_OK))
		SKIP(return, "the igb has no SR-IOV capability");
	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->igb));
	ASSERT_EQ(0, vfio_rs_sysfs_write(PARAMS "/enable_sriov", "N"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", self->igb);
	EXPECT_EQ(-ENOENT, vfio_rs_sysfs_write(path, "1"));

	ASSERT_EQ(0, vfio_rs_sysfs_write(PARAMS "/enable_sriov", "Y"));
	EXPECT_EQ(0, vfio_rs_sysfs_write(path, "1"));
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/virtfn0", self->igb);
	n = readlink(link, path, sizeof(path) - 1);
	EXPECT_LT(0, n);
	if (n > 0) {
		path[n] = 0;
		snprintf(vf, sizeof(vf), "%s", strrchr(path, '/') + 1);
		EXPECT_TRUE(on_vfio_pci(vf)) TH_LOG("VF %s not on vfio-pci", vf);
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", self->igb);
	EXPECT_EQ(0, vfio_rs_sysfs_write(path, "0"));
	EXPECT_NE(0, access(link, F_OK));
	vfio_rs_sysfs_write(PARAMS "/enable_sriov", "N");
	release_dev(self->igb);
}

TEST_HARNESS_MAIN
