// SPDX-License-Identifier: GPL-2.0

//! A test driver for the PCI driver abstraction (`kernel_ext::pci`): `vfio-rs-pci-probe`,
//! matching only through `driver_override` (vfio-pci's id table,
//! `PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)`), or the edu device (1234:11e8)
//! by a dynamic id with `dynid=1` (`pci_add_dynid`).
//!
//! Its probe reads the vendor and device ids with `pci_user_read_config_word`, enables the
//! device, maps BAR0 and reads its first dword, then installs its data as drvdata and checks
//! that C's `dev_get_drvdata()` returns it, before returning (as vfio-pci's probe needs);
//! remove checks it again. With `fail_probe=1`, probe fails after installing its data, which
//! the abstraction must drop. Everything is counted in debugfs, `vfio-rs-pci-probe/report`
//! (`tools/testing/selftests/vfio/vfio_pci_probe_test.c` reads it), and logged.

use vfio_rs_kernel_ext as kernel_ext;

use core::{
    fmt,
    sync::atomic::{
        AtomicI32,
        AtomicU32,
        Ordering, //
    },
};
use kernel::{
    debugfs,
    device::{
        Bound,
        Core, //
    },
    device_id::IdArray,
    pci,
    prelude::*,
};
use kernel_ext::pci::{
    ChannelState,
    DataRef,
    DeviceExt,
    DeviceId,
    Driver,
    DrvDataSlot,
    Enabled,
    ErsResult,
    Installed,
    IoMap,
    Registration,
    ANY_ID, //
};

module! {
    type: ProbeModule,
    name: "vfio_rs_pci_probe",
    authors: ["vfio-rs developers"],
    description: "driver_override-only PCI driver testing vfio-rs's PCI driver abstraction",
    license: "GPL v2",
    params: {
        dynid: bool {
            default: false,
            description: "Also match the edu device (1234:11e8) by a dynamic id",
        },
        fail_probe: bool {
            default: false,
            description: "Fail probe after installing drvdata",
        },
    },
}

/// The edu device's ids.
const EDU_VENDOR: u32 = 0x1234;
const EDU_DEVICE: u32 = 0x11e8;

/// vfio-pci's id table, without its `MODULE_DEVICE_TABLE`: the `vfio_pci:v*d*sv*sd*bc*sc*i*`
/// alias modpost would give the module (as `pci_device_table!` does for vfio-pci) is vfio-pci's.
static PROBE_TABLE: IdArray<DeviceId, (), 1> =
    IdArray::new_without_index([DeviceId::vfio_override(ANY_ID, ANY_ID)]);

/// A check's outcome in the report: not made yet, passed, failed.
const UNCHECKED: u32 = 0;
const OK: u32 = 1;
const BAD: u32 = 2;

/// What the driver saw, for the test to read.
struct Report {
    probes: AtomicU32,
    removes: AtomicU32,
    /// [`ProbeData`] drops: one per successful probe's remove, and one per failed probe.
    drops: AtomicU32,
    /// drvdata as C sees it, compared with the data installed, in probe and in remove.
    probe_drvdata: AtomicU32,
    remove_drvdata: AtomicU32,
    /// The matched id's `override_only` (1: the table's driver_override entry; 0: dynamic).
    override_only: AtomicU32,
    vendor: AtomicU32,
    device: AtomicU32,
    /// `PCI_COMMAND` after enabling, and BAR0's first dword.
    command: AtomicU32,
    bar0: AtomicU32,
    /// 1: BAR0 is I/O ports.
    bar0_io: AtomicU32,
    /// The last probe error (0: none).
    error: AtomicI32,
}

static REPORT: Report = Report {
    probes: AtomicU32::new(0),
    removes: AtomicU32::new(0),
    drops: AtomicU32::new(0),
    probe_drvdata: AtomicU32::new(UNCHECKED),
    remove_drvdata: AtomicU32::new(UNCHECKED),
    override_only: AtomicU32::new(0),
    vendor: AtomicU32::new(0),
    device: AtomicU32::new(0),
    command: AtomicU32::new(0),
    bar0: AtomicU32::new(0),
    bar0_io: AtomicU32::new(0),
    error: AtomicI32::new(0),
};

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = |a: &AtomicU32| match a.load(Ordering::Relaxed) {
            OK => "ok",
            BAD => "bad",
            _ => "none",
        };
        writeln!(
            f,
            "probes={} removes={} drops={} probe_drvdata={} remove_drvdata={} override_only={} \
             vendor={:#06x} device={:#06x} command={:#06x} bar0={:#010x} bar0_io={} error={}",
            self.probes.load(Ordering::Relaxed),
            self.removes.load(Ordering::Relaxed),
            self.drops.load(Ordering::Relaxed),
            check(&self.probe_drvdata),
            check(&self.remove_drvdata),
            self.override_only.load(Ordering::Relaxed),
            self.vendor.load(Ordering::Relaxed),
            self.device.load(Ordering::Relaxed),
            self.command.load(Ordering::Relaxed),
            self.bar0.load(Ordering::Relaxed),
            self.bar0_io.load(Ordering::Relaxed),
            self.error.load(Ordering::Relaxed),
        )
    }
}

/// The driver data of a bound device: what must be undone at unbind, in drop order.
struct ProbeData {
    bar0: IoMap,
    _enabled: Enabled,
}

impl Drop for ProbeData {
    fn drop(&mut self) {
        REPORT.drops.fetch_add(1, Ordering::Relaxed);
    }
}

struct ProbeDriver;

impl ProbeDriver {
    /// The checks of `probe` up to installing the data, which they return.
    fn setup(dev: &pci::Device<Core<'_>>, id: &DeviceId) -> Result<KBox<ProbeData>> {
        REPORT
            .override_only
            .store(id.override_only(), Ordering::Relaxed);
        let vendor = dev.user_read_config_word(0)?;
        let device = dev.user_read_config_word(2)?;
        REPORT.vendor.store(vendor.into(), Ordering::Relaxed);
        REPORT.device.store(device.into(), Ordering::Relaxed);
        let enabled = dev.enable()?;
        let command = dev.user_read_config_word(4)?;
        REPORT.command.store(command.into(), Ordering::Relaxed);
        let bar0 = IoMap::new(dev, 0, c"vfio-rs-pci-probe")?;
        REPORT
            .bar0_io
            .store(u32::from(bar0.is_io()), Ordering::Relaxed);
        Ok(KBox::new(
            ProbeData {
                bar0,
                _enabled: enabled,
            },
            GFP_KERNEL,
        )?)
    }
}

#[vtable]
impl Driver for ProbeDriver {
    const NAME: &'static CStr = c"vfio-rs-pci-probe";
    const ID_TABLE: kernel_ext::pci::IdTable = &PROBE_TABLE;
    const DRIVER_MANAGED_DMA: bool = true;
    type Data = KBox<ProbeData>;

    fn probe<'a>(
        dev: &'a pci::Device<Core<'_>>,
        id: &DeviceId,
        drvdata: DrvDataSlot<'a, Self::Data>,
    ) -> Result<Installed<'a, Self::Data>> {
        REPORT.probes.fetch_add(1, Ordering::Relaxed);
        let data = Self::setup(dev, id).inspect_err(|e| {
            REPORT.error.store(e.to_errno(), Ordering::Relaxed);
        })?;
        let installed = drvdata.set(data);
        // What C code called from here on (vfio_pci_core_register_device) would see.
        let data: &ProbeData = installed.borrow();
        let same = core::ptr::eq(dev.drvdata_ptr(), core::ptr::from_ref(data).cast());
        REPORT
            .probe_drvdata
            .store(if same { OK } else { BAD }, Ordering::Relaxed);
        let bar0 = data.bar0.read32(0)?;
        REPORT.bar0.store(bar0, Ordering::Relaxed);
        dev_info!(
            dev.as_ref(),
            "probe: {:04x}:{:04x} drvdata {} bar0[0]={:#010x}\n",
            REPORT.vendor.load(Ordering::Relaxed),
            REPORT.device.load(Ordering::Relaxed),
            if same { "installed" } else { "MISMATCH" },
            bar0
        );
        if module_parameters::fail_probe.value() {
            REPORT.error.store(EBUSY.to_errno(), Ordering::Relaxed);
            return Err(EBUSY);
        }
        Ok(installed)
    }

    fn remove(dev: &pci::Device<Core<'_>>, data: DataRef<'_, Self>) {
        REPORT.removes.fetch_add(1, Ordering::Relaxed);
        let same = core::ptr::eq(dev.drvdata_ptr(), core::ptr::from_ref(data).cast());
        REPORT
            .remove_drvdata
            .store(if same { OK } else { BAD }, Ordering::Relaxed);
        dev_info!(
            dev.as_ref(),
            "remove: drvdata {}\n",
            if same { "intact" } else { "MISMATCH" }
        );
    }

    fn sriov_configure(_dev: &pci::Device<Bound>, _data: &ProbeData, _num_vfs: i32) -> Result<i32> {
        Err(ENODEV)
    }

    fn error_detected(
        _dev: &pci::Device<Bound>,
        _data: &ProbeData,
        state: ChannelState,
    ) -> ErsResult {
        match state {
            ChannelState::Normal => ErsResult::CanRecover,
            _ => ErsResult::Disconnect,
        }
    }
}

struct ProbeModule {
    // Dropped first: unbinding reports to the debugfs file, which goes after it.
    _driver: Pin<KBox<Registration<ProbeDriver>>>,
    _file: Pin<KBox<debugfs::File<&'static Report>>>,
    _dir: debugfs::Dir,
}

impl kernel::Module for ProbeModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dir = debugfs::Dir::new(c"vfio-rs-pci-probe");
        let file = KBox::pin_init(dir.read_only_file(c"report", &REPORT), GFP_KERNEL)?;
        let driver = KBox::pin_init(Registration::<ProbeDriver>::new(), GFP_KERNEL)?;
        if module_parameters::dynid.value() {
            driver.add_dynid(&DeviceId::new(EDU_VENDOR, EDU_DEVICE))?;
        }
        Ok(Self {
            _driver: driver,
            _file: file,
            _dir: dir,
        })
    }
}
