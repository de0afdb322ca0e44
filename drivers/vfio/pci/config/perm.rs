// SPDX-License-Identifier: GPL-2.0

//! Permission bits: upstream's `struct perm_bits` and the tables `vfio_pci_init_perm_bits`
//! fills (`vfio_pci_config.c`).
//!
//! Every config byte has a *virt* mask (bits read from and written to the virtual config,
//! never the hardware) and a *write* mask (bits the user may change). Upstream allocates the
//! shared tables once at module init; they never change afterwards, so here they are `static`s
//! built by `const fn`s that read like the C `init_*_perm` functions. Only the MSI table is
//! per device (its layout depends on the capability's flags), as upstream's `vdev->msi_perm`.

use super::regs::*;

/// Which read function a region uses (upstream's `perm_bits.readfn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFn {
    /// `vfio_default_config_read`: merge hardware and virtual bits.
    Default,
    /// `vfio_direct_config_read`: hardware, except the capability ID/next bytes.
    Direct,
    /// `vfio_raw_config_read`: hardware only.
    Raw,
    /// `vfio_virt_config_read`: virtual config only.
    Virt,
    /// `vfio_basic_config_read`: the header (BAR sizing, virtual memory enable).
    Basic,
    /// `vfio_msi_config_read`: refreshes the queue size available first.
    Msi,
}

/// Which write function a region uses (upstream's `perm_bits.writefn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFn {
    /// `vfio_default_config_write`.
    Default,
    /// `vfio_raw_config_write`: straight to hardware.
    Raw,
    /// `vfio_virt_config_write`: straight to the virtual config.
    Virt,
    /// `vfio_basic_config_write`.
    Basic,
    /// `vfio_pm_config_write`.
    Pm,
    /// `vfio_vpd_config_write`.
    Vpd,
    /// `vfio_exp_config_write`.
    Exp,
    /// `vfio_af_config_write`.
    Af,
    /// `vfio_msi_config_write`.
    Msi,
}

/// One region's permissions: upstream's `struct perm_bits`, with its tables borrowed.
#[derive(Clone, Copy, Debug)]
pub struct PermBits<'a> {
    /// Virtualized bits, one byte per config byte from the capability's start.
    pub virt: &'a [u8],
    /// Writable bits, likewise.
    pub write: &'a [u8],
    /// The read function.
    pub readfn: ReadFn,
    /// The write function; `None` drops writes.
    pub writefn: Option<WriteFn>,
}

/// `count` little-endian bytes of `table` from `offset`.
///
/// Bytes past the table read as 0 (neither virtual nor writable). Upstream reads past its
/// `kzalloc`ed table there, which happens only when two capabilities of one ID abut and
/// `vfio_find_cap_start` takes them for one; read-only pass-through is the safe reading.
fn table_bits(table: &[u8], offset: usize, count: usize) -> u32 {
    let mut v = 0u32;
    for i in 0..count {
        let b = table.get(offset + i).copied().unwrap_or(0);
        v |= u32::from(b) << (8 * i);
    }
    v
}

impl PermBits<'_> {
    /// The virt mask of `count` bytes at `offset` in the capability.
    pub fn virt_bits(&self, offset: usize, count: usize) -> u32 {
        table_bits(self.virt, offset, count)
    }

    /// The write mask of `count` bytes at `offset` in the capability.
    pub fn write_bits(&self, offset: usize, count: usize) -> u32 {
        table_bits(self.write, offset, count)
    }
}

/// A permission table of `N` bytes: `alloc_perm_bits` (zero: all readable, none writable,
/// none virtualized) and the `p_set*` helpers, usable in `const` context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table<const N: usize> {
    /// Virtualized bits.
    pub virt: [u8; N],
    /// Writable bits.
    pub write: [u8; N],
}

/// `round_up(size, 4)`: `alloc_perm_bits` sizes every table to whole dwords so an access
/// never has to care whether it runs past the end of a capability.
pub const fn perm_size(size: usize) -> usize {
    (size + 3) & !3
}

impl<const N: usize> Table<N> {
    /// All readable, none writable, none virtualized.
    pub const ZERO: Self = Table {
        virt: [0; N],
        write: [0; N],
    };

    /// `p_setb`.
    pub const fn setb(mut self, off: usize, virt: u8, write: u8) -> Self {
        self.virt[off] = virt;
        self.write[off] = write;
        self
    }

    /// `p_setw`: config space and the tables are little-endian.
    pub const fn setw(self, off: usize, virt: u16, write: u16) -> Self {
        self.setb(off, virt as u8, write as u8)
            .setb(off + 1, (virt >> 8) as u8, (write >> 8) as u8)
    }

    /// `p_setd`.
    pub const fn setd(self, off: usize, virt: u32, write: u32) -> Self {
        self.setw(off, virt as u16, write as u16).setw(
            off + 2,
            (virt >> 16) as u16,
            (write >> 16) as u16,
        )
    }

    /// The table as a region's permissions.
    pub const fn perm(&self, readfn: ReadFn, writefn: Option<WriteFn>) -> PermBits<'_> {
        PermBits {
            virt: &self.virt,
            write: &self.write,
            readfn,
            writefn,
        }
    }
}

const NO_VIRT: u32 = 0;
const ALL_VIRT: u32 = 0xffff_ffff;
const NO_WRITE: u32 = 0;
const ALL_WRITE: u32 = 0xffff_ffff;

/// `init_pci_cap_basic_perm`: the standard header.
pub static BASIC_PERM: Table<PCI_STD_HEADER_SIZEOF> = Table::ZERO
    // Virtualized for SR-IOV functions, which just have FFFF.
    .setw(PCI_VENDOR_ID, ALL_VIRT as u16, NO_WRITE as u16)
    .setw(PCI_DEVICE_ID, ALL_VIRT as u16, NO_WRITE as u16)
    // INTx disable is virtual: vfio-pci masks INTx itself, and emulates it on pre-2.3 devices.
    .setw(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, ALL_WRITE as u16)
    // The capability list bit, so an empty virtual chain can be hidden.
    .setw(PCI_STATUS, PCI_STATUS_CAP_LIST, NO_WRITE as u16)
    // No harm to write.
    .setb(PCI_CACHE_LINE_SIZE, NO_VIRT as u8, ALL_WRITE as u8)
    .setb(PCI_LATENCY_TIMER, NO_VIRT as u8, ALL_WRITE as u8)
    .setb(PCI_BIST, NO_VIRT as u8, ALL_WRITE as u8)
    // The user never touches the real BARs.
    .setd(PCI_BASE_ADDRESS_0, ALL_VIRT, ALL_WRITE)
    .setd(PCI_BASE_ADDRESS_1, ALL_VIRT, ALL_WRITE)
    .setd(PCI_BASE_ADDRESS_2, ALL_VIRT, ALL_WRITE)
    .setd(PCI_BASE_ADDRESS_3, ALL_VIRT, ALL_WRITE)
    .setd(PCI_BASE_ADDRESS_4, ALL_VIRT, ALL_WRITE)
    .setd(PCI_BASE_ADDRESS_5, ALL_VIRT, ALL_WRITE)
    .setd(PCI_ROM_ADDRESS, ALL_VIRT, ALL_WRITE)
    // The chain head, so capabilities can be skipped.
    .setb(PCI_CAPABILITY_LIST, ALL_VIRT as u8, NO_WRITE as u8)
    // Sometimes used by software: virtual.
    .setb(PCI_INTERRUPT_LINE, ALL_VIRT as u8, ALL_WRITE as u8)
    // Virtual so INTx can be hidden.
    .setb(PCI_INTERRUPT_PIN, ALL_VIRT as u8, NO_WRITE as u8);

/// `init_pci_cap_pm_perm`.
pub static PM_PERM: Table<{ perm_size(PCI_PM_SIZEOF) }> = Table::ZERO
    // The next pointer is always virtual, so capabilities can be unlinked.
    .setb(PCI_CAP_LIST_NEXT, ALL_VIRT as u8, NO_WRITE as u8)
    // The guest cannot process PME: PME_Support is virtual (cleared at init).
    .setw(PCI_PM_PMC, PCI_PM_CAP_PME_MASK, NO_WRITE as u16)
    // The power state is changed by vfio-pci on the user's behalf (the write handler), so
    // its bits are read-only; PME_Status and PME_En are virtual (cleared at init).
    .setd(
        PCI_PM_CTRL,
        PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
        !(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_STATE_MASK),
    );

/// `init_pci_cap_vpd_perm`: address and data are virtual, the write handler moves the data
/// through `pci_read_vpd`/`pci_write_vpd`.
pub static VPD_PERM: Table<{ perm_size(PCI_CAP_VPD_SIZEOF) }> = Table::ZERO
    .setb(PCI_CAP_LIST_NEXT, ALL_VIRT as u8, NO_WRITE as u8)
    .setw(PCI_VPD_ADDR, ALL_VIRT as u16, ALL_WRITE as u16)
    .setd(PCI_VPD_DATA, ALL_VIRT, ALL_WRITE);

/// `init_pci_cap_pcix_perm`: sized for version 2, only 8 bytes used in version 0.
pub static PCIX_PERM: Table<{ perm_size(PCI_CAP_PCIX_SIZEOF_V2) }> = Table::ZERO
    .setb(PCI_CAP_LIST_NEXT, ALL_VIRT as u8, NO_WRITE as u8)
    .setw(PCI_X_CMD, NO_VIRT as u16, ALL_WRITE as u16)
    .setd(PCI_X_ECC_CSR, NO_VIRT, ALL_WRITE);

/// `init_pci_cap_exp_perm`: sized for the largest layout. Device control is writable except
/// phantom functions (would confuse the IOMMU); FLR, MPS and MRRS are virtual (the write
/// handler resets, keeps MPS virtual, and sets MRRS with the physical MPS as floor). Device
/// control 2 is writable except ARI, which is set at probe.
pub static EXP_PERM: Table<{ perm_size(PCI_CAP_EXP_ENDPOINT_SIZEOF_V2) }> = Table::ZERO
    .setb(PCI_CAP_LIST_NEXT, ALL_VIRT as u8, NO_WRITE as u8)
    .setw(
        PCI_EXP_DEVCTL,
        PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ,
        !PCI_EXP_DEVCTL_PHANTOM,
    )
    .setw(PCI_EXP_DEVCTL2, NO_VIRT as u16, !PCI_EXP_DEVCTL2_ARI);

/// `init_pci_cap_af_perm`: only the (virtual) FLR bit is writable.
pub static AF_PERM: Table<{ perm_size(PCI_CAP_AF_SIZEOF) }> = Table::ZERO
    .setb(PCI_CAP_LIST_NEXT, ALL_VIRT as u8, NO_WRITE as u8)
    .setb(PCI_AF_CTRL, PCI_AF_CTRL_FLR, PCI_AF_CTRL_FLR);

const ERR_UNC_WRITABLE: u32 = PCI_ERR_UNC_UND
    | PCI_ERR_UNC_DLP
    | PCI_ERR_UNC_SURPDN
    | PCI_ERR_UNC_POISON_TLP
    | PCI_ERR_UNC_FCP
    | PCI_ERR_UNC_COMP_TIME
    | PCI_ERR_UNC_COMP_ABORT
    | PCI_ERR_UNC_UNX_COMP
    | PCI_ERR_UNC_RX_OVER
    | PCI_ERR_UNC_MALF_TLP
    | PCI_ERR_UNC_ECRC
    | PCI_ERR_UNC_UNSUP
    | PCI_ERR_UNC_ACSV
    | PCI_ERR_UNC_INTN
    | PCI_ERR_UNC_MCBTLP
    | PCI_ERR_UNC_ATOMEG
    | PCI_ERR_UNC_TLPPRE;

const ERR_COR_WRITABLE: u32 = PCI_ERR_COR_RCVR
    | PCI_ERR_COR_BAD_TLP
    | PCI_ERR_COR_BAD_DLLP
    | PCI_ERR_COR_REP_ROLL
    | PCI_ERR_COR_REP_TIMER
    | PCI_ERR_COR_ADV_NFAT
    | PCI_ERR_COR_INTERNAL
    | PCI_ERR_COR_LOG_OVER;

/// `init_pci_ext_cap_err_perm`: the header dword is virtual (it holds the next pointer, so
/// capabilities can be unlinked); the status, mask and severity bits 7.3 names, and ECRC
/// enables, are writable.
pub static ERR_PERM: Table<{ perm_size(PCI_ERR_ROOT_COMMAND) }> = Table::ZERO
    .setd(0, ALL_VIRT, NO_WRITE)
    .setd(PCI_ERR_UNCOR_STATUS, NO_VIRT, ERR_UNC_WRITABLE)
    .setd(PCI_ERR_UNCOR_MASK, NO_VIRT, ERR_UNC_WRITABLE)
    .setd(PCI_ERR_UNCOR_SEVER, NO_VIRT, ERR_UNC_WRITABLE)
    .setd(PCI_ERR_COR_STATUS, NO_VIRT, ERR_COR_WRITABLE)
    .setd(PCI_ERR_COR_MASK, NO_VIRT, ERR_COR_WRITABLE)
    .setd(
        PCI_ERR_CAP,
        NO_VIRT,
        PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE,
    );

/// `init_pci_ext_cap_pwr_perm`: writing the data selector is harmless.
pub static PWR_PERM: Table<{ perm_size(PCI_EXT_CAP_PWR_SIZEOF) }> = Table::ZERO
    .setd(0, ALL_VIRT, NO_WRITE)
    .setb(PCI_PWR_DATA, NO_VIRT as u8, ALL_WRITE as u8);

/// The largest MSI capability (64-bit, per-vector masking): 24 bytes.
pub const MSI_PERM_MAX: usize = 24;

/// `init_pci_cap_msi_perm`: built per device from the capability's flags. Only the low
/// byte of the control register is set up (the high byte is reserved); address and data are
/// virtual (the interrupt code programs the hardware), mask and pending bits pass through.
pub const fn msi_perm(flags: u16) -> Table<MSI_PERM_MAX> {
    let t = Table::ZERO
        .setb(PCI_CAP_LIST_NEXT, ALL_VIRT as u8, NO_WRITE as u8)
        .setb(PCI_MSI_FLAGS, ALL_VIRT as u8, ALL_WRITE as u8)
        .setd(PCI_MSI_ADDRESS_LO, ALL_VIRT, ALL_WRITE);
    if flags & PCI_MSI_FLAGS_64BIT != 0 {
        let t = t.setd(PCI_MSI_ADDRESS_HI, ALL_VIRT, ALL_WRITE).setw(
            PCI_MSI_DATA_64,
            ALL_VIRT as u16,
            ALL_WRITE as u16,
        );
        if flags & PCI_MSI_FLAGS_MASKBIT != 0 {
            t.setd(PCI_MSI_MASK_64, NO_VIRT, ALL_WRITE)
                .setd(PCI_MSI_PENDING_64, NO_VIRT, ALL_WRITE)
        } else {
            t
        }
    } else {
        let t = t.setw(PCI_MSI_DATA_32, ALL_VIRT as u16, ALL_WRITE as u16);
        if flags & PCI_MSI_FLAGS_MASKBIT != 0 {
            t.setd(PCI_MSI_MASK_32, NO_VIRT, ALL_WRITE)
                .setd(PCI_MSI_PENDING_32, NO_VIRT, ALL_WRITE)
        } else {
            t
        }
    }
}

/// `direct_ro_perms`, and every `cap_perms`/`ecap_perms` entry left at its default:
/// read-only, hardware values with the chain bytes virtualized.
pub const DIRECT_RO: PermBits<'static> = PermBits {
    virt: &[],
    write: &[],
    readfn: ReadFn::Direct,
    writefn: None,
};

/// `unassigned_perms`: bytes no capability owns are raw read-write (some devices hide
/// registers in the gaps, e.g. be2net; like BARs, hardware isolation is trusted).
pub const UNASSIGNED: PermBits<'static> = PermBits {
    virt: &[],
    write: &[],
    readfn: ReadFn::Raw,
    writefn: Some(WriteFn::Raw),
};

/// `virt_perms`: `PCI_CAP_ID_INVALID_VIRT` bytes live in the virtual config only.
pub const VIRT: PermBits<'static> = PermBits {
    virt: &[],
    write: &[],
    readfn: ReadFn::Virt,
    writefn: Some(WriteFn::Virt),
};

/// Vendor-specific capabilities: hardware reads (chain bytes virtual), raw writes.
const VENDOR: PermBits<'static> = PermBits {
    virt: &[],
    write: &[],
    readfn: ReadFn::Direct,
    writefn: Some(WriteFn::Raw),
};

/// `cap_perms[cap]` for a standard capability ID (0 is the header). MSI is per device and
/// not here (see [`msi_perm`]).
pub fn cap_perms(cap: u8) -> PermBits<'static> {
    match cap {
        PCI_CAP_ID_BASIC => BASIC_PERM.perm(ReadFn::Basic, Some(WriteFn::Basic)),
        PCI_CAP_ID_PM => PM_PERM.perm(ReadFn::Default, Some(WriteFn::Pm)),
        PCI_CAP_ID_VPD => VPD_PERM.perm(ReadFn::Default, Some(WriteFn::Vpd)),
        PCI_CAP_ID_PCIX => PCIX_PERM.perm(ReadFn::Default, Some(WriteFn::Default)),
        PCI_CAP_ID_VNDR => VENDOR,
        PCI_CAP_ID_EXP => EXP_PERM.perm(ReadFn::Default, Some(WriteFn::Exp)),
        PCI_CAP_ID_AF => AF_PERM.perm(ReadFn::Default, Some(WriteFn::Af)),
        _ => DIRECT_RO,
    }
}

/// `ecap_perms[ecap]` for an extended capability ID up to `PCI_EXT_CAP_ID_MAX`.
pub fn ecap_perms(ecap: u8) -> PermBits<'static> {
    match u16::from(ecap) {
        PCI_EXT_CAP_ID_ERR => ERR_PERM.perm(ReadFn::Default, Some(WriteFn::Default)),
        PCI_EXT_CAP_ID_PWR => PWR_PERM.perm(ReadFn::Default, Some(WriteFn::Default)),
        PCI_EXT_CAP_ID_VNDR | PCI_EXT_CAP_ID_DVSEC => VENDOR,
        _ => DIRECT_RO,
    }
}
