// SPDX-License-Identifier: GPL-2.0

//! Live migration of upstream's `samples/vfio-mdev/mtty.c`, as pure logic: the stream format
//! (`struct mtty_data`, byte for byte as the C struct lies in memory on x86_64, so streams
//! move between the C and the Rust driver both ways), the save/resume file rules, and the
//! state machine arcs mtty implements.
//!
//! # The stream
//!
//! The stream is the first `mtty_data_size()` bytes of `struct mtty_data`: a 24-byte header,
//! then one 36-byte `struct serial_port` per port (60 bytes for one port, 96 for two). All
//! integers little-endian. Offsets (checked against `#[repr(C)]` mirrors and gcc):
//!
//! ```text
//! struct mtty_data (96, align 8)      struct serial_port (36, align 2)
//!   0 u64 magic                          0 u8   uart_reg[8]
//!   8 u32 major_ver  (1)                 8 u8   rxtx.fifo[16]
//!  12 u32 minor_ver  (0)                24 u8   rxtx.head
//!  16 u32 nr_ports                      25 u8   rxtx.tail
//!  20 u32 flags      (0)                26 u8   rxtx.count
//!  24 serial_port ports[0]              27 bool dlab
//!  60 serial_port ports[1]              28 bool overrun
//!                                       29      padding
//!                                       30 u16  divisor
//!                                       32 u8   fcr
//!                                       33 u8   max_fifo_size
//!                                       34 u8   intr_trigger_level
//!                                       35      padding
//! ```
//!
//! Upstream `memcpy`s the ports both ways, so padding and `bool` bytes travel as they are:
//! 0 and 0/1 from a device that was never loaded (its state is zero-allocated), whatever a
//! loaded stream had otherwise. [`SerialPort`] keeps both (`padding`, [`CBool`]), so a
//! stream loaded and saved again comes out as from C. A `bool` byte other than 0 or 1 is
//! undefined behaviour in C; we read it as true.
//!
//! # Files
//!
//! [`MigFile`] is `struct mtty_migration_file` without its `struct file` and lock: the
//! kernel side wraps it in both (and keeps `f_pos` itself, passing it in). Saving fills the
//! header when the file is created (`RUNNING -> PRE_COPY`, `RUNNING_P2P -> PRE_COPY_P2P` or
//! `STOP -> STOP_COPY`) and appends the ports on reaching `STOP_COPY`; pre-copy therefore
//! offers the 24 header bytes only, and `dirty_bytes` is always 0.
//!
//! Kernel-independent: the host build runs the tests.

use super::mtty_uart::{CBool, Rxtx, SerialPort, MAX_FIFO_SIZE};
use crate::errno::Errno;
use port_off as o;

/// `MTTY_MAGIC`.
// upstream: mtty.c:134
pub(crate) const MTTY_MAGIC: u64 = 0x7e9d_0989_8c3e_2c4e;
/// `MTTY_MAJOR_VER`.
pub(crate) const MTTY_MAJOR_VER: u32 = 1;
/// `MTTY_MINOR_VER`.
pub(crate) const MTTY_MINOR_VER: u32 = 0;

/// Byte offsets in `struct serial_port` (x86_64).
pub(crate) mod port_off {
    /// `uart_reg[8]`.
    pub(crate) const UART_REG: usize = 0;
    /// `rxtx.fifo[16]`.
    pub(crate) const FIFO: usize = 8;
    /// `rxtx.head`.
    pub(crate) const HEAD: usize = 24;
    /// `rxtx.tail`.
    pub(crate) const TAIL: usize = 25;
    /// `rxtx.count`.
    pub(crate) const COUNT: usize = 26;
    /// `dlab` (`bool`).
    pub(crate) const DLAB: usize = 27;
    /// `overrun` (`bool`).
    pub(crate) const OVERRUN: usize = 28;
    /// Padding, to align `divisor`.
    pub(crate) const PAD0: usize = 29;
    /// `divisor` (`u16`, 2-aligned).
    pub(crate) const DIVISOR: usize = 30;
    /// `fcr`.
    pub(crate) const FCR: usize = 32;
    /// `max_fifo_size`.
    pub(crate) const MAX_FIFO_SIZE: usize = 33;
    /// `intr_trigger_level`.
    pub(crate) const INTR_TRIGGER_LEVEL: usize = 34;
    /// Tail padding (the size rounds up to the 2-byte alignment).
    pub(crate) const PAD1: usize = 35;
    /// `sizeof(struct serial_port)`.
    pub(crate) const SIZE: usize = 36;
}

/// Byte offsets in `struct mtty_data` (x86_64).
pub(crate) mod data_off {
    /// `magic` (`u64`).
    pub(crate) const MAGIC: usize = 0;
    /// `major_ver` (`u32`).
    pub(crate) const MAJOR_VER: usize = 8;
    /// `minor_ver` (`u32`).
    pub(crate) const MINOR_VER: usize = 12;
    /// `nr_ports` (`u32`).
    pub(crate) const NR_PORTS: usize = 16;
    /// `flags` (`u32`).
    pub(crate) const FLAGS: usize = 20;
    /// `ports[2]`: `offsetof(struct mtty_data, ports)`, the header size.
    pub(crate) const PORTS: usize = 24;
    /// `sizeof(struct mtty_data)`.
    pub(crate) const SIZE: usize = 96;
}

/// `offsetof(struct mtty_data, ports)`: the header.
pub(crate) const HEADER_SIZE: usize = data_off::PORTS;
/// `sizeof(struct serial_port)`.
pub(crate) const SERIAL_PORT_SIZE: usize = port_off::SIZE;
/// `sizeof(struct mtty_data)`: the file's buffer.
pub(crate) const MTTY_DATA_SIZE: usize = data_off::SIZE;

/// `mtty_data_size`: the stream length for a device of `nr_ports` ports (60 or 96); also
/// what `migration_get_data_size` reports as `stop_copy_length`.
// upstream: mtty.c:780
pub(crate) const fn data_size(nr_ports: u32) -> usize {
    HEADER_SIZE + nr_ports as usize * SERIAL_PORT_SIZE
}

/// The FIFO's length in bytes.
const FIFO_LEN: usize = MAX_FIFO_SIZE as usize;

impl SerialPort {
    /// The port as the C `struct serial_port` lies in memory (a bijection with
    /// [`Self::from_bytes`]: padding and `bool` bytes included).
    pub(crate) fn to_bytes(self) -> [u8; SERIAL_PORT_SIZE] {
        let mut b = [0u8; SERIAL_PORT_SIZE];
        b[o::UART_REG..o::UART_REG + 8].copy_from_slice(&self.uart_reg);
        b[o::FIFO..o::FIFO + FIFO_LEN].copy_from_slice(&self.rxtx.fifo);
        b[o::HEAD] = self.rxtx.head;
        b[o::TAIL] = self.rxtx.tail;
        b[o::COUNT] = self.rxtx.count;
        b[o::DLAB] = self.dlab.0;
        b[o::OVERRUN] = self.overrun.0;
        b[o::PAD0] = self.padding[0];
        b[o::DIVISOR..o::DIVISOR + 2].copy_from_slice(&self.divisor.to_le_bytes());
        b[o::FCR] = self.fcr;
        b[o::MAX_FIFO_SIZE] = self.max_fifo_size;
        b[o::INTR_TRIGGER_LEVEL] = self.intr_trigger_level;
        b[o::PAD1] = self.padding[1];
        b
    }

    /// A port from a C `struct serial_port` image. Like upstream, no field is checked: a
    /// stream can set any head/tail/count/FIFO size (see `mtty_uart.rs` for what that does).
    pub(crate) fn from_bytes(b: &[u8; SERIAL_PORT_SIZE]) -> Self {
        let mut uart_reg = [0u8; 8];
        uart_reg.copy_from_slice(&b[o::UART_REG..o::UART_REG + 8]);
        let mut fifo = [0u8; FIFO_LEN];
        fifo.copy_from_slice(&b[o::FIFO..o::FIFO + FIFO_LEN]);
        SerialPort {
            uart_reg,
            rxtx: Rxtx {
                fifo,
                head: b[o::HEAD],
                tail: b[o::TAIL],
                count: b[o::COUNT],
            },
            dlab: CBool(b[o::DLAB]),
            overrun: CBool(b[o::OVERRUN]),
            divisor: u16::from_le_bytes([b[o::DIVISOR], b[o::DIVISOR + 1]]),
            fcr: b[o::FCR],
            max_fifo_size: b[o::MAX_FIFO_SIZE],
            intr_trigger_level: b[o::INTR_TRIGGER_LEVEL],
            padding: [b[o::PAD0], b[o::PAD1]],
        }
    }
}

/// The header fields of `struct mtty_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// `magic`.
    pub(crate) magic: u64,
    /// `major_ver`.
    pub(crate) major_ver: u32,
    /// `minor_ver`.
    pub(crate) minor_ver: u32,
    /// `nr_ports`.
    pub(crate) nr_ports: u32,
    /// `flags`.
    pub(crate) flags: u32,
}

impl Header {
    /// The header upstream sends for a device of `nr_ports` ports.
    pub(crate) const fn new(nr_ports: u32) -> Self {
        Header {
            magic: MTTY_MAGIC,
            major_ver: MTTY_MAJOR_VER,
            minor_ver: MTTY_MINOR_VER,
            nr_ports,
            flags: 0,
        }
    }

    /// The header's 24 bytes.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_SIZE] {
        use data_off::*;
        let mut b = [0u8; HEADER_SIZE];
        b[MAGIC..MAGIC + 8].copy_from_slice(&self.magic.to_le_bytes());
        b[MAJOR_VER..MAJOR_VER + 4].copy_from_slice(&self.major_ver.to_le_bytes());
        b[MINOR_VER..MINOR_VER + 4].copy_from_slice(&self.minor_ver.to_le_bytes());
        b[NR_PORTS..NR_PORTS + 4].copy_from_slice(&self.nr_ports.to_le_bytes());
        b[FLAGS..FLAGS + 4].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// The header in the first 24 bytes of `b`.
    pub(crate) fn from_bytes(b: &[u8; HEADER_SIZE]) -> Self {
        use data_off::*;
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&b[MAGIC..MAGIC + 8]);
        Header {
            magic: u64::from_le_bytes(magic),
            major_ver: u32_at(MAJOR_VER),
            minor_ver: u32_at(MINOR_VER),
            nr_ports: u32_at(NR_PORTS),
            flags: u32_at(FLAGS),
        }
    }

    /// `mtty_resume_write`'s check: magic, no flags, version 1.0 exactly, and the port count
    /// of the receiving device.
    // upstream: mtty.c:1057
    pub(crate) fn valid_for(self, nr_ports: u32) -> bool {
        self.magic == MTTY_MAGIC
            && self.flags == 0
            && self.major_ver == MTTY_MAJOR_VER
            && self.minor_ver == MTTY_MINOR_VER
            && self.nr_ports == nr_ports
    }
}

/// What `VFIO_MIG_GET_PRECOPY_INFO` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PrecopyInfo {
    /// `initial_bytes`: what is left to read of what is filled.
    pub(crate) initial_bytes: u64,
    /// `dirty_bytes`: always 0.
    pub(crate) dirty_bytes: u64,
}

/// The result of a resume write that got past [`MigFile::resume_check`] and the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ResumeWritten {
    /// The new file position: advanced by the length written even when `ret` is an error
    /// (upstream moves `f_pos` before validating the header).
    pub(crate) new_pos: i64,
    /// The write's return value: the length, or `EFAULT` for a header that failed
    /// validation. The bytes stay and later writes are not checked again, so a stream with a
    /// bad header can still be loaded if user space carries on.
    pub(crate) ret: Result<usize, Errno>,
}

/// `struct mtty_migration_file` without its `struct file` and lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MigFile {
    /// `data`: the `struct mtty_data` image.
    data: [u8; MTTY_DATA_SIZE],
    /// `filled_size`: bytes of `data` that are valid (saving) or were written (resuming).
    filled_size: usize,
    /// `disabled`: reads, writes and precopy info fail with `ENODEV`.
    disabled: bool,
}

impl MigFile {
    /// A new saving file for a device of `nr_ports` ports, as `mtty_save_device_data`
    /// creates it: header filled, ports not yet (see [`Self::save_state`]).
    // upstream: mtty.c:998
    pub(crate) fn new_saving(nr_ports: u32) -> Self {
        let mut data = [0u8; MTTY_DATA_SIZE];
        data[..HEADER_SIZE].copy_from_slice(&Header::new(nr_ports).to_bytes());
        MigFile {
            data,
            filled_size: HEADER_SIZE,
            disabled: false,
        }
    }

    /// A new, empty resuming file (`mtty_resume_device_data`).
    pub(crate) fn new_resuming() -> Self {
        MigFile {
            data: [0; MTTY_DATA_SIZE],
            filled_size: 0,
            disabled: false,
        }
    }

    /// `filled_size`.
    pub(crate) fn filled_size(&self) -> usize {
        self.filled_size
    }

    /// Whether the file was disabled.
    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The `struct mtty_data` image.
    pub(crate) fn data(&self) -> &[u8; MTTY_DATA_SIZE] {
        &self.data
    }

    /// `mtty_disable_file`: later I/O fails with `ENODEV`; the caller also resets `f_pos`.
    // upstream: mtty.c:786
    pub(crate) fn disable(&mut self) {
        self.disabled = true;
        self.filled_size = 0;
    }

    /// `mtty_save_state`: appends the first `nr_ports` ports (on reaching `STOP_COPY`).
    // upstream: mtty.c:929
    pub(crate) fn save_state(&mut self, ports: &[SerialPort; 2], nr_ports: u32) {
        for (i, port) in ports.iter().enumerate().take(nr_ports as usize) {
            let at = HEADER_SIZE + i * SERIAL_PORT_SIZE;
            self.data[at..at + SERIAL_PORT_SIZE].copy_from_slice(&port.to_bytes());
            self.filled_size += SERIAL_PORT_SIZE;
        }
    }

    /// `mtty_save_read` at position `pos` for up to `len` bytes: the bytes to copy out
    /// (empty at the end of what is filled so far). The caller adds their length to `f_pos`
    /// once the copy succeeded, and returns `EFAULT` (position unchanged) if it did not.
    // upstream: mtty.c:881
    pub(crate) fn save_read(&self, pos: i64, len: usize) -> Result<&[u8], Errno> {
        if self.disabled {
            return Err(Errno::ENODEV);
        }
        let start = self.pos_within_filled(pos)?;
        let n = (self.filled_size - start).min(len);
        // `filled_size` never exceeds the buffer (ports are saved once per file); should it,
        // C would copy past the struct, we stop at its end.
        Ok(self.data.get(start..start + n).unwrap_or(&[]))
    }

    /// `*pos > migf->filled_size` is `EINVAL`; else `pos` as an index.
    fn pos_within_filled(&self, pos: i64) -> Result<usize, Errno> {
        // `loff_t` against `ssize_t`: both signed. A negative pos never reaches a stream
        // file's read (the VFS refuses it), so treat it as out of range too.
        match usize::try_from(pos) {
            Ok(p) if p <= self.filled_size => Ok(p),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `mtty_precopy_ioctl` after the core's `vfio_check_precopy_ioctl`: `state` is the
    /// device's migration state (`EINVAL` unless `PRE_COPY` or `PRE_COPY_P2P`), `pos` the
    /// file position.
    // upstream: mtty.c:836
    pub(crate) fn precopy_info(&self, state: u32, pos: i64) -> Result<PrecopyInfo, Errno> {
        if state != PRE_COPY && state != PRE_COPY_P2P {
            return Err(Errno::EINVAL);
        }
        if self.disabled {
            return Err(Errno::ENODEV);
        }
        let start = self.pos_within_filled(pos)?;
        Ok(PrecopyInfo {
            initial_bytes: (self.filled_size - start) as u64,
            dirty_bytes: 0,
        })
    }

    /// The checks `mtty_resume_write` makes before copying `len` bytes from user space to
    /// position `pos`, for a device of `nr_ports`: `EINVAL` for a negative position or an
    /// overflowing end, `ENOMEM` past the stream's length, `ENODEV` once disabled.
    // upstream: mtty.c:1030
    pub(crate) fn resume_check(&self, pos: i64, len: usize, nr_ports: u32) -> Result<(), Errno> {
        // `(loff_t)len`: a length past i64::MAX turns negative, and the end is then compared
        // with the `size_t` data size as unsigned.
        let requested = match (len as i64).checked_add(pos) {
            Some(r) if pos >= 0 => r,
            _ => return Err(Errno::EINVAL),
        };
        if requested as u64 > data_size(nr_ports) as u64 {
            return Err(Errno::ENOMEM);
        }
        if self.disabled {
            return Err(Errno::ENODEV);
        }
        Ok(())
    }

    /// The rest of `mtty_resume_write`, after [`Self::resume_check`] passed and the caller
    /// copied the user's bytes into `src`: stores them at `pos`, validates the header when
    /// this write completes it, and counts them.
    ///
    /// A `pos`/`src` that did not pass [`Self::resume_check`] (a caller bug) changes nothing
    /// and returns `EINVAL`.
    // upstream: mtty.c:1044
    pub(crate) fn resume_commit(&mut self, pos: i64, src: &[u8], nr_ports: u32) -> ResumeWritten {
        let len = src.len();
        let dst = usize::try_from(pos)
            .ok()
            .and_then(|start| self.data.get_mut(start..start.checked_add(len)?));
        let Some(dst) = dst else {
            return ResumeWritten {
                new_pos: pos,
                ret: Err(Errno::EINVAL),
            };
        };
        dst.copy_from_slice(src);
        let mut ret = Ok(len);
        if self.filled_size < HEADER_SIZE && self.filled_size + len >= HEADER_SIZE {
            let mut hdr = [0u8; HEADER_SIZE];
            hdr.copy_from_slice(&self.data[..HEADER_SIZE]);
            if !Header::from_bytes(&hdr).valid_for(nr_ports) {
                ret = Err(Errno::EFAULT);
            }
        }
        self.filled_size += len;
        ResumeWritten {
            // In range: at most 96.
            new_pos: pos + len as i64,
            ret,
        }
    }

    /// [`Self::resume_check`] then [`Self::resume_commit`], for a caller that has the bytes
    /// already. `Err` from the check leaves everything as it was (position included).
    pub(crate) fn resume_write(
        &mut self,
        pos: i64,
        src: &[u8],
        nr_ports: u32,
    ) -> Result<ResumeWritten, Errno> {
        self.resume_check(pos, src.len(), nr_ports)?;
        Ok(self.resume_commit(pos, src, nr_ports))
    }

    /// `mtty_load_state` (on `RESUMING -> STOP`): `EINVAL` unless the whole stream for
    /// `nr_ports` ports arrived; then the first `nr_ports` ports are replaced. Nothing else is
    /// checked here (the header was checked, or not, by the writes).
    // upstream: mtty.c:945
    pub(crate) fn load_state(
        &self,
        ports: &mut [SerialPort; 2],
        nr_ports: u32,
    ) -> Result<(), Errno> {
        if self.filled_size < data_size(nr_ports) {
            return Err(Errno::EINVAL);
        }
        for (i, port) in ports.iter_mut().enumerate().take(nr_ports as usize) {
            let at = HEADER_SIZE + i * SERIAL_PORT_SIZE;
            let mut b = [0u8; SERIAL_PORT_SIZE];
            b.copy_from_slice(&self.data[at..at + SERIAL_PORT_SIZE]);
            *port = SerialPort::from_bytes(&b);
        }
        Ok(())
    }
}

// `enum vfio_device_mig_state` values (uapi): one definition, with the core's FSM.
pub(crate) use crate::mig_state::{
    PRE_COPY,
    PRE_COPY_P2P,
    RESUMING,
    RUNNING,
    RUNNING_P2P,
    STOP,
    STOP_COPY, //
};

/// `vdev->migration_flags`: STOP_COPY | P2P | PRE_COPY.
// upstream: mtty.c:1344
pub(crate) const MIGRATION_FLAGS: u32 = 0b111;

/// What `mtty_step_state` does for one arc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing (mtty does no DMA): RUNNING <-> RUNNING_P2P, RUNNING_P2P -> STOP,
    /// STOP -> RUNNING_P2P, PRE_COPY <-> PRE_COPY_P2P.
    Nothing,
    /// Disable and drop both migration files: PRE_COPY -> RUNNING,
    /// PRE_COPY_P2P -> RUNNING_P2P, STOP_COPY -> STOP.
    CloseFiles,
    /// [`MigFile::load_state`] from the resuming file, then close the files; on error the
    /// state stays RESUMING and the error is returned: RESUMING -> STOP.
    LoadThenClose,
    /// `mtty_save_device_data`: RUNNING -> PRE_COPY, RUNNING_P2P -> PRE_COPY_P2P,
    /// STOP -> STOP_COPY, PRE_COPY_P2P -> STOP_COPY. Without a saving file: create one
    /// ([`MigFile::new_saving`]), fill the ports if the new state is STOP_COPY, and return
    /// its fd. With one (PRE_COPY_P2P -> STOP_COPY): fill the ports if STOP_COPY and return
    /// no fd (user space keeps reading the pre-copy fd).
    Save,
    /// Create a resuming file ([`MigFile::new_resuming`]) and return its fd: STOP -> RESUMING.
    Resume,
    /// Any other arc: `vfio_mig_get_next_state` never asks for it; upstream WARNs and
    /// returns `EINVAL`.
    Invalid,
}

/// `mtty_step_state`'s decision for the arc `cur -> new`.
// upstream: mtty.c:1110
pub(crate) fn step(cur: u32, new: u32) -> Step {
    match (cur, new) {
        (RUNNING, RUNNING_P2P)
        | (RUNNING_P2P, RUNNING)
        | (RUNNING_P2P, STOP)
        | (PRE_COPY, PRE_COPY_P2P)
        | (PRE_COPY_P2P, PRE_COPY)
        | (STOP, RUNNING_P2P) => Step::Nothing,
        (RESUMING, STOP) => Step::LoadThenClose,
        (PRE_COPY, RUNNING) | (PRE_COPY_P2P, RUNNING_P2P) | (STOP_COPY, STOP) => Step::CloseFiles,
        (RUNNING, PRE_COPY)
        | (RUNNING_P2P, PRE_COPY_P2P)
        | (STOP, STOP_COPY)
        | (PRE_COPY_P2P, STOP_COPY) => Step::Save,
        (STOP, RESUMING) => Step::Resume,
        _ => Step::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    /// The C structs as `#[repr(C)]` mirrors: the compiler's C layout must match our offsets.
    #[repr(C)]
    struct CRxtx {
        fifo: [u8; 16],
        head: u8,
        tail: u8,
        count: u8,
    }

    #[repr(C)]
    struct CSerialPort {
        uart_reg: [u8; 8],
        rxtx: CRxtx,
        dlab: bool,
        overrun: bool,
        divisor: u16,
        fcr: u8,
        max_fifo_size: u8,
        intr_trigger_level: u8,
    }

    #[repr(C)]
    struct CMttyData {
        magic: u64,
        major_ver: u32,
        minor_ver: u32,
        nr_ports: u32,
        flags: u32,
        ports: [CSerialPort; 2],
    }

    #[test]
    fn layout_matches_repr_c() {
        assert_eq!(size_of::<CRxtx>(), 19);
        let rx = offset_of!(CSerialPort, rxtx);
        assert_eq!(offset_of!(CSerialPort, uart_reg), port_off::UART_REG);
        assert_eq!(rx + offset_of!(CRxtx, fifo), port_off::FIFO);
        assert_eq!(rx + offset_of!(CRxtx, head), port_off::HEAD);
        assert_eq!(rx + offset_of!(CRxtx, tail), port_off::TAIL);
        assert_eq!(rx + offset_of!(CRxtx, count), port_off::COUNT);
        assert_eq!(offset_of!(CSerialPort, dlab), port_off::DLAB);
        assert_eq!(offset_of!(CSerialPort, overrun), port_off::OVERRUN);
        assert_eq!(offset_of!(CSerialPort, divisor), port_off::DIVISOR);
        assert_eq!(offset_of!(CSerialPort, fcr), port_off::FCR);
        assert_eq!(
            offset_of!(CSerialPort, max_fifo_size),
            port_off::MAX_FIFO_SIZE
        );
        assert_eq!(
            offset_of!(CSerialPort, intr_trigger_level),
            port_off::INTR_TRIGGER_LEVEL
        );
        assert_eq!(size_of::<CSerialPort>(), SERIAL_PORT_SIZE);
        assert_eq!(align_of::<CSerialPort>(), 2);
        assert_eq!(offset_of!(CMttyData, magic), data_off::MAGIC);
        assert_eq!(offset_of!(CMttyData, major_ver), data_off::MAJOR_VER);
        assert_eq!(offset_of!(CMttyData, minor_ver), data_off::MINOR_VER);
        assert_eq!(offset_of!(CMttyData, nr_ports), data_off::NR_PORTS);
        assert_eq!(offset_of!(CMttyData, flags), data_off::FLAGS);
        assert_eq!(offset_of!(CMttyData, ports), HEADER_SIZE);
        assert_eq!(size_of::<CMttyData>(), MTTY_DATA_SIZE);
        assert_eq!((data_size(1), data_size(2)), (60, 96));
    }

    #[test]
    fn port_image() {
        let mut p = SerialPort::new();
        p.uart_reg = [1, 2, 3, 4, 5, 6, 7, 8];
        p.rxtx.fifo[0] = 0x11;
        p.rxtx.fifo[15] = 0x22;
        p.rxtx.head = 3;
        p.rxtx.tail = 4;
        p.rxtx.count = 15;
        p.dlab = CBool::TRUE;
        p.divisor = 0xbeef;
        p.fcr = 0xc1;
        p.intr_trigger_level = 1;
        let b = p.to_bytes();
        let mut want = [0u8; 36];
        want[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        want[8] = 0x11;
        want[23] = 0x22;
        want[24..29].copy_from_slice(&[3, 4, 15, 1, 0]);
        want[30..35].copy_from_slice(&[0xef, 0xbe, 0xc1, 16, 1]);
        assert_eq!(b, want);
        assert_eq!(SerialPort::from_bytes(&b), p);
        // Other bool bytes read as true; they and the padding are kept for saving.
        let mut odd = want;
        odd[27] = 2;
        odd[28] = 0x80;
        odd[29] = 0xff;
        odd[35] = 0xfe;
        let q = SerialPort::from_bytes(&odd);
        assert!(q.dlab.get() && q.overrun.get());
        assert_eq!(q.padding, [0xff, 0xfe]);
        assert_eq!(q.to_bytes(), odd);
    }

    #[test]
    fn header_image() {
        let h = Header::new(2).to_bytes();
        assert_eq!(h[..8], [0x4e, 0x2c, 0x3e, 0x8c, 0x89, 0x09, 0x9d, 0x7e]);
        assert_eq!(h[8..24], [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Header::from_bytes(&h), Header::new(2));
        assert!(Header::new(2).valid_for(2));
        assert!(!Header::new(2).valid_for(1));
        for bad in [
            Header {
                magic: 0,
                ..Header::new(1)
            },
            Header {
                major_ver: 2,
                ..Header::new(1)
            },
            Header {
                minor_ver: 1,
                ..Header::new(1)
            },
            Header {
                flags: 1,
                ..Header::new(1)
            },
        ] {
            assert!(!bad.valid_for(1), "{bad:?}");
        }
    }

    #[test]
    fn save_then_resume() {
        let mut ports = [SerialPort::new(); 2];
        ports[0].uart_reg[7] = 0x5a;
        ports[1].divisor = 12;
        for nr in [1u32, 2] {
            let mut s = MigFile::new_saving(nr);
            assert_eq!(s.precopy_info(PRE_COPY, 0).unwrap().initial_bytes, 24);
            assert_eq!(s.save_read(0, 100).unwrap().len(), 24);
            assert_eq!(
                s.precopy_info(PRE_COPY_P2P, 10).unwrap(),
                PrecopyInfo {
                    initial_bytes: 14,
                    dirty_bytes: 0
                }
            );
            assert_eq!(s.precopy_info(STOP_COPY, 0), Err(Errno::EINVAL));
            assert_eq!(s.precopy_info(PRE_COPY, 25), Err(Errno::EINVAL));
            s.save_state(&ports, nr);
            assert_eq!(s.filled_size(), data_size(nr));
            assert_eq!(s.save_read(24, 1000).unwrap().len(), data_size(nr) - 24);
            assert_eq!(s.save_read(data_size(nr) as i64, 1).unwrap().len(), 0);
            assert_eq!(s.save_read(data_size(nr) as i64 + 1, 1), Err(Errno::EINVAL));
            let stream = s.save_read(0, 1000).unwrap().to_vec();

            let mut r = MigFile::new_resuming();
            let mut pos = 0i64;
            for chunk in stream.chunks(7) {
                let w = r.resume_write(pos, chunk, nr).unwrap();
                assert_eq!(w.ret, Ok(chunk.len()));
                pos = w.new_pos;
            }
            assert_eq!(r.resume_write(pos, &[0], nr), Err(Errno::ENOMEM));
            let mut got = [SerialPort::new(); 2];
            got[1].fcr = 0x77;
            r.load_state(&mut got, nr).unwrap();
            assert_eq!(got[0], ports[0]);
            if nr == 2 {
                assert_eq!(got[1], ports[1]);
            } else {
                assert_eq!(got[1].fcr, 0x77, "port 1 is not migrated with one port");
            }
            s.disable();
            assert_eq!(s.save_read(0, 1), Err(Errno::ENODEV));
            assert_eq!(s.precopy_info(PRE_COPY, 0), Err(Errno::ENODEV));
        }
    }

    #[test]
    fn resume_errors() {
        let mut r = MigFile::new_resuming();
        assert_eq!(r.resume_write(-1, &[0], 1), Err(Errno::EINVAL));
        assert_eq!(r.resume_check(i64::MAX, 1, 1), Err(Errno::EINVAL));
        assert_eq!(
            r.resume_check(0, usize::MAX, 1),
            Err(Errno::ENOMEM),
            "(loff_t)len < 0"
        );
        assert_eq!(r.resume_check(0, 61, 1), Err(Errno::ENOMEM));
        assert_eq!(r.resume_check(0, 96, 2), Ok(()));
        // A bad header: EFAULT, but the position and filled size move on anyway...
        let mut bad = Header::new(2).to_bytes();
        bad[0] ^= 1;
        let w = r.resume_write(0, &bad[..20], 1).unwrap();
        assert_eq!(
            w,
            ResumeWritten {
                new_pos: 20,
                ret: Ok(20)
            }
        );
        let w = r.resume_write(20, &bad[20..], 1).unwrap();
        assert_eq!(
            w,
            ResumeWritten {
                new_pos: 24,
                ret: Err(Errno::EFAULT)
            }
        );
        assert_eq!(r.filled_size(), 24);
        // ... short of the full stream, load fails; complete it and the load succeeds.
        let mut ports = [SerialPort::new(); 2];
        assert_eq!(r.load_state(&mut ports, 1), Err(Errno::EINVAL));
        let mut p = SerialPort::new();
        p.uart_reg[7] = 9;
        let w = r.resume_write(24, &p.to_bytes(), 1).unwrap();
        assert_eq!(w.ret, Ok(36));
        assert_eq!(r.load_state(&mut ports, 1), Ok(()));
        assert_eq!(ports[0], p);
        // Zero-length writes are fine; disabled files refuse.
        assert_eq!(r.resume_write(60, &[], 1).unwrap().ret, Ok(0));
        r.disable();
        assert_eq!(r.resume_write(0, &[1], 1), Err(Errno::ENODEV));
        assert_eq!(r.filled_size(), 0);
    }

    #[test]
    fn resume_commit_misuse_is_refused() {
        let mut r = MigFile::new_resuming();
        for (pos, len) in [(-1i64, 1usize), (90, 7), (97, 0), (i64::MAX, 1)] {
            let w = r.resume_commit(pos, &[0; 7][..len], 2);
            assert_eq!(
                w,
                ResumeWritten {
                    new_pos: pos,
                    ret: Err(Errno::EINVAL)
                }
            );
        }
        assert_eq!(r, MigFile::new_resuming());
    }

    #[test]
    fn resume_validates_once() {
        // The check runs on the write that crosses 24 bytes, whatever it carries after.
        let mut stream = [0u8; 60];
        stream[..24].copy_from_slice(&Header::new(1).to_bytes());
        let mut r = MigFile::new_resuming();
        assert_eq!(r.resume_write(0, &stream, 1).unwrap().ret, Ok(60));
        let mut r = MigFile::new_resuming();
        assert_eq!(
            r.resume_write(0, &stream[..24], 2).unwrap().ret,
            Err(Errno::EFAULT)
        );
    }

    #[test]
    fn steps() {
        assert_eq!(step(RUNNING, PRE_COPY), Step::Save);
        assert_eq!(step(PRE_COPY_P2P, STOP_COPY), Step::Save);
        assert_eq!(step(STOP, RESUMING), Step::Resume);
        assert_eq!(step(RESUMING, STOP), Step::LoadThenClose);
        assert_eq!(step(STOP_COPY, STOP), Step::CloseFiles);
        assert_eq!(step(RUNNING, STOP), Step::Invalid);
        assert_eq!(step(PRE_COPY, STOP_COPY), Step::Invalid);
        assert_eq!(step(STOP, STOP), Step::Invalid);
    }
}
