// SPDX-License-Identifier: GPL-2.0

//! PCI device ids (`struct pci_device_id`) with every field settable, `override_only`
//! included, for [`kernel::module_device_table!`] tables.
//!
//! C header: [`include/linux/mod_devicetable.h`](srctree/include/linux/mod_devicetable.h).

use kernel::{
    bindings,
    device_id::RawDeviceId, //
};

/// `PCI_ANY_ID`: matches any value of the field.
pub const ANY_ID: u32 = !0;

// The C constant is an `int` (-1); the field is `__u32`.
const _: () = assert!(bindings::PCI_ANY_ID as u32 == ANY_ID);

/// A `struct pci_device_id`.
///
/// Unlike [`kernel::pci::DeviceId`], it carries no per-entry driver data (tables are built
/// with `@none`, every `driver_data` is 0), and it can be an `override_only` entry, which the
/// PCI core matches only against a device whose `driver_override` names the driver.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct DeviceId(bindings::pci_device_id);

impl DeviceId {
    /// `PCI_DEVICE(vendor, device)`: any subsystem, any class.
    pub const fn new(vendor: u32, device: u32) -> Self {
        Self(bindings::pci_device_id {
            vendor,
            device,
            subvendor: ANY_ID,
            subdevice: ANY_ID,
            class: 0,
            class_mask: 0,
            driver_data: 0,
            override_only: 0,
        })
    }

    /// `PCI_DRIVER_OVERRIDE_DEVICE_VFIO(vendor, device)`: matches only a device whose
    /// `driver_override` is the driver's name (vfio-pci registers `(ANY_ID, ANY_ID)`); the
    /// module alias modpost makes of it is `vfio_pci:…`.
    pub const fn vfio_override(vendor: u32, device: u32) -> Self {
        let mut id = Self::new(vendor, device);
        id.0.override_only = bindings::PCI_ID_F_VFIO_DRIVER_OVERRIDE;
        id
    }

    /// The same entry restricted to one subsystem (`PCI_DEVICE_SUB`).
    pub const fn subsystem(mut self, subvendor: u32, subdevice: u32) -> Self {
        self.0.subvendor = subvendor;
        self.0.subdevice = subdevice;
        self
    }

    /// The same entry restricted to a class (`class & class_mask` must equal `class`).
    pub const fn class(mut self, class: u32, class_mask: u32) -> Self {
        self.0.class = class;
        self.0.class_mask = class_mask;
        self
    }

    /// `vendor`.
    pub const fn vendor(&self) -> u32 {
        self.0.vendor
    }

    /// `device`.
    pub const fn device(&self) -> u32 {
        self.0.device
    }

    /// `subvendor`.
    pub const fn subvendor(&self) -> u32 {
        self.0.subvendor
    }

    /// `subdevice`.
    pub const fn subdevice(&self) -> u32 {
        self.0.subdevice
    }

    /// `class`.
    pub const fn class_code(&self) -> u32 {
        self.0.class
    }

    /// `class_mask`.
    pub const fn class_mask(&self) -> u32 {
        self.0.class_mask
    }

    /// `override_only`: 0, or the `PCI_ID_F_*` flags of a `driver_override`-only entry.
    pub const fn override_only(&self) -> u32 {
        self.0.override_only
    }

    /// `driver_data` of the matched entry: 0 for a table entry, what `pci_add_dynid` or
    /// `new_id` gave for a dynamic id.
    pub const fn driver_data(&self) -> usize {
        self.0.driver_data
    }

    /// The id the PCI core passes to `probe`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct pci_device_id` valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::pci_device_id) -> &'a Self {
        // SAFETY: `DeviceId` is a transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }
}

// SAFETY: `DeviceId` is a `#[repr(transparent)]` wrapper of `struct pci_device_id` and adds no
// invariant, so it can be transmuted to `RawType`.
unsafe impl RawDeviceId for DeviceId {
    type RawType = bindings::pci_device_id;
}

/// A driver's id table: a zero-terminated array of [`DeviceId`], made by
/// [`pci_device_table!`](crate::pci_device_table).
pub type IdTable = &'static dyn kernel::device_id::IdTable<DeviceId, ()>;

/// Declares a PCI id table of [`DeviceId`]s, with its `MODULE_DEVICE_TABLE(pci, …)` symbol for
/// modpost's aliases.
///
/// # Examples
///
/// ```ignore
/// use vfio_rs_kernel_ext::pci::{DeviceId, ANY_ID};
///
/// vfio_rs_kernel_ext::pci_device_table!(VFIO_PCI_TABLE, [DeviceId::vfio_override(ANY_ID, ANY_ID)]);
/// ```
#[macro_export]
macro_rules! pci_device_table {
    ($name:ident, [$($id:expr),* $(,)?]) => {
        ::kernel::module_device_table!("pci", $crate::pci::DeviceId, $name, @none, [$($id),*]);
    };
}
