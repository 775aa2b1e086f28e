/* SPDX-License-Identifier: MIT */
/*
 * The kernel log, from the lockless printk ring buffer of v5.10 and
 * later (kernel/printk/printk_ringbuffer.[ch]). `prb` points at a
 * struct printk_ringbuffer:
 *
 *   desc_ring: count_bits, descs[1 << count_bits], infos[...],
 *              head_id, tail_id
 *   text_data_ring: size_bits, data[1 << size_bits]
 *
 *   prb_desc.state_var   = state << 62 | id      (64-bit longs)
 *       state: 0 reserved, 1 committed, 2 finalized, 3 reusable
 *   prb_desc.text_blk_lpos = { begin, next }  logical positions; bit 0 of
 *       begin set means no data. index = lpos & (size - 1), wrap =
 *       lpos >> size_bits; a block that would wrap is stored at data[0].
 *   data block:  unsigned long id | text
 *   printk_info: seq, ts_nsec, text_len, ...
 *
 * Records are visited from tail_id to head_id. A descriptor whose id no
 * longer matches (overwritten) or that is still reserved is skipped. The
 * three arrays are copied once, with sizes bounded before allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define SV_SHIFT 62
#define ID_MASK ((1ull << SV_SHIFT) - 1)
#define MAX_COUNT_BITS 24
#define MAX_SIZE_BITS 30

static int copy(struct vms_kernel *k, uint64_t va, uint64_t len,
		const char *what, uint8_t **ret)
{
	int err;

	if ((err = vms_alloc(k->ctx, ret, len, 1, what, va)))
		return err;
	err = vms_kernel_read(k, va, *ret, len);
	if (err) {
		free(*ret);
		*ret = NULL;
	}
	return err;
}

int vms_log_walk_init(struct vms_log_walk *w, struct vms_kernel *k)
{
	const struct vms_layout *l = &k->l;
	uint64_t prb_sym, rb, dr, tr, descs, infos, data, tail;
	uint8_t b[4];
	uint32_t cbits, sbits;
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	if ((err = vms_layout_resolve_printk(k->ctx, k->btf, &k->l)) ||
	    (err = vms_kernel_sym(k, "prb", &prb_sym)) ||
	    (err = vms_kernel_read_u64(k, prb_sym, &rb)))
		return err;
	dr = rb + l->prb_desc_ring;
	tr = rb + l->prb_text_ring;
	if ((err = vms_kernel_read(k, dr + l->dr_count_bits, b, 4)))
		return err;
	cbits = vms_le32(b);
	if ((err = vms_kernel_read(k, tr + l->tr_size_bits, b, 4)))
		return err;
	sbits = vms_le32(b);
	if (cbits > MAX_COUNT_BITS || sbits > MAX_SIZE_BITS || sbits < 4)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, rb,
				  "printk ring buffer at %#llx claims 2^%u "
				  "records and 2^%u bytes of text",
				  (unsigned long long)rb, cbits, sbits);
	w->count = 1ull << cbits;
	w->data_size = 1ull << sbits;
	if ((err = vms_kernel_read_u64(k, dr + l->dr_descs, &descs)) ||
	    (err = vms_kernel_read_u64(k, dr + l->dr_infos, &infos)) ||
	    (err = vms_kernel_read_u64(k, tr + l->tr_data, &data)) ||
	    (err = vms_kernel_read_u64(k, dr + l->dr_head_id, &w->head_id)) ||
	    (err = vms_kernel_read_u64(k, dr + l->dr_tail_id, &tail)) ||
	    (err = copy(k, descs, w->count * l->desc_size,
			"the printk descriptor ring", &w->descs)) ||
	    (err = copy(k, infos, w->count * l->info_size,
			"the printk info ring", &w->infos)) ||
	    (err = copy(k, data, w->data_size, "the printk text ring",
			&w->data))) {
		vms_log_walk_fini(w);
		return err;
	}
	w->id = tail & ID_MASK;
	w->head_id &= ID_MASK;
	return 0;
}

void vms_log_walk_fini(struct vms_log_walk *w)
{
	free(w->descs);
	free(w->infos);
	free(w->data);
	w->descs = w->infos = w->data = NULL;
}

/* The text of a data block, as get_data() finds it; NULL if none. */
static const char *block_text(const struct vms_log_walk *w, uint64_t begin,
			      uint64_t next, size_t *len)
{
	uint64_t bits = 0, size = w->data_size, off, n;

	while ((1ull << bits) < size)
		bits++;
	if (begin & 1)
		return NULL; /* data-less record */
	if (begin >> bits == next >> bits && begin < next) {
		off = begin & (size - 1);
		n = next - begin;
	} else if ((begin + size) >> bits == next >> bits) {
		off = 0;
		n = next & (size - 1);
	} else {
		return NULL;
	}
	if (n < 8 || off + n > size)
		return NULL;
	*len = (size_t)(n - 8);
	return (const char *)w->data + off + 8;
}

/* A field of at most 8 bits at bit @off of @info (the layout has checked
 * that it lies inside the struct); -1 when the kernel has no such field. */
static int bits(const uint8_t *info, size_t off, size_t width)
{
	unsigned int v;

	if (!width)
		return -1;
	v = info[off / 8];
	if (off % 8 + width > 8)
		v |= (unsigned int)info[off / 8 + 1] << 8;
	return (int)((v >> (off % 8)) & ((1u << width) - 1));
}

int vms_log_walk_next(struct vms_log_walk *w, struct vms_log_rec *r)
{
	const struct vms_layout *l = &w->k->l;

	while (!w->done) {
		uint64_t id = w->id, idx = id & (w->count - 1);
		const uint8_t *d = w->descs + idx * l->desc_size;
		const uint8_t *info = w->infos + idx * l->info_size;
		uint64_t sv = vms_le64(d + l->desc_state_var);
		unsigned int state = (unsigned int)(sv >> SV_SHIFT);
		size_t avail = 0;
		const char *text;

		if (id == w->head_id || ++w->steps >= w->count)
			w->done = true;
		w->id = (id + 1) & ID_MASK;
		if ((sv & ID_MASK) != id || (state != 1 && state != 2))
			continue; /* overwritten, or being written */
		r->seq = vms_le64(info + l->info_seq);
		r->level = bits(info, l->info_lvl_bit, l->info_lvl_bits);
		r->facility = bits(info, l->info_fac_bit, l->info_fac_bits);
		r->ts_nsec = vms_le64(info + l->info_ts_nsec);
		text = block_text(w, vms_le64(d + l->desc_begin),
				  vms_le64(d + l->desc_next), &avail);
		r->text = text ? text : "";
		r->text_len = text ? VMS_MIN(avail,
					     vms_le16(info + l->info_text_len))
				   : 0;
		return 1;
	}
	return 0;
}
