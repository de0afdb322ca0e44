// SPDX-License-Identifier: GPL-2.0

//! The buffer behind `struct vfio_info_cap`, where device drivers and IOMMU drivers build
//! capability chains.
//!
//! The buffer is `kmalloc` memory because C callers `kfree()` it after copying it to userspace.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::bindings;
use kernel::prelude::*;

/// A caller's `struct vfio_info_cap`, borrowed for one call.
pub struct InfoCapBuf<'a> {
    raw: &'a mut bindings::vfio_info_cap,
}

impl<'a> InfoCapBuf<'a> {
    /// Borrows a caller's capability buffer.
    ///
    /// # Safety
    ///
    /// `caps` must be valid for writes for `'a`, and its `buf` must be null or a `kmalloc`
    /// allocation of at least `size` bytes owned by it.
    pub unsafe fn from_raw(caps: *mut bindings::vfio_info_cap) -> Option<Self> {
        // SAFETY: Valid for `'a` per the function contract; null is rejected.
        unsafe { caps.as_mut() }.map(|raw| Self { raw })
    }

    /// Current length of the chain in bytes.
    #[expect(
        clippy::len_without_is_empty,
        reason = "a size for the caller, not a collection API"
    )]
    pub fn len(&self) -> usize {
        self.raw.size
    }

    /// The chain's bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.raw.buf.is_null() {
            return &mut [];
        }
        // SAFETY: By the `from_raw` contract `buf` holds `size` bytes owned by this buffer.
        unsafe { core::slice::from_raw_parts_mut(self.raw.buf.cast::<u8>(), self.raw.size) }
    }

    /// Grows the buffer by `extra` zeroed bytes, keeping its contents. On allocation failure the buffer is freed and
    /// emptied, as upstream's `vfio_info_cap_add` does, and `ENOMEM` returned.
    pub fn grow(&mut self, extra: usize) -> Result {
        let new_size = self.raw.size.checked_add(extra).ok_or(ENOMEM)?;
        // SAFETY: `buf` is null or a kmalloc allocation (the `from_raw` contract); krealloc
        // keeps the old contents and frees the old block only on success.
        let buf = unsafe {
            bindings::krealloc_node_align(
                self.raw.buf.cast(),
                new_size,
                1,
                bindings::GFP_KERNEL,
                bindings::NUMA_NO_NODE,
            )
        };
        if buf.is_null() {
            // SAFETY: On failure krealloc left the old block, still owned here.
            unsafe { bindings::kfree(self.raw.buf.cast()) };
            self.raw.buf = core::ptr::null_mut();
            self.raw.size = 0;
            return Err(ENOMEM);
        }
        // SAFETY: The new block has `new_size` bytes; the tail past the old size is ours to fill.
        unsafe { core::ptr::write_bytes(buf.cast::<u8>().add(self.raw.size), 0, extra) };
        self.raw.buf = buf.cast();
        self.raw.size = new_size;
        Ok(())
    }

    /// Pointer to the entry at `offset`, as returned to C callers.
    pub fn entry_ptr(&mut self, offset: usize) -> *mut bindings::vfio_info_cap_header {
        self.as_mut_slice()[offset..].as_mut_ptr().cast()
    }
}

/// Borrows a capability a C caller passes in (`struct vfio_info_cap_header` plus payload).
///
/// # Safety
///
/// `cap` must be valid for reads of `size` bytes for `'a`.
pub unsafe fn cap_bytes<'a>(cap: *const bindings::vfio_info_cap_header, size: usize) -> &'a [u8] {
    if cap.is_null() {
        return &[];
    }
    // SAFETY: Valid for `size` bytes per the function contract.
    unsafe { core::slice::from_raw_parts(cap.cast::<u8>(), size) }
}

/// A `struct vfio_info_cap` owned by the core for one request (drivers fill it through the
/// capability exports); its buffer is freed on drop.
pub struct OwnedInfoCap(bindings::vfio_info_cap);

impl OwnedInfoCap {
    /// An empty chain.
    #[expect(
        clippy::new_without_default,
        reason = "not a value type: `Default` would invite copies"
    )]
    pub fn new() -> Self {
        Self(bindings::vfio_info_cap::default())
    }

    /// The C struct, for a driver op to fill.
    pub fn raw_mut(&mut self) -> &mut bindings::vfio_info_cap {
        &mut self.0
    }

    /// The chain built so far.
    pub fn buf(&mut self) -> InfoCapBuf<'_> {
        // INVARIANT: `buf` is null or kmalloc'ed by the capability helpers, which are the only
        // writers of this struct besides `raw_mut`'s users (drivers calling those helpers).
        InfoCapBuf { raw: &mut self.0 }
    }
}

impl Drop for OwnedInfoCap {
    fn drop(&mut self) {
        // SAFETY: `buf` is null or a kmalloc allocation owned by this chain.
        unsafe { bindings::kfree(self.0.buf.cast()) };
    }
}

impl OwnedInfoCap {
    /// Appends a capability through the loaded core's `vfio_info_cap_add` export: a header
    /// with `id` and `version`, then `payload`.
    // Inline: calls a vfio.ko export (see kernel_ext.rs).
    #[inline]
    pub fn add(&mut self, id: u16, version: u16, payload: &[u8]) -> Result {
        let size = size_of::<bindings::vfio_info_cap_header>() + payload.len();
        // SAFETY: `self.0` is a valid chain; the export grows its kmalloc'ed buffer.
        let header = unsafe { bindings::vfio_info_cap_add(&mut self.0, size, id, version) };
        let header = kernel::error::from_err_ptr(header)?;
        // SAFETY: The export returned an entry of `size` bytes; the payload follows its header.
        unsafe {
            core::ptr::copy_nonoverlapping(
                payload.as_ptr(),
                header.cast::<u8>().add(size - payload.len()),
                payload.len(),
            )
        };
        Ok(())
    }

    /// Rebases the chain's `next` offsets by `offset` (`vfio_info_cap_shift` export), for
    /// copying it behind an info struct of that size.
    // Inline: calls a vfio.ko export (see kernel_ext.rs).
    #[inline]
    pub fn shift(&mut self, offset: usize) {
        // SAFETY: `self.0` is a valid chain.
        unsafe { bindings::vfio_info_cap_shift(&mut self.0, offset) };
    }

    /// The chain's bytes.
    pub fn bytes(&self) -> &[u8] {
        let raw = &self.0;
        if raw.buf.is_null() {
            return &[];
        }
        // SAFETY: `buf` holds `size` bytes owned by this chain.
        unsafe { core::slice::from_raw_parts(raw.buf.cast::<u8>(), raw.size) }
    }
}
