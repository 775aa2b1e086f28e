/* SPDX-License-Identifier: MIT */
/*
 * Table and JSON-lines output. JSON is written with json-c, so strings
 * taken from the guest (process names may hold any byte) are escaped
 * correctly; tables replace non-printable bytes with '?'.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

struct out {
	FILE *f;
	bool json;
	const struct out_col *cols;
	size_t ncols;
	char **cells;		/* table cells, row-major */
	size_t nrows, cap;
};

struct out *out_new(FILE *f, bool json, const struct out_col *cols,
		    size_t ncols)
{
	struct out *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->f = f;
	o->json = json;
	o->cols = cols;
	o->ncols = ncols;
	return o;
}

static char *fmt_cell(const struct out_col *c, const struct out_val *v)
{
	char buf[64], *s;

	switch (c->type) {
	case OUT_STR:
		s = strdup(v->s ? v->s : "");
		for (char *p = s; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return s;
	case OUT_INT:
		snprintf(buf, sizeof(buf), "%" PRId64, v->i);
		break;
	case OUT_UINT:
		snprintf(buf, sizeof(buf), "%" PRIu64, v->u);
		break;
	case OUT_HEX:
		snprintf(buf, sizeof(buf), "0x%" PRIx64, v->u);
		break;
	case OUT_BOOL:
		snprintf(buf, sizeof(buf), "%s", v->b ? "yes" : "no");
		break;
	case OUT_STRV: {
		/* Joined with spaces, as ps shows a command line. */
		size_t len = 0;
		const char *p = v->s;
		for (size_t i = 0; i < v->n; i++) {
			len += strlen(p) + 1;
			p += strlen(p) + 1;
		}
		s = malloc(len + 1);
		if (!s)
			return NULL;
		memcpy(s, v->s, len);
		for (size_t i = 0; i + 1 < len; i++)
			if (!s[i])
				s[i] = ' ';
		s[len ? len - 1 : 0] = 0;
		for (char *q = s; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
		return s;
	}
	}
	return strdup(buf);
}

int out_row(struct out *o, const struct out_val *vals)
{
	if (o->json) {
		json_object *j = json_object_new_object();
		for (size_t i = 0; i < o->ncols; i++) {
			const struct out_val *v = &vals[i];
			json_object *x = NULL;
			char hex[24];
			switch (o->cols[i].type) {
			case OUT_STR:
				x = json_object_new_string(v->s ? v->s : "");
				break;
			case OUT_INT:
				x = json_object_new_int64(v->i);
				break;
			case OUT_UINT:
				x = json_object_new_uint64(v->u);
				break;
			case OUT_HEX:
				snprintf(hex, sizeof(hex), "0x%" PRIx64, v->u);
				x = json_object_new_string(hex);
				break;
			case OUT_BOOL:
				x = json_object_new_boolean(v->b);
				break;
			case OUT_STRV: {
				const char *p = v->s;
				x = json_object_new_array();
				for (size_t k = 0; k < v->n; k++) {
					json_object_array_add(
						x, json_object_new_string(p));
					p += strlen(p) + 1;
				}
				break;
			}
			}
			json_object_object_add(j, o->cols[i].key, x);
		}
		fprintf(o->f, "%s\n",
			json_object_to_json_string_ext(
				j, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		return 0;
	}
	if (o->nrows == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 64;
		char **n = realloc(o->cells, ncap * o->ncols * sizeof(*n));
		if (!n)
			return -1;
		o->cells = n;
		o->cap = ncap;
	}
	for (size_t i = 0; i < o->ncols; i++)
		o->cells[o->nrows * o->ncols + i] =
			o->cols[i].title ? fmt_cell(&o->cols[i], &vals[i])
					 : NULL;
	o->nrows++;
	return 0;
}

int out_finish(struct out *o)
{
	size_t w[32] = { 0 };

	if (!o)
		return -1;
	if (!o->json) {
		for (size_t c = 0; c < o->ncols && c < 32; c++) {
			if (!o->cols[c].title)
				continue;
			w[c] = strlen(o->cols[c].title);
			for (size_t r = 0; r < o->nrows; r++) {
				const char *s = o->cells[r * o->ncols + c];
				if (s && strlen(s) > w[c])
					w[c] = strlen(s);
			}
		}
		size_t lastcol = 0;
		for (size_t c = 0; c < o->ncols && c < 32; c++)
			if (o->cols[c].title)
				lastcol = c;
		for (long r = -1; r < (long)o->nrows; r++) {
			const char *sep = "";
			for (size_t c = 0; c < o->ncols && c < 32; c++) {
				const char *s;
				if (!o->cols[c].title)
					continue;
				s = r < 0 ? o->cols[c].title
					  : o->cells[r * o->ncols + c];
				bool last = c == lastcol;
				if (o->cols[c].left)
					fprintf(o->f, "%s%-*s", sep,
						last ? 0 : (int)w[c], s ? s : "");
				else
					fprintf(o->f, "%s%*s", sep, (int)w[c],
						s ? s : "");
				sep = "  ";
			}
			fputc('\n', o->f);
		}
		for (size_t i = 0; i < o->nrows * o->ncols; i++)
			free(o->cells[i]);
	}
	free(o->cells);
	free(o);
	return 0;
}
