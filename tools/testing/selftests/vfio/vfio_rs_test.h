/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the vfio-rs kselftests. */
#ifndef VFIO_RS_TEST_H
#define VFIO_RS_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/vfio.h>

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"

/* ioctl() result as the kernel returned it: >= 0, or -errno. */
static inline long vfio_rs_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* Runs a shell command; returns its exit status, or -1 if it did not exit. */
static inline int vfio_rs_sh(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* VmLck of a process (0: self) in kB, the type1 locked-memory charge, or -1. */
static inline long vfio_rs_vmlck_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * modprobe of an mdev driver (mtty) on the mdev core the boot's SPEC chose: when
 * scripts/guest-load loaded our mdev.ko (it exports VFIO_RS_KO_mdev) and a test has
 * unloaded it since, that build is loaded again first, so that modprobe does not
 * pull in upstream's. A driver guest-load loaded in Rust (VFIO_RS_KO_<name>, e.g. a
 * Rust mtty) is loaded again from that build, not modprobed.
 */
static inline int vfio_rs_modprobe_mdev_driver(const char *name)
{
	const char *ko = getenv("VFIO_RS_KO_mdev");
	char cmd[PATH_MAX + 16], var[64], sys[PATH_MAX];

	if (ko && *ko && access("/sys/module/mdev", F_OK)) {
		snprintf(cmd, sizeof(cmd), "insmod %s", ko);
		if (vfio_rs_sh(cmd))
			return -1;
	}
	snprintf(var, sizeof(var), "VFIO_RS_KO_%s", name);
	ko = getenv(var);
	snprintf(sys, sizeof(sys), "/sys/module/%s", name);
	if (ko && *ko) {
		if (!access(sys, F_OK))
			return 0;
		snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	} else {
		snprintf(cmd, sizeof(cmd), "modprobe %s", name);
	}
	return vfio_rs_sh(cmd);
}

/*
 * Loads samples/vfio-rs-sample (found from this binary's path,
 * <repo>/out/selftests/<test>), with debugfs mounted for its counters.
 */
static inline int vfio_rs_load_sample(void)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -errno;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	*strrchr(exe, '/') = 0;
	*strrchr(exe, '/') = 0;
	if (access("/sys/kernel/debug/vfio-rs-sample", F_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(cmd, sizeof(cmd), "insmod %s/samples/vfio-rs-sample/vfio_rs_sample.ko", exe);
	return vfio_rs_sh(cmd);
}

/*
 * The set-up the PCI tests share, expanded inside a FIXTURE_SETUP: finds the
 * first vendor:device function (into the char array bdf), skips the test when
 * there is none or vfio-pci is not loaded, binds it to vfio-pci and writes its
 * group node into the char array path.
 */
#define VFIO_RS_SETUP_PCI(vendor, device, what, bdf, path)				\
	do {										\
		int __group;								\
		if (vfio_rs_find_pci(vendor, device, bdf, sizeof(bdf)))			\
			SKIP(return, "no " what " in this guest");			\
		if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))			\
			SKIP(return, "vfio-pci is not loaded on this core");		\
		__group = vfio_rs_iommu_group(bdf);					\
		ASSERT_GE(__group, 0);							\
		ASSERT_EQ(0, vfio_rs_bind_vfio_pci(bdf));				\
		snprintf(path, sizeof(path), "/dev/vfio/%d", __group);			\
	} while (0)

#endif

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

/* Writes a string to a sysfs file; returns 0 or -errno. */
static inline int vfio_rs_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Opens /dev/vfio/<group_id> and a new container, sets the container on the group
 * and the IOMMU type (e.g. VFIO_TYPE1v2_IOMMU) on the container. *group and
 * *container are the fds opened (-1 if not), for the caller to close; 0 or -errno.
 */
static inline int vfio_rs_group_in_container(int group_id, unsigned long iommu, int *group,
					     int *container)
{
	char path[32];

	*group = *container = -1;
	if (group_id < 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	*group = open(path, O_RDWR);
	if (*group < 0)
		return -errno;
	*container = open(VFIO_CONTAINER_PATH, O_RDWR);
	if (*container < 0)
		return -errno;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, iommu))
		return -errno;
	return 0;
}

/* Reads a (sysfs) file into buf, NUL-terminated; 0 or -errno. */
static inline int vfio_rs_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/*
 * Finds the first PCI function with vendor:device in sysfs; fills bdf.
 * Returns 0, or -ENOENT.
 */
static inline int vfio_rs_find_pci(unsigned int vendor, unsigned int device, char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int ret = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		unsigned int v = 0, dv = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%x", &v) != 1)
			v = 0;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%x", &dv) != 1)
			dv = 0;
		if (f)
			fclose(f);
		if (v == vendor && dv == device) {
			snprintf(bdf, len, "%s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/* Binds a PCI function to vfio-pci (driver_override), unbinding any driver first. */
static inline int vfio_rs_bind_vfio_pci(const char *bdf)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	vfio_rs_sysfs_write(path, bdf); /* no driver: nothing to do */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = vfio_rs_sysfs_write(path, "vfio-pci");
	if (ret)
		return ret;
	return vfio_rs_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/* Unbinds a PCI function from its driver and clears driver_override. */
static inline int vfio_rs_unbind(const char *bdf)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	ret = vfio_rs_sysfs_write(path, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	vfio_rs_sysfs_write(path, "\n");
	return ret;
}

/* The IOMMU group id of the device at sysfs directory sysdev, or -errno. */
static inline int vfio_rs_sysdev_iommu_group(const char *sysdev)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/iommu_group", sysdev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	return atoi(strrchr(link, '/') + 1);
}

/* Name of the vfio-dev/vfioN entry under sysfs directory sysdev into name; 0 or -errno. */
static inline int vfio_rs_sysdev_vfio_dev(const char *sysdev, char *name, size_t len)
{
	char path[PATH_MAX];
	struct dirent *e;
	int ret = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), "%s/vfio-dev", sysdev);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(name, len, "%s", e->d_name);
			ret = 0;
		}
	closedir(d);
	return ret;
}

/* The IOMMU group id of a PCI function, or -errno. */
static inline int vfio_rs_iommu_group(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return vfio_rs_sysdev_iommu_group(path);
}

/* Name of the single vfio-dev/vfioN entry of a PCI function into name; 0 or -errno. */
static inline int vfio_rs_vfio_dev_name(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return vfio_rs_sysdev_vfio_dev(path, name, len);
}

/* Major number of a character device region by name in /proc/devices, or -ENOENT. */
static inline int vfio_rs_chrdev_major(const char *name)
{
	char line[256], n[128];
	int major, ret = -ENOENT;
	FILE *f = fopen("/proc/devices", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %127s", &major, n) == 2 && !strcmp(n, name))
			ret = major;
	fclose(f);
	return ret;
}
