/* SPDX-License-Identifier: MIT */
/*
 * Allowlist checks: what the policy says the guest should have.
 *
 * unexpected_modules: every loaded module, from the module list and from
 * /sys/module alike (a module hidden from one view is still judged),
 * must match an "allow module" rule.
 *
 * unexpected_processes: every user process on the task list must have a
 * name that an "allow process" rule matches. Kernel threads are not
 * judged: their names are the kernel's.
 *
 * Without rules of their kind there is nothing to compare with, and
 * these checks report nothing.
 */
#include <stdio.h>

#include "checks.h"

int vms_check_unexpected_modules(struct vms_chk *c)
{
	int err;

	if (!vms_pol_has(c->policy, VMS_POL_MODULE))
		return 0;
	if ((err = vms_chk_load_modules(c)))
		return err;
	for (size_t i = 0; i < c->nmods; i++) {
		const struct vms_chk_mod *m = &c->mods[i];
		char object[96];
		if (vms_pol_allows(c->policy, VMS_POL_MODULE, m->name))
			continue;
		snprintf(object, sizeof(object), "module %s", m->name);
		if ((err = vms_chk_emit(c, object,
					m->listed
						? "loaded, and no 'allow module' "
						  "rule matches"
						: "loaded (hidden from the module "
						  "list), and no 'allow module' "
						  "rule matches",
					m->addr, 0, m->name)) < 0)
			return err;
	}
	return 0;
}

int vms_check_unexpected_processes(struct vms_chk *c)
{
	struct vms_task_walk w;
	struct vms_task t;
	int r, err = 0;

	if (!vms_pol_has(c->policy, VMS_POL_PROCESS))
		return 0;
	if ((err = vms_task_walk_init(&w, c->k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		char object[96];
		if (t.kthread ||
		    vms_pol_allows(c->policy, VMS_POL_PROCESS, t.comm))
			continue;
		snprintf(object, sizeof(object), "pid %d (%s)", t.pid, t.comm);
		if ((err = vms_chk_emit(c, object,
					"a user process no 'allow process' "
					"rule matches",
					t.addr, 0, "")) < 0)
			break;
		err = 0;
	}
	vms_task_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}
