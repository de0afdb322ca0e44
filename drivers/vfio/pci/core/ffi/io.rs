// SPDX-License-Identifier: GPL-2.0

//! The exports variant drivers use to reach device memory and config space the way the core
//! does (`vfio_pci_core_do_io_rw`, `vfio_pci_core_ioread*`/`iowrite*`,
//! `vfio_pci_config_rw_single`, `vfio_pci_vmf_insert_pfn`,
//! `vfio_pci_core_range_intersect_range`): the same checks of memory decoding under
//! `memory_lock`, on mappings the driver passes in.

use super::CoreDev;
use crate::{
    enable,
    io_steps::{
        range_intersect,
        IoSpan, //
    },
    kernel_ext::{
        bindings,
        pci::IoMem,
        pfn_vma::{
            Fault,
            VM_FAULT_SIGBUS, //
        },
    },
    rdwr,
};
use kernel::prelude::*;

/// A C `ssize_t` result.
fn to_ssize(r: Result<usize>) -> isize {
    // CAST: Sizes of one access fit; errnos are small negatives.
    r.map_or_else(|e| e.to_errno() as isize, |n| n as isize)
}

/// A view of the driver's `__iomem` mapping `io`, unbounded: the driver vouches for offsets.
///
/// # Safety
///
/// `io` maps what the driver accesses through it, for the call.
unsafe fn io_mem(io: *mut c_void) -> Result<IoMem> {
    // SAFETY: Per the function contract.
    unsafe { IoMem::from_raw(io, usize::MAX) }
}

/// `vfio_pci_core_do_io_rw`: `count` bytes at `off` of `io` to or from the user's `buf`, the
/// range `[x_start, x_end)` skipped, accesses at most `max_width` bytes wide.
///
/// # Safety
///
/// The exports' contract (module documentation of `exports`); `io` maps the range accessed.
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_do_io_rw(
    vdev: *mut bindings::vfio_pci_core_device,
    test_mem: bool,
    io: *mut c_void,
    buf: *mut c_char,
    off: i64,
    count: usize,
    x_start: usize,
    x_end: usize,
    iswrite: bool,
    max_width: bindings::vfio_pci_io_width,
) -> isize {
    // SAFETY: The exports' contract.
    let (vdev, io) = unsafe { (CoreDev::from_raw(vdev), io_mem(io)) };
    let span = IoSpan {
        x_start: x_start as u64,
        x_end: x_end as u64,
        max_width: max_width as usize,
        test_mem,
    };
    to_ssize(io.and_then(|io| {
        // CAST: Offsets into a BAR are not negative.
        rdwr::do_io_rw(vdev, &io, &span, buf as usize, off as u64, count, iswrite)
    }))
}

/// Generates `vfio_pci_core_ioread<N>` and `vfio_pci_core_iowrite<N>`.
macro_rules! io_exports {
    ($($read:ident $write:ident $ty:ty, $r:ident $w:ident;)*) => {$(
        /// One read, `EIO` while memory decoding is off (with `test_mem`).
        ///
        /// # Safety
        ///
        /// The exports' contract; `io` maps the register and `val` is writable.
        #[no_mangle]
        unsafe extern "C" fn $read(
            vdev: *mut bindings::vfio_pci_core_device,
            test_mem: bool,
            val: *mut $ty,
            io: *mut c_void,
        ) -> c_int {
            // SAFETY: The exports' contract.
            let (vdev, io) = unsafe { (CoreDev::from_raw(vdev), io_mem(io)) };
            let r = io.and_then(|io| rdwr::with_memory(vdev, test_mem, || io.$r(0)));
            match r {
                Ok(v) => {
                    // SAFETY: `val` is writable (contract).
                    unsafe { *val = v };
                    0
                }
                Err(e) => e.to_errno(),
            }
        }

        /// One write, `EIO` while memory decoding is off (with `test_mem`).
        ///
        /// # Safety
        ///
        /// The exports' contract; `io` maps the register.
        #[no_mangle]
        unsafe extern "C" fn $write(
            vdev: *mut bindings::vfio_pci_core_device,
            test_mem: bool,
            val: $ty,
            io: *mut c_void,
        ) -> c_int {
            // SAFETY: The exports' contract.
            let (vdev, io) = unsafe { (CoreDev::from_raw(vdev), io_mem(io)) };
            let r = io.and_then(|io| rdwr::with_memory(vdev, test_mem, || io.$w(val, 0)));
            r.map_or_else(|e| e.to_errno(), |()| 0)
        }
    )*};
}

io_exports! {
    vfio_pci_core_ioread8 vfio_pci_core_iowrite8 u8, read8 write8;
    vfio_pci_core_ioread16 vfio_pci_core_iowrite16 u16, read16 write16;
    vfio_pci_core_ioread32 vfio_pci_core_iowrite32 u32, read32 write32;
    vfio_pci_core_ioread64 vfio_pci_core_iowrite64 u64, read64 write64;
}

/// `vfio_pci_config_rw_single`: one aligned chunk of a config access at `*ppos` (not
/// advanced); the bytes done.
///
/// # Safety
///
/// The exports' contract; `ppos` is valid.
#[no_mangle]
unsafe extern "C" fn vfio_pci_config_rw_single(
    vdev: *mut bindings::vfio_pci_core_device,
    buf: *mut c_char,
    count: usize,
    ppos: *mut i64,
    iswrite: bool,
) -> isize {
    // SAFETY: The exports' contract.
    let (vdev, pos) = unsafe { (CoreDev::from_raw(vdev), *ppos) };
    let r = enable::with_config(vdev, |cfg, backend| {
        cfg.rw_single(
            backend,
            &mut rdwr::User(buf as usize),
            0,
            pos,
            count,
            iswrite,
        )
    });
    to_ssize(r.ok_or(ENODEV).and_then(|r| r.map_err(Error::from)))
}

/// `vfio_pci_vmf_insert_pfn`: maps `pfn` at a fault of a driver's BAR mapping (order 0 or
/// huge), `SIGBUS` in low power or with memory decoding off. The caller holds `memory_lock`
/// for reading.
///
/// # Safety
///
/// The exports' contract; `vmf` is a fault in progress on the driver's `VM_PFNMAP` VMA.
#[no_mangle]
unsafe extern "C" fn vfio_pci_vmf_insert_pfn(
    vdev: *mut bindings::vfio_pci_core_device,
    vmf: *mut bindings::vm_fault,
    pfn: c_ulong,
    order: c_uint,
) -> bindings::vm_fault_t {
    // SAFETY: The exports' contract.
    let (vdev, fault) = unsafe { (CoreDev::from_raw(vdev), Fault::from_raw(vmf, order)) };
    if vdev.pm_runtime_engaged() || !rdwr::memory_enabled(vdev) {
        return VM_FAULT_SIGBUS;
    }
    fault.insert_pfn(pfn)
}

/// `vfio_pci_core_range_intersect_range`: where the access `[buf_start, +buf_cnt)` meets the
/// register `[reg_start, +reg_cnt)`.
///
/// # Safety
///
/// The out pointers are writable.
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_range_intersect_range(
    buf_start: i64,
    buf_cnt: usize,
    reg_start: i64,
    reg_cnt: usize,
    buf_offset: *mut i64,
    intersect_count: *mut usize,
    register_offset: *mut usize,
) -> bool {
    match range_intersect(buf_start, buf_cnt, reg_start, reg_cnt) {
        Some((b, n, r)) => {
            // SAFETY: Writable (contract).
            unsafe {
                *buf_offset = b;
                *intersect_count = n;
                *register_offset = r;
            }
            true
        }
        None => false,
    }
}
