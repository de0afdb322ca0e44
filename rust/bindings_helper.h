/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel VFIO headers for bindgen (scripts/gen-bindings ->
 * rust/generated/bindings.rs). drivers/vfio/vfio.h is upstream's private
 * header: its structs are the ABI between vfio.ko and the IOMMU backends.
 */
#include <linux/vfio.h>
#include "vfio.h"
