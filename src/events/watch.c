/* SPDX-License-Identifier: MIT */
/*
 * Events: a breakpoint at a kernel function per kind of event, planted
 * over QEMU's gdbstub, and each hit decoded with the kernel model.
 *
 *   exec    begin_new_exec(bprm): exported (so never inlined away) since
 *           v5.8 (2388777a0a59), reached once the new image's format is
 *           accepted; bprm->filename is the path exec was given, and
 *           bprm->argc strings from bprm->p in the new mm are argv.
 *   exit    do_exit(code): every thread's end; code is exit_group's
 *           status << 8, or the killing signal.
 *   module  do_init_module(mod): noinline since v3.7 (kernel/module.c,
 *           now kernel/module/main.c); mod is the new struct module.
 *   syscall x64_sys_call(regs, nr), the dispatcher since v6.9
 *           (1e3ad78334a6, backported to 6.1 and 6.6), else
 *           do_syscall_64(regs, nr) (its argument order since v5.11);
 *           which argument is the struct pt_regs comes from BTF. The
 *           number is regs->orig_ax, the arguments regs->di, si, dx,
 *           r10, r8, r9; the name is that of the sys_call_table entry.
 *
 * At a hit the vCPU runs in the kernel, so its GS base is its per-CPU
 * area, __per_cpu_offset[cpu], and the task it runs is its run queue's
 * curr. The arguments are in rdi (the x86-64 calling convention).
 *
 * QEMU stops at a breakpoint before its instruction runs, and would stop
 * there again on "c". So each hit is stepped over. Under KVM, as GDB
 * itself does: remove that breakpoint, step the vCPU one instruction
 * ("s"; the other vCPUs run meanwhile and may pass the spot unseen),
 * plant it again, continue. Under TCG a single-stepping vCPU ignores
 * breakpoints (check_for_breakpoints_slow(), QEMU 6.2+), and planting or
 * removing one flushes every translated block (breakpoint_invalidate()):
 * there the breakpoint stays and the vCPU is only stepped. Hardware
 * breakpoints come first: under KVM a software one is an int3 written
 * into guest memory, a hardware one touches nothing.
 *
 * Nothing is left behind: vms_events_stop() stops the guest, removes
 * every breakpoint, and lets it run unless its owner had stopped it.
 * A watch that is killed (SIGKILL) cannot: its breakpoints stay in QEMU,
 * and the first hit after leaves the guest stopped ("debug"). The next
 * watch finds that state, and its "D" removes every breakpoint of the
 * stub and lets the guest run.
 *
 * A reboot is a QMP RESET event, looked for after every stop and every
 * 200 ms. The breakpoints go at once (the next kernel will put other
 * code at their addresses), the gdbstub connection with them, and the
 * guest runs on. Then, once a second, the caller's reload finds the
 * kernel a vCPU runs (an earlier boot's image stays in RAM, and is not
 * taken): its symbols, types and KASLR slide are resolved again, and
 * the probes planted anew, early enough to see init's exec. The run
 * queues' addresses are read again whenever a GS base matches none:
 * so early in boot, the per-CPU offsets are not yet final.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../access/gdb.h"
#include "../arch/mmu.h"
#include "events.h"

#define LAYER "events"
#define MAX_THREADS VMS_MAX_CPUS	/* vCPUs the stub may name */
#define STOP_WAIT_MS 2000		/* for the stop of an interrupt */
#define MAX_STALLS 3			/* steps that do not move, per hit */
#define SLICE_MS 200			/* reset checks while waiting */
#define RELOAD_MS 1000			/* after a reset, kernel searches */

#define MAX_SYSCALLS 4096
#define MAX_LOADING 64			/* modules mid-load at a re-arm */

enum probe_kind { P_EXEC, P_EXIT, P_MODULE, P_SYSCALL, NPROBES };

static const struct {
	const char *sym;	/* NULL: chosen at start */
	unsigned int event;
} probe_defs[NPROBES] = {
	[P_EXEC] = { "begin_new_exec", VMS_EVENT_EXEC },
	[P_EXIT] = { "do_exit", VMS_EVENT_EXIT },
	[P_MODULE] = { "do_init_module", VMS_EVENT_MODULE },
	[P_SYSCALL] = { NULL, VMS_EVENT_SYSCALL },
};

/* The syscall dispatchers, newest first. */
static const char *const syscall_fns[] = { "x64_sys_call", "do_syscall_64" };

struct probe {
	const char *sym;	/* the function */
	bool wanted;
	uint64_t va;
	bool planted;		/* in the stub now */
	bool hw;		/* as a hardware breakpoint */
};

struct vms_watch {
	struct vms_ctx *ctx;
	struct vms_source *src;
	struct vms_kernel *k;
	vms_events_reload_fn reload;
	void *reload_arg;
	struct vms_lifecycle life; /* QEMU's RESETs and SHUTDOWNs, last look */
	bool rebooting;		/* reset, no kernel found since */
	bool off;		/* powered off, no reset since */
	bool gone;		/* QEMU quit */
	uint64_t next_reload;	/* CLOCK_MONOTONIC ns of the next search */
	struct vms_gdb *gdb;
	char dir[64];		/* our stub's socket directory, or "" */
	char addr[128];		/* "unix:DIR/gdb.sock", or the caller's */
	struct probe probes[NPROBES];
	/* Per vCPU (thread id): the probe address it is stepping over,
	 * 0 when none. */
	uint64_t stepping[MAX_THREADS + 1];
	uint8_t stalls[MAX_THREADS + 1]; /* steps in a row that did not move */
	bool running;		/* a c or s is out and no stop came */
	bool owner_stopped;	/* a stop we did not ask for */
	bool attached;		/* a connection was made: it stopped the guest */
	bool tcg;		/* QEMU emulates the CPU: steps ignore breakpoints */
	/* Linux CPU by per-CPU offset, from the run queues. */
	struct vms_rq rqs[VMS_MAX_CPUS];
	uint64_t rq_base;	/* the runqueues symbol */
	size_t nrqs;
	struct vms_mod_walk mw;	/* for vms_mod_read() */
	bool mw_init;
	/* After a reboot: the modules the new boot loaded before the
	 * probes were planted in it, to report one by one (newest first,
	 * as the kernel lists them; reported from the end). */
	struct vms_mod *backlog;
	size_t nbacklog, backlog_cap;
	/* Of those, the ones still loading (address and name): their
	 * do_init_module() hit may yet come, and is then not reported a
	 * second time. */
	struct {
		uint64_t addr;
		char name[64];
	} loading[MAX_LOADING];
	size_t nloading;
	size_t bprm_filename, bprm_argc, bprm_p, bprm_mm;
	int regs_reg;		/* syscall: the register holding pt_regs */
	size_t pt_orig_ax, pt_args[6];
	char (*sys_names)[48];	/* by number, "" unknown */
	size_t nsys;
	int32_t pid;		/* filters */
	char comm[64];
	uint32_t max_rate;
	uint64_t second;	/* the rate limit's current second */
	uint32_t in_second;	/* events decoded in it */
	uint64_t dropped;	/* since the last event returned */
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Start QEMU's gdbstub on a Unix socket in a private directory. */
static int start_stub(struct vms_watch *w)
{
	char cmd[256], *out = NULL;
	int err;

	if (!w->src->ops || !w->src->ops->hmp)
		return vms_err(w->ctx, -ENOTSUP, LAYER,
			       "%s: events need a live QEMU source",
			       w->src->path);
	strcpy(w->dir, "/tmp/vmsight-gdb-XXXXXX");
	if (!mkdtemp(w->dir)) {
		w->dir[0] = 0;
		return vms_err(w->ctx, -errno, LAYER,
			       "cannot make a directory for the gdbstub: %s",
			       strerror(errno));
	}
	snprintf(w->addr, sizeof(w->addr), "unix:%s/gdb.sock", w->dir);
	/* QEMU (7.2) makes the new stub's character device before it drops
	 * the old one, and two of them clash ("duplicate yank instance"):
	 * a stub left by a killed watch, or a -gdb one, goes first. Its
	 * breakpoints stay, for the first connection's D to remove. */
	if ((err = w->src->ops->hmp(w->src, "gdbserver none", 4096, &out)))
		return err;
	free(out);
	out = NULL;
	snprintf(cmd, sizeof(cmd), "gdbserver %s,server=on,wait=off", w->addr);
	if ((err = w->src->ops->hmp(w->src, cmd, 4096, &out)))
		return err;
	/* QEMU 7.2 says "Waiting for gdb connection on device '...'". */
	if (!strstr(out, "Waiting for gdb connection"))
		err = vms_err(w->ctx, -EREMOTEIO, LAYER,
			      "%s: QEMU did not start its gdbstub: %.200s",
			      w->src->path, out);
	free(out);
	return err;
}

static void stop_stub(struct vms_watch *w)
{
	char *out = NULL, path[160];

	if (!w->dir[0])
		return;
	if (!w->gone &&
	    w->src->ops->hmp(w->src, "gdbserver none", 4096, &out))
		vms_log(w->ctx, VMS_LOG_WARN, "could not stop QEMU's gdbstub: "
			"%s", w->ctx->err.msg);
	free(out);
	snprintf(path, sizeof(path), "%s/gdb.sock", w->dir);
	unlink(path);
	rmdir(w->dir);
	w->dir[0] = 0;
}

/* Wait for the stop that an interrupt or a detach race produced; any
 * stop will do. A signal does not cut the wait short. */
static int wait_stopped(struct vms_watch *w)
{
	struct vms_gdb_stop st;
	uint64_t end = now_ns(CLOCK_MONOTONIC) + STOP_WAIT_MS * 1000000ull;

	for (;;) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		int r;

		if (now >= end)
			return vms_err(w->ctx, -ETIMEDOUT, LAYER,
				       "%s: the guest did not stop for the "
				       "gdbstub in %d ms", w->addr,
				       STOP_WAIT_MS);
		r = vms_gdb_wait(w->gdb, (int)((end - now) / 1000000), &st);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 1) {
			w->running = false;
			return 0;
		}
	}
}

/* Names of sys_call_table's entries. A table that does not read leaves
 * the names empty: the numbers still are right. */
static void syscall_names(struct vms_watch *w)
{
	struct vms_kernel *k = w->k;
	uint64_t table, *ent = NULL;
	size_t n = 0;

	if (vms_kernel_sym(k, "sys_call_table", &table) ||
	    vms_kernel_sym_table(k, table, "sys_call_table", MAX_SYSCALLS,
				 &ent, &n) ||
	    !n || !(w->sys_names = calloc(n, sizeof(*w->sys_names)))) {
		vms_err_clear(w->ctx);
		free(ent);
		return;
	}
	w->nsys = n;
	for (size_t i = 0; i < n; i++) {
		int64_t sym = vms_ksyms_floor(&k->ks, ent[i]);
		const char *name;

		if (sym < 0 || k->ks.addr[sym] != ent[i])
			continue;
		name = vms_ksyms_name(&k->ks, sym);
		if (!strncmp(name, "__x64_sys_", 10))
			name += 10;
		snprintf(w->sys_names[i], sizeof(w->sys_names[i]), "%s", name);
	}
	free(ent);
}

static int syscall_setup(struct vms_watch *w)
{
	static const int arg_regs[] = { VMS_RDI, VMS_RSI, VMS_RDX, VMS_RCX,
					VMS_R8, VMS_R9 };
	static const char *const args[6] = { "di", "si", "dx", "r10", "r8",
					      "r9" };
	struct vms_kernel *k = w->k;
	struct probe *pr = &w->probes[P_SYSCALL];
	unsigned int idx = 0;
	int err;

	for (size_t i = 0; i < VMS_ARRAY_SIZE(syscall_fns) && !pr->sym; i++)
		if (vms_ksyms_lookup(&k->ks, syscall_fns[i]) >= 0 &&
		    !vms_btf_func_param(k->btf, syscall_fns[i], "pt_regs",
					&idx) && idx < 6)
			pr->sym = syscall_fns[i];
	if (!pr->sym)
		return vms_err(w->ctx, -ENOENT, LAYER, "neither x64_sys_call "
			       "nor do_syscall_64 is in kallsyms with a "
			       "struct pt_regs argument in BTF: no syscall "
			       "events");
	w->regs_reg = arg_regs[idx];
	if ((err = vms_btf_member(k->btf, "pt_regs", "orig_ax",
				  &w->pt_orig_ax, NULL)))
		return vms_err(w->ctx, err, LAYER, "BTF has no pt_regs.orig_ax");
	for (int i = 0; i < 6; i++)
		if ((err = vms_btf_member(k->btf, "pt_regs", args[i],
					  &w->pt_args[i], NULL)))
			return vms_err(w->ctx, err, LAYER, "BTF has no "
				       "pt_regs.%s", args[i]);
	syscall_names(w);
	return 0;
}

/* What decode_setup() made from the kernel model. */
static void decode_teardown(struct vms_watch *w)
{
	if (w->mw_init)
		vms_mod_walk_fini(&w->mw);
	w->mw_init = false;
	free(w->backlog);
	w->backlog = NULL;
	w->nbacklog = w->backlog_cap = w->nloading = 0;
	free(w->sys_names);
	w->sys_names = NULL;
	w->nsys = 0;
	w->nrqs = 0;
	w->probes[P_SYSCALL].sym = NULL;
}

static int decode_setup(struct vms_watch *w)
{
	struct vms_kernel *k = w->k;
	int err;

	if ((err = vms_layout_resolve_sched(w->ctx, k->btf, &k->l)) ||
	    (err = vms_kernel_sym(k, "runqueues", &w->rq_base)) ||
	    (err = vms_sched_runqueues(k, w->rqs, VMS_ARRAY_SIZE(w->rqs),
				       &w->nrqs)))
		return err;
	if (w->probes[P_MODULE].wanted) {
		if ((err = vms_mod_walk_init(&w->mw, k)))
			return err;
		w->mw_init = true;
	}
	if (w->probes[P_SYSCALL].wanted && (err = syscall_setup(w)))
		return err;
	if (w->probes[P_EXEC].wanted) {
		struct { const char *m; size_t *off; } f[] = {
			{ "filename", &w->bprm_filename },
			{ "argc", &w->bprm_argc },
			{ "p", &w->bprm_p },
			{ "mm", &w->bprm_mm },
		};
		for (size_t i = 0; i < VMS_ARRAY_SIZE(f); i++)
			if ((err = vms_btf_member(k->btf, "linux_binprm", f[i].m,
						  f[i].off, NULL)))
				return vms_err(w->ctx, err, LAYER, "BTF has no "
					       "linux_binprm.%s: exec events "
					       "cannot be decoded", f[i].m);
	}
	return 0;
}

/* The run queue whose CPU's per-CPU area is at @gs_base, or NULL. */
static const struct vms_rq *rq_at(const struct vms_watch *w, uint64_t gs_base)
{
	for (size_t i = 0; i < w->nrqs; i++)
		if (w->rqs[i].addr - w->rq_base == gs_base)
			return &w->rqs[i];
	return NULL;
}

/* The task the vCPU @thread runs, and its Linux CPU number. */
static int current_task(struct vms_watch *w, uint32_t thread,
			const struct vms_gdb_regs *r, uint64_t *task,
			uint32_t *cpu)
{
	const struct vms_rq *rq = NULL;

	if (r->gs_base)
		rq = rq_at(w, r->gs_base);
	/* Per-CPU areas move once, early in boot (setup_per_cpu_areas()),
	 * and CPUs come and go: read the run queues again and look once
	 * more. */
	if (!rq && r->gs_base &&
	    !vms_sched_runqueues(w->k, w->rqs, VMS_ARRAY_SIZE(w->rqs),
				 &w->nrqs))
		rq = rq_at(w, r->gs_base);
	vms_err_clear(w->ctx);
	/* A stub without segment bases: QEMU numbers vCPUs as Linux
	 * numbers CPUs unless CPUs were hot-plugged out of order. */
	for (size_t i = 0; i < w->nrqs && !rq && !r->gs_base; i++)
		if (w->rqs[i].cpu + 1 == thread)
			rq = &w->rqs[i];
	if (!rq)
		return vms_err(w->ctx, -EBADMSG, LAYER,
			       "vCPU %u: GS base %#llx is no CPU's per-CPU "
			       "area", thread, (unsigned long long)r->gs_base);
	*cpu = rq->cpu;
	return vms_kernel_read_u64(w->k, rq->addr + w->k->l.rq_curr, task);
}

static bool comm_matches(struct vms_watch *w, const char *comm)
{
	return !w->comm[0] || !strcmp(w->comm, comm);
}

/* argv: bprm->argc strings from bprm->p in the new mm. */
static void exec_args(struct vms_watch *w, uint64_t bprm,
		      struct vms_event *ev)
{
	struct vms_kernel *k = w->k;
	uint64_t p = 0, mm = 0, root;
	uint8_t b[4];
	size_t got = 0, n = 0;
	uint32_t argc;

	if (vms_kernel_read(k, bprm + w->bprm_argc, b, 4) ||
	    vms_kernel_read_u64(k, bprm + w->bprm_p, &p) ||
	    vms_kernel_read_u64(k, bprm + w->bprm_mm, &mm) ||
	    !vms_is_kernel_addr(k, mm) || vms_mm_root(k, mm, &root)) {
		vms_err_clear(w->ctx);
		return;
	}
	argc = vms_le32(b);
	ev->argc = argc;
	vms_task_read_user(k, root, p, (uint8_t *)ev->argv,
			   sizeof(ev->argv) - 1, &got);
	/* Keep whole strings only, at most argc of them. */
	for (uint32_t i = 0; i < argc; i++) {
		char *nul = memchr(ev->argv + n, 0, got - n);
		if (!nul)
			break;
		n = (size_t)(nul - ev->argv) + 1;
	}
	ev->argv_len = n;
	memset(ev->argv + n, 0, sizeof(ev->argv) - n);
}

/* Whether the load of module @mod named @name was reported from the
 * list at a re-arm, while it was still loading; forgotten once asked. */
static bool loading_take(struct vms_watch *w, uint64_t mod, const char *name)
{
	for (size_t i = 0; i < w->nloading; i++) {
		if (w->loading[i].addr != mod ||
		    strcmp(w->loading[i].name, name))
			continue;
		w->loading[i] = w->loading[--w->nloading];
		return true;
	}
	return false;
}

/*
 * Decode the hit of probe @p on vCPU @thread into @ev: 1 if it is to be
 * reported, 0 if a filter or the rate limit dropped it. Guest data that
 * does not decode drops the event with a warning: one odd task must not
 * end a watch.
 */
static int decode(struct vms_watch *w, enum probe_kind p, uint32_t thread,
		  const struct vms_gdb_regs *r, struct vms_event *ev)
{
	struct vms_kernel *k = w->k;
	uint64_t task = 0, arg = r->gpr[VMS_RDI];
	struct vms_task t;
	uint32_t cpu = 0;
	int err;

	/* The guest ran since the last hit: cached translations of user
	 * addresses may name pages it has since reused (each exec builds
	 * its new stack at the same address, often in the same pages). */
	vms_mmu_flush(&k->mmu);
	if ((err = current_task(w, thread, r, &task, &cpu)) ||
	    (err = vms_task_read(k, task, &t))) {
		vms_log(w->ctx, VMS_LOG_WARN, "%s hit on vCPU %u not decoded: "
			"%s", w->probes[p].sym, thread, w->ctx->err.msg);
		vms_err_clear(w->ctx);
		return 0;
	}
	if (w->pid && t.tgid != w->pid)
		return 0;

	size_t sz = ev->sz;
	memset(ev, 0, sz);
	ev->sz = sz;
	ev->type = probe_defs[p].event;
	ev->time_ns = now_ns(CLOCK_REALTIME);
	ev->cpu = cpu;
	ev->pid = t.tgid;
	ev->tid = t.pid;
	ev->ppid = t.ppid;
	ev->uid = t.uid;
	snprintf(ev->comm, sizeof(ev->comm), "%s", t.comm);
	if (p == P_EXEC) {
		/* The comm filter sees the new program's name:
		 * begin_new_exec() names the task after the path's last
		 * component (__set_task_comm(me, kbasename(filename))). */
		uint64_t fn = 0;
		const char *base;

		if (vms_kernel_read_u64(k, arg + w->bprm_filename, &fn) ||
		    !vms_is_kernel_addr(k, fn))
			vms_err_clear(w->ctx);
		else
			vms_kernel_read_str(k, fn, ev->path, sizeof(ev->path));
		base = strrchr(ev->path, '/');
		base = base ? base + 1 : ev->path;
		if (*base)
			snprintf(ev->comm, sizeof(ev->comm), "%.15s", base);
	}
	if (!comm_matches(w, ev->comm))
		return 0;
	/* The rate limit counts only what the filters let through. */
	uint64_t sec = now_ns(CLOCK_MONOTONIC) / 1000000000u;
	if (sec != w->second) {
		w->second = sec;
		w->in_second = 0;
	}
	if (++w->in_second > w->max_rate) {
		w->dropped++;
		return 0;
	}

	switch (p) {
	case P_EXEC:
		exec_args(w, arg, ev);
		break;
	case P_EXIT:
		ev->code = (int64_t)arg;
		break;
	case P_MODULE: {
		struct vms_mod m;

		if (vms_mod_read(&w->mw, arg, &m)) {
			vms_log(w->ctx, VMS_LOG_WARN, "module load at %#llx not "
				"decoded: %s", (unsigned long long)arg,
				w->ctx->err.msg);
			vms_err_clear(w->ctx);
			return 0;
		}
		if (loading_take(w, arg, m.name))
			return 0; /* reported from the list already */
		snprintf(ev->module, sizeof(ev->module), "%s", m.name);
		ev->module_addr = arg;
		ev->module_base = m.base;
		break;
	}
	case P_SYSCALL: {
		uint64_t regs = r->gpr[w->regs_reg], v;

		ev->nr = -1;
		if (vms_kernel_read_u64(k, regs + w->pt_orig_ax, &v)) {
			vms_err_clear(w->ctx);
			break;
		}
		ev->nr = (int64_t)v;
		if (v < w->nsys)
			snprintf(ev->name, sizeof(ev->name), "%s",
				 w->sys_names[v]);
		for (int i = 0; i < 6; i++)
			if (vms_kernel_read_u64(k, regs + w->pt_args[i],
						&ev->args[i]))
				vms_err_clear(w->ctx);
		break;
	}
	default:
		break;
	}
	ev->dropped = w->dropped;
	w->dropped = 0;
	return 1;
}

static int plant(struct vms_watch *w, struct probe *pr)
{
	int err = vms_gdb_break(w->gdb, pr->va, &pr->hw);

	if (!err)
		pr->planted = true;
	return err;
}

static struct probe *probe_at(struct vms_watch *w, uint64_t va)
{
	for (int i = 0; i < NPROBES; i++)
		if (w->probes[i].wanted && w->probes[i].va == va)
			return &w->probes[i];
	return NULL;
}

static int cont(struct vms_watch *w)
{
	int err = vms_gdb_cont(w->gdb);

	if (!err)
		w->running = true;
	return err;
}

/* Connect to the stub, detach (which removes every breakpoint it holds,
 * those of a killed watch too, and lets the guest run), connect again:
 * the guest is then stopped with no breakpoint in the stub. */
static int attach(struct vms_watch *w, bool leftover)
{
	int err;

	w->attached = true;
	if ((err = vms_gdb_open(w->ctx, w->addr, &w->gdb)))
		return err;
	if (leftover)
		vms_log(w->ctx, VMS_LOG_WARN, "%s: the guest is stopped at a "
			"breakpoint an earlier watch left; removing every "
			"breakpoint of the gdbstub", w->src->path);
	err = vms_gdb_detach(w->gdb);
	vms_gdb_close(w->gdb);
	w->gdb = NULL;
	if (err)
		return err;
	return vms_gdb_open(w->ctx, w->addr, &w->gdb);
}

/* The source's account of the guest's life into *@ret, filled even when
 * the call fails; a source that cannot tell leaves it as it is. */
static int life_now(struct vms_watch *w, struct vms_lifecycle *ret)
{
	return w->src->ops->lifecycle ? w->src->ops->lifecycle(w->src, ret)
				      : 0;
}

/* The probes' addresses in the kernel model. */
static int resolve(struct vms_watch *w)
{
	int err;

	for (int i = 0; i < NPROBES; i++) {
		struct probe *pr = &w->probes[i];
		if (pr->wanted && (err = vms_kernel_sym(w->k, pr->sym, &pr->va)))
			return err;
	}
	return 0;
}

/* Attach, plant every probe, let the guest run. */
static int arm(struct vms_watch *w, bool leftover)
{
	int err;

	if ((err = attach(w, leftover)))
		return err;
	/* The connection stopped the guest: take that stop, plant, run. */
	if (vms_gdb_stop_pending(w->gdb)) {
		struct vms_gdb_stop st;
		vms_gdb_wait(w->gdb, 0, &st);
	}
	for (int i = 0; i < NPROBES; i++)
		if (w->probes[i].wanted && (err = plant(w, &w->probes[i])))
			return err;
	for (int i = 0; i < NPROBES; i++)
		if (w->probes[i].wanted)
			vms_log(w->ctx, VMS_LOG_INFO, "events: %s breakpoint at "
				"%s (%#llx)", w->probes[i].hw ? "hardware"
				: "software", w->probes[i].sym,
				(unsigned long long)w->probes[i].va);
	return cont(w);
}

/* Close the stub connection and forget the state of the steps it
 * served. */
static void drop_conn(struct vms_watch *w)
{
	vms_gdb_close(w->gdb);
	w->gdb = NULL;
	w->running = false;
	memset(w->stepping, 0, sizeof(w->stepping));
	memset(w->stalls, 0, sizeof(w->stalls));
}

/*
 * Stop the guest if it runs, remove every breakpoint, detach (the guest
 * runs again unless its owner stopped it) and close the connection.
 * The first failure is returned, after the connection is closed.
 */
static int disarm(struct vms_watch *w)
{
	int err = 0, zerr = 0, e = 0;

	if (!w->gdb)
		return 0;
	if (w->running && !w->owner_stopped) {
		if (!(err = vms_gdb_interrupt(w->gdb)))
			err = wait_stopped(w);
	}
	/* Each breakpoint removed by name, so that a failure is seen; then
	 * D removes whatever else the stub holds and lets the guest run,
	 * unless its owner stopped it. A removal QEMU refuses (under KVM, a
	 * software breakpoint whose address no longer maps, after a reset)
	 * is one D still removes. */
	for (int i = 0; i < NPROBES && !err; i++) {
		struct probe *pr = &w->probes[i];
		if (pr->planted && !(e = vms_gdb_unbreak(w->gdb, pr->va, pr->hw)))
			pr->planted = false;
		else if (pr->planted && !zerr)
			zerr = e;
	}
	if (!err && !w->owner_stopped && !(err = vms_gdb_detach(w->gdb))) {
		for (int i = 0; i < NPROBES; i++)
			w->probes[i].planted = false;
		if (zerr)
			vms_err_clear(w->ctx);
		zerr = 0;
	}
	drop_conn(w);
	return err ? err : zerr;
}

int vms_events_start(struct vms_ctx *ctx, struct vms_source *src,
		     struct vms_kernel *k, vms_events_reload_fn reload,
		     void *reload_arg, const struct vms_watch_opts *o,
		     struct vms_watch **ret)
{
	struct vms_watch *w;
	char state[64];
	unsigned int events = o && o->events ? o->events
			      : VMS_EVENT_EXEC | VMS_EVENT_EXIT |
				VMS_EVENT_MODULE;
	int err;

	*ret = NULL;
	if (events & ~(unsigned int)(VMS_EVENT_EXEC | VMS_EVENT_EXIT |
				     VMS_EVENT_MODULE | VMS_EVENT_SYSCALL))
		return vms_err(ctx, -EINVAL, LAYER, "unknown event bits %#x",
			       events);
	if (!src->ops || !src->ops->run_state)
		return vms_err(ctx, -ENOTSUP, LAYER, "%s: events need a live "
			       "QEMU source (qemu:QMP_SOCKET)", src->path);
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	w->ctx = ctx;
	w->src = src;
	w->k = k;
	w->reload = reload;
	w->reload_arg = reload_arg;
	w->max_rate = o && o->max_rate ? o->max_rate : 1000;
	w->pid = o ? o->pid : 0;
	if (o && o->comm)
		snprintf(w->comm, sizeof(w->comm), "%s", o->comm);
	if ((events & VMS_EVENT_SYSCALL) && !w->pid && !w->comm[0]) {
		err = vms_err(ctx, -EINVAL, LAYER, "syscall events stop the "
			      "guest at every system call: they need a pid or "
			      "comm filter");
		goto fail;
	}
	for (int i = 0; i < NPROBES; i++) {
		w->probes[i].wanted = events & probe_defs[i].event;
		w->probes[i].sym = probe_defs[i].sym;
	}
	if ((err = decode_setup(w)) || (err = resolve(w)))
		goto fail;
	/* Resets from here on are reboots to follow. */
	if ((err = life_now(w, &w->life)))
		goto fail;
	if ((err = src->ops->run_state(src, state, sizeof(state))))
		goto fail;
	/* "debug": stopped at a breakpoint nobody serves, which only a
	 * killed watch leaves. Any other stop is the owner's. */
	bool leftover = !strcmp(state, "debug");
	if (!leftover && strcmp(state, "running")) {
		err = vms_err(ctx, -EBUSY, LAYER, "%s: the guest is %s; a "
			      "watch needs it running", src->path, state);
		goto fail;
	}
	/* "kvm support: enabled" (hmp_info_kvm()); anything else is TCG,
	 * and a monitor that does not answer is taken for KVM, whose way
	 * works under both. */
	if (src->ops->hmp) {
		char *kvm = NULL;
		if (!src->ops->hmp(src, "info kvm", 4096, &kvm))
			w->tcg = !strstr(kvm, "kvm support: enabled");
		vms_err_clear(ctx);
		free(kvm);
	}
	if (o && o->gdb)
		snprintf(w->addr, sizeof(w->addr), "%s", o->gdb);
	else if ((err = start_stub(w)))
		goto fail;
	if ((err = arm(w, leftover)))
		goto fail;
	*ret = w;
	return 0;
fail:
	vms_events_stop(w);
	return err;
}

/* A stop for @thread: step over a probe, finish a step, or move on. */
static int on_trap(struct vms_watch *w, uint32_t thread,
		   struct vms_event *ev, bool *got)
{
	struct vms_gdb_regs r;
	struct probe *pr;
	int err;

	if (!thread || thread > MAX_THREADS)
		return vms_err(w->ctx, -EBADMSG, LAYER, "%s: a stop on vCPU "
			       "thread %u", w->addr, thread);
	if ((err = vms_gdb_regs(w->gdb, thread, &r)))
		return err;
	if (w->stepping[thread] && r.rip != w->stepping[thread]) {
		/* The step is done: plant again what no other vCPU is
		 * stepping over. */
		uint64_t va = w->stepping[thread];
		bool busy = false;

		w->stepping[thread] = 0;
		w->stalls[thread] = 0;
		for (uint32_t i = 1; i <= MAX_THREADS; i++)
			busy |= w->stepping[i] == va;
		pr = probe_at(w, va);
		if (pr && !pr->planted && !busy && (err = plant(w, pr)))
			return err;
		return cont(w);
	}
	pr = probe_at(w, r.rip);
	if (w->stepping[thread] && pr) {
		/* A step that did not move: seen under TCG, with the
		 * breakpoint left in place, now and then. Step again with
		 * it removed, as under KVM; a vCPU that still does not move
		 * is stuck, and the watch ends rather than spin. */
		if (++w->stalls[thread] > MAX_STALLS)
			return vms_err(w->ctx, -EIO, LAYER, "vCPU %u does not "
				       "step past %s (%#llx)", thread, pr->sym,
				       (unsigned long long)pr->va);
		if (pr->planted) {
			if ((err = vms_gdb_unbreak(w->gdb, pr->va, pr->hw)))
				return err;
			pr->planted = false;
		}
		if ((err = vms_gdb_step(w->gdb, thread)))
			return err;
		w->running = true;
		return 0;
	}
	if (!pr || w->stepping[thread])
		return cont(w);	/* not ours */
	*got = decode(w, (enum probe_kind)(pr - w->probes), thread, &r, ev)
	       == 1;
	if (pr->planted && !w->tcg) {
		if ((err = vms_gdb_unbreak(w->gdb, pr->va, pr->hw)))
			return err;
		pr->planted = false;
	}
	w->stepping[thread] = pr->va;
	if ((err = vms_gdb_step(w->gdb, thread)))
		return err;
	w->running = true;
	return 0;
}

/* An event of the watch itself (reset, kernel), with no task. */
static void watch_event(struct vms_event *ev, enum vms_event_type type)
{
	size_t sz = ev->sz;

	memset(ev, 0, sz);
	ev->sz = sz;
	ev->type = type;
	ev->time_ns = now_ns(CLOCK_REALTIME);
	ev->pid = ev->tid = ev->ppid = -1;
}

/* QEMU ends after a SHUTDOWN for this @reason even under -no-shutdown:
 * a quit or a signal forces it (force_shutdown, softmmu/runstate.c,
 * QEMU 6.0 and later; before, both set the action to power off). */
static bool quitting(const char *reason)
{
	return !strcmp(reason, "host-qmp-quit") ||
	       !strcmp(reason, "host-signal");
}

/* The guest powered off (or QEMU was told to quit): 1 with a SHUTDOWN
 * event, nothing planted any more. If QEMU is @gone or quitting, there
 * is nothing to remove breakpoints from: it closes its gdbstub as it
 * goes, and a removal would meet a closed connection. Else
 * (-no-shutdown keeps it, stopped) they are removed as at the end of a
 * watch; if that fails and QMP no longer answers either, QEMU is gone
 * all the same. */
static int power_off(struct vms_watch *w, bool gone, struct vms_event *ev)
{
	char state[64];
	int err;

	gone = gone || quitting(w->life.reason);
	if (!gone) {
		/* A guest in QEMU's "shutdown" state ignores both the
		 * interrupt (no stop reply comes) and a continue. */
		if (w->running &&
		    !w->src->ops->run_state(w->src, state, sizeof(state)) &&
		    strcmp(state, "running"))
			w->running = false;
		vms_err_clear(w->ctx);
		if ((err = disarm(w))) {
			struct vms_error saved = w->ctx->err;

			if (err == -ENOMEM)
				return err;
			vms_err_clear(w->ctx);
			if (!w->src->ops->run_state(w->src, state,
						    sizeof(state))) {
				w->ctx->err = saved;
				return err;
			}
			vms_err_clear(w->ctx);
			gone = true;
		}
	}
	if (gone) {
		w->gone = true;
		drop_conn(w);
		for (int i = 0; i < NPROBES; i++)
			w->probes[i].planted = false;
	}
	vms_log(w->ctx, VMS_LOG_INFO, "%s: the guest powered off (%s)%s",
		w->src->path, w->life.reason[0] ? w->life.reason : "no reason",
		gone ? "" : "; breakpoints removed until it is reset");
	decode_teardown(w);
	w->owner_stopped = false;
	w->rebooting = false;
	w->off = true;
	watch_event(ev, VMS_EVENT_SHUTDOWN);
	snprintf(ev->reason, sizeof(ev->reason), "%s", w->life.reason);
	return 1;
}

/*
 * What QEMU said of the guest's life since the last look: 1 with a
 * SHUTDOWN event if it powered off (power_off()); else 1 with a RESET
 * event if it was reset, and then nothing of the old kernel stays
 * planted; 0 if neither. A SHUTDOWN is reported before a RESET that
 * follows it (the owner's system_reset of a guest kept by -no-shutdown),
 * and before QEMU's end (@gone, or the QMP connection lost).
 */
static int check_life(struct vms_watch *w, bool gone, struct vms_event *ev)
{
	struct vms_lifecycle now = w->life;
	int err = life_now(w, &now);

	if (now.shutdowns != w->life.shutdowns) {
		w->life.shutdowns = now.shutdowns;
		memcpy(w->life.reason, now.reason, sizeof(now.reason));
		if (err)
			vms_err_clear(w->ctx);
		return power_off(w, gone || err, ev);
	}
	if (err || now.resets == w->life.resets)
		return err;
	w->life.resets = now.resets;
	if (w->rebooting)
		return 0; /* a reset while rebooting: the same reboot */
	w->off = false;
	vms_log(w->ctx, VMS_LOG_INFO, "%s: the guest was reset; breakpoints "
		"removed until its next kernel runs", w->src->path);
	if ((err = disarm(w)))
		return err;
	decode_teardown(w);
	w->owner_stopped = false;
	w->rebooting = true;
	w->next_reload = now_ns(CLOCK_MONOTONIC);
	watch_event(ev, VMS_EVENT_RESET);
	return 1;
}

/*
 * Once the probes are planted in a new boot's kernel: list the modules
 * that boot loaded while the watch looked for it, which no probe saw (a
 * slow search, or init loading modules early). They are reported after
 * the KERNEL event, with no task: their loaders are unknown. A module
 * still loading may be past do_init_module()'s entry, or may yet hit
 * it: it is reported now and remembered, so that a hit does not repeat
 * it. The guest runs meanwhile, so a torn list gives what was read, and
 * the watch goes on with a warning; only -ENOMEM ends it.
 */
static int backlog_fill(struct vms_watch *w)
{
	struct vms_mod_walk mw;
	struct vms_mod m;
	int r = 0, err;

	/* The filters name the loader, which these events lack. */
	if (!w->probes[P_MODULE].wanted || w->pid || w->comm[0])
		return 0;
	if (!(err = vms_mod_walk_init(&mw, w->k))) {
		while ((r = vms_mod_walk_next(&mw, &m)) == 1) {
			if ((r = vms_grow(w->ctx, &w->backlog,
					  &w->backlog_cap, w->nbacklog,
					  sizeof(m), 16, SIZE_MAX)))
				break;
			w->backlog[w->nbacklog++] = m;
			if (strcmp(m.state, "Live") &&
			    w->nloading < MAX_LOADING) {
				w->loading[w->nloading].addr = m.addr;
				memcpy(w->loading[w->nloading++].name, m.name,
				       sizeof(m.name));
			}
		}
		vms_mod_walk_fini(&mw);
		err = r < 0 ? r : 0;
	}
	if (err == -ENOMEM)
		return err;
	if (err) {
		vms_log(w->ctx, VMS_LOG_WARN, "the modules the new boot "
			"loaded before the watch saw it are not all listed "
			"(%zu read): %s", w->nbacklog, w->ctx->err.msg);
		vms_err_clear(w->ctx);
	}
	return 0;
}

/* The next module of the backlog as an event, oldest first: 1, or 0 if
 * none is left. */
static int backlog_next(struct vms_watch *w, struct vms_event *ev)
{
	const struct vms_mod *m;

	if (!w->nbacklog)
		return 0;
	m = &w->backlog[--w->nbacklog];
	watch_event(ev, VMS_EVENT_MODULE);
	ev->listed = true;
	memcpy(ev->module, m->name, VMS_MIN(sizeof(ev->module),
					    sizeof(m->name)));
	ev->module[sizeof(ev->module) - 1] = 0;
	ev->module_addr = m->addr;
	ev->module_base = m->base;
	if (!w->nbacklog) {
		free(w->backlog);
		w->backlog = NULL;
		w->backlog_cap = 0;
	}
	return 1;
}

/* After a reset: 1 with a KERNEL event once the new kernel is found and
 * the probes are planted in it, 0 while it is not running yet. */
static int try_rearm(struct vms_watch *w, struct vms_event *ev)
{
	struct vms_kernel *k = NULL;
	int err;

	w->next_reload = now_ns(CLOCK_MONOTONIC) + RELOAD_MS * 1000000ull;
	/* A reset while rebooting is part of the same reboot; a power-off
	 * is reported. */
	if ((err = check_life(w, false, ev)) != 0)
		return err;
	err = w->reload(w->reload_arg, &k);
	if (err == -ENOMEM)
		return err;
	if (err) {
		vms_log(w->ctx, VMS_LOG_DEBUG, "no kernel yet: %s",
			w->ctx->err.msg);
		vms_err_clear(w->ctx);
		return 0;
	}
	w->k = k;
	/* So early in boot, nr_cpu_ids may still be NR_CPUS: try again. */
	if ((err = decode_setup(w)) || (err = resolve(w))) {
		vms_log(w->ctx, VMS_LOG_DEBUG, "the new kernel is not ready: "
			"%s", w->ctx->err.msg);
		vms_err_clear(w->ctx);
		decode_teardown(w);
		return err == -ENOMEM ? err : 0;
	}
	if ((err = arm(w, false)) || (err = backlog_fill(w)))
		return err;
	w->rebooting = false;
	watch_event(ev, VMS_EVENT_KERNEL);
	snprintf(ev->release, sizeof(ev->release), "%s", k->release);
	ev->text_vaddr = k->text_va;
	ev->kaslr_slide = vms_kaslr_slide(k);
	vms_log(w->ctx, VMS_LOG_INFO, "%s: kernel %s runs, _text at %#llx; "
		"breakpoints planted again", w->src->path, k->release,
		(unsigned long long)k->text_va);
	return 1;
}

/* A talk with the gdbstub failed (@err): if QEMU said SHUTDOWN first,
 * it is quitting, and that is the event (1); else @err stands. */
static int gdb_failed(struct vms_watch *w, int err, struct vms_event *ev)
{
	struct vms_error saved = w->ctx->err;
	int r;

	if (err == -ENOMEM)
		return err;
	vms_err_clear(w->ctx);
	if ((r = check_life(w, true, ev)) > 0)
		return r;
	w->ctx->err = saved;
	return err;
}

int vms_events_next(struct vms_watch *w, int timeout_ms, struct vms_event *ev)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) +
		       (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;

	for (;;) {
		struct vms_gdb_stop st;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		int left = now >= end ? 0 : (int)((end - now) / 1000000u);
		bool got = false, gone;
		int r, stop;

		if (backlog_next(w, ev))
			return 1;
		if (w->off) {
			/* Powered off: a reset brings it back; QEMU's end
			 * ends the watch. */
			if ((r = check_life(w, false, ev)) > 0)
				return r;
			if (r < 0) {
				vms_err_clear(w->ctx);
				w->gone = true;
				return vms_err(w->ctx, -ESRCH, LAYER,
					       "%s: the guest powered off and "
					       "QEMU is gone", w->src->path);
			}
		} else if (w->rebooting && now >= w->next_reload) {
			vms_op_begin(w->ctx); /* a reload is one operation */
			if ((r = try_rearm(w, ev)) != 0)
				return r;
		}
		if (w->rebooting || w->off) {
			if (now >= end)
				return 0;
			/* Asleep until the next look or the caller's deadline,
			 * both ahead of now. */
			uint64_t wake = w->off ? now + SLICE_MS * 1000000ull
					       : w->next_reload;
			uint64_t nap = VMS_MIN(end, wake) - now;
			struct timespec d = {
				.tv_sec = (time_t)(nap / 1000000000u),
				.tv_nsec = (long)(nap % 1000000000u),
			};
			if (nanosleep(&d, NULL))
				return -EINTR;
			continue;
		}
		stop = vms_gdb_wait(w->gdb, VMS_MIN(left, SLICE_MS), &st);
		if (stop < 0)
			return gdb_failed(w, stop, ev);
		if (stop)
			w->running = false;
		/* Before anything of the stop is read: after a reset or a
		 * power-off, the old kernel's model means nothing. (A QEMU
		 * that quit without a SHUTDOWN is told as such, not as a lost
		 * QMP connection.) */
		gone = stop && st.why == VMS_GDB_GONE;
		if ((r = check_life(w, gone, ev)) > 0 || (r < 0 && !gone))
			return r;
		if (r < 0)
			vms_err_clear(w->ctx);
		if (!stop) {
			if (!left)
				return 0;
			continue;
		}
		switch (st.why) {
		case VMS_GDB_GONE:
			w->gone = true;
			return vms_err(w->ctx, -ESRCH, LAYER, "%s: the guest is "
				       "gone", w->src->path);
		case VMS_GDB_INT:
			/* Stopped over QMP by its owner: wait for their cont;
			 * the breakpoints stay and report when it runs. The
			 * guest counts as running for vms_events_stop(),
			 * which asks QEMU before it interrupts. */
			w->owner_stopped = true;
			w->running = true;
			continue;
		case VMS_GDB_TRAP:
			w->owner_stopped = false;
			vms_op_begin(w->ctx); /* each event is one */
			if ((r = on_trap(w, st.thread, ev, &got)))
				return gdb_failed(w, r, ev);
			if (got)
				return 1;
			continue;
		default:
			if ((r = cont(w)))
				return gdb_failed(w, r, ev);
			continue;
		}
	}
}

int vms_events_stop(struct vms_watch *w)
{
	int err;

	if (!w)
		return 0;
	if (w->gdb && w->owner_stopped) {
		char state[64];

		/* An owner who stopped the guest may have let it run since. */
		if (!w->src->ops->run_state(w->src, state, sizeof(state)) &&
		    !strcmp(state, "running"))
			w->owner_stopped = false;
	}
	err = disarm(w);
	/* If the stub could not be told (a broken or half-made connection,
	 * which stopped the guest all the same), the guest must still not
	 * stay stopped on vmsight's account: QMP lets it run. */
	if (w->attached && !w->owner_stopped) {
		char state[64];
		if (!w->src->ops->run_state(w->src, state, sizeof(state)) &&
		    strcmp(state, "running") && w->src->ops->resume &&
		    !w->src->ops->resume(w->src))
			vms_log(w->ctx, VMS_LOG_WARN, "%s: the gdbstub failed; "
				"the guest was let run over QMP", w->src->path);
	}
	stop_stub(w);
	decode_teardown(w);
	free(w);
	return err;
}
