/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "counter.h"
#include "tls_stats.h"

#define NAME_MAX_LEN 128
#define ONE(...) +1
/* The gauges of struct sl_tcp_stats are not in a table: a new one must be written below. */
_Static_assert(offsetof(struct sl_tcp_stats, drops) ==
		   (0 SL_TCP_COUNTERS(ONE) + 4) * sizeof(uint64_t),
	       "a field was added to struct sl_tcp_stats: export it in sl_metrics_tcp()");
#undef ONE
#define HELP_MAX_LEN 256

/* The {service, location, backend} labels of a row of a req_stats block. */
static void
row_labels(const struct sl_req_stats *st, const struct sl_metrics_names *n, unsigned int row,
	   struct sl_prom_label l[3])
{
	unsigned int s = 0, loc = 0, b = 0;
	int has_s = 0, has_l = 0, has_b = 0;

	if (row >= sl_req_row_backend(st, 0)) {
		b = row - sl_req_row_backend(st, 0);
		loc = n->backend_location[b];
		s = n->location_service[loc];
		has_b = has_l = has_s = 1;
	} else if (row >= sl_req_row_location(st, 0)) {
		loc = row - sl_req_row_location(st, 0);
		s = n->location_service[loc];
		has_l = has_s = 1;
	} else if (row >= sl_req_row_service(st, 0)) {
		s = row - sl_req_row_service(st, 0);
		has_s = 1;
	}
	l[0] = (struct sl_prom_label){"service", has_s ? n->services[s] : ""};
	l[1] = (struct sl_prom_label){"location", has_l ? n->locations[loc] : ""};
	l[2] = (struct sl_prom_label){"backend", has_b ? n->backends[b] : ""};
}

static int
row_shown(const struct sl_req_stats *st, unsigned int row)
{
	return row >= sl_req_row_backend(st, 0) || sl_req_row_used(st, row);
}

static int
begin(struct sl_prom *p, const char *suffix, enum sl_prom_type type, const char *help)
{
	char name[NAME_MAX_LEN];

	if (snprintf(name, sizeof(name), "sluice_%s", suffix) >= (int)sizeof(name)) {
		p->err = p->err ? p->err : -EINVAL;
		return p->err;
	}
	return sl_prom_begin(p, name, type, help);
}

int
sl_metrics_requests(struct sl_prom *p, const struct sl_req_stats *st,
		    const struct sl_metrics_names *names, const double *le, unsigned int n_le)
{
	struct sl_prom_label l[4];

	begin(p, "http_requests_total", SL_PROM_COUNTER,
	      "HTTP requests answered, by status class (none: the client left before a status).");
	for (unsigned int r = 0; r < st->n_rows; r++) {
		if (!row_shown(st, r))
			continue;
		row_labels(st, names, r, l);
		for (unsigned int c = SL_REQ_CLASS_1XX; c < SL_REQ_CLASS_MAX + 1; c++) {
			unsigned int cls = c % SL_REQ_CLASS_MAX; /* 1xx..5xx, then none */

			l[3] = (struct sl_prom_label){"code", sl_req_class_name(cls)};
			sl_prom_u64(p, l, 4, sl_counter_read(&st->rows[r].requests[cls]));
		}
	}

	begin(p, "http_request_errors_total", SL_PROM_COUNTER,
	      "HTTP requests that failed, by reason.");
	for (unsigned int r = 0; r < st->n_rows; r++) {
		if (!row_shown(st, r))
			continue;
		row_labels(st, names, r, l);
		for (unsigned int e = 0; e < SL_PROXY_ERR_MAX; e++) {
			l[3] = (struct sl_prom_label){"reason", sl_proxy_error_name(e)};
			sl_prom_u64(p, l, 4, sl_counter_read(&st->rows[r].errors[e]));
		}
	}

#define ROW_FAMILY(field, metric, help, type, value)                                               \
	begin(p, metric, type, help);                                                              \
	for (unsigned int r = 0; r < st->n_rows; r++) {                                            \
		if (!row_shown(st, r))                                                             \
			continue;                                                                  \
		row_labels(st, names, r, l);                                                       \
		value;                                                                             \
	}
#define ROW_COUNTER(field, metric, help)                                                           \
	ROW_FAMILY(field, metric, help, SL_PROM_COUNTER,                                           \
		   sl_prom_u64(p, l, 3, sl_counter_read(&st->rows[r].field)))
#define ROW_GAUGE(field, metric, help)                                                             \
	ROW_FAMILY(field, metric, help, SL_PROM_GAUGE,                                             \
		   sl_prom_double(p, l, 3, (double)(int64_t)sl_counter_read(&st->rows[r].field)))
	SL_REQ_COUNTERS(ROW_COUNTER)
	SL_REQ_GAUGES(ROW_GAUGE)
#undef ROW_GAUGE
#undef ROW_COUNTER
#undef ROW_FAMILY

	begin(p, "http_request_duration_seconds", SL_PROM_HISTOGRAM,
	      "Time from the first byte of a request to the last byte of its response.");
	for (unsigned int r = 0; r < st->n_rows; r++) {
		if (!row_shown(st, r))
			continue;
		row_labels(st, names, r, l);
		sl_prom_hist(p, l, 3, &st->hists[r], le, n_le);
	}
	return sl_prom_finish(p);
}

static const char *const circuit_names[SL_METRICS_CIRCUIT_MAX] = {
    [SL_METRICS_CIRCUIT_CLOSED] = "closed",
    [SL_METRICS_CIRCUIT_HALF_OPEN] = "half_open",
    [SL_METRICS_CIRCUIT_OPEN] = "open",
};

const char *
sl_metrics_circuit_name(enum sl_metrics_circuit c)
{
	return (unsigned int)c < SL_METRICS_CIRCUIT_MAX ? circuit_names[c] : "?";
}

/* lib/resilience enum sl_probe_result order (the control plane asserts the count). */
static const char *const check_names[SL_METRICS_CHECK_RESULTS] = {
    "pass", "timeout", "connect_failed", "bad_status", "bad_response", "tls_failed",
};

int
sl_metrics_backends(struct sl_prom *p, const struct sl_metrics_names *names,
		    const struct sl_metrics_backend *b, unsigned int n_backends)
{
	struct sl_prom_label l[4];

#define BACKEND_GAUGE(metric, help, ...)                                                           \
	begin(p, metric, SL_PROM_GAUGE, help);                                                     \
	for (unsigned int i = 0; i < n_backends; i++) {                                            \
		unsigned int loc = names->backend_location[i];                                     \
                                                                                                   \
		l[0] = (struct sl_prom_label){"service",                                           \
					      names->services[names->location_service[loc]]};      \
		l[1] = (struct sl_prom_label){"location", names->locations[loc]};                  \
		l[2] = (struct sl_prom_label){"backend", names->backends[i]};                      \
		__VA_ARGS__;                                                                       \
	}
	BACKEND_GAUGE("backend_up", "1 when the backend passes its health checks, else 0.",
		      sl_prom_u64(p, l, 3, b[i].up ? 1 : 0))
	BACKEND_GAUGE("backend_draining", "1 while the backend is draining, else 0.",
		      sl_prom_u64(p, l, 3, b[i].draining ? 1 : 0))
	BACKEND_GAUGE("backend_disabled",
		      "1 while the operator has disabled the backend (admin API), else 0.",
		      sl_prom_u64(p, l, 3, b[i].disabled ? 1 : 0))
	BACKEND_GAUGE("backend_weight", "Effective balancing weight of the backend.",
		      sl_prom_u64(p, l, 3, b[i].weight))
	BACKEND_GAUGE("backend_in_flight_requests", "Requests in flight to the backend.",
		      sl_prom_u64(p, l, 3, b[i].in_flight))
	BACKEND_GAUGE(
	    "backend_circuit_state",
	    "Circuit breaker state of the backend: 1 for the current state, 0 otherwise.",
	    for (unsigned int s = 0; s < SL_METRICS_CIRCUIT_MAX; s++) {
		    l[3] = (struct sl_prom_label){"state", circuit_names[s]};
		    sl_prom_u64(p, l, 4, b[i].circuit == s ? 1 : 0);
	    })
	BACKEND_GAUGE("backend_ejected", "1 while outlier detection holds the backend out, else 0.",
		      sl_prom_u64(p, l, 3, b[i].ejected ? 1 : 0))
#undef BACKEND_GAUGE
#define BACKEND_COUNTER(metric, help, ...)                                                         \
	begin(p, metric, SL_PROM_COUNTER, help);                                                   \
	for (unsigned int i = 0; i < n_backends; i++) {                                            \
		unsigned int loc = names->backend_location[i];                                     \
                                                                                                   \
		if (!b[i].health_known)                                                            \
			continue;                                                                  \
		l[0] = (struct sl_prom_label){"service",                                           \
					      names->services[names->location_service[loc]]};      \
		l[1] = (struct sl_prom_label){"location", names->locations[loc]};                  \
		l[2] = (struct sl_prom_label){"backend", names->backends[i]};                      \
		__VA_ARGS__;                                                                       \
	}
	BACKEND_COUNTER(
	    "backend_health_checks_total", "Active health checks of the backend, by result.",
	    for (unsigned int r = 0; r < SL_METRICS_CHECK_RESULTS; r++) {
		    l[3] = (struct sl_prom_label){"result", check_names[r]};
		    sl_prom_u64(p, l, 4, b[i].checks[r]);
	    })
	BACKEND_COUNTER("backend_state_changes_total",
			"Health transitions of the backend (up to down and back).",
			sl_prom_u64(p, l, 3, b[i].state_changes))
	BACKEND_COUNTER("backend_circuit_opens_total", "Times the backend's circuit opened.",
			sl_prom_u64(p, l, 3, b[i].circuit_opens))
	BACKEND_COUNTER("backend_ejections_total", "Outlier ejections of the backend.",
			sl_prom_u64(p, l, 3, b[i].ejections))
#undef BACKEND_COUNTER
	return sl_prom_finish(p);
}

/* "bytes_in" -> "TCP bytes in, summed over workers." */
static void
field_help(char *out, size_t cap, const char *what, const char *field, const char *tail)
{
	size_t n = (size_t)snprintf(out, cap, "%s ", what);

	for (const char *f = field; *f && n + 1 < cap; f++)
		out[n++] = *f == '_' ? ' ' : *f;
	snprintf(out + n, cap > n ? cap - n : 0, "%s", tail);
}

int
sl_metrics_tcp(struct sl_prom *p, const struct sl_tcp_stats *sum)
{
	char name[NAME_MAX_LEN], help[HELP_MAX_LEN];
	struct sl_prom_label l;

#define TCP_COUNTER(field)                                                                         \
	snprintf(name, sizeof(name), "tcp_%s_total", #field);                                      \
	field_help(help, sizeof(help), "TCP", #field, ", summed over workers.");                   \
	begin(p, name, SL_PROM_COUNTER, help);                                                     \
	sl_prom_u64(p, NULL, 0, sl_counter_read(&sum->field));
	SL_TCP_COUNTERS(TCP_COUNTER)
#undef TCP_COUNTER
	begin(p, "tcp_connections", SL_PROM_GAUGE, "TCP connections (TCBs) in the tables.");
	sl_prom_u64(p, NULL, 0, sl_counter_read(&sum->conns));
	begin(p, "tcp_connections_established", SL_PROM_GAUGE,
	      "TCP connections in the ESTABLISHED state.");
	sl_prom_u64(p, NULL, 0, sl_counter_read(&sum->conns_established));
	begin(p, "tcp_time_wait_records", SL_PROM_GAUGE,
	      "TCP TIME-WAIT records (not counted in sluice_tcp_connections).");
	sl_prom_u64(p, NULL, 0, sl_counter_read(&sum->conns_time_wait));
	begin(p, "tcp_receive_memory_bytes", SL_PROM_GAUGE,
	      "Bytes of mbufs (truesize) held by TCP receive buffers, summed over workers.");
	sl_prom_u64(p, NULL, 0, sl_counter_read(&sum->rcv_mem));
	begin(p, "tcp_drops_total", SL_PROM_COUNTER, "TCP segments dropped, by reason.");
	for (unsigned int r = 0; r < SL_TCP_DROP_MAX; r++) {
		l = (struct sl_prom_label){"reason", sl_tcp_drop_name(r)};
		sl_prom_u64(p, &l, 1, sl_counter_read(&sum->drops[r]));
	}
	return sl_prom_finish(p);
}

int
sl_metrics_ports(struct sl_prom *p, const char *const *port_names, const struct sl_net_stats *sums,
		 const struct sl_metrics_port_hw *hw, unsigned int n_ports)
{
	char name[NAME_MAX_LEN], help[HELP_MAX_LEN];
	struct sl_prom_label l[2];

	for (unsigned int f = 0; f < sl_net_stats_n_fields; f++) {
		snprintf(name, sizeof(name), "port_%s_total", sl_net_stats_fields[f].name);
		field_help(help, sizeof(help), "Port", sl_net_stats_fields[f].name,
			   ", counted by the workers.");
		begin(p, name, SL_PROM_COUNTER, help);
		for (unsigned int i = 0; i < n_ports; i++) {
			const uint64_t *v = (const uint64_t *)((const char *)&sums[i] +
							       sl_net_stats_fields[f].offset);

			l[0] = (struct sl_prom_label){"port", port_names[i]};
			sl_prom_u64(p, l, 1, sl_counter_read(v));
		}
	}
	begin(p, "port_drops_total", SL_PROM_COUNTER, "Frames dropped by the workers, by reason.");
	for (unsigned int i = 0; i < n_ports; i++)
		for (unsigned int r = 0; r < SL_NET_DROP_MAX; r++) {
			l[0] = (struct sl_prom_label){"port", port_names[i]};
			l[1] = (struct sl_prom_label){"reason", sl_net_drop_name(r)};
			sl_prom_u64(p, l, 2, sl_counter_read(&sums[i].drops[r]));
		}
	if (hw != NULL) {
#define HW_COUNTER(field, help)                                                                    \
	begin(p, "port_" #field "_total", SL_PROM_COUNTER, help);                                  \
	for (unsigned int i = 0; i < n_ports; i++) {                                               \
		l[0] = (struct sl_prom_label){"port", port_names[i]};                              \
		sl_prom_u64(p, l, 1, hw[i].field);                                                 \
	}
		HW_COUNTER(rx_missed, "Frames the NIC dropped because the RX queue was full.")
		HW_COUNTER(rx_errors, "Erroneous frames received, counted by the NIC.")
		HW_COUNTER(tx_errors, "Frames the NIC failed to send.")
		HW_COUNTER(rx_nombuf, "Frames the NIC could not receive for want of an mbuf.")
#undef HW_COUNTER
	}
	return sl_prom_finish(p);
}

int
sl_metrics_workers(struct sl_prom *p, const double *busy_seconds, unsigned int n_workers)
{
	struct sl_prom_label l;
	char id[16];

	begin(p, "worker_busy_seconds_total", SL_PROM_COUNTER,
	      "Time the worker spent in poll-loop iterations that did work.");
	for (unsigned int w = 0; w < n_workers; w++) {
		snprintf(id, sizeof(id), "%u", w);
		l = (struct sl_prom_label){"worker", id};
		sl_prom_double(p, &l, 1, busy_seconds[w]);
	}
	return sl_prom_finish(p);
}

/* One sample per worker, label {worker}, of the family just begun. */
static void
per_worker_u64(struct sl_prom *p, const uint64_t *v, unsigned int n_workers)
{
	struct sl_prom_label l;
	char id[16];

	for (unsigned int w = 0; w < n_workers; w++) {
		snprintf(id, sizeof(id), "%u", w);
		l = (struct sl_prom_label){"worker", id};
		sl_prom_u64(p, &l, 1, v[w]);
	}
}

int
sl_metrics_workers_up(struct sl_prom *p, const uint64_t *up, unsigned int n_workers)
{
	begin(p, "worker_up", SL_PROM_GAUGE,
	      "1 while the worker answers the control plane's pings (GET /health), 0 when not.");
	per_worker_u64(p, up, n_workers);
	return sl_prom_finish(p);
}

/* The TLS families of one side: prefix "tls" (clients) or "backend_tls" (https backends). */
static int
metrics_tls(struct sl_prom *p, const struct sl_tls_stats *const *w, unsigned int n, bool be)
{
	static const char *const reasons[] = {
#define SL_TLS_FAIL_NAME(e, name) name,
	    SL_TLS_FAILS(SL_TLS_FAIL_NAME)
#undef SL_TLS_FAIL_NAME
	};
	/* A handshake costs from ~50 us (a TLS 1.2 resumption) to a few ms (RSA, a slow client). */
	static const double le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
				    0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
	const char *pre = be ? "backend_tls" : "tls";
	uint64_t hs = 0, resumed = 0, bad = 0, failed[SL_TLS_FAIL_N] = {0};
	struct sl_hist *h = aligned_alloc(_Alignof(struct sl_hist), sizeof(*h));
	struct sl_prom_label l;
	char name[64];

	if (h == NULL)
		return -ENOMEM;
	memset(h, 0, sizeof(*h));
	for (unsigned int i = 0; i < n; i++) {
		if (w[i] == NULL)
			continue;
		hs += sl_counter_read(&w[i]->handshakes);
		resumed += sl_counter_read(&w[i]->resumed);
		bad += sl_counter_read(&w[i]->bad_records);
		for (unsigned int r = 0; r < SL_TLS_FAIL_N; r++)
			failed[r] += sl_counter_read(&w[i]->failed[r]);
		sl_hist_add(h, &w[i]->hs_time);
	}
	snprintf(name, sizeof(name), "%s_handshakes_total", pre);
	begin(p, name, SL_PROM_COUNTER,
	      be ? "TLS handshakes completed with https backends." : "TLS handshakes completed.");
	sl_prom_u64(p, NULL, 0, hs);
	snprintf(name, sizeof(name), "%s_resumed_total", pre);
	begin(p, name, SL_PROM_COUNTER,
	      be ? "TLS handshakes with https backends that resumed a session (a ticket)."
		 : "TLS handshakes completed by resuming a session (a ticket).");
	sl_prom_u64(p, NULL, 0, resumed);
	snprintf(name, sizeof(name), "%s_handshake_failures_total", pre);
	begin(p, name, SL_PROM_COUNTER,
	      be ? "TLS handshakes with https backends that failed, by reason (verify: the "
		   "certificate did not verify)."
		 : "TLS handshakes that failed, by reason.");
	for (unsigned int r = 0; r < SL_TLS_FAIL_N; r++) {
		if (!be && r == SL_TLS_FAIL_VERIFY) /* sluice verifies no client certificate */
			continue;
		l = (struct sl_prom_label){"reason", reasons[r]};
		sl_prom_u64(p, &l, 1, failed[r]);
	}
	snprintf(name, sizeof(name), "%s_bad_records_total", pre);
	begin(p, name, SL_PROM_COUNTER,
	      "TLS connections closed after the handshake on a record that did not decrypt.");
	sl_prom_u64(p, NULL, 0, bad);
	snprintf(name, sizeof(name), "%s_handshake_duration_seconds", pre);
	begin(p, name, SL_PROM_HISTOGRAM,
	      be ? "TLS handshake time with https backends, from our ClientHello to the "
		   "handshake's end (the backend's round trips included)."
		 : "TLS handshake time on the worker, from the first byte of the ClientHello to the "
		   "handshake's end (client round trips included).");
	sl_prom_hist(p, NULL, 0, h, le, sizeof(le) / sizeof(le[0]));
	free(h);
	return sl_prom_finish(p);
}

int
sl_metrics_tls(struct sl_prom *p, const struct sl_tls_stats *const *w, unsigned int n)
{
	return metrics_tls(p, w, n, false);
}

int
sl_metrics_backend_tls(struct sl_prom *p, const struct sl_tls_stats *const *w, unsigned int n)
{
	return metrics_tls(p, w, n, true);
}

int
sl_metrics_access_log(struct sl_prom *p, const uint64_t *written, const uint64_t *dropped,
		      const uint64_t *lost, unsigned int n_workers)
{
	begin(p, "access_log_records_total", SL_PROM_COUNTER,
	      "Access-log lines written, by the worker that served the request.");
	per_worker_u64(p, written, n_workers);
	begin(p, "access_log_dropped_total", SL_PROM_COUNTER,
	      "Requests not logged because the worker's access-log records were all in use.");
	per_worker_u64(p, dropped, n_workers);
	begin(p, "access_log_lost_total", SL_PROM_COUNTER,
	      "Access-log lines lost because writing them to the file failed.");
	per_worker_u64(p, lost, n_workers);
	return sl_prom_finish(p);
}

int
sl_metrics_rate_limit(struct sl_prom *p, const struct sl_metrics_rl_table *t)
{
	struct sl_prom_label l;

	begin(p, "rate_limit_table_capacity", SL_PROM_GAUGE,
	      "Entries of the per-client rate-limit table.");
	sl_prom_u64(p, NULL, 0, t->capacity);
	begin(p, "rate_limit_table_entries", SL_PROM_GAUGE,
	      "Client buckets held in the per-client rate-limit table.");
	sl_prom_u64(p, NULL, 0, t->entries);
	begin(p, "rate_limit_table_inserted_total", SL_PROM_COUNTER,
	      "Client buckets inserted in the per-client rate-limit table (new keys tracked).");
	sl_prom_u64(p, NULL, 0, t->inserted);
	begin(p, "rate_limit_table_evicted_total", SL_PROM_COUNTER,
	      "Client buckets the rate-limit table replaced to insert another: full (nothing "
	      "lost) or with debt (tokens missing: that client would start with a fresh burst).");
	l = (struct sl_prom_label){"reason", "full"};
	sl_prom_u64(p, &l, 1, t->evicted_full);
	l = (struct sl_prom_label){"reason", "debt"};
	sl_prom_u64(p, &l, 1, t->evicted_debt);
	begin(p, "rate_limit_table_untracked_total", SL_PROM_COUNTER,
	      "Requests allowed without a bucket: their insert in the rate-limit table lost a "
	      "race with another worker twice.");
	sl_prom_u64(p, NULL, 0, t->untracked);
	return sl_prom_finish(p);
}

int
sl_metrics_mbuf_pools(struct sl_prom *p, const char *const *pool_names, const uint64_t *size,
		      const uint64_t *in_use, unsigned int n_pools)
{
	struct sl_prom_label l;

	begin(p, "mbuf_pool_size", SL_PROM_GAUGE, "Mbufs in the pool.");
	for (unsigned int i = 0; i < n_pools; i++) {
		l = (struct sl_prom_label){"pool", pool_names[i]};
		sl_prom_u64(p, &l, 1, size[i]);
	}
	begin(p, "mbuf_pool_in_use", SL_PROM_GAUGE, "Mbufs of the pool in use.");
	for (unsigned int i = 0; i < n_pools; i++) {
		l = (struct sl_prom_label){"pool", pool_names[i]};
		sl_prom_u64(p, &l, 1, in_use[i]);
	}
	return sl_prom_finish(p);
}

int
sl_metrics_mempools(struct sl_prom *p, const struct sl_metrics_mempool *pools,
		    unsigned int n_pools)
{
	struct sl_prom_label l[2];
	char w[16];

	begin(p, "mempool_objects", SL_PROM_GAUGE, "Objects in a data-plane object pool.");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			begin(p, "mempool_objects_in_use", SL_PROM_GAUGE,
			      "Objects of a data-plane object pool in use.");
		for (unsigned int i = 0; i < n_pools; i++) {
			if (pools[i].worker >= 0)
				snprintf(w, sizeof(w), "%d", pools[i].worker);
			else
				w[0] = '\0';
			l[0] = (struct sl_prom_label){"pool", pools[i].name};
			l[1] = (struct sl_prom_label){"worker", w};
			sl_prom_u64(p, l, 2, pass == 0 ? pools[i].size : pools[i].in_use);
		}
	}
	return sl_prom_finish(p);
}
