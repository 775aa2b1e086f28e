/* SPDX-License-Identifier: MIT */
/*
 * linux: the kernel model. Finds the kernel in guest memory (kallsyms,
 * the image's physical and virtual placement, its page tables, its BTF),
 * resolves every structure member vmsight uses into one layout table,
 * and walks kernel objects on top of it.
 */
#ifndef VMS_LINUX_KERNEL_H
#define VMS_LINUX_KERNEL_H

#include "../arch/mmu.h"
#include "kallsyms.h"

struct btf;

#define VMS_NO_MEMBER SIZE_MAX /* an optional member the kernel lacks */

/* Every structure member the walkers use, resolved once per feature
 * (core at load, modules and printk on first use). */
struct vms_layout {
	size_t list_next;		/* list_head.next */
	size_t list_prev;		/* list_head.prev */
	size_t task_size;		/* sizeof(struct task_struct) */
	size_t task_tasks;		/* task_struct.tasks */
	size_t task_pid;		/* task_struct.pid */
	size_t task_tgid;		/* task_struct.tgid */
	size_t task_comm;		/* task_struct.comm */
	size_t task_comm_len;		/* sizeof(task_struct.comm) */
	size_t task_real_parent;	/* task_struct.real_parent */
	size_t task_real_cred;		/* task_struct.real_cred */
	size_t task_state;		/* task_struct.__state (5.14+) or .state */
	size_t task_state_size;		/* 4 (__state) or 8 (state) */
	size_t task_exit_state;		/* task_struct.exit_state */
	size_t task_signal;		/* task_struct.signal */
	size_t task_mm;			/* task_struct.mm */
	size_t task_flags;		/* task_struct.flags (PF_*) */
	size_t task_thread_node;	/* task_struct.thread_node (3.14+) */
	size_t task_worker_private;	/* task_struct.worker_private, opt. */
	size_t task_span_lo;		/* first byte of task_struct used */
	size_t task_span_hi;		/* one past the last byte used */
	size_t cred_uid, cred_gid;	/* cred.uid, cred.gid (kuid_t) */
	size_t cred_euid, cred_egid;	/* cred.euid, cred.egid */
	size_t cred_suid, cred_sgid;	/* saved */
	size_t cred_fsuid, cred_fsgid;	/* filesystem */
	size_t cred_cap[5];		/* inheritable, permitted, effective,
					 * bounding, ambient (kernel_cap_t) */
	size_t signal_nr_threads;	/* signal_struct.nr_threads */
	size_t signal_thread_head;	/* signal_struct.thread_head */
	size_t mm_pgd;			/* mm_struct.pgd */
	size_t mm_arg_start, mm_arg_end; /* command line in user memory */
	size_t mm_env_start, mm_env_end; /* environment */
	size_t kthread_full_name;	/* kthread.full_name (6.1+), opt. */

	bool have_modules;		/* the module fields below resolved */
	size_t mod_list;		/* module.list */
	size_t mod_name, mod_name_len;	/* module.name[] */
	size_t mod_state;		/* module.state */
	size_t mod_refcnt;		/* module.refcnt */
	size_t mod_taints;		/* module.taints */
	size_t mod_source_list;		/* module.source_list */
	size_t mod_init, mod_exit;	/* module.init/exit, opt. */
	size_t mod_mem;			/* module.mem[] (6.4+), opt. */
	size_t mod_mem_n, mod_mem_elem;	/* its length and element size */
	size_t modmem_base, modmem_size; /* module_memory.base/size */
	size_t mod_core_base;		/* module.core_layout.base (< 6.4) */
	size_t mod_core_size;		/* module.core_layout.size (< 6.4) */
	size_t mod_init_size;		/* module.init_layout.size (< 6.4) */
	size_t use_source_list;		/* module_use.source_list */
	size_t use_source;		/* module_use.source */
	size_t taint_size;		/* sizeof(struct taint_flag) */
	size_t taint_c_true;		/* taint_flag.c_true */
	size_t taint_module;		/* taint_flag.module */
	int64_t mod_state_live, mod_state_coming, mod_state_going;
	/* enum mod_mem_type's MOD_TEXT, MOD_RODATA, MOD_RO_AFTER_INIT
	 * (with module.mem, 6.4+); -1 where the enum lacks one. */
	int64_t mod_mem_type[3];

	bool have_fs;			/* the mount/path fields resolved */
	size_t task_nsproxy;		/* task_struct.nsproxy */
	size_t nsproxy_mnt_ns;		/* nsproxy.mnt_ns */
	size_t ns_root;			/* mnt_namespace.root */
	size_t ns_list;			/* mnt_namespace.list (< 6.8), opt. */
	size_t ns_mounts;		/* mnt_namespace.mounts rb_root (6.8+) */
	size_t mnt_list;		/* mount.mnt_list */
	size_t mnt_node;		/* mount.mnt_node rb_node (6.8+), opt. */
	size_t mnt_parent;		/* mount.mnt_parent */
	size_t mnt_mountpoint;		/* mount.mnt_mountpoint */
	size_t mnt_vfs;			/* mount.mnt (struct vfsmount) */
	size_t mnt_devname;		/* mount.mnt_devname */
	size_t mnt_id;			/* mount.mnt_id */
	size_t vfs_root, vfs_sb, vfs_flags; /* vfsmount.* */
	size_t sb_type, sb_flags, sb_dev; /* super_block.* */
	size_t fstype_name;		/* file_system_type.name */
	size_t d_parent, d_name, d_len;	/* dentry.d_parent, d_name.{name,len} */
	size_t d_hash_pprev;		/* dentry.d_hash.pprev */
	size_t rb_left, rb_right;	/* rb_node.* (mounts, run queues) */

	bool have_files;		/* the fd-table fields resolved */
	size_t task_files;		/* task_struct.files */
	size_t files_fdt;		/* files_struct.fdt */
	size_t fdt_max_fds, fdt_fd;	/* fdtable.max_fds, fdtable.fd */
	size_t file_mnt, file_dentry;	/* file.f_path.mnt, .dentry */
	size_t file_inode, file_mode;	/* file.f_inode, file.f_mode */
	size_t inode_ino, inode_mode, inode_sb; /* inode.i_ino/i_mode/i_sb */

	bool have_pcache;		/* the page-cache fields resolved */
	size_t d_inode;			/* dentry.d_inode */
	size_t d_subdirs, d_child;	/* children list (< 6.8), opt. */
	size_t d_children, d_sib;	/* children hlist (6.8+), opt. */
	size_t hlist_next;		/* hlist_node.next */
	size_t inode_mapping, inode_size; /* inode.i_mapping, .i_size */
	size_t inode_link;		/* inode.i_link, opt. */
	size_t as_xa_head;		/* address_space.i_pages.xa_head */
	size_t xa_shift, xa_slots, xa_nslots; /* xa_node.* */
	size_t page_size;		/* sizeof(struct page) */
	size_t page_mapping;		/* page.mapping (folio.mapping) */
	size_t folio_index;		/* folio.index or page.index */

	bool have_maps;			/* the VMA fields resolved */
	size_t mm_mt_root;		/* mm_struct.mm_mt.ma_root */
	size_t mm_start_brk, mm_brk, mm_start_stack;
	size_t mr64_pivot, mr64_slot;	/* maple_range_64 (also leaves) */
	size_t mr64_npiv, mr64_nslot;
	size_t ma64_pivot, ma64_slot;	/* maple_arange_64 */
	size_t ma64_npiv, ma64_nslot;
	int64_t mt_dense, mt_leaf, mt_range, mt_arange; /* enum maple_type */
	/* NONE of vsyscall_mode's anonymous enum (the one that also names
	 * XONLY); have_vsyscall_none false without vsyscall emulation. */
	int64_t vsyscall_none;
	bool have_vsyscall_none;
	size_t vma_start, vma_end, vma_flags, vma_pgoff, vma_file, vma_mm;
	size_t vma_ops, vma_private;	/* vm_area_struct.vm_ops, vm_private_data */
	size_t vmops_name;		/* vm_operations_struct.name */
	size_t spec_name;		/* vm_special_mapping.name */

	bool have_net;			/* the socket fields resolved */
	size_t sa_socket, sa_inode;	/* socket_alloc.socket, .vfs_inode */
	size_t socket_sk;		/* socket.sk */
	size_t skc_family, skc_state, skc_num, skc_dport;
	size_t skc_rcv_saddr, skc_daddr, skc_v6_rcv_saddr, skc_v6_daddr;
	size_t sk_type, sk_protocol;	/* sock.sk_type, sock.sk_protocol */
	size_t skc_net, sk_socket;	/* sock_common.skc_net, sock.sk_socket */
	size_t net_inum;		/* net.ns.inum */
	size_t unix_addr;		/* unix_sock.addr */
	size_t unaddr_len, unaddr_name;	/* unix_address.len, .name */
	int64_t tcp_state[12];		/* value of each TCP_* state in
					 * vms_tcp_state_names, -1 if absent */

	bool have_socktables;		/* the hash-table fields resolved */
	size_t skc_link;		/* sock_common.skc_(nulls_)node */
	size_t net_list;		/* net.list */
	size_t hi_ehash, hi_ehash_mask;	/* inet_hashinfo.* */
	size_t hi_lhash2, hi_lhash2_mask;
	size_t ehb_size, ehb_chain;	/* inet_ehash_bucket */
	size_t lhb_size, lhb_head;	/* inet_listen_hashbucket */
	size_t ut_hash, ut_mask;	/* udp_table */
	size_t uhs_size, uhs_head;	/* udp_hslot */
	size_t raw_ht, raw_ht_n;	/* raw_hashinfo.ht[] */
	size_t net_tcp_hi;		/* net.ipv4.tcp_death_row.hashinfo, opt. */
	size_t net_udp_table;		/* net.ipv4.udp_table, opt. */

	bool have_time;			/* the clock fields resolved */
	size_t tk_in_core;		/* timekeeper's offset in tk_core */
	size_t tk_mono_base, tk_offs_real, tk_offs_boot;
	size_t uts_nodename, uts_nodename_len; /* uts_namespace.name.nodename */

	bool have_checks;		/* the cross-view fields resolved */
	size_t pidns_xa_head;		/* pid_namespace.idr.idr_rt.xa_head */
	size_t pid_tasks;		/* pid.tasks[0] (hlist_head) */
	size_t task_pid_links;		/* task_struct.pid_links[0] */
	int64_t pidtype_pid;		/* enum pid_type PIDTYPE_PID */
	size_t xa_chk_shift, xa_chk_slots, xa_chk_nslots; /* xa_node.* */
	size_t mkobj_mod;		/* module_kobject.mod */
	size_t mkobj_kobj;		/* module_kobject.kobj */
	size_t kobj_entry;		/* kobject.entry */
	size_t kset_list;		/* kset.list */
	size_t mod_mkobj;		/* module.mkobj */
	size_t task_cred;		/* task_struct.cred (subjective) */
	size_t mm_exe_file;		/* mm_struct.exe_file */
	size_t inode_uid;		/* inode.i_uid (kuid_t) */
	size_t net_dev_base;		/* net.dev_base_head */
	size_t netdev_list;		/* net_device.dev_list */
	size_t netdev_name;		/* net_device.name[IFNAMSIZ] */
	size_t netdev_name_len;
	size_t netdev_flags;		/* net_device.flags (IFF_*) */
	size_t netdev_promisc;		/* net_device.promiscuity */

	bool have_sched;		/* the run-queue fields resolved */
	size_t rq_curr, rq_idle;	/* rq.curr, rq.idle */
	size_t rq_cfs_tasks;		/* rq.cfs_tasks (CONFIG_SMP), opt. */
	size_t rq_rt;			/* rq.rt (struct rt_rq) */
	size_t rtrq_queue, rt_nqueue;	/* rt_rq.active.queue[MAX_RT_PRIO] */
	size_t task_se_group;		/* task_struct.se.group_node */
	size_t task_rt;			/* task_struct.rt */
	size_t rtse_run_list;		/* sched_rt_entity.run_list */
	size_t rtse_my_q;		/* sched_rt_entity.my_q, opt. */
	size_t rq_dl_root;		/* rq.dl.root.rb_root.rb_node */
	size_t task_dl_rb;		/* task_struct.dl.rb_node */
	size_t dlse_rb;			/* sched_dl_entity.rb_node */
	size_t rq_size;			/* sizeof(struct rq) */
	size_t rb_parent;		/* rb_node.__rb_parent_color */

	bool have_pidrefs;		/* the file-to-pid fields resolved */
	size_t file_f_op, file_private;	/* file.f_op, file.private_data */
	size_t file_owner;		/* file.f_owner */
	bool file_owner_ptr;		/* a pointer (v6.12+), not embedded */
	size_t fown_pid;		/* fown_struct.pid */
	size_t inode_private;		/* inode.i_private */
	size_t pinode_pid, pinode_vfs;	/* proc_inode.pid, .vfs_inode */
	size_t sk_peer_pid;		/* sock.sk_peer_pid */

	bool have_printk;		/* the printk fields below resolved */
	size_t prb_desc_ring, prb_text_ring; /* printk_ringbuffer.* */
	size_t dr_count_bits, dr_descs, dr_infos, dr_head_id, dr_tail_id;
	size_t tr_size_bits, tr_data;	/* prb_data_ring.* */
	size_t desc_size, desc_state_var, desc_begin, desc_next;
	size_t info_size, info_seq, info_ts_nsec, info_text_len;
	/* printk_info.facility and .level (a 3-bit bitfield), in bits;
	 * width 0 when the kernel's BTF lacks them. */
	size_t info_fac_bit, info_fac_bits, info_lvl_bit, info_lvl_bits;
};

struct vms_kernel {
	struct vms_ctx *ctx;		/* errors and log */
	struct vms_source *src;		/* physical memory */
	struct vms_mmu mmu;		/* kernel address space */
	struct vms_ksyms ks;		/* kallsyms */
	const char *kallsyms_source;	/* "memory-scan" or "vmcoreinfo" */
	uint64_t text_va, text_pa;	/* _text, virtual and physical */
	uint64_t pgd;			/* physical address of init_top_pgt */
	const char *pgd_source;		/* how @pgd was found */
	char banner[512];		/* linux_banner, without newline */
	char release[65];		/* "6.1.0-56-amd64" */
	struct btf *btf;		/* libbpf's parse of the kernel BTF */
	uint64_t btf_va;		/* where the BTF is in the guest */
	uint32_t btf_size;		/* its size */
	struct vms_layout l;		/* resolved members */
	char state_letters[16];		/* from task_state_array */
	unsigned int nstates;		/* letters in @state_letters */
	/* struct modules carved from module memory, searched once per
	 * kernel (vms_mod_carved): every check that names a module
	 * needs them, and a dump does not change under them. */
	uint64_t *carved;
	size_t ncarved;
	bool carved_done;
};

/* Find everything; on failure the context says what is missing. With
 * @running, only an image that a vCPU's page tables map will do
 * (-EAGAIN if none: the guest is still booting; locate.c, step 4). */
int vms_kernel_load_impl(struct vms_ctx *ctx, struct vms_source *src,
			 bool running, struct vms_kernel **ret);
void vms_kernel_free(struct vms_kernel *k);

int vms_kernel_sym(struct vms_kernel *k, const char *name, uint64_t *ret);
/* The 8-byte entries of the table at @base (@what names it in errors),
 * in host order: kallsyms has no sizes, so the table runs to the next
 * symbol, less the zero slots of alignment padding at its end. At most
 * @max entries, else -EBADMSG; *@ret is malloc'd. */
int vms_kernel_sym_table(struct vms_kernel *k, uint64_t base,
			 const char *what, size_t max, uint64_t **ret,
			 size_t *ret_n);

/* How far KASLR moved the kernel: _text less where it is linked without
 * it (__START_KERNEL_map + CONFIG_PHYSICAL_START's 16 MiB default). */
static inline int64_t vms_kaslr_slide(const struct vms_kernel *k)
{
	return (int64_t)(k->text_va - 0xffffffff81000000ull);
}

/* Is @va in the kernel half of the address space? Every pointer read
 * from a guest structure is checked with this before it is followed. */
static inline bool vms_is_kernel_addr(const struct vms_kernel *k, uint64_t va)
{
	return va >= vms_mmu_kernel_half(&k->mmu);
}
int vms_kernel_read(struct vms_kernel *k, uint64_t va, void *buf, size_t len);
/* Admit @node as the next node of a walk over the guest structure @what
 * ("the module list"): it must be a kernel address, must not have been
 * visited before (@seen), and no more than @max nodes may be visited
 * (counted in *@count; NULL: no count). 0, or an error naming @node. */
int vms_walk_visit(struct vms_kernel *k, struct vms_addrset *seen,
		   uint32_t *count, uint32_t max, uint64_t node,
		   const char *what);
int vms_kernel_read_u64(struct vms_kernel *k, uint64_t va, uint64_t *ret);
/* Copy the NUL-terminated string at @va into @buf (always terminated),
 * stopping at its NUL, at @len - 1 bytes, or at the first unreadable
 * page; returns the length copied. Never fails: an unreadable string is
 * an empty one, and no error is left recorded. */
size_t vms_kernel_read_str(struct vms_kernel *k, uint64_t va, char *buf,
			   size_t len);

/* Value of "KEY=" in VMCOREINFO, copied into @buf; -ENOENT if absent. */
int vms_vmcoreinfo_get(const char *vmcoreinfo, const char *key, char *buf,
		       size_t len);

/* BTF (btf.c). */
int vms_btf_load(struct vms_kernel *k);
/* libbpf's parse of the BTF blob at @data, quietly; NULL (errno set) if
 * it is not valid BTF. */
struct btf *vms_btf_parse(const void *data, uint32_t size);
void vms_btf_free(struct btf *btf);
uint32_t vms_btf_type_count(const struct btf *btf);
int vms_btf_struct_size(struct btf *btf, const char *type, size_t *ret);
int vms_btf_member(struct btf *btf, const char *type, const char *member,
		   size_t *ret_off, size_t *ret_size);
/* A direct member of @type that may be a bitfield: its offset and width
 * in bits (the type's size for ordinary members; at most 64 bits, within
 * one 64-bit word from its first byte). */
int vms_btf_bitfield(struct btf *btf, const char *type, const char *member,
		     size_t *ret_bit_off, size_t *ret_bits);
int vms_btf_member_array(struct btf *btf, const char *type,
			 const char *member, size_t *ret_off,
			 size_t *ret_nelems, size_t *ret_elem_size);
/* Which parameter (0 first) of function @func is a pointer to struct
 * @pointee; -ENOENT if BTF has no such function or parameter. */
int vms_btf_func_param(struct btf *btf, const char *func,
		       const char *pointee, unsigned int *ret);
int vms_btf_enum_value(struct btf *btf, const char *name, int64_t *ret);
/* The name of value @val in enum @type, or NULL. */
const char *vms_btf_enum_name(struct btf *btf, const char *type, int64_t val);
int vms_btf_enum_value_near(struct btf *btf, const char *sibling,
			    const char *name, int64_t *ret);
/* Resolve the core of struct vms_layout; one error names every missing
 * member. The module and printk parts resolve on first use. */
int vms_layout_resolve(struct vms_ctx *ctx, struct btf *btf,
		       struct vms_layout *l);
int vms_layout_resolve_modules(struct vms_ctx *ctx, struct btf *btf,
			       struct vms_layout *l);
int vms_layout_resolve_printk(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l);
int vms_layout_resolve_fs(struct vms_ctx *ctx, struct btf *btf,
			  struct vms_layout *l);
int vms_layout_resolve_time(struct vms_ctx *ctx, struct btf *btf,
			    struct vms_layout *l);
int vms_layout_resolve_files(struct vms_ctx *ctx, struct btf *btf,
			     struct vms_layout *l);
int vms_layout_resolve_maps(struct vms_ctx *ctx, struct btf *btf,
			    struct vms_layout *l);
int vms_layout_resolve_pcache(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l);
int vms_layout_resolve_net(struct vms_ctx *ctx, struct btf *btf,
			   struct vms_layout *l);
int vms_layout_resolve_checks(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l);
int vms_layout_resolve_sched(struct vms_ctx *ctx, struct btf *btf,
			      struct vms_layout *l);
int vms_layout_resolve_pidrefs(struct vms_ctx *ctx, struct btf *btf,
			       struct vms_layout *l);
int vms_layout_resolve_socktables(struct vms_ctx *ctx, struct btf *btf,
				  struct vms_layout *l);

/* Tasks (task.c). */
struct vms_task {
	uint64_t addr;		/* task_struct */
	int32_t pid, tgid, ppid; /* pid is the thread id */
	uint32_t uid, gid, euid, egid, suid, sgid, fsuid, fsgid;
	uint64_t caps[5];	/* inheritable permitted effective bset ambient */
	char state;		/* one letter, as /proc shows */
	int32_t nr_threads;
	uint32_t flags;		/* PF_* */
	bool kthread;		/* PF_KTHREAD */
	uint64_t mm;		/* mm_struct, 0 for kernel threads */
	uint64_t signal;	/* signal_struct */
	char comm[64];		/* NUL-terminated, as /proc shows it */
	size_t comm_len;	/* length before truncation */
};

struct vms_task_walk {
	struct vms_kernel *k;
	uint64_t head;		/* the list_head the walk starts from */
	size_t link;		/* offset of the list_head in task_struct */
	const char *what;	/* "task list", "thread list" */
	uint64_t node;		/* next list node to visit */
	uint64_t prev;		/* node visited before it */
	uint32_t count;		/* tasks visited */
	struct vms_addrset seen; /* nodes visited: cycle detection */
	uint8_t *buf;		/* task_struct span being decoded */
	bool done;		/* the walk is over */
};

/* Every thread-group leader, from init_task.tasks. */
int vms_task_walk_init(struct vms_task_walk *w, struct vms_kernel *k);
/* Every thread of the process whose signal_struct is @signal. */
int vms_thread_walk_init(struct vms_task_walk *w, struct vms_kernel *k,
			 uint64_t signal);
/* 1 with *@ret filled, 0 at the end, negative on error. */
int vms_task_walk_next(struct vms_task_walk *w, struct vms_task *ret);
/* The one task_struct at @task, decoded as a walk would. */
int vms_task_read(struct vms_kernel *k, uint64_t task, struct vms_task *ret);
void vms_task_walk_fini(struct vms_task_walk *w);

/* Physical address of a process's top-level page table. */
int vms_task_pgd(struct vms_kernel *k, const struct vms_task *t,
		 uint64_t *ret);
/* The same for the mm_struct at @mm (a kernel address). */
int vms_mm_root(struct vms_kernel *k, uint64_t mm, uint64_t *ret);
/* Read user memory under page-table root @root until the first page that
 * is not resident; *@ret_got says how far it got. */
int vms_task_read_user(struct vms_kernel *k, uint64_t root, uint64_t va,
		       uint8_t *buf, size_t len, size_t *ret_got);

/* Bytes [arg_start, arg_end) or [env_start, env_end) of a process, read
 * through its own page tables, at most @len into @buf. *@ret_full is the
 * area's size; *@ret_got how many bytes were readable (pages not resident
 * end the read early). */
int vms_task_read_area(struct vms_kernel *k, const struct vms_task *t,
		       bool environ, uint8_t *buf, size_t len,
		       size_t *ret_got, size_t *ret_full);

/* Modules (module.c). */
struct vms_mod {
	uint64_t addr;		/* struct module */
	char name[64];
	uint64_t size;		/* as /proc/modules counts it */
	int32_t refcount;
	const char *state;	/* "Live", "Loading", "Unloading" */
	uint64_t base;		/* core text base */
	char taints[40];	/* "(OE)" or "" */
	char users[256];	/* "a,b," or "-" */
};

struct vms_mod_walk {
	struct vms_kernel *k;
	uint64_t head, node;	/* &modules, next node */
	uint32_t count;
	struct vms_addrset seen;
	char taint_letters[64];	/* per taint bit: letter, or 0 */
	uint64_t taint_module;	/* bits that concern modules */
	bool done;
};

int vms_mod_walk_init(struct vms_mod_walk *w, struct vms_kernel *k);
int vms_mod_walk_next(struct vms_mod_walk *w, struct vms_mod *ret);
/* Decode the struct module at @mod (from a walk or another view; @w
 * supplies the taint letters). */
int vms_mod_read(struct vms_mod_walk *w, uint64_t mod, struct vms_mod *ret);
/* The memory regions of module @mod (mem[] from v6.4, else core_layout):
 * how many were stored in @ret, or < 0. */
struct vms_range {
	uint64_t start, len;
};
int vms_mod_regions(struct vms_kernel *k, uint64_t mod,
		    struct vms_range *ret, size_t max);
/* Region @type (an enum mod_mem_type value) of module @mod, from
 * module.mem[] (v6.4+); {0, 0} if the module has none of that type.
 * -ENOENT on older kernels, -ERANGE past the array. */
int vms_mod_mem(struct vms_kernel *k, uint64_t mod, size_t type,
		struct vms_range *ret);
void vms_mod_walk_fini(struct vms_mod_walk *w);
/* Call @fn for every struct module found in mapped memory above the
 * kernel image that lies inside its own memory regions (module.c):
 * the module view that no list can hide from. */
int vms_mod_carve(struct vms_kernel *k, int (*fn)(void *arg, uint64_t mod),
		  void *arg);
/* The same, found on first use and kept in @k: the addresses in
 * *@ret, *@n of them. */
int vms_mod_carved(struct vms_kernel *k, const uint64_t **ret, size_t *n);

/* Paths (path.c): the name of (vfsmount, dentry), as d_path() builds it,
 * up to the mount namespace's root. -E2BIG past PATH_MAX. */
int vms_path_build(struct vms_kernel *k, uint64_t vfsmount, uint64_t dentry,
		   uint64_t root_mount, char *buf, size_t len);
/* The same, with the " (deleted)" suffix that d_path() adds to the path
 * of an unlinked dentry: what /proc/PID/maps and /proc/PID/fd show. */
int vms_path_d_path(struct vms_kernel *k, uint64_t vfsmount,
		    uint64_t dentry, uint64_t root_mount, char *buf,
		    size_t len);

/* Mounts (mount.c), in the order of /proc/mounts. */
struct vms_mnt {
	uint64_t addr;		/* struct mount */
	int32_t id;		/* mnt_id */
	char devname[256];
	char path[4096];
	char fstype[64];
	bool readonly;
	char options[128];	/* generic options: "rw,nosuid,relatime" */
};

#define VMS_RB_MAX_DEPTH 96

struct vms_mnt_walk {
	struct vms_kernel *k;
	uint64_t root;		/* the namespace's root mount */
	bool rbtree;		/* 6.8+: walk an rbtree, else a list */
	uint64_t head, node;	/* list walk */
	uint64_t stack[VMS_RB_MAX_DEPTH]; /* rbtree walk: pending nodes */
	int depth;
	uint32_t count;
	struct vms_addrset seen;
	bool done;
};

/* The root mount of init's mount namespace (where paths stop). */
int vms_ns_root(struct vms_kernel *k, uint64_t *ret);
int vms_mnt_walk_init(struct vms_mnt_walk *w, struct vms_kernel *k);
int vms_mnt_walk_next(struct vms_mnt_walk *w, struct vms_mnt *ret);
void vms_mnt_walk_fini(struct vms_mnt_walk *w);

/* Open files (file.c). */
struct vms_fd {
	int32_t fd;
	uint64_t file;		/* struct file */
	uint64_t inode_addr;	/* struct inode */
	bool socket;		/* on sockfs: a struct socket_alloc */
	uint64_t inode;		/* inode number */
	uint32_t imode;		/* inode.i_mode */
	bool readable, writable; /* FMODE_READ, FMODE_WRITE */
	char path[4096];	/* as /proc/PID/fd/N links to it */
};

struct vms_fd_walk {
	struct vms_kernel *k;
	uint64_t root;		/* the namespace's root mount, on first use */
	uint64_t fdarray;	/* fdtable.fd */
	uint32_t max_fds;	/* its length (bounded) */
	uint32_t next;		/* next fd to look at */
	bool bare;		/* set after init: fill only fd and file */
};

/* The name of the filesystem type that @inode belongs to ("tmpfs"). */
int vms_inode_fstype(struct vms_kernel *k, uint64_t inode, char *buf,
		     size_t len);

/* What a struct file refers to: its f_path (mount, dentry) and f_inode.
 * Needs the files layout. */
struct vms_file_ref {
	uint64_t mnt, dentry, inode;
};
int vms_file_ref_read(struct vms_kernel *k, uint64_t file,
		      struct vms_file_ref *ret);

int vms_fd_walk_init(struct vms_fd_walk *w, struct vms_kernel *k,
		     const struct vms_task *t);
int vms_fd_walk_next(struct vms_fd_walk *w, struct vms_fd *ret);

/* The struct pids an open file refers to (file.c). */
enum vms_pidref_kind {
	VMS_PIDREF_PIDFD,	/* a pidfd: the process it was opened on */
	VMS_PIDREF_PROC,	/* a /proc/PID file: that process */
	VMS_PIDREF_OWNER,	/* F_SETOWN: who receives its SIGIO */
	VMS_PIDREF_PEER,	/* a socket's peer (SO_PEERCRED) */
};

struct vms_pidref {
	uint64_t pid;		/* struct pid */
	enum vms_pidref_kind kind;
};

/* The objects that tell those files apart, found once: 0 where kallsyms
 * lacks the symbol (that kind of reference is then not looked for). */
struct vms_pidref_ops {
	uint64_t pidfd_fops;	/* pidfd_fops: anon-inode pidfds (< v6.9) */
	uint64_t pidfs_fops;	/* pidfs_file_operations (v6.9+) */
	uint64_t socket_fops;	/* socket_file_ops */
	uint64_t proc_type;	/* proc_fs_type */
};

int vms_pidref_ops_init(struct vms_kernel *k, struct vms_pidref_ops *ret);
/* The struct pids that @file refers to, at most @max into @ret: how
 * many, or < 0. */
int vms_file_pidrefs(struct vms_kernel *k, const struct vms_pidref_ops *ops,
		     uint64_t file, struct vms_pidref *ret, size_t max);

/* Files as the page cache holds them (pagecache.c). */
enum vms_pg_state {
	VMS_PG_RESIDENT,	/* in memory and in the dump */
	VMS_PG_HOLE,		/* never written on a memory fs: zeros */
	VMS_PG_SWAPPED,		/* a memory fs page that is swapped out */
	VMS_PG_NOT_CACHED,	/* a disk file's page not in the cache */
	VMS_PG_NOT_IN_DUMP,	/* cached, but the dump omits the page */
};

struct vms_pcfile {
	uint64_t inode;		/* struct inode */
	uint64_t mapping;	/* its address_space */
	uint64_t vmemmap;	/* base of the struct page array */
	uint64_t ino;		/* inode number */
	uint64_t size;		/* i_size */
	uint32_t mode;		/* i_mode */
	bool holes_read_zero;	/* tmpfs, ramfs: absent pages are holes */
	char fstype[64];
	char path[4096];	/* where the lookup ended, links followed */
};

/* Look up absolute @path in init's mount namespace, through the dentry
 * cache, following symbolic links; it must name a regular file. */
int vms_pcfile_open(struct vms_kernel *k, const char *path,
		    struct vms_pcfile *ret);
/* Page @index (4096 bytes) of @f into @buf: an enum vms_pg_state, @buf
 * filled for RESIDENT and zeroed for HOLE; negative on error. */
int vms_pcfile_page(struct vms_kernel *k, const struct vms_pcfile *f,
		    uint64_t index, uint8_t *buf);

/* Memory areas (maps.c), as /proc/PID/maps lists them. */
struct vms_vma {
	uint64_t addr;		/* vm_area_struct */
	uint64_t start, end;
	uint64_t flags;		/* VM_* */
	uint64_t offset;	/* bytes into the file; 0 if anonymous */
	uint32_t dev;		/* the file's s_dev (kernel encoding) */
	uint64_t inode;
	char name[4096];	/* path, [heap], [stack], [vdso], ... or "" */
};

struct vms_vma_list {
	struct vms_vma *v;	/* sorted by start */
	size_t n, cap;		/* areas, and room for them */
};

/* Every area of @t's address space, in address order. Areas whose tree
 * slot and contents disagree are skipped with a warning. */
int vms_vma_collect(struct vms_kernel *k, const struct vms_task *t,
		    struct vms_vma_list *ret);
void vms_vma_list_free(struct vms_vma_list *l);

/* Sockets (net.c). */
struct vms_sk {
	uint64_t sock;		/* struct sock */
	uint16_t family;	/* AF_* */
	uint16_t type;		/* SOCK_* */
	uint16_t protocol;	/* IPPROTO_* */
	uint8_t state;		/* skc_state */
	char proto[12];		/* "tcp", "udp6", "unix", "raw", ... */
	char state_name[24];	/* "LISTEN", "ESTABLISHED", ... */
	char local[160];	/* "127.0.0.1:4444", "[::1]:22", a unix path */
	char remote[160];	/* the peer, or "" */
	uint64_t inode;		/* its socket inode's number, 0 if none */
	uint32_t netns;		/* inode number of its network namespace */
};

/* The TCP states vms_layout.tcp_state holds values for, in order. */
extern const char *const vms_tcp_state_names[12];

/* A TCP socket in LISTEN, or a UDP socket with no peer. */
bool vms_sock_is_listener(const struct vms_sk *s);
/* Decode the socket behind a sockfs inode. */
int vms_sock_read(struct vms_kernel *k, uint64_t inode, struct vms_sk *ret);
/* Decode a struct sock (or a TIME_WAIT or request minisock). */
int vms_sock_decode(struct vms_kernel *k, uint64_t sk, struct vms_sk *ret);

/* Every socket in the kernel's protocol hash tables (TCP established,
 * TIME_WAIT, request and listening; UDP; raw), in every network
 * namespace, whether or not a process holds it. */
struct vms_sock_table {
	uint64_t base;		/* bucket array */
	uint64_t n;		/* buckets */
	size_t stride, head;	/* bucket size, chain head in a bucket */
};

struct vms_sock_walk {
	struct vms_kernel *k;
	struct vms_sock_table t[64]; /* distinct tables, de-duplicated */
	size_t nt, ti;		/* tables, the one being walked */
	uint64_t bucket;	/* next bucket in it */
	uint64_t node;		/* next chain node, 0 or odd: chain end */
	uint32_t chain_len;	/* nodes in the current chain */
	uint32_t count;		/* sockets returned */
	struct vms_addrset seen; /* every node: cycles and duplicates */
	uint8_t heads[4096];	/* bucket array read ahead */
	uint64_t heads_first, heads_n; /* buckets held in @heads */
};

/* Call @fn for every network namespace on net_namespace_list (@net_list:
 * the offset of struct net's list member), bounded and cycle-checked; a
 * negative return from @fn ends the walk with it. */
int vms_netns_each(struct vms_kernel *k, size_t net_list,
		   int (*fn)(void *arg, uint64_t net), void *arg);
/* Call @fn for every packet socket (AF_PACKET, a struct sock) of every
 * network namespace, from net.packet.sklist, bounded and cycle-checked;
 * -ENOENT if the kernel has no packet sockets. */
int vms_packet_socks_each(struct vms_kernel *k,
			  int (*fn)(void *arg, uint64_t sk), void *arg);
int vms_sock_walk_init(struct vms_sock_walk *w, struct vms_kernel *k);
int vms_sock_walk_next(struct vms_sock_walk *w, struct vms_sk *ret);
void vms_sock_walk_fini(struct vms_sock_walk *w);

/* Run queues (sched.c). */
enum vms_rq_how {
	VMS_RQ_RUNNING,		/* rq.curr */
	VMS_RQ_FAIR,		/* queued on rq.cfs_tasks */
	VMS_RQ_RT,		/* queued on a real-time priority list */
	VMS_RQ_DL,		/* queued in the deadline tree */
};

#define VMS_MAX_RQS 8192u	/* CPUs: CONFIG_NR_CPUS's ceiling on x86-64 */

struct vms_rq {
	uint64_t addr;		/* struct rq */
	uint32_t cpu;
};

/* The run queue of each possible CPU, in CPU order, without duplicates:
 * *@ret_n of them in @ret (at most @max, else -ERANGE). */
int vms_sched_runqueues(struct vms_kernel *k, struct vms_rq *ret, size_t max,
			size_t *ret_n);
/* Call @fn for the task running on run queue @rq (unless it is the idle
 * task) and for every task queued on it; a non-zero return from @fn ends
 * the walk with that value. A task may be seen twice (running and
 * queued). */
int vms_sched_rq_each(struct vms_kernel *k, uint64_t rq,
		      int (*fn)(void *arg, uint64_t task,
				enum vms_rq_how how),
		      void *arg);

/* System facts (sysinfo.c). */
struct vms_sys {
	char hostname[65];
	char cmdline[4096];
	int64_t boot_time;	/* Unix seconds, as /proc/stat btime */
	uint64_t uptime_ns;	/* boot-based clock at the last tick */
};

int vms_sys_read(struct vms_kernel *k, struct vms_sys *ret);

/* The kernel log (printk.c): the v5.10+ lockless ring buffer. */
struct vms_log_rec {
	uint64_t seq;
	uint64_t ts_nsec;
	const char *text;	/* not NUL-terminated; valid until next */
	size_t text_len;
	int level, facility;	/* syslog values, -1 if unknown */
};

struct vms_log_walk {
	struct vms_kernel *k;
	uint64_t count;		/* descriptors in the ring */
	uint64_t id, head_id;	/* next id to visit, last id */
	uint64_t steps;		/* ids visited: bounded by @count */
	uint8_t *descs, *infos;	/* copies of the two arrays */
	uint8_t *data;		/* copy of the text data ring */
	uint64_t data_size;	/* its size */
	bool done;
};

int vms_log_walk_init(struct vms_log_walk *w, struct vms_kernel *k);
int vms_log_walk_next(struct vms_log_walk *w, struct vms_log_rec *ret);
void vms_log_walk_fini(struct vms_log_walk *w);

#endif /* VMS_LINUX_KERNEL_H */
