/* SPDX-License-Identifier: MIT */
/*
 * The task list: init_task.tasks links every thread-group leader
 * (include/linux/sched.h; threads hang off signal_struct instead).
 *
 * The walk is over guest data, so: every node must be a kernel address
 * that translates; each node's prev must point back at the node before
 * it (a torn or forged list is reported, not followed blindly); a node
 * seen twice is a cycle (-ELOOP); more nodes than max_tasks is -E2BIG.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"

/* Task state bits (include/linux/sched.h), stable since v4.14 for the
 * bits /proc reports; TASK_NOLOAD since v4.2 (80ed87c8a9ca) and
 * TASK_RTLOCK_WAIT since v5.15 (cd781d0ce2b7). The letters themselves are
 * read from the guest's task_state_array. */
#define TASK_UNINTERRUPTIBLE 0x0002u
#define TASK_NOLOAD 0x0400u
#define TASK_IDLE (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_RTLOCK_WAIT 0x1000u

static int bad_ptr(struct vms_kernel *k, uint64_t where, uint64_t val,
		   const char *what)
{
	return vms_err_at(k->ctx, -EBADMSG, LAYER, where,
			  "%s %#llx read at %#llx is not a kernel address",
			  what, (unsigned long long)val,
			  (unsigned long long)where);
}

int vms_task_walk_init(struct vms_task_walk *w, struct vms_kernel *k)
{
	uint64_t init;
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	vms_addrset_init(&w->seen);
	err = vms_kernel_sym(k, "init_task", &init);
	if (err)
		return err;
	w->head = init + k->l.task_tasks;
	w->prev = w->head;
	err = vms_kernel_read_u64(k, w->head + k->l.list_next, &w->node);
	if (err)
		return err;
	w->buf = malloc(k->l.task_span_hi - k->l.task_span_lo);
	return w->buf ? 0 : -ENOMEM;
}

void vms_task_walk_fini(struct vms_task_walk *w)
{
	vms_addrset_fini(&w->seen);
	free(w->buf);
	w->buf = NULL;
}

static uint64_t field(const struct vms_task_walk *w, size_t off, size_t size)
{
	const uint8_t *p = w->buf + (off - w->k->l.task_span_lo);
	return size == 8 ? vms_le64(p) : vms_le32(p);
}

static int read_u32(struct vms_kernel *k, uint64_t va, uint32_t *ret)
{
	uint8_t b[4];
	int err = vms_kernel_read(k, va, b, 4);

	if (!err)
		*ret = vms_le32(b);
	return err;
}

static char state_letter(const struct vms_kernel *k, uint32_t state,
			 uint32_t exit_state)
{
	/* fs/proc/array.c: index = fls(state & TASK_REPORT), TASK_REPORT
	 * being the bits below the idle pseudo-state, the array's last. */
	unsigned int report_bits = k->nstates - 2;
	uint32_t s = (state | exit_state) & ((1u << report_bits) - 1);
	unsigned int idx = 0;

	if ((state & TASK_IDLE) == TASK_IDLE)
		return k->state_letters[k->nstates - 1];
	if (state == TASK_RTLOCK_WAIT)
		s = TASK_UNINTERRUPTIBLE;
	while (s) {
		idx++;
		s >>= 1;
	}
	return k->state_letters[idx];
}

int vms_task_walk_next(struct vms_task_walk *w, struct vms_task *t)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t task, back, parent, cred, signal, next;
	uint32_t v;
	int err;

	if (w->done)
		return 0;
	if (w->node == w->head) {
		w->done = true;
		return 0;
	}
	w->done = true; /* until this step succeeds */
	if (w->node < vms_mmu_kernel_half(&k->mmu))
		return bad_ptr(k, w->prev + l->list_next, w->node,
			       "task list pointer");
	err = vms_addrset_add(&w->seen, w->node);
	if (err < 0)
		return err;
	if (!err)
		return vms_err_at(k->ctx, -ELOOP, LAYER, w->node,
				  "the task list loops back to %#llx after %u "
				  "tasks without reaching init_task",
				  (unsigned long long)w->node, w->count);
	if (++w->count > k->ctx->max_tasks)
		return vms_err(k->ctx, -E2BIG, LAYER,
			       "the task list has more than %u tasks "
			       "(raise the bound with max_tasks)",
			       k->ctx->max_tasks);
	task = w->node - l->task_tasks;
	err = vms_kernel_read(k, task + l->task_span_lo, w->buf,
			      l->task_span_hi - l->task_span_lo);
	if (err)
		return err;
	next = field(w, l->task_tasks + l->list_next, 8);
	back = field(w, l->task_tasks + l->list_prev, 8);
	if (back != w->prev)
		vms_log(k->ctx, VMS_LOG_WARN,
			"task %#llx: tasks.prev is %#llx, expected %#llx "
			"(list changing or forged)",
			(unsigned long long)task, (unsigned long long)back,
			(unsigned long long)w->prev);

	memset(t, 0, sizeof(*t));
	t->addr = task;
	t->pid = (int32_t)field(w, l->task_pid, 4);
	t->tgid = (int32_t)field(w, l->task_tgid, 4);
	t->kthread = field(w, l->task_mm, 8) == 0;
	t->state = state_letter(k,
				(uint32_t)field(w, l->task_state,
						l->task_state_size),
				(uint32_t)field(w, l->task_exit_state, 4));
	size_t cl = l->task_comm_len;
	const char *comm = (const char *)w->buf + (l->task_comm -
						   l->task_span_lo);
	t->comm_len = strnlen(comm, cl);
	memcpy(t->comm, comm, VMS_MIN(t->comm_len, sizeof(t->comm) - 1));

	parent = field(w, l->task_real_parent, 8);
	if (parent < vms_mmu_kernel_half(&k->mmu))
		return bad_ptr(k, task + l->task_real_parent, parent,
			       "real_parent");
	err = read_u32(k, parent + l->task_tgid, &v);
	if (err)
		return err;
	t->ppid = (int32_t)v;
	/* pid 1 and kthreadd have the idle task as parent; /proc says 0. */

	cred = field(w, l->task_real_cred, 8);
	if (cred < vms_mmu_kernel_half(&k->mmu))
		return bad_ptr(k, task + l->task_real_cred, cred, "real_cred");
	if ((err = read_u32(k, cred + l->cred_uid, &t->uid)) ||
	    (err = read_u32(k, cred + l->cred_gid, &t->gid)) ||
	    (err = read_u32(k, cred + l->cred_euid, &t->euid)) ||
	    (err = read_u32(k, cred + l->cred_egid, &t->egid)))
		return err;

	signal = field(w, l->task_signal, 8);
	t->nr_threads = 0;
	if (signal >= vms_mmu_kernel_half(&k->mmu) &&
	    !read_u32(k, signal + l->signal_nr_threads, &v))
		t->nr_threads = (int32_t)v;
	else
		vms_err_clear(k->ctx); /* a zombie may have no signal */

	w->prev = w->node;
	w->node = next;
	w->done = false;
	return 1;
}
