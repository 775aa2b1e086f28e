/* SPDX-License-Identifier: MIT */
/* The seed writers' one output routine (fuzz_*.c built with -DFUZZ_SEEDS). */
#ifndef VMS_FUZZ_SEED_H
#define VMS_FUZZ_SEED_H

#include <stdio.h>

/* Write @len bytes of @data to DIR/NAME: 0, or 1 with the reason on
 * stderr. */
static inline int seed_write(const char *dir, const char *name,
			     const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len ||
	    fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

#endif
