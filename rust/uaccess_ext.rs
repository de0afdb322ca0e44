// SPDX-License-Identifier: GPL-2.0

//! Typed copies of ioctl argument structs to and from user memory: whole structs, the first
//! `minsz` bytes of one (as upstream's `copy_from_user(&s, arg, minsz)` and
//! `copy_to_user(arg, &s, minsz)`), and `copy_struct_from_user` semantics for extensible ones.
//!
//! The structs are bindgen's, from the uAPI header ([`crate::uapi`]); the ones the
//! modules copy implement [`FromBytes`] and [`AsBytes`] here, each checked at compile time to
//! have no padding.
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h).

use crate::uapi;
use core::mem::{
    size_of,
    MaybeUninit, //
};
use kernel::{
    bindings,
    prelude::*,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::UserSlice, //
};

/// The size of a struct's field, without a value of the struct.
const fn field_size<T, F>(_field: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// Implements [`FromBytes`] and [`AsBytes`] for uAPI structs after checking that the listed
/// fields (all of the struct's) fill it exactly, so it has no padding bytes.
macro_rules! uapi_pod {
    ($($ty:ident { $($field:ident),+ $(,)? })+) => {$(
        const _: () = assert!(
            size_of::<uapi::$ty>() == 0 $(+ field_size(|s: &uapi::$ty| &s.$field))+
        );
        // SAFETY: The struct is `#[repr(C)]` and its fields are integers, structs of integers,
        // zero-sized flexible-array markers, or (`vfio_bitmap::data`) a raw pointer: every bit
        // pattern is a valid value of each, so of the struct.
        unsafe impl FromBytes for uapi::$ty {}
        // SAFETY: The fields fill the struct (checked above), so it has no padding and no
        // uninitialised bytes; it has no interior mutability.
        unsafe impl AsBytes for uapi::$ty {}
    )+};
}

uapi_pod! {
    vfio_group_status { argsz, flags }
    vfio_device_bind_iommufd { argsz, flags, iommufd, out_devid, token_uuid_ptr }
    vfio_device_attach_iommufd_pt { argsz, flags, pt_id, pasid }
    vfio_device_detach_iommufd_pt { argsz, flags, pasid }
    vfio_device_feature { argsz, flags, data }
    vfio_device_feature_migration { flags }
    vfio_device_feature_mig_state { device_state, data_fd }
    vfio_device_feature_mig_data_size { stop_copy_length }
    vfio_device_feature_dma_logging_control { page_size, num_ranges, __reserved, ranges }
    vfio_device_feature_dma_logging_range { iova, length }
    vfio_device_feature_dma_logging_report { iova, length, page_size, bitmap }
    vfio_iommu_type1_info { argsz, flags, iova_pgsizes, cap_offset, pad }
    vfio_iommu_type1_dma_map { argsz, flags, vaddr, iova, size }
    vfio_iommu_type1_dma_unmap { argsz, flags, iova, size, data }
    vfio_bitmap { pgsize, size, data }
    vfio_iommu_type1_dirty_bitmap { argsz, flags, data }
    vfio_iommu_type1_dirty_bitmap_get { iova, size, bitmap }
    vfio_device_info { argsz, flags, num_regions, num_irqs, cap_offset, pad }
    vfio_irq_info { argsz, flags, index, count }
    vfio_device_low_power_entry_with_wakeup { wakeup_eventfd, reserved }
    vfio_pci_hot_reset_info { argsz, flags, count, devices }
    vfio_pci_hot_reset { argsz, flags, count, group_fds }
    vfio_device_ioeventfd { argsz, flags, offset, data, fd, reserved }
}

/// A zeroed `T`.
fn zeroed<T: FromBytes>() -> T {
    // SAFETY: `T: FromBytes` is valid for every bit pattern, all zeroes included.
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

/// `copy_from_user` of a whole `T` at `addr`.
pub fn read_user<T: FromBytes>(addr: usize) -> Result<T> {
    UserSlice::new(UserPtr::from_addr(addr), size_of::<T>())
        .reader()
        .read::<T>()
}

/// `copy_from_user(&v, addr, len)`: the first `len` bytes of a `T` at `addr`, the rest zero
/// (`EINVAL` if `T` is shorter than `len`).
pub fn read_user_prefix<T: FromBytes + AsBytes>(addr: usize, len: usize) -> Result<T> {
    let mut v = zeroed::<T>();
    let dst = v.as_bytes_mut().get_mut(..len).ok_or(EINVAL)?;
    UserSlice::new(UserPtr::from_addr(addr), len)
        .reader()
        .read_slice(dst)?;
    Ok(v)
}

/// `copy_to_user` of a whole `T` to `addr`.
pub fn write_user<T: AsBytes>(addr: usize, v: &T) -> Result {
    write_user_bytes(addr, v.as_bytes())
}

/// `copy_to_user(addr, &v, len)`: the first `len` bytes of `v` (`EINVAL` if `T` is shorter).
pub fn write_user_prefix<T: AsBytes>(addr: usize, v: &T, len: usize) -> Result {
    write_user_bytes(addr, v.as_bytes().get(..len).ok_or(EINVAL)?)
}

/// `copy_to_user` of `data` to `addr`.
pub fn write_user_bytes(addr: usize, data: &[u8]) -> Result {
    UserSlice::new(UserPtr::from_addr(addr), data.len())
        .writer()
        .write_slice(data)
}

/// `copy_struct_from_user` of a `T` from a user struct of `usize_` bytes at `src`: a shorter
/// user struct is zero-extended, a longer one must have only zeroes past `T` (`E2BIG`).
pub fn copy_struct_from_user<T: FromBytes + AsBytes>(src: usize, usize_: usize) -> Result<T> {
    let mut v = zeroed::<T>();
    copy_struct_bytes(v.as_bytes_mut(), src, usize_)?;
    Ok(v)
}

/// [`copy_struct_from_user`] into the bytes `dst`, which the caller zeroed.
fn copy_struct_bytes(dst: &mut [u8], src: usize, usize_: usize) -> Result {
    let n = usize_.min(dst.len());
    UserSlice::new(UserPtr::from_addr(src), n)
        .reader()
        .read_slice(&mut dst[..n])?;
    if usize_ > dst.len() {
        let rest = usize_ - dst.len();
        // SAFETY: `check_zeroed_user` only reads user memory, with fault handling.
        let ret = unsafe { bindings::check_zeroed_user((src + dst.len()) as *const c_void, rest) };
        match ret {
            0 => return Err(E2BIG),
            r if r < 0 => return Err(Error::from_errno(r)),
            _ => {}
        }
    }
    Ok(())
}
