/* SPDX-License-Identifier: MIT */
/*
 * Policy files: which checks run, at what severity, and what is expected
 * on the guest (allowlists). The format is line-based, one directive per
 * line, '#' to the end of the line is a comment; doc/policy.md describes
 * it. The parser is strict: an unknown directive, an unknown check name,
 * a wrong argument count or a bad severity rejects the whole file with
 * "FILE:LINE: message", because a policy that silently means less than
 * its author wrote is worse than none.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"

#define POLICY_MAX_BYTES (1u << 20)
#define POLICY_MAX_LINE 4096
#define POLICY_MAX_ARGS 64
#define POLICY_MAX_RULES 100000

struct vms_pol_rule {
	enum vms_pol_kind kind;
	char *arg[3];		/* kind-specific, see the table below */
	enum vms_severity sev;	/* VMS_POL_SEVERITY */
};

struct vms_policy {
	struct vms_pol_rule *r;
	size_t n;
	bool has_run;		/* a "run" directive: only those checks run */
	int fail_on;		/* enum vms_severity, or -1 */
	char *yara;		/* rules file, resolved; or NULL */
};

struct parser {
	struct vms_policy *p;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct parser *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line,
			 msg);
	return -EINVAL;
}

static bool is_check(const char *name)
{
	for (size_t i = 0; i < vms_checks_count; i++)
		if (!strcmp(vms_checks[i].name, name))
			return true;
	return false;
}

static int add(struct parser *ps, enum vms_pol_kind kind, char **args,
	       size_t nargs, enum vms_severity sev)
{
	struct vms_policy *p = ps->p;
	struct vms_pol_rule *r;

	if (p->n >= POLICY_MAX_RULES)
		return perr(ps, "more than %u rules", POLICY_MAX_RULES);
	r = realloc(p->r, (p->n + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->r = r;
	r = &p->r[p->n];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->sev = sev;
	p->n++;
	for (size_t i = 0; i < nargs && i < 3; i++)
		if (!(r->arg[i] = strdup(args[i])))
			return -ENOMEM;
	return 0;
}

static int check_names(struct parser *ps, char **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_check(args[i]))
			return perr(ps, "no check called '%s'", args[i]);
	return 0;
}

/* The rule of @kind that names check @check, or NULL. */
static const struct vms_pol_rule *rule_for(const struct vms_policy *p,
					   enum vms_pol_kind kind,
					   const char *check)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->r[i].kind == kind && !strcmp(p->r[i].arg[0], check))
			return &p->r[i];
	return NULL;
}

static bool names(const struct vms_policy *p, enum vms_pol_kind kind,
		  const char *check)
{
	return rule_for(p, kind, check) != NULL;
}

static const struct {
	const char *word;
	enum vms_pol_kind kind;
	bool each;		/* one rule per word, or one for all words */
	const char *usage;
} allows[] = {
	{ "module", VMS_POL_MODULE, true, "allow module NAME..." },
	{ "process", VMS_POL_PROCESS, true, "allow process NAME..." },
	{ "listener", VMS_POL_LISTENER, false,
	  "allow listener PROTO ADDRESS:PORT [PROCESS]" },
	{ "raw", VMS_POL_RAW, true, "allow raw PROCESS..." },
	{ "packet", VMS_POL_PACKET, true, "allow packet PROCESS..." },
	{ "promisc", VMS_POL_PROMISC, true, "allow promisc INTERFACE..." },
};

static int directive(struct parser *ps, char **a, size_t n)
{
	const char *d = a[0];
	enum vms_severity sev;
	int err;

	if (!strcmp(d, "run") || !strcmp(d, "skip")) {
		enum vms_pol_kind kind = d[0] == 'r' ? VMS_POL_RUN
						     : VMS_POL_SKIP;
		if (n < 2)
			return perr(ps, "%s needs at least one check name", d);
		if ((err = check_names(ps, a + 1, n - 1)))
			return err;
		for (size_t i = 1; i < n; i++) {
			if (names(ps->p, kind == VMS_POL_RUN ? VMS_POL_SKIP
							     : VMS_POL_RUN,
				  a[i]))
				return perr(ps, "check '%s' is both run and "
					    "skipped", a[i]);
			if ((err = add(ps, kind, a + i, 1, 0)))
				return err;
		}
		if (kind == VMS_POL_RUN)
			ps->p->has_run = true;
		return 0;
	}
	if (!strcmp(d, "severity")) {
		if (n != 3)
			return perr(ps, "usage: severity CHECK SEVERITY");
		if ((err = check_names(ps, a + 1, 1)))
			return err;
		if (vms_severity_parse(a[2], &sev))
			return perr(ps, "unknown severity '%s' (info, low, "
				    "medium, high, critical)", a[2]);
		if (names(ps->p, VMS_POL_SEVERITY, a[1]))
			return perr(ps, "a second severity for '%s'", a[1]);
		return add(ps, VMS_POL_SEVERITY, a + 1, 1, sev);
	}
	if (!strcmp(d, "fail-on")) {
		if (n != 2)
			return perr(ps, "usage: fail-on SEVERITY");
		if (vms_severity_parse(a[1], &sev))
			return perr(ps, "unknown severity '%s' (info, low, "
				    "medium, high, critical)", a[1]);
		if (ps->p->fail_on >= 0)
			return perr(ps, "a second fail-on");
		ps->p->fail_on = (int)sev;
		return 0;
	}
	if (!strcmp(d, "yara")) {
		/* Relative to the policy file, so that a policy and its
		 * rules can move together. */
		const char *slash = strrchr(ps->name, '/');
		int dir;
		if (n != 2)
			return perr(ps, "usage: yara RULES-FILE");
		dir = a[1][0] != '/' && slash ? (int)(slash - ps->name) : -1;
		if (ps->p->yara)
			return perr(ps, "a second yara (name one file; YARA's "
				    "include directive combines files)");
		if (dir < 0)
			ps->p->yara = strdup(a[1]);
		else if (asprintf(&ps->p->yara, "%.*s/%s", dir, ps->name,
				  a[1]) < 0)
			ps->p->yara = NULL;
		return ps->p->yara ? 0 : -ENOMEM;
	}
	if (!strcmp(d, "ignore")) {
		/* The pattern is the rest of the line, words joined by one
		 * space: objects are "pid 77 (java)", "module rk". */
		char pat[POLICY_MAX_LINE + 1] = "";
		char *args[2] = { a[1], pat };
		if (n < 3)
			return perr(ps, "usage: ignore CHECK OBJECT-PATTERN");
		if ((err = check_names(ps, a + 1, 1)))
			return err;
		for (size_t i = 2; i < n; i++) {
			if (i > 2)
				strcat(pat, " ");
			strcat(pat, a[i]);
		}
		return add(ps, VMS_POL_IGNORE, args, 2, 0);
	}
	if (!strcmp(d, "allow")) {
		if (n < 2)
			return perr(ps, "usage: allow module|process|listener|"
				    "raw|packet|promisc ...");
		for (size_t i = 0; i < VMS_ARRAY_SIZE(allows); i++) {
			if (strcmp(a[1], allows[i].word))
				continue;
			if (allows[i].each ? n < 3 : n < 4 || n > 5)
				return perr(ps, "usage: %s", allows[i].usage);
			if (!allows[i].each) {
				/* IPv6 addresses come in brackets, which
				 * must match themselves: only * and ? are
				 * wildcards in an address. */
				char addr[2 * POLICY_MAX_LINE + 1], *o = addr;
				for (const char *q = a[3]; *q; q++) {
					if (*q == '[' || *q == ']')
						*o++ = '\\';
					*o++ = *q;
				}
				*o = 0;
				a[3] = addr;
				return add(ps, allows[i].kind, a + 2, n - 2, 0);
			}
			for (size_t j = 2; j < n; j++)
				if ((err = add(ps, allows[i].kind, a + j, 1, 0)))
					return err;
			return 0;
		}
		return perr(ps, "cannot allow '%s' (module, process, "
			    "listener, raw, packet, promisc)", a[1]);
	}
	return perr(ps, "unknown directive '%s'", d);
}

/* Split @line in place into words separated by blanks; '#' starts a
 * comment. */
static int split(struct parser *ps, char *line, char **a, size_t *n)
{
	*n = 0;
	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (*n == POLICY_MAX_ARGS)
			return perr(ps, "more than %d words", POLICY_MAX_ARGS);
		a[(*n)++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = 0;
	}
	return 0;
}

int vms_policy_parse(const char *text, size_t len, const char *name,
		     struct vms_policy **ret, char *err, size_t errlen)
{
	struct parser ps = { .name = name ? name : "policy", .err = err,
			     .errlen = errlen };
	char line[POLICY_MAX_LINE + 1];
	size_t pos = 0;
	int r = 0;

	if (!ret || (!text && len))
		return -EINVAL;
	*ret = NULL;
	if (err && errlen)
		err[0] = 0;
	if (len > POLICY_MAX_BYTES)
		return perr(&ps, "larger than %u bytes", POLICY_MAX_BYTES);
	if (!(ps.p = calloc(1, sizeof(*ps.p))))
		return -ENOMEM;
	ps.p->fail_on = -1;
	while (!r && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text - pos) : len - pos;
		char *a[POLICY_MAX_ARGS];
		size_t n;

		ps.line++;
		if (l > POLICY_MAX_LINE) {
			r = perr(&ps, "line longer than %d bytes",
				 POLICY_MAX_LINE);
			break;
		}
		memcpy(line, text + pos, l);
		line[l] = 0;
		pos += l + 1;
		if (strlen(line) != l) {
			r = perr(&ps, "a NUL byte");
			break;
		}
		if (!(r = split(&ps, line, a, &n)) && n)
			r = directive(&ps, a, n);
	}
	if (r) {
		vms_policy_destroy(ps.p);
		return r;
	}
	*ret = ps.p;
	return 0;
}

int vms_policy_load(const char *path, struct vms_policy **ret, char *err,
		    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	if (!path || !ret)
		return -EINVAL;
	*ret = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > POLICY_MAX_BYTES) {
		r = fd < 0 ? -errno
		    : !S_ISREG(st.st_mode) ? -EINVAL : -E2BIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path,
				 r == -EINVAL ? "not a regular file"
				 : r == -E2BIG ? "larger than 1 MiB"
					       : strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	r = vms_policy_parse(buf, got, path, ret, err, errlen);
	free(buf);
	return r;
}

void vms_policy_destroy(struct vms_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		for (int j = 0; j < 3; j++)
			free(p->r[i].arg[j]);
	free(p->r);
	free(p->yara);
	free(p);
}

const char *vms_policy_yara(const struct vms_policy *p)
{
	return p ? p->yara : NULL;
}

bool vms_policy_runs(const struct vms_policy *p, const char *check)
{
	if (!p)
		return true;
	if (names(p, VMS_POL_SKIP, check))
		return false;
	return !p->has_run || names(p, VMS_POL_RUN, check);
}

int vms_policy_fail_on(const struct vms_policy *p, enum vms_severity *ret)
{
	if (!p || p->fail_on < 0)
		return -ENOENT;
	*ret = (enum vms_severity)p->fail_on;
	return 0;
}

bool vms_pol_has(const struct vms_policy *p, enum vms_pol_kind kind)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->r[i].kind == kind)
			return true;
	return false;
}

static bool match(const char *pattern, const char *s)
{
	return !fnmatch(pattern, s ? s : "", 0);
}

bool vms_pol_allows(const struct vms_policy *p, enum vms_pol_kind kind,
		    const char *name)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->r[i].kind == kind && match(p->r[i].arg[0], name))
			return true;
	return false;
}

bool vms_pol_allows_listener(const struct vms_policy *p, const char *proto,
			     const char *local, const char *comm)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct vms_pol_rule *r = &p->r[i];
		if (r->kind == VMS_POL_LISTENER && match(r->arg[0], proto) &&
		    match(r->arg[1], local) &&
		    (!r->arg[2] || match(r->arg[2], comm)))
			return true;
	}
	return false;
}

bool vms_pol_ignores(const struct vms_policy *p, const char *check,
		     const char *object)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->r[i].kind == VMS_POL_IGNORE &&
		    !strcmp(p->r[i].arg[0], check) &&
		    match(p->r[i].arg[1], object))
			return true;
	return false;
}

int vms_pol_severity(const struct vms_policy *p, const char *check,
		     enum vms_severity *ret)
{
	const struct vms_pol_rule *r = rule_for(p, VMS_POL_SEVERITY, check);

	if (!r)
		return -ENOENT;
	*ret = r->sev;
	return 0;
}
