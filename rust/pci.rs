// SPDX-License-Identifier: GPL-2.0

//! PCI driver support that 7.3's `kernel::pci` lacks, for the Rust vfio-pci.
//!
//! 7.3's [`kernel::pci::Adapter`] stores a driver's data as drvdata only after `probe`
//! returns, and its [`kernel::pci::DeviceId`] cannot describe `driver_override`-only entries;
//! vfio-pci needs both (`vfio_pci_core_register_device` checks `dev_get_drvdata()` inside
//! probe), and `pci_add_dynid`, `sriov_configure`, `err_handler` and `driver_managed_dma`.
//!
//! - [`Driver`], [`Registration`]: a `struct pci_driver` whose probe installs the driver's
//!   data through a [`DrvDataSlot`] before returning ([`driver`]);
//! - [`DeviceId`], [`pci_device_table!`](crate::pci_device_table): id tables with
//!   `PCI_DRIVER_OVERRIDE_DEVICE_VFIO` entries ([`id`]);
//! - [`DeviceExt`]: the `struct pci_dev` operations of a bound device that vfio-pci's core
//!   uses, on [`kernel::pci::Device<Bound>`], with RAII guards for what must be undone
//!   ([`device`]);
//! - [`IoMap`]: a BAR requested and mapped with `pci_iomap` (memory or I/O ports), read and
//!   written 1, 2, 4 or 8 bytes at a time ([`iomap`]);
//! - [`PageTail`]: the rest of a sub-page BAR's page reserved, so user space may map it
//!   ([`page_tail`]);
//! - [`Topology`]: a device's address, IOMMU group, slot, and a walk of its bus and the buses
//!   below ([`topology`]).
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h).

pub mod device;
pub mod driver;
pub mod fields;
pub mod id;
pub mod iomap;
pub mod irq_vectors;
pub mod page_tail;
pub mod sriov;
pub mod topology;

pub use self::device::{
    as_bound,
    DeviceExt,
    Enabled,
    IntxExt,
    PowerState,
    Regions,
    ResourceFlags,
    SavedState,
    UserConfigRead, //
};
pub use self::driver::{
    ChannelState,
    DataRef,
    Driver,
    DrvDataSlot,
    ErsResult,
    Installed,
    Registration, //
};
pub use self::fields::DeviceFields;
pub use self::id::{
    DeviceId,
    IdTable,
    ANY_ID, //
};
pub use self::iomap::{
    IoMap,
    IoMem,
    RomMap, //
};
pub use self::page_tail::PageTail;
pub use self::topology::{
    device_at,
    Topology, //
};
