/* SPDX-License-Identifier: MIT */
/*
 * Cross-view checks for hidden objects.
 *
 * hidden_tasks: the task list (init_task.tasks, thread-group leaders),
 * each process's thread list (signal->thread_head) and the pid table of
 * the initial pid namespace (init_pid_ns.idr, which /proc lists from)
 * hold the same tasks. A task in the pid table but on no list was
 * unlinked, the classic way to hide from ps-style walkers; a task on the
 * lists but not in the pid table is hidden from /proc. A rootkit that
 * unlinks a task from all of them must still leave it on a run queue
 * for it to run, and cannot take back the struct pids that other
 * processes' open files hold (pidfds, /proc/PID files, F_SETOWN owners,
 * unix sockets' peers): those two views reveal tasks (vms_sched_rq_each,
 * vms_file_pidrefs) but, holding only some tasks, accuse none. The file
 * view follows the files of every task found, in any view, until no new
 * task appears; each files_struct is read once.
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
#define MAX_SIGHTINGS (4 * MAX_PIDS)	/* one per task and view */

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

/* One task seen in one view. */
struct sighting {
	uint64_t task;
	uint32_t seq;		/* position in the order of discovery */
	uint8_t view;		/* enum vms_task_view */
	uint8_t how;		/* run queue: vms_rq_how; file: pidref kind */
	int32_t where;		/* run queue: the CPU; file: holder's pid */
};

struct tasks_view {
	struct vms_chk *c;
	struct sighting *s;
	size_t n, cap;
	struct vms_addrset known;	/* every task seen in any view */
	struct vms_addrset in_view[4];	/* seen in view 1 << i */
	uint64_t *order;		/* @known, in the order of discovery */
	size_t norder, order_cap;
	int32_t where;			/* CPU or holder of the view at work */
	size_t nrq, nfiles;		/* run queues and fd tables read */
};

/* Record that @view holds @task. */
static int seen(struct tasks_view *x, uint64_t task, enum vms_task_view view,
		int how)
{
	int r;

	/* Only a task's first sighting in each view is kept: a guest
	 * cannot grow the table with references to one task. */
	if ((r = vms_addrset_add(&x->in_view[__builtin_ctz(view)], task)) <= 0)
		return r;
	if (x->n >= MAX_SIGHTINGS)
		return vms_err(x->c->k->ctx, -E2BIG, LAYER,
			       "the task views hold more than %u sightings",
			       MAX_SIGHTINGS);
	if ((r = vms_grow(x->c->k->ctx, &x->s, &x->cap, x->n, sizeof(*x->s),
			  256, MAX_SIGHTINGS)))
		return r;
	x->s[x->n] = (struct sighting){ .task = task, .seq = (uint32_t)x->n,
					.view = (uint8_t)view,
					.how = (uint8_t)how,
					.where = x->where };
	x->n++;
	if ((r = vms_addrset_add(&x->known, task)) <= 0)
		return r;
	if (x->norder >= MAX_PIDS)
		return vms_err(x->c->k->ctx, -E2BIG, LAYER,
			       "the task views hold more than %u tasks",
			       MAX_PIDS);
	if ((r = vms_grow(x->c->k->ctx, &x->order, &x->order_cap, x->norder,
			  sizeof(*x->order), 256, MAX_PIDS)))
		return r;
	x->order[x->norder++] = task;
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

/* The task whose pid is the struct pid at @pid (its PIDTYPE_PID task),
 * or 0 when no task has it any more. */
static int pid_task(struct vms_kernel *k, uint64_t pid, uint64_t *ret)
{
	uint64_t first;
	int err;

	*ret = 0;
	if (!vms_is_kernel_addr(k, pid))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, pid,
				  "struct pid pointer %#llx is not a kernel "
				  "address", (unsigned long long)pid);
	if ((err = vms_kernel_read_u64(k, pid + k->l.pid_tasks, &first)))
		return err;
	if (first)
		*ret = first - k->l.task_pid_links;
	return 0;
}

/* View 3: an entry of the pid table. */
static int pid_entry(void *arg, uint64_t pid)
{
	struct tasks_view *x = arg;
	uint64_t task;
	int err;

	if ((err = pid_task(x->c->k, pid, &task)))
		return err;
	/* A pid with no task: a session or process group id that outlived
	 * its leader. */
	return task ? seen(x, task, VMS_TV_PIDS, 0) : 0;
}

/* View 4: a task on a run queue. */
static int rq_task(void *arg, uint64_t task, enum vms_rq_how how)
{
	return seen(arg, task, VMS_TV_RUNQ, (int)how);
}

/* A view the kernel cannot give (a symbol or type it lacks) is skipped
 * with a warning, and the check goes on with the others. */
static int view_missing(struct vms_kernel *k, int err, const char *view)
{
	if (err != -ENOENT)
		return err;
	vms_log(k->ctx, VMS_LOG_WARN, "hidden_tasks: no %s view: %s", view,
		k->ctx->err.msg);
	vms_err_clear(k->ctx);
	return 0;
}

static int runqueue_view(struct tasks_view *x)
{
	struct vms_kernel *k = x->c->k;
	struct vms_rq *rqs = malloc(VMS_MAX_RQS * sizeof(*rqs));
	size_t n = 0;
	int err;

	if (!rqs)
		return -ENOMEM;
	err = vms_sched_runqueues(k, rqs, VMS_MAX_RQS, &n);
	if (!err)
		err = vms_layout_resolve_sched(k->ctx, k->btf, &k->l);
	x->nrq = err ? 0 : n;
	for (size_t i = 0; !err && i < n; i++) {
		x->where = (int32_t)rqs[i].cpu;
		err = vms_sched_rq_each(k, rqs[i].addr, rq_task, x);
	}
	free(rqs);
	return view_missing(k, err, "run-queue");
}

/* View 5: the struct pids that the open files of every task found so
 * far refer to, and so on for the tasks that they reveal. Threads share
 * their files, so each files_struct is read once. */
static int file_view(struct tasks_view *x)
{
	struct vms_kernel *k = x->c->k;
	struct vms_pidref_ops ops;
	struct vms_addrset tables;
	int err;

	if ((err = vms_pidref_ops_init(k, &ops)))
		return view_missing(k, err, "open-file");
	vms_addrset_init(&tables);
	for (size_t i = 0; !err && i < x->norder; i++) {
		struct vms_task t = { .addr = x->order[i] };
		struct vms_fd_walk w;
		struct vms_fd fd;
		uint64_t files;
		int32_t tgid;
		char comm[8];
		int r;

		if ((err = vms_kernel_read_u64(k, t.addr + k->l.task_files,
					       &files)))
			break;
		if (!files || (err = vms_addrset_add(&tables, files)) <= 0)
			continue;
		if ((err = task_desc(k, t.addr, &t.pid, &tgid, comm,
				     sizeof(comm))) ||
		    (err = vms_fd_walk_init(&w, k, &t)))
			break;
		w.bare = true;
		x->where = tgid;
		x->nfiles++;
		while ((r = vms_fd_walk_next(&w, &fd)) == 1) {
			struct vms_pidref refs[4];
			int nr = vms_file_pidrefs(k, &ops, fd.file, refs, 4);
			for (int j = 0; j < nr && !err; j++) {
				uint64_t task;
				if (!(err = pid_task(k, refs[j].pid, &task)) &&
				    task)
					err = seen(x, task, VMS_TV_FILES,
						   (int)refs[j].kind);
			}
			if (nr < 0)
				err = nr;
			if (err)
				break;
		}
		if (!err && r < 0)
			err = r;
	}
	vms_addrset_fini(&tables);
	return err;
}

static int by_task(const void *a, const void *b)
{
	const struct sighting *x = a, *y = b;

	if (x->task != y->task)
		return x->task < y->task ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The sightings of one task: x.s[first .. first + n). */
struct group {
	size_t first, n;
	uint32_t seq;		/* when the task was first seen */
};

static int by_seq(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Exit states (include/linux/sched.h, these values since v3.14): a task
 * that is EXIT_DEAD has been released from the lists and the pid table
 * and only waits to leave the CPU for the last time. */
#define EXIT_DEAD 0x0010u

static const char *const ref_names[] = {
	[VMS_PIDREF_PIDFD] = "a pidfd",
	[VMS_PIDREF_PROC] = "a /proc file",
	[VMS_PIDREF_OWNER] = "F_SETOWN",
	[VMS_PIDREF_PEER] = "a socket's peer",
};

/* "@lead A, B and C" (@last " and ") after the @used bytes of @buf. */
static size_t join(char *buf, size_t len, size_t used, const char *lead,
		   const char *const *parts, size_t n, const char *last)
{
	if (used < len)
		used += (size_t)snprintf(buf + used, len - used, "%s", lead);
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 !i ? "" : i + 1 < n ? ", " : last,
					 parts[i]);
	return used;
}

/* The evidence of a cross-view check: "@prefix A and B but not C nor
 * D", the views that hold the object and those that lack it. */
static void in_but_not(char *buf, size_t len, const char *prefix,
		       const char *const *in, size_t nin,
		       const char *const *out, size_t nout)
{
	size_t used = join(buf, len, 0, prefix, in, nin, " and ");

	join(buf, len, used, " but not ", out, nout, " nor ");
}

bool vms_chk_task_hidden(const struct vms_task_seen *t, char *buf,
			 size_t len)
{
	const unsigned int all = VMS_TV_LIST | VMS_TV_PIDS;
	const char *in[4], *out[2];
	size_t nin = 0, nout = 0;
	char runq[64], held[96], prefix[48] = "";

	if ((t->views & all) == all)
		return false;
	/* Seen only on a run queue or through a file, and already
	 * released: an exiting task on its way off the CPU. */
	if (!(t->views & all) && t->exit_state & EXIT_DEAD)
		return false;
	if (t->pid != t->tgid)
		snprintf(prefix, sizeof(prefix), "thread of process %d: ",
			 t->tgid);
	*(t->views & VMS_TV_LIST ? &in[nin++] : &out[nout++]) =
		t->pid == t->tgid ? "on the task list" : "on its thread list";
	*(t->views & VMS_TV_PIDS ? &in[nin++] : &out[nout++]) =
		t->views & VMS_TV_PIDS ? "in the pid table (what /proc lists)"
				       : "in the pid table";
	if (t->views & VMS_TV_RUNQ) {
		snprintf(runq, sizeof(runq),
			 t->rq_how == VMS_RQ_RUNNING
				 ? "running on CPU %d"
				 : "queued to run on CPU %d",
			 t->cpu);
		in[nin++] = runq;
	}
	if (t->views & VMS_TV_FILES) {
		snprintf(held, sizeof(held),
			 "referenced by an open file of pid %d (%s)",
			 t->holder,
			 t->ref_kind >= 0 &&
					 t->ref_kind < (int)VMS_ARRAY_SIZE(
							       ref_names)
				 ? ref_names[t->ref_kind]
				 : "?");
		in[nin++] = held;
	}
	in_but_not(buf, len, prefix, in, nin, out, nout);
	return true;
}

/* Report the task of the sightings @s[0..n) (one task, in the order
 * they were made) if it is hidden. */
static int judge(struct vms_chk *c, const struct sighting *s, size_t n)
{
	struct vms_kernel *k = c->k;
	struct vms_task_seen t = { 0 };
	bool rq = false, file = false;
	char comm[64], object[96], evidence[512];
	uint8_t b[4];
	int err;

	for (size_t i = 0; i < n; i++) {
		t.views |= s[i].view;
		if (s[i].view == VMS_TV_RUNQ && !rq) {
			rq = true;
			t.rq_how = s[i].how;
			t.cpu = s[i].where;
		}
		if (s[i].view == VMS_TV_FILES && !file) {
			file = true;
			t.ref_kind = s[i].how;
			t.holder = s[i].where;
		}
	}
	if ((t.views & (VMS_TV_LIST | VMS_TV_PIDS)) ==
	    (VMS_TV_LIST | VMS_TV_PIDS))
		return 0;
	if ((err = vms_kernel_read(k, s->task + k->l.task_exit_state, b, 4)) ||
	    (err = task_desc(k, s->task, &t.pid, &t.tgid, comm, sizeof(comm))))
		return err;
	t.exit_state = vms_le32(b);
	if (!vms_chk_task_hidden(&t, evidence, sizeof(evidence)))
		return 0;
	snprintf(object, sizeof(object), "pid %d (%s)", t.pid, comm);
	err = vms_chk_emit(c, object, evidence, s->task, 0, "");
	return err > 0 ? 0 : err;
}

static void views_fini(struct tasks_view *x)
{
	free(x->s);
	free(x->order);
	vms_addrset_fini(&x->known);
	for (int i = 0; i < 4; i++)
		vms_addrset_fini(&x->in_view[i]);
}

/* Every view of the tasks, into @x (views_fini() it, even on error). */
static int collect_views(struct vms_chk *c, struct tasks_view *x)
{
	struct vms_kernel *k = c->k;
	struct vms_task_walk w, tw;
	struct vms_task t, th;
	uint64_t head;
	int64_t ns;
	int r, err;

	*x = (struct tasks_view){ .c = c };
	vms_addrset_init(&x->known);
	for (int i = 0; i < 4; i++)
		vms_addrset_init(&x->in_view[i]);
	if ((err = vms_layout_resolve_checks(k->ctx, k->btf, &k->l)))
		return err;
	ns = vms_ksyms_lookup(&k->ks, "init_pid_ns");
	if (ns < 0)
		return vms_err(k->ctx, -ENOENT, LAYER, "no init_pid_ns symbol");
	/* Views 1 and 2: the task list, and each process's threads. */
	if ((err = vms_task_walk_init(&w, k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		if ((err = vms_thread_walk_init(&tw, k, t.signal)))
			break;
		while ((r = vms_task_walk_next(&tw, &th)) == 1 &&
		       !(err = seen(x, th.addr, VMS_TV_LIST, 0)))
			;
		vms_task_walk_fini(&tw);
		/* A leader whose thread list lacks it still counts. */
		if (err || r < 0 || (err = seen(x, t.addr, VMS_TV_LIST, 0)))
			break;
	}
	vms_task_walk_fini(&w);
	if (!err && r < 0)
		err = r;
	/* View 3: the pid table. Views 4 and 5: run queues, open files. */
	if (err ||
	    (err = vms_kernel_read_u64(k, k->ks.addr[ns] + k->l.pidns_xa_head,
				       &head)) ||
	    (err = vms_chk_xa_each(k, head, "the pid table", pid_entry, x)) ||
	    (err = runqueue_view(x)) || (err = file_view(x)))
		return err;
	vms_log(k->ctx, VMS_LOG_INFO,
		"hidden_tasks: %zu tasks: %zu on the lists, %zu in the pid "
		"table, %zu on %zu run queues, %zu referred to from %zu fd "
		"tables", x->norder, x->in_view[0].len, x->in_view[1].len,
		x->in_view[2].len, x->nrq, x->in_view[3].len, x->nfiles);
	return 0;
}

int vms_chk_offlist_tasks(struct vms_chk *c, vms_chk_task_fn fn, void *arg)
{
	struct vms_kernel *k = c->k;
	struct tasks_view x;
	int err = collect_views(c, &x);

	for (size_t i = 0; !err && i < x.norder; i++) {
		uint64_t task = x.order[i];
		int32_t pid, tgid;
		char comm[64];
		uint8_t b[4];
		if (vms_addrset_has(&x.in_view[0], task))
			continue;
		if ((err = vms_kernel_read(k, task + k->l.task_exit_state, b,
					   4)))
			break;
		if (vms_le32(b) & EXIT_DEAD)
			continue;
		if (!(err = task_desc(k, task, &pid, &tgid, comm,
				      sizeof(comm))))
			err = fn(arg, task, pid, comm);
	}
	views_fini(&x);
	return err < 0 ? err : 0;
}

int vms_check_hidden_tasks(struct vms_chk *c)
{
	struct tasks_view x;
	struct group *groups = NULL;
	size_t ngroups = 0;
	int err;

	if ((err = collect_views(c, &x)))
		goto out;
	/* Group the sightings by task, then judge the tasks in the order
	 * they were first seen. */
	vms_qsort(x.s, x.n, sizeof(*x.s), by_task);
	if (!(groups = malloc((x.norder ? x.norder : 1) * sizeof(*groups)))) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, j; i < x.n; i = j) {
		for (j = i + 1; j < x.n && x.s[j].task == x.s[i].task; j++)
			;
		if (ngroups == x.norder)
			break; /* cannot happen: one group per known task */
		groups[ngroups++] = (struct group){ .first = i, .n = j - i,
						    .seq = x.s[i].seq };
	}
	vms_qsort(groups, ngroups, sizeof(*groups), by_seq);
	for (size_t g = 0; !err && g < ngroups; g++)
		err = judge(c, x.s + groups[g].first, groups[g].n);
out:
	free(groups);
	views_fini(&x);
	return err;
}

bool vms_chk_module_hidden(const struct vms_chk_mod *m, char *buf,
			   size_t len)
{
	const char *in[3], *out[3];
	size_t nin = 0, nout = 0;

	if (m->listed && m->in_sysfs && m->in_memory)
		return false;
	*(m->listed ? &in[nin++] : &out[nout++]) = "on the module list";
	*(m->in_sysfs ? &in[nin++] : &out[nout++]) =
		"in /sys/module (module_kset)";
	*(m->in_memory ? &in[nin++] : &out[nout++]) =
		"in module memory (its struct module)";
	in_but_not(buf, len, "", in, nin, out, nout);
	return true;
}

int vms_check_hidden_modules(struct vms_chk *c)
{
	int err = vms_chk_load_modules(c);

	for (size_t i = 0; !err && i < c->nmods; i++) {
		const struct vms_chk_mod *m = &c->mods[i];
		char object[96], evidence[256];
		if (!vms_chk_module_hidden(m, evidence, sizeof(evidence)))
			continue;
		snprintf(object, sizeof(object), "module %s", m->name);
		err = vms_chk_emit(c, object, evidence, m->addr, 0, m->name);
		err = err > 0 ? 0 : err;
	}
	return err;
}
