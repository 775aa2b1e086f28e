/* SPDX-License-Identifier: MIT */
/* A client of QEMU's gdbstub: the GDB remote serial protocol (gdb.c). */
#ifndef VMS_ACCESS_GDB_H
#define VMS_ACCESS_GDB_H

#include "../core/core.h"

struct vms_gdb;

/* Connect to the stub at @addr: "unix:PATH", "tcp:HOST:PORT" or
 * "HOST:PORT" (kept as is for messages: it must outlive the client).
 * QEMU stops the guest when a client connects; the caller resumes it. */
int vms_gdb_open(struct vms_ctx *ctx, const char *addr, struct vms_gdb **ret);
/* Close the connection without a word to the stub. */
void vms_gdb_close(struct vms_gdb *g);

/* Why the guest stopped. */
enum vms_gdb_why {
	VMS_GDB_TRAP,		/* a breakpoint or a finished step (SIGTRAP) */
	VMS_GDB_INT,		/* interrupted: our 0x03, or a stop over QMP */
	VMS_GDB_OTHER,		/* any other signal */
	VMS_GDB_GONE,		/* W or X: nothing left to debug */
};

struct vms_gdb_stop {
	enum vms_gdb_why why;
	uint8_t signal;		/* the GDB signal number */
	uint32_t thread;	/* the stopped vCPU's thread id (index + 1);
				 * 0 when the reply names none */
};

/* Run one command and take its reply: @pkt is the packet's payload;
 * the reply's payload (run-length expanded) goes into @reply, at most
 * @max - 1 bytes and NUL-terminated. A stop reply that arrives first
 * (QEMU announces the stop it makes on connection) is kept for
 * vms_gdb_wait() and skipped. */
int vms_gdb_cmd(struct vms_gdb *g, const char *pkt, char *reply, size_t max);

/* Plant a breakpoint at kernel virtual address @va: a hardware one (Z1)
 * when the stub gives one, else a software one (Z0). *@hw says which. */
int vms_gdb_break(struct vms_gdb *g, uint64_t va, bool *hw);
/* Remove the breakpoint planted at @va (hardware if @hw). */
int vms_gdb_unbreak(struct vms_gdb *g, uint64_t va, bool hw);

/* The general registers of @thread, indexed by VMS_RAX.. (source.h),
 * and rip, and the GS base (0 when the stub does not send it). */
struct vms_gdb_regs {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t gs_base;
};
int vms_gdb_regs(struct vms_gdb *g, uint32_t thread, struct vms_gdb_regs *ret);

/* Let every vCPU run (c); no reply until the next stop. */
int vms_gdb_cont(struct vms_gdb *g);
/* Step @thread over one instruction while the others run; the stop
 * follows as from vms_gdb_cont(). */
int vms_gdb_step(struct vms_gdb *g, uint32_t thread);
/* Ask the running guest to stop (the 0x03 byte); the stop follows. */
int vms_gdb_interrupt(struct vms_gdb *g);
/* Wait at most @timeout_ms (< 0: the default deadline) for the stop:
 * 1 with *@ret, 0 at the timeout, -EINTR when a signal came. */
int vms_gdb_wait(struct vms_gdb *g, int timeout_ms, struct vms_gdb_stop *ret);
/* Whether a stop has been received and not yet taken by vms_gdb_wait(). */
bool vms_gdb_stop_pending(const struct vms_gdb *g);
/* D: the stub removes every breakpoint and lets the guest run. */
int vms_gdb_detach(struct vms_gdb *g);

/* The file descriptor, for a caller's poll(). */
int vms_gdb_fd(const struct vms_gdb *g);

/* Parse a stop reply's payload (T05thread:02;... S05 W00 X09). */
int vms_gdb_parse_stop(const char *pkt, struct vms_gdb_stop *ret);

#endif
