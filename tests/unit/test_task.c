/* SPDX-License-Identifier: MIT */
/*
 * The task-list walker on a synthetic kernel: a memory image with page
 * tables, three tasks on a list, and a layout table with offsets unlike a
 * real kernel's. Then the hostile cases: a list that loops without
 * returning to init_task, a task pointing at itself, a list longer than
 * the bound, and a pointer into the user half; and the same breakage
 * met while racing a running guest, where a torn task is left out with
 * a warning and a broken list ends early, but the bound still stands.
 */
#include "fakekernel.h"

#define DATA_VA FK_DATA_VA

static const struct vms_layout L = {
	.list_next = 0, .list_prev = 8, .task_size = 1024,
	.task_tasks = 200, .task_pid = 16, .task_tgid = 20,
	.task_comm = 600, .task_comm_len = 16, .task_real_parent = 400,
	.task_real_cred = 408, .task_state = 4, .task_state_size = 4,
	.task_exit_state = 24, .task_signal = 416, .task_mm = 424,
	.task_flags = 28, .task_thread_node = 216,
	.task_worker_private = VMS_NO_MEMBER,
	.task_span_lo = 4, .task_span_hi = 616,
	.cred_uid = 4, .cred_gid = 8, .cred_euid = 12, .cred_egid = 16,
	.signal_nr_threads = 32, .signal_thread_head = 40,
	.kthread_full_name = VMS_NO_MEMBER,
};

static uint64_t task_va(int i) { return DATA_VA + 0x1000 * (uint64_t)i; }
static uint8_t *task_mem(struct fake *f, int i)
{
	return fk_at(f, task_va(i));
}

#define put64 fk_put64
#define put32 fk_put32

/* Task 0 is init_task; tasks 1..n follow it on the list. */
static void build(struct fake *f, int n)
{
	fk_build(f);
	uint64_t cred = task_va(100), sig = task_va(101);
	put32(task_mem(f, 100) + 4, 1000);
	put32(task_mem(f, 100) + 8, 1001);
	put32(task_mem(f, 100) + 12, 1002);
	put32(task_mem(f, 100) + 16, 1003);
	put32(task_mem(f, 101) + 32, 3);
	put64(task_mem(f, 101) + 40, task_va(1) + 216);
	put64(task_mem(f, 101) + 48, task_va(n) + 216);
	for (int i = 0; i <= n; i++) {
		uint8_t *t = task_mem(f, i);
		int nx = i == n ? 0 : i + 1, pv = i == 0 ? n : i - 1;
		put64(t + 200, task_va(nx) + 200);
		put64(t + 208, task_va(pv) + 200);
		put32(t + 16, (uint32_t)i * 10);
		put32(t + 20, (uint32_t)i * 10);
		put32(t + 4, 1); /* TASK_INTERRUPTIBLE */
		put64(t + 400, task_va(0));
		put64(t + 408, cred);
		put64(t + 416, sig);
		put64(t + 424, i % 2 ? task_va(102) : 0);
		put32(t + 28, i % 2 ? 0 : 0x00200000); /* PF_KTHREAD */
		/* Thread list: signal->thread_head -> tasks 1..n. */
		put64(t + 216, i == n ? sig + 40 : task_va(i + 1) + 216);
		put64(t + 224, i == 1 ? sig + 40 : task_va(i - 1) + 216);
		snprintf((char *)t + 600, 16, "task-%d", i);
	}
	memcpy(task_mem(f, 2) + 600, "a-name-of-16-chr", 16); /* no NUL */
}

static void open_kernel(struct fake *f)
{
	fk_open(f, "init_task", task_va(0), &L);
}

static void close_kernel(struct fake *f)
{
	fk_close(f);
}

/* Walk; returns the number of tasks and the final status. */
static int walk(struct fake *f, int *status, struct vms_task *out, int max)
{
	struct vms_task_walk w;
	struct vms_task t;
	int n = 0, r;

	assert_int_equal(vms_task_walk_init(&w, &f->k), 0);
	while ((r = vms_task_walk_next(&w, &t)) == 1 && n < 1000) {
		if (n < max)
			out[n] = t;
		n++;
	}
	vms_task_walk_fini(&w);
	*status = r;
	return n;
}

static void walk_reads_every_field_through_the_layout(void **state)
{
	struct fake f;
	struct vms_task t[8];
	int status;
	(void)state;

	build(&f, 3);
	open_kernel(&f);
	assert_int_equal(walk(&f, &status, t, 8), 3);
	assert_int_equal(status, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(t[i].pid, (i + 1) * 10);
		assert_int_equal(t[i].tgid, (i + 1) * 10);
		assert_int_equal(t[i].ppid, 0);
		assert_int_equal(t[i].uid, 1000);
		assert_int_equal(t[i].gid, 1001);
		assert_int_equal(t[i].euid, 1002);
		assert_int_equal(t[i].egid, 1003);
		assert_int_equal(t[i].nr_threads, 3);
		assert_int_equal(t[i].state, 'S');
		assert_int_equal(t[i].addr, task_va(i + 1));
		assert_int_equal(t[i].kthread, (i + 1) % 2 == 0);
	}
	assert_string_equal(t[0].comm, "task-1");
	/* A comm without terminator is cut at the array's size. */
	assert_int_equal(t[1].comm_len, 16);
	assert_memory_equal(t[1].comm, "a-name-of-16-chr", 16);
	close_kernel(&f);
}

static void thread_list_is_walked_from_signal_struct(void **state)
{
	struct fake f;
	struct vms_task_walk w;
	struct vms_task t;
	int n = 0, r;
	(void)state;

	build(&f, 3);
	open_kernel(&f);
	assert_int_equal(vms_thread_walk_init(&w, &f.k, task_va(101)), 0);
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		n++;
		assert_int_equal(t.pid, n * 10);
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, 3);
	vms_task_walk_fini(&w);
	close_kernel(&f);
}

static void loop_that_misses_init_task_is_reported(void **state)
{
	struct fake f;
	struct vms_task t[1];
	int status;
	(void)state;

	build(&f, 5);
	put64(task_mem(&f, 5) + 200, task_va(2) + 200); /* 5 -> 2 */
	open_kernel(&f);
	assert_int_equal(walk(&f, &status, t, 1), 5);
	assert_int_equal(status, -ELOOP);
	assert_non_null(strstr(f.ctx.err.msg, "loops"));
	close_kernel(&f);

	build(&f, 3);
	put64(task_mem(&f, 1) + 200, task_va(1) + 200); /* points at itself */
	open_kernel(&f);
	assert_int_equal(walk(&f, &status, t, 1), 1);
	assert_int_equal(status, -ELOOP);
	close_kernel(&f);
}

static void list_longer_than_the_bound_stops(void **state)
{
	struct fake f;
	struct vms_task t[1];
	int status;
	(void)state;

	build(&f, 6);
	open_kernel(&f);
	f.ctx.max_tasks = 4;
	assert_int_equal(walk(&f, &status, t, 1), 4);
	assert_int_equal(status, -E2BIG);
	close_kernel(&f);
}

/* One operation may run max_seconds: a walk past its deadline fails
 * with -ETIMEDOUT naming the option that raises the cap, racing or not
 * (the cap is the host's, not a sign of a torn object). */
static void walk_past_the_time_cap_fails(void **state)
{
	struct fake f;
	struct vms_task t[1];
	int status, n;
	(void)state;

	build(&f, 60);
	open_kernel(&f);
	for (int race = 0; race < 2; race++) {
		f.ctx.racing = race;
		vms_op_begin(&f.ctx);
		f.ctx.deadline_ns = 1;	/* long past */
		f.ctx.ticks = 1000;	/* the clock is read 24 ticks on */
		n = walk(&f, &status, t, 1);
		assert_int_equal(status, -ETIMEDOUT);
		assert_true(n > 0 && n < 60);
		assert_non_null(strstr(f.ctx.err.msg, "--max-time"));
		vms_err_clear(&f.ctx);
	}
	/* The clock is read at an operation's first tick, not at its
	 * start: a call that never ticks costs no clock read. */
	vms_op_begin(&f.ctx);
	assert_int_equal(f.ctx.deadline_ns, 0);
	assert_int_equal(vms_tick(&f.ctx), 0);
	assert_true(f.ctx.deadline_ns > 0);
	/* A new operation has its own time; 0 seconds is no cap. */
	f.ctx.racing = false;
	vms_op_begin(&f.ctx);
	assert_int_equal(walk(&f, &status, t, 1), 60);
	assert_int_equal(status, 0);
	f.ctx.max_seconds = 0;
	vms_op_begin(&f.ctx);
	assert_int_equal(vms_tick(&f.ctx), 0);
	assert_int_equal(f.ctx.deadline_ns, 0);
	close_kernel(&f);
}

static void user_half_pointer_is_refused(void **state)
{
	struct fake f;
	struct vms_task t[1];
	int status;
	(void)state;

	build(&f, 3);
	put64(task_mem(&f, 2) + 200, 0x400000); /* into user space */
	open_kernel(&f);
	assert_int_equal(walk(&f, &status, t, 1), 2);
	assert_int_equal(status, -EBADMSG);
	assert_non_null(strstr(f.ctx.err.msg, "0x400000"));
	close_kernel(&f);

	build(&f, 3);
	put64(task_mem(&f, 1) + 200, DATA_VA + 0x700000); /* unmapped */
	open_kernel(&f);
	assert_int_equal(walk(&f, &status, t, 1), 1);
	assert_int_equal(status, -EFAULT);
	close_kernel(&f);
}

/* Warnings the walk logged, one per line. */
static char warnings[2048];

static void log_warnings(enum vms_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == VMS_LOG_WARN &&
	    strlen(warnings) + strlen(msg) + 2 < sizeof(warnings)) {
		strcat(warnings, msg);
		strcat(warnings, "\n");
	}
}

static void racing(struct fake *f)
{
	f->ctx.racing = true;
	f->ctx.log = log_warnings;
	warnings[0] = 0;
}

static void torn_task_is_left_out_while_racing(void **state)
{
	struct fake f;
	struct vms_task t[8];
	int status;
	(void)state;

	/* Task 2's cred pointer is freed memory's garbage. */
	build(&f, 3);
	put64(task_mem(&f, 2) + 408, 0x6b6b6b6b6b6b6b6bull);
	open_kernel(&f);
	assert_int_equal(walk(&f, &status, t, 8), 1);
	assert_int_equal(status, -EBADMSG); /* a dump: an error */
	close_kernel(&f);

	build(&f, 3);
	put64(task_mem(&f, 2) + 408, 0x6b6b6b6b6b6b6b6bull);
	open_kernel(&f);
	racing(&f);
	assert_int_equal(walk(&f, &status, t, 8), 2);
	assert_int_equal(status, 0);
	assert_int_equal(t[0].pid, 10);
	assert_int_equal(t[1].pid, 30); /* the walk went on past it */
	assert_int_equal(f.ctx.torn, 1);
	assert_int_equal(f.ctx.err.code, 0);
	assert_non_null(strstr(warnings, "task 0xffff888000202000 changed"));
	assert_non_null(strstr(warnings, "0x6b6b6b6b6b6b6b6b"));
	close_kernel(&f);
}

static void broken_list_ends_early_while_racing(void **state)
{
	struct fake f;
	struct vms_task t[8];
	int status;
	(void)state;

	/* Task 2's next is unmapped: tasks 1 and 2, then the end. */
	build(&f, 4);
	put64(task_mem(&f, 2) + 200, DATA_VA + 0x700000);
	open_kernel(&f);
	racing(&f);
	assert_int_equal(walk(&f, &status, t, 8), 2);
	assert_int_equal(status, 0);
	assert_int_equal(f.ctx.torn, 1);
	assert_non_null(strstr(warnings, "the task list past "
					 "0xffff8880002020c8 changed"));
	close_kernel(&f);

	/* A loop ends it the same way. */
	build(&f, 5);
	put64(task_mem(&f, 5) + 200, task_va(2) + 200);
	open_kernel(&f);
	racing(&f);
	assert_int_equal(walk(&f, &status, t, 8), 5);
	assert_int_equal(status, 0);
	assert_int_equal(f.ctx.torn, 1);
	assert_non_null(strstr(warnings, "loops"));
	close_kernel(&f);

	/* The bound is vmsight's, not the guest's state: still an error. */
	build(&f, 6);
	open_kernel(&f);
	racing(&f);
	f.ctx.max_tasks = 4;
	assert_int_equal(walk(&f, &status, t, 8), 4);
	assert_int_equal(status, -E2BIG);
	assert_int_equal(f.ctx.torn, 0);
	close_kernel(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_reads_every_field_through_the_layout),
		cmocka_unit_test(thread_list_is_walked_from_signal_struct),
		cmocka_unit_test(loop_that_misses_init_task_is_reported),
		cmocka_unit_test(list_longer_than_the_bound_stops),
		cmocka_unit_test(walk_past_the_time_cap_fails),
		cmocka_unit_test(user_half_pointer_is_refused),
		cmocka_unit_test(torn_task_is_left_out_while_racing),
		cmocka_unit_test(broken_list_ends_early_while_racing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
