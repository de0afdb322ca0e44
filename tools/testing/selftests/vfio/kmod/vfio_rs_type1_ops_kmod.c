// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for vfio_type1_ops_test: drives the ops of whichever
 * vfio_iommu_type1 is loaded (ours or upstream's) that no VFIO core path
 * reaches. Upstream 7.3 has no caller of group_iommu_domain, but the op is
 * part of struct vfio_iommu_driver_ops and a drop-in type1 must answer it as
 * upstream's does.
 *
 * type1 exports nothing, so the module finds it on the module list and its ops
 * table in its memory: the struct vfio_iommu_driver_ops whose owner is the
 * module and whose name is "vfio-iommu-type1" (the pointer the core got from
 * vfio_register_iommu_driver). It then opens its own backend instance, claims
 * DMA ownership of the groups it is given (PCI functions bound to vfio-pci
 * and not in use, as the core would) and attaches them, one emulated-IOMMU
 * group (iommu_group_alloc, as the core's vfio-noiommu groups) too.
 *
 * Writing "BDF" or "BDF1 BDF2" to the parameter "run" runs the checks; each
 * writes one "name ok" or "name FAIL detail" line to the read-only parameter
 * "report".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rculist.h>
#include <linux/vfio.h>

#include "vfio.h" /* drivers/vfio/vfio.h: struct vfio_iommu_driver_ops */

#include "vfio_rs_kmod_report.h"

/* The loaded vfio_iommu_type1, with a reference taken; NULL if it is not loaded. */
static struct module *get_type1(void)
{
	struct module *found = NULL;
	struct list_head *pos;

	rcu_read_lock();
	for (pos = rcu_dereference(list_next_rcu(&THIS_MODULE->list));
	     pos != &THIS_MODULE->list; pos = rcu_dereference(list_next_rcu(pos))) {
		unsigned long a = (unsigned long)pos;
		struct module *m;

		/* The list head (`modules`) is in the kernel image, every entry in a module. */
		if (a < MODULES_VADDR || a >= MODULES_END)
			continue;
		m = container_of(pos, struct module, list);
		if (m->state == MODULE_STATE_LIVE && !strcmp(m->name, "vfio_iommu_type1") &&
		    try_module_get(m)) {
			found = m;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Whether [p, p + len) lies in one of mod's memory areas. */
static bool in_module(const struct module *mod, const void *p, size_t len)
{
	for_each_mod_mem_type(t) {
		unsigned long base = (unsigned long)mod->mem[t].base, a = (unsigned long)p;

		if (a >= base && a - base <= mod->mem[t].size &&
		    len <= mod->mem[t].size - (a - base))
			return true;
	}
	return false;
}

/*
 * Whether the NUL-terminated name at p is want (as long as want, in mod): by hand, since
 * the bytes may be any of the module's (see find_ops).
 */
static __no_sanitize_address bool name_is(const struct module *mod, const char *p,
					  const char *want, size_t len)
{
	size_t i;

	if (!in_module(mod, p, len))
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != want[i])
			return false;
	return true;
}

/*
 * The ops table type1 registered: owner mod, name "vfio-iommu-type1". The scan reads the
 * module's data word by word, across the redzones KASAN keeps between its globals, so
 * neither it nor the name check is instrumented (a KASAN kernel reported
 * global-out-of-bounds here).
 */
static __no_sanitize_address const struct vfio_iommu_driver_ops *find_ops(struct module *mod)
{
	static const char name[] = "vfio-iommu-type1";
	const enum mod_mem_type types[] = { MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT };
	size_t i, off;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		const char *base = mod->mem[types[i]].base;
		size_t size = mod->mem[types[i]].size;

		for (off = 0; off + sizeof(struct vfio_iommu_driver_ops) <= size;
		     off += sizeof(void *)) {
			const struct vfio_iommu_driver_ops *ops = (const void *)(base + off);

			if (ops->owner != mod || !name_is(mod, ops->name, name, sizeof(name)))
				continue;
			if (ops->open && ops->release && ops->attach_group && ops->detach_group)
				return ops;
		}
	}
	return NULL;
}

/* One PCI function given by the test: its device and group, DMA-owned by us. */
struct fn {
	struct device *dev;
	struct iommu_group *group;
	bool owned, attached;
};

static int fn_get(struct fn *f, const char *bdf)
{
	int ret;

	f->dev = bus_find_device_by_name(&pci_bus_type, NULL, bdf);
	if (!f->dev)
		return -ENODEV;
	f->group = iommu_group_get(f->dev);
	if (!f->group)
		return -ENODEV;
	ret = iommu_group_claim_dma_owner(f->group, f);
	f->owned = !ret;
	return ret;
}

static void fn_put(struct fn *f)
{
	if (f->owned)
		iommu_group_release_dma_owner(f->group);
	if (f->group)
		iommu_group_put(f->group);
	if (f->dev)
		put_device(f->dev);
}

/* "domain %p" or "ERR %ld" of a group_iommu_domain result, for FAIL lines. */
#define DOM_FMT "%s%ld"
#define DOM_ARG(d) IS_ERR(d) ? "err " : "ptr ", IS_ERR(d) ? PTR_ERR(d) : (long)!!(d)

static void run_checks(const struct vfio_iommu_driver_ops *ops, const char *bdf1,
		       const char *bdf2)
{
	struct iommu_domain *(*gid)(void *, struct iommu_group *) = ops->group_iommu_domain;
	struct iommu_domain *d, *d1 = NULL;
	struct iommu_group *emu;
	struct fn f1 = {}, f2 = {};
	void *data;
	int ret;

	note(gid, "op_present", "group_iommu_domain is NULL");
	if (!gid)
		return;

	ret = fn_get(&f1, bdf1);
	note(!ret, "claim_first", "%s: %d", bdf1, ret);
	if (ret)
		goto out;
	if (bdf2) {
		ret = fn_get(&f2, bdf2);
		note(!ret, "claim_second", "%s: %d", bdf2, ret);
		if (ret)
			goto out;
	}

	/* Upstream checks its arguments before taking the lock. */
	d = gid(NULL, f1.group);
	note(d == ERR_PTR(-EINVAL), "null_data_einval", DOM_FMT, DOM_ARG(d));

	data = ops->open(VFIO_TYPE1v2_IOMMU);
	note(!IS_ERR_OR_NULL(data), "open", "%ld", PTR_ERR(data));
	if (IS_ERR_OR_NULL(data))
		goto out;
	d = gid(data, NULL);
	note(d == ERR_PTR(-EINVAL), "null_group_einval", DOM_FMT, DOM_ARG(d));
	d = gid(data, f1.group);
	note(d == ERR_PTR(-ENODEV), "unattached_enodev", DOM_FMT, DOM_ARG(d));

	ret = ops->attach_group(data, f1.group, VFIO_IOMMU);
	note(!ret, "attach_first", "%d", ret);
	if (ret)
		goto release;
	f1.attached = true;
	d1 = gid(data, f1.group);
	/* The domain type1 attached the group to: what the IOMMU core has for the device. */
	note(!IS_ERR_OR_NULL(d1) && d1 == iommu_get_domain_for_dev(f1.dev), "first_domain",
	     DOM_FMT " same as the device's %d", DOM_ARG(d1),
	     d1 == iommu_get_domain_for_dev(f1.dev));

	/* An emulated-IOMMU group has no domain. */
	emu = iommu_group_alloc();
	if (!IS_ERR(emu)) {
		ret = ops->attach_group(data, emu, VFIO_EMULATED_IOMMU);
		note(!ret, "attach_emulated", "%d", ret);
		if (!ret) {
			d = gid(data, emu);
			note(d == ERR_PTR(-ENODEV), "emulated_enodev", DOM_FMT, DOM_ARG(d));
			ops->detach_group(data, emu);
		}
		iommu_group_put(emu);
	} else {
		note(false, "attach_emulated", "iommu_group_alloc %ld", PTR_ERR(emu));
	}

	if (f2.group) {
		d = gid(data, f2.group);
		note(d == ERR_PTR(-ENODEV), "second_unattached_enodev", DOM_FMT, DOM_ARG(d));
		ret = ops->attach_group(data, f2.group, VFIO_IOMMU);
		note(!ret, "attach_second", "%d", ret);
		if (!ret) {
			f2.attached = true;
			/* Same IOMMU, same coherency: the second group joins the first's domain. */
			d = gid(data, f2.group);
			note(d == d1 && d == iommu_get_domain_for_dev(f2.dev), "second_shares_domain",
			     DOM_FMT " same as first %d", DOM_ARG(d), d == d1);
			/* The first leaves: the domain stays with the second. */
			ops->detach_group(data, f1.group);
			f1.attached = false;
			d = gid(data, f1.group);
			note(d == ERR_PTR(-ENODEV), "detached_enodev", DOM_FMT, DOM_ARG(d));
			d = gid(data, f2.group);
			note(d == d1, "second_keeps_domain", DOM_FMT, DOM_ARG(d));
		}
	}
	if (f1.attached) {
		ops->detach_group(data, f1.group);
		d = gid(data, f1.group);
		note(d == ERR_PTR(-ENODEV), "detached_enodev", DOM_FMT, DOM_ARG(d));
	}
	if (f2.attached)
		ops->detach_group(data, f2.group);
release:
	ops->release(data);
out:
	fn_put(&f2);
	fn_put(&f1);
}

static int run_set(const char *val, const struct kernel_param *kp)
{
	char buf[96], *s = buf, *bdf1, *bdf2;
	const struct vfio_iommu_driver_ops *ops;
	struct module *mod;

	strscpy(buf, val, sizeof(buf));
	bdf1 = strsep(&s, " \n");
	bdf2 = s ? strsep(&s, " \n") : NULL;
	if (!bdf1 || !*bdf1)
		return -EINVAL;
	if (bdf2 && !*bdf2)
		bdf2 = NULL;

	report_len = 0;
	report[0] = 0;
	mod = get_type1();
	note(mod, "type1_loaded", "no live vfio_iommu_type1");
	if (!mod)
		return 0;
	ops = find_ops(mod);
	note(ops, "ops_found", "no ops table owned by the module");
	if (ops)
		run_checks(ops, bdf1, bdf2);
	module_put(mod);
	return 0;
}

static const struct kernel_param_ops run_ops = { .set = run_set };
module_param_cb(run, &run_ops, NULL, 0200);
MODULE_PARM_DESC(run, "BDF [BDF2]: run the checks on these vfio-pci functions");

static struct kparam_string report_param = { .maxlen = sizeof(report), .string = report };
module_param_cb(report, &param_ops_string, &report_param, 0400);
MODULE_PARM_DESC(report, "one line per check");

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-rs test: type1 ops no VFIO core path calls");
