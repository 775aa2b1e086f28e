/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the walkers behind the per-process and scheduler views,
 * on the synthetic kernel of fuzz/harness.h, whose 2 MiB data area
 * starts with the input. Every input goes through every walker:
 *   - the mount table of init's namespace, as a list (before v6.8) or,
 *     with CTRL bit 1, as an rbtree (v6.8+), with each mount's path,
 *     filesystem type and options;
 *   - for tasks 1 to 3: the fd table, each open file's path (pipes,
 *     sockets, anonymous inodes and d_path), and the struct pids each
 *     file refers to (pidfds, /proc files, sockets' peers, F_SETOWN
 *     owners; CTRL bit 2: f_owner a pointer, as in v6.12+);
 *   - for the same tasks: the maple tree of memory areas, with each
 *     area's name (file, special mapping, heap, stack);
 *   - each possible CPU's run queue from the per-CPU offsets and the
 *     CPU mask, and every task on it (running, fair, real-time with a
 *     group entity, deadline tree);
 *   - the pid namespace's XArray, as the hidden-task check reads it;
 *   - files in the page cache: three paths looked up through the dentry
 *     cache (children on a list before v6.8, or, with CTRL bit 3, on an
 *     hlist, v6.8+), across mounts, "..", and symbolic links, one of
 *     them a path from the input (at PCPATH); then the first pages of
 *     each file found, through its mapping's XArray and struct pages.
 * CTRL bit 0 picks reads that race a running guest, where broken
 * objects are skipped rather than fatal.
 *
 * Built with -DFUZZ_SEEDS, this file is the seed writer
 * (fuzz-seed-views DIR): a well-formed kernel, and one whose every list
 * and tree loops, so that the layout below is written down once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/checks/checks.h"
#include "../src/linux/kernel.h"
#include "harness.h"

#define MAX_INPUT (1u << 20)

/* Where things are in the data area (offsets). */
#define TASK(i) (0x0400 * (uint64_t)(i))	/* 0..3; 0 is init_task */
#define NSPROXY 0x1000
#define MNTNS 0x1040
#define MNT(i) (0x1100 + 0x100 * (uint64_t)(i))	/* 0..7 */
#define DENT(i) (0x1900 + 0x80 * (uint64_t)(i))	/* 0..11 */
#define SB(i) (0x2000 + 0x20 * (uint64_t)(i))	/* 0..5 */
#define FSTYPE(i) (0x20c0 + 0x10 * (uint64_t)(i)) /* 0..5 */
#define FILES 0x2140
#define FDT 0x2180
#define FDARRAY 0x21c0				/* 16 pointers */
#define FILE(i) (0x2280 + 0x80 * (uint64_t)(i))	/* 0..7 */
#define INODE(i) (0x2680 + 0x80 * (uint64_t)(i)) /* 0..7 */
#define SOCKET 0x2a80
#define SK 0x2ac0
#define PID(i) (0x2b00 + 0x10 * (uint64_t)(i))	/* 0..7: struct pids */
#define MM 0x2c00
#define MNODE(i) (0x2d00 + 0x100 * (uint64_t)(i)) /* 0..3, 256-aligned */
#define VMA(i) (0x3100 + 0x80 * (uint64_t)(i))	/* 0..7 */
#define VMOPS 0x3500
#define SPEC 0x3510
#define SPECIAL_FN 0x3520			/* special_mapping_name */
#define FOPS 0x3540				/* pidfd, pidfs, socket */
#define RQ(i) (0x4000 + 0x800 * (uint64_t)(i))	/* runqueues, 2 CPUs */
#define RTGROUP 0x5000				/* a group entity */
#define RTRQ 0x5100				/* its rt_rq */
#define PERCPU 0x5800				/* __per_cpu_offset[2] */
#define NR_CPUS 0x5840				/* nr_cpu_ids */
#define CPUMASK 0x5848				/* __cpu_possible_mask */
#define PIDNS 0x5a00				/* idr.idr_rt.xa_head */
#define XA(i) (0x5c00 + 0x100 * (uint64_t)(i))	/* 0..3 */
#define NAMES 0x6000				/* 1 KiB of strings */
#define AS 0x6400				/* an address_space */
#define PCXA 0x6500				/* its XArray node */
#define VMEMMAP 0x6600				/* vmemmap_base */
#define PAGES 0x6700				/* struct pages */
#define PCPATH 0x6f00				/* a path to look up */
#define CTRL 0x6ff8
#define SEED_SIZE 0x7000

#define MT_LEAF 1
#define MT_RANGE 2
#define MT_ARANGE 3

/* Offsets unlike the kernel's. */
static const struct vms_layout L = {
	.list_next = 0, .list_prev = 8,
	.task_mm = 0x10,
	/* Mounts and paths. */
	.have_fs = true, .task_nsproxy = 0x18, .nsproxy_mnt_ns = 8,
	.ns_root = 0, .ns_list = 0x10, .ns_mounts = 0x20,
	.mnt_list = 0, .mnt_node = 0x10, .mnt_parent = 0x30,
	.mnt_mountpoint = 0x38, .mnt_vfs = 0x40, .vfs_root = 0, .vfs_sb = 8,
	.vfs_flags = 16, .mnt_devname = 0x58, .mnt_id = 0x60,
	.sb_type = 0, .sb_flags = 8, .sb_dev = 0x10, .fstype_name = 0,
	.d_parent = 0, .d_name = 8, .d_len = 0x10, .d_hash_pprev = 0x18,
	.rb_parent = 0, .rb_right = 8, .rb_left = 0x10,
	/* The page cache: children both ways (CTRL picks one). */
	.have_pcache = true, .d_inode = 0x20, .d_subdirs = 0x28,
	.d_child = 0x38, .d_children = 0x48, .d_sib = 0x50, .hlist_next = 0,
	.inode_mapping = 0x20, .inode_size = 0x28, .inode_link = 0x30,
	.as_xa_head = 0, .xa_shift = 0, .xa_slots = 0x28, .xa_nslots = 16,
	.page_size = 0x40, .page_mapping = 0x18, .folio_index = 0x20,
	/* Files. */
	.have_files = true, .task_files = 0x20, .files_fdt = 8,
	.fdt_max_fds = 0, .fdt_fd = 8, .file_mnt = 0, .file_dentry = 8,
	.file_inode = 0x10, .file_mode = 0x18, .inode_ino = 0,
	.inode_mode = 8, .inode_sb = 0x10,
	.have_pidrefs = true, .file_f_op = 0x20, .file_private = 0x28,
	.file_owner = 0x30, .fown_pid = 8, .inode_private = 0x18,
	.pinode_pid = 0, .pinode_vfs = 0x40, .socket_sk = 8,
	.sk_peer_pid = 0x10,
	/* Memory areas. */
	.have_maps = true, .mm_mt_root = 0, .mm_start_brk = 8, .mm_brk = 0x10,
	.mm_start_stack = 0x18, .mr64_pivot = 8, .mr64_npiv = 15,
	.mr64_slot = 0x80, .mr64_nslot = 16, .ma64_pivot = 8, .ma64_npiv = 9,
	.ma64_slot = 0x50, .ma64_nslot = 10, .mt_dense = 0,
	.mt_leaf = MT_LEAF, .mt_range = MT_RANGE, .mt_arange = MT_ARANGE,
	.vma_start = 0, .vma_end = 8, .vma_flags = 0x10, .vma_pgoff = 0x18,
	.vma_file = 0x20, .vma_mm = 0x28, .vma_ops = 0x30,
	.vma_private = 0x38, .vmops_name = 0, .spec_name = 0,
	/* Run queues (test_hidden's offsets, tasks' moved). */
	.have_sched = true, .rq_curr = 0x10, .rq_idle = 0x18,
	.rq_cfs_tasks = 0x40, .rq_rt = 0x100, .rtrq_queue = 0x20,
	.rt_nqueue = 4, .task_se_group = 0x100, .task_rt = 0x140,
	.rtse_run_list = 8, .rtse_my_q = 0x20, .rq_dl_root = 0x500,
	.rq_size = 0x800, .dlse_rb = 0x10, .task_dl_rb = 0x1a0,
	/* The pid namespace's XArray. */
	.have_checks = true, .pidns_xa_head = 0, .xa_chk_shift = 0,
	.xa_chk_slots = 0x28, .xa_chk_nslots = 16,
};

#ifndef FUZZ_SEEDS

static const char *const sym_names[] = {
	"init_task", "runqueues", "__per_cpu_offset", "nr_cpu_ids",
	"__cpu_possible_mask", "special_mapping_name", "pidfd_fops",
	"pidfs_file_operations", "socket_file_ops", "proc_fs_type",
	"vmemmap_base",
};
static const uint64_t sym_offs[] = {
	TASK(0), RQ(0), PERCPU, NR_CPUS, CPUMASK, SPECIAL_FN, FOPS,
	FOPS + 0x10, FOPS + 0x20, FSTYPE(3), VMEMMAP,
};

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mounts(struct vms_kernel *k)
{
	static struct vms_mnt_walk w; /* large: not on the stack */
	static struct vms_mnt m;

	if (!vms_mnt_walk_init(&w, k))
		for (int n = 0; n < 64 && vms_mnt_walk_next(&w, &m) == 1; n++)
			;
	vms_mnt_walk_fini(&w);
	vms_err_clear(k->ctx);
}

static void files(struct vms_kernel *k, const struct vms_task *t)
{
	static struct vms_fd fd;
	struct vms_pidref_ops ops;
	struct vms_pidref refs[4];
	struct vms_fd_walk w;

	if (vms_pidref_ops_init(k, &ops) || vms_fd_walk_init(&w, k, t)) {
		vms_err_clear(k->ctx);
		return;
	}
	for (int n = 0; n < 64 && vms_fd_walk_next(&w, &fd) == 1; n++) {
		vms_file_pidrefs(k, &ops, fd.file, refs, n & 1 ? 4 : 1);
		vms_err_clear(k->ctx);
	}
	vms_err_clear(k->ctx);
}

static void maps(struct vms_kernel *k, const struct vms_task *t)
{
	struct vms_vma_list l;

	if (!vms_vma_collect(k, t, &l))
		vms_vma_list_free(&l);
	vms_err_clear(k->ctx);
}

static int on_task(void *arg, uint64_t task, enum vms_rq_how how)
{
	(void)task;
	(void)how;
	return ++*(int *)arg > 256; /* a bound of the caller's own */
}

static void runqueues(struct vms_kernel *k)
{
	struct vms_rq rq[4];
	size_t n = 0;
	int seen = 0;

	if (!vms_sched_runqueues(k, rq, VMS_ARRAY_SIZE(rq), &n))
		for (size_t i = 0; i < n; i++) {
			vms_sched_rq_each(k, rq[i].addr, on_task, &seen);
			vms_err_clear(k->ctx);
		}
	vms_err_clear(k->ctx);
}

static int on_pid(void *arg, uint64_t pid)
{
	(void)pid;
	++*(int *)arg;
	return 0;
}

static void pids(struct vms_kernel *k, const uint8_t *area)
{
	int n = 0;

	vms_chk_xa_each(k, get64(area + PIDNS + k->l.pidns_xa_head),
			"the pid table", on_pid, &n);
	vms_err_clear(k->ctx);
}

static void page_cache(struct vms_kernel *k, const uint8_t *area)
{
	static struct vms_pcfile f;
	static uint8_t page[4096];
	char path[64];

	memcpy(path, area + PCPATH, sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	for (int i = 0; i < 3; i++) {
		const char *p = i == 0 ? "/tmp/notes.txt"
			      : i == 1 ? "/proc/../tmp/link" : path;
		if (!vms_pcfile_open(k, p, &f))
			for (uint64_t pg = 0; pg < 4; pg++)
				vms_pcfile_page(k, &f, pg, page);
		vms_err_clear(k->ctx);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_mem m;
	static uint8_t area[MAX_INPUT];
	static struct vms_kernel k; /* its page cache is large */
	struct vms_ctx ctx;
	uint64_t ctrl;

	if (size > MAX_INPUT)
		return 0;
	fake_begin(&m, "vmsight-fuzz-views", data, size, area, SEED_SIZE, &ctx,
		   &k, &L, sym_names, sym_offs, VMS_ARRAY_SIZE(sym_names));
	ctrl = get64(area + CTRL);
	if (ctrl & 2)
		k.l.ns_list = VMS_NO_MEMBER; /* v6.8+: the rbtree */
	k.l.file_owner_ptr = ctrl & 4;
	if (ctrl & 8) /* v6.8+: children on an hlist */
		k.l.d_subdirs = k.l.d_child = VMS_NO_MEMBER;
	else
		k.l.d_children = k.l.d_sib = VMS_NO_MEMBER;
	ctx.racing = ctrl & 1;
	mounts(&k);
	for (int i = 1; i <= 3; i++) {
		struct vms_task t = { .addr = DATA_VA + TASK(i), .pid = i,
				      .mm = get64(area + TASK(i) + L.task_mm) };
		files(&k, &t);
		maps(&k, &t);
	}
	runqueues(&k);
	pids(&k, area);
	page_cache(&k, area);
	fake_end(&k);
	return 0;
}

#else /* FUZZ_SEEDS */

#include "seed.h"

static uint8_t *a; /* the seed being written */

static void put64(uint64_t off, uint64_t v) { memcpy(a + off, &v, 8); }
static void put32(uint64_t off, uint32_t v) { memcpy(a + off, &v, 4); }
static uint64_t va(uint64_t off) { return DATA_VA + off; }

static uint64_t names_used;

/* A string in the names area: its address. */
static uint64_t str(const char *s)
{
	uint64_t off = NAMES + names_used;

	memcpy(a + off, s, strlen(s) + 1);
	names_used += strlen(s) + 1;
	return va(off);
}

/* Make the list at @head hold @nodes (addresses of list_heads). */
static void list(uint64_t head, const uint64_t *nodes, size_t n)
{
	uint64_t prev = head;

	for (size_t i = 0; i < n; i++) {
		put64(prev - DATA_VA + L.list_next, nodes[i]);
		put64(nodes[i] - DATA_VA + L.list_prev, prev);
		prev = nodes[i];
	}
	put64(prev - DATA_VA + L.list_next, head);
	put64(head - DATA_VA + L.list_prev, prev);
}

static void dentry(int i, int parent, const char *name)
{
	put64(DENT(i) + L.d_parent, va(DENT(parent)));
	put64(DENT(i) + L.d_name, str(name));
	put32(DENT(i) + L.d_len, (uint32_t)strlen(name));
	put64(DENT(i) + L.d_hash_pprev, va(DENT(parent)) + 0x30); /* hashed */
}

/* Mount @i of filesystem @fs (a superblock) on dentry @mp of mount
 * @parent, its root dentry @root. */
static void mount(int i, int parent, int mp, int root, int fs,
		  const char *dev, uint32_t flags)
{
	put64(MNT(i) + L.mnt_parent, va(MNT(parent)));
	put64(MNT(i) + L.mnt_mountpoint, va(DENT(mp)));
	put64(MNT(i) + L.mnt_vfs + L.vfs_root, va(DENT(root)));
	put64(MNT(i) + L.mnt_vfs + L.vfs_sb, va(SB(fs)));
	put32(MNT(i) + L.mnt_vfs + L.vfs_flags, flags);
	put64(MNT(i) + L.mnt_devname, str(dev));
	put32(MNT(i) + L.mnt_id, 20 + (uint32_t)i);
}

static void rb(uint64_t node, uint64_t parent, bool red, uint64_t left,
	       uint64_t right)
{
	put64(node - DATA_VA + L.rb_parent, parent | (red ? 0 : 1));
	put64(node - DATA_VA + L.rb_left, left);
	put64(node - DATA_VA + L.rb_right, right);
}

/* Filesystems 0..5 (a superblock and a type each), dentries, and
 * mounts: / (ext4, from /dev/vda1), /proc, /tmp (tmpfs, nosuid,nodev)
 * on both the list and the rbtree; CTRL picks which the walk uses. */
static void seed_mounts(bool loop)
{
	static const char *const fs[] = { "ext4",  "pipefs", "tmpfs",
					  "proc",  "sockfs", "anon_inodefs" };
	uint64_t node[3];

	for (int i = 0; i < 6; i++) {
		put64(SB(i) + L.sb_type, va(FSTYPE(i)));
		put32(SB(i) + L.sb_dev, 0x800001 + (uint32_t)i);
		put64(FSTYPE(i) + L.fstype_name, str(fs[i]));
	}
	put64(SB(0) + L.sb_flags, 0x10); /* sync */
	put64(TASK(0) + L.task_nsproxy, va(NSPROXY));
	put64(NSPROXY + L.nsproxy_mnt_ns, va(MNTNS));
	put64(MNTNS + L.ns_root, va(MNT(0)));
	dentry(0, 0, "/");
	dentry(1, 0, "proc");
	dentry(2, 0, "tmp");
	dentry(3, 3, "/");
	dentry(4, 4, "/");
	dentry(5, 4, "notes.txt");
	dentry(6, 3, "self");
	dentry(7, loop ? 8 : 4, "a"); /* loop: 7 <-> 8 */
	dentry(8, 7, "b");
	dentry(9, 9, "[eventfd]");
	dentry(10, 10, "[pidfd]");
	dentry(11, 4, "link");
	mount(0, 0, 0, 0, 0, "/dev/vda1", 0x20);
	mount(1, 0, 1, 3, 3, "proc", 0x7);
	mount(2, 0, 2, 4, 2, "tmpfs", 0x3);
	for (int i = 0; i < 3; i++)
		node[i] = va(MNT(i)) + L.mnt_list;
	/* Only the rbtree loops (loop seeds walk the list, so that the
	 * page cache's lookups see their own loops). */
	list(va(MNTNS) + L.ns_list, node, 3);
	for (int i = 0; i < 3; i++)
		node[i] = va(MNT(i)) + L.mnt_node;
	put64(MNTNS + L.ns_mounts, node[1]);
	rb(node[1], 0, false, node[0], node[2]);
	rb(node[0], node[1], true, 0, loop ? node[1] : 0);
	rb(node[2], node[1], true, 0, 0);
}

/* Make @dir's children @kids, on both the list (before v6.8) and the
 * hlist (v6.8+) that CTRL picks between. */
static void children(int dir, const int *kids, size_t n)
{
	uint64_t node[12], pprev = va(DENT(dir)) + L.d_children;

	for (size_t i = 0; i < n; i++) {
		uint64_t sib = va(DENT(kids[i])) + L.d_sib;
		node[i] = va(DENT(kids[i])) + L.d_child;
		put64(pprev - DATA_VA, sib);
		put64(sib - DATA_VA + 8, pprev);
		pprev = sib + L.hlist_next;
	}
	list(va(DENT(dir)) + L.d_subdirs, node, n);
}

/* The page cache: directories (inode 7) / -> proc, tmp; /tmp ->
 * notes.txt, a -> b, link (inode 6, to "notes.txt"); notes.txt (inode
 * 0, tmpfs) holds 3 pages: page 0 resident, 1 a hole, 2 swapped out. */
static void seed_page_cache(bool loop)
{
	const uint64_t pfn = (DATA_PA + NAMES) >> 12;

	children(0, (const int[]){ 1, 2 }, 2);
	children(3, (const int[]){ 6 }, 1);
	children(4, (const int[]){ 5, 7, 11 }, 3);
	children(7, (const int[]){ 8 }, 1);
	if (loop)
		children(8, (const int[]){ 7 }, 1);
	for (int i = 1; i <= 11; i++)
		put64(DENT(i) + L.d_inode,
		      va(INODE(i == 5 ? 0 : i == 11 ? 6 : i == 6 ? 4 : 7)));
	put32(INODE(7) + L.inode_mode, 040755);
	put64(INODE(7) + L.inode_sb, va(SB(2)));
	put32(INODE(6) + L.inode_mode, 0120777);
	put64(INODE(6) + L.inode_sb, va(SB(2)));
	put64(INODE(6) + L.inode_size, 9);
	put64(INODE(6) + L.inode_link, str("notes.txt"));
	put64(INODE(0) + L.inode_mapping, va(AS));
	put64(INODE(0) + L.inode_size, 0x3000);
	put64(AS + L.as_xa_head, va(PCXA) | 2);
	a[PCXA + L.xa_shift] = 0;
	put64(PCXA + L.xa_slots, va(PAGES));
	put64(PCXA + L.xa_slots + 8, loop ? va(PCXA) | 2 : 0);
	put64(PCXA + L.xa_slots + 16, 0x4001); /* a swap entry */
	put64(PAGES + L.page_mapping, va(AS));
	put64(PAGES + L.folio_index, 0);
	put64(VMEMMAP, va(PAGES) - pfn * L.page_size);
	strcpy((char *)a + PCPATH,
	       loop ? "/tmp/a/b/a/b/a/b/a/b/a/b" : "/tmp/a/b/../../notes.txt");
}

/* File @i on inode @i of filesystem @fs, at (mount, dentry). */
static void file(int i, int fs, int mnt, int dent, uint32_t mode)
{
	put64(FILE(i) + L.file_mnt, va(MNT(mnt)) + L.mnt_vfs);
	put64(FILE(i) + L.file_dentry, va(DENT(dent)));
	put64(FILE(i) + L.file_inode, va(INODE(i)));
	put32(FILE(i) + L.file_mode, mode);
	put64(INODE(i) + L.inode_ino, 1000 + (uint64_t)i);
	put32(INODE(i) + L.inode_mode, 0100644);
	put64(INODE(i) + L.inode_sb, va(SB(fs)));
}

/* Tasks 1 and 3 share an fd table: 0 /tmp/notes.txt (owned by pid 1
 * for SIGIO), 1 a pipe, 3 a socket whose peer is pid 1, 4 a pidfd of
 * pid 2, 5 /proc/self (pid 3), 6 an eventfd. Task 2 has none. */
static void seed_files(bool loop)
{
	static const int fds[] = { 0, 1, 3, 4, 5, 6 };

	put64(TASK(1) + L.task_files, va(FILES));
	put64(TASK(3) + L.task_files, va(FILES));
	put64(FILES + L.files_fdt, va(FDT));
	put32(FDT + L.fdt_max_fds, loop ? 0xffffffff : 16);
	put64(FDT + L.fdt_fd, va(FDARRAY));
	file(0, 2, 2, 5, 3);
	file(1, 1, 0, 0, 1);
	file(2, 4, 0, 0, 3);
	file(3, 5, 0, 10, 1);
	file(4, 3, 1, 6, 1);
	file(5, 5, 0, 9, 3);
	for (int i = 0; i < 6; i++)
		put64(FDARRAY + 8 * (uint64_t)fds[i], va(FILE(i)));
	/* Pid 1 owns file 0: embedded (f_owner.pid), and through file 1's
	 * f_owner pointer when CTRL says f_owner is one. */
	put64(FILE(0) + L.file_owner + L.fown_pid, va(PID(1)));
	put64(FILE(1) + L.file_owner, va(FILE(0)) + L.file_owner);
	put64(FILE(2) + L.file_f_op, va(FOPS + 0x20));
	put64(FILE(2) + L.file_private, va(SOCKET));
	put64(SOCKET + L.socket_sk, va(SK));
	put64(SK + L.sk_peer_pid, va(PID(1)));
	put64(FILE(3) + L.file_f_op, va(FOPS));
	put64(FILE(3) + L.file_private, va(PID(2)));
	put64(INODE(4) - L.pinode_vfs + L.pinode_pid, va(PID(3)));
}

static void vma(int i, uint64_t start, uint64_t end)
{
	put64(VMA(i) + L.vma_start, start);
	put64(VMA(i) + L.vma_end, end);
	put64(VMA(i) + L.vma_flags, 0x73);
	put64(VMA(i) + L.vma_mm, va(MM));
}

/* Maple node @i of @type over pivots and slots. */
static void mnode(int i, int type, const uint64_t *piv, size_t npiv,
		  const uint64_t *slot, size_t nslot)
{
	size_t po = type == MT_ARANGE ? L.ma64_pivot : L.mr64_pivot,
	       so = type == MT_ARANGE ? L.ma64_slot : L.mr64_slot;

	for (size_t j = 0; j < npiv; j++)
		put64(MNODE(i) + po + 8 * j, piv[j]);
	for (size_t j = 0; j < nslot; j++)
		put64(MNODE(i) + so + 8 * j, slot[j]);
}

static uint64_t enc(int i, int type)
{
	return va(MNODE(i)) | (uint64_t)type << 3 | 4;
}

/* Tasks 1 and 3 share an mm: an arange root over two leaves holding a
 * mapping of /tmp/notes.txt, the heap, the vDSO and the stack. */
static void seed_maps(bool loop)
{
	const uint64_t M = UINT64_MAX;

	put64(TASK(1) + L.task_mm, va(MM));
	put64(TASK(3) + L.task_mm, va(MM));
	put64(MM + L.mm_mt_root, enc(0, MT_ARANGE) | 2);
	put64(MM + L.mm_start_brk, 0x600000);
	put64(MM + L.mm_brk, 0x621000);
	put64(MM + L.mm_start_stack, 0x7fffffffe000);
	mnode(0, MT_ARANGE, (uint64_t[]){ 0x4fffff, M }, 2,
	      (uint64_t[]){ enc(1, MT_LEAF), enc(loop ? 0 : 2, MT_LEAF) }, 2);
	mnode(1, MT_LEAF, (uint64_t[]){ 0x3fffff, 0x401fff, 0x4fffff }, 3,
	      (uint64_t[]){ 0, va(VMA(0)), 0 }, 3);
	mnode(2, MT_LEAF,
	      (uint64_t[]){ 0x5fffff, 0x620fff, 0x7ffff7fc0fff,
			    0x7ffff7fc2fff, 0x7ffffffddfff, 0x7fffffffefff,
			    M },
	      7, (uint64_t[]){ 0, va(VMA(1)), 0, va(VMA(3)), 0, va(VMA(2)), 0 },
	      7);
	vma(0, 0x400000, 0x402000);
	put64(VMA(0) + L.vma_file, va(FILE(0)));
	put64(VMA(0) + L.vma_pgoff, 2);
	vma(1, 0x600000, 0x621000);
	vma(2, 0x7ffffffde000, 0x7ffffffff000);
	vma(3, 0x7ffff7fc1000, 0x7ffff7fc3000);
	put64(VMA(3) + L.vma_ops, va(VMOPS));
	put64(VMA(3) + L.vma_private, va(SPEC));
	put64(VMOPS + L.vmops_name, va(SPECIAL_FN));
	put64(SPEC + L.spec_name, str("[vdso]"));
}

static uint64_t rt_head(uint64_t rt_rq, int prio)
{
	return rt_rq + L.rtrq_queue + 16 * (uint64_t)prio;
}

/* CPU 0 runs task 1, with task 2 queued fair, a real-time group
 * entity whose rt_rq holds task 3, and a deadline tree of task 1 and
 * the rq's own server; CPU 1 idles. */
static void seed_runqueues(bool loop)
{
	uint64_t rq = va(RQ(0)), dl1 = va(TASK(1)) + L.task_dl_rb,
		 server = rq + 0x600 + L.dlse_rb;

	put64(PERCPU, 0);
	put64(PERCPU + 8, 0x800);
	put32(NR_CPUS, 2);
	put64(CPUMASK, 3);
	for (int c = 0; c < 2; c++) {
		uint64_t q = va(RQ(c));
		put64(RQ(c) + L.rq_curr, va(TASK(c ? 0 : 1)));
		put64(RQ(c) + L.rq_idle, va(TASK(0)));
		list(q + L.rq_cfs_tasks, NULL, 0);
		for (int p = 0; p < 4; p++)
			list(rt_head(q + L.rq_rt, p), NULL, 0);
	}
	list(rq + L.rq_cfs_tasks,
	     (uint64_t[]){ va(TASK(2)) + L.task_se_group }, 1);
	list(rt_head(rq + L.rq_rt, 2),
	     (uint64_t[]){ va(RTGROUP) + L.rtse_run_list }, 1);
	put64(RTGROUP + L.rtse_my_q, va(loop ? RQ(0) + L.rq_rt : RTRQ));
	for (int p = 0; p < 4; p++)
		list(rt_head(va(RTRQ), p), NULL, 0);
	list(rt_head(va(RTRQ), 0),
	     (uint64_t[]){ va(TASK(3)) + L.task_rt + L.rtse_run_list }, 1);
	put64(RQ(0) + L.rq_dl_root, dl1);
	put64(dl1 - DATA_VA + L.rb_parent, 1);
	put64(dl1 - DATA_VA + L.rb_left, server);
	put64(server - DATA_VA + L.rb_parent, loop ? server : dl1);
}

/* The pid table: a node of shift 4 holding pids 1 and a node of shift
 * 0 for pids 32 to 47 (two of them present). */
static void seed_pids(bool loop)
{
	put64(PIDNS + L.pidns_xa_head, va(XA(0)) | 2);
	a[XA(0) + L.xa_chk_shift] = 4;
	put64(XA(0) + L.xa_chk_slots + 8 * 0, va(PID(1)));
	put64(XA(0) + L.xa_chk_slots + 8 * 2, va(XA(1)) | 2);
	a[XA(1) + L.xa_chk_shift] = 0;
	put64(XA(1) + L.xa_chk_slots + 8 * 0, va(PID(2)));
	put64(XA(1) + L.xa_chk_slots + 8 * 5, va(PID(3)));
	if (loop) /* a second path to node 1 */
		put64(XA(0) + L.xa_chk_slots + 8 * 3, va(XA(1)) | 2);
}

static int write_seed(const char *dir, const char *name, bool loop,
		      uint64_t ctrl)
{
	static uint8_t buf[SEED_SIZE];

	memset(buf, 0, sizeof(buf));
	a = buf;
	names_used = 0;
	seed_mounts(loop);
	seed_files(loop);
	seed_maps(loop);
	seed_runqueues(loop);
	seed_pids(loop);
	seed_page_cache(loop);
	put64(CTRL, ctrl);
	return seed_write(dir, name, buf, sizeof(buf));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-seed-views DIR\n");
		return 2;
	}
	return write_seed(argv[1], "views", false, 0) ||
	       write_seed(argv[1], "views-rbtree-owner-ptr-hlist", false,
			  14) ||
	       write_seed(argv[1], "views-loops", true, 0) ||
	       write_seed(argv[1], "views-loops-racing-rbtree", true, 3);
}

#endif
