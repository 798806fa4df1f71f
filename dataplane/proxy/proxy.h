/* SPDX-License-Identifier: MIT */
#ifndef SL_PROXY_H
#define SL_PROXY_H

/*
 * The HTTP/1.1 reverse proxy on the workers (DESIGN.md, "One request, end to end").
 *
 * Two levels, built at start on the control thread:
 *   struct sl_proxy         the snapshot shared by every worker: the configuration, the route
 *                           table (lib/route), one sl_bal_live per location (in-flight counters
 *                           of every worker), backend addresses resolved. Read-only once built.
 *   struct sl_proxy_worker  one per worker: a balancer per location (cloned from worker 0's),
 *                           backend pools, session / backend-connection / head-buffer mempools,
 *                           request counters (lib/stats req_stats), scratch space for heads.
 * Nothing here allocates on a worker; the worker owns its part alone.
 *
 * Live reconfiguration (RCU). A snapshot is immutable once published. A reload builds a new
 * one (sl_proxy_create from the new tree, sl_proxy_carry_flags from the running one,
 * sl_proxy_gens_create for every worker) and publishes it (sl_proxy_publish): each worker
 * picks it up at the top of its next poll-loop iteration (sl_proxy_worker_poll) and reports
 * a quiescent state to the DPDK QSBR variable right after (dataplane/worker.c). A worker's
 * part of a snapshot (a generation: balancers, backend pools, counters) is referenced by
 * every session whose request started on it and by every backend connection of its pools;
 * the worker closes the old generation's idle pooled connections when it moves on, so the
 * old snapshot is unused (sl_proxy_unused) once its last in-flight request and its last
 * keep-alive client (which takes the new snapshot at its next request) are done. The
 * control plane frees it after that and after a QSBR grace period (dataplane.c,
 * sl_dataplane_reap).
 *
 * Hook for the health checker (and anything else keyed by backend): after every publish the
 * data plane calls the hook set with sl_dataplane_set_publish_hook (dataplane.h) on the
 * control thread with the old and the new snapshot, before the old one can be freed. A
 * backend is identified across snapshots by (service name, location path, host:port):
 * sl_proxy_find_backend(new, service, location, ip, port, &live, &i) gives the new
 * snapshot's live state and index, where health DOWN / circuit bits are set with
 * sl_bal_live_set_flags. Flags of backends whose (service, location, url) did not change
 * are already copied by the reload (a reload does not resurrect a DOWN backend). The hook
 * runs with the data plane's reload lock held: it must not call sl_dataplane_apply.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config/config.h"

struct sl_worker;
struct sl_proxy;
struct sl_proxy_worker;
struct sl_req_stats;
struct sl_bal_live;
struct sl_rl_table;
struct sl_tls_tickets;
struct sl_tls_stats;

/*
 * Build the shared snapshot for n_workers, on the control thread: backend host names are
 * resolved here (getaddrinfo, IPv4, the first address of a name). Refuses (-EINVAL /
 * -ENOTSUP / -ELOOP / -EHOSTUNREACH, one sentence in err naming file:line:col) what the proxy
 * cannot serve: a backend name that does not resolve,
 * http_redirect (sl_route_check), more service ports than the stack can listen on.
 * A configuration without services gives a proxy that listens nowhere.
 */
int sl_proxy_create(const struct sl_config *cfg, unsigned int n_workers, struct sl_proxy **out,
		    char *err, size_t errlen);
void sl_proxy_free(struct sl_proxy *p);
/*
 * The snapshot's TLS contexts (controlplane/tls_ctx.c) from its configuration, with the
 * process's ticket keys: freed with the snapshot (after the RCU grace period; a live
 * connection's SSL holds its SSL_CTX). A listener whose services have TLS needs them; a
 * certificate or key that cannot serve refuses, naming the file and the reason. 0 or -errno.
 */
int sl_proxy_tls_build(struct sl_proxy *p, struct sl_tls_tickets *tickets, char *err,
		       size_t errlen);

/* Worker w's part: pools, balancers, counters, and a listener on every service port. */
int sl_proxy_worker_start(struct sl_proxy *p, struct sl_worker *w, char *err, size_t errlen);
/* Free worker w's part (after its poll loop stopped). */
void sl_proxy_worker_stop(struct sl_worker *w);

/*
 * Graceful stop, on worker w's lcore: close idle client connections and idle backend
 * connections, refuse new client connections, and close each remaining client connection
 * after its response (Connection: close). Once called, the worker stays draining.
 */
void sl_proxy_worker_drain(struct sl_worker *w);
/* Client sessions open on worker w (any thread: the control plane waits for 0). */
unsigned int sl_proxy_worker_sessions(const struct sl_worker *w);

/* The live state of location `location` (global index, file order), or NULL (control plane). */
const struct sl_bal_live *sl_proxy_location_live(const struct sl_proxy *p, unsigned int location);

/* Worker w's housekeeping, every SL_TICK_MS from its loop (starts the health probes). */
void sl_proxy_worker_tick(struct sl_worker *w);

/* Breakers, outlier pools and slow start of the snapshot (lib/resilience), or NULL. */
struct sl_resil_set *sl_proxy_resil(const struct sl_proxy *p);

/* The process's per-client rate-limit table (built when worker 0 starts), or NULL. */
const struct sl_rl_table *sl_proxy_rl_table(const struct sl_proxy *p);
/* Worker w's counters of that table (lib/resilience ratelimit.h), or NULL without a proxy. */
struct sl_rl_stats;
const struct sl_rl_stats *sl_proxy_worker_rl_stats(const struct sl_worker *w);

/* A worker's TLS counters (lib/stats/tls_stats.h), or NULL without a proxy. */
const struct sl_tls_stats *sl_proxy_worker_tls_stats(const struct sl_worker *w);
/* Its counters of connections to https backends (the same struct; reason verify there). */
const struct sl_tls_stats *sl_proxy_worker_be_tls_stats(const struct sl_worker *w);
/* The request counters of a worker's proxy (for the control plane), or NULL. */
const struct sl_req_stats *sl_proxy_worker_stats(const struct sl_worker *w);

/* ---- live reconfiguration (control thread unless stated) ---- */

/* Build the workers' parts of p (balancers, pools, counters). 0 or -ENOMEM with err. */
int sl_proxy_gens_create(struct sl_proxy *p, struct sl_worker *const *workers, unsigned int n,
			 char *err, size_t errlen);
/* Copy the eligibility flags (health, drain, circuit) of every backend of prev whose
 * (service, location path, url) is also in next. Returns how many backends matched. */
unsigned int sl_proxy_carry_flags(struct sl_proxy *next, const struct sl_proxy *prev);
/*
 * Start next's request counters (every worker's) from prev's for the same (service),
 * (service, location) and (service, location, url) rows, so that counters go on across a
 * reload. Call before publishing (next's blocks are not written yet). Requests that finish
 * on prev after this call are not carried (those in flight at the reload).
 */
void sl_proxy_seed_stats(struct sl_proxy *next, const struct sl_proxy *prev);
/* Publish next to the workers (a release store per worker). */
void sl_proxy_publish(struct sl_proxy *next, struct sl_worker *const *workers, unsigned int n);
/* Worker side, once per poll-loop iteration: move to the newest snapshot if there is one. */
void sl_proxy_worker_poll(struct sl_worker *w);
/* Has every worker moved off p, with no session or backend connection left on it? */
bool sl_proxy_unused(const struct sl_proxy *p);
/* Worker w's counters in snapshot p, or NULL. */
const struct sl_req_stats *sl_proxy_stats_of(const struct sl_proxy *p, unsigned int worker);
/* The backend (service, location path, ip:port) of p: its live state and index. 0/-ENOENT. */
int sl_proxy_find_backend(const struct sl_proxy *p, const char *service, const char *location,
			  uint32_t ip, uint16_t port, struct sl_bal_live **live,
			  unsigned int *index);
/* p owns cfg from now on (freed with it) and is generation `generation`. */
void sl_proxy_adopt(struct sl_proxy *p, struct sl_config *cfg, uint64_t generation);
/* The (address, port) pairs p listens on (at most max), in file order; address 0 is every
 * address of the port (services without `address`); addrs may be NULL. */
unsigned int sl_proxy_ports(const struct sl_proxy *p, uint16_t *ports, uint32_t *addrs,
			    unsigned int max);
/* 1 for the snapshot built at start, +1 per publish. */
uint64_t sl_proxy_generation(const struct sl_proxy *p);
/* The configuration tree the snapshot was built from. */
const struct sl_config *sl_proxy_config(const struct sl_proxy *p);

#endif
