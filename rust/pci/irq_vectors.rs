// SPDX-License-Identifier: GPL-2.0

//! MSI and MSI-X vectors of a PCI device (`pci_alloc_irq_vectors` .. `pci_free_irq_vectors`),
//! owned: 7.3's `kernel::pci::IrqVectorRegistration` borrows the bound device and folds a short
//! allocation into success, while a driver relaying vectors to user space keeps them in its
//! state and reports the short count.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h),
//! [`include/linux/msi.h`](srctree/include/linux/msi.h).

use super::device::raw;
use crate::{bindings, irq::Line};
use kernel::{
    device::Bound,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// What [`IrqVectors::alloc`] got.
pub enum Alloc {
    /// All the vectors asked for.
    All(IrqVectors),
    /// Only this many were available; they were freed again.
    Short(u32),
}

/// A device's MSI or MSI-X vectors, freed on drop.
///
/// # Invariants
///
/// `pci_alloc_irq_vectors` succeeded on `dev`; nothing else frees the vectors.
pub struct IrqVectors {
    dev: ARef<pci::Device>,
}

impl IrqVectors {
    /// Enables MSI-X (`msix`) or MSI with `nvec` vectors. Errors are the PCI core's (`ERANGE`
    /// for 0 vectors, `EINVAL` with the other kind on or outside D0, `ENOSPC`).
    pub fn alloc(dev: &pci::Device<Bound>, msix: bool, nvec: u32) -> Result<Alloc> {
        let kind = if msix {
            bindings::PCI_IRQ_MSIX
        } else {
            bindings::PCI_IRQ_MSI
        };
        // SAFETY: The device is valid and bound.
        let ret = unsafe { bindings::pci_alloc_irq_vectors(raw(dev), 1, nvec, kind) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        let vectors = Self { dev: dev.into() };
        // CAST: Non-negative, checked above.
        let got = ret as u32;
        if got < nvec {
            drop(vectors);
            return Ok(Alloc::Short(got));
        }
        // INVARIANT: Allocated just now.
        Ok(Alloc::All(vectors))
    }

    /// Vector `n`'s IRQ (`pci_irq_vector`); `EINVAL` for one not allocated.
    pub fn line(&self, n: u32) -> Result<Line> {
        // SAFETY: The device is valid (type invariant).
        let irq = unsafe { bindings::pci_irq_vector(raw(&self.dev), n) };
        match irq {
            // The PCI core has no vector 0 IRQ: upstream warns and refuses.
            0 => Err(EINVAL),
            // CAST: Positive.
            i if i > 0 => Ok(Line::new(i as u32)),
            e => Err(Error::from_errno(e)),
        }
    }

    /// Allocates MSI-X entry `n` while MSI-X is on (`pci_msix_alloc_irq_at`, for devices
    /// whose vectors can be added dynamically).
    pub fn alloc_at(&self, n: u32) -> Result<Line> {
        // SAFETY: The device is valid; no affinity hint.
        let map = unsafe { bindings::pci_msix_alloc_irq_at(raw(&self.dev), n, core::ptr::null()) };
        if map.index < 0 {
            return Err(Error::from_errno(map.index));
        }
        // CAST: A valid map has a positive IRQ.
        Ok(Line::new(map.virq as u32))
    }

    /// Writes the vector's cached message back to the device (`get_cached_msi_msg` +
    /// `pci_write_msi_msg`): a reset behind the kernel's back may have cleared it.
    pub fn rewrite_msg(&self, line: Line) {
        // SAFETY: `line` is one of our vectors, so it has a cached message.
        unsafe { crate::helpers::vfio_rs_pci_msi_rewrite(line.number()) };
    }
}

impl Drop for IrqVectors {
    fn drop(&mut self) {
        // SAFETY: Allocated by `alloc` (type invariant); handlers were freed by their owners.
        unsafe { bindings::pci_free_irq_vectors(raw(&self.dev)) };
    }
}
