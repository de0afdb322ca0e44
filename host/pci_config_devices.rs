// SPDX-License-Identifier: GPL-2.0

//! The config spaces of the three QEMU devices the test guest has (`scripts/vm`): igb
//! (8086:10c9, behind a PCIe root port), edu (1234:11e8, conventional PCI) and nvme
//! (1b36:0010, on the q35 root bus), built by hand from QEMU's `igb_pci_realize`,
//! `pci_edu_realize` and `nvme_init_pci` (capabilities added at the head of the list, so
//! the chain runs opposite to the calls) since no VM runs here. The capability layouts and
//! BARs are QEMU's; register values QEMU or the guest's driver may set differently (link
//! fields, addresses, command) are plausible, not captured.

use super::pci_config_fake::{Ev, Fake};
use super::pci_config_tests::{info, rd, wr, Cfg};
use crate::pci_config::regs::*;
use crate::pci_config::{DeviceInfo, PciConfig, Resource};

fn mem_at(start: u64, len: u64, flags: u64) -> Resource {
    Resource { start, len, flags }
}

/// QEMU's default subsystem IDs (Red Hat, QEMU).
fn subsystem(c: &mut Cfg) {
    c.w16(0x2c, 0x1af4).w16(0x2e, 0x1100);
}

/// igb: PM 0x40 -> MSI 0x50 (64-bit, maskable, 1 vector) -> MSI-X 0x70 (10 vectors in
/// BAR3) -> PCIe 0xa0 (v2 endpoint, FLR); AER 0x100 -> ARI 0x150 -> SR-IOV 0x160. BARs:
/// 128K MMIO, 128K flash, 32-byte I/O, 16K 64-bit MSI-X.
pub fn igb() -> (Cfg, DeviceInfo) {
    let mut c = Cfg::new(0x8086, 0x10c9);
    c.w16(PCI_COMMAND, 0x0007)
        .w8(0x08, 0x01)
        .w8(0x0b, 0x02)
        .w8(PCI_CACHE_LINE_SIZE, 0x10)
        .w32(0x10, 0xfe80_0000)
        .w32(0x14, 0xfe82_0000)
        .w32(0x18, 0x0000_c001)
        .w32(0x1c, 0xfe84_0004)
        .w32(0x20, 0)
        .w8(PCI_CAPABILITY_LIST, 0x40)
        .w8(PCI_INTERRUPT_LINE, 11)
        .w8(PCI_INTERRUPT_PIN, 1);
    subsystem(&mut c);
    c.cap(0x40, PCI_CAP_ID_PM, 0x50).w16(0x42, 0x0022);
    c.cap(0x50, PCI_CAP_ID_MSI, 0x70).w16(0x52, 0x0180);
    c.cap(0x70, PCI_CAP_ID_MSIX, 0xa0)
        .w16(0x72, 0x0009)
        .w32(0x74, 0x0000_0003)
        .w32(0x78, 0x0000_2003);
    c.cap(0xa0, PCI_CAP_ID_EXP, 0)
        .w16(0xa2, 0x0002)
        .w32(0xa4, 0x1000_8000)
        .w16(0xa8, 0x2810)
        .w32(0xac, 0x0003_f411)
        .w16(0xb2, 0x0011);
    c.w32(0x100, 0x1502_0001)
        .w32(0x108, 0x0040_0000)
        .w32(0x10c, 0x0046_2030)
        .w32(0x118, 0x0000_00a0);
    c.w32(0x150, 0x1601_000e);
    c.w32(0x160, 0x0001_0010)
        .w16(0x16c, 8)
        .w16(0x16e, 8)
        .w16(0x174, 0x80)
        .w16(0x176, 2)
        .w16(0x17a, 0x10ca);
    let mut i = info(4096);
    i.vendor = 0x8086;
    i.device = 0x10c9;
    i.pcie_flags_reg = 0x0002;
    i.bars[0] = mem_at(0xfe80_0000, 0x20000, 0x200);
    i.bars[1] = mem_at(0xfe82_0000, 0x20000, 0x200);
    i.bars[2] = mem_at(0xc000, 32, IORESOURCE_IO);
    i.bars[3] = mem_at(0xfe84_0000, 0x4000, 0x200 | IORESOURCE_MEM_64);
    (c, i)
}

/// edu: conventional PCI, MSI at 0x40 (64-bit, 1 vector), 1M MMIO BAR0.
pub fn edu() -> (Cfg, DeviceInfo) {
    let mut c = Cfg::new(0x1234, 0x11e8);
    c.w16(PCI_COMMAND, 0x0006)
        .w8(0x08, 0x10)
        .w8(0x0b, 0xff)
        .w32(0x10, 0xfea0_0000)
        .w8(PCI_CAPABILITY_LIST, 0x40)
        .w8(PCI_INTERRUPT_LINE, 10)
        .w8(PCI_INTERRUPT_PIN, 1);
    subsystem(&mut c);
    c.cap(0x40, PCI_CAP_ID_MSI, 0).w16(0x42, 0x0080);
    let mut i = info(256);
    i.vendor = 0x1234;
    i.device = 0x11e8;
    i.irq = 10;
    i.bars[0] = mem_at(0xfea0_0000, 0x10_0000, 0x200);
    (c, i)
}

/// nvme: MSI-X 0x40 (65 vectors in BAR0) -> PCIe 0x80 (v2 root complex integrated
/// endpoint, FLR) -> PM 0x60; no extended capabilities (0x100 reads 0); 16K 64-bit BAR0.
pub fn nvme() -> (Cfg, DeviceInfo) {
    let mut c = Cfg::new(0x1b36, 0x0010);
    c.w16(PCI_COMMAND, 0x0406)
        .w8(0x08, 0x02)
        .w8(0x09, 0x02)
        .w8(0x0a, 0x08)
        .w8(0x0b, 0x01)
        .w32(0x10, 0xfeb0_0004)
        .w32(0x14, 0)
        .w8(PCI_CAPABILITY_LIST, 0x40)
        .w8(PCI_INTERRUPT_LINE, 11)
        .w8(PCI_INTERRUPT_PIN, 1);
    subsystem(&mut c);
    c.cap(0x40, PCI_CAP_ID_MSIX, 0x80)
        .w16(0x42, 0x0040)
        .w32(0x44, 0x0000_2000)
        .w32(0x48, 0x0000_3000);
    c.cap(0x60, PCI_CAP_ID_PM, 0)
        .w16(0x62, 0x0003)
        .w16(0x64, 0x0008);
    c.cap(0x80, PCI_CAP_ID_EXP, 0x60)
        .w16(0x82, 0x0092)
        .w32(0x84, 0x1000_8000)
        .w16(0x88, 0x2810);
    let mut i = info(4096);
    i.vendor = 0x1b36;
    i.device = 0x0010;
    i.pcie_flags_reg = 0x0092;
    i.bars[0] = mem_at(0xfeb0_0000, 0x4000, 0x200 | IORESOURCE_MEM_64);
    (c, i)
}

fn open(dev: (Cfg, DeviceInfo)) -> (Box<PciConfig>, Fake) {
    super::pci_config_tests::setup(&dev.0, dev.1)
}

/// The capability chain the user sees, walked with config reads: (id, offset) pairs.
fn chain(pc: &mut PciConfig, f: &mut Fake) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    if rd(pc, f, PCI_STATUS as u64, 2).unwrap() & PCI_STATUS_CAP_LIST as u64 == 0 {
        return out;
    }
    let mut pos = rd(pc, f, PCI_CAPABILITY_LIST as u64, 1).unwrap();
    while pos != 0 && out.len() < 48 {
        let hdr = rd(pc, f, pos, 2).unwrap();
        out.push((hdr as u8, pos));
        pos = hdr >> 8;
    }
    out
}

/// The extended chain the user sees: (id, offset) pairs.
fn ext_chain(pc: &mut PciConfig, f: &mut Fake) -> Vec<(u16, u64)> {
    let mut out = Vec::new();
    let mut pos = 0x100;
    while pos != 0 && out.len() < 16 {
        let hdr = rd(pc, f, pos, 4).unwrap();
        if hdr == 0 {
            break;
        }
        out.push((hdr as u16, pos));
        pos = (hdr >> 20) & 0xffc;
    }
    out
}

fn size_bars(pc: &mut PciConfig, f: &mut Fake) -> Vec<u64> {
    for bar in 0..6 {
        wr(pc, f, 0x10 + 4 * bar, 4, 0xffff_ffff).unwrap();
    }
    (0..6)
        .map(|bar| rd(pc, f, 0x10 + 4 * bar, 4).unwrap())
        .collect()
}

#[test]
fn igb_as_the_user_sees_it() {
    let (mut pc, mut f) = open(igb());
    assert_eq!(rd(&mut pc, &mut f, 0, 4), Ok(0x10c9_8086));
    assert_eq!(
        chain(&mut pc, &mut f),
        [(1, 0x40), (5, 0x50), (0x11, 0x70), (0x10, 0xa0)]
    );
    assert!(pc.extended_caps);
    assert_eq!(
        ext_chain(&mut pc, &mut f),
        [(1, 0x100), (0x0e, 0x150), (0x10, 0x160)]
    );
    assert_eq!(pc.map[0xa0..0xd4], [PCI_CAP_ID_EXP; 0x34]);
    assert_eq!(pc.map[0x100..0x12c], [1; 0x2c]);
    assert_eq!(pc.map[0x160..0x1a0], [0x10; 0x40]);
    assert_eq!(pc.map[0x12c], PCI_CAP_ID_INVALID);
    assert_eq!(
        size_bars(&mut pc, &mut f),
        [
            0xfffe_0000,
            0xfffe_0000,
            0xffff_ffe1,
            0xffff_c004,
            0xffff_ffff,
            0
        ]
    );
    // SR-IOV is read-only; MSI-X control too (its enable goes through the ioctl).
    wr(&mut pc, &mut f, 0x168, 2, 0x0009).unwrap();
    wr(&mut pc, &mut f, 0x72, 2, 0x8009).unwrap();
    assert_eq!(f.get(0x168, 2), 0);
    assert_eq!(f.get(0x72, 2), 0x0009);
    // FLR through the PCIe capability.
    wr(&mut pc, &mut f, 0xa8, 2, 0xa810).unwrap();
    assert!(f.log.contains(&Ev::Reset { vcmd: 0x0007 }));
    // MSI enable is the ioctl's.
    wr(&mut pc, &mut f, 0x52, 2, 0x0181).unwrap();
    assert_eq!(f.get(0x52, 2), 0x0180);
    // Nothing virtual leaked into the hardware BARs.
    assert_eq!(f.get(0x10, 4), 0xfe80_0000);
    assert_eq!(f.get(0x1c, 4), 0xfe84_0004);
}

#[test]
fn edu_as_the_user_sees_it() {
    let (mut pc, mut f) = open(edu());
    assert_eq!(rd(&mut pc, &mut f, 0, 4), Ok(0x11e8_1234));
    assert_eq!(chain(&mut pc, &mut f), [(5, 0x40)]);
    assert!(!pc.extended_caps);
    assert_eq!(pc.map[0x40..0x4e], [PCI_CAP_ID_MSI; 14]);
    assert_eq!(pc.map[0x4e], PCI_CAP_ID_INVALID);
    assert_eq!(pc.msi_perm.as_ref().map(|m| m.1), Some(16));
    assert_eq!(size_bars(&mut pc, &mut f), [0xfff0_0000, 0, 0, 0, 0, 0]);
    assert_eq!(rd(&mut pc, &mut f, PCI_INTERRUPT_PIN as u64, 1), Ok(1));
    // 64-bit address and data are virtual.
    wr(&mut pc, &mut f, 0x44, 4, 0xfee0_1000).unwrap();
    wr(&mut pc, &mut f, 0x4c, 2, 0x4041).unwrap();
    assert_eq!(rd(&mut pc, &mut f, 0x4c, 2), Ok(0x4041));
    assert_eq!(f.get(0x44, 4), 0);
    // Past the capability is unassigned space: raw.
    wr(&mut pc, &mut f, 0x50, 4, 0x1234_5678).unwrap();
    assert_eq!(f.get(0x50, 4), 0x1234_5678);
}

#[test]
fn nvme_as_the_user_sees_it() {
    let (mut pc, mut f) = open(nvme());
    assert_eq!(rd(&mut pc, &mut f, 0, 4), Ok(0x0010_1b36));
    assert_eq!(
        chain(&mut pc, &mut f),
        [(0x11, 0x40), (0x10, 0x80), (1, 0x60)]
    );
    // An RC integrated endpoint without link registers.
    assert_eq!(pc.map[0x80..0xac], [PCI_CAP_ID_EXP; 0x2c]);
    assert_eq!(pc.map[0xac], PCI_CAP_ID_INVALID);
    // 0x100 is 0: no extended capabilities, the space is raw.
    assert!(!pc.extended_caps);
    assert_eq!(pc.map[0x100], PCI_CAP_ID_INVALID);
    assert_eq!(ext_chain(&mut pc, &mut f), []);
    assert_eq!(
        size_bars(&mut pc, &mut f),
        [0xffff_c004, 0xffff_ffff, 0, 0, 0, 0]
    );
    // INTx disable set by the host shows; D3hot goes to the kernel, the state bits are not
    // written (PMCSR's other bits, No_Soft_Reset included, pass through).
    assert_eq!(rd(&mut pc, &mut f, PCI_COMMAND as u64, 2), Ok(0x0406));
    wr(&mut pc, &mut f, 0x64, 2, 0x000b).unwrap();
    assert!(f.log.iter().any(|e| matches!(e, Ev::Power { .. })));
    assert_eq!(f.get(0x64, 2), 0x0008);
}
