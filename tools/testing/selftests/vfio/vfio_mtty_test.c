// SPDX-License-Identifier: GPL-2.0
/*
 * The mtty sample (upstream's C mtty.ko, or ours, samples/vfio-mdev/mtty.ko,
 * when the boot's SPEC picks it: --impl rust, mtty=rust) on the loaded mdev and
 * VFIO cores: an mdev is an emulated-IOMMU device
 * (vfio_register_emulated_iommu_dev) with its own group. It must open through
 * the group + type1 container and through its cdev bound to iommufd (the
 * vfio_iommufd_emulated_* ops), answer GET_INFO and config reads, and go away
 * on remove: at once when closed, after the last close when open; a migration
 * data fd kept past the device's close and removal pins the module and reads
 * ENODEV.
 *
 * Unregistering while user space holds the device (vfio_unregister_group_dev):
 * mtty has no ->request op and no REQ interrupt (SET_IRQS on VFIO_PCI_REQ_IRQ_INDEX
 * is ENOTTY, its IRQ info EINVAL), so the core can ask no one to let go: a sysfs
 * `remove` (with a group-path device fd open) and an `rmmod mtty` (with an unbound
 * cdev fd open) block, without signalling anything, until the fd is closed, and
 * complete promptly after. The device stays usable through the open fd meanwhile,
 * while it can no longer be found (GET_DEVICE_FD, the cdev node).
 */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/iommufd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define MDEV "/sys/bus/mdev/devices/" UUID
#define CREATE "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create"
#define MTTY_ID 0x32534348u /* vendor 0x4348, device 0x3253 */
#define AVAIL2 "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/available_instances"
/* How long a blocked removal must stay blocked, and the most it may take once released. */
#define BLOCKED_MS 2000
#define PROMPT_MS 5000

static int mdev_group(void)
{
	return vfio_rs_sysdev_iommu_group(MDEV);
}

static int mdev_cdev(char *buf, size_t len)
{
	char name[32];
	int ret = vfio_rs_sysdev_vfio_dev(MDEV, name, sizeof(name));

	if (!ret)
		snprintf(buf, len, "/dev/vfio/devices/%s", name);
	return ret;
}

/* GET_INFO and a config-space read through the region the device reports. */
static int check_device(struct __test_metadata *_metadata, int fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info reg = { .argsz = sizeof(reg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	unsigned int id = 0;

	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&reg));
	EXPECT_EQ(4, pread(fd, &id, 4, reg.offset));
	EXPECT_EQ(MTTY_ID, id);
	return 0;
}

FIXTURE(mtty) {
	int created;
};

FIXTURE_SETUP(mtty)
{
	self->created = 0;
	if (vfio_rs_sh("modinfo mtty >/dev/null 2>&1"))
		SKIP(return, "no mtty module in this kernel");
	/* Loading fails if the core lacks an export mtty uses. */
	ASSERT_EQ(0, vfio_rs_modprobe_mdev_driver("mtty"));
	ASSERT_EQ(0, vfio_rs_sysfs_write(CREATE, UUID));
	self->created = 1;
	/* The UUID namespace is global: a second create fails. */
	EXPECT_EQ(-EEXIST, vfio_rs_sysfs_write(CREATE, UUID));
}

FIXTURE_TEARDOWN(mtty)
{
	/* (The unregister cases remove it themselves.) */
	if (self->created && !access(MDEV, F_OK))
		EXPECT_EQ(0, vfio_rs_sysfs_write(MDEV "/remove", "1"));
	EXPECT_NE(0, access(MDEV, F_OK));
	/* (rmmod_waits_for_cdev_fd unloaded mtty already.) */
	vfio_rs_sh("[ ! -d /sys/module/mtty ] || rmmod mtty; rmmod mdev");
}

TEST_F(mtty, group_and_type1)
{
	int container, group, fd, fd2, id = mdev_group();
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[32];

	ASSERT_GE(id, 0);
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	group = open(path, O_RDWR);
	ASSERT_GE(group, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_GET_STATUS, (unsigned long)&st));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, st.flags);
	container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(container, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container));
	ASSERT_EQ(0, vfio_rs_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	fd = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)UUID);
	ASSERT_GE(fd, 0);
	check_device(_metadata, fd);
	fd2 = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)UUID);
	EXPECT_GE(fd2, 0);
	close(fd2);
	close(fd);
	close(group);
	close(container);
}

/*
 * The mtty loaded is the build the boot's SPEC asked for: ours (out-of-tree, taint O)
 * when scripts/guest-load exported VFIO_RS_KO_mtty (--impl rust, mtty=rust), else the
 * test kernel's.
 */
TEST_F(mtty, wanted_build)
{
	const char *ko = getenv("VFIO_RS_KO_mtty");
	char taint[16] = "";
	FILE *f = fopen("/sys/module/mtty/taint", "r");

	ASSERT_NE(NULL, f);
	if (!fgets(taint, sizeof(taint), f))
		taint[0] = 0;
	fclose(f);
	EXPECT_EQ(ko && *ko, strchr(taint, 'O') != NULL) {
		TH_LOG("VFIO_RS_KO_mtty=%s, taint '%s'", ko ? ko : "(unset)", taint);
	}
}

TEST_F(mtty, cdev_and_iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int iommufd, fd;
	char cdev[64];

	ASSERT_EQ(0, mdev_cdev(cdev, sizeof(cdev)));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(iommufd, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(iommufd, IOMMU_IOAS_ALLOC, (unsigned long)&alloc));
	fd = open(cdev, O_RDWR);
	ASSERT_GE(fd, 0);
	bind.iommufd = iommufd;
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind));
	attach.pt_id = alloc.out_ioas_id;
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, (unsigned long)&attach));
	/* Replacing with the same IOAS goes through iommufd_access_replace. */
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, (unsigned long)&attach));
	check_device(_metadata, fd);
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, (unsigned long)&detach));
	close(fd);
	close(iommufd);
}

/* The device opened through its cdev bound to a new iommufd (into *iommufd), or -1. */
static int open_bound(int *iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char cdev[64];
	int fd;

	*iommufd = -1;
	if (mdev_cdev(cdev, sizeof(cdev)))
		return -1;
	fd = open(cdev, O_RDWR);
	*iommufd = open("/dev/iommu", O_RDWR);
	if (fd < 0 || *iommufd < 0)
		return -1;
	bind.iommufd = *iommufd;
	if (vfio_rs_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, (unsigned long)&bind))
		return -1;
	return fd;
}

/* MIG_DEVICE_STATE SET; the data fd (or -1). */
static int set_state(int fd, __u32 state)
{
	struct {
		struct vfio_device_feature h;
		struct vfio_device_feature_mig_state m;
	} s = { .h = { .argsz = sizeof(s),
		       .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.m = { .device_state = state, .data_fd = -1 } };

	if (vfio_rs_ioctl(fd, VFIO_DEVICE_FEATURE, (unsigned long)&s))
		return -2;
	return s.m.data_fd;
}

/*
 * A STOP_COPY data fd kept past the device's close and removal: it pins the module
 * (its fops' owner), the close disabled it (ENODEV), and the device goes away.
 */
TEST_F(mtty, data_fd_outlives_device)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	int iommufd, fd, data;
	char buf[128];

	fd = open_bound(&iommufd);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-1, set_state(fd, VFIO_DEVICE_STATE_STOP));
	data = set_state(fd, VFIO_DEVICE_STATE_STOP_COPY);
	ASSERT_GE(data, 0);
	EXPECT_EQ(96, read(data, buf, sizeof(buf)));
	close(fd);
	close(iommufd);
	/* Not PRE_COPY: EINVAL, with the device closed as with it open. */
	EXPECT_EQ(-EINVAL, vfio_rs_ioctl(data, VFIO_MIG_GET_PRECOPY_INFO, (unsigned long)&info));
	EXPECT_NE(0, vfio_rs_sh("rmmod mtty 2>/dev/null"));
	EXPECT_EQ(0, vfio_rs_sysfs_write(MDEV "/remove", "1"));
	self->created = 0;
	EXPECT_EQ(-1, read(data, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(data);
}

static void *remover(void *arg)
{
	*(int *)arg = vfio_rs_sysfs_write(MDEV "/remove", "1");
	return NULL;
}

/*
 * Removing an open device waits for its last close (mtty has no request op: nothing asks
 * user space to close).
 */
TEST_F(mtty, remove_waits_for_close)
{
	int iommufd, fd, ret = 1;
	pthread_t t;

	fd = open_bound(&iommufd);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, remover, &ret));
	usleep(500 * 1000);
	/* Still waiting (its sysfs links are gone already), and the open device still works. */
	EXPECT_EQ(1, ret);
	check_device(_metadata, fd);
	close(fd);
	close(iommufd);
	pthread_join(t, NULL);
	EXPECT_EQ(0, ret);
	self->created = 0;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long avail2(void)
{
	char buf[32] = "";
	int fd = open(AVAIL2, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

/*
 * The children below first close every inherited descriptor but stdio: a copy of the
 * device fd in the child would keep the device in use and the removal waiting forever.
 */
static void close_inherited(void)
{
	int fd;

	for (fd = 3; fd < 1024; fd++)
		close(fd);
}

/* A child that removes the device through sysfs: exits 0, or with the errno of the write. */
static pid_t child_remove(void)
{
	pid_t pid = fork();

	if (!pid) {
		close_inherited();
		_exit(-vfio_rs_sysfs_write(MDEV "/remove", "1"));
	}
	return pid;
}

/* A child that runs a shell command and exits with its status. */
static pid_t child_sh(const char *cmd)
{
	pid_t pid = fork();

	if (!pid) {
		close_inherited();
		_exit(vfio_rs_sh(cmd) & 0xff);
	}
	return pid;
}

/* Waits up to ms for pid: its exit status, or -1 if it is still running. */
static int wait_child(pid_t pid, long ms)
{
	long end = now_ms() + ms;
	int status;

	do {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0)
			return -2;
		usleep(20000);
	} while (now_ms() < end);
	return -1;
}

/*
 * What user space can learn about mtty's REQ interrupt (after GET_INFO, which mtty
 * needs before it validates IRQ indexes): nothing to register. Returns the eventfd
 * offered, to check later that nothing signalled it.
 */
static int offer_req_eventfd(struct __test_metadata *_metadata, int fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_REQ_IRQ_INDEX };
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} req = {
		.set = { .argsz = sizeof(req),
			 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			 .index = VFIO_PCI_REQ_IRQ_INDEX, .start = 0, .count = 1 },
	};
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	EXPECT_GE(efd, 0);
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
	EXPECT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, (unsigned long)&irq));
	req.fd = efd;
	EXPECT_EQ(-ENOTTY, vfio_rs_ioctl(fd, VFIO_DEVICE_SET_IRQS, (unsigned long)&req));
	return efd;
}

/* The eventfd's count, 0 if it was never signalled. */
static uint64_t eventfd_count(int efd)
{
	uint64_t n = 0;

	return read(efd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

/*
 * remove_waits_for_group_fd: `remove` blocks while a device fd from the group is
 * open (and `rmmod mtty` is refused meanwhile: the open device holds its driver's
 * module); closing the fd lets it finish.
 */
TEST_F_TIMEOUT(mtty, remove_waits_for_group_fd, 60)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	int container, group, fd, efd, id = mdev_group(), status;
	char path[32], cdev[64];
	unsigned int vid = 0;
	long t;
	pid_t pid;

	ASSERT_GE(id, 0);
	ASSERT_EQ(0, mdev_cdev(cdev, sizeof(cdev)));
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	group = open(path, O_RDWR);
	ASSERT_GE(group, 0);
	container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(container, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(group, VFIO_GROUP_SET_CONTAINER, (unsigned long)&container));
	ASSERT_EQ(0, vfio_rs_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	fd = vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)UUID);
	ASSERT_GE(fd, 0);
	efd = offer_req_eventfd(_metadata, fd);
	ASSERT_EQ(0, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&reg));
	EXPECT_EQ(11, avail2());
	EXPECT_NE(0, vfio_rs_sh("rmmod mtty 2>/dev/null"));

	pid = child_remove();
	ASSERT_GT(pid, 0);
	status = wait_child(pid, BLOCKED_MS);
	EXPECT_EQ(-1, status) TH_LOG("remove returned (%d) with the device fd open", status);
	if (status == -1) {
		/* Unregistering has begun: the device can no longer be found... */
		EXPECT_EQ(-ENODEV, vfio_rs_ioctl(group, VFIO_GROUP_GET_DEVICE_FD,
						 (unsigned long)UUID));
		EXPECT_NE(0, access(cdev, F_OK));
		EXPECT_NE(0, access(MDEV, F_OK));
		/* ...but the open fd still reaches it, and its ports are still taken. */
		EXPECT_EQ(4, pread(fd, &vid, 4, reg.offset));
		EXPECT_EQ(MTTY_ID, vid);
		EXPECT_EQ(11, avail2());
	}
	EXPECT_EQ(0, eventfd_count(efd));
	t = now_ms();
	close(fd);
	status = wait_child(pid, PROMPT_MS);
	EXPECT_EQ(0, status) TH_LOG("remove: %d after the fd closed", status);
	TH_LOG("remove finished %ld ms after the fd closed", now_ms() - t);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	EXPECT_NE(0, access(MDEV, F_OK));
	EXPECT_EQ(12, avail2());
	EXPECT_EQ(0, eventfd_count(efd));
	close(efd);
	close(group);
	close(container);
}

/*
 * rmmod_waits_for_cdev_fd: an open (unbound) cdev fd holds the registration, not the
 * module: `rmmod mtty` starts, unregisters the parent and blocks in the device's
 * removal until the fd is closed.
 */
TEST_F_TIMEOUT(mtty, rmmod_waits_for_cdev_fd, 60)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd, status;
	char cdev[64];
	long t;
	pid_t pid;

	ASSERT_EQ(0, mdev_cdev(cdev, sizeof(cdev)));
	fd = open(cdev, O_RDWR);
	ASSERT_GE(fd, 0);
	pid = child_sh("rmmod mtty");
	ASSERT_GT(pid, 0);
	status = wait_child(pid, BLOCKED_MS);
	EXPECT_EQ(-1, status) TH_LOG("rmmod returned (%d) with the cdev open", status);
	if (status == -1) {
		EXPECT_EQ(0, access("/sys/module/mtty", F_OK));
		EXPECT_NE(0, access(MDEV, F_OK));
		EXPECT_NE(0, access(cdev, F_OK));
		/* Unbound: the fd refuses device ioctls, as before the removal began. */
		EXPECT_EQ(-EINVAL, vfio_rs_ioctl(fd, VFIO_DEVICE_GET_INFO, (unsigned long)&info));
	}
	t = now_ms();
	close(fd);
	status = wait_child(pid, PROMPT_MS);
	EXPECT_EQ(0, status) TH_LOG("rmmod: %d after the fd closed", status);
	TH_LOG("rmmod finished %ld ms after the fd closed", now_ms() - t);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	EXPECT_NE(0, access("/sys/module/mtty", F_OK));
	EXPECT_NE(0, access(MDEV, F_OK));
}

TEST_HARNESS_MAIN
