/* SPDX-License-Identifier: MIT */
/*
 * The check table, and what every check shares: finding delivery, a
 * by-address view of kallsyms, and the modules of both module views
 * with their memory regions, to name what a pointer points into.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define MAX_KSET_ENTRIES 65536
#define MAX_MODS 65536

const struct vms_check_def vms_checks[] = {
	{ "syscall_table",
	  "sys_call_table entries point at their own __x64_sys_* functions",
	  VMS_SEV_CRITICAL, vms_check_syscall_table },
	{ "idt",
	  "every present interrupt gate leads to a kernel entry point",
	  VMS_SEV_CRITICAL, vms_check_idt },
	{ "inline_hooks",
	  "system call functions begin with their own code, not a jump out "
	  "of kernel text",
	  VMS_SEV_CRITICAL, vms_check_inline_hooks },
	{ "hidden_tasks",
	  "the task list, the thread lists and the pid table agree; run "
	  "queues and open files reveal tasks hidden from all three",
	  VMS_SEV_HIGH, vms_check_hidden_tasks },
	{ "hidden_modules",
	  "the module list, the sysfs module set and the modules carved "
	  "from module memory agree",
	  VMS_SEV_HIGH, vms_check_hidden_modules },
	{ "netfilter_hooks",
	  "netfilter hooks of every network namespace, with their owners; "
	  "hooks into hidden modules or unknown memory",
	  VMS_SEV_HIGH, vms_check_netfilter_hooks },
	{ "ftrace_hooks",
	  "ftrace callbacks, with their owners; callbacks in hidden modules "
	  "or unknown memory",
	  VMS_SEV_HIGH, vms_check_ftrace_hooks },
	{ "kprobes",
	  "kprobes, where they probe and whose handlers run; handlers in "
	  "hidden modules or unknown memory",
	  VMS_SEV_HIGH, vms_check_kprobes },
	{ "credentials",
	  "no user process shares init's credentials, gains root from a "
	  "non-root parent without a set-user-ID program, or runs as root "
	  "from a world-writable directory",
	  VMS_SEV_HIGH, vms_check_credentials },
	{ "network",
	  "raw and packet sockets, promiscuous interfaces, and listeners "
	  "(findings where the policy does not allow them)",
	  VMS_SEV_MEDIUM, vms_check_network },
	{ "unexpected_modules",
	  "every module (listed or hidden) is one the policy allows; "
	  "nothing without 'allow module' rules",
	  VMS_SEV_MEDIUM, vms_check_unexpected_modules },
	{ "unexpected_processes",
	  "every user process has a name the policy allows; nothing "
	  "without 'allow process' rules",
	  VMS_SEV_MEDIUM, vms_check_unexpected_processes },
	{ "injected_code",
	  "user processes have no writable+executable anonymous memory and "
	  "no ELF image outside a file",
	  VMS_SEV_HIGH, vms_check_injected_code },
	{ "yara",
	  "YARA rules over every process's memory, the kernel image and "
	  "module memory; nothing without rules (--yara or the policy)",
	  VMS_SEV_HIGH, vms_check_yara },
};
const size_t vms_checks_count = VMS_ARRAY_SIZE(vms_checks);

static const char *const sev_names[] = { "info", "low", "medium", "high",
					 "critical" };

const char *vms_severity_name(enum vms_severity sev)
{
	return (unsigned int)sev < VMS_ARRAY_SIZE(sev_names) ? sev_names[sev]
							     : NULL;
}

int vms_severity_parse(const char *name, enum vms_severity *ret)
{
	for (size_t i = 0; name && ret && i < VMS_ARRAY_SIZE(sev_names); i++)
		if (!strcmp(name, sev_names[i])) {
			*ret = (enum vms_severity)i;
			return 0;
		}
	return -EINVAL;
}

int vms_chk_emit(struct vms_chk *c, const char *object, const char *evidence,
		 uint64_t addr, uint64_t target, const char *owner)
{
	return vms_chk_emit_sev(c, c->severity, object, evidence, addr, target,
				owner);
}

int vms_chk_emit_sev(struct vms_chk *c, enum vms_severity sev,
		     const char *object, const char *evidence, uint64_t addr,
		     uint64_t target, const char *owner)
{
	struct vms_finding f = {
		.sz = sizeof(f), .check = c->check,
		.object = object, .evidence = evidence, .addr = addr,
		.target = target, .owner = owner ? owner : "",
	};
	/* The policy's severity replaces the check's own; inventory
	 * entries (info) stay what they are. */
	if (sev == c->severity && sev != VMS_SEV_INFO)
		vms_pol_severity(c->policy, c->check, &sev);
	f.severity = sev;
	if (vms_pol_ignores(c->policy, c->check, object))
		return 0;
	c->findings++;
	return c->fn ? c->fn(&f, c->arg) : 0;
}

static int sorted(struct vms_chk *c)
{
	if (!c->k->ks.n)
		return vms_err(c->k->ctx, -ENOENT, LAYER, "no kernel symbols");
	return vms_ksyms_sort_by_addr(&c->k->ks);
}

int64_t vms_chk_sym_floor(struct vms_chk *c, uint64_t addr)
{
	return sorted(c) ? -1 : vms_ksyms_floor(&c->k->ks, addr);
}

uint64_t vms_chk_sym_next(struct vms_chk *c, uint64_t addr)
{
	size_t u;

	if (sorted(c))
		return 0;
	u = vms_ksyms_upper(&c->k->ks, addr);
	return u < c->k->ks.n ? c->k->ks.addr[c->k->ks.by_addr[u]] : 0;
}

const char *vms_chk_sym_prefixed(struct vms_chk *c, uint64_t addr,
				 const char *prefix)
{
	const struct vms_ksyms *ks = &c->k->ks;
	size_t u, plen = strlen(prefix);

	if (sorted(c))
		return NULL;
	for (u = vms_ksyms_upper(ks, addr);
	     u > 0 && ks->addr[ks->by_addr[u - 1]] == addr; u--) {
		const char *n = vms_ksyms_name(ks, ks->by_addr[u - 1]);
		if (!strncmp(n, prefix, plen))
			return n;
	}
	return NULL;
}

bool vms_chk_sym_is(struct vms_chk *c, uint64_t addr, const char *name)
{
	const char *n = vms_chk_sym_prefixed(c, addr, name);
	return n && !strcmp(n, name);
}

static struct vms_chk_mod *mod_slot(struct vms_chk *c, uint64_t addr)
{
	struct vms_chk_mod *m;

	for (size_t i = 0; i < c->nmods; i++)
		if (c->mods[i].addr == addr)
			return &c->mods[i];
	if (c->nmods >= MAX_MODS)
		return NULL;
	m = realloc(c->mods, (c->nmods + 1) * sizeof(*m));
	if (!m)
		return NULL;
	c->mods = m;
	m = &c->mods[c->nmods++];
	memset(m, 0, sizeof(*m));
	m->addr = addr;
	return m;
}

enum mod_view { VIEW_LIST, VIEW_SYSFS, VIEW_MEMORY };

/* A module found in one of the views: name and regions. */
static int add_mod(struct vms_chk *c, struct vms_mod_walk *w, uint64_t addr,
		   enum mod_view view)
{
	struct vms_chk_mod *m = mod_slot(c, addr);
	struct vms_mod info;
	int n, err;

	if (!m)
		return -ENOMEM;
	if (view == VIEW_LIST)
		m->listed = true;
	else if (view == VIEW_SYSFS)
		m->in_sysfs = true;
	else
		m->in_memory = true;
	if (m->name[0])
		return 0;
	if ((err = vms_mod_read(w, addr, &info)))
		return err;
	memcpy(m->name, info.name, sizeof(m->name));
	n = vms_mod_regions(c->k, addr, m->regions,
			    VMS_ARRAY_SIZE(m->regions));
	if (n < 0)
		return n;
	m->nregions = n;
	return 0;
}

int vms_chk_load_modules(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	const struct vms_layout *l = &k->l;
	struct vms_mod_walk w;
	struct vms_mod m;
	struct vms_addrset seen;
	uint64_t kset, head, node;
	int64_t sym;
	uint32_t count = 0;
	int r, err = 0;

	if (c->mods_loaded)
		return 0;
	if ((err = vms_layout_resolve_checks(k->ctx, k->btf, &k->l)) ||
	    (err = vms_mod_walk_init(&w, k)))
		return err;
	while ((r = vms_mod_walk_next(&w, &m)) == 1)
		if ((err = add_mod(c, &w, m.addr, VIEW_LIST)))
			break;
	if (!err && r < 0)
		err = r;
	/* /sys/module: every module_kobject in module_kset. Built-in
	 * modules have one too (for their parameters), with mod NULL. */
	sym = vms_ksyms_lookup(&k->ks, "module_kset");
	if (!err && sym < 0)
		err = vms_err(k->ctx, -ENOENT, LAYER,
			      "no module_kset symbol: cannot list /sys/module");
	if (!err)
		err = vms_kernel_read_u64(k, k->ks.addr[sym], &kset);
	vms_addrset_init(&seen);
	if (!err) {
		head = kset + l->kset_list;
		err = vms_kernel_read_u64(k, head + l->list_next, &node);
	}
	while (!err && node != head) {
		uint64_t kobj = node - l->kobj_entry, mk = kobj - l->mkobj_kobj;
		uint64_t mod, next;

		if ((err = vms_walk_visit(k, &seen, &count, MAX_KSET_ENTRIES,
					  node, "the sysfs module set")) ||
		    (err = vms_kernel_read_u64(k, node + l->list_next,
					       &next)) ||
		    (err = vms_kernel_read_u64(k, mk + l->mkobj_mod, &mod)))
			break;
		/* A genuine pair: the module's own embedded module_kobject
		 * is this one. Anything else is not a loaded module. */
		if (mod && mod + l->mod_mkobj == mk)
			err = add_mod(c, &w, mod, VIEW_SYSFS);
		node = next;
	}
	vms_addrset_fini(&seen);
	if (!err) {
		const uint64_t *carved;
		size_t n;
		err = vms_mod_carved(k, &carved, &n);
		for (size_t i = 0; !err && i < n; i++)
			err = add_mod(c, &w, carved[i], VIEW_MEMORY);
	}
	vms_mod_walk_fini(&w);
	if (!err)
		c->mods_loaded = true;
	return err;
}

bool vms_chk_sym_off(struct vms_chk *c, uint64_t addr, char *out,
		     size_t len)
{
	const struct vms_ksyms *ks = &c->k->ks;
	int64_t i = vms_chk_sym_floor(c, addr);

	if (i < 0) {
		snprintf(out, len, "%s", "");
		return false;
	}
	if (addr == ks->addr[i])
		snprintf(out, len, "%s", vms_ksyms_name(ks, i));
	else
		snprintf(out, len, "%s+%#llx", vms_ksyms_name(ks, i),
			 (unsigned long long)(addr - ks->addr[i]));
	return true;
}

enum vms_chk_where vms_chk_describe(struct vms_chk *c, uint64_t addr,
				    char *desc, size_t dlen, char *owner,
				    size_t olen)
{
	const struct vms_ksyms *ks = &c->k->ks;

	snprintf(owner, olen, "%s", "");
	if (c->stext <= addr && addr < c->etext) {
		int64_t i = vms_chk_sym_floor(c, addr);
		char where[256];
		if (i >= 0) {
			snprintf(owner, olen, "%s", vms_ksyms_name(ks, i));
			vms_chk_sym_off(c, addr, where, sizeof(where));
			snprintf(desc, dlen, "kernel text, %s", where);
			return VMS_IN_TEXT;
		}
	}
	if (!vms_chk_load_modules(c)) {
		for (size_t i = 0; i < c->nmods; i++) {
			const struct vms_chk_mod *m = &c->mods[i];
			for (int j = 0; j < m->nregions; j++) {
				if (addr - m->regions[j].start >=
				    m->regions[j].len)
					continue;
				snprintf(owner, olen, "%s", m->name);
				snprintf(desc, dlen, "module %s%s", m->name,
					 m->listed ? ""
						   : " (not on the module "
						     "list)");
				return m->listed ? VMS_IN_MODULE
						 : VMS_IN_HIDDEN_MODULE;
			}
		}
	}
	snprintf(desc, dlen, "%s",
		 addr ? "memory outside kernel text and every module"
		      : "NULL");
	return VMS_ELSEWHERE;
}

void vms_chk_stable_name(struct vms_chk *c, uint64_t addr, char *out,
			 size_t len)
{
	if (c->stext <= addr && addr < c->etext &&
	    vms_chk_sym_off(c, addr, out, len))
		return;
	if (!vms_chk_load_modules(c)) {
		for (size_t i = 0; i < c->nmods; i++) {
			const struct vms_chk_mod *m = &c->mods[i];
			for (int j = 0; j < m->nregions; j++) {
				uint64_t off = addr - m->regions[j].start;
				if (off >= m->regions[j].len)
					continue;
				if (j)
					snprintf(out, len,
						 "module %s region %d+0x%llx",
						 m->name, j,
						 (unsigned long long)off);
				else
					snprintf(out, len, "module %s+0x%llx",
						 m->name,
						 (unsigned long long)off);
				return;
			}
		}
	} else {
		vms_err_clear(c->k->ctx);
	}
	/* Kernel data: a symbol is stable too. */
	if (vms_ksyms_in_image(&c->k->ks, addr) &&
	    vms_chk_sym_off(c, addr, out, len))
		return;
	snprintf(out, len, "%#llx", (unsigned long long)addr);
}

static int text_bounds(struct vms_chk *c)
{
	int64_t s = vms_ksyms_lookup(&c->k->ks, "_stext");
	int64_t e = vms_ksyms_lookup(&c->k->ks, "_etext");

	if (s < 0 || e < 0)
		return vms_err(c->k->ctx, -ENOENT, LAYER,
			       "no _stext/_etext symbols: kernel text unknown");
	c->stext = c->k->ks.addr[s];
	c->etext = c->k->ks.addr[e];
	return 0;
}

int vms_chk_run(struct vms_kernel *k, const struct vms_policy *policy,
		const struct vms_yara *yara, const char *name,
		vms_finding_fn fn, void *arg)
{
	const struct vms_check_def *d = NULL;
	struct vms_chk c = { .k = k, .policy = policy, .yara = yara,
			     .fn = fn, .arg = arg };
	int err;

	for (size_t i = 0; i < vms_checks_count; i++)
		if (!strcmp(vms_checks[i].name, name))
			d = &vms_checks[i];
	if (!d)
		return vms_err(k->ctx, -ENOENT, LAYER, "no check called %s",
			       name);
	c.check = d->name;
	c.severity = d->severity;
	if ((err = text_bounds(&c)))
		return err;
	err = d->run(&c);
	free(c.mods);
	return err < 0 ? err : c.findings;
}

int vms_chk_measure_run(struct vms_kernel *k, vms_measurement_fn fn,
			void *arg)
{
	struct vms_chk c = { .k = k, .check = "baseline" };
	int err;

	if ((err = text_bounds(&c)))
		return err;
	err = vms_chk_measure(&c, fn, arg);
	free(c.mods);
	return err;
}
