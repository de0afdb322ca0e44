// SPDX-License-Identifier: GPL-2.0
/*
 * Device sets, through the Rust sample driver samples/vfio-rs-sample: three
 * emulated-IOMMU devices (each in its own group) share one device set, and the
 * driver counts in debugfs how the core calls open_device/close_device. The
 * core must call open_device exactly on a device's first open and close_device
 * on its last close, whatever the mix of fds, devices, paths and threads, and
 * never two callbacks of the set at once (the set's mutex).
 */
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/iommufd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define NDEVS 3
#define DBG "/sys/kernel/debug/vfio-rs-sample"

struct stats {
	unsigned int opens, closes, bad, set_open, dma_unmaps;
};

/* The sample's private DMA ioctl (samples/vfio-rs-sample). */
struct sample_dma {
	__u32 argsz, op; /* op: 0 read, 1 write, 2 pin, 3 unpin */
	__u64 iova, len, buf;
};
#define SAMPLE_DMA _IO(VFIO_TYPE, VFIO_BASE + 60)

static long sample_dma(int fd, __u32 op, __u64 iova, __u64 len, void *buf)
{
	struct sample_dma a = { .argsz = sizeof(a), .op = op, .iova = iova, .len = len,
				.buf = (unsigned long)buf };

	return vfio_rs_ioctl(fd, SAMPLE_DMA, (unsigned long)&a);
}

static int read_stats(int i, struct stats *s)
{
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), DBG "/dev%d", i);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "opens=%u closes=%u bad=%u set_open=%u dma_unmaps=%u", &s->opens,
		   &s->closes, &s->bad, &s->set_open, &s->dma_unmaps);
	fclose(f);
	return n == 5 ? 0 : -EINVAL;
}

static int read_overlaps(void)
{
	unsigned int n;
	FILE *f = fopen(DBG "/set", "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "overlaps=%u", &n) == 1;
	fclose(f);
	return ok ? (int)n : -EINVAL;
}

/* The IOMMU group id the core made for sample device i, or -errno. */
static int sample_group(int i)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/faux/devices/vfio-rs-sample.%d", i);
	return vfio_rs_sysdev_iommu_group(path);
}

/* /dev/vfio/devices/vfioN of sample device i into buf; 0 or -errno. */
static int sample_cdev(int i, char *buf, size_t len)
{
	char path[PATH_MAX], name[32];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/faux/devices/vfio-rs-sample.%d", i);
	ret = vfio_rs_sysdev_vfio_dev(path, name, sizeof(name));
	if (!ret)
		snprintf(buf, len, "/dev/vfio/devices/%s", name);
	return ret;
}

FIXTURE(devset) {
	int container;
	int group[NDEVS];
	char name[NDEVS][32];
};

FIXTURE_SETUP(devset)
{
	char path[32];
	int i;

	self->container = -1;
	for (i = 0; i < NDEVS; i++)
		self->group[i] = -1;
	ASSERT_EQ(0, vfio_rs_load_sample());
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(self->container, 0);
	for (i = 0; i < NDEVS; i++) {
		int id = sample_group(i);

		ASSERT_GE(id, 0);
		snprintf(path, sizeof(path), "/dev/vfio/%d", id);
		snprintf(self->name[i], sizeof(self->name[i]), "vfio-rs-sample.%d", i);
		self->group[i] = open(path, O_RDWR);
		ASSERT_GE(self->group[i], 0) TH_LOG("open %s: %s", path, strerror(errno));
		ASSERT_EQ(0, vfio_rs_ioctl(self->group[i], VFIO_GROUP_SET_CONTAINER,
					   (unsigned long)&self->container));
	}
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
}

FIXTURE_TEARDOWN(devset)
{
	int i;

	for (i = 0; i < NDEVS; i++)
		if (self->group[i] >= 0)
			close(self->group[i]);
	if (self->container >= 0)
		close(self->container);
	/* Unregistration must complete: no fd of ours is left open. */
	EXPECT_EQ(0, vfio_rs_sh("rmmod vfio_rs_sample"));
}

static int get_fd(FIXTURE_DATA(devset) *self, int i)
{
	return vfio_rs_ioctl(self->group[i], VFIO_GROUP_GET_DEVICE_FD,
			     (unsigned long)self->name[i]);
}

/* Several fds of one device: one open_device, one close_device (the last). */
TEST_F(devset, first_open_last_close)
{
	struct stats s;
	int a, b;

	a = get_fd(self, 0);
	ASSERT_GE(a, 0);
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.opens);
	b = get_fd(self, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.opens);
	close(a);
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(0, s.closes);
	close(b);
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.closes);
	EXPECT_EQ(0, s.bad);
	/* The other devices of the set were never opened. */
	ASSERT_EQ(0, read_stats(1, &s));
	EXPECT_EQ(0, s.opens);
}

/* The set's open count as the callbacks see it: it includes the device itself. */
TEST_F(devset, set_open_count)
{
	int fd[NDEVS], i;
	struct stats s;

	for (i = 0; i < NDEVS; i++) {
		fd[i] = get_fd(self, i);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(0, read_stats(i, &s));
		EXPECT_EQ(i + 1, s.set_open);
	}
	for (i = NDEVS - 1; i >= 0; i--) {
		close(fd[i]);
		ASSERT_EQ(0, read_stats(i, &s));
		EXPECT_EQ(i + 1, s.set_open);
		EXPECT_EQ(1, s.closes);
	}
	EXPECT_EQ(0, read_overlaps());
}

/* The cdev path: one bound fd per device, excluding the group path. */
TEST_F(devset, cdev)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char cdev[64];
	int iommufd, a, b, g;
	struct stats s;

	/* The cdev path needs the group file closed. */
	close(self->group[0]);
	self->group[0] = -1;
	ASSERT_EQ(0, sample_cdev(0, cdev, sizeof(cdev)));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(iommufd, 0);
	bind.iommufd = iommufd;
	a = open(cdev, O_RDWR);
	ASSERT_GE(a, 0);
	b = open(cdev, O_RDWR);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(a, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.opens);
	EXPECT_EQ(-EINVAL, vfio_rs_ioctl(b, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.opens);
	snprintf(cdev, sizeof(cdev), "/dev/vfio/%d", sample_group(0));
	g = open(cdev, O_RDWR);
	EXPECT_EQ(-1, g);
	EXPECT_EQ(EBUSY, errno);
	close(b);
	close(a);
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.closes);
	EXPECT_EQ(0, s.bad);
	close(iommufd);
}

struct worker {
	FIXTURE_DATA(devset) *self;
	int id, rounds, errors;
};

static void *churn(void *arg)
{
	struct worker *w = arg;
	int r;

	for (r = 0; r < w->rounds; r++) {
		int dev = (w->id + r) % NDEVS;
		int a = get_fd(w->self, dev), b = get_fd(w->self, (dev + 1) % NDEVS);

		if (a < 0 || b < 0)
			w->errors++;
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
	return NULL;
}

/* Threads opening and closing fds of all devices of the set at once. */
TEST_F(devset, concurrent)
{
	struct worker w[6];
	pthread_t t[6];
	unsigned int total = 0;
	struct stats s;
	int i, held;

	/* One long-lived fd: device 0 must stay open throughout (no re-open). */
	held = get_fd(self, 0);
	ASSERT_GE(held, 0);
	for (i = 0; i < 6; i++) {
		w[i] = (struct worker){ .self = self, .id = i, .rounds = 60 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, &w[i]));
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].errors);
	}
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(1, s.opens);
	EXPECT_EQ(0, s.closes);
	close(held);
	for (i = 0; i < NDEVS; i++) {
		ASSERT_EQ(0, read_stats(i, &s));
		EXPECT_EQ(s.opens, s.closes) TH_LOG("dev%d", i);
		EXPECT_EQ(0, s.bad) TH_LOG("dev%d", i);
		EXPECT_GE(s.opens, 1);
		total += s.opens;
	}
	/* Devices 1 and 2 went through many first opens; each counted once per cycle. */
	EXPECT_GT(total, NDEVS);
	EXPECT_EQ(0, read_overlaps());
}

/*
 * The CPU-DMA exports through a type1 container: vfio_dma_rw both ways, and
 * vfio_pin_pages / vfio_unpin_pages. The pin is dropped before the unmap:
 * upstream 7.3's type1 calls dma_unmap holding device_list_lock, and a driver
 * unpinning there takes iommu->lock, the inverse of register_device's order
 * (a lockdep report with upstream's C type1, on either core). The unmap
 * notification itself is tested through iommufd below.
 */
TEST_F(devset, dma_type1)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0x100000, .size = 2 * 4096 };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap),
		.iova = 0x100000, .size = 2 * 4096 };
	unsigned char *mem, out[64], in[32];
	struct stats s;
	int fd;

	mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (int i = 0; i < 2 * 4096; i++)
		mem[i] = i * 7;
	map.vaddr = (unsigned long)mem;
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_MAP_DMA, (unsigned long)&map));
	fd = get_fd(self, 0);
	ASSERT_GE(fd, 0);

	ASSERT_EQ(0, sample_dma(fd, 0, 0x100000 + 16, sizeof(out), out));
	EXPECT_EQ(0, memcmp(out, mem + 16, sizeof(out)));
	memset(in, 0xab, sizeof(in));
	ASSERT_EQ(0, sample_dma(fd, 1, 0x100000 + 4096, sizeof(in), in));
	EXPECT_EQ(0, memcmp(in, mem + 4096, sizeof(in)));
	/* Outside any mapping. */
	EXPECT_GT(0, sample_dma(fd, 0, 0x200000, sizeof(out), out));

	ASSERT_EQ(1, sample_dma(fd, 2, 0x100000, 1, NULL));
	/* A second pin of the same device is the sample's EBUSY: one pin at a time. */
	EXPECT_EQ(-EBUSY, sample_dma(fd, 2, 0x101000, 1, NULL));
	ASSERT_EQ(0, sample_dma(fd, 3, 0, 0, NULL));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&unmap));
	EXPECT_EQ(2 * 4096, unmap.size);
	ASSERT_EQ(0, read_stats(0, &s));
	EXPECT_EQ(0, s.dma_unmaps);
	EXPECT_GT(0, sample_dma(fd, 0, 0x100000, sizeof(out), out));
	close(fd);
	munmap(mem, 2 * 4096);
}

/* The same through the cdev path: the emulated iommufd access. */
TEST_F(devset, dma_iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_map map = { .size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.iova = 0x100000, .length = 2 * 4096 };
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap), .iova = 0x100000,
					  .length = 2 * 4096 };
	unsigned char *mem, out[64];
	int iommufd, fd;
	struct stats s;
	char cdev[64];

	close(self->group[1]);
	self->group[1] = -1;
	ASSERT_EQ(0, sample_cdev(1, cdev, sizeof(cdev)));
	mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (int i = 0; i < 2 * 4096; i++)
		mem[i] = i * 3;
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(iommufd, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(iommufd, IOMMU_IOAS_ALLOC, (unsigned long)&alloc));
	map.ioas_id = unmap.ioas_id = attach.pt_id = alloc.out_ioas_id;
	map.user_va = (unsigned long)mem;
	ASSERT_EQ(0, vfio_rs_ioctl(iommufd, IOMMU_IOAS_MAP, (unsigned long)&map));
	fd = open(cdev, O_RDWR);
	ASSERT_GE(fd, 0);
	bind.iommufd = iommufd;
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, (unsigned long)&attach));

	ASSERT_EQ(0, sample_dma(fd, 0, 0x100000 + 100, sizeof(out), out));
	EXPECT_EQ(0, memcmp(out, mem + 100, sizeof(out)));
	ASSERT_EQ(1, sample_dma(fd, 2, 0x101000, 1, NULL));
	ASSERT_EQ(0, vfio_rs_ioctl(iommufd, IOMMU_IOAS_UNMAP, (unsigned long)&unmap));
	ASSERT_EQ(0, read_stats(1, &s));
	EXPECT_LE(1, s.dma_unmaps);
	EXPECT_GT(0, sample_dma(fd, 0, 0x100000, sizeof(out), out));
	close(fd);
	close(iommufd);
	munmap(mem, 2 * 4096);
}

TEST_HARNESS_MAIN
