// SPDX-License-Identifier: GPL-2.0

//! Compatibility classes (`struct class_compat`): a `/sys/class/<name>` directory of links to
//! devices that are not class devices.
//!
//! C header: [`include/linux/device/class.h`](srctree/include/linux/device/class.h).

use crate::dev_ext::Dev;
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// A registered compatibility class, unregistered on drop.
///
/// # Invariants
///
/// `ptr` is a class registered with `class_compat_register` and owned by this value.
pub struct ClassCompat {
    ptr: NonNull<bindings::class_compat>,
}

// SAFETY: The driver core serialises its use; it can be unregistered from any thread.
unsafe impl Send for ClassCompat {}
// SAFETY: Links are created and removed under the driver core's own locking.
unsafe impl Sync for ClassCompat {}

impl ClassCompat {
    /// `class_compat_register(name)`.
    pub fn register(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` is a valid string that outlives the class (it is static).
        let ptr = unsafe { bindings::class_compat_register(name.as_char_ptr()) };
        // INVARIANT: Non-null means registered (upstream maps null to `-ENOMEM`).
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// Adds a link to `dev` named after it.
    pub fn create_link(&self, dev: &Dev) -> Result {
        // SAFETY: The class is registered (type invariant) and `dev` is alive.
        to_result(unsafe { bindings::class_compat_create_link(self.ptr.as_ptr(), dev.as_raw()) })
    }

    /// Removes the link to `dev`.
    pub fn remove_link(&self, dev: &Dev) {
        // SAFETY: The class is registered (type invariant) and `dev` is alive.
        unsafe { bindings::class_compat_remove_link(self.ptr.as_ptr(), dev.as_raw()) };
    }
}

impl Drop for ClassCompat {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the class is registered and ours.
        unsafe { bindings::class_compat_unregister(self.ptr.as_ptr()) };
    }
}
