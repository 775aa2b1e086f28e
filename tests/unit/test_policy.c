/* SPDX-License-Identifier: MIT */
/*
 * Policy files: a full policy parsed and queried (run/skip, fail-on,
 * every allowlist
 * with shell patterns), severities and ignores applied to findings as
 * the checks emit them; and every kind of bad policy rejected with the
 * right line number.
 */
#include "testutil.h"
#include "../../src/checks/checks.h"

static const char good[] =
	"# a site policy\n"
	"\n"
	"skip kprobes   # noisy here\n"
	"severity network low\n"
	"fail-on high\n"
	"allow module dummy tcp_*\n"
	"allow process sshd\tcron\n"
	"allow listener tcp *:22\n"
	"allow listener udp6 [::1]:5004 vmsight-lab-hel\n"
	"allow raw ping\n"
	"allow packet dhclient\n"
	"allow promisc br*\n"
	"ignore injected_code pid * (java)\n";

static struct vms_policy *parse(const char *text, const char *name)
{
	struct vms_policy *p = NULL;
	char err[256];
	int r = vms_policy_parse(text, strlen(text), name, &p, err, sizeof(err));

	if (r)
		fail_msg("unexpected error: %s", err);
	assert_non_null(p);
	return p;
}

static void test_good(void **state)
{
	struct vms_policy *p = parse(good, "/etc/vmsight/site.policy");
	enum vms_severity sev;

	(void)state;
	assert_true(vms_policy_runs(p, "syscall_table"));
	assert_false(vms_policy_runs(p, "kprobes"));
	assert_int_equal(vms_policy_fail_on(p, &sev), 0);
	assert_int_equal(sev, VMS_SEV_HIGH);
	assert_int_equal(vms_pol_severity(p, "network", &sev), 0);
	assert_int_equal(sev, VMS_SEV_LOW);
	assert_int_equal(vms_pol_severity(p, "idt", &sev), -ENOENT);

	assert_true(vms_pol_allows(p, VMS_POL_MODULE, "dummy"));
	assert_true(vms_pol_allows(p, VMS_POL_MODULE, "tcp_bic"));
	assert_false(vms_pol_allows(p, VMS_POL_MODULE, "vmsight_rk"));
	assert_true(vms_pol_allows(p, VMS_POL_PROCESS, "cron"));
	assert_false(vms_pol_allows(p, VMS_POL_PROCESS, "crond"));
	assert_true(vms_pol_allows(p, VMS_POL_RAW, "ping"));
	assert_false(vms_pol_allows(p, VMS_POL_RAW, "dhclient"));
	assert_true(vms_pol_allows(p, VMS_POL_PACKET, "dhclient"));
	assert_true(vms_pol_allows(p, VMS_POL_PROMISC, "br0"));
	assert_false(vms_pol_allows(p, VMS_POL_PROMISC, "eth0"));
	assert_true(vms_pol_has(p, VMS_POL_LISTENER));

	/* Listeners: protocol, address pattern, optional process. */
	assert_true(vms_pol_allows_listener(p, "tcp", "0.0.0.0:22", "sshd"));
	assert_true(vms_pol_allows_listener(p, "tcp", "10.0.0.1:22", ""));
	assert_false(vms_pol_allows_listener(p, "tcp6", "[::]:22", "sshd"));
	assert_false(vms_pol_allows_listener(p, "tcp", "0.0.0.0:2222", ""));
	assert_true(vms_pol_allows_listener(p, "udp6", "[::1]:5004",
					    "vmsight-lab-hel"));
	assert_false(vms_pol_allows_listener(p, "udp6", "[::1]:5004", "nc"));

	assert_true(vms_pol_ignores(p, "injected_code", "pid 77 (java)"));
	assert_false(vms_pol_ignores(p, "injected_code", "pid 77 (jav)"));
	assert_false(vms_pol_ignores(p, "network", "pid 77 (java)"));
	vms_policy_destroy(p);
}

static void test_defaults(void **state)
{
	struct vms_policy *p = parse("run idt syscall_table\n", "p");
	enum vms_severity sev;

	(void)state;
	assert_true(vms_policy_runs(p, "idt"));
	assert_false(vms_policy_runs(p, "network"));
	assert_int_equal(vms_policy_fail_on(p, &sev), -ENOENT);
	assert_false(vms_pol_has(p, VMS_POL_MODULE));
	vms_policy_destroy(p);
	/* No policy: everything runs, nothing is allowed. */
	assert_true(vms_policy_runs(NULL, "network"));
	assert_false(vms_pol_allows(NULL, VMS_POL_RAW, "ping"));
	/* Empty, comments only, no final newline, CRLF. */
	p = parse("", "p");
	vms_policy_destroy(p);
	p = parse("# nothing\r\n  \r\nskip idt\r\nfail-on low", "p");
	assert_false(vms_policy_runs(p, "idt"));
	assert_null(vms_policy_yara(p));
	vms_policy_destroy(p);
	assert_null(vms_policy_yara(NULL));
	/* A yara file: relative to the policy file's directory. */
	p = parse("yara rules/site.yar\n", "/etc/vmsight/site.policy");
	assert_string_equal(vms_policy_yara(p), "/etc/vmsight/rules/site.yar");
	vms_policy_destroy(p);
	p = parse("yara /srv/r.yar\n", "/etc/vmsight/site.policy");
	assert_string_equal(vms_policy_yara(p), "/srv/r.yar");
	vms_policy_destroy(p);
	p = parse("yara r.yar\n", "site.policy");
	assert_string_equal(vms_policy_yara(p), "r.yar");
	vms_policy_destroy(p);
	p = parse("yara r.yar\n", "/site.policy");
	assert_string_equal(vms_policy_yara(p), "/r.yar");
	vms_policy_destroy(p);
}

struct got {
	enum vms_severity sev[8];
	int n;
};

static int on_finding(const struct vms_finding *f, void *arg)
{
	struct got *g = arg;

	if (g->n < 8)
		g->sev[g->n++] = f->severity;
	return 0;
}

/* What the checks emit goes through the policy: a changed severity for
 * findings, none for info entries, and ignored objects dropped. */
static void test_emit(void **state)
{
	struct vms_policy *p = parse("severity network low\n"
				     "ignore network interface lo\n", "p");
	struct got g = { .n = 0 };
	struct vms_chk c = { .policy = p, .check = "network",
			     .severity = VMS_SEV_MEDIUM, .fn = on_finding,
			     .arg = &g };

	(void)state;
	vms_chk_emit(&c, "pid 1 (x)", "raw", 0, 0, "");
	vms_chk_emit_sev(&c, VMS_SEV_INFO, "tcp 0.0.0.0:22", "listening", 0,
			 0, "");
	vms_chk_emit(&c, "interface lo", "promiscuous", 0, 0, "");
	vms_chk_emit_sev(&c, VMS_SEV_CRITICAL, "other", "x", 0, 0, "");
	assert_int_equal(g.n, 3);
	assert_int_equal(c.findings, 3);
	assert_int_equal(g.sev[0], VMS_SEV_LOW);
	assert_int_equal(g.sev[1], VMS_SEV_INFO);
	assert_int_equal(g.sev[2], VMS_SEV_CRITICAL);
	vms_policy_destroy(p);
}

static void bad(const char *text, size_t len, const char *want)
{
	struct vms_policy *p = (struct vms_policy *)1;
	char err[256] = "";

	assert_int_equal(vms_policy_parse(text, len, "site.policy", &p, err,
					  sizeof(err)),
			 -EINVAL);
	assert_null(p);
	if (strcmp(err, want))
		fail_msg("for %s\nwant: %s\ngot:  %s", text, want, err);
}

#define BAD(text, want) bad(text, sizeof(text) - 1, want)

static void test_bad(void **state)
{
	char big[5000];

	(void)state;
	BAD("skip idt\nfrobnicate x\n",
	    "site.policy:2: unknown directive 'frobnicate'");
	BAD("\n\nrun idt nosuch\n", "site.policy:3: no check called 'nosuch'");
	BAD("run\n", "site.policy:1: run needs at least one check name");
	BAD("run idt\nskip idt\n",
	    "site.policy:2: check 'idt' is both run and skipped");
	BAD("severity idt\n",
	    "site.policy:1: usage: severity CHECK SEVERITY");
	BAD("severity idt urgent\n",
	    "site.policy:1: unknown severity 'urgent' (info, low, medium, "
	    "high, critical)");
	BAD("severity idt low\nseverity idt high\n",
	    "site.policy:2: a second severity for 'idt'");
	BAD("fail-on low\nfail-on high\n", "site.policy:2: a second fail-on");
	BAD("fail-on\n", "site.policy:1: usage: fail-on SEVERITY");
	BAD("ignore idt\n",
	    "site.policy:1: usage: ignore CHECK OBJECT-PATTERN");
	BAD("allow\n",
	    "site.policy:1: usage: allow module|process|listener|raw|packet|"
	    "promisc ...");
	BAD("allow user root\n",
	    "site.policy:1: cannot allow 'user' (module, process, listener, "
	    "raw, packet, promisc)");
	BAD("allow module\n", "site.policy:1: usage: allow module NAME...");
	BAD("allow listener tcp\n",
	    "site.policy:1: usage: allow listener PROTO ADDRESS:PORT "
	    "[PROCESS]");
	BAD("yara\n", "site.policy:1: usage: yara RULES-FILE");
	BAD("yara a b\n", "site.policy:1: usage: yara RULES-FILE");
	BAD("yara a.yar\nyara b.yar\n",
	    "site.policy:2: a second yara (name one file; YARA's include "
	    "directive combines files)");
	BAD("allow listener tcp *:22 sshd extra\n",
	    "site.policy:1: usage: allow listener PROTO ADDRESS:PORT "
	    "[PROCESS]");
	strcpy(big, "allow process");
	for (int i = 0; i < 63; i++)
		strcat(big, " p");
	bad(big, strlen(big), "site.policy:1: more than 64 words");
	big[strlen(big) - 2] = 0; /* 64 words: fine */
	{
		struct vms_policy *p = NULL;
		assert_int_equal(vms_policy_parse(big, strlen(big), "x", &p,
						  NULL, 0),
				 0);
		vms_policy_destroy(p);
	}
	BAD("skip idt\0kprobes\n", "site.policy:1: a NUL byte");
	memset(big, 'a', sizeof(big));
	memcpy(big, "skip ", 5);
	big[sizeof(big) - 1] = '\n';
	bad(big, sizeof(big), "site.policy:1: line longer than 4096 bytes");
}

static void test_load(void **state)
{
	struct vms_policy *p = NULL;
	char err[256];
	char *path = tmpfile_with("skip idt\nbogus\n", 15);

	(void)state;
	assert_int_equal(vms_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err, ":2: unknown directive 'bogus'"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
	free(path);
	assert_int_equal(vms_policy_load("/nonexistent/p", &p, err,
					 sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/p: No such file or directory");
	assert_int_equal(vms_policy_load("/tmp", &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "/tmp: not a regular file");
}

/* The network check's rules on synthetic sockets: allow rules excuse a
 * listed holder by name, never a hidden one nor a socket no process
 * holds; listeners are an inventory until the policy has listener
 * rules. */
static void test_network_rules(void **state)
{
	struct vms_policy *p = parse("allow packet dhclient\n"
				     "allow raw ping\n"
				     "allow listener tcp *:22 sshd\n",
				     "net.policy");
	struct vms_net_facts pk = { .packet = true, .proto = "packet",
				    .inode = 5, .netns = 9, .held = true,
				    .pid = 7, .comm = "dhclient" };
	struct vms_net_facts raw = { .proto = "raw", .protocol = 1,
				     .inode = 6, .netns = 9, .held = true,
				     .pid = 8, .comm = "ping" };
	struct vms_net_facts l = { .proto = "tcp", .local = "0.0.0.0:22",
				   .netns = 9, .held = true, .pid = 3,
				   .comm = "sshd" };
	char ev[512];

	(void)state;
	assert_false(vms_chk_sniffer_rule(p, &pk, ev, sizeof(ev)));
	/* Without a policy nothing is allowed. */
	assert_true(vms_chk_sniffer_rule(NULL, &pk, ev, sizeof(ev)));
	assert_string_equal(ev, "holds a packet socket (inode 5, netns 9): "
				"it sees every frame of its interfaces");
	pk.hidden = true;
	assert_true(vms_chk_sniffer_rule(p, &pk, ev, sizeof(ev)));
	assert_string_equal(ev, "holds a packet socket (inode 5, netns 9): "
				"it sees every frame of its interfaces; the "
				"process is hidden from the task list");
	pk.held = pk.hidden = false;
	pk.comm = "";
	assert_true(vms_chk_sniffer_rule(p, &pk, ev, sizeof(ev)));
	assert_string_equal(ev, "no process holds a packet socket (inode 5, "
				"netns 9): it sees every frame of its "
				"interfaces; held by no task found, or in "
				"flight in a unix socket message");
	/* "allow packet" does not cover raw sockets, nor the reverse. */
	assert_false(vms_chk_sniffer_rule(p, &raw, ev, sizeof(ev)));
	raw.comm = "dhclient";
	assert_true(vms_chk_sniffer_rule(p, &raw, ev, sizeof(ev)));
	assert_string_equal(ev, "holds a raw socket for IP protocol 1 (inode "
				"6, netns 9)");
	raw.held = false;
	assert_true(vms_chk_sniffer_rule(p, &raw, ev, sizeof(ev)));
	assert_string_equal(ev, "no process holds a raw socket for IP "
				"protocol 1 (inode 6, netns 9): passed away or "
				"held by no task found");

	assert_int_equal(vms_chk_listener_rule(NULL, &l, ev, sizeof(ev)),
			 VMS_LISTENER_INVENTORY);
	assert_string_equal(ev, "listening, held by pid 3 (sshd), netns 9");
	assert_int_equal(vms_chk_listener_rule(p, &l, ev, sizeof(ev)),
			 VMS_LISTENER_ALLOWED);
	l.local = "0.0.0.0:23";
	assert_int_equal(vms_chk_listener_rule(p, &l, ev, sizeof(ev)),
			 VMS_LISTENER_FINDING);
	assert_string_equal(ev, "listening, held by pid 3 (sshd), netns 9; no "
				"'allow listener' rule matches");
	l.local = "0.0.0.0:22";
	l.hidden = true;
	assert_int_equal(vms_chk_listener_rule(p, &l, ev, sizeof(ev)),
			 VMS_LISTENER_FINDING);
	assert_string_equal(ev, "listening, held by pid 3 (sshd), hidden "
				"from the task list, netns 9; no 'allow "
				"listener' rule matches");
	l.held = l.hidden = false;
	assert_int_equal(vms_chk_listener_rule(p, &l, ev, sizeof(ev)),
			 VMS_LISTENER_FINDING);
	assert_string_equal(ev, "listening, held by no process, netns 9; no "
				"'allow listener' rule matches");
	vms_policy_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_network_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
