// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration between upstream's C mtty sample (the test kernel's
 * mtty.ko, modprobe) and our Rust mtty (samples/vfio-mdev/mtty.ko, insmod),
 * both ways, on whatever VFIO core and mdev core the boot loaded: a two-port
 * device is programmed under one driver (divisor latch, LCR, IER, MCR, FCR,
 * scratch, bytes waiting in the loop-back FIFOs), saved (STOP_COPY, the
 * stream read to its end), the driver module swapped for the other, and a
 * new device resumed from that stream. The resumed device must then show the
 * same UART registers, save the very same stream again, and give the FIFO
 * bytes back. Each load is checked to be the build asked for (ours are
 * out-of-tree: taint O).
 */
#include <linux/iommufd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa3001"
#define MDEV "/sys/bus/mdev/devices/" UUID
#define CREATE "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create"
#define STREAM_LEN 96 /* the header and two struct serial_port */

/* Our mtty.ko: the build guest-load chose, else the one beside this binary's tree. */
static int rust_ko(char *buf, size_t len)
{
	const char *ko = getenv("VFIO_RS_KO_mtty");
	char exe[PATH_MAX];
	ssize_t n;

	if (ko && *ko) {
		snprintf(buf, len, "%s", ko);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	for (int i = 0; i < 3; i++)
		*strrchr(exe, '/') = 0;
	snprintf(buf, len, "%s/samples/vfio-mdev/mtty.ko", exe);
	return access(buf, R_OK) ? -ENOENT : 0;
}

/* Loads mtty, ours (rust) or upstream's, on the loaded mdev core (reloaded if gone). */
static int load_mtty(int rust)
{
	const char *mdev = getenv("VFIO_RS_KO_mdev");
	char ko[PATH_MAX], cmd[PATH_MAX + 16];

	if (!access("/sys/module/mtty", F_OK))
		return -EEXIST;
	if (access("/sys/module/mdev", F_OK)) {
		if (mdev && *mdev)
			snprintf(cmd, sizeof(cmd), "insmod %s", mdev);
		else
			snprintf(cmd, sizeof(cmd), "modprobe mdev");
		if (vfio_rs_sh(cmd))
			return -EIO;
	}
	if (!rust)
		return vfio_rs_sh("modprobe mtty") ? -EIO : 0;
	if (rust_ko(ko, sizeof(ko)))
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	return vfio_rs_sh(cmd) ? -EIO : 0;
}

/* 1 if the loaded mtty is out-of-tree (ours), 0 if not, -1 if none is loaded. */
static int mtty_is_rust(void)
{
	char taint[16] = "";
	FILE *f = fopen("/sys/module/mtty/taint", "r");

	if (!f)
		return -1;
	if (!fgets(taint, sizeof(taint), f))
		taint[0] = 0;
	fclose(f);
	return strchr(taint, 'O') != NULL;
}

/* VFIO_DEVICE_FEATURE MIG_DEVICE_STATE SET; the data fd (or -1) into *data_fd. */
static long set_state(int fd, __u32 state, int *data_fd)
{
	struct {
		struct vfio_device_feature h;
		struct vfio_device_feature_mig_state m;
	} s = { .h = { .argsz = sizeof(s),
		       .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.m = { .device_state = state, .data_fd = -1 } };
	long ret = vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&s);

	if (data_fd)
		*data_fd = s.m.data_fd;
	return ret;
}

/* One byte at offset off of BAR<port>: written (val >= 0) or read (returned), or -errno. */
static int uart(int fd, int port, int off, int val)
{
	off_t pos = ((off_t)(VFIO_PCI_BAR0_REGION_INDEX + port) << 40) + off;
	__u8 v = val;

	if (val >= 0)
		return pwrite(fd, &v, 1, pos) == 1 ? 0 : -errno;
	return pread(fd, &v, 1, pos) == 1 ? v : -errno;
}

/* The registers reading does not change: IER, IIR, LCR, MCR, LSR, MSR, SCR of both ports. */
static void snapshot(int fd, int regs[2][8])
{
	for (int p = 0; p < 2; p++)
		for (int r = 1; r < 8; r++)
			regs[p][r] = uart(fd, p, r, -1);
}

/* Creates the device and opens it through its cdev bound to a new iommufd. */
static int open_dev(int *iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char name[32], path[64];
	int fd;

	if (vfio_rs_sysfs_write(CREATE, UUID))
		return -1;
	if (vfio_rs_sysdev_vfio_dev(MDEV, name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR);
	*iommufd = open("/dev/iommu", O_RDWR);
	if (fd < 0 || *iommufd < 0)
		return -1;
	bind.iommufd = *iommufd;
	if (vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind))
		return -1;
	return fd;
}

/* Closes the device, removes it and unloads mtty (mdev stays). */
static int close_dev(int fd, int iommufd)
{
	close(fd);
	close(iommufd);
	if (vfio_rs_sysfs_write(MDEV "/remove", "1"))
		return -1;
	return vfio_rs_sh("rmmod mtty");
}

/* RUNNING -> STOP_COPY, the stream read to its end into buf, -> STOP; its length or -errno. */
static long save(int fd, __u8 *buf, size_t len)
{
	long ret, got = 0;
	int data;

	if (set_state(fd, VFIO_DEVICE_STATE_STOP_COPY, &data) || data < 0)
		return -EIO;
	for (;;) {
		ret = read(data, buf + got, len - got);
		if (ret <= 0)
			break;
		got += ret;
	}
	close(data);
	if (ret < 0)
		return -errno;
	return set_state(fd, VFIO_DEVICE_STATE_STOP, NULL) ? -EIO : got;
}

static void migrate(struct __test_metadata *_metadata, int from_rust)
{
	int regs[2][8], regs2[2][8], fd, iommufd, data;
	__u8 stream[STREAM_LEN + 8], again[STREAM_LEN + 8];
	long len;

	/* A left-over mtty (another test's) would decide which build runs. */
	vfio_rs_sh("rmmod mtty 2>/dev/null");
	ASSERT_EQ(0, load_mtty(from_rust));
	ASSERT_EQ(from_rust, mtty_is_rust());
	fd = open_dev(&iommufd);
	ASSERT_GE(fd, 0);

	/* Port 0: 8N1 at divisor 0x0c, FIFO on, RDI|RLSI, DTR|RTS|OUT2, scratch, "abc". */
	ASSERT_EQ(0, uart(fd, 0, 3, 0x80));
	ASSERT_EQ(0, uart(fd, 0, 0, 0x0c));
	ASSERT_EQ(0, uart(fd, 0, 1, 0x00));
	ASSERT_EQ(0, uart(fd, 0, 3, 0x03));
	ASSERT_EQ(0, uart(fd, 0, 2, 0xc7));
	ASSERT_EQ(0, uart(fd, 0, 1, 0x05));
	ASSERT_EQ(0, uart(fd, 0, 4, 0x0b));
	ASSERT_EQ(0, uart(fd, 0, 7, 0x5a));
	for (const char *c = "abc"; *c; c++)
		ASSERT_EQ(0, uart(fd, 0, 0, *c));
	/* Port 1: 7E2 with DLAB left set, FIFO off, scratch, "Z" (written before DLAB). */
	ASSERT_EQ(0, uart(fd, 1, 2, 0x00));
	ASSERT_EQ(0, uart(fd, 1, 0, 'Z'));
	ASSERT_EQ(0, uart(fd, 1, 7, 0xa5));
	ASSERT_EQ(0, uart(fd, 1, 3, 0x9e));
	snapshot(fd, regs);

	len = save(fd, stream, sizeof(stream));
	ASSERT_EQ(STREAM_LEN, len);
	ASSERT_EQ(0, close_dev(fd, iommufd));

	ASSERT_EQ(0, load_mtty(!from_rust));
	ASSERT_EQ(!from_rust, mtty_is_rust());
	fd = open_dev(&iommufd);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, set_state(fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, set_state(fd, VFIO_DEVICE_STATE_RESUMING, &data));
	ASSERT_GE(data, 0);
	EXPECT_EQ(STREAM_LEN, write(data, stream, STREAM_LEN));
	close(data);
	ASSERT_EQ(0, set_state(fd, VFIO_DEVICE_STATE_STOP, NULL));

	/* The resumed device saves the stream it was given, byte for byte. */
	len = save(fd, again, sizeof(again));
	ASSERT_EQ(STREAM_LEN, len);
	EXPECT_EQ(0, memcmp(stream, again, STREAM_LEN));
	ASSERT_EQ(0, set_state(fd, VFIO_DEVICE_STATE_RUNNING, NULL));

	snapshot(fd, regs2);
	for (int p = 0; p < 2; p++) {
		for (int r = 1; r < 8; r++) {
			EXPECT_EQ(regs[p][r], regs2[p][r]) {
				TH_LOG("port %d register %d", p, r);
			}
		}
	}
	/* The FIFO bytes come back (port 1 only once DLAB is cleared). */
	for (const char *c = "abc"; *c; c++)
		EXPECT_EQ(*c, uart(fd, 0, 0, -1));
	ASSERT_EQ(0, uart(fd, 1, 3, 0x1e));
	EXPECT_EQ('Z', uart(fd, 1, 0, -1));
	EXPECT_EQ(0, close_dev(fd, iommufd));
}

FIXTURE(xmig) {
	int dummy;
};

FIXTURE_SETUP(xmig)
{
	char ko[PATH_MAX];

	if (vfio_rs_sh("modinfo mtty >/dev/null 2>&1"))
		SKIP(return, "no upstream mtty module in this kernel");
	if (rust_ko(ko, sizeof(ko)))
		SKIP(return, "no Rust mtty.ko built");
}

FIXTURE_TEARDOWN(xmig)
{
	if (!access(MDEV, F_OK))
		vfio_rs_sysfs_write(MDEV "/remove", "1");
	vfio_rs_sh("rmmod mtty 2>/dev/null");
}

TEST_F(xmig, c_to_rust)
{
	migrate(_metadata, 0);
}

TEST_F(xmig, rust_to_c)
{
	migrate(_metadata, 1);
}

TEST_HARNESS_MAIN
