/* SPDX-License-Identifier: MIT */
/*
 * makedumpfile's compressed "diskdump" format, plain or flattened
 * (makedumpfile/makedumpfile diskdump_mod.h, makedumpfile.h; QEMU's
 * writer is dump/dump.c, which writes the flattened layout).
 *
 * Plain layout, in blocks of block_size (= the page size):
 *
 *   block 0                disk_dump_header (64-bit layout)
 *       0  char  signature[8]     "KDUMP   "
 *       8  i32   header_version
 *      12  char  utsname[6][65]
 *     408  timeval timestamp
 *     424  u32 status  428 i32 block_size  432 i32 sub_hdr_size (blocks)
 *     436  u32 bitmap_blocks  440 u32 max_mapnr (pre-v6)  460 i32 nr_cpus
 *   block 1 .. sub_hdr_size  kdump_sub_header
 *       0 phys_base  32 offset_vmcoreinfo  40 size_vmcoreinfo
 *      48 offset_note  56 size_note  96 max_mapnr_64 (v6+)
 *   bitmap_blocks blocks     bitmap 1 (pfn is RAM), then bitmap 2
 *                            (pfn is in the dump), half each
 *   page descriptors         one per bit set in bitmap 2, in pfn order:
 *                            u64 offset | u32 size | u32 flags | u64 page_flags
 *   page data                flags: 1 zlib, 2 lzo, 4 snappy, 0x20 zstd;
 *                            none and size == block_size: stored as is
 *
 * Flattened layout: a 4096-byte header ("makedumpfile", BE type 1,
 * BE version 1), then records of { BE i64 offset, BE i64 size, data }
 * that place data at offsets of the plain file, ended by { -1, -1 }.
 * It is read through an index of the records, without rewriting it.
 */
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "source.h"
#include "../core/dynlib.h"

#define LAYER "access"
#define FLAT_HDR 4096
#define MAX_FLAT_RECS (1u << 26)

#define DH_ZLIB 0x1
#define DH_LZO 0x2
#define DH_SNAPPY 0x4
#define DH_ZSTD 0x20
#define PD_SIZE 24

/* libsnappy (and the C++ runtime it brings), opened only for a dump
 * with snappy-compressed pages. */
static struct {
	__typeof__(&snappy_uncompressed_length) snappy_uncompressed_length;
	__typeof__(&snappy_uncompress) snappy_uncompress;
} S;

static const struct vms_dynsym snappy_syms[] = {
	VMS_DYNSYM(S, snappy_uncompressed_length),
	VMS_DYNSYM(S, snappy_uncompress),
};

static struct vms_dynlib snappy_lib = {
	.soname = VMS_SONAME_SNAPPY, .what = "reading snappy-compressed "
	"kdump pages", .syms = snappy_syms,
	.nsyms = VMS_ARRAY_SIZE(snappy_syms),
};

struct flat_rec {
	uint64_t loff;		/* offset in the plain file */
	uint64_t size;		/* bytes */
	uint64_t foff;		/* offset of the data in the flattened file */
};

struct kdump {
	bool flat;		/* read through @recs */
	struct flat_rec *recs;	/* sorted by loff, disjoint */
	size_t nrecs;		/* entries in @recs */
	uint64_t lsize;		/* size of the logical (plain) file */
	uint64_t max_mapnr;	/* pfns covered by the bitmaps */
	uint8_t *bitmap1;	/* pfn is RAM */
	uint8_t *bitmap2;	/* pfn is in the dump */
	uint32_t *rank;		/* set bits of bitmap2 before word i */
	uint64_t pd_off;	/* logical offset of page descriptor 0 */
	uint64_t npages;	/* page descriptors */
	uint8_t cbuf[VMS_PAGE_SIZE]; /* compressed data being expanded */
	ZSTD_DCtx *zstd;	/* created on the first zstd page */
};

bool vms_kdump_probe(const uint8_t *p, uint64_t len)
{
	return len >= 8 && !memcmp(p, "KDUMP   ", 8);
}

bool vms_kdump_flat_probe(const uint8_t *p, uint64_t len)
{
	/* The signature alone, as for the other formats; the type is
	 * checked when opening, so that a cut header reads as one. */
	return len >= 12 && !memcmp(p, "makedumpfile", 12);
}

/* Logical (plain-file) reads: a pointer to the byte at @loff and, in
 * *@avail, how many bytes follow it contiguously; NULL if none. */
static const uint8_t *kd_span(struct vms_source *src, struct kdump *kd,
			      uint64_t loff, uint64_t *avail)
{
	size_t lo = 0, hi = kd->nrecs;

	if (!kd->flat) {
		if (loff >= src->map_len)
			return NULL;
		*avail = src->map_len - loff;
		return src->map + loff;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct flat_rec *r = &kd->recs[mid];
		if (loff < r->loff) {
			hi = mid;
		} else if (loff - r->loff >= r->size) {
			lo = mid + 1;
		} else {
			*avail = r->size - (loff - r->loff);
			return src->map + r->foff + (loff - r->loff);
		}
	}
	return NULL;
}

static const uint8_t *kd_ptr(struct vms_source *src, struct kdump *kd,
			     uint64_t loff, uint64_t len)
{
	uint64_t avail;
	const uint8_t *p = kd_span(src, kd, loff, &avail);
	return p && avail >= len ? p : NULL;
}

static int kd_read(struct vms_source *src, struct kdump *kd, uint64_t loff,
		   void *buf, uint64_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t avail, n;
		const uint8_t *p = kd_span(src, kd, loff, &avail);

		if (!p)
			return vms_err_at(src->ctx, -EBADMSG, LAYER, loff,
					  "%s: kdump data at offset %#llx is "
					  "missing: truncated dump?",
					  src->path, (unsigned long long)loff);
		n = VMS_MIN(len, avail);
		memcpy(out, p, n);
		out += n;
		loff += n;
		len -= n;
	}
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct flat_rec *x = a, *y = b;
	return x->loff < y->loff ? -1 : x->loff > y->loff;
}

static int flat_index(struct vms_source *src, struct kdump *kd)
{
	uint64_t off = FLAT_HDR;
	size_t cap = 0;

	for (;;) {
		int64_t loff, size;
		int err;

		if (src->map_len < 16 || off > src->map_len - 16)
			return vms_err_at(src->ctx, -EBADMSG, LAYER, off,
					  "%s: flattened kdump ends at offset "
					  "%#llx without its end marker: "
					  "truncated dump?",
					  src->path, (unsigned long long)off);
		loff = (int64_t)vms_be64(src->map + off);
		size = (int64_t)vms_be64(src->map + off + 8);
		if (loff == -1 && size == -1)
			break;
		if (loff < 0 || size <= 0)
			return vms_err_at(src->ctx, -EBADMSG, LAYER, off,
					  "%s: bad flattened kdump record at "
					  "offset %#llx (offset %lld, size "
					  "%lld)",
					  src->path, (unsigned long long)off,
					  (long long)loff, (long long)size);
		if ((uint64_t)size > src->map_len - off - 16)
			return vms_err_at(src->ctx, -EBADMSG, LAYER, off,
					  "%s: flattened kdump record at offset "
					  "%#llx holds %lld bytes but the file "
					  "ends first: truncated dump?",
					  src->path, (unsigned long long)off,
					  (long long)size);
		if ((err = vms_grow(src->ctx, &kd->recs, &cap, kd->nrecs,
				    sizeof(*kd->recs), 1024, MAX_FLAT_RECS)))
			return err != -E2BIG
				       ? err
				       : vms_err(src->ctx, -E2BIG, LAYER,
						 "%s: more than %u flattened "
						 "records", src->path,
						 MAX_FLAT_RECS);
		kd->recs[kd->nrecs++] = (struct flat_rec){
			.loff = (uint64_t)loff, .size = (uint64_t)size,
			.foff = off + 16 };
		off += 16 + (uint64_t)size;
	}
	vms_qsort(kd->recs, kd->nrecs, sizeof(*kd->recs), rec_cmp);
	/* Merge touching records that are also adjacent in the file, so
	 * that kd_ptr() can hand out long runs. Overlaps are rewrites: the
	 * format allows them, but QEMU and makedumpfile never write them,
	 * and silently picking one copy would hide a corrupt dump. */
	size_t out = 0;
	for (size_t i = 0; i < kd->nrecs; i++) {
		struct flat_rec r = kd->recs[i];
		if (out) {
			struct flat_rec *p = &kd->recs[out - 1];
			if (r.loff < p->loff + p->size)
				return vms_err_at(src->ctx, -EBADMSG, LAYER,
						  r.foff,
						  "%s: flattened kdump records "
						  "overlap at offset %#llx",
						  src->path,
						  (unsigned long long)r.loff);
			if (r.loff == p->loff + p->size &&
			    r.foff == p->foff + p->size) {
				p->size += r.size;
				continue;
			}
		}
		kd->recs[out++] = r;
	}
	kd->nrecs = out;
	if (out)
		kd->lsize = kd->recs[out - 1].loff + kd->recs[out - 1].size;
	return 0;
}

static bool bit(const uint8_t *map, uint64_t i)
{
	return map[i / 8] >> (i % 8) & 1;
}

static int kdump_read_page(struct vms_source *src, uint64_t pfn,
			   uint8_t *page)
{
	struct kdump *kd = src->priv;
	uint8_t pd[PD_SIZE];
	uint64_t idx, doff;
	uint32_t size, flags;
	const uint8_t *data;
	int err;

	if (pfn >= kd->max_mapnr || !bit(kd->bitmap1, pfn))
		return vms_err_at(src->ctx, -EFAULT, LAYER,
				  pfn * VMS_PAGE_SIZE,
				  "physical address %#llx is not in the dump",
				  (unsigned long long)pfn * VMS_PAGE_SIZE);
	if (!bit(kd->bitmap2, pfn))
		return vms_err_at(src->ctx, -EFAULT, LAYER,
				  pfn * VMS_PAGE_SIZE,
				  "physical page %#llx was excluded from the "
				  "dump", (unsigned long long)pfn * VMS_PAGE_SIZE);
	idx = kd->rank[pfn / 64];
	for (uint64_t i = pfn & ~63ull; i < pfn; i++)
		idx += bit(kd->bitmap2, i);
	err = kd_read(src, kd, kd->pd_off + idx * PD_SIZE, pd, PD_SIZE);
	if (err)
		return err;
	doff = vms_le64(pd);
	size = vms_le32(pd + 8);
	flags = vms_le32(pd + 12);
	if (size > VMS_PAGE_SIZE || !size)
		return vms_err_at(src->ctx, -EBADMSG, LAYER,
				  kd->pd_off + idx * PD_SIZE,
				  "%s: page descriptor of physical %#llx gives "
				  "%u bytes of data", src->path,
				  (unsigned long long)pfn * VMS_PAGE_SIZE, size);
	data = kd_ptr(src, kd, doff, size);
	if (!data) {
		err = kd_read(src, kd, doff, kd->cbuf, size);
		if (err)
			return err;
		data = kd->cbuf;
	}
	if (flags & DH_ZLIB) {
		uLongf n = VMS_PAGE_SIZE;
		if (uncompress(page, &n, data, size) != Z_OK ||
		    n != VMS_PAGE_SIZE)
			goto corrupt;
	} else if (flags & DH_LZO) {
		lzo_uint n = VMS_PAGE_SIZE;
		if (lzo1x_decompress_safe(data, size, page, &n, NULL) !=
			    LZO_E_OK ||
		    n != VMS_PAGE_SIZE)
			goto corrupt;
	} else if (flags & DH_SNAPPY) {
		size_t n = VMS_PAGE_SIZE;
		if ((err = vms_dynlib_load(src->ctx, &snappy_lib)))
			return err;
		if (S.snappy_uncompressed_length((const char *)data, size,
						 &n) != SNAPPY_OK ||
		    n != VMS_PAGE_SIZE ||
		    S.snappy_uncompress((const char *)data, size,
					(char *)page, &n) != SNAPPY_OK)
			goto corrupt;
	} else if (flags & DH_ZSTD) {
		size_t n;
		if (!kd->zstd && !(kd->zstd = ZSTD_createDCtx()))
			return -ENOMEM;
		n = ZSTD_decompressDCtx(kd->zstd, page, VMS_PAGE_SIZE, data,
					size);
		if (ZSTD_isError(n) || n != VMS_PAGE_SIZE)
			goto corrupt;
	} else if (size == VMS_PAGE_SIZE) {
		memcpy(page, data, VMS_PAGE_SIZE);
	} else {
		return vms_err_at(src->ctx, -ENOTSUP, LAYER, doff,
				  "%s: page at physical %#llx has unknown "
				  "compression flags %#x", src->path,
				  (unsigned long long)pfn * VMS_PAGE_SIZE,
				  flags);
	}
	return 0;
corrupt:
	return vms_err_at(src->ctx, -EBADMSG, LAYER, doff,
			  "%s: compressed page of physical %#llx at offset "
			  "%#llx does not expand to one page", src->path,
			  (unsigned long long)pfn * VMS_PAGE_SIZE,
			  (unsigned long long)doff);
}

/*
 * Writers (makedumpfile, QEMU's dump/dump.c) put the page data after the
 * descriptors in pfn order, except that zero pages share one copy at the
 * start, so the data of the last pages ends the file. A dump cut short
 * in its data still opens, since the pages it holds are readable, but
 * says so now rather than at the first page found missing. The last
 * 4096 descriptors (96 KiB) are enough unless the top 16 MiB of RAM are
 * all zero, and keep the cost of opening independent of the dump's size.
 */
static int check_tail(struct vms_source *src, struct kdump *kd)
{
	uint64_t first = kd->npages > 4096 ? kd->npages - 4096 : 0;
	uint64_t end = 0, at = 0;

	for (uint64_t i = first; i < kd->npages; i++) {
		uint8_t pd[PD_SIZE];
		uint64_t e;
		int err = kd_read(src, kd, kd->pd_off + i * PD_SIZE, pd,
				  PD_SIZE);

		if (err)
			return err;
		if (vms_add_overflows(vms_le64(pd), vms_le32(pd + 8), &e))
			e = UINT64_MAX;
		if (e > end) {
			end = e;
			at = i;
		}
	}
	if (end > kd->lsize)
		vms_log(src->ctx, VMS_LOG_WARN,
			"%s: kdump page data runs to offset %#llx (descriptor "
			"%llu) but the file ends at %#llx: truncated dump? "
			"Pages whose data is missing will not read",
			src->path, (unsigned long long)end,
			(unsigned long long)at, (unsigned long long)kd->lsize);
	return 0;
}

static void kdump_close(struct vms_source *src)
{
	struct kdump *kd = src->priv;

	if (!kd)
		return;
	free(kd->recs);
	free(kd->bitmap1);
	free(kd->bitmap2);
	free(kd->rank);
	ZSTD_freeDCtx(kd->zstd);
	free(kd);
}

static const struct vms_source_ops kdump_ops = {
	.read_page = kdump_read_page,
	.close = kdump_close,
};

int vms_kdump_open(struct vms_source *src, bool flattened)
{
	uint8_t hdr[464], sub[104];
	struct kdump *kd;
	uint64_t bs, sub_blocks, bm_blocks, bm_off, bm_half, start, pfn;
	int32_t version;
	int err;

	kd = calloc(1, sizeof(*kd));
	if (!kd)
		return -ENOMEM;
	src->priv = kd;
	src->ops = &kdump_ops;
	kd->flat = flattened;
	kd->lsize = src->map_len;
	if (flattened) {
		if (src->map_len < 24)
			return vms_err(src->ctx, -EBADMSG, LAYER,
				       "%s: flattened kdump header cut short "
				       "(%llu bytes): truncated dump?",
				       src->path,
				       (unsigned long long)src->map_len);
		if (memcmp(src->map + 12, "\0\0\0\0", 4) ||
		    vms_be64(src->map + 16) != 1)
			return vms_err_at(src->ctx, -ENOTSUP, LAYER, 16,
					  "%s: makedumpfile file of type %#llx "
					  "is not a flattened kdump (type 1)",
					  src->path, (unsigned long long)
					  vms_be64(src->map + 16));
		err = flat_index(src, kd);
		if (err)
			return err;
	}
	err = kd_read(src, kd, 0, hdr, sizeof(hdr));
	if (err)
		return err;
	if (memcmp(hdr, "KDUMP   ", 8))
		return vms_err(src->ctx, -EBADMSG, LAYER,
			       "%s: flattened dump does not hold a kdump "
			       "header", src->path);
	version = (int32_t)vms_le32(hdr + 8);
	bs = vms_le32(hdr + 428);
	sub_blocks = vms_le32(hdr + 432);
	bm_blocks = vms_le32(hdr + 436);
	kd->max_mapnr = vms_le32(hdr + 440);
	if (bs != VMS_PAGE_SIZE)
		return vms_err_at(src->ctx, -ENOTSUP, LAYER, 428,
				  "%s: kdump block size %llu; only 4096 is "
				  "supported", src->path,
				  (unsigned long long)bs);
	if (version < 1 || sub_blocks > (1u << 20) || bm_blocks > (1u << 30))
		return vms_err_at(src->ctx, -EBADMSG, LAYER, 8,
				  "%s: implausible kdump header (version %d, "
				  "%llu sub-header blocks, %llu bitmap blocks)",
				  src->path, version,
				  (unsigned long long)sub_blocks,
				  (unsigned long long)bm_blocks);
	if (sub_blocks) {
		err = kd_read(src, kd, bs, sub, sizeof(sub));
		if (err)
			return err;
		if (version >= 6)
			kd->max_mapnr = vms_le64(sub + 96);
		if (version >= 4) {
			uint64_t noff = vms_le64(sub + 48);
			uint64_t nsz = vms_le64(sub + 56);
			const uint8_t *notes = NULL;
			if (nsz && nsz < (1u << 24))
				notes = kd_ptr(src, kd, noff, nsz);
			if (notes)
				vms_source_parse_elf_notes(src, notes, nsz);
		}
	}
	bm_off = (1 + sub_blocks) * bs;
	bm_half = bm_blocks * bs / 2;
	if (!bm_half || kd->max_mapnr > bm_half * 8)
		return vms_err_at(src->ctx, -EBADMSG, LAYER, 440,
				  "%s: kdump bitmaps (%llu bytes) cannot cover "
				  "%llu pages", src->path,
				  (unsigned long long)bm_half,
				  (unsigned long long)kd->max_mapnr);
	/* Both bitmaps are bytes of the file, flattened or not: the file's
	 * own size bounds them, and the allocations below. (A flattened
	 * dump's logical size is what its records claim.) */
	if (bm_half > kd->lsize || bm_half > src->map_len / 2)
		return vms_err_at(src->ctx, -EBADMSG, LAYER, bm_off,
				  "%s: kdump bitmaps overrun the file: "
				  "truncated dump?", src->path);
	kd->bitmap1 = malloc(bm_half);
	kd->bitmap2 = malloc(bm_half);
	kd->rank = malloc((kd->max_mapnr / 64 + 1) * sizeof(*kd->rank));
	if (!kd->bitmap1 || !kd->bitmap2 || !kd->rank)
		return -ENOMEM;
	err = kd_read(src, kd, bm_off, kd->bitmap1, bm_half);
	if (!err)
		err = kd_read(src, kd, bm_off + bm_half, kd->bitmap2, bm_half);
	if (err)
		return err;
	kd->pd_off = bm_off + 2 * bm_half;
	for (uint64_t w = 0; w <= kd->max_mapnr / 64; w++) {
		kd->rank[w] = (uint32_t)kd->npages;
		for (uint64_t i = w * 64; i < (w + 1) * 64 && i < kd->max_mapnr;
		     i++)
			kd->npages += bit(kd->bitmap2, i);
	}
	if (kd->npages > (kd->lsize - VMS_MIN(kd->lsize, kd->pd_off)) / PD_SIZE)
		return vms_err_at(src->ctx, -EBADMSG, LAYER, kd->pd_off,
				  "%s: %llu page descriptors do not fit in the "
				  "file: truncated dump?", src->path,
				  (unsigned long long)kd->npages);
	err = check_tail(src, kd);
	if (err)
		return err;
	/* One paged segment per run of RAM pages in bitmap 1. */
	for (pfn = 0; pfn < kd->max_mapnr;) {
		if (!bit(kd->bitmap1, pfn)) {
			pfn++;
			continue;
		}
		start = pfn;
		while (pfn < kd->max_mapnr && bit(kd->bitmap1, pfn))
			pfn++;
		err = vms_source_add_seg(src, start * bs, (pfn - start) * bs,
					 VMS_SEG_PAGED, NULL);
		if (err)
			return err;
	}
	return 0;
}
