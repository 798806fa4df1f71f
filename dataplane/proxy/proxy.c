/* SPDX-License-Identifier: MIT */
/*
 * The proxy's snapshot (shared, read-only once built) and each worker's part. Everything is
 * allocated here, at start, on the control thread; the sessions (session.c) only take from
 * the worker's mempools.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/net/tcp/tcp.h"
#include "dataplane/worker.h"
#include "proxy_private.h"

static void
free_locs(struct sl_proxy *p)
{
	if (p->locs == NULL)
		return;
	for (unsigned int i = 0; i < p->n_locations; i++) {
		sl_bal_live_free(p->locs[i].live);
		free(p->locs[i].ip);
		free(p->locs[i].port);
	}
	free(p->locs);
	p->locs = NULL;
}

void
sl_proxy_free(struct sl_proxy *p)
{
	if (p == NULL)
		return;
	if (p->protos != NULL)
		for (unsigned int i = 0; i < p->n_locations; i++)
			sl_bal_destroy(p->protos[i]);
	free(p->protos);
	free_locs(p);
	sl_route_free(p->routes);
	free(p);
}

static int
add_port(struct sl_proxy *p, uint16_t port, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < p->n_ports; i++)
		if (p->ports[i] == port)
			return 0;
	if (p->n_ports == PX_MAX_PORTS) {
		snprintf(err, errlen,
			 "services use more than %u ports; the TCP stack listens on at "
			 "most %u",
			 PX_MAX_PORTS, PX_MAX_PORTS);
		return -EINVAL;
	}
	p->ports[p->n_ports++] = port;
	return 0;
}

static int
build_location(struct sl_proxy *p, const struct sl_route_location *rl, unsigned int base, char *err,
	       size_t errlen)
{
	const struct sl_config_location *loc = rl->location;
	struct px_location *pl = &p->locs[rl->id];
	uint32_t maxc[loc->n_backends];
	int rc;

	pl->rl = rl;
	pl->cfg = loc;
	pl->n_backends = loc->n_backends;
	pl->backend_base = base;
	pl->ip = calloc(loc->n_backends, sizeof(*pl->ip));
	pl->port = calloc(loc->n_backends, sizeof(*pl->port));
	if (pl->ip == NULL || pl->port == NULL)
		return -ENOMEM;
	for (unsigned int b = 0; b < loc->n_backends; b++) {
		const struct sl_config_backend *be = &loc->backends[b];

		if (be->target.https) {
			snprintf(err, errlen,
				 "%s:%u: backend %s: https backends need TLS, which "
				 "sluice does not have yet",
				 p->cfg->file, be->line, be->url);
			return -ENOTSUP;
		}
		if (be->target.ip == 0) {
			snprintf(err, errlen,
				 "%s:%u: backend %s: '%s' is not an IPv4 address; "
				 "the proxy resolves no names yet",
				 p->cfg->file, be->line, be->url, be->target.host);
			return -EINVAL;
		}
		pl->ip[b] = be->target.ip;
		pl->port[b] = rte_cpu_to_be_16(be->target.port);
		maxc[b] = be->max_connections;
	}
	rc = sl_bal_live_create(loc->n_backends, p->n_workers, maxc, &pl->live);
	if (rc != 0)
		return rc;
	rc = sl_bal_create_location(loc, pl->live, 0, 0x51u, &p->protos[rl->id]);
	if (rc != 0)
		snprintf(err, errlen, "%s:%u: location %s: cannot build its balancer: %s",
			 p->cfg->file, loc->line, loc->path, strerror(-rc));
	return rc;
}

int
sl_proxy_create(const struct sl_config *cfg, unsigned int n_workers, struct sl_proxy **out,
		char *err, size_t errlen)
{
	struct sl_proxy *p;
	unsigned int base = 0;
	int rc;

	*out = NULL;
	rc = sl_route_check(cfg, err, errlen);
	if (rc != 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->cfg = cfg;
	p->n_workers = n_workers;
	/* The response parser shares them; lib/http applies max_body to requests only. */
	p->limits =
	    (struct sl_http_limits){cfg->limits.max_request_line, cfg->limits.max_header_size,
				    cfg->limits.max_headers, cfg->limits.max_body};
	sl_retry_cfg_default(&p->retry);
	rc = sl_route_build(cfg, &p->routes, err, errlen);
	if (rc != 0)
		goto fail;
	p->n_locations = sl_route_n_locations(p->routes);
	p->locs = calloc(p->n_locations ? p->n_locations : 1, sizeof(*p->locs));
	p->protos = calloc(p->n_locations ? p->n_locations : 1, sizeof(*p->protos));
	if (p->locs == NULL || p->protos == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* Locations in file order: that order gives the global location and backend indices. */
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];

		rc = add_port(p, svc->port, err, errlen);
		if (rc != 0)
			goto fail;
		for (unsigned int l = 0; l < svc->n_locations; l++) {
			const struct sl_route_location *rl = NULL;
			unsigned int id = 0;

			/* The route table numbers locations in file order, as we walk them. */
			for (unsigned int k = 0; k < s; k++)
				id += cfg->services[k].n_locations;
			id += l;
			rl = sl_route_location_at(p->routes, id);
			if (rl == NULL || rl->location != &svc->locations[l]) {
				snprintf(err, errlen,
					 "internal: route table order differs from the file");
				rc = -EINVAL;
				goto fail;
			}
			rc = build_location(p, rl, base, err, errlen);
			if (rc != 0)
				goto fail;
			base += svc->locations[l].n_backends;
		}
	}
	p->n_backends = base;
	*out = p;
	return 0;
fail:
	if (rc == -ENOMEM && err[0] == '\0')
		snprintf(err, errlen, "out of memory building the proxy");
	sl_proxy_free(p);
	return rc;
}

static struct rte_mempool *
pool_create(const char *kind, unsigned int id, unsigned int n, size_t size, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "sl_px_%s_%u", kind, id);
	return rte_mempool_create(name, n, (unsigned int)size, 0, 0, NULL, NULL, NULL, NULL, socket,
				  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
}

int
sl_proxy_worker_start(struct sl_proxy *p, struct sl_worker *w, char *err, size_t errlen)
{
	int socket = (int)rte_lcore_to_socket_id(w->lcore);
	unsigned int n_sess = RTE_MIN(p->cfg->dataplane.tcp.max_connections, PX_MAX_SESSIONS);
	struct sl_proxy_worker *px;
	int rc;

	if (p->cfg->n_services == 0)
		return 0;
	px = rte_zmalloc_socket("sl_px", sizeof(*px), RTE_CACHE_LINE_SIZE, socket);
	if (px == NULL)
		return -ENOMEM;
	w->proxy = px;
	px->p = p;
	px->w = w;
	px->tsc_per_us = w->tsc_per_us ? w->tsc_per_us : 1;
	px->locs = rte_zmalloc_socket("sl_px_locs", sizeof(*px->locs) * (p->n_locations + 1),
				      RTE_CACHE_LINE_SIZE, socket);
	if (px->locs == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < p->n_locations; i++) {
		struct px_wloc *wl = &px->locs[i];

		wl->backends =
		    rte_zmalloc_socket("sl_px_be", sizeof(*wl->backends) * p->locs[i].n_backends,
				       RTE_CACHE_LINE_SIZE, socket);
		if (wl->backends == NULL)
			return -ENOMEM;
		if (w->id == 0)
			wl->bal = p->protos[i];
		else {
			rc = sl_bal_clone(p->protos[i], w->id, 0x51u + w->id * 0x9e3779b9u,
					  &wl->bal);
			if (rc != 0)
				return rc;
		}
	}
	px->stats = sl_req_stats_create(p->cfg->n_services, p->n_locations, p->n_backends);
	px->sessions = pool_create("sess", w->id, n_sess, sizeof(struct px_session), socket);
	px->sconns = pool_create("srv", w->id, n_sess, sizeof(struct px_sconn), socket);
	px->heads = pool_create("head", w->id, RTE_MIN(n_sess, PX_MAX_HEAD_BUFS),
				p->limits.max_head, socket);
	if (px->stats == NULL || px->sessions == NULL || px->sconns == NULL || px->heads == NULL) {
		snprintf(err, errlen, "worker %u: no memory for the proxy's pools", w->id);
		return -ENOMEM;
	}
	sl_retry_budget_init(&px->budget, &p->retry, rte_rdtsc() / px->tsc_per_us);
	for (unsigned int i = 0; i < p->n_ports; i++) {
		rc = sl_tcp_listen(w, p->ports[i], &sl_px_client_ops, px);
		if (rc != 0) {
			snprintf(err, errlen, "cannot listen on service port %u: %s", p->ports[i],
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void
sl_proxy_worker_stop(struct sl_worker *w)
{
	struct sl_proxy_worker *px = w->proxy;

	if (px == NULL)
		return;
	if (px->locs != NULL) {
		for (unsigned int i = 0; i < px->p->n_locations; i++) {
			if (w->id != 0)
				sl_bal_destroy(px->locs[i].bal);
			rte_free(px->locs[i].backends);
		}
		rte_free(px->locs);
	}
	sl_req_stats_free(px->stats);
	rte_mempool_free(px->sessions);
	rte_mempool_free(px->sconns);
	rte_mempool_free(px->heads);
	rte_free(px);
	w->proxy = NULL;
}

const struct sl_req_stats *
sl_proxy_worker_stats(const struct sl_worker *w)
{
	const struct sl_proxy_worker *px = w->proxy;

	return px != NULL ? px->stats : NULL;
}

const struct sl_bal_live *
sl_proxy_location_live(const struct sl_proxy *p, unsigned int location)
{
	return p != NULL && location < p->n_locations ? p->locs[location].live : NULL;
}
