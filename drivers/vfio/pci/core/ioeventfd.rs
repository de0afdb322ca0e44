// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_IOEVENTFD`, as upstream's `vfio_pci_ioctl_ioeventfd` (`vfio_pci_core.c`) and
//! `vfio_pci_ioeventfd*` (`vfio_pci_rdwr.c`): an eventfd whose every signal writes fixed data of
//! 1, 2, 4 or 8 bytes at an offset of a BAR, without a trip through user space (QEMU uses it
//! for the doorbells it would otherwise trap).
//!
//! Each ioeventfd is a virqfd on the VFIO core ([`Virqfd`]) whose handler runs in the eventfd's
//! wake-up (atomic context): a memory BAR's write needs `memory_lock` for reading with memory
//! decoding on, so the handler only tries the lock and leaves the write to the virqfd's work
//! item when it is contended; with decoding off the write is dropped.
//!
//! Lock order: the device set's lock (at disable), then `ioeventfds_lock`
//! ([`CoreState::ioeventfds`](crate::state::CoreState::ioeventfds)); under it, removing an
//! ioeventfd waits for its virqfd's work, which takes `memory_lock` for reading, so
//! `ioeventfds_lock` is never taken under `memory_lock`.

use crate::{
    ffi::CoreDev,
    ioeventfd_args::{
        self,
        DevLayout, //
    },
    kernel_ext::{
        bindings,
        pci::{
            DeviceFields,
            IoMap, //
        },
        uaccess_ext::read_user_prefix,
        uapi,
        vfio::driver::{
            Virqfd,
            VirqfdHandler, //
        },
    },
    rdwr,
};
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
};

/// One ioeventfd (upstream's `struct vfio_pci_ioeventfd`): what identifies it, and its virqfd.
pub(crate) struct IoEventFd {
    pos: u64,
    bar: usize,
    data: u64,
    count: u32,
    /// Enabled while the entry lives: dropping it disables the virqfd and waits for its
    /// callbacks (`vfio_virqfd_disable`).
    _virqfd: Pin<KBox<Virqfd<BarWrite>>>,
}

/// What an ioeventfd's signal does: the write of `count` bytes of `data` at `pos` of `io`.
struct BarWrite {
    vdev: ARef<CoreDev>,
    io: Arc<IoMap>,
    pos: usize,
    data: u64,
    count: usize,
    /// A memory BAR: the write needs memory decoding on (`test_mem`).
    test_mem: bool,
}

impl BarWrite {
    /// `vfio_pci_ioeventfd_do_write` without the memory check.
    fn write(&self) {
        // Bounds and width were checked when the ioeventfd was added.
        let _ = self.io.write_unaligned(self.data, self.count, self.pos);
    }
}

#[vtable]
impl VirqfdHandler for BarWrite {
    /// `vfio_pci_ioeventfd_handler`: writes now unless `memory_lock` is contended (then the
    /// thread does); nothing with memory decoding off.
    fn handler(&self) -> bool {
        if !self.test_mem {
            self.write();
            return false;
        }
        let Some(_held) = self.vdev.memory_lock().try_read() else {
            return true;
        };
        if rdwr::memory_enabled(&self.vdev) {
            self.write();
        }
        false
    }

    /// `vfio_pci_ioeventfd_thread`: the write with `memory_lock` taken and decoding checked.
    fn thread(&self) {
        let _ = rdwr::with_memory(&self.vdev, self.test_mem, || {
            self.write();
            Ok(())
        });
    }
}

/// `vfio_pci_ioctl_ioeventfd`.
pub(crate) fn ioctl(vdev: &CoreDev, arg: usize) -> Result<isize> {
    let ie: uapi::vfio_device_ioeventfd = read_user_prefix(arg, ioeventfd_args::MINSZ)?;
    let pdev = vdev.pdev();
    let (msix_bar, msix_offset, msix_size) = vdev.msix();
    let layout = DevLayout {
        bar_len: |bar| pdev.resource(bar).1,
        msix_bar,
        msix_offset,
        msix_size,
    };
    let req = ioeventfd_args::check(ie.argsz, ie.flags, ie.offset, ie.fd, &layout)?;
    // `vfio_pci_core_get_iomap`: the BAR as enable mapped it, or why not.
    let io = vdev.state().bar(req.bar)?;
    let mut list = vdev.state().ioeventfds.lock();
    if let Some(i) = list.iter().position(|e| {
        e.pos == req.pos && e.bar == req.bar && e.data == ie.data && e.count == req.count
    }) {
        if req.fd != -1 {
            return Err(EEXIST);
        }
        // Dropping it disables its virqfd and waits for its callbacks (under the lock, as
        // upstream).
        if let Ok(e) = list.remove(i) {
            drop(e);
        }
        return Ok(0);
    }
    if req.fd < 0 {
        return Err(ENODEV);
    }
    if list.len() >= ioeventfd_args::MAX {
        return Err(ENOSPC);
    }
    // Room first: once the virqfd is enabled nothing may fail.
    list.reserve(1, GFP_KERNEL_ACCOUNT)?;
    let virqfd = KBox::pin_init(Virqfd::new(), GFP_KERNEL_ACCOUNT)?;
    let flags = pdev.resource(req.bar).2;
    let handler = Arc::new(
        BarWrite {
            vdev: vdev.into(),
            io,
            pos: usize::try_from(req.pos)?,
            data: ie.data,
            count: req.count as usize,
            test_mem: flags & u64::from(bindings::IORESOURCE_MEM) != 0,
        },
        GFP_KERNEL_ACCOUNT,
    )?;
    virqfd.enable(handler, req.fd)?;
    list.push_within_capacity(IoEventFd {
        pos: req.pos,
        bar: req.bar,
        data: ie.data,
        count: req.count,
        _virqfd: virqfd,
    })
    .map_err(|_| ENOMEM)?;
    Ok(0)
}

/// Every ioeventfd goes at the last close (`vfio_pci_core_disable`): each virqfd disabled, its
/// callbacks waited for.
pub(crate) fn release_all(vdev: &CoreDev) {
    let list = core::mem::take(&mut *vdev.state().ioeventfds.lock());
    // Each entry's drop disables its virqfd and waits for its callbacks.
    drop(list);
}
