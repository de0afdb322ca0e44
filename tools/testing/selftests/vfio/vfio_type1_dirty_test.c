// SPDX-License-Identifier: GPL-2.0
/*
 * Type1 dirty page tracking and emulated-IOMMU pinning, on whichever
 * vfio_iommu_type1 is loaded: the MIGRATION capability of GET_INFO,
 * VFIO_IOMMU_DIRTY_PAGES argument errors, bitmaps with an IOMMU-backed group
 * (the igb on vfio-pci: every mapped page dirty) and with only an emulated
 * device (samples/vfio-rs-sample: only what it pinned or wrote through
 * vfio_dma_rw), UNMAP_DMA with GET_DIRTY_BITMAP, the locked-memory charge
 * of pages the device pins (VmLck), with and without an IOMMU domain, device
 * pins of VM_PFNMAP frames (/dev/mem, a BAR), and the replay of mappings made
 * with only the emulated group when the igb's group joins (and its unwind).
 *
 * Pins are dropped before unmapping except in unmap_notifies_pinned_device:
 * upstream 7.3's type1 calls dma_unmap holding device_list_lock, and the
 * sample unpins from there (iommu->lock), the inverse of register_device's
 * order, which lockdep reports; that test runs on our type1 only.
 */
#include <limits.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
#define PG 4096UL
#define IOVA 0x100000UL
#define DBG "/sys/kernel/debug/vfio-rs-sample"

/* The sample's private DMA ioctl (samples/vfio-rs-sample). */
struct sample_dma {
	__u32 argsz, op;
	__u64 iova, len, buf;
};
#define SAMPLE_DMA _IO(VFIO_TYPE, VFIO_BASE + 60)
enum { DMA_READ, DMA_WRITE, DMA_PIN, DMA_UNPIN };

static long sample_dma(int fd, __u32 op, __u64 iova, __u64 len, void *buf)
{
	struct sample_dma a = { .argsz = sizeof(a), .op = op, .iova = iova, .len = len,
				.buf = (unsigned long)buf };

	return vfio_rs_ioctl(fd, SAMPLE_DMA, (unsigned long)&a);
}

/* dma_unmap calls the sample saw on device 0, or -1. */
static int sample_dma_unmaps(void)
{
	unsigned int o, c, b, s, u;
	FILE *f = fopen(DBG "/dev0", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "opens=%u closes=%u bad=%u set_open=%u dma_unmaps=%u", &o, &c, &b, &s, &u);
	fclose(f);
	return n == 5 ? (int)u : -1;
}

static int dirty_ctl(int container, __u32 flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d), .flags = flags };

	return vfio_rs_ioctl(container, VFIO_IOMMU_DIRTY_PAGES, (unsigned long)&d);
}

/* VFIO_IOMMU_DIRTY_PAGES GET_BITMAP with every field given. */
static int get_bitmap_raw(int container, __u32 argsz, __u64 iova, __u64 size, __u64 pgsize,
			  __u64 bsize, void *data)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get r;
	} a = {
		.d = { .argsz = argsz, .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP },
		.r = { .iova = iova, .size = size,
		       .bitmap = { .pgsize = pgsize, .size = bsize, .data = data } },
	};

	return vfio_rs_ioctl(container, VFIO_IOMMU_DIRTY_PAGES, (unsigned long)&a);
}

/*
 * The dirty bits of [iova, iova + npages pages) in *bits (at most 64 pages),
 * zeroed first as QEMU does: the kernel ORs into the word a mapping shares
 * with the one before it.
 */
static int get_bitmap(int container, __u64 iova, unsigned int npages, __u64 *bits)
{
	*bits = 0;
	return get_bitmap_raw(container, sizeof(struct vfio_iommu_type1_dirty_bitmap) +
				  sizeof(struct vfio_iommu_type1_dirty_bitmap_get),
			      iova, npages * PG, PG, sizeof(*bits), bits);
}

static int map(int container, void *mem, __u64 iova, __u64 size)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (unsigned long)mem, .iova = iova, .size = size };

	return vfio_rs_ioctl(container, VFIO_IOMMU_MAP_DMA, (unsigned long)&m);
}

/* UNMAP_DMA of [iova, iova + size); with bits, GET_DIRTY_BITMAP into *bits. */
static int unmap(int container, __u64 iova, __u64 size, __u64 *bits, __u64 *unmapped)
{
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} a = {
		.u = { .argsz = sizeof(a.u), .iova = iova, .size = size },
	};
	int ret;

	if (bits) {
		*bits = 0;
		a.u.argsz = sizeof(a);
		a.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
		a.b.pgsize = PG;
		a.b.size = sizeof(*bits);
		a.b.data = bits;
	}
	ret = vfio_rs_ioctl(container, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&a);
	if (unmapped)
		*unmapped = a.u.size;
	return ret;
}

static void *anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, size); /* populated: pins need no fault */
	return p;
}

/* Opens the igb's group after binding it to vfio-pci; -1 (and a reason) if there is none. */
static int open_igb_group(char *bdf, size_t len, const char **why)
{
	char path[64];
	int id;

	if (vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, bdf, len)) {
		*why = "no igb in this guest";
		return -1;
	}
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
		*why = "vfio-pci is not loaded";
		return -1;
	}
	id = vfio_rs_iommu_group(bdf);
	if (id < 0 || vfio_rs_bind_vfio_pci(bdf)) {
		*why = "cannot bind the igb to vfio-pci";
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	return open(path, O_RDWR);
}

/* Container with the igb's group: an IOMMU-backed group that does not pin. */
FIXTURE(igb) {
	char bdf[32];
	int group, container;
};

FIXTURE_SETUP(igb)
{
	const char *why = NULL;

	self->container = -1;
	self->group = open_igb_group(self->bdf, sizeof(self->bdf), &why);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_GE(self->group, 0);
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(self->container, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
}

FIXTURE_TEARDOWN(igb)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->bdf[0])
		vfio_rs_unbind(self->bdf);
}

/* GET_INFO: MIGRATION first, then DMA_AVAIL and IOVA_RANGE, as upstream builds them. */
TEST_F(igb, migration_capability)
{
	union {
		struct vfio_iommu_type1_info info;
		char buf[4096];
	} u = { .info = { .argsz = sizeof(u) } };
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_info_cap_header *h;
	__u16 ids[8];
	int n = 0;

	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_GET_INFO, (unsigned long)&u));
	ASSERT_TRUE(u.info.flags & VFIO_IOMMU_INFO_CAPS);
	ASSERT_TRUE(u.info.flags & VFIO_IOMMU_INFO_PGSIZES);
	ASSERT_EQ(sizeof(u.info), u.info.cap_offset);
	for (__u32 off = u.info.cap_offset; off && n < 8; off = h->next) {
		ASSERT_LT(off, sizeof(u.buf));
		h = (void *)(u.buf + off);
		ids[n++] = h->id;
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION)
			mig = (void *)h;
	}
	ASSERT_EQ(3, n);
	EXPECT_EQ(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, ids[0]);
	EXPECT_EQ(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, ids[1]);
	EXPECT_EQ(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, ids[2]);
	mig = (void *)(u.buf + u.info.cap_offset);
	EXPECT_EQ(1, mig->header.version);
	EXPECT_EQ(0, mig->flags);
	/* The smallest IOMMU page size: the lowest bit of iova_pgsizes. */
	EXPECT_EQ(u.info.iova_pgsizes & -u.info.iova_pgsizes, mig->pgsize_bitmap);
	EXPECT_EQ(PG, mig->pgsize_bitmap);
	/* 2^31 pages of bits. */
	EXPECT_EQ(1ULL << 28, mig->max_dirty_bitmap_size);
}

/* DIRTY_PAGES is refused on a v1 container. */
TEST_F(igb, v1_refuses_dirty_pages)
{
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(-EACCES, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	/* Before even reading the argument. */
	EXPECT_EQ(-EACCES, vfio_rs_ioctl(self->container, VFIO_IOMMU_DIRTY_PAGES, 8));
}

TEST_F(igb, dirty_pages_argument_errors)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = 7,
		.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START };
	const __u32 full = sizeof(struct vfio_iommu_type1_dirty_bitmap) +
			   sizeof(struct vfio_iommu_type1_dirty_bitmap_get);
	__u64 bits[2];
	void *mem;

	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	mem = anon(4 * PG);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, map(self->container, mem, IOVA, 4 * PG));

	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->container, VFIO_IOMMU_DIRTY_PAGES, 8));
	EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_DIRTY_PAGES,
					 (unsigned long)&d));
	EXPECT_EQ(-EINVAL, dirty_ctl(self->container, 0));
	EXPECT_EQ(-EINVAL, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
							  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	EXPECT_EQ(-EINVAL, dirty_ctl(self->container, 1 << 3));
	/* Not tracking yet. */
	EXPECT_EQ(-EINVAL, get_bitmap(self->container, IOVA, 4, bits));
	EXPECT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));

	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	EXPECT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	/* GET_BITMAP needs its range struct in argsz. */
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, 8, IOVA, 4 * PG, PG, 8, bits));
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full - 1, IOVA, 4 * PG, PG, 8, bits));
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA, 0, PG, 8, bits));
	EXPECT_EQ(-EOVERFLOW, get_bitmap_raw(self->container, full, ~0ULL - PG + 1, 2 * PG, PG,
					     8, bits));
	/* A kernel address for the bitmap fails access_ok. */
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA, 4 * PG, PG, 8,
					  (void *)0xffff888000000000UL));
	/* Bitmap size: zero, or too small for the pages. */
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA, 4 * PG, PG, 0, bits));
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA, 65 * PG, PG, 8, bits));
	/* Page size other than the smallest IOMMU page; misaligned range. */
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA, 4 * PG, 2 * PG, 8, bits));
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA + 1, 4 * PG, PG, 8, bits));
	EXPECT_EQ(-EINVAL, get_bitmap_raw(self->container, full, IOVA, 4 * PG + 1, PG, 8, bits));
	/* The range must not cut a mapping. */
	EXPECT_EQ(-EINVAL, get_bitmap(self->container, IOVA + PG, 3, bits));
	EXPECT_EQ(-EINVAL, get_bitmap(self->container, IOVA, 3, bits));
	/* An unwritable bitmap. */
	EXPECT_EQ(-EFAULT, get_bitmap_raw(self->container, full, IOVA, 4 * PG, PG, 8,
					  (void *)PG));
	/* Unmap with a bitmap: only while tracking, only with the smallest page size. */
	{
		struct {
			struct vfio_iommu_type1_dma_unmap u;
			struct vfio_bitmap b;
		} a = {
			.u = { .argsz = sizeof(a), .iova = IOVA, .size = 4 * PG,
			       .flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP },
			.b = { .pgsize = 2 * PG, .size = 8, .data = bits },
		};

		EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA,
						 (unsigned long)&a));
		a.b.pgsize = PG;
		a.u.flags |= VFIO_DMA_UNMAP_FLAG_ALL;
		EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA,
						 (unsigned long)&a));
		a.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
		a.b.size = 0;
		EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA,
						 (unsigned long)&a));
		a.b.size = 8;
		a.u.argsz = sizeof(a.u);
		EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA,
						 (unsigned long)&a));
		ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
		a.u.argsz = sizeof(a);
		EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA,
						 (unsigned long)&a));
	}
	EXPECT_EQ(-EINVAL, get_bitmap(self->container, IOVA, 4, bits));
	EXPECT_EQ(0, unmap(self->container, IOVA, 4 * PG, NULL, NULL));
	munmap(mem, 4 * PG);
}

/* A group that can DMA anywhere makes every mapped page dirty, at every report. */
TEST_F(igb, iommu_group_dirties_everything)
{
	__u64 bits, unmapped;
	void *mem;

	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	mem = anon(16 * PG);
	ASSERT_NE(NULL, mem);
	/* One mapping made before tracking starts, one after. */
	ASSERT_EQ(0, map(self->container, mem, IOVA, 4 * PG));
	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, map(self->container, mem + 4 * PG, IOVA + 4 * PG, 3 * PG));

	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 4, &bits));
	EXPECT_EQ(0xfULL, bits);
	/* Both mappings: the second one's bits are shifted in behind the first's. */
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 7, &bits));
	EXPECT_EQ(0x7fULL, bits);
	/*
	 * Only the second mapping, and a range with holes around it. Upstream
	 * quirk, matched: a report that shifted a mapping's bits (its first page
	 * is not at a word boundary of the user bitmap) leaves the shifted copy,
	 * ORed with the whole user word it shared (bitmap_or() of a run-time
	 * length ORs whole words), in the mapping's bitmap above its own bits;
	 * only the mapping's own bits are cleared after a report. Later reports
	 * copy those stale bits out past the mapping's last page.
	 */
	ASSERT_EQ(0, get_bitmap(self->container, IOVA + 4 * PG, 3, &bits));
	EXPECT_EQ(0x7ULL, bits & 0x7);
	EXPECT_EQ(0x7fULL, bits); /* stale: the first mapping's 0xf and the shifted 0x70 */
	ASSERT_EQ(0, get_bitmap(self->container, IOVA - 2 * PG, 12, &bits));
	EXPECT_EQ(0x1fcULL, bits & 0x1ff); /* holes before: clean */
	EXPECT_EQ(0x1ffcULL, bits); /* stale bits past the second mapping */

	ASSERT_EQ(0, unmap(self->container, IOVA, 4 * PG, &bits, &unmapped));
	EXPECT_EQ(4 * PG, unmapped);
	EXPECT_EQ(0xfULL, bits & 0xf);
	EXPECT_EQ(0x3fULL, bits); /* stale: its shift by 2 in the report above */
	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	EXPECT_EQ(-EINVAL, get_bitmap(self->container, IOVA + 4 * PG, 3, &bits));
	EXPECT_EQ(0, unmap(self->container, IOVA + 4 * PG, 3 * PG, NULL, NULL));
	munmap(mem, 16 * PG);
}

/* Container with the sample's emulated group and its device 0 open. */
FIXTURE(emu) {
	int container, group, dev;
	void *mem;
};

FIXTURE_SETUP(emu)
{
	int id;

	self->container = self->group = self->dev = -1;
	self->mem = NULL;
	ASSERT_EQ(0, vfio_rs_load_sample());
	id = vfio_rs_sysdev_iommu_group("/sys/bus/faux/devices/vfio-rs-sample.0");
	ASSERT_EQ(0, vfio_rs_group_in_container(id, VFIO_TYPE1v2_IOMMU, &self->group,
						&self->container));
	self->dev = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
				  (unsigned long)"vfio-rs-sample.0");
	ASSERT_GE(self->dev, 0);
	self->mem = anon(8 * PG);
	ASSERT_NE(NULL, self->mem);
}

FIXTURE_TEARDOWN(emu)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->mem)
		munmap(self->mem, 8 * PG);
	EXPECT_EQ(0, vfio_rs_sh("rmmod vfio_rs_sample"));
}

/* GET_INFO without any IOMMU domain: MIGRATION and DMA_AVAIL, no IOVA ranges. */
TEST_F(emu, migration_capability_without_domain)
{
	union {
		struct vfio_iommu_type1_info info;
		char buf[1024];
	} u = { .info = { .argsz = sizeof(u) } };
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_info_cap_header *h;

	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_GET_INFO, (unsigned long)&u));
	ASSERT_TRUE(u.info.flags & VFIO_IOMMU_INFO_CAPS);
	mig = (void *)(u.buf + u.info.cap_offset);
	ASSERT_EQ(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, mig->header.id);
	EXPECT_EQ(PG, mig->pgsize_bitmap);
	ASSERT_NE(0, mig->header.next);
	h = (void *)(u.buf + mig->header.next);
	EXPECT_EQ(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, h->id);
	EXPECT_EQ(0, h->next);
	/* A short argsz gets the size needed back, and no caps. */
	u.info.argsz = sizeof(u.info);
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_GET_INFO, (unsigned long)&u));
	EXPECT_LE(sizeof(u.info) + 32 + 12, u.info.argsz);
	EXPECT_GE(sizeof(u.info) + 32 + 16, u.info.argsz);
	EXPECT_EQ(0, u.info.cap_offset);
}

/* Only pages the device pinned or wrote are dirty. */
TEST_F(emu, only_pinned_and_written_pages_dirty)
{
	unsigned char buf[16], out[16];
	__u64 bits;

	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 8 * PG));
	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(0, bits);

	memset(buf, 0xc3, sizeof(buf));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_WRITE, IOVA + 2 * PG + 100, sizeof(buf), buf));
	EXPECT_EQ(0, memcmp((char *)self->mem + 2 * PG + 100, buf, sizeof(buf)));
	/* A read dirties nothing. */
	ASSERT_EQ(0, sample_dma(self->dev, DMA_READ, IOVA + 6 * PG, sizeof(out), out));
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(1ULL << 2, bits);
	/* Written pages are reported once. */
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(0, bits);
	/* A write across a page boundary dirties both pages. */
	ASSERT_EQ(0, sample_dma(self->dev, DMA_WRITE, IOVA + 4 * PG - 4, 8, buf));
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(3ULL << 3, bits);

	/* Pinned pages stay dirty while pinned, and once more after the unpin. */
	ASSERT_EQ(2, sample_dma(self->dev, DMA_PIN, IOVA + 5 * PG, 2, NULL));
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(3ULL << 5, bits);
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(3ULL << 5, bits);
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(3ULL << 5, bits);
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(0, bits);

	/* Pinned before tracking starts: START finds the pin. */
	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	ASSERT_EQ(1, sample_dma(self->dev, DMA_PIN, IOVA + PG, 1, NULL));
	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, get_bitmap(self->container, IOVA, 8, &bits));
	EXPECT_EQ(1ULL << 1, bits);
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(0, unmap(self->container, IOVA, 8 * PG, NULL, NULL));
}

/* UNMAP_DMA with GET_DIRTY_BITMAP reports each mapping's bits at its offset. */
TEST_F(emu, unmap_reports_dirty_bitmap)
{
	unsigned char buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	__u64 bits, unmapped;

	ASSERT_EQ(0, dirty_ctl(self->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	/* Mapped while tracking: each mapping gets its bitmap. */
	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 3 * PG));
	ASSERT_EQ(0, map(self->container, (char *)self->mem + 3 * PG, IOVA + 3 * PG, 5 * PG));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_WRITE, IOVA + PG, sizeof(buf), buf));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_WRITE, IOVA + 7 * PG, sizeof(buf), buf));
	ASSERT_EQ(0, unmap(self->container, IOVA, 8 * PG, &bits, &unmapped));
	EXPECT_EQ(8 * PG, unmapped);
	EXPECT_EQ((1ULL << 1) | (1ULL << 7), bits);
	/* Gone: nothing to write through. */
	EXPECT_GT(0, sample_dma(self->dev, DMA_WRITE, IOVA + PG, sizeof(buf), buf));
}

/* Without an IOMMU domain, mapping pins nothing; a device's pin is charged per page. */
TEST_F(emu, pins_charged_without_domain)
{
	long base = vfio_rs_vmlck_kb(0);

	ASSERT_LE(0, base);
	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 8 * PG));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(3, sample_dma(self->dev, DMA_PIN, IOVA + 2 * PG, 3, NULL));
	EXPECT_EQ(base + 12, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	/* Pinning outside any mapping fails. */
	EXPECT_EQ(-EINVAL, sample_dma(self->dev, DMA_PIN, IOVA + 8 * PG, 1, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(0, unmap(self->container, IOVA, 8 * PG, NULL, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
}

/*
 * A page pinned by the device before an IOMMU domain arrives is not charged
 * twice when the domain pins the mapping, and stays charged when the domain
 * goes while the pin remains.
 */
TEST_F(emu, pins_not_double_charged_with_domain)
{
	const char *why = NULL;
	char bdf[32] = "";
	long base = vfio_rs_vmlck_kb(0);
	int igb;

	ASSERT_LE(0, base);
	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 8 * PG));
	ASSERT_EQ(1, sample_dma(self->dev, DMA_PIN, IOVA + 3 * PG, 1, NULL));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));

	igb = open_igb_group(bdf, sizeof(bdf), &why);
	if (why) {
		sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL);
		SKIP(return, "%s", why);
	}
	ASSERT_GE(igb, 0);
	/* The domain pins all eight pages; the device's page was charged already. */
	ASSERT_EQ(0, vfio_rs_ioctl(igb, VFIO_GROUP_SET_CONTAINER, (unsigned long)&self->container));
	EXPECT_EQ(base + 32, vfio_rs_vmlck_kb(0));
	/* With a domain, a device's pin costs nothing more, nor does its unpin give back. */
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	ASSERT_EQ(2, sample_dma(self->dev, DMA_PIN, IOVA + 6 * PG, 2, NULL));
	EXPECT_EQ(base + 32, vfio_rs_vmlck_kb(0));
	/* The domain goes: only the device's two pages stay charged. */
	ASSERT_EQ(0, vfio_rs_ioctl(igb, VFIO_GROUP_UNSET_CONTAINER, 0));
	EXPECT_EQ(base + 8, vfio_rs_vmlck_kb(0));
	close(igb);
	vfio_rs_unbind(bdf);
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(0, unmap(self->container, IOVA, 8 * PG, NULL, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
}

/*
 * Unmapping a range with pinned pages asks the device to unpin (dma_unmap)
 * and then succeeds. Our type1 only: upstream 7.3's reports a lock inversion
 * here (see the top of this file), so a run of it would leave dmesg unclean.
 */
TEST_F(emu, unmap_notifies_pinned_device)
{
	__u64 unmapped;
	long base = vfio_rs_vmlck_kb(0);
	int before;

	if (!access("/sys/module/vfio_iommu_type1/version", F_OK))
		SKIP(return, "upstream type1 (lock inversion in vfio_notify_dma_unmap)");
	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 8 * PG));
	ASSERT_EQ(2, sample_dma(self->dev, DMA_PIN, IOVA + 4 * PG, 2, NULL));
	before = sample_dma_unmaps();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, unmap(self->container, IOVA, 8 * PG, NULL, &unmapped));
	EXPECT_EQ(8 * PG, unmapped);
	EXPECT_EQ(before + 1, sample_dma_unmaps());
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	/* The sample dropped its pin: a new one is allowed (and fails: nothing is mapped). */
	EXPECT_EQ(-EINVAL, sample_dma(self->dev, DMA_PIN, IOVA, 1, NULL));
}

/*
 * Maps size bytes of /dev/mem from phys, shared and writable, at addr
 * (MAP_FIXED); NULL if /dev/mem cannot be mapped there.
 */
static void *devmem_at(void *addr, off_t phys, size_t size)
{
	int fd = open("/dev/mem", O_RDWR);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, phys);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * The x86 BIOS area below 1 MiB: not System RAM, so STRICT_DEVMEM lets
 * /dev/mem map it, yet its frames have a struct page, marked reserved. Mapped
 * through /dev/mem it is VM_PFNMAP, and pinning fails there (as for a BAR).
 */
#define BIOS_AREA 0xf0000

/*
 * Pins of VM_PFNMAP frames that have a reserved struct page (upstream's
 * vfio_pin_page_external goes through vaddr_get_pfns, which falls back to the
 * page tables where pinning fails): they succeed, are not charged, and are not
 * unpinned; the data reads through vfio_dma_rw as through the mapping.
 */
TEST_F(emu, pins_reserved_pfnmap_frames_uncharged)
{
	unsigned char out[16];
	long base = vfio_rs_vmlck_kb(0);
	__u64 unmapped;
	char *area;

	ASSERT_LE(0, base);
	/* [anon][BIOS frame][BIOS frame] */
	area = anon(3 * PG);
	ASSERT_NE(NULL, area);
	if (!devmem_at(area + PG, BIOS_AREA, 2 * PG)) {
		munmap(area, 3 * PG);
		SKIP(return, "cannot map /dev/mem at %#x: %s", BIOS_AREA, strerror(errno));
	}
	ASSERT_EQ(0, map(self->container, area, IOVA, 3 * PG));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));

	ASSERT_EQ(2, sample_dma(self->dev, DMA_PIN, IOVA + PG, 2, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_READ, IOVA + PG + 8, sizeof(out), out));
	EXPECT_EQ(0, memcmp(area + PG + 8, out, sizeof(out)));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));

	/* Across the boundary: only the anonymous page is charged, and given back. */
	ASSERT_EQ(3, sample_dma(self->dev, DMA_PIN, IOVA, 3, NULL));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));

	ASSERT_EQ(0, unmap(self->container, IOVA, 3 * PG, NULL, &unmapped));
	EXPECT_EQ(3 * PG, unmapped);
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(area, 3 * PG);
}

/* A container of its own for the igb, and its device fd; -1 (and a reason) if there is none. */
static int igb_device(char *bdf, size_t len, int *group, int *container, const char **why)
{
	int dev;

	*container = -1;
	*group = open_igb_group(bdf, len, why);
	if (*group < 0)
		return -1;
	*container = open(VFIO_CONTAINER_PATH, O_RDWR);
	if (*container < 0 ||
	    vfio_rs_ioctl(*group, VFIO_GROUP_SET_CONTAINER, (unsigned long)container) ||
	    vfio_rs_ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		*why = "cannot set up a container for the igb";
		return -1;
	}
	dev = vfio_rs_ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)bdf);
	if (dev < 0)
		*why = "no igb device fd";
	return dev;
}

/*
 * A BAR mmap (VM_PFNMAP, frames without a struct page) mapped into the
 * emulated container: a device's pin finds the frame but upstream refuses it
 * (EINVAL: no page to hand out); a pin that reaches it after an ordinary page
 * gives that page back. Nothing is charged.
 */
TEST_F(emu, pin_of_bar_frames_is_einval)
{
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	int group = -1, container = -1, dev;
	const char *why = NULL;
	long base = vfio_rs_vmlck_kb(0);
	char bdf[32] = "", *area;
	__u64 size, unmapped;

	ASSERT_LE(0, base);
	dev = igb_device(bdf, sizeof(bdf), &group, &container, &why);
	if (dev < 0) {
		if (group >= 0)
			close(group);
		if (container >= 0)
			close(container);
		if (bdf[0])
			vfio_rs_unbind(bdf);
		SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, vfio_rs_ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&bar0));
	ASSERT_TRUE(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	/* [anon][BAR0] */
	size = PG + bar0.size;
	area = anon(size);
	ASSERT_NE(NULL, area);
	ASSERT_EQ(area + PG, mmap(area + PG, bar0.size, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, dev, bar0.offset));
	base = vfio_rs_vmlck_kb(0);

	/* No IOMMU domain here: mapping looks at no page. */
	ASSERT_EQ(0, map(self->container, area, IOVA, size));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(-EINVAL, sample_dma(self->dev, DMA_PIN, IOVA + PG, 1, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(-EINVAL, sample_dma(self->dev, DMA_PIN, IOVA, 2, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	/* The ordinary page alone pins, and was given back above (charged once). */
	ASSERT_EQ(1, sample_dma(self->dev, DMA_PIN, IOVA, 1, NULL));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, unmap(self->container, IOVA, size, NULL, &unmapped));
	EXPECT_EQ(size, unmapped);

	munmap(area, size);
	close(dev);
	close(group);
	close(container);
	vfio_rs_unbind(bdf);
}

/* VFIO_GROUP_GET_STATUS flags, or -errno. */
static long group_flags(int group)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	long ret = vfio_rs_ioctl(group, VFIO_GROUP_GET_STATUS, (unsigned long)&st);

	return ret ? ret : st.flags;
}

/*
 * vfio_iommu_replay: mappings made while the container had only the emulated
 * group are pinned and mapped when the igb's group joins, every time it
 * joins. The charge rises by exactly the ordinary pages mapped (the page the
 * device pinned is not charged twice, the reserved /dev/mem frames never) and
 * falls back to the device's pin when the group leaves, by UNSET_CONTAINER or
 * by closing its group file. The device keeps working throughout.
 */
TEST_F(emu, replay_pins_every_mapping_each_time_a_group_joins)
{
	unsigned char buf[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	const char *why = NULL;
	long base = vfio_rs_vmlck_kb(0);
	char bdf[32] = "", *bios;
	int igb, round;

	ASSERT_LE(0, base);
	/* A: the fixture's 8 pages; B: 2 BIOS frames. */
	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 8 * PG));
	bios = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bios);
	if (!devmem_at(bios, BIOS_AREA, 2 * PG)) {
		munmap(bios, 2 * PG);
		SKIP(return, "cannot map /dev/mem at %#x", BIOS_AREA);
	}
	ASSERT_EQ(0, map(self->container, bios, IOVA + 16 * PG, 2 * PG));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(1, sample_dma(self->dev, DMA_PIN, IOVA + 5 * PG, 1, NULL));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));

	igb = open_igb_group(bdf, sizeof(bdf), &why);
	if (why) {
		sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL);
		munmap(bios, 2 * PG);
		SKIP(return, "%s", why);
	}
	ASSERT_GE(igb, 0);
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, vfio_rs_ioctl(igb, VFIO_GROUP_SET_CONTAINER,
					   (unsigned long)&self->container));
		EXPECT_EQ(base + 32, vfio_rs_vmlck_kb(0)) TH_LOG("round %d", round);
		buf[0] = round;
		ASSERT_EQ(0, sample_dma(self->dev, DMA_WRITE, IOVA + 7 * PG, sizeof(buf), buf));
		EXPECT_EQ(0, memcmp((char *)self->mem + 7 * PG, buf, sizeof(buf)));
		if (round == 0) {
			ASSERT_EQ(0, vfio_rs_ioctl(igb, VFIO_GROUP_UNSET_CONTAINER, 0));
		} else {
			/* The group file's release leaves the container too. */
			close(igb);
			igb = -1;
		}
		EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0)) TH_LOG("round %d", round);
	}
	vfio_rs_unbind(bdf);
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(0, unmap(self->container, IOVA, 32 * PG, NULL, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	munmap(bios, 2 * PG);
}

/*
 * A replay that fails part-way (a mapping whose memory cannot be pinned:
 * PROT_NONE) fails the group's SET_CONTAINER and gives back exactly what it had
 * pinned for the mappings before; the group is not in the container. Once the
 * bad mapping is gone the group joins.
 */
TEST_F(emu, failed_replay_unwinds_its_charge)
{
	const char *why = NULL;
	long base = vfio_rs_vmlck_kb(0);
	char bdf[32] = "";
	void *none;
	int igb;

	ASSERT_LE(0, base);
	ASSERT_EQ(0, map(self->container, self->mem, IOVA, 8 * PG));
	none = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	/* After the good mapping in IOVA order, so the replay pins that one first. */
	ASSERT_EQ(0, map(self->container, none, IOVA + 16 * PG, 2 * PG));
	ASSERT_EQ(1, sample_dma(self->dev, DMA_PIN, IOVA + 2 * PG, 1, NULL));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));

	igb = open_igb_group(bdf, sizeof(bdf), &why);
	if (why) {
		sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL);
		munmap(none, 2 * PG);
		SKIP(return, "%s", why);
	}
	ASSERT_GE(igb, 0);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(igb, VFIO_GROUP_SET_CONTAINER,
					 (unsigned long)&self->container));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(igb));

	ASSERT_EQ(0, unmap(self->container, IOVA + 16 * PG, 2 * PG, NULL, NULL));
	ASSERT_EQ(0, vfio_rs_ioctl(igb, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET, group_flags(igb));
	EXPECT_EQ(base + 32, vfio_rs_vmlck_kb(0));
	ASSERT_EQ(0, vfio_rs_ioctl(igb, VFIO_GROUP_UNSET_CONTAINER, 0));
	EXPECT_EQ(base + 4, vfio_rs_vmlck_kb(0));
	close(igb);
	vfio_rs_unbind(bdf);
	ASSERT_EQ(0, sample_dma(self->dev, DMA_UNPIN, 0, 0, NULL));
	EXPECT_EQ(base, vfio_rs_vmlck_kb(0));
	EXPECT_EQ(0, unmap(self->container, IOVA, 8 * PG, NULL, NULL));
	munmap(none, 2 * PG);
}

TEST_HARNESS_MAIN
