/* SPDX-License-Identifier: MIT */
#ifndef SL_WORKER_H
#define SL_WORKER_H

/*
 * Everything a worker lcore owns. One struct per worker, cache aligned,
 * allocated at start-up; the poll loop touches nothing else.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "lib/config/config.h"
#include "lib/msg/msg.h"
#include "dataplane/net/netif.h"

#define SL_RX_BURST 32
#define SL_PEER_RING_SIZE 1024
#define SL_CMD_RING_SIZE 64
/* Replies (at most SL_CMD_RING_SIZE in flight) plus notifications (lib/msg sl_evt). */
#define SL_EVT_RING_SIZE 1024
#define SL_TICK_MS 100 /* period of housekeeping (ARP) */

struct sl_tcp_worker;
struct sl_proxy_worker;
struct sl_alog;
struct rte_rcu_qsbr;

struct sl_worker {
	unsigned int id; /* 0 .. n_workers-1; also the queue index on every port */
	unsigned int lcore;
	unsigned int n_workers;
	enum sl_idle_policy idle;

	uint64_t now_ms; /* worker clock, refreshed once per loop iteration */
	uint64_t tsc_per_ms;
	uint64_t tsc_per_us;
	uint64_t next_tick_ms;

	struct rte_mempool *pool;
	unsigned int n_netif;
	struct sl_netif *netif[SL_MAX_PORTS];

	struct rte_ring *to_peer[SL_MAX_WORKERS];   /* this worker -> peer; NULL for self */
	struct rte_ring *from_peer[SL_MAX_WORKERS]; /* peer -> this worker */
	struct rte_ring *cmd;                       /* control -> this worker */
	struct rte_ring *evt;                       /* this worker -> control */
	struct sl_tcp_worker *tcp;
	void *services; /* state of the services listening on this worker */
	struct sl_proxy_worker *proxy; /* the HTTP proxy's part of this worker (dataplane/proxy) */
	struct sl_alog *alog; /* access-log records (lib/accesslog), or NULL: the log is off */

	struct rte_rcu_qsbr *qsbr; /* reports a quiescent state once per iteration */
	uint64_t busy_cycles; /* TSC cycles spent in loop iterations that did work */
	uint64_t phase_cycles[SL_PHASE_N]; /* the same, by phase (enum sl_worker_phase) */
	uint64_t iterations;
	const volatile bool *stop;
	const volatile bool *drain; /* graceful stop requested (SIGTERM) */
	bool draining;		    /* this worker has begun it */
} __rte_cache_aligned;

/* lcore entry point: runs the poll loop until *w->stop. */
int sl_worker_main(void *arg);

/*
 * Give a copy of frame m to every other worker (ARP learning). m stays ours.
 * Copies are small (ARP), never a body.
 */
void sl_worker_share_with_peers(struct sl_worker *w, struct sl_netif *ifp,
				const struct rte_mbuf *m);

#endif
