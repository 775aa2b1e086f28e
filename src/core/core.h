/* SPDX-License-Identifier: MIT */
/*
 * core: the context every layer shares (error record, log callback,
 * bounds) and small helpers. It knows nothing of sources, paging or
 * Linux; the layers above it pass a struct vms_ctx down.
 */
#ifndef VMS_CORE_H
#define VMS_CORE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <vmsight/vmsight.h>

#define VMS_HIDDEN __attribute__((visibility("hidden")))
#define VMS_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define VMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VMS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VMS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* qsort() of @n elements that may be none at a NULL @base (qsort()'s
 * pointer must not be NULL even then): guest data decides how many. */
static inline void vms_qsort(void *base, size_t n, size_t size,
			     int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* The one error a call chain reports: recorded once, by the layer that
 * detected it, and kept until cleared. */
struct vms_error {
	int code;		/* negative errno, 0 when none is recorded */
	const char *layer;	/* "access", "arch", "linux", ... */
	bool has_addr;		/* @addr is meaningful */
	uint64_t addr;		/* guest address or file offset involved */
	char msg[512];		/* one line, no newline */
};

struct vms_ctx {
	struct vms_error err;	/* first unreported error */
	vms_log_fn log;		/* log callback, may be NULL */
	void *log_arg;		/* passed to @log */
	uint32_t max_tasks;	/* bound on task-list walks */
	vms_progress_fn progress; /* progress callback, may be NULL */
	void *progress_arg;	/* passed to @progress */
	bool racing;		/* reads race a running guest (see vms_torn) */
	uint32_t torn;		/* objects vms_torn() let a walk skip */
	/* Resource caps (vms_alloc, vms_tick): the guest chooses sizes
	 * and lengths, the host these bounds. */
	uint64_t max_memory;	/* bytes of one buffer sized by guest data */
	uint32_t max_seconds;	/* time of one operation; 0: no cap */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC end of this one; 0: not
				 * set yet (vms_op_begin) */
	uint32_t ticks;		/* vms_tick calls since the clock was read */
};

#define VMS_MAX_MEMORY_DEFAULT (512ull << 20)
#define VMS_MAX_SECONDS_DEFAULT 600u

void vms_ctx_init(struct vms_ctx *ctx);

/* An operation (one library call that walks the guest, or one step of a
 * watch) starts: its max_seconds run from its first vms_tick. */
void vms_op_begin(struct vms_ctx *ctx);
/* A unit of a walk or scan is done: -ETIMEDOUT, recorded, once the
 * operation has run past its max_seconds (the clock is read every 1024
 * ticks, so a tick costs an increment). */
int vms_tick(struct vms_ctx *ctx);
/* malloc(@n * @size) for a buffer whose size guest data chose (@what,
 * described at guest address or offset @addr): -E2BIG, recorded, over
 * ctx->max_memory or on overflow; -ENOMEM. */
int vms_alloc(struct vms_ctx *ctx, void *retp, uint64_t n, uint64_t size,
	      const char *what, uint64_t addr);
/* vms_alloc()'s check alone, for a buffer of @n * @size that a library
 * allocates on vmsight's behalf (libbpf copies the BTF blob it is
 * given): 0 when it fits, else the same recorded -E2BIG. */
int vms_cap(struct vms_ctx *ctx, uint64_t n, uint64_t size, const char *what,
	    uint64_t addr);

/* Record an error (unless one is already recorded) and return @code, so
 * that callers can write "return vms_err(...)". */
int vms_err(struct vms_ctx *ctx, int code, const char *layer,
	    const char *fmt, ...) VMS_PRINTF(4, 5);
/* The same, with the guest address or file offset involved. */
int vms_err_at(struct vms_ctx *ctx, int code, const char *layer,
	       uint64_t addr, const char *fmt, ...) VMS_PRINTF(5, 6);
void vms_err_clear(struct vms_ctx *ctx);

/*
 * A walk failed to read or decode one object (@err, recorded in @ctx).
 * While the reads race a running guest (a live source without --pause),
 * that is what an object freed, reused or half-written under the read
 * looks like, not proof of a broken or forged kernel: then the error
 * becomes a warning naming @what (a printf format) and the recorded
 * error, it is counted in ctx->torn and cleared, and true tells the
 * caller to skip the object (or to end its list there). Otherwise, and
 * always for -ENOMEM, -E2BIG and -ETIMEDOUT (the host's limits, not the
 * guest's state), the error stands and false is returned.
 */
bool vms_torn(struct vms_ctx *ctx, int err, const char *fmt, ...)
	VMS_PRINTF(3, 4);

void vms_log(struct vms_ctx *ctx, enum vms_log_level level,
	     const char *fmt, ...) VMS_PRINTF(3, 4);
/* Report progress: @done of @total (0: unknown), the step named by
 * @fmt. Nothing without a callback. */
void vms_progress(struct vms_ctx *ctx, uint64_t done, uint64_t total,
		  const char *fmt, ...) VMS_PRINTF(4, 5);

/*
 * Make room for element @n of the array at *@arrp (elements of @size
 * bytes, *@cap allocated): when full, double the capacity (or start at
 * @first), or more if element @n needs it. 0 once there is room;
 * -E2BIG past @max elements (the caller says what overflowed), or past
 * @ctx's max_memory bytes (recorded here: guest data decides how far
 * such an array grows); -ENOMEM. @ctx is NULL for arrays that only host
 * data grows.
 */
int vms_grow(struct vms_ctx *ctx, void *arrp, size_t *cap, size_t n,
	     size_t size, size_t first, size_t max);

/* Overflow-checked arithmetic for untrusted sizes. */
static inline bool vms_add_overflows(uint64_t a, uint64_t b, uint64_t *ret)
{
	return __builtin_add_overflow(a, b, ret);
}

static inline bool vms_mul_overflows(uint64_t a, uint64_t b, uint64_t *ret)
{
	return __builtin_mul_overflow(a, b, ret);
}

static inline uint16_t vms_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t vms_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t vms_le64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)vms_le32(b) | (uint64_t)vms_le32(b + 4) << 32;
}

static inline uint64_t vms_be64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * A set of 64-bit keys, for cycle detection in guest lists. Open
 * addressing; grows by doubling. Key 0 is never stored (NULL pointers
 * end walks before they reach the set).
 */
struct vms_addrset {
	uint64_t *slots;	/* 0 marks an empty slot */
	size_t cap;		/* power of two */
	size_t len;		/* keys stored */
};

void vms_addrset_init(struct vms_addrset *set);
void vms_addrset_fini(struct vms_addrset *set);
/* 1 if inserted, 0 if already present, -ENOMEM. */
int vms_addrset_add(struct vms_addrset *set, uint64_t key);
bool vms_addrset_has(const struct vms_addrset *set, uint64_t key);

#endif /* VMS_CORE_H */
