// SPDX-License-Identifier: GPL-2.0

//! The capability-specific read and write functions: upstream's `vfio_basic_config_read`,
//! `vfio_basic_config_write`, `vfio_pm_config_write`, `vfio_vpd_config_write`,
//! `vfio_exp_config_write`, `vfio_af_config_write`, `vfio_msi_config_read` and
//! `vfio_msi_config_write`.
//!
//! Each first does the default access with its capability's permission bits, then acts on
//! what the user asked for in virtual registers: a reset, a power state, a VPD transfer,
//! MSI flags, INTx masking.

use super::access::Chunk;
use super::regs::*;
use super::{user_read, user_write, ConfigBackend, PciConfig, PowerState};
use crate::errno::Errno;

/// `is_bar(offset)`: the BARs and the ROM BAR of the header.
fn is_bar(offset: usize) -> bool {
    (PCI_BASE_ADDRESS_0..PCI_BASE_ADDRESS_5 + 4).contains(&offset)
        || (PCI_ROM_ADDRESS..PCI_ROM_ADDRESS + 4).contains(&offset)
}

impl PciConfig {
    /// `vfio_basic_config_read`: BARs are sized first; a device without memory enable
    /// (`no_command_memory`) shows the virtual one.
    pub(crate) fn basic_read<B: ConfigBackend>(&self, b: &mut B, c: &Chunk) -> Result<u32, Errno> {
        if is_bar(c.offset) {
            self.bar_fixup();
        }
        let mut val = self.default_read(b, c)?;
        if c.offset == PCI_COMMAND && self.info.no_command_memory {
            val |= u32::from(self.vcmd() & PCI_COMMAND_MEMORY);
        }
        Ok(val)
    }

    /// `vfio_basic_config_write`.
    ///
    /// A write at the command register runs under `memory_lock` (zapping the BARs when
    /// memory is being disabled), and first restores the BARs when hardware shows a reset
    /// the kernel did not see: memory or I/O enable set virtually but clear in hardware
    /// while the user sets it again, or a BAR differing from its value at init. The memory
    /// and I/O enable bits the user wrote are kept in `vconfig` for that test (reads show
    /// hardware's). INTx disable is virtual and turned into INTx masking.
    pub(crate) fn basic_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        let is_cmd = c.offset == PCI_COMMAND;
        let mut new_cmd = 0u16;
        if is_cmd {
            let phys_cmd = user_read(b, PCI_COMMAND, 2)? as u16;
            new_cmd = val as u16;
            let vcmd = self.vcmd();
            let phys_io = phys_cmd & PCI_COMMAND_IO != 0;
            let virt_io = vcmd & PCI_COMMAND_IO != 0;
            let new_io = new_cmd & PCI_COMMAND_IO != 0;
            let phys_mem = phys_cmd & PCI_COMMAND_MEMORY != 0;
            let virt_mem = vcmd & PCI_COMMAND_MEMORY != 0;
            let new_mem = new_cmd & PCI_COMMAND_MEMORY != 0;

            b.command_write_begin(new_mem);

            // SR-IOV devices trigger this: memory enable is caught here, I/O later.
            if (new_mem && virt_mem && !phys_mem && !self.info.no_command_memory)
                || (new_io && virt_io && !phys_io)
                || self.need_bar_restore(b)
            {
                self.bar_restore(b);
            }
        }

        if let Err(e) = self.default_write(b, c, val) {
            if is_cmd {
                b.command_write_end(None);
            }
            return Err(e);
        }

        if is_cmd {
            let mask = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
            let vcmd = self.vcmd() & !mask | new_cmd & mask;
            self.vset(PCI_COMMAND, 2, u32::from(vcmd));
            b.command_write_end(Some(vcmd));
        }

        // Emulate INTx disable.
        if c.offset == PCI_COMMAND || c.offset == PCI_COMMAND + 1 {
            let virt_intx_disable = self.vcmd() & PCI_COMMAND_INTX_DISABLE != 0;
            if virt_intx_disable && !b.virq_disabled() {
                b.set_virq_disabled(true);
            } else if !virt_intx_disable && b.virq_disabled() {
                b.set_virq_disabled(false);
            }
        }

        if is_bar(c.offset) {
            self.set_bar_dirty(true);
        }
        Ok(())
    }

    /// `vfio_pm_config_write`: a write at PMCSR asks the kernel for the power state in the
    /// value's state bits (which are read-only in hardware, so the default write kept them).
    pub(crate) fn pm_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        self.default_write(b, c, val)?;
        if c.offset == PCI_PM_CTRL {
            let state = match val & PCI_PM_CTRL_STATE_MASK {
                0 => PowerState::D0,
                1 => PowerState::D1,
                2 => PowerState::D2,
                _ => PowerState::D3Hot,
            };
            b.set_power_state(state, self.vcmd());
        }
        Ok(())
    }

    /// `vfio_vpd_config_write`: address and data are virtual; a write reaching the high
    /// byte of the address register (the F flag) starts a transfer: F set writes the data
    /// register to VPD, F clear reads VPD into it. F is then toggled to signal completion;
    /// on failure it is not, and the user's driver is expected to time out.
    pub(crate) fn vpd_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        self.default_write(b, c, val)?;
        if c.offset > PCI_VPD_ADDR + 1 || c.offset + c.count <= PCI_VPD_ADDR + 1 {
            return Ok(());
        }
        let start = c.pos - c.offset;
        let mut addr = self.vget(start + PCI_VPD_ADDR, 2) as u16;
        if addr & PCI_VPD_ADDR_F != 0 {
            let data = self.vget(start + PCI_VPD_DATA, 4);
            if b.write_vpd(addr & !PCI_VPD_ADDR_F, data) != 4 {
                return Ok(());
            }
        } else {
            match b.read_vpd(addr) {
                Ok(data) => self.vset(start + PCI_VPD_DATA, 4, data),
                Err(_) => return Ok(()),
            }
        }
        addr ^= PCI_VPD_ADDR_F;
        self.vset(start + PCI_VPD_ADDR, 2, u32::from(addr));
        Ok(())
    }

    /// `vfio_exp_config_write`.
    ///
    /// FLR is virtual: when set, it is cleared (the spec says it reads 0) and, if the
    /// device advertises FLR, the function is reset (maybe not by FLR). MPS stays virtual
    /// (a proper value needs a system-wide view); a changed MRRS goes to hardware with the
    /// physical MPS as floor, so full TLPs are still used.
    pub(crate) fn exp_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        let ctrl_pos = c.pos - c.offset + PCI_EXP_DEVCTL;
        let readrq = self.vget(ctrl_pos, 2) as u16 & PCI_EXP_DEVCTL_READRQ;

        self.default_write(b, c, val)?;

        let ctrl = self.vget(ctrl_pos, 2) as u16;
        if ctrl & PCI_EXP_DEVCTL_BCR_FLR != 0 {
            self.vset(ctrl_pos, 2, u32::from(ctrl & !PCI_EXP_DEVCTL_BCR_FLR));
            let cap = user_read(b, c.pos - c.offset + PCI_EXP_DEVCAP, 4);
            if matches!(cap, Ok(cap) if cap & PCI_EXP_DEVCAP_FLR != 0) {
                b.reset_function(self.vcmd());
            }
        }

        let ctrl = self.vget(ctrl_pos, 2) as u16;
        if readrq != ctrl & PCI_EXP_DEVCTL_READRQ {
            let rq = 128u32 << ((ctrl & PCI_EXP_DEVCTL_READRQ) >> 12);
            let rq = rq.max(b.pcie_get_mps());
            b.pcie_set_readrq(rq);
        }
        Ok(())
    }

    /// `vfio_af_config_write`: FLR is virtual as for PCIe; the reset needs both the FLR
    /// and TP capability bits.
    pub(crate) fn af_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        let ctrl_pos = c.pos - c.offset + PCI_AF_CTRL;
        self.default_write(b, c, val)?;
        let ctrl = self.vconfig.byte(ctrl_pos);
        if ctrl & PCI_AF_CTRL_FLR != 0 {
            self.vconfig.set_byte(ctrl_pos, ctrl & !PCI_AF_CTRL_FLR);
            let cap = user_read(b, c.pos - c.offset + PCI_AF_CAP, 1);
            if matches!(cap, Ok(cap) if cap as u8 & PCI_AF_CAP_FLR != 0
                && cap as u8 & PCI_AF_CAP_TP != 0)
            {
                b.reset_function(self.vcmd());
            }
        }
        Ok(())
    }

    /// `vfio_msi_config_read`: refresh the queue size available from `msi_qmax` before a
    /// read touching (or ending right before) the flags.
    ///
    /// As upstream, the refresh lands on the word at the capability's *start* (the ID and
    /// next bytes), not on the flags: bits 1-3 of the virtual ID byte take `msi_qmax` while
    /// the flags keep the hardware's value. Reads never show it (the ID byte is not
    /// virtual), so the user sees the hardware's Multiple Message Capable field.
    pub(crate) fn msi_read<B: ConfigBackend>(&self, b: &mut B, c: &Chunk) -> Result<u32, Errno> {
        if c.offset <= PCI_MSI_FLAGS && c.offset + c.count >= PCI_MSI_FLAGS {
            let start = self.find_cap_start(c.pos);
            let flags =
                self.vget(start, 2) as u16 & !PCI_MSI_FLAGS_QMASK | u16::from(b.msi_qmax()) << 1;
            self.vset(start, 2, u32::from(flags));
        }
        self.default_read(b, c)
    }

    /// `vfio_msi_config_write`: MSI is enabled by ioctl only, so the enable bit is cleared
    /// unless MSI is the interrupt type in use, and the queue size is capped at `msi_qmax`;
    /// the resulting flags word goes to `vconfig` and to hardware.
    pub(crate) fn msi_write<B: ConfigBackend>(
        &self,
        b: &mut B,
        c: &Chunk,
        val: u32,
    ) -> Result<(), Errno> {
        self.default_write(b, c, val)?;
        if c.offset <= PCI_MSI_FLAGS && c.offset + c.count >= PCI_MSI_FLAGS {
            let start = self.find_cap_start(c.pos);
            let mut flags = self.vget(start + PCI_MSI_FLAGS, 2) as u16;
            if !b.msi_enabled() {
                flags &= !PCI_MSI_FLAGS_ENABLE;
            }
            let qmax = u16::from(b.msi_qmax());
            if (flags & PCI_MSI_FLAGS_QSIZE) >> 4 > qmax {
                flags &= !PCI_MSI_FLAGS_QSIZE;
                flags |= qmax << 4;
            }
            self.vset(start + PCI_MSI_FLAGS, 2, u32::from(flags));
            user_write(b, start + PCI_MSI_FLAGS, 2, u32::from(flags))?;
        }
        Ok(())
    }
}
