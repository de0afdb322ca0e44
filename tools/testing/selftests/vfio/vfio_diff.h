/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfio_diff's sections share (vfio_diff.c): one output line per call,
 * "<label> = <result>", with results that depend on the kernel's behaviour only.
 */
#ifndef VFIO_DIFF_H
#define VFIO_DIFF_H

#include <linux/types.h>
#include <linux/vfio.h>

#include "vfio_rs_test.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9
#define PCI_CONFIG_OFF ((__u64)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define REGION_OFF(i) ((__u64)(i) << 40)

/* One output line: label, " = ", formatted result. */
void out(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The errno's name ("ENOENT"), or "E<n>". */
const char *errname(int e);
/* A value result: >= 0 as a number, < 0 as -errno; returns ret. */
long res(const char *label, long ret);
/* A new fd result: "fd", or the error. Returns the fd or -errno. */
int res_fd(const char *label, int ret);
/* Syscall convention (-1 + errno) to -errno. */
long sys(long ret);
long ioc(int fd, unsigned long cmd, const void *arg);
int open_rw(const char *path);
/* Closes an fd a call should not have returned, without a line. */
void drop(int fd);
/* Closes *fd with a line, and marks it closed. */
void close_fd(const char *label, int *fd);
/* A label built from a format (eight rotating buffers). */
const char *L(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define NVME_VENDOR 0x1b36
#define NVME_DEVICE 0x0010
/* QEMU's ivshmem-plain: a 256-byte register BAR0, smaller than a page. */
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110

/* The PCI devices of the config and BAR sections (vfio_diff_config.c). */
struct cfg_dev {
	const char *name;
	unsigned int vendor, device;
};
extern const struct cfg_dev cfg_devs[4];
/* Runs fn on each device found, bound to vfio-pci, labelled SECTION.NAME; unbinds after. */
void for_each_cfg_dev(void (*fn)(const char *what, const char *bdf), const char *section);
/* The device's cdev bound to a fresh iommufd; the device fd, or -1 (iommufd in *ictx). */
int open_bound(const char *what, const char *bdf, int *ictx);

/* The MSI-X table's BAR, offset and (if size) size from the device's config region, or -1. */
int msix_table(int fd, __u32 *offset, __u32 *size);

/* Sections outside vfio_diff.c. */
void config_tests(void);
void bar_tests(void);

#endif
