/* SPDX-License-Identifier: MIT */
#ifndef SL_DATAPLANE_H
#define SL_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>

#include <rte_mempool.h>

#include "lib/config/config.h"
#include "lib/msg/msg.h"
#include "port.h"
#include "worker.h"

/* The fast path as a whole: its pool, ports, workers and the rings between them. */
struct sl_dataplane {
	const struct sl_config *cfg;
	struct rte_mempool *pool;
	unsigned int n_ports;
	unsigned int n_workers;
	struct sl_port ports[SL_MAX_PORTS];
	struct sl_worker *workers[SL_MAX_WORKERS];
	volatile bool stop;
	bool launched;
	struct sl_proxy *proxy;    /* the HTTP proxy's shared snapshot, or NULL */
	struct sl_plane_view view; /* what the control plane may see */
	char err[256];             /* a worker's start-up failure, in words */
};

/*
 * Build everything from the configuration on the worker lcores EAL gave us
 * (all but the main lcore). On failure returns -errno with a sentence in
 * err, and whatever was built is torn down.
 */
int sl_dataplane_init(struct sl_dataplane *dp, const struct sl_config *cfg, char *err,
		      size_t errlen);
/* Start the poll loops on the worker lcores. */
int sl_dataplane_launch(struct sl_dataplane *dp);
/* Stop the poll loops and wait for them (what they wrote is then final). Idempotent. */
void sl_dataplane_stop(struct sl_dataplane *dp);
/* Stop the workers, stop and close the ports, free everything. Idempotent. */
void sl_dataplane_fini(struct sl_dataplane *dp);

#endif
