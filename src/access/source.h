/* SPDX-License-Identifier: MIT */
/*
 * access: a memory dump as a set of guest-physical segments.
 *
 * A driver (raw, elf, kdump, lime) parses its headers and fills the
 * segment table; everything above reads guest-physical memory through
 * vms_source_read() and never sees a file offset. Segments that the
 * file holds verbatim point straight into the read-only file mapping
 * (zero copy); compressed pages are produced by the driver's page hook.
 * Drivers must bound every length they take from the file against the
 * file size before use.
 */
#ifndef VMS_ACCESS_SOURCE_H
#define VMS_ACCESS_SOURCE_H

#include "../core/core.h"

#define VMS_PAGE_SIZE 4096u

enum vms_seg_kind {
	VMS_SEG_MAPPED, /* bytes at @ptr */
	VMS_SEG_ZERO,	/* reads as zeros (ELF p_memsz beyond p_filesz) */
	VMS_SEG_PAGED,	/* page by page through the driver's read_page */
	VMS_SEG_REMOTE,	/* through the driver's read_remote at @raddr, on
			 * every read: live memory, so never cached */
};

struct vms_seg {
	uint64_t start;		/* first guest-physical address */
	uint64_t size;		/* bytes */
	enum vms_seg_kind kind;	/* how the bytes are produced */
	const uint8_t *ptr;	/* VMS_SEG_MAPPED: bytes of @start */
	uint64_t raddr;		/* VMS_SEG_REMOTE: the driver's address of
				 * @start (QEMU's virtual address) */
};

/* A vCPU's registers: from a dump's notes, or read from a live QEMU. */
enum { VMS_RAX, VMS_RBX, VMS_RCX, VMS_RDX, VMS_RSI, VMS_RDI, VMS_RSP,
       VMS_RBP, VMS_R8, VMS_R9, VMS_R10, VMS_R11, VMS_R12, VMS_R13, VMS_R14,
       VMS_R15, VMS_NGPR };

struct vms_cpu {
	uint32_t index;		/* QEMU's CPU number */
	uint64_t gpr[VMS_NGPR];	/* in QEMU's order (VMS_RAX...) */
	uint64_t rip, rflags;
	uint16_t cs, ss;	/* selectors; CS & 3 is the privilege level */
	uint64_t fs_base, gs_base, kernel_gs_base;
	uint64_t cr0, cr2;
	uint64_t cr3;		/* page-table root, with PCID/flag bits */
	uint64_t cr4;		/* bit 12: LA57 (5-level paging) */
	uint64_t efer;
	bool has_kernel_gs_base; /* QEMU's monitor does not show it */
	bool has_efer;		/* QEMU's ELF notes do not hold it */
};

/*
 * The descriptor of QEMU's "QEMU" ELF note, QEMUCPUState (version 1, in
 * target/i386/arch_dump.c, unchanged since QEMU 1.5): u32 version, u32
 * size, 16 GPRs in VMS_RAX order, rip, rflags, 10 segment records (cs
 * ds es fs gs ss ldt tr gdt idt: u32 selector, limit, flags, pad; u64
 * base), cr[5], kernel_gs_base. Read by vms_source_parse_elf_notes(),
 * written by vms_source_write_elf().
 */
#define VMS_QEMU_CPU_GPR 8
#define VMS_QEMU_CPU_RIP 136
#define VMS_QEMU_CPU_RFLAGS 144
#define VMS_QEMU_CPU_SEG 152	/* segment record 0 */
#define VMS_QEMU_SEG_SIZE 24	/* bytes per segment record */
#define VMS_QEMU_SEG_BASE 16	/* offset of its base */
enum { VMS_QEMU_CS, VMS_QEMU_DS, VMS_QEMU_ES, VMS_QEMU_FS, VMS_QEMU_GS,
       VMS_QEMU_SS };
#define VMS_QEMU_CPU_CR0 392	/* cr[0] .. cr[4] */
#define VMS_QEMU_CPU_KGS 432
#define VMS_QEMU_CPU_SIZE 440

#define VMS_MAX_CPUS 256

struct vms_source;

/* QEMU's account of the guest's life (its QMP events). */
struct vms_lifecycle {
	uint64_t resets;	/* RESET: a reboot, or system_reset */
	uint64_t shutdowns;	/* SHUTDOWN: powered off, or QEMU told to quit */
	char reason[32];	/* the last SHUTDOWN's reason ("guest-shutdown",
				 * "host-qmp-quit", ...; QEMU 4.0+) */
};

struct vms_source_ops {
	/* Produce page @pfn of a VMS_SEG_PAGED segment into @page
	 * (VMS_PAGE_SIZE bytes). -EFAULT if the dump does not hold it. */
	int (*read_page)(struct vms_source *src, uint64_t pfn, uint8_t *page);
	/* Read @len bytes at the driver's address @raddr of a
	 * VMS_SEG_REMOTE segment; -EFAULT if any is missing. */
	int (*read_remote)(struct vms_source *src, uint64_t raddr, void *buf,
			   size_t len);
	void (*close)(struct vms_source *src);
	/* Live sources: stop the guest (*@was_running: whether it ran),
	 * let it run again, and the same from a signal handler (only
	 * async-signal-safe calls, no reply awaited). */
	int (*pause)(struct vms_source *src, bool *was_running);
	int (*resume)(struct vms_source *src);
	void (*resume_async)(struct vms_source *src);
	/* Live sources: read the vCPUs' registers now into @cpus. */
	int (*read_cpus)(struct vms_source *src);
	/* Live sources: QEMU's run state ("running", "paused", "debug",
	 * ... as query-status names it) into @buf. */
	int (*run_state)(struct vms_source *src, char *buf, size_t len);
	/* Live sources: a human-monitor command's output into *@ret
	 * (malloc'd, at most @max bytes). */
	int (*hmp)(struct vms_source *src, const char *cmdline, size_t max,
		   char **ret);
	/* Live sources: what QEMU has said of the guest's life since the
	 * source was opened, without waiting. *@ret is filled even when
	 * the call fails (QEMU closed the connection): what it said last
	 * comes before it went. */
	int (*lifecycle)(struct vms_source *src, struct vms_lifecycle *ret);
};

#define VMS_PAGE_CACHE_BITS 5
#define VMS_PAGE_CACHE (1u << VMS_PAGE_CACHE_BITS) /* expanded pages kept */

struct vms_source {
	struct vms_ctx *ctx;		/* error record and log */
	const char *format;		/* "raw", "elf", ... (static string) */
	const char *path;		/* as opened, for messages */
	int fd;				/* the dump file */
	const uint8_t *map;		/* the whole file, read-only */
	uint64_t map_len;		/* its size */
	const struct vms_source_ops *ops; /* driver hooks, may be NULL */
	void *priv;			/* driver state */

	struct vms_seg *segs;		/* sorted by start, disjoint */
	size_t nsegs;			/* entries in @segs */
	size_t segs_cap;		/* allocated entries */

	char *vmcoreinfo;		/* NUL-terminated VMCOREINFO, or NULL */
	struct vms_cpu cpus[VMS_MAX_CPUS]; /* from dump notes */
	unsigned int ncpus;		/* valid entries in @cpus */

	/* Pages of VMS_SEG_PAGED segments as last expanded, by frame
	 * (vms_source_read): one translation walks 4 or 5 page-table
	 * pages, which a single cached page would thrash, expanding each
	 * again on every step. */
	struct vms_page_slot {
		uint64_t pfn;
		bool valid;
		uint8_t page[VMS_PAGE_SIZE];
	} pcache[VMS_PAGE_CACHE];
};

/* Open @path, detect its format from its content, parse it. */
int vms_source_open(struct vms_ctx *ctx, const char *path,
		    struct vms_source **ret);
void vms_source_close(struct vms_source *src);

/* Read guest-physical memory; -EFAULT names the first missing address. */
int vms_source_read(struct vms_source *src, uint64_t paddr, void *buf,
		    size_t len);

/* A direct pointer to @len bytes at @paddr if one segment maps them all
 * verbatim, else NULL. Valid while the source is open. */
const uint8_t *vms_source_ptr(struct vms_source *src, uint64_t paddr,
			      size_t len);

/*
 * Visit all guest-physical memory in chunks of at most @chunk bytes; each
 * chunk but a segment's first starts @overlap bytes before the previous
 * one ended, so that a pattern of up to @overlap + 1 bytes is never
 * split. Pages a dump does not hold are skipped. @fn returns non-zero to
 * stop the walk; that value is returned.
 */
typedef int (*vms_chunk_fn)(uint64_t paddr, const uint8_t *data, size_t len,
			    void *arg);
int vms_source_scan(struct vms_source *src, size_t chunk, size_t overlap,
		    vms_chunk_fn fn, void *arg);

/* The segment holding @paddr: its bounds and kind; -EFAULT if none. */
int vms_source_seg_of(struct vms_source *src, uint64_t paddr,
		      const struct vms_seg **ret);

/* Registers read again from a live guest (a dump's stay as they are). */
int vms_source_read_cpus(struct vms_source *src);

/* Write the memory, registers and VMCOREINFO as an ELF core to the
 * regular file @fd (elfwrite.c); *@ret_size: its size in bytes. */
int vms_source_write_elf(struct vms_source *src, int fd, uint64_t *ret_size);

/* For drivers. */
int vms_source_add_seg(struct vms_source *src, uint64_t start, uint64_t size,
		       enum vms_seg_kind kind, const uint8_t *ptr);
/* A VMS_SEG_REMOTE segment whose first byte is at driver address @raddr. */
int vms_source_add_remote(struct vms_source *src, uint64_t start,
			  uint64_t size, uint64_t raddr);
/* Sort the segments and make them disjoint (earlier added wins where
 * two overlap, as in /proc/vmcore's duplicate kernel-text segment). */
int vms_source_finish_segs(struct vms_source *src);
void vms_source_parse_elf_notes(struct vms_source *src, const uint8_t *p,
				uint64_t len);

/* A running QEMU found through its QMP socket at @qmp_path: its RAM
 * mapped from a memory-backend-file, or read from QEMU's own memory
 * (qemu.c). */
int vms_qemu_open(struct vms_ctx *ctx, const char *qmp_path,
		  struct vms_source **ret);
/* Parse QEMU's "info registers -a" into @cpus (at most @max); the
 * number of CPUs into *@n. -EBADMSG if a CPU lacks RIP, CR3 or CS. */
int vms_qemu_parse_registers(const char *text, struct vms_cpu *cpus,
			     unsigned int max, unsigned int *n);

int vms_raw_open(struct vms_source *src);
int vms_elf_open(struct vms_source *src);
int vms_kdump_open(struct vms_source *src, bool flattened);
int vms_lime_open(struct vms_source *src);

bool vms_elf_probe(const uint8_t *p, uint64_t len);
bool vms_kdump_probe(const uint8_t *p, uint64_t len);
bool vms_kdump_flat_probe(const uint8_t *p, uint64_t len);
bool vms_lime_probe(const uint8_t *p, uint64_t len);

#endif /* VMS_ACCESS_SOURCE_H */
