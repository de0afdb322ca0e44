// SPDX-License-Identifier: GPL-2.0

//! `vfio-pci-core.ko`'s C ABI, all in one place: the view of a driver's
//! `struct vfio_pci_core_device` ([`CoreDev`]), and the `#[no_mangle]` exports with upstream's
//! names and signatures ([`exports`]), which `vfio_pci_core_exports.c` exports with upstream's
//! prototypes in scope. The rest of the crate is safe Rust over [`CoreDev`]'s methods.

mod exports;
mod io;
mod mmap;
mod regions;

pub(crate) use regions::DevRegions;

use crate::{
    kernel_ext::{
        bindings,
        helpers,
        pci::as_bound,
        rwsem::RwSem,
        uapi,
        vfio::dev_set::{
            DevSet,
            DevSetGuard,
            SetLocked, //
        }, //
    },
    state::{
        CoreState,
        Opened, //
    },
};
use core::{
    ptr::NonNull,
    sync::atomic::Ordering, //
};
use kernel::{
    device::Bound,
    error::to_result,
    fs::LocalFile,
    pci,
    prelude::*,
    str::CStr,
    sync::aref::AlwaysRefCounted,
    types::Opaque, //
};

/// A driver's `struct vfio_pci_core_device`, as the core's exports receive it.
///
/// # Invariants
///
/// Allocated by a VFIO PCI driver (`vfio_alloc_device`) whose `init` called
/// `vfio_pci_core_init_dev`, so `pdev` is set and `msi_perm` holds the core's [`CoreState`]
/// until `vfio_pci_core_release_dev`; the core's exports are only called while that holds.
/// The flags the C struct keeps in bitfields are written only at setup (init, register,
/// enable), serialised by the driver core and the device set's lock, as upstream's.
/// References the core keeps (`ARef<CoreDev>`, in ioeventfd handlers) go at
/// `vfio_pci_core_disable`, so they too are only used while the device is open, hence bound.
#[repr(transparent)]
pub(crate) struct CoreDev(Opaque<bindings::vfio_pci_core_device>);

// SAFETY: The core's state is shared between threads through its own locks; C's fields are
// accessed under upstream's rules (see the type invariant).
unsafe impl Sync for CoreDev {}
// SAFETY: A reference (`ARef<CoreDev>`) may be dropped on any thread: `put_device` is
// thread-safe.
unsafe impl Send for CoreDev {}

// SAFETY: The core device's lifetime is the refcount of its `vdev`'s embedded `struct device`
// (`vfio_put_device` is `put_device`): the driver's `release` (which calls
// `vfio_pci_core_release_dev`, dropping the core's state), then the free, run when it drops to
// zero, so a reference keeps the C struct and the core's state alive.
unsafe impl AlwaysRefCounted for CoreDev {
    fn inc_ref(&self) {
        // SAFETY: The device is live (we have a reference to it).
        unsafe { bindings::get_device(&raw mut (*self.raw()).vdev.device) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference (function contract), which this drops.
        unsafe { bindings::put_device(&raw mut (*obj.as_ref().raw()).vdev.device) };
    }
}

impl CoreDev {
    /// The core device whose `vdev` member is `vdev`.
    ///
    /// # Safety
    ///
    /// `vdev` is the `vdev` of a core device satisfying the type invariant, for `'a`.
    unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: `vdev` is the first member (checked below), so the pointers are equal; the
        // rest is the caller's contract.
        unsafe { &*vdev.cast::<Self>() }
    }

    /// # Safety
    ///
    /// `ptr` is a core device satisfying the type invariant, for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::vfio_pci_core_device) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::vfio_pci_core_device {
        self.0.get()
    }

    /// The PCI device, bound to the driver while its VFIO device exists.
    pub(crate) fn pdev(&self) -> &pci::Device<Bound> {
        // SAFETY: `pdev` was set by init (type invariant) and the driver stays bound while
        // the core is called on its device (drivers unregister in `remove`).
        unsafe { as_bound(&*(*self.raw()).pdev.cast::<pci::Device>()) }
    }

    /// The core's own state.
    pub(crate) fn state(&self) -> &CoreState {
        // SAFETY: `msi_perm` holds the state between init and release (type invariant).
        unsafe { &*(*self.raw()).msi_perm.cast::<CoreState>() }
    }

    /// The open device's state, reached without a lock: what upstream's region accesses read
    /// unlocked (`vconfig`, `barmap`). `None` while the device is closed.
    ///
    /// # Safety
    ///
    /// Only from one of the device's file operations (read, write, ioctl, mmap), which vfio.ko
    /// issues between `open_device` and `close_device`: the state is published at the end of
    /// `vfio_pci_core_enable` and withdrawn at the start of `vfio_pci_core_disable` (the last
    /// close), before it is freed.
    pub(crate) unsafe fn opened(&self) -> Option<&Opened> {
        let ptr = self.state().published.load(Ordering::Acquire);
        // SAFETY: Null, or the `Opened` owned by `open`, which only borrows it shared while it
        // is published and frees it only after withdrawing it, which (the contract) cannot
        // happen during the caller's file operation.
        unsafe { ptr.as_ref() }
    }

    /// `memory_lock`: held for reading around BAR accesses, for writing around anything that
    /// disables memory decoding (resets, power states, the command register).
    pub(crate) fn memory_lock(&self) -> &RwSem {
        // SAFETY: Initialised by `vfio_pci_core_init_dev`, alive as long as the device.
        unsafe { RwSem::from_raw(&raw mut (*self.raw()).memory_lock) }
    }

    /// `vdev.ops->name` is set (required for sequestering SR-IOV VFs).
    pub(crate) fn has_ops_name(&self) -> bool {
        // SAFETY: A registered-or-registering device has its ops table, which is static.
        unsafe { !(*(*self.raw()).vdev.ops).name.is_null() }
    }

    /// The driver's migration and logging ops are complete where present (upstream's checks
    /// at registration).
    pub(crate) fn driver_ops_complete(&self) -> bool {
        // SAFETY: The ops tables, when set, are the driver's statics.
        unsafe {
            let vdev = &(*self.raw()).vdev;
            if let Some(mig) = vdev.mig_ops.as_ref() {
                if mig.migration_get_state.is_none()
                    || mig.migration_set_state.is_none()
                    || mig.migration_get_data_size.is_none()
                    || vdev.migration_flags & uapi::VFIO_MIGRATION_STOP_COPY == 0
                {
                    return false;
                }
            }
            if let Some(log) = vdev.log_ops.as_ref() {
                if log.log_start.is_none()
                    || log.log_stop.is_none()
                    || log.log_read_and_clear.is_none()
                {
                    return false;
                }
            }
        }
        true
    }

    /// Whether `dev_get_drvdata(&pdev->dev)` is this core device (drivers must set it before
    /// registering).
    pub(crate) fn is_drvdata(&self) -> bool {
        use crate::kernel_ext::pci::DeviceExt;
        core::ptr::eq(self.pdev().drvdata_ptr(), self.raw().cast())
    }

    /// `vfio_assign_device_set(&vdev->vdev, key)`, the key chosen as upstream's.
    pub(crate) fn assign_device_set(&self, key: DevSetKey) -> Result {
        // SAFETY: The PCI device, its bus and slot are alive while it is bound.
        let key: *mut c_void = unsafe {
            let pdev = (*self.raw()).pdev;
            match key {
                DevSetKey::Device => self.raw().cast(),
                DevSetKey::Slot => (*pdev).slot.cast(),
                DevSetKey::Bus => (*pdev).bus.cast(),
            }
        };
        // SAFETY: `vdev` is an initialised, not yet registered VFIO device.
        to_result(unsafe { bindings::vfio_assign_device_set(&raw mut (*self.raw()).vdev, key) })
    }

    /// `vfio_register_group_dev`.
    pub(crate) fn register_group_dev(&self) -> Result {
        // SAFETY: `vdev` is initialised and has a device set.
        to_result(unsafe { bindings::vfio_register_group_dev(&raw mut (*self.raw()).vdev) })
    }

    /// `vfio_unregister_group_dev`: waits for the device's users to go.
    pub(crate) fn unregister_group_dev(&self) {
        // SAFETY: `vdev` was registered by `register_group_dev`.
        unsafe { bindings::vfio_unregister_group_dev(&raw mut (*self.raw()).vdev) };
    }

    /// `vfio_pci_zap_bars`: removes every user mapping of the BARs.
    pub(crate) fn zap_bars(&self) {
        let start = region_offset(uapi::VFIO_PCI_BAR0_REGION_INDEX);
        let end = region_offset(uapi::VFIO_PCI_ROM_REGION_INDEX);
        // SAFETY: A registered device has its inode (the core created it at registration);
        // `unmap_mapping_range` takes the mapping's own locks.
        unsafe {
            let inode = (*self.raw()).vdev.inode;
            if !inode.is_null() {
                bindings::unmap_mapping_range(
                    (*inode).i_mapping,
                    start as i64,
                    (end - start) as i64,
                    1,
                );
            }
        }
    }

    /// Makes the virtual config visible to C readers of `pci_config_map` and `vconfig`
    /// (`None`: freed at disable).
    /// C variant drivers write them too (IGD's OpRegion address): hence pointers derived from
    /// a mutable borrow.
    pub(crate) fn publish_config(&self, cfg: Option<&mut crate::config::PciConfig>) {
        let (map, vconfig) = match cfg {
            Some(c) => (c.map.as_mut_ptr(), c.vconfig.as_ptr()),
            None => (core::ptr::null_mut(), core::ptr::null_mut()),
        };
        // SAFETY: Written at enable and disable, under the device set's lock, as upstream
        // allocates and frees the buffers; C only reads them while the device is open.
        unsafe {
            (*self.raw()).pci_config_map = map;
            (*self.raw()).vconfig = vconfig;
        }
    }

    /// Publishes BAR `bar`'s kernel mapping in `barmap` (what `vfio_pci_core_get_iomap` reads);
    /// the caller keeps the mapping until [`CoreDev::clear_barmaps`].
    pub(crate) fn set_barmap(&self, bar: usize, addr: *mut c_void) {
        if bar < 6 {
            // SAFETY: Written at enable under the device set's lock.
            unsafe { (*self.raw()).barmap[bar] = addr };
        }
    }

    /// `msix_bar`, `msix_offset` and `msix_size`.
    pub(crate) fn msix(&self) -> (u8, u32, u16) {
        // SAFETY: Written at enable under the device set's lock, read while open.
        unsafe {
            (
                (*self.raw()).msix_bar,
                (*self.raw()).msix_offset,
                (*self.raw()).msix_size,
            )
        }
    }

    /// Marks every BAR unmapped in `barmap` (`IOMEM_ERR_PTR(-ENODEV)`, what
    /// `vfio_pci_core_get_iomap` callers check for).
    pub(crate) fn clear_barmaps(&self) {
        let none = ENODEV.to_ptr::<c_void>();
        // SAFETY: Written at enable and disable under the device set's lock.
        unsafe { (*self.raw()).barmap = [none; 6] };
    }

    fn dev(&self) -> *mut bindings::device {
        // SAFETY: The PCI device is alive (type invariant), so is its `struct device`.
        unsafe { &raw mut (*(*self.raw()).pdev).dev }
    }

    /// Installs the core's runtime PM callbacks on the device's driver (as upstream does).
    pub(crate) fn install_pm_ops(&self) {
        // SAFETY: The device is bound, so `dev->driver` is set; the ops table is static.
        unsafe { helpers::vfio_rs_pci_core_set_pm_ops(self.dev()) };
    }

    /// `pm_runtime_allow`.
    pub(crate) fn pm_runtime_allow(&self) {
        // SAFETY: The device is alive.
        unsafe { bindings::pm_runtime_allow(self.dev()) };
    }

    /// `pm_runtime_forbid`.
    pub(crate) fn pm_runtime_forbid(&self) {
        // SAFETY: The device is alive.
        unsafe { bindings::pm_runtime_forbid(self.dev()) };
    }

    /// `pm_runtime_put`.
    pub(crate) fn pm_runtime_put(&self) {
        // SAFETY: The device is alive; the caller holds the usage count it drops.
        unsafe { helpers::vfio_rs_pm_runtime_put(self.dev()) };
    }

    /// `pm_runtime_get_noresume`.
    pub(crate) fn pm_runtime_get_noresume(&self) {
        // SAFETY: The device is alive.
        unsafe { helpers::vfio_rs_pm_runtime_get_noresume(self.dev()) };
    }

    /// `pm_runtime_resume_and_get`: a usage count, the device resumed.
    pub(crate) fn pm_runtime_resume_and_get(&self) -> Result {
        // SAFETY: The device is alive.
        to_result(unsafe { helpers::vfio_rs_pm_runtime_resume_and_get(self.dev()) })
    }

    /// `pm_runtime_put_noidle`.
    pub(crate) fn pm_runtime_put_noidle(&self) {
        // SAFETY: The device is alive; the caller holds the usage count it drops.
        unsafe { helpers::vfio_rs_pm_runtime_put_noidle(self.dev()) };
    }

    /// The driver's name (`vdev.ops->name`, checked non-NULL at registration).
    pub(crate) fn ops_name(&self) -> &CStr {
        // SAFETY: The ops table is the driver's static, its name a static string.
        unsafe { CStr::from_char_ptr((*(*self.raw()).vdev.ops).name) }
    }

    /// Watches the PCI bus for this PF's VFs (`vfio_pci_bus_notifier` on `vdev->nb`).
    pub(crate) fn register_bus_notifier(&self) -> Result {
        // SAFETY: `nb` is ours, registered once (at registration of a PF) and unregistered by
        // `unregister_bus_notifier` before the device goes; the callback only reads it.
        unsafe {
            let nb = &raw mut (*self.raw()).nb;
            (*nb).notifier_call = Some(bus_notifier);
            to_result(bindings::bus_register_notifier(
                &raw const bindings::pci_bus_type,
                nb,
            ))
        }
    }

    /// Undoes [`CoreDev::register_bus_notifier`].
    pub(crate) fn unregister_bus_notifier(&self) {
        // SAFETY: Registered by `register_bus_notifier`; the call waits for running callbacks.
        unsafe {
            bindings::bus_unregister_notifier(
                &raw const bindings::pci_bus_type,
                &raw mut (*self.raw()).nb,
            )
        };
    }

    /// `pm_runtime_resume`.
    pub(crate) fn pm_runtime_resume(&self) {
        // SAFETY: The device is alive.
        unsafe { helpers::vfio_rs_pm_runtime_resume(self.dev()) };
    }
}

/// What a device set is keyed by (`vfio_pci_core_register_device`).
pub(crate) enum DevSetKey {
    /// The device alone (root bus or VF).
    Device,
    /// Its slot, when the slot can be reset.
    Slot,
    /// Its bus otherwise: bus resets affect every device on it.
    Bus,
}

/// `VFIO_PCI_OFFSET_SHIFT` (`include/linux/vfio_pci_core.h`): a region's index is the file
/// offset's bits from here up.
pub(crate) const VFIO_PCI_OFFSET_SHIFT: u32 = 40;

/// `VFIO_PCI_INDEX_TO_OFFSET`.
pub(crate) const fn region_offset(index: u32) -> u64 {
    (index as u64) << VFIO_PCI_OFFSET_SHIFT
}

/// Generates getters (`get name: kind`) and setters (`set name / setter: kind`) for the C
/// struct's flags, plain `bool`s or bitfields.
macro_rules! flags {
    ($($(#[$doc:meta])* $dir:ident $get:ident $(/ $set:ident)?: $kind:ident;)*) => {
        impl CoreDev {
            $(flags!(@one $dir, $(#[$doc])*, $get, $($set)?, $kind);)*
        }
    };
    (@one get, $(#[$doc:meta])*, $get:ident, , $kind:ident) => {
        $(#[$doc])*
        pub(crate) fn $get(&self) -> bool {
            // SAFETY: See the type invariant for who writes the flags.
            unsafe { flags!(@get $kind, (*self.raw()), $get) }
        }
    };
    (@one both, $(#[$doc:meta])*, $get:ident, $set:ident, $kind:ident) => {
        flags!(@one get, $(#[$doc])*, $get, , $kind);
        flags!(@one set, $(#[$doc])*, $get, $set, $kind);
    };
    (@one set, $(#[$doc:meta])*, $get:ident, $set:ident, $kind:ident) => {
        $(#[$doc])*
        pub(crate) fn $set(&self, val: bool) {
            // SAFETY: See the type invariant: the caller is the one writer.
            unsafe { flags!(@set $kind, (*self.raw()), $get, $set, val) }
        }
    };
    (@get bit, $s:expr, $f:ident) => { $s.$f() };
    (@get plain, $s:expr, $f:ident) => { $s.$f };
    (@set bit, $s:expr, $f:ident, $set:ident, $v:ident) => { $s.$set($v) };
    (@set plain, $s:expr, $f:ident, $set:ident, $v:ident) => { $s.$f = $v };
}

flags! {
    /// `reset_works`: the function reset at enable worked.
    both reset_works / set_reset_works: bit;
    /// `pci_2_3`: INTx is masked through the command register.
    both pci_2_3 / set_pci_2_3: bit;
    /// `nointx`: INTx hidden from the user.
    both nointx / set_nointx: bit;
    /// `has_vga`: the VGA region is offered.
    both has_vga / set_has_vga: bit;
    /// `has_dyn_msix`: MSI-X vectors can be added while enabled.
    both has_dyn_msix / set_has_dyn_msix: bit;
    /// `needs_pm_restore`: the device loses its state in D3hot (`NoSoftRst-`).
    both needs_pm_restore / set_needs_pm_restore: bit;
    /// `disable_idle_d3`: the driver's parameter, latched at init.
    get disable_idle_d3: bit;
    /// `nointxmask`: the driver's parameter, latched at init.
    get nointxmask: bit;
    /// `needs_reset`: a reset is due before the next user.
    both needs_reset / set_needs_reset: plain;
    /// `virq_disabled`: the user masked INTx through the command register.
    both virq_disabled / set_virq_disabled: plain;
    /// `sriov_active`: VFs are enabled through this PF (written under `memory_lock`).
    both sriov_active / set_sriov_active: plain;
    /// `pm_runtime_engaged`: the user put the device in low power (written under
    /// `memory_lock`; variant drivers read it).
    both pm_runtime_engaged / set_pm_runtime_engaged: plain;
}

impl CoreDev {
    /// `irq_type`: the interrupt index in use, `VFIO_PCI_NUM_IRQS` for none.
    pub(crate) fn irq_type(&self) -> u32 {
        // SAFETY: Written under `igate`; an aligned int read whole.
        let t = unsafe { core::ptr::read_volatile(&raw const (*self.raw()).irq_type) };
        // CAST: An index, never negative.
        t as u32
    }

    /// Sets `irq_type` (under `igate`; C readers outside the core read it unlocked).
    pub(crate) fn set_irq_type(&self, t: u32) {
        // CAST: An index below `VFIO_PCI_NUM_IRQS`, or it.
        let t = t as c_int;
        // SAFETY: Written under `igate`; an aligned int written whole.
        unsafe { core::ptr::write_volatile(&raw mut (*self.raw()).irq_type, t) };
    }

    /// Sets `msi_qmax` (under `igate`, at MSI setup).
    pub(crate) fn set_msi_qmax(&self, qmax: u8) {
        // SAFETY: Written under `igate`; a byte written whole.
        unsafe { core::ptr::write_volatile(&raw mut (*self.raw()).msi_qmax, qmax) };
    }

    /// `msi_qmax`: log2 of the MSI vectors the user may enable.
    pub(crate) fn msi_qmax(&self) -> u8 {
        // SAFETY: Written under `igate` at MSI setup; a byte read whole.
        unsafe { core::ptr::read_volatile(&raw const (*self.raw()).msi_qmax) }
    }

    /// `num_regions`: device-specific regions after the standard ones.
    pub(crate) fn num_regions(&self) -> u32 {
        // SAFETY: Written at enable under the device set's lock.
        let n = unsafe { (*self.raw()).num_regions };
        // CAST: A count, never negative.
        n as u32
    }

    /// Sets the MSI-X location found at enable (`msix_bar`, `msix_offset`, `msix_size`), or
    /// no MSI-X (`msix_bar` 0xff).
    pub(crate) fn set_msix(&self, msix: Option<(u8, u32, u16)>) {
        let (bar, offset, size) = msix.unwrap_or((0xff, 0, 0));
        // SAFETY: Written at enable under the device set's lock.
        unsafe {
            (*self.raw()).msix_bar = bar;
            (*self.raw()).msix_offset = offset;
            (*self.raw()).msix_size = size;
        }
    }

    /// Sets `bar_mmap_supported[bar]`.
    pub(crate) fn set_bar_mmap_supported(&self, bar: usize, val: bool) {
        // SAFETY: Written at open under the device set's lock.
        unsafe {
            if let Some(slot) = (*self.raw()).bar_mmap_supported.get_mut(bar) {
                *slot = val;
            }
        }
    }

    /// Adds the region-info capability saying the MSI-X table's BAR may be mapped whole
    /// (`msix_mappable_cap`) to the VFIO core's capability chain `caps`.
    ///
    /// # Safety
    ///
    /// `caps` is the chain the VFIO core passed to `get_region_info_caps`.
    pub(crate) unsafe fn add_msix_mappable_cap(caps: *mut bindings::vfio_info_cap) -> Result {
        let mut header = bindings::vfio_info_cap_header {
            id: uapi::VFIO_REGION_INFO_CAP_MSIX_MAPPABLE as u16,
            version: 1,
            next: 0,
        };
        // SAFETY: `caps` is the core's chain (function contract); the header is copied.
        to_result(unsafe {
            bindings::vfio_info_add_capability(
                caps,
                &mut header,
                size_of::<bindings::vfio_info_cap_header>(),
            )
        })
    }

    /// `bar_mmap_supported[bar]`.
    pub(crate) fn bar_mmap_supported(&self, bar: usize) -> bool {
        // SAFETY: Written at open under the device set's lock.
        unsafe {
            (*self.raw())
                .bar_mmap_supported
                .get(bar)
                .copied()
                .unwrap_or(false)
        }
    }
}

/// The PCI bus notifier of a PF registered by [`CoreDev::register_bus_notifier`].
///
/// # Safety
///
/// Called by the bus notifier chain with `nb` the `nb` member of a registered core device and
/// `data` a `struct device` of the PCI bus.
unsafe extern "C" fn bus_notifier(
    nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    let added = action == bindings::bus_notifier_event_BUS_NOTIFY_ADD_DEVICE as c_ulong;
    let bound = action == bindings::bus_notifier_event_BUS_NOTIFY_BOUND_DRIVER as c_ulong;
    if !added && !bound {
        return 0;
    }
    // SAFETY: Per the function contract `nb` lies `offset_of!(.., nb)` into a core device that
    // stays registered during the call, and `data` is the `dev` member of a PCI device.
    let (vdev, pdev) = unsafe {
        let vdev = nb
            .byte_sub(core::mem::offset_of!(bindings::vfio_pci_core_device, nb))
            .cast::<bindings::vfio_pci_core_device>();
        let pdev = data
            .byte_sub(core::mem::offset_of!(bindings::pci_dev, dev))
            .cast::<pci::Device>();
        (CoreDev::from_raw(vdev), &*pdev)
    };
    crate::sriov::bus_event(vdev, added, bound, pdev);
    0
}

/// The iommufd context a device is bound to (`vfio_iommufd_device_ictx`), or none: only handed
/// back to the VFIO core, which compares it with other devices' contexts.
#[derive(Clone, Copy)]
pub(crate) struct IommufdCtxRef(*mut bindings::iommufd_ctx);

impl CoreDev {
    fn vdev_raw(&self) -> *mut bindings::vfio_device {
        // SAFETY: Taking a field address of a valid struct (type invariant).
        unsafe { &raw mut (*self.raw()).vdev }
    }

    /// `vfio_device_cdev_opened`: the device was opened through its cdev (and bound to an
    /// iommufd), not through a group. The VFIO core sets the bit at the cdev's `BIND_IOMMUFD`,
    /// before any ioctl through that file, and clears it at the file's release, after the last.
    pub(crate) fn cdev_opened(&self) -> bool {
        // SAFETY: A plain field of a live device, stable during an ioctl on the open device
        // (see above), where upstream reads it too.
        unsafe { (*self.raw()).vdev.cdev_opened() != 0 }
    }

    /// `vfio_iommufd_device_ictx`: the context the device is bound to.
    pub(crate) fn iommufd_ictx(&self) -> IommufdCtxRef {
        // SAFETY: The device is a live VFIO device (type invariant).
        IommufdCtxRef(unsafe { bindings::vfio_iommufd_device_ictx(self.vdev_raw()) })
    }

    /// `vfio_iommufd_get_dev_id(&vdev->vdev, ictx)`: the device's id in `ictx` if bound there,
    /// `ENOENT` if only its IOMMU group is (it could be bound there, by nobody else), another
    /// error if neither.
    pub(crate) fn iommufd_dev_id(&self, ictx: IommufdCtxRef) -> Result<u32> {
        // SAFETY: The device is a live VFIO device; `ictx` is the context a device of this
        // set is bound to while its user is in an ioctl on it, so alive for the call.
        let id = unsafe { bindings::vfio_iommufd_get_dev_id(self.vdev_raw(), ictx.0) };
        // CAST: A non-negative id fits `u32`; below zero, an errno.
        if id < 0 {
            Err(Error::from_errno(id))
        } else {
            Ok(id as u32)
        }
    }

    /// `vfio_file_has_dev(file, &vdev->vdev)`: `file` is the VFIO group holding this device.
    pub(crate) fn in_group_file(&self, file: &LocalFile) -> bool {
        // SAFETY: `file` is referenced by the caller; the device is a live VFIO device.
        unsafe { bindings::vfio_file_has_dev(file.as_ptr(), self.vdev_raw()) }
    }

    fn dev_set(&self) -> Option<&DevSet> {
        // SAFETY: `dev_set` is set once by `vfio_assign_device_set` at registration, to a set
        // the VFIO core keeps while the device is in it, i.e. until the device is released,
        // after the core's last call on it.
        unsafe { DevSet::from_raw((*self.raw()).vdev.dev_set) }
    }

    /// Takes the device set's mutex (`mutex_lock(&vdev->vdev.dev_set->lock)`); `None` for a
    /// device not registered yet.
    pub(crate) fn lock_set(&self) -> Option<CoreSet<'_>> {
        self.dev_set().map(|set| CoreSet(Held::Taken(set.lock())))
    }

    /// The device set, whose mutex the VFIO core holds around `open_device` and
    /// `close_device` (lockdep checks it, as upstream's `lockdep_assert_held`); `None` for a
    /// device not registered yet.
    ///
    /// # Safety
    ///
    /// The current thread holds the set's mutex while the returned value exists.
    pub(crate) unsafe fn held_set(&self) -> Option<CoreSet<'_>> {
        let set = self.dev_set()?;
        // SAFETY: The caller holds the mutex (function contract).
        let held = unsafe { set.assert_held() };
        Some(CoreSet(Held::Caller(held)))
    }
}

/// `vfio_file_is_group`: `file` is an open VFIO group (`/dev/vfio/N`).
pub(crate) fn is_group_file(file: &LocalFile) -> bool {
    // SAFETY: `file` is referenced by the caller.
    unsafe { bindings::vfio_file_is_group(file.as_ptr()) }
}

/// Who holds a [`CoreSet`]'s mutex.
enum Held<'a> {
    /// We took it ([`CoreDev::lock_set`]).
    Taken(DevSetGuard<'a>),
    /// The VFIO core did, around the driver's callback ([`CoreDev::held_set`]).
    Caller(SetLocked<'a>),
}

/// A core device's device set with its mutex held: its devices are all core devices (the
/// set's key is a core device, or the PCI slot or bus it resets, which only core devices
/// join), and stay in the set while the mutex is held.
pub(crate) struct CoreSet<'a>(Held<'a>);

impl<'a> CoreSet<'a> {
    fn locked(&self) -> &SetLocked<'a> {
        match &self.0 {
            Held::Taken(guard) => guard,
            Held::Caller(held) => held,
        }
    }

    /// The set's devices in list order (`list_for_each_entry`), or reversed.
    pub(crate) fn devices(&self) -> impl DoubleEndedIterator<Item = &CoreDev> + '_ {
        self.locked().devices().map(|dev| {
            // SAFETY: Every device of the set is a core device (type invariant), alive while
            // the mutex is held, which outlives the borrow of `self`.
            unsafe { CoreDev::from_vdev(dev.as_raw()) }
        })
    }

    /// `vfio_device_set_open_count`: how many of the set's devices are open.
    pub(crate) fn open_count(&self) -> u32 {
        // SAFETY: The set is live and its mutex held, as the export requires.
        unsafe { bindings::vfio_device_set_open_count(self.locked().set().as_raw()) }
    }

    /// `vfio_find_device_in_devset(dev_set, &pdev->dev)`: the set's device for `pdev`.
    pub(crate) fn find<Ctx: kernel::device::DeviceContext>(
        &self,
        pdev: &pci::Device<Ctx>,
    ) -> Option<&CoreDev> {
        // CAST: `pci::Device` is a transparent wrapper of `struct pci_dev`.
        let pdev = core::ptr::from_ref(pdev)
            .cast_mut()
            .cast::<bindings::pci_dev>();
        // SAFETY: The set is live and its mutex held; `pdev` is a live device, and so is its
        // embedded `struct device`.
        let found = unsafe {
            bindings::vfio_find_device_in_devset(self.locked().set().as_raw(), &raw mut (*pdev).dev)
        };
        if found.is_null() {
            return None;
        }
        // SAFETY: A device found is one of the set's, so a core device alive while the mutex
        // is held (type invariant).
        Some(unsafe { CoreDev::from_vdev(found) })
    }
}
