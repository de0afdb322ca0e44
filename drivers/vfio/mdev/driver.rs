// SPDX-License-Identifier: GPL-2.0

//! The `mdev` bus's callbacks and driver registration: upstream's `mdev_driver.c`.
//!
//! No driver matches a device by itself (`match` is always 0): `create` binds each new device
//! to its parent's driver with `device_driver_attach`.

use crate::kernel_ext::mdev::{
    Device,
    Driver, //
};
use kernel::prelude::*;

/// The bus's `probe`: the driver's `probe`, if it has one.
pub(crate) fn probe(mdev: &Device) -> Result {
    match mdev.bound_driver() {
        Some(drv) => drv.probe(mdev),
        None => Ok(()),
    }
}

/// The bus's `remove`: the driver's `remove`, if it has one.
pub(crate) fn remove(mdev: &Device) {
    if let Some(drv) = mdev.bound_driver() {
        drv.remove(mdev);
    }
}

/// `mdev_register_driver`'s check: a driver must name its `device_api`.
pub(crate) fn check(drv: &Driver) -> Result {
    drv.device_api().map(|_| ()).ok_or(EINVAL)
}
