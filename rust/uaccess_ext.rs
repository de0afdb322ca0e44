// SPDX-License-Identifier: GPL-2.0

//! Copies of fixed-size ioctl structs to and from user memory, and `copy_struct_from_user`
//! semantics over [`UserSlice`] for extensible ones; the fields of a copied struct are read
//! with [`u32_at`] and [`u64_at`].
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h).

use kernel::{
    bindings,
    prelude::*,
    uaccess::UserSlice, //
};

/// `copy_from_user` of the `N` bytes of a user struct at `addr`.
pub(crate) fn read_user<const N: usize>(addr: usize) -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    UserSlice::new(UserPtr::from_addr(addr), N)
        .reader()
        .read_slice(&mut buf)?;
    Ok(buf)
}

/// `copy_to_user` of `data` to `addr`.
pub(crate) fn write_user(addr: usize, data: &[u8]) -> Result {
    UserSlice::new(UserPtr::from_addr(addr), data.len())
        .writer()
        .write_slice(data)
}

/// The native-endian `u32` at byte `off` of a copied struct (0 past its end).
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(off..off + 4) {
        w.copy_from_slice(s);
    }
    u32::from_ne_bytes(w)
}

/// The native-endian `u64` at byte `off` of a copied struct (0 past its end).
pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(s) = b.get(off..off + 8) {
        w.copy_from_slice(s);
    }
    u64::from_ne_bytes(w)
}

/// Copies a user struct of `usize_` bytes into `dst` as `copy_struct_from_user` does: a shorter
/// user struct is zero-extended, a longer one must have only zeroes past `dst` (`E2BIG`).
pub(crate) fn copy_struct_from_user(dst: &mut [u8], src: usize, usize_: usize) -> Result {
    let n = usize_.min(dst.len());
    dst[n..].fill(0);
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
