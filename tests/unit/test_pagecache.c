/* SPDX-License-Identifier: MIT */
/*
 * Page-cache lookups on a synthetic xarray: a lone entry at the head, a
 * two-level tree, a large folio reached through a sibling entry, swap
 * and shadow (value) entries, holes on a memory filesystem and on a disk
 * one, and a page the dump does not hold. Then hostile trees: a node
 * with the wrong shift, a node that points back at itself, a sibling
 * that points forward, a folio of another mapping, a folio that does
 * not cover the index, and an entry that is not a struct page.
 */
#include "fakekernel.h"

#define PAGE_SZ 48			/* sizeof(struct page): not 64 */
#define VMEMMAP (FK_DATA_VA + 0x100000)	/* pfns 0..2047 need 128 KiB */
#define MAPPING (FK_DATA_VA + 0x1000)
#define NODE(i) (FK_DATA_VA + 0x2000 + 0x400 * (uint64_t)(i))

/* Offsets unlike the kernel's: xa_node.shift at 3, slots at 24 (16 of
 * them), page.mapping at 8, folio.index at 40. */
static const struct vms_layout L = {
	.have_pcache = true, .as_xa_head = 16, .xa_shift = 3, .xa_slots = 24,
	.xa_nslots = 16, .page_size = PAGE_SZ, .page_mapping = 8,
	.folio_index = 40,
};

static uint64_t folio(struct fake *f, uint64_t pfn, uint64_t index,
		      uint64_t mapping)
{
	uint64_t va = VMEMMAP + pfn * PAGE_SZ;
	fk_put64(fk_at(f, va) + 8, mapping);
	fk_put64(fk_at(f, va) + 40, index);
	memset(f->mem + pfn * 4096, (int)(0x40 + pfn % 64), 4096);
	return va;
}

static void node(struct fake *f, int i, uint8_t shift)
{
	*fk_at(f, NODE(i) + 3) = shift;
}

static void slot(struct fake *f, int i, int s, uint64_t entry)
{
	fk_put64(fk_at(f, NODE(i) + 24 + 8 * (uint64_t)s), entry);
}

static void head(struct fake *f, uint64_t entry)
{
	fk_put64(fk_at(f, MAPPING + 16), entry);
}

static struct vms_pcfile file(bool memfs)
{
	struct vms_pcfile pf = { .inode = FK_DATA_VA, .mapping = MAPPING,
				 .vmemmap = VMEMMAP, .holes_read_zero = memfs };
	return pf;
}

static void lookups(void **state)
{
	struct fake f;
	struct vms_pcfile pf = file(true);
	uint8_t buf[4096];
	(void)state;

	/* Index i lives at node 0 (shift 4) slot i >> 4, then node 1 or 2
	 * (shift 0) slot i & 15. Index 20: pfn 0x500. Indexes 22-23: one
	 * two-page folio at pfns 0x510-0x511, reached for 23 through a
	 * sibling. Index 25: a swap entry. Index 3: a leaf at node 1. */
	fk_build(&f);
	node(&f, 0, 4);
	node(&f, 1, 0);
	node(&f, 2, 0);
	head(&f, NODE(0) | 2);
	slot(&f, 0, 0, NODE(1) | 2);
	slot(&f, 0, 1, NODE(2) | 2);
	slot(&f, 1, 3, folio(&f, 0x600, 3, MAPPING));
	slot(&f, 2, 4, folio(&f, 0x500, 20, MAPPING));
	slot(&f, 2, 6, folio(&f, 0x510, 22, MAPPING));
	folio(&f, 0x511, 0, 0); /* its second page's contents */
	slot(&f, 2, 7, (6 << 2) | 2);
	slot(&f, 2, 9, (0x1234ull << 1) | 1);
	fk_open(&f, "x", 0, &L);

	assert_int_equal(vms_pcfile_page(&f.k, &pf, 20, buf), VMS_PG_RESIDENT);
	assert_int_equal(buf[0], 0x40 + 0x500 % 64);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 3, buf), VMS_PG_RESIDENT);
	assert_int_equal(buf[4095], 0x40 + 0x600 % 64);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 22, buf), VMS_PG_RESIDENT);
	assert_int_equal(buf[0], 0x40 + 0x510 % 64);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 23, buf), VMS_PG_RESIDENT);
	assert_int_equal(buf[0], 0x40 + 0x511 % 64);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 25, buf), VMS_PG_SWAPPED);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 21, buf), VMS_PG_HOLE);
	assert_int_equal(buf[100], 0);
	/* Beyond what a root of shift 4 reaches: a hole, not a wrap. */
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 256 + 20, buf),
			 VMS_PG_HOLE);
	pf = file(false);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 21, buf),
			 VMS_PG_NOT_CACHED);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 25, buf),
			 VMS_PG_NOT_CACHED);
	fk_close(&f);

	/* A lone folio at the head covers index 0 only; a folio whose
	 * page is past the end of the dump is cached but not dumped. */
	fk_build(&f);
	head(&f, folio(&f, 0x700, 0, MAPPING));
	fk_open(&f, "x", 0, &L);
	pf = file(true);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 0, buf), VMS_PG_RESIDENT);
	assert_int_equal(buf[7], 0x40 + 0x700 % 64);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 1, buf), VMS_PG_HOLE);
	fk_close(&f);

	fk_build(&f);
	head(&f, VMEMMAP + 4000 * PAGE_SZ); /* pfn 4000: 16 MB, not dumped */
	fk_put64(fk_at(&f, VMEMMAP + 4000 * PAGE_SZ) + 8, MAPPING);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_pcfile_page(&f.k, &pf, 0, buf),
			 VMS_PG_NOT_IN_DUMP);
	fk_close(&f);
}

static int hostile(uint64_t index, void (*setup)(struct fake *))
{
	struct fake f;
	struct vms_pcfile pf = file(true);
	uint8_t buf[4096];
	int r;

	fk_build(&f);
	node(&f, 0, 4);
	node(&f, 1, 0);
	head(&f, NODE(0) | 2);
	slot(&f, 0, 0, NODE(1) | 2);
	setup(&f);
	fk_open(&f, "x", 0, &L);
	r = vms_pcfile_page(&f.k, &pf, index, buf);
	fk_close(&f);
	return r;
}

static void bad_shift(struct fake *f) { node(f, 1, 3); }
static void self_loop(struct fake *f) { slot(f, 0, 0, NODE(0) | 2); }
static void leaf_child(struct fake *f) { slot(f, 1, 5, NODE(0) | 2); }
static void forward_sibling(struct fake *f) { slot(f, 1, 5, (9 << 2) | 2); }
static void other_mapping(struct fake *f)
{
	slot(f, 1, 5, folio(f, 0x500, 5, MAPPING + 8));
}
static void wrong_index(struct fake *f)
{
	slot(f, 1, 5, folio(f, 0x500, 9, MAPPING));
}
static void misaligned(struct fake *f) { slot(f, 1, 5, VMEMMAP + 8); }
static void user_pointer(struct fake *f) { slot(f, 1, 5, 0x400000); }
static void user_node(struct fake *f) { head(f, 0x400000 | 2); }

static void hostile_trees_end_with_errors(void **state)
{
	(void)state;
	assert_int_equal(hostile(5, bad_shift), -EBADMSG);
	assert_int_equal(hostile(5, self_loop), -EBADMSG);
	assert_int_equal(hostile(5, leaf_child), -EBADMSG);
	assert_int_equal(hostile(5, forward_sibling), -EBADMSG);
	assert_int_equal(hostile(5, other_mapping), -EBADMSG);
	assert_int_equal(hostile(5, wrong_index), -EBADMSG);
	assert_int_equal(hostile(5, misaligned), -EBADMSG);
	assert_int_equal(hostile(5, user_pointer), -EBADMSG);
	assert_int_equal(hostile(5, user_node), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookups),
		cmocka_unit_test(hostile_trees_end_with_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
