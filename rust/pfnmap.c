// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of rust/pfnmap.rs (vfio_iommu_type1.ko only): the static inlines
 * behind PFNMAP lookups and the reserved-pfn test. Declared on the Rust side
 * in rust/pfnmap.rs.
 */
#include <linux/mm.h>

#include "pfnmap.h"

/* untagged_addr_remote(): the caller holds mm's mmap lock. */
unsigned long vfio_rs_untagged_addr_remote(struct mm_struct *mm,
					   unsigned long addr)
{
	return untagged_addr_remote(mm, addr);
}

/* No struct page, or a PageReserved() one: never pinned nor accounted. */
bool vfio_rs_pfn_invalid_or_reserved(unsigned long pfn)
{
	if (pfn_valid(pfn))
		return PageReserved(pfn_to_page(pfn));
	return true;
}
