/* SPDX-License-Identifier: MIT */
/*
 * Connection state machine. bk_conn_run() is the only function that changes c->state; I/O
 * events and timer expiry only feed it. Input is read only in states that want it, so a client
 * that pipelines faster than it reads responses is held back by TCP, not by our memory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#define IN_CAP_INITIAL 8192
#define ACCEPT_BURST 256
/* A safety net against a state machine bug, far above any legitimate pipelined burst. */
#define RUN_STEPS_MAX 1000000

enum step {
	STEP_CONTINUE, /* state changed or input consumed: run again */
	STEP_WAIT,     /* waiting for I/O or the timer */
};

static void
format_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		snprintf(out, len, "unknown");
	}
}

static void
touch(struct bk_conn *c)
{
	struct bk_server *s = c->srv;

	if (bk_timer_set(s, c, s->now_ms + s->idle_timeout_ms) < 0)
		bk_conn_close(c);
}

void
bk_conn_close(struct bk_conn *c)
{
	struct bk_server *s = c->srv;

	if (c->state == BK_CONN_CLOSED)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	bk_timer_remove(s, c);
	c->state = BK_CONN_CLOSED;
	c->next_dead = s->dead;
	s->dead = c;
}

void
bk_conn_free_dead(struct bk_server *s)
{
	while (s->dead != NULL) {
		struct bk_conn *c = s->dead;

		s->dead = c->next_dead;
		free(c->in);
		free(c->out.data);
		free(c->req.hdrs);
		free(c);
	}
}

static void
request_reset(struct bk_conn *c)
{
	struct bk_request *r = &c->req;
	struct bk_header *hdrs = r->hdrs;
	size_t cap = r->cap_hdrs;

	memset(r, 0, sizeof(*r));
	r->hdrs = hdrs;
	r->cap_hdrs = cap;
	r->host_idx = -1;
	bk_sha256_init(&r->sha);
}

/* Moves unconsumed input to keep = [0, keep) + the rest, so reads have room. */
static void
compact(struct bk_conn *c, size_t keep)
{
	size_t rest = c->in_len - c->in_pos;

	if (c->in_pos == keep)
		return;
	memmove(c->in + keep, c->in + c->in_pos, rest);
	if (c->scan >= c->in_pos)
		c->scan -= c->in_pos - keep;
	else
		c->scan = keep;
	c->in_pos = keep;
	c->in_len = keep + rest;
}

/* Reads once. Returns 0, or -1 when the connection was closed. */
static int
conn_read(struct bk_conn *c)
{
	ssize_t n;

	if (c->state == BK_CONN_LINGER) {
		c->in_pos = c->in_len = 0;
	} else {
		compact(c, c->head_len);
		if (c->in_cap - c->in_len < 1024 && c->in_cap < BK_IN_CAP) {
			size_t cap = c->in_cap * 2 > BK_IN_CAP ? BK_IN_CAP : c->in_cap * 2;
			char *in = realloc(c->in, cap);

			if (in == NULL) {
				bk_conn_close(c);
				return -1;
			}
			c->in = in;
			c->in_cap = cap;
		}
	}
	if (c->in_len == c->in_cap)
		return 0; /* head too large: bk_conn_run answers 431 */
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		if (c->state == BK_CONN_LINGER) {
			c->req.body_bytes += (uint64_t)n; /* counts discarded bytes */
			if (c->req.body_bytes > BK_LINGER_MAX_BYTES) {
				bk_conn_close(c);
				return -1;
			}
			c->in_len = 0;
			return 0;
		}
		touch(c);
		return 0;
	}
	if (n == 0) {
		c->rd_eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	bk_conn_close(c);
	return -1;
}

/*
 * Sends c->out and then, for /bytes/N, the generated pattern, at most BK_WRITE_BURST bytes per
 * call. Returns 1 when everything is sent, 0 when blocked, -1 when the connection was closed.
 */
static int
flush(struct bk_conn *c, bool generate)
{
	size_t burst = 0;

	for (;;) {
		ssize_t n;

		if (c->out.off == c->out.len) {
			c->out.off = c->out.len = 0;
			if (!generate || c->gen_off == c->gen_end)
				return 1;
			if (bk_reply_generate(c) < 0) {
				bk_conn_close(c);
				return -1;
			}
		}
		if (burst >= BK_WRITE_BURST)
			return 0; /* fair share used; EPOLLOUT brings us back */
		n = send(c->fd, c->out.data + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out.off += (size_t)n;
			burst += (size_t)n;
			touch(c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		bk_conn_close(c);
		return -1;
	}
}

/* Builds the response to the request just read and moves to DELAY or WRITE. */
static enum step
finish_request(struct bk_conn *c)
{
	int delay = bk_reply_request(c);

	if (delay < 0) {
		bk_conn_close(c);
		return STEP_WAIT;
	}
	/* The head is no longer needed: what follows it is the next pipelined request. */
	c->head_len = 0;
	compact(c, 0);
	c->scan = 0;
	if (delay > 0) {
		c->state = BK_CONN_DELAY;
		if (bk_timer_set(c->srv, c, c->srv->now_ms + (uint64_t)delay) < 0)
			bk_conn_close(c);
		return STEP_WAIT;
	}
	c->state = BK_CONN_WRITE;
	return STEP_CONTINUE;
}

static enum step
fail(struct bk_conn *c, int status, const char *detail)
{
	c->head_len = 0;
	if (bk_reply_error(c, status, detail) < 0) {
		bk_conn_close(c);
		return STEP_WAIT;
	}
	c->state = BK_CONN_WRITE;
	return STEP_CONTINUE;
}

static enum step
step_read_head(struct bk_conn *c)
{
	const char *detail = NULL;
	size_t i, head_len;
	int st;

	/* RFC 9112 §2.2: ignore empty lines before a request line. */
	while (c->in_pos < c->in_len && (c->in[c->in_pos] == '\n' ||
					 (c->in[c->in_pos] == '\r' && c->in_pos + 1 < c->in_len &&
					  c->in[c->in_pos + 1] == '\n')))
		c->in_pos += c->in[c->in_pos] == '\n' ? 1 : 2;
	if (c->scan < c->in_pos)
		c->scan = c->in_pos;
	for (i = c->scan; i < c->in_len; i++) {
		if (c->in[i] != '\n')
			continue;
		if ((i >= c->in_pos + 1 && c->in[i - 1] == '\n') ||
		    (i >= c->in_pos + 2 && c->in[i - 1] == '\r' && c->in[i - 2] == '\n'))
			break;
	}
	c->scan = i;
	if (i == c->in_len) {
		if (c->in_len - c->in_pos > BK_HEAD_MAX)
			return fail(c, 431, "request head larger than 64 KiB");
		if (c->rd_eof) {
			bk_conn_close(c); /* nothing or half a request, then EOF */
			return STEP_WAIT;
		}
		return STEP_WAIT;
	}
	head_len = i + 1 - c->in_pos;
	if (head_len > BK_HEAD_MAX)
		return fail(c, 431, "request head larger than 64 KiB");
	compact(c, 0);
	request_reset(c);
	c->n_requests++;
	c->srv->n_requests++;
	st = bk_req_parse_head(c, head_len, &detail);
	if (st != 0)
		return fail(c, st, detail);
	c->head_len = head_len;
	c->in_pos = head_len;
	c->scan = 0;
	if (c->req.body_kind == BK_BODY_NONE)
		return finish_request(c);
	/* Only a client still waiting needs the interim response. */
	if (c->req.expect_continue && c->in_len == c->in_pos &&
	    bk_buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
		bk_conn_close(c);
		return STEP_WAIT;
	}
	c->state = BK_CONN_READ_BODY;
	return STEP_CONTINUE;
}

static enum step
step_read_body(struct bk_conn *c)
{
	const char *detail = NULL;
	int rc;

	if (c->out.len > c->out.off && flush(c, false) < 0)
		return STEP_WAIT;
	rc = bk_req_consume_body(c, &detail);
	if (rc < 0)
		return fail(c, 400, detail);
	if (rc > 0)
		return finish_request(c); /* queued behind a 100 Continue still unsent, if any */
	c->in_pos = c->in_len = c->head_len;
	if (c->rd_eof) {
		bk_conn_close(c);
		return STEP_WAIT;
	}
	return STEP_WAIT;
}

static enum step
step_write(struct bk_conn *c)
{
	int rc = flush(c, true);

	if (rc <= 0)
		return STEP_WAIT;
	if (c->close_after) {
		/* Lingering close: a reset would destroy the response the client has not read. */
		shutdown(c->fd, SHUT_WR);
		if (c->rd_eof) {
			bk_conn_close(c);
			return STEP_WAIT;
		}
		c->state = BK_CONN_LINGER;
		c->req.body_bytes = 0;
		if (bk_timer_set(c->srv, c, c->srv->now_ms + BK_LINGER_MS) < 0)
			bk_conn_close(c);
		return STEP_WAIT;
	}
	c->state = BK_CONN_READ_HEAD;
	return STEP_CONTINUE;
}

static void
update_events(struct bk_conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	switch (c->state) {
	case BK_CONN_READ_HEAD:
	case BK_CONN_READ_BODY:
		/* A full buffer never lasts in these states: >64 KiB of head is answered with 431,
		 * body bytes are consumed as soon as they arrive. */
		if (!c->rd_eof)
			want |= EPOLLIN;
		if (c->out.len > c->out.off)
			want |= EPOLLOUT;
		break;
	case BK_CONN_WRITE:
		want = EPOLLOUT;
		break;
	case BK_CONN_LINGER:
		want = EPOLLIN;
		break;
	case BK_CONN_DELAY:
	case BK_CONN_CLOSED:
		break;
	}
	if (c->state == BK_CONN_CLOSED || want == c->ev_mask)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		bk_conn_close(c);
		return;
	}
	c->ev_mask = want;
}

static void
conn_run(struct bk_conn *c)
{
	enum step st = STEP_CONTINUE;
	long steps;

	for (steps = 0; st == STEP_CONTINUE && steps < RUN_STEPS_MAX; steps++) {
		switch (c->state) {
		case BK_CONN_READ_HEAD:
			st = step_read_head(c);
			break;
		case BK_CONN_READ_BODY:
			st = step_read_body(c);
			break;
		case BK_CONN_WRITE:
			st = step_write(c);
			break;
		case BK_CONN_LINGER:
			if (c->rd_eof)
				bk_conn_close(c);
			st = STEP_WAIT;
			break;
		case BK_CONN_DELAY:
		case BK_CONN_CLOSED:
			st = STEP_WAIT;
			break;
		}
	}
	if (steps == RUN_STEPS_MAX) {
		fprintf(stderr, "sluice-backend: %s: state machine did not settle, closing\n",
			c->remote);
		bk_conn_close(c);
	}
	update_events(c);
}

void
bk_conn_event(struct bk_conn *c, uint32_t events)
{
	if (c->state == BK_CONN_CLOSED)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* Reset, or both directions shut: nobody left to answer. */
		bk_conn_close(c);
		return;
	}
	if ((events & EPOLLIN) &&
	    (c->state == BK_CONN_READ_HEAD || c->state == BK_CONN_READ_BODY ||
	     c->state == BK_CONN_LINGER) &&
	    conn_read(c) < 0)
		return;
	conn_run(c);
}

void
bk_conn_timeout(struct bk_conn *c)
{
	struct bk_server *s = c->srv;

	if (c->state != BK_CONN_DELAY) {
		bk_conn_close(c); /* idle, stalled or lingering too long */
		return;
	}
	c->state = BK_CONN_WRITE;
	if (bk_timer_set(s, c, s->now_ms + s->idle_timeout_ms) < 0) {
		bk_conn_close(c);
		return;
	}
	conn_run(c);
}

static void
shed_one(struct bk_server *s, struct bk_listener *l)
{
	int fd;

	/* Out of descriptors: free the spare to accept and close one, so the backlog moves. */
	if (s->reserve_fd < 0)
		return;
	close(s->reserve_fd);
	fd = accept(l->fd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fprintf(stderr, "sluice-backend: out of file descriptors, refused a connection\n");
}

void
bk_conn_accept(struct bk_server *s, struct bk_listener *l)
{
	int i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct epoll_event ev;
		struct bk_conn *c;
		int fd, one = 1;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				shed_one(s, l);
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				perror("sluice-backend: accept");
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL || (c->in = malloc(IN_CAP_INITIAL)) == NULL) {
			free(c);
			close(fd);
			continue;
		}
		c->kind = BK_SRC_CONN;
		c->fd = fd;
		c->srv = s;
		c->in_cap = IN_CAP_INITIAL;
		c->heap_idx = (size_t)-1;
		c->state = BK_CONN_READ_HEAD;
		format_addr(&ss, c->remote, sizeof(c->remote));
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			format_addr(&ss, c->local, sizeof(c->local));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		request_reset(c);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ||
		    bk_timer_set(s, c, s->now_ms + s->idle_timeout_ms) < 0) {
			close(fd);
			free(c->in);
			free(c);
			continue;
		}
		c->ev_mask = EPOLLIN;
	}
}
