/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"

#define LAYER "core"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void load(struct vms_dynlib *lib)
{
	/* Never closed: libcrypto and libyara keep process-wide state
	 * and register exit handlers. */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(lib->why, sizeof(lib->why), "%s",
			 e ? e : "dlopen failed");
		lib->state = -1;
		return;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		void *p;

		dlerror();
		p = dlsym(h, lib->syms[i].name);
		if (!p) {
			e = dlerror();
			snprintf(lib->why, sizeof(lib->why), "%s: no %s%s%s",
				 lib->soname, lib->syms[i].name,
				 e ? ": " : "", e ? e : "");
			lib->state = -1;
			return;
		}
		/* POSIX makes a data pointer from dlsym() convertible to
		 * a function pointer; memcpy() says so without a cast. */
		memcpy(lib->syms[i].slot, &p, sizeof(p));
	}
	lib->state = 1;
}

int vms_dynlib_load(struct vms_ctx *ctx, struct vms_dynlib *lib)
{
	int state;

	pthread_mutex_lock(&lock);
	if (!lib->state)
		load(lib);
	state = lib->state;
	pthread_mutex_unlock(&lock);
	if (state > 0)
		return 0;
	return vms_err(ctx, -ENOSYS, LAYER, "%s needs %s, which could not "
		       "be loaded: %s", lib->what, lib->soname, lib->why);
}
