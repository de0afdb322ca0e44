// SPDX-License-Identifier: GPL-2.0

//! A class device with a character device behind it, owned by the device model.
//!
//! The memory is freed by the device's release callback after the last reference, so open
//! files (which pin the cdev, which pins the device) keep it alive past removal.
//!
//! C headers: [`include/linux/cdev.h`](srctree/include/linux/cdev.h),
//! [`include/linux/device.h`](srctree/include/linux/device.h).

use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    types::Opaque, //
};

#[repr(C)]
struct Inner {
    device: Opaque<bindings::device>,
    cdev: Opaque<bindings::cdev>,
    data: *mut c_void,
}

/// Where a [`CdevNode`] goes and what its file operations are.
pub struct CdevNodeSpec<'a> {
    /// Class of the device (its devnode callback names the `/dev` path).
    pub class: *const bindings::class,
    /// Device number of the node.
    pub devt: bindings::dev_t,
    /// Device name (`/sys/class/<class>/<name>`).
    pub name: &'a CStr,
    /// File operations of the node.
    pub fops: &'static bindings::file_operations,
    /// Module owning `fops`.
    pub owner: *mut bindings::module,
    /// Opaque pointer the file operations get back through [`CdevNode::data_of_inode`].
    pub data: *mut c_void,
}

/// An added class device + cdev; dropping the handle does not remove it, [`CdevNode::remove`]
/// does.
///
/// # Invariants
///
/// `inner` was added with `cdev_device_add` and this handle owns one device reference.
pub struct CdevNode {
    inner: NonNull<Inner>,
}

// SAFETY: The device model's functions used here may be called from any thread.
unsafe impl Send for CdevNode {}
// SAFETY: No `&self` method mutates the node.
unsafe impl Sync for CdevNode {}

/// Frees the node after its device's last reference.
///
/// # Safety
///
/// `dev` must be the `device` of an `Inner` leaked by [`CdevNode::add`], with no references left.
unsafe extern "C" fn release(dev: *mut bindings::device) {
    // SAFETY: `dev` is the first field of an `Inner` leaked from a `KBox` in `add`.
    drop(unsafe { KBox::from_raw(dev.cast::<Inner>()) });
}

impl CdevNode {
    /// Creates and adds the device and its cdev.
    pub fn add(spec: &CdevNodeSpec<'_>) -> Result<Self> {
        let inner = KBox::new(
            Inner {
                device: Opaque::zeroed(),
                cdev: Opaque::zeroed(),
                data: spec.data,
            },
            GFP_KERNEL,
        )?;
        let p = KBox::into_raw(inner);
        // SAFETY: `p` is a fresh allocation; after `device_initialize` its release frees it.
        unsafe {
            let dev = (*p).device.get();
            bindings::device_initialize(dev);
            (*dev).class = spec.class;
            (*dev).devt = spec.devt;
            (*dev).release = Some(release);
            let node = Self {
                inner: NonNull::new_unchecked(p),
            };
            to_result(bindings::dev_set_name(
                dev,
                c"%s".as_char_ptr(),
                spec.name.as_char_ptr(),
            ))?;
            let cdev = (*p).cdev.get();
            bindings::cdev_init(cdev, spec.fops);
            (*cdev).owner = spec.owner;
            to_result(bindings::cdev_device_add(cdev, dev))?;
            Ok(node)
        }
    }

    /// Removes the node from sysfs and `/dev`; open files keep the memory until they close.
    pub fn remove(self) {
        // SAFETY: The node was added (type invariant).
        unsafe { bindings::cdev_device_del((*self.inner.as_ptr()).cdev.get(), self.device()) };
    }

    fn device(&self) -> *mut bindings::device {
        // SAFETY: Field projection of the live allocation.
        unsafe { (*self.inner.as_ptr()).device.get() }
    }

    /// The `data` pointer of the node an opened inode belongs to.
    ///
    /// # Safety
    ///
    /// `inode` must be an inode of a node created by [`CdevNode::add`], being opened.
    pub unsafe fn data_of_inode(inode: *mut bindings::inode) -> *mut c_void {
        // SAFETY: `i_cdev` is the `cdev` field of an `Inner` (function contract).
        unsafe {
            let cdev = crate::helpers::vfio_rs_inode_cdev(inode);
            let inner = cdev
                .cast::<u8>()
                .sub(core::mem::offset_of!(Inner, cdev))
                .cast::<Inner>();
            (*inner).data
        }
    }
}

impl Drop for CdevNode {
    fn drop(&mut self) {
        // SAFETY: This handle owns one device reference (type invariant); an unsuccessful `add`
        // also ends here, where the reference is the one from `device_initialize`.
        unsafe { bindings::put_device(self.device()) };
    }
}
