// SPDX-License-Identifier: GPL-2.0

//! The sysfs files of types and devices: upstream's `mdev_sysfs.c`.
//!
//! `<parent>/mdev_supported_types/<driver>-<type>/` holds `create`, `device_api`, `name`,
//! `available_instances`, `description` (only with `show_description`) and `devices/`;
//! `<parent>/<uuid>/` holds `remove` and the `mdev_type` link.

use crate::{
    kernel_ext::{
        mdev::{
            Device,
            Type, //
        },
        sysfs::ShowBuf,
    },
    mdev_core, rules,
};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// The attributes of a type directory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeAttr {
    /// `create` (write-only).
    Create,
    /// `device_api`.
    DeviceApi,
    /// `name`.
    Name,
    /// `available_instances`.
    AvailableInstances,
    /// `description`.
    Description,
}

/// `show` of a type attribute; `-EIO` for `create`, as upstream (no `show`).
pub(crate) fn type_show(mtype: &Type, attr: TypeAttr, buf: &mut ShowBuf) -> isize {
    let drv = mtype.parent().driver();
    match attr {
        TypeAttr::Create => EIO.to_errno() as isize,
        TypeAttr::DeviceApi => buf.line(drv.device_api().map_or(&b"(null)"[..], |s| s.to_bytes())),
        TypeAttr::Name => buf.line(mtype.pretty_name().unwrap_or(mtype.sysfs_name()).to_bytes()),
        TypeAttr::AvailableInstances => {
            let n = match drv.get_available(mtype) {
                Some(n) => n,
                // CAST: upstream prints the `atomic_t` with `%u`.
                None => mtype.parent().available().load(Ordering::Relaxed) as u32,
            };
            buf.emit(fmt!("{n}\n"))
        }
        TypeAttr::Description => drv.show_description(mtype, buf),
    }
}

/// `store` of a type attribute: `create`; `-EIO` for the others, as upstream (no `store`).
pub(crate) fn type_store(mtype: &Type, attr: TypeAttr, buf: &[u8]) -> Result<usize> {
    if attr != TypeAttr::Create {
        return Err(EIO);
    }
    let uuid = rules::parse_create(buf).map_err(mdev_core::to_error)?;
    mdev_core::create(mtype, &uuid)?;
    Ok(buf.len())
}

/// `is_visible` of a type attribute: `description` only with `show_description`.
pub(crate) fn type_visible(mtype: &Type, attr: TypeAttr) -> bool {
    attr != TypeAttr::Description || mtype.parent().driver().has_description()
}

/// `remove_store`: a non-zero number removes the device.
pub(crate) fn remove_store(
    mdev: &Device,
    buf: &[u8],
    remove_file: impl FnOnce() -> bool,
) -> Result<usize> {
    if rules::parse_remove(buf).map_err(mdev_core::to_error)? {
        mdev_core::remove(mdev, remove_file)?;
    }
    Ok(buf.len())
}

/// `mdev_create_sysfs_files`: `<type>/devices/<uuid>` and `<uuid>/mdev_type`.
pub(crate) fn create_links(mdev: &Device) -> Result {
    let mtype = mdev.mtype();
    let dev = mdev.dev();
    mtype.devices_kobj().create_link(dev.kobj(), dev.name())?;
    if let Err(e) = dev.kobj().create_link(mtype.kobj(), c"mdev_type") {
        mtype.devices_kobj().remove_link(dev.name());
        return Err(e);
    }
    Ok(())
}

/// `mdev_remove_sysfs_files`.
pub(crate) fn remove_links(mdev: &Device) {
    let dev = mdev.dev();
    dev.kobj().remove_link(c"mdev_type");
    mdev.mtype().devices_kobj().remove_link(dev.name());
}
