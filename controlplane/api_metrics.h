/* SPDX-License-Identifier: MIT */
#ifndef SL_API_METRICS_H
#define SL_API_METRICS_H

#include "controlplane/admin_server.h"
#include "controlplane/ring_client.h"
#include "lib/config/config.h"
#include "lib/msg/msg.h"

/*
 * GET /metrics     (no token: it is not under /api/) the Prometheus text format 0.0.4,
 *                  every family of lib/stats/metrics.h that the plane view reaches.
 * GET /api/stats   (token) the same counters as JSON: ports, workers (busy time, liveness),
 *                  TCP, mbufs, and requests per service / location / backend.
 * Both read the workers' counters with relaxed loads (lib/stats/README.md) and never touch a
 * ring, so they run on civetweb's threads. view, cfg and live must outlive the server; live
 * may be NULL (no worker status).
 */
int sl_api_metrics_register(struct sl_admin_server *srv, const struct sl_plane_view *view,
			    const struct sl_config *cfg, struct sl_cp_live *live);
void sl_api_metrics_fini(void);
/* Health, circuit and ejection state of the backends (controlplane/backend_health.h), or
 * NULL: up and circuit then come from the live flags alone. Call after register. */
struct sl_cp_health;
void sl_api_metrics_health(const struct sl_cp_health *h);

/* One more renderer of families (e.g. sl_acme_metrics), called after the others in the order
 * given; arg must outlive the server. Call before sl_admin_start. 0, or -ENOSPC past 4 (the
 * same fn and arg again: 0, once). */
struct sl_prom;
int sl_api_metrics_extra(int (*fn)(void *arg, struct sl_prom *p), void *arg);

#endif
