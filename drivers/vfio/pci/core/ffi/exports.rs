// SPDX-License-Identifier: GPL-2.0

//! The core's exports (`include/linux/vfio_pci_core.h`), in upstream's order. Each converts
//! its raw arguments and calls the safe code; C return conventions are made here.
//!
//! The contract of every export (its `# Safety`): it is called from C with what upstream's
//! prototype promises, a core device of a driver that called `vfio_pci_core_init_dev` on it
//! (or is doing so), and valid pointers.

use super::CoreDev;
use crate::{
    enable, hot_reset, info, intrs, ioeventfd,
    kernel_ext::{
        bindings,
        helpers,
        uapi, //
    },
    low_power, rdwr, sriov,
    state::CoreState,
};
use kernel::prelude::*;

/// A C `int` result.
fn to_int(r: Result) -> c_int {
    r.map_or_else(|e| e.to_errno(), |()| 0)
}

/// `vfio_pci_core_enable`.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_enable(vdev: *mut bindings::vfio_pci_core_device) -> c_int {
    // SAFETY: The driver passes its initialised core device (C contract).
    to_int(enable::enable(unsafe { CoreDev::from_raw(vdev) }))
}

/// `vfio_pci_core_disable`: under the device set's lock (the driver's `close_device`).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_disable(vdev: *mut bindings::vfio_pci_core_device) {
    // SAFETY: As for `vfio_pci_core_enable`.
    let vdev = unsafe { CoreDev::from_raw(vdev) };
    // SAFETY: Drivers call this from `close_device` (or an `open_device` failing), under the
    // device set's mutex, as upstream requires (and lockdep checks).
    let set = unsafe { vdev.held_set() };
    enable::disable(vdev, set.as_ref());
}

/// `vfio_pci_core_close_device` (a `vfio_device_ops` entry).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_close_device(core_vdev: *mut bindings::vfio_device) {
    // SAFETY: `core_vdev` belongs to a core device (the driver's ops table).
    let vdev = unsafe { CoreDev::from_vdev(core_vdev) };
    // SAFETY: The VFIO core calls `close_device` under the device set's mutex.
    let set = unsafe { vdev.held_set() };
    enable::close(vdev, set.as_ref());
}

/// `vfio_pci_core_finish_enable`.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_finish_enable(vdev: *mut bindings::vfio_pci_core_device) {
    // SAFETY: As for `vfio_pci_core_enable`.
    enable::finish_enable(unsafe { CoreDev::from_raw(vdev) });
}

/// `vfio_pci_ioctl_get_region_info` (the `get_region_info_caps` op).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_ioctl_get_region_info(
    core_vdev: *mut bindings::vfio_device,
    info: *mut bindings::vfio_region_info,
    caps: *mut bindings::vfio_info_cap,
) -> c_int {
    // SAFETY: `core_vdev` belongs to a core device; the VFIO core passes its own `info`,
    // exclusively ours for the call.
    let (vdev, info) = unsafe { (CoreDev::from_vdev(core_vdev), &mut *info) };
    let num = uapi::VFIO_PCI_NUM_REGIONS;
    if info.index >= num && info.index < num + vdev.num_regions() {
        // SAFETY: `caps` is the VFIO core's chain for this call.
        return to_int(unsafe { vdev.region_info(info.index - num, info, caps) });
    }
    match info::get_region_info(vdev, info) {
        // SAFETY: `caps` is the VFIO core's chain for this call.
        Ok(true) => to_int(unsafe { CoreDev::add_msix_mappable_cap(caps) }),
        r => to_int(r.map(|_| ())),
    }
}

/// `vfio_pci_core_ioctl`: the device ioctls the VFIO core passes on.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_ioctl(
    core_vdev: *mut bindings::vfio_device,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: `core_vdev` belongs to a core device.
    let vdev = unsafe { CoreDev::from_vdev(core_vdev) };
    // `c_ulong` is `usize` in the kernel's ffi types: a user address.
    let arg: usize = arg;
    let r = match cmd {
        uapi::VFIO_DEVICE_GET_INFO => info::get_info(vdev, arg),
        uapi::VFIO_DEVICE_GET_IRQ_INFO => info::get_irq_info(vdev, arg),
        uapi::VFIO_DEVICE_IOEVENTFD => ioeventfd::ioctl(vdev, arg),
        uapi::VFIO_DEVICE_SET_IRQS => intrs::set_irqs(vdev, arg),
        uapi::VFIO_DEVICE_RESET => enable::reset(vdev).map(|()| 0),
        uapi::VFIO_DEVICE_GET_PCI_HOT_RESET_INFO => hot_reset::get_info(vdev, arg),
        uapi::VFIO_DEVICE_PCI_HOT_RESET => hot_reset::hot_reset(vdev, arg),
        _ => Err(ENOTTY),
    };
    // CAST: Small non-negative results.
    r.map_or_else(|e| e.to_errno() as c_long, |v| v as c_long)
}

/// `vfio_pci_core_ioctl_feature`: low power and the VF token (no DMA-buf without
/// `CONFIG_VFIO_PCI_DMABUF`).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_ioctl_feature(
    device: *mut bindings::vfio_device,
    flags: u32,
    arg: *mut c_void,
    argsz: usize,
) -> c_int {
    // SAFETY: `device` belongs to a core device.
    let vdev = unsafe { CoreDev::from_vdev(device) };
    let feature = flags & uapi::VFIO_DEVICE_FEATURE_MASK;
    let arg = arg as usize;
    let r = match feature {
        uapi::VFIO_DEVICE_FEATURE_PCI_VF_TOKEN => sriov::feature_token(vdev, flags, arg, argsz),
        _ => low_power::feature(vdev, feature, flags, arg, argsz).unwrap_or(Err(ENOTTY)),
    };
    to_int(r)
}

/// `vfio_pci_core_read` and `_write`: a region access at the file position `*ppos`.
///
/// # Safety
///
/// The exports' contract (module documentation); `ppos` is the file's position, ours for the
/// call.
unsafe fn rw_export(
    core_vdev: *mut bindings::vfio_device,
    buf: usize,
    count: usize,
    ppos: *mut bindings::loff_t,
    iswrite: bool,
) -> isize {
    if count == 0 {
        return 0;
    }
    // SAFETY: `core_vdev` belongs to a core device; `ppos` is ours (function contract).
    let (vdev, ppos) = unsafe { (CoreDev::from_vdev(core_vdev), &mut *ppos) };
    // SAFETY: A read or write of one of the device's files (the exports' contract: upstream's
    // region accesses, too, use `vconfig` and `barmap` unlocked).
    let opened = unsafe { vdev.opened() };
    rdwr::rw(vdev, opened, buf, count, ppos, iswrite).unwrap_or_else(|e| e.to_errno() as isize)
}

/// `vfio_pci_core_read`.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_read(
    core_vdev: *mut bindings::vfio_device,
    buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: The exports' contract; `ppos` is the file's position.
    unsafe { rw_export(core_vdev, buf as usize, count, ppos, false) }
}

/// `vfio_pci_core_write`.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_write(
    core_vdev: *mut bindings::vfio_device,
    buf: *const c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: The exports' contract; `ppos` is the file's position.
    unsafe { rw_export(core_vdev, buf as usize, count, ppos, true) }
}

/// `vfio_pci_core_request`: relays the kernel's request for the device to user space.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_request(core_vdev: *mut bindings::vfio_device, count: c_uint) {
    // SAFETY: `core_vdev` belongs to a core device.
    intrs::request(unsafe { CoreDev::from_vdev(core_vdev) }, count);
}

/// `vfio_pci_core_match`: the device's PCI name, optionally followed by `vf_token=UUID`,
/// checked by the driver's `match_token_uuid` op; 1 for a match.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_match(
    core_vdev: *mut bindings::vfio_device,
    buf: *mut c_char,
) -> c_int {
    // SAFETY: `core_vdev` belongs to a core device; `buf` is a NUL-terminated string of the
    // VFIO core.
    let (vdev, buf) = unsafe { (CoreDev::from_vdev(core_vdev), CStr::from_char_ptr(buf)) };
    let name = vdev.pdev().as_ref().name();
    let token = match sriov::parse_match(name.to_bytes(), buf.to_bytes()) {
        Ok(sriov::NameMatch::Other) => return 0,
        Ok(sriov::NameMatch::This(token)) => token,
        Err(e) => return e.to_errno(),
    };
    let uuid = token
        .as_ref()
        .map_or(core::ptr::null(), |t| t.as_ptr().cast());
    // SAFETY: The driver's ops table is static; its `match_token_uuid` takes the device and
    // a UUID (or NULL) valid for the call.
    let ret = unsafe {
        match (*(*core_vdev).ops).match_token_uuid {
            Some(f) => f(core_vdev, uuid),
            None => 0,
        }
    };
    if ret != 0 {
        ret
    } else {
        1
    }
}

/// `vfio_pci_core_match_token_uuid`: may a user presenting this VF token (or none) open the
/// device.
///
/// # Safety
///
/// The exports' contract (module documentation); `uuid` is NULL or a `uuid_t`.
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_match_token_uuid(
    core_vdev: *mut bindings::vfio_device,
    uuid: *const bindings::uuid_t,
) -> c_int {
    // SAFETY: `core_vdev` belongs to a core device; `uuid` is NULL or valid for the call.
    let (vdev, uuid) = unsafe { (CoreDev::from_vdev(core_vdev), uuid.as_ref()) };
    to_int(sriov::match_token(vdev, uuid.map(|u| &u.b)))
}

/// `vfio_pci_core_init_dev` (from the driver's `init` op).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_init_dev(core_vdev: *mut bindings::vfio_device) -> c_int {
    let vdev = core_vdev.cast::<bindings::vfio_pci_core_device>();
    // SAFETY: `core_vdev` is the `vdev` (first member) of a core device being initialised by
    // its driver, with its parent set by `vfio_alloc_device`.
    let ret = unsafe { helpers::vfio_rs_pci_core_init_members(vdev) };
    if ret != 0 {
        return ret;
    }
    // SAFETY: `vfio_rs_pci_core_init_members` set `pdev` to the device being probed.
    let pdev = unsafe { &*(*vdev).pdev.cast::<kernel::pci::Device>() };
    let state = match KBox::pin_init(CoreState::new(pdev), GFP_KERNEL) {
        Ok(s) => s,
        Err(e) => {
            // SAFETY: Initialised just above.
            unsafe { helpers::vfio_rs_pci_core_destroy_members(vdev) };
            return e.to_errno();
        }
    };
    // SAFETY: Not yet visible to anyone else; `msi_perm` is the core's slot for its state
    // (type invariant of `CoreDev`), reclaimed by `vfio_pci_core_release_dev`.
    unsafe {
        (*vdev).msi_perm = KBox::into_raw(Pin::into_inner_unchecked(state)).cast();
    }
    0
}

/// `vfio_pci_core_release_dev` (from the driver's `release` op).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_release_dev(core_vdev: *mut bindings::vfio_device) {
    let vdev = core_vdev.cast::<bindings::vfio_pci_core_device>();
    // SAFETY: The device's last reference is gone: nobody else uses it. `msi_perm` holds the
    // state `vfio_pci_core_init_dev` boxed.
    unsafe {
        let state = (*vdev).msi_perm.cast::<CoreState>();
        (*vdev).msi_perm = core::ptr::null_mut();
        if !state.is_null() {
            drop(KBox::from_raw(state));
        }
        helpers::vfio_rs_pci_core_destroy_members(vdev);
    }
}

/// `vfio_pci_core_register_device` (from the driver's `probe`, drvdata already set).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_register_device(
    vdev: *mut bindings::vfio_pci_core_device,
) -> c_int {
    // SAFETY: As for `vfio_pci_core_enable`.
    to_int(enable::register(unsafe { CoreDev::from_raw(vdev) }))
}

/// `vfio_pci_core_unregister_device` (from the driver's `remove`).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_unregister_device(vdev: *mut bindings::vfio_pci_core_device) {
    // SAFETY: As for `vfio_pci_core_enable`.
    enable::unregister(unsafe { CoreDev::from_raw(vdev) });
}

/// `vfio_pci_core_aer_err_detected`: relays the error to user space; recovery is left to
/// the PCI core.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_aer_err_detected(
    pdev: *mut bindings::pci_dev,
    _state: bindings::pci_channel_state_t,
) -> bindings::pci_ers_result_t {
    // SAFETY: The PCI core calls this for a device bound to a core driver, whose drvdata is
    // its core device (registration checked it).
    let vdev = unsafe { bindings::dev_get_drvdata(&raw mut (*pdev).dev) };
    // SAFETY: As above.
    intrs::err_detected(unsafe { CoreDev::from_raw(vdev.cast()) });
    bindings::pci_ers_result_PCI_ERS_RESULT_CAN_RECOVER
}

/// `vfio_pci_core_sriov_configure` (under the PF's device lock, from sysfs `sriov_numvfs`).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_pci_core_sriov_configure(
    vdev: *mut bindings::vfio_pci_core_device,
    nr_virtfn: c_int,
) -> c_int {
    // SAFETY: As for `vfio_pci_core_enable`.
    match sriov::configure(unsafe { CoreDev::from_raw(vdev) }, nr_virtfn) {
        Ok(n) => n,
        Err(e) => e.to_errno(),
    }
}

/// `__vfio_pci_memory_enabled`: may the BARs be accessed (caller holds `memory_lock`).
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn __vfio_pci_memory_enabled(vdev: *mut bindings::vfio_pci_core_device) -> bool {
    // SAFETY: As for `vfio_pci_core_enable`.
    rdwr::memory_enabled(unsafe { CoreDev::from_raw(vdev) })
}

/// The runtime PM suspend callback the core installs on its driver.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_rs_pci_core_runtime_suspend(dev: *mut bindings::device) -> c_int {
    // SAFETY: The PM core calls this for a device bound to a core driver, whose drvdata is
    // its core device (registration checked it).
    let vdev = unsafe { bindings::dev_get_drvdata(dev) };
    // SAFETY: As above.
    enable::runtime_suspend(unsafe { CoreDev::from_raw(vdev.cast()) });
    0
}

/// The runtime PM resume callback.
///
/// # Safety
///
/// The exports' contract (module documentation).
#[no_mangle]
unsafe extern "C" fn vfio_rs_pci_core_runtime_resume(dev: *mut bindings::device) -> c_int {
    // SAFETY: As for `vfio_rs_pci_core_runtime_suspend`.
    let vdev = unsafe { bindings::dev_get_drvdata(dev) };
    // SAFETY: As above.
    enable::runtime_resume(unsafe { CoreDev::from_raw(vdev.cast()) });
    0
}
