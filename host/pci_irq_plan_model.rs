// SPDX-License-Identifier: GPL-2.0

//! Upstream's `VFIO_DEVICE_SET_IRQS` dispatch (`drivers/vfio/pci/vfio_pci_intrs.c` of Linux
//! 7.3, "I" below), transcribed line by line over a fake device, for the tests of
//! `drivers/vfio/pci/core/irq_plan.rs` (`pci_irq_plan_tests.rs`).
//!
//! Two parts:
//! - [`Dev`]: the device state the dispatch reads (`irq_type`, the interrupt contexts, the ERR
//!   and REQ eventfds) and the kernel operations below the dispatch, faked: each one appends
//!   an [`Op`] to [`Dev::log`] and changes the state the way the kernel would. Both sides of a
//!   test run on these, so they are plain, with a few injectable failures.
//! - `vfio_pci_set_irqs_ioctl` and the `vfio_pci_set_*` functions it dispatches to, plus
//!   `vfio_msi_enable` and `vfio_msi_set_block` (the parts `irq_plan.rs` takes over), as
//!   literal as Rust allows: the same tests in the same order, `data` read where the C
//!   dereferences it (out of bounds panics like the NULL dereference it would be).
//!
//! The C returns an `int`, so the model does too: 0, a negative errno, or (from
//! `vfio_msi_enable`) a positive number of vectors.

use std::collections::{BTreeMap, BTreeSet};

/// `EBADF`.
pub(crate) const EBADF: i32 = 9;
/// `EBUSY`.
pub(crate) const EBUSY: i32 = 16;
/// `EINVAL`.
pub(crate) const EINVAL: i32 = 22;
/// `ENOTTY`.
pub(crate) const ENOTTY: i32 = 25;
/// `ERANGE`.
pub(crate) const ERANGE: i32 = 34;

/// `include/uapi/linux/vfio.h`: the vfio-pci interrupt indexes.
pub(crate) const VFIO_PCI_INTX_IRQ_INDEX: u32 = 0;
pub(crate) const VFIO_PCI_MSI_IRQ_INDEX: u32 = 1;
pub(crate) const VFIO_PCI_MSIX_IRQ_INDEX: u32 = 2;
pub(crate) const VFIO_PCI_ERR_IRQ_INDEX: u32 = 3;
pub(crate) const VFIO_PCI_REQ_IRQ_INDEX: u32 = 4;
pub(crate) const VFIO_PCI_NUM_IRQS: u32 = 5;

/// `include/uapi/linux/vfio.h`: `struct vfio_irq_set`'s flags.
pub(crate) const VFIO_IRQ_SET_DATA_NONE: u32 = 1 << 0;
pub(crate) const VFIO_IRQ_SET_DATA_BOOL: u32 = 1 << 1;
pub(crate) const VFIO_IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
pub(crate) const VFIO_IRQ_SET_ACTION_MASK: u32 = 1 << 3;
pub(crate) const VFIO_IRQ_SET_ACTION_UNMASK: u32 = 1 << 4;
pub(crate) const VFIO_IRQ_SET_ACTION_TRIGGER: u32 = 1 << 5;
pub(crate) const VFIO_IRQ_SET_ACTION_TYPE_MASK: u32 =
    VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

/// The fake process's file table: this fd is an eventfd.
pub(crate) const FD_EVENTFD: i32 = 5;
/// The fake process's file table: this fd is open but not an eventfd (every other fd >= 0 is
/// not open).
pub(crate) const FD_NOT_EVENTFD: i32 = 0;

/// The single-eventfd interrupts: which of `vdev->err_trigger`, `vdev->req_trigger`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    /// `err_trigger`.
    Err,
    /// `req_trigger`.
    Req,
}

/// A kernel operation the dispatch performs, in the order it performs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `__vfio_pci_intx_mask`.
    IntxMask,
    /// `__vfio_pci_intx_unmask`.
    IntxUnmask,
    /// `vfio_send_intx_eventfd` (loopback).
    SendIntxEventfd,
    /// `vfio_virqfd_enable(.., &ctx->unmask, fd)`.
    VirqfdEnable(i32),
    /// `vfio_virqfd_disable(&ctx->unmask)`.
    VirqfdDisable,
    /// `eventfd_ctx_fdget(fd)`.
    EventfdGet(i32),
    /// `eventfd_ctx_put` of the eventfd got from this fd.
    EventfdPut(i32),
    /// `vfio_intx_enable(vdev, trigger)`.
    IntxEnable(Option<i32>),
    /// `vfio_intx_set_signal(vdev, trigger)`.
    IntxSetSignal(Option<i32>),
    /// `vfio_intx_disable`.
    IntxDisable,
    /// `pci_alloc_irq_vectors(pdev, 1, nvec, msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI)`.
    AllocIrqVectors {
        /// `max_vecs`.
        nvec: i32,
        /// MSI-X rather than MSI.
        msix: bool,
    },
    /// `pci_free_irq_vectors`.
    FreeIrqVectors,
    /// `vfio_msi_set_vector_signal(vdev, vector, fd, msix)`.
    SetVectorSignal {
        /// The vector.
        vector: u32,
        /// Its new eventfd, < 0 for none.
        fd: i32,
    },
    /// `vfio_msi_disable`.
    MsiDisable {
        /// MSI-X rather than MSI.
        msix: bool,
    },
    /// `eventfd_signal(ctx->trigger)` of an MSI/MSI-X vector (loopback).
    SignalVector(u32),
    /// `eventfd_signal(eventfd->ctx)` of ERR/REQ (loopback).
    SignalSingle(Which),
    /// `vfio_pci_eventfd_replace_locked(vdev, peventfd, ctx)`: the eventfd got from this fd,
    /// or `None` (NULL).
    ReplaceSingle(Which, Option<i32>),
}

/// The fake device: what the dispatch reads and the operations change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dev {
    /// `vdev->irq_type`: an index, or `VFIO_PCI_NUM_IRQS` for none.
    pub(crate) irq_type: u32,
    /// `vdev->err_trigger`: the fd its eventfd came from.
    pub(crate) err_trigger: Option<i32>,
    /// `vdev->req_trigger`.
    pub(crate) req_trigger: Option<i32>,
    /// INTx's context (index 0, while `irq_type` is INTx): `ctx->trigger`.
    pub(crate) intx_trigger: Option<i32>,
    /// INTx's context: `ctx->unmask` is armed.
    pub(crate) intx_unmask: bool,
    /// `request_irq` of INTx fails (`EBUSY`: an exclusive line that is shared).
    pub(crate) intx_request_fails: bool,
    /// MSI/MSI-X contexts: vector to the fd of its `ctx->trigger`.
    pub(crate) vectors: BTreeMap<u32, i32>,
    /// IRQs of vectors `0..allocated` exist (`pci_alloc_irq_vectors`).
    pub(crate) allocated: u32,
    /// IRQs allocated since, one at a time (`pci_msix_alloc_irq_at`).
    pub(crate) dyn_allocated: BTreeSet<u32>,
    /// `vdev->has_dyn_msix`.
    pub(crate) has_dyn_msix: bool,
    /// The most vectors `pci_alloc_irq_vectors` gets from the platform.
    pub(crate) alloc_limit: u32,
    /// `vdev->msi_qmax`.
    pub(crate) msi_qmax: u8,
    /// The operations performed, in order.
    pub(crate) log: Vec<Op>,
}

impl Dev {
    /// A device with no interrupt enabled and nothing set.
    pub(crate) fn new() -> Dev {
        Dev {
            irq_type: VFIO_PCI_NUM_IRQS,
            err_trigger: None,
            req_trigger: None,
            intx_trigger: None,
            intx_unmask: false,
            intx_request_fails: false,
            vectors: BTreeMap::new(),
            allocated: 0,
            dyn_allocated: BTreeSet::new(),
            has_dyn_msix: false,
            alloc_limit: u32::MAX,
            msi_qmax: 0,
            log: Vec::new(),
        }
    }

    /// `*peventfd` of `vfio_pci_set_ctx_trigger_single`.
    pub(crate) fn single(&mut self, which: Which) -> &mut Option<i32> {
        match which {
            Which::Err => &mut self.err_trigger,
            Which::Req => &mut self.req_trigger,
        }
    }

    /// `eventfd_ctx_fdget`: the fake file table (`EBADF` not open, `EINVAL` not an eventfd);
    /// the eventfd is named by its fd.
    pub(crate) fn eventfd_ctx_fdget(&mut self, fd: i32) -> Result<i32, i32> {
        self.log.push(Op::EventfdGet(fd));
        match fd {
            FD_EVENTFD => Ok(fd),
            FD_NOT_EVENTFD => Err(-EINVAL),
            _ => Err(-EBADF),
        }
    }

    /// `eventfd_ctx_put`.
    pub(crate) fn eventfd_ctx_put(&mut self, trigger: i32) {
        self.log.push(Op::EventfdPut(trigger));
    }

    /// `__vfio_pci_intx_mask` (its effect on the line is not modelled).
    pub(crate) fn intx_mask(&mut self) {
        self.log.push(Op::IntxMask);
    }

    /// `__vfio_pci_intx_unmask`.
    pub(crate) fn intx_unmask(&mut self) {
        self.log.push(Op::IntxUnmask);
    }

    /// `vfio_send_intx_eventfd`.
    pub(crate) fn send_intx_eventfd(&mut self) {
        self.log.push(Op::SendIntxEventfd);
    }

    /// `vfio_virqfd_enable` on INTx's `ctx->unmask` (V:111-190: `EBADF`, `EINVAL`, then
    /// `EBUSY` when armed already).
    pub(crate) fn virqfd_enable(&mut self, fd: i32) -> i32 {
        self.log.push(Op::VirqfdEnable(fd));
        assert_eq!(self.irq_type, VFIO_PCI_INTX_IRQ_INDEX, "INTx's ctx exists");
        match fd {
            FD_EVENTFD if self.intx_unmask => -EBUSY,
            FD_EVENTFD => {
                self.intx_unmask = true;
                0
            }
            FD_NOT_EVENTFD => -EINVAL,
            _ => -EBADF,
        }
    }

    /// `vfio_virqfd_disable(&ctx->unmask)`.
    pub(crate) fn virqfd_disable(&mut self) {
        self.log.push(Op::VirqfdDisable);
        assert_eq!(self.irq_type, VFIO_PCI_INTX_IRQ_INDEX, "INTx's ctx exists");
        self.intx_unmask = false;
    }

    /// `vfio_intx_enable` (I:250-322).
    pub(crate) fn intx_enable(&mut self, trigger: Option<i32>) -> i32 {
        self.log.push(Op::IntxEnable(trigger));
        if !is_irq_none(self) {
            return -EINVAL;
        }
        if self.intx_request_fails {
            return -EBUSY;
        }
        self.irq_type = VFIO_PCI_INTX_IRQ_INDEX;
        self.intx_trigger = trigger;
        self.intx_unmask = false;
        0
    }

    /// `vfio_intx_set_signal` (I:324-346).
    pub(crate) fn intx_set_signal(&mut self, trigger: Option<i32>) -> i32 {
        self.log.push(Op::IntxSetSignal(trigger));
        assert_eq!(self.irq_type, VFIO_PCI_INTX_IRQ_INDEX, "INTx's ctx exists");
        self.intx_trigger = trigger;
        0
    }

    /// `vfio_intx_disable` (I:348-368).
    pub(crate) fn intx_disable(&mut self) {
        self.log.push(Op::IntxDisable);
        self.intx_trigger = None;
        self.intx_unmask = false;
        self.irq_type = VFIO_PCI_NUM_IRQS;
    }

    /// `pci_alloc_irq_vectors(pdev, min_vecs, max_vecs, ..)`: `ERANGE` when `max < min`, else
    /// as many as the platform gives, up to `max_vecs`.
    pub(crate) fn pci_alloc_irq_vectors(
        &mut self,
        min_vecs: i32,
        max_vecs: i32,
        msix: bool,
    ) -> i32 {
        self.log.push(Op::AllocIrqVectors {
            nvec: max_vecs,
            msix,
        });
        if max_vecs < min_vecs {
            return -ERANGE;
        }
        let n = (max_vecs as u32).min(self.alloc_limit);
        self.allocated = n;
        n as i32
    }

    /// `pci_free_irq_vectors`.
    pub(crate) fn pci_free_irq_vectors(&mut self) {
        self.log.push(Op::FreeIrqVectors);
        self.allocated = 0;
        self.dyn_allocated.clear();
    }

    /// `vfio_msi_set_vector_signal` (I:447-532): release the vector's context if it has one;
    /// then, for `fd >= 0`, its IRQ (`vfio_msi_alloc_irq`, I:426-445: `EINVAL` unless allocated
    /// or dynamically allocatable) and eventfd.
    pub(crate) fn vfio_msi_set_vector_signal(&mut self, vector: u32, fd: i32, msix: bool) -> i32 {
        self.log.push(Op::SetVectorSignal { vector, fd });
        let had_ctx = self.vectors.remove(&vector).is_some();
        if fd < 0 {
            return 0;
        }
        if !had_ctx && vector >= self.allocated && !self.dyn_allocated.contains(&vector) {
            if !msix || !self.has_dyn_msix {
                return -EINVAL;
            }
            self.dyn_allocated.insert(vector);
        }
        match self.eventfd_ctx_fdget(fd) {
            Ok(trigger) => {
                self.vectors.insert(vector, trigger);
                0
            }
            Err(e) => e,
        }
    }

    /// `vfio_msi_disable` (I:553-578).
    pub(crate) fn vfio_msi_disable(&mut self, msix: bool) {
        self.log.push(Op::MsiDisable { msix });
        let vectors: Vec<u32> = self.vectors.keys().copied().collect();
        for i in vectors {
            self.vfio_msi_set_vector_signal(i, -1, msix);
        }
        self.pci_free_irq_vectors();
        self.irq_type = VFIO_PCI_NUM_IRQS;
    }

    /// `eventfd_signal(ctx->trigger)` of MSI/MSI-X vector `i`.
    pub(crate) fn signal_vector(&mut self, i: u32) {
        assert!(self.vectors.contains_key(&i), "vector {i} has a ctx");
        self.log.push(Op::SignalVector(i));
    }

    /// `eventfd_signal(eventfd->ctx)` of ERR/REQ.
    pub(crate) fn signal_single(&mut self, which: Which) {
        assert!(self.single(which).is_some(), "{which:?} has an eventfd");
        self.log.push(Op::SignalSingle(which));
    }

    /// `vfio_pci_eventfd_replace_locked` (C:53-76; its `ENOMEM` is not modelled).
    pub(crate) fn eventfd_replace_locked(&mut self, which: Which, ctx: Option<i32>) -> i32 {
        self.log.push(Op::ReplaceSingle(which, ctx));
        *self.single(which) = ctx;
        0
    }
}

/// `*(int32_t *)data` at element `i`, native endian.
fn s32(data: &[u8], i: usize) -> i32 {
    let b = &data[i * 4..i * 4 + 4];
    i32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// `fls`: the 1-based position of the last set bit, 0 for none.
fn fls(mut x: u32) -> i32 {
    let mut r = 0;
    while x != 0 {
        r += 1;
        x >>= 1;
    }
    r
}

/// I:35-38.
fn irq_is(vdev: &Dev, type_: u32) -> bool {
    vdev.irq_type == type_
}

/// I:40-43.
fn is_intx(vdev: &Dev) -> bool {
    vdev.irq_type == VFIO_PCI_INTX_IRQ_INDEX
}

/// I:45-50.
fn is_irq_none(vdev: &Dev) -> bool {
    !(vdev.irq_type == VFIO_PCI_INTX_IRQ_INDEX
        || vdev.irq_type == VFIO_PCI_MSI_IRQ_INDEX
        || vdev.irq_type == VFIO_PCI_MSIX_IRQ_INDEX)
}

/// `vfio_msi_enable` (I:381-414).
fn vfio_msi_enable(vdev: &mut Dev, nvec: i32, msix: bool) -> i32 {
    if !is_irq_none(vdev) {
        return -EINVAL;
    }

    // return the number of supported vectors if we can't get all:
    let ret = vdev.pci_alloc_irq_vectors(1, nvec, msix);
    if ret < nvec {
        if ret > 0 {
            vdev.pci_free_irq_vectors();
        }
        return ret;
    }

    vdev.irq_type = if msix {
        VFIO_PCI_MSIX_IRQ_INDEX
    } else {
        VFIO_PCI_MSI_IRQ_INDEX
    };

    if !msix {
        // Compute the virtual hardware field for max msi vectors - it is the log base 2 of the
        // number of vectors.
        vdev.msi_qmax = (fls((nvec * 2 - 1) as u32) - 1) as u8;
    }

    0
}

/// `vfio_msi_set_block` (I:534-551); `fds` is `None` for a NULL `data`.
fn vfio_msi_set_block(
    vdev: &mut Dev,
    start: u32,
    count: u32,
    fds: Option<&[u8]>,
    msix: bool,
) -> i32 {
    let mut ret = 0;

    let (mut i, mut j) = (0, start);
    while i < count && ret == 0 {
        let fd = match fds {
            Some(fds) => s32(fds, i as usize),
            None => -1,
        };
        ret = vdev.vfio_msi_set_vector_signal(j, fd, msix);
        i += 1;
        j += 1;
    }

    if ret != 0 {
        for i in start..j {
            vdev.vfio_msi_set_vector_signal(i, -1, msix);
        }
    }

    ret
}

/// `vfio_pci_set_intx_unmask` (I:583-612).
fn vfio_pci_set_intx_unmask(
    vdev: &mut Dev,
    _index: u32,
    start: u32,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    if !is_intx(vdev) || start != 0 || count != 1 {
        return -EINVAL;
    }

    if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
        vdev.intx_unmask();
    } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
        let unmask = data.unwrap()[0];
        if unmask != 0 {
            vdev.intx_unmask();
        }
    } else if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        // ctx = vfio_irq_ctx_get(vdev, 0): there while INTx is on.
        let fd = s32(data.unwrap(), 0);

        if fd >= 0 {
            return vdev.virqfd_enable(fd);
        }

        vdev.virqfd_disable();
    }

    0
}

/// `vfio_pci_set_intx_mask` (I:614-632).
fn vfio_pci_set_intx_mask(
    vdev: &mut Dev,
    _index: u32,
    start: u32,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    if !is_intx(vdev) || start != 0 || count != 1 {
        return -EINVAL;
    }

    if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
        vdev.intx_mask();
    } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
        let mask = data.unwrap()[0];
        if mask != 0 {
            vdev.intx_mask();
        }
    } else if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        return -ENOTTY; // XXX implement me
    }

    0
}

/// `vfio_pci_set_intx_trigger` (I:634-679).
fn vfio_pci_set_intx_trigger(
    vdev: &mut Dev,
    _index: u32,
    start: u32,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    if is_intx(vdev) && count == 0 && (flags & VFIO_IRQ_SET_DATA_NONE) != 0 {
        vdev.intx_disable();
        return 0;
    }

    if !(is_intx(vdev) || is_irq_none(vdev)) || start != 0 || count != 1 {
        return -EINVAL;
    }

    if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        let mut trigger = None;
        let fd = s32(data.unwrap(), 0);

        if fd >= 0 {
            match vdev.eventfd_ctx_fdget(fd) {
                Ok(t) => trigger = Some(t),
                Err(e) => return e,
            }
        }

        let ret = if is_intx(vdev) {
            vdev.intx_set_signal(trigger)
        } else {
            vdev.intx_enable(trigger)
        };

        if ret != 0 {
            if let Some(t) = trigger {
                vdev.eventfd_ctx_put(t);
            }
        }

        return ret;
    }

    if !is_intx(vdev) {
        return -EINVAL;
    }

    if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
        vdev.send_intx_eventfd();
    } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
        let trigger = data.unwrap()[0];
        if trigger != 0 {
            vdev.send_intx_eventfd();
        }
    }
    0
}

/// `vfio_pci_set_msi_trigger` (I:681-732).
fn vfio_pci_set_msi_trigger(
    vdev: &mut Dev,
    index: u32,
    start: u32,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    let msix = index == VFIO_PCI_MSIX_IRQ_INDEX;

    if irq_is(vdev, index) && count == 0 && (flags & VFIO_IRQ_SET_DATA_NONE) != 0 {
        vdev.vfio_msi_disable(msix);
        return 0;
    }

    if !(irq_is(vdev, index) || is_irq_none(vdev)) {
        return -EINVAL;
    }

    if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        let fds = data;

        if vdev.irq_type == index {
            return vfio_msi_set_block(vdev, start, count, fds, msix);
        }

        let ret = vfio_msi_enable(vdev, (start + count) as i32, msix);
        if ret != 0 {
            return ret;
        }

        let ret = vfio_msi_set_block(vdev, start, count, fds, msix);
        if ret != 0 {
            vdev.vfio_msi_disable(msix);
        }

        return ret;
    }

    if !irq_is(vdev, index) {
        return -EINVAL;
    }

    for i in start..start + count {
        // ctx = vfio_irq_ctx_get(vdev, i)
        if !vdev.vectors.contains_key(&i) {
            continue;
        }
        if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
            vdev.signal_vector(i);
        } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
            let bools = data.unwrap();
            if bools[(i - start) as usize] != 0 {
                vdev.signal_vector(i);
            }
        }
    }
    0
}

/// `vfio_pci_set_ctx_trigger_single` (I:734-799).
fn vfio_pci_set_ctx_trigger_single(
    vdev: &mut Dev,
    peventfd: Which,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    // DATA_NONE/DATA_BOOL enables loopback testing
    if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
        let eventfd = *vdev.single(peventfd);

        if eventfd.is_none() {
            return -EINVAL;
        }

        if count != 0 {
            vdev.signal_single(peventfd);
            return 0;
        }

        return vdev.eventfd_replace_locked(peventfd, None);
    } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
        if count == 0 {
            return -EINVAL;
        }

        let trigger = data.unwrap()[0];

        if trigger != 0 {
            let eventfd = *vdev.single(peventfd);

            if eventfd.is_some() {
                vdev.signal_single(peventfd);
            }
        }

        return 0;
    } else if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        if count == 0 {
            return -EINVAL;
        }

        let fd = s32(data.unwrap(), 0);
        if fd == -1 {
            return vdev.eventfd_replace_locked(peventfd, None);
        } else if fd >= 0 {
            let efdctx = match vdev.eventfd_ctx_fdget(fd) {
                Ok(c) => c,
                Err(e) => return e,
            };

            let ret = vdev.eventfd_replace_locked(peventfd, Some(efdctx));
            if ret != 0 {
                vdev.eventfd_ctx_put(efdctx);
            }

            return ret;
        }
    }

    -EINVAL
}

/// `vfio_pci_set_err_trigger` (I:801-811).
fn vfio_pci_set_err_trigger(
    vdev: &mut Dev,
    index: u32,
    start: u32,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    if index != VFIO_PCI_ERR_IRQ_INDEX || start != 0 || count > 1 {
        return -EINVAL;
    }

    vfio_pci_set_ctx_trigger_single(vdev, Which::Err, count, flags, data)
}

/// `vfio_pci_set_req_trigger` (I:813-823).
fn vfio_pci_set_req_trigger(
    vdev: &mut Dev,
    index: u32,
    start: u32,
    count: u32,
    flags: u32,
    data: Option<&[u8]>,
) -> i32 {
    if index != VFIO_PCI_REQ_IRQ_INDEX || start != 0 || count > 1 {
        return -EINVAL;
    }

    vfio_pci_set_ctx_trigger_single(vdev, Which::Req, count, flags, data)
}

/// The type of the `vfio_pci_set_*` functions.
type SetFn = fn(&mut Dev, u32, u32, u32, u32, Option<&[u8]>) -> i32;

/// `vfio_pci_set_irqs_ioctl` (I:825-879), for a request `vfio_set_irqs_validate_and_prepare`
/// accepted; `data` is what `vfio_pci_ioctl_set_irqs` copied (C:1298-1302: NULL when the data
/// size is 0).
// C's nested `switch`es stay `match`es, one-armed ones too.
#[allow(clippy::single_match)]
pub(crate) fn vfio_pci_set_irqs_ioctl(
    vdev: &mut Dev,
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
    data: &[u8],
) -> i32 {
    let data = if data.is_empty() { None } else { Some(data) };
    let mut func: Option<SetFn> = None;

    match index {
        VFIO_PCI_INTX_IRQ_INDEX => match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
            VFIO_IRQ_SET_ACTION_MASK => func = Some(vfio_pci_set_intx_mask),
            VFIO_IRQ_SET_ACTION_UNMASK => func = Some(vfio_pci_set_intx_unmask),
            VFIO_IRQ_SET_ACTION_TRIGGER => func = Some(vfio_pci_set_intx_trigger),
            _ => {}
        },
        VFIO_PCI_MSI_IRQ_INDEX | VFIO_PCI_MSIX_IRQ_INDEX => {
            match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
                VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK => {
                    // XXX Need masking support exported
                }
                VFIO_IRQ_SET_ACTION_TRIGGER => func = Some(vfio_pci_set_msi_trigger),
                _ => {}
            }
        }
        VFIO_PCI_ERR_IRQ_INDEX => match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
            VFIO_IRQ_SET_ACTION_TRIGGER => func = Some(vfio_pci_set_err_trigger),
            _ => {}
        },
        VFIO_PCI_REQ_IRQ_INDEX => match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
            VFIO_IRQ_SET_ACTION_TRIGGER => func = Some(vfio_pci_set_req_trigger),
            _ => {}
        },
        _ => {}
    }

    let Some(func) = func else {
        return -ENOTTY;
    };

    func(vdev, index, start, count, flags, data)
}
