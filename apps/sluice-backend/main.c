/* SPDX-License-Identifier: MIT */
/*
 * sluice-backend: command line, listening sockets, signals and the epoll loop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

#define MAX_LISTENERS 16
#define MAX_EVENTS 256
#define LISTEN_BACKLOG 4096

struct signal_source {
	enum bk_source_kind kind;
	int fd;
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: sluice-backend --listen ADDR:PORT [--listen ...] --name NAME [options]\n"
	    "\n"
	    "An HTTP/1.1 test backend. Every request gets 200 and a JSON description of what\n"
	    "arrived: backend, method, path, query, target, version, host, headers (names\n"
	    "lower-cased, repeats joined with \", \"), header_list ([name, value] as received),\n"
	    "body_bytes, body_sha256, body_chunked, remote, local, conn_requests,\n"
	    "server_requests (request heads over all connections).\n"
	    "\n"
	    "Special paths (any method):\n"
	    "  /health       200 \"ok\"; 503 \"unhealthy\" while --unhealthy-file exists\n"
	    "  /served       how many requests this process answered (but /health, /served)\n"
	    "  /status/NNN   the echo with status NNN (200-599)\n"
	    "  /delay/MS     the echo after MS milliseconds (at most %d)\n"
	    "  /bytes/N      N bytes (at most 1 GiB), byte i is 'a' + i %% 26\n"
	    "  /close        the echo with Connection: close, then the connection closes\n"
	    "\n"
	    "Options:\n"
	    "  -l, --listen ADDR:PORT      IPv4 ADDR:PORT, [IPv6]:PORT, or PORT for all IPv4\n"
	    "                              addresses; repeatable (up to %d). The address need not\n"
	    "                              exist yet (IP_FREEBIND).\n"
	    "  -n, --name NAME             reported as \"backend\" and in X-Backend (default: "
	    "backend)\n"
	    "  -u, --unhealthy-file PATH   /health answers 503 while PATH exists\n"
	    "  -f, --fault-file PATH       while PATH exists, its first word faults every request\n"
	    "                              but /health and /served: 500 (answer 500) or hang\n"
	    "                              (answer only after %d ms)\n"
	    "  -t, --idle-timeout SECONDS  close connections idle this long (default 60)\n"
	    "  -H, --header 'NAME: VALUE'  a header field added to every response; repeatable\n"
	    "                              (up to %d)\n"
	    "  -h, --help                  this text\n"
	    "\n"
	    "SIGTERM and SIGINT stop it with exit status 0.\n",
	    BK_DELAY_MAX_MS, MAX_LISTENERS, BK_DELAY_MAX_MS, BK_ADD_HEADER_MAX);
}

static int
parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2] = "";
	const char *port_str = arg, *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - arg - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg + 1, (size_t)(close - arg - 1));
		port_str = close + 2;
	} else if ((colon = strrchr(arg, ':')) != NULL) {
		if ((size_t)(colon - arg) >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg, (size_t)(colon - arg));
		port_str = colon + 1;
	}
	errno = 0;
	port = strtol(port_str, &end, 10);
	if (errno != 0 || end == port_str || *end != '\0' || port < 1 || port > 65535)
		return -EINVAL;
	if (arg[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (host[0] == '\0')
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

/* Opens a nonblocking listener on arg. Returns the descriptor or -1 with a message printed. */
static int
open_listener(const char *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (parse_listen(arg, &ss, &len) < 0) {
		fprintf(stderr,
			"sluice-backend: --listen %s: expected IPv4:PORT, [IPv6]:PORT or PORT\n",
			arg);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sluice-backend: socket for %s: %s\n", arg, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		fprintf(stderr, "sluice-backend: cannot listen on %s: %s\n", arg, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool
valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (name[i] <= 0x20 || name[i] >= 0x7f)
			return false;
	return true;
}

/* Thousands of connections need more than the usual 1024 descriptors. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fault-file", required_argument, NULL, 'f'},
	    {"listen", required_argument, NULL, 'l'},
	    {"name", required_argument, NULL, 'n'},
	    {"unhealthy-file", required_argument, NULL, 'u'},
	    {"idle-timeout", required_argument, NULL, 't'},
	    {"header", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bk_server srv = {
	    .epfd = -1, .name = "backend", .idle_timeout_ms = 60000, .reserve_fd = -1};
	struct bk_listener listeners[MAX_LISTENERS];
	struct signal_source sig = {.kind = BK_SRC_SIGNAL, .fd = -1};
	const char *listen_args[MAX_LISTENERS];
	struct epoll_event events[MAX_EVENTS];
	int n_listen = 0, n_open = 0, opt, i, status = 1;
	bool stop = false;
	sigset_t mask;

	while ((opt = getopt_long(argc, argv, "l:n:u:f:t:H:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (n_listen == MAX_LISTENERS) {
				fprintf(stderr, "sluice-backend: at most %d --listen\n",
					MAX_LISTENERS);
				return 2;
			}
			listen_args[n_listen++] = optarg;
			break;
		case 'n':
			srv.name = optarg;
			break;
		case 'u':
			srv.unhealthy_file = optarg;
			break;
		case 'f':
			srv.fault_file = optarg;
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || v < 1 || v > 86400) {
				fprintf(
				    stderr,
				    "sluice-backend: --idle-timeout takes 1 to 86400 seconds\n");
				return 2;
			}
			srv.idle_timeout_ms = (unsigned)v * 1000;
			break;
		}
		case 'H': {
			const char *colon = strchr(optarg, ':');

			if (srv.n_add_header == BK_ADD_HEADER_MAX || colon == NULL ||
			    colon == optarg || strcspn(optarg, " \t") < (size_t)(colon - optarg) ||
			    strpbrk(optarg, "\r\n")) {
				fprintf(stderr, "sluice-backend: --header takes 'NAME: VALUE' (at "
						"most %d, no CR or LF)\n",
					BK_ADD_HEADER_MAX);
				return 2;
			}
			srv.add_header[srv.n_add_header++] = optarg;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-backend: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (n_listen == 0) {
		fprintf(stderr, "sluice-backend: at least one --listen ADDR:PORT is required\n");
		usage(stderr);
		return 2;
	}
	if (!valid_name(srv.name)) {
		fprintf(stderr, "sluice-backend: --name takes 1 to 64 visible ASCII characters\n");
		return 2;
	}

	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sig.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (srv.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("sluice-backend: setup");
		goto out;
	}
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &sig};

		if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, sig.fd, &ev) < 0) {
			perror("sluice-backend: epoll_ctl");
			goto out;
		}
	}
	for (i = 0; i < n_listen; i++) {
		struct bk_listener *l = &listeners[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};

		l->kind = BK_SRC_LISTENER;
		l->fd = open_listener(listen_args[i]);
		if (l->fd < 0)
			goto out;
		n_open++;
		snprintf(l->addr, sizeof(l->addr), "%s", listen_args[i]);
		if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
			perror("sluice-backend: epoll_ctl");
			goto out;
		}
	}
	srv.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	printf("sluice-backend %s listening on", srv.name);
	for (i = 0; i < n_listen; i++)
		printf(" %s", listeners[i].addr);
	printf("\n");
	fflush(stdout);

	while (!stop) {
		struct bk_conn *c;
		int n = epoll_wait(srv.epfd, events, MAX_EVENTS, bk_timer_wait_ms(&srv));

		if (n < 0 && errno != EINTR) {
			perror("sluice-backend: epoll_wait");
			goto out;
		}
		srv.now_ms = bk_now_ms();
		for (i = 0; i < n; i++) {
			enum bk_source_kind *kind = events[i].data.ptr;

			if (*kind == BK_SRC_LISTENER) {
				bk_conn_accept(&srv, events[i].data.ptr);
			} else if (*kind == BK_SRC_CONN) {
				bk_conn_event(events[i].data.ptr, events[i].events);
			} else {
				struct signalfd_siginfo si;

				if (read(sig.fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					stop = true;
			}
		}
		/* Each expired connection is closed or gets a deadline in the future. */
		while ((c = bk_timer_expired(&srv)) != NULL)
			bk_conn_timeout(c);
		bk_conn_free_dead(&srv);
	}
	status = 0;

out:
	while (srv.heap_len > 0)
		bk_conn_close(srv.heap[0]);
	bk_conn_free_dead(&srv);
	for (i = 0; i < n_open; i++)
		close(listeners[i].fd);
	if (srv.reserve_fd >= 0)
		close(srv.reserve_fd);
	if (sig.fd >= 0)
		close(sig.fd);
	if (srv.epfd >= 0)
		close(srv.epfd);
	free(srv.heap);
	free(srv.scratch.data);
	return status;
}
