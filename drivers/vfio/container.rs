// SPDX-License-Identifier: GPL-2.0

//! The container, `/dev/vfio/vfio`: groups sharing one IOMMU driver instance.
//!
//! A container is unprivileged until a group joins; only then may `VFIO_SET_IOMMU` pick an IOMMU
//! driver and open its instance, the backend, which goes away with the last group (upstream
//! semantics).
//!
//! Lock order: group state, then [`Container::state`], then the IOMMU driver registry. Joining,
//! leaving and `VFIO_SET_IOMMU` hold the state for writing; a backend ioctl holds it for reading
//! only to take a reference to the backend, and runs with no lock held (upstream holds its
//! `group_lock` for reading throughout: on a lockdep kernel every lock the backend takes per page
//! then costs more, one held lock deeper). One semaphore, as upstream: every lock initialised at
//! open costs on debug kernels.

use crate::{
    iommu_driver,
    kernel_ext::{
        counted::Counted,
        first_inline::FirstInline,
        iommu::{
            DmaOwnership,
            IommuGroup, //
        },
        new_rw_lock,
        rw_lock::RwLock,
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
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
};

/// `enum vfio_group_type` value of groups backed by a real IOMMU group.
pub(crate) const VFIO_IOMMU: u32 = 0;
/// `enum vfio_group_type` value of an emulated-IOMMU device's own group.
pub(crate) const VFIO_EMULATED_IOMMU: u32 = 1;

/// The private data of an open `/dev/vfio/vfio`, shared with the groups that join it.
///
/// Reference-counted as a [`Counted`], not an `Arc`: opening the container is one allocation
/// that benchmarks time, and `Counted` allocates it as upstream's C does.
#[pin_data]
pub(crate) struct Container {
    #[pin]
    state: RwLock<ContainerState>,
}

struct ContainerState {
    /// Member groups, newest first (as upstream's `list_add`); one is inline, so joining a
    /// container allocates nothing.
    groups: FirstInline<Member>,
    /// The IOMMU driver instance once `VFIO_SET_IOMMU` succeeded, until the last group leaves.
    backend: Option<Arc<Backend>>,
}

/// A group in a container and its `enum vfio_group_type`.
type Member = (IommuGroup, u32);

/// A group's membership in a container: holds the group's DMA ownership and the container.
pub(crate) struct Membership {
    container: ARef<Counted<Container>>,
    group: IommuGroup,
    /// Claimed for groups with a real IOMMU group only, as upstream.
    _dma: Option<DmaOwnership>,
}

#[vtable]
impl MiscDevice for Container {
    type Ptr = ARef<Counted<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr> {
        Counted::new(try_pin_init!(Container {
            state <- new_rw_lock!(ContainerState {
                groups: FirstInline::new(),
                backend: None,
            }),
        }? Error))
    }

    fn ioctl(me: &Counted<Container>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
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
        let mut state = self.state.write();
        if state.groups.is_empty() || state.backend.is_some() {
            return Err(EINVAL);
        }
        let backend = iommu_driver::open_first(arg, |driver, module| {
            let backend = Backend::open(driver, module, arg)?;
            attach_all(&backend, &state.groups)?;
            Ok(backend)
        })?;
        state.backend = Some(Arc::new(backend, GFP_KERNEL)?);
        Ok(())
    }

    /// Adds a group (`VFIO_GROUP_SET_CONTAINER`): claims its DMA for userspace (real IOMMU
    /// groups only) and attaches it to the backend if one is set.
    pub(crate) fn attach_group(
        this: ARef<Counted<Container>>,
        group: &IommuGroup,
        group_type: u32,
        owner: usize,
    ) -> Result<Membership> {
        let dma = match group_type {
            VFIO_IOMMU => Some(group.claim_dma_owner(owner)?),
            _ => None,
        };
        {
            let mut state = this.state.write();
            state.groups.reserve_one(GFP_KERNEL)?;
            if let Some(backend) = &state.backend {
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
        self.state.read().backend.clone()
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
    pub(crate) fn container(&self) -> &Container {
        &self.container
    }
}

impl Drop for Membership {
    /// Leaves the container: detach from the backend, and release the backend with the last
    /// group. DMA ownership is released after, when `_dma` drops.
    fn drop(&mut self) {
        let mut state = self.container.state.write();
        if let Some(backend) = &state.backend {
            backend.detach_group(&self.group);
        }
        state
            .groups
            .remove_first_match(|(g, _)| g.same(&self.group));
        if state.groups.is_empty() {
            // Released here unless an opened device still holds it.
            state.backend = None;
        }
    }
}
