/* SPDX-License-Identifier: MIT */
/*
 * The gdbstub client against a scripted stub (a child process on a Unix
 * socket) that plays QEMU's part, byte for byte: the stop announced on
 * connection, acks until QStartNoAckMode, a refused hardware breakpoint
 * and the software fallback, run-length encoded registers, a stop after
 * "c" and after "s", the 0x03 interrupt, and detach. Then the hostile
 * stubs: a bad checksum (asked for again), a packet that never ends or
 * exceeds the bound, a bad run length, short registers, a refusal, an
 * exit, a hang-up; and stop replies parsed from every shape.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "testutil.h"
#include "../../src/access/gdb.h"
#include "../../src/access/source.h"

#define RIP 0xffffffff81000000ull
#define RDI 0x1122334455667788ull
#define GSB 0xffff888007a00000ull
#define RBP 0xffffc90000013e58ull

/* One step of a script: wait for @expect (a packet's payload, or "-"
 * for a nak, "\x03" for an interrupt; NULL: expect nothing), then send
 * @send as raw bytes. */
struct step {
	const char *expect;
	const char *send;
};

/* A packet on the wire, kept in an arena that lives as long as the
 * test program (the scripts point into it). */
static char *wire(const char *payload)
{
	static char arena[1 << 16];
	static size_t used;
	size_t n = strlen(payload);
	char *s = arena + used;
	unsigned sum = 0;

	assert_true(used + n + 5 <= sizeof(arena));
	used += n + 5;

	for (size_t i = 0; i < n; i++)
		sum += (uint8_t)payload[i];
	s[0] = '$';
	memcpy(s + 1, payload, n);
	snprintf(s + 1 + n, 4, "#%02x", sum & 0xff);
	return s;
}

/* The next thing the client sent: a payload, "-" or "\x03". */
static int stub_read(int fd, char *buf, size_t max, bool ack)
{
	char c;
	size_t n = 0;

	for (;;) {
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '+')
			continue;
		if (c == '-' || c == 3) {
			buf[0] = c;
			buf[1] = 0;
			return 0;
		}
		if (c == '$')
			break;
	}
	for (;;) {
		if (read(fd, &c, 1) != 1 || n + 1 >= max)
			return -1;
		if (c == '#')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	char sum[2];
	if (read(fd, sum, 2) != 2)
		return -1;
	if (ack && write(fd, "+", 1) != 1)
		return -1;
	return 0;
}

static void serve(int lfd, const struct step *script)
{
	bool ack = true;
	char buf[8192];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		_exit(1);
	for (const struct step *s = script; s->expect || s->send; s++) {
		if (s->expect) {
			if (stub_read(fd, buf, sizeof(buf), ack))
				_exit(2);
			if (strcmp(buf, s->expect)) {
				fprintf(stderr, "stub: got \"%s\", want \"%s\"\n",
					buf, s->expect);
				_exit(3);
			}
			if (!strcmp(buf, "QStartNoAckMode") &&
			    strstr(s->send, "OK"))
				ack = false;
		}
		if (s->send && !strcmp(s->send, "HANG"))
			_exit(0);
		if (s->send && write(fd, s->send, strlen(s->send)) < 0)
			_exit(4);
	}
	/* Wait for the client to go. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

struct stub {
	char dir[64], sock[96], addr[112];
	pid_t pid;
	struct vms_ctx ctx;
	struct vms_gdb *g;
};

static int stub_open(struct stub *st, const struct step *script)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ready[2], err;
	char c;

	strcpy(st->dir, "/tmp/vmsight-gdb-XXXXXX");
	assert_non_null(mkdtemp(st->dir));
	snprintf(st->sock, sizeof(st->sock), "%s/gdb", st->dir);
	snprintf(st->addr, sizeof(st->addr), "unix:%s", st->sock);
	strcpy(sa.sun_path, st->sock);
	assert_int_equal(pipe(ready), 0);
	if (!(st->pid = fork())) {
		int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(lfd, 1) || write(ready[1], "", 1) != 1)
			_exit(1);
		serve(lfd, script);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	vms_ctx_init(&st->ctx);
	err = vms_gdb_open(&st->ctx, st->addr, &st->g);
	if (err)
		assert_null(st->g);
	return err;
}

/* Close the client and return the stub's exit status: 0 when it saw
 * every packet it expected. */
static int stub_close(struct stub *st)
{
	int status;

	/* The stub reads until the client has gone. */
	vms_gdb_close(st->g);
	st->g = NULL;
	assert_int_equal(waitpid(st->pid, &status, 0), st->pid);
	unlink(st->sock);
	rmdir(st->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Registers as QEMU sends them: 16 GPRs, rip, eflags, six selectors,
 * fs_base, gs_base, k_gs_base, then the rest, with runs compressed. */
static char *g_reply(bool whole)
{
	static char hex[4096];
	char *p = hex;

	for (int i = 0; i < 16; i++) {
		uint64_t v = i == 5 ? RDI : i == 6 ? RBP : 0; /* GDB's 6: rbp */
		if (v) {
			for (int b = 0; b < 8; b++)
				p += sprintf(p, "%02x", (unsigned)(v >> 8 * b) & 0xff);
		} else {
			p += sprintf(p, "0*,"); /* '0' and 15 more */
		}
	}
	for (int b = 0; b < 8; b++)
		p += sprintf(p, "%02x", (unsigned)(RIP >> 8 * b) & 0xff);
	if (whole) {
		p += sprintf(p, "46020000");		/* eflags */
		p += sprintf(p, "10000000");		/* cs */
		for (int i = 0; i < 5; i++)
			p += sprintf(p, "00000000");
		p += sprintf(p, "0000000000000000");	/* fs_base */
		for (int b = 0; b < 8; b++)
			p += sprintf(p, "%02x", (unsigned)(GSB >> 8 * b) & 0xff);
		p += sprintf(p, "xxxxxxxxxxxxxxxx");	/* unavailable */
	}
	return wire(hex);
}

static void speaks_qemus_protocol(void **state)
{
	(void)state;
	char *t02 = wire("T02thread:01;");
	char sup[256];
	struct step script[] = {
		{ NULL, t02 },	/* the stop QEMU makes on connection */
		{ "qSupported:swbreak+;hwbreak+", NULL },
		{ "QStartNoAckMode", NULL },
		{ "Z1,ffffffff81000000,1", wire("") },
		{ "Z0,ffffffff81000000,1", wire("OK") },
		{ "Hg2", wire("OK") },
		{ "g", g_reply(true) },
		{ "c", wire("T05thread:02;hwbreak:;") },
		{ "z0,ffffffff81000000,1", wire("OK") },
		{ "Hc2", wire("OK") },
		{ "s", wire("T05thread:02;") },
		{ "c", NULL },
		{ "\x03", t02 },
		{ "D", wire("OK") },
		{ NULL, NULL },
	};
	/* Ack mode until QStartNoAckMode: the stub acks ours. */
	snprintf(sup, sizeof(sup), "%s", wire("PacketSize=1000;"
		 "QStartNoAckMode+;vContSupported+"));
	script[1].send = sup;
	script[2].send = wire("OK");

	struct stub st;
	struct vms_gdb_stop stop;
	struct vms_gdb_regs r;
	bool hw = true;

	assert_int_equal(stub_open(&st, script), 0);
	/* The announced stop is kept for the caller. */
	assert_true(vms_gdb_stop_pending(st.g));
	assert_int_equal(vms_gdb_wait(st.g, 0, &stop), 1);
	assert_int_equal(stop.why, VMS_GDB_INT);
	assert_int_equal(stop.thread, 1);
	assert_int_equal(vms_gdb_break(st.g, RIP, &hw), 0);
	assert_false(hw);
	assert_int_equal(vms_gdb_regs(st.g, 2, &r), 0);
	assert_int_equal(r.gpr[VMS_RDI], RDI);
	assert_int_equal(r.gpr[VMS_RBP], RBP);
	assert_int_equal(r.gpr[VMS_RSP], 0);
	assert_int_equal(r.gpr[0], 0);
	assert_int_equal(r.gpr[15], 0);
	assert_int_equal(r.rip, RIP);
	assert_int_equal(r.gs_base, GSB);
	assert_int_equal(vms_gdb_cont(st.g), 0);
	assert_int_equal(vms_gdb_wait(st.g, 5000, &stop), 1);
	assert_int_equal(stop.why, VMS_GDB_TRAP);
	assert_int_equal(stop.thread, 2);
	assert_int_equal(vms_gdb_unbreak(st.g, RIP, false), 0);
	assert_int_equal(vms_gdb_step(st.g, 2), 0);
	assert_int_equal(vms_gdb_wait(st.g, 5000, &stop), 1);
	assert_int_equal(stop.why, VMS_GDB_TRAP);
	assert_int_equal(vms_gdb_cont(st.g), 0);
	/* Nothing comes while the guest runs: a timeout, not an error. */
	assert_int_equal(vms_gdb_wait(st.g, 50, &stop), 0);
	assert_int_equal(vms_gdb_interrupt(st.g), 0);
	assert_int_equal(vms_gdb_wait(st.g, 5000, &stop), 1);
	assert_int_equal(stop.why, VMS_GDB_INT);
	assert_int_equal(vms_gdb_detach(st.g), 0);
	assert_int_equal(stub_close(&st), 0);
}

/* A stub that never leaves ack mode, garbles a packet once, and sends
 * the registers without the segment bases. */
static void ack_mode_and_resends(void **state)
{
	(void)state;
	char bad[64];
	struct step script[] = {
		{ "qSupported:swbreak+;hwbreak+", bad },
		{ "-", wire("PacketSize=1000") },
		{ "Hg1", wire("OK") },
		{ "g", g_reply(false) },
		{ "Z1,ffffffff81000000,1", wire("OK") },
		{ "c", wire("W00") },
		{ NULL, NULL },
	};
	snprintf(bad, sizeof(bad), "$PacketSize=1000#00");
	struct stub st;
	struct vms_gdb_regs r;
	struct vms_gdb_stop stop;
	bool hw = false;

	assert_int_equal(stub_open(&st, script), 0);
	assert_false(vms_gdb_stop_pending(st.g));
	assert_int_equal(vms_gdb_regs(st.g, 1, &r), 0);
	assert_int_equal(r.rip, RIP);
	assert_int_equal(r.gs_base, 0);	/* not sent */
	assert_int_equal(vms_gdb_break(st.g, RIP, &hw), 0);
	assert_true(hw);
	assert_int_equal(vms_gdb_cont(st.g), 0);
	assert_int_equal(vms_gdb_wait(st.g, 5000, &stop), 1);
	assert_int_equal(stop.why, VMS_GDB_GONE);
	assert_int_equal(stub_close(&st), 0);
}

/* Each hostile reply to the first command after the handshake. */
static void hostile_stubs(void **state)
{
	(void)state;
	static char huge[(2u << 20) + 8];
	const char *bad_rle = "$0*\x01#00";
	struct {
		const char *send;	/* the reply to Hg1 */
		int err;
	} cases[] = {
		{ NULL, -E2BIG },	/* filled in below: 2 MiB */
		{ NULL, -EBADMSG },	/* bad run length */
		{ NULL, -EREMOTEIO },	/* "E01" */
		{ "HANG", -ECONNRESET },
	};
	huge[0] = '$';
	memset(huge + 1, 'a', sizeof(huge) - 2);
	cases[0].send = huge;
	cases[1].send = bad_rle;
	cases[2].send = wire("E01");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sup[64];
		struct step script[] = {
			{ "qSupported:swbreak+;hwbreak+", sup },
			{ "Hg1", cases[i].send },
			{ NULL, NULL },
		};
		struct stub st;
		struct vms_gdb_regs r;

		snprintf(sup, sizeof(sup), "%s", wire("PacketSize=1000"));
		assert_int_equal(stub_open(&st, script), 0);
		assert_int_equal(vms_gdb_regs(st.g, 1, &r), cases[i].err);
		assert_int_not_equal(st.ctx.err.msg[0], 0);
		assert_null(strchr(st.ctx.err.msg, '\n'));
		stub_close(&st);
	}

	/* Registers too short to hold rip. */
	char sup[64];
	struct step script[] = {
		{ "qSupported:swbreak+;hwbreak+", sup },
		{ "Hg1", wire("OK") },
		{ "g", wire("0011") },
		{ NULL, NULL },
	};
	struct stub st;
	struct vms_gdb_regs r;

	snprintf(sup, sizeof(sup), "%s", wire("PacketSize=1000"));
	assert_int_equal(stub_open(&st, script), 0);
	assert_int_equal(vms_gdb_regs(st.g, 1, &r), -EBADMSG);
	assert_non_null(strstr(st.ctx.err.msg, "fewer than"));
	stub_close(&st);

	/* Not a stub at all: no socket there. */
	struct vms_ctx ctx;
	struct vms_gdb *g = (void *)1;
	vms_ctx_init(&ctx);
	assert_int_equal(vms_gdb_open(&ctx, "unix:/nonexistent/gdb", &g),
			 -ECONNREFUSED);
	assert_null(g);
	vms_ctx_init(&ctx);
	assert_int_equal(vms_gdb_open(&ctx, "nonsense", &g), -EINVAL);
}

static void parses_stop_replies(void **state)
{
	(void)state;
	struct vms_gdb_stop s;

	assert_int_equal(vms_gdb_parse_stop("T05thread:02;", &s), 0);
	assert_int_equal(s.why, VMS_GDB_TRAP);
	assert_int_equal(s.thread, 2);
	assert_int_equal(vms_gdb_parse_stop("T05thread:p01.0a;swbreak:;",
					    &s), 0);
	assert_int_equal(s.thread, 10);
	assert_int_equal(vms_gdb_parse_stop("T02thread:01;", &s), 0);
	assert_int_equal(s.why, VMS_GDB_INT);
	assert_int_equal(vms_gdb_parse_stop("S05", &s), 0);
	assert_int_equal(s.thread, 0);
	assert_int_equal(vms_gdb_parse_stop("S0b", &s), 0);
	assert_int_equal(s.why, VMS_GDB_OTHER);
	assert_int_equal(vms_gdb_parse_stop("X09", &s), 0);
	assert_int_equal(s.why, VMS_GDB_GONE);
	assert_int_equal(vms_gdb_parse_stop("T05thread", &s), -EBADMSG);
	assert_int_equal(vms_gdb_parse_stop("T05thread:zz;", &s), -EBADMSG);
	assert_int_equal(vms_gdb_parse_stop("T05thread:123456789;", &s),
			 -EBADMSG);
	assert_int_equal(vms_gdb_parse_stop("T5", &s), -EBADMSG);
	assert_int_equal(vms_gdb_parse_stop("OK", &s), -EBADMSG);
	assert_int_equal(vms_gdb_parse_stop("", &s), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(speaks_qemus_protocol),
		cmocka_unit_test(ack_mode_and_resends),
		cmocka_unit_test(hostile_stubs),
		cmocka_unit_test(parses_stop_replies),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
