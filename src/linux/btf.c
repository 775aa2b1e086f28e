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

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* libbpf prints parse errors to stderr by default; a library must not.
 * The print hook is process-wide, so it is swapped only around the
 * parse. */
static struct btf *parse(const void *data, uint32_t size)
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
	uint8_t *buf;
	int err;

	if (size < 24 || size > BTF_MAX)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, va,
				  "BTF at %#llx has implausible size %llu",
				  (unsigned long long)va,
				  (unsigned long long)size);
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	err = vms_kernel_read(k, va, buf, size);
	if (!err) {
		k->btf = parse(buf, (uint32_t)size);
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

/* Fallback: the largest valid BTF header in the image's pages. */
static int scan_image(struct vms_kernel *k)
{
	uint64_t end, best_va = 0, best = 0;
	uint8_t h[24];

	if (vms_kernel_sym(k, "_end", &end))
		return -ENOENT;
	for (uint64_t va = k->text_va; va < end; va += 4) {
		uint64_t pa;
		const uint8_t *p;
		if (vms_mmu_translate(&k->mmu, k->pgd, va, &pa, NULL, true)) {
			va = (va | 0xfff) - 3;
			continue;
		}
		p = vms_source_ptr(k->src, pa, 24);
		if (!p) {
			if (vms_source_read(k->src, pa, h, 24))
				continue;
			p = h;
		}
		if (vms_le16(p) != 0xeB9F || p[2] != 1 || vms_le32(p + 4) != 24)
			continue;
		uint64_t tl = vms_le32(p + 12), so = vms_le32(p + 16),
			 sl = vms_le32(p + 20);
		if (vms_le32(p + 8) == 0 && so == tl && 24 + so + sl > best)
			best = 24 + so + sl, best_va = va;
	}
	vms_err_clear(k->ctx);
	return best ? load_range(k, best_va, best) : -ENOENT;
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

static int member_in(struct btf *btf, uint32_t id, const char *member,
		     size_t base_bits, int depth, size_t *off, size_t *size)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;

	if (!t || depth > ANON_DEPTH || (!btf_is_struct(t) && !btf_is_union(t)))
		return -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		size_t bits = base_bits + btf_member_bit_offset(t, i);

		if (name && *name) {
			if (strcmp(name, member))
				continue;
			if (btf_member_bitfield_size(t, i) || bits % 8)
				return -ENOTSUP;
			long sz = btf__resolve_size(btf, m->type);
			if (sz < 0)
				return -EBADMSG;
			*off = bits / 8;
			*size = (size_t)sz;
			return 0;
		}
		/* Anonymous struct or union: look inside. */
		int32_t inner = btf__resolve_type(btf, m->type);
		if (inner > 0 && !member_in(btf, (uint32_t)inner, member, bits,
					    depth + 1, off, size))
			return 0;
	}
	return -ENOENT;
}

int vms_btf_member(struct btf *btf, const char *type, const char *member,
		   size_t *ret_off, size_t *ret_size)
{
	int32_t id = find_struct(btf, type);
	size_t off, size;
	int err;

	if (id <= 0)
		return -ENOENT;
	err = member_in(btf, (uint32_t)id, member, 0, 0, &off, &size);
	if (err)
		return err;
	*ret_off = off;
	if (ret_size)
		*ret_size = size;
	return 0;
}

/*
 * Every member the walkers read. Alternatives are tried in order; each
 * is cited with the release that renamed it.
 */
struct need {
	const char *type;
	const char *members[3];	/* alternatives, NULL-terminated */
	size_t *off;
	size_t *size;		/* may be NULL */
	size_t want_size;	/* 0: any; else required size */
};

int vms_layout_resolve(struct vms_ctx *ctx, struct btf *btf,
		       struct vms_layout *l)
{
	size_t ptr_size, comm_size;
	struct need needs[] = {
		{ "list_head", { "next" }, &l->list_next, &ptr_size, 8 },
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
		{ "cred", { "uid" }, &l->cred_uid, NULL, 4 },
		{ "cred", { "gid" }, &l->cred_gid, NULL, 4 },
		{ "cred", { "euid" }, &l->cred_euid, NULL, 4 },
		{ "cred", { "egid" }, &l->cred_egid, NULL, 4 },
		{ "signal_struct", { "nr_threads" }, &l->signal_nr_threads,
		  NULL, 4 },
	};
	char missing[400] = "";
	size_t mlen = 0;
	int nmissing = 0;

	for (size_t i = 0; i < VMS_ARRAY_SIZE(needs); i++) {
		struct need *n = &needs[i];
		size_t size = 0;
		int err = -ENOENT;

		for (int a = 0; a < 3 && n->members[a] && err; a++)
			err = vms_btf_member(btf, n->type, n->members[a],
					     n->off, &size);
		if (!err && n->want_size && size != n->want_size)
			err = -EBADMSG;
		if (!err && n->size)
			*n->size = size;
		if (err) {
			nmissing++;
			mlen += (size_t)snprintf(
				missing + mlen,
				mlen < sizeof(missing) ? sizeof(missing) - mlen
						       : 0,
				"%s%s.%s%s", nmissing > 1 ? ", " : "",
				n->type, n->members[0],
				err == -ENOENT ? "" : " (unexpected size)");
		}
	}
	if (!nmissing && (l->task_state_size != 4 && l->task_state_size != 8))
		nmissing++, snprintf(missing, sizeof(missing),
				     "task_struct.__state (size %zu)",
				     l->task_state_size);
	if (!nmissing && vms_btf_struct_size(btf, "task_struct", &l->task_size))
		nmissing++, snprintf(missing, sizeof(missing), "task_struct");
	if (nmissing)
		return vms_err(ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks %d member%s vmsight "
			       "needs: %s",
			       nmissing, nmissing > 1 ? "s" : "", missing);
	l->task_comm_len = comm_size;
	/* The part of task_struct the walker reads in one go. */
	size_t offs[][2] = {
		{ l->task_tasks, 16 }, { l->task_pid, 4 }, { l->task_tgid, 4 },
		{ l->task_comm, comm_size }, { l->task_real_parent, 8 },
		{ l->task_real_cred, 8 }, { l->task_state, l->task_state_size },
		{ l->task_exit_state, 4 }, { l->task_signal, 8 },
		{ l->task_mm, 8 },
	};
	l->task_span_lo = SIZE_MAX;
	l->task_span_hi = 0;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(offs); i++) {
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

uint32_t vms_btf_type_count(const struct btf *btf)
{
	return btf ? btf__type_cnt(btf) - 1 : 0;
}
