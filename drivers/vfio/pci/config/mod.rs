// SPDX-License-Identifier: GPL-2.0

//! Config space virtualization of vfio-pci: the kernel-independent part of upstream's
//! `drivers/vfio/pci/vfio_pci_config.c` (Linux 7.3).
//!
//! A device's config space as the user sees it is a merge of the hardware and a virtual copy
//! (`vconfig`), decided per byte by the capability that owns the byte (`map`) and that
//! capability's permission bits ([`perm`]). [`PciConfig::init`] builds both from the hardware
//! as `vfio_config_init` does; [`PciConfig::rw`] serves the user's reads and writes as
//! `vfio_pci_config_rw` does. Everything that touches the device or the rest of the kernel
//! goes through [`ConfigBackend`], which the kernel side implements on `struct pci_dev`.
//!
//! The code allocates nothing: the map and the virtual config are fixed 4 KiB arrays.
//!
//! Accesses take `&self`: like upstream's, they run without a lock (two threads of a user
//! may race on the virtual bytes, as they do on upstream's `vconfig`), so the virtual config
//! and the BAR fixup flag are relaxed atomics. Building the state ([`PciConfig::init`])
//! takes `&mut self`.
//!
//! Files: [`regs`] (register names), [`perm`] (the tables), [`caps`] (capability lengths),
//! [`init`] (building map and vconfig), [`bar`] (BAR sizing and restore), [`access`] (the
//! access path and the generic handlers), [`handlers`] (the capability write handlers).

use crate::errno::Errno;
use core::sync::atomic::{
    AtomicBool,
    AtomicU8,
    Ordering::Relaxed, //
};

pub mod access;
pub mod bar;
pub mod caps;
pub mod handlers;
pub mod init;
pub mod perm;
pub mod regs;

use perm::{Table, MSI_PERM_MAX};
use regs::*;

/// The power state the user asked for through the PM capability (`pci_power_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerState {
    /// `PCI_D0`.
    D0,
    /// `PCI_D1`.
    D1,
    /// `PCI_D2`.
    D2,
    /// `PCI_D3hot`.
    D3Hot,
}

/// What upstream logs with `pci_warn`/`pci_info`/`pci_dbg`; the kernel side prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `vfio_cap_init`/`vfio_ecap_init`: "hiding cap/ecap" (debug).
    Hiding { ext: bool, cap: u16, pos: usize },
    /// "PCI config conflict @pos, was cap X now cap Y" (warning).
    Conflict {
        ext: bool,
        pos: usize,
        was: u8,
        now: u16,
    },
    /// "unknown length for PCI cap/ecap" (warning).
    UnknownLength { ext: bool, cap: u16, pos: usize },
    /// "Hardware bug: VF reports bogus INTx pin" (warning).
    BogusVfIntxPin(u8),
    /// `vfio_bar_restore`: "reset recovery - restoring BARs" (info).
    BarRestore,
}

/// The hardware and the kernel, as the config code needs them.
///
/// Offsets are config-space offsets; `count` is 1, 2 or 4 and the offset is aligned to it
/// (the pure code checks alignment before calling, as the PCI accessors do). Values are in
/// CPU order.
pub trait ConfigBackend {
    /// `pci_read_config_{byte,word,dword}` (used while building the map), with
    /// `pcibios_err_to_errno` applied to a failure.
    fn read_config(&mut self, pos: usize, count: usize) -> Result<u32, Errno>;
    /// `pci_user_read_config_*`.
    fn user_read_config(&mut self, pos: usize, count: usize) -> Result<u32, Errno>;
    /// `pci_user_write_config_*`.
    fn user_write_config(&mut self, pos: usize, count: usize, val: u32) -> Result<(), Errno>;
    /// `pci_read_vpd(pdev, addr, 4, &data)`: the data (0-filled past a short read), or the
    /// failure.
    fn read_vpd(&mut self, addr: u16) -> Result<u32, Errno>;
    /// `pci_write_vpd(pdev, addr, 4, &data)`: its return value.
    fn write_vpd(&mut self, addr: u16, data: u32) -> isize;
    /// The FLR a PCIe or AF capability write asked for: with `memory_lock` held for write
    /// and the BARs zapped, `pci_try_reset_function`, then (dma-buf) re-enable if
    /// `__vfio_pci_memory_enabled` with the virtual command register `vcmd`.
    fn reset_function(&mut self, vcmd: u16);
    /// `vfio_lock_and_set_power_state(vdev, state)`; `vcmd` as for `reset_function`.
    fn set_power_state(&mut self, state: PowerState, vcmd: u16);
    /// `pcie_get_mps(pdev)`.
    fn pcie_get_mps(&mut self) -> u32;
    /// `pcie_set_readrq(pdev, rq)`.
    fn pcie_set_readrq(&mut self, rq: u32);
    /// `vdev->irq_type == VFIO_PCI_MSI_IRQ_INDEX`: MSI is enabled by ioctl only.
    fn msi_enabled(&self) -> bool;
    /// `vdev->msi_qmax`.
    fn msi_qmax(&self) -> u8;
    /// `vdev->virq_disabled`.
    fn virq_disabled(&self) -> bool;
    /// Set `vdev->virq_disabled` and `vfio_pci_intx_mask` (true) or `_unmask` (false).
    fn set_virq_disabled(&mut self, disabled: bool);
    /// Before a command register write: take `memory_lock` for write, zapping BAR mappings
    /// (and revoking dma-bufs) first when the write clears memory enable (`!new_mem`).
    fn command_write_begin(&mut self, new_mem: bool);
    /// After it: with `Some(vcmd)` (the write succeeded), dma-buf re-enable if memory is
    /// enabled with the virtual command register `vcmd`; then release `memory_lock`. With
    /// `None` (it failed) only the release, as upstream's error path.
    fn command_write_end(&mut self, vcmd: Option<u16>);
    /// A log line upstream prints.
    fn notice(&mut self, _n: Notice) {}
}

/// A `struct resource` of the device as `vfio_bar_fixup` reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    /// `pci_resource_start`: 0 means unassigned by the host (unimplemented for the user).
    pub start: u64,
    /// `pci_resource_len`.
    pub len: u64,
    /// `pci_resource_flags` (`IORESOURCE_*`).
    pub flags: u64,
}

/// What the config code reads from `struct pci_dev` and `vfio_pci_core_device`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `pdev->cfg_size` (256 or 4096).
    pub cfg_size: usize,
    /// `pdev->vendor`, `pdev->device`: what a VF's virtual ID registers show.
    pub vendor: u16,
    pub device: u16,
    /// `pdev->is_virtfn`.
    pub is_virtfn: bool,
    /// `pdev->no_command_memory`.
    pub no_command_memory: bool,
    /// `vdev->nointx`.
    pub nointx: bool,
    /// `IS_ENABLED(CONFIG_VFIO_PCI_INTX)`.
    pub config_intx: bool,
    /// `pdev->irq`.
    pub irq: u32,
    /// `pdev->pcie_flags_reg` (what `pcie_caps_reg` and `pci_pcie_type` read).
    pub pcie_flags_reg: u16,
    /// The six BAR resources.
    pub bars: [Resource; PCI_STD_NUM_BARS],
    /// The ROM resource.
    pub rom: Resource,
    /// `pdev->romlen` when `pdev->rom` is set (a shadow ROM), else 0.
    pub shadow_rom_len: u64,
}

/// One device's virtual config state: the config-space part of `vfio_pci_core_device`.
pub struct PciConfig {
    /// The device, as given to [`PciConfig::init`].
    pub info: DeviceInfo,
    /// `vdev->pci_config_map`: the capability ID owning each byte.
    pub map: [u8; PCI_CFG_SPACE_EXP_SIZE],
    /// `vdev->vconfig`: the virtual config, little-endian.
    pub vconfig: VConfig,
    /// `vdev->rbar`: the BARs and ROM found at init, restored after a backdoor reset.
    pub rbar: [u32; 7],
    /// `vdev->bardirty`: the virtual BARs need `vfio_bar_fixup` before the next read.
    pub bardirty: AtomicBool,
    /// `vdev->extended_caps`. Like upstream's bit it is only ever assigned while walking a
    /// PCIe or PCI-X 2 capability, and survives re-initialisation.
    pub extended_caps: bool,
    /// `vdev->msi_perm`: built from the first MSI capability found.
    pub msi_perm: Option<(Table<MSI_PERM_MAX>, usize)>,
}

impl PciConfig {
    /// An empty state; [`PciConfig::init`] fills it.
    pub const fn empty() -> PciConfig {
        PciConfig {
            info: DeviceInfo {
                cfg_size: 0,
                vendor: 0,
                device: 0,
                is_virtfn: false,
                no_command_memory: false,
                nointx: false,
                config_intx: false,
                irq: 0,
                pcie_flags_reg: 0,
                bars: [Resource {
                    start: 0,
                    len: 0,
                    flags: 0,
                }; PCI_STD_NUM_BARS],
                rom: Resource {
                    start: 0,
                    len: 0,
                    flags: 0,
                },
                shadow_rom_len: 0,
            },
            map: [PCI_CAP_ID_INVALID; PCI_CFG_SPACE_EXP_SIZE],
            vconfig: VConfig::new(),
            rbar: [0; 7],
            bardirty: AtomicBool::new(false),
            extended_caps: false,
            msi_perm: None,
        }
    }

    /// `count` little-endian bytes of the virtual config at `pos` (within the array: every
    /// caller's offset is bounded by construction).
    pub(crate) fn vget(&self, pos: usize, count: usize) -> u32 {
        self.vconfig.get(pos, count)
    }

    /// Store `count` little-endian bytes of `val` at `pos` of the virtual config.
    pub(crate) fn vset(&self, pos: usize, count: usize, val: u32) {
        self.vconfig.set(pos, count, val)
    }

    /// Whether the virtual BARs were written since the last `vfio_bar_fixup`.
    pub fn bar_dirty(&self) -> bool {
        self.bardirty.load(Relaxed)
    }

    /// Records whether the virtual BARs need `vfio_bar_fixup`.
    pub(crate) fn set_bar_dirty(&self, dirty: bool) {
        self.bardirty.store(dirty, Relaxed)
    }

    /// The virtual command register.
    pub fn vcmd(&self) -> u16 {
        self.vget(PCI_COMMAND, 2) as u16
    }

    /// `__vfio_pci_memory_enabled`: may the BARs be accessed? Memory cannot be accessed in
    /// D3; devices without a memory enable bit (VFs) always count as enabled, others by the
    /// virtual bit the user wrote.
    pub fn memory_enabled(&self, current_state_below_d3hot: bool) -> bool {
        memory_enabled(
            self.vcmd(),
            self.info.no_command_memory,
            current_state_below_d3hot,
        )
    }

    /// `vfio_config_free`: forget the per-device MSI table.
    pub fn free(&mut self) {
        self.msi_perm = None;
    }
}

/// `vdev->vconfig`: the virtual config space, one relaxed atomic per byte (the layout of a
/// byte array, which C readers of `vdev->vconfig` get a pointer to).
#[repr(transparent)]
pub struct VConfig([AtomicU8; PCI_CFG_SPACE_EXP_SIZE]);

impl VConfig {
    /// All zero.
    pub const fn new() -> Self {
        Self([const { AtomicU8::new(0) }; PCI_CFG_SPACE_EXP_SIZE])
    }

    /// Byte `pos`.
    pub fn byte(&self, pos: usize) -> u8 {
        self.0[pos].load(Relaxed)
    }

    /// Sets byte `pos` to `v`.
    pub fn set_byte(&self, pos: usize, v: u8) {
        self.0[pos].store(v, Relaxed)
    }

    /// `count` little-endian bytes at `pos` (within the array: every caller's offset is
    /// bounded by construction).
    pub fn get(&self, pos: usize, count: usize) -> u32 {
        let mut v = 0u32;
        for i in 0..count {
            v |= u32::from(self.byte(pos + i)) << (8 * i);
        }
        v
    }

    /// Stores `count` little-endian bytes of `val` at `pos`.
    pub fn set(&self, pos: usize, count: usize, val: u32) {
        for i in 0..count {
            // CAST: One byte of `val`.
            self.set_byte(pos + i, (val >> (8 * i)) as u8);
        }
    }

    /// Every byte zero.
    pub fn clear(&self) {
        for b in &self.0 {
            b.store(0, Relaxed);
        }
    }

    /// A copy of the bytes.
    pub fn to_bytes(&self) -> [u8; PCI_CFG_SPACE_EXP_SIZE] {
        core::array::from_fn(|i| self.byte(i))
    }

    /// The first byte, for C readers (`vdev->vconfig`).
    pub fn as_ptr(&self) -> *mut u8 {
        self.0[0].as_ptr()
    }
}

impl Default for VConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `__vfio_pci_memory_enabled` on its inputs: the virtual command register `vcmd`, whether
/// the device has no memory enable bit (VFs), whether it is above D3hot.
pub fn memory_enabled(vcmd: u16, no_command_memory: bool, below_d3hot: bool) -> bool {
    below_d3hot && (no_command_memory || vcmd & PCI_COMMAND_MEMORY != 0)
}

/// `pci_read_config_*` with its register alignment check (`PCI_OP_READ`: a misaligned
/// offset is `PCIBIOS_BAD_REGISTER_NUMBER`, `-EFAULT` after `pcibios_err_to_errno`).
/// Upstream does not align capability pointers, so a bogus odd one reaches this.
pub(crate) fn read_config<B: ConfigBackend>(
    b: &mut B,
    pos: usize,
    count: usize,
) -> Result<u32, Errno> {
    if !pos.is_multiple_of(count) {
        return Err(Errno::EFAULT);
    }
    b.read_config(pos, count)
}

/// `pci_user_read_config_*` with its alignment check (`-EINVAL`).
pub(crate) fn user_read<B: ConfigBackend>(
    b: &mut B,
    pos: usize,
    count: usize,
) -> Result<u32, Errno> {
    if !pos.is_multiple_of(count) {
        return Err(Errno::EINVAL);
    }
    b.user_read_config(pos, count)
}

/// `pci_user_write_config_*` with its alignment check (`-EINVAL`).
pub(crate) fn user_write<B: ConfigBackend>(
    b: &mut B,
    pos: usize,
    count: usize,
    val: u32,
) -> Result<(), Errno> {
    if !pos.is_multiple_of(count) {
        return Err(Errno::EINVAL);
    }
    b.user_write_config(pos, count, val)
}
