/* SPDX-License-Identifier: MIT */
/*
 * Live QEMU sources against a scripted QMP server (a child process on a
 * Unix socket): the memory backends and the flattened memory map become
 * segments (RAM above 4 GiB at its backend offset, ROM lines of the
 * backend, other regions and other address spaces ignored, monitor
 * lines ending in CR LF, events skipped); backends without a usable
 * file (memory-backend-ram, share=off) read from the server's own
 * memory at the addresses its gpa2hva names, a page it unmaps becoming
 * a hole, its exit an error; and every refusal: a map past the
 * backend's end, no backend, a gpa2hva reply for another region or an
 * address the server does not map, a peer that is not QMP, an error
 * reply, a peer that hangs up. RESET events are counted wherever they
 * come: before a reply, after it in the same read, later on their own,
 * and cut across two writes; other events and a RESET-named value that
 * is not an event name are not. SHUTDOWN events are counted too, with
 * the last one's reason (none when it is not a string).
 */
#include <inttypes.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "testutil.h"
#include "../../src/access/source.h"

#define BACKEND (2u << 20)

enum scenario { GOOD, SHARE_OFF, RAM_BACKEND, HOLE, PAST_END, NO_BACKEND,
		OTHER_REGION, NOT_MAPPED, NOT_QMP, REFUSED, HANG_UP };

/* Where the scripted QEMU keeps the backend in its own memory. */
static uint8_t *server_ram;

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

/* Backend offset of each RAM line's start in mtree_good. */
static const uint64_t good_lines[][2] = {
	{ 0, 0 }, { 0xc0000, 0xc0000 }, { 0x100000, 0x100000 },
	{ 0x100000000ull, 0x180000 },
};

/* The reply to "gpa2hva ADDR": the address in server_ram. */
static void gpa2hva(int fd, enum scenario sc, const char *cmdline)
{
	uint64_t gpa = strtoull(cmdline + 8, NULL, 16);
	char r[160];

	for (size_t i = 0; i < 4; i++) {
		if (good_lines[i][0] != gpa)
			continue;
		uintptr_t hva = (uintptr_t)server_ram + good_lines[i][1];
		if (sc == NOT_MAPPED)
			hva = 0x1000;
		/* The last one asked for: a page of the one at 1 MiB goes. */
		if (sc == HOLE && i == 3)
			munmap(server_ram + 0x140000, 4096);
		snprintf(r, sizeof(r),
			 "{\"return\": \"Host virtual address for %#" PRIx64
			 " (%s) is %#" PRIxPTR "\\r\\n\"}\n",
			 gpa, sc == OTHER_REGION ? "pc.bios" : "ram", hva);
		say(fd, r);
		return;
	}
	say(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
		"\"No memory is mapped at address\"}}\n");
}

/* Serve one client the way QEMU would, bent by @sc. */
static void serve(int lfd, enum scenario sc, const char *file)
{
	int fd = accept(lfd, NULL, NULL);
	FILE *in = fd >= 0 ? fdopen(dup(fd), "r") : NULL;
	char line[4096];

	if (!in)
		_exit(1);
	/* The backend in this process's memory, for process_vm_readv. */
	server_ram = mmap(NULL, BACKEND, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (server_ram == MAP_FAILED)
		_exit(1);
	for (uint64_t o = 0; o < BACKEND; o += 8)
		memcpy(server_ram + o, &o, 8);
	say(fd, sc == NOT_QMP ? "{\"hello\": 1}\n"
			      : "{\"QMP\": {\"version\": {}, "
				"\"capabilities\": []}}\n");
	while (fgets(line, sizeof(line), in)) {
		json_object *o = json_tokener_parse(line), *x, *a, *p;
		const char *cmd = json_object_object_get_ex(o, "execute", &x)
					  ? json_object_get_string(x)
					  : "";
		const char *prop = "", *hmp = "";
		if (json_object_object_get_ex(o, "arguments", &a) &&
		    json_object_object_get_ex(a, "property", &p))
			prop = json_object_get_string(p);
		if (json_object_object_get_ex(o, "arguments", &a) &&
		    json_object_object_get_ex(a, "command-line", &p))
			hmp = json_object_get_string(p);
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
				: sc == RAM_BACKEND || sc == HOLE ||
				  sc == OTHER_REGION || sc == NOT_MAPPED
				? "{\"return\": [{\"name\": \"ram\", \"type\": "
				  "\"child<memory-backend-ram>\"}]}\n"
				: "{\"return\": [{\"name\": \"type\", \"type\": "
				  "\"string\"}, {\"name\": \"ram\", \"type\": "
				  "\"child<memory-backend-file>\"}]}\n");
		} else if (!strcmp(cmd, "query-status")) {
			/* One reset before the reply, one after it, one cut in
			 * two, and look-alikes that are none. */
			say(fd, "{\"event\": \"RESET\", \"data\": "
				"{\"guest\": true}}\n");
			say(fd, "{\"return\": {\"status\": \"running\", "
				"\"running\": true}}\n{\"event\": \"RESET\"}\n"
				"{\"event\": \"STOP\", \"data\": {\"RESET\": 1}}\n"
				"{\"event\": 7, \"x\": \"RESET\"}\n"
				"{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": "
				"true, \"reason\": \"guest-shutdown\"}}\n"
				"{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": "
				"7}}\n");
			usleep(100000);
			say(fd, "{\"event\": \"RE");
			usleep(100000);
			say(fd, "SET\"}\n");
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
		} else if (!strncmp(hmp, "gpa2hva ", 8)) {
			gpa2hva(fd, sc, hmp);
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
	int lfd, err, ready[2];
	char c;
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
	/* The server listens itself, as QEMU does: the socket's peer
	 * credentials (whose memory is read) are the listener's. */
	assert_int_equal(pipe(ready), 0);
	if (!(l->pid = fork())) {
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(lfd, 1) || write(ready[1], "", 1) != 1)
			_exit(1);
		serve(lfd, sc, l->file);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	vms_ctx_init(&l->ctx);
	err = vms_qemu_open(&l->ctx, l->sock, &l->src);
	if (err)
		assert_null(l->src);
	return err;
}

/* The scripted QEMU stays up while the source is open: remote reads
 * come from its memory. */
static void stop_server(struct live *l)
{
	int st;

	if (l->pid > 0) {
		kill(l->pid, SIGTERM);
		waitpid(l->pid, &st, 0);
		l->pid = 0;
	}
}

static void close_live(struct live *l)
{
	stop_server(l);
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

/* Every byte of a scan, checked against the backend's pattern. */
struct scan_seen {
	uint64_t bytes, bad, from, last_end;
	const uint64_t (*lines)[2];
};

static int scan_check(uint64_t pa, const uint8_t *d, size_t len, void *arg)
{
	struct scan_seen *s = arg;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v, want = 0, at = pa + i;
		memcpy(&v, d + i, 8);
		for (size_t k = 0; k < 4; k++)
			if (at >= s->lines[k][0])
				want = at - s->lines[k][0] + s->lines[k][1];
		s->bad += v != want;
	}
	if (pa >= s->last_end)
		s->bytes += len;
	else
		s->bytes += pa + len - s->last_end; /* overlap counted once */
	s->last_end = pa + len;
	return 0;
}

static void reads_qemus_memory_without_a_file(void **state)
{
	enum scenario scs[] = { SHARE_OFF, RAM_BACKEND, HOLE };

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		struct scan_seen seen = { .lines = good_lines };
		struct live l;
		uint64_t v = 0;
		assert_int_equal(open_live(&l, scs[c]), 0);
		assert_int_equal(l.src->nsegs, 4);
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(l.src->segs[i].kind, VMS_SEG_REMOTE);
		assert_int_equal(word(&l, 0x1000), 0x1000);
		assert_int_equal(word(&l, 0xc0008), 0xc0008);
		assert_int_equal(word(&l, 0x17fff8), 0x17fff8);
		assert_int_equal(word(&l, 0x100000000ull), 0x180000);
		assert_int_equal(word(&l, 0x10007fff8ull), 0x1ffff8);
		assert_null(vms_source_ptr(l.src, 0x1000, 8));
		assert_int_equal(vms_source_scan(l.src, 0x10000, 64,
						 scan_check, &seen), 0);
		assert_int_equal(seen.bad, 0);
		/* 0xa0000 + 0x40000 + 0x80000 + 0x80000 bytes of RAM. */
		assert_int_equal(seen.bytes, scs[c] == HOLE ? 0x1df000
							    : 0x1e0000);
		if (scs[c] == HOLE) {
			assert_int_equal(vms_source_read(l.src, 0x140ff8, &v,
							 16), -EFAULT);
			assert_string_equal(l.ctx.err.msg,
					    "physical address 0x140ff8: QEMU "
					    "no longer holds it");
			vms_err_clear(&l.ctx);
			assert_int_equal(word(&l, 0x141000), 0x141000);
		}
		/* QEMU gone: a clear error, not garbage. */
		stop_server(&l);
		assert_int_equal(vms_source_read(l.src, 0x1000, &v, 8),
				 -ESRCH);
		assert_non_null(strstr(l.ctx.err.msg, "has exited"));
		close_live(&l);
	}
}

/* "info registers -a" as QEMU 7.2 prints it: a CPU in the kernel (long
 * mode), one in user space, one just reset (real mode, 32-bit names). */
static const char regs_text[] =
	"CPU#0\r\n"
	"RAX=0000000000000000 RBX=0000000000000000 RCX=ffffcddf8040bd30 "
	"RDX=0000000000000000\r\n"
	"RSI=0000000000000087 RDI=000000000000752c RBP=ffffffffa4810940 "
	"RSP=ffffffffa4803e88\r\n"
	"R8 =ffffffffa4803df8 R9 =0000000000000001 R10=0000000000000000 "
	"R11=000000000499ee58\r\n"
	"R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 "
	"R15=00000000000147b0\r\n"
	"RIP=ffffffffa38e5fff RFL=00000212 [----A--] CPL=0 II=0 A20=1 SMM=0 "
	"HLT=1\r\n"
	"ES =0000 0000000000000000 00000000 00000000\r\n"
	"CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]\r\n"
	"SS =0018 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\r\n"
	"DS =0000 0000000000000000 00000000 00000000\r\n"
	"FS =0000 0000000000000000 00000000 00000000\r\n"
	"GS =0000 ffff8ca07ec00000 00000000 00000000\r\n"
	"LDT=0000 0000000000000000 00000000 00008200 DPL=0 LDT\r\n"
	"TR =0040 fffffe19b45be000 00004087 00008900 DPL=0 TSS64-avl\r\n"
	"GDT=     fffffe19b45bc000 0000007f\r\n"
	"IDT=     fffffe0000000000 00000fff\r\n"
	"CR0=80050033 CR2=000000000042ee70 CR3=000000001a422000 "
	"CR4=00750ef0\r\n"
	"DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 "
	"DR3=0000000000000000 \r\n"
	"DR6=00000000ffff0ff0 DR7=0000000000000400\r\n"
	"EFER=0000000000000d01\r\n"
	"FCW=037f FSW=0000 [ST=0] FTW=00 MXCSR=00001f80\r\n"
	"YMM00=0000000000000000 0000000000000000 0000000000000000 "
	"0000000000000000\r\n"
	"CPU#1\r\n"
	"RAX=0000000000000001 RBX=0000000000000002 RCX=0000000000000003 "
	"RDX=0000000000000004\r\n"
	"RSI=0000000000000005 RDI=0000000000000006 RBP=0000000000000008 "
	"RSP=00007ffd1234f000\r\n"
	"R8 =0000000000000009 R9 =000000000000000a R10=000000000000000b "
	"R11=000000000000000c\r\n"
	"R12=000000000000000d R13=000000000000000e R14=000000000000000f "
	"R15=0000000000000010\r\n"
	"RIP=0000000000401000 RFL=00000246 [---Z-P-] CPL=3 II=0 A20=1 SMM=0 "
	"HLT=0\r\n"
	"CS =0033 0000000000000000 ffffffff 00a0fb00 DPL=3 CS64 [-RA]\r\n"
	"SS =002b 0000000000000000 ffffffff 00c0f300 DPL=3 DS   [-WA]\r\n"
	"FS =0000 00007f0011112222 00000000 00000000\r\n"
	"GS =0000 0000000000000000 00000000 00000000\r\n"
	"CR0=80050033 CR2=0000000000000000 CR3=0000000011610805 "
	"CR4=00751ef0\r\n"
	"EFER=0000000000000d01\r\n"
	"CPU#2\r\n"
	"EAX=00000000 EBX=00000000 ECX=00000000 EDX=00060fb1\r\n"
	"ESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000\r\n"
	"EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\n"
	"ES =0000 00000000 0000ffff 00009300\r\n"
	"CS =f000 ffff0000 0000ffff 00009b00\r\n"
	"CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000\r\n"
	"EFER=0000000000000000\r\n";

static void parses_qemus_registers(void **state)
{
	struct vms_cpu c[4];
	unsigned int n;

	(void)state;
	assert_int_equal(vms_qemu_parse_registers(regs_text, c, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(c[0].index, 0);
	assert_int_equal(c[0].gpr[VMS_RCX], 0xffffcddf8040bd30ull);
	assert_int_equal(c[0].gpr[VMS_RSP], 0xffffffffa4803e88ull);
	assert_int_equal(c[0].gpr[VMS_R8], 0xffffffffa4803df8ull);
	assert_int_equal(c[0].gpr[VMS_R9], 1);
	assert_int_equal(c[0].gpr[VMS_R15], 0x147b0);
	assert_int_equal(c[0].rip, 0xffffffffa38e5fffull);
	assert_int_equal(c[0].rflags, 0x212);
	assert_int_equal(c[0].cs, 0x10);
	assert_int_equal(c[0].ss, 0x18);
	assert_int_equal(c[0].gs_base, 0xffff8ca07ec00000ull);
	assert_int_equal(c[0].cr0, 0x80050033);
	assert_int_equal(c[0].cr2, 0x42ee70);
	assert_int_equal(c[0].cr3, 0x1a422000);
	assert_int_equal(c[0].cr4, 0x750ef0);
	assert_true(c[0].has_efer);
	assert_int_equal(c[0].efer, 0xd01);
	assert_false(c[0].has_kernel_gs_base);
	for (int r = 0; r < VMS_NGPR; r++)
		assert_int_equal(c[1].gpr[r], r == VMS_RSP ? 0x7ffd1234f000ull
							   : (uint64_t)r + 1);
	assert_int_equal(c[1].index, 1);
	assert_int_equal(c[1].cs & 3, 3);
	assert_int_equal(c[1].fs_base, 0x7f0011112222ull);
	assert_int_equal(c[1].cr3, 0x11610805);
	/* Real mode: the 32-bit names, no R8-R15. */
	assert_int_equal(c[2].index, 2);
	assert_int_equal(c[2].rip, 0xfff0);
	assert_int_equal(c[2].gpr[VMS_RDX], 0x60fb1);
	assert_int_equal(c[2].gpr[VMS_R8], 0);
	assert_int_equal(c[2].cs, 0xf000);
	assert_int_equal(c[2].cr0, 0x60000010);

	/* At most @max CPUs are kept. */
	assert_int_equal(vms_qemu_parse_registers(regs_text, c, 1, &n), 0);
	assert_int_equal(n, 1);
	/* A CPU without CR3, a CS that is no selector, or no CPU at all. */
	assert_int_equal(vms_qemu_parse_registers(
				 "CPU#0\nRIP=1 CS =0010 0 0 0\n", c, 4, &n),
			 -EBADMSG);
	assert_int_equal(vms_qemu_parse_registers(
				 "CPU#0\nRIP=1 CR3=1000\nCS =x\n", c, 4, &n),
			 -EBADMSG);
	assert_int_equal(vms_qemu_parse_registers(
				 "CPU#0\nRIP=1 CR3=1000\nCS =12345 0\n", c, 4,
				 &n),
			 -EBADMSG);
	assert_int_equal(vms_qemu_parse_registers("", c, 4, &n), -EBADMSG);
	assert_int_equal(vms_qemu_parse_registers("CPUs: none", c, 4, &n),
			 -EBADMSG);
}

static void counts_resets_and_shutdowns(void **state)
{
	struct live l;
	struct vms_lifecycle life = { .resets = 99 };
	char st[32];

	(void)state;
	assert_int_equal(open_live(&l, GOOD), 0);
	assert_int_equal(l.src->ops->lifecycle(l.src, &life), 0);
	assert_int_equal(life.resets, 0);
	assert_int_equal(life.shutdowns, 0);
	assert_int_equal(l.src->ops->run_state(l.src, st, sizeof(st)), 0);
	assert_string_equal(st, "running");
	/* The last reset comes in two writes 100 ms apart. */
	for (int i = 0; i < 100 && life.resets < 3; i++) {
		assert_int_equal(l.src->ops->lifecycle(l.src, &life), 0);
		usleep(10000);
	}
	assert_int_equal(life.resets, 3);
	/* Two shutdowns; the second's reason is no string. */
	assert_int_equal(life.shutdowns, 2);
	assert_string_equal(life.reason, "");
	usleep(100000);
	assert_int_equal(l.src->ops->lifecycle(l.src, &life), 0);
	assert_int_equal(life.resets, 3);
	/* Commands still get their replies after the events. */
	assert_int_equal(l.src->ops->run_state(l.src, st, sizeof(st)), 0);
	close_live(&l);
}

static void refusals(void **state)
{
	static const struct {
		enum scenario sc;
		int err;
		const char *msg;
	} cases[] = {
		{ PAST_END, -EBADMSG,
		  "QEMU maps 0x100000000-0x1001fffff to offset 0x100000 of "
		  "memory backend ram, which has 0x200000 bytes" },
		{ NO_BACKEND, -ENOTSUP, "QEMU shows no memory backend" },
		{ OTHER_REGION, -EBADMSG,
		  "QEMU's gpa2hva 0 said \"Host virtual address for 0 "
		  "(pc.bios) is 0x" },
		{ NOT_MAPPED, -EFAULT, "holds guest-physical 0-0x9ffff at "
		  "0x1000, which its /proc/PID/maps does not show readable" },
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
		cmocka_unit_test(reads_qemus_memory_without_a_file),
		cmocka_unit_test(parses_qemus_registers),
		cmocka_unit_test(counts_resets_and_shutdowns),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
