/* SPDX-License-Identifier: MIT */
/*
 * Writing a source out as an ELF core, the format of QEMU's
 * dump-guest-memory (paging=false), so that vmsight, crash, drgn and gdb
 * read it offline.
 *
 *   ELF header | PT_NOTE data | page-aligned memory runs | program headers
 *
 * Each run of memory the source holds becomes one PT_LOAD by physical
 * address (p_vaddr 0, as QEMU writes it). The memory is written through
 * vms_source_scan(), so the pages a dump lacks (a kdump's excluded
 * pages) stay out of the core rather than turning into zeros; the
 * number of runs is known only at the end, which is why the program
 * headers follow the data (e_phoff may point anywhere). Pages that are
 * all zeros are not written: the file gets holes instead, so a mostly
 * idle guest's core takes little disk.
 *
 * Notes, per CPU as QEMU writes them: "CORE" NT_PRSTATUS (the general
 * registers, for gdb and crash) and "QEMU" QEMUCPUState (control
 * registers too, which vmsight's reader takes); then the source's
 * VMCOREINFO, if it has one.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

#define LAYER "access"
#define CHUNK (1u << 20)
#define PRSTATUS_SIZE 336	/* struct elf_prstatus on x86-64 */
#define PRSTATUS_REGS 112	/* its pr_reg */
#define MAX_RUNS (1u << 24)

struct writer {
	struct vms_source *src;
	int fd;
	uint64_t off;		/* next file offset for memory */
	Elf64_Phdr *ph;		/* PT_NOTE, then the runs */
	size_t nph, cap;
	uint64_t done, total;	/* bytes, for progress */
	int err;
};

static int put(struct writer *w, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(w->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vms_err_at(w->src->ctx, -EIO, LAYER, off,
					  "cannot write the core at offset "
					  "%#llx: %s", (unsigned long long)off,
					  n ? strerror(errno) : "no space");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static bool zero_page(const uint8_t *p, size_t len)
{
	static const uint8_t zeros[VMS_PAGE_SIZE];

	return !memcmp(p, zeros, len);
}

/* A chunk of memory: appended to the current run if it continues it. */
static int chunk(uint64_t paddr, const uint8_t *data, size_t len, void *arg)
{
	struct writer *w = arg;
	Elf64_Phdr *last = w->nph > 1 ? &w->ph[w->nph - 1] : NULL;
	int err;

	if (!last || last->p_paddr + last->p_filesz != paddr) {
		if ((err = vms_grow(w->src->ctx, &w->ph, &w->cap, w->nph,
				    sizeof(*w->ph), 64, MAX_RUNS)))
			return err;
		w->off = (w->off + VMS_PAGE_SIZE - 1) & ~(uint64_t)
			 (VMS_PAGE_SIZE - 1);
		last = &w->ph[w->nph++];
		*last = (Elf64_Phdr){ .p_type = PT_LOAD,
				      .p_flags = PF_R | PF_W | PF_X,
				      .p_offset = w->off, .p_paddr = paddr,
				      .p_align = 0 };
	}
	for (size_t o = 0; o < len; o += VMS_PAGE_SIZE) {
		size_t n = VMS_MIN((size_t)VMS_PAGE_SIZE, len - o);
		if (!zero_page(data + o, n) &&
		    (err = put(w, data + o, n, w->off + o)))
			return err;
	}
	w->off += len;
	last->p_filesz += len;
	last->p_memsz += len;
	w->done += len;
	vms_progress(w->src->ctx, w->done, w->total, "snapshot");
	return 0;
}

/* One note: header, name and descriptor, each padded to 4 bytes. */
static uint8_t *note(uint8_t *p, const char *name, uint32_t type,
		     const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	Elf64_Nhdr h = { namesz, descsz, type };

	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memset(p, 0, (namesz + 3) & ~3u);
	memcpy(p, name, namesz);
	p += (namesz + 3) & ~3u;
	memset(p, 0, (descsz + 3) & ~3u);
	memcpy(p, desc, descsz);
	return p + ((descsz + 3) & ~3u);
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* struct elf_prstatus: pr_pid at 32, pr_reg (struct user_regs_struct)
 * at 112 in the order r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx
 * rsi rdi orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs. */
static void prstatus(uint8_t *d, const struct vms_cpu *c)
{
	static const int order[] = { VMS_R15, VMS_R14, VMS_R13, VMS_R12,
				     VMS_RBP, VMS_RBX, VMS_R11, VMS_R10,
				     VMS_R9,  VMS_R8,  VMS_RAX, VMS_RCX,
				     VMS_RDX, VMS_RSI, VMS_RDI };
	uint8_t *r = d + PRSTATUS_REGS;

	memset(d, 0, PRSTATUS_SIZE);
	le64(d + 32, (uint64_t)c->index + 1); /* pr_pid (and pr_ppid 0):
					       * QEMU writes cpu + 1 */
	for (size_t i = 0; i < VMS_ARRAY_SIZE(order); i++)
		le64(r + 8 * i, c->gpr[order[i]]);
	le64(r + 8 * 15, ~0ull); /* orig_rax */
	le64(r + 8 * 16, c->rip);
	le64(r + 8 * 17, c->cs);
	le64(r + 8 * 18, c->rflags);
	le64(r + 8 * 19, c->gpr[VMS_RSP]);
	le64(r + 8 * 20, c->ss);
	le64(r + 8 * 21, c->fs_base);
	le64(r + 8 * 22, c->gs_base);
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* QEMUCPUState (layout in source.h). */
static void qemu_state(uint8_t *d, const struct vms_cpu *c)
{
	uint8_t *seg = d + VMS_QEMU_CPU_SEG;

	memset(d, 0, VMS_QEMU_CPU_SIZE);
	d[0] = 1;					/* version */
	le16(d + 4, VMS_QEMU_CPU_SIZE);			/* size */
	for (int r = 0; r < VMS_NGPR; r++)
		le64(d + VMS_QEMU_CPU_GPR + 8 * r, c->gpr[r]);
	le64(d + VMS_QEMU_CPU_RIP, c->rip);
	le64(d + VMS_QEMU_CPU_RFLAGS, c->rflags);
	le16(seg + VMS_QEMU_SEG_SIZE * VMS_QEMU_CS, c->cs);
	le16(seg + VMS_QEMU_SEG_SIZE * VMS_QEMU_SS, c->ss);
	le64(seg + VMS_QEMU_SEG_SIZE * VMS_QEMU_FS + VMS_QEMU_SEG_BASE,
	     c->fs_base);
	le64(seg + VMS_QEMU_SEG_SIZE * VMS_QEMU_GS + VMS_QEMU_SEG_BASE,
	     c->gs_base);
	le64(d + VMS_QEMU_CPU_CR0, c->cr0);
	le64(d + VMS_QEMU_CPU_CR0 + 2 * 8, c->cr2);
	le64(d + VMS_QEMU_CPU_CR0 + 3 * 8, c->cr3);
	le64(d + VMS_QEMU_CPU_CR0 + 4 * 8, c->cr4);
	le64(d + VMS_QEMU_CPU_KGS, c->kernel_gs_base);
}

/* The PT_NOTE contents into *@ret (malloc'd), *@len bytes. */
static int notes(struct vms_source *src, uint8_t **ret, size_t *len)
{
	size_t vlen = src->vmcoreinfo ? strlen(src->vmcoreinfo) : 0;
	size_t cap = src->ncpus * (2 * 24 + PRSTATUS_SIZE + VMS_QEMU_CPU_SIZE) +
		     24 + vlen + 4;
	uint8_t *buf = malloc(cap), *p = buf;
	uint8_t desc[VMS_QEMU_CPU_SIZE];

	if (!buf)
		return -ENOMEM;
	for (unsigned int i = 0; i < src->ncpus; i++) {
		prstatus(desc, &src->cpus[i]);
		p = note(p, "CORE", NT_PRSTATUS, desc, PRSTATUS_SIZE);
		qemu_state(desc, &src->cpus[i]);
		p = note(p, "QEMU", 0, desc, VMS_QEMU_CPU_SIZE);
	}
	if (vlen)
		p = note(p, "VMCOREINFO", 0, src->vmcoreinfo, (uint32_t)vlen);
	*ret = buf;
	*len = (size_t)(p - buf);
	return 0;
}

int vms_source_write_elf(struct vms_source *src, int fd, uint64_t *ret_size)
{
	struct writer w = { .src = src, .fd = fd };
	Elf64_Ehdr eh = { 0 };
	uint8_t *nt = NULL;
	size_t ntlen = 0;
	struct stat st;
	uint64_t phoff;
	int err;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return vms_err(src->ctx, -EINVAL, LAYER,
			       "a core is written to a regular file");
	if (ftruncate(fd, 0))
		return vms_err(src->ctx, -EIO, LAYER,
			       "cannot truncate the core file: %s",
			       strerror(errno));
	for (size_t i = 0; i < src->nsegs; i++)
		w.total += src->segs[i].size;
	if (src->ncpus > VMS_MAX_CPUS)
		return -EINVAL;
	if ((err = notes(src, &nt, &ntlen)) ||
	    (err = vms_grow(src->ctx, &w.ph, &w.cap, 0, sizeof(*w.ph), 64,
			    MAX_RUNS)))
		goto out;
	w.ph[w.nph++] = (Elf64_Phdr){ .p_type = PT_NOTE,
				      .p_offset = sizeof(eh),
				      .p_filesz = ntlen, .p_memsz = ntlen };
	if ((err = put(&w, nt, ntlen, sizeof(eh))))
		goto out;
	w.off = sizeof(eh) + ntlen;
	if ((err = vms_source_scan(src, CHUNK, 0, chunk, &w)))
		goto out;
	if (w.nph > 0xfffe) {
		err = vms_err(src->ctx, -E2BIG, LAYER,
			      "the memory falls in %zu runs, more than an "
			      "ELF core's 65534 program headers", w.nph - 1);
		goto out;
	}
	phoff = (w.off + 7) & ~7ull;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = phoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)w.nph;
	if ((err = put(&w, w.ph, w.nph * sizeof(*w.ph), phoff)) ||
	    (err = put(&w, &eh, sizeof(eh), 0)))
		goto out;
	if (ret_size)
		*ret_size = phoff + w.nph * sizeof(*w.ph);
out:
	free(nt);
	free(w.ph);
	return err;
}
