/* SPDX-License-Identifier: MIT */
/*
 * A client of QEMU's gdbstub (the GDB remote serial protocol; "Remote
 * Protocol" in GDB's manual, gdbstub/ in QEMU's tree).
 *
 * A packet is "$payload#cc", cc being the payload's byte sum modulo 256
 * in hex. Until QStartNoAckMode is accepted, each side acknowledges
 * every packet with '+' (or '-' to ask for it again). Replies may be
 * run-length encoded ("X*n": X repeated n - 29 more times) and may
 * escape a byte as '}' followed by the byte XOR 0x20. The 0x03 byte,
 * outside any packet, asks a running target to stop.
 *
 * QEMU's system-mode stub, as vmsight relies on it (QEMU 7.2,
 * gdbstub/softmmu.c and gdbstub.c):
 *  - a new connection stops the guest (vm_stop(RUN_STATE_PAUSED)), and
 *    that stop is announced at once by an unsolicited "T02thread:01;";
 *  - every vCPU is a thread, its id being its index + 1; "c" and "s"
 *    start all of them, "s" single-steps the one "Hc" chose; any
 *    breakpoint hit stops every vCPU and names the one that hit;
 *  - "D" removes every breakpoint and lets the guest run; closing the
 *    connection does neither.
 *
 * The stub is QEMU's, but its replies are still parsed with bounds and a
 * deadline on every wait, so that a wedged or hostile peer cannot hang
 * or exhaust vmsight.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "source.h"

#define LAYER "access"
#define MAX_PKT (1u << 20)	/* expanded payload */
#define TIMEOUT_MS 10000
#define MAX_RETRIES 3		/* a packet sent again after a '-' */
#define MAX_SKIPPED 64		/* console output packets before a reply */

struct vms_gdb {
	struct vms_ctx *ctx;
	const char *addr;	/* for messages */
	int fd;
	bool noack;		/* QStartNoAckMode accepted */
	uint8_t rbuf[65536];	/* received, not yet consumed */
	size_t roff, rlen;
	char *pkt;		/* the packet being received, expanded */
	char *last;		/* the last packet sent, for a resend */
	size_t last_len;
	bool pending;		/* a stop reply waits in @stop */
	struct vms_gdb_stop stop;
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int vms_gdb_fd(const struct vms_gdb *g)
{
	return g->fd;
}

bool vms_gdb_stop_pending(const struct vms_gdb *g)
{
	return g->pending;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The next received byte: 1 with *@c, 0 at @deadline (ms, CLOCK_MONOTONIC;
 * < 0: none, return 0 at once if nothing is buffered or readable),
 * -EINTR on a signal if @intr (else the wait goes on: a command's reply
 * is never left half-read), other negatives when the connection fails. */
static int next_byte(struct vms_gdb *g, int64_t deadline, uint8_t *c,
		     bool intr)
{
	while (g->roff == g->rlen) {
		int64_t left = deadline < 0 ? 0 : deadline - now_ms();
		struct pollfd p = { .fd = g->fd, .events = POLLIN };
		int pr = poll(&p, 1, left > 0 ? (int)VMS_MIN(left, 1 << 30) : 0);
		ssize_t n;

		if (pr < 0 && errno == EINTR) {
			if (intr)
				return -EINTR;
			continue;
		}
		if (pr < 0)
			return vms_err(g->ctx, -errno, LAYER, "%s: poll: %s",
				       g->addr, strerror(errno));
		if (pr == 0)
			return 0;
		n = read(g->fd, g->rbuf, sizeof(g->rbuf));
		if (n < 0 && errno == EINTR && intr)
			return -EINTR;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return vms_err(g->ctx, n ? -errno : -ECONNRESET, LAYER,
				       "%s: QEMU closed the gdbstub "
				       "connection", g->addr);
		g->roff = 0;
		g->rlen = (size_t)n;
	}
	*c = g->rbuf[g->roff++];
	return 1;
}

static int write_all(struct vms_gdb *g, const void *buf, size_t n)
{
	const char *s = buf;

	while (n) {
		ssize_t w = send(g->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return vms_err(g->ctx, -EPIPE, LAYER,
				       "%s: cannot send to the gdbstub: %s",
				       g->addr, strerror(errno));
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

enum { GOT_ACK = 1, GOT_NAK, GOT_PKT };

/*
 * The next thing the stub sends: an ack, a nak, or a packet (its
 * expanded payload NUL-terminated in g->pkt). 0 at the deadline. A
 * packet whose checksum is wrong is asked for again in ack mode and an
 * error without it. Only the wait for its first byte may end with
 * -EINTR, and only if @intr. Notification packets ('%') are not used by QEMU
 * and are skipped.
 */
static int next_thing(struct vms_gdb *g, int64_t deadline, bool intr)
{
	for (;;) {
		uint8_t c, sum = 0, want;
		size_t n = 0;
		int r, h1, h2;
		bool esc = false;

		if ((r = next_byte(g, deadline, &c, intr)) <= 0)
			return r;
		if (c == '+')
			return GOT_ACK;
		if (c == '-')
			return GOT_NAK;
		if (c != '$' && c != '%')
			continue;	/* noise between packets */
		bool notif = c == '%';
		/* A packet has begun: the rest of it must follow soon. */
		int64_t end = now_ms() + TIMEOUT_MS;
		for (;;) {
			if ((r = next_byte(g, end, &c, false)) < 0)
				return r;
			if (r == 0)
				return vms_err(g->ctx, -ETIMEDOUT, LAYER,
					       "%s: a gdbstub packet stopped "
					       "half-way", g->addr);
			if (c == '#')
				break;
			sum += c;
			if (esc) {
				c ^= 0x20;
				esc = false;
			} else if (c == '}') {
				esc = true;
				continue;
			} else if (c == '*' && n) {
				/* Run length: the count byte is in the sum. */
				if ((r = next_byte(g, end, &c, false)) <= 0)
					return r ? r : -ETIMEDOUT;
				sum += c;
				if (c < 29 + 3 || c > 126)
					return vms_err(g->ctx, -EBADMSG, LAYER,
						       "%s: a gdbstub reply "
						       "with a bad run length "
						       "%#x", g->addr, c);
				size_t rep = (size_t)c - 29;
				if (n + rep >= MAX_PKT)
					goto toolong;
				memset(g->pkt + n, g->pkt[n - 1], rep);
				n += rep;
				continue;
			}
			if (n + 1 >= MAX_PKT)
				goto toolong;
			g->pkt[n++] = (char)c;
		}
		g->pkt[n] = 0;
		uint8_t hx[2];
		for (int i = 0; i < 2; i++)
			if ((r = next_byte(g, end, &hx[i], false)) <= 0)
				return r ? r : -ETIMEDOUT;
		h1 = hexval(hx[0]);
		h2 = hexval(hx[1]);
		want = (uint8_t)(h1 << 4 | h2);
		if (h1 < 0 || h2 < 0 || want != sum) {
			if (g->noack)
				return vms_err(g->ctx, -EBADMSG, LAYER,
					       "%s: a gdbstub packet with a "
					       "bad checksum", g->addr);
			if ((r = write_all(g, "-", 1)))
				return r;
			continue;
		}
		if (!g->noack && (r = write_all(g, "+", 1)))
			return r;
		if (notif)
			continue;
		return GOT_PKT;
	toolong:
		return vms_err(g->ctx, -E2BIG, LAYER,
			       "%s: a gdbstub reply longer than %u bytes",
			       g->addr, MAX_PKT);
	}
}

int vms_gdb_parse_stop(const char *p, struct vms_gdb_stop *ret)
{
	int h1, h2;

	memset(ret, 0, sizeof(*ret));
	if (!p[0] || !strchr("TSWX", p[0]))
		return -EBADMSG;
	if ((h1 = hexval(p[1])) < 0 || (h2 = hexval(p[2])) < 0)
		return -EBADMSG;
	ret->signal = (uint8_t)(h1 << 4 | h2);
	if (p[0] == 'W' || p[0] == 'X') {
		ret->why = VMS_GDB_GONE;
		return 0;
	}
	ret->why = ret->signal == 5 ? VMS_GDB_TRAP
		   : ret->signal == 2 ? VMS_GDB_INT : VMS_GDB_OTHER;
	if (p[0] == 'S')
		return 0;
	/* T: "key:value;" pairs; thread is "TID" or "pPID.TID" in hex. */
	for (const char *s = p + 3; *s;) {
		const char *colon = strchr(s, ':'), *semi;
		if (!colon)
			return -EBADMSG;
		semi = strchr(colon, ';');
		if (!semi)
			return -EBADMSG;
		if (colon - s == 6 && !memcmp(s, "thread", 6)) {
			const char *v = colon + 1, *dot;
			uint64_t tid = 0;
			int d;

			if (*v == 'p' && (dot = memchr(v, '.', (size_t)(semi - v))))
				v = dot + 1;
			if (v == semi || semi - v > 8)
				return -EBADMSG;
			for (; v < semi; v++) {
				if ((d = hexval(*v)) < 0)
					return -EBADMSG;
				tid = tid << 4 | (uint64_t)d;
			}
			ret->thread = (uint32_t)tid;
		}
		s = semi + 1;
	}
	return 0;
}

/* A stop reply's shape: T or S and two hex digits, or W/X likewise. */
static bool is_stop(const char *p)
{
	return p[0] && strchr("TSWX", p[0]) && hexval(p[1]) >= 0 &&
	       hexval(p[2]) >= 0;
}

static int keep_stop(struct vms_gdb *g)
{
	if (vms_gdb_parse_stop(g->pkt, &g->stop))
		return vms_err(g->ctx, -EBADMSG, LAYER,
			       "%s: a malformed gdbstub stop reply \"%.40s\"",
			       g->addr, g->pkt);
	g->pending = true;
	return 0;
}

/* Send one packet; in ack mode, until the stub acknowledges it. */
static int send_pkt(struct vms_gdb *g, const char *payload)
{
	size_t n = strlen(payload);
	uint8_t sum = 0;
	char *p;
	int err;

	if (n > 4000)
		return vms_err(g->ctx, -E2BIG, LAYER, "a gdbstub packet of "
			       "%zu bytes", n);
	if (!(p = malloc(n + 5)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sum += (uint8_t)payload[i];
	p[0] = '$';
	memcpy(p + 1, payload, n);
	snprintf(p + 1 + n, 4, "#%02x", sum);
	free(g->last);
	g->last = p;
	g->last_len = n + 4;
	if ((err = write_all(g, p, g->last_len)) || g->noack)
		return err;
	int64_t deadline = now_ms() + TIMEOUT_MS;
	for (int tries = 0;;) {
		int r = next_thing(g, deadline, false);
		if (r == GOT_ACK)
			return 0;
		if (r == GOT_NAK) {
			if (++tries > MAX_RETRIES)
				return vms_err(g->ctx, -EIO, LAYER,
					       "%s: the gdbstub refused a "
					       "packet %d times", g->addr,
					       MAX_RETRIES + 1);
			if ((err = write_all(g, g->last, g->last_len)))
				return err;
			continue;
		}
		if (r == GOT_PKT) {
			/* A stop announced before our ack arrived. */
			if (!is_stop(g->pkt))
				return vms_err(g->ctx, -EBADMSG, LAYER,
					       "%s: the gdbstub sent \"%.40s\" "
					       "instead of an ack", g->addr,
					       g->pkt);
			if ((err = keep_stop(g)))
				return err;
			continue;
		}
		if (r == 0)
			return vms_err(g->ctx, -ETIMEDOUT, LAYER,
				       "%s: no ack from the gdbstub in %d s",
				       g->addr, TIMEOUT_MS / 1000);
		return r;
	}
}

int vms_gdb_cmd(struct vms_gdb *g, const char *pkt, char *reply, size_t max)
{
	int64_t deadline;
	int err, skipped = 0;

	if ((err = send_pkt(g, pkt)))
		return err;
	deadline = now_ms() + TIMEOUT_MS;
	for (;;) {
		int r = next_thing(g, deadline, false);
		if (r == 0)
			return vms_err(g->ctx, -ETIMEDOUT, LAYER,
				       "%s: no reply from the gdbstub to "
				       "\"%.20s\" in %d s", g->addr, pkt,
				       TIMEOUT_MS / 1000);
		if (r < 0)
			return r;
		if (r != GOT_PKT)
			continue;	/* a stray ack */
		if (++skipped > MAX_SKIPPED)
			return vms_err(g->ctx, -EBADMSG, LAYER,
				       "%s: more than %d gdbstub packets "
				       "before the reply to \"%.20s\"",
				       g->addr, MAX_SKIPPED, pkt);
		/* Console output ('O' and hex: no valid reply of ours looks
		 * like it, "OK" aside) and stops announced meanwhile. */
		if (g->pkt[0] == 'O' && g->pkt[1] && strcmp(g->pkt, "OK"))
			continue;
		if (is_stop(g->pkt) && pkt[0] != '?') {
			if ((err = keep_stop(g)))
				return err;
			continue;
		}
		break;
	}
	if (strlen(g->pkt) >= max)
		return vms_err(g->ctx, -E2BIG, LAYER,
			       "%s: the gdbstub's reply to \"%.20s\" is longer "
			       "than %zu bytes", g->addr, pkt, max - 1);
	strcpy(reply, g->pkt);
	return 0;
}

static int addr_connect(struct vms_gdb *g)
{
	const char *a = g->addr;
	int fd;

	if (!strncmp(a, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(a + 5) >= sizeof(sa.sun_path))
			return vms_err(g->ctx, -ENAMETOOLONG, LAYER,
				       "%s: a socket path longer than %zu "
				       "bytes", a, sizeof(sa.sun_path) - 1);
		strcpy(sa.sun_path, a + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return vms_err(g->ctx, -ECONNREFUSED, LAYER,
				       "%s: cannot connect to the gdbstub: %s",
				       a, strerror(e));
		}
		g->fd = fd;
		return 0;
	}
	if (!strncmp(a, "tcp:", 4))
		a += 4;
	const char *colon = strrchr(a, ':');
	char host[256], port[16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int e;

	if (!colon || (size_t)(colon - a) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port) || !colon[1])
		return vms_err(g->ctx, -EINVAL, LAYER,
			       "%s: not unix:PATH or HOST:PORT", g->addr);
	memcpy(host, a, (size_t)(colon - a));
	host[colon - a] = 0;
	strcpy(port, colon + 1);
	if ((e = getaddrinfo(*host ? host : "127.0.0.1", port, &hints, &res)))
		return vms_err(g->ctx, -EHOSTUNREACH, LAYER, "%s: %s",
			       g->addr, gai_strerror(e));
	e = ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			int one = 1;
			/* Small packets, one round trip each. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			g->fd = fd;
			freeaddrinfo(res);
			return 0;
		}
		e = errno;
		close(fd);
	}
	freeaddrinfo(res);
	return vms_err(g->ctx, -ECONNREFUSED, LAYER,
		       "%s: cannot connect to the gdbstub: %s", g->addr,
		       strerror(e));
}

int vms_gdb_open(struct vms_ctx *ctx, const char *addr, struct vms_gdb **ret)
{
	struct vms_gdb *g;
	char reply[1024];
	int err;

	*ret = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return -ENOMEM;
	g->ctx = ctx;
	g->addr = addr;
	g->fd = -1;
	if (!(g->pkt = malloc(MAX_PKT))) {
		free(g);
		return -ENOMEM;
	}
	if ((err = addr_connect(g)))
		goto fail;
	/* Not multiprocess: thread ids are then plain vCPU numbers. */
	if ((err = vms_gdb_cmd(g, "qSupported:swbreak+;hwbreak+", reply,
			       sizeof(reply))))
		goto fail;
	if (strstr(reply, "QStartNoAckMode+")) {
		if ((err = vms_gdb_cmd(g, "QStartNoAckMode", reply,
				       sizeof(reply))))
			goto fail;
		g->noack = !strcmp(reply, "OK");
	}
	*ret = g;
	return 0;
fail:
	vms_gdb_close(g);
	return err;
}

void vms_gdb_close(struct vms_gdb *g)
{
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	free(g->pkt);
	free(g->last);
	free(g);
}

/* "OK", or the stub's refusal as an error. */
static int cmd_ok(struct vms_gdb *g, const char *pkt, int *refused)
{
	char reply[64];
	int err = vms_gdb_cmd(g, pkt, reply, sizeof(reply));

	if (err)
		return err;
	if (!strcmp(reply, "OK"))
		return 0;
	if (refused) {
		*refused = 1;
		return 0;
	}
	return vms_err(g->ctx, -EREMOTEIO, LAYER,
		       "%s: the gdbstub refused \"%.40s\": \"%.20s\"",
		       g->addr, pkt, reply[0] ? reply : "not supported");
}

int vms_gdb_break(struct vms_gdb *g, uint64_t va, bool *hw)
{
	char pkt[64];
	int refused = 0, err;

	/* Kind 1: the length of an x86 breakpoint instruction. */
	snprintf(pkt, sizeof(pkt), "Z1,%llx,1", (unsigned long long)va);
	if ((err = cmd_ok(g, pkt, &refused)))
		return err;
	if (!refused) {
		*hw = true;
		return 0;
	}
	*hw = false;
	snprintf(pkt, sizeof(pkt), "Z0,%llx,1", (unsigned long long)va);
	if ((err = cmd_ok(g, pkt, NULL)))
		return vms_err_at(g->ctx, err, LAYER, va,
				  "no breakpoint at %#llx", (unsigned long long)va);
	return 0;
}

int vms_gdb_unbreak(struct vms_gdb *g, uint64_t va, bool hw)
{
	char pkt[64];

	snprintf(pkt, sizeof(pkt), "z%d,%llx,1", hw ? 1 : 0,
		 (unsigned long long)va);
	return cmd_ok(g, pkt, NULL);
}

static uint64_t le_hex(const char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | (uint64_t)(hexval(p[2 * i]) << 4 |
					hexval(p[2 * i + 1]));
	return v;
}

int vms_gdb_regs(struct vms_gdb *g, uint32_t thread, struct vms_gdb_regs *ret)
{
	/* i386-64bit.xml's order: 16 GPRs, rip, eflags (4 bytes), six
	 * segment selectors (4 bytes each), then fs_base, gs_base (8). */
	enum { RIP = 128, GS_BASE = 172, END = 180 };
	char pkt[32], *reply;
	size_t n;
	int err;

	memset(ret, 0, sizeof(*ret));
	snprintf(pkt, sizeof(pkt), "Hg%x", thread);
	if ((err = cmd_ok(g, pkt, NULL)))
		return err;
	if (!(reply = malloc(16384)))
		return -ENOMEM;
	if ((err = vms_gdb_cmd(g, "g", reply, 16384)))
		goto out;
	n = strlen(reply);
	for (size_t i = 0; i < VMS_MIN(n, 2 * (size_t)END); i++)
		if (hexval(reply[i]) < 0) {
			/* 'x': a register the stub cannot read. */
			n = i;
			break;
		}
	if (n < 2 * (RIP + 8)) {
		err = vms_err(g->ctx, -EBADMSG, LAYER,
			      "%s: the gdbstub's registers of thread %u are %zu "
			      "hex digits, fewer than %d", g->addr, thread, n,
			      2 * (RIP + 8));
		goto out;
	}
	/* GDB's order differs from VMS_RAX's in rbp and rsp only. */
	static const int to_vms[16] = {
		VMS_RAX, VMS_RBX, VMS_RCX, VMS_RDX, VMS_RSI, VMS_RDI, VMS_RBP,
		VMS_RSP, VMS_R8, VMS_R9, VMS_R10, VMS_R11, VMS_R12, VMS_R13,
		VMS_R14, VMS_R15,
	};
	for (int i = 0; i < 16; i++)
		ret->gpr[to_vms[i]] = le_hex(reply + 16 * i, 8);
	ret->rip = le_hex(reply + 2 * RIP, 8);
	if (n >= 2 * END)
		ret->gs_base = le_hex(reply + 2 * GS_BASE, 8);
out:
	free(reply);
	return err;
}

int vms_gdb_cont(struct vms_gdb *g)
{
	return send_pkt(g, "c");
}

int vms_gdb_step(struct vms_gdb *g, uint32_t thread)
{
	char pkt[32];
	int err;

	snprintf(pkt, sizeof(pkt), "Hc%x", thread);
	if ((err = cmd_ok(g, pkt, NULL)))
		return err;
	return send_pkt(g, "s");
}

int vms_gdb_interrupt(struct vms_gdb *g)
{
	return write_all(g, "\x03", 1);
}

int vms_gdb_wait(struct vms_gdb *g, int timeout_ms, struct vms_gdb_stop *ret)
{
	int64_t deadline = now_ms() + (timeout_ms < 0 ? TIMEOUT_MS : timeout_ms);
	int skipped = 0;

	for (;;) {
		int r;

		if (g->pending) {
			*ret = g->stop;
			g->pending = false;
			return 1;
		}
		r = next_thing(g, timeout_ms == 0 ? -1 : deadline, true);
		if (r <= 0)
			return r;
		if (r != GOT_PKT)
			continue;
		if (is_stop(g->pkt)) {
			if ((r = keep_stop(g)))
				return r;
			continue;
		}
		if (g->pkt[0] == 'O' && ++skipped <= MAX_SKIPPED)
			continue;
		return vms_err(g->ctx, -EBADMSG, LAYER,
			       "%s: the gdbstub sent \"%.40s\" while the guest "
			       "ran", g->addr, g->pkt);
	}
}

int vms_gdb_detach(struct vms_gdb *g)
{
	return cmd_ok(g, "D", NULL);
}
