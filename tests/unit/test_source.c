/* SPDX-License-Identifier: MIT */
/*
 * The access layer on generated dumps: every format, with holes, read
 * back byte for byte; and broken inputs, each refused with a clear error.
 */
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "testutil.h"
#include "../../src/access/source.h"

#define MEM (8u << 20)
#define HOLE1 (1u << 20)
#define HOLE1_LEN (64u << 10)
#define HOLE2 (5u << 20)
#define HOLE2_LEN 4096u

static uint8_t *mem;
static char *raw_path;

static uint64_t word_at(uint64_t pa)
{
	return (pa * 0x9e3779b97f4a7c15ull) ^ 0x5a5a5a5a5a5a5a5aull;
}

static int setup(void **state)
{
	(void)state;
	mem = malloc(MEM);
	for (uint64_t pa = 0; pa < MEM; pa += 8) {
		uint64_t w = word_at(pa);
		/* Some zero pages, so that compression varies. */
		if ((pa >> 12) % 7 == 3)
			w = 0;
		memcpy(mem + pa, &w, 8);
	}
	raw_path = tmpfile_with(mem, MEM);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(raw_path);
	free(raw_path);
	free(mem);
	return 0;
}

static char *mkdump(const char *fmt, bool holes)
{
	char *out = tmpfile_with(NULL, 0), cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s %s %s %s", getenv("VMSIGHT_MKDUMP"),
		 fmt, raw_path, out,
		 holes ? "--hole 0x100000:0x10000 --hole 0x500000:0x1000"
		       : "");
	assert_int_equal(system(cmd), 0);
	return out;
}

static void check_reads(struct vms_source *src, bool holes)
{
	struct vms_ctx *ctx = src->ctx;
	uint64_t probes[] = { 0, 8, 4096 - 8, HOLE1 - 8, HOLE1 + HOLE1_LEN,
			      3 * 4096 + 16, HOLE2 - 4096, HOLE2 + HOLE2_LEN,
			      MEM - 8 };
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		assert_int_equal(vms_source_read(src, probes[i], buf, 8), 0);
		assert_memory_equal(buf, mem + probes[i], 8);
	}
	/* A read across a page boundary. */
	assert_int_equal(vms_source_read(src, 8192 - 20, buf, 40), 0);
	assert_memory_equal(buf, mem + 8192 - 20, 40);
	/* Pages in an order that revisits some and collides in the cache of
	 * expanded pages (a page-table walk's pattern), with failed reads of
	 * holes in between. */
	for (uint64_t i = 0; i < 2000; i++) {
		uint64_t pa = ((i * 37 + (i & 1) * 5) % (MEM / 4096)) * 4096 +
			      (i % 512) * 8;
		int err = vms_source_read(src, pa, buf, 8);
		bool hole = holes && ((pa >= HOLE1 && pa < HOLE1 + HOLE1_LEN) ||
				      (pa >= HOLE2 && pa < HOLE2 + HOLE2_LEN));
		assert_int_equal(err, hole ? -EFAULT : 0);
		if (!hole)
			assert_memory_equal(buf, mem + pa, 8);
		vms_err_clear(ctx);
	}
	if (holes) {
		vms_err_clear(ctx);
		assert_int_equal(vms_source_read(src, HOLE1 + 8, buf, 8),
				 -EFAULT);
		assert_non_null(strstr(ctx->err.msg, "0x100008"));
		vms_err_clear(ctx);
		/* A read that runs into the hole fails too. */
		assert_int_equal(vms_source_read(src, HOLE2 - 16, buf, 32),
				 -EFAULT);
		vms_err_clear(ctx);
	}
	assert_int_equal(vms_source_read(src, MEM, buf, 8), -EFAULT);
	vms_err_clear(ctx);
}

static void round_trip(const char *fmt, const char *want, bool holes)
{
	struct vms_ctx ctx;
	struct vms_source *src = NULL;
	char *path = mkdump(fmt, holes);

	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	assert_string_equal(src->format, want);
	check_reads(src, holes);
	vms_source_close(src);
	unlink(path);
	free(path);
}

static void raw_reads_back_every_byte(void **state)
{
	struct vms_ctx ctx;
	struct vms_source *src;
	(void)state;
	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, raw_path, &src), 0);
	assert_string_equal(src->format, "raw");
	check_reads(src, false);
	vms_source_close(src);
}

static void elf_with_holes_reads_back(void **state)
{
	(void)state;
	round_trip("elf", "elf", true);
}

static void vmcore_layout_with_overlapping_text_reads_back(void **state)
{
	(void)state;
	round_trip("vmcore", "elf", true);
}

static void lime_with_holes_reads_back(void **state)
{
	(void)state;
	round_trip("lime", "lime", true);
}

static void kdump_every_compression_reads_back(void **state)
{
	static const char *c[] = { "none", "zlib", "lzo", "snappy", "zstd" };
	char fmt[64];
	(void)state;
	for (size_t i = 0; i < 5; i++) {
		snprintf(fmt, sizeof(fmt), "kdump-%s", c[i]);
		round_trip(fmt, "kdump", true);
		snprintf(fmt, sizeof(fmt), "flat-kdump-%s", c[i]);
		round_trip(fmt, "kdump-flat", true);
	}
}

/* Two vCPUs with distinct registers, and a VMCOREINFO, for a written
 * core's notes. */
static void give_cpus(struct vms_source *src)
{
	src->ncpus = 2;
	for (unsigned int c = 0; c < 2; c++) {
		struct vms_cpu *k = &src->cpus[c];
		*k = (struct vms_cpu){ .index = c };
		for (int r = 0; r < VMS_NGPR; r++)
			k->gpr[r] = 0x1000ull * (c + 1) + (uint64_t)r;
		k->rip = 0xffffffff81000000ull + c;
		k->rflags = 0x246;
		k->cs = c ? 0x33 : 0x10;
		k->ss = c ? 0x2b : 0x18;
		k->fs_base = 0x7f0000000000ull + c;
		k->gs_base = 0xffff888000000000ull + c;
		k->kernel_gs_base = 0x1234 + c;
		k->has_kernel_gs_base = true;
		k->cr0 = 0x80050033;
		k->cr2 = 0x42 + c;
		k->cr3 = 0x1a422000ull + 0x1000 * c;
		k->cr4 = 0x750ef0;
	}
	free(src->vmcoreinfo);
	src->vmcoreinfo = strdup("OSRELEASE=6.1.0\nPAGESIZE=4096\n");
}

/* A dump written out as an ELF core reads back the same: memory, holes
 * left out (not turned into zeros), every register the core holds, and
 * VMCOREINFO; all-zero pages are holes in the file. */
static void written_core_reads_back(void **state)
{
	static const char *fmts[] = { "elf", "lime", "kdump-zlib" };
	(void)state;
	for (size_t f = 0; f < 3; f++) {
		struct vms_ctx ctx;
		struct vms_source *src = NULL, *back = NULL;
		char *in = mkdump(fmts[f], true), *out = tmpfile_with(NULL, 0);
		uint64_t size = 0;
		struct stat st;
		int fd, pfd[2];

		vms_ctx_init(&ctx);
		assert_int_equal(vms_source_open(&ctx, in, &src), 0);
		give_cpus(src);
		fd = open(out, O_WRONLY);
		assert_int_equal(vms_source_write_elf(src, fd, &size), 0);
		close(fd);
		assert_int_equal(stat(out, &st), 0);
		assert_int_equal((uint64_t)st.st_size, size);
		/* 1/7 of the pages are zeros: the file has holes. */
		assert_true((uint64_t)st.st_blocks * 512 < size - MEM / 8);

		assert_int_equal(vms_source_open(&ctx, out, &back), 0);
		assert_string_equal(back->format, "elf");
		check_reads(back, true);
		assert_int_equal(back->ncpus, 2);
		for (unsigned int c = 0; c < 2; c++) {
			struct vms_cpu *a = &src->cpus[c], *b = &back->cpus[c];
			assert_memory_equal(a->gpr, b->gpr, sizeof(a->gpr));
			assert_int_equal(a->rip, b->rip);
			assert_int_equal(a->rflags, b->rflags);
			assert_int_equal(a->cs, b->cs);
			assert_int_equal(a->ss, b->ss);
			assert_int_equal(a->fs_base, b->fs_base);
			assert_int_equal(a->gs_base, b->gs_base);
			assert_int_equal(a->kernel_gs_base, b->kernel_gs_base);
			assert_int_equal(a->cr0, b->cr0);
			assert_int_equal(a->cr2, b->cr2);
			assert_int_equal(a->cr3, b->cr3);
			assert_int_equal(a->cr4, b->cr4);
		}
		assert_string_equal(back->vmcoreinfo, src->vmcoreinfo);
		vms_source_close(back);

		/* Only a regular file takes a core. */
		assert_int_equal(pipe(pfd), 0);
		assert_int_equal(vms_source_write_elf(src, pfd[1], NULL),
				 -EINVAL);
		close(pfd[0]);
		close(pfd[1]);
		vms_source_close(src);
		unlink(in);
		unlink(out);
		free(in);
		free(out);
	}
}

struct scan_acc {
	uint64_t bytes;		/* distinct bytes seen */
	uint64_t last_end;	/* end of the previous chunk */
};

static int scan_cb(uint64_t pa, const uint8_t *d, size_t len, void *arg)
{
	struct scan_acc *x = arg;
	uint64_t start = pa < x->last_end ? x->last_end : pa;

	/* Chunks carry the right bytes; overlaps are counted once. */
	assert_memory_equal(d, mem + pa, len);
	x->bytes += pa + len - start;
	x->last_end = pa + len;
	return 0;
}

static void scan_visits_all_present_memory(void **state)
{
	struct vms_ctx ctx;
	struct vms_source *src;
	struct scan_acc a = { 0, 0 };
	char *path = mkdump("flat-kdump-zlib", true);
	(void)state;

	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	assert_int_equal(vms_source_scan(src, 1u << 20, 64, scan_cb, &a), 0);
	assert_int_equal(a.bytes, MEM - HOLE1_LEN - HOLE2_LEN);
	vms_source_close(src);
	unlink(path);
	free(path);
}

static void expect_open_error(const char *path, int code, const char *needle)
{
	struct vms_ctx ctx;
	struct vms_source *src = NULL;
	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, path, &src), code);
	assert_null(src);
	if (!strstr(ctx.err.msg, needle))
		fail_msg("%s: error \"%s\" lacks \"%s\"", path, ctx.err.msg,
			 needle);
}

static void truncate_copy(const char *fmt, uint64_t keep, int code,
			  const char *needle)
{
	char *path = mkdump(fmt, true);
	assert_int_equal(truncate(path, (off_t)keep), 0);
	expect_open_error(path, code, needle);
	unlink(path);
	free(path);
}

static void broken_inputs_get_clear_errors(void **state)
{
	(void)state;
	char *p = tmpfile_with("hello, world\n", 13);
	expect_open_error(p, -ENOTSUP, "not a memory dump");
	unlink(p);
	free(p);
	p = tmpfile_with(NULL, 0);
	expect_open_error(p, -EBADMSG, "empty file");
	unlink(p);
	free(p);
	expect_open_error("/tmp", -EINVAL, "directory");
	expect_open_error("/nonexistent/dump", -ENOENT, "cannot open");
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "/tmp/vmsight-test-fifo-%d", getpid());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_open_error(fifo, -EINVAL, "FIFO");
	unlink(fifo);
	/* Truncated at header boundaries. */
	truncate_copy("elf", 40, -EBADMSG, "truncated");
	truncate_copy("elf", 4096, -EBADMSG, "truncated");
	truncate_copy("flat-kdump-zlib", 4096 + 8, -EBADMSG, "truncated");
	truncate_copy("flat-kdump-zlib", 100000, -EBADMSG, "truncated");
	truncate_copy("kdump-zlib", 600, -EBADMSG, "truncated");
	truncate_copy("lime", 4000, -EBADMSG, "truncated");
}

/* Offsets to cut a dump at. */
struct cuts {
	uint64_t *at;
	size_t n, cap;
};

static void cut_at(struct cuts *c, uint64_t at)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->at = realloc(c->at, c->cap * sizeof(*c->at));
		assert_non_null(c->at);
	}
	c->at[c->n++] = at;
}

/* Every 8th byte of [@from, @to), and the last. */
static void cut_every_8(struct cuts *c, uint64_t from, uint64_t to)
{
	for (uint64_t at = from; at < to; at += 8)
		cut_at(c, at);
	if (to > from)
		cut_at(c, to - 1);
}

static int desc_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *d;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	d = malloc(*len);
	assert_non_null(d);
	assert_int_equal(pread(fd, d, *len, 0), (ssize_t)*len);
	close(fd);
	return d;
}

/* Remove a dump made for a test, and free its path and contents. */
static void drop_dump(char *path, uint8_t *d)
{
	free(d);
	unlink(path);
	free(path);
}

/* The bytes of the LiME range whose header is at @off. */
static uint64_t lime_range_len(const uint8_t *d, uint64_t off)
{
	return vms_le64(d + off + 16) - vms_le64(d + off + 8) + 1;
}

/* The message of a refused open: one line that names the file. */
static void expect_one_line(const struct vms_ctx *ctx, const char *path,
			    const char *needle, uint64_t at)
{
	const char *m = ctx->err.msg;

	if (!*m || strchr(m, '\n') || !strstr(m, path) || !strstr(m, needle))
		fail_msg("cut at %#llx: error \"%s\" is not one line naming "
			 "%s and saying \"%s\"", (unsigned long long)at, m,
			 path, needle);
}

/*
 * A copy of the dump @path cut at each offset of @c, from the longest
 * down (each cut shortens the same copy), refused by name: "truncated",
 * or, shorter than the format's signature (@magic bytes), "not a memory
 * dump", since nothing then tells it from any other short file.
 */
static void expect_cuts_refused(const char *what, const char *path,
				struct cuts *c, uint64_t magic)
{
	size_t len;
	uint8_t *d = slurp(path, &len);
	char *copy = tmpfile_with(d, len);
	unsigned int tried = 0;

	free(d);
	vms_qsort(c->at, c->n, sizeof(*c->at), desc_cmp);
	for (size_t i = 0; i < c->n; i++) {
		struct vms_ctx ctx;
		struct vms_source *src = NULL;
		uint64_t at = c->at[i];
		int err;

		if ((i && at == c->at[i - 1]) || at >= len)
			continue;
		assert_int_equal(truncate(copy, (off_t)at), 0);
		tried++;
		vms_ctx_init(&ctx);
		err = vms_source_open(&ctx, copy, &src);
		if (err >= 0 || src)
			fail_msg("%s cut at %#llx opened", path,
				 (unsigned long long)at);
		expect_one_line(&ctx, copy,
				!at	    ? "empty file"
				: at < magic ? "not a memory dump"
					     : "truncated",
				at);
	}
	print_message("%s: %u cuts refused\n", what, tried);
	unlink(copy);
	free(copy);
	free(c->at);
	c->at = NULL;
	c->n = c->cap = 0;
}

/* An ELF core with notes (2 vCPUs, VMCOREINFO) and holes. */
static char *elf_with_notes(void)
{
	struct vms_ctx ctx;
	struct vms_source *src = NULL;
	char *in = mkdump("elf", true), *out = tmpfile_with(NULL, 0);
	int fd;

	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, in, &src), 0);
	give_cpus(src);
	fd = open(out, O_WRONLY);
	assert_int_equal(vms_source_write_elf(src, fd, NULL), 0);
	close(fd);
	vms_source_close(src);
	unlink(in);
	free(in);
	return out;
}

/* Header layouts, read back by the test to find where to cut and flip:
 * ELF's program headers; kdump's block size (4096, all the reader
 * supports), blocks of sub-header and bitmaps; LiME's range headers. */
static void elf_segments(const uint8_t *d, size_t len, uint64_t *data,
			 struct cuts *c)
{
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	*data = len;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_offset < *data)
			*data = ph.p_offset;
		if (c && ph.p_filesz) {
			cut_at(c, ph.p_offset + ph.p_filesz / 2);
			cut_at(c, ph.p_offset + ph.p_filesz - 1);
		}
	}
}

static uint64_t kdump_pd_off(const uint8_t *d)
{
	return (1 + (uint64_t)vms_le32(d + 432) + vms_le32(d + 436)) * 4096;
}

/*
 * Broken dumps: each format cut at every 8th byte of its headers (ELF's
 * header, program headers and notes; kdump's header, sub-header, bitmaps
 * and page descriptors; the flattened header and every record's header;
 * every LiME range header), and inside each segment, record and range.
 * Every cut is refused with one line that says the dump is truncated.
 */
static void cut_dumps_are_refused_as_truncated(void **state)
{
	struct cuts c = { 0 };
	size_t len;
	uint8_t *d;
	uint64_t data;
	char *path;
	(void)state;

	path = elf_with_notes();
	d = slurp(path, &len);
	elf_segments(d, len, &data, &c);
	cut_every_8(&c, 0, data + 1);
	expect_cuts_refused("ELF", path, &c, SELFMAG);
	drop_dump(path, d);

	/* Plain kdump: up to the first page's data (a cut after it is a
	 * dump short of some pages: kdump_cut_in_its_data_...). */
	path = mkdump("kdump-zlib", true);
	d = slurp(path, &len);
	data = vms_le64(d + kdump_pd_off(d));
	assert_true(data > kdump_pd_off(d) && data < len);
	cut_every_8(&c, 0, data);
	expect_cuts_refused("kdump", path, &c, 8);
	drop_dump(path, d);

	/* Flattened: the header, then each record's header, data and the
	 * end marker; the records are the whole file, so any cut shows. */
	path = mkdump("flat-kdump-zlib", true);
	d = slurp(path, &len);
	cut_every_8(&c, 0, 4096 + 16);
	for (uint64_t off = 4096, n; off + 16 <= len; off += 16 + n) {
		n = vms_be64(d + off + 8);
		cut_every_8(&c, off, off + 17);
		if (n == UINT64_MAX)
			break;
		cut_at(&c, off + 16 + n / 2);
		cut_at(&c, off + 16 + n - 1);
	}
	expect_cuts_refused("flattened kdump", path, &c, 12);
	drop_dump(path, d);

	/* LiME: each range header and inside each range. A cut exactly
	 * between two ranges is a complete LiME file of fewer ranges, as
	 * the format has no count or end marker to tell. */
	path = mkdump("lime", true);
	d = slurp(path, &len);
	for (uint64_t off = 0; off + 32 <= len;) {
		uint64_t n = lime_range_len(d, off);
		cut_every_8(&c, off ? off + 8 : 0, off + 32);
		cut_at(&c, off + 1);
		cut_at(&c, off + 32 + n / 2);
		cut_at(&c, off + 32 + n - 1);
		off += 32 + n;
	}
	expect_cuts_refused("LiME", path, &c, 4);
	drop_dump(path, d);
}

static void keep_warning(enum vms_log_level level, const char *msg,
			 void *arg)
{
	if (level == VMS_LOG_WARN)
		snprintf(arg, 512, "%s", msg);
}

/* A plain kdump cut inside its page data, as a full disk leaves one:
 * it opens, saying at once that it is truncated, the pages it holds
 * read back, and one whose data is gone fails by itself. */
static void kdump_cut_in_its_data_opens_with_a_warning(void **state)
{
	char *path = mkdump("kdump-zlib", true), warn[512] = "";
	struct vms_source *src = NULL;
	struct vms_ctx ctx;
	uint8_t *d, buf[8];
	size_t len;
	(void)state;

	d = slurp(path, &len);
	assert_int_equal(truncate(path, (off_t)(len - len / 4)), 0);
	free(d);
	vms_ctx_init(&ctx);
	ctx.log = keep_warning;
	ctx.log_arg = warn;
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	if (!strstr(warn, "truncated") || !strstr(warn, path))
		fail_msg("warning \"%s\"", warn);
	assert_int_equal(vms_source_read(src, 4096, buf, 8), 0);
	assert_memory_equal(buf, mem + 4096, 8);
	assert_int_equal(vms_source_read(src, MEM - 8, buf, 8), -EBADMSG);
	expect_one_line(&ctx, path, "truncated", MEM - 8);
	vms_source_close(src);

	/* The whole dump says nothing. */
	unlink(path);
	free(path);
	path = mkdump("kdump-zlib", true);
	warn[0] = 0;
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	assert_string_equal(warn, "");
	vms_source_close(src);
	unlink(path);
	free(path);
}

struct flips {
	unsigned int opened, refused;
};

/*
 * Flip each bit of @path's bytes [@from, @to), one at a time, and open
 * it: either it is refused with one line naming it, or it opens and each
 * read of a spread of addresses gives memory or one line of error.
 */
static void flip_each_bit(const char *path, uint64_t from, uint64_t to,
			  struct flips *f)
{
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	for (uint64_t off = from; off < to; off++) {
		uint8_t orig, b;
		assert_int_equal(pread(fd, &orig, 1, (off_t)off), 1);
		for (int bit = 0; bit < 8; bit++) {
			struct vms_ctx ctx;
			struct vms_source *src = NULL;

			b = orig ^ (uint8_t)(1u << bit);
			assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
			vms_ctx_init(&ctx);
			if (vms_source_open(&ctx, path, &src)) {
				assert_null(src);
				expect_one_line(&ctx, path, "", off);
				f->refused++;
				continue;
			}
			f->opened++;
			for (uint64_t pa = 0; pa < MEM + 8192; pa += MEM / 16 +
							       4096 - 8) {
				uint8_t buf[16];
				vms_err_clear(&ctx);
				if (vms_source_read(src, pa, buf, 16) &&
				    (!ctx.err.msg[0] ||
				     strchr(ctx.err.msg, '\n')))
					fail_msg("bit %d of %#llx: read of %#llx"
						 ": \"%s\"", bit,
						 (unsigned long long)off,
						 (unsigned long long)pa,
						 ctx.err.msg);
			}
			vms_source_close(src);
		}
		assert_int_equal(pwrite(fd, &orig, 1, (off_t)off), 1);
	}
	close(fd);
}

/* Broken dumps: every bit of every header flipped in turn (ELF's header,
 * program headers and notes; kdump's header, sub-header, the start of
 * each bitmap and the first and last page descriptors; the flattened
 * header and the first records' headers; every LiME range header). No
 * crash, and a refusal is one line. */
static void bit_flipped_headers_open_or_are_refused(void **state)
{
	struct flips f = { 0, 0 };
	uint64_t data, pd, half, n;
	size_t len;
	uint8_t *d;
	char *path;
	(void)state;

	path = elf_with_notes();
	d = slurp(path, &len);
	elf_segments(d, len, &data, NULL);
	flip_each_bit(path, 0, data, &f);
	drop_dump(path, d);

	path = mkdump("kdump-zlib", true);
	d = slurp(path, &len);
	pd = kdump_pd_off(d);
	half = (uint64_t)vms_le32(d + 436) * 4096 / 2;
	n = (vms_le64(d + pd) - pd) / 24;
	flip_each_bit(path, 0, 464, &f);
	flip_each_bit(path, 4096, 4096 + 104, &f);
	flip_each_bit(path, 8192, 8192 + 32, &f);
	flip_each_bit(path, 8192 + half, 8192 + half + 32, &f);
	flip_each_bit(path, pd, pd + 4 * 24, &f);
	flip_each_bit(path, pd + (n - 4) * 24, pd + n * 24, &f);
	drop_dump(path, d);

	path = mkdump("flat-kdump-zlib", true);
	d = slurp(path, &len);
	flip_each_bit(path, 0, 32, &f);
	data = 4096;
	for (int i = 0; i < 4 && data + 16 <= len; i++) {
		flip_each_bit(path, data, data + 16, &f);
		data += 16 + vms_be64(d + data + 8);
	}
	drop_dump(path, d);

	path = mkdump("lime", true);
	d = slurp(path, &len);
	for (uint64_t off = 0; off + 32 <= len;) {
		flip_each_bit(path, off, off + 32, &f);
		off += 32 + lime_range_len(d, off);
	}
	drop_dump(path, d);
	/* Both outcomes happen: the flips reach checks and the readers. */
	print_message("%u flips opened, %u refused\n", f.opened, f.refused);
	assert_true(f.opened > 100 && f.refused > 100);
}

/* The arrays every layer grows: doubling from the first size, capped at
 * the bound, -E2BIG at it, and no overflow in the byte count. */
static void grow_doubles_up_to_the_bound(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0, n = 0;
	int r;

	(void)state;
	while (!(r = vms_grow(NULL, &v, &cap, n, sizeof(*v), 4, 10)))
		v[n] = (uint32_t)n, n++;
	assert_int_equal(r, -E2BIG);
	assert_int_equal(n, 10);
	assert_int_equal(cap, 10);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], i);
	free(v);
	v = NULL;
	cap = 0;
	/* Room for an element past twice the capacity (a byte array
	 * growing by a long string at once). */
	assert_int_equal(vms_grow(NULL, &v, &cap, 100, sizeof(*v), 4, 1000), 0);
	assert_int_equal(cap, 101);
	v[100] = 7;
	free(v);
	v = NULL;
	cap = 0;
	assert_int_equal(vms_grow(NULL, &v, &cap, 0, SIZE_MAX / 2, 4, SIZE_MAX),
			 -ENOMEM);
	assert_null(v);
	assert_int_equal(cap, 0);
}

/* An array that guest data grows stops at the memory cap, with the
 * error saying so, however high its own bound. */
static void grow_stops_at_the_memory_cap(void **state)
{
	struct vms_ctx ctx;
	uint8_t(*v)[4096] = NULL;
	size_t cap = 0, n = 0;
	int r;

	(void)state;
	vms_ctx_init(&ctx);
	ctx.max_memory = 1u << 20;
	while (!(r = vms_grow(&ctx, &v, &cap, n, sizeof(*v), 64, SIZE_MAX)))
		v[n++][4095] = 1;
	assert_int_equal(r, -E2BIG);
	assert_int_equal(n, 256);
	assert_int_equal(cap, 256);
	assert_non_null(strstr(ctx.err.msg, "over the cap of 1 MiB"));
	assert_non_null(strstr(ctx.err.msg, "--max-memory"));
	free(v);
}

/*
 * A core of virtual mappings (QEMU's paging=true) repeats physical
 * ranges, one PT_LOAD per alias. An alias inside a range given before
 * must read as that range (the earlier wins) even where its own file
 * data differs, and add no segment; one outside it is memory as usual.
 */
static void elf_aliases_of_earlier_ranges_add_nothing(void **state)
{
	enum { BIG = 64u << 10, DATA = 4096 };
	/* The range, aliases at its start (which sorting alone would order
	 * either way against it), inside it and at its end, one outside,
	 * and one that straddles its end. */
	static const uint64_t pa[] = { 0, 0, 0x1000, BIG - 0x1000, 0x20000,
				       BIG - 0x800 };
	static const uint64_t len[] = { BIG, 0x1000, 0x1000, 0x1000, 0x1000,
					0x1000 };
	enum { N = sizeof(pa) / sizeof(pa[0]) };
	size_t size = DATA + BIG + (N - 1) * 0x1000;
	uint8_t *f = calloc(1, size), got[16];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f + sizeof(*eh));
	struct vms_source *src = NULL;
	struct vms_ctx ctx;
	uint64_t off = DATA;
	char *path;

	(void)state;
	assert_non_null(f);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = N;
	for (int i = 0; i < N; i++) {
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = off,
				      .p_paddr = pa[i], .p_filesz = len[i],
				      .p_memsz = len[i] };
		memset(f + off, 'a' + i, len[i]);
		off += len[i];
	}
	path = tmpfile_with(f, size);
	vms_ctx_init(&ctx);
	assert_int_equal(vms_source_open(&ctx, path, &src), 0);
	/* The range, the straddler's part past it, and the outsider. */
	assert_int_equal(src->nsegs, 3);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(vms_source_read(src, pa[i], got, 16), 0);
		assert_int_equal(got[0], 'a');
		assert_int_equal(got[15], 'a');
	}
	assert_int_equal(vms_source_read(src, 0x20000, got, 16), 0);
	assert_int_equal(got[0], 'a' + 4);
	assert_int_equal(vms_source_read(src, BIG - 1, got, 2), 0);
	assert_int_equal(got[0], 'a');
	assert_int_equal(got[1], 'a' + 5);
	vms_source_close(src);
	unlink(path);
	free(path);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grow_doubles_up_to_the_bound),
		cmocka_unit_test(grow_stops_at_the_memory_cap),
		cmocka_unit_test(raw_reads_back_every_byte),
		cmocka_unit_test(elf_with_holes_reads_back),
		cmocka_unit_test(vmcore_layout_with_overlapping_text_reads_back),
		cmocka_unit_test(elf_aliases_of_earlier_ranges_add_nothing),
		cmocka_unit_test(lime_with_holes_reads_back),
		cmocka_unit_test(kdump_every_compression_reads_back),
		cmocka_unit_test(scan_visits_all_present_memory),
		cmocka_unit_test(written_core_reads_back),
		cmocka_unit_test(broken_inputs_get_clear_errors),
		cmocka_unit_test(cut_dumps_are_refused_as_truncated),
		cmocka_unit_test(kdump_cut_in_its_data_opens_with_a_warning),
		cmocka_unit_test(bit_flipped_headers_open_or_are_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
