/* SPDX-License-Identifier: MIT */
/*
 * kallsyms decoded straight from guest memory, with no VMCOREINFO and no
 * System.map (torvalds/linux kernel/kallsyms.c, scripts/kallsyms.c).
 *
 * The generator emits these tables into .rodata, each label 8-aligned:
 *
 *   kallsyms_num_syms    u32 N
 *   kallsyms_names       N entries: len (ULEB128, 1 or 2 bytes since
 *                        v6.1, commit 73bbb94466fd), then len token bytes;
 *                        the expansion's first char is the type letter
 *   kallsyms_markers     u32 (unsigned long before v4.20) per 256 symbols:
 *                        offset of entry 256*i in kallsyms_names
 *   kallsyms_token_table 256 NUL-terminated strings; byte b expands to
 *                        string b
 *   kallsyms_token_index 256 u16: offset of string b in the token table
 *   kallsyms_offsets     N s32/u32, relative to kallsyms_relative_base
 *   kallsyms_relative_base  u64, relocated by KASLR: the runtime base
 *   kallsyms_seqs_of_names  N 3-byte big-endian symbol indices, sorted
 *                        by name (v6.2; Debian's 6.1): find_seqs()
 *
 * The order of the tables changed between releases (6.1: offsets,
 * relative_base, num_syms, names, markers, seqs_of_names, token_table,
 * token_index; 6.12: num_syms, names, markers, token_table, token_index,
 * offsets, relative_base, seqs_of_names), so nothing here depends on it.
 * What is relied on:
 *   - every byte that occurs in a symbol name is its own one-char token,
 *     so the strings for '0'..'9' are consecutive single digits: the
 *     signature that finds the token table;
 *   - num_syms immediately precedes names (true since kallsyms began);
 *   - names is followed by markers, within 8 bytes of padding;
 *   - offsets either end just before relative_base, which precedes
 *     num_syms, or start right after token_index.
 * Everything found is cross-checked: token_index against the strings,
 * every marker against the decoded names, addresses for order.
 *
 * All reads are bounded by the window; a hostile table yields -ENOENT or
 * -EBADMSG, never a read outside it.
 */
#include <stdlib.h>
#include <string.h>

#include "kallsyms.h"

#define LAYER "linux"
#define TOKEN_MAX 255	     /* bound on one token's expansion */
#define NAME_MAX_LEN 512     /* KSYM_NAME_LEN since v6.1 */
#define MARKER_SEARCH (16u << 20)
#define MAX_GROUP_BYTES (256u * (NAME_MAX_LEN + 2))
/* Steps one candidate's search for names and markers may take (a step:
 * a marker candidate, a run entry, a num_syms candidate, a names entry
 * skipped). Debian's 6.1 and 6.12 kernels take about 165,000, so this is
 * room for a kernel with twenty-five times that; memory made to look
 * like markers and names everywhere could otherwise make the search
 * quadratic, or worse. */
#define WORK_MAX (4ull << 20)
#define SEQ_SIZE 3	/* bytes of a kallsyms_seqs_of_names entry */

const uint8_t vms_ksyms_digits[20] = "0\0" "1\0" "2\0" "3\0" "4\0"
				     "5\0" "6\0" "7\0" "8\0" "9";

struct win {
	const uint8_t *d;	/* window bytes */
	size_t len;		/* window length */
	uint64_t base;		/* physical address of d[0] */
	uint64_t *work;		/* steps taken, against WORK_MAX */
};

/* Take a step of the search: false once past WORK_MAX. */
static bool spend(const struct win *w)
{
	return ++*w->work <= WORK_MAX;
}

static bool rd32(const struct win *w, size_t off, uint32_t *v)
{
	if (off > w->len || w->len - off < 4)
		return false;
	*v = vms_le32(w->d + off);
	return true;
}

static bool rd64(const struct win *w, size_t off, uint64_t *v)
{
	if (off > w->len || w->len - off < 8)
		return false;
	*v = vms_le64(w->d + off);
	return true;
}

struct tokens {
	size_t table;		/* window offset of the token table */
	size_t index;		/* window offset of the token index */
	const char *str[256];	/* expansion of each byte */
	uint8_t len[256];	/* its length */
};

/* End of the @count NUL-terminated strings from @s, or 0. */
static size_t skip_strings(const struct win *w, size_t s, int count)
{
	for (int i = 0; i < count; i++) {
		const uint8_t *nul;
		if (s >= w->len)
			return 0;
		nul = memchr(w->d + s, 0, VMS_MIN(w->len - s, TOKEN_MAX));
		if (!nul)
			return 0;
		s = (size_t)(nul - w->d) + 1;
	}
	return s;
}

/*
 * Find the token table and index around the digit signature. Walking
 * back from '0' to the table start is ambiguous (the first strings may be
 * empty, and whatever precedes the table may not end in NUL), so walk
 * forward to the table's end, take the index that follows it, and let
 * index['0'] say where the table starts; then check all 256 entries.
 */
static bool find_tokens(const struct win *w, size_t digits, struct tokens *t)
{
	size_t e = skip_strings(w, digits, 256 - '0');

	if (!e)
		return false;
	for (size_t pad = 0; pad < 16; pad++) {
		size_t i = e + pad, s, p;
		int j;

		if (i > w->len || w->len - i < 512)
			return false;
		if (vms_le16(w->d + i + 2 * '0') > digits)
			continue;
		s = digits - vms_le16(w->d + i + 2 * '0');
		for (j = 0, p = s; j < 256; j++) {
			if (vms_le16(w->d + i + 2 * j) != p - s)
				break;
			t->str[j] = (const char *)w->d + p;
			t->len[j] = (uint8_t)strnlen(t->str[j], TOKEN_MAX);
			p = skip_strings(w, p, 1);
			if (!p)
				break;
		}
		if (j == 256 && p == e) {
			t->table = s;
			t->index = i;
			return true;
		}
	}
	return false;
}

/* Length of the names entry at @p and the size of its header; false if
 * it runs out of the window or is empty. */
static bool entry_at(const struct win *w, size_t p, size_t *hdr, size_t *len)
{
	if (p >= w->len)
		return false;
	*len = w->d[p];
	*hdr = 1;
	if (*len & 0x80) {
		if (p + 1 >= w->len)
			return false;
		*len = (*len & 0x7f) | (size_t)w->d[p + 1] << 7;
		*hdr = 2;
	}
	return *len && *len <= w->len - p - *hdr;
}

/* Skip @count entries from @p; false if any is malformed. */
static bool skip_entries(const struct win *w, size_t *p, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		size_t hdr, len;
		if (!spend(w) || !entry_at(w, *p, &hdr, &len))
			return false;
		*p += hdr + len;
	}
	return true;
}

struct layout {
	size_t markers;		/* window offset */
	uint32_t nmarkers;	/* ceil(N / 256) */
	size_t num_syms;	/* window offset of kallsyms_num_syms */
	size_t names;		/* window offset of kallsyms_names */
	uint32_t n;		/* symbols */
	size_t offsets;		/* window offset of kallsyms_offsets */
	size_t relbase;		/* window offset of kallsyms_relative_base */
	bool abs_percpu;	/* CONFIG_KALLSYMS_ABSOLUTE_PERCPU encoding */
	size_t seqs;		/* window offset of kallsyms_seqs_of_names */
	bool has_seqs;		/* found (find_seqs()) */
};

/* Do the markers at @m (with @es-byte entries) describe the names at
 * @names for @n symbols, and do the names end right before @m? */
static bool check_names(const struct win *w, size_t m, size_t es,
			size_t names, uint32_t n)
{
	uint32_t k = (n + 255) / 256;
	size_t p = names;

	for (uint32_t i = 0; i < k; i++) {
		uint64_t mk;
		uint32_t v32;
		if (es == 4) {
			if (!rd32(w, m + 4 * i, &v32))
				return false;
			mk = v32;
		} else if (!rd64(w, m + 8 * i, &mk)) {
			return false;
		}
		if (names + mk != p)
			return false;
		if (!skip_entries(w, &p, i + 1 < k ? 256 : n - 256 * i))
			return false;
	}
	return p <= m && m - p < 8;
}

/* Find num_syms, names and markers: markers below the token table, then
 * the u32 N just before names. */
static bool find_names(const struct win *w, const struct tokens *t,
		       struct layout *l)
{
	size_t lo = t->table > MARKER_SEARCH ? t->table - MARKER_SEARCH : 0;

	for (size_t es = 4; es <= 8; es += 4) {
		for (size_t m = (t->table - es) & ~(es - 1); m >= lo + es;
		     m -= es) {
			uint64_t m0, m1, last = 0, v;
			uint32_t run = 0;

			if (!spend(w))
				return false;
			if (es == 4) {
				uint32_t a, b;
				if (!rd32(w, m, &a) || !rd32(w, m + 4, &b))
					continue;
				m0 = a, m1 = b;
			} else if (!rd64(w, m, &m0) || !rd64(w, m + 8, &m1)) {
				continue;
			}
			if (m0 || m1 < 256 * 2 || m1 > MAX_GROUP_BYTES)
				continue;
			/* Count the increasing run: up to ceil(N/256). */
			for (size_t q = m; q + es <= t->table; q += es) {
				uint32_t v32;
				if (!spend(w))
					return false;
				if (es == 4) {
					if (!rd32(w, q, &v32))
						break;
					v = v32;
				} else if (!rd64(w, q, &v)) {
					break;
				}
				if (run && (v <= last ||
					    v - last > MAX_GROUP_BYTES))
					break;
				last = v;
				run++;
			}
			/* names lies below the markers; its last group starts
			 * at names + m[run-1]; search N below that. */
			size_t top = m > last ? m - (size_t)last : 0;
			size_t bottom = top > MAX_GROUP_BYTES + 16
						? top - MAX_GROUP_BYTES - 16
						: 0;
			for (size_t q = top & ~(size_t)3; q >= bottom + 4;
			     q -= 4) {
				uint32_t n;
				if (!spend(w))
					return false;
				if (!rd32(w, q, &n) || n < 2 ||
				    n > VMS_KSYM_MAX)
					continue;
				uint32_t k = (n + 255) / 256;
				if (k > run || k + 2 < run)
					continue;
				for (size_t gap = 4; gap <= 8; gap += 4) {
					if (!check_names(w, m, es, q + gap, n))
						continue;
					l->markers = m;
					l->nmarkers = k;
					l->num_syms = q;
					l->names = q + gap;
					l->n = n;
					return true;
				}
			}
		}
	}
	return false;
}

/* Are the N offsets at @o, based at the u64 at @r, a sorted table? */
static bool check_offsets(const struct win *w, size_t o, size_t r,
			  uint32_t n, bool *abs_percpu)
{
	uint64_t base, prev = 0;
	bool seen_rel = false;
	uint32_t v = 0;

	if (!rd64(w, r, &base) || base < 0xffff800000000000ull)
		return false;
	if (o > w->len || (w->len - o) / 4 < n)
		return false;
	/* Absolute-percpu encoding: non-negative entries are absolute
	 * addresses and come first (per-cpu symbols sort below the kernel),
	 * negative ones are base - 1 - offset. Otherwise all are unsigned
	 * offsets from base. */
	rd32(w, o + 4ull * (n - 1), &v);
	*abs_percpu = (int32_t)v < 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a;
		rd32(w, o + 4ull * i, &v);
		if (!*abs_percpu) {
			a = base + v;
		} else if ((int32_t)v >= 0) {
			if (seen_rel)
				return false;
			a = v;
		} else {
			seen_rel = true;
			a = base - 1 - (uint64_t)(int64_t)(int32_t)v;
		}
		if (a < prev)
			return false;
		prev = a;
	}
	return true;
}

static size_t align8(const struct win *w, size_t off)
{
	uint64_t pa = w->base + off;
	return off + (size_t)((8 - (pa & 7)) & 7);
}

static bool find_offsets(const struct win *w, const struct tokens *t,
			 struct layout *l)
{
	size_t cand[4][2];
	size_t nc = 0;
	size_t bytes = 4ull * l->n;

	/* Before num_syms: offsets, padding, relative_base. */
	if (l->num_syms >= 8 + bytes) {
		size_t r = l->num_syms - 8;
		cand[nc][0] = r - bytes, cand[nc++][1] = r;
		if (r >= bytes + 4)
			cand[nc][0] = r - bytes - 4, cand[nc++][1] = r;
	}
	/* After token_index: offsets, padding, relative_base. */
	size_t o = align8(w, t->index + 512);
	cand[nc][0] = o, cand[nc++][1] = align8(w, o + bytes);
	for (size_t i = 0; i < nc; i++) {
		if (check_offsets(w, cand[i][0], cand[i][1], l->n,
				  &l->abs_percpu)) {
			l->offsets = cand[i][0];
			l->relbase = cand[i][1];
			return true;
		}
	}
	return false;
}

/*
 * kallsyms_seqs_of_names (v6.2, commits 60443c88f3a8 and 19bd8981dc2e;
 * Debian's 6.1 has it too): the symbols' indices sorted by name, 3 bytes
 * big-endian each. It follows the markers where the offsets precede
 * num_syms (6.1's order), and relative_base otherwise (6.12's). What is
 * found here is not trusted: every name a lookup finds through it is
 * compared with the query, and a miss falls back to the hash index
 * (vms_ksyms_lookup()).
 */
static void find_seqs(const struct win *w, const struct tokens *t,
		      struct layout *l)
{
	size_t s;

	l->has_seqs = false;
	if (l->offsets < l->num_syms) {
		s = align8(w, l->markers + 4ull * l->nmarkers);
		if (s > t->table || (t->table - s) / SEQ_SIZE < l->n ||
		    t->table - s - (size_t)SEQ_SIZE * l->n >= 8)
			return;
	} else {
		s = align8(w, l->relbase + 8);
		if (s > w->len || (w->len - s) / SEQ_SIZE < l->n)
			return;
	}
	l->seqs = s;
	l->has_seqs = true;
}

void vms_ksyms_fini(struct vms_ksyms *ks)
{
	free(ks->addr);
	free(ks->type);
	free(ks->name);
	free(ks->pool);
	free(ks->hash);
	free(ks->bucket);
	free(ks->by_name);
	free(ks->by_addr);
	free(ks->packed_own);
	free(ks->seqs_own);
	free(ks->entry);
	free(ks->tokens);
	memset(ks, 0, sizeof(*ks));
}

static int by_addr_cmp(const void *x, const void *y, void *arg)
{
	const struct vms_ksyms *ks = arg;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;

	if (ks->addr[i] != ks->addr[j])
		return ks->addr[i] < ks->addr[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

size_t vms_ksyms_upper(const struct vms_ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->by_addr ? ks->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ks->addr[ks->by_addr[mid]] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int64_t vms_ksyms_floor(const struct vms_ksyms *ks, uint64_t addr)
{
	size_t u = vms_ksyms_upper(ks, addr);

	return u ? (int64_t)ks->by_addr[u - 1] : -1;
}

bool vms_ksyms_in_image(struct vms_ksyms *ks, uint64_t addr)
{
	/* Looked up once: callers ask for every address they name. */
	if (!ks->image_known) {
		int64_t t = vms_ksyms_lookup(ks, "_text");
		int64_t e = vms_ksyms_lookup(ks, "_end");

		ks->image[0] = t >= 0 ? ks->addr[t] : 1;
		ks->image[1] = e >= 0 && t >= 0 ? ks->addr[e] : 0;
		ks->image_known = true;
	}
	return ks->image[0] <= addr && addr < ks->image[1];
}

int vms_ksyms_sort_by_addr(struct vms_ksyms *ks)
{
	if (ks->by_addr)
		return 0;
	ks->by_addr = malloc((ks->n ? ks->n : 1) * sizeof(*ks->by_addr));
	if (!ks->by_addr)
		return -ENOMEM;
	for (uint32_t i = 0; i < ks->n; i++)
		ks->by_addr[i] = i;
	/* kallsyms is sorted by address already; sorting again costs
	 * little and does not trust the guest on it. */
	qsort_r(ks->by_addr, ks->n, sizeof(*ks->by_addr), by_addr_cmp, ks);
	return 0;
}

/*
 * The name hash is a polynomial over the bytes, the sum of byte j times
 * HASH_B^j, mixed at the end. A name's is put together from its tokens'
 * (each token's own sum, computed once per table) without expanding the
 * name: a token at byte position pos adds its sum times HASH_B^pos. The
 * multiplications are off the chain of dependent steps, which is one
 * addition a token.
 */
#define HASH_B 0x100000001b3ull

/* The sum of @s[j] * HASH_B^j. */
static uint64_t poly(const uint8_t *s, size_t len)
{
	uint64_t h = 0, pw = 1;

	for (size_t j = 0; j < len; j++, pw *= HASH_B)
		h += s[j] * pw;
	return h;
}

static uint32_t hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static uint32_t name_hash(const char *s)
{
	return hash_final(poly((const uint8_t *)s, strlen(s)));
}

/* Each name's hash from its tokens, without expanding it. An entry that
 * no longer parses (a dump file changed under its mapping) hashes to 0,
 * and its lookups compare names and fail. */
static void hash_packed(struct vms_ksyms *ks)
{
	const struct win pw_win = { .d = ks->packed, .len = ks->packed_len };
	uint64_t th[256], th1[256], pw[NAME_MAX_LEN + 1];
	size_t tok_max = 0;

	for (int j = 0; j < 256; j++) {
		const uint8_t *t = (const uint8_t *)ks->tokens + ks->tok_at[j];
		size_t n = ks->tok_len[j];

		/* @th1: the token without its first byte, for a name's first
		 * token, which starts with the type letter. */
		th[j] = poly(t, n);
		th1[j] = n ? poly(t + 1, n - 1) : 0;
		tok_max = VMS_MAX(tok_max, n);
	}
	pw[0] = 1;
	for (size_t j = 1; j <= NAME_MAX_LEN; j++)
		pw[j] = pw[j - 1] * HASH_B;
	for (uint32_t i = 0; i < ks->n; i++) {
		size_t hdr, len, bl = 0, k = 0;
		uint64_t h = 0;
		const uint8_t *tk;

		ks->hash[i] = 0;
		if (!entry_at(&pw_win, ks->entry[i], &hdr, &len))
			continue;
		tk = ks->packed + ks->entry[i] + hdr;
		/* bl: bytes expanded, the type letter included, so that the
		 * name's own byte pos is bl - 1. */
		while (k < len && !ks->tok_len[tk[k]])
			k++;
		if (k < len) {
			h = th1[tk[k]];
			bl = ks->tok_len[tk[k++]];
		}
		/* Most of the cost of an index (1.2 million tokens for 6.1's
		 * 95,000 symbols). When the longest token cannot take the
		 * name past NAME_MAX_LEN, as for nearly every name, the loop
		 * runs without the bound check. */
		if (bl + (len - k) * tok_max <= NAME_MAX_LEN) {
			for (; k < len; k++) {
				h += th[tk[k]] * pw[bl - 1];
				bl += ks->tok_len[tk[k]];
			}
		}
		for (; k < len && bl <= NAME_MAX_LEN; k++) {
			h += th[tk[k]] * pw[bl - 1];
			bl += ks->tok_len[tk[k]];
		}
		ks->hash[i] = hash_final(h);
	}
}

/*
 * The name index: each symbol's hash, and the symbols grouped by the
 * hash's low bits (a counting sort: bucket[b] to bucket[b + 1] in
 * by_name). No name is compared while it is built; a lookup compares
 * names only where the whole hash matches. The sort is stable, so
 * within a bucket symbols keep their order and the first symbol of a
 * name wins, as in the kernel's own lookup.
 */
int vms_ksyms_index(struct vms_ksyms *ks)
{
	uint32_t nb = 1;

	/* About four symbols a bucket: 32 Ki buckets (128 KiB) for 6.1's
	 * 95,000 symbols, which the counting sort below fills at random
	 * and which stay in cache where one per symbol (512 KiB) did not;
	 * a lookup compares a few whole hashes more. */
	while (nb < ks->n / 4 && nb < (1u << 28))
		nb <<= 1;
	free(ks->hash);
	free(ks->bucket);
	free(ks->by_name);
	ks->hash = malloc(((size_t)ks->n + 1) * sizeof(*ks->hash));
	ks->bucket = calloc((size_t)nb + 1, sizeof(*ks->bucket));
	ks->by_name = malloc(((size_t)ks->n + 1) * sizeof(*ks->by_name));
	if (!ks->hash || !ks->bucket || !ks->by_name) {
		free(ks->hash);
		free(ks->bucket);
		free(ks->by_name);
		ks->hash = ks->bucket = ks->by_name = NULL;
		return -ENOMEM;
	}
	ks->nbucket = nb;
	if (ks->packed)
		hash_packed(ks);
	else
		for (uint32_t i = 0; i < ks->n; i++)
			ks->hash[i] = name_hash(ks->pool + ks->name[i]);
	for (uint32_t i = 0; i < ks->n; i++)
		ks->bucket[(ks->hash[i] & (nb - 1)) + 1]++;
	for (uint32_t b = 0; b < nb; b++)
		ks->bucket[b + 1] += ks->bucket[b];
	/* bucket[b] serves as b's fill point, and ends as its end... */
	for (uint32_t i = 0; i < ks->n; i++)
		ks->by_name[ks->bucket[ks->hash[i] & (nb - 1)]++] = i;
	/* ...which is the start of b + 1: shift back by one bucket. */
	memmove(ks->bucket + 1, ks->bucket, (size_t)nb * sizeof(*ks->bucket));
	ks->bucket[0] = 0;
	return 0;
}

/* Expand name @i into @out (@room bytes, at least 1), from the packed
 * table; the bytes written, less the NUL. */
static size_t expand(const struct vms_ksyms *ks, uint32_t i, char *out,
		     size_t room)
{
	const struct win pw = { .d = ks->packed, .len = ks->packed_len };
	const uint8_t *tk;
	size_t hdr, len, o = 0;
	bool type = true; /* the expansion's first byte is the type */

	/* The entry was checked when the table was decoded; a dump file
	 * changed since cannot make this read outside the table. */
	if (entry_at(&pw, ks->entry[i], &hdr, &len)) {
		tk = ks->packed + ks->entry[i] + hdr;
		for (size_t k = 0; k < len; k++) {
			const char *s = ks->tokens + ks->tok_at[tk[k]];
			size_t n = ks->tok_len[tk[k]];

			if (type && n) {
				s++;
				n--;
				type = false;
			}
			n = VMS_MIN(n, room - 1 - o);
			memcpy(out + o, s, n);
			o += n;
		}
	}
	out[o] = 0;
	return o;
}

/* The name of symbol @i: cached in the pool, or expanded into @buf. */
static const char *name_in(const struct vms_ksyms *ks, uint32_t i,
			   char buf[NAME_MAX_LEN + 1])
{
	const char *p = ks->pool + ks->name[i];

	if (*p || !ks->packed)
		return p;
	expand(ks, i, buf, NAME_MAX_LEN + 1);
	return buf;
}

/* Entry @j of kallsyms_seqs_of_names, if it names a symbol. */
static bool seq_at(const struct vms_ksyms *ks, uint32_t j, uint32_t *i)
{
	const uint8_t *p = ks->seqs + (size_t)SEQ_SIZE * j;

	*i = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	return *i < ks->n;
}

/* The first symbol named @name, by binary search in seqs_of_names as
 * the kernel's own kallsyms_lookup_names() does: about 17 names of
 * 95,000 expanded, and no index built. -1 where it finds none. */
static int64_t seqs_lookup(const struct vms_ksyms *ks, const char *name)
{
	char buf[NAME_MAX_LEN + 1];
	uint32_t lo = 0, hi = ks->n, i;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (!seq_at(ks, mid, &i))
			return -1;
		if (strcmp(name_in(ks, i, buf), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ks->n && seq_at(ks, lo, &i) &&
	    !strcmp(name_in(ks, i, buf), name))
		return i;
	return -1;
}

/* Lookups answered by seqs_lookup() before the index is built anyway:
 * past this many, the index's one pass costs less than the searches. */
#define SEQS_LOOKUPS 256

int64_t vms_ksyms_lookup(struct vms_ksyms *ks, const char *name)
{
	uint32_t h, b;

	/* A table that names its symbols in sorted order is searched
	 * first: `ps` looks up 9 names, all found this way, and building
	 * the index was a tenth of it. The guest's sorting is not trusted
	 * for a miss: the index, built then, answers that. */
	if (!ks->by_name && ks->seqs && ks->seq_lookups < SEQS_LOOKUPS) {
		int64_t i = seqs_lookup(ks, name);

		ks->seq_lookups++;
		if (i >= 0)
			return i;
	}
	if (!ks->by_name && (!ks->n || vms_ksyms_index(ks)))
		return -1;
	h = name_hash(name);
	b = h & (ks->nbucket - 1);
	/* Only a symbol whose whole hash matches is expanded. */
	for (uint32_t j = ks->bucket[b]; j < ks->bucket[b + 1]; j++) {
		uint32_t i = ks->by_name[j];
		if (ks->hash[i] == h && !strcmp(vms_ksyms_name(ks, i), name))
			return i;
	}
	return -1;
}

const char *vms_ksyms_name(const struct vms_ksyms *ks, uint32_t i)
{
	char *out;

	if (i >= ks->n)
		return "";
	out = ks->pool + ks->name[i];
	/* Every name has a byte: a NUL first means not yet expanded. */
	if (*out || !ks->packed)
		return out;
	expand(ks, i, out, (i + 1 < ks->n ? ks->name[i + 1] : ks->pool_size) -
				   ks->name[i]);
	return out;
}

/* Copy the tokens into @ks. */
static int copy_tokens(const struct tokens *t, struct vms_ksyms *ks)
{
	size_t total = 0;

	for (int j = 0; j < 256; j++)
		total += t->len[j];
	if (!(ks->tokens = malloc(total ? total : 1)))
		return -ENOMEM;
	total = 0;
	for (int j = 0; j < 256; j++) {
		size_t n = t->len[j];

		memcpy(ks->tokens + total, t->str[j], n);
		ks->tok_at[j] = (uint16_t)total; /* 256 * TOKEN_MAX fits */
		ks->tok_len[j] = (uint8_t)n;
		total += n;
	}
	return 0;
}

/* @n bytes at @p as a table keeps them: @p itself if @borrow, else a
 * copy, which *@own holds (NULL: out of memory). */
static const uint8_t *keep(const uint8_t *p, size_t n, bool borrow,
			   uint8_t **own)
{
	if (borrow)
		return p;
	if ((*own = malloc(n ? n : 1)))
		memcpy(*own, p, n);
	return *own;
}

/*
 * One pass over the names: each symbol's address, type letter and
 * expanded length, with no name expanded (vms_ksyms_name does that on
 * use) and none hashed (vms_ksyms_lookup builds the index when it needs
 * it). The names are copied first and read from the copy, unless
 * @borrow, so that what was checked here is what will be expanded.
 */
static int scan_names(struct vms_ctx *ctx, const struct win *w,
		      const struct tokens *t, const struct layout *l,
		      bool borrow, struct vms_ksyms *ks)
{
	uint64_t base = vms_le64(w->d + l->relbase);
	size_t used = 0, plen, tok_max = 0;
	struct win nw;
	int err;

	/* find_names() ended the names right before the markers. */
	if (l->markers <= l->names || l->markers > w->len ||
	    l->markers - l->names > UINT32_MAX)
		return vms_err_at(ctx, -EBADMSG, LAYER, w->base + l->names,
				  "kallsyms names at physical %#llx do not "
				  "end before their markers",
				  (unsigned long long)(w->base + l->names));
	plen = l->markers - l->names;
	if ((err = vms_cap(ctx, plen, 1, "kallsyms names",
			   w->base + l->names)))
		return err;
	ks->addr = malloc(sizeof(*ks->addr) * l->n);
	ks->type = malloc(l->n);
	ks->name = malloc(sizeof(*ks->name) * l->n);
	ks->entry = malloc(sizeof(*ks->entry) * l->n);
	ks->packed = keep(w->d + l->names, plen, borrow, &ks->packed_own);
	if (l->has_seqs)
		ks->seqs = keep(w->d + l->seqs, (size_t)SEQ_SIZE * l->n, borrow,
				&ks->seqs_own);
	if (!ks->addr || !ks->type || !ks->name || !ks->entry ||
	    !ks->packed || (l->has_seqs && !ks->seqs) || copy_tokens(t, ks))
		return -ENOMEM;
	ks->packed_len = plen;
	for (int j = 0; j < 256; j++)
		tok_max = VMS_MAX(tok_max, (size_t)ks->tok_len[j]);
	nw = (struct win){ .d = ks->packed, .len = plen,
			   .base = w->base + l->names, .work = w->work };
	for (uint32_t i = 0, p = 0; i < l->n; i++) {
		size_t hdr, len, bl = 0;
		uint32_t v = vms_le32(w->d + l->offsets + 4ull * i);
		int type = -1;

		if (!entry_at(&nw, p, &hdr, &len))
			return vms_err_at(ctx, -EBADMSG, LAYER,
					  nw.base + p,
					  "kallsyms name %u at physical %#llx "
					  "is malformed", i,
					  (unsigned long long)(nw.base + p));
		/* bl: bytes expanded, the type letter included. The first
		 * token with bytes gives the type letter (an empty token
		 * before it occurs only in a forged table, and adds
		 * nothing). */
		const uint8_t *tk = ks->packed + p + hdr;
		size_t k = 0;

		while (k < len && !ks->tok_len[tk[k]])
			k++;
		if (k < len) {
			type = (unsigned char)ks->tokens[ks->tok_at[tk[k]]];
			bl = ks->tok_len[tk[k++]];
		}
		/* When the longest token cannot take the name past
		 * NAME_MAX_LEN, as for nearly every name, the loop runs
		 * without the bound check. */
		if (bl + (len - k) * tok_max <= NAME_MAX_LEN) {
			for (; k < len; k++)
				bl += ks->tok_len[tk[k]];
		}
		for (; k < len; k++) {
			bl += ks->tok_len[tk[k]];
			if (bl > NAME_MAX_LEN)
				return vms_err_at(ctx, -EBADMSG, LAYER,
						  nw.base + p,
						  "kallsyms name %u at physical "
						  "%#llx expands beyond %u "
						  "bytes", i,
						  (unsigned long long)(nw.base +
								       p),
						  NAME_MAX_LEN);
		}
		if (bl < 2)
			return vms_err_at(ctx, -EBADMSG, LAYER, nw.base + p,
					  "kallsyms name %u is empty", i);
		ks->entry[i] = p;
		p += (uint32_t)(hdr + len); /* within plen, from entry_at */
		ks->type[i] = (char)type;
		/* The expansion less its type letter, and a NUL. VMS_KSYM_MAX
		 * names of NAME_MAX_LEN bytes stay under 4 GiB, as the 32-bit
		 * offsets need. */
		ks->name[i] = (uint32_t)used;
		used += bl;
		if (!l->abs_percpu)
			ks->addr[i] = base + v;
		else if ((int32_t)v >= 0)
			ks->addr[i] = v;
		else
			ks->addr[i] = base - 1 - (uint64_t)(int64_t)(int32_t)v;
	}
	/* Zeroed, untouched until names are expanded into it: calloc of
	 * this size maps fresh pages, which cost nothing until used. */
	if ((err = vms_cap(ctx, used, 1, "kallsyms names expanded",
			   w->base + l->names)))
		return err;
	if (!(ks->pool = calloc(used ? used : 1, 1)))
		return -ENOMEM;
	ks->pool_size = used;
	ks->n = l->n;
	ks->relative_base = base;
	return 0;
}

bool vms_ksyms_has_tokens(const uint8_t *data, size_t len, size_t digits)
{
	uint64_t work = 0;
	struct win w = { .d = data, .len = len, .work = &work };
	struct tokens t;

	return digits < len && find_tokens(&w, digits, &t);
}

static int decode(struct vms_ctx *ctx, const uint8_t *data, size_t len,
		  uint64_t base, size_t digits, bool borrow,
		  struct vms_ksyms *ret)
{
	uint64_t work = 0;
	struct win w = { .d = data, .len = len, .base = base, .work = &work };
	struct tokens t;
	struct layout l;
	struct vms_ksyms ks = { 0 };
	int err;

	if (digits >= len || !find_tokens(&w, digits, &t))
		return -ENOENT;
	if (!find_names(&w, &t, &l)) {
		vms_log(ctx, VMS_LOG_DEBUG,
			"kallsyms: token table at physical %#llx, but no "
			"names and markers near it%s",
			(unsigned long long)(base + t.table),
			work > WORK_MAX ? " (the search gave up after "
					  "its bound of steps)" : "");
		return -ENOENT;
	}
	vms_log(ctx, VMS_LOG_DEBUG, "kallsyms: names found in %llu steps",
		(unsigned long long)work);
	if (!find_offsets(&w, &t, &l)) {
		vms_log(ctx, VMS_LOG_DEBUG,
			"kallsyms: %u names at physical %#llx, but no sorted "
			"offsets table", l.n,
			(unsigned long long)(base + l.names));
		return -ENOENT;
	}
	find_seqs(&w, &t, &l);
	if (l.has_seqs)
		vms_log(ctx, VMS_LOG_DEBUG, "kallsyms: names sorted in "
			"seqs_of_names at physical %#llx",
			(unsigned long long)(base + l.seqs));
	err = scan_names(ctx, &w, &t, &l, borrow, &ks);
	if (err) {
		vms_ksyms_fini(&ks);
		return err;
	}
	ks.token_table = base + t.table;
	ks.token_index = base + t.index;
	ks.names = base + l.names;
	ks.markers = base + l.markers;
	ks.offsets = base + l.offsets;
	*ret = ks;
	return 0;
}

int vms_ksyms_decode(struct vms_ctx *ctx, const uint8_t *data, size_t len,
		     uint64_t base, size_t digits, struct vms_ksyms *ret)
{
	return decode(ctx, data, len, base, digits, false, ret);
}

int vms_ksyms_decode_borrowed(struct vms_ctx *ctx, const uint8_t *data,
			      size_t len, uint64_t base, size_t digits,
			      struct vms_ksyms *ret)
{
	return decode(ctx, data, len, base, digits, true, ret);
}
