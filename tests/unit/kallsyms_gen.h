/* SPDX-License-Identifier: MIT */
/*
 * A kallsyms table generator, for the decoder's unit tests and the
 * kallsyms fuzz target's seeds: N symbols, encoded with a token table as
 * scripts/kallsyms does, laid out in either table order seen in real
 * kernels, with leading and trailing junk around it.
 */
#ifndef VMS_KALLSYMS_GEN_H
#define VMS_KALLSYMS_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1000
#define BASE_PA 0x1000000ull
#define TEXT 0xffffffff9a200000ull

struct gen {
	char names[N][300];	/* type letter + name */
	uint64_t addr[N];
	char tok[256][3];	/* token strings */
	uint8_t buf[1 << 20];	/* the window */
	size_t pos;
	size_t digits;		/* offset of the digit signature */
};

static inline void pad8(struct gen *g)
{
	while (g->pos % 8)
		g->buf[g->pos++] = 0;
}

static inline void put(struct gen *g, const void *p, size_t n)
{
	memcpy(g->buf + g->pos, p, n);
	g->pos += n;
}

static inline void gen_tokens(struct gen *g);

static inline void gen_symbols(struct gen *g, bool abs_percpu, bool big)
{
	static const char types[] = "TtDdbBrRW";
	for (int i = 0; i < N; i++) {
		if (big && i == 700) {
			memset(g->names[i], 'x', 250);
			g->names[i][0] = 'T';
			g->names[i][250] = 0;
		} else {
			snprintf(g->names[i], sizeof(g->names[i]),
				 "%cvms_sym_%d_%s", types[i % 9], i * 7919 % 100000,
				 i % 3 ? "alpha" : "Zq");
		}
		if (abs_percpu && i < 5) {
			g->addr[i] = (uint64_t)i * 0x1000;
			g->names[i][0] = 'A';
		} else {
			g->addr[i] = TEXT + (uint64_t)i * 48 + (i % 5);
		}
	}
	gen_tokens(g);
}

/* The token table for the names in @g. */
static inline void gen_tokens(struct gen *g)
{
	/* Tokens: every byte used is itself; spare slots get pairs. */
	bool used[256] = { false };
	for (int i = 0; i < N; i++)
		for (const char *p = g->names[i]; *p; p++)
			used[(uint8_t)*p] = true;
	static const char *pairs[] = { "vm", "s_", "sy", "m_", "al", "ph",
				       "Tv", "_1", "xx" };
	size_t np = 0;
	for (int b = 0; b < 256; b++) {
		memset(g->tok[b], 0, 3);
		if (used[b])
			g->tok[b][0] = (char)b;
		else if (b >= 0x80 && np < 9)
			memcpy(g->tok[b], pairs[np++], 2);
	}
}

/* Encode name @i; returns the entry length written. */
static inline void put_name(struct gen *g, int i)
{
	uint8_t enc[600];
	size_t n = 0;
	const char *s = g->names[i];
	while (*s) {
		int best = -1;
		for (int b = 0x80; b < 256 && s[1]; b++)
			if (g->tok[b][1] && g->tok[b][0] == s[0] &&
			    g->tok[b][1] == s[1])
				best = b;
		if (best >= 0) {
			enc[n++] = (uint8_t)best;
			s += 2;
		} else {
			enc[n++] = (uint8_t)*s++;
		}
	}
	if (n > 127) {
		uint8_t h[2] = { (uint8_t)((n & 0x7f) | 0x80),
				 (uint8_t)(n >> 7) };
		put(g, h, 2);
	} else {
		uint8_t h = (uint8_t)n;
		put(g, &h, 1);
	}
	put(g, enc, n);
}

static inline uint64_t relbase(bool abs_percpu)
{
	return abs_percpu ? TEXT : TEXT; /* lowest non-percpu address */
}

static inline void put_offsets(struct gen *g, bool abs_percpu)
{
	uint64_t base = relbase(abs_percpu);
	for (int i = 0; i < N; i++) {
		int32_t v;
		if (abs_percpu && g->names[i][0] == 'A')
			v = (int32_t)g->addr[i];
		else if (abs_percpu)
			v = (int32_t)(base - g->addr[i] - 1);
		else
			v = (int32_t)(uint32_t)(g->addr[i] - base);
		put(g, &v, 4);
	}
	pad8(g);
}

static inline void put_names_markers(struct gen *g)
{
	uint32_t n = N, markers[(N + 255) / 256];
	put(g, &n, 4);
	pad8(g);
	size_t start = g->pos;
	for (int i = 0; i < N; i++) {
		if (i % 256 == 0)
			markers[i / 256] = (uint32_t)(g->pos - start);
		put_name(g, i);
	}
	pad8(g);
	put(g, markers, sizeof(markers));
	pad8(g);
}

static inline void put_tokens(struct gen *g)
{
	uint16_t idx[256];
	size_t start = g->pos;
	for (int b = 0; b < 256; b++) {
		idx[b] = (uint16_t)(g->pos - start);
		if (b == '0')
			g->digits = g->pos;
		put(g, g->tok[b], strlen(g->tok[b]) + 1);
	}
	pad8(g);
	put(g, idx, sizeof(idx));
	pad8(g);
}

/* kallsyms_seqs_of_names: the symbols' indices sorted by name (without
 * the type letter), then by address, then by index, as scripts/kallsyms
 * sorts them; 3 bytes big-endian each. */
static const struct gen *seqs_gen;

static inline int seqs_cmp(const void *x, const void *y)
{
	int i = *(const int *)x, j = *(const int *)y;
	int c = strcmp(seqs_gen->names[i] + 1, seqs_gen->names[j] + 1);

	if (c)
		return c;
	if (seqs_gen->addr[i] != seqs_gen->addr[j])
		return seqs_gen->addr[i] < seqs_gen->addr[j] ? -1 : 1;
	return i - j;
}

static inline void put_seqs(struct gen *g)
{
	static int order[N];

	for (int i = 0; i < N; i++)
		order[i] = i;
	seqs_gen = g;
	qsort(order, N, sizeof(order[0]), seqs_cmp);
	for (int i = 0; i < N; i++) {
		uint8_t b[3] = { (uint8_t)(order[i] >> 16),
				 (uint8_t)(order[i] >> 8), (uint8_t)order[i] };
		put(g, b, 3);
	}
	pad8(g);
}

/* The tables of the symbols and tokens in @g, laid out in @order, with
 * junk before and after.
 * order 61: offsets relbase num_syms names markers seqs tokens
 * order 612: num_syms names markers tokens offsets relbase seqs */
static inline void gen_layout(struct gen *g, int order, bool abs_percpu)
{
	uint64_t rb = relbase(abs_percpu);
	for (size_t i = 0; i < 4096; i++)
		g->buf[i] = (uint8_t)(i * 37 + 11); /* leading junk */
	g->pos = 4096;
	if (order == 61) {
		put_offsets(g, abs_percpu);
		put(g, &rb, 8);
		put_names_markers(g);
		put_seqs(g);
		put_tokens(g);
	} else {
		put_names_markers(g);
		put_tokens(g);
		put_offsets(g, abs_percpu);
		put(g, &rb, 8);
		put_seqs(g);
	}
	for (size_t i = 0; i < 4096; i++)
		g->buf[g->pos++] = (uint8_t)(i * 91 + 5); /* trailing junk */
}

/* The generated symbols in @order's layout. */
static inline struct gen *build(int order, bool abs_percpu, bool big)
{
	struct gen *g = calloc(1, sizeof(*g));
	gen_symbols(g, abs_percpu, big);
	gen_layout(g, order, abs_percpu);
	return g;
}

#endif
