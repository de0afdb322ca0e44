// SPDX-License-Identifier: GPL-2.0

//! System memory that is not the kernel's (firmware tables such as Intel's IGD OpRegion)
//! mapped with `memremap(MEMREMAP_WB)` and read as bytes: vfio-pci's IGD support.
//!
//! C header: [`include/linux/io.h`](srctree/include/linux/io.h).

use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// `len` bytes of physical memory mapped write-back; unmapped on drop.
///
/// # Invariants
///
/// `addr` is `memremap(phys, len, MEMREMAP_WB)`, mapping `len` readable bytes, until drop.
pub struct MemRemap {
    addr: NonNull<u8>,
    len: usize,
}

// SAFETY: The mapping is plain memory, read only through shared references.
unsafe impl Send for MemRemap {}
// SAFETY: As above: nothing writes through it.
unsafe impl Sync for MemRemap {}

impl MemRemap {
    /// Maps `len` bytes at physical address `phys` (`ENOMEM` if it cannot be mapped, as
    /// upstream's callers answer a failed `memremap`).
    pub fn new(phys: u64, len: usize) -> Result<Self> {
        // SAFETY: `memremap` checks the range itself and returns NULL when it cannot map it.
        let addr = unsafe { bindings::memremap(phys, len, bindings::MEMREMAP_WB) };
        let addr = NonNull::new(addr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: mapped above, `len` bytes.
        Ok(Self { addr, len })
    }

    /// The mapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: By the type invariant `addr` maps `len` readable bytes while `self` lives;
        // write-back memory is ordinary memory.
        unsafe { core::slice::from_raw_parts(self.addr.as_ptr(), self.len) }
    }
}

impl Drop for MemRemap {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `addr` came from `memremap` and is unmapped once.
        unsafe { bindings::memunmap(self.addr.as_ptr().cast()) };
    }
}
