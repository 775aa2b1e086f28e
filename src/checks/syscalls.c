/* SPDX-License-Identifier: MIT */
/*
 * syscall_table: every entry of sys_call_table must be the start of a
 * __x64_sys_* function (or of sys_ni_syscall) in kernel text, and, where
 * the kernel recorded which function each number had at boot, that very
 * function.
 *
 * The table's length is not in BTF (NR_syscalls is a macro); it is the
 * distance to the next symbol, less trailing zero slots of alignment
 * padding. The expected function of each number comes from
 * syscalls_metadata (CONFIG_FTRACE_SYSCALLS): at boot,
 * init_ftrace_syscalls() matched every table entry to its
 * SYSCALL_DEFINE metadata by symbol name, before any module could load,
 * so a later hook leaves that record unchanged.
 *
 * Since v6.9 (1e3ad78334a6, backported to the 6.1 and 6.6 stable series)
 * x86-64 dispatches through x64_sys_call()'s switch, not this table; the
 * table is still what tracing and many rootkits use, and a changed entry
 * is still evidence of tampering. The compat tables (ia32_sys_call_table)
 * are checked the same way where the kernel still has them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define MAX_SYSCALLS 4096

struct table {
	const char *sym;	/* the table's symbol */
	const char *prefix;	/* what its entries are called */
	const char *alt;	/* a second accepted prefix, or NULL */
	bool required;		/* absent: an error, not a skip */
};

static const struct table tables[] = {
	{ "sys_call_table", "__x64_sys_", NULL, true },
	{ "ia32_sys_call_table", "__ia32_sys_", "__ia32_compat_sys_", false },
	{ "x32_sys_call_table", "__x64_sys_", "__x32_compat_sys_", false },
};

/* The SYSCALL_DEFINE name recorded for each number at boot, or "". */
static int boot_names(struct vms_chk *c, size_t n, char (*names)[64])
{
	struct vms_kernel *k = c->k;
	int64_t sym = vms_ksyms_lookup(&k->ks, "syscalls_metadata");
	size_t name_off, name_size;
	uint64_t arr;

	for (size_t i = 0; i < n; i++)
		names[i][0] = 0;
	if (sym < 0 || vms_btf_member(k->btf, "syscall_metadata", "name",
				      &name_off, &name_size) ||
	    vms_kernel_read_u64(k, k->ks.addr[sym], &arr) || !arr)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t meta, name;
		if (vms_kernel_read_u64(k, arr + i * 8, &meta) || !meta ||
		    vms_kernel_read_u64(k, meta + name_off, &name) ||
		    !vms_kernel_read_str(k, name, names[i], 64) ||
		    strncmp(names[i], "sys_", 4))
			names[i][0] = 0;
	}
	return 0;
}

static int check_table(struct vms_chk *c, const struct table *t)
{
	struct vms_kernel *k = c->k;
	int64_t sym = vms_ksyms_lookup(&k->ks, t->sym);
	uint64_t base, *tab = NULL;
	char (*names)[64] = NULL;
	size_t n;
	int err = 0;

	if (sym < 0)
		return t->required
			       ? vms_err(k->ctx, -ENOENT, LAYER,
					 "no %s symbol", t->sym)
			       : 0;
	base = k->ks.addr[sym];
	if ((err = vms_kernel_sym_table(k, base, t->sym, MAX_SYSCALLS, &tab,
					&n)))
		return err;
	if (!(names = malloc((n ? n : 1) * sizeof(*names)))) {
		err = -ENOMEM;
		goto out;
	}
	if (t == &tables[0])
		boot_names(c, n, names);
	else
		for (size_t i = 0; i < n; i++)
			names[i][0] = 0;
	for (size_t i = 0; i < n && err >= 0; i++) {
		uint64_t e = tab[i];
		char want[80] = "", object[160], evidence[512], where[256];
		char owner[64];
		const char *got = NULL;
		bool in_text = c->stext <= e && e < c->etext;

		if (in_text) {
			got = vms_chk_sym_prefixed(c, e, t->prefix);
			if (!got && t->alt)
				got = vms_chk_sym_prefixed(c, e, t->alt);
			if (!got && (vms_chk_sym_is(c, e, "sys_ni_syscall")))
				got = "sys_ni_syscall";
		}
		if (names[i][0])
			snprintf(want, sizeof(want), "%s%s", t->prefix,
				 names[i] + 4);
		if (got && (!want[0] || vms_chk_sym_is(c, e, want)))
			continue;
		vms_chk_describe(c, e, where, sizeof(where), owner,
				 sizeof(owner));
		snprintf(object, sizeof(object), "%s[%zu]%s%s%s", t->sym, i,
			 names[i][0] ? " (" : "",
			 names[i][0] ? names[i] + 4 : "",
			 names[i][0] ? ")" : "");
		snprintf(evidence, sizeof(evidence),
			 "points at %#llx, %s%s%s", (unsigned long long)e,
			 where, want[0] ? "; expected " : "",
			 want[0] ? want : "");
		err = vms_chk_emit(c, object, evidence, base + i * 8, e,
				   owner);
	}
out:
	free(tab);
	free(names);
	return err;
}

int vms_check_syscall_table(struct vms_chk *c)
{
	int err = 0;

	for (size_t i = 0; i < VMS_ARRAY_SIZE(tables) && err >= 0; i++)
		err = check_table(c, &tables[i]);
	return err;
}
