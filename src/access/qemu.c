/* SPDX-License-Identifier: MIT */
/*
 * A running QEMU guest whose RAM is a file: "qemu:QMP_SOCKET".
 *
 * QEMU started with -object memory-backend-file,id=ID,mem-path=FILE,
 * share=on (and -machine memory-backend=ID, or the backend behind a NUMA
 * node) keeps guest RAM in FILE, shared with the guest, so mapping FILE
 * read-only shows the guest's memory as it runs, with no copy. Over QMP
 * vmsight asks which memory-backend-file objects exist (qom-list
 * /objects), their files and sizes (qom-get mem-path, size, share), and
 * where the guest sees each byte of them: the flattened view of the
 * system address space ("info mtree -f", the FlatView that serves AS
 * "memory"), whose RAM lines read
 *
 *   0000000000100000-000000007fffffff (prio 0, ram): ram @0000000000100000
 *   0000000100000000-000000013fffffff (prio 0, ram): ram @0000000080000000
 *
 * guest-physical start-end (inclusive), then the region's name (the
 * backend's id) and its offset into the backend ("@", omitted when 0).
 * The second line is q35's RAM above 4 GiB: the layout always comes from
 * QEMU, never from an assumption about the machine type.
 *
 * Any other backend (memory-backend-ram, QEMU's default "pc.ram" when
 * it runs with a bare -m; a file backend with share=off, whose file
 * never sees the guest's writes; a file vmsight cannot open) is read
 * from QEMU's own memory instead. The QMP socket's peer is QEMU
 * (SO_PEERCRED gives its pid); "gpa2hva ADDR" names the host virtual
 * address of each RAM range in QEMU, /proc/PID/maps must show it
 * readable, and process_vm_readv(2) reads it on every access, uncached,
 * as the guest runs. That needs ptrace rights over QEMU: the same user
 * (with kernel.yama.ptrace_scope 0) or CAP_SYS_PTRACE.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "qmp.h"
#include "source.h"

#define LAYER "access"
#define MAX_BACKENDS 64
#define MAX_MTREE (8u << 20)	/* bytes of "info mtree -f" */
#define MAX_MAPS (64u << 20)	/* bytes of /proc/PID/maps */

struct backend {
	char id[128];
	uint64_t size;		/* mapped bytes */
	const uint8_t *map;	/* the file, or NULL: read QEMU's memory */
};

struct qemu_priv {
	struct vms_qmp *qmp;
	struct backend b[MAX_BACKENDS];
	size_t nb;
	int pid;		/* QEMU's, once a backend needs it */
	char *maps;		/* /proc/PID/maps, read once */
	/* vmsight sent "stop" and no "cont" since: what resume_async,
	 * called from a signal handler, may undo. */
	volatile sig_atomic_t stopped;
};

static void qemu_close(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;

	if (!p)
		return;
	for (size_t i = 0; i < p->nb; i++)
		if (p->b[i].map)
			munmap((void *)p->b[i].map, p->b[i].size);
	vms_qmp_close(p->qmp);
	free(p->maps);
	free(p);
	src->priv = NULL;
}

/* QEMU's memory at @raddr, with one process_vm_readv(2). */
static int qemu_read_remote(struct vms_source *src, uint64_t raddr,
			    void *buf, size_t len)
{
	struct qemu_priv *p = src->priv;
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)raddr, len };
	ssize_t n = process_vm_readv(p->pid, &l, 1, &r, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	if (errno == ESRCH)
		return vms_err(src->ctx, -ESRCH, LAYER,
			       "%s: QEMU (pid %d) has exited", src->path,
			       p->pid);
	return vms_err(src->ctx, errno == EPERM ? -EPERM : -EIO, LAYER,
		       "%s: cannot read QEMU's memory (pid %d): %s%s",
		       src->path, p->pid, strerror(errno),
		       errno != EPERM ? ""
		       : "; vmsight needs ptrace rights over QEMU (its user "
			 "with kernel.yama.ptrace_scope=0, or "
			 "CAP_SYS_PTRACE), or a memory-backend-file with "
			 "share=on");
}

/* query-status: the run state ("running", "paused", "debug", ...) into
 * @buf, and whether the guest runs. */
static int query_status(struct vms_source *src, char *buf, size_t len,
			bool *ret)
{
	struct qemu_priv *p = src->priv;
	json_object *st = NULL, *r, *name;
	int err = vms_qmp_cmd(p->qmp, "query-status", NULL, &st);

	if (err)
		return err;
	if (!json_object_object_get_ex(st, "running", &r) ||
	    !json_object_is_type(r, json_type_boolean) ||
	    !json_object_object_get_ex(st, "status", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		err = vms_err(src->ctx, -EBADMSG, LAYER,
			      "%s: QEMU's query-status lacks its running flag "
			      "or its status", src->path);
	} else {
		*ret = json_object_get_boolean(r);
		snprintf(buf, len, "%s", json_object_get_string(name));
	}
	json_object_put(st);
	return err;
}

static int running(struct vms_source *src, bool *ret)
{
	char state[64];

	return query_status(src, state, sizeof(state), ret);
}

/* A guest that was already stopped (by its owner) is left stopped: only
 * a guest vmsight stopped is let run again. */
static int qemu_pause(struct vms_source *src, bool *was_running)
{
	struct qemu_priv *p = src->priv;
	int err = running(src, was_running);

	if (err || !*was_running)
		return err;
	p->stopped = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return vms_qmp_cmd(p->qmp, "stop", NULL, NULL);
}

static int qemu_resume(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;
	int err = vms_qmp_cmd(p->qmp, "cont", NULL, NULL);

	if (!err)
		p->stopped = 0;
	return err;
}

static void qemu_resume_async(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;

	if (p->stopped)
		vms_qmp_send_async(p->qmp, "{\"execute\":\"cont\","
				   "\"id\":\"vmsight-cont\"}\n",
				   "vmsight-cont");
}

/*
 * "info registers -a": per CPU a block that starts "CPU#N" and holds
 * NAME=HEX fields (target/i386/cpu-dump.c). In long mode:
 *
 *   RAX=... RBX=... RCX=... RDX=...     (R8 = ... pad names to 3)
 *   RIP=ffffffff81e4b4bf RFL=00000246 [---Z-P-] CPL=0 ...
 *   CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]
 *   GS =0000 ffff88807dc00000 ffffffff 00c00000
 *   CR0=80050033 CR2=... CR3=000000000260a000 CR4=00350ef0
 *   EFER=0000000000000d01
 *
 * Outside long mode the names start with E (EAX, EIP, EFL) and the
 * bases are 32 bits. KernelGSbase is not shown.
 */
/* Where field NAME's value starts ("NAME=" at a line or word start). */
static const char *field(const char *blk, const char *name)
{
	size_t n = strlen(name);

	for (const char *at = blk; (at = strstr(at, name)); at += n)
		if ((at == blk || at[-1] == ' ' || at[-1] == '\n') &&
		    at[n] == '=')
			return at + n + 1;
	return NULL;
}

static bool hex_field(const char *blk, const char *name, uint64_t *ret)
{
	const char *at = field(blk, name);
	char *end;

	if (!at || !isxdigit((unsigned char)*at))
		return false;
	*ret = strtoull(at, &end, 16);
	return true;
}

/* A register by its 64-bit name or its 32-bit one ("RAX", "EAX"). */
static bool reg_field(const char *blk, const char *name, uint64_t *ret)
{
	char e[8];

	if (hex_field(blk, name, ret))
		return true;
	snprintf(e, sizeof(e), "E%s", name + 1);
	return hex_field(blk, e, ret);
}

/* Segment line NAME ("CS =0010 BASE LIMIT FLAGS"): selector and base. */
static bool seg_field(const char *blk, const char *name, uint16_t *sel,
		      uint64_t *base)
{
	const char *at = field(blk, name);
	char *end;
	uint64_t v;

	if (!at || !isxdigit((unsigned char)*at))
		return false;
	v = strtoull(at, &end, 16);
	if (v > 0xffff || *end != ' ' || !isxdigit((unsigned char)end[1]))
		return false;
	*sel = (uint16_t)v;
	*base = strtoull(end + 1, NULL, 16);
	return true;
}

int vms_qemu_parse_registers(const char *text, struct vms_cpu *cpus,
			     unsigned int max, unsigned int *n)
{
	static const char *const gpr[VMS_NGPR] = {
		"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP",
		"R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15" };
	const char *at = strstr(text, "CPU#");
	int err = 0;

	*n = 0;
	while (at && !err) {
		const char *next = strstr(at + 4, "CPU#");
		size_t len = next ? (size_t)(next - at) : strlen(at);
		char *blk = strndup(at, len);
		struct vms_cpu c = { 0 };
		uint64_t v;

		if (!blk)
			return -ENOMEM;
		c.index = (uint32_t)strtoul(blk + 4, NULL, 10);
		/* The 32-bit form has no R8-R15: they stay 0. */
		for (int r = 0; r < VMS_NGPR; r++)
			reg_field(blk, gpr[r], &c.gpr[r]);
		reg_field(blk, "RFL", &c.rflags);
		hex_field(blk, "CR0", &c.cr0);
		hex_field(blk, "CR2", &c.cr2);
		hex_field(blk, "CR4", &c.cr4);
		c.has_efer = hex_field(blk, "EFER", &c.efer);
		seg_field(blk, "SS ", &c.ss, &v);
		seg_field(blk, "FS ", &(uint16_t){ 0 }, &c.fs_base);
		seg_field(blk, "GS ", &(uint16_t){ 0 }, &c.gs_base);
		if (!reg_field(blk, "RIP", &c.rip) ||
		    !hex_field(blk, "CR3", &c.cr3) ||
		    !seg_field(blk, "CS ", &c.cs, &v))
			err = -EBADMSG;
		else if (*n < max)
			cpus[(*n)++] = c;
		free(blk);
		at = next;
	}
	return err ? err : *n ? 0 : -EBADMSG;
}

/* The vCPUs' registers now (QEMU synchronises them from KVM first). */
static int qemu_read_cpus(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;
	char *text = NULL;
	unsigned int n;
	int err = vms_qmp_hmp(p->qmp, "info registers -a", 16u << 20, &text);

	if (err)
		return err;
	err = vms_qemu_parse_registers(text, src->cpus, VMS_MAX_CPUS, &n);
	free(text);
	if (err)
		return vms_err(src->ctx, err, LAYER, "%s: QEMU's \"info "
			       "registers -a\" lacks RIP, CR3 or CS of a CPU",
			       src->path);
	src->ncpus = n;
	return 0;
}

static int qemu_run_state(struct vms_source *src, char *buf, size_t len)
{
	bool run;

	return query_status(src, buf, len, &run);
}

static int qemu_hmp(struct vms_source *src, const char *cmdline, size_t max,
		    char **ret)
{
	struct qemu_priv *p = src->priv;

	return vms_qmp_hmp(p->qmp, cmdline, max, ret);
}

static int qemu_lifecycle(struct vms_source *src, struct vms_lifecycle *ret)
{
	struct qemu_priv *p = src->priv;

	return vms_qmp_lifecycle(p->qmp, ret);
}

static const struct vms_source_ops qemu_ops = {
	.lifecycle = qemu_lifecycle,
	.run_state = qemu_run_state,
	.hmp = qemu_hmp,
	.read_cpus = qemu_read_cpus,
	.read_remote = qemu_read_remote,
	.close = qemu_close,
	.pause = qemu_pause,
	.resume = qemu_resume,
	.resume_async = qemu_resume_async,
};

/* qom-get PATH PROPERTY. */
static int qom_get(struct vms_source *src, const char *id, const char *prop,
		   json_object **ret)
{
	struct qemu_priv *p = src->priv;
	json_object *a = json_object_new_object();
	char path[160];
	int err;

	if (!a)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/objects/%s", id);
	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "property", json_object_new_string(prop));
	err = vms_qmp_cmd(p->qmp, "qom-get", a, ret);
	json_object_put(a);
	return err;
}

/* Backend @b stays unmapped: vmsight reads QEMU's memory. Says why. */
static int unmapped(struct vms_source *src, struct backend *b,
		    const char *file, const char *why)
{
	b->map = NULL;
	vms_log(src->ctx, VMS_LOG_INFO, "%s: memory backend %s%s%.200s: %s; "
		"vmsight reads QEMU's memory instead", src->path, b->id,
		file ? ", file " : "", file ? file : "", why);
	return 0;
}

/* Map file backend @b, whose file must be as large as the backend. A
 * backend that cannot be mapped is left unmapped (read from QEMU's
 * memory) with the reason logged; only QMP failures are errors. */
static int map_backend(struct vms_source *src, struct backend *b)
{
	json_object *v = NULL;
	const char *file, *why = NULL;
	struct stat st;
	uint64_t size;
	bool shared;
	int fd, err;

	if ((err = qom_get(src, b->id, "share", &v)))
		return err;
	shared = json_object_get_boolean(v);
	json_object_put(v);
	if (!shared)
		return unmapped(src, b, NULL, "it has share=off, so its file "
				"misses the guest's writes");
	if ((err = qom_get(src, b->id, "size", &v)))
		return err;
	size = json_object_get_uint64(v);
	json_object_put(v);
	if ((err = qom_get(src, b->id, "mem-path", &v)))
		return err;
	file = json_object_get_string(v);
	fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		why = "vmsight cannot open its file";
	else if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !size ||
		 (uint64_t)st.st_size < size)
		why = "its file is not a regular file of its size";
	else if ((b->map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0)) ==
		 MAP_FAILED)
		why = "vmsight cannot map its file";
	else
		b->size = size;
	if (fd >= 0)
		close(fd);
	if (why)
		unmapped(src, b, file, why);
	json_object_put(v);
	return 0;
}

/* The memory backends: QEMU's RAM. File backends are mapped. */
static int find_backends(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;
	json_object *a = json_object_new_object(), *list = NULL;
	int err;

	if (!a)
		return -ENOMEM;
	json_object_object_add(a, "path", json_object_new_string("/objects"));
	err = vms_qmp_cmd(p->qmp, "qom-list", a, &list);
	json_object_put(a);
	if (err)
		return err;
	for (size_t i = 0; json_object_is_type(list, json_type_array) &&
			   i < json_object_array_length(list);
	     i++) {
		json_object *o = json_object_array_get_idx(list, i), *n, *t;
		const char *name, *type;
		if (!json_object_object_get_ex(o, "name", &n) ||
		    !json_object_object_get_ex(o, "type", &t) ||
		    !(type = json_object_get_string(t)) ||
		    strncmp(type, "child<memory-backend-", 21))
			continue;
		name = json_object_get_string(n);
		if (p->nb == MAX_BACKENDS) {
			err = vms_err(src->ctx, -E2BIG, LAYER,
				      "%s: more than %d memory backends",
				      src->path, MAX_BACKENDS);
			break;
		}
		if (!name || strlen(name) >= sizeof(p->b[0].id))
			continue;
		strcpy(p->b[p->nb].id, name);
		if (!strcmp(type, "child<memory-backend-file>") &&
		    (err = map_backend(src, &p->b[p->nb])))
			break;
		p->nb++;
	}
	json_object_put(list);
	if (!err && !p->nb)
		err = vms_err(src->ctx, -ENOTSUP, LAYER,
			      "%s: QEMU shows no memory backend in /objects "
			      "(QEMU 5.0 or later has one for its RAM)",
			      src->path);
	return err;
}

/* The lines of /proc/PID/maps, read once. */
static int qemu_maps(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;
	char path[64];
	size_t len = 0, cap = 0;
	int fd, err = 0;

	if (p->maps)
		return 0;
	if ((err = vms_qmp_peer_pid(p->qmp, &p->pid)))
		return err;
	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return vms_err(src->ctx, errno == EACCES ? -EPERM : -ESRCH,
			       LAYER, "%s: cannot read %s of QEMU: %s",
			       src->path, path, strerror(errno));
	for (;;) {
		ssize_t n;
		if (cap - len < 65536 &&
		    (err = vms_grow(NULL, &p->maps, &cap, len + 65536, 1,
				    131072, MAX_MAPS + 65536)))
			break;
		n = read(fd, p->maps + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = vms_err(src->ctx, errno == EACCES ? -EPERM : -EIO,
				      LAYER, "%s: cannot read %s of QEMU: %s",
				      src->path, path, strerror(errno));
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err == -E2BIG)
		err = vms_err(src->ctx, -E2BIG, LAYER, "%s: %s is longer than "
			      "%u bytes", src->path, path, MAX_MAPS);
	if (!err)
		p->maps[len] = 0;
	return err;
}

/* Whether QEMU's [@va, @va + @size) is all readable memory: mappings
 * in /proc/PID/maps (sorted, so a run of adjacent ones) with "r". */
static bool qemu_readable(struct vms_source *src, uint64_t va, uint64_t size)
{
	struct qemu_priv *p = src->priv;
	uint64_t want = va, end = va + size;

	for (const char *l = p->maps; *l && want < end;) {
		uint64_t lo, hi;
		char perm[8];
		if (sscanf(l, "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi,
			   perm) == 3 &&
		    lo <= want && want < hi) {
			if (perm[0] != 'r')
				return false;
			want = hi;
		}
		l = strchr(l, '\n');
		if (!l)
			break;
		l++;
	}
	return want >= end;
}

/* QEMU's virtual address of guest-physical @start, region @name, from
 * "gpa2hva": "Host virtual address for 0x100000 (pc.ram) is 0x7f...". */
static int qemu_hva(struct vms_source *src, uint64_t start, uint64_t size,
		    const char *name, uint64_t *ret)
{
	struct qemu_priv *p = src->priv;
	char cmd[48], *text = NULL, region[160];
	uint64_t gpa, hva;
	int err;

	if ((err = qemu_maps(src)))
		return err;
	snprintf(cmd, sizeof(cmd), "gpa2hva %#" PRIx64, start);
	if ((err = vms_qmp_hmp(p->qmp, cmd, 4096, &text)))
		return err;
	if (sscanf(text, "Host virtual address for %" SCNx64 " (%159[^)]) "
		   "is %" SCNx64, &gpa, region, &hva) != 3 ||
	    gpa != start || strcmp(region, name))
		err = vms_err_at(src->ctx, -EBADMSG, LAYER, start,
				 "%s: QEMU's gpa2hva %#" PRIx64 " said "
				 "\"%.100s\", not a host address of %s",
				 src->path, start, strtok(text, "\r\n"), name);
	else if (hva + size < hva || !qemu_readable(src, hva, size))
		err = vms_err_at(src->ctx, -EFAULT, LAYER, start,
				 "%s: QEMU (pid %d) holds guest-physical "
				 "%#" PRIx64 "-%#" PRIx64 " at %#" PRIx64
				 ", which its /proc/PID/maps does not show "
				 "readable", src->path, p->pid, start,
				 start + size - 1, hva);
	else
		*ret = hva;
	free(text);
	return err;
}

/* One line of a FlatView: a segment if it is RAM of a backend. */
static int mtree_line(struct vms_source *src, const char *line)
{
	struct qemu_priv *p = src->priv;
	uint64_t start, last, off = 0;
	char kind[16], name[160];
	const char *at, *rest;
	int prio;
	size_t n;

	if (sscanf(line, " %" SCNx64 "-%" SCNx64 " (prio %d, %15[^)])",
		   &start, &last, &prio, kind) != 4 ||
	    (strcmp(kind, "ram") && strcmp(kind, "rom")) ||
	    !(rest = strstr(line, "): ")))
		return 0;
	rest += 3;
	n = strcspn(rest, "\r\n"); /* the monitor ends lines with CR LF */
	if ((at = strstr(rest, " @")) && at < rest + n) {
		if (sscanf(at, " @%" SCNx64, &off) != 1)
			return 0;
		n = (size_t)(at - rest);
	}
	if (n >= sizeof(name) || last < start)
		return 0;
	memcpy(name, rest, n);
	name[n] = 0;
	for (size_t i = 0; i < p->nb; i++) {
		const struct backend *b = &p->b[i];
		uint64_t size = last - start + 1, hva = 0;
		int err;
		if (strcmp(name, b->id))
			continue;
		if (!b->map) {
			if (!size || (err = qemu_hva(src, start, size, name,
						     &hva)))
				return size ? err : 0;
			vms_log(src->ctx, VMS_LOG_INFO, "%s: %#" PRIx64 "-%#"
				PRIx64 " (memory backend %s): reading QEMU's "
				"memory (pid %d) at %#" PRIx64, src->path,
				start, last, name, p->pid, hva);
			return vms_source_add_remote(src, start, size, hva);
		}
		if (!size || off > b->size || size > b->size - off)
			return vms_err_at(src->ctx, -EBADMSG, LAYER, start,
					  "%s: QEMU maps %#" PRIx64 "-%#" PRIx64
					  " to offset %#" PRIx64 " of memory "
					  "backend %s, which has %#" PRIx64
					  " bytes",
					  src->path, start, last, off, b->id,
					  b->size);
		return vms_source_add_seg(src, start, size, VMS_SEG_MAPPED,
					  b->map + off);
	}
	return 0;
}

/* The RAM lines of the FlatView that serves AS "memory". */
static int layout(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;
	char *text = NULL;
	const char *line;
	bool mine = false;
	int err = vms_qmp_hmp(p->qmp, "info mtree -f", MAX_MTREE, &text);

	if (err)
		return err;
	for (line = text; !err && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		if (!strncmp(line, "FlatView #", 10))
			mine = false;
		else if (!strncmp(line, " AS \"memory\",", 13))
			mine = true;
		else if (mine)
			err = mtree_line(src, line);
		line += n + !!end;
	}
	free(text);
	if (!err && !src->nsegs)
		err = vms_err(src->ctx, -EBADMSG, LAYER,
			      "%s: QEMU's memory map shows no RAM of its "
			      "memory backends", src->path);
	return err;
}

/* A remote segment that cannot be read now (no ptrace rights) fails the
 * open with the reason, not the first view with a missing address. */
static int probe_remote(struct vms_source *src)
{
	for (size_t i = 0; i < src->nsegs; i++) {
		const struct vms_seg *s = &src->segs[i];
		uint8_t b;
		int err;
		if (s->kind != VMS_SEG_REMOTE)
			continue;
		if ((err = qemu_read_remote(src, s->raddr, &b, 1)))
			return err != -EFAULT ? err
					      : vms_err_at(src->ctx, -EFAULT,
							   LAYER, s->start,
							   "%s: cannot read "
							   "guest-physical "
							   "%#" PRIx64 " in "
							   "QEMU's memory",
							   src->path,
							   s->start);
		break;
	}
	return 0;
}

int vms_qemu_open(struct vms_ctx *ctx, const char *qmp_path,
		  struct vms_source **ret)
{
	struct vms_source *src = calloc(1, sizeof(*src));
	struct qemu_priv *p = calloc(1, sizeof(*p));
	int err;

	*ret = NULL;
	if (!src || !p) {
		free(src);
		free(p);
		return -ENOMEM;
	}
	src->ctx = ctx;
	src->path = qmp_path;
	src->fd = -1;
	src->format = "qemu";
	src->ops = &qemu_ops;
	src->priv = p;
	if ((err = vms_qmp_open(ctx, qmp_path, &p->qmp)) ||
	    (err = find_backends(src)) || (err = layout(src)) ||
	    (err = vms_source_finish_segs(src)) ||
	    (err = probe_remote(src))) {
		vms_source_close(src);
		return err;
	}
	/* The registers help the locator (CR4.LA57) but are not needed. */
	if (qemu_read_cpus(src)) {
		vms_log(ctx, VMS_LOG_WARN, "%s", ctx->err.msg);
		vms_err_clear(ctx);
		src->ncpus = 0;
	}
	*ret = src;
	return 0;
}
