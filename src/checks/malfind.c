/* SPDX-License-Identifier: MIT */
/*
 * injected_code: anonymous memory in user processes that is writable and
 * executable (shellcode, unpacked payloads, JIT-less processes should
 * have none), or that begins with an ELF header (a library loaded
 * without the loader, which leaves no file behind). "Anonymous" means no
 * backing file: private or shared anonymous areas, [heap] and [stack];
 * the kernel's special mappings ([vdso], [vvar], [vsyscall]) are not.
 *
 * A process whose memory map cannot be read is a finding too: a torn or
 * forged maple tree must not make a process invisible to this check.
 */
#include <stdio.h>
#include <string.h>

#include "checks.h"

/* VM_* flags (include/linux/mm.h), unchanged since v2.6. */
#define VM_WRITE 0x2
#define VM_EXEC 0x4

static bool anonymous(const struct vms_vma *v)
{
	if (v->inode)
		return false;
	return v->name[0] != '[' || !strcmp(v->name, "[heap]") ||
	       !strcmp(v->name, "[stack]");
}

unsigned int vms_chk_area_rules(const struct vms_vma *v, const uint8_t *head,
				size_t got)
{
	unsigned int r = 0;

	if (!anonymous(v))
		return 0;
	if ((v->flags & (VM_WRITE | VM_EXEC)) == (VM_WRITE | VM_EXEC))
		r |= VMS_AREA_RWX;
	if (got >= 4 && !memcmp(head, "\x7f" "ELF", 4))
		r |= VMS_AREA_ELF;
	return r;
}

static void hexbytes(const uint8_t *b, size_t n, char *out, size_t len)
{
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%02x", b[i]);
}

static int scan(struct vms_chk *c, const struct vms_task *t)
{
	struct vms_kernel *k = c->k;
	struct vms_vma_list l = { 0 };
	char object[160], evidence[512], hex[40];
	uint64_t root;
	int err;

	snprintf(object, sizeof(object), "pid %d (%s)", t->pid, t->comm);
	if ((err = vms_task_pgd(k, t, &root)) ||
	    (err = vms_vma_collect(k, t, &l))) {
		snprintf(evidence, sizeof(evidence),
			 "its memory map could not be read: %.400s",
			 k->ctx->err.msg);
		vms_err_clear(k->ctx);
		return vms_chk_emit(c, object, evidence, t->addr, 0, "");
	}
	for (size_t i = 0; i < l.n && err >= 0; i++) {
		const struct vms_vma *v = &l.v[i];
		uint8_t head[16];
		size_t got = 0;
		unsigned int rules;
		bool rwx, elf;

		if (!anonymous(v))
			continue;
		/* Not resident is no error: the area was never touched. */
		vms_task_read_user(k, root, v->start, head, sizeof(head), &got);
		vms_err_clear(k->ctx);
		if (!(rules = vms_chk_area_rules(v, head, got)))
			continue;
		rwx = rules & VMS_AREA_RWX;
		elf = rules & VMS_AREA_ELF;
		hexbytes(head, got, hex, sizeof(hex));
		snprintf(evidence, sizeof(evidence),
			 "%.200s area %#llx-%#llx %s%s%s; %s%s",
			 v->name[0] ? v->name : "anonymous",
			 (unsigned long long)v->start,
			 (unsigned long long)v->end,
			 rwx ? "is writable and executable" : "",
			 rwx && elf ? " and " : "",
			 elf ? "starts with an ELF header" : "",
			 got ? "first bytes " : "not resident", hex);
		err = vms_chk_emit(c, object, evidence, v->addr, v->start, "");
	}
	vms_vma_list_free(&l);
	return err;
}

int vms_check_injected_code(struct vms_chk *c)
{
	struct vms_task_walk w;
	struct vms_task t;
	int r, err;

	if ((err = vms_task_walk_init(&w, c->k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1)
		if (!t.kthread && t.mm && (err = scan(c, &t)) < 0)
			break;
	vms_task_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}
