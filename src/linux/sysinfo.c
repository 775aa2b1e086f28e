/* SPDX-License-Identifier: MIT */
/*
 * System facts for `info`: the host name (init_uts_ns.name.nodename),
 * the kernel command line (saved_command_line), the boot time and the
 * uptime from the timekeeper (kernel/time/timekeeping.c):
 *
 *   uptime    = tkr_mono.base + offs_boot   (ktime_get_boottime() as of
 *               the last timekeeping update, i.e. the last tick)
 *   boot time = offs_real - offs_boot       (getboottime64(), the btime
 *               of /proc/stat)
 */
#include <string.h>

#include "kernel.h"

#define LAYER "linux"

int vms_sys_read(struct vms_kernel *k, struct vms_sys *r)
{
	const struct vms_layout *l = &k->l;
	uint64_t uts, tk, cmd, base, real, boot;
	size_t n;
	int err;

	memset(r, 0, sizeof(*r));
	if ((err = vms_layout_resolve_time(k->ctx, k->btf, &k->l)) ||
	    (err = vms_kernel_sym(k, "init_uts_ns", &uts)) ||
	    (err = vms_kernel_sym(k, "tk_core", &tk)))
		return err;
	n = VMS_MIN(l->uts_nodename_len, sizeof(r->hostname) - 1);
	if ((err = vms_kernel_read(k, uts + l->uts_nodename, r->hostname, n)))
		return err;
	r->hostname[n] = 0;
	tk += l->tk_in_core;
	if ((err = vms_kernel_read_u64(k, tk + l->tk_mono_base, &base)) ||
	    (err = vms_kernel_read_u64(k, tk + l->tk_offs_real, &real)) ||
	    (err = vms_kernel_read_u64(k, tk + l->tk_offs_boot, &boot)))
		return err;
	r->uptime_ns = base + boot;
	r->boot_time = (int64_t)(real - boot) / 1000000000;
	if (!vms_kernel_sym(k, "saved_command_line", &cmd) &&
	    !vms_kernel_read_u64(k, cmd, &cmd))
		vms_kernel_read_str(k, cmd, r->cmdline, sizeof(r->cmdline));
	vms_err_clear(k->ctx);
	return 0;
}
