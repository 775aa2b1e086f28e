/* SPDX-License-Identifier: MIT */
/*
 * The shared context: the first-error record and the log callback. The
 * library never prints; messages go to the callback or nowhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

void vms_ctx_init(struct vms_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->max_tasks = 4194304; /* PID_MAX_LIMIT on 64-bit */
	ctx->max_memory = VMS_MAX_MEMORY_DEFAULT;
	ctx->max_seconds = VMS_MAX_SECONDS_DEFAULT;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * The clock is read lazily. An operation that never ticks, one read or
 * one translation through the API (millions a second), reads it never:
 * in a VM a clock read can cost more than the translation. One that
 * ticks reads it at its first tick, when its time starts.
 */
void vms_op_begin(struct vms_ctx *ctx)
{
	ctx->deadline_ns = 0;
	ctx->ticks = 1023; /* the next tick reads the clock */
}

int vms_tick(struct vms_ctx *ctx)
{
	uint64_t now;

	if (!ctx->max_seconds || ++ctx->ticks < 1024)
		return 0;
	ctx->ticks = 0;
	now = mono_ns();
	if (!ctx->deadline_ns) {
		ctx->deadline_ns = now + (uint64_t)ctx->max_seconds *
					       1000000000u;
		return 0;
	}
	if (now < ctx->deadline_ns)
		return 0;
	return vms_err(ctx, -ETIMEDOUT, "core",
		       "the operation ran past its cap of %u s (a guest that "
		       "makes vmsight walk without end, or a very large "
		       "one: --max-time raises the cap)", ctx->max_seconds);
}

int vms_cap(struct vms_ctx *ctx, uint64_t n, uint64_t size, const char *what,
	    uint64_t addr)
{
	uint64_t bytes;
	char need[64];

	if (!vms_mul_overflows(n, size, &bytes) && bytes <= ctx->max_memory &&
	    bytes <= SIZE_MAX)
		return 0;
	if (size == 1)
		snprintf(need, sizeof(need), "%llu bytes",
			 (unsigned long long)n);
	else
		snprintf(need, sizeof(need), "%llu entries of %llu bytes",
			 (unsigned long long)n, (unsigned long long)size);
	return vms_err_at(ctx, -E2BIG, "core", addr,
			  "%s at %#llx would take %s, over the cap of %llu "
			  "MiB on one buffer (--max-memory raises it)", what,
			  (unsigned long long)addr, need,
			  (unsigned long long)(ctx->max_memory >> 20));
}

int vms_alloc(struct vms_ctx *ctx, void *retp, uint64_t n, uint64_t size,
	      const char *what, uint64_t addr)
{
	void **ret = retp;
	size_t bytes;
	int err;

	*ret = NULL;
	if ((err = vms_cap(ctx, n, size, what, addr)))
		return err;
	bytes = (size_t)(n * size); /* vms_cap() bounded it to SIZE_MAX */
	if (!(*ret = malloc(bytes ? bytes : 1)))
		return -ENOMEM;
	return 0;
}

static int err_record(struct vms_ctx *ctx, int code, const char *layer,
		      bool has_addr, uint64_t addr, const char *fmt,
		      va_list ap) VMS_PRINTF(6, 0);

static int err_record(struct vms_ctx *ctx, int code, const char *layer,
		      bool has_addr, uint64_t addr, const char *fmt,
		      va_list ap)
{
	if (ctx->err.code)
		return code;
	ctx->err.code = code;
	ctx->err.layer = layer;
	ctx->err.has_addr = has_addr;
	ctx->err.addr = addr;
	vsnprintf(ctx->err.msg, sizeof(ctx->err.msg), fmt, ap);
	vms_log(ctx, VMS_LOG_DEBUG, "error recorded: %s", ctx->err.msg);
	return code;
}

int vms_err(struct vms_ctx *ctx, int code, const char *layer,
	    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_record(ctx, code, layer, false, 0, fmt, ap);
	va_end(ap);
	return code;
}

int vms_err_at(struct vms_ctx *ctx, int code, const char *layer,
	       uint64_t addr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_record(ctx, code, layer, true, addr, fmt, ap);
	va_end(ap);
	return code;
}

void vms_err_clear(struct vms_ctx *ctx)
{
	memset(&ctx->err, 0, sizeof(ctx->err));
}

bool vms_torn(struct vms_ctx *ctx, int err, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (!ctx->racing || err >= 0 || err == -ENOMEM || err == -E2BIG ||
	    err == -ETIMEDOUT)
		return false;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vms_log(ctx, VMS_LOG_WARN,
		"%s changed while it was read and is left out (%s)", what,
		ctx->err.code ? ctx->err.msg : strerror(-err));
	vms_err_clear(ctx);
	if (ctx->torn < UINT32_MAX)
		ctx->torn++;
	return true;
}

void vms_log(struct vms_ctx *ctx, enum vms_log_level level, const char *fmt,
	     ...)
{
	char buf[512];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->log(level, buf, ctx->log_arg);
}

void vms_progress(struct vms_ctx *ctx, uint64_t done, uint64_t total,
		  const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!ctx->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->progress(buf, done, total, ctx->progress_arg);
}

int vms_grow(struct vms_ctx *ctx, void *arrp, size_t *cap, size_t n,
	     size_t size, size_t first, size_t max)
{
	void **arr = arrp, *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if (ncap <= n)
		ncap = n + 1; /* a caller that needs more than double */
	if (ncap > max)
		ncap = max;
	if (ncap <= n)
		return -E2BIG;
	if (ctx && ncap > ctx->max_memory / size) {
		ncap = (size_t)(ctx->max_memory / size);
		if (ncap <= n) {
			char what[64] = "";
			if (size > 1)
				snprintf(what, sizeof(what),
					 " (%zu entries of %zu)", n + 1, size);
			return vms_err(ctx, -E2BIG, "core",
				       "a table that guest data grows needs "
				       "%llu bytes%s, over the cap of %llu "
				       "MiB on one buffer (--max-memory "
				       "raises it)",
				       (unsigned long long)(n + 1) * size,
				       what,
				       (unsigned long long)(ctx->max_memory >>
							    20));
		}
	}
	if (ncap > SIZE_MAX / size || !(p = realloc(*arr, ncap * size)))
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

void vms_addrset_init(struct vms_addrset *set)
{
	memset(set, 0, sizeof(*set));
}

void vms_addrset_fini(struct vms_addrset *set)
{
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* The slot holding @key, or the empty slot where it would go (linear
 * probing; the table is never more than half full). */
static size_t probe(const uint64_t *slots, size_t cap, uint64_t key)
{
	size_t i = hash64(key) & (cap - 1);
	while (slots[i] && slots[i] != key)
		i = (i + 1) & (cap - 1);
	return i;
}

bool vms_addrset_has(const struct vms_addrset *set, uint64_t key)
{
	return key && set->cap &&
	       set->slots[probe(set->slots, set->cap, key)] == key;
}

int vms_addrset_add(struct vms_addrset *set, uint64_t key)
{
	if (!key)
		return 0;
	if ((set->len + 1) * 2 > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 64;
		uint64_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i])
				n[probe(n, ncap, set->slots[i])] =
					set->slots[i];
		free(set->slots);
		set->slots = n;
		set->cap = ncap;
	}
	size_t i = probe(set->slots, set->cap, key);
	if (set->slots[i])
		return 0;
	set->slots[i] = key;
	set->len++;
	return 1;
}
