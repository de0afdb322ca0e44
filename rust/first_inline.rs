// SPDX-License-Identifier: GPL-2.0

//! A short list whose first element lives inline: `SmallVec<[T; 1]>` on [`KVec`].
//!
//! For per-object lists that nearly always hold one element (a container's groups, an IOMMU
//! domain's groups): adding the first element allocates nothing, where a `KVec` would make a
//! slab allocation each time, which on a kmemleak kernel costs more than the ioctl around it.
//! Upstream's C links such elements into intrusive lists and allocates the element itself.

use kernel::{
    alloc::{
        AllocError,
        Flags,
        KVec, //
    },
    prelude::*,
};

/// A list of `T`: `first`, then `rest`.
///
/// # Invariants
///
/// `first` is `None` only when `rest` is empty.
pub struct FirstInline<T> {
    first: Option<T>,
    rest: KVec<T>,
}

impl<T> FirstInline<T> {
    /// An empty list.
    pub const fn new() -> Self {
        // INVARIANT: Both empty.
        Self {
            first: None,
            rest: KVec::new(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// The elements, first to last.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        Iterator::chain(self.first.iter(), self.rest.iter())
    }

    /// The `i`th element.
    pub fn get(&self, i: usize) -> Option<&T> {
        match i {
            0 => self.first.as_ref(),
            _ => self.rest.get(i - 1),
        }
    }

    /// Makes room for one more element, so that the next `push_*_reserved` cannot fail; no
    /// allocation while the list is empty.
    pub fn reserve_one(&mut self, flags: Flags) -> Result<(), AllocError> {
        if self.first.is_some() {
            self.rest.reserve(1, flags)?;
        }
        Ok(())
    }

    /// Inserts `value` at the front, after [`Self::reserve_one`] (else it is dropped).
    pub fn push_front_reserved(&mut self, value: T) {
        if let Some(old) = self.first.replace(value) {
            // INVARIANT: `first` is set again; `rest` gains the old first.
            let _ = self.rest.insert_within_capacity(0, old);
        }
    }

    /// Removes and returns the first element `pred` accepts.
    pub fn remove_first_match(&mut self, pred: impl Fn(&T) -> bool) -> Option<T> {
        if self.first.as_ref().is_some_and(&pred) {
            let next = if self.rest.is_empty() {
                None
            } else {
                self.rest.remove(0).ok()
            };
            // INVARIANT: `first` becomes `rest`'s old head, `None` only if `rest` was empty.
            return core::mem::replace(&mut self.first, next);
        }
        let i = self.rest.iter().position(pred)?;
        self.rest.remove(i).ok()
    }
}

impl<T> Default for FirstInline<T> {
    fn default() -> Self {
        Self::new()
    }
}
