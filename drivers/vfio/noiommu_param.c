// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko's enable_unsafe_noiommu_mode parameter, which upstream has only with
 * CONFIG_VFIO_NOIOMMU (Kbuild builds this file only then). This core has no
 * no-IOMMU mode: the parameter exists with upstream's name, type and mode and
 * reads N, but turning it on fails (-EOPNOTSUPP from a sysfs write, a failed
 * insmod/modprobe with =1) instead of silently doing nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static bool vfio_noiommu;

static int vfio_rs_noiommu_set(const char *val, const struct kernel_param *kp)
{
	bool enable;
	int ret;

	/* A bare "enable_unsafe_noiommu_mode" on the command line means Y. */
	ret = kstrtobool(val ?: "1", &enable);
	if (ret)
		return ret;
	if (enable) {
		pr_warn("enable_unsafe_noiommu_mode: no-IOMMU mode is not supported by this VFIO core\n");
		return -EOPNOTSUPP;
	}
	return param_set_bool("0", kp);
}

static const struct kernel_param_ops vfio_rs_noiommu_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = vfio_rs_noiommu_set,
	.get = param_get_bool,
};

module_param_cb(enable_unsafe_noiommu_mode, &vfio_rs_noiommu_ops, &vfio_noiommu, 0644);
__MODULE_PARM_TYPE(enable_unsafe_noiommu_mode, "bool");
MODULE_PARM_DESC(enable_unsafe_noiommu_mode,
		 "Enable UNSAFE, no-IOMMU mode (not supported by this VFIO core: setting it fails). (default: false)");
