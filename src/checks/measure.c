/* SPDX-License-Identifier: MIT */
/*
 * Measurements for baselines: SHA-256 hashes of what must not change in
 * a running kernel, and the sets a site expects to stay put.
 *
 *   kernel          _text (where KASLR put the kernel) and the banner
 *   text, rodata    each 4 KiB page of [_text, _etext) and
 *                   [__start_rodata, __end_rodata), keyed by its offset
 *   syscall_table   sys_call_table (its extent: up to the next symbol)
 *   idt             idt_table (the same)
 *   module          each module's code and read-only data (listed and
 *                   hidden ones), keyed by name
 *   process         each user process, "pid N (comm)"
 *   listener        each listening socket, "PROTO ADDRESS:PORT netns N"
 *   hook            each netfilter hook, ftrace_ops and kprobe, named by
 *                   symbols and module offsets (stable across boots)
 *
 * What a healthy kernel rewrites in its own code at run time is masked
 * (zeroed before hashing), site by site, from the kernel's own records
 * (sites.c): jump labels, static calls, ftrace's fentry sites and BPF
 * dispatchers. Alternatives, paravirt and retpoline patching are done by the time
 * user space runs, and kernel text does not change after it, so they
 * need no mask. kprobes are not masked: a probe's int3 or jump is a
 * change to report (the kprobes check names its owner).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "checks.h"
#include "../core/dynlib.h"

#define LAYER "checks"
#define MAX_IMAGE (1ull << 30)	/* bytes of one measured section */

/* OpenSSL's libcrypto, opened by the first measurement. */
static struct {
	__typeof__(&EVP_Digest) EVP_Digest;
	__typeof__(&EVP_sha256) EVP_sha256;
} C;

static const struct vms_dynsym crypto_syms[] = {
	VMS_DYNSYM(C, EVP_Digest),
	VMS_DYNSYM(C, EVP_sha256),
};

static struct vms_dynlib crypto_lib = {
	.soname = VMS_SONAME_CRYPTO, .what = "measuring (SHA-256)",
	.syms = crypto_syms, .nsyms = VMS_ARRAY_SIZE(crypto_syms),
};

static void sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = 0;
	if (!C.EVP_Digest(data, len, md, &n, C.EVP_sha256(), NULL) ||
	    n != 32)
		return;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct meas {
	struct vms_chk *c;
	vms_measurement_fn fn;
	void *arg;
	struct vms_chk_sites sites;
};

static int put(struct meas *m, const char *kind, const char *object,
	       uint64_t addr, uint64_t size, const char *sha,
	       const char *detail)
{
	struct vms_measurement r = { .sz = sizeof(r), .kind = kind,
				     .object = object, .addr = addr,
				     .size = size, .sha256 = sha ? sha : "",
				     .detail = detail ? detail : "" };
	return m->fn(&r, m->arg);
}

/* Hash [start, end) page by page as @kind, keyed by offset from @base. */
static int pages(struct meas *m, const char *kind, uint64_t base,
		 uint64_t start, uint64_t end, bool masked)
{
	struct vms_kernel *k = m->c->k;
	uint8_t buf[4096];
	char object[32], sha[65], detail[160];
	int err = 0;

	if (end <= start || end - start > MAX_IMAGE)
		return vms_err_at(k->ctx, -EINVAL, LAYER, start,
				  "%s %#llx-%#llx is not a section vmsight "
				  "can measure", kind,
				  (unsigned long long)start,
				  (unsigned long long)end);
	for (uint64_t va = start; va < end && err >= 0;) {
		size_t n = (size_t)VMS_MIN(end - va, 4096 - (va & 0xfff));
		snprintf(object, sizeof(object), "+%#llx",
			 (unsigned long long)(va - base));
		vms_chk_sym_off(m->c, va, detail, sizeof(detail));
		if (vms_kernel_read(k, va, buf, n)) {
			vms_err_clear(k->ctx);
			err = put(m, kind, object, va, n, "unreadable", detail);
		} else {
			if (masked)
				vms_chk_sites_mask(&m->sites, va, buf, n);
			sha256_hex(buf, n, sha);
			err = put(m, kind, object, va, n, sha, detail);
		}
		va += n;
	}
	return err;
}

/* A symbol's extent, up to the next symbol (at most @max bytes). */
static int table(struct meas *m, const char *kind, const char *sym,
		 size_t max)
{
	struct vms_kernel *k = m->c->k;
	uint64_t a, next;
	char sha[65];
	uint8_t *buf;
	size_t n;
	int err;

	if (vms_kernel_sym(k, sym, &a)) {
		vms_err_clear(k->ctx);
		return 0;
	}
	next = vms_chk_sym_next(m->c, a);
	n = next > a ? (size_t)VMS_MIN(next - a, max) : max;
	if ((err = vms_alloc(k->ctx, &buf, n, 1, sym, a)))
		return err;
	if ((err = vms_kernel_read(k, a, buf, n))) {
		free(buf);
		return err;
	}
	sha256_hex(buf, n, sha);
	free(buf);
	return put(m, kind, sym, a, n, sha, "");
}

/* A module's code and read-only data: module.mem[] (v6.4+) of types
 * MOD_TEXT, MOD_RODATA and MOD_RO_AFTER_INIT, or core_layout up to
 * ro_after_init_size (older kernels). */
static int module(struct meas *m, const struct vms_chk_mod *md)
{
	struct vms_kernel *k = m->c->k;
	const struct vms_layout *l = &k->l;
	struct vms_range r[3];
	size_t nr = 0, total = 0, o = 0;
	char sha[65], detail[160];
	uint8_t *buf = NULL;
	int err = 0;

	if (l->mod_mem != VMS_NO_MEMBER) {
		for (size_t i = 0; i < 3; i++) {
			int64_t t = l->mod_mem_type[i];
			if (t < 0 || (size_t)t >= l->mod_mem_n)
				continue;
			if ((err = vms_mod_mem(k, md->addr, (size_t)t, &r[nr])))
				return err;
			if (r[nr].len)
				nr++;
		}
	} else {
		size_t off, sz;
		uint64_t base;
		uint8_t b[4];
		if (vms_btf_member(k->btf, "module",
				   "core_layout.ro_after_init_size", &off,
				   &sz) || sz != 4)
			return vms_err(k->ctx, -ENOENT, LAYER,
				       "no module.core_layout.ro_after_init_"
				       "size in the kernel's BTF");
		if ((err = vms_kernel_read_u64(k, md->addr + l->mod_core_base,
					       &base)) ||
		    (err = vms_kernel_read(k, md->addr + off, b, 4)))
			return err;
		if (base && vms_le32(b))
			r[nr++] = (struct vms_range){ base, vms_le32(b) };
	}
	for (size_t i = 0; i < nr; i++) {
		if (r[i].len > MAX_IMAGE - total)
			return vms_err_at(k->ctx, -EINVAL, LAYER, md->addr,
					  "module %s claims more than 1 GiB of "
					  "code", md->name);
		total += r[i].len;
	}
	if (total && (err = vms_alloc(k->ctx, &buf, total, 1, "module code",
				      md->addr)))
		return err;
	for (size_t i = 0; i < nr && !err; i++) {
		if (vms_kernel_read(k, r[i].start, buf + o, r[i].len)) {
			vms_err_clear(k->ctx);
			memset(buf + o, 0, r[i].len);
		} else {
			vms_chk_sites_mask(&m->sites, r[i].start, buf + o, r[i].len);
		}
		o += r[i].len;
	}
	sha256_hex(buf, total, sha);
	free(buf);
	snprintf(detail, sizeof(detail), "%s",
		 md->listed     ? "on the module list"
		 : md->in_sysfs ? "hidden from the module list (in /sys/module)"
				: "hidden from the module list and /sys/module "
				  "(found in module memory)");
	return put(m, "module", md->name, nr ? r[0].start : 0, total, sha,
		   detail);
}

static int processes(struct meas *m)
{
	struct vms_task_walk w;
	struct vms_task t;
	int r, err = 0;

	if ((err = vms_task_walk_init(&w, m->c->k)))
		return err;
	while ((r = vms_task_walk_next(&w, &t)) == 1) {
		char object[96], detail[64];
		if (t.kthread)
			continue; /* workers come and go on their own */
		snprintf(object, sizeof(object), "pid %d (%s)", t.pid, t.comm);
		snprintf(detail, sizeof(detail), "uid %u", t.uid);
		if ((err = put(m, "process", object, t.addr, 0, NULL,
			       detail)) < 0)
			break;
	}
	vms_task_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}

static int listeners(struct meas *m)
{
	struct vms_sock_walk w;
	struct vms_sk s;
	int r, err = 0;

	if ((err = vms_sock_walk_init(&w, m->c->k)))
		return err;
	while ((r = vms_sock_walk_next(&w, &s)) == 1) {
		char object[224];
		if (!vms_sock_is_listener(&s))
			continue;
		snprintf(object, sizeof(object), "%s %s netns %u", s.proto,
			 s.local, s.netns);
		if ((err = put(m, "listener", object, s.sock, 0, NULL,
			       NULL)) < 0)
			break;
	}
	vms_sock_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}

static int put_hook(void *arg, const char *object, uint64_t addr,
		    const char *detail)
{
	return put(arg, "hook", object, addr, 0, NULL, detail);
}

int vms_chk_measure(struct vms_chk *c, vms_measurement_fn fn, void *arg)
{
	struct vms_kernel *k = c->k;
	struct meas m = { .c = c, .fn = fn, .arg = arg };
	uint64_t text, etext, ro, ero;
	char addr[32];
	int err;

	if ((err = vms_dynlib_load(k->ctx, &crypto_lib)))
		return err;
	if ((err = vms_kernel_sym(k, "_text", &text)) ||
	    (err = vms_kernel_sym(k, "_etext", &etext)) ||
	    (err = vms_kernel_sym(k, "__start_rodata", &ro)) ||
	    (err = vms_kernel_sym(k, "__end_rodata", &ero)))
		return err;
	if ((err = vms_chk_sites_collect(c, VMS_SITES_ALL, &m.sites)))
		goto out;
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)text);
	if ((err = put(&m, "kernel", "_text", text, 0, NULL, addr)) < 0 ||
	    (err = put(&m, "kernel", "banner", 0, 0, NULL, k->banner)) < 0 ||
	    (err = pages(&m, "text", text, text, etext, true)) < 0 ||
	    (err = pages(&m, "rodata", text, ro, ero, false)) < 0 ||
	    (err = table(&m, "syscall_table", "sys_call_table", 64 << 10)) <
		    0 ||
	    (err = table(&m, "idt", "idt_table", 4096)) < 0)
		goto out;
	for (size_t i = 0; i < c->nmods && err >= 0; i++)
		err = module(&m, &c->mods[i]);
	if (err >= 0)
		err = processes(&m);
	if (err >= 0)
		err = listeners(&m);
	if (err >= 0)
		err = vms_chk_hooks_measure(c, put_hook, &m);
out:
	vms_chk_sites_fini(&m.sites);
	return err < 0 ? err : 0;
}
