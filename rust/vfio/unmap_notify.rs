// SPDX-License-Identifier: GPL-2.0

//! The devices an IOMMU driver must tell about unmaps (`vfio_iommu::device_list` of type1,
//! linked through each device's `iommu_entry`) and the devices as the IOMMU driver's
//! `register_device` op receives them.
//!
//! C helpers: `drivers/vfio/type1/type1_emulated.c` (prototypes in
//! `include/vfio-rs/type1_emulated.h`). C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::{
    bindings,
    helpers::{
        vfio_rs_device_has_dma_unmap,
        vfio_rs_devlist_add,
        vfio_rs_devlist_del,
        vfio_rs_devlist_init,
        vfio_rs_devlist_notify, //
    },
};
use kernel::{prelude::*, types::Opaque};

/// A device handed to the IOMMU driver's `register_device`/`unregister_device` ops.
///
/// # Invariants
///
/// Points to a live `struct vfio_device` that the core keeps registered with the IOMMU driver
/// (open) from `register_device` until `unregister_device` returns.
pub struct NotifyDevice(*mut bindings::vfio_device);

impl NotifyDevice {
    /// Wraps the op's argument.
    ///
    /// # Safety
    ///
    /// `vdev` must be live and, once added to a [`DmaUnmapList`], stay live until removed.
    pub unsafe fn from_raw(vdev: *mut bindings::vfio_device) -> Self {
        Self(vdev)
    }

    /// The driver has a `dma_unmap` callback (only such devices are listed).
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn has_dma_unmap(&self) -> bool {
        // SAFETY: Live per the type invariant.
        unsafe { vfio_rs_device_has_dma_unmap(self.0) }
    }
}

/// The list of devices to call `dma_unmap` on. Every method must run under one lock that
/// the owner holds around all of them (the IOMMU driver's device-list mutex).
///
/// # Invariants
///
/// `head` is an initialised list of `vfio_device::iommu_entry` links of devices added by
/// [`Self::add`] and not yet removed.
#[pin_data]
pub struct DmaUnmapList {
    #[pin]
    head: Opaque<bindings::list_head>,
}

// SAFETY: The list is only touched under the owner's mutex (type documentation); the devices
// are shared with the core, which synchronises with the IOMMU driver through the ops.
unsafe impl Send for DmaUnmapList {}
// SAFETY: As above.
unsafe impl Sync for DmaUnmapList {}

impl DmaUnmapList {
    /// An empty list.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `INIT_LIST_HEAD` initialises it.
            head <- Opaque::ffi_init(|slot| unsafe { vfio_rs_devlist_init(slot) }),
        })
    }

    /// Adds a device (`list_add`); it must not be in a list already.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn add(&self, dev: &NotifyDevice) {
        // SAFETY: `head` is initialised (invariant); `dev` is live and stays so until
        // `remove` (its invariant); the owner's lock serialises list changes.
        unsafe { vfio_rs_devlist_add(self.head.get(), dev.0) };
    }

    /// Removes a device [`Self::add`] added (`list_del`).
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn remove(&self, dev: &NotifyDevice) {
        // SAFETY: `dev` is in this list (caller pairs it with `add`), under the owner's lock.
        unsafe { vfio_rs_devlist_del(dev.0) };
    }

    /// Calls every listed device's `dma_unmap(iova, size)`. The callbacks may call back into
    /// the IOMMU driver (`vfio_unpin_pages`), so no IOMMU driver lock but the list's may be held.
    // Inline: calls vfio_iommu_type1.ko's C helpers (see kernel_ext.rs).
    #[inline]
    pub fn notify(&self, iova: u64, size: u64) {
        // SAFETY: Listed devices are live and have `dma_unmap` (invariant, `add` callers).
        unsafe { vfio_rs_devlist_notify(self.head.get(), iova, size) };
    }
}
