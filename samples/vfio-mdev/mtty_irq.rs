// SPDX-License-Identifier: GPL-2.0

//! The interrupt logic of upstream's `samples/vfio-mdev/mtty.c`, as pure logic: which
//! eventfd `mtty_trigger_interrupt` signals (the INTx automask included) and what
//! `mtty_set_irqs` does for each `VFIO_DEVICE_SET_IRQS` request after the core's
//! `vfio_set_irqs_validate_and_prepare` accepted it.
//!
//! [`IrqState`] is generic over the eventfd type `E`: the kernel side uses its eventfd
//! context (dropping one is `eventfd_ctx_put`), the host tests a number. Signalling and
//! `eventfd_ctx_fdget` are closures, so everything else is decided here, in upstream's order
//! (e.g. installing an eventfd first drops the old one, even if looking up the new one then
//! fails).
//!
//! Kernel-independent: the host build runs the tests.

use crate::errno::Errno;

/// `VFIO_PCI_INTX_IRQ_INDEX`.
pub(crate) const INTX_IRQ_INDEX: u32 = 0;
/// `VFIO_PCI_MSI_IRQ_INDEX`.
pub(crate) const MSI_IRQ_INDEX: u32 = 1;

pub(crate) use crate::irq_flags::{
    ACTION_MASK,
    ACTION_TRIGGER,
    ACTION_TYPE_MASK,
    ACTION_UNMASK,
    DATA_BOOL,
    DATA_EVENTFD,
    DATA_NONE, //
};

/// Why `mtty_set_irqs` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetIrqsError<X> {
    /// An errno of its own: `EINVAL`.
    Errno(Errno),
    /// `ENOTTY` (25; not in [`Errno`]): masking MSI, a mask/unmask eventfd, MSI-X, ERR, REQ.
    NotTty,
    /// What `eventfd_ctx_fdget` returned.
    Fd(X),
}

/// Which eventfd an interrupt is signalled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The INTx eventfd.
    Intx,
    /// The MSI eventfd.
    Msi,
}

/// `irq_index`, `intx_evtfd`, `msi_evtfd` and `intx_mask` of `struct mdev_state`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct IrqState<E> {
    /// -1 (none), [`INTX_IRQ_INDEX`] or [`MSI_IRQ_INDEX`]: set with the eventfd.
    irq_index: i32,
    intx_evtfd: Option<E>,
    msi_evtfd: Option<E>,
    /// INTx is masked: set by each delivered INTx (automask) and by ACTION_MASK, cleared by
    /// ACTION_UNMASK and by dropping the INTx eventfd. Unmasking does not re-deliver.
    intx_mask: bool,
}

impl<E> Default for IrqState<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> IrqState<E> {
    /// As `mtty_init_dev` leaves it: no interrupt type (`irq_index = -1`).
    pub(crate) const fn new() -> Self {
        IrqState {
            irq_index: -1,
            intx_evtfd: None,
            msi_evtfd: None,
            intx_mask: false,
        }
    }

    /// `irq_index`.
    pub(crate) fn irq_index(&self) -> i32 {
        self.irq_index
    }

    /// `intx_mask`.
    pub(crate) fn intx_masked(&self) -> bool {
        self.intx_mask
    }

    /// The installed eventfds.
    pub(crate) fn eventfds(&self) -> (Option<&E>, Option<&E>) {
        (self.intx_evtfd.as_ref(), self.msi_evtfd.as_ref())
    }

    fn is_intx(&self) -> bool {
        self.irq_index == INTX_IRQ_INDEX as i32
    }

    fn is_msi(&self) -> bool {
        self.irq_index == MSI_IRQ_INDEX as i32
    }

    fn is_noirq(&self) -> bool {
        !self.is_intx() && !self.is_msi()
    }

    /// `mtty_trigger_interrupt`: `signal` gets the eventfd to signal, if any. An INTx is
    /// delivered only while unmasked, and masks it.
    // upstream: mtty.c:234
    pub(crate) fn trigger(&mut self, mut signal: impl FnMut(Line, &E)) {
        if self.is_msi() {
            if let Some(e) = &self.msi_evtfd {
                signal(Line::Msi, e);
            }
        } else if self.is_intx() {
            if let Some(e) = &self.intx_evtfd {
                if !self.intx_mask {
                    signal(Line::Intx, e);
                    self.intx_mask = true;
                }
            }
        }
    }

    /// `mtty_disable_intx` (also on close): drops the INTx eventfd, if any, and with it the
    /// mask and the interrupt type.
    // upstream: mtty.c:1534
    pub(crate) fn disable_intx(&mut self) {
        if self.intx_evtfd.take().is_some() {
            self.intx_mask = false;
            self.irq_index = -1;
        }
    }

    /// `mtty_disable_msi` (also on close).
    // upstream: mtty.c:1544
    pub(crate) fn disable_msi(&mut self) {
        if self.msi_evtfd.take().is_some() {
            self.irq_index = -1;
        }
    }

    /// `mtty_set_irqs` for a request the core validated against `num_irqs` 5
    /// (`vfio_set_irqs_validate_and_prepare`): exactly one data and one action type, and
    /// `data` holds `count` items of the data type. `fdget` is `eventfd_ctx_fdget`, `signal`
    /// as in [`Self::trigger`].
    // upstream: mtty.c:1553
    #[expect(
        clippy::too_many_arguments,
        reason = "mtty_set_irqs' arguments, plus the two kernel calls it makes"
    )]
    pub(crate) fn set_irqs<X>(
        &mut self,
        flags: u32,
        index: u32,
        start: u32,
        count: u32,
        data: &[u8],
        fdget: impl FnOnce(i32) -> Result<E, X>,
        signal: impl FnMut(Line, &E),
    ) -> Result<(), SetIrqsError<X>> {
        let einval = Err(SetIrqsError::Errno(Errno::EINVAL));
        let byte = || data.first().copied().unwrap_or(0);
        let (is_type, line) = match index {
            INTX_IRQ_INDEX => (self.is_intx(), Line::Intx),
            MSI_IRQ_INDEX => (self.is_msi(), Line::Msi),
            // MSI-X, ERR, REQ.
            2..=4 => return Err(SetIrqsError::NotTty),
            // Validation refuses these; upstream's switch has no default.
            _ => return Ok(()),
        };
        match flags & ACTION_TYPE_MASK {
            ACTION_MASK | ACTION_UNMASK => {
                if line == Line::Msi {
                    return Err(SetIrqsError::NotTty);
                }
                if !is_type || start != 0 || count != 1 {
                    return einval;
                }
                let mask = flags & ACTION_TYPE_MASK == ACTION_MASK;
                if flags & DATA_NONE != 0 {
                    self.intx_mask = mask;
                } else if flags & DATA_BOOL != 0 {
                    // A false bool changes nothing (it does not mean the opposite action).
                    if byte() != 0 {
                        self.intx_mask = mask;
                    }
                } else if flags & DATA_EVENTFD != 0 {
                    return Err(SetIrqsError::NotTty);
                }
                Ok(())
            }
            ACTION_TRIGGER => {
                if is_type && count == 0 && flags & DATA_NONE != 0 {
                    self.disable(line);
                    return Ok(());
                }
                if !(is_type || self.is_noirq()) || start != 0 || count != 1 {
                    return einval;
                }
                if flags & DATA_EVENTFD != 0 {
                    let fd = match data {
                        [a, b, c, d, ..] => i32::from_ne_bytes([*a, *b, *c, *d]),
                        _ => return einval,
                    };
                    self.disable(line);
                    if fd < 0 {
                        return Ok(());
                    }
                    let evt = fdget(fd).map_err(SetIrqsError::Fd)?;
                    match line {
                        Line::Intx => self.intx_evtfd = Some(evt),
                        Line::Msi => self.msi_evtfd = Some(evt),
                    }
                    self.irq_index = index as i32;
                    return Ok(());
                }
                if !is_type {
                    return einval;
                }
                if flags & DATA_NONE != 0 || (flags & DATA_BOOL != 0 && byte() != 0) {
                    self.trigger(signal);
                }
                Ok(())
            }
            // Validation leaves exactly one action; upstream's switch has no default.
            _ => Ok(()),
        }
    }

    fn disable(&mut self, line: Line) {
        match line {
            Line::Intx => self.disable_intx(),
            Line::Msi => self.disable_msi(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Result<(), SetIrqsError<i32>>;

    fn set(
        s: &mut IrqState<i32>,
        flags: u32,
        index: u32,
        count: u32,
        data: &[u8],
        log: &mut Vec<(Line, i32)>,
    ) -> R {
        s.set_irqs(
            flags,
            index,
            0,
            count,
            data,
            |fd| if fd < 100 { Ok(fd) } else { Err(-9) },
            |l, e| log.push((l, *e)),
        )
    }

    fn fd(n: i32) -> [u8; 4] {
        n.to_ne_bytes()
    }

    #[test]
    fn intx_automask() {
        let mut s = IrqState::new();
        let mut log = Vec::new();
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                0,
                1,
                &fd(7),
                &mut log
            ),
            Ok(())
        );
        assert_eq!(s.irq_index(), 0);
        s.trigger(|l, e| log.push((l, *e)));
        s.trigger(|l, e| log.push((l, *e)));
        assert_eq!(log, [(Line::Intx, 7)], "second one masked");
        assert_eq!(
            set(&mut s, DATA_NONE | ACTION_UNMASK, 0, 1, &[], &mut log),
            Ok(())
        );
        assert_eq!(log.len(), 1, "unmask does not re-deliver");
        assert_eq!(
            set(&mut s, DATA_BOOL | ACTION_TRIGGER, 0, 1, &[1], &mut log),
            Ok(())
        );
        assert_eq!(log.len(), 2);
        // BOOL false does nothing, not the opposite.
        assert_eq!(
            set(&mut s, DATA_BOOL | ACTION_UNMASK, 0, 1, &[0], &mut log),
            Ok(())
        );
        assert!(s.intx_masked());
        assert_eq!(
            set(&mut s, DATA_EVENTFD | ACTION_MASK, 0, 1, &fd(3), &mut log),
            Err(SetIrqsError::NotTty)
        );
        // count 0 + NONE disables, and clears the mask.
        assert_eq!(
            set(&mut s, DATA_NONE | ACTION_TRIGGER, 0, 0, &[], &mut log),
            Ok(())
        );
        assert_eq!(
            (s.irq_index(), s.intx_masked(), s.eventfds()),
            (-1, false, (None, None))
        );
    }

    #[test]
    fn msi_and_types_exclude_each_other() {
        let mut s = IrqState::new();
        let mut log = Vec::new();
        let einval = Err(SetIrqsError::Errno(Errno::EINVAL));
        assert_eq!(
            set(&mut s, DATA_NONE | ACTION_TRIGGER, 1, 1, &[], &mut log),
            einval,
            "no MSI yet"
        );
        assert_eq!(
            set(&mut s, DATA_NONE | ACTION_MASK, 0, 1, &[], &mut log),
            einval,
            "no INTx yet"
        );
        assert_eq!(
            set(&mut s, DATA_NONE | ACTION_MASK, 1, 1, &[], &mut log),
            Err(SetIrqsError::NotTty)
        );
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                1,
                1,
                &fd(5),
                &mut log
            ),
            Ok(())
        );
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                0,
                1,
                &fd(6),
                &mut log
            ),
            einval
        );
        s.trigger(|l, e| log.push((l, *e)));
        s.trigger(|l, e| log.push((l, *e)));
        assert_eq!(log, [(Line::Msi, 5), (Line::Msi, 5)], "MSI has no mask");
        for index in 2..5 {
            assert_eq!(
                set(&mut s, DATA_NONE | ACTION_TRIGGER, index, 1, &[], &mut log),
                Err(SetIrqsError::NotTty)
            );
        }
    }

    #[test]
    fn failed_fdget_leaves_nothing() {
        let mut s = IrqState::new();
        let mut log = Vec::new();
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                0,
                1,
                &fd(7),
                &mut log
            ),
            Ok(())
        );
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                0,
                1,
                &fd(100),
                &mut log
            ),
            Err(SetIrqsError::Fd(-9))
        );
        assert_eq!(
            (s.irq_index(), s.eventfds()),
            (-1, (None, None)),
            "old eventfd dropped first"
        );
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                0,
                1,
                &fd(7),
                &mut log
            ),
            Ok(())
        );
        assert_eq!(
            set(
                &mut s,
                DATA_EVENTFD | ACTION_TRIGGER,
                0,
                1,
                &fd(-1),
                &mut log
            ),
            Ok(())
        );
        assert_eq!(s.irq_index(), -1, "fd -1 only disables");
    }
}
