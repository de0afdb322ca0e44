// SPDX-License-Identifier: GPL-2.0

//! The cdev path, `/dev/vfio/devices/vfioN`: an open file can do nothing until
//! `VFIO_DEVICE_BIND_IOMMUFD` binds it to an iommufd context (one bound file per device, and
//! never while the device's group file is open), then `ATTACH/DETACH_IOMMUFD_PT` pick its page
//! tables.
//!
//! Lock order: the group's state (blocking), then the set's mutex.

use crate::{
    device_open::{
        self,
        Iommu,
        Opened, //
    },
    group::{
        self,
        Group, //
    },
    kernel_ext::{
        iommufd::IommufdCtx,
        uaccess_ext::{
            copy_struct_from_user,
            read_user_prefix, //
        },
        uapi,
        vfio::{
            device::RegisteredDevice,
            kvm::KvmSlot, //
        },
    },
};
use core::mem::offset_of;
use kernel::{
    prelude::*,
    sync::Arc,
    uaccess::UserSlice, //
};

/// A bound cdev file's connection.
pub(crate) struct CdevBinding {
    /// Held while bound, as upstream's `df->iommufd`.
    _ctx: IommufdCtx,
    opened: Opened,
    group: Arc<Group>,
}

/// `offsetofend(struct vfio_device_bind_iommufd, out_devid)`.
const BIND_MINSZ: u32 = 16;
const _: () = assert!(
    BIND_MINSZ as usize == offset_of!(uapi::vfio_device_bind_iommufd, out_devid) + size_of::<u32>()
);

/// `VFIO_DEVICE_BIND_IOMMUFD`; `granted` tells whether the file is already bound,
/// `from_group` whether it came from `VFIO_GROUP_GET_DEVICE_FD` (refused, but only after the
/// argument checks, as upstream: a bad pointer is `EFAULT` there too), `kvm` is the file's VM
/// slot.
pub(crate) fn bind(
    dev: RegisteredDevice,
    granted: bool,
    from_group: bool,
    arg: usize,
    kvm: &KvmSlot,
) -> Result<CdevBinding> {
    let user_size = UserSlice::new(UserPtr::from_addr(arg), 4)
        .reader()
        .read::<u32>()?;
    if user_size < BIND_MINSZ {
        return Err(EINVAL);
    }
    let b: uapi::vfio_device_bind_iommufd = copy_struct_from_user(arg, user_size as usize)?;
    let (flags, iommufd, token_ptr) = (b.flags, b.iommufd, b.token_uuid_ptr);
    if iommufd < 0 || flags & !uapi::VFIO_DEVICE_BIND_FLAG_TOKEN != 0 || from_group {
        return Err(EINVAL);
    }
    let group = group::of_device(&dev).ok_or(ENODEV)?;
    group.block_for_cdev()?;
    let ret = bind_locked(dev, granted, arg, flags, iommufd, token_ptr, kvm);
    match ret {
        Ok((ctx, opened)) => Ok(CdevBinding {
            _ctx: ctx,
            opened,
            group,
        }),
        Err(e) => {
            group.unblock_for_cdev();
            Err(e)
        }
    }
}

fn bind_locked(
    dev: RegisteredDevice,
    granted: bool,
    arg: usize,
    flags: u32,
    iommufd: i32,
    token_ptr: u64,
    kvm: &KvmSlot,
) -> Result<(IommufdCtx, Opened)> {
    let set = dev.dev_set().ok_or(EINVAL)?;
    let guard = set.lock();
    if granted {
        return Err(EINVAL);
    }
    check_token(&dev, flags, token_ptr)?;
    let ctx = IommufdCtx::from_fd(iommufd)?;
    // One opener per device on this path (upstream's `vfio_df_open` for cdev files).
    if dev.open_count(&guard) != 0 {
        return Err(EINVAL);
    }
    dev.set_open_count(&guard, 1);
    let opened = match device_open::first_open(&dev, &guard, Iommu::Iommufd(&ctx), kvm) {
        Ok(o) => o,
        Err(e) => {
            dev.set_open_count(&guard, 0);
            return Err(e);
        }
    };
    let out_devid = arg + offset_of!(uapi::vfio_device_bind_iommufd, out_devid);
    let out = UserSlice::new(UserPtr::from_addr(out_devid), 4)
        .writer()
        .write(&opened.devid);
    if let Err(e) = out {
        device_open::last_close(&dev, &guard, &opened);
        dev.set_open_count(&guard, 0);
        return Err(e);
    }
    dev.set_cdev_opened(&guard, true);
    Ok((ctx, opened))
}

/// The SR-IOV VF token check of the driver, as upstream's `vfio_df_check_token`: without the
/// driver's op the flag alone decides (`EINVAL` if set), before the token is read, so a bad
/// token pointer is `EFAULT` only for a driver that checks tokens.
fn check_token(dev: &RegisteredDevice, flags: u32, token_ptr: u64) -> Result {
    let with_token = flags & uapi::VFIO_DEVICE_BIND_FLAG_TOKEN != 0;
    let checked = dev.match_token(|| {
        if !with_token {
            return Ok(None);
        }
        let mut u = [0u8; 16];
        UserSlice::new(UserPtr::from_addr(token_ptr as usize), 16)
            .reader()
            .read_slice(&mut u)?;
        Ok(Some(u))
    });
    match checked {
        None if with_token => Err(EINVAL),
        None => Ok(()),
        Some(r) => r,
    }
}

/// Closes a bound cdev file: the device's last close, then the group may open again.
pub(crate) fn unbind(dev: RegisteredDevice, binding: &CdevBinding) {
    if let Some(set) = dev.dev_set() {
        let guard = set.lock();
        if dev.open_count(&guard) == 1 {
            device_open::last_close(&dev, &guard, &binding.opened);
            dev.set_open_count(&guard, 0);
        }
        dev.set_cdev_opened(&guard, false);
    }
    binding.group.unblock_for_cdev();
}

/// `VFIO_DEVICE_ATTACH_IOMMUFD_PT`: attach to a page table (optionally for a PASID) and
/// report the id actually used.
pub(crate) fn attach_pt(dev: RegisteredDevice, arg: usize) -> Result {
    type Attach = uapi::vfio_device_attach_iommufd_pt;
    // `offsetofend(.., pt_id)` bytes, as upstream's first copy.
    const MINSZ: usize = offset_of!(Attach, pt_id) + size_of::<u32>();
    let a: Attach = read_user_prefix(arg, MINSZ)?;
    let (argsz, flags, mut pt_id) = (a.argsz, a.flags, a.pt_id);
    if (argsz as usize) < MINSZ || flags & !uapi::VFIO_DEVICE_ATTACH_PASID != 0 {
        return Err(EINVAL);
    }
    let pasid = pasid_arg(
        &dev,
        flags & uapi::VFIO_DEVICE_ATTACH_PASID != 0,
        argsz,
        offset_of!(Attach, pasid),
        arg,
        true,
    )?;
    let set = dev.dev_set().ok_or(EINVAL)?;
    let guard = set.lock();
    dev.call_attach_ioas(&guard, pasid, &mut pt_id)?;
    if let Err(e) = UserSlice::new(UserPtr::from_addr(arg + offset_of!(Attach, pt_id)), 4)
        .writer()
        .write(&pt_id)
    {
        // As upstream: undo with the plain detach.
        let _ = dev.call_detach_ioas(&guard, None);
        return Err(e);
    }
    Ok(())
}

/// `VFIO_DEVICE_DETACH_IOMMUFD_PT`.
pub(crate) fn detach_pt(dev: RegisteredDevice, arg: usize) -> Result {
    type Detach = uapi::vfio_device_detach_iommufd_pt;
    // `offsetofend(.., flags)` bytes, as upstream's first copy.
    const MINSZ: usize = offset_of!(Detach, flags) + size_of::<u32>();
    let d: Detach = read_user_prefix(arg, MINSZ)?;
    let (argsz, flags) = (d.argsz, d.flags);
    if (argsz as usize) < MINSZ || flags & !uapi::VFIO_DEVICE_DETACH_PASID != 0 {
        return Err(EINVAL);
    }
    let pasid = pasid_arg(
        &dev,
        flags & uapi::VFIO_DEVICE_DETACH_PASID != 0,
        argsz,
        offset_of!(Detach, pasid),
        arg,
        false,
    )?;
    let set = dev.dev_set().ok_or(EINVAL)?;
    let guard = set.lock();
    dev.call_detach_ioas(&guard, pasid)
}

/// The PASID of an attach/detach request at user address `arg`, the `u32` at byte `pasid` of
/// the struct, if it has the PASID flag: needs the driver op (`EOPNOTSUPP`) and an `argsz`
/// covering the field (`xend`).
fn pasid_arg(
    dev: &RegisteredDevice,
    with_pasid: bool,
    argsz: u32,
    pasid: usize,
    arg: usize,
    attach: bool,
) -> Result<Option<u32>> {
    if !with_pasid {
        return Ok(None);
    }
    let (has_attach, has_detach) = dev.has_pasid_ops();
    if (attach && !has_attach) || (!attach && !has_detach) {
        return Err(EOPNOTSUPP);
    }
    let xend = pasid + size_of::<u32>();
    if (argsz as usize) < xend {
        return Err(EINVAL);
    }
    Ok(Some(
        UserSlice::new(UserPtr::from_addr(arg + pasid), 4)
            .reader()
            .read::<u32>()?,
    ))
}
