// SPDX-License-Identifier: GPL-2.0

//! The config-space registers and bits the virtualization uses, from
//! `include/uapi/linux/pci_regs.h` and `drivers/vfio/pci/vfio_pci_priv.h` (Linux 7.3).
//!
//! Only what `vfio_pci_config.c` names is here, under the C names, so the Rust reads like the
//! C it replaces.

#![allow(missing_docs)]

/// Size of conventional config space.
pub const PCI_CFG_SPACE_SIZE: usize = 256;
/// Size of PCI Express config space.
pub const PCI_CFG_SPACE_EXP_SIZE: usize = 4096;
/// The standard header.
pub const PCI_STD_HEADER_SIZEOF: usize = 64;
pub const PCI_STD_NUM_BARS: usize = 6;

pub const PCI_VENDOR_ID: usize = 0x00;
pub const PCI_DEVICE_ID: usize = 0x02;
pub const PCI_COMMAND: usize = 0x04;
pub const PCI_COMMAND_IO: u16 = 0x1;
pub const PCI_COMMAND_MEMORY: u16 = 0x2;
pub const PCI_COMMAND_INTX_DISABLE: u16 = 0x400;
pub const PCI_STATUS: usize = 0x06;
pub const PCI_STATUS_CAP_LIST: u16 = 0x10;
pub const PCI_CACHE_LINE_SIZE: usize = 0x0c;
pub const PCI_LATENCY_TIMER: usize = 0x0d;
pub const PCI_BIST: usize = 0x0f;
pub const PCI_BASE_ADDRESS_0: usize = 0x10;
pub const PCI_BASE_ADDRESS_1: usize = 0x14;
pub const PCI_BASE_ADDRESS_2: usize = 0x18;
pub const PCI_BASE_ADDRESS_3: usize = 0x1c;
pub const PCI_BASE_ADDRESS_4: usize = 0x20;
pub const PCI_BASE_ADDRESS_5: usize = 0x24;
pub const PCI_BASE_ADDRESS_SPACE_IO: u32 = 0x01;
pub const PCI_BASE_ADDRESS_SPACE_MEMORY: u32 = 0x00;
pub const PCI_BASE_ADDRESS_MEM_TYPE_64: u32 = 0x04;
pub const PCI_BASE_ADDRESS_MEM_PREFETCH: u32 = 0x08;
pub const PCI_ROM_ADDRESS: usize = 0x30;
pub const PCI_ROM_ADDRESS_ENABLE: u32 = 0x01;
pub const PCI_CAPABILITY_LIST: usize = 0x34;
pub const PCI_INTERRUPT_LINE: usize = 0x3c;
pub const PCI_INTERRUPT_PIN: usize = 0x3d;

pub const PCI_CAP_LIST_ID: usize = 0;
pub const PCI_CAP_LIST_NEXT: usize = 1;
pub const PCI_CAP_FLAGS: usize = 2;
pub const PCI_CAP_SIZEOF: usize = 4;

/// vfio-pci's fake capability ID for the standard header.
pub const PCI_CAP_ID_BASIC: u8 = 0;
pub const PCI_CAP_ID_PM: u8 = 0x01;
pub const PCI_CAP_ID_AGP: u8 = 0x02;
pub const PCI_CAP_ID_VPD: u8 = 0x03;
pub const PCI_CAP_ID_SLOTID: u8 = 0x04;
pub const PCI_CAP_ID_MSI: u8 = 0x05;
pub const PCI_CAP_ID_CHSWP: u8 = 0x06;
pub const PCI_CAP_ID_PCIX: u8 = 0x07;
pub const PCI_CAP_ID_HT: u8 = 0x08;
pub const PCI_CAP_ID_VNDR: u8 = 0x09;
pub const PCI_CAP_ID_DBG: u8 = 0x0a;
pub const PCI_CAP_ID_CCRC: u8 = 0x0b;
pub const PCI_CAP_ID_SHPC: u8 = 0x0c;
pub const PCI_CAP_ID_SSVID: u8 = 0x0d;
pub const PCI_CAP_ID_AGP3: u8 = 0x0e;
pub const PCI_CAP_ID_SECDEV: u8 = 0x0f;
pub const PCI_CAP_ID_EXP: u8 = 0x10;
pub const PCI_CAP_ID_MSIX: u8 = 0x11;
pub const PCI_CAP_ID_SATA: u8 = 0x12;
pub const PCI_CAP_ID_AF: u8 = 0x13;
pub const PCI_CAP_ID_EA: u8 = 0x14;
pub const PCI_CAP_ID_MAX: u8 = PCI_CAP_ID_EA;
/// A map byte no capability owns: raw access (`vfio_pci_priv.h`).
pub const PCI_CAP_ID_INVALID: u8 = 0xff;
/// A map byte a variant driver virtualized (igd's OpRegion address).
pub const PCI_CAP_ID_INVALID_VIRT: u8 = 0xfe;

pub const PCI_PM_SIZEOF: usize = 8;
pub const PCI_PM_PMC: usize = 2;
pub const PCI_PM_CAP_PME_MASK: u16 = 0xf800;
pub const PCI_PM_CTRL: usize = 4;
pub const PCI_PM_CTRL_NO_SOFT_RESET: u16 = 0x0008;
pub const PCI_PM_CTRL_STATE_MASK: u32 = 0x0003;
pub const PCI_PM_CTRL_PME_ENABLE: u32 = 0x0100;
pub const PCI_PM_CTRL_PME_STATUS: u32 = 0x8000;
pub const PCI_AGP_SIZEOF: usize = 12;

pub const PCI_CAP_VPD_SIZEOF: usize = 8;
pub const PCI_VPD_ADDR: usize = 2;
pub const PCI_VPD_ADDR_F: u16 = 0x8000;
pub const PCI_VPD_DATA: usize = 4;

pub const PCI_MSIX_FLAGS: usize = 2;
pub const PCI_MSIX_FLAGS_QSIZE: u16 = 0x07ff;
pub const PCI_MSIX_TABLE: usize = 4;
pub const PCI_MSIX_TABLE_BIR: u32 = 0x7;
pub const PCI_MSIX_TABLE_OFFSET: u32 = 0xffff_fff8;

pub const PCI_MSI_FLAGS: usize = 0x02;
pub const PCI_MSI_FLAGS_ENABLE: u16 = 0x0001;
pub const PCI_MSI_FLAGS_QMASK: u16 = 0x000e;
pub const PCI_MSI_FLAGS_QSIZE: u16 = 0x0070;
pub const PCI_MSI_FLAGS_64BIT: u16 = 0x0080;
pub const PCI_MSI_FLAGS_MASKBIT: u16 = 0x0100;
pub const PCI_MSI_ADDRESS_LO: usize = 0x04;
pub const PCI_MSI_ADDRESS_HI: usize = 0x08;
pub const PCI_MSI_DATA_32: usize = 0x08;
pub const PCI_MSI_MASK_32: usize = 0x0c;
pub const PCI_MSI_PENDING_32: usize = 0x10;
pub const PCI_MSI_DATA_64: usize = 0x0c;
pub const PCI_MSI_MASK_64: usize = 0x10;
pub const PCI_MSI_PENDING_64: usize = 0x14;

pub const PCI_CAP_MSIX_SIZEOF: usize = 12;
pub const PCI_CAP_AF_SIZEOF: usize = 6;
pub const PCI_AF_CAP: usize = 3;
pub const PCI_AF_CAP_TP: u8 = 0x01;
pub const PCI_AF_CAP_FLR: u8 = 0x02;
pub const PCI_AF_CTRL: usize = 4;
pub const PCI_AF_CTRL_FLR: u8 = 0x01;

pub const PCI_X_CMD: usize = 2;
pub const PCI_X_ECC_CSR: usize = 8;
pub const PCI_CAP_PCIX_SIZEOF_V0: usize = 8;
pub const PCI_CAP_PCIX_SIZEOF_V2: usize = 24;

/// `PCI_X_CMD_VERSION(x)`.
pub const fn pci_x_cmd_version(x: u16) -> u16 {
    (x >> 12) & 3
}

pub const PCI_EXP_FLAGS_VERS: u16 = 0x000f;
pub const PCI_EXP_FLAGS_TYPE: u16 = 0x00f0;
pub const PCI_EXP_TYPE_RC_END: u16 = 0x9;
pub const PCI_EXP_DEVCAP: usize = 0x04;
pub const PCI_EXP_DEVCAP_FLR: u32 = 0x1000_0000;
pub const PCI_EXP_DEVCTL: usize = 0x08;
pub const PCI_EXP_DEVCTL_PAYLOAD: u16 = 0x00e0;
pub const PCI_EXP_DEVCTL_PHANTOM: u16 = 0x0200;
pub const PCI_EXP_DEVCTL_READRQ: u16 = 0x7000;
pub const PCI_EXP_DEVCTL_BCR_FLR: u16 = 0x8000;
pub const PCI_EXP_DEVCTL2: usize = 0x28;
pub const PCI_EXP_DEVCTL2_ARI: u16 = 0x0020;
pub const PCI_CAP_EXP_ENDPOINT_SIZEOF_V1: usize = 20;
pub const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2: usize = 0x34;

pub const HT_3BIT_CAP_MASK: u8 = 0xe0;
pub const HT_CAP_SIZEOF_LONG: usize = 28;
pub const HT_CAP_SIZEOF_SHORT: usize = 24;
pub const PCI_SATA_REGS: usize = 4;
pub const PCI_SATA_REGS_MASK: u8 = 0xf;
pub const PCI_SATA_REGS_INLINE: u8 = 0xf;
pub const PCI_SATA_SIZEOF_SHORT: usize = 8;
pub const PCI_SATA_SIZEOF_LONG: usize = 16;

pub const PCI_EXT_CAP_ID_ERR: u16 = 0x01;
pub const PCI_EXT_CAP_ID_VC: u16 = 0x02;
pub const PCI_EXT_CAP_ID_DSN: u16 = 0x03;
pub const PCI_EXT_CAP_ID_PWR: u16 = 0x04;
pub const PCI_EXT_CAP_ID_RCLD: u16 = 0x05;
pub const PCI_EXT_CAP_ID_RCILC: u16 = 0x06;
pub const PCI_EXT_CAP_ID_RCEC: u16 = 0x07;
pub const PCI_EXT_CAP_ID_MFVC: u16 = 0x08;
pub const PCI_EXT_CAP_ID_VC9: u16 = 0x09;
pub const PCI_EXT_CAP_ID_RCRB: u16 = 0x0a;
pub const PCI_EXT_CAP_ID_VNDR: u16 = 0x0b;
pub const PCI_EXT_CAP_ID_CAC: u16 = 0x0c;
pub const PCI_EXT_CAP_ID_ACS: u16 = 0x0d;
pub const PCI_EXT_CAP_ID_ARI: u16 = 0x0e;
pub const PCI_EXT_CAP_ID_ATS: u16 = 0x0f;
pub const PCI_EXT_CAP_ID_SRIOV: u16 = 0x10;
pub const PCI_EXT_CAP_ID_MRIOV: u16 = 0x11;
pub const PCI_EXT_CAP_ID_MCAST: u16 = 0x12;
pub const PCI_EXT_CAP_ID_PRI: u16 = 0x13;
pub const PCI_EXT_CAP_ID_AMD_XXX: u16 = 0x14;
pub const PCI_EXT_CAP_ID_REBAR: u16 = 0x15;
pub const PCI_EXT_CAP_ID_DPA: u16 = 0x16;
pub const PCI_EXT_CAP_ID_TPH: u16 = 0x17;
pub const PCI_EXT_CAP_ID_LTR: u16 = 0x18;
pub const PCI_EXT_CAP_ID_SECPCI: u16 = 0x19;
pub const PCI_EXT_CAP_ID_PMUX: u16 = 0x1a;
pub const PCI_EXT_CAP_ID_PASID: u16 = 0x1b;
pub const PCI_EXT_CAP_ID_DVSEC: u16 = 0x23;
pub const PCI_EXT_CAP_ID_MAX: u16 = 0x31;

/// `PCI_EXT_CAP_ID(header)`.
pub const fn pci_ext_cap_id(header: u32) -> u16 {
    (header & 0xffff) as u16
}

/// `PCI_EXT_CAP_NEXT(header)`.
pub const fn pci_ext_cap_next(header: u32) -> usize {
    ((header >> 20) & 0xffc) as usize
}

pub const PCI_EXT_CAP_DSN_SIZEOF: usize = 12;
pub const PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF: usize = 40;
pub const PCI_EXT_CAP_PWR_SIZEOF: usize = 0x10;
pub const PCI_EXT_CAP_ARI_SIZEOF: usize = 8;
pub const PCI_EXT_CAP_ATS_SIZEOF: usize = 8;
pub const PCI_EXT_CAP_PRI_SIZEOF: usize = 16;
pub const PCI_EXT_CAP_SRIOV_SIZEOF: usize = 0x40;
pub const PCI_EXT_CAP_LTR_SIZEOF: usize = 8;

pub const PCI_ERR_UNCOR_STATUS: usize = 0x04;
pub const PCI_ERR_UNCOR_MASK: usize = 0x08;
pub const PCI_ERR_UNCOR_SEVER: usize = 0x0c;
pub const PCI_ERR_COR_STATUS: usize = 0x10;
pub const PCI_ERR_COR_MASK: usize = 0x14;
pub const PCI_ERR_CAP: usize = 0x18;
pub const PCI_ERR_ROOT_COMMAND: usize = 0x2c;
pub const PCI_ERR_UNC_UND: u32 = 0x0000_0001;
pub const PCI_ERR_UNC_DLP: u32 = 0x0000_0010;
pub const PCI_ERR_UNC_SURPDN: u32 = 0x0000_0020;
pub const PCI_ERR_UNC_POISON_TLP: u32 = 0x0000_1000;
pub const PCI_ERR_UNC_FCP: u32 = 0x0000_2000;
pub const PCI_ERR_UNC_COMP_TIME: u32 = 0x0000_4000;
pub const PCI_ERR_UNC_COMP_ABORT: u32 = 0x0000_8000;
pub const PCI_ERR_UNC_UNX_COMP: u32 = 0x0001_0000;
pub const PCI_ERR_UNC_RX_OVER: u32 = 0x0002_0000;
pub const PCI_ERR_UNC_MALF_TLP: u32 = 0x0004_0000;
pub const PCI_ERR_UNC_ECRC: u32 = 0x0008_0000;
pub const PCI_ERR_UNC_UNSUP: u32 = 0x0010_0000;
pub const PCI_ERR_UNC_ACSV: u32 = 0x0020_0000;
pub const PCI_ERR_UNC_INTN: u32 = 0x0040_0000;
pub const PCI_ERR_UNC_MCBTLP: u32 = 0x0080_0000;
pub const PCI_ERR_UNC_ATOMEG: u32 = 0x0100_0000;
pub const PCI_ERR_UNC_TLPPRE: u32 = 0x0200_0000;
pub const PCI_ERR_COR_RCVR: u32 = 0x0000_0001;
pub const PCI_ERR_COR_BAD_TLP: u32 = 0x0000_0040;
pub const PCI_ERR_COR_BAD_DLLP: u32 = 0x0000_0080;
pub const PCI_ERR_COR_REP_ROLL: u32 = 0x0000_0100;
pub const PCI_ERR_COR_REP_TIMER: u32 = 0x0000_1000;
pub const PCI_ERR_COR_ADV_NFAT: u32 = 0x0000_2000;
pub const PCI_ERR_COR_INTERNAL: u32 = 0x0000_4000;
pub const PCI_ERR_COR_LOG_OVER: u32 = 0x0000_8000;
pub const PCI_ERR_CAP_ECRC_GENE: u32 = 0x0000_0040;
pub const PCI_ERR_CAP_ECRC_CHKE: u32 = 0x0000_0100;
pub const PCI_PWR_DATA: usize = 0x08;

pub const PCI_VC_PORT_CAP1: usize = 0x04;
pub const PCI_VC_CAP1_EVCC: u32 = 0x7;
pub const PCI_VC_PORT_CAP2: usize = 0x08;
pub const PCI_VC_CAP2_32_PHASE: u32 = 0x2;
pub const PCI_VC_CAP2_64_PHASE: u32 = 0x4;
pub const PCI_VC_CAP2_128_PHASE: u32 = 0x8;
pub const PCI_CAP_VC_BASE_SIZEOF: usize = 0x10;
pub const PCI_CAP_VC_PER_VC_SIZEOF: usize = 0x0c;
pub const PCI_VNDR_HEADER: usize = 4;
pub const PCI_DVSEC_HEADER1: usize = 4;
pub const PCI_ACS_CAP: usize = 0x04;
pub const PCI_ACS_EC: u8 = 0x20;
pub const PCI_ACS_EGRESS_BITS: usize = 0x05;
pub const PCI_REBAR_CTRL: usize = 8;
pub const PCI_REBAR_CTRL_NBAR_MASK: u8 = 0xe0;
pub const PCI_REBAR_CTRL_NBAR_SHIFT: u8 = 5;
pub const PCI_DPA_CAP: usize = 4;
pub const PCI_DPA_CAP_SUBSTATE_MASK: u8 = 0x1f;
pub const PCI_DPA_BASE_SIZEOF: usize = 16;
pub const PCI_TPH_CAP: usize = 4;
pub const PCI_TPH_CAP_LOC_MASK: u32 = 0x600;
pub const PCI_TPH_LOC_CAP: u32 = 0x200;
pub const PCI_TPH_CAP_ST_MASK: u32 = 0x07ff_0000;
pub const PCI_TPH_CAP_ST_SHIFT: u32 = 16;
pub const PCI_TPH_BASE_SIZEOF: usize = 0xc;

/// `IRQ_NOTCONNECTED` (`include/linux/interrupt.h`).
pub const IRQ_NOTCONNECTED: u32 = 1 << 31;
/// `IORESOURCE_IO`, `IORESOURCE_PREFETCH`, `IORESOURCE_MEM_64` (`include/linux/ioport.h`).
pub const IORESOURCE_IO: u64 = 0x0000_0100;
pub const IORESOURCE_PREFETCH: u64 = 0x0000_2000;
pub const IORESOURCE_MEM_64: u64 = 0x0010_0000;
