// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY`, `_ENTRY_WITH_WAKEUP` and `_EXIT`: the user lets an
//! open device runtime-suspend (the core drops the usage count its open holds), optionally
//! with an eventfd signalled when something else wakes it, as upstream's `vfio_pci_core.c`.
//!
//! The state is guarded by `memory_lock` (taken for writing around every change, as
//! upstream) and, inside it, [`CoreState::pm`](crate::state::CoreState::pm).

use crate::{
    ffi::CoreDev,
    kernel_ext::{
        eventfd::EventFdRef,
        uaccess_ext::read_user_prefix,
        uapi,
        vfio::driver::check_feature, //
    },
};
use kernel::prelude::*;

/// Low-power state of an open device.
#[derive(Default)]
pub(crate) struct LowPower {
    /// `pm_runtime_engaged`: the user asked for low power and the usage count was dropped.
    engaged: bool,
    /// `pm_wake_eventfd_ctx`: signalled when the device is woken without the user asking.
    wake: Option<EventFdRef>,
}

/// `vfio_pci_runtime_pm_entry`.
fn entry(vdev: &CoreDev, wake: Option<EventFdRef>) -> Result {
    let _held = vdev.memory_lock().write();
    vdev.zap_bars();
    let mut pm = vdev.state().pm.lock();
    if pm.engaged {
        return Err(EINVAL);
    }
    pm.engaged = true;
    pm.wake = wake;
    vdev.set_pm_runtime_engaged(true);
    // The ioctl's own usage count is dropped on return: then the device may suspend.
    vdev.pm_runtime_put_noidle();
    Ok(())
}

/// `__vfio_pci_runtime_pm_exit` (`memory_lock` held for writing).
fn exit_locked(vdev: &CoreDev, pm: &mut LowPower) {
    if pm.engaged {
        pm.engaged = false;
        vdev.set_pm_runtime_engaged(false);
        vdev.pm_runtime_get_noresume();
        pm.wake = None;
    }
}

/// `vfio_pci_runtime_pm_exit`: back to the open device's usage count (also at close).
pub(crate) fn exit(vdev: &CoreDev) {
    let _held = vdev.memory_lock().write();
    exit_locked(vdev, &mut vdev.state().pm.lock());
}

/// The runtime resume callback's part: a wake-up the user did not ask for signals the
/// eventfd and ends low power.
pub(crate) fn resumed(vdev: &CoreDev) {
    let _held = vdev.memory_lock().write();
    let mut pm = vdev.state().pm.lock();
    if let Some(wake) = &pm.wake {
        wake.signal();
        exit_locked(vdev, &mut pm);
    }
}

/// The three features; `None` for another feature.
pub(crate) fn feature(
    vdev: &CoreDev,
    feature: u32,
    flags: u32,
    arg: usize,
    argsz: usize,
) -> Option<Result> {
    let set = uapi::VFIO_DEVICE_FEATURE_SET;
    Some(match feature {
        uapi::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY => check_feature(flags, argsz, set, 0)
            .and_then(|run| if run { entry(vdev, None) } else { Ok(()) }),
        uapi::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP => {
            entry_with_wakeup(vdev, flags, arg, argsz)
        }
        uapi::VFIO_DEVICE_FEATURE_LOW_POWER_EXIT => {
            check_feature(flags, argsz, set, 0).map(|run| {
                if run {
                    // A resume with a wake-up eventfd has ended low power already.
                    exit(vdev);
                }
            })
        }
        _ => return None,
    })
}

/// `vfio_pci_core_pm_entry_with_wakeup`.
fn entry_with_wakeup(vdev: &CoreDev, flags: u32, arg: usize, argsz: usize) -> Result {
    let size = size_of::<uapi::vfio_device_low_power_entry_with_wakeup>();
    if !check_feature(flags, argsz, uapi::VFIO_DEVICE_FEATURE_SET, size)? {
        return Ok(());
    }
    let entry_arg: uapi::vfio_device_low_power_entry_with_wakeup = read_user_prefix(arg, size)?;
    if entry_arg.wakeup_eventfd < 0 {
        return Err(EINVAL);
    }
    let efd = EventFdRef::fdget(entry_arg.wakeup_eventfd)?;
    entry(vdev, Some(efd))
}
