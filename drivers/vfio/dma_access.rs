// SPDX-License-Identifier: GPL-2.0

//! Which container backend an open device's DMA goes through, for `vfio_pin_pages`,
//! `vfio_unpin_pages` and `vfio_dma_rw` (emulated-IOMMU drivers call them while open).
//!
//! Upstream reads `device->group->container` without a lock because it cannot change while the
//! device is open. Drivers call these from their own paths, including backend callbacks made
//! under the backend's lock, so the lookup here takes only its own leaf lock and the call into
//! the backend holds none.

use crate::kernel_ext::{
    global::module_mutex,
    iommu::IommuGroup,
    vfio::{
        device::{
            DeviceId,
            RawDevice, //
        },
        iommu_driver::Backend,
    },
};
use kernel::{
    prelude::*,
    sync::Arc, //
};

/// One device opened through a container.
pub(crate) struct ContainerUser {
    dev: DeviceId,
    backend: Arc<Backend>,
    group: IommuGroup,
}

module_mutex! {
    /// Devices open through a container; a leaf lock.
    pub(crate) static container_users: KVec<ContainerUser> = KVec::new();
}

/// `dev` was first opened through `backend`'s container, in `group`.
pub(crate) fn container_opened(
    dev: &RawDevice,
    backend: Arc<Backend>,
    group: IommuGroup,
) -> Result {
    container_users::lock().push(
        ContainerUser {
            dev: dev.id(),
            backend,
            group,
        },
        GFP_KERNEL,
    )?;
    Ok(())
}

/// `dev`'s last close through a container.
pub(crate) fn container_closed(dev: &RawDevice) {
    let removed = {
        let mut users = container_users::lock();
        users
            .iter()
            .position(|u| u.dev == dev.id())
            .and_then(|i| users.remove(i).ok())
    };
    // The backend reference may be the last: dropped outside the lock.
    drop(removed);
}

/// The backend (and group) `dev` is open through, if it is open through a container.
pub(crate) fn container_of(dev: &RawDevice) -> Option<(Arc<Backend>, IommuGroup)> {
    container_users::lock()
        .iter()
        .find(|u| u.dev == dev.id())
        .map(|u| (u.backend.clone(), u.group.clone()))
}
