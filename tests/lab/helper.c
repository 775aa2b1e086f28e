/*
 * Lab guest helper: a known process for the ground-truth tests.
 *
 *   vmsight-lab-helper THREADS UID GID [net|inject|sniff|family]
 *
 * Drops to UID/GID (so the tests can check credentials that are not
 * root's), starts THREADS-1 extra threads (so the thread count is not
 * trivially 1), holds file descriptors of several kinds (an eventfd, an
 * epoll instance, both ends of a pipe, /tmp/marker) and a shared mapping
 * of /tmp/marker, for the lsof and maps views; with "net", also sockets
 * of every kind netstat shows (TCP over IPv4 and IPv6, listening and
 * connected, UDP, UNIX named, abstract and unnamed, raw over IPv4 and
 * IPv6, and a TCP listener on port 5005 that no process holds: its only
 * reference is in flight, in an SCM_RIGHTS message that nobody receives);
 * with "inject", injected code for the intrusion-detection checks (see
 * inject()); with "sniff", what a sniffer with a backdoor holds (see
 * sniff()); with "family", two children after the drop to UID (for the
 * rootkit to give root to); with "spin", it never sleeps: a busy loop at
 * the lowest priority (SCHED_IDLE), always on a run queue, for the
 * rootkit to hide from the task list and the pid table, holding a packet
 * socket; with
 * "watch=PID", it holds a pidfd of process PID; and sleeps forever.
 * A socket that cannot be made is reported on stderr, not fatal. Built
 * statically on the host and copied into the lab initramfs; it never runs
 * on the host.
 */
#define _GNU_SOURCE /* SCHED_IDLE */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void warn(const char *what)
{
	perror(what);
}

static int inet(int family, int type, const char *addr, int port)
{
	int s = socket(family, type, 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons((unsigned short)port) };
	int one = 1;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		inet_pton(AF_INET, addr, &a4.sin_addr);
		if (bind(s, (struct sockaddr *)&a4, sizeof(a4)))
			warn("bind4");
	} else {
		inet_pton(AF_INET6, addr, &a6.sin6_addr);
		if (bind(s, (struct sockaddr *)&a6, sizeof(a6)))
			warn("bind6");
	}
	if (type == SOCK_STREAM && listen(s, 4))
		warn("listen");
	return s;
}

/* Send @fd over a socket pair that keeps the message unread, and close
 * it: the socket then belongs to no process. */
static void in_flight(int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	int sp[2];

	memset(&u, 0, sizeof(u));
	u.h.cmsg_level = SOL_SOCKET;
	u.h.cmsg_type = SCM_RIGHTS;
	u.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&u.h), &fd, sizeof(int));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || sendmsg(sp[0], &m, 0) != 1)
		warn("in flight");
	close(fd);
}

static void sockets(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(5001) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int l, c, sp[2], u;

	l = inet(AF_INET, SOCK_STREAM, "127.0.0.1", 5001);
	c = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) || accept(l, NULL, NULL) < 0)
		warn("connect");
	inet(AF_INET6, SOCK_STREAM, "::1", 5002);
	inet(AF_INET, SOCK_DGRAM, "127.0.0.1", 5003);
	inet(AF_INET6, SOCK_DGRAM, "::1", 5004);
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(un.sun_path, "/tmp/vmsight.sock");
	if (bind(u, (struct sockaddr *)&un, sizeof(un)) || listen(u, 4))
		warn("unix");
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(un.sun_path, 0, sizeof(un.sun_path));
	memcpy(un.sun_path + 1, "vmsight-abstract", 16);
	if (bind(u, (struct sockaddr *)&un,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 17)))
		warn("abstract");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		warn("socketpair");
	if (socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) < 0 ||
	    socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) < 0)
		warn("raw");
	in_flight(inet(AF_INET, SOCK_STREAM, "127.0.0.1", 5005));
}

/* What injected code looks like to the checks: an anonymous mapping
 * that is writable and executable, holding code (here a function that
 * returns 42: mov $42,%eax; ret), and an anonymous read-write mapping
 * holding a copy of this program's ELF header, as a reflectively loaded
 * library would. Both are touched, so they are resident when dumped. */
static void inject(void)
{
	static const unsigned char code[] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 };
	unsigned char *x = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *e = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/proc/self/exe", O_RDONLY);

	if (x == MAP_FAILED || e == MAP_FAILED || fd < 0 ||
	    read(fd, e, 64) != 64) {
		warn("inject");
		return;
	}
	close(fd);
	memcpy(x, code, sizeof(code));
	if (((int (*)(void))x)() != 42)
		warn("injected code");
	printf("VMS-TRUTH injected %d rwx %lx elf %lx\n", (int)getpid(),
	       (unsigned long)x, (unsigned long)e);
	fflush(stdout);
}

/* A sniffer with a backdoor: a packet socket that has put lo into
 * promiscuous mode, and a TCP listener on port 31337. */
static void sniff(void)
{
	struct packet_mreq mr = { .mr_ifindex = (int)if_nametoindex("lo"),
				  .mr_type = PACKET_MR_PROMISC };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (s < 0 || !mr.mr_ifindex ||
	    setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		warn("sniff");
	inet(AF_INET, SOCK_STREAM, "0.0.0.0", 31337);
}

/* Two children that sleep, whose parent is this uid-1000 process. */
static void family(void)
{
	for (int i = 0; i < 2; i++) {
		pid_t c = fork();
		if (c < 0)
			warn("fork");
		if (c == 0)
			for (;;)
				pause();
	}
}

/* Never sleep: the task is on a run queue whenever memory is dumped.
 * SCHED_IDLE runs it only when nothing else wants the CPU, so the guest
 * goes on as before. */
static void spin(void)
{
	struct sched_param sp = { 0 };

	/* A sniffer's socket, which only the kernel's packet socket list
	 * shows once the rootkit has hidden this process. */
	if (socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) < 0)
		warn("packet socket");
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		warn("sched_setscheduler");
	for (volatile unsigned long n = 0;; n++)
		;
}

/* Hold a pidfd of process @pid (pidfd_open(2), v5.3+). */
static void watch(const char *pid)
{
	if (syscall(SYS_pidfd_open, atoi(pid), 0) < 0)
		warn("pidfd_open");
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		return 2;
	if (argc == 5 && !strcmp(argv[4], "spin"))
		spin();
	if (argc == 5 && !strncmp(argv[4], "watch=", 6))
		watch(argv[4] + 6);
	if (argc == 5 && !strcmp(argv[4], "net"))
		sockets();
	if (argc == 5 && !strcmp(argv[4], "inject"))
		inject();
	if (argc == 5 && !strcmp(argv[4], "sniff"))
		sniff();
	int threads = atoi(argv[1]);
	gid_t gid = (gid_t)atoi(argv[3]);
	int p[2], fd = open("/tmp/marker", O_RDONLY);
	const volatile char *marker;
	if (fd < 0 || pipe(p) || eventfd(0, 0) < 0 || epoll_create1(0) < 0 ||
	    (marker = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0)) ==
		    MAP_FAILED)
		return 1;
	/* Touch the mapping: its page is then in this process's page
	 * tables, where a scan by virtual address (YARA) finds the marker. */
	(void)marker[0];
	if (setgroups(1, &gid) || setgid(gid) || setuid((uid_t)atoi(argv[2])))
		return 1;
	if (argc == 5 && !strcmp(argv[4], "family"))
		family();
	for (int i = 1; i < threads && i < 64; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, park, NULL))
			return 1;
	}
	park(NULL);
	return 0;
}
