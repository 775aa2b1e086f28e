/* SPDX-License-Identifier: MIT */
/*
 * Code sites that a healthy kernel rewrites at run time, read from the
 * kernel's own records (see doc/baseline.md):
 *  - jump labels (static keys): every jump_entry's code site, from
 *    __start___jump_table and each module's jump_entries, 5 bytes (a
 *    2-byte short jump is covered by the 5);
 *  - static calls: every static_call_site, and the __SCT__* trampolines,
 *    5 bytes each (static_call_update() since v5.10);
 *  - ftrace: every function's fentry call site from ftrace's own records
 *    (ftrace_pages_start; MCOUNT_INSN_SIZE is 5 on x86), turned into a
 *    NOP at boot and back into a call while it is traced;
 *  - BPF dispatchers (bpf_dispatcher_*_func): the jump patched at their
 *    start when XDP programs attach, 9 bytes (ENDBR64 and a jump).
 * The baseline masks them before hashing; inline_hooks asks whether a
 * call it found sits on an ftrace site.
 */
#include <stdlib.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define PATCH_SIZE 5		/* a jump or call with a 32-bit offset */
#define DISPATCH_SIZE 9		/* ENDBR64, then the patched jump */
#define MAX_SITES (16u << 20)	/* every table's entries, in total */
#define MAX_TABLE (64u << 20)	/* bytes of one site table */
#define MAX_FTRACE_PAGES 1000000

static int site_add(struct vms_chk *c, struct vms_chk_sites *s, uint64_t a,
		    unsigned int len, enum vms_site_kind kind)
{
	int r = vms_grow(c->k->ctx, &s->v, &s->cap, s->n, sizeof(*s->v), 4096,
			 MAX_SITES);

	if (r)
		return r != -E2BIG ? r
				   : vms_err(c->k->ctx, -E2BIG, LAYER,
					     "more than %u patch sites",
					     MAX_SITES);
	s->v[s->n++] = (struct vms_chk_site){ a, (uint8_t)len, (uint8_t)kind };
	return 0;
}

/* Sites from a table of @n entries of @esize bytes at @va, whose member
 * at @off (4 bytes: relative to itself; 8: absolute) names the site. */
static int table_sites(struct vms_chk *c, struct vms_chk_sites *s,
		       enum vms_site_kind kind, uint64_t va, uint64_t n,
		       size_t esize, size_t off, size_t msize, const char *what)
{
	uint8_t *buf;
	int err = 0;

	if (!n)
		return 0;
	if (!esize || off + msize > esize || (msize != 4 && msize != 8) ||
	    n > MAX_TABLE / esize)
		return vms_err_at(c->k->ctx, -EINVAL, LAYER, va,
				  "%s at %#llx: %llu entries of %zu bytes is "
				  "not a table vmsight can read", what,
				  (unsigned long long)va,
				  (unsigned long long)n, esize);
	if ((err = vms_alloc(c->k->ctx, &buf, n, esize, what, va)))
		return err;
	if ((err = vms_kernel_read(c->k, va, buf, n * esize)))
		goto out;
	for (uint64_t i = 0; i < n && !err; i++) {
		const uint8_t *e = buf + i * esize + off;
		uint64_t at = va + i * esize + off;
		uint64_t site = msize == 4 ? at + (uint64_t)(int64_t)(int32_t)
						      vms_le32(e)
					   : vms_le64(e);
		err = site_add(c, s, site, PATCH_SIZE, kind);
	}
out:
	free(buf);
	return err;
}

/* Sites of a kernel table between two symbols. */
static int symbol_table(struct vms_chk *c, struct vms_chk_sites *s,
			enum vms_site_kind kind, const char *start, const char *stop,
			const char *type, const char *member)
{
	struct vms_kernel *k = c->k;
	uint64_t a, b;
	size_t esize, off, msize;

	if (vms_kernel_sym(k, start, &a) || vms_kernel_sym(k, stop, &b)) {
		vms_err_clear(k->ctx);
		return 0; /* a kernel built without the feature */
	}
	if (vms_btf_struct_size(k->btf, type, &esize) ||
	    vms_btf_member(k->btf, type, member, &off, &msize))
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "no %s.%s in the kernel's BTF", type, member);
	if (b < a)
		return vms_err_at(k->ctx, -EINVAL, LAYER, a,
				  "%s is above %s", start, stop);
	return table_sites(c, s, kind, a, (b - a) / esize, esize, off, msize,
			   start);
}

/* ftrace's records: ftrace_pages_start -> ftrace_page { next, records,
 * index } -> dyn_ftrace[index] { ip, ... }. */
static int ftrace_sites(struct vms_chk *c, struct vms_chk_sites *s)
{
	struct vms_kernel *k = c->k;
	size_t p_next, p_rec, p_idx, ip, rsize, sz;
	struct vms_addrset seen;
	uint32_t count = 0;
	uint64_t head, page;
	int err;

	if (vms_kernel_sym(k, "ftrace_pages_start", &head)) {
		vms_err_clear(k->ctx);
		return 0; /* no dynamic ftrace */
	}
	if (vms_btf_member(k->btf, "ftrace_page", "next", &p_next, &sz) ||
	    vms_btf_member(k->btf, "ftrace_page", "records", &p_rec, &sz) ||
	    vms_btf_member(k->btf, "ftrace_page", "index", &p_idx, &sz) ||
	    sz != 4 || vms_btf_member(k->btf, "dyn_ftrace", "ip", &ip, &sz) ||
	    sz != 8 || vms_btf_struct_size(k->btf, "dyn_ftrace", &rsize))
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "no ftrace_page/dyn_ftrace layout in the "
			       "kernel's BTF");
	if ((err = vms_kernel_read_u64(k, head, &page)))
		return err;
	vms_addrset_init(&seen);
	while (page && !err) {
		uint64_t rec;
		uint8_t b[4];
		if ((err = vms_walk_visit(k, &seen, &count, MAX_FTRACE_PAGES,
					  page, "the ftrace page list")) ||
		    (err = vms_kernel_read_u64(k, page + p_rec, &rec)) ||
		    (err = vms_kernel_read(k, page + p_idx, b, 4)))
			break;
		err = table_sites(c, s, VMS_SITE_FTRACE, rec, vms_le32(b),
				  rsize, ip, 8,
				  "ftrace records");
		if (!err)
			err = vms_kernel_read_u64(k, page + p_next, &page);
	}
	vms_addrset_fini(&seen);
	return err;
}

static int cmp_site(const void *x, const void *y)
{
	uint64_t a = ((const struct vms_chk_site *)x)->a;
	uint64_t b = ((const struct vms_chk_site *)y)->a;

	return a < b ? -1 : a > b;
}

/* Modules' own jump labels and static calls. */
static int module_sites(struct vms_chk *c, unsigned int kinds,
			struct vms_chk_sites *s)
{
	static const struct {
		enum vms_site_kind kind;
		const char *ptr, *num, *type, *member;
	} tab[] = {
		{ VMS_SITE_JUMP_LABEL, "jump_entries", "num_jump_entries",
		  "jump_entry", "code" },
		{ VMS_SITE_STATIC_CALL, "static_call_sites",
		  "num_static_call_sites", "static_call_site", "addr" },
	};
	struct vms_kernel *k = c->k;
	int err;

	if ((err = vms_chk_load_modules(c)))
		return err;
	for (size_t i = 0; i < c->nmods && !err; i++) {
		for (size_t t = 0; t < VMS_ARRAY_SIZE(tab) && !err; t++) {
			size_t po, no, nsz, esize, off, msize;
			uint64_t ptr;
			uint8_t b[4];
			if (!(kinds & (1u << tab[t].kind)) ||
			    vms_btf_member(k->btf, "module", tab[t].ptr, &po,
					   &nsz) ||
			    vms_btf_member(k->btf, "module", tab[t].num, &no,
					   &nsz) || nsz != 4 ||
			    vms_btf_struct_size(k->btf, tab[t].type, &esize) ||
			    vms_btf_member(k->btf, tab[t].type, tab[t].member,
					   &off, &msize))
				continue; /* a kernel without the feature */
			if ((err = vms_kernel_read_u64(k, c->mods[i].addr + po,
						       &ptr)) ||
			    (err = vms_kernel_read(k, c->mods[i].addr + no, b,
						   4)))
				break;
			if (ptr)
				err = table_sites(c, s, tab[t].kind, ptr,
						  vms_le32(b), esize, off,
						  msize, tab[t].ptr);
		}
	}
	return err;
}

int vms_chk_sites_collect(struct vms_chk *c, unsigned int kinds,
			  struct vms_chk_sites *s)
{
	struct vms_kernel *k = c->k;
	int err = 0;

	if ((kinds & (1u << VMS_SITE_JUMP_LABEL)) &&
	    (err = symbol_table(c, s, VMS_SITE_JUMP_LABEL,
				"__start___jump_table", "__stop___jump_table",
				"jump_entry", "code")))
		return err;
	if ((kinds & (1u << VMS_SITE_STATIC_CALL)) &&
	    (err = symbol_table(c, s, VMS_SITE_STATIC_CALL,
				"__start_static_call_sites",
				"__stop_static_call_sites", "static_call_site",
				"addr")))
		return err;
	if ((kinds & (1u << VMS_SITE_FTRACE)) && (err = ftrace_sites(c, s)))
		return err;
	for (size_t i = 0; i < k->ks.n && !err; i++) {
		const char *name = vms_ksyms_name(&k->ks, i);
		size_t len = strlen(name);
		if ((kinds & (1u << VMS_SITE_STATIC_CALL)) &&
		    !strncmp(name, "__SCT__", 7))
			err = site_add(c, s, k->ks.addr[i], PATCH_SIZE,
				       VMS_SITE_STATIC_CALL);
		else if ((kinds & (1u << VMS_SITE_BPF_DISPATCH)) &&
			 !strncmp(name, "bpf_dispatcher_", 15) && len > 20 &&
			 !strcmp(name + len - 5, "_func"))
			err = site_add(c, s, k->ks.addr[i], DISPATCH_SIZE,
				       VMS_SITE_BPF_DISPATCH);
	}
	if (!err && (kinds & ((1u << VMS_SITE_JUMP_LABEL) |
			      (1u << VMS_SITE_STATIC_CALL))))
		err = module_sites(c, kinds, s);
	if (err)
		return err;
	if (s->n)
		vms_qsort(s->v, s->n, sizeof(*s->v), cmp_site);
	return 0;
}

void vms_chk_sites_fini(struct vms_chk_sites *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The first site that may reach address @va or beyond (no site is
 * longer than DISPATCH_SIZE). */
static size_t first_reaching(const struct vms_chk_sites *s, uint64_t va)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].a + DISPATCH_SIZE <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct vms_chk_site *vms_chk_site_at(const struct vms_chk_sites *s,
					   uint64_t a)
{
	for (size_t i = first_reaching(s, a); i < s->n && s->v[i].a <= a; i++)
		if (s->v[i].a == a)
			return &s->v[i];
	return NULL;
}

void vms_chk_sites_mask(const struct vms_chk_sites *s, uint64_t va,
			uint8_t *buf, size_t len)
{
	for (size_t i = first_reaching(s, va); i < s->n && s->v[i].a < va + len;
	     i++)
		for (uint64_t b = s->v[i].a; b < s->v[i].a + s->v[i].len; b++)
			if (b >= va && b < va + len)
				buf[b - va] = 0;
}
