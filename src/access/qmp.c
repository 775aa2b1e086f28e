/* SPDX-License-Identifier: MIT */
/*
 * A QMP client (QEMU Machine Protocol: JSON objects over a Unix socket,
 * one per line; docs/interop/qmp-spec.rst in QEMU's tree).
 *
 * The server greets with {"QMP": ...}; capabilities negotiation
 * (qmp_capabilities) enters command mode. Each command gets one reply,
 * {"return": ...} or {"error": {"class", "desc"}}; asynchronous
 * {"event": ...} lines may come before it; they are skipped, except
 * that RESET ones are counted (a watch must learn of a reboot).
 *
 * QEMU is the host's, but its replies are still parsed with bounds:
 * lines of at most 16 MiB and a deadline on every reply, so that a
 * wedged or hostile peer cannot hang or exhaust vmsight.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "qmp.h"

#define LAYER "access"
#define MAX_LINE (16u << 20)
#define TIMEOUT_MS 30000

struct vms_qmp {
	struct vms_ctx *ctx;
	const char *path;	/* for messages */
	int fd;
	char *buf;		/* received, not yet consumed */
	size_t len, cap;
	struct vms_lifecycle life; /* RESET and SHUTDOWN events seen */
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One read of what QEMU sent (at least the 64 KiB the buffer makes room
 * for); a read cut short by a signal reads nothing. */
static int fill(struct vms_qmp *q)
{
	ssize_t n;

	if (q->cap - q->len < 65536) {
		int r = vms_grow(NULL, &q->buf, &q->cap, q->len + 65536, 1,
				 131072, MAX_LINE + 65536);
		if (r)
			return r;
	}
	n = read(q->fd, q->buf + q->len, q->cap - q->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return vms_err(q->ctx, n ? -errno : -ECONNRESET, LAYER,
			       "%s: QEMU closed the QMP connection", q->path);
	q->len += (size_t)n;
	return 0;
}

/* A whole line that has arrived (without its newline) into *@ret, owned
 * by the caller: 1, or 0 if none has yet. */
static int take_line(struct vms_qmp *q, char **ret)
{
	char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
	size_t n;

	if (!nl) {
		if (q->len >= MAX_LINE)
			return vms_err(q->ctx, -E2BIG, LAYER,
				       "%s: a QMP message longer than %u bytes",
				       q->path, MAX_LINE);
		return 0;
	}
	n = (size_t)(nl - q->buf);
	if (!(*ret = malloc(n + 1)))
		return -ENOMEM;
	memcpy(*ret, q->buf, n);
	(*ret)[n] = 0;
	memmove(q->buf, nl + 1, q->len - n - 1);
	q->len -= n + 1;
	return 1;
}

/* The next line (without its newline) into *@ret, owned by the caller. */
static int read_line(struct vms_qmp *q, char **ret)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;

	for (;;) {
		int got = take_line(q, ret);
		if (got)
			return got < 0 ? got : 0;
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return vms_err(q->ctx, pr ? -errno : -ETIMEDOUT, LAYER,
				       "%s: no reply from QEMU in %d s",
				       q->path, TIMEOUT_MS / 1000);
		int err = fill(q);
		if (err)
			return err;
	}
}

/* @line parsed into *@ret; an event is noted and gives NULL. */
static int parse_msg(struct vms_qmp *q, const char *line, json_object **ret)
{
	json_object *o = json_tokener_parse(line), *ev;

	*ret = NULL;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vms_err(q->ctx, -EBADMSG, LAYER, "%s: QEMU sent a line "
			       "that is not a JSON object", q->path);
	}
	if (json_object_object_get_ex(o, "event", &ev)) {
		const char *name = json_object_get_string(ev);
		json_object *data, *reason;
		/* RESET: sent at every system reset but QEMU's first
		 * (qemu_system_reset(), softmmu/runstate.c). SHUTDOWN: the
		 * guest powered off, or QEMU was told to quit (a signal,
		 * QMP quit), or a guest reset under -no-reboot; its
		 * "reason" says which (QEMU 4.0+). */
		if (name && !strcmp(name, "RESET")) {
			q->life.resets++;
		} else if (name && !strcmp(name, "SHUTDOWN")) {
			const char *why = "";
			if (json_object_object_get_ex(o, "data", &data) &&
			    json_object_object_get_ex(data, "reason",
						      &reason) &&
			    json_object_is_type(reason, json_type_string))
				why = json_object_get_string(reason);
			q->life.shutdowns++;
			snprintf(q->life.reason, sizeof(q->life.reason), "%s",
				 why);
		}
		json_object_put(o);
		return 0;
	}
	*ret = o;
	return 0;
}

/* The next message that is not an event, parsed. */
static int read_msg(struct vms_qmp *q, json_object **ret)
{
	for (;;) {
		char *line = NULL;
		int err = read_line(q, &line);

		if (err)
			return err;
		err = parse_msg(q, line, ret);
		free(line);
		if (err || *ret)
			return err;
	}
}

int vms_qmp_lifecycle(struct vms_qmp *q, struct vms_lifecycle *ret)
{
	int err = 0;

	/* What has arrived, without waiting: events only, as no command
	 * is out (a stray reply, such as that of resume_async's cont, is
	 * dropped). At most 64 reads: a flood cannot hold the caller. */
	for (int i = 0; i < 64 && !err; i++) {
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		char *line = NULL;

		/* Whole lines first: a command's read may have left some. */
		while ((err = take_line(q, &line)) == 1) {
			json_object *o = NULL;

			err = parse_msg(q, line, &o);
			json_object_put(o);
			free(line);
			if (err)
				break;
		}
		if (err || poll(&p, 1, 0) <= 0)
			break;
		err = fill(q);
	}
	*ret = q->life;
	return err;
}

static int write_all(struct vms_qmp *q, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(q->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return vms_err(q->ctx, -EPIPE, LAYER,
				       "%s: cannot send to QEMU: %s", q->path,
				       strerror(errno));
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int vms_qmp_cmd(struct vms_qmp *q, const char *cmd, json_object *args,
		json_object **ret)
{
	json_object *req = json_object_new_object(), *reply = NULL, *v, *e;
	const char *text;
	int err;

	if (ret)
		*ret = NULL;
	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "arguments",
				       json_object_get(args));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	err = text ? write_all(q, text, strlen(text)) : -ENOMEM;
	if (!err)
		err = write_all(q, "\n", 1);
	json_object_put(req);
	if (err || (err = read_msg(q, &reply)))
		return err;
	if (json_object_object_get_ex(reply, "return", &v)) {
		if (ret)
			*ret = json_object_get(v);
	} else if (json_object_object_get_ex(reply, "error", &e)) {
		json_object *d = NULL;
		json_object_object_get_ex(e, "desc", &d);
		err = vms_err(q->ctx, -EREMOTEIO, LAYER, "%s: QEMU refused %s: "
			      "%.300s", q->path, cmd,
			      d ? json_object_get_string(d) : "no reason");
	} else {
		err = vms_err(q->ctx, -EBADMSG, LAYER,
			      "%s: QEMU's reply to %s has neither return nor "
			      "error", q->path, cmd);
	}
	json_object_put(reply);
	return err;
}

int vms_qmp_open_fd(struct vms_ctx *ctx, int fd, const char *path,
		    struct vms_qmp **ret)
{
	struct vms_qmp *q;
	json_object *greet = NULL;
	int err;

	*ret = NULL;
	if (!(q = calloc(1, sizeof(*q)))) {
		close(fd);
		return -ENOMEM;
	}
	q->ctx = ctx;
	q->path = path;
	q->fd = fd;
	if ((err = read_msg(q, &greet)))
		goto fail;
	if (!json_object_object_get_ex(greet, "QMP", NULL)) {
		err = vms_err(ctx, -EPROTO, LAYER,
			      "%s: not a QMP socket (no QMP greeting)", path);
		goto fail;
	}
	if ((err = vms_qmp_cmd(q, "qmp_capabilities", NULL, NULL)))
		goto fail;
	json_object_put(greet);
	*ret = q;
	return 0;
fail:
	json_object_put(greet);
	vms_qmp_close(q);
	return err;
}

int vms_qmp_open(struct vms_ctx *ctx, const char *path, struct vms_qmp **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	*ret = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return vms_err(ctx, -ENAMETOOLONG, LAYER,
			       "%s: a socket path longer than %zu bytes", path,
			       sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = vms_err(ctx, errno == ENOENT ? -ENOENT
						       : -ECONNREFUSED,
				  LAYER, "%s: cannot connect to QEMU's QMP "
				  "socket: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return vms_qmp_open_fd(ctx, fd, path, ret);
}

int vms_qmp_hmp(struct vms_qmp *q, const char *cmdline, size_t max,
		char **ret)
{
	json_object *a = json_object_new_object(), *text = NULL;
	const char *s;
	int err;

	*ret = NULL;
	if (!a)
		return -ENOMEM;
	json_object_object_add(a, "command-line",
			       json_object_new_string(cmdline));
	err = vms_qmp_cmd(q, "human-monitor-command", a, &text);
	json_object_put(a);
	if (err)
		return err;
	s = json_object_get_string(text);
	if (!s || strlen(s) > max)
		err = vms_err(q->ctx, -EBADMSG, LAYER,
			      "%s: QEMU's \"%s\" output is %s", q->path,
			      cmdline, s ? "too long" : "not text");
	else if (!(*ret = strdup(s)))
		err = -ENOMEM;
	json_object_put(text);
	return err;
}

int vms_qmp_peer_pid(struct vms_qmp *q, int *ret)
{
	struct ucred uc = { 0 };
	socklen_t n = sizeof(uc);
	int r = getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &uc, &n);

	if (r || n != sizeof(uc) || uc.pid <= 0)
		return vms_err(q->ctx, -ESRCH, LAYER,
			       "%s: cannot tell which process serves the QMP "
			       "socket: %s", q->path,
			       r ? strerror(errno) : "no pid");
	*ret = uc.pid;
	return 0;
}

/* Whether @id, quoted, is in the @n bytes at @p (no memmem: not on the
 * list of async-signal-safe functions). */
static bool has_id(const char *p, size_t n, const char *id, size_t idn)
{
	for (size_t i = 0; i + idn + 2 <= n; i++)
		if (p[i] == '"' && p[i + idn + 1] == '"' &&
		    !memcmp(p + i + 1, id, idn))
			return true;
	return false;
}

void vms_qmp_send_async(struct vms_qmp *q, const char *line, const char *id)
{
	size_t n = strlen(line), idn = strlen(id), keep = 0;
	int saved = errno;
	struct timespec t0, t;
	char buf[4096];

	if (!q || q->fd < 0 || idn + 2 > sizeof(buf) / 2)
		return;
	while (n) {
		ssize_t w = send(q->fd, line, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		line += w;
		n -= (size_t)w;
	}
	/* QEMU's monitor clears its queue of requests when the client's
	 * connection closes (monitor/qmp.c, on CHR_EVENT_CLOSED): wait for
	 * the answer, which comes once the command ran. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		long ms;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = 2000 - ((t.tv_sec - t0.tv_sec) * 1000 +
			     (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms <= 0)
			break;
		r = poll(&pfd, 1, (int)ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		r = recv(q->fd, buf + keep, sizeof(buf) - keep, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (has_id(buf, keep + (size_t)r, id, idn))
			break;
		/* Keep a tail that may hold the start of the id. */
		n = keep + (size_t)r;
		keep = VMS_MIN(n, idn + 1);
		memmove(buf, buf + n - keep, keep);
	}
out:
	errno = saved;
}

void vms_qmp_close(struct vms_qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}
