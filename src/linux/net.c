/* SPDX-License-Identifier: MIT */
/*
 * Sockets, decoded from their sockfs inode: a sockfs inode is the
 * vfs_inode of a struct socket_alloc, whose socket.sk is the struct sock
 * (include/net/sock.h; its sock_common holds family, state, addresses
 * and ports). Processes reach their sockets through their fd tables, so
 * each socket comes with its owners: the view a VM firewall wants.
 *
 * Family, type and protocol numbers are the socket ABI (AF_INET 2,
 * AF_INET6 10, AF_UNIX 1, SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_RAW 3,
 * IPPROTO_TCP 6, IPPROTO_UDP 17): fixed by the user-space ABI, not by a
 * kernel version. TCP state names come from the guest's BTF (the enum
 * holding TCP_ESTABLISHED). skc_num is the local port in host order,
 * skc_dport the remote one in network order. A unix socket's name is the
 * sockaddr_un in unix_sock.addr->name, len bytes long; a leading NUL
 * marks an abstract name, shown with '@' as /proc/net/unix does.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#define LAYER "linux"
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define AF_NETLINK_ 16
#define AF_PACKET_ 17

const char *const vms_tcp_state_names[12] = {
	"TCP_ESTABLISHED", "TCP_SYN_SENT",   "TCP_SYN_RECV",
	"TCP_FIN_WAIT1",   "TCP_FIN_WAIT2",  "TCP_TIME_WAIT",
	"TCP_CLOSE",	   "TCP_CLOSE_WAIT", "TCP_LAST_ACK",
	"TCP_LISTEN",	   "TCP_CLOSING",    "TCP_NEW_SYN_RECV",
};

/* The name of TCP state @v. The enumerator names are the kernel's; their
 * values were read from BTF once, with the net layout, so a renumbering
 * would still be decoded right. */
static void tcp_state_name(const struct vms_layout *l, unsigned int v,
			   char *buf, size_t len)
{
	for (size_t i = 0; i < VMS_ARRAY_SIZE(l->tcp_state); i++)
		if (l->tcp_state[i] == v) {
			snprintf(buf, len, "%s", vms_tcp_state_names[i] + 4);
			return;
		}
	snprintf(buf, len, "%u", v);
}

static void fmt_inet(int family, const uint8_t *addr, uint16_t port,
		     char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family == AF_INET6_ ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, len, family == AF_INET6_ ? "[%s]:%u" : "%s:%u", a, port);
}

static int unix_name(struct vms_kernel *k, uint64_t sk, char *buf,
		     size_t len)
{
	const struct vms_layout *l = &k->l;
	uint64_t ua;
	uint8_t b[4], name[110];
	uint32_t n;
	int err;

	buf[0] = 0;
	if ((err = vms_kernel_read_u64(k, sk + l->unix_addr, &ua)) || !ua)
		return err;
	if ((err = vms_kernel_read(k, ua + l->unaddr_len, b, 4)))
		return err;
	n = vms_le32(b);
	if (n <= 2)
		return 0; /* unnamed (autobind pending) */
	n = VMS_MIN(n, (uint32_t)sizeof(name));
	if ((err = vms_kernel_read(k, ua + l->unaddr_name, name, n)))
		return err;
	/* name: sa_family_t (2 bytes), then sun_path. */
	size_t o = 0;
	for (uint32_t i = 2; i < n && o + 2 < len; i++) {
		char c = (char)name[i];
		if (i == 2 && !c)
			c = '@';	/* abstract namespace */
		else if (!c && i > 2)
			break;
		buf[o++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	buf[o] = 0;
	return 0;
}

int vms_sock_read(struct vms_kernel *k, uint64_t inode, struct vms_sk *r)
{
	const struct vms_layout *l;
	uint64_t sk;
	int err;

	if ((err = vms_layout_resolve_net(k->ctx, k->btf, &k->l)))
		return err;
	l = &k->l;
	memset(r, 0, sizeof(*r));
	if ((err = vms_kernel_read_u64(k, inode - l->sa_inode + l->sa_socket +
						  l->socket_sk,
				       &sk)))
		return err;
	if (!sk || !vms_is_kernel_addr(k, sk))
		return vms_err_at(k->ctx, -ENOENT, LAYER, inode,
				  "socket inode %#llx has no sock",
				  (unsigned long long)inode);
	return vms_sock_decode(k, sk, r);
}

static bool is_state(const struct vms_layout *l, unsigned int v,
		     const char *name)
{
	for (size_t i = 0; i < VMS_ARRAY_SIZE(l->tcp_state); i++)
		if (!strcmp(vms_tcp_state_names[i], name))
			return l->tcp_state[i] == v;
	return false;
}

int vms_sock_decode(struct vms_kernel *k, uint64_t sk, struct vms_sk *r)
{
	const struct vms_layout *l;
	uint64_t net, sock;
	uint8_t b[16];
	bool mini;
	int err;

	if ((err = vms_layout_resolve_net(k->ctx, k->btf, &k->l)))
		return err;
	l = &k->l;
	memset(r, 0, sizeof(*r));
	r->sock = sk;
	if ((err = vms_kernel_read(k, sk + l->skc_family, b, 2)))
		return err;
	r->family = vms_le16(b);
	if ((err = vms_kernel_read(k, sk + l->skc_state, b, 1)))
		return err;
	r->state = b[0];
	if ((err = vms_kernel_read_u64(k, sk + l->skc_net, &net)))
		return err;
	if (!vms_is_kernel_addr(k, net))
		return vms_err_at(k->ctx, -EBADMSG, LAYER, sk,
				  "sock %#llx: namespace pointer %#llx is not "
				  "a kernel address", (unsigned long long)sk,
				  (unsigned long long)net);
	if ((err = vms_kernel_read(k, net + l->net_inum, b, 4)))
		return err;
	r->netns = vms_le32(b);
	/* TIME_WAIT and request sockets are minisocks: struct
	 * inet_timewait_sock and struct request_sock share only
	 * sock_common with struct sock, and hold no socket. */
	mini = (r->family == AF_INET_ || r->family == AF_INET6_) &&
	       (is_state(l, r->state, "TCP_TIME_WAIT") ||
		is_state(l, r->state, "TCP_NEW_SYN_RECV"));
	if (mini) {
		r->type = 1;
		r->protocol = 6;
	} else {
		if ((err = vms_kernel_read(k, sk + l->sk_type, b, 2)))
			return err;
		r->type = vms_le16(b);
		if ((err = vms_kernel_read(k, sk + l->sk_protocol, b, 2)))
			return err;
		r->protocol = vms_le16(b);
		/* The inode number /proc/net shows (sock_i_ino()). */
		if ((err = vms_kernel_read_u64(k, sk + l->sk_socket, &sock)))
			return err;
		if (sock && vms_is_kernel_addr(k, sock) && l->have_files &&
		    (err = vms_kernel_read_u64(k, sock - l->sa_socket +
							  l->sa_inode +
							  l->inode_ino,
					       &r->inode)))
			return err;
	}

	if (r->family == AF_INET_ || r->family == AF_INET6_) {
		bool v6 = r->family == AF_INET6_;
		uint8_t la[16], ra[16];
		uint16_t lport, rport;
		const char *base = r->type == 1	  ? "tcp"
				   : r->type == 2 ? "udp"
				   : r->type == 3 ? "raw"
						  : "inet";
		snprintf(r->proto, sizeof(r->proto), "%s%s", base,
			 v6 ? "6" : "");
		if ((err = vms_kernel_read(k, sk + (v6 ? l->skc_v6_rcv_saddr
						      : l->skc_rcv_saddr),
					   la, v6 ? 16 : 4)) ||
		    (err = vms_kernel_read(k, sk + (v6 ? l->skc_v6_daddr
						      : l->skc_daddr),
					   ra, v6 ? 16 : 4)) ||
		    (err = vms_kernel_read(k, sk + l->skc_num, b, 2)) ||
		    (err = vms_kernel_read(k, sk + l->skc_dport, b + 2, 2)))
			return err;
		lport = vms_le16(b);
		rport = (uint16_t)(b[2] << 8 | b[3]); /* network order */
		/* raw sockets keep the protocol in skc_num. */
		fmt_inet(r->family, la, lport, r->local, sizeof(r->local));
		fmt_inet(r->family, ra, rport, r->remote, sizeof(r->remote));
		if (r->type == 1 && is_state(l, r->state, "TCP_NEW_SYN_RECV"))
			snprintf(r->state_name, sizeof(r->state_name),
				 "SYN_RECV"); /* as /proc/net/tcp shows it */
		else if (r->type == 1)
			tcp_state_name(l, r->state, r->state_name,
				       sizeof(r->state_name));
		else
			snprintf(r->state_name, sizeof(r->state_name), "%s",
				 r->state == 1 ? "ESTABLISHED" : "");
	} else if (r->family == AF_UNIX_) {
		snprintf(r->proto, sizeof(r->proto), "unix");
		snprintf(r->state_name, sizeof(r->state_name), "%s",
			 r->type == 1 ? "STREAM" : r->type == 2 ? "DGRAM"
				      : r->type == 5 ? "SEQPACKET" : "?");
		if ((err = unix_name(k, sk, r->local, sizeof(r->local))))
			return err;
	} else {
		snprintf(r->proto, sizeof(r->proto), "%s",
			 r->family == AF_NETLINK_  ? "netlink"
			 : r->family == AF_PACKET_ ? "packet"
						   : "other");
	}
	return 0;
}

/*
 * The protocol hash tables. Each is an array of buckets whose first word
 * (at @head) starts a chain of sockets linked through sock_common's
 * skc_node or skc_nulls_node; a chain ends at NULL or, for nulls lists,
 * at an odd "nulls" marker (include/linux/list_nulls.h). Tables:
 *
 *   inet_hashinfo.ehash   established, TIME_WAIT and request sockets
 *   inet_hashinfo.lhash2  listeners (v5.19+, by port and address)
 *   udp_table.hash        UDP, v4 and v6
 *   raw_v{4,6}_hashinfo.ht  raw sockets
 *
 * for the global tcp_hashinfo and udp_table and for every per-namespace
 * table a namespace points at; tables are visited once each.
 */
#define MAX_NETNS (1u << 16)
#define MAX_BUCKETS (1u << 26)
#define MAX_CHAIN (1u << 20)
#define MAX_SOCKETS (1u << 24)

static int add_table(struct vms_sock_walk *w, uint64_t base, uint64_t n,
		     size_t stride, size_t head)
{
	struct vms_kernel *k = w->k;

	if (!base)
		return 0; /* an unused table */
	if (!vms_is_kernel_addr(k, base) || n == 0 || n > MAX_BUCKETS)
		return vms_err_at(k->ctx, -EBADMSG, LAYER, base,
				  "socket hash table at %#llx with %llu "
				  "buckets is implausible",
				  (unsigned long long)base,
				  (unsigned long long)n);
	for (size_t i = 0; i < w->nt; i++)
		if (w->t[i].base == base)
			return 0;
	if (w->nt == VMS_ARRAY_SIZE(w->t))
		return vms_err(k->ctx, -E2BIG, LAYER,
			       "more than %zu distinct socket hash tables",
			       VMS_ARRAY_SIZE(w->t));
	w->t[w->nt++] = (struct vms_sock_table){ base, n, stride, head };
	return 0;
}

static int add_hashinfo(struct vms_sock_walk *w, uint64_t hi)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t ehash, lhash2;
	uint8_t b[4], c[4];
	int err;

	if (!hi)
		return 0;
	if ((err = vms_kernel_read_u64(k, hi + l->hi_ehash, &ehash)) ||
	    (err = vms_kernel_read(k, hi + l->hi_ehash_mask, b, 4)) ||
	    (err = vms_kernel_read_u64(k, hi + l->hi_lhash2, &lhash2)) ||
	    (err = vms_kernel_read(k, hi + l->hi_lhash2_mask, c, 4)) ||
	    (err = add_table(w, ehash, (uint64_t)vms_le32(b) + 1, l->ehb_size,
			     l->ehb_chain)))
		return err;
	return add_table(w, lhash2, (uint64_t)vms_le32(c) + 1, l->lhb_size,
			 l->lhb_head);
}

static int add_udp(struct vms_sock_walk *w, uint64_t ut)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t hash;
	uint8_t b[4];
	int err;

	if (!ut)
		return 0;
	if ((err = vms_kernel_read_u64(k, ut + l->ut_hash, &hash)) ||
	    (err = vms_kernel_read(k, ut + l->ut_mask, b, 4)))
		return err;
	return add_table(w, hash, (uint64_t)vms_le32(b) + 1, l->uhs_size,
			 l->uhs_head);
}

int vms_netns_each(struct vms_kernel *k, size_t net_list,
		   int (*fn)(void *arg, uint64_t net), void *arg)
{
	struct vms_addrset nets;
	uint64_t head, node;
	uint32_t count = 0;
	int err;

	if ((err = vms_kernel_sym(k, "net_namespace_list", &head)) ||
	    (err = vms_kernel_read_u64(k, head + k->l.list_next, &node)))
		return err;
	vms_addrset_init(&nets);
	while (node != head) {
		if ((err = vms_walk_visit(k, &nets, &count, MAX_NETNS, node,
					  "the network namespace list")) ||
		    (err = fn(arg, node - net_list)) < 0 ||
		    (err = vms_kernel_read_u64(k, node + k->l.list_next,
					       &node)))
			break;
	}
	vms_addrset_fini(&nets);
	return err < 0 ? err : 0;
}

struct packet_walk {
	struct vms_kernel *k;
	size_t sklist;		/* net.packet.sklist */
	int (*fn)(void *arg, uint64_t sk);
	void *arg;
	uint32_t count;		/* sockets visited, all namespaces */
};

/* One namespace's packet sockets: an hlist through sock_common.skc_node
 * (packet_create() adds each with sk_add_node_tail_rcu()). */
static int packet_netns(void *arg, uint64_t net)
{
	struct packet_walk *pw = arg;
	struct vms_kernel *k = pw->k;
	struct vms_addrset seen;
	uint64_t node;
	int err;

	if ((err = vms_kernel_read_u64(k, net + pw->sklist, &node)))
		return err;
	vms_addrset_init(&seen);
	while (node) {
		if ((err = vms_walk_visit(k, &seen, &pw->count, MAX_SOCKETS,
					  node, "a packet socket list")) ||
		    (err = pw->fn(pw->arg, node - k->l.skc_link)) < 0 ||
		    (err = vms_kernel_read_u64(k, node + k->l.hlist_next,
					       &node)))
			break;
	}
	vms_addrset_fini(&seen);
	return err < 0 ? err : 0;
}

int vms_packet_socks_each(struct vms_kernel *k,
			  int (*fn)(void *arg, uint64_t sk), void *arg)
{
	struct packet_walk pw = { .k = k, .fn = fn, .arg = arg };
	size_t size;
	int err;

	if ((err = vms_layout_resolve_socktables(k->ctx, k->btf, &k->l)))
		return err;
	/* struct net has its packet member only with CONFIG_PACKET. */
	if (vms_btf_member(k->btf, "net", "packet.sklist", &pw.sklist,
			   &size) ||
	    size != 8)
		return vms_err(k->ctx, -ENOENT, LAYER,
			       "the kernel's BTF lacks net.packet.sklist (no "
			       "packet sockets)");
	return vms_netns_each(k, k->l.net_list, packet_netns, &pw);
}

/* One namespace's own TCP and UDP tables (when the kernel has them). */
static int add_netns(void *arg, uint64_t net)
{
	struct vms_sock_walk *w = arg;
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	uint64_t p;
	int err;

	if (l->net_tcp_hi != VMS_NO_MEMBER &&
	    ((err = vms_kernel_read_u64(k, net + l->net_tcp_hi, &p)) ||
	     (err = add_hashinfo(w, p))))
		return err;
	if (l->net_udp_table != VMS_NO_MEMBER &&
	    ((err = vms_kernel_read_u64(k, net + l->net_udp_table, &p)) ||
	     (err = add_udp(w, p))))
		return err;
	return 0;
}

int vms_sock_walk_init(struct vms_sock_walk *w, struct vms_kernel *k)
{
	const struct vms_layout *l;
	uint64_t va;
	int err;

	memset(w, 0, sizeof(*w));
	w->k = k;
	vms_addrset_init(&w->seen);
	if ((err = vms_layout_resolve_socktables(k->ctx, k->btf, &k->l)))
		return err;
	l = &k->l;
	if ((err = vms_kernel_sym(k, "tcp_hashinfo", &va)) ||
	    (err = add_hashinfo(w, va)) ||
	    (err = vms_kernel_sym(k, "udp_table", &va)) ||
	    (err = add_udp(w, va)))
		return err;
	for (int v6 = 0; v6 < 2; v6++) {
		if ((err = vms_kernel_sym(k, v6 ? "raw_v6_hashinfo"
						: "raw_v4_hashinfo", &va))) {
			vms_err_clear(k->ctx); /* IPv6 may be a module */
			continue;
		}
		if ((err = add_table(w, va + l->raw_ht, l->raw_ht_n, 8, 0)))
			return err;
	}
	if (l->net_tcp_hi == VMS_NO_MEMBER && l->net_udp_table == VMS_NO_MEMBER)
		return 0;
	/* Per-namespace tables, from every namespace on net_namespace_list. */
	return vms_netns_each(k, l->net_list, add_netns, w);
}

void vms_sock_walk_fini(struct vms_sock_walk *w)
{
	vms_addrset_fini(&w->seen);
}

/* The chain head of bucket @i of table @t, reading buckets ahead. */
static int bucket_head(struct vms_sock_walk *w, const struct vms_sock_table *t,
		       uint64_t i, uint64_t *ret)
{
	uint64_t per = sizeof(w->heads) / t->stride;
	int err;

	if (!per) /* a bucket larger than the read-ahead buffer */
		return vms_kernel_read_u64(w->k, t->base + i * t->stride +
						       t->head, ret);
	if (i < w->heads_first || i >= w->heads_first + w->heads_n) {
		uint64_t n = VMS_MIN(per, t->n - i);
		if ((err = vms_kernel_read(w->k, t->base + i * t->stride,
					   w->heads, n * t->stride)))
			return err;
		w->heads_first = i;
		w->heads_n = n;
	}
	*ret = vms_le64(w->heads + (i - w->heads_first) * t->stride + t->head);
	return 0;
}

int vms_sock_walk_next(struct vms_sock_walk *w, struct vms_sk *ret)
{
	struct vms_kernel *k = w->k;
	const struct vms_layout *l = &k->l;
	int err;

	for (;;) {
		uint64_t node = w->node;
		if (!node || (node & 1)) {
			/* The chain ended: the next non-empty bucket. */
			const struct vms_sock_table *t;
			if (w->ti >= w->nt)
				return 0;
			t = &w->t[w->ti];
			if (w->bucket >= t->n) {
				w->ti++;
				w->bucket = 0;
				w->heads_n = 0;
				continue;
			}
			if ((err = vms_tick(k->ctx)) ||
			    (err = bucket_head(w, t, w->bucket++, &w->node)))
				return err;
			w->chain_len = 0;
			continue;
		}
		if (++w->chain_len > MAX_CHAIN)
			return vms_err_at(k->ctx, -E2BIG, LAYER, node,
					  "a socket hash chain is longer than "
					  "%u", MAX_CHAIN);
		/* hlist_node and hlist_nulls_node both start with next. */
		if ((err = vms_walk_visit(k, &w->seen, &w->count, MAX_SOCKETS,
					  node, "the socket hash tables")) ||
		    (err = vms_kernel_read_u64(k, node + l->hlist_next,
					       &w->node))) {
			/* Racing a running guest (vms_torn), a chain that
			 * breaks ends there; the next bucket is read. */
			if (!vms_torn(k->ctx, err,
				      "a socket hash chain from %#llx",
				      (unsigned long long)node))
				return err;
			w->node = 0;
			continue;
		}
		err = vms_sock_decode(k, node - l->skc_link, ret);
		if (!err)
			return 1;
		if (!vms_torn(k->ctx, err, "socket %#llx",
			      (unsigned long long)(node - l->skc_link)))
			return err;
	}
}

bool vms_sock_is_listener(const struct vms_sk *s)
{
	if (!strncmp(s->proto, "tcp", 3))
		return !strcmp(s->state_name, "LISTEN");
	return !strncmp(s->proto, "udp", 3) && !s->state_name[0];
}
