// SPDX-License-Identifier: GPL-2.0

//! Dirty page bitmaps: sizes, `VFIO_IOMMU_DIRTY_PAGES` argument checks, and the bit
//! arithmetic of copying a mapping's bitmap into the user's.
//!
//! Each mapping keeps one bit per smallest IOMMU page (`vfio_dma_bitmap_alloc`), in 64-bit
//! words (`unsigned long` on x86-64) plus one spare word. Reporting a mapping whose first page
//! is not at a 64-page boundary of the user's bitmap shifts the mapping's bits up and ORs in
//! the user's word already there (`update_user_bitmap`), so adjacent mappings share words.
//! The functions here do that arithmetic on word slices; the kernel module does the user
//! copies between them. Bit operations stay inside the slice they get (nothing panics).

use super::pgsize::{ffs, shift_count};
use super::uapi::{
    DIRTY_GET_SIZE, DIRTY_MINSZ, DIRTY_PAGES_FLAG_GET_BITMAP, DIRTY_PAGES_FLAG_START,
    DIRTY_PAGES_FLAG_STOP,
};
use crate::errno::Errno;

/// Bits per bitmap word.
const WORD_BITS: u64 = 64;

/// `DIRTY_BITMAP_BYTES(n)`: bytes of a bitmap of `n` pages, whole 64-bit words. Wraps like
/// upstream's unsigned arithmetic for absurd `n`.
pub(crate) const fn bitmap_bytes(npages: u64) -> u64 {
    (npages.wrapping_add(WORD_BITS - 1) & !(WORD_BITS - 1)) / 8
}

/// `DIRTY_BITMAP_PAGES_MAX`: `bitmap_set` takes an `int` count.
pub(crate) const PAGES_MAX: u64 = i32::MAX as u64;
/// `DIRTY_BITMAP_SIZE_MAX`: 256 MiB, reported in the migration capability.
pub(crate) const SIZE_MAX: u64 = bitmap_bytes(PAGES_MAX);

/// `struct vfio_bitmap` as user space passes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BitmapArg {
    /// Page size one bit stands for.
    pub(crate) pgsize: u64,
    /// Size of the user's bitmap in bytes.
    pub(crate) size: u64,
    /// User address of the bitmap.
    pub(crate) data: u64,
}

/// `__ffs(pgsize)` as the shift used on sizes: x86-64 semantics for 0 (see [`shift_count`]).
fn pgshift(pgsize: u64) -> u32 {
    shift_count(ffs(pgsize))
}

/// `verify_bitmap_size` (`:1353`): a user bitmap must be non-empty, at most [`SIZE_MAX`], and
/// large enough for `npages`.
pub(crate) fn verify_bitmap_size(npages: u64, bitmap_size: u64) -> Result<(), Errno> {
    if npages == 0
        || bitmap_size == 0
        || bitmap_size > SIZE_MAX
        || bitmap_size < bitmap_bytes(npages)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `npages` of a user request: `size >> __ffs(pgsize)` (`:2947`, `:3039`).
pub(crate) fn request_pages(size: u64, pgsize: u64) -> u64 {
    size >> pgshift(pgsize)
}

/// `vfio_dma_bitmap_alloc` (`:241`): how many 64-bit words a mapping of `dma_size` bytes
/// needs with `pgsize` pages, including the spare word the shift in [`prepare_copy`] uses.
/// `EINVAL` past [`PAGES_MAX`] pages.
pub(crate) fn bitmap_words(dma_size: u64, pgsize: u64) -> Result<usize, Errno> {
    let npages = dma_size.checked_div(pgsize).ok_or(Errno::EINVAL)?;
    if npages > PAGES_MAX {
        return Err(Errno::EINVAL);
    }
    usize::try_from(bitmap_bytes(npages) / 8 + 1).map_err(|_| Errno::ENOMEM)
}

/// The page size `VFIO_IOMMU_DIRTY_PAGES_FLAG_START` sizes bitmaps with (`:2996`). Upstream
/// computes it as `1 << __ffs(bitmap)` in `int`: mimicked, including the 32-bit shift and the
/// sign extension, although real IOMMUs never get there.
pub(crate) fn start_pgsize(pgsize_bitmap: u64) -> u64 {
    i64::from(1i32.wrapping_shl(ffs(pgsize_bitmap))) as u64
}

/// Applies `op` to every word part covering bits `start..start + len`, clipped to `map`.
fn for_each_word_mask(map: &mut [u64], start: u64, len: u64, mut op: impl FnMut(&mut u64, u64)) {
    let total = (map.len() as u64).saturating_mul(WORD_BITS);
    let end = start.saturating_add(len).min(total);
    let mut bit = start;
    while bit < end {
        let word = bit / WORD_BITS;
        let lo = bit % WORD_BITS;
        let hi = (end - word * WORD_BITS).min(WORD_BITS);
        let mask = (u64::MAX >> (WORD_BITS - (hi - lo))) << lo;
        if let Some(w) = usize::try_from(word).ok().and_then(|i| map.get_mut(i)) {
            op(w, mask);
        }
        bit = word * WORD_BITS + hi;
    }
}

/// `bitmap_set(map, start, len)`.
pub(crate) fn set_bits(map: &mut [u64], start: u64, len: u64) {
    for_each_word_mask(map, start, len, |w, mask| *w |= mask);
}

/// `bitmap_clear(map, start, len)`.
pub(crate) fn clear_bits(map: &mut [u64], start: u64, len: u64) {
    for_each_word_mask(map, start, len, |w, mask| *w &= !mask);
}

/// Whether bit `bit` is set (for callers and tests).
pub(crate) fn test_bit(map: &[u64], bit: u64) -> bool {
    usize::try_from(bit / WORD_BITS)
        .ok()
        .and_then(|i| map.get(i))
        .is_some_and(|w| w & (1 << (bit % WORD_BITS)) != 0)
}

/// `bitmap_shift_left(map, map, shift, nbits)` with a run-time `nbits`, i.e.
/// `__bitmap_shift_left` in place: the words covering `nbits` move up by `shift` bits, bits
/// pushed out of the last of them are lost, nothing above is masked.
pub(crate) fn shift_left(map: &mut [u64], shift: u64, nbits: u64) {
    let lim = nbits.div_ceil(WORD_BITS).min(map.len() as u64);
    let off = shift / WORD_BITS;
    let rem = shift % WORD_BITS;
    // Walk down so every source word is read before it is overwritten.
    let mut k = lim.saturating_sub(off);
    while k > 0 {
        k -= 1;
        let get = |i: u64| usize::try_from(i).ok().and_then(|i| map.get(i)).copied();
        let upper = get(k).unwrap_or(0) << rem;
        let lower = if rem != 0 && k > 0 {
            get(k - 1).unwrap_or(0) >> (WORD_BITS - rem)
        } else {
            0
        };
        let dst = k.checked_add(off).and_then(|i| usize::try_from(i).ok());
        if let Some(dst) = dst.and_then(|i| map.get_mut(i)) {
            *dst = upper | lower;
        }
    }
    let zeroed = usize::try_from(off).unwrap_or(usize::MAX).min(map.len());
    if let Some(low) = map.get_mut(..zeroed) {
        low.fill(0);
    }
}

/// Where one mapping's bits land in a user bitmap that starts at `base_iova`
/// (`update_user_bitmap`, `:1270`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CopyPlan {
    /// Pages of the mapping.
    pub(crate) nbits: u64,
    /// Index of the first user word written (`copy_offset`).
    pub(crate) word_offset: u64,
    /// Bit position of the mapping's first page in that word.
    pub(crate) shift: u64,
    /// Bytes copied to the user: `DIRTY_BITMAP_BYTES(nbits + shift)`.
    pub(crate) bytes: u64,
}

impl CopyPlan {
    /// `update_user_bitmap`'s offsets, for a mapping at `dma_iova` of `dma_size` bytes.
    pub(crate) fn new(dma_iova: u64, dma_size: u64, base_iova: u64, pgsize: u64) -> Self {
        let shift_by = pgshift(pgsize);
        let nbits = dma_size >> shift_by;
        let bit_offset = dma_iova.wrapping_sub(base_iova) >> shift_by;
        let shift = bit_offset % WORD_BITS;
        CopyPlan {
            nbits,
            word_offset: bit_offset / WORD_BITS,
            shift,
            bytes: bitmap_bytes(nbits.wrapping_add(shift)),
        }
    }

    /// User address of the first word written: `bitmap + copy_offset` on a `u64 *`.
    pub(crate) fn user_addr(&self, data: u64) -> u64 {
        data.wrapping_add(self.word_offset.wrapping_mul(8))
    }

    /// Whether the user's word at [`Self::user_addr`] must be read first (`:1288`).
    pub(crate) fn needs_leftover(&self) -> bool {
        self.shift != 0
    }
}

/// First half of `update_user_bitmap` on the mapping's bitmap `map`: mark everything dirty
/// when `mark_all` (some IOMMU-backed group cannot report dirtying and the mapping is
/// IOMMU-mapped, `:1285-1286`), then shift the bits to the user word's bit position.
///
/// If [`CopyPlan::needs_leftover`], the caller then reads the user's word at
/// [`CopyPlan::user_addr`] (`EFAULT` leaves `map` shifted, as upstream) and passes it to
/// [`merge_leftover`]; finally it copies [`CopyPlan::bytes`] bytes of `map` out.
pub(crate) fn prepare_copy(map: &mut [u64], plan: &CopyPlan, mark_all: bool) {
    if mark_all {
        set_bits(map, 0, plan.nbits);
    }
    if plan.shift != 0 {
        shift_left(map, plan.shift, plan.nbits.wrapping_add(plan.shift));
    }
}

/// `bitmap_or(map, map, &leftover, shift)`: with a run-time bit count below 64 this ORs the
/// whole first word, not only its low `shift` bits.
pub(crate) fn merge_leftover(map: &mut [u64], leftover: u64) {
    if let Some(first) = map.first_mut() {
        *first |= leftover;
    }
}

/// After reporting through `VFIO_IOMMU_DIRTY_PAGES` (`:1339-1346`): clear the mapping's first
/// `dma_size >> pgshift` bits; the caller then sets [`pinned_page_bit`] for every page still
/// pinned. Bits the shift moved above that count stay, as upstream.
pub(crate) fn reset_after_report(map: &mut [u64], dma_size: u64, pgsize: u64) {
    clear_bits(map, 0, dma_size >> pgshift(pgsize));
}

/// The bit of a page pinned at `iova` in the mapping at `dma_iova` (`:274`, `:990`): pinned
/// pages count as dirty.
pub(crate) fn pinned_page_bit(dma_iova: u64, iova: u64, pgsize: u64) -> u64 {
    iova.wrapping_sub(dma_iova) >> pgshift(pgsize)
}

/// Bits `vfio_dma_rw` marks after writing `copied > 0` bytes at `offset` into a mapping
/// (`:3183-3185`): every page the write touched. Returns `(first bit, count)`.
pub(crate) fn rw_dirty_bits(offset: u64, copied: u64, pgsize: u64) -> (u64, u64) {
    let shift_by = pgshift(pgsize);
    let first = offset >> shift_by;
    let last = offset.wrapping_add(copied).wrapping_sub(1) >> shift_by;
    (first, last.wrapping_sub(first).wrapping_add(1))
}

/// The three `VFIO_IOMMU_DIRTY_PAGES` operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DirtyOp {
    /// Start tracking: allocate every mapping's bitmap.
    Start,
    /// Stop tracking: free them.
    Stop,
    /// Report and reset a range's bits.
    GetBitmap,
}

/// `vfio_iommu_type1_dirty_pages` before reading anything (`:2977`): v2 containers only.
pub(crate) fn check_dirty_allowed(v2: bool) -> Result<(), Errno> {
    if v2 {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// The header of `VFIO_IOMMU_DIRTY_PAGES` (`:2985-2990`): known flags, exactly one of them.
/// A zero `flags` passes the `__ffs != __fls` test on x86-64 and falls through to the final
/// `EINVAL` (`:3078`), which is the same answer.
pub(crate) fn check_dirty_header(argsz: u32, flags: u32) -> Result<DirtyOp, Errno> {
    let mask = DIRTY_PAGES_FLAG_START | DIRTY_PAGES_FLAG_STOP | DIRTY_PAGES_FLAG_GET_BITMAP;
    if argsz < DIRTY_MINSZ || flags & !mask != 0 || flags.count_ones() != 1 {
        return Err(Errno::EINVAL);
    }
    Ok(match flags {
        DIRTY_PAGES_FLAG_START => DirtyOp::Start,
        DIRTY_PAGES_FLAG_STOP => DirtyOp::Stop,
        _ => DirtyOp::GetBitmap,
    })
}

/// `struct vfio_iommu_type1_dirty_bitmap_get`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GetBitmapArgs {
    /// First IOVA of the range.
    pub(crate) iova: u64,
    /// Size of the range.
    pub(crate) size: u64,
    /// The user's bitmap.
    pub(crate) bitmap: BitmapArg,
}

/// `GET_BITMAP` before reading the range (`:3017-3018`): `argsz` must cover it.
pub(crate) fn check_get_bitmap_argsz(argsz: u32) -> Result<(), Errno> {
    let data_size = argsz.wrapping_sub(DIRTY_MINSZ);
    if data_size == 0 || data_size < DIRTY_GET_SIZE {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `GET_BITMAP` checks on the range before the lock (`:3024-3041`); returns the last IOVA.
/// The caller adds `access_ok(data, size)` (`EINVAL` too, so its position does not matter).
pub(crate) fn check_get_bitmap(range: &GetBitmapArgs) -> Result<u64, Errno> {
    let last_offset = range.size.checked_sub(1).ok_or(Errno::EINVAL)?;
    let last = range
        .iova
        .checked_add(last_offset)
        .ok_or(Errno::EOVERFLOW)?;
    verify_bitmap_size(
        request_pages(range.size, range.bitmap.pgsize),
        range.bitmap.size,
    )?;
    Ok(last)
}

/// `GET_BITMAP` checks under the lock (`:3045-3068`): the bitmap's page size must be the
/// smallest IOMMU page, the range aligned to it, and tracking on.
pub(crate) fn check_get_bitmap_locked(
    range: &GetBitmapArgs,
    min_pgsize: u64,
    tracking: bool,
) -> Result<(), Errno> {
    let misaligned = |v: u64| v & min_pgsize.wrapping_sub(1) != 0;
    if range.bitmap.pgsize != min_pgsize
        || misaligned(range.iova)
        || misaligned(range.size)
        || !tracking
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: u64 = 4096;

    #[test]
    fn sizes() {
        assert_eq!(bitmap_bytes(0), 0);
        assert_eq!(bitmap_bytes(1), 8);
        assert_eq!(bitmap_bytes(64), 8);
        assert_eq!(bitmap_bytes(65), 16);
        assert_eq!(SIZE_MAX, 1 << 28);
        // Wraps like C for absurd page counts.
        assert_eq!(bitmap_bytes(u64::MAX - 3), 0);
        // :246-247 - more than INT_MAX pages is EINVAL; :254 adds a spare word.
        assert_eq!(bitmap_words(PG, PG), Ok(2));
        assert_eq!(bitmap_words(64 * PG, PG), Ok(2));
        assert_eq!(bitmap_words(65 * PG, PG), Ok(3));
        assert_eq!(bitmap_words(PAGES_MAX * PG, PG), Ok(1 << 25 | 1));
        assert_eq!(bitmap_words((PAGES_MAX + 1) * PG, PG), Err(Errno::EINVAL));
    }

    #[test]
    fn verify_sizes() {
        // :1355-1357, each condition.
        assert_eq!(verify_bitmap_size(0, 8), Err(Errno::EINVAL));
        assert_eq!(verify_bitmap_size(1, 0), Err(Errno::EINVAL));
        assert_eq!(verify_bitmap_size(1, SIZE_MAX + 1), Err(Errno::EINVAL));
        assert_eq!(verify_bitmap_size(65, 8), Err(Errno::EINVAL));
        assert_eq!(verify_bitmap_size(65, 16), Ok(()));
        assert_eq!(verify_bitmap_size(PAGES_MAX, SIZE_MAX), Ok(()));
        // pgsize 0 shifts by 0 on x86-64.
        assert_eq!(request_pages(0x2000, 0), 0x2000);
        assert_eq!(request_pages(0x2000, PG), 2);
    }

    #[test]
    fn start_pgsize_is_an_int_shift() {
        assert_eq!(start_pgsize(0x1000), 0x1000);
        assert_eq!(start_pgsize(1 << 31), 0xffff_ffff_8000_0000);
        assert_eq!(start_pgsize(1 << 33), 2);
        assert_eq!(start_pgsize(0), 1);
    }

    #[test]
    fn bit_ops() {
        let mut map = [0u64; 3];
        set_bits(&mut map, 3, 70);
        assert_eq!(map, [!0b111, 0x1ff, 0]);
        clear_bits(&mut map, 0, 64);
        assert_eq!(map, [0, 0x1ff, 0]);
        // Clipped to the slice, never a panic.
        set_bits(&mut map, 150, 1000);
        assert_eq!(map[2], !0 << 22);
        set_bits(&mut map, u64::MAX - 1, u64::MAX);
        assert!(test_bit(&map, 191) && !test_bit(&map, 192) && !test_bit(&map, u64::MAX));
    }

    #[test]
    fn shift_left_matches_bitmap_c() {
        let mut map = [0x8000_0000_0000_0001, 0x1, 0xdead];
        // 2 words of bits: word 2 is beyond lim and untouched.
        shift_left(&mut map, 4, 128);
        assert_eq!(map, [0x10, 0x18, 0xdead]);
        // Bits leaving the last covered word are lost, nothing above is masked.
        let mut map = [u64::MAX, 0];
        shift_left(&mut map, 1, 10);
        assert_eq!(map, [u64::MAX - 1, 0]);
        // Whole-word shift zeroes the low words.
        let mut map = [1, 2, 3];
        shift_left(&mut map, 64, 192);
        assert_eq!(map, [0, 1, 2]);
    }

    #[test]
    fn copy_plan() {
        // A mapping 70 pages past the base: word 1, bit 6.
        let plan = CopyPlan::new(0x10_0000 + 70 * PG, 3 * PG, 0x10_0000, PG);
        assert_eq!(
            plan,
            CopyPlan {
                nbits: 3,
                word_offset: 1,
                shift: 6,
                bytes: 8
            }
        );
        assert_eq!(plan.user_addr(0x7000), 0x7008);
        assert!(plan.needs_leftover());
        let mut map = [0b101, 0];
        prepare_copy(&mut map, &plan, false);
        assert_eq!(map, [0b101 << 6, 0]);
        merge_leftover(&mut map, 0b11 | 1 << 40);
        // The whole leftover word is ORed, high bits included (bitmap_or semantics).
        assert_eq!(map, [0b101 << 6 | 0b11 | 1 << 40, 0]);

        let mut map = [0, 0];
        prepare_copy(&mut map, &CopyPlan::new(0, 3 * PG, 0, PG), true);
        assert_eq!(map, [0b111, 0]);
    }

    #[test]
    fn reset_keeps_shifted_out_bits() {
        let plan = CopyPlan::new(62 * PG, 4 * PG, 0, PG);
        let mut map = [0b1111, 0];
        prepare_copy(&mut map, &plan, false);
        assert_eq!(map, [0b11 << 62, 0b11]);
        reset_after_report(&mut map, 4 * PG, PG);
        assert_eq!(map, [0b11 << 62, 0b11]);
        let mut map = [0b1111, 0];
        reset_after_report(&mut map, 4 * PG, PG);
        assert_eq!(map, [0, 0]);
        assert_eq!(pinned_page_bit(0x10_0000, 0x10_3000, PG), 3);
    }

    #[test]
    fn rw_bits() {
        // :3183-3185 - a write of 2 bytes straddling a page boundary dirties 2 pages.
        assert_eq!(rw_dirty_bits(PG - 1, 2, PG), (0, 2));
        assert_eq!(rw_dirty_bits(PG, PG, PG), (1, 1));
        assert_eq!(rw_dirty_bits(0, 1, PG), (0, 1));
    }

    #[test]
    fn dirty_header() {
        // :2977-2978
        assert_eq!(check_dirty_allowed(false), Err(Errno::EACCES));
        assert_eq!(check_dirty_allowed(true), Ok(()));
        // :2985-2986
        assert_eq!(check_dirty_header(7, 1), Err(Errno::EINVAL));
        assert_eq!(check_dirty_header(8, 1 << 3), Err(Errno::EINVAL));
        // :2989-2990 - exactly one operation.
        assert_eq!(check_dirty_header(8, 3), Err(Errno::EINVAL));
        assert_eq!(check_dirty_header(8, 0), Err(Errno::EINVAL));
        assert_eq!(check_dirty_header(8, 1), Ok(DirtyOp::Start));
        assert_eq!(check_dirty_header(8, 2), Ok(DirtyOp::Stop));
        assert_eq!(check_dirty_header(8, 4), Ok(DirtyOp::GetBitmap));
    }

    #[test]
    fn get_bitmap_checks() {
        // :3017-3018
        assert_eq!(check_get_bitmap_argsz(8), Err(Errno::EINVAL));
        assert_eq!(check_get_bitmap_argsz(47), Err(Errno::EINVAL));
        assert_eq!(check_get_bitmap_argsz(48), Ok(()));
        let ok = GetBitmapArgs {
            iova: 0x10_0000,
            size: 128 * PG,
            bitmap: BitmapArg {
                pgsize: PG,
                size: 16,
                data: 0x7000,
            },
        };
        assert_eq!(check_get_bitmap(&ok), Ok(0x10_0000 + 128 * PG - 1));
        // :3030-3031 size 0
        assert_eq!(
            check_get_bitmap(&GetBitmapArgs { size: 0, ..ok }),
            Err(Errno::EINVAL)
        );
        // :3033-3034 overflow
        assert_eq!(
            check_get_bitmap(&GetBitmapArgs {
                iova: u64::MAX - PG + 1,
                size: 2 * PG,
                ..ok
            }),
            Err(Errno::EOVERFLOW)
        );
        // :3040-3043 bitmap too small
        let small = BitmapArg {
            size: 8,
            ..ok.bitmap
        };
        assert_eq!(
            check_get_bitmap(&GetBitmapArgs {
                bitmap: small,
                ..ok
            }),
            Err(Errno::EINVAL)
        );
        // :3050-3064 under the lock, each condition.
        assert_eq!(check_get_bitmap_locked(&ok, PG, true), Ok(()));
        assert_eq!(
            check_get_bitmap_locked(&ok, 0x20_0000, true),
            Err(Errno::EINVAL)
        );
        let odd = GetBitmapArgs {
            iova: 0x10_0800,
            ..ok
        };
        assert_eq!(check_get_bitmap_locked(&odd, PG, true), Err(Errno::EINVAL));
        let odd = GetBitmapArgs { size: 0x800, ..ok };
        assert_eq!(check_get_bitmap_locked(&odd, PG, true), Err(Errno::EINVAL));
        assert_eq!(check_get_bitmap_locked(&ok, PG, false), Err(Errno::EINVAL));
    }
}
