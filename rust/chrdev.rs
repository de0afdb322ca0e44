// SPDX-License-Identifier: GPL-2.0

//! Dynamically allocated character device number regions.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// Number of minors in a region that spans a whole major (`MINORMASK + 1`).
pub const ALL_MINORS: u32 = 1 << bindings::MINORBITS;

/// A region of device numbers obtained with `alloc_chrdev_region`.
///
/// # Invariants
///
/// `[base, base + count)` is registered with the name given at allocation and is released
/// exactly once, on drop.
pub struct ChrdevRegion {
    base: bindings::dev_t,
    count: u32,
}

impl ChrdevRegion {
    /// Allocates `count` minors under a dynamic major, shown as `name` in `/proc/devices`.
    pub fn alloc(count: u32, name: &'static CStr) -> Result<Self> {
        let mut base: bindings::dev_t = 0;
        // SAFETY: `base` is a valid out pointer and `name` lives forever, as the region requires.
        to_result(unsafe {
            bindings::alloc_chrdev_region(&mut base, 0, count, name.as_char_ptr())
        })?;
        // INVARIANT: The region was just registered.
        Ok(Self { base, count })
    }

    /// The first device number of the region.
    pub fn base(&self) -> bindings::dev_t {
        self.base
    }
}

impl Drop for ChrdevRegion {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the region is registered and not yet released.
        unsafe { bindings::unregister_chrdev_region(self.base, self.count) };
    }
}
