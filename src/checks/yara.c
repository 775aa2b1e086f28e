/* SPDX-License-Identifier: MIT */
/*
 * yara: the user's YARA rules over guest memory, by virtual address.
 *
 * What is scanned, one scan (and so one set of rule verdicts) per object:
 *  - every user process: all of its memory areas, through its own page
 *    tables, so a string that crosses a page boundary is found even
 *    though the two pages lie anywhere in physical memory;
 *  - the kernel image's sections, through the kernel's page tables:
 *    text, read-only data, data and bss. Not the rest of _text.._end:
 *    the kernel frees its init sections and the alignment gaps between
 *    sections after boot (free_kernel_image_pages(), v4.20+), and their
 *    pages, still mapped at their old image addresses unless PTI is on,
 *    hold whatever the page allocator gave them to since (a module's
 *    code, for one). The same holds inside bss for the unused part of
 *    .bss..decrypted, which free_decrypted_mem() frees (v4.20+): the
 *    lab saw a page-cache page of a tmpfs file there;
 *  - every module's memory regions, for modules on the module list and
 *    modules found only in sysfs (a hidden module is scanned too).
 * The direct map (all of RAM, page cache included) is not "kernel
 * memory" here: scanning it would report every file's cached pages.
 *
 * libyara scans a list of memory blocks (yr_scanner_scan_mem_blocks).
 * One block is a run of resident pages inside one area, at most
 * BLOCK_MAX bytes; a longer run continues in a block that starts
 * BLOCK_OVERLAP bytes before the previous one ended, so that a match of
 * up to BLOCK_OVERLAP bytes is never split. Matches seen twice in an
 * overlap are reported once. Pages that are not resident end a block;
 * the MMU reports the whole span each failed walk proved empty, so an
 * area of terabytes with a few resident pages costs a few walks.
 *
 * The guest controls its page tables: they may alias one page across a
 * whole address space. Each object's scan is bounded by bytes (twice the
 * guest's RAM) and by page walks (eight per page of RAM, at least 16M);
 * a scan cut short is itself a finding, never a silent partial result.
 *
 * Processes are scanned in parallel, one libyara scanner per worker
 * thread (struct pool); their findings come out in task-list order, the
 * same whatever the number of threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yara.h>

#include "checks.h"
#include "../core/dynlib.h"

#define LAYER "checks"
#define BLOCK_MAX (4u << 20)
#define BLOCK_OVERLAP (64u << 10)
#define MAX_MATCHES 4096	/* kept per rule and object, for dedupe */
#define SHOW_MATCHES 8		/* listed in a finding's evidence */
#define SHOW_BYTES 48		/* of each listed match */
#define SCAN_TIMEOUT 600	/* seconds per object (libyara's timer) */
/* Processes are scanned by up to MAX_WORKERS threads (one per online
 * CPU), JOBS of them in flight; YR_MAX_THREADS (32) bounds how many
 * scanners may use one set of rules at once. */
#define MAX_WORKERS 8
#define JOBS 32

struct vms_yara {
	YR_RULES *rules;
};

/* libyara (and the libcrypto, libmagic and libjansson it brings),
 * opened by the first rules loaded. */
static struct {
	__typeof__(&yr_initialize) yr_initialize;
	__typeof__(&yr_finalize) yr_finalize;
	__typeof__(&yr_rules_load) yr_rules_load;
	__typeof__(&yr_rules_destroy) yr_rules_destroy;
	__typeof__(&yr_compiler_create) yr_compiler_create;
	__typeof__(&yr_compiler_destroy) yr_compiler_destroy;
	__typeof__(&yr_compiler_set_callback) yr_compiler_set_callback;
	__typeof__(&yr_compiler_add_file) yr_compiler_add_file;
	__typeof__(&yr_compiler_get_rules) yr_compiler_get_rules;
	__typeof__(&yr_scanner_create) yr_scanner_create;
	__typeof__(&yr_scanner_destroy) yr_scanner_destroy;
	__typeof__(&yr_scanner_set_callback) yr_scanner_set_callback;
	__typeof__(&yr_scanner_set_flags) yr_scanner_set_flags;
	__typeof__(&yr_scanner_set_timeout) yr_scanner_set_timeout;
	__typeof__(&yr_scanner_scan_mem_blocks) yr_scanner_scan_mem_blocks;
} Y;

static const struct vms_dynsym yara_syms[] = {
	VMS_DYNSYM(Y, yr_initialize),
	VMS_DYNSYM(Y, yr_finalize),
	VMS_DYNSYM(Y, yr_rules_load),
	VMS_DYNSYM(Y, yr_rules_destroy),
	VMS_DYNSYM(Y, yr_compiler_create),
	VMS_DYNSYM(Y, yr_compiler_destroy),
	VMS_DYNSYM(Y, yr_compiler_set_callback),
	VMS_DYNSYM(Y, yr_compiler_add_file),
	VMS_DYNSYM(Y, yr_compiler_get_rules),
	VMS_DYNSYM(Y, yr_scanner_create),
	VMS_DYNSYM(Y, yr_scanner_destroy),
	VMS_DYNSYM(Y, yr_scanner_set_callback),
	VMS_DYNSYM(Y, yr_scanner_set_flags),
	VMS_DYNSYM(Y, yr_scanner_set_timeout),
	VMS_DYNSYM(Y, yr_scanner_scan_mem_blocks),
};

static struct vms_dynlib yara_lib = {
	.soname = VMS_SONAME_YARA, .what = "the yara check",
	.syms = yara_syms, .nsyms = VMS_ARRAY_SIZE(yara_syms),
};

/* ------------------------------------------------------------------ */
/* Loading rules                                                       */
/* ------------------------------------------------------------------ */

struct compile_err {
	const char *path;
	char *err;
	size_t errlen;
	int errors;
};

static void on_compile(int level, const char *file, int line,
		       const YR_RULE *rule, const char *msg, void *arg)
{
	struct compile_err *ce = arg;

	(void)rule;
	if (level != YARA_ERROR_LEVEL_ERROR || ce->errors++)
		return; /* the first error is the one to fix */
	if (ce->err && ce->errlen)
		snprintf(ce->err, ce->errlen, "%s:%d: %s",
			 file ? file : ce->path, line, msg);
}

/* "PATH: why" into @err; returns @r. */
static int set_err(char *err, size_t errlen, int r, const char *path,
		   const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

int vms_yara_load(const char *path, struct vms_yara **ret, char *err,
		  size_t errlen)
{
	struct compile_err ce = { .path = path, .err = err,
				  .errlen = errlen };
	YR_COMPILER *comp = NULL;
	struct vms_yara *y;
	char magic[4] = { 0 };
	struct vms_ctx lib_ctx;
	FILE *f;
	int r;

	if (!path || !ret)
		return -EINVAL;
	vms_ctx_init(&lib_ctx);
	*ret = NULL;
	if (err && errlen)
		err[0] = 0;
	if (vms_dynlib_load(&lib_ctx, &yara_lib))
		return set_err(err, errlen, -ENOSYS, path, lib_ctx.err.msg);
	if (!(f = fopen(path, "re")))
		return set_err(err, errlen, -errno, path, strerror(errno));
	if (!(y = calloc(1, sizeof(*y)))) {
		fclose(f);
		return -ENOMEM;
	}
	if (Y.yr_initialize() != ERROR_SUCCESS) {
		fclose(f);
		free(y);
		return set_err(err, errlen, -ENOMEM, path,
			       "libyara could not initialise");
	}
	/* Rules compiled by yarac start with "YARA"; rule source cannot. */
	if (fread(magic, 1, 4, f) == 4 && !memcmp(magic, "YARA", 4)) {
		fclose(f);
		r = Y.yr_rules_load(path, &y->rules);
		if (r != ERROR_SUCCESS) {
			/* Another version's format and a corrupt file
			 * are told apart only by a version field. */
			r = set_err(err, errlen, -EINVAL, path,
				    "not compiled rules that YARA " YR_VERSION
				    " can load; give their source, or compile "
				    "them with this version's yarac");
			goto fail;
		}
		*ret = y;
		return 0;
	}
	rewind(f);
	if (Y.yr_compiler_create(&comp) != ERROR_SUCCESS) {
		fclose(f);
		r = -ENOMEM;
		goto fail;
	}
	Y.yr_compiler_set_callback(comp, on_compile, &ce);
	/* Y.yr_compiler_add_file() names @path in messages and resolves
	 * include directives relative to it. */
	if (Y.yr_compiler_add_file(comp, f, NULL, path) || ce.errors) {
		fclose(f);
		r = ce.errors ? -EINVAL
			      : set_err(err, errlen, -EINVAL, path,
					"the rules do not compile");
		goto fail;
	}
	fclose(f);
	if (Y.yr_compiler_get_rules(comp, &y->rules) != ERROR_SUCCESS) {
		r = set_err(err, errlen, -ENOMEM, path,
			    "out of memory compiling the rules");
		goto fail;
	}
	Y.yr_compiler_destroy(comp);
	*ret = y;
	return 0;
fail:
	if (comp)
		Y.yr_compiler_destroy(comp);
	free(y);
	Y.yr_finalize();
	return r;
}

void vms_yara_destroy(struct vms_yara *y)
{
	if (!y)
		return;
	Y.yr_rules_destroy(y->rules);
	free(y);
	Y.yr_finalize();
}

/* ------------------------------------------------------------------ */
/* Memory blocks                                                       */
/* ------------------------------------------------------------------ */

struct blocks {
	struct vms_kernel *k;
	uint64_t root;			/* page tables to read through */
	const struct vms_range *r;	/* areas, [start, start + len) */
	size_t nr, ri;			/* areas, the one being read */
	uint64_t pos;			/* next address to read in it */
	uint8_t *buf;			/* BLOCK_MAX bytes */
	YR_MEMORY_BLOCK blk;
	uint64_t bytes, walks;		/* spent on this object */
	uint64_t max_bytes, max_walks;	/* bounds */
	const char *stopped;		/* why the scan was cut short */
	bool late;			/* past the operation's time cap */
	pthread_mutex_t *lock;		/* held to read the guest, or NULL */
	struct vms_error why;		/* the time cap's error, if late */
};

static const uint8_t *block_data(YR_MEMORY_BLOCK *blk)
{
	return ((struct blocks *)blk->context)->buf;
}

/* Translate @va, counting the walk; on failure *@skip is where the next
 * possibly mapped address is (0: not in this area). */
static bool resident(struct blocks *b, uint64_t va, uint64_t *pa,
		     uint64_t *psize, uint64_t *skip)
{
	uint64_t span;

	b->walks++;
	if (!vms_mmu_translate(&b->k->mmu, b->root, va, pa, psize, true))
		return true;
	span = *psize;
	*skip = span ? (va & ~(span - 1)) + span : 0;
	if (*skip <= va)
		*skip = 0; /* wrapped past the top of the address space */
	return false;
}

/* The next run of resident pages, as one block; NULL at the end. The
 * caller holds b->lock, if any. */
static YR_MEMORY_BLOCK *next_block(YR_MEMORY_BLOCK_ITERATOR *it)
{
	struct blocks *b = it->context;

	it->last_error = ERROR_SUCCESS;
	while (b->ri < b->nr && !b->stopped) {
		const struct vms_range *r = &b->r[b->ri];
		uint64_t end = r->start + r->len, pa, psize, skip;
		size_t len = 0;

		/* Areas need not be in address order (a module's regions
		 * are in mod_mem_type order): each is read from its start,
		 * and pos == 0 means "not begun". */
		if (!b->pos)
			b->pos = r->start;
		if (b->pos >= end || end < r->start) {
			b->ri++;
			b->pos = 0;
			continue;
		}
		if (b->walks >= b->max_walks) {
			b->stopped = "page walks";
			break;
		}
		if (vms_tick(b->k->ctx)) {
			/* Recorded; kept too, since another thread's scan
			 * may clear the context's error before this one's
			 * job is emitted. */
			b->late = true;
			b->why = b->k->ctx->err;
			break;
		}
		if (!resident(b, b->pos, &pa, &psize, &skip)) {
			if (!skip || skip >= end) {
				b->ri++;
				b->pos = 0;
			} else {
				b->pos = skip;
			}
			continue;
		}
		/* Gather a run of resident bytes. */
		uint64_t start = b->pos;
		while (len < BLOCK_MAX && b->pos < end) {
			uint64_t in_page = psize - (pa & (psize - 1));
			size_t n = (size_t)VMS_MIN(VMS_MIN(in_page, end - b->pos),
						   BLOCK_MAX - len);
			struct vms_error before = b->k->ctx->err;

			if (vms_source_read(b->k->src, pa, b->buf + len, n)) {
				/* Mapped but not in the dump (a device
				 * page, or memory the dump left out). The
				 * context's error is left as it was: it may
				 * be another thread's. */
				b->k->ctx->err = before;
				if (!len)
					b->pos = (b->pos | 0xfff) + 1;
				break;
			}
			len += n;
			b->pos += n;
			if (len == BLOCK_MAX || b->pos >= end ||
			    b->walks >= b->max_walks)
				break;
			if (!resident(b, b->pos, &pa, &psize, &skip))
				break;
		}
		if (!len)
			continue;
		if (len == BLOCK_MAX && b->pos < end)
			b->pos -= BLOCK_OVERLAP; /* the next block overlaps */
		b->bytes += len;
		if (b->bytes > b->max_bytes)
			b->stopped = "bytes";
		b->blk = (YR_MEMORY_BLOCK){ .size = len, .base = start,
					    .context = b,
					    .fetch_data = block_data };
		return &b->blk;
	}
	return NULL;
}

/* libyara's iterator. The memory layer (translation caches, a
 * compressed dump's page cache, the context's error) is not shared
 * between threads: a scan in a worker thread reads the guest under
 * b->lock, and libyara's matching, most of the time, runs outside it. */
static YR_MEMORY_BLOCK *block_next(YR_MEMORY_BLOCK_ITERATOR *it)
{
	struct blocks *b = it->context;
	YR_MEMORY_BLOCK *blk;

	if (b->lock)
		pthread_mutex_lock(b->lock);
	blk = next_block(it);
	if (b->lock)
		pthread_mutex_unlock(b->lock);
	return blk;
}

static YR_MEMORY_BLOCK *block_first(YR_MEMORY_BLOCK_ITERATOR *it)
{
	struct blocks *b = it->context;

	b->ri = 0;
	b->pos = 0;
	b->bytes = b->walks = 0;
	b->stopped = NULL;
	b->late = false;
	return block_next(it);
}

/* ------------------------------------------------------------------ */
/* Matches                                                             */
/* ------------------------------------------------------------------ */

struct hit {
	uint64_t addr;
	const char *string;	/* the rule's string identifier, "$a" */
	const uint8_t *data;	/* libyara's copy, valid in the callback */
	int32_t len;
};

/* A finding a worker made, kept for the main thread to emit. */
struct held {
	struct held *next;
	uint64_t target;
	char *owner;
	char evidence[];
};

/* One process, scanned by a worker (see vms_check_yara()). */
struct job {
	char object[160];	/* "pid 57 (sh)" */
	uint64_t addr;		/* its task_struct */
	uint64_t root;		/* its page tables */
	struct vms_vma_list l;	/* its areas */
	struct vms_range *r;	/* the same, as ranges */
	bool scan;		/* false: only its held finding (no map) */
	bool done;		/* scanned; the main thread emits it */
	int err;		/* scan_object()'s, if negative */
	struct vms_error why;	/* with -ETIMEDOUT: the time cap's error */
	struct held *held, **tail; /* its findings, in order */
};

/* A scanner, and the object being scanned. */
struct scan {
	struct vms_chk *c;
	struct job *job;	/* findings are held here, if set */
	pthread_mutex_t *lock;	/* held to read the guest, or NULL */
	struct vms_error why;	/* a scan past the time cap: its error */
	YR_SCANNER *sc;		/* for c->yara's rules */
	uint8_t *buf;		/* BLOCK_MAX bytes, the block being read */
	const char *object;	/* "pid 57 (sh)", "kernel", "module rk" */
	uint64_t addr;		/* its task_struct or struct module */
	const struct vms_vma_list *vmas; /* a process's areas, or NULL */
	const char *module;	/* a module's name, or NULL */
	bool kernel;		/* the kernel image */
	struct hit *hits;	/* MAX_MATCHES */
	int err;		/* from the finding callback */
};

/* A finding on the object being scanned: emitted, or held in its job
 * for the main thread, which emits the jobs in task-list order, so that
 * the output is the same whatever the number of workers. */
static int found(struct scan *s, const char *evidence, uint64_t target,
		 const char *owner)
{
	size_t n = strlen(evidence) + 1;
	struct held *h;

	if (!s->job)
		return vms_chk_emit(s->c, s->object, evidence, s->addr, target,
				    owner);
	if (!(h = malloc(sizeof(*h) + n)) || !(h->owner = strdup(owner))) {
		free(h);
		return -ENOMEM;
	}
	memcpy(h->evidence, evidence, n);
	h->target = target;
	h->next = NULL;
	*s->job->tail = h;
	s->job->tail = &h->next;
	return 0;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->string, y->string);
}

/* Printable bytes as they are, the rest as \xNN. */
static size_t show_bytes(char *out, size_t len, const uint8_t *d, int32_t n)
{
	size_t o = 0;

	for (int32_t i = 0; i < n && i < SHOW_BYTES && o + 5 < len; i++) {
		if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '"' && d[i] != '\\')
			out[o++] = (char)d[i];
		else
			o += (size_t)snprintf(out + o, len - o, "\\x%02x",
					      d[i]);
	}
	out[o] = 0;
	return o;
}

/* What holds @addr in the scanned object, for the finding's owner. */
static void owner_of(struct scan *s, uint64_t addr, char *out, size_t len)
{
	snprintf(out, len, "%s", s->module ? s->module : "");
	if (s->vmas) {
		for (size_t i = 0; i < s->vmas->n; i++) {
			const struct vms_vma *v = &s->vmas->v[i];
			if (addr >= v->start && addr < v->end) {
				snprintf(out, len, "%.*s", (int)len - 1,
					 v->name[0] ? v->name : "anonymous");
				break;
			}
		}
	} else if (s->kernel) {
		vms_chk_sym_off(s->c, addr, out, len);
	}
}

/* libyara allocates its matches from a notebook whose allocations were
 * not rounded up to 8 bytes in every release (Debian 12's 4.2.3 gave a
 * YR_MATCH at an address ending in 2 under UBSan); later releases round
 * them. x86-64 reads a misaligned YR_MATCH all the same, so the
 * sanitizer build is told not to flag those reads. */
__attribute__((no_sanitize("alignment")))
static int report(YR_SCAN_CONTEXT *ctx, struct scan *s, const YR_RULE *rule)
{
	char evidence[2048], owner[256];
	size_t n = 0, total = 0, o, shown = 0;
	const YR_STRING *str;
	const YR_MATCH *m;

	yr_rule_strings_foreach(rule, str)
	{
		yr_string_matches_foreach(ctx, str, m)
		{
			total++;
			if (n == MAX_MATCHES)
				continue;
			s->hits[n++] = (struct hit){
				.addr = (uint64_t)(m->base + m->offset),
				.string = str->identifier,
				.data = m->data, .len = m->data_length };
		}
	}
	vms_qsort(s->hits, n, sizeof(*s->hits), hit_cmp);
	/* Drop the copies that overlapping blocks produced. */
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || hit_cmp(&s->hits[u - 1], &s->hits[i]))
			s->hits[u++] = s->hits[i];
		else
			total--;
	n = u;
	o = (size_t)snprintf(evidence, sizeof(evidence), "rule %s",
			     rule->identifier);
	if (rule->ns && rule->ns->name && strcmp(rule->ns->name, "default"))
		o += (size_t)snprintf(evidence + o, sizeof(evidence) - o,
				      " (namespace %s)", rule->ns->name);
	if (!total) {
		/* A rule whose condition holds without a string match
		 * ("filesize < 10" or "true"). */
		snprintf(evidence + o, sizeof(evidence) - o,
			 " matches, without string matches");
		snprintf(owner, sizeof(owner), "%s",
			 s->module ? s->module : "");
		return found(s, evidence, 0, owner);
	}
	o += (size_t)snprintf(evidence + o, sizeof(evidence) - o,
			      " matches: %zu string match%s", total,
			      total == 1 ? "" : "es");
	for (size_t i = 0; i < n && shown < SHOW_MATCHES &&
			   o + 200 < sizeof(evidence); i++, shown++) {
		char bytes[SHOW_BYTES * 4 + 1];
		show_bytes(bytes, sizeof(bytes), s->hits[i].data,
			   s->hits[i].len);
		o += (size_t)snprintf(evidence + o, sizeof(evidence) - o,
				      "%s %s at %#llx \"%s%s\"",
				      i ? "," : ";", s->hits[i].string,
				      (unsigned long long)s->hits[i].addr,
				      bytes,
				      s->hits[i].len > SHOW_BYTES ? "..."
								  : "");
	}
	if (shown < total)
		snprintf(evidence + o, sizeof(evidence) - o,
			 ", and %zu more", total - shown);
	owner_of(s, s->hits[0].addr, owner, sizeof(owner));
	return found(s, evidence, s->hits[0].addr, owner);
}

static int on_scan(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	struct scan *s = arg;

	if (msg != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE; /* too many matches: keep going */
	if ((s->err = report(ctx, s, data)) < 0)
		return CALLBACK_ABORT;
	s->err = 0;
	return CALLBACK_CONTINUE;
}

/* Scan @nr areas of one object through page tables @root. */
static int scan_object(struct scan *s, uint64_t root,
		       const struct vms_range *r, size_t nr, bool process)
{
	struct vms_chk *c = s->c;
	YR_SCANNER *sc = s->sc;
	uint64_t ram = 0;
	struct blocks b = { .k = c->k, .root = root, .r = r, .nr = nr,
			    .buf = s->buf, .lock = s->lock };
	YR_MEMORY_BLOCK_ITERATOR it = { .context = &b, .first = block_first,
					.next = block_next };
	char evidence[256];
	int yr;

	for (size_t i = 0; i < c->k->src->nsegs; i++)
		ram += c->k->src->segs[i].size;
	b.max_bytes = 2 * ram;
	b.max_walks = VMS_MAX(8 * (ram >> 12), 1ull << 24);
	Y.yr_scanner_set_callback(sc, on_scan, s);
	Y.yr_scanner_set_flags(sc, SCAN_FLAGS_NO_TRYCATCH |
				 (process ? SCAN_FLAGS_PROCESS_MEMORY : 0));
	s->err = 0;
	yr = Y.yr_scanner_scan_mem_blocks(sc, &it);
	if (s->err < 0)
		return s->err;
	if (b.late) {
		s->why = b.why;
		return -ETIMEDOUT;
	}
	if (yr == ERROR_SUCCESS && !b.stopped)
		return 0;
	if (b.stopped)
		snprintf(evidence, sizeof(evidence),
			 "scan stopped after %llu bytes and %llu page walks: "
			 "its page tables map more than the guest's %llu "
			 "bytes of memory can hold",
			 (unsigned long long)b.bytes,
			 (unsigned long long)b.walks,
			 (unsigned long long)ram);
	else
		snprintf(evidence, sizeof(evidence),
			 "scan stopped at %llu bytes: %s (libyara error %d)",
			 (unsigned long long)b.bytes,
			 yr == ERROR_SCAN_TIMEOUT ? "timed out"
			 : yr == ERROR_TOO_MANY_MATCHES ? "too many matches"
			 : yr == ERROR_INSUFFICIENT_MEMORY ? "out of memory"
							    : "scan failed",
			 yr);
	return found(s, evidence, 0, s->module ? s->module : "");
}

static const char *const image_sections[][2] = {
	{ "_text", "_etext" },
	{ "__start_rodata", "__end_rodata" },
	{ "_sdata", "_edata" },
	{ "__bss_start", "__bss_stop" },
};

static void scan_close(struct scan *s)
{
	if (s->sc)
		Y.yr_scanner_destroy(s->sc);
	free(s->hits);
	free(s->buf);
}

/* A scanner for c->yara's rules, with its buffers. */
static int scan_open(struct scan *s, struct vms_chk *c)
{
	*s = (struct scan){ .c = c };
	s->buf = malloc(BLOCK_MAX);
	s->hits = malloc(MAX_MATCHES * sizeof(*s->hits));
	if (!c->yara || !s->buf || !s->hits ||
	    Y.yr_scanner_create(c->yara->rules, &s->sc) != ERROR_SUCCESS) {
		s->sc = NULL;
		scan_close(s);
		return -ENOMEM;
	}
	Y.yr_scanner_set_timeout(s->sc, SCAN_TIMEOUT);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Processes, in parallel                                              */
/* ------------------------------------------------------------------ */

/*
 * libyara's matching is most of a process's scan (80% of the profile
 * with 3,000 processes), and its scanners are independent: one per
 * worker thread, all on the same rules. The main thread walks the task
 * list and reads each process's memory map, and the workers read the
 * process's memory themselves, block by block, under the one lock that
 * guards the memory layer; their findings are held in the job and
 * emitted by the main thread in task-list order.
 */
struct pool;

struct worker {
	struct pool *p;
	struct scan s;
	pthread_t tid;
};

struct pool {
	struct vms_chk *c;
	pthread_mutex_t mem;		/* the memory layer, and emitting */
	pthread_mutex_t q;		/* the ring's state and jobs' done */
	pthread_cond_t work, done;	/* a job queued; a job scanned */
	struct job jobs[JOBS];		/* a ring */
	size_t head, next, tail;	/* to emit (main), to scan, to fill */
	bool stop;			/* no more jobs: workers return */
	bool abort;			/* an error: scan nothing more */
	struct vms_error why;		/* the first error's, for the end */
	size_t n;			/* workers running */
	struct worker w[MAX_WORKERS];
};

static void job_clear(struct job *j)
{
	while (j->held) {
		struct held *h = j->held;
		j->held = h->next;
		free(h->owner);
		free(h);
	}
	free(j->r);
	vms_vma_list_free(&j->l);
	memset(j, 0, sizeof(*j));
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	struct scan *s = &w->s;

	pthread_mutex_lock(&p->q);
	for (;;) {
		struct job *j;

		while (!p->stop && p->next == p->tail)
			pthread_cond_wait(&p->work, &p->q);
		if (p->next == p->tail)
			break;
		j = &p->jobs[p->next++ % JOBS];
		if (j->scan && !p->abort) {
			pthread_mutex_unlock(&p->q);
			s->job = j;
			s->object = j->object;
			s->addr = j->addr;
			s->vmas = &j->l;
			j->err = scan_object(s, j->root, j->r, j->l.n, true);
			j->why = s->why;
			s->job = NULL;
			s->vmas = NULL;
			pthread_mutex_lock(&p->q);
		}
		j->done = true;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->q);
	return NULL;
}

/* Emit the job at the head of the ring, scanned, and free it: its
 * findings, then its error, as a scan in the main thread would. */
static int emit_head(struct pool *p)
{
	struct job *j = &p->jobs[p->head % JOBS];
	int err = 0;

	pthread_mutex_lock(&p->mem);
	for (struct held *h = j->held; h && !err && !p->abort; h = h->next)
		err = vms_chk_emit(p->c, j->object, h->evidence, j->addr,
				   h->target, h->owner);
	/* The context's error may be another's by the end (the main
	 * thread clears it after a memory map it cannot read): the first
	 * is put back once the workers are done (pool_finish()). */
	if (err >= 0 && j->err < 0 && !p->abort) {
		err = j->err;
		if (!p->why.code)
			p->why = err == -ETIMEDOUT ? j->why
						   : p->c->k->ctx->err;
	} else if (err < 0 && !p->why.code) {
		p->why = p->c->k->ctx->err;
	}
	pthread_mutex_unlock(&p->mem);
	job_clear(j);
	pthread_mutex_lock(&p->q);
	p->head++;
	if (err < 0)
		p->abort = true;
	pthread_mutex_unlock(&p->q);
	return err;
}

/* Emit the jobs scanned at the head of the ring; with @all, wait for
 * every job, else only for room for one more. */
static int emit_ready(struct pool *p, bool all)
{
	int err = 0;

	for (;;) {
		struct job *j;
		int e;

		pthread_mutex_lock(&p->q);
		j = &p->jobs[p->head % JOBS];
		while (p->head < p->tail && !j->done &&
		       (all || p->tail - p->head == JOBS))
			pthread_cond_wait(&p->done, &p->q);
		if (p->head == p->tail || !j->done) {
			pthread_mutex_unlock(&p->q);
			return err;
		}
		pthread_mutex_unlock(&p->q);
		if ((e = emit_head(p)) < 0 && !err)
			err = e;
	}
}

/* Queue process @t: its page tables and memory map are read here, with
 * p->mem held. */
static int submit(struct pool *p, const struct vms_task *t)
{
	struct vms_kernel *k = p->c->k;
	struct job *j = &p->jobs[p->tail % JOBS];
	char evidence[512];
	int err = 0;

	memset(j, 0, sizeof(*j));
	j->tail = &j->held;
	snprintf(j->object, sizeof(j->object), "pid %d (%s)", t->pid,
		 t->comm);
	j->addr = t->addr;
	if (vms_task_pgd(k, t, &j->root) || vms_vma_collect(k, t, &j->l)) {
		struct scan one = { .c = p->c, .job = j, .object = j->object,
				    .addr = j->addr };
		snprintf(evidence, sizeof(evidence),
			 "its memory map could not be read, so it was not "
			 "scanned: %.400s", k->ctx->err.msg);
		vms_err_clear(k->ctx);
		err = found(&one, evidence, 0, "");
	} else if (j->l.n && !(j->r = calloc(j->l.n, sizeof(*j->r)))) {
		err = -ENOMEM;
	} else {
		for (size_t i = 0; i < j->l.n; i++)
			j->r[i] = (struct vms_range){
				j->l.v[i].start,
				j->l.v[i].end - j->l.v[i].start };
		j->scan = true;
	}
	if (err < 0) {
		job_clear(j);
		return err;
	}
	pthread_mutex_lock(&p->q);
	p->tail++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->q);
	return 0;
}

static void pool_locks_destroy(struct pool *p)
{
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->q);
	pthread_mutex_destroy(&p->mem);
}

static int pool_start(struct pool *p, struct vms_chk *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus < 1 ? 1 : VMS_MIN((size_t)cpus, MAX_WORKERS);

	memset(p, 0, sizeof(*p));
	p->c = c;
	pthread_mutex_init(&p->mem, NULL);
	pthread_mutex_init(&p->q, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (size_t i = 0; i < want; i++) {
		struct worker *w = &p->w[p->n];

		w->p = p;
		if (scan_open(&w->s, c))
			break;
		w->s.lock = &p->mem;
		if (pthread_create(&w->tid, NULL, work, w)) {
			scan_close(&w->s);
			break;
		}
		p->n++;
	}
	if (p->n)
		return 0;
	pool_locks_destroy(p);
	return vms_err(c->k->ctx, -EAGAIN, LAYER, "yara: no thread to scan "
		       "processes could be started");
}

/* Wait for every job, emit it, and stop the workers: the first error. */
static int pool_finish(struct pool *p)
{
	int err = emit_ready(p, true);

	pthread_mutex_lock(&p->q);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->q);
	for (size_t i = 0; i < p->n; i++) {
		pthread_join(p->w[i].tid, NULL);
		scan_close(&p->w[i].s);
	}
	pool_locks_destroy(p);
	if (p->why.code)
		p->c->k->ctx->err = p->why;
	return err;
}

int vms_chk_yara_scan(struct vms_chk *c, const char *object, uint64_t root,
		      const struct vms_range *r, size_t nr)
{
	struct scan s;
	int err;

	if ((err = scan_open(&s, c)))
		return err;
	s.object = object;
	err = scan_object(&s, root, r, nr, false);
	scan_close(&s);
	return err;
}

/* The user processes on the task list, for the progress total. */
static int count_processes(struct vms_kernel *k, size_t *ret)
{
	struct vms_task_walk w;
	struct vms_task t;
	int r, err;

	*ret = 0;
	if ((err = vms_task_walk_init(&w, k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1)
		*ret += !t.kthread && t.mm;
	vms_task_walk_fini(&w);
	return r < 0 ? r : 0;
}

int vms_check_yara(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	struct scan s;
	struct pool pool;
	struct vms_task_walk w;
	struct vms_task t;
	struct vms_range img[8];
	size_t nimg = 0;
	uint64_t hole0 = 0, hole1 = 0, done = 0, total;
	size_t nproc = 0;
	int r = 0, err = 0, e;

	if (!c->yara)
		return 0; /* no rules, nothing to look for */
	/* The image's sections by their linker symbols
	 * (arch/x86/kernel/vmlinux.lds.S); text is required. */
	for (size_t i = 0; i < VMS_ARRAY_SIZE(image_sections); i++) {
		int64_t s0 = vms_ksyms_lookup(&k->ks, image_sections[i][0]);
		int64_t s1 = vms_ksyms_lookup(&k->ks, image_sections[i][1]);
		if (s0 >= 0 && s1 >= 0 && k->ks.addr[s1] > k->ks.addr[s0])
			img[nimg++] = (struct vms_range){
				k->ks.addr[s0], k->ks.addr[s1] - k->ks.addr[s0]
			};
		else if (!i)
			return vms_err(k->ctx, -ENOENT, LAYER,
				       "no _text/_etext symbols: the kernel "
				       "image's text is unknown");
	}
	/* Cut the freed part of .bss..decrypted out of bss. */
	if (!vms_kernel_sym(k, "__start_bss_decrypted_unused", &hole0) &&
	    !vms_kernel_sym(k, "__end_bss_decrypted", &hole1) && hole1 > hole0) {
		for (size_t i = 0, n = nimg; i < n; i++) {
			uint64_t s0 = img[i].start, s1 = s0 + img[i].len;
			if (hole0 >= s1 || hole1 <= s0)
				continue;
			img[i].len = hole0 > s0 ? hole0 - s0 : 0;
			if (hole1 < s1)
				img[nimg++] = (struct vms_range){ hole1,
								  s1 - hole1 };
		}
	}
	vms_err_clear(k->ctx);
	if ((err = scan_open(&s, c)))
		return err;

	/* Progress counts objects: the image, the modules and the user
	 * processes, which a first walk of the task list counts, only when
	 * someone watches the progress. */
	if ((err = vms_chk_load_modules(c)) ||
	    (k->ctx->progress && (err = count_processes(k, &nproc))))
		goto out;
	total = 1 + c->nmods + nproc;
	/* The kernel image, then each module (both views). */
	vms_progress(k->ctx, 0, total, "yara: the kernel image");
	s.object = "kernel";
	s.kernel = true;
	err = scan_object(&s, k->pgd, img, nimg, false);
	s.kernel = false;
	if (err >= 0) {
		for (size_t i = 0; i < c->nmods && err >= 0; i++) {
			const struct vms_chk_mod *m = &c->mods[i];
			char object[96];
			vms_progress(k->ctx, ++done, total, "yara: module %s",
				     m->name);
			snprintf(object, sizeof(object), "module %s%s",
				 m->name,
				 m->listed ? "" : " (not on the module list)");
			s.object = object;
			s.addr = m->addr;
			s.module = m->name;
			err = scan_object(&s, k->pgd, m->regions,
					  (size_t)m->nregions, false);
		}
		s.module = NULL;
	}
	if (err < 0)
		goto out;

	/* Every user process, through its own page tables, in parallel
	 * (see struct pool). The main thread holds pool.mem while it reads
	 * the guest or reports progress, and lets go of it while it waits
	 * for room in the ring and emits. */
	scan_close(&s);
	if ((err = pool_start(&pool, c)))
		return err;
	pthread_mutex_lock(&pool.mem);
	if (!(err = vms_task_walk_init(&w, k))) {
		while ((r = vms_task_walk_next(&w, &t)) == 1) {
			if (t.kthread || !t.mm)
				continue;
			/* A process forked since the count must not take
			 * done past total. */
			done = VMS_MIN(done + 1, total);
			vms_progress(k->ctx, done, total, "yara: pid %d (%s)",
				     t.pid, t.comm);
			pthread_mutex_unlock(&pool.mem);
			err = emit_ready(&pool, false);
			pthread_mutex_lock(&pool.mem);
			if (err < 0 || (err = submit(&pool, &t)) < 0)
				break;
		}
		vms_task_walk_fini(&w);
	}
	pthread_mutex_unlock(&pool.mem);
	if ((e = pool_finish(&pool)) < 0 && err >= 0)
		err = e;
	if (err >= 0 && r >= 0)
		vms_progress(k->ctx, total, total, "yara: done");
	return err < 0 ? err : r < 0 ? r : 0;
out:
	scan_close(&s);
	return err;
}
