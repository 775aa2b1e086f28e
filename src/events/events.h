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

int vms_events_start(struct vms_ctx *ctx, struct vms_source *src,
		     struct vms_kernel *k, const struct vms_watch_opts *opts,
		     struct vms_watch **ret);
int vms_events_next(struct vms_watch *w, int timeout_ms,
		    struct vms_event *ret);
int vms_events_stop(struct vms_watch *w);

#endif
