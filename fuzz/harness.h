/* SPDX-License-Identifier: MIT */
/*
 * What the targets that feed guest memory to the library share: a
 * memory file that the source layer opens as a raw dump
 * (/proc/self/fd/N), the input placed in it, and the synthetic kernel
 * of the walker targets (fuzz_kernel.c, fuzz_views.c): 4 MiB of physical
 * memory whose page tables map a 2 MiB data area at DATA_VA, and a
 * kallsyms table naming addresses in it.
 */
#ifndef VMS_FUZZ_HARNESS_H
#define VMS_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM (4u << 20)
#define PGD 0x100000ull
#define DATA_PA 0x200000ull
#define DATA_VA 0xffff888000200000ull

/* A memory file of @size zero bytes, its path in @path. A failure here
 * is the harness's, not a finding: abort. */
static inline int fuzz_memfd(const char *name, size_t size, char path[64])
{
	int fd = memfd_create(name, 0);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		abort();
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* The input at @off, and zeros where a longer one (*@last bytes) was
 * before, so that no run sees the previous one's bytes. */
static inline void fuzz_place(int fd, uint64_t off, const uint8_t *data,
			      size_t size, size_t *last)
{
	static const uint8_t zeros[4096];

	for (size_t at = size; at < *last; at += sizeof(zeros)) {
		size_t n = *last - at < sizeof(zeros) ? *last - at
						      : sizeof(zeros);
		if (pwrite(fd, zeros, n, (off_t)(off + at)) < 0)
			abort();
	}
	if (size && pwrite(fd, data, size, (off_t)off) < 0)
		abort();
	*last = size;
}

#ifdef VMS_LINUX_KERNEL_H
/* The synthetic kernel's page tables, in the memory file @fd: the data
 * area as one 2 MiB page in the kernel half. (Tables a target needs
 * beyond that, such as a process's, are in the data area: input like
 * the rest.) */
static inline void fake_page_tables(int fd)
{
	const uint64_t e[3] = { (PGD + 0x1000) | 3, (PGD + 0x2000) | 3,
				DATA_PA | 0x83 };
	const uint64_t at[3] = { PGD + 8 * ((DATA_VA >> 39) & 511),
				 PGD + 0x1000 + 8 * ((DATA_VA >> 30) & 511),
				 PGD + 0x2000 + 8 * ((DATA_VA >> 21) & 511) };

	for (int i = 0; i < 3; i++)
		if (pwrite(fd, &e[i], 8, (off_t)at[i]) != 8)
			abort();
}

/* The kallsyms table: @n data symbols, @names[i] at DATA_VA + @offs[i]. */
static inline void fake_syms(struct vms_ksyms *ks, const char *const *names,
			     const uint64_t *offs, uint32_t n)
{
	size_t used = 0, total = 0;

	for (uint32_t i = 0; i < n; i++)
		total += strlen(names[i]) + 1;
	memset(ks, 0, sizeof(*ks));
	ks->n = n;
	ks->addr = malloc(8 * (size_t)n);
	ks->type = calloc(n, 1);
	ks->name = calloc(n, 4);
	ks->pool = malloc(total);
	if (!ks->addr || !ks->type || !ks->name || !ks->pool)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		ks->addr[i] = DATA_VA + offs[i];
		ks->type[i] = 'D';
		ks->name[i] = (uint32_t)used;
		memcpy(ks->pool + used, names[i], strlen(names[i]) + 1);
		used += strlen(names[i]) + 1;
	}
	if (vms_ksyms_index(ks))
		abort();
}

/* What a walker target keeps between runs: its memory file, and the
 * length of the last input placed in it. */
struct fake_mem {
	bool open;
	int fd;
	char path[64];
	size_t last;
};

/* Start one run on the synthetic kernel: the input in the data area
 * (and in @area, zero-padded to at least @pad bytes, where the target
 * reads its control words), @ctx fresh, and @k open on the memory with
 * layout @l and the @n symbols @names at DATA_VA + @offs. */
static inline void fake_begin(struct fake_mem *m, const char *name,
			      const uint8_t *data, size_t size, uint8_t *area,
			      size_t pad, struct vms_ctx *ctx,
			      struct vms_kernel *k, const struct vms_layout *l,
			      const char *const *names, const uint64_t *offs,
			      uint32_t n)
{
	if (!m->open) {
		m->fd = fuzz_memfd(name, MEM, m->path);
		fake_page_tables(m->fd);
		m->open = true;
	}
	memset(area, 0, m->last > pad ? m->last : pad);
	memcpy(area, data, size);
	fuzz_place(m->fd, DATA_PA, data, size, &m->last);
	vms_ctx_init(ctx);
	memset(k, 0, sizeof(*k));
	if (vms_source_open(ctx, m->path, &k->src))
		abort();
	k->ctx = ctx;
	vms_mmu_init(&k->mmu, k->src, &vms_x86_64_4level);
	k->pgd = PGD;
	k->l = *l;
	strcpy(k->state_letters, "RSDTtXZPI");
	k->nstates = 9;
	fake_syms(&k->ks, names, offs, n);
}

/* End the run fake_begin() started. */
static inline void fake_end(struct vms_kernel *k)
{
	vms_ksyms_fini(&k->ks);
	vms_source_close(k->src);
}
#endif

#endif
