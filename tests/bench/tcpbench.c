/* SPDX-License-Identifier: MIT */
/*
 * sl-tcpbench: the load tool and the Linux peer of tests/bench/run.sh.
 *
 * The same client runs against sluice (through the TAP testbed) and against
 * the Linux server below (over a veth pair), so the two figures differ only by
 * the server. Kernel sockets, one thread, epoll; libc only.
 *
 *   sl-tcpbench send HOST PORT SECONDS         bulk to a discard service for SECONDS (or until
 *                                              SIGTERM), then half-close and wait for the
 *                                              server's FIN
 *   sl-tcpbench recv HOST PORT SECONDS         bulk from a chargen service for SECONDS (or
 *                                              until SIGTERM)
 *   sl-tcpbench cps HOST PORT SECONDS PARALLEL short connections (connect, 100 bytes echoed,
 *                                              close), PARALLEL at a time, for SECONDS
 *   sl-tcpbench idle HOST PORT N SECONDS       open N echo connections, echo 16 bytes on each,
 *                                              print "ready", hold them until SIGTERM or
 *                                              SECONDS, close them
 *   sl-tcpbench server ADDR ECHO DISCARD CHARGEN SECONDS
 *                                              echo / discard / chargen (RFC 862/863/864) on
 *                                              ADDR (port 0 = off), for at most SECONDS
 *
 * Output is one line of key=value figures (the server prints one line per bulk
 * connection it closes, with the kernel's segment counts from TCP_INFO). Every
 * wait is bounded; exit status 0 on success, 1 on error, 2 on bad usage.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1 << 16)
#define IO_TIMEOUT_MS 10000 /* no single wait of the tool lasts longer */
#define BULK_REPORT_BYTES (1u << 20)
#define CPS_MSG 100
#define IDLE_MSG 16
#define IDLE_CONNECTING_MAX 256 /* handshakes in flight while opening idle connections */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_addr(const char *host, const char *port, struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end != '\0' || p < 0 || p > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "sl-tcpbench: bad address %s:%s (IPv4 address and port expected)\n",
			host, port);
		return -1;
	}
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static long
parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "sl-tcpbench: %s must be a number from %ld to %ld, not '%s'\n",
			what, lo, hi, s);
		exit(2);
	}
	return v;
}

static void
raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = (rlim_t)want;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur; /* needs root; the caller reports a failure to open */
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A blocking connected socket with send/receive timeouts, or -1. */
static int
connect_blocking(const struct sockaddr_in *sa)
{
	struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	set_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		perror("sl-tcpbench: connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- bulk clients ---- */

static int
cmd_send(const struct sockaddr_in *sa, double seconds)
{
	static char buf[BUF_SIZE];
	unsigned long long bytes = 0;
	double t0, t_end;
	int fd, fin = 0;

	memset(buf, 'x', sizeof(buf));
	fd = connect_blocking(sa);
	if (fd < 0)
		return 1;
	t0 = now_s();
	while (!stop && now_s() - t0 < seconds) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue; /* SIGTERM: the loop ends, the figures are still good */
		if (n <= 0) {
			perror("sl-tcpbench: send");
			close(fd);
			return 1;
		}
		bytes += (unsigned long long)n;
	}
	/* The figure counts until the server has everything: its FIN answers our FIN. */
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 1000; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0) {
			fin = 1;
			break;
		}
		if (n < 0 && errno != EINTR)
			break;
	}
	t_end = now_s();
	/* Our retransmissions: losses on the way to the server, which explain a slow run. */
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	close(fd);
	printf("bytes=%llu seconds=%.3f MBps=%.2f fin=%d retrans=%u\n", bytes, t_end - t0,
	       (double)bytes / (t_end - t0) / 1e6, fin, ti.tcpi_total_retrans);
	return fin ? 0 : 1;
}

static int
cmd_recv(const struct sockaddr_in *sa, double seconds)
{
	static char buf[BUF_SIZE];
	unsigned long long bytes = 0;
	double t0, t_end;
	int fd;

	fd = connect_blocking(sa);
	if (fd < 0)
		return 1;
	t0 = now_s();
	while (!stop && now_s() - t0 < seconds) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "sl-tcpbench: recv: %s\n",
				n == 0 ? "server closed" : strerror(errno));
			close(fd);
			return 1;
		}
		bytes += (unsigned long long)n;
	}
	t_end = now_s();
	close(fd);
	printf("bytes=%llu seconds=%.3f MBps=%.2f\n", bytes, t_end - t0,
	       (double)bytes / (t_end - t0) / 1e6);
	return 0;
}

/* ---- short connections ---- */

enum cps_state { CPS_FREE = 0, CPS_CONNECTING, CPS_READING };

struct cps_slot {
	int fd;
	enum cps_state state;
	int got;
	double started;
};

static int
cps_start(int ep, const struct sockaddr_in *sa, struct cps_slot *s, unsigned int idx)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = idx};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	set_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->state = CPS_CONNECTING;
	s->got = 0;
	s->started = now_s();
	return 0;
}

static void
cps_end(struct cps_slot *s)
{
	close(s->fd); /* closing removes it from the epoll set */
	s->fd = -1;
	s->state = CPS_FREE;
}

/* One step of a slot after an event. Returns 1 when the connection completed, -1 on error. */
static int
cps_step(int ep, struct cps_slot *s, unsigned int idx, uint32_t events)
{
	static const char msg[CPS_MSG] = {0};
	char buf[CPS_MSG];

	if (s->state == CPS_CONNECTING) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0 || send(s->fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
			return -1;
		epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
		s->state = CPS_READING;
		return 0;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = recv(s->fd, buf, sizeof(buf) - (size_t)s->got, 0);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		s->got += (int)n;
		if (s->got == CPS_MSG)
			return 1;
	}
	return 0;
}

static int
cmd_cps(const struct sockaddr_in *sa, double seconds, unsigned int parallel)
{
	struct cps_slot *slots = calloc(parallel, sizeof(*slots));
	struct epoll_event evs[256];
	unsigned long long done = 0, errors = 0, start_errors = 0;
	double t0, deadline, t_end;
	unsigned int active = 0;
	int ep = epoll_create1(0);

	if (slots == NULL || ep < 0)
		return 1;
	raise_nofile((long)parallel + 64);
	t0 = now_s();
	deadline = t0 + seconds;
	for (;;) {
		double t = now_s();
		int running = t < deadline && !stop;

		/* Refill free slots while the clock runs; afterwards let the last ones finish. */
		for (unsigned int i = 0; running && i < parallel; i++) {
			if (slots[i].state != CPS_FREE)
				continue;
			if (cps_start(ep, sa, &slots[i], i) == 0) {
				active++;
			} else {
				start_errors++;
				break; /* out of ports or descriptors: try again after some complete
					*/
			}
		}
		if (active == 0 && (!running || start_errors > 100000))
			break;
		if (!running && t > deadline + IO_TIMEOUT_MS / 1000.0)
			break;
		int n = epoll_wait(ep, evs, 256, 100);

		for (int k = 0; k < n; k++) {
			unsigned int i = evs[k].data.u32;
			int r = cps_step(ep, &slots[i], i, evs[k].events);

			if (r == 0)
				continue;
			if (r > 0 && now_s() <= deadline)
				done++;
			else if (r < 0)
				errors++;
			cps_end(&slots[i]);
			active--;
		}
		/* A connection that hangs counts as an error instead of stalling a slot. */
		t = now_s();
		for (unsigned int i = 0; i < parallel; i++) {
			if (slots[i].state != CPS_FREE && t - slots[i].started > 5.0) {
				errors++;
				cps_end(&slots[i]);
				active--;
			}
		}
	}
	t_end = now_s();
	for (unsigned int i = 0; i < parallel; i++)
		if (slots[i].state != CPS_FREE)
			cps_end(&slots[i]);
	close(ep);
	free(slots);
	printf("conns=%llu seconds=%.3f cps=%.1f errors=%llu start_errors=%llu\n", done, seconds,
	       (double)done / seconds, errors, start_errors);
	(void)t_end;
	return done > 0 ? 0 : 1;
}

/* ---- idle connections ---- */

static int
cmd_idle(const struct sockaddr_in *sa, unsigned int n, double seconds)
{
	static const char msg[IDLE_MSG] = "idle connection";
	int *fds = malloc(n * sizeof(*fds));
	unsigned char *state = calloc(n, 1); /* 0 not started, 1 connecting, 2 reading, 3 open */
	unsigned int *got = calloc(n, sizeof(*got));
	struct epoll_event evs[256];
	unsigned int next = 0, connecting = 0, open_n = 0, failed = 0;
	double t0 = now_s(), t_ready;
	int ep = epoll_create1(0);

	if (fds == NULL || state == NULL || got == NULL || ep < 0)
		return 1;
	raise_nofile((long)n + 64);
	while (open_n + failed < n && !stop && now_s() - t0 < 60) {
		while (next < n && connecting < IDLE_CONNECTING_MAX) {
			struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = next};
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			fds[next] = fd;
			if (fd < 0 ||
			    (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
			     errno != EINPROGRESS) ||
			    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
				if (fd >= 0)
					close(fd);
				fds[next] = -1;
				failed++;
			} else {
				state[next] = 1;
				connecting++;
			}
			next++;
		}
		int k = epoll_wait(ep, evs, 256, 100);

		for (int j = 0; j < k; j++) {
			unsigned int i = evs[j].data.u32;
			int fd = fds[i], err = 0;
			socklen_t len = sizeof(err);

			if (state[i] == 1) {
				struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err == 0 && send(fd, msg, sizeof(msg), MSG_NOSIGNAL) ==
						    (ssize_t)sizeof(msg)) {
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
					state[i] = 2;
					continue;
				}
			} else if (state[i] == 2) {
				char buf[IDLE_MSG];
				ssize_t r = recv(fd, buf, sizeof(buf) - got[i], 0);

				if (r < 0 && errno == EAGAIN)
					continue;
				if (r > 0) {
					got[i] += (unsigned int)r;
					if (got[i] < IDLE_MSG)
						continue;
					/* Open and quiet from now on: out of the epoll set. */
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					state[i] = 3;
					open_n++;
					connecting--;
					continue;
				}
			} else {
				continue;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			fds[i] = -1;
			state[i] = 0;
			failed++;
			connecting--;
		}
	}
	t_ready = now_s();
	printf("ready open=%u failed=%u seconds=%.2f\n", open_n, failed, t_ready - t0);
	fflush(stdout);
	while (!stop && now_s() - t_ready < seconds)
		usleep(50000);
	for (unsigned int i = 0; i < next; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(ep);
	printf("closed\n");
	free(fds);
	free(state);
	free(got);
	return open_n == n ? 0 : 1;
}

/* ---- the Linux server ---- */

enum srv_kind { SRV_NONE = 0, SRV_LISTEN, SRV_ECHO, SRV_DISCARD, SRV_CHARGEN };

struct srv_conn {
	uint8_t kind;		     /* enum srv_kind */
	uint8_t listen_kind;	     /* for listeners: what accepted connections serve */
	uint32_t pend_off, pend_len; /* echo: bytes not yet written back */
	char *pend;
	uint64_t pos; /* chargen: position in the stream */
	uint64_t bytes_in, bytes_out;
};

/* RFC 864's pattern: 95 lines of 72 printable characters and CRLF, then again. */
#define CHARGEN_PERIOD (95 * 74)
static char chargen_buf[CHARGEN_PERIOD + BUF_SIZE];

static void
chargen_init(void)
{
	for (size_t i = 0; i < sizeof(chargen_buf); i++) {
		size_t p = i % CHARGEN_PERIOD, line = p / 74, col = p % 74;

		if (col == 72)
			chargen_buf[i] = '\r';
		else if (col == 73)
			chargen_buf[i] = '\n';
		else
			chargen_buf[i] = (char)(' ' + (line + col) % 95);
	}
}

static int
srv_listen(int ep, struct srv_conn *conns, int max_fd, const char *addr, long port, uint8_t kind)
{
	struct sockaddr_in sa;
	char ps[8];
	int one = 1, fd;
	struct epoll_event ev = {.events = EPOLLIN};

	if (port == 0)
		return 0;
	snprintf(ps, sizeof(ps), "%ld", port);
	if (parse_addr(addr, ps, &sa) != 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || fd >= max_fd)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4096) != 0) {
		perror("sl-tcpbench: bind/listen");
		close(fd);
		return -1;
	}
	conns[fd].kind = SRV_LISTEN;
	conns[fd].listen_kind = kind;
	ev.data.fd = fd;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void
srv_close(struct srv_conn *conns, int fd)
{
	struct srv_conn *c = &conns[fd];

	if (c->bytes_in + c->bytes_out >= BULK_REPORT_BYTES) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
		printf("bulk kind=%s bytes_in=%llu bytes_out=%llu segs_in=%u segs_out=%u "
		       "retrans=%u\n",
		       c->kind == SRV_DISCARD	? "discard"
		       : c->kind == SRV_CHARGEN ? "chargen"
						: "echo",
		       (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
		       ti.tcpi_segs_in, ti.tcpi_segs_out, ti.tcpi_total_retrans);
		fflush(stdout);
	}
	free(c->pend);
	memset(c, 0, sizeof(*c));
	close(fd); /* leaves the epoll set with it */
}

static void
srv_accept(int ep, struct srv_conn *conns, int max_fd, int lfd)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		struct epoll_event ev;

		if (fd < 0)
			return;
		if (fd >= max_fd) {
			close(fd);
			continue;
		}
		set_nodelay(fd);
		memset(&conns[fd], 0, sizeof(conns[fd]));
		conns[fd].kind = conns[lfd].listen_kind;
		ev.events = EPOLLIN | (conns[fd].kind == SRV_CHARGEN ? EPOLLOUT : 0);
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			memset(&conns[fd], 0, sizeof(conns[fd]));
			close(fd);
		}
	}
}

/* Write back what echo holds; 1 when nothing is left, 0 when the socket is full, -1 on error. */
static int
srv_echo_flush(struct srv_conn *c, int fd)
{
	while (c->pend_len > 0) {
		ssize_t n = send(fd, c->pend + c->pend_off, c->pend_len, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->bytes_out += (uint64_t)n;
		c->pend_off += (uint32_t)n;
		c->pend_len -= (uint32_t)n;
	}
	return 1;
}

static void
srv_event(int ep, struct srv_conn *conns, int fd, uint32_t events)
{
	static char buf[BUF_SIZE];
	struct srv_conn *c = &conns[fd];

	if (c->kind == SRV_CHARGEN && (events & EPOLLOUT)) {
		for (int i = 0; i < 64; i++) {
			size_t off = c->pos % CHARGEN_PERIOD;
			ssize_t n = send(fd, chargen_buf + off, BUF_SIZE, MSG_NOSIGNAL);

			if (n < 0) {
				if (errno == EAGAIN)
					break;
				srv_close(conns, fd);
				return;
			}
			c->pos += (uint64_t)n;
			c->bytes_out += (uint64_t)n;
		}
	}
	if (c->kind == SRV_ECHO && (events & EPOLLOUT)) {
		int r = srv_echo_flush(c, fd);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

		if (r < 0) {
			srv_close(conns, fd);
			return;
		}
		if (r == 0)
			return;
		epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev); /* drained: read again */
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			srv_close(conns, fd); /* EOF: all three services close when the peer does */
			return;
		}
		c->bytes_in += (uint64_t)n;
		if (c->kind != SRV_ECHO)
			continue;
		c->pend = malloc((size_t)n);
		if (c->pend == NULL) {
			srv_close(conns, fd);
			return;
		}
		memcpy(c->pend, buf, (size_t)n);
		c->pend_off = 0;
		c->pend_len = (uint32_t)n;
		int r = srv_echo_flush(c, fd);

		if (r < 0) {
			srv_close(conns, fd);
			return;
		}
		if (r == 0) {
			/* A slow reader slows the writer: stop reading until the socket drains. */
			struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};

			epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			return;
		}
		free(c->pend);
		c->pend = NULL;
	}
}

static int
cmd_server(const char *addr, long echo, long discard, long chargen, double seconds)
{
	const int max_fd = 65536;
	struct srv_conn *conns = calloc((size_t)max_fd, sizeof(*conns));
	struct epoll_event evs[256];
	double t0 = now_s();
	int ep = epoll_create1(0);

	if (conns == NULL || ep < 0)
		return 1;
	raise_nofile(max_fd);
	chargen_init();
	if (srv_listen(ep, conns, max_fd, addr, echo, SRV_ECHO) != 0 ||
	    srv_listen(ep, conns, max_fd, addr, discard, SRV_DISCARD) != 0 ||
	    srv_listen(ep, conns, max_fd, addr, chargen, SRV_CHARGEN) != 0) {
		fprintf(stderr, "sl-tcpbench: cannot listen on %s\n", addr);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop && now_s() - t0 < seconds) {
		int n = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (conns[fd].kind == SRV_LISTEN)
				srv_accept(ep, conns, max_fd, fd);
			else if (conns[fd].kind != SRV_NONE)
				srv_event(ep, conns, fd, evs[i].events);
		}
	}
	for (int fd = 0; fd < max_fd; fd++)
		if (conns[fd].kind != SRV_NONE)
			close(fd);
	free(conns);
	close(ep);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: sl-tcpbench send|recv HOST PORT SECONDS\n"
		"       sl-tcpbench cps HOST PORT SECONDS PARALLEL\n"
		"       sl-tcpbench idle HOST PORT N SECONDS\n"
		"       sl-tcpbench server ADDR ECHO_PORT DISCARD_PORT CHARGEN_PORT SECONDS\n");
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "server") == 0) {
		if (argc != 7) {
			usage();
			return 2;
		}
		return cmd_server(argv[2], parse_num(argv[3], 0, 65535, "ECHO_PORT"),
				  parse_num(argv[4], 0, 65535, "DISCARD_PORT"),
				  parse_num(argv[5], 0, 65535, "CHARGEN_PORT"),
				  (double)parse_num(argv[6], 1, 86400, "SECONDS"));
	}
	if (parse_addr(argv[2], argv[3], &sa) != 0)
		return 2;
	if (strcmp(argv[1], "send") == 0 && argc == 5)
		return cmd_send(&sa, (double)parse_num(argv[4], 1, 3600, "SECONDS"));
	if (strcmp(argv[1], "recv") == 0 && argc == 5)
		return cmd_recv(&sa, (double)parse_num(argv[4], 1, 3600, "SECONDS"));
	if (strcmp(argv[1], "cps") == 0 && argc == 6)
		return cmd_cps(&sa, (double)parse_num(argv[4], 1, 3600, "SECONDS"),
			       (unsigned int)parse_num(argv[5], 1, 10000, "PARALLEL"));
	if (strcmp(argv[1], "idle") == 0 && argc == 6)
		return cmd_idle(&sa, (unsigned int)parse_num(argv[4], 1, 60000, "N"),
				(double)parse_num(argv[5], 1, 3600, "SECONDS"));
	usage();
	return 2;
}
