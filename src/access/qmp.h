/* SPDX-License-Identifier: MIT */
/* A QMP client: connect, negotiate, run commands (qmp.c). */
#ifndef VMS_ACCESS_QMP_H
#define VMS_ACCESS_QMP_H

#include <json-c/json.h>

#include "../core/core.h"
#include "source.h"

struct vms_qmp;

/* Connect to the QMP socket at @path (kept as is for messages: it must
 * outlive the client) and enter command mode. */
int vms_qmp_open(struct vms_ctx *ctx, const char *path, struct vms_qmp **ret);
/* The same over @fd, a connected stream socket, which the client owns
 * from then on, even on failure (@path names it in messages). */
int vms_qmp_open_fd(struct vms_ctx *ctx, int fd, const char *path,
		    struct vms_qmp **ret);
void vms_qmp_close(struct vms_qmp *q);

/* Send @line (a complete JSON command line whose "id" is the string
 * @id) and wait up to 2 s for QEMU's answer naming @id, with
 * async-signal-safe calls only: for a signal handler about to end the
 * process. QEMU drops the commands it has queued when their connection
 * closes, so one sent just before exiting could otherwise be lost. The
 * client must not be used afterwards (its buffer is bypassed). */
void vms_qmp_send_async(struct vms_qmp *q, const char *line, const char *id);

/* Run @cmd with @args (may be NULL); its "return" value into *@ret (a
 * new reference, if @ret is not NULL). QEMU's error becomes the
 * context's error, -EREMOTEIO. */
int vms_qmp_cmd(struct vms_qmp *q, const char *cmd, json_object *args,
		json_object **ret);

/* A human-monitor command's text output (CR LF line ends kept) into
 * *@ret, malloc'd, at most @max bytes. */
int vms_qmp_hmp(struct vms_qmp *q, const char *cmdline, size_t max,
		char **ret);

/* The RESET and SHUTDOWN events QEMU has sent so far, reading without
 * waiting what has arrived; *@ret is filled even when that fails. */
int vms_qmp_lifecycle(struct vms_qmp *q, struct vms_lifecycle *ret);

/* The process at the other end of the socket (SO_PEERCRED). */
int vms_qmp_peer_pid(struct vms_qmp *q, int *ret);

#endif
