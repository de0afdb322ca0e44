/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User API headers for bindgen (scripts/gen-bindings -> rust/generated/uapi.rs).
 * Ioctl numbers are function-like macros bindgen cannot evaluate: they are
 * mirrored as RUST_CONST_HELPER_* constants, renamed after generation, the way
 * the kernel's own rust/bindings/bindings_helper.h does it.
 */
#include <linux/types.h>
#include <uapi/linux/vfio.h>

#define VFIO_RS_IOCTL(name) const unsigned int RUST_CONST_HELPER_##name = name
VFIO_RS_IOCTL(VFIO_GET_API_VERSION);
VFIO_RS_IOCTL(VFIO_CHECK_EXTENSION);
VFIO_RS_IOCTL(VFIO_SET_IOMMU);
VFIO_RS_IOCTL(VFIO_GROUP_GET_STATUS);
VFIO_RS_IOCTL(VFIO_GROUP_SET_CONTAINER);
VFIO_RS_IOCTL(VFIO_GROUP_UNSET_CONTAINER);
VFIO_RS_IOCTL(VFIO_GROUP_GET_DEVICE_FD);
VFIO_RS_IOCTL(VFIO_DEVICE_GET_INFO);
VFIO_RS_IOCTL(VFIO_DEVICE_BIND_IOMMUFD);
