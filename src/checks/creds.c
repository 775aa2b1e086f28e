/* SPDX-License-Identifier: MIT */
/*
 * credentials: how root was obtained.
 *
 * A user process never legitimately holds init_cred, the credentials of
 * the kernel threads: the first exec of init already replaces them with
 * a copy (prepare_exec_creds()). A rootkit that grants root by pointing
 * task->cred and ->real_cred at init's credentials is caught by the
 * pointer itself.
 *
 * A rootkit that installs a fresh copy instead (the classic
 * commit_creds(prepare_kernel_cred(0)), or prepare_kernel_cred(&init_task)
 * since v6.2 refused NULL) leaves a process whose real or effective uid
 * is 0 while its parent runs with no root id at all. The kernel grants
 * that only through a set-user-ID root program (su, sudo, pkexec), so a
 * root process with a non-root parent whose own program is not
 * set-user-ID root is a finding.
 *
 * A root process whose program lives in a world-writable directory
 * (/tmp, /var/tmp, /dev/shm) is what a dropper leaves behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define S_ISUID_ 04000
#define S_IWOTH_ 00002

struct creds_run {
	struct vms_chk *c;
	uint64_t init_cred;	/* &init_cred */
	uint64_t root;		/* the mount namespace's root, for paths */
	struct vms_task *procs;	/* every process, sorted by pid */
	size_t nprocs;
};

static int by_pid(const void *a, const void *b)
{
	const struct vms_task *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* @x->procs sorted by pid (collect()). */
static const struct vms_task *find_proc(const struct creds_run *x,
					int32_t pid)
{
	struct vms_task key = { .pid = pid };

	return x->nprocs ? bsearch(&key, x->procs, x->nprocs,
				   sizeof(*x->procs), by_pid)
			 : NULL;
}

unsigned int vms_chk_cred_rules(const struct vms_cred_facts *f)
{
	unsigned int hits = 0;

	if (f->init_cred)
		hits |= VMS_CRED_INIT;
	if (f->uid && f->euid)
		return hits;
	if (f->have_parent && f->puid && f->peuid && f->psuid &&
	    !f->suid_root && !f->init_cred)
		hits |= VMS_CRED_FROM_KERNEL;
	if (f->leader && f->have_prog && f->dir_writable)
		hits |= VMS_CRED_TMP_ROOT;
	return hits;
}

/* The program of @t: path, set-user-ID-root bit, and whether its
 * directory is world-writable. -ENOENT if it has none. */
static int program(struct creds_run *x, const struct vms_task *t,
		   char *path, size_t len, bool *suid_root, bool *dir_writable)
{
	struct vms_kernel *k = x->c->k;
	const struct vms_layout *l = &k->l;
	struct vms_file_ref f;
	uint64_t file, parent, dinode;
	uint8_t b[4];
	uint32_t mode;
	int err;

	if ((err = vms_kernel_read_u64(k, t->mm + l->mm_exe_file, &file)))
		return err;
	if (!file)
		return -ENOENT;
	if ((err = vms_file_ref_read(k, file, &f)) ||
	    (err = vms_kernel_read(k, f.inode + l->inode_mode, b, 2)))
		return err;
	mode = vms_le16(b);
	if ((err = vms_kernel_read(k, f.inode + l->inode_uid, b, 4)))
		return err;
	*suid_root = (mode & S_ISUID_) && vms_le32(b) == 0;
	if ((err = vms_kernel_read_u64(k, f.dentry + l->d_parent, &parent)) ||
	    (err = vms_kernel_read_u64(k, parent + l->d_inode, &dinode)))
		return err;
	*dir_writable = false;
	if (dinode) {
		if ((err = vms_kernel_read(k, dinode + l->inode_mode, b, 2)))
			return err;
		*dir_writable = (vms_le16(b) & S_IWOTH_) != 0;
	}
	if (!x->root && (err = vms_ns_root(k, &x->root)))
		return err;
	return vms_path_d_path(k, f.mnt, f.dentry, x->root, path, len);
}

/* Judge task @t: a process (@leader, whose cred pointer is stored in
 * *@leader_cred) or one of its threads (judged only when its
 * credentials are not its leader's, *@leader_cred). */
static int check_task(struct creds_run *x, const struct vms_task *t,
		      bool leader, uint64_t *leader_cred)
{
	struct vms_chk *c = x->c;
	struct vms_kernel *k = c->k;
	struct vms_cred_facts f = { .leader = leader, .uid = t->uid,
				    .euid = t->euid };
	uint64_t cred, real;
	const struct vms_task *pp = NULL;
	char object[160], evidence[768], path[4096] = "";
	unsigned int hits;
	int err;

	if ((err = vms_kernel_read_u64(k, t->addr + k->l.task_cred, &cred)) ||
	    (err = vms_kernel_read_u64(k, t->addr + k->l.task_real_cred,
				       &real)))
		return err;
	if (leader)
		*leader_cred = cred;
	else if (cred == *leader_cred && real == *leader_cred)
		return 0; /* judged with its leader */
	f.init_cred = cred == x->init_cred || real == x->init_cred;
	if (t->uid == 0 || t->euid == 0) {
		f.have_prog = !program(x, t, path, sizeof(path), &f.suid_root,
				       &f.dir_writable);
		if (!f.have_prog)
			vms_err_clear(k->ctx); /* judged without its program */
		if ((pp = find_proc(x, t->ppid))) {
			f.have_parent = true;
			f.puid = pp->uid;
			f.peuid = pp->euid;
			f.psuid = pp->suid;
		}
	}
	hits = vms_chk_cred_rules(&f);
	snprintf(object, sizeof(object), "%s %d (%s)",
		 leader ? "pid" : "thread", t->pid, t->comm);
	if (hits & VMS_CRED_INIT) {
		snprintf(evidence, sizeof(evidence),
			 "a user process holding init_cred, the kernel "
			 "threads' own credentials (%s %#llx): granted by "
			 "kernel code, not by exec or setuid",
			 cred == x->init_cred ? "cred" : "real_cred",
			 (unsigned long long)x->init_cred);
		if ((err = vms_chk_emit(c, object, evidence, t->addr,
					x->init_cred, "")) < 0)
			return err;
	}
	if ((hits & VMS_CRED_FROM_KERNEL) && pp) {
		snprintf(evidence, sizeof(evidence),
			 "runs with uid %u euid %u, but its parent pid %d (%s) "
			 "has uid %u euid %u suid %u and %.300s%s is not a "
			 "set-user-ID root program: root came from the kernel",
			 t->uid, t->euid, pp->pid, pp->comm, pp->uid, pp->euid,
			 pp->suid, f.have_prog ? path : "its program",
			 f.have_prog ? "" : " (unknown)");
		if ((err = vms_chk_emit(c, object, evidence, t->addr, cred,
					"")) < 0)
			return err;
	}
	if (hits & VMS_CRED_TMP_ROOT) {
		snprintf(evidence, sizeof(evidence),
			 "runs as root (uid %u euid %u) from %.400s, in a "
			 "world-writable directory",
			 t->uid, t->euid, path);
		if ((err = vms_chk_emit(c, object, evidence, t->addr, 0,
					"")) < 0)
			return err;
	}
	return 0;
}

/* Every process from the task list, walked once: parents are looked up
 * in it, and the processes are judged from it. */
static int collect(struct creds_run *x)
{
	struct vms_task_walk w;
	struct vms_task t;
	size_t cap = 0;
	int r, err = 0;

	if ((err = vms_task_walk_init(&w, x->c->k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		/* The task walk is bounded, so is this. */
		if ((err = vms_grow(x->c->k->ctx, &x->procs, &cap, x->nprocs,
				    sizeof(*x->procs), 256, SIZE_MAX)))
			break;
		x->procs[x->nprocs++] = t;
	}
	vms_task_walk_fini(&w);
	if (!err && r >= 0)
		vms_qsort(x->procs, x->nprocs, sizeof(*x->procs), by_pid);
	return err ? err : r < 0 ? r : 0;
}

int vms_check_credentials(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	struct creds_run x = { .c = c };
	int64_t ic;
	int err;

	if ((err = vms_layout_resolve_checks(k->ctx, k->btf, &k->l)) ||
	    (err = vms_layout_resolve_pcache(k->ctx, k->btf, &k->l)))
		return err;
	ic = vms_ksyms_lookup(&k->ks, "init_cred");
	if (ic < 0)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "no init_cred symbol (a kernel without "
			       "CONFIG_KALLSYMS_ALL)");
	x.init_cred = k->ks.addr[ic];
	err = collect(&x);
	for (size_t i = 0; !err && i < x.nprocs; i++) {
		const struct vms_task *t = &x.procs[i];
		struct vms_task_walk tw;
		struct vms_task th;
		uint64_t lcred;
		int r;
		if (t->kthread || !t->mm)
			continue;
		if ((err = check_task(&x, t, true, &lcred)) < 0 ||
		    (err = vms_thread_walk_init(&tw, k, t->signal)))
			break;
		while ((r = vms_task_walk_next(&tw, &th)) == 1)
			if (th.addr != t->addr &&
			    (err = check_task(&x, &th, false, &lcred)) < 0)
				break;
		vms_task_walk_fini(&tw);
		if (!err && r < 0)
			err = r;
	}
	free(x.procs);
	return err < 0 ? err : 0;
}
