// SPDX-License-Identifier: GPL-2.0

//! Region reads and writes (`vfio_pci_core_read`, `_write`, upstream's `vfio_pci_rw`): the
//! config region through the config-space engine. BARs, the ROM and VGA are not ported yet.

use crate::{
    config::access::UserBuf,
    enable,
    errno::Errno,
    ffi::{
        CoreDev,
        VFIO_PCI_OFFSET_SHIFT, //
    },
    kernel_ext::uapi,
};
use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// The user's buffer of one `read` or `write`.
struct User(usize);

impl UserBuf for User {
    fn copy_from(&mut self, done: usize, out: &mut [u8]) -> Result<(), Errno> {
        let addr = self.0.checked_add(done).ok_or(Errno::EFAULT)?;
        UserSlice::new(UserPtr::from_addr(addr), out.len())
            .reader()
            .read_slice(out)
            .map_err(|_| Errno::EFAULT)
    }

    fn copy_to(&mut self, done: usize, data: &[u8]) -> Result<(), Errno> {
        let addr = self.0.checked_add(done).ok_or(Errno::EFAULT)?;
        UserSlice::new(UserPtr::from_addr(addr), data.len())
            .writer()
            .write_slice(data)
            .map_err(|_| Errno::EFAULT)
    }
}

/// `vfio_pci_rw`: `count` bytes at `*ppos` (region index in the high bits), to or from the
/// user buffer at `buf`; advances `*ppos` by what was done.
pub(crate) fn rw(
    vdev: &CoreDev,
    buf: usize,
    count: usize,
    ppos: &mut i64,
    iswrite: bool,
) -> Result<isize> {
    // CAST: The high bits of the offset are the region index.
    let index = (*ppos as u64 >> VFIO_PCI_OFFSET_SHIFT) as u32;
    if index >= uapi::VFIO_PCI_NUM_REGIONS + vdev.num_regions() {
        return Err(EINVAL);
    }
    if let Err(e) = vdev.pm_runtime_resume_and_get() {
        dev_info!(vdev.pdev().as_ref(), "runtime resume failed {}\n", e.to_errno());
        return Err(EIO);
    }
    let ret = match index {
        uapi::VFIO_PCI_CONFIG_REGION_INDEX => {
            // CAST: A file position is not negative here (the index check above).
            let done = enable::with_config(vdev, |cfg, backend| {
                cfg.rw(backend, &mut User(buf), *ppos as u64, count, iswrite)
            })
            .ok_or(EINVAL)
            .and_then(|r| r.map_err(Error::from));
            done.map(|done| {
                // CAST: At most `count` bytes, which fit a file position.
                *ppos += done as i64;
                done as isize
            })
        }
        _ => Err(EINVAL),
    };
    vdev.pm_runtime_put();
    ret
}
