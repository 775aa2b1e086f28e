/* SPDX-License-Identifier: MIT */
/*
 * The kernel's BTF (Documentation/bpf/btf.rst), read from guest memory
 * and parsed by libbpf, and the layout table resolved from it.
 *
 * The blob lies between the symbols __start_BTF and __stop_BTF. If
 * kallsyms lacks them, the kernel image is scanned for the BTF header:
 *
 *   0 u16 magic 0xeB9F   2 u8 version 1   3 u8 flags
 *   4 u32 hdr_len (24)   8 u32 type_off  12 u32 type_len
 *  16 u32 str_off       20 u32 str_len
 *
 * libbpf validates the blob (btf__new checks the header, every type and
 * every string reference against the sizes), so a lying header is caught
 * there; sizes are bounded here before anything is allocated.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define BTF_MAX (256u << 20)
#define ANON_DEPTH 16
/* Members one lookup may look at, anonymous ones' included: a real
 * task_struct has a few hundred; BTF whose anonymous members nest the
 * same type over and over would otherwise take time exponential in
 * ANON_DEPTH. */
#define MEMBER_BUDGET (1u << 16)

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* libbpf prints parse errors to stderr by default; a library must not.
 * The print hook is process-wide, so it is swapped only around the
 * parse. */
struct btf *vms_btf_parse(const void *data, uint32_t size)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet_print);
	struct btf *btf = btf__new(data, size);
	int saved = errno;

	libbpf_set_print(old);
	errno = saved;
	return btf;
}

static int load_range(struct vms_kernel *k, uint64_t va, uint64_t size)
{
	const uint8_t *direct;
	uint8_t *buf;
	int err;

	if (size < 24 || size > BTF_MAX)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, va,
				  "BTF at %#llx has implausible size %llu",
				  (unsigned long long)va,
				  (unsigned long long)size);
	/* libbpf copies the blob, so the cap holds for its copy as it
	 * would for vmsight's own. */
	if ((err = vms_cap(k->ctx, size, 1, "BTF", va)))
		return err;
	/* Where the dump maps the blob verbatim (uncompressed formats, a
	 * live guest's RAM file) libbpf copies it straight from there:
	 * one copy of some megabytes, not two, and half the page faults.
	 * btf__new() copies before it checks anything, so a live guest
	 * changing the blob meanwhile cannot race the checks. */
	direct = vms_mmu_ptr(&k->mmu, k->pgd, va, size);
	if (direct) {
		buf = NULL;
		err = 0;
	} else {
		if ((err = vms_alloc(k->ctx, &buf, size, 1, "BTF", va)))
			return err;
		err = vms_kernel_read(k, va, buf, size);
	}
	if (!err) {
		k->btf = vms_btf_parse(direct ? direct : buf, (uint32_t)size);
		if (!k->btf)
			err = vms_err_at(k->ctx, -EBADMSG, LAYER, va,
					 "BTF at %#llx (%llu bytes) is "
					 "invalid: %s",
					 (unsigned long long)va,
					 (unsigned long long)size,
					 strerror(errno));
	}
	free(buf);
	if (!err) {
		k->btf_va = va;
		k->btf_size = (uint32_t)size;
	}
	return err;
}

#define MAX_CANDIDATES 16

struct cand {
	uint64_t va, size;
};

static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return a->size < b->size ? 1 : a->size > b->size ? -1 : 0;
}

/*
 * Fallback: BTF headers in the image's pages, largest first. The image
 * can hold other, smaller BTF blobs, so a candidate is kept only if it
 * parses and describes struct task_struct.
 */
static int scan_image(struct vms_kernel *k)
{
	struct cand c[MAX_CANDIDATES];
	size_t n = 0;
	uint64_t end;
	/* A page, and the start of the next: a header may cross into it. */
	uint8_t page[VMS_PAGE_SIZE + 24];
	int err;

	if (vms_kernel_sym(k, "_end", &end))
		return -ENOENT;
	/* Page by page, each read once (not a translation per 4 bytes:
	 * the image can claim a gigabyte); @va >= @start stops a wrap. */
	uint64_t start = k->text_va & ~0xfffull;
	for (uint64_t va = start; va < end && va >= start;
	     va += VMS_PAGE_SIZE) {
		size_t got = sizeof(page);
		if ((err = vms_tick(k->ctx)))
			return err;
		if (vms_kernel_read(k, va, page, got)) {
			got = VMS_PAGE_SIZE; /* the next page is not mapped */
			if (vms_kernel_read(k, va, page, got)) {
				vms_err_clear(k->ctx);
				continue;
			}
		}
		for (size_t o = 0; o < VMS_PAGE_SIZE && o + 24 <= got; o += 4) {
			const uint8_t *p = page + o;
			if (vms_le16(p) != 0xeB9F || p[2] != 1 ||
			    vms_le32(p + 4) != 24)
				continue;
			uint64_t tl = vms_le32(p + 12), so = vms_le32(p + 16),
				 sl = vms_le32(p + 20);
			if (vms_le32(p + 8) == 0 && so == tl &&
			    n < MAX_CANDIDATES)
				c[n++] = (struct cand){ va + o, 24 + so + sl };
		}
	}
	vms_err_clear(k->ctx);
	vms_qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!load_range(k, c[i].va, c[i].size) &&
		    btf__find_by_name_kind(k->btf, "task_struct",
					   BTF_KIND_STRUCT) > 0)
			return 0;
		btf__free(k->btf);
		k->btf = NULL;
		k->btf_va = 0;
		k->btf_size = 0;
		vms_err_clear(k->ctx);
	}
	return -ENOENT;
}

int vms_btf_load(struct vms_kernel *k)
{
	uint64_t start, stop;
	char why[300] = "";
	int err;

	if (!vms_kernel_sym(k, "__start_BTF", &start) &&
	    !vms_kernel_sym(k, "__stop_BTF", &stop) && stop > start) {
		err = load_range(k, start, stop - start);
		if (err != -EFAULT && err != -EBADMSG)
			return err;
		/* Keep the reason for the final message; try a scan. */
		snprintf(why, sizeof(why), " (%.280s)", k->ctx->err.msg);
		vms_log(k->ctx, VMS_LOG_DEBUG, "%s; scanning the image",
			k->ctx->err.msg);
	}
	vms_err_clear(k->ctx);
	err = scan_image(k);
	if (err == -ENOENT)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "kernel %s has no BTF in memory%s (built without "
			       "CONFIG_DEBUG_INFO_BTF?); vmsight needs type "
			       "information, and a later fallback will accept "
			       "a vmlinux with BTF or DWARF",
			       k->release, why);
	return err;
}

void vms_btf_free(struct btf *btf)
{
	btf__free(btf);
}

/* A name in the BTF's strings, or "" where the offset is outside them:
 * libbpf checks the offsets of type names when it parses a blob, but
 * not those of enumerators or parameters, and gives NULL for those. */
static const char *name_at(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);

	return s ? s : "";
}

static int32_t find_struct(struct btf *btf, const char *name)
{
	int32_t id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	return id > 0 ? id : btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
}

int vms_btf_struct_size(struct btf *btf, const char *type, size_t *ret)
{
	int32_t id = find_struct(btf, type);
	if (id <= 0)
		return -ENOENT;
	*ret = btf__type_by_id(btf, (uint32_t)id)->size;
	return 0;
}

/* Member @member of struct @id, looking into anonymous members: its byte
 * offset, size and type. With @bitfield set, also bitfields and members
 * that do not start on a byte: *@bitfield is then its width in bits (its
 * type's size for ordinary members) and *@off its offset in bits. At
 * most *@budget members are looked at (-ENOENT past them). */
static int member_in(struct btf *btf, uint32_t id, const char *member,
		     size_t base_bits, int depth, uint32_t *budget,
		     size_t *off, size_t *size, uint32_t *type,
		     size_t *bitfield)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;

	if (!t || depth > ANON_DEPTH || (!btf_is_struct(t) && !btf_is_union(t)))
		return -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		if (!*budget)
			return -ENOENT;
		--*budget;
		const char *name = btf__name_by_offset(btf, m->name_off);
		size_t bits = base_bits + btf_member_bit_offset(t, i);
		size_t width = btf_member_bitfield_size(t, i);

		if (name && *name) {
			if (strcmp(name, member))
				continue;
			if (!bitfield && (width || bits % 8))
				return -ENOTSUP;
			long sz = btf__resolve_size(btf, m->type);
			if (sz < 0)
				return -EBADMSG;
			*off = bitfield ? bits : bits / 8;
			*size = (size_t)sz;
			*type = m->type;
			if (bitfield)
				*bitfield = width ? width : (size_t)sz * 8;
			return 0;
		}
		/* Anonymous struct or union: look inside. */
		int32_t inner = btf__resolve_type(btf, m->type);
		if (inner > 0 && !member_in(btf, (uint32_t)inner, member, bits,
					    depth + 1, budget, off, size, type,
					    bitfield))
			return 0;
	}
	return -ENOENT;
}

/* Resolve "a.b.c" (members of members) from struct @id. */
static int member_path(struct btf *btf, uint32_t id, const char *path,
		       size_t *ret_off, size_t *ret_size, uint32_t *ret_type)
{
	char part[64];
	size_t total = 0, size = 0;
	uint32_t type = id;

	while (*path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		size_t off;
		int32_t inner;
		uint32_t budget;
		int err;

		if (n >= sizeof(part))
			return -ENOENT;
		memcpy(part, path, n);
		part[n] = 0;
		inner = btf__resolve_type(btf, type);
		if (inner <= 0)
			return -ENOENT;
		budget = MEMBER_BUDGET;
		err = member_in(btf, (uint32_t)inner, part, 0, 0, &budget, &off,
				&size, &type, NULL);
		if (err)
			return err;
		total += off;
		path += n + (dot ? 1 : 0);
	}
	*ret_off = total;
	if (ret_size)
		*ret_size = size;
	if (ret_type)
		*ret_type = type;
	return 0;
}

int vms_btf_member(struct btf *btf, const char *type, const char *member,
		   size_t *ret_off, size_t *ret_size)
{
	int32_t id = find_struct(btf, type);

	if (id <= 0)
		return -ENOENT;
	return member_path(btf, (uint32_t)id, member, ret_off, ret_size, NULL);
}

int vms_btf_func_param(struct btf *btf, const char *func,
		       const char *pointee, unsigned int *ret)
{
	int32_t id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	const struct btf_type *fn, *proto;

	if (id <= 0 || !(fn = btf__type_by_id(btf, (uint32_t)id)) ||
	    !(proto = btf__type_by_id(btf, fn->type)) ||
	    !btf_is_func_proto(proto))
		return -ENOENT;
	const struct btf_param *p = btf_params(proto);
	for (unsigned int i = 0; i < btf_vlen(proto); i++) {
		/* Through typedefs and qualifiers to a pointer, then to a
		 * struct of that name. */
		int32_t t = btf__resolve_type(btf, p[i].type);
		const struct btf_type *pt = t > 0 ? btf__type_by_id(btf, t) : NULL;
		if (!pt || !btf_is_ptr(pt))
			continue;
		t = btf__resolve_type(btf, pt->type);
		pt = t > 0 ? btf__type_by_id(btf, t) : NULL;
		if (pt && btf_is_struct(pt) &&
		    !strcmp(name_at(btf, pt->name_off), pointee)) {
			*ret = i;
			return 0;
		}
	}
	return -ENOENT;
}

int vms_btf_bitfield(struct btf *btf, const char *type, const char *member,
		     size_t *ret_bit_off, size_t *ret_bits)
{
	int32_t id = find_struct(btf, type);
	size_t size;
	uint32_t mtype, budget = MEMBER_BUDGET;
	int err;

	if (id <= 0)
		return -ENOENT;
	err = member_in(btf, (uint32_t)id, member, 0, 0, &budget, ret_bit_off,
			&size, &mtype, ret_bits);
	if (err)
		return err;
	/* Readers fetch the containing 64-bit word. */
	if (!*ret_bits || *ret_bits > 64 - *ret_bit_off % 8)
		return -ENOTSUP;
	return 0;
}

int vms_btf_member_array(struct btf *btf, const char *type,
			 const char *member, size_t *ret_off,
			 size_t *ret_nelems, size_t *ret_elem_size)
{
	int32_t id = find_struct(btf, type), at;
	const struct btf_type *t;
	uint32_t mtype;
	size_t off;
	long esz;
	int err;

	if (id <= 0)
		return -ENOENT;
	err = member_path(btf, (uint32_t)id, member, &off, NULL, &mtype);
	if (err)
		return err;
	at = btf__resolve_type(btf, mtype);
	t = at > 0 ? btf__type_by_id(btf, (uint32_t)at) : NULL;
	if (!t || !btf_is_array(t))
		return -ENOENT;
	esz = btf__resolve_size(btf, btf_array(t)->type);
	if (esz <= 0)
		return -EBADMSG;
	*ret_off = off;
	*ret_nelems = btf_array(t)->nelems;
	*ret_elem_size = (size_t)esz;
	return 0;
}

/* Enumerator @name of the enum that also has enumerator @sibling (for
 * anonymous enums whose enumerator names alone are ambiguous). */
int vms_btf_enum_value_near(struct btf *btf, const char *sibling,
			    const char *name, int64_t *ret)
{
	uint32_t n = btf__type_cnt(btf);

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;
		bool has_sibling = false, has_name = false;
		int64_t v = 0;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
			const char *en = name_at(btf, e->name_off);
			if (!strcmp(en, sibling))
				has_sibling = true;
			if (!strcmp(en, name)) {
				has_name = true;
				v = e->val;
			}
		}
		if (has_sibling && has_name) {
			*ret = v;
			return 0;
		}
	}
	return -ENOENT;
}

int vms_btf_enum_value(struct btf *btf, const char *name, int64_t *ret)
{
	uint32_t n = btf__type_cnt(btf);

	/* Enumerators have no index of their own: look through the enums. */
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				if (!strcmp(name_at(btf, e->name_off), name)) {
					*ret = e->val;
					return 0;
				}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				if (!strcmp(name_at(btf, e->name_off), name)) {
					*ret = (int64_t)btf_enum64_value(e);
					return 0;
				}
		}
	}
	return -ENOENT;
}

const char *vms_btf_enum_name(struct btf *btf, const char *type, int64_t val)
{
	int32_t id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id <= 0)
		return NULL;
	t = btf__type_by_id(btf, (uint32_t)id);
	e = btf_enum(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
		if (e->val == val)
			return btf__name_by_offset(btf, e->name_off);
	return NULL;
}

/*
 * Every member the walkers read, one table per feature. Alternatives are
 * tried in order, each cited with the release that renamed it. Optional
 * members get VMS_NO_MEMBER when absent.
 */
struct need {
	const char *type;
	const char *members[3];	/* alternatives, NULL-terminated */
	size_t *off;
	size_t *size;		/* may be NULL */
	size_t want_size;	/* 0: any; else required size */
	bool optional;
};

static int resolve(struct vms_ctx *ctx, struct btf *btf, struct need *needs,
		   size_t n, const char *what)
{
	char missing[400] = "";
	size_t mlen = 0;
	int nmissing = 0;

	for (size_t i = 0; i < n; i++) {
		struct need *nd = &needs[i];
		size_t size = 0;
		int err = -ENOENT;

		for (int a = 0; a < 3 && nd->members[a] && err; a++)
			err = vms_btf_member(btf, nd->type, nd->members[a],
					     nd->off, &size);
		if (!err && nd->want_size && size != nd->want_size)
			err = -EBADMSG;
		if (!err && nd->size)
			*nd->size = size;
		if (err == -ENOENT && nd->optional) {
			*nd->off = VMS_NO_MEMBER;
			continue;
		}
		if (!err)
			continue;
		nmissing++;
		/* Names past the buffer are left out: the count still says
		 * how many. */
		if (mlen < sizeof(missing))
			mlen += (size_t)snprintf(
				missing + mlen, sizeof(missing) - mlen,
				"%s%s.%s%s", nmissing > 1 ? ", " : "",
				nd->type, nd->members[0],
				err == -ENOENT ? "" : " (unexpected size)");
	}
	if (nmissing)
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks %d member%s that %s "
			       "needs: %s",
			       nmissing, nmissing > 1 ? "s" : "", what, missing);
	return 0;
}

int vms_layout_resolve(struct vms_ctx *ctx, struct btf *btf,
		       struct vms_layout *l)
{
	size_t comm_size = 0;
	struct need needs[] = {
		{ "list_head", { "next" }, &l->list_next, NULL, 8 },
		{ "list_head", { "prev" }, &l->list_prev, NULL, 8 },
		{ "task_struct", { "tasks" }, &l->task_tasks, NULL, 16 },
		{ "task_struct", { "pid" }, &l->task_pid, NULL, 4 },
		{ "task_struct", { "tgid" }, &l->task_tgid, NULL, 4 },
		{ "task_struct", { "comm" }, &l->task_comm, &comm_size, 0 },
		{ "task_struct", { "real_parent" }, &l->task_real_parent,
		  NULL, 8 },
		{ "task_struct", { "real_cred" }, &l->task_real_cred, NULL,
		  8 },
		/* v5.14 (2f064a59a11f) renamed long state to unsigned
		 * int __state. */
		{ "task_struct", { "__state", "state" }, &l->task_state,
		  &l->task_state_size, 0 },
		{ "task_struct", { "exit_state" }, &l->task_exit_state, NULL,
		  4 },
		{ "task_struct", { "signal" }, &l->task_signal, NULL, 8 },
		{ "task_struct", { "mm" }, &l->task_mm, NULL, 8 },
		{ "task_struct", { "flags" }, &l->task_flags, NULL, 4 },
		{ "task_struct", { "thread_node" }, &l->task_thread_node,
		  NULL, 16 },
		/* v5.17 (e32cf5dfbe22) moved the kthread pointer here. */
		{ "task_struct", { "worker_private" },
		  &l->task_worker_private, NULL, 8, true },
		{ "cred", { "uid" }, &l->cred_uid, NULL, 4 },
		{ "cred", { "gid" }, &l->cred_gid, NULL, 4 },
		{ "cred", { "euid" }, &l->cred_euid, NULL, 4 },
		{ "cred", { "egid" }, &l->cred_egid, NULL, 4 },
		{ "cred", { "suid" }, &l->cred_suid, NULL, 4 },
		{ "cred", { "sgid" }, &l->cred_sgid, NULL, 4 },
		{ "cred", { "fsuid" }, &l->cred_fsuid, NULL, 4 },
		{ "cred", { "fsgid" }, &l->cred_fsgid, NULL, 4 },
		/* kernel_cap_t: u32 cap[2] before v6.3, u64 val since
		 * (f122a08b197d); 8 little-endian bytes either way. */
		{ "cred", { "cap_inheritable" }, &l->cred_cap[0], NULL, 8 },
		{ "cred", { "cap_permitted" }, &l->cred_cap[1], NULL, 8 },
		{ "cred", { "cap_effective" }, &l->cred_cap[2], NULL, 8 },
		{ "cred", { "cap_bset" }, &l->cred_cap[3], NULL, 8 },
		{ "cred", { "cap_ambient" }, &l->cred_cap[4], NULL, 8, true },
		{ "signal_struct", { "nr_threads" }, &l->signal_nr_threads,
		  NULL, 4 },
		{ "signal_struct", { "thread_head" }, &l->signal_thread_head,
		  NULL, 16 },
		{ "mm_struct", { "pgd" }, &l->mm_pgd, NULL, 8 },
		{ "mm_struct", { "arg_start" }, &l->mm_arg_start, NULL, 8 },
		{ "mm_struct", { "arg_end" }, &l->mm_arg_end, NULL, 8 },
		{ "mm_struct", { "env_start" }, &l->mm_env_start, NULL, 8 },
		{ "mm_struct", { "env_end" }, &l->mm_env_end, NULL, 8 },
		/* v6.1 (d6986ce24fc0): a kthread's name beyond 15 chars. */
		{ "kthread", { "full_name" }, &l->kthread_full_name, NULL, 8,
		  true },
	};
	int err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs), "vmsight");

	if (err)
		return err;
	if (l->task_state_size != 4 && l->task_state_size != 8)
		return vms_err(ctx, -EBADMSG, LAYER,
			       "task_struct.__state has size %zu",
			       l->task_state_size);
	if (vms_btf_struct_size(btf, "task_struct", &l->task_size))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks struct task_struct");
	l->task_comm_len = comm_size;
	/* The part of task_struct the walker reads in one go. */
	size_t offs[][2] = {
		{ l->task_tasks, 16 }, { l->task_pid, 4 }, { l->task_tgid, 4 },
		{ l->task_comm, comm_size }, { l->task_real_parent, 8 },
		{ l->task_real_cred, 8 }, { l->task_state, l->task_state_size },
		{ l->task_exit_state, 4 }, { l->task_signal, 8 },
		{ l->task_mm, 8 }, { l->task_flags, 4 },
		{ l->task_thread_node, 16 }, { l->task_worker_private, 8 },
	};
	l->task_span_lo = SIZE_MAX;
	l->task_span_hi = 0;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(offs); i++) {
		if (offs[i][0] == VMS_NO_MEMBER)
			continue;
		l->task_span_lo = VMS_MIN(l->task_span_lo, offs[i][0]);
		l->task_span_hi = VMS_MAX(l->task_span_hi,
					  offs[i][0] + offs[i][1]);
	}
	if (l->task_span_hi > l->task_size || comm_size < 2 || comm_size > 64)
		return vms_err(ctx, -EBADMSG, LAYER,
			       "the kernel's BTF gives an inconsistent "
			       "task_struct (size %zu, comm %zu bytes)",
			       l->task_size, comm_size);
	return 0;
}

int vms_layout_resolve_modules(struct vms_ctx *ctx, struct btf *btf,
			       struct vms_layout *l)
{
	struct need needs[] = {
		{ "module", { "list" }, &l->mod_list, NULL, 16 },
		{ "module", { "name" }, &l->mod_name, &l->mod_name_len, 0 },
		{ "module", { "state" }, &l->mod_state, NULL, 4 },
		{ "module", { "refcnt" }, &l->mod_refcnt, NULL, 4 },
		{ "module", { "taints" }, &l->mod_taints, NULL, 8 },
		{ "module", { "source_list" }, &l->mod_source_list, NULL, 16 },
		{ "module", { "init" }, &l->mod_init, NULL, 8, true },
		{ "module", { "exit" }, &l->mod_exit, NULL, 8, true },
		/* v6.4 (ac3b43283923) replaced core_layout/init_layout by
		 * mem[MOD_MEM_NUM_TYPES]. */
		{ "module", { "core_layout.base" }, &l->mod_core_base, NULL, 8,
		  true },
		{ "module", { "core_layout.size" }, &l->mod_core_size, NULL, 4,
		  true },
		{ "module", { "init_layout.size" }, &l->mod_init_size, NULL, 4,
		  true },
		{ "module_use", { "source_list" }, &l->use_source_list, NULL,
		  16 },
		{ "module_use", { "source" }, &l->use_source, NULL, 8 },
		{ "taint_flag", { "c_true" }, &l->taint_c_true, NULL, 1 },
		{ "taint_flag", { "module" }, &l->taint_module, NULL, 1 },
	};
	int err;

	if (l->have_modules)
		return 0;
	err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs), "lsmod");
	if (err)
		return err;
	l->mod_mem = VMS_NO_MEMBER;
	if (!vms_btf_member_array(btf, "module", "mem", &l->mod_mem,
				  &l->mod_mem_n, &l->mod_mem_elem)) {
		static const char *const types[] = { "MOD_TEXT", "MOD_RODATA",
						     "MOD_RO_AFTER_INIT" };
		for (size_t i = 0; i < 3; i++)
			if (vms_btf_enum_value(btf, types[i],
					       &l->mod_mem_type[i]))
				l->mod_mem_type[i] = -1;
		if (vms_btf_member(btf, "module_memory", "base",
				   &l->modmem_base, NULL) ||
		    vms_btf_member(btf, "module_memory", "size",
				   &l->modmem_size, NULL))
			return vms_err(ctx, -ENOENT, LAYER,
				       "the kernel's BTF has module.mem but "
				       "no module_memory.base/size");
	} else if (l->mod_core_base == VMS_NO_MEMBER ||
		   l->mod_core_size == VMS_NO_MEMBER) {
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF has neither module.mem nor "
			       "module.core_layout: cannot size modules");
	}
	if (vms_btf_struct_size(btf, "taint_flag", &l->taint_size) ||
	    vms_btf_enum_value(btf, "MODULE_STATE_LIVE", &l->mod_state_live) ||
	    vms_btf_enum_value(btf, "MODULE_STATE_COMING",
			       &l->mod_state_coming) ||
	    vms_btf_enum_value(btf, "MODULE_STATE_GOING", &l->mod_state_going))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks struct taint_flag or "
			       "enum module_state");
	l->have_modules = true;
	return 0;
}

int vms_layout_resolve_printk(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l)
{
	struct need needs[] = {
		{ "printk_ringbuffer", { "desc_ring" }, &l->prb_desc_ring },
		{ "printk_ringbuffer", { "text_data_ring" },
		  &l->prb_text_ring },
		{ "prb_desc_ring", { "count_bits" }, &l->dr_count_bits, NULL,
		  4 },
		{ "prb_desc_ring", { "descs" }, &l->dr_descs, NULL, 8 },
		{ "prb_desc_ring", { "infos" }, &l->dr_infos, NULL, 8 },
		{ "prb_desc_ring", { "head_id" }, &l->dr_head_id, NULL, 8 },
		{ "prb_desc_ring", { "tail_id" }, &l->dr_tail_id, NULL, 8 },
		{ "prb_data_ring", { "size_bits" }, &l->tr_size_bits, NULL,
		  4 },
		{ "prb_data_ring", { "data" }, &l->tr_data, NULL, 8 },
		{ "prb_desc", { "state_var" }, &l->desc_state_var, NULL, 8 },
		{ "prb_desc", { "text_blk_lpos.begin" }, &l->desc_begin, NULL,
		  8 },
		{ "prb_desc", { "text_blk_lpos.next" }, &l->desc_next, NULL,
		  8 },
		{ "printk_info", { "seq" }, &l->info_seq, NULL, 8 },
		{ "printk_info", { "ts_nsec" }, &l->info_ts_nsec, NULL, 8 },
		{ "printk_info", { "text_len" }, &l->info_text_len, NULL, 2 },
	};
	int err;

	if (l->have_printk)
		return 0;
	/* The lockless ring buffer is v5.10+ (896fbe20b4e2). */
	err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
		      "dmesg (the v5.10+ printk ring buffer)");
	if (err)
		return err;
	if (vms_btf_struct_size(btf, "prb_desc", &l->desc_size) ||
	    vms_btf_struct_size(btf, "printk_info", &l->info_size))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks prb_desc or printk_info");
	/* Level and facility are part of printk_info since the ring
	 * buffer's introduction (v5.10); read them only if the BTF agrees
	 * on a sane shape, else records carry no level. */
	if (vms_btf_bitfield(btf, "printk_info", "facility",
			     &l->info_fac_bit, &l->info_fac_bits) ||
	    l->info_fac_bits > 8 ||
	    (l->info_fac_bit + l->info_fac_bits + 7) / 8 > l->info_size)
		l->info_fac_bits = 0;
	if (vms_btf_bitfield(btf, "printk_info", "level", &l->info_lvl_bit,
			     &l->info_lvl_bits) ||
	    l->info_lvl_bits > 8 ||
	    (l->info_lvl_bit + l->info_lvl_bits + 7) / 8 > l->info_size)
		l->info_lvl_bits = 0;
	l->have_printk = true;
	return 0;
}

int vms_layout_resolve_fs(struct vms_ctx *ctx, struct btf *btf,
			  struct vms_layout *l)
{
	struct need needs[] = {
		{ "task_struct", { "nsproxy" }, &l->task_nsproxy, NULL, 8 },
		{ "nsproxy", { "mnt_ns" }, &l->nsproxy_mnt_ns, NULL, 8 },
		{ "mnt_namespace", { "root" }, &l->ns_root, NULL, 8 },
		/* v6.8 (2eea9ce4310d) turned the namespace's mount list into
		 * an rbtree: mnt_namespace.mounts, mount.mnt_node. */
		{ "mnt_namespace", { "list" }, &l->ns_list, NULL, 16, true },
		{ "mnt_namespace", { "mounts" }, &l->ns_mounts, NULL, 0,
		  true },
		{ "mount", { "mnt_list" }, &l->mnt_list, NULL, 16 },
		{ "mount", { "mnt_node" }, &l->mnt_node, NULL, 0, true },
		{ "mount", { "mnt_parent" }, &l->mnt_parent, NULL, 8 },
		{ "mount", { "mnt_mountpoint" }, &l->mnt_mountpoint, NULL, 8 },
		{ "mount", { "mnt" }, &l->mnt_vfs },
		{ "mount", { "mnt_devname" }, &l->mnt_devname, NULL, 8 },
		{ "mount", { "mnt_id" }, &l->mnt_id, NULL, 4 },
		{ "vfsmount", { "mnt_root" }, &l->vfs_root, NULL, 8 },
		{ "vfsmount", { "mnt_sb" }, &l->vfs_sb, NULL, 8 },
		{ "vfsmount", { "mnt_flags" }, &l->vfs_flags, NULL, 4 },
		{ "super_block", { "s_type" }, &l->sb_type, NULL, 8 },
		{ "super_block", { "s_flags" }, &l->sb_flags, NULL, 8 },
		{ "super_block", { "s_dev" }, &l->sb_dev, NULL, 4 },
		{ "file_system_type", { "name" }, &l->fstype_name, NULL, 8 },
		{ "dentry", { "d_parent" }, &l->d_parent, NULL, 8 },
		{ "dentry", { "d_name.name" }, &l->d_name, NULL, 8 },
		{ "dentry", { "d_name.len" }, &l->d_len, NULL, 4 },
		/* d_unhashed(): d_hash.pprev is NULL once the dentry is
		 * dropped from the hash, as unlink does. */
		{ "dentry", { "d_hash.pprev" }, &l->d_hash_pprev, NULL, 8 },
		{ "rb_node", { "rb_left" }, &l->rb_left, NULL, 8 },
		{ "rb_node", { "rb_right" }, &l->rb_right, NULL, 8 },
	};
	int err;

	if (l->have_fs)
		return 0;
	err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs), "mounts");
	if (err)
		return err;
	if (l->ns_list == VMS_NO_MEMBER &&
	    (l->ns_mounts == VMS_NO_MEMBER || l->mnt_node == VMS_NO_MEMBER))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF has neither mnt_namespace.list "
			       "nor the mounts rbtree");
	l->have_fs = true;
	return 0;
}

int vms_layout_resolve_files(struct vms_ctx *ctx, struct btf *btf,
			     struct vms_layout *l)
{
	struct need needs[] = {
		{ "task_struct", { "files" }, &l->task_files, NULL, 8 },
		{ "files_struct", { "fdt" }, &l->files_fdt, NULL, 8 },
		{ "fdtable", { "max_fds" }, &l->fdt_max_fds, NULL, 4 },
		{ "fdtable", { "fd" }, &l->fdt_fd, NULL, 8 },
		{ "file", { "f_path.mnt" }, &l->file_mnt, NULL, 8 },
		{ "file", { "f_path.dentry" }, &l->file_dentry, NULL, 8 },
		{ "file", { "f_inode" }, &l->file_inode, NULL, 8 },
		{ "file", { "f_mode" }, &l->file_mode, NULL, 4 },
		{ "inode", { "i_ino" }, &l->inode_ino, NULL, 8 },
		{ "inode", { "i_mode" }, &l->inode_mode, NULL, 2 },
		{ "inode", { "i_sb" }, &l->inode_sb, NULL, 8 },
	};
	int err;

	if (l->have_files)
		return 0;
	err = vms_layout_resolve_fs(ctx, btf, l);
	if (!err)
		err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs), "lsof");
	if (!err)
		l->have_files = true;
	return err;
}

int vms_layout_resolve_pcache(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l)
{
	size_t esz;
	struct need needs[] = {
		{ "dentry", { "d_inode" }, &l->d_inode, NULL, 8 },
		/* v6.8 (da549bdd15c2) turned a dentry's children from a list
		 * (d_subdirs, linked by d_child) into an hlist (d_children,
		 * linked by d_sib). */
		{ "dentry", { "d_subdirs" }, &l->d_subdirs, NULL, 16, true },
		{ "dentry", { "d_child" }, &l->d_child, NULL, 16, true },
		{ "dentry", { "d_children" }, &l->d_children, NULL, 8, true },
		{ "dentry", { "d_sib" }, &l->d_sib, NULL, 16, true },
		{ "hlist_node", { "next" }, &l->hlist_next, NULL, 8 },
		{ "inode", { "i_mapping" }, &l->inode_mapping, NULL, 8 },
		{ "inode", { "i_size" }, &l->inode_size, NULL, 8 },
		{ "inode", { "i_link" }, &l->inode_link, NULL, 8, true },
		{ "address_space", { "i_pages.xa_head" }, &l->as_xa_head, NULL,
		  8 },
		{ "xa_node", { "shift" }, &l->xa_shift, NULL, 1 },
		{ "page", { "mapping" }, &l->page_mapping, NULL, 8 },
		/* struct folio (v5.16) holds the index; struct page called it
		 * index until v6.16 renamed it __folio_index. */
		{ "folio", { "index" }, &l->folio_index, NULL, 8, true },
	};
	int err;

	if (l->have_pcache)
		return 0;
	err = vms_layout_resolve_files(ctx, btf, l);
	if (!err)
		err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
			      "cat (the page cache)");
	if (err)
		return err;
	if (l->folio_index == VMS_NO_MEMBER &&
	    vms_btf_member(btf, "page", "index", &l->folio_index, &esz))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF has neither folio.index nor "
			       "page.index");
	if ((l->d_subdirs == VMS_NO_MEMBER || l->d_child == VMS_NO_MEMBER) &&
	    (l->d_children == VMS_NO_MEMBER || l->d_sib == VMS_NO_MEMBER))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF has neither dentry.d_subdirs "
			       "nor dentry.d_children");
	if (vms_btf_member_array(btf, "xa_node", "slots", &l->xa_slots,
				 &l->xa_nslots, &esz) ||
	    vms_btf_struct_size(btf, "page", &l->page_size))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks xa_node.slots or struct "
			       "page");
	/* XA_CHUNK_SIZE is 16 or 64 (CONFIG_BASE_SMALL); any power of two
	 * from 4 to 64 keeps the lookup's arithmetic sound. */
	if (esz != 8 || l->xa_nslots < 4 || l->xa_nslots > 64 ||
	    (l->xa_nslots & (l->xa_nslots - 1)) || !l->page_size ||
	    l->page_size > 4096)
		return vms_err(ctx, -EBADMSG, LAYER,
			       "implausible xa_node or struct page geometry "
			       "in BTF");
	l->have_pcache = true;
	return 0;
}

int vms_layout_resolve_maps(struct vms_ctx *ctx, struct btf *btf,
			    struct vms_layout *l)
{
	size_t esz;
	struct need needs[] = {
		/* v6.1 (d4af56c5c7c6) keeps VMAs in a maple tree. */
		{ "mm_struct", { "mm_mt.ma_root" }, &l->mm_mt_root, NULL, 8 },
		{ "mm_struct", { "start_brk" }, &l->mm_start_brk, NULL, 8 },
		{ "mm_struct", { "brk" }, &l->mm_brk, NULL, 8 },
		{ "mm_struct", { "start_stack" }, &l->mm_start_stack, NULL, 8 },
		{ "vm_area_struct", { "vm_start" }, &l->vma_start, NULL, 8 },
		{ "vm_area_struct", { "vm_end" }, &l->vma_end, NULL, 8 },
		{ "vm_area_struct", { "vm_flags" }, &l->vma_flags, NULL, 8 },
		{ "vm_area_struct", { "vm_pgoff" }, &l->vma_pgoff, NULL, 8 },
		{ "vm_area_struct", { "vm_file" }, &l->vma_file, NULL, 8 },
		{ "vm_area_struct", { "vm_mm" }, &l->vma_mm, NULL, 8 },
		{ "vm_area_struct", { "vm_ops" }, &l->vma_ops, NULL, 8 },
		{ "vm_area_struct", { "vm_private_data" }, &l->vma_private,
		  NULL, 8 },
		{ "vm_operations_struct", { "name" }, &l->vmops_name, NULL, 8 },
		{ "vm_special_mapping", { "name" }, &l->spec_name, NULL, 8 },
	};
	int err;

	if (l->have_maps)
		return 0;
	err = vms_layout_resolve_files(ctx, btf, l);
	if (!err)
		err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
			      "maps (the v6.1+ maple tree of VMAs)");
	if (err)
		return err;
	if (vms_btf_member_array(btf, "maple_range_64", "pivot",
				 &l->mr64_pivot, &l->mr64_npiv, &esz) ||
	    vms_btf_member_array(btf, "maple_range_64", "slot", &l->mr64_slot,
				 &l->mr64_nslot, &esz) ||
	    vms_btf_member_array(btf, "maple_arange_64", "pivot",
				 &l->ma64_pivot, &l->ma64_npiv, &esz) ||
	    vms_btf_member_array(btf, "maple_arange_64", "slot", &l->ma64_slot,
				 &l->ma64_nslot, &esz) ||
	    vms_btf_enum_value(btf, "maple_dense", &l->mt_dense) ||
	    vms_btf_enum_value(btf, "maple_leaf_64", &l->mt_leaf) ||
	    vms_btf_enum_value(btf, "maple_range_64", &l->mt_range) ||
	    vms_btf_enum_value(btf, "maple_arange_64", &l->mt_arange))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks the maple tree node "
			       "types that maps needs (a kernel before 6.1?)");
	if (l->mr64_nslot > 32 || l->ma64_nslot > 32 ||
	    l->mr64_npiv >= l->mr64_nslot + 1 || l->ma64_npiv >= l->ma64_nslot + 1)
		return vms_err(ctx, -EBADMSG, LAYER,
			       "implausible maple node geometry in BTF");
	l->have_vsyscall_none = !vms_btf_enum_value_near(btf, "XONLY", "NONE",
							 &l->vsyscall_none);
	l->have_maps = true;
	return 0;
}

int vms_layout_resolve_net(struct vms_ctx *ctx, struct btf *btf,
			   struct vms_layout *l)
{
	struct need needs[] = {
		{ "socket_alloc", { "socket" }, &l->sa_socket },
		{ "socket_alloc", { "vfs_inode" }, &l->sa_inode },
		{ "socket", { "sk" }, &l->socket_sk, NULL, 8 },
		{ "sock_common", { "skc_family" }, &l->skc_family, NULL, 2 },
		{ "sock_common", { "skc_state" }, &l->skc_state, NULL, 1 },
		{ "sock_common", { "skc_num" }, &l->skc_num, NULL, 2 },
		{ "sock_common", { "skc_dport" }, &l->skc_dport, NULL, 2 },
		{ "sock_common", { "skc_rcv_saddr" }, &l->skc_rcv_saddr, NULL,
		  4 },
		{ "sock_common", { "skc_daddr" }, &l->skc_daddr, NULL, 4 },
		{ "sock_common", { "skc_v6_rcv_saddr" }, &l->skc_v6_rcv_saddr,
		  NULL, 16 },
		{ "sock_common", { "skc_v6_daddr" }, &l->skc_v6_daddr, NULL,
		  16 },
		{ "sock_common", { "skc_net" }, &l->skc_net, NULL, 8 },
		{ "sock", { "sk_socket" }, &l->sk_socket, NULL, 8 },
		{ "net", { "ns.inum" }, &l->net_inum, NULL, 4 },
		{ "sock", { "sk_type" }, &l->sk_type, NULL, 2 },
		{ "sock", { "sk_protocol" }, &l->sk_protocol, NULL, 2 },
		{ "unix_sock", { "addr" }, &l->unix_addr, NULL, 8 },
		{ "unix_address", { "len" }, &l->unaddr_len, NULL, 4 },
		{ "unix_address", { "name" }, &l->unaddr_name },
	};
	int err;

	if (l->have_net)
		return 0;
	err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs), "netstat");
	if (err)
		return err;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(l->tcp_state); i++)
		if (vms_btf_enum_value_near(btf, "TCP_ESTABLISHED",
					    vms_tcp_state_names[i],
					    &l->tcp_state[i]))
			l->tcp_state[i] = -1;
	l->have_net = true;
	return 0;
}

int vms_layout_resolve_checks(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l)
{
	size_t n, esz, tasks_n, tasks_esz, links_n, links_esz;
	struct need needs[] = {
		/* The pid table is an IDR, an xarray since v4.20
		 * (0a835c4f090a made radix_tree_root an xarray). */
		{ "pid_namespace", { "idr.idr_rt.xa_head" }, &l->pidns_xa_head,
		  NULL, 8 },
		{ "xa_node", { "shift" }, &l->xa_chk_shift, NULL, 1 },
		{ "module_kobject", { "kobj" }, &l->mkobj_kobj },
		{ "module_kobject", { "mod" }, &l->mkobj_mod, NULL, 8 },
		{ "kobject", { "entry" }, &l->kobj_entry, NULL, 16 },
		{ "kset", { "list" }, &l->kset_list, NULL, 16 },
		{ "module", { "mkobj" }, &l->mod_mkobj },
		{ "task_struct", { "cred" }, &l->task_cred, NULL, 8 },
		{ "mm_struct", { "exe_file" }, &l->mm_exe_file, NULL, 8 },
		{ "inode", { "i_uid" }, &l->inode_uid, NULL, 4 },
		{ "net", { "dev_base_head" }, &l->net_dev_base, NULL, 16 },
		{ "net_device", { "dev_list" }, &l->netdev_list, NULL, 16 },
		{ "net_device", { "name" }, &l->netdev_name,
		  &l->netdev_name_len },
		{ "net_device", { "flags" }, &l->netdev_flags, NULL, 4 },
		{ "net_device", { "promiscuity" }, &l->netdev_promisc, NULL,
		  4 },
	};
	int err;

	if (l->have_checks)
		return 0;
	if ((err = vms_layout_resolve_modules(ctx, btf, l)) ||
	    (err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
			   "the cross-view checks")))
		return err;
	if (vms_btf_member_array(btf, "xa_node", "slots", &l->xa_chk_slots,
				 &l->xa_chk_nslots, &esz) ||
	    vms_btf_member_array(btf, "pid", "tasks", &l->pid_tasks, &tasks_n,
				 &tasks_esz) ||
	    vms_btf_member_array(btf, "task_struct", "pid_links",
				 &l->task_pid_links, &links_n, &links_esz) ||
	    vms_btf_enum_value(btf, "PIDTYPE_PID", &l->pidtype_pid))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks xa_node.slots, "
			       "pid.tasks, task_struct.pid_links or "
			       "PIDTYPE_PID");
	n = l->xa_chk_nslots;
	if (esz != 8 || n < 4 || n > 64 || (n & (n - 1)) || tasks_esz != 8 ||
	    links_esz != 16 || l->pidtype_pid < 0 ||
	    (uint64_t)l->pidtype_pid >= VMS_MIN(tasks_n, links_n))
		return vms_err(ctx, -EBADMSG, LAYER,
			       "implausible xa_node, pid or pid_links "
			       "geometry in BTF");
	if (l->netdev_name_len < 2 || l->netdev_name_len > 64)
		return vms_err(ctx, -EBADMSG, LAYER,
			       "implausible net_device.name size %zu in BTF",
			       l->netdev_name_len);
	l->pid_tasks += (size_t)l->pidtype_pid * 8;
	l->task_pid_links += (size_t)l->pidtype_pid * 16;
	l->have_checks = true;
	return 0;
}

int vms_layout_resolve_sched(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l)
{
	size_t active, queue, esz, group, se, dl;
	struct need needs[] = {
		{ "rq", { "curr" }, &l->rq_curr, NULL, 8 },
		{ "rq", { "idle" }, &l->rq_idle, NULL, 8 },
		/* Every queued CFS task, linked by se.group_node; only on
		 * SMP kernels (kernel/sched/sched.h). */
		{ "rq", { "cfs_tasks" }, &l->rq_cfs_tasks, NULL, 16, true },
		{ "rq", { "rt" }, &l->rq_rt },
		{ "rt_rq", { "active" }, &active },
		{ "task_struct", { "se" }, &se },
		{ "sched_entity", { "group_node" }, &group, NULL, 16 },
		{ "task_struct", { "rt" }, &l->task_rt },
		{ "sched_rt_entity", { "run_list" }, &l->rtse_run_list, NULL,
		  16 },
		/* Only with CONFIG_RT_GROUP_SCHED: an entity that is a
		 * group, whose own rt_rq holds its tasks. */
		{ "sched_rt_entity", { "my_q" }, &l->rtse_my_q, NULL, 8,
		  true },
		/* Deadline tasks: an rbtree of sched_dl_entity.rb_node,
		 * which also holds the deadline servers embedded in the rq
		 * (rq.fair_server, v6.8+), not tasks. */
		{ "rq", { "dl.root.rb_root.rb_node" }, &l->rq_dl_root, NULL, 8 },
		{ "task_struct", { "dl" }, &dl },
		{ "sched_dl_entity", { "rb_node" }, &l->dlse_rb },
		{ "rb_node", { "__rb_parent_color" }, &l->rb_parent, NULL, 8 },
		{ "rb_node", { "rb_left" }, &l->rb_left, NULL, 8 },
		{ "rb_node", { "rb_right" }, &l->rb_right, NULL, 8 },
	};
	int err;

	if (l->have_sched)
		return 0;
	if ((err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
			   "the run-queue view")))
		return err;
	if (vms_btf_struct_size(btf, "rq", &l->rq_size))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF has no struct rq size");
	if (vms_btf_member_array(btf, "rt_prio_array", "queue", &queue,
				 &l->rt_nqueue, &esz))
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks rt_prio_array.queue");
	if (esz != 16 || !l->rt_nqueue || l->rt_nqueue > 1024)
		return vms_err(ctx, -EBADMSG, LAYER,
			       "implausible rt_prio_array.queue geometry in "
			       "BTF (%zu lists of %zu bytes)", l->rt_nqueue,
			       esz);
	l->rtrq_queue = active + queue;
	l->task_se_group = se + group;
	l->task_dl_rb = dl + l->dlse_rb;
	l->have_sched = true;
	return 0;
}

int vms_layout_resolve_pidrefs(struct vms_ctx *ctx, struct btf *btf,
			       struct vms_layout *l)
{
	size_t owner_size = 0;
	struct need needs[] = {
		{ "file", { "f_op" }, &l->file_f_op, NULL, 8 },
		{ "file", { "private_data" }, &l->file_private, NULL, 8 },
		/* An embedded struct fown_struct until v6.12, which made it
		 * a pointer, allocated on the first F_SETOWN. */
		{ "file", { "f_owner" }, &l->file_owner, &owner_size },
		{ "fown_struct", { "pid" }, &l->fown_pid, NULL, 8 },
		{ "inode", { "i_private" }, &l->inode_private, NULL, 8 },
		{ "proc_inode", { "pid" }, &l->pinode_pid, NULL, 8 },
		{ "proc_inode", { "vfs_inode" }, &l->pinode_vfs },
		{ "sock", { "sk_peer_pid" }, &l->sk_peer_pid, NULL, 8 },
	};
	int err;

	if (l->have_pidrefs)
		return 0;
	if ((err = vms_layout_resolve_files(ctx, btf, l)) ||
	    (err = vms_layout_resolve_net(ctx, btf, l)) ||
	    (err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
			   "the open-file view of tasks")))
		return err;
	l->file_owner_ptr = owner_size == 8;
	l->have_pidrefs = true;
	return 0;
}

int vms_layout_resolve_socktables(struct vms_ctx *ctx, struct btf *btf,
				  struct vms_layout *l)
{
	size_t esz;
	struct need needs[] = {
		/* Hashed sockets link through sock_common's skc_node or
		 * skc_nulls_node, which share one place (a union). */
		{ "sock_common", { "skc_nulls_node" }, &l->skc_link, NULL, 16 },
		{ "hlist_node", { "next" }, &l->hlist_next, NULL, 8 },
		{ "net", { "list" }, &l->net_list, NULL, 16 },
		{ "inet_hashinfo", { "ehash" }, &l->hi_ehash, NULL, 8 },
		{ "inet_hashinfo", { "ehash_mask" }, &l->hi_ehash_mask, NULL, 4 },
		{ "inet_hashinfo", { "lhash2" }, &l->hi_lhash2, NULL, 8 },
		{ "inet_hashinfo", { "lhash2_mask" }, &l->hi_lhash2_mask, NULL,
		  4 },
		{ "inet_ehash_bucket", { "chain" }, &l->ehb_chain, NULL, 8 },
		/* v5.19 (cae3873c5b3a) hashes listeners in lhash2 only, on
		 * a nulls list. */
		{ "inet_listen_hashbucket", { "nulls_head" }, &l->lhb_head,
		  NULL, 8 },
		{ "udp_table", { "hash" }, &l->ut_hash, NULL, 8 },
		{ "udp_table", { "mask" }, &l->ut_mask, NULL, 4 },
		{ "udp_hslot", { "head" }, &l->uhs_head, NULL, 8 },
		/* Per-namespace tables, optional: TCP's since v6.1
		 * (d1e5e6408b30), UDP's since v6.2 (9804985bf27f). Where a
		 * namespace has none, these point at the global table. */
		{ "net", { "ipv4.tcp_death_row.hashinfo" }, &l->net_tcp_hi,
		  NULL, 8, true },
		{ "net", { "ipv4.udp_table" }, &l->net_udp_table, NULL, 8,
		  true },
	};
	int err;

	if (l->have_socktables)
		return 0;
	if ((err = vms_layout_resolve_net(ctx, btf, l)) ||
	    (err = vms_layout_resolve_files(ctx, btf, l)) ||
	    (err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs),
			   "netstat's socket tables")))
		return err;
	if (vms_btf_struct_size(btf, "inet_ehash_bucket", &l->ehb_size) ||
	    vms_btf_struct_size(btf, "inet_listen_hashbucket", &l->lhb_size) ||
	    vms_btf_struct_size(btf, "udp_hslot", &l->uhs_size) ||
	    vms_btf_member_array(btf, "raw_hashinfo", "ht", &l->raw_ht,
				 &l->raw_ht_n, &esz) ||
	    esz != 8 || !l->ehb_size || !l->lhb_size || !l->uhs_size)
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks the socket hash bucket "
			       "types netstat needs");
	l->have_socktables = true;
	return 0;
}

int vms_layout_resolve_time(struct vms_ctx *ctx, struct btf *btf,
			    struct vms_layout *l)
{
	struct need needs[] = {
		{ "timekeeper", { "tkr_mono.base" }, &l->tk_mono_base, NULL,
		  8 },
		{ "timekeeper", { "offs_real" }, &l->tk_offs_real, NULL, 8 },
		{ "timekeeper", { "offs_boot" }, &l->tk_offs_boot, NULL, 8 },
		{ "uts_namespace", { "name.nodename" }, &l->uts_nodename,
		  &l->uts_nodename_len, 0 },
	};
	size_t seq;
	int err;

	if (l->have_time)
		return 0;
	err = resolve(ctx, btf, needs, VMS_ARRAY_SIZE(needs), "info");
	if (err)
		return err;
	/* tk_core is { seqcount_raw_spinlock_t seq; struct timekeeper
	 * timekeeper; } (kernel/time/timekeeping.c). It is a named type,
	 * struct tk_data, only since v6.13; before, its type is anonymous
	 * and the timekeeper follows the sequence count at 8-byte
	 * alignment. */
	if (vms_btf_member(btf, "tk_data", "timekeeper", &l->tk_in_core,
			   NULL)) {
		if (vms_btf_struct_size(btf, "seqcount_raw_spinlock", &seq))
			return vms_err(ctx, -ENOENT, LAYER,
				       "the kernel's BTF lacks "
				       "seqcount_raw_spinlock");
		l->tk_in_core = (seq + 7) & ~(size_t)7;
	}
	l->have_time = true;
	return 0;
}

uint32_t vms_btf_type_count(const struct btf *btf)
{
	return btf ? btf__type_cnt(btf) - 1 : 0;
}
