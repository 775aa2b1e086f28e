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
 *   pidfs         "anon_inode:[pidfd]"    fs/pidfs.c pidfs_dname(): the
 *                                         pidfds of v6.9+ kept their old
 *                                         name
 *
 * max_fds is bounded before the fd array is read, and it is read in
 * chunks, so a hostile table costs bounded time and memory.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_FDS (1u << 20) /* NR_OPEN's default ceiling */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

static int fd_table(struct vms_fd_walk *w, struct vms_kernel *k,
		    const struct vms_task *t)
{
	const struct vms_layout *l = &k->l;
	uint64_t files, fdt;
	uint8_t b[4];
	int err;

	if ((err = vms_kernel_read_u64(k, t->addr + l->task_files, &files)))
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

/* Racing a running guest (vms_torn), a task that exits or replaces its
 * fd table under the read has its files left out; an fd whose file
 * fails to read is left out alone. */
int vms_fd_walk_init(struct vms_fd_walk *w, struct vms_kernel *k,
		     const struct vms_task *t)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	if ((err = vms_layout_resolve_files(k->ctx, k->btf, &k->l)))
		return err;
	if ((err = fd_table(w, k, t))) {
		w->max_fds = 0;
		if (!vms_torn(k->ctx, err, "pid %d's fd table", t->pid))
			return err;
	}
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

/* Fd @fd, whose file pointer is @file. */
static int read_fd(struct vms_fd_walk *w, uint32_t fd, uint64_t file,
		   struct vms_fd *r)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	struct vms_file_ref f;
	uint64_t ino;
	uint8_t b[4];
	char fstype[32], name[256];
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = (int32_t)fd;
	r->file = file;
	if (!vms_is_kernel_addr(k, r->file))
		return vms_err_at(k->ctx, -EBADMSG, LAYER,
				  w->fdarray + 8ull * (uint64_t)r->fd,
				  "fd %d: file pointer %#llx is not a kernel "
				  "address", r->fd, (unsigned long long)r->file);
	if (w->bare)
		return 0;
	if ((err = vms_file_ref_read(k, r->file, &f)) ||
	    (err = vms_kernel_read(k, r->file + l->file_mode, b, 4)))
		return err;
	r->readable = vms_le32(b) & FMODE_READ;
	r->writable = vms_le32(b) & FMODE_WRITE;
	if ((err = vms_kernel_read_u64(k, f.inode + l->inode_ino, &ino)) ||
	    (err = vms_kernel_read(k, f.inode + l->inode_mode, b, 2)) ||
	    (err = vms_inode_fstype(k, f.inode, fstype, sizeof(fstype))))
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
	} else if (!strcmp(fstype, "pidfs")) {
		snprintf(r->path, sizeof(r->path), "anon_inode:[pidfd]");
	} else if (!strcmp(fstype, "anon_inodefs")) {
		if ((err = dentry_name(k, f.dentry, name, sizeof(name))))
			return err;
		snprintf(r->path, sizeof(r->path), "anon_inode:%s", name);
	} else if ((!w->root && (err = vms_ns_root(k, &w->root))) ||
		   (err = vms_path_d_path(k, f.mnt, f.dentry, w->root,
					  r->path, sizeof(r->path)))) {
		return err;
	}
	return 0;
}

int vms_fd_walk_next(struct vms_fd_walk *w, struct vms_fd *r)
{
	struct vms_kernel *k = w->k;

	while (w->next < w->max_fds) {
		uint64_t ptrs[64];
		uint32_t base = w->next, n = VMS_MIN(64u, w->max_fds - base);
		int err, i;

		if ((err = vms_kernel_read(k, w->fdarray + 8ull * base, ptrs,
					   8ull * n))) {
			w->next = w->max_fds;
			return vms_torn(k->ctx, err, "the fd array at %#llx",
					(unsigned long long)w->fdarray)
				       ? 0
				       : err;
		}
		for (i = 0; i < (int)n && !ptrs[i]; i++)
			;
		if (i == (int)n) {
			w->next = base + n;
			continue;
		}
		w->next = base + (uint32_t)i + 1;
		err = read_fd(w, base + (uint32_t)i, vms_le64(&ptrs[i]), r);
		if (!err)
			return 1;
		if (!vms_torn(k->ctx, err, "fd %u", base + (uint32_t)i))
			return err;
	}
	return 0;
}

int vms_pidref_ops_init(struct vms_kernel *k, struct vms_pidref_ops *ret)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
		{ "pidfd_fops", offsetof(struct vms_pidref_ops, pidfd_fops) },
		{ "pidfs_file_operations",
		  offsetof(struct vms_pidref_ops, pidfs_fops) },
		{ "socket_file_ops",
		  offsetof(struct vms_pidref_ops, socket_fops) },
		{ "proc_fs_type", offsetof(struct vms_pidref_ops, proc_type) },
	};
	int err;

	memset(ret, 0, sizeof(*ret));
	if ((err = vms_layout_resolve_pidrefs(k->ctx, k->btf, &k->l)))
		return err;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(syms); i++) {
		int64_t s = vms_ksyms_lookup(&k->ks, syms[i].name);
		if (s >= 0)
			memcpy((char *)ret + syms[i].off, &k->ks.addr[s], 8);
	}
	return 0;
}

/* Store a non-NULL pid reference. */
static void add_ref(struct vms_pidref *ret, size_t max, size_t *n,
		    uint64_t pid, enum vms_pidref_kind kind)
{
	if (pid && *n < max) {
		ret[*n].pid = pid;
		ret[*n].kind = kind;
		++*n;
	}
}

/*
 * Where each kind of file keeps its struct pid:
 *   pidfd, before v6.9   file.private_data (kernel/pid.c pidfd_pid())
 *   pidfd, v6.9+         the pidfs inode's i_private (fs/pidfs.c)
 *   /proc/PID/...        proc_inode.pid, the proc_inode around f_inode
 *   F_SETOWN             file.f_owner.pid (f_owner a pointer in v6.12+)
 *   socket               socket.sk->sk_peer_pid (set on connect for unix
 *                        sockets; SO_PEERCRED reports it)
 */
int vms_file_pidrefs(struct vms_kernel *k, const struct vms_pidref_ops *ops,
		     uint64_t file, struct vms_pidref *ret, size_t max)
{
	const struct vms_layout *l = &k->l;
	uint64_t fop, priv, inode, owner, v, sb, type;
	size_t n = 0;
	int err;

	if ((err = vms_kernel_read_u64(k, file + l->file_f_op, &fop)) ||
	    (err = vms_kernel_read_u64(k, file + l->file_private, &priv)) ||
	    (err = vms_kernel_read_u64(k, file + l->file_inode, &inode)))
		return err;
	if (!vms_is_kernel_addr(k, inode))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, file,
				  "file %#llx: inode pointer %#llx is not a "
				  "kernel address", (unsigned long long)file,
				  (unsigned long long)inode);
	if (ops->pidfd_fops && fop == ops->pidfd_fops) {
		add_ref(ret, max, &n, priv, VMS_PIDREF_PIDFD);
	} else if (ops->pidfs_fops && fop == ops->pidfs_fops) {
		if ((err = vms_kernel_read_u64(k, inode + l->inode_private,
					       &v)))
			return err;
		add_ref(ret, max, &n, v, VMS_PIDREF_PIDFD);
	} else if (ops->socket_fops && fop == ops->socket_fops && priv) {
		if ((err = vms_kernel_read_u64(k, priv + l->socket_sk, &v)))
			return err;
		if (v && (err = vms_kernel_read_u64(k, v + l->sk_peer_pid,
						    &v)))
			return err;
		add_ref(ret, max, &n, v, VMS_PIDREF_PEER);
	} else if (ops->proc_type) {
		if ((err = vms_kernel_read_u64(k, inode + l->inode_sb, &sb)) ||
		    (err = vms_kernel_read_u64(k, sb + l->sb_type, &type)))
			return err;
		if (type == ops->proc_type &&
		    (err = vms_kernel_read_u64(k, inode - l->pinode_vfs +
							  l->pinode_pid,
					       &v)))
			return err;
		if (type == ops->proc_type)
			add_ref(ret, max, &n, v, VMS_PIDREF_PROC);
	}
	owner = file + l->file_owner;
	if (l->file_owner_ptr &&
	    (err = vms_kernel_read_u64(k, file + l->file_owner, &owner)))
		return err;
	if (owner && (err = vms_kernel_read_u64(k, owner + l->fown_pid, &v)))
		return err;
	if (owner)
		add_ref(ret, max, &n, v, VMS_PIDREF_OWNER);
	return (int)n;
}
