/* SPDX-License-Identifier: MIT */
/*
 * ELF cores: QEMU's dump-guest-memory (paging=false) and the kernel's
 * /proc/vmcore. Guest-physical memory is the PT_LOAD segments by
 * p_paddr; p_memsz beyond p_filesz reads as zeros. PT_NOTE segments
 * carry VMCOREINFO and QEMU's per-CPU state (CR3, CR4).
 *
 * /proc/vmcore repeats the kernel text in an extra PT_LOAD that overlaps
 * RAM; the memory map keeps one copy (vms_source_finish_segs()).
 */
#include <elf.h>
#include <string.h>

#include "source.h"


bool vms_elf_probe(const uint8_t *p, uint64_t len)
{
	/* The magic alone: a file cut inside the ELF header is then told
	 * that it is truncated, not that it is no dump. */
	return len >= SELFMAG && !memcmp(p, ELFMAG, SELFMAG);
}

int vms_elf_open(struct vms_source *src)
{
	const uint8_t *m = src->map;
	Elf64_Ehdr eh;
	uint64_t phend;

	if (src->map_len < sizeof(eh))
		return vms_err(src->ctx, -EBADMSG, "access",
			       "%s: ELF header truncated (%llu bytes)",
			       src->path, (unsigned long long)src->map_len);
	memcpy(&eh, m, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return vms_err(src->ctx, -ENOTSUP, "access",
			       "%s: only little-endian ELF64 cores are "
			       "supported", src->path);
	if (eh.e_type != ET_CORE)
		return vms_err(src->ctx, -ENOTSUP, "access",
			       "%s: an ELF file but not a core dump "
			       "(e_type %u); a vmlinux is not a memory dump",
			       src->path, eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return vms_err(src->ctx, -ENOTSUP, "access",
			       "%s: ELF core for machine %u; only x86-64 is "
			       "supported", src->path, eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    vms_add_overflows(eh.e_phoff,
			      (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr),
			      &phend) ||
	    phend > src->map_len)
		return vms_err_at(src->ctx, -EBADMSG, "access", eh.e_phoff,
				  "%s: ELF program headers (%u at offset "
				  "%#llx) overrun the file: truncated dump?",
				  src->path, eh.e_phnum,
				  (unsigned long long)eh.e_phoff);

	/* The largest PT_LOAD so far, by physical range. */
	uint64_t big_lo = 0, big_hi = 0;

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t fend;
		int err;

		memcpy(&ph, m + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (vms_add_overflows(ph.p_offset, ph.p_filesz, &fend) ||
		    fend > src->map_len)
			return vms_err_at(src->ctx, -EBADMSG, "access",
					  ph.p_offset,
					  "%s: ELF segment %u (offset %#llx, "
					  "%#llx bytes) runs past the end of "
					  "the file (%#llx bytes): truncated "
					  "dump?",
					  src->path, i,
					  (unsigned long long)ph.p_offset,
					  (unsigned long long)ph.p_filesz,
					  (unsigned long long)src->map_len);
		if (ph.p_type == PT_NOTE) {
			vms_source_parse_elf_notes(src, m + ph.p_offset,
						   ph.p_filesz);
			continue;
		}
		if (ph.p_memsz < ph.p_filesz)
			return vms_err_at(src->ctx, -EBADMSG, "access",
					  ph.p_offset,
					  "%s: ELF segment %u has p_memsz < "
					  "p_filesz", src->path, i);
		/* A dump of the guest's virtual mappings (QEMU's
		 * dump-guest-memory with paging=true) has a PT_LOAD for every
		 * alias of every page, some 66,000 for 512 MiB, after those
		 * of the direct map. One inside a range added before adds
		 * nothing (the earlier wins, vms_source_finish_segs), and is
		 * dropped here rather than sorted and trimmed away. */
		if (ph.p_paddr >= big_lo && ph.p_memsz <= big_hi - big_lo &&
		    ph.p_paddr - big_lo <= big_hi - big_lo - ph.p_memsz)
			continue;
		if (ph.p_filesz == ph.p_memsz &&
		    ph.p_memsz > big_hi - big_lo &&
		    !vms_add_overflows(ph.p_paddr, ph.p_memsz, &fend)) {
			big_lo = ph.p_paddr;
			big_hi = fend;
		}
		err = vms_source_add_seg(src, ph.p_paddr, ph.p_filesz,
					 VMS_SEG_MAPPED, m + ph.p_offset);
		if (!err)
			err = vms_source_add_seg(src,
						 ph.p_paddr + ph.p_filesz,
						 ph.p_memsz - ph.p_filesz,
						 VMS_SEG_ZERO, NULL);
		if (err)
			return err;
	}
	return 0;
}
