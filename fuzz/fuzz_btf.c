/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: type information. The input is a BTF blob, parsed by
 * libbpf as vmsight parses the kernel's; every layout vmsight resolves is
 * then resolved from it (members through anonymous structs and unions,
 * member paths, bitfields, arrays, enum values, function parameters),
 * as a kernel that lies about its types would have them read.
 *
 * Built with -DFUZZ_SEEDS, this file is instead the seed writer
 * (fuzz-seed-btf SRC OUT NAME...): a cut of the real BTF at SRC holding
 * the structs, unions, enums and functions NAMEd in full, and the enums that hold a
 * value NAMEd (fuzz/seeds.py names those src/ asks for), the structs
 * they embed to four levels, each other struct as an empty one of the
 * same size, and pointers as pointers to declarations. A kernel's BTF is
 * megabytes; the cut is tens of kilobytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "../src/linux/kernel.h"

#ifndef FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*resolve_fn)(struct vms_ctx *, struct btf *,
			  struct vms_layout *);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const resolve_fn fns[] = {
		vms_layout_resolve, vms_layout_resolve_modules,
		vms_layout_resolve_printk, vms_layout_resolve_fs,
		vms_layout_resolve_time, vms_layout_resolve_files,
		vms_layout_resolve_maps, vms_layout_resolve_pcache,
		vms_layout_resolve_net, vms_layout_resolve_checks,
		vms_layout_resolve_sched, vms_layout_resolve_pidrefs,
		vms_layout_resolve_socktables,
	};
	static struct vms_layout l;
	struct vms_ctx ctx;
	struct btf *btf;
	size_t a, b, c;
	int64_t v;
	unsigned int param;

	if (size > UINT32_MAX || !(btf = vms_btf_parse(data, (uint32_t)size)))
		return 0;
	vms_ctx_init(&ctx);
	memset(&l, 0, sizeof(l));
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		fns[i](&ctx, btf, &l);
		vms_err_clear(&ctx);
	}
	vms_btf_type_count(btf);
	vms_btf_struct_size(btf, "gate_struct", &a);
	vms_btf_member(btf, "net", "ns.inum", &a, &b);
	vms_btf_bitfield(btf, "idt_bits", "p", &a, &b);
	vms_btf_member_array(btf, "nf_hook_entries", "hooks", &a, &b, &c);
	vms_btf_func_param(btf, "x64_sys_call", "pt_regs", &param);
	vms_btf_func_param(btf, "do_syscall_64", "pt_regs", &param);
	vms_btf_enum_value(btf, "TCP_LISTEN", &v);
	vms_btf_enum_value_near(btf, "XONLY", "NONE", &v);
	vms_btf_enum_name(btf, "module_state", 1);
	vms_btf_free(btf);
	return 0;
}

#else /* FUZZ_SEEDS */

struct cut {
	const struct btf *src;
	struct btf *out;
	uint32_t *map;		/* source id -> id in @out, 0: not yet */
	uint32_t *stub;		/* the same for empty stand-ins */
	uint8_t *busy;		/* source ids being copied */
	char **keep;
	int nkeep;
	int depth;		/* named structs embedded in one copied */
};

/* Named structs that a copied struct embeds are copied too, this deep
 * (net.ns.inum, dentry.d_name.len); past it they are empty. */
#define EMBED_DEPTH 4

static bool kept(const struct cut *c, const char *name)
{
	for (int i = 0; i < c->nkeep; i++)
		if (!strcmp(c->keep[i], name))
			return true;
	return false;
}

/* An enum named, or holding a value named (TCP_ESTABLISHED's enum has
 * no name). */
static bool enum_kept(const struct cut *c, const struct btf_type *t)
{
	const struct btf_enum *e = btf_enum(t);

	if (kept(c, btf__name_by_offset(c->src, t->name_off)))
		return true;
	for (uint16_t i = 0; i < btf_vlen(t); i++)
		if (kept(c, btf__name_by_offset(c->src, e[i].name_off)))
			return true;
	return false;
}

static int copy(struct cut *c, uint32_t id);

/* A pointer's target: a declaration of a struct or union not named (or
 * being copied: a list's pointers to its own kind), else the target
 * itself (a struct named, void, an int...). */
static int pointee(struct cut *c, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(c->src, id);
	const char *name;

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(c->src, id);
	}
	if (!t || !id)
		return 0;
	name = btf__name_by_offset(c->src, t->name_off);
	if (btf_is_composite(t) && name && *name &&
	    (!kept(c, name) || c->busy[id]))
		return btf__add_fwd(c->out, name, btf_is_union(t)
					? BTF_FWD_UNION : BTF_FWD_STRUCT);
	if (btf_is_int(t) || btf_is_enum(t) || btf_is_composite(t)) {
		int depth = c->depth, r;
		c->depth = 0; /* a struct pointed at starts afresh */
		r = copy(c, id);
		c->depth = depth;
		return r;
	}
	return 0; /* void */
}

static int copy(struct cut *c, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(c->src, id);
	const char *name;
	int r = 0;

	if (!id || !t)
		return 0;
	if (c->map[id])
		return (int)c->map[id];
	name = btf__name_by_offset(c->src, t->name_off);
	if (!name)
		name = "";
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		r = btf__add_int(c->out, name, (size_t)t->size,
				 btf_int_encoding(t));
		break;
	case BTF_KIND_PTR:
		if ((r = pointee(c, t->type)) >= 0)
			r = btf__add_ptr(c->out, r);
		break;
	case BTF_KIND_TYPEDEF:
		if ((r = copy(c, t->type)) >= 0)
			r = btf__add_typedef(c->out, name, r);
		break;
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		r = copy(c, t->type);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		int e = copy(c, a->type), ix = 0;
		if (e >= 0)
			ix = btf__add_int(c->out, "unsigned int", 4, 0);
		r = e < 0 ? e : ix < 0 ? ix
			: btf__add_array(c->out, ix, e, a->nelems);
		break;
	}
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = btf_enum(t);
		if ((r = btf__add_enum(c->out, name, t->size)) < 0)
			break;
		for (uint16_t i = 0; i < btf_vlen(t) && r >= 0; i++)
			if (btf__add_enum_value(c->out,
				btf__name_by_offset(c->src, e[i].name_off),
				e[i].val) < 0)
				r = -1;
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);
		uint16_t n = btf_vlen(t);
		int *ids;
		bool full = !*name || kept(c, name) || c->depth < EMBED_DEPTH;
		/* Member types first: libbpf adds a struct's fields right
		 * after the struct. */
		if (!full) {
			if (c->stub[id])
				return (int)c->stub[id];
			r = btf_is_union(t) ? btf__add_union(c->out, name,
							     t->size)
					    : btf__add_struct(c->out, name,
							      t->size);
			if (r > 0)
				c->stub[id] = (uint32_t)r;
			return r;
		}
		if (!(ids = calloc(n + 1u, sizeof(*ids))))
			return -ENOMEM;
		c->depth += !!*name;
		c->busy[id] = 1;
		for (uint16_t i = 0; i < n && r >= 0; i++)
			r = ids[i] = copy(c, m[i].type);
		c->busy[id] = 0;
		c->depth -= !!*name;
		if (r >= 0)
			r = btf_is_union(t) ? btf__add_union(c->out, name,
							     t->size)
					    : btf__add_struct(c->out, name,
							      t->size);
		for (uint16_t i = 0; i < n && r >= 0; i++)
			if (btf__add_field(c->out,
				btf__name_by_offset(c->src, m[i].name_off),
				ids[i], btf_member_bit_offset(t, i),
				btf_member_bitfield_size(t, i)) < 0)
				r = -1;
		free(ids);
		break;
	}
	case BTF_KIND_FUNC_PROTO: {
		const struct btf_param *p = btf_params(t);
		int ret = pointee(c, t->type), *ids;
		if (ret < 0)
			return ret;
		if (!(ids = calloc(btf_vlen(t) + 1u, sizeof(*ids))))
			return -ENOMEM;
		for (uint16_t i = 0; i < btf_vlen(t) && r >= 0; i++)
			r = ids[i] = copy(c, p[i].type);
		if (r >= 0)
			r = btf__add_func_proto(c->out, ret);
		for (uint16_t i = 0; i < btf_vlen(t) && r >= 0; i++)
			if (btf__add_func_param(c->out,
				btf__name_by_offset(c->src, p[i].name_off),
				ids[i]) < 0)
				r = -1;
		free(ids);
		break;
	}
	case BTF_KIND_FUNC:
		if ((r = copy(c, t->type)) >= 0)
			r = btf__add_func(c->out, name, BTF_FUNC_GLOBAL, r);
		break;
	default:
		r = 0; /* void for what the layouts never read */
	}
	if (r > 0)
		c->map[id] = (uint32_t)r;
	return r;
}

int main(int argc, char **argv)
{
	struct cut c = { 0 };
	const void *raw;
	uint32_t n, size;
	FILE *f;

	if (argc < 4) {
		fprintf(stderr, "usage: fuzz-seed-btf SRC OUT NAME...\n");
		return 2;
	}
	if (!(c.src = btf__parse_raw(argv[1]))) {
		perror(argv[1]);
		return 1;
	}
	n = btf__type_cnt(c.src);
	c.out = btf__new_empty();
	c.map = calloc(n, sizeof(*c.map));
	c.busy = calloc(n, 1);
	c.stub = calloc(n, sizeof(*c.stub));
	c.keep = argv + 3;
	c.nkeep = argc - 3;
	if (!c.out || !c.map || !c.busy || !c.stub)
		return 1;
	/* Every type and function named on the command line. */
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(c.src, id);
		const char *name = btf__name_by_offset(c.src, t->name_off);
		if (!name)
			continue;
		if ((btf_is_composite(t) && kept(&c, name)) ||
		    (btf_is_enum(t) && enum_kept(&c, t)) ||
		    (btf_is_func(t) && kept(&c, name))) {
			if (copy(&c, id) < 0) {
				fprintf(stderr, "cannot copy %s\n", name);
				return 1;
			}
		}
	}
	raw = btf__raw_data(c.out, &size);
	if (!raw || !(f = fopen(argv[2], "wb")) ||
	    fwrite(raw, 1, size, f) != size || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	btf__free(c.out);
	btf__free((struct btf *)c.src);
	free(c.map);
	free(c.busy);
	free(c.stub);
	return 0;
}

#endif
