/* SPDX-License-Identifier: MIT */
/*
 * Measurements for baselines: SHA-256 hashes of what must not change in
 * a running kernel, and the sets a site expects to stay put.
 *
 *   kernel          _text (where KASLR put the kernel) and the banner
 *   text, rodata    each 4 KiB page of [_text, _etext) and
 *                   [__start_rodata, __end_rodata), keyed by its offset
 *   syscall_table   sys_call_table (its extent: up to the next symbol)
 *   idt             idt_table (the same)
 *   module          each module's code and read-only data (listed and
 *                   hidden ones), keyed by name
 *   process         each user process, "pid N (comm)"
 *   listener        each listening socket, "PROTO ADDRESS:PORT netns N"
 *
 * What a healthy kernel rewrites in its own code at run time is masked
 * (zeroed before hashing), site by site, from the kernel's own records:
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
 * Alternatives, paravirt and retpoline patching are done by the time
 * user space runs, and kernel text does not change after it, so they
 * need no mask. kprobes are not masked: a probe's int3 or jump is a
 * change to report (the kprobes check names its owner).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "checks.h"

#define LAYER "checks"
#define PATCH_SIZE 5		/* a jump or call with a 32-bit offset */
#define DISPATCH_SIZE 9		/* ENDBR64, then the patched jump */
#define MAX_SITES (16u << 20)	/* every table's entries, in total */
#define MAX_TABLE (64u << 20)	/* bytes of one site table */
#define MAX_FTRACE_PAGES 1000000
#define MAX_IMAGE (1ull << 30)	/* bytes of one measured section */

struct site {
	uint64_t a;		/* masked: [a, a + len) */
	uint64_t len;
};

struct sites {
	struct site *v;		/* sorted by address once collected */
	size_t n, cap;
};

static int site_add(struct vms_chk *c, struct sites *s, uint64_t a,
		    uint64_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		struct site *v;
		if (cap > MAX_SITES)
			return vms_err(c->k->ctx, -E2BIG, LAYER,
				       "more than %u patch sites", MAX_SITES);
		if (!(v = realloc(s->v, cap * sizeof(*v))))
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct site){ a, len };
	return 0;
}

/* Sites from a table of @n entries of @esize bytes at @va, whose member
 * at @off (4 bytes: relative to itself; 8: absolute) names the site. */
static int table_sites(struct vms_chk *c, struct sites *s, uint64_t va,
		       uint64_t n, size_t esize, size_t off, size_t msize,
		       const char *what)
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
	if (!(buf = malloc(n * esize)))
		return -ENOMEM;
	if ((err = vms_kernel_read(c->k, va, buf, n * esize)))
		goto out;
	for (uint64_t i = 0; i < n && !err; i++) {
		const uint8_t *e = buf + i * esize + off;
		uint64_t at = va + i * esize + off;
		uint64_t site = msize == 4 ? at + (uint64_t)(int64_t)(int32_t)
						      vms_le32(e)
					   : vms_le64(e);
		err = site_add(c, s, site, PATCH_SIZE);
	}
out:
	free(buf);
	return err;
}

/* Sites of a kernel table between two symbols. */
static int symbol_table(struct vms_chk *c, struct sites *s,
			const char *start, const char *stop,
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
	return table_sites(c, s, a, (b - a) / esize, esize, off, msize, start);
}

/* ftrace's records: ftrace_pages_start -> ftrace_page { next, records,
 * index } -> dyn_ftrace[index] { ip, ... }. */
static int ftrace_sites(struct vms_chk *c, struct sites *s)
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
		err = table_sites(c, s, rec, vms_le32(b), rsize, ip, 8,
				  "ftrace records");
		if (!err)
			err = vms_kernel_read_u64(k, page + p_next, &page);
	}
	vms_addrset_fini(&seen);
	return err;
}

static int cmp_site(const void *x, const void *y)
{
	uint64_t a = ((const struct site *)x)->a, b = ((const struct site *)y)->a;

	return a < b ? -1 : a > b;
}

/* Every masked site, sorted by address. */
static int collect_sites(struct vms_chk *c, struct sites *s)
{
	struct vms_kernel *k = c->k;
	int err;

	if ((err = symbol_table(c, s, "__start___jump_table",
				"__stop___jump_table", "jump_entry", "code")) ||
	    (err = symbol_table(c, s, "__start_static_call_sites",
				"__stop_static_call_sites", "static_call_site",
				"addr")) ||
	    (err = ftrace_sites(c, s)))
		return err;
	for (size_t i = 0; i < k->ks.n; i++) {
		const char *name = k->ks.pool + k->ks.name[i];
		size_t len = strlen(name);
		if (!strncmp(name, "__SCT__", 7))
			err = site_add(c, s, k->ks.addr[i], PATCH_SIZE);
		else if (!strncmp(name, "bpf_dispatcher_", 15) && len > 20 &&
			 !strcmp(name + len - 5, "_func"))
			err = site_add(c, s, k->ks.addr[i], DISPATCH_SIZE);
		if (err)
			return err;
	}
	/* Modules' own jump labels and static calls. */
	if ((err = vms_chk_load_modules(c)))
		return err;
	for (size_t i = 0; i < c->nmods && !err; i++) {
		static const char *const tab[][4] = {
			{ "jump_entries", "num_jump_entries", "jump_entry",
			  "code" },
			{ "static_call_sites", "num_static_call_sites",
			  "static_call_site", "addr" },
		};
		for (size_t t = 0; t < 2 && !err; t++) {
			size_t po, no, nsz, esize, off, msize;
			uint64_t ptr;
			uint8_t b[4];
			if (vms_btf_member(k->btf, "module", tab[t][0], &po,
					   &nsz) ||
			    vms_btf_member(k->btf, "module", tab[t][1], &no,
					   &nsz) || nsz != 4 ||
			    vms_btf_struct_size(k->btf, tab[t][2], &esize) ||
			    vms_btf_member(k->btf, tab[t][2], tab[t][3], &off,
					   &msize))
				continue; /* a kernel without the feature */
			if ((err = vms_kernel_read_u64(k, c->mods[i].addr + po,
						       &ptr)) ||
			    (err = vms_kernel_read(k, c->mods[i].addr + no, b,
						   4)))
				break;
			if (ptr)
				err = table_sites(c, s, ptr, vms_le32(b),
						  esize, off, msize,
						  tab[t][0]);
		}
	}
	if (err)
		return err;
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_site);
	return 0;
}

/* Zero the masked bytes of @buf, which holds [va, va + len). */
static void mask(const struct sites *s, uint64_t va, uint8_t *buf,
		 size_t len)
{
	size_t lo = 0, hi = s->n;

	/* First site that may reach into the buffer (no site is longer
	 * than DISPATCH_SIZE). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].a + DISPATCH_SIZE <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->n && s->v[i].a < va + len; i++)
		for (uint64_t b = s->v[i].a; b < s->v[i].a + s->v[i].len; b++)
			if (b >= va && b < va + len)
				buf[b - va] = 0;
}

static void sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = 0;
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct meas {
	struct vms_chk *c;
	vms_measurement_fn fn;
	void *arg;
	struct sites sites;
};

static int put(struct meas *m, const char *kind, const char *object,
	       uint64_t addr, uint64_t size, const char *sha,
	       const char *detail)
{
	struct vms_measurement r = { .sz = sizeof(r), .kind = kind,
				     .object = object, .addr = addr,
				     .size = size, .sha256 = sha ? sha : "",
				     .detail = detail ? detail : "" };
	return m->fn(&r, m->arg);
}

/* Hash [start, end) page by page as @kind, keyed by offset from @base. */
static int pages(struct meas *m, const char *kind, uint64_t base,
		 uint64_t start, uint64_t end, bool masked)
{
	struct vms_kernel *k = m->c->k;
	uint8_t buf[4096];
	char object[32], sha[65], detail[160];
	int err = 0;

	if (end <= start || end - start > MAX_IMAGE)
		return vms_err_at(k->ctx, -EINVAL, LAYER, start,
				  "%s %#llx-%#llx is not a section vmsight "
				  "can measure", kind,
				  (unsigned long long)start,
				  (unsigned long long)end);
	for (uint64_t va = start; va < end && err >= 0;) {
		size_t n = (size_t)VMS_MIN(end - va, 4096 - (va & 0xfff));
		snprintf(object, sizeof(object), "+%#llx",
			 (unsigned long long)(va - base));
		vms_chk_sym_off(m->c, va, detail, sizeof(detail));
		if (vms_kernel_read(k, va, buf, n)) {
			vms_err_clear(k->ctx);
			err = put(m, kind, object, va, n, "unreadable", detail);
		} else {
			if (masked)
				mask(&m->sites, va, buf, n);
			sha256_hex(buf, n, sha);
			err = put(m, kind, object, va, n, sha, detail);
		}
		va += n;
	}
	return err;
}

/* A symbol's extent, up to the next symbol (at most @max bytes). */
static int table(struct meas *m, const char *kind, const char *sym,
		 size_t max)
{
	struct vms_kernel *k = m->c->k;
	uint64_t a, next;
	char sha[65];
	uint8_t *buf;
	size_t n;
	int err;

	if (vms_kernel_sym(k, sym, &a)) {
		vms_err_clear(k->ctx);
		return 0;
	}
	next = vms_chk_sym_next(m->c, a);
	n = next > a ? (size_t)VMS_MIN(next - a, max) : max;
	if (!(buf = malloc(n)))
		return -ENOMEM;
	if ((err = vms_kernel_read(k, a, buf, n))) {
		free(buf);
		return err;
	}
	sha256_hex(buf, n, sha);
	free(buf);
	return put(m, kind, sym, a, n, sha, "");
}

/* A module's code and read-only data: module.mem[] (v6.4+) of types
 * MOD_TEXT, MOD_RODATA and MOD_RO_AFTER_INIT, or core_layout up to
 * ro_after_init_size (older kernels). */
static int module(struct meas *m, const struct vms_chk_mod *md)
{
	struct vms_kernel *k = m->c->k;
	const struct vms_layout *l = &k->l;
	struct vms_range r[3];
	size_t nr = 0, total = 0, o = 0;
	char sha[65], detail[160];
	uint8_t *buf = NULL;
	int err = 0;

	if (l->mod_mem != VMS_NO_MEMBER) {
		static const char *const types[] = { "MOD_TEXT", "MOD_RODATA",
						     "MOD_RO_AFTER_INIT" };
		for (size_t i = 0; i < 3; i++) {
			int64_t t;
			if (vms_btf_enum_value(k->btf, types[i], &t) || t < 0 ||
			    (size_t)t >= l->mod_mem_n)
				continue;
			if ((err = vms_mod_mem(k, md->addr, (size_t)t, &r[nr])))
				return err;
			if (r[nr].len)
				nr++;
		}
	} else {
		size_t off, sz;
		uint64_t base;
		uint8_t b[4];
		if (vms_btf_member(k->btf, "module",
				   "core_layout.ro_after_init_size", &off,
				   &sz) || sz != 4)
			return vms_err(k->ctx, -ENOENT, LAYER,
				       "no module.core_layout.ro_after_init_"
				       "size in the kernel's BTF");
		if ((err = vms_kernel_read_u64(k, md->addr + l->mod_core_base,
					       &base)) ||
		    (err = vms_kernel_read(k, md->addr + off, b, 4)))
			return err;
		if (base && vms_le32(b))
			r[nr++] = (struct vms_range){ base, vms_le32(b) };
	}
	for (size_t i = 0; i < nr; i++) {
		if (r[i].len > MAX_IMAGE - total)
			return vms_err_at(k->ctx, -EINVAL, LAYER, md->addr,
					  "module %s claims more than 1 GiB of "
					  "code", md->name);
		total += r[i].len;
	}
	if (total && !(buf = malloc(total)))
		return -ENOMEM;
	for (size_t i = 0; i < nr && !err; i++) {
		if (vms_kernel_read(k, r[i].start, buf + o, r[i].len)) {
			vms_err_clear(k->ctx);
			memset(buf + o, 0, r[i].len);
		} else {
			mask(&m->sites, r[i].start, buf + o, r[i].len);
		}
		o += r[i].len;
	}
	sha256_hex(buf, total, sha);
	free(buf);
	snprintf(detail, sizeof(detail), "%s",
		 md->listed ? "on the module list"
			    : "hidden from the module list (in /sys/module)");
	return put(m, "module", md->name, nr ? r[0].start : 0, total, sha,
		   detail);
}

static int processes(struct meas *m)
{
	struct vms_task_walk w;
	struct vms_task t;
	int r, err = 0;

	if ((err = vms_task_walk_init(&w, m->c->k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		char object[96], detail[64];
		if (t.kthread)
			continue; /* workers come and go on their own */
		snprintf(object, sizeof(object), "pid %d (%s)", t.pid, t.comm);
		snprintf(detail, sizeof(detail), "uid %u", t.uid);
		if ((err = put(m, "process", object, t.addr, 0, NULL,
			       detail)) < 0)
			break;
	}
	vms_task_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}

static int listeners(struct meas *m)
{
	struct vms_sock_walk w;
	struct vms_sk s;
	int r, err = 0;

	if ((err = vms_sock_walk_init(&w, m->c->k)))
		return err;
	while ((r = vms_sock_walk_next(&w, &s)) == 1) {
		char object[224];
		if (!vms_sock_is_listener(&s))
			continue;
		snprintf(object, sizeof(object), "%s %s netns %u", s.proto,
			 s.local, s.netns);
		if ((err = put(m, "listener", object, s.sock, 0, NULL,
			       NULL)) < 0)
			break;
	}
	vms_sock_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}

int vms_chk_measure(struct vms_chk *c, vms_measurement_fn fn, void *arg)
{
	struct vms_kernel *k = c->k;
	struct meas m = { .c = c, .fn = fn, .arg = arg };
	uint64_t text, etext, ro, ero;
	char addr[32];
	int err;

	if ((err = vms_kernel_sym(k, "_text", &text)) ||
	    (err = vms_kernel_sym(k, "_etext", &etext)) ||
	    (err = vms_kernel_sym(k, "__start_rodata", &ro)) ||
	    (err = vms_kernel_sym(k, "__end_rodata", &ero)))
		return err;
	if ((err = collect_sites(c, &m.sites)))
		goto out;
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)text);
	if ((err = put(&m, "kernel", "_text", text, 0, NULL, addr)) < 0 ||
	    (err = put(&m, "kernel", "banner", 0, 0, NULL, k->banner)) < 0 ||
	    (err = pages(&m, "text", text, text, etext, true)) < 0 ||
	    (err = pages(&m, "rodata", text, ro, ero, false)) < 0 ||
	    (err = table(&m, "syscall_table", "sys_call_table", 64 << 10)) <
		    0 ||
	    (err = table(&m, "idt", "idt_table", 4096)) < 0)
		goto out;
	for (size_t i = 0; i < c->nmods && err >= 0; i++)
		err = module(&m, &c->mods[i]);
	if (err >= 0)
		err = processes(&m);
	if (err >= 0)
		err = listeners(&m);
out:
	free(m.sites.v);
	return err < 0 ? err : 0;
}
