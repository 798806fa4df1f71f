/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <time.h>

#include "dataplane.h"
#include "lib/stats/counter.h"
#include "flow_steer.h"
#include "lib/accesslog/accesslog.h"
#include "net/tcp/tcp_worker.h"
#include "proxy/proxy.h"
#include "controlplane/tls_ctx.h"
#include "test_services.h"
#include "log.h"

RTE_LOG_REGISTER(sl_logtype, sluice, INFO);

#define MBUF_CACHE 256

static int dp_apply(void *arg, struct sl_config *cfg, char *err, size_t errlen);

static uint16_t
netif_tx_burst(struct sl_netif *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(ifp->port_id, ifp->queue_id, pkts, n);
}

static uint16_t
netif_tx_prepare(struct sl_netif *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_prepare(ifp->port_id, ifp->queue_id, pkts, n);
}

static struct rte_ring *
ring_create(const char *kind, unsigned int a, int b, unsigned int size)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "sl_%s_%u_%d", kind, a, b);
	return rte_ring_create(name, size, rte_lcore_to_socket_id(rte_get_main_lcore()),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
}

static int
worker_create(struct sl_dataplane *dp, unsigned int id, unsigned int lcore)
{
	const struct sl_config_dataplane *dc = &dp->cfg->dataplane;
	struct sl_worker *w;

	w = rte_zmalloc_socket("sl_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       rte_lcore_to_socket_id(lcore));
	if (w == NULL)
		return -ENOMEM;
	dp->workers[id] = w;
	w->id = id;
	w->lcore = lcore;
	w->n_workers = dp->n_workers;
	w->idle = dc->idle;
	w->tsc_per_ms = rte_get_tsc_hz() / 1000;
	w->tsc_per_us = rte_get_tsc_hz() / 1000000;
	w->pool = dp->pool;
	w->stop = &dp->stop;
	if (dp->cfg->admin.access_log.enabled) {
		/* Plain memory: the control plane reads it, nothing DMAs into it. */
		w->alog = sl_alog_create(dp->cfg->admin.access_log.ring_size, id);
		if (w->alog == NULL)
			return -ENOMEM;
		dp->view.alog[id] = w->alog;
	}
	w->qsbr = dp->qsbr;
	w->drain = &dp->drain;
	w->cmd = ring_create("cmd", id, -1, SL_CMD_RING_SIZE);
	w->evt = ring_create("evt", id, -1, SL_EVT_RING_SIZE);
	if (w->cmd == NULL || w->evt == NULL)
		return -ENOMEM;

	for (unsigned int i = 0; i < dp->n_ports; i++) {
		struct sl_port *p = &dp->ports[i];
		struct sl_netif *ifp;

		ifp = rte_zmalloc_socket("sl_netif", sizeof(*ifp), RTE_CACHE_LINE_SIZE,
					 rte_lcore_to_socket_id(lcore));
		if (ifp == NULL)
			return -ENOMEM;
		w->netif[i] = ifp;
		ifp->w = w;
		ifp->index = i;
		ifp->port_id = p->port_id;
		ifp->queue_id = id;
		ifp->tx_ip_cksum = p->tx_ip_cksum;
		ifp->tx_tcp_cksum = p->tx_tcp_cksum;
		ifp->tx_l4_cksum_chained = p->tx_l4_cksum_chained;
		ifp->tx_seg_max = p->tx_seg_max;
		ifp->mtu = p->cfg->mtu;
		ifp->mac = p->mac;
		ifp->ip = p->cfg->ip;
		ifp->mask = rte_cpu_to_be_32(p->cfg->prefix ? ~0u << (32 - p->cfg->prefix) : 0);
		ifp->gateway = p->cfg->gateway;
		RTE_BUILD_BUG_ON(SL_CONFIG_PORT_ADDRS_MAX > SL_NETIF_ADDRS_MAX);
		for (unsigned int k = 0; k < p->cfg->n_addresses; k++)
			sl_netif_add_addr(ifp, p->cfg->addresses[k]); /* checked by the config */
		ifp->tx_burst = netif_tx_burst;
		ifp->tx_prepare = netif_tx_prepare;
		/* Spread IP ids so two workers do not emit the same id to one peer at once. */
		ifp->ip_id = (uint16_t)(id * (65536 / SL_MAX_WORKERS));
		dp->view.net_stats[id][i] = &ifp->stats;
	}
	w->n_netif = dp->n_ports;
	w->tcp = sl_tcp_worker_create(w, &dc->tcp, (int)rte_lcore_to_socket_id(lcore), dp->err,
				      sizeof(dp->err));
	if (w->tcp == NULL)
		return -ENOMEM;
	if (sl_test_services_start(w, &dc->test_services, dc->tcp.max_connections) != 0) {
		snprintf(dp->err, sizeof(dp->err), "cannot start the test services (port in use?)");
		return -EINVAL;
	}
	if (dp->proxy != NULL && sl_proxy_worker_start(dp->proxy, w, dp->err, sizeof(dp->err)) != 0)
		return -EINVAL;
	dp->view.req_stats[id] = sl_proxy_worker_stats(w);
	dp->view.tcp_stats[id] = sl_tcp_worker_stats(w->tcp);
	dp->view.tls_stats[id] = sl_proxy_worker_tls_stats(w);
	dp->view.be_tls_stats[id] = sl_proxy_worker_be_tls_stats(w);
	dp->view.rl_stats[id] = sl_proxy_worker_rl_stats(w);
	dp->view.busy_cycles[id] = &w->busy_cycles;
	dp->view.phase_cycles[id] = w->phase_cycles;
	dp->view.cmd[id] = w->cmd;
	dp->view.evt[id] = w->evt;
	return 0;
}

static int
peer_rings_create(struct sl_dataplane *dp)
{
	for (unsigned int a = 0; a < dp->n_workers; a++) {
		for (unsigned int b = 0; b < dp->n_workers; b++) {
			struct rte_ring *r;

			if (a == b)
				continue;
			r = ring_create("peer", a, (int)b, SL_PEER_RING_SIZE);
			if (r == NULL)
				return -ENOMEM;
			dp->workers[a]->to_peer[b] = r;
			dp->workers[b]->from_peer[a] = r;
		}
	}
	return 0;
}

static uint64_t mono_ms(void);

int
sl_dataplane_init(struct sl_dataplane *dp, const struct sl_config *cfg, char *err, size_t errlen)
{
	const struct sl_config_dataplane *dc = &cfg->dataplane;
	unsigned int avail = rte_lcore_count() - 1, lcore, id;
	int rc;

	memset(dp, 0, sizeof(*dp));
	dp->cfg = cfg;
	if (avail == 0) {
		snprintf(err, errlen, "no worker lcore: give EAL at least two (e.g. -l 0-1); "
				      "the first runs the control plane");
		return -EINVAL;
	}
	dp->n_workers = dc->workers ? dc->workers : avail;
	if (dp->n_workers > avail || dp->n_workers > SL_MAX_WORKERS) {
		snprintf(err, errlen, "dataplane.workers is %u but EAL gave %u worker lcore(s) "
				      "(maximum %u)", dc->workers, avail, SL_MAX_WORKERS);
		return -EINVAL;
	}
	if (dc->n_ports == 0 || dc->n_ports > SL_MAX_PORTS) {
		snprintf(err, errlen, "dataplane.ports must list 1 to %u ports, it lists %u",
			 SL_MAX_PORTS, dc->n_ports);
		return -EINVAL;
	}
	dp->n_ports = dc->n_ports;

	/* What the proxy cannot serve is refused before any device is touched. */
	rc = sl_tls_tickets_create(&dp->tickets);
	if (rc != 0) {
		snprintf(err, errlen, "cannot make a TLS session-ticket key: %s", strerror(-rc));
		return rc;
	}
	dp->tickets_rotated_ms = mono_ms();
	rc = sl_proxy_create(cfg, dp->n_workers, &dp->proxy, err, errlen);
	if (rc == 0)
		rc = sl_proxy_tls_build(dp->proxy, dp->tickets, err, errlen);
	if (rc != 0) {
		sl_proxy_free(dp->proxy);
		dp->proxy = NULL;
		sl_tls_tickets_free(dp->tickets);
		dp->tickets = NULL;
		return rc;
	}
	pthread_mutex_init(&dp->reload_mu, NULL);
	pthread_rwlock_init(&dp->view.lock, NULL);
	dp->view.generation = 1;
	dp->view.cfg = cfg;
	dp->view.apply = dp_apply;
	dp->view.dp = dp;
	dp->n_listen_ports =
	    sl_proxy_ports(dp->proxy, dp->listen_ports, dp->listen_addrs, SL_DP_LISTEN_MAX);
	{
		size_t sz = rte_rcu_qsbr_get_memsize(dp->n_workers);

		dp->qsbr = rte_zmalloc("sl_qsbr", sz, RTE_CACHE_LINE_SIZE);
		if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, dp->n_workers) != 0) {
			snprintf(err, errlen, "cannot create the RCU (QSBR) variable");
			rc = -ENOMEM;
			goto fail;
		}
	}

	rc = sl_tcp_global_init();
	if (rc != 0) {
		snprintf(err, errlen, "cannot initialise TCP (secret, mbuf field): %s", rte_strerror(-rc));
		goto fail;
	}
	dp->pool = rte_pktmbuf_pool_create("sl_mbufs", dc->mbufs, MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (dp->pool == NULL) {
		snprintf(err, errlen, "cannot create a pool of %u mbufs: %s (lower dataplane.mbufs "
				      "or reserve more memory)", dc->mbufs, rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < dp->n_ports; i++) {
		rc = sl_port_setup(&dp->ports[i], &dc->ports[i], dp->n_workers, dp->pool, err,
				   errlen);
		if (rc != 0)
			goto fail;
		snprintf(dp->view.port_names[i], SL_PORT_NAME_MAX, "%s", dc->ports[i].name);
		dp->view.port_ids[i] = dp->ports[i].port_id;
	}

	dp->view.n_workers = dp->n_workers;
	dp->view.n_ports = dp->n_ports;
	dp->view.tsc_hz = rte_get_tsc_hz();
	dp->view.dev_stats = sl_port_dev_stats;
	dp->view.pool = dp->pool;
	dp->view.proxy = dp->proxy;
	dp->view.bal_live = sl_proxy_location_live;
	dp->view.resil = sl_proxy_resil(dp->proxy);
	id = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (id == dp->n_workers)
			break;
		dp->err[0] = '\0';
		rc = worker_create(dp, id++, lcore);
		if (rc != 0) {
			if (dp->err[0] != '\0')
				snprintf(err, errlen, "%s", dp->err);
			else
				snprintf(err, errlen, "cannot allocate worker %u: %s", id - 1,
					 rte_strerror(-rc));
			goto fail;
		}
	}
	dp->view.rl_table = sl_proxy_rl_table(dp->proxy);
	/* Listener ports keep RSS on a NIC; the rest is steered to the port's owner. */
	uint16_t listen[SL_TCP_LISTENERS_MAX];
	unsigned int n_listen = sl_tcp_listener_ports(dp->workers[0]->tcp, listen, SL_TCP_LISTENERS_MAX);
	for (unsigned int i = 0; i < dp->n_ports; i++)
		sl_flow_steer_setup(&dp->ports[i], dp->n_workers, listen, n_listen);
	rc = peer_rings_create(dp);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create the rings between workers: %s",
			 rte_strerror(rte_errno));
		goto fail;
	}
	return 0;

fail:
	sl_dataplane_fini(dp);
	return rc;
}

int
sl_dataplane_launch(struct sl_dataplane *dp)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		int rc = rte_eal_remote_launch(sl_worker_main, dp->workers[i],
					       dp->workers[i]->lcore);
		if (rc != 0) {
			dp->stop = true;
			rte_eal_mp_wait_lcore();
			return rc;
		}
	}
	dp->launched = true;
	SL_LOG(INFO, "%u worker(s) running", dp->n_workers);
#ifdef SL_TX_VERIFY
	SL_LOG(INFO, "tx_verify: every packet's checksums are checked before it leaves (a debug "
		     "build; -Dtx_verify=false or a release build turns it off)");
#endif
	return 0;
}

/* ------------------------------------------------------------ live reconfiguration */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
dp_apply(void *arg, struct sl_config *cfg, char *err, size_t errlen)
{
	return sl_dataplane_apply(arg, cfg, err, errlen);
}

static int
check_ports(struct sl_dataplane *dp, const struct sl_proxy *next, char *err, size_t errlen)
{
	uint16_t ports[SL_DP_LISTEN_MAX];
	uint32_t addrs[SL_DP_LISTEN_MAX];
	unsigned int n = sl_proxy_ports(next, ports, addrs, SL_DP_LISTEN_MAX);

	for (unsigned int i = 0; i < n; i++) {
		bool found = false;

		/* A service address (VIP) has a listener of its own: a new one needs it too. */
		for (unsigned int k = 0; k < dp->n_listen_ports && !found; k++)
			found = dp->listen_ports[k] == ports[i] && dp->listen_addrs[k] == addrs[i];
		if (!found) {
			struct in_addr a = {.s_addr = addrs[i]};

			snprintf(err, errlen,
				 "%s: a service on %s%s%u: sluice listens on the service ports and "
				 "addresses of the configuration it started with; a new one needs a "
				 "restart",
				 sl_proxy_config(next)->file, addrs[i] ? inet_ntoa(a) : "port ",
				 addrs[i] ? ":" : "", ports[i]);
			return -EPERM;
		}
	}
	return 0;
}

int
sl_dataplane_apply(struct sl_dataplane *dp, struct sl_config *cfg, char *err, size_t errlen)
{
	struct sl_proxy *next = NULL, *old;
	char key[256];
	uint64_t token, t0;
	int rc;

	err[0] = '\0';
	pthread_mutex_lock(&dp->reload_mu);
	rc = sl_config_restart_key(dp->cfg, cfg, key, sizeof(key));
	if (rc != 0) {
		if (rc > 0)
			snprintf(err, errlen,
				 "%s: '%s' differs from the running configuration; it cannot change "
				 "on a reload (restart sluice to apply it)",
				 cfg->file, key);
		else
			snprintf(err, errlen, "out of memory comparing the configurations");
		rc = rc > 0 ? -EPERM : -ENOMEM;
		goto out;
	}
	if (dp->proxy == NULL || dp->workers[0] == NULL || dp->workers[0]->proxy == NULL) {
		snprintf(err, errlen, "sluice started without services: the proxy has no "
				      "listener, so a reload cannot add one (restart sluice)");
		rc = -EPERM;
		goto out;
	}
	if (dp->n_retired == SL_DP_RETIRED_MAX) {
		snprintf(err, errlen, "%u earlier configurations are still in use by open "
				      "connections; retry when they have finished", SL_DP_RETIRED_MAX);
		rc = -EBUSY;
		goto out;
	}
	rc = sl_proxy_create(cfg, dp->n_workers, &next, err, errlen);
	if (rc == 0) /* new certificates; a bad one refuses the reload, naming file and reason */
		rc = sl_proxy_tls_build(next, dp->tickets, err, errlen);
	if (rc == 0)
		rc = check_ports(dp, next, err, errlen);
	if (rc == 0)
		rc = sl_proxy_gens_create(next, dp->workers, dp->n_workers, err, errlen);
	if (rc != 0) {
		sl_proxy_free(next);
		goto out;
	}
	old = dp->proxy;
	sl_proxy_carry_flags(next, old);
	sl_proxy_seed_stats(next, old);
	sl_proxy_adopt(next, cfg, sl_proxy_generation(old) + 1);

	/* Readers of the view on other threads see either snapshot whole. */
	pthread_rwlock_wrlock(&dp->view.lock);
	dp->proxy = next;
	dp->view.proxy = next;
	for (unsigned int w = 0; w < dp->n_workers; w++)
		dp->view.req_stats[w] = sl_proxy_stats_of(next, w);
	dp->view.generation = sl_proxy_generation(next);
	dp->view.cfg = cfg;
	dp->view.resil = sl_proxy_resil(next);
	pthread_rwlock_unlock(&dp->view.lock);

	t0 = mono_ms();
	sl_proxy_publish(next, dp->workers, dp->n_workers);
	dp->retired[dp->n_retired].p = old;
	dp->retired[dp->n_retired].token_taken = false;
	dp->n_retired++;
	if (dp->publish_hook != NULL)
		dp->publish_hook(dp->publish_hook_arg, old, next);
	/* Every worker past a quiescent state = every worker serves new requests from next. */
	token = rte_rcu_qsbr_start(dp->qsbr);
	while (rte_rcu_qsbr_check(dp->qsbr, token, false) != 1 && dp->launched) {
		struct timespec ts = {0, 100000};

		if (mono_ms() - t0 > 1000) {
			SL_LOG(WARNING, "reload: a worker did not pass a quiescent state within "
					"1 s; it takes the new configuration when it does");
			break;
		}
		nanosleep(&ts, NULL);
	}
	SL_LOG(INFO, "configuration generation %" PRIu64 " published (%s), workers on it in %" PRIu64
		     " ms", sl_proxy_generation(next), cfg->file, mono_ms() - t0);
	rc = 0;
out:
	pthread_mutex_unlock(&dp->reload_mu);
	return rc;
}

unsigned int
sl_dataplane_reap(struct sl_dataplane *dp)
{
	unsigned int n;

	pthread_mutex_lock(&dp->reload_mu);
	for (unsigned int i = 0; i < dp->n_retired;) {
		struct sl_proxy *p = dp->retired[i].p;

		if (!sl_proxy_unused(p)) {
			i++;
			continue;
		}
		/* Unused by every session: one more grace period, then nobody can load it. */
		if (!dp->retired[i].token_taken) {
			dp->retired[i].token = rte_rcu_qsbr_start(dp->qsbr);
			dp->retired[i].token_taken = true;
		}
		if (dp->launched && rte_rcu_qsbr_check(dp->qsbr, dp->retired[i].token, false) != 1) {
			i++;
			continue;
		}
		SL_LOG(INFO, "configuration generation %" PRIu64 " freed (no request uses it)",
		       sl_proxy_generation(p));
		sl_proxy_free(p);
		dp->retired[i] = dp->retired[--dp->n_retired];
	}
	n = dp->n_retired;
	pthread_mutex_unlock(&dp->reload_mu);
	return n;
}

void
sl_dataplane_tls_tick(struct sl_dataplane *dp)
{
	uint64_t now = mono_ms();

	if (dp->tickets == NULL || now - dp->tickets_rotated_ms < SL_DP_TICKET_ROTATE_S * 1000u)
		return;
	dp->tickets_rotated_ms = now;
	if (sl_tls_tickets_rotate(dp->tickets) != 0)
		SL_LOG(WARNING, "TLS: cannot make a new session-ticket key; the current one stays");
}

void
sl_dataplane_set_publish_hook(struct sl_dataplane *dp,
			      void (*fn)(void *arg, const struct sl_proxy *old,
					 struct sl_proxy *next),
			      void *arg)
{
	dp->publish_hook = fn;
	dp->publish_hook_arg = arg;
}

void
sl_dataplane_drain(struct sl_dataplane *dp)
{
	dp->drain = true;
}

unsigned int
sl_dataplane_sessions(const struct sl_dataplane *dp, uint64_t *conns)
{
	unsigned int n = 0;

	if (conns != NULL)
		*conns = 0;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		n += sl_proxy_worker_sessions(dp->workers[i]);
		if (conns != NULL && dp->view.tcp_stats[i] != NULL)
			*conns += sl_counter_read(&dp->view.tcp_stats[i]->conns);
	}
	return n;
}

static void
ring_drain_free(struct rte_ring *r)
{
	void *obj;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &obj) == 0)
		rte_pktmbuf_free(obj);
	rte_ring_free(r);
}

void
sl_dataplane_stop(struct sl_dataplane *dp)
{
	dp->stop = true;
	if (dp->launched) {
		rte_eal_mp_wait_lcore();
		dp->launched = false;
	}
}

void
sl_dataplane_fini(struct sl_dataplane *dp)
{
	sl_dataplane_stop(dp);
	for (unsigned int i = 0; i < dp->n_ports; i++)
		sl_port_close(&dp->ports[i]);
	for (unsigned int id = 0; id < SL_MAX_WORKERS; id++) {
		struct sl_worker *w = dp->workers[id];

		if (w == NULL)
			continue;
		for (unsigned int p = 0; p < SL_MAX_WORKERS; p++)
			ring_drain_free(w->to_peer[p]);
		/* Commands in flight belong to the control plane, which has stopped asking. */
		rte_ring_free(w->cmd);
		rte_ring_free(w->evt);
		sl_test_services_stop(w);
		sl_proxy_worker_stop(w);
		sl_tcp_worker_free(w->tcp);
		sl_alog_free(w->alog);
		dp->view.alog[id] = NULL;
		for (unsigned int i = 0; i < SL_MAX_PORTS; i++)
			rte_free(w->netif[i]);
		rte_free(w);
		dp->workers[id] = NULL;
	}
	sl_proxy_free(dp->proxy);
	dp->proxy = NULL;
	for (unsigned int i = 0; i < dp->n_retired; i++)
		sl_proxy_free(dp->retired[i].p);
	dp->n_retired = 0;
	rte_free(dp->qsbr);
	dp->qsbr = NULL;
	/* After every snapshot: their contexts' ticket callbacks read it. */
	sl_tls_tickets_free(dp->tickets);
	dp->tickets = NULL;
	rte_mempool_free(dp->pool);
	dp->pool = NULL;
	dp->n_ports = 0;
}
