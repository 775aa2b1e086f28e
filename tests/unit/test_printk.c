/* SPDX-License-Identifier: MIT */
/*
 * The printk ring-buffer decoder on a synthetic ring: records in order,
 * a block that wraps to the start of the data ring, a data-less record,
 * an overwritten descriptor and one still being written (both skipped),
 * a text_len larger than its block (clipped), and hostile rings: sizes
 * beyond the bounds, a size within them but over the memory cap, and
 * head/tail ids that never meet (bounded walk).
 */
#include "fakekernel.h"

#define PRB_PTR (FK_DATA_VA + 0x000)	/* the `prb` variable */
#define RB (FK_DATA_VA + 0x100)		/* struct printk_ringbuffer */
#define DESCS (FK_DATA_VA + 0x1000)	/* 16 descriptors of 40 bytes */
#define INFOS (FK_DATA_VA + 0x2000)	/* 16 infos of 64 bytes */
#define DATA (FK_DATA_VA + 0x4000)	/* 256 bytes of text ring */
#define CBITS 4
#define SBITS 8

/* Offsets unlike the kernel's. */
static const struct vms_layout L = {
	.have_printk = true,
	.list_next = 0, .list_prev = 8,
	.prb_desc_ring = 8, .prb_text_ring = 80,
	.dr_count_bits = 4, .dr_descs = 16, .dr_infos = 32, .dr_head_id = 40,
	.dr_tail_id = 56,
	.tr_size_bits = 12, .tr_data = 24,
	.desc_size = 40, .desc_state_var = 16, .desc_begin = 24,
	.desc_next = 32,
	.info_size = 64, .info_seq = 8, .info_ts_nsec = 24, .info_text_len = 40,
	/* facility a byte at 42; level 3 bits straddling bytes 43-44. */
	.info_fac_bit = 42 * 8, .info_fac_bits = 8,
	.info_lvl_bit = 43 * 8 + 6, .info_lvl_bits = 3,
};

static void ring(struct fake *f, uint32_t cbits, uint32_t sbits,
		 uint64_t tail, uint64_t head)
{
	fk_put64(fk_at(f, PRB_PTR), RB);
	fk_put32(fk_at(f, RB + 8 + 4), cbits);
	fk_put64(fk_at(f, RB + 8 + 16), DESCS);
	fk_put64(fk_at(f, RB + 8 + 32), INFOS);
	fk_put64(fk_at(f, RB + 8 + 40), head);
	fk_put64(fk_at(f, RB + 8 + 56), tail);
	fk_put32(fk_at(f, RB + 80 + 12), sbits);
	fk_put64(fk_at(f, RB + 80 + 24), DATA);
}

/* Descriptor @id in state @state with a block [begin, next). */
static void desc(struct fake *f, uint64_t id, uint64_t state, uint64_t begin,
		 uint64_t next, uint64_t seq, uint16_t text_len)
{
	uint64_t idx = id & 15;
	uint8_t *d = fk_at(f, DESCS + idx * 40), *i = fk_at(f, INFOS + idx * 64);
	fk_put64(d + 16, state << 62 | id);
	fk_put64(d + 24, begin);
	fk_put64(d + 32, next);
	fk_put64(i + 8, seq);
	fk_put64(i + 24, seq * 1000000500ull);
	memcpy(i + 40, &text_len, 2);
	/* level = seq % 8 in bits 350-352, facility = seq % 3, and the
	 * bits around the level set, which must not leak into it. */
	i[42] = (uint8_t)(seq % 3);
	i[43] = (uint8_t)(0x3f | (seq % 8) << 6);
	i[44] = (uint8_t)(0xfe | (seq % 8) >> 2);
}

/* A data block at logical position @lpos: id, then text. */
static void block(struct fake *f, uint64_t lpos, uint64_t id, const char *t)
{
	uint8_t *p = fk_at(f, DATA + (lpos & 255));
	fk_put64(p, id);
	memcpy(p + 8, t, strlen(t));
}

/* Texts are valid only until the next step: keep copies. */
static char texts[32][64];

static int walk(struct fake *f, struct vms_log_rec *out, int max, int *status)
{
	struct vms_log_walk w;
	int n = 0, r;

	*status = vms_log_walk_init(&w, &f->k);
	if (*status)
		return 0;
	while ((r = vms_log_walk_next(&w, &out[n < max ? n : max - 1])) == 1) {
		int i = n < max ? n : max - 1;
		memcpy(texts[i], out[i].text, VMS_MIN(out[i].text_len, 63));
		out[i].text = texts[i];
		n++;
	}
	vms_log_walk_fini(&w);
	*status = r;
	return n;
}

static void records_in_order_with_wrap_and_skips(void **state)
{
	struct fake f;
	struct vms_log_rec r[16];
	int status, n;
	(void)state;

	fk_build(&f);
	/* ids 100..105: wrap 0 of the 256-byte ring is lpos 256..511. */
	ring(&f, CBITS, SBITS, 100, 105);
	block(&f, 288, 100, "first");
	desc(&f, 100, 2, 288, 288 + 16, 1, 5);
	block(&f, 304, 101, "line one\nline two");
	desc(&f, 101, 1, 304, 304 + 32, 2, 17);
	desc(&f, 102, 2, 1, 1, 3, 0);			/* data-less */
	desc(&f, 103 + 16, 2, 336, 352, 4, 3);		/* overwritten */
	desc(&f, 104, 0, 352, 368, 5, 3);		/* reserved */
	/* Wraps: begins at 496 (index 240), continues at data[0]. */
	block(&f, 512, 105, "wrapped!");
	desc(&f, 105, 2, 496, 512 + 24, 6, 200);	/* text_len too big */
	fk_open(&f, "prb", PRB_PTR, &L);
	n = walk(&f, r, 16, &status);
	assert_int_equal(status, 0);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].seq, 1);
	assert_int_equal(r[0].text_len, 5);
	assert_memory_equal(r[0].text, "first", 5);
	assert_int_equal(r[0].ts_nsec, 1000000500ull);
	assert_int_equal(r[0].level, 1);
	assert_int_equal(r[0].facility, 1);
	assert_int_equal(r[1].text_len, 17);
	assert_memory_equal(r[1].text, "line one\nline two", 17);
	assert_int_equal(r[1].level, 2);
	assert_int_equal(r[1].facility, 2);
	assert_int_equal(r[2].seq, 3);
	assert_int_equal(r[2].level, 3);
	assert_int_equal(r[2].facility, 0);
	assert_int_equal(r[2].text_len, 0);
	assert_int_equal(r[3].seq, 6);
	assert_int_equal(r[3].text_len, 16); /* clipped to the block */
	assert_memory_equal(r[3].text, "wrapped!", 8);
	fk_close(&f);
}

static void hostile_rings_are_bounded(void **state)
{
	struct fake f;
	struct vms_log_rec r[32];
	int status, n;
	(void)state;

	/* Sizes beyond the bounds are refused before any allocation. */
	fk_build(&f);
	ring(&f, 40, SBITS, 0, 0);
	fk_open(&f, "prb", PRB_PTR, &L);
	walk(&f, r, 32, &status);
	assert_int_equal(status, -EBADMSG);
	assert_non_null(strstr(f.ctx.err.msg, "2^40"));
	fk_close(&f);

	/* A head the tail never reaches: at most 2^count_bits steps. */
	fk_build(&f);
	ring(&f, CBITS, SBITS, 0, 1000);
	for (uint64_t id = 0; id < 16; id++) {
		block(&f, 256 + id * 16, id, "x");
		desc(&f, id, 2, 256 + id * 16, 256 + id * 16 + 16, id, 1);
	}
	fk_open(&f, "prb", PRB_PTR, &L);
	n = walk(&f, r, 32, &status);
	assert_int_equal(status, 0);
	assert_true(n <= 16);
	fk_close(&f);

	/* 2^29 bytes of text (within the bounds, as log_buf_len=512M
	 * would make it): over a 1 MiB memory cap, it is refused by name
	 * before anything is allocated. */
	fk_build(&f);
	ring(&f, CBITS, 29, 0, 0);
	fk_open(&f, "prb", PRB_PTR, &L);
	f.ctx.max_memory = 1u << 20;
	walk(&f, r, 32, &status);
	assert_int_equal(status, -E2BIG);
	assert_non_null(strstr(f.ctx.err.msg, "the printk text ring"));
	assert_non_null(strstr(f.ctx.err.msg, "over the cap of 1 MiB"));
	fk_close(&f);

	/* Blocks whose positions make no sense yield empty text. */
	fk_build(&f);
	ring(&f, CBITS, SBITS, 7, 7);
	desc(&f, 7, 2, 5000, 100, 1, 50);
	fk_open(&f, "prb", PRB_PTR, &L);
	n = walk(&f, r, 32, &status);
	assert_int_equal(status, 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].text_len, 0);
	fk_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_in_order_with_wrap_and_skips),
		cmocka_unit_test(hostile_rings_are_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
