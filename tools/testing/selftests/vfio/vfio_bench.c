// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_bench: the same VFIO workload timed on two implementations in one boot
 * (`make bench`, through bench_guest.sh). Not a kselftest: it judges nothing,
 * it prints figures.
 *
 * The process keeps its two DMA buffers for the whole run, so every phase, on
 * either implementation, pins and maps the very same physical pages (the same
 * number of IOMMU mappings). Before each phase it runs the switch command with
 * the phase's label, which loads that implementation (every VFIO file is closed
 * by then), and makes sure the igb is bound to vfio-pci again.
 *
 * Per phase:
 *  - a type1v2 container with the igb's group: MAP_DMA then UNMAP_DMA of the
 *    whole 4 KiB-page buffer (anonymous, MADV_NOHUGEPAGE), then -j times of the
 *    2 MiB hugetlb buffer (a hundred times faster, so more samples against
 *    noise), each followed by the same of a MAP_SHARED hugetlb memfd buffer
 *    (the page cache of a hugetlbfs file: our type1 pins it by folio,
 *    upstream's by page), each call timed alone; -k such rounds, the page sizes
 *    alternating;
 *    then 16 MAP_DMA + UNMAP_DMA of single 4 KiB pages (a vIOMMU guest's pattern);
 *    with the hugetlb buffers also one 1 GiB page (when the guest has one) and,
 *    for the scaling figures (time per GiB), the 2 MiB buffer at 256 MiB and at
 *    -S MiB, and the 4 KiB buffer at 256 MiB;
 *  - the same buffers through iommufd, what users pick instead of type1: the
 *    device bound on its cdev and attached to an IOAS, IOMMU_IOAS_MAP then
 *    IOMMU_IOAS_UNMAP of each buffer, -k rounds (iommufd is upstream's in both
 *    phases: the figures stand beside type1's, their ratio only checks noise);
 *  - -n device open cycles on each path, alternating: group path (open
 *    /dev/vfio/vfio and the group, SET_CONTAINER, SET_IOMMU type1v2,
 *    GET_DEVICE_FD, close all) and cdev path (open /dev/vfio/devices/vfioN,
 *    BIND_IOMMUFD to an iommufd opened once per phase, close);
 *  - -c container setups (the group path's steps before GET_DEVICE_FD, then
 *    close): these take 0.03-0.5 ms, where one timer interrupt landing in a
 *    sample adds ~5%, so they get many samples of their own.
 * At the end: per metric the median of each implementation's samples, and
 * candidate/baseline. Phases alternate (default upstream,rust,rust,upstream
 * twice) so slow drift of the host hits both alike. Times are the guest's
 * CLOCK_MONOTONIC: under `scripts/vm --icount` (make bench's default) that
 * counts guest instructions, 1 ns each, whatever the host's load.
 *
 * Usage: vfio_bench [-s SWITCH_CMD] [-p LABELS] [-k N] [-j N] [-n N] [-m MIB] [-S MIB] [BDF]
 *   -s  command run as `SWITCH_CMD LABEL` before each phase (none: measure
 *       what is loaded, labels are names only)
 *   -p  comma-separated phase labels; exactly two distinct labels, the first
 *       seen is the baseline (default upstream,rust,rust,upstream twice)
 *   -k  map/unmap rounds per phase (default 2)
 *   -j  2 MiB map/unmap pairs per round (default 4)
 *   -n  open cycles per path per phase (default 5)
 *   -c  container setups per phase (default 25)
 *   -m  size of each buffer in MiB (default 1024)
 *   -S  the 2 MiB buffer's larger size for the scaling figures (default 4096;
 *       0 or not above -m: none)
 *   BDF the device (default: the first igb, 8086:10c9)
 */
#include <getopt.h>
#include <sys/eventfd.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/iommufd.h>

#include "vfio_rs_test.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
/* Above the x86 MSI window, inside any VT-d aperture (39-bit or more). */
#define BENCH_IOVA (1ULL << 32)
#define HUGE_2M (2UL << 20)
#define MAX_PHASES 16
#define MAX_SAMPLES 4096

/* What is timed. Details break a total into its steps. */
enum metric {
	MAP_4K, UNMAP_4K, MAP_2M, UNMAP_2M, MAP_2M_SHARED, UNMAP_2M_SHARED, MAP_PAGE, UNMAP_PAGE,
	OPEN_GROUP, OPEN_CDEV,
	GROUP_SETUP, SETUP_OPEN, SETUP_OPEN_CONTAINER, SETUP_OPEN_GROUP, SETUP_GET_STATUS,
	SETUP_SET_CONTAINER, SETUP_SET_IOMMU, GROUP_GET_FD, GROUP_CLOSE,
	CDEV_OPEN, CDEV_BIND, CDEV_CLOSE, IOAS_MAP_4K, IOAS_UNMAP_4K, IOAS_MAP_2M, IOAS_UNMAP_2M,
	MAP_1G, UNMAP_1G, IOAS_MAP_1G, IOAS_UNMAP_1G,
	MAP_4K_SMALL, UNMAP_4K_SMALL, MAP_2M_SMALL, UNMAP_2M_SMALL, MAP_2M_LARGE, UNMAP_2M_LARGE,
	IOAS_MAP_2M_SMALL, IOAS_UNMAP_2M_SMALL, IOAS_MAP_2M_LARGE, IOAS_UNMAP_2M_LARGE,
	CFG_READ, CFG_WRITE, BAR_READ, IRQ_LOOPBACK,
	NR_METRICS
};

static const struct {
	const char *name;
	const char *what;
	int detail;
} metrics[NR_METRICS] = {
	[MAP_4K] = { "map_4k", "MAP_DMA, 4 KiB pages" },
	[UNMAP_4K] = { "unmap_4k", "UNMAP_DMA, 4 KiB pages" },
	[MAP_2M] = { "map_2m", "MAP_DMA, 2 MiB hugetlb" },
	[UNMAP_2M] = { "unmap_2m", "UNMAP_DMA, 2 MiB hugetlb" },
	[MAP_2M_SHARED] = { "map_2m_shared", "MAP_DMA, 2 MiB hugetlb memfd, shared" },
	[UNMAP_2M_SHARED] = { "unmap_2m_shared", "UNMAP_DMA, 2 MiB hugetlb memfd, shared" },
	[MAP_PAGE] = { "map_page", "MAP_DMA of one 4 KiB page" },
	[UNMAP_PAGE] = { "unmap_page", "UNMAP_DMA of one 4 KiB page" },
	[OPEN_GROUP] = { "open_group", "group open..GET_DEVICE_FD..close" },
	[OPEN_CDEV] = { "open_cdev", "cdev open..BIND_IOMMUFD..close" },
	[GROUP_SETUP] = { "group_setup", "open, SET_CONTAINER, SET_IOMMU", 1 },
	[SETUP_OPEN] = { "setup_open", "open container, group; GET_STATUS", 1 },
	[SETUP_OPEN_CONTAINER] = { "setup_open_container", "open /dev/vfio/vfio", 1 },
	[SETUP_OPEN_GROUP] = { "setup_open_group", "open /dev/vfio/N", 1 },
	[SETUP_GET_STATUS] = { "setup_get_status", "GROUP_GET_STATUS", 1 },
	[SETUP_SET_CONTAINER] = { "setup_setc", "SET_CONTAINER", 1 },
	[SETUP_SET_IOMMU] = { "setup_iommu", "SET_IOMMU (type1v2 attach)", 1 },
	[GROUP_GET_FD] = { "group_get_fd", "GET_DEVICE_FD", 1 },
	[GROUP_CLOSE] = { "group_close", "close device, group, container", 1 },
	[CDEV_OPEN] = { "cdev_open", "open /dev/vfio/devices/vfioN", 1 },
	[CDEV_BIND] = { "cdev_bind", "BIND_IOMMUFD", 1 },
	[CDEV_CLOSE] = { "cdev_close", "close", 1 },
	[IOAS_MAP_4K] = { "ioas_map_4k", "iommufd IOAS_MAP, 4 KiB pages" },
	[IOAS_UNMAP_4K] = { "ioas_unmap_4k", "iommufd IOAS_UNMAP, 4 KiB pages" },
	[IOAS_MAP_2M] = { "ioas_map_2m", "iommufd IOAS_MAP, 2 MiB hugetlb" },
	[IOAS_UNMAP_2M] = { "ioas_unmap_2m", "iommufd IOAS_UNMAP, 2 MiB hugetlb" },
	[MAP_1G] = { "map_1g", "MAP_DMA, one 1 GiB hugetlb page" },
	[UNMAP_1G] = { "unmap_1g", "UNMAP_DMA, one 1 GiB hugetlb page" },
	[IOAS_MAP_1G] = { "ioas_map_1g", "iommufd IOAS_MAP, one 1 GiB page" },
	[IOAS_UNMAP_1G] = { "ioas_unmap_1g", "iommufd IOAS_UNMAP, one 1 GiB page" },
	/* Size scaling: the time per GiB of a smaller and a larger mapping. */
	[MAP_4K_SMALL] = { "map_4k_256m", "MAP_DMA 4 KiB, 256 MiB, per GiB" },
	[UNMAP_4K_SMALL] = { "unmap_4k_256m", "UNMAP_DMA 4 KiB, 256 MiB, per GiB" },
	[MAP_2M_SMALL] = { "map_2m_256m", "MAP_DMA 2 MiB, 256 MiB, per GiB" },
	[UNMAP_2M_SMALL] = { "unmap_2m_256m", "UNMAP_DMA 2 MiB, 256 MiB, per GiB" },
	[MAP_2M_LARGE] = { "map_2m_large", "MAP_DMA 2 MiB, -S MiB, per GiB" },
	[UNMAP_2M_LARGE] = { "unmap_2m_large", "UNMAP_DMA 2 MiB, -S MiB, per GiB" },
	[IOAS_MAP_2M_SMALL] = { "ioas_map_2m_256m", "IOAS_MAP 2 MiB, 256 MiB, per GiB" },
	[IOAS_UNMAP_2M_SMALL] = { "ioas_unmap_2m_256m", "IOAS_UNMAP 2 MiB, 256 MiB, per GiB" },
	[IOAS_MAP_2M_LARGE] = { "ioas_map_2m_large", "IOAS_MAP 2 MiB, -S MiB, per GiB" },
	[IOAS_UNMAP_2M_LARGE] = { "ioas_unmap_2m_large", "IOAS_UNMAP 2 MiB, -S MiB, per GiB" },
	/* The device through vfio-pci (cdev, bound to iommufd): per operation. */
	[CFG_READ] = { "cfg_pread", "config pread, 4 bytes at 0" },
	[CFG_WRITE] = { "cfg_pwrite", "config pwrite, the command register" },
	[BAR_READ] = { "bar_pread", "BAR0 pread, 4 bytes" },
	[IRQ_LOOPBACK] = { "irq_loopback", "MSI-X loopback: SET_IRQS trigger + eventfd read" },
};

/* Samples (ns) of one metric on one implementation. */
struct series {
	uint64_t v[MAX_SAMPLES];
	int n;
};

static struct series results[2][NR_METRICS];
static const char *labels[2];

static struct {
	const char *switch_cmd;
	int rounds, huge_reps, opens, setups, page_reps, dev_samples;
	size_t size, large;
	char bdf[32];
	char group[64];
	char cdev[64];
} cfg = { .rounds = 2, .huge_reps = 4, .opens = 5, .setups = 25, .page_reps = 16, .dev_samples = 200, .size = 1024UL << 20,
	    .large = 4096UL << 20 };

/* The scaling runs' smaller size. */
#define SMALL_SIZE (256UL << 20)
#define HUGE_1G (1UL << 30)

static void die(const char *what)
{
	fprintf(stderr, "vfio_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void record(int impl, enum metric m, uint64_t ns)
{
	struct series *s = &results[impl][m];

	if (s->n < MAX_SAMPLES)
		s->v[s->n++] = ns;
	printf("# sample %s %s %llu ns\n", labels[impl], metrics[m].name, (unsigned long long)ns);
}

/* ioctl that must succeed, or the run is void. */
static long must_ioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	long ret = ioctl(fd, cmd, arg);

	if (ret < 0)
		die(what);
	return ret;
}

/*
 * A buffer of size bytes, faulted in: 4 KiB pages (huge_shift 0, THP off for
 * it), private anonymous hugetlb pages of 1 << huge_shift bytes, or (negative
 * huge_shift) a MAP_SHARED mapping of a hugetlb memfd of such pages. NULL if
 * optional and there are no such pages.
 */
static void *alloc_buffer(size_t size, int huge_shift, int optional)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
	void *p;

	if (huge_shift > 0)
		flags |= MAP_HUGETLB | (huge_shift << MAP_HUGE_SHIFT);
	if (huge_shift < 0) {
		/* MFD_HUGE_SHIFT is MAP_HUGE_SHIFT (HUGETLB_FLAG_ENCODE_SHIFT). */
		huge_shift = -huge_shift;
		fd = memfd_create("vfio_bench", MFD_HUGETLB | (huge_shift << MAP_HUGE_SHIFT));
		if (fd < 0)
			die("memfd_create(MFD_HUGETLB)");
		if (ftruncate(fd, size))
			die("ftruncate of the hugetlb memfd");
		flags = MAP_SHARED;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		if (optional)
			return NULL;
		if (huge_shift)
			fprintf(stderr, "vfio_bench: no %zu MiB of %lu KiB huge pages "
				"(/proc/sys/vm/nr_hugepages must reserve them)\n",
				size >> 20, (1UL << huge_shift) >> 10);
		die("mmap");
	}
	if (!huge_shift && madvise(p, size, MADV_NOHUGEPAGE))
		die("madvise(MADV_NOHUGEPAGE)");
	memset(p, 0x5a, size);
	return p;
}

/*
 * Physically contiguous runs of a buffer (from /proc/self/pagemap, root only):
 * both type1 implementations make one iommu_map() call per run on MAP_DMA, and
 * one iommu_unmap_fast() per run on UNMAP_DMA. 0 if the pfns are hidden.
 */
static long contiguous_runs(void *buf, size_t size)
{
	size_t npages = size / 4096, i;
	uint64_t *pm = malloc(npages * sizeof(*pm));
	long runs = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || !pm)
		goto out;
	if (pread(fd, pm, npages * sizeof(*pm), (uintptr_t)buf / 4096 * sizeof(*pm)) !=
	    (ssize_t)(npages * sizeof(*pm)))
		goto out;
	for (i = 0; i < npages; i++) {
		uint64_t pfn = pm[i] & ((1ULL << 55) - 1);

		if (!pfn) {
			runs = 0;
			goto out;
		}
		if (!i || pfn != (pm[i - 1] & ((1ULL << 55) - 1)) + 1)
			runs++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(pm);
	return runs;
}

/* Waits (up to 10 s) for a path to appear; 0 or -ENOENT. */
static int wait_for(const char *path)
{
	for (int i = 0; i < 1000; i++) {
		if (!access(path, F_OK))
			return 0;
		usleep(10000);
	}
	return -ENOENT;
}

/* Loads the phase's implementation and gets the device onto vfio-pci. */
static void start_phase(const char *label)
{
	char cmd[1024], path[PATH_MAX], link[PATH_MAX], name[32];
	ssize_t n;

	if (cfg.switch_cmd) {
		snprintf(cmd, sizeof(cmd), "%s %s", cfg.switch_cmd, label);
		if (vfio_rs_sh(cmd)) {
			fprintf(stderr, "vfio_bench: '%s' failed\n", cmd);
			exit(1);
		}
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", cfg.bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	if (n <= 0 || strcmp(strrchr(link, '/') + 1, "vfio-pci")) {
		if (wait_for("/sys/bus/pci/drivers/vfio-pci") || vfio_rs_bind_vfio_pci(cfg.bdf)) {
			fprintf(stderr, "vfio_bench: cannot bind %s to vfio-pci\n", cfg.bdf);
			exit(1);
		}
	}
	snprintf(cfg.group, sizeof(cfg.group), "/dev/vfio/%d", vfio_rs_iommu_group(cfg.bdf));
	if (vfio_rs_vfio_dev_name(cfg.bdf, name, sizeof(name)))
		die("vfio-dev entry of the device");
	snprintf(cfg.cdev, sizeof(cfg.cdev), "/dev/vfio/devices/%s", name);
	if (wait_for(cfg.group) || wait_for(cfg.cdev))
		die("device nodes");
}

/* Guest time at the end of open_container()'s steps: opens, SET_CONTAINER, SET_IOMMU. */
static uint64_t setup_steps[6];

/* A type1v2 container holding the device's group; returns the container fd. */
static int open_container(int *group)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int container = open(VFIO_CONTAINER_PATH, O_RDWR);

	setup_steps[3] = now_ns();
	if (container < 0)
		die("open " VFIO_CONTAINER_PATH);
	*group = open(cfg.group, O_RDWR);
	setup_steps[4] = now_ns();
	if (*group < 0)
		die("open group");
	must_ioctl(*group, VFIO_GROUP_GET_STATUS, &st, "GROUP_GET_STATUS");
	setup_steps[5] = now_ns();
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio_bench: group %s not viable\n", cfg.group);
		exit(1);
	}
	setup_steps[0] = now_ns();
	must_ioctl(*group, VFIO_GROUP_SET_CONTAINER, &container, "SET_CONTAINER");
	setup_steps[1] = now_ns();
	must_ioctl(container, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU, "SET_IOMMU");
	setup_steps[2] = now_ns();
	return container;
}

/*
 * Pages pinned and unpinned so far in this machine (pin_user_pages accounting),
 * with the per-CPU counter deltas folded in first (stat_refresh) so they are exact.
 */
static void foll_pins(uint64_t *acquired, uint64_t *released)
{
	char name[64];
	unsigned long long v;
	FILE *f;

	if (vfio_rs_sysfs_write("/proc/sys/vm/stat_refresh", "1"))
		die("/proc/sys/vm/stat_refresh");
	f = fopen("/proc/vmstat", "r");
	*acquired = *released = 0;
	if (!f)
		die("/proc/vmstat");
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			*acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			*released = v;
	}
	fclose(f);
}

/* Pages pinned (net) between two foll_pins() readings must be the buffer's, or exit. */
static void check_pins(const char *what, uint64_t acq0, uint64_t rel0, uint64_t acq1,
		       uint64_t rel1, uint64_t acq2, uint64_t rel2, size_t size)
{
	if ((acq1 - acq0) - (rel1 - rel0) == size / 4096 &&
	    (rel2 - rel1) - (acq2 - acq1) == size / 4096)
		return;
	fprintf(stderr, "vfio_bench: %s: map pinned %llu pages (released %llu), unmap released "
		"%llu (pinned %llu); the buffer has %zu\n", what,
		(unsigned long long)(acq1 - acq0), (unsigned long long)(rel1 - rel0),
		(unsigned long long)(rel2 - rel1), (unsigned long long)(acq2 - acq1), size / 4096);
	exit(1);
}

/*
 * MAP_DMA then UNMAP_DMA of a whole buffer, each timed. Both must pin, then
 * unpin, every page exactly once: a figure from an implementation that leaks
 * or skips pins would be meaningless.
 */
static void map_unmap(int impl, int container, void *buf, size_t size, enum metric map,
		      enum metric unmap)
{
	/* The scaling metrics are per GiB. */
	int per_gib = map >= MAP_4K_SMALL;
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = BENCH_IOVA,
		.size = size,
	};
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = BENCH_IOVA,
		.size = size,
	};
	uint64_t t0, t1, t2, t3, acq0, rel0, acq1, rel1, acq2, rel2;

	foll_pins(&acq0, &rel0);
	t0 = now_ns();
	must_ioctl(container, VFIO_IOMMU_MAP_DMA, &m, "MAP_DMA");
	t1 = now_ns();
	foll_pins(&acq1, &rel1);
	t2 = now_ns();
	must_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u, "UNMAP_DMA");
	t3 = now_ns();
	foll_pins(&acq2, &rel2);
	if (u.size != size) {
		fprintf(stderr, "vfio_bench: UNMAP_DMA unmapped %llu bytes, not %zu\n",
			(unsigned long long)u.size, size);
		exit(1);
	}
	/*
	 * Net pins: upstream's type1 pins ahead and puts pages back at the end of each
	 * contiguous run, so MAP_DMA may pin more than the buffer and release the excess;
	 * what must hold is that the mapping holds exactly the buffer's pages (pinned -
	 * released after MAP_DMA) and UNMAP_DMA gives every one of them back.
	 */
	check_pins(metrics[map].name, acq0, rel0, acq1, rel1, acq2, rel2, size);
	record(impl, map, per_gib ? (t1 - t0) * HUGE_1G / size : t1 - t0);
	record(impl, unmap, per_gib ? (t3 - t2) * HUGE_1G / size : t3 - t2);
}

/* IOMMU_IOAS_MAP then IOMMU_IOAS_UNMAP of a whole buffer at BENCH_IOVA, each timed. */
static void ioas_map_unmap(int impl, int iommufd, __u32 ioas, void *buf, size_t size,
			   enum metric map, enum metric unmap)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = size,
		.iova = BENCH_IOVA,
	};
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = ioas, .iova = BENCH_IOVA, .length = size,
	};
	uint64_t t0, t1, t2, t3, acq0, rel0, acq1, rel1, acq2, rel2;
	int per_gib = map >= MAP_4K_SMALL;

	foll_pins(&acq0, &rel0);
	t0 = now_ns();
	must_ioctl(iommufd, IOMMU_IOAS_MAP, &m, "IOAS_MAP");
	t1 = now_ns();
	foll_pins(&acq1, &rel1);
	t2 = now_ns();
	must_ioctl(iommufd, IOMMU_IOAS_UNMAP, &u, "IOAS_UNMAP");
	t3 = now_ns();
	foll_pins(&acq2, &rel2);
	if (u.length != size) {
		fprintf(stderr, "vfio_bench: IOAS_UNMAP unmapped %llu bytes, not %zu\n",
			(unsigned long long)u.length, size);
		exit(1);
	}
	check_pins(metrics[map].name, acq0, rel0, acq1, rel1, acq2, rel2, size);
	record(impl, map, per_gib ? (t1 - t0) * HUGE_1G / size : t1 - t0);
	record(impl, unmap, per_gib ? (t3 - t2) * HUGE_1G / size : t3 - t2);
}

/* The process's buffers, kept for the whole run (the same pages in every phase). */
static struct {
	void *b4k, *b2m, *b2ms, *b1g;
} bufs;

/* Each kind of buffer mapped and unmapped once through `one` (type1 or iommufd). */
struct map_set {
	enum metric m4k, m2m, m2ms, m1g, m4k_small, m2m_small, m2m_large;
};

static const struct map_set type1_set = {
	MAP_4K, MAP_2M, MAP_2M_SHARED, MAP_1G, MAP_4K_SMALL, MAP_2M_SMALL, MAP_2M_LARGE,
};
static const struct map_set ioas_set = {
	IOAS_MAP_4K, IOAS_MAP_2M, NR_METRICS, IOAS_MAP_1G, NR_METRICS, IOAS_MAP_2M_SMALL,
	IOAS_MAP_2M_LARGE,
};

/* The IOAS iommufd_maps() maps into. */
static __u32 ioas_id;

/* MAP then UNMAP (the next metric) of size bytes of buf through the set's interface. */
static void one_map(int impl, int fd, const struct map_set *set, void *buf, size_t size,
		    enum metric map)
{
	if (map == NR_METRICS)
		return;
	if (set == &type1_set)
		map_unmap(impl, fd, buf, size, map, map + 1);
	else
		ioas_map_unmap(impl, fd, ioas_id, buf, size, map, map + 1);
}

/* The hugetlb buffers: 2 MiB pages at three sizes, one 1 GiB page where there is one. */
static void huge_maps(int impl, int fd, const struct map_set *set)
{
	one_map(impl, fd, set, bufs.b2m, cfg.size, set->m2m);
	one_map(impl, fd, set, bufs.b2ms, cfg.size, set->m2ms);
	if (cfg.size > SMALL_SIZE)
		one_map(impl, fd, set, bufs.b2m, SMALL_SIZE, set->m2m_small);
	if (cfg.large)
		one_map(impl, fd, set, bufs.b2m, cfg.large, set->m2m_large);
	if (bufs.b1g)
		one_map(impl, fd, set, bufs.b1g, HUGE_1G, set->m1g);
}

/* -k rounds over every buffer, -j times the (fast) hugetlb ones, page sizes alternating. */
static void map_rounds(int impl, int fd, const struct map_set *set)
{
	for (int r = 0; r < cfg.rounds; r++) {
		for (int j = 0; (r & 1) && j < cfg.huge_reps; j++)
			huge_maps(impl, fd, set);
		one_map(impl, fd, set, bufs.b4k, cfg.size, set->m4k);
		if (cfg.size > SMALL_SIZE)
			one_map(impl, fd, set, bufs.b4k, SMALL_SIZE, set->m4k_small);
		for (int j = 0; !(r & 1) && j < cfg.huge_reps; j++)
			huge_maps(impl, fd, set);
	}
}

/* The device on its cdev, attached to a new IOAS; the buffers mapped through it. */
static void iommufd_maps(int impl, int iommufd)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_destroy d = { .size = sizeof(d) };
	int fd = open(cfg.cdev, O_RDWR);

	if (fd < 0)
		die("open cdev");
	must_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b, "BIND_IOMMUFD");
	must_ioctl(iommufd, IOMMU_IOAS_ALLOC, &a, "IOAS_ALLOC");
	at.pt_id = a.out_ioas_id;
	must_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at, "ATTACH_IOMMUFD_PT");
	ioas_id = a.out_ioas_id;
	map_rounds(impl, iommufd, &ioas_set);
	close(fd);
	d.id = a.out_ioas_id;
	must_ioctl(iommufd, IOMMU_DESTROY, &d, "DESTROY ioas");
}

/* One group-path cycle: container and group set up, GET_DEVICE_FD, everything closed. */
static void group_cycle(int impl)
{
	uint64_t t0, t1, t2, t3;
	int container, group, device;

	t0 = now_ns();
	container = open_container(&group);
	t1 = now_ns();
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, cfg.bdf);
	if (device < 0)
		die("GET_DEVICE_FD");
	t2 = now_ns();
	close(device);
	close(group);
	close(container);
	t3 = now_ns();
	record(impl, GROUP_GET_FD, t2 - t1);
	record(impl, GROUP_CLOSE, t3 - t2);
	record(impl, OPEN_GROUP, t3 - t0);
}

/* One container setup of the group path, its steps timed, then everything closed. */
static void setup_cycle(int impl)
{
	uint64_t t0, t1;
	int container, group;

	t0 = now_ns();
	container = open_container(&group);
	t1 = now_ns();
	close(group);
	close(container);
	record(impl, GROUP_SETUP, t1 - t0);
	record(impl, SETUP_OPEN, setup_steps[0] - t0);
	record(impl, SETUP_OPEN_CONTAINER, setup_steps[3] - t0);
	record(impl, SETUP_OPEN_GROUP, setup_steps[4] - setup_steps[3]);
	record(impl, SETUP_GET_STATUS, setup_steps[5] - setup_steps[4]);
	record(impl, SETUP_SET_CONTAINER, setup_steps[1] - setup_steps[0]);
	record(impl, SETUP_SET_IOMMU, setup_steps[2] - setup_steps[1]);
}

/* One cdev-path cycle: open, BIND_IOMMUFD, close. */
static void cdev_cycle(int impl, int iommufd)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };
	uint64_t t0, t1, t2, t3;
	int fd;

	t0 = now_ns();
	fd = open(cfg.cdev, O_RDWR);
	if (fd < 0)
		die("open cdev");
	t1 = now_ns();
	must_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b, "BIND_IOMMUFD");
	t2 = now_ns();
	close(fd);
	t3 = now_ns();
	record(impl, CDEV_OPEN, t1 - t0);
	record(impl, CDEV_BIND, t2 - t1);
	record(impl, CDEV_CLOSE, t3 - t2);
	record(impl, OPEN_CDEV, t3 - t0);
}

/*
 * Operations per sample of the device metrics (each sample is their mean). Few: with HZ=1000
 * a timer tick (~10-20 k guest instructions) lands every million instructions, so a sample of
 * 32 config writes (~580 k) held one half the time and the median moved by a few hundred
 * instructions between the sides; 4 operations (<= 75 k) leave most samples tick-free.
 */
#define DEV_OPS 4

/* The device's config space, BAR0 and an MSI-X loopback through the cdev, as a VMM's exits. */
static void device_ops(int impl, int iommufd)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };
	const __u64 cfg_off = (__u64)VFIO_PCI_CONFIG_REGION_INDEX << 40;
	const __u64 bar0 = (__u64)VFIO_PCI_BAR0_REGION_INDEX << 40;
	char buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	__u16 cmd;
	__u32 v;
	uint64_t t0, cnt;
	int fd, efd;

	fd = open(cfg.cdev, O_RDWR);
	if (fd < 0)
		die("open cdev");
	must_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b, "BIND_IOMMUFD");
	if (pread(fd, &cmd, 2, cfg_off + 4) != 2)
		die("config read");
	efd = eventfd(0, 0);
	if (efd < 0)
		die("eventfd");
	*set = (struct vfio_irq_set){ .argsz = sizeof(buf), .index = VFIO_PCI_MSIX_IRQ_INDEX,
				      .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      .start = 0, .count = 1 };
	memcpy(set->data, &efd, 4);
	must_ioctl(fd, VFIO_DEVICE_SET_IRQS, set, "SET_IRQS MSI-X");
	for (int r = 0; r < cfg.dev_samples; r++) {
		t0 = now_ns();
		for (int i = 0; i < DEV_OPS; i++)
			if (pread(fd, &v, 4, cfg_off) != 4)
				die("config pread");
		record(impl, CFG_READ, (now_ns() - t0) / DEV_OPS);
		t0 = now_ns();
		for (int i = 0; i < DEV_OPS; i++)
			if (pwrite(fd, &cmd, 2, cfg_off + 4) != 2)
				die("config pwrite");
		record(impl, CFG_WRITE, (now_ns() - t0) / DEV_OPS);
		t0 = now_ns();
		for (int i = 0; i < DEV_OPS; i++)
			if (pread(fd, &v, 4, bar0) != 4)
				die("BAR0 pread");
		record(impl, BAR_READ, (now_ns() - t0) / DEV_OPS);
		set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->argsz = sizeof(*set);
		t0 = now_ns();
		for (int i = 0; i < DEV_OPS; i++) {
			must_ioctl(fd, VFIO_DEVICE_SET_IRQS, set, "SET_IRQS loopback");
			if (read(efd, &cnt, 8) != 8)
				die("eventfd read");
		}
		record(impl, IRQ_LOOPBACK, (now_ns() - t0) / DEV_OPS);
	}
	close(efd);
	close(fd);
}

static void run_phase(int impl)
{
	int container, group, iommufd;

	container = open_container(&group);
	map_rounds(impl, container, &type1_set);
	/* A vIOMMU guest's pattern: one page mapped and unmapped at a time. */
	for (int i = 0; i < cfg.page_reps; i++)
		map_unmap(impl, container, (char *)bufs.b4k + 4096 * i, 4096, MAP_PAGE,
			  UNMAP_PAGE);
	close(group);
	close(container);

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		die("open /dev/iommu");
	for (int i = 0; i < cfg.opens; i++) {
		if (i & 1) {
			cdev_cycle(impl, iommufd);
			group_cycle(impl);
		} else {
			group_cycle(impl);
			cdev_cycle(impl, iommufd);
		}
	}
	iommufd_maps(impl, iommufd);
	device_ops(impl, iommufd);
	close(iommufd);
	for (int i = 0; i < cfg.setups; i++)
		setup_cycle(impl);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_ns(struct series *s)
{
	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_u64);
	if (s->n & 1)
		return s->v[s->n / 2];
	return (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2.0;
}

static void report(void)
{
	double med[2][NR_METRICS];

	for (int m = 0; m < NR_METRICS; m++)
		for (int i = 0; i < 2; i++)
			med[i][m] = median_ns(&results[i][m]);

	printf("\n# vfio_bench: median of each implementation's samples, ms; ratio = %s/%s\n",
	       labels[1], labels[0]);
	printf("# %-20s %-36s %12s %12s %7s %7s\n", "metric", "what", labels[0], labels[1],
	       "ratio", "samples");
	for (int m = 0; m < NR_METRICS; m++) {
		char name[32];

		if (!results[0][m].n && !results[1][m].n)
			continue;
		snprintf(name, sizeof(name), "%s%s", metrics[m].detail ? "  " : "", metrics[m].name);
		printf("# %-20s %-36s %12.3f %12.3f %7.3f %3d/%-3d\n", name, metrics[m].what,
		       med[0][m] / 1e6, med[1][m] / 1e6, med[0][m] ? med[1][m] / med[0][m] : 0,
		       results[0][m].n, results[1][m].n);
	}
	printf("\n");
	for (int m = 0; m < NR_METRICS; m++)
		if (results[0][m].n || results[1][m].n)
			printf("vfio_bench: metric=%s %s_ns=%.0f %s_ns=%.0f ratio=%.3f "
			       "samples=%d,%d\n", metrics[m].name, labels[0], med[0][m], labels[1],
			       med[1][m], med[0][m] ? med[1][m] / med[0][m] : 0, results[0][m].n,
			       results[1][m].n);
}

int main(int argc, char **argv)
{
	char phases_arg[256] = "upstream,rust,rust,upstream,upstream,rust,rust,upstream";
	char phases_copy[256];
	const char *phases[MAX_PHASES];
	int nphases = 0, opt;
	long runs4k, runs2m, runs1g = 0;
	char *tok, *save;

	while ((opt = getopt(argc, argv, "s:p:k:j:n:c:m:S:")) != -1) {
		switch (opt) {
		case 's': cfg.switch_cmd = optarg; break;
		case 'p': snprintf(phases_arg, sizeof(phases_arg), "%s", optarg); break;
		case 'k': cfg.rounds = atoi(optarg); break;
		case 'j': cfg.huge_reps = atoi(optarg); break;
		case 'n': cfg.opens = atoi(optarg); break;
		case 'c': cfg.setups = atoi(optarg); break;
		case 'm': cfg.size = strtoul(optarg, NULL, 0) << 20; break;
		case 'S': cfg.large = strtoul(optarg, NULL, 0) << 20; break;
		default:
			fprintf(stderr, "usage: %s [-s SWITCH_CMD] [-p LABELS] [-k N] [-j N] [-n N] "
				"[-m MIB] [-S MIB] [BDF]\n", argv[0]);
			return 2;
		}
	}
	if (!cfg.size || cfg.size % HUGE_2M || cfg.large % HUGE_2M || cfg.rounds < 1 ||
	    cfg.huge_reps < 1 || cfg.opens < 1 || cfg.setups < 1) {
		fprintf(stderr, "vfio_bench: -m must be a non-zero multiple of 2, -S a multiple "
			"of 2, -k, -j, -n positive\n");
		return 2;
	}
	/* -S no larger than -m: no scaling run. */
	if (cfg.large <= cfg.size)
		cfg.large = 0;
	snprintf(phases_copy, sizeof(phases_copy), "%s", phases_arg);
	for (tok = strtok_r(phases_copy, ",", &save); tok && nphases < MAX_PHASES;
	     tok = strtok_r(NULL, ",", &save)) {
		phases[nphases++] = tok;
		if (!labels[0])
			labels[0] = tok;
		else if (strcmp(tok, labels[0]) && !labels[1])
			labels[1] = tok;
		else if (strcmp(tok, labels[0]) && strcmp(tok, labels[1])) {
			fprintf(stderr, "vfio_bench: more than two labels in -p\n");
			return 2;
		}
	}
	if (!labels[1]) {
		fprintf(stderr, "vfio_bench: -p needs two distinct labels\n");
		return 2;
	}
	if (optind < argc)
		snprintf(cfg.bdf, sizeof(cfg.bdf), "%s", argv[optind]);
	else if (vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, cfg.bdf, sizeof(cfg.bdf))) {
		fprintf(stderr, "vfio_bench: no igb (8086:10c9) in this machine\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	bufs.b4k = alloc_buffer(cfg.size, 0, 0);
	bufs.b2m = alloc_buffer(cfg.size > cfg.large ? cfg.size : cfg.large, 21, 0);
	bufs.b2ms = alloc_buffer(cfg.size, -21, 0);
	bufs.b1g = alloc_buffer(HUGE_1G, 30, 1);
	runs4k = contiguous_runs(bufs.b4k, cfg.size);
	runs2m = contiguous_runs(bufs.b2m, cfg.size);
	if (bufs.b1g)
		runs1g = contiguous_runs(bufs.b1g, HUGE_1G);
	else
		printf("# vfio_bench: no 1 GiB huge page (boot with hugepagesz=1G hugepages=1): "
		       "no 1g figures\n");
	printf("# vfio_bench: device %s, 4k, 2m and 2m shared (memfd) buffers of %zu MiB (2m "
	       "scaled to 256 and %zu MiB), one 1 GiB page, at IOVA 0x%llx; %d map/unmap rounds "
	       "(4k x1, hugetlb x%d), %d open cycles per path and %d container setups per phase, "
	       "phases %s\n", cfg.bdf,
	       cfg.size >> 20, cfg.large >> 20, (unsigned long long)BENCH_IOVA, cfg.rounds,
	       cfg.huge_reps, cfg.opens, cfg.setups, phases_arg);
	printf("# vfio_bench: physically contiguous runs (one iommu_map each): 4k buffer %ld, "
	       "2m buffer %ld, 1g buffer %ld (0: pagemap unreadable)\n", runs4k, runs2m, runs1g);

	for (int p = 0; p < nphases; p++) {
		int impl = strcmp(phases[p], labels[0]) ? 1 : 0;
		uint64_t t0 = now_ns();

		printf("# vfio_bench: phase %d/%d: %s\n", p + 1, nphases, phases[p]);
		start_phase(phases[p]);
		run_phase(impl);
		printf("# vfio_bench: phase %d done in %.1f s\n", p + 1, (now_ns() - t0) / 1e9);
	}
	report();
	return 0;
}
