/* SPDX-License-Identifier: MIT */
/*
 * network: what can see or accept traffic.
 *
 *   Packet sockets (AF_PACKET) see every frame of an interface: sniffers,
 *   and backdoors that wait for a magic packet without any port open.
 *   Raw IP sockets see every packet of a protocol (ICMP knock backdoors).
 *   Each is a finding unless the policy allows its process ("allow
 *   packet dhclient", "allow raw ping"). Raw sockets are also taken from
 *   the kernel's raw hash tables, and packet sockets from each
 *   namespace's packet socket list (net.packet.sklist), so one that no
 *   listed process holds (passed away, or held by a hidden task's file
 *   table) is still seen. The file tables of the tasks that only
 *   hidden_tasks' other views show (vms_chk_offlist_tasks()) are
 *   searched too, so such a socket is named by its hidden holder, which
 *   no allow rule excuses.
 *
 *   An interface in promiscuous mode (IFF_PROMISC, or a non-zero
 *   promiscuity count) accepts frames for other hosts. A finding unless
 *   allowed ("allow promisc br0").
 *
 *   Listeners: TCP sockets in LISTEN and unconnected UDP sockets, in
 *   every network namespace, with the process that holds each. Without
 *   "allow listener" rules they are an inventory (severity info); with
 *   them, each listener no rule allows is a finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

#define LAYER "checks"
#define AF_INET_ 2
#define AF_INET6_ 10
#define AF_PACKET_ 17
#define SOCK_RAW_ 3
#define IFF_PROMISC_ 0x100	/* include/uapi/linux/if.h */
#define MAX_NETDEVS 65536
#define MAX_HOLDERS (1u << 20)

/* A socket held by a process: the first holder found names it. */
struct holder {
	uint64_t sock;
	int32_t pid;
	bool hidden;		/* not on the task list (hidden_tasks) */
	char comm[64];
};

struct net_run {
	struct vms_chk *c;
	struct holder *h;
	size_t nh, cap;
	struct vms_addrset held;	/* sockets in @h */
	struct vms_addrset reported; /* sockets already reported */
	size_t npacket;		/* packet sockets on the lists */
	size_t nhidden;		/* tasks off the task list searched */
	int stop;		/* < 0: a search of one of them failed */
};

static int cmp_holder(const void *a, const void *b)
{
	uint64_t x = ((const struct holder *)a)->sock;
	uint64_t y = ((const struct holder *)b)->sock;

	return x < y ? -1 : x > y;
}

/* After by_process(): @h is sorted by socket. */
static const struct holder *holder_of(const struct net_run *x, uint64_t sk)
{
	struct holder key = { .sock = sk };

	return x->nh ? bsearch(&key, x->h, x->nh, sizeof(key), cmp_holder)
		     : NULL;
}

/* Record @h as the holder of its socket, unless one was found first. */
static int add_holder(struct net_run *x, const struct holder *h)
{
	int r = vms_addrset_add(&x->held, h->sock);

	if (r <= 0)
		return r;
	if ((r = vms_grow(x->c->k->ctx, &x->h, &x->cap, x->nh, sizeof(*x->h),
			  64, MAX_HOLDERS)))
		return r != -E2BIG ? r
				   : vms_err(x->c->k->ctx, -E2BIG, LAYER,
					     "over %u sockets held by "
					     "processes", MAX_HOLDERS);
	x->h[x->nh++] = *h;
	return 0;
}

static bool is_raw(const struct vms_sk *s)
{
	return (s->family == AF_INET_ || s->family == AF_INET6_) &&
	       s->type == SOCK_RAW_;
}

bool vms_chk_sniffer_rule(const struct vms_policy *p,
			  const struct vms_net_facts *f, char *buf,
			  size_t len)
{
	const char *why = !f->held    ? (f->packet
					    ? "; held by no task found, or in "
					      "flight in a unix socket message"
					    : ": passed away or held by no task "
					      "found")
			  : f->hidden ? "; the process is hidden from the task "
					"list"
				      : "";

	/* A name on the allowlist does not excuse a hidden process. */
	if (f->held && !f->hidden &&
	    vms_pol_allows(p, f->packet ? VMS_POL_PACKET : VMS_POL_RAW,
			   f->comm))
		return false;
	if (f->packet)
		snprintf(buf, len,
			 "%s a packet socket (inode %llu, netns %u): it sees "
			 "every frame of its interfaces%s",
			 f->held ? "holds" : "no process holds",
			 (unsigned long long)f->inode, f->netns, why);
	else
		snprintf(buf, len,
			 "%s a %s socket for IP protocol %u (inode %llu, "
			 "netns %u)%s",
			 f->held ? "holds" : "no process holds", f->proto,
			 f->protocol, (unsigned long long)f->inode, f->netns,
			 why);
	return true;
}

enum vms_listener_verdict
vms_chk_listener_rule(const struct vms_policy *p,
		      const struct vms_net_facts *f, char *buf, size_t len)
{
	const char *comm = f->held ? f->comm : "";

	if (f->held)
		snprintf(buf, len, "listening, held by pid %d (%s)%s, netns %u",
			 f->pid, f->comm,
			 f->hidden ? ", hidden from the task list" : "",
			 f->netns);
	else
		snprintf(buf, len, "listening, held by no process, netns %u",
			 f->netns);
	if (!vms_pol_has(p, VMS_POL_LISTENER))
		return VMS_LISTENER_INVENTORY;
	if (!f->hidden &&
	    vms_pol_allows_listener(p, f->proto, f->local, comm))
		return VMS_LISTENER_ALLOWED;
	snprintf(buf + strlen(buf), len - strlen(buf),
		 "; no 'allow listener' rule matches");
	return VMS_LISTENER_FINDING;
}

static struct vms_net_facts facts(const struct vms_sk *s,
				  const struct holder *h)
{
	return (struct vms_net_facts){
		.packet = s->family == AF_PACKET_, .proto = s->proto,
		.protocol = s->protocol, .local = s->local, .inode = s->inode,
		.netns = s->netns, .held = h, .hidden = h && h->hidden,
		.pid = h ? h->pid : 0, .comm = h ? h->comm : "",
	};
}

/* A packet or raw socket, once. */
static int sniffing_socket(struct net_run *x, const struct vms_sk *s,
			   const struct holder *h)
{
	struct vms_net_facts f = facts(s, h);
	char object[160], evidence[512];
	int r;

	if (!f.packet && !is_raw(s))
		return 0;
	if ((r = vms_addrset_add(&x->reported, s->sock)) <= 0)
		return r;
	if (!vms_chk_sniffer_rule(x->c->policy, &f, evidence,
				  sizeof(evidence)))
		return 0;
	if (h)
		snprintf(object, sizeof(object), "pid %d (%s)", h->pid,
			 h->comm);
	else
		snprintf(object, sizeof(object), "socket %#llx",
			 (unsigned long long)s->sock);
	return vms_chk_emit(x->c, object, evidence, s->sock, 0,
			    h ? h->comm : "");
}

/* A process whose file table cannot be read is a finding: a forged
 * table must not hide its sockets. */
static int unreadable(struct net_run *x, const struct vms_task *t)
{
	struct vms_kernel *k = x->c->k;
	char object[96], evidence[512];

	snprintf(object, sizeof(object), "pid %d (%s)", t->pid, t->comm);
	snprintf(evidence, sizeof(evidence),
		 "its file table could not be read: %.400s", k->ctx->err.msg);
	vms_err_clear(k->ctx);
	return vms_chk_emit(x->c, object, evidence, t->addr, 0, "");
}

/* The sockets in one task's file table, held by @h. */
static int task_sockets(struct net_run *x, const struct vms_task *t,
			struct holder *h)
{
	struct vms_kernel *k = x->c->k;
	struct vms_fd_walk fw;
	struct vms_fd fd;
	int fr, err = 0;

	if (vms_fd_walk_init(&fw, k, t)) {
		err = unreadable(x, t);
		return err < 0 ? err : 0;
	}
	while ((fr = vms_fd_walk_next(&fw, &fd)) == 1) {
		struct vms_sk s;
		if (!fd.socket)
			continue;
		if (vms_sock_read(k, fd.inode_addr, &s)) {
			vms_err_clear(k->ctx); /* not yet connected */
			continue;
		}
		h->sock = s.sock;
		if ((err = add_holder(x, h)) < 0 ||
		    (err = sniffing_socket(x, &s, h)) < 0)
			return err;
		err = 0;
	}
	if (fr < 0) {
		err = unreadable(x, t);
		return err < 0 ? err : 0;
	}
	return 0;
}

/* A task that hidden_tasks' other views found off the task list. */
static int offlist_task(void *arg, uint64_t task, int32_t pid,
			const char *comm)
{
	struct net_run *x = arg;
	struct vms_task t = { .addr = task, .pid = pid };
	struct holder h = { .pid = pid, .hidden = true };

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	memcpy(h.comm, t.comm, sizeof(h.comm));
	x->nhidden++;
	/* Kept apart from the views' own errors, which only cost the
	 * attribution: this one (a stop from the finding callback) ends
	 * the check. */
	return x->stop = task_sockets(x, &t, &h);
}

/* View 1: the sockets in processes' file tables. The first process
 * found holding a socket names it, both here and for the listeners
 * (by_table() looks holders up once @h is sorted). The task list comes
 * first; then the tasks that only the pid table, the run queues or
 * other processes' open files show (hidden_tasks' views), so that a
 * socket of a hidden process is reported with it. */
static int by_process(struct net_run *x)
{
	struct vms_kernel *k = x->c->k;
	struct vms_task_walk w;
	struct vms_task t;
	int r, err = 0;

	if ((err = vms_task_walk_init(&w, k)))
		return err;
	while (!err && (r = vms_task_walk_next(&w, &t)) == 1) {
		struct holder h = { .pid = t.pid };
		if (t.kthread || !t.mm)
			continue;
		memcpy(h.comm, t.comm, sizeof(h.comm));
		err = task_sockets(x, &t, &h);
	}
	vms_task_walk_fini(&w);
	if (err || r < 0)
		return err ? err : r;
	/* Without those views (a kernel that lacks one, or a pid table
	 * that cannot be walked) such a socket is still reported, by the
	 * other views, with no holder. */
	if ((err = vms_chk_offlist_tasks(x->c, offlist_task, x)) < 0 &&
	    err != -ENOMEM && !x->stop) {
		vms_log(k->ctx, VMS_LOG_WARN,
			"network: the tasks off the task list are not "
			"searched for sockets: %s", k->ctx->err.msg);
		vms_err_clear(k->ctx);
		err = 0;
	}
	if (err)
		return err;
	vms_log(k->ctx, VMS_LOG_INFO,
		"network: %zu sockets held, %zu tasks off the task list "
		"searched", x->nh, x->nhidden);
	vms_qsort(x->h, x->nh, sizeof(*x->h), cmp_holder);
	return 0;
}

static int listener(struct net_run *x, const struct vms_sk *s)
{
	const struct holder *h = holder_of(x, s->sock);
	struct vms_net_facts f = facts(s, h);
	char object[224], evidence[256];

	if (!vms_sock_is_listener(s))
		return 0;
	snprintf(object, sizeof(object), "%s %s", s->proto, s->local);
	switch (vms_chk_listener_rule(x->c->policy, &f, evidence,
				      sizeof(evidence))) {
	case VMS_LISTENER_ALLOWED:
		return 0;
	case VMS_LISTENER_INVENTORY:
		return vms_chk_emit_sev(x->c, VMS_SEV_INFO, object, evidence,
					s->sock, 0, f.comm);
	case VMS_LISTENER_FINDING:
		break;
	}
	return vms_chk_emit(x->c, object, evidence, s->sock, 0, f.comm);
}

/* View 2: the protocol hash tables (listeners, and raw sockets that no
 * process holds). */
static int by_table(struct net_run *x)
{
	struct vms_sock_walk w;
	struct vms_sk s;
	int r, err = 0;

	if ((err = vms_sock_walk_init(&w, x->c->k)))
		return err;
	while ((r = vms_sock_walk_next(&w, &s)) == 1)
		if ((err = sniffing_socket(x, &s, holder_of(x, s.sock))) < 0 ||
		    (err = listener(x, &s)) < 0)
			break;
	vms_sock_walk_fini(&w);
	return err < 0 ? err : r < 0 ? r : 0;
}

/* View 3: every packet socket on its namespace's list, held or not. */
static int packet_sock(void *arg, uint64_t sk)
{
	struct net_run *x = arg;
	struct vms_sk s;
	int err;

	x->npacket++;
	if ((err = vms_sock_decode(x->c->k, sk, &s)))
		return err;
	if (s.family != AF_PACKET_)
		return vms_err_at(x->c->k->ctx, -EBADMSG, LAYER, sk,
				  "sock %#llx on a packet socket list has "
				  "family %u", (unsigned long long)sk,
				  s.family);
	return sniffing_socket(x, &s, holder_of(x, s.sock));
}

static int by_packet_list(struct net_run *x)
{
	struct vms_kernel *k = x->c->k;
	int err = vms_packet_socks_each(k, packet_sock, x);

	if (!err)
		vms_log(k->ctx, VMS_LOG_INFO,
			"network: %zu packet sockets on the namespaces' lists",
			x->npacket);
	if (err != -ENOENT)
		return err;
	vms_log(k->ctx, VMS_LOG_INFO, "network: %s", k->ctx->err.msg);
	vms_err_clear(k->ctx);
	return 0;
}

static int netns_devices(void *arg, uint64_t net)
{
	struct net_run *x = arg;
	struct vms_kernel *k = x->c->k;
	const struct vms_layout *l = &k->l;
	struct vms_addrset seen;
	uint64_t head = net + l->net_dev_base, node;
	uint32_t count = 0, inum = 0;
	uint8_t b[4];
	int err;

	if (!vms_kernel_read(k, net + l->net_inum, b, 4))
		inum = vms_le32(b);
	vms_err_clear(k->ctx);
	if ((err = vms_kernel_read_u64(k, head + l->list_next, &node)))
		return err;
	vms_addrset_init(&seen);
	while (node != head) {
		uint64_t dev = node - l->netdev_list;
		uint32_t flags, promisc;
		char name[65], object[96], evidence[160];

		if ((err = vms_walk_visit(k, &seen, &count, MAX_NETDEVS, node,
					  "a network device list")) ||
		    (err = vms_kernel_read(k, dev + l->netdev_flags, b, 4)))
			break;
		flags = vms_le32(b);
		if ((err = vms_kernel_read(k, dev + l->netdev_promisc, b, 4)))
			break;
		promisc = vms_le32(b);
		vms_kernel_read_str(k, dev + l->netdev_name, name,
				    VMS_MIN(sizeof(name), l->netdev_name_len));
		if (((flags & IFF_PROMISC_) || promisc) &&
		    !vms_pol_allows(x->c->policy, VMS_POL_PROMISC, name)) {
			snprintf(object, sizeof(object), "interface %s", name);
			snprintf(evidence, sizeof(evidence),
				 "in promiscuous mode (IFF_PROMISC %s, "
				 "promiscuity %u), netns %u",
				 flags & IFF_PROMISC_ ? "set" : "clear",
				 promisc, inum);
			if ((err = vms_chk_emit(x->c, object, evidence, dev, 0,
						"")) < 0)
				break;
		}
		if ((err = vms_kernel_read_u64(k, node + l->list_next, &node)))
			break;
	}
	vms_addrset_fini(&seen);
	return err < 0 ? err : 0;
}

int vms_check_network(struct vms_chk *c)
{
	struct vms_kernel *k = c->k;
	struct net_run x = { .c = c };
	int err;

	if ((err = vms_layout_resolve_checks(k->ctx, k->btf, &k->l)) ||
	    (err = vms_layout_resolve_files(k->ctx, k->btf, &k->l)) ||
	    (err = vms_layout_resolve_net(k->ctx, k->btf, &k->l)) ||
	    (err = vms_layout_resolve_socktables(k->ctx, k->btf, &k->l)))
		return err;
	vms_addrset_init(&x.held);
	vms_addrset_init(&x.reported);
	if (!(err = by_process(&x)) && !(err = by_table(&x)) &&
	    !(err = by_packet_list(&x)))
		err = vms_netns_each(k, k->l.net_list, netns_devices, &x);
	vms_addrset_fini(&x.held);
	vms_addrset_fini(&x.reported);
	free(x.h);
	return err < 0 ? err : 0;
}
