// SPDX-License-Identifier: GPL-2.0
/*
 * The driver-facing Rust VFIO API (rust/vfio/driver.rs), through the Rust
 * sample driver samples/vfio-rs-sample: each op it implements must reach the
 * driver from user space on whichever core is loaded (ours or upstream's C
 * vfio.ko), with upstream's results: read/write of region 0 (a 64-byte
 * scratch buffer), GET_REGION_INFO with a capability chain built through
 * vfio_info_add_capability, match (an alias name), device_feature with
 * vfio_check_feature's checks, and request while the driver unregisters a
 * device that is still open.
 */
#include <pthread.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define DBG "/sys/kernel/debug/vfio-rs-sample"
#define SCRATCH 64
#define REGION(i) ((__u64)(i) << 40)
/* The sample's private feature and its value; its region's type capability. */
#define SAMPLE_FEATURE 0x7f00
#define SAMPLE_FEATURE_VALUE 0x5a5a1234u
#define SCRATCH_TYPE (0x80000000u | 0x1b36)
#define SCRATCH_SUBTYPE 1

FIXTURE(api) {
	int container, group, dev;
	bool unloaded;
};

FIXTURE_SETUP(api)
{
	char path[PATH_MAX];

	self->container = self->group = self->dev = -1;
	self->unloaded = false;
	ASSERT_EQ(0, vfio_rs_load_sample());
	snprintf(path, sizeof(path), "/sys/bus/faux/devices/vfio-rs-sample.0");
	ASSERT_EQ(0, vfio_rs_group_in_container(vfio_rs_sysdev_iommu_group(path),
						VFIO_TYPE1v2_IOMMU, &self->group,
						&self->container));
	self->dev = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
				  (unsigned long)"vfio-rs-sample.0");
	ASSERT_GE(self->dev, 0);
}

FIXTURE_TEARDOWN(api)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (!self->unloaded)
		EXPECT_EQ(0, vfio_rs_sh("rmmod vfio_rs_sample"));
}

/* read/write at the region's offsets, clipped at its end, EINVAL past it. */
TEST_F(api, region_read_write)
{
	char out[16] = "0123456789abcdef", in[SCRATCH], zero[8] = { 0 };
	/* An unmapped address the compiler cannot see through. */
	void *volatile bad_ptr = (void *)8;

	ASSERT_EQ(16, pwrite(self->dev, out, 16, REGION(0) + 8));
	memset(in, 0x55, sizeof(in));
	ASSERT_EQ(SCRATCH, pread(self->dev, in, SCRATCH, REGION(0)));
	EXPECT_EQ(0, memcmp(in, zero, 8));
	EXPECT_EQ(0, memcmp(in + 8, out, 16));
	/* Clipped at the end of the region. */
	EXPECT_EQ(4, pread(self->dev, in, 16, REGION(0) + SCRATCH - 4));
	EXPECT_EQ(-1, pread(self->dev, in, 1, REGION(0) + SCRATCH));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(self->dev, out, 1, REGION(1)));
	EXPECT_EQ(EINVAL, errno);
	/* A bad user buffer is EFAULT and changes nothing. */
	EXPECT_EQ(-1, pwrite(self->dev, bad_ptr, 8, REGION(0)));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(8, pread(self->dev, in, 8, REGION(0)));
	EXPECT_EQ(0, memcmp(in, zero, 8));
}

/* GET_REGION_INFO: the driver's fields and its capability, placed by the core. */
TEST_F(api, region_info_caps)
{
	union {
		struct vfio_region_info info;
		char buf[128];
	} u;
	struct vfio_region_info_cap_type *cap;

	memset(&u, 0, sizeof(u));
	u.info.argsz = sizeof(u.info);
	ASSERT_EQ(0, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&u));
	EXPECT_EQ(SCRATCH, u.info.size);
	EXPECT_EQ(REGION(0), u.info.offset);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_CAPS, u.info.flags);
	/* Too small for the chain: the size it needs, no offset. */
	EXPECT_EQ(sizeof(u.info) + sizeof(*cap), u.info.argsz);
	EXPECT_EQ(0, u.info.cap_offset);

	memset(&u, 0, sizeof(u));
	u.info.argsz = sizeof(u);
	ASSERT_EQ(0, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&u));
	ASSERT_EQ(sizeof(u.info), u.info.cap_offset);
	cap = (void *)(u.buf + u.info.cap_offset);
	EXPECT_EQ(VFIO_REGION_INFO_CAP_TYPE, cap->header.id);
	EXPECT_EQ(1, cap->header.version);
	EXPECT_EQ(0, cap->header.next);
	EXPECT_EQ(SCRATCH_TYPE, cap->type);
	EXPECT_EQ(SCRATCH_SUBTYPE, cap->subtype);

	memset(&u, 0, sizeof(u));
	u.info.argsz = sizeof(u);
	u.info.index = 1;
	EXPECT_EQ(-EINVAL, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_REGION_INFO,
					 (unsigned long)&u));
}

/* The driver's match op: its alias opens the same device; other names do not. */
TEST_F(api, match_alias)
{
	char in[4];
	int alias;

	ASSERT_EQ(4, pwrite(self->dev, "abcd", 4, REGION(0)));
	alias = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			      (unsigned long)"vfio-rs-sample-alias.0");
	ASSERT_GE(alias, 0);
	ASSERT_EQ(4, pread(alias, in, 4, REGION(0)));
	EXPECT_EQ(0, memcmp(in, "abcd", 4));
	close(alias);
	/* Device 1 is not in this group. */
	EXPECT_EQ(-ENODEV, vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
					 (unsigned long)"vfio-rs-sample-alias.1"));
	EXPECT_EQ(-ENODEV, vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
					 (unsigned long)"vfio-rs-sample"));
}

static long feature(int fd, __u32 flags, __u32 datasz, void *data)
{
	struct {
		struct vfio_device_feature f;
		__u8 data[16];
	} a = { .f = { .argsz = sizeof(a.f) + datasz, .flags = flags } };
	long ret;

	ret = vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&a);
	if (data)
		memcpy(data, a.data, datasz);
	return ret;
}

/* device_feature: vfio_check_feature's rules, then the driver's GET. */
TEST_F(api, device_feature)
{
	__u32 v = 0;

	EXPECT_EQ(0, feature(self->dev, SAMPLE_FEATURE | VFIO_DEVICE_FEATURE_PROBE |
				     VFIO_DEVICE_FEATURE_GET, 0, NULL));
	EXPECT_EQ(0, feature(self->dev, SAMPLE_FEATURE | VFIO_DEVICE_FEATURE_GET, 4, &v));
	EXPECT_EQ(SAMPLE_FEATURE_VALUE, v);
	/* SET is not supported, even to PROBE; GET needs room for the value. */
	EXPECT_EQ(-EINVAL, feature(self->dev, SAMPLE_FEATURE | VFIO_DEVICE_FEATURE_SET, 4, NULL));
	EXPECT_EQ(-EINVAL, feature(self->dev, SAMPLE_FEATURE | VFIO_DEVICE_FEATURE_PROBE |
				       VFIO_DEVICE_FEATURE_SET, 0, NULL));
	EXPECT_EQ(-EINVAL, feature(self->dev, SAMPLE_FEATURE | VFIO_DEVICE_FEATURE_GET, 2, NULL));
	/* An index nobody handles. */
	EXPECT_EQ(-ENOTTY, feature(self->dev, (SAMPLE_FEATURE + 1) | VFIO_DEVICE_FEATURE_GET, 4,
				   NULL));
}

static int read_requests(void)
{
	unsigned int opens, closes, bad, set_open, unmaps, requests;
	FILE *f = fopen(DBG "/dev0", "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "opens=%u closes=%u bad=%u set_open=%u dma_unmaps=%u requests=%u", &opens,
		   &closes, &bad, &set_open, &unmaps, &requests);
	fclose(f);
	return n == 6 ? (int)requests : -EINVAL;
}

/*
 * Unloading the driver with the device open: the core asks the driver's request op
 * to have it released and waits; closing the fd lets the unload finish.
 */
TEST_F(api, request_while_open)
{
	int status, i, req = 0;
	pid_t pid;

	ASSERT_EQ(0, read_requests());
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* The child's copies of the fds would keep the device open. */
		close(self->dev);
		close(self->group);
		close(self->container);
		_exit(vfio_rs_sh("rmmod vfio_rs_sample"));
	}
	self->unloaded = true;
	for (i = 0; i < 100 && req <= 0; i++) {
		usleep(50000);
		req = read_requests();
	}
	EXPECT_EQ(1, req);
	/* Still waiting for us. */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	close(self->dev);
	self->dev = -1;
	close(self->group);
	self->group = -1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
