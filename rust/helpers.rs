// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C helpers in `rust/helpers.c` (static inlines the kernel crate lacks).

use kernel::{
    bindings::{
        cdev,
        device,
        ida,
        inode,
        list_head,
        module,
        mutex,
        refcount_t, //
    },
    ffi::c_int,
};

// Kernel structs behind these pointers hold zero-sized members (the kernel's own `bindings`
// crate allows the same lint); only pointers cross the boundary.
#[expect(improper_ctypes)]
extern "C" {
    /// `list_del()`.
    pub(crate) fn vfio_rs_list_del(entry: *mut list_head);
    /// `refcount_inc_not_zero()`.
    pub(crate) fn vfio_rs_refcount_inc_not_zero(r: *mut refcount_t) -> bool;
    /// `lockdep_assert_held()` on a mutex.
    pub(crate) fn vfio_rs_mutex_assert_held(lock: *mut mutex);
    /// `ida_init()`.
    pub(crate) fn vfio_rs_ida_init(ida: *mut ida);
    /// `inode->i_cdev`.
    pub(crate) fn vfio_rs_inode_cdev(inode: *mut inode) -> *mut cdev;
    /// `pm_runtime_resume_and_get()` if the bound driver has PM ops.
    pub(crate) fn vfio_rs_pm_get(dev: *mut device) -> c_int;
    /// `pm_runtime_put()` if the bound driver has PM ops.
    pub(crate) fn vfio_rs_pm_put(dev: *mut device);
    /// `dev->driver->owner`, or null without a driver.
    pub(crate) fn vfio_rs_dev_driver_owner(dev: *mut device) -> *mut module;
}
