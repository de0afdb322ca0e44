// SPDX-License-Identifier: GPL-2.0

//! Physically contiguous stretches of a batch of pinned pages, found in one tight pass so the
//! mapping loop works per stretch rather than per page (`num_pages_contiguous` upstream).

/// How many leading entries of `pfns` follow each other (`pfns[i] == pfns[0] + i`): at least
/// 1 for a non-empty slice, 0 for an empty one.
pub(crate) fn contiguous_prefix(pfns: &[u64]) -> usize {
    if pfns.is_empty() {
        return 0;
    }
    // Compares neighbours without indexing, so the loop carries no bounds checks.
    1 + pfns
        .iter()
        .zip(&pfns[1..])
        .take_while(|(a, b)| a.checked_add(1) == Some(**b))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(contiguous_prefix(&[]), 0);
        assert_eq!(contiguous_prefix(&[7]), 1);
        assert_eq!(contiguous_prefix(&[7, 8, 9]), 3);
        assert_eq!(contiguous_prefix(&[7, 8, 10, 11]), 2);
        // Same page twice, or descending: not contiguous.
        assert_eq!(contiguous_prefix(&[7, 7, 8]), 1);
        assert_eq!(contiguous_prefix(&[8, 7]), 1);
        // The top of the pfn space does not wrap into a false run.
        assert_eq!(contiguous_prefix(&[u64::MAX - 1, u64::MAX, 0]), 2);
        let long: [u64; 512] = core::array::from_fn(|i| 0x1000 + i as u64);
        assert_eq!(contiguous_prefix(&long), 512);
    }
}
