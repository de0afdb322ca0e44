// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_iommu_type1 op no VFIO core path calls, group_iommu_domain, driven
 * through the test-only module out/kmod/vfio_rs_type1_ops_kmod.ko
 * (tools/testing/selftests/vfio/kmod) on whichever type1 is loaded: EINVAL for
 * a NULL instance or group, ENODEV for a group not attached and for an
 * emulated-IOMMU group, the very domain the IOMMU core has for the device once
 * attached, one shared domain for two groups of the same IOMMU (the igb and,
 * if the guest has one, the edu), kept by the second when the first leaves.
 */
#include <libgen.h>
#include <limits.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define KMOD "vfio_rs_type1_ops_kmod"
#define PARAMS "/sys/module/" KMOD "/parameters/"

FIXTURE(ops) {
	char igb[32], edu[32];
};

FIXTURE_SETUP(ops)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 64], path[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	self->igb[0] = self->edu[0] = 0;
	VFIO_RS_SETUP_PCI(IGB_VENDOR, IGB_DEVICE, "igb", self->igb, path);
	if (!vfio_rs_find_pci(EDU_VENDOR, EDU_DEVICE, self->edu, sizeof(self->edu)))
		ASSERT_EQ(0, vfio_rs_bind_vfio_pci(self->edu));
	ASSERT_GT(n, 0);
	exe[n] = 0;
	vfio_rs_sh("rmmod " KMOD " 2>/dev/null");
	snprintf(cmd, sizeof(cmd), "insmod %s/../kmod/" KMOD ".ko", dirname(exe));
	ASSERT_EQ(0, vfio_rs_sh(cmd)) TH_LOG("%s failed", cmd);
}

FIXTURE_TEARDOWN(ops)
{
	vfio_rs_sh("rmmod " KMOD " 2>/dev/null");
	if (self->edu[0])
		vfio_rs_unbind(self->edu);
	if (self->igb[0])
		vfio_rs_unbind(self->igb);
}

/* Runs the module's checks on the given functions; the report's lines into buf. */
static int run(const char *bdfs, char *buf, size_t len)
{
	int ret = vfio_rs_sysfs_write(PARAMS "run", bdfs);

	return ret ? ret : vfio_rs_read_file(PARAMS "report", buf, len);
}

/* Every line ok; each name in want[] reported. */
static void expect_report(struct __test_metadata *_metadata, char *buf, const char *const *want,
			  int nwant)
{
	char *line, *save;
	int i;

	for (i = 0; i < nwant; i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "%s ok\n", want[i]);
		EXPECT_NE(NULL, strstr(buf, needle)) TH_LOG("missing: %s ok", want[i]);
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		TH_LOG("%s", line);
		EXPECT_EQ(NULL, strstr(line, "FAIL")) TH_LOG("failed: %s", line);
	}
}

TEST_F(ops, group_iommu_domain_one_group)
{
	static const char *const want[] = {
		"type1_loaded", "ops_found", "op_present", "claim_first", "null_data_einval",
		"open", "null_group_einval", "unattached_enodev", "attach_first", "first_domain",
		"attach_emulated", "emulated_enodev", "detached_enodev",
	};
	char buf[2048];

	ASSERT_EQ(0, run(self->igb, buf, sizeof(buf)));
	expect_report(_metadata, buf, want, sizeof(want) / sizeof(want[0]));
}

TEST_F(ops, group_iommu_domain_two_groups_share_a_domain)
{
	static const char *const want[] = {
		"claim_second", "first_domain", "second_unattached_enodev", "attach_second",
		"second_shares_domain", "detached_enodev", "second_keeps_domain",
	};
	char buf[2048], bdfs[80];

	if (!self->edu[0])
		SKIP(return, "no edu in this guest");
	snprintf(bdfs, sizeof(bdfs), "%s %s", self->igb, self->edu);
	ASSERT_EQ(0, run(bdfs, buf, sizeof(buf)));
	expect_report(_metadata, buf, want, sizeof(want) / sizeof(want[0]));
}

TEST_HARNESS_MAIN
