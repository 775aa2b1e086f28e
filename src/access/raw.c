/* SPDX-License-Identifier: MIT */
/*
 * Raw physical memory: file offset N is guest-physical address N, as in a
 * copy of a QEMU memory-backend-file. Raw is what is left when no header
 * matches, so it insists on a size a RAM image can have (whole pages,
 * at least 1 MiB): anything else is more likely not a dump at all.
 */
#include "source.h"

int vms_raw_open(struct vms_source *src)
{
	if (src->map_len < (1u << 20) || src->map_len % VMS_PAGE_SIZE)
		return vms_err(src->ctx, -ENOTSUP, "access",
			       "%s: not a memory dump: no ELF, kdump or LiME "
			       "header, and %llu bytes is not a raw RAM image "
			       "(whole 4 KiB pages, at least 1 MiB)",
			       src->path, (unsigned long long)src->map_len);
	return vms_source_add_seg(src, 0, src->map_len, VMS_SEG_MAPPED,
				  src->map);
}
