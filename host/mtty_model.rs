// SPDX-License-Identifier: GPL-2.0

//! Property tests of the mtty logic against a model: a literal transcription of upstream's
//! `samples/vfio-mdev/mtty.c` (Linux 7.3) into Rust, on C-shaped state.
//!
//! The model keeps C's memory where it matters: `struct serial_port` and `struct mtty_data`
//! are `#[repr(C)]` with their padding spelled out as fields (so any byte is valid and the
//! migration `memcpy`s are real byte copies of the struct), `vconfig` is the 256-byte slab
//! object behind `kzalloc(255)`, and bytes C leaves uninitialised (the stack variable in
//! `mtty_read`, the upper bytes `*(u32 *)buf` reads from a 1- or 2-byte variable) are
//! `None`. Where C has undefined behaviour the model records it in `ub`, and the tests
//! check the Rust code does what its documentation promises there, and exactly what the
//! model does everywhere else:
//!
//! - `uart_*`: random register accesses on one port, from fresh and from random states;
//! - `config_*`, `access_*`: config writes and whole `read`/`write` calls split into
//!   chunks as the kernel side will, on every region;
//! - `info_*`: region, device and IRQ info, in random order;
//! - `save_*`, `resume_*`, `stream_*`, `migration_*`: the migration files and stream, and
//!   whole migrations driven through `mig_state::next_state` like the core does;
//! - `steps_*`: `mtty_step_state`'s arcs.

// The model follows C's shape (index loops, `if` inside `case`) on purpose.
#![allow(
    clippy::needless_range_loop,
    clippy::collapsible_match,
    clippy::if_same_then_else
)]

use core::mem::{offset_of, size_of};

use proptest::prelude::*;

use super::mtty_config::{chunk_len, create_config_space, index_to_offset, MttyDevice};
use super::mtty_mig::{self as mig, data_size, Header, MigFile, Step};
use super::mtty_uart::SerialPort;
use crate::errno::Errno;

/// `cases` random cases; failures print their shrunk input instead of being saved to a
/// regressions file (`PROPTEST_RNG_SEED=n` fixes the seed).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

// ---------------------------------------------------------------------------------------
// The model: C structs and functions, transcribed. Names, order and types follow mtty.c.
// ---------------------------------------------------------------------------------------

const MAX_FIFO_SIZE: u8 = 16;
const MTTY_CONFIG_SPACE_SIZE: usize = 0xff;
const MTTY_IO_BAR_SIZE: i32 = 0x8;
const MTTY_VFIO_PCI_OFFSET_SHIFT: u32 = 40;
const MTTY_VFIO_PCI_OFFSET_MASK: u64 = (1u64 << MTTY_VFIO_PCI_OFFSET_SHIFT) - 1;
const MTTY_MAGIC: u64 = 0x7e9d09898c3e2c4e;
const MTTY_MAJOR_VER: u32 = 1;
const MTTY_MINOR_VER: u32 = 0;
const VFIO_PCI_BAR5_REGION_INDEX: u32 = 5;
const VFIO_PCI_CONFIG_REGION_INDEX: u32 = 7;
const VFIO_PCI_NUM_REGIONS: u32 = 9;
const VFIO_PCI_NUM_IRQS: u32 = 5;

const UART_TX: u16 = 0;
const UART_RX: u16 = 0;
const UART_IER: u16 = 1;
const UART_IIR: u16 = 2;
const UART_FCR: u16 = 2;
const UART_LCR: u16 = 3;
const UART_MCR: u16 = 4;
const UART_LSR: u16 = 5;
const UART_MSR: u16 = 6;
const UART_SCR: u16 = 7;
const UART_IER_MSI: u8 = 0x08;
const UART_IER_RLSI: u8 = 0x04;
const UART_IER_THRI: u8 = 0x02;
const UART_IER_RDI: u8 = 0x01;
const UART_IIR_NO_INT: u8 = 0x01;
const UART_IIR_MSI: u8 = 0x00;
const UART_IIR_THRI: u8 = 0x02;
const UART_IIR_RDI: u8 = 0x04;
const UART_IIR_RLSI: u8 = 0x06;
const UART_FCR_ENABLE_FIFO: u8 = 0x01;
const UART_FCR_CLEAR_RCVR: u8 = 0x02;
const UART_FCR_CLEAR_XMIT: u8 = 0x04;
const UART_FCR_TRIGGER_MASK: u8 = 0xC0;
const UART_FCR_TRIGGER_1: u8 = 0x00;
const UART_FCR_TRIGGER_4: u8 = 0x40;
const UART_FCR_TRIGGER_8: u8 = 0x80;
const UART_FCR_TRIGGER_14: u8 = 0xC0;
const UART_LCR_DLAB: u8 = 0x80;
const UART_MCR_AFE: u8 = 0x20;
const UART_MCR_OUT2: u8 = 0x08;
const UART_MCR_RTS: u8 = 0x02;
const UART_MCR_DTR: u8 = 0x01;
const UART_LSR_TEMT: u8 = 0x40;
const UART_LSR_THRE: u8 = 0x20;
const UART_LSR_OE: u8 = 0x02;
const UART_LSR_DR: u8 = 0x01;
const UART_MSR_DCD: u8 = 0x80;
const UART_MSR_DSR: u8 = 0x20;
const UART_MSR_CTS: u8 = 0x10;
const UART_MSR_DDSR: u8 = 0x02;
const UART_MSR_DCTS: u8 = 0x01;

/// `struct rxtx`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rxtx {
    fifo: [u8; MAX_FIFO_SIZE as usize],
    head: u8,
    tail: u8,
    count: u8,
}

/// `struct serial_port`, `bool`s as their byte, padding as fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct CSerialPort {
    uart_reg: [u8; 8],
    rxtx: Rxtx,
    dlab: u8,
    overrun: u8,
    _pad0: u8,
    divisor: u16,
    fcr: u8,
    max_fifo_size: u8,
    intr_trigger_level: u8,
    _pad1: u8,
}

/// `struct mtty_data`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MttyData {
    magic: u64,
    major_ver: u32,
    minor_ver: u32,
    nr_ports: u32,
    flags: u32,
    ports: [CSerialPort; 2],
}

/// The `struct mtty_data` bytes (every byte is a field, so any pattern is valid).
fn data_bytes(d: &MttyData) -> &[u8] {
    // SAFETY: `MttyData` is `repr(C)` of integers with no implicit padding
    // (`model_structs_have_no_padding`).
    unsafe { core::slice::from_raw_parts(d as *const MttyData as *const u8, size_of::<MttyData>()) }
}

fn data_bytes_mut(d: &mut MttyData) -> &mut [u8] {
    // SAFETY: as in `data_bytes`; any byte pattern is a valid `MttyData`.
    unsafe { core::slice::from_raw_parts_mut(d as *mut MttyData as *mut u8, size_of::<MttyData>()) }
}

fn port_bytes(p: &CSerialPort) -> &[u8] {
    // SAFETY: as in `data_bytes`.
    unsafe {
        core::slice::from_raw_parts(
            p as *const CSerialPort as *const u8,
            size_of::<CSerialPort>(),
        )
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MdevRegionInfo {
    start: u64,
    size: u32,
    vfio_offset: u64,
}

/// The kernel-independent part of `struct mdev_state`, plus what the model observes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MdevState {
    /// `kzalloc(MTTY_CONFIG_SPACE_SIZE)`: the 256-byte slab object, zeroed whole.
    vconfig: [u8; 256],
    region_info: [MdevRegionInfo; VFIO_PCI_NUM_REGIONS as usize],
    bar_mask: [u32; VFIO_PCI_NUM_REGIONS as usize],
    s: [CSerialPort; 2],
    dev_info_num_irqs: u32,
    nr_ports: i32,
    /// Calls of `mtty_trigger_interrupt`.
    triggers: u32,
    /// Undefined behaviour met (what and where).
    ub: Vec<&'static str>,
}

fn mtty_trigger_interrupt(m: &mut MdevState) {
    m.triggers += 1;
}

fn circular_buf_inc_idx(idx: &mut u8) {
    *idx = (idx.wrapping_add(1)) & (MAX_FIFO_SIZE - 1);
}

/// `mtty_init_dev` (the parts that are not locks and files) and `mtty_create_config_space`.
fn mtty_init_dev(nr_ports: i32) -> MdevState {
    let mut m = MdevState {
        vconfig: [0; 256],
        region_info: Default::default(),
        bar_mask: [0; 9],
        s: [CSerialPort::default(); 2],
        dev_info_num_irqs: 0,
        nr_ports,
        triggers: 0,
        ub: Vec::new(),
    };
    m.s[0].max_fifo_size = MAX_FIFO_SIZE;
    m.s[1].max_fifo_size = MAX_FIFO_SIZE;
    mtty_create_config_space(&mut m);
    m
}

fn store_le32(v: &mut [u8], off: usize, val: u32) {
    v[off..off + 4].copy_from_slice(&val.to_le_bytes());
}

fn store_le16(v: &mut [u8], off: usize, val: u16) {
    v[off..off + 2].copy_from_slice(&val.to_le_bytes());
}

fn mtty_create_config_space(m: &mut MdevState) {
    store_le32(&mut m.vconfig, 0x0, 0x32534348);
    store_le16(&mut m.vconfig, 0x4, 0x0001);
    store_le16(&mut m.vconfig, 0x6, 0x0200);
    m.vconfig[0x8] = 0x10;
    m.vconfig[0x9] = 0x02;
    m.vconfig[0xa] = 0x00;
    m.vconfig[0xb] = 0x07;
    store_le32(&mut m.vconfig, 0x10, 0x000001);
    m.bar_mask[0] = (!MTTY_IO_BAR_SIZE + 1) as u32;
    if m.nr_ports == 2 {
        store_le32(&mut m.vconfig, 0x14, 0x000001);
        m.bar_mask[1] = (!MTTY_IO_BAR_SIZE + 1) as u32;
    }
    store_le32(&mut m.vconfig, 0x2c, 0x32534348);
    m.vconfig[0x34] = 0x00;
    m.vconfig[0x3d] = 0x01;
    m.vconfig[0x40] = 0x23;
    m.vconfig[0x43] = 0x80;
    m.vconfig[0x44] = 0x23;
    m.vconfig[0x48] = 0x23;
    m.vconfig[0x4c] = 0x23;
    m.vconfig[0x60] = 0x50;
    m.vconfig[0x61] = 0x43;
    m.vconfig[0x62] = 0x49;
    m.vconfig[0x63] = 0x20;
    m.vconfig[0x64] = 0x53;
    m.vconfig[0x65] = 0x65;
    m.vconfig[0x66] = 0x72;
    m.vconfig[0x67] = 0x69;
    m.vconfig[0x68] = 0x61;
    m.vconfig[0x69] = 0x6c;
    m.vconfig[0x6a] = 0x2f;
    m.vconfig[0x6b] = 0x55;
    m.vconfig[0x6c] = 0x41;
    m.vconfig[0x6d] = 0x52;
    m.vconfig[0x6e] = 0x54;
}

/// `*(u32 *)buf` on a `count`-byte variable: bytes past `count` are the stack's.
fn load_u32_from(buf: &[Option<u8>; 4], m: &mut MdevState) -> u32 {
    if buf.iter().any(Option::is_none) {
        m.ub.push("cfg BAR write reads stack bytes past the variable");
    }
    u32::from_le_bytes(buf.map(|b| b.unwrap_or(0)))
}

fn handle_pci_cfg_write(m: &mut MdevState, offset: u16, buf: &[Option<u8>; 4], _count: u32) {
    let mut bar_index: u32 = 0;
    match offset {
        0x04 | 0x06 => {}
        0x3c => m.vconfig[0x3c] = buf[0].unwrap(),
        0x3d => {}
        0x10 | 0x14 => {
            if offset == 0x10 {
                bar_index = 0;
            } else if offset == 0x14 {
                bar_index = 1;
            }
            if m.nr_ports == 1 && bar_index == 1 {
                store_le32(&mut m.vconfig, offset as usize, 0);
                return;
            }
            let mut cfg_addr = load_u32_from(buf, m);
            if cfg_addr == 0xffffffff {
                let bar_mask = m.bar_mask[bar_index as usize];
                cfg_addr &= bar_mask;
            }
            cfg_addr |= (m.vconfig[offset as usize] & 0x3) as u32;
            store_le32(&mut m.vconfig, offset as usize, cfg_addr);
        }
        0x18 | 0x1c | 0x20 => store_le32(&mut m.vconfig, offset as usize, 0),
        _ => {}
    }
}

fn handle_bar_write(index: u32, m: &mut MdevState, offset: u16, buf: &[Option<u8>; 4]) {
    let data = buf[0].unwrap();
    if index >= 2 {
        m.ub.push("s[index] past the array");
        return;
    }
    let i = index as usize;
    macro_rules! s {
        () => {
            m.s[i]
        };
    }
    match offset {
        UART_TX => {
            if s!().dlab != 0 {
                s!().divisor |= data as u16;
                return;
            }
            if s!().rxtx.count < s!().max_fifo_size {
                let head = s!().rxtx.head as usize;
                if head >= MAX_FIFO_SIZE as usize {
                    m.ub.push("fifo[head] out of bounds");
                }
                s!().rxtx.fifo[head % 16] = data;
                s!().rxtx.count = s!().rxtx.count.wrapping_add(1);
                circular_buf_inc_idx(&mut s!().rxtx.head);
                s!().overrun = 0;
                if (s!().uart_reg[UART_IER as usize] & UART_IER_RDI) != 0
                    && s!().rxtx.count == s!().intr_trigger_level
                {
                    mtty_trigger_interrupt(m);
                }
            } else {
                s!().overrun = 1;
                if s!().uart_reg[UART_IER as usize] & UART_IER_RLSI != 0 {
                    mtty_trigger_interrupt(m);
                }
            }
        }
        UART_IER => {
            if s!().dlab != 0 {
                s!().divisor |= (data as u16) << 8;
            } else {
                s!().uart_reg[offset as usize] = data;
                if (data & UART_IER_THRI) != 0 && s!().rxtx.head == s!().rxtx.tail {
                    mtty_trigger_interrupt(m);
                }
            }
        }
        UART_FCR => {
            s!().fcr = data;
            if data & (UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT) != 0 {
                s!().rxtx.count = 0;
                s!().rxtx.head = 0;
                s!().rxtx.tail = 0;
            }
            match data & UART_FCR_TRIGGER_MASK {
                UART_FCR_TRIGGER_1 => s!().intr_trigger_level = 1,
                UART_FCR_TRIGGER_4 => s!().intr_trigger_level = 4,
                UART_FCR_TRIGGER_8 => s!().intr_trigger_level = 8,
                UART_FCR_TRIGGER_14 => s!().intr_trigger_level = 14,
                _ => {}
            }
            s!().intr_trigger_level = 1;
            if data & UART_FCR_ENABLE_FIFO != 0 {
                s!().max_fifo_size = MAX_FIFO_SIZE;
            } else {
                s!().max_fifo_size = 1;
                s!().intr_trigger_level = 1;
            }
        }
        UART_LCR => {
            if data & UART_LCR_DLAB != 0 {
                s!().dlab = 1;
                s!().divisor = 0;
            } else {
                s!().dlab = 0;
            }
            s!().uart_reg[offset as usize] = data;
        }
        UART_MCR => {
            s!().uart_reg[offset as usize] = data;
            if (s!().uart_reg[UART_IER as usize] & UART_IER_MSI) != 0 && (data & UART_MCR_OUT2) != 0
            {
                mtty_trigger_interrupt(m);
            }
            if (s!().uart_reg[UART_IER as usize] & UART_IER_MSI) != 0
                && (data & (UART_MCR_RTS | UART_MCR_DTR)) != 0
            {
                mtty_trigger_interrupt(m);
            }
        }
        UART_LSR | UART_MSR => {}
        UART_SCR => s!().uart_reg[offset as usize] = data,
        _ => {}
    }
}

fn handle_bar_read(index: u32, m: &mut MdevState, offset: u16, buf: &mut [Option<u8>; 4]) {
    if index >= 2 {
        m.ub.push("s[index] past the array");
        return;
    }
    let i = index as usize;
    macro_rules! s {
        () => {
            m.s[i]
        };
    }
    match offset {
        UART_RX => {
            if s!().dlab != 0 {
                buf[0] = Some(s!().divisor as u8);
                return;
            }
            if s!().rxtx.head != s!().rxtx.tail {
                let tail = s!().rxtx.tail as usize;
                if tail >= MAX_FIFO_SIZE as usize {
                    m.ub.push("fifo[tail] out of bounds");
                }
                buf[0] = Some(s!().rxtx.fifo[tail % 16]);
                s!().rxtx.count = s!().rxtx.count.wrapping_sub(1);
                circular_buf_inc_idx(&mut s!().rxtx.tail);
            }
            if s!().rxtx.head == s!().rxtx.tail
                && s!().uart_reg[UART_IER as usize] & UART_IER_THRI != 0
            {
                mtty_trigger_interrupt(m);
            }
        }
        UART_IER => {
            if s!().dlab != 0 {
                buf[0] = Some((s!().divisor >> 8) as u8);
                return;
            }
            buf[0] = Some(s!().uart_reg[offset as usize] & 0x0f);
        }
        UART_IIR => {
            let ier = s!().uart_reg[UART_IER as usize];
            let mut b: u8 = 0;
            if (ier & UART_IER_RLSI) != 0 && s!().overrun != 0 {
                b |= UART_IIR_RLSI;
            }
            if (ier & UART_IER_RDI) != 0 && s!().rxtx.count >= s!().intr_trigger_level {
                b |= UART_IIR_RDI;
            }
            if (ier & UART_IER_THRI) != 0 && s!().rxtx.head == s!().rxtx.tail {
                b |= UART_IIR_THRI;
            }
            if (ier & UART_IER_MSI) != 0
                && (s!().uart_reg[UART_MCR as usize] & (UART_MCR_RTS | UART_MCR_DTR)) != 0
            {
                b |= UART_IIR_MSI;
            }
            if b == 0 {
                b = UART_IIR_NO_INT;
            }
            b |= 0xC0;
            buf[0] = Some(b);
        }
        UART_LCR | UART_MCR => buf[0] = Some(s!().uart_reg[offset as usize]),
        UART_LSR => {
            let mut lsr: u8 = 0;
            if s!().rxtx.head != s!().rxtx.tail {
                lsr |= UART_LSR_DR;
            }
            if s!().overrun != 0 {
                lsr |= UART_LSR_OE;
            }
            if s!().rxtx.head == s!().rxtx.tail {
                lsr |= UART_LSR_TEMT | UART_LSR_THRE;
            }
            buf[0] = Some(lsr);
        }
        UART_MSR => {
            let mut b = UART_MSR_DSR | UART_MSR_DDSR | UART_MSR_DCD;
            if s!().uart_reg[UART_MCR as usize] & UART_MCR_AFE != 0 {
                if s!().rxtx.count < s!().max_fifo_size {
                    b |= UART_MSR_CTS | UART_MSR_DCTS;
                }
            } else {
                b |= UART_MSR_CTS | UART_MSR_DCTS;
            }
            buf[0] = Some(b);
        }
        UART_SCR => buf[0] = Some(s!().uart_reg[offset as usize]),
        _ => {}
    }
}

fn mdev_read_base(m: &mut MdevState) {
    let mut pos = 0x10usize;
    for index in 0..=VFIO_PCI_BAR5_REGION_INDEX as usize {
        if m.region_info[index].size == 0 {
            continue;
        }
        let bar = u32::from_le_bytes(m.vconfig[pos..pos + 4].try_into().unwrap());
        let start_lo = bar & !0x0fu32;
        let mem_type = bar & 0x06;
        let start_hi = match mem_type {
            0x04 => {
                let hi = u32::from_le_bytes(m.vconfig[pos + 4..pos + 8].try_into().unwrap());
                pos += 4;
                hi
            }
            _ => 0,
        };
        pos += 4;
        m.region_info[index].start = ((start_hi as u64) << 32) | start_lo as u64;
    }
}

/// `mdev_access`: `buf` is the C variable (`None`: uninitialised), `count` its size.
fn mdev_access(
    m: &mut MdevState,
    buf: &mut [Option<u8>; 4],
    count: usize,
    pos: u64,
    is_write: bool,
) -> isize {
    let index = (pos >> MTTY_VFIO_PCI_OFFSET_SHIFT) as u32;
    let offset = pos & MTTY_VFIO_PCI_OFFSET_MASK;
    match index {
        VFIO_PCI_CONFIG_REGION_INDEX => {
            if is_write {
                handle_pci_cfg_write(m, offset as u16, buf, count as u32);
            } else {
                for (i, b) in buf.iter_mut().enumerate().take(count) {
                    let at = offset as usize + i;
                    if at >= m.vconfig.len() {
                        m.ub.push("config read past the slab object");
                        *b = None;
                    } else {
                        *b = Some(m.vconfig[at]);
                    }
                }
            }
        }
        0..=VFIO_PCI_BAR5_REGION_INDEX => {
            if m.region_info[index as usize].start == 0 {
                mdev_read_base(m);
            }
            if is_write {
                handle_bar_write(index, m, offset as u16, buf);
            } else {
                handle_bar_read(index, m, offset as u16, buf);
            }
        }
        _ => return -1,
    }
    count as isize
}

/// `mtty_read` / `mtty_write` on a user buffer: `Err(())` is `-EFAULT`. Read bytes C takes
/// from uninitialised memory are `None`.
fn mtty_rw(
    m: &mut MdevState,
    user: &mut [Option<u8>],
    ppos: &mut u64,
    is_write: bool,
) -> Result<usize, ()> {
    let mut count = user.len();
    let mut done: u32 = 0;
    let mut at = 0usize;
    while count != 0 {
        #[allow(clippy::manual_is_multiple_of)] // as written in C
        let filled = if count >= 4 && *ppos % 4 == 0 {
            4
        } else if count >= 2 && *ppos % 2 == 0 {
            2
        } else {
            1
        };
        let mut val: [Option<u8>; 4] = [None; 4];
        if is_write {
            val[..filled].copy_from_slice(&user[at..at + filled]);
        }
        let ret = mdev_access(m, &mut val, filled, *ppos, is_write);
        if ret <= 0 {
            return Err(());
        }
        if !is_write {
            user[at..at + filled].copy_from_slice(&val[..filled]);
        }
        count -= filled;
        done += filled as u32;
        *ppos += filled as u64;
        at += filled;
    }
    Ok(done as usize)
}

fn mtty_ioctl_get_region_info(m: &mut MdevState, bar_index: u32) -> Result<(u64, u64, u32), i32> {
    if bar_index >= VFIO_PCI_NUM_REGIONS {
        return Err(-22);
    }
    let size: u32 = match bar_index {
        VFIO_PCI_CONFIG_REGION_INDEX => MTTY_CONFIG_SPACE_SIZE as u32,
        0 => MTTY_IO_BAR_SIZE as u32,
        1 => {
            if m.nr_ports == 2 {
                MTTY_IO_BAR_SIZE as u32
            } else {
                0
            }
        }
        _ => 0,
    };
    m.region_info[bar_index as usize].size = size;
    m.region_info[bar_index as usize].vfio_offset =
        (bar_index as u64) << MTTY_VFIO_PCI_OFFSET_SHIFT;
    Ok((
        size as u64,
        (bar_index as u64) << MTTY_VFIO_PCI_OFFSET_SHIFT,
        1 | 2,
    ))
}

/// `VFIO_DEVICE_GET_INFO` in `mtty_ioctl`.
fn get_device_info(m: &mut MdevState, argsz: u32) -> Result<(u32, u32, u32), i32> {
    if argsz < 16 {
        return Err(-22);
    }
    m.dev_info_num_irqs = VFIO_PCI_NUM_IRQS;
    Ok((1 << 1, VFIO_PCI_NUM_REGIONS, VFIO_PCI_NUM_IRQS))
}

/// `VFIO_DEVICE_GET_IRQ_INFO` in `mtty_ioctl`, then `mtty_get_irq_info`.
fn get_irq_info(m: &MdevState, argsz: u32, index: u32) -> Result<(u32, u32), i32> {
    if argsz < 16 || index >= m.dev_info_num_irqs {
        return Err(-22);
    }
    if index != 0 && index != 1 {
        return Err(-22);
    }
    let mut flags = 1;
    if index == 0 {
        flags |= 2 | 4;
    } else {
        flags |= 8;
    }
    Ok((flags, 1))
}

/// `struct mtty_migration_file` without its file; `pos` is `filp->f_pos`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MigrationFile {
    data: MttyData,
    filled_size: isize,
    disabled: bool,
    pos: i64,
}

fn mtty_data_size(m: &MdevState) -> usize {
    offset_of!(MttyData, ports) + m.nr_ports as usize * size_of::<CSerialPort>()
}

fn new_migf() -> MigrationFile {
    MigrationFile {
        data: MttyData::default(),
        filled_size: 0,
        disabled: false,
        pos: 0,
    }
}

fn mtty_disable_file(migf: &mut MigrationFile) {
    migf.disabled = true;
    migf.filled_size = 0;
    migf.pos = 0;
}

/// `mtty_save_device_data`'s new file, before `fill_data`.
fn new_saving(m: &MdevState) -> MigrationFile {
    let mut migf = new_migf();
    migf.data.magic = MTTY_MAGIC;
    migf.data.major_ver = MTTY_MAJOR_VER;
    migf.data.minor_ver = MTTY_MINOR_VER;
    migf.data.nr_ports = m.nr_ports as u32;
    migf.filled_size = offset_of!(MttyData, ports) as isize;
    migf
}

fn mtty_save_state(m: &MdevState, migf: &mut MigrationFile) {
    for i in 0..m.nr_ports as usize {
        migf.data.ports[i] = m.s[i];
        migf.filled_size += size_of::<CSerialPort>() as isize;
    }
}

fn mtty_load_state(m: &mut MdevState, migf: &MigrationFile) -> Result<(), i32> {
    if migf.filled_size < mtty_data_size(m) as isize {
        return Err(-22);
    }
    for i in 0..m.nr_ports as usize {
        m.s[i] = migf.data.ports[i];
    }
    Ok(())
}

/// `mtty_save_read`: the bytes copied out.
fn mtty_save_read(migf: &mut MigrationFile, len: usize) -> Result<Vec<u8>, i32> {
    if migf.disabled {
        return Err(-19);
    }
    if migf.pos > migf.filled_size as i64 {
        return Err(-22);
    }
    let len = ((migf.filled_size as i64 - migf.pos) as usize).min(len);
    let start = migf.pos as usize;
    let out = data_bytes(&migf.data)[start..start + len].to_vec();
    migf.pos += len as i64;
    Ok(out)
}

/// `mtty_precopy_ioctl` after the core's checks, with the device in `state`.
fn mtty_precopy_ioctl(migf: &MigrationFile, state: u32) -> Result<(u64, u64), i32> {
    if state != mig::PRE_COPY && state != mig::PRE_COPY_P2P {
        return Err(-22);
    }
    if migf.disabled {
        return Err(-19);
    }
    if migf.pos > migf.filled_size as i64 {
        return Err(-22);
    }
    Ok(((migf.filled_size as i64 - migf.pos) as u64, 0))
}

/// `mtty_resume_write`.
fn mtty_resume_write(m: &MdevState, migf: &mut MigrationFile, buf: &[u8]) -> Result<usize, i32> {
    let len = buf.len();
    let pos = migf.pos;
    let requested_length = match (len as i64).checked_add(pos) {
        Some(r) if pos >= 0 => r,
        _ => return Err(-22),
    };
    if requested_length as u64 > mtty_data_size(m) as u64 {
        return Err(-12);
    }
    if migf.disabled {
        return Err(-19);
    }
    data_bytes_mut(&mut migf.data)[pos as usize..pos as usize + len].copy_from_slice(buf);
    migf.pos += len as i64;
    let mut ret = Ok(len);
    let hdr = offset_of!(MttyData, ports) as isize;
    if migf.filled_size < hdr && migf.filled_size + len as isize >= hdr {
        let d = &migf.data;
        if d.magic != MTTY_MAGIC
            || d.flags != 0
            || d.major_ver != MTTY_MAJOR_VER
            || d.minor_ver != MTTY_MINOR_VER
            || d.nr_ports != m.nr_ports as u32
        {
            ret = Err(-14);
        }
    }
    migf.filled_size += len as isize;
    ret
}

/// What `mtty_step_state` does, as the model's own encoding of its `if` chain.
fn mtty_step_state(cur: u32, new: u32) -> Step {
    use mig::*;
    if (cur == RUNNING && new == RUNNING_P2P)
        || (cur == RUNNING_P2P && (new == RUNNING || new == STOP))
        || (cur == PRE_COPY && new == PRE_COPY_P2P)
        || (cur == PRE_COPY_P2P && new == PRE_COPY)
        || (cur == STOP && new == RUNNING_P2P)
    {
        return Step::Nothing;
    }
    if cur == RESUMING && new == STOP {
        return Step::LoadThenClose;
    }
    if (cur == PRE_COPY && new == RUNNING)
        || (cur == PRE_COPY_P2P && new == RUNNING_P2P)
        || (cur == STOP_COPY && new == STOP)
    {
        return Step::CloseFiles;
    }
    if (cur == RUNNING && new == PRE_COPY)
        || (cur == RUNNING_P2P && new == PRE_COPY_P2P)
        || (cur == STOP && new == STOP_COPY)
        || (cur == PRE_COPY_P2P && new == STOP_COPY)
    {
        return Step::Save;
    }
    if cur == STOP && new == RESUMING {
        return Step::Resume;
    }
    Step::Invalid
}

/// The interrupt part of `struct mdev_state`; eventfds are numbers, `signals` what
/// `eventfd_signal` got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct IrqModel {
    intx_evtfd: Option<i32>,
    msi_evtfd: Option<i32>,
    irq_index: i32,
    intx_mask: bool,
    signals: Vec<i32>,
}

const VFIO_PCI_INTX_IRQ_INDEX: i32 = 0;
const VFIO_PCI_MSI_IRQ_INDEX: i32 = 1;
const VFIO_IRQ_SET_DATA_NONE: u32 = 1 << 0;
const VFIO_IRQ_SET_DATA_BOOL: u32 = 1 << 1;
const VFIO_IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
const VFIO_IRQ_SET_ACTION_MASK: u32 = 1 << 3;
const VFIO_IRQ_SET_ACTION_UNMASK: u32 = 1 << 4;
const VFIO_IRQ_SET_ACTION_TRIGGER: u32 = 1 << 5;
const VFIO_IRQ_SET_ACTION_TYPE_MASK: u32 = 0x38;
const ENOTTY: i32 = -25;
const EBADF: i32 = -9;

/// `eventfd_ctx_fdget` in the model: fds from 100 up are not eventfds.
fn eventfd_ctx_fdget(fd: i32) -> Result<i32, i32> {
    if fd < 100 {
        Ok(fd)
    } else {
        Err(EBADF)
    }
}

fn is_intx(m: &IrqModel) -> bool {
    m.irq_index == VFIO_PCI_INTX_IRQ_INDEX
}

fn is_msi(m: &IrqModel) -> bool {
    m.irq_index == VFIO_PCI_MSI_IRQ_INDEX
}

fn is_noirq(m: &IrqModel) -> bool {
    !is_intx(m) && !is_msi(m)
}

fn irq_trigger(m: &mut IrqModel) {
    if is_msi(m) {
        if let Some(e) = m.msi_evtfd {
            m.signals.push(e);
        }
    } else if is_intx(m) {
        if let (Some(e), false) = (m.intx_evtfd, m.intx_mask) {
            m.signals.push(e);
            m.intx_mask = true;
        }
    }
}

fn mtty_disable_intx(m: &mut IrqModel) {
    if m.intx_evtfd.is_some() {
        m.intx_evtfd = None;
        m.intx_mask = false;
        m.irq_index = -1;
    }
}

fn mtty_disable_msi(m: &mut IrqModel) {
    if m.msi_evtfd.is_some() {
        m.msi_evtfd = None;
        m.irq_index = -1;
    }
}

/// `mtty_set_irqs`.
fn mtty_set_irqs(
    m: &mut IrqModel,
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
    data: &[u8],
) -> i32 {
    let mut ret = 0;
    let int_at = |d: &[u8]| i32::from_ne_bytes([d[0], d[1], d[2], d[3]]);
    match index {
        0 => match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
            VFIO_IRQ_SET_ACTION_MASK => {
                if !is_intx(m) || start != 0 || count != 1 {
                    return -22;
                }
                if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                    m.intx_mask = true;
                } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
                    if data[0] != 0 {
                        m.intx_mask = true;
                    }
                } else if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
                    ret = ENOTTY;
                }
            }
            VFIO_IRQ_SET_ACTION_UNMASK => {
                if !is_intx(m) || start != 0 || count != 1 {
                    return -22;
                }
                if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                    m.intx_mask = false;
                } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 {
                    if data[0] != 0 {
                        m.intx_mask = false;
                    }
                } else if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
                    ret = ENOTTY;
                }
            }
            VFIO_IRQ_SET_ACTION_TRIGGER => {
                if is_intx(m) && count == 0 && flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                    mtty_disable_intx(m);
                    return 0;
                }
                if !(is_intx(m) || is_noirq(m)) || start != 0 || count != 1 {
                    return -22;
                }
                if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
                    let fd = int_at(data);
                    mtty_disable_intx(m);
                    if fd < 0 {
                        return 0;
                    }
                    match eventfd_ctx_fdget(fd) {
                        Err(e) => return e,
                        Ok(evt) => {
                            m.intx_evtfd = Some(evt);
                            m.irq_index = index as i32;
                        }
                    }
                    return 0;
                }
                if !is_intx(m) {
                    return -22;
                }
                if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                    irq_trigger(m);
                } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 && data[0] != 0 {
                    irq_trigger(m);
                }
            }
            _ => {}
        },
        1 => match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
            VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK => ret = ENOTTY,
            VFIO_IRQ_SET_ACTION_TRIGGER => {
                if is_msi(m) && count == 0 && flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                    mtty_disable_msi(m);
                    return 0;
                }
                if !(is_msi(m) || is_noirq(m)) || start != 0 || count != 1 {
                    return -22;
                }
                if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
                    let fd = int_at(data);
                    mtty_disable_msi(m);
                    if fd < 0 {
                        return 0;
                    }
                    match eventfd_ctx_fdget(fd) {
                        Err(e) => return e,
                        Ok(evt) => {
                            m.msi_evtfd = Some(evt);
                            m.irq_index = index as i32;
                        }
                    }
                    return 0;
                }
                if !is_msi(m) {
                    return -22;
                }
                if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                    irq_trigger(m);
                } else if flags & VFIO_IRQ_SET_DATA_BOOL != 0 && data[0] != 0 {
                    irq_trigger(m);
                }
            }
            _ => {}
        },
        2..=4 => ret = ENOTTY,
        _ => {}
    }
    ret
}

// ---------------------------------------------------------------------------------------
// Comparing the implementation with the model.
// ---------------------------------------------------------------------------------------

fn to_c(p: &SerialPort) -> CSerialPort {
    let mut c = CSerialPort::default();
    let b = p.to_bytes();
    // SAFETY: plain integers, no padding, sizes equal (`model_structs_have_no_padding`).
    unsafe {
        core::ptr::copy_nonoverlapping(b.as_ptr(), &mut c as *mut CSerialPort as *mut u8, b.len())
    };
    c
}

fn from_c(c: &CSerialPort) -> SerialPort {
    SerialPort::from_bytes(port_bytes(c).try_into().unwrap())
}

/// Rust device and model agree on all state.
fn same_state(d: &MttyDevice, m: &MdevState) -> Result<(), TestCaseError> {
    prop_assert_eq!(&d.config.bytes()[..], &m.vconfig[..]);
    prop_assert_eq!(d.config.bar_mask(), [m.bar_mask[0], m.bar_mask[1]]);
    for i in 0..2 {
        prop_assert_eq!(to_c(&d.ports[i]), m.s[i], "port {}", i);
        prop_assert_eq!(d.ports[i], from_c(&m.s[i]));
    }
    for i in 0..9 {
        let (r, c) = (d.region_info[i], m.region_info[i]);
        prop_assert_eq!(
            (r.start, r.size, r.vfio_offset),
            (c.start, c.size, c.vfio_offset),
            "region {}",
            i
        );
    }
    prop_assert_eq!(d.num_irqs(), m.dev_info_num_irqs);
    Ok(())
}

/// The kernel side's `read`/`write`: chunks as upstream, one [`MttyDevice::access`] each.
fn rust_rw(
    d: &mut MttyDevice,
    user: &mut [u8],
    pos: u64,
    is_write: bool,
) -> (Result<usize, Errno>, u32) {
    let mut done = 0;
    let mut triggers = 0u32;
    while done < user.len() {
        let at = pos + done as u64;
        let n = chunk_len(at, user.len() - done);
        match d.access(at, &mut user[done..done + n], is_write) {
            Ok(t) => triggers += u32::from(t.count()),
            Err(e) => return (Err(e), triggers),
        }
        done += n;
    }
    (Ok(done), triggers)
}

/// One register access on a port.
#[derive(Clone, Debug)]
enum PortOp {
    Write(u16, u8),
    Read(u16),
}

fn port_op() -> impl Strategy<Value = PortOp> {
    // Mostly TX/RX and the FIFO's neighbours, bytes biased to the bits that matter.
    let off = prop_oneof![
        6 => Just(0u16), 2 => 1u16..8, 1 => 8u16..10, 1 => Just(0xffffu16)
    ];
    let data = prop_oneof![
        3 => any::<u8>(),
        1 => prop::sample::select(vec![0u8, 1, 2, 3, 4, 6, 7, 8, 0x0b, 0x0f, 0x20, 0x2b, 0x80, 0xc1]),
    ];
    prop_oneof![
        4 => (off.clone(), data).prop_map(|(o, d)| PortOp::Write(o, d)),
        3 => off.prop_map(PortOp::Read),
    ]
}

/// A port state C can reach or a stream can carry with in-bounds indices.
fn c_port() -> impl Strategy<Value = CSerialPort> {
    (
        any::<[u8; 8]>(),
        any::<[u8; 16]>(),
        (0u8..16, 0u8..16, prop_oneof![0u8..=17, any::<u8>()]),
        (
            prop_oneof![3 => 0u8..2, 1 => any::<u8>()],
            prop_oneof![3 => 0u8..2, 1 => any::<u8>()],
        ),
        any::<u16>(),
        any::<u8>(),
        prop_oneof![Just(1u8), Just(16u8), any::<u8>()],
        prop_oneof![0u8..2, any::<u8>()],
        prop_oneof![3 => Just([0u8; 2]), 1 => any::<[u8; 2]>()],
    )
        .prop_map(
            |(
                uart_reg,
                fifo,
                (head, tail, count),
                (dlab, overrun),
                divisor,
                fcr,
                max,
                level,
                pad,
            )| {
                CSerialPort {
                    uart_reg,
                    rxtx: Rxtx {
                        fifo,
                        head,
                        tail,
                        count,
                    },
                    dlab,
                    overrun,
                    _pad0: pad[0],
                    divisor,
                    fcr,
                    max_fifo_size: max,
                    intr_trigger_level: level,
                    _pad1: pad[1],
                }
            },
        )
}

/// One device-level operation.
#[derive(Clone, Debug)]
enum DevOp {
    Rw {
        index: u32,
        offset: u64,
        data: Vec<u8>,
        is_write: bool,
    },
    RegionInfo(u32),
    DeviceInfo(u32),
    IrqInfo(u32, u32),
}

fn dev_op() -> impl Strategy<Value = DevOp> {
    let index = prop_oneof![
        4 => 0u32..2, 3 => Just(7u32), 1 => 2u32..7, 1 => 8u32..12, 1 => Just(1u32 << 20)
    ];
    let offset = prop_oneof![
        6 => 0u64..8,
        4 => prop::sample::select(vec![0x3cu64, 0x3d, 0x3e, 0x10, 0x11, 0x12, 0x14, 0x16, 0x18, 0x1c, 0x20, 0x24, 0x04, 0x06]),
        2 => 0u64..0x110,
        1 => Just(0x1_0010u64),
        1 => Just((1u64 << 40) - 2),
    ];
    let data = prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..10),
        1 => prop::collection::vec(prop::sample::select(vec![0u8, 0xff, 1, 2, 0x0b, 0x80]), 1..6),
        1 => Just(vec![0xffu8; 4]),
    ];
    prop_oneof![
        12 => (index, offset, data, any::<bool>()).prop_map(|(index, offset, data, is_write)| DevOp::Rw {
            index,
            offset,
            data,
            is_write
        }),
        1 => prop_oneof![0u32..10, Just(u32::MAX)].prop_map(DevOp::RegionInfo),
        1 => prop_oneof![Just(16u32), 0u32..20].prop_map(DevOp::DeviceInfo),
        1 => (prop_oneof![Just(16u32), 0u32..20], 0u32..7).prop_map(|(a, i)| DevOp::IrqInfo(a, i)),
    ]
}

/// Runs `ops` on both, comparing every result and the state after each.
fn run_dev_ops(d: &mut MttyDevice, m: &mut MdevState, ops: &[DevOp]) -> Result<(), TestCaseError> {
    for op in ops {
        match op {
            DevOp::Rw {
                index,
                offset,
                data,
                is_write,
            } => {
                let pos = index_to_offset(*index) + offset;
                let ub_before = m.ub.len();
                let mut user: Vec<Option<u8>> = data.iter().map(|&b| Some(b)).collect();
                let mut ppos = pos;
                let t0 = m.triggers;
                let c = mtty_rw(m, &mut user, &mut ppos, *is_write);
                let mut buf = data.clone();
                let (r, t) = rust_rw(d, &mut buf, pos, *is_write);
                prop_assert_eq!(t, m.triggers - t0, "triggers of {:?}", op);
                match c {
                    Ok(n) => prop_assert_eq!(r, Ok(n)),
                    Err(()) => prop_assert_eq!(r, Err(Errno::EFAULT)),
                }
                if !*is_write {
                    // Bytes C leaves undefined read 0; the others are C's. (On EFAULT C
                    // returns nothing: compare anyway, what was read before is the same.)
                    let want: Vec<u8> = user.iter().map(|b| b.unwrap_or(0)).collect();
                    prop_assert_eq!(&buf, &want, "{:?}", op);
                }
                for ub in &m.ub[ub_before..] {
                    // The only undefined behaviour generated operations reach.
                    prop_assert!(
                        [
                            "s[index] past the array",
                            "config read past the slab object",
                            "cfg BAR write reads stack bytes past the variable"
                        ]
                        .contains(ub),
                        "{}",
                        ub
                    );
                }
            }
            DevOp::RegionInfo(i) => {
                let c = mtty_ioctl_get_region_info(m, *i);
                let r = d
                    .region_info(*i)
                    .map(|r| (r.size, r.offset, r.flags))
                    .map_err(|e| e.to_errno());
                prop_assert_eq!(r, c);
            }
            DevOp::DeviceInfo(argsz) => {
                let c = get_device_info(m, *argsz);
                let r = d
                    .device_info(*argsz)
                    .map(|i| (i.flags, i.num_regions, i.num_irqs))
                    .map_err(|e| e.to_errno());
                prop_assert_eq!(r, c);
            }
            DevOp::IrqInfo(argsz, i) => {
                let c = get_irq_info(m, *argsz, *i);
                let r = d
                    .irq_info(*argsz, *i)
                    .map(|i| (i.flags, i.count))
                    .map_err(|e| e.to_errno());
                prop_assert_eq!(r, c);
            }
        }
        same_state(d, m)?;
    }
    Ok(())
}

#[test]
fn model_structs_have_no_padding() {
    // Explicit padding fields must not move anything: these are gcc's x86_64 offsets.
    assert_eq!(offset_of!(CSerialPort, divisor), 30);
    assert_eq!(offset_of!(CSerialPort, intr_trigger_level), 34);
    assert_eq!(size_of::<CSerialPort>(), 36);
    assert_eq!(offset_of!(MttyData, ports), 24);
    assert_eq!(size_of::<MttyData>(), 96);
    assert_eq!(size_of::<Rxtx>(), 19);
}

#[test]
fn fresh_devices_agree() {
    for nr in [1, 2] {
        let d = MttyDevice::new(nr as u32);
        let m = mtty_init_dev(nr);
        same_state(&d, &m).unwrap();
        assert_eq!(create_config_space(nr as u32), d.config);
    }
}

#[test]
fn steps_match_model() {
    for cur in 0..9 {
        for new in 0..9 {
            assert_eq!(
                mig::step(cur, new),
                mtty_step_state(cur, new),
                "{cur} -> {new}"
            );
        }
    }
}

#[test]
fn steps_cover_next_state() {
    // Every arc the core's state machine asks of a driver with mtty's flags is implemented.
    use crate::mig_state::next_state;
    let states = [
        mig::STOP,
        mig::RUNNING,
        mig::STOP_COPY,
        mig::RESUMING,
        mig::RUNNING_P2P,
        mig::PRE_COPY,
        mig::PRE_COPY_P2P,
    ];
    let mut arcs = 0;
    for &from in &states {
        for &to in &states {
            let mut cur = from;
            while cur != to {
                let Ok(next) = next_state(mig::MIGRATION_FLAGS, cur, to) else {
                    // Only STOP_COPY to a pre-copy state is blocked.
                    assert!(
                        from == mig::STOP_COPY || cur == mig::STOP_COPY,
                        "{from} -> {to}"
                    );
                    break;
                };
                assert_ne!(
                    mig::step(cur, next),
                    Step::Invalid,
                    "{cur} -> {next} on the way {from} -> {to}"
                );
                arcs += 1;
                cur = next;
            }
        }
    }
    assert!(arcs > 40);
}

proptest! {
    #![proptest_config(config(600))]

    #[test]
    fn uart_matches_model(
        start in prop_oneof![1 => Just(None), 2 => c_port().prop_map(Some)],
        ops in prop::collection::vec(port_op(), 1..80),
    ) {
        let mut m = mtty_init_dev(2);
        if let Some(c) = start {
            m.s[0] = c;
        }
        let mut p = from_c(&m.s[0]);
        for op in &ops {
            let t0 = m.triggers;
            match *op {
                PortOp::Write(off, data) => {
                    let t = p.write(off, data);
                    handle_bar_write(0, &mut m, off, &[Some(data), None, None, None]);
                    prop_assert_eq!(u32::from(t.count()), m.triggers - t0, "{:?}", op);
                }
                PortOp::Read(off) => {
                    let (v, t) = p.read(off);
                    let mut buf = [None; 4];
                    handle_bar_read(0, &mut m, off, &mut buf);
                    prop_assert_eq!(v, buf[0], "{:?}", op);
                    prop_assert_eq!(u32::from(t.count()), m.triggers - t0, "{:?}", op);
                }
            }
            prop_assert_eq!(to_c(&p), m.s[0], "after {:?}", op);
            prop_assert!(m.ub.is_empty());
        }
    }

    #[test]
    fn uart_fifo_invariants(ops in prop::collection::vec(port_op(), 1..200)) {
        // From a fresh port, whatever the guest does: indices stay in the FIFO, count never
        // exceeds it, and count is head - tail modulo 16 (16 with head == tail: "full").
        let mut p = SerialPort::new();
        for op in &ops {
            match *op {
                PortOp::Write(off, data) => { let _ = p.write(off, data); }
                PortOp::Read(off) => { let _ = p.read(off); }
            }
            let r = p.rxtx;
            prop_assert!(r.head < 16 && r.tail < 16);
            prop_assert!(r.count <= 16);
            prop_assert_eq!(r.count % 16, r.head.wrapping_sub(r.tail) % 16);
            prop_assert!(p.max_fifo_size == 16 || p.max_fifo_size == 1);
            prop_assert!(p.intr_trigger_level <= 1);
        }
    }

    #[test]
    fn uart_crafted_never_panic(
        image in any::<[u8; 36]>(),
        ops in prop::collection::vec(port_op(), 1..60),
    ) {
        // Any stream image, including out-of-range indices C would corrupt memory with.
        let mut p = SerialPort::from_bytes(&image);
        for op in &ops {
            match *op {
                PortOp::Write(off, data) => { let _ = p.write(off, data); }
                PortOp::Read(off) => { let _ = p.read(off); }
            }
        }
        let q = SerialPort::from_bytes(&p.to_bytes());
        prop_assert_eq!(p, q);
    }

    #[test]
    fn access_matches_model(
        nr in 1i32..=2,
        ops in prop::collection::vec(dev_op(), 1..40),
    ) {
        let mut d = MttyDevice::new(nr as u32);
        let mut m = mtty_init_dev(nr);
        run_dev_ops(&mut d, &mut m, &ops)?;
    }

    #[test]
    fn config_matches_model(
        nr in 1i32..=2,
        writes in prop::collection::vec(
            (
                prop_oneof![
                    3 => prop::sample::select(vec![0x10u16, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x3c, 0x3d, 0x04, 0x06]),
                    1 => any::<u16>()
                ],
                prop_oneof![Just(1usize), Just(2usize), Just(4usize)],
                prop_oneof![2 => Just(0xffff_ffffu32), 3 => any::<u32>()],
            ),
            1..30,
        ),
    ) {
        let mut c = create_config_space(nr as u32);
        let mut m = mtty_init_dev(nr);
        for &(off, size, val) in &writes {
            let bytes = val.to_le_bytes();
            c.write(off, &bytes[..size]);
            let mut buf = [None; 4];
            for (b, v) in buf.iter_mut().zip(&bytes[..size]) {
                *b = Some(*v);
            }
            handle_pci_cfg_write(&mut m, off, &buf, size as u32);
            prop_assert_eq!(&c.bytes()[..], &m.vconfig[..], "after {:#x}/{} = {:#x}", off, size, val);
        }
    }

    #[test]
    fn stream_roundtrip(nr in 1i32..=2, p0 in c_port(), p1 in c_port(), reads in prop::collection::vec(1usize..40, 1..10)) {
        // Saving: the Rust file's bytes are the C struct's, read in any chunks.
        let mut m = mtty_init_dev(nr);
        m.s = [p0, p1];
        let mut d = MttyDevice::new(nr as u32);
        d.ports = [from_c(&p0), from_c(&p1)];
        let mut cf = new_saving(&m);
        mtty_save_state(&m, &mut cf);
        let mut rf = MigFile::new_saving(nr as u32);
        rf.save_state(&d.ports, nr as u32);
        prop_assert_eq!(rf.filled_size() as isize, cf.filled_size);
        prop_assert_eq!(rf.filled_size(), data_size(nr as u32));
        let mut c_stream = Vec::new();
        let mut r_stream = Vec::new();
        let mut pos = 0i64;
        for &len in reads.iter().cycle().take(20) {
            let c = mtty_save_read(&mut cf, len).unwrap();
            let r = rf.save_read(pos, len).unwrap();
            prop_assert_eq!(r, &c[..]);
            pos += r.len() as i64;
            c_stream.extend_from_slice(&c);
            r_stream.extend_from_slice(r);
        }
        prop_assert_eq!(pos, cf.pos);
        prop_assert_eq!(&r_stream, &c_stream);
        // Resuming the C stream in Rust gives the ports back.
        if c_stream.len() == data_size(nr as u32) {
            let mut r = MigFile::new_resuming();
            let w = r.resume_write(0, &c_stream, nr as u32).unwrap();
            prop_assert_eq!(w.ret, Ok(c_stream.len()));
            let mut ports = [SerialPort::new(); 2];
            r.load_state(&mut ports, nr as u32).unwrap();
            for i in 0..nr as usize {
                prop_assert_eq!(ports[i], d.ports[i]);
            }
        }
    }

    #[test]
    fn resume_matches_model(
        nr in 1i32..=2,
        stream_nr in prop_oneof![4 => Just(None), 1 => (0u32..4).prop_map(Some)],
        corrupt in prop_oneof![4 => Just(None), 1 => (0usize..24, any::<u8>()).prop_map(Some)],
        p0 in c_port(),
        p1 in c_port(),
        writes in prop::collection::vec(
            (prop_oneof![6 => 0usize..30, 1 => 30usize..100], prop_oneof![8 => Just(None), 1 => (-3i64..3).prop_map(Some)]),
            1..12,
        ),
        disable_at in prop_oneof![4 => Just(usize::MAX), 1 => 0usize..12],
    ) {
        let m0 = mtty_init_dev(nr);
        let mut stream = [0u8; 100];
        let mut src = MttyData {
            magic: MTTY_MAGIC,
            major_ver: 1,
            minor_ver: 0,
            nr_ports: stream_nr.unwrap_or(nr as u32),
            flags: 0,
            ports: [p0, p1],
        };
        if let Some((at, v)) = corrupt {
            data_bytes_mut(&mut src)[at] ^= v;
        }
        stream[..96].copy_from_slice(data_bytes(&src));
        let mut cf = new_migf();
        let mut rf = MigFile::new_resuming();
        let mut rpos = 0i64;
        let mut sent = 0usize;
        for (k, &(len, seek)) in writes.iter().enumerate() {
            if k == disable_at {
                mtty_disable_file(&mut cf);
                rf.disable();
                rpos = 0;
            }
            // Mostly sequential; sometimes a position nudged off (pwrite-like misuse).
            if let Some(delta) = seek {
                cf.pos += delta;
                rpos += delta;
            }
            let from = sent.min(100);
            let chunk = &stream[from..(from + len).min(100)];
            let c = mtty_resume_write(&m0, &mut cf, chunk);
            let r = rf.resume_write(rpos, chunk, nr as u32);
            match r {
                Ok(w) => {
                    prop_assert_eq!(w.ret.map_err(|e| e.to_errno()), c);
                    rpos = w.new_pos;
                    sent += chunk.len();
                }
                Err(e) => prop_assert_eq!(Err(e.to_errno()), c),
            }
            prop_assert_eq!(rpos, cf.pos);
            prop_assert_eq!(rf.filled_size() as isize, cf.filled_size);
            prop_assert_eq!(rf.is_disabled(), cf.disabled);
            prop_assert_eq!(&rf.data()[..], data_bytes(&cf.data));
        }
        // Then RESUMING -> STOP.
        let mut m = m0.clone();
        let mut ports = [SerialPort::new(); 2];
        let c = mtty_load_state(&mut m, &cf);
        let r = rf.load_state(&mut ports, nr as u32);
        prop_assert_eq!(r.map_err(|e| e.to_errno()), c);
        for i in 0..2 {
            prop_assert_eq!(to_c(&ports[i]), m.s[i]);
        }
    }

    #[test]
    fn save_matches_model(
        nr in 1i32..=2,
        p0 in c_port(),
        p1 in c_port(),
        ops in prop::collection::vec((0u8..5, 0usize..50, -2i64..3), 1..20),
    ) {
        // Pre-copy reads and info, STOP_COPY fill, seeks, disable: as the C file.
        let mut m = mtty_init_dev(nr);
        m.s = [p0, p1];
        let ports = [from_c(&p0), from_c(&p1)];
        let mut cf = new_saving(&m);
        let mut rf = MigFile::new_saving(nr as u32);
        let mut rpos = 0i64;
        let mut state = mig::PRE_COPY;
        for &(what, len, delta) in &ops {
            match what {
                0 | 1 => {
                    let c = mtty_save_read(&mut cf, len);
                    match rf.save_read(rpos, len) {
                        Ok(b) => {
                            prop_assert_eq!(Ok(b.to_vec()), c);
                            rpos += b.len() as i64;
                        }
                        Err(e) => prop_assert_eq!(Err(e.to_errno()), c),
                    }
                }
                2 => {
                    let s = if len % 3 == 0 { mig::STOP_COPY } else if len % 3 == 1 { mig::PRE_COPY_P2P } else { state };
                    let c = mtty_precopy_ioctl(&cf, s);
                    let r = rf.precopy_info(s, rpos).map(|i| (i.initial_bytes, i.dirty_bytes));
                    prop_assert_eq!(r.map_err(|e| e.to_errno()), c);
                }
                3 => {
                    if state != mig::STOP_COPY {
                        state = mig::STOP_COPY;
                        mtty_save_state(&m, &mut cf);
                        rf.save_state(&ports, nr as u32);
                    } else if delta == 0 {
                        mtty_disable_file(&mut cf);
                        rf.disable();
                        rpos = 0;
                    }
                }
                _ => {
                    if cf.pos + delta >= 0 {
                        cf.pos += delta;
                        rpos += delta;
                    }
                }
            }
            prop_assert_eq!(rpos, cf.pos);
            prop_assert_eq!(rf.filled_size() as isize, cf.filled_size);
        }
    }

    #[test]
    fn migration_end_to_end(
        nr in 1u32..=2,
        before in prop::collection::vec(dev_op(), 0..30),
        after in prop::collection::vec(dev_op(), 0..30),
        chunks in prop::collection::vec(1usize..50, 1..8),
        precopy in any::<bool>(),
    ) {
        // Source: guest activity, then RUNNING -> (PRE_COPY ->) STOP_COPY -> STOP through
        // the core's next_state, reading the stream as it is offered.
        let mut src = MttyDevice::new(nr);
        let mut model = mtty_init_dev(nr as i32);
        run_dev_ops(&mut src, &mut model, &before)?;
        let flags = mig::MIGRATION_FLAGS;
        let mut state = mig::RUNNING;
        let mut saving: Option<MigFile> = None;
        let mut stream = Vec::new();
        let mut rpos = 0i64;
        let targets: &[u32] = if precopy { &[mig::PRE_COPY, mig::STOP_COPY, mig::STOP] } else { &[mig::STOP_COPY, mig::STOP] };
        let mut chunk = chunks.iter().cycle();
        for &target in targets {
            while state != target {
                let next = crate::mig_state::next_state(flags, state, target).unwrap();
                match mig::step(state, next) {
                    Step::Nothing => {}
                    Step::Save => {
                        let f = saving.get_or_insert_with(|| MigFile::new_saving(nr));
                        if next == mig::STOP_COPY {
                            f.save_state(&src.ports, nr);
                        }
                    }
                    Step::CloseFiles => {
                        // Read what is left before the fd goes away.
                        let f = saving.as_mut().unwrap();
                        loop {
                            let b = f.save_read(rpos, *chunk.next().unwrap()).unwrap();
                            if b.is_empty() { break; }
                            rpos += b.len() as i64;
                            stream.extend_from_slice(b);
                        }
                        f.disable();
                        saving = None;
                    }
                    s => prop_assert!(false, "unexpected step {:?}", s),
                }
                state = next;
                if state == mig::PRE_COPY {
                    let f = saving.as_ref().unwrap();
                    let info = f.precopy_info(state, rpos).unwrap();
                    prop_assert_eq!(info, mig::PrecopyInfo { initial_bytes: 24, dirty_bytes: 0 });
                    let b = f.save_read(rpos, *chunk.next().unwrap()).unwrap();
                    rpos += b.len() as i64;
                    stream.extend_from_slice(b);
                }
            }
        }
        prop_assert_eq!(stream.len(), data_size(nr));
        prop_assert_eq!(Header::from_bytes(stream[..24].try_into().unwrap()), Header::new(nr));
        // Destination: RUNNING -> STOP -> RESUMING, write, RESUMING -> STOP -> RUNNING.
        let mut dst = MttyDevice::new(nr);
        let mut dmodel = mtty_init_dev(nr as i32);
        let mut state = mig::RUNNING;
        let mut resuming: Option<MigFile> = None;
        for &target in &[mig::RESUMING, mig::RUNNING] {
            while state != target {
                let next = crate::mig_state::next_state(flags, state, target).unwrap();
                match mig::step(state, next) {
                    Step::Nothing => {}
                    Step::Resume => {
                        let mut f = MigFile::new_resuming();
                        let mut pos = 0i64;
                        for part in stream.chunks(*chunk.next().unwrap()) {
                            let w = f.resume_write(pos, part, nr).unwrap();
                            prop_assert_eq!(w.ret, Ok(part.len()));
                            pos = w.new_pos;
                        }
                        resuming = Some(f);
                    }
                    Step::LoadThenClose => {
                        resuming.take().unwrap().load_state(&mut dst.ports, nr).unwrap();
                    }
                    s => prop_assert!(false, "unexpected step {:?}", s),
                }
                state = next;
            }
        }
        // The migrated ports behave as the source's would (the model continues the source;
        // config space is not migrated, so only BAR accesses count).
        for i in 0..nr as usize {
            prop_assert_eq!(dst.ports[i], src.ports[i]);
        }
        dmodel.s = model.s;
        for op in &after {
            if let DevOp::Rw { index, offset, data, is_write } = op {
                // Port `index` only (an access running past the region's end reaches the next
                // port, which a one-port device does not migrate).
                if *index < nr && offset + data.len() as u64 <= 1 << 40 {
                    let pos = index_to_offset(*index) + offset;
                    let mut a = data.clone();
                    let mut b = data.clone();
                    let ra = rust_rw(&mut src, &mut a, pos, *is_write);
                    let rb = rust_rw(&mut dst, &mut b, pos, *is_write);
                    prop_assert_eq!(ra, rb);
                    prop_assert_eq!(a, b);
                    let mut user: Vec<Option<u8>> = data.iter().map(|&x| Some(x)).collect();
                    let mut ppos = pos;
                    let _ = mtty_rw(&mut dmodel, &mut user, &mut ppos, *is_write);
                    prop_assert_eq!(to_c(&dst.ports[*index as usize]), dmodel.s[*index as usize]);
                }
            }
        }
    }
    #[test]
    fn irqs_match_model(
        ops in prop::collection::vec(
            prop_oneof![
                1 => Just(None),
                6 => (
                    prop_oneof![Just(1u32), Just(2), Just(4), 0u32..8],
                    prop_oneof![Just(1u32 << 5), Just(1 << 3), Just(1 << 4), Just(0), Just(3 << 3)],
                    prop_oneof![4 => 0u32..2, 1 => 0u32..7],
                    prop_oneof![4 => Just(0u32), 1 => 0u32..3],
                    prop_oneof![4 => Just(1u32), 1 => 0u32..3],
                    prop_oneof![Just(-1i32), 0i32..4, Just(100i32)],
                    any::<bool>(),
                    0u32..16,
                ).prop_map(Some),
            ],
            1..40,
        ),
    ) {
        // Random SET_IRQS requests the core's validation lets through (num_irqs 5, as after
        // GET_INFO), and device interrupts in between (`None`).
        use super::mtty_irq::{IrqState, SetIrqsError};
        use crate::irq_set::{check_header, data_size, IrqSetHeader, MINSZ};
        let mut rs: IrqState<i32> = IrqState::new();
        let mut rlog: Vec<i32> = Vec::new();
        let mut m = IrqModel { irq_index: -1, ..Default::default() };
        for op in &ops {
            let Some((data_type, action, index, start, count, fd, flag, extra)) = *op else {
                rs.trigger(|_, e| rlog.push(*e));
                irq_trigger(&mut m);
                prop_assert_eq!(&rlog, &m.signals);
                continue;
            };
            let flags = data_type | action;
            let mut data = Vec::new();
            for _ in 0..count {
                match data_type {
                    4 => data.extend_from_slice(&fd.to_ne_bytes()),
                    2 => data.push(u8::from(flag)),
                    _ => {}
                }
            }
            let hdr = IrqSetHeader { argsz: MINSZ + data.len() as u32 + extra % 2, flags, index, start, count };
            if check_header(&hdr, 5).is_err() || data_size(&hdr, 5, true).is_err() {
                continue;
            }
            let c = mtty_set_irqs(&mut m, flags, index, start, count, &data);
            let r = rs.set_irqs(flags, index, start, count, &data, eventfd_ctx_fdget, |_, e| rlog.push(*e));
            let r = match r {
                Ok(()) => 0,
                Err(SetIrqsError::Errno(e)) => e.to_errno(),
                Err(SetIrqsError::NotTty) => ENOTTY,
                Err(SetIrqsError::Fd(e)) => e,
            };
            prop_assert_eq!(r, c, "flags {:#x} index {} start {} count {}", flags, index, start, count);
            prop_assert_eq!(&rlog, &m.signals);
            prop_assert_eq!(rs.irq_index(), m.irq_index);
            prop_assert_eq!(rs.intx_masked(), m.intx_mask);
            prop_assert_eq!(rs.eventfds(), (m.intx_evtfd.as_ref(), m.msi_evtfd.as_ref()));
        }
    }
    #[test]
    fn any_input_never_panics(
        nr in 1u32..=2,
        accesses in prop::collection::vec((any::<u64>(), prop::collection::vec(any::<u8>(), 0..9), any::<bool>()), 1..20),
        image in any::<[u8; 96]>(),
        mig_ops in prop::collection::vec((any::<i64>(), 0usize..200, any::<u8>()), 1..20),
        irq_ops in prop::collection::vec((any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>(), prop::collection::vec(any::<u8>(), 0..6)), 1..10),
    ) {
        // Arbitrary values through every entry point the kernel side calls (the kernel builds
        // with overflow checks, so an overflow would be a panic there too).
        let mut d = MttyDevice::new(nr);
        for (pos, data, is_write) in &accesses {
            let pos = pos & (i64::MAX as u64);
            let mut buf = data.clone();
            let _ = rust_rw(&mut d, &mut buf, pos.min(i64::MAX as u64 - 16), *is_write);
            let _ = d.region_info(pos as u32);
            let _ = d.device_info(pos as u32);
            let _ = d.irq_info((pos >> 32) as u32, pos as u32);
        }
        let mut r = MigFile::new_resuming();
        let mut s = MigFile::new_saving(nr);
        s.save_state(&d.ports, nr);
        for &(pos, len, what) in &mig_ops {
            let src = &image[..len.min(96)];
            match what % 6 {
                0 => { let _ = r.resume_write(pos, src, nr); }
                1 => { let _ = r.resume_commit(pos, src, nr); }
                2 => { let _ = s.save_read(pos, len); }
                3 => { let _ = s.precopy_info(u32::from(what), pos); }
                4 => { let _ = r.load_state(&mut d.ports, nr); }
                _ => { let _ = r.resume_check(pos, len.wrapping_mul(pos as usize), nr); }
            }
        }
        let mut irq: super::mtty_irq::IrqState<i32> = super::mtty_irq::IrqState::new();
        for (flags, index, start, count, data) in &irq_ops {
            let _ = irq.set_irqs(*flags, *index, *start, *count, data, Ok::<i32, ()>, |_, _| {});
            irq.trigger(|_, _| {});
        }
        let _ = mig::step(image[0] as u32, image[1] as u32);
    }
}
