/* SPDX-License-Identifier: MIT */
/*
 * The maple-tree walk of a process's areas on a synthetic tree: an
 * arange root (tagged as the kernel tags roots) over two leaves, holes,
 * [heap] and [stack] naming, a stale slot whose entry is not the area it
 * claims (skipped), a tree whose node points back at the root
 * (bounded, refused), and a leaf claiming more areas than the memory cap
 * holds (refused before the list outgrows it).
 */
#include "fakekernel.h"

#define TASK (FK_DATA_VA + 0x0000)
#define MM (FK_DATA_VA + 0x1000)
#define ROOT (FK_DATA_VA + 0x2000)	/* nodes are 256-byte aligned */
#define LEAF_A (FK_DATA_VA + 0x2100)
#define LEAF_B (FK_DATA_VA + 0x2200)
#define NODE_C (FK_DATA_VA + 0x2300)	/* in loop mode: its own child */
#define VMA(i) (FK_DATA_VA + 0x3000 + 0x100 * (uint64_t)(i))
#define MAX UINT64_MAX

static const struct vms_layout L = {
	.have_maps = true, .have_files = true, .have_fs = true,
	.mm_mt_root = 40, .mm_start_brk = 8, .mm_brk = 16,
	.mm_start_stack = 24,
	.mr64_pivot = 8, .mr64_slot = 128, .mr64_npiv = 15, .mr64_nslot = 16,
	.ma64_pivot = 8, .ma64_slot = 80, .ma64_npiv = 9, .ma64_nslot = 10,
	.mt_dense = 0, .mt_leaf = 1, .mt_range = 2, .mt_arange = 3,
	.vma_start = 8, .vma_end = 16, .vma_flags = 24, .vma_pgoff = 32,
	.vma_file = 40, .vma_mm = 48, .vma_ops = 56, .vma_private = 64,
};

static uint64_t enc(uint64_t node, int type) { return node | type << 3 | 4; }

static void node(struct fake *f, uint64_t at, int npiv, const uint64_t *piv,
		 const uint64_t *slot, int n, int soff)
{
	for (int i = 0; i < n; i++) {
		if (i < npiv)
			fk_put64(fk_at(f, at + 8 + 8 * (uint64_t)i), piv[i]);
		fk_put64(fk_at(f, at + (uint64_t)soff + 8 * (uint64_t)i),
			 slot[i]);
	}
}

static void vma(struct fake *f, int i, uint64_t start, uint64_t end,
		uint64_t mm, uint64_t flags)
{
	uint8_t *v = fk_at(f, VMA(i));
	fk_put64(v + 8, start);
	fk_put64(v + 16, end);
	fk_put64(v + 24, flags);
	fk_put64(v + 48, mm);
}

static void build(struct fake *f, bool loop)
{
	fk_build(f);
	fk_put64(fk_at(f, MM + 40), enc(ROOT, 3) | 2); /* tagged root */
	fk_put64(fk_at(f, MM + 8), 0x600000);	/* start_brk */
	fk_put64(fk_at(f, MM + 16), 0x602000);	/* brk */
	fk_put64(fk_at(f, MM + 24), 0x7ff000);	/* start_stack */
	uint64_t rp[] = { 0x4fffff, MAX };
	uint64_t rs[] = { enc(LEAF_A, 1), loop ? enc(NODE_C, 3) : enc(LEAF_B, 1) };
	node(f, ROOT, 9, rp, rs, 2, 80);
	uint64_t cp[] = { MAX };
	uint64_t cs[] = { enc(NODE_C, 3) };
	node(f, NODE_C, 9, cp, cs, 1, 80);
	uint64_t ap[] = { 0x3fffff, 0x400fff, 0x4fffff };
	uint64_t as[] = { 0, VMA(1), 0 };
	node(f, LEAF_A, 15, ap, as, 3, 128);
	uint64_t bp[] = { 0x5fffff, 0x601fff, 0x77ffff, 0x7fffff, MAX };
	uint64_t bs[] = { 0, VMA(2), VMA(9), VMA(3), 0 };
	node(f, LEAF_B, 15, bp, bs, 5, 128);
	vma(f, 1, 0x400000, 0x401000, MM, 0x5);	/* r-x */
	vma(f, 2, 0x600000, 0x602000, MM, 0x3);	/* rw-: the heap */
	vma(f, 9, 0x123000, 0x124000, MM, 0x1);	/* stale: wrong range */
	vma(f, 3, 0x780000, 0x800000, MM, 0x83);	/* rw-s: the stack */
}

static void areas_are_walked_named_and_checked(void **state)
{
	struct fake f;
	struct vms_task t = { .addr = TASK, .mm = MM, .pid = 42 };
	struct vms_vma_list l;
	(void)state;

	build(&f, false);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_vma_collect(&f.k, &t, &l), 0);
	assert_int_equal(l.n, 3); /* the stale slot is skipped */
	assert_int_equal(l.v[0].start, 0x400000);
	assert_int_equal(l.v[0].end, 0x401000);
	assert_int_equal(l.v[0].flags, 0x5);
	assert_string_equal(l.v[0].name, "");
	assert_int_equal(l.v[1].start, 0x600000);
	assert_string_equal(l.v[1].name, "[heap]");
	assert_int_equal(l.v[2].start, 0x780000);
	assert_string_equal(l.v[2].name, "[stack]");
	vms_vma_list_free(&l);
	fk_close(&f);
}

static void tree_that_loops_is_refused(void **state)
{
	struct fake f;
	struct vms_task t = { .addr = TASK, .mm = MM, .pid = 42 };
	struct vms_vma_list l;
	(void)state;

	build(&f, true);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_vma_collect(&f.k, &t, &l), -ELOOP);
	assert_non_null(strstr(f.ctx.err.msg, "twice"));
	fk_close(&f);
}

/* Each area costs about 4 KiB (its name), so a guest that claims
 * millions costs gigabytes unless the list's growth is capped. */
static void areas_past_the_memory_cap_are_refused(void **state)
{
	struct fake f;
	struct vms_task t = { .addr = TASK, .mm = MM, .pid = 42 };
	struct vms_vma_list l;
	uint64_t piv[15], slot[16];
	(void)state;

	fk_build(&f);
	fk_put64(fk_at(&f, MM + 40), enc(ROOT, 1) | 2); /* a leaf root */
	for (int i = 0; i < 16; i++) {
		if (i < 15)
			piv[i] = 0x1000 * (uint64_t)i + 0xfff;
		slot[i] = VMA(1);
	}
	node(&f, ROOT, 15, piv, slot, 16, 128);
	vma(&f, 1, 0x1000, 0x2000, MM, 0x3);
	fk_open(&f, "x", 0, &L);
	f.ctx.max_memory = 15 * sizeof(struct vms_vma);
	assert_int_equal(vms_vma_collect(&f.k, &t, &l), -E2BIG);
	assert_non_null(strstr(f.ctx.err.msg, "--max-memory"));
	/* With room for all 16, the walk goes on to check them: only the
	 * one whose range matches is kept. */
	vms_err_clear(&f.ctx);
	f.ctx.max_memory = 16 * sizeof(struct vms_vma);
	assert_int_equal(vms_vma_collect(&f.k, &t, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].start, 0x1000);
	vms_vma_list_free(&l);
	fk_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(areas_are_walked_named_and_checked),
		cmocka_unit_test(tree_that_loops_is_refused),
		cmocka_unit_test(areas_past_the_memory_cap_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
