/* SPDX-License-Identifier: MIT */
/*
 * Loaded modules, from the kernel's `modules` list, with what
 * /proc/modules shows for each (kernel/module/procfs.c m_show()):
 *
 *   NAME SIZE REFCOUNT USERS STATE 0xBASE [(TAINTS)]
 *
 * SIZE is the sum of the module's memory regions (core_layout plus
 * init_layout before v6.4, every mem[] region since; init regions are
 * zeroed once init is done). REFCOUNT is refcnt minus MODULE_REF_BASE
 * (1). USERS lists the modules on source_list, "[permanent]" for a
 * module with init and no exit, else "-". The taint letters come from
 * the guest's own taint_flags[] table, and state names from the values
 * BTF gives enum module_state.
 *
 * The list is guest data: bounded, cycle-checked, every pointer checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_MODULES 65536
#define MAX_USERS 256
#define MODULE_REF_BASE 1 /* kernel/module/main.c, since v4.5 */

/* taint_flags[]: { c_true, c_false, module, ... } per taint bit, until
 * an entry that is not one. */
static void read_taint_letters(struct vms_mod_walk *w)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t tf;
	uint8_t e[64];

	if (vms_kernel_sym(k, "taint_flags", &tf) || l->taint_size > sizeof(e)) {
		vms_err_clear(k->ctx);
		return;
	}
	for (int i = 0; i < 64; i++) {
		if (vms_kernel_read(k, tf + (uint64_t)i * l->taint_size, e,
				    l->taint_size))
			break;
		char c = (char)e[l->taint_c_true];
		if (c < 'A' || c > 'Z')
			break;
		w->taint_letters[i] = c;
		if (e[l->taint_module])
			w->taint_module |= 1ull << i;
	}
	vms_err_clear(k->ctx);
}

int vms_mod_walk_init(struct vms_mod_walk *w, struct vms_kernel *k)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	vms_addrset_init(&w->seen);
	err = vms_layout_resolve_modules(k->ctx, k->btf, &k->l);
	if (!err)
		err = vms_kernel_sym(k, "modules", &w->head);
	if (!err)
		err = vms_kernel_read_u64(k, w->head + k->l.list_next, &w->node);
	if (!err)
		read_taint_letters(w);
	return err;
}

void vms_mod_walk_fini(struct vms_mod_walk *w)
{
	vms_addrset_fini(&w->seen);
}

static int read_name(struct vms_kernel *k, uint64_t mod, char *buf,
		     size_t len)
{
	size_t n = VMS_MIN(k->l.mod_name_len, len - 1);
	int err = vms_kernel_read(k, mod + k->l.mod_name, buf, n);

	buf[err ? 0 : n] = 0;
	return err;
}

static int read_size(struct vms_kernel *k, uint64_t mod, uint64_t *size,
		     uint64_t *base)
{
	const struct vms_layout *l = &k->l;
	uint32_t v;
	uint8_t b[4];
	int err;

	*size = 0;
	if (l->mod_mem != VMS_NO_MEMBER) {
		/* mem[MOD_TEXT] is element 0 (enum mod_mem_type). */
		for (size_t i = 0; i < l->mod_mem_n && i < 16; i++) {
			uint64_t m = mod + l->mod_mem + i * l->mod_mem_elem;
			if ((err = vms_kernel_read(k, m + l->modmem_size, b, 4)))
				return err;
			*size += vms_le32(b);
		}
		return vms_kernel_read_u64(k, mod + l->mod_mem + l->modmem_base,
					   base);
	}
	if ((err = vms_kernel_read(k, mod + l->mod_core_size, b, 4)))
		return err;
	*size = vms_le32(b);
	if (l->mod_init_size != VMS_NO_MEMBER) {
		if ((err = vms_kernel_read(k, mod + l->mod_init_size, b, 4)))
			return err;
		v = vms_le32(b);
		*size += v;
	}
	return vms_kernel_read_u64(k, mod + l->mod_core_base, base);
}

/* source_list: struct module_use entries naming the modules using this
 * one. */
static int read_users(struct vms_mod_walk *w, uint64_t mod, char *buf,
		      size_t len)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t head = mod + l->mod_source_list, node, fn, fx;
	size_t used = 0;
	int n = 0, err;

	buf[0] = 0;
	if ((err = vms_kernel_read_u64(k, head + l->list_next, &node)))
		return err;
	while (node != head) {
		char name[64];
		uint64_t src;
		if (!vms_is_kernel_addr(k, node) || ++n > MAX_USERS)
			return vms_err_at(k->ctx, -EBADMSG, LAYER, head,
					  "module %#llx: its users list is "
					  "corrupt or longer than %d",
					  (unsigned long long)mod, MAX_USERS);
		uint64_t use = node - l->use_source_list;
		if ((err = vms_kernel_read_u64(k, use + l->use_source, &src)) ||
		    !vms_is_kernel_addr(k, src) ||
		    (err = read_name(k, src, name, sizeof(name))))
			return err ? err : -EBADMSG;
		/* Names past @buf are left out (a pointer past it would be
		 * undefined behaviour even when nothing is written). */
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used,
						 "%s,", name);
		if ((err = vms_kernel_read_u64(k, node + l->list_next, &node)))
			return err;
	}
	if (l->mod_init != VMS_NO_MEMBER && l->mod_exit != VMS_NO_MEMBER &&
	    !vms_kernel_read_u64(k, mod + l->mod_init, &fn) &&
	    !vms_kernel_read_u64(k, mod + l->mod_exit, &fx) && fn && !fx &&
	    used < len)
		used += (size_t)snprintf(buf + used, len - used,
					 "[permanent],");
	if (!used)
		snprintf(buf, len, "-");
	return 0;
}

int vms_mod_mem(struct vms_kernel *k, uint64_t mod, size_t type,
		struct vms_range *ret)
{
	const struct vms_layout *l = &k->l;
	uint64_t m, base;
	uint8_t b[4];
	int err;

	*ret = (struct vms_range){ 0, 0 };
	if (l->mod_mem == VMS_NO_MEMBER)
		return -ENOENT;
	if (type >= l->mod_mem_n)
		return -ERANGE;
	m = mod + l->mod_mem + type * l->mod_mem_elem;
	if ((err = vms_kernel_read_u64(k, m + l->modmem_base, &base)) ||
	    (err = vms_kernel_read(k, m + l->modmem_size, b, 4)))
		return err;
	if (base && vms_le32(b))
		*ret = (struct vms_range){ base, vms_le32(b) };
	return 0;
}

int vms_mod_regions(struct vms_kernel *k, uint64_t mod,
		    struct vms_range *ret, size_t max)
{
	const struct vms_layout *l = &k->l;
	size_t n = 0;
	uint8_t b[4];
	int err;

	if (l->mod_mem != VMS_NO_MEMBER) {
		for (size_t i = 0; i < l->mod_mem_n && i < 16 && n < max; i++) {
			if ((err = vms_mod_mem(k, mod, i, &ret[n])))
				return err;
			if (ret[n].len)
				n++;
		}
		return (int)n;
	}
	uint64_t base;
	if ((err = vms_kernel_read_u64(k, mod + l->mod_core_base, &base)) ||
	    (err = vms_kernel_read(k, mod + l->mod_core_size, b, 4)))
		return err;
	if (base && vms_le32(b) && max)
		ret[n++] = (struct vms_range){ base, vms_le32(b) };
	return (int)n;
}

int vms_mod_read(struct vms_mod_walk *w, uint64_t mod, struct vms_mod *m)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t taints;
	uint8_t b[4];
	int64_t state;
	int err;

	memset(m, 0, sizeof(*m));
	m->addr = mod;
	if ((err = read_name(k, mod, m->name, sizeof(m->name))) ||
	    (err = read_size(k, mod, &m->size, &m->base)) ||
	    (err = vms_kernel_read(k, mod + l->mod_refcnt, b, 4)))
		return err;
	/* In unsigned arithmetic: a guest's INT_MIN less the base must not
	 * overflow. */
	m->refcount = (int32_t)(vms_le32(b) - (uint32_t)MODULE_REF_BASE);
	if ((err = vms_kernel_read(k, mod + l->mod_state, b, 4)) ||
	    (err = vms_kernel_read_u64(k, mod + l->mod_taints, &taints)) ||
	    (err = read_users(w, mod, m->users, sizeof(m->users))))
		return err;
	state = (int32_t)vms_le32(b);
	/* MODULE_STATE_UNFORMED (and any value no kernel uses) is a module
	 * still on its way in, not a live one: do_init_module() is ahead. */
	m->state = state == l->mod_state_going	  ? "Unloading"
		   : state == l->mod_state_live	  ? "Live"
						  : "Loading";
	/* module_flags(): "(" taint letters, '-' going, '+' coming ")". */
	if (taints || state == l->mod_state_going ||
	    state == l->mod_state_coming) {
		size_t n = 0;
		m->taints[n++] = '(';
		for (int i = 0; i < 64 && n < sizeof(m->taints) - 3; i++)
			if ((taints >> i & 1) && (w->taint_module >> i & 1) &&
			    w->taint_letters[i])
				m->taints[n++] = w->taint_letters[i];
		if (state == l->mod_state_going)
			m->taints[n++] = '-';
		else if (state == l->mod_state_coming)
			m->taints[n++] = '+';
		m->taints[n++] = ')';
		m->taints[n] = 0;
	}
	return 0;
}

int vms_mod_walk_next(struct vms_mod_walk *w, struct vms_mod *m)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t next;
	int err;

	/* Racing a running guest (vms_torn), a module that fails to read
	 * is left out and the list goes on from its next pointer; a node
	 * that cannot be stepped onto ends the list early. */
	for (;;) {
		uint64_t mod = w->node - l->mod_list;

		if (w->done || w->node == w->head) {
			w->done = true;
			return 0;
		}
		w->done = true;
		if ((err = vms_walk_visit(k, &w->seen, &w->count, MAX_MODULES,
					  w->node, "the module list")) ||
		    (err = vms_kernel_read_u64(k, w->node + l->list_next,
					       &next)))
			return vms_torn(k->ctx, err,
					"the module list from %#llx",
					(unsigned long long)w->node)
				       ? 0
				       : err;
		err = vms_mod_read(w, mod, m);
		if (err && !vms_torn(k->ctx, err, "module %#llx",
				     (unsigned long long)mod))
			return err;
		w->node = next;
		w->done = false;
		if (!err)
			return 1;
	}
}

/*
 * Carving: struct module found in module memory, whatever lists it.
 *
 * A module's struct module is its .gnu.linkonce.this_module section,
 * which the loader places in the module's own writable data (mem[
 * MOD_DATA] since v6.4, core_layout before): so a loaded module's struct
 * lies inside one of the regions it describes. Every mapped page above
 * the kernel image (_end up to the top of the address space: the module
 * area, and the fixmap, whose device pages do not read) is searched at
 * cache-line steps (struct module is ____cacheline_aligned) for a struct
 * whose state is live, coming or going, whose name is a module name, and
 * whose regions lie above the image and contain it. Freed module memory
 * is unmapped by vfree() and never seen; a module being torn down is
 * MODULE_STATE_UNFORMED first, and is skipped.
 */
#define CARVE_STEP 64
#define CARVE_PAGE 4096ull
#define MAX_CARVE_PAGES (1u << 20)	/* 4 GiB of mapped pages */
#define MAX_CARVE_WALKS (1u << 24)
#define MAX_CARVED 16384	/* real kernels load a few hundred */

/* @len bytes of the candidate's field at @va: from @page (the bytes of
 * [pva, pva + 4096)) when inside it, else read quietly. */
static bool carve_field(struct vms_kernel *k, const uint8_t *page,
			uint64_t pva, uint64_t va, void *buf, size_t len)
{
	if (va >= pva && va - pva + len <= CARVE_PAGE) {
		memcpy(buf, page + (va - pva), len);
		return true;
	}
	if (vms_kernel_read(k, va, buf, len)) {
		vms_err_clear(k->ctx);
		return false;
	}
	return true;
}

static bool carve_name_ok(const char *name, size_t len)
{
	size_t n = strnlen(name, len);

	if (!n || n == len)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool carve_one(struct vms_kernel *k, const uint8_t *page, uint64_t pva,
		      uint64_t mod, uint64_t lo)
{
	const struct vms_layout *l = &k->l;
	struct vms_range r[16];
	char name[64];
	uint8_t b[4];
	int64_t state;
	size_t nlen = VMS_MIN(l->mod_name_len, sizeof(name));
	int n;

	if (!carve_field(k, page, pva, mod + l->mod_state, b, 4))
		return false;
	state = (int32_t)vms_le32(b);
	if (state != l->mod_state_live && state != l->mod_state_coming &&
	    state != l->mod_state_going)
		return false;
	if (!carve_field(k, page, pva, mod + l->mod_name, name, nlen) ||
	    !carve_name_ok(name, nlen))
		return false;
	n = vms_mod_regions(k, mod, r, VMS_ARRAY_SIZE(r));
	if (n <= 0) {
		vms_err_clear(k->ctx);
		return false;
	}
	bool inside = false;
	for (int i = 0; i < n; i++) {
		if (r[i].start < lo || r[i].start + r[i].len < r[i].start)
			return false;
		if (mod - r[i].start < r[i].len)
			inside = true;
	}
	return inside;
}

int vms_mod_carve(struct vms_kernel *k, int (*fn)(void *arg, uint64_t mod),
		  void *arg)
{
	uint8_t *page;
	uint64_t lo, va, pa, psize;
	uint32_t pages = 0, walks = 0, found = 0;
	int err;

	if ((err = vms_layout_resolve_modules(k->ctx, k->btf, &k->l)) ||
	    (err = vms_kernel_sym(k, "_end", &lo)))
		return err;
	lo = (lo + CARVE_PAGE - 1) & ~(CARVE_PAGE - 1);
	if (!(page = malloc(CARVE_PAGE)))
		return -ENOMEM;
	for (va = lo; va >= lo && !err;) {
		if ((err = vms_tick(k->ctx)))
			break;
		if (++walks > MAX_CARVE_WALKS) {
			err = vms_err_at(k->ctx, -E2BIG, LAYER, va,
					 "module memory: over %u page-table "
					 "walks above the kernel image",
					 MAX_CARVE_WALKS);
			break;
		}
		if (vms_mmu_translate(&k->mmu, k->pgd, va, &pa, &psize,
				      true)) {
			uint64_t next = psize ? (va & ~(psize - 1)) + psize : 0;
			if (next <= va)
				break; /* the top of the address space */
			va = next;
			continue;
		}
		if (++pages > MAX_CARVE_PAGES) {
			err = vms_err_at(k->ctx, -E2BIG, LAYER, va,
					 "module memory: over %u mapped pages "
					 "above the kernel image",
					 MAX_CARVE_PAGES);
			break;
		}
		if (vms_source_read(k->src, pa, page, CARVE_PAGE))
			vms_err_clear(k->ctx); /* a device page of the fixmap */
		else
			for (uint64_t o = 0; o < CARVE_PAGE && !err;
			     o += CARVE_STEP)
				if (!carve_one(k, page, va, va + o, lo))
					continue;
				else if (++found > MAX_CARVED)
					err = vms_err_at(
						k->ctx, -E2BIG, LAYER, va + o,
						"module memory holds over %u "
						"struct modules", MAX_CARVED);
				else
					err = fn(arg, va + o);
		va += CARVE_PAGE;
	}
	free(page);
	return err < 0 ? err : 0;
}

struct carve_list {
	struct vms_ctx *ctx;
	uint64_t *v;
	size_t n, cap;
};

static int carve_collect(void *arg, uint64_t mod)
{
	struct carve_list *l = arg;

	/* The carving scan bounds how many it finds. */
	int r = vms_grow(l->ctx, &l->v, &l->cap, l->n, sizeof(*l->v), 64,
			 SIZE_MAX);

	if (r)
		return r;
	l->v[l->n++] = mod;
	return 0;
}

int vms_mod_carved(struct vms_kernel *k, const uint64_t **ret, size_t *n)
{
	if (!k->carved_done) {
		struct carve_list l = { .ctx = k->ctx };
		int err = vms_mod_carve(k, carve_collect, &l);
		if (err) {
			free(l.v);
			return err;
		}
		k->carved = l.v;
		k->ncarved = l.n;
		k->carved_done = true;
	}
	*ret = k->carved;
	*n = k->ncarved;
	return 0;
}
