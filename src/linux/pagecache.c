/* SPDX-License-Identifier: MIT */
/*
 * Files as the page cache holds them.
 *
 * Lookup: a path is resolved the way the kernel's path walk does it, but
 * only through what is in memory: from the root of init's mount namespace,
 * each component is looked up among the cached children of its directory
 * (dentry.d_subdirs before v6.8, dentry.d_children from v6.8,
 * da549bdd15c2), mounts are crossed where a mount's mountpoint is the
 * dentry reached, ".." climbs back across them, and symbolic links are
 * followed (inode.i_link, or the link's first page-cache page, as
 * page_get_link() reads it) at most MAXSYMLINKS (40) times. A name that
 * is not in the dentry cache cannot be found: the kernel would have read
 * the directory from disk.
 *
 * Contents: inode.i_mapping->i_pages is an xarray of folios indexed by
 * page (include/linux/xarray.h). A node pointer is an "internal" entry
 * (low bits 10) above 4096; a sibling entry (internal, below the chunk
 * size) points at the slot that holds a large folio; a value entry (low
 * bit 1) is a swap entry on tmpfs or a shadow entry of an evicted page
 * elsewhere. A folio's physical page comes from its position in the
 * vmemmap array of struct page.
 *
 * Everything is guest data: the children walk is bounded and
 * cycle-checked, xarray nodes must have the shift their depth implies,
 * a folio must belong to the mapping that holds it and cover the index
 * asked for, and nothing is ever filled in: pages that are not in memory
 * or not in the dump are reported as such.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define MAX_CHILDREN (1u << 24)
#define MAX_SYMLINKS 40		/* include/linux/namei.h MAXSYMLINKS */
#define PATH_MAX_LEN 4096
#define NAME_MAX_LEN 255
#define MAX_FOLIO_PAGES (1u << 18) /* a PUD-sized folio */
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFLNK 0120000

/*
 * Without CONFIG_RANDOMIZE_MEMORY the vmemmap array is at a fixed base
 * (Documentation/arch/x86/x86_64/mm.rst); with it, at vmemmap_base.
 */
#define VMEMMAP_START_4LEVEL 0xffffea0000000000ull
#define VMEMMAP_START_5LEVEL 0xffd4000000000000ull

struct mnt_ent {
	uint64_t mnt, parent, mountpoint, root;
};

struct lookup {
	struct vms_kernel *k;
	struct mnt_ent *m;
	size_t n;
	uint64_t ns_root;	/* the namespace's root mount */
};

static uint64_t mnt_root(const struct lookup *lk, uint64_t mnt)
{
	for (size_t i = 0; i < lk->n; i++)
		if (lk->m[i].mnt == mnt)
			return lk->m[i].root;
	return 0;
}

static int load_mounts(struct lookup *lk)
{
	struct vms_kernel *k = lk->k;
	const struct vms_layout *l = &k->l;
	struct vms_mnt_walk w;
	struct vms_mnt mt;
	size_t cap = 0;
	int r;

	if ((r = vms_mnt_walk_init(&w, k)))
		goto out;
	lk->ns_root = w.root;
	while ((r = vms_mnt_walk_next(&w, &mt)) == 1) {
		struct mnt_ent *e;
		/* The mount walk is bounded, so is this. */
		if ((r = vms_grow(k->ctx, &lk->m, &cap, lk->n, sizeof(*lk->m),
				  32, SIZE_MAX)))
			break;
		e = &lk->m[lk->n++];
		e->mnt = mt.addr;
		if ((r = vms_kernel_read_u64(k, mt.addr + l->mnt_parent,
					     &e->parent)) ||
		    (r = vms_kernel_read_u64(k, mt.addr + l->mnt_mountpoint,
					     &e->mountpoint)) ||
		    (r = vms_kernel_read_u64(k, mt.addr + l->mnt_vfs +
						       l->vfs_root, &e->root)))
			break;
	}
out:
	vms_mnt_walk_fini(&w);
	if (r < 0)
		return r;
	if (!mnt_root(lk, lk->ns_root))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, lk->ns_root,
				  "the namespace's root mount %#llx is not "
				  "in its mount table",
				  (unsigned long long)lk->ns_root);
	return 0;
}

/* Step onto whatever is mounted on (mnt, dentry), then onto whatever is
 * mounted on that, as follow_mount() does. The newest mount wins, and a
 * mount table has no more levels than it has mounts. Each level scans
 * the table, so a guest that stacks a million mounts makes this
 * quadratic: it counts against the operation's time cap. */
static int cross_down(const struct lookup *lk, uint64_t *mnt,
		      uint64_t *dentry)
{
	for (size_t level = 0; level <= lk->n; level++) {
		const struct mnt_ent *top = NULL;
		int err;
		if ((err = vms_tick(lk->k->ctx)))
			return err;
		for (size_t i = 0; i < lk->n; i++)
			if (lk->m[i].parent == *mnt && lk->m[i].mnt != *mnt &&
			    lk->m[i].mountpoint == *dentry)
				top = &lk->m[i];
		if (!top)
			return 0;
		*mnt = top->mnt;
		*dentry = top->root;
	}
	return 0;
}

/* "..": climb out of mounts whose root we are at, then to the parent. */
static int climb(const struct lookup *lk, uint64_t *mnt, uint64_t *dentry)
{
	struct vms_kernel *k = lk->k;

	for (size_t level = 0; level <= lk->n; level++) {
		const struct mnt_ent *e = NULL;
		int err;
		if ((err = vms_tick(k->ctx)))
			return err;
		for (size_t i = 0; i < lk->n && !e; i++)
			if (lk->m[i].mnt == *mnt)
				e = &lk->m[i];
		if (!e || *mnt == lk->ns_root || *dentry != e->root)
			break;
		*mnt = e->parent;
		*dentry = e->mountpoint;
	}
	if (*mnt == lk->ns_root && *dentry == mnt_root(lk, *mnt))
		return 0; /* ".." of the root is the root */
	return vms_kernel_read_u64(k, *dentry + k->l.d_parent, dentry);
}

/* The positive child of @dir named @name, or 0. */
static int find_child(struct vms_kernel *k, uint64_t dir, const char *name,
		      size_t nlen, uint64_t *ret)
{
	const struct vms_layout *l = &k->l;
	bool hlist = l->d_subdirs == VMS_NO_MEMBER;
	uint64_t head = dir + (hlist ? l->d_children : l->d_subdirs);
	uint64_t node;
	struct vms_addrset seen;
	char cand[NAME_MAX_LEN], what[64];
	uint32_t count = 0;
	int err;

	*ret = 0;
	snprintf(what, sizeof(what), "the children of dentry %#llx",
		 (unsigned long long)dir);
	if ((err = vms_kernel_read_u64(k, head, &node)))
		return err;
	vms_addrset_init(&seen);
	while (hlist ? node != 0 : node != head) {
		uint64_t child = node - (hlist ? l->d_sib : l->d_child);
		uint64_t nameptr, inode;
		uint8_t b[4];

		if ((err = vms_walk_visit(k, &seen, &count, MAX_CHILDREN, node,
					  what)) ||
		    (err = vms_kernel_read(k, child + l->d_len, b, 4)))
			break;
		if (vms_le32(b) == nlen) {
			if ((err = vms_kernel_read_u64(k, child + l->d_name,
						       &nameptr)) ||
			    (err = vms_kernel_read(k, nameptr, cand, nlen)) ||
			    (err = vms_kernel_read_u64(k, child + l->d_inode,
						       &inode)))
				break;
			/* Negative dentries (no inode) and readdir cursors
			 * name nothing that exists. */
			if (inode && !memcmp(cand, name, nlen)) {
				*ret = child;
				break;
			}
		}
		if ((err = vms_kernel_read_u64(
			     k, node + (hlist ? l->hlist_next : l->list_next),
			     &node)))
			break;
	}
	vms_addrset_fini(&seen);
	return err;
}

static int inode_facts(struct vms_kernel *k, uint64_t inode, uint32_t *mode,
		       uint64_t *size)
{
	const struct vms_layout *l = &k->l;
	uint8_t b[8];
	int err;

	if (!vms_is_kernel_addr(k, inode))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, inode,
				  "inode pointer %#llx is not a kernel address",
				  (unsigned long long)inode);
	if ((err = vms_kernel_read(k, inode + l->inode_mode, b, 2)))
		return err;
	*mode = vms_le16(b);
	if ((err = vms_kernel_read(k, inode + l->inode_size, b, 8)))
		return err;
	*size = vms_le64(b);
	if (*size > INT64_MAX)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, inode,
				  "inode %#llx has a negative size",
				  (unsigned long long)inode);
	return 0;
}

/* Fill @f for @inode: everything a page lookup needs. */
static int open_inode(struct vms_kernel *k, uint64_t inode,
		      struct vms_pcfile *f)
{
	const struct vms_layout *l = &k->l;
	static const char *const memfs[] = { "tmpfs", "ramfs", "rootfs",
					     "devtmpfs" };
	uint64_t va;
	int err;

	f->inode = inode;
	if ((err = inode_facts(k, inode, &f->mode, &f->size)) ||
	    (err = vms_kernel_read_u64(k, inode + l->inode_ino, &f->ino)) ||
	    (err = vms_kernel_read_u64(k, inode + l->inode_mapping,
				       &f->mapping)) ||
	    (err = vms_inode_fstype(k, inode, f->fstype, sizeof(f->fstype))))
		return err;
	if (!vms_is_kernel_addr(k, f->mapping))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, inode,
				  "inode %#llx: mapping %#llx is not a kernel "
				  "address", (unsigned long long)inode,
				  (unsigned long long)f->mapping);
	/* On memory filesystems the page cache is the file: a missing page
	 * is a hole that reads as zeros (shmem_get_folio() with SGP_READ,
	 * simple_read_folio() zero-fills). */
	f->holes_read_zero = false;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(memfs); i++)
		if (!strcmp(f->fstype, memfs[i]))
			f->holes_read_zero = true;
	if (!vms_kernel_sym(k, "vmemmap_base", &va)) {
		if ((err = vms_kernel_read_u64(k, va, &f->vmemmap)))
			return err;
	} else {
		vms_err_clear(k->ctx);
		f->vmemmap = k->mmu.mode->levels == 5 ? VMEMMAP_START_5LEVEL
						 : VMEMMAP_START_4LEVEL;
	}
	return 0;
}

static bool xa_is_internal(uint64_t e)
{
	return (e & 3) == 2;
}

static bool xa_is_node(uint64_t e)
{
	return xa_is_internal(e) && e > 4096;
}

/* The xarray entry at @index of @f's mapping (xa_load()). */
static int xa_lookup(struct vms_kernel *k, const struct vms_pcfile *f,
		     uint64_t index, uint64_t *ret)
{
	const struct vms_layout *l = &k->l;
	unsigned int bits = (unsigned int)__builtin_ctzll(l->xa_nslots);
	uint64_t mask = l->xa_nslots - 1, entry;
	int expect = -1, err;

	*ret = 0;
	if ((err = vms_kernel_read_u64(k, f->mapping + l->as_xa_head, &entry)))
		return err;
	if (!xa_is_node(entry)) {
		/* A lone entry at the head covers index 0 only. */
		*ret = index ? 0 : entry;
		return 0;
	}
	for (int depth = 0;; depth++) {
		uint64_t node = entry - 2, off;
		uint8_t shift;

		if (!vms_is_kernel_addr(k, node))
			return vms_err_at(k->ctx, -EBADMSG, LAYER, f->mapping,
					  "page cache of inode %#llx: node "
					  "%#llx is not a kernel address",
					  (unsigned long long)f->inode,
					  (unsigned long long)node);
		if ((err = vms_kernel_read(k, node + l->xa_shift, &shift, 1)))
			return err;
		if (shift % bits || shift >= 64 ||
		    (expect >= 0 && shift != expect))
			return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					  "page cache of inode %#llx: node "
					  "%#llx at depth %d has shift %u",
					  (unsigned long long)f->inode,
					  (unsigned long long)node, depth,
					  shift);
		if (depth == 0 && shift + bits < 64 &&
		    (index >> shift) > mask)
			return 0; /* beyond the tree's reach: absent */
		off = (index >> shift) & mask;
		if ((err = vms_kernel_read_u64(k, node + l->xa_slots + off * 8,
					       &entry)))
			return err;
		/* A sibling names the slot that holds the large entry. */
		if (xa_is_internal(entry) && (entry >> 2) < mask) {
			if ((entry >> 2) >= off)
				return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
						  "xarray node %#llx: sibling "
						  "in slot %llu points forward",
						  (unsigned long long)node,
						  (unsigned long long)off);
			off = entry >> 2;
			if ((err = vms_kernel_read_u64(
				     k, node + l->xa_slots + off * 8, &entry)))
				return err;
		}
		if (!xa_is_node(entry)) {
			*ret = entry;
			return 0;
		}
		if (shift == 0)
			return vms_err_at(k->ctx, -EBADMSG, LAYER, node,
					  "xarray leaf node %#llx has a child "
					  "node", (unsigned long long)node);
		expect = (int)(shift - bits);
	}
}

int vms_pcfile_page(struct vms_kernel *k, const struct vms_pcfile *f,
		    uint64_t index, uint8_t *buf)
{
	const struct vms_layout *l = &k->l;
	uint64_t entry, mapping, findex, pfn, d, pa;
	int err;

	if ((err = xa_lookup(k, f, index, &entry)))
		return err;
	if (!entry || xa_is_internal(entry)) {
		/* Nothing, or a retry or zero marker: no page. */
		if (f->holes_read_zero) {
			memset(buf, 0, 4096);
			return VMS_PG_HOLE;
		}
		return VMS_PG_NOT_CACHED;
	}
	if (entry & 1) /* a value entry: swapped out, or evicted */
		return f->holes_read_zero ? VMS_PG_SWAPPED : VMS_PG_NOT_CACHED;
	if (!vms_is_kernel_addr(k, entry) || entry < f->vmemmap ||
	    (entry - f->vmemmap) % l->page_size)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, entry,
				  "page cache of inode %#llx: entry %#llx for "
				  "page %llu is not a struct page",
				  (unsigned long long)f->inode,
				  (unsigned long long)entry,
				  (unsigned long long)index);
	pfn = (entry - f->vmemmap) / l->page_size;
	if ((err = vms_kernel_read_u64(k, entry + l->page_mapping,
				       &mapping)) ||
	    (err = vms_kernel_read_u64(k, entry + l->folio_index, &findex)))
		return err;
	if (mapping != f->mapping)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, entry,
				  "page cache of inode %#llx: the folio at "
				  "%#llx for page %llu belongs to mapping "
				  "%#llx", (unsigned long long)f->inode,
				  (unsigned long long)entry,
				  (unsigned long long)index,
				  (unsigned long long)mapping);
	d = index - findex;
	if (findex > index || d >= MAX_FOLIO_PAGES ||
	    vms_add_overflows(pfn, d, &pfn) || pfn >> 52)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, entry,
				  "page cache of inode %#llx: the folio at "
				  "%#llx starts at page %llu, not at or "
				  "shortly before page %llu",
				  (unsigned long long)f->inode,
				  (unsigned long long)entry,
				  (unsigned long long)findex,
				  (unsigned long long)index);
	pa = pfn << 12;
	if (vms_source_read(k->src, pa, buf, 4096)) {
		vms_err_clear(k->ctx);
		return VMS_PG_NOT_IN_DUMP;
	}
	return VMS_PG_RESIDENT;
}

/* The target of symbolic link @inode: i_link, or its first page. */
static int read_link(struct vms_kernel *k, uint64_t inode, char *buf,
		     size_t len)
{
	const struct vms_layout *l = &k->l;
	struct vms_pcfile lf;
	uint8_t page[4096];
	uint64_t target = 0;
	int st, err;

	if (l->inode_link != VMS_NO_MEMBER &&
	    (err = vms_kernel_read_u64(k, inode + l->inode_link, &target)))
		return err;
	if (target && vms_is_kernel_addr(k, target)) {
		if (!vms_kernel_read_str(k, target, buf, len))
			return vms_err_at(k->ctx, -EBADMSG, LAYER, inode,
					  "symbolic link inode %#llx has an "
					  "unreadable target",
					  (unsigned long long)inode);
		return 0;
	}
	memset(&lf, 0, sizeof(lf));
	if ((err = open_inode(k, inode, &lf)))
		return err;
	if (lf.size == 0 || lf.size >= VMS_MIN(len, sizeof(page)))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, inode,
				  "symbolic link inode %#llx is %llu bytes "
				  "long", (unsigned long long)inode,
				  (unsigned long long)lf.size);
	if ((st = vms_pcfile_page(k, &lf, 0, page)) < 0)
		return st;
	if (st != VMS_PG_RESIDENT)
		return vms_err_at(k->ctx, -ENODATA, LAYER, inode,
				  "the target of symbolic link inode %#llx "
				  "is not in memory",
				  (unsigned long long)inode);
	memcpy(buf, page, lf.size);
	buf[lf.size] = 0;
	return 0;
}

static int walk(struct lookup *lk, const char *path, uint64_t *ret_mnt,
		uint64_t *ret_dentry)
{
	struct vms_kernel *k = lk->k;
	const struct vms_layout *l = &k->l;
	char cur[PATH_MAX_LEN], target[PATH_MAX_LEN], next[PATH_MAX_LEN];
	const char *p = cur;
	uint64_t mnt = lk->ns_root, dentry = mnt_root(lk, lk->ns_root);
	int links = 0, err;

	snprintf(cur, sizeof(cur), "%s", path);
	if ((err = cross_down(lk, &mnt, &dentry)))
		return err;
	for (;;) {
		const char *name;
		size_t nlen;
		uint64_t child, inode, size;
		uint32_t mode;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		nlen = (size_t)(p - name);
		if (nlen > NAME_MAX_LEN)
			return vms_err(k->ctx, -ENAMETOOLONG, LAYER,
				       "%s: a component is longer than %d "
				       "bytes", path, NAME_MAX_LEN);
		if (nlen == 1 && name[0] == '.')
			continue;
		if (nlen == 2 && name[0] == '.' && name[1] == '.') {
			if ((err = climb(lk, &mnt, &dentry)) ||
			    (err = cross_down(lk, &mnt, &dentry)))
				return err;
			continue;
		}
		if ((err = find_child(k, dentry, name, nlen, &child)))
			return err;
		if (!child)
			return vms_err(k->ctx, -ENOENT, LAYER,
				       "%s: '%.*s' is not in the guest's "
				       "dentry cache (no such file, or never "
				       "looked up)", path, (int)nlen, name);
		if ((err = vms_kernel_read_u64(k, child + l->d_inode,
					       &inode)) ||
		    (err = inode_facts(k, inode, &mode, &size)))
			return err;
		if ((mode & S_IFMT) == S_IFLNK) {
			if (++links > MAX_SYMLINKS)
				return vms_err(k->ctx, -ELOOP, LAYER,
					       "%s: more than %d symbolic "
					       "links", path, MAX_SYMLINKS);
			if ((err = read_link(k, inode, target,
					     sizeof(target))))
				return err;
			/* @p is empty or starts with the '/' that ended
			 * the link's name. */
			if ((size_t)snprintf(next, sizeof(next), "%s%s",
					     target, p) >= sizeof(next))
				return vms_err(k->ctx, -ENAMETOOLONG, LAYER,
					       "%s: longer than %d bytes "
					       "after following links", path,
					       PATH_MAX_LEN);
			memcpy(cur, next, sizeof(cur));
			p = cur;
			if (target[0] == '/') {
				mnt = lk->ns_root;
				dentry = mnt_root(lk, mnt);
				if ((err = cross_down(lk, &mnt, &dentry)))
					return err;
			}
			continue;
		}
		dentry = child;
		if ((err = cross_down(lk, &mnt, &dentry)))
			return err;
		if (*p && (mode & S_IFMT) != S_IFDIR)
			return vms_err(k->ctx, -ENOTDIR, LAYER,
				       "%s: '%.*s' is not a directory", path,
				       (int)nlen, name);
	}
	*ret_mnt = mnt;
	*ret_dentry = dentry;
	return 0;
}

int vms_pcfile_open(struct vms_kernel *k, const char *path,
		    struct vms_pcfile *f)
{
	struct lookup lk = { .k = k };
	uint64_t mnt, dentry, inode;
	int err;

	memset(f, 0, sizeof(*f));
	if ((err = vms_layout_resolve_pcache(k->ctx, k->btf, &k->l)))
		return err;
	if (path[0] != '/')
		return vms_err(k->ctx, -EINVAL, LAYER,
			       "%s: the path must be absolute", path);
	if (strlen(path) >= PATH_MAX_LEN)
		return vms_err(k->ctx, -ENAMETOOLONG, LAYER,
			       "the path is longer than %d bytes",
			       PATH_MAX_LEN);
	err = load_mounts(&lk);
	if (!err)
		err = walk(&lk, path, &mnt, &dentry);
	if (!err)
		err = vms_kernel_read_u64(k, dentry + k->l.d_inode, &inode);
	if (!err)
		err = open_inode(k, inode, f);
	if (!err)
		err = vms_path_build(k, mnt + k->l.mnt_vfs, dentry, lk.ns_root,
				     f->path, sizeof(f->path));
	free(lk.m);
	if (err)
		return err;
	if ((f->mode & S_IFMT) == S_IFDIR)
		return vms_err(k->ctx, -EISDIR, LAYER, "%s is a directory",
			       path);
	if ((f->mode & S_IFMT) != S_IFREG)
		return vms_err(k->ctx, -EINVAL, LAYER,
			       "%s is not a regular file (mode %06o)", path,
			       f->mode);
	return 0;
}
