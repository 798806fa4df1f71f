/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_REQ_STATS_H
#define SL_STATS_REQ_STATS_H

/*
 * HTTP request counters of one worker, keyed by (service, location, backend).
 *
 * The control plane sizes a block from the snapshot (numbers of services, locations and
 * backends, all global indices in file order) and gives one to each worker; the worker
 * writes it with no allocation and no lock (counter.h, hist.h: single writer, relaxed
 * stores); the control plane sums the workers' blocks into a private one when it exports.
 *
 * Rows. Every request is counted in exactly one row, the most precise one it reached:
 *   row 0                            not routed to a service (bad request, no service: 404)
 *   1 + s                            service s, no location matched
 *   1 + S + l                        location l (global index), no backend chosen (redirect,
 *                                    rate limited, no backend: 503, ...)
 *   1 + S + L + b                    backend b (global index over all locations)
 * where S, L, B are the numbers of services, locations and backends. A row holds counters
 * (struct sl_req_row, 272 bytes) and a latency histogram (hist.h, 8,512 bytes): a block is
 * (1 + S + L + B) * 8,784 bytes, e.g. 112 KiB for 2 services, 4 locations and 6 backends.
 */

#include <stdint.h>

#include "counter.h"
#include "hist.h"

/* Why a request failed. The names are the Prometheus `reason` label. */
#define SL_PROXY_ERRORS(X)                                                                         \
	X(BAD_REQUEST, "bad_request")		  /* 400: the request broke HTTP/1.1 rules */      \
	X(URI_TOO_LONG, "uri_too_long")		  /* 414 */                                        \
	X(HEADERS_TOO_LARGE, "headers_too_large") /* 431 */                                        \
	X(BODY_TOO_LARGE, "body_too_large")	  /* 413 */                                        \
	X(HEADER_TIMEOUT, "header_timeout")	  /* 408: the header section came too slowly */    \
	X(CLIENT_ABORT, "client_abort")		  /* the client left before the response ended */  \
	X(NO_ROUTE, "no_route")			  /* 404: no service or no location */             \
	X(CONNECT_FAILURE, "connect_failure")	  /* the backend refused or was unreachable */     \
	X(CONNECT_TIMEOUT, "connect_timeout")                                                      \
	X(BACKEND_RESET, "backend_reset")     /* reset or closed before the whole response */      \
	X(BACKEND_TIMEOUT, "backend_timeout") /* 504 */                                            \
	X(BAD_RESPONSE, "bad_response")	      /* 502: the response broke HTTP/1.1 rules */         \
	X(NO_BACKEND, "no_backend")	      /* 503: none healthy and under its limits */         \
	X(CIRCUIT_OPEN, "circuit_open")	      /* 503: the circuit breaker refused */               \
	X(RATE_LIMITED, "rate_limited")	      /* 429 */                                            \
	X(QUEUE_FULL, "queue_full")	      /* 503: the wait queue was full */                   \
	X(QUEUE_TIMEOUT, "queue_timeout")     /* 503: waited too long in the queue */              \
	X(NO_MEMORY, "no_memory")	      /* a per-worker pool was exhausted */

enum sl_proxy_error {
#define SL_PROXY_ERROR_ENUM(id, name) SL_PROXY_ERR_##id,
	SL_PROXY_ERRORS(SL_PROXY_ERROR_ENUM)
#undef SL_PROXY_ERROR_ENUM
	    SL_PROXY_ERR_MAX
};

/* Status classes; NONE is a request that got no status line (the client left first). */
enum sl_req_class {
	SL_REQ_CLASS_NONE = 0,
	SL_REQ_CLASS_1XX,
	SL_REQ_CLASS_2XX,
	SL_REQ_CLASS_3XX,
	SL_REQ_CLASS_4XX,
	SL_REQ_CLASS_5XX,
	SL_REQ_CLASS_MAX
};

/* Plain counters of a row besides requests and errors, and its gauges:
 * X(field, metric name after "sluice_", help). */
#define SL_REQ_COUNTERS(X)                                                                         \
	X(retries, "http_retries_total", "Requests sent again to another backend.")                \
	X(pool_reused, "backend_connection_reuses_total",                                          \
	  "Requests sent on a kept-alive backend connection from the pool.")                       \
	X(pool_opened, "backend_connections_opened_total", "Backend connections opened.")          \
	X(rate_limited, "http_rate_limited_total",                                                 \
	  "Requests refused with 429 by the per-client rate limit.")                               \
	X(queue_waits, "http_queue_waits_total",                                                   \
	  "Requests that waited in the admission queue (the concurrency limit was reached).")      \
	X(queue_rejected, "http_queue_rejected_total",                                             \
	  "Requests refused with 503 by the concurrency limit: queue full or wait timed out.")     \
	X(conns_refused, "http_connections_refused_total",                                         \
	  "Client connections reset at accept: over limits.max_connections_per_ip.")
#define SL_REQ_GAUGES(X)                                                                           \
	X(open_conns, "backend_open_connections", "Backend connections open.")                     \
	X(idle_conns, "backend_pool_idle_connections", "Idle backend connections in the pools.")   \
	X(queued, "http_queued_requests", "Requests waiting in the admission queue.")

/* Every field is a uint64_t, so a row merges as an array. Gauges wrap below 0 (counter.h). */
struct sl_req_row {
	uint64_t requests[SL_REQ_CLASS_MAX];
	uint64_t errors[SL_PROXY_ERR_MAX];
#define SL_REQ_FIELD(f, metric, help) uint64_t f;
	SL_REQ_COUNTERS(SL_REQ_FIELD)
	SL_REQ_GAUGES(SL_REQ_FIELD)
#undef SL_REQ_FIELD
};

struct sl_req_stats {
	unsigned int n_services, n_locations, n_backends, n_rows;
	struct sl_req_row *rows;
	struct sl_hist *hists; /* one per row */
};

/* Allocate a zeroed block (control plane, at snapshot build). NULL when out of memory. */
struct sl_req_stats *sl_req_stats_create(unsigned int n_services, unsigned int n_locations,
					 unsigned int n_backends);
void sl_req_stats_free(struct sl_req_stats *st);
/* Zero every counter (a private merge target between uses). */
void sl_req_stats_reset(struct sl_req_stats *st);
/* dst += src (relaxed loads of src). -EINVAL when their sizes differ. */
int sl_req_stats_add(struct sl_req_stats *dst, const struct sl_req_stats *src);
/* dst = sum of src[0..n-1]. */
int sl_req_stats_merge(struct sl_req_stats *dst, const struct sl_req_stats *const *src,
		       unsigned int n);

const char *sl_proxy_error_name(enum sl_proxy_error e);
const char *sl_req_class_name(enum sl_req_class c); /* "1xx" .. "5xx", "none" */

/* Row indices. */
static inline unsigned int
sl_req_row_unrouted(const struct sl_req_stats *st)
{
	(void)st;
	return 0;
}

static inline unsigned int
sl_req_row_service(const struct sl_req_stats *st, unsigned int service)
{
	return 1 + service;
}

static inline unsigned int
sl_req_row_location(const struct sl_req_stats *st, unsigned int location)
{
	return 1 + st->n_services + location;
}

static inline unsigned int
sl_req_row_backend(const struct sl_req_stats *st, unsigned int backend)
{
	return 1 + st->n_services + st->n_locations + backend;
}

static inline enum sl_req_class
sl_req_class_of(unsigned int status)
{
	unsigned int c = status / 100;

	return c >= 1 && c <= 5 ? (enum sl_req_class)c : SL_REQ_CLASS_NONE;
}

/* Worker side, hot path: a finished request with its status (0: none sent) and duration. */
static inline void
sl_req_done(struct sl_req_stats *st, unsigned int row, unsigned int status, uint64_t ns)
{
	sl_counter_inc(&st->rows[row].requests[sl_req_class_of(status)]);
	sl_hist_record(&st->hists[row], ns);
}

static inline void
sl_req_error(struct sl_req_stats *st, unsigned int row, enum sl_proxy_error e)
{
	sl_counter_inc(&st->rows[row].errors[e]);
}

/* e.g. sl_req_inc(st, row, retries), sl_req_dec(st, row, idle_conns). */
#define sl_req_inc(st, row, field) sl_counter_inc(&(st)->rows[(row)].field)
#define sl_req_dec(st, row, field) sl_counter_sub(&(st)->rows[(row)].field, 1)

/* True when a row has counted anything (exporters skip idle rows that are not backends). */
int sl_req_row_used(const struct sl_req_stats *st, unsigned int row);

#endif
