/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the walkers of kernel objects, on a synthetic kernel as
 * the unit tests build one (tests/unit/fakekernel.h): 4 MiB of physical
 * memory whose page tables map a 2 MiB data area at DATA_VA, kallsyms and
 * a layout table of this file's choosing (offsets unlike a real
 * kernel's), and the input as the first bytes of the data area. Every
 * input goes through every walker:
 *   - the task list, each process's thread list, and each process's
 *     command line (through its own page tables, also from the input);
 *   - the module list;
 *   - the printk ring buffer;
 *   - the d_path walker, on four (mount, dentry, root) triples the input
 *     names;
 *   - the socket hash tables, with a bucket count from the input.
 * The word at CTRL picks reads that race a running guest (bit 0), where
 * broken objects are skipped rather than fatal: the other half of every
 * walker.
 *
 * Built with -DFUZZ_SEEDS, this file is instead the seed writer
 * (fuzz-seed-kernel DIR): a well-formed kernel, and one whose every list
 * loops, so that the layout below is written down once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/linux/kernel.h"
#include "harness.h"

#define MAX_INPUT (1u << 20)

/* Where things are in the data area (offsets). */
#define TASK(i) (0x0400 * (uint64_t)(i))	/* 0..7; 0 is init_task */
#define CRED 0x2000
#define SIGNAL 0x2100
#define MM 0x2200
#define MODULES 0x2400				/* the list head */
#define MODULE(i) (0x2800 + 0x200 * (uint64_t)(i)) /* 0..3 */
#define TAINTS 0x3000				/* taint_flags[] */
#define PRB 0x3400				/* the prb pointer */
#define RB 0x3500				/* printk_ringbuffer */
#define DESCS 0x3800
#define INFOS 0x3c00
#define TEXT 0x4000				/* 256 bytes */
#define PATHQ 0x4400				/* 4 queries of 24 */
#define OBJ(i) (0x4800 + 0x80 * (uint64_t)(i))	/* dentries, mounts */
#define NAMES 0x5000
#define NBUCKETS 0x5400				/* u64 */
#define TABLE 0x5500				/* 8-byte buckets */
#define SOCK(i) (0x5800 + 0x100 * (uint64_t)(i)) /* 0..6 */
#define NET 0x5f00
#define CTRL 0x5ff8
#define USERPG 0x6000				/* user page 0x400000 */
#define UPT(i) (0x7000 + 0x1000 * (uint64_t)(i)) /* user tables, 0..3 */
#define SEED_SIZE 0xb000

static const struct vms_layout L = {
	.list_next = 0, .list_prev = 8,
	/* Tasks (test_task's offsets). */
	.task_size = 1024, .task_tasks = 200, .task_pid = 16,
	.task_tgid = 20, .task_comm = 600, .task_comm_len = 16,
	.task_real_parent = 400, .task_real_cred = 408, .task_state = 4,
	.task_state_size = 4, .task_exit_state = 24, .task_signal = 416,
	.task_mm = 424, .task_flags = 28, .task_thread_node = 216,
	.task_worker_private = VMS_NO_MEMBER,
	.task_span_lo = 4, .task_span_hi = 616,
	.cred_uid = 4, .cred_gid = 8, .cred_euid = 12, .cred_egid = 16,
	.signal_nr_threads = 32, .signal_thread_head = 40,
	.mm_pgd = 0, .mm_arg_start = 8, .mm_arg_end = 16,
	.mm_env_start = 24, .mm_env_end = 32,
	.kthread_full_name = VMS_NO_MEMBER,
	/* Modules. */
	.have_modules = true, .mod_list = 8, .mod_name = 24,
	.mod_name_len = 56, .mod_state = 0, .mod_refcnt = 80,
	.mod_taints = 88, .mod_source_list = 96, .mod_init = 112,
	.mod_exit = 120, .mod_mem = VMS_NO_MEMBER, .mod_core_base = 128,
	.mod_core_size = 136, .mod_init_size = 140, .use_source_list = 0,
	.use_source = 16, .taint_size = 4, .taint_c_true = 0,
	.taint_module = 2, .mod_state_live = 0, .mod_state_coming = 1,
	.mod_state_going = 2,
	/* Printk (test_printk's offsets). */
	.have_printk = true, .prb_desc_ring = 8, .prb_text_ring = 80,
	.dr_count_bits = 4, .dr_descs = 16, .dr_infos = 32,
	.dr_head_id = 40, .dr_tail_id = 56, .tr_size_bits = 12,
	.tr_data = 24, .desc_size = 40, .desc_state_var = 16,
	.desc_begin = 24, .desc_next = 32, .info_size = 64, .info_seq = 8,
	.info_ts_nsec = 24, .info_text_len = 40, .info_fac_bit = 42 * 8,
	.info_fac_bits = 8, .info_lvl_bit = 43 * 8 + 6, .info_lvl_bits = 3,
	/* Paths (test_path's offsets). */
	.mnt_vfs = 32, .vfs_root = 0, .mnt_parent = 8, .mnt_mountpoint = 16,
	.d_parent = 48, .d_name = 16, .d_len = 8, .d_hash_pprev = 56,
	/* Sockets (test_net's offsets). */
	.have_net = true, .have_socktables = true, .hlist_next = 0,
	.skc_link = 32, .skc_family = 8, .skc_state = 10, .skc_net = 16,
	.net_inum = 4, .sk_type = 72, .sk_protocol = 74, .sk_socket = 80,
	.skc_num = 12, .skc_dport = 14, .skc_rcv_saddr = 40,
	.skc_daddr = 44, .skc_v6_rcv_saddr = 48, .skc_v6_daddr = 64,
	.tcp_state = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
};

#ifndef FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static const char *const sym_names[] = { "init_task", "modules",
					 "taint_flags", "prb" };
static const uint64_t sym_offs[] = { TASK(0), MODULES, TAINTS, PRB };

static void tasks(struct vms_kernel *k)
{
	struct vms_task_walk w, tw;
	struct vms_task t, th;
	uint8_t buf[512];
	size_t got, full;

	if (vms_task_walk_init(&w, k))
		return;
	for (int n = 0; n < 64 && vms_task_walk_next(&w, &t) == 1; n++) {
		vms_task_read_area(k, &t, n & 1, buf, sizeof(buf), &got,
				   &full);
		vms_err_clear(k->ctx);
		if (vms_thread_walk_init(&tw, k, t.signal)) {
			vms_err_clear(k->ctx);
			continue;
		}
		for (int m = 0; m < 64 && vms_task_walk_next(&tw, &th) == 1;
		     m++)
			;
		vms_task_walk_fini(&tw);
		vms_err_clear(k->ctx);
	}
	vms_task_walk_fini(&w);
	vms_err_clear(k->ctx);
}

static void modules(struct vms_kernel *k)
{
	struct vms_mod_walk w;
	struct vms_mod m;
	struct vms_range r[8];

	if (!vms_mod_walk_init(&w, k))
		for (int n = 0; n < 64 && vms_mod_walk_next(&w, &m) == 1; n++)
			vms_mod_regions(k, m.addr, r, 8);
	vms_mod_walk_fini(&w);
	vms_err_clear(k->ctx);
}

static void printk(struct vms_kernel *k)
{
	struct vms_log_walk w;
	struct vms_log_rec r;

	if (!vms_log_walk_init(&w, k))
		while (vms_log_walk_next(&w, &r) == 1)
			;
	vms_log_walk_fini(&w);
	vms_err_clear(k->ctx);
}

static void paths(struct vms_kernel *k, const uint8_t *area)
{
	static char buf[4096];

	for (int q = 0; q < 4; q++) {
		const uint8_t *p = area + PATHQ + 24 * q;
		vms_path_d_path(k, get64(p), get64(p + 8), get64(p + 16), buf,
				q & 1 ? sizeof(buf) : 64);
		vms_err_clear(k->ctx);
	}
}

static void sockets(struct vms_kernel *k, const uint8_t *area)
{
	static struct vms_sock_walk w;
	struct vms_sk sk;

	memset(&w, 0, sizeof(w));
	w.k = k;
	vms_addrset_init(&w.seen);
	w.t[0] = (struct vms_sock_table){ DATA_VA + TABLE,
					  get64(area + NBUCKETS), 8, 0 };
	w.nt = 1;
	while (vms_sock_walk_next(&w, &sk) == 1)
		;
	vms_sock_walk_fini(&w);
	vms_err_clear(k->ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_mem m;
	static uint8_t area[MAX_INPUT];
	static struct vms_kernel k; /* its page cache is large */
	struct vms_ctx ctx;

	if (size > MAX_INPUT)
		return 0;
	fake_begin(&m, "vmsight-fuzz-kernel", data, size, area, SEED_SIZE,
		   &ctx, &k, &L, sym_names, sym_offs,
		   VMS_ARRAY_SIZE(sym_names));
	ctx.racing = size >= CTRL + 8 && (get64(area + CTRL) & 1);
	tasks(&k);
	modules(&k);
	printk(&k);
	paths(&k, area);
	sockets(&k, area);
	fake_end(&k);
	return 0;
}

#else /* FUZZ_SEEDS */

#include "seed.h"

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint8_t *at(uint8_t *area, uint64_t off) { return area + off; }
static uint64_t va(uint64_t off) { return DATA_VA + off; }

/* Tasks 0..3 on the list; 1..3 are one process's threads, with a
 * command line at user address 0x400000. */
static void seed_tasks(uint8_t *a, bool loop)
{
	int n = 3;

	put32(at(a, CRED) + L.cred_uid, 1000);
	put32(at(a, SIGNAL) + L.signal_nr_threads, 3);
	put64(at(a, SIGNAL) + L.signal_thread_head + L.list_next,
	      va(TASK(1)) + L.task_thread_node);
	put64(at(a, SIGNAL) + L.signal_thread_head + L.list_prev,
	      va(TASK(n)) + L.task_thread_node);
	/* mm->pgd, and tables mapping user page 0x400000 to USERPG. */
	put64(at(a, MM) + L.mm_pgd, va(UPT(0)));
	put64(at(a, UPT(0)), (DATA_PA + UPT(1)) | 7);
	put64(at(a, UPT(1)), (DATA_PA + UPT(2)) | 7);
	put64(at(a, UPT(2)) + 2 * 8, (DATA_PA + UPT(3)) | 7);
	put64(at(a, UPT(3)), (DATA_PA + USERPG) | 7);
	memcpy(at(a, USERPG), "/bin/sh\0-c\0HOME=/\0", 19);
	put64(at(a, MM) + L.mm_arg_start, 0x400000);
	put64(at(a, MM) + L.mm_arg_end, 0x400000 + 11);
	put64(at(a, MM) + L.mm_env_start, 0x400000 + 11);
	put64(at(a, MM) + L.mm_env_end, 0x400000 + 19);
	for (int i = 0; i <= n; i++) {
		uint8_t *t = at(a, TASK(i));
		int nx = i == n ? 0 : i + 1, pv = i == 0 ? n : i - 1;
		uint64_t thr = L.task_thread_node, sig_head =
			va(SIGNAL) + L.signal_thread_head;
		if (loop && i == n)
			nx = 2; /* 3 -> 2: a cycle that misses init_task */
		put64(t + L.task_tasks + L.list_next,
		      va(TASK(nx)) + L.task_tasks);
		put64(t + L.task_tasks + L.list_prev,
		      va(TASK(pv)) + L.task_tasks);
		put32(t + L.task_pid, (uint32_t)i * 10);
		put32(t + L.task_tgid, 10);
		put32(t + L.task_state, 1);
		put64(t + L.task_real_parent, va(TASK(0)));
		put64(t + L.task_real_cred, va(CRED));
		put64(t + L.task_signal, va(SIGNAL));
		put64(t + L.task_mm, i ? va(MM) : 0);
		put32(t + L.task_flags, i ? 0 : 0x00200000); /* PF_KTHREAD */
		put64(t + thr + L.list_next,
		      i == n ? sig_head : va(TASK(i + 1)) + thr);
		put64(t + thr + L.list_prev,
		      i == 1 ? sig_head : va(TASK(i - 1)) + thr);
		snprintf((char *)t + L.task_comm, L.task_comm_len, "task-%d",
			 i);
	}
}

/* Modules 0..2 on the list, 1 using 0 (a module_use at MODULE(3));
 * taint letters P and O. */
static void seed_modules(uint8_t *a, bool loop)
{
	int n = 3;
	uint8_t *use = at(a, MODULE(3));

	put64(at(a, MODULES) + L.list_next, va(MODULE(0)) + L.mod_list);
	put64(at(a, MODULES) + L.list_prev, va(MODULE(n - 1)) + L.mod_list);
	for (int i = 0; i < n; i++) {
		uint8_t *m = at(a, MODULE(i));
		uint64_t next = i == n - 1 ? va(MODULES)
					   : va(MODULE(i + 1)) + L.mod_list,
			 src = va(MODULE(i)) + L.mod_source_list;
		if (loop && i == n - 1)
			next = va(MODULE(i)) + L.mod_list; /* itself */
		put32(m + L.mod_state, (uint32_t)i % 3);
		put64(m + L.mod_list + L.list_next, next);
		put64(m + L.mod_list + L.list_prev,
		      i ? va(MODULE(i - 1)) + L.mod_list : va(MODULES));
		snprintf((char *)m + L.mod_name, L.mod_name_len, "mod_%d", i);
		put32(m + L.mod_refcnt, 1 + (uint32_t)i);
		put64(m + L.mod_taints, i == 2 ? 0x1001 : 0);
		put64(m + L.mod_source_list + L.list_next,
		      i == 1 ? va(MODULE(3)) + L.use_source_list : src);
		put64(m + L.mod_source_list + L.list_prev,
		      i == 1 ? va(MODULE(3)) + L.use_source_list : src);
		put64(m + L.mod_core_base,
		      0xffffffffc0000000ull + 0x10000 * (uint64_t)i);
		put32(m + L.mod_core_size, 0x3000);
		put32(m + L.mod_init_size, 0x1000);
	}
	put64(use + L.use_source_list + L.list_next,
	      va(MODULE(1)) + L.mod_source_list);
	put64(use + L.use_source_list + L.list_prev,
	      va(MODULE(1)) + L.mod_source_list);
	put64(use + L.use_source, va(MODULE(0)));
	at(a, TAINTS)[L.taint_c_true] = 'P';
	at(a, TAINTS)[L.taint_module] = 1;
	at(a, TAINTS + 12 * L.taint_size)[L.taint_c_true] = 'O';
	at(a, TAINTS + 12 * L.taint_size)[L.taint_module] = 1;
}

/* Descriptor @id, committed (state 2), with a data block [begin, next)
 * in the 256-byte text ring. */
static void seed_desc(uint8_t *a, uint64_t id, uint64_t begin, uint64_t next,
		      uint64_t seq, const char *text)
{
	uint8_t *d = at(a, DESCS + (id & 15) * L.desc_size);
	uint8_t *i = at(a, INFOS + (id & 15) * L.info_size);
	uint16_t len = (uint16_t)strlen(text);

	put64(d + L.desc_state_var, 2ull << 62 | id);
	put64(d + L.desc_begin, begin);
	put64(d + L.desc_next, next);
	put64(i + L.info_seq, seq);
	put64(i + L.info_ts_nsec, seq * 1000000500ull);
	memcpy(i + L.info_text_len, &len, 2);
	/* Facility 3 (daemon), level 6 (info): the level straddles two
	 * bytes. */
	uint16_t lvl = (uint16_t)(6u << (L.info_lvl_bit % 8));
	i[L.info_fac_bit / 8] = 3;
	i[L.info_lvl_bit / 8] |= (uint8_t)lvl;
	i[L.info_lvl_bit / 8 + 1] |= (uint8_t)(lvl >> 8);
	put64(at(a, TEXT + (begin & 255)), id);
	memcpy(at(a, TEXT + (begin & 255) + 8), text, len);
}

static void seed_printk(uint8_t *a, bool loop)
{
	uint8_t *dr = at(a, RB + L.prb_desc_ring),
		*tr = at(a, RB + L.prb_text_ring);

	put64(at(a, PRB), va(RB));
	put32(dr + L.dr_count_bits, 4);
	put64(dr + L.dr_descs, va(DESCS));
	put64(dr + L.dr_infos, va(INFOS));
	put64(dr + L.dr_head_id, loop ? 99 : 102); /* loop: head < tail */
	put64(dr + L.dr_tail_id, 100);
	put32(tr + L.tr_size_bits, 8);
	put64(tr + L.tr_data, va(TEXT));
	seed_desc(a, 100, 256 + 0, 256 + 24, 1, "first");
	seed_desc(a, 101, 256 + 32, 256 + 64, 2, "second line");
	seed_desc(a, 102, 256 + 64, 256 + 96, 3, "third");
}

static uint64_t name_at;

static void dentry(uint8_t *a, int i, int parent, const char *name)
{
	uint8_t *d = at(a, OBJ(i));
	uint64_t np = NAMES + name_at;

	memcpy(at(a, np), name, strlen(name));
	name_at += strlen(name) + 1;
	put64(d + L.d_parent, va(OBJ(parent)));
	put64(d + L.d_name, va(np));
	put32(d + L.d_len, (uint32_t)strlen(name));
	put64(d + L.d_hash_pprev, va(OBJ(parent)) + 64); /* hashed */
}

static void mount(uint8_t *a, int i, int parent, int mountpoint, int root)
{
	uint8_t *m = at(a, OBJ(i));

	put64(m + L.mnt_parent, va(OBJ(parent)));
	put64(m + L.mnt_mountpoint, va(OBJ(mountpoint)));
	put64(m + L.mnt_vfs + L.vfs_root, va(OBJ(root)));
}

/* test_path's tree: root mount 1 (root dentry 2), "tmp" 3, a mount 4
 * on it (root dentry 5), "inner" 6 (unlinked), "x" 7; queries of
 * /tmp/inner/x, /tmp, the deleted /tmp/inner, and the mount's root. */
static void seed_paths(uint8_t *a, bool loop)
{
	static const int q[4][3] = { { 4, 7, 1 }, { 1, 3, 1 }, { 4, 6, 1 },
				     { 4, 5, 1 } };

	name_at = 0;
	mount(a, 1, 1, 2, 2);
	dentry(a, 2, 2, "/");
	dentry(a, 3, 2, "tmp");
	mount(a, 4, 1, 3, 5);
	dentry(a, 5, 5, "/");
	dentry(a, 6, loop ? 7 : 5, "inner"); /* loop: 6 <-> 7 */
	dentry(a, 7, 6, "x");
	put64(at(a, OBJ(6)) + L.d_hash_pprev, 0);
	for (int i = 0; i < 4; i++) {
		put64(at(a, PATHQ + 24 * i), va(OBJ(q[i][0])) + L.mnt_vfs);
		put64(at(a, PATHQ + 24 * i) + 8, va(OBJ(q[i][1])));
		put64(at(a, PATHQ + 24 * i) + 16, va(OBJ(q[i][2])));
	}
}

/* Socket @i of @family (AF_INET: UDP; AF_INET6: TCP listening), chained
 * to @next. */
static void sock(uint8_t *a, int i, uint16_t family, uint16_t port,
		 uint64_t next)
{
	uint8_t *s = at(a, SOCK(i));

	memcpy(s + L.skc_family, &family, 2);
	s[L.skc_state] = family == 2 ? 7 : 10;
	memcpy(s + L.skc_num, &port, 2);
	put64(s + L.skc_net, va(NET));
	put64(s + L.skc_link, next);
	s[L.sk_type] = family == 2 ? 2 : 1;
	s[L.sk_protocol] = family == 2 ? 17 : 6;
	put32(s + L.skc_rcv_saddr, 0x0100007f);
	s[L.skc_v6_rcv_saddr + 15] = 1;
}

/* Bucket 0: sockets 1 -> 2, ended by a nulls marker; bucket 1 empty;
 * bucket 2: socket 3, ended by NULL. */
static void seed_sockets(uint8_t *a, bool loop)
{
	put64(at(a, NBUCKETS), 3);
	sock(a, 1, 2, 5001, va(SOCK(2)) + L.skc_link);
	sock(a, 2, 2, 5002, loop ? va(SOCK(1)) + L.skc_link : 0x3);
	sock(a, 3, 10, 22, 0);
	put64(at(a, TABLE), va(SOCK(1)) + L.skc_link);
	put64(at(a, TABLE + 8), 0x5);
	put64(at(a, TABLE + 16), va(SOCK(3)) + L.skc_link);
	put32(at(a, NET) + L.net_inum, 4026531840u);
}

static int write_seed(const char *dir, const char *name, bool loop,
		      bool racing)
{
	static uint8_t a[SEED_SIZE];

	memset(a, 0, sizeof(a));
	seed_tasks(a, loop);
	seed_modules(a, loop);
	seed_printk(a, loop);
	seed_paths(a, loop);
	seed_sockets(a, loop);
	put64(at(a, CTRL), racing);
	return seed_write(dir, name, a, sizeof(a));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-seed-kernel DIR\n");
		return 2;
	}
	return write_seed(argv[1], "fake-kernel", false, false) ||
	       write_seed(argv[1], "fake-kernel-loops", true, false) ||
	       write_seed(argv[1], "fake-kernel-loops-racing", true, true);
}

#endif
