// SPDX-License-Identifier: GPL-2.0

//! The core's private state of one device: what upstream keeps in `vfio_pci_core_device`
//! fields that no code outside the core reads.
//!
//! Lock order (upstream's, plus `open`): the device set's lock, [`CoreState::open`] (held by
//! enable and disable, and by config accesses from outside a device file operation; a DisINTx
//! write masks INTx under it), [`CoreState::igate`], `memory_lock`, [`CoreState::pm_save`];
//! `irqlock` innermost. Region accesses from the device's files take no lock: they reach the
//! open state through [`CoreState::published`], as upstream's read `vconfig` and `barmap`.

use crate::{
    config::PciConfig,
    ffi::DevRegions,
    intrs::{
        IrqShared,
        Irqs, //
    },
    ioeventfd::IoEventFd,
    low_power::LowPower,
    sriov::Role,
};
use core::sync::atomic::{
    AtomicPtr,
    AtomicU16,
    Ordering, //
};
use kernel::{
    prelude::*,
    sync::Arc, //
};
use vfio_rs_kernel_ext::mutex::{new_plain_mutex, Mutex};
use vfio_rs_kernel_ext::pci::{
    Enabled,
    IoMap,
    PageTail,
    SavedState, //
};

/// A BAR as `vfio_pci_core_map_bars` left it: mapped, or why not (`barmap`'s error pointers).
pub(crate) type BarMap = Result<Arc<IoMap>>;

/// One device's state, from `vfio_pci_core_init_dev` to `vfio_pci_core_release_dev`.
#[pin_data]
pub(crate) struct CoreState {
    /// What `vfio_pci_core_enable` set up, until `vfio_pci_core_disable`.
    #[pin]
    pub(crate) open: Mutex<Option<KBox<Opened>>>,
    /// `pm_save`: a `NoSoftRst-` device's state saved on its way to D3hot, restored in D0
    /// (under `memory_lock` when going down, as upstream).
    #[pin]
    pub(crate) pm_save: Mutex<Option<SavedState>>,
    /// The `Opened` that `open` holds, from the end of enable to the start of disable (null
    /// otherwise): what the device's file operations use without a lock (`CoreDev::opened`).
    /// Only shared borrows of it are made while it is published.
    pub(crate) published: AtomicPtr<Opened>,
    /// `dummy_resources_list`: the rest of each mappable sub-page BAR's page, reserved from
    /// `vfio_pci_probe_mmaps` (each open) to `vfio_pci_core_disable`.
    #[pin]
    pub(crate) page_tails: Mutex<KVec<PageTail>>,
    /// `igate`: interrupt setup (`VFIO_DEVICE_SET_IRQS`, masking from config writes and PM).
    #[pin]
    pub(crate) igate: Mutex<Irqs>,
    /// `ioeventfds_lock` and the device's ioeventfds (upstream's `ioeventfds_list`; the count
    /// `ioeventfds_nr` is its length). Taken outside `memory_lock` (see `ioeventfd.rs`).
    #[pin]
    pub(crate) ioeventfds: Mutex<KVec<IoEventFd>>,
    /// What interrupt handlers and the exports reach without `igate`.
    pub(crate) irq: Arc<IrqShared>,
    /// The device's SR-IOV role and VF token, set at registration.
    #[pin]
    pub(crate) sriov: Mutex<Role>,
    /// Low power entered by the user (under `memory_lock`).
    #[pin]
    pub(crate) pm: Mutex<LowPower>,
    /// Device-specific regions a variant driver registered (`region`, `num_regions`).
    #[pin]
    pub(crate) regions: DevRegions,
    /// The virtual command register as the last config access left it: what BAR accesses
    /// check under `memory_lock` without taking `open` (upstream reads `vconfig` there).
    vcmd: AtomicU16,
}

/// An enabled device (between `vfio_pci_core_enable` and `vfio_pci_core_disable`).
pub(crate) struct Opened {
    /// The virtual config space (`pci_config_map`, `vconfig`, `rbar`, `msi_perm`).
    pub(crate) config: PciConfig,
    /// `pci_saved_state`: the state right after the reset at enable, reloaded at disable.
    pub(crate) saved: Option<SavedState>,
    /// `pci_enable_device`, undone last at disable.
    pub(crate) enabled: Option<Enabled>,
    /// `barmap`: the BARs mapped at enable, unmapped first at disable.
    pub(crate) bars: [Option<BarMap>; 6],
}

impl Opened {
    /// BAR `bar`'s mapping, or why there is none.
    pub(crate) fn bar(&self, bar: usize) -> Result<&Arc<IoMap>> {
        match self.bars.get(bar) {
            Some(Some(Ok(io))) => Ok(io),
            Some(Some(Err(e))) => Err(*e),
            _ => Err(ENODEV),
        }
    }
}

impl CoreState {
    /// A closed device's state, for `pdev`.
    pub(crate) fn new(pdev: &kernel::pci::Device) -> impl PinInit<Self, Error> + '_ {
        try_pin_init!(Self {
            open <- new_plain_mutex!(None),
            igate <- new_plain_mutex!(Irqs::new(), "igate"),
            ioeventfds <- new_plain_mutex!(KVec::new(), "ioeventfds_lock"),
            irq: Arc::pin_init(IrqShared::new(pdev.into()), GFP_KERNEL)?,
            pm_save <- new_plain_mutex!(None),
            published: AtomicPtr::new(core::ptr::null_mut()),
            page_tails <- new_plain_mutex!(KVec::new()),
            sriov <- new_plain_mutex!(Role::None),
            pm <- new_plain_mutex!(LowPower::default()),
            regions <- DevRegions::new(),
            vcmd: AtomicU16::new(0),
        }? Error)
    }

    /// The virtual command register last published by [`CoreState::publish_vcmd`].
    pub(crate) fn vcmd(&self) -> u16 {
        self.vcmd.load(Ordering::Acquire)
    }

    /// BAR `bar`'s mapping, or why there is none (`ENODEV` while the device is closed).
    pub(crate) fn bar(&self, bar: usize) -> BarMap {
        match &*self.open.lock() {
            Some(opened) => opened.bar(bar).cloned(),
            None => Err(ENODEV),
        }
    }

    /// Stores the enabled device's state and publishes it to the device's file operations.
    pub(crate) fn set_opened(&self, opened: KBox<Opened>) {
        let mut open = self.open.lock();
        let ptr: *const Opened = &**open.insert(opened);
        self.published.store(ptr.cast_mut(), Ordering::Release);
    }

    /// Withdraws the state from the file operations (there are none left: this is the last
    /// close) and takes it.
    pub(crate) fn take_opened(&self) -> Option<KBox<Opened>> {
        let mut open = self.open.lock();
        self.published
            .store(core::ptr::null_mut(), Ordering::Release);
        open.take()
    }

    /// Records the virtual command register after a config access changed it.
    pub(crate) fn publish_vcmd(&self, vcmd: u16) {
        self.vcmd.store(vcmd, Ordering::Release);
    }
}
