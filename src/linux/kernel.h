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

/* Every structure member the object walkers use, resolved once. */
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
	size_t task_span_lo;		/* first byte of task_struct used */
	size_t task_span_hi;		/* one past the last byte used */
	size_t cred_uid, cred_gid;	/* cred.uid, cred.gid (kuid_t) */
	size_t cred_euid, cred_egid;	/* cred.euid, cred.egid */
	size_t signal_nr_threads;	/* signal_struct.nr_threads */
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
};

/* Find everything; on failure the context says what is missing. */
int vms_kernel_load_impl(struct vms_ctx *ctx, struct vms_source *src,
		    struct vms_kernel **ret);
void vms_kernel_free(struct vms_kernel *k);

int vms_kernel_sym(struct vms_kernel *k, const char *name, uint64_t *ret);
int vms_kernel_read(struct vms_kernel *k, uint64_t va, void *buf, size_t len);
int vms_kernel_read_u64(struct vms_kernel *k, uint64_t va, uint64_t *ret);

/* Value of "KEY=" in VMCOREINFO, copied into @buf; -ENOENT if absent. */
int vms_vmcoreinfo_get(const char *vmcoreinfo, const char *key, char *buf,
		       size_t len);

/* BTF (btf.c). */
int vms_btf_load(struct vms_kernel *k);
void vms_btf_free(struct btf *btf);
uint32_t vms_btf_type_count(const struct btf *btf);
int vms_btf_struct_size(struct btf *btf, const char *type, size_t *ret);
int vms_btf_member(struct btf *btf, const char *type, const char *member,
		   size_t *ret_off, size_t *ret_size);
/* Resolve struct vms_layout; one error names every missing member. */
int vms_layout_resolve(struct vms_ctx *ctx, struct btf *btf,
		       struct vms_layout *l);

/* Tasks (task.c). */
struct vms_task {
	uint64_t addr;		/* task_struct */
	int32_t pid, tgid, ppid;
	uint32_t uid, gid, euid, egid;
	char state;		/* one letter, as /proc shows */
	int32_t nr_threads;
	bool kthread;		/* no mm */
	char comm[64];		/* NUL-terminated */
	size_t comm_len;	/* length before truncation */
};

struct vms_task_walk {
	struct vms_kernel *k;
	uint64_t head;		/* &init_task.tasks */
	uint64_t node;		/* next list node to visit */
	uint64_t prev;		/* node visited before it */
	uint32_t count;		/* tasks visited */
	struct vms_addrset seen; /* nodes visited: cycle detection */
	uint8_t *buf;		/* task_struct span being decoded */
	bool done;		/* the walk is over */
};

int vms_task_walk_init(struct vms_task_walk *w, struct vms_kernel *k);
/* 1 with *@ret filled, 0 at the end, negative on error. */
int vms_task_walk_next(struct vms_task_walk *w, struct vms_task *ret);
void vms_task_walk_fini(struct vms_task_walk *w);

#endif /* VMS_LINUX_KERNEL_H */
