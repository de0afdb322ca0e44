// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio.ko`'s core: `#[no_mangle]` entry points with upstream's names and
//! signatures (`vfio_main.c`, `container.c`, `group.c`), and the release
//! callback of a device's embedded `struct device`.
//!
//! Each function converts raw arguments into the safe types of [`crate::kernel_ext`] and calls the
//! core; `drivers/vfio/vfio_exports.c` then does the `EXPORT_SYMBOL_GPL`s, with upstream's
//! prototypes in scope.

use crate::{
    irq_set::{
        self,
        IrqSetHeader, //
    },
    kernel_ext::{
        bindings,
        vfio::{
            dev_set::{
                DevSet,
                SetLocked, //
            },
            device::{
                self,
                RawDevice,
                RegisteredDevice, //
            },
            info_cap::{
                cap_bytes,
                InfoCapBuf, //
            },
            iommu_driver::IommuDriver, //
        },
    },
};
use kernel::{
    fs::File,
    prelude::*, //
};

/// `int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops)`.
///
/// # Safety
///
/// `ops` must be null or stay valid until passed to [`vfio_unregister_iommu_driver`].
#[no_mangle]
unsafe extern "C" fn vfio_register_iommu_driver(
    ops: *const bindings::vfio_iommu_driver_ops,
) -> c_int {
    // SAFETY: Validity until unregistration is the caller's contract.
    let Some(driver) = (unsafe { IommuDriver::from_raw(ops) }) else {
        return EINVAL.to_errno();
    };
    match crate::iommu_driver::register(driver) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops)`.
///
/// # Safety
///
/// `ops` must be null or a table the caller registered (unknown tables are ignored, as upstream).
#[no_mangle]
unsafe extern "C" fn vfio_unregister_iommu_driver(ops: *const bindings::vfio_iommu_driver_ops) {
    // SAFETY: `ops` is only compared with registered tables, never dereferenced here.
    if let Some(driver) = unsafe { IommuDriver::from_raw(ops) } {
        crate::iommu_driver::unregister(driver);
    }
}

/// `struct vfio_info_cap_header *vfio_info_cap_add(struct vfio_info_cap *caps, size_t size,
/// u16 id, u16 version)`: appends a zeroed entry; `ERR_PTR(-ENOMEM)` (buffer freed) on failure.
///
/// # Safety
///
/// `caps` must be a valid `struct vfio_info_cap` whose `buf` is null or kmalloc'ed `size` bytes.
#[no_mangle]
unsafe extern "C" fn vfio_info_cap_add(
    caps: *mut bindings::vfio_info_cap,
    size: usize,
    id: u16,
    version: u16,
) -> *mut bindings::vfio_info_cap_header {
    // SAFETY: Validity is the caller's contract.
    let Some(mut caps) = (unsafe { InfoCapBuf::from_raw(caps) }) else {
        return EINVAL.to_ptr();
    };
    match crate::info_cap::add(&mut caps, size, id, version) {
        Ok(offset) => caps.entry_ptr(offset),
        Err(e) => e.to_ptr(),
    }
}

/// `void vfio_info_cap_shift(struct vfio_info_cap *caps, size_t offset)`.
///
/// # Safety
///
/// As [`vfio_info_cap_add`].
#[no_mangle]
unsafe extern "C" fn vfio_info_cap_shift(caps: *mut bindings::vfio_info_cap, offset: usize) {
    // SAFETY: Validity is the caller's contract.
    if let Some(mut caps) = unsafe { InfoCapBuf::from_raw(caps) } {
        crate::info_cap::shift(&mut caps, offset);
    }
}

/// `int vfio_info_add_capability(struct vfio_info_cap *caps, struct vfio_info_cap_header *cap,
/// size_t size)`: appends a copy of `size` bytes at `cap`.
///
/// # Safety
///
/// As [`vfio_info_cap_add`]; `cap` must be readable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn vfio_info_add_capability(
    caps: *mut bindings::vfio_info_cap,
    cap: *mut bindings::vfio_info_cap_header,
    size: usize,
) -> c_int {
    // SAFETY: Validity is the caller's contract.
    let Some(mut caps) = (unsafe { InfoCapBuf::from_raw(caps) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `cap` is readable for `size` bytes per the caller's contract.
    let cap = unsafe { cap_bytes(cap, size) };
    match crate::info_cap::add_capability(&mut caps, cap) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `int vfio_set_irqs_validate_and_prepare(struct vfio_irq_set *hdr, int num_irqs,
/// int max_irq_type, size_t *data_size)`.
///
/// # Safety
///
/// `hdr` must be a valid header (kernel memory); `data_size` null or valid for writes.
#[no_mangle]
unsafe extern "C" fn vfio_set_irqs_validate_and_prepare(
    hdr: *mut bindings::vfio_irq_set,
    num_irqs: c_int,
    max_irq_type: c_int,
    data_size: *mut usize,
) -> c_int {
    // SAFETY: `hdr` is valid per the caller's contract.
    let Some(raw) = (unsafe { hdr.as_ref() }) else {
        return EINVAL.to_errno();
    };
    let hdr = IrqSetHeader {
        argsz: raw.argsz,
        flags: raw.flags,
        index: raw.index,
        start: raw.start,
        count: raw.count,
    };
    if irq_set::check_header(&hdr, max_irq_type).is_err() {
        return EINVAL.to_errno();
    }
    // SAFETY: `data_size` is null or valid for writes per the caller's contract.
    let out = unsafe { data_size.as_mut() };
    let wants_size = out.is_some();
    if let Some(out) = out {
        *out = 0;
        match irq_set::data_size(&hdr, num_irqs, wants_size) {
            Ok(n) => {
                *out = n;
                0
            }
            Err(e) => e.to_errno(),
        }
    } else {
        match irq_set::data_size(&hdr, num_irqs, wants_size) {
            Ok(_) => 0,
            Err(e) => e.to_errno(),
        }
    }
}

/// Release callback of a `vfio_device`'s embedded `struct device`.
///
/// # Safety
///
/// `dev` must be the embedded device of a `vfio_device` whose last reference was just dropped.
unsafe extern "C" fn vfio_device_release(dev: *mut bindings::device) {
    // SAFETY: Per the function contract.
    let raw = unsafe { device::from_class_device(dev) };
    // SAFETY: The struct is still allocated until `free` below.
    crate::device::release(unsafe { RawDevice::from_raw(raw) });
    // SAFETY: Nobody references the device any more.
    unsafe { device::free(raw) };
}

/// The release callback, for `device_initialize`.
pub(crate) fn release_trampoline() -> unsafe extern "C" fn(*mut bindings::device) {
    vfio_device_release
}

/// `struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
/// const struct vfio_device_ops *ops)`.
///
/// # Safety
///
/// `dev` must be a valid device and `ops` a static ops table of the calling driver.
#[no_mangle]
unsafe extern "C" fn _vfio_alloc_device(
    size: usize,
    dev: *mut bindings::device,
    ops: *const bindings::vfio_device_ops,
) -> *mut bindings::vfio_device {
    if dev.is_null() || ops.is_null() {
        return EINVAL.to_ptr();
    }
    match crate::device::alloc(size, dev, ops) {
        Ok(d) => d,
        Err(e) => e.to_ptr(),
    }
}

/// Borrows a driver's device.
///
/// # Safety
///
/// `d` must be a device allocated by `_vfio_alloc_device` and still referenced by the caller.
pub(crate) unsafe fn dev<'a>(d: *mut bindings::vfio_device) -> &'a RawDevice {
    // SAFETY: Per the function contract.
    unsafe { RawDevice::from_raw(d) }
}

/// `int vfio_register_group_dev(struct vfio_device *device)`.
///
/// # Safety
///
/// `device` must come from `_vfio_alloc_device`, with its parent bound to the caller.
#[no_mangle]
unsafe extern "C" fn vfio_register_group_dev(device: *mut bindings::vfio_device) -> c_int {
    // SAFETY: Drivers keep a registered device alive until `vfio_unregister_group_dev`
    // returns (the C contract), and the core drops it from its lists before that.
    let Some(device) = (unsafe { RegisteredDevice::new(device) }) else {
        return EINVAL.to_errno();
    };
    match crate::device::register(device, false) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `int vfio_register_emulated_iommu_dev(struct vfio_device *device)`.
///
/// # Safety
///
/// As [`vfio_register_group_dev`].
#[no_mangle]
unsafe extern "C" fn vfio_register_emulated_iommu_dev(device: *mut bindings::vfio_device) -> c_int {
    // SAFETY: As in `vfio_register_group_dev`.
    let Some(device) = (unsafe { RegisteredDevice::new(device) }) else {
        return EINVAL.to_errno();
    };
    match crate::device::register(device, true) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_unregister_group_dev(struct vfio_device *device)`: returns once no user is left.
///
/// # Safety
///
/// `device` must be registered.
#[no_mangle]
unsafe extern "C" fn vfio_unregister_group_dev(device: *mut bindings::vfio_device) {
    // SAFETY: As in `vfio_register_group_dev`; unregistration drops it from every list.
    if let Some(device) = unsafe { RegisteredDevice::new(device) } {
        crate::device::unregister(device);
    }
}

/// `int vfio_assign_device_set(struct vfio_device *device, void *set_id)`.
///
/// # Safety
///
/// `device` must come from `_vfio_alloc_device` and not be in a set yet.
#[no_mangle]
unsafe extern "C" fn vfio_assign_device_set(
    device: *mut bindings::vfio_device,
    set_id: *mut c_void,
) -> c_int {
    // SAFETY: Per the function contract.
    match crate::dev_set::assign(unsafe { dev(device) }, set_id as usize) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `unsigned int vfio_device_set_open_count(struct vfio_device_set *dev_set)`; the caller
/// holds the set's lock.
///
/// # Safety
///
/// `dev_set` must be a live set whose mutex the caller holds for the whole call.
#[no_mangle]
unsafe extern "C" fn vfio_device_set_open_count(dev_set: *mut bindings::vfio_device_set) -> c_uint {
    // SAFETY: Per the function contract.
    match unsafe { DevSet::from_raw(dev_set) } {
        // SAFETY: The caller holds the set's mutex for the whole call (function contract),
        // so for as long as the proof, a temporary, exists.
        Some(set) => crate::dev_set::open_count(&unsafe { set.assert_held() }),
        None => 0,
    }
}

/// `struct vfio_device *vfio_find_device_in_devset(struct vfio_device_set *dev_set,
/// struct device *dev)`; the caller holds the set's lock.
///
/// # Safety
///
/// `dev_set` must be a live set whose mutex the caller holds for the whole call.
#[no_mangle]
unsafe extern "C" fn vfio_find_device_in_devset(
    dev_set: *mut bindings::vfio_device_set,
    dev: *mut bindings::device,
) -> *mut bindings::vfio_device {
    // SAFETY: Per the function contract.
    match unsafe { DevSet::from_raw(dev_set) } {
        // SAFETY: The caller holds the set's mutex for the whole call (function contract),
        // so for as long as the proof, a temporary, exists.
        Some(set) => crate::dev_set::find(&unsafe { set.assert_held() }, device::ParentRef(dev))
            .map_or(core::ptr::null_mut(), |d| d.as_ptr()),
        None => core::ptr::null_mut(),
    }
}

/// `bool vfio_device_try_get_registration(struct vfio_device *device)`.
///
/// # Safety
///
/// `device` must come from `_vfio_alloc_device` and be referenced by the caller.
#[no_mangle]
unsafe extern "C" fn vfio_device_try_get_registration(device: *mut bindings::vfio_device) -> bool {
    // SAFETY: Per the function contract.
    unsafe { dev(device) }.try_get_registration()
}

/// `void vfio_device_put_registration(struct vfio_device *device)`.
///
/// # Safety
///
/// The caller must own a registration reference.
#[no_mangle]
unsafe extern "C" fn vfio_device_put_registration(device: *mut bindings::vfio_device) {
    // SAFETY: Per the function contract.
    unsafe { dev(device) }.put_registration();
}

/// `bool vfio_file_is_group(struct file *file)`: whether `file` is an open `/dev/vfio/N`.
///
/// # Safety
///
/// `file` must be a live file.
#[no_mangle]
unsafe extern "C" fn vfio_file_is_group(file: *mut bindings::file) -> bool {
    // SAFETY: Per the function contract.
    super::GROUP_FOPS.owns(unsafe { File::from_raw_file(file) })
}

/// `bool vfio_file_has_dev(struct file *file, struct vfio_device *device)`: whether `file` is
/// the group file of `device`'s group.
///
/// # Safety
///
/// `file` must be a live file and `device` a registered device.
#[no_mangle]
unsafe extern "C" fn vfio_file_has_dev(
    file: *mut bindings::file,
    device: *mut bindings::vfio_device,
) -> bool {
    // SAFETY: Per the function contract.
    let file = unsafe { File::from_raw_file(file) };
    match super::GROUP_FOPS.data_of(file) {
        // SAFETY: Per the function contract.
        Some(g) => g.has_device(unsafe { dev(device) }),
        None => false,
    }
}

/// Borrows a device with its set's mutex held by the calling driver (asserted with lockdep),
/// and the proof of that lock.
///
/// # Safety
///
/// `d` must be a live device for `'a`, in a set whose mutex the current thread holds for `'a`.
pub(crate) unsafe fn held<'a>(
    d: *mut bindings::vfio_device,
) -> Option<(&'a RawDevice, SetLocked<'a>)> {
    // SAFETY: Per the function contract.
    let dev = unsafe { dev(d) };
    let set = dev.dev_set()?;
    // SAFETY: `set` is `dev`'s set, whose mutex the current thread holds for `'a` (function
    // contract).
    Some((dev, unsafe { set.assert_held() }))
}
