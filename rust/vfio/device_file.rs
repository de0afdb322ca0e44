// SPDX-License-Identifier: GPL-2.0

//! Device files (`[vfio-device]` anon files from `VFIO_GROUP_GET_DEVICE_FD`): the file
//! operations, with read/write/mmap passed straight to the driver once access is granted.
//!
//! C headers: [`include/linux/anon_inodes.h`](srctree/include/linux/anon_inodes.h),
//! [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::{
    bindings,
    fops::StaticFops,
    kmalloc_box::KmBox,
    vfio::device::RawDevice, //
};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{
    fs::File,
    module::ThisModule,
    prelude::*,
    sync::aref::ARef, //
};

/// The private data of a device file.
pub trait DeviceFileOps: Sized + Send + Sync + 'static {
    /// Opens `/dev/vfio/devices/vfioN` of `dev`: a file that can do nothing until bound.
    fn open_cdev(dev: &RawDevice) -> Result<KmBox<Self>>;
    /// The device the file is open on.
    fn device(&self) -> &RawDevice;
    /// Whether the device is open for this file (read with acquire ordering).
    fn access_granted(&self) -> bool;
    /// The file's last reference is gone.
    fn release(this: KmBox<Self>);
    /// Handles an ioctl.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;
}

/// Builds the `file_operations` of device files.
pub struct DeviceFileVtable<T>(PhantomData<T>);

impl<T: DeviceFileOps> DeviceFileVtable<T> {
    /// # Safety
    ///
    /// `file` must be a device file created by [`create_file`] for `T`.
    unsafe fn data<'a>(file: *mut bindings::file) -> &'a T {
        // SAFETY: The private data is a `KmBox<T>` until release (function contract).
        unsafe { &*(*file).private_data.cast::<T>() }
    }

    /// # Safety
    ///
    /// `inode` and `file` must be a `/dev/vfio/devices/vfioN` inode and a file being opened.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: Per the function contract.
        let dev = unsafe { RawDevice::from_cdev_inode(inode) };
        match T::open_cdev(dev) {
            Ok(data) => {
                // SAFETY: Open may set the private data; `release` takes it back.
                unsafe { (*file).private_data = KmBox::into_raw(data).cast() };
                // SAFETY: `file` is valid and being opened.
                dev.share_mapping(unsafe { File::from_raw_file(file) });
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// `file` must be a device file of `T`, being released.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: Release owns the private data stored by `create_file`.
        T::release(unsafe { KmBox::from_raw((*file).private_data.cast::<T>()) });
        0
    }

    /// # Safety
    ///
    /// `file` must be a device file of `T`.
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: Per the function contract.
        match unsafe { Self::data(file) }.ioctl(cmd, arg) {
            Ok(v) => v as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// `file` must be a device file of `T`; the rest are `read`'s arguments.
    unsafe extern "C" fn read(
        file: *mut bindings::file,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function contract.
        let this = unsafe { Self::data(file) };
        match this.device().ops().read {
            // SAFETY: Access is granted, so the device is open; the driver checks the buffer.
            Some(f) if this.access_granted() => unsafe {
                f(this.device().as_raw(), buf, count, ppos)
            },
            _ => EINVAL.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// `file` must be a device file of `T`; the rest are `write`'s arguments.
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        buf: *const c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function contract.
        let this = unsafe { Self::data(file) };
        match this.device().ops().write {
            // SAFETY: As for `read`.
            Some(f) if this.access_granted() => unsafe {
                f(this.device().as_raw(), buf, count, ppos)
            },
            _ => EINVAL.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// `file` must be a device file of `T` and `vma` a mapping being set up on it.
    unsafe extern "C" fn mmap(
        file: *mut bindings::file,
        vma: *mut bindings::vm_area_struct,
    ) -> c_int {
        // SAFETY: Per the function contract.
        let this = unsafe { Self::data(file) };
        match this.device().ops().mmap {
            // SAFETY: As for `read`; the driver sets the mapping up.
            Some(f) if this.access_granted() => unsafe { f(this.device().as_raw(), vma) },
            _ => EINVAL.to_errno(),
        }
    }

    /// `/proc/<pid>/fdinfo/<fd>`: the parent device's sysfs path, as upstream's
    /// `vfio_device_show_fdinfo` (bound or not).
    ///
    /// # Safety
    ///
    /// `m` must be the seq_file being shown and `file` a device file created for `T`.
    unsafe extern "C" fn show_fdinfo(m: *mut bindings::seq_file, file: *mut bindings::file) {
        // SAFETY: Per the function contract.
        let dev = unsafe { Self::data(file) }.device();
        // SAFETY: The parent of a live vfio device is a valid device; the path is a new
        // kmalloc'ed string or null.
        let path = unsafe {
            bindings::kobject_get_path(&raw mut (*dev.parent_raw()).kobj, bindings::GFP_KERNEL)
        };
        if path.is_null() {
            return;
        }
        // SAFETY: `m` is the seq_file being shown (function contract).
        let seq = unsafe { kernel::seq_file::SeqFile::from_raw(m) };
        // SAFETY: `path` is a NUL-terminated string we own until the `kfree` below.
        let cpath = unsafe { CStr::from_char_ptr(path) };
        kernel::seq_print!(
            seq,
            "vfio-device-syspath: /sys{}\n",
            cpath.to_str().unwrap_or("?")
        );
        // SAFETY: `path` came from `kobject_get_path` and is freed once.
        unsafe { bindings::kfree(path.cast()) };
    }

    /// The table for `T`, owned by `owner`.
    pub const fn build(owner: &'static ThisModule) -> StaticFops {
        StaticFops(bindings::file_operations {
            owner: owner.as_ptr(),
            open: Some(Self::open),
            release: Some(Self::release),
            read: Some(Self::read),
            write: Some(Self::write),
            unlocked_ioctl: Some(Self::ioctl),
            #[cfg(CONFIG_COMPAT)]
            compat_ioctl: bindings::compat_ptr_ioctl,
            mmap: Some(Self::mmap),
            show_fdinfo: Some(Self::show_fdinfo),
            ..pin_init::zeroed()
        })
    }
}

/// Creates a `[vfio-device]` anon file owning `data`, readable, writable and seekable by
/// pread/pwrite, sharing the device inode's mapping. On error `data` is handed back.
pub fn create_file<T: DeviceFileOps>(
    fops: &'static StaticFops,
    data: KmBox<T>,
) -> core::result::Result<ARef<File>, (Error, KmBox<T>)> {
    let raw = KmBox::into_raw(data);
    // SAFETY: `fops` is a static table built by `DeviceFileVtable::<T>`; on success the file
    // owns `raw` and gives it back in `release`.
    let file = unsafe {
        bindings::anon_inode_getfile_fmode(
            c"[vfio-device]".as_char_ptr(),
            &fops.0,
            raw.cast(),
            bindings::O_RDWR as c_int,
            bindings::FMODE_PREAD | bindings::FMODE_PWRITE,
        )
    };
    match kernel::error::from_err_ptr(file) {
        Ok(file) => {
            // SAFETY: `anon_inode_getfile_fmode` returned a new reference to a valid file.
            let file: ARef<File> = unsafe { ARef::from_raw(NonNull::new_unchecked(file.cast())) };
            // SAFETY: `raw` is owned by the file now and valid until its release.
            unsafe { &*raw }.device().share_mapping(&file);
            Ok(file)
        }
        // SAFETY: The file was not created, so `raw` is still ours.
        Err(e) => Err((e, unsafe { KmBox::from_raw(raw) })),
    }
}

impl StaticFops {
    /// The private data of a device file opened through this table, or `None` for other
    /// files.
    ///
    /// # Safety
    ///
    /// This table must have been built by `DeviceFileVtable::<T>::build`.
    pub unsafe fn device_file_data<'a, T: DeviceFileOps>(
        &'static self,
        file: &'a File,
    ) -> Option<&'a T> {
        if !self.owns(file) {
            return None;
        }
        // SAFETY: The file was opened through `DeviceFileVtable<T>` (checked above and by the
        // function contract), so its private data is a live `T` while the file is referenced.
        Some(unsafe { &*(*file.as_ptr()).private_data.cast::<T>() })
    }
}
