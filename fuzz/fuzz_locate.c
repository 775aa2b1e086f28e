/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: finding the kernel with nothing given, as every command
 * starts. The input is a kernel image at physical IMG_PA of a memory of
 * 4 MiB; vms_kernel_load_impl() then scans memory for kallsyms' token
 * table (the digit signature), decodes each candidate, places the image
 * by its own page tables and linux_banner, reads the banner and
 * task_state_array, finds the BTF (from __start_BTF, else by scanning
 * the image for BTF headers), and resolves the core layout from it. A
 * kernel that loads is walked: its tasks and its modules.
 *
 * Built with -DFUZZ_SEEDS, this file is instead the seed writer
 * (fuzz-seed-locate BTF DIR): an image that loads, made of a generated
 * kallsyms table (tests/unit/kallsyms_gen.h) naming the symbols the
 * locator needs, page tables mapping the image, a banner, an init_task
 * alone on its list, an empty module list, and the BTF at BTF (a cut of
 * a real kernel's, from the btf corpus); and the same image with the
 * __start_BTF symbol renamed, so that the BTF must be found by a scan.
 * Odd-sized inputs come with a vCPU whose CR3 is the image's tables;
 * inputs whose size has bit 1 set, with a copy of the input's
 * init_top_pgt page below 1 MiB, where the real-mode trampoline's page
 * table lies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/linux/kernel.h"
#include "../tests/unit/kallsyms_gen.h"
#include "harness.h"

#define IMG_PA DATA_PA	/* 2 MiB-aligned: one large page maps it */
#define IMG_MAX (1u << 20)
#define TRAMP_PA 0x9c000ull	/* trampoline_pgd, as the lab's guests have */

/* The image, by offset from _text (the generator's TEXT). */
#define OFF_BANNER 0x4000
#define OFF_PGT 0x5000		/* init_top_pgt; then its PDPT and PD */
#define OFF_TASK 0x8000		/* init_task */
#define OFF_MODULES 0xc000	/* the module list's head */
#define OFF_STATES 0xd000	/* task_state_array, then its strings */
#define OFF_KSYMS 0x10000	/* the kallsyms tables */
#define OFF_BTF 0x20000

#ifndef FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(struct vms_kernel *k)
{
	struct vms_task_walk tw;
	struct vms_mod_walk mw;
	struct vms_task t;
	struct vms_mod m;

	if (!vms_task_walk_init(&tw, k))
		for (int n = 0; n < 64 && vms_task_walk_next(&tw, &t) == 1; n++)
			;
	vms_task_walk_fini(&tw);
	vms_err_clear(k->ctx);
	if (!vms_mod_walk_init(&mw, k))
		for (int n = 0; n < 64 && vms_mod_walk_next(&mw, &m) == 1; n++)
			;
	vms_mod_walk_fini(&mw);
	vms_err_clear(k->ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	static size_t last;
	struct vms_source *src;
	struct vms_kernel *k;
	struct vms_ctx ctx;

	if (size > IMG_MAX)
		return 0;
	if (fd < 0)
		fd = fuzz_memfd("vmsight-fuzz-locate", MEM, path);
	fuzz_place(fd, IMG_PA, data, size, &last);
	/* Bit 1 of the size: the input's init_top_pgt page (what of it
	 * there is) also at TRAMP_PA, as setup_real_mode() copies it into
	 * trampoline_pgd; else zeros there. */
	{
		static size_t tramp_last;
		size_t n = size > OFF_PGT ? VMS_MIN(size - OFF_PGT, 4096) : 0;

		fuzz_place(fd, TRAMP_PA, data + OFF_PGT, size & 2 ? n : 0,
			   &tramp_last);
	}
	vms_ctx_init(&ctx);
	if (vms_source_open(&ctx, path, &src))
		abort();
	/* An odd-sized input also has a vCPU on the image's own tables
	 * (CR4.LA57 from the first byte), as a dump's CPU notes give: the
	 * image it maps is scanned before the rest of memory. */
	if (size & 1) {
		src->ncpus = 1;
		memset(&src->cpus[0], 0, sizeof(src->cpus[0]));
		src->cpus[0].cr0 = 0x80000001u;
		src->cpus[0].cr3 = IMG_PA + OFF_PGT;
		src->cpus[0].cr4 = data[0] & 1 ? 1u << 12 : 0;
		src->cpus[0].rip = TEXT;
	}
	if (!vms_kernel_load_impl(&ctx, src, false, &k)) {
		walk(k);
		vms_kernel_free(k);
	}
	vms_source_close(src);
	return 0;
}

#else /* FUZZ_SEEDS */

#include "seed.h"

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Symbol @i: @name (its first letter the type) at _text + @off. */
static void sym(struct gen *g, int i, const char *name, uint64_t off)
{
	snprintf(g->names[i], sizeof(g->names[i]), "%s", name);
	g->addr[i] = TEXT + off;
}

/* The image into @img (zeroed), its size into *@end; @btf_symbols: with
 * __start_BTF and __stop_BTF (else they are named otherwise). */
static int image(const uint8_t *btf_raw, size_t btf_len, bool btf_symbols,
		 uint8_t *img, size_t *end)
{
	static const char *const states[] = {
		"R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)",
		"t (tracing stop)", "X (dead)", "Z (zombie)", "P (parked)",
		"I (idle)",
	};
	size_t tasks, size, comm, comm_len;
	struct gen *g = calloc(1, sizeof(*g));
	struct btf *btf;
	int i = 0;

	if (!g || !(btf = vms_btf_parse(btf_raw, (uint32_t)btf_len)) ||
	    vms_btf_member(btf, "task_struct", "tasks", &tasks, &size) ||
	    vms_btf_member(btf, "task_struct", "comm", &comm, &comm_len)) {
		fprintf(stderr, "not a BTF with task_struct.tasks and .comm\n");
		free(g);
		return 1;
	}
	vms_btf_free(btf);
	*end = (OFF_BTF + btf_len + 0xfff) & ~0xfffull;
	memset(img, 0, IMG_MAX);

	/* kallsyms, in address order: _text, filler, the symbols the
	 * locator and the walkers look up, _end. */
	sym(g, i++, "T_text", 0);
	while (i < N - 8) {
		char fill[32];
		snprintf(fill, sizeof(fill), "tvms_fill_%d", i);
		sym(g, i, fill, 0x100 + 16 * (uint64_t)i);
		i++;
	}
	sym(g, i++, "Dlinux_banner", OFF_BANNER);
	sym(g, i++, "Dinit_top_pgt", OFF_PGT);
	sym(g, i++, "Dinit_task", OFF_TASK);
	sym(g, i++, "Dmodules", OFF_MODULES);
	sym(g, i++, "Dtask_state_array", OFF_STATES);
	sym(g, i++, btf_symbols ? "R__start_BTF" : "R__start_BTX", OFF_BTF);
	sym(g, i++, btf_symbols ? "R__stop_BTF" : "R__stop_BTX",
	    OFF_BTF + btf_len);
	sym(g, i++, "B_end", *end);
	gen_tokens(g);
	gen_layout(g, 612, false);
	if (g->pos > OFF_BTF - OFF_KSYMS || *end > IMG_MAX) {
		fprintf(stderr, "the image does not fit\n");
		free(g);
		return 1;
	}
	memcpy(img + OFF_KSYMS, g->buf, g->pos);
	free(g);
	memcpy(img + OFF_BTF, btf_raw, btf_len);
	snprintf((char *)img + OFF_BANNER, 256, "Linux version 6.99.0-fuzz "
		 "(vmsight@seed) #1 SMP PREEMPT_DYNAMIC\n");
	/* init_top_pgt -> PDPT -> PD: _text's 2 MiB page at IMG_PA, and
	 * the next one after it, as a kernel larger than 2 MiB maps its
	 * image (the locator checks that the image map is linear there). */
	put64(img + OFF_PGT + 8 * ((TEXT >> 39) & 511),
	      (IMG_PA + OFF_PGT + 0x1000) | 3);
	put64(img + OFF_PGT + 0x1000 + 8 * ((TEXT >> 30) & 511),
	      (IMG_PA + OFF_PGT + 0x2000) | 3);
	put64(img + OFF_PGT + 0x2000 + 8 * ((TEXT >> 21) & 511),
	      IMG_PA | 0x83);
	put64(img + OFF_PGT + 0x2000 + 8 * (((TEXT >> 21) + 1) & 511),
	      (IMG_PA + (2u << 20)) | 0x83);
	/* init_task alone on the task list; no modules. */
	put64(img + OFF_TASK + tasks, TEXT + OFF_TASK + tasks);
	put64(img + OFF_TASK + tasks + 8, TEXT + OFF_TASK + tasks);
	snprintf((char *)img + OFF_TASK + comm, comm_len, "swapper/0");
	put64(img + OFF_MODULES, TEXT + OFF_MODULES);
	put64(img + OFF_MODULES + 8, TEXT + OFF_MODULES);
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		uint64_t at = OFF_STATES + 0x100 + 32 * s;
		put64(img + OFF_STATES + 8 * s, TEXT + at);
		strcpy((char *)img + at, states[s]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t img[IMG_MAX], btf_raw[IMG_MAX - OFF_BTF];
	size_t btf_len, end;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: fuzz-seed-locate BTF DIR\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb"))) {
		perror(argv[1]);
		return 1;
	}
	btf_len = fread(btf_raw, 1, sizeof(btf_raw), f);
	fclose(f);
	/* image-vcpu: one zero byte more, an odd size; image-trampoline:
	 * two more, with bit 1 set (see above). */
	return image(btf_raw, btf_len, true, img, &end) ||
	       seed_write(argv[2], "image", img, end) ||
	       seed_write(argv[2], "image-vcpu", img, end + 1) ||
	       seed_write(argv[2], "image-trampoline", img, end + 2) ||
	       image(btf_raw, btf_len, false, img, &end) ||
	       seed_write(argv[2], "image-btf-by-scan", img, end);
}

#endif
