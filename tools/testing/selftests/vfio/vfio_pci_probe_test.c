// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI driver abstraction of the shared Rust layer (rust/pci/), through its
 * test driver samples/vfio-pci-probe (vfio_rs_pci_probe.ko, driver
 * "vfio-rs-pci-probe") on the edu device (1234:11e8): the driver has vfio-pci's
 * id table (PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)), so it binds
 * only through driver_override, or through a dynamic id (pci_add_dynid); its
 * probe installs drvdata before returning and checks that C's dev_get_drvdata()
 * returns it (as vfio_pci_core_register_device does), reads the ids with
 * pci_user_read_config_word, enables the device, maps every BAR and reads BAR0's
 * first dword (edu's identification register, 0x010000ed), writes and reads
 * back edu registers 4 and 8 bytes wide; remove checks drvdata again; a probe
 * failing after installing drvdata must drop the data. INTx disable, saved
 * state and the power state are exercised in probe. On the igb, the I/O BAR
 * (port I/O through pci_iomap) must show the NIC's STATUS register as BAR0 does,
 * and a reset through sysfs must reach the driver's reset_prepare/reset_done
 * (its err_handler table) with drvdata in place.
 * The driver reports in debugfs, vfio-rs-pci-probe/report.
 *
 * Only the library module (vfio_rs_kernel_ext.ko) is needed, which every --impl
 * loads, so the results are the same on both implementations.
 */
#include <limits.h>
#include <sys/mount.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
#define DRIVER "vfio-rs-pci-probe"
#define REPORT "/sys/kernel/debug/vfio-rs-pci-probe/report"

/* Loads the test driver with module parameters args (may be ""). */
static int load_probe_driver(const char *args)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int ret;

	if (n < 0)
		return -errno;
	exe[n] = 0;
	/* <repo>/out/selftests/<prog> */
	*strrchr(exe, '/') = 0;
	*strrchr(exe, '/') = 0;
	*strrchr(exe, '/') = 0;
	snprintf(cmd, sizeof(cmd), "insmod %s/samples/vfio-pci-probe/vfio_rs_pci_probe.ko %s", exe, args);
	ret = vfio_rs_sh(cmd);
	if (!ret && access(REPORT, F_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	return ret;
}

/* The value of key in the driver's report, into val; 0 or -1 (no report, no key). */
static int report_get(const char *key, char *val, size_t len)
{
	char buf[1024], *p;
	size_t klen = strlen(key);
	FILE *f = fopen(REPORT, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(val, len, "%s", p + klen + 1);
			return 0;
		}
	return -1;
}

/* Asserts that the report's key reads want. */
#define ASSERT_REPORT(key, want)								\
	do {											\
		char __v[64] = "";								\
		ASSERT_EQ(0, report_get(key, __v, sizeof(__v))) TH_LOG("no %s in " REPORT, key);	\
		ASSERT_STREQ(want, __v) TH_LOG("report: %s", key);				\
	} while (0)

/* The name of the driver bdf is bound to, into name ("" if none). */
static void bound_driver(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	name[0] = 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = 0;
	snprintf(name, len, "%s", strrchr(link, '/') + 1);
}

FIXTURE(probe)
{
	char bdf[32];
	bool loaded;
};

FIXTURE_SETUP(probe)
{
	char path[PATH_MAX];

	self->loaded = false;
	self->bdf[0] = 0;
	if (vfio_rs_find_pci(EDU_VENDOR, EDU_DEVICE, self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu in this guest");
	/* Whatever had it (a previous test's vfio-pci) lets it go. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", self->bdf);
	vfio_rs_sysfs_write(path, self->bdf);
}

FIXTURE_TEARDOWN(probe)
{
	if (!self->bdf[0])
		return;
	vfio_rs_unbind(self->bdf);
	if (self->loaded)
		EXPECT_EQ(0, vfio_rs_sh("rmmod vfio_rs_pci_probe"));
}

/* Binds edu through driver_override; 0 or -errno (of the drivers_probe write). */
static int bind_by_override(const char *bdf)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = vfio_rs_sysfs_write(path, DRIVER);
	return ret ? ret : vfio_rs_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

TEST_F(probe, override_binds_with_drvdata_in_probe)
{
	char drv[64], path[PATH_MAX];

	ASSERT_EQ(0, load_probe_driver(""));
	self->loaded = true;
	ASSERT_EQ(0, bind_by_override(self->bdf));
	bound_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ(DRIVER, drv);
	ASSERT_REPORT("probes", "1");
	ASSERT_REPORT("probe_drvdata", "ok");
	ASSERT_REPORT("override_only", "1");
	ASSERT_REPORT("vendor", "0x1234");
	ASSERT_REPORT("device", "0x11e8");
	ASSERT_REPORT("bar0", "0x010000ed");
	ASSERT_REPORT("bars", "0x1");
	ASSERT_REPORT("io_bars", "0x0");
	ASSERT_REPORT("rw32", "ok");
	ASSERT_REPORT("rw64", "ok");
	ASSERT_REPORT("io_window", "none");
	ASSERT_REPORT("intx", "ok");
	ASSERT_REPORT("state", "ok");
	ASSERT_REPORT("power", "ok");
	ASSERT_REPORT("try_reset", "-25"); /* the edu has no reset method: ENOTTY */
	ASSERT_REPORT("error", "0");
	{
		char v[64] = "";

		/* pci_enable_device set memory decoding (PCI_COMMAND_MEMORY). */
		ASSERT_EQ(0, report_get("command", v, sizeof(v)));
		ASSERT_NE(0, strtoul(v, NULL, 0) & 0x2) TH_LOG("command=%s", v);
	}
	/* Unbinding runs remove with drvdata intact, then drops the data. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", self->bdf);
	ASSERT_EQ(0, vfio_rs_sysfs_write(path, self->bdf));
	bound_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ("", drv);
	ASSERT_REPORT("removes", "1");
	ASSERT_REPORT("remove_drvdata", "ok");
	ASSERT_REPORT("drops", "1");
}

TEST_F(probe, no_match_without_override)
{
	char drv[64];

	ASSERT_EQ(0, load_probe_driver(""));
	self->loaded = true;
	/* An override_only entry matches nothing by itself: a plain bind is refused. */
	ASSERT_NE(0, vfio_rs_sysfs_write("/sys/bus/pci/drivers/" DRIVER "/bind", self->bdf));
	ASSERT_EQ(0, vfio_rs_sysfs_write("/sys/bus/pci/drivers_probe", self->bdf));
	bound_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ("", drv);
	ASSERT_REPORT("probes", "0");
}

TEST_F(probe, dynid_binds)
{
	char drv[64], path[PATH_MAX];

	/* pci_add_dynid at load time probes edu at once, without driver_override. */
	ASSERT_EQ(0, load_probe_driver("dynid=1"));
	self->loaded = true;
	bound_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ(DRIVER, drv);
	ASSERT_REPORT("probes", "1");
	ASSERT_REPORT("probe_drvdata", "ok");
	ASSERT_REPORT("override_only", "0");
	ASSERT_REPORT("bar0", "0x010000ed");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", self->bdf);
	ASSERT_EQ(0, vfio_rs_sysfs_write(path, self->bdf));
	ASSERT_REPORT("remove_drvdata", "ok");
	ASSERT_REPORT("drops", "1");
}

TEST_F(probe, failed_probe_drops_drvdata)
{
	char drv[64];

	ASSERT_EQ(0, load_probe_driver("fail_probe=1"));
	self->loaded = true;
	/* drivers_probe succeeds when no driver binds; the probe failed after set(). */
	ASSERT_EQ(0, bind_by_override(self->bdf));
	bound_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ("", drv);
	ASSERT_REPORT("probes", "1");
	ASSERT_REPORT("probe_drvdata", "ok");
	ASSERT_REPORT("error", "-16");
	ASSERT_REPORT("removes", "0");
	ASSERT_REPORT("drops", "1");
}

/* Reads a sysfs file's first line into buf (newline dropped; "" if unreadable). */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

/*
 * The igb, which other tests use: its driver and driver_override are put back as
 * they were.
 */
TEST(io_bar_on_igb)
{
	char bdf[32], drv[64], orig_drv[64], orig_override[64], path[PATH_MAX];
	int ret, reset;

	if (vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, bdf, sizeof(bdf)))
		SKIP(return, "no igb in this guest");
	bound_driver(bdf, orig_drv, sizeof(orig_drv));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	read_line(path, orig_override, sizeof(orig_override));
	if (!strcmp(orig_override, "(null)"))
		orig_override[0] = 0;
	ASSERT_EQ(0, load_probe_driver(""));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	vfio_rs_sysfs_write(path, bdf);
	ret = bind_by_override(bdf);
	bound_driver(bdf, drv, sizeof(drv));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", bdf);
	reset = vfio_rs_sysfs_write(path, "1");
	/* Report first, restore, then judge: the igb goes back whatever the outcome. */
	{
		char window[16] = "", io_bars[16] = "", probe_drvdata[16] = "";
		char prepares[16] = "", dones[16] = "", reset_drvdata[16] = "", try_reset[16] = "";

		report_get("try_reset", try_reset, sizeof(try_reset));
		report_get("reset_prepares", prepares, sizeof(prepares));
		report_get("reset_dones", dones, sizeof(dones));
		report_get("reset_drvdata", reset_drvdata, sizeof(reset_drvdata));
		report_get("io_window", window, sizeof(window));
		report_get("io_bars", io_bars, sizeof(io_bars));
		report_get("probe_drvdata", probe_drvdata, sizeof(probe_drvdata));
		vfio_rs_unbind(bdf);
		EXPECT_EQ(0, vfio_rs_sh("rmmod vfio_rs_pci_probe"));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
		vfio_rs_sysfs_write(path, orig_override[0] ? orig_override : "\n");
		if (orig_drv[0]) {
			snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", orig_drv);
			EXPECT_EQ(0, vfio_rs_sysfs_write(path, bdf));
		}
		ASSERT_EQ(0, ret);
		ASSERT_STREQ(DRIVER, drv);
		ASSERT_STREQ("ok", probe_drvdata);
		ASSERT_STRNE("0x0", io_bars) TH_LOG("the igb has an I/O BAR");
		ASSERT_STREQ("ok", window);
		/* From probe, under the device lock: the trylock fails. */
		ASSERT_STREQ("-11", try_reset);
		ASSERT_EQ(0, reset) TH_LOG("reset through sysfs");
		ASSERT_STREQ("1", prepares);
		ASSERT_STREQ("1", dones);
		ASSERT_STREQ("ok", reset_drvdata);
	}
	bound_driver(bdf, drv, sizeof(drv));
	ASSERT_STREQ(orig_drv, drv);
}

TEST_HARNESS_MAIN
