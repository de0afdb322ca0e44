// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko's enable_unsafe_noiommu_mode parameter. Upstream has it only in
 * kernels built with CONFIG_VFIO_NOIOMMU, so it must exist exactly then. Where
 * it exists it defaults to N; upstream accepts Y (and enables no-IOMMU groups),
 * the Rust core has no no-IOMMU mode and must refuse Y with EOPNOTSUPP, leaving
 * N. Loading with the parameter is covered by module_reload_test.sh.
 */
#include <sys/stat.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define PARAM "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"

/* 1 if the running kernel was built with CONFIG_VFIO_NOIOMMU=y, 0 if not, -1 if unknown. */
static int kernel_has_noiommu(void)
{
	if (access("/proc/config.gz", R_OK))
		return -1;
	return vfio_rs_sh("zcat /proc/config.gz | grep -qx CONFIG_VFIO_NOIOMMU=y") == 0;
}

/* The parameter's value (first character), or 0 if it cannot be read. */
static char param_value(void)
{
	char buf[8] = "";
	int fd = open(PARAM, O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 1)
		buf[0] = 0;
	close(fd);
	return buf[0];
}

TEST(exists_iff_kernel_has_noiommu)
{
	int has = kernel_has_noiommu();
	struct stat st;

	if (has < 0)
		SKIP(return, "no /proc/config.gz");
	ASSERT_EQ(0, stat("/sys/module/vfio", &st)) TH_LOG("vfio.ko is not loaded");
	if (has) {
		ASSERT_EQ(0, stat(PARAM, &st));
		ASSERT_EQ(0644, st.st_mode & 0777);
	} else {
		ASSERT_EQ(-1, stat(PARAM, &st));
		ASSERT_EQ(ENOENT, errno);
	}
}

TEST(defaults_to_n)
{
	if (access(PARAM, F_OK))
		SKIP(return, "no parameter: kernel without CONFIG_VFIO_NOIOMMU (as upstream)");
	ASSERT_EQ('N', param_value());
}

TEST(writing_n_succeeds)
{
	if (access(PARAM, F_OK))
		SKIP(return, "no parameter: kernel without CONFIG_VFIO_NOIOMMU (as upstream)");
	ASSERT_EQ(0, vfio_rs_sysfs_write(PARAM, "N"));
	ASSERT_EQ(0, vfio_rs_sysfs_write(PARAM, "0"));
	ASSERT_EQ('N', param_value());
	/* Not a boolean: -EINVAL from the parser, on both cores. */
	ASSERT_EQ(-EINVAL, vfio_rs_sysfs_write(PARAM, "maybe"));
}

TEST(enabling_is_refused_or_takes_effect)
{
	int ret;

	if (access(PARAM, F_OK))
		SKIP(return, "no parameter: kernel without CONFIG_VFIO_NOIOMMU (as upstream)");
	ret = vfio_rs_sysfs_write(PARAM, "Y");
	if (ret == 0) {
		/* Upstream: no-IOMMU mode is on now; put it back. */
		ASSERT_EQ('Y', param_value());
		ASSERT_EQ(0, vfio_rs_sysfs_write(PARAM, "N"));
		TH_LOG("this core supports no-IOMMU mode (upstream)");
		return;
	}
	/* The Rust core: refused, and nothing changed. */
	ASSERT_EQ(-EOPNOTSUPP, ret);
	ASSERT_EQ('N', param_value());
	ASSERT_EQ(-EOPNOTSUPP, vfio_rs_sysfs_write(PARAM, "1"));
	ASSERT_EQ('N', param_value());
}

TEST_HARNESS_MAIN
