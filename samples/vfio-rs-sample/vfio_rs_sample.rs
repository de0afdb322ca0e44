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
//!
//! A private device ioctl, [`SAMPLE_DMA`], lets a test drive the core's CPU-DMA exports:
//! `vfio_dma_rw` in both directions and `vfio_pin_pages`, whose pin the driver keeps until the
//! core asks for it back through `dma_unmap` (counted as `dma_unmaps`).
//!
//! It also exercises the rest of the driver API (`kernel_ext::vfio::driver`) so a test can see
//! each op reach the driver on either core: region 0 is a [`SCRATCH_SIZE`]-byte read/write
//! scratch buffer (`read`/`write`, `get_region_info_caps` with a `VFIO_REGION_INFO_CAP_TYPE`
//! capability), the device also answers to `vfio-rs-sample-alias.N` (`match`), implements one
//! private feature [`SAMPLE_FEATURE`] (`device_feature`), and counts the core's requests to
//! release it during unregistration (`request`, `requests` in debugfs).

use vfio_rs_kernel_ext as kernel_ext;

use core::{
    fmt,
    sync::atomic::{
        AtomicBool,
        AtomicU32,
        AtomicU64,
        Ordering, //
    }, //
};
use kernel::{
    debugfs,
    device::{
        Bound,
        Device as BaseDevice, //
    },
    faux, new_mutex,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceReader,
        UserSliceWriter, //
    },
};
use kernel_ext::{
    bindings,
    uapi,
    vfio::driver::{
        check_feature,
        Binding,
        DevSet,
        Device,
        Driver,
        RegionInfoCaps,
        Registration,
        SetHeld,
        SetKey, //
    }, //
};

module! {
    type: SampleModule,
    name: "vfio_rs_sample",
    authors: ["vfio-rs developers"],
    description: "Emulated VFIO devices sharing a device set, counting open/close",
    license: "GPL v2",
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
    dma_unmaps: AtomicU32,
    /// The range pinned through [`SAMPLE_DMA`] (`npage` 0: none).
    pinned_iova: AtomicU64,
    pinned_npage: AtomicU64,
    /// The core's `request` calls (the last count it passed).
    requests: AtomicU32,
}

impl fmt::Debug for DevStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "opens={} closes={} bad={} set_open={} dma_unmaps={} requests={}",
            self.opens.load(Ordering::Relaxed),
            self.closes.load(Ordering::Relaxed),
            self.bad.load(Ordering::Relaxed),
            self.set_open.load(Ordering::Relaxed),
            self.dma_unmaps.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed)
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

/// `_IO(VFIO_TYPE, VFIO_BASE + 60)`: the sample's DMA ioctl, argument
/// `struct { u32 argsz; u32 op; u64 iova; u64 len; u64 buf; }`.
const SAMPLE_DMA: u32 = (b';' as u32) << 8 | 160;
/// Its argument's size.
const SAMPLE_DMA_SIZE: usize = 32;
const _: () = assert!(SAMPLE_DMA_SIZE == 2 * size_of::<u32>() + 3 * size_of::<u64>());
/// Largest `vfio_dma_rw` the ioctl does at once.
const SAMPLE_DMA_MAX: usize = 1 << 16;

/// Bytes of region 0, the scratch buffer.
const SCRATCH_SIZE: usize = 64;
/// `VFIO_REGION_INFO_CAP_TYPE` payload of region 0: a vendor type (bit 31, the PCI vendor ID
/// the kernel samples use) and a subtype.
const SCRATCH_TYPE: (u32, u32) = (0x8000_0000 | 0x1b36, 1);
/// Where region `index` starts in the device fd (the layout vfio-pci made the convention).
const fn region_offset(index: u64) -> u64 {
    index << 40
}
/// The private feature's index (`VFIO_DEVICE_FEATURE_GET`/`PROBE` only) and its value.
const SAMPLE_FEATURE: u32 = 0x7f00;
const SAMPLE_FEATURE_VALUE: u32 = 0x5a5a_1234;

/// What [`SAMPLE_DMA`] does.
enum DmaOp {
    /// `vfio_dma_rw` from IOVA into the user buffer.
    Read,
    /// `vfio_dma_rw` from the user buffer to IOVA.
    Write,
    /// `vfio_pin_pages` of `len` pages, kept until unpinned or unmapped.
    Pin,
    /// `vfio_unpin_pages` of what `Pin` took.
    Unpin,
}

/// A sample device's data.
#[pin_data]
struct Sample {
    index: usize,
    stats: Arc<DevStats>,
    set: Arc<SetStats>,
    #[pin]
    scratch: Mutex<[u8; SCRATCH_SIZE]>,
}

impl Sample {
    /// The part of the scratch buffer `[pos, pos + len)` covers, if it is in region 0.
    fn scratch_range(pos: i64, len: usize) -> Result<core::ops::Range<usize>> {
        let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
        if pos >= region_offset(1) {
            return Err(EINVAL);
        }
        let start = usize::try_from(pos).map_err(|_| EINVAL)?;
        if start >= SCRATCH_SIZE {
            return Err(EINVAL);
        }
        Ok(start..start + len.min(SCRATCH_SIZE - start))
    }

    /// [`SAMPLE_DMA`].
    fn dma(dev: &Device<Self>, arg: usize) -> Result<isize> {
        // The argument's fields in order, each copied as its type; all of them before any
        // check, so an unreadable argument is `EFAULT` whatever it holds.
        let mut a = UserSlice::new(UserPtr::from_addr(arg), SAMPLE_DMA_SIZE).reader();
        let argsz: u32 = a.read()?;
        let op: u32 = a.read()?;
        let iova: u64 = a.read()?;
        let len: u64 = a.read()?;
        let buf: u64 = a.read()?;
        if (argsz as usize) < SAMPLE_DMA_SIZE {
            return Err(EINVAL);
        }
        let op = match op {
            0 => DmaOp::Read,
            1 => DmaOp::Write,
            2 => DmaOp::Pin,
            3 => DmaOp::Unpin,
            _ => return Err(EINVAL),
        };
        let (len, buf) = (len as usize, buf as usize);
        let stats = &dev.data().stats;
        match op {
            DmaOp::Read | DmaOp::Write => {
                if len > SAMPLE_DMA_MAX {
                    return Err(EINVAL);
                }
                let mut data = KVec::from_elem(0u8, len, GFP_KERNEL)?;
                let user = UserSlice::new(UserPtr::from_addr(buf), len);
                if let DmaOp::Write = op {
                    user.reader().read_slice(&mut data)?;
                    dev.dma_rw(iova, &mut data, true)?;
                } else {
                    dev.dma_rw(iova, &mut data, false)?;
                    user.writer().write_slice(&data)?;
                }
            }
            DmaOp::Pin => {
                if stats.pinned_npage.load(Ordering::Acquire) != 0 {
                    return Err(EBUSY);
                }
                let n = dev.pin(iova, len, true)?;
                stats.pinned_iova.store(iova, Ordering::Release);
                stats.pinned_npage.store(n as u64, Ordering::Release);
                return Ok(n as isize);
            }
            DmaOp::Unpin => Self::unpin(dev),
        }
        Ok(0)
    }

    /// Drops the pin [`DmaOp::Pin`] took, if any.
    fn unpin(dev: &Device<Self>) {
        let stats = &dev.data().stats;
        let npage = stats.pinned_npage.swap(0, Ordering::AcqRel);
        if npage != 0 {
            dev.unpin(stats.pinned_iova.load(Ordering::Acquire), npage as usize);
        }
    }
}

#[vtable]
impl Driver for Sample {
    const NAME: &'static CStr = c"vfio-rs-sample";
    const BINDING: Binding = Binding::Emulated;

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
        // A pin must not outlive the open device.
        Self::unpin(dev);
        let s = dev.data();
        s.set.callback(|| {
            s.stats.closes.fetch_add(1, Ordering::Relaxed);
            if !s.stats.is_open.swap(false, Ordering::AcqRel) {
                s.stats.bad.fetch_add(1, Ordering::Relaxed);
            }
            s.stats.set_open.store(set.open_count(), Ordering::Relaxed);
        });
    }

    fn read(dev: &Device<Self>, mut buf: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        let range = Self::scratch_range(*pos, buf.len())?;
        let n = range.len();
        buf.write_slice(&dev.data().scratch.lock()[range])?;
        Ok(n)
    }

    fn write(dev: &Device<Self>, mut buf: UserSliceReader, pos: &mut i64) -> Result<usize> {
        let range = Self::scratch_range(*pos, buf.len())?;
        let n = range.len();
        buf.read_slice(&mut dev.data().scratch.lock()[range])?;
        Ok(n)
    }

    fn get_region_info_caps(
        _dev: &Device<Self>,
        info: &mut bindings::vfio_region_info,
        caps: &mut RegionInfoCaps<'_>,
    ) -> Result {
        if info.index != 0 {
            return Err(EINVAL);
        }
        info.offset = region_offset(0);
        info.size = SCRATCH_SIZE as u64;
        info.flags = uapi::VFIO_REGION_INFO_FLAG_READ | uapi::VFIO_REGION_INFO_FLAG_WRITE;
        let mut body = [0u8; 8];
        body[..4].copy_from_slice(&SCRATCH_TYPE.0.to_ne_bytes());
        body[4..].copy_from_slice(&SCRATCH_TYPE.1.to_ne_bytes());
        caps.add(uapi::VFIO_REGION_INFO_CAP_TYPE as u16, 1, &body)
    }

    fn request(dev: &Device<Self>, count: u32) {
        dev.data()
            .stats
            .requests
            .store(count + 1, Ordering::Relaxed);
    }

    fn match_name(dev: &Device<Self>, name: &CStr) -> Result<bool> {
        let alias = CString::try_from_fmt(fmt!("vfio-rs-sample-alias.{}", dev.data().index))?;
        let own = CString::try_from_fmt(fmt!("vfio-rs-sample.{}", dev.data().index))?;
        Ok(name.to_bytes() == alias.to_bytes() || name.to_bytes() == own.to_bytes())
    }

    fn device_feature(_dev: &Device<Self>, flags: u32, arg: UserPtr, argsz: usize) -> Result {
        if flags & uapi::VFIO_DEVICE_FEATURE_MASK != SAMPLE_FEATURE {
            return Err(ENOTTY);
        }
        let value = SAMPLE_FEATURE_VALUE.to_ne_bytes();
        if !check_feature(flags, argsz, uapi::VFIO_DEVICE_FEATURE_GET, value.len())? {
            return Ok(());
        }
        UserSlice::new(arg, value.len())
            .writer()
            .write_slice(&value)
    }

    fn ioctl(dev: &Device<Self>, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            SAMPLE_DMA => Self::dma(dev, arg),
            _ => Err(ENOTTY),
        }
    }

    fn dma_unmap(dev: &Device<Self>, iova: u64, length: u64) {
        let stats = &dev.data().stats;
        stats.dma_unmaps.fetch_add(1, Ordering::Relaxed);
        let start = stats.pinned_iova.load(Ordering::Acquire);
        let npage = stats.pinned_npage.load(Ordering::Acquire);
        let end = start.saturating_add(npage.saturating_mul(kernel::page::PAGE_SIZE as u64));
        if npage != 0 && iova < end && start < iova.saturating_add(length) {
            Self::unpin(dev);
        }
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
            let dev_set = set.clone();
            let data = try_pin_init!(Sample {
                index: i,
                stats,
                set: dev_set,
                scratch <- new_mutex!([0u8; SCRATCH_SIZE]),
            });
            let base: &BaseDevice<Bound> = parent.as_ref().as_ref();
            let vfio = Registration::new_emulated(base, data, DevSet::Shared(&SET_KEY))?;
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
