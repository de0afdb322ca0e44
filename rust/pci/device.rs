// SPDX-License-Identifier: GPL-2.0

//! The operations on a bound `struct pci_dev` that vfio-pci's core needs and 7.3's
//! `kernel::pci::Device` lacks, as [`DeviceExt`] on [`pci::Device<Bound>`] (so on
//! `pci::Device<Core>` too): enabling, bus mastering, region requests, user config access,
//! resets, saved state, power states and INTx masking.
//!
//! What must be undone is a guard holding a device reference: [`Enabled`]
//! (`pci_disable_device`), [`Regions`] (`pci_release_selected_regions`), [`SavedState`]
//! (`kfree`), and [`IoMap`](super::IoMap) (`pci_iounmap`). A driver keeps them in its device
//! state and drops them at the point upstream's C undoes each.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h).

use crate::bindings;
use core::ptr::NonNull;
use kernel::{
    device::Bound,
    error::to_result,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// The raw `struct pci_dev` of `dev`.
pub(crate) fn raw<Ctx: kernel::device::DeviceContext>(
    dev: &pci::Device<Ctx>,
) -> *mut bindings::pci_dev {
    // CAST: `pci::Device<Ctx>` is a transparent wrapper of `Opaque<struct pci_dev>`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// Views a device its user knows to be bound as [`pci::Device<Bound>`].
///
/// # Safety
///
/// The device must stay bound to the caller's driver while the returned reference lives (e.g.
/// a VFIO device's callbacks, which its driver's `remove` waits for).
#[inline]
pub unsafe fn as_bound(dev: &pci::Device) -> &pci::Device<Bound> {
    // SAFETY: `pci::Device<Ctx>` has the same layout for every context; the caller guarantees
    // the device is bound for the borrow.
    unsafe { &*core::ptr::from_ref(dev).cast::<pci::Device<Bound>>() }
}

/// The flags of a BAR's resource (`pci_resource_flags`, `IORESOURCE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceFlags(c_ulong);

impl ResourceFlags {
    // CAST: The `IORESOURCE_*` bits are below bit 32, so they fit an `unsigned long`.
    const IO: c_ulong = bindings::IORESOURCE_IO as c_ulong;
    const MEM: c_ulong = bindings::IORESOURCE_MEM as c_ulong;
    const MEM_64: c_ulong = bindings::IORESOURCE_MEM_64 as c_ulong;
    const PREFETCH: c_ulong = bindings::IORESOURCE_PREFETCH as c_ulong;

    /// The raw `IORESOURCE_*` bits.
    pub fn bits(self) -> c_ulong {
        self.0
    }

    /// `IORESOURCE_IO`: an I/O port BAR.
    pub fn is_io(self) -> bool {
        self.0 & Self::IO != 0
    }

    /// `IORESOURCE_MEM`: a memory BAR.
    pub fn is_mem(self) -> bool {
        self.0 & Self::MEM != 0
    }

    /// `IORESOURCE_MEM_64`: a 64-bit memory BAR (it uses the next BAR's slot too).
    pub fn is_mem_64(self) -> bool {
        self.0 & Self::MEM_64 != 0
    }

    /// `IORESOURCE_PREFETCH`: a prefetchable memory BAR.
    pub fn is_prefetch(self) -> bool {
        self.0 & Self::PREFETCH != 0
    }
}

/// `pci_power_t`: a PCI power state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum PowerState {
    /// `PCI_D0`: fully on.
    D0 = bindings::PCI_D0,
    /// `PCI_D1`.
    D1 = bindings::PCI_D1,
    /// `PCI_D2`.
    D2 = bindings::PCI_D2,
    /// `PCI_D3hot`.
    D3Hot = bindings::PCI_D3hot,
    /// `PCI_D3cold`: power removed.
    D3Cold = bindings::PCI_D3cold,
}

/// INTx control through the command register, on a device in any context: interrupt
/// handlers hold a counted reference, not a bound device. They only touch config space, which
/// stays accessible while the `struct pci_dev` lives.
pub trait IntxExt {
    /// `pci_intx`: enables (`true`) or disables INTx assertion (the command register's
    /// `INTX_DISABLE`).
    fn intx(&self, enable: bool);

    /// `pci_check_and_mask_intx`: masks INTx if the device asserts it; true if it did.
    fn check_and_mask_intx(&self) -> bool;

    /// `pci_check_and_unmask_intx`: unmasks INTx unless an interrupt is pending; true if
    /// unmasked.
    fn check_and_unmask_intx(&self) -> bool;
}

impl IntxExt for pci::Device {
    fn intx(&self, enable: bool) {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_intx(raw(self), c_int::from(enable)) };
    }

    fn check_and_mask_intx(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_check_and_mask_intx(raw(self)) }
    }

    fn check_and_unmask_intx(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_check_and_unmask_intx(raw(self)) }
    }
}

/// Config space reads as user space makes them, on any PCI device a reference is held on
/// (vfio-pci also reads the host and LPC bridges' for IGD).
pub trait UserConfigRead {
    /// `pci_user_read_config_byte`: a config space read as user space makes it (waits out
    /// blocked config access).
    fn user_read_config_byte(&self, pos: u32) -> Result<u8>;

    /// `pci_user_read_config_word`.
    fn user_read_config_word(&self, pos: u32) -> Result<u16>;

    /// `pci_user_read_config_dword`.
    fn user_read_config_dword(&self, pos: u32) -> Result<u32>;
}

impl<Ctx: kernel::device::DeviceContext> UserConfigRead for pci::Device<Ctx> {
    fn user_read_config_byte(&self, pos: u32) -> Result<u8> {
        let pos = c_int::try_from(pos)?;
        let mut val = 0;
        // SAFETY: The device is valid; `val` is a valid destination.
        let ret = unsafe { bindings::pci_user_read_config_byte(raw(self), pos, &mut val) };
        user_config(ret, val)
    }

    fn user_read_config_word(&self, pos: u32) -> Result<u16> {
        let pos = c_int::try_from(pos)?;
        let mut val = 0;
        // SAFETY: The device is valid; `val` is a valid destination.
        let ret = unsafe { bindings::pci_user_read_config_word(raw(self), pos, &mut val) };
        user_config(ret, val)
    }

    fn user_read_config_dword(&self, pos: u32) -> Result<u32> {
        let pos = c_int::try_from(pos)?;
        let mut val = 0;
        // SAFETY: The device is valid; `val` is a valid destination.
        let ret = unsafe { bindings::pci_user_read_config_dword(raw(self), pos, &mut val) };
        user_config(ret, val)
    }
}

/// `pci_*` operations of a bound PCI device.
pub trait DeviceExt {
    /// `pci_enable_device`: enables I/O and memory decoding (counted: each [`Enabled`] is
    /// undone by its drop).
    fn enable(&self) -> Result<Enabled>;

    /// `pci_set_master`: enables bus mastering.
    fn set_master(&self);

    /// `pci_clear_master`: disables bus mastering.
    fn clear_master(&self);

    /// `pci_request_selected_regions`: claims the BARs in `bars` (bit `n`: BAR `n`) for
    /// `name` until the [`Regions`] is dropped.
    fn request_regions(&self, bars: u32, name: &'static CStr) -> Result<Regions>;

    /// `pci_resource_flags(dev, bar)`.
    fn resource_flags(&self, bar: u32) -> Result<ResourceFlags>;

    /// `pci_user_write_config_byte`.
    fn user_write_config_byte(&self, pos: u32, val: u8) -> Result;

    /// `pci_user_write_config_word`.
    fn user_write_config_word(&self, pos: u32, val: u16) -> Result;

    /// `pci_user_write_config_dword`.
    fn user_write_config_dword(&self, pos: u32, val: u32) -> Result;

    /// `pci_try_reset_function`: resets the function unless its device lock is taken
    /// (`EAGAIN`); `ENOTTY` when it has no reset method.
    fn try_reset_function(&self) -> Result;

    /// `pci_probe_reset_slot(dev->slot)`: whether the slot can be reset (`ENOTTY`: not).
    fn probe_reset_slot(&self) -> Result;

    /// `pci_probe_reset_bus(dev->bus)`: whether the bus can be reset (`ENOTTY`: not).
    fn probe_reset_bus(&self) -> Result;

    /// `pci_reset_bus`: resets the device's slot if it can be reset on its own, else its
    /// bus, with every device affected locked and its state saved and restored around the
    /// reset (`EAGAIN` if one of them is locked).
    fn reset_bus(&self) -> Result;

    /// `pci_save_state`: saves config space into the device (for `restore_state`).
    fn save_state(&self) -> Result;

    /// `pci_restore_state`: writes back what `save_state` saved.
    fn restore_state(&self);

    /// `pci_store_saved_state`: a copy of the saved state, to load later.
    fn store_saved_state(&self) -> Result<SavedState>;

    /// `pci_load_saved_state`: makes `state` the device's saved state again.
    fn load_saved_state(&self, state: &SavedState) -> Result;

    /// `pci_load_and_free_saved_state`.
    fn load_and_free_saved_state(&self, state: SavedState) -> Result;

    /// `pci_set_power_state`.
    fn set_power_state(&self, state: PowerState) -> Result;

    /// `pci_read_config_byte` (kernel-internal access, not the user variant).
    fn read_config_byte(&self, pos: u32) -> Result<u8>;

    /// `pci_read_config_word`.
    fn read_config_word(&self, pos: u32) -> Result<u16>;

    /// `pci_read_config_dword`.
    fn read_config_dword(&self, pos: u32) -> Result<u32>;

    /// `pci_write_config_word`.
    fn write_config_word(&self, pos: u32, val: u16) -> Result;

    /// `pci_read_vpd(dev, addr, 4, &data)`: the bytes read (fewer than 4 at the end) or the
    /// failure.
    fn read_vpd(&self, addr: u32, data: &mut [u8; 4]) -> Result<usize>;

    /// `pci_write_vpd(dev, addr, 4, &data)`: the C return value (bytes written or -errno).
    fn write_vpd(&self, addr: u32, data: &[u8; 4]) -> isize;

    /// `pcie_get_mps`.
    fn pcie_get_mps(&self) -> u32;

    /// `pcie_set_readrq`.
    fn pcie_set_readrq(&self, rq: u32);

    /// `pci_msix_can_alloc_dyn`: MSI-X vectors may be added while MSI-X is enabled.
    fn msix_can_alloc_dyn(&self) -> bool;

    /// `__pci_reset_function_locked` with the device lock, and its upstream bridge's when it
    /// has one, taken by `pci_dev_trylock`: true if the reset ran and succeeded, false if it
    /// failed or a lock was busy (what `vfio_pci_core_disable` does, which may not sleep on the
    /// device lock).
    fn try_locked_reset(&self) -> bool;

    /// What C's `dev_get_drvdata(&pdev->dev)` returns: for comparing with a pointer handed
    /// to C (never dereferenced here).
    fn drvdata_ptr(&self) -> *const c_void;
}

/// `pcibios_err_to_errno`: a `PCIBIOS_*` code as `-errno` (the kernel accessors return the
/// former).
fn pcibios_err_to_errno(err: c_int) -> c_int {
    // CAST: The `PCIBIOS_*` constants are small positive numbers.
    match err as u32 {
        0 => 0,
        bindings::PCIBIOS_FUNC_NOT_SUPPORTED => -(bindings::ENOENT as c_int),
        bindings::PCIBIOS_BAD_VENDOR_ID => -(bindings::ENOTTY as c_int),
        bindings::PCIBIOS_DEVICE_NOT_FOUND => -(bindings::ENODEV as c_int),
        bindings::PCIBIOS_BAD_REGISTER_NUMBER => -(bindings::EFAULT as c_int),
        bindings::PCIBIOS_SET_FAILED => -(bindings::EIO as c_int),
        bindings::PCIBIOS_BUFFER_TOO_SMALL => -(bindings::ENOSPC as c_int),
        _ if err < 0 => err,
        _ => -(bindings::ERANGE as c_int),
    }
}

/// Converts a `pci_user_*_config_*` result.
fn user_config<T>(ret: c_int, val: T) -> Result<T> {
    to_result(ret).map(|()| val)
}

impl DeviceExt for pci::Device<Bound> {
    #[inline]
    fn enable(&self) -> Result<Enabled> {
        // SAFETY: The device is valid (type invariant of `pci::Device`).
        to_result(unsafe { bindings::pci_enable_device(raw(self)) })?;
        // INVARIANT: Enabled once just now.
        Ok(Enabled { dev: self.into() })
    }

    #[inline]
    fn set_master(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_set_master(raw(self)) };
    }

    #[inline]
    fn clear_master(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_clear_master(raw(self)) };
    }

    #[inline]
    fn request_regions(&self, bars: u32, name: &'static CStr) -> Result<Regions> {
        let valid = (1u32 << bindings::PCI_STD_NUM_BARS) - 1;
        if bars == 0 || bars & !valid != 0 {
            return Err(EINVAL);
        }
        // CAST: `bars` has at most `PCI_STD_NUM_BARS` low bits set, checked above.
        let mask = bars as c_int;
        // SAFETY: The device is valid; `name` is static, as the resources keep it.
        to_result(unsafe {
            bindings::pci_request_selected_regions(raw(self), mask, name.as_char_ptr())
        })?;
        // INVARIANT: Requested just now.
        Ok(Regions {
            dev: self.into(),
            mask,
        })
    }

    #[inline]
    fn resource_flags(&self, bar: u32) -> Result<ResourceFlags> {
        if bar >= bindings::PCI_STD_NUM_BARS {
            return Err(EINVAL);
        }
        // CAST: `bar` < `PCI_STD_NUM_BARS`, checked above.
        let bar = bar as usize;
        // SAFETY: The device is valid and `bar` indexes its `resource` array.
        Ok(ResourceFlags(unsafe { (*raw(self)).resource[bar].flags }))
    }

    #[inline]
    fn user_write_config_byte(&self, pos: u32, val: u8) -> Result {
        let pos = c_int::try_from(pos)?;
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_user_write_config_byte(raw(self), pos, val) })
    }

    #[inline]
    fn user_write_config_word(&self, pos: u32, val: u16) -> Result {
        let pos = c_int::try_from(pos)?;
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_user_write_config_word(raw(self), pos, val) })
    }

    #[inline]
    fn user_write_config_dword(&self, pos: u32, val: u32) -> Result {
        let pos = c_int::try_from(pos)?;
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_user_write_config_dword(raw(self), pos, val) })
    }

    #[inline]
    fn try_reset_function(&self) -> Result {
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_try_reset_function(raw(self)) })
    }

    #[inline]
    fn probe_reset_slot(&self) -> Result {
        // SAFETY: The device is valid; its `slot` is NULL or a slot alive while the device
        // is, which `pci_probe_reset_slot` accepts either way.
        to_result(unsafe { bindings::pci_probe_reset_slot((*raw(self)).slot) })
    }

    #[inline]
    fn probe_reset_bus(&self) -> Result {
        // SAFETY: The device is valid and so is its bus while it is.
        to_result(unsafe { bindings::pci_probe_reset_bus((*raw(self)).bus) })
    }

    #[inline]
    fn reset_bus(&self) -> Result {
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_reset_bus(raw(self)) })
    }

    #[inline]
    fn save_state(&self) -> Result {
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_save_state(raw(self)) })
    }

    #[inline]
    fn restore_state(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_restore_state(raw(self)) };
    }

    #[inline]
    fn store_saved_state(&self) -> Result<SavedState> {
        // SAFETY: The device is valid.
        let ptr = unsafe { bindings::pci_store_saved_state(raw(self)) };
        // INVARIANT: A non-NULL result is a fresh `kmalloc`ed copy, now ours.
        Ok(SavedState(NonNull::new(ptr).ok_or(ENOMEM)?))
    }

    #[inline]
    fn load_saved_state(&self, state: &SavedState) -> Result {
        // SAFETY: The device is valid; `state` is a valid saved state (type invariant), which
        // `pci_load_saved_state` only reads.
        to_result(unsafe { bindings::pci_load_saved_state(raw(self), state.0.as_ptr()) })
    }

    #[inline]
    fn load_and_free_saved_state(&self, state: SavedState) -> Result {
        let mut ptr = core::mem::ManuallyDrop::new(state).0.as_ptr();
        // SAFETY: The device is valid; `ptr` is a saved state we own (type invariant of
        // `SavedState`, whose drop is skipped), which the call frees and clears.
        to_result(unsafe { bindings::pci_load_and_free_saved_state(raw(self), &mut ptr) })
    }

    #[inline]
    fn set_power_state(&self, state: PowerState) -> Result {
        // SAFETY: The device is valid.
        to_result(unsafe { bindings::pci_set_power_state(raw(self), state as c_int) })
    }

    #[inline]
    fn read_config_byte(&self, pos: u32) -> Result<u8> {
        let pos = c_int::try_from(pos)?;
        let mut val = 0;
        // SAFETY: The device is valid; `val` is a valid destination.
        let ret = unsafe { bindings::pci_read_config_byte(raw(self), pos, &mut val) };
        to_result(pcibios_err_to_errno(ret)).map(|()| val)
    }

    #[inline]
    fn read_config_word(&self, pos: u32) -> Result<u16> {
        let pos = c_int::try_from(pos)?;
        let mut val = 0;
        // SAFETY: The device is valid; `val` is a valid destination.
        let ret = unsafe { bindings::pci_read_config_word(raw(self), pos, &mut val) };
        to_result(pcibios_err_to_errno(ret)).map(|()| val)
    }

    #[inline]
    fn read_config_dword(&self, pos: u32) -> Result<u32> {
        let pos = c_int::try_from(pos)?;
        let mut val = 0;
        // SAFETY: The device is valid; `val` is a valid destination.
        let ret = unsafe { bindings::pci_read_config_dword(raw(self), pos, &mut val) };
        to_result(pcibios_err_to_errno(ret)).map(|()| val)
    }

    #[inline]
    fn write_config_word(&self, pos: u32, val: u16) -> Result {
        let pos = c_int::try_from(pos)?;
        // SAFETY: The device is valid.
        let ret = unsafe { bindings::pci_write_config_word(raw(self), pos, val) };
        to_result(pcibios_err_to_errno(ret))
    }

    #[inline]
    fn read_vpd(&self, addr: u32, data: &mut [u8; 4]) -> Result<usize> {
        // SAFETY: The device is valid; `data` has room for the 4 bytes asked for.
        let ret =
            unsafe { bindings::pci_read_vpd(raw(self), addr.into(), 4, data.as_mut_ptr().cast()) };
        if ret < 0 {
            // CAST: A negative errno.
            return Err(Error::from_errno(ret as c_int));
        }
        // CAST: 0..=4 bytes.
        Ok(ret as usize)
    }

    #[inline]
    fn write_vpd(&self, addr: u32, data: &[u8; 4]) -> isize {
        // SAFETY: The device is valid; `data` holds the 4 bytes given, which the call reads.
        unsafe { bindings::pci_write_vpd(raw(self), addr.into(), 4, data.as_ptr().cast()) }
    }

    #[inline]
    fn pcie_get_mps(&self) -> u32 {
        // SAFETY: The device is valid.
        let mps = unsafe { bindings::pcie_get_mps(raw(self)) };
        // CAST: A payload size in bytes (128..4096).
        mps as u32
    }

    #[inline]
    fn pcie_set_readrq(&self, rq: u32) {
        let Ok(rq) = c_int::try_from(rq) else {
            return;
        };
        // SAFETY: The device is valid; invalid sizes are refused by the callee.
        unsafe { bindings::pcie_set_readrq(raw(self), rq) };
    }

    #[inline]
    fn msix_can_alloc_dyn(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::pci_msix_can_alloc_dyn(raw(self)) }
    }

    #[inline]
    fn try_locked_reset(&self) -> bool {
        // SAFETY: The device is valid; `vfio_rs_pci_upstream_bridge` returns NULL or the
        // bridge above it, alive as long as the device is.
        let bridge = unsafe { crate::helpers::vfio_rs_pci_upstream_bridge(raw(self)) };
        // SAFETY: A non-NULL `bridge` is a valid device (above).
        if !bridge.is_null() && unsafe { bindings::pci_dev_trylock(bridge) } == 0 {
            return false;
        }
        let mut done = false;
        // SAFETY: The device is valid; the reset runs with its lock held, as required, and
        // the lock taken is released right after.
        unsafe {
            if bindings::pci_dev_trylock(raw(self)) != 0 {
                done = bindings::__pci_reset_function_locked(raw(self)) == 0;
                bindings::pci_dev_unlock(raw(self));
            }
            if !bridge.is_null() {
                bindings::pci_dev_unlock(bridge);
            }
        }
        done
    }

    #[inline]
    fn drvdata_ptr(&self) -> *const c_void {
        // SAFETY: The device is valid, and so is its embedded `struct device`.
        unsafe { bindings::dev_get_drvdata(&raw mut (*raw(self)).dev) }
    }
}

/// An enabled device (`pci_enable_device`), disabled on drop (`pci_disable_device`).
///
/// # Invariants
///
/// Holds one `pci_enable_device` count of `dev`.
pub struct Enabled {
    dev: ARef<pci::Device>,
}

impl Drop for Enabled {
    fn drop(&mut self) {
        // SAFETY: We hold one enable count (type invariant) and a reference to the device.
        unsafe { bindings::pci_disable_device(raw(&self.dev)) };
    }
}

/// Claimed BARs (`pci_request_selected_regions`), released on drop.
///
/// # Invariants
///
/// `dev`'s BARs in `mask` are requested, by this guard.
pub struct Regions {
    dev: ARef<pci::Device>,
    mask: c_int,
}

impl Regions {
    /// The device.
    pub fn device(&self) -> &pci::Device {
        &self.dev
    }
}

impl Drop for Regions {
    fn drop(&mut self) {
        // SAFETY: The regions in `mask` are ours (type invariant); we hold a reference to the
        // device.
        unsafe { bindings::pci_release_selected_regions(raw(&self.dev), self.mask) };
    }
}

/// A copy of a device's saved config state (`struct pci_saved_state`), freed on drop.
///
/// # Invariants
///
/// `self.0` is a `pci_store_saved_state` result owned by this value.
pub struct SavedState(NonNull<bindings::pci_saved_state>);

// SAFETY: A saved state is plain memory, not tied to a thread.
unsafe impl Send for SavedState {}
// SAFETY: `&SavedState` only allows reading it (`pci_load_saved_state`).
unsafe impl Sync for SavedState {}

impl Drop for SavedState {
    fn drop(&mut self) {
        // SAFETY: We own the `kmalloc`ed state (type invariant).
        unsafe { bindings::kfree(self.0.as_ptr().cast()) };
    }
}
