// SPDX-License-Identifier: GPL-2.0

//! Capability lengths: upstream's `pci_cap_length`, `pci_ext_cap_length`, `vfio_cap_len`,
//! `vfio_ext_cap_len`, `vfio_vc_cap_len` and `vfio_msi_cap_len`.
//!
//! A length of 0 hides the capability from the user's chain; [`VARIABLE`] means the length
//! is read from the capability itself.

use super::perm::{msi_perm, perm_size};
use super::regs::*;
use super::{read_config, ConfigBackend, Notice, PciConfig};
use crate::errno::Errno;

/// `0xFF` in upstream's tables: the length depends on the capability's contents.
pub const VARIABLE: usize = 0xff;

/// `pci_cap_length[cap]` for `cap <= PCI_CAP_ID_MAX`; IDs upstream does not list are 0.
pub const fn pci_cap_length(cap: u8) -> usize {
    match cap {
        PCI_CAP_ID_BASIC => PCI_STD_HEADER_SIZEOF,
        PCI_CAP_ID_PM => PCI_PM_SIZEOF,
        PCI_CAP_ID_AGP => PCI_AGP_SIZEOF,
        PCI_CAP_ID_VPD => PCI_CAP_VPD_SIZEOF,
        PCI_CAP_ID_SLOTID => 0,      // bridge - don't care
        PCI_CAP_ID_MSI => VARIABLE,  // 10, 14, 20, or 24
        PCI_CAP_ID_CHSWP => 0,       // cpci - not yet
        PCI_CAP_ID_PCIX => VARIABLE, // 8 or 24
        PCI_CAP_ID_HT => VARIABLE,   // hypertransport
        PCI_CAP_ID_VNDR => VARIABLE, // variable
        PCI_CAP_ID_DBG => 0,         // debug - don't care
        PCI_CAP_ID_CCRC => 0,        // cpci - not yet
        PCI_CAP_ID_SHPC => 0,        // hotswap - not yet
        PCI_CAP_ID_SSVID => 0,       // bridge - don't care
        PCI_CAP_ID_AGP3 => 0,        // AGP8x - not yet
        PCI_CAP_ID_SECDEV => 0,      // secure device not yet
        PCI_CAP_ID_EXP => VARIABLE,  // 20 or 44
        PCI_CAP_ID_MSIX => PCI_CAP_MSIX_SIZEOF,
        PCI_CAP_ID_SATA => VARIABLE,
        PCI_CAP_ID_AF => PCI_CAP_AF_SIZEOF,
        _ => 0,
    }
}

/// `pci_ext_cap_length[ecap]` for `ecap <= PCI_EXT_CAP_ID_MAX`; unlisted IDs are 0.
pub const fn pci_ext_cap_length(ecap: u16) -> usize {
    match ecap {
        PCI_EXT_CAP_ID_ERR => PCI_ERR_ROOT_COMMAND,
        PCI_EXT_CAP_ID_VC => VARIABLE,
        PCI_EXT_CAP_ID_DSN => PCI_EXT_CAP_DSN_SIZEOF,
        PCI_EXT_CAP_ID_PWR => PCI_EXT_CAP_PWR_SIZEOF,
        PCI_EXT_CAP_ID_RCLD => 0,  // root only - don't care
        PCI_EXT_CAP_ID_RCILC => 0, // root only - don't care
        PCI_EXT_CAP_ID_RCEC => 0,  // root only - don't care
        PCI_EXT_CAP_ID_MFVC => VARIABLE,
        PCI_EXT_CAP_ID_VC9 => VARIABLE, // same as CAP_ID_VC
        PCI_EXT_CAP_ID_RCRB => 0,       // root only - don't care
        PCI_EXT_CAP_ID_VNDR => VARIABLE,
        PCI_EXT_CAP_ID_CAC => 0, // obsolete
        PCI_EXT_CAP_ID_ACS => VARIABLE,
        PCI_EXT_CAP_ID_ARI => PCI_EXT_CAP_ARI_SIZEOF,
        PCI_EXT_CAP_ID_ATS => PCI_EXT_CAP_ATS_SIZEOF,
        PCI_EXT_CAP_ID_SRIOV => PCI_EXT_CAP_SRIOV_SIZEOF,
        PCI_EXT_CAP_ID_MRIOV => 0, // not yet
        PCI_EXT_CAP_ID_MCAST => PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF,
        PCI_EXT_CAP_ID_PRI => PCI_EXT_CAP_PRI_SIZEOF,
        PCI_EXT_CAP_ID_AMD_XXX => 0, // not yet
        PCI_EXT_CAP_ID_REBAR => VARIABLE,
        PCI_EXT_CAP_ID_DPA => VARIABLE,
        PCI_EXT_CAP_ID_TPH => VARIABLE,
        PCI_EXT_CAP_ID_LTR => PCI_EXT_CAP_LTR_SIZEOF,
        PCI_EXT_CAP_ID_SECPCI => 0, // not yet
        PCI_EXT_CAP_ID_PMUX => 0,   // not yet
        PCI_EXT_CAP_ID_PASID => 0,  // not yet
        PCI_EXT_CAP_ID_DVSEC => VARIABLE,
        _ => 0,
    }
}

impl PciConfig {
    /// `vfio_msi_cap_len`: the MSI capability's length from its flags; the first MSI
    /// capability also builds the device's MSI permission table.
    fn msi_cap_len<B: ConfigBackend>(&mut self, b: &mut B, pos: usize) -> Result<usize, Errno> {
        let flags = read_config(b, pos + PCI_MSI_FLAGS, 2)? as u16;
        let mut len = 10; // Minimum size
        if flags & PCI_MSI_FLAGS_64BIT != 0 {
            len += 4;
        }
        if flags & PCI_MSI_FLAGS_MASKBIT != 0 {
            len += 10;
        }
        if self.msi_perm.is_none() {
            self.msi_perm = Some((msi_perm(flags), perm_size(len)));
        }
        Ok(len)
    }

    /// `vfio_cap_len`: the length of a variable-length standard capability at `pos`.
    pub(crate) fn cap_len<B: ConfigBackend>(
        &mut self,
        b: &mut B,
        cap: u8,
        pos: usize,
    ) -> Result<usize, Errno> {
        match cap {
            PCI_CAP_ID_MSI => self.msi_cap_len(b, pos),
            PCI_CAP_ID_PCIX => {
                let word = read_config(b, pos + PCI_X_CMD, 2)? as u16;
                if pci_x_cmd_version(word) != 0 {
                    self.test_extended_caps(b);
                    Ok(PCI_CAP_PCIX_SIZEOF_V2)
                } else {
                    Ok(PCI_CAP_PCIX_SIZEOF_V0)
                }
            }
            // The length follows the next field.
            PCI_CAP_ID_VNDR => Ok(read_config(b, pos + PCI_CAP_FLAGS, 1)? as usize),
            PCI_CAP_ID_EXP => {
                self.test_extended_caps(b);
                // By version and type of the device's cached flags, as upstream's
                // pcie_caps_reg()/pci_pcie_type(), not of this capability.
                let flags = self.info.pcie_flags_reg;
                let rc_end = (flags & PCI_EXP_FLAGS_TYPE) >> 4 == PCI_EXP_TYPE_RC_END;
                Ok(if flags & PCI_EXP_FLAGS_VERS == 1 {
                    if rc_end {
                        0xc // "All Devices" only, no link
                    } else {
                        PCI_CAP_EXP_ENDPOINT_SIZEOF_V1
                    }
                } else if rc_end {
                    0x2c // No link
                } else {
                    PCI_CAP_EXP_ENDPOINT_SIZEOF_V2
                })
            }
            PCI_CAP_ID_HT => {
                let byte = read_config(b, pos + 3, 1)? as u8;
                Ok(if byte & HT_3BIT_CAP_MASK != 0 {
                    HT_CAP_SIZEOF_SHORT
                } else {
                    HT_CAP_SIZEOF_LONG
                })
            }
            PCI_CAP_ID_SATA => {
                let byte = read_config(b, pos + PCI_SATA_REGS, 1)? as u8 & PCI_SATA_REGS_MASK;
                Ok(if byte == PCI_SATA_REGS_INLINE {
                    PCI_SATA_SIZEOF_LONG
                } else {
                    PCI_SATA_SIZEOF_SHORT
                })
            }
            _ => {
                b.notice(Notice::UnknownLength {
                    ext: false,
                    cap: u16::from(cap),
                    pos,
                });
                Ok(0)
            }
        }
    }

    /// The "test for extended capabilities" of `vfio_cap_len`: a device with extended
    /// config space has them if the dword at 0x100 is not 0. The read's failure is ignored
    /// as upstream does, where the failed read leaves `~0` (`PCI_SET_ERROR_RESPONSE`).
    fn test_extended_caps<B: ConfigBackend>(&mut self, b: &mut B) {
        if self.info.cfg_size > PCI_CFG_SPACE_SIZE {
            let dword = b.read_config(PCI_CFG_SPACE_SIZE, 4).unwrap_or(!0);
            self.extended_caps = dword != 0;
        }
    }

    /// `vfio_ext_cap_len`: the length of a variable-length extended capability at `epos`.
    pub(crate) fn ext_cap_len<B: ConfigBackend>(
        &mut self,
        b: &mut B,
        ecap: u16,
        epos: usize,
    ) -> Result<usize, Errno> {
        match ecap {
            PCI_EXT_CAP_ID_VNDR => {
                let dword = read_config(b, epos + PCI_VNDR_HEADER, 4)?;
                Ok(((dword >> 20) & 0xfff) as usize)
            }
            PCI_EXT_CAP_ID_VC | PCI_EXT_CAP_ID_VC9 | PCI_EXT_CAP_ID_MFVC => vc_cap_len(b, epos),
            PCI_EXT_CAP_ID_ACS => {
                let byte = read_config(b, epos + PCI_ACS_CAP, 1)? as u8;
                if byte & PCI_ACS_EC != 0 {
                    let byte = read_config(b, epos + PCI_ACS_EGRESS_BITS, 1)? as usize;
                    let bits = if byte != 0 { (byte + 31) & !31 } else { 256 };
                    return Ok(8 + bits / 8);
                }
                Ok(8)
            }
            PCI_EXT_CAP_ID_REBAR => {
                let byte = read_config(b, epos + PCI_REBAR_CTRL, 1)? as u8;
                let nbar = (byte & PCI_REBAR_CTRL_NBAR_MASK) >> PCI_REBAR_CTRL_NBAR_SHIFT;
                Ok(4 + nbar as usize * 8)
            }
            PCI_EXT_CAP_ID_DPA => {
                let byte = read_config(b, epos + PCI_DPA_CAP, 1)? as u8;
                Ok(PCI_DPA_BASE_SIZEOF + (byte & PCI_DPA_CAP_SUBSTATE_MASK) as usize + 1)
            }
            PCI_EXT_CAP_ID_TPH => {
                let dword = read_config(b, epos + PCI_TPH_CAP, 4)?;
                if dword & PCI_TPH_CAP_LOC_MASK == PCI_TPH_LOC_CAP {
                    let sts = (dword & PCI_TPH_CAP_ST_MASK) >> PCI_TPH_CAP_ST_SHIFT;
                    return Ok(PCI_TPH_BASE_SIZEOF + sts as usize * 2 + 2);
                }
                Ok(PCI_TPH_BASE_SIZEOF)
            }
            PCI_EXT_CAP_ID_DVSEC => {
                let dword = read_config(b, epos + PCI_DVSEC_HEADER1, 4)?;
                Ok(((dword >> 20) & 0xfff) as usize)
            }
            _ => {
                b.notice(Notice::UnknownLength {
                    ext: true,
                    cap: ecap,
                    pos: epos,
                });
                Ok(0)
            }
        }
    }
}

/// `vfio_vc_cap_len`: VC (2 and 9) and MFVC. Arbitration tables are never writable by the
/// user, so only their presence matters.
fn vc_cap_len<B: ConfigBackend>(b: &mut B, pos: usize) -> Result<usize, Errno> {
    let evcc = read_config(b, pos + PCI_VC_PORT_CAP1, 4)? & PCI_VC_CAP1_EVCC;
    let tmp = read_config(b, pos + PCI_VC_PORT_CAP2, 4)?;
    let phases = if tmp & PCI_VC_CAP2_128_PHASE != 0 {
        128
    } else if tmp & PCI_VC_CAP2_64_PHASE != 0 {
        64
    } else if tmp & PCI_VC_CAP2_32_PHASE != 0 {
        32
    } else {
        0
    };
    let vc_arb = phases * 4;
    let mut len = PCI_CAP_VC_BASE_SIZEOF + (1 + evcc as usize) * PCI_CAP_VC_PER_VC_SIZEOF;
    if vc_arb != 0 {
        len = (len + 15) & !15;
        len += vc_arb / 8;
    }
    Ok(len)
}
