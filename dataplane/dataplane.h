/* SPDX-License-Identifier: MIT */
#ifndef SL_DATAPLANE_H
#define SL_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "lib/config/config.h"
#include "lib/msg/msg.h"
#include "port.h"
#include "worker.h"

#define SL_DP_RETIRED_MAX 64 /* snapshots replaced but still used; a reload past it waits */
#define SL_DP_LISTEN_MAX 1024

/* The fast path as a whole: its pool, ports, workers and the rings between them. */
struct sl_dataplane {
	const struct sl_config *cfg;
	struct rte_mempool *pool;
	unsigned int n_ports;
	unsigned int n_workers;
	struct sl_port ports[SL_MAX_PORTS];
	struct sl_worker *workers[SL_MAX_WORKERS];
	volatile bool stop;
	volatile bool drain; /* graceful stop: workers refuse new connections, finish the rest */
	bool launched;
	struct sl_proxy *proxy;    /* the HTTP proxy's shared snapshot, or NULL */
	struct sl_plane_view view; /* what the control plane may see */
	char err[256];             /* a worker's start-up failure, in words */

	/* Live reconfiguration: the RCU variable the workers report to, the snapshots that
	 * were replaced and wait to be freed, the listeners made at start. */
	struct rte_rcu_qsbr *qsbr;
	pthread_mutex_t reload_mu; /* apply and reap (control plane threads) */
	struct {
		struct sl_proxy *p;
		uint64_t token;
		bool token_taken;
	} retired[SL_DP_RETIRED_MAX];
	unsigned int n_retired;
	uint16_t listen_ports[SL_DP_LISTEN_MAX];
	uint32_t listen_addrs[SL_DP_LISTEN_MAX]; /* with listen_ports: a service's address or 0 */
	unsigned int n_listen_ports;
	void (*publish_hook)(void *arg, const struct sl_proxy *old, struct sl_proxy *next);
	void *publish_hook_arg;
	/* TLS session-ticket keys (controlplane/tls_ctx.h): one holder for the process, so a
	 * ticket resumes on any worker and across reloads; rotated by sl_dataplane_tls_tick. */
	struct sl_tls_tickets *tickets;
	uint64_t tickets_rotated_ms;
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
/*
 * Live reconfiguration (any control-plane thread; calls are serialised inside).
 * Refuses (-EPERM) a change that needs a restart, naming the key; (-EINVAL...) what the
 * proxy cannot serve, with the file:line of the item; a service port that has no listener.
 * Otherwise builds the snapshot, carries the backends' live flags over, publishes it, and
 * waits (at most a second) until every worker has passed a quiescent state, i.e. serves new
 * requests from it. Takes cfg on success. 0 or -errno with a sentence in err.
 */
int sl_dataplane_apply(struct sl_dataplane *dp, struct sl_config *cfg, char *err, size_t errlen);
/* Free the replaced snapshots that no session uses any more, after a QSBR grace period.
 * The control loop calls it every tick. Returns how many are still waiting. */
unsigned int sl_dataplane_reap(struct sl_dataplane *dp);
/* Every SL_DP_TICKET_ROTATE_S: a new session-ticket key (tickets sealed with the one before
 * still resume, and are renewed; older ones get a full handshake). The control loop calls it
 * every tick. */
#define SL_DP_TICKET_ROTATE_S 3600u
void sl_dataplane_tls_tick(struct sl_dataplane *dp);
/* Called after each publish with the old and the new snapshot (dataplane/proxy/proxy.h). */
void sl_dataplane_set_publish_hook(struct sl_dataplane *dp,
				   void (*fn)(void *arg, const struct sl_proxy *old,
					      struct sl_proxy *next),
				   void *arg);

/*
 * Graceful stop (SIGTERM): the workers refuse new connections and close client connections
 * once their responses are out. Then sl_dataplane_sessions() is polled until 0 (or the
 * grace period ends) before sl_dataplane_fini().
 */
void sl_dataplane_drain(struct sl_dataplane *dp);
/* Client sessions still open in the proxy, and TCP connections in every state but
 * TIME-WAIT (*conns may be NULL), summed over workers. */
unsigned int sl_dataplane_sessions(const struct sl_dataplane *dp, uint64_t *conns);
/* Stop the workers, stop and close the ports, free everything. Idempotent. */
void sl_dataplane_fini(struct sl_dataplane *dp);

#endif
