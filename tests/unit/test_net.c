/* SPDX-License-Identifier: MIT */
/*
 * The socket hash-table walk on synthetic tables: chains ended by NULL
 * and by nulls markers, empty buckets, a socket's namespace; then a
 * chain that loops, a chain link into user space, and a socket whose
 * namespace pointer is not a kernel address; and while racing a running
 * guest, a torn socket left out and a broken chain ended at its bucket.
 */
#include "fakekernel.h"

#define OBJ(i) (FK_DATA_VA + 0x100 * (uint64_t)(i))
#define TABLE (FK_DATA_VA + 0x10000)
#define NET OBJ(60)

/* Offsets unlike the kernel's; the chain link is at 32 in each sock. */
static const struct vms_layout L = {
	.have_net = true, .have_socktables = true, .hlist_next = 0,
	.skc_link = 32, .skc_family = 8, .skc_state = 10, .skc_net = 16,
	.net_inum = 4, .sk_type = 72, .sk_protocol = 74, .sk_socket = 80,
	.skc_num = 12, .skc_dport = 14, .skc_rcv_saddr = 40,
	.skc_daddr = 44, .skc_v6_rcv_saddr = 48, .skc_v6_daddr = 64,
	.tcp_state = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
};

/* Socket @i: UDP over IPv4 on local port @port, chained to @next. */
static void sock(struct fake *f, int i, uint16_t port, uint64_t next)
{
	uint8_t *s = fk_at(f, OBJ(i));
	s[8] = 2;			/* AF_INET */
	s[10] = 7;			/* TCP_CLOSE, as UDP sockets are */
	memcpy(s + 12, &port, 2);
	fk_put64(s + 16, NET);
	fk_put64(s + 32, next);
	s[72] = 2;			/* SOCK_DGRAM */
	s[74] = 17;
	fk_put32(fk_at(f, NET) + 4, 4026531840u);
}

static void walk_init(struct vms_sock_walk *w, struct fake *f, uint64_t n)
{
	memset(w, 0, sizeof(*w));
	w->k = &f->k;
	vms_addrset_init(&w->seen);
	w->t[0] = (struct vms_sock_table){ TABLE, n, 8, 0 };
	w->nt = 1;
}

static void chains(void **state)
{
	struct fake f;
	struct vms_sock_walk w;
	struct vms_sk sk;
	(void)state;

	/* Bucket 0: sockets 1 and 2, ended by a nulls marker; bucket 1
	 * empty (a marker); bucket 2: socket 3, ended by NULL. */
	fk_build(&f);
	sock(&f, 1, 5001, OBJ(2) + 32);
	sock(&f, 2, 5002, 0x3);
	sock(&f, 3, 5003, 0);
	fk_put64(fk_at(&f, TABLE), OBJ(1) + 32);
	fk_put64(fk_at(&f, TABLE + 8), 0x5);
	fk_put64(fk_at(&f, TABLE + 16), OBJ(3) + 32);
	fk_open(&f, "x", 0, &L);
	walk_init(&w, &f, 3);
	for (uint16_t port = 5001; port <= 5003; port++) {
		char want[32];
		assert_int_equal(vms_sock_walk_next(&w, &sk), 1);
		snprintf(want, sizeof(want), "0.0.0.0:%u", port);
		assert_string_equal(sk.local, want);
		assert_string_equal(sk.proto, "udp");
		assert_int_equal(sk.netns, 4026531840u);
	}
	assert_int_equal(vms_sock_walk_next(&w, &sk), 0);
	vms_sock_walk_fini(&w);
	fk_close(&f);
}

static void hostile_chains(void **state)
{
	struct fake f;
	struct vms_sock_walk w;
	struct vms_sk sk;
	(void)state;

	/* 1 -> 2 -> 1 ... */
	fk_build(&f);
	sock(&f, 1, 1, OBJ(2) + 32);
	sock(&f, 2, 2, OBJ(1) + 32);
	fk_put64(fk_at(&f, TABLE), OBJ(1) + 32);
	fk_open(&f, "x", 0, &L);
	walk_init(&w, &f, 1);
	assert_int_equal(vms_sock_walk_next(&w, &sk), 1);
	assert_int_equal(vms_sock_walk_next(&w, &sk), 1);
	assert_int_equal(vms_sock_walk_next(&w, &sk), -ELOOP);
	vms_sock_walk_fini(&w);
	fk_close(&f);

	/* A link into user space. */
	fk_build(&f);
	sock(&f, 1, 1, 0x400000);
	fk_put64(fk_at(&f, TABLE), OBJ(1) + 32);
	fk_open(&f, "x", 0, &L);
	walk_init(&w, &f, 1);
	assert_int_equal(vms_sock_walk_next(&w, &sk), 1);
	assert_int_equal(vms_sock_walk_next(&w, &sk), -EBADMSG);
	vms_sock_walk_fini(&w);
	fk_close(&f);

	/* A namespace pointer into user space. */
	fk_build(&f);
	sock(&f, 1, 1, 0);
	fk_put64(fk_at(&f, OBJ(1)) + 16, 0x1000);
	fk_put64(fk_at(&f, TABLE), OBJ(1) + 32);
	fk_open(&f, "x", 0, &L);
	walk_init(&w, &f, 1);
	assert_int_equal(vms_sock_walk_next(&w, &sk), -EBADMSG);
	vms_sock_walk_fini(&w);
	fk_close(&f);
}

static void torn_while_racing(void **state)
{
	struct fake f;
	struct vms_sock_walk w;
	struct vms_sk sk;
	(void)state;

	/* Bucket 0: 1 -> 2 -> user space; socket 1's namespace pointer
	 * is garbage; bucket 1: socket 3. */
	fk_build(&f);
	sock(&f, 1, 5001, OBJ(2) + 32);
	sock(&f, 2, 5002, 0x400000);
	sock(&f, 3, 5003, 0);
	fk_put64(fk_at(&f, OBJ(1)) + 16, 0x1000);
	fk_put64(fk_at(&f, TABLE), OBJ(1) + 32);
	fk_put64(fk_at(&f, TABLE + 8), OBJ(3) + 32);
	fk_open(&f, "x", 0, &L);
	f.ctx.racing = true;
	walk_init(&w, &f, 2);
	assert_int_equal(vms_sock_walk_next(&w, &sk), 1);
	assert_string_equal(sk.local, "0.0.0.0:5002");
	assert_int_equal(vms_sock_walk_next(&w, &sk), 1);
	assert_string_equal(sk.local, "0.0.0.0:5003");
	assert_int_equal(vms_sock_walk_next(&w, &sk), 0);
	assert_int_equal(f.ctx.torn, 2);
	assert_int_equal(f.ctx.err.code, 0);
	vms_sock_walk_fini(&w);
	fk_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chains),
		cmocka_unit_test(hostile_chains),
		cmocka_unit_test(torn_while_racing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
