// SPDX-License-Identifier: GPL-2.0

//! `vfio_info_cap_add`, `vfio_info_cap_shift`, `vfio_info_add_capability`: the C-visible
//! capability chain helpers, over [`InfoCapBuf`] and the pure chain logic of [`info_cap_chain`].

use crate::{
    info_cap_chain,
    kernel_ext::vfio::info_cap::InfoCapBuf, //
};
use kernel::prelude::*;

/// Appends a zeroed entry of `size` bytes (rounded up to 8) and returns its offset.
pub(crate) fn add(caps: &mut InfoCapBuf<'_>, size: usize, id: u16, version: u16) -> Result<usize> {
    let size = info_cap_chain::aligned_size(size)?;
    let old = caps.len();
    caps.grow(size)?;
    info_cap_chain::append(caps.as_mut_slice(), old, id, version)?;
    Ok(old)
}

/// Rebases the chain's links by `offset`, where the chain will start in the user's reply.
pub(crate) fn shift(caps: &mut InfoCapBuf<'_>, offset: usize) {
    kernel::warn_on!(offset % info_cap_chain::ALIGN != 0);
    // Replies are far below 4 GiB; a wider offset cannot be represented in the chain anyway.
    info_cap_chain::shift(caps.as_mut_slice(), offset as u32);
}

/// Appends a copy of `cap` (header and payload, `cap.len()` bytes), keeping its id and version.
pub(crate) fn add_capability(caps: &mut InfoCapBuf<'_>, cap: &[u8]) -> Result {
    if cap.len() < info_cap_chain::HEADER_SIZE {
        return Err(EINVAL);
    }
    let id = u16::from_ne_bytes([cap[0], cap[1]]);
    let version = u16::from_ne_bytes([cap[2], cap[3]]);
    let at = add(caps, cap.len(), id, version)?;
    let hdr = info_cap_chain::HEADER_SIZE;
    caps.as_mut_slice()[at + hdr..at + cap.len()].copy_from_slice(&cap[hdr..]);
    Ok(())
}
