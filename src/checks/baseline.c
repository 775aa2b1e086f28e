/* SPDX-License-Identifier: MIT */
/*
 * Baselines: the file format (JSON lines, doc/baseline.md) and the
 * comparison behind "vmsight diff". The measurements themselves are
 * taken in measure.c.
 *
 * A baseline file is the user's, but everything in it came from a
 * guest (banners, symbol and process names), so it is parsed with the
 * same care as guest data: bounded lines, bounded entries, every field
 * type-checked, errors as "FILE:LINE: why".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "checks.h"

#define FORMAT "vmsight-baseline"
#define MAX_LINE (1u << 20)
#define MAX_ENTRIES 10000000u

struct entry {
	const char *kind, *object, *sha, *detail; /* in one allocation */
	uint64_t addr, size;
};

struct vms_baseline {
	struct entry *v;
	size_t n, cap;
	bool sorted;
};

struct vms_baseline *vms_chk_baseline_new(void)
{
	return calloc(1, sizeof(struct vms_baseline));
}

void vms_baseline_destroy(struct vms_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free((char *)b->v[i].kind);
	free(b->v);
	free(b);
}

size_t vms_baseline_count(const struct vms_baseline *b)
{
	return b ? b->n : 0;
}

int vms_chk_baseline_add(const struct vms_measurement *m, void *arg)
{
	struct vms_baseline *b = arg;
	const char *s[4] = { m->kind, m->object, m->sha256, m->detail };
	size_t len[4], total = 0;
	struct entry *e;
	char *p;

	int r = vms_grow(NULL, &b->v, &b->cap, b->n, sizeof(*b->v), 4096,
			 MAX_ENTRIES);

	if (r)
		return r;
	for (int i = 0; i < 4; i++)
		total += (len[i] = strlen(s[i] ? s[i] : "")) + 1;
	if (!(p = malloc(total)))
		return -ENOMEM;
	e = &b->v[b->n++];
	*e = (struct entry){ .addr = m->addr, .size = m->size };
	for (int i = 0; i < 4; i++) {
		const char **dst[4] = { &e->kind, &e->object, &e->sha,
					&e->detail };
		memcpy(p, s[i] ? s[i] : "", len[i] + 1);
		*dst[i] = p;
		p += len[i] + 1;
	}
	b->sorted = false;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = strcmp(x->kind, y->kind);

	return r ? r : strcmp(x->object, y->object);
}

static void baseline_sort(struct vms_baseline *b)
{
	if (!b->sorted && b->n)
		vms_qsort(b->v, b->n, sizeof(*b->v), entry_cmp);
	b->sorted = true;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

int vms_chk_baseline_line(const struct vms_measurement *m, void *arg)
{
	FILE *f = arg;
	json_object *j = json_object_new_object();
	char hex[24];
	const char *line;
	int err = 0;

	if (!j)
		return -ENOMEM;
	snprintf(hex, sizeof(hex), "0x%" PRIx64, m->addr);
	/* The order of doc/baseline.md; json-c keeps insertion order. */
	if (json_object_object_add(j, "kind", json_object_new_string(m->kind)) ||
	    json_object_object_add(j, "object",
				   json_object_new_string(m->object)) ||
	    json_object_object_add(j, "addr", json_object_new_string(hex)) ||
	    json_object_object_add(j, "size", json_object_new_uint64(m->size)) ||
	    json_object_object_add(j, "sha256",
				   json_object_new_string(m->sha256)) ||
	    json_object_object_add(j, "detail",
				   json_object_new_string(m->detail)) ||
	    !(line = json_object_to_json_string_ext(
		      j, JSON_C_TO_STRING_PLAIN |
				 JSON_C_TO_STRING_NOSLASHESCAPE)))
		err = -ENOMEM;
	else if (fprintf(f, "%s\n", line) < 0)
		err = -EIO;
	json_object_put(j);
	return err;
}

int vms_chk_baseline_header(FILE *f, const char *source)
{
	struct vms_measurement m = { .sz = sizeof(m), .kind = "format",
				     .object = FORMAT, .size = 1,
				     .sha256 = "",
				     .detail = source ? source : "" };

	return vms_chk_baseline_line(&m, f);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* "0x" and 1 to 16 hex digits. */
static bool parse_hex(const char *s, uint64_t *ret)
{
	char *end;

	if (strncmp(s, "0x", 2) || !s[2] || strlen(s) > 18 || s[2] == '-' ||
	    s[2] == '+')
		return false;
	errno = 0;
	*ret = strtoull(s + 2, &end, 16);
	return !errno && !*end;
}

/* One line; "why" into @why on error. */
static int parse_line(struct vms_baseline *b, const char *line, size_t no,
		      char *why, size_t wlen)
{
	struct vms_measurement m = { .sz = sizeof(m) };
	json_object *o = json_tokener_parse(line), *size;
	const char *addr;
	int r = 0;

	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(why, wlen, "not a JSON object");
		r = -EINVAL;
		goto out;
	}
	m.kind = jstr(o, "kind");
	m.object = jstr(o, "object");
	m.sha256 = jstr(o, "sha256");
	m.detail = jstr(o, "detail");
	addr = jstr(o, "addr");
	if (!m.kind || !m.object || !m.sha256 || !m.detail || !addr ||
	    !json_object_object_get_ex(o, "size", &size) ||
	    !json_object_is_type(size, json_type_int)) {
		snprintf(why, wlen, "not a baseline entry (string kind, "
			 "object, addr, sha256, detail and integer size)");
		r = -EINVAL;
	} else if (!parse_hex(addr, &m.addr)) {
		snprintf(why, wlen, "addr \"%.40s\" is not 0x and hex digits",
			 addr);
		r = -EINVAL;
	} else if (no == 1) {
		if (strcmp(m.kind, "format") || strcmp(m.object, FORMAT)) {
			snprintf(why, wlen, "not a vmsight baseline (no %s "
				 "line)", FORMAT);
			r = -EINVAL;
		} else if (json_object_get_uint64(size) != 1) {
			snprintf(why, wlen, "baseline format version %" PRIu64
				 ", this vmsight reads version 1",
				 json_object_get_uint64(size));
			r = -EINVAL;
		}
	} else {
		m.size = json_object_get_uint64(size);
		if ((r = vms_chk_baseline_add(&m, b)))
			snprintf(why, wlen, "%s", r == -E2BIG
				 ? "more than 10000000 measurements"
				 : strerror(-r));
	}
out:
	json_object_put(o);
	return r;
}

static int parse_stream(FILE *f, const char *name, struct vms_baseline **ret,
			char *err, size_t errlen)
{
	struct vms_baseline *b = vms_chk_baseline_new();
	char *line = malloc(MAX_LINE + 1), why[160];
	size_t no = 0;
	int r = 0;

	if (!b || !line) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		goto out;
	}
	for (;;) {
		size_t len = 0;
		bool nul = false;
		int ch;
		/* Byte by byte, so a line's length and NUL bytes are known
		 * and a long line is refused before it is stored. */
		while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
			if (len == MAX_LINE) {
				snprintf(err, errlen, "%s:%zu: a line longer "
					 "than %u bytes", name, no + 1,
					 MAX_LINE);
				r = -EINVAL;
				goto out;
			}
			nul |= !ch;
			line[len++] = (char)ch;
		}
		if (ch == EOF && !len)
			break;
		line[len] = 0;
		no++;
		if (nul) {
			snprintf(err, errlen, "%s:%zu: a NUL byte in the line",
				 name, no);
			r = -EINVAL;
			goto out;
		}
		if ((r = parse_line(b, line, no, why, sizeof(why)))) {
			snprintf(err, errlen, "%s:%zu: %s", name, no, why);
			goto out;
		}
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "%s: %s", name, strerror(EIO));
	} else if (!no) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: empty, not a vmsight baseline",
			 name);
	}
out:
	free(line);
	if (r) {
		vms_baseline_destroy(b);
		return r;
	}
	baseline_sort(b);
	*ret = b;
	return 0;
}

int vms_baseline_parse(const char *text, size_t len, const char *name,
		       struct vms_baseline **ret, char *err, size_t errlen)
{
	FILE *f;
	int r;

	if (!ret || (!text && len))
		return -EINVAL;
	name = name ? name : "baseline";
	if (!len) {
		snprintf(err, errlen, "%s: empty, not a vmsight baseline",
			 name);
		return -EINVAL;
	}
	if (!(f = fmemopen((void *)text, len, "r"))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r;
	}
	r = parse_stream(f, name, ret, err, errlen);
	fclose(f);
	return r;
}

int vms_baseline_load(const char *path, struct vms_baseline **ret,
		      char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int r;

	if (!path || !ret)
		return -EINVAL;
	if (!(f = fopen(path, "re"))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	/* A pipe is fine ("diff <(ssh host cat base.json) DUMP"). */
	if (fstat(fileno(f), &st) || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: a directory, not a baseline", path);
		fclose(f);
		return -EISDIR;
	}
	r = parse_stream(f, path, ret, err, errlen);
	fclose(f);
	return r;
}

/* ------------------------------------------------------------------ */
/* Comparing                                                           */
/* ------------------------------------------------------------------ */

/* Kinds whose contents hold addresses relocated at boot: comparable
 * only when the kernel sits where it did (the same _text). Hooks are
 * named by symbols and module offsets, so they compare across boots. */
static bool relocated_kind(const char *kind)
{
	return !strcmp(kind, "text") || !strcmp(kind, "rodata") ||
	       !strcmp(kind, "syscall_table") || !strcmp(kind, "idt") ||
	       !strcmp(kind, "module");
}

/* Where the measured kernel's _text was (its "kernel _text" entry). */
static const char *kernel_text(const struct vms_baseline *b)
{
	for (size_t k = 0; k < b->n; k++)
		if (!strcmp(b->v[k].kind, "kernel") &&
		    !strcmp(b->v[k].object, "_text"))
			return b->v[k].detail;
	return NULL;
}

struct cmp {
	vms_change_fn fn;
	void *arg;
	int changes;
};

static int change(struct cmp *x, const char *what, const struct entry *e,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int change(struct cmp *x, const char *what, const struct entry *e,
		  const char *fmt, ...)
{
	char detail[512];
	struct vms_change c = { .sz = sizeof(c), .change = what,
				.kind = e->kind, .object = e->object,
				.detail = detail, .addr = e->addr };
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if ((r = x->fn(&c, x->arg)) < 0)
		return r;
	x->changes++;
	return 0;
}

/* Both entries have the same key. */
static int compare_one(struct cmp *x, const struct entry *b,
		       const struct entry *n, bool moved)
{
	if (!strcmp(n->kind, "kernel")) {
		bool text = !strcmp(n->object, "_text");
		if (!strcmp(b->detail, n->detail))
			return 0;
		return change(x, text ? "moved" : "changed", n,
			      "%.200s (was %.200s)%s", n->detail, b->detail,
			      text ? ": another boot or KASLR slide; "
				     "relocated code and tables are not "
				     "compared"
				   : "");
	}
	if (moved && relocated_kind(n->kind))
		return 0;
	if (!strcmp(n->kind, "module") && b->addr != n->addr)
		return change(x, "moved", n,
			      "loaded again at %#" PRIx64 " (was %#" PRIx64
			      "); its code is not compared",
			      n->addr, b->addr);
	if (strcmp(b->sha, n->sha))
		return change(x, "changed", n, "%s%ssha256 %.16s (was %.16s)",
			      n->detail, n->detail[0] ? ": " : "", n->sha,
			      b->sha);
	return 0;
}

int vms_chk_baseline_compare(struct vms_baseline *base,
			     struct vms_baseline *now, vms_change_fn fn,
			     void *arg)
{
	struct cmp x = { .fn = fn, .arg = arg };
	const char *was, *is;
	bool moved;
	size_t i = 0, j = 0;
	int r = 0;

	baseline_sort(base);
	baseline_sort(now);
	was = kernel_text(base);
	is = kernel_text(now);
	moved = was && is && strcmp(was, is);
	while (!r && (i < base->n || j < now->n)) {
		int c = i == base->n ? 1
			: j == now->n ? -1
				      : entry_cmp(&base->v[i], &now->v[j]);
		if (c < 0) {
			r = change(&x, "removed", &base->v[i], "%s",
				   base->v[i].detail);
			i++;
		} else if (c > 0) {
			r = change(&x, "added", &now->v[j], "%s",
				   now->v[j].detail);
			j++;
		} else {
			r = compare_one(&x, &base->v[i], &now->v[j], moved);
			i++;
			j++;
		}
	}
	return r < 0 ? r : x.changes;
}
