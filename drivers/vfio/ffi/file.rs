// SPDX-License-Identifier: GPL-2.0

//! Exports for KVM (`virt/kvm/vfio.c`, which finds them with `symbol_get`): what a VFIO file
//! is, whether its DMA is cache coherent, which VM it belongs to, and (SPAPR only) its IOMMU
//! group. A VFIO file is a group file (`/dev/vfio/N`) or a device file (cdev or
//! `GET_DEVICE_FD`), told apart by their `f_op` tables as upstream does. The
//! `EXPORT_SYMBOL_GPL`s are in `drivers/vfio/vfio_exports.c`.

use super::{
    DEVICE_FILE_FOPS,
    GROUP_FOPS, //
};
use crate::{
    device_file::DeviceFile,
    group::Group,
    kernel_ext::{
        bindings,
        vfio::device_file::DeviceFileOps, //
    },
};
use kernel::{
    fs::File,
    sync::ArcBorrow, //
};

/// The two kinds of VFIO file.
enum VfioFile<'a> {
    Group(ArcBorrow<'a, Group>),
    Device(&'a DeviceFile),
}

/// What `file` is, if it is a VFIO file.
fn vfio_file(file: &File) -> Option<VfioFile<'_>> {
    if let Some(g) = GROUP_FOPS.data_of(file) {
        return Some(VfioFile::Group(g));
    }
    // SAFETY: `DEVICE_FILE_FOPS` is built by `DeviceFileVtable::<DeviceFile>`.
    unsafe { DEVICE_FILE_FOPS.device_file_data::<DeviceFile>(file) }.map(VfioFile::Device)
}

/// Borrows a file passed by C.
///
/// # Safety
///
/// `file` must be a live file for `'a`.
unsafe fn file<'a>(file: *mut bindings::file) -> &'a File {
    // SAFETY: Per the function contract; no fdget_pos region is involved.
    unsafe { File::from_raw_file(file) }
}

/// `bool vfio_file_is_valid(struct file *file)`: whether `file` is a group or device file.
///
/// # Safety
///
/// `file` must be a live file.
#[no_mangle]
unsafe extern "C" fn vfio_file_is_valid(f: *mut bindings::file) -> bool {
    // SAFETY: Per the function contract.
    vfio_file(unsafe { file(f) }).is_some()
}

/// `bool vfio_file_enforced_coherent(struct file *file)`: whether every device behind the
/// file has an IOMMU enforcing cache coherency (then KVM need not emulate `wbinvd`); true for
/// other files.
///
/// # Safety
///
/// `file` must be a live file.
#[no_mangle]
unsafe extern "C" fn vfio_file_enforced_coherent(f: *mut bindings::file) -> bool {
    // SAFETY: Per the function contract.
    match vfio_file(unsafe { file(f) }) {
        Some(VfioFile::Group(g)) => g.enforced_coherent(),
        Some(VfioFile::Device(d)) => d.device().enforces_cache_coherency(),
        None => true,
    }
}

/// `void vfio_file_set_kvm(struct file *file, struct kvm *kvm)`: records the VM (or null) for
/// the devices' next first open (group) or the next `BIND_IOMMUFD` (device file).
///
/// # Safety
///
/// `file` must be a live file; `kvm` null or a VM the caller keeps alive until it calls
/// again with another value (KVM's contract).
#[no_mangle]
unsafe extern "C" fn vfio_file_set_kvm(f: *mut bindings::file, kvm: *mut bindings::kvm) {
    // SAFETY: Per the function contract.
    match vfio_file(unsafe { file(f) }) {
        // SAFETY: `kvm`'s lifetime is the caller's contract.
        Some(VfioFile::Group(g)) => unsafe { g.kvm.set(kvm) },
        // SAFETY: As above.
        Some(VfioFile::Device(d)) => unsafe { d.kvm().set(kvm) },
        None => {}
    }
}

/// `struct iommu_group *vfio_file_iommu_group(struct file *file)`: the group file's IOMMU
/// group, with a reference for the caller; NULL for other files, for a group whose devices
/// are gone, and always on kernels without `CONFIG_SPAPR_TCE_IOMMU` (the only user).
///
/// # Safety
///
/// `file` must be a live file.
#[no_mangle]
unsafe extern "C" fn vfio_file_iommu_group(f: *mut bindings::file) -> *mut bindings::iommu_group {
    if !cfg!(CONFIG_SPAPR_TCE_IOMMU) {
        return core::ptr::null_mut();
    }
    // SAFETY: Per the function contract.
    match vfio_file(unsafe { file(f) }) {
        Some(VfioFile::Group(g)) => g
            .live_iommu_group()
            .map_or(core::ptr::null_mut(), |ig| ig.into_raw()),
        _ => core::ptr::null_mut(),
    }
}
