// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for vfio_exports_test: calls exports of whichever vfio.ko
 * is loaded (ours or upstream's) that only in-kernel users reach.
 *
 * At load it checks vfio_mig_get_next_state (on a bare struct vfio_device, of
 * which upstream reads only migration_flags) and vfio_combine_iova_ranges (on
 * a real interval tree), one "name ok|FAIL detail" line each in the read-only
 * parameter "report". Writing an fd number to "check_fd" looks that fd up in
 * the writer's table and reports, in "file_report", what the KVM-facing
 * exports say about it, then calls vfio_file_set_kvm(file, NULL) (the only VM
 * value that is safe to pass without KVM).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfio_rs_kmod_report.h"

static char file_report[128];

/* Whether a driver with @flags has @state (from the uapi documentation). */
static bool has_state(u32 flags, u32 state)
{
	const u32 p2p = VFIO_MIGRATION_P2P, pre = VFIO_MIGRATION_PRE_COPY;

	if (!(flags & VFIO_MIGRATION_STOP_COPY))
		return false;
	switch (state) {
	case VFIO_DEVICE_STATE_STOP:
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		return true;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return flags & p2p;
	case VFIO_DEVICE_STATE_PRE_COPY:
		return flags & pre;
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return (flags & (p2p | pre)) == (p2p | pre);
	}
	return false;
}

/* Checks one request; false (with a report line) if the export misbehaves. */
static bool check_pair(struct vfio_device *vdev, u32 flags, u32 cur, u32 new)
{
	bool blocked = cur == VFIO_DEVICE_STATE_STOP_COPY &&
		       (new == VFIO_DEVICE_STATE_PRE_COPY ||
			new == VFIO_DEVICE_STATE_PRE_COPY_P2P);
	enum vfio_device_mig_state next = 99;
	u32 at = cur;
	int ret, steps;

	ret = vfio_mig_get_next_state(vdev, cur, new, &next);
	if (!has_state(flags, new)) {
		if (ret == -EINVAL && next == 99)
			return true;
		note(false, "mig_bad_new", "flags %#x %u->%u: %d next %u", flags, cur, new, ret, next);
		return false;
	}
	if (blocked) {
		if (ret == -EINVAL && next == VFIO_DEVICE_STATE_ERROR)
			return true;
		note(false, "mig_blocked", "flags %#x %u->%u: %d next %u", flags, cur, new, ret, next);
		return false;
	}
	/* Every other request reaches its target through states the driver has. */
	for (steps = 0; at != new && steps < 6; steps++) {
		ret = vfio_mig_get_next_state(vdev, at, new, &next);
		if (ret || !has_state(flags, next))
			break;
		at = next;
	}
	if (at == new)
		return true;
	note(false, "mig_walk", "flags %#x %u->%u stuck at %u (%d)", flags, cur, new, at, ret);
	return false;
}

static void check_mig(void)
{
	static const u32 flag_sets[] = {
		VFIO_MIGRATION_STOP_COPY,
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
	};
	enum vfio_device_mig_state next;
	struct vfio_device *vdev;
	u32 f, cur, new;
	bool ok = true;
	int ret;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev) {
		note(false, "mig_alloc", "-ENOMEM");
		return;
	}
	for (f = 0; f < ARRAY_SIZE(flag_sets); f++) {
		vdev->migration_flags = flag_sets[f];
		for (cur = VFIO_DEVICE_STATE_STOP; cur <= VFIO_DEVICE_STATE_PRE_COPY_P2P; cur++) {
			/* A current state the driver lacks is a driver bug: upstream WARNs. */
			if (!has_state(flag_sets[f], cur))
				continue;
			for (new = VFIO_DEVICE_STATE_ERROR;
			     new <= VFIO_DEVICE_STATE_PRE_COPY_P2P + 1; new++)
				ok &= check_pair(vdev, flag_sets[f], cur, new);
		}
	}
	note(ok, "mig_every_pair", "");

	/* Steps upstream documents for a driver with every feature. */
	vdev->migration_flags = flag_sets[3];
	ret = vfio_mig_get_next_state(vdev, VFIO_DEVICE_STATE_RUNNING,
				      VFIO_DEVICE_STATE_STOP, &next);
	note(!ret && next == VFIO_DEVICE_STATE_RUNNING_P2P, "mig_running_to_stop_via_p2p",
	     "%d next %u", ret, next);
	ret = vfio_mig_get_next_state(vdev, VFIO_DEVICE_STATE_PRE_COPY,
				      VFIO_DEVICE_STATE_STOP_COPY, &next);
	note(!ret && next == VFIO_DEVICE_STATE_PRE_COPY_P2P, "mig_precopy_to_stopcopy_via_p2p",
	     "%d next %u", ret, next);
	/* Without P2P the same request goes straight on. */
	vdev->migration_flags = flag_sets[0];
	ret = vfio_mig_get_next_state(vdev, VFIO_DEVICE_STATE_RUNNING,
				      VFIO_DEVICE_STATE_STOP, &next);
	note(!ret && next == VFIO_DEVICE_STATE_STOP, "mig_running_to_stop_direct",
	     "%d next %u", ret, next);
	kfree(vdev);
}

/* Builds a tree of @n ranges from @r ({start, last} pairs) in @nodes. */
static void build(struct rb_root_cached *root, struct interval_tree_node *nodes,
		  const unsigned long (*r)[2], int n)
{
	int i;

	*root = RB_ROOT_CACHED;
	for (i = 0; i < n; i++) {
		nodes[i].start = r[i][0];
		nodes[i].last = r[i][1];
		interval_tree_insert(&nodes[i], root);
	}
}

/*
 * Full walks only: merged nodes' "last" is written in place (upstream too), so
 * narrower queries may prune on stale subtree bounds.
 */
#define for_each_range(node, root) \
	for (node = interval_tree_iter_first(root, 0, ULONG_MAX); node; \
	     node = interval_tree_iter_next(node, 0, ULONG_MAX))

/* Whether the tree holds exactly the @n ranges @r, in order. */
static bool holds(struct rb_root_cached *root, const unsigned long (*r)[2], int n)
{
	struct interval_tree_node *node;
	int i = 0;

	for_each_range(node, root) {
		if (i >= n || node->start != r[i][0] || node->last != r[i][1])
			return false;
		i++;
	}
	return i == n;
}

static void check_combine(void)
{
	static const unsigned long four[][2] = {
		{ 0x0, 0xfff }, { 0x10ff, 0x1fff }, { 0x200f, 0x2fff }, { 0x3fff, 0x4fff },
	};
	/* Gaps 0x100, 0x10, 0x1000: the middle pair merges first. */
	static const unsigned long three[][2] = {
		{ 0x0, 0xfff }, { 0x10ff, 0x2fff }, { 0x3fff, 0x4fff },
	};
	static const unsigned long two[][2] = { { 0x0, 0x2fff }, { 0x3fff, 0x4fff } };
	static const unsigned long one[][2] = { { 0x0, 0x4fff } };
	static unsigned long many[64][2];
	struct interval_tree_node *nodes, *node;
	struct rb_root_cached root;
	unsigned long prev_last = 0;
	int i, count = 0;
	bool ok = true;

	nodes = kcalloc(64, sizeof(*nodes), GFP_KERNEL);
	if (!nodes) {
		note(false, "combine_alloc", "-ENOMEM");
		return;
	}
	build(&root, nodes, four, 4);
	vfio_combine_iova_ranges(&root, 4, 3);
	note(holds(&root, three, 3), "combine_smallest_gap_first", "");
	vfio_combine_iova_ranges(&root, 3, 2);
	note(holds(&root, two, 2), "combine_again", "");
	build(&root, nodes, four, 4);
	vfio_combine_iova_ranges(&root, 4, 1);
	note(holds(&root, one, 1), "combine_to_one_range", "");
	build(&root, nodes, four, 4);
	vfio_combine_iova_ranges(&root, 4, 4);
	note(holds(&root, four, 4), "combine_nothing_within_limit", "");

	/* 64 ranges down to 8: ordered, disjoint, covering every original. */
	for (i = 0; i < 64; i++) {
		many[i][0] = i * 0x10000UL + (i % 7) * 0x1000;
		many[i][1] = i * 0x10000UL + 0x8fff;
	}
	build(&root, nodes, many, 64);
	vfio_combine_iova_ranges(&root, 64, 8);
	for_each_range(node, &root) {
		if (count++ && node->start <= prev_last)
			ok = false;
		prev_last = node->last;
	}
	for (i = 0; i < 64; i++) {
		bool covered = false;

		for_each_range(node, &root)
			if (node->start <= many[i][0] && many[i][1] <= node->last)
				covered = true;
		ok &= covered;
	}
	note(ok && count == 8, "combine_64_to_8", "count %d", count);
	kfree(nodes);
}

static int check_fd_set(const char *val, const struct kernel_param *kp)
{
	struct iommu_group *group;
	struct file *file;
	int fd, ret;

	ret = kstrtoint(val, 0, &fd);
	if (ret)
		return ret;
	file = fget(fd);
	if (!file)
		return -EBADF;
	group = vfio_file_iommu_group(file);
	scnprintf(file_report, sizeof(file_report),
		  "valid=%d group=%d coherent=%d iommu_group=%d\n",
		  vfio_file_is_valid(file), vfio_file_is_group(file),
		  vfio_file_enforced_coherent(file), group ? iommu_group_id(group) : -1);
	if (group)
		iommu_group_put(group);
	vfio_file_set_kvm(file, NULL);
	fput(file);
	return 0;
}

static const struct kernel_param_ops check_fd_ops = {
	.set = check_fd_set,
};
module_param_cb(check_fd, &check_fd_ops, NULL, 0200);
MODULE_PARM_DESC(check_fd, "fd (in the writer's table) to report on in file_report");

static int show_string(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s", (const char *)kp->arg);
}

static const struct kernel_param_ops string_ops = {
	.get = show_string,
};
module_param_cb(report, &string_ops, report, 0444);
MODULE_PARM_DESC(report, "load-time checks, one per line");
module_param_cb(file_report, &string_ops, file_report, 0444);
MODULE_PARM_DESC(file_report, "what the vfio_file_* exports said about check_fd");

static int __init vfio_rs_exports_kmod_init(void)
{
	check_mig();
	check_combine();
	return 0;
}
module_init(vfio_rs_exports_kmod_init);

static void __exit vfio_rs_exports_kmod_exit(void)
{
}
module_exit(vfio_rs_exports_kmod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-rs test helper: calls in-kernel-only vfio.ko exports");
