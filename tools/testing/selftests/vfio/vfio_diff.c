// SPDX-License-Identifier: GPL-2.0
/*
 * Differential behaviour probe of the VFIO uAPI (not a kselftest).
 *
 * Drives the container, group, group-derived device fd and device cdev of the
 * guest's igb (bound to vfio-pci), and the migration and DMA logging features
 * of two mtty devices (upstream's C sample), and SR-IOV VF tokens on emulated
 * devices (mtty, our Rust sample driver: no match_token_uuid op) and on an igb VF
 * (vfio-pci's enable_sriov), with good and bad arguments, in wrong orders,
 * with double calls and odd close orders, and prints one deterministic line per
 * call: "<label> = <result>". A result is the return value, "fd" for a new file
 * descriptor, or "err <ERRNO>"; pointers and fd numbers are never printed.
 * scripts/check runs it on both cores and diffs the two outputs line by line,
 * so everything printed must be a function of the kernel's behaviour only.
 *
 * Output is framed by "# vfio_diff: begin" and "# vfio_diff: end N lines"; the
 * end line is missing if the program did not run to completion.
 *
 * Sections (container, group, type1, gdev, cdev, compat2, mig, tokens, sriov, compat,
 * config: vfio_diff_config.c, bars: vfio_diff_bars.c) run in that order, each from and back to a closed state; naming some on the
 * command line runs only those, to narrow a difference down in one boot:
 *   scripts/vm --impl rust -- sh -c 'out/selftests/vfio_diff cdev'
 * Upstream's output is the reference: it must not change from boot to boot.
 */
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/iommufd.h>

#include "vfio_diff.h"

static char bdf[32], group_path[64], cdev_path[96];
/* An unmapped user address, hidden from the compiler's null-argument checks. */
static void *volatile bad_ptr = (void *)8;
static unsigned int lines;

/* One output line: label, " = ", formatted result. */
void out(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%s = ", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	lines++;
}

const char *errname(int e)
{
	static char buf[16];
	const char *n = strerrorname_np(e);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* A value result: >= 0 as a number, < 0 as -errno. */
long res(const char *label, long ret)
{
	if (ret < 0)
		out(label, "err %s", errname(-ret));
	else
		out(label, "%ld", ret);
	return ret;
}

/* A new fd result: "fd", or the error. Returns the fd or -errno. */
int res_fd(const char *label, int ret)
{
	if (ret < 0)
		out(label, "err %s", errname(-ret));
	else
		out(label, "fd");
	return ret;
}

/* Syscall convention (-1 + errno) to -errno. */
long sys(long ret)
{
	return ret < 0 ? -errno : ret;
}

long ioc(int fd, unsigned long cmd, const void *arg)
{
	return vfio_rs_ioctl(fd, cmd, (unsigned long)arg);
}

int open_rw(const char *path)
{
	return sys(open(path, O_RDWR | O_CLOEXEC));
}

/* Closes an fd a call should not have returned, without a line (the call's line differs). */
void drop(int fd)
{
	if (fd >= 0)
		close(fd);
}

void close_fd(const char *label, int *fd)
{
	if (*fd < 0)
		return;
	res(label, sys(close(*fd)));
	*fd = -1;
}

/* Label built from a format. */
const char *L(const char *fmt, ...)
{
	static char buf[8][160];
	static unsigned int n;
	char *b = buf[n++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(buf[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* An fd number that is surely not open. */
static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);

	close(fd);
	return fd;
}

/* Every VFIO ioctl number VFIO_BASE+0..25 with a NULL argument. */
static void sweep(const char *what, int fd, int skip_nr)
{
	for (int nr = 0; nr <= 25; nr++) {
		if (nr == skip_nr)
			continue;
		res(L("%s.sweep.%d", what, nr), ioc(fd, _IO(VFIO_TYPE, VFIO_BASE + nr), NULL));
	}
	res(L("%s.sweep.foreign_type", what), ioc(fd, _IO('T', 1), NULL));
}

static void check_extensions(const char *what, int container)
{
	for (int ext = 0; ext <= 20; ext++)
		res(L("%s.check_extension.%d", what, ext),
		    ioc(container, VFIO_CHECK_EXTENSION, (void *)(long)ext));
}

/* /proc/self/fd link target and the fdinfo lines that are the driver's. */
static void fd_identity(const char *what, int fd)
{
	char path[64], link[256], line[512];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		res(L("%s.fdlink", what), -errno);
	} else {
		link[n] = 0;
		out(L("%s.fdlink", what), "%s", link);
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f) {
		res(L("%s.fdinfo", what), -errno);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		/* pos/flags/mnt_id/ino are the VFS's; flags kept, ids differ per boot. */
		if (!strncmp(line, "pos:", 4) || !strncmp(line, "mnt_id:", 7) ||
		    !strncmp(line, "ino:", 4))
			continue;
		out(L("%s.fdinfo", what), "%s", line);
	}
	fclose(f);
}

/* VFS-level behaviour; read/write only where no device register is behind them. */
static void fd_generic(const char *what, int fd, int rw)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI };
	struct stat st;
	char buf[4];

	if (fstat(fd, &st))
		res(L("%s.fstat", what), -errno);
	else
		out(L("%s.fstat", what), "mode %o", st.st_mode);
	res(L("%s.lseek", what), sys(lseek(fd, 0, SEEK_CUR)));
	res(L("%s.poll", what), sys(poll(&p, 1, 0)));
	out(L("%s.poll.revents", what), "0x%x", p.revents);
	if (rw) {
		memset(buf, 0, sizeof(buf));
		res(L("%s.read", what), sys(read(fd, buf, sizeof(buf))));
		res(L("%s.write", what), sys(write(fd, buf, sizeof(buf))));
	}
	fd_identity(what, fd);
}

static void mmap_case(const char *label, int fd, size_t len, int flags, __u64 off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);

	if (p == MAP_FAILED) {
		res(label, -errno);
		return;
	}
	out(label, "mapped");
	munmap(p, len);
}

/* ---- container ---- */

static void container_alone(void)
{
	int c = res_fd("container.open", open_rw(VFIO_CONTAINER_PATH));
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };

	res("container.get_api_version", ioc(c, VFIO_GET_API_VERSION, NULL));
	res("container.get_api_version.arg", ioc(c, VFIO_GET_API_VERSION, (void *)7));
	check_extensions("container.no_group", c);
	res("container.check_extension.huge", ioc(c, VFIO_CHECK_EXTENSION, (void *)-1L));
	res("container.set_iommu.no_group.type1v2",
	    ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
	res("container.set_iommu.no_group.bad", ioc(c, VFIO_SET_IOMMU, (void *)99));
	res("container.no_group.iommu_get_info", ioc(c, VFIO_IOMMU_GET_INFO, &info));
	res("container.no_group.map_dma", ioc(c, VFIO_IOMMU_MAP_DMA, &map));
	res("container.unknown_ioctl", ioc(c, _IO(VFIO_TYPE, VFIO_BASE + 50), NULL));
	sweep("container.no_group", c, -1);
	fd_generic("container", c, 1);
	mmap_case("container.mmap", c, 4096, MAP_SHARED, 0);
	close_fd("container.close", &c);
}

/* ---- group + container ---- */

static long group_status(const char *label, int g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	long ret = res(label, ioc(g, VFIO_GROUP_GET_STATUS, &st));

	if (ret >= 0)
		out(L("%s.flags", label), "0x%x", st.flags);
	return ret;
}

static int set_container(int g, int fd)
{
	return ioc(g, VFIO_GROUP_SET_CONTAINER, &fd);
}

static int get_device_fd(const char *label, int g, const char *name)
{
	return res_fd(label, ioc(g, VFIO_GROUP_GET_DEVICE_FD, name));
}

static void group_basics(void)
{
	struct vfio_group_status st = { .argsz = 0 };
	char longname[5000];
	int g, g2, c, c2, dev, nul;

	g = res_fd("group.open", open_rw(group_path));
	g2 = res_fd("group.open.second", open_rw(group_path));
	close_fd("group.close.second", &g2);

	res("group.get_status.argsz0", ioc(g, VFIO_GROUP_GET_STATUS, &st));
	st.argsz = 7;
	res("group.get_status.argsz7", ioc(g, VFIO_GROUP_GET_STATUS, &st));
	res("group.get_status.null", ioc(g, VFIO_GROUP_GET_STATUS, NULL));
	st.argsz = 8;
	st.flags = 0xffffffff;
	res("group.get_status.flags_in", ioc(g, VFIO_GROUP_GET_STATUS, &st));
	out("group.get_status.flags_in.flags", "0x%x", st.flags);
	st.argsz = 4096;
	res("group.get_status.argsz_big", ioc(g, VFIO_GROUP_GET_STATUS, &st));
	out("group.get_status.argsz_big.argsz", "%u", st.argsz);
	group_status("group.get_status.fresh", g);

	res("group.unset_container.none", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	drop(get_device_fd("group.get_device_fd.no_container", g, bdf));
	drop(get_device_fd("group.get_device_fd.no_container.badname", g, "0000:99:00.0"));
	sweep("group.no_container", g, -1);

	res("group.set_container.null", ioc(g, VFIO_GROUP_SET_CONTAINER, NULL));
	res("group.set_container.closed_fd", set_container(g, closed_fd()));
	res("group.set_container.minus1", set_container(g, -1));
	nul = open("/dev/null", O_RDWR);
	res("group.set_container.devnull", set_container(g, nul));
	close(nul);
	res("group.set_container.self", set_container(g, g));
	group_status("group.get_status.after_bad_set", g);

	c = res_fd("group.container.open", open_rw(VFIO_CONTAINER_PATH));
	res("group.set_iommu.before_set_container",
	    ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
	res("group.set_container", set_container(g, c));
	res("group.set_container.twice", set_container(g, c));
	c2 = res_fd("group.container2.open", open_rw(VFIO_CONTAINER_PATH));
	res("group.set_container.other_while_set", set_container(g, c2));
	close_fd("group.container2.close", &c2);
	group_status("group.get_status.container_set", g);
	check_extensions("group.container.no_iommu", c);
	res("group.container.no_iommu.unknown", ioc(c, _IO(VFIO_TYPE, VFIO_BASE + 50), NULL));

	drop(get_device_fd("group.get_device_fd.no_iommu", g, bdf));

	res("group.set_iommu.bad99", ioc(c, VFIO_SET_IOMMU, (void *)99));
	res("group.set_iommu.spapr", ioc(c, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_IOMMU));
	res("group.set_iommu.noiommu", ioc(c, VFIO_SET_IOMMU, (void *)VFIO_NOIOMMU_IOMMU));
	res("group.set_iommu.type1v2", ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
	res("group.set_iommu.twice", ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
	res("group.set_iommu.type1_after", ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1_IOMMU));
	check_extensions("group.container.iommu_set", c);
	res("group.container.iommu_set.unknown", ioc(c, _IO(VFIO_TYPE, VFIO_BASE + 50), NULL));
	sweep("group.container.iommu_set", c, VFIO_SET_IOMMU - VFIO_GET_API_VERSION);

	drop(get_device_fd("group.get_device_fd.badname", g, "0000:99:00.0"));
	drop(get_device_fd("group.get_device_fd.empty", g, ""));
	drop(get_device_fd("group.get_device_fd.trailing_space", g, L("%s ", bdf)));
	drop(get_device_fd("group.get_device_fd.trailing_junk", g, L("%s x", bdf)));
	drop(get_device_fd("group.get_device_fd.bad_option", g, L("%s foo=bar", bdf)));
	drop(get_device_fd("group.get_device_fd.bad_token", g, L("%s vf_token=zzz", bdf)));
	memset(longname, 'a', sizeof(longname));
	longname[sizeof(longname) - 1] = 0;
	drop(get_device_fd("group.get_device_fd.too_long", g, longname));
	res("group.get_device_fd.null", ioc(g, VFIO_GROUP_GET_DEVICE_FD, NULL));

	dev = get_device_fd("group.get_device_fd", g, bdf);
	g2 = get_device_fd("group.get_device_fd.second", g, bdf);
	close_fd("group.device.second.close", &g2);
	res("group.unset_container.device_open", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	group_status("group.get_status.device_open", g);
	close_fd("group.device.close", &dev);
	res("group.unset_container", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	res("group.unset_container.twice", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	group_status("group.get_status.unset", g);
	check_extensions("group.container.deprivileged", c);
	res("group.container.deprivileged.get_info",
	    ioc(c, VFIO_IOMMU_GET_INFO, &(struct vfio_iommu_type1_info){ .argsz = 16 }));
	/* The deprivileged container takes the group and an IOMMU again. */
	res("group.set_container.again", set_container(g, c));
	res("group.set_iommu.type1_again", ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1_IOMMU));
	res("group.container.check_extension.type1v2_on_type1",
	    ioc(c, VFIO_CHECK_EXTENSION, (void *)VFIO_TYPE1v2_IOMMU));
	close_fd("group.close.with_container", &g);
	res("group.container.after_group_close.set_iommu",
	    ioc(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
	close_fd("group.container.close", &c);
}

/* ---- type1 backend: GET_INFO, MAP/UNMAP and DIRTY_PAGES arguments ---- */

#define T1_PG 4096ULL
#define T1_IOVA 0x40000000ULL
#define T1_RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* GET_INFO with a given argsz into a 0xa5-filled buffer; prints what came back and the caps. */
static void t1_info(const char *prefix, int c, __u32 argsz)
{
	union {
		struct vfio_iommu_type1_info info;
		unsigned char raw[4096];
	} b;
	__u32 off, n = 0;
	char what[128];

	/* The prefix may be one of L()'s buffers, which the labels below recycle. */
	snprintf(what, sizeof(what), "%s", prefix);

	memset(&b, 0xa5, sizeof(b));
	b.info.argsz = argsz;
	res(L("%s.get_info.argsz%u", what, argsz), ioc(c, VFIO_IOMMU_GET_INFO, &b));
	out(L("%s.get_info.argsz%u.out", what, argsz),
	    "argsz %u flags 0x%x pgsizes 0x%llx cap_offset 0x%x pad 0x%x", b.info.argsz,
	    b.info.flags, (unsigned long long)b.info.iova_pgsizes, b.info.cap_offset, b.info.pad);
	if (argsz > sizeof(b) || b.info.argsz > argsz || !(b.info.flags & VFIO_IOMMU_INFO_CAPS))
		return;
	for (off = b.info.cap_offset; off && off + 8 <= argsz && n < 8; n++) {
		struct vfio_info_cap_header *h = (void *)(b.raw + off);

		out(L("%s.get_info.argsz%u.cap%u", what, argsz, n), "id %u version %u next 0x%x",
		    h->id, h->version, h->next);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			struct vfio_iommu_type1_info_dma_avail *a = (void *)h;

			out(L("%s.get_info.argsz%u.cap%u.avail", what, argsz, n), "%u", a->avail);
		} else if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
			struct vfio_iommu_type1_info_cap_migration *m = (void *)h;

			out(L("%s.get_info.argsz%u.cap%u.migration", what, argsz, n),
			    "flags 0x%x pgsizes 0x%llx max_bitmap %llu", m->flags,
			    (unsigned long long)m->pgsize_bitmap,
			    (unsigned long long)m->max_dirty_bitmap_size);
		} else if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;

			out(L("%s.get_info.argsz%u.cap%u.nr_iovas", what, argsz, n), "%u",
			    r->nr_iovas);
			for (__u32 i = 0; i < r->nr_iovas && i < 8 &&
			     (unsigned char *)&r->iova_ranges[i + 1] <= b.raw + argsz; i++)
				out(L("%s.get_info.argsz%u.cap%u.iova%u", what, argsz, n, i),
				    "0x%llx-0x%llx", (unsigned long long)r->iova_ranges[i].start,
				    (unsigned long long)r->iova_ranges[i].end);
		}
		off = h->next;
	}
}

static long t1_map(int c, __u32 argsz, __u32 flags, void *vaddr, __u64 iova, __u64 size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = argsz, .flags = flags, .vaddr = (uintptr_t)vaddr,
		.iova = iova, .size = size,
	};

	return ioc(c, VFIO_IOMMU_MAP_DMA, &m);
}

/* UNMAP_DMA (with a vfio_bitmap after it if bitmap); prints the result and the size field. */
static void t1_unmap(const char *label, int c, __u32 argsz, __u32 flags, __u64 iova, __u64 size,
		     const struct vfio_bitmap *bitmap)
{
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} a = { .u = { .argsz = argsz, .flags = flags, .iova = iova, .size = size } };

	if (bitmap)
		a.b = *bitmap;
	res(label, ioc(c, VFIO_IOMMU_UNMAP_DMA, &a));
	out(L("%s.size", label), "0x%llx", (unsigned long long)a.u.size);
}

/* DIRTY_PAGES with a GET_BITMAP range after the header. */
static long t1_dirty(int c, __u32 argsz, __u32 flags, __u64 iova, __u64 size, __u64 pgsize,
		     __u64 bsize, void *data)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get g;
	} a = {
		.d = { .argsz = argsz, .flags = flags },
		.g = { .iova = iova, .size = size,
		       .bitmap = { .pgsize = pgsize, .size = bsize, .data = data } },
	};

	return ioc(c, VFIO_IOMMU_DIRTY_PAGES, &a);
}

static void type1_container(const char *what, unsigned long type)
{
	const __u32 map_sz = sizeof(struct vfio_iommu_type1_dma_map);
	const __u32 unmap_sz = sizeof(struct vfio_iommu_type1_dma_unmap);
	const __u32 dirty_sz = sizeof(struct vfio_iommu_type1_dirty_bitmap) +
			       sizeof(struct vfio_iommu_type1_dirty_bitmap_get);
	const __u32 argszs[] = { 0, 8, 15, 16, 19, 20, 23, 24, 4096 };
	const __u32 map_flags[] = { 0, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, T1_RW,
				    VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_READ |
				    VFIO_DMA_MAP_FLAG_VADDR, 1 << 3, 0x80000000 };
	const __u32 unmap_flags[] = { 1 << 3, 0x80000000, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
				      VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL,
				      VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
				      VFIO_DMA_UNMAP_FLAG_VADDR, VFIO_DMA_UNMAP_FLAG_ALL,
				      VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR };
	const __u32 dirty_flags[] = { 0, 1 << 3, VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
				      VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
				      VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
				      VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP };
	const __u64 top = ~0ULL & ~(T1_PG - 1);
	__u64 bits[4] = { 0 };
	struct vfio_bitmap bm = { .pgsize = T1_PG, .size = sizeof(bits), .data = bits };
	int g, c;
	char *buf;
	size_t i;

	g = open_rw(group_path);
	c = open_rw(VFIO_CONTAINER_PATH);
	res(L("%s.setup.set_container", what), set_container(g, c));
	res(L("%s.setup.set_iommu", what), ioc(c, VFIO_SET_IOMMU, (void *)type));
	buf = mmap(NULL, 16 * T1_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		buf = NULL;
	res(L("%s.setup.mmap", what), buf ? 0 : -ENOMEM);
	if (!buf)
		goto out;
	res(L("%s.setup.munmap_hole", what), sys(munmap(buf + 15 * T1_PG, T1_PG)));

	/* GET_INFO */
	for (i = 0; i < sizeof(argszs) / sizeof(argszs[0]); i++)
		t1_info(what, c, argszs[i]);
	res(L("%s.get_info.null", what), ioc(c, VFIO_IOMMU_GET_INFO, NULL));
	res(L("%s.get_info.bad_ptr", what), ioc(c, VFIO_IOMMU_GET_INFO, bad_ptr));

	/* MAP_DMA: argsz, flags, alignment, overflow, backing */
	for (i = 0; i < sizeof(argszs) / sizeof(argszs[0]); i++) {
		__u32 a = argszs[i] == 24 ? map_sz - 1 : argszs[i];

		res(L("%s.map.argsz%u", what, a), t1_map(c, a, T1_RW, buf, T1_IOVA, T1_PG));
		if (!t1_map(c, map_sz, T1_RW, buf, T1_IOVA, T1_PG))
			out(L("%s.map.argsz%u.was_mapped", what, a), "no");
		t1_unmap(L("%s.map.argsz%u.undo", what, a), c, unmap_sz, 0, T1_IOVA, T1_PG, NULL);
	}
	for (i = 0; i < sizeof(map_flags) / sizeof(map_flags[0]); i++) {
		res(L("%s.map.flags0x%x", what, map_flags[i]),
		    t1_map(c, map_sz, map_flags[i], buf, T1_IOVA, T1_PG));
		t1_unmap(L("%s.map.flags0x%x.undo", what, map_flags[i]), c, unmap_sz, 0, T1_IOVA,
			 T1_PG, NULL);
	}
	res(L("%s.map.null", what), ioc(c, VFIO_IOMMU_MAP_DMA, NULL));
	res(L("%s.map.size0", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA, 0));
	res(L("%s.map.size_half", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA, T1_PG / 2));
	res(L("%s.map.size_plus1", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA, T1_PG + 1));
	res(L("%s.map.iova_plus1", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA + 1, T1_PG));
	res(L("%s.map.iova_half", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA + 2048, T1_PG));
	res(L("%s.map.vaddr_plus1", what), t1_map(c, map_sz, T1_RW, buf + 1, T1_IOVA, T1_PG));
	res(L("%s.map.iova_overflow", what), t1_map(c, map_sz, T1_RW, buf, top, 2 * T1_PG));
	res(L("%s.map.iova_overflow_unaligned", what), t1_map(c, map_sz, T1_RW, buf, ~0ULL, 2));
	res(L("%s.map.vaddr_overflow", what),
	    t1_map(c, map_sz, T1_RW, (void *)(uintptr_t)top, T1_IOVA, 2 * T1_PG));
	res(L("%s.map.iova_top_page", what), t1_map(c, map_sz, T1_RW, buf, top, T1_PG));
	res(L("%s.map.iova_msi_window", what), t1_map(c, map_sz, T1_RW, buf, 0xfee00000, T1_PG));
	res(L("%s.map.vaddr_unmapped", what), t1_map(c, map_sz, T1_RW, bad_ptr, T1_IOVA, T1_PG));
	res(L("%s.map.vaddr_hole", what),
	    t1_map(c, map_sz, T1_RW, buf + 14 * T1_PG, T1_IOVA, 2 * T1_PG));
	res(L("%s.map.vaddr_kernel", what),
	    t1_map(c, map_sz, T1_RW, (void *)0xffff888000000000ULL, T1_IOVA, T1_PG));
	res(L("%s.map.A", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA, 4 * T1_PG));
	res(L("%s.map.B", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA + 4 * T1_PG, 4 * T1_PG));
	res(L("%s.map.A_again", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA, 4 * T1_PG));
	res(L("%s.map.overlap_A_end", what),
	    t1_map(c, map_sz, T1_RW, buf, T1_IOVA + 3 * T1_PG, T1_PG));
	res(L("%s.map.vaddr_update_valid", what),
	    t1_map(c, map_sz, VFIO_DMA_MAP_FLAG_VADDR, buf, T1_IOVA, 4 * T1_PG));
	res(L("%s.map.vaddr_update_none", what),
	    t1_map(c, map_sz, VFIO_DMA_MAP_FLAG_VADDR, buf, T1_IOVA + 64 * T1_PG, T1_PG));
	t1_info(L("%s.mapped", what), c, 4096);

	/* UNMAP_DMA: argsz, flags, alignment, partial ranges */
	for (i = 0; i < sizeof(argszs) / sizeof(argszs[0]); i++)
		t1_unmap(L("%s.unmap.argsz%u", what, argszs[i]), c, argszs[i], 0,
			 T1_IOVA + 64 * T1_PG, T1_PG, NULL);
	for (i = 0; i < sizeof(unmap_flags) / sizeof(unmap_flags[0]); i++)
		t1_unmap(L("%s.unmap.flags0x%x.iova", what, unmap_flags[i]), c, unmap_sz,
			 unmap_flags[i], T1_IOVA + 64 * T1_PG, T1_PG, NULL);
	t1_unmap(L("%s.unmap.dirty_with_bitmap", what), c, unmap_sz + sizeof(bm),
		 VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, T1_IOVA + 64 * T1_PG, T1_PG, &bm);
	res(L("%s.unmap.null", what), ioc(c, VFIO_IOMMU_UNMAP_DMA, NULL));
	t1_unmap(L("%s.unmap.size0", what), c, unmap_sz, 0, T1_IOVA, 0, NULL);
	t1_unmap(L("%s.unmap.iova_plus1", what), c, unmap_sz, 0, T1_IOVA + 1, T1_PG, NULL);
	t1_unmap(L("%s.unmap.size_plus1", what), c, unmap_sz, 0, T1_IOVA, T1_PG + 1, NULL);
	t1_unmap(L("%s.unmap.overflow", what), c, unmap_sz, 0, top, 2 * T1_PG, NULL);
	t1_unmap(L("%s.unmap.all_iova", what), c, unmap_sz, VFIO_DMA_UNMAP_FLAG_ALL, T1_PG, 0,
		 NULL);
	t1_unmap(L("%s.unmap.all_size", what), c, unmap_sz, VFIO_DMA_UNMAP_FLAG_ALL, 0, T1_PG,
		 NULL);
	t1_unmap(L("%s.unmap.inside_A", what), c, unmap_sz, 0, T1_IOVA + T1_PG, T1_PG, NULL);
	t1_unmap(L("%s.unmap.A_head", what), c, unmap_sz, 0, T1_IOVA, T1_PG, NULL);
	t1_unmap(L("%s.unmap.before_A", what), c, unmap_sz, 0, T1_IOVA - T1_PG, 2 * T1_PG, NULL);
	t1_unmap(L("%s.unmap.vaddr_B", what), c, unmap_sz, VFIO_DMA_UNMAP_FLAG_VADDR,
		 T1_IOVA + 4 * T1_PG, 4 * T1_PG, NULL);
	t1_unmap(L("%s.unmap.vaddr_B_again", what), c, unmap_sz, VFIO_DMA_UNMAP_FLAG_VADDR,
		 T1_IOVA, 8 * T1_PG, NULL);
	res(L("%s.map.vaddr_update_B_short", what),
	    t1_map(c, map_sz, VFIO_DMA_MAP_FLAG_VADDR, buf, T1_IOVA + 4 * T1_PG, T1_PG));
	res(L("%s.map.vaddr_update_B", what),
	    t1_map(c, map_sz, VFIO_DMA_MAP_FLAG_VADDR, buf, T1_IOVA + 4 * T1_PG, 4 * T1_PG));
	t1_unmap(L("%s.unmap.A_B", what), c, unmap_sz, 0, T1_IOVA, 8 * T1_PG, NULL);
	t1_unmap(L("%s.unmap.all_empty", what), c, unmap_sz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL);

	/* DIRTY_PAGES */
	res(L("%s.dirty.null", what), ioc(c, VFIO_IOMMU_DIRTY_PAGES, NULL));
	for (i = 0; i < 4; i++)
		res(L("%s.dirty.argsz%u", what, argszs[i]),
		    t1_dirty(c, argszs[i], VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 0, 0, 0, 0, NULL));
	for (i = 0; i < sizeof(dirty_flags) / sizeof(dirty_flags[0]); i++)
		res(L("%s.dirty.flags0x%x", what, dirty_flags[i]),
		    t1_dirty(c, dirty_sz, dirty_flags[i], 0, 0, 0, 0, NULL));
	res(L("%s.dirty.map", what), t1_map(c, map_sz, T1_RW, buf, T1_IOVA, 4 * T1_PG));
	res(L("%s.dirty.get_not_started", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG,
		     T1_PG, sizeof(bits), bits));
	res(L("%s.dirty.start", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 0, 0, 0, 0, NULL));
	res(L("%s.dirty.start_again", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 0, 0, 0, 0, NULL));
	res(L("%s.dirty.get.argsz_header", what),
	    t1_dirty(c, sizeof(struct vfio_iommu_type1_dirty_bitmap),
		     VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG, T1_PG,
		     sizeof(bits), bits));
	res(L("%s.dirty.get.argsz_short", what),
	    t1_dirty(c, dirty_sz - 1, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA,
		     4 * T1_PG, T1_PG, sizeof(bits), bits));
	res(L("%s.dirty.get.size0", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 0, T1_PG,
		     sizeof(bits), bits));
	res(L("%s.dirty.get.overflow", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, top, 2 * T1_PG, T1_PG,
		     sizeof(bits), bits));
	res(L("%s.dirty.get.pgsize_2m", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG,
		     2 << 20, sizeof(bits), bits));
	res(L("%s.dirty.get.iova_unaligned", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA + 8, 4 * T1_PG,
		     T1_PG, sizeof(bits), bits));
	res(L("%s.dirty.get.size_unaligned", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG - 8,
		     T1_PG, sizeof(bits), bits));
	res(L("%s.dirty.get.bitmap_small", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 1024 * T1_PG,
		     T1_PG, 8, bits));
	res(L("%s.dirty.get.bitmap_huge", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG,
		     T1_PG, 1ULL << 40, bits));
	res(L("%s.dirty.get.bitmap_kernel", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG,
		     T1_PG, sizeof(bits), (void *)0xffff888000000000ULL));
	res(L("%s.dirty.get.partial", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 2 * T1_PG,
		     T1_PG, sizeof(bits), bits));
	res(L("%s.dirty.get.unmapped", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA + 64 * T1_PG,
		     4 * T1_PG, T1_PG, sizeof(bits), bits));
	memset(bits, 0, sizeof(bits));
	res(L("%s.dirty.get", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, T1_IOVA, 4 * T1_PG,
		     T1_PG, sizeof(bits), bits));
	out(L("%s.dirty.get.bits", what), "0x%llx", (unsigned long long)bits[0]);
	t1_unmap(L("%s.dirty.unmap.bitmap_pgsize", what), c, unmap_sz + sizeof(bm),
		 VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, T1_IOVA, 4 * T1_PG,
		 &(struct vfio_bitmap){ .pgsize = 2 << 20, .size = sizeof(bits), .data = bits });
	memset(bits, 0, sizeof(bits));
	t1_unmap(L("%s.dirty.unmap.bitmap", what), c, unmap_sz + sizeof(bm),
		 VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, T1_IOVA, 4 * T1_PG, &bm);
	out(L("%s.dirty.unmap.bitmap.bits", what), "0x%llx", (unsigned long long)bits[0]);
	res(L("%s.dirty.stop", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 0, 0, 0, 0, NULL));
	res(L("%s.dirty.stop_again", what),
	    t1_dirty(c, dirty_sz, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 0, 0, 0, 0, NULL));
	munmap(buf, 15 * T1_PG);
out:
	close(g);
	close_fd(L("%s.container.close", what), &c);
}

static void type1_tests(void)
{
	type1_container("type1v1", VFIO_TYPE1_IOMMU);
	type1_container("type1v2", VFIO_TYPE1v2_IOMMU);
}

/* ---- device fd (from the group) ---- */

struct opened {
	int group, container, dev;
};

static struct opened open_via_container(const char *what)
{
	struct opened o = { -1, -1, -1 };

	o.group = open_rw(group_path);
	o.container = open_rw(VFIO_CONTAINER_PATH);
	res(L("%s.setup.set_container", what), set_container(o.group, o.container));
	res(L("%s.setup.set_iommu", what),
	    ioc(o.container, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
	o.dev = get_device_fd(L("%s.setup.get_device_fd", what), o.group, bdf);
	return o;
}

static void device_info(const char *what, int dev)
{
	struct {
		struct vfio_device_info info;
		char pad[4096];
	} big = { .info = { .argsz = sizeof(big) } };
	struct vfio_device_info info = { .argsz = 0 };

	res(L("%s.get_info.argsz0", what), ioc(dev, VFIO_DEVICE_GET_INFO, &info));
	info.argsz = 8;
	res(L("%s.get_info.argsz8", what), ioc(dev, VFIO_DEVICE_GET_INFO, &info));
	info.argsz = 16;
	res(L("%s.get_info.argsz16", what), ioc(dev, VFIO_DEVICE_GET_INFO, &info));
	out(L("%s.get_info.argsz16.out", what), "argsz %u flags 0x%x regions %u irqs %u",
	    info.argsz, info.flags, info.num_regions, info.num_irqs);
	res(L("%s.get_info.null", what), ioc(dev, VFIO_DEVICE_GET_INFO, NULL));
	res(L("%s.get_info.huge", what), ioc(dev, VFIO_DEVICE_GET_INFO, &big));
	out(L("%s.get_info.huge.out", what),
	    "argsz %u flags 0x%x regions %u irqs %u cap_offset %u", big.info.argsz,
	    big.info.flags, big.info.num_regions, big.info.num_irqs, big.info.cap_offset);
}

static void region_infos(const char *what, int dev)
{
	struct {
		struct vfio_region_info info;
		char caps[1024];
	} r;
	unsigned int idx[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 0xffffffff };

	for (unsigned int i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		/* Exactly the struct: caps (if any) do not fit, argsz tells. */
		memset(&r, 0, sizeof(r));
		r.info.argsz = sizeof(r.info);
		r.info.index = idx[i];
		if (res(L("%s.region_info.%u", what, idx[i]),
			ioc(dev, VFIO_DEVICE_GET_REGION_INFO, &r)) >= 0)
			out(L("%s.region_info.%u.out", what, idx[i]),
			    "argsz %u flags 0x%x cap_offset %u size 0x%llx offset 0x%llx",
			    r.info.argsz, r.info.flags, r.info.cap_offset,
			    (unsigned long long)r.info.size, (unsigned long long)r.info.offset);
		/* With room for caps: their headers. */
		memset(&r, 0, sizeof(r));
		r.info.argsz = sizeof(r);
		r.info.index = idx[i];
		if (ioc(dev, VFIO_DEVICE_GET_REGION_INFO, &r) >= 0 && r.info.cap_offset) {
			__u32 off = r.info.cap_offset;

			out(L("%s.region_info.%u.caps", what, idx[i]), "argsz %u cap_offset %u",
			    r.info.argsz, off);
			while (off && off + sizeof(struct vfio_info_cap_header) <= sizeof(r)) {
				struct vfio_info_cap_header *h = (void *)((char *)&r + off);

				out(L("%s.region_info.%u.cap", what, idx[i]),
				    "at %u id %u version %u next %u", off, h->id, h->version,
				    h->next);
				if (h->next <= off)
					break;
				off = h->next;
			}
		}
	}
	memset(&r, 0, sizeof(r));
	r.info.argsz = 8;
	res(L("%s.region_info.argsz8", what), ioc(dev, VFIO_DEVICE_GET_REGION_INFO, &r));
	r.info.argsz = 0;
	res(L("%s.region_info.argsz0", what), ioc(dev, VFIO_DEVICE_GET_REGION_INFO, &r));
	res(L("%s.region_info.null", what), ioc(dev, VFIO_DEVICE_GET_REGION_INFO, NULL));
}

static void irq_infos(const char *what, int dev)
{
	unsigned int idx[] = { 0, 1, 2, 3, 4, 5, 100 };
	struct vfio_irq_info irq;

	for (unsigned int i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		irq = (struct vfio_irq_info){ .argsz = sizeof(irq), .index = idx[i] };
		if (res(L("%s.irq_info.%u", what, idx[i]), ioc(dev, VFIO_DEVICE_GET_IRQ_INFO, &irq)) >= 0)
			out(L("%s.irq_info.%u.out", what, idx[i]), "argsz %u flags 0x%x count %u",
			    irq.argsz, irq.flags, irq.count);
	}
	irq = (struct vfio_irq_info){ .argsz = 8, .index = 0 };
	res(L("%s.irq_info.argsz8", what), ioc(dev, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	res(L("%s.irq_info.null", what), ioc(dev, VFIO_DEVICE_GET_IRQ_INFO, NULL));
}

struct irq_set1 {
	struct vfio_irq_set hdr;
	__s32 fd[4];
};

/* Passed as efd: a distinct eventfd per vector (one eventfd on two vectors makes noise). */
#define EFDS (-1000)
static int efds[4] = { -1, -1, -1, -1 };

static long set_irqs(int dev, __u32 argsz, __u32 flags, __u32 index, __u32 start, __u32 count,
		     int efd)
{
	struct irq_set1 s = { .hdr = { .argsz = argsz, .flags = flags, .index = index,
				       .start = start, .count = count } };

	for (int i = 0; i < 4; i++) {
		if (efd == EFDS && efds[i] < 0)
			efds[i] = eventfd(0, EFD_CLOEXEC);
		s.fd[i] = efd == EFDS ? efds[i] : efd;
	}
	return ioc(dev, VFIO_DEVICE_SET_IRQS, &s);
}

static void irq_sets(const char *what, int dev)
{
	const __u32 hdr = sizeof(struct vfio_irq_set), full = sizeof(struct irq_set1);
	const __u32 trig_none = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE;
	const __u32 trig_efd = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
	const __u32 unmask_efd = VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_EVENTFD;
	const __u32 intx = VFIO_PCI_INTX_IRQ_INDEX, msix = VFIO_PCI_MSIX_IRQ_INDEX;
	const int efd = EFDS;

#define SI(name, ...) res(L("%s.set_irqs." name, what), set_irqs(dev, __VA_ARGS__))
	SI("argsz0", 0, trig_none, intx, 0, 0, efd);
	SI("argsz8", 8, trig_none, intx, 0, 0, efd);
	SI("null", 0, 0, 0, 0, 0, 0); /* argsz 0 */
	res(L("%s.set_irqs.nullptr", what), ioc(dev, VFIO_DEVICE_SET_IRQS, NULL));
	SI("flags_all", full, 0xffffffff, intx, 0, 1, efd);
	SI("flags_unknown_bit", full, trig_none | (1 << 10), intx, 0, 1, efd);
	SI("data_none_bool", full, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE |
	   VFIO_IRQ_SET_DATA_BOOL, intx, 0, 1, efd);
	SI("two_actions", full, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_ACTION_MASK |
	   VFIO_IRQ_SET_DATA_NONE, intx, 0, 1, efd);
	SI("index100", full, trig_none, 100, 0, 0, efd);
	SI("index_vfio_pci_num", full, trig_none, VFIO_PCI_NUM_IRQS, 0, 0, efd);
	SI("count_wrap", full, trig_none, msix, 1, 0xffffffff, efd);
	SI("start_beyond", full, trig_efd, intx, 1, 1, efd);
	SI("count_beyond", full, trig_efd, intx, 0, 2, efd);
	SI("msix_start_huge", full, trig_efd, msix, 0x10000, 1, efd);
	SI("eventfd_argsz_short", hdr, trig_efd, intx, 0, 1, efd);
	SI("bool_argsz_short", hdr, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_BOOL, intx, 0,
	   1, efd);
	SI("intx.mask_before_enable", full, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE,
	   intx, 0, 1, efd);
	SI("intx.unmask_efd_before_enable", full, unmask_efd, intx, 0, 1, efd);
	SI("intx.disable_when_off", full, trig_none, intx, 0, 0, efd);
	SI("msix.disable_when_off", full, trig_none, msix, 0, 0, efd);
	SI("intx.enable_bad_efd", full, trig_efd, intx, 0, 1, closed_fd());
	SI("intx.enable", full, trig_efd, intx, 0, 1, efd);
	SI("intx.enable_twice", full, trig_efd, intx, 0, 1, efd);
	SI("msix.enable_while_intx", full, trig_efd, msix, 0, 1, efd);
	SI("intx.mask", full, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE, intx, 0, 1, efd);
	SI("intx.unmask", full, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE, intx, 0, 1,
	   efd);
	SI("intx.unmask_eventfd", full, unmask_efd, intx, 0, 1, efd);
	SI("intx.unmask_eventfd_off", full, unmask_efd, intx, 0, 1, -1);
	SI("intx.trigger_none_fire", full, trig_none, intx, 0, 1, efd);
	SI("intx.disable", full, trig_none, intx, 0, 0, efd);
	SI("msix.enable", full, trig_efd, msix, 0, 1, efd);
	SI("msix.enable_more", full, trig_efd, msix, 0, 2, efd);
	SI("msix.fire", full, trig_none, msix, 0, 1, efd);
	SI("msix.disable", full, trig_none, msix, 0, 0, efd);
	SI("err.enable", full, trig_efd, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, efd);
	SI("err.disable", full, trig_efd, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, -1);
	SI("req.enable", full, trig_efd, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, efd);
	SI("req.disable", full, trig_efd, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, -1);
#undef SI
}

static long feature(int dev, __u32 argsz, __u32 flags)
{
	struct {
		struct vfio_device_feature f;
		__u8 data[64];
	} s = { .f = { .argsz = argsz, .flags = flags } };

	return ioc(dev, VFIO_DEVICE_FEATURE, &s);
}

static void features(const char *what, int dev)
{
	const __u32 hdr = sizeof(struct vfio_device_feature);
	const __u32 G = VFIO_DEVICE_FEATURE_GET, S = VFIO_DEVICE_FEATURE_SET,
		    P = VFIO_DEVICE_FEATURE_PROBE;

	res(L("%s.feature.argsz0", what), feature(dev, 0, P | G));
	res(L("%s.feature.argsz4", what), feature(dev, 4, P | G));
	res(L("%s.feature.null", what), ioc(dev, VFIO_DEVICE_FEATURE, NULL));
	res(L("%s.feature.bad_flags", what), feature(dev, hdr, P | G | (1 << 20)));
	res(L("%s.feature.get_and_set", what), feature(dev, hdr + 64, G | S | 3));
	res(L("%s.feature.no_direction", what), feature(dev, hdr + 64, 3));
	res(L("%s.feature.unknown.probe", what), feature(dev, hdr, P | G | 0x1234));
	res(L("%s.feature.unknown.get", what), feature(dev, hdr + 64, G | 0xffff));
	for (__u32 f = 0; f <= 14; f++) {
		res(L("%s.feature.%u.probe_get", what, f), feature(dev, hdr, P | G | f));
		res(L("%s.feature.%u.probe_set", what, f), feature(dev, hdr, P | S | f));
		res(L("%s.feature.%u.probe_get_set", what, f), feature(dev, hdr, P | G | S | f));
		res(L("%s.feature.%u.probe_none", what, f), feature(dev, hdr, P | f));
	}
	/* Core-handled features called for real (no migration ops on vfio-pci). */
	res(L("%s.feature.migration.get", what), feature(dev, hdr + 64, G | 1));
	res(L("%s.feature.mig_state.set", what), feature(dev, hdr + 64, S | 2));
	res(L("%s.feature.logging_stop.set", what), feature(dev, hdr, S | 7));
	res(L("%s.feature.mig_data_size.get", what), feature(dev, hdr + 64, G | 9));
	res(L("%s.feature.precopy_v2.set", what), feature(dev, hdr, S | 12));
	res(L("%s.feature.bus_master.get", what), feature(dev, hdr + 64, G | 10));
}

static void rw_cases(const char *what, int dev, int bar0_ok)
{
	__u32 v = 0;
	char buf[8];

	if (res(L("%s.pread.config0", what), sys(pread(dev, &v, 4, PCI_CONFIG_OFF))) == 4)
		out(L("%s.pread.config0.value", what), "0x%08x", v);
	res(L("%s.pread.config.len0", what), sys(pread(dev, &v, 0, PCI_CONFIG_OFF)));
	res(L("%s.pread.config.badbuf", what), sys(pread(dev, bad_ptr, 4, PCI_CONFIG_OFF)));
	res(L("%s.pread.config.end", what), sys(pread(dev, &v, 4, PCI_CONFIG_OFF + 4096)));
	res(L("%s.pread.config.cross_end", what), sys(pread(dev, buf, 8, PCI_CONFIG_OFF + 4092)));
	res(L("%s.pwrite.config.vendor", what), sys(pwrite(dev, &v, 2, PCI_CONFIG_OFF)));
	res(L("%s.pread.rom_region", what), sys(pread(dev, &v, 4, REGION_OFF(6))));
	res(L("%s.pread.vga_region", what), sys(pread(dev, &v, 4, REGION_OFF(8))));
	res(L("%s.pread.region9", what), sys(pread(dev, &v, 4, REGION_OFF(9))));
	res(L("%s.pread.region100", what), sys(pread(dev, &v, 4, REGION_OFF(100))));
	res(L("%s.pread.offset_2pow62", what), sys(pread(dev, &v, 4, 1LL << 62)));
	res(L("%s.pread.negative", what), sys(pread(dev, &v, 4, -4096)));
	res(L("%s.pwrite.region100", what), sys(pwrite(dev, &v, 4, REGION_OFF(100))));
	res(L("%s.pread.bar0_beyond", what), sys(pread(dev, &v, 4, REGION_OFF(0) + (1ULL << 39))));
	if (bar0_ok)
		res(L("%s.pread.bar0", what), sys(pread(dev, &v, 4, REGION_OFF(0))));
	res(L("%s.pread.unimplemented_bar", what), sys(pread(dev, &v, 4, REGION_OFF(5))));
	res(L("%s.lseek", what), sys(lseek(dev, PCI_CONFIG_OFF, SEEK_SET)));
	res(L("%s.read.at_pos", what), sys(read(dev, &v, 4)));
}

static void mmap_cases(const char *what, int dev)
{
	mmap_case(L("%s.mmap.bar0", what), dev, 4096, MAP_SHARED, REGION_OFF(0));
	mmap_case(L("%s.mmap.bar0.private", what), dev, 4096, MAP_PRIVATE, REGION_OFF(0));
	mmap_case(L("%s.mmap.bar0.beyond", what), dev, 4096, MAP_SHARED,
		  REGION_OFF(0) + (1ULL << 30));
	mmap_case(L("%s.mmap.bar0.too_long", what), dev, 1 << 30, MAP_SHARED, REGION_OFF(0));
	mmap_case(L("%s.mmap.bar5", what), dev, 4096, MAP_SHARED, REGION_OFF(5));
	mmap_case(L("%s.mmap.config", what), dev, 4096, MAP_SHARED, PCI_CONFIG_OFF);
	mmap_case(L("%s.mmap.region100", what), dev, 4096, MAP_SHARED, REGION_OFF(100));
}

static void hot_reset(const char *what, int dev, int group, int container)
{
	struct {
		struct vfio_pci_hot_reset_info info;
		struct vfio_pci_dependent_device devs[8];
	} hi = { .info = { .argsz = sizeof(hi) } };
	struct {
		struct vfio_pci_hot_reset r;
		__s32 fds[2];
	} hr = { .r = { .argsz = sizeof(hr) } };
	struct vfio_pci_hot_reset_info small = { .argsz = sizeof(small) };

	res(L("%s.hot_reset_info.argsz4", what),
	    ioc(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
		&(struct vfio_pci_hot_reset_info){ .argsz = 4 }));
	res(L("%s.hot_reset_info.small", what), ioc(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &small));
	out(L("%s.hot_reset_info.small.out", what), "flags 0x%x count %u", small.flags,
		    small.count);
	if (res(L("%s.hot_reset_info", what), ioc(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi)) >= 0) {
		out(L("%s.hot_reset_info.out", what), "flags 0x%x count %u", hi.info.flags,
		    hi.info.count);
		for (__u32 i = 0; i < hi.info.count && i < 8; i++)
			out(L("%s.hot_reset_info.dev%u", what, i), "id %d %04x:%02x:%02x.%x",
			    (int)hi.devs[i].group_id, hi.devs[i].segment, hi.devs[i].bus,
			    hi.devs[i].devfn >> 3, hi.devs[i].devfn & 7);
	}
	hr.r.flags = 1;
	res(L("%s.hot_reset.flags", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.r.flags = 0;
	hr.r.count = 0;
	res(L("%s.hot_reset.count0", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.r.count = 1;
	hr.fds[0] = container;
	res(L("%s.hot_reset.container_fd", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.fds[0] = dev;
	res(L("%s.hot_reset.device_fd", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.fds[0] = closed_fd();
	res(L("%s.hot_reset.closed_fd", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.fds[0] = group;
	res(L("%s.hot_reset.group_fd", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.r.count = 2;
	hr.fds[1] = group;
	res(L("%s.hot_reset.group_fd_twice", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.r.count = 1000;
	res(L("%s.hot_reset.count_huge", what), ioc(dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
}

/* One VFIO_DEVICE_IOEVENTFD of SIZE bytes of DATA at OFF (a device fd offset), eventfd FD. */
static long ioevt(int dev, __u32 argsz, __u32 flags, __u64 off, __u64 data, int fd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = argsz, .flags = flags, .offset = off, .data = data, .fd = fd,
	};

	return ioc(dev, VFIO_DEVICE_IOEVENTFD, &ie);
}

#define IE8 VFIO_DEVICE_IOEVENTFD_8
#define IE16 VFIO_DEVICE_IOEVENTFD_16
#define IE32 VFIO_DEVICE_IOEVENTFD_32
#define IE64 VFIO_DEVICE_IOEVENTFD_64
#define IEV(label, flags, off, data, fd)                                                 \
	res(L("%s.ioeventfd." label, what),                                                \
	    ioevt(dev, sizeof(struct vfio_device_ioeventfd), flags, off, data, fd))

/* 1001 ioeventfds on one eventfd: the last refused (VFIO_PCI_IOEVENTFD_MAX), all released at close. */
static void ioeventfd_max(const char *what, int dev, int efd)
{
	long first_err = 0;
	int n;

	for (n = 0; n < 1001; n++) {
		first_err = ioevt(dev, sizeof(struct vfio_device_ioeventfd), IE8, REGION_OFF(0) + 0x1000 + n,
				  0, efd);
		if (first_err)
			break;
	}
	out(L("%s.ioeventfd.max.added", what), "%d then %s", n, first_err ? errname(-first_err) : "none");
	res(L("%s.ioeventfd.max.remove_one", what),
	    ioevt(dev, sizeof(struct vfio_device_ioeventfd), IE8, REGION_OFF(0) + 0x1000, 0, -1));
	res(L("%s.ioeventfd.max.add_again", what),
	    ioevt(dev, sizeof(struct vfio_device_ioeventfd), IE8, REGION_OFF(0) + 0x1000 + n, 0, efd));
	res(L("%s.ioeventfd.max.full_again", what),
	    ioevt(dev, sizeof(struct vfio_device_ioeventfd), IE8, REGION_OFF(0) + 0x2000, 0, efd));
	/* Left for the close to release. */
}

/*
 * VFIO_DEVICE_IOEVENTFD's answers (never signalled here: the igb's registers are live; the
 * BAR section signals the edu's): the argument checks in upstream's order, BARs and their
 * ends, the MSI-X table, sizes, what identifies an ioeventfd (offset, data, size), the fds.
 */
static void ioeventfd_cases(const char *what, int dev)
{
	int efd = eventfd(0, EFD_CLOEXEC), efd2 = eventfd(0, EFD_CLOEXEC), efd3;
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = REGION_OFF(0) + 0x10, .data = 0, .fd = efd,
	};
	__u64 size[VFIO_PCI_ROM_REGION_INDEX] = { 0 };
	__u32 mt_off = 0, mt_size = 0;
	int mt_bar;
	__u64 mt;

	res(L("%s.ioeventfd.add", what), ioc(dev, VFIO_DEVICE_IOEVENTFD, &ie));
	res(L("%s.ioeventfd.add_again", what), ioc(dev, VFIO_DEVICE_IOEVENTFD, &ie));
	ie.fd = -1;
	res(L("%s.ioeventfd.remove", what), ioc(dev, VFIO_DEVICE_IOEVENTFD, &ie));
	res(L("%s.ioeventfd.remove_again", what), ioc(dev, VFIO_DEVICE_IOEVENTFD, &ie));
	ie.flags = 0;
	res(L("%s.ioeventfd.no_size", what), ioc(dev, VFIO_DEVICE_IOEVENTFD, &ie));

	for (unsigned int i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		struct vfio_region_info info = { .argsz = sizeof(info), .index = i };

		if (!ioc(dev, VFIO_DEVICE_GET_REGION_INFO, &info))
			size[i] = info.size;
	}
	/* The header: argsz, then flags, one size bit, fd >= -1; a short argsz is checked first. */
	res(L("%s.ioeventfd.argsz_27", what), ioevt(dev, 27, IE32, REGION_OFF(0), 0, efd));
	res(L("%s.ioeventfd.argsz_27_bad_flags", what), ioevt(dev, 27, 0x100, REGION_OFF(0), 0, -5));
	res(L("%s.ioeventfd.argsz_28", what), ioevt(dev, 28, IE32, REGION_OFF(0), 0, efd));
	res(L("%s.ioeventfd.argsz_28.remove", what), ioevt(dev, 28, IE32, REGION_OFF(0), 0, -1));
	res(L("%s.ioeventfd.argsz_huge", what), ioevt(dev, 4096, IE32, REGION_OFF(0), 0, efd));
	res(L("%s.ioeventfd.argsz_huge.remove", what), ioevt(dev, 4096, IE32, REGION_OFF(0), 0, -1));
	IEV("flag_0x10", IE32 | 0x10, REGION_OFF(0), 0, efd);
	IEV("flag_bit31", IE32 | 0x80000000u, REGION_OFF(0), 0, efd);
	IEV("two_sizes", IE32 | IE16, REGION_OFF(0), 0, efd);
	IEV("all_sizes", 0xf, REGION_OFF(0), 0, efd);
	IEV("fd_minus2", IE32, REGION_OFF(0), 0, -2);
	IEV("fd_minus2_bad_bar", IE32, REGION_OFF(7), 0, -2);
	IEV("fd_closed", IE32, REGION_OFF(0), 0, closed_fd());
	IEV("fd_not_eventfd", IE32, REGION_OFF(0), 0, dev);
	IEV("fd_closed_bad_bar", IE32, REGION_OFF(7), 0, closed_fd());
	IEV("remove_bad_bar", IE32, REGION_OFF(7), 0, -1);
	/* Regions: BARs only. */
	IEV("rom_region", IE32, REGION_OFF(VFIO_PCI_ROM_REGION_INDEX), 0, efd);
	IEV("config_region", IE32, REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX), 0, efd);
	IEV("vga_region", IE32, REGION_OFF(VFIO_PCI_VGA_REGION_INDEX), 0, efd);
	IEV("region9", IE32, REGION_OFF(9), 0, efd);
	IEV("region_huge", IE32, REGION_OFF(1u << 23), 0, efd);
	IEV("offset_top_bit", IE32, 1ull << 63, 0, efd);
	for (unsigned int i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		if (size[i]) {
			res(L("%s.ioeventfd.bar%u.first", what, i), ioevt(dev, 32, IE32, REGION_OFF(i), 7, efd));
			res(L("%s.ioeventfd.bar%u.first.remove", what, i),
			    ioevt(dev, 32, IE32, REGION_OFF(i), 7, -1));
		} else {
			res(L("%s.ioeventfd.bar%u.absent", what, i), ioevt(dev, 32, IE8, REGION_OFF(i), 7, efd));
			res(L("%s.ioeventfd.bar%u.absent.remove", what, i),
			    ioevt(dev, 32, IE8, REGION_OFF(i), 7, -1));
		}
	}
	/* BAR0's end. */
	IEV("bar0_last_dword", IE32, REGION_OFF(0) + size[0] - 4, 0, efd);
	IEV("bar0_last_dword.remove", IE32, REGION_OFF(0) + size[0] - 4, 0, -1);
	IEV("bar0_last_byte", IE8, REGION_OFF(0) + size[0] - 1, 0, efd);
	IEV("bar0_last_byte.remove", IE8, REGION_OFF(0) + size[0] - 1, 0, -1);
	IEV("bar0_cross_end", IE32, REGION_OFF(0) + size[0] - 2, 0, efd);
	IEV("bar0_qword_cross_end", IE64, REGION_OFF(0) + size[0] - 4, 0, efd);
	IEV("bar0_at_end", IE8, REGION_OFF(0) + size[0], 0, efd);
	IEV("bar0_far", IE8, REGION_OFF(0) + (1ull << 39), 0, efd);
	IEV("bar0_remove_cross_end", IE32, REGION_OFF(0) + size[0] - 2, 0, -1);
	/* Sizes, and no alignment required. */
	IEV("size8", IE8, REGION_OFF(0) + 0x11, 0x5a, efd);
	IEV("size16", IE16, REGION_OFF(0) + 0x12, 0x5a5a, efd);
	IEV("size64", IE64, REGION_OFF(0) + 0x18, 0x5a5a5a5a5a5a5a5aull, efd);
	IEV("misaligned32", IE32, REGION_OFF(0) + 0x21, 0, efd);
	IEV("misaligned64", IE64, REGION_OFF(0) + 0x2c, 0, efd);
	IEV("size8.remove", IE8, REGION_OFF(0) + 0x11, 0x5a, -1);
	IEV("size16.remove", IE16, REGION_OFF(0) + 0x12, 0x5a5a, -1);
	IEV("size64.remove", IE64, REGION_OFF(0) + 0x18, 0x5a5a5a5a5a5a5a5aull, -1);
	IEV("misaligned32.remove", IE32, REGION_OFF(0) + 0x21, 0, -1);
	IEV("misaligned64.remove", IE64, REGION_OFF(0) + 0x2c, 0, -1);
	/* The MSI-X table: no ioeventfd touching it, right next to it is fine. */
	mt_bar = msix_table(dev, &mt_off, &mt_size);
	out(L("%s.ioeventfd.msix_table", what), "bar %d offset %#x size %#x", mt_bar, mt_off, mt_size);
	if (mt_bar >= 0) {
		mt = REGION_OFF(mt_bar) + mt_off;
		IEV("msix.first", IE32, mt, 0, efd);
		IEV("msix.last_byte", IE8, mt + mt_size - 1, 0, efd);
		IEV("msix.middle", IE64, mt + mt_size / 2, 0, efd);
		IEV("msix.straddle_start", IE64, mt - 4, 0, efd);
		IEV("msix.straddle_end", IE32, mt + mt_size - 2, 0, efd);
		IEV("msix.remove_first", IE32, mt, 0, -1);
		IEV("msix.after", IE32, mt + mt_size, 0, efd);
		IEV("msix.after.remove", IE32, mt + mt_size, 0, -1);
		if (mt_off >= 8) {
			IEV("msix.before", IE64, mt - 8, 0, efd);
			IEV("msix.before.remove", IE64, mt - 8, 0, -1);
		}
	}
	/* What identifies one: offset, data and size; the eventfd does not. */
	IEV("dup.a", IE32, REGION_OFF(0) + 0x40, 1, efd);
	IEV("dup.other_data", IE32, REGION_OFF(0) + 0x40, 2, efd);
	IEV("dup.other_size", IE16, REGION_OFF(0) + 0x40, 1, efd);
	IEV("dup.other_offset_same_efd", IE32, REGION_OFF(0) + 0x44, 1, efd);
	IEV("dup.same_other_efd", IE32, REGION_OFF(0) + 0x40, 1, efd2);
	IEV("dup.same_closed_fd", IE32, REGION_OFF(0) + 0x40, 1, closed_fd());
	IEV("dup.same_bad_fd", IE32, REGION_OFF(0) + 0x40, 1, dev);
	IEV("dup.remove_wrong_data", IE32, REGION_OFF(0) + 0x40, 3, -1);
	IEV("dup.remove_wrong_size", IE8, REGION_OFF(0) + 0x40, 1, -1);
	IEV("dup.remove_wrong_offset", IE32, REGION_OFF(0) + 0x48, 1, -1);
	IEV("dup.remove_a", IE32, REGION_OFF(0) + 0x40, 1, -1);
	IEV("dup.remove_a_again", IE32, REGION_OFF(0) + 0x40, 1, -1);
	IEV("dup.remove_other_data", IE32, REGION_OFF(0) + 0x40, 2, -1);
	IEV("dup.remove_other_size", IE16, REGION_OFF(0) + 0x40, 1, -1);
	IEV("dup.remove_other_offset", IE32, REGION_OFF(0) + 0x44, 1, -1);
	/* An ioeventfd whose eventfd was closed stays listed until removed. */
	efd3 = eventfd(0, EFD_CLOEXEC);
	IEV("closed_efd.add", IE32, REGION_OFF(0) + 0x50, 0, efd3);
	close(efd3);
	IEV("closed_efd.add_again", IE32, REGION_OFF(0) + 0x50, 0, efd);
	IEV("closed_efd.remove", IE32, REGION_OFF(0) + 0x50, 0, -1);
	IEV("closed_efd.remove_again", IE32, REGION_OFF(0) + 0x50, 0, -1);
	/* Left registered: the device's close releases them. */
	IEV("left_for_close.a", IE32, REGION_OFF(0) + 0x60, 0, efd);
	IEV("left_for_close.b", IE64, REGION_OFF(0) + 0x68, 0, efd2);
	if (!strcmp(what, "gdev"))
		ioeventfd_max(what, dev, efd2);
	close(efd);
	close(efd2);
}

/* Everything a bound/opened device fd answers. */
static void device_ops(const char *what, int dev, int group, int container)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = -1 };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

	device_info(what, dev);
	region_infos(what, dev);
	irq_infos(what, dev);
	irq_sets(what, dev);
	features(what, dev);
	ioeventfd_cases(what, dev);
	rw_cases(what, dev, 1);
	mmap_cases(what, dev);
	hot_reset(what, dev, group, container);
	res(L("%s.reset", what), ioc(dev, VFIO_DEVICE_RESET, NULL));
	res(L("%s.reset.twice", what), ioc(dev, VFIO_DEVICE_RESET, NULL));
	res(L("%s.bind_iommufd", what), ioc(dev, VFIO_DEVICE_BIND_IOMMUFD, &b));
	res(L("%s.attach_pt", what), ioc(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	res(L("%s.unknown_ioctl", what), ioc(dev, _IO(VFIO_TYPE, VFIO_BASE + 50), NULL));
	res(L("%s.foreign_ioctl", what), ioc(dev, _IO('T', 1), NULL));
	fd_generic(what, dev, 0);
}

static void group_device(void)
{
	struct opened o = open_via_container("gdev");
	int g2;

	device_ops("gdev", o.dev, o.group, o.container);
	sweep("gdev", o.dev, VFIO_DEVICE_RESET - VFIO_GET_API_VERSION);
	fd_generic("gdev.group", o.group, 1);
	mmap_case("gdev.group.mmap", o.group, 4096, MAP_SHARED, 0);

	/* Odd close orders: container, then group, device keeps working. */
	close_fd("gdev.close.container_first", &o.container);
	group_status("gdev.get_status.container_closed", o.group);
	res("gdev.after_container_close.get_info",
	    ioc(o.dev, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	close_fd("gdev.close.group_second", &o.group);
	res("gdev.after_group_close.get_info",
	    ioc(o.dev, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	drop(res_fd("gdev.group.reopen_while_device_open", open_rw(group_path)));
	res("gdev.cdev.open_while_group_device",
	    (g2 = open_rw(cdev_path)) < 0 ? g2 : 0);
	if (g2 >= 0) {
		int iommufd = open_rw("/dev/iommu");
		struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };

		res("gdev.cdev.bind_while_group_device", ioc(g2, VFIO_DEVICE_BIND_IOMMUFD, &b));
		close(iommufd);
		close_fd("gdev.cdev.close", &g2);
	}
	close_fd("gdev.close.device_last", &o.dev);
	g2 = res_fd("gdev.group.reopen_after_all_closed", open_rw(group_path));
	group_status("gdev.get_status.after_all_closed", g2);
	close_fd("gdev.group.final_close", &g2);
}

/* ---- group with an iommufd as container (compat) ---- */

static void group_iommufd_compat(void)
{
	int g = res_fd("compat.group.open", open_rw(group_path));
	int ifd = res_fd("compat.iommufd.open", open_rw("/dev/iommu"));
	int c, dev, cdev;

	res("compat.iommufd.get_api_version", ioc(ifd, VFIO_GET_API_VERSION, NULL));
	check_extensions("compat.iommufd", ifd);
	drop(get_device_fd("compat.get_device_fd.no_container", g, bdf));
	res("compat.set_container", set_container(g, ifd));
	res("compat.set_container.twice", set_container(g, ifd));
	c = open_rw(VFIO_CONTAINER_PATH);
	res("compat.set_container.vfio_container_too", set_container(g, c));
	drop(res_fd("compat.group.second_open", open_rw(group_path)));
	group_status("compat.get_status", g);
	dev = get_device_fd("compat.get_device_fd", g, bdf);
	device_info("compat.dev", dev);
	region_infos("compat.dev", dev);
	hot_reset("compat.dev", dev, g, ifd);
	cdev = open_rw(cdev_path);
	res("compat.cdev.open", cdev < 0 ? cdev : 0);
	{
		struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = ifd };

		res("compat.cdev.bind_while_group", ioc(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b));
	}
	close_fd("compat.cdev.close", &cdev);
	/* Upstream drops the iommufd even with a device open. */
	res("compat.unset_container.device_open", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	group_status("compat.get_status.unset_device_open", g);
	res("compat.dev.get_info_after_unset",
	    ioc(dev, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	res("compat.unset_container.twice", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	res("compat.set_container.vfio_after_unset", set_container(g, c));
	group_status("compat.get_status.vfio_after_unset", g);
	close_fd("compat.dev.close", &dev);
	res("compat.unset_container.vfio", ioc(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	group_status("compat.get_status.after_close", g);
	close_fd("compat.container.close", &c);
	close_fd("compat.iommufd.close", &ifd);
	close_fd("compat.group.close", &g);
}

/* iommufd fd closed after SET_CONTAINER: the group keeps the context alive. */
static void compat_iommufd_closed(void)
{
	int g = res_fd("compat2.group.open", open_rw(group_path));
	int ifd = res_fd("compat2.iommufd.open", open_rw("/dev/iommu"));
	int dev;

	res("compat2.set_container", set_container(g, ifd));
	close_fd("compat2.iommufd.close_first", &ifd);
	group_status("compat2.get_status", g);
	dev = get_device_fd("compat2.get_device_fd", g, bdf);
	res("compat2.dev.get_info",
	    ioc(dev, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	close_fd("compat2.group.close_before_device", &g);
	res("compat2.dev.get_info_group_closed",
	    ioc(dev, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	close_fd("compat2.dev.close_last", &dev);
	g = res_fd("compat2.group.reopen", open_rw(group_path));
	group_status("compat2.get_status.reopened", g);
	close_fd("compat2.group.final_close", &g);
}

/* ---- device cdev ---- */

/* BIND_IOMMUFD with argsz, flags and token pointer; the devid written back goes to devid. */
static long bind_with(int fd, int iommufd, __u32 argsz, __u32 flags, const void *token,
		      __u32 *devid)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = argsz, .flags = flags, .iommufd = iommufd,
		.token_uuid_ptr = (uintptr_t)token,
	};
	long ret = ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (devid)
		*devid = b.out_devid;
	return ret;
}

static long bind(int fd, int iommufd, __u32 *devid)
{
	return bind_with(fd, iommufd, sizeof(struct vfio_device_bind_iommufd), 0, NULL, devid);
}

static __u32 ioas_alloc(int iommufd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	return ioctl(iommufd, IOMMU_IOAS_ALLOC, &a) ? 0 : a.out_ioas_id;
}

static void cdev_before_bind(int fd, int ifd)
{
	struct {
		struct vfio_device_bind_iommufd b;
		__u64 extra;
	} big = { .b = { .argsz = sizeof(big), .iommufd = ifd }, .extra = 1 };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = ifd };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int nul;

	sweep("cdev.unbound", fd, VFIO_DEVICE_BIND_IOMMUFD - VFIO_GET_API_VERSION);
	res("cdev.unbound.get_info", ioc(fd, VFIO_DEVICE_GET_INFO, &info));
	res("cdev.unbound.unknown", ioc(fd, _IO(VFIO_TYPE, VFIO_BASE + 50), NULL));
	rw_cases("cdev.unbound", fd, 0);
	mmap_cases("cdev.unbound", fd);
	fd_generic("cdev.unbound", fd, 1);

	b.argsz = 0;
	res("cdev.bind.argsz0", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	b.argsz = 15;
	res("cdev.bind.argsz15", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	b.argsz = sizeof(b);
	res("cdev.bind.null", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, NULL));
	res("cdev.bind.big_nonzero_tail", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &big));
	b.flags = 2;
	res("cdev.bind.flags2", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	b.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;
	b.token_uuid_ptr = 8;
	res("cdev.bind.token_badptr", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	b.flags = 0;
	b.token_uuid_ptr = 0;
	b.iommufd = -1;
	res("cdev.bind.iommufd_minus1", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	b.iommufd = closed_fd();
	res("cdev.bind.iommufd_closed", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	nul = open("/dev/null", O_RDWR);
	b.iommufd = nul;
	res("cdev.bind.iommufd_devnull", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	close(nul);
	b.iommufd = fd;
	res("cdev.bind.iommufd_self", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	nul = open_rw(VFIO_CONTAINER_PATH);
	b.iommufd = nul;
	res("cdev.bind.iommufd_container", ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
	close(nul);
	res("cdev.unbound.attach_pt",
	    ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
		&(struct vfio_device_attach_iommufd_pt){ .argsz = 12 }));
	res("cdev.unbound.detach_pt",
	    ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
		&(struct vfio_device_detach_iommufd_pt){ .argsz = 8 }));
}

static void cdev_attach(int fd, int ifd)
{
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };
	__u32 ioas = ioas_alloc(ifd), ioas2 = ioas_alloc(ifd);

	out("cdev.ioas_ids", "%u %u", ioas, ioas2);
	res("cdev.detach.before_attach", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	dt.argsz = 4;
	res("cdev.detach.argsz4", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	dt.argsz = sizeof(dt);
	dt.flags = 2;
	res("cdev.detach.flags2", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	dt.flags = VFIO_DEVICE_DETACH_PASID;
	dt.argsz = 8;
	res("cdev.detach.pasid_short", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	dt.flags = 0;
	res("cdev.detach.null", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, NULL));

	at.argsz = 8;
	at.pt_id = ioas;
	res("cdev.attach.argsz8", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	at.argsz = sizeof(at);
	at.flags = 2;
	res("cdev.attach.flags2", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	at.flags = VFIO_DEVICE_ATTACH_PASID;
	at.argsz = 12;
	res("cdev.attach.pasid_short", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	at.flags = 0;
	at.pt_id = 0xfffff;
	res("cdev.attach.bad_pt_id", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	at.pt_id = 0;
	res("cdev.attach.pt_id0", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	res("cdev.attach.null", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, NULL));
	at.pt_id = ioas;
	res("cdev.attach", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	out("cdev.attach.pt_id_out", "%u", at.pt_id);
	res("cdev.attach.twice", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	at.pt_id = ioas2;
	res("cdev.attach.replace", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	dt.argsz = sizeof(dt);
	res("cdev.detach", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	res("cdev.detach.twice", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	at.pt_id = ioas;
	res("cdev.attach.again", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	at.flags = VFIO_DEVICE_ATTACH_PASID;
	at.argsz = sizeof(at);
	at.pasid = 1;
	res("cdev.attach.pasid1", ioc(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	dt.flags = VFIO_DEVICE_DETACH_PASID;
	dt.pasid = 1;
	res("cdev.detach.pasid1", ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
}

static void cdev_tests(void)
{
	int ifd = res_fd("cdev.iommufd.open", open_rw("/dev/iommu"));
	int fd = res_fd("cdev.open", open_rw(cdev_path));
	int fd2, g;
	__u32 devid = 0;

	cdev_before_bind(fd, ifd);
	fd2 = res_fd("cdev.open.second_unbound", open_rw(cdev_path));
	close_fd("cdev.close.second_unbound", &fd2);

	res("cdev.bind", bind(fd, ifd, &devid));
	out("cdev.bind.devid", "%u", devid);
	res("cdev.bind.twice", bind(fd, ifd, NULL));
	fd2 = res_fd("cdev.open.second_while_bound", open_rw(cdev_path));
	res("cdev.bind.second_fd", bind(fd2, ifd, NULL));
	res("cdev.second_fd.get_info",
	    ioc(fd2, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	close_fd("cdev.close.second_bound", &fd2);
	g = res_fd("cdev.group.open_while_bound", open_rw(group_path));
	close_fd("cdev.group.close", &g);

	cdev_attach(fd, ifd);
	device_ops("cdev", fd, -1, ifd);

	/* iommufd closed before the bound cdev: the device keeps its context. */
	close_fd("cdev.iommufd.close_first", &ifd);
	res("cdev.after_iommufd_close.get_info",
	    ioc(fd, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	res("cdev.after_iommufd_close.detach",
	    ioc(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
		&(struct vfio_device_detach_iommufd_pt){ .argsz = 8 }));
	close_fd("cdev.close", &fd);

	/* Group open first: cdev opens, cannot bind until the group closes. */
	ifd = open_rw("/dev/iommu");
	g = res_fd("cdev.group_first.group_open", open_rw(group_path));
	fd = res_fd("cdev.group_first.cdev_open", open_rw(cdev_path));
	res("cdev.group_first.bind", bind(fd, ifd, NULL));
	close_fd("cdev.group_first.group_close", &g);
	res("cdev.group_first.bind_after_group_close", bind(fd, ifd, &devid));
	out("cdev.group_first.devid", "%u", devid);
	drop(res_fd("cdev.group_first.group_reopen", open_rw(group_path)));
	close_fd("cdev.group_first.cdev_close", &fd);
	g = res_fd("cdev.group_first.group_open_after_unbind", open_rw(group_path));
	group_status("cdev.group_first.get_status", g);
	close_fd("cdev.group_first.group_final_close", &g);

	/* Bound cdev, close without attach; then a fresh fd binds again. */
	fd = open_rw(cdev_path);
	res("cdev.rebind.bind", bind(fd, ifd, &devid));
	out("cdev.rebind.devid", "%u", devid);
	close_fd("cdev.rebind.close", &fd);
	fd = open_rw(cdev_path);
	res("cdev.rebind.bind_again", bind(fd, ifd, &devid));
	out("cdev.rebind.devid_again", "%u", devid);
	close_fd("cdev.rebind.close_again", &fd);
	close_fd("cdev.iommufd.close", &ifd);
}

/* ---- migration and DMA logging on upstream's mtty sample (mig_ops + log_ops) ---- */

#define MTTY_TYPE "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create"
static const char *const mtty_uuid[2] = { "83b8f4f2-509f-382f-3c1e-e6bfe0fa3001",
					  "83b8f4f2-509f-382f-3c1e-e6bfe0fa3002" };

/* VFIO_DEVICE_FEATURE with len bytes of data copied in and back out, and a given argsz. */
static long feature_data(int dev, __u32 argsz, __u32 flags, void *data, size_t len)
{
	struct {
		struct vfio_device_feature f;
		__u64 data[8];
	} s = { .f = { .argsz = argsz, .flags = flags } };
	long ret;

	memcpy(s.data, data, len);
	ret = ioc(dev, VFIO_DEVICE_FEATURE, &s);
	memcpy(data, s.data, len);
	return ret;
}

/* MIG_DEVICE_STATE SET: the result, then what came back as data_fd ("fd", or the number). */
static int mig_set(const char *label, int dev, __u32 state)
{
	struct vfio_device_feature_mig_state m = { .device_state = state, .data_fd = 1234 };
	long ret = feature_data(dev, sizeof(struct vfio_device_feature) + sizeof(m),
				VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m,
				sizeof(m));

	res(label, ret);
	if (m.data_fd >= 0 && m.data_fd != 1234)
		out(L("%s.data_fd", label), "fd, state %u", m.device_state);
	else
		out(L("%s.data_fd", label), "%d, state %u", m.data_fd, m.device_state);
	return ret == 0 && m.data_fd >= 0 && m.data_fd != 1234 ? m.data_fd : -1;
}

static void mig_get(const char *label, int dev)
{
	struct vfio_device_feature_mig_state m = { .device_state = 99, .data_fd = 1234 };
	long ret = feature_data(dev, sizeof(struct vfio_device_feature) + sizeof(m),
				VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m,
				sizeof(m));

	if (ret)
		res(label, ret);
	else
		out(label, "state %u, data_fd %d", m.device_state, m.data_fd);
}

static void mig_data_size(const char *label, int dev)
{
	__u64 len = ~0ull;
	long ret = feature_data(dev, sizeof(struct vfio_device_feature) + 8,
				VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &len, 8);

	if (ret)
		res(label, ret);
	else
		out(label, "%llu", (unsigned long long)len);
}

static void precopy(const char *label, int fd, __u32 flags)
{
	struct vfio_precopy_info i = { .argsz = sizeof(i), .flags = flags };
	long ret = ioc(fd, VFIO_MIG_GET_PRECOPY_INFO, &i);

	if (ret)
		res(label, ret);
	else
		out(label, "flags %#x, initial %llu, dirty %llu", i.flags,
		    (unsigned long long)i.initial_bytes, (unsigned long long)i.dirty_bytes);
}

/*
 * DMA_LOGGING_START over n ranges (iova, length pairs; NULL: a NULL ranges pointer);
 * prints the result and page_size, and stops logging again.
 */
static void log_start(const char *label, int dev, __u64 ps, __u32 n, const __u64 *pairs)
{
	struct vfio_device_feature_dma_logging_range r[8];
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = ps, .num_ranges = n, .ranges = pairs ? (unsigned long)r : 0,
	};
	long ret;

	for (__u32 i = 0; pairs && i < n && i < 8; i++)
		r[i] = (struct vfio_device_feature_dma_logging_range){ pairs[2 * i],
								  pairs[2 * i + 1] };
	ret = feature_data(dev, sizeof(struct vfio_device_feature) + sizeof(c),
			   VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &c,
			   sizeof(c));
	if (ret)
		res(label, ret);
	else
		out(label, "0, page_size %#llx", (unsigned long long)c.page_size);
	if (!ret)
		res(L("%s.stop", label),
		    feature(dev, sizeof(struct vfio_device_feature),
			    VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP));
}

static void log_report(const char *label, int dev, __u64 iova, __u64 len, __u64 ps, void *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = len, .page_size = ps, .bitmap = (unsigned long)bitmap,
	};

	res(label, feature_data(dev, sizeof(struct vfio_device_feature) + sizeof(r),
				VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &r,
				sizeof(r)));
}

static void mig_logging(int dev)
{
	const __u64 top = ~0ull - 0xfff;
	__u64 bitmap[4] = { 0 };
	long max = getpagesize() / sizeof(struct vfio_device_feature_dma_logging_range);

#define LS(name, ps, n, ...) log_start("mig.log." name, dev, ps, n, (const __u64[]){ __VA_ARGS__ })
	LS("one", 4096, 1, 0x1000, 0x1000);
	LS("ps0.zero", 0, 1, 0, 0);
	LS("ps0.nonzero", 0, 1, 0x1000, 0);
	LS("ps3", 3, 1, 0x10, 0x8);
	LS("ps3.odd", 3, 1, 0x12, 0x8);
	LS("ps_huge", 1ull << 63, 1, 0, 0);
	LS("empty", 4096, 1, 0x1000, 0);
	LS("empty.at0", 4096, 1, 0, 0);
	LS("empty.then_before", 4096, 2, 0x1000, 0, 0, 0x1000);
	LS("empty.then_at", 4096, 2, 0x1000, 0, 0x1000, 0x1000);
	LS("empty.then_after", 4096, 2, 0x2000, 0, 0x1000, 0x1000);
	LS("empty.twice", 4096, 2, 0x1000, 0, 0x1000, 0);
	LS("empty.at0.then_range", 4096, 2, 0, 0, 0x1000, 0x1000);
	LS("range.then_empty_inside", 4096, 2, 0x1000, 0x2000, 0x2000, 0);
	LS("touching", 4096, 3, 0x2000, 0x1000, 0x1000, 0x1000, 0x3000, 0x1000);
	LS("overlap.same", 4096, 2, 0x1000, 0x1000, 0x1000, 0x1000);
	LS("overlap.inside", 4096, 2, 0x1000, 0x4000, 0x2000, 0x1000);
	LS("overlap.around", 4096, 2, 0x2000, 0x1000, 0x1000, 0x4000);
	LS("top.second_last_page", 4096, 1, top - 0x1000, 0x1000);
	LS("top.last_page", 4096, 1, top, 0x1000);
	LS("top.empty", 4096, 1, top, 0);
	LS("top.all_but_last_page", 4096, 1, 0, top);
	LS("misaligned.iova", 4096, 1, 0x1800, 0x1000);
	LS("misaligned.length", 4096, 1, 0x1000, 0x1800);
	LS("misaligned_then_overflow", 4096, 2, 0x1800, 0x1000, top, 0x2000);
	LS("overflow_then_misaligned", 4096, 2, top, 0x2000, 0x1800, 0x1000);
	LS("zero_ranges", 4096, 0, 0);
	log_start("mig.log.max_plus_one", dev, 4096, max + 1, NULL);
	log_start("mig.log.null_ranges", dev, 4096, 1, NULL);
#undef LS
	res("mig.log.stop.not_started",
	    feature(dev, sizeof(struct vfio_device_feature),
		    VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP));
	log_report("mig.report.4k", dev, 0, 0x10000, 4096, bitmap);
	log_report("mig.report.len0", dev, 0x1000, 0, 4096, bitmap);
	log_report("mig.report.iova_misaligned", dev, 0x1234, 0x10000, 4096, bitmap);
	log_report("mig.report.null_bitmap", dev, 0, 0x10000, 4096, NULL);
	log_report("mig.report.bad_bitmap", dev, 0, 0x10000, 4096, bad_ptr);
	log_report("mig.report.ps_2m", dev, 0, 0x10000, 1 << 21, bitmap);
	log_report("mig.report.ps_top_bit", dev, 0, 0x10000, 1ull << 63, bitmap);
	log_report("mig.report.ps_2k", dev, 0, 0x10000, 2048, bitmap);
	log_report("mig.report.ps_6k", dev, 0, 0x10000, 6144, bitmap);
	log_report("mig.report.ps0", dev, 0, 0x10000, 0, bitmap);
	log_report("mig.report.to_top", dev, top, 0x1000, 4096, bitmap);
	log_report("mig.report.overflow", dev, top, 0x2000, 4096, bitmap);
	log_report("mig.report.whole", dev, 0, ~0ull, 4096, bitmap);
	out("mig.report.bitmap", "%llx %llx", (unsigned long long)bitmap[0],
	    (unsigned long long)bitmap[1]);
}

/*
 * The cdev node (/dev/vfio/devices/vfioN, into cdev[64]) and, if group is not NULL, the
 * group node (/dev/vfio/<id>, into group[64]) of the VFIO device at sysfs directory sys.
 */
static int sysdev_nodes(const char *sys, char *cdev, char *group)
{
	char name[32];
	int id = vfio_rs_sysdev_iommu_group(sys);

	if (id < 0)
		return id;
	if (vfio_rs_sysdev_vfio_dev(sys, name, sizeof(name)))
		return -ENOENT;
	snprintf(cdev, 64, "/dev/vfio/devices/%s", name);
	if (group)
		snprintf(group, 64, "/dev/vfio/%d", id);
	return 0;
}

/* Loads mtty and creates mtty devices 0..n-1 ("a", "b"); nonzero if mtty did not load. */
static int mtty_create(const char *what, int n)
{
	if (res(L("%s.modprobe_mtty", what), vfio_rs_modprobe_mdev_driver("mtty")))
		return -1;
	for (int i = 0; i < n; i++)
		res(L("%s.create.%c", what, 'a' + i), vfio_rs_sysfs_write(MTTY_TYPE, mtty_uuid[i]));
	return 0;
}

/* Removes mtty devices 0..n-1 and unloads mtty and mdev. */
static void mtty_remove(const char *what, int n)
{
	for (int i = 0; i < n; i++) {
		char path[128];

		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", mtty_uuid[i]);
		res(L("%s.remove.%d", what, i), vfio_rs_sysfs_write(path, "1"));
	}
	res(L("%s.rmmod", what), vfio_rs_sh("rmmod mtty mdev"));
}

/* Opens mtty i through its cdev bound to iommufd (ifd); -errno on failure. */
static int mtty_open(int i, int ifd)
{
	char sys[128], path[64];
	int fd;

	snprintf(sys, sizeof(sys), "/sys/bus/mdev/devices/%s", mtty_uuid[i]);
	if (sysdev_nodes(sys, path, NULL))
		return -ENOENT;
	fd = open_rw(path);
	if (fd >= 0 && bind(fd, ifd, NULL)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static void mig_tests(void)
{
	int ifd, a, b, data, in;
	__u64 buf[32], flags = ~0ull;
	long n = 0;

	if (mtty_create("mig", 2))
		return;
	ifd = res_fd("mig.iommufd.open", open_rw("/dev/iommu"));
	a = res_fd("mig.a.open", mtty_open(0, ifd));
	b = res_fd("mig.b.open", mtty_open(1, ifd));
	if (a >= 0 && b >= 0) {
		features("mig", a);
		res("mig.migration.get", feature_data(a, sizeof(struct vfio_device_feature) + 8,
						      VFIO_DEVICE_FEATURE_GET |
						      VFIO_DEVICE_FEATURE_MIGRATION, &flags, 8));
		out("mig.migration.flags", "%#llx", (unsigned long long)flags);
		mig_get("mig.a.state", a);
		mig_data_size("mig.a.data_size", a);
		for (__u32 st = 0; st <= 9; st++)
			drop(mig_set(L("mig.b.set_seq.%u", st), b, st));
		mig_get("mig.b.state.after_sets", b);
		res("mig.b.reset", ioc(b, VFIO_DEVICE_RESET, NULL));
		mig_get("mig.b.state.after_reset", b);

		/* Pre-copy, stop-copy, stop on "a"; resume on "b". */
		data = mig_set("mig.a.pre_copy", a, VFIO_DEVICE_STATE_PRE_COPY);
		precopy("mig.a.pre_copy.info", data, 0xf0);
		res("mig.a.pre_copy.read", n = sys(read(data, buf, sizeof(buf))));
		precopy("mig.a.pre_copy.info_after_read", data, 0);
		drop(mig_set("mig.a.pre_copy_p2p", a, VFIO_DEVICE_STATE_PRE_COPY_P2P));
		drop(mig_set("mig.a.stop_copy", a, VFIO_DEVICE_STATE_STOP_COPY));
		precopy("mig.a.stop_copy.info", data, 0);
		res("mig.a.stop_copy.read",
		    n += sys(read(data, (char *)buf + n, sizeof(buf) - n)));
		res("mig.a.stop_copy.read_eof", sys(read(data, buf + 16, 8)));
		mig_data_size("mig.a.data_size.stop_copy", a);
		drop(mig_set("mig.a.stop", a, VFIO_DEVICE_STATE_STOP));
		res("mig.a.read_after_stop", sys(read(data, buf + 16, 8)));
		close_fd("mig.a.data.close", &data);
		in = mig_set("mig.b.resuming", b, VFIO_DEVICE_STATE_RESUMING);
		res("mig.b.resuming.write", sys(write(in, buf, n)));
		drop(mig_set("mig.b.stop", b, VFIO_DEVICE_STATE_STOP));
		drop(mig_set("mig.b.running", b, VFIO_DEVICE_STATE_RUNNING));
		mig_get("mig.b.state.resumed", b);
		close_fd("mig.b.in.close", &in);
		drop(mig_set("mig.a.running", a, VFIO_DEVICE_STATE_RUNNING));
		/* precopy_info_v2 was set on "a" by features(): flags are output now. */
		data = mig_set("mig.a.pre_copy.v2", a, VFIO_DEVICE_STATE_PRE_COPY);
		precopy("mig.a.pre_copy.v2.info", data, 0xf0);
		close_fd("mig.a.pre_copy.v2.close", &data);
		data = mig_set("mig.b.pre_copy.v1", b, VFIO_DEVICE_STATE_PRE_COPY);
		precopy("mig.b.pre_copy.v1.info", data, 0xf0);
		close_fd("mig.b.pre_copy.v1.close", &data);
		drop(mig_set("mig.b.running.again", b, VFIO_DEVICE_STATE_RUNNING));
		mig_logging(a);
	}
	close_fd("mig.a.close", &a);
	close_fd("mig.b.close", &b);
	close_fd("mig.iommufd.close", &ifd);
	mtty_remove("mig", 2);
}

/* ---- VF tokens: BIND_FLAG_TOKEN and "vf_token=" names, with and without the driver's op ---- */

static const __u8 tok[3][16] = {
	{ 0x6a, 0x1c, 0x1b, 0x04, 0x7c, 0x3e, 0x4d, 0x2f,
	  0x9a, 0x55, 0x3b, 0x0f, 0x5e, 0x6d, 0x7c, 0x81 },
	{ 0x0e, 0x2f, 0x9d, 0x5c, 0x1b, 0x7a, 0x4c, 0x3d,
	  0x8e, 0x6f, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f },
	{ 0xc3, 0xd4, 0xe5, 0xf6, 0xa7, 0xb8, 0x4c, 0x9d,
	  0x8e, 0x0f, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 },
};
/* The tokens as strings; tok_upper: tok[0] in upper case, which uuid_parse() takes too. */
static char tok_str[3][40], tok_upper[40];

static void uuid_format(char *buf, const __u8 *u, int upper)
{
	const char *x = upper ? "%02X" : "%02x";

	for (int i = 0; i < 16; i++) {
		buf += sprintf(buf, x, u[i]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			*buf++ = '-';
	}
}

static void tokens_init(void)
{
	for (int t = 0; t < 3; t++)
		uuid_format(tok_str[t], tok[t], 0);
	uuid_format(tok_upper, tok[0], 1);
}

/* BIND_IOMMUFD on a fresh fd of a cdev node; returns the fd if it bound, else -errno. */
static int token_bind(const char *label, const char *cdev, int ifd, __u32 argsz, __u32 flags,
		      const void *token)
{
	int fd = open_rw(cdev);
	long ret;

	if (fd < 0)
		return res(label, fd);
	ret = res(label, bind_with(fd, ifd, argsz, flags, token, NULL));
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Every kind of token argument to BIND_IOMMUFD, each on a fresh fd closed again: no flag
 * (with a NULL or bad pointer), the flag with a NULL, bad or short (argsz 16: no pointer
 * field) pointer, tok_str[0], tok_str[1].
 */
static void token_binds(const char *prefix, const char *cdev, int ifd)
{
	const __u32 sz = sizeof(struct vfio_device_bind_iommufd), T = VFIO_DEVICE_BIND_FLAG_TOKEN;
	char what[96];

	snprintf(what, sizeof(what), "%s", prefix); /* may be one of L()'s buffers */
	drop(token_bind(L("%s.bind.no_flag", what), cdev, ifd, sz, 0, NULL));
	drop(token_bind(L("%s.bind.no_flag.bad_ptr", what), cdev, ifd, sz, 0, bad_ptr));
	drop(token_bind(L("%s.bind.token.null", what), cdev, ifd, sz, T, NULL));
	drop(token_bind(L("%s.bind.token.bad_ptr", what), cdev, ifd, sz, T, bad_ptr));
	drop(token_bind(L("%s.bind.token.argsz16", what), cdev, ifd, 16, T, tok[0]));
	drop(token_bind(L("%s.bind.token.uuid0", what), cdev, ifd, sz, T, tok[0]));
	drop(token_bind(L("%s.bind.token.uuid1", what), cdev, ifd, sz, T, tok[1]));
}

/* GET_DEVICE_FD on group g with "vf_token=" suffixes to name; each fd got is closed again. */
static void token_names(const char *prefix, int g, const char *name)
{
	char what[96];

	snprintf(what, sizeof(what), "%s", prefix);
#define TN(sub, ...) drop(get_device_fd(L("%s.name" sub, what), g, L(__VA_ARGS__)))
	TN("", "%s", name);
	TN(".token0", "%s vf_token=%s", name, tok_str[0]);
	TN(".token1", "%s vf_token=%s", name, tok_str[1]);
	TN(".token0_upper", "%s vf_token=%s", name, tok_upper);
	TN(".token0_two_spaces", "%s  vf_token=%s", name, tok_str[0]);
	TN(".token0_trailing_space", "%s vf_token=%s ", name, tok_str[0]);
	TN(".token0_twice", "%s vf_token=%s vf_token=%s", name, tok_str[0], tok_str[0]);
	TN(".token0_junk_after", "%s vf_token=%s x", name, tok_str[0]);
	TN(".token0_glued", "%s vf_token=%sx", name, tok_str[0]);
	TN(".token_malformed", "%s vf_token=%.35sz", name, tok_str[0]);
	TN(".token_short", "%s vf_token=%.35s", name, tok_str[0]);
	TN(".token_empty", "%s vf_token=", name);
	TN(".token_no_space", "%svf_token=%s", name, tok_str[0]);
#undef TN
}

/* Opens a group node into a new type1v2 container: 0 or -errno; *c is the container or -1. */
static int group_type1(const char *what, const char *gpath, int *g, int *c)
{
	*c = -1;
	*g = res_fd(L("%s.group.open", what), open_rw(gpath));
	if (*g < 0)
		return *g;
	*c = open_rw(VFIO_CONTAINER_PATH);
	if (res(L("%s.group.set_container", what), set_container(*g, *c)))
		return -EINVAL;
	return res(L("%s.group.set_iommu", what),
		   ioc(*c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU));
}

/* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN SET of token t (PROBE, GET, short first if checks). */
static void vf_token_set(const char *label, int dev, int t, int checks)
{
	const __u32 hdr = sizeof(struct vfio_device_feature);
	const __u32 F = VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	__u8 u[16];

	if (checks) {
		res(L("%s.probe_set", label), feature(dev, hdr, VFIO_DEVICE_FEATURE_PROBE |
						      VFIO_DEVICE_FEATURE_SET | F));
		res(L("%s.probe_get", label), feature(dev, hdr, VFIO_DEVICE_FEATURE_PROBE |
						      VFIO_DEVICE_FEATURE_GET | F));
		res(L("%s.get", label), feature(dev, hdr + 16, VFIO_DEVICE_FEATURE_GET | F));
		res(L("%s.set_short", label), feature(dev, hdr + 15, VFIO_DEVICE_FEATURE_SET | F));
	}
	memcpy(u, tok[t], 16);
	res(label, feature_data(dev, hdr + 16, VFIO_DEVICE_FEATURE_SET | F, u, 16));
}

/*
 * The token cases on an emulated device (a driver without match_token_uuid) at sysfs
 * directory sys, named name on its group: binds on fresh cdev fds alone, next to a bound
 * fd and with the device open through its group; names on the group.
 */
static void token_emulated(const char *what, const char *sys, const char *name, int ifd)
{
	char cdev[64], gpath[64];
	int fd, g, c, dev;

	if (res(L("%s.nodes", what), sysdev_nodes(sys, cdev, gpath)))
		return;
	fd = res_fd(L("%s.cdev.open", what), open_rw(cdev));
	close_fd(L("%s.cdev.close", what), &fd);
	token_binds(what, cdev, ifd);

	fd = token_bind(L("%s.bound.bind", what), cdev, ifd,
			sizeof(struct vfio_device_bind_iommufd), 0, NULL);
	vf_token_set(L("%s.bound.feature.vf_token", what), fd, 0, 0);
	res(L("%s.bound.bind_again.token.bad_ptr", what),
	    bind_with(fd, ifd, sizeof(struct vfio_device_bind_iommufd),
		      VFIO_DEVICE_BIND_FLAG_TOKEN, bad_ptr, NULL));
	token_binds(L("%s.bound", what), cdev, ifd);
	close_fd(L("%s.bound.close", what), &fd);

	if (!group_type1(what, gpath, &g, &c)) {
		token_names(what, g, name);
		dev = get_device_fd(L("%s.group_dev.open", what), g, name);
		token_binds(L("%s.group_dev", what), cdev, ifd);
		close_fd(L("%s.group_dev.close", what), &dev);
	}
	close_fd(L("%s.container.close", what), &c);
	close_fd(L("%s.group.close", what), &g);
}

/* Token cases on upstream's C mtty and on our Rust sample driver: neither has the op. */
static void tokens_tests(void)
{
	char sys[128];
	int ifd = res_fd("tokens.iommufd.open", open_rw("/dev/iommu"));

	if (!mtty_create("tokens.mtty", 1)) {
		snprintf(sys, sizeof(sys), "/sys/bus/mdev/devices/%s", mtty_uuid[0]);
		token_emulated("tokens.mtty", sys, mtty_uuid[0], ifd);
		mtty_remove("tokens.mtty", 1);
	}
	if (!res("tokens.sample.load", vfio_rs_load_sample())) {
		token_emulated("tokens.sample", "/sys/bus/faux/devices/vfio-rs-sample.0",
			       "vfio-rs-sample.0", ifd);
		res("tokens.sample.rmmod", vfio_rs_sh("rmmod vfio_rs_sample"));
	}
	close_fd("tokens.iommufd.close", &ifd);
}

/* ---- VF tokens on an igb VF (vfio-pci's enable_sriov) ---- */

#define SRIOV_PARAM "/sys/module/vfio_pci/parameters/enable_sriov"

static char vf_bdf[32];

/* A sysfs attribute of a PCI function as one line (its first line), or the error. */
static void pci_attr(const char *label, const char *dev, const char *attr)
{
	char path[PATH_MAX], buf[128];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	ret = vfio_rs_read_file(path, buf, sizeof(buf));
	if (ret) {
		res(label, ret);
		return;
	}
	buf[strcspn(buf, "\n")] = 0;
	out(label, "%s", buf);
}

/* The last component of a symlink of a PCI function (driver, virtfn0) into buf[32]. */
static int pci_link(const char *dev, const char *link, char *buf)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	snprintf(buf, 32, "%s", strrchr(target, '/') + 1);
	return 0;
}

static void pci_link_line(const char *label, const char *dev, const char *link)
{
	char name[32];
	int ret = pci_link(dev, link, name);

	if (ret)
		res(label, ret);
	else
		out(label, "%s", name);
}

/* Writes n to the PF's sriov_numvfs: 0 or -errno. */
static int numvfs_write(const char *n)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", bdf);
	return vfio_rs_sysfs_write(path, n);
}

static int sriov_numvfs(const char *label, const char *n)
{
	return res(label, numvfs_write(n));
}

/* The VF and PF through their groups (pg, vg: one fd if they share a group). */
static void sriov_group(const char *pgpath, const char *vgpath)
{
	int pg, vg, c, pf, vf, fd;

	if (group_type1("sriov.g.pf", pgpath, &pg, &c))
		goto out;
	vg = pg;
	if (strcmp(pgpath, vgpath)) {
		vg = res_fd("sriov.g.vf.group.open", open_rw(vgpath));
		res("sriov.g.vf.group.set_container", set_container(vg, c));
	}
	/* No VF open: the PF opens without a token; set one. */
	pf = get_device_fd("sriov.g.pf.open", pg, bdf);
	vf_token_set("sriov.g.pf.vf_token0", pf, 0, 1);
	token_names("sriov.g.vf", vg, vf_bdf);
	vf = get_device_fd("sriov.g.vf.open", vg, L("%s vf_token=%s", vf_bdf, tok_str[0]));
	fd = get_device_fd("sriov.g.vf.open_second", vg, L("%s vf_token=%s", vf_bdf, tok_str[0]));
	close_fd("sriov.g.vf.close_second", &fd);
	/* A VF open: the PF wants the token too, also while it is open itself. */
	token_names("sriov.g.pf.vf_open", pg, bdf);
	close_fd("sriov.g.pf.close", &pf);
	drop(get_device_fd("sriov.g.pf.reopen.no_token", pg, bdf));
	pf = get_device_fd("sriov.g.pf.reopen.token0", pg, L("%s vf_token=%s", bdf, tok_str[0]));
	/* A new token while a VF is open is taken (the uAPI comment's check is not made). */
	vf_token_set("sriov.g.pf.vf_open.vf_token1", pf, 1, 0);
	drop(get_device_fd("sriov.g.vf.open_third.token0", vg,
			   L("%s vf_token=%s", vf_bdf, tok_str[0])));
	drop(get_device_fd("sriov.g.vf.open_third.token1", vg,
			   L("%s vf_token=%s", vf_bdf, tok_str[1])));
	vf_token_set("sriov.g.pf.vf_open.vf_token0", pf, 0, 0);
	/* sriov_numvfs with a VF open: same count, another count. */
	sriov_numvfs("sriov.g.vf_open.numvfs_1", "1");
	sriov_numvfs("sriov.g.vf_open.numvfs_2", "2");
	close_fd("sriov.g.vf.close", &vf);
	/* No VF open again: a token given to the PF becomes the VFs'. */
	drop(get_device_fd("sriov.g.pf.open_second.no_token", pg, bdf));
	drop(get_device_fd("sriov.g.pf.open_second.token2", pg,
			   L("%s vf_token=%s", bdf, tok_str[2])));
	drop(get_device_fd("sriov.g.vf.after_pf_token2.token0", vg,
			   L("%s vf_token=%s", vf_bdf, tok_str[0])));
	drop(get_device_fd("sriov.g.vf.after_pf_token2.token2", vg,
			   L("%s vf_token=%s", vf_bdf, tok_str[2])));
	close_fd("sriov.g.pf.close_last", &pf);
	if (vg != pg)
		close_fd("sriov.g.vf.group.close", &vg);
out:
	close_fd("sriov.g.container.close", &c);
	close_fd("sriov.g.pf.group.close", &pg);
}

/* The VF and PF through their cdevs. */
static void sriov_cdev(const char *pcdev, const char *vcdev)
{
	const __u32 sz = sizeof(struct vfio_device_bind_iommufd), T = VFIO_DEVICE_BIND_FLAG_TOKEN;
	int ifd = res_fd("sriov.c.iommufd.open", open_rw("/dev/iommu"));
	int pf, vf;

	/* No VF open: every PF bind with a token sets it; then set tokens[0]. */
	token_binds("sriov.c.pf", pcdev, ifd);
	pf = token_bind("sriov.c.pf.bind", pcdev, ifd, sz, 0, NULL);
	vf_token_set("sriov.c.pf.vf_token0", pf, 0, 1);
	token_binds("sriov.c.vf", vcdev, ifd);
	vf = token_bind("sriov.c.vf.bind", vcdev, ifd, sz, T, tok[0]);
	/* A second fd of the bound VF: the token is checked before the device's opens. */
	token_binds("sriov.c.vf.bound", vcdev, ifd);
	/* The PF with a VF bound: token first, then "already open". */
	token_binds("sriov.c.pf.vf_bound", pcdev, ifd);
	close_fd("sriov.c.pf.close", &pf);
	token_binds("sriov.c.pf.closed.vf_bound", pcdev, ifd);
	pf = token_bind("sriov.c.pf.rebind", pcdev, ifd, sz, T, tok[0]);
	close_fd("sriov.c.vf.close", &vf);
	close_fd("sriov.c.pf.close_again", &pf);
	/* No VF open: a PF bind with tokens[2] sets it for the VFs. */
	drop(token_bind("sriov.c.pf.bind.token2", pcdev, ifd, sz, T, tok[2]));
	drop(token_bind("sriov.c.vf.after_pf_token2.token0", vcdev, ifd, sz, T, tok[0]));
	drop(token_bind("sriov.c.vf.after_pf_token2.token2", vcdev, ifd, sz, T, tok[2]));
	close_fd("sriov.c.iommufd.close", &ifd);
}

struct numvfs0 {
	int ret, done;
};

/* Writes 0 to sriov_numvfs; prints nothing (the main thread's lines would race). */
static void *numvfs0_thread(void *arg)
{
	struct numvfs0 *n = arg;

	n->ret = numvfs_write("0");
	__atomic_store_n(&n->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * sriov_numvfs 0 with the VF open: the VF's removal asks for it back through the request
 * eventfd and waits (the writer blocked) until its fd closes.
 */
static void sriov_remove(const char *vcdev)
{
	int ifd = res_fd("sriov.r.iommufd.open", open_rw("/dev/iommu"));
	int vf = token_bind("sriov.r.vf.bind", vcdev, ifd, sizeof(struct vfio_device_bind_iommufd),
			    VFIO_DEVICE_BIND_FLAG_TOKEN, tok[2]);
	int efd = eventfd(0, EFD_CLOEXEC);
	struct pollfd p = { .fd = efd, .events = POLLIN };
	struct numvfs0 n = { 0 };
	pthread_t t;

	if (res("sriov.r.vf.req.enable",
		set_irqs(vf, sizeof(struct irq_set1),
			 VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
			 VFIO_PCI_REQ_IRQ_INDEX, 0, 1, efd)) ||
	    res("sriov.r.thread", -pthread_create(&t, NULL, numvfs0_thread, &n))) {
		close_fd("sriov.r.vf.close", &vf);
		goto out;
	}
	res("sriov.r.vf.req.poll", sys(poll(&p, 1, 60000)));
	out("sriov.r.numvfs_0.blocked", "%s",
	    __atomic_load_n(&n.done, __ATOMIC_SEQ_CST) ? "no" : "yes");
	res("sriov.r.vf.get_info",
	    ioc(vf, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = 16 }));
	close_fd("sriov.r.vf.close", &vf);
	pthread_join(t, NULL);
	res("sriov.r.numvfs_0", n.ret);
out:
	close(efd);
	close_fd("sriov.r.iommufd.close", &ifd);
}

static void sriov_tests(void)
{
	char param[8] = "", pgpath[64], vgpath[64], pcdev[64], vcdev[64], sys[PATH_MAX];

	res("sriov.param.read", vfio_rs_read_file(SRIOV_PARAM, param, sizeof(param)));
	out("sriov.param", "%.1s", param);
	pci_attr("sriov.totalvfs", bdf, "sriov_totalvfs");
	pci_attr("sriov.numvfs", bdf, "sriov_numvfs");
	res("sriov.param.off", vfio_rs_sysfs_write(SRIOV_PARAM, "N"));
	sriov_numvfs("sriov.numvfs_1.param_off", "1");
	res("sriov.param.on", vfio_rs_sysfs_write(SRIOV_PARAM, "Y"));
	if (sriov_numvfs("sriov.numvfs_1", "1"))
		goto out;
	pci_attr("sriov.numvfs.after", bdf, "sriov_numvfs");
	if (res("sriov.vf.find", pci_link(bdf, "virtfn0", vf_bdf)))
		goto out;
	out("sriov.vf.bdf", "%s", vf_bdf);
	pci_attr("sriov.vf.vendor_device", vf_bdf, "device");
	pci_attr("sriov.vf.driver_override", vf_bdf, "driver_override");
	pci_link_line("sriov.vf.driver", vf_bdf, "driver");
	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%s", bdf);
	if (res("sriov.pf.nodes", sysdev_nodes(sys, pcdev, pgpath)))
		goto out;
	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%s", vf_bdf);
	if (res("sriov.vf.nodes", sysdev_nodes(sys, vcdev, vgpath)))
		goto out;
	out("sriov.vf.own_group", "%s", strcmp(pgpath, vgpath) ? "yes" : "no");

	sriov_group(pgpath, vgpath);
	sriov_cdev(pcdev, vcdev);
	sriov_remove(vcdev);
out:
	/* Only vfio-pci's sriov_configure can take VFs away: before the parameter goes off. */
	sriov_numvfs("sriov.cleanup.numvfs_0", "0");
	pci_attr("sriov.cleanup.numvfs", bdf, "sriov_numvfs");
	res("sriov.cleanup.vf_gone", pci_link(bdf, "virtfn0", vf_bdf) ? 0 : -EEXIST);
	res("sriov.cleanup.param", vfio_rs_sysfs_write(SRIOV_PARAM, param[0] == 'Y' ? "Y" : "N"));
}

/* ---- setup ---- */

static int setup(void)
{
	char name[32];
	int group;

	if (res("setup.find_igb", vfio_rs_find_pci(IGB_VENDOR, IGB_DEVICE, bdf, sizeof(bdf))))
		return -1;
	out("setup.bdf", "%s", bdf);
	if (res("setup.vfio_pci_loaded", sys(access("/sys/bus/pci/drivers/vfio-pci", F_OK))))
		return -1;
	if (res("setup.bind_vfio_pci", vfio_rs_bind_vfio_pci(bdf)))
		return -1;
	group = vfio_rs_iommu_group(bdf);
	if (res("setup.iommu_group", group < 0 ? group : 0))
		return -1;
	snprintf(group_path, sizeof(group_path), "/dev/vfio/%d", group);
	if (res("setup.vfio_dev_name", vfio_rs_vfio_dev_name(bdf, name, sizeof(name))))
		return -1;
	out("setup.vfio_dev_name.value", "%s", name);
	snprintf(cdev_path, sizeof(cdev_path), "/dev/vfio/devices/%s", name);
	return 0;
}

static const struct {
	const char *name;
	void (*run)(void);
} sections[] = {
	{ "container", container_alone },
	{ "group", group_basics },
	{ "type1", type1_tests },
	{ "gdev", group_device },
	{ "cdev", cdev_tests },
	{ "compat2", compat_iommufd_closed },
	{ "mig", mig_tests },
	{ "tokens", tokens_tests },
	{ "sriov", sriov_tests },
	/* Last: UNSET_CONTAINER with a device open is where a core most easily leaks state. */
	{ "compat", group_iommufd_compat },
	/* Config-space writes reset and power-cycle the devices: after everything else. */
	{ "config", config_tests },
	{ "bars", bar_tests },
};

/* Runs every section, or only those named on the command line (for narrowing a difference). */
int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tokens_init();
	printf("# vfio_diff: begin\n");
	if (!setup()) {
		for (unsigned int i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
			int want = argc < 2;

			for (int a = 1; a < argc; a++)
				want |= !strcmp(argv[a], sections[i].name);
			if (want)
				sections[i].run();
		}
		res("teardown.unbind", vfio_rs_unbind(bdf));
	}
	printf("# vfio_diff: end %u lines\n", lines);
	return 0;
}
