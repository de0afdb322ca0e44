// SPDX-License-Identifier: GPL-2.0

//! One DMA mapping of a container (`struct vfio_dma`) and the kernel storage behind the pure
//! [`DmaMap`](super::dma_map::DmaMap), run record and IOVA list.

use super::dma_map::{DmaEntry, DmaRange, DmaStore};
use super::dma_runs::{DmaRuns, RunRec, RunStore};
use super::emulated::PfnTree;
use super::iova_ranges::{IovaList, IovaRange};
use crate::errno::Errno;
use crate::kernel_ext::{inline_vec::InlineVec, user_pages::PinOwner};
use kernel::{
    prelude::*,
    rbtree::{Entry, RBTree, RBTreeNodeReservation},
};

/// A mapping: its range, whose pages it pins and how far it got.
pub(crate) struct VfioDma {
    /// IOVA, size, vaddr, protection and vaddr validity (changed only by `DmaMap`).
    range: DmaRange,
    /// The process whose memory is mapped, charged for the pinned pages.
    pub(crate) owner: PinOwner,
    /// The physically contiguous runs pinned and mapped in every domain, from `range.iova`
    /// on. A mapping made while the container has no domain has none until a domain arrives.
    pub(crate) runs: DmaRuns<RunVec>,
    /// Pages charged to `owner`'s locked memory.
    pub(crate) locked: u64,
    /// Pages pinned by emulated devices (`emulated.rs`).
    pub(crate) pfns: PfnTree,
    /// Dirty bitmap while tracking (`dirty.rs`).
    pub(crate) bitmap: Option<KVVec<u64>>,
    /// Some mapped frame is reserved (a `VM_PFNMAP` frame, say): unpin frame by frame.
    pub(crate) has_rsvd: bool,
}

impl VfioDma {
    /// A new, not yet pinned mapping of `range` for `owner`.
    pub(crate) fn new(range: DmaRange, owner: PinOwner) -> Self {
        Self {
            range,
            owner,
            runs: DmaRuns::new(RunVec(None)),
            locked: 0,
            pfns: PfnTree::new(),
            bitmap: None,
            has_rsvd: false,
        }
    }
}

impl VfioDma {
    /// Bytes from `range.iova` that are pinned and mapped in every domain.
    pub(crate) fn mapped_size(&self) -> u64 {
        self.runs.mapped_size()
    }
}

impl DmaEntry for VfioDma {
    fn range(&self) -> &DmaRange {
        &self.range
    }

    fn range_mut(&mut self) -> &mut DmaRange {
        &mut self.range
    }

    fn has_pinned_pages(&self) -> bool {
        !self.pfns.is_empty()
    }
}

/// A mapping's run records after the first (none allocated for a mapping of one run),
/// charged to the caller's memory cgroup like upstream's `struct vfio_dma`. `None` until the
/// second run: dropping an empty vector still calls the allocator, on every unmap.
pub(crate) struct RunVec(Option<KVVec<RunRec>>);

impl RunStore for RunVec {
    fn runs(&self) -> &[RunRec] {
        self.0.as_deref().unwrap_or(&[])
    }

    fn last_mut(&mut self) -> Option<&mut RunRec> {
        self.0.as_mut()?.last_mut()
    }

    fn push(&mut self, rec: RunRec) -> Result<(), Errno> {
        self.0
            .get_or_insert_with(KVVec::new)
            .push(rec, GFP_KERNEL_ACCOUNT)
            .map_err(|_| Errno::ENOMEM)
    }

    fn pop(&mut self) {
        if let Some(v) = self.0.as_mut() {
            let _ = v.pop();
        }
    }

    fn free(&mut self) {
        self.0 = None;
    }
}

/// Mappings ordered by first IOVA, in a red-black tree.
///
/// The node of the last mapping unmapped in place is kept for the next map (`spare`): a
/// vIOMMU guest maps and unmaps one page at a time, and a slab allocation and free per cycle
/// cost more than the rest of the ioctl on a kmemleak kernel (one node per container, a few
/// hundred bytes).
pub(crate) struct DmaTree(
    RBTree<u64, VfioDma>,
    Option<RBTreeNodeReservation<u64, VfioDma>>,
);

impl DmaTree {
    /// An empty tree.
    pub(crate) fn new() -> Self {
        Self(RBTree::new(), None)
    }
}

impl DmaStore for DmaTree {
    type Entry = VfioDma;

    fn first_from(&self, iova: u64) -> Option<&VfioDma> {
        let key = *self.0.cursor_lower_bound(&iova)?.current().0;
        self.0.get(&key)
    }

    fn last_before(&self, iova: u64) -> Option<&VfioDma> {
        let key = match self.0.cursor_lower_bound(&iova) {
            Some(cursor) => *cursor.peek_prev()?.0,
            None => *self.0.cursor_back()?.current().0,
        };
        self.0.get(&key)
    }

    fn get_mut(&mut self, iova: u64) -> Option<&mut VfioDma> {
        self.0.get_mut(&iova)
    }

    fn first_range_from(&self, iova: u64) -> Option<DmaRange> {
        self.0
            .cursor_lower_bound(&iova)
            .map(|c| *c.current().1.range())
    }

    fn last_range_before(&self, iova: u64) -> Option<DmaRange> {
        match self.0.cursor_lower_bound(&iova) {
            Some(c) => c.peek_prev().map(|(_, e)| *e.range()),
            None => self.0.cursor_back().map(|c| *c.current().1.range()),
        }
    }

    fn insert(&mut self, entry: VfioDma) -> Result<&mut VfioDma, Errno> {
        let node = match self.1.take() {
            Some(node) => node,
            None => RBTreeNodeReservation::new(GFP_KERNEL).map_err(|_| Errno::ENOMEM)?,
        };
        match self.0.entry(entry.range.iova) {
            Entry::Vacant(slot) => Ok(slot.insert(entry, node)),
            // The map checks first: never here.
            Entry::Occupied(_) => Err(Errno::EEXIST),
        }
    }

    fn remove(&mut self, iova: u64) -> Option<VfioDma> {
        self.0.remove(&iova)
    }

    fn delete_if(
        &mut self,
        iova: u64,
        doomed: impl FnOnce(&VfioDma) -> bool,
        teardown: impl FnOnce(&mut VfioDma),
    ) -> Option<DmaRange> {
        let mut entry = self.0.find_mut(&iova)?;
        if !doomed(entry.get()) {
            return None;
        }
        teardown(entry.get_mut());
        let range = *entry.get().range();
        // Dropped in its node (a `VfioDma` is 160 bytes, not worth a copy per unmap), which
        // stays for the next map.
        self.1 = Some(entry.remove_node().into_reservation());
        Some(range)
    }
}

/// Ranges kept inline: an x86 container has two (the aperture less the MSI window), a third
/// while a split is under way.
const IOVA_INLINE: usize = 4;

/// The container's usable IOVA ranges (no allocation for a few).
pub(crate) struct IovaVec(InlineVec<IovaRange, IOVA_INLINE>);

impl IovaVec {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self(InlineVec::new(IovaRange { start: 0, end: 0 }))
    }
}

impl IovaList for IovaVec {
    fn ranges(&self) -> &[IovaRange] {
        self.0.as_slice()
    }

    fn ranges_mut(&mut self) -> &mut [IovaRange] {
        self.0.as_mut_slice()
    }

    fn insert(&mut self, index: usize, range: IovaRange) -> Result<(), Errno> {
        self.0
            .insert(index, range, GFP_KERNEL)
            .map_err(|_| Errno::ENOMEM)
    }

    fn remove(&mut self, index: usize) {
        self.0.remove(index);
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}
