// SPDX-License-Identifier: GPL-2.0

//! Static `file_operations` tables for nodes the core creates.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use kernel::{
    bindings,
    module::ThisModule,
    prelude::*, //
};

/// A `file_operations` table that may live in a `static` (it only holds function and module
/// pointers, which are immutable). Its address identifies files opened through it.
#[repr(transparent)]
pub struct StaticFops(pub bindings::file_operations);

// SAFETY: The table is never mutated after construction; its pointers are to code and to the
// owning module, both valid for the module's lifetime.
unsafe impl Sync for StaticFops {}

/// `open` that refuses with `ENODEV`.
extern "C" fn open_enodev(_inode: *mut bindings::inode, _file: *mut bindings::file) -> c_int {
    ENODEV.to_errno()
}

impl StaticFops {
    /// A node whose open fails with `ENODEV`: the node exists (sysfs, `/dev`) but its file
    /// interface is not provided yet.
    pub const fn unopenable(owner: &'static ThisModule) -> Self {
        Self(bindings::file_operations {
            owner: owner.as_ptr(),
            open: Some(open_enodev),
            ..pin_init::zeroed()
        })
    }

    /// The table, for `cdev_init`.
    pub fn get(&'static self) -> &'static bindings::file_operations {
        &self.0
    }

    /// Whether `file` was opened through this table.
    pub fn owns(&'static self, file: &kernel::fs::File) -> bool {
        // SAFETY: `f_op` of a live file is readable.
        core::ptr::eq(unsafe { (*file.as_ptr()).f_op }, &self.0)
    }
}
