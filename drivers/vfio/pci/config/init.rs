// SPDX-License-Identifier: GPL-2.0

//! Building the capability map and the initial virtual config: upstream's
//! `vfio_config_init`, `vfio_cap_init`, `vfio_ecap_init`, `vfio_fill_vconfig_bytes` and
//! `vfio_update_pm_vconfig_bytes`.

use super::caps::{pci_cap_length, pci_ext_cap_length, VARIABLE};
use super::regs::*;
use super::{read_config, ConfigBackend, DeviceInfo, Notice, PciConfig};
use crate::errno::Errno;

/// `known_bogus_vf_intx_pin`: VFs known to report an INTx pin (not worth a warning).
const KNOWN_BOGUS_VF_INTX_PIN: [(u16, u16); 1] = [(0x8086, 0x270c)];

impl PciConfig {
    /// `vfio_config_init`: read the header and walk both capability chains, filling `map`
    /// and `vconfig` from the hardware.
    ///
    /// As upstream, `extended_caps` and the MSI table (`free` clears it) carry over from a
    /// previous call. Upstream writes past its `cfg_size` buffers when a bogus extended
    /// capability runs past 4 KiB; here that fails with `EINVAL`, which is what upstream's
    /// own read at 0x1000 returns right after (`pci_mmcfg_read`).
    pub fn init<B: ConfigBackend>(&mut self, b: &mut B, info: DeviceInfo) -> Result<(), Errno> {
        if info.cfg_size < PCI_STD_HEADER_SIZEOF || info.cfg_size > PCI_CFG_SPACE_EXP_SIZE {
            return Err(Errno::EINVAL);
        }
        self.info = info;
        self.map[..PCI_STD_HEADER_SIZEOF].fill(PCI_CAP_ID_BASIC);
        self.map[PCI_STD_HEADER_SIZEOF..].fill(PCI_CAP_ID_INVALID);
        // Upstream's vconfig is not zeroed; no byte of it is read before being filled
        // except where capabilities overlap, so zero is as good as any value.
        self.vconfig.clear();

        self.fill_vconfig_bytes(b, 0, PCI_STD_HEADER_SIZEOF)?;
        *self.bardirty.get_mut() = true;

        // For restore after reset.
        for i in 0..6 {
            self.rbar[i] = self.vget(PCI_BASE_ADDRESS_0 + 4 * i, 4);
        }
        self.rbar[6] = self.vget(PCI_ROM_ADDRESS, 4);

        if info.is_virtfn {
            self.vset(PCI_VENDOR_ID, 2, u32::from(info.vendor));
            self.vset(PCI_DEVICE_ID, 2, u32::from(info.device));
            // SR-IOV 1.1 3.4.1.18: a VF's interrupt pin is read-only zero. The register is
            // virtual anyway, so a bogus value is replaced.
            let pin = self.vconfig.byte(PCI_INTERRUPT_PIN);
            if pin != 0 && !KNOWN_BOGUS_VF_INTX_PIN.contains(&(info.vendor, info.device)) {
                b.notice(Notice::BogusVfIntxPin(pin));
            }
            self.vconfig.set_byte(PCI_INTERRUPT_PIN, 0);
        }
        if info.no_command_memory {
            // No memory enable bit to find set after pci_enable_device(): for consistency
            // with PFs the virtual one starts set.
            let cmd = self.vget(PCI_COMMAND, 2) | u32::from(PCI_COMMAND_MEMORY);
            self.vset(PCI_COMMAND, 2, cmd);
        }
        if !info.config_intx || info.nointx || info.irq == 0 || info.irq == IRQ_NOTCONNECTED {
            self.vconfig.set_byte(PCI_INTERRUPT_PIN, 0);
        }

        self.cap_init(b)?;
        self.ecap_init(b)
    }

    /// `vfio_fill_vconfig_bytes`: copy hardware into `vconfig` in the largest aligned chunks
    /// (assuming, like `pci_save_state`, every field supports dword access).
    fn fill_vconfig_bytes<B: ConfigBackend>(
        &mut self,
        b: &mut B,
        mut offset: usize,
        mut size: usize,
    ) -> Result<(), Errno> {
        while size != 0 {
            let filled = if size >= 4 && offset.is_multiple_of(4) {
                4
            } else if size >= 2 && offset.is_multiple_of(2) {
                2
            } else {
                1
            };
            let val = read_config(b, offset, filled)?;
            self.vset(offset, filled, val);
            offset += filled;
            size -= filled;
        }
        Ok(())
    }

    /// `vfio_update_pm_vconfig_bytes`: the guest cannot process PME, so PME_Support,
    /// PME_Status and PME_En read as 0.
    fn update_pm_vconfig_bytes(&mut self, offset: usize) {
        let pmc = self.vget(offset + PCI_PM_PMC, 2) & !u32::from(PCI_PM_CAP_PME_MASK);
        self.vset(offset + PCI_PM_PMC, 2, pmc);
        let ctrl =
            self.vget(offset + PCI_PM_CTRL, 2) & !(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS);
        self.vset(offset + PCI_PM_CTRL, 2, ctrl);
    }

    /// Mark `len` bytes at `pos` as owned by `cap`, warning about overlaps as upstream.
    fn claim<B: ConfigBackend>(&mut self, b: &mut B, ext: bool, cap: u16, pos: usize, len: usize) {
        for i in 0..len {
            let was = self.map[pos + i];
            if was != PCI_CAP_ID_INVALID {
                b.notice(Notice::Conflict {
                    ext,
                    pos: pos + i,
                    was,
                    now: cap,
                });
            }
        }
        // Upstream's memset keeps the low byte of an extended ID.
        self.map[pos..pos + len].fill(cap as u8);
    }

    /// `vfio_cap_init`: walk the standard chain (at most 48 entries); capabilities with
    /// no known length are unlinked from the virtual chain by rewriting the previous next
    /// pointer in `vconfig`.
    fn cap_init<B: ConfigBackend>(&mut self, b: &mut B) -> Result<(), Errno> {
        let status = read_config(b, PCI_STATUS, 2)? as u16;
        if status & PCI_STATUS_CAP_LIST == 0 {
            return Ok(());
        }
        let mut pos = read_config(b, PCI_CAPABILITY_LIST, 1)? as usize;
        // The next pointer to rewrite when skipping a capability.
        let mut prev = PCI_CAPABILITY_LIST;
        let mut loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / PCI_CAP_SIZEOF;
        let mut caps = 0;
        while pos != 0 && loops != 0 {
            loops -= 1;
            let cap = read_config(b, pos, 1)? as u8;
            let next = read_config(b, pos + PCI_CAP_LIST_NEXT, 1)? as u8;

            // ID 0 is a NULL capability, conflicting with the fake PCI_CAP_ID_BASIC: as it
            // has no content, it is hidden.
            let mut len = 0;
            if cap != 0 && cap <= PCI_CAP_ID_MAX {
                len = pci_cap_length(cap);
                if len == VARIABLE {
                    len = self.cap_len(b, cap, pos)?;
                }
            }
            if len == 0 {
                b.notice(Notice::Hiding {
                    ext: false,
                    cap: u16::from(cap),
                    pos,
                });
                self.vconfig.set_byte(prev, next);
                pos = next as usize;
                continue;
            }
            // pos <= 0xff and len <= 0xff: within the 4 KiB arrays.
            self.claim(b, false, u16::from(cap), pos, len);
            self.fill_vconfig_bytes(b, pos, len)?;
            if cap == PCI_CAP_ID_PM {
                self.update_pm_vconfig_bytes(pos);
            }
            prev = pos + PCI_CAP_LIST_NEXT;
            pos = next as usize;
            caps += 1;
        }
        // No capability left: clear the status flag.
        if caps == 0 {
            let status = self.vget(PCI_STATUS, 2) & !u32::from(PCI_STATUS_CAP_LIST);
            self.vset(PCI_STATUS, 2, status);
        }
        Ok(())
    }

    /// `vfio_ecap_init`: walk the extended chain. A hidden capability is unlinked through
    /// the previous header's next field, except the first, which anchors the chain at 0x100:
    /// it stays as a 4-byte placeholder with only its next field visible.
    fn ecap_init<B: ConfigBackend>(&mut self, b: &mut B) -> Result<(), Errno> {
        if !self.extended_caps {
            return Ok(());
        }
        let mut epos = PCI_CFG_SPACE_SIZE;
        let mut prev: Option<usize> = None;
        let mut loops = self.info.cfg_size.saturating_sub(PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
        let mut ecaps = 0;
        while loops != 0 && epos >= PCI_CFG_SPACE_SIZE {
            loops -= 1;
            let header = read_config(b, epos, 4)?;
            let ecap = pci_ext_cap_id(header);
            let mut hidden = false;
            let mut len = 0;
            if ecap <= PCI_EXT_CAP_ID_MAX {
                len = pci_ext_cap_length(ecap);
                if len == VARIABLE {
                    len = self.ext_cap_len(b, ecap, epos)?;
                }
            }
            if len == 0 {
                b.notice(Notice::Hiding {
                    ext: true,
                    cap: ecap,
                    pos: epos,
                });
                if let Some(p) = prev {
                    // Not the first in the chain: skip over it.
                    epos = pci_ext_cap_next(header);
                    let v = self.vget(p, 4) & !(0xffc << 20) | (epos as u32) << 20;
                    self.vset(p, 4, v);
                    continue;
                }
                // The first: a placeholder, whose ID the direct read virtualizes.
                len = PCI_CAP_SIZEOF;
                hidden = true;
            }
            if epos + len > PCI_CFG_SPACE_EXP_SIZE {
                return Err(Errno::EINVAL);
            }
            self.claim(b, true, ecap, epos, len);
            self.fill_vconfig_bytes(b, epos, len)?;
            // A placeholder shows only its next pointer. Only real ones count. (The spec
            // says ID 0, version 0, next 0 means none; users are hoped to follow next.)
            if hidden {
                let v = self.vget(epos, 4) & 0xffc << 20;
                self.vset(epos, 4, v);
            } else {
                ecaps += 1;
            }
            prev = Some(epos);
            epos = pci_ext_cap_next(header);
        }
        if ecaps == 0 {
            self.vset(PCI_CFG_SPACE_SIZE, 4, 0);
        }
        Ok(())
    }
}
