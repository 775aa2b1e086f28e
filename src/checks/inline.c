/* SPDX-License-Identifier: MIT */
/*
 * inline_hooks: the first instructions of every system call function,
 * disassembled with capstone.
 *
 * A rootkit that leaves sys_call_table alone can still take a system
 * call over by writing a jump where the function's first instruction
 * should be (khook, Reptile and their kin do this through a writable
 * alias of the text page). The functions are the kallsyms symbols
 * __x64_sys_*, __ia32_sys_*, __ia32_compat_sys_* and __x32_compat_sys_*
 * (the entry points sys_call_table holds since v4.17; compiler-split
 * ".cold" parts are left out).
 *
 * What a clean kernel has there, measured on Debian's 6.1 and 6.12:
 * ENDBR64 or its 4-byte NOP seal (IBT kernels, v5.18+), then the 5-byte
 * NOP left where -mfentry put a call to __fentry__, then ordinary code that may tail-jump
 * into kernel text (__x64_sys_map_shadow_stack is one such jump). So the
 * instructions that start in the first WINDOW bytes are decoded, up to
 * the first ret or unconditional jump, and each control transfer is
 * judged by where it leads:
 *  - into kernel text: fine (tail calls, jump labels, return thunks);
 *  - a call on ftrace's own fentry site (sites.c) to a registered ftrace
 *    trampoline or direct-call target: ftrace's, and the ftrace_hooks
 *    check names its owner;
 *  - anything on the address of a registered kprobe (its int3, or the
 *    jump of an optimised probe): the kprobes check names its owner;
 *  - anywhere else, an indirect jump whose target cannot be computed,
 *    push+ret, an int3 no kprobe owns, or bytes that do not decode: a
 *    finding, with the module or memory the code leads into.
 * Known limits: a hook placed deeper in a function, or a function made
 * to return at once, is left to the baseline (whose text hashes cover
 * every byte).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "inline.h"
#include "../core/dynlib.h"

#define LAYER "checks"
#define READ_LEN 32		/* WINDOW plus one longest instruction */
#define MAX_TARGETS 65536	/* ftrace trampolines and direct calls */
#define MAX_HASH_BITS 20	/* ftrace_hash.size_bits (kernel: 12) */

static const char *const prefixes[] = {
	"__x64_sys_", "__ia32_sys_", "__ia32_compat_sys_",
	"__x32_compat_sys_",
};

struct inl {
	struct vms_chk *c;
	csh cs;
	cs_insn *insn;
	/* Loaded on first need: a clean kernel never needs them. */
	bool have_ftrace, have_kprobes;
	struct vms_chk_sites ftrace;	/* fentry sites */
	struct vms_addrset ftrace_targets;
	struct vms_addrset kprobes;	/* probed addresses */
	struct vms_inline_env env;
};

/* The pointer at @off in @ops (ftrace_ops.trampoline or direct_call),
 * when set, is where ftrace's calls may lead. */
static int add_target(struct inl *x, uint64_t ops, size_t off)
{
	uint64_t v;
	int err;

	if (off == VMS_NO_MEMBER)
		return 0;
	if ((err = vms_kernel_read_u64(x->c->k, ops + off, &v)))
		return err;
	return v ? vms_addrset_add(&x->ftrace_targets, v) : 0;
}

struct ops_targets {
	struct inl *x;
	size_t tramp, direct;
};

static int ops_target(void *arg, uint64_t ops)
{
	struct ops_targets *t = arg;
	int err = add_target(t->x, ops, t->tramp);

	if (err >= 0)
		err = add_target(t->x, ops, t->direct);
	if (err >= 0 && t->x->ftrace_targets.len > MAX_TARGETS)
		err = vms_err(t->x->c->k->ctx, -E2BIG, LAYER,
			      "over %u ftrace trampolines", MAX_TARGETS);
	return err < 0 ? err : 0;
}

/* The direct-call targets of direct_functions (a struct ftrace_hash:
 * 1 << size_bits buckets of ftrace_func_entry { hlist, ip, direct }),
 * used by BPF trampolines (v5.5+). */
static int direct_targets(struct inl *x)
{
	struct vms_kernel *k = x->c->k;
	size_t o_bits, o_buckets, o_node, o_direct, sz;
	struct vms_addrset seen;
	uint64_t hash, buckets, bits;
	uint32_t count = 0;
	int err = 0;

	if (vms_kernel_sym(k, "direct_functions", &hash) ||
	    vms_btf_member(k->btf, "ftrace_hash", "size_bits", &o_bits, &sz) ||
	    vms_btf_member(k->btf, "ftrace_hash", "buckets", &o_buckets,
			   &sz) ||
	    vms_btf_member(k->btf, "ftrace_func_entry", "hlist", &o_node,
			   &sz) ||
	    vms_btf_member(k->btf, "ftrace_func_entry", "direct", &o_direct,
			   &sz) || sz != 8) {
		vms_err_clear(k->ctx);
		return 0; /* a kernel without direct calls */
	}
	if ((err = vms_kernel_read_u64(k, hash, &hash)) || !hash ||
	    (err = vms_kernel_read_u64(k, hash + o_bits, &bits)) ||
	    (err = vms_kernel_read_u64(k, hash + o_buckets, &buckets)))
		return err;
	bits &= 0xffffffff; /* an unsigned long in 6.x, an int before */
	if (bits > MAX_HASH_BITS)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, hash,
				  "ftrace hash at %#llx claims 2^%llu buckets",
				  (unsigned long long)hash,
				  (unsigned long long)bits);
	if (!buckets)
		return 0; /* EMPTY_HASH */
	vms_addrset_init(&seen);
	for (uint64_t b = 0; b < (1ull << bits) && !err; b++) {
		uint64_t node;
		if ((err = vms_kernel_read_u64(k, buckets + 8 * b, &node)))
			break;
		while (node && !err) {
			uint64_t direct;
			if ((err = vms_walk_visit(k, &seen, &count, MAX_TARGETS,
						  node, "direct_functions")) ||
			    (err = vms_kernel_read_u64(
				     k, node - o_node + o_direct, &direct)))
				break;
			if (direct &&
			    (err = vms_addrset_add(&x->ftrace_targets,
						   direct)) < 0)
				break;
			err = vms_kernel_read_u64(k, node + k->l.list_next,
						  &node);
		}
	}
	vms_addrset_fini(&seen);
	return err < 0 ? err : 0;
}

static int load_ftrace(struct inl *x)
{
	struct vms_kernel *k = x->c->k;
	struct ops_targets t = { .x = x };
	size_t sz;
	int err;

	if (x->have_ftrace)
		return 0;
	x->have_ftrace = true;
	if (vms_btf_member(k->btf, "ftrace_ops", "trampoline", &t.tramp,
			   &sz) || sz != 8)
		t.tramp = VMS_NO_MEMBER;
	/* v6.6+: the direct call of an ops that has one */
	if (vms_btf_member(k->btf, "ftrace_ops", "direct_call", &t.direct,
			   &sz) || sz != 8)
		t.direct = VMS_NO_MEMBER;
	if ((err = vms_chk_sites_collect(x->c, 1u << VMS_SITE_FTRACE,
					 &x->ftrace)) ||
	    (err = direct_targets(x)))
		return err;
	if (vms_kernel_sym(k, "ftrace_ops_list", &(uint64_t){ 0 })) {
		vms_err_clear(k->ctx);
		return 0; /* no ftrace */
	}
	return vms_chk_ftrace_ops_each(x->c, ops_target, &t);
}

static int kprobe_addr(void *arg, uint64_t kp, uint64_t addr)
{
	struct inl *x = arg;

	(void)kp;
	return vms_addrset_add(&x->kprobes, addr) < 0 ? -ENOMEM : 0;
}

static int load_kprobes(struct inl *x)
{
	struct vms_kernel *k = x->c->k;

	if (x->have_kprobes)
		return 0;
	x->have_kprobes = true;
	if (vms_kernel_sym(k, "kprobe_table", &(uint64_t){ 0 })) {
		vms_err_clear(k->ctx);
		return 0; /* no kprobes */
	}
	return vms_chk_kprobes_each(x->c, kprobe_addr, x);
}

static bool env_text(void *arg, uint64_t a)
{
	struct inl *x = arg;

	return x->c->stext <= a && a < x->c->etext;
}

static int env_ftrace_call(void *arg, uint64_t site, uint64_t target)
{
	struct inl *x = arg;
	const struct vms_chk_site *s;
	int err;

	if ((err = load_ftrace(x)))
		return err;
	s = vms_chk_site_at(&x->ftrace, site);
	return s && s->kind == VMS_SITE_FTRACE &&
	       vms_addrset_has(&x->ftrace_targets, target);
}

static int env_kprobe(void *arg, uint64_t a)
{
	struct inl *x = arg;
	int err;

	if ((err = load_kprobes(x)))
		return err;
	return vms_addrset_has(&x->kprobes, a);
}

static int env_read_ptr(void *arg, uint64_t va, uint64_t *ret)
{
	struct inl *x = arg;
	int err = vms_kernel_read_u64(x->c->k, va, ret);

	if (err)
		vms_err_clear(x->c->k->ctx);
	return err;
}

/* libcapstone, opened by the first disassembler. */
static struct {
	__typeof__(&cs_open) cs_open;
	__typeof__(&cs_option) cs_option;
	__typeof__(&cs_malloc) cs_malloc;
	__typeof__(&cs_free) cs_free;
	__typeof__(&cs_close) cs_close;
	__typeof__(&cs_disasm_iter) cs_disasm_iter;
	__typeof__(&cs_insn_group) cs_insn_group;
} CS;

static const struct vms_dynsym capstone_syms[] = {
	VMS_DYNSYM(CS, cs_open), VMS_DYNSYM(CS, cs_option),
	VMS_DYNSYM(CS, cs_malloc), VMS_DYNSYM(CS, cs_free),
	VMS_DYNSYM(CS, cs_close), VMS_DYNSYM(CS, cs_disasm_iter),
	VMS_DYNSYM(CS, cs_insn_group),
};

static struct vms_dynlib capstone_lib = {
	.soname = VMS_SONAME_CAPSTONE, .what = "disassembling (the "
	"inline-hook check)", .syms = capstone_syms,
	.nsyms = VMS_ARRAY_SIZE(capstone_syms),
};

int vms_inline_open(struct vms_ctx *ctx, csh *cs, cs_insn **insn)
{
	int err;

	if ((err = vms_dynlib_load(ctx, &capstone_lib)))
		return err;
	if (CS.cs_open(CS_ARCH_X86, CS_MODE_64, cs) != CS_ERR_OK)
		return vms_err(ctx, -ENOMEM, LAYER, "capstone: cannot open "
			       "an x86-64 disassembler");
	if (CS.cs_option(*cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK ||
	    !(*insn = CS.cs_malloc(*cs))) {
		CS.cs_close(cs);
		return vms_err(ctx, -ENOMEM, LAYER, "capstone: cannot open "
			       "an x86-64 disassembler");
	}
	return 0;
}

void vms_inline_close(csh *cs, cs_insn *insn)
{
	if (insn)
		CS.cs_free(insn, 1);
	CS.cs_close(cs);
}

static void verdict(struct vms_inline_verdict *v, const cs_insn *in,
		    uint64_t target, const char *why)
{
	v->at = in->address;
	v->target = target;
	snprintf(v->insn, sizeof(v->insn), "%.31s%s%.120s", in->mnemonic,
		 in->op_str[0] ? " " : "", in->op_str);
	v->why = why;
}

int vms_inline_judge(csh cs, cs_insn *in, const uint8_t *code, size_t len,
		     uint64_t fn, const struct vms_inline_env *e,
		     struct vms_inline_verdict *v)
{
	const uint8_t *p = code;
	size_t n = len;
	uint64_t a = fn;
	/* What the previous instruction did: pushed a value (push+ret),
	 * or loaded a 64-bit register with an immediate (mov+jmp reg,
	 * mov+push reg). Only the instruction right before counts, so no
	 * later write to the register can slip between. */
	bool pushed = false;
	uint64_t push_val = 0, reg_val = 0;
	x86_reg reg = X86_REG_INVALID;
	int r;

	memset(v, 0, sizeof(*v));
	while (a - fn < VMS_INLINE_WINDOW) {
		const cs_x86 *x;
		bool jmp, call, uncond;
		uint64_t t = 0;
		bool known = false;

		if (!CS.cs_disasm_iter(cs, &p, &n, &a, in)) {
			v->at = a;
			snprintf(v->insn, sizeof(v->insn), "(%zu bytes)",
				 n < 4 ? n : (size_t)4);
			v->why = n ? "bytes that do not decode as x86-64"
				   : "the function's bytes end here";
			return 1;
		}
		x = &in->detail->x86;
		/* A registered kprobe owns whatever is at its address. */
		if ((in->id == X86_INS_INT3 || CS.cs_insn_group(cs, in,
							      CS_GRP_JUMP)) &&
		    (r = e->kprobe(e->arg, in->address)) != 0)
			return r < 0 ? r : 0;
		if (in->id == X86_INS_INT3) {
			verdict(v, in, 0, "a breakpoint that no kprobe owns");
			return 1;
		}
		if (CS.cs_insn_group(cs, in, CS_GRP_RET)) {
			if (pushed) {
				verdict(v, in, push_val,
					push_val ? "push and ret: a jump in "
						   "disguise"
						 : "push and ret: a jump in "
						   "disguise, to where vmsight "
						   "cannot compute");
				return 1;
			}
			return 0; /* the function ends: nothing was hooked */
		}
		jmp = CS.cs_insn_group(cs, in, CS_GRP_JUMP);
		call = CS.cs_insn_group(cs, in, CS_GRP_CALL);
		if (!jmp && !call) {
			const cs_x86_op *o = x->operands;
			bool was = reg != X86_REG_INVALID;
			x86_reg was_reg = reg;

			/* push imm: its value; push REG: the value the
			 * instruction before put there, else unknown (0). */
			pushed = in->id == X86_INS_PUSH && x->op_count == 1 &&
				 (o[0].type == X86_OP_IMM ||
				  o[0].type == X86_OP_REG);
			push_val = !pushed ? 0
				   : o[0].type == X86_OP_IMM ? (uint64_t)o[0].imm
				   : was && o[0].reg == was_reg ? reg_val
								: 0;
			reg = X86_REG_INVALID;
			if ((in->id == X86_INS_MOVABS ||
			     in->id == X86_INS_MOV) &&
			    x->op_count == 2 && o[0].type == X86_OP_REG &&
			    o[0].size == 8 && o[1].type == X86_OP_IMM) {
				reg = o[0].reg;
				reg_val = (uint64_t)o[1].imm;
			}
			continue;
		}
		pushed = false;
		uncond = in->id == X86_INS_JMP;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			t = (uint64_t)x->operands[0].imm;
			known = true;
		} else if (x->op_count == 1 &&
			   x->operands[0].type == X86_OP_MEM &&
			   x->operands[0].mem.base == X86_REG_RIP &&
			   x->operands[0].mem.index == X86_REG_INVALID &&
			   x->operands[0].mem.segment == X86_REG_INVALID) {
			uint64_t slot = in->address + in->size +
					(uint64_t)x->operands[0].mem.disp;
			known = !e->read_ptr(e->arg, slot, &t);
		} else if (x->op_count == 1 &&
			   x->operands[0].type == X86_OP_REG &&
			   x->operands[0].reg == reg) {
			t = reg_val;
			known = true;
		}
		reg = X86_REG_INVALID;
		if (!known) {
			verdict(v, in, 0,
				"an indirect jump whose target vmsight cannot "
				"compute");
			return 1;
		}
		if (e->text(e->arg, t)) {
			if (uncond)
				return 0; /* a tail jump: the code goes on in
					   * kernel text */
			continue;
		}
		if (call && (r = e->ftrace_call(e->arg, in->address, t)) != 0) {
			if (r < 0)
				return r;
			continue; /* ftrace's: ftrace_hooks reports it */
		}
		verdict(v, in, t, "leads out of kernel text");
		return 1;
	}
	return 0;
}

/* Which entry-point family @name belongs to (an index of prefixes), or
 * -1. */
static int family(const char *name)
{
	if (strchr(name, '.'))
		return -1; /* a compiler-split part: not an entry */
	for (size_t i = 0; i < VMS_ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return (int)i;
	return -1;
}

static int one(struct inl *x, const char *name, uint64_t fn)
{
	struct vms_chk *c = x->c;
	struct vms_inline_verdict v;
	uint8_t code[READ_LEN];
	char where[256], owner[64], at[160], evidence[700];
	char hex[16 * 3 + 1] = "";
	size_t len = READ_LEN;
	int r, err;

	if (fn < c->stext || fn >= c->etext)
		return 0; /* not in kernel text: not an entry point */
	if (c->etext - fn < len)
		len = c->etext - fn;
	if ((err = vms_kernel_read(c->k, fn, code, len)))
		return err;
	if ((r = vms_inline_judge(x->cs, x->insn, code, len, fn, &x->env,
				  &v)) <= 0)
		return r;
	if (v.target)
		vms_chk_describe(c, v.target, where, sizeof(where), owner,
				 sizeof(owner));
	else
		where[0] = owner[0] = 0;
	vms_chk_sym_off(c, v.at, at, sizeof(at));
	for (size_t i = 0; i < 16 && i < len; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, " %02x", code[i]);
	snprintf(evidence, sizeof(evidence), "%s at %s: %s%s%s; first bytes%s",
		 v.insn, at, v.why, v.target ? ", into " : "", where, hex);
	err = vms_chk_emit(c, name, evidence, v.at, v.target, owner);
	return err < 0 ? err : 0;
}

int vms_check_inline_hooks(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	struct inl x = { .c = c };
	struct vms_addrset done;
	int err = 0;

	x.env = (struct vms_inline_env){ .text = env_text,
					 .ftrace_call = env_ftrace_call,
					 .kprobe = env_kprobe,
					 .read_ptr = env_read_ptr, .arg = &x };
	if ((err = vms_inline_open(k->ctx, &x.cs, &x.insn)))
		return err;
	vms_addrset_init(&done);
	vms_addrset_init(&x.ftrace_targets);
	vms_addrset_init(&x.kprobes);
	/* One pass per family, so that an address with aliases (a
	 * syscall without arguments has one entry for both ABIs) is
	 * judged once, under its __x64_sys_ name. */
	for (int f = 0; f < (int)VMS_ARRAY_SIZE(prefixes) && !err; f++) {
		for (uint32_t i = 0; i < k->ks.n && !err; i++) {
			const char *name = vms_ksyms_name(&k->ks, i);
			int r;
			if ((k->ks.type[i] | 0x20) != 't' || family(name) != f)
				continue;
			if ((r = vms_addrset_add(&done, k->ks.addr[i])) <= 0) {
				err = r;
				continue;
			}
			err = one(&x, name, k->ks.addr[i]);
		}
	}
	vms_addrset_fini(&done);
	vms_addrset_fini(&x.ftrace_targets);
	vms_addrset_fini(&x.kprobes);
	vms_chk_sites_fini(&x.ftrace);
	vms_inline_close(&x.cs, x.insn);
	return err;
}
