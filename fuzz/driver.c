/* SPDX-License-Identifier: MIT */
/*
 * The fuzz targets' regression runner, for builds without libFuzzer:
 * every file named on the command line, and every file in every
 * directory named, goes through the target once, as libFuzzer would run
 * it over a corpus. Under the sanitizer build a crash, a leak or
 * undefined behaviour fails the run; so does an empty corpus, which
 * would test nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_MAX_INPUT (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned int *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *p;
			cap = cap ? cap * 2 : 65536;
			if (cap > FUZZ_MAX_INPUT || !(p = realloc(buf, cap))) {
				fprintf(stderr, "%s: too large\n", path);
				free(buf);
				fclose(f);
				return -1;
			}
			buf = p;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	/* An exact-size copy, so that a read past the end is caught. */
	uint8_t *in = malloc(len ? len : 1);
	if (!in) {
		free(buf);
		return -1;
	}
	if (len)
		memcpy(in, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(in, len);
	free(in);
	++*n;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int n = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i], &n))
				return 1;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		if (!d) {
			perror(argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
				 e->d_name);
			if (run_file(path, &n)) {
				closedir(d);
				return 1;
			}
		}
		closedir(d);
	}
	printf("%u inputs\n", n);
	return n ? 0 : 1;
}
