// SPDX-License-Identifier: GPL-2.0

//! The VM KVM associates with a group or device file (`vfio_file_set_kvm`), and the reference
//! on it a device holds while open, published to drivers in `vfio_device::kvm`.
//!
//! Upstream guards each group's and device file's pointer with its own `kvm_ref_lock`
//! spinlock; here one module-wide mutex ([`kvm_ref_lock`]) guards them all (every section is
//! a few instructions, and every caller may sleep). Lock order: innermost, below a device
//! set's mutex.
//!
//! C headers: [`include/linux/vfio.h`](srctree/include/linux/vfio.h),
//! [`drivers/vfio/vfio.h`](srctree/drivers/vfio/vfio.h).

use crate::{
    bindings,
    global::module_mutex,
    kvm::{
        self,
        KvmPtr, //
    },
    vfio::{
        dev_set::SetLocked,
        device::RawDevice, //
    },
};
use core::ptr::NonNull;
use kernel::sync::GlobalLockedBy;

module_mutex! {
    /// Guards every [`KvmSlot`]; the owning module's init calls `kvm_ref_lock::init()`.
    pub static kvm_ref_lock: () = ();
}

/// Initialises [`kvm_ref_lock`] (the macro's `init` is crate-private): `vfio.ko`'s init calls
/// this once the library module is loaded; later calls do nothing.
pub fn init_kvm_ref_lock() {
    kvm_ref_lock::init();
}

/// Where `vfio_file_set_kvm` records a VM: in a group, or in a device file.
///
/// # Invariants
///
/// The pointer is null or a VM KVM keeps alive while it is recorded (KVM's contract: it
/// replaces its VM with null before dropping its own reference); it only changes under
/// [`kvm_ref_lock`].
pub struct KvmSlot(GlobalLockedBy<KvmPtr, kvm_ref_lock::LOCK>);

impl KvmSlot {
    /// An empty slot.
    #[expect(
        clippy::new_without_default,
        reason = "not a value type: `Default` would invite copies"
    )]
    pub fn new() -> Self {
        Self(GlobalLockedBy::new(KvmPtr::NULL))
    }

    /// Records `kvm` (null to forget it), as KVM's `vfio_file_set_kvm` call asks.
    ///
    /// # Safety
    ///
    /// `kvm` must be null or a VM the caller keeps alive until it records another pointer.
    pub unsafe fn set(&self, kvm: *mut bindings::kvm) {
        let mut guard = kvm_ref_lock::lock();
        // INVARIANT: Validity per the function contract; written under the lock.
        *self.0.as_mut(&mut guard) = KvmPtr::from_raw(kvm);
    }

    /// Before a device's first open: takes a reference on the recorded VM for the driver
    /// (`vfio_device::kvm`), until [`RawDevice::put_kvm`]. Nothing without KVM in the kernel.
    pub fn get_for_device(&self, dev: &RawDevice, held: &SetLocked<'_>) {
        if !kvm::ENABLED {
            return;
        }
        let guard = kvm_ref_lock::lock();
        let recorded = *self.0.as_ref(&guard);
        // SAFETY: The recorded VM stays alive while recorded (type invariant), and the lock,
        // held until the reference is taken, keeps it recorded.
        if let Some(r) = unsafe { kvm::get_safe(recorded) } {
            dev.store_kvm(held, r);
        }
    }
}

impl RawDevice {
    /// Publishes a VM reference to the driver; the set's mutex is held (`held`).
    fn store_kvm(&self, held: &SetLocked<'_>, r: kvm::KvmRef) {
        held.check(self);
        let d = self.as_raw();
        // SAFETY: `kvm` and `put_kvm` are only accessed under the device's set mutex, which
        // `held` proves the current thread holds (checked above).
        unsafe {
            (*d).kvm = r.kvm.as_ptr();
            (*d).put_kvm = Some(r.put);
        }
    }

    /// After a device's last close: drops the VM reference taken at its first open, if any
    /// (upstream's `vfio_device_put_kvm`). Nothing without KVM in the kernel.
    pub fn put_kvm(&self, held: &SetLocked<'_>) {
        if !kvm::ENABLED {
            return;
        }
        held.check(self);
        let d = self.as_raw();
        // SAFETY: `kvm` and `put_kvm` are only accessed under the device's set mutex, which
        // `held` proves the current thread holds (checked above).
        let (vm, put) = unsafe { ((*d).kvm, (*d).put_kvm) };
        let Some(vm) = NonNull::new(vm) else {
            return;
        };
        // SAFETY: As above.
        unsafe {
            (*d).kvm = core::ptr::null_mut();
            (*d).put_kvm = None;
        }
        if kernel::warn_on!(put.is_none()) {
            return;
        }
        if let Some(put) = put {
            // SAFETY: Both parts were stored together by `store_kvm` and are cleared above.
            unsafe { kvm::put(vm, put) };
        }
    }

    /// Whether the parent's IOMMU ignores no-snoop, keeping DMA cache coherent
    /// (`IOMMU_CAP_ENFORCE_CACHE_COHERENCY`).
    pub fn enforces_cache_coherency(&self) -> bool {
        // SAFETY: The parent of a live vfio device is a valid device.
        unsafe { crate::iommu::enforces_cache_coherency(self.parent_raw()) }
    }
}
