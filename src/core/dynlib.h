/* SPDX-License-Identifier: MIT */
/*
 * core: shared libraries loaded on first use.
 *
 * libyara, libcapstone, libcrypto and libsnappy serve a few commands
 * (yara, the inline-hook check, baselines, snappy-compressed kdump
 * pages), but linked as usual every process would load and relocate
 * them: some 95,000 relocations over 11 MiB, about 10 ms of a `ps` that
 * takes 80. They are opened with dlopen() by the soname the build found
 * (meson.build), and their functions are called through pointers.
 */
#ifndef VMS_CORE_DYNLIB_H
#define VMS_CORE_DYNLIB_H

#include "core.h"

struct vms_dynsym {
	const char *name;	/* the library's symbol */
	void *slot;		/* the function pointer to set */
};

struct vms_dynlib {
	const char *soname;	/* "libyara.so.9" */
	const char *what;	/* what needs it, for the error */
	const struct vms_dynsym *syms;
	size_t nsyms;
	/* Set by vms_dynlib_load(), under its lock. */
	int state;		/* 0: not tried, 1: loaded, <0: failed */
	char why[200];		/* dlerror() of the failure */
};

/* A symbol of @lib's table: the field @f of the struct @s, which has
 * the function's own name and type. */
#define VMS_DYNSYM(s, f) { #f, &(s).f }

/* Load @lib and resolve every symbol of its table, once per process
 * (thread-safe; a failure is remembered). 0, or -ENOSYS recorded in
 * @ctx naming @lib->what and the library. */
int vms_dynlib_load(struct vms_ctx *ctx, struct vms_dynlib *lib);

#endif /* VMS_CORE_DYNLIB_H */
