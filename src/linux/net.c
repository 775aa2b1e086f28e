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
	uint8_t b[16];
	int err;

	if ((err = vms_layout_resolve_net(k->ctx, k->btf, &k->l)))
		return err;
	l = &k->l;
	memset(r, 0, sizeof(*r));
	if ((err = vms_kernel_read_u64(k, inode - l->sa_inode + l->sa_socket +
						  l->socket_sk,
				       &sk)))
		return err;
	if (!sk || sk < vms_mmu_kernel_half(&k->mmu))
		return vms_err_at(k->ctx, -ENOENT, LAYER, inode,
				  "socket inode %#llx has no sock",
				  (unsigned long long)inode);
	r->sock = sk;
	if ((err = vms_kernel_read(k, sk + l->skc_family, b, 2)))
		return err;
	r->family = vms_le16(b);
	if ((err = vms_kernel_read(k, sk + l->skc_state, b, 1)))
		return err;
	r->state = b[0];
	if ((err = vms_kernel_read(k, sk + l->sk_type, b, 2)))
		return err;
	r->type = vms_le16(b);
	if ((err = vms_kernel_read(k, sk + l->sk_protocol, b, 2)))
		return err;
	r->protocol = vms_le16(b);

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
		if (r->type == 1)
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
