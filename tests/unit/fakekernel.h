/* SPDX-License-Identifier: MIT */
/*
 * A synthetic kernel for walker tests: 8 MiB of physical memory, kernel
 * page tables mapping a data area with one 2 MiB page, a kallsyms table
 * of the test's choosing, and a layout table the test fills with offsets
 * unlike a real kernel's. No BTF: tests set the layout directly.
 */
#ifndef VMS_FAKEKERNEL_H
#define VMS_FAKEKERNEL_H

#include "testutil.h"
#include "../../src/linux/kernel.h"

#define FK_MEM (8u << 20)
#define FK_PGD 0x100000ull
#define FK_DATA_PA 0x200000ull
#define FK_DATA_VA 0xffff888000200000ull

struct fake {
	uint8_t *mem;		/* physical memory being built */
	struct vms_ctx ctx;
	struct vms_source *src;
	struct vms_kernel k;
	char *path;
};

static inline void fk_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline void fk_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Bytes of the data area at virtual @va. */
static inline uint8_t *fk_at(struct fake *f, uint64_t va)
{
	return f->mem + FK_DATA_PA + (va - FK_DATA_VA);
}

static inline void fk_build(struct fake *f)
{
	uint64_t *pml4, *pdpt, *pd;

	memset(f, 0, sizeof(*f));
	f->mem = calloc(1, FK_MEM);
	pml4 = (uint64_t *)(f->mem + FK_PGD);
	pdpt = (uint64_t *)(f->mem + FK_PGD + 0x1000);
	pd = (uint64_t *)(f->mem + FK_PGD + 0x2000);
	pml4[(FK_DATA_VA >> 39) & 511] = (FK_PGD + 0x1000) | 3;
	pdpt[(FK_DATA_VA >> 30) & 511] = (FK_PGD + 0x2000) | 3;
	pd[(FK_DATA_VA >> 21) & 511] = FK_DATA_PA | 0x83;
}

/* Give the kernel of a fake these @n symbols, replacing any it had. */
static inline void fk_syms(struct fake *f, const char *const *names,
			   const uint64_t *addrs, uint32_t n)
{
	size_t used = 0, total = 0;

	for (uint32_t i = 0; i < n; i++)
		total += strlen(names[i]) + 1;
	vms_ksyms_fini(&f->k.ks);
	memset(&f->k.ks, 0, sizeof(f->k.ks));
	f->k.ks.n = n;
	f->k.ks.addr = malloc(8 * (size_t)n);
	f->k.ks.type = calloc(n, 1);
	f->k.ks.name = calloc(n, 4);
	f->k.ks.pool = malloc(total);
	for (uint32_t i = 0; i < n; i++) {
		f->k.ks.addr[i] = addrs[i];
		f->k.ks.type[i] = 'D';
		f->k.ks.name[i] = (uint32_t)used;
		strcpy(f->k.ks.pool + used, names[i]);
		used += strlen(names[i]) + 1;
	}
	assert_int_equal(vms_ksyms_index(&f->k.ks), 0);
}

/* Write the memory out and open it as a kernel with one symbol. */
static inline void fk_open(struct fake *f, const char *sym, uint64_t addr,
			   const struct vms_layout *l)
{
	f->path = tmpfile_with(f->mem, FK_MEM);
	vms_ctx_init(&f->ctx);
	assert_int_equal(vms_source_open(&f->ctx, f->path, &f->src), 0);
	f->k.ctx = &f->ctx;
	f->k.src = f->src;
	vms_mmu_init(&f->k.mmu, f->src, &vms_x86_64_4level);
	f->k.pgd = FK_PGD;
	f->k.l = *l;
	strcpy(f->k.state_letters, "RSDTtXZPI");
	f->k.nstates = 9;
	fk_syms(f, &sym, &addr, 1);
}

static inline void fk_close(struct fake *f)
{
	vms_ksyms_fini(&f->k.ks);
	vms_source_close(f->src);
	unlink(f->path);
	free(f->path);
	free(f->mem);
}

#endif
