// SPDX-License-Identifier: GPL-2.0

//! Container ioctls of the type1 backend: `VFIO_IOMMU_GET_INFO`, `VFIO_IOMMU_MAP_DMA`,
//! `VFIO_IOMMU_UNMAP_DMA` (`VFIO_IOMMU_DIRTY_PAGES` is `dirty.rs`). User copies happen
//! outside the container lock where upstream does them outside; the decisions are the pure
//! modules'.

use super::dirty_bitmap::BitmapArg;
use super::dma::VfioDma;
use super::dma_map::{MapPlan, UnmapHooks, UnmapProgress, UnmapStep};
use super::domain::{pin_map, unmap_unpin, Domain};
use super::iommu::VfioIommu;
use super::iova_ranges::{iova_cap_size, IovaList};
use super::map_args::{
    check_map, check_map_alignment, check_unmap, check_unmap_bitmap, check_unmap_header,
    MapDmaArgs, UnmapContext, UnmapDmaArgs,
};
use super::uapi::{
    BITMAP_ARG_SIZE, DIRTY_GET_SIZE, DIRTY_MINSZ, INFO_MINSZ, INFO_SIZE, MAP_MINSZ, UNMAP_MINSZ,
};
use crate::errno::Errno;
use crate::kernel_ext::{
    uaccess_ext::{read_user, read_user_prefix, write_user, write_user_bytes, write_user_prefix},
    uapi,
    user_mm::access_ok,
    user_pages::PinOwner,
    vfio::info_cap::OwnedInfoCap,
};
use crate::module_params;
use kernel::prelude::*;

// The pure modules spell the uAPI values and struct sizes out (`super::uapi`, host-tested);
// they must be the target's.
const _: () = {
    use super::uapi as t1;
    use core::mem::{offset_of, size_of};
    assert!(t1::VFIO_TYPE1_IOMMU == uapi::VFIO_TYPE1_IOMMU as u64);
    assert!(t1::VFIO_TYPE1V2_IOMMU == uapi::VFIO_TYPE1v2_IOMMU as u64);
    assert!(t1::VFIO_DMA_CC_IOMMU == uapi::VFIO_DMA_CC_IOMMU as u64);
    assert!(t1::VFIO_UNMAP_ALL == uapi::VFIO_UNMAP_ALL as u64);
    assert!(t1::VFIO_UPDATE_VADDR == uapi::VFIO_UPDATE_VADDR as u64);
    assert!(t1::MAP_FLAG_READ == uapi::VFIO_DMA_MAP_FLAG_READ);
    assert!(t1::MAP_FLAG_WRITE == uapi::VFIO_DMA_MAP_FLAG_WRITE);
    assert!(t1::MAP_FLAG_VADDR == uapi::VFIO_DMA_MAP_FLAG_VADDR);
    assert!(t1::UNMAP_FLAG_GET_DIRTY_BITMAP == uapi::VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP);
    assert!(t1::UNMAP_FLAG_ALL == uapi::VFIO_DMA_UNMAP_FLAG_ALL);
    assert!(t1::UNMAP_FLAG_VADDR == uapi::VFIO_DMA_UNMAP_FLAG_VADDR);
    assert!(t1::DIRTY_PAGES_FLAG_START == uapi::VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    assert!(t1::DIRTY_PAGES_FLAG_STOP == uapi::VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
    assert!(t1::DIRTY_PAGES_FLAG_GET_BITMAP == uapi::VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP);
    assert!(t1::IOMMU_READ == kernel::bindings::IOMMU_READ);
    assert!(t1::IOMMU_WRITE == kernel::bindings::IOMMU_WRITE);
    assert!(t1::IOMMU_CACHE == kernel::bindings::IOMMU_CACHE);
    assert!(INFO_SIZE as usize == size_of::<uapi::vfio_iommu_type1_info>());
    assert!(
        INFO_MINSZ as usize
            == offset_of!(uapi::vfio_iommu_type1_info, iova_pgsizes) + size_of::<u64>()
    );
    assert!(MAP_MINSZ as usize == size_of::<uapi::vfio_iommu_type1_dma_map>());
    assert!(MAP_MINSZ as usize == offset_of!(uapi::vfio_iommu_type1_dma_map, size) + 8);
    assert!(UNMAP_MINSZ as usize == size_of::<uapi::vfio_iommu_type1_dma_unmap>());
    assert!(UNMAP_MINSZ as usize == offset_of!(uapi::vfio_iommu_type1_dma_unmap, data));
    assert!(BITMAP_ARG_SIZE as usize == size_of::<uapi::vfio_bitmap>());
    assert!(DIRTY_MINSZ as usize == size_of::<uapi::vfio_iommu_type1_dirty_bitmap>());
    assert!(DIRTY_MINSZ as usize == offset_of!(uapi::vfio_iommu_type1_dirty_bitmap, data));
    assert!(DIRTY_GET_SIZE as usize == size_of::<uapi::vfio_iommu_type1_dirty_bitmap_get>());
};

/// Runs one container ioctl.
pub(crate) fn dispatch(iommu: &VfioIommu, cmd: u32, arg: usize) -> Result<isize> {
    match cmd {
        uapi::VFIO_IOMMU_GET_INFO => get_info(iommu, arg).map(|()| 0),
        uapi::VFIO_IOMMU_MAP_DMA => map_dma(iommu, arg).map(|()| 0),
        uapi::VFIO_IOMMU_UNMAP_DMA => unmap_dma(iommu, arg).map(|()| 0),
        uapi::VFIO_IOMMU_DIRTY_PAGES => super::dirty::dirty_pages(iommu, arg).map(|()| 0),
        _ => Err(ENOTTY),
    }
}

/// `vfio_iommu_type1_get_info` (`t1:2820`): page sizes, then the MIGRATION, DMA_AVAIL and
/// IOVA_RANGE capabilities.
fn get_info(iommu: &VfioIommu, arg: usize) -> Result {
    let head: uapi::vfio_iommu_type1_info = read_user_prefix(arg, INFO_MINSZ as usize)?;
    let argsz = head.argsz;
    if argsz < INFO_MINSZ {
        return Err(EINVAL);
    }
    let minsz = argsz.min(INFO_SIZE) as usize;
    let mut caps = OwnedInfoCap::new();
    let pgsizes = {
        let inner = iommu.inner.lock();
        super::dirty::add_migration_cap(&mut caps, inner.pgsize_bitmap)?;
        let avail = inner.dmas.dma_avail();
        caps.add(
            uapi::VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL as u16,
            1,
            &avail.to_ne_bytes(),
        )?;
        let ranges = inner.iova_list.ranges();
        if !ranges.is_empty() {
            let size = iova_cap_size(ranges.len()).ok_or(ENOMEM)?;
            let mut payload = KVec::with_capacity(size - 8, GFP_KERNEL)?;
            payload.extend_from_slice(&(ranges.len() as u32).to_ne_bytes(), GFP_KERNEL)?;
            payload.extend_from_slice(&0u32.to_ne_bytes(), GFP_KERNEL)?;
            for r in ranges.iter() {
                payload.extend_from_slice(&r.start.to_ne_bytes(), GFP_KERNEL)?;
                payload.extend_from_slice(&r.end.to_ne_bytes(), GFP_KERNEL)?;
            }
            caps.add(
                uapi::VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE as u16,
                1,
                &payload,
            )?;
        }
        inner.pgsize_bitmap
    };
    let mut flags = uapi::VFIO_IOMMU_INFO_PGSIZES;
    let mut out_argsz = argsz;
    let mut cap_offset = 0u32;
    let caps_len = caps.bytes().len();
    if caps_len != 0 {
        flags |= uapi::VFIO_IOMMU_INFO_CAPS;
        let total = INFO_SIZE as usize + caps_len;
        if (argsz as usize) < total {
            out_argsz = u32::try_from(total).map_err(|_| EINVAL)?;
        } else {
            caps.shift(INFO_SIZE as usize);
            write_user_bytes(arg + INFO_SIZE as usize, caps.bytes())?;
            cap_offset = INFO_SIZE;
        }
    }
    let info = uapi::vfio_iommu_type1_info {
        argsz: out_argsz,
        flags,
        iova_pgsizes: pgsizes,
        cap_offset,
        pad: 0,
    };
    write_user_prefix(arg, &info, minsz)
}

/// `vfio_iommu_type1_map_dma` + `vfio_dma_do_map` (`t1:2895`, `:1680`).
fn map_dma(iommu: &VfioIommu, arg: usize) -> Result {
    // `MAP_MINSZ` bytes: the whole struct.
    let b: uapi::vfio_iommu_type1_dma_map = read_user(arg)?;
    let args = MapDmaArgs {
        argsz: b.argsz,
        flags: b.flags,
        vaddr: b.vaddr,
        iova: b.iova,
        size: b.size,
    };
    let req = check_map(&args)?;
    let mut guard = iommu.inner.lock();
    let inner = &mut *guard;
    check_map_alignment(&req, inner.pgsize_bitmap)?;
    match inner.dmas.plan_map(&req, inner.iova_list.ranges())? {
        MapPlan::UpdateVaddr => {
            let owner = PinOwner::current()?;
            if let Some(dma) = inner.dmas.get_mut(req.iova) {
                // `vfio_change_dma_owner`: the charge moves to the caller's mm.
                if !dma.owner.same_mm(&owner) && dma.locked != 0 {
                    owner.account(dma.locked as i64, false)?;
                    let _ = dma.owner.account(-(dma.locked as i64), true);
                }
                dma.owner = owner;
            }
            inner
                .dmas
                .update_vaddr(req.iova, req.vaddr)
                .map_err(Error::from)
        }
        MapPlan::Create(new) => {
            let range = new.range();
            let dma = inner
                .dmas
                .insert_new(new, VfioDma::new(range, PinOwner::current()?))?;
            // Without an IOMMU domain (emulated groups only) pages are pinned on demand.
            let mut res = Ok(());
            if !inner.domains.is_empty() {
                let no_huge = module_params::disable_hugepages.get();
                res = pin_map(&inner.domains, dma, no_huge);
            }
            if res.is_ok() {
                res = super::dirty::on_map(inner, range.iova);
            }
            if res.is_err() {
                if let Some(mut dma) = inner.dmas.remove(range.iova) {
                    unmap_unpin(&inner.domains, &mut dma);
                }
            }
            res
        }
    }
}

/// Unmap hooks: each removed mapping reports its dirty bits (if asked) and is unmapped and
/// unpinned.
struct Teardown<'a> {
    domains: &'a [Domain],
    /// The user bitmap, whose bit 0 is the request's first IOVA.
    bitmap: BitmapArg,
    base_iova: u64,
    /// A non-pinned group is attached: mapped pages are all dirty.
    mark_all: bool,
}

impl UnmapHooks<VfioDma> for Teardown<'_> {
    fn report_dirty(&mut self, entry: &mut VfioDma) -> Result<(), Errno> {
        super::dirty::update_user_bitmap(
            entry,
            self.bitmap.data,
            self.base_iova,
            self.bitmap.pgsize,
            self.mark_all,
        )
    }

    fn removed(&mut self, entry: &mut VfioDma) {
        unmap_unpin(self.domains, entry);
    }
}

/// `vfio_iommu_type1_unmap_dma` + `vfio_dma_do_unmap` (`t1:2914`, `:1391`).
fn unmap_dma(iommu: &VfioIommu, arg: usize) -> Result {
    // `UNMAP_MINSZ` bytes: the struct without its flexible `data`.
    let mut b: uapi::vfio_iommu_type1_dma_unmap = read_user(arg)?;
    let args = UnmapDmaArgs {
        argsz: b.argsz,
        flags: b.flags,
        iova: b.iova,
        size: b.size,
    };
    check_unmap_header(&args)?;
    let mut bitmap = BitmapArg::default();
    if args.wants_bitmap() {
        // `data`: a `struct vfio_bitmap`.
        let bb: uapi::vfio_bitmap = read_user(arg + UNMAP_MINSZ as usize)?;
        bitmap = BitmapArg {
            pgsize: bb.pgsize,
            size: bb.size,
            data: bb.data.addr() as u64,
        };
        if !access_ok(bitmap.data, bitmap.size) {
            return Err(EINVAL);
        }
        check_unmap_bitmap(&args, &bitmap)?;
    }
    let mut progress = UnmapProgress::default();
    let mut checked = None;
    let unmapped = loop {
        let mut guard = iommu.inner.lock();
        let inner = &mut *guard;
        // Checked once; the rounds after a notification resume the walk (`again:`).
        let req = match checked {
            Some(req) => req,
            None => {
                let ctx = UnmapContext {
                    has_emulated: !inner.emulated.is_empty(),
                    pgsize_bitmap: inner.pgsize_bitmap,
                    dirty_tracking: inner.emu.dirty_tracking,
                };
                *checked.insert(check_unmap(&args, &bitmap, &ctx)?)
            }
        };
        let mut hooks = Teardown {
            domains: &inner.domains,
            bitmap,
            base_iova: req.iova,
            mark_all: inner.emu.num_non_pinned_groups != 0,
        };
        match inner
            .dmas
            .unmap_walk(&req, inner.v2, &mut progress, &mut hooks)?
        {
            UnmapStep::Done(size) => break size,
            UnmapStep::NotifyPinned { iova, size } => {
                // Devices unpin from their callback, which takes the container lock.
                drop(guard);
                iommu.emu_notify_unmap(iova, size);
            }
        }
    };
    b.size = unmapped;
    write_user(arg, &b)
}
