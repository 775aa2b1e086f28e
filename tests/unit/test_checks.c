/* SPDX-License-Identifier: MIT */
/*
 * The checks' xarray walk (the pid table behind hidden_tasks) on
 * synthetic trees: entries in index order across nodes, a head that is
 * a single entry, sibling and zero entries skipped; and hostile trees: a
 * node shared by two slots, a child whose shift does not step down, a
 * leaf that points at a node, a user-space node pointer. Module carving.
 * The credentials rules on every combination that matters. The
 * syscall table rules: an entry into no module, into the middle of a
 * function, swapped entries against the boot record, and no record. The
 * IDT rules: entry points, early stubs, vector stubs and absent gates
 * pass; a gate into no module or mid-function does not. The
 * injected_code rules on anonymous, heap, stack, file and vdso areas.
 */
#include <bpf/btf.h>
#include <linux/btf.h>

#include "fakekernel.h"
#include "../../src/checks/checks.h"

/* 16 slots per node (CONFIG_BASE_SMALL-like), offsets unlike the
 * kernel's. */
static const struct vms_layout L = {
	.xa_chk_shift = 0, .xa_chk_slots = 16, .xa_chk_nslots = 16,
};

#define NODE(i) (FK_DATA_VA + 0x1000 * (uint64_t)(i))
#define ENT(i) (FK_DATA_VA + 0x80000 + 0x40 * (uint64_t)(i))
#define AS_NODE(va) ((va) | 2)

static void node(struct fake *f, int i, uint8_t shift)
{
	*fk_at(f, NODE(i)) = shift;
}

static void slot(struct fake *f, int i, int s, uint64_t v)
{
	fk_put64(fk_at(f, NODE(i) + 16 + 8 * (uint64_t)s), v);
}

struct seen {
	uint64_t e[64];
	int n;
};

static int collect(void *arg, uint64_t entry)
{
	struct seen *s = arg;
	if (s->n < 64)
		s->e[s->n++] = entry;
	return 0;
}

/* Root (shift 4): slot 0 -> leaf A, slot 2 sibling, slot 3 -> leaf B.
 * A holds entries 1 and 2, B entry 3 plus a zero entry (internal 257). */
static void tree(struct fake *f)
{
	fk_build(f);
	node(f, 1, 4);
	node(f, 2, 0);
	node(f, 3, 0);
	slot(f, 1, 0, AS_NODE(NODE(2)));
	slot(f, 1, 2, (0ull << 2) | 2);		/* sibling of slot 0 */
	slot(f, 1, 3, AS_NODE(NODE(3)));
	slot(f, 2, 1, ENT(1));
	slot(f, 2, 5, ENT(2));
	slot(f, 3, 0, ENT(3));
	slot(f, 3, 1, (257ull << 2) | 2);	/* XA_ZERO_ENTRY */
}

static void walks_entries_in_order(void **state)
{
	struct fake f;
	struct seen s = { 0 };
	(void)state;

	tree(&f);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_chk_xa_each(&f.k, AS_NODE(NODE(1)), "t", collect,
					 &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.e[0] == ENT(1) && s.e[1] == ENT(2) && s.e[2] == ENT(3));
	/* A head that is one entry, and an empty tree. */
	s.n = 0;
	assert_int_equal(vms_chk_xa_each(&f.k, ENT(7), "t", collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(vms_chk_xa_each(&f.k, 0, "t", collect, &s), 0);
	assert_int_equal(s.n, 1);
	fk_close(&f);
}

static void hostile_trees_end_with_errors(void **state)
{
	struct fake f;
	struct seen s = { 0 };
	(void)state;

	/* Two slots share a leaf: a loop for the walk. */
	tree(&f);
	slot(&f, 1, 5, AS_NODE(NODE(2)));
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_chk_xa_each(&f.k, AS_NODE(NODE(1)), "t", collect,
					 &s), -ELOOP);
	fk_close(&f);

	/* The root points at itself: its shift does not step down. */
	tree(&f);
	slot(&f, 1, 7, AS_NODE(NODE(1)));
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_chk_xa_each(&f.k, AS_NODE(NODE(1)), "t", collect,
					 &s), -ELOOP);
	fk_close(&f);

	/* A child with the wrong shift. */
	tree(&f);
	node(&f, 3, 3);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_chk_xa_each(&f.k, AS_NODE(NODE(1)), "t", collect,
					 &s), -EBADMSG);
	assert_non_null(strstr(f.ctx.err.msg, "shift 3"));
	fk_close(&f);

	/* A leaf (shift 0) that points at a node. */
	tree(&f);
	slot(&f, 2, 9, AS_NODE(NODE(3)));
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_chk_xa_each(&f.k, AS_NODE(NODE(1)), "t", collect,
					 &s), -EBADMSG);
	fk_close(&f);

	/* A node pointer into user space. */
	tree(&f);
	slot(&f, 1, 4, AS_NODE(0x400000ull));
	fk_open(&f, "x", 0, &L);
	assert_int_equal(vms_chk_xa_each(&f.k, AS_NODE(NODE(1)), "t", collect,
					 &s), -EBADMSG);
	assert_non_null(strstr(f.ctx.err.msg, "not a kernel address"));
	fk_close(&f);
}

/* Carving struct module from module memory. The layout (core_layout,
 * before v6.4): state at 0, name[56] at 8, core base at 0x100, size at
 * 0x108. */
static const struct vms_layout ML = {
	.have_modules = true, .mod_state = 0, .mod_name = 8,
	.mod_name_len = 56, .mod_mem = VMS_NO_MEMBER, .mod_core_base = 0x100,
	.mod_core_size = 0x108, .mod_state_live = 0, .mod_state_coming = 1,
	.mod_state_going = 2,
};

/* A struct module at @va: @state, @name, and a core region. */
static void fake_mod(struct fake *f, uint64_t va, uint32_t state,
		     const char *name, uint64_t base, uint32_t size)
{
	fk_put32(fk_at(f, va), state);
	memcpy(fk_at(f, va + 8), name, strnlen(name, 56));
	fk_put64(fk_at(f, va + 0x100), base);
	fk_put32(fk_at(f, va + 0x108), size);
}

static int carved(void *arg, uint64_t mod)
{
	struct seen *s = arg;

	if (s->n < 64)
		s->e[s->n++] = mod;
	return 0;
}

static void carves_modules_from_memory(void **state)
{
	const uint64_t D = FK_DATA_VA;
	char long_name[57];
	struct fake f;
	struct seen s = { 0 };
	(void)state;

	fk_build(&f);
	/* Found: a live and a coming module inside their own regions, and
	 * one whose fields cross into the next page. */
	fake_mod(&f, D + 0x10000, 0, "alpha", D + 0xf000, 0x3000);
	fake_mod(&f, D + 0x20040, 1, "beta-2", D + 0x20000, 0x1000);
	fake_mod(&f, D + 0x50fc0, 2, "gamma", D + 0x50000, 0x2000);
	/* Not: a region elsewhere, unformed (3), a name without a NUL or
	 * with a space, an empty name, a region below the image's end. */
	fake_mod(&f, D + 0x30000, 0, "delta", D + 0x60000, 0x1000);
	fake_mod(&f, D + 0x31000, 3, "eps", D + 0x31000, 0x1000);
	memset(long_name, 'a', 56);
	long_name[56] = 0;
	fake_mod(&f, D + 0x32000, 0, long_name, D + 0x32000, 0x1000);
	fake_mod(&f, D + 0x33000, 0, "a b", D + 0x33000, 0x1000);
	fake_mod(&f, D + 0x34000, 0, "", D + 0x34000, 0x1000);
	fake_mod(&f, D + 0x35000, 0, "low", D - 0x1000, 0x40000);
	/* The image ends at the data area: everything above is searched,
	 * and the empty rest of the address space is skipped span by span. */
	fk_open(&f, "_end", D, &ML);
	assert_int_equal(vms_mod_carve(&f.k, carved, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.e[0] == D + 0x10000 && s.e[1] == D + 0x20040 &&
		    s.e[2] == D + 0x50fc0);
	fk_close(&f);
}

static void carving_aliased_memory_finds_the_original_only(void **state)
{
	const uint64_t D = FK_DATA_VA;
	struct fake f;
	struct seen s = { 0 };
	uint64_t *pdpt, *pd;
	(void)state;

	/* The next gigabyte maps the data page 512 times over: every copy
	 * of the struct names regions that do not hold the copy. */
	fk_build(&f);
	pdpt = (uint64_t *)(f.mem + FK_PGD + 0x1000);
	pd = (uint64_t *)(f.mem + FK_PGD + 0x3000);
	pdpt[((D >> 30) + 1) & 511] = (FK_PGD + 0x3000) | 3;
	for (int i = 0; i < 512; i++)
		pd[i] = FK_DATA_PA | 0x83;
	fake_mod(&f, D + 0x10000, 0, "alpha", D + 0xf000, 0x3000);
	fk_open(&f, "_end", D, &ML);
	assert_int_equal(vms_mod_carve(&f.k, carved, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.e[0] == D + 0x10000);
	fk_close(&f);

	/* No _end symbol: an error, not a guess. */
	fk_build(&f);
	fk_open(&f, "_etext", D, &ML);
	s.n = 0;
	assert_true(vms_mod_carve(&f.k, carved, &s) < 0);
	fk_close(&f);
}

/* Page tables that map the whole kernel half: every top-level entry
 * points at one table of 1 GiB pages. The search stops at its bound on
 * mapped pages with an error, in bounded time; and, with the operation
 * past its time cap, at that. */
static void carving_a_fully_mapped_address_space_is_bounded(void **state)
{
	const uint64_t D = FK_DATA_VA;
	struct fake f;
	struct seen s = { 0 };
	uint64_t *pml4, *pdpt;
	(void)state;

	fk_build(&f);
	pml4 = (uint64_t *)(f.mem + FK_PGD);
	pdpt = (uint64_t *)(f.mem + FK_PGD + 0x4000);
	for (int i = 0; i < 512; i++)
		pdpt[i] = 0x83; /* 1 GiB at physical 0 */
	for (int i = 256; i < 512; i++)
		if (i != (int)((D >> 39) & 511))
			pml4[i] = (FK_PGD + 0x4000) | 3;
	fk_open(&f, "_end", D, &ML);
	assert_int_equal(vms_mod_carve(&f.k, carved, &s), -E2BIG);
	assert_non_null(strstr(f.ctx.err.msg, "mapped pages"));
	vms_err_clear(&f.ctx);
	vms_op_begin(&f.ctx);
	f.ctx.deadline_ns = 1;
	assert_int_equal(vms_mod_carve(&f.k, carved, &s), -ETIMEDOUT);
	fk_close(&f);
}

static unsigned int rules(bool leader, bool init_cred, uint32_t uid,
			  uint32_t euid, bool have_parent, uint32_t puid,
			  bool suid_root, bool dir_writable)
{
	struct vms_cred_facts f = {
		.leader = leader, .init_cred = init_cred, .uid = uid,
		.euid = euid, .have_parent = have_parent, .puid = puid,
		.peuid = puid, .psuid = puid, .have_prog = true,
		.suid_root = suid_root, .dir_writable = dir_writable,
	};
	return vms_chk_cred_rules(&f);
}

static void credential_rules(void **state)
{
	struct vms_cred_facts f = { 0 };
	(void)state;

	/* An ordinary user process, and root under a root parent. */
	assert_int_equal(rules(true, false, 1000, 1000, true, 1000, false,
			       false), 0);
	assert_int_equal(rules(true, false, 0, 0, true, 0, false, false), 0);
	/* init's own credentials, whatever the ids say. */
	assert_int_equal(rules(true, true, 1000, 1000, true, 1000, false,
			       false), VMS_CRED_INIT);
	assert_int_equal(rules(true, true, 0, 0, true, 1000, false, false),
			 VMS_CRED_INIT);
	/* Root (real or effective) under a parent with no root id: from
	 * the kernel, unless a set-user-ID root program explains it. */
	assert_int_equal(rules(true, false, 0, 0, true, 1000, false, false),
			 VMS_CRED_FROM_KERNEL);
	assert_int_equal(rules(false, false, 1000, 0, true, 1000, false,
			       false), VMS_CRED_FROM_KERNEL);
	assert_int_equal(rules(true, false, 0, 0, true, 1000, true, false), 0);
	/* A parent with a saved root id could have handed root on. */
	f = (struct vms_cred_facts){ .leader = true, .have_parent = true,
				     .puid = 1000, .peuid = 1000, .psuid = 0,
				     .have_prog = true };
	assert_int_equal(vms_chk_cred_rules(&f), 0);
	/* No parent found: nothing to compare with. */
	assert_int_equal(rules(true, false, 0, 0, false, 0, false, false), 0);
	/* Root from a world-writable directory: processes only, and only
	 * with a known program. */
	assert_int_equal(rules(true, false, 0, 0, true, 0, false, true),
			 VMS_CRED_TMP_ROOT);
	assert_int_equal(rules(false, false, 0, 0, true, 0, false, true), 0);
	assert_int_equal(rules(true, false, 1000, 1000, true, 0, false, true),
			 0);
	f = (struct vms_cred_facts){ .leader = true, .dir_writable = true };
	assert_int_equal(vms_chk_cred_rules(&f), 0);
	/* Everything at once. */
	assert_int_equal(rules(true, false, 0, 0, true, 1000, false, true),
			 VMS_CRED_FROM_KERNEL | VMS_CRED_TMP_ROOT);
}

struct found {
	char object[8][160], evidence[8][512], owner[8][64];
	uint64_t addr[8], target[8];
	int n;
};

static int found(const struct vms_finding *f, void *arg)
{
	struct found *x = arg;

	assert_true(x->n < 8);
	snprintf(x->object[x->n], sizeof(x->object[0]), "%s", f->object);
	snprintf(x->evidence[x->n], sizeof(x->evidence[0]), "%s",
		 f->evidence);
	snprintf(x->owner[x->n], sizeof(x->owner[0]), "%s", f->owner);
	x->addr[x->n] = f->addr;
	x->target[x->n++] = f->target;
	return 0;
}

/* A kernel of symbols and a syscall table: text at T, the table and the
 * boot record (syscalls_metadata) in the fake's data. */
#define T 0xffffffff81000000ull
#define TAB (FK_DATA_VA + 0x100)
#define META (FK_DATA_VA + 0x1000)

static void syscall_kernel(struct fake *f, const uint64_t *tab, size_t n,
			   bool record)
{
	static const char *const names[] = {
		"_stext", "__x64_sys_read", "__x64_sys_write",
		"sys_ni_syscall", "__x64_sys_getpid", "_etext",
		"sys_call_table", "after_table", "syscalls_metadata",
	};
	const uint64_t addrs[] = { T, T + 0x10, T + 0x40, T + 0x80, T + 0x100,
				   T + 0x1000, TAB, TAB + 8 * 7,
				   FK_DATA_VA + 0x800 };
	static const char *const boot[] = { "sys_read", "sys_write", NULL,
					    "sys_getpid", "sys_getpid" };
	struct vms_layout l = { 0 };
	struct btf *b = btf__new_empty();
	int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	int ptr = btf__add_ptr(b, chr);

	/* struct syscall_metadata { const char *name; ... } */
	btf__add_struct(b, "syscall_metadata", 16);
	btf__add_field(b, "name", ptr, 0, 0);
	fk_build(f);
	/* The rest of the table, up to the next symbol, is zero: padding. */
	for (size_t i = 0; i < n; i++)
		fk_put64(fk_at(f, TAB + 8 * i), tab[i]);
	/* The record: an array of pointers to syscall_metadata, one per
	 * number, each naming its SYSCALL_DEFINE. */
	for (size_t i = 0; i < 5; i++) {
		uint64_t m = META + 0x100 * i, name = m + 0x80;
		fk_put64(fk_at(f, FK_DATA_VA + 0x1800 + 8 * i),
			 boot[i] ? m : 0);
		fk_put64(fk_at(f, m), name);
		if (boot[i])
			strcpy((char *)fk_at(f, name), boot[i]);
	}
	/* syscalls_metadata points at the array of record pointers. */
	fk_put64(fk_at(f, FK_DATA_VA + 0x800),
		 record ? FK_DATA_VA + 0x1800 : 0);
	fk_open(f, "x", FK_DATA_VA, &l);
	fk_syms(f, names, addrs, VMS_ARRAY_SIZE(names));
	f->k.btf = b;
}

static void syscall_table_rules(void **state)
{
	/* read, write, ni (no record), a hook into no module's memory, the
	 * middle of getpid, and getpid where the boot record says
	 * getpid. */
	const uint64_t tab[] = { T + 0x10, T + 0x40, T + 0x80,
				 0xffffffffc0001000ull, T + 0x104, 0 };
	const uint64_t swapped[] = { T + 0x40, T + 0x10, T + 0x80, T + 0x100,
				     T + 0x100 };
	struct fake f;
	struct found got = { 0 };
	struct vms_chk c = { .k = &f.k, .check = "syscall_table",
			     .severity = VMS_SEV_CRITICAL, .fn = found,
			     .arg = &got, .stext = T, .etext = T + 0x1000,
			     .mods_loaded = true };

	(void)state;
	syscall_kernel(&f, tab, VMS_ARRAY_SIZE(tab), true);
	assert_int_equal(vms_check_syscall_table(&c), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.object[0], "sys_call_table[3] (getpid)");
	assert_string_equal(got.evidence[0],
			    "points at 0xffffffffc0001000, memory outside "
			    "kernel text and every module; expected "
			    "__x64_sys_getpid");
	assert_int_equal(got.addr[0], TAB + 3 * 8);
	assert_int_equal(got.target[0], 0xffffffffc0001000ull);
	assert_string_equal(got.object[1], "sys_call_table[4] (getpid)");
	assert_string_equal(got.evidence[1],
			    "points at 0xffffffff81000104, kernel text, "
			    "__x64_sys_getpid+0x4; expected __x64_sys_getpid");
	assert_string_equal(got.owner[1], "__x64_sys_getpid");
	btf__free(f.k.btf);
	fk_close(&f);

	/* Two entries swapped: each is a syscall function, but not the one
	 * the kernel recorded for its number at boot. */
	got.n = 0;
	syscall_kernel(&f, swapped, VMS_ARRAY_SIZE(swapped), true);
	assert_int_equal(vms_check_syscall_table(&c), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.object[0], "sys_call_table[0] (read)");
	assert_string_equal(got.evidence[0],
			    "points at 0xffffffff81000040, kernel text, "
			    "__x64_sys_write; expected __x64_sys_read");
	btf__free(f.k.btf);
	fk_close(&f);

	/* Without the boot record, any syscall function passes. */
	got.n = 0;
	syscall_kernel(&f, swapped, VMS_ARRAY_SIZE(swapped), false);
	assert_int_equal(vms_check_syscall_table(&c), 0);
	assert_int_equal(got.n, 0);
	btf__free(f.k.btf);
	fk_close(&f);
}

/* An IDT of six gates in the fake's data, the gate layout from BTF as
 * arch/x86/include/asm/desc_defs.h has it. */
#define IDT (FK_DATA_VA + 0x2000)

static void gate(struct fake *f, int v, uint64_t h, bool present)
{
	uint8_t *e = fk_at(f, IDT + 16 * (uint64_t)v);

	memset(e, 0, 16);
	e[0] = (uint8_t)h, e[1] = (uint8_t)(h >> 8);
	e[4] = 0, e[5] = (uint8_t)(0x0e | (present ? 0x80 : 0));
	e[6] = (uint8_t)(h >> 16), e[7] = (uint8_t)(h >> 24);
	for (int i = 0; i < 4; i++)
		e[8 + i] = (uint8_t)(h >> (32 + 8 * i));
}

static void idt_rules(void **state)
{
	static const char *const names[] = {
		"_stext", "asm_exc_divide_error", "some_function",
		"irq_entries_start", "spurious_entries_start", "_etext",
		"early_idt_handler_array", "after_early_stubs", "idt_table",
		"after_idt",
	};
	const uint64_t addrs[] = { T, T + 0x10, T + 0x100, T + 0x200,
				   T + 0x400, T + 0x1000,
				   0xffffffff83000000ull, 0xffffffff83000120ull,
				   IDT, IDT + 16 * 6 };
	struct vms_layout l = { 0 };
	struct btf *b = btf__new_empty();
	int u16 = btf__add_int(b, "short unsigned int", 2, 0);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int bits = btf__add_struct(b, "idt_bits", 2);
	struct fake f;
	struct found got = { 0 };
	struct vms_chk c = { .k = &f.k, .check = "idt",
			     .severity = VMS_SEV_CRITICAL, .fn = found,
			     .arg = &got, .stext = T, .etext = T + 0x1000,
			     .mods_loaded = true };

	(void)state;
	btf__add_field(b, "ist", u16, 0, 3);
	btf__add_field(b, "zero", u16, 3, 5);
	btf__add_field(b, "type", u16, 8, 5);
	btf__add_field(b, "dpl", u16, 13, 2);
	btf__add_field(b, "p", u16, 15, 1);
	btf__add_struct(b, "gate_struct", 16);
	btf__add_field(b, "offset_low", u16, 0, 0);
	btf__add_field(b, "segment", u16, 16, 0);
	btf__add_field(b, "bits", bits, 32, 0);
	btf__add_field(b, "offset_middle", u16, 48, 0);
	btf__add_field(b, "offset_high", u32, 64, 0);
	btf__add_field(b, "reserved", u32, 96, 0);
	fk_build(&f);
	gate(&f, 0, T + 0x10, true);		/* an exception entry */
	gate(&f, 1, 0xffffffff83000000ull + 9, true); /* early stub */
	gate(&f, 2, 0xdeadbeef, false);		/* not present */
	gate(&f, 3, T + 0x200 + 8 * 3, true);	/* a device vector stub */
	gate(&f, 4, 0xffffffffc0002000ull, true); /* into no module */
	gate(&f, 6, 0xffffffff83000200ull, true); /* past the stubs */
	gate(&f, 5, T + 0x110, true);		/* inside a function */
	fk_open(&f, "x", FK_DATA_VA, &l);
	fk_syms(&f, names, addrs, VMS_ARRAY_SIZE(names));
	f.k.btf = b;
	assert_int_equal(vms_check_idt(&c), 0);
	assert_int_equal(got.n, 2);
	/* The table's size is the distance to the next symbol: gate 6
	 * lies past it and is not read. */
	assert_string_equal(got.object[0], "idt vector 0x4");
	assert_string_equal(got.evidence[0],
			    "gate leads to 0xffffffffc0002000, memory outside "
			    "kernel text and every module, not to an entry "
			    "point");
	assert_int_equal(got.addr[0], IDT + 16 * 4);
	assert_string_equal(got.object[1], "idt vector 0x5");
	assert_string_equal(got.evidence[1],
			    "gate leads to 0xffffffff81000110, kernel text, "
			    "some_function+0x10, not to an entry point");
	assert_string_equal(got.owner[1], "some_function");
	/* With nothing after the early stubs, their extent is unknown: an
	 * address above them is no stub (a module's, say). */
	got.n = 0;
	fk_syms(&f, (const char *const[]){ "_stext", "asm_exc_divide_error",
					   "some_function",
					   "irq_entries_start",
					   "spurious_entries_start", "_etext",
					   "early_idt_handler_array",
					   "idt_table", "after_idt" },
		(const uint64_t[]){ T, T + 0x10, T + 0x100, T + 0x200,
				    T + 0x400, T + 0x1000,
				    0xffffffff83000000ull, IDT,
				    IDT + 16 * 6 },
		9);
	assert_int_equal(vms_check_idt(&c), 0);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.object[0], "idt vector 0x1");
	assert_string_equal(got.object[1], "idt vector 0x4");
	assert_string_equal(got.object[2], "idt vector 0x5");
	btf__free(b);
	fk_close(&f);
}

/* The injected_code rules on synthetic areas. */
static void injected_code_rules(void **state)
{
	static const uint8_t elf[16] = "\x7f" "ELF\2\1\1";
	static const uint8_t code[16] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 };
	struct vms_vma anon = { .flags = 0x7 }, heap = { .flags = 0x3 };
	struct vms_vma file = { .flags = 0x7, .inode = 0xffff888000001000ull };
	struct vms_vma vdso = { .flags = 0x5 };

	(void)state;
	strcpy(heap.name, "[heap]");
	strcpy(vdso.name, "[vdso]");
	strcpy(file.name, "/usr/lib/libjit.so");
	assert_int_equal(vms_chk_area_rules(&anon, code, 16), VMS_AREA_RWX);
	assert_int_equal(vms_chk_area_rules(&anon, elf, 16),
			 VMS_AREA_RWX | VMS_AREA_ELF);
	/* Not resident: only the flags speak. */
	assert_int_equal(vms_chk_area_rules(&anon, NULL, 0), VMS_AREA_RWX);
	assert_int_equal(vms_chk_area_rules(&heap, code, 16), 0);
	assert_int_equal(vms_chk_area_rules(&heap, elf, 16), VMS_AREA_ELF);
	/* Three bytes of a header are not a header. */
	assert_int_equal(vms_chk_area_rules(&heap, elf, 3), 0);
	heap.flags = 0x6; /* write and exec without read still counts */
	assert_int_equal(vms_chk_area_rules(&heap, code, 16), VMS_AREA_RWX);
	strcpy(heap.name, "[stack]");
	assert_int_equal(vms_chk_area_rules(&heap, elf, 16),
			 VMS_AREA_RWX | VMS_AREA_ELF);
	/* A file's mapping, or the kernel's own, is never "injected". */
	assert_int_equal(vms_chk_area_rules(&file, elf, 16), 0);
	assert_int_equal(vms_chk_area_rules(&vdso, elf, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walks_entries_in_order),
		cmocka_unit_test(hostile_trees_end_with_errors),
		cmocka_unit_test(carves_modules_from_memory),
		cmocka_unit_test(
			carving_a_fully_mapped_address_space_is_bounded),
		cmocka_unit_test(carving_aliased_memory_finds_the_original_only),
		cmocka_unit_test(credential_rules),
		cmocka_unit_test(syscall_table_rules),
		cmocka_unit_test(idt_rules),
		cmocka_unit_test(injected_code_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
