// SPDX-License-Identifier: GPL-2.0

//! Dirty page tracking of a type1 container: `VFIO_IOMMU_DIRTY_PAGES` (START, STOP,
//! GET_BITMAP), the per-mapping bitmaps, their copy to the user (also for
//! `VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP`) and the MIGRATION capability of `GET_INFO`.
//!
//! Pages count as dirty when a device pinned them (`pin_pages`), wrote them (`dma_rw`), or,
//! while an IOMMU-backed group without pinned-page scope is attached
//! (`num_non_pinned_groups`), whenever they are mapped. The decisions are `dirty_bitmap.rs`'s.
//!
//! Lock: `VfioIommu::inner` only (see `emulated.rs` for the order); user copies of the bitmaps
//! happen under it, as upstream's do.

use super::dirty_bitmap::{
    bitmap_words, check_dirty_allowed, check_dirty_header, check_get_bitmap,
    check_get_bitmap_argsz, check_get_bitmap_locked, merge_leftover, pinned_page_bit, prepare_copy,
    reset_after_report, set_bits, start_pgsize, BitmapArg, CopyPlan, DirtyOp, GetBitmapArgs,
    SIZE_MAX,
};
use super::dma::VfioDma;
use super::dma_map::DmaEntry;
use super::iommu::{Inner, VfioIommu};
use super::pgsize::{ffs, min_pgsize, shift_count};
use super::uapi::DIRTY_MINSZ;
use crate::errno::Errno;
use crate::kernel_ext::{
    uaccess_ext::read_user, uapi, user_mm::access_ok, vfio::info_cap::OwnedInfoCap,
};
use kernel::{
    prelude::*,
    transmute::AsBytes,
    uaccess::{UserPtr, UserSlice}, //
};

/// `vfio_dma_bitmap_alloc` + `vfio_dma_populate_bitmap`: a zeroed bitmap of `pgsize` pages
/// (one spare word for unaligned copies) with the device-pinned pages set.
pub(crate) fn alloc_bitmap(dma: &mut VfioDma, pgsize: u64) -> Result {
    let words = bitmap_words(dma.range().size, pgsize)?;
    dma.bitmap = Some(KVVec::from_elem(0u64, words, GFP_KERNEL)?);
    populate(dma, pgsize);
    Ok(())
}

/// `vfio_dma_populate_bitmap`: sets the bit of every device-pinned page.
fn populate(dma: &mut VfioDma, pgsize: u64) {
    let base = dma.range().iova;
    if let Some(map) = dma.bitmap.as_mut() {
        for iova in dma.pfns.iovas() {
            set_bits(map, pinned_page_bit(base, iova, pgsize), 1);
        }
    }
}

/// `vfio_iommu_populate_bitmap_full`: every mapped page is dirty.
pub(crate) fn populate_full(inner: &mut Inner) {
    let shift = shift_count(ffs(inner.pgsize_bitmap));
    let mut next = inner.dmas.first().map(|e| e.range().iova);
    while let Some(iova) = next {
        if let Some(dma) = inner.dmas.get_mut(iova) {
            let nbits = dma.range().size >> shift;
            if let Some(map) = dma.bitmap.as_mut() {
                set_bits(map, 0, nbits);
            }
        }
        next = inner.dmas.next(iova).map(|e| e.range().iova);
    }
}

/// A new mapping while tracking gets its bitmap (`:1792-1796`).
pub(crate) fn on_map(inner: &mut Inner, iova: u64) -> Result {
    if !inner.emu.dirty_tracking {
        return Ok(());
    }
    let pgsize = min_pgsize(inner.pgsize_bitmap);
    let dma = inner.dmas.get_mut(iova).ok_or(EINVAL)?;
    alloc_bitmap(dma, pgsize)
}

/// `vfio_dma_bitmap_alloc_all`: all or none.
fn alloc_all(inner: &mut Inner, pgsize: u64) -> Result {
    let mut next = inner.dmas.first().map(|e| e.range().iova);
    while let Some(iova) = next {
        if let Some(dma) = inner.dmas.get_mut(iova) {
            if let Err(e) = alloc_bitmap(dma, pgsize) {
                free_all(inner);
                return Err(e);
            }
        }
        next = inner.dmas.next(iova).map(|e| e.range().iova);
    }
    Ok(())
}

/// `vfio_dma_bitmap_free_all`.
fn free_all(inner: &mut Inner) {
    let mut next = inner.dmas.first().map(|e| e.range().iova);
    while let Some(iova) = next {
        if let Some(dma) = inner.dmas.get_mut(iova) {
            dma.bitmap = None;
        }
        next = inner.dmas.next(iova).map(|e| e.range().iova);
    }
}

/// `update_user_bitmap` (`t1:1270`): copies a mapping's bits into the user bitmap at `data`,
/// whose bit 0 is `base_iova`, merging with the bits already there in a shared first word.
/// `mark_all`: a non-pinned group may have dirtied the whole (mapped) range.
pub(crate) fn update_user_bitmap(
    dma: &mut VfioDma,
    data: u64,
    base_iova: u64,
    pgsize: u64,
    mark_all: bool,
) -> Result<(), Errno> {
    let range = *dma.range();
    let mark_all = mark_all && dma.mapped_size() != 0;
    let plan = CopyPlan::new(range.iova, range.size, base_iova, pgsize);
    let Some(map) = dma.bitmap.as_mut() else {
        return Err(Errno::EINVAL);
    };
    prepare_copy(map, &plan, mark_all);
    let user = plan.user_addr(data) as usize;
    if plan.needs_leftover() {
        let mut word = [0u8; 8];
        UserSlice::new(UserPtr::from_addr(user), 8)
            .reader()
            .read_slice(&mut word)
            .map_err(|_| Errno::EFAULT)?;
        merge_leftover(map, u64::from_ne_bytes(word));
    }
    let bytes = usize::try_from(plan.bytes).map_err(|_| Errno::EFAULT)?;
    let src = AsBytes::as_bytes(&map[..])
        .get(..bytes)
        .ok_or(Errno::EFAULT)?;
    UserSlice::new(UserPtr::from_addr(user), bytes)
        .writer()
        .write_slice(src)
        .map_err(|_| Errno::EFAULT)
}

/// `vfio_iova_dirty_bitmap` (`t1:1305`): reports and resets the bitmaps of the mappings in
/// `[iova, last]`, which must not cut one.
fn iova_dirty_bitmap(inner: &mut Inner, data: u64, iova: u64, last: u64, pgsize: u64) -> Result {
    inner.dmas.check_no_bisect(iova, last)?;
    let mark_all = inner.emu.num_non_pinned_groups != 0;
    let mut next = inner.dmas.first_in(iova, last).map(|e| e.range().iova);
    while let Some(at) = next.filter(|&i| i <= last) {
        if let Some(dma) = inner.dmas.get_mut(at) {
            if at >= iova {
                update_user_bitmap(dma, data, iova, pgsize, mark_all)?;
                // Pinned pages stay dirty; what `dma_rw` wrote and unpinned pages do not.
                let size = dma.range().size;
                if let Some(map) = dma.bitmap.as_mut() {
                    reset_after_report(map, size, pgsize);
                }
                populate(dma, pgsize);
            }
        }
        next = inner.dmas.next(at).map(|e| e.range().iova);
    }
    Ok(())
}

/// The MIGRATION capability (`vfio_iommu_migration_build_caps`, `t1:2807`): dirty bitmaps come
/// in the smallest IOMMU page size, at most [`SIZE_MAX`] bytes.
pub(crate) fn add_migration_cap(caps: &mut OwnedInfoCap, pgsize_bitmap: u64) -> Result {
    let mut payload = [0u8; 24];
    // flags (u32) = 0, 4 bytes of padding, then pgsize_bitmap and max_dirty_bitmap_size.
    payload[8..16].copy_from_slice(&min_pgsize(pgsize_bitmap).to_ne_bytes());
    payload[16..24].copy_from_slice(&SIZE_MAX.to_ne_bytes());
    caps.add(
        uapi::VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION as u16,
        1,
        &payload,
    )
}

/// `vfio_iommu_type1_dirty_pages` (`t1:2967`).
pub(crate) fn dirty_pages(iommu: &VfioIommu, arg: usize) -> Result {
    let v2 = iommu.inner.lock().v2;
    check_dirty_allowed(v2)?;
    // `DIRTY_MINSZ` bytes: the struct without its flexible `data`.
    let head: uapi::vfio_iommu_type1_dirty_bitmap = read_user(arg)?;
    let (argsz, flags) = (head.argsz, head.flags);
    match check_dirty_header(argsz, flags)? {
        DirtyOp::Start => {
            let mut inner = iommu.inner.lock();
            if !inner.emu.dirty_tracking {
                let pgsize = start_pgsize(inner.pgsize_bitmap);
                alloc_all(&mut inner, pgsize)?;
                inner.emu.dirty_tracking = true;
            }
            Ok(())
        }
        DirtyOp::Stop => {
            let mut inner = iommu.inner.lock();
            if inner.emu.dirty_tracking {
                inner.emu.dirty_tracking = false;
                free_all(&mut inner);
            }
            Ok(())
        }
        DirtyOp::GetBitmap => {
            check_get_bitmap_argsz(argsz)?;
            // `data`: a `struct vfio_iommu_type1_dirty_bitmap_get`.
            let b: uapi::vfio_iommu_type1_dirty_bitmap_get = read_user(arg + DIRTY_MINSZ as usize)?;
            let range = GetBitmapArgs {
                iova: b.iova,
                size: b.size,
                bitmap: BitmapArg {
                    pgsize: b.bitmap.pgsize,
                    size: b.bitmap.size,
                    data: b.bitmap.data.addr() as u64,
                },
            };
            // Upstream's order: size 0, overflow, `access_ok`, then the bitmap size.
            if range.size == 0 {
                return Err(EINVAL);
            }
            if range.iova.checked_add(range.size - 1).is_none() {
                return Err(EOVERFLOW);
            }
            if !access_ok(range.bitmap.data, range.bitmap.size) {
                return Err(EINVAL);
            }
            let last = check_get_bitmap(&range)?;
            let mut guard = iommu.inner.lock();
            let inner = &mut *guard;
            let pgsize = min_pgsize(inner.pgsize_bitmap);
            check_get_bitmap_locked(&range, pgsize, inner.emu.dirty_tracking)?;
            iova_dirty_bitmap(inner, range.bitmap.data, range.iova, last, pgsize)
        }
    }
}
