/* SPDX-License-Identifier: MIT */
/*
 * The CLI's one output module: every command emits records through it,
 * either as an aligned table or as JSON lines (one object per record,
 * a stable schema documented in README.md).
 */
#ifndef VMSIGHT_CLI_OUTPUT_H
#define VMSIGHT_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_type { OUT_STR, OUT_INT, OUT_UINT, OUT_HEX, OUT_BOOL, OUT_STRV };

struct out_col {
	const char *key;	/* JSON key */
	const char *title;	/* table heading, NULL: JSON only */
	enum out_type type;
	bool left;		/* left-align in the table */
};

struct out_val {
	const char *s;		/* OUT_STR; OUT_STRV: @n NUL-separated */
	size_t n;		/* OUT_STRV: strings in @s */
	int64_t i;
	uint64_t u;
	bool b;
};

struct out;

struct out *out_new(FILE *f, bool json, const struct out_col *cols,
		    size_t ncols);
/* Add one record: @vals has one entry per column. */
int out_row(struct out *o, const struct out_val *vals);
/* Print what is buffered (tables are aligned at the end) and free. */
int out_finish(struct out *o);

#endif
