// SPDX-License-Identifier: GPL-2.0

//! BAR mmaps (`vfio_pci_core_mmap`, the fault handler `vfio_pci_mmap_huge_fault`): nothing is
//! mapped at mmap time; each fault inserts the BAR's frames (huge where aligned) while memory
//! decoding is on, under `memory_lock`, and `SIGBUS`es otherwise. Resets, power-state changes
//! and command-register writes zap the mappings (`CoreDev::zap_bars`) and later faults refill
//! them.

use super::{
    CoreDev,
    VFIO_PCI_OFFSET_SHIFT, //
};
use crate::{
    kernel_ext::{
        bindings,
        pci::DeviceFields,
        pfn_vma::{
            self,
            Fault,
            PfnFault,
            PfnVmaOps,
            VmFault,
            VM_FAULT_FALLBACK,
            VM_FAULT_SIGBUS, //
        },
        uapi,
    },
    rdwr,
};
use kernel::prelude::*;

/// `PAGE_SHIFT`.
const PAGE_SHIFT: u32 = bindings::PAGE_SHIFT;
/// The region index's position in `vm_pgoff`.
const INDEX_SHIFT: u32 = VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT;

/// The faults of BAR mappings.
struct BarFaults;

static BAR_VMA_OPS: PfnVmaOps<BarFaults> = PfnVmaOps::new();

impl PfnFault for BarFaults {
    /// `vfio_pci_mmap_huge_fault` with `vfio_pci_vmf_insert_pfn`.
    unsafe fn fault(private: *mut c_void, f: &Fault<'_>) -> VmFault {
        // SAFETY: `vfio_pci_core_mmap` stored the core device, which the mapping's file keeps
        // open.
        let vdev = unsafe { CoreDev::from_raw(private.cast()) };
        let page = 1usize << PAGE_SHIFT;
        let addr = f.address() & !((page << f.order()) - 1);
        let (start, end) = f.vma_range();
        let pgoff = f.vma_pgoff();
        let index = pgoff >> INDEX_SHIFT;
        let order = f.order();
        // A huge fault whose aligned block starts before the VMA (a mapping placed off the
        // block size): upstream's `is_aligned_for_order` refuses it before its arithmetic
        // matters; here the subtraction below must not underflow.
        if addr < start {
            return VM_FAULT_FALLBACK;
        }
        let bar_pfn = (vdev.pdev().resource(index).0 >> PAGE_SHIFT) as usize;
        let pfn = bar_pfn + (pgoff & ((1 << INDEX_SHIFT) - 1)) + ((addr - start) >> PAGE_SHIFT);
        // `is_aligned_for_order`.
        if order != 0 && (addr + (page << order) > end || pfn & ((1 << order) - 1) != 0) {
            return VM_FAULT_FALLBACK;
        }
        let _held = vdev.memory_lock().read();
        if vdev.pm_runtime_engaged() || !rdwr::memory_enabled(vdev) {
            return VM_FAULT_SIGBUS;
        }
        f.insert_pfn(pfn)
    }
}

/// `vfio_pci_core_mmap`: a shared mapping of a whole-page part of a BAR that may be mapped.
///
/// # Safety
///
/// Called from C with what upstream's prototype promises: a core device, and a VMA in its
/// mmap handler.
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_mmap(
    core_vdev: *mut bindings::vfio_device,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: `core_vdev` belongs to a core device; `vma` is being set up for us.
    let (vdev, v) = unsafe { (CoreDev::from_vdev(core_vdev), &*vma) };
    // SAFETY: Plain fields of an anonymous union.
    let (start, end) = unsafe {
        (
            v.__bindgen_anon_1.__bindgen_anon_1.vm_start,
            v.__bindgen_anon_1.__bindgen_anon_1.vm_end,
        )
    };
    // SAFETY: `vm_flags` is a plain read of the VMA being set up.
    let shared = unsafe { v.__bindgen_anon_2.vm_flags } & bindings::VM_SHARED != 0;
    // CAST: A page offset; the index is its high bits.
    let index = (v.vm_pgoff >> INDEX_SHIFT) as u32;
    if index >= uapi::VFIO_PCI_NUM_REGIONS + vdev.num_regions() || end < start || !shared {
        return EINVAL.to_errno();
    }
    if index >= uapi::VFIO_PCI_NUM_REGIONS {
        // SAFETY: `vma` is in its mmap handler.
        let r = unsafe { vdev.region_mmap(index - uapi::VFIO_PCI_NUM_REGIONS, vma) };
        return r.map_or_else(|e| e.to_errno(), |()| 0);
    }
    // The ROM and VGA are never mapped.
    if index >= uapi::VFIO_PCI_ROM_REGION_INDEX || !vdev.bar_mmap_supported(index as usize) {
        return EINVAL.to_errno();
    }
    let page = 1u64 << PAGE_SHIFT;
    let phys_len = (vdev.pdev().resource(index as usize).1 + page - 1) & !(page - 1);
    // CAST: Widening (`usize` is 64 bits where this builds).
    let (req_len, req_start) = (
        (end - start) as u64,
        ((v.vm_pgoff & ((1 << INDEX_SHIFT) - 1)) << PAGE_SHIFT) as u64,
    );
    if req_start + req_len > phys_len {
        return EINVAL.to_errno();
    }
    // The BAR must be reserved for us (mapped at enable).
    // SAFETY: The device file's mmap (the exports' contract). Unlocked: `open` is taken
    // around user copies elsewhere, so it must not be taken under `mmap_lock`.
    let bar = unsafe { vdev.opened() }.map_or(Err(ENODEV), |o| o.bar(index as usize).map(drop));
    if let Err(e) = bar {
        return e.to_errno();
    }
    // SAFETY: The VMA is in its mmap handler; the device stays alive while the mapping's file
    // is open, which the mapping keeps.
    unsafe { pfn_vma::setup(vma, vdev.raw().cast(), &BAR_VMA_OPS) };
    0
}
