// SPDX-License-Identifier: GPL-2.0

//! Device sets: devices that share `open_device`/`close_device` and reset as one.
//!
//! Sets are keyed by the driver's `set_id` (a pointer, e.g. the PCI slot or bus) and live while
//! they have members. Lock order: [`sets`] (the registry) is never held while taking a set's
//! mutex; a set's mutex nests inside a group's lock.

use crate::kernel_ext::{
    global::module_mutex,
    vfio::{
        dev_set::{
            DevSet,
            SetLocked, //
        },
        device::{
            DeviceId,
            ParentRef,
            RawDevice, //
        },
    },
};
use kernel::{
    prelude::*,
    sync::Arc, //
};

module_mutex! {
    /// Every live device set.
    pub(crate) static sets: KVec<Arc<DevSet>> = KVec::new();
}

/// `vfio_assign_device_set`: puts `dev` in the set for `set_id`, creating it on first use.
pub(crate) fn assign(dev: &RawDevice, set_id: usize) -> Result {
    if kernel::warn_on!(set_id == 0) {
        return Err(EINVAL);
    }
    let set = {
        let mut list = sets::lock();
        let found = list.iter().position(|s| s.set_id() == set_id);
        let idx = match found {
            Some(i) => i,
            None => {
                list.push(DevSet::new(set_id)?, GFP_KERNEL)?;
                list.len() - 1
            }
        };
        let set = list[idx].clone();
        set.set_device_count(set.device_count() + 1);
        set
    };
    // The registry keeps the set while `dev` is counted in, so its pointer in `dev` stays valid.
    set.lock().add(dev);
    Ok(())
}

/// Leaves the device's set (at its final release) and frees the set with its last member.
pub(crate) fn release(dev: &RawDevice) {
    let Some(set) = dev.dev_set() else {
        return;
    };
    set.lock().remove(dev);
    let id = set.set_id();
    let mut list = sets::lock();
    if let Some(i) = list.iter().position(|s| s.set_id() == id) {
        let count = list[i].device_count() - 1;
        list[i].set_device_count(count);
        if count == 0 {
            drop(list.remove(i));
        }
    }
}

/// `vfio_device_set_open_count`: the sum of the set's devices' open counts (lock held).
pub(crate) fn open_count(locked: &SetLocked<'_>) -> u32 {
    let mut n = 0u32;
    locked.for_each_device(&mut |d| {
        n = n.wrapping_add(d.open_count(locked));
        true
    });
    n
}

/// `vfio_find_device_in_devset`: the set's device whose parent is `parent` (lock held).
pub(crate) fn find(locked: &SetLocked<'_>, parent: ParentRef) -> Option<DeviceId> {
    let mut found = None;
    locked.for_each_device(&mut |d| {
        if d.has_parent(parent) {
            found = Some(d.id());
            false
        } else {
            true
        }
    });
    found
}
