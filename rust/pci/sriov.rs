// SPDX-License-Identifier: GPL-2.0

//! SR-IOV of a PCI device: its physical function, enabling and disabling VFs, and the
//! `driver_override` a PF's driver puts on VFs as they appear (vfio-pci captures its VFs).
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h).

use super::device::raw;
use crate::bindings;
use kernel::{
    device::Bound,
    error::to_result,
    pci,
    prelude::*,
    str::CStr,
    sync::aref::ARef, //
};

/// SR-IOV operations and facts of a PCI device.
pub trait SriovExt {
    /// `pdev->is_physfn`: the device has an SR-IOV capability (it is a PF).
    fn is_physfn(&self) -> bool;

    /// `pci_physfn`: the PF of a VF, or the device itself.
    fn physfn(&self) -> ARef<pci::Device>;

    /// `device_set_driver_override`: only the driver named `name` may bind.
    fn set_driver_override(&self, name: &CStr) -> Result;

    /// The name of the bound driver (`pci_dev_driver(pdev)->name`), if any.
    fn driver_name(&self) -> Option<&CStr>;
}

impl SriovExt for pci::Device {
    fn is_physfn(&self) -> bool {
        // SAFETY: The device is valid; the bit is set at enumeration.
        unsafe { (*raw(self)).is_physfn() != 0 }
    }

    fn physfn(&self) -> ARef<pci::Device> {
        // SAFETY: The device is valid; a VF's `physfn` is its PF, which outlives it.
        let pf = unsafe {
            let p = raw(self);
            if (*p).is_virtfn() != 0 {
                (*p).__bindgen_anon_1.physfn
            } else {
                p
            }
        };
        // SAFETY: `pf` is a valid PCI device (above); `ARef::from` takes a reference.
        ARef::from(unsafe { &*pf.cast::<pci::Device>() })
    }

    fn set_driver_override(&self, name: &CStr) -> Result {
        let len = name.to_bytes().len();
        // SAFETY: The device is valid; the string is copied.
        to_result(unsafe {
            bindings::__device_set_driver_override(
                &raw mut (*raw(self)).dev,
                name.as_char_ptr(),
                len,
            )
        })
    }

    fn driver_name(&self) -> Option<&CStr> {
        // SAFETY: The device is valid; a bound driver's struct and name are static while it
        // stays bound, which callers (bus notifiers, the driver itself) ensure.
        unsafe {
            let drv = (*raw(self)).dev.driver;
            if drv.is_null() || (*drv).name.is_null() {
                None
            } else {
                Some(CStr::from_char_ptr((*drv).name))
            }
        }
    }
}

/// SR-IOV operations of a bound PF.
pub trait SriovPfExt {
    /// `pci_enable_sriov`: creates `nr_virtfn` VFs.
    fn enable_sriov(&self, nr_virtfn: i32) -> Result;

    /// `pci_disable_sriov`: removes the VFs.
    fn disable_sriov(&self);
}

impl SriovPfExt for pci::Device<Bound> {
    fn enable_sriov(&self, nr_virtfn: i32) -> Result {
        // SAFETY: The device is valid and bound.
        to_result(unsafe { bindings::pci_enable_sriov(raw(self), nr_virtfn) })
    }

    fn disable_sriov(&self) {
        // SAFETY: The device is valid and bound.
        unsafe { bindings::pci_disable_sriov(raw(self)) };
    }
}
