// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_diff's BAR section: vfio-pci's BAR regions of the guest's igb, edu,
 * nvme and ivshmem through read/write on the device cdev.
 *
 * Per device: every region's info; BAR0's first registers read at every width
 * (registers that read the same every time: no counters or read-to-clear
 * ones); reads at and past the end; the MSI-X table, which vfio-pci hides
 * (0xff); a read with memory decoding switched off in the config space (EIO)
 * and back on; BAR0 mmapped and read through the mapping, which faults with
 * SIGBUS while memory decoding is off and maps again once it is back on; on
 * the edu, its liveness register written and read back, and written by
 * ioeventfds (VFIO_DEVICE_IOEVENTFD) on each signal. The ivshmem's BAR0 is
 * smaller than a page: it is mappable because vfio-pci reserves the rest of its
 * page while the device is open ("vfio sub-page reserved" in /proc/iomem).
 */
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "vfio_diff.h"

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* The first dword through a mapping, or "SIGBUS". */
static const char *mapped_dword(volatile __u32 *p)
{
	static char buf[16];
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	const char *ret = buf;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		ret = "SIGBUS";
	else
		snprintf(buf, sizeof(buf), "%08x", *p);
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

/* BAR0 through an mmap: readable, SIGBUS with memory decoding off, readable again. */
static void bar0_mmap(const char *what, int fd)
{
	__u16 cmd = 0, off_cmd;
	void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, REGION_OFF(0));

	if (map == MAP_FAILED) {
		res(L("%s.bar0.mmap", what), -errno);
		return;
	}
	out(L("%s.bar0.mmap", what), "mapped");
	out(L("%s.bar0.mmap.read", what), "%s", mapped_dword(map));
	if (pread(fd, &cmd, 2, PCI_CONFIG_OFF + 4) == 2) {
		off_cmd = cmd & ~0x2;
		res(L("%s.bar0.mmap.mem_off", what), sys(pwrite(fd, &off_cmd, 2, PCI_CONFIG_OFF + 4)));
		out(L("%s.bar0.mmap.read_mem_off", what), "%s", mapped_dword(map));
		res(L("%s.bar0.mmap.mem_on", what), sys(pwrite(fd, &cmd, 2, PCI_CONFIG_OFF + 4)));
		out(L("%s.bar0.mmap.read_mem_on", what), "%s", mapped_dword(map));
	}
	res(L("%s.bar0.munmap", what), sys(munmap(map, 4096)));
}

/* Registers of BAR0 safe to read repeatedly: the edu's ID to its status, the nvme's CAP to
 * CSTS, the igb's CTRL to CTRL_EXT, the ivshmem's four registers (its whole BAR0 is 256 bytes).
 */
static unsigned int bar0_span(const char *what)
{
	if (strstr(what, ".edu"))
		return 0x24;
	if (strstr(what, ".nvme"))
		return 0x20;
	return 0x10;
}

static long bar_rd(int fd, unsigned int index, __u64 off, unsigned int width, __u64 *v)
{
	*v = 0;
	return sys(pread(fd, v, width, REGION_OFF(index) + off));
}

static const char *bar_val(long ret, unsigned int width, __u64 v)
{
	static char buf[8][40];
	static unsigned int n;
	char *b = buf[n++ % 8];

	if (ret == width)
		snprintf(b, sizeof(buf[0]), "%0*llx", (int)width * 2, (unsigned long long)v);
	else if (ret < 0)
		snprintf(b, sizeof(buf[0]), "err %s", errname(-ret));
	else
		snprintf(b, sizeof(buf[0]), "short %ld", ret);
	return b;
}

/* A register of region `index` read and formatted (the read first: C leaves the order of a call's
 * arguments unspecified, so bar_val(bar_rd(..., &v), w, v) may format v from before the read).
 */
static const char *region_read(int fd, unsigned int index, __u64 off, unsigned int width)
{
	__u64 v;
	long r = bar_rd(fd, index, off, width, &v);

	return bar_val(r, width, v);
}

static const char *bar0_read(int fd, __u64 off, unsigned int width)
{
	return region_read(fd, 0, off, width);
}

int msix_table(int fd, __u32 *offset, __u32 *size)
{
	__u8 pos = 0, id = 0;
	__u16 ctrl = 0;
	__u32 table = 0;

	if (pread(fd, &pos, 1, PCI_CONFIG_OFF + 0x34) != 1)
		return -1;
	for (int n = 0; pos && n < 48; n++) {
		if (pread(fd, &id, 1, PCI_CONFIG_OFF + pos) != 1)
			return -1;
		if (id == 0x11) {
			if (pread(fd, &table, 4, PCI_CONFIG_OFF + pos + 4) != 4 ||
			    pread(fd, &ctrl, 2, PCI_CONFIG_OFF + pos + 2) != 2)
				return -1;
			*offset = table & ~7u;
			if (size)
				*size = ((ctrl & 0x7ff) + 1) * 16;
			return table & 7;
		}
		if (pread(fd, &pos, 1, PCI_CONFIG_OFF + pos + 1) != 1)
			return -1;
	}
	return -1;
}

/* The edu's liveness register once it reads WANT (an ioeventfd may write from a work item),
 * polled for up to a second; what it reads last otherwise.
 */
static const char *liveness_soon(int fd, __u32 want)
{
	__u64 v = 0;
	long r = 0;

	for (int i = 0; i < 100; i++) {
		r = bar_rd(fd, 0, 4, 4, &v);
		if (r != 4 || v == want)
			break;
		usleep(10000);
	}
	return bar_val(r, 4, v);
}

static long kick(int efd)
{
	__u64 one = 1;

	return sys(write(efd, &one, sizeof(one)));
}

static long edu_ioevt(int fd, __u32 flags, __u64 off, __u64 data, int efd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie), .flags = flags, .offset = REGION_OFF(0) + off, .data = data,
		.fd = efd,
	};

	return ioc(fd, VFIO_DEVICE_IOEVENTFD, &ie);
}

/*
 * ioeventfds on the edu's liveness register (BAR0 + 4, reads back inverted): each signal writes
 * its data; with memory decoding off the write is dropped; a removed one writes nothing; a
 * signal pending when one is added is written at once; a 64-bit one at the DMA source address.
 */
static void edu_ioeventfd(const char *what, int fd)
{
	int e1 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), e2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int e3 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	__u32 d1 = 0x0badcafe, d2 = 0x13572468, d3 = 0x600df00d, ones = ~0u;
	__u16 cmd = 0, off_cmd;
	__u64 v;

	res(L("%s.ioeventfd.add", what), edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_32, 4, d1, e1));
	res(L("%s.ioeventfd.add_other_data", what), edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_32, 4, d2, e2));
	res(L("%s.ioeventfd.kick", what), kick(e1));
	out(L("%s.ioeventfd.kicked", what), "%s", liveness_soon(fd, ~d1));
	out(L("%s.ioeventfd.efd_counter", what), "%s", bar_val(sys(read(e1, &v, 8)), 8, v));
	res(L("%s.ioeventfd.kick_other", what), kick(e2));
	out(L("%s.ioeventfd.kicked_other", what), "%s", liveness_soon(fd, ~d2));
	res(L("%s.ioeventfd.kick_again", what), kick(e1));
	out(L("%s.ioeventfd.kicked_again", what), "%s", liveness_soon(fd, ~d1));
	/* Memory decoding off: the signal's write is dropped, not delayed. */
	if (res(L("%s.ioeventfd.cmd.read", what), sys(pread(fd, &cmd, 2, PCI_CONFIG_OFF + 4))) == 2) {
		off_cmd = cmd & ~0x2;
		res(L("%s.ioeventfd.cmd.mem_off", what), sys(pwrite(fd, &off_cmd, 2, PCI_CONFIG_OFF + 4)));
		res(L("%s.ioeventfd.kick_mem_off", what), kick(e2));
		usleep(200000);
		off_cmd = cmd | 0x2;
		res(L("%s.ioeventfd.cmd.mem_on", what), sys(pwrite(fd, &off_cmd, 2, PCI_CONFIG_OFF + 4)));
		usleep(200000);
		out(L("%s.ioeventfd.after_mem_off", what), "%s", bar0_read(fd, 4, 4));
		res(L("%s.ioeventfd.cmd.restore", what), sys(pwrite(fd, &cmd, 2, PCI_CONFIG_OFF + 4)));
	}
	/* Removed: its signals write nothing. */
	res(L("%s.ioeventfd.remove", what), edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_32, 4, d1, -1));
	res(L("%s.ioeventfd.kick_removed", what), kick(e1));
	usleep(200000);
	out(L("%s.ioeventfd.after_removed", what), "%s", bar0_read(fd, 4, 4));
	/* Pending before it is added: written at once. */
	res(L("%s.ioeventfd.kick_before_add", what), kick(e3));
	res(L("%s.ioeventfd.add_pending", what), edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_32, 4, d3, e3));
	out(L("%s.ioeventfd.pending_written", what), "%s", liveness_soon(fd, ~d3));
	res(L("%s.ioeventfd.remove_other", what), edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_32, 4, d2, -1));
	res(L("%s.ioeventfd.remove_pending", what), edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_32, 4, d3, -1));
	res(L("%s.ioeventfd.liveness_reset", what), sys(pwrite(fd, &ones, 4, REGION_OFF(0) + 4)));
	/* A 64-bit ioeventfd at the edu's DMA source address (0x80, a 64-bit register). */
	res(L("%s.ioeventfd.dma_src64", what),
	    edu_ioevt(fd, VFIO_DEVICE_IOEVENTFD_64, 0x80, 0x1122334455667788ull, e1));
	res(L("%s.ioeventfd.kick_dma_src64", what), kick(e1));
	usleep(200000);
	out(L("%s.ioeventfd.dma_src64_read", what), "%s", bar0_read(fd, 0x80, 8));
	/* Left registered: the close releases it. */
	close(e1);
	close(e2);
	close(e3);
}

/* The "vfio sub-page reserved" entries in /proc/iomem: their count, or -errno. */
static long sub_page_reservations(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	long n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, ": vfio sub-page reserved") != NULL;
	fclose(f);
	return n;
}

static void bar_device(const char *what, const char *bdf)
{
	__u64 size0 = 0, v;
	__u32 mt_off = 0;
	__u16 cmd = 0, off_cmd;
	__u64 rom_size = 0;
	int ictx, fd = open_bound(what, bdf, &ictx), mt_bar;

	if (fd < 0)
		return;
	if (strstr(what, ".edu")) {
		/* The edu keeps its liveness register across opens (no reset) and other tests
		 * write it: start from a known value (it reads back inverted).
		 */
		__u32 ones = ~0u;

		res(L("%s.liveness.init", what), sys(pwrite(fd, &ones, 4, REGION_OFF(0) + 4)));
	}
	for (unsigned int i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_ROM_REGION_INDEX; i++) {
		struct vfio_region_info info = { .argsz = sizeof(info), .index = i };

		if (res(L("%s.region%u.info", what, i), ioc(fd, VFIO_DEVICE_GET_REGION_INFO, &info)))
			continue;
		out(L("%s.region%u.info.value", what, i), "size %#llx flags %#x", (unsigned long long)info.size,
		    info.flags);
		if (i == VFIO_PCI_BAR0_REGION_INDEX)
			size0 = info.size;
		if (i == VFIO_PCI_ROM_REGION_INDEX)
			rom_size = info.size;
	}
	/* The ROM: its image (4 bytes at a time, 8 split), 0xff past the image, the end,
	 * writes refused. Without a ROM every access is EINVAL.
	 */
	for (unsigned int width = 1; width <= 8; width *= 2)
		out(L("%s.rom.r%u.000", what, width), "%s",
		    region_read(fd, VFIO_PCI_ROM_REGION_INDEX, 0, width));
	if (rom_size) {
		out(L("%s.rom.last_dword", what), "%s",
		    region_read(fd, VFIO_PCI_ROM_REGION_INDEX, rom_size - 4, 4));
		out(L("%s.rom.past_image", what), "%s",
		    region_read(fd, VFIO_PCI_ROM_REGION_INDEX, rom_size / 2, 4));
		res(L("%s.rom.at_end", what), bar_rd(fd, VFIO_PCI_ROM_REGION_INDEX, rom_size, 4, &v));
	}
	v = 0;
	res(L("%s.rom.write", what), sys(pwrite(fd, &v, 4, REGION_OFF(VFIO_PCI_ROM_REGION_INDEX))));
	for (unsigned int width = 1; width <= 8; width *= 2) {
		for (unsigned int off = 0; off < bar0_span(what); off += width) {
			long r = bar_rd(fd, 0, off, width, &v);

			out(L("%s.bar0.r%u.%03x", what, width, off), "%s", bar_val(r, width, v));
		}
	}
	if (size0) {
		res(L("%s.bar0.last_dword", what), bar_rd(fd, 0, size0 - 4, 4, &v));
		res(L("%s.bar0.cross_end", what), bar_rd(fd, 0, size0 - 4, 8, &v));
		res(L("%s.bar0.at_end", what), bar_rd(fd, 0, size0, 4, &v));
	}
	mt_bar = msix_table(fd, &mt_off, NULL);
	out(L("%s.msix_table", what), "bar %d offset %#x", mt_bar, mt_off);
	if (mt_bar >= 0) {
		unsigned char t[16];

		res(L("%s.msix_table.read", what), sys(pread(fd, t, sizeof(t), REGION_OFF(mt_bar) + mt_off)));
		out(L("%s.msix_table.bytes", what), "%02x%02x%02x%02x %02x%02x%02x%02x", t[0], t[1], t[2], t[3],
		    t[12], t[13], t[14], t[15]);
	}
	/* Memory decoding off: BAR accesses fail with EIO until it is back on. */
	if (res(L("%s.cmd.read", what), sys(pread(fd, &cmd, 2, PCI_CONFIG_OFF + 4))) == 2) {
		off_cmd = cmd & ~0x2;
		res(L("%s.cmd.mem_off", what), sys(pwrite(fd, &off_cmd, 2, PCI_CONFIG_OFF + 4)));
		out(L("%s.bar0.mem_off", what), "%s", bar0_read(fd, 0, 4));
		off_cmd = cmd | 0x2;
		res(L("%s.cmd.mem_on", what), sys(pwrite(fd, &off_cmd, 2, PCI_CONFIG_OFF + 4)));
		out(L("%s.bar0.mem_on", what), "%s", bar0_read(fd, 0, 4));
		res(L("%s.cmd.restore", what), sys(pwrite(fd, &cmd, 2, PCI_CONFIG_OFF + 4)));
	}
	bar0_mmap(what, fd);
	res(L("%s.sub_page_reserved", what), sub_page_reservations());
	if (strstr(what, ".edu")) {
		__u32 live = 0x12345678;

		res(L("%s.liveness.write", what), sys(pwrite(fd, &live, 4, REGION_OFF(0) + 4)));
		out(L("%s.liveness.read", what), "%s", bar0_read(fd, 4, 4));
		edu_ioeventfd(what, fd);
		/* The edu has no reset: put back what it held (it reads back inverted). */
		live = ~0u;
		res(L("%s.liveness.restore", what), sys(pwrite(fd, &live, 4, REGION_OFF(0) + 4)));
	}
	close_fd(L("%s.close_cdev", what), &fd);
	close_fd(L("%s.close_iommufd", what), &ictx);
	res(L("%s.sub_page_reserved_after_close", what), sub_page_reservations());
}

void bar_tests(void)
{
	for_each_cfg_dev(bar_device, "bars");
}
