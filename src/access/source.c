/* SPDX-License-Identifier: MIT */
/*
 * The source object: opening and mapping a dump, detecting its format
 * from content, and the guest-physical memory map shared by all drivers
 * (lookup, reads across segments, holes, whole-memory scans).
 *
 * Nothing here trusts the file: drivers add segments only after checking
 * them against the file size, and this file checks them again for
 * overlap and overflow.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

#define LAYER "access"

int vms_source_add_seg(struct vms_source *src, uint64_t start, uint64_t size,
		       enum vms_seg_kind kind, const uint8_t *ptr)
{
	uint64_t end;
	int err;

	if (!size)
		return 0;
	if (vms_add_overflows(start, size, &end))
		return vms_err_at(src->ctx, -EBADMSG, LAYER, start,
				  "%s: segment at physical %#llx of %#llx bytes "
				  "wraps the address space",
				  src->path, (unsigned long long)start,
				  (unsigned long long)size);
	if ((err = vms_grow(src->ctx, &src->segs, &src->segs_cap, src->nsegs,
			    sizeof(*src->segs), 16, 1u << 24)))
		return err != -E2BIG ? err
				     : vms_err(src->ctx, -E2BIG, LAYER,
					       "%s: more than %u memory "
					       "segments", src->path, 1u << 24);
	src->segs[src->nsegs++] = (struct vms_seg){
		.start = start, .size = size, .kind = kind, .ptr = ptr };
	return 0;
}

int vms_source_add_remote(struct vms_source *src, uint64_t start,
			  uint64_t size, uint64_t raddr)
{
	int err = vms_source_add_seg(src, start, size, VMS_SEG_REMOTE, NULL);

	if (!err && size)
		src->segs[src->nsegs - 1].raddr = raddr;
	return err;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct vms_seg *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int vms_source_finish_segs(struct vms_source *src)
{
	size_t out = 0;

	/* A stable order keeps "earlier added wins": qsort is not stable,
	 * so break ties by trimming below, which keeps the first kept. */
	vms_qsort(src->segs, src->nsegs, sizeof(*src->segs), seg_cmp);
	for (size_t i = 0; i < src->nsegs; i++) {
		struct vms_seg s = src->segs[i];
		if (out) {
			struct vms_seg *prev = &src->segs[out - 1];
			uint64_t pend = prev->start + prev->size;
			if (s.start < pend) {
				uint64_t cut = pend - s.start;
				if (cut >= s.size)
					continue;
				s.start += cut;
				s.size -= cut;
				if (s.kind == VMS_SEG_MAPPED)
					s.ptr += cut;
				s.raddr += cut;
			}
		}
		src->segs[out++] = s;
	}
	src->nsegs = out;
	if (!out)
		return vms_err(src->ctx, -EBADMSG, LAYER,
			       "%s: the dump holds no memory", src->path);
	return 0;
}

/* The segment holding @paddr, or the first one after it (NULL if none). */
static const struct vms_seg *seg_find(const struct vms_source *src,
				      uint64_t paddr, bool *inside)
{
	size_t lo = 0, hi = src->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vms_seg *s = &src->segs[mid];
		if (paddr < s->start)
			hi = mid;
		else if (paddr - s->start >= s->size)
			lo = mid + 1;
		else {
			*inside = true;
			return s;
		}
	}
	*inside = false;
	return lo < src->nsegs ? &src->segs[lo] : NULL;
}

int vms_source_seg_of(struct vms_source *src, uint64_t paddr,
		      const struct vms_seg **ret)
{
	bool inside;
	const struct vms_seg *s = seg_find(src, paddr, &inside);

	if (!inside)
		return -EFAULT;
	*ret = s;
	return 0;
}

static int read_paged(struct vms_source *src, uint64_t paddr, uint8_t *buf,
		      size_t len)
{
	while (len) {
		uint64_t pfn = paddr / VMS_PAGE_SIZE;
		size_t off = paddr % VMS_PAGE_SIZE;
		size_t n = VMS_MIN(len, VMS_PAGE_SIZE - off);

		struct vms_page_slot *c = &src->pcache[
			(pfn * 0x9e3779b97f4a7c15ull) >>
			(64 - VMS_PAGE_CACHE_BITS)];

		if (!c->valid || c->pfn != pfn) {
			int err = src->ops->read_page(src, pfn, c->page);
			if (err) {
				c->valid = false;
				return err;
			}
			c->pfn = pfn;
			c->valid = true;
		}
		memcpy(buf, c->page + off, n);
		buf += n;
		paddr += n;
		len -= n;
	}
	return 0;
}

int vms_source_read(struct vms_source *src, uint64_t paddr, void *buf,
		    size_t len)
{
	uint8_t *out = buf;

	while (len) {
		bool inside;
		const struct vms_seg *s = seg_find(src, paddr, &inside);
		uint64_t off, n;
		int err = 0;

		if (!inside)
			return vms_err_at(src->ctx, -EFAULT, LAYER, paddr,
					  "physical address %#llx is not in "
					  "the dump",
					  (unsigned long long)paddr);
		off = paddr - s->start;
		n = VMS_MIN((uint64_t)len, s->size - off);
		switch (s->kind) {
		case VMS_SEG_MAPPED:
			memcpy(out, s->ptr + off, n);
			break;
		case VMS_SEG_ZERO:
			memset(out, 0, n);
			break;
		case VMS_SEG_PAGED:
			err = read_paged(src, paddr, out, n);
			break;
		case VMS_SEG_REMOTE:
			err = src->ops->read_remote(src, s->raddr + off, out, n);
			if (err == -EFAULT)
				err = vms_err_at(src->ctx, -EFAULT, LAYER, paddr,
						 "physical address %#llx: QEMU "
						 "no longer holds it",
						 (unsigned long long)paddr);
			break;
		}
		if (err)
			return err;
		out += n;
		paddr += n;
		len -= n;
	}
	return 0;
}

const uint8_t *vms_source_ptr(struct vms_source *src, uint64_t paddr,
			      size_t len)
{
	bool inside;
	const struct vms_seg *s = seg_find(src, paddr, &inside);

	if (!inside || s->kind != VMS_SEG_MAPPED ||
	    len > s->size - (paddr - s->start))
		return NULL;
	return s->ptr + (paddr - s->start);
}

static int scan_paged(struct vms_source *src, const struct vms_seg *s,
		      size_t chunk, size_t overlap, vms_chunk_fn fn, void *arg)
{
	uint8_t *buf;
	size_t fill = 0;       /* bytes valid in buf */
	uint64_t base = 0;     /* physical address of buf[0] */
	int ret = 0;

	chunk = VMS_MAX(chunk, overlap + VMS_PAGE_SIZE);
	buf = malloc(chunk + VMS_PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	for (uint64_t pa = s->start; pa < s->start + s->size;
	     pa += VMS_PAGE_SIZE) {
		if (fill && base + fill != pa) {
			/* A page the dump lacks: flush, restart. */
			ret = fn(base, buf, fill, arg);
			if (ret)
				goto out;
			fill = 0;
		}
		if (src->ops->read_page(src, pa / VMS_PAGE_SIZE, buf + fill))
			continue;
		if (!fill)
			base = pa;
		fill += VMS_PAGE_SIZE;
		if (fill >= chunk) {
			ret = fn(base, buf, fill, arg);
			if (ret)
				goto out;
			size_t keep = VMS_MIN(overlap, fill);
			memmove(buf, buf + fill - keep, keep);
			base += fill - keep;
			fill = keep;
		}
	}
	if (fill > overlap || (fill && base == s->start))
		ret = fn(base, buf, fill, arg);
out:
	free(buf);
	vms_err_clear(src->ctx); /* holes in a scan are not errors */
	return ret;
}

/* A remote segment, a chunk per read. A chunk that cannot be read as a
 * whole (QEMU unmapped part of it) is read page by page, and the pages
 * it lacks are skipped like a dump's holes. */
static int scan_remote(struct vms_source *src, const struct vms_seg *s,
		       size_t chunk, size_t overlap, vms_chunk_fn fn, void *arg)
{
	uint8_t *buf = malloc(chunk);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < s->size && !ret;) {
		uint64_t n = VMS_MIN((uint64_t)chunk, s->size - off);

		if (!src->ops->read_remote(src, s->raddr + off, buf, n)) {
			ret = fn(s->start + off, buf, n, arg);
		} else {
			/* Page by page (guest pages, which QEMU maps
			 * whole); runs of readable ones passed whole. */
			uint64_t run = 0, p = 0;
			while (p <= n && !ret) {
				uint64_t pa = s->start + off + p;
				uint64_t m = VMS_MIN(VMS_PAGE_SIZE -
							     pa % VMS_PAGE_SIZE,
						     n - p);
				if (m && !src->ops->read_remote(
						 src, s->raddr + off + p,
						 buf + p, m)) {
					p += m;
					continue;
				}
				if (p > run)
					ret = fn(s->start + off + run, buf + run,
						 p - run, arg);
				if (!m)
					break;
				p += m;
				run = p;
			}
		}
		if (off + n >= s->size)
			break;
		off += n - overlap;
	}
	free(buf);
	vms_err_clear(src->ctx);
	return ret;
}

/*
 * A scanned chunk of a mapped file is not needed again soon: its pages
 * leave this process (they stay in the page cache, and fault back in if
 * read). A scan of a whole dump would otherwise keep every page of it
 * resident, counted in vmsight's RSS and in its cgroup's memory. Mapped
 * segments are always file mappings (the dump, or QEMU's RAM file), so
 * this never discards data; only whole host pages inside the chunk go,
 * and not those of a chunk that ended the scan (its caller found what
 * it looked for there, and reads on).
 */
static void drop_pages(const uint8_t *p, uint64_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t m = ps > 0 ? (uintptr_t)ps - 1 : VMS_PAGE_SIZE - 1;
	uintptr_t lo = ((uintptr_t)p + m) & ~m;
	uintptr_t hi = ((uintptr_t)p + n) & ~m;

	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

int vms_source_scan(struct vms_source *src, size_t chunk, size_t overlap,
		    vms_chunk_fn fn, void *arg)
{
	uint8_t *zeros = NULL;
	int ret = 0;

	if (chunk <= overlap)
		return -EINVAL;
	for (size_t i = 0; i < src->nsegs && !ret; i++) {
		const struct vms_seg *s = &src->segs[i];

		if (s->kind == VMS_SEG_PAGED) {
			ret = scan_paged(src, s, chunk, overlap, fn, arg);
			continue;
		}
		if (s->kind == VMS_SEG_REMOTE) {
			ret = scan_remote(src, s, chunk, overlap, fn, arg);
			continue;
		}
		for (uint64_t off = 0; off < s->size && !ret;) {
			uint64_t n = VMS_MIN((uint64_t)chunk, s->size - off);
			const uint8_t *p;

			if (s->kind == VMS_SEG_MAPPED) {
				p = s->ptr + off;
			} else {
				if (!zeros && !(zeros = calloc(1, chunk)))
					return -ENOMEM;
				p = zeros;
			}
			ret = fn(s->start + off, p, n, arg);
			if (!ret && s->kind == VMS_SEG_MAPPED)
				drop_pages(p, n - (off + n < s->size ? overlap
								   : 0));
			if (off + n >= s->size)
				break;
			off += n - overlap;
		}
	}
	free(zeros);
	return ret;
}

/*
 * ELF notes, shared by the ELF driver and the kdump driver (whose
 * sub-header points at a copy of the same notes).
 *
 *   Elf64_Nhdr: namesz u32 | descsz u32 | type u32 | name, pad 4 | desc, pad 4
 *
 * Notes used:
 *   "VMCOREINFO"          the kernel's VMCOREINFO text
 *   "QEMU", type 0        QEMU's CPU state (QEMUCPUState, layout in
 *                         source.h: VMS_QEMU_CPU_*)
 */

/* Segment record @i of a QEMUCPUState: its selector and base. */
static uint16_t qemu_sel(const uint8_t *d, int i)
{
	return (uint16_t)vms_le32(d + VMS_QEMU_CPU_SEG + VMS_QEMU_SEG_SIZE * i);
}

static uint64_t qemu_base(const uint8_t *d, int i)
{
	return vms_le64(d + VMS_QEMU_CPU_SEG + VMS_QEMU_SEG_SIZE * i +
			VMS_QEMU_SEG_BASE);
}

static void qemu_cpu_note(struct vms_cpu *c, const uint8_t *d,
			  uint32_t index)
{
	*c = (struct vms_cpu){ .index = index };
	for (int r = 0; r < VMS_NGPR; r++)
		c->gpr[r] = vms_le64(d + VMS_QEMU_CPU_GPR + 8 * r);
	c->rip = vms_le64(d + VMS_QEMU_CPU_RIP);
	c->rflags = vms_le64(d + VMS_QEMU_CPU_RFLAGS);
	c->cs = qemu_sel(d, VMS_QEMU_CS);
	c->ss = qemu_sel(d, VMS_QEMU_SS);
	c->fs_base = qemu_base(d, VMS_QEMU_FS);
	c->gs_base = qemu_base(d, VMS_QEMU_GS);
	c->cr0 = vms_le64(d + VMS_QEMU_CPU_CR0);
	c->cr2 = vms_le64(d + VMS_QEMU_CPU_CR0 + 2 * 8);
	c->cr3 = vms_le64(d + VMS_QEMU_CPU_CR0 + 3 * 8);
	c->cr4 = vms_le64(d + VMS_QEMU_CPU_CR0 + 4 * 8);
	c->kernel_gs_base = vms_le64(d + VMS_QEMU_CPU_KGS);
	c->has_kernel_gs_base = true;
}

int vms_source_read_cpus(struct vms_source *src)
{
	if (!src->ops || !src->ops->read_cpus)
		return 0;
	return src->ops->read_cpus(src);
}

void vms_source_parse_elf_notes(struct vms_source *src, const uint8_t *p,
				uint64_t len)
{
	uint64_t off = 0;

	while (len - off >= 12 && off < len) {
		uint32_t namesz = vms_le32(p + off);
		uint32_t descsz = vms_le32(p + off + 4);
		uint32_t type = vms_le32(p + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ull);
		const char *name = (const char *)p + name_off;

		if (next > len || desc_off > len) {
			vms_log(src->ctx, VMS_LOG_WARN,
				"%s: ELF note at offset %#llx runs past its "
				"segment; later notes ignored",
				src->path, (unsigned long long)off);
			return;
		}
		if (namesz == 11 && !memcmp(name, "VMCOREINFO", 11) &&
		    !src->vmcoreinfo && descsz < (1u << 20)) {
			src->vmcoreinfo = malloc(descsz + 1);
			if (src->vmcoreinfo) {
				memcpy(src->vmcoreinfo, p + desc_off, descsz);
				src->vmcoreinfo[descsz] = 0;
			}
		} else if (namesz == 5 && !memcmp(name, "QEMU", 5) &&
			   type == 0 && descsz >= VMS_QEMU_CPU_SIZE &&
			   src->ncpus < VMS_MAX_CPUS) {
			qemu_cpu_note(&src->cpus[src->ncpus], p + desc_off,
				      src->ncpus);
			src->ncpus++;
		}
		off = next;
	}
}

static const struct {
	const char *name;
	bool (*probe)(const uint8_t *p, uint64_t len);
} probes[] = {
	{ "elf", vms_elf_probe },
	{ "kdump", vms_kdump_probe },
	{ "kdump-flat", vms_kdump_flat_probe },
	{ "lime", vms_lime_probe },
};

int vms_source_open(struct vms_ctx *ctx, const char *path,
		    struct vms_source **ret)
{
	struct vms_source *src;
	struct stat st;
	int err;

	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->ctx = ctx;
	src->path = path;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	src->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (src->fd < 0) {
		err = -errno;
		vms_err(ctx, err == -ENOENT ? -ENOENT : -EIO, LAYER,
			"%s: cannot open: %s", path, strerror(-err));
		err = err == -ENOENT ? -ENOENT : -EIO;
		goto fail;
	}
	if (fstat(src->fd, &st)) {
		err = vms_err(ctx, -EIO, LAYER, "%s: cannot stat: %s", path,
			      strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err = vms_err(ctx, -EINVAL, LAYER,
			      "%s: not a regular file (a %s)", path,
			      S_ISDIR(st.st_mode)    ? "directory"
			      : S_ISFIFO(st.st_mode) ? "FIFO"
			      : S_ISCHR(st.st_mode)  ? "character device"
						     : "special file");
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(src->fd, 0, SEEK_END);
		st.st_size = end < 0 ? 0 : end;
	}
	if (st.st_size <= 0) {
		err = vms_err(ctx, -EBADMSG, LAYER,
			      "%s: empty file, not a memory dump", path);
		goto fail;
	}
	src->map_len = (uint64_t)st.st_size;
	src->map = mmap(NULL, src->map_len, PROT_READ, MAP_PRIVATE,
			src->fd, 0);
	if (src->map == MAP_FAILED) {
		src->map = NULL;
		err = vms_err(ctx, -EIO, LAYER, "%s: cannot map: %s", path,
			      strerror(errno));
		goto fail;
	}
	src->format = "raw";
	for (size_t i = 0; i < VMS_ARRAY_SIZE(probes); i++)
		if (probes[i].probe(src->map, src->map_len))
			src->format = probes[i].name;

	if (!strcmp(src->format, "elf"))
		err = vms_elf_open(src);
	else if (!strcmp(src->format, "kdump"))
		err = vms_kdump_open(src, false);
	else if (!strcmp(src->format, "kdump-flat"))
		err = vms_kdump_open(src, true);
	else if (!strcmp(src->format, "lime"))
		err = vms_lime_open(src);
	else
		err = vms_raw_open(src);
	if (!err)
		err = vms_source_finish_segs(src);
	if (err)
		goto fail;
	*ret = src;
	return 0;
fail:
	vms_source_close(src);
	return err;
}

void vms_source_close(struct vms_source *src)
{
	if (!src)
		return;
	if (src->ops && src->ops->close)
		src->ops->close(src);
	if (src->map)
		munmap((void *)src->map, src->map_len);
	if (src->fd >= 0)
		close(src->fd);
	free(src->segs);
	free(src->vmcoreinfo);
	free(src);
}
