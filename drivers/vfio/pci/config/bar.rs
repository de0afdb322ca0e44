// SPDX-License-Identifier: GPL-2.0

//! The virtual BARs: upstream's `vfio_bar_fixup` (sizing), `vfio_generate_bar_flags`,
//! `vfio_need_bar_restore` and `vfio_bar_restore` (after a reset the kernel did not see).
//!
//! The user writes the BARs of `vconfig` only; before they are read back, the written
//! value is masked to the size of the host's resource and given the resource's type bits,
//! which is all BAR sizing needs.

use super::regs::*;
use super::{user_read, user_write, ConfigBackend, Notice, PciConfig, Resource};

/// `vfio_generate_bar_flags`: the low bits of a BAR for the host resource's type.
fn bar_flags(res: &Resource) -> u32 {
    if res.flags & IORESOURCE_IO != 0 {
        return PCI_BASE_ADDRESS_SPACE_IO;
    }
    let mut val = PCI_BASE_ADDRESS_SPACE_MEMORY;
    if res.flags & IORESOURCE_PREFETCH != 0 {
        val |= PCI_BASE_ADDRESS_MEM_PREFETCH;
    }
    if res.flags & IORESOURCE_MEM_64 != 0 {
        val |= PCI_BASE_ADDRESS_MEM_TYPE_64;
    }
    val
}

/// `roundup_pow_of_two` (of a non-zero length).
fn roundup_pow_of_two(n: u64) -> u64 {
    n.checked_next_power_of_two().unwrap_or(0)
}

impl PciConfig {
    /// `vfio_bar_fixup`: make the virtual BARs and ROM what hardware would show after the
    /// user's writes, if they were written since the last fixup.
    ///
    /// As upstream, the 64-bit test looks at the virtual BAR after masking, so the user's
    /// bit 2 survives in a 4-byte I/O BAR and makes the next BAR count as its upper half
    /// (it is masked with the upper half of the I/O BAR's mask and not given flags); after
    /// BAR 5 that is the CardBus CIS pointer at 0x28, which reads from hardware anyway.
    pub(crate) fn bar_fixup(&self) {
        if !self.bar_dirty() {
            return;
        }
        let mut i = 0;
        while i < PCI_STD_NUM_BARS {
            let pos = PCI_BASE_ADDRESS_0 + 4 * i;
            let res = self.info.bars[i];
            if res.start == 0 {
                // Unmapped by host = unimplemented to user.
                self.vset(pos, 4, 0);
                i += 1;
                continue;
            }
            let mask = !res.len.wrapping_sub(1);
            let vbar = self.vget(pos, 4) & mask as u32 | bar_flags(&res);
            self.vset(pos, 4, vbar);
            if vbar & PCI_BASE_ADDRESS_MEM_TYPE_64 != 0 {
                let upper = self.vget(pos + 4, 4) & (mask >> 32) as u32;
                self.vset(pos + 4, 4, upper);
                i += 1;
            }
            i += 1;
        }

        // REGION_INFO reports size 0 for a ROM that could not be read, but the BAR still
        // shows the real size if there is one (or the shadow ROM's).
        let rom = self.info.rom;
        let mask = if rom.start != 0 {
            Some(!rom.len.wrapping_sub(1))
        } else if self.info.shadow_rom_len != 0 {
            Some(!roundup_pow_of_two(self.info.shadow_rom_len).wrapping_sub(1))
        } else {
            None
        };
        let vrom = match mask {
            Some(m) => self.vget(PCI_ROM_ADDRESS, 4) & (m as u32 | PCI_ROM_ADDRESS_ENABLE),
            None => 0,
        };
        self.vset(PCI_ROM_ADDRESS, 4, vrom);
        self.set_bar_dirty(false);
    }

    /// `vfio_need_bar_restore`: does a BAR that was set at init differ in hardware now?
    pub(crate) fn need_bar_restore<B: ConfigBackend>(&self, b: &mut B) -> bool {
        for i in 0..6 {
            if self.rbar[i] != 0 {
                match user_read(b, PCI_BASE_ADDRESS_0 + 4 * i, 4) {
                    Ok(bar) if bar == self.rbar[i] => {}
                    _ => return true,
                }
            }
        }
        false
    }

    /// `vfio_bar_restore`: rewrite the BARs and ROM found at init after a reset the kernel
    /// did not see (not on VFs, whose BARs live in the PF); re-disable INTx for `nointx`.
    /// Failures are ignored, as upstream.
    pub(crate) fn bar_restore<B: ConfigBackend>(&self, b: &mut B) {
        if self.info.is_virtfn {
            return;
        }
        b.notice(Notice::BarRestore);
        for i in 0..6 {
            let _ = user_write(b, PCI_BASE_ADDRESS_0 + 4 * i, 4, self.rbar[i]);
        }
        let _ = user_write(b, PCI_ROM_ADDRESS, 4, self.rbar[6]);
        if self.info.nointx {
            // Upstream ignores the read's failure and writes what it has: the error
            // response ~0 from pci_user_read_config_word.
            let cmd = user_read(b, PCI_COMMAND, 2).unwrap_or(0xffff) as u16;
            let _ = user_write(b, PCI_COMMAND, 2, u32::from(cmd | PCI_COMMAND_INTX_DISABLE));
        }
    }
}
