/* SPDX-License-Identifier: MIT */
/*
 * The layout resolver on BTF generated with libbpf's writer, with member
 * offsets unlike any real kernel's, members inside anonymous unions, the
 * pre-5.14 'state' name, and missing members that must all be named in
 * one error; and hostile BTF: a header that lies about its lengths, a
 * blob cut anywhere, an enumerator whose name is outside the strings,
 * anonymous members nested so as to make lookups exponential.
 */
#include <bpf/btf.h>

#include "testutil.h"
#include "../../src/linux/kernel.h"

struct ids {
	int u32, s32, u64, chr, ptr, arr16, list, kuid;
};

static struct btf *base_types(struct ids *id)
{
	struct btf *b = btf__new_empty();
	assert_non_null(b);
	id->u32 = btf__add_int(b, "unsigned int", 4, 0);
	id->s32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	id->u64 = btf__add_int(b, "long unsigned int", 8, 0);
	id->chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	id->ptr = btf__add_ptr(b, 0);
	id->arr16 = btf__add_array(b, id->u32, id->chr, 16);
	id->list = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", id->ptr, 0, 0);
	btf__add_field(b, "prev", id->ptr, 64, 0);
	id->kuid = btf__add_struct(b, "kuid_t", 4);
	btf__add_field(b, "val", id->u32, 0, 0);
	return b;
}

static void add_task(struct btf *b, struct ids *id, bool old_state,
		     bool comm)
{
	int anon = btf__add_union(b, NULL, 8);
	if (old_state)
		btf__add_field(b, "state", id->u64, 0, 0);
	else
		btf__add_field(b, "__state", id->u32, 0, 0);
	btf__add_struct(b, "task_struct", 5000);
	btf__add_field(b, "mm", id->ptr, 8 * 16, 0);
	btf__add_field(b, "tasks", id->list, 8 * 1000, 0);
	btf__add_field(b, "pid", id->s32, 8 * 1504, 0);
	btf__add_field(b, "tgid", id->s32, 8 * 1508, 0);
	btf__add_field(b, "real_parent", id->ptr, 8 * 1520, 0);
	btf__add_field(b, "real_cred", id->ptr, 8 * 1528, 0);
	btf__add_field(b, "exit_state", id->s32, 8 * 1540, 0);
	btf__add_field(b, "signal", id->ptr, 8 * 1544, 0);
	btf__add_field(b, "flags", id->u32, 8 * 44, 0);
	btf__add_field(b, "thread_node", id->list, 8 * 1600, 0);
	btf__add_field(b, "worker_private", id->ptr, 8 * 1616, 0);
	if (comm)
		btf__add_field(b, "comm", id->arr16, 8 * 2000, 0);
	btf__add_field(b, "", anon, 8 * 3000, 0);
}

static void add_rest(struct btf *b, struct ids *id, bool egid)
{
	int cap = btf__add_struct(b, "kernel_cap_t", 8);
	btf__add_field(b, "val", id->u64, 0, 0);
	btf__add_struct(b, "cred", 128);
	btf__add_field(b, "uid", id->kuid, 8 * 4, 0);
	btf__add_field(b, "gid", id->kuid, 8 * 8, 0);
	btf__add_field(b, "suid", id->kuid, 8 * 12, 0);
	btf__add_field(b, "sgid", id->kuid, 8 * 16, 0);
	btf__add_field(b, "euid", id->kuid, 8 * 20, 0);
	if (egid)
		btf__add_field(b, "egid", id->kuid, 8 * 24, 0);
	btf__add_field(b, "fsuid", id->kuid, 8 * 28, 0);
	btf__add_field(b, "fsgid", id->kuid, 8 * 32, 0);
	btf__add_field(b, "cap_inheritable", cap, 8 * 40, 0);
	btf__add_field(b, "cap_permitted", cap, 8 * 48, 0);
	btf__add_field(b, "cap_effective", cap, 8 * 56, 0);
	btf__add_field(b, "cap_bset", cap, 8 * 64, 0);
	/* no cap_ambient: optional, as before v4.3 */
	btf__add_struct(b, "signal_struct", 100);
	btf__add_field(b, "nr_threads", id->s32, 8 * 12, 0);
	btf__add_field(b, "thread_head", id->list, 8 * 40, 0);
	/* mm_struct keeps its fields in an anonymous struct, as 6.1 does. */
	int anon = btf__add_struct(b, NULL, 64);
	btf__add_field(b, "pgd", id->ptr, 8 * 8, 0);
	btf__add_field(b, "arg_start", id->u64, 8 * 16, 0);
	btf__add_field(b, "arg_end", id->u64, 8 * 24, 0);
	btf__add_field(b, "env_start", id->u64, 8 * 32, 0);
	btf__add_field(b, "env_end", id->u64, 8 * 40, 0);
	btf__add_struct(b, "mm_struct", 200);
	btf__add_field(b, "", anon, 8 * 128, 0);
	btf__add_struct(b, "kthread", 100);
	btf__add_field(b, "full_name", id->ptr, 8 * 72, 0);
}

/* Round-trip through the raw format, as the guest's blob would come. */
static struct btf *reparse(struct btf *b)
{
	uint32_t size;
	const void *raw = btf__raw_data(b, &size);
	struct btf *r = btf__new(raw, size);
	assert_non_null(r);
	btf__free(b);
	return r;
}

static void resolves_offsets_through_anonymous_unions(void **state)
{
	struct ids id;
	struct vms_ctx ctx;
	struct vms_layout l;
	(void)state;

	struct btf *b = base_types(&id);
	add_task(b, &id, false, true);
	add_rest(b, &id, true);
	b = reparse(b);
	vms_ctx_init(&ctx);
	assert_int_equal(vms_layout_resolve(&ctx, b, &l), 0);
	assert_int_equal(l.list_next, 0);
	assert_int_equal(l.list_prev, 8);
	assert_int_equal(l.task_size, 5000);
	assert_int_equal(l.task_mm, 16);
	assert_int_equal(l.task_tasks, 1000);
	assert_int_equal(l.task_pid, 1504);
	assert_int_equal(l.task_tgid, 1508);
	assert_int_equal(l.task_real_parent, 1520);
	assert_int_equal(l.task_real_cred, 1528);
	assert_int_equal(l.task_exit_state, 1540);
	assert_int_equal(l.task_signal, 1544);
	assert_int_equal(l.task_comm, 2000);
	assert_int_equal(l.task_comm_len, 16);
	assert_int_equal(l.task_state, 3000);
	assert_int_equal(l.task_state_size, 4);
	assert_int_equal(l.cred_uid, 4);
	assert_int_equal(l.cred_gid, 8);
	assert_int_equal(l.cred_euid, 20);
	assert_int_equal(l.cred_egid, 24);
	assert_int_equal(l.signal_nr_threads, 12);
	assert_int_equal(l.signal_thread_head, 40);
	assert_int_equal(l.task_flags, 44);
	assert_int_equal(l.task_thread_node, 1600);
	assert_int_equal(l.task_worker_private, 1616);
	assert_int_equal(l.cred_suid, 12);
	assert_int_equal(l.cred_fsgid, 32);
	assert_int_equal(l.cred_cap[2], 56);
	assert_int_equal(l.cred_cap[4], VMS_NO_MEMBER);
	assert_int_equal(l.mm_pgd, 136);
	assert_int_equal(l.mm_env_end, 168);
	assert_int_equal(l.kthread_full_name, 72);
	assert_int_equal(l.task_span_lo, 16);
	assert_int_equal(l.task_span_hi, 3004);
	btf__free(b);
}

static void accepts_pre_5_14_state_member(void **state)
{
	struct ids id;
	struct vms_ctx ctx;
	struct vms_layout l;
	(void)state;

	struct btf *b = base_types(&id);
	add_task(b, &id, true, true);
	add_rest(b, &id, true);
	b = reparse(b);
	vms_ctx_init(&ctx);
	assert_int_equal(vms_layout_resolve(&ctx, b, &l), 0);
	assert_int_equal(l.task_state, 3000);
	assert_int_equal(l.task_state_size, 8);
	btf__free(b);
}

static void one_error_names_every_missing_member(void **state)
{
	struct ids id;
	struct vms_ctx ctx;
	struct vms_layout l;
	(void)state;

	struct btf *b = base_types(&id);
	add_task(b, &id, false, false);
	add_rest(b, &id, false);
	b = reparse(b);
	vms_ctx_init(&ctx);
	assert_int_equal(vms_layout_resolve(&ctx, b, &l), -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "2 members"));
	assert_non_null(strstr(ctx.err.msg, "task_struct.comm"));
	assert_non_null(strstr(ctx.err.msg, "cred.egid"));
	btf__free(b);
}

/* printk_info's level is a 3-bit field; facility a plain byte. */
static void reads_bitfields(void **state)
{
	struct ids id;
	size_t off, bits;
	(void)state;

	struct btf *b = base_types(&id);
	int u8 = btf__add_int(b, "u8", 1, 0);
	btf__add_struct(b, "printk_info", 88);
	btf__add_field(b, "seq", id.u64, 0, 0);
	btf__add_field(b, "facility", u8, 8 * 18, 0);
	btf__add_field(b, "flags", u8, 8 * 19, 5);
	btf__add_field(b, "level", u8, 8 * 19 + 5, 3);
	b = reparse(b);
	assert_int_equal(vms_btf_bitfield(b, "printk_info", "level", &off,
					  &bits), 0);
	assert_int_equal(off, 157);
	assert_int_equal(bits, 3);
	assert_int_equal(vms_btf_bitfield(b, "printk_info", "facility", &off,
					  &bits), 0);
	assert_int_equal(off, 144);
	assert_int_equal(bits, 8);
	assert_int_equal(vms_btf_bitfield(b, "printk_info", "nope", &off,
					  &bits), -ENOENT);
	/* The byte-offset resolver refuses bitfields. */
	assert_int_equal(vms_btf_member(b, "printk_info", "level", &off,
					NULL), -ENOTSUP);
	btf__free(b);
}

/* struct btf_header's fields, by byte offset. */
enum { HDR_LEN = 4, TYPE_OFF = 8, TYPE_LEN = 12, STR_OFF = 16,
       STR_LEN = 20 };

static void header_lies_about_lengths(void **state)
{
	struct ids id;
	uint32_t size;
	static const struct {
		int field;
		uint32_t value;
	} lies[] = {
		{ HDR_LEN, 0xffffffffu }, { HDR_LEN, 8 },
		{ TYPE_OFF, 0xfffffff0u }, { TYPE_OFF, 2 },
		{ TYPE_LEN, 0xffffffffu }, { TYPE_LEN, 0x7ffffff0u },
		{ STR_OFF, 0xffffffffu }, { STR_LEN, 0xffffffffu },
		{ STR_LEN, 0x7fffffffu }, { STR_LEN, 0 },
	};
	(void)state;

	struct btf *b = base_types(&id);
	add_task(b, &id, false, true);
	const uint8_t *raw = btf__raw_data(b, &size);
	uint8_t *copy = malloc(size);
	assert_non_null(copy);
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		memcpy(copy, raw, size);
		memcpy(copy + lies[i].field, &lies[i].value, 4);
		assert_null(vms_btf_parse(copy, size));
	}
	/* Every cut of the blob: refused, never read past. */
	for (uint32_t cut = 0; cut < size; cut += 7) {
		uint8_t *c = malloc(cut ? cut : 1);
		assert_non_null(c);
		memcpy(c, raw, cut);
		assert_null(vms_btf_parse(c, cut));
		free(c);
	}
	free(copy);
	btf__free(b);
}

/* An enumerator whose name lies outside the strings (libbpf parses the
 * blob, and gives NULL for that name): enum lookups skip it. */
static void enumerator_name_outside_the_strings(void **state)
{
	struct ids id;
	uint32_t size;
	int64_t v;
	(void)state;

	struct btf *b = base_types(&id);
	btf__add_enum(b, "module_state", 4);
	btf__add_enum_value(b, "MODULE_STATE_LIVE", 0);
	btf__add_enum_value(b, "MODULE_STATE_COMING", 1);
	const uint8_t *raw = btf__raw_data(b, &size);
	uint8_t *copy = malloc(size);
	assert_non_null(copy);
	memcpy(copy, raw, size);
	/* The enum is the last type; its first value's name_off is 12
	 * bytes into it, each value 8 bytes, the strings right after. */
	uint32_t hdr, type_off, type_len, bad = 0x7fffffffu;
	memcpy(&hdr, copy + HDR_LEN, 4);
	memcpy(&type_off, copy + TYPE_OFF, 4);
	memcpy(&type_len, copy + TYPE_LEN, 4);
	memcpy(copy + hdr + type_off + type_len - 16, &bad, 4);
	struct btf *r = vms_btf_parse(copy, size);
	assert_non_null(r); /* libbpf 1.1 does not check it */
	{
		assert_int_equal(vms_btf_enum_value(r, "MODULE_STATE_COMING",
						    &v), 0);
		assert_int_equal(v, 1);
		assert_int_equal(vms_btf_enum_value(r, "MODULE_STATE_LIVE",
						    &v), -ENOENT);
		assert_int_equal(vms_btf_enum_value_near(
			r, "MODULE_STATE_COMING", "MODULE_STATE_LIVE", &v),
			-ENOENT);
		btf__free(r);
	}
	free(copy);
	btf__free(b);
}

/* Anonymous unions nested 14 deep (within the resolver's depth), each
 * with 8 anonymous members of the one below: 8^14 paths to a member that
 * is not there. The lookup looks
 * at a bounded number of members and says it is missing. */
static void anonymous_nesting_is_bounded(void **state)
{
	struct ids id;
	size_t off, size;
	(void)state;

	struct btf *b = base_types(&id);
	int inner = btf__add_union(b, NULL, 4);
	btf__add_field(b, "leaf", id.u32, 0, 0);
	for (int level = 0; level < 14; level++) {
		int u = btf__add_union(b, NULL, 4);
		for (int i = 0; i < 8; i++)
			btf__add_field(b, NULL, inner, 0, 0);
		inner = u;
	}
	btf__add_struct(b, "nest", 4);
	btf__add_field(b, NULL, inner, 0, 0);
	b = reparse(b);
	assert_int_equal(vms_btf_member(b, "nest", "leaf", &off, &size), 0);
	assert_int_equal(off, 0);
	assert_int_equal(vms_btf_member(b, "nest", "absent", &off, &size),
			 -ENOENT);
	assert_int_equal(vms_btf_bitfield(b, "nest", "absent", &off, &size),
			 -ENOENT);
	btf__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolves_offsets_through_anonymous_unions),
		cmocka_unit_test(accepts_pre_5_14_state_member),
		cmocka_unit_test(one_error_names_every_missing_member),
		cmocka_unit_test(reads_bitfields),
		cmocka_unit_test(header_lies_about_lengths),
		cmocka_unit_test(enumerator_name_outside_the_strings),
		cmocka_unit_test(anonymous_nesting_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
