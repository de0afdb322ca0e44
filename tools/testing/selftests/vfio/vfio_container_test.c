// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vfio/vfio, the container: the node itself, VFIO_GET_API_VERSION,
 * VFIO_CHECK_EXTENSION before and after an IOMMU backend registers, errno of
 * unknown and premature ioctls, and many concurrent openers.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

/* The backend every x86 VFIO stack registers; its module name. */
#define TYPE1_MODULE "vfio_iommu_type1"
/* Loads the type1 build scripts/guest-load chose: ours by path, or upstream's. */
#define LOAD_TYPE1 "if [ -n \"${VFIO_RS_KO_vfio_iommu_type1:-}\" ]; then " \
	"insmod \"$VFIO_RS_KO_vfio_iommu_type1\"; else modprobe " TYPE1_MODULE "; fi"

FIXTURE(container) {
	int fd;
};

FIXTURE_SETUP(container)
{
	self->fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", VFIO_CONTAINER_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(container)
{
	close(self->fd);
}

TEST(node_is_misc_196_mode_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat(VFIO_CONTAINER_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(10, major(st.st_rdev));
	ASSERT_EQ(196, minor(st.st_rdev));
	ASSERT_EQ(0666, st.st_mode & 07777);
}

TEST(classes_exist)
{
	struct stat st;

	ASSERT_EQ(0, stat("/sys/class/vfio", &st));
	ASSERT_EQ(0, stat("/sys/class/vfio-dev", &st));
}

TEST_F(container, api_version)
{
	ASSERT_EQ(VFIO_API_VERSION, vfio_rs_ioctl(self->fd, VFIO_GET_API_VERSION, 0));
	/* The argument is ignored. */
	ASSERT_EQ(VFIO_API_VERSION, vfio_rs_ioctl(self->fd, VFIO_GET_API_VERSION, 12345));
}

TEST_F(container, unknown_and_premature_ioctls_are_einval)
{
	/* No backend: unknown commands are not passed anywhere (upstream: -EINVAL). */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, _IO(VFIO_TYPE, VFIO_BASE + 60), 0));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, _IO('x', 1), 0));
	/* Backend ioctls before SET_IOMMU, and group ioctls on a container. */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_IOMMU_GET_INFO, 0));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, 0));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_GROUP_GET_STATUS, 0));
	/* SET_IOMMU needs a group in the container first. */
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-EINVAL, vfio_rs_ioctl(self->fd, VFIO_SET_IOMMU, 0));
	/* Still usable afterwards. */
	ASSERT_EQ(VFIO_API_VERSION, vfio_rs_ioctl(self->fd, VFIO_GET_API_VERSION, 0));
}

static void expect_extensions(struct __test_metadata *_metadata, int fd, int type1)
{
	/* Answers of upstream's type1 backend without an instance (no SET_IOMMU yet). */
	EXPECT_EQ(type1, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(type1, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(type1, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, 0));
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, 6)); /* reserved nesting id */
	EXPECT_EQ(0, vfio_rs_ioctl(fd, VFIO_CHECK_EXTENSION, ~0ul));
}

/*
 * Unload the type1 backend, then load it again: the core must poll only what
 * is registered. The backend reloaded is the build guest-load chose (ours or
 * upstream's C module), so this also proves vfio_register_iommu_driver's ABI.
 */
TEST(check_extension_follows_backend_registration)
{
	int fd;

	ASSERT_EQ(0, vfio_rs_sh("rmmod " TYPE1_MODULE " 2>/dev/null; "
				"! grep -q '^" TYPE1_MODULE " ' /proc/modules"));
	fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(fd, 0);
	expect_extensions(_metadata, fd, 0);

	ASSERT_EQ(0, vfio_rs_sh(LOAD_TYPE1));
	expect_extensions(_metadata, fd, 1);

	/* A registered backend does not change other openers' answers either. */
	close(fd);
	fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(fd, 0);
	expect_extensions(_metadata, fd, 1);
	close(fd);

	/* Unregistration is seen too, and then the state is restored. */
	ASSERT_EQ(0, vfio_rs_sh("rmmod " TYPE1_MODULE));
	fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(fd, 0);
	expect_extensions(_metadata, fd, 0);
	close(fd);
	ASSERT_EQ(0, vfio_rs_sh(LOAD_TYPE1));
}

#define OPENERS 32
#define OPENS_EACH 64

/* Many processes opening and using containers at once, each open independent. */
TEST(many_concurrent_openers)
{
	pid_t pids[OPENERS];
	int i, status, failed = 0;

	for (i = 0; i < OPENERS; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			int fds[OPENS_EACH], j, bad = 0;

			for (j = 0; j < OPENS_EACH; j++) {
				fds[j] = open(VFIO_CONTAINER_PATH, O_RDWR);
				if (fds[j] < 0 ||
				    ioctl(fds[j], VFIO_GET_API_VERSION) != VFIO_API_VERSION)
					bad++;
			}
			for (j = 0; j < OPENS_EACH; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			_exit(bad ? 1 : 0);
		}
	}
	for (i = 0; i < OPENERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	ASSERT_EQ(0, failed);
}

TEST_HARNESS_MAIN
