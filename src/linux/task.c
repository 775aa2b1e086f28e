/* SPDX-License-Identifier: MIT */
/*
 * Tasks: the task list (init_task.tasks links every thread-group leader)
 * and each process's thread list (signal_struct.thread_head through
 * task_struct.thread_node, since v3.14, 0c740d0afc3b); credentials; the
 * name /proc shows; and a process's command line and environment, read
 * from its own user memory through its page tables.
 *
 * The lists are guest data, so: every node must be a kernel address that
 * translates; each node's prev must point back at the node before it (a
 * torn or forged list is reported, not followed blindly); a node seen
 * twice is a cycle (-ELOOP); more nodes than max_tasks is -E2BIG. While
 * the reads race a running guest, a task that fails to decode is left
 * out with a warning, and a list that breaks ends the walk with one
 * (vms_torn()).
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
/* Process flags, unchanged since v2.6 (PF_KTHREAD) and v2.6.36
 * (PF_WQ_WORKER). */
#define PF_WQ_WORKER 0x00000020u
#define PF_KTHREAD 0x00200000u

#define AREA_MAX (1u << 20) /* bound on a command line or environment */

static int bad_ptr(struct vms_kernel *k, uint64_t where, uint64_t val,
		   const char *what)
{
	return vms_err_at(k->ctx, -EBADMSG, LAYER, where,
			  "%s %#llx read at %#llx is not a kernel address",
			  what, (unsigned long long)val,
			  (unsigned long long)where);
}

static int read_u32(struct vms_kernel *k, uint64_t va, uint32_t *ret)
{
	uint8_t b[4];
	int err = vms_kernel_read(k, va, b, 4);

	if (!err)
		*ret = vms_le32(b);
	return err;
}

static int walk_init(struct vms_task_walk *w, struct vms_kernel *k,
		     uint64_t head, size_t link, const char *what)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	w->head = head;
	w->link = link;
	w->what = what;
	w->prev = head;
	vms_addrset_init(&w->seen);
	err = vms_kernel_read_u64(k, head + k->l.list_next, &w->node);
	if (err)
		return err;
	/* The span is the kernel's BTF's to choose. */
	return vms_alloc(k->ctx, &w->buf, k->l.task_span_hi - k->l.task_span_lo,
			 1, "struct task_struct", head);
}

int vms_task_walk_init(struct vms_task_walk *w, struct vms_kernel *k)
{
	uint64_t init;
	int err = vms_kernel_sym(k, "init_task", &init);

	return err ? err
		   : walk_init(w, k, init + k->l.task_tasks, k->l.task_tasks,
			       "task list");
}

int vms_thread_walk_init(struct vms_task_walk *w, struct vms_kernel *k,
			 uint64_t signal)
{
	if (!vms_is_kernel_addr(k, signal))
		return vms_err(k->ctx, -EINVAL, LAYER,
			       "no signal_struct to list threads from");
	return walk_init(w, k, signal + k->l.signal_thread_head,
			 k->l.task_thread_node, "thread list");
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

/* fs/proc/array.c proc_task_name(): a kernel thread that is not a
 * workqueue worker is shown by its full name (v6.1+), kept in struct
 * kthread, which task_struct.worker_private points at. */
static void full_kthread_name(struct vms_task_walk *w, struct vms_task *t)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t kt, name;
	char buf[64];
	size_t n;

	if (!t->kthread || (t->flags & PF_WQ_WORKER) ||
	    l->task_worker_private == VMS_NO_MEMBER ||
	    l->kthread_full_name == VMS_NO_MEMBER)
		return;
	kt = field(w, l->task_worker_private, 8);
	if (!vms_is_kernel_addr(k, kt) ||
	    vms_kernel_read_u64(k, kt + l->kthread_full_name, &name) ||
	    !vms_is_kernel_addr(k, name)) {
		vms_err_clear(k->ctx);
		return;
	}
	/* /proc copies at most 63 bytes (a 64-byte buffer). */
	n = vms_kernel_read_str(k, name, buf, sizeof(buf));
	if (n > t->comm_len) {
		memcpy(t->comm, buf, n);
		t->comm[n] = 0;
		t->comm_len = n;
	}
}

static int read_cred(struct vms_kernel *k, uint64_t cred, struct vms_task *t)
{
	const struct vms_layout *l = &k->l;
	struct {
		size_t off;
		uint32_t *dst;
	} ids[] = {
		{ l->cred_uid, &t->uid },     { l->cred_gid, &t->gid },
		{ l->cred_euid, &t->euid },   { l->cred_egid, &t->egid },
		{ l->cred_suid, &t->suid },   { l->cred_sgid, &t->sgid },
		{ l->cred_fsuid, &t->fsuid }, { l->cred_fsgid, &t->fsgid },
	};
	int err;

	for (size_t i = 0; i < VMS_ARRAY_SIZE(ids); i++)
		if ((err = read_u32(k, cred + ids[i].off, ids[i].dst)))
			return err;
	for (int i = 0; i < 5; i++) {
		t->caps[i] = 0;
		if (l->cred_cap[i] != VMS_NO_MEMBER &&
		    (err = vms_kernel_read_u64(k, cred + l->cred_cap[i],
					       &t->caps[i])))
			return err;
	}
	return 0;
}

/* The task_struct at @task, whose span is in w->buf. */
static int decode(struct vms_task_walk *w, uint64_t task, struct vms_task *t)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t parent, cred;
	uint32_t v;
	int err;

	memset(t, 0, sizeof(*t));
	t->addr = task;
	t->pid = (int32_t)field(w, l->task_pid, 4);
	t->tgid = (int32_t)field(w, l->task_tgid, 4);
	t->flags = (uint32_t)field(w, l->task_flags, 4);
	t->kthread = t->flags & PF_KTHREAD;
	t->mm = field(w, l->task_mm, 8);
	t->signal = field(w, l->task_signal, 8);
	t->state = state_letter(k,
				(uint32_t)field(w, l->task_state,
						l->task_state_size),
				(uint32_t)field(w, l->task_exit_state, 4));
	const char *comm = (const char *)w->buf + (l->task_comm -
						   l->task_span_lo);
	t->comm_len = strnlen(comm, l->task_comm_len);
	memcpy(t->comm, comm, VMS_MIN(t->comm_len, sizeof(t->comm) - 1));
	full_kthread_name(w, t);

	/* pid 1 and kthreadd have the idle task as parent; /proc says 0. */
	parent = field(w, l->task_real_parent, 8);
	if (!vms_is_kernel_addr(k, parent))
		return bad_ptr(k, task + l->task_real_parent, parent,
			       "real_parent");
	if ((err = read_u32(k, parent + l->task_tgid, &v)))
		return err;
	t->ppid = (int32_t)v;

	cred = field(w, l->task_real_cred, 8);
	if (!vms_is_kernel_addr(k, cred))
		return bad_ptr(k, task + l->task_real_cred, cred, "real_cred");
	if ((err = read_cred(k, cred, t)))
		return err;

	if (vms_is_kernel_addr(k, t->signal) &&
	    !read_u32(k, t->signal + l->signal_nr_threads, &v))
		t->nr_threads = (int32_t)v;
	else
		vms_err_clear(k->ctx); /* a zombie may have no signal */
	return 0;
}

/* Step onto w->node: check it, read its task's span into w->buf, and
 * give the next node and the task. */
static int step(struct vms_task_walk *w, uint64_t *task, uint64_t *next)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t back;
	int err;

	if ((err = vms_tick(k->ctx)))
		return err;
	if (!vms_is_kernel_addr(k, w->node))
		return bad_ptr(k, w->prev + l->list_next, w->node,
			       "task list pointer");
	err = vms_addrset_add(&w->seen, w->node);
	if (err < 0)
		return err;
	if (!err)
		return vms_err_at(k->ctx, -ELOOP, LAYER, w->node,
				  "the %s loops back to %#llx after %u tasks "
				  "without returning to its head",
				  w->what, (unsigned long long)w->node,
				  w->count);
	if (++w->count > k->ctx->max_tasks)
		return vms_err(k->ctx, -E2BIG, LAYER,
			       "the %s has more than %u tasks (raise the "
			       "bound with max_tasks)",
			       w->what, k->ctx->max_tasks);
	*task = w->node - w->link;
	err = vms_kernel_read(k, *task + l->task_span_lo, w->buf,
			      l->task_span_hi - l->task_span_lo);
	if (err)
		return err;
	*next = field(w, w->link + l->list_next, 8);
	back = field(w, w->link + l->list_prev, 8);
	if (back != w->prev)
		vms_log(k->ctx, VMS_LOG_WARN,
			"task %#llx: %s prev is %#llx, expected %#llx (list "
			"changing or forged)",
			(unsigned long long)*task, w->what,
			(unsigned long long)back, (unsigned long long)w->prev);
	return 0;
}

/*
 * A running guest changes the list under the walk (vms_torn): a task
 * that fails to decode is left out and the walk goes on from its next
 * pointer (list_del_rcu() keeps an unlinked task's next valid for RCU
 * readers until it is freed); a node that cannot be stepped onto ends
 * the walk early, as its next pointer is unknown.
 */
int vms_task_walk_next(struct vms_task_walk *w, struct vms_task *t)
{
	struct vms_kernel *k = w->k;
	uint64_t task = 0, next = 0;
	int err;

	for (;;) {
		if (w->done)
			return 0;
		if (w->node == w->head) {
			w->done = true;
			return 0;
		}
		w->done = true; /* until this step succeeds */
		if ((err = step(w, &task, &next)))
			return vms_torn(k->ctx, err, "the %s past %#llx",
					w->what, (unsigned long long)w->prev)
				       ? 0
				       : err;
		err = decode(w, task, t);
		if (err && !vms_torn(k->ctx, err, "task %#llx",
				     (unsigned long long)task))
			return err;
		w->prev = w->node;
		w->node = next;
		w->done = false;
		if (!err)
			return 1;
	}
}

int vms_task_read(struct vms_kernel *k, uint64_t task, struct vms_task *t)
{
	struct vms_task_walk w = { .k = k };
	int err;

	if (!vms_is_kernel_addr(k, task))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, task,
				  "task %#llx is not a kernel address",
				  (unsigned long long)task);
	if ((err = vms_alloc(k->ctx, &w.buf,
			     k->l.task_span_hi - k->l.task_span_lo, 1,
			     "struct task_struct", task)))
		return err;
	err = vms_kernel_read(k, task + k->l.task_span_lo, w.buf,
			      k->l.task_span_hi - k->l.task_span_lo);
	if (!err)
		err = decode(&w, task, t);
	free(w.buf);
	return err;
}

int vms_mm_root(struct vms_kernel *k, uint64_t mm, uint64_t *ret)
{
	uint64_t pgd;
	int err;

	if ((err = vms_kernel_read_u64(k, mm + k->l.mm_pgd, &pgd)))
		return err;
	/* mm->pgd is a kernel virtual address of the top-level table. */
	return vms_mmu_translate(&k->mmu, k->pgd, pgd, ret, NULL, false);
}

int vms_task_pgd(struct vms_kernel *k, const struct vms_task *t,
		 uint64_t *ret)
{
	if (!t->mm)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "pid %d is a kernel thread: no user memory",
			       t->pid);
	if (!vms_is_kernel_addr(k, t->mm))
		return bad_ptr(k, t->addr + k->l.task_mm, t->mm, "mm");
	return vms_mm_root(k, t->mm, ret);
}

int vms_task_read_user(struct vms_kernel *k, uint64_t root, uint64_t va,
		       uint8_t *buf, size_t len, size_t *ret_got)
{
	size_t got = 0;

	while (got < len) {
		size_t n = VMS_MIN(len - got,
				   4096 - (size_t)((va + got) & 0xfff));
		uint64_t pa;
		if (vms_mmu_translate(&k->mmu, root, va + got, &pa, NULL,
				      true) ||
		    vms_source_read(k->src, pa, buf + got, n))
			break; /* not resident: what was read stands */
		got += n;
	}
	vms_err_clear(k->ctx);
	*ret_got = got;
	return 0;
}

int vms_task_read_area(struct vms_kernel *k, const struct vms_task *t,
		       bool environ, uint8_t *buf, size_t len,
		       size_t *ret_got, size_t *ret_full)
{
	const struct vms_layout *l = &k->l;
	uint64_t start, end, root;
	size_t got = 0, full;
	int err;

	*ret_got = *ret_full = 0;
	if (!t->mm)
		return 0; /* kernel threads have no user memory */
	if (!vms_is_kernel_addr(k, t->mm))
		return bad_ptr(k, t->addr + l->task_mm, t->mm, "mm");
	if ((err = vms_kernel_read_u64(k, t->mm + (environ ? l->mm_env_start
							  : l->mm_arg_start),
				       &start)) ||
	    (err = vms_kernel_read_u64(k, t->mm + (environ ? l->mm_env_end
							  : l->mm_arg_end),
				       &end)))
		return err;
	if (end < start || end - start > AREA_MAX)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, t->mm,
				  "pid %d: %s area %#llx-%#llx is implausible",
				  t->pid, environ ? "environment" : "argument",
				  (unsigned long long)start,
				  (unsigned long long)end);
	full = (size_t)(end - start);
	if ((err = vms_task_pgd(k, t, &root)) ||
	    (err = vms_task_read_user(k, root, start, buf, VMS_MIN(full, len),
				      &got)))
		return err;
	*ret_got = got;
	*ret_full = full;
	return 0;
}
