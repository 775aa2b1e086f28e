/* SPDX-License-Identifier: MIT */
/*
 * Baselines: the file format written and read back unchanged (strings
 * with quotes, control characters and non-ASCII bytes, 64-bit
 * addresses); every kind of bad baseline rejected with its line; and
 * the rules of diff on synthetic measurement sets: added, removed,
 * changed, a module loaded again, another boot (relocated contents not
 * compared, sets and hooks still compared), a callback that stops it.
 */
#include "testutil.h"
#include "../../src/checks/checks.h"

#define M(k_, o_, a_, sha_, d_)                                                \
	{ .sz = sizeof(struct vms_measurement), .kind = k_, .object = o_,     \
	  .addr = a_, .size = 0, .sha256 = sha_, .detail = d_ }

#define SHA_A "aaaa000000000000000000000000000000000000000000000000000000000000"
#define SHA_B "bbbb000000000000000000000000000000000000000000000000000000000000"

/* A guest as measured: kernel at @text, one text page with @page_sha,
 * module "m" at @mod, and the named extra measurements. */
static struct vms_baseline *guest(const char *text, const char *page_sha,
				  uint64_t mod, const struct vms_measurement
				  *extra, size_t nextra)
{
	struct vms_baseline *b = vms_chk_baseline_new();
	const struct vms_measurement ms[] = {
		M("kernel", "_text", 0, "", text),
		M("kernel", "banner", 0, "", "Linux version 6.12"),
		M("text", "+0x1000", 0xffffffff81001000ull, page_sha,
		  "do_one_initcall"),
		M("syscall_table", "sys_call_table", 0xffffffff82000000ull,
		  SHA_A, ""),
		M("module", "m", mod, SHA_A, "on the module list"),
		M("process", "pid 1 (init)", 0xffff888000001000ull, "",
		  "uid 0"),
		M("hook", "ftrace_ops: kprobe_ftrace_handler", 0, "",
		  "kernel text, kprobe_ftrace_handler"),
	};

	assert_non_null(b);
	/* Out of key order on purpose: comparing sorts. */
	for (size_t i = VMS_ARRAY_SIZE(ms); i-- > 0;)
		assert_int_equal(vms_chk_baseline_add(&ms[i], b), 0);
	for (size_t i = 0; i < nextra; i++)
		assert_int_equal(vms_chk_baseline_add(&extra[i], b), 0);
	return b;
}

struct got {
	char line[16][200];
	size_t n;
	int stop_at;		/* return -EINTR at this change, or -1 */
};

static int collect(const struct vms_change *c, void *arg)
{
	struct got *g = arg;

	assert_int_equal(c->sz, sizeof(*c));
	if ((int)g->n == g->stop_at)
		return -EINTR;
	assert_true(g->n < 16);
	snprintf(g->line[g->n++], sizeof(g->line[0]), "%s %s %s: %s",
		 c->change, c->kind, c->object, c->detail);
	return 0;
}

static int compare(struct vms_baseline *a, struct vms_baseline *b,
		   struct got *g)
{
	int r;

	memset(g, 0, sizeof(*g));
	g->stop_at = -1;
	r = vms_chk_baseline_compare(a, b, collect, g);
	vms_baseline_destroy(a);
	vms_baseline_destroy(b);
	return r;
}

static void test_same(void **state)
{
	struct got g;

	(void)state;
	assert_int_equal(compare(guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0000000ull, NULL, 0),
				 guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0000000ull, NULL, 0),
				 &g),
			 0);
	assert_int_equal(g.n, 0);
}

static void test_changes(void **state)
{
	const struct vms_measurement was[] = {
		M("listener", "tcp 0.0.0.0:22 netns 4026531840", 0, "", ""),
	};
	const struct vms_measurement now[] = {
		M("module", "vmsight_rk", 0xffffffffc0100000ull, SHA_B,
		  "hidden from the module list (in /sys/module)"),
		M("hook", "kprobe at version_proc_show+0x4: pre module "
			  "vmsight_rk+0x10, post none",
		  0, "", "module vmsight_rk (not on the module list)"),
	};
	struct got g;

	(void)state;
	assert_int_equal(compare(guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0000000ull, was, 1),
				 guest("0xffffffff81000000", SHA_B,
				       0xffffffffc0000000ull, now, 2),
				 &g),
			 4);
	/* In key order: kind, then object. */
	assert_string_equal(g.line[0],
			    "added hook kprobe at version_proc_show+0x4: pre "
			    "module vmsight_rk+0x10, post none: module "
			    "vmsight_rk (not on the module list)");
	assert_string_equal(g.line[1],
			    "removed listener tcp 0.0.0.0:22 netns "
			    "4026531840: ");
	assert_string_equal(g.line[2],
			    "added module vmsight_rk: hidden from the module "
			    "list (in /sys/module)");
	assert_string_equal(g.line[3],
			    "changed text +0x1000: do_one_initcall: sha256 "
			    "bbbb000000000000 (was aaaa000000000000)");
}

static void test_module_reloaded(void **state)
{
	struct got g;

	(void)state;
	/* Loaded again elsewhere: its hash holds other relocations, so it
	 * is "moved", not "changed". */
	assert_int_equal(compare(guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0000000ull, NULL, 0),
				 guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0200000ull, NULL, 0),
				 &g),
			 1);
	assert_string_equal(g.line[0],
			    "moved module m: loaded again at "
			    "0xffffffffc0200000 (was 0xffffffffc0000000); its "
			    "code is not compared");
}

static void test_another_boot(void **state)
{
	const struct vms_measurement now[] = {
		M("process", "pid 90 (nc)", 0, "", "uid 0"),
		M("hook", "netfilter ipv4 PRE_ROUTING netns 4026531840: "
			  "module rk+0xb0",
		  0, "", "module rk"),
	};
	struct got g;

	(void)state;
	/* Another slide: the text page, the table and the module hold
	 * relocated addresses and are not compared; the kernel's move, the
	 * new process and the new hook are reported. */
	assert_int_equal(compare(guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0000000ull, NULL, 0),
				 guest("0xffffffff9a000000", SHA_B,
				       0xffffffffc0400000ull, now, 2),
				 &g),
			 3);
	assert_string_equal(g.line[0],
			    "added hook netfilter ipv4 PRE_ROUTING netns "
			    "4026531840: module rk+0xb0: module rk");
	assert_string_equal(g.line[1],
			    "moved kernel _text: 0xffffffff9a000000 (was "
			    "0xffffffff81000000): another boot or KASLR slide; "
			    "relocated code and tables are not compared");
	assert_string_equal(g.line[2], "added process pid 90 (nc): uid 0");
}

static void test_stop(void **state)
{
	struct vms_baseline *a = guest("0xffffffff81000000", SHA_A,
				       0xffffffffc0000000ull, NULL, 0);
	struct vms_baseline *b = guest("0xffffffff81000000", SHA_B,
				       0xffffffffc0200000ull, NULL, 0);
	struct got g = { .stop_at = 1 };

	(void)state;
	assert_int_equal(vms_chk_baseline_compare(a, b, collect, &g), -EINTR);
	assert_int_equal(g.n, 1);
	vms_baseline_destroy(a);
	vms_baseline_destroy(b);
}

/* Written by vms_chk_baseline_line(), read back by vms_baseline_parse():
 * the same measurements, so comparing gives nothing. */
static void test_round_trip(void **state)
{
	const struct vms_measurement ms[] = {
		M("kernel", "banner", 0, "",
		  "Linux \"quoted\"\\ \t\x01 caf\xc3\xa9\nnext"),
		M("text", "+0x0", 0xffffffffffffffffull, "unreadable", "_text"),
		M("process", "pid 7 (a\"b)", 0x8000000000000000ull, "", ""),
	};
	struct vms_baseline *b, *ref = vms_chk_baseline_new();
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct got g;

	(void)state;
	assert_non_null(f);
	assert_int_equal(vms_chk_baseline_header(f, "dump \"x\""), 0);
	for (size_t i = 0; i < VMS_ARRAY_SIZE(ms); i++) {
		assert_int_equal(vms_chk_baseline_line(&ms[i], f), 0);
		assert_int_equal(vms_chk_baseline_add(&ms[i], ref), 0);
	}
	fclose(f);
	/* One line per measurement: a newline in a string is escaped. */
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 4);
	assert_non_null(strstr(buf, "{\"kind\":\"format\",\"object\":"
				    "\"vmsight-baseline\",\"addr\":\"0x0\","
				    "\"size\":1,"));
	assert_int_equal(vms_baseline_parse(buf, len, "mem", &b, err,
					    sizeof(err)),
			 0);
	assert_int_equal(vms_baseline_count(b), 3);
	assert_int_equal(compare(ref, b, &g), 0);
	free(buf);
}

static void bad(const char *text, const char *want)
{
	struct vms_baseline *b = NULL;
	char err[256] = "";

	assert_int_equal(vms_baseline_parse(text, strlen(text), "b.json", &b,
					    err, sizeof(err)),
			 -EINVAL);
	assert_null(b);
	if (!strstr(err, want))
		fail_msg("for %s: got \"%s\", want \"%s\"", text, err, want);
}

#define HEAD "{\"kind\":\"format\",\"object\":\"vmsight-baseline\"," \
	     "\"addr\":\"0x0\",\"size\":1,\"sha256\":\"\",\"detail\":\"\"}\n"
#define ENTRY(addr, size) \
	"{\"kind\":\"text\",\"object\":\"+0x0\",\"addr\":\"" addr "\"," \
	"\"size\":" size ",\"sha256\":\"\",\"detail\":\"\"}\n"

static void test_bad(void **state)
{
	(void)state;
	bad("", "b.json: empty, not a vmsight baseline");
	bad("\n", "b.json:1: not a JSON object");
	bad("[1,2]\n", "b.json:1: not a JSON object");
	bad(ENTRY("0x0", "1"), "b.json:1: not a vmsight baseline");
	bad("{\"kind\":\"format\",\"object\":\"vmsight-baseline\","
	    "\"addr\":\"0x0\",\"size\":2,\"sha256\":\"\",\"detail\":\"\"}\n",
	    "b.json:1: baseline format version 2");
	bad(HEAD "{\"kind\":\"text\"}\n", "b.json:2: not a baseline entry");
	bad(HEAD ENTRY("0x0", "\"4096\""), "b.json:2: not a baseline entry");
	bad(HEAD ENTRY("0x0", "1") ENTRY("12", "1"),
	    "b.json:3: addr \"12\" is not 0x and hex digits");
	bad(HEAD ENTRY("0x1ffffffffffffffff", "1"), "b.json:2: addr");
	bad(HEAD ENTRY("0x-1", "1"), "b.json:2: addr");
	bad(HEAD ENTRY("0xfg", "1"), "b.json:2: addr");
	bad(HEAD "{\"kind\":\"text\",\"object\":\"+0x0\"", "b.json:2: not a "
							 "JSON object");
	bad(HEAD "not json\n", "b.json:2: not a JSON object");
}

static void test_limits(void **state)
{
	size_t n = (1u << 20) + 64;
	char *text = malloc(sizeof(HEAD) + n + 2), err[256];
	struct vms_baseline *b = NULL;
	static const char nul[] = HEAD "{\"kind\"\0:1}\n";

	(void)state;
	/* A line past 1 MiB is refused, not read into memory whole. */
	strcpy(text, HEAD);
	memset(text + strlen(HEAD), ' ', n);
	text[strlen(HEAD) + n] = '\n';
	assert_int_equal(vms_baseline_parse(text, strlen(HEAD) + n + 1,
					    "big", &b, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "big:2: a line longer than 1048576 bytes");
	free(text);
	assert_int_equal(vms_baseline_parse(nul, sizeof(nul) - 1, "nul", &b,
					    err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "nul:2: a NUL byte in the line");
	assert_null(b);
}

static void test_load(void **state)
{
	static const char text[] = HEAD ENTRY("0xffffffff81000000", "4096");
	char *path = tmpfile_with(text, sizeof(text) - 1), err[256];
	struct vms_baseline *b = NULL;

	(void)state;
	assert_int_equal(vms_baseline_load(path, &b, err, sizeof(err)), 0);
	assert_int_equal(vms_baseline_count(b), 1);
	vms_baseline_destroy(b);
	unlink(path);
	free(path);
	b = NULL;
	assert_int_equal(vms_baseline_load("/nonexistent/b", &b, err,
					   sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/b: No such file or directory");
	assert_int_equal(vms_baseline_load("/tmp", &b, err, sizeof(err)),
			 -EISDIR);
	assert_string_equal(err, "/tmp: a directory, not a baseline");
	assert_null(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_module_reloaded),
		cmocka_unit_test(test_another_boot),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
