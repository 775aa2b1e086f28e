/* SPDX-License-Identifier: MIT */
/*
 * The views behind hidden_tasks, on synthetic kernels: each possible
 * CPU's run queue found through the per-CPU offsets; the run-queue walk
 * (the running task, the fair and real-time queues, a real-time group
 * entity; hostile queues that loop, point back wrongly, nest without end
 * or point into user space), the struct pids that open files refer to
 * (pidfds before and after pidfs, /proc files, sockets' peers, F_SETOWN
 * with f_owner embedded and as a pointer), and the verdict that compares
 * the views.
 */
#include "fakekernel.h"
#include "../../src/checks/checks.h"

#define D FK_DATA_VA
#define RQ (D + 0x1000)
#define TASK(i) (D + 0x10000 * (uint64_t)(i))

/* Offsets unlike the kernel's. */
static const struct vms_layout SL = {
	.list_next = 0, .list_prev = 8,
	.have_sched = true,
	.rq_curr = 0x10, .rq_idle = 0x18, .rq_cfs_tasks = 0x40,
	.rq_rt = 0x100, .rtrq_queue = 0x20, .rt_nqueue = 4,
	.task_se_group = 0x200, .task_rt = 0x300, .rtse_run_list = 0x8,
	.rtse_my_q = 0x20,
	.rq_dl_root = 0x500, .rq_size = 0x800, .dlse_rb = 0x10,
	.task_dl_rb = 0x410, .rb_parent = 0, .rb_right = 8, .rb_left = 0x10,
};

static void put(struct fake *f, uint64_t va, uint64_t v)
{
	fk_put64(fk_at(f, va), v);
}

/* Make the list at @head hold @nodes, in order. */
static void list(struct fake *f, uint64_t head, const uint64_t *nodes,
		 size_t n)
{
	uint64_t prev = head;

	for (size_t i = 0; i < n; i++) {
		put(f, prev, nodes[i]);
		put(f, nodes[i] + 8, prev);
		prev = nodes[i];
	}
	put(f, prev, head);
	put(f, head + 8, prev);
}

static uint64_t rt_head(uint64_t rt_rq, int prio)
{
	return rt_rq + SL.rtrq_queue + 16 * (uint64_t)prio;
}

/* An empty run queue at @rq running @curr, idle task @idle. */
static void empty_rq(struct fake *f, uint64_t rq, uint64_t curr, uint64_t idle)
{
	put(f, rq + SL.rq_curr, curr);
	put(f, rq + SL.rq_idle, idle);
	list(f, rq + SL.rq_cfs_tasks, NULL, 0);
	for (int p = 0; p < 4; p++)
		list(f, rt_head(rq + SL.rq_rt, p), NULL, 0);
	put(f, rq + SL.rq_dl_root, 0);
}

/* Tree node @node: parent @parent (colour bit @red), children. */
static void rb(struct fake *f, uint64_t node, uint64_t parent, bool red,
	       uint64_t left, uint64_t right)
{
	put(f, node + SL.rb_parent, parent | (red ? 0 : 1));
	put(f, node + SL.rb_left, left);
	put(f, node + SL.rb_right, right);
}

static uint64_t dl(int i)
{
	return TASK(i) + SL.task_dl_rb;
}

struct visit {
	uint64_t task[16];
	int how[16];
	int n;
};

static int visit(void *arg, uint64_t task, enum vms_rq_how how)
{
	struct visit *v = arg;

	if (v->n < 16) {
		v->task[v->n] = task;
		v->how[v->n++] = (int)how;
	}
	return 0;
}

static uint64_t fair(int i)
{
	return TASK(i) + SL.task_se_group;
}

static uint64_t rt(int i)
{
	return TASK(i) + SL.task_rt + SL.rtse_run_list;
}

static void walks_a_run_queue(void **state)
{
	const uint64_t group = D + 0x8000, group_rq = D + 0x9000;
	struct fake f;
	struct visit v = { 0 };
	(void)state;

	/* Task 1 runs; 2 and 3 wait in the fair class; 4 waits at
	 * real-time priority 2, followed by a group entity whose own rt_rq
	 * holds task 5. */
	fk_build(&f);
	empty_rq(&f, RQ, TASK(1), TASK(9));
	list(&f, RQ + SL.rq_cfs_tasks, (uint64_t[]){ fair(2), fair(3) }, 2);
	list(&f, rt_head(RQ + SL.rq_rt, 2),
	     (uint64_t[]){ rt(4), group + SL.rtse_run_list }, 2);
	put(&f, group + SL.rtse_my_q, group_rq);
	for (int p = 0; p < 4; p++)
		list(&f, rt_head(group_rq, p), NULL, 0);
	list(&f, rt_head(group_rq, 0), (uint64_t[]){ rt(5) }, 1);
	/* A second run queue whose CPU idles: nothing to report. */
	empty_rq(&f, RQ + 0x800, TASK(8), TASK(8));
	fk_open(&f, "runqueues", RQ, &SL);

	assert_int_equal(vms_sched_rq_each(&f.k, RQ, visit, &v), 0);
	assert_int_equal(v.n, 5);
	assert_true(v.task[0] == TASK(1) && v.how[0] == VMS_RQ_RUNNING);
	assert_true(v.task[1] == TASK(2) && v.how[1] == VMS_RQ_FAIR);
	assert_true(v.task[2] == TASK(3) && v.how[2] == VMS_RQ_FAIR);
	assert_true(v.task[3] == TASK(4) && v.how[3] == VMS_RQ_RT);
	assert_true(v.task[4] == TASK(5) && v.how[4] == VMS_RQ_RT);
	v.n = 0;
	assert_int_equal(vms_sched_rq_each(&f.k, RQ + 0x800, visit, &v), 0);
	assert_int_equal(v.n, 0);
	/* A kernel without group scheduling has no my_q: the entity is a
	 * task. */
	f.k.l.rtse_my_q = VMS_NO_MEMBER;
	v.n = 0;
	assert_int_equal(vms_sched_rq_each(&f.k, RQ, visit, &v), 0);
	assert_int_equal(v.n, 5);
	assert_true(v.task[4] == group - SL.task_rt);
	fk_close(&f);
}

static void walks_the_deadline_tree(void **state)
{
	const uint64_t server = RQ + 0x600 + SL.dlse_rb;
	struct fake f;
	struct visit v = { 0 };
	(void)state;

	/* Tasks 6 and 7 wait in the deadline tree beside the rq's own
	 * fair server, which is no task. */
	fk_build(&f);
	empty_rq(&f, RQ, TASK(1), TASK(1));
	put(&f, RQ + SL.rq_dl_root, dl(6));
	rb(&f, dl(6), 0, false, server, dl(7));
	rb(&f, server, dl(6), true, 0, 0);
	rb(&f, dl(7), dl(6), true, 0, 0);
	fk_open(&f, "runqueues", RQ, &SL);
	assert_int_equal(vms_sched_rq_each(&f.k, RQ, visit, &v), 0);
	assert_int_equal(v.n, 2);
	assert_true(v.task[0] == TASK(6) && v.how[0] == VMS_RQ_DL);
	assert_true(v.task[1] == TASK(7) && v.how[1] == VMS_RQ_DL);
	fk_close(&f);
}

/* Run @rq's walk on a fresh fake built by @setup; its result. */
static int hostile(void (*setup)(struct fake *f))
{
	struct fake f;
	struct visit v = { 0 };
	int err;

	fk_build(&f);
	empty_rq(&f, RQ, TASK(1), TASK(9));
	setup(&f);
	fk_open(&f, "runqueues", RQ, &SL);
	err = vms_sched_rq_each(&f.k, RQ, visit, &v);
	/* Every error names the address involved. */
	assert_true(err == 0 || f.ctx.err.has_addr);
	fk_close(&f);
	return err;
}

static void fair_cycle(struct fake *f)
{
	list(f, RQ + SL.rq_cfs_tasks, (uint64_t[]){ fair(2), fair(3) }, 2);
	put(f, fair(3), fair(2)); /* 3 leads back to 2, not to the head */
}

static void bad_prev(struct fake *f)
{
	list(f, RQ + SL.rq_cfs_tasks, (uint64_t[]){ fair(2), fair(3) }, 2);
	put(f, fair(3) + 8, fair(4));
}

static void self_group(struct fake *f)
{
	const uint64_t group = D + 0x8000;

	/* A group entity whose rt_rq is the one that holds it. */
	list(f, rt_head(RQ + SL.rq_rt, 1),
	     (uint64_t[]){ group + SL.rtse_run_list }, 1);
	put(f, group + SL.rtse_my_q, RQ + SL.rq_rt);
}

static void user_node(struct fake *f)
{
	put(f, RQ + SL.rq_cfs_tasks, 0x1000);
}

static void user_curr(struct fake *f)
{
	put(f, RQ + SL.rq_curr, 0x7fff0000);
}

static void dl_wrong_parent(struct fake *f)
{
	put(f, RQ + SL.rq_dl_root, dl(6));
	rb(f, dl(6), 0, false, dl(7), 0);
	rb(f, dl(7), dl(8), true, 0, 0);
}

static void dl_cycle(struct fake *f)
{
	/* 7's child is 6 again, and claims 7 as its parent. */
	put(f, RQ + SL.rq_dl_root, dl(6));
	rb(f, dl(6), 0, false, dl(7), 0);
	rb(f, dl(7), dl(6), true, 0, dl(6));
	put(f, dl(6) + SL.rb_parent, dl(7));
}

static void dl_user_root(struct fake *f)
{
	put(f, RQ + SL.rq_dl_root, 0x7fff0000);
}

/* A comb deeper than any real tree: each node has a leaf on the left
 * and the rest of the comb on the right, so every leaf waits on the
 * stack while the walk goes down. */
static void dl_too_deep(struct fake *f)
{
	const uint64_t base = D + 0x2000;

	put(f, RQ + SL.rq_dl_root, base);
	for (uint64_t i = 0; i < 2 * VMS_RB_MAX_DEPTH; i++) {
		uint64_t n = base + i * 0x40, leaf = n + 0x20;
		rb(f, n, i ? n - 0x40 : 0, false, leaf, n + 0x40);
		rb(f, leaf, n, true, 0, 0);
	}
	put(f, base + (2 * VMS_RB_MAX_DEPTH - 1) * 0x40 + SL.rb_right, 0);
}

static void hostile_run_queues_end_with_errors(void **state)
{
	(void)state;
	assert_int_equal(hostile(fair_cycle), -ELOOP);
	assert_int_equal(hostile(bad_prev), -EBADMSG);
	assert_int_equal(hostile(self_group), -ELOOP);
	assert_int_equal(hostile(user_node), -EBADMSG);
	assert_int_equal(hostile(user_curr), -EBADMSG);
	assert_int_equal(hostile(dl_wrong_parent), -EBADMSG);
	assert_int_equal(hostile(dl_cycle), -EBADMSG);
	assert_int_equal(hostile(dl_user_root), -EBADMSG);
	assert_int_equal(hostile(dl_too_deep), -E2BIG);
}

static const char *const cpu_syms[] = {
	"runqueues", "__per_cpu_offset", "nr_cpu_ids", "__cpu_possible_mask",
};

static void finds_run_queues(void **state)
{
	const uint64_t offs = D + 0x100, ncpu = D + 0x200, mask = D + 0x300;
	const uint64_t addrs[] = { 0x2000, offs, ncpu, mask };
	struct vms_rq rqs[8];
	struct fake f;
	size_t n = 0;
	(void)state;

	/* CPUs 0-2 possible, 3 not; CPU 2 shares CPU 0's area (as the
	 * boot offset does), so one run queue is read once. */
	fk_build(&f);
	put(&f, offs, D + 0x10000 - 0x2000);
	put(&f, offs + 8, D + 0x20000 - 0x2000);
	put(&f, offs + 16, D + 0x10000 - 0x2000);
	put(&f, offs + 24, D + 0x30000 - 0x2000);
	fk_put32(fk_at(&f, ncpu), 4);
	put(&f, mask, 0x7);
	fk_open(&f, "runqueues", 0x2000, &SL);
	fk_syms(&f, cpu_syms, addrs, 4);
	assert_int_equal(vms_sched_runqueues(&f.k, rqs, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_true(rqs[0].addr == D + 0x10000 && rqs[0].cpu == 0);
	assert_true(rqs[1].addr == D + 0x20000 && rqs[1].cpu == 1);
	/* No room: an error, not a silent cut. */
	assert_int_equal(vms_sched_runqueues(&f.k, rqs, 1, &n), -ERANGE);
	vms_err_clear(&f.ctx);
	/* No possible-CPU mask: every CPU below nr_cpu_ids. */
	fk_syms(&f, cpu_syms, addrs, 3);
	assert_int_equal(vms_sched_runqueues(&f.k, rqs, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_true(rqs[2].addr == D + 0x30000 && rqs[2].cpu == 3);
	/* A uniprocessor kernel: runqueues is the run queue. */
	fk_syms(&f, (const char *const[]){ "runqueues" },
		(const uint64_t[]){ D + 0x10000 }, 1);
	assert_int_equal(vms_sched_runqueues(&f.k, rqs, 8, &n), 0);
	assert_true(n == 1 && rqs[0].addr == D + 0x10000);
	fk_close(&f);

	/* Hostile: a CPU count past any kernel's, and an offset that
	 * leads out of the kernel half. */
	fk_build(&f);
	fk_put32(fk_at(&f, ncpu), 100000);
	fk_open(&f, "runqueues", 0x2000, &SL);
	fk_syms(&f, cpu_syms, addrs, 4);
	assert_int_equal(vms_sched_runqueues(&f.k, rqs, 8, &n), -EBADMSG);
	assert_true(f.ctx.err.has_addr && f.ctx.err.addr == ncpu);
	fk_close(&f);

	fk_build(&f);
	fk_put32(fk_at(&f, ncpu), 2);
	put(&f, mask, 0x3);
	put(&f, offs, D + 0x10000 - 0x2000);
	put(&f, offs + 8, 0x1000);
	fk_open(&f, "runqueues", 0x2000, &SL);
	fk_syms(&f, cpu_syms, addrs, 4);
	assert_int_equal(vms_sched_runqueues(&f.k, rqs, 8, &n), -EBADMSG);
	assert_true(f.ctx.err.has_addr && f.ctx.err.addr == offs + 8);
	fk_close(&f);
}

/* Files: f_op 0, private_data 8, f_inode 0x10, f_owner 0x20 (pid at
 * 0x28 when embedded); inode: i_sb 0x38, i_private 0x30; proc_inode:
 * pid 0, vfs_inode 0x40; socket.sk 0x18; sock.sk_peer_pid 0x50. */
static const struct vms_layout FL = {
	.have_pidrefs = true,
	.file_f_op = 0, .file_private = 8, .file_inode = 0x10,
	.file_owner = 0x20, .fown_pid = 8,
	.inode_private = 0x30, .inode_sb = 0x38, .sb_type = 0x10,
	.pinode_pid = 0, .pinode_vfs = 0x40,
	.socket_sk = 0x18, .sk_peer_pid = 0x50,
};

#define OPS (D + 0x100)
#define PID(i) (D + 0x40000 + 0x100 * (uint64_t)(i))
#define FILE(i) (D + 0x50000 + 0x100 * (uint64_t)(i))
#define INODE (D + 0x60000)	/* an ordinary inode */
#define PINODE (D + 0x61000)	/* a proc_inode */
#define SB (D + 0x62000)
#define PROC_SB (D + 0x63000)
#define PIDFS_INODE (D + 0x64000)

static const struct vms_pidref_ops ops = {
	.pidfd_fops = OPS, .pidfs_fops = OPS + 8, .socket_fops = OPS + 16,
	.proc_type = OPS + 24,
};

static void file(struct fake *f, int i, uint64_t fop, uint64_t priv,
		 uint64_t inode)
{
	put(f, FILE(i) + FL.file_f_op, fop);
	put(f, FILE(i) + FL.file_private, priv);
	put(f, FILE(i) + FL.file_inode, inode);
}

static int refs(struct fake *f, int i, struct vms_pidref *r)
{
	return vms_file_pidrefs(&f->k, &ops, FILE(i), r, 4);
}

static void files_refer_to_pids(void **state)
{
	struct vms_pidref r[4];
	struct fake f;
	(void)state;

	fk_build(&f);
	put(&f, INODE + FL.inode_sb, SB);
	put(&f, SB + FL.sb_type, OPS + 0x80);
	put(&f, PINODE + FL.pinode_vfs + FL.inode_sb, PROC_SB);
	put(&f, PROC_SB + FL.sb_type, ops.proc_type);
	put(&f, PINODE + FL.pinode_pid, PID(4));
	put(&f, PIDFS_INODE + FL.inode_private, PID(2));
	put(&f, PIDFS_INODE + FL.inode_sb, SB);
	file(&f, 1, ops.pidfd_fops, PID(1), INODE);	/* pidfd, < v6.9 */
	file(&f, 2, ops.pidfs_fops, 0, PIDFS_INODE);	/* pidfd, v6.9+ */
	file(&f, 3, ops.socket_fops, D + 0x70000, INODE); /* socket */
	put(&f, D + 0x70000 + FL.socket_sk, D + 0x71000);
	put(&f, D + 0x71000 + FL.sk_peer_pid, PID(3));
	file(&f, 4, OPS + 0x40, 0, PINODE + FL.pinode_vfs); /* /proc/N/x */
	file(&f, 5, OPS + 0x40, 0, INODE);		/* F_SETOWN'd */
	put(&f, FILE(5) + FL.file_owner + FL.fown_pid, PID(5));
	file(&f, 6, ops.socket_fops, D + 0x72000, INODE); /* no sk */
	file(&f, 7, OPS + 0x40, 0, 0x1000);		/* hostile inode */
	fk_open(&f, "runqueues", RQ, &FL);

	assert_int_equal(refs(&f, 1, r), 1);
	assert_true(r[0].pid == PID(1) && r[0].kind == VMS_PIDREF_PIDFD);
	assert_int_equal(refs(&f, 2, r), 1);
	assert_true(r[0].pid == PID(2) && r[0].kind == VMS_PIDREF_PIDFD);
	assert_int_equal(refs(&f, 3, r), 1);
	assert_true(r[0].pid == PID(3) && r[0].kind == VMS_PIDREF_PEER);
	assert_int_equal(refs(&f, 4, r), 1);
	assert_true(r[0].pid == PID(4) && r[0].kind == VMS_PIDREF_PROC);
	assert_int_equal(refs(&f, 5, r), 1);
	assert_true(r[0].pid == PID(5) && r[0].kind == VMS_PIDREF_OWNER);
	assert_int_equal(refs(&f, 6, r), 0);
	assert_int_equal(refs(&f, 7, r), -EBADMSG);
	assert_true(f.ctx.err.has_addr && f.ctx.err.addr == FILE(7));
	vms_err_clear(&f.ctx);

	/* v6.12+: f_owner points at a fown_struct, or is NULL. */
	f.k.l.file_owner_ptr = true;
	assert_int_equal(refs(&f, 5, r), 0);
	fk_close(&f);
	fk_build(&f);
	put(&f, INODE + FL.inode_sb, SB);
	put(&f, SB + FL.sb_type, OPS + 0x80);
	file(&f, 5, OPS + 0x40, 0, INODE);
	put(&f, FILE(5) + FL.file_owner, D + 0x73000);
	put(&f, D + 0x73000 + FL.fown_pid, PID(6));
	fk_open(&f, "runqueues", RQ, &FL);
	f.k.l.file_owner_ptr = true;
	assert_int_equal(refs(&f, 5, r), 1);
	assert_true(r[0].pid == PID(6) && r[0].kind == VMS_PIDREF_OWNER);
	fk_close(&f);
}

static bool hidden(unsigned int views, int32_t pid, int32_t tgid,
		   uint32_t exit_state, char *buf)
{
	struct vms_task_seen t = {
		.views = views, .pid = pid, .tgid = tgid,
		.exit_state = exit_state, .rq_how = VMS_RQ_RUNNING, .cpu = 1,
		.ref_kind = VMS_PIDREF_PIDFD, .holder = 77,
	};

	buf[0] = 0;
	return vms_chk_task_hidden(&t, buf, 512);
}

static void views_are_compared(void **state)
{
	char e[512];
	(void)state;

	/* Both complete views hold it: whatever else does, not hidden. */
	assert_false(hidden(VMS_TV_LIST | VMS_TV_PIDS, 5, 5, 0, e));
	assert_false(hidden(VMS_TV_LIST | VMS_TV_PIDS | VMS_TV_RUNQ |
				    VMS_TV_FILES,
			    5, 5, 0, e));
	/* Unlinked from the task list only. */
	assert_true(hidden(VMS_TV_PIDS, 5, 5, 0, e));
	assert_string_equal(e, "in the pid table (what /proc lists) but not "
			       "on the task list");
	assert_true(hidden(VMS_TV_PIDS | VMS_TV_FILES, 5, 5, 0, e));
	assert_string_equal(e, "in the pid table (what /proc lists) and "
			       "referenced by an open file of pid 77 (a "
			       "pidfd) but not on the task list");
	/* Hidden from both: only the scheduler knows it. */
	assert_true(hidden(VMS_TV_RUNQ, 5, 5, 0, e));
	assert_string_equal(e, "running on CPU 1 but not on the task list "
			       "nor in the pid table");
	assert_true(hidden(VMS_TV_PIDS | VMS_TV_RUNQ | VMS_TV_FILES, 5, 5, 0,
			   e));
	assert_string_equal(e, "in the pid table (what /proc lists), running "
			       "on CPU 1 and referenced by an open file of "
			       "pid 77 (a pidfd) but not on the task list");
	/* A thread is judged by its process's thread list. */
	assert_true(hidden(VMS_TV_LIST, 6, 5, 0, e));
	assert_string_equal(e, "thread of process 5: on its thread list but "
			       "not in the pid table");
	/* Released (EXIT_DEAD) and on its way off the CPU: not hidden;
	 * but a released task still on a list is. */
	assert_false(hidden(VMS_TV_RUNQ, 5, 5, 0x10, e));
	assert_false(hidden(VMS_TV_FILES, 5, 5, 0x10, e));
	assert_true(hidden(VMS_TV_LIST | VMS_TV_RUNQ, 5, 5, 0x10, e));
	assert_string_equal(e, "on the task list and running on CPU 1 but "
			       "not in the pid table");
}

static void module_verdicts(void **state)
{
	struct vms_chk_mod m = { .listed = true, .in_sysfs = true,
				 .in_memory = true };
	char ev[256];

	(void)state;
	assert_false(vms_chk_module_hidden(&m, ev, sizeof(ev)));
	m.listed = false;
	assert_true(vms_chk_module_hidden(&m, ev, sizeof(ev)));
	assert_string_equal(ev, "in /sys/module (module_kset) and in module "
				"memory (its struct module) but not on the "
				"module list");
	m.in_sysfs = false;
	assert_true(vms_chk_module_hidden(&m, ev, sizeof(ev)));
	assert_string_equal(ev, "in module memory (its struct module) but not "
				"on the module list nor in /sys/module "
				"(module_kset)");
	/* Listed, but its struct is not where the loader puts one. */
	m = (struct vms_chk_mod){ .listed = true, .in_sysfs = true };
	assert_true(vms_chk_module_hidden(&m, ev, sizeof(ev)));
	assert_string_equal(ev, "on the module list and in /sys/module "
				"(module_kset) but not in module memory (its "
				"struct module)");
	/* A short buffer is cut, never overrun. */
	assert_true(vms_chk_module_hidden(&m, ev, 10));
	assert_string_equal(ev, "on the mo");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_run_queues),
		cmocka_unit_test(module_verdicts),
		cmocka_unit_test(walks_a_run_queue),
		cmocka_unit_test(walks_the_deadline_tree),
		cmocka_unit_test(hostile_run_queues_end_with_errors),
		cmocka_unit_test(files_refer_to_pids),
		cmocka_unit_test(views_are_compared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
