/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what a live QEMU says in text, parsed without a
 * connection: the gdbstub's stop replies (T05thread:02;... S05 W00) and
 * the vCPU registers of the monitor's "info registers -a". The first
 * byte picks the parser; the rest, NUL-terminated, is its input. Seeds:
 * replies and register dumps QEMU 7.2 gave the live tests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/access/gdb.h"
#include "../src/access/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vms_cpu cpus[VMS_MAX_CPUS];
	struct vms_gdb_stop st;
	unsigned int n;
	char *text;

	if (!size || !(text = malloc(size)))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	if (data[0] & 1)
		vms_qemu_parse_registers(text, cpus, VMS_MAX_CPUS, &n);
	else
		vms_gdb_parse_stop(text, &st);
	free(text);
	return 0;
}
