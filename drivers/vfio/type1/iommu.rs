// SPDX-License-Identifier: GPL-2.0

//! A container's type1 IOMMU (`struct vfio_iommu`): its mappings, usable IOVA ranges, IOMMU
//! domains and emulated-IOMMU groups, behind one mutex (`iommu->lock`), and the devices to
//! tell about unmaps behind another. Lock order (see `emulated.rs`): `notify` → `inner`.

use super::dma::{DmaTree, IovaVec};
use super::dma_map::{DmaEntry, DmaMap};
use super::domain::{copy_mappings, pin_map, unmap_unpin, Domain};
use super::emulated::EmuState;
use super::iova_ranges::{
    aper_conflict, aper_expand, aper_resize, copy_into, resv_conflict, resv_exclude, resv_refresh,
    sw_msi_base, IovaList, ResvRegion, ResvType,
};
use super::pgsize::{pgsize_bitmap, INITIAL_PGSIZE_BITMAP};
use super::uapi::{check_extension, open_is_v2, ContainerFacts};
use crate::kernel_ext::mutex::{new_plain_mutex, Mutex};
use crate::kernel_ext::{
    first_inline::FirstInline,
    inline_vec::InlineVec,
    iommu::IommuGroup,
    iommu_domain::IommuDomain,
    user_mm::{PageArray, RwData},
    vfio::{
        iommu_driver_impl::{DomainHandle, IommuDriverImpl},
        unmap_notify::{DmaUnmapList, NotifyDevice},
    },
};
use crate::module_params;
use core::pin::Pin;
use kernel::prelude::*;

/// What the lock protects.
pub(crate) struct Inner {
    /// DMA mappings.
    pub(crate) dmas: DmaMap<DmaTree>,
    /// Usable IOVA ranges (empty: no domain yet, anything goes).
    pub(crate) iova_list: IovaVec,
    /// IOMMU domains, each with its groups.
    pub(crate) domains: KVec<Domain>,
    /// Groups of emulated-IOMMU devices (mdev), which have no domain.
    pub(crate) emulated: KVec<IommuGroup>,
    /// Page sizes all domains support.
    pub(crate) pgsize_bitmap: u64,
    /// Opened as `VFIO_TYPE1v2_IOMMU`.
    pub(crate) v2: bool,
    /// Emulated devices and dirty tracking (`emulated.rs`, `dirty.rs`).
    pub(crate) emu: EmuState,
}

/// A container's type1 backend instance.
#[pin_data]
pub(crate) struct VfioIommu {
    #[pin]
    pub(crate) inner: Mutex<Inner>,
    /// Devices to call `dma_unmap` on (`device_list`, `device_list_lock`); taken before
    /// `inner`, never while holding it.
    #[pin]
    pub(crate) notify: Mutex<DmaUnmapList>,
}

/// Reserved regions of a container's groups: a group has a few, kept on the stack (no slab
/// allocation per attach).
struct GroupRegions(InlineVec<ResvRegion, 16>);

impl GroupRegions {
    fn new() -> Self {
        Self(InlineVec::new(ResvRegion {
            start: 0,
            length: 0,
            kind: ResvType::Reserved,
        }))
    }

    fn as_slice(&self) -> &[ResvRegion] {
        self.0.as_slice()
    }

    /// Adds the group's reserved regions, in the pure logic's terms (unknown types are left
    /// out).
    fn push_group(&mut self, group: &IommuGroup) -> Result {
        group.for_each_resv_region(|start, length, kind| match ResvType::from_raw(kind) {
            Some(kind) => Ok(self.0.push(
                ResvRegion {
                    start,
                    length,
                    kind,
                },
                GFP_KERNEL,
            )?),
            None => Ok(()),
        })
    }
}

/// A copy of `list` to work on (inline for a few ranges, else one allocation as it grows).
fn copy_of(list: &IovaVec) -> Result<IovaVec> {
    let mut copy = IovaVec::new();
    copy_into(list.ranges(), &mut copy)?;
    Ok(copy)
}

impl Inner {
    fn has_group(&self, group: &IommuGroup) -> bool {
        self.emulated.iter().any(|g| g.same(group))
            || self.domains.iter().any(|d| d.has_group(group))
    }

    fn update_pgsize_bitmap(&mut self) {
        self.pgsize_bitmap = pgsize_bitmap(self.domains.iter().map(|d| d.domain.pgsize_bitmap()));
    }

    /// Checks a freshly attached `domain` for `group` against the container and computes the
    /// IOVA list with it and the software MSI base (`:2299-2336`).
    fn admit(&self, domain: &IommuDomain, group: &IommuGroup) -> Result<(IovaVec, Option<u64>)> {
        let (start, end) = domain.aperture();
        let overlaps = |s, n| self.dmas.find_range(s, n).is_some();
        if aper_conflict(self.iova_list.ranges(), start, end, overlaps) {
            return Err(EINVAL);
        }
        let mut regions = GroupRegions::new();
        regions.push_group(group)?;
        let regions = regions.as_slice();
        if resv_conflict(regions.iter().copied(), overlaps) {
            return Err(EINVAL);
        }
        let mut copy = copy_of(&self.iova_list)?;
        aper_resize(&mut copy, start, end)?;
        resv_exclude(&mut copy, regions.iter().copied())?;
        let msi = sw_msi_base(regions.iter().copied());
        if !module_params::allow_unsafe_interrupts.get() && !group.has_isolated_msi() {
            pr_warn!(
                "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform\n"
            );
            return Err(EPERM);
        }
        Ok((copy, msi))
    }

    /// `vfio_iommu_replay`: puts every mapping into `new`, from its recorded runs (upstream:
    /// the first domain's translations), or by pinning when there is no domain yet. All or
    /// nothing.
    fn replay(&mut self, new: &Domain) -> Result {
        let no_huge = module_params::disable_hugepages.get();
        let new_only = core::slice::from_ref(new);
        let mut next = self.dmas.first().map(|e| e.range().iova);
        let mut failed = None;
        while let Some(iova) = next {
            let Some(dma) = self.dmas.get_mut(iova) else {
                break;
            };
            let res = match self.domains.first() {
                Some(_) => copy_mappings(new, dma),
                None => pin_map(new_only, dma, no_huge),
            };
            if let Err(e) = res {
                failed = Some((iova, e));
                break;
            }
            next = self.dmas.next(iova).map(|e| e.range().iova);
        }
        let Some((failed_at, err)) = failed else {
            return Ok(());
        };
        // Unwind every mapping up to and including the failed one.
        let mut next = self.dmas.first().map(|e| e.range().iova);
        while let Some(iova) = next.filter(|&i| i <= failed_at) {
            if let Some(dma) = self.dmas.get_mut(iova) {
                if self.domains.is_empty() {
                    unmap_unpin(new_only, dma);
                } else {
                    let range = *dma.range();
                    new.domain.unmap(range.iova, dma.mapped_size());
                }
            }
            next = self.dmas.next(iova).map(|e| e.range().iova);
        }
        Err(err)
    }

    /// `vfio_iommu_unmap_unpin_all`: removes every mapping.
    fn remove_all(&mut self) {
        let domains = &self.domains;
        self.dmas
            .remove_all(|mut dma| unmap_unpin(domains, &mut dma));
    }

    /// `vfio_iommu_unmap_unpin_reaccount`: the last domain goes while emulated groups stay;
    /// mappings stay, unpinned.
    fn unpin_all(&mut self) {
        let mut next = self.dmas.first().map(|e| e.range().iova);
        while let Some(iova) = next {
            if let Some(dma) = self.dmas.get_mut(iova) {
                unmap_unpin(&self.domains, dma);
            }
            next = self.dmas.next(iova).map(|e| e.range().iova);
        }
    }

    /// `vfio_iommu_resv_refresh` after a detach: the remaining groups' reserved regions.
    fn refreshed_iova_list(&self) -> Result<IovaVec> {
        let mut regions = GroupRegions::new();
        for d in self.domains.iter() {
            for g in d.groups.iter() {
                regions.push_group(g)?;
            }
        }
        let regions = regions.as_slice();
        let mut copy = copy_of(&self.iova_list)?;
        aper_expand(&mut copy, self.domains.iter().map(|d| d.domain.aperture()));
        resv_refresh(&mut copy, regions.iter().copied())?;
        Ok(copy)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // `vfio_iommu_type1_release`: mappings first, then the domains' groups.
        self.remove_all();
        for d in self.domains.iter() {
            for g in d.groups.iter() {
                d.domain.detach_group(g);
            }
        }
    }
}

impl IommuDriverImpl for VfioIommu {
    fn open(arg: u64) -> Result<Pin<KBox<Self>>> {
        let v2 = open_is_v2(arg)?;
        let limit = module_params::dma_entry_limit.get();
        KBox::pin_init(
            pin_init!(VfioIommu {
                inner <- new_plain_mutex!(Inner {
                    dmas: DmaMap::new(DmaTree::new(), limit),
                    iova_list: IovaVec::new(),
                    domains: KVec::new(),
                    emulated: KVec::new(),
                    pgsize_bitmap: INITIAL_PGSIZE_BITMAP,
                    v2,
                    emu: EmuState::new(),
                }),
                notify <- new_plain_mutex!(DmaUnmapList::new()),
            }),
            GFP_KERNEL,
        )
    }

    fn check_extension(this: Option<&Self>, ext: u64) -> isize {
        let facts = this.map(|this| {
            let inner = this.inner.lock();
            ContainerFacts {
                has_emulated: !inner.emulated.is_empty(),
                all_domains_coherent: inner.domains.iter().all(|d| d.enforce_cache_coherency),
            }
        });
        check_extension(facts, ext) as isize
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        super::ioctl::dispatch(self, cmd, arg)
    }

    /// `vfio_iommu_type1_group_iommu_domain` (`t1:3230`): the domain holding the group,
    /// looked up under the container lock; emulated groups have none (`ENODEV`).
    fn group_iommu_domain(&self, group: &IommuGroup) -> Result<DomainHandle> {
        let inner = self.inner.lock();
        inner
            .domains
            .iter()
            .find(|d| d.has_group(group))
            .map(|d| DomainHandle::of(&d.domain))
            .ok_or(ENODEV)
    }

    const EMULATED: bool = true;

    fn pin_pages(
        &self,
        group: &IommuGroup,
        iova: u64,
        npage: i32,
        prot: i32,
        pages: Option<PageArray<'_>>,
    ) -> Result<i32> {
        self.emu_pin_pages(group, iova, npage, prot, pages)
    }

    fn unpin_pages(&self, iova: u64, npage: i32) {
        self.emu_unpin_pages(iova, npage)
    }

    fn dma_rw(&self, iova: u64, data: RwData<'_>) -> Result {
        self.emu_dma_rw(iova, data)
    }

    fn register_device(&self, dev: &NotifyDevice) {
        self.emu_register_device(dev)
    }

    fn unregister_device(&self, dev: &NotifyDevice) {
        self.emu_unregister_device(dev)
    }

    fn attach_group(&self, group: &IommuGroup, emulated: bool) -> Result {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        // Attaching may need pinning, which an invalid vaddr forbids.
        if inner.dmas.vaddr_invalid_count() != 0 {
            return Err(EBUSY);
        }
        if inner.has_group(group) {
            return Err(EINVAL);
        }
        if emulated {
            inner.emulated.push(group.clone(), GFP_KERNEL)?;
            return Ok(());
        }
        inner.domains.reserve(1, GFP_KERNEL)?;
        let mut groups = FirstInline::new();
        groups.push_front_reserved(group.clone());
        let domain = IommuDomain::alloc_for_group(group)?;
        domain.attach_group(group)?;
        let (iova_list, msi) = match inner.admit(&domain, group) {
            Ok(v) => v,
            Err(e) => {
                domain.detach_group(group);
                return Err(e);
            }
        };
        let coherent = domain.enforce_cache_coherency();
        // A compatible domain (same IOMMU driver, same coherency) takes the group instead.
        for d in inner.domains.iter_mut() {
            if !d.domain.same_ops(&domain) || d.enforce_cache_coherency != coherent {
                continue;
            }
            d.groups.reserve_one(GFP_KERNEL)?;
            domain.detach_group(group);
            if d.domain.attach_group(group).is_ok() {
                d.groups.push_front_reserved(group.clone());
                inner.iova_list = iova_list;
                inner.scope_attach();
                return Ok(());
            }
            domain.attach_group(group)?;
        }
        let new = Domain {
            domain,
            groups,
            enforce_cache_coherency: coherent,
        };
        if let Some(base) = msi {
            match new.domain.get_msi_cookie(base) {
                Err(e) if e != ENODEV => {
                    new.domain.detach_group(group);
                    return Err(e);
                }
                _ => {}
            }
        }
        if let Err(e) = inner.replay(&new) {
            new.domain.detach_group(group);
            return Err(e);
        }
        inner.domains.push(new, GFP_KERNEL)?;
        inner.update_pgsize_bitmap();
        inner.iova_list = iova_list;
        inner.scope_attach();
        Ok(())
    }

    fn detach_group(&self, group: &IommuGroup) {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if let Some(i) = inner.emulated.iter().position(|g| g.same(group)) {
            let _ = inner.emulated.remove(i);
            if inner.emulated.is_empty() && inner.domains.is_empty() {
                inner.remove_all();
            }
            return;
        }
        let Some(di) = inner.domains.iter().position(|d| d.has_group(group)) else {
            return;
        };
        if let Some(d) = inner.domains.get_mut(di) {
            d.domain.detach_group(group);
            d.groups.remove_first_match(|g| g.same(group));
            let emptied = d.groups.is_empty();
            inner.scope_detach(group);
            if !emptied {
                if let Ok(list) = inner.refreshed_iova_list() {
                    inner.iova_list = list;
                }
                return;
            }
        }
        // The domain has no group left: it goes, and with the last one the mappings' pins.
        if inner.domains.len() == 1 {
            if inner.emulated.is_empty() {
                inner.remove_all();
            } else {
                inner.unpin_all();
            }
        }
        let _ = inner.domains.remove(di);
        inner.update_pgsize_bitmap();
        if let Ok(list) = inner.refreshed_iova_list() {
            inner.iova_list = list;
        }
    }
}
