/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the baseline file (vmsight diff BASELINE). The input is
 * the file's text, not NUL-terminated. Seeds: baselines written by
 * vmsight baseline from the lab's dumps, cut down.
 */
#include <stdint.h>
#include <stdio.h>

#include <vmsight/vmsight.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vms_baseline *b = NULL;
	char err[256];

	if (vms_baseline_parse((const char *)data, size, "fuzz", &b, err,
			       sizeof(err)) == 0)
		vms_baseline_count(b);
	vms_baseline_destroy(b);
	return 0;
}
