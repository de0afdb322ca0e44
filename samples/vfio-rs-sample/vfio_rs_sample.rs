// SPDX-License-Identifier: GPL-2.0

//! A test driver for the VFIO core's device sets: `NDEVS` emulated-IOMMU devices (each under its
//! own faux parent `vfio-rs-sample.N`, so each gets its own group) registered in one device set.
//!
//! It counts what the core does to them and shows it in debugfs, `vfio-rs-sample/devN`:
//! `opens`/`closes` (calls of `open_device`/`close_device`), `bad` (an open of an open device or
//! a close of a closed one: first-open/last-close broken), `set_open` (the set's open count seen
//! by the last call); and `vfio-rs-sample/set`: `overlaps` (two callbacks of the set running at
//! once: the set's mutex not held). Written only against the C ABI, so it runs on our core and
//! on upstream's.

#[path = "../../rust/kabi.rs"]
mod kabi;

use core::{
    fmt,
    sync::atomic::{
        AtomicBool,
        AtomicU32,
        Ordering, //
    }, //
};
use kabi::vfio::driver::{
    Device,
    Driver,
    Registration,
    SetHeld,
    SetKey, //
};
use kernel::{
    debugfs,
    device::{
        Bound,
        Device as BaseDevice, //
    },
    faux,
    prelude::*,
    str::CString,
    sync::Arc,
    time::{
        delay::fsleep,
        Delta, //
    },
};

module! {
    type: SampleModule,
    name: "vfio_rs_sample",
    authors: ["vfio-rs developers"],
    description: "Emulated VFIO devices sharing a device set, counting open/close",
    license: "GPL v2",
    // The shared kabi layer links iommufd helpers (unused here) into every module.
    imports_ns: ["IOMMUFD", "IOMMUFD_VFIO"],
}

/// Devices the module creates.
const NDEVS: usize = 3;

/// The one device set all devices share.
static SET_KEY: SetKey = SetKey::new();

/// What the core did to one device.
#[derive(Default)]
struct DevStats {
    opens: AtomicU32,
    closes: AtomicU32,
    bad: AtomicU32,
    set_open: AtomicU32,
    is_open: AtomicBool,
}

impl fmt::Debug for DevStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "opens={} closes={} bad={} set_open={}",
            self.opens.load(Ordering::Relaxed),
            self.closes.load(Ordering::Relaxed),
            self.bad.load(Ordering::Relaxed),
            self.set_open.load(Ordering::Relaxed)
        )
    }
}

/// Set-wide: callbacks running now, and how often two ran at once.
#[derive(Default)]
struct SetStats {
    running: AtomicU32,
    overlaps: AtomicU32,
}

impl fmt::Debug for SetStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "overlaps={}", self.overlaps.load(Ordering::Relaxed))
    }
}

impl SetStats {
    /// Runs `f` as one callback of the set, noting overlaps; the sleep widens the window a
    /// missing lock would leave open.
    fn callback(&self, f: impl FnOnce()) {
        if self.running.fetch_add(1, Ordering::AcqRel) != 0 {
            self.overlaps.fetch_add(1, Ordering::Relaxed);
        }
        f();
        fsleep(Delta::from_micros(200));
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A sample device's data.
struct Sample {
    stats: Arc<DevStats>,
    set: Arc<SetStats>,
}

impl Driver for Sample {
    const NAME: &'static CStr = c"vfio-rs-sample";

    fn open_device(dev: &Device<Self>, set: &SetHeld<'_>) -> Result {
        let s = dev.data();
        s.set.callback(|| {
            s.stats.opens.fetch_add(1, Ordering::Relaxed);
            if s.stats.is_open.swap(true, Ordering::AcqRel) {
                s.stats.bad.fetch_add(1, Ordering::Relaxed);
            }
            s.stats.set_open.store(set.open_count(), Ordering::Relaxed);
        });
        Ok(())
    }

    fn close_device(dev: &Device<Self>, set: &SetHeld<'_>) {
        let s = dev.data();
        s.set.callback(|| {
            s.stats.closes.fetch_add(1, Ordering::Relaxed);
            if !s.stats.is_open.swap(false, Ordering::AcqRel) {
                s.stats.bad.fetch_add(1, Ordering::Relaxed);
            }
            s.stats.set_open.store(set.open_count(), Ordering::Relaxed);
        });
    }
}

/// One device: its VFIO registration (dropped first), its debugfs file and its parent.
struct SampleDev {
    _vfio: Registration<Sample>,
    _file: Pin<KBox<debugfs::File<Arc<DevStats>>>>,
    _parent: faux::Registration,
}

struct SampleModule {
    devs: KVec<SampleDev>,
    _set_file: Pin<KBox<debugfs::File<Arc<SetStats>>>>,
    _dir: debugfs::Dir,
}

impl kernel::Module for SampleModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dir = debugfs::Dir::new(c"vfio-rs-sample");
        let set = Arc::new(SetStats::default(), GFP_KERNEL)?;
        let set_file = KBox::pin_init(dir.read_only_file(c"set", set.clone()), GFP_KERNEL)?;
        let mut devs = KVec::with_capacity(NDEVS, GFP_KERNEL)?;
        for i in 0..NDEVS {
            let name = CString::try_from_fmt(fmt!("vfio-rs-sample.{i}"))?;
            let file_name = CString::try_from_fmt(fmt!("dev{i}"))?;
            let parent = faux::Registration::new(&name, None)?;
            let stats = Arc::new(DevStats::default(), GFP_KERNEL)?;
            let file = KBox::pin_init(dir.read_only_file(&file_name, stats.clone()), GFP_KERNEL)?;
            let data = Sample {
                stats,
                set: set.clone(),
            };
            let base: &BaseDevice<Bound> = parent.as_ref().as_ref();
            let vfio = Registration::new_emulated(base, data, &SET_KEY)?;
            devs.push(
                SampleDev {
                    _vfio: vfio,
                    _file: file,
                    _parent: parent,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Self {
            devs,
            _set_file: set_file,
            _dir: dir,
        })
    }
}

impl Drop for SampleModule {
    fn drop(&mut self) {
        // Newest first, as they were registered in order.
        while self.devs.pop().is_some() {}
    }
}
