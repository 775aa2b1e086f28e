/* SPDX-License-Identifier: MIT */
/*
 * arch: guest-virtual to guest-physical translation for x86-64.
 *
 * The paging modes are data (struct vms_paging_mode); one walker drives
 * them. Small direct-mapped caches of translations sit in front of the
 * walker: one of 4 KiB pages, one of large pages. Page-table pages are
 * read through the source, whose segments are zero copy for
 * uncompressed dumps.
 */
#ifndef VMS_ARCH_MMU_H
#define VMS_ARCH_MMU_H

#include "../access/source.h"

struct vms_paging_mode {
	const char *name;	/* "x86-64 4-level", ... */
	int levels;		/* page-table levels */
	int va_bits;		/* implemented virtual-address bits */
	uint8_t large_ok;	/* bit L set: PS allowed at level L (1 = PT) */
};

extern const struct vms_paging_mode vms_x86_64_4level;
extern const struct vms_paging_mode vms_x86_64_5level;

#define VMS_TLB_SIZE 4096 /* entries, power of two */

struct vms_tlb_entry {
	uint64_t root;		/* page-table root, 0: empty */
	uint64_t vpn;		/* virtual address >> 12 */
	uint64_t ppn_addr;	/* physical address of that 4K page */
	uint64_t page_size;	/* size of the mapping page */
};

#define VMS_LTLB_SIZE 512 /* large-page entries, power of two */

struct vms_mmu {
	struct vms_source *src;		 /* physical memory */
	const struct vms_paging_mode *mode; /* how to walk */
	struct vms_tlb_entry tlb[VMS_TLB_SIZE]; /* translation cache */
	/* 2 MiB and 1 GiB mappings, by their own base (vpn: vaddr >> 21
	 * or >> 30): the kernel maps its image and all of RAM with them,
	 * so a first touch of any 4 KiB page inside needs no walk. */
	struct vms_tlb_entry ltlb[VMS_LTLB_SIZE];
	uint64_t walks;			 /* statistics: full walks */
	uint64_t hits;			 /* statistics: cache hits */
};

void vms_mmu_init(struct vms_mmu *mmu, struct vms_source *src,
		  const struct vms_paging_mode *mode);
/* Drop cached translations (after the mode or the memory changed). */
void vms_mmu_flush(struct vms_mmu *mmu);

/* Translate @vaddr under the top-level table at physical @root. Errors
 * are recorded unless @quiet (for probing walks that may fail). On
 * success *@page_size (may be NULL) is the size of the page that maps
 * @vaddr. On failure it is the size of the aligned span around @vaddr
 * that the walk proved unmapped or unreadable (a 512 GiB span for an
 * empty PML4 slot), or 0 if @vaddr is not canonical: scanners skip to
 * the span's end instead of probing each page. */
int vms_mmu_translate(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
		      uint64_t *ret, uint64_t *page_size, bool quiet);

/* vms_mmu_translate(), quiet, that also tells whether the mapping
 * forbids execution: *@nx is set if the NX bit (63) is set in any entry
 * of the walk, as the processor combines them (Intel SDM vol. 3, 4.6). */
int vms_mmu_translate_nx(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
			 uint64_t *ret, bool *nx);

/* Lowest address of the upper (kernel) half under the mode. */
static inline uint64_t vms_mmu_kernel_half(const struct vms_mmu *mmu)
{
	return ~((1ull << (mmu->mode->va_bits - 1)) - 1);
}

/* Read @len bytes of virtual memory; stops at the first hole. */
int vms_mmu_read(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
		 void *buf, size_t len);

/* A direct pointer to @len bytes of virtual memory at @vaddr, if they
 * are physically contiguous and one segment of the source maps them
 * verbatim; else NULL, with no error recorded (the caller reads them
 * instead). Valid while the source is open; for a live guest the bytes
 * change under the caller, which must copy them before it checks them. */
const uint8_t *vms_mmu_ptr(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
			   size_t len);

#endif /* VMS_ARCH_MMU_H */
