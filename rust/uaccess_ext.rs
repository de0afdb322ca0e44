// SPDX-License-Identifier: GPL-2.0

//! `copy_struct_from_user` semantics over [`UserSlice`]: extensible ioctl structs.
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h).

use kernel::{
    bindings,
    prelude::*,
    uaccess::UserSlice, //
};

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
