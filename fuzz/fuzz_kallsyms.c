/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the kallsyms decoder. The input is a window of guest
 * memory (at physical BASE_PA); as the locator does, each run of the
 * token table's digit signature in it (at most 4) is a candidate, and
 * each is decoded, reading names in place where the input's size is
 * odd. A table that decodes is then used as the checks use it: sorted
 * by address, searched by address and by name.
 *
 * Built with -DFUZZ_SEEDS, this file is instead the seed writer
 * (fuzz-seed-kallsyms DIR): the unit tests' generated tables
 * (tests/unit/kallsyms_gen.h) in both table orders of real kernels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/linux/kallsyms.h"
#include "../tests/unit/kallsyms_gen.h"

#ifndef FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct vms_ctx ctx;

	vms_ctx_init(&ctx);
	for (int cand = 0; cand < 4 && p < end; cand++) {
		const uint8_t *q = memmem(p, (size_t)(end - p),
					  vms_ksyms_digits,
					  sizeof(vms_ksyms_digits));
		struct vms_ksyms ks;
		if (!q)
			break;
		p = q + 1;
		/* Inputs of odd size expand names from the input in place,
		 * as for a dump's mapping; others from a copy. */
		if ((size & 1 ? vms_ksyms_decode_borrowed
			      : vms_ksyms_decode)(&ctx, data, size, BASE_PA,
						  (size_t)(q - data), &ks)) {
			vms_err_clear(&ctx);
			continue;
		}
		if (!vms_ksyms_sort_by_addr(&ks)) {
			for (uint32_t i = 0; i < ks.n && i < 64; i++) {
				uint64_t a = ks.addr[i * 7919u % ks.n];
				vms_ksyms_floor(&ks, a + 1);
				vms_ksyms_upper(&ks, a);
				vms_ksyms_in_image(&ks, a);
			}
		}
		for (uint32_t i = 0; i < ks.n && i < 64; i++)
			vms_ksyms_lookup(&ks, vms_ksyms_name(
						      &ks, i * 104729u % ks.n));
		vms_ksyms_lookup(&ks, "_text");
		vms_ksyms_fini(&ks);
	}
	return 0;
}

#else /* FUZZ_SEEDS */

#include "seed.h"

static int write_seed(const char *dir, const char *name, int order,
		      bool abs_percpu, bool big)
{
	struct gen *g = build(order, abs_percpu, big);
	int err = seed_write(dir, name, g->buf, g->pos);

	free(g);
	return err;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-seed-kallsyms DIR\n");
		return 2;
	}
	return write_seed(argv[1], "order-6.1-percpu", 61, true, false) ||
	       write_seed(argv[1], "order-6.12-relative", 612, false, false) ||
	       write_seed(argv[1], "order-6.12-long-names", 612, true, true);
}

#endif
