// SPDX-License-Identifier: GPL-2.0
/*
 * The type1 IOMMU backend's uAPI on a container holding the guest's igb, in
 * both flavours (VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU): locked-memory
 * accounting (VmLck rises by exactly what is mapped and comes back after
 * unmap, after the container goes, after a mapping process exits; a
 * RLIMIT_MEMLOCK without CAP_IPC_LOCK gives ENOMEM), dma_entry_limit
 * (ENOSPC), argument errors, overlaps, v1 versus v2 partial unmaps,
 * UNMAP_FLAG_ALL, vaddr invalidation and update, CHECK_EXTENSION before and
 * after SET_IOMMU, a BAR mmap (VM_PFNMAP) mapped for DMA without being pinned
 * or counted, and a second IOMMU group (QEMU's edu) sharing the container: its
 * DMA engine copies through a mapping after the igb's group has left; shared
 * shmem and hugetlbfs memory (which our type1 pins by folio): memfds, partial
 * and misaligned hugetlb ranges, partial unmaps of a huge page, ranges mixing
 * hugetlb and anonymous memory, private mappings of such files (checked through
 * edu's DMA engine and the huge page pool). Upstream's C type1 is the
 * reference: every case passes on it and on ours.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9

#define PG 4096ULL
#define KB(bytes) ((long)((bytes) >> 10))
#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
/* Far from the MSI window and inside every x86 IOMMU aperture. */
#define IOVA 0x40000000ULL
#define LIMIT_PARAM "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"

FIXTURE(t1) {
	char bdf[32];
	char path[64];
	int group;
	int container;
	char saved_limit[32];
};

FIXTURE_VARIANT(t1) {
	unsigned long type;
	int v2;
};

FIXTURE_VARIANT_ADD(t1, type1) {
	.type = VFIO_TYPE1_IOMMU,
	.v2 = 0,
};

FIXTURE_VARIANT_ADD(t1, type1v2) {
	.type = VFIO_TYPE1v2_IOMMU,
	.v2 = 1,
};

/* Opens a container, puts the group in it and selects the variant's backend. */
static int new_container(int group, unsigned long type)
{
	int c = open(VFIO_CONTAINER_PATH, O_RDWR);

	if (c < 0)
		return -errno;
	if (vfio_rs_ioctl(group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&c) ||
	    vfio_rs_ioctl(c, VFIO_SET_IOMMU, type)) {
		close(c);
		return -EIO;
	}
	return c;
}

FIXTURE_SETUP(t1)
{
	self->group = self->container = -1;
	self->saved_limit[0] = 0;
	VFIO_RS_SETUP_PCI(IGB_VENDOR, IGB_DEVICE, "igb", self->bdf, self->path);
	self->group = open(self->path, O_RDWR);
	ASSERT_GE(self->group, 0);
	self->container = new_container(self->group, variant->type);
	ASSERT_GE(self->container, 0);
}

FIXTURE_TEARDOWN(t1)
{
	if (self->saved_limit[0])
		vfio_rs_sysfs_write(LIMIT_PARAM, self->saved_limit);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	vfio_rs_unbind(self->bdf);
}

static long dma_map(int c, void *vaddr, __u64 iova, __u64 size, __u32 flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return vfio_rs_ioctl(c, VFIO_IOMMU_MAP_DMA, (unsigned long)&m);
}

/* UNMAP_DMA; *done (if given) gets the size the kernel wrote back. */
static long dma_unmap(int c, __u64 iova, __u64 size, __u32 flags, __u64 *done)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};
	long ret = vfio_rs_ioctl(c, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&u);

	if (done)
		*done = u.size;
	return ret;
}

/* Anonymous private memory, not yet touched. */
static void *anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Whether a page-sized range at iova is mapped (a map over it is EEXIST). */
static int is_mapped(int c, void *buf, __u64 iova)
{
	long ret = dma_map(c, buf, iova, PG, RW);

	if (!ret)
		dma_unmap(c, iova, PG, 0, NULL);
	return ret == -EEXIST;
}

/* Drops CAP_IPC_LOCK from the calling process's effective and permitted sets. */
static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* Waits for a child; returns its exit status, or -1 if it did not exit. */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(t1, extensions_before_and_after_set_iommu)
{
	const unsigned long always[] = { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL };
	const unsigned long never[] = { VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU,
					6 /* the removed TYPE1_NESTING */, 11, 0 };
	int step, cc;
	size_t i;

	/* Leave the group's container: its backend goes with the last group. */
	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	/* Step 0: no group, 1: group but no backend, 2: backend selected. */
	for (step = 0; step < 3; step++) {
		if (step == 1)
			ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
						   (unsigned long)&self->container));
		if (step == 2)
			ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU,
						   variant->type));
		for (i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
			unsigned long ext = always[i];

			EXPECT_EQ(1, vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION, ext))
				TH_LOG("step %d ext %lu", step, ext);
		}
		for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			unsigned long ext = never[i];

			EXPECT_EQ(0, vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION, ext))
				TH_LOG("step %d ext %lu", step, ext);
		}
		/* Per-container answers: 0 until a type1 container exists. */
		EXPECT_EQ(step == 2, vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION,
						   VFIO_UPDATE_VADDR)) TH_LOG("step %d", step);
		cc = vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
		if (step < 2) {
			EXPECT_EQ(0, cc) TH_LOG("step %d", step);
		} else {
			EXPECT_TRUE(cc == 0 || cc == 1) TH_LOG("DMA_CC_IOMMU %d", cc);
		}
	}
	/* One backend per container. */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, variant->type));
}

TEST_F(t1, locked_vm_follows_map_and_unmap)
{
	const size_t a = 1 << 20, b = 16 * PG;
	char *buf = anon(a + b);
	long base = vfio_rs_vmlck_kb(0);
	__u64 done;

	ASSERT_NE(NULL, buf);
	ASSERT_GE(base, 0);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, a, RW));
	ASSERT_EQ(base + KB(a), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_map(self->container, buf + a, IOVA + a, b, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(base + KB(a + b), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, a, 0, &done));
	ASSERT_EQ(a, done);
	ASSERT_EQ(base + KB(b), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA + a, b, 0, &done));
	ASSERT_EQ(b, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	/* The same memory mapped twice is pinned, and counted, twice. */
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, b, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + a, b, RW));
	ASSERT_EQ(base + 2 * KB(b), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	ASSERT_EQ(2 * b, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(buf, a + b);
}

TEST_F(t1, locked_vm_returns_when_the_container_goes)
{
	const size_t size = 64 * PG;
	char *buf = anon(size);
	long base = vfio_rs_vmlck_kb(0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, size, RW));
	ASSERT_EQ(base + KB(size), vfio_rs_vmlck_kb(0));
	/* The group still holds the container: the mapping stays. */
	ASSERT_EQ(0, close(self->container));
	self->container = -1;
	ASSERT_EQ(base + KB(size), vfio_rs_vmlck_kb(0));
	/* The last group leaves: everything is unmapped and given back. */
	ASSERT_EQ(0, close(self->group));
	self->group = -1;
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));

	/* Same with UNSET_CONTAINER as the last group's exit. */
	self->group = open(self->path, O_RDWR);
	ASSERT_GE(self->group, 0);
	self->container = new_container(self->group, variant->type);
	ASSERT_GE(self->container, 0);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, size, RW));
	ASSERT_EQ(base + KB(size), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(buf, size);
}

TEST_F(t1, mapping_process_exit_releases_everything)
{
	const size_t size = 256 * PG;
	int go[2], ready[2];
	char c = 0;
	long base, mapped;
	char *buf;
	pid_t pid;

	/* The child opens the group itself: one opener at a time. */
	ASSERT_EQ(0, close(self->container));
	ASSERT_EQ(0, close(self->group));
	self->container = self->group = -1;
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int g = open(self->path, O_RDWR), ct;
		char *mem = anon(size);

		if (g < 0 || !mem)
			_exit(1);
		ct = new_container(g, variant->type);
		if (ct < 0 || dma_map(ct, mem, IOVA, size, RW))
			_exit(2);
		if (write(ready[1], "m", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(0); /* no unmap, no close: exit does it */
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Counted on the child's mm, exactly once. */
	mapped = vfio_rs_vmlck_kb(pid);
	base = vfio_rs_vmlck_kb(0);
	ASSERT_EQ(KB(size), mapped);
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(0, child_status(pid));
	close(ready[0]);
	close(go[1]);
	/* Its container and group are released: the group opens again and maps anew. */
	self->group = open(self->path, O_RDWR);
	ASSERT_GE(self->group, 0);
	self->container = new_container(self->group, variant->type);
	ASSERT_GE(self->container, 0);
	buf = anon(size);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, size, RW));
	ASSERT_EQ(base + KB(size), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, size, 0, NULL));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(buf, size);
}

TEST_F(t1, mapping_outlives_the_process_that_made_it)
{
	const size_t size = 32 * PG;
	long base = vfio_rs_vmlck_kb(0);
	__u64 done;
	char *buf;
	pid_t pid;

	/* A child maps its own memory through the shared container fd, then exits. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		char *b = anon(size);

		if (!b || dma_map(self->container, b, IOVA, size, RW))
			_exit(1);
		_exit(vfio_rs_vmlck_kb(0) == KB(size) ? 0 : 2);
	}
	ASSERT_EQ(0, child_status(pid));
	/* Never charged to us; the entry is still there; unmapping it is fine. */
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	buf = anon(PG);
	ASSERT_NE(NULL, buf);
	ASSERT_TRUE(is_mapped(self->container, buf, IOVA));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, size, 0, &done));
	ASSERT_EQ(size, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(buf, PG);
}

/* In a child: RLIMIT_MEMLOCK 64 pages above what is locked; returns a code. */
static int rlimit_child(int container, int drop_cap)
{
	const size_t limit_extra = 64 * PG;
	char *buf = anon(256 * PG);
	long base = vfio_rs_vmlck_kb(0);
	struct rlimit rl;

	if (!buf || base < 0)
		return 10;
	if (drop_cap && drop_cap_ipc_lock())
		return 11;
	rl.rlim_cur = rl.rlim_max = (base << 10) + limit_extra;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 12;
	if (!drop_cap) {
		/* CAP_IPC_LOCK: the limit does not apply, the charge still does. */
		if (dma_map(container, buf, IOVA, 256 * PG, RW))
			return 20;
		if (vfio_rs_vmlck_kb(0) != base + KB(256 * PG))
			return 21;
		return dma_unmap(container, IOVA, 256 * PG, 0, NULL) ? 22 : 0;
	}
	if (dma_map(container, buf, IOVA, 128 * PG, RW) != -ENOMEM)
		return 30;
	if (vfio_rs_vmlck_kb(0) != base)
		return 31;
	/* Up to the limit exactly is fine... */
	if (dma_map(container, buf, IOVA, 48 * PG, RW))
		return 32;
	if (dma_map(container, buf + 48 * PG, IOVA + 48 * PG, 16 * PG, RW))
		return 33;
	if (vfio_rs_vmlck_kb(0) != base + KB(64 * PG))
		return 34;
	/* ...one page more is not, and leaves nothing behind. */
	if (dma_map(container, buf + 64 * PG, IOVA + 64 * PG, PG, RW) != -ENOMEM)
		return 35;
	if (vfio_rs_vmlck_kb(0) != base + KB(64 * PG))
		return 36;
	if (!is_mapped(container, buf, IOVA + 48 * PG) || is_mapped(container, buf, IOVA + 64 * PG))
		return 37;
	if (dma_unmap(container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL))
		return 38;
	return vfio_rs_vmlck_kb(0) == base ? 0 : 39;
}

TEST_F(t1, rlimit_memlock_without_cap_ipc_lock)
{
	int drop;

	for (drop = 0; drop < 2; drop++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (!pid)
			_exit(rlimit_child(self->container, drop));
		ASSERT_EQ(0, child_status(pid)) TH_LOG("drop CAP_IPC_LOCK %d", drop);
	}
}

TEST_F(t1, dma_entry_limit_enospc)
{
	char *buf = anon(4 * PG);
	__u64 done;
	int fd, n;

	ASSERT_NE(NULL, buf);
	fd = open(LIMIT_PARAM, O_RDONLY);
	ASSERT_GE(fd, 0);
	n = read(fd, self->saved_limit, sizeof(self->saved_limit) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	self->saved_limit[n] = 0;
	ASSERT_EQ(0, vfio_rs_sysfs_write(LIMIT_PARAM, "2"));
	/* The limit is read when a container selects the backend. */
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + PG, PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + 2 * PG, PG, RW));
	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	close(self->container);
	self->container = new_container(self->group, variant->type);
	ASSERT_GE(self->container, 0);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + PG, PG, RW));
	ASSERT_EQ(-ENOSPC, dma_map(self->container, buf, IOVA + 2 * PG, PG, RW));
	/* Errors found before the limit still win over it. */
	ASSERT_EQ(-EEXIST, dma_map(self->container, buf, IOVA, PG, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA + 1, PG, RW));
	/* An entry given back is available again. */
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, PG, 0, &done));
	ASSERT_EQ(PG, done);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + 2 * PG, 2 * PG, RW));
	ASSERT_EQ(-ENOSPC, dma_map(self->container, buf, IOVA, PG, RW));
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	ASSERT_EQ(3 * PG, done);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, PG, RW));
	munmap(buf, 4 * PG);
}

TEST_F(t1, overlapping_maps_are_eexist)
{
	char *buf = anon(8 * PG);
	long base = vfio_rs_vmlck_kb(0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + 2 * PG, 2 * PG, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->container, buf, IOVA + 2 * PG, 2 * PG, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->container, buf, IOVA + PG, 2 * PG, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->container, buf, IOVA + 3 * PG, 2 * PG, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->container, buf, IOVA + 3 * PG, PG, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->container, buf, IOVA, 8 * PG, RW));
	/* Nothing was pinned for the refused ones. */
	ASSERT_EQ(base + KB(2 * PG), vfio_rs_vmlck_kb(0));
	/* Adjacent on both sides is fine. */
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + PG, PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + 4 * PG, PG, RW));
	ASSERT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(buf, 8 * PG);
}

TEST_F(t1, map_argument_errors)
{
	struct vfio_iommu_type1_dma_map m;
	char *buf = anon(4 * PG);
	long base = vfio_rs_vmlck_kb(0);

	ASSERT_NE(NULL, buf);
	m = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(m) - 1, .flags = RW,
		.vaddr = (uintptr_t)buf, .iova = IOVA, .size = PG };
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_MAP_DMA, (unsigned long)&m));
	ASSERT_EQ(-EFAULT, vfio_rs_ioctl(self->container, VFIO_IOMMU_MAP_DMA, 8));
	/* Unknown flag; no direction; a direction with VADDR. */
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA, PG, RW | (1 << 3)));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA, PG, 0));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA, PG,
				   VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR));
	/* Size 0, misaligned size, iova or vaddr. */
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA, 0, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA, PG + 1, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA, PG / 2, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, IOVA + 512, PG, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf + 8, IOVA, PG, RW));
	/* iova + size or vaddr + size past the end of the address space. */
	ASSERT_EQ(-EOVERFLOW, dma_map(self->container, buf, ~0ULL & ~(PG - 1), 2 * PG, RW));
	ASSERT_EQ(-EOVERFLOW, dma_map(self->container, (void *)(uintptr_t)(~0ULL & ~(PG - 1)),
				      IOVA, 2 * PG, RW));
	/* Overflow is found before misalignment, size 0 before overflow. */
	ASSERT_EQ(-EOVERFLOW, dma_map(self->container, buf, ~0ULL, 2, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, ~0ULL, 0, RW));
	/* Ends exactly at the top: not an overflow, but outside the IOMMU's range. */
	ASSERT_EQ(-EINVAL, dma_map(self->container, buf, ~0ULL & ~(PG - 1), PG, RW));
	/* Unbacked memory: the pin fails, nothing stays. */
	ASSERT_EQ(0, munmap(buf + 2 * PG, PG));
	ASSERT_EQ(-EFAULT, dma_map(self->container, buf, IOVA, 4 * PG, RW));
	ASSERT_FALSE(is_mapped(self->container, buf, IOVA));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, 2 * PG, RW));
	ASSERT_EQ(base + KB(2 * PG), vfio_rs_vmlck_kb(0));
}

TEST_F(t1, unmap_argument_errors)
{
	struct vfio_iommu_type1_dma_unmap u;
	char *buf = anon(4 * PG);
	__u64 done;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, 4 * PG, RW));
	u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(u) - 1, .iova = IOVA,
		.size = 4 * PG };
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&u));
	ASSERT_EQ(-EFAULT, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, 8));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 4 * PG, 1 << 3, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 0, 0, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA + 8, 4 * PG, 0, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 4 * PG - 8, 0, NULL));
	ASSERT_EQ(-EOVERFLOW, dma_unmap(self->container, ~0ULL & ~(PG - 1), 2 * PG, 0, NULL));
	/* The dirty bitmap needs dirty tracking, never goes with ALL or VADDR. */
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, 0, 0,
				     VFIO_DMA_UNMAP_FLAG_ALL |
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 4 * PG,
				     VFIO_DMA_UNMAP_FLAG_VADDR |
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 4 * PG,
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, NULL));
	/* Nothing there: success, nothing unmapped. */
	ASSERT_EQ(0, dma_unmap(self->container, IOVA + 16 * PG, 4 * PG, 0, &done));
	ASSERT_EQ(0, done);
	/* None of it touched the mapping. */
	ASSERT_TRUE(is_mapped(self->container, buf, IOVA + 3 * PG));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, 4 * PG, 0, &done));
	ASSERT_EQ(4 * PG, done);
}

TEST_F(t1, partial_unmap_v1_whole_entries_v2_einval)
{
	char *buf = anon(8 * PG);
	long base = vfio_rs_vmlck_kb(0);
	__u64 done;

	ASSERT_NE(NULL, buf);
	/* A = [IOVA, +4 pages), B = [IOVA + 4 pages, +4 pages). */
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf + 4 * PG, IOVA + 4 * PG, 4 * PG, RW));
	ASSERT_EQ(base + KB(8 * PG), vfio_rs_vmlck_kb(0));
	if (variant->v2) {
		/* Any range bisecting a mapping is refused; nothing moves. */
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA + PG, PG, 0, NULL));
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, PG, 0, NULL));
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA + PG, 7 * PG, 0, NULL));
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 5 * PG, 0, NULL));
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA - PG, 2 * PG, 0, NULL));
		ASSERT_EQ(base + KB(8 * PG), vfio_rs_vmlck_kb(0));
		/* Whole mappings, with room around them, are fine. */
		ASSERT_EQ(0, dma_unmap(self->container, IOVA - PG, 5 * PG, 0, &done));
		ASSERT_EQ(4 * PG, done);
		ASSERT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
		ASSERT_EQ(0, dma_unmap(self->container, IOVA, 16 * PG, 0, &done));
		ASSERT_EQ(4 * PG, done);
	} else {
		/* Starting inside a mapping: success, nothing unmapped, even past it. */
		ASSERT_EQ(0, dma_unmap(self->container, IOVA + PG, PG, 0, &done));
		ASSERT_EQ(0, done);
		ASSERT_EQ(0, dma_unmap(self->container, IOVA + PG, 7 * PG, 0, &done));
		ASSERT_EQ(0, done);
		ASSERT_TRUE(is_mapped(self->container, buf, IOVA + 4 * PG));
		ASSERT_EQ(base + KB(8 * PG), vfio_rs_vmlck_kb(0));
		/* Covering a mapping's first page removes all of it. */
		ASSERT_EQ(0, dma_unmap(self->container, IOVA, PG, 0, &done));
		ASSERT_EQ(4 * PG, done);
		ASSERT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
		ASSERT_FALSE(is_mapped(self->container, buf, IOVA + 3 * PG));
		/* Two mappings, the second only partly covered: both go. */
		ASSERT_EQ(0, dma_map(self->container, buf, IOVA, 4 * PG, RW));
		ASSERT_EQ(0, dma_unmap(self->container, IOVA - PG, 6 * PG, 0, &done));
		ASSERT_EQ(8 * PG, done);
	}
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_FALSE(is_mapped(self->container, buf, IOVA + 7 * PG));
}

TEST_F(t1, unmap_all)
{
	char *buf = anon(8 * PG);
	long base = vfio_rs_vmlck_kb(0);
	__u64 done = 1;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	ASSERT_EQ(0, done);
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, 2 * PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA + 16 * PG, 4 * PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf, 1ULL << 36, PG, VFIO_DMA_MAP_FLAG_READ));
	/* ALL takes neither an iova nor a size. */
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, 0, PG, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, PG, PG, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	ASSERT_EQ(base + KB(7 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	ASSERT_EQ(7 * PG, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_FALSE(is_mapped(self->container, buf, 1ULL << 36));
}

TEST_F(t1, vaddr_invalidate_then_update)
{
	char *buf = anon(8 * PG), *other = anon(4 * PG);
	long base = vfio_rs_vmlck_kb(0);
	__u64 done;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, other);
	ASSERT_EQ(1, vfio_rs_ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	ASSERT_EQ(0, dma_map(self->container, buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(0, dma_map(self->container, buf + 4 * PG, IOVA + 4 * PG, 4 * PG, RW));
	/* Updating a valid vaddr, or where nothing is mapped, is refused. */
	ASSERT_EQ(-EINVAL, dma_map(self->container, other, IOVA, 4 * PG, VFIO_DMA_MAP_FLAG_VADDR));
	ASSERT_EQ(-ENOENT, dma_map(self->container, other, IOVA + 32 * PG, 4 * PG,
				   VFIO_DMA_MAP_FLAG_VADDR));
	/* Invalidate B: the entry and its pins stay. */
	ASSERT_EQ(0, dma_unmap(self->container, IOVA + 4 * PG, 4 * PG,
			       VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	ASSERT_EQ(4 * PG, done);
	ASSERT_EQ(base + KB(8 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(-EEXIST, dma_map(self->container, other, IOVA + 4 * PG, 4 * PG, RW));
	/* Invalidating A and B again is all or nothing: A stays valid. */
	ASSERT_EQ(-EINVAL, dma_unmap(self->container, IOVA, 8 * PG,
				     VFIO_DMA_UNMAP_FLAG_VADDR, NULL));
	ASSERT_EQ(-EINVAL, dma_map(self->container, other, IOVA, 4 * PG, VFIO_DMA_MAP_FLAG_VADDR));
	/* The update must name the whole entry, and no direction. */
	ASSERT_EQ(-EINVAL, dma_map(self->container, other, IOVA + 4 * PG, 2 * PG,
				   VFIO_DMA_MAP_FLAG_VADDR));
	ASSERT_EQ(-EINVAL, dma_map(self->container, other, IOVA + 4 * PG, 4 * PG,
				   VFIO_DMA_MAP_FLAG_VADDR | VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, dma_map(self->container, other, IOVA + 4 * PG, 4 * PG,
			     VFIO_DMA_MAP_FLAG_VADDR));
	ASSERT_EQ(-EINVAL, dma_map(self->container, other, IOVA + 4 * PG, 4 * PG,
				   VFIO_DMA_MAP_FLAG_VADDR));
	ASSERT_EQ(base + KB(8 * PG), vfio_rs_vmlck_kb(0));
	/* ALL | VADDR invalidates everything; an invalid entry can still be unmapped. */
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0,
			       VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	ASSERT_EQ(8 * PG, done);
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, 4 * PG, 0, &done));
	ASSERT_EQ(4 * PG, done);
	ASSERT_EQ(0, dma_map(self->container, buf + 4 * PG, IOVA + 4 * PG, 4 * PG,
			     VFIO_DMA_MAP_FLAG_VADDR));
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	ASSERT_EQ(4 * PG, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
}

TEST_F(t1, bar_mmap_maps_unpinned_and_uncounted)
{
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	char *area, *ro;
	long base;
	__u64 done, total;
	int fd;

	fd = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&bar0));
	ASSERT_TRUE(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_EQ(0, bar0.size % PG);
	/* Anonymous page pairs around the BAR: [2 anon][BAR][2 anon]. */
	total = bar0.size + 4 * PG;
	area = anon(total);
	ASSERT_NE(NULL, area);
	ASSERT_EQ(area + 2 * PG, mmap(area + 2 * PG, bar0.size, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_FIXED, fd, bar0.offset));
	base = vfio_rs_vmlck_kb(0);

	/* The BAR alone: mapped, not counted. */
	ASSERT_EQ(0, dma_map(self->container, area + 2 * PG, IOVA, bar0.size, RW));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_TRUE(is_mapped(self->container, area, IOVA + bar0.size - PG));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, bar0.size, 0, &done));
	ASSERT_EQ(bar0.size, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));

	/* Mixed: only the four anonymous pages count, in and out. */
	ASSERT_EQ(0, dma_map(self->container, area, IOVA, total, RW));
	ASSERT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, IOVA, total, 0, &done));
	ASSERT_EQ(total, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));

	/* BAR then anonymous, with a failure after the BAR part: nothing stays. */
	ASSERT_EQ(0, munmap(area + total - PG, PG));
	ASSERT_EQ(-EFAULT, dma_map(self->container, area + 2 * PG, IOVA, bar0.size + 2 * PG, RW));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_FALSE(is_mapped(self->container, area, IOVA));

	/* A read-only BAR mapping: device reads are fine, device writes are EFAULT. */
	ro = mmap(NULL, bar0.size, PROT_READ, MAP_SHARED, fd, bar0.offset);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(-EFAULT, dma_map(self->container, ro, IOVA, bar0.size, RW));
	ASSERT_FALSE(is_mapped(self->container, area, IOVA));
	ASSERT_EQ(0, dma_map(self->container, ro, IOVA, bar0.size, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	/* BAR frames and pages unmapped together: only the pages are given back. */
	ASSERT_EQ(0, dma_map(self->container, area, IOVA + bar0.size, 2 * PG, RW));
	ASSERT_EQ(base + KB(2 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	ASSERT_EQ(bar0.size + 2 * PG, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(ro, bar0.size);
	munmap(area, total - PG);
	close(fd);
}

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
/* edu's DMA engine: BAR0 registers, its 4 KiB buffer's device address, 28-bit DMA. */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUF 0x40000
#define EDU_IOVA 0x100000ULL

/* An edu device fd from its group, with its BAR0 offset. */
struct edu {
	int fd;
	__u64 bar0;
};

static int edu_reg(struct edu *e, __u64 reg, __u32 *val, int write)
{
	ssize_t n = write ? pwrite(e->fd, val, 4, e->bar0 + reg) : pread(e->fd, val, 4, e->bar0 + reg);

	return n == 4 ? 0 : -EIO;
}

/*
 * One transfer of edu's DMA engine between IOVA iova and its buffer (to_ram:
 * buffer to memory), waited for; 0, or -errno.
 */
static int edu_dma(struct edu *e, __u64 iova, __u32 count, int to_ram)
{
	__u32 src = to_ram ? EDU_BUF : iova, dst = to_ram ? iova : EDU_BUF;
	__u32 cmd = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0);
	int i;

	if (edu_reg(e, EDU_DMA_SRC, &src, 1) || edu_reg(e, EDU_DMA_DST, &dst, 1) ||
	    edu_reg(e, EDU_DMA_CNT, &count, 1) || edu_reg(e, EDU_DMA_CMD, &cmd, 1))
		return -EIO;
	/* QEMU runs it from a 100 ms timer. */
	for (i = 0; i < 300; i++) {
		usleep(10000);
		if (edu_reg(e, EDU_DMA_CMD, &cmd, 0))
			return -EIO;
		if (!(cmd & EDU_DMA_RUN))
			return 0;
	}
	return -ETIMEDOUT;
}

/* Memory to edu's buffer and back to dst: what the device read through the IOMMU. */
static int edu_copy(struct edu *e, __u64 src, __u64 dst, __u32 count)
{
	int ret = edu_dma(e, src, count, 0);

	return ret ? ret : edu_dma(e, dst, count, 1);
}

/* Opens edu's device fd and enables its bus mastering; 0 or -errno. */
static int edu_open(int group, const char *bdf, struct edu *e)
{
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	__u16 cmd;

	e->fd = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)bdf);
	if (e->fd < 0)
		return e->fd;
	if (vfio_rs_ioctl(e->fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&bar0) ||
	    vfio_rs_ioctl(e->fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&cfg))
		return -EIO;
	e->bar0 = bar0.offset;
	if (pread(e->fd, &cmd, 2, cfg.offset + 4) != 2)
		return -EIO;
	cmd |= 0x6; /* PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER */
	if (pwrite(e->fd, &cmd, 2, cfg.offset + 4) != 2)
		return -EIO;
	return 0;
}

/*
 * Two IOMMU groups in one container (the igb's and edu's: same IOMMU, so one
 * domain): a mapping is pinned and charged once; when the igb's group leaves,
 * the mapping stays usable by edu (its DMA engine copies through it) and the
 * charge is unchanged; unmapping gives it all back.
 */
TEST_F(t1, two_groups_share_mappings)
{
	char edu_bdf[32], edu_path[64];
	struct edu e = { .fd = -1 };
	int edu_group, i;
	long base;
	__u64 done;
	char *mem;

	if (vfio_rs_find_pci(EDU_VENDOR, EDU_DEVICE, edu_bdf, sizeof(edu_bdf)))
		SKIP(return, "no edu in this guest");
	ASSERT_EQ(0, vfio_rs_bind_vfio_pci(edu_bdf));
	snprintf(edu_path, sizeof(edu_path), "/dev/vfio/%d", vfio_rs_iommu_group(edu_bdf));
	edu_group = open(edu_path, O_RDWR);
	ASSERT_GE(edu_group, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(edu_group, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	ASSERT_EQ(0, edu_open(edu_group, edu_bdf, &e));

	base = vfio_rs_vmlck_kb(0);
	mem = anon(4 * PG);
	ASSERT_NE(NULL, mem);
	for (i = 0; i < 64; i++)
		mem[i] = i + 1;
	ASSERT_EQ(0, dma_map(self->container, mem, EDU_IOVA, 4 * PG, RW));
	EXPECT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, edu_copy(&e, EDU_IOVA, EDU_IOVA + PG, 64));
	EXPECT_EQ(0, memcmp(mem, mem + PG, 64));

	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	EXPECT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
	for (i = 0; i < 64; i++)
		mem[i] = 0xa0 ^ i;
	ASSERT_EQ(0, edu_copy(&e, EDU_IOVA, EDU_IOVA + 2 * PG, 64));
	EXPECT_EQ(0, memcmp(mem, mem + 2 * PG, 64));

	ASSERT_EQ(0, dma_unmap(self->container, EDU_IOVA, 4 * PG, 0, &done));
	EXPECT_EQ(4 * PG, done);
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	close(e.fd);
	close(edu_group);
	vfio_rs_unbind(edu_bdf);
	munmap(mem, 4 * PG);
}

/*
 * Folio pinning (shared shmem and hugetlbfs mappings, pinned through their
 * file): what upstream's GUP path gives, checked through edu's DMA engine, the
 * locked-memory charge and the huge page pool (a pin left behind keeps a huge
 * page from going back to it).
 */
#define HPAGE (2ULL << 20)
/* 2 MiB aligned, below edu's 28-bit DMA limit. */
#define FIOVA 0x1000000ULL
#define HP_FREE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define NR_HP "/proc/sys/vm/nr_hugepages"
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4U
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

static long read_long(const char *path)
{
	char buf[32];

	return vfio_rs_read_file(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

/* At least n free 2 MiB huge pages, reserving more if need be; the free count. */
static long hugepages_free(long n)
{
	long free = read_long(HP_FREE);
	char val[32];

	if (free >= 0 && free < n) {
		snprintf(val, sizeof(val), "%ld", read_long(NR_HP) + n - free);
		vfio_rs_sysfs_write(NR_HP, val);
		free = read_long(HP_FREE);
	}
	return free;
}

/* A memfd (MFD_HUGETLB in flags for hugetlbfs) of size bytes, or -1. */
static int memfd(unsigned int flags, size_t size)
{
	int fd = syscall(SYS_memfd_create, "vfio_type1_test", flags);

	if (fd >= 0 && ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	return fd;
}

static char *map_at(void *at, size_t size, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(at, size, prot, flags | (at ? MAP_FIXED : 0), fd, off);

	return p == MAP_FAILED ? NULL : p;
}

/* size bytes of address space at a 2 MiB boundary with nothing mapped after them. */
static char *hole_2m(size_t size)
{
	char *area = map_at(NULL, size + 2 * HPAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *at;

	if (!area)
		return NULL;
	at = (char *)(((uintptr_t)area + HPAGE - 1) & ~(HPAGE - 1));
	munmap(area, size + 2 * HPAGE);
	return at;
}

/* edu's group joined to the container and its device opened; 0, or -errno. */
static int edu_join(int container, char *bdf, size_t len, int *group, struct edu *e)
{
	char path[64];

	*group = e->fd = -1;
	if (vfio_rs_find_pci(EDU_VENDOR, EDU_DEVICE, bdf, len))
		return -ENODEV;
	if (vfio_rs_bind_vfio_pci(bdf))
		return -EIO;
	snprintf(path, sizeof(path), "/dev/vfio/%d", vfio_rs_iommu_group(bdf));
	*group = open(path, O_RDWR);
	if (*group < 0)
		return -errno;
	if (vfio_rs_ioctl(*group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container))
		return -EIO;
	return edu_open(*group, bdf, e);
}

static void edu_leave(const char *bdf, int group, struct edu *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (group >= 0)
		close(group);
	vfio_rs_unbind(bdf);
}

#define EDU_JOIN()								\
	char edu_bdf[32];							\
	struct edu e;								\
	int edu_group;								\
	if (vfio_rs_find_pci(EDU_VENDOR, EDU_DEVICE, edu_bdf, sizeof(edu_bdf)))	\
		SKIP(return, "no edu in this guest");				\
	ASSERT_EQ(0, edu_join(self->container, edu_bdf, sizeof(edu_bdf), &edu_group, &e))

#define EDU_LEAVE() edu_leave(edu_bdf, edu_group, &e)

/* Fills n bytes with a pattern of seed. */
static void fill(char *p, size_t n, int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(seed + i * 7);
}

/* edu copies n bytes from IOVA src to IOVA dst; 0 if dst (in the process) then equals want. */
static int dev_copy_check(struct edu *e, __u64 src, __u64 dst, const char *want, char *got, int n)
{
	int ret = edu_copy(e, src, dst, n);

	if (ret)
		return ret;
	return memcmp(want, got, n) ? -EILSEQ : 0;
}

/*
 * MAP_SHARED memory of shmem (memfd, MAP_SHARED | MAP_ANONYMOUS) and hugetlbfs
 * (memfd MFD_HUGETLB, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB), mostly never
 * touched: mapped and charged page by page, the device reads what the process
 * wrote and its writes land in the file's page cache (read back with pread()),
 * also in pages the process never touched; a read-only mapping maps read-only
 * but not writable (EFAULT), as a mapping past the end of its file; nothing
 * is left pinned.
 */
TEST_F(t1, folio_shared_shmem_and_hugetlb)
{
	const size_t size = 2 * HPAGE, src = PG, dst = HPAGE + HPAGE / 2 + 2 * PG;
	const int kinds[4][2] = {
		{ 0, 1 }, { MFD_HUGETLB, 1 }, { 0, 0 }, { MAP_HUGETLB, 0 },
	};
	long base = vfio_rs_vmlck_kb(0), free;
	char want[256], got[256];
	int k, fd;
	__u64 done;
	char *mem;

	free = hugepages_free(4);
	ASSERT_GE(free, 4);
	EDU_JOIN();
	for (k = 0; k < 4; k++) {
		int flags = kinds[k][0], is_memfd = kinds[k][1];

		fd = is_memfd ? memfd(flags, size) : -1;
		ASSERT_TRUE(!is_memfd || fd >= 0) TH_LOG("kind %d", k);
		mem = map_at(NULL, size, PROT_READ | PROT_WRITE,
			     MAP_SHARED | (is_memfd ? 0 : MAP_ANONYMOUS | flags), fd, 0);
		ASSERT_NE(NULL, mem) TH_LOG("kind %d", k);
		fill(want, sizeof(want), k);
		memcpy(mem + src, want, sizeof(want));
		ASSERT_EQ(0, dma_map(self->container, mem, FIOVA, size, RW)) TH_LOG("kind %d", k);
		ASSERT_EQ(base + KB(size), vfio_rs_vmlck_kb(0)) TH_LOG("kind %d", k);
		EXPECT_EQ(0, dev_copy_check(&e, FIOVA + src, FIOVA + dst, want, mem + dst,
					    sizeof(want))) TH_LOG("kind %d", k);
		if (is_memfd) {
			ASSERT_EQ(sizeof(got), pread(fd, got, sizeof(got), dst));
			EXPECT_EQ(0, memcmp(want, got, sizeof(got))) TH_LOG("kind %d", k);
		}
		ASSERT_EQ(0, dma_unmap(self->container, FIOVA, size, 0, &done));
		ASSERT_EQ(size, done);
		ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
		if (is_memfd) {
			/* Read-only: a read-only map is fine, a writable one is not. */
			ASSERT_EQ(0, munmap(mem, size));
			mem = map_at(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
			ASSERT_NE(NULL, mem);
			EXPECT_EQ(-EFAULT, dma_map(self->container, mem, FIOVA, size, RW));
			EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
			ASSERT_EQ(0, dma_map(self->container, mem, FIOVA, size,
					     VFIO_DMA_MAP_FLAG_READ));
			EXPECT_EQ(base + KB(size), vfio_rs_vmlck_kb(0));
			ASSERT_EQ(0, dma_unmap(self->container, FIOVA, size, 0, &done));
			ASSERT_EQ(size, done);
			close(fd);
		}
		ASSERT_EQ(0, munmap(mem, size));
		EXPECT_EQ(free, read_long(HP_FREE)) TH_LOG("kind %d", k);
	}
	/* A shared mapping past the end of its shmem file: EFAULT, nothing left. */
	fd = memfd(0, 4 * PG);
	ASSERT_GE(fd, 0);
	mem = map_at(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(NULL, mem);
	EXPECT_EQ(-EFAULT, dma_map(self->container, mem, FIOVA, 8 * PG, RW));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_FALSE(is_mapped(self->container, mem, FIOVA));
	ASSERT_EQ(0, dma_map(self->container, mem, FIOVA, 4 * PG, RW));
	EXPECT_EQ(base + KB(4 * PG), vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, dma_unmap(self->container, FIOVA, 4 * PG, 0, &done));
	ASSERT_EQ(4 * PG, done);
	munmap(mem, 8 * PG);
	close(fd);
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EDU_LEAVE();
}

/* In a child without CAP_IPC_LOCK, RLIMIT_MEMLOCK 256 pages above what is locked. */
static int folio_rlimit_child(int container, char *mem)
{
	long base = vfio_rs_vmlck_kb(0);
	struct rlimit rl;

	if (base < 0 || drop_cap_ipc_lock())
		return 10;
	rl.rlim_cur = rl.rlim_max = (base << 10) + 256 * PG;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 11;
	if (dma_map(container, mem + PG, FIOVA, HPAGE, RW) != -ENOMEM)
		return 20;
	if (vfio_rs_vmlck_kb(0) != base || is_mapped(container, mem, FIOVA))
		return 21;
	if (dma_map(container, mem + 3 * PG, FIOVA, 256 * PG, RW))
		return 22;
	if (dma_map(container, mem + 259 * PG, FIOVA + 256 * PG, PG, RW) != -ENOMEM)
		return 23;
	if (vfio_rs_vmlck_kb(0) != base + KB(256 * PG))
		return 24;
	if (dma_unmap(container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL))
		return 25;
	return vfio_rs_vmlck_kb(0) == base ? 0 : 26;
}

/*
 * hugetlbfs ranges that do not start or end on a huge page: a VMA at file
 * offset 2 MiB, a DMA mapping starting 1 MiB + 4 KiB into its first huge page
 * and ending inside its second (the device copies between them, read back
 * through the file), a range running past the VMA into nothing (EFAULT,
 * nothing left), RLIMIT_MEMLOCK hit inside a huge page (ENOMEM at the same
 * page).
 */
TEST_F(t1, folio_hugetlb_misaligned_and_partial)
{
	const size_t len = HPAGE + 3 * PG, src = HPAGE / 2 + PG, dst = HPAGE + HPAGE / 2;
	long base = vfio_rs_vmlck_kb(0), free;
	char want[128], got[128];
	char *at, *mem, *anonbuf;
	int fd, status;
	__u64 done;
	pid_t pid;

	free = hugepages_free(4);
	ASSERT_GE(free, 4);
	EDU_JOIN();
	fd = memfd(MFD_HUGETLB, 4 * HPAGE);
	ASSERT_GE(fd, 0);
	at = hole_2m(2 * HPAGE);
	ASSERT_NE(NULL, at);
	mem = map_at(at, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HPAGE);
	ASSERT_EQ(at, mem);
	fill(want, sizeof(want), 3);
	memcpy(mem + src, want, sizeof(want));
	/* From 1 MiB + 4 KiB into the first huge page to 1 MiB + 12 KiB into the second. */
	ASSERT_EQ(0, dma_map(self->container, mem + HPAGE / 2 + PG, FIOVA, len, RW));
	ASSERT_EQ(base + KB(len), vfio_rs_vmlck_kb(0));
	EXPECT_EQ(0, dev_copy_check(&e, FIOVA, FIOVA + dst - (HPAGE / 2 + PG), want, mem + dst,
				    sizeof(want)));
	ASSERT_EQ(sizeof(got), pread(fd, got, sizeof(got), HPAGE + dst));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	ASSERT_EQ(0, dma_unmap(self->container, FIOVA, len, 0, &done));
	ASSERT_EQ(len, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));

	/* Past the VMA's end into unmapped space. */
	ASSERT_EQ(-EFAULT, dma_map(self->container, mem + HPAGE + PG, FIOVA, 2 * HPAGE, RW));
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	anonbuf = anon(PG);
	ASSERT_NE(NULL, anonbuf);
	ASSERT_FALSE(is_mapped(self->container, anonbuf, FIOVA));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(folio_rlimit_child(self->container, mem));
	status = child_status(pid);
	EXPECT_EQ(0, status);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));

	ASSERT_EQ(0, munmap(mem, 2 * HPAGE));
	close(fd);
	munmap(anonbuf, PG);
	EXPECT_EQ(free, read_long(HP_FREE));
	EDU_LEAVE();
}

/*
 * Unmapping part of what one huge page backs: three mappings in one folio.
 * v1 unmaps whole mappings (nothing from inside one, all of one from its first
 * page); v2 refuses a range bisecting one. The pages of the other mappings
 * stay pinned and mapped (the device copies between them), and when all are
 * unmapped the huge page goes back to the pool.
 */
TEST_F(t1, folio_partial_unmap)
{
	const size_t a = HPAGE / 4, b = HPAGE / 4;
	long base = vfio_rs_vmlck_kb(0), free;
	char want[64];
	__u64 done;
	char *mem;
	int fd;

	free = hugepages_free(2);
	ASSERT_GE(free, 2);
	EDU_JOIN();
	fd = memfd(MFD_HUGETLB, HPAGE);
	ASSERT_GE(fd, 0);
	mem = map_at(NULL, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(NULL, mem);
	/* A = [0, 512K), B = [512K, 1M), C = [1M, 2M), at the same offsets from FIOVA. */
	ASSERT_EQ(0, dma_map(self->container, mem, FIOVA, a, RW));
	ASSERT_EQ(0, dma_map(self->container, mem + a, FIOVA + a, b, RW));
	ASSERT_EQ(0, dma_map(self->container, mem + a + b, FIOVA + a + b, HPAGE - a - b, RW));
	ASSERT_EQ(base + KB(HPAGE), vfio_rs_vmlck_kb(0));
	if (variant->v2) {
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, FIOVA + a, PG, 0, NULL));
		ASSERT_EQ(-EINVAL, dma_unmap(self->container, FIOVA + a + PG, b, 0, NULL));
		ASSERT_EQ(base + KB(HPAGE), vfio_rs_vmlck_kb(0));
		ASSERT_EQ(0, dma_unmap(self->container, FIOVA + a, b, 0, &done));
	} else {
		ASSERT_EQ(0, dma_unmap(self->container, FIOVA + a + PG, PG, 0, &done));
		ASSERT_EQ(0, done);
		ASSERT_EQ(base + KB(HPAGE), vfio_rs_vmlck_kb(0));
		ASSERT_EQ(0, dma_unmap(self->container, FIOVA + a, PG, 0, &done));
	}
	ASSERT_EQ(b, done);
	ASSERT_EQ(base + KB(HPAGE - b), vfio_rs_vmlck_kb(0));
	ASSERT_FALSE(is_mapped(self->container, mem, FIOVA + a));
	/* A and C still reach the huge page. */
	fill(want, sizeof(want), 5);
	memcpy(mem + a - sizeof(want), want, sizeof(want));
	EXPECT_EQ(0, dev_copy_check(&e, FIOVA + a - sizeof(want), FIOVA + a + b + PG, want,
				    mem + a + b + PG, sizeof(want)));
	/* B's pages are unpinned but still the process's memory. */
	mem[a] = 1;
	ASSERT_EQ(0, dma_unmap(self->container, FIOVA, HPAGE, 0, &done));
	ASSERT_EQ(HPAGE - b, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, munmap(mem, HPAGE));
	close(fd);
	EXPECT_EQ(free, read_long(HP_FREE));
	EDU_LEAVE();
}

/*
 * One DMA mapping over three VMAs: a shared hugetlbfs one (from its second
 * half), anonymous memory, a shared hugetlbfs one again (its first half); each
 * part pinned its own way, all of it charged, and the device copies across the
 * boundaries.
 */
TEST_F(t1, folio_mixed_hugetlb_and_anonymous)
{
	const size_t size = 4 * HPAGE, from = HPAGE / 2, len = 3 * HPAGE;
	long base = vfio_rs_vmlck_kb(0), free;
	char want[128];
	char *at;
	__u64 done;
	int fd;

	free = hugepages_free(2);
	ASSERT_GE(free, 2);
	EDU_JOIN();
	fd = memfd(MFD_HUGETLB, 2 * HPAGE);
	ASSERT_GE(fd, 0);
	at = hole_2m(size);
	ASSERT_NE(NULL, at);
	ASSERT_EQ(at, map_at(at, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	ASSERT_EQ(at + HPAGE, map_at(at + HPAGE, 2 * HPAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	ASSERT_EQ(at + 3 * HPAGE, map_at(at + 3 * HPAGE, HPAGE, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, HPAGE));
	fill(want, sizeof(want), 9);
	memcpy(at + HPAGE - 64, want, sizeof(want));
	ASSERT_EQ(0, dma_map(self->container, at + from, FIOVA, len, RW));
	ASSERT_EQ(base + KB(len), vfio_rs_vmlck_kb(0));
	/* hugetlb + anonymous -> anonymous + hugetlb. */
	EXPECT_EQ(0, dev_copy_check(&e, FIOVA + HPAGE - 64 - from, FIOVA + 3 * HPAGE - 64 - from,
				    want, at + 3 * HPAGE - 64, sizeof(want)));
	ASSERT_EQ(0, dma_unmap(self->container, FIOVA, len, 0, &done));
	ASSERT_EQ(len, done);
	ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, munmap(at, size));
	close(fd);
	EXPECT_EQ(free, read_long(HP_FREE));
	EDU_LEAVE();
}

/*
 * MAP_PRIVATE mappings of a shmem or hugetlbfs memfd, and private anonymous
 * hugetlb: the process's private copies are pinned (GUP breaks COW), never the
 * file's pages. The device copies private data; the file keeps its own.
 */
TEST_F(t1, folio_private_mappings_pin_private_copies)
{
	const int kinds[3] = { 0, MFD_HUGETLB, MAP_HUGETLB };
	long base = vfio_rs_vmlck_kb(0), free;
	char want[64], file[64];
	char *priv, *shared;
	__u64 done;
	int k, fd;

	free = hugepages_free(4);
	ASSERT_GE(free, 4);
	EDU_JOIN();
	for (k = 0; k < 3; k++) {
		fd = k < 2 ? memfd(kinds[k], HPAGE) : -1;
		ASSERT_TRUE(k == 2 || fd >= 0);
		shared = NULL;
		if (fd >= 0) {
			shared = map_at(NULL, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			ASSERT_NE(NULL, shared);
			fill(file, sizeof(file), 40 + k);
			memcpy(shared, file, sizeof(file));
		}
		priv = map_at(NULL, HPAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | (fd >= 0 ? 0 : MAP_ANONYMOUS | MAP_HUGETLB), fd, 0);
		ASSERT_NE(NULL, priv);
		fill(want, sizeof(want), 20 + k);
		memcpy(priv, want, sizeof(want));
		ASSERT_EQ(0, dma_map(self->container, priv, FIOVA, HPAGE, RW)) TH_LOG("kind %d", k);
		ASSERT_EQ(base + KB(HPAGE), vfio_rs_vmlck_kb(0));
		EXPECT_EQ(0, dev_copy_check(&e, FIOVA, FIOVA + 2 * PG, want, priv + 2 * PG,
					    sizeof(want))) TH_LOG("kind %d", k);
		if (shared) {
			/* The file's pages saw nothing of it. */
			EXPECT_EQ(0, memcmp(shared, file, sizeof(file))) TH_LOG("kind %d", k);
			EXPECT_NE(0, memcmp(shared + 2 * PG, want, sizeof(want)));
		}
		ASSERT_EQ(0, dma_unmap(self->container, FIOVA, HPAGE, 0, &done));
		ASSERT_EQ(HPAGE, done);
		ASSERT_EQ(base, vfio_rs_vmlck_kb(0));
		ASSERT_EQ(0, munmap(priv, HPAGE));
		if (shared)
			ASSERT_EQ(0, munmap(shared, HPAGE));
		if (fd >= 0)
			close(fd);
		EXPECT_EQ(free, read_long(HP_FREE)) TH_LOG("kind %d", k);
	}
	EDU_LEAVE();
}

TEST_HARNESS_MAIN
