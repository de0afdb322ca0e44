// SPDX-License-Identifier: GPL-2.0

//! User mappings of device memory by frame (`VM_PFNMAP`), filled in by a fault handler: what a
//! driver's `mmap` of a PCI BAR needs and 7.3's kernel crate lacks.
//!
//! [`setup`] turns a VMA being mapped into an uncached I/O mapping with the driver's private
//! data and [`PfnVmaOps<T>`], whose `fault` and `huge_fault` call [`PfnFault::fault`] with a
//! [`Fault`]; the handler decides the frame and inserts it with [`Fault::insert_pfn`] (huge
//! where the order allows), or fails the access ([`VM_FAULT_SIGBUS`]) or asks for a smaller
//! order ([`VM_FAULT_FALLBACK`]). Nothing is mapped at `mmap` time: a mapping can be zapped
//! (`unmap_mapping_range`) and refilled by faults when the device allows access again.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/huge_mm.h`](srctree/include/linux/huge_mm.h).

use crate::helpers;
use core::marker::PhantomData;
use kernel::{
    bindings,
    prelude::*, //
};

/// A `vm_fault_t`.
pub type VmFault = bindings::vm_fault_t;
/// The access fails with `SIGBUS`.
pub const VM_FAULT_SIGBUS: VmFault = bindings::vm_fault_reason_VM_FAULT_SIGBUS;
/// The fault is retried with a smaller order.
pub const VM_FAULT_FALLBACK: VmFault = bindings::vm_fault_reason_VM_FAULT_FALLBACK;

/// A fault on a mapping made by [`setup`].
pub trait PfnFault {
    /// Handles a fault of `f.order()` (0: one page).
    ///
    /// # Safety
    ///
    /// `private` is the pointer given to [`setup`] for the faulting VMA, and what it points to
    /// is alive (the caller of [`setup`] keeps it so while the mapping exists).
    unsafe fn fault(private: *mut c_void, f: &Fault<'_>) -> VmFault;
}

/// A fault being handled.
///
/// # Invariants
///
/// `vmf` is the kernel's `struct vm_fault` of a fault in progress on a VMA set up by [`setup`],
/// valid for `'a`.
pub struct Fault<'a> {
    vmf: *mut bindings::vm_fault,
    order: u32,
    _vmf: PhantomData<&'a bindings::vm_fault>,
}

impl Fault<'_> {
    /// The fault `vmf` of order `order`, from a C caller (a driver's fault handler passing it
    /// on).
    ///
    /// # Safety
    ///
    /// `vmf` is a fault in progress on a `VM_PFNMAP` VMA, valid for the returned value's life.
    pub unsafe fn from_raw(vmf: *mut bindings::vm_fault, order: u32) -> Self {
        // INVARIANT: Per the function contract (the VMA need not be set up by `setup`: only
        // `VM_PFNMAP` matters to the accessors).
        Self {
            vmf,
            order,
            _vmf: PhantomData,
        }
    }

    fn vma(&self) -> &bindings::vm_area_struct {
        // SAFETY: The faulting VMA is valid (and its mm locked) during the fault (type
        // invariant).
        unsafe { &*(*self.vmf).__bindgen_anon_1.vma }
    }

    /// The faulting address.
    pub fn address(&self) -> usize {
        // SAFETY: Valid during the fault (type invariant).
        unsafe { (*self.vmf).__bindgen_anon_1.address }
    }

    /// log2 of the pages asked for (0, `PMD_ORDER` or `PUD_ORDER`).
    pub fn order(&self) -> u32 {
        self.order
    }

    /// The VMA's start and end addresses.
    pub fn vma_range(&self) -> (usize, usize) {
        let vma = self.vma();
        // SAFETY: `vm_start`/`vm_end` sit in an anonymous union of plain fields.
        unsafe {
            (
                vma.__bindgen_anon_1.__bindgen_anon_1.vm_start,
                vma.__bindgen_anon_1.__bindgen_anon_1.vm_end,
            )
        }
    }

    /// The VMA's `vm_pgoff`: the mmap offset in pages.
    pub fn vma_pgoff(&self) -> usize {
        self.vma().vm_pgoff
    }

    /// Maps `pfn` (and, for a huge order, the frames after it) at the faulting address.
    pub fn insert_pfn(&self, pfn: usize) -> VmFault {
        // SAFETY: `vmf` is a fault in progress on a `VM_PFNMAP` VMA (type invariant), which may
        // be filled with any frame of the device.
        unsafe { helpers::vfio_rs_vmf_insert_pfn_order(self.vmf, pfn as c_ulong, self.order) }
    }
}

/// The `vm_operations_struct` of mappings handled by `T`, built in a `static` with
/// [`PfnVmaOps::new`].
pub struct PfnVmaOps<T>(bindings::vm_operations_struct, PhantomData<T>);

// SAFETY: The table holds function pointers only and is never written after it is built.
unsafe impl<T> Sync for PfnVmaOps<T> {}

impl<T: PfnFault> Default for PfnVmaOps<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: PfnFault> PfnVmaOps<T> {
    /// The table: `fault` (order 0) and, where the architecture maps huge PFNs, `huge_fault`.
    pub const fn new() -> Self {
        // SAFETY: All-zero is a valid `vm_operations_struct` (every member an optional
        // function pointer or plain data).
        let mut ops: bindings::vm_operations_struct = unsafe { core::mem::zeroed() };
        ops.fault = Some(Self::fault);
        #[cfg(CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP)]
        {
            ops.huge_fault = Some(Self::huge_fault);
        }
        Self(ops, PhantomData)
    }

    /// # Safety
    ///
    /// Called by the MM for a fault on a VMA whose `vm_ops` is this table.
    unsafe extern "C" fn fault(vmf: *mut bindings::vm_fault) -> VmFault {
        // SAFETY: As for `huge_fault`, with order 0.
        unsafe { Self::huge_fault(vmf, 0) }
    }

    /// # Safety
    ///
    /// Called by the MM for a fault on a VMA whose `vm_ops` is this table.
    unsafe extern "C" fn huge_fault(vmf: *mut bindings::vm_fault, order: c_uint) -> VmFault {
        // INVARIANT: A fault in progress on one of our VMAs.
        let f = Fault {
            vmf,
            order,
            _vmf: PhantomData,
        };
        // SAFETY: Only `setup` installs this table, with the private data `T` expects.
        unsafe { T::fault((*(*vmf).__bindgen_anon_1.vma).vm_private_data, &f) }
    }
}

/// Makes `vma`, being mapped by an `mmap` handler, a mapping of device frames filled by `T`'s
/// faults: private data `private`, uncached and decrypted, `VM_IO | VM_PFNMAP | VM_DONTEXPAND |
/// VM_DONTDUMP | VM_ALLOW_ANY_UNCACHED`.
///
/// # Safety
///
/// `vma` is a VMA in its `mmap` handler; `private` stays valid while the mapping exists, as
/// [`PfnFault::fault`] of `T` expects.
pub unsafe fn setup<T: PfnFault>(
    vma: *mut bindings::vm_area_struct,
    private: *mut c_void,
    ops: &'static PfnVmaOps<T>,
) {
    // SAFETY: Per the function contract; the table is static.
    unsafe { helpers::vfio_rs_pfn_vma_setup(vma, private, &ops.0) };
}
