/* SPDX-License-Identifier: MIT */
/*
 * The mount table of init's mount namespace, in /proc/mounts order:
 * init_task.nsproxy->mnt_ns, then either its list of mounts (through
 * mount.mnt_list, before v6.8) or its rbtree (mnt_namespace.mounts and
 * mount.mnt_node, v6.8+ 2eea9ce4310d), visited in order.
 *
 * For each mount: the device name, the mount point (path.c), the
 * filesystem type (super_block.s_type->name) and whether it is read-only
 * (MNT_READONLY in vfsmount.mnt_flags, or SB_RDONLY in s_flags; both bit
 * values are unchanged since v2.6).
 *
 * Walks are bounded and cycle-checked; the rbtree walk keeps an explicit
 * stack no deeper than a red-black tree of 2^48 nodes can be.
 */
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_MOUNTS 1000000
#define MNT_READONLY 0x40
#define SB_RDONLY 0x1

/* Push @node and its chain of left children. */
static int push_left(struct vms_mnt_walk *w, uint64_t node)
{
	struct vms_kernel *k = w->k;

	while (node) {
		int err;
		if (w->depth >= VMS_RB_MAX_DEPTH)
			return vms_err_at(k->ctx, -E2BIG, LAYER, node,
					  "mount rbtree deeper than %d",
					  VMS_RB_MAX_DEPTH);
		if ((err = vms_walk_visit(k, &w->seen, NULL, 0, node,
					  "the mount rbtree")))
			return err;
		w->stack[w->depth++] = node;
		if ((err = vms_kernel_read_u64(k, node + k->l.rb_left, &node)))
			return err;
	}
	return 0;
}

/* init's mount namespace: init_task.nsproxy->mnt_ns. */
static int init_mnt_ns(struct vms_kernel *k, uint64_t *ret)
{
	const struct vms_layout *l = &k->l;
	uint64_t init, nsproxy;
	int err;

	if ((err = vms_kernel_sym(k, "init_task", &init)) ||
	    (err = vms_kernel_read_u64(k, init + l->task_nsproxy, &nsproxy)))
		return err;
	return vms_kernel_read_u64(k, nsproxy + l->nsproxy_mnt_ns, ret);
}

int vms_ns_root(struct vms_kernel *k, uint64_t *ret)
{
	uint64_t ns;
	int err = init_mnt_ns(k, &ns);

	return err ? err : vms_kernel_read_u64(k, ns + k->l.ns_root, ret);
}

int vms_mnt_walk_init(struct vms_mnt_walk *w, struct vms_kernel *k)
{
	const struct vms_layout *l;
	uint64_t ns, first;
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	vms_addrset_init(&w->seen);
	if ((err = vms_layout_resolve_fs(k->ctx, k->btf, &k->l)) ||
	    (err = init_mnt_ns(k, &ns)))
		return err;
	l = &k->l;
	if ((err = vms_kernel_read_u64(k, ns + l->ns_root, &w->root)))
		return err;
	if (l->ns_list != VMS_NO_MEMBER) {
		w->head = ns + l->ns_list;
		return vms_kernel_read_u64(k, w->head + l->list_next, &w->node);
	}
	w->rbtree = true;
	if ((err = vms_kernel_read_u64(k, ns + l->ns_mounts, &first)))
		return err;
	return push_left(w, first);
}

void vms_mnt_walk_fini(struct vms_mnt_walk *w)
{
	vms_addrset_fini(&w->seen);
}

/* The next struct mount, or 0 at the end. */
static int next_mount(struct vms_mnt_walk *w, uint64_t *ret)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	int err;

	*ret = 0;
	if (w->rbtree) {
		uint64_t node, right;
		if (!w->depth)
			return 0;
		node = w->stack[--w->depth];
		if ((err = vms_kernel_read_u64(k, node + l->rb_right, &right)) ||
		    (err = push_left(w, right)))
			return err;
		*ret = node - l->mnt_node;
		return 0;
	}
	if (w->node == w->head)
		return 0;
	if ((err = vms_walk_visit(k, &w->seen, NULL, 0, w->node,
				  "the mount list")))
		return err;
	*ret = w->node - l->mnt_list;
	return vms_kernel_read_u64(k, w->node + l->list_next, &w->node);
}

/*
 * The generic options, in the order show_vfsmnt() (fs/proc_namespace.c)
 * prints them: ro or rw, the superblock's flags (show_sb_opts()), then
 * the mount's (show_mnt_opts()). The bit values are the kernel's SB_* and
 * MNT_* constants, unchanged since they were introduced (nosymfollow:
 * v5.10, dbad7d6f7a1e). Filesystem-specific options (the superblock's
 * show_options callback, e.g. tmpfs's size=) are not decoded.
 */
static void mount_options(struct vms_mnt *m, uint32_t mnt_flags,
			  uint64_t sb_flags)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} sb_opts[] = {
		{ 0x10, ",sync" }, { 0x80, ",dirsync" }, { 0x40, ",mand" },
		{ 1u << 25, ",lazytime" },
	}, mnt_opts[] = {
		{ 0x01, ",nosuid" },	 { 0x02, ",nodev" },
		{ 0x04, ",noexec" },	 { 0x08, ",noatime" },
		{ 0x10, ",nodiratime" }, { 0x20, ",relatime" },
		{ 0x80, ",nosymfollow" },
	};

	snprintf(m->options, sizeof(m->options), "%s",
		 m->readonly ? "ro" : "rw");
	for (size_t i = 0; i < VMS_ARRAY_SIZE(sb_opts); i++)
		if (sb_flags & sb_opts[i].bit)
			strcat(m->options, sb_opts[i].name);
	for (size_t i = 0; i < VMS_ARRAY_SIZE(mnt_opts); i++)
		if (mnt_flags & mnt_opts[i].bit)
			strcat(m->options, mnt_opts[i].name);
}

/* The struct mount at @mnt. */
static int read_mount(struct vms_mnt_walk *w, uint64_t mnt, struct vms_mnt *m)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t devname, sb, type, name, mp, parent, sbflags;
	uint8_t b[4];
	int err;

	memset(m, 0, sizeof(*m));
	m->addr = mnt;
	if ((err = vms_kernel_read(k, mnt + l->mnt_id, b, 4)))
		return err;
	m->id = (int32_t)vms_le32(b);
	if ((err = vms_kernel_read_u64(k, mnt + l->mnt_devname, &devname)) ||
	    (err = vms_kernel_read_u64(k, mnt + l->mnt_vfs + l->vfs_sb, &sb)) ||
	    (err = vms_kernel_read_u64(k, sb + l->sb_type, &type)) ||
	    (err = vms_kernel_read_u64(k, type + l->fstype_name, &name)) ||
	    (err = vms_kernel_read_u64(k, sb + l->sb_flags, &sbflags)) ||
	    (err = vms_kernel_read(k, mnt + l->mnt_vfs + l->vfs_flags, b, 4)))
		return err;
	m->readonly = (vms_le32(b) & MNT_READONLY) || (sbflags & SB_RDONLY);
	mount_options(m, vms_le32(b), sbflags);
	if (!vms_kernel_read_str(k, devname, m->devname, sizeof(m->devname)))
		strcpy(m->devname, "none");
	if (!vms_kernel_read_str(k, name, m->fstype, sizeof(m->fstype)))
		strcpy(m->fstype, "?");
	/* The mount point: the mountpoint dentry in the parent mount. */
	if ((err = vms_kernel_read_u64(k, mnt + l->mnt_mountpoint, &mp)) ||
	    (err = vms_kernel_read_u64(k, mnt + l->mnt_parent, &parent)) ||
	    (err = vms_path_build(k, parent + l->mnt_vfs, mp, w->root,
				  m->path, sizeof(m->path))))
		return err;
	return 0;
}

/* Racing a running guest (vms_torn), a mount that fails to read is left
 * out; a list or tree that breaks ends the walk early. */
int vms_mnt_walk_next(struct vms_mnt_walk *w, struct vms_mnt *m)
{
	struct vms_kernel *k = w->k;
	uint64_t mnt;
	int err;

	while (!w->done) {
		w->done = true;
		if ((err = next_mount(w, &mnt)))
			return vms_torn(k->ctx, err, "the mount table")
				       ? 0
				       : err;
		if (!mnt)
			return 0;
		if (++w->count > MAX_MOUNTS)
			return vms_err(k->ctx, -E2BIG, LAYER,
				       "more than %d mounts", MAX_MOUNTS);
		err = read_mount(w, mnt, m);
		w->done = false;
		if (!err)
			return 1;
		if (!vms_torn(k->ctx, err, "mount %#llx",
			      (unsigned long long)mnt)) {
			w->done = true;
			return err;
		}
	}
	return 0;
}
