// SPDX-License-Identifier: GPL-2.0

//! Mediated virtual PCI serial host device driver: a Rust `mtty.ko`, a drop-in for upstream's
//! `samples/vfio-mdev/mtty.c`.
//!
//! The parent device `mtty` (class `mtty`) offers the mdev types `mtty-1` (one port) and
//! `mtty-2` (two ports), sharing [`MAX_MTTYS`] ports; each mdev is a VFIO device emulating a PCI
//! 16550 serial card whose ports loop back what is written to them, with INTx or MSI
//! signalled through eventfds, and live migration (STOP_COPY, P2P and PRE_COPY) with the
//! stream of the C driver, so state moves between the two.
//!
//! The device logic is pure and host-tested (`mtty_uart.rs`, `mtty_config.rs`, `mtty_irq.rs`,
//! `mtty_mig.rs`); this file is the kernel glue, on the driver-facing VFIO API
//! (`kernel_ext::vfio::driver`) and the mdev driver API (`kernel_ext::mdev_driver`), calling only
//! exports upstream's `vfio.ko` and `mdev.ko` have, so it runs on their C cores and on ours.
//!
//! Locking, as upstream: `ops` (`ops_lock`, which also covers what `rxtx_lock` does) guards the
//! emulated device and its interrupts; `mig` (`state_mutex`) the migration state and files,
//! with `reset` (`reset_mutex` + `deferred_reset`) letting `VFIO_DEVICE_RESET` hand its work to
//! whoever holds `mig` (`mtty_state_mutex_unlock`).

use vfio_rs_kernel_ext as kernel_ext;

// Each pure file has accessors (and a constant) only the host tests use.
#[expect(
    dead_code,
    reason = "`ConfigSpace::bytes`, `MttyDevice::nr_ports`: host tests only"
)]
mod mtty_config;
#[expect(dead_code, reason = "`IrqState` accessors: host tests only")]
mod mtty_irq;
#[expect(
    dead_code,
    reason = "`MigFile` accessors, `resume_write`: host tests only"
)]
mod mtty_mig;
#[expect(
    dead_code,
    reason = "`Triggers::ONE`/`is_none`, `FCR_TRIGGER_MASK`: host tests only"
)]
mod mtty_uart;

// The pure files' `crate::errno` and `crate::mig_state`.
use kernel_ext::{
    errno,
    irq_flags, //
};
#[path = "../../drivers/vfio/mig_state.rs"]
#[expect(
    dead_code,
    reason = "the FSM table is the core's; mtty uses its state values"
)]
mod mig_state;

use core::{
    ptr::null,
    sync::atomic::{
        AtomicU32,
        Ordering, //
    }, //
};
use kernel::{
    device::{
        Bound,
        Device as BaseDevice, //
    },
    fs::File,
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex,
        MutexGuard, //
    },
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceReader,
        UserSliceWriter, //
    },
};
use kernel_ext::{
    anon_file::{
        Access,
        AnonFileOps,
        AnonFops, //
    },
    bindings,
    chrdev::{
        ChrdevRegion,
        ALL_MINORS, //
    },
    class::{
        ClassDevice,
        NamedClass, //
    },
    eventfd::EventFdRef,
    interval_tree::IntervalTreeCursor,
    mdev_driver::{
        DriverRegistration,
        MdevDriver,
        ParentRegistration,
        TypeSpec, //
    },
    sysfs::{
        AttributeGroup,
        AttributeList,
        DeviceAttrShow,
        DeviceAttribute,
        GroupList,
        ShowBuf, //
    },
    uapi,
    vfio::driver::{
        read_irq_set,
        Binding,
        DevSet,
        Device,
        DirtyBitmap,
        Driver,
        MigState,
        RegionInfoCaps,
        Registration,
        SetHeld, //
    },
};
use mtty_config::{
    available_instances,
    chunk_len,
    claim_ports,
    MttyDevice,
    MAX_MTTYS,
    NUM_IRQS,
    NUM_REGIONS, //
};
use mtty_irq::{
    IrqState,
    SetIrqsError, //
};
use mtty_mig::{
    data_size,
    step,
    MigFile,
    Step,
    MTTY_DATA_SIZE,
    RUNNING,
    STOP_COPY, //
};
use mtty_uart::SerialPort;

module! {
    type: MttyModule,
    name: "mtty",
    authors: ["vfio-rs developers"],
    description: "Test driver that simulate serial port over PCI",
    license: "GPL v2",
}

/// Ports left for new devices (`mdev_avail_ports`).
static AVAIL_PORTS: AtomicU32 = AtomicU32::new(MAX_MTTYS);

/// Ports a device took from [`AVAIL_PORTS`], given back when the device is released.
struct PortClaim(u32);

impl PortClaim {
    /// `mtty_init_dev`'s accounting: `ENOSPC` when fewer than `nr_ports` are left.
    fn claim(nr_ports: u32) -> Result<Self> {
        let mut avail = AVAIL_PORTS.load(Ordering::Relaxed);
        loop {
            let left = claim_ports(avail, nr_ports)?;
            match AVAIL_PORTS.compare_exchange(avail, left, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Ok(Self(nr_ports)),
                Err(now) => avail = now,
            }
        }
    }
}

impl Drop for PortClaim {
    fn drop(&mut self) {
        AVAIL_PORTS.fetch_add(self.0, Ordering::AcqRel);
    }
}

/// What `ops` guards: the emulated function and its interrupts.
struct OpsState {
    dev: MttyDevice,
    irq: IrqState<EventFdRef>,
}

/// A migration data file as the device keeps it: its file reference and its state.
struct Kept<F> {
    /// The reference `anon_inode_getfile` made (upstream's `migf->filp`), put on disable.
    _file: ARef<File>,
    data: Arc<F>,
}

/// What `mig` guards.
struct MigCtl {
    state: MigState,
    saving: Option<Kept<SaveFile>>,
    resuming: Option<Kept<ResumeFile>>,
}

/// One mtty device (`struct mdev_state`).
#[pin_data]
struct Mtty {
    nr_ports: u32,
    _ports: PortClaim,
    #[pin]
    ops: Mutex<OpsState>,
    #[pin]
    mig: Mutex<MigCtl>,
    /// `deferred_reset`, under `reset_mutex`.
    #[pin]
    reset: Mutex<bool>,
}

impl Mtty {
    /// `mtty_init_dev` for a device of `nr_ports` ports, whose ports are claimed already.
    fn new(ports: PortClaim) -> impl PinInit<Self, Error> {
        let n = ports.0;
        try_pin_init!(Self {
            nr_ports: n,
            _ports: ports,
            ops <- new_mutex!(OpsState {
                dev: MttyDevice::new(n),
                irq: IrqState::new(),
            }),
            mig <- new_mutex!(MigCtl {
                state: RUNNING,
                saving: None,
                resuming: None,
            }),
            reset <- new_mutex!(false),
        }? Error)
    }

    /// `mdev_access` for one chunk, delivering its interrupts under `ops`.
    fn access(&self, pos: u64, buf: &mut [u8], is_write: bool) -> Result {
        let mut guard = self.ops.lock();
        let st = &mut *guard;
        let triggers = st.dev.access(pos, buf, is_write)?;
        for _ in 0..triggers.count() {
            st.irq.trigger(|_, e| e.signal());
        }
        Ok(())
    }

    /// `mtty_state_mutex_unlock`: runs a reset deferred while `mig` was held, then unlocks.
    fn state_unlock(&self, mut mig: MutexGuard<'_, MigCtl>) {
        loop {
            let mut deferred = self.reset.lock();
            if *deferred {
                *deferred = false;
                drop(deferred);
                mig.state = RUNNING;
                Self::disable_files(&mut mig);
                continue;
            }
            drop(mig);
            drop(deferred);
            return;
        }
    }

    /// `mtty_reset`: defers to the holder of `mig`, if any.
    fn reset(&self) -> Result<isize> {
        pr_info!("mtty_reset: called\n");
        let mut deferred = self.reset.lock();
        *deferred = true;
        let Some(mig) = self.mig.try_lock() else {
            return Ok(0);
        };
        drop(deferred);
        self.state_unlock(mig);
        Ok(0)
    }

    /// `mtty_disable_files`: both files stop working and are dropped.
    fn disable_files(mig: &mut MigCtl) {
        if let Some(k) = mig.saving.take() {
            k.data.m.disable();
        }
        if let Some(k) = mig.resuming.take() {
            k.data.m.disable();
        }
    }

    /// The ports, as the device has them now.
    fn ports(&self) -> [SerialPort; 2] {
        self.ops.lock().dev.ports
    }

    /// `mtty_save_device_data` for a step to `state`: a new saving file (returned) or, with
    /// one already, nothing; the ports are appended on reaching STOP_COPY.
    fn save_device_data(
        &self,
        dev: &Device<Self>,
        mig: &mut MigCtl,
        state: MigState,
    ) -> Result<Option<ARef<File>>> {
        if let Some(k) = &mig.saving {
            if state == STOP_COPY {
                k.data.m.save_state(&self.ports(), self.nr_ports);
            }
            return Ok(None);
        }
        let data = Arc::pin_init(
            pin_init!(SaveFile {
                m <- MigFileData::new(dev, MigFile::new_saving(self.nr_ports)),
            }),
            GFP_KERNEL,
        )?;
        let file = SAVE_FOPS.new_file(c"mtty_mig", data.clone(), Access::ReadOnly)?;
        if state == STOP_COPY {
            data.m.save_state(&self.ports(), self.nr_ports);
        }
        let ret = file.clone();
        mig.saving = Some(Kept { _file: file, data });
        Ok(Some(ret))
    }

    /// `mtty_resume_device_data`: a new resuming file.
    fn resume_device_data(&self, dev: &Device<Self>, mig: &mut MigCtl) -> Result<ARef<File>> {
        let data = Arc::pin_init(
            pin_init!(ResumeFile {
                m <- MigFileData::new(dev, MigFile::new_resuming()),
            }),
            GFP_KERNEL,
        )?;
        let file = RESUME_FOPS.new_file(c"mtty_mig", data.clone(), Access::WriteOnly)?;
        let ret = file.clone();
        mig.resuming = Some(Kept { _file: file, data });
        Ok(ret)
    }

    /// `mtty_load_state`: the resumed ports replace the device's.
    fn load_state(&self, mig: &MigCtl) -> Result {
        let Some(k) = &mig.resuming else {
            return Err(EINVAL);
        };
        let file = k.data.m.inner.lock().file.clone();
        let mut ops = self.ops.lock();
        file.load_state(&mut ops.dev.ports, self.nr_ports)?;
        Ok(())
    }

    /// `mtty_step_state`: one arc of the FSM.
    fn step_state(
        &self,
        dev: &Device<Self>,
        mig: &mut MigCtl,
        new: MigState,
    ) -> Result<Option<ARef<File>>> {
        match step(mig.state, new) {
            Step::Nothing => Ok(None),
            Step::LoadThenClose => {
                self.load_state(mig)?;
                Self::disable_files(mig);
                Ok(None)
            }
            Step::CloseFiles => {
                Self::disable_files(mig);
                Ok(None)
            }
            Step::Save => self.save_device_data(dev, mig, new),
            Step::Resume => self.resume_device_data(dev, mig).map(Some),
            Step::Invalid => Err(EINVAL),
        }
    }

    /// `VFIO_DEVICE_GET_INFO`.
    fn ioctl_get_info(&self, arg: usize) -> Result<isize> {
        let mut r = UserSlice::new(UserPtr::from_addr(arg), 16).reader();
        let argsz: u32 = r.read()?;
        let _rest: [u32; 3] = r.read()?;
        let info = self.ops.lock().dev.device_info(argsz)?;
        let mut w = UserSlice::new(UserPtr::from_addr(arg), 16).writer();
        for v in [argsz, info.flags, info.num_regions, info.num_irqs] {
            w.write(&v)?;
        }
        Ok(0)
    }

    /// `VFIO_DEVICE_GET_IRQ_INFO`.
    fn ioctl_get_irq_info(&self, arg: usize) -> Result<isize> {
        let mut r = UserSlice::new(UserPtr::from_addr(arg), 16).reader();
        let argsz: u32 = r.read()?;
        let _flags: u32 = r.read()?;
        let index: u32 = r.read()?;
        let _count: u32 = r.read()?;
        let info = self.ops.lock().dev.irq_info(argsz, index)?;
        let mut w = UserSlice::new(UserPtr::from_addr(arg), 16).writer();
        for v in [argsz, info.flags, index, info.count] {
            w.write(&v)?;
        }
        Ok(0)
    }

    /// `VFIO_DEVICE_SET_IRQS`.
    fn ioctl_set_irqs(&self, arg: usize) -> Result<isize> {
        let (hdr, data) = read_irq_set(arg, |_| self.ops.lock().dev.num_irqs(), NUM_IRQS)?;
        let mut ops = self.ops.lock();
        ops.irq
            .set_irqs(
                hdr.flags,
                hdr.index,
                hdr.start,
                hdr.count,
                &data,
                EventFdRef::fdget,
                |_, e| e.signal(),
            )
            .map_err(|e| match e {
                SetIrqsError::Errno(e) => e.into(),
                SetIrqsError::NotTty => ENOTTY,
                SetIrqsError::Fd(e) => e,
            })?;
        Ok(0)
    }
}

/// A migration file's state (`struct mtty_migration_file` but the `struct file`): the pure
/// file and the stream position, under the file's lock, and the device, which the file keeps
/// alive (its ioctl takes the device's `mig`).
#[pin_data]
struct MigFileData {
    dev: ARef<Device<Mtty>>,
    #[pin]
    inner: Mutex<MigFileInner>,
}

struct MigFileInner {
    file: MigFile,
    /// `f_pos` (a stream: only these ops move it).
    pos: i64,
}

impl MigFileData {
    fn new(dev: &Device<Mtty>, file: MigFile) -> impl PinInit<Self> {
        let dev: ARef<Device<Mtty>> = dev.into();
        pin_init!(Self {
            dev,
            inner <- new_mutex!(MigFileInner { file, pos: 0 }),
        })
    }

    /// `mtty_disable_file`.
    fn disable(&self) {
        let mut inner = self.inner.lock();
        inner.file.disable();
        inner.pos = 0;
    }

    /// `mtty_save_state`.
    fn save_state(&self, ports: &[SerialPort; 2], nr_ports: u32) {
        self.inner.lock().file.save_state(ports, nr_ports);
    }

    fn nr_ports(&self) -> u32 {
        self.dev.data().nr_ports
    }
}

/// The saving file (`mtty_save_fops`).
#[pin_data]
struct SaveFile {
    #[pin]
    m: MigFileData,
}

/// The resuming file (`mtty_resume_fops`).
#[pin_data]
struct ResumeFile {
    #[pin]
    m: MigFileData,
}

/// The module owning the migration files (`.owner = THIS_MODULE`).
const THIS_MODULE: &ThisModule = &<MttyModule as kernel::ModuleMetadata>::THIS_MODULE;
static SAVE_FOPS: AnonFops<SaveFile> = AnonFops::new(THIS_MODULE);
static RESUME_FOPS: AnonFops<ResumeFile> = AnonFops::new(THIS_MODULE);

#[vtable]
impl AnonFileOps for SaveFile {
    /// `mtty_save_read`.
    fn read(this: &Self, mut buf: UserSliceWriter) -> Result<usize> {
        let mut inner = this.m.inner.lock();
        let pos = inner.pos;
        let n = {
            let bytes = inner.file.save_read(pos, buf.len())?;
            if !bytes.is_empty() {
                buf.write_slice(bytes)?;
            }
            bytes.len()
        };
        // CAST: At most the 96-byte stream.
        inner.pos += n as i64;
        Ok(n)
    }

    /// `mtty_precopy_ioctl`.
    fn ioctl(this: &Self, cmd: u32, arg: usize) -> Result<isize> {
        let args = this.m.dev.check_precopy_ioctl(cmd, arg)?;
        let mtty = this.m.dev.data();
        let mig = mtty.mig.lock();
        let ret = (|| -> Result {
            let info = {
                let inner = this.m.inner.lock();
                inner.file.precopy_info(mig.state, inner.pos)?
            };
            let mut w = UserSlice::new(UserPtr::from_addr(arg), 24).writer();
            w.write(&args.argsz)?;
            w.write(&args.flags)?;
            w.write(&info.initial_bytes)?;
            w.write(&info.dirty_bytes)?;
            Ok(())
        })();
        mtty.state_unlock(mig);
        ret.map(|()| 0)
    }
}

#[vtable]
impl AnonFileOps for ResumeFile {
    /// `mtty_resume_write`.
    fn write(this: &Self, mut buf: UserSliceReader) -> Result<usize> {
        let nr_ports = this.m.nr_ports();
        let len = buf.len();
        let mut inner = this.m.inner.lock();
        let pos = inner.pos;
        inner.file.resume_check(pos, len, nr_ports)?;
        // `resume_check` keeps `pos + len` within the stream.
        let mut bytes = [0u8; MTTY_DATA_SIZE];
        let src = bytes.get_mut(..len).ok_or(ENOMEM)?;
        buf.read_slice(src)?;
        let written = inner.file.resume_commit(pos, src, nr_ports);
        inner.pos = written.new_pos;
        Ok(written.ret?)
    }
}

#[vtable]
impl Driver for Mtty {
    const NAME: &'static CStr = c"vfio-mtty";
    const BINDING: Binding = Binding::Emulated;
    const MIGRATION_FLAGS: u32 = mtty_mig::MIGRATION_FLAGS;

    fn open_device(_dev: &Device<Self>, _set: &SetHeld<'_>) -> Result {
        Ok(())
    }

    /// `mtty_close`.
    fn close_device(dev: &Device<Self>, _set: &SetHeld<'_>) {
        let m = dev.data();
        let mut mig = m.mig.lock();
        Self::disable_files(&mut mig);
        m.state_unlock(mig);
        let mut ops = m.ops.lock();
        ops.irq.disable_intx();
        ops.irq.disable_msi();
    }

    /// `mtty_read`.
    fn read(dev: &Device<Self>, mut buf: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        let mut done = 0;
        while !buf.is_empty() {
            let n = chunk_len(*pos as u64, buf.len());
            let mut val = [0u8; 4];
            dev.data()
                .access(*pos as u64, &mut val[..n], false)
                .map_err(|_| EFAULT)?;
            buf.write_slice(&val[..n]).map_err(|_| EFAULT)?;
            done += n;
            *pos += n as i64;
        }
        Ok(done)
    }

    /// `mtty_write`.
    fn write(dev: &Device<Self>, mut buf: UserSliceReader, pos: &mut i64) -> Result<usize> {
        let mut done = 0;
        while !buf.is_empty() {
            let n = chunk_len(*pos as u64, buf.len());
            let mut val = [0u8; 4];
            buf.read_slice(&mut val[..n]).map_err(|_| EFAULT)?;
            dev.data()
                .access(*pos as u64, &mut val[..n], true)
                .map_err(|_| EFAULT)?;
            done += n;
            *pos += n as i64;
        }
        Ok(done)
    }

    /// `mtty_ioctl`.
    fn ioctl(dev: &Device<Self>, cmd: u32, arg: usize) -> Result<isize> {
        let m = dev.data();
        match cmd {
            uapi::VFIO_DEVICE_GET_INFO => m.ioctl_get_info(arg),
            uapi::VFIO_DEVICE_GET_IRQ_INFO => m.ioctl_get_irq_info(arg),
            uapi::VFIO_DEVICE_SET_IRQS => m.ioctl_set_irqs(arg),
            uapi::VFIO_DEVICE_RESET => m.reset(),
            _ => Err(ENOTTY),
        }
    }

    /// `mtty_ioctl_get_region_info`.
    fn get_region_info_caps(
        dev: &Device<Self>,
        info: &mut bindings::vfio_region_info,
        _caps: &mut RegionInfoCaps<'_>,
    ) -> Result {
        if info.index >= NUM_REGIONS {
            return Err(EINVAL);
        }
        let r = dev.data().ops.lock().dev.region_info(info.index)?;
        info.size = r.size;
        info.offset = r.offset;
        info.flags = r.flags;
        Ok(())
    }

    /// `mtty_set_state`.
    fn migration_set_state(dev: &Device<Self>, new: MigState) -> Result<Option<ARef<File>>> {
        let m = dev.data();
        let mut mig = m.mig.lock();
        let mut ret = Ok(None);
        while mig.state != new {
            let next = match dev.mig_get_next_state(mig.state, new) {
                Ok(next) => next,
                Err(e) => {
                    ret = Err(e);
                    break;
                }
            };
            match m.step_state(dev, &mut mig, next) {
                Err(e) => {
                    ret = Err(e);
                    break;
                }
                Ok(file) => {
                    mig.state = next;
                    // Only the last arc may return a file (upstream WARNs otherwise).
                    if file.is_some() && next != new {
                        ret = Err(EINVAL);
                        break;
                    }
                    ret = Ok(file);
                }
            }
        }
        m.state_unlock(mig);
        ret
    }

    /// `mtty_get_state`.
    fn migration_get_state(dev: &Device<Self>) -> Result<MigState> {
        let m = dev.data();
        let mig = m.mig.lock();
        let state = mig.state;
        m.state_unlock(mig);
        Ok(state)
    }

    /// `mtty_get_data_size`.
    fn migration_get_data_size(dev: &Device<Self>) -> Result<usize> {
        Ok(data_size(dev.data().nr_ports))
    }

    /// `mtty_log_start`: mtty does no DMA.
    fn log_start(
        _dev: &Device<Self>,
        _ranges: &mut IntervalTreeCursor<'_>,
        _nnodes: u32,
        _page_size: &mut u64,
    ) -> Result {
        Ok(())
    }

    /// `mtty_log_stop`.
    fn log_stop(_dev: &Device<Self>) -> Result {
        Ok(())
    }

    /// `mtty_log_read_and_clear`: nothing is ever dirty.
    fn log_read_and_clear(
        _dev: &Device<Self>,
        _iova: u64,
        _length: u64,
        _dirty: &DirtyBitmap<'_>,
    ) -> Result {
        Ok(())
    }
}

/// `vendor/sample_mdev_dev` of each mdev.
struct SampleMdevDev;

impl DeviceAttrShow for SampleMdevDev {
    fn show(dev: &BaseDevice, buf: &mut ShowBuf) -> isize {
        let name = dev.name().to_str().unwrap_or("");
        buf.emit(format_args!("This is MDEV {name}\n"))
    }
}

static DEV_ATTR_SAMPLE_MDEV_DEV: DeviceAttribute =
    DeviceAttribute::read_only::<SampleMdevDev>(c"sample_mdev_dev");
static MDEV_DEV_ATTRS: AttributeList<2> =
    AttributeList::new([DEV_ATTR_SAMPLE_MDEV_DEV.attr(), null()]);
static MDEV_DEV_GROUP: AttributeGroup = AttributeGroup::named(c"vendor", &MDEV_DEV_ATTRS);
static MDEV_DEV_GROUPS: GroupList<2> = GroupList::new([MDEV_DEV_GROUP.as_ptr(), null()]);

/// An mdev type's port count (`struct mtty_type`).
struct MttyType {
    nr_ports: u32,
}

/// The mdev driver (`mtty_driver`).
struct MttyDriver;

#[vtable]
impl MdevDriver for MttyDriver {
    const NAME: &'static CStr = c"mtty";
    const DEVICE_API: &'static CStr = c"vfio-pci";
    const DEV_GROUPS: Option<kernel_ext::sysfs::Groups> = Some(MDEV_DEV_GROUPS.groups());
    type TypeData = MttyType;
    type Data = Registration<Mtty>;

    /// `mtty_probe`.
    fn probe(dev: &BaseDevice<Bound>, mtype: &MttyType) -> Result<Registration<Mtty>> {
        let ports = PortClaim::claim(mtype.nr_ports)?;
        Registration::new_emulated(dev, Mtty::new(ports), DevSet::Own)
    }

    /// `mtty_get_available`.
    fn get_available(mtype: &MttyType) -> u32 {
        available_instances(AVAIL_PORTS.load(Ordering::Relaxed), mtype.nr_ports)
    }
}

/// The module: the parent device and its types, the driver, the class, and the (unused)
/// character device region upstream allocates. Fields drop in order: parent first.
struct MttyModule {
    _parent: ParentRegistration<MttyDriver>,
    _dev: ClassDevice,
    _driver: Arc<DriverRegistration<MttyDriver>>,
    _class: Arc<NamedClass>,
    _chrdev: ChrdevRegion,
}

impl kernel::Module for MttyModule {
    /// `mtty_dev_init`.
    fn init(module: &'static ThisModule) -> Result<Self> {
        let chrdev = ChrdevRegion::alloc(ALL_MINORS, c"mtty")?;
        let driver = Arc::pin_init(DriverRegistration::new(module), GFP_KERNEL)?;
        let class = Arc::pin_init(NamedClass::register(c"mtty"), GFP_KERNEL)?;
        let dev = ClassDevice::new(class.clone(), c"mtty")?;
        let parent = ParentRegistration::new(
            dev.device(),
            &driver,
            [
                TypeSpec {
                    sysfs_name: c"1",
                    pretty_name: c"Single port serial",
                    data: MttyType { nr_ports: 1 },
                },
                TypeSpec {
                    sysfs_name: c"2",
                    pretty_name: c"Dual port serial",
                    data: MttyType { nr_ports: 2 },
                },
            ],
        )?;
        Ok(Self {
            _parent: parent,
            _dev: dev,
            _driver: driver,
            _class: class,
            _chrdev: chrdev,
        })
    }
}
