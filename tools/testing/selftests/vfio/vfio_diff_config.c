// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_diff's config-space section: vfio-pci's virtualized config space of the
 * guest's igb, edu, nvme and ivshmem, as user space sees it through the device cdev.
 *
 * Per device: the region info; every offset read at every width (1, 2, 4:
 * one line per 16-byte row that is not all zero), 8-byte reads at every
 * offset of the header (split into smaller accesses by the kernel), the whole
 * space in one read, reads across and past the end; then at widths 1, 2 and 4
 * over the standard space and 4 over the extended one, every unit written with
 * ones, zeros and its original value, each read back (one line per unit where
 * anything differs from the original, which also covers FLR through DEVCTL and
 * power-state changes through PMCSR). Nothing printed depends on anything but
 * the kernel and the (deterministic) QEMU device.
 */
#include <sys/ioctl.h>

#include "vfio_diff.h"

const struct cfg_dev cfg_devs[4] = {
	{ "igb", IGB_VENDOR, IGB_DEVICE },
	{ "edu", EDU_VENDOR, EDU_DEVICE },
	{ "nvme", NVME_VENDOR, NVME_DEVICE },
	{ "ivshmem", IVSHMEM_VENDOR, IVSHMEM_DEVICE },
};

/* pread of width bytes at off into *v; the byte count or -errno. */
static long cfg_rd(int fd, unsigned int off, unsigned int width, __u32 *v)
{
	*v = 0;
	return sys(pread(fd, v, width, PCI_CONFIG_OFF + off));
}

static long cfg_wr(int fd, unsigned int off, unsigned int width, __u32 v)
{
	return sys(pwrite(fd, &v, width, PCI_CONFIG_OFF + off));
}

/* "<hex>" for a full read, else the error or "short <n>" (rotating buffers). */
static const char *cfg_val(long ret, unsigned int width, __u32 v)
{
	static char buf[8][32];
	static unsigned int n;
	char *b = buf[n++ % 8];

	if (ret == width)
		snprintf(b, sizeof(buf[0]), "%0*x", (int)width * 2, v);
	else if (ret < 0)
		snprintf(b, sizeof(buf[0]), "err %s", errname(-ret));
	else
		snprintf(b, sizeof(buf[0]), "short %ld", ret);
	return b;
}

/* Every aligned unit of one width, a line per 16-byte row with a non-zero byte or an error. */
static void read_pass(const char *what, int fd, unsigned int size, unsigned int width)
{
	unsigned int zero_rows = 0;

	for (unsigned int row = 0; row < size; row += 16) {
		char line[160];
		int n = 0, plain = 1;

		for (unsigned int off = row; off < row + 16; off += width) {
			__u32 v;
			long r = cfg_rd(fd, off, width, &v);

			n += snprintf(line + n, sizeof(line) - n, " %s", cfg_val(r, width, v));
			plain &= r == width && !v;
		}
		if (plain)
			zero_rows++;
		else
			out(L("%s.r%u.%03x", what, width, row), "%s", line + 1);
	}
	out(L("%s.r%u.zero_rows", what, width), "%u", zero_rows);
}

/* Reads the kernel splits or refuses: 8 bytes at every header offset, the whole space, the end. */
static void odd_reads(const char *what, int fd, unsigned int size)
{
	static unsigned char whole[4096], bytes[4096];
	unsigned int same = 1;

	for (unsigned int off = 0; off < 0x40; off++) {
		__u64 v = 0;
		long r = sys(pread(fd, &v, 8, PCI_CONFIG_OFF + off));

		if (r == 8)
			out(L("%s.r8.%03x", what, off), "%016llx", (unsigned long long)v);
		else
			res(L("%s.r8.%03x", what, off), r);
	}
	if (size > sizeof(whole))
		size = sizeof(whole);
	res(L("%s.whole", what), sys(pread(fd, whole, size, PCI_CONFIG_OFF)));
	for (unsigned int off = 0; off < size; off++) {
		__u32 v;

		cfg_rd(fd, off, 1, &v);
		bytes[off] = v;
	}
	same = !memcmp(whole, bytes, size);
	out(L("%s.whole.same_as_bytes", what), "%u", same);
	res(L("%s.cross_end", what), sys(pread(fd, whole, 8, PCI_CONFIG_OFF + size - 4)));
	res(L("%s.at_end", what), sys(pread(fd, whole, 4, PCI_CONFIG_OFF + size)));
}

/* One line for units [first, last] of one width that had the same outcome. */
static void write_run(const char *what, unsigned int width, unsigned int first, unsigned int last,
		      const char *text)
{
	if (first == last)
		out(L("%s.w%u.%03x", what, width, first), "%s", text);
	else
		out(L("%s.w%u.%03x-%03x", what, width, first, last), "%s", text);
}

/*
 * Each unit of [from, to) at one width: ones, zeros, then the original written back, each read
 * back. A line where a write failed or a read-back differs from the original, one per run of
 * neighbouring units with the same outcome (unassigned space is writable, so runs are long).
 */
static void write_pass(const char *what, int fd, unsigned int from, unsigned int to,
		       unsigned int width)
{
	__u32 mask = width == 4 ? ~0u : (1u << (width * 8)) - 1;
	unsigned int unchanged = 0, first = 0, last = 0;
	char text[160], prev[160] = "";

	for (unsigned int off = from; off < to; off += width) {
		__u32 orig, ones, zeros, back;
		long r0 = cfg_rd(fd, off, width, &orig);
		long w1 = cfg_wr(fd, off, width, mask);
		long r1 = cfg_rd(fd, off, width, &ones);
		long w0 = cfg_wr(fd, off, width, 0);
		long r2 = cfg_rd(fd, off, width, &zeros);
		long w2 = cfg_wr(fd, off, width, orig);
		long r3 = cfg_rd(fd, off, width, &back);

		if (r0 == width && w1 == width && w0 == width && w2 == width && r1 == width &&
		    r2 == width && r3 == width && ones == orig && zeros == orig && back == orig) {
			unchanged++;
			text[0] = 0;
		} else {
			snprintf(text, sizeof(text), "orig %s; ones %s %s; zeros %s %s; back %s %s",
				 cfg_val(r0, width, orig), cfg_val(w1, width, mask),
				 cfg_val(r1, width, ones), cfg_val(w0, width, 0),
				 cfg_val(r2, width, zeros), cfg_val(w2, width, orig),
				 cfg_val(r3, width, back));
		}
		if (prev[0] && off == last + width && !strcmp(text, prev)) {
			last = off;
			continue;
		}
		if (prev[0])
			write_run(what, width, first, last, prev);
		strcpy(prev, text);
		first = last = off;
	}
	if (prev[0])
		write_run(what, width, first, last, prev);
	out(L("%s.w%u.%03x-%03x.unchanged", what, width, from, to), "%u", unchanged);
}

int open_bound(const char *what, const char *bdf, int *ictx)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char name[32];
	int fd;

	*ictx = -1;
	if (res(L("%s.vfio_dev_name", what), vfio_rs_vfio_dev_name(bdf, name, sizeof(name))))
		return -1;
	fd = res_fd(L("%s.open_cdev", what), open_rw(L("/dev/vfio/devices/%s", name)));
	if (fd < 0)
		return -1;
	*ictx = res_fd(L("%s.open_iommufd", what), open_rw("/dev/iommu"));
	bind.iommufd = *ictx;
	if (*ictx < 0 || res(L("%s.bind", what), ioc(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))) {
		close_fd(L("%s.close_cdev", what), &fd);
		close_fd(L("%s.close_iommufd", what), ictx);
		return -1;
	}
	return fd;
}

static void config_device(const char *what, const char *bdf)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	unsigned int size;
	char after[64];
	int ictx, fd = open_bound(what, bdf, &ictx);

	if (fd < 0)
		return;
	if (!res(L("%s.region_info", what), ioc(fd, VFIO_DEVICE_GET_REGION_INFO, &info))) {
		out(L("%s.region_info.value", what), "size %llu flags %#x offset %#llx",
		    (unsigned long long)info.size, info.flags, (unsigned long long)info.offset);
	}
	size = info.size > 4096 ? 4096 : info.size;
	for (unsigned int width = 1; width <= 4; width *= 2)
		read_pass(what, fd, size, width);
	odd_reads(what, fd, size);
	for (unsigned int width = 1; width <= 4; width *= 2)
		write_pass(what, fd, 0, size < 256 ? size : 256, width);
	if (size > 256)
		write_pass(what, fd, 256, size, 4);
	/* The state the writes left, as the next user would find it. */
	snprintf(after, sizeof(after), "%s.after", what);
	read_pass(after, fd, size, 4);
	close_fd(L("%s.close_cdev", what), &fd);
	close_fd(L("%s.close_iommufd", what), &ictx);
}

void for_each_cfg_dev(void (*fn)(const char *what, const char *bdf), const char *section)
{
	for (unsigned int i = 0; i < sizeof(cfg_devs) / sizeof(cfg_devs[0]); i++) {
		const char *what = L("%s.%s", section, cfg_devs[i].name);
		char bdf[32];
		int is_igb = cfg_devs[i].vendor == IGB_VENDOR && cfg_devs[i].device == IGB_DEVICE;

		what = strdup(what);
		if (res(L("%s.find", what), vfio_rs_find_pci(cfg_devs[i].vendor, cfg_devs[i].device,
							     bdf, sizeof(bdf)))) {
			free((void *)what);
			continue;
		}
		/* The igb is vfio_diff's own device, bound by setup(); the others go back after. */
		if (is_igb || !res(L("%s.bind_vfio_pci", what), vfio_rs_bind_vfio_pci(bdf)))
			fn(what, bdf);
		if (!is_igb) {
			res(L("%s.unbind", what), vfio_rs_unbind(bdf));
			res(L("%s.reprobe", what), vfio_rs_sysfs_write("/sys/bus/pci/drivers_probe", bdf));
		}
		free((void *)what);
	}
}

void config_tests(void)
{
	for_each_cfg_dev(config_device, "config");
}
