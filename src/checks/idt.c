/* SPDX-License-Identifier: MIT */
/*
 * idt: every present gate of the interrupt descriptor table must lead
 * into kernel text, to an entry point: the start of an asm_* or entry_*
 * function (exceptions, system vectors, int 0x80), or one of the
 * per-vector stubs between irq_entries_start and spurious_entries_start
 * (device interrupts) or after spurious_entries_start (unused system
 * vectors). A gate that leads anywhere else, a module above all, is a
 * hook. The gate layout (offset_low/middle/high, the present bit) comes
 * from BTF's struct gate_struct and struct idt_bits.
 *
 * x86-64 has one table for all CPUs, idt_table; since v4.15 the IDTR
 * points at a read-only alias of it in the CPU entry area, so the table
 * is the thing to check. At most 256 gates (the architecture's limit),
 * fewer if the next symbol says the table is smaller.
 */
#include <stdio.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define IDT_MAX 256

struct gate_layout {
	size_t size, low, mid, high, bits, p_bit;
};

static int layout(struct vms_kernel *k, struct gate_layout *g)
{
	size_t sz, pbits;

	if (vms_btf_struct_size(k->btf, "gate_struct", &g->size) ||
	    vms_btf_member(k->btf, "gate_struct", "offset_low", &g->low, &sz) ||
	    sz != 2 ||
	    vms_btf_member(k->btf, "gate_struct", "offset_middle", &g->mid,
			   &sz) || sz != 2 ||
	    vms_btf_member(k->btf, "gate_struct", "offset_high", &g->high,
			   &sz) || sz != 4 ||
	    vms_btf_member(k->btf, "gate_struct", "bits", &g->bits, &sz) ||
	    sz != 2 ||
	    vms_btf_bitfield(k->btf, "idt_bits", "p", &g->p_bit, &pbits) ||
	    pbits != 1 || g->p_bit >= 16 || g->size != 16 ||
	    g->high + 4 > g->size)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks a 16-byte struct "
			       "gate_struct with offset_low/middle/high and "
			       "idt_bits.p");
	return 0;
}

/* Is @addr an entry point the IDT may lead to? */
static bool entry_point(struct vms_chk *c, uint64_t addr)
{
	int64_t i = vms_chk_sym_floor(c, addr);
	uint64_t at;

	if (i < 0)
		return false;
	at = c->k->ks.addr[i];
	/* Reserved exception vectors keep the early boot stubs that
	 * idt_setup_early_handler() installed (early_idt_handler_array,
	 * in init text that is freed after boot); nothing replaces them
	 * (seen on 6.1 and 6.12). */
	if (vms_chk_sym_is(c, at, "early_idt_handler_array"))
		return addr < vms_chk_sym_next(c, at); /* not past its end */
	if (addr < c->stext || addr >= c->etext)
		return false;
	if (vms_chk_sym_prefixed(c, addr, "asm_") ||
	    vms_chk_sym_prefixed(c, addr, "entry_"))
		return true;
	/* A stub inside the generated per-vector entry arrays. */
	return vms_chk_sym_is(c, at, "irq_entries_start") ||
	       vms_chk_sym_is(c, at, "spurious_entries_start");
}

int vms_check_idt(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	struct gate_layout g;
	int64_t sym = vms_ksyms_lookup(&k->ks, "idt_table");
	uint8_t tab[IDT_MAX * 16];
	uint64_t base, next;
	size_t n;
	int err;

	if (sym < 0)
		return vms_err(k->ctx, -ENOENT, LAYER, "no idt_table symbol");
	if ((err = layout(k, &g)))
		return err;
	base = k->ks.addr[sym];
	next = vms_chk_sym_next(c, base);
	n = next > base ? (size_t)VMS_MIN((next - base) / g.size,
					  (uint64_t)IDT_MAX)
			: IDT_MAX;
	if ((err = vms_kernel_read(k, base, tab, n * g.size)))
		return err;
	for (size_t v = 0; v < n; v++) {
		const uint8_t *e = tab + v * g.size;
		uint64_t h = (uint64_t)vms_le16(e + g.low) |
			     (uint64_t)vms_le16(e + g.mid) << 16 |
			     (uint64_t)vms_le32(e + g.high) << 32;
		char object[32], where[256], owner[64], evidence[320];

		if (!(vms_le16(e + g.bits) >> g.p_bit & 1))
			continue; /* not present */
		if (entry_point(c, h))
			continue;
		vms_chk_describe(c, h, where, sizeof(where), owner,
				 sizeof(owner));
		snprintf(object, sizeof(object), "idt vector %#zx", v);
		snprintf(evidence, sizeof(evidence),
			 "gate leads to %#llx, %s, not to an entry point",
			 (unsigned long long)h, where);
		if ((err = vms_chk_emit(c, object, evidence, base + v * g.size,
					h, owner)) < 0)
			return err;
	}
	return 0;
}
