// SPDX-License-Identifier: GPL-2.0

//! The container, `/dev/vfio/vfio`: groups sharing one IOMMU driver instance.
//!
//! A container is unprivileged until a group joins; only then may `VFIO_SET_IOMMU` pick an IOMMU
//! driver and open its instance, the backend, which goes away with the last group (upstream
//! semantics).
//!
//! Lock order: group state, then [`Container::state`], then the IOMMU driver registry, then
//! [`Container::backend`] (a spinlock held only to copy or swap the reference). Backend ioctls
//! take a reference to the instance and run with no lock held (upstream reads the container's
//! driver with no lock at all); the backend is replaced under [`Container::state`].

use crate::{
    iommu_driver,
    kernel_ext::{
        first_inline::FirstInline,
        iommu::{
            DmaOwnership,
            IommuGroup, //
        },
        uapi,
        vfio::iommu_driver::Backend,
    },
};
use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    new_mutex, new_spinlock,
    prelude::*,
    sync::{
        Arc,
        ArcBorrow,
        Mutex,
        SpinLock, //
    },
};

/// `enum vfio_group_type` value of groups backed by a real IOMMU group.
pub(crate) const VFIO_IOMMU: u32 = 0;
/// `enum vfio_group_type` value of an emulated-IOMMU device's own group.
pub(crate) const VFIO_EMULATED_IOMMU: u32 = 1;

/// The private data of an open `/dev/vfio/vfio`, shared with the groups that join it.
#[pin_data]
pub(crate) struct Container {
    #[pin]
    state: Mutex<ContainerState>,
    /// The IOMMU driver instance once `VFIO_SET_IOMMU` succeeded, until the last group leaves;
    /// written under `state`. A spinlock, not `state`: every container ioctl reads it, and a
    /// mutex's lockdep bookkeeping costs more than the read on debug kernels.
    #[pin]
    backend: SpinLock<Option<Arc<Backend>>>,
}

struct ContainerState {
    /// Member groups, newest first (as upstream's `list_add`); one is inline, so joining a
    /// container allocates nothing.
    groups: FirstInline<Member>,
}

/// A group in a container and its `enum vfio_group_type`.
type Member = (IommuGroup, u32);

/// A group's membership in a container: holds the group's DMA ownership and the container.
pub(crate) struct Membership {
    container: Arc<Container>,
    group: IommuGroup,
    /// Claimed for groups with a real IOMMU group only, as upstream.
    _dma: Option<DmaOwnership>,
}

#[vtable]
impl MiscDevice for Container {
    type Ptr = Arc<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Container {
                state <- new_mutex!(ContainerState {
                    groups: FirstInline::new(),
                }),
                backend <- new_spinlock!(None),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn ioctl(me: ArcBorrow<'_, Container>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            uapi::VFIO_GET_API_VERSION => Ok(uapi::VFIO_API_VERSION as isize),
            uapi::VFIO_CHECK_EXTENSION => Ok(me.check_extension(arg)),
            uapi::VFIO_SET_IOMMU => me.set_iommu(arg).map(|()| 0),
            _ => {
                // Everything else belongs to the backend; without one upstream says -EINVAL.
                let backend = me.backend().ok_or(EINVAL)?;
                let ret = backend.ioctl(cmd, arg);
                if ret < 0 {
                    return Err(Error::from_errno(ret as i32));
                }
                Ok(ret)
            }
        }
    }
}

impl Container {
    /// `VFIO_CHECK_EXTENSION`: the backend's answer once set, else the first positive answer
    /// of the registered IOMMU drivers.
    fn check_extension(&self, ext: usize) -> isize {
        match self.backend() {
            Some(b) => b.ioctl(uapi::VFIO_CHECK_EXTENSION, ext),
            None => iommu_driver::check_extension(ext),
        }
    }

    /// `VFIO_SET_IOMMU`: needs a group and no backend yet; tries the IOMMU drivers newest first
    /// and keeps the first that supports `arg`, opens and takes every group.
    fn set_iommu(&self, arg: usize) -> Result {
        let state = self.state.lock();
        if state.groups.is_empty() || self.backend.lock().is_some() {
            return Err(EINVAL);
        }
        let backend = iommu_driver::open_first(arg, |driver, module| {
            let backend = Backend::open(driver, module, arg)?;
            attach_all(&backend, &state.groups)?;
            Ok(backend)
        })?;
        *self.backend.lock() = Some(Arc::new(backend, GFP_KERNEL)?);
        Ok(())
    }

    /// Adds a group (`VFIO_GROUP_SET_CONTAINER`): claims its DMA for userspace (real IOMMU
    /// groups only) and attaches it to the backend if one is set.
    pub(crate) fn attach_group(
        this: Arc<Container>,
        group: &IommuGroup,
        group_type: u32,
        owner: usize,
    ) -> Result<Membership> {
        let dma = match group_type {
            VFIO_IOMMU => Some(group.claim_dma_owner(owner)?),
            _ => None,
        };
        {
            let mut state = this.state.lock();
            state.groups.reserve_one(GFP_KERNEL)?;
            if let Some(backend) = this.backend() {
                backend.attach_group(group, group_type)?;
            }
            state
                .groups
                .push_front_reserved((group.clone(), group_type));
        }
        Ok(Membership {
            container: this,
            group: group.clone(),
            _dma: dma,
        })
    }

    /// The backend instance, once `VFIO_SET_IOMMU` succeeded (device opens need one).
    pub(crate) fn backend(&self) -> Option<Arc<Backend>> {
        self.backend.lock().clone()
    }
}

/// Attaches every group to a new backend instance, undoing on the first failure.
fn attach_all(backend: &Backend, groups: &FirstInline<Member>) -> Result {
    for (i, (group, group_type)) in groups.iter().enumerate() {
        if let Err(e) = backend.attach_group(group, *group_type) {
            for (done, _) in (0..i).rev().filter_map(|j| groups.get(j)) {
                backend.detach_group(done);
            }
            return Err(e);
        }
    }
    Ok(())
}

impl Membership {
    /// The container the group is in.
    pub(crate) fn container(&self) -> &Arc<Container> {
        &self.container
    }
}

impl Drop for Membership {
    /// Leaves the container: detach from the backend, and release the backend with the last
    /// group. DMA ownership is released after, when `_dma` drops.
    fn drop(&mut self) {
        let mut state = self.container.state.lock();
        if let Some(backend) = self.container.backend() {
            backend.detach_group(&self.group);
        }
        state
            .groups
            .remove_first_match(|(g, _)| g.same(&self.group));
        if state.groups.is_empty() {
            // The instance is released when its last in-flight ioctl drops its reference (not
            // under the spinlock: releasing sleeps).
            let old = self.container.backend.lock().take();
            drop(old);
        }
    }
}
