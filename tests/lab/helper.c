/*
 * Lab guest helper: a known process for the ground-truth tests.
 *
 *   vmsight-lab-helper THREADS UID GID
 *
 * Drops to UID/GID (so the tests can check credentials that are not
 * root's), starts THREADS-1 extra threads (so the thread count is not
 * trivially 1), holds file descriptors of several kinds (an eventfd, an
 * epoll instance, both ends of a pipe, /tmp/marker) and a shared mapping
 * of /tmp/marker, for the lsof and maps views, and sleeps forever. Built
 * statically on the host and copied into the lab initramfs; it never runs
 * on the host.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int threads = atoi(argv[1]);
	gid_t gid = (gid_t)atoi(argv[3]);
	int p[2], fd = open("/tmp/marker", O_RDONLY);
	if (fd < 0 || pipe(p) || eventfd(0, 0) < 0 || epoll_create1(0) < 0 ||
	    mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
		return 1;
	if (setgroups(1, &gid) || setgid(gid) || setuid((uid_t)atoi(argv[2])))
		return 1;
	for (int i = 1; i < threads && i < 64; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, park, NULL))
			return 1;
	}
	park(NULL);
	return 0;
}
