/* SPDX-License-Identifier: MIT */
/*
 * Open files of a process: task_struct.files->fdt, an array of max_fds
 * struct file pointers (include/linux/fdtable.h). Each file is named as
 * readlink(/proc/PID/fd/N) names it, which is d_path() of file.f_path,
 * except on pseudo filesystems whose dentries name themselves through a
 * d_dname callback; those formats are reproduced here:
 *
 *   pipefs        "pipe:[INODE]"          fs/pipe.c pipefs_dname()
 *   sockfs        "socket:[INODE]"        net/socket.c sockfs_dname()
 *   anon_inodefs  "anon_inode:NAME"       fs/anon_inodes.c, NAME being
 *                                         the dentry's, e.g. "[eventfd]"
 *
 * max_fds is bounded before the fd array is read, and it is read in
 * chunks, so a hostile table costs bounded time and memory.
 */
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_FDS (1u << 20) /* NR_OPEN's default ceiling */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

int vms_fd_walk_init(struct vms_fd_walk *w, struct vms_kernel *k,
		     const struct vms_task *t)
{
	const struct vms_layout *l = &k->l;
	uint64_t files, fdt;
	uint8_t b[4];
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	if ((err = vms_layout_resolve_files(k->ctx, k->btf, &k->l)) ||
	    (err = vms_ns_root(k, &w->root)) ||
	    (err = vms_kernel_read_u64(k, t->addr + l->task_files, &files)))
		return err;
	if (!files)
		return 0; /* an exiting task, or one without files */
	if (!vms_is_kernel_addr(k, files))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, t->addr,
				  "pid %d: files pointer %#llx is not a kernel "
				  "address", t->pid, (unsigned long long)files);
	if ((err = vms_kernel_read_u64(k, files + l->files_fdt, &fdt)) ||
	    (err = vms_kernel_read(k, fdt + l->fdt_max_fds, b, 4)) ||
	    (err = vms_kernel_read_u64(k, fdt + l->fdt_fd, &w->fdarray)))
		return err;
	w->max_fds = vms_le32(b);
	if (w->max_fds > MAX_FDS)
		return vms_err_at(k->ctx, -E2BIG, LAYER, fdt,
				  "pid %d: fd table claims %u descriptors "
				  "(more than %u)", t->pid, w->max_fds,
				  MAX_FDS);
	return 0;
}

int vms_inode_fstype(struct vms_kernel *k, uint64_t inode, char *buf,
		     size_t len)
{
	const struct vms_layout *l = &k->l;
	uint64_t sb, type, name;
	int err;

	if ((err = vms_kernel_read_u64(k, inode + l->inode_sb, &sb)) ||
	    (err = vms_kernel_read_u64(k, sb + l->sb_type, &type)) ||
	    (err = vms_kernel_read_u64(k, type + l->fstype_name, &name)))
		return err;
	vms_kernel_read_str(k, name, buf, len);
	return 0;
}

static int dentry_name(struct vms_kernel *k, uint64_t dentry, char *buf,
		       size_t len)
{
	uint64_t name;
	uint8_t b[4];
	uint32_t n;
	int err;

	if ((err = vms_kernel_read(k, dentry + k->l.d_len, b, 4)) ||
	    (err = vms_kernel_read_u64(k, dentry + k->l.d_name, &name)))
		return err;
	n = VMS_MIN(vms_le32(b), (uint32_t)len - 1);
	if ((err = vms_kernel_read(k, name, buf, n)))
		return err;
	buf[n] = 0;
	return 0;
}

int vms_file_ref_read(struct vms_kernel *k, uint64_t file,
		      struct vms_file_ref *ret)
{
	const struct vms_layout *l = &k->l;
	int err;

	if ((err = vms_kernel_read_u64(k, file + l->file_mnt, &ret->mnt)) ||
	    (err = vms_kernel_read_u64(k, file + l->file_dentry,
				       &ret->dentry)))
		return err;
	return vms_kernel_read_u64(k, file + l->file_inode, &ret->inode);
}

int vms_fd_walk_next(struct vms_fd_walk *w, struct vms_fd *r)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;

	while (w->next < w->max_fds) {
		uint64_t ptrs[64], ino;
		struct vms_file_ref f;
		uint32_t base = w->next, n = VMS_MIN(64u, w->max_fds - base);
		uint8_t b[4];
		char fstype[32], name[256];
		int err, i;

		if ((err = vms_kernel_read(k, w->fdarray + 8ull * base, ptrs,
					   8ull * n)))
			return err;
		for (i = 0; i < (int)n && !ptrs[i]; i++)
			;
		if (i == (int)n) {
			w->next = base + n;
			continue;
		}
		w->next = base + (uint32_t)i + 1;
		memset(r, 0, sizeof(*r));
		r->fd = (int32_t)(base + (uint32_t)i);
		r->file = vms_le64(&ptrs[i]);
		if (!vms_is_kernel_addr(k, r->file))
			return vms_err_at(k->ctx, -EBADMSG, LAYER,
					  w->fdarray + 8ull * (uint64_t)r->fd,
					  "fd %d: file pointer %#llx is not a "
					  "kernel address", r->fd,
					  (unsigned long long)r->file);
		if ((err = vms_file_ref_read(k, r->file, &f)) ||
		    (err = vms_kernel_read(k, r->file + l->file_mode, b, 4)))
			return err;
		r->readable = vms_le32(b) & FMODE_READ;
		r->writable = vms_le32(b) & FMODE_WRITE;
		if ((err = vms_kernel_read_u64(k, f.inode + l->inode_ino,
					       &ino)) ||
		    (err = vms_kernel_read(k, f.inode + l->inode_mode, b, 2)) ||
		    (err = vms_inode_fstype(k, f.inode, fstype,
					    sizeof(fstype))))
			return err;
		r->inode = ino;
		r->inode_addr = f.inode;
		r->imode = vms_le16(b);
		if (!strcmp(fstype, "pipefs")) {
			snprintf(r->path, sizeof(r->path), "pipe:[%llu]",
				 (unsigned long long)ino);
		} else if (!strcmp(fstype, "sockfs")) {
			snprintf(r->path, sizeof(r->path), "socket:[%llu]",
				 (unsigned long long)ino);
			r->socket = true;
		} else if (!strcmp(fstype, "anon_inodefs")) {
			if ((err = dentry_name(k, f.dentry, name,
					       sizeof(name))))
				return err;
			snprintf(r->path, sizeof(r->path), "anon_inode:%s",
				 name);
		} else if ((err = vms_path_d_path(k, f.mnt, f.dentry, w->root,
						  r->path, sizeof(r->path)))) {
			return err;
		}
		return 1;
	}
	return 0;
}
