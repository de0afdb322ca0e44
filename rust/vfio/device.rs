// SPDX-License-Identifier: GPL-2.0

//! `struct vfio_device`: embedded at offset 0 of each driver's device struct, allocated by the
//! core (`_vfio_alloc_device`) and freed by the release callback of its embedded `struct device`.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::{
    bindings, helpers,
    ida::IdaRef,
    iommufd::{
        IommufdBinding,
        IommufdCtxRef,
        IommufdDevice, //
    },
    vfio::dev_set::{
        DevSet,
        SetLocked, //
    },
};
use core::ptr::NonNull;
use kernel::{
    prelude::*,
    types::Opaque, //
};

/// A `struct vfio_device`.
///
/// # Invariants
///
/// The struct was allocated by [`NewDevice::alloc`] and its embedded `struct device` was
/// initialised by [`NewDevice::initialize`], so it lives until that device's last reference.
#[repr(transparent)]
pub struct RawDevice(Opaque<bindings::vfio_device>);

// SAFETY: Shared with C code that synchronises through the set mutex and the device model.
unsafe impl Send for RawDevice {}
// SAFETY: As above; mutable fields are only written under the locks documented per method.
unsafe impl Sync for RawDevice {}

impl RawDevice {
    /// Borrows a device handed to the core by a driver.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live, initialised `struct vfio_device` for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: Per the function contract; `RawDevice` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The C struct.
    pub fn as_raw(&self) -> *mut bindings::vfio_device {
        self.0.get()
    }

    /// The device's identity, for lists that must not own it.
    pub fn id(&self) -> DeviceId {
        DeviceId(self.0.get() as usize)
    }

    /// The parent (physical or mdev) device, `vfio_device::dev`.
    pub fn parent_raw(&self) -> *mut bindings::device {
        // SAFETY: Reading a field of the live struct (type invariant).
        unsafe { (*self.0.get()).dev }
    }

    /// The driver's ops table.
    pub fn ops(&self) -> &bindings::vfio_device_ops {
        // SAFETY: Drivers pass a static, non-null ops table at allocation.
        unsafe { &*(*self.0.get()).ops }
    }

    /// The device index (`vfioN`, the cdev minor).
    pub fn index(&self) -> u32 {
        // SAFETY: Reading a field of the live struct (type invariant).
        unsafe { (*self.0.get()).index }
    }

    /// The device set, once assigned.
    pub fn dev_set(&self) -> Option<&DevSet> {
        // SAFETY: `dev_set` is null or a set that lives while it has members (the core's
        // registry frees a set only after its last device left).
        unsafe { DevSet::from_raw((*self.0.get()).dev_set) }
    }

    /// Users of the open device (`open_count`), read under the set's mutex.
    ///
    /// # Panics
    ///
    /// If `held` proves another set locked ([`SetLocked::check`]), as every method taking a
    /// [`SetLocked`] does.
    pub fn open_count(&self, held: &SetLocked<'_>) -> u32 {
        held.check(self);
        // SAFETY: Reading a field of the live struct; writers hold this device's set mutex,
        // which `held` proves the current thread holds (checked above).
        unsafe { (*self.0.get()).open_count }
    }

    /// Whether the device's `parent` is `dev`.
    pub fn has_parent(&self, parent: ParentRef) -> bool {
        core::ptr::eq(self.parent_raw(), parent.0)
    }

    /// The embedded `struct device` (the `vfioN` class device).
    pub fn class_device(&self) -> *mut bindings::device {
        // SAFETY: Field projection of the live struct.
        unsafe { &raw mut (*self.0.get()).device }
    }

    /// Sets the registration refcount to 1 (registered, no other users).
    pub fn set_registered(&self) {
        // SAFETY: Written before the device is published to users.
        unsafe { bindings::refcount_set(&raw mut (*self.0.get()).refcount, 1) };
    }

    /// Takes a registration reference unless unregistration already dropped the last one.
    pub fn try_get_registration(&self) -> bool {
        // SAFETY: `refcount` is a valid refcount_t of the live struct.
        unsafe { helpers::vfio_rs_refcount_inc_not_zero(&raw mut (*self.0.get()).refcount) }
    }

    /// Drops a registration reference; the last one wakes the unregistering thread.
    pub fn put_registration(&self) {
        // SAFETY: `refcount` and `comp` are valid fields of the live struct.
        unsafe {
            if bindings::refcount_dec_and_test(&raw mut (*self.0.get()).refcount) {
                bindings::complete(&raw mut (*self.0.get()).comp);
            }
        }
    }

    /// Waits up to `timeout_ms` for the last registration reference; `Err(ERESTARTSYS)` if
    /// interrupted (only when `interruptible`).
    pub fn wait_unused(&self, timeout_ms: u32, interruptible: bool) -> Result<bool> {
        // SAFETY: `comp` was initialised at allocation.
        let comp = unsafe { &raw mut (*self.0.get()).comp };
        // SAFETY: Converting a duration is always safe.
        let jiffies = unsafe { bindings::__msecs_to_jiffies(timeout_ms) };
        if interruptible {
            // SAFETY: `comp` is valid; sleeping is allowed in the unregister path.
            let left =
                unsafe { bindings::wait_for_completion_interruptible_timeout(comp, jiffies) };
            if left < 0 {
                return Err(ERESTARTSYS);
            }
            Ok(left > 0)
        } else {
            // SAFETY: As above.
            Ok(unsafe { bindings::wait_for_completion_timeout(comp, jiffies) } > 0)
        }
    }

    /// Calls the driver's `request` op (ask userspace to release the device), if any.
    pub fn request(&self, count: u32) {
        if let Some(request) = self.ops().request {
            // SAFETY: The driver's op accepts its own live device.
            unsafe { request(self.as_raw(), count) };
        }
    }

    /// Calls the driver's `release` op, if any (from the embedded device's release).
    pub fn call_release(&self) {
        if let Some(release) = self.ops().release {
            // SAFETY: The driver's op accepts its own device at final release.
            unsafe { release(self.as_raw()) };
        }
    }

    /// Names the class device `vfio<index>`.
    pub fn set_name(&self, index: u32) -> Result {
        // SAFETY: The embedded device is initialised; the format consumes one `unsigned int`.
        kernel::error::to_result(unsafe {
            bindings::dev_set_name(self.class_device(), c"vfio%u".as_char_ptr(), index)
        })
    }

    /// Upstream's warning when a signal interrupts the wait for users at unregistration.
    pub fn warn_blocked(&self) {
        let task = kernel::current!();
        // SAFETY: `current` is valid for this call and `comm` is NUL-terminated; the format
        // consumes one string and one int.
        unsafe {
            bindings::_dev_warn(
                self.parent_raw(),
                c"Device is currently in use, task \"%s\" (%d) blocked until device is released"
                    .as_char_ptr(),
                (*task.as_ptr()).comm.as_ptr(),
                task.pid(),
            )
        };
    }

    /// Sets `open_count`; the set's mutex is held (`held`).
    pub fn set_open_count(&self, held: &SetLocked<'_>, count: u32) {
        held.check(self);
        // SAFETY: Readers and writers hold this device's set mutex, as `held` proves the
        // current thread does (checked above).
        unsafe { (*self.0.get()).open_count = count };
    }

    /// Clears `precopy_info_v2` at last close, as upstream.
    pub fn reset_precopy_info(&self, held: &SetLocked<'_>) {
        held.check(self);
        // SAFETY: Written under this device's set mutex, which `held` proves held (checked
        // above).
        unsafe { (*self.0.get()).precopy_info_v2 = 0 };
    }

    /// Pins the module of the parent's bound driver (`dev->driver->owner`).
    pub fn get_driver_module(&self) -> Option<crate::module_ref::ModuleRef> {
        // SAFETY: The parent is bound while its vfio device is registered, so its driver and
        // the driver's module are live.
        unsafe {
            crate::module_ref::ModuleRef::try_get(helpers::vfio_rs_dev_driver_owner(
                self.parent_raw(),
            ))
        }
    }

    /// The driver's `open_device`, if any.
    pub fn call_open_device(&self, held: &SetLocked<'_>) -> Result {
        held.check(self);
        match self.ops().open_device {
            // SAFETY: Called under this device's set mutex (`held`, checked above) at first
            // open, as drivers expect.
            Some(f) => kernel::error::to_result(unsafe { f(self.as_raw()) }),
            None => Ok(()),
        }
    }

    /// The driver's `close_device`, if any.
    pub fn call_close_device(&self, held: &SetLocked<'_>) {
        held.check(self);
        if let Some(f) = self.ops().close_device {
            // SAFETY: Called under this device's set mutex (`held`, checked above) at last
            // close, as drivers expect.
            unsafe { f(self.as_raw()) };
        }
    }

    /// Whether the driver matches `name` (`ops->match`, else the parent's name).
    pub fn matches(&self, name: &CStr) -> Result<bool> {
        match self.ops().match_ {
            Some(f) => {
                // SAFETY: `name` is NUL-terminated and outlives the call; drivers only read it.
                let ret = unsafe { f(self.as_raw(), name.as_char_ptr().cast_mut()) };
                if ret < 0 {
                    return Err(Error::from_errno(ret));
                }
                Ok(ret > 0)
            }
            None => Ok(self.parent_name() == name),
        }
    }

    /// Resumes the parent for an ioctl (runtime PM); `EIO` if it cannot, as upstream.
    pub fn pm_get(&self) -> Result {
        // SAFETY: The parent is a valid, bound device.
        if unsafe { helpers::vfio_rs_pm_get(self.parent_raw()) } != 0 {
            return Err(EIO);
        }
        Ok(())
    }

    /// Drops the runtime PM reference of [`RawDevice::pm_get`].
    pub fn pm_put(&self) {
        // SAFETY: The parent is a valid, bound device.
        unsafe { helpers::vfio_rs_pm_put(self.parent_raw()) };
    }

    /// The driver's `ioctl` for commands the core does not handle; `EINVAL` without one.
    pub fn driver_ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        let Some(f) = self.ops().ioctl else {
            return Err(EINVAL);
        };
        // SAFETY: The device is open; the driver copies `arg` from userspace itself.
        let ret = unsafe { f(self.as_raw(), cmd, arg as c_ulong) };
        if ret < 0 {
            return Err(Error::from_errno(ret as c_int));
        }
        Ok(ret)
    }

    /// The driver's `device_feature`; `ENOTTY` without one.
    pub fn driver_feature(&self, flags: u32, data: usize, size: usize) -> Result<isize> {
        let Some(f) = self.ops().device_feature else {
            return Err(ENOTTY);
        };
        // SAFETY: The device is open; `data` is the user pointer to the feature payload.
        let ret = unsafe { f(self.as_raw(), flags, data as *mut c_void, size) };
        kernel::error::to_result(ret)?;
        Ok(ret as isize)
    }

    /// Whether the driver implements `get_region_info_caps`.
    pub fn has_region_info(&self) -> bool {
        self.ops().get_region_info_caps.is_some()
    }

    /// The driver's `get_region_info_caps`: fills `info` and appends capabilities to `caps`.
    pub fn region_info(
        &self,
        info: &mut bindings::vfio_region_info,
        caps: &mut bindings::vfio_info_cap,
    ) -> Result {
        let Some(f) = self.ops().get_region_info_caps else {
            return Err(EINVAL);
        };
        // SAFETY: Both are valid kernel structs for the call; `caps.buf` is null or kmalloc'ed.
        kernel::error::to_result(unsafe { f(self.as_raw(), info, caps) })
    }

    /// Points a new device file's mapping at the device inode, so zapping the inode's mapping
    /// (`unmap_mapping_range`) reaches every user mmap of the device.
    // Inline: calls vfio.ko's C helpers, device_inode.c (see kernel_ext.rs).
    #[inline]
    pub fn share_mapping(&self, file: &kernel::fs::File) {
        // SAFETY: The inode lives as long as the device; the file is new and not yet shared.
        unsafe { helpers::vfio_rs_file_set_mapping(file.as_ptr(), (*self.0.get()).inode) };
    }

    /// `vfio_device::iommufd_device`, once bound.
    fn idev(&self) -> *mut bindings::iommufd_device {
        // SAFETY: Reading a field of the live struct; writers hold the set's mutex.
        unsafe { (*self.0.get()).iommufd_device }
    }

    /// Binds the parent device to `ctx` and keeps the binding in `iommufd_device`, with an
    /// empty PASID set (`pasids`): the parent's id in `ctx`. A binding already there is
    /// dropped (unbound) first.
    pub fn bind_parent_iommufd(
        &self,
        held: &mut SetLocked<'_>,
        ctx: &IommufdCtxRef,
    ) -> Result<u32> {
        held.check(self);
        // SAFETY: The parent stays valid while its vfio device is registered, and a binding
        // is dropped (by the driver's `unbind_iommufd`, at last close) before unregistration
        // completes.
        let (binding, id) = unsafe { IommufdBinding::bind(ctx, self.parent_raw()) }?;
        drop(self.take_iommufd_binding(held));
        // SAFETY: This device's set mutex is held (`held`, checked above), which serialises
        // the users of these fields; no borrow of the old binding or of `pasids` is left, as
        // they borrow `held`, here borrowed mutably.
        unsafe {
            (*self.0.get()).iommufd_device = binding.into_raw();
            helpers::vfio_rs_ida_init(&raw mut (*self.0.get()).pasids);
        }
        Ok(id)
    }

    /// The parent's iommufd binding and the PASIDs attached through it, if bound; set's
    /// mutex held.
    pub fn iommufd_device<'a>(
        &'a self,
        held: &'a SetLocked<'_>,
    ) -> Option<(&'a IommufdDevice, &'a IdaRef)> {
        held.check(self);
        let idev = self.idev();
        if idev.is_null() {
            return None;
        }
        // SAFETY: A non-null `iommufd_device` is a live binding of this device, with `pasids`
        // initialised, by `bind_parent_iommufd`; they change only under `&mut SetLocked`,
        // which the borrow of `held` for `'a` excludes.
        Some(unsafe {
            (
                IommufdDevice::from_raw(idev),
                IdaRef::from_raw(&raw mut (*self.0.get()).pasids),
            )
        })
    }

    /// Takes the parent's binding out of `iommufd_device` (left null); dropping it unbinds.
    pub fn take_iommufd_binding(&self, held: &mut SetLocked<'_>) -> Option<IommufdBinding> {
        held.check(self);
        // SAFETY: This device's set mutex is held (`held`, checked above), which serialises
        // the field's writers.
        let idev = unsafe {
            core::mem::replace(&mut (*self.0.get()).iommufd_device, core::ptr::null_mut())
        };
        // SAFETY: A non-null field holds a binding from `bind_parent_iommufd`, now reachable
        // only through the value returned.
        NonNull::new(idev).map(|p| unsafe { IommufdBinding::from_raw(p) })
    }

    /// Whether the default PASID is attached (`iommufd_attached`); set's mutex held.
    pub fn iommufd_attached(&self, held: &SetLocked<'_>) -> bool {
        held.check(self);
        // SAFETY: Writers of the bitfield hold this device's set mutex, as `held` proves the
        // current thread does (checked above).
        unsafe { (*self.0.get()).iommufd_attached() != 0 }
    }

    /// Sets `iommufd_attached`; set's mutex held.
    pub fn set_iommufd_attached(&self, held: &SetLocked<'_>, attached: bool) {
        held.check(self);
        // SAFETY: As in `iommufd_attached`.
        unsafe { (*self.0.get()).set_iommufd_attached(u8::from(attached)) };
    }

    /// `vfio_iommufd_device_ictx`: the context the device is bound to, or null. Read without
    /// the set's mutex, as upstream does.
    pub fn bound_ictx(&self) -> *mut bindings::iommufd_ctx {
        let idev = self.idev();
        if idev.is_null() {
            return core::ptr::null_mut();
        }
        // SAFETY: `idev` is this device's live binding.
        unsafe { bindings::iommufd_device_to_ictx(idev) }
    }

    /// The device's id in its bound context (`EINVAL` if unbound).
    pub fn bound_id(&self) -> Result<u32> {
        let idev = self.idev();
        if idev.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: `idev` is this device's live binding.
        Ok(unsafe { bindings::iommufd_device_to_id(idev) })
    }

    /// The driver's `bind_iommufd` (the core checked it exists at registration).
    pub fn call_bind_iommufd(
        &self,
        held: &SetLocked<'_>,
        ctx: &crate::iommufd::IommufdCtx,
    ) -> Result<u32> {
        held.check(self);
        let f = self.ops().bind_iommufd.ok_or(EINVAL)?;
        let mut id = 0u32;
        // SAFETY: Under this device's set mutex (`held`, checked above) at first open, as
        // drivers expect; `ctx` is referenced.
        kernel::error::to_result(unsafe { f(self.as_raw(), ctx.as_raw(), &mut id) })?;
        Ok(id)
    }

    /// The driver's `unbind_iommufd`.
    pub fn call_unbind_iommufd(&self, held: &SetLocked<'_>) {
        held.check(self);
        if let Some(f) = self.ops().unbind_iommufd {
            // SAFETY: Under this device's set mutex (`held`, checked above) at last close,
            // paired with `call_bind_iommufd`.
            unsafe { f(self.as_raw()) };
        }
    }

    /// The driver's `attach_ioas`, or `pasid_attach_ioas` with a PASID.
    pub fn call_attach_ioas(
        &self,
        held: &SetLocked<'_>,
        pasid: Option<u32>,
        pt_id: &mut u32,
    ) -> Result {
        held.check(self);
        // SAFETY: Under this device's set mutex (`held`, checked above) on a bound device, as
        // drivers expect.
        let rc = unsafe {
            match pasid {
                Some(p) => {
                    (self.ops().pasid_attach_ioas.ok_or(EOPNOTSUPP)?)(self.as_raw(), p, pt_id)
                }
                None => (self.ops().attach_ioas.ok_or(EINVAL)?)(self.as_raw(), pt_id),
            }
        };
        kernel::error::to_result(rc)
    }

    /// The driver's `detach_ioas`, or `pasid_detach_ioas` with a PASID.
    pub fn call_detach_ioas(&self, held: &SetLocked<'_>, pasid: Option<u32>) -> Result {
        held.check(self);
        // SAFETY: Under this device's set mutex (`held`, checked above) on a bound device, as
        // drivers expect.
        unsafe {
            match pasid {
                Some(p) => (self.ops().pasid_detach_ioas.ok_or(EOPNOTSUPP)?)(self.as_raw(), p),
                None => (self.ops().detach_ioas.ok_or(EINVAL)?)(self.as_raw()),
            }
        }
        Ok(())
    }

    /// Whether the driver supports PASID attach (`pasid_attach_ioas`) and detach.
    pub fn has_pasid_ops(&self) -> (bool, bool) {
        (
            self.ops().pasid_attach_ioas.is_some(),
            self.ops().pasid_detach_ioas.is_some(),
        )
    }

    /// Sets the `cdev_opened` bit C drivers read (set's mutex held).
    pub fn set_cdev_opened(&self, held: &SetLocked<'_>, opened: bool) {
        held.check(self);
        // SAFETY: The bitfield byte is only written under the device's set mutex, which `held`
        // proves the current thread holds (checked above).
        unsafe { (*self.0.get()).set_cdev_opened(u8::from(opened)) };
    }

    /// The driver's VF token check (`match_token_uuid`) of the token `uuid` gives (`None`: no
    /// token). `uuid` runs only if the driver has the op, so a token is read from user space
    /// only for a driver that checks it; `None` without the op.
    pub fn match_token(&self, uuid: impl FnOnce() -> Result<Option<[u8; 16]>>) -> Option<Result> {
        let f = self.ops().match_token_uuid?;
        let uuid = match uuid() {
            Ok(u) => u,
            Err(e) => return Some(Err(e)),
        };
        let p = uuid
            .as_ref()
            .map_or(core::ptr::null(), |u| u.as_ptr().cast::<bindings::uuid_t>());
        // SAFETY: `p` is null or 16 readable bytes, a `uuid_t`.
        Some(kernel::error::to_result(unsafe { f(self.as_raw(), p) }))
    }

    /// The device whose cdev an inode being opened belongs to.
    ///
    /// # Safety
    ///
    /// `inode` must be a `/dev/vfio/devices/vfioN` inode being opened.
    pub unsafe fn from_cdev_inode<'a>(inode: *mut bindings::inode) -> &'a Self {
        // SAFETY: `i_cdev` is the `cdev` member of a `vfio_device` kept alive by the open
        // (the cdev pins the device's kobject).
        unsafe {
            let cdev = helpers::vfio_rs_inode_cdev(inode);
            Self::from_raw(
                cdev.cast::<u8>()
                    .sub(core::mem::offset_of!(bindings::vfio_device, cdev))
                    .cast(),
            )
        }
    }

    /// Takes a registration reference, proving the device stays registered until it is put.
    pub fn try_registered(&self) -> Option<RegisteredDevice> {
        if !self.try_get_registration() {
            return None;
        }
        // INVARIANT: The reference taken keeps unregistration from completing.
        NonNull::new(self.as_raw()).map(RegisteredDevice)
    }

    /// Adds the `vfioN` class device and its cdev (`/dev/vfio/devices/vfioN`) with `fops`.
    pub fn add_cdev(
        &self,
        devt: bindings::dev_t,
        fops: &'static bindings::file_operations,
        owner: *mut bindings::module,
    ) -> Result {
        let d = self.0.get();
        // SAFETY: The embedded device is initialised and not yet added; `cdev` is ours to set up.
        unsafe {
            (*d).device.devt = devt;
            bindings::cdev_init(&raw mut (*d).cdev, fops);
            (*d).cdev.owner = owner;
            kernel::error::to_result(bindings::cdev_device_add(
                &raw mut (*d).cdev,
                &raw mut (*d).device,
            ))
        }
    }

    /// Removes what [`RawDevice::add_cdev`] added.
    pub fn del_cdev(&self) {
        let d = self.0.get();
        // SAFETY: Paired with a successful `add_cdev`.
        unsafe { bindings::cdev_device_del(&raw mut (*d).cdev, &raw mut (*d).device) };
    }

    /// The IOMMU group of the parent device, if it has one.
    pub fn iommu_group(&self) -> Option<crate::iommu::IommuGroup> {
        // SAFETY: The parent of a live vfio device is a valid device.
        unsafe { crate::iommu::IommuGroup::of_device(self.parent_raw()) }
    }

    /// A fresh IOMMU group for an emulated-IOMMU device, holding its parent only.
    pub fn alloc_emulated_group(&self) -> Result<crate::iommu::IommuGroup> {
        // SAFETY: The parent of a live vfio device is a valid device; emulated-IOMMU parents
        // have no IOMMU group (upstream's contract for `vfio_register_emulated_iommu_dev`).
        unsafe { crate::iommu::IommuGroup::alloc_for_device(self.parent_raw()) }
    }

    /// Takes the parent out of the group made by [`RawDevice::alloc_emulated_group`].
    pub fn leave_emulated_group(&self, group: &crate::iommu::IommuGroup) {
        // SAFETY: The parent is valid and was added to `group` by `alloc_emulated_group`.
        unsafe { group.remove_device(self.parent_raw()) };
    }

    /// Whether the parent's IOMMU enforces DMA cache coherency.
    pub fn cache_coherent(&self) -> bool {
        // SAFETY: The parent of a live vfio device is a valid device.
        unsafe { crate::iommu::cache_coherent(self.parent_raw()) }
    }

    /// Takes a reference on the embedded device (keeps the allocation alive).
    pub fn get(&self) {
        // SAFETY: The embedded device is initialised (type invariant).
        unsafe { bindings::get_device(self.class_device()) };
    }

    /// Drops a reference on the embedded device; the last one frees the allocation.
    ///
    /// # Safety
    ///
    /// The caller must own a reference and not use `self` afterwards unless it holds another.
    pub unsafe fn put(&self) {
        // SAFETY: Per the function contract.
        unsafe { bindings::put_device(self.class_device()) };
    }

    /// The name of the parent device (for `GET_DEVICE_FD` matching and messages).
    pub fn parent_name(&self) -> &CStr {
        // SAFETY: The parent outlives its vfio device and `dev_name` returns a NUL-terminated
        // string owned by it.
        unsafe { CStr::from_char_ptr(bindings::dev_name(self.parent_raw())) }
    }
}

/// Identity of a parent `struct device` a C caller asks about (compared, never dereferenced).
#[derive(Clone, Copy)]
pub struct ParentRef(pub *const bindings::device);

/// Identity of a `vfio_device` (its address), comparable without dereferencing it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DeviceId(usize);

impl DeviceId {
    /// The device as C sees it, for returning to C callers.
    pub fn as_ptr(self) -> *mut bindings::vfio_device {
        self.0 as *mut bindings::vfio_device
    }
}

/// A freshly allocated device between `_vfio_alloc_device` and `device_initialize`: dropping it
/// frees the memory (`kvfree`), after that only the embedded device's release may.
pub struct NewDevice {
    ptr: NonNull<bindings::vfio_device>,
}

impl NewDevice {
    /// Allocates `size` zeroed bytes (the driver's struct, `vfio_device` first).
    pub fn alloc(size: usize) -> Result<Self> {
        if size < size_of::<bindings::vfio_device>() {
            return Err(EINVAL);
        }
        // SAFETY: Any size is accepted; the result is null or `size` zeroed bytes.
        let p = unsafe {
            bindings::__kvmalloc_node_noprof(
                size,
                1,
                bindings::GFP_KERNEL | bindings::__GFP_ZERO,
                bindings::NUMA_NO_NODE,
            )
        };
        NonNull::new(p.cast()).map(|ptr| Self { ptr }).ok_or(ENOMEM)
    }

    /// The struct, to fill in before [`NewDevice::initialize`].
    pub fn raw(&self) -> *mut bindings::vfio_device {
        self.ptr.as_ptr()
    }

    /// Sets the fields every later step relies on.
    pub fn set_basics(
        &self,
        parent: *mut bindings::device,
        ops: *const bindings::vfio_device_ops,
        index: u32,
    ) {
        let d = self.raw();
        // SAFETY: We own the zeroed, not yet shared allocation.
        unsafe {
            (*d).dev = parent;
            (*d).ops = ops;
            (*d).index = index;
            bindings::init_completion(&raw mut (*d).comp);
        }
    }

    /// Gives the device its inode on the core's pseudo filesystem (`vfio_device::inode`).
    // Inline: calls vfio.ko's C helpers, device_inode.c (see kernel_ext.rs).
    #[inline]
    pub fn alloc_inode(&self) -> Result {
        // SAFETY: The helper returns a new inode or an error pointer.
        let inode = kernel::error::from_err_ptr(unsafe { helpers::vfio_rs_device_inode_new() })?;
        // SAFETY: We own the not yet shared allocation.
        unsafe { (*self.raw()).inode = inode };
        Ok(())
    }

    /// Undoes [`NewDevice::alloc_inode`] when initialisation fails later.
    // Inline: calls vfio.ko's C helpers, device_inode.c (see kernel_ext.rs).
    #[inline]
    pub fn free_inode(&self) {
        // SAFETY: We own the allocation; `inode` is null or from `alloc_inode`.
        unsafe {
            let inode = (*self.raw()).inode;
            if !inode.is_null() {
                helpers::vfio_rs_device_inode_put(inode);
                (*self.raw()).inode = core::ptr::null_mut();
            }
        }
    }

    /// Calls the driver's `init` op, if any.
    pub fn call_init(&self) -> Result {
        // SAFETY: `ops` was set by `set_basics` to the driver's static table.
        let init = unsafe { (*(*self.raw()).ops).init };
        match init {
            // SAFETY: The driver's op accepts its own device before it is initialised.
            Some(init) => kernel::error::to_result(unsafe { init(self.raw()) }),
            None => Ok(()),
        }
    }

    /// `device_initialize` of the embedded device with the `vfio-dev` class and `release`;
    /// from now on only `release` (after the last `put_device`) frees the memory.
    pub fn initialize(
        self,
        class: *const bindings::class,
        release: unsafe extern "C" fn(*mut bindings::device),
    ) -> *mut bindings::vfio_device {
        let d = self.raw();
        core::mem::forget(self);
        // SAFETY: We own the allocation; the embedded device is zeroed and ours to set up.
        unsafe {
            bindings::device_initialize(&raw mut (*d).device);
            (*d).device.release = Some(release);
            (*d).device.class = class;
            (*d).device.parent = (*d).dev;
        }
        d
    }
}

impl Drop for NewDevice {
    fn drop(&mut self) {
        // SAFETY: The allocation was never initialised as a device, so it is still ours.
        unsafe { bindings::kvfree(self.ptr.as_ptr().cast()) };
    }
}

/// Frees a device from its release callback, inode included.
///
/// # Safety
///
/// `d` must be a device whose embedded `struct device` just dropped its last reference.
// Inline: calls vfio.ko's C helpers, device_inode.c (see kernel_ext.rs).
#[inline]
pub unsafe fn free(d: *mut bindings::vfio_device) {
    // SAFETY: Nobody references the allocation any more (function contract); the inode was
    // set at allocation.
    unsafe {
        if !(*d).inode.is_null() {
            helpers::vfio_rs_device_inode_put((*d).inode);
        }
        bindings::kvfree(d.cast());
    }
}

/// A device between `vfio_register_group_dev` and the end of `vfio_unregister_group_dev`:
/// the driver's contract guarantees it stays allocated and registered for that whole time,
/// so lists of the core may keep it and dereference it until unregistration removes it.
///
/// # Invariants
///
/// Points to a device for which unregistration has not completed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RegisteredDevice(NonNull<bindings::vfio_device>);

// SAFETY: See `RawDevice`.
unsafe impl Send for RegisteredDevice {}
// SAFETY: See `RawDevice`.
unsafe impl Sync for RegisteredDevice {}

impl RegisteredDevice {
    /// Wraps a device its driver is registering or has registered.
    ///
    /// # Safety
    ///
    /// `d` must be live and the value (and its copies) must not be used after the device's
    /// unregistration finished, which the core ensures by dropping them from its lists first.
    pub unsafe fn new(d: *mut bindings::vfio_device) -> Option<Self> {
        NonNull::new(d).map(Self)
    }
}

impl core::ops::Deref for RegisteredDevice {
    type Target = RawDevice;

    fn deref(&self) -> &RawDevice {
        // SAFETY: Live while registered (type invariant).
        unsafe { RawDevice::from_raw(self.0.as_ptr()) }
    }
}

/// The `vfio_device` containing an embedded `struct device`, in its release callback.
///
/// # Safety
///
/// `dev` must be the `device` member of a `struct vfio_device`.
pub unsafe fn from_class_device(dev: *mut bindings::device) -> *mut bindings::vfio_device {
    // SAFETY: Per the function contract the containing struct starts this far before.
    unsafe {
        dev.cast::<u8>()
            .sub(core::mem::offset_of!(bindings::vfio_device, device))
            .cast()
    }
}
