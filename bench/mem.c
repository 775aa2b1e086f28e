/* SPDX-License-Identifier: MIT */
/*
 * vmsight-bench-mem DUMP [PASSES]: the physical limits, measured in one
 * process on one machine, as JSON lines for bench/run.py:
 *   - memcpy: the machine's copy bandwidth from a large anonymous
 *     buffer into a 1 MiB one (the ceiling for any reader that hands
 *     out copies in 1 MiB chunks);
 *   - read_phys: every byte of the dump's physical ranges read through
 *     vms_read_phys() in 1 MiB chunks, each pass;
 *   - translate: every 4 KiB page of the kernel's direct map of those
 *     ranges (page_offset_base + physical address) translated through
 *     the kernel's page tables with vms_translate(), each pass (the
 *     first walks the tables, later ones hit the translation caches).
 * Uses only the public API, as any client would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsight/vmsight.h>

#define CHUNK (1u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The copy bandwidth for @total bytes, as the reader below copies
 * them: from a 256 MiB buffer (more than any cache holds) into one
 * 1 MiB buffer, chunk by chunk. */
static void bench_memcpy(uint64_t total, int passes)
{
	size_t span = 256u << 20;
	uint8_t *a = malloc(span), *b = malloc(CHUNK);
	volatile uint8_t sink = 0;

	if (!a || !b) {
		fprintf(stderr, "vmsight-bench-mem: out of memory\n");
		exit(1);
	}
	memset(a, 1, span);
	memset(b, 2, CHUNK);
	for (int p = 0; p < passes; p++) {
		double t0 = now();
		for (uint64_t done = 0, off = 0; done < total; done += CHUNK) {
			memcpy(b, a + off, CHUNK);
			off = (off + CHUNK) % span;
		}
		double dt = now() - t0;
		sink ^= b[p];
		printf("{\"what\":\"memcpy\",\"pass\":%d,\"bytes\":%llu,"
		       "\"seconds\":%.6f}\n", p, (unsigned long long)total, dt);
	}
	(void)sink;
	free(a);
	free(b);
}

int main(int argc, char **argv)
{
	struct vms_session *s;
	struct vms_phys_range r;
	uint64_t total = 0, pob = 0, sym;
	int passes = argc > 2 ? atoi(argv[2]) : 3, err;
	uint8_t *buf = malloc(CHUNK);

	if (argc < 2 || passes < 1 || !buf) {
		fprintf(stderr, "usage: vmsight-bench-mem DUMP [PASSES]\n");
		return 2;
	}
	if ((err = vms_session_create(NULL, &s)) ||
	    (err = vms_session_open(s, argv[1])) ||
	    (err = vms_kernel_load(s)) ||
	    (err = vms_symbol_lookup(s, "page_offset_base", &sym)) ||
	    (err = vms_read_virt(s, VMS_KERNEL_AS, sym, &pob, 8))) {
		fprintf(stderr, "vmsight-bench-mem: %s: %s\n", argv[1],
			vms_errmsg(s) ? vms_errmsg(s) : strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < vms_phys_range_count(s); i++)
		if (!vms_phys_range_get(s, i, &r))
			total += r.size;
	bench_memcpy(total, passes);
	for (int p = 0; p < passes; p++) {
		double t0 = now();
		uint64_t bytes = 0;
		for (size_t i = 0; i < vms_phys_range_count(s); i++) {
			vms_phys_range_get(s, i, &r);
			for (uint64_t off = 0; off < r.size; off += CHUNK) {
				size_t n = r.size - off < CHUNK ? r.size - off
								: CHUNK;
				if ((err = vms_read_phys(s, r.start + off, buf,
							 n))) {
					fprintf(stderr, "vmsight-bench-mem: "
						"%s\n", vms_errmsg(s));
					return 1;
				}
				bytes += n;
			}
		}
		printf("{\"what\":\"read_phys\",\"pass\":%d,\"bytes\":%llu,"
		       "\"seconds\":%.6f}\n", p, (unsigned long long)bytes,
		       now() - t0);
	}
	for (int p = 0; p < passes; p++) {
		double t0 = now();
		uint64_t pages = 0, mapped = 0;
		for (size_t i = 0; i < vms_phys_range_count(s); i++) {
			vms_phys_range_get(s, i, &r);
			for (uint64_t off = 0; off < r.size; off += 4096) {
				uint64_t pa;
				pages++;
				if (!vms_translate(s, VMS_KERNEL_AS,
						   pob + r.start + off, &pa,
						   NULL))
					mapped++;
			}
		}
		printf("{\"what\":\"translate\",\"pass\":%d,\"pages\":%llu,"
		       "\"mapped\":%llu,\"seconds\":%.6f}\n", p,
		       (unsigned long long)pages, (unsigned long long)mapped,
		       now() - t0);
		vms_errclear(s);
	}
	free(buf);
	vms_session_destroy(s);
	return 0;
}
