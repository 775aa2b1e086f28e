/* SPDX-License-Identifier: MIT */
/*
 * events: breakpoints at kernel functions over QEMU's gdbstub, each hit
 * decoded with the kernel model (watch.c). The public vms_watch_* calls
 * in session.c route here.
 */
#ifndef VMS_EVENTS_H
#define VMS_EVENTS_H

#include "../access/source.h"
#include "../linux/kernel.h"

/* The caller's way to find the guest's kernel again after a reset:
 * 0 with the new model in *@ret (the old one is then freed), -EAGAIN
 * (or another error) while none runs yet. */
typedef int (*vms_events_reload_fn)(void *arg, struct vms_kernel **ret);

int vms_events_start(struct vms_ctx *ctx, struct vms_source *src,
		     struct vms_kernel *k, vms_events_reload_fn reload,
		     void *reload_arg, const struct vms_watch_opts *opts,
		     struct vms_watch **ret);
int vms_events_next(struct vms_watch *w, int timeout_ms,
		    struct vms_event *ret);
int vms_events_stop(struct vms_watch *w);

#endif
