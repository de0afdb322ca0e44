// SPDX-License-Identifier: GPL-2.0

//! Device files: what `VFIO_GROUP_GET_DEVICE_FD` returns. Each holds a registration
//! reference (unregistration waits for it) and opens the device for its whole life;
//! `open_device` runs at a device's first open and `close_device` at its last close, both under
//! the device set's mutex.
//!
//! Lock order: group state, then the set's mutex (see `group.rs`).

use crate::{
    device_cdev::{
        self,
        CdevBinding, //
    },
    device_feature,
    group::Group,
    info_cap,
    kernel_ext::{
        bindings,
        kmalloc_box::KmBox,
        uapi,
        vfio::{
            device::{
                RawDevice,
                RegisteredDevice, //
            },
            device_file::DeviceFileOps,
            info_cap::OwnedInfoCap,
            kvm::KvmSlot, //
        },
    },
};
use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    prelude::*,
    sync::{
        Arc,
        SetOnce, //
    },
    uaccess::UserSlice, //
};

/// An open device file: from a group (`GET_DEVICE_FD`, open at once) or from the cdev
/// (open once bound).
pub(crate) struct DeviceFile {
    dev: RegisteredDevice,
    group: Option<Arc<Group>>,
    binding: SetOnce<CdevBinding>,
    access: AtomicBool,
    /// The VM KVM associated with this file; a cdev file's device takes it at bind.
    kvm: KvmSlot,
}

impl DeviceFile {
    /// A file for `dev`, which the caller holds a registration reference on.
    pub(crate) fn new(dev: RegisteredDevice, group: Arc<Group>) -> Self {
        Self {
            dev,
            group: Some(group),
            binding: SetOnce::new(),
            access: AtomicBool::new(false),
            kvm: KvmSlot::new(),
        }
    }

    /// Publishes that the device is open for this file.
    pub(crate) fn grant_access(&self) {
        self.access.store(true, Ordering::Release);
    }

    /// The device.
    pub(crate) fn registered(&self) -> RegisteredDevice {
        self.dev
    }

    /// Where `vfio_file_set_kvm` records the file's VM.
    pub(crate) fn kvm(&self) -> &KvmSlot {
        &self.kvm
    }
}

impl DeviceFileOps for DeviceFile {
    fn open_cdev(dev: &RawDevice) -> Result<KmBox<Self>> {
        let dev = dev.try_registered().ok_or(ENODEV)?;
        let file = KmBox::new(DeviceFile {
            dev,
            group: None,
            binding: SetOnce::new(),
            access: AtomicBool::new(false),
            kvm: KvmSlot::new(),
        });
        file.inspect_err(|_| dev.put_registration())
    }

    fn device(&self) -> &RawDevice {
        &self.dev
    }

    fn access_granted(&self) -> bool {
        self.access.load(Ordering::Acquire)
    }

    fn release(this: KmBox<Self>) {
        if this.access_granted() {
            match (&this.group, this.binding.as_ref()) {
                (Some(group), _) => group.close_device(this.dev),
                (None, Some(binding)) => device_cdev::unbind(this.dev, binding),
                (None, None) => {}
            }
        }
        this.dev.put_registration();
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        if cmd == uapi::VFIO_DEVICE_BIND_IOMMUFD {
            // A group-derived fd is already bound: `bind` refuses it after checking the argument.
            let binding = device_cdev::bind(
                self.dev,
                self.access_granted(),
                self.group.is_some(),
                arg,
                &self.kvm,
            )?;
            if !self.binding.populate(binding) {
                return Err(EINVAL);
            }
            self.access.store(true, Ordering::Release);
            return Ok(0);
        }
        if !self.access_granted() {
            return Err(EINVAL);
        }
        self.dev.pm_get()?;
        let ret = match cmd {
            uapi::VFIO_DEVICE_ATTACH_IOMMUFD_PT if self.group.is_none() => {
                device_cdev::attach_pt(self.dev, arg).map(|()| 0)
            }
            uapi::VFIO_DEVICE_DETACH_IOMMUFD_PT if self.group.is_none() => {
                device_cdev::detach_pt(self.dev, arg).map(|()| 0)
            }
            uapi::VFIO_DEVICE_FEATURE => device_feature::ioctl(&self.dev, arg),
            uapi::VFIO_DEVICE_GET_REGION_INFO => self.region_info(arg).map(|()| 0),
            _ => self.dev.driver_ioctl(cmd, arg),
        };
        self.dev.pm_put();
        ret
    }
}

impl DeviceFile {
    /// `VFIO_DEVICE_GET_REGION_INFO`: the driver fills the info and capabilities; the core
    /// lays the chain out after the struct, or asks for a bigger `argsz`.
    fn region_info(&self, arg: usize) -> Result {
        const INFO_SIZE: usize = size_of::<bindings::vfio_region_info>();
        if !self.dev.has_region_info() {
            return Err(EINVAL);
        }
        let mut reader = UserSlice::new(UserPtr::from_addr(arg), INFO_SIZE).reader();
        let mut info = bindings::vfio_region_info {
            argsz: reader.read::<u32>()?,
            flags: reader.read::<u32>()?,
            index: reader.read::<u32>()?,
            cap_offset: reader.read::<u32>()?,
            size: reader.read::<u64>()?,
            offset: reader.read::<u64>()?,
        };
        if (info.argsz as usize) < INFO_SIZE {
            return Err(EINVAL);
        }
        let mut caps = OwnedInfoCap::new();
        self.dev.region_info(&mut info, caps.raw_mut())?;
        let mut buf = caps.buf();
        if buf.len() > 0 {
            info.flags |= uapi::VFIO_REGION_INFO_FLAG_CAPS;
            if (info.argsz as usize) < INFO_SIZE + buf.len() {
                info.argsz = (INFO_SIZE + buf.len()) as u32;
                info.cap_offset = 0;
            } else {
                info_cap::shift(&mut buf, INFO_SIZE);
                UserSlice::new(UserPtr::from_addr(arg + INFO_SIZE), buf.len())
                    .writer()
                    .write_slice(buf.as_mut_slice())?;
                info.cap_offset = INFO_SIZE as u32;
            }
        }
        let mut writer = UserSlice::new(UserPtr::from_addr(arg), INFO_SIZE).writer();
        writer.write(&info.argsz)?;
        writer.write(&info.flags)?;
        writer.write(&info.index)?;
        writer.write(&info.cap_offset)?;
        writer.write(&info.size)?;
        writer.write(&info.offset)?;
        Ok(())
    }
}
