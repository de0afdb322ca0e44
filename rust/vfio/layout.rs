// SPDX-License-Identifier: GPL-2.0

//! Compile-time proof that the Rust layouts of the VFIO structs shared with C code match C's.
//!
//! C drivers and IOMMU drivers compiled against `include/linux/vfio.h` and
//! `drivers/vfio/vfio.h` read and write these structs directly (a driver embeds
//! `struct vfio_device` and touches `open_count`, `dev_set`, `kvm`, ...). The expected sizes
//! and offsets are computed by clang from the real headers with the target's config
//! (`rust/vfio/layout_helper.h`, evaluated while bindgen runs), and compared here with what
//! `core::mem` says about the types bindgen generated: any mismatch fails the build.

use crate::bindings;
use core::mem::{
    offset_of,
    size_of, //
};

/// Asserts the size of `bindings::$ty` and the offset of each listed member against the
/// C-computed `VFIO_RS_SIZE_$ty` and `VFIO_RS_OFF_$ty__$member` constants.
macro_rules! same_layout_as_c {
    ($ty:ident { $($(#[$cfg:meta])* $member:ident),* $(,)? }) => {
        kernel::macros::paste! {
            const _: () = assert!(size_of::<bindings::$ty>() == bindings::[<VFIO_RS_SIZE_ $ty>]);
            $(
                $(#[$cfg])*
                const _: () = assert!(
                    offset_of!(bindings::$ty, $member) == bindings::[<VFIO_RS_OFF_ $ty __ $member>]
                );
            )*
        }
    };
}

same_layout_as_c!(vfio_device {
    dev,
    ops,
    mig_ops,
    log_ops,
    #[cfg(CONFIG_VFIO_GROUP)]
    group,
    #[cfg(CONFIG_VFIO_GROUP)]
    group_next,
    #[cfg(CONFIG_VFIO_GROUP)]
    iommu_entry,
    dev_set,
    dev_set_list,
    migration_flags,
    precopy_info_v2,
    kvm,
    index,
    device,
    #[cfg(CONFIG_VFIO_DEVICE_CDEV)]
    cdev,
    refcount,
    open_count,
    comp,
    iommufd_access,
    put_kvm,
    inode,
    #[cfg(CONFIG_IOMMUFD)]
    iommufd_device,
    #[cfg(CONFIG_IOMMUFD)]
    pasids,
    debug_root,
});

// The bitfield byte (`iommufd_attached`, `cdev_opened`, `noiommu`) has no C offset of its
// own: it starts right after the member before it, where bindgen's storage unit must be too.
const _: () = assert!(
    offset_of!(bindings::vfio_device, _bitfield_1) == bindings::VFIO_RS_BITFIELD_vfio_device
);

same_layout_as_c!(vfio_device_set {
    set_id,
    lock,
    device_list,
    device_count
});

same_layout_as_c!(vfio_device_ops {
    name,
    init,
    release,
    bind_iommufd,
    unbind_iommufd,
    attach_ioas,
    detach_ioas,
    pasid_attach_ioas,
    pasid_detach_ioas,
    open_device,
    close_device,
    read,
    write,
    ioctl,
    get_region_info_caps,
    mmap,
    request,
    match_,
    match_token_uuid,
    dma_unmap,
    device_feature,
});

same_layout_as_c!(vfio_migration_ops {
    migration_set_state,
    migration_get_state,
    migration_get_data_size,
});

same_layout_as_c!(vfio_log_ops {
    log_start,
    log_stop,
    log_read_and_clear
});

same_layout_as_c!(vfio_info_cap { buf, size });

same_layout_as_c!(vfio_iommu_driver_ops {
    name,
    owner,
    open,
    release,
    ioctl,
    attach_group,
    detach_group,
    pin_pages,
    unpin_pages,
    register_device,
    unregister_device,
    dma_rw,
    group_iommu_domain,
});

same_layout_as_c!(virqfd {
    opaque,
    eventfd,
    handler,
    thread,
    data,
    inject,
    wait,
    pt,
    shutdown,
    flush_inject,
    pvirqfd,
});

// vfio-pci.ko's view of the VFIO PCI core's device (drivers/vfio/pci/ffi.rs): the bitfields it
// sets lie between `rbar` and `needs_reset`.
same_layout_as_c!(vfio_pci_core_device {
    vdev,
    pdev,
    pci_ops,
    rbar,
    needs_reset,
    dmabufs,
});

same_layout_as_c!(vfio_pci_device_ops { get_dmabuf_phys });
