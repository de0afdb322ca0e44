// SPDX-License-Identifier: GPL-2.0

//! A read-write semaphore that owns the data it protects.
//!
//! 7.3's generic `kernel::sync::Lock` has exclusive guards only; this adds the shared mode, for
//! state that many readers use at once and writers change rarely (a `struct rw_semaphore`, as
//! the C objects it replaces use).
//!
//! C header: [`include/linux/rwsem.h`](srctree/include/linux/rwsem.h).

use crate::rwsem::{
    self,
    RwSem, //
};
use core::{
    cell::UnsafeCell,
    marker::PhantomPinned,
    ops::{
        Deref,
        DerefMut, //
    },
};
use kernel::{
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

/// `T` behind a `struct rw_semaphore`: shared by readers, exclusive to one writer.
///
/// # Invariants
///
/// `sem` is initialised for the whole life of the lock; `data` is accessed only with `sem`
/// held, mutably only held for writing.
#[pin_data]
pub struct RwLock<T> {
    #[pin]
    sem: Opaque<kernel::bindings::rw_semaphore>,
    data: UnsafeCell<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The semaphore serialises writers against everyone and readers only share `&T`, so the
// lock may move between threads when `T` may.
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: Readers on several threads see `&T` at once (`T: Sync`), a writer gets `&mut T` from
// any thread (`T: Send`).
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

/// A new [`RwLock`] named after its place in the source.
#[macro_export]
macro_rules! new_rw_lock {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::rw_lock::RwLock::new(
            $inner, ::kernel::optional_name!($($name)?), ::kernel::static_lock_class!())
    };
}

impl<T> RwLock<T> {
    /// An initialiser of a lock holding `t`, of lock class `key`.
    pub fn new(t: T, name: &'static CStr, key: Pin<&'static LockClassKey>) -> impl PinInit<Self> {
        pin_init!(Self {
            data: UnsafeCell::new(t),
            _pin: PhantomPinned,
            // SAFETY: `slot` is valid for writes and unused while the closure runs; `name` and
            // `key` are static.
            sem <- Opaque::ffi_init(|slot| unsafe { RwSem::init(slot, name, key) }),
        })
    }

    fn sem(&self) -> &RwSem {
        // SAFETY: `sem` is initialised and lives as long as `self` (type invariant).
        unsafe { RwSem::from_raw(self.sem.get()) }
    }

    /// `down_read()`: shared access until the guard drops.
    pub fn read(&self) -> ReadGuard<'_, T> {
        ReadGuard {
            _held: self.sem().read(),
            lock: self,
        }
    }

    /// `down_write()`: exclusive access until the guard drops.
    pub fn write(&self) -> WriteGuard<'_, T> {
        WriteGuard {
            _held: self.sem().write(),
            lock: self,
        }
    }
}

/// Shared access to the data of an [`RwLock`].
pub struct ReadGuard<'a, T> {
    _held: rwsem::ReadGuard<'a>,
    lock: &'a RwLock<T>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The semaphore is held for reading, so no writer has `&mut T`.
        unsafe { &*self.lock.data.get() }
    }
}

/// Exclusive access to the data of an [`RwLock`].
pub struct WriteGuard<'a, T> {
    _held: rwsem::WriteGuard<'a>,
    lock: &'a RwLock<T>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The semaphore is held for writing: nobody else accesses the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The semaphore is held for writing: nobody else accesses the data.
        unsafe { &mut *self.lock.data.get() }
    }
}
