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
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vmsight/vmsight.h>

#include "output.h"

#define VMS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VMS_MIN(a, b) ((a) < (b) ? (a) : (b))

struct opts {
	const char *out_dir;	/* dump: where to write; cat: the file */
	const char *path;	/* cat: the guest file */
	bool json;
	bool verbose;
	bool env;		/* psaux: show environments too */
	bool raw;		/* dmesg: the syslog "<N>" prefix too */
	bool list;		/* check: list the checks */
	const char *only;	/* check: comma-separated check names */
	int fail_on;		/* check: exit 3 at this severity or above;
				 * -1: the policy's, else low */
	const char *policy;	/* check: policy file */
	const char *yara;	/* check: YARA rules file */
	int32_t pid;		/* threads: one process only; -1: all */
	bool pause;		/* stop a live guest while reading it */
	bool no_pause;		/* snapshot: copy a live guest as it runs */
	unsigned int events;	/* watch: VMS_EVENT_* bits, 0: all */
	const char *gdb;	/* watch: an existing gdbstub */
	const char *comm;	/* watch: only this comm */
	uint32_t max_rate;	/* watch: events a second */
	double duration;	/* watch: seconds, 0: until a signal */
	bool dmesg;		/* watch: follow the kernel log */
	double checks;		/* watch: run the checks every so many
				 * seconds, 0: never */
	uint64_t max_memory;	/* bytes of one guest-sized buffer, 0: default */
	uint32_t max_seconds;	/* of one operation, 0: default */
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
		"  regs      the vCPUs' registers\n"
		"  snapshot  write the guest's memory as an ELF core: --out FILE\n"
		"  ps        the guest's processes\n"
		"  pstree    the processes as a tree\n"
		"  psaux     processes with their command lines (--env: and\n"
		"            environments), read from their own memory\n"
		"  threads   every thread of every process (--pid N: of one)\n"
		"  creds     real, effective, saved and fs ids, and capabilities\n"
		"  lsmod     loaded kernel modules, as /proc/modules shows them\n"
		"  dmesg     the kernel log, from the printk ring buffer\n"
		"  mounts    the mount table of init's mount namespace\n"
		"  lsof      open file descriptors of every process (--pid N)\n"
		"  maps      the memory areas of one process: maps PID DUMP\n"
		"  netstat   sockets and the processes that own them\n"
		"  dump      write a process's memory to files: dump PID --out DIR DUMP\n"
		"  cat       a file's contents from the page cache: cat PATH DUMP\n"
		"  symbols   the kernel's symbols, as /proc/kallsyms shows them\n"
		"  check     intrusion-detection checks (--list shows them)\n"
		"  baseline  hashes of kernel code, tables and modules, and the\n"
		"            process and listener sets, as JSON lines\n"
		"  diff      what changed since a baseline: diff BASELINE DUMP\n"
		"  watch     live events (exec, exit, module load, syscalls),\n"
		"            kernel log lines and new check findings as they\n"
		"            happen, through QEMU's gdbstub: watch qemu:SOCK\n"
		"\n"
		"Dump formats are detected from content: raw memory, ELF cores\n"
		"(QEMU dump-guest-memory, /proc/vmcore), kdump-compressed\n"
		"(zlib, lzo, snappy, zstd; plain or flattened) and LiME.\n"
		"DUMP may also be qemu:QMP_SOCKET, a running QEMU guest: its\n"
		"RAM file is mapped if it is a memory-backend-file with\n"
		"share=on, else read from QEMU's memory (needs ptrace rights).\n"
		"\n"
		"common options:\n"
		"  --json      JSON lines instead of a table\n"
		"  --pause     live sources: stop the guest while reading it,\n"
		"              for one consistent state (QMP stop, then cont)\n"
		"  --max-memory MIB  the largest buffer the guest's data may\n"
		"              size (default 512); past it the command fails\n"
		"  --max-time S  the longest one operation may run (default\n"
		"              600; 0: no cap); past it the command fails\n"
		"  -v, --verbose  log what the library does to stderr\n"
		"  -h, --help  help for a command: %s <command> --help\n"
		"  --version   print the version\n",
		prog, prog);
}

static const char *cmd_help[][2] = {
	{ "check", "Run the intrusion-detection checks on the guest kernel "
		   "and print each\nfinding: severity, check, object and "
		   "evidence (with --json also the\naddresses and the owning "
		   "module or symbol). --list prints the checks;\n--only "
		   "A,B runs some of them. --policy FILE applies a policy "
		   "(doc/policy.md):\nwhich checks run, their severities, "
		   "ignored findings, and what is\nexpected (modules, "
		   "processes, listeners, raw and packet socket users,\n"
		   "promiscuous interfaces). --yara FILE gives the yara check "
		   "its rules\n(source or compiled; default: the policy's "
		   "yara file); it scans every\nprocess's memory, the kernel "
		   "image and module memory by virtual\naddress. Exit status: "
		   "0 when no finding reaches\n--fail-on (default: the policy's fail-on, else "
		   "low), 3 when one does,\n1 when a check could not run and "
		   "nothing reached it, 2 on a usage\nerror or a bad policy "
		   "file." },
	{ "baseline", "Measure the guest for a later diff, as JSON lines on "
		      "stdout: SHA-256 of every\npage of kernel text "
		      "(run-time patch sites masked) and read-only data, of\n"
		      "the syscall table and IDT, and of each module's code; "
		      "the module, user\nprocess and listener sets. "
		      "doc/baseline.md describes each entry." },
	{ "diff", "Measure the guest again and print what differs from a "
		  "baseline: added,\nremoved, changed or moved entries. Exit "
		  "status: 0 when nothing differs,\n3 when something does, 2 "
		  "for a file that is not a baseline." },
	{ "info", "Show the dump's format, physical memory ranges, and the "
		  "kernel found in it:\nversion and banner, KASLR slide, paging "
		  "mode, page-table root, where\nkallsyms and BTF were found, "
		  "and how many symbols and types each holds." },
	{ "regs", "Show each vCPU's registers: from a dump's CPU notes, or "
		  "read from a running\nQEMU now (\"info registers -a\"; with "
		  "--pause they match the memory\nvmsight reads). The table "
		  "gives the privilege mode, RIP and the kernel\nsymbol it is "
		  "in, RSP, CR3 and the GS base; --json gives every\n"
		  "register." },
	{ "snapshot", "Write the guest's physical memory, its vCPUs' "
		      "registers and its VMCOREINFO\n(if the source has one) "
		      "as an ELF core, the format of QEMU's\n"
		      "dump-guest-memory, which every vmsight command, crash "
		      "and drgn read.\nA live guest is paused while it is "
		      "copied, for one consistent state\n(--no-pause copies it "
		      "as it runs). Pages the source lacks stay out of\nthe "
		      "core; all-zero pages become holes in the file. The "
		      "file is created\nmode 0600 (guest memory holds "
		      "secrets). Usage: vmsight snapshot\n--out FILE SOURCE." },
	{ "watch", "Report events in a running QEMU guest as they happen: "
		   "exec (pid, parent,\nthe path and argv of the new program), "
		   "exit (the code) and module load\n(name and address). Each "
		   "is a breakpoint at a kernel function found in\nkallsyms, "
		   "planted through QEMU's gdbstub: vmsight starts one over "
		   "the\nmonitor on a private socket (--gdb ADDR uses an "
		   "existing one instead).\nEvery hit stops the guest while "
		   "it is decoded. --pid and --comm report\none process or "
		   "program only; --max-rate bounds the events a second\n"
		   "(the rest are counted as dropped); --duration ends the "
		   "watch after S\nseconds; --out appends the events to FILE. "
		   "Ctrl-C, SIGTERM or an error\nend the watch: every "
		   "breakpoint is removed and the guest runs on. A\nwatch "
		   "killed with SIGKILL leaves its breakpoints in QEMU, and the "
		   "guest\nstops at the next hit; the next watch removes them "
		   "and lets it run.\n\n--events syscall adds every system "
		   "call of the processes --pid or\n--comm names (one of them "
		   "is required: every call of every process\nstops the "
		   "guest): number, name and the six raw arguments. --dmesg\n"
		   "adds the kernel log's new lines, --checks S runs the "
		   "intrusion-detection\nchecks every S seconds and reports "
		   "each finding once (--policy and\n--yara as for check)." },
	{ "ps", "List processes (thread-group leaders) from the kernel's task "
		"list, with\npid, parent pid, uid, gid, state, thread count, the "
		"task_struct address\nand the command name. Kernel threads are "
		"included; pid 0 (idle) is not,\nas in /proc." },
	{ "pstree", "Show processes as a tree of parents and children, from "
		    "the task list." },
	{ "psaux", "List processes with their full command lines, read "
		   "from each process's\nown memory through its page tables "
		   "(kernel threads in [brackets]).\n--env adds the "
		   "environment. Pages that are not resident are reported\n"
		   "as incomplete, never invented." },
	{ "threads", "List every thread (task) of every process, or of one "
		     "with --pid N." },
	{ "creds", "Show each process's real, effective, saved and "
		   "filesystem uid and gid,\nand its capability sets "
		   "(inheritable, permitted, effective, bounding,\nambient) "
		   "in hex, as /proc/PID/status does." },
	{ "lsmod", "List loaded kernel modules from the kernel's module "
		   "list: name, size,\nreference count, users, state, base "
		   "address and taint flags, as\n/proc/modules shows them." },
	{ "dmesg", "Print the kernel log from the printk ring buffer "
		   "(Linux 5.10 and later),\none line per text line, as "
		   "dmesg prints it." },
	{ "lsof", "List the open file descriptors of every process (or of "
		  "one, with --pid N):\nfd, type, open mode, inode and what "
		  "/proc/PID/fd/N links to (a path,\nsocket:[inode], "
		  "pipe:[inode], anon_inode:[eventfd], ...)." },
	{ "maps", "List the memory areas of process PID as /proc/PID/maps "
		  "does: start-end,\npermissions, file offset, device, inode "
		  "and the file's path or [heap],\n[stack], [vdso], [vvar], "
		  "[vsyscall]. From the process's maple tree\n(Linux 6.1 and "
		  "later). Usage: vmsight maps PID DUMP, or --pid PID." },
	{ "netstat", "List the guest's sockets (TCP, UDP and raw over IPv4 "
		     "and IPv6, UNIX,\nnetlink, packet), each with its local "
		     "and remote address, state, inode,\nnetwork namespace, "
		     "and every process that owns it (pid/comm). Sockets\n"
		     "come from every process's file table and from the "
		     "kernel's TCP, UDP and\nraw hash tables of every "
		     "namespace, so those that no process holds\n(TIME_WAIT, "
		     "in flight in a message, kernel-held) are listed too,\n"
		     "with no owner. --pid N: the sockets of one process "
		     "only." },
	{ "dump", "Write every memory area of process PID to DIR, one file per "
		  "area named\nSTART-END.bin, read through the process's own "
		  "page tables, and an index,\nDIR/index.json, giving each "
		  "area's addresses, permissions, name and the\nranges that "
		  "were not resident. Missing pages are left as holes in the\n"
		  "files (read back as zeros), never invented. Areas larger "
		  "than 1 GiB are\nlisted but not written. Usage: vmsight dump "
		  "PID --out DIR DUMP." },
	{ "cat", "Print the contents of the guest file PATH (absolute, in "
		 "init's mount\nnamespace) from the guest's page cache: files "
		 "on tmpfs and ramfs, and the\ncached pages of disk files. The "
		 "path is resolved through the guest's\ndentry cache and "
		 "mounts, following symbolic links. Holes of memory\n"
		 "filesystems read as zeros; pages that are not in memory "
		 "(swapped out,\nnot cached, or left out of the dump) are "
		 "never invented: the output\nstops there with an error. With "
		 "--out FILE the file is written whole,\nmissing pages left "
		 "as holes and listed on stderr; the exit status is 1\nif any "
		 "page was missing. --json prints the page map instead: one "
		 "record\nper run of pages in the same state (resident, hole, "
		 "swapped,\nnot-cached, not-in-dump). Usage: vmsight cat PATH "
		 "DUMP [--out FILE]." },
	{ "mounts", "List the mounts of init's mount namespace, in "
		    "/proc/mounts order: device,\nmount point, filesystem type, "
		    "and the generic options (rw or ro, nosuid,\nnodev, "
		    "noexec, relatime, ...; filesystem-specific ones such as "
		    "size= are\nnot decoded)." },
	{ "symbols", "Print every kallsyms entry as \"ADDRESS TYPE NAME\", "
		     "in the kernel's order,\nthe format of /proc/kallsyms "
		     "(core kernel only)." },
};

/* Progress on a terminal: one line on stderr, redrawn at most ten
 * times a second, and erased before anything else is written. */
static struct {
	bool on;		/* stderr is a terminal */
	bool shown;		/* a line is on the screen */
	struct timespec last;	/* when it was drawn */
} bar;

static void progress_clear(void)
{
	if (bar.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		bar.shown = false;
	}
}

static void progress_cb(const char *what, uint64_t done, uint64_t total,
			void *arg)
{
	struct timespec now;
	char line[72];
	size_t i;

	(void)arg;
	if (!bar.on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (bar.shown && done != total &&
	    (now.tv_sec - bar.last.tv_sec) * 1000000000L + now.tv_nsec -
			    bar.last.tv_nsec < 100000000L)
		return;
	/* Process names come from the guest: no control characters reach
	 * the terminal. */
	for (i = 0; what[i] && i + 1 < sizeof(line); i++)
		line[i] = (unsigned char)what[i] < 0x20 ||
				  (unsigned char)what[i] == 0x7f
			  ? '?'
			  : what[i];
	line[i] = 0;
	if (total)
		fprintf(stderr, "\r\033[K%s: %s [%" PRIu64 "/%" PRIu64 "]",
			prog, line, done, total);
	else
		fprintf(stderr, "\r\033[K%s: %s [%" PRIu64 "]", prog, line,
			done);
	fflush(stderr);
	bar.shown = true;
	bar.last = now;
}

static void log_cb(enum vms_log_level level, const char *msg, void *arg)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	bool verbose = *(bool *)arg;

	if (level <= VMS_LOG_WARN || verbose) {
		progress_clear();
		fprintf(stderr, "%s: %s: %s\n", prog, names[level], msg);
	}
}

static int fail(struct vms_session *s, int err)
{
	const char *m = vms_errmsg(s);

	progress_clear();
	if (!strcmp(m, "no error recorded"))
		m = strerror(-err);
	fprintf(stderr, "%s: %s\n", prog, m);
	return 1;
}

static int open_session(struct opts *o, struct vms_session **ret)
{
	struct vms_session_opts so = { .sz = sizeof(so), .log = log_cb,
				       .log_arg = &o->verbose,
				       .progress = progress_cb,
				       .max_memory = o->max_memory,
				       .max_seconds = o->max_seconds };
	int err = vms_session_create(&so, ret);

	if (err) {
		fprintf(stderr, "%s: %s\n", prog, strerror(-err));
		return 1;
	}
	err = vms_session_open(*ret, o->source);
	return err ? fail(*ret, err) : 0;
}

/* --pause: the guest stays stopped only while vmsight reads it. A signal
 * that ends vmsight (Ctrl-C, a closed pipe, a crash) first lets the
 * guest run again; only SIGKILL cannot. */
static struct vms_session *paused_session;

static void resume_and_die(int sig)
{
	vms_session_resume_async(paused_session);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				     SIGPIPE, SIGSEGV, SIGBUS, SIGABRT,
				     SIGFPE, SIGILL };

static int pause_guest(struct vms_session *s)
{
	struct sigaction sa = { .sa_handler = resume_and_die };
	int err;

	paused_session = s;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < VMS_ARRAY_LEN(fatal_signals); i++)
		sigaddset(&sa.sa_mask, fatal_signals[i]);
	/* Handlers first: a signal between stop and sigaction would leave
	 * the guest stopped. */
	for (size_t i = 0; i < VMS_ARRAY_LEN(fatal_signals); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	if ((err = vms_session_pause(s)))
		return err == -ENOTSUP ? (fprintf(stderr, "%s: %s\n", prog,
						  vms_errmsg(s)),
					  2)
				       : fail(s, err);
	return 0;
}

static int resume_guest(struct vms_session *s, int ret)
{
	uint64_t ns = 0;
	int err = vms_session_resume(s, &ns);

	if (err) {
		fail(s, err);
		return ret ? ret : 1;
	}
	if (ns) {
		progress_clear();
		fprintf(stderr, "%s: the guest was paused for %.1f ms\n", prog,
			(double)ns / 1e6);
	}
	for (size_t i = 0; i < VMS_ARRAY_LEN(fatal_signals); i++)
		signal(fatal_signals[i], SIG_DFL);
	return ret;
}

static int cmd_info(struct opts *o, struct vms_session *s)
{
	struct vms_kernel_info ki = { .sz = sizeof(ki) };
	struct vms_sysinfo si = { .sz = sizeof(si) };
	int err = vms_kernel_info_get(s, &ki);
	size_t n = vms_phys_range_count(s);
	uint64_t total = 0;

	if (err || (err = vms_sysinfo_get(s, &si)))
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
			{ "hostname", NULL, OUT_STR, 0 },
			{ "cmdline", NULL, OUT_STR, 0 },
			{ "boot_time", NULL, OUT_INT, 0 },
			{ "uptime_ns", NULL, OUT_UINT, 0 },
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
			{ .b = ki.has_vmcoreinfo }, { .s = si.hostname },
			{ .s = si.cmdline }, { .i = si.boot_time },
			{ .u = si.uptime_ns },
		};
		struct out *out = out_new(stdout, true, cols,
					  VMS_ARRAY_LEN(cols));
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
	printf("hostname:        %s\n", si.hostname);
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
	char when[64];
	time_t bt = (time_t)si.boot_time;
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		 gmtime_r(&bt, &tm));
	printf("command line:    %s\n", si.cmdline);
	printf("booted:          %s (%" PRId64 ")\n", when, si.boot_time);
	printf("uptime:          %" PRIu64 ".%02" PRIu64 " s\n",
	       si.uptime_ns / 1000000000, si.uptime_ns % 1000000000 / 10000000);
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

/* Every process, collected (pstree needs them all first). */
struct procrec {
	int32_t pid, ppid;
	char comm[64];
	bool kthread, seen;
};

static int collect(struct vms_session *s, struct procrec **ret, size_t *n)
{
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	size_t cap = 0;
	int err = vms_proc_iter_create(s, &it), r;

	*ret = NULL;
	*n = 0;
	if (err)
		return err;
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		if (*n == cap) {
			struct procrec *x;
			cap = cap ? cap * 2 : 256;
			x = realloc(*ret, cap * sizeof(*x));
			if (!x) {
				r = -ENOMEM;
				break;
			}
			*ret = x;
		}
		struct procrec *pr = &(*ret)[(*n)++];
		pr->pid = vms_proc_pid(p);
		pr->ppid = vms_proc_ppid(p);
		pr->kthread = vms_proc_is_kthread(p);
		pr->seen = false;
		vms_proc_comm(p, pr->comm, sizeof(pr->comm));
	}
	vms_proc_iter_destroy(it);
	return r < 0 ? r : 0;
}

static void tree_emit(struct out *out, struct procrec *v, size_t n, size_t i,
		      int depth, char *prefix, size_t plen, bool last)
{
	static const struct out_val none;
	char line[512];
	size_t kids = 0;

	v[i].seen = true;
	snprintf(line, sizeof(line), "%.*s%s%s", (int)plen, prefix,
		 depth ? (last ? "`- " : "|- ") : "", v[i].comm);
	struct out_val vals[] = { { .i = v[i].pid }, { .i = v[i].ppid },
				  { .i = depth }, { .s = v[i].comm },
				  { .s = line } };
	(void)none;
	out_row(out, vals);
	for (size_t j = 0; j < n; j++)
		kids += !v[j].seen && v[j].ppid == v[i].pid && j != i;
	if (depth && plen + 4 < 400) {
		memcpy(prefix + plen, last ? "   " : "|  ", 3);
		plen += 3;
	}
	for (size_t j = 0; j < n && kids; j++) {
		if (v[j].seen || v[j].ppid != v[i].pid || j == i)
			continue;
		kids--;
		tree_emit(out, v, n, j, depth + 1, prefix, plen, !kids);
	}
}

static int cmd_pstree(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "pid", "PID", OUT_INT, 0 },
		{ "ppid", NULL, OUT_INT, 0 },
		{ "depth", NULL, OUT_INT, 0 },
		{ "comm", NULL, OUT_STR, 0 },
		{ "tree", "TREE", OUT_STR, 1 },
	};
	struct procrec *v;
	size_t n;
	char prefix[512];
	int err = collect(s, &v, &n);
	struct out *out;

	if (err) {
		free(v);
		return fail(s, err);
	}
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	/* Roots: processes whose parent is not listed (pid 0's children).
	 * Marking as seen before descending makes a forged parent cycle
	 * end instead of recursing forever. */
	for (size_t i = 0; i < n; i++) {
		bool has_parent = false;
		for (size_t j = 0; j < n; j++)
			has_parent |= v[j].pid == v[i].ppid && j != i;
		if (!has_parent && !v[i].seen)
			tree_emit(out, v, n, i, 0, prefix, 0, true);
	}
	for (size_t i = 0; i < n; i++) /* in a cycle: list them anyway */
		if (!v[i].seen)
			tree_emit(out, v, n, i, 0, prefix, 0, true);
	out_finish(out);
	free(v);
	return 0;
}

/* Split NUL-separated bytes into a string vector (NUL-terminated). */
static size_t count_strings(char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return 0;
	if (buf[len - 1]) /* unterminated last string */
		buf[len] = 0, len++;
	for (size_t i = 0; i < len; i++)
		n += !buf[i];
	return n;
}

#define AREA_BUF (256u << 10)

static int cmd_psaux(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "pid", "PID", OUT_INT, 0 },
		{ "ppid", "PPID", OUT_INT, 0 },
		{ "uid", "UID", OUT_UINT, 0 },
		{ "comm", NULL, OUT_STR, 0 },
		{ "argv_complete", NULL, OUT_BOOL, 0 },
		{ "argv", "COMMAND", OUT_STRV, 1 },
		{ "env_complete", NULL, OUT_BOOL, 0 },
		{ "env", "ENVIRONMENT", OUT_STRV, 1 },
	};
	size_t ncols = o->env ? 8 : 6;
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	char *abuf = malloc(AREA_BUF + 1), *ebuf = malloc(AREA_BUF + 1);
	struct out *out;
	int err, r;

	if (!abuf || !ebuf)
		return fail(s, -ENOMEM);
	if ((err = vms_proc_iter_create(s, &it))) {
		free(abuf), free(ebuf);
		return fail(s, err);
	}
	out = out_new(stdout, o->json, cols, ncols);
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		char comm[64], kname[70];
		size_t alen = 0, afull = 0, elen = 0, efull = 0, an, en = 0;

		vms_proc_comm(p, comm, sizeof(comm));
		if ((err = vms_proc_cmdline(s, p, abuf, AREA_BUF, &alen,
					    &afull)) ||
		    (o->env && (err = vms_proc_environ(s, p, ebuf, AREA_BUF,
							&elen, &efull)))) {
			/* One process's broken mm must not hide the rest. */
			fprintf(stderr, "%s: warning: pid %d: %s\n", prog,
				vms_proc_pid(p), vms_errmsg(s));
			vms_errclear(s);
			alen = elen = 0;
		}
		an = count_strings(abuf, alen);
		if (!an && vms_proc_is_kthread(p)) {
			snprintf(kname, sizeof(kname), "[%s]", comm);
			memcpy(abuf, kname, strlen(kname) + 1);
			an = 1;
		}
		if (o->env)
			en = count_strings(ebuf, elen);
		struct out_val v[] = {
			{ .i = vms_proc_pid(p) }, { .i = vms_proc_ppid(p) },
			{ .u = vms_proc_uid(p) }, { .s = comm },
			{ .b = alen == VMS_MIN(afull, AREA_BUF) },
			{ .s = abuf, .n = an },
			{ .b = elen == VMS_MIN(efull, AREA_BUF) },
			{ .s = ebuf, .n = en },
		};
		out_row(out, v);
	}
	vms_proc_iter_destroy(it);
	out_finish(out);
	free(abuf);
	free(ebuf);
	return r < 0 ? fail(s, r) : 0;
}

static int cmd_threads(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "pid", "PID", OUT_INT, 0 },
		{ "tid", "TID", OUT_INT, 0 },
		{ "state", "S", OUT_STR, 0 },
		{ "task", "TASK", OUT_HEX, 0 },
		{ "comm", "COMM", OUT_STR, 1 },
	};
	struct vms_proc_iter *it, *tit;
	const struct vms_proc *p, *t;
	struct out *out;
	int err, r, tr = 0;

	if ((err = vms_proc_iter_create(s, &it)))
		return fail(s, err);
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		if (o->pid >= 0 && vms_proc_pid(p) != o->pid)
			continue;
		if ((err = vms_thread_iter_create(s, p, &tit))) {
			r = err;
			break;
		}
		while ((tr = vms_proc_iter_next(tit, &t)) == 1) {
			char comm[64], st[2] = { vms_proc_state(t), 0 };
			vms_proc_comm(t, comm, sizeof(comm));
			struct out_val v[] = {
				{ .i = vms_proc_pid(t) }, { .i = vms_proc_tid(t) },
				{ .s = st }, { .u = vms_proc_task_addr(t) },
				{ .s = comm },
			};
			out_row(out, v);
		}
		vms_proc_iter_destroy(tit);
		if (tr < 0) {
			r = tr;
			break;
		}
	}
	vms_proc_iter_destroy(it);
	out_finish(out);
	return r < 0 ? fail(s, r) : 0;
}

static int cmd_creds(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "pid", "PID", OUT_INT, 0 },
		{ "uid", "UID", OUT_UINT, 0 },   { "euid", "EUID", OUT_UINT, 0 },
		{ "suid", "SUID", OUT_UINT, 0 }, { "fsuid", "FSUID", OUT_UINT, 0 },
		{ "gid", "GID", OUT_UINT, 0 },   { "egid", "EGID", OUT_UINT, 0 },
		{ "sgid", "SGID", OUT_UINT, 0 }, { "fsgid", "FSGID", OUT_UINT, 0 },
		{ "cap_inheritable", "CAPINH", OUT_HEX, 0 },
		{ "cap_permitted", "CAPPRM", OUT_HEX, 0 },
		{ "cap_effective", "CAPEFF", OUT_HEX, 0 },
		{ "cap_bounding", "CAPBND", OUT_HEX, 0 },
		{ "cap_ambient", "CAPAMB", OUT_HEX, 0 },
		{ "comm", "COMM", OUT_STR, 1 },
	};
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	struct out *out;
	int err, r;

	if ((err = vms_proc_iter_create(s, &it)))
		return fail(s, err);
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		struct vms_cred c = { .sz = sizeof(c) };
		char comm[64];
		vms_proc_cred_get(p, &c);
		vms_proc_comm(p, comm, sizeof(comm));
		struct out_val v[] = {
			{ .i = vms_proc_pid(p) }, { .u = c.uid }, { .u = c.euid },
			{ .u = c.suid }, { .u = c.fsuid }, { .u = c.gid },
			{ .u = c.egid }, { .u = c.sgid }, { .u = c.fsgid },
			{ .u = c.cap_inheritable }, { .u = c.cap_permitted },
			{ .u = c.cap_effective }, { .u = c.cap_bounding },
			{ .u = c.cap_ambient }, { .s = comm },
		};
		out_row(out, v);
	}
	vms_proc_iter_destroy(it);
	out_finish(out);
	return r < 0 ? fail(s, r) : 0;
}

static int cmd_regs(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "cpu", "CPU", OUT_UINT, 0 },
		{ "mode", "MODE", OUT_STR, 1 },
		{ "rip", "RIP", OUT_HEX, 0 },
		{ "symbol", "SYMBOL", OUT_STR, 1 },
		{ "rsp", "RSP", OUT_HEX, 0 },
		{ "cr3", "CR3", OUT_HEX, 0 },
		{ "gs_base", "GS BASE", OUT_HEX, 0 },
		{ "rax", NULL, OUT_HEX, 0 }, { "rbx", NULL, OUT_HEX, 0 },
		{ "rcx", NULL, OUT_HEX, 0 }, { "rdx", NULL, OUT_HEX, 0 },
		{ "rsi", NULL, OUT_HEX, 0 }, { "rdi", NULL, OUT_HEX, 0 },
		{ "rbp", NULL, OUT_HEX, 0 }, { "r8", NULL, OUT_HEX, 0 },
		{ "r9", NULL, OUT_HEX, 0 },  { "r10", NULL, OUT_HEX, 0 },
		{ "r11", NULL, OUT_HEX, 0 }, { "r12", NULL, OUT_HEX, 0 },
		{ "r13", NULL, OUT_HEX, 0 }, { "r14", NULL, OUT_HEX, 0 },
		{ "r15", NULL, OUT_HEX, 0 }, { "rflags", NULL, OUT_HEX, 0 },
		{ "cs", NULL, OUT_HEX, 0 },  { "ss", NULL, OUT_HEX, 0 },
		{ "fs_base", NULL, OUT_HEX, 0 },
		{ "kernel_gs_base", NULL, OUT_HEX, 0 },
		{ "cr0", NULL, OUT_HEX, 0 }, { "cr2", NULL, OUT_HEX, 0 },
		{ "cr4", NULL, OUT_HEX, 0 }, { "efer", NULL, OUT_HEX, 0 },
	};
	struct out *out;
	size_t n;
	int err;

	if ((err = vms_vcpus_read(s)))
		return fail(s, err);
	if (!(n = vms_vcpu_count(s))) {
		fprintf(stderr, "%s: %s holds no vCPU registers (raw and "
			"LiME files have none)\n", prog, o->source);
		return 1;
	}
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	for (size_t i = 0; i < n; i++) {
		struct vms_vcpu c = { .sz = sizeof(c) };
		struct vms_symbol sym;
		uint64_t off;
		char where[160] = "";
		if ((err = vms_vcpu_get(s, i, &c)))
			break;
		/* A guest outside long mode, or before its kernel is up,
		 * has no kernel symbols: the column stays empty. */
		if (!vms_symbol_find(s, c.rip, &sym, &off))
			snprintf(where, sizeof(where), "%s+%#" PRIx64,
				 sym.name, off);
		vms_errclear(s);
		struct out_val v[] = {
			{ .u = c.cpu },
			{ .s = !(c.cr0 & 1) ? "real" : c.cs & 3 ? "user"
							      : "kernel" },
			{ .u = c.rip }, { .s = where }, { .u = c.rsp },
			{ .u = c.cr3 }, { .u = c.gs_base },
			{ .u = c.rax }, { .u = c.rbx }, { .u = c.rcx },
			{ .u = c.rdx }, { .u = c.rsi }, { .u = c.rdi },
			{ .u = c.rbp }, { .u = c.r8 }, { .u = c.r9 },
			{ .u = c.r10 }, { .u = c.r11 }, { .u = c.r12 },
			{ .u = c.r13 }, { .u = c.r14 }, { .u = c.r15 },
			{ .u = c.rflags }, { .u = c.cs }, { .u = c.ss },
			{ .u = c.fs_base }, { .u = c.kernel_gs_base },
			{ .u = c.cr0 }, { .u = c.cr2 }, { .u = c.cr4 },
			{ .u = c.efer },
		};
		out_row(out, v);
	}
	out_finish(out);
	return err ? fail(s, err) : 0;
}

static int cmd_snapshot(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "file", "FILE", OUT_STR, 1 },
		{ "size", "BYTES", OUT_UINT, 0 },
		{ "memory_bytes", "MEMORY", OUT_UINT, 0 },
		{ "ranges", "RANGES", OUT_UINT, 0 },
		{ "cpus", "CPUS", OUT_UINT, 0 },
	};
	struct vms_phys_range r;
	struct stat in, st;
	uint64_t size = 0, mem = 0;
	struct out *out;
	int fd, err;

	if (!o->out_dir) {
		fprintf(stderr, "%s snapshot: --out FILE is required\n", prog);
		return 2;
	}
	/* Truncating the dump being read would pull it from under vmsight
	 * (its pages are mapped). */
	if (!stat(o->out_dir, &st) && !stat(o->source, &in) &&
	    st.st_dev == in.st_dev && st.st_ino == in.st_ino) {
		fprintf(stderr, "%s snapshot: %s is the source itself\n", prog,
			o->out_dir);
		return 2;
	}
	if ((err = vms_vcpus_read(s)))
		return fail(s, err);
	fd = open(o->out_dir, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, o->out_dir,
			strerror(errno));
		return 1;
	}
	err = vms_snapshot_write(s, fd, &size);
	if (close(fd) && !err)
		err = -EIO;
	if (err) {
		unlink(o->out_dir); /* no half-written core left behind */
		return fail(s, err);
	}
	for (size_t i = 0; !vms_phys_range_get(s, i, &r); i++)
		mem += r.size;
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	out_row(out, (struct out_val[]){ { .s = o->out_dir }, { .u = size },
					 { .u = mem },
					 { .u = vms_phys_range_count(s) },
					 { .u = vms_vcpu_count(s) } });
	out_finish(out);
	return 0;
}

static int cmd_lsmod(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "name", "MODULE", OUT_STR, 1 },
		{ "size", "SIZE", OUT_UINT, 0 },
		{ "refcount", "REFS", OUT_INT, 0 },
		{ "users", "USED BY", OUT_STR, 1 },
		{ "state", "STATE", OUT_STR, 1 },
		{ "base", "BASE", OUT_HEX, 0 },
		{ "taints", "TAINTS", OUT_STR, 1 },
		{ "addr", NULL, OUT_HEX, 0 },
	};
	struct vms_module_iter *it;
	const struct vms_module *m;
	struct out *out;
	int err, r;

	if ((err = vms_module_iter_create(s, &it)))
		return fail(s, err);
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	while ((r = vms_module_iter_next(it, &m)) == 1) {
		struct out_val v[] = {
			{ .s = vms_module_name(m) }, { .u = vms_module_size(m) },
			{ .i = vms_module_refcount(m) },
			{ .s = vms_module_users(m) }, { .s = vms_module_state(m) },
			{ .u = vms_module_base(m) }, { .s = vms_module_taints(m) },
			{ .u = vms_module_addr(m) },
		};
		out_row(out, v);
	}
	vms_module_iter_destroy(it);
	out_finish(out);
	return r < 0 ? fail(s, r) : 0;
}

static int cmd_dmesg(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "seq", NULL, OUT_UINT, 0 },
		{ "ts_nsec", NULL, OUT_UINT, 0 },
		{ "level", NULL, OUT_INT, 0 },
		{ "facility", NULL, OUT_INT, 0 },
		{ "text", NULL, OUT_STR, 0 },
	};
	struct vms_log_iter *it;
	struct vms_log_record rec = { .sz = sizeof(rec) };
	struct out *out = NULL;
	char *text = malloc(65536 + 1);
	int err, r;

	if (!text)
		return fail(s, -ENOMEM);
	if ((err = vms_log_iter_create(s, &it))) {
		free(text);
		return fail(s, err);
	}
	if (o->json)
		out = out_new(stdout, true, cols, VMS_ARRAY_LEN(cols));
	while ((r = vms_log_iter_next(it, &rec)) == 1) {
		size_t n = VMS_MIN(rec.text_len, (size_t)65536);
		memcpy(text, rec.text, n);
		text[n] = 0;
		if (out) {
			struct out_val v[] = { { .u = rec.seq },
					       { .u = rec.ts_nsec },
					       { .i = rec.level },
					       { .i = rec.facility },
					       { .s = text } };
			out_row(out, v);
			continue;
		}
		/* The kernel's syslog format: each line of the record gets
		 * the "[seconds.micros] " prefix, and with --raw the
		 * "<facility * 8 + level>" prefix before it, as dmesg -r. */
		for (char *line = text, *nl;; line = nl + 1) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			if (o->raw && rec.level >= 0)
				printf("<%d>", (rec.facility > 0
							? rec.facility << 3
							: 0) | rec.level);
			printf("[%5" PRIu64 ".%06" PRIu64 "] ", rec.ts_nsec / 1000000000,
			       rec.ts_nsec % 1000000000 / 1000);
			for (char *c = line; *c; c++)
				putchar((unsigned char)*c < 0x20 && *c != '\t'
						? '?'
						: *c);
			putchar('\n');
			if (!nl)
				break;
		}
	}
	vms_log_iter_destroy(it);
	if (out)
		out_finish(out);
	free(text);
	return r < 0 ? fail(s, r) : 0;
}

/* Call @fn for every open file of every user process (or of --pid's).
 * A process whose file table cannot be read is reported and skipped, so
 * that it cannot hide the others. */
typedef void (*file_fn)(const struct vms_proc *p, const char *comm,
			const struct vms_file *f, void *arg);

static int for_each_file(struct opts *o, struct vms_session *s, file_fn fn,
			 void *arg)
{
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	int err, r;

	if ((err = vms_proc_iter_create(s, &it)))
		return err;
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		struct vms_file_iter *fit;
		const struct vms_file *f;
		char comm[64];
		int fr;

		if ((o->pid >= 0 && vms_proc_pid(p) != o->pid) ||
		    vms_proc_is_kthread(p))
			continue;
		vms_proc_comm(p, comm, sizeof(comm));
		if ((err = vms_file_iter_create(s, p, &fit))) {
			r = err;
			break;
		}
		while ((fr = vms_file_iter_next(fit, &f)) == 1)
			fn(p, comm, f, arg);
		vms_file_iter_destroy(fit);
		if (fr < 0) {
			fprintf(stderr, "%s: warning: pid %d: %s\n", prog,
				vms_proc_pid(p), vms_errmsg(s));
			vms_errclear(s);
		}
	}
	vms_proc_iter_destroy(it);
	return r < 0 ? r : 0;
}

static void lsof_row(const struct vms_proc *p, const char *comm,
		     const struct vms_file *f, void *arg)
{
	struct out_val v[] = {
		{ .i = vms_proc_pid(p) },   { .s = comm },
		{ .i = vms_file_fd(f) },    { .s = vms_file_type(f) },
		{ .s = vms_file_mode(f) },  { .u = vms_file_inode(f) },
		{ .s = vms_file_path(f) },  { .u = vms_file_addr(f) },
	};
	out_row(arg, v);
}

static int cmd_lsof(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "pid", "PID", OUT_INT, 0 },
		{ "comm", "COMM", OUT_STR, 1 },
		{ "fd", "FD", OUT_INT, 0 },
		{ "type", "TYPE", OUT_STR, 1 },
		{ "mode", "MODE", OUT_STR, 1 },
		{ "inode", "INODE", OUT_UINT, 0 },
		{ "path", "NAME", OUT_STR, 1 },
		{ "file", NULL, OUT_HEX, 0 },
	};
	struct out *out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	int err = for_each_file(o, s, lsof_row, out);

	out_finish(out);
	return err ? fail(s, err) : 0;
}

static int cmd_maps(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "start", NULL, OUT_HEX, 0 }, { "end", NULL, OUT_HEX, 0 },
		{ "perms", NULL, OUT_STR, 0 }, { "offset", NULL, OUT_HEX, 0 },
		{ "dev", NULL, OUT_STR, 0 },   { "inode", NULL, OUT_UINT, 0 },
		{ "name", NULL, OUT_STR, 0 },  { "vma", NULL, OUT_HEX, 0 },
	};
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	struct out *out = NULL;
	int err, r, found = 0;

	if (o->pid < 0) {
		fprintf(stderr, "%s maps: which process? vmsight maps PID "
			"DUMP\n", prog);
		return 2;
	}
	if ((err = vms_proc_iter_create(s, &it)))
		return fail(s, err);
	if (o->json)
		out = out_new(stdout, true, cols, VMS_ARRAY_LEN(cols));
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		struct vms_maps *m;
		if (vms_proc_pid(p) != o->pid)
			continue;
		found = 1;
		if ((err = vms_maps_get(s, p, &m))) {
			r = err;
			break;
		}
		for (size_t i = 0; i < vms_maps_count(m); i++) {
			struct vms_vma_info v = { .sz = sizeof(v) };
			char dev[16], line[128];
			vms_maps_entry(m, i, &v);
			snprintf(dev, sizeof(dev), "%02x:%02x", v.dev_major,
				 v.dev_minor);
			if (out) {
				struct out_val x[] = {
					{ .u = v.start }, { .u = v.end },
					{ .s = v.perms }, { .u = v.offset },
					{ .s = dev }, { .u = v.inode },
					{ .s = v.name }, { .u = v.vma },
				};
				out_row(out, x);
				continue;
			}
			/* fs/proc/task_mmu.c show_map_vma(): the name starts
			 * at column 73 (25 + 6 * sizeof(void *)). */
			int n = snprintf(line, sizeof(line),
					 "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64
					 " %s %" PRIu64 " ",
					 v.start, v.end, v.perms, v.offset, dev,
					 v.inode);
			if (*v.name)
				printf("%s%*s%s\n", line, n < 73 ? 73 - n : 0,
				       "", v.name);
			else
				printf("%.*s\n", n - 1, line);
		}
		vms_maps_destroy(m);
		break;
	}
	vms_proc_iter_destroy(it);
	if (out)
		out_finish(out);
	if (r < 0)
		return fail(s, r);
	if (!found) {
		fprintf(stderr, "%s: no process %d in the task list\n", prog,
			o->pid);
		return 1;
	}
	return 0;
}

struct sockrow {
	struct vms_socket_info si;
	char proto[12], state[24], local[160], remote[160];
	char owners[512];	/* NUL-separated "pid/comm" */
	size_t owners_len, nowners;
};

static int sock_cmp(const void *a, const void *b)
{
	const struct sockrow *x = a, *y = b;
	int c = strcmp(x->proto, y->proto);
	return c ? c : strcmp(x->local, y->local);
}

struct sockrows {
	struct vms_session *s;
	struct sockrow *rows;
	size_t n, cap;
	bool nomem;
};

/* The row of socket @si, added if new; NULL when out of memory. The
 * tables hold a few thousand sockets at most, so a linear search will
 * do. */
static struct sockrow *sock_find(struct sockrows *t,
				 const struct vms_socket_info *si)
{
	struct sockrow *sr;

	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].si.sock == si->sock)
			return &t->rows[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct sockrow *x = realloc(t->rows, cap * sizeof(*x));
		if (!x) {
			t->nomem = true;
			return NULL;
		}
		t->rows = x;
		t->cap = cap;
	}
	sr = &t->rows[t->n++];
	memset(sr, 0, sizeof(*sr));
	sr->si = *si;
	snprintf(sr->proto, sizeof(sr->proto), "%s", si->proto);
	snprintf(sr->state, sizeof(sr->state), "%s", si->state_name);
	snprintf(sr->local, sizeof(sr->local), "%s", si->local);
	snprintf(sr->remote, sizeof(sr->remote), "%s", si->remote);
	return sr;
}

static void sock_row(const struct vms_proc *p, const char *comm,
		     const struct vms_file *f, void *arg)
{
	struct sockrows *t = arg;
	struct vms_socket_info si = { .sz = sizeof(si) };
	struct sockrow *sr;
	char own[96];
	int len;

	if (vms_file_socket(t->s, f, &si)) {
		vms_errclear(t->s);
		return;
	}
	if (!(sr = sock_find(t, &si)))
		return;
	len = snprintf(own, sizeof(own), "%d/%s", vms_proc_pid(p), comm);
	/* Threads share fd tables: one entry per process. */
	if (len > 0 &&
	    sr->owners_len + (size_t)len + 1 <= sizeof(sr->owners) &&
	    !memmem(sr->owners, sr->owners_len, own, (size_t)len + 1)) {
		memcpy(sr->owners + sr->owners_len, own, (size_t)len + 1);
		sr->owners_len += (size_t)len + 1;
		sr->nowners++;
	}
}

static int cmd_netstat(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "proto", "PROTO", OUT_STR, 1 },
		{ "local", "LOCAL", OUT_STR, 1 },
		{ "remote", "REMOTE", OUT_STR, 1 },
		{ "state", "STATE", OUT_STR, 1 },
		{ "inode", "INODE", OUT_UINT, 0 },
		{ "owners", "OWNERS", OUT_STRV, 1 },
		{ "netns", "NETNS", OUT_UINT, 0 },
		{ "sock", NULL, OUT_HEX, 0 },
	};
	struct sockrows t = { .s = s };
	struct vms_socket_iter *it = NULL;
	struct vms_socket_info si = { .sz = sizeof(si) };
	int err = for_each_file(o, s, sock_row, &t), r = 0;
	struct sockrow *rows;
	size_t n;

	/* Then the protocol tables: sockets no process holds (TIME_WAIT,
	 * in flight, held by the kernel) and those of every namespace. */
	if (!err && o->pid < 0 && !(err = vms_socket_iter_create(s, &it))) {
		while ((r = vms_socket_iter_next(it, &si)) == 1)
			sock_find(&t, &si);
		vms_socket_iter_destroy(it);
		err = r;
	}
	rows = t.rows;
	n = t.n;
	if (err || t.nomem) {
		free(rows);
		return fail(s, err ? err : -ENOMEM);
	}
	qsort(rows, n, sizeof(*rows), sock_cmp);
	struct out *out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	for (size_t i = 0; i < n; i++) {
		struct out_val v[] = {
			{ .s = rows[i].proto }, { .s = rows[i].local },
			{ .s = rows[i].remote }, { .s = rows[i].state },
			{ .u = rows[i].si.inode },
			{ .s = rows[i].owners, .n = rows[i].nowners },
			{ .u = rows[i].si.netns }, { .u = rows[i].si.sock },
		};
		out_row(out, v);
	}
	out_finish(out);
	free(rows);
	return 0;
}

/* Write all of @buf at @off (or, to a stream, in order), retrying short
 * writes. */
static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off,
		      bool stream)
{
	while (len) {
		ssize_t w = stream ? write(fd, buf, len)
				   : pwrite(fd, buf, len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w, off += (uint64_t)w, len -= (size_t)w;
	}
	return 0;
}

#define DUMP_AREA_MAX (1ull << 30)

/* Write one area; returns the json description, or NULL on a write
 * error (errno set). */
static json_object *dump_area(struct vms_session *s, const struct vms_proc *p,
			      const struct vms_vma_info *v, int dirfd)
{
	char name[64], hex[24];
	json_object *j = json_object_new_object(), *missing;
	uint64_t resident = 0, miss_start = 0;
	bool in_miss = false;
	static uint8_t page[4096];
	int fd;

#define HEX(x) (snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)(x)), \
		json_object_new_string(hex))
	json_object_object_add(j, "start", HEX(v->start));
	json_object_object_add(j, "end", HEX(v->end));
	json_object_object_add(j, "perms", json_object_new_string(v->perms));
	json_object_object_add(j, "offset", HEX(v->offset));
	json_object_object_add(j, "name", json_object_new_string(v->name));
	if (v->end - v->start > DUMP_AREA_MAX) {
		json_object_object_add(j, "skipped", json_object_new_string(
						     "larger than 1 GiB"));
		return j;
	}
	snprintf(name, sizeof(name), "%016" PRIx64 "-%016" PRIx64 ".bin",
		 v->start, v->end);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0) {
		json_object_put(j);
		return NULL;
	}
	missing = json_object_new_array();
	for (uint64_t va = v->start; va < v->end; va += 4096) {
		size_t got = 0;
		if (vms_proc_read(s, p, va, page, sizeof(page), &got)) {
			vms_errclear(s);
			got = 0;
		}
		if (got == sizeof(page)) {
			if (pwrite_all(fd, page, sizeof(page), va - v->start,
				       false)) {
				close(fd);
				json_object_put(missing);
				json_object_put(j);
				return NULL;
			}
			resident += sizeof(page);
		}
		bool miss = got != sizeof(page);
		if (miss && !in_miss)
			miss_start = va;
		if (in_miss && (!miss || va + 4096 >= v->end)) {
			json_object *r = json_object_new_array();
			json_object_array_add(r, HEX(miss_start));
			json_object_array_add(r, HEX(miss ? va + 4096 : va));
			json_object_array_add(missing, r);
		} else if (miss && va + 4096 >= v->end) {
			json_object *r = json_object_new_array();
			json_object_array_add(r, HEX(va));
			json_object_array_add(r, HEX(va + 4096));
			json_object_array_add(missing, r);
		}
		in_miss = miss;
	}
	/* Missing pages stay holes: the file has the area's full size. */
	if (ftruncate(fd, (off_t)(v->end - v->start)) || close(fd)) {
		json_object_put(missing);
		json_object_put(j);
		return NULL;
	}
	json_object_object_add(j, "file", json_object_new_string(name));
	json_object_object_add(j, "resident_bytes",
			       json_object_new_uint64(resident));
	json_object_object_add(j, "missing", missing);
	return j;
#undef HEX
}

static int cmd_dump(struct opts *o, struct vms_session *s)
{
	struct vms_proc_iter *it;
	const struct vms_proc *p;
	int err, r, dirfd, ret = 1;

	if (o->pid < 0 || !o->out_dir) {
		fprintf(stderr, "%s dump: usage: vmsight dump PID --out DIR "
			"DUMP\n", prog);
		return 2;
	}
	if (mkdir(o->out_dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, o->out_dir,
			strerror(errno));
		return 1;
	}
	dirfd = open(o->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, o->out_dir,
			strerror(errno));
		return 1;
	}
	if ((err = vms_proc_iter_create(s, &it))) {
		close(dirfd);
		return fail(s, err);
	}
	while ((r = vms_proc_iter_next(it, &p)) == 1) {
		struct vms_maps *m;
		json_object *index;
		size_t n;

		if (vms_proc_pid(p) != o->pid)
			continue;
		if ((err = vms_maps_get(s, p, &m))) {
			r = err;
			break;
		}
		index = json_object_new_array();
		n = vms_maps_count(m);
		for (size_t i = 0; i < n; i++) {
			struct vms_vma_info v = { .sz = sizeof(v) };
			json_object *j;
			vms_maps_entry(m, i, &v);
			if (!strcmp(v.name, "[vsyscall]"))
				continue; /* the kernel's gate page */
			j = dump_area(s, p, &v, dirfd);
			if (!j) {
				fprintf(stderr, "%s: cannot write area %#" PRIx64
					" to %s: %s\n", prog, v.start,
					o->out_dir, strerror(errno));
				json_object_put(index);
				vms_maps_destroy(m);
				goto out;
			}
			json_object_array_add(index, j);
		}
		vms_maps_destroy(m);
		int ifd = openat(dirfd, "index.json",
				 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		const char *txt = json_object_to_json_string_ext(
			index, JSON_C_TO_STRING_PRETTY |
				       JSON_C_TO_STRING_NOSLASHESCAPE);
		if (ifd < 0 || write(ifd, txt, strlen(txt)) < 0 ||
		    write(ifd, "\n", 1) < 0 || close(ifd)) {
			fprintf(stderr, "%s: cannot write %s/index.json: %s\n",
				prog, o->out_dir, strerror(errno));
			json_object_put(index);
			goto out;
		}
		printf("%s: %zu areas of pid %d written to %s\n", prog,
		       json_object_array_length(index), o->pid, o->out_dir);
		json_object_put(index);
		ret = 0;
		goto out;
	}
	if (r < 0)
		ret = fail(s, r);
	else
		fprintf(stderr, "%s: no process %d in the task list\n", prog,
			o->pid);
out:
	vms_proc_iter_destroy(it);
	close(dirfd);
	return ret;
}

static const char *const page_state_names[] = {
	[VMS_PAGE_RESIDENT] = "resident",
	[VMS_PAGE_HOLE] = "hole",
	[VMS_PAGE_SWAPPED] = "swapped",
	[VMS_PAGE_NOT_CACHED] = "not-cached",
	[VMS_PAGE_NOT_IN_DUMP] = "not-in-dump",
};

static const char *const page_state_why[] = {
	[VMS_PAGE_SWAPPED] = "swapped out",
	[VMS_PAGE_NOT_CACHED] = "not in the page cache",
	[VMS_PAGE_NOT_IN_DUMP] = "cached, but not in the dump",
};

/* Print one run of pages [first, end) in state @st as a JSON record. */
static void cat_extent(struct out *out, const struct vms_cfile_info *fi,
		       uint64_t first, uint64_t end, int st)
{
	uint64_t off = first * 4096, len = VMS_MIN(end * 4096, fi->size) - off;
	struct out_val v[] = {
		{ .s = fi->path }, { .u = fi->inode }, { .s = fi->fstype },
		{ .u = fi->size }, { .u = off }, { .u = len },
		{ .s = page_state_names[st] },
	};
	out_row(out, v);
}

static int cmd_cat(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "path", NULL, OUT_STR, 0 },	 { "inode", NULL, OUT_UINT, 0 },
		{ "fstype", NULL, OUT_STR, 0 },	 { "size", NULL, OUT_UINT, 0 },
		{ "offset", NULL, OUT_UINT, 0 }, { "length", NULL, OUT_UINT, 0 },
		{ "state", NULL, OUT_STR, 0 },
	};
	struct vms_cfile_info fi = { .sz = sizeof(fi) };
	struct vms_cfile *f;
	struct out *out = NULL;
	uint8_t page[4096];
	uint64_t run = 0, missing = 0;
	int err, fd = STDOUT_FILENO, run_st = -1, ret = 0;

	if (!o->path) {
		fprintf(stderr, "%s cat: usage: vmsight cat PATH DUMP [--out "
			"FILE]\n", prog);
		return 2;
	}
	if ((err = vms_cfile_open(s, o->path, &f)))
		return fail(s, err);
	vms_cfile_info_get(f, &fi);
	if (o->json) {
		out = out_new(stdout, true, cols, VMS_ARRAY_LEN(cols));
	} else if (o->out_dir) {
		fd = open(o->out_dir, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot create %s: %s\n", prog,
				o->out_dir, strerror(errno));
			vms_cfile_close(f);
			return 1;
		}
	}
	for (uint64_t i = 0; i <= fi.pages; i++) {
		int st = i < fi.pages ? vms_cfile_read_page(f, i, page) : -1;
		size_t n = (size_t)VMS_MIN(4096, fi.size - i * 4096);

		if (i < fi.pages && st < 0) {
			ret = fail(s, st);
			break;
		}
		if (out) { /* the page map: runs of equal state */
			if (st != run_st && run_st >= 0)
				cat_extent(out, &fi, run, i, run_st);
			if (st != run_st)
				run = i, run_st = st;
			continue;
		}
		if (i == fi.pages)
			break;
		if (st == VMS_PAGE_RESIDENT || st == VMS_PAGE_HOLE) {
			/* Holes in a --out file stay holes. */
			if (st == VMS_PAGE_HOLE && fd != STDOUT_FILENO)
				continue;
			if (pwrite_all(fd, page, n, i * 4096,
				       fd == STDOUT_FILENO)) {
				fprintf(stderr, "%s: cannot write %s: %s\n",
					prog, o->out_dir ? o->out_dir
							 : "standard output",
					strerror(errno));
				ret = 1;
				break;
			}
			continue;
		}
		missing++;
		if (fd == STDOUT_FILENO) {
			fprintf(stderr, "%s: %s: bytes %" PRIu64 "-%" PRIu64
				" are %s; the output stops there (--out FILE "
				"writes the rest, --json shows the page "
				"map)\n", prog, o->path, i * 4096,
				i * 4096 + n - 1, page_state_why[st]);
			ret = 1;
			break;
		}
		fprintf(stderr, "%s: warning: %s: bytes %" PRIu64 "-%" PRIu64
			" are %s; left as a hole\n", prog, o->path, i * 4096,
			i * 4096 + n - 1, page_state_why[st]);
	}
	if (fd != STDOUT_FILENO) {
		if (!ret && (ftruncate(fd, (off_t)fi.size) || close(fd))) {
			fprintf(stderr, "%s: cannot write %s: %s\n", prog,
				o->out_dir, strerror(errno));
			ret = 1;
		} else if (ret) {
			close(fd);
		}
		if (!ret && missing) {
			fprintf(stderr, "%s: %s: %" PRIu64 " of %" PRIu64
				" pages were not in memory\n", prog, o->path,
				missing, fi.pages);
			ret = 1;
		}
	}
	if (out)
		out_finish(out);
	vms_cfile_close(f);
	return ret;
}

static int cmd_mounts(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "id", "ID", OUT_INT, 0 },
		{ "device", "DEVICE", OUT_STR, 1 },
		{ "path", "MOUNT POINT", OUT_STR, 1 },
		{ "fstype", "TYPE", OUT_STR, 1 },
		{ "options", "OPTIONS", OUT_STR, 1 },
		{ "mount", NULL, OUT_HEX, 0 },
	};
	struct vms_mount_iter *it;
	const struct vms_mount *m;
	struct out *out;
	int err, r;

	if ((err = vms_mount_iter_create(s, &it)))
		return fail(s, err);
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	while ((r = vms_mount_iter_next(it, &m)) == 1) {
		struct out_val v[] = {
			{ .i = vms_mount_id(m) }, { .s = vms_mount_devname(m) },
			{ .s = vms_mount_path(m) }, { .s = vms_mount_fstype(m) },
			{ .s = vms_mount_options(m) },
			{ .u = vms_mount_addr(m) },
		};
		out_row(out, v);
	}
	vms_mount_iter_destroy(it);
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

struct check_run {
	struct out *out;
	int worst;		/* highest severity found, -1: none */
	size_t findings;
};

static int on_finding(const struct vms_finding *f, void *arg)
{
	struct check_run *cr = arg;
	struct out_val v[] = {
		{ .s = vms_severity_name(f->severity) }, { .s = f->check },
		{ .s = f->object }, { .s = f->evidence }, { .u = f->addr },
		{ .u = f->target }, { .s = f->owner },
	};
	progress_clear();
	out_row(cr->out, v);
	cr->findings++;
	if ((int)f->severity > cr->worst)
		cr->worst = (int)f->severity;
	return 0;
}

static int check_list(struct opts *o)
{
	static const struct out_col cols[] = {
		{ "name", "CHECK", OUT_STR, 1 },
		{ "severity", "SEVERITY", OUT_STR, 1 },
		{ "title", "WHAT IT COMPARES", OUT_STR, 1 },
	};
	struct out *out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));

	for (size_t i = 0; i < vms_check_count(); i++) {
		struct vms_check_desc d = { .sz = sizeof(d) };
		if (vms_check_get(i, &d))
			continue;
		struct out_val v[] = { { .s = d.name },
				       { .s = vms_severity_name(d.severity) },
				       { .s = d.title } };
		out_row(out, v);
	}
	out_finish(out);
	return 0;
}

static int cmd_check(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "severity", "SEVERITY", OUT_STR, 1 },
		{ "check", "CHECK", OUT_STR, 1 },
		{ "object", "OBJECT", OUT_STR, 1 },
		{ "evidence", "EVIDENCE", OUT_STR, 1 },
		{ "addr", NULL, OUT_HEX, 0 },
		{ "target", NULL, OUT_HEX, 0 },
		{ "owner", NULL, OUT_STR, 0 },
	};
	struct check_run cr = { .worst = -1 };
	size_t ran = 0, failed = 0, nrun = 0, n = vms_check_count();
	struct vms_policy *pol = NULL;
	struct vms_yara *rules = NULL;
	const char *rules_path;
	enum vms_severity sev;
	int fail_on = o->fail_on, ret;
	bool *want;

	/* A bad policy stops everything: running with less than its author
	 * wrote would report a guest clean that the policy says is not. */
	if (o->policy) {
		char err[640];
		if (vms_policy_load(o->policy, &pol, err, sizeof(err))) {
			fprintf(stderr, "%s check: bad policy: %s\n", prog, err);
			return 2;
		}
		if (fail_on < 0 && !vms_policy_fail_on(pol, &sev))
			fail_on = (int)sev;
	}
	if (fail_on < 0)
		fail_on = VMS_SEV_LOW;
	want = calloc(n + 1, sizeof(*want));
	if (!want) {
		vms_policy_destroy(pol);
		return fail(s, -ENOMEM);
	}
	rules_path = o->yara ? o->yara : vms_policy_yara(pol);
	/* Which checks run: those --only names, each of which must be a
	 * check; else those the policy runs (all without one). */
	for (size_t i = 0; !o->only && i < n; i++) {
		struct vms_check_desc d = { .sz = sizeof(d) };
		want[i] = !vms_check_get(i, &d) && vms_policy_runs(pol, d.name);
	}
	for (const char *p = o->only; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p), i;
		for (i = 0; i < n; i++) {
			struct vms_check_desc d = { .sz = sizeof(d) };
			if (!vms_check_get(i, &d) && strlen(d.name) == len &&
			    !strncmp(d.name, p, len))
				break;
		}
		if (i == n) {
			fprintf(stderr, "%s check: no check called '%.*s' "
				"(see --list)\n", prog, (int)len, p);
			ret = 2;
			goto out;
		}
		if (!rules_path && len == 4 && !strncmp(p, "yara", 4)) {
			fprintf(stderr, "%s check: the yara check needs rules: "
				"--yara FILE, or a policy's yara directive\n",
				prog);
			ret = 2;
			goto out;
		}
		want[i] = true;
		p = e ? e + 1 : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct vms_check_desc d = { .sz = sizeof(d) };
		if (want[i] || vms_check_get(i, &d) || strcmp(d.name, "yara"))
			continue;
		if (o->yara) {
			fprintf(stderr, "%s check: --yara given, but the yara "
				"check does not run\n", prog);
			ret = 2;
			goto out;
		}
		rules_path = NULL; /* the policy's rules are not needed */
	}
	/* Rules that do not compile stop everything, as a bad policy
	 * does. */
	if (rules_path) {
		char err[640];
		if (vms_yara_load(rules_path, &rules, err, sizeof(err))) {
			fprintf(stderr, "%s check: bad YARA rules: %s\n", prog,
				err);
			ret = 2;
			goto out;
		}
	}
	vms_session_set_policy(s, pol);
	vms_session_set_yara(s, rules);
	cr.out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	for (size_t i = 0; i < n; i++)
		nrun += want[i];
	for (size_t i = 0; i < n; i++) {
		struct vms_check_desc d = { .sz = sizeof(d) };
		int r;
		if (!want[i] || vms_check_get(i, &d))
			continue;
		ran++;
		progress_cb(d.name, ran - 1, nrun, NULL);
		r = vms_check_run(s, d.name, on_finding, &cr);
		if (r < 0) {
			progress_clear();
			/* A check that cannot run is reported, and the others
			 * still run: one unreadable structure must not hide
			 * the rest. */
			fprintf(stderr, "%s: check %s could not run: %s\n",
				prog, d.name, vms_errmsg(s));
			failed++;
		}
	}
	vms_session_set_policy(s, NULL);
	vms_session_set_yara(s, NULL);
	progress_clear();
	out_finish(cr.out);
	if (!o->json && isatty(STDOUT_FILENO))
		printf("%zu checks run, %zu could not run, %zu findings\n",
		       ran, failed, cr.findings);
	ret = cr.worst >= fail_on ? 3 : failed ? 1 : 0;
out:
	free(want);
	vms_yara_destroy(rules);
	vms_policy_destroy(pol);
	return ret;
}

/* ------------------------------------------------------------------ */
/* baseline and diff                                                   */
/* ------------------------------------------------------------------ */

static int cmd_baseline(struct opts *o, struct vms_session *s)
{
	int err = vms_baseline_write(s, stdout, o->source);

	if (err == -EIO) {
		fprintf(stderr, "%s baseline: writing the baseline: %s\n", prog,
			strerror(EIO));
		return 1;
	}
	return err ? fail(s, err) : 0;
}

static int on_change(const struct vms_change *c, void *arg)
{
	struct out_val v[] = { { .s = c->change }, { .s = c->kind },
			       { .s = c->object }, { .s = c->detail },
			       { .u = c->addr } };
	return out_row(arg, v);
}

static int cmd_diff(struct opts *o, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "change", "CHANGE", OUT_STR, 1 },
		{ "kind", "KIND", OUT_STR, 1 },
		{ "object", "OBJECT", OUT_STR, 1 },
		{ "detail", "DETAIL", OUT_STR, 1 },
		{ "addr", NULL, OUT_HEX, 0 },
	};
	struct vms_baseline *base;
	struct out *out;
	char err[640];
	int r;

	if (!o->path) {
		fprintf(stderr, "%s diff: expected a baseline and a dump: "
			"vmsight diff BASELINE DUMP\n", prog);
		return 2;
	}
	if (vms_baseline_load(o->path, &base, err, sizeof(err))) {
		fprintf(stderr, "%s diff: bad baseline: %s\n", prog, err);
		return 2;
	}
	out = out_new(stdout, o->json, cols, VMS_ARRAY_LEN(cols));
	r = vms_baseline_diff(s, base, on_change, out);
	out_finish(out);
	if (r >= 0 && !o->json && isatty(STDOUT_FILENO))
		printf("%d differences from %s (%zu measurements)\n", r,
		       o->path, vms_baseline_count(base));
	vms_baseline_destroy(base);
	if (r < 0)
		return fail(s, r);
	return r ? 3 : 0;
}

/* watch: a signal ends the loop; the watch is then stopped, which
 * removes the breakpoints and lets the guest run. */
static volatile sig_atomic_t watch_signal;

static void watch_stop_signal(int sig)
{
	watch_signal = sig;
}

/* Guest strings reach a terminal with control characters as '?'. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

/* @ns since the epoch as "2026-11-22T17:48:47.776011Z" into @buf (at
 * least 28 bytes). */
static void iso_time(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ",
		 (unsigned)(ns % 1000000000u / 1000));
}

static int watch_print(struct opts *o, FILE *f, struct vms_event *ev)
{
	static const char *names[] = { [VMS_EVENT_EXEC] = "exec",
				       [VMS_EVENT_EXIT] = "exit",
				       [VMS_EVENT_MODULE] = "module",
				       [VMS_EVENT_SYSCALL] = "syscall",
				       [VMS_EVENT_RESET] = "reset",
				       [VMS_EVENT_KERNEL] = "kernel",
				       [VMS_EVENT_SHUTDOWN] = "shutdown" };
	const char *name = (size_t)ev->type < VMS_ARRAY_LEN(names) &&
			   names[ev->type] ? names[ev->type] : "?";
	char when[40], detail[4600] = "";

	iso_time(ev->time_ns, when, sizeof(when));
	if (ev->type == VMS_EVENT_RESET || ev->type == VMS_EVENT_KERNEL ||
	    ev->type == VMS_EVENT_SHUTDOWN) {
		/* The watch's own: no task. event and time, then reason
		 * (shutdown) or the last three (kernel). */
		static const struct out_col cols[] = {
			{ "event", NULL, OUT_STR, 0 },
			{ "time", NULL, OUT_STR, 0 },
			{ "reason", NULL, OUT_STR, 0 },
			{ "release", NULL, OUT_STR, 0 },
			{ "text_vaddr", NULL, OUT_HEX, 0 },
			{ "kaslr_slide", NULL, OUT_HEX, 0 },
		};
		struct out_val v[] = {
			{ .s = name }, { .s = when }, { .s = ev->reason },
			{ .s = ev->release }, { .u = ev->text_vaddr },
			{ .u = (uint64_t)ev->kaslr_slide },
		};
		if (o->json) {
			struct out_col c[5];
			struct out_val x[5];
			size_t from = ev->type == VMS_EVENT_KERNEL ? 3 : 2,
			       n = ev->type == VMS_EVENT_KERNEL ? 3
				   : ev->type == VMS_EVENT_SHUTDOWN ? 1 : 0;
			memcpy(c, cols, 2 * sizeof(*c));
			memcpy(x, v, 2 * sizeof(*x));
			memcpy(c + 2, cols + from, n * sizeof(*c));
			memcpy(x + 2, v + from, n * sizeof(*x));
			struct out *out = out_new(f, true, c, 2 + n);
			out_row(out, x);
			out_finish(out);
		} else if (ev->type == VMS_EVENT_RESET) {
			fprintf(f, "%s %-6s %7s %7s %-16s %s\n", when, name,
				"-", "-", "-", "the guest was reset; waiting "
				"for its next kernel");
		} else if (ev->type == VMS_EVENT_SHUTDOWN) {
			clean(ev->reason);
			fprintf(f, "%s %-6s %7s %7s %-16s %s%s%s\n", when, name,
				"-", "-", "-", "the guest powered off",
				ev->reason[0] ? ": " : "", ev->reason);
		} else {
			clean(ev->release);
			fprintf(f, "%s %-6s %7s %7s %-16s %s, _text at 0x%"
				PRIx64 " (KASLR slide 0x%" PRIx64 ")\n", when,
				name, "-", "-", "-", ev->release,
				ev->text_vaddr, (uint64_t)ev->kaslr_slide);
		}
		return fflush(f) ? -errno : 0;
	}
	if (o->json) {
		static const struct out_col common[] = {
			{ "event", NULL, OUT_STR, 0 },
			{ "time", NULL, OUT_STR, 0 },
			{ "cpu", NULL, OUT_UINT, 0 },
			{ "pid", NULL, OUT_INT, 0 },
			{ "tid", NULL, OUT_INT, 0 },
			{ "ppid", NULL, OUT_INT, 0 },
			{ "uid", NULL, OUT_UINT, 0 },
			{ "comm", NULL, OUT_STR, 0 },
			{ "dropped", NULL, OUT_UINT, 0 },
			/* exec */
			{ "path", NULL, OUT_STR, 0 },
			{ "argc", NULL, OUT_UINT, 0 },
			{ "argv", NULL, OUT_STRV, 0 },
			/* exit */
			{ "code", NULL, OUT_INT, 0 },
			{ "status", NULL, OUT_INT, 0 },
			{ "signal", NULL, OUT_INT, 0 },
			/* module */
			{ "module", NULL, OUT_STR, 0 },
			{ "module_addr", NULL, OUT_HEX, 0 },
			{ "module_base", NULL, OUT_HEX, 0 },
			/* syscall */
			{ "nr", NULL, OUT_INT, 0 },
			{ "name", NULL, OUT_STR, 0 },
			{ "args", NULL, OUT_STRV, 0 },
			/* module, after its three */
			{ "listed", NULL, OUT_BOOL, 0 },
		};
		size_t nargv = 0, n = 0;
		char args[6 * 20];
		for (size_t i = 0; i < ev->argv_len; i++)
			nargv += !ev->argv[i];
		for (int i = 0; i < 6; i++)
			n += (size_t)snprintf(args + n, sizeof(args) - n,
					      "0x%" PRIx64, ev->args[i]) + 1;
		struct out_val v[] = {
			{ .s = name }, { .s = when }, { .u = ev->cpu },
			{ .i = ev->pid }, { .i = ev->tid }, { .i = ev->ppid },
			{ .u = ev->uid }, { .s = ev->comm },
			{ .u = ev->dropped },
			{ .s = ev->path }, { .u = ev->argc },
			{ .s = ev->argv, .n = nargv },
			{ .i = ev->code }, { .i = ev->code >> 8 & 0xff },
			{ .i = ev->code & 0x7f },
			{ .s = ev->module }, { .u = ev->module_addr },
			{ .u = ev->module_base },
			{ .i = ev->nr }, { .s = ev->name },
			{ .s = args, .n = 6 },
			{ .b = ev->listed },
		};
		/* The common keys, then the event's own three (a module's
		 * four, with listed). */
		enum { COMMON = 9, OWN = 3 };
		size_t from = ev->type == VMS_EVENT_EXEC ? COMMON
			      : ev->type == VMS_EVENT_EXIT ? COMMON + OWN
			      : ev->type == VMS_EVENT_MODULE ? COMMON + 2 * OWN
							    : COMMON + 3 * OWN;
		size_t own = OWN;
		struct out_col c[COMMON + OWN + 1];
		struct out_val x[COMMON + OWN + 1];
		memcpy(c, common, COMMON * sizeof(*c));
		memcpy(x, v, COMMON * sizeof(*x));
		memcpy(c + COMMON, common + from, OWN * sizeof(*c));
		memcpy(x + COMMON, v + from, OWN * sizeof(*x));
		if (ev->type == VMS_EVENT_MODULE) {
			c[COMMON + own] = common[COMMON + 4 * OWN];
			x[COMMON + own++] = v[COMMON + 4 * OWN];
		}
		struct out *out = out_new(f, true, c, COMMON + own);
		out_row(out, x);
		out_finish(out);
	} else {
		switch (ev->type) {
		case VMS_EVENT_EXEC:
			snprintf(detail, sizeof(detail), "%s", ev->path);
			for (size_t i = 0, n = 0; i < ev->argv_len &&
			     n < sizeof(detail) - 2; i++) {
				if (!i || !ev->argv[i - 1]) {
					n = strlen(detail);
					snprintf(detail + n, sizeof(detail) - n,
						 " %s", ev->argv + i);
				}
			}
			break;
		case VMS_EVENT_EXIT:
			if (ev->code & 0x7f)
				snprintf(detail, sizeof(detail), "signal %d",
					 (int)(ev->code & 0x7f));
			else
				snprintf(detail, sizeof(detail), "status %d",
					 (int)(ev->code >> 8 & 0xff));
			break;
		case VMS_EVENT_MODULE:
			snprintf(detail, sizeof(detail), "%s at %#" PRIx64 "%s",
				 ev->module, ev->module_base, ev->listed ?
				 " (loaded before the watch found this boot's "
				 "kernel)" : "");
			break;
		case VMS_EVENT_SYSCALL:
			snprintf(detail, sizeof(detail), "%s(%" PRId64 ") 0x%"
				 PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
				 " 0x%" PRIx64 " 0x%" PRIx64,
				 ev->name[0] ? ev->name : "?", ev->nr,
				 ev->args[0], ev->args[1], ev->args[2],
				 ev->args[3], ev->args[4], ev->args[5]);
			break;
		default:
			break;
		}
		clean(ev->comm);
		clean(detail);
		if (ev->pid < 0) /* no task: a module from the list */
			fprintf(f, "%s %-6s %7s %7s %-16s %s\n", when, name,
				"-", "-", "-", detail);
		else
			fprintf(f, "%s %-6s %7d %7d %-16s %s\n", when, name,
				ev->pid, ev->tid, ev->comm, detail);
	}
	return fflush(f) ? -errno : 0;
}

/* watch's polled streams: the kernel log by sequence number, and check
 * findings not reported before (bounded: a guest cannot make vmsight
 * remember without end). */
#define MAX_SEEN 65536

struct follow {
	uint64_t log_next;	/* first sequence number not yet printed */
	bool log_primed;	/* the log's present end is known */
	char **seen;		/* findings reported, "check\x1fobject\x1fevidence" */
	size_t nseen;
	bool seen_full;
	struct opts *o;
	const struct vms_policy *pol; /* which checks run, or NULL: all */
	FILE *f;
	char when[40];
};

/* Now, as iso_time() writes it. */
static void stamp(char *when, size_t len)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	iso_time((uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec, when,
		 len);
}

/* New kernel log records since the last call. The first call only finds
 * the log's end: a watch reports what happens while it runs. */
static int follow_dmesg(struct follow *fl, struct vms_session *s)
{
	static const struct out_col cols[] = {
		{ "event", NULL, OUT_STR, 0 }, { "time", NULL, OUT_STR, 0 },
		{ "seq", NULL, OUT_UINT, 0 }, { "ts_nsec", NULL, OUT_UINT, 0 },
		{ "level", NULL, OUT_INT, 0 }, { "text", NULL, OUT_STR, 0 },
	};
	struct vms_log_record rec = { .sz = sizeof(rec) };
	struct vms_log_iter *it;
	uint64_t next = fl->log_next;
	char text[1024];
	int r;

	if ((r = vms_log_iter_create(s, &it)))
		return r;
	while ((r = vms_log_iter_next(it, &rec)) == 1) {
		if (rec.seq + 1 > next)
			next = rec.seq + 1;
		if (!fl->log_primed || rec.seq < fl->log_next)
			continue;
		size_t n = VMS_MIN(rec.text_len, sizeof(text) - 1);
		memcpy(text, rec.text, n);
		text[n] = 0;
		stamp(fl->when, sizeof(fl->when));
		if (fl->o->json) {
			struct out_val v[] = {
				{ .s = "dmesg" }, { .s = fl->when },
				{ .u = rec.seq }, { .u = rec.ts_nsec },
				{ .i = rec.level }, { .s = text },
			};
			struct out *out = out_new(fl->f, true, cols,
						  VMS_ARRAY_LEN(cols));
			out_row(out, v);
			out_finish(out);
		} else {
			clean(text);
			fprintf(fl->f, "%-27s %-6s %7s %7s %-16s [%5llu.%06llu] %s\n",
				fl->when, "dmesg", "-", "-", "-",
				(unsigned long long)(rec.ts_nsec / 1000000000u),
				(unsigned long long)(rec.ts_nsec % 1000000000u /
						     1000), text);
		}
	}
	vms_log_iter_destroy(it);
	fl->log_next = next;
	fl->log_primed = true;
	fflush(fl->f);
	return r < 0 ? r : 0;
}

/* Forget the findings reported: they are new again. */
static void forget_findings(struct follow *fl)
{
	for (size_t i = 0; i < fl->nseen; i++)
		free(fl->seen[i]);
	fl->nseen = 0;
	fl->seen_full = false;
}

static int on_watch_finding(const struct vms_finding *f, void *arg)
{
	static const struct out_col cols[] = {
		{ "event", NULL, OUT_STR, 0 }, { "time", NULL, OUT_STR, 0 },
		{ "severity", NULL, OUT_STR, 0 }, { "check", NULL, OUT_STR, 0 },
		{ "object", NULL, OUT_STR, 0 }, { "evidence", NULL, OUT_STR, 0 },
		{ "addr", NULL, OUT_HEX, 0 }, { "target", NULL, OUT_HEX, 0 },
		{ "owner", NULL, OUT_STR, 0 },
	};
	struct follow *fl = arg;
	size_t n = strlen(f->check) + strlen(f->object) +
		   strlen(f->evidence) + 3;
	char *key = malloc(n);

	if (!key)
		return -ENOMEM;
	snprintf(key, n, "%s\x1f%s\x1f%s", f->check, f->object, f->evidence);
	for (size_t i = 0; i < fl->nseen; i++)
		if (!strcmp(fl->seen[i], key)) {
			free(key);
			return 0;
		}
	if (fl->nseen == MAX_SEEN) {
		if (!fl->seen_full)
			fprintf(stderr, "%s: more than %d distinct findings: "
				"new ones are no longer told from old ones\n",
				prog, MAX_SEEN);
		fl->seen_full = true;
		free(key);
	} else {
		if (!(fl->nseen % 256)) {
			char **g = realloc(fl->seen, (fl->nseen + 256) *
						      sizeof(*g));
			if (!g) {
				free(key);
				return -ENOMEM;
			}
			fl->seen = g;
		}
		fl->seen[fl->nseen++] = key;
	}
	stamp(fl->when, sizeof(fl->when));
	if (fl->o->json) {
		struct out_val v[] = {
			{ .s = "finding" }, { .s = fl->when },
			{ .s = vms_severity_name(f->severity) },
			{ .s = f->check }, { .s = f->object },
			{ .s = f->evidence }, { .u = f->addr },
			{ .u = f->target }, { .s = f->owner },
		};
		struct out *out = out_new(fl->f, true, cols,
					  VMS_ARRAY_LEN(cols));
		out_row(out, v);
		out_finish(out);
	} else {
		char obj[256], ev[512];
		snprintf(obj, sizeof(obj), "%s", f->object);
		snprintf(ev, sizeof(ev), "%s", f->evidence);
		clean(obj);
		clean(ev);
		fprintf(fl->f, "%-27s %-6s %7s %7s %-16s %s %s: %s: %s\n",
			fl->when, "check", "-", "-", "-",
			vms_severity_name(f->severity), f->check, obj, ev);
	}
	return 0;
}

/* Every check (yara only with rules), findings not seen before. A check
 * that fails on a guest that changes under it is a warning. */
static void follow_checks(struct follow *fl, struct vms_session *s)
{
	vms_session_refresh(s);
	for (size_t i = 0; i < vms_check_count(); i++) {
		struct vms_check_desc d = { .sz = sizeof(d) };
		int err;

		if (vms_check_get(i, &d) || (!strcmp(d.name, "yara") &&
					     !fl->o->yara) ||
		    (fl->pol && !vms_policy_runs(fl->pol, d.name)))
			continue;
		/* The number of findings, or < 0. */
		if ((err = vms_check_run(s, d.name, on_watch_finding, fl)) < 0)
			fprintf(stderr, "%s: warning: check %s: %s\n", prog,
				d.name, vms_errmsg(s));
		vms_errclear(s);
	}
	fflush(fl->f);
}

static double elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int cmd_watch(struct opts *o, struct vms_session *s)
{
	struct vms_watch_opts wo = { .sz = sizeof(wo), .events = o->events,
				     .gdb = o->gdb, .comm = o->comm,
				     .max_rate = o->max_rate,
				     .pid = o->pid > 0 ? o->pid : 0 };
	struct sigaction sa = { .sa_handler = watch_stop_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct vms_watch *w = NULL;
	struct vms_yara *rules = NULL;
	struct vms_policy *pol = NULL;
	struct timespec t0;
	FILE *f = stdout;
	double next_log = 0, next_checks = 0;
	bool rebooting = false;	/* between a reset and its kernel event */
	bool off = false;	/* between a shutdown and a reset */
	bool gone = false;	/* QEMU quit */
	int err, ret = 0;

	if (o->out_dir && !(f = fopen(o->out_dir, "a"))) {
		fprintf(stderr, "%s: %s: %s\n", prog, o->out_dir,
			strerror(errno));
		return 1;
	}
	struct follow fl = { .o = o, .f = f };
	/* Policy and rules first: a bad one ends the watch before it
	 * begins. The dmesg start, too: only later lines are reported. */
	if (o->policy) {
		char msg[640];
		if (vms_policy_load(o->policy, &pol, msg, sizeof(msg))) {
			fprintf(stderr, "%s: bad policy: %s\n", prog, msg);
			ret = 2;
			goto out;
		}
		vms_session_set_policy(s, pol);
		fl.pol = pol;
	}
	if (o->yara) {
		char msg[640];
		if (vms_yara_load(o->yara, &rules, msg, sizeof(msg))) {
			fprintf(stderr, "%s: %s\n", prog, msg);
			ret = 2;
			goto out;
		}
		vms_session_set_yara(s, rules);
	}
	if (o->dmesg && (err = follow_dmesg(&fl, s))) {
		ret = fail(s, err);
		goto out;
	}
	/* Handlers before the first breakpoint: no SA_RESTART, so that a
	 * signal ends the wait at once. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < VMS_ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	if ((err = vms_watch_start(s, &wo, &w))) {
		ret = fail(s, err);
		goto out;
	}
	fprintf(stderr, "%s: watching %s; Ctrl-C ends the watch\n", prog,
		o->source);
	if (!o->json)
		fprintf(f, "%-27s %-6s %7s %7s %-16s %s\n", "TIME", "EVENT",
			"PID", "TID", "COMM", "DETAIL");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!watch_signal) {
		struct vms_event ev = { .sz = sizeof(ev) };
		double t = elapsed(&t0);
		int r;

		if (o->duration > 0 && t >= o->duration)
			break;
		/* The polled streams, between events; not while the guest
		 * reboots, when the session still models the old kernel. */
		if (o->dmesg && t >= next_log && !rebooting) {
			vms_session_refresh(s);
			if (follow_dmesg(&fl, s)) {
				fprintf(stderr, "%s: warning: kernel log: %s\n",
					prog, vms_errmsg(s));
				vms_errclear(s);
			}
			next_log = t + 1;
		}
		if (o->checks > 0 && t >= next_checks && !rebooting) {
			follow_checks(&fl, s);
			next_checks = t + o->checks;
		}
		r = vms_watch_next(w, 200, &ev);
		if (r == -EINTR || r == 0)
			continue;
		if (r == -ESRCH)
			gone = true;
		if (r == -ESRCH && off) {
			/* Powered off, and QEMU quit: the watch is over. */
			fprintf(stderr, "%s: the guest powered off and QEMU "
				"quit; the watch ends\n", prog);
			break;
		}
		if (r < 0) {
			ret = fail(s, r);
			break;
		}
		/* A power-off is a reboot that may never end: the streams
		 * pause until a reset and the next kernel, or QEMU's end. */
		off = ev.type == VMS_EVENT_SHUTDOWN ||
		      (off && ev.type != VMS_EVENT_RESET);
		if (ev.type == VMS_EVENT_RESET ||
		    ev.type == VMS_EVENT_SHUTDOWN)
			rebooting = true;
		if (ev.type == VMS_EVENT_KERNEL) {
			/* A new boot: its log from the start, and its findings
			 * reported afresh. */
			rebooting = false;
			fl.log_next = 0;
			forget_findings(&fl);
			next_log = next_checks = 0;
		}
		if ((err = watch_print(o, f, &ev))) {
			if (!watch_signal)
				fprintf(stderr, "%s: cannot write events: %s\n",
					prog, strerror(-err));
			ret = 1;
			break;
		}
	}
out:
	/* The handlers stay while the watch is stopped: a second Ctrl-C
	 * must not cut the cleanup short. */
	if (w && (err = vms_watch_stop(w)) && !ret)
		ret = fail(s, err);
	else if (w && !gone)
		fprintf(stderr, "%s: breakpoints removed; the guest runs "
			"on\n", prog);
	for (size_t i = 0; i < VMS_ARRAY_LEN(sigs); i++)
		signal(sigs[i], SIG_DFL);
	if (f != stdout)
		fclose(f);
	forget_findings(&fl);
	free(fl.seen);
	vms_session_set_yara(s, NULL);
	vms_yara_destroy(rules);
	vms_session_set_policy(s, NULL);
	vms_policy_destroy(pol);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(struct opts *, struct vms_session *);
} cmds[] = {
	{ "watch", cmd_watch },
	{ "info", cmd_info },
	{ "ps", cmd_ps },
	{ "pstree", cmd_pstree },
	{ "psaux", cmd_psaux },
	{ "threads", cmd_threads },
	{ "creds", cmd_creds },
	{ "lsmod", cmd_lsmod },
	{ "regs", cmd_regs },
	{ "snapshot", cmd_snapshot },
	{ "dmesg", cmd_dmesg },
	{ "mounts", cmd_mounts },
	{ "lsof", cmd_lsof },
	{ "maps", cmd_maps },
	{ "netstat", cmd_netstat },
	{ "dump", cmd_dump },
	{ "cat", cmd_cat },
	{ "symbols", cmd_symbols },
	{ "check", cmd_check },
	{ "baseline", cmd_baseline },
	{ "diff", cmd_diff },
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "env", no_argument, NULL, 'e' },
		{ "raw", no_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'l' },
		{ "only", required_argument, NULL, 'O' },
		{ "pause", no_argument, NULL, 'z' },
		{ "no-pause", no_argument, NULL, 'Z' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "policy", required_argument, NULL, 'P' },
		{ "yara", required_argument, NULL, 'Y' },
		{ "pid", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, 'E' },
		{ "gdb", required_argument, NULL, 'G' },
		{ "comm", required_argument, NULL, 'C' },
		{ "max-rate", required_argument, NULL, 'R' },
		{ "duration", required_argument, NULL, 'D' },
		{ "dmesg", no_argument, NULL, 'M' },
		{ "checks", required_argument, NULL, 'K' },
		{ "max-memory", required_argument, NULL, 'X' },
		{ "max-time", required_argument, NULL, 'T' },
		{ 0 },
	};
	struct opts o = { .pid = -1, .fail_on = -1 };
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
		case 'e':
			o.env = true;
			break;
		case 'r':
			o.raw = true;
			break;
		case 'l':
			o.list = true;
			break;
		case 'O':
			o.only = optarg;
			break;
		case 'z':
			o.pause = true;
			break;
		case 'Z':
			o.no_pause = true;
			break;
		case 'F': {
			enum vms_severity sev;
			if (vms_severity_parse(optarg, &sev)) {
				fprintf(stderr, "%s: --fail-on takes info, low, "
					"medium, high or critical\n", prog);
				return 2;
			}
			o.fail_on = (int)sev;
			break;
		}
		case 'P':
			o.policy = optarg;
			break;
		case 'Y':
			o.yara = optarg;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'E': {
			char *list = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (!strcmp(t, "exec"))
					o.events |= VMS_EVENT_EXEC;
				else if (!strcmp(t, "exit"))
					o.events |= VMS_EVENT_EXIT;
				else if (!strcmp(t, "module"))
					o.events |= VMS_EVENT_MODULE;
				else if (!strcmp(t, "syscall"))
					o.events |= VMS_EVENT_SYSCALL;
				else {
					fprintf(stderr, "%s: --events takes "
						"exec, exit, module and "
						"syscall\n",
						prog);
					free(list);
					return 2;
				}
			}
			free(list);
			break;
		}
		case 'G':
			o.gdb = optarg;
			break;
		case 'C':
			o.comm = optarg;
			break;
		case 'M':
			o.dmesg = true;
			break;
		case 'R':
		case 'K':
		case 'D': {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || !(v > 0) || v > 1e9) {
				fprintf(stderr, "%s: --%s takes a positive "
					"number\n", prog,
					c == 'R' ? "max-rate" : c == 'K'
					? "checks" : "duration");
				return 2;
			}
			if (c == 'R')
				o.max_rate = (uint32_t)v;
			else if (c == 'K')
				o.checks = v;
			else
				o.duration = v;
			break;
		}
		case 'X':
		case 'T': {
			/* MiB up to 16 TiB; seconds up to a year, or 0. */
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			bool mem = c == 'X';
			if (*end || !*optarg || optarg[0] == '-' ||
			    (mem ? v < 1 || v > (16ull << 20)
				 : v > 366ull * 86400)) {
				fprintf(stderr, "%s: --%s takes %s\n", prog,
					mem ? "max-memory" : "max-time",
					mem ? "a size in MiB, at least 1"
					    : "seconds (0: no cap)");
				return 2;
			}
			if (mem)
				o.max_memory = v << 20;
			else
				o.max_seconds = v ? (uint32_t)v : UINT32_MAX;
			break;
		}
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > INT32_MAX) {
				fprintf(stderr, "%s: --pid takes a process id\n",
					prog);
				return 2;
			}
			o.pid = (int32_t)v;
			break;
		}
		case 'h':
			for (ci = 0; cmd && ci < VMS_ARRAY_LEN(cmd_help); ci++) {
				if (strcmp(cmd_help[ci][0], cmd))
					continue;
				printf("usage: %s %s [--json] [-v]%s <dump>\n\n%s\n",
				       prog, cmd,
				       !strcmp(cmd, "cat")
					       ? " [--out FILE] PATH"
				       : !strcmp(cmd, "snapshot")
					       ? " [--no-pause] --out FILE"
				       : !strcmp(cmd, "diff") ? " BASELINE"
				       : !strcmp(cmd, "psaux") ? " [--env]"
				       : !strcmp(cmd, "dmesg") ? " [--raw]"
				       : !strcmp(cmd, "watch")
					       ? " [--events exec,exit,module,syscall] "
						 "[--pid N] [--comm NAME] "
						 "[--max-rate N] [--duration S] "
						 "[--dmesg] [--checks S] [--policy FILE] "
						 "[--yara FILE] "
						 "[--gdb ADDR] [--out FILE]"
				       : !strcmp(cmd, "check")
					       ? " [--list] [--only A,B] "
						 "[--fail-on SEVERITY] "
						 "[--policy FILE] [--yara FILE]"
				       : !strcmp(cmd, "threads") ||
						 !strcmp(cmd, "lsof") ||
						 !strcmp(cmd, "netstat")
					       ? " [--pid N]"
								 : "",
				       cmd_help[ci][1]);
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
	/* "maps PID DUMP", "dump PID DUMP": the pid may come first. */
	if ((!strcmp(cmd, "maps") || !strcmp(cmd, "dump")) &&
	    optind == argc - 2) {
		char *end;
		long v = strtol(argv[optind], &end, 10);
		if (*end || v < 0 || v > INT32_MAX) {
			fprintf(stderr, "%s maps: '%s' is not a pid\n", prog,
				argv[optind]);
			return 2;
		}
		o.pid = (int32_t)v;
		optind++;
	}
	if (!strcmp(cmd, "check") && o.list)
		return check_list(&o);
	/* "cat PATH DUMP", "diff BASELINE DUMP". */
	if ((!strcmp(cmd, "cat") || !strcmp(cmd, "diff")) &&
	    optind == argc - 2)
		o.path = argv[optind++];
	if (optind != argc - 1) {
		fprintf(stderr, "%s %s: expected one dump file\n", prog, cmd);
		return 2;
	}
	o.source = argv[optind];
	bar.on = isatty(STDERR_FILENO);
	ret = open_session(&o, &s);
	/* A snapshot of a running guest is paused unless told not to: a
	 * core copied as the guest runs mixes moments. */
	if (!ret && !strcmp(cmd, "snapshot") && !o.no_pause &&
	    !strcmp(vms_source_format(s), "qemu"))
		o.pause = true;
	/* Finding the kernel (kallsyms, BTF, the KASLR slide) reads data
	 * that does not change while the guest runs: done before the
	 * pause, it keeps the pause to the walk itself. regs and info
	 * report what they can without a kernel, so they load it later. */
	if (!ret && o.pause && strcmp(cmd, "snapshot") &&
	    strcmp(cmd, "regs") && strcmp(cmd, "info")) {
		int err = vms_kernel_load(s);
		if (err)
			ret = fail(s, err);
	}
	if (!ret && o.pause)
		ret = pause_guest(s);
	if (!ret)
		ret = cmds[ci].fn(&o, s);
	progress_clear();
	if (o.pause)
		ret = resume_guest(s, ret);
	uint32_t torn = vms_session_torn(s);
	if (torn)
		fprintf(stderr,
			"%s: %u object%s changed while %s read and %s left "
			"out (--pause reads one consistent state)\n",
			prog, torn, torn == 1 ? "" : "s",
			torn == 1 ? "it was" : "they were",
			torn == 1 ? "is" : "are");
	vms_session_destroy(s);
	return ret;
}
