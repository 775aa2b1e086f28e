/* SPDX-License-Identifier: MIT */
/*
 * Live QEMU sources against a scripted QMP server (a child process on a
 * Unix socket): the memory backends and the flattened memory map become
 * segments (RAM above 4 GiB at its backend offset, ROM lines of the
 * backend, other regions and other address spaces ignored, monitor
 * lines ending in CR LF, events skipped); and every refusal: share=off,
 * a map past the backend's end, no backend, a peer that is not QMP, an
 * error reply, a peer that hangs up.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "testutil.h"
#include "../../src/access/source.h"

#define BACKEND (2u << 20)

enum scenario { GOOD, SHARE_OFF, PAST_END, NO_BACKEND, NOT_QMP, REFUSED,
		HANG_UP };

static const char mtree_good[] =
	"FlatView #0\r\n"
	" AS \"cpu-smm-0\", root: memory\r\n"
	" Root memory region: memory\r\n"
	"  0000000200000000-00000002000fffff (prio 0, ram): ram\r\n"
	"\r\n"
	"FlatView #1\r\n"
	" AS \"memory\", root: system\r\n"
	" AS \"cpu-memory-0\", root: system\r\n"
	" Root memory region: system\r\n"
	"  0000000000000000-000000000009ffff (prio 0, ram): ram\r\n"
	"  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem\r\n"
	"  00000000000c0000-00000000000fffff (prio 0, rom): ram "
	"@00000000000c0000\r\n"
	"  0000000000100000-000000000017ffff (prio 0, ram): ram "
	"@0000000000100000\r\n"
	"  00000000fd000000-00000000fdffffff (prio 1, ram): vga.vram\r\n"
	"  0000000100000000-000000010007ffff (prio 0, ram): ram "
	"@0000000000180000\r\n"
	"\r\n"
	"FlatView #2\r\n"
	" AS \"I/O\", root: io\r\n";

static const char mtree_past_end[] =
	"FlatView #1\r\n"
	" AS \"memory\", root: system\r\n"
	"  0000000100000000-00000001001fffff (prio 0, ram): ram "
	"@0000000000100000\r\n";

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			_exit(1);
		s += w;
		n -= (size_t)w;
	}
}

/* Serve one client the way QEMU would, bent by @sc. */
static void serve(int lfd, enum scenario sc, const char *file)
{
	int fd = accept(lfd, NULL, NULL);
	FILE *in = fd >= 0 ? fdopen(dup(fd), "r") : NULL;
	char line[4096];

	if (!in)
		_exit(1);
	say(fd, sc == NOT_QMP ? "{\"hello\": 1}\n"
			      : "{\"QMP\": {\"version\": {}, "
				"\"capabilities\": []}}\n");
	while (fgets(line, sizeof(line), in)) {
		json_object *o = json_tokener_parse(line), *x, *a, *p;
		const char *cmd = json_object_object_get_ex(o, "execute", &x)
					  ? json_object_get_string(x)
					  : "";
		const char *prop = "";
		if (json_object_object_get_ex(o, "arguments", &a) &&
		    json_object_object_get_ex(a, "property", &p))
			prop = json_object_get_string(p);
		/* An event first: the client must skip it. */
		say(fd, "{\"event\": \"RTC_CHANGE\", \"data\": {}}\n");
		if (!strcmp(cmd, "qmp_capabilities")) {
			say(fd, "{\"return\": {}}\n");
		} else if (!strcmp(cmd, "qom-list")) {
			if (sc == HANG_UP)
				_exit(0);
			say(fd, sc == REFUSED
				? "{\"error\": {\"class\": \"GenericError\", "
				  "\"desc\": \"no such path\"}}\n"
				: sc == NO_BACKEND
				? "{\"return\": [{\"name\": \"type\", "
				  "\"type\": \"string\"}]}\n"
				: "{\"return\": [{\"name\": \"type\", \"type\": "
				  "\"string\"}, {\"name\": \"ram\", \"type\": "
				  "\"child<memory-backend-file>\"}]}\n");
		} else if (!strcmp(prop, "share")) {
			say(fd, sc == SHARE_OFF ? "{\"return\": false}\n"
						: "{\"return\": true}\n");
		} else if (!strcmp(prop, "size")) {
			char r[64];
			snprintf(r, sizeof(r), "{\"return\": %u}\n", BACKEND);
			say(fd, r);
		} else if (!strcmp(prop, "mem-path")) {
			json_object *r = json_object_new_object();
			json_object_object_add(r, "return",
					       json_object_new_string(file));
			say(fd, json_object_to_json_string(r));
			say(fd, "\n");
			json_object_put(r);
		} else if (!strcmp(cmd, "human-monitor-command")) {
			json_object *r = json_object_new_object();
			json_object_object_add(
				r, "return",
				json_object_new_string(sc == PAST_END
							       ? mtree_past_end
							       : mtree_good));
			say(fd, json_object_to_json_string(r));
			say(fd, "\n");
			json_object_put(r);
		}
		json_object_put(o);
	}
	_exit(0);
}

struct live {
	char dir[64], sock[96], file[96];
	pid_t pid;
	struct vms_ctx ctx;
	struct vms_source *src;
};

static int open_live(struct live *l, enum scenario sc)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t *page = malloc(BACKEND);
	int lfd, err, st;
	FILE *f;

	strcpy(l->dir, "/tmp/vmsight-qmp-XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(l->sock, sizeof(l->sock), "%s/qmp", l->dir);
	snprintf(l->file, sizeof(l->file), "%s/ram", l->dir);
	/* Each 8-byte word holds its own offset into the backend. */
	for (uint64_t o = 0; o < BACKEND; o += 8)
		memcpy(page + o, &o, 8);
	assert_non_null(f = fopen(l->file, "w"));
	assert_int_equal(fwrite(page, 1, BACKEND, f), BACKEND);
	fclose(f);
	free(page);
	strcpy(sa.sun_path, l->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	if (!(l->pid = fork()))
		serve(lfd, sc, l->file);
	close(lfd);
	vms_ctx_init(&l->ctx);
	err = vms_qemu_open(&l->ctx, l->sock, &l->src);
	if (err)
		assert_null(l->src);
	kill(l->pid, SIGTERM);
	waitpid(l->pid, &st, 0);
	return err;
}

static void close_live(struct live *l)
{
	vms_source_close(l->src);
	unlink(l->sock);
	unlink(l->file);
	rmdir(l->dir);
}

static uint64_t word(struct live *l, uint64_t pa)
{
	uint64_t v = 0;

	assert_int_equal(vms_source_read(l->src, pa, &v, 8), 0);
	return v;
}

static void maps_the_backend_by_qemus_map(void **state)
{
	struct live l;

	(void)state;
	assert_int_equal(open_live(&l, GOOD), 0);
	assert_string_equal(l.src->format, "qemu");
	/* 0-0x9ffff, the backend's ROM at 0xc0000, its RAM from 1 MiB,
	 * and 4 GiB; VGA, vga.vram and the SMM view are not guest RAM. */
	assert_int_equal(l.src->nsegs, 4);
	assert_int_equal(l.src->segs[0].start, 0);
	assert_int_equal(l.src->segs[0].size, 0xa0000);
	assert_int_equal(l.src->segs[1].start, 0xc0000);
	assert_int_equal(l.src->segs[2].start, 0x100000);
	assert_int_equal(l.src->segs[3].start, 0x100000000ull);
	assert_int_equal(l.src->segs[3].size, 0x80000);
	assert_int_equal(word(&l, 0x1000), 0x1000);
	assert_int_equal(word(&l, 0xc0008), 0xc0008);
	assert_int_equal(word(&l, 0x17fff8), 0x17fff8);
	/* Above 4 GiB: backend offset 0x180000. */
	assert_int_equal(word(&l, 0x100000000ull), 0x180000);
	assert_int_equal(word(&l, 0x10007fff8ull), 0x1ffff8);
	assert_int_equal(vms_source_read(l.src, 0xa0000, &(uint64_t){ 0 }, 8),
			 -EFAULT);
	assert_int_equal(vms_source_read(l.src, 0x200000000ull,
					 &(uint64_t){ 0 }, 8),
			 -EFAULT);
	close_live(&l);
}

static void refusals(void **state)
{
	static const struct {
		enum scenario sc;
		int err;
		const char *msg;
	} cases[] = {
		{ SHARE_OFF, -ENOTSUP, "memory backend ram has share=off" },
		{ PAST_END, -EBADMSG,
		  "QEMU maps 0x100000000-0x1001fffff to offset 0x100000 of "
		  "memory backend ram, which has 0x200000 bytes" },
		{ NO_BACKEND, -ENOTSUP, "QEMU has no memory-backend-file" },
		{ NOT_QMP, -EPROTO, "not a QMP socket (no QMP greeting)" },
		{ REFUSED, -EREMOTEIO, "QEMU refused qom-list: no such path" },
		{ HANG_UP, -ECONNRESET, "QEMU closed the QMP connection" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct live l;
		assert_int_equal(open_live(&l, cases[i].sc), cases[i].err);
		if (!strstr(l.ctx.err.msg, cases[i].msg) ||
		    strncmp(l.ctx.err.msg, l.sock, strlen(l.sock)))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				 l.ctx.err.msg, cases[i].msg);
		close_live(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_the_backend_by_qemus_map),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
