/* SPDX-License-Identifier: MIT */
/*
 * sl-manysrc: an HTTP/1.1 load generator that sends from many source addresses, for the
 * rate-limit benchmark of scripts/bench.sh (wrk sends from one). libc and epoll only.
 *
 * Each connection binds the next source address of a range (IP_FREEBIND; the caller makes the
 * range usable without interface addresses: `ip route add local PREFIX dev lo` in the client
 * namespace, and a route back on the server's side), sends -k GET requests one after the other
 * with keep-alive, reads each response (Content-Length bodies only) and closes (the client
 * closes first: TIME-WAIT stays here). -c connections run at once. Addresses are taken in
 * order from index -o, wrapping at -n; an address whose last byte is 0 or 255 is skipped (index
 * i is base + (i / 254) * 256 + 1 + i % 254, base = -s with its last byte cleared).
 *
 * Hot addresses (-H N -R RATE): N more addresses (indices n .. n+N-1 of the same mapping), each
 * sending RATE requests per second over HOT_CONNS keep-alive connections of its own (each paced
 * at RATE / HOT_CONNS, one request at a time, staggered: the address keeps its rate while an
 * answer takes up to HOT_CONNS / RATE), to drive them over a per-client limit; their answers
 * are counted apart and not in the latency figures.
 *
 * Bounded: it stops starting requests after -m requests (normal ones) or -d seconds, whichever
 * comes first, then waits at most 5 s for the ones in flight (counted as `unfinished` if they
 * do not end). A request with no complete answer within 5 s is a timeout.
 *
 * Prints one line of key=value figures: requests (answered), ok (2xx), r429, other (any other
 * status), errors (connect, reset, timeout, bad answer), conns, secs (first connect to last
 * answer), rps, p50_ms, p99_ms (from the connect for a connection's first request, from the
 * send for the others), next (the index to continue from), and hot_ok, hot_429, hot_other,
 * hot_errors, hot_secs (time from the hot senders' first request to their last answer).
 *
 * usage: sl-manysrc -a HOST -p PORT -u PATH -s FIRST_SRC -n N [-o START] [-c CONNS] [-k REQS]
 *                   [-m MAX_REQUESTS] [-d SECONDS] [-H HOT -R RATE]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 4096
#define REQ_TIMEOUT_NS 5000000000ull
#define DRAIN_NS 5000000000ull
#define MAX_CONNS 4096
#define MAX_HOT 1024
#define HOT_CONNS 4

struct conn {
	int fd;
	bool hot, connecting;
	uint32_t src_idx;
	uint32_t done;	   /* requests answered on this connection */
	uint64_t t_start;  /* when the request in flight began (0: none in flight) */
	uint64_t deadline; /* of the request in flight */
	uint64_t due;	   /* hot: when the next request may go */
	size_t len;
	char buf[BUF];
};

static struct {
	struct sockaddr_in dst;
	uint32_t src_base, n, next, k, hot_n;
	uint64_t max_req, started, hot_gap_ns;
	double secs;
	char req[512];
	size_t req_len;
	int ep;
	uint32_t *lat_us;
	uint64_t n_lat;
	/* normal, hot */
	uint64_t ok[2], r429[2], other[2], errors[2], conns;
	uint64_t t_first, t_last, hot_first, hot_last;
	bool stopping;
} g;

static struct conn conns[MAX_CONNS + MAX_HOT];

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t
src_addr(uint32_t i)
{
	return (g.src_base & ~0xffu) + (i / 254) * 256 + 1 + i % 254;
}

static void
die(const char *m)
{
	fprintf(stderr, "sl-manysrc: %s\n", m);
	exit(2);
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->t_start = 0;
}

static void
count_error(struct conn *c)
{
	g.errors[c->hot]++;
	conn_close(c);
}

/* Open a connection from c->src_idx; the request goes when it is up. false: not opened. */
static bool
conn_open(struct conn *c, uint64_t now)
{
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		count_error(c);
		return false;
	}
	src.sin_addr.s_addr = htonl(src_addr(c->src_idx));
	setsockopt(c->fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    (connect(c->fd, (struct sockaddr *)&g.dst, sizeof(g.dst)) != 0 &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		count_error(c);
		return false;
	}
	c->connecting = true;
	c->done = 0;
	c->len = 0;
	c->t_start = now;
	c->deadline = now + REQ_TIMEOUT_NS;
	g.conns++;
	if (g.t_first == 0)
		g.t_first = now;
	return true;
}

/* Send the request; c->t_start is already set (connect time for a first request). */
static void
conn_send(struct conn *c)
{
	if (send(c->fd, g.req, g.req_len, MSG_NOSIGNAL) != (ssize_t)g.req_len)
		count_error(c); /* a 100-byte request into an empty socket buffer: all or nothing */
}

/* Start a normal connection on slot c, if the bounds allow (a failed open counts as a request
 * that failed, so this ends). */
static void
normal_next(struct conn *c, uint64_t now)
{
	while (!g.stopping && g.started < g.max_req) {
		c->src_idx = g.next;
		g.next = (g.next + 1) % g.n;
		g.started++;
		if (conn_open(c, now))
			return;
	}
}

/* A complete answer of `status` on c at now. */
static void
answered(struct conn *c, int status, bool server_closes, uint64_t now)
{
	int h = c->hot;

	if (status >= 200 && status < 300)
		g.ok[h]++;
	else if (status == 429)
		g.r429[h]++;
	else
		g.other[h]++;
	if (h) {
		g.hot_last = now;
	} else {
		g.t_last = now;
		g.lat_us[g.n_lat++] = (uint32_t)((now - c->t_start) / 1000);
	}
	c->done++;
	c->t_start = 0;
	if (h) {
		if (server_closes)
			conn_close(c); /* reopened when due */
		return;
	}
	if (server_closes || c->done >= g.k || g.stopping || g.started >= g.max_req) {
		conn_close(c);
		normal_next(c, now);
		return;
	}
	g.started++;
	c->t_start = now;
	c->deadline = now + REQ_TIMEOUT_NS;
	conn_send(c);
}

/* Look for a complete response in c->buf. 1: one handled, 0: need more, -1: bad. */
static int
parse(struct conn *c, uint64_t now)
{
	char *end, *p;
	long cl = -1;
	bool closes = false;
	int status;

	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL)
		return c->len >= BUF - 1 ? -1 : 0;
	if (c->len < 12 || strncmp(c->buf, "HTTP/1.", 7) != 0)
		return -1;
	status = atoi(c->buf + 9);
	for (p = strstr(c->buf, "\r\n"); p != NULL && p < end; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "content-length:", 15) == 0)
			cl = strtol(p + 17, NULL, 10);
		else if (strncasecmp(p + 2, "transfer-encoding:", 18) == 0)
			return -1;
		else if (strncasecmp(p + 2, "connection:", 11) == 0) {
			char *v = strcasestr(p + 13, "close");

			closes = v != NULL && v < strstr(p + 2, "\r\n");
		}
	}
	if (cl < 0)
		cl = 0;
	if ((size_t)(end + 4 - c->buf) + (size_t)cl > c->len)
		return (end + 4 - c->buf) + cl >= BUF - 1 ? -1 : 0;
	c->len = 0; /* one request at a time: nothing follows */
	answered(c, status, closes, now);
	return 1;
}

static void
on_event(struct conn *c, uint32_t ev, uint64_t now)
{
	if (c->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
			count_error(c);
			goto next;
		}
		c->connecting = false;
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &e);
		if (c->t_start != 0)
			conn_send(c);
		goto next;
	}
	for (int fd = c->fd;;) {
		ssize_t r = recv(c->fd, c->buf + c->len, BUF - 1 - c->len, 0);

		if (r > 0) {
			c->len += (size_t)r;
			int rc = parse(c, now);

			if (rc < 0)
				count_error(c);
			if (c->fd < 0)
				goto next;
			if (c->fd != fd)
				return; /* closed and a new one opened: it gets its own events */
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* closed or reset: an error when a request was waiting for its answer */
		if (c->t_start != 0)
			count_error(c);
		else
			conn_close(c);
		goto next;
	}
next:
	if (c->fd < 0 && !c->hot)
		normal_next(c, now);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sl-manysrc -a HOST -p PORT -u PATH -s FIRST_SRC -n N [-o START] "
			"[-c CONNS] [-k REQS] [-m MAX_REQUESTS] [-d SECONDS] [-H HOT -R RATE]\n");
	exit(2);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_ms(double q)
{
	if (g.n_lat == 0)
		return 0;
	return g.lat_us[(uint64_t)(q * (double)(g.n_lat - 1))] / 1000.0;
}

int
main(int argc, char **argv)
{
	const char *host = NULL, *path = NULL, *src = NULL;
	unsigned long port = 0, n_conns = 50, start = 0;
	double hot_rate = 0;
	struct in_addr a;
	int opt;

	g.k = 1;
	g.max_req = 1000000;
	g.secs = 10;
	while ((opt = getopt(argc, argv, "a:p:u:s:n:o:c:k:m:d:H:R:")) != -1) {
		switch (opt) {
		case 'a':
			host = optarg;
			break;
		case 'p':
			port = strtoul(optarg, NULL, 10);
			break;
		case 'u':
			path = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 'n':
			g.n = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			start = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			n_conns = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			g.k = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			g.max_req = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			g.secs = strtod(optarg, NULL);
			break;
		case 'H':
			g.hot_n = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'R':
			hot_rate = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (host == NULL || path == NULL || src == NULL || port == 0 || port > 65535 || g.n == 0 ||
	    n_conns == 0 || n_conns > MAX_CONNS || g.k == 0 || g.max_req == 0 ||
	    g.max_req > 100000000 || !(g.secs > 0 && g.secs <= 600) ||
	    g.hot_n > MAX_HOT / HOT_CONNS ||
	    (g.hot_n > 0 && !(hot_rate > 0 && hot_rate <= 100000)) || strlen(path) > 256 ||
	    path[0] != '/')
		usage();
	if (inet_pton(AF_INET, host, &a) != 1)
		die("HOST must be an IPv4 address");
	g.dst = (struct sockaddr_in){
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = a};
	if (inet_pton(AF_INET, src, &a) != 1)
		die("FIRST_SRC must be an IPv4 address");
	g.src_base = ntohl(a.s_addr);
	/* The last address used must not wrap past 255.255.255.x. */
	if ((uint64_t)(g.src_base & ~0xffu) + ((uint64_t)g.n + g.hot_n) / 254 * 256 + 256 >
	    0xffffffffull)
		die("the source range runs past 255.255.255.255");
	g.next = (uint32_t)(start % g.n);
	g.req_len = (size_t)snprintf(
	    g.req, sizeof(g.req),
	    "GET %s HTTP/1.1\r\nHost: bench\r\nUser-Agent: sl-manysrc\r\n\r\n", path);
	g.lat_us = malloc(sizeof(*g.lat_us) * g.max_req);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (g.lat_us == NULL || g.ep < 0)
		die("out of memory or no epoll");
	if (g.hot_n > 0)
		g.hot_gap_ns = (uint64_t)(1e9 * HOT_CONNS / hot_rate);

	uint64_t t0 = now_ns(), stop_at = t0 + (uint64_t)(g.secs * 1e9), drain_end = 0;
	size_t total = n_conns + (size_t)g.hot_n * HOT_CONNS;

	for (size_t i = 0; i < total; i++) {
		conns[i].fd = -1;
		conns[i].hot = i >= n_conns;
		if (conns[i].hot) {
			size_t j = i - n_conns;

			conns[i].src_idx = g.n + (uint32_t)(j / HOT_CONNS);
			conns[i].due = t0 + g.hot_gap_ns * (j % HOT_CONNS) / HOT_CONNS;
		}
	}
	for (size_t i = 0; i < n_conns; i++)
		normal_next(&conns[i], t0);

	for (;;) {
		struct epoll_event evs[256];
		uint64_t now = now_ns();
		int timeout_ms = 1;

		if (!g.stopping && (now >= stop_at || g.started >= g.max_req)) {
			g.stopping = true;
			drain_end = now + DRAIN_NS;
		}
		/* Timeouts, hot senders that are due, the end. */
		bool busy = false;

		for (size_t i = 0; i < total; i++) {
			struct conn *c = &conns[i];

			if (c->fd >= 0 && c->t_start != 0 && now >= c->deadline) {
				count_error(c);
				if (!c->hot)
					normal_next(c, now);
			}
			if (c->hot && !g.stopping && c->t_start == 0 && now >= c->due) {
				c->due = (c->due + g.hot_gap_ns > now) ? c->due + g.hot_gap_ns
								       : now + g.hot_gap_ns;
				if (g.hot_first == 0)
					g.hot_first = now;
				if (c->fd < 0) {
					conn_open(c, now); /* sends once connected */
				} else {
					c->t_start = now;
					c->deadline = now + REQ_TIMEOUT_NS;
					conn_send(c);
				}
			}
			if (c->fd >= 0 && c->t_start != 0)
				busy = true;
		}
		if (g.stopping && (!busy || now >= drain_end))
			break;
		int n = epoll_wait(g.ep, evs, 256, timeout_ms);

		now = now_ns();
		for (int i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events, now);
	}
	uint64_t unfinished = 0;

	for (size_t i = 0; i < total; i++) {
		if (conns[i].fd >= 0 && conns[i].t_start != 0 && !conns[i].hot)
			unfinished++;
		conn_close(&conns[i]);
	}
	qsort(g.lat_us, g.n_lat, sizeof(*g.lat_us), cmp_u32);
	double secs = g.t_last > g.t_first ? (double)(g.t_last - g.t_first) / 1e9 : 0;
	double hot_secs = g.hot_last > g.hot_first ? (double)(g.hot_last - g.hot_first) / 1e9 : 0;

	printf("requests=%llu ok=%llu r429=%llu other=%llu errors=%llu unfinished=%llu conns=%llu "
	       "secs=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f next=%u hot=%u hot_rate=%g hot_ok=%llu "
	       "hot_429=%llu hot_other=%llu hot_errors=%llu hot_secs=%.3f\n",
	       (unsigned long long)g.n_lat, (unsigned long long)g.ok[0],
	       (unsigned long long)g.r429[0], (unsigned long long)g.other[0],
	       (unsigned long long)g.errors[0], (unsigned long long)unfinished,
	       (unsigned long long)g.conns, secs, secs > 0 ? (double)g.n_lat / secs : 0,
	       pct_ms(0.5), pct_ms(0.99), g.next, g.hot_n, hot_rate, (unsigned long long)g.ok[1],
	       (unsigned long long)g.r429[1], (unsigned long long)g.other[1],
	       (unsigned long long)g.errors[1], hot_secs);
	return 0;
}
