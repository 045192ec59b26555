// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_client.h"

/* Connected to @sock with @req sent: the socket, or a negative errno (-ENOENT: nobody there). */
static int daemon_connect(const char *sock, const char *req)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(req), off = 0;
	ssize_t n;
	int fd;

	if (strlen(sock) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(fd);
		return err == -ECONNREFUSED ? -ENOENT : err;
	}
	while (off < len) {
		n = write(fd, req + off, len - off);
		if (n <= 0) {
			close(fd);
			return -EPIPE;
		}
		off += n;
	}
	return fd;
}

int daemon_request(const char *sock, const char *req, FILE *out)
{
	char buf[65536];
	ssize_t n;
	int fd = daemon_connect(sock, req);

	if (fd < 0)
		return fd;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, out);
	close(fd);
	return n < 0 ? -errno : 0;
}

FILE *daemon_stream(const char *sock, uint64_t buffer)
{
	char req[96];
	int fd;
	FILE *f;

	snprintf(req, sizeof(req), "{\"request\": \"stream\", \"buffer\": %" PRIu64 "}\n", buffer);
	fd = daemon_connect(sock, req);

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return NULL;
	}
	/* blocks come whole or not at all: a large buffer saves system calls */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}
