// SPDX-License-Identifier: GPL-2.0
/*
 * The mdev core's user ABI, with upstream's unmodified C mtty sample (one
 * parent, two types, instances counted by the driver) and, when built
 * (make mdev-samples: out/mdev-samples/), upstream's mdpy sample as a second
 * parent (max_instances counted by the core, a description) and its mbochs
 * sample as a third:
 *  - the sysfs layout: /sys/class/mdev_bus/<parent>, mdev_supported_types/
 *    <driver>-<type>/{create,device_api,name,available_instances,
 *    description,devices/}, <parent>/<uuid>/{remove,mdev_type},
 *    /sys/bus/mdev/devices/<uuid>, and the attributes' values;
 *  - the global UUID namespace (EEXIST across types and parents, any case),
 *    malformed UUIDs (EINVAL), available_instances before and after, EUSERS
 *    when the core's count is spent;
 *  - remove_race: one UUID created and removed by two threads for N rounds
 *    (remove_race_long: 10,000 rounds over four pairs of threads, on demand);
 *    a remover that meets a device still being created must get EAGAIN
 *    without losing the device's `remove` file. Upstream's mdev removes the
 *    file first (mdev_sysfs.c remove_store), leaving a live device no one can
 *    remove: this case fails on upstream's mdev.ko by design.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define U1 "83b8f4f2-509f-382f-3c1e-e6bfe0fa3001"
#define U1_UPPER "83B8F4F2-509F-382F-3C1E-E6BFE0FA3001"
#define U2 "83b8f4f2-509f-382f-3c1e-e6bfe0fa3002"
#define MTTY "/sys/class/mdev_bus/mtty"
#define T1 MTTY "/mdev_supported_types/mtty-1"
#define T2 MTTY "/mdev_supported_types/mtty-2"
#define MDPY "/sys/class/mdev_bus/mdpy"
#define MDPY_VGA MDPY "/mdev_supported_types/mdpy-vga"
#define MDPY_XGA MDPY "/mdev_supported_types/mdpy-xga"
#define MBOCHS "/sys/class/mdev_bus/mbochs"
#define MBOCHS_SMALL MBOCHS "/mdev_supported_types/mbochs-small"
#define BUS_DEV "/sys/bus/mdev/devices/"

/* The contents of a sysfs file (at most len - 1 bytes), or "" on error. */
static const char *slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

static long avail(const char *type)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), "%s/available_instances", type);
	return strtol(slurp(path, buf, sizeof(buf)), NULL, 10);
}

/* Writes exactly len bytes (not a C string): 0 or -errno. */
static int write_n(const char *path, const char *val, size_t len)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int create(const char *type, const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/create", type);
	return vfio_rs_sysfs_write(path, uuid);
}

static int remove_dev(const char *uuid, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), BUS_DEV "%s/remove", uuid);
	return vfio_rs_sysfs_write(path, val);
}

static int exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), BUS_DEV "%s", uuid);
	return !access(path, F_OK);
}

/* Mode bits of path (following links), or -1. */
static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 0777);
}

/* Whether a and b resolve to the same sysfs directory. */
static int same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/* Number of mdevs on the bus. */
static int bus_count(void)
{
	char buf[16];
	FILE *p = popen("ls /sys/bus/mdev/devices | wc -l", "r");
	int n = -1;

	if (p) {
		if (fgets(buf, sizeof(buf), p))
			n = atoi(buf);
		pclose(p);
	}
	return n;
}

/* Loads out/mdev-samples/NAME.ko (found from this binary's path): 0, or -1 if not built. */
static int load_sample(const char *name)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -1;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	*strrchr(exe, '/') = 0;
	snprintf(cmd, sizeof(cmd), "%s/mdev-samples/%s.ko", exe, name);
	if (access(cmd, F_OK))
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod %s/mdev-samples/%s.ko", exe, name);
	return vfio_rs_sh(cmd);
}

FIXTURE(mdev) {
	int mdpy, mbochs;
};

FIXTURE_SETUP(mdev)
{
	self->mdpy = 0;
	self->mbochs = 0;
	if (vfio_rs_sh("modinfo mtty >/dev/null 2>&1"))
		SKIP(return, "no mtty module in this kernel");
	ASSERT_EQ(0, vfio_rs_modprobe_mdev_driver("mtty"));
	ASSERT_EQ(0, bus_count());
}

FIXTURE_TEARDOWN(mdev)
{
	remove_dev(U1, "1");
	remove_dev(U2, "1");
	if (self->mdpy)
		vfio_rs_sh("rmmod mdpy");
	if (self->mbochs)
		vfio_rs_sh("rmmod mbochs");
	vfio_rs_sh("rmmod mtty");
	/* Unregistering the parents removed whatever was left. */
	EXPECT_EQ(0, bus_count());
	vfio_rs_sh("rmmod mdev");
}

TEST_F(mdev, sysfs_layout)
{
	struct stat st;
	char buf[256];

	ASSERT_EQ(0, lstat(MTTY, &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(0200, mode_of(T1 "/create"));
	EXPECT_EQ(0444, mode_of(T1 "/device_api"));
	EXPECT_EQ(0444, mode_of(T1 "/name"));
	EXPECT_EQ(0444, mode_of(T1 "/available_instances"));
	/* mtty has no show_description. */
	EXPECT_NE(0, access(T1 "/description", F_OK));
	EXPECT_EQ(0, access(T1 "/devices", F_OK));
	EXPECT_EQ(0, access(T2 "/devices", F_OK));
	EXPECT_STREQ("vfio-pci\n", slurp(T1 "/device_api", buf, sizeof(buf)));
	EXPECT_STREQ("Single port serial\n", slurp(T1 "/name", buf, sizeof(buf)));
	EXPECT_STREQ("Dual port serial\n", slurp(T2 "/name", buf, sizeof(buf)));
	/* 24 ports: one per mtty-1, two per mtty-2 (mtty's get_available). */
	EXPECT_EQ(24, avail(T1));
	EXPECT_EQ(12, avail(T2));
	/* create has no show: not readable. */
	EXPECT_GT(0, open(T1 "/create", O_RDONLY));
	EXPECT_EQ(0, access("/sys/bus/mdev/drivers/mtty", F_OK));
	EXPECT_EQ(0, access("/sys/class/mdev_bus", F_OK));
}

TEST_F(mdev, create_and_remove)
{
	char link[PATH_MAX];
	ssize_t n;

	ASSERT_EQ(0, create(T2, U1));
	ASSERT_TRUE(exists(U1));
	n = readlink(BUS_DEV U1, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = 0;
	EXPECT_NE(NULL, strstr(link, "/mtty/mtty/" U1));
	EXPECT_EQ(0200, mode_of(MTTY "/" U1 "/remove"));
	EXPECT_TRUE(same_dir(MTTY "/" U1 "/mdev_type", T2));
	EXPECT_TRUE(same_dir(T2 "/devices/" U1, MTTY "/" U1));
	EXPECT_TRUE(same_dir(MTTY "/" U1 "/subsystem", "/sys/bus/mdev"));
	EXPECT_TRUE(same_dir(MTTY "/" U1 "/driver", "/sys/bus/mdev/drivers/mtty"));
	EXPECT_EQ(11, avail(T2));
	EXPECT_EQ(22, avail(T1));
	/* 0 removes nothing; a non-number is EINVAL. */
	EXPECT_EQ(0, remove_dev(U1, "0"));
	EXPECT_EQ(-EINVAL, remove_dev(U1, "yes"));
	EXPECT_TRUE(exists(U1));
	EXPECT_EQ(0, access(MTTY "/" U1 "/remove", F_OK));
	EXPECT_EQ(0, remove_dev(U1, "1\n"));
	EXPECT_FALSE(exists(U1));
	EXPECT_NE(0, access(T2 "/devices/" U1, F_OK));
	EXPECT_EQ(12, avail(T2));
	EXPECT_EQ(24, avail(T1));
}

TEST_F(mdev, duplicate_uuid)
{
	ASSERT_EQ(0, create(T2, U1));
	/* One namespace for every type, in any case, with or without a newline. */
	EXPECT_EQ(-EEXIST, create(T2, U1));
	EXPECT_EQ(-EEXIST, create(T1, U1));
	EXPECT_EQ(-EEXIST, create(T1, U1_UPPER));
	EXPECT_EQ(-EEXIST, create(T2, U1 "\n"));
	EXPECT_EQ(11, avail(T2));
	EXPECT_EQ(1, bus_count());
	EXPECT_EQ(0, create(T1, U2));
	EXPECT_EQ(2, bus_count());
	EXPECT_EQ(0, remove_dev(U2, "1"));
	EXPECT_EQ(0, remove_dev(U1, "1"));
}

TEST_F(mdev, malformed_uuid)
{
	/* (An empty write never reaches the kernel.) */
	static const char *const bad[] = {
		"\n",
		"83b8f4f2",
		"83b8f4f2-509f-382f-3c1e-e6bfe0fa300",		/* 35 */
		"83b8f4f2-509f-382f-3c1e-e6bfe0fa30011",	/* 37, a digit too many: the 37th is ignored */
		"83b8f4f2-509f-382f-3c1e-e6bfe0fa3001\n\n",	/* 38 */
		"83b8f4f2509f-382f-3c1e-e6bfe0fa3001-",
		"83b8f4f2-509f-382f-3c1e-e6bfe0fa300g",
		" 83b8f4f2-509f-382f-3c1e-e6bfe0fa3001",
		"{3b8f4f2-509f-382f-3c1e-e6bfe0fa3001",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = create(T2, bad[i]);

		/* The 37-character one is accepted: only the first 36 are a UUID. */
		if (i == 3) {
			EXPECT_EQ(0, ret);
			EXPECT_TRUE(exists(U1));
			EXPECT_EQ(0, remove_dev(U1, "1"));
			continue;
		}
		EXPECT_EQ(-EINVAL, ret) TH_LOG("'%s'", bad[i]);
	}
	/* A NUL as the 37th byte is ignored like any other; inside the UUID it is not. */
	EXPECT_EQ(0, write_n(T2 "/create", U1 "\0", 37));
	EXPECT_EQ(0, remove_dev(U1, "1"));
	EXPECT_EQ(-EINVAL, write_n(T2 "/create", "83b8f4f2-509f-382f-3c1e-e6bfe0fa30\0" "1", 36));
	EXPECT_EQ(0, bus_count());
	EXPECT_EQ(12, avail(T2));
}

TEST_F(mdev, instances_spent)
{
	char uuid[40];
	int i;

	/* mtty counts ports itself: its probe refuses the 13th mtty-2 with ENOSPC. */
	for (i = 0; i < 12; i++) {
		snprintf(uuid, sizeof(uuid), "83b8f4f2-509f-382f-3c1e-e6bfe0fa40%02d", i);
		ASSERT_EQ(0, create(T2, uuid));
	}
	EXPECT_EQ(0, avail(T2));
	EXPECT_EQ(0, avail(T1));
	EXPECT_EQ(-ENOSPC, create(T2, U1));
	/* The failed device is gone and its UUID free again. */
	EXPECT_FALSE(exists(U1));
	EXPECT_EQ(12, bus_count());
	for (i = 0; i < 12; i++) {
		snprintf(uuid, sizeof(uuid), "83b8f4f2-509f-382f-3c1e-e6bfe0fa40%02d", i);
		EXPECT_EQ(0, remove_dev(uuid, "1"));
	}
	EXPECT_EQ(12, avail(T2));
	EXPECT_EQ(0, create(T1, U1));
}

TEST_F(mdev, second_parent)
{
	char buf[256];
	int i;

	if (load_sample("mdpy"))
		SKIP(return, "upstream's mdpy sample not built (make mdev-samples)");
	self->mdpy = 1;
	/* max_instances = 4, counted by the core for the whole parent. */
	EXPECT_EQ(4, avail(MDPY_VGA));
	EXPECT_EQ(4, avail(MDPY_XGA));
	EXPECT_EQ(0444, mode_of(MDPY_VGA "/description"));
	EXPECT_NE(0, strlen(slurp(MDPY_VGA "/description", buf, sizeof(buf))));
	EXPECT_STREQ("mdpy-vga\n", slurp(MDPY_VGA "/name", buf, sizeof(buf)));
	/* The UUID namespace spans parents. */
	ASSERT_EQ(0, create(T2, U1));
	EXPECT_EQ(-EEXIST, create(MDPY_VGA, U1));
	EXPECT_EQ(-EEXIST, create(MDPY_XGA, U1_UPPER));
	EXPECT_EQ(4, avail(MDPY_VGA));
	ASSERT_EQ(0, create(MDPY_VGA, U2));
	EXPECT_EQ(-EEXIST, create(T1, U2));
	EXPECT_EQ(3, avail(MDPY_VGA));
	EXPECT_EQ(3, avail(MDPY_XGA));
	EXPECT_TRUE(same_dir(MDPY "/" U2 "/mdev_type", MDPY_VGA));
	for (i = 0; i < 3; i++) {
		char uuid[40];

		snprintf(uuid, sizeof(uuid), "83b8f4f2-509f-382f-3c1e-e6bfe0fa50%02d", i);
		EXPECT_EQ(0, create(MDPY_XGA, uuid));
	}
	EXPECT_EQ(0, avail(MDPY_VGA));
	EXPECT_EQ(-EUSERS, create(MDPY_VGA, "83b8f4f2-509f-382f-3c1e-e6bfe0fa5099"));
	EXPECT_EQ(0, remove_dev(U2, "1"));
	EXPECT_EQ(1, avail(MDPY_XGA));
	/* rmmod mdpy in the teardown removes the three left through mdev_unregister_parent. */
}

TEST_F(mdev, third_parent)
{
	char buf[256];
	long n;

	if (load_sample("mbochs"))
		SKIP(return, "upstream's mbochs sample not built (make mdev-samples)");
	self->mbochs = 1;
	EXPECT_EQ(0444, mode_of(MBOCHS_SMALL "/description"));
	EXPECT_NE(0, strlen(slurp(MBOCHS_SMALL "/description", buf, sizeof(buf))));
	EXPECT_STREQ("mbochs-small\n", slurp(MBOCHS_SMALL "/name", buf, sizeof(buf)));
	n = avail(MBOCHS_SMALL);
	EXPECT_LT(0, n);
	ASSERT_EQ(0, create(MBOCHS_SMALL, U2));
	EXPECT_EQ(n - 1, avail(MBOCHS_SMALL));
	EXPECT_EQ(-EEXIST, create(T2, U2));
	EXPECT_TRUE(same_dir(MBOCHS "/" U2 "/mdev_type", MBOCHS_SMALL));
	EXPECT_EQ(0, remove_dev(U2, "1"));
	EXPECT_EQ(n, avail(MBOCHS_SMALL));
	/* One left for rmmod (mdev_unregister_parent) to remove. */
	EXPECT_EQ(0, create(MBOCHS_SMALL, U2));
}

/*
 * remove_race: pairs of threads, a creator and a remover, each pair with its own
 * UUID, N rounds each; the creators alternate the two types. The remover retries
 * until the device it meets is gone; a device that exists but has no remove file for
 * 5 s is stuck. VFIO_RS_MDEV_RACE_ROUNDS and VFIO_RS_MDEV_RACE_PAIRS change the
 * defaults of remove_race (100 rounds, one pair); remove_race_long runs 10,000 rounds
 * in all (VFIO_RS_MDEV_RACE_LONG_ROUNDS) over four pairs, and only when
 * VFIO_RS_MDEV_RACE_LONG=1 (make mdev-race).
 */
#define RACE_PAIRS_MAX 16

struct race {
	char uuid[40];
	int pair, rounds;
	atomic_int *stop;	/* shared by all pairs */
	atomic_int round;	/* the creator's round, once created */
	atomic_int done;	/* the remover's round, once removed */
	int eagain, stuck, enoent, created, create_err;
};

static void *remover(void *arg)
{
	struct race *r = arg;
	int round;

	for (round = 1; round <= r->rounds && !atomic_load(r->stop); round++) {
		struct timespec t0, t;
		int ret;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			if (atomic_load(r->stop))
				return NULL;
			ret = remove_dev(r->uuid, "1");
			if (!ret && !exists(r->uuid))
				break;
			if (ret == -EAGAIN) {
				/*
				 * The create is still under way: let it finish
				 * (spinning here starves it when the pairs
				 * outnumber the CPUs).
				 */
				r->eagain++;
				sched_yield();
			}
			if (ret == -ENOENT && atomic_load(&r->round) != round)
				sched_yield();	/* not created yet: let the creator run */
			if (ret == -ENOENT && atomic_load(&r->round) == round) {
				/*
				 * Created, yet no remove file: gone, or stuck for
				 * good (upstream's remove_store removed the file and
				 * then refused with EAGAIN).
				 */
				if (!exists(r->uuid))
					break;
				clock_gettime(CLOCK_MONOTONIC, &t);
				if (t.tv_sec - t0.tv_sec > 5) {
					r->stuck++;
					atomic_store(r->stop, 1);
					return NULL;
				}
				r->enoent++;
			}
		}
		atomic_store(&r->done, round);
	}
	return NULL;
}

static void *creator(void *arg)
{
	struct race *r = arg;
	int round;

	for (round = 1; round <= r->rounds && !atomic_load(r->stop); round++) {
		/* Alternate the types: the UUID is one name across them. */
		int ret = create((round + r->pair) & 1 ? T1 : T2, r->uuid);

		if (ret) {
			r->create_err = ret;
			atomic_store(r->stop, 1);
			break;
		}
		atomic_store(&r->round, round);
		while (atomic_load(&r->done) != round && !atomic_load(r->stop))
			usleep(100);
		r->created = round;
		/* Progress of the long runs, for their timing. */
		if (!(round % 500)) {
			printf("# pair %d: %d rounds, %d EAGAIN\n", r->pair, round, r->eagain);
			fflush(stdout);
		}
	}
	return NULL;
}

/* The positive integer in environment variable name, or def. */
static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	int n = v ? atoi(v) : 0;

	return n > 0 ? n : def;
}

static void run_race(struct __test_metadata *_metadata, int pairs, int rounds)
{
	static struct race r[RACE_PAIRS_MAX];
	pthread_t tc[RACE_PAIRS_MAX], tr[RACE_PAIRS_MAX];
	int p, created = 0, eagain = 0, stuck = 0, enoent = 0;
	atomic_int stop = 0;
	struct timespec t0, t1;

	ASSERT_GE(RACE_PAIRS_MAX, pairs);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (p = 0; p < pairs; p++) {
		memset(&r[p], 0, sizeof(r[p]));
		snprintf(r[p].uuid, sizeof(r[p].uuid), "83b8f4f2-509f-382f-3c1e-e6bfe0fa60%02d", p);
		r[p].pair = p;
		r[p].rounds = rounds;
		r[p].stop = &stop;
		ASSERT_EQ(0, pthread_create(&tr[p], NULL, remover, &r[p]));
		ASSERT_EQ(0, pthread_create(&tc[p], NULL, creator, &r[p]));
	}
	/* A pair ends after its last round, or when any thread has set stop. */
	for (p = 0; p < pairs; p++) {
		pthread_join(tc[p], NULL);
		pthread_join(tr[p], NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (p = 0; p < pairs; p++) {
		EXPECT_EQ(0, r[p].create_err) TH_LOG("pair %d, round %d", p, r[p].created + 1);
		/* No device may be left without its remove file. */
		if (exists(r[p].uuid)) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), BUS_DEV "%s/remove", r[p].uuid);
			EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s has no remove file", r[p].uuid);
		}
		created += r[p].created;
		eagain += r[p].eagain;
		stuck += r[p].stuck;
		enoent += r[p].enoent;
	}
	TH_LOG("%d pairs: %d rounds in %ld ms, %d EAGAIN, %d ENOENT retries, %d stuck", pairs,
	       created, (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000,
	       eagain, enoent, stuck);
	EXPECT_EQ(0, stuck);
	EXPECT_EQ(pairs * rounds, created);
	/* A race that never met a device being created proved nothing. */
	EXPECT_LT(0, eagain);
	if (!stuck) {
		EXPECT_EQ(0, bus_count());
		EXPECT_EQ(12, avail(T2));
	}
}

/* TCG guests are slow: the harness's default 30 s is not enough for 100 rounds. */
TEST_F_TIMEOUT(mdev, remove_race, 240)
{
	run_race(_metadata, env_int("VFIO_RS_MDEV_RACE_PAIRS", 1),
		 env_int("VFIO_RS_MDEV_RACE_ROUNDS", 100));
}

TEST_F_TIMEOUT(mdev, remove_race_long, 3600)
{
	int pairs = 4;

	if (!getenv("VFIO_RS_MDEV_RACE_LONG") || strcmp(getenv("VFIO_RS_MDEV_RACE_LONG"), "1"))
		SKIP(return, "the long race runs with VFIO_RS_MDEV_RACE_LONG=1 (make mdev-race)");
	run_race(_metadata, pairs, env_int("VFIO_RS_MDEV_RACE_LONG_ROUNDS", 10000) / pairs);
}

TEST_HARNESS_MAIN
