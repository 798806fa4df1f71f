/* SPDX-License-Identifier: MIT */
/*
 * sluice-backend: an HTTP/1.1 test backend that echoes what it received as JSON.
 *
 * One thread, one level-triggered epoll loop, nonblocking sockets. Every connection is a small
 * state machine (enum bk_conn_state) driven by bk_conn_run(); its only timer is a single
 * deadline kept in a binary min-heap on the server, so idle timeouts, /delay/MS and the
 * lingering close all use the same mechanism.
 */
#ifndef SLUICE_BACKEND_H
#define SLUICE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Request line plus header fields plus the blank line. Larger heads get 431. */
#define BK_HEAD_MAX (64 * 1024)
/* Input buffer: the head stays pinned at its start while the body streams through the rest. */
#define BK_IN_CAP (BK_HEAD_MAX + 16 * 1024)
#define BK_MAX_HEADERS 4096
#define BK_CHUNK_LINE_MAX 4096 /* chunk-size line including extensions */
#define BK_TRAILER_MAX (64 * 1024)
#define BK_DELAY_MAX_MS 60000
#define BK_BYTES_MAX (1ULL << 30)
#define BK_GEN_CHUNK (64 * 1024)     /* /bytes/N is produced this much at a time */
#define BK_WRITE_BURST (1024 * 1024) /* per connection per wakeup, for fairness */
#define BK_LINGER_MS 2000
#define BK_LINGER_MAX_BYTES (1024 * 1024)
#define BK_ADDR_STRLEN 64

/* What an epoll event's data.ptr points at; every such struct starts with this. */
enum bk_source_kind {
	BK_SRC_LISTENER,
	BK_SRC_CONN,
	BK_SRC_SIGNAL,
};

struct bk_buf {
	char *data;
	size_t off; /* bytes before off are already sent */
	size_t len;
	size_t cap;
};

/* A header field as offsets into the connection's input buffer. */
struct bk_header {
	uint32_t name;
	uint32_t name_len;
	uint32_t value;
	uint32_t value_len;
};

enum bk_body_kind {
	BK_BODY_NONE,
	BK_BODY_LENGTH,
	BK_BODY_CHUNKED,
};

enum bk_chunk_state {
	BK_CH_SIZE,    /* hex digits of the chunk size */
	BK_CH_EXT,     /* chunk extensions up to the end of the line */
	BK_CH_SIZE_LF, /* saw CR after the size line, LF must follow */
	BK_CH_DATA,    /* chunk data */
	BK_CH_DATA_CR, /* CRLF after chunk data */
	BK_CH_DATA_LF,
	BK_CH_TRAILER_BOL, /* start of a trailer line, or the final blank line */
	BK_CH_TRAILER_LINE,
	BK_CH_TRAILER_END_LF,
	BK_CH_DONE,
};

/* One request: its parsed head (offsets into the input buffer) and the body digest so far. */
struct bk_request {
	uint32_t method, method_len;
	uint32_t target, target_len;
	uint32_t path_len; /* target up to '?' */
	int minor;	   /* HTTP/1.<minor> */
	struct bk_header *hdrs;
	size_t n_hdrs, cap_hdrs;
	int host_idx; /* index into hdrs, or -1 */
	bool keep_alive;
	bool expect_continue;
	bool is_head; /* HEAD: no response body */
	enum bk_body_kind body_kind;
	uint64_t remaining; /* Content-Length left, or bytes left in the current chunk */
	uint64_t body_bytes;
	struct bk_sha256 sha;
	enum bk_chunk_state chunk_state;
	bool chunk_digits; /* at least one hex digit seen on this size line */
	size_t chunk_line; /* bytes on the current size line */
	size_t trailer_bytes;
};

enum bk_conn_state {
	BK_CONN_READ_HEAD, /* waiting for a complete request head */
	BK_CONN_READ_BODY, /* streaming the body through the digest */
	BK_CONN_DELAY,	   /* response built, held back until the deadline (/delay/MS) */
	BK_CONN_WRITE,	   /* sending the response (and the /bytes/N generator) */
	BK_CONN_LINGER,	   /* our side shut down; discarding input until EOF or deadline */
	BK_CONN_CLOSED,	   /* waiting to be freed at the end of the event batch */
};

struct bk_server;

struct bk_conn {
	enum bk_source_kind kind;
	int fd;
	enum bk_conn_state state;
	struct bk_server *srv;
	char remote[BK_ADDR_STRLEN];
	char local[BK_ADDR_STRLEN];
	uint64_t n_requests; /* requests whose head this connection has carried */

	char *in; /* grows up to BK_IN_CAP bytes */
	size_t in_cap;
	size_t in_len;	 /* bytes held */
	size_t in_pos;	 /* first byte not yet consumed */
	size_t head_len; /* pinned head while reading the body, else 0 */
	size_t scan;	 /* where the search for the end of the head resumes */

	struct bk_buf out;
	uint64_t gen_off, gen_end; /* /bytes/N pattern still to produce */

	bool close_after; /* close once the current response is sent */
	bool rd_eof;	  /* the peer will send nothing more */
	uint32_t ev_mask; /* events currently registered with epoll */

	uint64_t deadline_ms;
	size_t heap_idx;

	struct bk_conn *next_dead;
	struct bk_request req;
};

struct bk_listener {
	enum bk_source_kind kind;
	int fd;
	char addr[BK_ADDR_STRLEN];
};

#define BK_ADD_HEADER_MAX 8

struct bk_server {
	int epfd;
	const char *name;
	const char *unhealthy_file;
	const char *fault_file; /* --fault-file: while it exists, every request is faulted */
	uint64_t n_served;	/* requests answered but /health and /served (fault tests count) */
	unsigned idle_timeout_ms;
	uint64_t now_ms;
	int reserve_fd; /* spare descriptor released to shed a connection on EMFILE */

	struct bk_conn **heap; /* min-heap of open connections by deadline */
	size_t heap_len, heap_cap;
	struct bk_conn *dead;  /* closed during this batch, freed after it */
	struct bk_buf scratch; /* response bodies are built here to learn their length */
	uint64_t n_requests;   /* request heads over all connections (server_requests) */
	const char *add_header[BK_ADD_HEADER_MAX]; /* --header lines, added to every response */
	unsigned int n_add_header;
};

/* http_reply.c: growable byte buffers; return 0 or -ENOMEM */
int bk_buf_reserve(struct bk_buf *b, size_t extra);
int bk_buf_append(struct bk_buf *b, const void *data, size_t len);
int bk_buf_printf(struct bk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* timer.c */
uint64_t bk_now_ms(void);
int bk_timer_set(struct bk_server *s, struct bk_conn *c, uint64_t deadline_ms);
void bk_timer_remove(struct bk_server *s, struct bk_conn *c);
struct bk_conn *bk_timer_expired(struct bk_server *s);
int bk_timer_wait_ms(const struct bk_server *s);

/* conn.c */
void bk_conn_accept(struct bk_server *s, struct bk_listener *l);
void bk_conn_event(struct bk_conn *c, uint32_t events);
void bk_conn_timeout(struct bk_conn *c);
void bk_conn_close(struct bk_conn *c);
void bk_conn_free_dead(struct bk_server *s);

/* http_request.c */
/*
 * Parses the head in c->in[c->in_pos, c->in_pos + head_len) into c->req. Returns 0, or the HTTP
 * status to answer with (400, 417, 431, 501, 505) and sets *detail to a short explanation.
 */
int bk_req_parse_head(struct bk_conn *c, size_t head_len, const char **detail);
/*
 * Consumes body bytes from c->in[in_pos, in_len). Returns 1 when the body is complete, 0 when
 * more input is needed, or a negative value on malformed chunked framing (*detail set).
 */
int bk_req_consume_body(struct bk_conn *c, const char **detail);
const char *bk_req_header(const struct bk_conn *c, const char *name, size_t *len);

/* http_reply.c */
/*
 * Appends the response for the request just completed to c->out. Returns how many milliseconds
 * to hold it back (/delay/MS), or -ENOMEM.
 */
int bk_reply_request(struct bk_conn *c);
/* Appends an error response and marks the connection to close after it. */
int bk_reply_error(struct bk_conn *c, int status, const char *detail);
/* Fills c->out with the next piece of a /bytes/N body. */
int bk_reply_generate(struct bk_conn *c);

#endif
