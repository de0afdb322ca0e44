// SPDX-License-Identifier: GPL-2.0

//! A `struct mutex` lock backend that costs what C's `mutex_lock()`/`mutex_unlock()` cost.
//!
//! The `kernel` crate's [`kernel::sync::Mutex`] asserts through lockdep that the lock is held
//! each time it builds a guard (`Guard::new` calls `mutex_assert_is_held` right after the lock
//! was taken), and takes it through the `rust_helper_mutex_lock` helper. On a lockdep kernel
//! the assertion walks the task's held locks with interrupts off: a fixed cost on every lock
//! that upstream's C, which never asserts after `mutex_lock()`, does not pay. Paths that run
//! once per ioctl and are compared against upstream (`VFIO_GROUP_GET_STATUS`, config-space
//! accesses) use this backend instead. Lockdep still tracks every acquisition.
//!
//! C header: [`include/linux/mutex.h`](srctree/include/linux/mutex.h).

use kernel::{
    bindings,
    sync::lock::{
        Backend,
        Lock, //
    },
};

/// A mutex with the `kernel` crate's [`Lock`] API on [`PlainMutexBackend`].
pub type Mutex<T> = Lock<T, PlainMutexBackend>;

/// A guard of a [`Mutex`]: unlocks on drop.
pub type MutexGuard<'a, T> = kernel::sync::lock::Guard<'a, T, PlainMutexBackend>;

/// Creates a [`Mutex`] initialiser with a new lock class, as `kernel::new_mutex!`.
#[macro_export]
macro_rules! new_plain_mutex {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::mutex::Mutex::new(
            $inner,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}
pub use new_plain_mutex;

/// A kernel `struct mutex` taken as C takes it: no lockdep assertion once held.
pub struct PlainMutexBackend;

// SAFETY: The kernel's `struct mutex` ensures mutual exclusion; `relock` keeps the default,
// which takes the lock the same way `lock` does.
unsafe impl Backend for PlainMutexBackend {
    type State = bindings::mutex;
    type GuardState = ();

    #[inline]
    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: `ptr` is valid for writes, `name` and `key` for reads forever (the
        // contract).
        unsafe { bindings::__mutex_init(ptr, name, key) }
    }

    #[inline]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // `mutex_lock()` is `mutex_lock_nested(lock, 0)` when lockdep tracks lock classes.
        #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
        // SAFETY: `ptr` points to an initialised mutex (the contract).
        unsafe {
            bindings::mutex_lock_nested(ptr, 0)
        };
        #[cfg(not(CONFIG_DEBUG_LOCK_ALLOC))]
        // SAFETY: `ptr` points to an initialised mutex (the contract).
        unsafe {
            bindings::mutex_lock(ptr)
        };
    }

    #[inline]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: `ptr` points to an initialised mutex (the contract).
        (unsafe { bindings::mutex_trylock(ptr) } != 0).then_some(())
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The caller owns the mutex (the contract).
        unsafe { bindings::mutex_unlock(ptr) }
    }

    #[inline]
    unsafe fn assert_is_held(_ptr: *mut Self::State) {
        // Only called by `Guard::new`, right after `lock` or `try_lock` succeeded: holding the
        // lock is then a fact, not something to check.
    }
}
