/* SPDX-License-Identifier: MIT */
/*
 * The inline_hooks judge on instruction bytes written for the test:
 * clean prologues as Debian's 6.1 and 6.12 build them (the fentry NOP,
 * ENDBR64, a tail jump into text, an early ret) pass; a jump, a
 * movabs+jmp, push+ret, a jump through a pointer, an int3, a call on the
 * fentry site to a non-ftrace target, a conditional jump out of text and
 * undecodable bytes are hooks, each with the instruction, its address
 * and where it leads. A kprobe's own int3 or jump, and ftrace's calls,
 * are left to their checks; an error from the environment ends the
 * judgement.
 */
#include <errno.h>

#include "testutil.h"
#include "../../src/checks/inline.h"

#define FN 0xffffffff81100000ull	/* the function judged */
#define TEXT_END 0xffffffff82000000ull
#define MOD 0xffffffffc0a01230ull	/* module memory */
#define SLOT 0xffffffff81200000ull	/* a pointer for jmp [rip+x] */

struct env {
	uint64_t kprobe;		/* a probed address, or 0 */
	uint64_t tramp;			/* ftrace's trampoline, or 0 */
	int fail;			/* what ftrace_call returns, if < 0 */
};

static bool text(void *arg, uint64_t a)
{
	(void)arg;
	return a >= 0xffffffff81000000ull && a < TEXT_END;
}

static int ftrace_call(void *arg, uint64_t site, uint64_t target)
{
	struct env *e = arg;

	if (e->fail)
		return e->fail;
	return site == FN + 4 && target == e->tramp;
}

static int kprobe(void *arg, uint64_t a)
{
	return ((struct env *)arg)->kprobe == a;
}

static int read_ptr(void *arg, uint64_t va, uint64_t *ret)
{
	(void)arg;
	if (va != SLOT)
		return -EFAULT;
	*ret = MOD;
	return 0;
}

/* Judge @n bytes at FN under @e; returns the judge's answer. */
static int judge(const uint8_t *b, size_t n, struct env *e,
		 struct vms_inline_verdict *v)
{
	struct vms_inline_env env = { .text = text, .ftrace_call = ftrace_call,
				      .kprobe = kprobe, .read_ptr = read_ptr,
				      .arg = e };
	struct vms_ctx ctx;
	csh cs;
	cs_insn *insn;
	int r;

	vms_ctx_init(&ctx);
	assert_int_equal(vms_inline_open(&ctx, &cs, &insn), 0);
	r = vms_inline_judge(cs, insn, b, n, FN, &env, v);
	vms_inline_close(&cs, insn);
	return r;
}

static void rel32(uint8_t *p, uint64_t at, uint64_t to)
{
	int32_t d = (int32_t)(to - (at + 5));

	memcpy(p + 1, &d, 4);
}

static void clean_prologues_pass(void **state)
{
	struct env e = { 0 };
	struct vms_inline_verdict v;
	(void)state;

	/* 6.12: endbr64; fentry nop; mov rax,[rdi+0x70]; jmp text */
	uint8_t a[32] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x1f, 0x44, 0x00, 0x00,
			  0x48, 0x8b, 0x47, 0x70, 0xe9 };
	rel32(a + 13, FN + 13, FN + 0x4000);
	assert_int_equal(judge(a, sizeof(a), &e, &v), 0);

	/* 6.1: fentry nop; mov rax,-38; ret; int3 padding after. */
	uint8_t b[32] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x48, 0xc7, 0xc0,
			  0xda, 0xff, 0xff, 0xff, 0xc3, 0xcc, 0xcc, 0xcc };
	assert_int_equal(judge(b, sizeof(b), &e, &v), 0);

	/* A conditional jump and a call into text, then a long body. */
	uint8_t c[32] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x0f, 0x85, 0x10,
			  0x00, 0x00, 0x00, 0xe8 };
	rel32(c + 11, FN + 11, 0xffffffff81300000ull);
	memset(c + 16, 0x90, 16);
	assert_int_equal(judge(c, sizeof(c), &e, &v), 0);
}

static void jumps_out_of_text_are_hooks(void **state)
{
	struct env e = { 0 };
	struct vms_inline_verdict v;
	(void)state;

	/* endbr64; jmp rel32 into module memory, over the fentry nop. */
	uint8_t a[32] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe9 };
	rel32(a + 4, FN + 4, MOD);
	assert_int_equal(judge(a, sizeof(a), &e, &v), 1);
	assert_true(v.at == FN + 4 && v.target == MOD);
	assert_string_equal(v.insn, "jmp 0xffffffffc0a01230");
	assert_string_equal(v.why, "leads out of kernel text");

	/* movabs rax, MOD; jmp rax */
	uint8_t b[32] = { 0x48, 0xb8 };
	uint64_t m = MOD;
	memcpy(b + 2, &m, 8);
	b[10] = 0xff;
	b[11] = 0xe0;
	assert_int_equal(judge(b, sizeof(b), &e, &v), 1);
	assert_true(v.at == FN + 10 && v.target == MOD);
	assert_string_equal(v.insn, "jmp rax");

	/* ... unless rax was loaded from memory in between. */
	uint8_t b2[32] = { 0x48, 0xb8 };
	memcpy(b2 + 2, &m, 8);
	memcpy(b2 + 10, "\x48\x8b\x07\xff\xe0", 5); /* mov rax,[rdi]; jmp rax */
	assert_int_equal(judge(b2, sizeof(b2), &e, &v), 1);
	assert_true(v.at == FN + 13 && v.target == 0);
	assert_non_null(strstr(v.why, "cannot compute"));

	/* movabs rax, MOD; push rax; ret, and push rbx; ret. */
	uint8_t b3[32] = { 0x48, 0xb8 };
	memcpy(b3 + 2, &m, 8);
	b3[10] = 0x50;
	b3[11] = 0xc3;
	assert_int_equal(judge(b3, sizeof(b3), &e, &v), 1);
	assert_true(v.at == FN + 11 && v.target == MOD);
	b3[10] = 0x53;
	assert_int_equal(judge(b3, sizeof(b3), &e, &v), 1);
	assert_true(v.at == FN + 11 && v.target == 0);

	/* movabs rax, <text>; mov eax, 1; jmp rax: the write between
	 * makes the target unknown, not the text address. */
	uint8_t b4[32] = { 0x48, 0xb8 };
	uint64_t tx = FN + 0x100;
	memcpy(b4 + 2, &tx, 8);
	memcpy(b4 + 10, "\xb8\x01\x00\x00\x00\xff\xe0", 7);
	assert_int_equal(judge(b4, sizeof(b4), &e, &v), 1);
	assert_true(v.at == FN + 15 && v.target == 0);

	/* push imm32; ret: the target sign-extended. */
	uint8_t c[32] = { 0x68, 0x30, 0x12, 0xa0, 0xc0, 0xc3 };
	assert_int_equal(judge(c, sizeof(c), &e, &v), 1);
	assert_true(v.at == FN + 5 && v.target == 0xffffffffc0a01230ull);
	assert_non_null(strstr(v.why, "push and ret"));

	/* jmp [rip + d] through a readable pointer, and an unreadable one. */
	uint8_t d[32] = { 0xff, 0x25 };
	int32_t disp = (int32_t)(SLOT - (FN + 6));
	memcpy(d + 2, &disp, 4);
	assert_int_equal(judge(d, sizeof(d), &e, &v), 1);
	assert_true(v.at == FN && v.target == MOD);
	disp += 8;
	memcpy(d + 2, &disp, 4);
	assert_int_equal(judge(d, sizeof(d), &e, &v), 1);
	assert_true(v.target == 0);

	/* A conditional jump out of text. */
	uint8_t f[32] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x0f, 0x84 };
	int32_t r = (int32_t)(MOD - (FN + 11));
	memcpy(f + 7, &r, 4);
	assert_int_equal(judge(f, sizeof(f), &e, &v), 1);
	assert_true(v.at == FN + 5 && v.target == MOD);
}

static void breakpoints_ftrace_and_kprobes(void **state)
{
	struct env e = { 0 };
	struct vms_inline_verdict v;
	(void)state;

	/* int3 at the start: a hook unless a kprobe is there. */
	uint8_t a[32] = { 0xcc, 0x1f, 0x44, 0x00, 0x00, 0xc3 };
	assert_int_equal(judge(a, sizeof(a), &e, &v), 1);
	assert_true(v.at == FN);
	assert_non_null(strstr(v.why, "no kprobe"));
	e.kprobe = FN;
	assert_int_equal(judge(a, sizeof(a), &e, &v), 0);

	/* An optimised kprobe's jump is the kprobe's too. */
	uint8_t b[32] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe9 };
	rel32(b + 4, FN + 4, MOD);
	e.kprobe = FN + 4;
	assert_int_equal(judge(b, sizeof(b), &e, &v), 0);
	e.kprobe = 0;

	/* A call on the fentry site: ftrace's trampoline passes, any
	 * other target is a hook. */
	uint8_t c[32] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe8 };
	rel32(c + 4, FN + 4, MOD);
	memset(c + 9, 0x90, 8);
	e.tramp = MOD;
	assert_int_equal(judge(c, sizeof(c), &e, &v), 0);
	e.tramp = MOD + 0x1000;
	assert_int_equal(judge(c, sizeof(c), &e, &v), 1);
	assert_true(v.at == FN + 4 && v.target == MOD);
	assert_string_equal(v.insn, "call 0xffffffffc0a01230");

	/* An error from the environment ends the judgement. */
	e.fail = -EIO;
	assert_int_equal(judge(c, sizeof(c), &e, &v), -EIO);
}

static void hostile_bytes(void **state)
{
	struct env e = { 0 };
	struct vms_inline_verdict v;
	(void)state;

	/* 0x06 (push es) does not exist in 64-bit mode. */
	uint8_t a[32] = { 0x06, 0x06, 0x06, 0x06 };
	assert_int_equal(judge(a, sizeof(a), &e, &v), 1);
	assert_true(v.at == FN);
	assert_non_null(strstr(v.why, "do not decode"));

	/* Bytes that end inside the window. */
	uint8_t b[3] = { 0x90, 0x90, 0x90 };
	assert_int_equal(judge(b, sizeof(b), &e, &v), 1);
	assert_true(v.at == FN + 3);

	/* Sixteen one-byte NOPs: nothing to judge, and the walk stops at
	 * the window. */
	uint8_t c[32];
	memset(c, 0x90, sizeof(c));
	c[16] = 0xcc;
	assert_int_equal(judge(c, sizeof(c), &e, &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_prologues_pass),
		cmocka_unit_test(jumps_out_of_text_are_hooks),
		cmocka_unit_test(breakpoints_ftrace_and_kprobes),
		cmocka_unit_test(hostile_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
