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
 * A backend with share=off is refused: QEMU maps it privately, so the
 * guest's writes never reach the file and reading it would show stale
 * memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmp.h"
#include "source.h"

#define LAYER "access"
#define MAX_BACKENDS 64
#define MAX_MTREE (8u << 20)	/* bytes of "info mtree -f" */

struct backend {
	char id[128];
	uint64_t size;
	const uint8_t *map;
};

struct qemu_priv {
	struct vms_qmp *qmp;
	struct backend b[MAX_BACKENDS];
	size_t nb;
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
	free(p);
	src->priv = NULL;
}

/* query-status: is the guest running? */
static int running(struct vms_source *src, bool *ret)
{
	struct qemu_priv *p = src->priv;
	json_object *st = NULL, *r;
	int err = vms_qmp_cmd(p->qmp, "query-status", NULL, &st);

	if (err)
		return err;
	if (!json_object_object_get_ex(st, "running", &r) ||
	    !json_object_is_type(r, json_type_boolean))
		err = vms_err(src->ctx, -EBADMSG, LAYER,
			      "%s: QEMU's query-status has no running flag",
			      src->path);
	else
		*ret = json_object_get_boolean(r);
	json_object_put(st);
	return err;
}

/* A guest that was already stopped (by its owner) is left stopped: only
 * a guest vmsight stopped is let run again. */
static int qemu_pause(struct vms_source *src, bool *was_running)
{
	struct qemu_priv *p = src->priv;
	int err = running(src, was_running);

	if (err || !*was_running)
		return err;
	return vms_qmp_cmd(p->qmp, "stop", NULL, NULL);
}

static int qemu_resume(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;

	return vms_qmp_cmd(p->qmp, "cont", NULL, NULL);
}

static void qemu_resume_async(struct vms_source *src)
{
	struct qemu_priv *p = src->priv;

	vms_qmp_send_async(p->qmp, "{\"execute\":\"cont\"}\n");
}

static const struct vms_source_ops qemu_ops = {
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

/* Map backend @b: its file, which must be as large as the backend. */
static int map_backend(struct vms_source *src, struct backend *b)
{
	json_object *v = NULL;
	const char *file;
	struct stat st;
	int fd, err;

	if ((err = qom_get(src, b->id, "share", &v)))
		return err;
	if (!json_object_get_boolean(v)) {
		json_object_put(v);
		return vms_err(src->ctx, -ENOTSUP, LAYER,
			       "%s: memory backend %s has share=off: QEMU "
			       "keeps the guest's writes out of its file; "
			       "start it with share=on", src->path, b->id);
	}
	json_object_put(v);
	if ((err = qom_get(src, b->id, "size", &v)))
		return err;
	b->size = json_object_get_uint64(v);
	json_object_put(v);
	if ((err = qom_get(src, b->id, "mem-path", &v)))
		return err;
	file = json_object_get_string(v);
	fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		err = vms_err(src->ctx, errno == EACCES ? -EACCES : -EIO,
			      LAYER, "%s: memory backend %s: cannot open its "
			      "file %.200s: %s", src->path, b->id,
			      file ? file : "(none)", strerror(errno));
		json_object_put(v);
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !b->size ||
	    (uint64_t)st.st_size < b->size) {
		err = vms_err(src->ctx, -EBADMSG, LAYER,
			      "%s: memory backend %s: %.200s is not a file of "
			      "its %" PRIu64 " bytes", src->path, b->id, file,
			      b->size);
	} else {
		b->map = mmap(NULL, b->size, PROT_READ, MAP_SHARED, fd, 0);
		if (b->map == MAP_FAILED) {
			b->map = NULL;
			err = vms_err(src->ctx, -ENOMEM, LAYER,
				      "%s: memory backend %s: cannot map "
				      "%.200s: %s", src->path, b->id, file,
				      strerror(errno));
		}
	}
	close(fd);
	json_object_put(v);
	return err;
}

/* The memory-backend-file objects. */
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
		const char *name;
		if (!json_object_object_get_ex(o, "name", &n) ||
		    !json_object_object_get_ex(o, "type", &t) ||
		    strcmp(json_object_get_string(t),
			   "child<memory-backend-file>"))
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
		if ((err = map_backend(src, &p->b[p->nb++])))
			break;
	}
	json_object_put(list);
	if (!err && !p->nb)
		err = vms_err(src->ctx, -ENOTSUP, LAYER,
			      "%s: QEMU has no memory-backend-file: start it "
			      "with -object memory-backend-file,id=ram,size=..."
			      ",mem-path=FILE,share=on -machine "
			      "memory-backend=ram", src->path);
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
		uint64_t size = last - start + 1;
		if (strcmp(name, b->id))
			continue;
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
	json_object *a = json_object_new_object(), *text = NULL;
	const char *s, *line;
	bool mine = false;
	int err;

	if (!a)
		return -ENOMEM;
	json_object_object_add(a, "command-line",
			       json_object_new_string("info mtree -f"));
	err = vms_qmp_cmd(p->qmp, "human-monitor-command", a, &text);
	json_object_put(a);
	if (err)
		return err;
	s = json_object_get_string(text);
	if (!s || strlen(s) > MAX_MTREE) {
		json_object_put(text);
		return vms_err(src->ctx, -EBADMSG, LAYER,
			       "%s: no usable \"info mtree -f\" from QEMU",
			       src->path);
	}
	for (line = s; !err && *line;) {
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
	json_object_put(text);
	if (!err && !src->nsegs)
		err = vms_err(src->ctx, -EBADMSG, LAYER,
			      "%s: QEMU's memory map shows no RAM of its "
			      "memory backends", src->path);
	return err;
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
	    (err = vms_source_finish_segs(src))) {
		vms_source_close(src);
		return err;
	}
	*ret = src;
	return 0;
}
