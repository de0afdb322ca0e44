// SPDX-License-Identifier: GPL-2.0

//! What `vfio_pci_set_irqs_ioctl` (`vfio_pci_intrs.c`) decides from a `VFIO_DEVICE_SET_IRQS`
//! request and the interrupt type in use, before it touches any interrupt: every argument
//! check and which operation runs. Pure, so the host tests check it against a transcription
//! of upstream's dispatch; the kernel side (`intrs.rs`) carries the operations out.

use crate::errno::Errno;

/// `VFIO_PCI_INTX_IRQ_INDEX`.
pub(crate) const INTX: u32 = 0;
/// `VFIO_PCI_MSI_IRQ_INDEX`.
pub(crate) const MSI: u32 = 1;
/// `VFIO_PCI_MSIX_IRQ_INDEX`.
pub(crate) const MSIX: u32 = 2;
/// `VFIO_PCI_ERR_IRQ_INDEX`.
pub(crate) const ERR: u32 = 3;
/// `VFIO_PCI_REQ_IRQ_INDEX`.
pub(crate) const REQ: u32 = 4;
/// `VFIO_PCI_NUM_IRQS`: also `irq_type` when no interrupt is enabled.
pub(crate) const NUM_IRQS: u32 = 5;

pub(crate) use crate::irq_flags::{
    ACTION_MASK,
    ACTION_TRIGGER,
    ACTION_TYPE_MASK,
    ACTION_UNMASK,
    DATA_BOOL,
    DATA_EVENTFD,
    DATA_NONE, //
};

/// The single-eventfd interrupts (`err_trigger`, `req_trigger`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Single {
    /// `VFIO_PCI_ERR_IRQ_INDEX`: AER errors.
    Err,
    /// `VFIO_PCI_REQ_IRQ_INDEX`: the kernel asks for the device back.
    Req,
}

/// The data following the header, as the caller copied it: `count` bools or eventfds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Data<'a>(pub(crate) &'a [u8]);

impl Data<'_> {
    /// Bool `i` (DATA_BOOL); false past the end.
    pub(crate) fn flag(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(|b| *b != 0)
    }

    /// Eventfd `i` (DATA_EVENTFD, native-endian `__s32`); -1 (none) past the end.
    pub(crate) fn fd(&self, i: usize) -> i32 {
        let Some(at) = i.checked_mul(4) else {
            return -1;
        };
        match self.0.get(at..at.saturating_add(4)) {
            Some(b) => i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            None => -1,
        }
    }
}

/// The operation a request asks for, its arguments checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan<'a> {
    /// Nothing to do (a BOOL that is false): 0.
    Nothing,
    /// `__vfio_pci_intx_mask`.
    IntxMask,
    /// `__vfio_pci_intx_unmask`.
    IntxUnmask,
    /// Arm a virqfd on eventfd `fd` (>= 0) that unmasks INTx (`vfio_virqfd_enable`).
    IntxUnmaskFd(i32),
    /// Disarm the unmask virqfd, if any.
    IntxUnmaskOff,
    /// `vfio_intx_disable`.
    IntxDisable,
    /// `vfio_intx_enable` with the trigger eventfd `fd` (`None`: no trigger).
    IntxEnable(Option<i32>),
    /// `vfio_intx_set_signal`: INTx is on, replace its trigger.
    IntxSetTrigger(Option<i32>),
    /// `vfio_send_intx_eventfd`: loopback of INTx's trigger.
    IntxLoopback,
    /// `vfio_msi_disable`.
    MsiDisable {
        /// MSI-X rather than MSI.
        msix: bool,
    },
    /// `vfio_msi_enable(start + count)`, then `vfio_msi_set_block`; disabled again if that
    /// fails.
    MsiEnable {
        /// MSI-X rather than MSI.
        msix: bool,
        /// First vector of the block.
        start: u32,
        /// Vectors in the block (`data` holds their eventfds).
        count: u32,
        /// The eventfds.
        data: Data<'a>,
    },
    /// `vfio_msi_set_block` on the enabled MSI or MSI-X.
    MsiBlock {
        /// MSI-X rather than MSI.
        msix: bool,
        /// First vector of the block.
        start: u32,
        /// Vectors in the block (`data` holds their eventfds).
        count: u32,
        /// The eventfds.
        data: Data<'a>,
    },
    /// Loopback: signal the trigger of each vector of `[start, start + count)` that has one
    /// (`bools`: only where its bool is set).
    MsiLoopback {
        /// First vector.
        start: u32,
        /// Vectors.
        count: u32,
        /// DATA_BOOL's flags, `None` for DATA_NONE.
        bools: Option<Data<'a>>,
    },
    /// DATA_NONE with count 1: signal the eventfd; `EINVAL` if there is none.
    SingleSignal(Single),
    /// DATA_NONE with count 0: clear the eventfd; `EINVAL` if there is none.
    SingleClear(Single),
    /// DATA_BOOL true: signal the eventfd if there is one.
    SingleLoopback(Single),
    /// DATA_EVENTFD: install eventfd `fd` (>= 0), or clear (`None`, fd -1, 0 if there is none).
    SingleSet(Single, Option<i32>),
}

/// The operation of a request that `vfio_set_irqs_validate_and_prepare` accepted (one data
/// type, `start`/`count` within the index's vectors, data of the right size), with interrupt
/// type `kind` in use (`irq_type`; [`NUM_IRQS`] for none).
pub(crate) fn plan(
    kind: u32,
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
    data: Data<'_>,
) -> Result<Plan<'_>, Errno> {
    let action = flags & ACTION_TYPE_MASK;
    match (index, action) {
        (INTX, ACTION_MASK) => intx_mask(kind, flags, start, count, data),
        (INTX, ACTION_UNMASK) => intx_unmask(kind, flags, start, count, data),
        (INTX, ACTION_TRIGGER) => intx_trigger(kind, flags, start, count, data),
        (MSI | MSIX, ACTION_TRIGGER) => msi_trigger(kind, flags, index, start, count, data),
        (ERR, ACTION_TRIGGER) => single(Single::Err, flags, start, count, data),
        (REQ, ACTION_TRIGGER) => single(Single::Req, flags, start, count, data),
        // Two actions, masking of MSI/MSI-X ("XXX Need masking support exported"), or ERR/REQ
        // masking.
        _ => Err(Errno::ENOTTY),
    }
}

/// `vfio_pci_set_intx_mask`.
fn intx_mask(kind: u32, flags: u32, start: u32, count: u32, data: Data<'_>) -> PlanResult<'_> {
    if kind != INTX || start != 0 || count != 1 {
        return Err(Errno::EINVAL);
    }
    Ok(match flags & (DATA_NONE | DATA_BOOL | DATA_EVENTFD) {
        DATA_NONE => Plan::IntxMask,
        DATA_BOOL if data.flag(0) => Plan::IntxMask,
        // "XXX implement me".
        DATA_EVENTFD => return Err(Errno::ENOTTY),
        _ => Plan::Nothing,
    })
}

/// `vfio_pci_set_intx_unmask`.
fn intx_unmask(kind: u32, flags: u32, start: u32, count: u32, data: Data<'_>) -> PlanResult<'_> {
    if kind != INTX || start != 0 || count != 1 {
        return Err(Errno::EINVAL);
    }
    Ok(match flags & (DATA_NONE | DATA_BOOL | DATA_EVENTFD) {
        DATA_NONE => Plan::IntxUnmask,
        DATA_BOOL if data.flag(0) => Plan::IntxUnmask,
        DATA_EVENTFD if data.fd(0) >= 0 => Plan::IntxUnmaskFd(data.fd(0)),
        DATA_EVENTFD => Plan::IntxUnmaskOff,
        _ => Plan::Nothing,
    })
}

/// `vfio_pci_set_intx_trigger`.
fn intx_trigger(kind: u32, flags: u32, start: u32, count: u32, data: Data<'_>) -> PlanResult<'_> {
    if kind == INTX && count == 0 && flags & DATA_NONE != 0 {
        return Ok(Plan::IntxDisable);
    }
    if !(kind == INTX || kind == NUM_IRQS) || start != 0 || count != 1 {
        return Err(Errno::EINVAL);
    }
    if flags & DATA_EVENTFD != 0 {
        let fd = Some(data.fd(0)).filter(|fd| *fd >= 0);
        return Ok(if kind == INTX {
            Plan::IntxSetTrigger(fd)
        } else {
            Plan::IntxEnable(fd)
        });
    }
    if kind != INTX {
        return Err(Errno::EINVAL);
    }
    Ok(if flags & DATA_NONE != 0 || data.flag(0) {
        Plan::IntxLoopback
    } else {
        Plan::Nothing
    })
}

/// `vfio_pci_set_msi_trigger`.
fn msi_trigger(
    kind: u32,
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
    data: Data<'_>,
) -> PlanResult<'_> {
    let msix = index == MSIX;
    if kind == index && count == 0 && flags & DATA_NONE != 0 {
        return Ok(Plan::MsiDisable { msix });
    }
    if !(kind == index || kind == NUM_IRQS) {
        return Err(Errno::EINVAL);
    }
    if flags & DATA_EVENTFD != 0 {
        return Ok(if kind == index {
            Plan::MsiBlock {
                msix,
                start,
                count,
                data,
            }
        } else {
            Plan::MsiEnable {
                msix,
                start,
                count,
                data,
            }
        });
    }
    if kind != index {
        return Err(Errno::EINVAL);
    }
    Ok(Plan::MsiLoopback {
        start,
        count,
        bools: if flags & DATA_BOOL != 0 {
            Some(data)
        } else {
            None
        },
    })
}

/// `vfio_pci_set_err_trigger`/`vfio_pci_set_req_trigger` and
/// `vfio_pci_set_ctx_trigger_single`.
fn single(which: Single, flags: u32, start: u32, count: u32, data: Data<'_>) -> PlanResult<'_> {
    if start != 0 || count > 1 {
        return Err(Errno::EINVAL);
    }
    if flags & DATA_NONE != 0 {
        return Ok(if count != 0 {
            Plan::SingleSignal(which)
        } else {
            Plan::SingleClear(which)
        });
    }
    if count == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & DATA_BOOL != 0 {
        return Ok(if data.flag(0) {
            Plan::SingleLoopback(which)
        } else {
            Plan::Nothing
        });
    }
    match data.fd(0) {
        -1 => Ok(Plan::SingleSet(which, None)),
        fd if fd >= 0 => Ok(Plan::SingleSet(which, Some(fd))),
        _ => Err(Errno::EINVAL),
    }
}

type PlanResult<'a> = Result<Plan<'a>, Errno>;

/// `msi_qmax` for `nvec` MSI vectors: `fls(nvec * 2 - 1) - 1`, the log2 of `nvec` rounded up.
pub(crate) fn msi_qmax(nvec: u32) -> u8 {
    let v = nvec.saturating_mul(2).saturating_sub(1);
    // CAST: at most 31.
    (31u32.saturating_sub(v.leading_zeros())) as u8
}

/// `vfio_msi_set_block`: sets vectors `start..start + count` of `table` to the eventfds of
/// `data` in order with `set(table, vector, fd)`; on the first failure releases every vector
/// from `start` up to and including the failing one with `release(table, vector)` (those that
/// existed before the call too, as upstream) and returns the error.
pub(crate) fn set_block<T, E>(
    table: &mut T,
    start: u32,
    count: u32,
    data: Data<'_>,
    mut set: impl FnMut(&mut T, u32, i32) -> Result<(), E>,
    mut release: impl FnMut(&mut T, u32),
) -> Result<(), E> {
    for (i, vector) in (start..start.saturating_add(count)).enumerate() {
        if let Err(e) = set(table, vector, data.fd(i)) {
            for v in start..=vector {
                release(table, v);
            }
            return Err(e);
        }
    }
    Ok(())
}
