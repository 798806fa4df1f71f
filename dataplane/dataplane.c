/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "flow_steer.h"
#include "lib/accesslog/accesslog.h"
#include "net/tcp/tcp_worker.h"
#include "proxy/proxy.h"
#include "test_services.h"
#include "log.h"

RTE_LOG_REGISTER(sl_logtype, sluice, INFO);

#define MBUF_CACHE 256

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
	w->cmd = ring_create("cmd", id, -1, SL_CMD_RING_SIZE);
	w->evt = ring_create("evt", id, -1, SL_CMD_RING_SIZE);
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
	dp->view.busy_cycles[id] = &w->busy_cycles;
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
	rc = sl_proxy_create(cfg, dp->n_workers, &dp->proxy, err, errlen);
	if (rc != 0)
		return rc;

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
	rte_mempool_free(dp->pool);
	dp->pool = NULL;
	dp->n_ports = 0;
}
