/* SPDX-License-Identifier: MIT */
/*
 * The intrusion-detection checks: one table of registered checks
 * (registry.c), one file per family (syscalls.c, hidden.c). A check
 * compares independent views of the guest kernel, or compares kernel
 * pointers with kernel text and symbols, and reports each discrepancy as
 * a structured finding through vms_chk_emit().
 */
#ifndef VMS_CHECKS_H
#define VMS_CHECKS_H

#include <vmsight/vmsight.h>

#include "../linux/kernel.h"

/* A module as the checks see it: found on the module list, in sysfs
 * (module_kset), carved from module memory, or any of these. */
struct vms_chk_mod {
	uint64_t addr;		/* struct module */
	char name[64];
	bool listed;		/* on the module list */
	bool in_sysfs;		/* a module_kobject in module_kset */
	bool in_memory;		/* carved from module memory */
	struct vms_range regions[8];
	int nregions;
};

/* Policy rules (policy.c). */
enum vms_pol_kind {
	VMS_POL_RUN,		/* run CHECK */
	VMS_POL_SKIP,		/* skip CHECK */
	VMS_POL_SEVERITY,	/* severity CHECK SEV */
	VMS_POL_IGNORE,		/* ignore CHECK OBJECT-PATTERN */
	VMS_POL_MODULE,		/* allow module NAME */
	VMS_POL_PROCESS,	/* allow process NAME */
	VMS_POL_LISTENER,	/* allow listener PROTO ADDR:PORT [PROCESS] */
	VMS_POL_RAW,		/* allow raw PROCESS */
	VMS_POL_PACKET,		/* allow packet PROCESS */
	VMS_POL_PROMISC,	/* allow promisc INTERFACE */
};

/* Does the policy have any rule of @kind? (NULL: none.) */
bool vms_pol_has(const struct vms_policy *p, enum vms_pol_kind kind);
/* Does a rule of @kind match @name (shell patterns, fnmatch)? */
bool vms_pol_allows(const struct vms_policy *p, enum vms_pol_kind kind,
		    const char *name);
bool vms_pol_allows_listener(const struct vms_policy *p, const char *proto,
			     const char *local, const char *comm);
bool vms_pol_ignores(const struct vms_policy *p, const char *check,
		     const char *object);
int vms_pol_severity(const struct vms_policy *p, const char *check,
		     enum vms_severity *ret);

struct vms_chk {
	struct vms_kernel *k;
	const struct vms_policy *policy; /* may be NULL */
	const struct vms_yara *yara;	/* rules for "yara", may be NULL */
	const char *check;	/* the running check's name */
	enum vms_severity severity;
	vms_finding_fn fn;
	void *arg;
	int findings;
	uint64_t stext, etext;	/* kernel text */
	/* Modules from both views, loaded on first use. */
	struct vms_chk_mod *mods;
	size_t nmods;
	bool mods_loaded;
};

struct vms_check_def {
	const char *name;
	const char *title;
	enum vms_severity severity;
	int (*run)(struct vms_chk *c);
};

extern const struct vms_check_def vms_checks[];
extern const size_t vms_checks_count;

/* Run check @name; returns findings or < 0 (k->ctx holds the error). */
int vms_chk_run(struct vms_kernel *k, const struct vms_policy *policy,
		const struct vms_yara *yara, const char *name,
		vms_finding_fn fn, void *arg);

/* Report one finding. */
int vms_chk_emit(struct vms_chk *c, const char *object, const char *evidence,
		 uint64_t addr, uint64_t target, const char *owner);

/* The same at another severity than the check's: an inventory entry
 * (info) next to a hook into hidden code (high). */
int vms_chk_emit_sev(struct vms_chk *c, enum vms_severity sev,
		     const char *object, const char *evidence, uint64_t addr,
		     uint64_t target, const char *owner);

/* Symbols: the index of the symbol at or below @addr, or -1. */
int64_t vms_chk_sym_floor(struct vms_chk *c, uint64_t addr);
/* The address of the next symbol above @addr, or 0. */
uint64_t vms_chk_sym_next(struct vms_chk *c, uint64_t addr);
/* Is there a symbol called @name exactly at @addr? */
bool vms_chk_sym_is(struct vms_chk *c, uint64_t addr, const char *name);
/* "sym" or "sym+0x10" for the symbol at or below @addr into @out (""
 * and false if there is none). kallsyms has no sizes: this names the
 * symbol below, it does not claim @addr is inside it. */
bool vms_chk_sym_off(struct vms_chk *c, uint64_t addr, char *out,
		     size_t len);
/* A symbol exactly at @addr whose name starts with @prefix, or NULL. */
const char *vms_chk_sym_prefixed(struct vms_chk *c, uint64_t addr,
				 const char *prefix);

/* A name for @addr that another boot of the same kernel and modules
 * gives too: "sym+0x10" in the kernel image, "module NAME+0x120" (from
 * the start of the module's memory region; "module NAME region N+0x..."
 * past the first), else the address itself. */
void vms_chk_stable_name(struct vms_chk *c, uint64_t addr, char *out,
			 size_t len);

/* Both module views (list and sysfs), merged. */
int vms_chk_load_modules(struct vms_chk *c);
/* What holds an address. */
enum vms_chk_where {
	VMS_IN_TEXT,		/* kernel text */
	VMS_IN_MODULE,		/* a module on the module list */
	VMS_IN_HIDDEN_MODULE,	/* a module not on the module list */
	VMS_ELSEWHERE,		/* none of these */
};

/* Describe what holds @addr: "kernel text, sym+0x10", "module rk
 * (not on the module list)", ... into @desc; the module or symbol name
 * into @owner. */
enum vms_chk_where vms_chk_describe(struct vms_chk *c, uint64_t addr,
				    char *desc, size_t dlen, char *owner,
				    size_t olen);

/* credentials: what its rules know of one task. */
struct vms_cred_facts {
	bool leader;		/* a process, not one of its threads */
	bool init_cred;		/* its cred or real_cred is &init_cred */
	uint32_t uid, euid;
	bool have_parent;	/* its parent process was found */
	uint32_t puid, peuid, psuid; /* the parent's real, effective, saved */
	bool have_prog;		/* its program's file could be read */
	bool suid_root;		/* the program is set-user-ID root */
	bool dir_writable;	/* in a world-writable directory */
};

enum {
	VMS_CRED_INIT = 1,	/* holds init's own credentials */
	VMS_CRED_FROM_KERNEL = 2, /* root under a parent with no root id,
				   * without a set-user-ID root program */
	VMS_CRED_TMP_ROOT = 4,	/* root, run from a world-writable dir */
};

/* Which rules the task breaks, as VMS_CRED_* bits. */
unsigned int vms_chk_cred_rules(const struct vms_cred_facts *f);

/* network: what its rules know of one socket and its holder. */
struct vms_net_facts {
	bool packet;		/* AF_PACKET; else a raw IP socket */
	const char *proto;	/* "raw", "raw6", "packet", "tcp", ... */
	unsigned int protocol;	/* raw: the IP protocol */
	const char *local;	/* listeners: "ADDRESS:PORT" */
	uint64_t inode;
	uint32_t netns;
	bool held;		/* a process holds it (in its fd table) */
	bool hidden;		/* that process is off the task list */
	int32_t pid;		/* the holder */
	const char *comm;	/* the holder's name */
};

/* A packet or raw socket: reported unless a policy's allow rule names
 * its holder, which must be a process on the task list. The evidence
 * into @buf when it is. */
bool vms_chk_sniffer_rule(const struct vms_policy *p,
			  const struct vms_net_facts *f, char *buf,
			  size_t len);

enum vms_listener_verdict {
	VMS_LISTENER_ALLOWED,	/* an allow listener rule covers it */
	VMS_LISTENER_INVENTORY,	/* no listener rules: listed, severity info */
	VMS_LISTENER_FINDING,	/* rules, and none covers it */
};

/* A listening socket; the evidence into @buf. */
enum vms_listener_verdict
vms_chk_listener_rule(const struct vms_policy *p,
		      const struct vms_net_facts *f, char *buf, size_t len);

/* hidden_modules: is the module missing from a view? If so, the
 * evidence (the views that hold it and those that lack it) into @buf. */
bool vms_chk_module_hidden(const struct vms_chk_mod *m, char *buf,
			   size_t len);

/* injected_code: which rules an area of user memory breaks, given its
 * first @got bytes @head: VMS_AREA_* bits, 0 for an area with a file or
 * a kernel special mapping ([vdso], ...). */
enum {
	VMS_AREA_RWX = 1,	/* anonymous, writable and executable */
	VMS_AREA_ELF = 2,	/* anonymous, starts with an ELF header */
};
unsigned int vms_chk_area_rules(const struct vms_vma *v, const uint8_t *head,
				size_t got);

/* hidden_tasks: the views of a task, as bits. The task list (or, for a
 * thread, its process's thread list) and the pid table hold every task;
 * a task missing from either is hidden. The run queues and open files
 * hold only some tasks: they reveal hidden tasks but accuse none. */
enum vms_task_view {
	VMS_TV_LIST = 1,	/* the task list or its thread list */
	VMS_TV_PIDS = 2,	/* the pid table */
	VMS_TV_RUNQ = 4,	/* a CPU's run queue */
	VMS_TV_FILES = 8,	/* referenced by an open file */
};

/* What the views say about one task. */
struct vms_task_seen {
	unsigned int views;	/* enum vms_task_view bits */
	int32_t pid, tgid;
	uint32_t exit_state;	/* task_struct.exit_state */
	int rq_how, cpu;	/* VMS_TV_RUNQ: enum vms_rq_how, the CPU */
	int ref_kind;		/* VMS_TV_FILES: enum vms_pidref_kind */
	int32_t holder;		/* VMS_TV_FILES: the file holder's pid */
};

/* Is the task hidden? If so, the evidence (which views hold it and
 * which do not) in @buf. */
bool vms_chk_task_hidden(const struct vms_task_seen *t, char *buf,
			 size_t len);

/* Call @fn for every entry of the xarray whose xa_head is @head (the
 * IDR behind the pid table), bounded and cycle-checked; @what names it
 * in errors. Needs the checks layout. */
int vms_chk_xa_each(struct vms_kernel *k, uint64_t head, const char *what,
		    int (*fn)(void *arg, uint64_t entry), void *arg);

/* hooks.c: every ftrace_ops on ftrace_ops_list, and every registered
 * kprobe (aggregates expanded) with the address it probes; bounded and
 * cycle-checked. @fn returning < 0 stops the walk. */
int vms_chk_ftrace_ops_each(struct vms_chk *c,
			    int (*fn)(void *arg, uint64_t ops), void *arg);
int vms_chk_kprobes_each(struct vms_chk *c,
			 int (*fn)(void *arg, uint64_t kp, uint64_t addr),
			 void *arg);

/* One netfilter hook: where it is registered and the function. */
struct vms_chk_nf_hook {
	const char *family;	/* "ipv4", "ipv6", "arp", "bridge" */
	const char *point;	/* "PRE_ROUTING", ..., or "point N" */
	unsigned int index;	/* its place in the point's array */
	uint32_t netns;		/* the namespace's inode number */
	uint64_t slot;		/* its nf_hook_entry */
	uint64_t hook;		/* the hook function */
};
/* Every netfilter hook of every namespace, bounded. */
int vms_chk_nf_hooks_each(struct vms_chk *c,
			  int (*fn)(void *arg, const struct vms_chk_nf_hook *h),
			  void *arg);

/* The hooks of a baseline: every netfilter hook, ftrace_ops and kprobe,
 * named by what stays put across boots (vms_chk_stable_name()). A
 * kernel without one kind of hook has none of it. */
typedef int (*vms_chk_hook_put_fn)(void *arg, const char *object,
				   uint64_t addr, const char *detail);
int vms_chk_hooks_measure(struct vms_chk *c, vms_chk_hook_put_fn put,
			  void *arg);

/* hidden.c: every task that some view of hidden_tasks holds (the pid
 * table, run queues, open files) but the task list and thread lists do
 * not, released (EXIT_DEAD) tasks left out, in the order found. */
typedef int (*vms_chk_task_fn)(void *arg, uint64_t task, int32_t pid,
			       const char *comm);
int vms_chk_offlist_tasks(struct vms_chk *c, vms_chk_task_fn fn, void *arg);

/* The checks. */
int vms_check_syscall_table(struct vms_chk *c);
int vms_check_hidden_tasks(struct vms_chk *c);
int vms_check_hidden_modules(struct vms_chk *c);
int vms_check_injected_code(struct vms_chk *c);
int vms_check_idt(struct vms_chk *c);
int vms_check_netfilter_hooks(struct vms_chk *c);
int vms_check_ftrace_hooks(struct vms_chk *c);
int vms_check_kprobes(struct vms_chk *c);
int vms_check_credentials(struct vms_chk *c);
int vms_check_network(struct vms_chk *c);
int vms_check_unexpected_modules(struct vms_chk *c);
int vms_check_unexpected_processes(struct vms_chk *c);
int vms_check_yara(struct vms_chk *c);
int vms_check_inline_hooks(struct vms_chk *c);

/* sites.c: code sites a healthy kernel patches at run time. */
enum vms_site_kind {
	VMS_SITE_JUMP_LABEL,	/* a jump_entry's code */
	VMS_SITE_STATIC_CALL,	/* a static_call_site or __SCT__ trampoline */
	VMS_SITE_FTRACE,	/* a dyn_ftrace record's fentry call */
	VMS_SITE_BPF_DISPATCH,	/* a bpf_dispatcher_*_func */
};
#define VMS_SITES_ALL 0xfu
struct vms_chk_site {
	uint64_t a;		/* the site: [a, a + len) */
	uint8_t len;
	uint8_t kind;		/* enum vms_site_kind */
};
struct vms_chk_sites {
	struct vms_chk_site *v;	/* sorted by address once collected */
	size_t n, cap;
};
/* Collect the sites of the kinds in @kinds (a mask of 1 << kind), from
 * the kernel and every module, sorted by address. */
int vms_chk_sites_collect(struct vms_chk *c, unsigned int kinds,
			  struct vms_chk_sites *s);
void vms_chk_sites_fini(struct vms_chk_sites *s);
/* The site that starts exactly at @a, or NULL. */
const struct vms_chk_site *vms_chk_site_at(const struct vms_chk_sites *s,
					   uint64_t a);
/* Zero the bytes of sites inside @buf, which holds [va, va + len). */
void vms_chk_sites_mask(const struct vms_chk_sites *s, uint64_t va,
			uint8_t *buf, size_t len);

/* baseline.c: a baseline in memory, one measurement at a time
 * (vms_chk_baseline_add() is a vms_measurement_fn); the format's lines;
 * the comparison of two baselines, sorting both, which returns the
 * number of changes or < 0. */
struct vms_baseline *vms_chk_baseline_new(void);
int vms_chk_baseline_add(const struct vms_measurement *m, void *b);
int vms_chk_baseline_line(const struct vms_measurement *m, void *file);
int vms_chk_baseline_header(FILE *f, const char *source);
int vms_chk_baseline_compare(struct vms_baseline *base,
			     struct vms_baseline *now, vms_change_fn fn,
			     void *arg);

/* measure.c: every measurement of a baseline, through @fn. */
int vms_chk_measure(struct vms_chk *c, vms_measurement_fn fn, void *arg);
/* The same on @k, outside any check. */
int vms_chk_measure_run(struct vms_kernel *k, vms_measurement_fn fn,
			void *arg);

/* yara.c: scan @nr areas under the page tables at @root as one object
 * called @object, reporting c->yara's matches as findings. */
int vms_chk_yara_scan(struct vms_chk *c, const char *object, uint64_t root,
		      const struct vms_range *r, size_t nr);

#endif /* VMS_CHECKS_H */
