// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of vfio_iommu_type1.ko for what Rust cannot reach directly: static
 * inlines, iterator callbacks, list walks and lock/call/unlock sequences that
 * must stay together. Linked only into that module, never exported;
 * prototypes in include/vfio-rs/type1_helpers.h.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/hugetlb.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>

#include <vfio-rs/type1_helpers.h>

static int vfio_rs_alloc_for_first_dev(struct device *dev, void *data)
{
	*(struct iommu_domain **)data = iommu_paging_domain_alloc(dev);
	return 1; /* one device is enough: the group shares one IOMMU */
}

struct iommu_domain *vfio_rs_group_paging_domain_alloc(struct iommu_group *group)
{
	struct iommu_domain *domain = ERR_PTR(-ENODEV);

	iommu_group_for_each_dev(group, &domain, vfio_rs_alloc_for_first_dev);
	return domain;
}

bool vfio_rs_domain_enforce_cache_coherency(struct iommu_domain *domain)
{
	return domain->ops->enforce_cache_coherency &&
	       domain->ops->enforce_cache_coherency(domain);
}

const void *vfio_rs_domain_ops(struct iommu_domain *domain)
{
	return domain->ops;
}

void vfio_rs_domain_info(struct iommu_domain *domain, u64 *aperture_start,
			 u64 *aperture_end, u64 *pgsize_bitmap)
{
	*aperture_start = domain->geometry.aperture_start;
	*aperture_end = domain->geometry.aperture_end;
	*pgsize_bitmap = domain->pgsize_bitmap;
}

int vfio_rs_group_resv_regions(struct iommu_group *group,
			       struct vfio_rs_resv_region *out, int max)
{
	struct iommu_resv_region *region, *next;
	LIST_HEAD(regions);
	int n = 0;
	int ret;

	ret = iommu_get_group_resv_regions(group, &regions);
	list_for_each_entry_safe(region, next, &regions, list) {
		if (n < max) {
			out[n].start = region->start;
			out[n].length = region->length;
			out[n].type = region->type;
		}
		n++;
		kfree(region);
	}
	return ret ? ret : n;
}

static long vfio_rs_pin_user_pages(struct mm_struct *mm, unsigned long vaddr,
				   long npages, bool write, struct page **pages)
{
	unsigned int flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	long ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	mmap_read_lock(mm);
	ret = pin_user_pages_remote(mm, vaddr, npages, flags, pages, NULL);
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

long vfio_rs_pin_user_pfns(struct mm_struct *mm, unsigned long vaddr,
			   long npages, bool write, unsigned long *pfns)
{
	/* The page pointers are written over with their pfns, one slot each. */
	struct page **pages = (struct page **)pfns;
	long ret, i;

	BUILD_BUG_ON(sizeof(struct page *) != sizeof(unsigned long));
	ret = vfio_rs_pin_user_pages(mm, vaddr, npages, write, pages);
	for (i = 0; i < ret; i++)
		pfns[i] = page_to_pfn(pages[i]);
	return ret;
}

/* A packed run (VFIO_RS_RUN_*). */
static unsigned long vfio_rs_run(unsigned long pfn, unsigned long len, bool rsvd)
{
	return pfn | len << VFIO_RS_RUN_PFN_BITS |
	       (unsigned long)rsvd << VFIO_RS_RUN_RSVD_BIT;
}

/*
 * The file whose page cache vma maps, if its pages can be pinned through the
 * file as GUP with FOLL_LONGTERM [| FOLL_WRITE] would pin them through the page
 * tables: a shared (VM_SHARED, so no private COW copies) mapping of a shmem or
 * hugetlbfs file (memfd, MAP_SHARED | MAP_ANONYMOUS, MAP_SHARED | MAP_HUGETLB,
 * a hugetlbfs file) that check_vma_flags() accepts (no VM_IO/VM_PFNMAP,
 * VM_WRITE for a write, VM_READ otherwise), without userfaultfd (whose faults
 * memfd_pin_folios() would bypass). Returns the file with a reference, the
 * file offset of addr in *pos and *npages cut at the end of the VMA; NULL for
 * every other mapping. mm's mmap lock is held.
 */
static struct file *vfio_rs_folio_file(struct vm_area_struct *vma,
				       unsigned long addr, bool write,
				       long *npages, loff_t *pos)
{
	vm_flags_t flags = vma->vm_flags;

	if (!vma->vm_file)
		return NULL;
	if (!(flags & VM_SHARED) || (flags & (VM_IO | VM_PFNMAP)) ||
	    !(flags & (write ? VM_WRITE : VM_READ)) || userfaultfd_armed(vma))
		return NULL;
	if (!shmem_file(vma->vm_file) && !is_file_hugepages(vma->vm_file))
		return NULL;
	*npages = min(*npages, (long)((vma->vm_end - addr) >> PAGE_SHIFT));
	*pos = ((loff_t)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
	return get_file(vma->vm_file);
}

/* Pages of folio i of a memfd_pin_folios() result a pin covers: from *first. */
static long vfio_rs_folio_pages(struct folio *folio, unsigned long offset,
				long left, struct page **first)
{
	*first = folio_page(folio, offset);
	return min_t(long, folio_nr_pages(folio) - offset, left);
}

/*
 * memfd_pin_folios() of up to max_runs folios holding npages pages of file
 * from pos, then, as iommufd's pin_memfd_pages(), folio_add_pins() so that
 * each page carries one pin as if GUP had pinned it (the per-run unpin then
 * stays valid, also for part of a folio). The folio pointers in buf are packed
 * over with the runs (a folio adds at most one run). Returns the runs and the
 * pages in *pinned, or <= 0 with nothing pinned.
 */
static long vfio_rs_pin_file_runs(struct file *file, loff_t pos, long npages,
				  unsigned long *buf, long max_runs,
				  long *pinned)
{
	struct folio **folios = (struct folio **)buf;
	unsigned long run_pfn = 0, run_len = 0;
	bool run_rsvd = false;
	struct page *page;
	pgoff_t offset;
	long nfolios, i, j, len, done = 0, n = 0;

	nfolios = memfd_pin_folios(file, pos,
				   pos + ((loff_t)npages << PAGE_SHIFT) - 1,
				   folios, max_runs, &offset);
	if (nfolios <= 0)
		return nfolios;
	offset >>= PAGE_SHIFT;
	/* One pin per page first, so that a failure leaves nothing half done. */
	for (i = 0; i < nfolios; i++) {
		len = vfio_rs_folio_pages(folios[i], i ? 0 : offset,
					  npages - done, &page);
		if (len > 1 && folio_add_pins(folios[i], len - 1))
			break;
		done += len;
	}
	if (i < nfolios) {
		for (j = 0, done = 0; j < i; j++) {
			len = vfio_rs_folio_pages(folios[j], j ? 0 : offset,
						  npages - done, &page);
			unpin_user_page_range_dirty_lock(page, len, false);
			done += len;
		}
		for (; j < nfolios; j++)
			unpin_folio(folios[j]);
		return -ENOMEM;
	}
	*pinned = done;
	/* Run n is written once folio n or a later one has been read. */
	for (i = 0, done = 0; i < nfolios; i++) {
		unsigned long pfn;
		bool rsvd;

		len = vfio_rs_folio_pages(folios[i], i ? 0 : offset,
					  *pinned - done, &page);
		pfn = page_to_pfn(page);
		rsvd = PageReserved(page);
		done += len;
		if (run_len && run_pfn + run_len == pfn && run_rsvd == rsvd &&
		    run_len + len <= VFIO_RS_RUN_NPAGES_MAX) {
			run_len += len;
			continue;
		}
		if (run_len)
			buf[n++] = vfio_rs_run(run_pfn, run_len, run_rsvd);
		run_pfn = pfn;
		run_len = len;
		run_rsvd = rsvd;
	}
	buf[n++] = vfio_rs_run(run_pfn, run_len, run_rsvd);
	return n;
}

/*
 * The pages of a private hugetlb VMA from vaddr to end, under the mmap lock
 * (a shared one goes through its file): a huge page is always mapped whole, so
 * one GUP of its first page in the range pins (and faults in, unshares or
 * migrates off ZONE_MOVABLE) the whole folio, and folio_add_pins() gives each
 * further page its own pin, as upstream's GUP of every page would. The runs
 * are the folios, merged where physically adjacent.
 */
static long vfio_rs_pin_hugetlb_runs(struct mm_struct *mm,
				     struct vm_area_struct *vma,
				     unsigned long vaddr, unsigned long end,
				     long max_runs, unsigned int flags,
				     unsigned long *buf, long *pinned)
{
	unsigned long hsize = huge_page_size(hstate_vma(vma));
	unsigned long last_pfn = 0, last_len = 0;
	long n = 0, done = 0, ret;

	while (vaddr < end && n < max_runs) {
		unsigned long next = min(ALIGN_DOWN(vaddr, hsize) + hsize, end);
		unsigned long len = (next - vaddr) >> PAGE_SHIFT, pfn;
		struct folio *folio;
		struct page *page;

		ret = pin_user_pages_remote(mm, vaddr, 1, flags, &page, NULL);
		if (ret != 1)
			goto partial;
		folio = page_folio(page);
		/* Never past the folio, whatever the page tables said. */
		len = min_t(unsigned long, len,
			    folio_nr_pages(folio) - folio_page_idx(folio, page));
		if (len > 1) {
			ret = folio_add_pins(folio, len - 1);
			if (ret) {
				unpin_user_page(page);
				goto partial;
			}
		}
		pfn = page_to_pfn(page);
		if (n && pfn == last_pfn + last_len &&
		    last_len + len <= VFIO_RS_RUN_NPAGES_MAX) {
			last_len += len;
			buf[n - 1] = vfio_rs_run(last_pfn, last_len, false);
		} else {
			last_pfn = pfn;
			last_len = len;
			buf[n++] = vfio_rs_run(pfn, len, false);
		}
		done += len;
		vaddr += len << PAGE_SHIFT;
	}
	*pinned = done;
	return n;
partial:
	/* As GUP: what was pinned, or the error of the first page. */
	*pinned = done;
	return n ? n : (ret ? ret : -EFAULT);
}

/* GUP of up to npages pages into buf, then the stretches of contiguous pages packed over it. */
static long vfio_rs_pin_page_runs(struct mm_struct *mm, unsigned long vaddr,
				  long npages, unsigned int flags,
				  unsigned long *buf, long *pinned)
{
	struct page **pages = (struct page **)buf;
	long ret, i, n = 0;
	size_t len;

	BUILD_BUG_ON(sizeof(struct page *) != sizeof(unsigned long));
	ret = pin_user_pages_remote(mm, vaddr, npages, flags, pages, NULL);
	if (ret <= 0)
		return ret;
	/*
	 * Stretches of contiguous page pointers, as upstream's
	 * vfio_pin_pages_remote() walks them: GUP returns no invalid pfns, so
	 * "reserved" is PageReserved() of a stretch's first page (the zero page
	 * of a read-only mapping, say). Run n starts at page i >= n, so writing
	 * it never overwrites a page pointer still to be read.
	 */
	for (i = 0; i < ret; i += len, n++) {
		struct page *first = pages[i];

		len = num_pages_contiguous(&pages[i], ret - i);
		buf[n] = vfio_rs_run(page_to_pfn(first), len, PageReserved(first));
	}
	*pinned = ret;
	return n;
}

long vfio_rs_pin_user_runs(struct mm_struct *mm, unsigned long vaddr,
			   long npages, long max_runs, bool write,
			   unsigned long *buf, long *pinned,
			   unsigned long *plain_end)
{
	unsigned int flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	struct vm_area_struct *vma = NULL;
	unsigned long addr;
	long ret, file_pages;
	struct file *file;
	loff_t pos;

	BUILD_BUG_ON(MAX_PHYSMEM_BITS - PAGE_SHIFT > VFIO_RS_RUN_PFN_BITS);
	if (npages <= 0 || max_runs <= 0)
		return -EINVAL;
	npages = min(npages, (long)((ULONG_MAX - vaddr) >> PAGE_SHIFT));
	if (!mmget_not_zero(mm))
		return -ESRCH;
	mmap_read_lock(mm);
	/*
	 * No VMA lookup for one page (pinning by folio gains nothing) nor inside
	 * the ordinary VMA the last call found (GUP pins right whatever changed).
	 */
	addr = vaddr;
	if (npages > 1) {
		addr = untagged_addr_remote(mm, vaddr);
		if (addr >= *plain_end)
			vma = vma_lookup(mm, addr);
	}
	file_pages = npages;
	file = vma ? vfio_rs_folio_file(vma, addr, write, &file_pages, &pos) : NULL;
	if (file) {
		/* Pinned through the file, without the mmap lock as iommufd. */
		mmap_read_unlock(mm);
		ret = vfio_rs_pin_file_runs(file, pos, file_pages, buf,
					    max_runs, pinned);
		fput(file);
		if (ret > 0) {
			mmput(mm);
			return ret;
		}
		/*
		 * Not pinned (a hole past the end of the file, no huge page to
		 * allocate, ...): GUP then fails or faults as upstream's does.
		 */
		mmap_read_lock(mm);
		vma = NULL;
	}
	if (vma && is_vm_hugetlb_page(vma)) {
		ret = vfio_rs_pin_hugetlb_runs(mm, vma, addr,
					       min(vma->vm_end, addr + (npages << PAGE_SHIFT)),
					       max_runs, flags, buf, pinned);
	} else {
		if (vma)
			*plain_end = vma->vm_end;
		ret = vfio_rs_pin_page_runs(mm, vaddr, min(npages, max_runs),
					    flags, buf, pinned);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

bool vfio_rs_memlock_exceeded(struct mm_struct *mm, bool lock_cap,
			      unsigned long npage)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;

	/* Upstream's unlocked early check, before the charge that decides. */
	if (lock_cap || READ_ONCE(mm->locked_vm) + npage <= limit)
		return false;
	pr_warn("%s: RLIMIT_MEMLOCK (%ld) exceeded\n", "vfio_pin_pages_remote",
		limit << PAGE_SHIFT);
	return true;
}

void vfio_rs_unpin_pfns(unsigned long pfn, unsigned long npages, bool dirty)
{
	unpin_user_page_range_dirty_lock(pfn_to_page(pfn), npages, dirty);
}

int vfio_rs_lock_acct(struct task_struct *task, struct mm_struct *mm,
		      bool lock_cap, long npage, bool async)
{
	int ret;

	if (!npage)
		return 0;
	if (async && !mmget_not_zero(mm))
		return -ESRCH; /* process exited */
	ret = mmap_write_lock_killable(mm);
	if (!ret) {
		ret = __account_locked_vm(mm, abs(npage), npage > 0, task,
					  lock_cap);
		mmap_write_unlock(mm);
	}
	if (async)
		mmput(mm);
	return ret;
}

bool vfio_rs_capable_ipc_lock(void)
{
	return capable(CAP_IPC_LOCK);
}

void vfio_rs_unmap_batch(struct iommu_domain *domain,
			 struct vfio_rs_unmap_region *regions, unsigned int n)
{
	struct iommu_iotlb_gather gather;
	unsigned int i;

	/* One IOTLB sync for the whole batch, as upstream's unmap_unpin_fast. */
	iommu_iotlb_gather_init(&gather);
	for (i = 0; i < n; i++)
		regions[i].unmapped = iommu_unmap_fast(domain, regions[i].iova,
						       regions[i].len, &gather);
	iommu_iotlb_sync(domain, &gather);
}

/* untagged_addr_remote(): the caller holds mm's mmap lock. */
unsigned long vfio_rs_untagged_addr_remote(struct mm_struct *mm,
					   unsigned long addr)
{
	return untagged_addr_remote(mm, addr);
}
