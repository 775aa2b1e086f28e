/* SPDX-License-Identifier: MIT */
/* Shared helpers for the unit tests: temporary files and a context. */
#ifndef VMS_TESTUTIL_H
#define VMS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* A new temporary file holding @len bytes of @data; caller unlinks and
 * frees the returned path. */
static inline char *tmpfile_with(const void *data, size_t len)
{
	char *path = strdup("/tmp/vmsight-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

#endif
