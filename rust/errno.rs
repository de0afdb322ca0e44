// SPDX-License-Identifier: GPL-2.0

//! The error values of vfio-rs's kernel-independent logic: kernel errno numbers.
//!
//! Pure code (built into the modules and on the host, where `kernel::error::Error` does not
//! exist) has one error convention: a failure is `Result<T, E>` where `E` is [`Errno`] when the
//! failure is what user space gets, or a small domain enum when the caller acts on its kind (a
//! warning, a state change) rather than passing it on. Never `()` or `Option` for a failure.
//! The kernel side turns an [`Errno`] into an `Error` with `From` (below, built into modules only).

use core::fmt;

/// A positive errno value (`EINVAL` is 22), as in `include/uapi/asm-generic/errno-base.h`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// No such entry.
    pub const ENOENT: Errno = Errno(2);
    /// No such process (the mapping's mm is gone).
    pub const ESRCH: Errno = Errno(3);
    /// Argument list too long.
    pub const E2BIG: Errno = Errno(7);
    /// I/O error (a config access the PCI core refused).
    pub const EIO: Errno = Errno(5);
    /// Try again (an mdev still being created).
    pub const EAGAIN: Errno = Errno(11);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Permission denied (a v2-only operation on a v1 container).
    pub const EACCES: Errno = Errno(13);
    /// Bad user address.
    pub const EFAULT: Errno = Errno(14);
    /// Busy (vaddr invalidated, emulated groups present, pins not released).
    pub const EBUSY: Errno = Errno(16);
    /// A mapping overlaps.
    pub const EEXIST: Errno = Errno(17);
    /// No such device.
    pub const ENODEV: Errno = Errno(19);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// Not a supported operation (`VFIO_DEVICE_SET_IRQS` actions upstream lacks).
    pub const ENOTTY: Errno = Errno(25);
    /// No more mappings allowed (`dma_entry_limit`).
    pub const ENOSPC: Errno = Errno(28);
    /// Address arithmetic overflows.
    pub const EOVERFLOW: Errno = Errno(75);
    /// Too many users (an mdev parent with no instances left).
    pub const EUSERS: Errno = Errno(87);

    /// The negative value the kernel returns to user space.
    pub fn to_errno(self) -> i32 {
        -self.0
    }

    /// The symbolic name, for messages and test failures.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            3 => "ESRCH",
            5 => "EIO",
            7 => "E2BIG",
            11 => "EAGAIN",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            16 => "EBUSY",
            17 => "EEXIST",
            19 => "ENODEV",
            22 => "EINVAL",
            25 => "ENOTTY",
            28 => "ENOSPC",
            75 => "EOVERFLOW",
            87 => "EUSERS",
            _ => "E?",
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

/// Pure code's errno as the kernel's error (modules only: the host build has no `kernel`).
/// A kernel error as the errno user space gets.
#[cfg(MODULE)]
impl From<kernel::error::Error> for Errno {
    #[inline]
    fn from(e: kernel::error::Error) -> Self {
        Errno(-e.to_errno())
    }
}

#[cfg(MODULE)]
impl From<Errno> for kernel::error::Error {
    #[inline]
    fn from(e: Errno) -> Self {
        kernel::error::Error::from_errno(e.to_errno())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_kernels() {
        assert_eq!(Errno::EINVAL.to_errno(), -22);
        assert_eq!(Errno::EOVERFLOW.to_errno(), -75);
        assert_eq!(Errno::ENOSPC.to_errno(), -28);
        assert_eq!(format!("{:?}", Errno::EEXIST), "EEXIST(17)");
    }
}
