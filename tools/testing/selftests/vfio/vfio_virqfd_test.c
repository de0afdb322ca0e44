// SPDX-License-Identifier: GPL-2.0
/*
 * virqfd, through upstream's C vfio-pci: its INTx unmask eventfd
 * (VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_EVENTFD) is a virqfd whose
 * handler unmasks the line in atomic context and whose thread function
 * re-signals the trigger eventfd when the interrupt is still pending. The
 * device is QEMU's edu: writing BAR0 register 0x60 raises its interrupt with
 * those status bits, 0x64 acknowledges them, 0x24 reads the status.
 *
 * Covered: unmask by eventfd (handler and thread paths), an eventfd already
 * signalled when enabled, the counter consumed on each wake-up, -EBUSY for a
 * second enable and re-enable after disable, release by closing the eventfd
 * (hang-up), flush of the thread when the trigger is replaced, teardown with
 * the virqfd active (INTx disable and device close), MSI needing none, and
 * vfio-pci's other virqfd user: ioeventfds (VFIO_DEVICE_IOEVENTFD).
 */
#include <poll.h>
#include <sys/eventfd.h>

#include "vfio_rs_test.h"
#include "kselftest_harness.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

/* How long to wait for an interrupt that must come, and for one that must not. */
#define FIRES_MS 3000
#define QUIET_MS 300

FIXTURE(edu) {
	char bdf[32];
	int group;
	int container;
	int dev;
	__u64 bar0;
};

FIXTURE_SETUP(edu)
{
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	char path[64];
	__u16 cmd;

	self->group = self->container = self->dev = -1;
	VFIO_RS_SETUP_PCI(EDU_VENDOR, EDU_DEVICE, "edu device", self->bdf, path);
	self->group = open(path, O_RDWR);
	ASSERT_GE(self->group, 0);
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_GE(self->container, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
				   (unsigned long)&self->container));
	ASSERT_EQ(0, vfio_rs_ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	self->dev = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(self->dev, 0);

	ASSERT_EQ(0, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&bar0));
	ASSERT_GE(bar0.size, 0x100);
	self->bar0 = bar0.offset;
	/* Memory decoding (BAR0 accesses) and bus mastering (MSI writes) on. */
	ASSERT_EQ(0, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)&cfg));
	ASSERT_EQ(sizeof(cmd), pread(self->dev, &cmd, sizeof(cmd), cfg.offset + 4));
	cmd |= 0x6;
	ASSERT_EQ(sizeof(cmd), pwrite(self->dev, &cmd, sizeof(cmd), cfg.offset + 4));
}

FIXTURE_TEARDOWN(edu)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	vfio_rs_unbind(self->bdf);
}

static void edu_write(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self,
		      __u64 reg, __u32 val)
{
	ASSERT_EQ(sizeof(val), pwrite(self->dev, &val, sizeof(val), self->bar0 + reg));
}

static __u32 edu_read(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self, __u64 reg)
{
	__u32 val = 0;

	EXPECT_EQ(sizeof(val), pread(self->dev, &val, sizeof(val), self->bar0 + reg));
	return val;
}

/* Raises edu's interrupt with status bit 1 (after clearing every bit). */
static void edu_raise(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self)
{
	edu_write(_metadata, self, EDU_IRQ_ACK, ~0u);
	edu_write(_metadata, self, EDU_IRQ_RAISE, 1);
	ASSERT_EQ(1, edu_read(_metadata, self, EDU_IRQ_STATUS));
}

static void edu_ack(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self)
{
	edu_write(_metadata, self, EDU_IRQ_ACK, ~0u);
	ASSERT_EQ(0, edu_read(_metadata, self, EDU_IRQ_STATUS));
}

/* VFIO_DEVICE_SET_IRQS with zero or one eventfd (fd < -1: DATA_NONE). */
static long set_irq(int dev, __u32 index, __u32 action, __u32 count, int fd)
{
	struct {
		struct vfio_irq_set set;
		__s32 fd;
	} req = { .set = { .argsz = sizeof(req), .index = index, .start = 0,
			   .count = count } };

	if (fd < -1) {
		req.set.argsz = sizeof(req.set);
		req.set.flags = VFIO_IRQ_SET_DATA_NONE | action;
	} else {
		req.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
		req.fd = fd;
	}
	return vfio_rs_ioctl(dev, VFIO_DEVICE_SET_IRQS, (unsigned long)&req);
}

#define NONE (-2)

/* INTx SET_IRQS with one eventfd, or (NONE) with no data and count 0. */
static long intx(FIXTURE_DATA(edu) *self, __u32 action, int fd)
{
	return set_irq(self->dev, VFIO_PCI_INTX_IRQ_INDEX, action, fd == NONE ? 0 : 1, fd);
}

/* The eventfd's count if it gets signalled within ms, else 0. */
static __u64 wait_fd(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	__u64 n = 0;

	if (poll(&p, 1, ms) != 1 || read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void signal_fd(struct __test_metadata *_metadata, int efd)
{
	__u64 one = 1;

	ASSERT_EQ(sizeof(one), write(efd, &one, sizeof(one)));
}

/* Enables INTx with trigger t, raises it: t fires and the line is now masked. */
static void fire_and_mask(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self, int t)
{
	edu_raise(_metadata, self);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	/* Masked: a new interrupt after the ack stays pending. */
	edu_ack(_metadata, self);
	edu_raise(_metadata, self);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
}

TEST_F(edu, intx_is_maskable_with_one_vector)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_INTX_IRQ_INDEX };

	ASSERT_EQ(0, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_IRQ_INFO, (unsigned long)&info));
	ASSERT_EQ(1, info.count);
	ASSERT_TRUE(info.flags & VFIO_IRQ_INFO_EVENTFD);
	ASSERT_TRUE(info.flags & VFIO_IRQ_INFO_MASKABLE);
	ASSERT_TRUE(info.flags & VFIO_IRQ_INFO_AUTOMASKED);
	/* Unmask needs INTx enabled first. */
	ASSERT_EQ(-EINVAL, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, 0));
}

TEST_F(edu, unmask_eventfd_unmasks_and_resignals_pending)
{
	int t = eventfd(0, EFD_NONBLOCK), u = eventfd(0, EFD_NONBLOCK);
	__u64 n;

	ASSERT_GE(t, 0);
	ASSERT_GE(u, 0);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u));
	fire_and_mask(_metadata, self, t);

	/* Unmask while pending: the handler keeps it masked, the thread re-signals. */
	signal_fd(_metadata, u);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	/* The wake-up consumed the unmask eventfd's count. */
	ASSERT_EQ(-1, read(u, &n, sizeof(n)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));

	/* Nothing pending: the handler unmasks, nothing is signalled. */
	edu_ack(_metadata, self);
	signal_fd(_metadata, u);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
	/* Unmasked: the next interrupt arrives. */
	edu_raise(_metadata, self);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	edu_ack(_metadata, self);

	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, NONE));
	close(u);
	close(t);
}

TEST_F(edu, unmask_eventfd_signalled_before_enable_acts_at_once)
{
	int t = eventfd(0, EFD_NONBLOCK), u = eventfd(0, EFD_NONBLOCK);
	__u64 n;

	ASSERT_GE(t, 0);
	ASSERT_GE(u, 0);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t));
	fire_and_mask(_metadata, self, t);

	signal_fd(_metadata, u);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u));
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	/* That event came from the poll at enable, which leaves the count alone... */
	ASSERT_EQ(sizeof(n), read(u, &n, sizeof(n)));
	ASSERT_EQ(1, n);
	/* ...and later signals still reach the virqfd. */
	edu_ack(_metadata, self);
	signal_fd(_metadata, u);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
	edu_raise(_metadata, self);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	edu_ack(_metadata, self);

	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, NONE));
	close(u);
	close(t);
}

TEST_F(edu, second_enable_is_busy_until_disabled)
{
	int t = eventfd(0, EFD_NONBLOCK), u1 = eventfd(0, EFD_NONBLOCK);
	int u2 = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(t, 0);
	ASSERT_GE(u1, 0);
	ASSERT_GE(u2, 0);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u1));
	ASSERT_EQ(-EBUSY, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u2));
	/* Not an eventfd, and not an fd. */
	ASSERT_EQ(-EINVAL, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, self->group));
	ASSERT_EQ(-EBADF, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, 1000));
	fire_and_mask(_metadata, self, t);

	/* The refused eventfd does nothing (nobody consumes its count); u1 still unmasks. */
	signal_fd(_metadata, u2);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
	ASSERT_EQ(1, wait_fd(u2, 0));
	signal_fd(_metadata, u1);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));

	/* Disabled (fd -1): u1 is detached, u2 can take its place. */
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, -1));
	signal_fd(_metadata, u1);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u2));
	signal_fd(_metadata, u2);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	/* Disabling an empty slot is fine, twice. */
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, -1));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, -1));
	edu_ack(_metadata, self);

	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, NONE));
	close(u2);
	close(u1);
	close(t);
}

TEST_F(edu, closing_the_unmask_eventfd_releases_it)
{
	int t = eventfd(0, EFD_NONBLOCK), u = eventfd(0, EFD_NONBLOCK);
	int u2 = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(t, 0);
	ASSERT_GE(u, 0);
	ASSERT_GE(u2, 0);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u));
	/* The hang-up empties the driver's slot: a new enable is not busy. */
	close(u);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u2));
	fire_and_mask(_metadata, self, t);
	signal_fd(_metadata, u2);
	ASSERT_EQ(1, wait_fd(t, FIRES_MS));
	edu_ack(_metadata, self);

	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, NONE));
	close(u2);
	close(t);
}

TEST_F(edu, replacing_the_trigger_flushes_the_thread)
{
	int t1 = eventfd(0, EFD_NONBLOCK), t2 = eventfd(0, EFD_NONBLOCK);
	int u = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(t1, 0);
	ASSERT_GE(t2, 0);
	ASSERT_GE(u, 0);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t1));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u));
	fire_and_mask(_metadata, self, t1);
	/* vfio-pci flushes the virqfd's thread before dropping the old trigger. */
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t2));
	signal_fd(_metadata, u);
	ASSERT_EQ(1, wait_fd(t2, FIRES_MS));
	ASSERT_EQ(0, wait_fd(t1, QUIET_MS));
	edu_ack(_metadata, self);

	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, NONE));
	close(u);
	close(t2);
	close(t1);
}

TEST_F(edu, intx_disable_and_close_tear_down_an_active_virqfd)
{
	int t = eventfd(0, EFD_NONBLOCK), u = eventfd(0, EFD_NONBLOCK);
	int u2 = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(t, 0);
	ASSERT_GE(u, 0);
	ASSERT_GE(u2, 0);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u));
	fire_and_mask(_metadata, self, t);
	/* Trigger count 0 with DATA_NONE: INTx off, its virqfd with it. */
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, NONE));
	signal_fd(_metadata, u);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
	ASSERT_EQ(-EINVAL, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u));

	/* Again, left active when the device fd closes: close_device disables it. */
	edu_ack(_metadata, self);
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_TRIGGER, t));
	ASSERT_EQ(0, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, u2));
	fire_and_mask(_metadata, self, t);
	close(self->dev);
	self->dev = -1;
	signal_fd(_metadata, u2);
	ASSERT_EQ(0, wait_fd(t, QUIET_MS));
	close(u2);
	close(u);
	close(t);

	/* The device opens again with INTx off. */
	self->dev = vfio_rs_ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)self->bdf);
	ASSERT_GE(self->dev, 0);
	ASSERT_EQ(-EINVAL, intx(self, VFIO_IRQ_SET_ACTION_UNMASK, -1));
}

TEST_F(edu, msi_trigger_works_and_has_no_unmask)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSI_IRQ_INDEX };
	int m = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(m, 0);
	ASSERT_EQ(0, vfio_rs_ioctl(self->dev, VFIO_DEVICE_GET_IRQ_INFO, (unsigned long)&info));
	ASSERT_GE(info.count, 1);
	ASSERT_FALSE(info.flags & VFIO_IRQ_INFO_MASKABLE);
	ASSERT_EQ(0, set_irq(self->dev, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, m));
	ASSERT_EQ(-ENOTTY, set_irq(self->dev, VFIO_PCI_MSI_IRQ_INDEX,
				   VFIO_IRQ_SET_ACTION_UNMASK, 1, m));
	/* Edge-triggered: every raise is a message, no masking in between. */
	edu_raise(_metadata, self);
	ASSERT_EQ(1, wait_fd(m, FIRES_MS));
	edu_raise(_metadata, self);
	ASSERT_EQ(1, wait_fd(m, FIRES_MS));
	edu_ack(_metadata, self);
	ASSERT_EQ(0, set_irq(self->dev, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0,
			     NONE));
	close(m);
}

/* VFIO_DEVICE_IOEVENTFD: 4-byte write of data to BAR0 + reg when efd is signalled (fd -1: remove). */
static long ioeventfd(FIXTURE_DATA(edu) *self, __u64 reg, __u64 data, int efd)
{
	struct vfio_device_ioeventfd io = { .argsz = sizeof(io), .flags = VFIO_DEVICE_IOEVENTFD_32,
					     .offset = self->bar0 + reg, .data = data, .fd = efd };

	return vfio_rs_ioctl(self->dev, VFIO_DEVICE_IOEVENTFD, (unsigned long)&io);
}

/* edu's status once it is non-zero (the ioeventfd write may run from a work item), else 0. */
static __u32 edu_status_soon(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self)
{
	__u32 st = 0;

	for (int i = 0; i < FIRES_MS / 10 && !st; i++) {
		st = edu_read(_metadata, self, EDU_IRQ_STATUS);
		if (!st)
			usleep(10000);
	}
	return st;
}

TEST_F(edu, ioeventfd_writes_the_bar_on_each_signal)
{
	int e = eventfd(0, EFD_NONBLOCK), e2 = eventfd(0, EFD_NONBLOCK);
	int m = eventfd(0, EFD_NONBLOCK);
	__u64 n;

	ASSERT_GE(e, 0);
	ASSERT_GE(e2, 0);
	ASSERT_GE(m, 0);
	ASSERT_EQ(0, set_irq(self->dev, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, m));
	edu_ack(_metadata, self);
	ASSERT_EQ(0, ioeventfd(self, EDU_IRQ_RAISE, 4, e));
	ASSERT_EQ(-EEXIST, ioeventfd(self, EDU_IRQ_RAISE, 4, e2));
	ASSERT_EQ(-EINVAL, ioeventfd(self, EDU_IRQ_RAISE, 8, self->group));

	/* Each signal is one write to the raise register: status 4, one MSI. */
	signal_fd(_metadata, e);
	ASSERT_EQ(4, edu_status_soon(_metadata, self));
	ASSERT_EQ(1, wait_fd(m, FIRES_MS));
	ASSERT_EQ(-1, read(e, &n, sizeof(n)));
	ASSERT_EQ(EAGAIN, errno);
	edu_ack(_metadata, self);
	signal_fd(_metadata, e);
	ASSERT_EQ(4, edu_status_soon(_metadata, self));
	ASSERT_EQ(1, wait_fd(m, FIRES_MS));
	edu_ack(_metadata, self);

	/* Removed: signals no longer reach the device. */
	ASSERT_EQ(0, ioeventfd(self, EDU_IRQ_RAISE, 4, -1));
	ASSERT_EQ(-ENODEV, ioeventfd(self, EDU_IRQ_RAISE, 4, -1));
	signal_fd(_metadata, e);
	ASSERT_EQ(0, wait_fd(m, QUIET_MS));
	ASSERT_EQ(0, edu_read(_metadata, self, EDU_IRQ_STATUS));

	/* Closing its eventfd releases the virqfd; the entry goes with fd -1 or at close. */
	ASSERT_EQ(0, ioeventfd(self, EDU_IRQ_RAISE, 4, e2));
	close(e2);
	ASSERT_EQ(0, ioeventfd(self, EDU_IRQ_RAISE, 4, -1));
	ASSERT_EQ(0, ioeventfd(self, EDU_IRQ_RAISE, 2, e));
	close(self->dev);
	self->dev = -1;
	signal_fd(_metadata, e);
	close(e);
	close(m);
}

TEST_HARNESS_MAIN
