// SPDX-License-Identifier: GPL-2.0
/*
 * vl_fight DIR SECONDS [N]: N processes (default 2) fight over DIR's
 * i_rwsem, each creating and unlinking its own names in it, every step
 * under the directory's lock held exclusively. Each prints, when done:
 *   fight pid=PID ops=N elapsed_ns=NS
 * so a test can compare what `vfslock top` saw with what really ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int fight(const char *dir, double secs)
{
	unsigned long long start = now_ns(), end = start + secs * 1e9, ops = 0, t;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/f.%d", dir, getpid());
	while ((t = now_ns()) < end) {
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		if (fd < 0 || close(fd) || unlink(path)) {
			fprintf(stderr, "vl_fight: %s: %s\n", path, strerror(errno));
			return 1;
		}
		ops++;
	}
	printf("fight pid=%d ops=%llu elapsed_ns=%llu\n", getpid(), ops, t - start);
	return 0;
}

int main(int argc, char **argv)
{
	int i, n = argc > 3 ? atoi(argv[3]) : 2, status, bad = 0;
	double secs = argc > 2 ? atof(argv[2]) : 0;

	if (argc < 3 || secs <= 0 || n < 1) {
		fprintf(stderr, "usage: vl_fight DIR SECONDS [N]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++)
		if (fork() == 0)
			return fight(argv[1], secs);
	while (wait(&status) > 0)
		bad |= !WIFEXITED(status) || WEXITSTATUS(status);
	return bad;
}
