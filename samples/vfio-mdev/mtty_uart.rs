// SPDX-License-Identifier: GPL-2.0

//! One 16550 port as upstream's `samples/vfio-mdev/mtty.c` emulates it, as pure logic.
//!
//! The port is a loop-back: what the guest writes to THR lands in a 16-byte FIFO that the
//! guest reads back from RBR. [`SerialPort::write`] and [`SerialPort::read`] are
//! `handle_bar_write` and `handle_bar_read` for one register access, quirks included (each
//! is named where it happens), so a guest sees exactly what it sees with the C driver and
//! the state migrates to and from it (`mtty_mig.rs` serialises [`SerialPort`] as the C
//! `struct serial_port`).
//!
//! Interrupts are returned as [`Triggers`]: how many times the C code would have called
//! `mtty_trigger_interrupt` for this access. The caller (the kernel side) applies its INTx
//! mask/MSI rules once per trigger, still under its `ops_lock` as upstream does.
//!
//! Kernel-independent: the host build runs the tests.

/// `MAX_FIFO_SIZE`: the loop-back FIFO's size; also the index wrap (`CIRCULAR_BUF_INC_IDX`).
// upstream: mtty.c:54
pub(crate) const MAX_FIFO_SIZE: u8 = 16;

/// Register offsets within a port's I/O BAR (`include/uapi/linux/serial_reg.h`).
pub(crate) mod reg {
    /// `UART_RX` (read) / `UART_TX` (write).
    pub(crate) const RX_TX: u16 = 0;
    /// `UART_IER`.
    pub(crate) const IER: u16 = 1;
    /// `UART_IIR` (read) / `UART_FCR` (write).
    pub(crate) const IIR_FCR: u16 = 2;
    /// `UART_LCR`.
    pub(crate) const LCR: u16 = 3;
    /// `UART_MCR`.
    pub(crate) const MCR: u16 = 4;
    /// `UART_LSR`.
    pub(crate) const LSR: u16 = 5;
    /// `UART_MSR`.
    pub(crate) const MSR: u16 = 6;
    /// `UART_SCR`.
    pub(crate) const SCR: u16 = 7;
}

/// The register bits mtty uses (`include/uapi/linux/serial_reg.h`).
pub(crate) mod bits {
    /// `UART_IER_RDI`: received data available.
    pub(crate) const IER_RDI: u8 = 0x01;
    /// `UART_IER_THRI`: transmitter holding register empty.
    pub(crate) const IER_THRI: u8 = 0x02;
    /// `UART_IER_RLSI`: receiver line status.
    pub(crate) const IER_RLSI: u8 = 0x04;
    /// `UART_IER_MSI`: modem status.
    pub(crate) const IER_MSI: u8 = 0x08;
    /// `UART_IIR_NO_INT`.
    pub(crate) const IIR_NO_INT: u8 = 0x01;
    /// `UART_IIR_MSI`: zero, so OR-ing it in changes nothing (see [`super::SerialPort::read`]).
    pub(crate) const IIR_MSI: u8 = 0x00;
    /// `UART_IIR_THRI`.
    pub(crate) const IIR_THRI: u8 = 0x02;
    /// `UART_IIR_RDI`.
    pub(crate) const IIR_RDI: u8 = 0x04;
    /// `UART_IIR_RLSI`.
    pub(crate) const IIR_RLSI: u8 = 0x06;
    /// `UART_FCR_ENABLE_FIFO`.
    pub(crate) const FCR_ENABLE_FIFO: u8 = 0x01;
    /// `UART_FCR_CLEAR_RCVR`.
    pub(crate) const FCR_CLEAR_RCVR: u8 = 0x02;
    /// `UART_FCR_CLEAR_XMIT`.
    pub(crate) const FCR_CLEAR_XMIT: u8 = 0x04;
    /// `UART_FCR_TRIGGER_MASK`.
    pub(crate) const FCR_TRIGGER_MASK: u8 = 0xc0;
    /// `UART_LCR_DLAB`.
    pub(crate) const LCR_DLAB: u8 = 0x80;
    /// `UART_MCR_DTR`.
    pub(crate) const MCR_DTR: u8 = 0x01;
    /// `UART_MCR_RTS`.
    pub(crate) const MCR_RTS: u8 = 0x02;
    /// `UART_MCR_OUT2`.
    pub(crate) const MCR_OUT2: u8 = 0x08;
    /// `UART_MCR_AFE`.
    pub(crate) const MCR_AFE: u8 = 0x20;
    /// `UART_LSR_DR`.
    pub(crate) const LSR_DR: u8 = 0x01;
    /// `UART_LSR_OE`.
    pub(crate) const LSR_OE: u8 = 0x02;
    /// `UART_LSR_THRE`.
    pub(crate) const LSR_THRE: u8 = 0x20;
    /// `UART_LSR_TEMT`.
    pub(crate) const LSR_TEMT: u8 = 0x40;
    /// `UART_MSR_DCTS`.
    pub(crate) const MSR_DCTS: u8 = 0x01;
    /// `UART_MSR_DDSR`.
    pub(crate) const MSR_DDSR: u8 = 0x02;
    /// `UART_MSR_CTS`.
    pub(crate) const MSR_CTS: u8 = 0x10;
    /// `UART_MSR_DSR`.
    pub(crate) const MSR_DSR: u8 = 0x20;
    /// `UART_MSR_DCD`.
    pub(crate) const MSR_DCD: u8 = 0x80;
}

use bits::*;

/// How many times one access calls `mtty_trigger_interrupt` in upstream: 0, 1, or 2 (an MCR
/// write with OUT2 and RTS/DTR set while IER.MSI is on triggers twice, which signals an MSI
/// eventfd twice; with INTx the second is swallowed by the automask).
#[must_use = "the kernel side must deliver each trigger"]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Triggers(u8);

impl Triggers {
    /// No interrupt.
    pub(crate) const NONE: Triggers = Triggers(0);
    /// One `mtty_trigger_interrupt` call.
    pub(crate) const ONE: Triggers = Triggers(1);

    /// The number of `mtty_trigger_interrupt` calls to make, in order.
    pub(crate) fn count(self) -> u8 {
        self.0
    }

    /// Whether there is nothing to deliver.
    pub(crate) fn is_none(self) -> bool {
        self.0 == 0
    }

    /// One more trigger (at most two per access, see the type).
    fn add(&mut self) {
        self.0 += 1;
    }
}

/// `struct rxtx`: the loop-back buffer.
// upstream: mtty.c:115
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rxtx {
    /// The bytes.
    pub(crate) fifo: [u8; MAX_FIFO_SIZE as usize],
    /// Where the next written byte goes.
    pub(crate) head: u8,
    /// Where the next read byte comes from.
    pub(crate) tail: u8,
    /// Bytes in the FIFO; `u8` arithmetic wraps as in C.
    pub(crate) count: u8,
}

impl Rxtx {
    /// `head == tail`, which upstream takes for "empty" everywhere: a FIFO holding 16 bytes
    /// also has `head == tail`, so a full FIFO reads as empty (reads return nothing, LSR says
    /// empty) and accepts no more (`count` is at `max_fifo_size`) until an FCR clear.
    pub(crate) fn looks_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Empties the buffer (FCR with a CLEAR bit).
    fn clear(&mut self) {
        self.count = 0;
        self.head = 0;
        self.tail = 0;
    }
}

/// `CIRCULAR_BUF_INC_IDX`.
// upstream: mtty.c:56
fn inc_idx(idx: u8) -> u8 {
    idx.wrapping_add(1) & (MAX_FIFO_SIZE - 1)
}

/// An index into the FIFO. Upstream keeps head/tail below 16 by construction, but a migration
/// stream can carry any byte; C then indexes out of bounds (memory corruption), we wrap.
fn slot(idx: u8) -> usize {
    usize::from(idx & (MAX_FIFO_SIZE - 1))
}

/// A C `bool` as its byte in `struct serial_port`. Upstream only stores 0 and 1, but a
/// migration stream can carry any byte: C then has undefined behaviour; we read it as true
/// (gcc tests the byte for non-zero) and keep the byte, so it is saved back as loaded, as
/// C's `memcpy` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CBool(pub(crate) u8);

impl CBool {
    /// `false`.
    pub(crate) const FALSE: CBool = CBool(0);
    /// `true`.
    pub(crate) const TRUE: CBool = CBool(1);

    /// The truth value (any non-zero byte is true).
    pub(crate) fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for CBool {
    fn from(b: bool) -> Self {
        CBool(u8::from(b))
    }
}

/// `struct serial_port`: one emulated 16550 (field order and types as in C; `mtty_mig.rs`
/// gives its byte layout).
// upstream: mtty.c:121
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SerialPort {
    /// The register file, indexed by register offset. Only IER, LCR, MCR and SCR are ever
    /// written (FCR goes to [`Self::fcr`], RBR/IIR/LSR/MSR are computed on read).
    pub(crate) uart_reg: [u8; 8],
    /// The loop-back buffer.
    pub(crate) rxtx: Rxtx,
    /// LCR.DLAB: offsets 0 and 1 access the divisor latch.
    pub(crate) dlab: CBool,
    /// A byte was written to a full FIFO (LSR.OE, IIR receiver line status).
    pub(crate) overrun: CBool,
    /// The divisor latch.
    pub(crate) divisor: u16,
    /// The last FCR value written (never read back by the guest).
    pub(crate) fcr: u8,
    /// The FIFO's capacity: 16 with FCR.ENABLE_FIFO, else 1.
    pub(crate) max_fifo_size: u8,
    /// The receive-data interrupt level; upstream always sets 1 on an FCR write.
    pub(crate) intr_trigger_level: u8,
    /// The padding bytes after `overrun` and at the end: never written by the emulation,
    /// kept from a loaded stream so that saving sends them back as C does.
    pub(crate) padding: [u8; 2],
}

impl SerialPort {
    /// A port as `mtty_init_dev` leaves it: all zero but a 16-byte FIFO. Note the trigger
    /// level is 0 until the first FCR write, so until then IIR reports received data whenever
    /// IER.RDI is set, and TX writes never raise the level interrupt (`count` is never 0
    /// after a write).
    // upstream: mtty.c:1328
    pub(crate) const fn new() -> Self {
        SerialPort {
            uart_reg: [0; 8],
            rxtx: Rxtx {
                fifo: [0; MAX_FIFO_SIZE as usize],
                head: 0,
                tail: 0,
                count: 0,
            },
            dlab: CBool::FALSE,
            overrun: CBool::FALSE,
            divisor: 0,
            fcr: 0,
            max_fifo_size: MAX_FIFO_SIZE,
            intr_trigger_level: 0,
            padding: [0; 2],
        }
    }

    fn ier(&self) -> u8 {
        self.uart_reg[reg::IER as usize]
    }

    fn mcr(&self) -> u8 {
        self.uart_reg[reg::MCR as usize]
    }

    /// `handle_bar_write` for one byte at `offset` (the BAR offset truncated to `u16`, as
    /// upstream passes it). Wider accesses only ever use their first byte (`data = *buf`);
    /// offsets past 7 do nothing.
    // upstream: mtty.c:367
    pub(crate) fn write(&mut self, offset: u16, data: u8) -> Triggers {
        let mut irq = Triggers::NONE;
        match offset {
            reg::RX_TX => {
                // With DLAB set this is the divisor's LSB, OR-ed in (the LCR write that set
                // DLAB zeroed the divisor; a second write ORs into the first).
                if self.dlab.get() {
                    self.divisor |= u16::from(data);
                    return irq;
                }
                if self.rxtx.count < self.max_fifo_size {
                    self.rxtx.fifo[slot(self.rxtx.head)] = data;
                    self.rxtx.count = self.rxtx.count.wrapping_add(1);
                    self.rxtx.head = inc_idx(self.rxtx.head);
                    self.overrun = CBool::FALSE;
                    // Only on reaching the level exactly, not above it.
                    if self.ier() & IER_RDI != 0 && self.rxtx.count == self.intr_trigger_level {
                        irq.add();
                    }
                } else {
                    self.overrun = CBool::TRUE;
                    if self.ier() & IER_RLSI != 0 {
                        irq.add();
                    }
                }
            }
            reg::IER => {
                // With DLAB set this is the divisor's MSB, OR-ed in like the LSB.
                if self.dlab.get() {
                    self.divisor |= u16::from(data) << 8;
                } else {
                    self.uart_reg[reg::IER as usize] = data;
                    if data & IER_THRI != 0 && self.rxtx.looks_empty() {
                        irq.add();
                    }
                }
            }
            reg::IIR_FCR => {
                self.fcr = data;
                if data & (FCR_CLEAR_RCVR | FCR_CLEAR_XMIT) != 0 {
                    self.rxtx.clear();
                }
                // Upstream decodes the trigger level from bits 6-7 (1/4/8/14) and then
                // unconditionally overwrites it with 1 (no receive timeout timer to make
                // higher levels safe), so the level is always 1 after an FCR write.
                // upstream: mtty.c:458-481
                self.intr_trigger_level = 1;
                self.max_fifo_size = if data & FCR_ENABLE_FIFO != 0 {
                    MAX_FIFO_SIZE
                } else {
                    1
                };
                // Shrinking to 1 does not drop buffered bytes: `count` may stay above
                // `max_fifo_size` until the guest drains it.
            }
            reg::LCR => {
                if data & LCR_DLAB != 0 {
                    self.dlab = CBool::TRUE;
                    self.divisor = 0;
                } else {
                    self.dlab = CBool::FALSE;
                }
                self.uart_reg[reg::LCR as usize] = data;
            }
            reg::MCR => {
                self.uart_reg[reg::MCR as usize] = data;
                // Two independent checks: both can fire for one write.
                if self.ier() & IER_MSI != 0 && data & MCR_OUT2 != 0 {
                    irq.add();
                }
                if self.ier() & IER_MSI != 0 && data & (MCR_RTS | MCR_DTR) != 0 {
                    irq.add();
                }
            }
            reg::SCR => self.uart_reg[reg::SCR as usize] = data,
            // LSR and MSR are read-only; anything past the 8 registers is ignored.
            _ => {}
        }
        irq
    }

    /// `handle_bar_read` for one byte at `offset`. `None` where upstream leaves the caller's
    /// buffer untouched (RBR with nothing to read, offsets past 7): C then copies whatever
    /// was on its stack to user space; the caller decides what to return instead.
    // upstream: mtty.c:535
    pub(crate) fn read(&mut self, offset: u16) -> (Option<u8>, Triggers) {
        let mut irq = Triggers::NONE;
        let val = match offset {
            reg::RX_TX => {
                if self.dlab.get() {
                    return (Some(self.divisor as u8), irq);
                }
                let mut val = None;
                if !self.rxtx.looks_empty() {
                    val = Some(self.rxtx.fifo[slot(self.rxtx.tail)]);
                    self.rxtx.count = self.rxtx.count.wrapping_sub(1);
                    self.rxtx.tail = inc_idx(self.rxtx.tail);
                }
                // Also when the FIFO was already empty: every RBR read of an empty FIFO with
                // IER.THRI set triggers.
                if self.rxtx.looks_empty() && self.ier() & IER_THRI != 0 {
                    irq.add();
                }
                val
            }
            reg::IER => {
                if self.dlab.get() {
                    Some((self.divisor >> 8) as u8)
                } else {
                    // The upper nibble written to IER is stored but reads back as 0.
                    Some(self.ier() & 0x0f)
                }
            }
            reg::IIR_FCR => Some(self.iir()),
            reg::LCR | reg::MCR | reg::SCR => Some(self.uart_reg[usize::from(offset)]),
            reg::LSR => {
                let mut lsr = 0;
                if !self.rxtx.looks_empty() {
                    lsr |= LSR_DR;
                }
                if self.overrun.get() {
                    lsr |= LSR_OE;
                }
                if self.rxtx.looks_empty() {
                    lsr |= LSR_TEMT | LSR_THRE;
                }
                Some(lsr)
            }
            reg::MSR => {
                let mut msr = MSR_DSR | MSR_DDSR | MSR_DCD;
                // With AFE, CTS only while the FIFO has room; without, always.
                if self.mcr() & MCR_AFE == 0 || self.rxtx.count < self.max_fifo_size {
                    msr |= MSR_CTS | MSR_DCTS;
                }
                Some(msr)
            }
            _ => None,
        };
        (val, irq)
    }

    /// The IIR value. Not a priority encoder: the matching IDs are OR-ed together (RLSI 0x06
    /// absorbs RDI 0x04 and THRI 0x02), and the modem-status ID is 0x00 so a pending modem
    /// status interrupt reads as "no interrupt" (0x01). Bits 6-7 are always set.
    // upstream: mtty.c:582
    fn iir(&self) -> u8 {
        let ier = self.ier();
        let mut iir = 0;
        if ier & IER_RLSI != 0 && self.overrun.get() {
            iir |= IIR_RLSI;
        }
        if ier & IER_RDI != 0 && self.rxtx.count >= self.intr_trigger_level {
            iir |= IIR_RDI;
        }
        if ier & IER_THRI != 0 && self.rxtx.looks_empty() {
            iir |= IIR_THRI;
        }
        if ier & IER_MSI != 0 && self.mcr() & (MCR_RTS | MCR_DTR) != 0 {
            iir |= IIR_MSI;
        }
        if iir == 0 {
            iir = IIR_NO_INT;
        }
        iir | 0xc0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(p: &mut SerialPort, off: u16, v: u8) -> u8 {
        p.write(off, v).count()
    }

    fn r(p: &mut SerialPort, off: u16) -> (Option<u8>, u8) {
        let (v, t) = p.read(off);
        (v, t.count())
    }

    #[test]
    fn loopback_in_order() {
        let mut p = SerialPort::new();
        assert_eq!(w(&mut p, reg::IIR_FCR, FCR_ENABLE_FIFO), 0);
        for b in 1..=5u8 {
            assert_eq!(w(&mut p, reg::RX_TX, b), 0);
        }
        assert_eq!(p.rxtx.count, 5);
        assert_eq!(r(&mut p, reg::LSR).0, Some(LSR_DR));
        for b in 1..=5u8 {
            assert_eq!(r(&mut p, reg::RX_TX), (Some(b), 0));
        }
        assert_eq!(r(&mut p, reg::RX_TX), (None, 0));
        assert_eq!(r(&mut p, reg::LSR).0, Some(LSR_TEMT | LSR_THRE));
    }

    #[test]
    fn full_fifo_reads_as_empty() {
        let mut p = SerialPort::new();
        for b in 0..16u8 {
            assert_eq!(w(&mut p, reg::RX_TX, b), 0);
        }
        assert_eq!((p.rxtx.count, p.rxtx.head, p.rxtx.tail), (16, 0, 0));
        // head == tail: nothing to read, LSR says empty, and a 17th byte overruns.
        assert_eq!(r(&mut p, reg::RX_TX), (None, 0));
        assert_eq!(r(&mut p, reg::LSR).0, Some(LSR_TEMT | LSR_THRE));
        assert!(!p.overrun.get());
        assert_eq!(w(&mut p, reg::RX_TX, 0xaa), 0);
        assert!(p.overrun.get());
        assert_eq!(r(&mut p, reg::LSR).0, Some(LSR_TEMT | LSR_THRE | LSR_OE));
        // Only a clear gets it going again.
        assert_eq!(w(&mut p, reg::IIR_FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR), 0);
        assert_eq!(
            p.rxtx,
            Rxtx {
                fifo: p.rxtx.fifo,
                ..Rxtx::default()
            }
        );
        assert!(p.overrun.get(), "FCR clear leaves overrun");
        assert_eq!(w(&mut p, reg::RX_TX, 7), 0);
        assert!(!p.overrun.get(), "a stored byte clears overrun");
    }

    #[test]
    fn fcr_trigger_level_is_always_one() {
        for fcr in [0x00, 0x40, 0x80, 0xc0, 0xc1, 0x41] {
            let mut p = SerialPort::new();
            assert_eq!(p.intr_trigger_level, 0);
            assert_eq!(w(&mut p, reg::IIR_FCR, fcr), 0);
            assert_eq!(p.intr_trigger_level, 1, "fcr {fcr:#x}");
            assert_eq!(p.fcr, fcr);
            let size = if fcr & 1 != 0 { 16 } else { 1 };
            assert_eq!(p.max_fifo_size, size);
            // FCR is not stored in uart_reg[2].
            assert_eq!(p.uart_reg[2], 0);
        }
    }

    #[test]
    fn rdi_interrupt_at_level_only() {
        let mut p = SerialPort::new();
        w(&mut p, reg::IER, IER_RDI);
        // Level 0 before any FCR write: a write never lands on it.
        assert_eq!(w(&mut p, reg::RX_TX, 1), 0);
        assert_eq!(r(&mut p, reg::IIR_FCR).0, Some(0xc0 | IIR_RDI));
        w(
            &mut p,
            reg::IIR_FCR,
            FCR_ENABLE_FIFO | FCR_CLEAR_XMIT | 0xc0,
        );
        assert_eq!(w(&mut p, reg::RX_TX, 1), 1, "count 1 == level 1");
        assert_eq!(w(&mut p, reg::RX_TX, 2), 0, "count 2 > level");
    }

    #[test]
    fn overrun_with_fifo_off() {
        let mut p = SerialPort::new();
        w(&mut p, reg::IER, IER_RLSI);
        w(&mut p, reg::IIR_FCR, 0);
        assert_eq!(p.max_fifo_size, 1);
        assert_eq!(w(&mut p, reg::RX_TX, 1), 0);
        assert_eq!(w(&mut p, reg::RX_TX, 2), 1, "RLSI on overrun");
        assert_eq!(r(&mut p, reg::IIR_FCR).0, Some(0xc0 | IIR_RLSI));
        assert_eq!(r(&mut p, reg::RX_TX), (Some(1), 0));
    }

    #[test]
    fn divisor_latch_ors() {
        let mut p = SerialPort::new();
        w(&mut p, reg::LCR, LCR_DLAB | 3);
        assert!(p.dlab.get());
        w(&mut p, reg::RX_TX, 0x01);
        w(&mut p, reg::RX_TX, 0x02);
        w(&mut p, reg::IER, 0x10);
        w(&mut p, reg::IER, 0x20);
        assert_eq!(p.divisor, 0x3003);
        assert_eq!(r(&mut p, reg::RX_TX), (Some(0x03), 0));
        assert_eq!(r(&mut p, reg::IER), (Some(0x30), 0));
        assert_eq!(p.rxtx.count, 0, "DLAB writes do not reach the FIFO");
        assert_eq!(p.uart_reg[1], 0, "nor IER");
        // Setting DLAB again zeroes the divisor; clearing it keeps the value.
        w(&mut p, reg::LCR, 3);
        assert_eq!((p.dlab, p.divisor), (CBool::FALSE, 0x3003));
        w(&mut p, reg::LCR, LCR_DLAB);
        assert_eq!(p.divisor, 0);
    }

    #[test]
    fn ier_reads_low_nibble() {
        let mut p = SerialPort::new();
        assert_eq!(w(&mut p, reg::IER, 0xf0), 0);
        assert_eq!(p.uart_reg[1], 0xf0);
        assert_eq!(r(&mut p, reg::IER), (Some(0), 0));
        // THRI with an empty FIFO triggers at once.
        assert_eq!(w(&mut p, reg::IER, 0xff), 1);
        assert_eq!(r(&mut p, reg::IER), (Some(0x0f), 0));
    }

    #[test]
    fn thri_on_every_empty_read() {
        let mut p = SerialPort::new();
        w(&mut p, reg::RX_TX, 9);
        assert_eq!(w(&mut p, reg::IER, IER_THRI), 0, "not empty");
        assert_eq!(r(&mut p, reg::RX_TX), (Some(9), 1), "drained");
        assert_eq!(r(&mut p, reg::RX_TX), (None, 1), "already empty");
    }

    #[test]
    fn mcr_triggers_twice() {
        let mut p = SerialPort::new();
        w(&mut p, reg::IER, IER_MSI);
        assert_eq!(w(&mut p, reg::MCR, MCR_OUT2 | MCR_RTS), 2);
        assert_eq!(w(&mut p, reg::MCR, MCR_OUT2), 1);
        assert_eq!(w(&mut p, reg::MCR, MCR_DTR), 1);
        assert_eq!(w(&mut p, reg::MCR, 0), 0);
        // Modem status pending (RTS) but IIR_MSI is 0: reads "no interrupt".
        w(&mut p, reg::IER, IER_MSI);
        let _ = p.write(reg::MCR, MCR_RTS);
        assert_eq!(r(&mut p, reg::IIR_FCR).0, Some(0xc0 | IIR_NO_INT));
    }

    #[test]
    fn iir_ors_ids() {
        let mut p = SerialPort::new();
        w(&mut p, reg::IIR_FCR, FCR_ENABLE_FIFO);
        let _ = p.write(reg::IER, IER_RDI | IER_THRI | IER_RLSI);
        assert_eq!(r(&mut p, reg::IIR_FCR).0, Some(0xc0 | IIR_THRI));
        w(&mut p, reg::RX_TX, 1);
        assert_eq!(r(&mut p, reg::IIR_FCR).0, Some(0xc0 | IIR_RDI));
        p.overrun = CBool::TRUE;
        assert_eq!(r(&mut p, reg::IIR_FCR).0, Some(0xc0 | IIR_RLSI));
    }

    #[test]
    fn msr_with_afe() {
        let mut p = SerialPort::new();
        let base = MSR_DSR | MSR_DDSR | MSR_DCD;
        assert_eq!(r(&mut p, reg::MSR).0, Some(base | MSR_CTS | MSR_DCTS));
        w(&mut p, reg::MCR, MCR_AFE);
        assert_eq!(r(&mut p, reg::MSR).0, Some(base | MSR_CTS | MSR_DCTS));
        w(&mut p, reg::IIR_FCR, 0);
        w(&mut p, reg::RX_TX, 1);
        assert_eq!(r(&mut p, reg::MSR).0, Some(base), "FIFO of 1 is full");
        w(&mut p, reg::MCR, 0);
        assert_eq!(r(&mut p, reg::MSR).0, Some(base | MSR_CTS | MSR_DCTS));
    }

    #[test]
    fn plain_registers_and_ignored_offsets() {
        let mut p = SerialPort::new();
        w(&mut p, reg::SCR, 0x5a);
        w(&mut p, reg::LCR, 0x1b);
        w(&mut p, reg::LSR, 0xff);
        w(&mut p, reg::MSR, 0xff);
        assert_eq!(r(&mut p, reg::SCR).0, Some(0x5a));
        assert_eq!(r(&mut p, reg::LCR).0, Some(0x1b));
        assert_eq!(p.uart_reg[5..7], [0, 0]);
        let before = p;
        for off in [8u16, 9, 0x100, 0xffff] {
            assert_eq!(w(&mut p, off, 0xff), 0);
            assert_eq!(r(&mut p, off), (None, 0));
        }
        assert_eq!(p, before);
    }

    #[test]
    fn shrink_keeps_buffered_bytes() {
        let mut p = SerialPort::new();
        for b in 0..4u8 {
            w(&mut p, reg::RX_TX, b);
        }
        w(&mut p, reg::IIR_FCR, 0);
        assert_eq!((p.rxtx.count, p.max_fifo_size), (4, 1));
        w(&mut p, reg::RX_TX, 9);
        assert!(p.overrun.get());
        assert_eq!(r(&mut p, reg::RX_TX).0, Some(0));
    }

    #[test]
    fn crafted_state_does_not_panic() {
        // As a migration stream may leave it: indices past the FIFO, count inconsistent.
        let mut p = SerialPort::new();
        p.rxtx.head = 200;
        p.rxtx.tail = 255;
        p.rxtx.count = 0;
        p.max_fifo_size = 255;
        p.dlab = CBool(0x80);
        assert_eq!(p.read(reg::IER).0, Some(0), "DLAB 0x80 counts as set");
        for off in 0..8 {
            let _ = p.read(off);
            let _ = p.write(off, 0xff);
        }
        assert!(p.rxtx.head < 16 && p.rxtx.tail < 16);
    }
}
