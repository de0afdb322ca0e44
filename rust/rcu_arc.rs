// SPDX-License-Identifier: GPL-2.0

//! An `Option<Arc<T>>` that hot paths read without a lock.
//!
//! A reader takes its own reference inside an RCU read-side section; a writer swaps the pointer
//! and drops the reference it replaced only after an expedited grace period, so no reader can
//! still be between the load and its increment. Meant for values that are read on every ioctl
//! and replaced rarely, such as a module's published state that exported functions reach without
//! a context pointer (VFIO's core), where a mutex would cost more than the read on a lockdep
//! kernel. Replacing waits for a grace period: not for paths that replace often.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h).

use core::{
    marker::PhantomData,
    ptr,
    sync::atomic::{
        AtomicPtr,
        Ordering, //
    },
};
use kernel::{
    bindings,
    sync::{
        rcu,
        Arc,
        ArcBorrow, //
    },
};

/// An RCU-published `Option<Arc<T>>`.
///
/// # Invariants
///
/// `ptr` is null or the result of [`Arc::into_raw`] of a reference this slot owns. A pointer
/// swapped out is released only after a grace period has passed since the swap.
pub struct RcuArc<T: Send + Sync> {
    ptr: AtomicPtr<T>,
    _owns: PhantomData<Arc<T>>,
}

impl<T: Send + Sync> RcuArc<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        // INVARIANT: Null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// A reference to the current value, if any.
    pub fn get(&self) -> Option<Arc<T>> {
        let _guard = rcu::read_lock();
        let p = self.ptr.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: Per the invariants `p` came from `Arc::into_raw` and its reference is released
        // only after a grace period following its removal; this read-side section began before
        // any such grace period could end, so the object is live here.
        let borrowed = unsafe { ArcBorrow::from_raw(p) };
        Some(borrowed.into())
    }

    /// Whether the slot holds a value.
    pub fn is_set(&self) -> bool {
        !self.ptr.load(Ordering::Acquire).is_null()
    }

    /// Stores `new` and drops the value it replaces, after readers that may have loaded it have
    /// taken their references (waits for an expedited grace period; only when there was a
    /// value). Sleeps: process context only.
    pub fn replace(&self, new: Option<Arc<T>>) {
        let new = new.map_or(ptr::null_mut(), |a| Arc::into_raw(a).cast_mut());
        // INVARIANT: The slot owns `new`'s reference; the old one is released below, after the
        // grace period.
        let old = self.ptr.swap(new, Ordering::AcqRel);
        if old.is_null() {
            return;
        }
        // SAFETY: No precondition beyond process context (`replace` may sleep).
        unsafe { bindings::synchronize_rcu_expedited() };
        // SAFETY: `old` came from `Arc::into_raw` and the slot owned its reference; no reader
        // can still be about to increment it.
        drop(unsafe { Arc::from_raw(old) });
    }
}

impl<T: Send + Sync> Default for RcuArc<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync> Drop for RcuArc<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: Per the invariants the slot owns this reference; with `&mut self` no
            // reader is inside `get`.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}
