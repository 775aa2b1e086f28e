/* SPDX-License-Identifier: MIT */
/*
 * Run queues: the scheduler's own view of the tasks that want a CPU.
 *
 * Each possible CPU has a struct rq, the per-CPU variable runqueues
 * placed at __per_cpu_offset[cpu]. Its running task is rq.curr (rq.idle
 * when the CPU has nothing to do). Its queued fair-class tasks are on
 * rq.cfs_tasks, linked by task_struct.se.group_node: every queued task
 * entity, whatever task group it belongs to (account_entity_enqueue() in
 * kernel/sched/fair.c, unchanged from v3.x to v6.12). Its queued
 * real-time tasks are on rq.rt.active.queue[prio], linked by
 * sched_rt_entity.run_list; with CONFIG_RT_GROUP_SCHED an entity there
 * may be a group, whose own rt_rq (my_q) holds its tasks.
 *
 * A task hidden from the task list and the pid table must still be on a
 * run queue to run at all, which is what makes this view worth having.
 * Its queued deadline tasks are in the rbtree rq.dl.root, by
 * task_struct.dl.rb_node; the deadline servers that the kernel embeds
 * in the rq itself (rq.fair_server, v6.8+) share the tree and are not
 * tasks. sched_ext's dispatch queues (v6.12+, CONFIG_SCHED_CLASS_EXT,
 * not built into Debian's 6.12) are not walked: its tasks are seen
 * while they run, through rq.curr.
 *
 * Everything is guest data: the CPU count is bounded, every list and
 * the tree are walked with cycle detection and a bound, each list
 * node's prev must point back at the node before it, and each tree
 * node's parent at its parent.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_QUEUED (1u << 22)	/* PID_MAX_LIMIT: tasks on one run queue */
#define MAX_RT_DEPTH 8		/* nested real-time task groups */

/* An optional symbol: true with its address, false if kallsyms lacks
 * it (no error is recorded). */
static bool opt_sym(struct vms_kernel *k, const char *name, uint64_t *ret)
{
	int64_t i = vms_ksyms_lookup(&k->ks, name);

	if (i >= 0)
		*ret = k->ks.addr[i];
	return i >= 0;
}

int vms_sched_runqueues(struct vms_kernel *k, struct vms_rq *ret, size_t max,
			size_t *ret_n)
{
	uint64_t rq, offs_va, ncpu_va = 0, mask_va, *offs, *mask;
	uint32_t ncpu = 1;
	size_t n = 0;
	uint8_t b[4];
	int err;

	*ret_n = 0;
	if ((err = vms_kernel_sym(k, "runqueues", &rq)))
		return err;
	/* A uniprocessor kernel has no per-CPU offsets: runqueues is an
	 * ordinary variable. */
	if (!opt_sym(k, "__per_cpu_offset", &offs_va)) {
		if (!max)
			return -ERANGE;
		ret[0] = (struct vms_rq){ .addr = rq, .cpu = 0 };
		*ret_n = 1;
		return 0;
	}
	/* nr_cpu_ids is a constant on NR_CPUS=1 builds, else a variable
	 * bounding the possible CPUs. */
	if (opt_sym(k, "nr_cpu_ids", &ncpu_va)) {
		if ((err = vms_kernel_read(k, ncpu_va, b, 4)))
			return err;
		ncpu = vms_le32(b);
	}
	if (!ncpu || ncpu > VMS_MAX_RQS)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, ncpu_va,
				  "nr_cpu_ids is %u (more than %u, or none)",
				  ncpu, VMS_MAX_RQS);
	offs = malloc(8ull * ncpu);
	mask = calloc((ncpu + 63) / 64, 8);
	if (!offs || !mask) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = vms_kernel_read(k, offs_va, offs, 8ull * ncpu)))
		goto out;
	/* The possible-CPU mask (__cpu_possible_mask since v4.5,
	 * c4c54dd1caf1); without it, every CPU below nr_cpu_ids. */
	if (opt_sym(k, "__cpu_possible_mask", &mask_va)) {
		if ((err = vms_kernel_read(k, mask_va, mask,
					   8ull * ((ncpu + 63) / 64))))
			goto out;
	} else {
		memset(mask, 0xff, 8ull * ((ncpu + 63) / 64));
	}
	for (uint32_t cpu = 0; cpu < ncpu; cpu++) {
		uint64_t off = vms_le64(&offs[cpu]), va = rq + off;
		bool dup = false;

		if (!(vms_le64(&mask[cpu / 64]) >> (cpu % 64) & 1))
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = ret[i].addr == va;
		if (dup)
			continue;
		if (!vms_is_kernel_addr(k, va)) {
			err = vms_err_at(k->ctx, -EBADMSG, LAYER,
					 offs_va + 8ull * cpu,
					 "CPU %u's run queue %#llx is not a "
					 "kernel address", cpu,
					 (unsigned long long)va);
			goto out;
		}
		if (n == max) {
			err = vms_err(k->ctx, -ERANGE, LAYER,
				      "more than %zu run queues", max);
			goto out;
		}
		ret[n++] = (struct vms_rq){ .addr = va, .cpu = cpu };
	}
	*ret_n = n;
out:
	free(offs);
	free(mask);
	return err;
}

struct rq_walk {
	struct vms_kernel *k;
	int (*fn)(void *arg, uint64_t task, enum vms_rq_how how);
	void *arg;
	uint32_t count;		/* tasks visited on this run queue */
};

/* Every node of the list at @head; @fn gets the node. */
static int list_each(struct rq_walk *w, uint64_t head, const char *what,
		     int (*fn)(struct rq_walk *w, uint64_t node, int depth),
		     int depth)
{
	struct vms_kernel *k = w->k;
	struct vms_addrset seen;
	uint64_t prev = head, node, back;
	int err;

	vms_addrset_init(&seen);
	err = vms_kernel_read_u64(k, head + k->l.list_next, &node);
	while (!err && node != head) {
		if ((err = vms_walk_visit(k, &seen, &w->count, MAX_QUEUED,
					  node, what)) ||
		    (err = vms_kernel_read_u64(k, node + k->l.list_prev,
					       &back)))
			break;
		if (back != prev) {
			err = vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					 "%s: node %#llx points back at %#llx, "
					 "not at %#llx", what,
					 (unsigned long long)node,
					 (unsigned long long)back,
					 (unsigned long long)prev);
			break;
		}
		if ((err = fn(w, node, depth)))
			break;
		prev = node;
		err = vms_kernel_read_u64(k, node + k->l.list_next, &node);
	}
	vms_addrset_fini(&seen);
	return err;
}

static int task_at(struct rq_walk *w, uint64_t task, enum vms_rq_how how)
{
	if (!vms_is_kernel_addr(w->k, task))
		return vms_err_at(w->k->ctx, -EBADMSG, LAYER, task,
				  "run queue entry %#llx is not a kernel "
				  "address", (unsigned long long)task);
	return w->fn(w->arg, task, how);
}

static int fair_node(struct rq_walk *w, uint64_t node, int depth)
{
	(void)depth;
	return task_at(w, node - w->k->l.task_se_group, VMS_RQ_FAIR);
}

static int rt_queues(struct rq_walk *w, uint64_t rt_rq, int depth);

static int rt_node(struct rq_walk *w, uint64_t node, int depth)
{
	const struct vms_layout *l = &w->k->l;
	uint64_t ent = node - l->rtse_run_list, my_q = 0;
	int err;

	if (l->rtse_my_q != VMS_NO_MEMBER &&
	    (err = vms_kernel_read_u64(w->k, ent + l->rtse_my_q, &my_q)))
		return err;
	if (my_q)
		return rt_queues(w, my_q, depth + 1);
	return task_at(w, ent - l->task_rt, VMS_RQ_RT);
}

/* The priority lists of the rt_rq at @rt_rq. */
static int rt_queues(struct rq_walk *w, uint64_t rt_rq, int depth)
{
	struct vms_kernel *k = w->k;
	uint64_t base = rt_rq + k->l.rtrq_queue, *heads;
	int err;

	if (depth > MAX_RT_DEPTH)
		return vms_err_at(k->ctx, -ELOOP, LAYER, rt_rq,
				  "real-time task groups nest deeper than %d "
				  "at rt_rq %#llx", MAX_RT_DEPTH,
				  (unsigned long long)rt_rq);
	if (!vms_is_kernel_addr(k, rt_rq))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, rt_rq,
				  "rt_rq %#llx is not a kernel address",
				  (unsigned long long)rt_rq);
	if (!(heads = malloc(16 * k->l.rt_nqueue)))
		return -ENOMEM;
	/* Read every list head at once: nearly all are empty. */
	err = vms_kernel_read(k, base, heads, 16 * k->l.rt_nqueue);
	for (size_t i = 0; !err && i < k->l.rt_nqueue; i++) {
		uint64_t head = base + 16 * i;
		if (vms_le64((const uint8_t *)heads + 16 * i +
			     k->l.list_next) == head)
			continue;
		err = list_each(w, head, "a real-time run queue", rt_node,
				depth);
	}
	free(heads);
	return err;
}

/* The deadline tree of the rq at @rq, depth first with a bounded stack
 * of (node, its parent). */
static int dl_tree(struct rq_walk *w, uint64_t rq)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t stack[VMS_RB_MAX_DEPTH][2], root;
	struct vms_addrset seen;
	size_t sp = 0;
	int err;

	if ((err = vms_kernel_read_u64(k, rq + l->rq_dl_root, &root)) ||
	    !root)
		return err;
	vms_addrset_init(&seen);
	stack[sp][0] = root;
	stack[sp++][1] = 0;
	while (!err && sp) {
		uint64_t node, parent, pc, kid[2];
		sp--;
		node = stack[sp][0];
		parent = stack[sp][1];
		if ((err = vms_walk_visit(k, &seen, &w->count, MAX_QUEUED,
					  node, "a deadline run queue")) ||
		    (err = vms_kernel_read_u64(k, node + l->rb_parent, &pc)) ||
		    (err = vms_kernel_read_u64(k, node + l->rb_left, &kid[0])) ||
		    (err = vms_kernel_read_u64(k, node + l->rb_right, &kid[1])))
			break;
		/* The low two bits hold the colour. */
		if ((pc & ~3ull) != parent) {
			err = vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					 "a deadline run queue: node %#llx "
					 "names %#llx as its parent, not "
					 "%#llx", (unsigned long long)node,
					 (unsigned long long)(pc & ~3ull),
					 (unsigned long long)parent);
			break;
		}
		/* A deadline server lives inside the rq, a task outside. */
		if (node - l->dlse_rb - rq >= l->rq_size &&
		    (err = task_at(w, node - l->task_dl_rb, VMS_RQ_DL)))
			break;
		for (int i = 0; i < 2; i++) {
			if (!kid[i])
				continue;
			if (sp == VMS_RB_MAX_DEPTH) {
				err = vms_err_at(k->ctx, -E2BIG, LAYER, node,
						 "a deadline run queue deeper "
						 "than %d at %#llx",
						 VMS_RB_MAX_DEPTH,
						 (unsigned long long)node);
				break;
			}
			stack[sp][0] = kid[i];
			stack[sp++][1] = node;
		}
	}
	vms_addrset_fini(&seen);
	return err;
}

int vms_sched_rq_each(struct vms_kernel *k, uint64_t rq,
		      int (*fn)(void *arg, uint64_t task,
				enum vms_rq_how how),
		      void *arg)
{
	struct rq_walk w = { .k = k, .fn = fn, .arg = arg };
	uint64_t curr, idle;
	int err;

	if ((err = vms_layout_resolve_sched(k->ctx, k->btf, &k->l)) ||
	    (err = vms_kernel_read_u64(k, rq + k->l.rq_curr, &curr)) ||
	    (err = vms_kernel_read_u64(k, rq + k->l.rq_idle, &idle)))
		return err;
	if (curr && curr != idle && (err = task_at(&w, curr, VMS_RQ_RUNNING)))
		return err;
	if (k->l.rq_cfs_tasks != VMS_NO_MEMBER &&
	    (err = list_each(&w, rq + k->l.rq_cfs_tasks, "a fair run queue",
			     fair_node, 0)))
		return err;
	if ((err = rt_queues(&w, rq + k->l.rq_rt, 0)))
		return err;
	return dl_tree(&w, rq);
}
