// SPDX-License-Identifier: GPL-2.0

//! The kernel side of the config-space engine (`../config/`): [`KernelConfig`] implements its
//! [`ConfigBackend`] on the device (config accessors, VPD, resets and power states under
//! `memory_lock`, the interrupt state), and [`init`] builds a device's virtual config space
//! as `vfio_config_init` does.

use crate::{
    config::{
        ConfigBackend,
        DeviceInfo,
        Notice,
        PciConfig,
        PowerState as CfgPower,
        Resource, //
    },
    enable,
    errno::Errno,
    ffi::CoreDev,
    kernel_ext::{
        pci::{
            DeviceExt,
            DeviceFields,
            PowerState,
            UserConfigRead, //
        },
        rwsem, uapi,
    },
};
use kernel::prelude::*;

/// The config-space offset of register `reg` of the capability at `cap` (0: the header).
pub(crate) fn cfg_pos(cap: u8, reg: usize) -> u32 {
    // CAST: Config-space offsets are below 4 KiB.
    u32::from(cap) + reg as u32
}

/// One config access's view of the device: holds `memory_lock` between the two halves of a
/// command register write.
pub(crate) struct KernelConfig<'a> {
    vdev: &'a CoreDev,
    memory: Option<rwsem::WriteGuard<'a>>,
}

impl<'a> KernelConfig<'a> {
    pub(crate) fn new(vdev: &'a CoreDev) -> Self {
        Self { vdev, memory: None }
    }

    /// `vfio_pci_zap_and_down_write_memory_lock`, or the plain `down_write`.
    fn lock_memory(&self, zap: bool) -> rwsem::WriteGuard<'a> {
        let guard = self.vdev.memory_lock().write();
        if zap {
            self.vdev.zap_bars();
        }
        guard
    }
}

/// A config accessor result as the engine wants it.
fn errno<T>(r: Result<T>) -> Result<T, Errno> {
    r.map_err(Errno::from)
}

impl ConfigBackend for KernelConfig<'_> {
    fn read_config(&mut self, pos: usize, count: usize) -> Result<u32, Errno> {
        let pdev = self.vdev.pdev();
        let pos = u32::try_from(pos).map_err(|_| Errno::EINVAL)?;
        match count {
            1 => errno(pdev.read_config_byte(pos)).map(u32::from),
            2 => errno(pdev.read_config_word(pos)).map(u32::from),
            _ => errno(pdev.read_config_dword(pos)),
        }
    }

    fn user_read_config(&mut self, pos: usize, count: usize) -> Result<u32, Errno> {
        let pdev = self.vdev.pdev();
        let pos = u32::try_from(pos).map_err(|_| Errno::EINVAL)?;
        match count {
            1 => errno(pdev.user_read_config_byte(pos)).map(u32::from),
            2 => errno(pdev.user_read_config_word(pos)).map(u32::from),
            _ => errno(pdev.user_read_config_dword(pos)),
        }
    }

    fn user_write_config(&mut self, pos: usize, count: usize, val: u32) -> Result<(), Errno> {
        let pdev = self.vdev.pdev();
        let pos = u32::try_from(pos).map_err(|_| Errno::EINVAL)?;
        // CAST: `val` holds `count` bytes (the engine's contract).
        match count {
            1 => errno(pdev.user_write_config_byte(pos, val as u8)),
            2 => errno(pdev.user_write_config_word(pos, val as u16)),
            _ => errno(pdev.user_write_config_dword(pos, val)),
        }
    }

    fn read_vpd(&mut self, addr: u16) -> Result<u32, Errno> {
        let mut data = [0u8; 4];
        errno(self.vdev.pdev().read_vpd(addr.into(), &mut data))?;
        Ok(u32::from_le_bytes(data))
    }

    fn write_vpd(&mut self, addr: u16, data: u32) -> isize {
        self.vdev.pdev().write_vpd(addr.into(), &data.to_le_bytes())
    }

    fn reset_function(&mut self, _vcmd: u16) {
        let _held = self.lock_memory(true);
        let _ = self.vdev.pdev().try_reset_function();
    }

    fn set_power_state(&mut self, state: CfgPower, _vcmd: u16) {
        let state = match state {
            CfgPower::D0 => PowerState::D0,
            CfgPower::D1 => PowerState::D1,
            CfgPower::D2 => PowerState::D2,
            CfgPower::D3Hot => PowerState::D3Hot,
        };
        let _held = self.lock_memory(state == PowerState::D3Hot);
        let _ = enable::set_power_state(self.vdev, state);
    }

    fn pcie_get_mps(&mut self) -> u32 {
        self.vdev.pdev().pcie_get_mps()
    }

    fn pcie_set_readrq(&mut self, rq: u32) {
        self.vdev.pdev().pcie_set_readrq(rq);
    }

    fn msi_enabled(&self) -> bool {
        self.vdev.irq_type() == uapi::VFIO_PCI_MSI_IRQ_INDEX
    }

    fn msi_qmax(&self) -> u8 {
        self.vdev.msi_qmax()
    }

    fn virq_disabled(&self) -> bool {
        self.vdev.virq_disabled()
    }

    fn set_virq_disabled(&mut self, disabled: bool) {
        crate::intrs::set_virq_disabled(self.vdev, disabled);
    }

    fn command_write_begin(&mut self, new_mem: bool) {
        self.memory = Some(self.lock_memory(!new_mem));
    }

    fn command_write_end(&mut self, _vcmd: Option<u16>) {
        self.memory = None;
    }

    fn notice(&mut self, n: Notice) {
        let dev = self.vdev.pdev().as_ref();
        match n {
            Notice::Hiding { ext, cap, pos } => dev_dbg!(
                dev,
                "{}: hiding {}cap {:#x}@{:#x}\n",
                if ext {
                    "vfio_ecap_init"
                } else {
                    "vfio_cap_init"
                },
                if ext { "e" } else { "" },
                cap,
                pos
            ),
            Notice::Conflict { ext, pos, was, now } => dev_warn!(
                dev,
                "{}: PCI config conflict @{:#x}, was {}cap {:#x} now {}cap {:#x}\n",
                if ext {
                    "vfio_ecap_init"
                } else {
                    "vfio_cap_init"
                },
                pos,
                if ext { "e" } else { "" },
                was,
                if ext { "e" } else { "" },
                now
            ),
            Notice::UnknownLength { ext, cap, pos } => dev_warn!(
                dev,
                "{}: unknown length for PCI {}cap {:#x}@{:#x}\n",
                if ext {
                    "vfio_ext_cap_len"
                } else {
                    "vfio_cap_len"
                },
                if ext { "e" } else { "" },
                cap,
                pos
            ),
            Notice::BogusVfIntxPin(pin) => {
                dev_warn!(dev, "Hardware bug: VF reports bogus INTx pin {}\n", pin)
            }
            Notice::BarRestore => {
                dev_info!(dev, "vfio_bar_restore: reset recovery - restoring BARs\n")
            }
        }
    }
}

/// `vfio_config_init`: the virtual config space of a device being enabled.
pub(crate) fn init(vdev: &CoreDev, cfg: &mut PciConfig) -> Result {
    let pdev = vdev.pdev();
    let resource = |i: usize| {
        let (start, len, flags) = pdev.resource(i);
        Resource { start, len, flags }
    };
    let info = DeviceInfo {
        cfg_size: pdev.config_size(),
        vendor: pdev.vendor_id().as_raw(),
        device: pdev.device_id(),
        is_virtfn: pdev.is_virtfn(),
        no_command_memory: pdev.no_command_memory(),
        nointx: vdev.nointx(),
        config_intx: cfg!(CONFIG_VFIO_PCI_INTX),
        irq: pdev.irq(),
        pcie_flags_reg: pdev.pcie_flags_reg(),
        bars: [0, 1, 2, 3, 4, 5].map(resource),
        rom: resource(6),
        shadow_rom_len: pdev.shadow_rom_len(),
    };
    let mut backend = KernelConfig::new(vdev);
    cfg.init(&mut backend, info).map_err(Error::from)
}
