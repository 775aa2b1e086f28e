/* SPDX-License-Identifier: MIT */
/*
 * linux: kallsyms tables decoded from guest memory.
 */
#ifndef VMS_LINUX_KALLSYMS_H
#define VMS_LINUX_KALLSYMS_H

#include "../core/core.h"

#define VMS_KSYM_MAX 4000000u /* bound on symbols; real kernels: ~200k */

struct vms_ksyms {
	uint32_t n;		/* symbols */
	uint64_t *addr;		/* runtime address of each symbol */
	char *type;		/* nm-style type letter of each symbol */
	uint32_t *name;		/* offset of each name in @pool */
	char *pool;		/* NUL-terminated names; read them with
				 * vms_ksyms_name() */
	size_t pool_size;
	/* A decoded table expands names on first use (vms_ksyms_name):
	 * most commands need a few dozen of some 100,000, and expanding
	 * every one was a third of a cold `ps`. These are its copies of
	 * the guest's tables (so that a live guest that changes them
	 * cannot make a name disagree with its hash): kallsyms_names,
	 * where each symbol's entry starts in it, and the 256 tokens. */
	const uint8_t *packed;	/* NULL: @pool is complete */
	uint8_t *packed_own;	/* @packed where it is a copy */
	size_t packed_len;
	uint32_t *entry;
	/* kallsyms_seqs_of_names, 3 bytes an entry, or NULL if not found
	 * (find_seqs()); where the table is copied, so is this. */
	const uint8_t *seqs;
	uint8_t *seqs_own;
	uint32_t seq_lookups;	/* lookups it answered or missed */
	uint64_t image[2];	/* [_text, _end), once image_known */
	bool image_known;
	char *tokens;
	uint16_t tok_at[256];
	uint8_t tok_len[256];
	/* The name index (vms_ksyms_index): each symbol's name hash, and
	 * the symbols by the hash's low bits, those of bucket b at
	 * by_name[bucket[b]] up to by_name[bucket[b + 1]]. */
	uint32_t *hash;
	uint32_t *bucket;	/* nbucket + 1 entries */
	uint32_t *by_name;
	uint32_t nbucket;	/* a power of two */
	uint32_t *by_addr;	/* symbol indices sorted by address, built
				 * on first use (vms_ksyms_sort_by_addr) */
	uint64_t relative_base;	/* kallsyms_relative_base as stored */
	/* Physical addresses of the tables, for reports and checks. */
	uint64_t token_table;
	uint64_t token_index;
	uint64_t names;
	uint64_t markers;
	uint64_t offsets;
};

/*
 * Decode kallsyms from a window of guest-physical memory: @len bytes at
 * @data, which are the bytes of physical address @base. @digits is the
 * offset in the window of a "0\0" "1\0" ... "9\0" run, the signature of
 * the token table (see kallsyms.c). On success fills @ret, which the
 * caller frees with vms_ksyms_fini(). -ENOENT if this is not a kallsyms
 * table (a fallback may try the next candidate), -EBADMSG if it is one
 * but inconsistent.
 */
int vms_ksyms_decode(struct vms_ctx *ctx, const uint8_t *data, size_t len,
		     uint64_t base, size_t digits, struct vms_ksyms *ret);
/* vms_ksyms_decode(), but kallsyms_names is read in place when names are
 * expanded, not copied: @data must outlive the table and not change (a
 * dump file's mapping, not a live guest's memory). */
int vms_ksyms_decode_borrowed(struct vms_ctx *ctx, const uint8_t *data,
			      size_t len, uint64_t base, size_t digits,
			      struct vms_ksyms *ret);
void vms_ksyms_fini(struct vms_ksyms *ks);
/* Whether a token table and its index lie at the signature at @digits
 * (the first step of vms_ksyms_decode()). It reads at most 64 KiB before
 * @digits and 66 KiB after it: a window that holds those and fails here
 * fails in any larger window too. */
bool vms_ksyms_has_tokens(const uint8_t *data, size_t len, size_t digits);

/* The signature searched for: token strings for bytes '0'..'9'. */
extern const uint8_t vms_ksyms_digits[20];

/* Build @ks->by_addr once (0, or -ENOMEM). */
int vms_ksyms_sort_by_addr(struct vms_ksyms *ks);
/* Build the name index: from the hashes vms_ksyms_decode() took of the
 * packed names, or, for a table built by hand (@packed NULL), from n,
 * name and pool. */
int vms_ksyms_index(struct vms_ksyms *ks);

/* Position in @ks->by_addr of the first symbol above @addr (needs
 * vms_ksyms_sort_by_addr()). */
size_t vms_ksyms_upper(const struct vms_ksyms *ks, uint64_t addr);
/* Index of the last symbol at or below @addr in address order, or -1
 * (needs vms_ksyms_sort_by_addr()). */
int64_t vms_ksyms_floor(const struct vms_ksyms *ks, uint64_t addr);
/* Whether @addr lies in the kernel image, from _text to _end. */
bool vms_ksyms_in_image(struct vms_ksyms *ks, uint64_t addr);

/* The name of symbol @i (< @ks->n), without its type letter, expanded
 * into @ks->pool the first time it is asked for; the pointer stays valid
 * until vms_ksyms_fini(). Not safe against a concurrent call on the
 * same table. */
const char *vms_ksyms_name(const struct vms_ksyms *ks, uint32_t i);

/* Index of symbol @name, or -1. */
/* The first symbol named @name, or -1. Builds the name index on first
 * need (vms_ksyms_index()), so not concurrently with itself. */
int64_t vms_ksyms_lookup(struct vms_ksyms *ks, const char *name);

#endif /* VMS_LINUX_KALLSYMS_H */
