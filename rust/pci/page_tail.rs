// SPDX-License-Identifier: GPL-2.0

//! The rest of a sub-page BAR's page reserved in the resource tree, so that no other BAR (of a
//! device hot-added later) is assigned there while user space maps the whole page: what
//! vfio-pci's `vfio_pci_probe_mmaps` does with its "vfio sub-page reserved" dummy resources.
//!
//! C header: [`include/linux/ioport.h`](srctree/include/linux/ioport.h).

use super::device::raw;
use crate::bindings;
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    device::Bound,
    pci,
    prelude::*,
    types::Opaque, //
};

/// The name the reservation has in `/proc/iomem`, as upstream's.
const NAME: &CStr = c"vfio sub-page reserved";

/// A `struct resource` from the end of a BAR to the end of the page the BAR starts, requested
/// under the BAR's parent; released on drop.
///
/// # Invariants
///
/// `res` is in the resource tree (`request_resource` succeeded) until drop; being boxed, it
/// does not move while the tree points to it.
pub struct PageTail {
    res: KBox<Opaque<bindings::resource>>,
}

// SAFETY: The resource tree is protected by `resource_lock`; the value is only released.
unsafe impl Send for PageTail {}
// SAFETY: No method reads or writes the resource.
unsafe impl Sync for PageTail {}

impl PageTail {
    /// Reserves the rest of the page BAR `bar` of `pdev` starts. `EINVAL` unless the BAR is a
    /// memory BAR shorter than a page that starts one; `EBUSY` if the range is in use.
    pub fn reserve(pdev: &pci::Device<Bound>, bar: usize) -> Result<Self> {
        let page = 1u64 << bindings::PAGE_SHIFT;
        if bar >= 6 {
            return Err(EINVAL);
        }
        // SAFETY: The device is valid and bound: its resources are set and stay while bound.
        let bar_res = unsafe { &(*raw(pdev)).resource[bar] };
        let (start, end, flags, parent) =
            (bar_res.start, bar_res.end, bar_res.flags, bar_res.parent);
        let len = if end == 0 { 0 } else { end - start + 1 };
        // CAST: IORESOURCE_MEM is a bit of the `unsigned long` flags.
        if flags & bindings::IORESOURCE_MEM as usize == 0
            || len == 0
            || len >= page
            || start & (page - 1) != 0
            || parent.is_null()
        {
            return Err(EINVAL);
        }
        let res = KBox::new(
            Opaque::new(bindings::resource {
                start: end + 1,
                end: start + page - 1,
                name: NAME.as_char_ptr(),
                flags,
                ..Default::default()
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        // SAFETY: `parent` is the BAR's parent in the tree, which outlives the BAR's claim;
        // `res` is a fresh, unlinked resource that stays at its address (boxed) until drop.
        let ret = unsafe { bindings::request_resource(parent, res.get()) };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: requested above, boxed.
        Ok(Self { res })
    }
}

impl Drop for PageTail {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the resource is in the tree; it is taken out once.
        unsafe { bindings::release_resource(self.res.get()) };
    }
}
