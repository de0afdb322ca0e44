// SPDX-License-Identifier: GPL-2.0

//! The capability chain a driver's `get_region_info_caps` adds to, through the core's
//! `vfio_info_add_capability` export (so it works on any core).

use crate::bindings;
use core::marker::PhantomData;
use kernel::prelude::*;

/// Size of `struct vfio_info_cap_header` (id, version, next).
const HEADER: usize = size_of::<bindings::vfio_info_cap_header>();
const _: () = assert!(HEADER == 8);

/// The core's `struct vfio_info_cap` for one `get_region_info_caps` call.
///
/// # Invariants
///
/// `raw` is the core's chain, valid for `'a`, grown only through the core's exports.
pub struct RegionInfoCaps<'a> {
    raw: *mut bindings::vfio_info_cap,
    _call: PhantomData<&'a mut bindings::vfio_info_cap>,
}

impl RegionInfoCaps<'_> {
    /// # Safety
    ///
    /// `raw` must be null or the core's chain, valid for `'a` and only used through this object
    /// meanwhile.
    pub(super) unsafe fn from_raw(raw: *mut bindings::vfio_info_cap) -> Option<Self> {
        // INVARIANT: Per the function contract; null is refused.
        (!raw.is_null()).then_some(Self {
            raw,
            _call: PhantomData,
        })
    }

    /// Appends capability `id` (of `version`) whose payload, after the header, is `body`
    /// (`vfio_info_add_capability`).
    // Inline: calls a vfio.ko export (see kernel_ext.rs).
    #[inline]
    pub fn add(&mut self, id: u16, version: u16, body: &[u8]) -> Result {
        let size = HEADER.checked_add(body.len()).ok_or(EINVAL)?;
        let mut cap = KVec::with_capacity(size, GFP_KERNEL)?;
        cap.extend_from_slice(&id.to_ne_bytes(), GFP_KERNEL)?;
        cap.extend_from_slice(&version.to_ne_bytes(), GFP_KERNEL)?;
        cap.extend_from_slice(&0u32.to_ne_bytes(), GFP_KERNEL)?;
        cap.extend_from_slice(body, GFP_KERNEL)?;
        // SAFETY: `raw` is the core's chain (type invariant); `cap` holds a header and `size`
        // bytes in all, which the export copies before returning.
        kernel::error::to_result(unsafe {
            bindings::vfio_info_add_capability(self.raw, cap.as_mut_ptr().cast(), size)
        })
    }

    /// Bytes in the chain so far.
    #[expect(
        clippy::len_without_is_empty,
        reason = "a size for the caller, not a collection API"
    )]
    pub fn len(&self) -> usize {
        // SAFETY: `raw` is valid (type invariant).
        unsafe { (*self.raw).size }
    }
}
