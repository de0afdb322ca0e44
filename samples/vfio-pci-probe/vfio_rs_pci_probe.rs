// SPDX-License-Identifier: GPL-2.0

//! A test driver for the PCI driver abstraction (`kernel_ext::pci`): `vfio-rs-pci-probe`,
//! matching only through `driver_override` (vfio-pci's id table,
//! `PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)`), or the edu device (1234:11e8)
//! by a dynamic id with `dynid=1` (`pci_add_dynid`).
//!
//! Its probe reads the vendor and device ids with `pci_user_read_config_word`, enables the
//! device, maps every BAR (memory and I/O ports), then installs its data as drvdata and checks
//! that C's `dev_get_drvdata()` returns it, before returning (as vfio-pci's probe needs); it
//! reads BAR0's first dword and, on devices it knows, checks accesses of each width: on the
//! edu, 4-byte write/read of its liveness register and 8-byte write/read of its DMA source
//! register; on an Intel NIC's I/O BAR (the igb), the IOADDR/IODATA window (1-, 2- and 4-byte
//! port accesses) against the same register read through BAR0. It also toggles INTx
//! disable, saves, changes and restores config space (`pci_save_state`,
//! `pci_store_saved_state`, `pci_restore_state`, `pci_load_and_free_saved_state`), and counts
//! the error handlers' `reset_prepare`/`reset_done` around a reset through sysfs. Remove
//! checks drvdata again. With `fail_probe=1`, probe fails after installing its data, which
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
    IntxExt,
    IoMap,
    PowerState,
    Registration,
    UserConfigRead,
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
/// Intel: its NICs' I/O BAR is an IOADDR (offset 0) / IODATA (offset 4) window on BAR0.
const INTEL_VENDOR: u16 = 0x8086;
/// The register read through the window and directly: the NIC's STATUS.
const NIC_STATUS: u32 = 8;

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
    /// The BARs mapped, and those of them that are I/O ports (bit `n`: BAR `n`).
    bars: AtomicU32,
    io_bars: AtomicU32,
    /// edu: 4-byte write and read (liveness register), 8-byte write and read (DMA source).
    rw32: AtomicU32,
    rw64: AtomicU32,
    /// Intel NIC: STATUS through the I/O window equals STATUS through BAR0.
    io_window: AtomicU32,
    /// `pci_intx` off/on seen in `PCI_COMMAND`, and no INTx pending to mask.
    intx: AtomicU32,
    /// A config change undone by `pci_restore_state`, twice (saved, then stored and loaded).
    state: AtomicU32,
    /// `pci_set_power_state(D0)`.
    power: AtomicU32,
    /// `pci_probe_reset_slot`/`_bus` results (0 or -errno): informational.
    reset_slot: AtomicI32,
    reset_bus: AtomicI32,
    /// `pci_try_reset_function` from probe: `-EAGAIN` (probe holds the device lock) on a
    /// resettable device, `-ENOTTY` on one without a reset method.
    try_reset: AtomicI32,
    /// `reset_prepare`/`reset_done` calls, and drvdata as C sees it in them.
    reset_prepares: AtomicU32,
    reset_dones: AtomicU32,
    reset_drvdata: AtomicU32,
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
    bars: AtomicU32::new(0),
    io_bars: AtomicU32::new(0),
    rw32: AtomicU32::new(UNCHECKED),
    rw64: AtomicU32::new(UNCHECKED),
    io_window: AtomicU32::new(UNCHECKED),
    intx: AtomicU32::new(UNCHECKED),
    state: AtomicU32::new(UNCHECKED),
    power: AtomicU32::new(UNCHECKED),
    reset_slot: AtomicI32::new(0),
    reset_bus: AtomicI32::new(0),
    try_reset: AtomicI32::new(0),
    reset_prepares: AtomicU32::new(0),
    reset_dones: AtomicU32::new(0),
    reset_drvdata: AtomicU32::new(UNCHECKED),
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
             vendor={:#06x} device={:#06x} command={:#06x} bar0={:#010x} bars={:#x} io_bars={:#x} \
             rw32={} rw64={} io_window={} intx={} state={} power={} reset_slot={} reset_bus={} \
             try_reset={} reset_prepares={} reset_dones={} reset_drvdata={} error={}",
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
            self.bars.load(Ordering::Relaxed),
            self.io_bars.load(Ordering::Relaxed),
            check(&self.rw32),
            check(&self.rw64),
            check(&self.io_window),
            check(&self.intx),
            check(&self.state),
            check(&self.power),
            self.reset_slot.load(Ordering::Relaxed),
            self.reset_bus.load(Ordering::Relaxed),
            self.try_reset.load(Ordering::Relaxed),
            self.reset_prepares.load(Ordering::Relaxed),
            self.reset_dones.load(Ordering::Relaxed),
            check(&self.reset_drvdata),
            self.error.load(Ordering::Relaxed),
        )
    }
}

/// The driver data of a bound device: what must be undone at unbind, in drop order.
struct ProbeData {
    /// Every BAR, in index order.
    bars: KVec<IoMap>,
    _enabled: Enabled,
}

impl ProbeData {
    fn bar(&self, bar: u32) -> Option<&IoMap> {
        self.bars.iter().find(|m| m.bar() == bar)
    }
}

/// A check's report value.
fn outcome(ok: bool) -> u32 {
    if ok {
        OK
    } else {
        BAD
    }
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
        Self::check_ops(dev)?;
        let mut bars = KVec::new();
        for bar in 0..6 {
            // BARs not implemented (or the upper half of a 64-bit one) have no resource.
            if dev.resource_len(bar)? == 0 {
                continue;
            }
            let map = IoMap::new(dev, bar, c"vfio-rs-pci-probe")?;
            REPORT.bars.fetch_or(1 << bar, Ordering::Relaxed);
            if map.is_io() {
                REPORT.io_bars.fetch_or(1 << bar, Ordering::Relaxed);
            }
            bars.push(map, GFP_KERNEL)?;
        }
        Ok(KBox::new(
            ProbeData {
                bars,
                _enabled: enabled,
            },
            GFP_KERNEL,
        )?)
    }

    /// INTx masking, saved state, power state and reset probes, on any device.
    fn check_ops(dev: &pci::Device<Core<'_>>) -> Result {
        const COMMAND: u32 = 4;
        const INTX_DISABLE: u16 = 1 << 10;
        const INTERRUPT_LINE: u32 = 0x3c;

        dev.intx(false);
        let off = dev.user_read_config_word(COMMAND)? & INTX_DISABLE != 0;
        dev.intx(true);
        let on = dev.user_read_config_word(COMMAND)? & INTX_DISABLE == 0;
        // Nothing asserts INTx: nothing to mask, and unmasking succeeds.
        let ok = off && on && !dev.check_and_mask_intx() && dev.check_and_unmask_intx();
        REPORT.intx.store(outcome(ok), Ordering::Relaxed);

        let line = dev.user_read_config_byte(INTERRUPT_LINE)?;
        dev.save_state()?;
        let stored = dev.store_saved_state()?;
        dev.user_write_config_byte(INTERRUPT_LINE, !line)?;
        let changed = dev.user_read_config_byte(INTERRUPT_LINE)? == !line;
        dev.restore_state();
        let restored = dev.user_read_config_byte(INTERRUPT_LINE)? == line;
        dev.user_write_config_byte(INTERRUPT_LINE, !line)?;
        dev.load_saved_state(&stored)?;
        dev.restore_state();
        let reloaded = dev.user_read_config_byte(INTERRUPT_LINE)? == line;
        dev.load_and_free_saved_state(stored)?;
        REPORT
            .state
            .store(outcome(changed && restored && reloaded), Ordering::Relaxed);

        let power = dev.set_power_state(PowerState::D0);
        REPORT
            .power
            .store(outcome(power.is_ok()), Ordering::Relaxed);
        let errno = |r: Result| r.err().map_or(0, |e| e.to_errno());
        REPORT
            .reset_slot
            .store(errno(dev.probe_reset_slot()), Ordering::Relaxed);
        REPORT
            .reset_bus
            .store(errno(dev.probe_reset_bus()), Ordering::Relaxed);
        REPORT
            .try_reset
            .store(errno(dev.try_reset_function()), Ordering::Relaxed);
        Ok(())
    }

    /// Counts a reset callback and checks drvdata in it.
    fn reset_seen(dev: &pci::Device<Bound>, data: &ProbeData, count: &AtomicU32) {
        count.fetch_add(1, Ordering::Relaxed);
        let same = core::ptr::eq(dev.drvdata_ptr(), core::ptr::from_ref(data).cast());
        if REPORT.reset_drvdata.load(Ordering::Relaxed) != BAD {
            REPORT.reset_drvdata.store(outcome(same), Ordering::Relaxed);
        }
    }

    /// The access checks of the devices the driver knows.
    fn check_access(vendor: u16, device: u16, data: &ProbeData) -> Result {
        let Some(bar0) = data.bar(0) else {
            return Ok(());
        };
        REPORT.bar0.store(bar0.read32(0)?, Ordering::Relaxed);
        if u32::from(vendor) == EDU_VENDOR && u32::from(device) == EDU_DEVICE {
            // The liveness register reads back the complement of what was written.
            bar0.write32(0x1234_5678, 4)?;
            let ok = bar0.read32(4)? == !0x1234_5678;
            REPORT.rw32.store(outcome(ok), Ordering::Relaxed);
            // The DMA source address is a plain 64-bit register while no DMA runs.
            let pattern = 0x1122_3344_5566_7788;
            bar0.write64(pattern, 0x80)?;
            let ok = bar0.read64(0x80)? == pattern;
            bar0.write64(0, 0x80)?;
            REPORT.rw64.store(outcome(ok), Ordering::Relaxed);
        }
        if vendor == INTEL_VENDOR {
            if let Some(io) = data.bars.iter().find(|m| m.is_io() && m.size() >= 8) {
                io.write32(NIC_STATUS, 0)?;
                let ok = io.read8(0)? == 8
                    && io.read16(0)? == 8
                    && io.read32(4)? == bar0.read32(NIC_STATUS as usize)?;
                REPORT.io_window.store(outcome(ok), Ordering::Relaxed);
            }
        }
        Ok(())
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
        Self::check_access(dev.vendor_id().as_raw(), dev.device_id(), data)?;
        dev_info!(
            dev.as_ref(),
            "probe: {:04x}:{:04x} drvdata {} bars={:#x} (io {:#x}) bar0[0]={:#010x}\n",
            REPORT.vendor.load(Ordering::Relaxed),
            REPORT.device.load(Ordering::Relaxed),
            if same { "installed" } else { "MISMATCH" },
            REPORT.bars.load(Ordering::Relaxed),
            REPORT.io_bars.load(Ordering::Relaxed),
            REPORT.bar0.load(Ordering::Relaxed),
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

    fn reset_prepare(dev: &pci::Device<Bound>, data: &ProbeData) {
        Self::reset_seen(dev, data, &REPORT.reset_prepares);
    }

    fn reset_done(dev: &pci::Device<Bound>, data: &ProbeData) {
        Self::reset_seen(dev, data, &REPORT.reset_dones);
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
