// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock daemon [--config FILE]     load the probes once and serve
 * vfslock daemon status [--socket S] ask a running daemon how it is
 * vfslock daemon stream [-o FILE]   its live records, as a trace
 *
 * The daemon is a recorder (src/recorder.c) of the whole system that never
 * stops: every record goes to a size-bounded trace in trace_dir and through
 * the one pipeline, whose result it serves on a Unix socket (the same JSON
 * and text as `vfslock report`) and as OpenMetrics on a loopback port.
 * One thread, one epoll loop: the ring buffer is read between clients'
 * turns, and no client write ever blocks it. A client may also take the
 * live records as a stream in the trace format, which viewers read with
 * the same reader as a file; one that lags behind has its records dropped
 * and counted, never the daemon's. docs/daemon.md is the manual.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "daemon_cfg.h"
#include "daemon_client.h"
#include "metrics.h"
#include "recorder.h"
#include "util.h"

/* A client that reads nothing of its reply for this long is let go. */
#define STALL_NS	(10 * 1000000000ull)
/* How often the records for streaming clients are sent on. */
#define STREAM_FLUSH_NS	(200 * 1000000ull)
/* After a full disk, how often writing is tried again. */
#define RESUME_NS	(10 * 1000000000ull)
#define MAX_CLIENTS	64

enum client_kind { CL_SOCKET, CL_HTTP };

struct client {
	int fd;
	bool gone;			/* closed; freed once the events in hand are done */
	enum client_kind kind;
	char in[4096];
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	uint64_t last_progress;
	/* a stream: the live records as a trace, sent as they come */
	bool stream, want_out;
	struct vl_trace_writer *w;
	size_t head;			/* bytes of the META and KSYMS blocks not sent yet */
	uint64_t bound;			/* how far it may lag: stream_buffer, or less if it asked */
	uint64_t dropped;		/* records not sent since the last LOST record */
	uint64_t drop_since;		/* the time of the first of them */
};

struct daemon {
	const char *config;
	struct vl_daemon_cfg cfg;
	struct vl_recorder r;
	bool recorder_open;
	char trace_path[512];
	char paused[256];		/* why writing stopped; "" while writing */
	uint64_t resume_at;
	int ep, sfd, unix_fd, http_fd;
	struct client *cl[MAX_CLIENTS];
	int nclients;
	uint64_t client_dropped;
	uint64_t stream_dropped;	/* records not sent to streams that lagged behind */
	uint64_t next_stream_flush;
	uint64_t t_start;
};

static void stream_tap(void *ctx, const void *rec, size_t size);
static void end_streams(struct daemon *d, const char *why);

static int daemon_help(void)
{
	fprintf(stderr,
		"Usage: vfslock daemon [--config FILE]\n"
		"       vfslock daemon status [--socket PATH]\n"
		"       vfslock daemon stream [--socket PATH] [-o FILE] [--buffer SIZE]\n\n"
		"Load the probes once, record the whole system into a size-bounded trace\n"
		"directory, and serve `vfslock report` and other clients on a Unix socket\n"
		"and OpenMetrics over HTTP (docs/daemon.md). Runs in the foreground, logs\n"
		"to stderr; SIGHUP reloads the configuration, SIGTERM or SIGINT detach\n"
		"everything, flush the trace and exit.\n\n"
		"  --config FILE   configuration (default %s; optional there)\n"
		"  --socket PATH   the daemon's socket (default %s)\n"
		"  -o FILE         stream: where the live trace goes (default stdout)\n"
		"  --buffer SIZE   stream: drop records rather than lag more than SIZE behind\n"
		"                  (at most the daemon's stream_buffer)\n\n"
		"Exit status: 0 stopped by a signal, 2 could not start or keep running.\n",
		VL_DAEMON_CONFIG, VL_DAEMON_SOCKET);
	return EXIT_TOOL;
}

/* ---- the trace directory ------------------------------------------------ */

static bool is_trace_name(const char *n)
{
	return !strncmp(n, "vfslock-", 8) && strstr(n, ".vlt");
}

/*
 * Older traces go, oldest first (their names sort by time), until they hold
 * at most half of trace_max_size: the trace being written has the other half.
 */
static void prune_traces(struct daemon *d)
{
	struct dirent **names;
	uint64_t total = 0;
	int n, i;

	n = scandir(d->cfg.trace_dir, &names, NULL, alphasort);
	if (n < 0)
		return;
	for (i = n - 1; i >= 0; i--) {
		char path[600];
		struct stat st;

		if (!is_trace_name(names[i]->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->cfg.trace_dir, names[i]->d_name);
		if (stat(path, &st))
			continue;
		total += st.st_size;
		if (total > d->cfg.trace_max / 2 && !unlink(path))
			p_info("daemon: removed %s: the trace directory is bounded to %" PRIu64
			       " bytes", path, d->cfg.trace_max);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void next_trace_path(struct daemon *d)
{
	time_t t = time(NULL);
	char stamp[32];

	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&t));
	snprintf(d->trace_path, sizeof(d->trace_path), "%s/vfslock-%s.vlt", d->cfg.trace_dir,
		 stamp);
}

/* ---- the recorder -------------------------------------------------------- */

/* A full disk (or any write error) pauses the trace; checking goes on. */
static void pause_recording(struct daemon *d, const char *why)
{
	snprintf(d->paused, sizeof(d->paused), "%s", why);
	p_warn("daemon: recording to %s paused: %s; checking goes on, writing is tried "
	       "again every %llu s", d->trace_path, d->paused, RESUME_NS / 1000000000ull);
	d->resume_at = now_ns() + RESUME_NS;
}

static int start_recorder(struct daemon *d, char *err, size_t errlen)
{
	struct vl_recorder *r = &d->r;
	char werr[256];

	memset(r, 0, sizeof(*r));
	d->trace_path[0] = 0;
	if (d->cfg.trace_dir[0]) {
		if (mkdir(d->cfg.trace_dir, 0700) && errno != EEXIST)
			return snprintf(err, errlen, "%s: %s", d->cfg.trace_dir, strerror(errno)), -1;
		prune_traces(d);
		next_trace_path(d);
	}
	r->max_size = d->cfg.trace_max / 2;
	r->fslist = d->cfg.fs[0] ? d->cfg.fs : NULL;
	r->rules_path = d->cfg.rules[0] ? d->cfg.rules : NULL;
	r->ring_bytes = 16 << 20;
	r->s.lock_events = d->cfg.lock_events;
	/* a daemon keeps the suspects only: compliant calls are counted in the kernel */
	r->s.all_calls = false;
	r->tap = stream_tap;
	r->tap_ctx = d;
	d->recorder_open = true;
	d->paused[0] = 0;
	if (recorder_open(r, err, errlen) || recorder_attach(r, err, errlen))
		return -1;
	/*
	 * The trace after the probes: a disk already full (at start, at a
	 * reload) pauses the recording as a disk filling later does, and
	 * checking goes on; it is no reason to stop.
	 */
	if (d->trace_path[0] && recorder_new_trace(r, d->trace_path, werr, sizeof(werr)))
		pause_recording(d, werr);
	return 0;
}

static void stop_recorder(struct daemon *d, const char *why)
{
	char end[128];

	if (!d->recorder_open)
		return;
	/* a stream's context (probes, rules, catalog) ends with the recorder's */
	end_streams(d, why);
	snprintf(end, sizeof(end), "{\"stopped\":\"%s\"}", why);
	if (d->r.rb)
		recorder_mark(&d->r);
	recorder_close(&d->r, end, NULL);
	d->recorder_open = false;
}

/* A trace that failed is paused; every RESUME_NS a new one is tried. */
static void watch_writer(struct daemon *d)
{
	struct vl_recorder *r = &d->r;
	char err[256];

	if (r->w && trace_writer_stats(r->w)->error) {
		pause_recording(d, trace_writer_error(r->w));
		trace_writer_close(r->w, NULL, NULL);
		r->w = NULL;
		return;
	}
	if (!r->w && d->paused[0] && now_ns() >= d->resume_at) {
		prune_traces(d);
		next_trace_path(d);
		if (recorder_new_trace(r, d->trace_path, err, sizeof(err))) {
			d->resume_at = now_ns() + RESUME_NS;
			return;
		}
		p_info("daemon: recording again, to %s", d->trace_path);
		d->paused[0] = 0;
	}
}

/* ---- sockets ---------------------------------------------------------------- */

static int listen_unix(struct daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[sizeof(a.sun_path)], *slash;
	int fd, probe;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", d->cfg.socket);
	snprintf(dir, sizeof(dir), "%s", d->cfg.socket);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	/* a socket file nobody answers on is a killed daemon's: take it over */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&a, sizeof(a))) {
		close(probe);
		return snprintf(err, errlen, "a daemon already answers on %s", a.sun_path), -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(a.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    chmod(a.sun_path, d->cfg.socket_mode) || listen(fd, 16)) {
		snprintf(err, errlen, "%s: %s", a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_http(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char host[64], *colon;
	int fd, one = 1;

	snprintf(host, sizeof(host), "%s", addr);
	colon = strrchr(host, ':');
	*colon = 0;
	a.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return snprintf(err, errlen, "metrics: '%s' is not an IPv4 address", host), -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
		snprintf(err, errlen, "metrics on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void ep_add(struct daemon *d, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Tags for the listening and other fixed fds; clients are their struct. */
static char TAG_RB, TAG_SIG, TAG_UNIX, TAG_HTTP;

static int open_listeners(struct daemon *d, char *err, size_t errlen)
{
	d->unix_fd = listen_unix(d, err, errlen);
	if (d->unix_fd < 0)
		return -1;
	ep_add(d, d->unix_fd, EPOLLIN, &TAG_UNIX);
	d->http_fd = -1;
	if (d->cfg.metrics[0]) {
		d->http_fd = listen_http(d->cfg.metrics, err, errlen);
		if (d->http_fd < 0)
			return -1;
		ep_add(d, d->http_fd, EPOLLIN, &TAG_HTTP);
	}
	return 0;
}

static void close_listeners(struct daemon *d)
{
	if (d->unix_fd >= 0) {
		close(d->unix_fd);
		unlink(d->cfg.socket);
	}
	if (d->http_fd >= 0)
		close(d->http_fd);
	d->unix_fd = d->http_fd = -1;
}

/* ---- clients ---------------------------------------------------------------- */

/*
 * Closed now, freed by sweep_clients(): an event for it may still be in the
 * batch epoll_wait() returned, and its fd number taken by a new client.
 */
static void drop_client(struct daemon *d, struct client *c)
{
	if (c->gone)
		return;
	if (c->outoff < c->outlen)
		d->client_dropped += c->outlen - c->outoff;
	close(c->fd);
	c->gone = true;
}

static void sweep_clients(struct daemon *d)
{
	int i;

	for (i = d->nclients - 1; i >= 0; i--) {
		struct client *c = d->cl[i];

		if (!c->gone)
			continue;
		d->cl[i] = d->cl[--d->nclients];
		trace_writer_close(c->w, NULL, NULL);
		free(c->out);
		free(c);
	}
}

static void accept_client(struct daemon *d, int lfd, enum client_kind kind)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct client *c;

	if (fd < 0)
		return;
	if (d->nclients == MAX_CLIENTS) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->kind = kind;
	c->last_progress = now_ns();
	d->cl[d->nclients++] = c;
	ep_add(d, fd, EPOLLIN | EPOLLRDHUP, c);
}

/* ---- streams ---------------------------------------------------------------- */

static int streams(const struct daemon *d)
{
	int i, n = 0;

	for (i = 0; i < d->nclients; i++)
		n += d->cl[i]->stream && !d->cl[i]->gone;
	return n;
}

/* EPOLLOUT only while something waits to be sent: a stream idles between flushes. */
static void stream_want_out(struct daemon *d, struct client *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
				  .data.ptr = c };

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The stream's trace writer writes here: into the client's queue, sent as it can take it. */
static int stream_sink(void *ctx, const void *buf, size_t len)
{
	struct client *c = ctx;

	if (c->gone)
		return -EPIPE;
	if (c->outlen + len > c->outcap && c->outoff) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + len > c->outcap) {
		c->outcap = (c->outlen + len) * 2;
		c->out = xrealloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	return 0;
}

/* The records a lagging client missed, as one LOST record in their place. */
static int stream_lost(struct client *c, uint64_t ts)
{
	struct vl_ev_lost l = {
		.hdr = { .ts = ts, .type = VL_EV_LOST, .size = sizeof(l) },
		.lost = c->dropped,
		.since = c->drop_since,
	};

	c->dropped = 0;
	return trace_write_record(c->w, &l, sizeof(l));
}

/*
 * Every record, to every stream: queued, unless the client lags more than
 * stream_buffer behind; then dropped and counted, and never waited for.
 */
static void stream_tap(void *ctx, const void *rec, size_t size)
{
	const struct vl_ev_hdr *h = rec;
	struct daemon *d = ctx;
	int i;

	for (i = 0; i < d->nclients; i++) {
		struct client *c = d->cl[i];

		if (!c->stream || c->gone)
			continue;
		/* the head (a symbol snapshot, a MB or so) is no lag */
		if (c->outlen - c->outoff - c->head > c->bound) {
			if (!c->dropped++)
				c->drop_since = h->ts;
			d->stream_dropped++;
			continue;
		}
		if ((c->dropped && stream_lost(c, h->ts)) || trace_write_record(c->w, rec, size))
			drop_client(d, c);
	}
}

/* What the socket takes now, without waiting; EPOLLOUT armed for the rest. */
static void stream_send(struct daemon *d, struct client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0) {
			if (errno != EAGAIN)
				drop_client(d, c);
			else
				stream_want_out(d, c, true);
			return;
		}
		c->outoff += n;
		c->head -= (size_t)n < c->head ? (size_t)n : c->head;
		c->last_progress = now_ns();
	}
	c->outoff = c->outlen = 0;
	stream_want_out(d, c, false);
}

static void flush_streams(struct daemon *d)
{
	int i;

	for (i = 0; i < d->nclients; i++) {
		struct client *c = d->cl[i];

		if (!c->stream || c->gone)
			continue;
		if (trace_flush(c->w)) {
			drop_client(d, c);
			continue;
		}
		/* at once: a reader that keeps up never has a block waiting */
		stream_send(d, c);
	}
}

/*
 * {"request": "stream", "buffer": BYTES}: the trace's head now, then the
 * records as they come. A viewer that would rather miss records than lag
 * asks for a smaller bound than stream_buffer (a larger one is not given).
 */
static void start_stream(struct daemon *d, struct client *c, uint64_t buffer)
{
	char name[64];

	snprintf(name, sizeof(name), "stream to client %d", c->fd);
	c->stream = true;
	c->bound = buffer >= 4096 && buffer < d->cfg.stream_buffer ? buffer : d->cfg.stream_buffer;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = c->outcap = 0;
	c->w = trace_writer_stream(stream_sink, c, name, 1);
	if (recorder_write_head(&d->r, c->w)) {
		drop_client(d, c);
		return;
	}
	c->head = c->outlen;
	c->want_out = false;
	stream_want_out(d, c, true);
	p_info("daemon: a client takes the live stream (%d streaming)", streams(d));
}

static void stream_event(struct daemon *d, struct client *c, uint32_t events)
{
	char buf[256];
	ssize_t n;

	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		drop_client(d, c);
		return;
	}
	if (events & EPOLLIN) {
		/* nothing more is asked on a stream: read and forget, until the end */
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			drop_client(d, c);
			return;
		}
	}
	if (events & EPOLLOUT)
		stream_send(d, c);
}

/*
 * The END block, and what is queued, sent within a second for all streams
 * together, each as it can take it: a stalled one neither holds the exit
 * nor takes the others' time, so every viewer that reads sees why it ended.
 */
static void end_streams(struct daemon *d, const char *why)
{
	uint64_t deadline = now_ns() + 1000000000ull;
	struct pollfd *pf = xcalloc(d->nclients + 1, sizeof(*pf));
	struct client **who = xcalloc(d->nclients + 1, sizeof(*who));
	char end[128];
	int i, n;

	snprintf(end, sizeof(end), "{\"stopped\":\"%s\"}", why);
	for (i = 0; i < d->nclients; i++) {
		struct client *c = d->cl[i];

		if (!c->stream || c->gone)
			continue;
		trace_writer_close(c->w, end, NULL);
		c->w = NULL;
	}
	for (;;) {
		uint64_t now = now_ns();

		for (i = 0, n = 0; i < d->nclients; i++) {
			struct client *c = d->cl[i];

			if (c->stream && !c->gone && c->outoff < c->outlen) {
				pf[n] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
				who[n++] = c;
			}
		}
		if (!n || now >= deadline || poll(pf, n, (deadline - now) / 1000000 + 1) <= 0)
			break;
		for (i = 0; i < n; i++)
			if (pf[i].revents)
				stream_send(d, who[i]);
	}
	for (i = 0; i < d->nclients; i++)
		if (d->cl[i]->stream)
			drop_client(d, d->cl[i]);
	free(pf);
	free(who);
}

static void status_of(struct daemon *d, struct vl_metrics_status *st)
{
	uint64_t k[VL_STAT_MAX] = { 0 };
	int i, clients = 0;

	if (d->recorder_open)
		recorder_stats(&d->r, k);
	for (i = 0; i < d->nclients; i++)
		clients += !d->cl[i]->gone;
	*st = (struct vl_metrics_status){
		.stream_dropped = d->stream_dropped,
		.methods = d->recorder_open && d->r.live_open,
		.methods_traced = d->r.live_open ? d->r.live.nmethods : 0,
		.lock_primitives = d->r.live_open ? d->r.live.nprims : 0,
		.kernel_lost = k[VL_STAT_LOST],
		.recording = d->recorder_open && d->r.w,
		.clients = clients,
		.client_dropped = d->client_dropped,
		.uptime = (now_ns() - d->t_start) / 1e9,
	};
}

static json_object *status_json(struct daemon *d)
{
	json_object *o = json_object_new_object(), *t = json_object_new_object();
	struct vl_metrics_status st;

	status_of(d, &st);
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime", json_object_new_double(st.uptime));
	json_object_object_add(o, "kernel", json_object_new_string(d->r.s.kernel));
	json_object_object_add(o, "mode", json_object_new_string(d->r.s.mode));
	json_object_object_add(o, "rules", json_object_new_string(d->r.s.rec_rules));
	json_object_object_add(o, "methods_traced", json_object_new_int(st.methods_traced));
	json_object_object_add(o, "lock_primitives", json_object_new_int(st.lock_primitives));
	json_object_object_add(o, "events", json_object_new_uint64(d->r.s.pipe.st.records));
	json_object_object_add(o, "lost", json_object_new_uint64(st.kernel_lost));
	json_object_object_add(o, "clients", json_object_new_int(st.clients));
	json_object_object_add(o, "client_dropped_bytes", json_object_new_uint64(st.client_dropped));
	json_object_object_add(o, "streams", json_object_new_int(streams(d)));
	json_object_object_add(o, "stream_dropped_records",
			       json_object_new_uint64(st.stream_dropped));
	/* 1 unless modules came or went: a viewer's head reuses the symbols */
	json_object_object_add(o, "symbol_snapshots", json_object_new_int(d->r.ksyms_reads));
	json_object_object_add(o, "socket", json_object_new_string(d->cfg.socket));
	json_object_object_add(o, "metrics", json_object_new_string(d->cfg.metrics));
	json_object_object_add(t, "dir", json_object_new_string(d->cfg.trace_dir));
	json_object_object_add(t, "file", json_object_new_string(d->trace_path));
	json_object_object_add(t, "recording", json_object_new_boolean(st.recording));
	json_object_object_add(t, "paused", d->paused[0] ? json_object_new_string(d->paused) : NULL);
	json_object_object_add(o, "trace", t);
	return o;
}

/* A request line: {"request": "report" | "status" | "metrics", "format": "text", "rows": N} */
static void answer_socket(struct daemon *d, struct client *c, FILE *f)
{
	json_object *req = json_tokener_parse(c->in), *v;
	const char *what = req ? json_str(req, "request") : "";
	const char *format = req ? json_str(req, "format") : "";
	int rows = 20;
	struct vl_metrics_status st;

	if (req && json_object_object_get_ex(req, "rows", &v))
		rows = json_object_get_int(v);
	if (!strcmp(what, "report") && strcmp(format, "text")) {
		json_object *o = session_result_json(&d->r.s);

		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if (!strcmp(what, "report")) {
		session_result_print(&d->r.s, f, rows);
	} else if (!strcmp(what, "status")) {
		json_object *o = status_json(d);

		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if (!strcmp(what, "metrics")) {
		status_of(d, &st);
		metrics_write(f, &d->r.s, &st);
	} else {
		fprintf(f, "{\"error\": \"unknown request: expected {\\\"request\\\": \\\"report\\\", "
			   "\\\"status\\\" or \\\"metrics\\\"}\"}\n");
	}
	json_object_put(req);
}

static void answer_http(struct daemon *d, struct client *c, FILE *f)
{
	struct vl_metrics_status st;
	char *body = NULL;
	size_t len = 0;
	FILE *b;

	if (strncmp(c->in, "GET /metrics ", 13) && strncmp(c->in, "GET /metrics?", 13)) {
		fprintf(f, "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
			   "Connection: close\r\n\r\nvfslock serves /metrics only\n");
		return;
	}
	b = open_memstream(&body, &len);
	status_of(d, &st);
	metrics_write(b, &d->r.s, &st);
	fclose(b);
	fprintf(f, "HTTP/1.0 200 OK\r\nContent-Type: application/openmetrics-text; "
		   "version=1.0.0; charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		len);
	fwrite(body, 1, len, f);
	free(body);
}

/* A stream request, and the bound it asks for (0: the configured one). */
static bool is_stream_request(const char *line, uint64_t *buffer)
{
	json_object *req = json_tokener_parse(line), *v;
	bool yes = req && !strcmp(json_str(req, "request"), "stream");

	*buffer = yes && json_object_object_get_ex(req, "buffer", &v) ?
		  (uint64_t)json_object_get_int64(v) : 0;
	json_object_put(req);
	return yes;
}

static void client_readable(struct daemon *d, struct client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLRDHUP, .data.ptr = c };
	uint64_t buffer;
	bool complete;
	ssize_t n;
	FILE *f;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		drop_client(d, c);
		return;
	}
	c->inlen += n;
	c->in[c->inlen] = 0;
	complete = c->kind == CL_SOCKET ? strchr(c->in, '\n') != NULL :
					  strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n");
	if (!complete && c->inlen < sizeof(c->in) - 1)
		return;
	c->last_progress = now_ns();
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
	if (c->kind == CL_SOCKET && is_stream_request(c->in, &buffer)) {
		start_stream(d, c, buffer);
		return;
	}
	f = open_memstream(&c->out, &c->outlen);
	if (c->kind == CL_SOCKET)
		answer_socket(d, c, f);
	else
		answer_http(d, c, f);
	fclose(f);
}

static void client_writable(struct daemon *d, struct client *c)
{
	ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);

	if (n < 0) {
		if (errno != EAGAIN)
			drop_client(d, c);
		return;
	}
	c->outoff += n;
	c->last_progress = now_ns();
	if (c->outoff == c->outlen)
		drop_client(d, c);
}

/* Neither a stalled reader nor a silent writer holds a slot for long. */
static void reap_stalled(struct daemon *d)
{
	uint64_t now = now_ns();
	int i;

	/* a stream is bounded by stream_buffer instead, and stays */
	for (i = 0; i < d->nclients; i++)
		if (!d->cl[i]->stream && now - d->cl[i]->last_progress > STALL_NS)
			drop_client(d, d->cl[i]);
}

/* ---- configuration -------------------------------------------------------- */

static int load_cfg(const char *path, struct vl_daemon_cfg *c, char *err, size_t errlen)
{
	daemon_cfg_defaults(c);
	return daemon_cfg_load(c, path ? path : VL_DAEMON_CONFIG, !path, err, errlen);
}

/* -1 when the daemon is left without probes: it stops. */
static int reload(struct daemon *d)
{
	struct vl_daemon_cfg old = d->cfg, fresh;
	char err[512];

	if (load_cfg(d->config, &fresh, err, sizeof(err))) {
		p_err("daemon: SIGHUP: %s; the configuration in force is kept", err);
		return 0;
	}
	d->cfg = fresh;
	if (strcmp(old.socket, fresh.socket) || strcmp(old.metrics, fresh.metrics) ||
	    old.socket_mode != fresh.socket_mode) {
		struct vl_daemon_cfg now = d->cfg;

		d->cfg = old;
		close_listeners(d);
		d->cfg = now;
		if (open_listeners(d, err, sizeof(err)))
			p_err("daemon: SIGHUP: %s", err);
	}
	if (daemon_cfg_probes_differ(&old, &fresh)) {
		stop_recorder(d, "reloaded");
		if (start_recorder(d, err, sizeof(err))) {
			p_err("daemon: SIGHUP: %s; back to the probes of the configuration before",
			      err);
			stop_recorder(d, "error");
			d->cfg = old;
			if (start_recorder(d, err, sizeof(err))) {
				stop_recorder(d, "error");
				return -1;
			}
			return 0;
		}
	}
	p_info("daemon: configuration reloaded from %s", d->config ? d->config : VL_DAEMON_CONFIG);
	return 0;
}

/* ---- the loop ------------------------------------------------------------------ */

static int serve(struct daemon *d)
{
	uint64_t next_mark = now_ns() + 1000000000ull;
	struct epoll_event evs[32];
	int i, n;

	ep_add(d, ring_buffer__epoll_fd(d->r.rb), EPOLLIN, &TAG_RB);
	ep_add(d, d->sfd, EPOLLIN, &TAG_SIG);
	for (;;) {
		n = epoll_wait(d->ep, evs, 32, 100);
		if (n < 0 && errno != EINTR)
			return p_err("daemon: epoll: %s", strerror(errno)), EXIT_TOOL;
		/* the probes first: a busy client never makes the ring buffer wait */
		ring_buffer__consume(d->r.rb);
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &TAG_RB) {
				continue;
			} else if (p == &TAG_SIG) {
				struct signalfd_siginfo si;

				if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					if (reload(d)) {
						p_err("daemon: SIGHUP: the probes could not be "
						      "loaded again; stopping");
						return EXIT_TOOL;
					}
					epoll_ctl(d->ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->r.rb),
						  &(struct epoll_event){ .events = EPOLLIN,
									 .data.ptr = &TAG_RB });
					continue;
				}
				p_info("daemon: %s: detaching and flushing", strsignal(si.ssi_signo));
				return EXIT_OK;
			} else if (p == &TAG_UNIX) {
				accept_client(d, d->unix_fd, CL_SOCKET);
			} else if (p == &TAG_HTTP) {
				accept_client(d, d->http_fd, CL_HTTP);
			} else if (((struct client *)p)->gone) {
				continue;
			} else if (((struct client *)p)->stream) {
				stream_event(d, p, evs[i].events);
			} else if (evs[i].events & EPOLLOUT) {
				client_writable(d, p);
			} else if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
				client_readable(d, p);
			}
		}
		if (now_ns() >= d->next_stream_flush) {
			flush_streams(d);
			d->next_stream_flush = now_ns() + STREAM_FLUSH_NS;
		}
		sweep_clients(d);
		if (now_ns() >= next_mark) {
			recorder_mark(&d->r);
			if (d->r.w)
				trace_flush(d->r.w);
			watch_writer(d);
			reap_stalled(d);
			next_mark = now_ns() + 1000000000ull;
		}
	}
}

static int daemon_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ 0 },
	};
	const char *sock = getenv("VFSLOCK_SOCKET") ?: VL_DAEMON_SOCKET;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:", opts, NULL)) >= 0) {
		if (opt != 's')
			return daemon_help();
		sock = optarg;
	}
	return daemon_request(sock, "{\"request\": \"status\"}\n", stdout) ? EXIT_TOOL : EXIT_OK;
}

static volatile sig_atomic_t stream_stop;

static void on_stream_signal(int sig)
{
	stream_stop = sig;
}

/*
 * vfslock daemon stream: the live records, as a trace, to stdout or -o
 * FILE, until the daemon stops or a signal comes; what came is all kept
 * (the reader takes a trace cut short up to its last whole block).
 */
static int daemon_stream_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "buffer", required_argument, NULL, 'b' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_stream_signal };
	uint64_t buffer = 0;
	const char *sock = getenv("VFSLOCK_SOCKET") ?: VL_DAEMON_SOCKET, *path = NULL;
	char buf[65536];
	int opt, in, out = STDOUT_FILENO, ret = EXIT_OK;
	uint64_t bytes = 0;
	FILE *f;
	ssize_t n;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:o:b:", opts, NULL)) >= 0) {
		if (opt == 's') {
			sock = optarg;
		} else if (opt == 'o') {
			path = optarg;
		} else if (opt == 'b') {
			if (!parse_size(optarg, &buffer) || buffer < 4096) {
				p_err("--buffer: a size of at least 4K (K, M, G suffixes), not '%s'",
				      optarg);
				return EXIT_TOOL;
			}
		} else {
			return daemon_help();
		}
	}
	if (optind < argc)
		return daemon_help();
	if (!path && isatty(STDOUT_FILENO)) {
		p_err("daemon stream: the stream is binary: -o FILE, or redirect it");
		return EXIT_TOOL;
	}
	f = daemon_stream(sock, buffer);
	if (!f) {
		p_err("daemon stream: no daemon answers on %s: %s", sock, strerror(errno));
		return EXIT_TOOL;
	}
	if (path) {
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0) {
			p_err("%s: %s", path, strerror(errno));
			fclose(f);
			return EXIT_TOOL;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	in = fileno(f);
	while (!stream_stop && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			p_err("daemon stream: %s", strerror(errno));
			ret = EXIT_TOOL;
			break;
		}
		if (write(out, buf, n) != n) {
			p_err("daemon stream: writing %s: %s", path ? path : "stdout",
			      strerror(errno));
			ret = EXIT_TOOL;
			break;
		}
		bytes += n;
	}
	fclose(f);
	if (path && close(out)) {
		p_err("%s: %s", path, strerror(errno));
		ret = EXIT_TOOL;
	}
	p_info("daemon stream: %" PRIu64 " bytes from %s%s", bytes, sock,
	       stream_stop ? " (stopped by a signal)" : " (the daemon ended the stream)");
	return ret;
}

int do_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon d = { .unix_fd = -1, .http_fd = -1, .sfd = -1, .ep = -1 };
	char err[512];
	sigset_t mask;
	int opt, ret = EXIT_TOOL, i;

	if (argc > 1 && !strcmp(argv[1], "status"))
		return daemon_status(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "stream"))
		return daemon_stream_cmd(argc - 1, argv + 1);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		if (opt != 'c')
			return daemon_help();
		d.config = optarg;
	}
	if (optind < argc)
		return daemon_help();
	if (load_cfg(d.config, &d.cfg, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	d.t_start = now_ns();
	/* signals arrive as records of the loop, never in the middle of a write */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.sfd < 0 || d.ep < 0) {
		p_err("daemon: %s", strerror(errno));
		goto out;
	}
	/* the socket first: a second daemon stops before loading anything */
	if (open_listeners(&d, err, sizeof(err)) || start_recorder(&d, err, sizeof(err))) {
		p_err("daemon: %s", err);
		goto out;
	}
	p_info("daemon: %s on %s: %d method implementations and %d lock primitives traced; "
	       "%s %s; serving %s%s%s", d.r.s.mode, d.r.s.kernel, d.r.live_open ?
	       d.r.live.nmethods : 0, d.r.live_open ? d.r.live.nprims : 0,
	       d.paused[0] ? "recording paused:" : "recording to", d.paused[0] ? d.paused :
	       d.trace_path, d.cfg.socket, d.cfg.metrics[0] ? ", metrics on http://" : "", d.cfg.metrics);
	ret = serve(&d);
out:
	end_streams(&d, ret == EXIT_OK ? "signal" : "error");
	for (i = 0; i < d.nclients; i++)
		drop_client(&d, d.cl[i]);
	sweep_clients(&d);
	close_listeners(&d);
	stop_recorder(&d, ret == EXIT_OK ? "signal" : "error");
	if (d.ep >= 0)
		close(d.ep);
	if (d.sfd >= 0)
		close(d.sfd);
	return ret;
}
