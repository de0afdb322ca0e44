// SPDX-License-Identifier: GPL-2.0

//! The migration fields of `struct vfio_device` the core reads: drivers set them before
//! registering and never change them afterwards.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::kabi::vfio::device::RawDevice;

impl RawDevice {
    /// `migration_flags`: which `VFIO_MIGRATION_*` features the driver implements.
    pub(crate) fn migration_flags(&self) -> u32 {
        // SAFETY: Reading a field of the live struct, written by the driver before
        // registration only.
        unsafe { (*self.as_raw()).migration_flags }
    }
}
