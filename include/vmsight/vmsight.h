/* SPDX-License-Identifier: MIT */
/*
 * libvmsight: introspection of Linux guests from outside, through their
 * physical memory.
 *
 * This header is the whole public API. Handles and records are opaque.
 * Fallible calls return 0 or a negative errno value with one meaning each:
 *
 *   -EFAULT   the address is not mapped (physical hole or no translation)
 *   -ENOENT   absent; a fallback may find it
 *   -EBADMSG  inconsistent guest or dump data
 *   -ELOOP    a cycle in guest data
 *   -E2BIG    over a bound
 *   -ENOTSUP  unsupported format or feature
 *   -EIO      the source failed
 *   -EINVAL   caller error
 *   -ENOMEM   out of memory
 *
 * The detail of the first error is kept in the session: vms_errmsg().
 * The library never prints; set a log callback to see its messages.
 * Guest data is copied into caller buffers. No call is thread-safe on
 * the same session; distinct sessions are independent.
 */
#ifndef VMSIGHT_VMSIGHT_H
#define VMSIGHT_VMSIGHT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VMS_API
#define VMS_API __attribute__((visibility("default")))
#endif

/** Library version, as "MAJOR.MINOR.PATCH". */
VMS_API const char *vms_version(void);

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

struct vms_session;

enum vms_log_level {
	VMS_LOG_ERROR,
	VMS_LOG_WARN,
	VMS_LOG_INFO,
	VMS_LOG_DEBUG,
};

/** Log callback. @msg is one line without newline, valid during the call. */
typedef void (*vms_log_fn)(enum vms_log_level level, const char *msg,
			   void *arg);

/**
 * Options for vms_session_create(). Set @sz to sizeof(struct
 * vms_session_opts); fields the library does not know of are rejected if
 * non-zero, fields the caller does not know of take their defaults.
 */
/**
 * Progress of long work (a YARA scan of every process, ...): @what names
 * the step now under way ("yara: pid 42 (sshd)"), @done of @total units
 * are finished (@total 0: not known). Called from the thread doing the
 * work, often: a display should throttle itself.
 */
typedef void (*vms_progress_fn)(const char *what, uint64_t done,
				uint64_t total, void *arg);

struct vms_session_opts {
	size_t sz;		/**< sizeof(struct vms_session_opts) */
	vms_log_fn log;		/**< log callback, or NULL for silence */
	void *log_arg;		/**< passed to @log */
	uint32_t max_tasks;	/**< bound on task-list walks; 0: 4194304 */
	vms_progress_fn progress; /**< progress callback, or NULL */
	void *progress_arg;	/**< passed to @progress */
	/**
	 * Resource caps on what a guest can make one call cost. Sizes
	 * read from the guest (a ring buffer's, a table's, the BTF's)
	 * drive allocations: no one buffer, and no table that guest data
	 * grows (a process's memory areas, say), may exceed @max_memory
	 * bytes (0: 512 MiB), else the call fails with -E2BIG. Lists and
	 * scans are bounded in length, and one call (an iterator: from
	 * its creation) may run @max_seconds (0: 600; UINT32_MAX: no
	 * cap), else it fails with -ETIMEDOUT.
	 */
	uint64_t max_memory;
	uint32_t max_seconds;
};

/**
 * Create an empty session. @opts may be NULL. On success *@ret owns a new
 * session, freed by vms_session_destroy().
 */
VMS_API int vms_session_create(const struct vms_session_opts *opts,
			       struct vms_session **ret);

/** Free a session and everything it owns. Accepts NULL. */
VMS_API void vms_session_destroy(struct vms_session *s);

/**
 * Open a memory dump as the session's source. The format (raw, ELF core,
 * kdump-compressed plain or flattened, LiME) is detected from the content.
 * A session has at most one source.
 */
VMS_API int vms_session_open_dump(struct vms_session *s, const char *path);

/**
 * Open a running QEMU guest as the session's source, through its QMP
 * socket at @qmp. Its RAM must be a memory-backend-file with share=on
 * (-object memory-backend-file,id=ram,size=...,mem-path=FILE,share=on
 * -machine memory-backend=ram): the file is mapped read-only, and the
 * guest-physical layout (q35's RAM above 4 GiB included) comes from
 * QEMU's memory map. Reads see the guest as it runs: nothing is paused.
 */
VMS_API int vms_session_open_qemu(struct vms_session *s, const char *qmp);

/**
 * Open @source: "qemu:QMP_SOCKET" for a running QEMU
 * (vms_session_open_qemu()), anything else as a dump file.
 */
VMS_API int vms_session_open(struct vms_session *s, const char *source);

/**
 * Stop a live guest (QMP stop), for reads of one consistent state. A
 * guest that its owner had stopped already stays as it is, and is not
 * let run by vms_session_resume(). -ENOTSUP for a dump.
 */
VMS_API int vms_session_pause(struct vms_session *s);
/**
 * Let a guest that vms_session_pause() stopped run again (QMP cont);
 * *@paused_ns (may be NULL): how long it was stopped. 0 when there is
 * nothing to resume. vms_session_destroy() resumes too.
 */
VMS_API int vms_session_resume(struct vms_session *s, uint64_t *paused_ns);
/**
 * The same from a signal handler: sends the resume without waiting for
 * QEMU's answer, with async-signal-safe calls only.
 */
VMS_API void vms_session_resume_async(struct vms_session *s);

/**
 * How many objects the session's walks have left out so far because they
 * changed while they were read. Only a live guest that is not paused
 * races the reads: there a task, module, socket, open file, mount or
 * memory area that is freed, reused or half-written under the read is
 * left out with a warning (VMS_LOG_WARN, naming its address), and a list
 * that breaks under the read ends early with one, where a dump or a
 * paused guest gives an error. vms_session_pause() gives a consistent
 * view. Checks, measurements and baselines always read strictly: an
 * object left out of one view of a cross-view check would look hidden,
 * so there a torn read fails the check instead.
 */
VMS_API uint32_t vms_session_torn(const struct vms_session *s);

/**
 * Forget what the session cached from guest memory (translations, the
 * module memory it searched, system facts), so that the next calls see
 * a live guest as it is now. A dump never changes: there it only costs.
 * The located kernel (kallsyms, BTF, the KASLR slide) is kept.
 */
VMS_API void vms_session_refresh(struct vms_session *s);

/**
 * The detail of the session's first unreported error: one line naming
 * what failed and, where one exists, the guest address or file offset.
 * Owned by the session, valid until the next call on it. Never NULL.
 */
VMS_API const char *vms_errmsg(const struct vms_session *s);

/** Forget the recorded error, so that the next one is recorded. */
VMS_API void vms_errclear(struct vms_session *s);

/* ------------------------------------------------------------------ */
/* Physical memory                                                     */
/* ------------------------------------------------------------------ */

/** A range of guest-physical addresses that the source holds. */
struct vms_phys_range {
	uint64_t start;	/**< first guest-physical address */
	uint64_t size;	/**< length in bytes */
};

/** Name of the source's format: "raw", "elf", "kdump", "kdump-flat", "lime". */
VMS_API const char *vms_source_format(const struct vms_session *s);

/** Number of physical ranges; 0 without a source. */
VMS_API size_t vms_phys_range_count(const struct vms_session *s);

/** Physical range @i (0 <= @i < vms_phys_range_count()). */
VMS_API int vms_phys_range_get(const struct vms_session *s, size_t i,
			       struct vms_phys_range *ret);

/** Read @len bytes of guest-physical memory at @paddr into @buf. */
VMS_API int vms_read_phys(struct vms_session *s, uint64_t paddr, void *buf,
			  size_t len);

/**
 * Write the source's memory, the vCPUs' registers as last read, and its
 * VMCOREINFO (if any) as an ELF core, the format of QEMU's
 * dump-guest-memory, to the regular file open at @fd (truncated first).
 * Memory a dump lacks stays out of the core; all-zero pages become
 * holes in the file. A live guest should be paused first
 * (vms_session_pause(), then vms_vcpus_read()) for a consistent core.
 * Reports progress. *@ret_size (may be NULL): the core's size.
 */
VMS_API int vms_snapshot_write(struct vms_session *s, int fd,
			       uint64_t *ret_size);

/* ------------------------------------------------------------------ */
/* vCPUs                                                               */
/* ------------------------------------------------------------------ */

/** A vCPU's registers. */
struct vms_vcpu {
	size_t sz;		/**< set by the caller: sizeof(*ret) */
	uint32_t cpu;		/**< QEMU's CPU number */
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint16_t cs, ss;	/**< selectors; cs & 3 is the privilege level */
	uint64_t fs_base, gs_base;
	uint64_t kernel_gs_base; /**< if has_kernel_gs_base */
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t efer;		/**< if has_efer */
	bool has_kernel_gs_base; /**< QEMU's ELF notes hold it, its monitor not */
	bool has_efer;		/**< QEMU's monitor shows it, its ELF notes not */
};

/**
 * Read the vCPUs' registers again from a live source (QEMU's "info
 * registers -a"; a running guest's change all the time, so pause it
 * for registers that match its memory). A dump's registers, from its
 * notes, stay as they are: 0.
 */
VMS_API int vms_vcpus_read(struct vms_session *s);

/** Number of vCPUs whose registers the source holds (0 if none). */
VMS_API size_t vms_vcpu_count(const struct vms_session *s);

/** vCPU @i (0 <= @i < vms_vcpu_count()) into @ret, whose sz is set. */
VMS_API int vms_vcpu_get(const struct vms_session *s, size_t i,
			 struct vms_vcpu *ret);

/* ------------------------------------------------------------------ */
/* Kernel                                                              */
/* ------------------------------------------------------------------ */

/**
 * What vms_kernel_load() found. Strings are owned by the session and stay
 * valid until it is destroyed.
 */
struct vms_kernel_info {
	size_t sz;		  /**< set by the caller: sizeof(*info) */
	const char *banner;	  /**< "Linux version ..." */
	const char *release;	  /**< e.g. "6.1.0-56-amd64" */
	uint64_t text_vaddr;	  /**< runtime address of _text */
	uint64_t text_paddr;	  /**< physical address of _text */
	int64_t kaslr_slide;	  /**< text_vaddr - 0xffffffff81000000 */
	uint64_t pgd_paddr;	  /**< kernel page-table root (init_top_pgt) */
	int paging_levels;	  /**< 4 or 5 */
	const char *pgd_source;	  /**< "symbols", "cpu-state" or "vmcoreinfo" */
	uint64_t kallsyms_paddr;  /**< physical address of kallsyms_token_table */
	uint32_t nr_symbols;	  /**< symbols decoded from kallsyms */
	const char *kallsyms_source; /**< "memory-scan" or "vmcoreinfo" */
	uint64_t btf_vaddr;	  /**< virtual address of the kernel's BTF */
	uint32_t btf_size;	  /**< bytes of BTF */
	uint32_t nr_types;	  /**< BTF types */
	bool has_vmcoreinfo;	  /**< the source carried VMCOREINFO */
};

/**
 * Find the kernel in guest memory: the kallsyms tables, the image's
 * physical and virtual base (the KASLR slide), the kernel page tables and
 * the BTF type information. Needs nothing but the source. Idempotent;
 * every call that needs the kernel makes it implicitly.
 */
VMS_API int vms_kernel_load(struct vms_session *s);

/** Fill @ret (whose sz the caller set) with what vms_kernel_load() found. */
VMS_API int vms_kernel_info_get(struct vms_session *s,
				struct vms_kernel_info *ret);

/* ------------------------------------------------------------------ */
/* Virtual memory                                                      */
/* ------------------------------------------------------------------ */

/** Address-space root meaning "the kernel's own page tables". */
#define VMS_KERNEL_AS 0

/**
 * Translate guest-virtual @vaddr in the address space whose top-level
 * page table is at physical @root (VMS_KERNEL_AS for the kernel's).
 * On success *@ret is the physical address and, if @page_size is not
 * NULL, *@page_size the size of the mapping page (4K, 2M or 1G).
 */
VMS_API int vms_translate(struct vms_session *s, uint64_t root,
			  uint64_t vaddr, uint64_t *ret, uint64_t *page_size);

/** Read @len bytes of guest-virtual memory; fails on the first hole. */
VMS_API int vms_read_virt(struct vms_session *s, uint64_t root,
			  uint64_t vaddr, void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Symbols and types                                                   */
/* ------------------------------------------------------------------ */

/** Address of kernel symbol @name (from kallsyms). -ENOENT if absent. */
VMS_API int vms_symbol_lookup(struct vms_session *s, const char *name,
			      uint64_t *ret);

/** A kallsyms entry. @name is owned by the session. */
struct vms_symbol {
	const char *name;
	uint64_t addr;
	char type; /**< nm-style type letter, as /proc/kallsyms shows it */
};

/**
 * The kallsyms entry at or below @addr, which must lie in the kernel
 * image (from _text to _end): *@ret and *@offset (@addr - ret->addr).
 * -ENOENT outside the image.
 */
VMS_API int vms_symbol_find(struct vms_session *s, uint64_t addr,
			    struct vms_symbol *ret, uint64_t *offset);

/** Number of kallsyms entries, in the kernel's own order. */
VMS_API size_t vms_symbol_count(struct vms_session *s);

/** Entry @i of kallsyms, 0 <= @i < vms_symbol_count(). */
VMS_API int vms_symbol_get(struct vms_session *s, size_t i,
			   struct vms_symbol *ret);

/** Size in bytes of struct @type_name, from the kernel's BTF. */
VMS_API int vms_type_size(struct vms_session *s, const char *type_name,
			  size_t *ret);

/**
 * Byte offset and size of @member in struct or union @type_name, looking
 * through anonymous members. -ENOENT if either is absent.
 */
VMS_API int vms_type_member(struct vms_session *s, const char *type_name,
			    const char *member, size_t *ret_offset,
			    size_t *ret_size);

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

struct vms_proc;
struct vms_proc_iter;

/**
 * Start a walk of the kernel's task list (thread-group leaders; the idle
 * task, pid 0, is not listed, as /proc does not list it). The walk is
 * bounded and detects cycles. Free with vms_proc_iter_destroy().
 */
VMS_API int vms_proc_iter_create(struct vms_session *s,
				 struct vms_proc_iter **ret);

/**
 * The next process. Returns 1 and sets *@ret (valid until the next call
 * on @it), 0 at the end, or a negative error; after an error the walk
 * is over.
 */
VMS_API int vms_proc_iter_next(struct vms_proc_iter *it,
			       const struct vms_proc **ret);

/** Free an iterator. Accepts NULL. */
VMS_API void vms_proc_iter_destroy(struct vms_proc_iter *it);

VMS_API int32_t vms_proc_pid(const struct vms_proc *p);
VMS_API int32_t vms_proc_ppid(const struct vms_proc *p);
VMS_API uint32_t vms_proc_uid(const struct vms_proc *p);
VMS_API uint32_t vms_proc_gid(const struct vms_proc *p);
VMS_API uint32_t vms_proc_euid(const struct vms_proc *p);
VMS_API uint32_t vms_proc_egid(const struct vms_proc *p);
/** One-letter state as /proc/PID/stat shows it ('R', 'S', 'I', ...). */
VMS_API char vms_proc_state(const struct vms_proc *p);
VMS_API int32_t vms_proc_nr_threads(const struct vms_proc *p);
/** Virtual address of the task_struct. */
VMS_API uint64_t vms_proc_task_addr(const struct vms_proc *p);
/** True for kernel threads (no user address space). */
VMS_API bool vms_proc_is_kthread(const struct vms_proc *p);
/**
 * Copy the command name into @buf (always NUL-terminated when @len > 0).
 * Returns the full length of the name; a result >= @len means truncated.
 */
VMS_API size_t vms_proc_comm(const struct vms_proc *p, char *buf, size_t len);

/** Thread id of the task the record describes (== pid for leaders). */
VMS_API int32_t vms_proc_tid(const struct vms_proc *p);

/**
 * Walk the threads of process @p (from its signal_struct's thread list),
 * yielding one record per thread; vms_proc_tid() tells them apart.
 * Same contract as vms_proc_iter_create(). @p may be freed afterwards.
 */
VMS_API int vms_thread_iter_create(struct vms_session *s,
				   const struct vms_proc *p,
				   struct vms_proc_iter **ret);

/** Credentials of a task, as /proc/PID/status shows them. */
struct vms_cred {
	size_t sz;			/**< set by the caller */
	uint32_t uid, euid, suid, fsuid; /**< real, effective, saved, fs */
	uint32_t gid, egid, sgid, fsgid;
	uint64_t cap_inheritable;	/**< capability sets, bit per cap */
	uint64_t cap_permitted;
	uint64_t cap_effective;
	uint64_t cap_bounding;
	uint64_t cap_ambient;		/**< 0 before v4.3 */
};

/** Fill @ret (whose sz the caller set) with the credentials of @p. */
VMS_API int vms_proc_cred_get(const struct vms_proc *p, struct vms_cred *ret);

/**
 * Copy the process's command line (the bytes /proc/PID/cmdline holds:
 * arguments separated by NULs) into @buf, reading its user memory through
 * its own page tables. *@ret_len: bytes copied; *@ret_full: the area's
 * size. *@ret_len < min(@len, *@ret_full) means a page was not resident
 * (swapped out or never touched). Kernel threads give 0 bytes.
 */
VMS_API int vms_proc_cmdline(struct vms_session *s, const struct vms_proc *p,
			     void *buf, size_t len, size_t *ret_len,
			     size_t *ret_full);

/**
 * Read @len bytes of process @p's memory at user address @vaddr, through
 * its own page tables, into @buf. Stops at the first page that is not
 * resident (swapped out, never touched, or not mapped): *@ret_len says
 * how many bytes were read. Nothing is ever filled in.
 */
VMS_API int vms_proc_read(struct vms_session *s, const struct vms_proc *p,
			  uint64_t vaddr, void *buf, size_t len,
			  size_t *ret_len);

/** The same for the environment (/proc/PID/environ). */
VMS_API int vms_proc_environ(struct vms_session *s, const struct vms_proc *p,
			     void *buf, size_t len, size_t *ret_len,
			     size_t *ret_full);

struct vms_file;
struct vms_file_iter;

/** Walk the open file descriptors of process @p, in fd order. */
VMS_API int vms_file_iter_create(struct vms_session *s,
				 const struct vms_proc *p,
				 struct vms_file_iter **ret);
/** 1 and *@ret (valid until the next call), 0 at the end, or < 0. */
VMS_API int vms_file_iter_next(struct vms_file_iter *it,
			       const struct vms_file **ret);
VMS_API void vms_file_iter_destroy(struct vms_file_iter *it);
VMS_API int32_t vms_file_fd(const struct vms_file *f);
/** What /proc/PID/fd/N links to: a path, "socket:[N]", "pipe:[N]",
 *  "anon_inode:[eventfd]", ... Owned by the record. */
VMS_API const char *vms_file_path(const struct vms_file *f);
/** "REG", "DIR", "CHR", "BLK", "FIFO", "SOCK", "LNK" or "?". */
VMS_API const char *vms_file_type(const struct vms_file *f);
VMS_API uint64_t vms_file_inode(const struct vms_file *f);
/** "r", "w", "rw" or "-", from the open mode. */
VMS_API const char *vms_file_mode(const struct vms_file *f);
/** Address of the struct file. */
VMS_API uint64_t vms_file_addr(const struct vms_file *f);

/** A socket, as netstat shows it. Strings are owned by the file record
 *  and stay valid until its iterator moves on. */
struct vms_socket_info {
	size_t sz;		/**< set by the caller */
	uint16_t family;	/**< AF_INET, AF_INET6, AF_UNIX, ... */
	uint16_t type;		/**< SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, ... */
	uint16_t protocol;	/**< IPPROTO_TCP, ... */
	uint8_t state;		/**< the kernel's state number (TCP_*) */
	const char *proto;	/**< "tcp", "tcp6", "udp", "udp6", "raw", "unix",
				 *   "netlink", "packet", "other" */
	const char *state_name;	/**< "LISTEN", "ESTABLISHED", "STREAM", ... */
	const char *local;	/**< "127.0.0.1:4444", "[::1]:22", a unix path */
	const char *remote;	/**< the peer, or "" */
	uint64_t inode;		/**< the socket's inode number */
	uint64_t sock;		/**< address of the struct sock */
	uint32_t netns;		/**< inode number of its network namespace,
				 *   as /proc/PID/ns/net names it */
};

struct vms_socket_iter;

/**
 * Walk every socket in the kernel's protocol hash tables, in every
 * network namespace: TCP (listening, established, TIME_WAIT, request),
 * UDP and raw, over IPv4 and IPv6, whether or not any process holds
 * them. UNIX, netlink and packet sockets are reached through processes'
 * files only (vms_file_socket()).
 */
VMS_API int vms_socket_iter_create(struct vms_session *s,
				   struct vms_socket_iter **ret);
/** 1 with @ret filled (strings valid until the next call), 0 at the end,
 *  or < 0. */
VMS_API int vms_socket_iter_next(struct vms_socket_iter *it,
				 struct vms_socket_info *ret);
VMS_API void vms_socket_iter_destroy(struct vms_socket_iter *it);

/** If @f is a socket, describe it; -ENOENT otherwise. */
VMS_API int vms_file_socket(struct vms_session *s, const struct vms_file *f,
			    struct vms_socket_info *ret);

/** One memory area of a process, as a /proc/PID/maps line shows it. */
struct vms_vma_info {
	size_t sz;		/**< set by the caller */
	uint64_t start, end;	/**< [start, end) */
	char perms[5];		/**< "rwxp" style */
	uint64_t offset;	/**< bytes into the file; 0 if anonymous */
	uint32_t dev_major, dev_minor; /**< the file's device */
	uint64_t inode;		/**< the file's inode; 0 if anonymous */
	const char *name;	/**< path, "[heap]", "[stack]", "[vdso]", ... or "" */
	uint64_t vma;		/**< address of the vm_area_struct */
};

struct vms_maps;

/**
 * The memory areas of process @p, in address order, from its maple tree
 * (Linux 6.1+). Kernel threads have none. Free with vms_maps_destroy().
 */
VMS_API int vms_maps_get(struct vms_session *s, const struct vms_proc *p,
			 struct vms_maps **ret);
VMS_API size_t vms_maps_count(const struct vms_maps *m);
/** Area @i; strings stay valid until vms_maps_destroy(). */
VMS_API int vms_maps_entry(const struct vms_maps *m, size_t i,
			   struct vms_vma_info *ret);
VMS_API void vms_maps_destroy(struct vms_maps *m);

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

struct vms_module;
struct vms_module_iter;

/** Walk the loaded modules, newest first (the order of /proc/modules). */
VMS_API int vms_module_iter_create(struct vms_session *s,
				   struct vms_module_iter **ret);
/** 1 and *@ret (valid until the next call), 0 at the end, or < 0. */
VMS_API int vms_module_iter_next(struct vms_module_iter *it,
				 const struct vms_module **ret);
VMS_API void vms_module_iter_destroy(struct vms_module_iter *it);

/* Strings are owned by the record. */
VMS_API const char *vms_module_name(const struct vms_module *m);
/** Bytes of memory, as /proc/modules counts them. */
VMS_API uint64_t vms_module_size(const struct vms_module *m);
VMS_API int32_t vms_module_refcount(const struct vms_module *m);
/** Modules using this one, "a,b," as /proc/modules prints, or "-". */
VMS_API const char *vms_module_users(const struct vms_module *m);
/** "Live", "Loading" or "Unloading". */
VMS_API const char *vms_module_state(const struct vms_module *m);
/** Address of the module's text. */
VMS_API uint64_t vms_module_base(const struct vms_module *m);
/** Taint letters in parentheses, e.g. "(OE)", or "". */
VMS_API const char *vms_module_taints(const struct vms_module *m);
/** Address of the struct module. */
VMS_API uint64_t vms_module_addr(const struct vms_module *m);

/* ------------------------------------------------------------------ */
/* System facts and mounts                                             */
/* ------------------------------------------------------------------ */

/** Facts about the running system. Strings are owned by the session. */
struct vms_sysinfo {
	size_t sz;		/**< set by the caller */
	const char *hostname;	/**< init's UTS namespace nodename */
	const char *cmdline;	/**< the kernel command line */
	int64_t boot_time;	/**< Unix seconds (/proc/stat btime) */
	uint64_t uptime_ns;	/**< since boot, as of the last tick */
};

/** Fill @ret (whose sz the caller set). */
VMS_API int vms_sysinfo_get(struct vms_session *s, struct vms_sysinfo *ret);

struct vms_mount;
struct vms_mount_iter;

/** Walk init's mount namespace, in /proc/mounts order. */
VMS_API int vms_mount_iter_create(struct vms_session *s,
				  struct vms_mount_iter **ret);
/** 1 and *@ret (valid until the next call), 0 at the end, or < 0. */
VMS_API int vms_mount_iter_next(struct vms_mount_iter *it,
				const struct vms_mount **ret);
VMS_API void vms_mount_iter_destroy(struct vms_mount_iter *it);
VMS_API const char *vms_mount_devname(const struct vms_mount *m);
/** The mount point, as /proc/mounts shows it (without escapes). */
VMS_API const char *vms_mount_path(const struct vms_mount *m);
VMS_API const char *vms_mount_fstype(const struct vms_mount *m);
VMS_API bool vms_mount_readonly(const struct vms_mount *m);
/** The generic mount options, as /proc/mounts begins them ("rw,nosuid,
 *  nodev,relatime"); filesystem-specific ones (size=...) are not
 *  included. Owned by @m. */
VMS_API const char *vms_mount_options(const struct vms_mount *m);
VMS_API int32_t vms_mount_id(const struct vms_mount *m);
/** Address of the struct mount. */
VMS_API uint64_t vms_mount_addr(const struct vms_mount *m);

/* ------------------------------------------------------------------ */
/* Files from the page cache                                           */
/* ------------------------------------------------------------------ */

struct vms_cfile;

/** What the guest's memory holds for one page of a file. */
enum vms_page_state {
	VMS_PAGE_RESIDENT = 0,	/**< in memory and in the dump */
	VMS_PAGE_HOLE = 1,	/**< never written, on a memory filesystem
				 *   (tmpfs, ramfs): reads as zeros */
	VMS_PAGE_SWAPPED = 2,	/**< a tmpfs page that is swapped out */
	VMS_PAGE_NOT_CACHED = 3, /**< a disk file's page not in the cache */
	VMS_PAGE_NOT_IN_DUMP = 4, /**< cached, but the dump omits the page */
};

/**
 * Open the regular file at absolute @path in init's mount namespace, as
 * the guest's page cache holds it. The path is resolved through the
 * guest's dentry cache and mounts, following symbolic links; a name the
 * guest never looked up cannot be found (-ENOENT).
 */
VMS_API int vms_cfile_open(struct vms_session *s, const char *path,
			   struct vms_cfile **ret);
VMS_API void vms_cfile_close(struct vms_cfile *f);

struct vms_cfile_info {
	size_t sz;		/**< set by the caller */
	uint64_t size;		/**< bytes (i_size) */
	uint64_t pages;		/**< 4096-byte pages that @size spans */
	uint64_t inode;		/**< inode number */
	uint32_t mode;		/**< i_mode */
	uint64_t inode_addr;	/**< address of the struct inode */
	const char *fstype;	/**< "tmpfs", "ext4", ...; owned by @f */
	const char *path;	/**< the path reached, links followed */
	bool holes_read_zero;	/**< missing pages are holes (memory fs) */
};

VMS_API int vms_cfile_info_get(const struct vms_cfile *f,
			       struct vms_cfile_info *ret);

/**
 * Page @index of the file (bytes index*4096 up to 4096 more) into @buf,
 * which holds 4096 bytes. Returns an enum vms_page_state (>= 0): @buf is
 * filled for VMS_PAGE_RESIDENT, zeroed for VMS_PAGE_HOLE, and untouched
 * otherwise. Bytes past the end of the file are whatever the page holds.
 */
VMS_API int vms_cfile_read_page(struct vms_cfile *f, uint64_t index,
				void *buf);

/* ------------------------------------------------------------------ */
/* Kernel log                                                          */
/* ------------------------------------------------------------------ */

struct vms_log_iter;

/** One record of the kernel log. */
struct vms_log_record {
	size_t sz;		/**< set by the caller */
	uint64_t seq;		/**< sequence number */
	uint64_t ts_nsec;	/**< time since boot, ns */
	const char *text;	/**< not NUL-terminated; valid until next */
	size_t text_len;	/**< bytes of @text */
	int level;		/**< syslog level 0-7, or -1 if unknown */
	int facility;		/**< syslog facility (0 kernel, 1 user...),
				 *   or -1 if unknown */
};

/** Walk the kernel log (the v5.10+ printk ring buffer), oldest first. */
VMS_API int vms_log_iter_create(struct vms_session *s,
				struct vms_log_iter **ret);
/** 1 with @ret filled, 0 at the end, or < 0. */
VMS_API int vms_log_iter_next(struct vms_log_iter *it,
			      struct vms_log_record *ret);
VMS_API void vms_log_iter_destroy(struct vms_log_iter *it);

/* ------------------------------------------------------------------ */
/* Intrusion-detection checks                                          */
/* ------------------------------------------------------------------ */

/** How serious a finding is; policies may change a check's default. */
enum vms_severity {
	VMS_SEV_INFO = 0,
	VMS_SEV_LOW = 1,
	VMS_SEV_MEDIUM = 2,
	VMS_SEV_HIGH = 3,
	VMS_SEV_CRITICAL = 4,
};

/** "info", "low", "medium", "high", "critical"; NULL if out of range. */
VMS_API const char *vms_severity_name(enum vms_severity sev);
/** Parse a severity name; -EINVAL if unknown. */
VMS_API int vms_severity_parse(const char *name, enum vms_severity *ret);

/** A registered check. Strings are static. */
struct vms_check_desc {
	size_t sz;		/**< set by the caller */
	const char *name;	/**< "syscall_table", "hidden_tasks", ... */
	const char *title;	/**< one line: what it compares */
	enum vms_severity severity; /**< default severity of its findings */
};

/** Number of registered checks. */
VMS_API size_t vms_check_count(void);
/** Check @i, 0 <= @i < vms_check_count(); -ERANGE past the end. */
VMS_API int vms_check_get(size_t i, struct vms_check_desc *ret);

/** One finding. Strings are valid during the callback only. */
struct vms_finding {
	size_t sz;		/**< set by the library */
	const char *check;	/**< the check's name */
	enum vms_severity severity; /**< this finding's (usually the check's) */
	const char *object;	/**< what is wrong: "sys_call_table[140]",
				 *   "pid 57", "module vmsight_rk" */
	const char *evidence;	/**< why, in one line */
	uint64_t addr;		/**< the object's kernel address, or 0 */
	uint64_t target;	/**< where it points (hooks), or 0 */
	const char *owner;	/**< what holds @target or the object: a
				 *   module or symbol name, or "" */
};

/** Called once per finding; a negative return stops the check with that
 * error. */
typedef int (*vms_finding_fn)(const struct vms_finding *f, void *arg);

/**
 * Run the check called @name on the session's kernel, calling @fn for
 * each finding. Returns the number of findings, or < 0 if the check
 * could not run (the session's error says why: a kernel without the
 * structures it compares, or guest data that cannot be read). A check
 * that cannot run is not a clean result.
 */
VMS_API int vms_check_run(struct vms_session *s, const char *name,
			  vms_finding_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Policies                                                            */
/* ------------------------------------------------------------------ */

/**
 * A policy: which checks run, their severities, what findings to ignore,
 * and what the guest is expected to have (modules, processes, listeners,
 * raw and packet socket users, promiscuous interfaces). The format is in
 * doc/policy.md.
 */
struct vms_policy;

/**
 * Parse @len bytes of policy text; @name names it in messages. On a bad
 * policy returns -EINVAL with "NAME:LINE: message" in @err (@errlen
 * bytes, may be 0). On success *@ret owns a new policy.
 */
VMS_API int vms_policy_parse(const char *text, size_t len, const char *name,
			     struct vms_policy **ret, char *err,
			     size_t errlen);
/** vms_policy_parse() of the file at @path (at most 1 MiB). */
VMS_API int vms_policy_load(const char *path, struct vms_policy **ret,
			    char *err, size_t errlen);
/** Free a policy. Accepts NULL. */
VMS_API void vms_policy_destroy(struct vms_policy *p);
/** Does the policy run check @check? (NULL policy: every check.) */
VMS_API bool vms_policy_runs(const struct vms_policy *p, const char *check);
/** The policy's fail-on severity; -ENOENT if it sets none. */
VMS_API int vms_policy_fail_on(const struct vms_policy *p,
			       enum vms_severity *ret);

/**
 * Apply @p to the session's checks from now on: severities, ignored
 * findings and allowlists. @p is borrowed: it must outlive its use; NULL
 * removes it.
 */
VMS_API void vms_session_set_policy(struct vms_session *s,
				    const struct vms_policy *p);
/**
 * The YARA rules file the policy names ("yara FILE"), with a relative
 * FILE resolved against the policy file's directory; NULL if none.
 * Valid while @p lives. The caller loads it with vms_yara_load().
 */
VMS_API const char *vms_policy_yara(const struct vms_policy *p);

/* ------------------------------------------------------------------ */
/* Baselines                                                           */
/* ------------------------------------------------------------------ */

/**
 * One measurement of a baseline. @kind and @object together name it and
 * are stable across runs on the same boot of a guest:
 *  - "kernel": "_text" (@detail: its address; another one means another
 *    boot or KASLR slide) and "banner" (@detail: linux_banner);
 *  - "text", "rodata": each 4 KiB page, "+0x1000" from _text, hashed
 *    with the kernel's run-time patch sites masked (doc/baseline.md);
 *  - "syscall_table", "idt": the tables, by symbol name;
 *  - "module": each module's code and read-only data, by name;
 *  - "process": each user process, "pid N (comm)";
 *  - "listener": each listening socket, "PROTO ADDRESS:PORT netns N";
 *  - "hook": each netfilter hook, ftrace_ops and kprobe, named by kernel
 *    symbols and offsets into modules, so the same hook has the same
 *    name on another boot: "netfilter ipv4 PRE_ROUTING netns N: fn",
 *    "ftrace_ops: fn", "kprobe at sym+0x0: pre module m+0x10, post none".
 * Strings are valid during the callback only.
 */
struct vms_measurement {
	size_t sz;		/**< set by the library */
	const char *kind;
	const char *object;
	uint64_t addr;		/**< where it is in the guest, or 0 */
	uint64_t size;		/**< bytes hashed, 0 for set members */
	const char *sha256;	/**< 64 hex digits; "" for set members;
				 *   "unreadable" for a page not mapped */
	const char *detail;	/**< context: the symbol at a page, ... */
};

/** Called once per measurement; a negative return stops with it. */
typedef int (*vms_measurement_fn)(const struct vms_measurement *m,
				  void *arg);

/** Measure the session's guest for a baseline: 0 or < 0. */
VMS_API int vms_measure(struct vms_session *s, vms_measurement_fn fn,
			void *arg);

/** A baseline read back from a file that vms_baseline_write() wrote. */
struct vms_baseline;

/**
 * Measure the session's guest and write the baseline to @f: JSON lines,
 * a first line naming the format and @source (which may be NULL), then
 * one line per measurement (doc/baseline.md). 0, or < 0: the session's
 * error says why the guest could not be measured, or -EIO when @f
 * could not be written.
 */
VMS_API int vms_baseline_write(struct vms_session *s, FILE *f,
			       const char *source);
/**
 * Parse @len bytes of a baseline; @name names it in messages. On a bad
 * baseline returns -EINVAL with "NAME:LINE: message" in @err (@errlen
 * bytes, may be 0). On success *@ret owns a new baseline.
 */
VMS_API int vms_baseline_parse(const char *text, size_t len,
			       const char *name, struct vms_baseline **ret,
			       char *err, size_t errlen);
/** vms_baseline_parse() of the file at @path, read line by line. */
VMS_API int vms_baseline_load(const char *path, struct vms_baseline **ret,
			      char *err, size_t errlen);
/** Free a baseline. Accepts NULL. */
VMS_API void vms_baseline_destroy(struct vms_baseline *b);
/** The number of measurements in @b. */
VMS_API size_t vms_baseline_count(const struct vms_baseline *b);

/** One difference between a baseline and the guest now. Strings are
 * valid during the callback only. */
struct vms_change {
	size_t sz;		/**< set by the library */
	const char *change;	/**< "added", "removed", "changed", "moved" */
	const char *kind;	/**< the measurement's kind and object */
	const char *object;
	const char *detail;	/**< what changed, in one line */
	uint64_t addr;		/**< where it is now (was, if removed) */
};

/** Called once per change; a negative return stops with it. */
typedef int (*vms_change_fn)(const struct vms_change *c, void *arg);

/**
 * Measure the session's guest again and compare it with @b, by kind and
 * object (the rules are in doc/baseline.md, "How diff compares"), in
 * key order. Returns the number of changes, or < 0.
 */
VMS_API int vms_baseline_diff(struct vms_session *s,
			      const struct vms_baseline *b, vms_change_fn fn,
			      void *arg);

/* ------------------------------------------------------------------ */
/* YARA rules                                                          */
/* ------------------------------------------------------------------ */

/** Compiled YARA rules, for the "yara" check. */
struct vms_yara;

/**
 * Load YARA rules from @path: rule source, compiled here (include
 * directives resolve relative to @path), or rules compiled by yarac of
 * the same YARA version. On error returns < 0 with "FILE:LINE: message"
 * (a rule that does not compile) or "FILE: reason" in @err (@errlen
 * bytes, may be 0).
 */
VMS_API int vms_yara_load(const char *path, struct vms_yara **ret,
			  char *err, size_t errlen);
/** Free rules. Accepts NULL. */
VMS_API void vms_yara_destroy(struct vms_yara *y);
/**
 * The rules the "yara" check scans with; without rules it reports
 * nothing. @y is borrowed: it must outlive its use; NULL removes it.
 */
VMS_API void vms_session_set_yara(struct vms_session *s,
				  const struct vms_yara *y);

/* ------------------------------------------------------------------ */
/* Events (live sources)                                               */
/* ------------------------------------------------------------------ */

/**
 * What a watch reports: bits for vms_watch_opts.events. Each is a
 * breakpoint at a kernel function found through kallsyms, planted over
 * QEMU's gdbstub; every hit stops the guest until vmsight has decoded it.
 */
enum vms_event_type {
	VMS_EVENT_EXEC = 1,	/**< a program replaces a process's image */
	VMS_EVENT_EXIT = 2,	/**< a thread ends (do_exit) */
	VMS_EVENT_MODULE = 4,	/**< a module is about to run its init */
	/** a system call (x64_sys_call, or do_syscall_64 before v6.9):
	 *  every call of every process stops the guest, so it needs a
	 *  pid or comm filter, and is not among the default events */
	VMS_EVENT_SYSCALL = 8,
	/** the guest was reset (a reboot): the watch has removed its
	 *  breakpoints and waits for the next kernel. Always reported. */
	VMS_EVENT_RESET = 16,
	/** after a reset, the watch found the kernel that now runs (its
	 *  KASLR slide and symbols resolved anew; the session's views and
	 *  checks read it from now on) and planted its breakpoints again.
	 *  Always reported. */
	VMS_EVENT_KERNEL = 32,
	/** the guest powered off, or QEMU was told to quit (@reason says
	 *  which): the watch has removed its breakpoints. A QEMU that keeps
	 *  the guest (-no-shutdown) may reset it: a RESET event follows,
	 *  and the watch goes on as after a reboot. A QEMU that quits ends
	 *  the watch: vms_watch_next() then fails with -ESRCH. Always
	 *  reported. */
	VMS_EVENT_SHUTDOWN = 64,
};

/** Options for vms_watch_start(); @sz as for vms_session_opts. */
struct vms_watch_opts {
	size_t sz;		/**< sizeof(struct vms_watch_opts) */
	unsigned int events;	/**< VMS_EVENT_* bits; 0: exec, exit, module */
	/** An existing gdbstub ("unix:PATH", "HOST:PORT"), or NULL: vmsight
	 *  starts QEMU's over the monitor on a private Unix socket (this
	 *  replaces a -gdb stub for the watch's duration) and stops it at
	 *  the end. */
	const char *gdb;
	/** At most this many events a second are decoded; hits beyond it
	 *  are counted in vms_event.dropped. 0: 1000. */
	uint32_t max_rate;
	/** Report only events of this process (thread group); 0: all. */
	int32_t pid;
	/** Report only events whose task's comm (or, for exec, the new
	 *  program's) is this; NULL: all. */
	const char *comm;
};

/** One event. Strings are NUL-terminated and cut to their buffer. A
 *  caller built with an older header (a smaller @sz, at least up to
 *  @args) gets the fields it knows of. */
struct vms_event {
	size_t sz;		/**< set by the caller: sizeof(*ret) */
	enum vms_event_type type;
	uint64_t time_ns;	/**< host CLOCK_REALTIME at the hit */
	uint32_t cpu;		/**< the guest CPU (Linux's number) */
	int32_t pid;		/**< thread group id */
	int32_t tid;		/**< thread id */
	int32_t ppid;		/**< parent's thread group id */
	uint32_t uid;		/**< real uid */
	char comm[64];		/**< exec: the new program's; else the task's */
	uint64_t dropped;	/**< hits the rate limit dropped before this */
	/* exec */
	char path[4096];	/**< the path exec was given */
	uint32_t argc;		/**< arguments the program gets */
	char argv[4096];	/**< the first of them, each NUL-terminated */
	size_t argv_len;	/**< bytes of @argv used */
	/* exit */
	int64_t code;		/**< do_exit's code: status << 8, or a signal */
	/* module */
	char module[64];	/**< its name */
	uint64_t module_addr;	/**< its struct module */
	uint64_t module_base;	/**< its core text */
	/* syscall */
	int64_t nr;		/**< the number (orig_ax) */
	char name[64];		/**< its entry's name without __x64_sys_, or "" */
	uint64_t args[6];	/**< di, si, dx, r10, r8, r9 as the caller set them */
	/* kernel */
	char release[65];	/**< its release, as uname -r prints it */
	uint64_t text_vaddr;	/**< _text: where this boot's KASLR put it */
	int64_t kaslr_slide;	/**< _text less 0xffffffff81000000 */
	/* shutdown */
	char reason[32];	/**< QEMU's: "guest-shutdown", "host-qmp-quit",
				 *   "host-signal", "guest-reset" (a reboot
				 *   under -no-reboot)...; "" if it gave none */
	/** module: not seen at its load but found in the module list just
	 *  after a VMS_EVENT_KERNEL: the new boot loaded it while the watch
	 *  looked for that kernel. Such events follow the KERNEL event,
	 *  oldest module first, with no task (pid, tid and ppid -1, comm
	 *  ""): its loader is not known. */
	bool listed;
};

struct vms_watch;

/**
 * Start watching a live session's guest: plant a breakpoint for each
 * event asked for and let the guest run. Breakpoints that an earlier,
 * killed watch left behind are removed first, and a guest it left
 * stopped at one runs again. A guest its owner stopped is refused.
 * Until vms_watch_stop(), the session may still read the guest (views,
 * checks, the kernel log; vms_session_refresh() first), but not pause
 * it.
 */
VMS_API int vms_watch_start(struct vms_session *s,
			    const struct vms_watch_opts *opts,
			    struct vms_watch **ret);
/**
 * Wait at most @timeout_ms (0: do not wait) for the next event: 1 with
 * *@ret filled, 0 if none came, -EINTR if a signal arrived (the watch is
 * intact: call again, or stop). Hits that the filters reject are
 * resumed without a decode and never returned.
 *
 * A guest that reboots gives VMS_EVENT_RESET, then, once its new kernel
 * runs, VMS_EVENT_KERNEL; between the two the session's kernel model is
 * the old boot's and must not be read. The new kernel replaces the
 * session's (handles from the old one must be gone by then). The
 * modules that boot loaded before the KERNEL event follow it, each a
 * VMS_EVENT_MODULE with @listed set (unless a pid or comm filter is
 * set: they have no task). A guest
 * that powers off gives VMS_EVENT_SHUTDOWN, after which the same holds
 * until a VMS_EVENT_KERNEL; if QEMU quits, the next call fails with
 * -ESRCH ("the guest powered off and QEMU is gone"), as it does when
 * QEMU dies without a word.
 */
VMS_API int vms_watch_next(struct vms_watch *w, int timeout_ms,
			   struct vms_event *ret);
/**
 * Remove every breakpoint, let the guest run as it ran before (a guest
 * its owner stopped meanwhile stays stopped), close the stub if vmsight
 * started it, and free @w. Accepts NULL. A non-zero return says the
 * cleanup could not be confirmed; vms_errmsg() says what.
 */
VMS_API int vms_watch_stop(struct vms_watch *w);

#ifdef __cplusplus
}
#endif

#endif /* VMSIGHT_VMSIGHT_H */
