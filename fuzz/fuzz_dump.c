/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: dump files. The input is a file that vms_source_open()
 * detects (ELF core, kdump and flattened kdump with every compression,
 * LiME, raw) and parses, memory map and notes included; then pages of
 * every segment are read (the first, one in the middle, the last), which
 * decompresses kdump pages. Seeds: small dumps of each format (see
 * fuzz/README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/access/source.h"

#define MAX_SEGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct vms_source *src;
	struct vms_ctx ctx;

	if (fd < 0) {
		/* One in-memory file, rewritten for each input. */
		if ((fd = memfd_create("vmsight-fuzz-dump", 0)) < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) !=
					       (ssize_t)size))
		return 0;
	vms_ctx_init(&ctx);
	if (vms_source_open(&ctx, path, &src))
		return 0;
	for (size_t i = 0; i < src->nsegs && i < MAX_SEGS; i++) {
		const struct vms_seg *s = &src->segs[i];
		uint64_t at[3] = { s->start, s->start + s->size / 2,
				   s->start + s->size - 1 };
		uint8_t page[4096];
		for (int j = 0; j < 3; j++) {
			uint64_t pa = at[j] & ~4095ull;
			if (pa < s->start)
				pa = s->start;
			vms_source_read(src, pa, page, sizeof(page));
			vms_err_clear(&ctx);
		}
	}
	vms_source_close(src);
	return 0;
}
