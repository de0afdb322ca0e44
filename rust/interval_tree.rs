// SPDX-License-Identifier: GPL-2.0

//! A cursor over a C caller's interval tree of `struct interval_tree_node` (an
//! `rb_root_cached`), walking every node in `start` order and removing nodes as it goes.
//!
//! C header: [`include/linux/interval_tree.h`](srctree/include/linux/interval_tree.h).

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::bindings;

/// The query range covering every node (`0 ..= ULONG_MAX`).
const ALL: (usize, usize) = (0, usize::MAX);

/// A position in a borrowed interval tree.
///
/// # Invariants
///
/// `root` is a valid tree for `'a` that only this cursor changes; `at` is null or a node
/// currently in it (only nodes found through the tree are stored, and a removed node is
/// replaced at once).
pub struct IntervalTreeCursor<'a> {
    root: NonNull<bindings::rb_root_cached>,
    at: *mut bindings::interval_tree_node,
    _tree: PhantomData<&'a mut bindings::rb_root_cached>,
}

impl IntervalTreeCursor<'_> {
    /// A cursor before the first node of `root`.
    ///
    /// # Safety
    ///
    /// `root` must be a valid interval tree of `interval_tree_node`s that nobody else reads or
    /// changes during `'a`, and every node in it must stay allocated during `'a` (removing a
    /// node does not free it).
    pub unsafe fn new(root: NonNull<bindings::rb_root_cached>) -> Self {
        // INVARIANT: Per the function contract; no node yet.
        Self {
            root,
            at: core::ptr::null_mut(),
            _tree: PhantomData,
        }
    }

    /// Moves to the first node; false if the tree is empty.
    pub fn rewind(&mut self) -> bool {
        // SAFETY: `root` is valid (type invariant); full-range queries visit every node.
        // INVARIANT: The result is null or a node of the tree.
        self.at = unsafe { bindings::interval_tree_iter_first(self.root.as_ptr(), ALL.0, ALL.1) };
        !self.at.is_null()
    }

    /// Moves to the next node; false past the last one (or with no current node).
    pub fn advance(&mut self) -> bool {
        if self.at.is_null() {
            return false;
        }
        // SAFETY: `at` is a node of the tree (type invariant).
        // INVARIANT: The result is null or a node of the tree.
        self.at = unsafe { bindings::interval_tree_iter_next(self.at, ALL.0, ALL.1) };
        !self.at.is_null()
    }

    /// The current node's `start`, or 0 without one.
    pub fn start(&self) -> usize {
        // SAFETY: `at` is null or a node of the tree (type invariant).
        unsafe { self.at.as_ref() }.map_or(0, |n| n.start)
    }

    /// The current node's `last`, or 0 without one.
    pub fn last(&self) -> usize {
        // SAFETY: `at` is null or a node of the tree (type invariant).
        unsafe { self.at.as_ref() }.map_or(0, |n| n.last)
    }

    /// Writes the current node's `last` in place (as upstream's callers of this walk do:
    /// the node keeps its place, only a full-range walk is guaranteed to see it).
    pub fn set_last(&mut self, last: usize) {
        // SAFETY: `at` is null or a node of the tree, which this cursor may change.
        if let Some(n) = unsafe { self.at.as_mut() } {
            n.last = last;
        }
    }

    /// Removes the current node from the tree (its memory stays the caller's) and moves to
    /// the next one; false if there is none.
    pub fn remove_and_advance(&mut self) -> bool {
        let node = self.at;
        if node.is_null() {
            return false;
        }
        let more = self.advance();
        // SAFETY: `node` was in the tree until now; finding its successor first keeps `at`
        // valid, as removal only relinks the tree.
        unsafe { bindings::interval_tree_remove(node, self.root.as_ptr()) };
        more
    }
}

/// An interval tree of `struct interval_tree_node`s the tree owns, with room for a fixed number
/// of nodes allocated up front (upstream's `kmalloc_objs` array beside an `RB_ROOT_CACHED`).
/// Handed to C code (a driver's `log_start`) as a `struct rb_root_cached *`; nodes it removes stay
/// allocated until the tree is dropped.
///
/// # Invariants
///
/// `nodes` never reallocates (nodes are only pushed within its capacity), so the nodes linked
/// into `root` stay at their addresses; every node linked into `root` is one of `nodes`.
pub struct IntervalTree {
    root: bindings::rb_root_cached,
    nodes: kernel::alloc::KVec<bindings::interval_tree_node>,
}

impl IntervalTree {
    /// An empty tree with room for `capacity` nodes (`GFP_KERNEL`).
    pub fn with_capacity(capacity: usize) -> kernel::error::Result<Self> {
        Ok(Self {
            // `RB_ROOT_CACHED`: no root node, no leftmost node.
            root: bindings::rb_root_cached::default(),
            nodes: kernel::alloc::KVec::with_capacity(capacity, kernel::alloc::flags::GFP_KERNEL)?,
        })
    }

    /// The number of nodes inserted (removed ones included).
    #[expect(
        clippy::len_without_is_empty,
        reason = "a size for the caller, not a collection API"
    )]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether a node of the tree overlaps `start ..= last`, by the tree's own query
    /// (`interval_tree_iter_first`).
    pub fn overlaps(&mut self, start: usize, last: usize) -> bool {
        // SAFETY: `root` is a valid tree whose nodes are alive (type invariant); the query does
        // not change it.
        !unsafe { bindings::interval_tree_iter_first(&mut self.root, start, last) }.is_null()
    }

    /// Inserts a node `start ..= last`; `ENOSPC` when the capacity is used up.
    pub fn insert(&mut self, start: usize, last: usize) -> kernel::error::Result {
        let node = bindings::interval_tree_node {
            start,
            last,
            ..Default::default()
        };
        // INVARIANT: Pushing within capacity does not move the existing nodes.
        self.nodes
            .push_within_capacity(node)
            .map_err(|_| kernel::error::code::ENOSPC)?;
        // SAFETY: The node just pushed is in bounds; no reference to the array is made, so
        // pointers C holds to the other nodes stay valid.
        let node = unsafe { self.nodes.as_mut_ptr().add(self.nodes.len() - 1) };
        // SAFETY: `node` is a new node at a stable address (type invariant), not yet in the
        // tree; `root` is a valid tree.
        unsafe { bindings::interval_tree_insert(node, &mut self.root) };
        Ok(())
    }

    /// The tree for a C callee, which may query it and remove nodes (not free them) until it
    /// returns.
    pub fn as_raw(&mut self) -> *mut bindings::rb_root_cached {
        &mut self.root
    }
}
