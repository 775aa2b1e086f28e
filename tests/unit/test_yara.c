/* SPDX-License-Identifier: MIT */
/*
 * The yara check's scanner on page tables built for the test: a string
 * split across two virtual pages that lie apart in physical memory; a
 * string inside the overlap of two blocks (reported once) and one across
 * a block boundary; page tables that alias one page across a gigabyte
 * (bounded, and a finding); a sparse 128 TiB range (a few thousand
 * walks, not billions). And loading rules: source, compiled, bad.
 */
#include "fakekernel.h"
#include "../../src/checks/checks.h"

#include <yara.h>

#define P 3ull		/* present, writable */
#define PS 0x80ull
#define ROOT_A 0x110000ull	/* split string, sparse range */
#define ROOT_B 0x120000ull	/* 6 MiB of 2 MiB pages */
#define ROOT_C 0x130000ull	/* aliasing tables */

static const char rules_src[] =
	"rule split { strings: $s = \"split across pages marker\" "
	"condition: $s }\n"
	"rule overlap { strings: $o = \"overlap marker zz\" condition: $o }\n"
	"rule boundary { strings: $b = \"boundary marker yy\" "
	"condition: $b }\n"
	"rule never { strings: $n = \"no such bytes anywhere 42\" "
	"condition: $n }\n";

struct found {
	char object[64];
	char evidence[2048];
	uint64_t target;
	char owner[64];
};

struct finds {
	struct found f[16];
	int n;
};

static int collect(const struct vms_finding *f, void *arg)
{
	struct finds *l = arg;

	assert_true(l->n < 16);
	snprintf(l->f[l->n].object, 64, "%s", f->object);
	snprintf(l->f[l->n].evidence, 2048, "%s", f->evidence);
	snprintf(l->f[l->n].owner, 64, "%s", f->owner);
	l->f[l->n++].target = f->target;
	return 0;
}

static uint64_t *table(uint8_t *mem, uint64_t pa)
{
	return (uint64_t *)(mem + pa);
}

static char *write_file(const char *text, size_t len)
{
	return tmpfile_with(text, len);
}

static void build(uint8_t *mem)
{
	/* A: 0x400000 -> 0x500000 and 0x401000 -> 0x480000 (physically
	 * before it), with the string across the page boundary. */
	table(mem, ROOT_A)[0] = (ROOT_A + 0x1000) | P;
	table(mem, ROOT_A + 0x1000)[0] = (ROOT_A + 0x2000) | P;
	table(mem, ROOT_A + 0x2000)[2] = (ROOT_A + 0x3000) | P;
	table(mem, ROOT_A + 0x3000)[0] = 0x500000 | P;
	table(mem, ROOT_A + 0x3000)[1] = 0x480000 | P;
	memcpy(mem + 0x500ff8, "split ac", 8);
	memcpy(mem + 0x480000, "ross pages marker", 17);

	/* B: 0x40000000 + 6 MiB -> 0x200000, 0x400000, 0x600000. */
	table(mem, ROOT_B)[0] = (ROOT_B + 0x1000) | P;
	table(mem, ROOT_B + 0x1000)[1] = (ROOT_B + 0x2000) | P;
	for (int i = 0; i < 3; i++)
		table(mem, ROOT_B + 0x2000)[i] =
			(0x200000ull + 0x200000ull * (uint64_t)i) | P | PS;
	/* 32 KiB before 4 MiB: inside both the first block and the
	 * overlap that starts the second. */
	memcpy(mem + 0x400000 + 0x1f8000, "overlap marker zz", 17);
	/* 8 bytes before 4 MiB: across the first block's end. */
	memcpy(mem + 0x400000 + 0x1ffff8, "boundary marker yy", 18);

	/* C: one PT aliased by all 512 PD entries of 0x80000000's GiB,
	 * each PTE the same page. */
	table(mem, ROOT_C)[0] = (ROOT_C + 0x1000) | P;
	table(mem, ROOT_C + 0x1000)[2] = (ROOT_C + 0x2000) | P;
	for (int i = 0; i < 512; i++) {
		table(mem, ROOT_C + 0x2000)[i] = (ROOT_C + 0x3000) | P;
		table(mem, ROOT_C + 0x3000)[i] = 0x700000 | P;
	}
}

static void scans_by_virtual_address(void **state)
{
	struct fake f;
	struct vms_layout l = { 0 };
	struct vms_yara *y = NULL;
	struct finds got = { 0 };
	char err[256], *rules;
	uint64_t walks;

	(void)state;
	fk_build(&f);
	build(f.mem);
	fk_open(&f, "x", FK_DATA_VA, &l);
	rules = write_file(rules_src, sizeof(rules_src) - 1);
	assert_int_equal(vms_yara_load(rules, &y, err, sizeof(err)), 0);
	struct vms_chk c = { .k = &f.k, .yara = y, .check = "yara",
			     .severity = VMS_SEV_HIGH, .fn = collect,
			     .arg = &got };

	/* A string across a page boundary, over a 128 TiB sparse range:
	 * empty spans are skipped a table entry at a time. */
	struct vms_range a = { 0x1000, 0x7ffffffff000ull - 0x1000 };
	walks = f.k.mmu.walks;
	assert_int_equal(vms_chk_yara_scan(&c, "proc a", ROOT_A, &a, 1), 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.f[0].object, "proc a");
	assert_int_equal(got.f[0].target, 0x400ff8);
	assert_non_null(strstr(got.f[0].evidence,
			       "rule split matches: 1 string match; $s at "
			       "0x400ff8 \"split across pages marker\""));
	assert_true(f.k.mmu.walks - walks < 4096);

	/* Blocks of 4 MiB that overlap by 64 KiB: the string in the
	 * overlap once, the one across the first block's end too. */
	struct vms_range b = { 0x40000000, 6u << 20 };
	got.n = 0;
	assert_int_equal(vms_chk_yara_scan(&c, "proc b", ROOT_B, &b, 1), 0);
	assert_int_equal(got.n, 2);
	for (int i = 0; i < 2; i++) {
		bool ov = strstr(got.f[i].evidence, "rule overlap") != NULL;
		assert_non_null(strstr(got.f[i].evidence, "1 string match;"));
		assert_int_equal(got.f[i].target,
				 ov ? 0x40000000 + 0x3f8000
				    : 0x40000000 + 0x3ffff8);
	}

	/* One page aliased over a GiB: the scan stops at twice the
	 * guest's 8 MiB and says so. */
	struct vms_range cr = { 0x80000000, 1u << 30 };
	got.n = 0;
	assert_int_equal(vms_chk_yara_scan(&c, "proc c", ROOT_C, &cr, 1), 0);
	assert_int_equal(got.n, 1);
	assert_non_null(strstr(got.f[0].evidence, "scan stopped after "));
	assert_non_null(strstr(got.f[0].evidence, "than the guest's 8388608 "
				   "bytes"));

	/* Areas out of address order (a module's regions come in
	 * mod_mem_type order): the lower one, after the higher, is still
	 * read from its start. */
	struct vms_range desc[2] = { { 0x401000, 0x1000 },
				     { 0x400000, 0x1000 } };
	got.n = 0;
	assert_int_equal(vms_chk_yara_scan(&c, "proc e", ROOT_A, desc, 2), 0);
	assert_int_equal(got.n, 0); /* the split string needs both pages */
	struct vms_range split[2] = { { 0x401000, 0x1000 },
				      { 0x400000, 0x2000 } };
	assert_int_equal(vms_chk_yara_scan(&c, "proc f", ROOT_A, split, 2),
			 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.f[0].target, 0x400ff8);

	/* Areas that wrap or are empty end quietly. */
	struct vms_range odd[2] = { { 0xfffffffffffff000ull, 0x2000 },
				    { 0x400000, 0 } };
	got.n = 0;
	assert_int_equal(vms_chk_yara_scan(&c, "proc d", ROOT_A, odd, 2), 0);
	assert_int_equal(got.n, 0);

	vms_yara_destroy(y);
	unlink(rules);
	free(rules);
	fk_close(&f);
}

static void loads_source_and_compiled_rules(void **state)
{
	struct vms_yara *y = NULL;
	YR_COMPILER *comp;
	YR_RULES *rules;
	char err[512], want[600], *src, *bad, *junk;
	char compiled[] = "/tmp/vmsight-yarac-XXXXXX";
	int fd;

	(void)state;
	/* Compiled by libyara itself, as yarac would. */
	src = write_file(rules_src, sizeof(rules_src) - 1);
	assert_int_equal(yr_initialize(), ERROR_SUCCESS);
	assert_int_equal(yr_compiler_create(&comp), ERROR_SUCCESS);
	assert_int_equal(yr_compiler_add_string(comp, rules_src, NULL), 0);
	assert_int_equal(yr_compiler_get_rules(comp, &rules), ERROR_SUCCESS);
	fd = mkstemp(compiled);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(yr_rules_save(rules, compiled), ERROR_SUCCESS);
	yr_rules_destroy(rules);
	yr_compiler_destroy(comp);
	yr_finalize();
	assert_int_equal(vms_yara_load(compiled, &y, err, sizeof(err)), 0);
	vms_yara_destroy(y);
	assert_int_equal(vms_yara_load(src, &y, err, sizeof(err)), 0);
	vms_yara_destroy(y);

	/* A rule that does not compile: its file and line. */
	static const char broken[] = "rule ok { condition: true }\n\n"
				     "rule bad { strings: $a = \"x\" "
				     "condition: $b }\n";
	bad = write_file(broken, sizeof(broken) - 1);
	y = (struct vms_yara *)1;
	assert_int_equal(vms_yara_load(bad, &y, err, sizeof(err)), -EINVAL);
	assert_null(y);
	snprintf(want, sizeof(want), "%s:3: ", bad);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);

	/* "YARA" and then garbage: not compiled rules. */
	static const char fake[] = "YARA\x01\x02\x03garbage";
	junk = write_file(fake, sizeof(fake) - 1);
	assert_int_equal(vms_yara_load(junk, &y, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not compiled rules that YARA "
		 YR_VERSION " can load; give their source, or compile them "
		 "with this version's yarac", junk);
	assert_string_equal(err, want);

	/* A missing file. */
	assert_int_equal(vms_yara_load("/nonexistent/r.yar", &y, err,
				       sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/r.yar: No such file or "
			    "directory");
	vms_yara_destroy(NULL);

	unlink(compiled);
	unlink(src);
	unlink(bad);
	unlink(junk);
	free(src);
	free(bad);
	free(junk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scans_by_virtual_address),
		cmocka_unit_test(loads_source_and_compiled_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
