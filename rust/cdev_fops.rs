// SPDX-License-Identifier: GPL-2.0

//! File operations of character devices the core creates (`/dev/vfio/N`), in the style of
//! [`kernel::miscdevice::MiscDevice`]: a trait for the per-open state and a vtable built from it.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use crate::{
    cdev_node::CdevNode,
    fops::StaticFops, //
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    fs::File,
    module::ThisModule,
    prelude::*,
    types::ForeignOwnable, //
};

/// The private data of an open node.
pub trait CdevFile: Sized + Send + Sync + 'static {
    /// How an open file holds its state: a `KBox<Self>` per open, or a reference to state that
    /// outlives the opens (`Arc<Self>`: no allocation per open).
    type Ptr: ForeignOwnable + Send + Sync;

    /// What a node made with these operations holds for its opens (`CdevNode::add`), released
    /// with the node's memory after its last open file.
    type NodeData: ForeignOwnable + Send + Sync;

    /// Opens a node holding `node`; the result becomes the file's private data.
    fn open(
        node: <Self::NodeData as ForeignOwnable>::Borrowed<'_>,
        file: &File,
    ) -> Result<Self::Ptr>;

    /// The file's last reference is gone.
    fn release(this: Self::Ptr, _file: &File) {
        drop(this);
    }

    /// Handles an ioctl (also reached from 32-bit tasks through `compat_ptr_ioctl`).
    fn ioctl(
        this: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        file: &File,
        cmd: u32,
        arg: usize,
    ) -> Result<isize>;
}

/// Builds the `file_operations` of a [`CdevFile`].
struct CdevVtable<T>(PhantomData<T>);

impl<T: CdevFile> CdevVtable<T> {
    /// # Safety
    ///
    /// `inode` and `file` must be an inode of a node made by `CdevNode::add` with a
    /// [`CdevFops<T>`] table, and a file being opened on it.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: Per the function contract the node was added with this table, so with a
        // `T::NodeData`; the open pins the node (its cdev) until it returns.
        let node = unsafe { CdevNode::data_of_inode::<T::NodeData>(inode) };
        // SAFETY: `file` is valid for the duration of open; no fdget_pos region is active.
        let f = unsafe { File::from_raw_file(file) };
        match T::open(node, f) {
            Ok(data) => {
                // SAFETY: Open may set the private data; `release` takes it back.
                unsafe { (*file).private_data = data.into_foreign() };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// `file` must be a file opened by [`Self::open`], being released.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `open` stored a `T::Ptr` with `into_foreign`; release owns it now, and no
        // borrow of it (ioctls) outlives the file.
        let data = unsafe { T::Ptr::from_foreign((*file).private_data) };
        // SAFETY: `file` is valid for the duration of release.
        T::release(data, unsafe { File::from_raw_file(file) });
        0
    }

    /// # Safety
    ///
    /// `file` must be a file opened by [`Self::open`].
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: `open` stored a `T::Ptr` that lives until release, which cannot run during
        // an ioctl on the file.
        let this = unsafe { T::Ptr::borrow((*file).private_data) };
        // SAFETY: `file` is valid during the ioctl.
        let f = unsafe { File::from_raw_file(file) };
        match T::ioctl(this, f, cmd, arg) {
            Ok(v) => v as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// The table for `T`, owned by `owner`.
    const fn build(owner: &'static ThisModule) -> StaticFops {
        StaticFops(bindings::file_operations {
            owner: owner.as_ptr(),
            open: Some(Self::open),
            release: Some(Self::release),
            unlocked_ioctl: Some(Self::ioctl),
            #[cfg(CONFIG_COMPAT)]
            compat_ioctl: bindings::compat_ptr_ioctl,
            ..pin_init::zeroed()
        })
    }
}

/// The `file_operations` of a [`CdevFile`] `T`, in a `static`: nodes made with it
/// (`CdevNode::add`) hold a `T::NodeData`, and files opened through it a `T::Ptr`.
#[repr(transparent)]
pub struct CdevFops<T>(StaticFops, PhantomData<fn() -> T>);

impl<T: CdevFile> CdevFops<T> {
    /// The table for `T`, owned by `owner`.
    pub const fn new(owner: &'static ThisModule) -> Self {
        Self(CdevVtable::<T>::build(owner), PhantomData)
    }

    /// The raw table, for `cdev_init`.
    pub(crate) fn get(&'static self) -> &'static bindings::file_operations {
        self.0.get()
    }

    /// Whether `file` was opened through this table.
    pub fn owns(&'static self, file: &File) -> bool {
        self.0.owns(file)
    }

    /// The private data of `file` if it was opened through this table.
    pub fn data_of<'a>(
        &'static self,
        file: &'a File,
    ) -> Option<<T::Ptr as ForeignOwnable>::Borrowed<'a>> {
        if !self.owns(file) {
            return None;
        }
        // SAFETY: Only `CdevVtable::<T>::open` installs this table's files, and it stores a
        // `T::Ptr` from `into_foreign` that lives until release, which cannot run while `file`
        // is referenced.
        Some(unsafe { T::Ptr::borrow((*file.as_ptr()).private_data) })
    }
}
