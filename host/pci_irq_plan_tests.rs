// SPDX-License-Identifier: GPL-2.0

//! `plan` (`drivers/vfio/pci/core/irq_plan.rs`) against upstream's `vfio_pci_set_irqs_ioctl`,
//! transcribed in `pci_irq_plan_model.rs`.
//!
//! Each request that `vfio_set_irqs_validate_and_prepare` accepts (our `irq_set`) runs twice
//! on copies of one fake device: through the model, and through `plan` followed by what the
//! kernel side does with each [`Plan`] (as `irq_plan.rs` documents it, [`carry_out`]). The
//! return values, the operations performed and the device afterwards must be the same.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::pci_irq_plan_model::{
    vfio_pci_set_irqs_ioctl, Dev, Op, Which, EBADF, EBUSY, EINVAL, ENOTTY, ERANGE, FD_EVENTFD,
    FD_NOT_EVENTFD, VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER,
    VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD,
    VFIO_IRQ_SET_DATA_NONE, VFIO_PCI_ERR_IRQ_INDEX as ERR, VFIO_PCI_INTX_IRQ_INDEX as INTX,
    VFIO_PCI_MSIX_IRQ_INDEX as MSIX, VFIO_PCI_MSI_IRQ_INDEX as MSI, VFIO_PCI_NUM_IRQS as NONE,
    VFIO_PCI_REQ_IRQ_INDEX as REQ,
};
use crate::errno::Errno;
use crate::irq_set::{check_header, data_size, IrqSetHeader, MINSZ};
use crate::pci_irq_plan::{self as ip, msi_qmax, plan, set_block, Data, Plan, Single};

const NONE_F: u32 = VFIO_IRQ_SET_DATA_NONE;
const BOOL_F: u32 = VFIO_IRQ_SET_DATA_BOOL;
const EFD_F: u32 = VFIO_IRQ_SET_DATA_EVENTFD;
const MASK: u32 = VFIO_IRQ_SET_ACTION_MASK;
const UNMASK: u32 = VFIO_IRQ_SET_ACTION_UNMASK;
const TRIGGER: u32 = VFIO_IRQ_SET_ACTION_TRIGGER;

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

/// `vfio_pci_get_irq_count` of the fake device: INTx with a pin, 16 MSI vectors, 2048 MSI-X
/// vectors, ERR and REQ; 0 past them.
fn max_vectors(index: u32) -> u32 {
    match index {
        INTX | ERR | REQ => 1,
        MSI => 16,
        MSIX => 2048,
        _ => 0,
    }
}

/// A `VFIO_DEVICE_SET_IRQS` request: the header fields and the data after it.
#[derive(Clone, Debug)]
struct Req {
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
    data: Vec<u8>,
}

impl Req {
    fn new(flags: u32, index: u32, start: u32, count: u32, data: Vec<u8>) -> Req {
        Req {
            flags,
            index,
            start,
            count,
            data,
        }
    }

    /// [`validate`] of this request.
    fn validate(&self) -> Result<usize, Errno> {
        validate(self.flags, self.index, self.start, self.count)
    }
}

/// `vfio_set_irqs_validate_and_prepare(&hdr, max, VFIO_PCI_NUM_IRQS, &size)` with an `argsz`
/// covering `count` elements of the data type in `flags` (as much as fits in a `u32`).
fn validate(flags: u32, index: u32, start: u32, count: u32) -> Result<usize, Errno> {
    let size = match flags & 7 {
        VFIO_IRQ_SET_DATA_BOOL => 1,
        VFIO_IRQ_SET_DATA_EVENTFD => 4,
        _ => 0,
    };
    let argsz = u64::from(MINSZ) + u64::from(count) * size;
    let hdr = IrqSetHeader {
        argsz: u32::try_from(argsz).unwrap_or(u32::MAX),
        flags,
        index,
        start,
        count,
    };
    check_header(&hdr, NONE as i32)?;
    data_size(&hdr, max_vectors(index) as i32, true)
}

/// Eventfds as the data of a request.
fn fds(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|fd| fd.to_ne_bytes()).collect()
}

/// The ERR/REQ eventfd of a [`Single`].
fn which(s: Single) -> Which {
    match s {
        Single::Err => Which::Err,
        Single::Req => Which::Req,
    }
}

/// `vfio_msi_set_block` as the kernel side does it: [`set_block`] over
/// `vfio_msi_set_vector_signal`.
fn block(dev: &mut Dev, msix: bool, start: u32, count: u32, data: Data<'_>) -> i32 {
    let r = set_block(
        dev,
        start,
        count,
        data,
        |dev, v, fd| match dev.vfio_msi_set_vector_signal(v, fd, msix) {
            0 => Ok(()),
            e => Err(e),
        },
        |dev, v| {
            dev.vfio_msi_set_vector_signal(v, -1, msix);
        },
    );
    match r {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// The eventfd of `fd` for an INTx trigger, or the errno of `eventfd_ctx_fdget`.
fn intx_trigger(dev: &mut Dev, fd: Option<i32>) -> Result<Option<i32>, i32> {
    match fd {
        Some(fd) => {
            assert!(fd >= 0, "a trigger fd is >= 0");
            dev.eventfd_ctx_fdget(fd).map(Some)
        }
        None => Ok(None),
    }
}

/// What the kernel side does with each [`Plan`] (the meaning `irq_plan.rs` gives it).
fn carry_out(dev: &mut Dev, p: Plan<'_>) -> i32 {
    match p {
        Plan::Nothing => 0,
        Plan::IntxMask => {
            dev.intx_mask();
            0
        }
        Plan::IntxUnmask => {
            dev.intx_unmask();
            0
        }
        Plan::IntxUnmaskFd(fd) => {
            assert!(fd >= 0, "IntxUnmaskFd's fd is >= 0");
            dev.virqfd_enable(fd)
        }
        Plan::IntxUnmaskOff => {
            dev.virqfd_disable();
            0
        }
        Plan::IntxDisable => {
            dev.intx_disable();
            0
        }
        Plan::IntxEnable(fd) | Plan::IntxSetTrigger(fd) => {
            let trigger = match intx_trigger(dev, fd) {
                Ok(t) => t,
                Err(e) => return e,
            };
            let ret = if let Plan::IntxEnable(_) = p {
                dev.intx_enable(trigger)
            } else {
                dev.intx_set_signal(trigger)
            };
            if ret != 0 {
                if let Some(t) = trigger {
                    dev.eventfd_ctx_put(t);
                }
            }
            ret
        }
        Plan::IntxLoopback => {
            dev.send_intx_eventfd();
            0
        }
        Plan::MsiDisable { msix } => {
            dev.vfio_msi_disable(msix);
            0
        }
        Plan::MsiEnable {
            msix,
            start,
            count,
            data,
        } => {
            // vfio_msi_enable(start + count): no interrupt is on (the plan checked).
            let nvec = (start + count) as i32;
            let ret = dev.pci_alloc_irq_vectors(1, nvec, msix);
            if ret < nvec {
                if ret > 0 {
                    dev.pci_free_irq_vectors();
                }
                return ret;
            }
            dev.irq_type = if msix { MSIX } else { MSI };
            if !msix {
                dev.msi_qmax = msi_qmax(nvec as u32);
            }
            let ret = block(dev, msix, start, count, data);
            if ret != 0 {
                dev.vfio_msi_disable(msix);
            }
            ret
        }
        Plan::MsiBlock {
            msix,
            start,
            count,
            data,
        } => block(dev, msix, start, count, data),
        Plan::MsiLoopback {
            start,
            count,
            bools,
        } => {
            for v in start..start + count {
                let flagged = bools.is_none_or(|b| b.flag((v - start) as usize));
                if dev.vectors.contains_key(&v) && flagged {
                    dev.signal_vector(v);
                }
            }
            0
        }
        Plan::SingleSignal(s) => {
            if dev.single(which(s)).is_none() {
                return -EINVAL;
            }
            dev.signal_single(which(s));
            0
        }
        Plan::SingleClear(s) => {
            if dev.single(which(s)).is_none() {
                return -EINVAL;
            }
            dev.eventfd_replace_locked(which(s), None)
        }
        Plan::SingleLoopback(s) => {
            if dev.single(which(s)).is_some() {
                dev.signal_single(which(s));
            }
            0
        }
        Plan::SingleSet(s, None) => dev.eventfd_replace_locked(which(s), None),
        Plan::SingleSet(s, Some(fd)) => {
            assert!(fd >= 0, "SingleSet's fd is >= 0");
            let t = match dev.eventfd_ctx_fdget(fd) {
                Ok(t) => t,
                Err(e) => return e,
            };
            let ret = dev.eventfd_replace_locked(which(s), Some(t));
            if ret != 0 {
                dev.eventfd_ctx_put(t);
            }
            ret
        }
    }
}

/// The plan of `req` on `dev`.
fn plan_of<'a>(dev: &Dev, req: &'a Req) -> Result<Plan<'a>, Errno> {
    plan(
        dev.irq_type,
        req.flags,
        req.index,
        req.start,
        req.count,
        Data(&req.data),
    )
}

/// `req` on a copy of `dev` through `plan` and [`carry_out`].
fn ours(dev: &Dev, req: &Req) -> (i32, Dev) {
    let mut d = dev.clone();
    let ret = match plan_of(dev, req) {
        Ok(p) => carry_out(&mut d, p),
        Err(e) => e.to_errno(),
    };
    (ret, d)
}

/// `req` on a copy of `dev` through the model.
fn model(dev: &Dev, req: &Req) -> (i32, Dev) {
    let mut d = dev.clone();
    let ret = vfio_pci_set_irqs_ioctl(
        &mut d, req.flags, req.index, req.start, req.count, &req.data,
    );
    (ret, d)
}

/// Run `req` both ways; the first difference, or the common return value.
fn compare(dev: &Dev, req: &Req) -> Result<i32, String> {
    let (ret, d) = ours(dev, req);
    let (mret, md) = model(dev, req);
    let what = || {
        format!(
            "kind {} flags {:#x} index {} start {} count {} data {:?}: plan {:?}",
            dev.irq_type,
            req.flags,
            req.index,
            req.start,
            req.count,
            &req.data[..req.data.len().min(16)],
            plan_of(dev, req)
        )
    };
    if ret != mret {
        return Err(format!("{}: returns {ret}, upstream {mret}", what()));
    }
    if let Some(i) = (0..d.log.len().max(md.log.len())).find(|&i| d.log.get(i) != md.log.get(i)) {
        return Err(format!(
            "{}: operation {i} is {:?}, upstream's {:?}",
            what(),
            d.log.get(i),
            md.log.get(i)
        ));
    }
    if d != md {
        return Err(format!(
            "{}: device differs afterwards:\n{d:?}\nupstream:\n{md:?}",
            what()
        ));
    }
    Ok(ret)
}

/// [`compare`] for a unit test: the common return value, or a panic.
fn same(dev: &Dev, req: &Req) -> i32 {
    compare(dev, req).unwrap_or_else(|e| panic!("{e}"))
}

/// The flag values with exactly one data type and any action bits.
fn flag_values() -> Vec<u32> {
    (0..0x40).filter(|f| matches!(f & 7, 1 | 2 | 4)).collect()
}

/// A device with interrupt type `kind` on: INTx with `trigger`, MSI/MSI-X with vectors
/// `0..allocated` allocated and contexts (eventfd [`FD_EVENTFD`]) on `ctx`.
fn dev_with(kind: u32, allocated: u32, ctx: &[u32]) -> Dev {
    let mut d = Dev::new();
    d.irq_type = kind;
    if kind == INTX {
        d.intx_trigger = Some(FD_EVENTFD);
    }
    if kind == MSI || kind == MSIX {
        d.allocated = allocated;
        for &v in ctx {
            d.vectors.insert(v, FD_EVENTFD);
        }
    }
    d
}

/// Devices covering every branch: each interrupt type, with and without ERR/REQ eventfds,
/// an armed INTx unmask virqfd, pre-existing vectors, dynamic MSI-X, a platform short of
/// vectors, an INTx line that cannot be had.
fn devices() -> Vec<Dev> {
    let mut out = Vec::new();
    for singles in [false, true] {
        let mut base = Dev::new();
        if singles {
            base.err_trigger = Some(FD_EVENTFD);
            base.req_trigger = Some(FD_EVENTFD);
        }
        out.push(base.clone());
        let mut d = base.clone();
        d.alloc_limit = 1;
        d.intx_request_fails = true;
        out.push(d);
        for trigger in [None, Some(FD_EVENTFD)] {
            for armed in [false, true] {
                let mut d = base.clone();
                d.irq_type = INTX;
                d.intx_trigger = trigger;
                d.intx_unmask = armed;
                out.push(d);
            }
        }
        for kind in [MSI, MSIX] {
            let max = max_vectors(kind);
            for allocated in [1, max] {
                for ctx in [vec![], vec![0, 1, max - 2, max - 1]] {
                    for has_dyn in [false, true] {
                        if has_dyn && kind == MSI {
                            continue;
                        }
                        let mut d = base.clone();
                        d.irq_type = kind;
                        d.allocated = allocated;
                        d.has_dyn_msix = has_dyn;
                        d.msi_qmax = 3;
                        d.vectors = ctx
                            .iter()
                            .filter(|&&v| v < allocated)
                            .map(|&v| (v, FD_EVENTFD))
                            .collect();
                        out.push(d);
                    }
                }
            }
        }
    }
    out
}

/// `(start, count)` at the edges of `max` vectors, including ones validation refuses.
fn edges(max: u32) -> Vec<(u32, u32)> {
    let pts = [0, 1, 2, max.wrapping_sub(1), max, u32::MAX];
    let mut out = BTreeSet::new();
    for s in pts {
        for c in pts {
            out.insert((s, c));
        }
        out.insert((s, max.wrapping_sub(s)));
    }
    out.into_iter().collect()
}

/// Data for `count` elements of the type in `flags`: uniform values, and for several
/// eventfds mixes that fail part-way.
fn data_patterns(flags: u32, count: u32) -> Vec<Vec<u8>> {
    let n = count as usize;
    match flags & 7 {
        VFIO_IRQ_SET_DATA_NONE => vec![vec![]],
        VFIO_IRQ_SET_DATA_BOOL => {
            let mut v: Vec<Vec<u8>> = [0u8, 1, 0xff].iter().map(|&b| vec![b; n]).collect();
            if n > 1 {
                v.push((0..n).map(|i| (i % 2) as u8).collect());
            }
            v
        }
        _ => {
            let mut v: Vec<Vec<u8>> = [-2, -1, FD_NOT_EVENTFD, FD_EVENTFD]
                .iter()
                .map(|&fd| fds(&vec![fd; n]))
                .collect();
            if n > 1 {
                let mut last_bad = vec![FD_EVENTFD; n];
                last_bad[n - 1] = 7;
                v.push(fds(&last_bad));
                let alternate: Vec<i32> = (0..n)
                    .map(|i| if i % 2 == 0 { FD_EVENTFD } else { -1 })
                    .collect();
                v.push(fds(&alternate));
            }
            v
        }
    }
}

/// The name of a plan's variant, for coverage.
fn variant(p: &Result<Plan<'_>, Errno>) -> String {
    match p {
        Err(e) => e.name().to_string(),
        Ok(p) => {
            let s = format!("{p:?}");
            s[..s.find(['(', ' ']).unwrap_or(s.len())].to_string()
        }
    }
}

/// Every device of [`devices`] × index 0-6 × every flag value × the start/count edges × the
/// data patterns: the requests validation accepts give the same result both ways; indexes 5
/// and 6 (which validation refuses) give `ENOTTY` both ways. Every plan variant and every
/// kind of result occurs.
#[test]
fn every_edge_matches_upstream() {
    let mut variants = BTreeSet::new();
    let mut rets = BTreeSet::new();
    let mut runs = 0;
    for dev in devices() {
        for index in 0..=6 {
            for flags in flag_values() {
                for (start, count) in edges(max_vectors(index)) {
                    let valid = validate(flags, index, start, count);
                    if index >= 5 {
                        assert_eq!(valid, Err(Errno::EINVAL));
                        if count > 2 {
                            continue;
                        }
                    } else if valid.is_err() {
                        continue;
                    }
                    for data in data_patterns(flags, count) {
                        let req = Req::new(flags, index, start, count, data);
                        assert_eq!(req.validate().map(|_| req.data.len()), valid);
                        let ret = same(&dev, &req);
                        if index >= 5 {
                            assert_eq!(ret, -ENOTTY);
                        }
                        variants.insert(variant(&plan_of(&dev, &req)));
                        rets.insert(if ret > 0 { 1 } else { ret });
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(runs > 100_000, "{runs} runs");
    let all = [
        "EINVAL",
        "ENOTTY",
        "Nothing",
        "IntxMask",
        "IntxUnmask",
        "IntxUnmaskFd",
        "IntxUnmaskOff",
        "IntxDisable",
        "IntxEnable",
        "IntxSetTrigger",
        "IntxLoopback",
        "MsiDisable",
        "MsiEnable",
        "MsiBlock",
        "MsiLoopback",
        "SingleSignal",
        "SingleClear",
        "SingleLoopback",
        "SingleSet",
    ];
    assert_eq!(
        variants,
        all.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()
    );
    // 0, a positive vector count, and the errnos.
    let want: BTreeSet<i32> = [0, 1, -EBADF, -EBUSY, -EINVAL, -ENOTTY, -ERANGE]
        .into_iter()
        .collect();
    assert_eq!(rets, want);
}

/// A device with interrupt type `kind` in use and random other state.
fn dev_strategy() -> impl Strategy<Value = Dev> {
    prop::sample::select(vec![INTX, MSI, MSIX, NONE])
        .prop_flat_map(|kind| {
            let max = if kind == MSI || kind == MSIX {
                max_vectors(kind)
            } else {
                2
            };
            let vector = prop_oneof![0..max, Just(0), Just(max - 1)];
            (
                Just(kind),
                any::<[bool; 6]>(),
                prop::sample::select(vec![1u32, 2, 3, u32::MAX]),
                0u8..=5,
                1..=max,
                prop::collection::btree_set(vector.clone(), 0..6),
                prop::collection::btree_set(vector, 0..4),
            )
        })
        .prop_map(|(kind, b, alloc_limit, qmax, allocated, ctx, dyns)| {
            let mut d = Dev::new();
            d.irq_type = kind;
            d.err_trigger = Some(FD_EVENTFD).filter(|_| b[0]);
            d.req_trigger = Some(FD_EVENTFD).filter(|_| b[1]);
            d.intx_request_fails = b[2];
            d.alloc_limit = alloc_limit;
            d.msi_qmax = qmax;
            if kind == INTX {
                d.intx_trigger = Some(FD_EVENTFD).filter(|_| b[3]);
                d.intx_unmask = b[4];
            }
            if kind == MSI || kind == MSIX {
                d.allocated = allocated;
                d.has_dyn_msix = kind == MSIX && b[5];
                if d.has_dyn_msix {
                    d.dyn_allocated = dyns.into_iter().filter(|&v| v >= allocated).collect();
                }
                d.vectors = ctx
                    .into_iter()
                    .filter(|v| *v < allocated || d.dyn_allocated.contains(v))
                    .map(|v| (v, FD_EVENTFD))
                    .collect();
            }
            d
        })
}

/// `(start, count)` that validation accepts for `max` vectors: at the edges or anywhere.
fn start_count(max: u32) -> BoxedStrategy<(u32, u32)> {
    if max == 0 {
        // Indexes 5, 6: refused by validation whatever they are.
        return prop::sample::select(vec![(0, 0), (0, 1), (1, 0)]).boxed();
    }
    let mut starts = vec![0, 1, 2, max - 1];
    starts.retain(|&s| s < max);
    starts.dedup();
    prop_oneof![
        prop::sample::select(starts).prop_flat_map(move |s| {
            let rest = max - s;
            let mut counts = vec![0, 1, 2, rest.saturating_sub(1), rest, max - 1, max];
            counts.retain(|&c| c <= rest);
            counts.sort_unstable();
            counts.dedup();
            (Just(s), prop::sample::select(counts))
        }),
        (0..max).prop_flat_map(move |s| (Just(s), 0..=max - s)),
    ]
    .boxed()
}

/// `count` elements of the data type in `flags`: bools 0, 1, 0xff; eventfds -2, -1, 0 (not
/// an eventfd), 5 (an eventfd, mostly), 7 (not open).
fn data_strategy(flags: u32, count: u32) -> BoxedStrategy<Vec<u8>> {
    let n = count as usize;
    match flags & 7 {
        VFIO_IRQ_SET_DATA_NONE => Just(vec![]).boxed(),
        VFIO_IRQ_SET_DATA_BOOL => {
            prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xff]), n).boxed()
        }
        _ => prop::collection::vec(
            prop_oneof![
                1 => Just(-2),
                1 => Just(-1),
                1 => Just(FD_NOT_EVENTFD),
                1 => Just(7),
                60 => Just(FD_EVENTFD),
            ],
            n,
        )
        .prop_map(|v| fds(&v))
        .boxed(),
    }
}

/// A request validation accepts (index 0-4), or one it refuses by index (5, 6).
fn req_strategy() -> impl Strategy<Value = Req> {
    (0u32..=6, prop::sample::select(flag_values()))
        .prop_flat_map(|(index, flags)| (Just(index), Just(flags), start_count(max_vectors(index))))
        .prop_flat_map(|(index, flags, (start, count))| {
            (
                Just(index),
                Just(flags),
                Just(start),
                Just(count),
                data_strategy(flags, count),
            )
        })
        .prop_map(|(index, flags, start, count, data)| Req::new(flags, index, start, count, data))
}

proptest! {
    #![proptest_config(cfg(2048))]

    /// Random devices and requests: the same result both ways.
    #[test]
    fn random_requests_match_upstream(dev in dev_strategy(), req in req_strategy()) {
        let valid = req.validate();
        if req.index < 5 {
            prop_assert!(valid.is_ok(), "{:?}: {:?}", req, valid);
        } else {
            prop_assert_eq!(valid, Err(Errno::EINVAL));
        }
        if let Err(e) = compare(&dev, &req) {
            prop_assert!(false, "{}", e);
        }
    }
}

proptest! {
    #![proptest_config(cfg(512))]

    /// A sequence of requests on one device (each one's effects are the next one's state):
    /// the same results and the same device all along.
    #[test]
    fn request_sequences_match_upstream(
        dev in dev_strategy(),
        reqs in prop::collection::vec(req_strategy(), 1..8),
    ) {
        let (mut ours_dev, mut model_dev) = (dev.clone(), dev);
        for req in &reqs {
            let (ret, d) = ours(&ours_dev, req);
            let (mret, md) = model(&model_dev, req);
            prop_assert_eq!(ret, mret, "{:?}", req);
            prop_assert_eq!(&d, &md, "{:?}", req);
            ours_dev = d;
            model_dev = md;
        }
    }
}

#[test]
fn constants_are_the_uapi() {
    assert_eq!(
        [ip::INTX, ip::MSI, ip::MSIX, ip::ERR, ip::REQ, ip::NUM_IRQS],
        [INTX, MSI, MSIX, ERR, REQ, NONE]
    );
    assert_eq!(
        [
            ip::DATA_NONE,
            ip::DATA_BOOL,
            ip::DATA_EVENTFD,
            ip::ACTION_MASK,
            ip::ACTION_UNMASK,
            ip::ACTION_TRIGGER,
        ],
        [NONE_F, BOOL_F, EFD_F, MASK, UNMASK, TRIGGER]
    );
    assert_eq!(Errno::ENOTTY.to_errno(), -ENOTTY);
    assert_eq!(Errno::EINVAL.to_errno(), -EINVAL);
}

#[test]
fn msi_qmax_is_ceil_log2() {
    for (nvec, q) in [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (32, 5)] {
        assert_eq!(msi_qmax(nvec), q, "nvec {nvec}");
    }
    // Upstream's `fls(nvec * 2 - 1) - 1`, for every count of vectors MSI-X can have.
    for nvec in 1u32..=2048 {
        let fls = 32 - (nvec * 2 - 1).leading_zeros();
        assert_eq!(u32::from(msi_qmax(nvec)), fls - 1, "nvec {nvec}");
    }
}

/// A fake vector table for [`set_block`]: each vector's eventfd, the calls made, and the
/// vector whose `set` fails.
struct Table {
    vectors: Vec<Option<i32>>,
    calls: Vec<(&'static str, u32, i32)>,
    fail_at: Option<u32>,
}

impl Table {
    fn new(pre: &[(u32, i32)], fail_at: Option<u32>) -> Table {
        let mut vectors = vec![None; 8];
        for &(v, fd) in pre {
            vectors[v as usize] = Some(fd);
        }
        Table {
            vectors,
            calls: Vec::new(),
            fail_at,
        }
    }
}

/// [`set_block`] on a [`Table`]; a failing `set` releases its vector first, as
/// `vfio_msi_set_vector_signal` does.
fn run_block(t: &mut Table, start: u32, count: u32, data: &[u8]) -> Result<(), i32> {
    set_block(
        t,
        start,
        count,
        Data(data),
        |t, v, fd| {
            t.calls.push(("set", v, fd));
            t.vectors[v as usize] = None;
            if t.fail_at == Some(v) {
                return Err(-EINVAL);
            }
            t.vectors[v as usize] = Some(fd).filter(|fd| *fd >= 0);
            Ok(())
        },
        |t, v| {
            t.calls.push(("release", v, -1));
            t.vectors[v as usize] = None;
        },
    )
}

#[test]
fn set_block_sets_every_vector_in_order() {
    let mut t = Table::new(&[(2, 9)], None);
    assert_eq!(run_block(&mut t, 2, 3, &fds(&[5, -1, 6])), Ok(()));
    assert_eq!(t.calls, [("set", 2, 5), ("set", 3, -1), ("set", 4, 6)]);
    assert_eq!(
        t.vectors,
        [None, None, Some(5), None, Some(6), None, None, None]
    );
}

#[test]
fn set_block_rolls_back_through_the_failing_vector() {
    // Vectors 1 and 2 existed before the call, 5 is outside the block.
    let mut t = Table::new(&[(1, 8), (2, 9), (5, 10)], Some(3));
    assert_eq!(
        run_block(&mut t, 1, 4, &fds(&[5, 6, 7, 4])),
        Err(-EINVAL),
        "the error of the failing vector"
    );
    assert_eq!(
        t.calls,
        [
            ("set", 1, 5),
            ("set", 2, 6),
            ("set", 3, 7),
            ("release", 1, -1),
            ("release", 2, -1),
            ("release", 3, -1),
        ],
        "vector 4 is never set; the failing one is the last released"
    );
    assert_eq!(
        t.vectors,
        [None, None, None, None, None, Some(10), None, None],
        "the pre-existing vectors of the block are gone too"
    );
}

#[test]
fn set_block_failing_first_vector_releases_it_alone() {
    let mut t = Table::new(&[(0, 8)], Some(0));
    assert_eq!(run_block(&mut t, 0, 3, &fds(&[5, 6, 7])), Err(-EINVAL));
    assert_eq!(t.calls, [("set", 0, 5), ("release", 0, -1)]);
}

#[test]
fn set_block_of_nothing_does_nothing() {
    let mut t = Table::new(&[(0, 8)], Some(0));
    assert_eq!(run_block(&mut t, 0, 0, &[]), Ok(()));
    assert_eq!(run_block(&mut t, 7, 0, &[]), Ok(()));
    assert!(t.calls.is_empty());
}

#[test]
fn set_block_past_the_data_clears() {
    let mut t = Table::new(&[(1, 8)], None);
    assert_eq!(run_block(&mut t, 0, 2, &fds(&[5])), Ok(()));
    assert_eq!(t.calls, [("set", 0, 5), ("set", 1, -1)]);
}

#[test]
fn data_fd_is_native_endian() {
    let bytes = fds(&[-2, 7, i32::MIN]);
    let d = Data(&bytes);
    assert_eq!([d.fd(0), d.fd(1), d.fd(2)], [-2, 7, i32::MIN]);
    assert_eq!(d.fd(3), -1, "past the end");
    let one: &[u8] = if cfg!(target_endian = "little") {
        &[1, 0, 0, 0]
    } else {
        &[0, 0, 0, 1]
    };
    assert_eq!(Data(one).fd(0), 1);
    // A partial element is past the end.
    assert_eq!(Data(&bytes[..6]).fd(1), -1);
    assert_eq!(Data(&[]).fd(0), -1);
    assert_eq!(Data(&bytes).fd(u32::MAX as usize), -1);
}

#[test]
fn data_flag_is_nonzero() {
    let d = Data(&[0, 1, 0xff, 0x80]);
    assert_eq!(
        [d.flag(0), d.flag(1), d.flag(2), d.flag(3)],
        [false, true, true, true]
    );
    assert!(!d.flag(4), "past the end");
    assert!(!Data(&[]).flag(0));
}

#[test]
fn two_action_bits_are_enotty() {
    let dev = dev_with(INTX, 0, &[]);
    for index in [INTX, MSI, MSIX, ERR, REQ] {
        for actions in [
            MASK | UNMASK,
            MASK | TRIGGER,
            UNMASK | TRIGGER,
            MASK | UNMASK | TRIGGER,
        ] {
            let req = Req::new(NONE_F | actions, index, 0, 1, vec![]);
            assert_eq!(plan_of(&dev, &req), Err(Errno::ENOTTY), "{req:?}");
            assert_eq!(same(&dev, &req), -ENOTTY);
        }
    }
}

#[test]
fn no_action_is_enotty() {
    for index in [INTX, MSI, MSIX, ERR, REQ] {
        let req = Req::new(NONE_F, index, 0, 1, vec![]);
        assert_eq!(same(&dev_with(index, 16, &[]), &req), -ENOTTY);
    }
}

#[test]
fn msi_mask_is_enotty() {
    for index in [MSI, MSIX] {
        let dev = dev_with(index, 4, &[0]);
        for action in [MASK, UNMASK] {
            let req = Req::new(NONE_F | action, index, 0, 1, vec![]);
            assert_eq!(plan_of(&dev, &req), Err(Errno::ENOTTY));
            assert_eq!(same(&dev, &req), -ENOTTY);
        }
    }
}

#[test]
fn err_req_mask_is_enotty() {
    let mut dev = Dev::new();
    dev.err_trigger = Some(FD_EVENTFD);
    for index in [ERR, REQ] {
        for action in [MASK, UNMASK] {
            let req = Req::new(NONE_F | action, index, 0, 1, vec![]);
            assert_eq!(plan_of(&dev, &req), Err(Errno::ENOTTY));
            assert_eq!(same(&dev, &req), -ENOTTY);
        }
    }
}

#[test]
fn intx_mask_with_eventfd_is_enotty() {
    let dev = dev_with(INTX, 0, &[]);
    let req = Req::new(EFD_F | MASK, INTX, 0, 1, fds(&[FD_EVENTFD]));
    assert_eq!(plan_of(&dev, &req), Err(Errno::ENOTTY));
    assert_eq!(same(&dev, &req), -ENOTTY);
    // INTx off: EINVAL comes first.
    let req = Req::new(EFD_F | MASK, INTX, 0, 1, fds(&[FD_EVENTFD]));
    assert_eq!(plan_of(&Dev::new(), &req), Err(Errno::EINVAL));
}

#[test]
fn err_none_without_eventfd_is_einval() {
    let dev = Dev::new();
    for (index, s) in [(ERR, Single::Err), (REQ, Single::Req)] {
        let signal = Req::new(NONE_F | TRIGGER, index, 0, 1, vec![]);
        assert_eq!(plan_of(&dev, &signal), Ok(Plan::SingleSignal(s)));
        assert_eq!(same(&dev, &signal), -EINVAL);
        let clear = Req::new(NONE_F | TRIGGER, index, 0, 0, vec![]);
        assert_eq!(plan_of(&dev, &clear), Ok(Plan::SingleClear(s)));
        assert_eq!(same(&dev, &clear), -EINVAL);
    }
    // With one: signalled, then cleared.
    let mut dev = Dev::new();
    dev.err_trigger = Some(FD_EVENTFD);
    let (ret, d) = ours(&dev, &Req::new(NONE_F | TRIGGER, ERR, 0, 1, vec![]));
    assert_eq!((ret, d.log), (0, vec![Op::SignalSingle(Which::Err)]));
    let (ret, d) = ours(&dev, &Req::new(NONE_F | TRIGGER, ERR, 0, 0, vec![]));
    assert_eq!(
        (ret, &d.log, d.err_trigger),
        (0, &vec![Op::ReplaceSingle(Which::Err, None)], None)
    );
}

#[test]
fn err_eventfd_minus_two_is_einval() {
    let dev = Dev::new();
    let req = Req::new(EFD_F | TRIGGER, ERR, 0, 1, fds(&[-2]));
    assert_eq!(plan_of(&dev, &req), Err(Errno::EINVAL));
    assert_eq!(same(&dev, &req), -EINVAL);
    // -1 clears, even with nothing set.
    let req = Req::new(EFD_F | TRIGGER, ERR, 0, 1, fds(&[-1]));
    assert_eq!(plan_of(&dev, &req), Ok(Plan::SingleSet(Single::Err, None)));
    assert_eq!(same(&dev, &req), 0);
    // Not an eventfd, not open.
    let req = Req::new(EFD_F | TRIGGER, REQ, 0, 1, fds(&[FD_NOT_EVENTFD]));
    assert_eq!(same(&dev, &req), -EINVAL);
    let req = Req::new(EFD_F | TRIGGER, REQ, 0, 1, fds(&[7]));
    assert_eq!(same(&dev, &req), -EBADF);
    // Count 0 with data: EINVAL.
    let req = Req::new(EFD_F | TRIGGER, REQ, 0, 0, vec![]);
    assert_eq!(plan_of(&dev, &req), Err(Errno::EINVAL));
}

#[test]
fn intx_trigger_count_zero_none_disables() {
    let mut dev = dev_with(INTX, 0, &[]);
    dev.intx_unmask = true;
    let req = Req::new(NONE_F | TRIGGER, INTX, 0, 0, vec![]);
    assert_eq!(plan_of(&dev, &req), Ok(Plan::IntxDisable));
    assert_eq!(same(&dev, &req), 0);
    let (_, d) = ours(&dev, &req);
    assert_eq!(d.log, [Op::IntxDisable]);
    assert_eq!(d.irq_type, NONE);
    // Off already, or MSI on: EINVAL.
    assert_eq!(plan_of(&Dev::new(), &req), Err(Errno::EINVAL));
    assert_eq!(plan_of(&dev_with(MSI, 1, &[]), &req), Err(Errno::EINVAL));
    assert_eq!(same(&dev_with(MSI, 1, &[]), &req), -EINVAL);
}

#[test]
fn intx_enable_and_trigger_replacement() {
    let req = Req::new(EFD_F | TRIGGER, INTX, 0, 1, fds(&[FD_EVENTFD]));
    assert_eq!(
        plan_of(&Dev::new(), &req),
        Ok(Plan::IntxEnable(Some(FD_EVENTFD)))
    );
    assert_eq!(same(&Dev::new(), &req), 0);
    for fd in [-1, -2] {
        let req = Req::new(EFD_F | TRIGGER, INTX, 0, 1, fds(&[fd]));
        assert_eq!(plan_of(&Dev::new(), &req), Ok(Plan::IntxEnable(None)));
        let dev = dev_with(INTX, 0, &[]);
        assert_eq!(plan_of(&dev, &req), Ok(Plan::IntxSetTrigger(None)));
        assert_eq!(same(&dev, &req), 0);
    }
    // The line cannot be had: the trigger is put again.
    let mut dev = Dev::new();
    dev.intx_request_fails = true;
    let (ret, d) = ours(&dev, &req);
    assert_eq!(ret, -EBUSY);
    assert_eq!(
        d.log,
        [
            Op::EventfdGet(FD_EVENTFD),
            Op::IntxEnable(Some(FD_EVENTFD)),
            Op::EventfdPut(FD_EVENTFD)
        ]
    );
    assert_eq!(same(&dev, &req), -EBUSY);
}

#[test]
fn msi_enable_while_msix_on_is_einval() {
    let dev = dev_with(MSIX, 4, &[0]);
    let req = Req::new(EFD_F | TRIGGER, MSI, 0, 1, fds(&[FD_EVENTFD]));
    assert_eq!(plan_of(&dev, &req), Err(Errno::EINVAL));
    assert_eq!(same(&dev, &req), -EINVAL);
    // And MSI-X while INTx is on.
    let req = Req::new(EFD_F | TRIGGER, MSIX, 0, 1, fds(&[FD_EVENTFD]));
    assert_eq!(plan_of(&dev_with(INTX, 0, &[]), &req), Err(Errno::EINVAL));
}

#[test]
fn msi_enable_sets_qmax_and_vectors() {
    let req = Req::new(EFD_F | TRIGGER, MSI, 2, 3, fds(&[5, 5, 5]));
    let (ret, d) = ours(&Dev::new(), &req);
    assert_eq!(ret, 0);
    assert_eq!(d.irq_type, MSI);
    assert_eq!(d.msi_qmax, 3, "five vectors");
    assert_eq!(d.vectors.keys().copied().collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(same(&Dev::new(), &req), 0);
}

#[test]
fn msi_enable_of_nothing_is_erange() {
    let req = Req::new(EFD_F | TRIGGER, MSI, 0, 0, vec![]);
    assert!(matches!(
        plan_of(&Dev::new(), &req),
        Ok(Plan::MsiEnable { count: 0, .. })
    ));
    assert_eq!(same(&Dev::new(), &req), -ERANGE);
    // start 1, count 0: one vector enabled, none set.
    let req = Req::new(EFD_F | TRIGGER, MSIX, 1, 0, vec![]);
    let (ret, d) = ours(&Dev::new(), &req);
    assert_eq!((ret, d.irq_type, d.allocated), (0, MSIX, 1));
    assert_eq!(same(&Dev::new(), &req), 0);
}

#[test]
fn msi_enable_short_of_vectors_returns_the_count() {
    let mut dev = Dev::new();
    dev.alloc_limit = 3;
    let req = Req::new(EFD_F | TRIGGER, MSIX, 0, 8, fds(&[5; 8]));
    assert_eq!(same(&dev, &req), 3);
    assert_eq!(ours(&dev, &req).1.irq_type, NONE);
}

#[test]
fn msix_enable_more_depends_on_dynamic_msix() {
    // vfio_diff's msix.enable_more: vectors 0-1 with 0 enabled.
    let req = Req::new(EFD_F | TRIGGER, MSIX, 0, 2, fds(&[5, 5]));
    let dev = dev_with(MSIX, 1, &[0]);
    let (ret, d) = ours(&dev, &req);
    assert_eq!(ret, -EINVAL);
    assert!(d.vectors.is_empty(), "vector 0 is gone");
    assert_eq!(d.irq_type, MSIX, "MSI-X stays on");
    assert_eq!(same(&dev, &req), -EINVAL);
    let mut dev = dev;
    dev.has_dyn_msix = true;
    assert_eq!(same(&dev, &req), 0);
    assert_eq!(ours(&dev, &req).1.vectors.len(), 2);
}

#[test]
fn msi_enable_failing_block_disables() {
    let req = Req::new(EFD_F | TRIGGER, MSI, 0, 2, fds(&[5, 7]));
    let (ret, d) = ours(&Dev::new(), &req);
    assert_eq!(ret, -EBADF);
    assert_eq!(d.irq_type, NONE);
    assert_eq!(d.log.last(), Some(&Op::FreeIrqVectors));
    assert_eq!(same(&Dev::new(), &req), -EBADF);
}

#[test]
fn msi_loopback_signals_vectors_with_a_trigger() {
    let dev = dev_with(MSI, 16, &[1, 3]);
    let req = Req::new(BOOL_F | TRIGGER, MSI, 1, 3, vec![1, 1, 0]);
    let (ret, d) = ours(&dev, &req);
    assert_eq!((ret, d.log), (0, vec![Op::SignalVector(1)]));
    let req = Req::new(NONE_F | TRIGGER, MSI, 0, 16, vec![]);
    let (_, d) = ours(&dev, &req);
    assert_eq!(d.log, [Op::SignalVector(1), Op::SignalVector(3)]);
    assert_eq!(same(&dev, &req), 0);
    // MSI off: EINVAL.
    assert_eq!(plan_of(&Dev::new(), &req), Err(Errno::EINVAL));
}

#[test]
fn intx_unmask_eventfd_arms_and_disarms() {
    let dev = dev_with(INTX, 0, &[]);
    let arm = Req::new(EFD_F | UNMASK, INTX, 0, 1, fds(&[FD_EVENTFD]));
    assert_eq!(plan_of(&dev, &arm), Ok(Plan::IntxUnmaskFd(FD_EVENTFD)));
    assert_eq!(same(&dev, &arm), 0);
    let mut armed = dev.clone();
    armed.intx_unmask = true;
    assert_eq!(same(&armed, &arm), -EBUSY);
    for fd in [-1, -2, i32::MIN] {
        let off = Req::new(EFD_F | UNMASK, INTX, 0, 1, fds(&[fd]));
        assert_eq!(plan_of(&armed, &off), Ok(Plan::IntxUnmaskOff));
        assert_eq!(same(&armed, &off), 0);
    }
}
