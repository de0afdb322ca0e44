// SPDX-License-Identifier: GPL-2.0

//! Module-global mutexes, for state that exported C functions reach without a context pointer.
//!
//! Wraps [`kernel::sync::global_lock!`] so that its one unsafe step, initialisation, is done
//! once and checked: the owning module's init calls `init()`, everything else calls `lock()`.

/// Declares `mod $name` holding a global `Mutex<$ty>` with `init()` and `lock()`.
#[macro_export]
macro_rules! module_mutex {
    ($(#[$meta:meta])* $vis:vis static $name:ident: $ty:ty = $value:expr;) => {
        $(#[$meta])*
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;
            use core::{
                pin::Pin,
                sync::atomic::{
                    AtomicU8,
                    Ordering, //
                }, //
            };

            kernel::sync::global_lock! {
                // SAFETY: `init` initialises the lock exactly once (claimed through `STATE`) and
                // `lock` refuses to run before that has completed.
                pub(crate) unsafe(uninit) static LOCK: Mutex<$ty> = $value;
            }

            /// 0: not initialised, 1: being initialised, 2: ready.
            static STATE: AtomicU8 = AtomicU8::new(0);

            /// Initialises the mutex; calls after the first do nothing.
            pub(crate) fn init() {
                if STATE.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    // SAFETY: Winning the exchange above makes this the only call.
                    unsafe { LOCK.init() };
                    STATE.store(2, Ordering::Release);
                }
            }

            /// Locks the mutex.
            ///
            /// # Panics
            ///
            /// If `init` has not completed: a module init ordering bug.
            pub(crate) fn lock() -> kernel::sync::GlobalGuard<LOCK> {
                assert!(STATE.load(Ordering::Acquire) == 2, "module_mutex used before init");
                LOCK.lock()
            }
        }
    };
}
pub use crate::module_mutex;
