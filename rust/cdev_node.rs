// SPDX-License-Identifier: GPL-2.0

//! A class device with a character device behind it, owned by the device model.
//!
//! The memory is freed by the device's release callback after the last reference, so open
//! files (which pin the cdev, which pins the device) keep it alive past removal.
//!
//! C headers: [`include/linux/cdev.h`](srctree/include/linux/cdev.h),
//! [`include/linux/device.h`](srctree/include/linux/device.h).

use crate::cdev_fops::{
    CdevFile,
    CdevFops, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    types::{
        ForeignOwnable,
        Opaque, //
    },
};

#[repr(C)]
struct Inner {
    device: Opaque<bindings::device>,
    cdev: Opaque<bindings::cdev>,
    /// The node's data, from `ForeignOwnable::into_foreign`.
    data: *mut c_void,
    /// Gives `data` back to its type, on release.
    drop_data: unsafe fn(*mut c_void),
}

/// Drops a `D` held as a foreign pointer.
///
/// # Safety
///
/// `p` must come from `D::into_foreign` and not be used afterwards.
unsafe fn drop_foreign<D: ForeignOwnable>(p: *mut c_void) {
    // SAFETY: Per the function contract.
    drop(unsafe { D::from_foreign(p) });
}

/// Where a [`CdevNode`] goes and what its file operations are.
pub struct CdevNodeSpec<'a> {
    /// Class of the device (its devnode callback names the `/dev` path).
    pub class: *const bindings::class,
    /// Device number of the node.
    pub devt: bindings::dev_t,
    /// Device name (`/sys/class/<class>/<name>`).
    pub name: &'a CStr,
    /// Module owning the file operations.
    pub owner: *mut bindings::module,
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
    let inner = unsafe { KBox::from_raw(dev.cast::<Inner>()) };
    // SAFETY: `data` came from `into_foreign` of the type `drop_data` was made for (`add`); no
    // open is in progress any more (the cdev pinned the device through each).
    unsafe { (inner.drop_data)(inner.data) };
}

impl CdevNode {
    /// Creates and adds the device and its cdev, with `fops` as its file operations and
    /// `data` for their opens, which the node holds until its memory goes (after the last open
    /// file, not at [`CdevNode::remove`]).
    pub fn add<T: CdevFile>(
        spec: &CdevNodeSpec<'_>,
        fops: &'static CdevFops<T>,
        data: T::NodeData,
    ) -> Result<Self> {
        let inner = KBox::new(
            Inner {
                device: Opaque::zeroed(),
                cdev: Opaque::zeroed(),
                data: core::ptr::null_mut(),
                drop_data: drop_foreign::<T::NodeData>,
            },
            GFP_KERNEL,
        )?;
        let p = KBox::into_raw(inner);
        // SAFETY: `p` is a fresh allocation; after `device_initialize` its release frees it and
        // gives `data` back (set first, so every release has it).
        unsafe {
            (*p).data = data.into_foreign();
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
            bindings::cdev_init(cdev, fops.get());
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

    /// The data of the node an opened inode belongs to.
    ///
    /// # Safety
    ///
    /// `inode` must be an inode of a node created by [`CdevNode::add`] with a `D` as its data,
    /// being opened (which pins the node) for `'a`.
    pub(crate) unsafe fn data_of_inode<'a, D: ForeignOwnable>(
        inode: *mut bindings::inode,
    ) -> D::Borrowed<'a> {
        // SAFETY: `i_cdev` is the `cdev` field of an `Inner` (function contract), whose `data`
        // came from `D::into_foreign` and is given back only on release, after the open.
        unsafe {
            let cdev = crate::helpers::vfio_rs_inode_cdev(inode);
            let inner = cdev
                .cast::<u8>()
                .sub(core::mem::offset_of!(Inner, cdev))
                .cast::<Inner>();
            D::borrow((*inner).data)
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
