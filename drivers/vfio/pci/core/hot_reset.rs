// SPDX-License-Identifier: GPL-2.0

//! PCI hot reset: a slot or bus reset of every device it affects, which must all be the
//! caller's. `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` lists the affected devices,
//! `VFIO_DEVICE_PCI_HOT_RESET` resets them, proving ownership with the VFIO group fds holding
//! them (group-opened devices) or with the caller's iommufd (cdev-opened devices, zero-length
//! array); and the bus reset a device set gets when its last device closes if a device of it
//! could not be reset alone (`needs_reset`). As upstream's `vfio_pci_core.c`
//! (`vfio_pci_ioctl_get_pci_hot_reset_info`, `vfio_pci_ioctl_pci_hot_reset(_groups)`,
//! `vfio_pci_dev_set_hot_reset`, `vfio_pci_dev_set_try_reset` and their helpers).
//!
//! A device set of the core is keyed by the slot or bus its devices reset with (`register`),
//! so it holds every VFIO device the reset affects; a reset is refused unless every PCI device
//! it affects is in the set, which keeps other drivers' devices out of it. Locking, as
//! upstream's: the set's mutex across the whole reset, then every device's `memory_lock`
//! (tried for writing, in list order, BAR mappings zapped under it; `EBUSY` if one is
//! held), released in reverse order after `pci_reset_bus`.
//!
//! Not ported: DMA-buf exports of the BARs (upstream's `vfio_pci_dma_buf_move` around the
//! reset), as the core has none yet.

use crate::{
    enable,
    ffi::{
        is_group_file,
        CoreDev,
        CoreSet,
        IommufdCtxRef, //
    },
    kernel_ext::{
        pci::{
            DeviceExt,
            PowerState,
            Topology, //
        },
        uaccess_ext::{
            read_user_prefix,
            write_user_bytes,
            write_user_prefix, //
        },
        uapi,
    },
};
use kernel::{
    device::Bound,
    fs::LocalFile,
    pci,
    prelude::*,
    sync::aref::ARef,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// `offsetofend(struct vfio_pci_hot_reset_info, count)`, where `devices` starts.
const INFO_MINSZ: usize = 12;
/// `offsetofend(struct vfio_pci_hot_reset, count)`, where `group_fds` starts.
const RESET_MINSZ: usize = 12;
/// `sizeof(struct vfio_pci_dependent_device)`: the id (group id or devid), segment, bus,
/// devfn.
const DEP_SIZE: usize = 8;

const _: () = assert!(size_of::<uapi::vfio_pci_hot_reset_info>() == INFO_MINSZ);
const _: () = assert!(core::mem::offset_of!(uapi::vfio_pci_hot_reset_info, devices) == INFO_MINSZ);
const _: () = assert!(size_of::<uapi::vfio_pci_hot_reset>() == RESET_MINSZ);
const _: () = assert!(core::mem::offset_of!(uapi::vfio_pci_hot_reset, group_fds) == RESET_MINSZ);
const _: () = assert!(size_of::<uapi::vfio_pci_dependent_device>() == DEP_SIZE);
const _: () = assert!(core::mem::offset_of!(uapi::vfio_pci_dependent_device, segment) == 4);
const _: () = assert!(core::mem::offset_of!(uapi::vfio_pci_dependent_device, devfn) == 7);

/// `VFIO_PCI_DEVID_NOT_OWNED` as the `__u32` the uAPI stores.
// CAST: -1 as the all-ones `__u32` of the uAPI field.
const DEVID_NOT_OWNED: u32 = uapi::VFIO_PCI_DEVID_NOT_OWNED as u32;

/// Whether the device's reset is a slot reset (`true`) or a bus reset (`false`); `ENODEV` if
/// neither is possible.
fn reset_is_slot(pdev: &pci::Device<Bound>) -> Result<bool> {
    if pdev.probe_reset_slot().is_ok() {
        Ok(true)
    } else if pdev.probe_reset_bus().is_err() {
        Err(ENODEV)
    } else {
        Ok(false)
    }
}

/// `vfio_pci_for_each_slot_or_bus`: calls `f` on every PCI device `pdev`'s slot reset
/// (`slot`) or bus reset affects, until it fails.
fn for_each_slot_or_bus(
    pdev: &pci::Device<Bound>,
    slot: bool,
    f: &mut dyn FnMut(&pci::Device) -> Result,
) -> Result {
    pdev.walk_bus(&mut |dev| {
        if !slot || dev.below_slot_of(pdev) {
            f(dev)
        } else {
            Ok(())
        }
    })
}

/// `vfio_pci_count_devs` over [`for_each_slot_or_bus`].
fn count_devs(pdev: &pci::Device<Bound>, slot: bool) -> Result<usize> {
    let mut count = 0usize;
    for_each_slot_or_bus(pdev, slot, &mut |_| {
        count += 1;
        Ok(())
    })?;
    Ok(count)
}

/// `vfio_pci_ioctl_get_pci_hot_reset_info`: the devices the reset affects. Group-opened: each
/// one's IOMMU group (`EPERM` if one has none). Cdev-opened (`FLAG_DEV_ID`): each one's devid
/// in the caller's iommufd, `DEVID_OWNED` if only its group is bound there, `DEVID_NOT_OWNED`
/// otherwise, which also clears `FLAG_DEV_ID_OWNED`. `ENOSPC` with the count written back if
/// the array is too small.
pub(crate) fn get_info(vdev: &CoreDev, arg: usize) -> Result<isize> {
    let mut hdr: uapi::vfio_pci_hot_reset_info = read_user_prefix(arg, INFO_MINSZ)?;
    if (hdr.argsz as usize) < INFO_MINSZ {
        return Err(EINVAL);
    }
    hdr.flags = 0;
    let pdev = vdev.pdev();
    let slot = reset_is_slot(pdev)?;
    let count = count_devs(pdev, slot)?;
    // There is always at least the device itself.
    if kernel::warn_on!(count == 0) {
        return Err(ERANGE);
    }
    if count > (hdr.argsz as usize - INFO_MINSZ) / DEP_SIZE {
        // CAST: Devices below one bus: far fewer than 2^32.
        hdr.count = count as u32;
        write_user_prefix(arg, &hdr, INFO_MINSZ)?;
        return Err(ENOSPC);
    }
    let mut devices = KVec::<u8>::with_capacity(count * DEP_SIZE, GFP_KERNEL)?;
    let mut flags = 0;
    if vdev.cdev_opened() {
        flags |= uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID | uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
    }
    let mut filled = 0usize;
    {
        let set = vdev.lock_set().ok_or(EINVAL)?;
        let ictx = vdev.iommufd_ictx();
        for_each_slot_or_bus(pdev, slot, &mut |dev| {
            // The topology changed since the count.
            if filled >= count {
                return Err(EAGAIN);
            }
            filled += 1;
            let id = if flags & uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID != 0 {
                let id = dev_id(&set, dev, ictx);
                if id == DEVID_NOT_OWNED {
                    flags &= !uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
                }
                id
            } else {
                // Devices without an IOMMU group are not isolated: no reset.
                let group = dev.iommu_group().ok_or(EPERM)?;
                // CAST: Group ids are non-negative.
                group.id() as u32
            };
            // CAST: PCI segments are 16-bit.
            let segment = dev.domain_nr() as u16;
            devices.extend_from_slice(&id.to_ne_bytes(), GFP_KERNEL)?;
            devices.extend_from_slice(&segment.to_ne_bytes(), GFP_KERNEL)?;
            devices.extend_from_slice(&[dev.bus_number(), dev.devfn()], GFP_KERNEL)?;
            Ok(())
        })?;
    }
    write_user_bytes(arg + INFO_MINSZ, &devices)?;
    // CAST: At most `count`, checked above to fit.
    hdr.count = filled as u32;
    hdr.flags = flags;
    write_user_prefix(arg, &hdr, INFO_MINSZ)?;
    Ok(0)
}

/// The devid `vfio_pci_fill_devs` reports for `dev` in cdev mode: hot reset needs every
/// affected device in the set, and bound to the caller's iommufd (or its group there).
fn dev_id(set: &CoreSet<'_>, dev: &pci::Device, ictx: IommufdCtxRef) -> u32 {
    let Some(owner) = set.find(dev) else {
        return DEVID_NOT_OWNED;
    };
    match owner.iommufd_dev_id(ictx) {
        Ok(id) if id > 0 => id,
        Err(e) if e == ENOENT => uapi::VFIO_PCI_DEVID_OWNED,
        _ => DEVID_NOT_OWNED,
    }
}

/// `vfio_pci_ioctl_pci_hot_reset`: the group-fd array form for group-opened devices, the
/// zero-length form (ownership through the bound iommufd) for cdev-opened ones.
pub(crate) fn hot_reset(vdev: &CoreDev, arg: usize) -> Result<isize> {
    let hdr: uapi::vfio_pci_hot_reset = read_user_prefix(arg, RESET_MINSZ)?;
    if (hdr.argsz as usize) < RESET_MINSZ || hdr.flags != 0 {
        return Err(EINVAL);
    }
    // A zero-length array is only for cdev-opened devices, and only it.
    if (hdr.count != 0) == vdev.cdev_opened() {
        return Err(EINVAL);
    }
    let slot = reset_is_slot(vdev.pdev())?;
    if hdr.count != 0 {
        return hot_reset_groups(vdev, hdr.count, slot, arg);
    }
    dev_set_hot_reset(vdev, Owners::Iommufd(vdev.iommufd_ictx())).map(|()| 0)
}

/// `vfio_pci_ioctl_pci_hot_reset_groups`: the groups named by the array, each held across
/// the reset.
fn hot_reset_groups(vdev: &CoreDev, array_count: u32, slot: bool, arg: usize) -> Result<isize> {
    // Groups can hold several devices, so at most one group per affected device: this bounds
    // what user space makes the kernel copy.
    let count = count_devs(vdev.pdev(), slot)?;
    if array_count as usize > count {
        return Err(EINVAL);
    }
    let n = array_count as usize;
    let mut files = KVec::<ARef<LocalFile>>::with_capacity(n, GFP_KERNEL)?;
    let mut raw = KVec::<u8>::with_capacity(n * 4, GFP_KERNEL)?;
    UserSlice::new(UserPtr::from_addr(arg + RESET_MINSZ), n * 4)
        .reader()
        .read_all(&mut raw, GFP_KERNEL)?;
    for fd in raw.chunks_exact(4) {
        let fd = i32::from_ne_bytes([fd[0], fd[1], fd[2], fd[3]]);
        // CAST: `fget` takes the descriptor as an `unsigned int`: a negative one is no file.
        let file = LocalFile::fget(fd as u32).map_err(|_| EBADF)?;
        if !is_group_file(&file) {
            return Err(EINVAL);
        }
        files.push(file, GFP_KERNEL)?;
    }
    dev_set_hot_reset(vdev, Owners::Groups(&files)).map(|()| 0)
}

/// How the caller proves it owns the devices a hot reset affects.
enum Owners<'a> {
    /// The VFIO group files it passed (group-opened devices).
    Groups(&'a [ARef<LocalFile>]),
    /// The iommufd its device is bound to (cdev-opened devices).
    Iommufd(IommufdCtxRef),
}

impl Owners<'_> {
    /// Whether `dev` is the caller's: in one of its groups (`vfio_dev_in_groups`), or bound to
    /// its iommufd, or unbound with its IOMMU group bound there (such a device cannot be bound
    /// to another iommufd).
    fn own(&self, dev: &CoreDev) -> bool {
        match self {
            Owners::Groups(files) => files.iter().any(|f| dev.in_group_file(f)),
            Owners::Iommufd(ictx) => match dev.iommufd_dev_id(*ictx) {
                Ok(id) => id > 0,
                Err(e) => e == ENOENT,
            },
        }
    }
}

/// `vfio_pci_dev_set_resettable`: the device to hand `pci_reset_bus` (any device of the set:
/// they share their reset), if the reset is possible and every PCI device it affects is in
/// the set, so that it stays put and every driver of it can coordinate with the reset.
fn resettable<'a>(set: &'a CoreSet<'_>) -> Option<&'a pci::Device<Bound>> {
    let pdev = set.devices().next()?.pdev();
    let slot = pdev.probe_reset_slot().is_ok();
    if !slot && pdev.probe_reset_bus().is_err() {
        return None;
    }
    for_each_slot_or_bus(pdev, slot, &mut |dev| {
        set.find(dev).map(|_| ()).ok_or(ENODEV)
    })
    .ok()?;
    Some(pdev)
}

/// `vfio_pci_dev_set_pm_runtime_get`: wakes every device of the set (some may be runtime
/// suspended) and keeps it awake until [`pm_runtime_put`]; all or nothing.
fn pm_runtime_get(set: &CoreSet<'_>) -> Result {
    for (done, cur) in set.devices().enumerate() {
        if let Err(e) = cur.pm_runtime_resume_and_get() {
            // Unwound in reverse order, from the device before the one that failed.
            let total = set.devices().count();
            for prev in set.devices().rev().skip(total - done) {
                prev.pm_runtime_put();
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Drops what [`pm_runtime_get`] took.
fn pm_runtime_put(set: &CoreSet<'_>) {
    for cur in set.devices() {
        cur.pm_runtime_put();
    }
}

/// `vfio_pci_dev_set_hot_reset`: with the set's mutex held, checks the reset is possible and
/// that the caller owns every device of the set, takes their `memory_lock`s with the BARs
/// zapped, brings them to D0 and resets the slot or bus.
fn dev_set_hot_reset(vdev: &CoreDev, owners: Owners<'_>) -> Result {
    let set = vdev.lock_set().ok_or(EINVAL)?;
    let pdev = resettable(&set).ok_or(EINVAL)?;
    pm_runtime_get(&set)?;
    let ret = reset_locked(&set, pdev, &owners);
    pm_runtime_put(&set);
    ret
}

/// The part of [`dev_set_hot_reset`] under the devices' `memory_lock`s.
fn reset_locked(set: &CoreSet<'_>, pdev: &pci::Device<Bound>, owners: &Owners<'_>) -> Result {
    let mut held = KVec::with_capacity(set.devices().count(), GFP_KERNEL)?;
    let mut ret = Ok(());
    for cur in set.devices() {
        if !owners.own(cur) {
            ret = Err(EINVAL);
            break;
        }
        // Locking several devices may deadlock: give up on contention instead.
        let Some(guard) = cur.memory_lock().try_write() else {
            ret = Err(EBUSY);
            break;
        };
        // The user may not touch the devices during the reset.
        cur.zap_bars();
        held.push(guard, GFP_KERNEL)?;
    }
    if ret.is_ok() {
        // `pci_reset_bus` would bring a device in a low-power state to D0 without restoring
        // the state a `NoSoftRst-` device keeps in `pm_save`.
        for cur in set.devices() {
            let _ = enable::set_power_state(cur, PowerState::D0);
        }
        ret = pdev.reset_bus();
    }
    // Unlocked in reverse order.
    while let Some(guard) = held.pop() {
        drop(guard);
    }
    ret
}

/// `vfio_pci_dev_set_needs_reset`: no other device of the set is open, and one of them wants
/// a reset (its function reset did not happen at close).
fn needs_reset(set: &CoreSet<'_>) -> bool {
    set.open_count() <= 1 && set.devices().any(|cur| cur.needs_reset())
}

/// `vfio_pci_dev_set_try_reset`: at a device's last close (set's mutex held by the VFIO
/// core), a slot or bus reset if the set's devices are all unused, one of them needs a reset,
/// and the reset is possible; success clears every device's `needs_reset`.
pub(crate) fn try_reset(set: &CoreSet<'_>) {
    if !needs_reset(set) {
        return;
    }
    let Some(pdev) = resettable(set) else {
        return;
    };
    if pm_runtime_get(set).is_err() {
        return;
    }
    let done = pdev.reset_bus().is_ok();
    for cur in set.devices() {
        if done {
            cur.set_needs_reset(false);
        }
        cur.pm_runtime_put();
    }
}
