// SPDX-License-Identifier: GPL-2.0

//! Kobjects, ksets and sysfs links.
//!
//! C header: [`include/linux/kobject.h`](srctree/include/linux/kobject.h),
//! [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h).

use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    types::Opaque, //
};

/// A `struct kobject` owned by C code or by one of the owners below.
///
/// # Invariants
///
/// A shared reference to a [`Kobject`] means the kobject is initialised and alive for the
/// reference's lifetime.
#[repr(transparent)]
pub struct Kobject(Opaque<bindings::kobject>);

impl Kobject {
    /// The kobject at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an initialised kobject that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::kobject) -> &'a Self {
        // SAFETY: `Kobject` is a transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw kobject.
    pub fn as_ptr(&self) -> *mut bindings::kobject {
        self.0.get()
    }

    /// Sends a `KOBJ_CHANGE` uevent carrying `env` (one `KEY=value`).
    pub fn uevent_change(&self, env: &CStr) {
        let mut envp = [env.as_char_ptr().cast_mut(), core::ptr::null_mut()];
        // SAFETY: The kobject is alive (type invariant); `envp` is a NULL-terminated array of
        // strings the call only reads.
        unsafe {
            bindings::kobject_uevent_env(
                self.as_ptr(),
                bindings::kobject_action_KOBJ_CHANGE,
                envp.as_mut_ptr(),
            )
        };
    }

    /// `sysfs_create_link(self, target, name)`.
    pub fn create_link(&self, target: &Kobject, name: &CStr) -> Result {
        // SAFETY: Both kobjects are alive (type invariant); `name` is a valid string.
        to_result(unsafe {
            bindings::sysfs_create_link(self.as_ptr(), target.as_ptr(), name.as_char_ptr())
        })
    }

    /// `sysfs_remove_link(self, name)`.
    pub fn remove_link(&self, name: &CStr) {
        // SAFETY: The kobject is alive (type invariant); `name` is a valid string.
        unsafe { bindings::sysfs_remove_link(self.as_ptr(), name.as_char_ptr()) };
    }

    /// Takes a reference (`kobject_get`), kept until [`Kobject::put`].
    pub fn get(&self) {
        // SAFETY: The kobject is alive (type invariant).
        unsafe { bindings::kobject_get(self.as_ptr()) };
    }

    /// Drops a reference taken with [`Kobject::get`].
    ///
    /// # Safety
    ///
    /// The caller must own a reference it got from [`Kobject::get`] (or from initialising
    /// the kobject) and must not use `self` afterwards unless it holds another one.
    pub unsafe fn put(&self) {
        // SAFETY: The caller gives up a reference it owns.
        unsafe { bindings::kobject_put(self.as_ptr()) };
    }
}

/// A kset created with `kset_create_and_add`, unregistered on drop.
///
/// # Invariants
///
/// `ptr` is a registered kset this value owns the creation reference of.
pub struct Kset {
    ptr: NonNull<bindings::kset>,
}

// SAFETY: The kset is reference-counted and can be unregistered from any thread.
unsafe impl Send for Kset {}
// SAFETY: No `&self` method mutates the kset.
unsafe impl Sync for Kset {}

impl Kset {
    /// `kset_create_and_add(name, NULL, parent)`.
    pub fn create_and_add(name: &CStr, parent: &Kobject) -> Result<Self> {
        // SAFETY: `name` is a valid string, `parent` is alive (type invariant).
        let ptr = unsafe {
            bindings::kset_create_and_add(name.as_char_ptr(), core::ptr::null(), parent.as_ptr())
        };
        // INVARIANT: A non-null result is a registered kset whose reference we own.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// The raw kset, for `kobj.kset` of its members.
    pub fn as_ptr(&self) -> *mut bindings::kset {
        self.ptr.as_ptr()
    }

    /// Gives the kset to C storage (a struct field); [`Kset::from_raw`] takes it back.
    pub fn into_raw(self) -> *mut bindings::kset {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Takes back a kset given away with [`Kset::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Kset::into_raw`] and be taken back only once.
    pub unsafe fn from_raw(ptr: *mut bindings::kset) -> Option<Self> {
        // INVARIANT: By the contract, ownership of a registered kset moves back here.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }
}

impl Drop for Kset {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the kset is registered and ours to unregister.
        unsafe { bindings::kset_unregister(self.ptr.as_ptr()) };
    }
}

/// A plain kobject created with `kobject_create_and_add`, put on drop.
///
/// # Invariants
///
/// `ptr` is an added kobject this value owns the creation reference of.
pub struct OwnedKobject {
    ptr: NonNull<bindings::kobject>,
}

// SAFETY: The kobject is reference-counted and can be put from any thread.
unsafe impl Send for OwnedKobject {}
// SAFETY: No `&self` method mutates it.
unsafe impl Sync for OwnedKobject {}

impl OwnedKobject {
    /// `kobject_create_and_add(name, parent)`: an empty directory under `parent`.
    pub fn create_and_add(name: &CStr, parent: &Kobject) -> Result<Self> {
        // SAFETY: `name` is a valid string, `parent` is alive (type invariant).
        let ptr = unsafe { bindings::kobject_create_and_add(name.as_char_ptr(), parent.as_ptr()) };
        // INVARIANT: A non-null result is an added kobject whose reference we own.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// Gives the kobject to C storage; [`OwnedKobject::from_raw`] takes it back.
    pub fn into_raw(self) -> *mut bindings::kobject {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Takes back a kobject given away with [`OwnedKobject::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`OwnedKobject::into_raw`] and be taken back only once.
    pub unsafe fn from_raw(ptr: *mut bindings::kobject) -> Option<Self> {
        // INVARIANT: By the contract, ownership moves back here.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }
}

impl core::ops::Deref for OwnedKobject {
    type Target = Kobject;

    fn deref(&self) -> &Kobject {
        // SAFETY: The kobject is alive while we own a reference (type invariant).
        unsafe { Kobject::from_raw(self.ptr.as_ptr()) }
    }
}

impl Drop for OwnedKobject {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own this reference.
        unsafe { bindings::kobject_put(self.ptr.as_ptr()) };
    }
}
