// SPDX-License-Identifier: GPL-2.0

//! What a VFIO PCI core reads of a `struct pci_dev` beyond 7.3's `kernel::pci::Device`: the
//! capability offsets, config-space size, flags set by enumeration and quirks, and the power
//! state, as [`DeviceFields`].
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h).

use super::device::raw;
use crate::bindings;
use kernel::{
    device::DeviceContext,
    pci, //
};

/// Read-only fields of a `struct pci_dev`.
///
/// Fields the PCI core changes at run time (`current_state`) are read once, as C reads them.
pub trait DeviceFields {
    /// `pdev->cfg_size`: 256 or 4096.
    fn config_size(&self) -> usize;
    /// `pdev->hdr_type`.
    fn hdr_type(&self) -> u8;
    /// `pdev->pm_cap`: offset of the PM capability, 0 if none.
    fn pm_cap(&self) -> u8;
    /// `pdev->msix_cap`: offset of the MSI-X capability, 0 if none.
    fn msix_cap(&self) -> u8;
    /// `pdev->msi_cap`: offset of the MSI capability, 0 if none.
    fn msi_cap(&self) -> u8;
    /// `pdev->pcie_cap`: offset of the PCIe capability, 0 if none.
    fn pcie_cap(&self) -> u8;
    /// `pdev->is_virtfn`.
    fn is_virtfn(&self) -> bool;
    /// `pdev->no_command_memory`.
    fn no_command_memory(&self) -> bool;
    /// `pdev->non_mappable_bars`.
    fn non_mappable_bars(&self) -> bool;
    /// `pci_intx_mask_supported`: INTx masking works (no `broken_intx_masking` quirk).
    fn intx_mask_supported(&self) -> bool;
    /// `pdev->irq`.
    fn irq(&self) -> u32;
    /// `pdev->pcie_flags_reg`.
    fn pcie_flags_reg(&self) -> u16;
    /// `pdev->romlen` if the PCI core keeps a shadow ROM (`pdev->rom`), else 0.
    fn shadow_rom_len(&self) -> u64;

    /// `pdev->rom`: the shadow ROM's physical address, 0 for none.
    fn shadow_rom_addr(&self) -> u64;
    /// `pdev->current_state` (a `pci_power_t`).
    fn current_state(&self) -> i32;
    /// `pci_is_root_bus(pdev->bus)`.
    fn on_root_bus(&self) -> bool;
    /// `pci_num_vf`: VFs enabled on this PF.
    fn num_vf(&self) -> u32;
    /// Resource `index` (0-5 the BARs, 6 the ROM): `pci_resource_start`, `pci_resource_len`
    /// and `pci_resource_flags`; zeroes past the ROM.
    fn resource(&self, index: usize) -> (u64, u64, u64);
}

impl<Ctx: DeviceContext> DeviceFields for pci::Device<Ctx> {
    fn config_size(&self) -> usize {
        // SAFETY: The device is valid (type invariant of `pci::Device`); enumeration set
        // `cfg_size` before any driver saw the device.
        let size = unsafe { (*raw(self)).cfg_size };
        // CAST: 256 or 4096.
        size as usize
    }

    fn hdr_type(&self) -> u8 {
        // SAFETY: The device is valid; `hdr_type` is set at enumeration.
        unsafe { (*raw(self)).hdr_type }
    }

    fn pm_cap(&self) -> u8 {
        // SAFETY: The device is valid; `pm_cap` is set at enumeration.
        unsafe { (*raw(self)).pm_cap }
    }

    fn msix_cap(&self) -> u8 {
        // SAFETY: The device is valid; `msix_cap` is set at enumeration.
        unsafe { (*raw(self)).msix_cap }
    }

    fn msi_cap(&self) -> u8 {
        // SAFETY: The device is valid; `msi_cap` is set at enumeration.
        unsafe { (*raw(self)).msi_cap }
    }

    fn pcie_cap(&self) -> u8 {
        // SAFETY: The device is valid; `pcie_cap` is set at enumeration.
        unsafe { (*raw(self)).pcie_cap }
    }

    fn is_virtfn(&self) -> bool {
        // SAFETY: The device is valid; the bit is set at enumeration.
        unsafe { (*raw(self)).is_virtfn() != 0 }
    }

    fn no_command_memory(&self) -> bool {
        // SAFETY: The device is valid; the bit is set at enumeration.
        unsafe { (*raw(self)).no_command_memory() != 0 }
    }

    fn non_mappable_bars(&self) -> bool {
        // SAFETY: The device is valid; the bit is set by quirks at enumeration.
        unsafe { (*raw(self)).non_mappable_bars() != 0 }
    }

    fn intx_mask_supported(&self) -> bool {
        // SAFETY: The device is valid; the bit is set by quirks at enumeration.
        unsafe { (*raw(self)).broken_intx_masking() == 0 }
    }

    fn irq(&self) -> u32 {
        // SAFETY: The device is valid.
        unsafe { (*raw(self)).irq }
    }

    fn pcie_flags_reg(&self) -> u16 {
        // SAFETY: The device is valid; set at enumeration.
        unsafe { (*raw(self)).pcie_flags_reg }
    }

    fn shadow_rom_addr(&self) -> u64 {
        // SAFETY: The device is valid; `rom` is set by platform code before drivers bind.
        unsafe { (*raw(self)).rom }
    }

    fn shadow_rom_len(&self) -> u64 {
        // SAFETY: The device is valid; `rom` and `romlen` are set by platform code before
        // drivers bind.
        unsafe {
            let pdev = raw(self);
            if (*pdev).rom != 0 {
                (*pdev).romlen as u64
            } else {
                0
            }
        }
    }

    fn current_state(&self) -> i32 {
        // SAFETY: The device is valid; an aligned int is read whole.
        unsafe { core::ptr::read_volatile(&raw const (*raw(self)).current_state) }
    }

    fn on_root_bus(&self) -> bool {
        // SAFETY: The device is valid and so is its bus; `pci_is_root_bus` is `!bus->self`.
        unsafe { (*(*raw(self)).bus).self_.is_null() }
    }

    fn resource(&self, index: usize) -> (u64, u64, u64) {
        if index > 6 {
            return (0, 0, 0);
        }
        // SAFETY: The device is valid; its resources are set at enumeration and stay while a
        // driver is bound.
        let res = unsafe { &(*raw(self)).resource[index] };
        let len = if res.end == 0 {
            0
        } else {
            res.end - res.start + 1
        };
        (res.start, len, res.flags as u64)
    }

    fn num_vf(&self) -> u32 {
        // SAFETY: The device is valid.
        let n = unsafe { bindings::pci_num_vf(raw(self)) };
        // CAST: A count, never negative.
        n as u32
    }
}
