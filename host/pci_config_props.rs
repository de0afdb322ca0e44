// SPDX-License-Identifier: GPL-2.0

//! Property tests of the config-space virtualization against the model
//! (`pci_config_model.rs`): the real code and the model run side by side on generated
//! devices (`pci_config_gen.rs`) and on the QEMU devices (`pci_config_devices.rs`), and
//! everything observable is compared after every step.

// Index loops over config bytes read best here.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;

use super::pci_config_devices::{edu, igb, nvme};
use super::pci_config_fake::Fake;
use super::pci_config_gen::{device, op, Dev, Op};
use super::pci_config_model::{Model, INVALID_VIRT};
use crate::pci_config::PciConfig;

/// `cases` cases, or `PROPTEST_CASES` for a deeper run; failures print their shrunk input
/// instead of being saved.
fn cfg(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

/// Fail naming the first byte where `a` and `b` differ (whole 4 KiB arrays are unreadable).
fn same_bytes(what: &str, a: &[u8], b: &[u8]) -> Result<(), TestCaseError> {
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        prop_assert!(
            false,
            "{} differs at {:#x}: {:#x} vs model {:#x}",
            what,
            i,
            a[i],
            b[i]
        );
    }
    Ok(())
}

/// Compare the real state with the model's.
fn same_state(pc: &PciConfig, m: &Model) -> Result<(), TestCaseError> {
    same_bytes("map", &pc.map, &m.map)?;
    same_bytes("vconfig", &pc.vconfig.to_bytes(), &m.v)?;
    prop_assert_eq!(pc.bar_dirty(), m.bardirty);
    prop_assert_eq!(pc.extended_caps, m.ext);
    Ok(())
}

proptest! {
    #![proptest_config(cfg(256))]

    /// `vfio_config_init` builds the model's map and vconfig and logs the same.
    #[test]
    fn init_matches_model(dev in device()) {
        let mut fr = Fake::new(&dev.bytes);
        let mut fm = fr.clone();
        let mut pc = Box::new(PciConfig::empty());
        let r = pc.init(&mut fr, dev.info);
        let m = Model::init(&mut fm, dev.info, false);
        prop_assert_eq!(&fr.log, &fm.log);
        match (r, m) {
            (Ok(()), Ok(m)) => same_state(&pc, &m)?,
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "init {:?} vs model {:?}", a, b.map(|_| ())),
        }
    }

    /// Random access sequences on random devices: see [`check`].
    #[test]
    fn accesses_match_model(dev in device(), ops in prop::collection::vec(op(), 1..40)) {
        check(dev, ops)?;
    }

}

proptest! {
    #![proptest_config(cfg(128))]

    /// The same on config spaces of random bytes (chains of garbage), for panics above all.
    #[test]
    fn random_bytes_match_model(
        dev in device(),
        bytes in prop::collection::vec(any::<u8>(), 4096),
        ops in prop::collection::vec(op(), 1..20),
    ) {
        let mut bytes = bytes;
        bytes[6] |= 0x10;
        check(Dev { bytes, caps: vec![0, 0x40, 0x100], ..dev }, ops)?;
    }

    /// The same on the QEMU devices of the test guest.
    #[test]
    fn qemu_devices_match_model(which in 0usize..3, ops in prop::collection::vec(op(), 1..60)) {
        let (c, info) = [igb, edu, nvme][which]();
        let caps = match which {
            0 => vec![0, 0x40, 0x50, 0x70, 0xa0, 0x100, 0x150, 0x160],
            1 => vec![0, 0x40],
            _ => vec![0, 0x40, 0x60, 0x80],
        };
        check(Dev { bytes: c.0, info, caps, virt_only: None }, ops)?;
    }
}

/// Run `ops` on `dev` through the real code and the model, comparing everything after each
/// step; writes must leave hardware bits upstream keeps virtual or read-only alone.
fn check(dev: Dev, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut fr = Fake::new(&dev.bytes);
    let mut fm = fr.clone();
    let mut pc = Box::new(PciConfig::empty());
    let r = pc.init(&mut fr, dev.info);
    let m = Model::init(&mut fm, dev.info, false);
    let (Ok(()), Ok(mut m)) = (r, m) else {
        return Ok(());
    };
    if let Some(at) = dev.virt_only {
        pc.set_virt_only(at, 4);
        m.map[at..at + 4].fill(INVALID_VIRT);
    }
    for op in ops {
        let op = match op {
            Op::Cap(k, o, v, w) => {
                let at = (dev.caps[k % dev.caps.len()] + o) as u64;
                if w {
                    Op::Write(at, v)
                } else {
                    Op::Read(at, v.len())
                }
            }
            op => op,
        };
        let hw_before = fr.hw.clone();
        m.clear_allowed();
        match op {
            Op::Read(p, n) => {
                let mut a = vec![0u8; n];
                let mut b = vec![0u8; n];
                let ra = pc.rw(&mut fr, &mut a[..], p, n, false);
                let rb = m.rw(&mut fm, p, &mut b, false);
                prop_assert_eq!(ra, rb);
                if ra.is_ok() {
                    prop_assert_eq!(a, b);
                }
                same_bytes("hardware after a read", &fr.hw, &hw_before)?;
            }
            Op::Write(p, v) => {
                let mut a = v.clone();
                let mut b = v.clone();
                let ra = pc.rw(&mut fr, &mut a[..], p, v.len(), true);
                let rb = m.rw(&mut fm, p, &mut b, true);
                prop_assert_eq!(ra, rb);
                for i in 0..4096 {
                    let changed = fr.hw[i] ^ hw_before[i];
                    if changed == 0 {
                        continue;
                    }
                    let ok = m.allowed[i];
                    prop_assert_eq!(
                        changed & !ok,
                        0,
                        "byte {:#x} changed {:#x}, writable {:#x}",
                        i,
                        changed,
                        ok
                    );
                }
            }
            Op::Msi(on, q) => {
                fr.msi_on = on;
                fm.msi_on = on;
                fr.qmax = q;
                fm.qmax = q;
            }
            Op::Mps(v) => {
                fr.mps = v;
                fm.mps = v;
            }
            Op::FailRead(at) => {
                fr.fail_read = at;
                fm.fail_read = at;
            }
            Op::FailWrite(at) => {
                fr.fail_write = at;
                fm.fail_write = at;
            }
            Op::FailVpd(x) => {
                fr.fail_vpd = x;
                fm.fail_vpd = x;
            }
            Op::Backdoor(at, v) => {
                fr.hw[at] = v;
                fm.hw[at] = v;
            }
            Op::Cap(..) => unreachable!(),
        }
        same_bytes("hardware", &fr.hw, &fm.hw)?;
        prop_assert_eq!(&fr.log, &fm.log, "log");
        same_bytes("vpd", &fr.vpd, &fm.vpd)?;
        prop_assert_eq!(fr.virq, fm.virq);
        same_state(&pc, &m)?;
    }
    Ok(())
}

/// The generators reach every handler and every init outcome (so the properties above are
/// not vacuous): a deterministic sample, counted by what the fake logged.
#[test]
fn generators_reach_every_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;
    let mut runner = TestRunner::deterministic();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut count = |k: &str| *seen.entry(k.to_string()).or_default() += 1;
    for _ in 0..400 {
        let dev = device().new_tree(&mut runner).unwrap().current();
        let ops = prop::collection::vec(op(), 1..40)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut f = Fake::new(&dev.bytes);
        let mut pc = Box::new(PciConfig::empty());
        match pc.init(&mut f, dev.info) {
            Ok(()) => count("init ok"),
            Err(e) => {
                count(&format!("init {e:?}"));
                continue;
            }
        }
        if pc.extended_caps {
            count("extended");
        }
        for op in ops {
            let (at, data, write) = match op {
                Op::Cap(k, o, v, w) => ((dev.caps[k % dev.caps.len()] + o) as u64, v, w),
                Op::Read(p, n) => (p, vec![0; n], false),
                Op::Write(p, v) => (p, v, true),
                Op::Msi(on, q) => {
                    f.msi_on = on;
                    f.qmax = q;
                    continue;
                }
                Op::FailRead(x) => {
                    f.fail_read = x;
                    continue;
                }
                Op::FailWrite(x) => {
                    f.fail_write = x;
                    continue;
                }
                Op::Backdoor(at, v) => {
                    f.hw[at] = v;
                    continue;
                }
                _ => continue,
            };
            let mut buf = data.clone();
            if let Err(e) = pc.rw(&mut f, &mut buf[..], at, data.len(), write) {
                count(&format!("{e:?}"));
            }
        }
        for e in &f.log {
            let k = format!("{e:?}");
            let k = k.trim_start_matches("Notice(").trim_end_matches(')');
            count(k.split(['(', ' ', '{']).next().unwrap());
        }
    }
    for k in [
        "init ok",
        "init EFAULT(14)",
        "init EINVAL(22)",
        "extended",
        "EFAULT(14)",
        "EIO(5)",
        "Write",
        "Reset",
        "Power",
        "Readrq",
        "VpdRead",
        "VpdWrite",
        "Virq",
        "CmdBegin",
        "Conflict",
        "Hiding",
        "BarRestore",
        "BogusVfIntxPin",
    ] {
        assert!(
            seen.get(k).copied().unwrap_or(0) > 0,
            "{k} never seen: {seen:?}"
        );
    }
}
