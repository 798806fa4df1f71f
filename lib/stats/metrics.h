/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_METRICS_H
#define SL_STATS_METRICS_H

/*
 * Every metric family sluice exports, written with the Prometheus writer (prom.h). The
 * control plane sums the workers' blocks and calls each function once per scrape; each
 * function begins its families, so calling one twice is -EEXIST. Names, types, units and
 * labels are defined here and nowhere else; lib/stats/README.md lists them.
 *
 * Counter families that come from X-macro tables (TCP counters, drop reasons, request
 * errors, the row counters and gauges of req_stats.h) follow those tables: a field added there
 * is exported with no change here.
 */

#include <stdbool.h>
#include <stdint.h>

#include "net_stats.h"
#include "prom.h"
#include "req_stats.h"
#include "tcp_stats.h"

/* Names of the keys of a struct sl_req_stats, from the snapshot the block was sized for. */
struct sl_metrics_names {
	const char *const *services;	      /* [n_services] */
	const char *const *locations;	      /* [n_locations] path prefixes */
	const unsigned int *location_service; /* [n_locations] service of each location */
	const char *const *backends;	      /* [n_backends] as in the config (URL) */
	const unsigned int *backend_location; /* [n_backends] location of each backend */
};

/*
 * Request families from a merged block, labels {service, location, backend} (empty values
 * for the parts a request did not reach, see req_stats.h):
 *   sluice_http_requests_total{...,code="1xx".."5xx"|"none"}
 *   sluice_http_request_errors_total{...,reason}
 *   the counters and gauges of SL_REQ_COUNTERS / SL_REQ_GAUGES
 *   sluice_http_request_duration_seconds (histogram, buckets le[0..n_le-1] seconds)
 * Backend rows are always written (zeros included, so rate() works from the first scrape);
 * the other rows once they have counted something.
 */
int sl_metrics_requests(struct sl_prom *p, const struct sl_req_stats *sum,
			const struct sl_metrics_names *names, const double *le, unsigned int n_le);

enum sl_metrics_circuit {
	SL_METRICS_CIRCUIT_CLOSED,
	SL_METRICS_CIRCUIT_HALF_OPEN,
	SL_METRICS_CIRCUIT_OPEN,
	SL_METRICS_CIRCUIT_MAX
};

/* Health check results, in lib/resilience enum sl_probe_result order. */
#define SL_METRICS_CHECK_RESULTS 6

/* What the control plane knows of each backend (health, balancer, breaker). */
struct sl_metrics_backend {
	int up;		    /* 1 healthy, 0 down */
	int draining;	    /* 1 while draining */
	int disabled;	    /* 1 while disabled by the operator */
	uint32_t weight;    /* effective weight */
	uint64_t in_flight; /* requests in flight, summed over workers */
	enum sl_metrics_circuit circuit;
	int ejected; /* 1 while outlier detection holds it out */
	/* From the control plane's health table (when health_known): */
	bool health_known;
	uint64_t checks[SL_METRICS_CHECK_RESULTS]; /* by result, sl_metrics_check_names order */
	uint64_t state_changes, circuit_opens, ejections;
	const char *reason; /* of the last health transition (API only) */
};

const char *sl_metrics_circuit_name(enum sl_metrics_circuit c);

/*
 * sluice_backend_up, sluice_backend_draining, sluice_backend_disabled, sluice_backend_weight,
 * sluice_backend_in_flight_requests (gauges) and sluice_backend_circuit_state{state} (1 for
 * the backend's state, 0 for the others), labels {service, location, backend}; b[n_backends].
 * With health_known also sluice_backend_health_checks_total{result}, sluice_backend_state_
 * changes_total, sluice_backend_circuit_opens_total, sluice_backend_ejections_total, and
 * always sluice_backend_ejected.
 */
int sl_metrics_backends(struct sl_prom *p, const struct sl_metrics_names *names,
			const struct sl_metrics_backend *b, unsigned int n_backends);

/*
 * TCP families from a sum over workers: sluice_tcp_<counter>_total for every counter of
 * SL_TCP_COUNTERS, sluice_tcp_connections, sluice_tcp_connections_established and
 * sluice_tcp_time_wait_records (gauges), sluice_tcp_drops_total{reason}. A gauge added to
 * struct sl_tcp_stats stops the build until it is written here.
 */
int sl_metrics_tcp(struct sl_prom *p, const struct sl_tcp_stats *sum);

/*
 * TLS families summed over the workers' blocks (NULL entries skipped): sluice_tls_handshakes_total,
 * sluice_tls_resumed_total, sluice_tls_handshake_failures_total{reason} (every reason of
 * SL_TLS_FAILS, zeros included), sluice_tls_bad_records_total and the histogram
 * sluice_tls_handshake_duration_seconds.
 */
struct sl_tls_stats;
int sl_metrics_tls(struct sl_prom *p, const struct sl_tls_stats *const *w, unsigned int n);
/* The same of connections to https backends: sluice_backend_tls_* (reason verify included). */
int sl_metrics_backend_tls(struct sl_prom *p, const struct sl_tls_stats *const *w,
			   unsigned int n);

/* Counters the NIC keeps itself (rte_eth_stats), per port. */
struct sl_metrics_port_hw {
	uint64_t rx_missed; /* imissed: the RX queue was full */
	uint64_t rx_errors; /* ierrors */
	uint64_t tx_errors; /* oerrors */
	uint64_t rx_nombuf; /* no mbuf to receive into */
};

/*
 * Port families, label {port}: sluice_port_<field>_total for every field of
 * sl_net_stats_fields (rx_packets, rx_bytes, ...), sluice_port_drops_total{port,reason},
 * and, when hw is not NULL, sluice_port_rx_missed_total, _rx_errors_total, _tx_errors_total,
 * _rx_nombuf_total. sums[i] is port i summed over workers, hw[i] its NIC counters.
 */
int sl_metrics_ports(struct sl_prom *p, const char *const *port_names,
		     const struct sl_net_stats *sums, const struct sl_metrics_port_hw *hw,
		     unsigned int n_ports);

/* sluice_worker_busy_seconds_total{worker}: time in poll iterations that did work. */
int sl_metrics_workers(struct sl_prom *p, const double *busy_seconds, unsigned int n_workers);

/* sluice_worker_up{worker}: 1 while the worker answers the control plane's pings (the
 * liveness GET /health reports), 0 once it has gone silent. up[w] is 0 or 1. */
int sl_metrics_workers_up(struct sl_prom *p, const uint64_t *up, unsigned int n_workers);

/*
 * The per-client rate-limit table: its occupancy (a scan) and its churn (the workers'
 * counters of lib/resilience's struct sl_rl_stats, summed).
 */
struct sl_metrics_rl_table {
	uint64_t capacity;     /* entries: limits.rate_limit_table_size rounded up */
	uint64_t entries;      /* client buckets held now, one per (client address, scope) */
	uint64_t inserted;     /* new keys tracked */
	uint64_t evicted_full; /* a full bucket replaced: nothing lost */
	uint64_t evicted_debt; /* a bucket with tokens missing replaced: its client starts afresh */
	uint64_t untracked;    /* requests allowed without a bucket (an insert lost a race) */
};

/*
 * sluice_rate_limit_table_capacity and sluice_rate_limit_table_entries (gauges),
 * sluice_rate_limit_table_inserted_total, sluice_rate_limit_table_evicted_total{reason="full" |
 * "debt"} and sluice_rate_limit_table_untracked_total.
 */
int sl_metrics_rate_limit(struct sl_prom *p, const struct sl_metrics_rl_table *t);

/*
 * sluice_access_log_records_total{worker} (lines written), sluice_access_log_dropped_total
 * {worker} (requests not logged: the worker's records were all in use) and
 * sluice_access_log_lost_total{worker} (lines a failed write took), for each of n_workers.
 */
int sl_metrics_access_log(struct sl_prom *p, const uint64_t *written, const uint64_t *dropped,
			  const uint64_t *lost, unsigned int n_workers);

/* sluice_mbuf_pool_size and sluice_mbuf_pool_in_use (gauges, mbufs), label {pool}. */
int sl_metrics_mbuf_pools(struct sl_prom *p, const char *const *pool_names, const uint64_t *size,
			  const uint64_t *in_use, unsigned int n_pools);

/* One object pool of the data plane (a DPDK mempool other than the mbuf pool). */
struct sl_metrics_mempool {
	const char *name; /* its kind: "tcpc" (TCP connections), "px_sess" (proxy sessions) ... */
	int worker;	  /* the worker that owns it, -1: shared */
	uint64_t size;	  /* objects */
	uint64_t in_use;  /* objects taken */
};

/*
 * sluice_mempool_objects and sluice_mempool_objects_in_use (gauges, objects), labels
 * {pool, worker} (worker "" for a shared pool): how full each per-worker pool is (TCP
 * connections, TIME-WAIT records, proxy sessions, backend connections, head buffers).
 */
int sl_metrics_mempools(struct sl_prom *p, const struct sl_metrics_mempool *pools,
			unsigned int n_pools);

#endif
