/* SPDX-License-Identifier: MIT */
/*
 * The judge of inline_hooks (inline.c), apart from the guest so that
 * unit tests can feed it instruction bytes of their own.
 */
#ifndef VMS_CHECKS_INLINE_H
#define VMS_CHECKS_INLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capstone/capstone.h>

#include "../core/core.h"

/* Instructions that start in a function's first 16 bytes are judged:
 * room for ENDBR64 (4), the fentry NOP (5) and the first instruction of
 * the body, which is where an inline hook goes. */
#define VMS_INLINE_WINDOW 16

/* What the judge asks about the kernel. The int-returning questions
 * answer 1 (yes), 0 (no) or < 0 (an error, which ends the check). */
struct vms_inline_env {
	bool (*text)(void *arg, uint64_t a);	/* in kernel text? */
	/* Is a call at @site to @target ftrace's own? */
	int (*ftrace_call)(void *arg, uint64_t site, uint64_t target);
	int (*kprobe)(void *arg, uint64_t a);	/* a kprobe's address? */
	/* Read the pointer at @va (0, or < 0 if unreadable). */
	int (*read_ptr)(void *arg, uint64_t va, uint64_t *ret);
	void *arg;
};

struct vms_inline_verdict {
	uint64_t at;		/* the instruction found */
	uint64_t target;	/* where it leads; 0 if unknown */
	char insn[160];		/* as capstone prints it */
	const char *why;
};

/* A capstone handle for x86-64 with instruction details, and one
 * instruction buffer; libcapstone is opened on first use. Errors are
 * recorded in @ctx. */
int vms_inline_open(struct vms_ctx *ctx, csh *cs, cs_insn **insn);
void vms_inline_close(csh *cs, cs_insn *insn);

/* Judge the @len bytes at @code, the start of the function at @fn:
 * 1 and *@v filled if they hold a hook, 0 if not, < 0 on an error from
 * @e. */
int vms_inline_judge(csh cs, cs_insn *insn, const uint8_t *code, size_t len,
		     uint64_t fn, const struct vms_inline_env *e,
		     struct vms_inline_verdict *v);

#endif /* VMS_CHECKS_INLINE_H */
