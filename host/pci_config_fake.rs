// SPDX-License-Identifier: GPL-2.0

//! A fake device for the config-space tests: 4 KiB of config registers as plain memory
//! (reads and writes, no RW1C or read-only bits), a VPD store, the state the interrupt code
//! owns (`irq_type`, `msi_qmax`, `virq_disabled`), and a log of everything the config code
//! asks of the kernel. Failures can be injected at an offset.

use crate::errno::Errno;
use crate::pci_config::{ConfigBackend, Notice, PowerState};

/// One thing the config code did to the device or asked of the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    /// `pci_user_write_config_*`.
    Write { pos: usize, count: usize, val: u32 },
    /// A reset (FLR through PCIe or AF).
    Reset { vcmd: u16 },
    /// A power state change.
    Power { state: PowerState, vcmd: u16 },
    /// `pcie_set_readrq`.
    Readrq(u32),
    /// `pci_read_vpd`.
    VpdRead(u16),
    /// `pci_write_vpd`.
    VpdWrite(u16, u32),
    /// INTx masked (true) or unmasked.
    Virq(bool),
    /// `memory_lock` taken for a command write (zapping if false).
    CmdBegin(bool),
    /// `memory_lock` released.
    CmdEnd(Option<u16>),
    /// A log line.
    Notice(Notice),
}

/// The fake device.
#[derive(Clone, Debug)]
pub struct Fake {
    /// Config space.
    pub hw: Vec<u8>,
    /// VPD contents (32 KiB addressable).
    pub vpd: Vec<u8>,
    /// What happened, in order.
    pub log: Vec<Ev>,
    /// User config reads covering this offset fail with `EIO`.
    pub fail_read: Option<usize>,
    /// User config writes covering this offset fail with `EIO`.
    pub fail_write: Option<usize>,
    /// VPD accesses fail.
    pub fail_vpd: bool,
    /// `irq_type == VFIO_PCI_MSI_IRQ_INDEX`.
    pub msi_on: bool,
    /// `msi_qmax`.
    pub qmax: u8,
    /// `virq_disabled`.
    pub virq: bool,
    /// What `pcie_get_mps` returns.
    pub mps: u32,
}

impl Fake {
    /// A device whose config space starts with `bytes` (the rest 0).
    pub fn new(bytes: &[u8]) -> Fake {
        let mut hw = vec![0u8; 4096];
        hw[..bytes.len()].copy_from_slice(bytes);
        Fake {
            hw,
            vpd: (0..0x8000u32).map(|i| (i * 7 + 3) as u8).collect(),
            log: Vec::new(),
            fail_read: None,
            fail_write: None,
            fail_vpd: false,
            msi_on: false,
            qmax: 0,
            virq: false,
            mps: 128,
        }
    }

    /// `count` bytes of hardware at `pos`, little-endian.
    pub fn get(&self, pos: usize, count: usize) -> u32 {
        (0..count).fold(0, |v, i| v | (self.hw[pos + i] as u32) << (8 * i))
    }

    /// Store `count` bytes of `val` at `pos`.
    pub fn set(&mut self, pos: usize, count: usize, val: u32) {
        for i in 0..count {
            self.hw[pos + i] = (val >> (8 * i)) as u8;
        }
    }

    /// The writes logged.
    pub fn writes(&self) -> Vec<(usize, usize, u32)> {
        self.log
            .iter()
            .filter_map(|e| match *e {
                Ev::Write { pos, count, val } => Some((pos, count, val)),
                _ => None,
            })
            .collect()
    }

    fn covers(at: Option<usize>, pos: usize, count: usize) -> bool {
        matches!(at, Some(a) if (pos..pos + count).contains(&a))
    }
}

impl ConfigBackend for Fake {
    fn read_config(&mut self, pos: usize, count: usize) -> Result<u32, Errno> {
        // x86 MMCONFIG: registers past 4 KiB do not exist.
        if pos + count > 4096 {
            return Err(Errno::EINVAL);
        }
        Ok(self.get(pos, count))
    }

    fn user_read_config(&mut self, pos: usize, count: usize) -> Result<u32, Errno> {
        assert_eq!(pos % count, 0, "misaligned user read reached the backend");
        if Self::covers(self.fail_read, pos, count) || pos + count > 4096 {
            return Err(Errno::EIO);
        }
        Ok(self.get(pos, count))
    }

    fn user_write_config(&mut self, pos: usize, count: usize, val: u32) -> Result<(), Errno> {
        assert_eq!(pos % count, 0, "misaligned user write reached the backend");
        if Self::covers(self.fail_write, pos, count) || pos + count > 4096 {
            return Err(Errno::EIO);
        }
        self.log.push(Ev::Write { pos, count, val });
        self.set(pos, count, val);
        Ok(())
    }

    fn read_vpd(&mut self, addr: u16) -> Result<u32, Errno> {
        self.log.push(Ev::VpdRead(addr));
        if self.fail_vpd {
            return Err(Errno::EIO);
        }
        let a = addr as usize;
        Ok((0..4).fold(0, |v, i| {
            v | (*self.vpd.get(a + i).unwrap_or(&0) as u32) << (8 * i)
        }))
    }

    fn write_vpd(&mut self, addr: u16, data: u32) -> isize {
        self.log.push(Ev::VpdWrite(addr, data));
        if self.fail_vpd {
            return -5;
        }
        for i in 0..4 {
            if let Some(b) = self.vpd.get_mut(addr as usize + i) {
                *b = (data >> (8 * i)) as u8;
            }
        }
        4
    }

    fn reset_function(&mut self, vcmd: u16) {
        self.log.push(Ev::Reset { vcmd });
    }

    fn set_power_state(&mut self, state: PowerState, vcmd: u16) {
        self.log.push(Ev::Power { state, vcmd });
    }

    fn pcie_get_mps(&mut self) -> u32 {
        self.mps
    }

    fn pcie_set_readrq(&mut self, rq: u32) {
        self.log.push(Ev::Readrq(rq));
    }

    fn msi_enabled(&self) -> bool {
        self.msi_on
    }

    fn msi_qmax(&self) -> u8 {
        self.qmax
    }

    fn virq_disabled(&self) -> bool {
        self.virq
    }

    fn set_virq_disabled(&mut self, disabled: bool) {
        self.virq = disabled;
        self.log.push(Ev::Virq(disabled));
    }

    fn command_write_begin(&mut self, new_mem: bool) {
        self.log.push(Ev::CmdBegin(new_mem));
    }

    fn command_write_end(&mut self, vcmd: Option<u16>) {
        self.log.push(Ev::CmdEnd(vcmd));
    }

    fn notice(&mut self, n: Notice) {
        self.log.push(Ev::Notice(n));
    }
}
