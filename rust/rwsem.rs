// SPDX-License-Identifier: GPL-2.0

//! Read-write semaphores embedded in C-owned structs (`struct rw_semaphore`).
//!
//! C header: [`include/linux/rwsem.h`](srctree/include/linux/rwsem.h).

use kernel::{
    bindings,
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

/// A `struct rw_semaphore` that lives in C memory (a field of a C struct).
///
/// # Invariants
///
/// A shared reference to an [`RwSem`] means it was initialised (see [`RwSem::init`]) and stays
/// alive for the reference's lifetime.
#[repr(transparent)]
pub struct RwSem(Opaque<bindings::rw_semaphore>);

// SAFETY: The semaphore is a kernel lock, usable from any thread.
unsafe impl Sync for RwSem {}

impl RwSem {
    /// `init_rwsem(ptr)` with the lock class `key`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for writes and not in use as a lock.
    #[inline]
    pub unsafe fn init(
        ptr: *mut bindings::rw_semaphore,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) {
        // SAFETY: `ptr` is writable and unused (the contract); `name` and `key` are static.
        unsafe { bindings::__init_rwsem(ptr, name.as_char_ptr(), key.as_ptr()) };
    }

    /// The semaphore at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a semaphore initialised with [`RwSem::init`] (or `init_rwsem`) that
    /// stays alive for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::rw_semaphore) -> &'a Self {
        // SAFETY: `RwSem` is a transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// `down_write()`: held until the guard drops.
    #[inline]
    pub fn write(&self) -> WriteGuard<'_> {
        // SAFETY: The semaphore is initialised (type invariant).
        unsafe { bindings::down_write(self.0.get()) };
        WriteGuard(self)
    }

    /// `down_write_trylock()`: `None` if it is held.
    #[inline]
    pub fn try_write(&self) -> Option<WriteGuard<'_>> {
        // SAFETY: The semaphore is initialised (type invariant).
        if unsafe { bindings::down_write_trylock(self.0.get()) } != 0 {
            Some(WriteGuard(self))
        } else {
            None
        }
    }

    /// `down_read()`: held until the guard drops.
    #[inline]
    pub fn read(&self) -> ReadGuard<'_> {
        // SAFETY: The semaphore is initialised (type invariant).
        unsafe { bindings::down_read(self.0.get()) };
        ReadGuard(self)
    }

    /// `down_read_trylock()`: `None` if a writer holds or waits for it.
    #[inline]
    pub fn try_read(&self) -> Option<ReadGuard<'_>> {
        // SAFETY: The semaphore is initialised (type invariant).
        if unsafe { bindings::down_read_trylock(self.0.get()) } != 0 {
            Some(ReadGuard(self))
        } else {
            None
        }
    }
}

/// Proof that the semaphore is held for writing; releases it on drop.
pub struct WriteGuard<'a>(&'a RwSem);

impl Drop for WriteGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The guard exists only while we hold the semaphore for writing.
        unsafe { bindings::up_write(self.0 .0.get()) };
    }
}

/// Proof that the semaphore is held for reading; releases it on drop.
pub struct ReadGuard<'a>(&'a RwSem);

impl Drop for ReadGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The guard exists only while we hold the semaphore for reading.
        unsafe { bindings::up_read(self.0 .0.get()) };
    }
}
