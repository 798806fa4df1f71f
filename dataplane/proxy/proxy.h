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
 * Nothing here allocates after start; the worker owns its part alone.
 */

#include <stddef.h>
#include <stdint.h>

#include "lib/config/config.h"

struct sl_worker;
struct sl_proxy;
struct sl_proxy_worker;
struct sl_req_stats;
struct sl_bal_live;

/*
 * Build the shared snapshot for n_workers. Refuses (-EINVAL / -ENOTSUP / -ELOOP, one
 * sentence in err) what the proxy cannot serve: a backend whose host is not an IPv4 literal,
 * http_redirect (sl_route_check), more service ports than the stack can listen on.
 * A configuration without services gives a proxy that listens nowhere.
 */
int sl_proxy_create(const struct sl_config *cfg, unsigned int n_workers, struct sl_proxy **out,
		    char *err, size_t errlen);
void sl_proxy_free(struct sl_proxy *p);

/* Worker w's part: pools, balancers, counters, and a listener on every service port. */
int sl_proxy_worker_start(struct sl_proxy *p, struct sl_worker *w, char *err, size_t errlen);
/* Free worker w's part (after its poll loop stopped). */
void sl_proxy_worker_stop(struct sl_worker *w);

/* The live state of location `location` (global index, file order), or NULL (control plane). */
const struct sl_bal_live *sl_proxy_location_live(const struct sl_proxy *p, unsigned int location);

/* The request counters of a worker's proxy (for the control plane), or NULL. */
const struct sl_req_stats *sl_proxy_worker_stats(const struct sl_worker *w);

#endif
