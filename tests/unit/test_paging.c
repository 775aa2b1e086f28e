/* SPDX-License-Identifier: MIT */
/*
 * The page walker on page tables built for the test: a builder maps 4K,
 * 2M and 1G pages into a synthetic physical memory, records what it
 * mapped, and every recorded mapping must translate exactly; everything
 * else must fault. Both 4- and 5-level paging.
 */
#include "testutil.h"
#include "../../src/arch/mmu.h"

#define MEM (64u << 20)
#define P 0x1ull
#define PS 0x80ull
#define NX (1ull << 63)

struct builder {
	uint8_t *mem;		/* physical memory being built */
	uint64_t next;		/* bump allocator for tables */
	uint64_t root;		/* top-level table */
	int levels;
	bool exec;		/* map leaves without NX */
	struct { uint64_t va, pa, size; } maps[64];
	int nmaps;
};

static uint64_t alloc_table(struct builder *b)
{
	uint64_t t = b->next;
	b->next += 4096;
	assert_true(b->next <= (16u << 20)); /* tables stay below 16M */
	memset(b->mem + t, 0, 4096);
	return t;
}

static void map(struct builder *b, uint64_t va, uint64_t pa, uint64_t size)
{
	uint64_t table = b->root;
	int shift = 12 + 9 * (b->levels - 1);
	int stop = size == (1ull << 30) ? 30 : size == (2ull << 20) ? 21 : 12;

	for (; shift > stop; shift -= 9) {
		uint64_t *e = (uint64_t *)(b->mem + table) +
			      ((va >> shift) & 511);
		if (!(*e & P))
			*e = alloc_table(b) | P | 2;
		table = *e & 0x000ffffffffff000ull;
	}
	uint64_t *e = (uint64_t *)(b->mem + table) + ((va >> shift) & 511);
	*e = pa | P | 2 | (stop > 12 ? PS : 0) | (b->exec ? 0 : NX);
	b->maps[b->nmaps].va = va;
	b->maps[b->nmaps].pa = pa;
	b->maps[b->nmaps++].size = size;
}

static void run(int levels)
{
	struct builder b = { .levels = levels };
	struct vms_ctx ctx;
	struct vms_source *src;
	struct vms_mmu *mmu = malloc(sizeof(*mmu));
	uint64_t pa, ps;

	b.mem = calloc(1, MEM);
	b.next = 0x100000;
	b.root = alloc_table(&b);
	uint64_t hi = levels == 5 ? 0xff11000000000000ull
				  : 0xffff888000000000ull;
	map(&b, 0xffffffff81000000ull, 0x2000000, 2 << 20);
	map(&b, 0xffffffff81200000ull, 0x3000000, 4096);
	map(&b, 0xffffffff81201000ull, 0x3ff0000, 4096);
	map(&b, hi, 0, 1ull << 30); /* 1G, beyond the file: translates */
	map(&b, 0x400000, 0x3001000, 4096); /* user half */
	if (levels == 5)
		map(&b, 0x00ff000000001000ull, 0x3002000, 4096); /* > 47 bits */
	/* A second address space mapping the image's 2M page elsewhere. */
	uint64_t root1 = b.root, root2 = alloc_table(&b);
	b.root = root2;
	map(&b, 0xffffffff81000000ull, 0x2400000, 2 << 20);
	b.nmaps--;
	b.root = root1;
	/* Executable pages: a 2M one, and a 4K one whose PD entry forbids
	 * execution for all below it. */
	b.exec = true;
	map(&b, 0xffffffff81400000ull, 0x2800000, 2 << 20);
	map(&b, 0xffffffff81600000ull, 0x3003000, 4096);
	b.exec = false;
	uint64_t *pd_entry = NULL;
	{
		uint64_t t = b.root;
		for (int l = levels, sh = 12 + 9 * (levels - 1); l > 2;
		     l--, sh -= 9)
			t = *((uint64_t *)(b.mem + t) +
			      ((0xffffffff81600000ull >> sh) & 511)) &
			    0x000ffffffffff000ull;
		pd_entry = (uint64_t *)(b.mem + t) +
			   ((0xffffffff81600000ull >> 21) & 511);
		*pd_entry |= NX;
	}
	/* Write a marker into each small page's target. */
	memcpy(b.mem + 0x3ff0000 + 0x10, "marker", 6);

	char *path = tmpfile_with(b.mem, MEM);
	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	vms_mmu_init(mmu, src, levels == 5 ? &vms_x86_64_5level
					   : &vms_x86_64_4level);
	for (int i = 0; i < b.nmaps; i++) {
		uint64_t offs[] = { 0, 8, b.maps[i].size - 1, b.maps[i].size / 2 };
		for (int j = 0; j < 4; j++) {
			assert_int_equal(vms_mmu_translate(mmu, b.root,
							   b.maps[i].va + offs[j],
							   &pa, &ps, false), 0);
			assert_int_equal(pa, b.maps[i].pa + offs[j]);
			assert_int_equal(ps, b.maps[i].size);
			/* Again, now from the cache. */
			assert_int_equal(vms_mmu_translate(mmu, b.root,
							   b.maps[i].va + offs[j],
							   &pa, &ps, false), 0);
			assert_int_equal(pa, b.maps[i].pa + offs[j]);
		}
	}
	assert_true(mmu->hits > 0);
	/* Every 4K page of a large page translates from the large-page
	 * cache once one has been walked: no more walks. */
	uint64_t walks = mmu->walks;
	for (uint64_t off = 0; off < (2 << 20); off += 4096) {
		assert_int_equal(vms_mmu_translate(mmu, b.root,
						   0xffffffff81000000ull + off,
						   &pa, &ps, false), 0);
		assert_int_equal(pa, 0x2000000 + off);
		assert_int_equal(ps, 2 << 20);
	}
	for (uint64_t off = 0; off < (1ull << 30); off += 64 << 20) {
		assert_int_equal(vms_mmu_translate(mmu, b.root, hi + off + 4096,
						   &pa, &ps, false), 0);
		assert_int_equal(pa, off + 4096);
		assert_int_equal(ps, 1ull << 30);
	}
	assert_int_equal(mmu->walks, walks);
	/* The same address under another root is that root's mapping,
	 * never the cached one; and the cache forgets on a flush. */
	assert_int_equal(vms_mmu_translate(mmu, root2,
					   0xffffffff81001000ull, &pa, &ps,
					   false), 0);
	assert_int_equal(pa, 0x2401000);
	assert_int_equal(mmu->walks, walks + 1);
	vms_mmu_flush(mmu);
	assert_int_equal(vms_mmu_translate(mmu, b.root,
					   0xffffffff81002000ull, &pa, &ps,
					   false), 0);
	assert_int_equal(pa, 0x2002000);
	assert_int_equal(mmu->walks, walks + 2);
	/* NX, as the processor combines it over the levels. */
	bool nx = false;
	assert_int_equal(vms_mmu_translate_nx(mmu, b.root,
					      0xffffffff81000000ull + 4096,
					      &pa, &nx), 0);
	assert_int_equal(pa, 0x2001000);
	assert_true(nx);
	assert_int_equal(vms_mmu_translate_nx(mmu, b.root,
					      0xffffffff81400000ull + 8, &pa,
					      &nx), 0);
	assert_int_equal(pa, 0x2800008);
	assert_false(nx);
	assert_int_equal(vms_mmu_translate_nx(mmu, b.root,
					      0xffffffff81600000ull, &pa,
					      &nx), 0);
	assert_int_equal(pa, 0x3003000);
	assert_true(nx);
	assert_int_equal(vms_mmu_translate_nx(mmu, b.root,
					      0xffffffff81202000ull, &pa,
					      &nx), -EFAULT);
	assert_int_equal(ctx.err.code, 0); /* quiet */
	/* Unmapped neighbours fault, with the address in the message. */
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0xffffffff81202000ull,
					   &pa, NULL, false), -EFAULT);
	assert_non_null(strstr(ctx.err.msg, "0xffffffff81202000"));
	vms_err_clear(&ctx);
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0x401000, &pa, NULL,
					   false), -EFAULT);
	vms_err_clear(&ctx);
	/* A fault names the span it proved empty: one 4K page next to a
	 * mapped one, the rest of a populated PD's 1G, a whole empty
	 * top-level slot. */
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0x401000, &pa, &ps,
					   true), -EFAULT);
	assert_int_equal(ps, 4096);
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0x40000000, &pa, &ps,
					   true), -EFAULT);
	assert_int_equal(ps, 1ull << 30);
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0x800000, &pa, &ps,
					   true), -EFAULT);
	assert_int_equal(ps, 2ull << 20);
	assert_int_equal(vms_mmu_translate(mmu, b.root,
					   0x0000010000000000ull, &pa, &ps,
					   true), -EFAULT);
	assert_int_equal(ps, 1ull << 39);
	if (levels == 5) {
		assert_int_equal(vms_mmu_translate(mmu, b.root,
						   0x0001000000000000ull, &pa,
						   &ps, true), -EFAULT);
		assert_int_equal(ps, 1ull << 48);
	}
	/* Non-canonical addresses fault without a walk. */
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0x0000800000000000ull
					   << (levels == 5 ? 9 : 0),
					   &pa, NULL, false), -EFAULT);
	assert_non_null(strstr(ctx.err.msg, "canonical"));
	vms_err_clear(&ctx);
	assert_int_equal(vms_mmu_translate(mmu, b.root, 0x0000800000000000ull
					   << (levels == 5 ? 9 : 0),
					   &pa, &ps, true), -EFAULT);
	assert_int_equal(ps, 0);
	/* Reads through the mapping. */
	char buf[8] = { 0 };
	assert_int_equal(vms_mmu_read(mmu, b.root, 0xffffffff81201010ull, buf,
				      6), 0);
	assert_memory_equal(buf, "marker", 6);
	/* A top-level entry pointing at the table itself: bounded walk. */
	((uint64_t *)(b.mem + b.root))[3] = b.root | P;
	vms_source_close(src);
	unlink(path);
	free(path);
	path = tmpfile_with(b.mem, MEM);
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	vms_mmu_init(mmu, src, levels == 5 ? &vms_x86_64_5level
					   : &vms_x86_64_4level);
	uint64_t self = (uint64_t)3 << (12 + 9 * (levels - 1));
	vms_mmu_translate(mmu, b.root, self, &pa, NULL, true);
	vms_source_close(src);
	unlink(path);
	free(path);
	free(b.mem);
	free(mmu);
}

static void walk_4level_maps_4k_2m_1g_pages_exactly(void **state)
{
	(void)state;
	run(4);
}

static void walk_5level_maps_4k_2m_1g_pages_exactly(void **state)
{
	(void)state;
	run(5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_4level_maps_4k_2m_1g_pages_exactly),
		cmocka_unit_test(walk_5level_maps_4k_2m_1g_pages_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
