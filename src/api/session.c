/* SPDX-License-Identifier: MIT */
/*
 * The public API: sessions, and thin wrappers that route each call to its
 * layer. This is the only file that sees every layer; it holds no logic
 * of its own beyond argument checks and lazy kernel loading.
 */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../checks/checks.h"
#include "../events/events.h"
#include "../arch/mmu.h"
#include "../linux/kernel.h"

#define VMS_VERSION_STR "0.1.0"

struct vms_session {
	struct vms_ctx ctx;		/* errors, log, bounds */
	struct vms_source *src;		/* the dump, once opened */
	char *path;			/* its path, owned */
	struct vms_kernel *kernel;	/* loaded on first use */
	int kernel_err;			/* result of the one load attempt */
	bool kernel_tried;		/* the load was attempted */
	struct vms_sys sys;		/* system facts, once read */
	bool sys_read;			/* @sys is filled */
	struct vms_phys_range *ranges;	/* merged segments, for the API */
	size_t nranges;			/* entries in @ranges */
	const struct vms_policy *policy; /* borrowed, may be NULL */
	const struct vms_yara *yara;	/* borrowed, may be NULL */
	bool paused;			/* vmsight stopped the guest */
	/* A pause is under way (vms_session_resume_async): the guest may
	 * be stopped before its reply sets @paused. */
	volatile sig_atomic_t pausing;
	struct timespec paused_at;	/* when */
};

struct vms_proc {
	struct vms_task t;
};

struct vms_proc_iter {
	struct vms_session *s;
	struct vms_task_walk walk;
	struct vms_proc cur;
};

struct vms_module {
	struct vms_mod m;
};

struct vms_module_iter {
	struct vms_mod_walk walk;
	struct vms_module cur;
};

struct vms_log_iter {
	struct vms_log_walk walk;
};

struct vms_mount {
	struct vms_mnt m;
};

struct vms_file {
	struct vms_fd f;
	struct vms_sk sk;	/* filled by vms_file_socket() */
};

struct vms_maps {
	struct vms_vma_list l;
};

struct vms_file_iter {
	struct vms_fd_walk walk;
	struct vms_file cur;
};

struct vms_socket_iter {
	struct vms_sock_walk walk;
	struct vms_sk cur;
};

struct vms_cfile {
	struct vms_session *s;
	struct vms_pcfile f;
};

struct vms_mount_iter {
	struct vms_mnt_walk walk;
	struct vms_mount cur;
};

VMS_API const char *vms_version(void)
{
	return VMS_VERSION_STR;
}

/*
 * Copy a caller's options struct (@sz bytes, its first member) into @dst
 * (@dst_sz bytes, zeroed by the caller): fields the caller does not know
 * of keep their defaults, and unknown, non-zero trailing fields of a
 * newer caller are rejected. @opts may be NULL.
 */
static int copy_opts(const void *opts, void *dst, size_t dst_sz)
{
	size_t sz;

	if (!opts)
		return 0;
	memcpy(&sz, opts, sizeof(sz));
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = dst_sz; i < sz; i++)
		if (((const uint8_t *)opts)[i])
			return -EINVAL;
	memcpy(dst, opts, VMS_MIN(sz, dst_sz));
	return 0;
}

VMS_API int vms_session_create(const struct vms_session_opts *opts,
			       struct vms_session **ret)
{
	struct vms_session_opts o = { 0 };
	struct vms_session *s;

	if (!ret || copy_opts(opts, &o, sizeof(o)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	vms_ctx_init(&s->ctx);
	s->ctx.log = o.log;
	s->ctx.log_arg = o.log_arg;
	s->ctx.progress = o.progress;
	s->ctx.progress_arg = o.progress_arg;
	if (o.max_tasks)
		s->ctx.max_tasks = o.max_tasks;
	if (o.max_memory)
		s->ctx.max_memory = o.max_memory;
	if (o.max_seconds)
		s->ctx.max_seconds = o.max_seconds == UINT32_MAX
					     ? 0 : o.max_seconds;
	*ret = s;
	return 0;
}

VMS_API void vms_session_destroy(struct vms_session *s)
{
	if (!s)
		return;
	/* Never leave a guest stopped behind. */
	vms_session_resume(s, NULL);
	vms_kernel_free(s->kernel);
	vms_source_close(s->src);
	free(s->ranges);
	free(s->path);
	free(s);
}

/* The physical ranges of the new source, merged, for the API. */
static int source_ranges(struct vms_session *s)
{
	s->ranges = calloc(s->src->nsegs, sizeof(*s->ranges));
	if (!s->ranges)
		return -ENOMEM;
	for (size_t i = 0; i < s->src->nsegs; i++) {
		const struct vms_seg *g = &s->src->segs[i];
		struct vms_phys_range *r = &s->ranges[s->nranges - !!s->nranges];
		if (s->nranges && r->start + r->size == g->start)
			r->size += g->size;
		else
			s->ranges[s->nranges++] = (struct vms_phys_range){
				.start = g->start, .size = g->size };
	}
	return 0;
}

static int open_source(struct vms_session *s, const char *source, bool live)
{
	int err;

	if (!s || !source)
		return -EINVAL;
	if (s->src)
		return vms_err(&s->ctx, -EINVAL, "api",
			       "the session already has a source");
	s->path = strdup(source);
	if (!s->path)
		return -ENOMEM;
	err = live ? vms_qemu_open(&s->ctx, s->path, &s->src)
		   : vms_source_open(&s->ctx, s->path, &s->src);
	/* A running guest changes under the reads until a pause. */
	s->ctx.racing = live && !err;
	return err ? err : source_ranges(s);
}

VMS_API int vms_session_open_dump(struct vms_session *s, const char *path)
{
	return open_source(s, path, false);
}

VMS_API int vms_session_open_qemu(struct vms_session *s, const char *qmp)
{
	return open_source(s, qmp, true);
}

VMS_API int vms_session_open(struct vms_session *s, const char *source)
{
	if (source && !strncmp(source, "qemu:", 5))
		return vms_session_open_qemu(s, source + 5);
	return vms_session_open_dump(s, source);
}

VMS_API int vms_session_pause(struct vms_session *s)
{
	bool was_running = false;
	int err;

	if (!s || !s->src)
		return -EINVAL;
	if (!s->src->ops || !s->src->ops->pause)
		return vms_err(&s->ctx, -ENOTSUP, "api",
			       "%s: a dump cannot be paused; --pause is for "
			       "live sources", s->path);
	if (s->paused)
		return 0;
	/* A signal that ends vmsight between QEMU stopping the guest and
	 * its reply arriving must still resume it: resume_async is armed
	 * from before the stop is sent (the source knows whether it sent
	 * one) until @paused says it all. */
	s->pausing = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	err = s->src->ops->pause(s->src, &was_running);
	s->paused = !err && was_running;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	s->pausing = 0;
	if (err)
		return err;
	s->ctx.racing = false; /* stopped, by vmsight or by its owner */
	clock_gettime(CLOCK_MONOTONIC, &s->paused_at);
	return 0;
}

VMS_API int vms_session_resume(struct vms_session *s, uint64_t *paused_ns)
{
	struct timespec now;
	int err;

	if (paused_ns)
		*paused_ns = 0;
	if (!s || !s->paused)
		return 0;
	err = s->src->ops->resume(s->src);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (paused_ns)
		*paused_ns = (uint64_t)(now.tv_sec - s->paused_at.tv_sec) *
				     1000000000u +
			     (uint64_t)(now.tv_nsec - s->paused_at.tv_nsec);
	if (!err) {
		s->paused = false;
		s->ctx.racing = true;
	}
	return err;
}

VMS_API void vms_session_resume_async(struct vms_session *s)
{
	if (s && (s->paused || s->pausing) && s->src->ops->resume_async)
		s->src->ops->resume_async(s->src);
}

VMS_API uint32_t vms_session_torn(const struct vms_session *s)
{
	return s ? s->ctx.torn : 0;
}

VMS_API const char *vms_errmsg(const struct vms_session *s)
{
	if (!s)
		return "no session";
	return s->ctx.err.code ? s->ctx.err.msg : "no error recorded";
}

VMS_API void vms_errclear(struct vms_session *s)
{
	if (s)
		vms_err_clear(&s->ctx);
}

/* Every call that reads the guest starts here: it is one operation, with
 * its own time cap. */
static int need_source(struct vms_session *s)
{
	if (!s)
		return -EINVAL;
	vms_op_begin(&s->ctx);
	if (!s->src)
		return vms_err(&s->ctx, -EINVAL, "api",
			       "the session has no source");
	return 0;
}

VMS_API const char *vms_source_format(const struct vms_session *s)
{
	return s && s->src ? s->src->format : "none";
}

VMS_API size_t vms_phys_range_count(const struct vms_session *s)
{
	return s ? s->nranges : 0;
}

VMS_API int vms_phys_range_get(const struct vms_session *s, size_t i,
			       struct vms_phys_range *ret)
{
	if (!s || !ret || i >= s->nranges)
		return -EINVAL;
	*ret = s->ranges[i];
	return 0;
}

VMS_API int vms_read_phys(struct vms_session *s, uint64_t paddr, void *buf,
			  size_t len)
{
	int err = need_source(s);
	return err ? err : vms_source_read(s->src, paddr, buf, len);
}

VMS_API int vms_kernel_load(struct vms_session *s)
{
	int err = need_source(s);

	if (err)
		return err;
	if (!s->kernel_tried) {
		s->kernel_tried = true;
		s->kernel_err = vms_kernel_load_impl(&s->ctx, s->src, false,
						     &s->kernel);
	} else if (s->kernel_err && !s->ctx.err.code) {
		vms_err(&s->ctx, s->kernel_err, "linux",
			"the kernel could not be loaded (see the first error)");
	}
	return s->kernel_err;
}

VMS_API int vms_kernel_info_get(struct vms_session *s,
				struct vms_kernel_info *ret)
{
	struct vms_kernel_info i = { 0 };
	struct vms_kernel *k;
	int err;

	if (!ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	err = vms_kernel_load(s);
	if (err)
		return err;
	k = s->kernel;
	i.sz = VMS_MIN(ret->sz, sizeof(i));
	i.banner = k->banner;
	i.release = k->release;
	i.text_vaddr = k->text_va;
	i.text_paddr = k->text_pa;
	i.kaslr_slide = vms_kaslr_slide(k);
	i.pgd_paddr = k->pgd;
	i.paging_levels = k->mmu.mode->levels;
	i.pgd_source = k->pgd_source;
	i.kallsyms_paddr = k->ks.token_table;
	i.nr_symbols = k->ks.n;
	i.kallsyms_source = k->kallsyms_source;
	i.btf_vaddr = k->btf_va;
	i.btf_size = k->btf_size;
	i.nr_types = vms_btf_type_count(k->btf);
	i.has_vmcoreinfo = s->src->vmcoreinfo != NULL;
	memcpy(ret, &i, i.sz);
	return 0;
}

VMS_API int vms_translate(struct vms_session *s, uint64_t root,
			  uint64_t vaddr, uint64_t *ret, uint64_t *page_size)
{
	/* The paging mode comes from the kernel, whatever the root. */
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!ret)
		return -EINVAL;
	if (root == VMS_KERNEL_AS)
		root = s->kernel->pgd;
	return vms_mmu_translate(&s->kernel->mmu, root, vaddr, ret, page_size,
				 false);
}

VMS_API int vms_read_virt(struct vms_session *s, uint64_t root,
			  uint64_t vaddr, void *buf, size_t len)
{
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (root == VMS_KERNEL_AS)
		root = s->kernel->pgd;
	return vms_mmu_read(&s->kernel->mmu, root, vaddr, buf, len);
}

VMS_API int vms_symbol_lookup(struct vms_session *s, const char *name,
			      uint64_t *ret)
{
	int err;

	if (!name || !ret)
		return -EINVAL;
	err = vms_kernel_load(s);
	return err ? err : vms_kernel_sym(s->kernel, name, ret);
}

VMS_API int vms_symbol_find(struct vms_session *s, uint64_t addr,
			    struct vms_symbol *ret, uint64_t *offset)
{
	int err = vms_kernel_load(s);
	struct vms_ksyms *ks;
	int64_t i;

	if (err)
		return err;
	if (!ret || !offset)
		return -EINVAL;
	ks = &s->kernel->ks;
	if (!vms_ksyms_in_image(ks, addr))
		return -ENOENT;
	if ((err = vms_ksyms_sort_by_addr(ks)))
		return err;
	if ((i = vms_ksyms_floor(ks, addr)) < 0)
		return -ENOENT;
	ret->name = vms_ksyms_name(ks, i);
	ret->addr = ks->addr[i];
	ret->type = ks->type[i];
	*offset = addr - ks->addr[i];
	return 0;
}

VMS_API int vms_snapshot_write(struct vms_session *s, int fd,
			       uint64_t *ret_size)
{
	if (!s || !s->src || fd < 0)
		return -EINVAL;
	return vms_source_write_elf(s->src, fd, ret_size);
}

VMS_API void vms_session_refresh(struct vms_session *s)
{
	if (!s)
		return;
	s->sys_read = false;
	if (!s->kernel)
		return;
	vms_mmu_flush(&s->kernel->mmu);
	free(s->kernel->carved);
	s->kernel->carved = NULL;
	s->kernel->ncarved = 0;
	s->kernel->carved_done = false;
}

/*
 * The watch's way to follow a reboot: the kernel that the guest's vCPUs
 * run now, found anew, replaces the session's (an earlier boot's image,
 * still in RAM, is not taken). The old one is kept until then.
 */
static int session_reload(void *arg, struct vms_kernel **ret)
{
	struct vms_session *s = arg;
	struct vms_kernel *k = NULL;
	int err;

	if (s->src->ops && s->src->ops->read_cpus &&
	    (err = s->src->ops->read_cpus(s->src)))
		return err;
	if ((err = vms_kernel_load_impl(&s->ctx, s->src, true, &k)))
		return err;
	vms_kernel_free(s->kernel);
	s->kernel = k;
	s->kernel_tried = true;
	s->kernel_err = 0;
	s->sys_read = false;
	*ret = k;
	return 0;
}

VMS_API int vms_watch_start(struct vms_session *s,
			    const struct vms_watch_opts *opts,
			    struct vms_watch **ret)
{
	struct vms_watch_opts o = { 0 };
	int err;

	if (!s || !s->src || !ret)
		return -EINVAL;
	*ret = NULL;
	if (copy_opts(opts, &o, sizeof(o)))
		return -EINVAL;
	if ((err = vms_kernel_load(s)))
		return err;
	return vms_events_start(&s->ctx, s->src, s->kernel, session_reload, s,
				&o, ret);
}

VMS_API int vms_watch_next(struct vms_watch *w, int timeout_ms,
			   struct vms_event *ret)
{
	struct vms_event e = { .sz = sizeof(e) };
	size_t sz;
	int r;

	if (!w || !ret || ret->sz < offsetof(struct vms_event, release))
		return -EINVAL;
	sz = VMS_MIN(ret->sz, sizeof(e));
	if ((r = vms_events_next(w, timeout_ms, &e)) == 1) {
		e.sz = sz;
		memcpy(ret, &e, sz);
	}
	return r;
}

VMS_API int vms_watch_stop(struct vms_watch *w)
{
	return vms_events_stop(w);
}

VMS_API int vms_vcpus_read(struct vms_session *s)
{
	if (!s || !s->src)
		return -EINVAL;
	return vms_source_read_cpus(s->src);
}

VMS_API size_t vms_vcpu_count(const struct vms_session *s)
{
	return s && s->src ? s->src->ncpus : 0;
}

VMS_API int vms_vcpu_get(const struct vms_session *s, size_t i,
			 struct vms_vcpu *ret)
{
	struct vms_vcpu v = { .sz = sizeof(v) };
	const struct vms_cpu *c;

	if (!s || !s->src || !ret || i >= s->src->ncpus ||
	    ret->sz < offsetof(struct vms_vcpu, has_efer) + 1)
		return -EINVAL;
	c = &s->src->cpus[i];
	v.cpu = c->index;
	v.rax = c->gpr[VMS_RAX]; v.rbx = c->gpr[VMS_RBX];
	v.rcx = c->gpr[VMS_RCX]; v.rdx = c->gpr[VMS_RDX];
	v.rsi = c->gpr[VMS_RSI]; v.rdi = c->gpr[VMS_RDI];
	v.rsp = c->gpr[VMS_RSP]; v.rbp = c->gpr[VMS_RBP];
	v.r8 = c->gpr[VMS_R8];   v.r9 = c->gpr[VMS_R9];
	v.r10 = c->gpr[VMS_R10]; v.r11 = c->gpr[VMS_R11];
	v.r12 = c->gpr[VMS_R12]; v.r13 = c->gpr[VMS_R13];
	v.r14 = c->gpr[VMS_R14]; v.r15 = c->gpr[VMS_R15];
	v.rip = c->rip;
	v.rflags = c->rflags;
	v.cs = c->cs;
	v.ss = c->ss;
	v.fs_base = c->fs_base;
	v.gs_base = c->gs_base;
	v.kernel_gs_base = c->kernel_gs_base;
	v.cr0 = c->cr0;
	v.cr2 = c->cr2;
	v.cr3 = c->cr3;
	v.cr4 = c->cr4;
	v.efer = c->efer;
	v.has_kernel_gs_base = c->has_kernel_gs_base;
	v.has_efer = c->has_efer;
	v.sz = VMS_MIN(ret->sz, sizeof(v));
	memcpy(ret, &v, v.sz);
	return 0;
}

VMS_API size_t vms_symbol_count(struct vms_session *s)
{
	return vms_kernel_load(s) ? 0 : s->kernel->ks.n;
}

VMS_API int vms_symbol_get(struct vms_session *s, size_t i,
			   struct vms_symbol *ret)
{
	int err = vms_kernel_load(s);
	const struct vms_ksyms *ks;

	if (err)
		return err;
	ks = &s->kernel->ks;
	if (!ret || i >= ks->n)
		return -EINVAL;
	ret->name = vms_ksyms_name(ks, i);
	ret->addr = ks->addr[i];
	ret->type = ks->type[i];
	return 0;
}

VMS_API int vms_type_size(struct vms_session *s, const char *type_name,
			  size_t *ret)
{
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!type_name || !ret)
		return -EINVAL;
	err = vms_btf_struct_size(s->kernel->btf, type_name, ret);
	if (err)
		return vms_err(&s->ctx, err, "linux",
			       "struct %s is not in the kernel's BTF",
			       type_name);
	return 0;
}

VMS_API int vms_type_member(struct vms_session *s, const char *type_name,
			    const char *member, size_t *ret_offset,
			    size_t *ret_size)
{
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!type_name || !member || !ret_offset)
		return -EINVAL;
	err = vms_btf_member(s->kernel->btf, type_name, member, ret_offset,
			     ret_size);
	if (err)
		return vms_err(&s->ctx, err, "linux",
			       "%s.%s is not in the kernel's BTF", type_name,
			       member);
	return 0;
}

/* The common start of every iterator constructor: the kernel, the out
 * parameter, and a zeroed iterator of @size bytes in *@it. */
static int iter_begin(struct vms_session *s, const void *ret, size_t size,
		      void **it)
{
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!ret)
		return -EINVAL;
	*it = calloc(1, size);
	return *it ? 0 : -ENOMEM;
}

VMS_API int vms_proc_iter_create(struct vms_session *s,
				 struct vms_proc_iter **ret)
{
	struct vms_proc_iter *it;
	int err;

	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	it->s = s;
	err = vms_task_walk_init(&it->walk, s->kernel);
	if (err) {
		vms_proc_iter_destroy(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_proc_iter_next(struct vms_proc_iter *it,
			       const struct vms_proc **ret)
{
	int r;

	if (!it || !ret)
		return -EINVAL;
	r = vms_task_walk_next(&it->walk, &it->cur.t);
	if (r == 1)
		*ret = &it->cur;
	return r;
}

VMS_API void vms_proc_iter_destroy(struct vms_proc_iter *it)
{
	if (!it)
		return;
	vms_task_walk_fini(&it->walk);
	free(it);
}

VMS_API int32_t vms_proc_pid(const struct vms_proc *p) { return p->t.tgid; }
VMS_API int32_t vms_proc_ppid(const struct vms_proc *p) { return p->t.ppid; }
VMS_API uint32_t vms_proc_uid(const struct vms_proc *p) { return p->t.uid; }
VMS_API uint32_t vms_proc_gid(const struct vms_proc *p) { return p->t.gid; }
VMS_API uint32_t vms_proc_euid(const struct vms_proc *p) { return p->t.euid; }
VMS_API uint32_t vms_proc_egid(const struct vms_proc *p) { return p->t.egid; }
VMS_API char vms_proc_state(const struct vms_proc *p) { return p->t.state; }
VMS_API bool vms_proc_is_kthread(const struct vms_proc *p)
{
	return p->t.kthread;
}
VMS_API int32_t vms_proc_nr_threads(const struct vms_proc *p)
{
	return p->t.nr_threads;
}
VMS_API uint64_t vms_proc_task_addr(const struct vms_proc *p)
{
	return p->t.addr;
}

VMS_API size_t vms_proc_comm(const struct vms_proc *p, char *buf, size_t len)
{
	if (len) {
		size_t n = VMS_MIN(p->t.comm_len, len - 1);
		memcpy(buf, p->t.comm, n);
		buf[n] = 0;
	}
	return p->t.comm_len;
}

VMS_API int32_t vms_proc_tid(const struct vms_proc *p) { return p->t.pid; }

VMS_API int vms_thread_iter_create(struct vms_session *s,
				   const struct vms_proc *p,
				   struct vms_proc_iter **ret)
{
	struct vms_proc_iter *it;
	int err;

	if (!p)
		return -EINVAL;
	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	it->s = s;
	err = vms_thread_walk_init(&it->walk, s->kernel, p->t.signal);
	if (err) {
		vms_proc_iter_destroy(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_proc_cred_get(const struct vms_proc *p, struct vms_cred *ret)
{
	struct vms_cred c;

	if (!p || !ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	c = (struct vms_cred){
		.sz = VMS_MIN(ret->sz, sizeof(c)),
		.uid = p->t.uid, .euid = p->t.euid, .suid = p->t.suid,
		.fsuid = p->t.fsuid, .gid = p->t.gid, .egid = p->t.egid,
		.sgid = p->t.sgid, .fsgid = p->t.fsgid,
		.cap_inheritable = p->t.caps[0], .cap_permitted = p->t.caps[1],
		.cap_effective = p->t.caps[2], .cap_bounding = p->t.caps[3],
		.cap_ambient = p->t.caps[4],
	};
	memcpy(ret, &c, c.sz);
	return 0;
}

static int read_area(struct vms_session *s, const struct vms_proc *p,
		     bool env, void *buf, size_t len, size_t *ret_len,
		     size_t *ret_full)
{
	size_t got, full;
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!p || (!buf && len) || !ret_len)
		return -EINVAL;
	err = vms_task_read_area(s->kernel, &p->t, env, buf, len, &got,
				 &full);
	if (err)
		return err;
	*ret_len = got;
	if (ret_full)
		*ret_full = full;
	return 0;
}

VMS_API int vms_proc_cmdline(struct vms_session *s, const struct vms_proc *p,
			     void *buf, size_t len, size_t *ret_len,
			     size_t *ret_full)
{
	return read_area(s, p, false, buf, len, ret_len, ret_full);
}

VMS_API int vms_proc_environ(struct vms_session *s, const struct vms_proc *p,
			     void *buf, size_t len, size_t *ret_len,
			     size_t *ret_full)
{
	return read_area(s, p, true, buf, len, ret_len, ret_full);
}

VMS_API int vms_module_iter_create(struct vms_session *s,
				   struct vms_module_iter **ret)
{
	struct vms_module_iter *it;
	int err;

	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	err = vms_mod_walk_init(&it->walk, s->kernel);
	if (err) {
		vms_module_iter_destroy(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_module_iter_next(struct vms_module_iter *it,
				 const struct vms_module **ret)
{
	int r;

	if (!it || !ret)
		return -EINVAL;
	r = vms_mod_walk_next(&it->walk, &it->cur.m);
	if (r == 1)
		*ret = &it->cur;
	return r;
}

VMS_API void vms_module_iter_destroy(struct vms_module_iter *it)
{
	if (!it)
		return;
	vms_mod_walk_fini(&it->walk);
	free(it);
}

VMS_API const char *vms_module_name(const struct vms_module *m)
{
	return m->m.name;
}
VMS_API uint64_t vms_module_size(const struct vms_module *m)
{
	return m->m.size;
}
VMS_API int32_t vms_module_refcount(const struct vms_module *m)
{
	return m->m.refcount;
}
VMS_API const char *vms_module_users(const struct vms_module *m)
{
	return m->m.users;
}
VMS_API const char *vms_module_state(const struct vms_module *m)
{
	return m->m.state;
}
VMS_API uint64_t vms_module_base(const struct vms_module *m)
{
	return m->m.base;
}
VMS_API const char *vms_module_taints(const struct vms_module *m)
{
	return m->m.taints;
}
VMS_API uint64_t vms_module_addr(const struct vms_module *m)
{
	return m->m.addr;
}

VMS_API int vms_log_iter_create(struct vms_session *s,
				struct vms_log_iter **ret)
{
	struct vms_log_iter *it;
	int err;

	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	err = vms_log_walk_init(&it->walk, s->kernel);
	if (err) {
		free(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_log_iter_next(struct vms_log_iter *it,
			      struct vms_log_record *ret)
{
	struct vms_log_rec r;
	struct vms_log_record o;
	int n;

	if (!it || !ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	n = vms_log_walk_next(&it->walk, &r);
	if (n != 1)
		return n;
	o = (struct vms_log_record){ .sz = VMS_MIN(ret->sz, sizeof(o)),
				     .seq = r.seq, .ts_nsec = r.ts_nsec,
				     .text = r.text, .text_len = r.text_len,
				     .level = r.level,
				     .facility = r.facility };
	memcpy(ret, &o, o.sz);
	return 1;
}

VMS_API void vms_log_iter_destroy(struct vms_log_iter *it)
{
	if (!it)
		return;
	vms_log_walk_fini(&it->walk);
	free(it);
}

VMS_API int vms_sysinfo_get(struct vms_session *s, struct vms_sysinfo *ret)
{
	struct vms_sysinfo i;
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	if (!s->sys_read) {
		if ((err = vms_sys_read(s->kernel, &s->sys)))
			return err;
		s->sys_read = true;
	}
	i = (struct vms_sysinfo){ .sz = VMS_MIN(ret->sz, sizeof(i)),
				  .hostname = s->sys.hostname,
				  .cmdline = s->sys.cmdline,
				  .boot_time = s->sys.boot_time,
				  .uptime_ns = s->sys.uptime_ns };
	memcpy(ret, &i, i.sz);
	return 0;
}

VMS_API int vms_mount_iter_create(struct vms_session *s,
				  struct vms_mount_iter **ret)
{
	struct vms_mount_iter *it;
	int err;

	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	err = vms_mnt_walk_init(&it->walk, s->kernel);
	if (err) {
		vms_mount_iter_destroy(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_mount_iter_next(struct vms_mount_iter *it,
				const struct vms_mount **ret)
{
	int r;

	if (!it || !ret)
		return -EINVAL;
	r = vms_mnt_walk_next(&it->walk, &it->cur.m);
	if (r == 1)
		*ret = &it->cur;
	return r;
}

VMS_API void vms_mount_iter_destroy(struct vms_mount_iter *it)
{
	if (!it)
		return;
	vms_mnt_walk_fini(&it->walk);
	free(it);
}

VMS_API const char *vms_mount_devname(const struct vms_mount *m)
{
	return m->m.devname;
}
VMS_API const char *vms_mount_path(const struct vms_mount *m)
{
	return m->m.path;
}
VMS_API const char *vms_mount_fstype(const struct vms_mount *m)
{
	return m->m.fstype;
}
VMS_API const char *vms_mount_options(const struct vms_mount *m)
{
	return m ? m->m.options : NULL;
}

VMS_API bool vms_mount_readonly(const struct vms_mount *m)
{
	return m->m.readonly;
}
VMS_API int32_t vms_mount_id(const struct vms_mount *m) { return m->m.id; }
VMS_API uint64_t vms_mount_addr(const struct vms_mount *m)
{
	return m->m.addr;
}

VMS_API int vms_file_iter_create(struct vms_session *s,
				 const struct vms_proc *p,
				 struct vms_file_iter **ret)
{
	struct vms_file_iter *it;
	int err;

	if (!p)
		return -EINVAL;
	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	err = vms_fd_walk_init(&it->walk, s->kernel, &p->t);
	if (err) {
		free(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_file_iter_next(struct vms_file_iter *it,
			       const struct vms_file **ret)
{
	int r;

	if (!it || !ret)
		return -EINVAL;
	r = vms_fd_walk_next(&it->walk, &it->cur.f);
	if (r == 1)
		*ret = &it->cur;
	return r;
}

VMS_API void vms_file_iter_destroy(struct vms_file_iter *it)
{
	free(it);
}

VMS_API int32_t vms_file_fd(const struct vms_file *f) { return f->f.fd; }
VMS_API const char *vms_file_path(const struct vms_file *f)
{
	return f->f.path;
}
VMS_API uint64_t vms_file_inode(const struct vms_file *f)
{
	return f->f.inode;
}
VMS_API uint64_t vms_file_addr(const struct vms_file *f) { return f->f.file; }

VMS_API const char *vms_file_type(const struct vms_file *f)
{
	/* S_IFMT bits of i_mode (include/uapi/linux/stat.h). */
	switch (f->f.imode & 0170000) {
	case 0100000: return "REG";
	case 0040000: return "DIR";
	case 0020000: return "CHR";
	case 0060000: return "BLK";
	case 0010000: return "FIFO";
	case 0140000: return "SOCK";
	case 0120000: return "LNK";
	default: return "?";
	}
}

VMS_API const char *vms_file_mode(const struct vms_file *f)
{
	return f->f.readable ? (f->f.writable ? "rw" : "r")
			     : (f->f.writable ? "w" : "-");
}

VMS_API int vms_maps_get(struct vms_session *s, const struct vms_proc *p,
			 struct vms_maps **ret)
{
	struct vms_maps *m;
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!p || !ret)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	err = vms_vma_collect(s->kernel, &p->t, &m->l);
	if (err) {
		free(m);
		return err;
	}
	*ret = m;
	return 0;
}

VMS_API size_t vms_maps_count(const struct vms_maps *m)
{
	return m ? m->l.n : 0;
}

VMS_API int vms_maps_entry(const struct vms_maps *m, size_t i,
			   struct vms_vma_info *ret)
{
	struct vms_vma_info o;
	const struct vms_vma *v;

	if (!m || i >= m->l.n || !ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	v = &m->l.v[i];
	/* VM_READ 0x1, VM_WRITE 0x2, VM_EXEC 0x4, VM_MAYSHARE 0x80
	 * (include/linux/mm.h, unchanged since v2.6). Device numbers use
	 * the kernel's internal encoding: 12-bit major, 20-bit minor. */
	o = (struct vms_vma_info){
		.sz = VMS_MIN(ret->sz, sizeof(o)), .start = v->start,
		.end = v->end, .offset = v->offset, .inode = v->inode,
		.dev_major = v->dev >> 20, .dev_minor = v->dev & 0xfffff,
		.name = v->name, .vma = v->addr,
	};
	o.perms[0] = v->flags & 0x1 ? 'r' : '-';
	o.perms[1] = v->flags & 0x2 ? 'w' : '-';
	o.perms[2] = v->flags & 0x4 ? 'x' : '-';
	o.perms[3] = v->flags & 0x80 ? 's' : 'p';
	o.perms[4] = 0;
	memcpy(ret, &o, o.sz);
	return 0;
}

VMS_API void vms_maps_destroy(struct vms_maps *m)
{
	if (!m)
		return;
	vms_vma_list_free(&m->l);
	free(m);
}

static void socket_info(const struct vms_sk *sk, struct vms_socket_info *ret)
{
	struct vms_socket_info o = {
		.sz = VMS_MIN(ret->sz, sizeof(o)), .family = sk->family,
		.type = sk->type, .protocol = sk->protocol, .state = sk->state,
		.proto = sk->proto, .state_name = sk->state_name,
		.local = sk->local, .remote = sk->remote, .inode = sk->inode,
		.sock = sk->sock, .netns = sk->netns,
	};
	memcpy(ret, &o, o.sz);
}

VMS_API int vms_file_socket(struct vms_session *s, const struct vms_file *f,
			    struct vms_socket_info *ret)
{
	struct vms_sk *sk;
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!f || !ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	if (!f->f.socket)
		return -ENOENT;
	/* The record is the caller's view of the iterator's current file;
	 * the decoded socket lives beside it. */
	sk = (struct vms_sk *)&f->sk;
	err = vms_sock_read(s->kernel, f->f.inode_addr, sk);
	if (err)
		return err;
	sk->inode = f->f.inode;
	socket_info(sk, ret);
	return 0;
}

VMS_API int vms_socket_iter_create(struct vms_session *s,
				   struct vms_socket_iter **ret)
{
	struct vms_socket_iter *it;
	int err;

	err = iter_begin(s, ret, sizeof(*it), (void **)&it);
	if (err)
		return err;
	err = vms_sock_walk_init(&it->walk, s->kernel);
	if (err) {
		vms_socket_iter_destroy(it);
		return err;
	}
	*ret = it;
	return 0;
}

VMS_API int vms_socket_iter_next(struct vms_socket_iter *it,
				 struct vms_socket_info *ret)
{
	int r;

	if (!it || !ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	r = vms_sock_walk_next(&it->walk, &it->cur);
	if (r == 1)
		socket_info(&it->cur, ret);
	return r;
}

VMS_API void vms_socket_iter_destroy(struct vms_socket_iter *it)
{
	if (!it)
		return;
	vms_sock_walk_fini(&it->walk);
	free(it);
}

VMS_API int vms_proc_read(struct vms_session *s, const struct vms_proc *p,
			  uint64_t vaddr, void *buf, size_t len,
			  size_t *ret_len)
{
	uint64_t root;
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!p || (!buf && len) || !ret_len)
		return -EINVAL;
	if ((err = vms_task_pgd(s->kernel, &p->t, &root)))
		return err;
	return vms_task_read_user(s->kernel, root, vaddr, buf, len, ret_len);
}

VMS_API int vms_cfile_open(struct vms_session *s, const char *path,
			   struct vms_cfile **ret)
{
	struct vms_cfile *f;
	int err = vms_kernel_load(s);

	if (err)
		return err;
	if (!path || !ret)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->s = s;
	err = vms_pcfile_open(s->kernel, path, &f->f);
	if (err) {
		free(f);
		return err;
	}
	*ret = f;
	return 0;
}

VMS_API void vms_cfile_close(struct vms_cfile *f)
{
	free(f);
}

VMS_API int vms_cfile_info_get(const struct vms_cfile *f,
			       struct vms_cfile_info *ret)
{
	struct vms_cfile_info i;

	if (!f || !ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	i = (struct vms_cfile_info){
		.sz = VMS_MIN(ret->sz, sizeof(i)), .size = f->f.size,
		.pages = f->f.size / 4096 + (f->f.size % 4096 != 0),
		.inode = f->f.ino, .mode = f->f.mode,
		.inode_addr = f->f.inode, .fstype = f->f.fstype,
		.path = f->f.path, .holes_read_zero = f->f.holes_read_zero
	};
	memcpy(ret, &i, i.sz);
	return 0;
}

VMS_API int vms_cfile_read_page(struct vms_cfile *f, uint64_t index,
				void *buf)
{
	if (!f || !buf)
		return -EINVAL;
	return vms_pcfile_page(f->s->kernel, &f->f, index, buf);
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

VMS_API size_t vms_check_count(void)
{
	return vms_checks_count;
}

VMS_API int vms_check_get(size_t i, struct vms_check_desc *ret)
{
	struct vms_check_desc d;

	if (!ret || ret->sz < sizeof(size_t))
		return -EINVAL;
	if (i >= vms_checks_count)
		return -ERANGE;
	d = (struct vms_check_desc){ .sz = VMS_MIN(ret->sz, sizeof(d)),
				     .name = vms_checks[i].name,
				     .title = vms_checks[i].title,
				     .severity = vms_checks[i].severity };
	memcpy(ret, &d, d.sz);
	return 0;
}

/* Checks and measurements read strictly even while the guest runs: a
 * task left out of one view of a cross-view check as torn would look
 * hidden, and a baseline must not miss an object. One that a running
 * guest tears fails instead (vmsight watch warns and runs it again next
 * time). Returns the racing flag to put back. */
static bool strict(struct vms_session *s)
{
	bool racing = s->ctx.racing;

	s->ctx.racing = false;
	return racing;
}

VMS_API int vms_check_run(struct vms_session *s, const char *name,
			  vms_finding_fn fn, void *arg)
{
	int err;

	if (!s || !name)
		return -EINVAL;
	if ((err = vms_kernel_load(s)))
		return err;
	bool racing = strict(s);
	err = vms_chk_run(s->kernel, s->policy, s->yara, name, fn, arg);
	s->ctx.racing = racing;
	return err;
}

VMS_API void vms_session_set_policy(struct vms_session *s,
				    const struct vms_policy *p)
{
	if (s)
		s->policy = p;
}

VMS_API int vms_measure(struct vms_session *s, vms_measurement_fn fn,
			void *arg)
{
	int err;

	if (!s || !fn)
		return -EINVAL;
	if ((err = vms_kernel_load(s)))
		return err;
	bool racing = strict(s);
	err = vms_chk_measure_run(s->kernel, fn, arg);
	s->ctx.racing = racing;
	return err;
}

VMS_API int vms_baseline_write(struct vms_session *s, FILE *f,
			       const char *source)
{
	int err;

	if (!s || !f)
		return -EINVAL;
	if ((err = vms_kernel_load(s)) ||
	    (err = vms_chk_baseline_header(f, source)))
		return err;
	bool racing = strict(s);
	err = vms_chk_measure_run(s->kernel, vms_chk_baseline_line, f);
	s->ctx.racing = racing;
	if (err)
		return err;
	return fflush(f) || ferror(f) ? -EIO : 0;
}

VMS_API int vms_baseline_diff(struct vms_session *s,
			      const struct vms_baseline *b, vms_change_fn fn,
			      void *arg)
{
	struct vms_baseline *now;
	int err;

	if (!s || !b || !fn)
		return -EINVAL;
	if ((err = vms_kernel_load(s)))
		return err;
	if (!(now = vms_chk_baseline_new()))
		return -ENOMEM;
	bool racing = strict(s);
	err = vms_chk_measure_run(s->kernel, vms_chk_baseline_add, now);
	s->ctx.racing = racing;
	/* A parsed baseline is sorted already: comparing does not change
	 * it. */
	if (!err)
		err = vms_chk_baseline_compare((struct vms_baseline *)b, now,
					       fn, arg);
	vms_baseline_destroy(now);
	return err;
}

VMS_API void vms_session_set_yara(struct vms_session *s,
				  const struct vms_yara *y)
{
	if (s)
		s->yara = y;
}
