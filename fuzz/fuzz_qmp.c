/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the QMP client's side of a conversation. The input is
 * everything QEMU says, written ahead into one end of a socket pair
 * whose other end the client gets: the greeting, the reply to
 * qmp_capabilities, then replies and events for the commands vmsight
 * sends (query-status, a human-monitor command, a command QEMU refuses)
 * and the lifecycle poll, which counts RESET and SHUTDOWN events.
 * The end of the input is QEMU closing the connection, so no run waits
 * on the client's 30-second deadline. Seeds: what QEMU 7.2 said to the
 * same commands (fuzz/seeds.py records it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../src/access/qmp.h"

#define MAX_INPUT (128u << 10) /* within a socket pair's buffer */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vms_ctx ctx;
	struct vms_qmp *q;
	struct vms_lifecycle life;
	json_object *ret = NULL;
	char *text = NULL;
	int sv[2];

	if (size > MAX_INPUT ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	for (size_t off = 0; off < size;) {
		ssize_t w = write(sv[0], data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	shutdown(sv[0], SHUT_WR);
	vms_ctx_init(&ctx);
	if (!vms_qmp_open_fd(&ctx, sv[1], "fuzz", &q)) {
		vms_qmp_cmd(q, "query-status", NULL, &ret);
		json_object_put(ret);
		vms_err_clear(&ctx);
		vms_qmp_hmp(q, "info registers -a", 1u << 16, &text);
		free(text);
		vms_err_clear(&ctx);
		vms_qmp_cmd(q, "no-such-command", NULL, NULL);
		vms_err_clear(&ctx);
		vms_qmp_lifecycle(q, &life);
		vms_qmp_close(q);
	}
	close(sv[0]);
	return 0;
}
