// SPDX-License-Identifier: GPL-2.0

//! Shrinking a set of IOVA ranges to a device's limit, as pure logic.
//!
//! Mirrors upstream's `vfio_combine_iova_ranges`, used by migration drivers whose dirty
//! tracking takes fewer ranges than userspace asked for: the two neighbours with the smallest
//! gap merge (the leftmost pair on ties), again and again, until `req_nodes` remain; asking for
//! one range keeps only the first, stretched to the last one's end. The ranges live in a
//! caller's interval tree; [`RangeCursor`] is all this logic sees of it. Kernel-independent:
//! the host build runs the tests.

/// A cursor over ranges in `start` order (an interval tree walked from its first node).
pub(crate) trait RangeCursor {
    /// Moves to the first range; false if there is none.
    fn rewind(&mut self) -> bool;
    /// Moves to the next range; false past the last one.
    fn advance(&mut self) -> bool;
    /// The current range's first address.
    fn start(&self) -> usize;
    /// The current range's last address (inclusive).
    fn last(&self) -> usize;
    /// Changes the current range's last address, in place (upstream writes the node's `last`
    /// without touching the tree's other bookkeeping).
    fn set_last(&mut self, last: usize);
    /// Takes the current range out of the tree and moves to the next one; false if none.
    fn remove_and_advance(&mut self) -> bool;
}

/// The tree had too few ranges for the request: upstream's `WARN_ON_ONCE` cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NothingToCombine;

/// Merges ranges until `req_nodes` remain, `cur_nodes` being the caller's count of them.
pub(crate) fn combine(
    ranges: &mut impl RangeCursor,
    cur_nodes: u32,
    req_nodes: u32,
) -> Result<(), NothingToCombine> {
    if req_nodes == 1 {
        return combine_all(ranges);
    }
    let mut cur_nodes = cur_nodes;
    while cur_nodes > req_nodes {
        let (at, end_last) = smallest_gap(ranges).ok_or(NothingToCombine)?;
        // Back to the left range of the pair: it grows to the right one's end, which leaves.
        ranges.rewind();
        for _ in 0..at {
            ranges.advance();
        }
        ranges.set_last(end_last);
        ranges.advance();
        ranges.remove_and_advance();
        cur_nodes -= 1;
    }
    Ok(())
}

/// Index of the left range of the neighbours with the smallest gap (`start` of the right one
/// minus `last` of the left one, wrapping as C's `unsigned long` does for overlaps), and the
/// right one's `last`. `None` with fewer than two ranges.
fn smallest_gap(ranges: &mut impl RangeCursor) -> Option<(usize, usize)> {
    if !ranges.rewind() {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    let mut min_gap = usize::MAX;
    let mut prev_last = ranges.last();
    let mut index = 0;
    while ranges.advance() {
        let gap = ranges.start().wrapping_sub(prev_last);
        if gap < min_gap {
            min_gap = gap;
            best = Some((index, ranges.last()));
        }
        prev_last = ranges.last();
        index += 1;
    }
    best
}

/// One range: the first one stays and ends where the last one ended; the others leave.
fn combine_all(ranges: &mut impl RangeCursor) -> Result<(), NothingToCombine> {
    if !ranges.rewind() {
        return Err(NothingToCombine);
    }
    let mut last = ranges.last();
    if ranges.advance() {
        loop {
            last = ranges.last();
            if !ranges.remove_and_advance() {
                break;
            }
        }
    }
    ranges.rewind();
    ranges.set_last(last);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges in a vector, kept in `start` order (ties in insertion order, as the interval
    /// tree keeps them), recording what was removed.
    struct Ranges {
        live: Vec<(usize, usize)>,
        at: usize,
        removed: Vec<(usize, usize)>,
    }

    impl Ranges {
        fn new(ranges: &[(usize, usize)]) -> Self {
            let mut live = ranges.to_vec();
            live.sort_by_key(|r| r.0);
            Self {
                live,
                at: 0,
                removed: Vec::new(),
            }
        }
    }

    impl RangeCursor for Ranges {
        fn rewind(&mut self) -> bool {
            self.at = 0;
            !self.live.is_empty()
        }
        fn advance(&mut self) -> bool {
            assert!(self.at < self.live.len(), "advance past the end");
            self.at += 1;
            self.at < self.live.len()
        }
        fn start(&self) -> usize {
            self.live[self.at].0
        }
        fn last(&self) -> usize {
            self.live[self.at].1
        }
        fn set_last(&mut self, last: usize) {
            self.live[self.at].1 = last;
        }
        fn remove_and_advance(&mut self) -> bool {
            self.removed.push(self.live.remove(self.at));
            self.at < self.live.len()
        }
    }

    fn run(ranges: &[(usize, usize)], req: u32) -> (Result<(), NothingToCombine>, Ranges) {
        let mut r = Ranges::new(ranges);
        let n = r.live.len() as u32;
        (combine(&mut r, n, req), r)
    }

    #[test]
    fn merges_smallest_gap_first() {
        // Gaps: 0x100 (a-b), 0x10 (b-c), 0x1000 (c-d).
        let a = (0x0, 0xfff);
        let b = (0x10ff, 0x1fff);
        let c = (0x200f, 0x2fff);
        let d = (0x3fff, 0x4fff);
        let (res, r) = run(&[a, b, c, d], 3);
        assert_eq!(res, Ok(()));
        assert_eq!(r.live, vec![a, (0x10ff, 0x2fff), d]);
        assert_eq!(r.removed, vec![c]);
        let (_, r) = run(&[a, b, c, d], 2);
        assert_eq!(r.live, vec![(0x0, 0x2fff), d]);
    }

    #[test]
    fn ties_merge_the_leftmost_pair() {
        let (_, r) = run(&[(0, 9), (20, 29), (40, 49)], 2);
        assert_eq!(r.live, vec![(0, 29), (40, 49)]);
    }

    #[test]
    fn one_range_spans_first_to_last() {
        let (res, r) = run(&[(0x1000, 0x1fff), (0x5000, 0x5fff), (0x9000, 0x9fff)], 1);
        assert_eq!(res, Ok(()));
        assert_eq!(r.live, vec![(0x1000, 0x9fff)]);
        assert_eq!(r.removed, vec![(0x5000, 0x5fff), (0x9000, 0x9fff)]);
        // The last range's end wins even if an earlier one reached further (as upstream).
        let (_, r) = run(&[(0, 0xffff), (0x10, 0x20)], 1);
        assert_eq!(r.live, vec![(0, 0x20)]);
        let (res, r) = run(&[(5, 6)], 1);
        assert_eq!((res, r.live), (Ok(()), vec![(5, 6)]));
    }

    #[test]
    fn nothing_to_do_when_within_the_limit() {
        let ranges = [(0, 1), (10, 11)];
        let (res, r) = run(&ranges, 2);
        assert_eq!((res, r.live), (Ok(()), ranges.to_vec()));
        let (res, r) = run(&ranges, 5);
        assert_eq!((res, r.live), (Ok(()), ranges.to_vec()));
    }

    #[test]
    fn too_few_ranges_warn() {
        let (res, _) = run(&[], 1);
        assert_eq!(res, Err(NothingToCombine));
        // The caller claims more ranges than the tree holds: merging stops at one.
        let mut r = Ranges::new(&[(0, 1), (10, 11)]);
        assert_eq!(combine(&mut r, 5, 2), Err(NothingToCombine));
        assert_eq!(r.live, vec![(0, 11)]);
        // Zero requested: merges down to one, then finds nothing left to merge.
        let (res, r) = run(&[(0, 1), (10, 11), (20, 21)], 0);
        assert_eq!((res, r.live), (Err(NothingToCombine), vec![(0, 21)]));
    }

    #[test]
    fn overlaps_wrap_like_unsigned_long() {
        // b starts before a ends: its gap wraps to a huge value, so c-d merge first; the
        // merged range takes the right one's end even when it is smaller (as upstream).
        let (_, r) = run(&[(0, 100), (50, 60), (200, 300), (301, 400)], 3);
        assert_eq!(r.live, vec![(0, 100), (50, 60), (200, 400)]);
        let (_, r) = run(&[(0, 100), (50, 60), (200, 300)], 1);
        assert_eq!(r.live, vec![(0, 300)]);
        let (_, r) = run(&[(0, 100), (50, 60), (500, 600)], 2);
        assert_eq!(r.live, vec![(0, 100), (50, 600)]);
    }

    #[test]
    fn many_ranges_reach_the_request() {
        let ranges: Vec<(usize, usize)> = (0..64)
            .map(|i| (i * 0x1000 + (i % 7) * 0x10, i * 0x1000 + 0x7ff))
            .collect();
        for req in 2..64 {
            let (res, r) = run(&ranges, req);
            assert_eq!(res, Ok(()));
            assert_eq!(r.live.len(), req as usize);
            assert_eq!(r.live[0].0, 0);
            assert_eq!(r.live.last().unwrap().1, 63 * 0x1000 + 0x7ff);
            // Still ordered, non-overlapping, and covering every original range.
            for w in r.live.windows(2) {
                assert!(w[0].1 < w[1].0);
            }
            for &(s, l) in &ranges {
                assert!(r.live.iter().any(|&(a, b)| a <= s && l <= b));
            }
        }
    }
}
