/* SPDX-License-Identifier: MIT */
/*
 * LiME (504ensicsLabs/LiME, doc/README.md): a sequence of ranges, each a
 * 32-byte header followed by the range's bytes.
 *
 *   0  u32 magic 0x4C694D45 ("EMiL" on disk)
 *   4  u32 version (1)
 *   8  u64 s_addr   first physical address
 *  16  u64 e_addr   last physical address (inclusive)
 *  24  u8  reserved[8]
 */
#include "source.h"

#define LIME_MAGIC 0x4C694D45u
#define LIME_HDR 32
#define LIME_MAX_RANGES 65536

bool vms_lime_probe(const uint8_t *p, uint64_t len)
{
	return len >= 4 && vms_le32(p) == LIME_MAGIC;
}

int vms_lime_open(struct vms_source *src)
{
	uint64_t off = 0;
	unsigned int n = 0;

	while (off < src->map_len) {
		const uint8_t *h = src->map + off;
		uint64_t s, e, size;
		int err;

		if (src->map_len - off < LIME_HDR)
			return vms_err_at(src->ctx, -EBADMSG, "access", off,
					  "%s: LiME range header at offset "
					  "%#llx is cut short (%llu of %u "
					  "bytes): truncated dump?", src->path,
					  (unsigned long long)off,
					  (unsigned long long)(src->map_len -
							       off),
					  LIME_HDR);
		if (vms_le32(h) != LIME_MAGIC)
			return vms_err_at(src->ctx, -EBADMSG, "access", off,
					  "%s: bad LiME range header at file "
					  "offset %#llx (magic %#x)", src->path,
					  (unsigned long long)off, vms_le32(h));
		if (vms_le32(h + 4) != 1)
			return vms_err_at(src->ctx, -ENOTSUP, "access", off,
					  "%s: LiME version %u at offset "
					  "%#llx is not supported (only 1)",
					  src->path, vms_le32(h + 4),
					  (unsigned long long)off);
		s = vms_le64(h + 8);
		e = vms_le64(h + 16);
		if (e < s || e - s >= src->map_len - off - LIME_HDR + 0ull ||
		    ++n > LIME_MAX_RANGES)
			return vms_err_at(src->ctx, -EBADMSG, "access", off,
					  "%s: LiME range %#llx-%#llx at "
					  "offset %#llx overruns the file: "
					  "truncated dump?",
					  src->path, (unsigned long long)s,
					  (unsigned long long)e,
					  (unsigned long long)off);
		size = e - s + 1;
		err = vms_source_add_seg(src, s, size, VMS_SEG_MAPPED,
					 h + LIME_HDR);
		if (err)
			return err;
		off += LIME_HDR + size;
	}
	return 0;
}
