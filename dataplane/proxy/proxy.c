/* SPDX-License-Identifier: MIT */
/*
 * The proxy's snapshot (shared, read-only once built) and each worker's part. Everything is
 * allocated here, at start, on the control thread; the sessions (session.c) only take from
 * the worker's mempools.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/net/tcp/tcp.h"
#include "controlplane/tls_ctx.h"
#include "dataplane/worker.h"
#include "proxy_private.h"

static void
free_locs(struct sl_proxy *p)
{
	if (p->locs == NULL)
		return;
	for (unsigned int i = 0; i < p->n_locations; i++) {
		sl_bal_live_free(p->locs[i].live);
		SSL_CTX_free(p->locs[i].be_ctx); /* live SSLs hold their own reference */
		free(p->locs[i].ip);
		free(p->locs[i].port);
	}
	free(p->locs);
	p->locs = NULL;
}

static void
gen_free(struct px_gen *g, unsigned int worker)
{
	if (g == NULL)
		return;
	if (g->locs != NULL) {
		for (unsigned int i = 0; i < g->p->n_locations; i++) {
			/* Worker 0 uses the snapshot's own balancers (protos), freed below. */
			if (worker != 0)
				sl_bal_destroy(g->locs[i].bal);
			for (unsigned int b = 0; g->locs[i].backends != NULL &&
						 b < g->p->locs[i].n_backends;
			     b++)
				px_tls_session_free(g->locs[i].backends[b].tls_sess);
			rte_free(g->locs[i].backends);
		}
		rte_free(g->locs);
	}
	px_admit_gen_fini(g);
	sl_req_stats_free(g->stats);
	px_probes_free(g);
	rte_free(g);
}

void
sl_proxy_free(struct sl_proxy *p)
{
	if (p == NULL)
		return;
	for (unsigned int w = 0; w < SL_MAX_WORKERS; w++)
		gen_free(p->gens[w], w);
	if (p->protos != NULL)
		for (unsigned int i = 0; i < p->n_locations; i++)
			sl_bal_destroy(p->protos[i]);
	free(p->protos);
	sl_resil_set_free(p->resil);
	px_admit_free(p);
	free_locs(p);
	sl_route_free(p->routes);
	free(p->plain);
	sl_config_free(p->own_cfg);
	sl_tls_free(p->tls);
	free(p);
}

int
sl_proxy_tls_build(struct sl_proxy *p, struct sl_tls_tickets *tickets, char *err, size_t errlen)
{
	bool need = false;
	int rc;

	for (unsigned int i = 0; i < p->n_ports; i++)
		need |= p->port_tls[i];
	rc = sl_tls_build(p->cfg, tickets, &p->tls, err, errlen);
	if (rc == 0 && need && p->tls == NULL) {
		snprintf(err, errlen, "%s: a TLS listener without a certificate", p->cfg->file);
		rc = -EINVAL;
	}
	return rc;
}

/*
 * A listener (address, port): plain HTTP or TLS, never both on one. svc: the service it is
 * for, or NULL for a TLS service's plain port (the loader refuses a clash of those already).
 */
static int
add_port(struct sl_proxy *p, const struct sl_config_service *svc, uint32_t addr, uint16_t port,
	 bool tls, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < p->n_ports; i++)
		if (p->ports[i] == port && p->port_addr[i] == addr) {
			if (p->port_tls[i] == tls)
				return 0;
			if (svc != NULL)
				snprintf(err, errlen,
					 "%s:%u:1: service '%s': port %u is %s for another service on "
					 "the same address; one listener serves either plain HTTP or TLS",
					 p->cfg->file, svc->line, svc->name, port,
					 tls ? "plain HTTP" : "TLS");
			else
				snprintf(err, errlen,
					 "%s: port %u is a TLS service's plain-HTTP port (http_port) and "
					 "a TLS port on the same address",
					 p->cfg->file, port);
			return -EINVAL;
		}
	if (p->n_ports == PX_MAX_PORTS) {
		snprintf(err, errlen,
			 "services use more than %u ports; the TCP stack listens on at "
			 "most %u",
			 PX_MAX_PORTS, PX_MAX_PORTS);
		return -EINVAL;
	}
	p->port_addr[p->n_ports] = addr;
	p->port_tls[p->n_ports] = tls;
	p->ports[p->n_ports++] = port;
	return 0;
}

/*
 * A backend's host name to an IPv4 address (network order), on the control thread while the
 * snapshot is built: getaddrinfo (/etc/hosts, then DNS, as nsswitch.conf says), IPv4 only.
 * A name with several addresses takes the first one getaddrinfo gives (its order: /etc/hosts
 * order, RFC 6724 for DNS); the others are not used. -EHOSTUNREACH and a reason in err.
 */
static int
resolve_backend(const struct sl_proxy *p, const struct sl_config_backend *be, uint32_t *ip,
		char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(be->target.host, NULL, &hints, &res);

	if (rc != 0 || res == NULL) {
		snprintf(err, errlen,
			 "%s:%u:%u: backend %s: cannot resolve '%s' to an IPv4 address: %s",
			 p->cfg->file, be->url_line ? be->url_line : be->line, be->url_col, be->url,
			 be->target.host, rc != 0 ? gai_strerror(rc) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		return -EHOSTUNREACH;
	}
	*ip = ((const struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return 0;
}

/*
 * The TLS client context of a location with https backends: shared with an earlier location of
 * the snapshot that has the same verification settings (the CA bundle is parsed once), else
 * made (sl_tls_client_ctx; a CA file OpenSSL cannot read refuses the snapshot).
 */
static int
be_tls_ctx(struct sl_proxy *p, unsigned int id, const struct sl_config_backend_tls *bt,
	   SSL_CTX **out, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < id; i++) {
		const struct px_location *o = &p->locs[i];
		const struct sl_config_backend_tls *ot;

		if (o->be_ctx == NULL || o->cfg == NULL)
			continue;
		ot = &o->cfg->backend_tls;
		if (ot->verify == bt->verify && (!bt->verify || !strcmp(ot->ca_file, bt->ca_file)) &&
		    !strcmp(ot->cert_file, bt->cert_file) && !strcmp(ot->key_file, bt->key_file)) {
			SSL_CTX_up_ref(o->be_ctx);
			*out = o->be_ctx;
			return 0;
		}
	}
	return sl_tls_client_ctx(p->cfg, bt, out, err, errlen);
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

		if (be->target.https && pl->be_ctx == NULL) {
			rc = be_tls_ctx(p, rl->id, &loc->backend_tls, &pl->be_ctx, err, errlen);
			if (rc != 0)
				return rc;
			if (!loc->backend_tls.verify)
				fprintf(stderr,
					"sluice: warning: %s:%u: location %s: backend_tls verify is "
					"false: the certificates of its https backends are not "
					"checked\n",
					p->cfg->file,
					loc->backend_tls.line ? loc->backend_tls.line : loc->line,
					loc->path);
		}
		pl->ip[b] = be->target.ip;
		if (pl->ip[b] == 0) {
			rc = resolve_backend(p, be, &pl->ip[b], err, errlen);
			if (rc != 0)
				return rc;
		}
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
	p->generation = 1;
	p->n_workers = n_workers;
	/* The response parser shares them; lib/http applies max_body to requests only. */
	p->limits =
	    (struct sl_http_limits){cfg->limits.max_request_line, cfg->limits.max_header_size,
				    cfg->limits.max_headers, cfg->limits.max_body};
	sl_retry_cfg_default(&p->retry);
	if (cfg->security.enabled &&
	    (cfg->security.hsts || cfg->security.frame_options != SL_CONFIG_FRAME_NONE ||
	     cfg->security.content_type_options || cfg->security.referrer_policy[0] ||
	     cfg->security.xss_protection)) {
		static const char *const frame[] = {NULL, "DENY", "SAMEORIGIN"};

		p->secure_cfg = (struct sl_http_secure){
		    .hsts = cfg->security.hsts,
		    .hsts_max_age = cfg->security.hsts_max_age,
		    .frame_options = frame[cfg->security.frame_options],
		    .nosniff = cfg->security.content_type_options,
		    .referrer_policy = cfg->security.referrer_policy,
		    .xss = cfg->security.xss_protection,
		};
		p->secure = &p->secure_cfg;
	}
	if (cfg->cors.enabled) {
		const struct sl_config_cors *co = &cfg->cors;

		p->cors_cfg = (struct sl_http_cors){
		    .origins = (const char *const *)co->allowed_origins.items,
		    .n_origins = co->allowed_origins.n,
		    .methods = (const char *const *)co->allowed_methods.items,
		    .n_methods = co->allowed_methods.n,
		    .headers = (const char *const *)co->allowed_headers.items,
		    .n_headers = co->allowed_headers.n,
		    .max_age = co->max_age,
		    .credentials = co->allow_credentials,
		};
		p->cors = &p->cors_cfg;
	}
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

		rc = add_port(p, svc, svc->address, svc->port, svc->tls.enabled, err, errlen);
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
	rc = px_plain_build(p, err, errlen);
	for (unsigned int i = 0; rc == 0 && i < p->n_plain; i++)
		rc = add_port(p, NULL, p->plain[i].addr, p->plain[i].port, false, err, errlen);
	if (rc != 0)
		goto fail;
	{
		struct sl_bal_live *lives[p->n_locations + 1];

		for (unsigned int i = 0; i < p->n_locations; i++)
			lives[i] = p->locs[i].live;
		rc = sl_resil_set_create(cfg, lives, p->n_locations, 1,
					 rte_rdtsc() / (rte_get_tsc_hz() / 1000000), &p->resil);
		if (rc != 0)
			goto fail;
	}
	rc = px_admit_build(p, err, errlen);
	if (rc != 0)
		goto fail;
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

/* Worker w's part of snapshot p: balancers (cloned from worker 0's), pools, counters. */
static struct px_gen *
gen_create(struct sl_proxy *p, unsigned int worker, int socket)
{
	struct px_gen *g;

	g = rte_zmalloc_socket("sl_px_gen", sizeof(*g), RTE_CACHE_LINE_SIZE, socket);
	if (g == NULL)
		return NULL;
	g->p = p;
	g->locs = rte_zmalloc_socket("sl_px_locs", sizeof(*g->locs) * (p->n_locations + 1),
				     RTE_CACHE_LINE_SIZE, socket);
	if (g->locs == NULL)
		goto fail;
	for (unsigned int i = 0; i < p->n_locations; i++) {
		struct px_wloc *wl = &g->locs[i];

		wl->backends =
		    rte_zmalloc_socket("sl_px_be", sizeof(*wl->backends) * p->locs[i].n_backends,
				       RTE_CACHE_LINE_SIZE, socket);
		if (wl->backends == NULL)
			goto fail;
		if (worker == 0)
			wl->bal = p->protos[i];
		else if (sl_bal_clone(p->protos[i], worker, 0x51u + worker * 0x9e3779b9u,
				      &wl->bal) != 0)
			goto fail;
	}
	g->stats = sl_req_stats_create(p->cfg->n_services, p->n_locations, p->n_backends);
	if (g->stats == NULL || px_probes_create(g, worker, socket) != 0 ||
	    px_admit_gen_init(g, p->n_workers) != 0)
		goto fail;
	return g;
fail:
	gen_free(g, worker);
	return NULL;
}

int
sl_proxy_gens_create(struct sl_proxy *p, struct sl_worker *const *workers, unsigned int n,
		     char *err, size_t errlen)
{
	for (unsigned int i = 0; i < n && i < SL_MAX_WORKERS; i++) {
		const struct sl_worker *w = workers[i];

		if (p->gens[w->id] != NULL)
			continue;
		p->gens[w->id] = gen_create(p, w->id, (int)rte_lcore_to_socket_id(w->lcore));
		if (p->gens[w->id] == NULL) {
			snprintf(err, errlen, "worker %u: no memory for the proxy's balancers and "
					      "counters", w->id);
			return -ENOMEM;
		}
		p->gens[w->id]->px = w->proxy;
	}
	return 0;
}

int
sl_proxy_worker_start(struct sl_proxy *p, struct sl_worker *w, char *err, size_t errlen)
{
	int socket = (int)rte_lcore_to_socket_id(w->lcore);
	unsigned int n_sess = RTE_MIN(p->cfg->dataplane.tcp.max_connections, PX_MAX_SESSIONS);
	struct sl_proxy_worker *px;
	int rc;

	/* Without services at start there is no listener: a reload cannot add one. */
	if (p->cfg->n_services == 0)
		return 0;
	px = rte_zmalloc_socket("sl_px", sizeof(*px), RTE_CACHE_LINE_SIZE, socket);
	if (px == NULL)
		return -ENOMEM;
	w->proxy = px;
	px->w = w;
	px->tsc_per_us = w->tsc_per_us ? w->tsc_per_us : 1;
	rc = sl_proxy_gens_create(p, &w, 1, err, errlen);
	if (rc != 0)
		return rc;
	px->gen = p->gens[w->id];
	px->pending = px->gen;
	px->sessions = pool_create("sess", w->id, n_sess, sizeof(struct px_session), socket);
	px->sconns = pool_create("srv", w->id, n_sess, sizeof(struct px_sconn), socket);
	px->heads = pool_create("head", w->id, RTE_MIN(n_sess, PX_MAX_HEAD_BUFS),
				p->limits.max_head, socket);
	/* TLS clients, and as many connections to https backends (their probes included) */
	px->tlss = pool_create("tls", w->id, 2 * n_sess, sizeof(struct px_tls), socket);
	if (px_tls_global_init() != 0) {
		snprintf(err, errlen, "cannot make the TLS BIO method (OpenSSL)");
		return -ENOMEM;
	}
	if (px->sessions == NULL || px->sconns == NULL || px->heads == NULL || px->tlss == NULL) {
		snprintf(err, errlen, "worker %u: no memory for the proxy's pools", w->id);
		return -ENOMEM;
	}
	sl_retry_budget_init(&px->budget, &p->retry, rte_rdtsc() / px->tsc_per_us);
	sl_probe_sched_init(&px->sched, 0x9e3779b97f4a7c15ull * (w->id + 1) ^ rte_rdtsc(),
			    PX_PROBE_JITTER_PCT);
	px->rng = rte_rdtsc() ^ ((uint64_t)w->id << 32);
	if (px_admit_worker_start(px, p, w->id) != 0) {
		snprintf(err, errlen, "worker %u: no memory for the admission tables", w->id);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < p->n_ports; i++) {
		rc = sl_tcp_listen_addr(w, p->port_addr[i], p->ports[i], &sl_px_client_ops, px);
		if (rc != 0) {
			struct in_addr a = {.s_addr = p->port_addr[i]};

			snprintf(err, errlen, "cannot listen on service port %s:%u: %s",
				 p->port_addr[i] ? inet_ntoa(a) : "*", p->ports[i], strerror(-rc));
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
	/* The generations belong to their snapshots (sl_proxy_free); the loop has stopped, so
	 * the current one's probes only let go of their timers and connections. */
	if (px->gen != NULL)
		px_probes_stop(px->gen, false);
	px_admit_worker_stop(px, w->id);
	rte_mempool_free(px->sessions);
	rte_mempool_free(px->sconns);
	rte_mempool_free(px->heads);
	rte_mempool_free(px->tlss);
	rte_free(px);
	w->proxy = NULL;
}

void
sl_proxy_worker_poll(struct sl_worker *w)
{
	struct sl_proxy_worker *px = w->proxy;
	struct px_gen *g, *old;

	if (px == NULL)
		return;
	g = __atomic_load_n(&px->pending, __ATOMIC_ACQUIRE);
	if (likely(g == px->gen))
		return;
	old = px->gen;
	px->gen = g;
	px_probes_stop(old, true);
	px_probes_start(px, g); /* the new snapshot's backends, probed at once */
	sl__px_gen_retire(px, old);
}

void
sl_proxy_publish(struct sl_proxy *next, struct sl_worker *const *workers, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct sl_proxy_worker *px = workers[i]->proxy;

		if (px != NULL)
			__atomic_store_n(&px->pending, next->gens[workers[i]->id],
					 __ATOMIC_RELEASE);
	}
}

bool
sl_proxy_unused(const struct sl_proxy *p)
{
	for (unsigned int w = 0; w < SL_MAX_WORKERS; w++)
		if (p->gens[w] != NULL && !__atomic_load_n(&p->gens[w]->done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

const struct sl_req_stats *
sl_proxy_stats_of(const struct sl_proxy *p, unsigned int worker)
{
	return p != NULL && worker < SL_MAX_WORKERS && p->gens[worker] != NULL
		   ? p->gens[worker]->stats
		   : NULL;
}

/* Location l of p written as (service name, path), or -1 in q. */
static int
location_in(const struct sl_proxy *q, const struct px_location *pl)
{
	const char *svc = pl->rl->service->name;

	for (unsigned int i = 0; i < q->n_locations; i++) {
		const struct px_location *ql = &q->locs[i];

		if (strcmp(ql->rl->service->name, svc) == 0 &&
		    strcmp(ql->cfg->path, pl->cfg->path) == 0)
			return (int)i;
	}
	return -1;
}

unsigned int
sl_proxy_carry_flags(struct sl_proxy *next, const struct sl_proxy *prev)
{
	unsigned int n = 0;

	if (prev == NULL)
		return 0;
	for (unsigned int l = 0; l < next->n_locations; l++) {
		struct px_location *nl = &next->locs[l];
		int o = location_in(prev, nl);

		if (o < 0)
			continue;
		const struct px_location *ol = &prev->locs[o];

		for (unsigned int b = 0; b < nl->n_backends; b++)
			for (unsigned int k = 0; k < ol->n_backends; k++)
				if (strcmp(nl->cfg->backends[b].url, ol->cfg->backends[k].url) == 0) {
					sl_bal_live_set_flags(nl->live, b,
							      sl_bal_live_flags(ol->live, k), 0);
					n++;
					break;
				}
	}
	return n;
}

/* Row r of `from` (a stats block of prev) copied into row `to` of next's block: counters and
 * the histogram, not the gauges (connections of the old pools are not the new pools'). */
static void
seed_row(struct sl_req_stats *dst, unsigned int to, const struct sl_req_stats *src,
	 unsigned int from)
{
	const struct sl_req_row *a = &src->rows[from];
	struct sl_req_row *b = &dst->rows[to];

	for (unsigned int c = 0; c < SL_REQ_CLASS_MAX; c++)
		b->requests[c] = __atomic_load_n(&a->requests[c], __ATOMIC_RELAXED);
	for (unsigned int e = 0; e < SL_PROXY_ERR_MAX; e++)
		b->errors[e] = __atomic_load_n(&a->errors[e], __ATOMIC_RELAXED);
#define SL_SEED_FIELD(f, metric, help) b->f = __atomic_load_n(&a->f, __ATOMIC_RELAXED);
	SL_REQ_COUNTERS(SL_SEED_FIELD)
#undef SL_SEED_FIELD
	sl_hist_add(&dst->hists[to], &src->hists[from]);
}

void
sl_proxy_seed_stats(struct sl_proxy *next, const struct sl_proxy *prev)
{
	const struct sl_config *nc = next->cfg, *pc;

	if (prev == NULL)
		return;
	pc = prev->cfg;
	for (unsigned int w = 0; w < SL_MAX_WORKERS; w++) {
		const struct sl_req_stats *src;
		struct sl_req_stats *dst;

		if (next->gens[w] == NULL || prev->gens[w] == NULL)
			continue;
		src = prev->gens[w]->stats;
		dst = next->gens[w]->stats;
		seed_row(dst, sl_req_row_unrouted(dst), src, sl_req_row_unrouted(src));
		for (unsigned int s = 0; s < nc->n_services; s++)
			for (unsigned int k = 0; k < pc->n_services; k++)
				if (strcmp(nc->services[s].name, pc->services[k].name) == 0)
					seed_row(dst, sl_req_row_service(dst, s), src,
						 sl_req_row_service(src, k));
		for (unsigned int l = 0; l < next->n_locations; l++) {
			const struct px_location *nl = &next->locs[l];
			int o = location_in(prev, nl);

			if (o < 0)
				continue;
			const struct px_location *ol = &prev->locs[o];

			seed_row(dst, sl_req_row_location(dst, l), src,
				 sl_req_row_location(src, (unsigned int)o));
			for (unsigned int b = 0; b < nl->n_backends; b++)
				for (unsigned int k = 0; k < ol->n_backends; k++)
					if (strcmp(nl->cfg->backends[b].url,
						   ol->cfg->backends[k].url) == 0) {
						seed_row(dst,
							 sl_req_row_backend(dst, nl->backend_base + b),
							 src,
							 sl_req_row_backend(src, ol->backend_base + k));
						break;
					}
		}
	}
}

int
sl_proxy_find_backend(const struct sl_proxy *p, const char *service, const char *location,
		      uint32_t ip, uint16_t port, struct sl_bal_live **live, unsigned int *index)
{
	if (p == NULL)
		return -ENOENT;
	for (unsigned int l = 0; l < p->n_locations; l++) {
		const struct px_location *pl = &p->locs[l];

		if (strcmp(pl->rl->service->name, service) != 0 ||
		    strcmp(pl->cfg->path, location) != 0)
			continue;
		for (unsigned int b = 0; b < pl->n_backends; b++)
			if (pl->cfg->backends[b].target.ip == ip &&
			    pl->cfg->backends[b].target.port == port) {
				*live = pl->live;
				*index = b;
				return 0;
			}
		return -ENOENT;
	}
	return -ENOENT;
}

void
sl_proxy_adopt(struct sl_proxy *p, struct sl_config *cfg, uint64_t generation)
{
	p->own_cfg = cfg;
	p->generation = generation;
	p->resil->gen = (uint16_t)generation; /* tags its notifications (lib/msg sl_evt) */
}

unsigned int
sl_proxy_ports(const struct sl_proxy *p, uint16_t *ports, uint32_t *addrs, unsigned int max)
{
	unsigned int n = 0;

	for (; p != NULL && n < p->n_ports && n < max; n++) {
		ports[n] = p->ports[n];
		if (addrs != NULL)
			addrs[n] = p->port_addr[n];
	}
	return n;
}

uint64_t
sl_proxy_generation(const struct sl_proxy *p)
{
	return p != NULL ? p->generation : 0;
}

const struct sl_config *
sl_proxy_config(const struct sl_proxy *p)
{
	return p != NULL ? p->cfg : NULL;
}

const struct sl_req_stats *
sl_proxy_worker_stats(const struct sl_worker *w)
{
	const struct sl_proxy_worker *px = w->proxy;

	return px != NULL ? px->gen->stats : NULL;
}

const struct sl_tls_stats *
sl_proxy_worker_tls_stats(const struct sl_worker *w)
{
	const struct sl_proxy_worker *px = w->proxy;

	return px != NULL ? &px->tls_stats : NULL;
}

const struct sl_tls_stats *
sl_proxy_worker_be_tls_stats(const struct sl_worker *w)
{
	const struct sl_proxy_worker *px = w->proxy;

	return px != NULL ? &px->be_tls_stats : NULL;
}

const struct sl_bal_live *
sl_proxy_location_live(const struct sl_proxy *p, unsigned int location)
{
	return p != NULL && location < p->n_locations ? p->locs[location].live : NULL;
}

void
sl_proxy_worker_tick(struct sl_worker *w)
{
	struct sl_proxy_worker *px = w->proxy;

	/* Armed from the loop, not at start: the stack's clock runs only once the loop does. */
	if (px != NULL && px->gen != NULL && !px->gen->probing)
		px_probes_start(px, px->gen);
}

struct sl_resil_set *
sl_proxy_resil(const struct sl_proxy *p)
{
	return p != NULL ? p->resil : NULL;
}

const struct sl_rl_table *
sl_proxy_rl_table(const struct sl_proxy *p)
{
	return p != NULL ? p->adm.rl : NULL;
}

const struct sl_rl_stats *
sl_proxy_worker_rl_stats(const struct sl_worker *w)
{
	const struct sl_proxy_worker *px = w->proxy;

	return px != NULL ? &px->rl_stats : NULL;
}

void
sl_proxy_worker_drain(struct sl_worker *w)
{
	if (w->proxy != NULL)
		px_drain(w->proxy);
}

unsigned int
sl_proxy_worker_sessions(const struct sl_worker *w)
{
	const struct sl_proxy_worker *px = w->proxy;

	return px != NULL ? __atomic_load_n(&px->n_sessions, __ATOMIC_RELAXED) : 0;
}
