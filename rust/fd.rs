// SPDX-License-Identifier: GPL-2.0

//! A file looked up by descriptor for the length of a system call (`fdget`/`fdput`).
//!
//! What the VFS's own system calls do with descriptors they are handed: when the caller's file
//! table is not shared, no reference is taken (no other thread can close the descriptor
//! meanwhile). [`LocalFile::fget`] always takes one, under RCU. VFIO's
//! `VFIO_GROUP_SET_CONTAINER` resolves its container descriptor this way, as upstream's does.
//!
//! C header: [`include/linux/file.h`](srctree/include/linux/file.h).

use kernel::{
    bindings,
    fs::LocalFile,
    prelude::*,
    types::NotThreadSafe, //
};

/// `fdget`'s word owns a file reference.
const FD_FPUT: c_ulong = bindings::FDPUT_FPUT as c_ulong;
/// The flag bits `fdget` keeps in the low bits of its word.
const FD_FLAGS: c_ulong = FD_FPUT | bindings::FDPUT_POS_UNLOCK as c_ulong;

/// A descriptor's file, borrowed from the calling thread's file table until dropped.
///
/// # Invariants
///
/// `word` is a non-empty `struct fd` from `fdget` on this thread: its file stays valid until
/// `fdput`, done on drop; with `FDPUT_FPUT` set this object owns a file reference.
pub struct FdRef {
    word: c_ulong,
    /// `fdget`'s borrow holds only on the calling thread.
    _not_send: NotThreadSafe,
}

impl FdRef {
    /// The file behind descriptor `fd` of the calling thread; `EBADF` if there is none.
    pub fn get(fd: u32) -> Result<Self> {
        // SAFETY: No precondition.
        let f = unsafe { bindings::fdget(fd) };
        if f.word == 0 {
            return Err(EBADF);
        }
        // INVARIANT: A non-empty result of `fdget` on this thread.
        Ok(Self {
            word: f.word,
            _not_send: NotThreadSafe,
        })
    }

    fn raw(&self) -> *mut bindings::file {
        (self.word & !FD_FLAGS) as *mut bindings::file
    }

    /// The file.
    pub fn file(&self) -> &LocalFile {
        // SAFETY: Per the invariants the file stays valid (the descriptor, or our reference,
        // holds it) while `self` lives, and `self` cannot leave this thread; `fdget` makes no
        // `fdget_pos` call.
        unsafe { LocalFile::from_raw_file(self.raw()) }
    }
}

impl Drop for FdRef {
    fn drop(&mut self) {
        if self.word & FD_FPUT != 0 {
            // SAFETY: Per the invariants this object owns one reference to the file (`fdput`).
            unsafe { bindings::fput(self.raw()) };
        }
    }
}
