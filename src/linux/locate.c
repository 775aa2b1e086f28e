/* SPDX-License-Identifier: MIT */
/*
 * Finding the kernel in guest-physical memory, with nothing but the dump.
 *
 *  1. kallsyms: with VMCOREINFO (v6.0+ lists SYMBOL(kallsyms_token_table)
 *     and NUMBER(phys_base)) go straight to the table; otherwise scan
 *     physical memory for the token table's digit signature and decode
 *     each hit as the scan meets it (kallsyms.c); the scan ends at the
 *     first hit that steps 2 and 4 accept, so memory above the kernel is
 *     not read. A hit may be a stale copy of the image, such as the
 *     decompressor's leftovers; step 2 rejects those. Before the whole
 *     scan, the kernel images that page tables map are scanned: with
 *     vCPU registers (a dump's CPU notes, a live guest), the one a
 *     vCPU's CR3 maps (scan_cpu_image()), then the one that the real-
 *     mode trampoline's page table below 1 MiB maps, which needs
 *     nothing but memory (scan_trampoline_image()). KASLR may have put
 *     the image hundreds of megabytes above the bottom of RAM, and the
 *     whole scan is for when neither finds it.
 *  2. placement: the kernel image is physically contiguous and mapped
 *     linearly, so P(v) = text_pa + (v - _text). For every page-aligned
 *     text_pa that puts the decoded tables inside the image, check that
 *     linux_banner is there, then that the image's own init_top_pgt,
 *     walked with 5-level and with 4-level paging, maps _text, the banner
 *     and itself to exactly those physical addresses. Only the live image
 *     passes: a stale copy's tables do not map themselves.
 *  3. the paging mode is the one whose walk agreed; CR4.LA57 from dump
 *     notes, when present, only decides which is tried first.
 *  4. the running image: a guest that rebooted still holds its earlier
 *     kernel's image wherever the new one did not overwrite it (a reset
 *     does not clear RAM, and KASLR places each boot elsewhere), and
 *     that image maps itself just as well. With vCPU registers at hand,
 *     the image that a vCPU's CR3 maps where its own tables do is the
 *     one that runs, and it wins; without them (or if no vCPU maps
 *     any), the first image that maps itself.
 *
 * No offset, address or kernel version is assumed beyond the x86-64
 * kernel map base (__START_KERNEL_map), used only with VMCOREINFO's
 * phys_base and to express the KASLR slide.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define START_KERNEL_MAP 0xffffffff80000000ull
#define MAX_HITS 64
#define WIN_BEFORE (40u << 20)
#define WIN_AFTER (24u << 20)
/* The window tried first where it must be copied (see decode_at()). */
#define WIN_SMALL_BEFORE (8u << 20)
#define WIN_SMALL_AFTER (4u << 20)
#define MAX_IMAGE (1ull << 30)
#define PHYS_ALIGN 0x200000ull	/* x86-64's smallest CONFIG_PHYSICAL_ALIGN */
/* The image map's extent with KASLR (KERNEL_IMAGE_SIZE, 1 GiB; 512 MiB
 * without), and how much of a mapped image is scanned first: kallsyms
 * lie in its .rodata, some tens of megabytes in on distribution
 * kernels. */
#define IMAGE_MAP_SIZE (1ull << 30)
#define IMAGE_SCAN (128ull << 20)
#define SCAN_CHUNK (16u << 20)
/* scan_image()'s chunks where memory must be copied to be scanned (a
 * compressed dump, a live guest read through QEMU): the kallsyms token
 * table lies about 3.5 MiB into .rodata on Debian's kernels, and each
 * byte copied out of a zstd kdump costs about 4 ns. */
#define SCAN_CHUNK_COPIED (4u << 20)
/* Images scanned before the whole scan, at most: each costs up to
 * IMAGE_SCAN bytes, and a guest can forge page tables. */
#define MAX_IMAGES 4
/* The real-mode trampoline lies below this (scan_trampoline_image()). */
#define LOW_MEMORY (1u << 20)

int vms_vmcoreinfo_get(const char *vmci, const char *key, char *buf,
		       size_t len)
{
	size_t kl = strlen(key);
	const char *p = vmci;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > kl && !memcmp(p, key, kl) && p[kl] == '=') {
			size_t vl = VMS_MIN(ll - kl - 1, len - 1);
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = 0;
			return 0;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

/*
 * The search for kallsyms in all of physical memory. Each hit of the
 * token table's signature is decoded and placed as the scan meets it,
 * and the scan ends at the first kernel that a vCPU runs (or, with no
 * vCPU state, the first that maps itself): a raw dump's kernel is then
 * found without reading the memory above it.
 */
/* Physical memory that a scan holds copied (@len bytes at @lo), which a
 * window around a candidate in it need not read again. */
struct held {
	const uint8_t *p;
	uint64_t lo, len;
};

struct search {
	struct vms_kernel *k;
	struct held held;		/* the chunk being scanned */
	bool usable;			/* a vCPU with paging on */
	uint64_t last;			/* the last hit, for chunk overlaps */
	size_t n;			/* candidates tried */
	uint64_t first;			/* the first image that maps itself */
	bool have_first;
	struct vms_error capped;	/* a candidate over the memory cap */
	int err;			/* a host limit: the search ends */
	struct vms_error why;		/* its message (a scan clears ctx's) */
	bool found;
	/* Images scanned before the whole scan, which skips them. */
	uint64_t done[MAX_IMAGES][2];	/* [start, end) */
	size_t ndone;
};

static int try_candidate(struct search *st, uint64_t pa);
static bool host_limit(int err);

/* Whether @pa lies in an image that scan_image() scanned. */
static bool scanned(const struct search *st, uint64_t pa)
{
	for (size_t i = 0; i < st->ndone; i++)
		if (pa >= st->done[i][0] && pa < st->done[i][1])
			return true;
	return false;
}

static int scan_cb(uint64_t paddr, const uint8_t *data, size_t len,
		   void *arg)
{
	struct search *st = arg;
	const uint8_t *p = data, *end = data + len;
	int ret = 0;

	/* Held for the windows of this chunk's candidates only: the chunk
	 * is the scanner's, and gone after this call. */
	st->held = (struct held){ .p = data, .lo = paddr, .len = len };
	while (p < end && st->n < MAX_HITS && !ret) {
		const uint8_t *q = memmem(p, (size_t)(end - p),
					  vms_ksyms_digits,
					  sizeof(vms_ksyms_digits));
		if (!q)
			break;
		uint64_t pa = paddr + (uint64_t)(q - data);
		p = q + 1;
		if (st->n && st->last == pa) /* chunk overlap */
			continue;
		if (scanned(st, pa))
			continue; /* tried by scan_image() */
		st->last = pa;
		st->n++;
		ret = try_candidate(st, pa); /* 1: found, or a host limit */
	}
	st->held = (struct held){ 0 };
	/* Past MAX_HITS candidates (a guest can plant any number of
	 * signatures), the scan goes no further. */
	return ret || st->n >= MAX_HITS;
}

/* @len bytes of physical memory at @pa into @buf, for a scan: in one
 * read (a compressed dump, or a live guest's memory read through QEMU),
 * else page by page with what cannot be read as zeros. */
static void read_zero_filled(struct vms_source *src, uint64_t pa,
			     uint8_t *buf, size_t len)
{
	if (vms_source_read(src, pa, buf, len))
		for (size_t o = 0; o < len; o += VMS_PAGE_SIZE) {
			size_t m = VMS_MIN(len - o, VMS_PAGE_SIZE);

			if (vms_source_read(src, pa + o, buf + o, m))
				memset(buf + o, 0, m);
		}
	vms_err_clear(src->ctx);
}

/* @len bytes of physical memory at @lo into @buf, as read_zero_filled()
 * does, but what @h holds of them copied from there. */
static void read_reusing(struct vms_source *src, uint64_t lo, uint8_t *buf,
			 size_t len, const struct held *h)
{
	uint64_t end = lo + len, s, e;

	if (!h || !h->p || h->lo >= end || lo >= h->lo + h->len) {
		read_zero_filled(src, lo, buf, len);
		return;
	}
	s = VMS_MAX(lo, h->lo);
	e = VMS_MIN(end, h->lo + h->len);
	if (s > lo)
		read_zero_filled(src, lo, buf, (size_t)(s - lo));
	memcpy(buf + (s - lo), h->p + (s - h->lo), (size_t)(e - s));
	if (end > e)
		read_zero_filled(src, e, buf + (e - lo), (size_t)(end - e));
}

/* A readable window of physical memory around @pa, within its segment:
 * @before bytes below it, @after above. *@owned is set when the window
 * had to be copied; what @h holds of it is taken from there. */
static int window(struct vms_source *src, uint64_t pa, uint64_t before,
		  uint64_t after, const struct held *h, const uint8_t **data,
		  size_t *len, uint64_t *base, uint8_t **owned)
{
	const struct vms_seg *s;
	uint64_t lo, hi;

	*owned = NULL;
	if (vms_source_seg_of(src, pa, &s))
		return -EFAULT;
	/* Page-aligned, so that window offsets keep physical alignment. */
	lo = pa - s->start > before ? (pa - before) & ~0xfffull : s->start;
	if (lo < s->start)
		lo = s->start;
	hi = s->start + s->size - pa > after ? pa + after
					     : s->start + s->size;
	*base = lo;
	*len = (size_t)(hi - lo);
	if ((*data = vms_source_ptr(src, lo, *len)))
		return 0;
	*owned = malloc(*len);
	if (!*owned)
		return -ENOMEM;
	read_reusing(src, lo, *owned, *len, h);
	*data = *owned;
	return 0;
}

/* Decode the kallsyms whose token table's signature is at @pa, in a
 * window of @before and @after bytes around it. On failure, *@tokens
 * (if not NULL) says whether the window holds a token table there. */
static int decode_in(struct vms_kernel *k, uint64_t pa, uint64_t before,
		     uint64_t after, const struct held *h, bool *tokens)
{
	const uint8_t *data;
	uint8_t *owned;
	size_t len;
	uint64_t base;
	int err = window(k->src, pa, before, after, h, &data, &len, &base,
			 &owned);

	if (err)
		return err;
	/* A dump's mapping outlives the kernel and does not change: its
	 * names need no copy (1 MiB for Debian's 6.1). A live guest's do. */
	if (!owned && !(k->src->ops && k->src->ops->pause))
		err = vms_ksyms_decode_borrowed(k->ctx, data, len, base,
						(size_t)(pa - base), &k->ks);
	else
		err = vms_ksyms_decode(k->ctx, data, len, base,
				       (size_t)(pa - base), &k->ks);
	if (err && tokens)
		*tokens = vms_ksyms_has_tokens(data, len, (size_t)(pa - base));
	free(owned);
	return err;
}

/* Decode the kallsyms whose token table's signature is at @pa. The
 * window is WIN_BEFORE and WIN_AFTER around it, room for the cap's
 * 4,000,000 symbols. Where it must be copied (a compressed dump, a live
 * guest read through QEMU), WIN_SMALL_BEFORE and WIN_SMALL_AFTER are
 * tried first: Debian's 6.12 kernel (163,000 symbols) has 2.1 MiB of
 * tables before its token table and 0.7 MiB after, and copying the
 * whole window out of a zstd kdump costs about 0.1 s a candidate. The
 * decoder searches outwards from the token table and cross-checks every
 * table, so a window that cuts a table makes it fail, never decode
 * something else; then the whole window is tried, unless the small one
 * holds no token table at all (vms_ksyms_has_tokens()). What @h holds
 * (a scan's copied chunk, or NULL) is not read again. */
static int decode_at(struct vms_kernel *k, uint64_t pa, const struct held *h)
{
	bool tokens = true;
	int err;

	if (!vms_source_ptr(k->src, pa, 1)) {
		err = decode_in(k, pa, WIN_SMALL_BEFORE, WIN_SMALL_AFTER, h,
				&tokens);
		/* With no token table at all (most candidates), the larger
		 * window has none either. */
		if (!err || host_limit(err) || !tokens)
			return err;
		vms_log(k->ctx, VMS_LOG_DEBUG, "kallsyms at physical %#llx: "
			"no whole tables in a small window; trying the whole "
			"window", (unsigned long long)pa);
		vms_err_clear(k->ctx);
	}
	return decode_in(k, pa, WIN_BEFORE, WIN_AFTER, h, NULL);
}

static bool banner_at(struct vms_source *src, uint64_t pa)
{
	char b[14];
	const uint8_t *p = vms_source_ptr(src, pa, sizeof(b));

	if (!p) {
		if (vms_source_read(src, pa, b, sizeof(b))) {
			vms_err_clear(src->ctx);
			return false;
		}
		p = (const uint8_t *)b;
	}
	return !memcmp(p, "Linux version ", sizeof(b));
}

static bool maps_to(struct vms_mmu *mmu, uint64_t root, uint64_t va,
		    uint64_t pa)
{
	uint64_t got;
	return !vms_mmu_translate(mmu, root, va, &got, NULL, true) &&
	       got == pa;
}

/*
 * Whether a vCPU with paging on maps the placed image's _text through
 * its CR3 as the image's own tables do (step 4). A vCPU in user mode
 * under page-table isolation runs on the user half of its 8 KiB PGD
 * pair (PTI_USER_PGTABLE_BIT, bit 12), which maps no kernel text: its
 * kernel half is tried too.
 */
/* The physical address of @c's top page table: CR3 less its PCID and
 * flag bits, or 0 with paging off (CR0.PG, bit 31). */
static uint64_t paging_root(const struct vms_cpu *c)
{
	return c->cr0 & 0x80000000u ? c->cr3 & 0x000ffffffffff000ull : 0;
}

static bool cpu_runs(struct vms_kernel *k)
{
	for (unsigned int i = 0; i < k->src->ncpus; i++) {
		uint64_t root = paging_root(&k->src->cpus[i]);

		if (!root)
			continue;
		if (maps_to(&k->mmu, root, k->text_va, k->text_pa) ||
		    maps_to(&k->mmu, root & ~0x1000ull, k->text_va,
			    k->text_pa))
			return true;
	}
	return false;
}

/* Whether the image lies at physical @pa: its banner there, and its own
 * top table mapping _text, the banner and itself there, in either
 * paging mode (@modes, the likelier first). If so, @k is placed. */
static bool image_at(struct vms_kernel *k,
		     const struct vms_paging_mode *const modes[2], uint64_t pa,
		     uint64_t v_text, uint64_t v_banner, uint64_t v_pgt)
{
	uint64_t pgd = pa + (v_pgt - v_text);

	if (!banner_at(k->src, pa + (v_banner - v_text)))
		return false;
	for (int m = 0; m < 2; m++) {
		vms_mmu_init(&k->mmu, k->src, modes[m]);
		if (maps_to(&k->mmu, pgd, v_text, pa) &&
		    maps_to(&k->mmu, pgd, v_banner, pa + (v_banner - v_text)) &&
		    maps_to(&k->mmu, pgd, v_pgt, pgd)) {
			k->text_va = v_text;
			k->text_pa = pa;
			k->pgd = pgd;
			k->pgd_source = "symbols";
			return true;
		}
	}
	return false;
}

/* Step 2 and 3 of the file comment, for the symbols just decoded. */
static int place(struct vms_kernel *k)
{
	uint64_t v_text = 0, v_end = 0, v_banner = 0, v_pgt = 0;
	const struct vms_paging_mode *modes[2] = { &vms_x86_64_5level,
						   &vms_x86_64_4level };
	uint64_t anchor = k->ks.token_table, lo;

	if ((vms_kernel_sym(k, "_text", &v_text) &&
	     vms_kernel_sym(k, "_stext", &v_text)) ||
	    vms_kernel_sym(k, "_end", &v_end) ||
	    vms_kernel_sym(k, "linux_banner", &v_banner) ||
	    vms_kernel_sym(k, "init_top_pgt", &v_pgt)) {
		vms_err_clear(k->ctx);
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "kallsyms lacks _text, _end, linux_banner or "
			       "init_top_pgt: not an x86-64 kernel built "
			       "with CONFIG_KALLSYMS_ALL");
	}
	if (v_end <= v_text || v_end - v_text > MAX_IMAGE ||
	    v_banner < v_text || v_banner >= v_end || v_pgt < v_text ||
	    v_pgt >= v_end)
		return vms_err(k->ctx, -EBADMSG, LAYER,
			       "kallsyms gives an implausible image: _text "
			       "%#llx, _end %#llx",
			       (unsigned long long)v_text,
			       (unsigned long long)v_end);
	if (k->src->ncpus && !(k->src->cpus[0].cr4 & (1u << 12))) {
		modes[0] = &vms_x86_64_4level;
		modes[1] = &vms_x86_64_5level;
	}
	lo = anchor > v_end - v_text ? anchor - (v_end - v_text) : 0;
	/* Two passes: first the 2 MiB boundaries, where x86-64 kernels are
	 * loaded (CONFIG_PHYSICAL_ALIGN must be a multiple of 0x200000
	 * there, and KASLR keeps to it), then every other page, for a
	 * kernel that broke the rule. The first pass touches a few dozen
	 * pages of the dump instead of thousands. */
	for (int pass = 0; pass < 2; pass++) {
		const uint64_t step = pass ? 0x1000 : PHYS_ALIGN;

		for (uint64_t pa = anchor & ~(step - 1);
		     pa >= lo && pa <= anchor; pa -= step) {
			if ((!pass || (pa & (PHYS_ALIGN - 1))) &&
			    image_at(k, modes, pa, v_text, v_banner, v_pgt))
				return 0;
			if (pa < step)
				break;
		}
	}
	return vms_err_at(k->ctx, -ENOENT, LAYER, k->ks.token_table,
			  "kallsyms at physical %#llx decoded, but no copy of "
			  "the kernel image around it is mapped by its own "
			  "page tables (stale copy?)",
			  (unsigned long long)k->ks.token_table);
}

/* A candidate that fails for want of memory or time says nothing about
 * the guest: the search ends with that error. (One over the memory cap
 * may be a forgery planted to stop the search, which goes on: see
 * find_kernel().) */
static bool host_limit(int err)
{
	return err == -ENOMEM || err == -ETIMEDOUT;
}

static int try_vmcoreinfo(struct vms_kernel *k)
{
	char v[32], pb[32];
	uint64_t va, pa;
	const uint8_t *d;
	uint8_t page[VMS_PAGE_SIZE];
	int err;

	if (!k->src->vmcoreinfo ||
	    vms_vmcoreinfo_get(k->src->vmcoreinfo,
			       "SYMBOL(kallsyms_token_table)", v, sizeof(v)) ||
	    vms_vmcoreinfo_get(k->src->vmcoreinfo, "NUMBER(phys_base)", pb,
			       sizeof(pb)))
		return -ENOENT;
	va = strtoull(v, NULL, 16);
	pa = va - START_KERNEL_MAP + strtoull(pb, NULL, 10);
	/* The signature is within the first 1 KiB of the token table. */
	if (vms_source_read(k->src, pa, page, sizeof(page))) {
		vms_err_clear(k->ctx);
		return -ENOENT;
	}
	d = memmem(page, sizeof(page), vms_ksyms_digits,
		   sizeof(vms_ksyms_digits));
	if (!d)
		return -ENOENT;
	if ((err = decode_at(k, pa + (uint64_t)(d - page), NULL)))
		return host_limit(err) ? err : -ENOENT;
	if (place(k)) {
		vms_ksyms_fini(&k->ks);
		vms_err_clear(k->ctx);
		return -ENOENT;
	}
	k->kallsyms_source = "vmcoreinfo";
	return 0;
}

/* Decode and place the candidate at @pa: 1 ends the scan (a kernel is
 * found, or a host limit hit), 0 goes on. */
static int try_candidate(struct search *st, uint64_t pa)
{
	struct vms_kernel *k = st->k;
	int err = decode_at(k, pa, &st->held);

	if (host_limit(err)) {
		st->err = err;
		st->why = k->ctx->err;
		return 1;
	}
	/* Any process of the guest can plant a table whose names expand
	 * past the cap: remember the first, try the rest. */
	if (err == -E2BIG && !st->capped.code)
		st->capped = k->ctx->err;
	if (err) {
		vms_err_clear(k->ctx);
		return 0;
	}
	vms_log(k->ctx, VMS_LOG_DEBUG,
		"kallsyms: %u symbols, token table at physical %#llx", k->ks.n,
		(unsigned long long)k->ks.token_table);
	if (!place(k)) {
		if (!st->usable || cpu_runs(k)) {
			st->found = true;
			return 1;
		}
		vms_log(k->ctx, VMS_LOG_DEBUG, "the image at physical %#llx "
			"maps itself, but no vCPU runs it (an earlier boot's?)",
			(unsigned long long)k->text_pa);
		if (!st->have_first) {
			st->first = pa;
			st->have_first = true;
		}
	} else {
		vms_log(k->ctx, VMS_LOG_DEBUG, "%s", k->ctx->err.msg);
		vms_err_clear(k->ctx);
	}
	vms_ksyms_fini(&k->ks);
	return 0;
}

/* Where the image mapped at @va, physical @base, stops being text: the
 * physical address of the first 2 MiB of it, within IMAGE_SCAN, that is
 * mapped not executable, or @base where none is. The kallsyms tables lie
 * in .rodata (scripts/kallsyms.c puts them there), which x86-64's
 * vmlinux.lds.S aligns to 2 MiB after the text, and mark_rodata_ro()
 * (arch/x86/mm/init_64.c) makes everything from _etext on NX: a scan
 * that starts there skips the text, 16 MiB of Debian's 6.1 image. Only a
 * linear map counts: a guest that forges the bits only moves the start
 * of a scan that the whole scan backs up. */
static uint64_t past_text(struct vms_kernel *k, uint64_t root, uint64_t va,
			  uint64_t base)
{
	for (uint64_t off = 0; off < IMAGE_SCAN; off += PHYS_ALIGN) {
		uint64_t pa;
		bool nx;

		if (vms_mmu_translate_nx(&k->mmu, root, va + off, &pa, &nx) ||
		    pa != base + off)
			break;
		if (nx)
			return base + off;
	}
	return base;
}

/* The physical address that the page tables at @root, walked in @mode,
 * map the bottom of the kernel image map to, or 0; *@start: where to
 * scan it from (past_text()). cleanup_highmap() (arch/x86/mm/init_64.c)
 * unmaps the image map below _text, so the first 2 MiB there that maps
 * is _text's. The image is larger than 2 MiB and mapped linearly, so the
 * next 2 MiB must follow it: a walk in the wrong paging mode that ends
 * on a 1 GiB page of the direct map, read as a 2 MiB one, does not. */
static uint64_t image_base(struct vms_kernel *k, uint64_t root,
			   const struct vms_paging_mode *mode,
			   uint64_t *start)
{
	vms_mmu_init(&k->mmu, k->src, mode);
	for (uint64_t off = 0; off < IMAGE_MAP_SIZE; off += PHYS_ALIGN) {
		uint64_t va = START_KERNEL_MAP + off, pa, next;

		if (vms_mmu_translate(&k->mmu, root, va, &pa, NULL, true))
			continue;
		if (vms_mmu_translate(&k->mmu, root, va + PHYS_ALIGN, &next,
				      NULL, true) ||
		    next != pa + PHYS_ALIGN)
			return 0;
		pa &= ~(PHYS_ALIGN - 1);
		*start = past_text(k, root, va, pa);
		return pa;
	}
	return 0;
}

/* The image that @c's page tables map (image_base()), or 0. Under
 * page-table isolation the user half of the PGD pair maps the entry
 * text only, so its kernel half is tried first. */
static uint64_t mapped_image(struct vms_kernel *k, const struct vms_cpu *c,
			     uint64_t *start)
{
	uint64_t root = paging_root(c), base = 0;
	const uint64_t roots[2] = { root & ~0x1000ull, root };

	if (!root)
		return 0;
	for (int r = 0; r < 2 && !base; r++) {
		if (r && roots[1] == roots[0])
			break;
		base = image_base(k, roots[r], c->cr4 & (1u << 12) ?
						     &vms_x86_64_5level :
						     &vms_x86_64_4level,
				  start);
	}
	return base;
}

/*
 * Scan a kernel image that page tables map at physical @lo for kallsyms,
 * as the whole scan would, before it: from @start (past its text, or
 * @lo) up to IMAGE_SCAN bytes past @lo. 1 ends the search as scan_cb()'s
 * 1 does. The range scanned is left out of the whole scan. A guest can
 * forge the page tables that point here; the candidates are checked
 * like any other, and only cost time.
 */
static int scan_image(struct vms_kernel *k, struct search *st, uint64_t lo,
		      uint64_t start, const char *why)
{
	const struct vms_seg *s;
	uint64_t hi;
	uint8_t *buf = NULL;
	int ret = 0;

	if (st->ndone == MAX_IMAGES)
		return 0;
	if (vms_source_seg_of(k->src, lo, &s)) {
		vms_err_clear(k->ctx);
		return 0;
	}
	hi = s->start + s->size - lo > IMAGE_SCAN ? lo + IMAGE_SCAN
						  : s->start + s->size;
	if (start < lo || start >= hi)
		start = lo;
	for (size_t i = 0; i < st->ndone; i++)
		if (st->done[i][0] == start)
			return 0; /* (hits in overlaps are skipped by scan_cb) */
	vms_log(k->ctx, VMS_LOG_DEBUG, "%s maps a kernel image at physical "
		"%#llx: scanning it first, from physical %#llx", why,
		(unsigned long long)lo, (unsigned long long)start);
	for (uint64_t a = start, n; a < hi && !ret;
	     a += n - sizeof(vms_ksyms_digits)) {
		const uint8_t *p;

		n = VMS_MIN((uint64_t)SCAN_CHUNK, hi - a);
		if (!(p = vms_source_ptr(k->src, a, (size_t)n))) {
			n = VMS_MIN((uint64_t)SCAN_CHUNK_COPIED, n);
			if (!buf && !(buf = malloc(SCAN_CHUNK_COPIED)))
				return -ENOMEM;
			read_zero_filled(k->src, a, buf, (size_t)n);
			p = buf;
		}
		ret = scan_cb(a, p, (size_t)n, st);
		if (a + n >= hi)
			break;
	}
	free(buf);
	st->done[st->ndone][0] = start;
	st->done[st->ndone][1] = hi;
	st->ndone++;
	return ret;
}

/* The image that the first vCPU with paging on maps. */
static int scan_cpu_image(struct vms_kernel *k, struct search *st)
{
	uint64_t lo = 0, start = 0;

	for (unsigned int i = 0; i < k->src->ncpus && !lo; i++)
		lo = mapped_image(k, &k->src->cpus[i], &start);
	return lo ? scan_image(k, st, lo, start, "a vCPU") : 0;
}

/* Whether the page-table entry @e may point to a lower table in the
 * dump: present, not a large page (reserved at the top level; on the
 * way to the image map, the level below points to tables too), at an
 * address the dump holds. */
static bool table_entry(struct vms_source *src, uint64_t e, uint64_t *next)
{
	const struct vms_seg *s;

	*next = e & 0x000ffffffffff000ull;
	if ((e & 0x81) != 1 || vms_source_seg_of(src, *next, &s)) {
		vms_err_clear(src->ctx);
		return false;
	}
	return true;
}

/*
 * The image that the real-mode trampoline's page table maps, for a dump
 * with no vCPU state (raw, LiME, an ELF core without notes). Secondary
 * CPUs start in real mode, so the trampoline lies below 1 MiB
 * (reserve_real_mode()), and setup_real_mode() (arch/x86/realmode/
 * init.c) copies init_top_pgt's top entry, which maps the kernel image,
 * into trampoline_pgd: entry 511 in every release that has that table,
 * the whole kernel half since "x86/64/mm: Map all kernel memory into
 * trampoline_pgd" (2021). So each page below 1 MiB
 * whose entry 511 and that entry's own entry 510 or 511 (the image's
 * PUD in 4-level paging, its P4D in 5-level) are tables is walked in
 * both modes. A KASLR kernel is then found after scanning a few tens of
 * megabytes of its image, not all memory below it.
 */
static int scan_trampoline_image(struct vms_kernel *k, struct search *st)
{
	const struct vms_paging_mode *const modes[2] = { &vms_x86_64_4level,
							 &vms_x86_64_5level };
	int ret = 0;

	for (uint64_t pa = 0; pa < LOW_MEMORY && !ret; pa += VMS_PAGE_SIZE) {
		uint8_t e[16];
		uint64_t next, below, lo, start;
		char why[64];

		if (vms_source_read(k->src, pa + 0xff8, e, 8)) {
			vms_err_clear(k->ctx);
			continue;
		}
		if (!table_entry(k->src, vms_le64(e), &next))
			continue;
		if (vms_source_read(k->src, next + 0xff0, e, 16)) {
			vms_err_clear(k->ctx);
			continue;
		}
		if (!table_entry(k->src, vms_le64(e), &below) &&
		    !table_entry(k->src, vms_le64(e + 8), &below))
			continue;
		snprintf(why, sizeof(why), "the page table at physical %#llx",
			 (unsigned long long)pa);
		for (int m = 0; m < 2 && !ret; m++)
			if ((lo = image_base(k, pa, modes[m], &start)))
				ret = scan_image(k, st, lo, start, why);
		if (st->ndone == MAX_IMAGES)
			break;
	}
	return ret;
}

static int find_kernel(struct vms_kernel *k, bool running)
{
	struct search st = { .k = k };
	int err;

	err = try_vmcoreinfo(k);
	if (!err || host_limit(err))
		return err;
	for (unsigned int i = 0; i < k->src->ncpus; i++) {
		const struct vms_cpu *c = &k->src->cpus[i];
		/* While running, only a vCPU in the kernel half or in user
		 * mode: firmware and the decompressor run low, and are not
		 * worth a scan of all memory. */
		st.usable |= paging_root(c) &&
			     (!running || c->rip >> 63 || (c->cs & 3) == 3);
	}
	if (running && !st.usable)
		return vms_err(k->ctx, -EAGAIN, LAYER, "%s: no vCPU runs a "
			       "kernel with paging on yet", k->src->path);
	err = st.usable ? scan_cpu_image(k, &st) : 0;
	if (!err)
		err = scan_trampoline_image(k, &st);
	if (err < 0)
		return err;
	if (!err)
		err = vms_source_scan(k->src, SCAN_CHUNK,
				      sizeof(vms_ksyms_digits), scan_cb, &st);
	if (err < 0)
		return err;
	if (st.err) {
		k->ctx->err = st.why;
		return st.err;
	}
	if (st.found) {
		k->kallsyms_source = "memory-scan";
		return 0;
	}
	if (running)
		return vms_err(k->ctx, -EAGAIN, LAYER, "%s: no kernel image that "
			       "a vCPU runs (%zu candidate%s checked): the "
			       "kernel is not running yet", k->src->path, st.n,
			       st.n == 1 ? "" : "s");
	if (st.have_first) {
		vms_log(k->ctx, VMS_LOG_WARN, "no vCPU's page tables map a "
			"kernel image found in %s; taking the first that maps "
			"itself", k->src->path);
		if (!(err = decode_at(k, st.first, NULL)) &&
		    !(err = place(k))) {
			k->kallsyms_source = "memory-scan";
			return 0;
		}
		return err;
	}
	if (st.capped.code) {
		/* The only table found needs more than the cap allows. */
		k->ctx->err = st.capped;
		return st.capped.code;
	}
	return vms_err(k->ctx, -ENOENT, LAYER,
		       "no Linux kernel found: no kallsyms table in %s "
		       "(%zu candidate%s checked); vmsight needs an x86-64 "
		       "Linux guest with CONFIG_KALLSYMS_ALL (a System.map or "
		       "vmlinux will be accepted by a later fallback)",
		       k->src->path, st.n, st.n == 1 ? "" : "s");
}

static void read_banner(struct vms_kernel *k)
{
	uint64_t va = 0;
	size_t n = 0;

	if (vms_kernel_sym(k, "linux_banner", &va))
		return;
	while (n + 1 < sizeof(k->banner)) {
		char c;
		if (vms_kernel_read(k, va + n, &c, 1) || !c || c == '\n')
			break;
		k->banner[n++] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	k->banner[n] = 0;
	vms_err_clear(k->ctx);
	if (sscanf(k->banner, "Linux version %64s", k->release) != 1)
		strcpy(k->release, "unknown");
}

/* task_state_array (fs/proc/array.c) holds "R (running)", "S (sleeping)",
 * ...: read the letters from the guest rather than assume them. */
static void read_state_letters(struct vms_kernel *k)
{
	uint64_t va = 0, p = 0;
	char s[4];

	strcpy(k->state_letters, "RSDTtXZPI");
	k->nstates = 9;
	if (vms_kernel_sym(k, "task_state_array", &va)) {
		vms_err_clear(k->ctx);
		return;
	}
	unsigned int n = 0;
	char letters[16];
	while (n < sizeof(letters) - 1 &&
	       !vms_kernel_read_u64(k, va + 8 * n, &p) &&
	       !vms_kernel_read(k, p, s, sizeof(s)) && s[1] == ' ' &&
	       s[2] == '(')
		letters[n++] = s[0];
	vms_err_clear(k->ctx);
	if (n >= 3) {
		memcpy(k->state_letters, letters, n);
		k->state_letters[n] = 0;
		k->nstates = n;
	}
}

int vms_kernel_load_impl(struct vms_ctx *ctx, struct vms_source *src,
			 bool running, struct vms_kernel **ret)
{
	struct vms_kernel *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	k->ctx = ctx;
	k->src = src;
	err = find_kernel(k, running);
	if (!err) {
		read_banner(k);
		read_state_letters(k);
		err = vms_btf_load(k);
	}
	if (!err)
		err = vms_layout_resolve(ctx, k->btf, &k->l);
	if (err) {
		vms_kernel_free(k);
		return err;
	}
	*ret = k;
	return 0;
}

int vms_kernel_sym(struct vms_kernel *k, const char *name, uint64_t *ret)
{
	int64_t i = vms_ksyms_lookup(&k->ks, name);

	if (i < 0)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "symbol %s is not in kallsyms", name);
	*ret = k->ks.addr[i];
	return 0;
}

int vms_kernel_sym_table(struct vms_kernel *k, uint64_t base,
			 const char *what, size_t max, uint64_t **ret,
			 size_t *ret_n)
{
	uint64_t next = 0, *tab;
	size_t n, u;
	int err;

	*ret = NULL;
	*ret_n = 0;
	if (k->ks.n && !vms_ksyms_sort_by_addr(&k->ks)) {
		u = vms_ksyms_upper(&k->ks, base);
		next = u < k->ks.n ? k->ks.addr[k->ks.by_addr[u]] : 0;
	}
	if (!next || next - base < 8 || (next - base) / 8 > max)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, base,
				  "%s at %#llx: cannot size it from the "
				  "next symbol (%#llx)", what,
				  (unsigned long long)base,
				  (unsigned long long)next);
	n = (next - base) / 8;
	if ((err = vms_alloc(k->ctx, &tab, n, 8, what, base)))
		return err;
	if ((err = vms_kernel_read(k, base, tab, n * 8))) {
		free(tab);
		return err;
	}
	for (size_t i = 0; i < n; i++)
		tab[i] = vms_le64((const uint8_t *)&tab[i]);
	while (n && !tab[n - 1])
		n--; /* alignment padding after the last entry */
	*ret = tab;
	*ret_n = n;
	return 0;
}

int vms_kernel_read(struct vms_kernel *k, uint64_t va, void *buf, size_t len)
{
	return vms_mmu_read(&k->mmu, k->pgd, va, buf, len);
}

int vms_walk_visit(struct vms_kernel *k, struct vms_addrset *seen,
		   uint32_t *count, uint32_t max, uint64_t node,
		   const char *what)
{
	int err;

	if ((err = vms_tick(k->ctx)))
		return err;
	if (!vms_is_kernel_addr(k, node))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
				  "%s: pointer %#llx is not a kernel address",
				  what, (unsigned long long)node);
	if ((err = vms_addrset_add(seen, node)) < 0)
		return err;
	if (!err)
		return vms_err_at(k->ctx, -ELOOP, LAYER, node,
				  "%s loops back to %#llx", what,
				  (unsigned long long)node);
	if (count && ++*count > max)
		return vms_err_at(k->ctx, -E2BIG, LAYER, node,
				  "%s has more than %u entries", what, max);
	return 0;
}

size_t vms_kernel_read_str(struct vms_kernel *k, uint64_t va, char *buf,
			   size_t len)
{
	size_t n = 0;

	if (!len)
		return 0;
	/* Page by page: one translation per page, not per byte. */
	while (n + 1 < len) {
		size_t chunk = VMS_MIN(len - 1 - n,
				       4096 - (size_t)((va + n) & 0xfff));
		const char *nul;

		if (vms_kernel_read(k, va + n, buf + n, chunk))
			break;
		nul = memchr(buf + n, 0, chunk);
		if (nul) {
			n = (size_t)(nul - buf);
			break;
		}
		n += chunk;
	}
	buf[n] = 0;
	vms_err_clear(k->ctx);
	return n;
}

int vms_kernel_read_u64(struct vms_kernel *k, uint64_t va, uint64_t *ret)
{
	uint8_t b[8];
	int err = vms_kernel_read(k, va, b, 8);

	if (!err)
		*ret = vms_le64(b);
	return err;
}

void vms_kernel_free(struct vms_kernel *k)
{
	if (!k)
		return;
	vms_ksyms_fini(&k->ks);
	vms_btf_free(k->btf);
	free(k->carved);
	free(k);
}
