/* SPDX-License-Identifier: MIT */
#ifndef SL_ACCESSLOG_H
#define SL_ACCESSLOG_H

/*
 * The access log: one fixed-size record per request, written by the worker that served it and
 * formatted by the control plane (DESIGN.md, "Control plane").
 *
 * Per worker, a struct sl_alog holds `n` records and two single-producer/single-consumer rings
 * of record indices:
 *   done  worker -> control   records of finished requests, in the order they finished
 *   back  control -> worker   records the control plane has written out, free again
 * The worker keeps the free indices on a private stack, refilled from `back` when it runs dry.
 * A request takes a record when its first byte arrives (sl_alog_take), fills it as it goes, and
 * hands it over when it ends, however it ends (sl_alog_commit). No free record: the request
 * is not logged and `dropped` counts it; the worker never waits, allocates, locks or makes a
 * system call here. Every index is in exactly one place (free stack, a request, `done`,
 * `back`, or being formatted), so neither ring can be full when an index is put on it.
 *
 * Time: the record holds TSC values; the control plane turns them into wall-clock time with
 * a (TSC, realtime) pair it sampled at start (struct sl_alog_clock).
 *
 * Pure C (no DPDK): the control plane formats with alog_format.c; tests run without EAL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why the exchange ended. The names are the log's `reason` values. */
#define SL_ALOG_REASONS(X)                                                                         \
	X(OK, "ok")			  /* a complete response (the backend's or ours) */        \
	X(CLIENT_CLOSED, "client_closed") /* the client left before the response ended */          \
	X(PARSE_ERROR, "parse_error")	  /* the request broke HTTP/1.1 rules (400) */             \
	X(TOO_LARGE, "too_large")	  /* 413 / 414 / 431 */                                    \
	X(HEADER_TIMEOUT, "header_timeout")                                                        \
	X(NO_ROUTE, "no_route")                                                                    \
	X(NO_BACKEND, "no_backend")                                                                \
	X(CONNECT_FAILED, "connect_failed")                                                        \
	X(CONNECT_TIMEOUT, "connect_timeout")                                                      \
	X(BACKEND_RESET, "backend_reset")                                                          \
	X(BACKEND_TIMEOUT, "backend_timeout")                                                      \
	X(BAD_RESPONSE, "bad_response")                                                            \
	X(REFUSED, "refused") /* rate limit, circuit breaker, queue */                             \
	X(NO_MEMORY, "no_memory")

enum sl_alog_reason {
#define SL_ALOG_REASON_ENUM(id, name) SL_ALOG_##id,
	SL_ALOG_REASONS(SL_ALOG_REASON_ENUM)
#undef SL_ALOG_REASON_ENUM
	    SL_ALOG_REASON_MAX
};

/* Fixed field sizes (NUL included); a longer value is cut and its flag set. */
#define SL_ALOG_METHOD_MAX 16
#define SL_ALOG_NAME_MAX 32	/* service name */
#define SL_ALOG_LOCATION_MAX 48 /* location path prefix */
#define SL_ALOG_HOST_MAX 64
#define SL_ALOG_PATH_MAX 256 /* the request target as sent: path and query */
#define SL_ALOG_REFERER_MAX 128
#define SL_ALOG_UA_MAX 128

/* Flags of a record: which fields were cut. */
#define SL_ALOG_F_METHOD_CUT (1u << 0)
#define SL_ALOG_F_HOST_CUT (1u << 1)
#define SL_ALOG_F_PATH_CUT (1u << 2)
#define SL_ALOG_F_REFERER_CUT (1u << 3)
#define SL_ALOG_F_UA_CUT (1u << 4)
#define SL_ALOG_F_SERVICE_CUT (1u << 5)
#define SL_ALOG_F_LOCATION_CUT (1u << 6)
#define SL_ALOG_F_HAS_REQUEST (1u << 7) /* method/path/version were read (else "-") */

#define SL_ALOG_NO_TTFB UINT32_MAX /* no response byte was sent */

/*
 * One request. Names are copied, not referenced: a record outlives the configuration
 * snapshot it was served with (a reload may free it before the control plane formats it).
 * The backend is its address, which is what the worker connected to.
 */
struct sl_alog_rec {
	uint64_t start_tsc;	  /* the request's first byte */
	uint64_t bytes_received;  /* request head and body bytes read from the client */
	uint64_t bytes_sent;	  /* response bytes sent to the client, head included */
	uint64_t body_bytes_sent; /* of which body */
	uint32_t duration_us;	  /* first request byte to the end of the exchange */
	uint32_t ttfb_us;	  /* first request byte to the first response byte; NO_TTFB */
	uint32_t client_ip;	  /* network byte order */
	uint32_t backend_ip;	  /* network byte order; 0 = no backend */
	uint16_t client_port;	  /* host order */
	uint16_t backend_port;	  /* host order */
	uint16_t status;	  /* 0: no status line was sent */
	uint16_t worker;
	uint16_t retries; /* attempts beyond the first */
	uint8_t version;  /* 10, 11, 0 unknown */
	uint8_t reason;	  /* enum sl_alog_reason */
	uint32_t flags;	  /* SL_ALOG_F_* */
	char method[SL_ALOG_METHOD_MAX];
	char service[SL_ALOG_NAME_MAX];
	char location[SL_ALOG_LOCATION_MAX];
	char host[SL_ALOG_HOST_MAX];
	char path[SL_ALOG_PATH_MAX];
	char referer[SL_ALOG_REFERER_MAX];
	char user_agent[SL_ALOG_UA_MAX];
};

/* A single-producer/single-consumer ring of 32-bit indices; capacity a power of two. */
struct sl_alog_ring {
	uint32_t *slot;
	uint32_t mask;
	uint32_t head __attribute__((aligned(64))); /* written by the producer only */
	uint32_t tail __attribute__((aligned(64))); /* written by the consumer only */
};

struct sl_alog {
	struct sl_alog_rec *rec; /* [n] */
	uint32_t n;
	uint16_t worker;
	/* Worker side. */
	uint32_t *free_idx; /* [n], a stack */
	uint32_t n_free;
	uint64_t dropped __attribute__((aligned(64))); /* atomic: requests not logged */
	uint64_t committed;			       /* atomic: records handed over */
	/* Control side. */
	uint64_t written __attribute__((aligned(64))); /* atomic: records formatted and written */
	uint64_t lost; /* atomic: lines a failed write() took with it */
	struct sl_alog_ring done, back;
};

/* Records per worker: [1, SL_ALOG_MAX_RECORDS]. */
#define SL_ALOG_MAX_RECORDS (1u << 20)

/* Allocate a log of n records for worker `worker` (control thread, at start). NULL: -ENOMEM
 * or n out of range. */
struct sl_alog *sl_alog_create(uint32_t n, unsigned int worker);
void sl_alog_free(struct sl_alog *l);

/* Worker: a record for a new request, zeroed but for worker and start_tsc; NULL (counted as
 * dropped) when every record is in use. */
struct sl_alog_rec *sl_alog_take(struct sl_alog *l, uint64_t start_tsc);
/* Worker: the request ended; the record goes to the control plane. */
void sl_alog_commit(struct sl_alog *l, struct sl_alog_rec *r);

/*
 * Control: the next finished record, or NULL. The caller reads it, then gives it back with
 * sl_alog_release; once its line is out, sl_alog_add_written counts it.
 */
struct sl_alog_rec *sl_alog_next(struct sl_alog *l);
void sl_alog_release(struct sl_alog *l, struct sl_alog_rec *r);
void sl_alog_add_written(struct sl_alog *l, uint64_t n);
void sl_alog_add_lost(struct sl_alog *l, uint64_t n);

/* Counters (any thread). */
uint64_t sl_alog_dropped(const struct sl_alog *l);
uint64_t sl_alog_written(const struct sl_alog *l);
uint64_t sl_alog_lost(const struct sl_alog *l);

/*
 * Copy a byte string into a fixed field: at most cap - 1 bytes, NUL-terminated. Returns true
 * if it was cut. Bytes are copied as they are (the formatter escapes them).
 */
bool sl_alog_copy(char *dst, size_t cap, const char *src, size_t len);

const char *sl_alog_reason_name(unsigned int reason);

/* ---- formatting (control plane) ---- */

/* Wall-clock time of a TSC value: realtime_ns at tsc, and the TSC rate. */
struct sl_alog_clock {
	uint64_t tsc;
	uint64_t realtime_ns;
	uint64_t tsc_hz;
};

uint64_t sl_alog_wall_ns(const struct sl_alog_clock *c, uint64_t tsc);

enum sl_alog_format {
	SL_ALOG_FORMAT_JSON,	 /* one JSON object per line */
	SL_ALOG_FORMAT_COMBINED, /* Apache/nginx "combined" */
};

/*
 * One line for record r (ending in '\n', NUL-terminated) into out[0, cap). wall_ns is the
 * request's start in realtime nanoseconds. Returns the length, or -ENOSPC (cap too small:
 * SL_ALOG_LINE_MAX always suffices).
 *
 * JSON: strings escaped per RFC 8259 (quote, backslash, control characters as \uXXXX); bytes
 * that are not valid UTF-8 become \u00XX of the byte, so the line is valid JSON and valid
 * UTF-8 whatever the client sent. Combined: `%h - - [%t] "%r" %>s %b "%{Referer}i"
 * "%{User-agent}i"` with nginx's escaping inside quoted fields (", \, control and non-ASCII
 * bytes as \xHH), so a hostile path cannot end a field or start a new line.
 */
#define SL_ALOG_LINE_MAX 8192
int sl_alog_format(enum sl_alog_format fmt, const struct sl_alog_rec *r, uint64_t wall_ns,
		   char *out, size_t cap);

#endif
