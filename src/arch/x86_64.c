/* SPDX-License-Identifier: MIT */
/*
 * x86-64 page-table walker (Intel SDM vol. 3, ch. 4; the kernel's view is
 * arch/x86/include/asm/pgtable_types.h).
 *
 *   63  62..52   51 ........................ 12  11..8  7   6 5 4 3 2 1 0
 *  +--+-------+-------------------------------+------+---+---------------+
 *  |NX| avail |  physical address of next table| avail| PS|  ... U/S R/W P|
 *  +--+-------+-------------------------------+------+---+---------------+
 *
 * Each level indexes 9 bits of the virtual address: bits 56..48 (PML5,
 * only with LA57), 47..39 (PML4), 38..30 (PDPT; PS=1 maps 1 GiB), 29..21
 * (PD; PS=1 maps 2 MiB), 20..12 (PT, 4 KiB). A walk ends at the first
 * entry without P. Addresses must be canonical: the bits above the
 * implemented width copy the top implemented bit.
 *
 * Guest page tables are untrusted: a walk has exactly mode->levels steps,
 * so a table that points at itself cannot make it loop.
 */
#include <string.h>

#include "mmu.h"

#define LAYER "arch"
#define PTE_P 0x1ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

const struct vms_paging_mode vms_x86_64_4level = {
	.name = "x86-64 4-level", .levels = 4, .va_bits = 48,
	.large_ok = 1 << 2 | 1 << 3,
};

const struct vms_paging_mode vms_x86_64_5level = {
	.name = "x86-64 5-level (LA57)", .levels = 5, .va_bits = 57,
	.large_ok = 1 << 2 | 1 << 3,
};

void vms_mmu_init(struct vms_mmu *mmu, struct vms_source *src,
		  const struct vms_paging_mode *mode)
{
	memset(mmu, 0, sizeof(*mmu));
	mmu->src = src;
	mmu->mode = mode;
}

void vms_mmu_flush(struct vms_mmu *mmu)
{
	memset(mmu->tlb, 0, sizeof(mmu->tlb));
	memset(mmu->ltlb, 0, sizeof(mmu->ltlb));
}

static bool canonical(const struct vms_paging_mode *m, uint64_t va)
{
	int64_t s = (int64_t)(va << (64 - m->va_bits)) >> (64 - m->va_bits);
	return (uint64_t)s == va;
}

static size_t tlb_slot(uint64_t root, uint64_t vpn)
{
	uint64_t h = (vpn ^ (root >> 12) * 0x9e3779b97f4a7c15ull);
	return (size_t)(h & (VMS_TLB_SIZE - 1));
}

static int walk(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
		uint64_t *ret, uint64_t *page_size, bool quiet, bool *nx);

int vms_mmu_translate(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
		      uint64_t *ret, uint64_t *page_size, bool quiet)
{
	uint64_t vpn = vaddr >> 12, table = root & PTE_ADDR;
	struct vms_tlb_entry *t = &mmu->tlb[tlb_slot(table, vpn)];
	bool nx;

	if (t->root == (table | 1) && t->vpn == vpn) {
		mmu->hits++;
		*ret = t->ppn_addr | (vaddr & 0xfff);
		if (page_size)
			*page_size = t->page_size;
		return 0;
	}
	for (int shift_l = 21; shift_l <= 30; shift_l += 9) {
		const struct vms_tlb_entry *l =
			&mmu->ltlb[tlb_slot(table, vaddr >> shift_l) &
				   (VMS_LTLB_SIZE - 1)];
		uint64_t size = 1ull << shift_l;

		if (l->root == (table | 1) && l->page_size == size &&
		    l->vpn == vaddr >> shift_l) {
			mmu->hits++;
			*ret = l->ppn_addr | (vaddr & (size - 1));
			*t = (struct vms_tlb_entry){
				.root = table | 1, .vpn = vpn,
				.ppn_addr = *ret & ~0xfffull,
				.page_size = size };
			if (page_size)
				*page_size = size;
			return 0;
		}
	}
	return walk(mmu, root, vaddr, ret, page_size, quiet, &nx);
}

int vms_mmu_translate_nx(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
			 uint64_t *ret, bool *nx)
{
	return walk(mmu, root, vaddr, ret, NULL, true, nx);
}

/* The walk of vms_mmu_translate(), past its caches, which it fills; *@nx
 * is set if an entry on the way forbids execution. */
static int walk(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
		uint64_t *ret, uint64_t *page_size, bool quiet, bool *nx)
{
	const struct vms_paging_mode *m = mmu->mode;
	uint64_t vpn = vaddr >> 12, table = root & PTE_ADDR, entry = 0;
	struct vms_tlb_entry *t = &mmu->tlb[tlb_slot(table, vpn)];
	int shift = 12 + 9 * (m->levels - 1);

	*nx = false;
	if (page_size)
		*page_size = 0;
	if (!canonical(m, vaddr))
		return quiet ? -EFAULT
			     : vms_err_at(mmu->src->ctx, -EFAULT, LAYER, vaddr,
					  "virtual address %#llx is not "
					  "canonical for %s",
					  (unsigned long long)vaddr, m->name);
	mmu->walks++;
	for (int level = m->levels; level >= 1; level--, shift -= 9) {
		uint64_t idx = (vaddr >> shift) & 0x1ff;
		uint64_t eaddr = table + idx * 8;
		uint8_t raw[8];
		const uint8_t *p = vms_source_ptr(mmu->src, eaddr, 8);

		if (!p) {
			int err = vms_source_read(mmu->src, eaddr, raw, 8);
			if (err) {
				/* A table outside the dump hides the span
				 * of the entry that pointed at it. */
				if (page_size)
					*page_size = 1ull << shift;
				if (quiet)
					vms_err_clear(mmu->src->ctx);
				return err;
			}
			p = raw;
		}
		entry = vms_le64(p);
		if (!(entry & PTE_P)) {
			/* Nothing below a non-present entry is mapped:
			 * scanners skip its whole span at once. */
			if (page_size)
				*page_size = 1ull << shift;
			return quiet ? -EFAULT
				     : vms_err_at(mmu->src->ctx, -EFAULT,
						  LAYER, vaddr,
						  "virtual address %#llx is "
						  "not mapped (level %d entry "
						  "at physical %#llx is not "
						  "present)",
						  (unsigned long long)vaddr,
						  level,
						  (unsigned long long)eaddr);
		}
		*nx |= entry >> 63;
		if (level > 1 && (entry & PTE_PS) &&
		    (m->large_ok >> level & 1)) {
			uint64_t size = 1ull << shift;
			uint64_t base = entry & PTE_ADDR & ~(size - 1);
			uint64_t pa = base | (vaddr & (size - 1));
			uint64_t top = (root & PTE_ADDR) | 1;
			/* Keyed by the root the walk started from: @table is
			 * this level's table by now. */
			*t = (struct vms_tlb_entry){ .root = top, .vpn = vpn,
						     .ppn_addr = pa & ~0xfffull,
						     .page_size = size };
			if (shift == 21 || shift == 30)
				mmu->ltlb[tlb_slot(root & PTE_ADDR,
						   vaddr >> shift) &
					  (VMS_LTLB_SIZE - 1)] =
					(struct vms_tlb_entry){
						.root = top,
						.vpn = vaddr >> shift,
						.ppn_addr = base,
						.page_size = size };
			*ret = pa;
			if (page_size)
				*page_size = size;
			return 0;
		}
		table = entry & PTE_ADDR;
	}
	*t = (struct vms_tlb_entry){ .root = (root & PTE_ADDR) | 1, .vpn = vpn,
				     .ppn_addr = table, .page_size = 4096 };
	*ret = table | (vaddr & 0xfff);
	if (page_size)
		*page_size = 4096;
	return 0;
}

int vms_mmu_read(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
		 void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t pa;
		size_t n = VMS_MIN(len, 4096 - (size_t)(vaddr & 0xfff));
		int err = vms_mmu_translate(mmu, root, vaddr, &pa, NULL, false);

		if (!err)
			err = vms_source_read(mmu->src, pa, out, n);
		if (err)
			return err;
		out += n;
		vaddr += n;
		len -= n;
	}
	return 0;
}

const uint8_t *vms_mmu_ptr(struct vms_mmu *mmu, uint64_t root, uint64_t vaddr,
			   size_t len)
{
	uint64_t pa0, pa, size, off = 0;

	if (!len || vms_mmu_translate(mmu, root, vaddr, &pa0, &size, true))
		return NULL;
	/* Each page (of the size that maps it) must follow the last in
	 * physical memory; at most len / 4 KiB + 1 translations. */
	while (off < len) {
		uint64_t va = vaddr + off;
		uint64_t step;

		if (va < vaddr ||
		    vms_mmu_translate(mmu, root, va, &pa, &size, true) ||
		    pa != pa0 + off || !size || (size & (size - 1)))
			return NULL;
		step = size - (va & (size - 1));
		off += step;
	}
	return vms_source_ptr(mmu->src, pa0, len);
}
