/* SPDX-License-Identifier: MIT */
/*
 * Path names of (vfsmount, dentry) pairs, built the way d_path() does
 * (fs/d_path.c prepend_path()): walk d_parent up to the mount's root
 * dentry, cross to the parent mount at mnt_mountpoint, and stop at the
 * namespace's root mount. Names come from dentry.d_name.
 *
 * Guest data: every component is bounded (NAME_MAX), the whole path is
 * bounded (PATH_MAX) and so is the number of steps, so a dentry that is
 * its own parent's child, or mounts that form a loop, end the walk with
 * an error instead of hanging it.
 */
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define NAME_MAX_LEN 255
#define MAX_STEPS 4096

int vms_path_build(struct vms_kernel *k, uint64_t vfsmnt, uint64_t dentry,
		   uint64_t root_mount, char *buf, size_t len)
{
	const struct vms_layout *l = &k->l;
	size_t pos = len - 1; /* the path is built backwards */
	uint64_t mnt = vfsmnt - l->mnt_vfs;
	int err;

	if (len < 2)
		return -EINVAL;
	buf[pos] = 0;
	for (int step = 0;; step++) {
		uint64_t mroot, parent, name;
		uint32_t nlen;
		uint8_t b[4];

		if (step > MAX_STEPS)
			return vms_err_at(k->ctx, -ELOOP, LAYER, dentry,
					  "path of dentry %#llx does not reach "
					  "a root in %d steps",
					  (unsigned long long)dentry, MAX_STEPS);
		if ((err = vms_kernel_read_u64(k, mnt + l->mnt_vfs + l->vfs_root,
					       &mroot)) ||
		    (err = vms_kernel_read_u64(k, dentry + l->d_parent,
					       &parent)))
			return err;
		if (dentry == mroot || dentry == parent) {
			uint64_t pmnt;
			if (mnt == root_mount || dentry != mroot)
				break; /* the namespace root, or unreachable */
			if ((err = vms_kernel_read_u64(k, mnt + l->mnt_parent,
						       &pmnt)))
				return err;
			if (pmnt == mnt)
				break; /* a root outside this namespace */
			if ((err = vms_kernel_read_u64(
				     k, mnt + l->mnt_mountpoint, &dentry)))
				return err;
			mnt = pmnt;
			continue;
		}
		if ((err = vms_kernel_read(k, dentry + l->d_len, b, 4)) ||
		    (err = vms_kernel_read_u64(k, dentry + l->d_name, &name)))
			return err;
		nlen = vms_le32(b);
		if (nlen > NAME_MAX_LEN)
			return vms_err_at(k->ctx, -EBADMSG, LAYER, dentry,
					  "dentry %#llx has a %u-byte name",
					  (unsigned long long)dentry, nlen);
		if (nlen + 1 > pos)
			return vms_err_at(k->ctx, -E2BIG, LAYER, dentry,
					  "path longer than %zu bytes", len - 1);
		pos -= nlen;
		if ((err = vms_kernel_read(k, name, buf + pos, nlen)))
			return err;
		buf[--pos] = '/';
		dentry = parent;
	}
	if (pos == len - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, len - pos);
	return 0;
}

int vms_path_d_path(struct vms_kernel *k, uint64_t vfsmnt, uint64_t dentry,
		    uint64_t root_mount, char *buf, size_t len)
{
	static const char suffix[] = " (deleted)";
	uint64_t pprev, parent;
	size_t n;
	int err;

	if ((err = vms_path_build(k, vfsmnt, dentry, root_mount, buf, len)))
		return err;
	/* fs/d_path.c d_path(): d_unlinked() is d_unhashed() and not
	 * IS_ROOT(); the suffix is part of the name the kernel shows. */
	if ((err = vms_kernel_read_u64(k, dentry + k->l.d_hash_pprev,
				       &pprev)) ||
	    (err = vms_kernel_read_u64(k, dentry + k->l.d_parent, &parent)))
		return err;
	if (pprev || parent == dentry)
		return 0;
	n = strlen(buf);
	if (n + sizeof(suffix) > len)
		return vms_err_at(k->ctx, -E2BIG, LAYER, dentry,
				  "path longer than %zu bytes", len - 1);
	memcpy(buf + n, suffix, sizeof(suffix));
	return 0;
}
