// SPDX-License-Identifier: GPL-2.0

//! A vector of `Copy` values whose first `N` live inline: `SmallVec<[T; N]>` on [`KVec`].
//!
//! For short lists built on hot or per-setup paths (a container's usable IOVA ranges, a group's
//! reserved regions): up to `N` elements need no allocation, where a `KVec` would make a slab
//! allocation, which on a kmemleak kernel costs more than the work around it. Beyond `N` the
//! elements move to a `KVec` and stay there.

use kernel::{
    alloc::{
        AllocError,
        Flags,
        KVec, //
    },
    prelude::*,
};

/// Up to `N` elements inline, more on the heap.
///
/// # Invariants
///
/// While `heap` is empty the elements are `inline[..len]` (`len <= N`); otherwise they are
/// `heap` and `len` is 0.
pub struct InlineVec<T: Copy, const N: usize> {
    inline: [T; N],
    len: usize,
    heap: KVec<T>,
}

impl<T: Copy, const N: usize> InlineVec<T, N> {
    /// An empty vector; `fill` only initialises the unused inline slots.
    pub const fn new(fill: T) -> Self {
        // INVARIANT: No element, inline.
        Self {
            inline: [fill; N],
            len: 0,
            heap: KVec::new(),
        }
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        if self.heap.is_empty() {
            self.inline.get(..self.len).unwrap_or(&[])
        } else {
            &self.heap
        }
    }

    /// The elements, to change in place.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        if self.heap.is_empty() {
            self.inline.get_mut(..self.len).unwrap_or(&mut [])
        } else {
            &mut self.heap
        }
    }

    /// Inserts `value` before index `index` (`index == len` appends); `AllocError` when it has
    /// to move to the heap and cannot, or for an index past the end.
    pub fn insert(&mut self, index: usize, value: T, flags: Flags) -> Result<(), AllocError> {
        let len = self.as_slice().len();
        if index > len {
            return Err(AllocError);
        }
        if self.heap.is_empty() && len < N {
            self.inline.copy_within(index..len, index + 1);
            if let Some(slot) = self.inline.get_mut(index) {
                *slot = value;
            }
            self.len += 1;
            return Ok(());
        }
        if self.heap.is_empty() {
            self.heap.reserve(len + 1, flags)?;
            self.heap
                .extend_from_slice(self.inline.get(..len).unwrap_or(&[]), flags)?;
            // INVARIANT: The elements moved to the (now non-empty) heap.
            self.len = 0;
        } else {
            self.heap.reserve(1, flags)?;
        }
        self.heap
            .insert_within_capacity(index, value)
            .map_err(|_| AllocError)
    }

    /// Appends `value`.
    pub fn push(&mut self, value: T, flags: Flags) -> Result<(), AllocError> {
        self.insert(self.as_slice().len(), value, flags)
    }

    /// Removes the element at `index`; out of range does nothing.
    pub fn remove(&mut self, index: usize) {
        if !self.heap.is_empty() {
            // An emptied heap leaves `len` 0: the (empty) inline list.
            let _ = self.heap.remove(index);
        } else if index < self.len {
            self.inline.copy_within(index + 1..self.len, index);
            self.len -= 1;
        }
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.len = 0;
    }
}
