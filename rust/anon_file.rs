// SPDX-License-Identifier: GPL-2.0

//! Files with no inode of their own (`anon_inode_getfile`), such as the migration data files a
//! VFIO driver hands to the core: a trait for the file's shared state and a `file_operations`
//! table built from it.
//!
//! The files are opened as streams (`stream_open`): no seeking, no `pread`/`pwrite`, so the
//! position is whatever the driver keeps in its own state (upstream's drivers use `f_pos` under
//! their own lock, which nothing else touches on such a file).
//!
//! C headers: [`include/linux/anon_inodes.h`](srctree/include/linux/anon_inodes.h),
//! [`include/linux/fs.h`](srctree/include/linux/fs.h).

use crate::fops::StaticFops;
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::from_err_ptr,
    fs::File,
    module::ThisModule,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceReader,
        UserSliceWriter, //
    },
};

/// The state shared by an anonymous file and its creator; the file holds an [`Arc`] on it until
/// its last reference goes (`release`).
#[vtable]
pub trait AnonFileOps: Sized + Send + Sync + 'static {
    /// `read` at the stream's position (kept by the implementation); returns the bytes read.
    fn read(_this: &Self, _buf: UserSliceWriter) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `write` at the stream's position; returns the bytes written.
    fn write(_this: &Self, _buf: UserSliceReader) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `unlocked_ioctl` (also reached from 32-bit tasks through `compat_ptr_ioctl`).
    fn ioctl(_this: &Self, _cmd: u32, _arg: usize) -> Result<isize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// Access mode of a new anonymous file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `O_RDONLY`.
    ReadOnly,
    /// `O_WRONLY`.
    WriteOnly,
}

/// The `file_operations` of files whose private data is an `Arc<T>`: NULL where `T` does not
/// implement the op, as a C driver leaves it. Build it in a `static` of the module owning the
/// files, so open files pin that module.
pub struct AnonFops<T: AnonFileOps> {
    fops: StaticFops,
    _data: PhantomData<T>,
}

// SAFETY: The table is never written after construction (see `StaticFops`); `T` is only a type
// marker.
unsafe impl<T: AnonFileOps> Sync for AnonFops<T> {}

impl<T: AnonFileOps> AnonFops<T> {
    /// The table of `T`'s files, owned by `owner`.
    pub const fn new(owner: &'static ThisModule) -> Self {
        let mut f = bindings::file_operations {
            owner: owner.as_ptr(),
            release: Some(Self::release),
            ..pin_init::zeroed()
        };
        if T::HAS_READ {
            f.read = Some(Self::read);
        }
        if T::HAS_WRITE {
            f.write = Some(Self::write);
        }
        if T::HAS_IOCTL {
            f.unlocked_ioctl = Some(Self::ioctl);
            #[cfg(CONFIG_COMPAT)]
            {
                f.compat_ioctl = bindings::compat_ptr_ioctl;
            }
        }
        Self {
            fops: StaticFops(f),
            _data: PhantomData,
        }
    }

    /// A new file named `name` (`anon_inode:<name>` in `/proc/*/fd`), opened as a stream, whose
    /// private data is `data` until its last reference is dropped
    /// (`anon_inode_getfile` + `stream_open`).
    pub fn new_file(
        &'static self,
        name: &'static CStr,
        data: Arc<T>,
        access: Access,
    ) -> Result<ARef<File>> {
        let flags = match access {
            Access::ReadOnly => kernel::fs::file::flags::O_RDONLY,
            Access::WriteOnly => kernel::fs::file::flags::O_WRONLY,
        };
        let private = Arc::into_raw(data);
        // SAFETY: `name` and the table are static; `private` is a leaked `Arc<T>`, which
        // `release` (the only op reading it after the file is gone) takes back.
        let file = unsafe {
            crate::bindings::anon_inode_getfile(
                name.as_char_ptr(),
                &self.fops.0,
                private.cast_mut().cast(),
                flags as c_int,
            )
        };
        let file = match from_err_ptr(file) {
            Ok(file) => file,
            Err(e) => {
                // SAFETY: No file was made, so the leaked `Arc` is still ours.
                drop(unsafe { Arc::from_raw(private) });
                return Err(e);
            }
        };
        // SAFETY: `file` is the new file, not yet shared; `stream_open` only clears mode bits.
        unsafe { bindings::stream_open((*file).f_inode, file) };
        // SAFETY: `anon_inode_getfile` returned a file with one reference, which becomes ours;
        // `File` is a transparent wrapper of `struct file`.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(file.cast::<File>())) })
    }

    /// # Safety
    ///
    /// `file` must be a file made by [`Self::new_file`], not yet released.
    unsafe fn data<'a>(file: *mut bindings::file) -> &'a T {
        // SAFETY: `new_file` stored a leaked `Arc<T>`, which lives until `release`.
        unsafe { &*(*file).private_data.cast::<T>() }
    }

    /// # Safety
    ///
    /// As [`Self::data`]; `buf` is valid user memory for `len` bytes per the VFS.
    unsafe extern "C" fn read(
        file: *mut bindings::file,
        buf: *mut c_char,
        len: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // A stream's read gets no position (upstream's drivers check the same).
        if !ppos.is_null() {
            return ESPIPE.to_errno() as isize;
        }
        // SAFETY: Per the function contract.
        let this = unsafe { Self::data(file) };
        let user = UserSlice::new(UserPtr::from_ptr(buf.cast()), len).writer();
        match T::read(this, user) {
            // CAST: At most `len`, which the VFS limits to `MAX_RW_COUNT`.
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As [`Self::read`].
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        buf: *const c_char,
        len: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        if !ppos.is_null() {
            return ESPIPE.to_errno() as isize;
        }
        // SAFETY: Per the function contract.
        let this = unsafe { Self::data(file) };
        let user = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), len).reader();
        match T::write(this, user) {
            // CAST: At most `len`, which the VFS limits to `MAX_RW_COUNT`.
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As [`Self::data`].
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: Per the function contract.
        let this = unsafe { Self::data(file) };
        match T::ioctl(this, cmd, arg) {
            Ok(v) => v as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// `file` must be a file made by [`Self::new_file`], being released (called once).
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `new_file` stored a leaked `Arc<T>`; the last reference to the file is gone,
        // so it is ours again.
        drop(unsafe { Arc::from_raw((*file).private_data.cast::<T>()) });
        0
    }
}
