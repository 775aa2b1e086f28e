/* SPDX-License-Identifier: MIT */
/*
 * Inventories of kernel hooks: netfilter, ftrace and kprobes.
 *
 * netfilter_hooks: the inventory of netfilter hooks in every network
 * namespace (net.nf.hooks_ipv4, hooks_ipv6, hooks_arp, hooks_bridge:
 * per hook point a struct nf_hook_entries, a count and an array of
 * {hook, priv}), each named by its owner. A hook in kernel text or in a
 * listed module is an inventory entry (severity info: firewalls and
 * conntrack register them); a hook into a module that hid itself from
 * the module list, or into memory that belongs to no module, is a
 * finding at the check's severity. Every array and count is bounded.
 */
#include <stdio.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define MAX_HOOKS_PER_POINT 1024

struct family {
	const char *member;	/* in struct netns_nf */
	const char *name;	/* for the object */
	const char *points;	/* enum naming its hook points, or NULL */
};

static const struct family families[] = {
	{ "hooks_ipv4", "ipv4", "nf_inet_hooks" },
	{ "hooks_ipv6", "ipv6", "nf_inet_hooks" },
	{ "hooks_arp", "arp", NULL },
	{ "hooks_bridge", "bridge", NULL },
};

struct nf_layout {
	size_t net_list, net_inum, net_nf;
	size_t fam_off[VMS_ARRAY_SIZE(families)];
	size_t fam_n[VMS_ARRAY_SIZE(families)];
	size_t e_num, e_hooks, e_size, e_hook;
};

static int layout(struct vms_kernel *k, struct nf_layout *n)
{
	struct btf *b = k->btf;
	size_t sz, nel, esz;
	bool any = false;

	if (vms_btf_member(b, "net", "list", &n->net_list, &sz) ||
	    vms_btf_member(b, "net", "ns.inum", &n->net_inum, &sz) ||
	    sz != 4 || vms_btf_member(b, "net", "nf", &n->net_nf, &sz) ||
	    vms_btf_member(b, "nf_hook_entries", "num_hook_entries",
			   &n->e_num, &sz) || sz != 2 ||
	    vms_btf_member_array(b, "nf_hook_entries", "hooks", &n->e_hooks,
				 &nel, &n->e_size) ||
	    vms_btf_member(b, "nf_hook_entry", "hook", &n->e_hook, &sz) ||
	    sz != 8 || n->e_hook + 8 > n->e_size)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks net.nf, net.ns.inum or "
			       "a usable struct nf_hook_entries");
	for (size_t i = 0; i < VMS_ARRAY_SIZE(families); i++) {
		n->fam_n[i] = 0;
		if (vms_btf_member_array(b, "netns_nf", families[i].member,
					 &n->fam_off[i], &n->fam_n[i], &esz) ||
		    esz != 8 || n->fam_n[i] > 16)
			n->fam_n[i] = 0; /* not built in this kernel */
		any |= n->fam_n[i] > 0;
	}
	if (!any)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF has no netns_nf hook arrays");
	return 0;
}

/*
 * The severity of a hook whose code is at @where: an inventory entry if
 * the code belongs to the kernel or a listed module, else the check's.
 */
static enum vms_severity hook_sev(const struct vms_chk *c,
				  enum vms_chk_where where)
{
	return where == VMS_IN_TEXT || where == VMS_IN_MODULE ? VMS_SEV_INFO
							      : c->severity;
}

struct nf_walk {
	struct vms_chk *c;
	struct nf_layout n;
	int (*fn)(void *arg, const struct vms_chk_nf_hook *h);
	void *arg;
};

/* The hooks of one hook point: a bounded array of {hook, priv}. */
static int point(struct nf_walk *x, const struct family *f, size_t p,
		 uint64_t entries, uint32_t inum)
{
	struct vms_kernel *k = x->c->k;
	const struct nf_layout *n = &x->n;
	const char *pname = f->points ? vms_btf_enum_name(k->btf, f->points,
							  (int64_t)p)
				      : NULL;
	char pbuf[32];
	uint8_t b[2];
	uint16_t num;
	int err;

	if (!entries)
		return 0;
	if ((err = vms_kernel_read(k, entries + n->e_num, b, 2)))
		return err;
	num = vms_le16(b);
	if (num > MAX_HOOKS_PER_POINT)
		return vms_err_at(k->ctx, -E2BIG, LAYER, entries,
				  "netfilter hook entries at %#llx claim %u "
				  "hooks", (unsigned long long)entries, num);
	if (!pname)
		snprintf(pbuf, sizeof(pbuf), "point %zu", p);
	else if (!strncmp(pname, "NF_INET_", 8))
		pname += 8;
	for (uint16_t i = 0; i < num; i++) {
		struct vms_chk_nf_hook h = {
			.family = f->name, .point = pname ? pname : pbuf,
			.index = i, .netns = inum,
			.slot = entries + n->e_hooks + i * n->e_size,
		};
		if ((err = vms_kernel_read_u64(k, h.slot + n->e_hook,
					       &h.hook)) ||
		    (err = x->fn(x->arg, &h)) < 0)
			return err;
	}
	return 0;
}

/* Every hook point of every family of one namespace. */
static int nf_netns(void *arg, uint64_t net)
{
	struct nf_walk *x = arg;
	struct vms_kernel *k = x->c->k;
	uint8_t b[4];
	int err;

	if ((err = vms_kernel_read(k, net + x->n.net_inum, b, 4)))
		return err;
	for (size_t f = 0; f < VMS_ARRAY_SIZE(families); f++)
		for (size_t p = 0; p < x->n.fam_n[f]; p++) {
			uint64_t e;
			if ((err = vms_kernel_read_u64(
				     k, net + x->n.net_nf + x->n.fam_off[f] +
						p * 8,
				     &e)) ||
			    (err = point(x, &families[f], p, e, vms_le32(b))))
				return err;
		}
	return 0;
}

int vms_chk_nf_hooks_each(struct vms_chk *c,
			  int (*fn)(void *arg, const struct vms_chk_nf_hook *h),
			  void *arg)
{
	struct nf_walk x = { .c = c, .fn = fn, .arg = arg };
	int err = layout(c->k, &x.n);

	return err ? err : vms_netns_each(c->k, x.n.net_list, nf_netns, &x);
}

/* One netfilter hook, named by its owner. */
static int nf_one(void *arg, const struct vms_chk_nf_hook *h)
{
	struct vms_chk *c = arg;
	char object[160], where[256], owner[64], evidence[320];
	enum vms_chk_where w = vms_chk_describe(c, h->hook, where,
						sizeof(where), owner,
						sizeof(owner));
	int err;

	snprintf(object, sizeof(object), "netfilter %s %s hook %u (netns %u)",
		 h->family, h->point, h->index, h->netns);
	snprintf(evidence, sizeof(evidence), "hook function %#llx, %s",
		 (unsigned long long)h->hook, where);
	err = vms_chk_emit_sev(c, hook_sev(c, w), object, evidence, h->slot,
			       h->hook, owner);
	return err < 0 ? err : 0;
}

int vms_check_netfilter_hooks(struct vms_chk *c)
{
	return vms_chk_nf_hooks_each(c, nf_one, c);
}

#define MAX_FTRACE_OPS 65536

int vms_chk_ftrace_ops_each(struct vms_chk *c,
			    int (*fn)(void *arg, uint64_t ops), void *arg)
{
	struct vms_kernel *k = c->k;
	struct vms_addrset seen;
	size_t off_next, sz;
	uint64_t end, ops;
	uint32_t count = 0;
	int err;

	if (vms_btf_member(k->btf, "ftrace_ops", "next", &off_next, &sz) ||
	    sz != 8)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks ftrace_ops.next");
	if ((err = vms_kernel_sym(k, "ftrace_list_end", &end)) ||
	    (err = vms_kernel_sym(k, "ftrace_ops_list", &ops)) ||
	    (err = vms_kernel_read_u64(k, ops, &ops)))
		return err;
	vms_addrset_init(&seen);
	while (!err && ops && ops != end) {
		if ((err = vms_walk_visit(k, &seen, &count, MAX_FTRACE_OPS, ops,
					  "the ftrace ops list")) ||
		    (err = fn(arg, ops)) < 0 ||
		    (err = vms_kernel_read_u64(k, ops + off_next, &ops)))
			break;
	}
	vms_addrset_fini(&seen);
	return err < 0 ? err : 0;
}

struct ft_report {
	struct vms_chk *c;
	size_t off_func, off_saved;
};

/* An ftrace_ops's callback, and the one saved beside it (0 if none). */
static int ft_callbacks(const struct ft_report *r, uint64_t ops,
			uint64_t *fn, uint64_t *saved)
{
	struct vms_kernel *k = r->c->k;
	int err;

	*saved = 0;
	if ((err = vms_kernel_read_u64(k, ops + r->off_func, fn)) ||
	    (r->off_saved != VMS_NO_MEMBER &&
	     (err = vms_kernel_read_u64(k, ops + r->off_saved, saved))))
		return err;
	return 0;
}

/* One ftrace_ops, named by the least trusted of its callbacks. */
static int ftrace_one(void *arg, uint64_t ops)
{
	struct ft_report *r = arg;
	struct vms_chk *c = r->c;
	char object[64], where[256], owner[64], evidence[600];
	char swhere[256], sowner[64];
	enum vms_chk_where w, sw;
	uint64_t fn, saved;
	int err;

	if ((err = ft_callbacks(r, ops, &fn, &saved)))
		return err;
	w = vms_chk_describe(c, fn, where, sizeof(where), owner,
			     sizeof(owner));
	snprintf(object, sizeof(object), "ftrace_ops %#llx",
		 (unsigned long long)ops);
	snprintf(evidence, sizeof(evidence), "callback %#llx, %s",
		 (unsigned long long)fn, where);
	if (saved && saved != fn) {
		size_t n = strlen(evidence);
		sw = vms_chk_describe(c, saved, swhere, sizeof(swhere), sowner,
				      sizeof(sowner));
		snprintf(evidence + n, sizeof(evidence) - n,
			 "; saved callback %#llx, %s",
			 (unsigned long long)saved, swhere);
		if (sw > w) {
			w = sw;
			fn = saved;
			memcpy(owner, sowner, sizeof(owner));
		}
	}
	err = vms_chk_emit_sev(c, hook_sev(c, w), object, evidence, ops, fn,
			       owner);
	return err < 0 ? err : 0;
}

/*
 * ftrace_hooks: every ftrace_ops on ftrace_ops_list (ops->next until
 * &ftrace_list_end), named by the owner of its callback. Livepatch,
 * kprobes on ftrace and tracers register ops from kernel text or listed
 * modules (inventory); a callback in a hidden module or unknown memory
 * is a finding.
 */
static int ft_layout(struct vms_chk *c, struct ft_report *r)
{
	size_t sz;

	r->c = c;
	if (vms_btf_member(c->k->btf, "ftrace_ops", "func", &r->off_func,
			   &sz) || sz != 8)
		return vms_err(c->k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks ftrace_ops.func");
	/* ftrace may put a wrapper in func (a pid filter) and keep the
	 * registered callback in saved_func: both are looked at. */
	if (vms_btf_member(c->k->btf, "ftrace_ops", "saved_func",
			   &r->off_saved, &sz) || sz != 8)
		r->off_saved = VMS_NO_MEMBER;
	return 0;
}

int vms_check_ftrace_hooks(struct vms_chk *c)
{
	struct ft_report r;
	int err = ft_layout(c, &r);

	return err ? err : vms_chk_ftrace_ops_each(c, ftrace_one, &r);
}

#define MAX_KPROBES 65536
#define MAX_KPROBE_BUCKETS 4096

struct kp_layout {
	size_t hlist, list, addr, pre;
};

struct kp_walk {
	struct vms_chk *c;
	struct kp_layout kl;
	int (*fn)(void *arg, uint64_t kp, uint64_t addr);
	void *arg;
};

static int kprobe_visit(struct kp_walk *w, uint64_t kp)
{
	uint64_t addr;
	int err = vms_kernel_read_u64(w->c->k, kp + w->kl.addr, &addr);

	return err ? err : w->fn(w->arg, kp, addr);
}

int vms_chk_kprobes_each(struct vms_chk *c,
			 int (*fn)(void *arg, uint64_t kp, uint64_t addr),
			 void *arg)
{
	struct vms_kernel *k = c->k;
	struct kp_walk w = { .c = c, .fn = fn, .arg = arg };
	struct kp_layout *kl = &w.kl;
	struct vms_addrset seen;
	uint64_t table, next, aggr = 0;
	size_t sz, n;
	uint32_t count = 0;
	int err = 0;

	if (vms_btf_member(k->btf, "kprobe", "hlist", &kl->hlist, &sz) ||
	    vms_btf_member(k->btf, "kprobe", "list", &kl->list, &sz) ||
	    vms_btf_member(k->btf, "kprobe", "addr", &kl->addr, &sz) ||
	    vms_btf_member(k->btf, "kprobe", "pre_handler", &kl->pre, &sz))
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks struct kprobe");
	if ((err = vms_kernel_sym(k, "kprobe_table", &table)))
		return err;
	vms_kernel_sym(k, "aggr_pre_handler", &aggr);
	vms_err_clear(k->ctx);
	next = vms_chk_sym_next(c, table);
	if (next <= table || (next - table) / 8 > MAX_KPROBE_BUCKETS)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, table,
				  "kprobe_table at %#llx: cannot size it from "
				  "the next symbol",
				  (unsigned long long)table);
	n = (next - table) / 8;
	vms_addrset_init(&seen);
	for (size_t b = 0; !err && b < n; b++) {
		uint64_t node;
		if ((err = vms_kernel_read_u64(k, table + b * 8, &node)))
			break;
		while (!err && node) {
			uint64_t kp = node - kl->hlist, pre;
			if ((err = vms_walk_visit(k, &seen, &count, MAX_KPROBES,
						  node, "the kprobe table")) ||
			    (err = vms_kernel_read_u64(k, kp + kl->pre, &pre)))
				break;
			if (aggr && pre == aggr) {
				/* The probes sharing this address. */
				uint64_t head = kp + kl->list, p;
				err = vms_kernel_read_u64(k, head, &p);
				while (!err && p != head) {
					if ((err = vms_walk_visit(
						     k, &seen, &count,
						     MAX_KPROBES, p,
						     "a kprobe's list")) ||
					    (err = kprobe_visit(
						     &w, p - kl->list)) < 0 ||
					    (err = vms_kernel_read_u64(k, p,
								       &p)))
						break;
				}
			} else {
				err = kprobe_visit(&w, kp);
			}
			if (err >= 0)
				err = vms_kernel_read_u64(
					k, node + k->l.list_next, &node);
		}
	}
	vms_addrset_fini(&seen);
	return err < 0 ? err : 0;
}

struct kp_report {
	struct vms_chk *c;
	size_t pre, post;	/* kprobe.pre_handler, post_handler */
};

/* A kprobe's pre and post handlers. */
static int kp_handlers(const struct kp_report *r, uint64_t kp, uint64_t h[2])
{
	struct vms_kernel *k = r->c->k;
	int err;

	if ((err = vms_kernel_read_u64(k, kp + r->pre, &h[0])) ||
	    (err = vms_kernel_read_u64(k, kp + r->post, &h[1])))
		return err;
	return 0;
}

/* One kprobe: where it probes and whose handlers run there. */
static int kprobe_one(void *arg, uint64_t kp, uint64_t addr)
{
	struct kp_report *r = arg;
	struct vms_chk *c = r->c;
	char object[320], where[256], powner[64], hwhere[2][256], howner[2][64];
	char evidence[700];
	enum vms_chk_where w = VMS_IN_TEXT;
	uint64_t h[2];
	int err;

	if ((err = kp_handlers(r, kp, h)))
		return err;
	vms_chk_describe(c, addr, where, sizeof(where), powner,
			 sizeof(powner));
	for (int i = 0; i < 2; i++) {
		hwhere[i][0] = howner[i][0] = 0;
		if (!h[i])
			continue;
		enum vms_chk_where hw = vms_chk_describe(
			c, h[i], hwhere[i], sizeof(hwhere[i]), howner[i],
			sizeof(howner[i]));
		if (hw > w)
			w = hw; /* the least trusted handler decides */
	}
	snprintf(object, sizeof(object), "kprobe at %#llx (%.200s)",
		 (unsigned long long)addr, where);
	snprintf(evidence, sizeof(evidence),
		 "pre_handler %#llx%s%.250s, post_handler %#llx%s%.250s",
		 (unsigned long long)h[0], h[0] ? ", " : "", hwhere[0],
		 (unsigned long long)h[1], h[1] ? ", " : "", hwhere[1]);
	err = vms_chk_emit_sev(c, hook_sev(c, w), object, evidence, kp,
			       h[0] ? h[0] : h[1],
			       howner[0][0] ? howner[0] : howner[1]);
	return err < 0 ? err : 0;
}

/*
 * kprobes: every registered kprobe, from the buckets of kprobe_table
 * (hlist of struct kprobe; the table's size, KPROBE_TABLE_SIZE, is the
 * distance to the next symbol). An aggregate probe (pre_handler
 * aggr_pre_handler) stands for the probes on its list, which are
 * reported instead. Handlers in kernel text or listed modules are
 * inventory; in hidden modules or unknown memory, findings.
 */
static int kp_layout(struct vms_chk *c, struct kp_report *r)
{
	size_t sz;

	r->c = c;
	if (vms_btf_member(c->k->btf, "kprobe", "pre_handler", &r->pre, &sz) ||
	    vms_btf_member(c->k->btf, "kprobe", "post_handler", &r->post, &sz))
		return vms_err(c->k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks struct kprobe");
	return 0;
}

int vms_check_kprobes(struct vms_chk *c)
{
	struct kp_report r;
	int err = kp_layout(c, &r);

	return err ? err : vms_chk_kprobes_each(c, kprobe_one, &r);
}

/* ------------------------------------------------------------------ */
/* The hook sets of a baseline                                         */
/* ------------------------------------------------------------------ */

struct hook_meas {
	struct vms_chk *c;
	vms_chk_hook_put_fn put;
	void *arg;
	struct ft_report ft;
	struct kp_report kp;
};

static int put_hook(struct hook_meas *m, const char *object, uint64_t addr,
		    uint64_t fn)
{
	char where[256], owner[64];

	vms_chk_describe(m->c, fn, where, sizeof(where), owner,
			 sizeof(owner));
	return m->put(m->arg, object, addr, where);
}

static int nf_measure(void *arg, const struct vms_chk_nf_hook *h)
{
	struct hook_meas *m = arg;
	char object[320], fn[160];

	vms_chk_stable_name(m->c, h->hook, fn, sizeof(fn));
	snprintf(object, sizeof(object), "netfilter %s %s netns %u: %s",
		 h->family, h->point, h->netns, fn);
	return put_hook(m, object, h->slot, h->hook);
}

static int ft_measure(void *arg, uint64_t ops)
{
	struct hook_meas *m = arg;
	char object[352], fn[160], saved[160];
	uint64_t f, s;
	int err;

	if ((err = ft_callbacks(&m->ft, ops, &f, &s)))
		return err;
	vms_chk_stable_name(m->c, f, fn, sizeof(fn));
	vms_chk_stable_name(m->c, s, saved, sizeof(saved));
	snprintf(object, sizeof(object), "ftrace_ops: %s%s%s%s", fn,
		 s && s != f ? " (saved " : "", s && s != f ? saved : "",
		 s && s != f ? ")" : "");
	return put_hook(m, object, ops, s && s != f ? s : f);
}

static int kp_measure(void *arg, uint64_t kp, uint64_t addr)
{
	struct hook_meas *m = arg;
	char object[512], at[160], pre[160], post[160];
	uint64_t h[2];
	int err;

	if ((err = kp_handlers(&m->kp, kp, h)))
		return err;
	vms_chk_stable_name(m->c, addr, at, sizeof(at));
	vms_chk_stable_name(m->c, h[0], pre, sizeof(pre));
	vms_chk_stable_name(m->c, h[1], post, sizeof(post));
	snprintf(object, sizeof(object), "kprobe at %s: pre %s, post %s", at,
		 h[0] ? pre : "none", h[1] ? post : "none");
	return put_hook(m, object, kp, h[0] ? h[0] : h[1]);
}

/* A kernel built without one kind of hook (no netfilter, ftrace or
 * kprobes: its structures or symbols are missing) has none of it. */
static int absent_ok(struct vms_chk *c, int err)
{
	if (err == -ENOENT) {
		vms_err_clear(c->k->ctx);
		return 0;
	}
	return err;
}

int vms_chk_hooks_measure(struct vms_chk *c, vms_chk_hook_put_fn put,
			  void *arg)
{
	struct hook_meas m = { .c = c, .put = put, .arg = arg };
	uint64_t sym;
	int err;

	if ((err = absent_ok(c, vms_chk_nf_hooks_each(c, nf_measure, &m))) < 0)
		return err;
	if (!(err = ft_layout(c, &m.ft)) &&
	    !(err = vms_kernel_sym(c->k, "ftrace_ops_list", &sym)))
		err = vms_chk_ftrace_ops_each(c, ft_measure, &m);
	if ((err = absent_ok(c, err)) < 0)
		return err;
	if (!(err = kp_layout(c, &m.kp)) &&
	    !(err = vms_kernel_sym(c->k, "kprobe_table", &sym)))
		err = vms_chk_kprobes_each(c, kp_measure, &m);
	return absent_ok(c, err);
}
