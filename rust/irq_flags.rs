// SPDX-License-Identifier: GPL-2.0

//! The flags of `struct vfio_irq_set` (`include/uapi/linux/vfio.h`), for the pure logic that
//! decodes `VFIO_DEVICE_SET_IRQS` requests (header validation, vfio-pci's and mtty's
//! dispatch), which is built on the host too and so cannot use the generated bindings.

/// `VFIO_IRQ_SET_DATA_NONE`.
pub const DATA_NONE: u32 = 1 << 0;
/// `VFIO_IRQ_SET_DATA_BOOL`.
pub const DATA_BOOL: u32 = 1 << 1;
/// `VFIO_IRQ_SET_DATA_EVENTFD`.
pub const DATA_EVENTFD: u32 = 1 << 2;
/// `VFIO_IRQ_SET_DATA_TYPE_MASK`.
pub const DATA_TYPE_MASK: u32 = DATA_NONE | DATA_BOOL | DATA_EVENTFD;
/// `VFIO_IRQ_SET_ACTION_MASK`.
pub const ACTION_MASK: u32 = 1 << 3;
/// `VFIO_IRQ_SET_ACTION_UNMASK`.
pub const ACTION_UNMASK: u32 = 1 << 4;
/// `VFIO_IRQ_SET_ACTION_TRIGGER`.
pub const ACTION_TRIGGER: u32 = 1 << 5;
/// `VFIO_IRQ_SET_ACTION_TYPE_MASK`.
pub const ACTION_TYPE_MASK: u32 = ACTION_MASK | ACTION_UNMASK | ACTION_TRIGGER;
