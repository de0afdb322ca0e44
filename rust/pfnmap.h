/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of rust/pfnmap.c; the Rust side declares them in rust/pfnmap.rs. */
#ifndef VFIO_RS_PFNMAP_H
#define VFIO_RS_PFNMAP_H

#include <linux/types.h>

struct mm_struct;

unsigned long vfio_rs_untagged_addr_remote(struct mm_struct *mm,
					   unsigned long addr);
bool vfio_rs_pfn_invalid_or_reserved(unsigned long pfn);

#endif
