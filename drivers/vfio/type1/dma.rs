// SPDX-License-Identifier: GPL-2.0

//! One DMA mapping of a container (`struct vfio_dma`) and the kernel storage behind the pure
//! [`DmaMap`](super::dma_map::DmaMap) and IOVA list.

use super::dma_map::{DmaEntry, DmaRange, DmaStore};
use super::emulated::PfnTree;
use super::iova_ranges::{IovaList, IovaRange};
use crate::errno::Errno;
use crate::kernel_ext::user_pages::PinOwner;
use kernel::{prelude::*, rbtree::RBTree};

/// A mapping: its range, whose pages it pins and how far it got.
pub(crate) struct VfioDma {
    /// IOVA, size, vaddr, protection and vaddr validity (changed only by `DmaMap`).
    range: DmaRange,
    /// The process whose memory is mapped, charged for the pinned pages.
    pub(crate) owner: PinOwner,
    /// Bytes from `range.iova` that are pinned and mapped in every domain. A mapping made
    /// while the container has no domain stays unpinned (0) until a domain arrives.
    pub(crate) mapped_size: u64,
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
            mapped_size: 0,
            locked: 0,
            pfns: PfnTree::new(),
            bitmap: None,
            has_rsvd: false,
        }
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

/// Mappings ordered by first IOVA, in a red-black tree.
pub(crate) struct DmaTree(RBTree<u64, VfioDma>);

impl DmaTree {
    /// An empty tree.
    pub(crate) fn new() -> Self {
        Self(RBTree::new())
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

    fn insert(&mut self, entry: VfioDma) -> Result<(), Errno> {
        self.0
            .try_create_and_insert(entry.range.iova, entry, GFP_KERNEL)
            .map(|_| ())
            .map_err(|_| Errno::ENOMEM)
    }

    fn remove(&mut self, iova: u64) -> Option<VfioDma> {
        self.0.remove(&iova)
    }
}

/// The container's usable IOVA ranges, in a vector.
pub(crate) struct IovaVec(pub(crate) KVec<IovaRange>);

impl IovaList for IovaVec {
    fn ranges(&self) -> &[IovaRange] {
        &self.0
    }

    fn ranges_mut(&mut self) -> &mut [IovaRange] {
        &mut self.0
    }

    fn insert(&mut self, index: usize, range: IovaRange) -> Result<(), Errno> {
        self.0.reserve(1, GFP_KERNEL).map_err(|_| Errno::ENOMEM)?;
        self.0
            .insert_within_capacity(index, range)
            .map_err(|_| Errno::ENOMEM)
    }

    fn remove(&mut self, index: usize) {
        let _ = self.0.remove(index);
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}
