// SPDX-License-Identifier: GPL-2.0

//! The physically contiguous runs a mapping has pinned and IOMMU-mapped, recorded as it maps
//! them, so that unmapping, unpinning and replaying into another domain go by run instead of
//! asking the IOMMU for every 4 KiB page (`iommu_iova_to_phys` in upstream's
//! `vfio_unmap_unpin`, `t1:1184-1196`, and `vfio_iommu_replay`).
//!
//! # Layout
//!
//! A run record is 16 bytes: its first frame (bit 63: the frames are reserved, never
//! unpinned nor charged) and its length in pages. Records cover the mapped part of the
//! mapping from its first byte without gaps, in IOVA order, so a run's offset is the sum of
//! the lengths before it and is not stored. Adjacent runs of one kind whose frames continue
//! each other are one record (`disable_hugepages` maps such pages one by one; the IOMMU still
//! translates them as one stretch, which is how upstream's walk finds them).
//!
//! The first record is kept inline (no allocation for a mapping of one page, or of any one
//! physically contiguous stretch: a 2 MiB or 1 GiB huge page); the others are in a vector
//! of the kernel's ([`RunStore`]), empty and unallocated until a second run appears.

use super::pfn_runs::Run;
use super::pgsize::PAGE_SHIFT;
use crate::errno::Errno;

/// Bit of [`RunRec::pfn_rsvd`] saying the run is reserved; frames fit far below it.
const RSVD_BIT: u64 = 1 << 63;

/// One recorded run, packed (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunRec {
    /// First frame, with [`RSVD_BIT`] if the run is reserved.
    pfn_rsvd: u64,
    /// Pages in the run; 0 only in an empty inline slot.
    npages: u64,
}

impl RunRec {
    fn pfn(&self) -> u64 {
        self.pfn_rsvd & !RSVD_BIT
    }

    fn rsvd(&self) -> bool {
        self.pfn_rsvd & RSVD_BIT != 0
    }

    /// Whether `r` (of `npages` pages) continues this record: same kind, next frame.
    fn continued_by(&self, r: &Run) -> bool {
        self.rsvd() == r.rsvd && self.pfn().checked_add(self.npages) == Some(r.pfn)
    }
}

/// Storage of the records after the first (a `KVVec` in the kernel, a `Vec` in host tests).
pub(crate) trait RunStore {
    /// The records.
    fn runs(&self) -> &[RunRec];
    /// The last record, for growing it in place.
    fn last_mut(&mut self) -> Option<&mut RunRec>;
    /// Appends a record; `ENOMEM` if the storage cannot grow.
    fn push(&mut self, rec: RunRec) -> Result<(), Errno>;
    /// Drops the last record.
    fn pop(&mut self);
    /// Drops every record and gives back the storage.
    fn free(&mut self);
}

/// A mapping's recorded runs.
///
/// # Invariants
///
/// `first.npages == 0` only when there are no runs at all (`rest` is then empty); no record of
/// `rest` is empty; `pages` is the sum of every record's pages; no record continues the one
/// before it ([`RunRec::continued_by`]).
#[derive(Debug)]
pub(crate) struct DmaRuns<V> {
    first: RunRec,
    rest: V,
    pages: u64,
}

impl<V: RunStore> DmaRuns<V> {
    /// No runs, over empty storage `rest`.
    pub(crate) fn new(rest: V) -> Self {
        Self {
            first: RunRec::default(),
            rest,
            pages: 0,
        }
    }

    /// The storage, for host tests to make it fail.
    #[cfg(test)]
    pub(crate) fn store_mut(&mut self) -> &mut V {
        &mut self.rest
    }

    /// Pages recorded: the mapping's mapped part is `pages() << PAGE_SHIFT` bytes.
    pub(crate) fn pages(&self) -> u64 {
        self.pages
    }

    /// Bytes recorded from the mapping's first IOVA.
    pub(crate) fn mapped_size(&self) -> u64 {
        self.pages << PAGE_SHIFT
    }

    /// Records (each 16 bytes; the first inline).
    pub(crate) fn records(&self) -> usize {
        if self.first.npages == 0 {
            0
        } else {
            1 + self.rest.runs().len()
        }
    }

    /// Records `run`, which must start where the recorded runs end (`EINVAL` otherwise, or if
    /// it is empty or its frame or end does not fit). It extends the last record when it
    /// continues it. `ENOMEM` if a new record cannot be stored; nothing changes on failure.
    pub(crate) fn push(&mut self, run: Run) -> Result<(), Errno> {
        let end = self.pages.checked_add(run.npages).ok_or(Errno::EINVAL)?;
        if run.npages == 0
            || run.offset != self.mapped_size()
            || run.pfn & RSVD_BIT != 0
            || run.pfn.checked_add(run.npages).is_none()
            || end > u64::MAX >> PAGE_SHIFT
        {
            return Err(Errno::EINVAL);
        }
        let rec = RunRec {
            pfn_rsvd: run.pfn | if run.rsvd { RSVD_BIT } else { 0 },
            npages: run.npages,
        };
        if self.first.npages == 0 {
            self.first = rec;
        } else {
            let last = match self.rest.last_mut() {
                Some(last) => last,
                None => &mut self.first,
            };
            if last.continued_by(&run) {
                last.npages += run.npages;
            } else {
                self.rest.push(rec)?;
            }
        }
        self.pages = end;
        Ok(())
    }

    /// Keeps only the first `pages` pages (all if there are fewer), cutting a run short where
    /// the boundary falls inside it: undoes [`Self::push`]es of runs that then failed to map.
    pub(crate) fn truncate(&mut self, pages: u64) {
        while self.pages > pages {
            let excess = self.pages - pages;
            let last = match self.rest.last_mut() {
                Some(last) => last,
                None => &mut self.first,
            };
            if last.npages > excess {
                last.npages -= excess;
                self.pages = pages;
            } else {
                self.pages -= last.npages;
                if self.rest.runs().is_empty() {
                    self.first = RunRec::default();
                } else {
                    self.rest.pop();
                }
            }
        }
    }

    /// Forgets every run and frees their storage.
    pub(crate) fn clear(&mut self) {
        self.first = RunRec::default();
        self.rest.free();
        self.pages = 0;
    }

    /// The runs in IOVA order, with their byte offsets in the mapping.
    pub(crate) fn iter(&self) -> Iter<'_> {
        let first = if self.first.npages == 0 {
            None
        } else {
            Some(self.first)
        };
        Iter {
            first,
            rest: self.rest.runs().iter(),
            offset: 0,
        }
    }
}

/// The runs of a [`DmaRuns`], in IOVA order.
#[derive(Clone)]
pub(crate) struct Iter<'a> {
    first: Option<RunRec>,
    rest: core::slice::Iter<'a, RunRec>,
    offset: u64,
}

impl Iterator for Iter<'_> {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        let rec = match self.first.take() {
            Some(rec) => rec,
            None => *self.rest.next()?,
        };
        let run = Run {
            offset: self.offset,
            pfn: rec.pfn(),
            npages: rec.npages,
            rsvd: rec.rsvd(),
        };
        // Fits: the recorded pages' bytes were checked at push.
        self.offset = self.offset.wrapping_add(rec.npages << PAGE_SHIFT);
        Some(run)
    }
}

#[cfg(test)]
pub(crate) mod test_store {
    //! A `Vec` store for host tests, standing in for the kernel's `KVVec`.

    use super::*;

    /// The store; `fail_push` makes pushes fail with `ENOMEM`.
    #[derive(Debug, Default)]
    pub(crate) struct VecRuns {
        /// The records.
        pub(crate) v: Vec<RunRec>,
        /// Refuse to grow.
        pub(crate) fail_push: bool,
    }

    impl RunStore for VecRuns {
        fn runs(&self) -> &[RunRec] {
            &self.v
        }
        fn last_mut(&mut self) -> Option<&mut RunRec> {
            self.v.last_mut()
        }
        fn push(&mut self, rec: RunRec) -> Result<(), Errno> {
            if self.fail_push {
                return Err(Errno::ENOMEM);
            }
            self.v.push(rec);
            Ok(())
        }
        fn pop(&mut self) {
            self.v.pop();
        }
        fn free(&mut self) {
            self.v = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_store::VecRuns;
    use super::*;

    const PG: u64 = 4096;

    fn run(offset_pages: u64, pfn: u64, npages: u64, rsvd: bool) -> Run {
        Run {
            offset: offset_pages * PG,
            pfn,
            npages,
            rsvd,
        }
    }

    fn list(r: &DmaRuns<VecRuns>) -> Vec<(u64, u64, u64, bool)> {
        r.iter()
            .map(|r| (r.offset / PG, r.pfn, r.npages, r.rsvd))
            .collect()
    }

    #[test]
    fn record_is_16_bytes() {
        assert_eq!(core::mem::size_of::<RunRec>(), 16);
    }

    #[test]
    fn one_run_stays_inline() {
        let mut r = DmaRuns::new(VecRuns::default());
        assert_eq!((r.pages(), r.records(), list(&r)), (0, 0, vec![]));
        // A 1 GiB huge page: one record, nothing allocated.
        r.push(run(0, 0x40000, 262144, false)).unwrap();
        assert_eq!(r.records(), 1);
        assert_eq!(r.rest.v.capacity(), 0);
        assert_eq!(r.mapped_size(), 1 << 30);
        // Pages mapped one by one (disable_hugepages) that continue each other: still one.
        let mut r = DmaRuns::new(VecRuns::default());
        for i in 0..8 {
            r.push(run(i, 100 + i, 1, false)).unwrap();
        }
        assert_eq!(list(&r), [(0, 100, 8, false)]);
        assert_eq!(r.rest.v.capacity(), 0);
    }

    #[test]
    fn runs_split_on_gap_and_kind() {
        let mut r = DmaRuns::new(VecRuns::default());
        r.push(run(0, 10, 2, false)).unwrap();
        r.push(run(2, 12, 1, true)).unwrap(); // next frame, but reserved
        r.push(run(3, 13, 1, true)).unwrap();
        r.push(run(4, 50, 3, true)).unwrap(); // gap
        r.push(run(7, 53, 1, false)).unwrap();
        assert_eq!(
            list(&r),
            [
                (0, 10, 2, false),
                (2, 12, 2, true),
                (4, 50, 3, true),
                (7, 53, 1, false)
            ]
        );
        assert_eq!((r.pages(), r.records()), (8, 4));
    }

    #[test]
    fn push_rejects_bad_runs_unchanged() {
        let mut r = DmaRuns::new(VecRuns::default());
        r.push(run(0, 10, 2, false)).unwrap();
        // Not where the runs end, empty, frame too large, end wraps.
        assert_eq!(r.push(run(3, 12, 1, false)), Err(Errno::EINVAL));
        assert_eq!(r.push(run(1, 12, 1, false)), Err(Errno::EINVAL));
        assert_eq!(r.push(run(2, 12, 0, false)), Err(Errno::EINVAL));
        assert_eq!(r.push(run(2, 1 << 63, 1, false)), Err(Errno::EINVAL));
        assert_eq!(r.push(run(2, u64::MAX - 1, 2, false)), Err(Errno::EINVAL));
        assert_eq!(r.push(run(2, 20, 1 << 52, false)), Err(Errno::EINVAL));
        // Storage full: a new record fails, extending the last one does not need storage.
        r.rest.fail_push = true;
        assert_eq!(r.push(run(2, 30, 1, false)), Err(Errno::ENOMEM));
        assert_eq!(list(&r), [(0, 10, 2, false)]);
        r.push(run(2, 12, 1, false)).unwrap();
        assert_eq!(list(&r), [(0, 10, 3, false)]);
    }

    #[test]
    fn truncate_cuts_and_drops() {
        let mut r = DmaRuns::new(VecRuns::default());
        r.push(run(0, 10, 4, false)).unwrap();
        r.push(run(4, 100, 4, false)).unwrap();
        r.push(run(8, 200, 4, true)).unwrap();
        r.truncate(20);
        assert_eq!(r.pages(), 12);
        r.truncate(6);
        assert_eq!(list(&r), [(0, 10, 4, false), (4, 100, 2, false)]);
        // Cutting back to a boundary lets a continuing run merge again.
        r.truncate(4);
        r.push(run(4, 14, 1, false)).unwrap();
        assert_eq!(list(&r), [(0, 10, 5, false)]);
        r.truncate(2);
        assert_eq!(list(&r), [(0, 10, 2, false)]);
        r.truncate(0);
        assert_eq!((r.pages(), r.records(), list(&r)), (0, 0, vec![]));
        r.push(run(0, 7, 1, true)).unwrap();
        assert_eq!(list(&r), [(0, 7, 1, true)]);
        r.push(run(1, 9, 1, true)).unwrap();
        r.clear();
        assert_eq!((r.pages(), r.records(), r.rest.v.capacity()), (0, 0, 0));
    }
}
