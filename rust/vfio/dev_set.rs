// SPDX-License-Identifier: GPL-2.0

//! Device sets (`struct vfio_device_set`): devices that open, close and reset together.
//!
//! The lock and the device list are C objects because C drivers (vfio-pci's hot reset) take the
//! lock and walk the list themselves; this type is the C struct, owned by the core.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::{
    bindings,
    helpers,
    vfio::device::RawDevice, //
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    ops::Deref,
    ptr,
    sync::atomic::{
        AtomicU32,
        Ordering, //
    }, //
};
use kernel::{
    prelude::*,
    sync::Arc,
    types::{
        NotThreadSafe,
        Opaque, //
    },
};

/// A device set allocated by the core.
///
/// # Invariants
///
/// `lock` and `device_list` are initialised; every entry of `device_list` is the `dev_set_list`
/// of a live `struct vfio_device` whose `dev_set` points here, added and removed under `lock`.
#[repr(transparent)]
pub struct DevSet(Opaque<bindings::vfio_device_set>);

// SAFETY: The C struct is shared with C drivers that synchronise through its mutex.
unsafe impl Send for DevSet {}
// SAFETY: Mutable state is only touched under its mutex (or the core's set registry lock).
unsafe impl Sync for DevSet {}

impl DevSet {
    /// Allocates an empty set for `set_id`.
    pub fn new(set_id: usize) -> Result<Arc<Self>> {
        let set = Arc::new(DevSet(Opaque::zeroed()), GFP_KERNEL)?;
        let raw = set.0.get();
        // SAFETY: `raw` is a zeroed set not shared yet, at a stable address (an `Arc`'s
        // contents never move); one static lock class covers every set's mutex, as upstream's
        // single `mutex_init` call site does.
        unsafe {
            (*raw).set_id = set_id as *mut c_void;
            bindings::__mutex_init(
                &raw mut (*raw).lock,
                c"&dev_set->lock".as_char_ptr(),
                kernel::static_lock_class!().as_ptr(),
            );
            bindings::INIT_LIST_HEAD(&raw mut (*raw).device_list);
        }
        Ok(set)
    }

    /// The set behind a device's `dev_set` pointer.
    ///
    /// A set allocated by upstream's C `vfio.ko` (`vfio_assign_device_set`) is the same C
    /// struct under the same rules, so a VFIO driver running on either core may view its
    /// devices' set through this type (it never drops it: only [`DevSet::new`]'s owner does).
    ///
    /// # Safety
    ///
    /// `ptr` must be null or a live set, created by [`DevSet::new`] or by upstream's core,
    /// that outlives `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vfio_device_set) -> Option<&'a Self> {
        // SAFETY: Per the function contract; `DevSet` is transparent over the C struct.
        unsafe { ptr.cast::<Self>().as_ref() }
    }

    /// The C struct, for storing in `vfio_device::dev_set`.
    pub fn as_raw(&self) -> *mut bindings::vfio_device_set {
        self.0.get()
    }

    /// The key the set was created for.
    pub fn set_id(&self) -> usize {
        // SAFETY: `set_id` is written once, before the set is shared.
        unsafe { (*self.0.get()).set_id as usize }
    }

    /// `device_count`, only ever accessed through this atomic view, so a caller that forgot
    /// the core's set registry lock gets a wrong count, never a data race.
    fn device_count_atomic(&self) -> &AtomicU32 {
        // SAFETY: `device_count` is an aligned `unsigned int` of the live struct (type
        // invariant), as aligned as `AtomicU32`; every access to it goes through this view
        // (upstream's C drivers do not touch it; `vfio_main.c`, which does, is replaced by us).
        unsafe { AtomicU32::from_ptr(&raw mut (*self.0.get()).device_count) }
    }

    /// Number of devices that joined (`device_count`); the core's set registry lock, held by
    /// the caller, serialises the read-modify-write sequences.
    pub fn device_count(&self) -> u32 {
        self.device_count_atomic().load(Ordering::Relaxed)
    }

    /// Sets `device_count`; the caller holds the core's set registry lock.
    pub fn set_device_count(&self, count: u32) {
        self.device_count_atomic().store(count, Ordering::Relaxed);
    }

    /// Takes the set's mutex (the one C drivers also take).
    pub fn lock(&self) -> DevSetGuard<'_> {
        // SAFETY: The mutex is initialised (type invariant).
        unsafe { bindings::mutex_lock(&raw mut (*self.0.get()).lock) };
        DevSetGuard {
            // INVARIANT: The mutex was just taken by the current thread; the guard keeps it
            // until it drops, after the proof it lends out.
            held: SetLocked {
                set: self,
                _not_send: NotThreadSafe,
            },
        }
    }

    /// A proof that the caller holds the set's mutex, for upstream's exports that run inside
    /// `open_device`/`close_device` and assert the lock rather than take it. Warns (lockdep)
    /// if the mutex is not held.
    ///
    /// # Safety
    ///
    /// The current thread must hold the set's mutex for as long as the returned proof exists.
    pub unsafe fn assert_held(&self) -> SetLocked<'_> {
        // SAFETY: The mutex is initialised (type invariant).
        unsafe { helpers::vfio_rs_mutex_assert_held(&raw mut (*self.0.get()).lock) };
        // INVARIANT: The caller holds the mutex while the proof exists (function contract).
        SetLocked {
            set: self,
            _not_send: NotThreadSafe,
        }
    }
}

impl Drop for DevSet {
    fn drop(&mut self) {
        // SAFETY: The mutex was initialised in `new` and nobody holds it any more.
        unsafe { bindings::mutex_destroy(&raw mut (*self.0.get()).lock) };
    }
}

/// Proof that the mutex of one device set is held by the current thread, by us
/// ([`DevSetGuard`], which lends it out) or by our C caller ([`DevSet::assert_held`]).
///
/// Like the kernel's `Guard`, it names the set it proves locked: accessors of state a set's
/// mutex guards check they were given the proof for the right set ([`SetLocked::check`]), as
/// `LockedBy::access` checks its owner.
///
/// # Invariants
///
/// The mutex of `set` is held by the current thread while the value exists.
pub struct SetLocked<'a> {
    set: &'a DevSet,
    _not_send: NotThreadSafe,
}

impl SetLocked<'_> {
    /// The locked set.
    pub fn set(&self) -> &DevSet {
        self.set
    }

    /// Whether this proves `dev`'s set locked.
    pub fn covers(&self, dev: &RawDevice) -> bool {
        dev.dev_set().is_some_and(|s| ptr::eq(s, self.set))
    }

    /// Checks that this proves `dev`'s set locked, before touching state that set's mutex
    /// guards.
    ///
    /// # Panics
    ///
    /// Panics if `dev` is not in the locked set, as `LockedBy::access` does on a mismatched
    /// owner: the caller has a bug, and going on would race with the device's real set lock.
    pub fn check(&self, dev: &RawDevice) {
        // PANIC: Unreachable from the core: every proof it makes is for the device's own set
        // (`dev.dev_set()` locked, or asserted held by `held` in `drivers/vfio/ffi/core.rs`), or
        // for the set whose members `for_each_device` walks.
        assert!(
            self.covers(dev),
            "vfio: device set lock proof for another set"
        );
    }

    /// Calls `f` on every device of the set, in list order, until it returns false.
    pub fn for_each_device(&self, f: &mut dyn FnMut(&RawDevice) -> bool) {
        for dev in self.devices() {
            if !f(dev) {
                return;
            }
        }
    }

    /// The devices of the set, in list order (or reversed: the iterator is double-ended), as
    /// C's `list_for_each_entry` over `device_list`.
    pub fn devices(&self) -> Devices<'_> {
        let head = self.set.head();
        // SAFETY: The set's mutex is held (type invariant), so the list is stable while the
        // iterator borrows this proof.
        let (front, back) = unsafe { ((*head).next, (*head).prev) };
        Devices {
            front,
            back,
            done: front == head,
            _held: PhantomData,
        }
    }
}

/// The devices of a locked set ([`SetLocked::devices`]).
///
/// # Invariants
///
/// Unless `done`, `front` and `back` are entries of the set's `device_list`, `front` not after
/// `back`, and the set's mutex is held for `'a`.
pub struct Devices<'a> {
    front: *mut bindings::list_head,
    back: *mut bindings::list_head,
    done: bool,
    _held: PhantomData<&'a SetLocked<'a>>,
}

impl<'a> Devices<'a> {
    /// The device whose `dev_set_list` is `pos`.
    ///
    /// # Safety
    ///
    /// `pos` is an entry of the locked set's list, for `'a`.
    unsafe fn entry(pos: *mut bindings::list_head) -> &'a RawDevice {
        // SAFETY: Entries are `dev_set_list` members of live devices (`DevSet` type invariant),
        // kept in the list while the mutex is held (function contract).
        unsafe {
            RawDevice::from_raw(
                pos.cast::<u8>()
                    .sub(offset_of!(bindings::vfio_device, dev_set_list))
                    .cast::<bindings::vfio_device>(),
            )
        }
    }
}

impl<'a> Iterator for Devices<'a> {
    type Item = &'a RawDevice;

    fn next(&mut self) -> Option<&'a RawDevice> {
        if self.done {
            return None;
        }
        let pos = self.front;
        if pos == self.back {
            self.done = true;
        } else {
            // SAFETY: `pos` is an entry of the stable list (type invariant) and not the last
            // one left, so its successor is an entry too.
            self.front = unsafe { (*pos).next };
        }
        // SAFETY: `pos` is an entry of the locked set's list (type invariant).
        Some(unsafe { Self::entry(pos) })
    }
}

impl<'a> DoubleEndedIterator for Devices<'a> {
    fn next_back(&mut self) -> Option<&'a RawDevice> {
        if self.done {
            return None;
        }
        let pos = self.back;
        if pos == self.front {
            self.done = true;
        } else {
            // SAFETY: As in `next`, towards the head.
            self.back = unsafe { (*pos).prev };
        }
        // SAFETY: `pos` is an entry of the locked set's list (type invariant).
        Some(unsafe { Self::entry(pos) })
    }
}

impl DevSet {
    fn head(&self) -> *mut bindings::list_head {
        // SAFETY: Taking a field address of a valid struct.
        unsafe { &raw mut (*self.0.get()).device_list }
    }
}

/// The set's mutex, held by us: unlocks it when dropped. Dereferences to the [`SetLocked`]
/// proof it lends to the set's accessors.
pub struct DevSetGuard<'a> {
    held: SetLocked<'a>,
}

impl DevSetGuard<'_> {
    /// Links `dev` into the set's list and points its `dev_set` here.
    ///
    /// # Panics
    ///
    /// If `dev` already joined a set: linking it twice would corrupt that set's list.
    pub fn add(&mut self, dev: &RawDevice) {
        // PANIC: Unreachable from the core, which assigns a set only to a device without one;
        // only a C driver calling `vfio_assign_device_set` twice, which upstream's list would
        // not survive either, could get here.
        assert!(
            dev.dev_set().is_none(),
            "vfio: device joins a second device set"
        );
        // SAFETY: The mutex is held (`SetLocked` invariant); `dev` is live (a reference) and not
        // in any set's list (its `dev_set`, set only here, is still null: checked above).
        unsafe {
            (*dev.as_raw()).dev_set = self.held.set.as_raw();
            bindings::list_add_tail(&raw mut (*dev.as_raw()).dev_set_list, self.held.set.head());
        }
    }

    /// Unlinks `dev` from the set's list.
    pub fn remove(&mut self, dev: &RawDevice) {
        self.held.check(dev);
        // SAFETY: The mutex is held (`SetLocked` invariant) and `dev` is in this set's list
        // (checked above; devices join a set's list in `add`, when their `dev_set` is set).
        unsafe { helpers::vfio_rs_list_del(&raw mut (*dev.as_raw()).dev_set_list) };
    }
}

impl<'a> Deref for DevSetGuard<'a> {
    type Target = SetLocked<'a>;

    fn deref(&self) -> &SetLocked<'a> {
        &self.held
    }
}

impl Drop for DevSetGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: This guard took the mutex in `DevSet::lock`, on this thread (the guard is not
        // `Send`).
        unsafe { bindings::mutex_unlock(&raw mut (*self.held.set.0.get()).lock) };
    }
}
