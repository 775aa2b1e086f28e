/* SPDX-License-Identifier: MIT */
/*
 * Cross-view checks for hidden objects.
 *
 * hidden_tasks: the task list (init_task.tasks, thread-group leaders),
 * each process's thread list (signal->thread_head) and the pid table of
 * the initial pid namespace (init_pid_ns.idr, which /proc lists from)
 * hold the same tasks. A task in the pid table but on no list was
 * unlinked, the classic way to hide from ps-style walkers; a task on the
 * lists but not in the pid table is hidden from /proc.
 *
 * hidden_modules: the module list (what lsmod and /proc/modules show),
 * module_kset (/sys/module) and the struct modules carved from module
 * memory (vms_mod_carve) hold the same loaded modules. A module that
 * removed itself from the list often keeps its kobject; one that left
 * both still has its struct module in its own memory. A listed module
 * whose struct is not in module memory is reported too: the list then
 * holds something the loader did not put there.
 *
 * Every list and tree is walked with a bound and cycle detection; the
 * xarray walk checks each node's shift against its parent's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define MAX_PIDS (1u << 22)	/* PID_MAX_LIMIT */
#define MAX_XA_NODES (1u << 20)

struct xa_walk {
	struct vms_kernel *k;
	const char *what;
	struct vms_addrset nodes;
	uint32_t nnodes, entries;
	int (*fn)(void *arg, uint64_t entry);
	void *arg;
};

static bool xa_internal(uint64_t e)
{
	return (e & 3) == 2;
}

/* Visit every non-internal entry under @entry, a slot of a node whose
 * shift is @parent_shift (or the head, with parent_shift < 0). The depth
 * is bounded by the shift check: each level is XA_CHUNK_SHIFT lower. */
static int xa_visit(struct xa_walk *x, uint64_t entry, int parent_shift)
{
	struct vms_kernel *k = x->k;
	const struct vms_layout *l = &k->l;
	unsigned int bits = (unsigned int)__builtin_ctzll(l->xa_chk_nslots);
	uint64_t node, slots[64];
	uint8_t shift;
	int err;

	if (!entry)
		return 0;
	if (!xa_internal(entry)) {
		if (++x->entries > MAX_PIDS)
			return vms_err(k->ctx, -E2BIG, LAYER,
				       "%s has over %u entries", x->what,
				       MAX_PIDS);
		return x->fn(x->arg, entry);
	}
	if (entry <= 4096)
		return 0; /* sibling, retry or zero entry: no pointer */
	node = entry - 2;
	if ((err = vms_walk_visit(k, &x->nodes, &x->nnodes, MAX_XA_NODES,
				  node, x->what)) ||
	    (err = vms_kernel_read(k, node + l->xa_chk_shift, &shift, 1)))
		return err;
	if (shift > 63 || shift % bits ||
	    (parent_shift >= 0 && shift + bits != (unsigned int)parent_shift))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
				  "%s: node %#llx has shift %u under a node "
				  "of shift %d", x->what,
				  (unsigned long long)node, shift,
				  parent_shift);
	if ((err = vms_kernel_read(k, node + l->xa_chk_slots, slots,
				   l->xa_chk_nslots * 8)))
		return err;
	for (size_t i = 0; i < l->xa_chk_nslots; i++) {
		uint64_t e = vms_le64((const uint8_t *)&slots[i]);
		if (xa_internal(e) && e > 4096 && !shift)
			return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					  "%s: leaf node %#llx points at a "
					  "node", x->what,
					  (unsigned long long)node);
		if ((err = xa_visit(x, e, shift)))
			return err;
	}
	return 0;
}

int vms_chk_xa_each(struct vms_kernel *k, uint64_t head, const char *what,
		    int (*fn)(void *arg, uint64_t entry), void *arg)
{
	struct xa_walk x = { .k = k, .what = what, .fn = fn, .arg = arg };
	int err;

	vms_addrset_init(&x.nodes);
	err = xa_visit(&x, head, -1);
	vms_addrset_fini(&x.nodes);
	return err;
}

struct tasks_view {
	struct vms_chk *c;
	struct vms_addrset listed, in_idr;
	uint64_t *all;		/* @listed, in the order the lists gave */
	size_t nall, cap;
};

/* A task seen on the task or thread lists, recorded once. */
static int list_task(struct tasks_view *x, uint64_t task)
{
	int r = vms_addrset_add(&x->listed, task);

	if (r <= 0)
		return r;
	if (x->nall == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 256;
		uint64_t *n = realloc(x->all, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		x->all = n;
		x->cap = cap;
	}
	x->all[x->nall++] = task;
	return 0;
}

static int task_desc(struct vms_kernel *k, uint64_t task, int32_t *pid,
		     int32_t *tgid, char *comm, size_t len)
{
	const struct vms_layout *l = &k->l;
	uint8_t b[4];
	int err;

	if ((err = vms_kernel_read(k, task + l->task_pid, b, 4)))
		return err;
	*pid = (int32_t)vms_le32(b);
	if ((err = vms_kernel_read(k, task + l->task_tgid, b, 4)))
		return err;
	*tgid = (int32_t)vms_le32(b);
	if (len > l->task_comm_len + 1)
		len = l->task_comm_len + 1;
	vms_kernel_read_str(k, task + l->task_comm, comm, len);
	return 0;
}

/* A struct pid of the table: its PIDTYPE_PID task must be listed. */
static int pid_entry(void *arg, uint64_t pid)
{
	struct tasks_view *x = arg;
	struct vms_kernel *k = x->c->k;
	const struct vms_layout *l = &k->l;
	uint64_t first, task;
	int32_t nr, tgid;
	char comm[64], object[128], evidence[256];
	int err;

	if (!vms_is_kernel_addr(k, pid))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, pid,
				  "pid table entry %#llx is not a kernel "
				  "pointer", (unsigned long long)pid);
	if ((err = vms_kernel_read_u64(k, pid + l->pid_tasks, &first)))
		return err;
	if (!first)
		return 0; /* a pid with no task: a session or group id */
	task = first - l->task_pid_links;
	if ((err = vms_addrset_add(&x->in_idr, task)) < 0)
		return err;
	if (vms_addrset_has(&x->listed, task))
		return 0;
	if ((err = task_desc(k, task, &nr, &tgid, comm, sizeof(comm))))
		return err;
	snprintf(object, sizeof(object), "pid %d (%s)", nr, comm);
	snprintf(evidence, sizeof(evidence),
		 nr == tgid ? "in the pid table (what /proc lists) but not "
			      "on the task list"
			    : "thread of process %d: in the pid table but "
			      "not on its thread list",
		 tgid);
	return vms_chk_emit(x->c, object, evidence, task, 0, "");
}

int vms_check_hidden_tasks(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	struct tasks_view x = { .c = c };
	struct vms_task_walk w, tw;
	struct vms_task t, th;
	uint64_t head;
	int64_t ns;
	int r, err;

	if ((err = vms_layout_resolve_checks(k->ctx, k->btf, &k->l)))
		return err;
	ns = vms_ksyms_lookup(&k->ks, "init_pid_ns");
	if (ns < 0)
		return vms_err(k->ctx, -ENOENT, LAYER, "no init_pid_ns symbol");
	vms_addrset_init(&x.listed);
	vms_addrset_init(&x.in_idr);
	/* View 1 and 2: the task list, and each process's threads. */
	if ((err = vms_task_walk_init(&w, k)))
		goto out;
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		if ((err = vms_thread_walk_init(&tw, k, t.signal)))
			break;
		while ((r = vms_task_walk_next(&tw, &th)) == 1 &&
		       !(err = list_task(&x, th.addr)))
			;
		vms_task_walk_fini(&tw);
		/* A leader whose thread list lacks it still counts. */
		if (err || r < 0 || (err = list_task(&x, t.addr)))
			break;
	}
	vms_task_walk_fini(&w);
	if (!err && r < 0)
		err = r;
	if (err)
		goto out;
	/* View 3: the pid table. */
	if ((err = vms_kernel_read_u64(k, k->ks.addr[ns] + k->l.pidns_xa_head,
				       &head)) ||
	    (err = vms_chk_xa_each(k, head, "the pid table", pid_entry, &x)))
		goto out;
	/* Listed tasks that /proc cannot see. */
	for (size_t i = 0; i < x.nall && err >= 0; i++) {
		int32_t nr, tgid;
		char comm[64], object[128];
		if (vms_addrset_has(&x.in_idr, x.all[i]))
			continue;
		if ((err = task_desc(k, x.all[i], &nr, &tgid, comm,
				     sizeof(comm))))
			break;
		snprintf(object, sizeof(object), "pid %d (%s)", nr, comm);
		err = vms_chk_emit(c, object,
				   "on the task list but not in the pid table "
				   "(hidden from /proc)", x.all[i], 0, "");
	}
out:
	free(x.all);
	vms_addrset_fini(&x.listed);
	vms_addrset_fini(&x.in_idr);
	return err;
}

int vms_check_hidden_modules(struct vms_chk *c)
{
	int err = vms_chk_load_modules(c);

	for (size_t i = 0; !err && i < c->nmods; i++) {
		const struct vms_chk_mod *m = &c->mods[i];
		const char *in[3], *out[3];
		size_t nin = 0, nout = 0;
		char object[96], evidence[256];
		if (m->listed && m->in_sysfs && m->in_memory)
			continue;
		*(m->listed ? &in[nin++] : &out[nout++]) = "on the module list";
		*(m->in_sysfs ? &in[nin++] : &out[nout++]) =
			"in /sys/module (module_kset)";
		*(m->in_memory ? &in[nin++] : &out[nout++]) =
			"in module memory (its struct module)";
		snprintf(object, sizeof(object), "module %s", m->name);
		snprintf(evidence, sizeof(evidence), "%s%s%s but not %s%s%s",
			 in[0], nin > 1 ? " and " : "", nin > 1 ? in[1] : "",
			 out[0], nout > 1 ? " nor " : "",
			 nout > 1 ? out[1] : "");
		err = vms_chk_emit(c, object, evidence, m->addr, 0, m->name);
		err = err > 0 ? 0 : err;
	}
	return err;
}
