// SPDX-License-Identifier: GPL-2.0

//! Compile-time proof that bindgen's layouts of the `include/linux/mdev.h` structs match C's.
//!
//! mdev drivers embed `struct mdev_parent`, `struct mdev_type` and `struct mdev_driver` and
//! read `struct mdev_device`; the sizes and offsets clang computed from the real header with
//! the target's config (`rust/mdev_helper.h`) must be the ones the Rust side uses.

use super::bindings;
use core::mem::{
    offset_of,
    size_of, //
};

/// Asserts the size of `bindings::$ty` and the offset of each member (`rust_name = c_name`
/// where bindgen renamed a keyword) against the C-computed constants.
macro_rules! same_layout_as_c {
    ($ty:ident { $($member:ident $(= $c:ident)?),* $(,)? }) => {
        kernel::macros::paste! {
            const _: () = assert!(size_of::<bindings::$ty>() == bindings::[<VFIO_RS_SIZE_ $ty>]);
            $(
                const _: () = assert!(
                    offset_of!(bindings::$ty, $member)
                        == same_layout_as_c!(@off $ty, $member $(, $c)?)
                );
            )*
        }
    };
    (@off $ty:ident, $member:ident) => {
        kernel::macros::paste! { bindings::[<VFIO_RS_OFF_ $ty __ $member>] }
    };
    (@off $ty:ident, $member:ident, $c:ident) => {
        kernel::macros::paste! { bindings::[<VFIO_RS_OFF_ $ty __ $c>] }
    };
}

same_layout_as_c!(mdev_device {
    dev,
    uuid,
    next,
    type_ = type,
    active,
});

same_layout_as_c!(mdev_type {
    sysfs_name,
    pretty_name,
    parent,
    kobj,
    devices_kobj,
});

same_layout_as_c!(mdev_parent {
    dev,
    mdev_driver,
    mdev_types_kset,
    unreg_sem,
    types,
    nr_types,
    available_instances,
});

same_layout_as_c!(mdev_driver {
    device_api,
    max_instances,
    probe,
    remove,
    get_available,
    show_description,
    driver,
});
