// SPDX-License-Identifier: GPL-2.0

//! A device's life in the core: registration (`vfio_pci_core_register_device`,
//! `_unregister_device`), the first open and last close (`vfio_pci_core_enable`,
//! `_finish_enable`, `_disable`, `_close_device`) and the power-state helper they share
//! (`vfio_pci_set_power_state`), as upstream's `vfio_pci_core.c`.

use crate::{
    config::{
        regs::*,
        PciConfig, //
    },
    config_kernel::{
        self,
        cfg_pos,
        KernelConfig, //
    },
    ffi::{
        CoreDev,
        CoreSet,
        DevSetKey, //
    },
    hot_reset, intrs, ioeventfd,
    kernel_ext::pci::{
        DeviceExt,
        DeviceFields,
        IntxExt,
        IoMap,
        PageTail,
        PowerState, //
    },
    kernel_ext::rwsem,
    low_power, sriov,
    state::{
        BarMap,
        Opened, //
    },
};
use kernel::{
    prelude::*,
    sync::Arc, //
};

/// `PCI_HEADER_TYPE_NORMAL`.
const PCI_HEADER_TYPE_NORMAL: u8 = 0;
/// `PCI_VENDOR_ID_INTEL`.
const PCI_VENDOR_ID_INTEL: u16 = 0x8086;

/// `vfio_pci_core_register_device`: checks the driver's device, picks its device set, brings
/// the function to D0 and lets it runtime-suspend, then registers it with VFIO.
pub(crate) fn register(vdev: &CoreDev) -> Result {
    let pdev = vdev.pdev();
    // Drivers must set the core device as their drvdata, and name their ops (upstream WARNs).
    if !vdev.is_drvdata() || !vdev.has_ops_name() {
        kernel::warn_on!(true);
        return Err(EINVAL);
    }
    if pdev.hdr_type() != PCI_HEADER_TYPE_NORMAL || !vdev.driver_ops_complete() {
        return Err(EINVAL);
    }
    // VFs already enabled may be in use elsewhere: the user must disable them first.
    if pdev.num_vf() != 0 {
        dev_warn!(pdev.as_ref(), "Cannot bind to PF with SR-IOV enabled\n");
        return Err(EBUSY);
    }
    let key = if pdev.on_root_bus() || pdev.is_virtfn() {
        DevSetKey::Device
    } else if pdev.probe_reset_slot().is_ok() {
        DevSetKey::Slot
    } else {
        // No slot reset: the whole bus is reset together, so it is one set.
        DevSetKey::Bus
    };
    vdev.assign_device_set(key)?;
    sriov::vf_init(vdev)?;
    probe_power_state(vdev);
    // The PCI core leaves an unknown power state after boot or another driver; only D0 is
    // reachable from there, and runtime PM needs a known one.
    let _ = set_power_state(vdev, PowerState::D0);
    vdev.install_pm_ops();
    vdev.pm_runtime_allow();
    if !vdev.disable_idle_d3() {
        vdev.pm_runtime_put();
    }
    if let Err(e) = vdev.register_group_dev() {
        if !vdev.disable_idle_d3() {
            vdev.pm_runtime_get_noresume();
        }
        vdev.pm_runtime_forbid();
        sriov::vf_uninit(vdev);
        return Err(e);
    }
    Ok(())
}

/// `vfio_pci_core_unregister_device`: waits for the users to release the device, then
/// undoes the runtime PM setup of registration.
pub(crate) fn unregister(vdev: &CoreDev) {
    let _ = sriov::configure(vdev, 0);
    vdev.unregister_group_dev();
    sriov::vf_uninit(vdev);
    if !vdev.disable_idle_d3() {
        vdev.pm_runtime_get_noresume();
    }
    vdev.pm_runtime_forbid();
}

/// `vfio_pci_probe_power_state`: whether the device loses its state in D3hot.
fn probe_power_state(vdev: &CoreDev) {
    let pdev = vdev.pdev();
    let pm = pdev.pm_cap();
    if pm == 0 {
        return;
    }
    let pmcsr = pdev.read_config_word(cfg_pos(pm, PCI_PM_CTRL)).unwrap_or(0);
    vdev.set_needs_pm_restore(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET == 0);
}

/// `vfio_pci_set_power_state`: `pci_set_power_state` for devices that soft-reset on
/// D3hot->D0, saving their state before D3 and restoring it back in D0. Going below D0 needs
/// `memory_lock` held for writing (callers), and is refused while VFs are enabled.
pub(crate) fn set_power_state(vdev: &CoreDev, state: PowerState) -> Result {
    let pdev = vdev.pdev();
    let below_d0 = state as i32 > PowerState::D0 as i32;
    if below_d0 && vdev.sriov_active() {
        return Err(EBUSY);
    }
    let current = pdev.current_state();
    let d3hot = PowerState::D3Hot as i32;
    let (mut needs_save, mut needs_restore) = (false, false);
    if vdev.needs_pm_restore() {
        if current < d3hot && state as i32 >= d3hot {
            let _ = pdev.save_state();
            needs_save = true;
        }
        if current >= d3hot && state as i32 <= PowerState::D0 as i32 {
            needs_restore = true;
        }
    }
    pdev.set_power_state(state)?;
    let pm_save = &vdev.state().pm_save;
    // D3 may be unsupported through a quirk: only save if the device got there.
    if needs_save && pdev.current_state() >= d3hot {
        *pm_save.lock() = pdev.store_saved_state().ok();
    } else if needs_restore {
        if let Some(saved) = pm_save.lock().take() {
            let _ = pdev.load_and_free_saved_state(saved);
        }
        pdev.restore_state();
    }
    Ok(())
}

/// `vfio_pci_nointx`: Intel NICs whose INTx masking is broken in a way the quirks do not
/// catch; their INTx is hidden from the user instead.
fn nointx_quirk(vendor: u16, device: u16) -> bool {
    vendor == PCI_VENDOR_ID_INTEL
        && matches!(device, 0x1572 | 0x1574 | 0x1580..=0x1581 | 0x1583..=0x158b | 0x37d0..=0x37d2 | 0x1563)
}

/// `vfio_pci_core_enable`: the device's first open. Wakes it, enables it, resets it and saves
/// the clean state for `disable`, decides INTx masking, builds the virtual config space and
/// records the MSI-X table's place.
pub(crate) fn enable(vdev: &CoreDev) -> Result {
    let pdev = vdev.pdev();
    if !vdev.disable_idle_d3() {
        vdev.pm_runtime_resume_and_get()?;
    }
    let undo_pm = || {
        if !vdev.disable_idle_d3() {
            vdev.pm_runtime_put();
        }
    };
    // The saved state must not include bus mastering.
    pdev.clear_master();
    let enabled = match pdev.enable() {
        Ok(e) => e,
        Err(e) => {
            undo_pm();
            return Err(e);
        }
    };
    // If the reset fails because of the device lock, fail the open entirely.
    let reset = pdev.try_reset_function();
    if reset == Err(EAGAIN) {
        drop(enabled);
        undo_pm();
        return Err(EAGAIN);
    }
    vdev.set_reset_works(reset.is_ok());
    let _ = pdev.save_state();
    let saved = pdev.store_saved_state().ok();

    if !vdev.nointxmask() {
        if nointx_quirk(pdev.vendor_id().as_raw(), pdev.device_id()) {
            dev_info!(pdev.as_ref(), "Masking broken INTx support\n");
            vdev.set_nointx(true);
            pdev.intx(false);
        } else {
            vdev.set_pci_2_3(pdev.intx_mask_supported());
        }
    }
    if let Ok(cmd) = pdev.read_config_word(cfg_pos(0, PCI_COMMAND)) {
        if vdev.pci_2_3() && cmd & PCI_COMMAND_INTX_DISABLE != 0 {
            let _ =
                pdev.write_config_word(cfg_pos(0, PCI_COMMAND), cmd & !PCI_COMMAND_INTX_DISABLE);
        }
    }

    let mut opened = match KBox::new(
        Opened {
            config: PciConfig::empty(),
            saved,
            enabled: Some(enabled),
            bars: Default::default(),
        },
        GFP_KERNEL_ACCOUNT,
    ) {
        Ok(o) => o,
        Err(e) => {
            undo_pm();
            return Err(e.into());
        }
    };
    if let Err(e) = config_kernel::init(vdev, &mut opened.config) {
        drop(opened);
        undo_pm();
        return Err(e);
    }
    vdev.state().publish_vcmd(opened.config.vcmd());
    vdev.publish_config(Some(&mut opened.config));

    let msix = pdev.msix_cap();
    if msix != 0 {
        let flags = pdev
            .read_config_word(cfg_pos(msix, PCI_MSIX_FLAGS))
            .unwrap_or(0);
        let table = pdev
            .read_config_dword(cfg_pos(msix, PCI_MSIX_TABLE))
            .unwrap_or(0);
        // CAST: BIR is 3 bits; the table size is at most 2048 entries of 16 bytes.
        vdev.set_msix(Some((
            (table & PCI_MSIX_TABLE_BIR) as u8,
            table & PCI_MSIX_TABLE_OFFSET,
            ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16,
        )));
        vdev.set_has_dyn_msix(pdev.msix_can_alloc_dyn());
    } else {
        vdev.set_msix(None);
        vdev.set_has_dyn_msix(false);
    }
    // Without CONFIG_VFIO_PCI_VGA VGA is always disabled (`vfio_vga_disabled`).
    vdev.set_has_vga(false);
    opened.bars = map_bars(vdev);
    vdev.state().set_opened(opened);
    Ok(())
}

/// `vfio_pci_core_map_bars`: requests and maps every BAR up front. Failures are soft: the
/// BAR stays unmapped with the reason, which its accesses return.
fn map_bars(vdev: &CoreDev) -> [Option<BarMap>; 6] {
    let pdev = vdev.pdev();
    vdev.clear_barmaps();
    let mut maps: [Option<BarMap>; 6] = [None, None, None, None, None, None];
    for (bar, slot) in maps.iter_mut().enumerate() {
        *slot = Some(Err(ENODEV));
        if pdev.non_mappable_bars() || pdev.resource(bar).1 == 0 {
            continue;
        }
        // CAST: `bar` < 6.
        let map =
            IoMap::new(pdev, bar as u32, c"vfio").and_then(|io| Ok(Arc::new(io, GFP_KERNEL)?));
        match map {
            Ok(io) => {
                vdev.set_barmap(bar, io.as_ptr());
                *slot = Some(Ok(io));
            }
            Err(e) => {
                dev_dbg!(pdev.as_ref(), "Failed to map region {}\n", bar);
                *slot = Some(Err(e));
            }
        }
    }
    maps
}

/// `vfio_pci_core_finish_enable`: what follows a variant driver's own open steps.
pub(crate) fn finish_enable(vdev: &CoreDev) {
    probe_mmaps(vdev);
    sriov::count_vf_user(vdev, true);
}

/// `vfio_pci_probe_mmaps`: which BARs user space may map: memory BARs of at least a page, and
/// smaller ones that start a page whose rest could be reserved (so that no BAR hot-added later
/// lands in the page user space maps).
fn probe_mmaps(vdev: &CoreDev) {
    let pdev = vdev.pdev();
    let page = 1u64 << kernel::bindings::PAGE_SHIFT;
    let mut tails = vdev.state().page_tails.lock();
    for bar in 0..6 {
        let (_, len, flags) = pdev.resource(bar);
        let mem = !pdev.non_mappable_bars()
            && flags & u64::from(kernel::bindings::IORESOURCE_MEM) != 0
            && len != 0;
        let ok = mem
            && (len >= page
                || PageTail::reserve(pdev, bar)
                    .and_then(|tail| Ok(tails.push(tail, GFP_KERNEL)?))
                    .is_ok());
        vdev.set_bar_mmap_supported(bar, ok);
    }
}

/// `vfio_pci_core_disable`: the last close. Back to D0, bus mastering off, the virtual
/// config freed, the state saved at enable reloaded, a reset when it can be done without
/// waiting for locks, then the device disabled and runtime PM released.
pub(crate) fn disable(vdev: &CoreDev, set: Option<&CoreSet<'_>>) {
    let pdev = vdev.pdev();
    // Possibly in low power, with or without runtime PM: back to the open count, awake, D0.
    low_power::exit(vdev);
    vdev.pm_runtime_resume();
    let _ = set_power_state(vdev, PowerState::D0);
    // Stop the device from further DMA.
    pdev.clear_master();
    intrs::teardown(vdev);
    ioeventfd::release_all(vdev);
    intrs::reset_virq_disabled(vdev);
    vdev.release_regions();
    let mut opened = vdev.state().take_opened();
    vdev.publish_config(None);
    vdev.clear_barmaps();
    if let Some(opened) = opened.as_mut() {
        drop(core::mem::take(&mut opened.bars));
    }
    vdev.state().page_tails.lock().clear();
    vdev.set_needs_reset(true);
    let Some(mut opened) = opened else {
        return;
    };
    let mut reload_failed = true;
    if let Some(saved) = opened.saved.take() {
        reload_failed = pdev.load_and_free_saved_state(saved).is_err();
    }
    let enabled = opened.enabled.take();
    drop(opened);
    let mut reset_and_restore = true;
    if reload_failed {
        dev_info!(
            pdev.as_ref(),
            "vfio_pci_core_disable: Couldn't reload saved state\n"
        );
        if !vdev.reset_works() {
            reset_and_restore = false;
        } else {
            let _ = pdev.save_state();
        }
    }
    if reset_and_restore {
        // INTx and MSI off, to avoid spurious interrupts during the reset (as
        // `pci_reset_function`).
        let _ = pdev.write_config_word(cfg_pos(0, PCI_COMMAND), PCI_COMMAND_INTX_DISABLE);
        // The "try" reset would overwrite the configuration just restored: take the locks
        // ourselves, and skip the reset if they are busy.
        if vdev.reset_works() && pdev.try_locked_reset() {
            vdev.set_needs_reset(false);
        }
        pdev.restore_state();
    }
    drop(enabled);
    // A slot or bus reset if the function reset was not possible, once the whole set is
    // closed.
    if let Some(set) = set {
        hot_reset::try_reset(set);
    }
    if !vdev.disable_idle_d3() {
        vdev.pm_runtime_put();
    }
}

/// `vfio_pci_ioctl_reset` (`VFIO_DEVICE_RESET`): a function reset with the BARs zapped and
/// `memory_lock` held, from D0.
pub(crate) fn reset(vdev: &CoreDev) -> Result {
    if !vdev.reset_works() {
        return Err(EINVAL);
    }
    let _held = vdev.memory_lock().write();
    vdev.zap_bars();
    // A reset from a low-power state would skip restoring a `NoSoftRst-` device's state.
    let _ = set_power_state(vdev, PowerState::D0);
    vdev.pdev().try_reset_function()
}

/// `vfio_pci_core_close_device`.
pub(crate) fn close(vdev: &CoreDev, set: Option<&CoreSet<'_>>) {
    sriov::count_vf_user(vdev, false);
    disable(vdev, set);
    intrs::clear_err_req(vdev);
}

/// The runtime PM suspend callback (`vfio_pci_core_runtime_suspend`): the device goes to its
/// low-power state from D0, which also restores a `NoSoftRst-` device's saved state.
pub(crate) fn runtime_suspend(vdev: &CoreDev) {
    {
        let _held = vdev.memory_lock().write();
        let _ = set_power_state(vdev, PowerState::D0);
    }
    // `igate` comes before `memory_lock`: mask after releasing it.
    intrs::pm_suspend(vdev);
}

/// The runtime PM resume callback: unmasks the INTx that suspend masked.
pub(crate) fn runtime_resume(vdev: &CoreDev) {
    low_power::resumed(vdev);
    intrs::pm_resume(vdev);
}

/// `vfio_pci_memory_lock_and_enable` .. `_unlock_and_restore`: `memory_lock` for writing with
/// memory decoding forced on (the MSI-X table lives in a BAR), the command word put back after.
pub(crate) struct MemoryEnabled<'a> {
    vdev: &'a CoreDev,
    cmd: u16,
    _held: rwsem::WriteGuard<'a>,
}

impl<'a> MemoryEnabled<'a> {
    pub(crate) fn new(vdev: &'a CoreDev) -> Self {
        let held = vdev.memory_lock().write();
        let pdev = vdev.pdev();
        let cmd = pdev.read_config_word(cfg_pos(0, PCI_COMMAND)).unwrap_or(0);
        if cmd & PCI_COMMAND_MEMORY == 0 {
            let _ = pdev.write_config_word(cfg_pos(0, PCI_COMMAND), cmd | PCI_COMMAND_MEMORY);
        }
        Self {
            vdev,
            cmd,
            _held: held,
        }
    }
}

impl Drop for MemoryEnabled<'_> {
    fn drop(&mut self) {
        let _ = self
            .vdev
            .pdev()
            .write_config_word(cfg_pos(0, PCI_COMMAND), self.cmd);
    }
}

/// The kernel side of the config engine from outside a device file operation: under `open`,
/// `None` while the device is closed.
pub(crate) fn with_config<R>(
    vdev: &CoreDev,
    f: impl FnOnce(&PciConfig, &mut KernelConfig<'_>) -> R,
) -> Option<R> {
    let open = vdev.state().open.lock();
    let opened = open.as_deref()?;
    Some(config_access(vdev, &opened.config, f))
}

/// One access of the config engine on `cfg`, the open device's: the virtual command register
/// published after it.
pub(crate) fn config_access<R>(
    vdev: &CoreDev,
    cfg: &PciConfig,
    f: impl FnOnce(&PciConfig, &mut KernelConfig<'_>) -> R,
) -> R {
    let mut backend = KernelConfig::new(vdev);
    let r = f(cfg, &mut backend);
    vdev.state().publish_vcmd(cfg.vcmd());
    r
}
