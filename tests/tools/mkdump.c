/* SPDX-License-Identifier: MIT */
/*
 * Test tool: write a raw memory image (file offset = physical address)
 * in another dump format, leaving chosen ranges out as holes.
 *
 *   vmsight-mkdump FORMAT IN OUT [--hole START:LEN]... [--vmcoreinfo FILE]
 *
 * FORMAT: lime, elf, vmcore (ELF laid out as the kernel's /proc/vmcore:
 * a first PT_LOAD repeats 2 MiB of RAM at a kernel virtual address and
 * overlaps the RAM segments), kdump-none, kdump-zlib, kdump-lzo, kdump-snappy,
 * kdump-zstd, each kdump one also as flat-kdump-... (the flattened
 * layout). It shares no code with the readers. A round trip through it
 * cannot catch a misreading that writer and reader share, which is why
 * the lab also reads the dumps QEMU itself writes.
 */
#include <elf.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define PAGE 4096u

static const uint8_t *mem;
static uint64_t memlen;
static uint64_t holes[64][2];
static int nholes;

static int in_hole(uint64_t pa)
{
	for (int i = 0; i < nholes; i++)
		if (pa >= holes[i][0] && pa - holes[i][0] < holes[i][1])
			return 1;
	return 0;
}

static void die(const char *m)
{
	fprintf(stderr, "vmsight-mkdump: %s\n", m);
	exit(1);
}

static void wr(FILE *f, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, f) != n)
		die("write failed");
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* Present ranges, page granular. */
static int next_range(uint64_t *pa, uint64_t *len)
{
	uint64_t a = *pa;
	while (a < memlen && in_hole(a))
		a += PAGE;
	if (a >= memlen)
		return 0;
	uint64_t b = a;
	while (b < memlen && !in_hole(b))
		b += PAGE;
	*pa = a;
	*len = b - a;
	return 1;
}

static void write_lime(FILE *f)
{
	uint64_t pa = 0, len;
	while (next_range(&pa, &len)) {
		uint8_t h[32] = { 0 };
		put32(h, 0x4C694D45);
		put32(h + 4, 1);
		put64(h + 8, pa);
		put64(h + 16, pa + len - 1);
		wr(f, h, 32);
		wr(f, mem + pa, len);
		pa += len;
	}
}

static void write_elf(FILE *f, const char *vmci, size_t vmci_len,
		      int vmcore)
{
	Elf64_Phdr ph[64];
	int n = 0;
	uint64_t pa = 0, len, off;
	uint8_t note[4096] = { 0 };
	size_t notelen = 0;

	if (vmci) {
		put32(note, 11);
		put32(note + 4, (uint32_t)vmci_len);
		put32(note + 8, 0);
		memcpy(note + 12, "VMCOREINFO", 11);
		memcpy(note + 24, vmci, vmci_len);
		notelen = 24 + ((vmci_len + 3) & ~3u);
	}
	if (vmcore && memlen >= (4u << 20))
		ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD,
					.p_vaddr = 0xffffffff81000000ull,
					.p_paddr = 2u << 20,
					.p_filesz = 2u << 20,
					.p_memsz = 2u << 20 };
	while (next_range(&pa, &len) && n < 63) {
		ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = pa,
					.p_filesz = len, .p_memsz = len };
		pa += len;
	}
	int np = n + (notelen ? 1 : 0);
	off = sizeof(Elf64_Ehdr) + np * sizeof(Elf64_Phdr);
	Elf64_Ehdr eh = { 0 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)np;
	wr(f, &eh, sizeof(eh));
	if (notelen) {
		Elf64_Phdr nph = { .p_type = PT_NOTE, .p_offset = off,
				   .p_filesz = notelen };
		wr(f, &nph, sizeof(nph));
		off += notelen;
	}
	for (int i = 0; i < n; i++) {
		ph[i].p_offset = off;
		off += ph[i].p_filesz;
		wr(f, &ph[i], sizeof(ph[i]));
	}
	wr(f, note, notelen);
	for (int i = 0; i < n; i++)
		wr(f, mem + ph[i].p_paddr, ph[i].p_filesz);
}

/* Build the plain kdump image in memory. */
static uint8_t *build_kdump(const char *comp, size_t *outlen)
{
	uint64_t max_mapnr = memlen / PAGE;
	uint64_t bm_half = ((max_mapnr + 7) / 8 + PAGE - 1) / PAGE * PAGE;
	uint64_t bm_blocks = 2 * bm_half / PAGE;
	uint64_t npages = 0;
	for (uint64_t p = 0; p < max_mapnr; p++)
		npages += !in_hole(p * PAGE);
	uint64_t pd_off = (2 + bm_blocks) * PAGE;
	uint64_t data_off = pd_off + npages * 24;
	size_t cap = data_off + npages * (PAGE + 64);
	uint8_t *o = calloc(1, cap), *cbuf = malloc(2 * PAGE + 1024);
	static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
	uint32_t flag = 0;

	if (!o || !cbuf)
		die("out of memory");
	if (!strcmp(comp, "zlib"))
		flag = 1;
	else if (!strcmp(comp, "lzo"))
		flag = 2;
	else if (!strcmp(comp, "snappy"))
		flag = 4;
	else if (!strcmp(comp, "zstd"))
		flag = 0x20;
	else if (strcmp(comp, "none"))
		die("unknown compression");
	if (flag == 2 && lzo_init() != LZO_E_OK)
		die("lzo_init failed");
	memcpy(o, "KDUMP   ", 8);
	put32(o + 8, 6);
	put32(o + 428, PAGE);
	put32(o + 432, 1);
	put32(o + 436, (uint32_t)bm_blocks);
	put32(o + 440, (uint32_t)max_mapnr);
	put32(o + 460, 1);
	put64(o + PAGE + 96, max_mapnr);
	uint64_t idx = 0, doff = data_off;
	for (uint64_t p = 0; p < max_mapnr; p++) {
		if (in_hole(p * PAGE))
			continue;
		o[2 * PAGE + p / 8] |= (uint8_t)(1 << (p % 8));
		o[2 * PAGE + bm_half + p / 8] |= (uint8_t)(1 << (p % 8));
		const uint8_t *src = mem + p * PAGE;
		size_t clen = 2 * PAGE;
		int ok = 0;
		if (flag == 1) {
			uLongf l = clen;
			ok = compress2(cbuf, &l, src, PAGE, 6) == Z_OK;
			clen = l;
		} else if (flag == 2) {
			lzo_uint l = clen;
			ok = lzo1x_1_compress(src, PAGE, cbuf, &l, wrk) ==
			     LZO_E_OK;
			clen = l;
		} else if (flag == 4) {
			ok = snappy_compress((const char *)src, PAGE,
					     (char *)cbuf, &clen) == SNAPPY_OK;
		} else if (flag == 0x20) {
			clen = ZSTD_compress(cbuf, 2 * PAGE, src, PAGE, 1);
			ok = !ZSTD_isError(clen);
		}
		uint8_t *pd = o + pd_off + idx * 24;
		put64(pd, doff);
		if (ok && clen < PAGE) {
			put32(pd + 8, (uint32_t)clen);
			put32(pd + 12, flag);
			memcpy(o + doff, cbuf, clen);
			doff += clen;
		} else {
			put32(pd + 8, PAGE);
			memcpy(o + doff, src, PAGE);
			doff += PAGE;
		}
		idx++;
	}
	free(cbuf);
	*outlen = doff;
	return o;
}

static void write_flat(FILE *f, const uint8_t *k, size_t len)
{
	uint8_t h[PAGE] = { 0 }, rec[16];
	memcpy(h, "makedumpfile", 12);
	h[23] = 1;
	h[31] = 1;
	wr(f, h, PAGE);
	/* Records of varied sizes, like a streaming writer's. */
	for (size_t off = 0, n; off < len; off += n) {
		n = (off / 7919) % 3 == 0 ? 24 : 300000;
		if (n > len - off)
			n = len - off;
		for (int i = 0; i < 8; i++) {
			rec[i] = (uint8_t)((uint64_t)off >> (56 - 8 * i));
			rec[8 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		}
		wr(f, rec, 16);
		wr(f, k + off, n);
	}
	memset(rec, 0xff, 16);
	wr(f, rec, 16);
}

int main(int argc, char **argv)
{
	char *vmci = NULL;
	size_t vmci_len = 0;

	if (argc < 4)
		die("usage: vmsight-mkdump FORMAT IN OUT [--hole START:LEN]... "
		    "[--vmcoreinfo FILE]");
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--hole") && i + 1 < argc && nholes < 64) {
			char *e;
			holes[nholes][0] = strtoull(argv[++i], &e, 0);
			holes[nholes++][1] = strtoull(e + 1, NULL, 0);
		} else if (!strcmp(argv[i], "--vmcoreinfo") && i + 1 < argc) {
			FILE *v = fopen(argv[++i], "rb");
			if (!v)
				die("cannot open VMCOREINFO file");
			vmci = calloc(1, 4096);
			vmci_len = fread(vmci, 1, 4000, v);
			fclose(v);
		} else {
			die("bad option");
		}
	}
	int fd = open(argv[2], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		die("cannot open input");
	memlen = (uint64_t)st.st_size / PAGE * PAGE;
	mem = mmap(NULL, memlen, PROT_READ, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED)
		die("cannot map input");
	FILE *f = fopen(argv[3], "wb");
	if (!f)
		die("cannot create output");
	const char *fmt = argv[1];
	if (!strcmp(fmt, "lime")) {
		write_lime(f);
	} else if (!strcmp(fmt, "elf") || !strcmp(fmt, "vmcore")) {
		write_elf(f, vmci, vmci_len, !strcmp(fmt, "vmcore"));
	} else if (!strncmp(fmt, "kdump-", 6) ||
		   !strncmp(fmt, "flat-kdump-", 11)) {
		int flat = fmt[0] == 'f';
		size_t len;
		uint8_t *k = build_kdump(fmt + (flat ? 11 : 6), &len);
		if (flat)
			write_flat(f, k, len);
		else
			wr(f, k, len);
		free(k);
	} else {
		die("unknown format");
	}
	if (fclose(f))
		die("write failed");
	free(vmci);
	return 0;
}
