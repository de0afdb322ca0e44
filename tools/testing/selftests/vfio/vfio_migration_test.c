// SPDX-License-Identifier: GPL-2.0
/*
 * The migration and DMA logging features the VFIO core handles itself
 * (VFIO_DEVICE_FEATURE_MIGRATION, MIG_DEVICE_STATE, MIG_DATA_SIZE,
 * MIG_PRECOPY_INFOv2, DMA_LOGGING_START/STOP/REPORT), driven on upstream's
 * unmodified C mtty sample, which has mig_ops (STOP_COPY | P2P | PRE_COPY)
 * and log_ops, and on the Rust sample (samples/vfio-rs-sample), which has
 * neither. Two mtty devices: "a" opened through its group and a type1
 * container, "b" through its cdev bound to iommufd. Covers the core's
 * argument checks and their order, the copies back to userspace (data_fd -1,
 * a failed copy winning over the driver's error), the data fd (close-on-exec,
 * not installed when the copy or the fd allocation fails), precopy_info_v2
 * (per device, cleared at last close), and a full save on "a" resumed on "b".
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <dirent.h>
#include <linux/iommufd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define UUID_A "83b8f4f2-509f-382f-3c1e-e6bfe0fa2001"
#define UUID_B "83b8f4f2-509f-382f-3c1e-e6bfe0fa2002"
#define MDEV_A "/sys/bus/mdev/devices/" UUID_A
#define MDEV_B "/sys/bus/mdev/devices/" UUID_B
#define CREATE "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create"
#define MTTY_MAGIC 0x7e9d09898c3e2c4eull
#define SAMPLE "vfio-rs-sample.0"

#define G VFIO_DEVICE_FEATURE_GET
#define S VFIO_DEVICE_FEATURE_SET
#define P VFIO_DEVICE_FEATURE_PROBE
#define HDR ((__u32)sizeof(struct vfio_device_feature))

/* VFIO_DEVICE_FEATURE with argsz covering len bytes of data, copied in and back out. */
static long feat_sz(int fd, __u32 flags, void *data, size_t len, __u32 argsz)
{
	struct {
		struct vfio_device_feature h;
		__u64 d[64];
	} s = { .h = { .argsz = argsz, .flags = flags } };
	long ret;

	if (len)
		memcpy(s.d, data, len);
	ret = vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&s);
	if (len)
		memcpy(data, s.d, len);
	return ret;
}

static long feat(int fd, __u32 flags, void *data, size_t len)
{
	return feat_sz(fd, flags, data, len, HDR + len);
}

/* MIG_DEVICE_STATE SET; the data_fd the kernel wrote back (the input is 1234) into *data_fd. */
static long set_state(int fd, __u32 state, int *data_fd)
{
	struct vfio_device_feature_mig_state m = { .device_state = state, .data_fd = 1234 };
	long ret = feat(fd, S | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));

	if (data_fd)
		*data_fd = m.data_fd;
	return ret;
}

/* MIG_DEVICE_STATE GET: the state, or -errno. */
static long get_state(int fd)
{
	struct vfio_device_feature_mig_state m = { .device_state = 99, .data_fd = 1234 };
	long ret = feat(fd, G | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));

	if (ret)
		return ret;
	return m.data_fd == -1 ? (long)m.device_state : -1000;
}

/* MIG_DATA_SIZE GET: stop_copy_length, or -errno. */
static long data_size(int fd)
{
	struct vfio_device_feature_mig_data_size d = { .stop_copy_length = ~0ull };
	long ret = feat(fd, G | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &d, sizeof(d));

	return ret ? ret : (long)d.stop_copy_length;
}

/* Reads a data fd to its end into buf; returns the byte count or -errno. */
static long read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0)
			return -errno;
		if (n == 0)
			return got;
		got += n;
		if (got == len)
			return got;
	}
}

/* VFIO_MIG_GET_PRECOPY_INFO with flags as input; the info into *info. */
static long precopy_info(int fd, __u32 flags, struct vfio_precopy_info *info)
{
	*info = (struct vfio_precopy_info){ .argsz = sizeof(*info), .flags = flags,
					    .initial_bytes = ~0ull, .dirty_bytes = ~0ull };
	return vfio_rs_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, (unsigned long)info);
}

/* Open file descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/*
 * A page holding a feature header + data at its start, filled from src and
 * then made read-only: the kernel can read the arguments but not answer.
 */
static void *ro_feature(__u32 flags, const void *src, size_t len)
{
	struct vfio_device_feature *f = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (f == MAP_FAILED)
		return NULL;
	f->argsz = HDR + len;
	f->flags = flags;
	memcpy(f->data, src, len);
	mprotect(f, getpagesize(), PROT_READ);
	return f;
}

/* A feature header whose data (len bytes) starts on an inaccessible page. */
static void *cut_feature(__u32 flags, size_t len, void **map)
{
	long pg = getpagesize();
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_device_feature *f;

	if (m == MAP_FAILED)
		return NULL;
	mprotect(m + pg, pg, PROT_NONE);
	f = (void *)(m + pg - HDR);
	f->argsz = HDR + len;
	f->flags = flags;
	*map = m;
	return f;
}

/* One byte of an mtty port's scratch register (BAR<port> offset 7), or -errno. */
static int scratch(int fd, int port, int write_val)
{
	__u8 v = write_val;
	off_t off = ((off_t)(VFIO_PCI_BAR0_REGION_INDEX + port) << 40) + 7;

	if (write_val >= 0)
		return pwrite(fd, &v, 1, off) == 1 ? 0 : -errno;
	return pread(fd, &v, 1, off) == 1 ? v : -errno;
}

static int cdev_of(const char *sysdev, char *buf, size_t len)
{
	char name[32];
	int ret = vfio_rs_sysdev_vfio_dev(sysdev, name, sizeof(name));

	if (!ret)
		snprintf(buf, len, "/dev/vfio/devices/%s", name);
	return ret;
}

FIXTURE(mig) {
	int created_a, created_b;
	int container, group, iommufd;
	int a, b; /* device fds: a from the group, b from the cdev */
};

/* Device "a" through its group in a type1 container. */
static int open_a(FIXTURE_DATA(mig) *self)
{
	return vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)UUID_A);
}

FIXTURE_SETUP(mig)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char path[64];
	int id;

	self->created_a = self->created_b = 0;
	self->container = self->group = self->iommufd = self->a = self->b = -1;
	if (vfio_rs_sh("modinfo mtty >/dev/null 2>&1"))
		SKIP(return, "no mtty module in this kernel");
	ASSERT_EQ(0, vfio_rs_modprobe_mdev_driver("mtty"));
	ASSERT_EQ(0, vfio_rs_sysfs_write(CREATE, UUID_A));
	self->created_a = 1;
	ASSERT_EQ(0, vfio_rs_sysfs_write(CREATE, UUID_B));
	self->created_b = 1;

	id = vfio_rs_sysdev_iommu_group(MDEV_A);
	ASSERT_EQ(0, vfio_rs_group_in_container(id, VFIO_TYPE1v2_IOMMU, &self->group,
						&self->container));
	self->a = open_a(self);
	ASSERT_GE(self->a, 0);

	ASSERT_EQ(0, cdev_of(MDEV_B, path, sizeof(path)));
	self->b = open(path, O_RDWR);
	ASSERT_GE(self->b, 0);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(self->iommufd, 0);
	bind.iommufd = self->iommufd;
	ASSERT_EQ(0, vfio_rs_ioctl(self->b, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
}

FIXTURE_TEARDOWN(mig)
{
	int *fds[] = { &self->a, &self->b, &self->group, &self->container, &self->iommufd };

	for (unsigned int i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (self->created_a)
		EXPECT_EQ(0, vfio_rs_sysfs_write(MDEV_A "/remove", "1"));
	if (self->created_b)
		EXPECT_EQ(0, vfio_rs_sysfs_write(MDEV_B "/remove", "1"));
	vfio_rs_sh("rmmod mtty mdev");
}

/* FEATURE_MIGRATION: GET only, mtty's three flags, PROBE, size and copy checks. */
TEST_F(mig, migration_flags)
{
	const __u32 F = VFIO_DEVICE_FEATURE_MIGRATION;
	struct vfio_device_feature_migration m = { .flags = ~0ull };
	void *map, *f;

	ASSERT_EQ(0, feat(self->a, G | F, &m, sizeof(m)));
	EXPECT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY, m.flags);
	m.flags = 0;
	ASSERT_EQ(0, feat(self->b, G | F, &m, sizeof(m)));
	EXPECT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY, m.flags);

	EXPECT_EQ(0, feat(self->a, P | G | F, NULL, 0));
	EXPECT_EQ(0, feat(self->a, P | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | S | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | G | S | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, S | F, &m, sizeof(m)));
	EXPECT_EQ(-EINVAL, feat(self->a, F, &m, sizeof(m)));
	EXPECT_EQ(-EINVAL, feat(self->a, G | S | F, &m, sizeof(m)));
	EXPECT_EQ(-EINVAL, feat_sz(self->a, G | F, &m, sizeof(m), HDR + 7));
	/* A bigger argsz is fine. */
	EXPECT_EQ(0, feat_sz(self->a, G | F, &m, sizeof(m), HDR + 100));

	f = cut_feature(G | F, 8, &map);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->a, VFIO_DEVICE_FEATURE, (unsigned long)f));
	munmap(map, 2 * getpagesize());
	f = ro_feature(G | F, &m, sizeof(m));
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->a, VFIO_DEVICE_FEATURE, (unsigned long)f));
	munmap(f, getpagesize());
}

/* MIG_DEVICE_STATE: GET/SET/PROBE, sizes, bad states, what is copied back. */
TEST_F(mig, device_state_checks)
{
	const __u32 F = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	struct vfio_device_feature_mig_state m;
	int data_fd;

	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->a));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->b));
	EXPECT_EQ(0, feat(self->a, P | G | F, NULL, 0));
	EXPECT_EQ(0, feat(self->a, P | S | F, NULL, 0));
	EXPECT_EQ(0, feat(self->a, P | G | S | F, NULL, 0));
	EXPECT_EQ(0, feat(self->a, P | F, NULL, 0));
	m = (struct vfio_device_feature_mig_state){ VFIO_DEVICE_STATE_STOP, 5 };
	EXPECT_EQ(-EINVAL, feat(self->a, F, &m, sizeof(m)));
	EXPECT_EQ(-EINVAL, feat(self->a, G | S | F, &m, sizeof(m)));
	EXPECT_EQ(-EINVAL, feat_sz(self->a, S | F, &m, sizeof(m), HDR + 7));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->a));

	/* Unknown states fail in the driver; data_fd is -1, device_state as asked. */
	for (__u32 st = 0; st < 3; st++) {
		__u32 bad[] = { VFIO_DEVICE_STATE_ERROR, VFIO_DEVICE_STATE_NR, ~0u };

		m = (struct vfio_device_feature_mig_state){ bad[st], 77 };
		EXPECT_EQ(-EINVAL, feat(self->a, S | F, &m, sizeof(m)));
		EXPECT_EQ(bad[st], m.device_state);
		EXPECT_EQ(-1, m.data_fd);
	}
	/* A SET to the current state: no file. */
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING, &data_fd));
	EXPECT_EQ(-1, data_fd);
	/* RUNNING -> RUNNING_P2P -> STOP: no files, as mtty has no DMA to stop. */
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING_P2P, &data_fd));
	EXPECT_EQ(-1, data_fd);
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING_P2P, get_state(self->a));
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_STOP, &data_fd));
	EXPECT_EQ(-1, data_fd);
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP, get_state(self->a));
	/* STOP_COPY cannot reach PRE_COPY: the driver's EINVAL, state kept. */
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_STOP_COPY, &data_fd));
	EXPECT_LE(0, data_fd);
	close(data_fd);
	EXPECT_EQ(-EINVAL, set_state(self->a, VFIO_DEVICE_STATE_PRE_COPY, &data_fd));
	EXPECT_EQ(-1, data_fd);
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP_COPY, get_state(self->a));
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING, &data_fd));
	EXPECT_EQ(-1, data_fd);
	/* The other device did not move. */
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->b));
}

/* RUNNING -> PRE_COPY (data fd) -> STOP_COPY -> read to EOF -> STOP; MIG_DATA_SIZE. */
TEST_F(mig, precopy_then_stop_copy)
{
	const __u32 F = VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
	struct vfio_precopy_info info;
	__u64 buf[64], size_arg = 0;
	long size, first, rest;
	int data_fd, fl;
	char link[64], path[64];

	size = data_size(self->a);
	ASSERT_GT(size, 24);
	EXPECT_EQ(size, data_size(self->b));
	EXPECT_EQ(0, feat(self->a, P | G | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | S | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, S | F, &size_arg, 8));
	EXPECT_EQ(-EINVAL, feat_sz(self->a, G | F, &size_arg, 8, HDR + 7));

	ASSERT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_PRE_COPY, &data_fd));
	ASSERT_LE(0, data_fd);
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, get_state(self->a));
	fl = fcntl(data_fd, F_GETFD);
	EXPECT_TRUE(fl >= 0 && (fl & FD_CLOEXEC));
	EXPECT_EQ(O_RDONLY, fcntl(data_fd, F_GETFL) & O_ACCMODE);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", data_fd);
	memset(link, 0, sizeof(link));
	EXPECT_LT(0, readlink(path, link, sizeof(link) - 1));
	EXPECT_STREQ("anon_inode:mtty_mig", link);

	/* Pre-copy: the header is available at once, then a temporary end of stream. */
	ASSERT_EQ(0, precopy_info(data_fd, 0, &info));
	EXPECT_LT(0, info.initial_bytes);
	EXPECT_GT(size, info.initial_bytes);
	EXPECT_EQ(0, info.dirty_bytes);
	first = read_all(data_fd, buf, sizeof(buf));
	EXPECT_EQ((long)info.initial_bytes, first);
	EXPECT_EQ(MTTY_MAGIC, buf[0]);
	ASSERT_EQ(0, precopy_info(data_fd, 0, &info));
	EXPECT_EQ(0, info.initial_bytes);
	EXPECT_EQ(0, read(data_fd, buf, sizeof(buf)));

	/* mtty fills the same file at STOP_COPY: no new fd. */
	ASSERT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_STOP_COPY, &fl));
	EXPECT_EQ(-1, fl);
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP_COPY, get_state(self->a));
	/* The pre-copy info is for pre-copy states only. */
	EXPECT_EQ(-EINVAL, precopy_info(data_fd, 0, &info));
	rest = read_all(data_fd, (char *)buf + first, sizeof(buf) - first);
	EXPECT_EQ(size, first + rest);
	EXPECT_EQ(0, read(data_fd, buf, sizeof(buf)));

	/* Leaving STOP_COPY ends the stream. */
	ASSERT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_STOP, &fl));
	EXPECT_EQ(-1, fl);
	EXPECT_EQ(-1, read(data_fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP, get_state(self->a));
	EXPECT_EQ(size, data_size(self->a));
	close(data_fd);
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* The port scratch registers move from "a" to "b" with a STOP_COPY save and a resume. */
TEST_F(mig, save_and_resume)
{
	__u64 buf[64];
	long size, n;
	int out, in;

	ASSERT_EQ(0, scratch(self->a, 0, 0x5a));
	ASSERT_EQ(0, scratch(self->a, 1, 0xa5));
	ASSERT_EQ(0x5a, scratch(self->a, 0, -1));
	ASSERT_EQ(0xa5, scratch(self->a, 1, -1));
	ASSERT_EQ(0, scratch(self->b, 0, -1));
	ASSERT_EQ(0, scratch(self->b, 1, -1));

	/* RUNNING -> STOP_COPY in one call (through RUNNING_P2P and STOP). */
	ASSERT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_STOP_COPY, &out));
	ASSERT_LE(0, out);
	size = read_all(out, buf, sizeof(buf));
	EXPECT_EQ(data_size(self->a), size);
	EXPECT_EQ(MTTY_MAGIC, buf[0]);
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_STOP, NULL));
	close(out);

	/* RUNNING -> RESUMING (through STOP), a write-only data fd. */
	ASSERT_EQ(0, set_state(self->b, VFIO_DEVICE_STATE_RESUMING, &in));
	ASSERT_LE(0, in);
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, get_state(self->b));
	EXPECT_EQ(O_WRONLY, fcntl(in, F_GETFL) & O_ACCMODE);
	EXPECT_TRUE(fcntl(in, F_GETFD) & FD_CLOEXEC);
	n = write(in, buf, size);
	EXPECT_EQ(size, n);
	ASSERT_EQ(0, set_state(self->b, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, set_state(self->b, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->b));
	close(in);
	EXPECT_EQ(0x5a, scratch(self->b, 0, -1));
	EXPECT_EQ(0xa5, scratch(self->b, 1, -1));

	/* "a" runs again with its state. */
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(0x5a, scratch(self->a, 0, -1));
}

/* A bad stream: the driver refuses the header, then the load; the core copies data_fd -1. */
TEST_F(mig, resume_errors)
{
	struct vfio_device_feature_mig_state m;
	__u64 zeros[3] = { 0 };
	void *f;
	int in;

	ASSERT_EQ(0, set_state(self->b, VFIO_DEVICE_STATE_RESUMING, &in));
	ASSERT_LE(0, in);
	EXPECT_EQ(-1, write(in, zeros, sizeof(zeros)));
	EXPECT_EQ(EFAULT, errno);
	m = (struct vfio_device_feature_mig_state){ VFIO_DEVICE_STATE_STOP, 77 };
	EXPECT_EQ(-EINVAL, feat(self->b, S | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m,
				sizeof(m)));
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP, m.device_state);
	EXPECT_EQ(-1, m.data_fd);
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, get_state(self->b));
	/* When the answer cannot be copied, EFAULT wins over the driver's EINVAL. */
	f = ro_feature(S | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->b, VFIO_DEVICE_FEATURE, (unsigned long)f));
	munmap(f, getpagesize());
	close(in);
	/* A reset takes mtty back to RUNNING. */
	EXPECT_EQ(0, vfio_rs_ioctl(self->b, VFIO_DEVICE_RESET, 0));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->b));
}

/* The driver's file is not installed when the fd number cannot be copied or allocated. */
TEST_F(mig, data_fd_not_installed_on_error)
{
	struct vfio_device_feature_mig_state m = { VFIO_DEVICE_STATE_PRE_COPY, 0 };
	struct rlimit old, low;
	int before, fd;
	void *f;

	before = count_fds();
	ASSERT_LT(0, before);
	f = ro_feature(S | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->a, VFIO_DEVICE_FEATURE, (unsigned long)f));
	munmap(f, getpagesize());
	EXPECT_EQ(before, count_fds());
	/* The driver did move. */
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, get_state(self->a));
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* No free fd under RLIMIT_NOFILE: EMFILE, and the file is dropped. */
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = fd;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	EXPECT_EQ(-EMFILE, set_state(self->a, VFIO_DEVICE_STATE_PRE_COPY, NULL));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(before, count_fds());
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, get_state(self->a));
	EXPECT_EQ(0, set_state(self->a, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* A GET whose answer cannot be copied. */
	f = ro_feature(G | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->a, VFIO_DEVICE_FEATURE, (unsigned long)f));
	munmap(f, getpagesize());
}

/* PRE_COPY info flags as mtty reports them: input echoed before v2, 0 after. */
static long precopy_flags(int dev, int *err)
{
	struct vfio_precopy_info info;
	int data_fd;
	long flags;

	*err = set_state(dev, VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	if (*err)
		return -1;
	*err = precopy_info(data_fd, 0xdead0, &info);
	flags = info.flags;
	close(data_fd);
	if (!*err)
		*err = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	return flags;
}

/* MIG_PRECOPY_INFOv2: SET only, per device, cleared at the device's last close. */
TEST_F(mig, precopy_info_v2)
{
	const __u32 F = VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2;
	int err, a2;

	EXPECT_EQ(0xdead0, precopy_flags(self->a, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(0, feat(self->a, P | S | F, NULL, 0));
	EXPECT_EQ(0, feat(self->a, P | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | G | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, G | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, F, NULL, 0));
	/* A PROBE does not opt in. */
	EXPECT_EQ(0xdead0, precopy_flags(self->a, &err));
	EXPECT_EQ(0, feat(self->a, S | F, NULL, 0));
	EXPECT_EQ(0, precopy_flags(self->a, &err));
	EXPECT_EQ(0, err);
	/* Per device. */
	EXPECT_EQ(0xdead0, precopy_flags(self->b, &err));
	EXPECT_EQ(0, err);
	/* A second fd of the device keeps it open: still v2; the last close clears it. */
	a2 = open_a(self);
	ASSERT_LE(0, a2);
	close(self->a);
	self->a = -1;
	EXPECT_EQ(0, precopy_flags(a2, &err));
	close(a2);
	self->a = open_a(self);
	ASSERT_LE(0, self->a);
	EXPECT_EQ(0xdead0, precopy_flags(self->a, &err));
	EXPECT_EQ(0, err);
}

/* DMA_LOGGING_START with num ranges from r[] and page size ps; 0 or -errno. */
static long log_start(int fd, __u64 ps, __u32 num, struct vfio_device_feature_dma_logging_range *r,
		      __u64 *ps_out)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = ps, .num_ranges = num, .__reserved = 0x1234,
		.ranges = (unsigned long)r,
	};
	long ret = feat(fd, S | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &c, sizeof(c));

	if (ps_out)
		*ps_out = c.page_size;
	/* The control struct comes back whole. */
	if (!ret && (c.num_ranges != num || c.__reserved != 0x1234 ||
		     c.ranges != (unsigned long)r))
		return -1000;
	return ret;
}

static long log_stop(int fd)
{
	return feat(fd, S | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

static long log_report(int fd, __u64 iova, __u64 len, __u64 ps, void *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = len, .page_size = ps, .bitmap = (unsigned long)bitmap,
	};

	return feat(fd, G | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &r, sizeof(r));
}

#define R(i, l) ((struct vfio_device_feature_dma_logging_range){ (i), (l) })

/* DMA_LOGGING_START and STOP: direction, size, range count and range checks. */
TEST_F(mig, dma_logging_start_stop)
{
	const __u32 F = VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	const __u32 max = getpagesize() / sizeof(struct vfio_device_feature_dma_logging_range);
	struct vfio_device_feature_dma_logging_range r[4], *many, *cut_r;
	struct vfio_device_feature_dma_logging_control c = { .page_size = 4096, .num_ranges = 1 };
	__u64 ps = 0;
	void *f, *cut, *map;

	EXPECT_EQ(0, feat(self->a, P | S | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | G | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, G | F, &c, sizeof(c)));
	EXPECT_EQ(-EINVAL, feat(self->a, F, &c, sizeof(c)));
	EXPECT_EQ(-EINVAL, feat_sz(self->a, S | F, &c, sizeof(c), HDR + sizeof(c) - 1));
	EXPECT_EQ(0, feat(self->a, P | S | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | G | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, G | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));

	r[0] = R(0x10000, 0x4000);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, 0, r, NULL));
	/* Too many is refused before the ranges are read. */
	EXPECT_EQ(-E2BIG, log_start(self->a, 4096, max + 1, NULL, NULL));
	EXPECT_EQ(-E2BIG, log_start(self->a, 4096, ~0u, NULL, NULL));
	EXPECT_EQ(-EFAULT, log_start(self->a, 4096, 1, NULL, NULL));
	/* The second range on an inaccessible page, after a good first one. */
	cut = cut_feature(0, sizeof(r[0]), &map);
	ASSERT_NE(NULL, cut);
	cut_r = (void *)((char *)cut + HDR - sizeof(r[0]));
	cut_r[0] = r[0];
	EXPECT_EQ(-EFAULT, log_start(self->a, 4096, 2, cut_r, NULL));
	EXPECT_EQ(0, log_start(self->a, 4096, 1, cut_r, NULL));
	EXPECT_EQ(0, log_stop(self->a));
	munmap(map, 2 * getpagesize());

	/* Alignment to the caller's page size, iova then length. */
	r[1] = R(0x20800, 0x1000);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, 2, r, NULL));
	r[1] = R(0x20000, 0x1800);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, 2, r, NULL));
	EXPECT_EQ(0, log_start(self->a, 2048, 2, r, &ps));
	EXPECT_EQ(2048, ps);
	EXPECT_EQ(0, log_stop(self->a));
	/* Overlap with an earlier range, in any order; touching is fine. */
	r[1] = R(0x12000, 0x1000);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, 2, r, NULL));
	r[1] = R(0x8000, 0x9000);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, 2, r, NULL));
	r[1] = R(0x14000, 0x1000);
	r[2] = R(0xf000, 0x1000);
	EXPECT_EQ(0, log_start(self->a, 4096, 3, r, NULL));
	EXPECT_EQ(0, log_stop(self->a));
	/* The end must fit in 64 bits; checks run range by range. */
	r[1] = R(0xfffffffffffff000ull, 0x1000);
	EXPECT_EQ(-EOVERFLOW, log_start(self->a, 4096, 2, r, NULL));
	r[1] = R(0xffffffffffffe000ull, 0x1000);
	r[2] = R(0x11000, 0x1000);
	r[3] = R(0xfffffffffffff000ull, 0x2000);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, 4, r, NULL));
	r[2] = R(0x40000, 0x1000);
	EXPECT_EQ(-EOVERFLOW, log_start(self->a, 4096, 4, r, NULL));
	r[3] = R(0x50000, 0x1000);
	EXPECT_EQ(0, log_start(self->a, 4096, 4, r, NULL));
	EXPECT_EQ(0, log_stop(self->a));

	/* A page's worth of ranges. */
	many = calloc(max, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (__u32 i = 0; i < max; i++)
		many[i] = R((__u64)i * 0x2000, 0x1000);
	EXPECT_EQ(0, log_start(self->a, 4096, max, many, NULL));
	EXPECT_EQ(0, log_stop(self->a));
	many[max - 1] = R(0x1000, 0x2000);
	EXPECT_EQ(-EINVAL, log_start(self->a, 4096, max, many, NULL));
	free(many);

	/* Started, but the answer cannot be copied: EFAULT (and the driver is stopped). */
	c.ranges = (unsigned long)r;
	f = ro_feature(S | F, &c, sizeof(c));
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EFAULT, vfio_rs_ioctl(self->a, VFIO_DEVICE_FEATURE, (unsigned long)f));
	munmap(f, getpagesize());
	EXPECT_EQ(0, log_stop(self->a));
	/* The other device has its own log. */
	EXPECT_EQ(0, log_start(self->b, 4096, 1, r, NULL));
	EXPECT_EQ(0, log_stop(self->b));
}

/* DMA_LOGGING_REPORT: direction, size, page size and overflow checks; the bitmap untouched. */
TEST_F(mig, dma_logging_report)
{
	const __u32 F = VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	struct vfio_device_feature_dma_logging_report rep = { .page_size = 4096 };
	struct vfio_device_feature_dma_logging_range r = { 0, 0x100000 };
	__u64 bitmap[4];

	EXPECT_EQ(0, feat(self->a, P | G | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, P | S | F, NULL, 0));
	EXPECT_EQ(-EINVAL, feat(self->a, S | F, &rep, sizeof(rep)));
	EXPECT_EQ(-EINVAL, feat_sz(self->a, G | F, &rep, sizeof(rep), HDR + sizeof(rep) - 1));

	ASSERT_EQ(0, log_start(self->a, 4096, 1, &r, NULL));
	memset(bitmap, 0xa5, sizeof(bitmap));
	EXPECT_EQ(0, log_report(self->a, 0, 0x100000, 4096, bitmap));
	EXPECT_EQ(0, log_report(self->a, 0x1000, 0x3000, 1u << 21, bitmap));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, bitmap[i]);
	for (__u64 ps = 0; ps < 4096; ps = ps ? ps * 2 : 1)
		EXPECT_EQ(-EINVAL, log_report(self->a, 0, 0x100000, ps, bitmap));
	EXPECT_EQ(-EINVAL, log_report(self->a, 0, 0x100000, 4095, bitmap));
	EXPECT_EQ(-EINVAL, log_report(self->a, 0, 0x100000, 3 * 4096, bitmap));
	EXPECT_EQ(-EINVAL, log_report(self->a, 0, 0x100000, ~0ull, bitmap));
	EXPECT_EQ(-EOVERFLOW, log_report(self->a, ~0ull - 0xfff, 0x2000, 4096, bitmap));
	/* The page size is checked first. */
	EXPECT_EQ(-EINVAL, log_report(self->a, ~0ull - 0xfff, 0x2000, 100, bitmap));
	EXPECT_EQ(0, log_stop(self->a));
}

/* A device without mig_ops/log_ops: ENOTTY before any flag check; PRECOPY_INFOv2 EINVAL. */
FIXTURE(nomig) {
	int container, group, dev;
};

FIXTURE_SETUP(nomig)
{
	int id;

	self->container = self->group = self->dev = -1;
	ASSERT_EQ(0, vfio_rs_load_sample());
	id = vfio_rs_sysdev_iommu_group("/sys/bus/faux/devices/" SAMPLE);
	ASSERT_EQ(0, vfio_rs_group_in_container(id, VFIO_TYPE1v2_IOMMU, &self->group,
						&self->container));
	self->dev = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)SAMPLE);
	ASSERT_GE(self->dev, 0);
}

FIXTURE_TEARDOWN(nomig)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	EXPECT_EQ(0, vfio_rs_sh("rmmod vfio_rs_sample"));
}

TEST_F(nomig, errnos)
{
	const __u32 feats[] = { VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
				VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
				VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
				VFIO_DEVICE_FEATURE_MIG_DATA_SIZE };
	const __u32 dirs[] = { G, S, P, P | G, P | S, P | G | S, 0 };
	__u64 data[4] = { 0 };

	for (unsigned int i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
		for (unsigned int d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			EXPECT_EQ(-ENOTTY, feat(self->dev, dirs[d] | feats[i], data, sizeof(data)))
				TH_LOG("feature %u flags %#x", feats[i], dirs[d]);
			EXPECT_EQ(-ENOTTY, feat_sz(self->dev, dirs[d] | feats[i], NULL, 0, HDR));
		}
		/* The header is still checked first. */
		EXPECT_EQ(-EINVAL, feat_sz(self->dev, G | feats[i], NULL, 0, HDR - 1));
		EXPECT_EQ(-EINVAL, feat(self->dev, G | S | feats[i], NULL, 0));
	}
	for (unsigned int d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		EXPECT_EQ(-EINVAL, feat(self->dev, dirs[d] | VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
					NULL, 0));
	/* The driver has no device_feature: any other feature is ENOTTY. */
	EXPECT_EQ(-ENOTTY, feat(self->dev, P | G | VFIO_DEVICE_FEATURE_BUS_MASTER, NULL, 0));
}

TEST_HARNESS_MAIN
