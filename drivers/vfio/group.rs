// SPDX-License-Identifier: GPL-2.0

//! Groups: one `/dev/vfio/N` per IOMMU group with registered VFIO devices (N is the IOMMU
//! group id, the minor comes from the group IDA). A group file has a single opener, joins a
//! container and hands out device fds.
//!
//! Lock order: [`groups`] (the global list), then a group's `state`, then its container's
//! state, then the IOMMU driver registry; a set's mutex nests inside a group's `state`.

use crate::{
    container::{
        self,
        Container,
        Membership, //
    },
    device_file::DeviceFile,
    device_open::{
        self,
        Iommu,
        Opened, //
    },
    kernel_ext::{
        cdev_fops::CdevFile,
        cdev_node::{
            CdevNode,
            CdevNodeSpec, //
        },
        fd::FdRef,
        global::module_mutex,
        iommu::IommuGroup,
        iommufd::IommufdCtx,
        kmalloc_box::KmBox,
        mutex::{
            new_plain_mutex,
            Mutex, //
        },
        uaccess_ext::{
            read_user,
            write_user, //
        },
        uapi,
        vfio::{
            device::{
                DeviceId,
                RawDevice,
                RegisteredDevice, //
            },
            device_file::create_file,
            kvm::KvmSlot,
        },
    },
    Core, //
};
use kernel::{
    bindings::O_CLOEXEC,
    fs::{
        file::FileDescriptorReservation,
        File, //
    },
    page::PAGE_SIZE,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        ArcBorrow, //
    },
    uaccess::UserSlice,
};

/// A VFIO group: the registered devices of one IOMMU group.
#[pin_data]
pub(crate) struct Group {
    /// The core that made it (which outlives its groups: the module cannot unload while one
    /// exists), for `VFIO_GROUP_SET_CONTAINER` to recognise container files without a lookup.
    core: Arc<Core>,
    iommu_group: IommuGroup,
    /// An emulated-IOMMU device's own group (`VFIO_EMULATED_IOMMU`): no DMA ownership to
    /// claim, and its IOMMU group was made by the core for that device alone.
    emulated: bool,
    minor: u32,
    #[pin]
    state: Mutex<GroupState>,
    /// The VM KVM associated with the group file, for the devices' first opens.
    pub(crate) kvm: KvmSlot,
}

struct GroupState {
    node: Option<CdevNode>,
    /// Registered devices, published for `GET_DEVICE_FD`.
    devices: KVec<RegisteredDevice>,
    /// Devices that joined (`drivers` upstream), counting those not yet fully registered.
    drivers: u32,
    /// The last device left: the group only waits for its files to close.
    dead: bool,
    /// `/dev/vfio/N` is open (single opener).
    opened: bool,
    /// The container the group is in (`VFIO_GROUP_SET_CONTAINER`).
    membership: Option<Membership>,
    /// Open device files: like upstream's, they keep the group file's state until they close.
    device_users: u32,
    /// The group file was closed while devices were open: finish when the last closes.
    closing: bool,
    /// What each open device's first open left for its last close.
    opened_devices: KVec<(DeviceId, Opened)>,
    /// iommufd compat mode: `VFIO_GROUP_SET_CONTAINER` got an iommufd fd.
    iommufd: Option<IommufdCtx>,
    /// Devices of the group bound through their cdev: the group file cannot open.
    cdev_users: u32,
}

impl GroupState {
    /// What closing the group file does, once no device is open: leave the container.
    fn finish_close(&mut self) {
        self.membership = None;
        self.iommufd = None;
        self.opened = false;
        self.closing = false;
    }
}

module_mutex! {
    /// Every live group.
    pub(crate) static groups: KVec<Arc<Group>> = KVec::new();
}

impl Group {
    fn new(
        core: Arc<Core>,
        iommu_group: IommuGroup,
        emulated: bool,
        minor: u32,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Group {
                core,
                iommu_group,
                emulated,
                minor,
                state <- new_plain_mutex!(GroupState {
                    node: None,
                    devices: KVec::new(),
                    drivers: 1,
                    dead: false,
                    opened: false,
                    membership: None,
                    device_users: 0,
                    closing: false,
                    opened_devices: KVec::new(),
                    iommufd: None,
                    cdev_users: 0,
                }),
                kvm: KvmSlot::new(),
            }),
            GFP_KERNEL,
        )
    }

    /// Identity token for DMA ownership claims.
    fn owner_token(&self) -> usize {
        core::ptr::from_ref(self) as usize
    }

    /// `enum vfio_group_type` as IOMMU drivers see it.
    fn group_type(&self) -> u32 {
        if self.emulated {
            container::VFIO_EMULATED_IOMMU
        } else {
            container::VFIO_IOMMU
        }
    }

    /// Whether `dev` belongs to this group (`vfio_file_has_dev`: `device->group == group`).
    ///
    /// Lock-free on purpose: drivers ask with their set's mutex held (hot reset), and the set's
    /// mutex nests inside the group state, so comparing IOMMU groups is the only safe way.
    pub(crate) fn has_device(&self, dev: &RawDevice) -> bool {
        dev.iommu_group().is_some_and(|g| g.same(&self.iommu_group))
    }

    /// Whether the IOMMU of every registered device enforces cache coherency (true without
    /// devices), as upstream's `vfio_group_enforced_coherent`.
    pub(crate) fn enforced_coherent(&self) -> bool {
        let state = self.state.lock();
        state.devices.iter().all(|d| d.enforces_cache_coherency())
    }

    /// The IOMMU group, with a new reference, unless the group's last device left.
    pub(crate) fn live_iommu_group(&self) -> Option<IommuGroup> {
        let state = self.state.lock();
        (!state.dead).then(|| self.iommu_group.clone())
    }
}

/// Joins `dev` to the group of its parent's IOMMU group, creating `/dev/vfio/N` if needed. An
/// emulated-IOMMU device gets a new IOMMU group and VFIO group of its own.
pub(crate) fn attach_device(core: &Arc<Core>, dev: &RawDevice, emulated: bool) -> Result {
    if emulated {
        let iommu_group = dev.alloc_emulated_group()?;
        let ret = add_group(core, &mut groups::lock(), iommu_group.clone(), true);
        if ret.is_err() {
            dev.leave_emulated_group(&iommu_group);
        }
        return ret;
    }
    let iommu_group = dev.iommu_group().ok_or(EINVAL)?;
    let mut list = groups::lock();
    if let Some(group) = list.iter().find(|g| g.iommu_group.same(&iommu_group)) {
        let mut state = group.state.lock();
        if state.devices.iter().any(|d| d.id() == dev.id()) {
            kernel::warn_on!(true);
            return Err(EINVAL);
        }
        state.drivers += 1;
        return Ok(());
    }
    add_group(core, &mut list, iommu_group, false)
}

/// Creates the VFIO group of `iommu_group` and its `/dev/vfio/N`.
fn add_group(
    core: &Arc<Core>,
    list: &mut KVec<Arc<Group>>,
    iommu_group: IommuGroup,
    emulated: bool,
) -> Result {
    list.reserve(1, GFP_KERNEL)?;
    let minor = core
        .group_ida
        .alloc_max(crate::kernel_ext::chrdev::ALL_MINORS - 1)?;
    let group = CString::try_from_fmt(fmt!("{}", iommu_group.id())).and_then(|name| {
        let group = Group::new(core.clone(), iommu_group, emulated, minor)?;
        // The node holds a reference to the group for opens that race with its removal.
        let node = CdevNode::add(
            &CdevNodeSpec {
                class: core.group_class.as_raw(),
                devt: core.group_devt.base() + minor,
                name: &name,
                owner: kernel::module::this_module::<crate::LocalModule>().as_ptr(),
            },
            &crate::ffi::GROUP_FOPS,
            group.clone(),
        )?;
        group.state.lock().node = Some(node);
        Ok(group)
    });
    match group {
        Ok(group) => {
            list.push(group, GFP_KERNEL)?;
            Ok(())
        }
        Err(e) => {
            core.group_ida.free(minor);
            Err(e)
        }
    }
}

/// The group of a registered (or registering) device.
fn group_of(list: &KVec<Arc<Group>>, dev: &RawDevice) -> Option<Arc<Group>> {
    let iommu_group = dev.iommu_group()?;
    list.iter()
        .find(|g| g.iommu_group.same(&iommu_group))
        .cloned()
}

/// The group of a registered device.
pub(crate) fn of_device(dev: &RawDevice) -> Option<Arc<Group>> {
    group_of(&groups::lock(), dev)
}

impl Group {
    /// A device of the group binds through its cdev: `EBUSY` while the group file is open;
    /// otherwise the group file cannot open until [`Group::unblock_for_cdev`].
    pub(crate) fn block_for_cdev(&self) -> Result {
        let mut state = self.state.lock();
        if state.opened {
            return Err(EBUSY);
        }
        state.cdev_users += 1;
        Ok(())
    }

    /// Undoes [`Group::block_for_cdev`].
    pub(crate) fn unblock_for_cdev(&self) {
        self.state.lock().cdev_users -= 1;
    }
}

/// Makes a registered device visible to `GET_DEVICE_FD`.
pub(crate) fn publish_device(dev: RegisteredDevice) {
    let list = groups::lock();
    if let Some(group) = group_of(&list, &dev) {
        // A failed push only hides the device from the group path; it stays registered.
        let _ = group.state.lock().devices.push(dev, GFP_KERNEL);
    }
}

/// Hides a device being unregistered from the group path.
pub(crate) fn unpublish_device(dev: &RawDevice) {
    let list = groups::lock();
    if let Some(group) = group_of(&list, dev) {
        let mut state = group.state.lock();
        if let Some(i) = state.devices.iter().position(|d| d.id() == dev.id()) {
            let _ = state.devices.remove(i);
        }
    }
}

/// Drops `dev` from its group; the last device removes `/dev/vfio/N`, detaches the container
/// and leaves open group files dead (`ENODEV`).
pub(crate) fn detach_device(core: &Core, dev: &RawDevice) {
    let mut list = groups::lock();
    let Some(group) = group_of(&list, dev) else {
        return;
    };
    if group.emulated {
        dev.leave_emulated_group(&group.iommu_group);
    }
    let mut state = group.state.lock();
    state.drivers -= 1;
    if state.drivers > 0 {
        return;
    }
    kernel::warn_on!(!state.devices.is_empty());
    if let Some(node) = state.node.take() {
        node.remove();
    }
    state.dead = true;
    state.membership = None;
    drop(state);
    if let Some(i) = list.iter().position(|g| Arc::ptr_eq(g, &group)) {
        let _ = list.remove(i);
    }
    core.group_ida.free(group.minor);
}

/// An open `/dev/vfio/N`: its private data is the group itself (no allocation per open;
/// upstream's `private_data` is the group too).
impl CdevFile for Group {
    type Ptr = Arc<Group>;
    /// The node holds its group (upstream's cdev is embedded in the group): an open finds it
    /// without a lookup, and an open racing with the group's removal finds it dead.
    type NodeData = Arc<Group>;

    fn open(node: ArcBorrow<'_, Group>, _file: &File) -> Result<Arc<Group>> {
        let group: Arc<Group> = node.into();
        let mut state = group.state.lock();
        if state.dead || state.drivers == 0 {
            return Err(ENODEV);
        }
        if state.opened || state.cdev_users > 0 {
            return Err(EBUSY);
        }
        state.opened = true;
        drop(state);
        Ok(group)
    }

    fn release(this: Arc<Group>, _file: &File) {
        let mut state = this.state.lock();
        // Open device fds keep the group file's container, as upstream's device files hold a
        // reference on the group file; the group stays busy until they close.
        if state.device_users == 0 {
            state.finish_close();
        } else {
            state.closing = true;
        }
    }

    fn ioctl(group: ArcBorrow<'_, Group>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            uapi::VFIO_GROUP_GET_STATUS => group.get_status(arg).map(|()| 0),
            uapi::VFIO_GROUP_SET_CONTAINER => group.set_container(arg).map(|()| 0),
            uapi::VFIO_GROUP_UNSET_CONTAINER => group.unset_container().map(|()| 0),
            uapi::VFIO_GROUP_GET_DEVICE_FD => Group::get_device_fd(group, arg),
            _ => Err(ENOTTY),
        }
    }
}

impl Group {
    /// `VFIO_GROUP_GET_STATUS`: `argsz` and `flags` in, `flags` out.
    fn get_status(&self, arg: usize) -> Result {
        // One copy in and one out, as upstream (each user copy costs a lockdep check on debug
        // kernels).
        let mut status: uapi::vfio_group_status = read_user(arg)?;
        if (status.argsz as usize) < size_of::<uapi::vfio_group_status>() {
            return Err(EINVAL);
        }
        status.flags = {
            let state = self.state.lock();
            if state.dead {
                return Err(ENODEV);
            }
            if state.membership.is_some() || state.iommufd.is_some() {
                uapi::VFIO_GROUP_FLAGS_CONTAINER_SET | uapi::VFIO_GROUP_FLAGS_VIABLE
            } else if !self.iommu_group.dma_owner_claimed() {
                uapi::VFIO_GROUP_FLAGS_VIABLE
            } else {
                0
            }
        };
        write_user(arg, &status)
    }

    /// `VFIO_GROUP_SET_CONTAINER`: joins the container whose fd `arg` points to.
    fn set_container(&self, arg: usize) -> Result {
        let fd = UserSlice::new(UserPtr::from_addr(arg), 4)
            .reader()
            .read::<i32>()?;
        // Resolved as upstream's `fdget`: no reference for a caller whose file table is not
        // shared.
        let fd = FdRef::get(fd as u32)?;
        let file = fd.file();
        let mut state = self.state.lock();
        if state.membership.is_some() || state.iommufd.is_some() {
            return Err(EINVAL);
        }
        if state.dead {
            return Err(ENODEV);
        }
        if let Some(container) = self.core.container.file_data(file) {
            state.membership = Some(Container::attach_group(
                container,
                &self.iommu_group,
                self.group_type(),
                self.owner_token(),
            )?);
            return Ok(());
        }
        // An iommufd fd: compat mode, where the context's compat IOAS plays the container.
        let ctx = IommufdCtx::from_file(file).ok_or(EBADFD)?;
        ctx.compat_ioas_create()?;
        state.iommufd = Some(ctx);
        Ok(())
    }

    /// `VFIO_GROUP_UNSET_CONTAINER`.
    fn unset_container(&self) -> Result {
        let mut state = self.state.lock();
        if state.membership.is_none() && state.iommufd.is_none() {
            return Err(EINVAL);
        }
        // Devices opened through the container pin it (upstream's `container_users`).
        let container_users = state.opened_devices.iter().any(|(_, o)| o.via_container());
        if state.membership.is_some() && container_users {
            return Err(EBUSY);
        }
        state.membership = None;
        state.iommufd = None;
        Ok(())
    }
}

impl Group {
    /// `VFIO_GROUP_GET_DEVICE_FD`: finds the device by name (the driver's `match`, else the
    /// parent's name), opens it and returns an `O_CLOEXEC` fd.
    fn get_device_fd(this: ArcBorrow<'_, Group>, arg: usize) -> Result<isize> {
        let mut buf = KVec::from_elem(0u8, PAGE_SIZE + 1, GFP_KERNEL)?;
        let name = UserSlice::new(UserPtr::from_addr(arg), PAGE_SIZE + 1)
            .reader()
            .strcpy_into_buf(&mut buf)?;
        // As `strndup_user(arg, PAGE_SIZE)`: no terminator within a page is an error.
        if name.to_bytes().len() >= PAGE_SIZE {
            return Err(EINVAL);
        }
        let dev = this.find_device(name)?;
        let ret = Group::open_device_fd(this, dev);
        if ret.is_err() {
            dev.put_registration();
        }
        ret
    }

    fn open_device_fd(this: ArcBorrow<'_, Group>, dev: RegisteredDevice) -> Result<isize> {
        // The fd is reserved first, so running out of fds never opens the device.
        let reservation = FileDescriptorReservation::get_unused_fd_flags(O_CLOEXEC)?;
        let file = KmBox::new(DeviceFile::new(dev, this.into()))?;
        this.open_device(dev)?;
        file.grant_access();
        match create_file(&crate::ffi::DEVICE_FILE_FOPS, file) {
            Ok(f) => {
                let fd = reservation.reserved_fd();
                reservation.fd_install(f);
                Ok(fd as isize)
            }
            Err((e, file)) => {
                this.close_device(file.registered());
                // The registration reference is the caller's to drop on error (the file's
                // release does not run: dropping it only frees it and its group reference).
                drop(file);
                Err(e)
            }
        }
    }
}

impl Group {
    /// A published device matching `name`, with a registration reference taken.
    fn find_device(&self, name: &CStr) -> Result<RegisteredDevice> {
        let state = self.state.lock();
        for dev in state.devices.iter() {
            if dev.matches(name)? && dev.try_get_registration() {
                return Ok(*dev);
            }
        }
        Err(ENODEV)
    }

    /// Opens `dev` for one more file; the device's first open connects it to the group's
    /// container backend or iommufd context and calls the driver's `open_device`.
    fn open_device(&self, dev: RegisteredDevice) -> Result {
        let mut state = self.state.lock();
        let backend = match &state.membership {
            Some(m) => Some(m.container().backend().ok_or(EINVAL)?),
            None if state.iommufd.is_some() => None,
            None => return Err(EINVAL),
        };
        let set = dev.dev_set().ok_or(EINVAL)?;
        let guard = set.lock();
        let count = dev.open_count(&guard);
        if count > 0 {
            dev.set_open_count(&guard, count + 1);
            state.device_users += 1;
            return Ok(());
        }
        state.opened_devices.reserve(1, GFP_KERNEL)?;
        let iommu = match (&backend, &state.iommufd) {
            (Some(b), _) => Iommu::Container(b, &self.iommu_group),
            (None, Some(ctx)) => Iommu::Iommufd(ctx),
            (None, None) => return Err(EINVAL),
        };
        dev.set_open_count(&guard, 1);
        let opened = match device_open::first_open(&dev, &guard, iommu, &self.kvm) {
            Ok(o) => o,
            Err(e) => {
                dev.set_open_count(&guard, 0);
                return Err(e);
            }
        };
        // Compat mode: the device joins the context's compat IOAS, as a container would.
        if let (None, Some(ctx)) = (&backend, &state.iommufd) {
            let attached = ctx
                .compat_ioas_id()
                .and_then(|mut ioas| dev.call_attach_ioas(&guard, None, &mut ioas));
            if let Err(e) = attached {
                device_open::last_close(&dev, &guard, &opened);
                dev.set_open_count(&guard, 0);
                return Err(e);
            }
        }
        state.device_users += 1;
        let _ = state.opened_devices.push((dev.id(), opened), GFP_KERNEL);
        Ok(())
    }

    /// Closes `dev` for one file; its last close calls `close_device` and disconnects what the
    /// first open connected, which may finish a deferred group close.
    pub(crate) fn close_device(&self, dev: RegisteredDevice) {
        let mut state = self.state.lock();
        let Some(set) = dev.dev_set() else {
            return;
        };
        let guard = set.lock();
        let count = dev.open_count(&guard);
        if kernel::warn_on!(count == 0) {
            return;
        }
        if count == 1 {
            if let Some(i) = state
                .opened_devices
                .iter()
                .position(|(id, _)| *id == dev.id())
            {
                if let Ok((_, opened)) = state.opened_devices.remove(i) {
                    device_open::last_close(&dev, &guard, &opened);
                }
            }
        }
        dev.set_open_count(&guard, count - 1);
        state.device_users -= 1;
        drop(guard);
        if state.device_users == 0 && state.closing {
            state.finish_close();
        }
    }
}
