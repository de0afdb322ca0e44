/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the vfio-rs kselftests. */
#ifndef VFIO_RS_TEST_H
#define VFIO_RS_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

#endif
