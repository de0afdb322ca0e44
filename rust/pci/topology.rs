// SPDX-License-Identifier: GPL-2.0

//! Where a `struct pci_dev` sits in the PCI hierarchy, as [`Topology`] on a
//! [`pci::Device`] in any context: its address (segment, bus number, devfn), its IOMMU
//! group, whether it lies below another device's slot, and a walk of every device on its bus
//! and the buses below (`pci_walk_bus`) with a closure. What a VFIO PCI core needs to find the
//! devices a slot or bus reset affects.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h).

use super::device::raw;
use crate::{
    bindings,
    helpers,
    iommu::IommuGroup, //
};
use core::ptr::NonNull;
use kernel::{
    device::DeviceContext,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// A device's place in the PCI hierarchy.
pub trait Topology {
    /// `pci_domain_nr(pdev->bus)`: the PCI segment.
    fn domain_nr(&self) -> u32;

    /// `pdev->bus->number`.
    fn bus_number(&self) -> u8;

    /// `pdev->devfn`: device (bits 7-3) and function (bits 2-0).
    fn devfn(&self) -> u8;

    /// `iommu_group_get(&pdev->dev)`: the device's IOMMU group, `None` if it has none (not
    /// isolated).
    fn iommu_group(&self) -> Option<IommuGroup>;

    /// Whether this device is `dev`'s slot or below it: walking up from this device through
    /// the bridges above it, the first one on the slot's bus is in that slot (upstream's
    /// `vfio_pci_dev_below_slot(pdev, dev->slot)`). False when `dev` is in no slot.
    fn below_slot_of<Ctx: DeviceContext>(&self, dev: &pci::Device<Ctx>) -> bool;

    /// `pci_walk_bus(pdev->bus, ...)`: calls `f` on every device on this device's bus and the
    /// buses below it, depth first, until `f` fails; that error is returned. The PCI core's
    /// bus semaphore is held for reading around the walk, so `f` must not add or remove
    /// devices.
    fn walk_bus(&self, f: &mut dyn FnMut(&pci::Device) -> Result) -> Result;
}

/// What [`Topology::walk_bus`] hands its C callback.
struct Walk<'a> {
    f: &'a mut dyn FnMut(&pci::Device) -> Result,
    ret: Result,
}

/// `pci_walk_bus`'s callback: runs the closure, stops the walk at its first error.
///
/// # Safety
///
/// `pdev` is a device the walk holds (alive for the call); `data` is the [`Walk`] of the
/// [`Topology::walk_bus`] call running on this thread.
unsafe extern "C" fn walk_cb(pdev: *mut bindings::pci_dev, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Walk` its caller passed, which nothing else touches during the
    // walk (function contract).
    let walk = unsafe { &mut *data.cast::<Walk<'_>>() };
    // SAFETY: `pdev` is alive for the call (the walk holds the bus semaphore, function
    // contract); `pci::Device` is a transparent wrapper of `struct pci_dev`.
    let dev = unsafe { &*pdev.cast::<pci::Device>() };
    match (walk.f)(dev) {
        Ok(()) => 0,
        Err(e) => {
            walk.ret = Err(e);
            1
        }
    }
}

impl<Ctx: DeviceContext> Topology for pci::Device<Ctx> {
    fn domain_nr(&self) -> u32 {
        // SAFETY: The device is valid (type invariant of `pci::Device`), so is its bus.
        let nr = unsafe { helpers::vfio_rs_pci_domain_nr(raw(self)) };
        // CAST: Segments are 16-bit numbers, never negative.
        nr as u32
    }

    fn bus_number(&self) -> u8 {
        // SAFETY: The device is valid and so is its bus while it is; `number` is set at
        // enumeration.
        unsafe { (*(*raw(self)).bus).number }
    }

    fn devfn(&self) -> u8 {
        // SAFETY: The device is valid; `devfn` is set at enumeration.
        let devfn = unsafe { (*raw(self)).devfn };
        // CAST: `devfn` is 8 bits wide (an `unsigned int` in C).
        devfn as u8
    }

    fn iommu_group(&self) -> Option<IommuGroup> {
        // SAFETY: The device is valid, and so is its embedded `struct device`.
        unsafe { IommuGroup::of_device(&raw mut (*raw(self)).dev) }
    }

    fn below_slot_of<D: DeviceContext>(&self, dev: &pci::Device<D>) -> bool {
        // SAFETY: Both devices are valid. `dev`'s slot, when set, lives while `dev` does. Each
        // device holds a reference on its bus, and a bus on the bridge above it (`self`, NULL
        // for a root bus), so every device and bus met walking up from a valid device is valid.
        unsafe {
            let slot = (*raw(dev)).slot;
            if slot.is_null() {
                return false;
            }
            let mut pdev = raw(self);
            while !pdev.is_null() {
                let bus = (*pdev).bus;
                if bus == (*slot).bus {
                    return (*pdev).slot == slot;
                }
                pdev = (*bus).self_;
            }
        }
        false
    }

    fn walk_bus(&self, f: &mut dyn FnMut(&pci::Device) -> Result) -> Result {
        let mut walk = Walk { f, ret: Ok(()) };
        // SAFETY: The device is valid, so is its bus; `walk_cb` gets `walk`, which outlives the
        // walk and is only used by it on this thread.
        unsafe {
            bindings::pci_walk_bus(
                (*raw(self)).bus,
                Some(walk_cb),
                (&raw mut walk).cast::<c_void>(),
            )
        };
        walk.ret
    }
}

/// `pci_get_domain_bus_and_slot`: the device at `devfn` on bus `bus` of segment `domain`, with a
/// reference held, or `None`.
pub fn device_at(domain: u32, bus: u8, devfn: u8) -> Option<ARef<pci::Device>> {
    // CAST: Segment numbers are ints in C.
    let domain = domain as c_int;
    // SAFETY: Looks the device up under the PCI core's own locking; returns a new reference
    // or NULL.
    let pdev = unsafe {
        bindings::pci_get_domain_bus_and_slot(domain, c_uint::from(bus), c_uint::from(devfn))
    };
    // SAFETY: A non-NULL result is a valid `struct pci_dev` with a reference the caller owns,
    // which the `ARef` takes over (`pci::Device` is a transparent wrapper of it).
    NonNull::new(pdev).map(|p| unsafe { ARef::from_raw(p.cast::<pci::Device>()) })
}
