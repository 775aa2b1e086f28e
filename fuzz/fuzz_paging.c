/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the page-table walker. The input is guest-physical memory
 * (a raw image: file offset = physical address) whose first 8 bytes
 * choose the paging mode (bit 0: 5-level) and the root table (bits
 * 12-51); the walker then translates and reads addresses taken from the
 * input itself, in both halves, through tables that may point at
 * themselves, at each other, or past the end of memory. Seeds: page
 * tables built as a real kernel lays them out (test_paging's).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/arch/mmu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	static struct vms_mmu mmu; /* its cache is large: not on the stack */
	struct vms_source *src;
	struct vms_ctx ctx;
	uint64_t head;

	if (size < 16)
		return 0;
	if (fd < 0) {
		if ((fd = memfd_create("vmsight-fuzz-paging", 0)) < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	vms_ctx_init(&ctx);
	if (vms_source_open(&ctx, path, &src))
		return 0;
	head = le64(data);
	vms_mmu_init(&mmu, src, head & 1 ? &vms_x86_64_5level
					  : &vms_x86_64_4level);
	/* Every 8-byte word after the first (at most 256) is an address to
	 * translate and read across a page boundary, quietly and not. */
	for (size_t off = 8; off + 8 <= size && off < 8 + 256 * 8; off += 8) {
		uint64_t va = le64(data + off), pa, ps;
		uint8_t buf[64];
		vms_mmu_translate(&mmu, head & 0x000ffffffffff000ull, va, &pa,
				  &ps, off & 8);
		vms_mmu_read(&mmu, head & 0x000ffffffffff000ull, va - 32, buf,
			     sizeof(buf));
		vms_err_clear(&ctx);
	}
	vms_source_close(src);
	return 0;
}
