/* SPDX-License-Identifier: MIT */
/*
 * A process's memory areas, from its maple tree (mm_struct.mm_mt, v6.1+;
 * include/linux/maple_tree.h), named as fs/proc/task_mmu.c names them.
 *
 * Maple tree entries: an encoded node is node | type << 3 | 4, the node
 * 256-byte aligned and type an enum maple_type value (read from BTF).
 * The root pointer is additionally tagged as an XArray internal entry,
 * (e & 3) == 2 and e > 4096 (xa_is_node); slots of internal nodes hold
 * encoded children untagged. Range and
 * leaf nodes hold pivots[N-1] and slots[N]; arange nodes (internal, with
 * gaps) the same with fewer slots. Slot i covers [previous pivot + 1,
 * pivot[i]]; the last slot ends at the node's maximum, and a zero pivot
 * after the first marks the end of the node's data.
 *
 * The tree is guest data: the walk keeps an explicit stack (a maple tree
 * is at most 31 levels high), bounds the number of nodes and areas, and
 * keeps a leaf entry only if it is a vm_area_struct of this mm whose
 * [vm_start, vm_end - 1] is exactly the slot's range; anything else is
 * skipped with a warning, never followed.
 *
 * Names (show_map_vma()): the file's path; else a special mapping's name
 * (vm_ops->name is special_mapping_name, vm_private_data a struct
 * vm_special_mapping: [vdso], [vvar]); else [heap] for the area around
 * brk and [stack] for the one holding start_stack. The vsyscall page is
 * not in the tree: /proc adds the gate area (gate_vma, x86-64) last
 * unless vsyscall_mode is NONE (vsyscall=none), and so does vmsight. The
 * mode's enum is anonymous ({ EMULATE, XONLY, NONE }); its NONE value is
 * taken from BTF, from the enum that also names XONLY. 32-bit processes
 * (no MM_CONTEXT_HAS_VSYSCALL) are not told apart yet.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_DEPTH 32
#define MAX_NODES 200000
#define MAX_VMAS 1000000

static bool is_node(uint64_t e)
{
	return (e & 3) == 2 && e > 4096;
}

struct frame {
	uint64_t entry, min, max;
};

/* An area, about 4 KiB with its name: the list's growth counts
 * against the memory cap (vms_grow), whatever MAX_VMAS allows. */
static int add_vma(struct vms_ctx *ctx, struct vms_vma_list *l, uint64_t addr,
		   uint64_t start, uint64_t end)
{
	int err;

	if ((err = vms_grow(ctx, &l->v, &l->cap, l->n, sizeof(*l->v), 64,
			    MAX_VMAS)))
		return err != -E2BIG ? err
				     : vms_err(ctx, -E2BIG, LAYER,
					       "more than %d areas", MAX_VMAS);
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].addr = addr;
	l->v[l->n].start = start;
	l->v[l->n].end = end;
	l->n++;
	return 0;
}

static int walk_one(struct vms_kernel *k, uint64_t mm, struct frame *st,
		    int *sp, int cap, struct vms_addrset *seen,
		    uint32_t *nodes, struct vms_vma_list *out);

/* Collect leaf entries that check out as VMAs of @mm. */
static int walk_tree(struct vms_kernel *k, uint64_t mm, uint64_t root,
		     struct vms_vma_list *out)
{
	struct frame st[MAX_DEPTH * 16 + 16];
	struct vms_addrset seen;
	int sp = 0, ret = 0;
	uint32_t nodes = 0;

	vms_addrset_init(&seen);
	st[sp++] = (struct frame){ root, 0, UINT64_MAX };
	while (sp && !ret)
		ret = walk_one(k, mm, st, &sp, (int)VMS_ARRAY_SIZE(st), &seen,
			       &nodes, out);
	vms_addrset_fini(&seen);
	return ret;
}

/* Pop one node of the walk and push its children (or collect its
 * entries, for a leaf). */
static int walk_one(struct vms_kernel *k, uint64_t mm, struct frame *st,
		    int *sp, int cap, struct vms_addrset *seen,
		    uint32_t *nodes, struct vms_vma_list *out)
{
	const struct vms_layout *l = &k->l;
	{
		struct frame f = st[--*sp];
		uint64_t node = f.entry & ~0xffull, lo = f.min;
		int64_t type = (int64_t)((f.entry >> 3) & 0xf);
		size_t npiv, nslot, poff, soff;
		uint64_t piv[32], slot[32];
		bool leaf = type == l->mt_leaf;
		int err;

		if (f.min == 0 && f.max == UINT64_MAX && !is_node(f.entry)) {
			/* A root that is an entry itself covers index 0
			 * only: never a VMA. */
			return 0;
		}
		if (++*nodes > MAX_NODES)
			return vms_err_at(k->ctx, -E2BIG, LAYER, node,
					  "maple tree of mm %#llx has more "
					  "than %d nodes",
					  (unsigned long long)mm, MAX_NODES);
		if (!vms_is_kernel_addr(k, node))
			return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					  "maple node %#llx is not a kernel "
					  "address", (unsigned long long)node);
		err = vms_addrset_add(seen, node);
		if (err <= 0)
			return err ? err
				   : vms_err_at(k->ctx, -ELOOP, LAYER, node,
						"maple tree of mm %#llx reaches "
						"node %#llx twice",
						(unsigned long long)mm,
						(unsigned long long)node);
		if (type == l->mt_arange) {
			npiv = l->ma64_npiv, nslot = l->ma64_nslot;
			poff = l->ma64_pivot, soff = l->ma64_slot;
		} else if (type == l->mt_range || leaf) {
			npiv = l->mr64_npiv, nslot = l->mr64_nslot;
			poff = l->mr64_pivot, soff = l->mr64_slot;
		} else {
			return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					  "maple node %#llx has type %lld, not "
					  "one an mm tree uses",
					  (unsigned long long)node,
					  (long long)type);
		}
		if ((err = vms_kernel_read(k, node + poff, piv, 8 * npiv)) ||
		    (err = vms_kernel_read(k, node + soff, slot, 8 * nslot)))
			return err;
		for (size_t i = 0; i < nslot; i++) {
			uint64_t hi = i < npiv ? vms_le64(&piv[i]) : f.max;
			uint64_t e = vms_le64(&slot[i]);

			if (i && i < npiv && !hi)
				break; /* end of this node's data */
			if (hi < lo || hi > f.max)
				break; /* out of order: stop trusting it */
			if (e && leaf) {
				if ((err = add_vma(k->ctx, out, e, lo, hi)))
					return err;
			} else if (e && !leaf) {
				if (*sp >= cap)
					return vms_err_at(k->ctx, -E2BIG, LAYER,
							  node,
							  "maple tree too "
							  "deep or wide");
				st[(*sp)++] = (struct frame){ e, lo, hi };
			}
			if (hi >= f.max)
				break;
			lo = hi + 1;
		}
	}
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct vms_vma *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Fill flags, offset, file identity and name of a checked area. */
static int describe(struct vms_kernel *k, uint64_t *root,
		    uint64_t special_fn, const uint64_t brk[2],
		    uint64_t start_stack, struct vms_vma *v)
{
	const struct vms_layout *l = &k->l;
	uint64_t file, ops, pgoff;
	int err;

	if ((err = vms_kernel_read_u64(k, v->addr + l->vma_flags, &v->flags)) ||
	    (err = vms_kernel_read_u64(k, v->addr + l->vma_pgoff, &pgoff)) ||
	    (err = vms_kernel_read_u64(k, v->addr + l->vma_file, &file)) ||
	    (err = vms_kernel_read_u64(k, v->addr + l->vma_ops, &ops)))
		return err;
	if (file) {
		struct vms_file_ref f;
		uint64_t sb;
		uint8_t b[4];
		if (!vms_is_kernel_addr(k, file))
			return vms_err_at(k->ctx, -EBADMSG, LAYER, v->addr,
					  "area %#llx: file pointer %#llx",
					  (unsigned long long)v->start,
					  (unsigned long long)file);
		/* Paths end at init's namespace root, found on first use. */
		if (!*root && (err = vms_ns_root(k, root)))
			return err;
		if ((err = vms_file_ref_read(k, file, &f)) ||
		    (err = vms_kernel_read_u64(k, f.inode + l->inode_ino,
					       &v->inode)) ||
		    (err = vms_kernel_read_u64(k, f.inode + l->inode_sb,
					       &sb)) ||
		    (err = vms_kernel_read(k, sb + l->sb_dev, b, 4)) ||
		    (err = vms_path_d_path(k, f.mnt, f.dentry, *root, v->name,
					   sizeof(v->name))))
			return err;
		v->dev = vms_le32(b);
		v->offset = pgoff << 12;
		return 0;
	}
	if (ops && special_fn) {
		uint64_t fn, priv, name;
		if (!vms_kernel_read_u64(k, ops + l->vmops_name, &fn) &&
		    fn == special_fn &&
		    !vms_kernel_read_u64(k, v->addr + l->vma_private, &priv) &&
		    !vms_kernel_read_u64(k, priv + l->spec_name, &name)) {
			vms_kernel_read_str(k, name, v->name, 64);
			return 0;
		}
		vms_err_clear(k->ctx);
	}
	if (v->start <= brk[1] && v->end >= brk[0])
		strcpy(v->name, "[heap]");
	else if (v->start <= start_stack && v->end >= start_stack)
		strcpy(v->name, "[stack]");
	return 0;
}

static bool gate_shown(struct vms_kernel *k)
{
	uint64_t mode_va;
	uint8_t b[4];

	if (!k->l.have_vsyscall_none ||
	    vms_kernel_sym(k, "vsyscall_mode", &mode_va) ||
	    vms_kernel_read(k, mode_va, b, 4)) {
		vms_err_clear(k->ctx);
		return false;
	}
	return (int32_t)vms_le32(b) != k->l.vsyscall_none;
}

int vms_vma_collect(struct vms_kernel *k, const struct vms_task *t,
		    struct vms_vma_list *ret)
{
	const struct vms_layout *l;
	uint64_t mm = t->mm, root, ns_root = 0, special_fn = 0, gate, brk[2];
	uint64_t start_stack;
	struct vms_vma_list out = { 0 };
	size_t kept = 0;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (!mm)
		return 0; /* kernel threads have no address space */
	if ((err = vms_layout_resolve_maps(k->ctx, k->btf, &k->l)))
		return err;
	l = &k->l;
	if (!vms_is_kernel_addr(k, mm))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, t->addr,
				  "pid %d: mm pointer %#llx", t->pid,
				  (unsigned long long)mm);
	if ((err = vms_kernel_read_u64(k, mm + l->mm_mt_root, &root)) ||
	    (err = vms_kernel_read_u64(k, mm + l->mm_start_brk, &brk[0])) ||
	    (err = vms_kernel_read_u64(k, mm + l->mm_brk, &brk[1])) ||
	    (err = vms_kernel_read_u64(k, mm + l->mm_start_stack,
				       &start_stack)) ||
	    (err = walk_tree(k, mm, root, &out)))
		goto fail;
	if (vms_kernel_sym(k, "special_mapping_name", &special_fn))
		special_fn = 0;
	vms_err_clear(k->ctx);
	for (size_t i = 0; i < out.n; i++) {
		struct vms_vma *v = &out.v[i];
		uint64_t s, e, vmm;
		/* Racing a running guest (vms_torn), an area unmapped or
		 * changed under the read is left out with a warning. */
		if ((err = vms_kernel_read_u64(k, v->addr + l->vma_start, &s)) ||
		    (err = vms_kernel_read_u64(k, v->addr + l->vma_end, &e)) ||
		    (err = vms_kernel_read_u64(k, v->addr + l->vma_mm, &vmm))) {
			if (vms_torn(k->ctx, err, "pid %d's area %#llx",
				     t->pid, (unsigned long long)v->start))
				continue;
			goto fail;
		}
		if (vmm != mm || s != v->start || !e || e - 1 != v->end) {
			vms_log(k->ctx, VMS_LOG_WARN,
				"pid %d: maple slot %#llx-%#llx holds %#llx, "
				"which is not that area of this mm; skipped",
				t->pid, (unsigned long long)v->start,
				(unsigned long long)v->end,
				(unsigned long long)v->addr);
			continue;
		}
		v->end = e;
		if ((err = describe(k, &ns_root, special_fn, brk,
				    start_stack, v))) {
			if (vms_torn(k->ctx, err, "pid %d's area %#llx",
				     t->pid, (unsigned long long)v->start))
				continue;
			goto fail;
		}
		out.v[kept++] = *v;
	}
	out.n = kept;
	vms_qsort(out.v, out.n, sizeof(*out.v), cmp_start);
	/* The vsyscall gate area (arch/x86/entry/vsyscall/vsyscall_64.c). */
	if (gate_shown(k) && !vms_kernel_sym(k, "gate_vma", &gate)) {
		uint64_t s = 0, e = 0, fl = 0;
		if (!vms_kernel_read_u64(k, gate + l->vma_start, &s) &&
		    !vms_kernel_read_u64(k, gate + l->vma_end, &e) &&
		    !vms_kernel_read_u64(k, gate + l->vma_flags, &fl) && s &&
		    e > s) {
			if ((err = add_vma(k->ctx, &out, gate, s, e)))
				goto fail;
			out.v[out.n - 1].flags = fl;
			strcpy(out.v[out.n - 1].name, "[vsyscall]");
		}
	}
	vms_err_clear(k->ctx);
	*ret = out;
	return 0;
fail:
	free(out.v);
	return err;
}

void vms_vma_list_free(struct vms_vma_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
