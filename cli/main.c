/* SPDX-License-Identifier: MIT */
/*
 * vmsight: the command-line client of libvmsight. It uses the public
 * header only; each command is a thin loop over the library's iterators
 * feeding the shared output module.
 *
 * Exit status: 0 success, 1 the source or the guest could not be read,
 * 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmsight/vmsight.h>

#include "output.h"

#define VMS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct opts {
	bool json;
	bool verbose;
	const char *source;
};

static const char *prog = "vmsight";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s <command> [options] <dump>\n"
		"\n"
		"Introspect a Linux x86-64 guest from a memory dump, with no\n"
		"symbol file and no profile: kallsyms and BTF are found in the\n"
		"guest's own memory.\n"
		"\n"
		"commands:\n"
		"  info      the dump's format and memory, and the kernel in it\n"
		"  ps        the guest's processes\n"
		"  symbols   the kernel's symbols, as /proc/kallsyms shows them\n"
		"\n"
		"Dump formats are detected from content: raw memory, ELF cores\n"
		"(QEMU dump-guest-memory, /proc/vmcore), kdump-compressed\n"
		"(zlib, lzo, snappy, zstd; plain or flattened) and LiME.\n"
		"\n"
		"common options:\n"
		"  --json      JSON lines instead of a table\n"
		"  -v, --verbose  log what the library does to stderr\n"
		"  -h, --help  help for a command: %s <command> --help\n"
		"  --version   print the version\n",
		prog, prog);
}

static const char *cmd_help[][2] = {
	{ "info", "Show the dump's format, physical memory ranges, and the "
		  "kernel found in it:\nversion and banner, KASLR slide, paging "
		  "mode, page-table root, where\nkallsyms and BTF were found, "
		  "and how many symbols and types each holds." },
	{ "ps", "List processes (thread-group leaders) from the kernel's task "
		"list, with\npid, parent pid, uid, gid, state, thread count, the "
		"task_struct address\nand the command name. Kernel threads are "
		"included; pid 0 (idle) is not,\nas in /proc." },
	{ "symbols", "Print every kallsyms entry as \"ADDRESS TYPE NAME\", "
		     "in the kernel's order,\nthe format of /proc/kallsyms "
		     "(core kernel only)." },
};

static void log_cb(enum vms_log_level level, const char *msg, void *arg)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	bool verbose = *(bool *)arg;

	if (level <= VMS_LOG_WARN || verbose)
		fprintf(stderr, "%s: %s: %s\n", prog, names[level], msg);
}

static int fail(struct vms_session *s, int err)
{
	const char *m = vms_errmsg(s);
	if (!strcmp(m, "no error recorded"))
		m = strerror(-err);
	fprintf(stderr, "%s: %s\n", prog, m);
	return 1;
}

static int open_session(struct opts *o, struct vms_session **ret)
{
	struct vms_session_opts so = { .sz = sizeof(so), .log = log_cb,
				       .log_arg = &o->verbose };
	int err = vms_session_create(&so, ret);

	if (err) {
		fprintf(stderr, "%s: %s\n", prog, strerror(-err));
		return 1;
	}
	err = vms_session_open_dump(*ret, o->source);
	return err ? fail(*ret, err) : 0;
}

static int cmd_info(struct opts *o, struct vms_session *s)
{
	struct vms_kernel_info ki = { .sz = sizeof(ki) };
	int err = vms_kernel_info_get(s, &ki);
	size_t n = vms_phys_range_count(s);
	uint64_t total = 0;

	if (err)
		return fail(s, err);
	for (size_t i = 0; i < n; i++) {
		struct vms_phys_range r;
		vms_phys_range_get(s, i, &r);
		total += r.size;
	}
	if (o->json) {
		static const struct out_col cols[] = {
			{ "format", NULL, OUT_STR, 0 },
			{ "memory_bytes", NULL, OUT_UINT, 0 },
			{ "ranges", NULL, OUT_UINT, 0 },
			{ "release", NULL, OUT_STR, 0 },
			{ "banner", NULL, OUT_STR, 0 },
			{ "text_vaddr", NULL, OUT_HEX, 0 },
			{ "text_paddr", NULL, OUT_HEX, 0 },
			{ "kaslr_slide", NULL, OUT_HEX, 0 },
			{ "paging_levels", NULL, OUT_INT, 0 },
			{ "pgd_paddr", NULL, OUT_HEX, 0 },
			{ "kallsyms_paddr", NULL, OUT_HEX, 0 },
			{ "kallsyms_source", NULL, OUT_STR, 0 },
			{ "symbols", NULL, OUT_UINT, 0 },
			{ "btf_vaddr", NULL, OUT_HEX, 0 },
			{ "btf_bytes", NULL, OUT_UINT, 0 },
			{ "types", NULL, OUT_UINT, 0 },
			{ "vmcoreinfo", NULL, OUT_BOOL, 0 },
		};
		struct out_val v[] = {
			{ .s = vms_source_format(s) }, { .u = total },
			{ .u = n }, { .s = ki.release }, { .s = ki.banner },
			{ .u = ki.text_vaddr }, { .u = ki.text_paddr },
			{ .u = (uint64_t)ki.kaslr_slide },
			{ .i = ki.paging_levels }, { .u = ki.pgd_paddr },
			{ .u = ki.kallsyms_paddr }, { .s = ki.kallsyms_source },
			{ .u = ki.nr_symbols }, { .u = ki.btf_vaddr },
			{ .u = ki.btf_size }, { .u = ki.nr_types },
			{ .b = ki.has_vmcoreinfo },
		};
		struct out *out = out_new(stdout, true, cols, 17);
		out_row(out, v);
		return out_finish(out) ? 1 : 0;
	}
	printf("format:          %s\n", vms_source_format(s));
	printf("memory:          %" PRIu64 " bytes (%.1f MiB) in %zu range%s\n",
	       total, total / 1048576.0, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		struct vms_phys_range r;
		vms_phys_range_get(s, i, &r);
		printf("  0x%016" PRIx64 "-0x%016" PRIx64 "\n", r.start,
		       r.start + r.size - 1);
	}
	printf("kernel:          %s\n", ki.release);
	printf("banner:          %s\n", ki.banner);
	printf("_text:           %#" PRIx64 " (physical %#" PRIx64 ")\n",
	       ki.text_vaddr, ki.text_paddr);
	printf("KASLR slide:     %#" PRIx64 "\n", (uint64_t)ki.kaslr_slide);
	printf("paging:          %d-level, kernel page tables at physical "
	       "%#" PRIx64 " (from %s)\n",
	       ki.paging_levels, ki.pgd_paddr, ki.pgd_source);
	printf("kallsyms:        %u symbols, token table at physical %#" PRIx64
	       " (found by %s)\n",
	       ki.nr_symbols, ki.kallsyms_paddr, ki.kallsyms_source);
	printf("BTF:             %u types, %u bytes at %#" PRIx64 "\n",
	       ki.nr_types, ki.btf_size, ki.btf_vaddr);
	printf("VMCOREINFO:      %s\n", ki.has_vmcoreinfo ? "present" : "absent");
	return 0;
}

static int cmd_ps(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "pid", "PID", OUT_INT, 0 },
		{ "ppid", "PPID", OUT_INT, 0 },
		{ "uid", "UID", OUT_UINT, 0 },
		{ "gid", "GID", OUT_UINT, 0 },
		{ "euid", NULL, OUT_UINT, 0 },
		{ "egid", NULL, OUT_UINT, 0 },
		{ "state", "S", OUT_STR, 0 },
		{ "threads", "THR", OUT_INT, 0 },
		{ "kthread", NULL, OUT_BOOL, 0 },
		{ "task", "TASK", OUT_HEX, 0 },
		{ "comm", "COMM", OUT_STR, 1 },
	};
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	struct out *out;
	int err, r;

	err = vms_proc_iter_create(s, &it);
	if (err)
		return fail(s, err);
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	if (!out)
		return fail(s, -ENOMEM);
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		char comm[64], st[2] = { vms_proc_state(p), 0 };
		vms_proc_comm(p, comm, sizeof(comm));
		struct out_val v[] = {
			{ .i = vms_proc_pid(p) },   { .i = vms_proc_ppid(p) },
			{ .u = vms_proc_uid(p) },   { .u = vms_proc_gid(p) },
			{ .u = vms_proc_euid(p) },  { .u = vms_proc_egid(p) },
			{ .s = st },		    { .i = vms_proc_nr_threads(p) },
			{ .b = vms_proc_is_kthread(p) },
			{ .u = vms_proc_task_addr(p) }, { .s = comm },
		};
		out_row(out, v);
	}
	vms_proc_iter_destroy(it);
	out_finish(out);
	return r < 0 ? fail(s, r) : 0;
}

static int cmd_symbols(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "addr", NULL, OUT_HEX, 0 },
		{ "type", NULL, OUT_STR, 0 },
		{ "name", NULL, OUT_STR, 0 },
	};
	struct out *out = NULL;
	size_t n;
	int err = vms_kernel_load(s);

	if (err)
		return fail(s, err);
	if (o->json && !(out = out_new(stdout, true, cols, 3)))
		return fail(s, -ENOMEM);
	n = vms_symbol_count(s);
	for (size_t i = 0; i < n; i++) {
		struct vms_symbol sym;
		char type[2];

		vms_symbol_get(s, i, &sym);
		type[0] = sym.type;
		type[1] = 0;
		if (out) {
			struct out_val v[] = { { .u = sym.addr }, { .s = type },
					       { .s = sym.name } };
			out_row(out, v);
		} else {
			printf("%016" PRIx64 " %c %s\n", sym.addr, sym.type,
			       sym.name);
		}
	}
	if (out)
		out_finish(out);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct opts *, struct vms_session *);
} cmds[] = {
	{ "info", cmd_info },
	{ "ps", cmd_ps },
	{ "symbols", cmd_symbols },
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct opts o = { 0 };
	struct vms_session *s = NULL;
	const char *cmd = NULL;
	size_t ci;
	int c, ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (argv[1][0] != '-') {
		cmd = argv[1];
		argv++, argc--;
	}
	while ((c = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			for (ci = 0; cmd && ci < VMS_ARRAY_LEN(cmd_help); ci++) {
				if (strcmp(cmd_help[ci][0], cmd))
					continue;
				printf("usage: %s %s [--json] [-v] <dump>\n\n%s\n",
				       prog, cmd, cmd_help[ci][1]);
				return 0;
			}
			usage(stdout);
			return 0;
		case 'V':
			printf("vmsight %s\n", vms_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cmd) {
		usage(stderr);
		return 2;
	}
	for (ci = 0; ci < VMS_ARRAY_LEN(cmds); ci++)
		if (!strcmp(cmds[ci].name, cmd))
			break;
	if (ci == VMS_ARRAY_LEN(cmds)) {
		fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n",
			prog, cmd, prog);
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s %s: expected one dump file\n", prog, cmd);
		return 2;
	}
	o.source = argv[optind];
	ret = open_session(&o, &s);
	if (!ret)
		ret = cmds[ci].fn(&o, s);
	vms_session_destroy(s);
	return ret;
}
