/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <rte_mempool.h>

#include "controlplane/api_metrics.h"
#include "controlplane/backend_health.h"
#include "controlplane/stats_json.h"
#include "lib/accesslog/accesslog.h"
#include "lib/balance/balance.h"
#include "lib/resilience/outlier.h"
#include "lib/resilience/ratelimit.h"
#include "lib/stats/hist.h"
#include "lib/stats/metrics.h"

/*
 * Set at register; the names follow the running configuration: a handler that finds the view
 * at another generation (a reload) rebuilds them from the view's tree, under mu.
 */
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t generation;
	struct sl_config *cfg; /* our copy of the tree the names point into */
	const struct sl_plane_view *view;
	struct sl_cp_live *live;
	unsigned int n_services, n_locations, n_backends;
	const char **services, **locations, **backends;
	unsigned int *location_service, *backend_location;
	unsigned int *location_base; /* global index of each location's first backend */
	uint32_t *weights;	     /* configured weight of each backend */
	struct sl_metrics_names names;
	const struct sl_cp_health *health;
} M;

static int view_enter(void);
static void view_leave(void);
void
sl_api_metrics_health(const struct sl_cp_health *h)
{
	M.health = h;
}

_Static_assert(SL_PROBE_RESULT_MAX == SL_METRICS_CHECK_RESULTS,
	       "lib/stats names one check result per enum sl_probe_result");

/* The proxy's blocks summed into a private block, or NULL (no proxy, or no memory). */
static struct sl_req_stats *
merge_requests(const struct sl_plane_view *v)
{
	const struct sl_req_stats *src[SL_MAX_WORKERS];
	struct sl_req_stats *sum;
	unsigned int n = 0;

	for (unsigned int w = 0; w < v->n_workers; w++)
		if (v->req_stats[w] != NULL)
			src[n++] = v->req_stats[w];
	if (n == 0)
		return NULL;
	/* Names come from the file: export only a block laid out for them. */
	if (src[0]->n_services != M.n_services || src[0]->n_locations != M.n_locations ||
	    src[0]->n_backends != M.n_backends)
		return NULL;
	sum = sl_req_stats_create(M.n_services, M.n_locations, M.n_backends);
	if (sum != NULL && sl_req_stats_merge(sum, src, n) != 0) {
		sl_req_stats_free(sum);
		return NULL;
	}
	return sum;
}

/* Backend b's live state (health, drain, circuit flags, in flight); -ENOENT without a proxy. */
static int
backend_state(const struct sl_plane_view *v, unsigned int b, struct sl_metrics_backend *out)
{
	unsigned int l = M.backend_location[b], i = b - M.location_base[l];
	const struct sl_bal_live *live = v->bal_live ? v->bal_live(v->proxy, l) : NULL;
	uint32_t f;

	if (live == NULL || i >= live->n_backends)
		return -ENOENT;
	f = sl_bal_live_flags(live, i);
	*out = (struct sl_metrics_backend){
	    .up = !(f & SL_BAL_F_DOWN),
	    .draining = !!(f & SL_BAL_F_DRAINING),
	    .disabled = !!(f & SL_BAL_F_DISABLED),
	    .weight = M.weights[b],
	    .in_flight = sl_bal_live_inflight(live, i),
	    .circuit =
		f & SL_BAL_F_CIRCUIT_OPEN ? SL_METRICS_CIRCUIT_OPEN : SL_METRICS_CIRCUIT_CLOSED,
	    .ejected = !!(f & SL_RESIL_F_EJECTED),
	};
	struct sl_cp_backend_health h;

	if (sl_cp_health_backend(M.health, b, &h) == 0) {
		static const enum sl_metrics_circuit circ[] = {
		    [SL_BREAKER_CLOSED] = SL_METRICS_CIRCUIT_CLOSED,
		    [SL_BREAKER_OPEN] = SL_METRICS_CIRCUIT_OPEN,
		    [SL_BREAKER_HALF_OPEN] = SL_METRICS_CIRCUIT_HALF_OPEN,
		};

		out->circuit = circ[h.circuit];
		out->health_known = true;
		memcpy(out->checks, h.checks, sizeof(out->checks));
		out->state_changes = h.state_changes;
		out->circuit_opens = h.circuit_opens;
		out->ejections = h.ejections;
		out->reason = h.reason;
	}
	return 0;
}

static int
render_backends(struct sl_prom *p, const struct sl_plane_view *v)
{
	struct sl_metrics_backend *b = calloc(M.n_backends + 1, sizeof(*b));
	int rc = 0;

	if (b == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < M.n_backends && rc == 0; i++)
		rc = backend_state(v, i, &b[i]);
	if (rc == 0 && M.n_backends > 0)
		rc = sl_metrics_backends(p, &M.names, b, M.n_backends);
	free(b);
	return rc == -ENOENT ? 0 : rc; /* no proxy: no backend families */
}

#define MAX_MEMPOOLS 256

struct mempool_walk {
	const struct rte_mempool *skip; /* the mbuf pool, exported as such */
	struct sl_metrics_mempool *out;
	char (*names)[RTE_MEMPOOL_NAMESIZE];
	unsigned int n;
};

/* Every other mempool named sl_<kind>_<worker> (the data plane's per-worker pools). */
static void
mempool_one(struct rte_mempool *mp, void *arg)
{
	struct mempool_walk *wk = arg;
	char *name, *us;

	if (mp == wk->skip || wk->n >= MAX_MEMPOOLS || strncmp(mp->name, "sl_", 3) != 0)
		return;
	name = wk->names[wk->n];
	snprintf(name, RTE_MEMPOOL_NAMESIZE, "%s", mp->name + 3);
	wk->out[wk->n] = (struct sl_metrics_mempool){
	    .name = name, .worker = -1, .size = mp->size, .in_use = rte_mempool_in_use_count(mp)};
	us = strrchr(name, '_');
	if (us != NULL && us[1] != '\0' && strspn(us + 1, "0123456789") == strlen(us + 1)) {
		wk->out[wk->n].worker = atoi(us + 1);
		*us = '\0';
	}
	wk->n++;
}

/* rte_mempool_walk takes the mempool list's read lock: control side only, never a worker's. */
static int
render_mempools(struct sl_prom *p, const struct sl_plane_view *v)
{
	struct mempool_walk wk = {.skip = v->pool};
	int rc;

	wk.out = calloc(MAX_MEMPOOLS, sizeof(*wk.out));
	wk.names = calloc(MAX_MEMPOOLS, sizeof(*wk.names));
	if (wk.out == NULL || wk.names == NULL)
		rc = -ENOMEM;
	else {
		rte_mempool_walk(mempool_one, &wk);
		rc = sl_metrics_mempools(p, wk.out, wk.n);
	}
	free(wk.out);
	free(wk.names);
	return rc;
}

static int
render(struct sl_prom *p, const struct sl_plane_view *v)
{
	struct sl_tcp_stats tcp;
	struct sl_net_stats ports[SL_MAX_PORTS];
	struct sl_metrics_port_hw hw[SL_MAX_PORTS];
	const char *port_names[SL_MAX_PORTS];
	double busy[SL_MAX_WORKERS];
	struct sl_req_stats *req;
	int rc;

	memset(&tcp, 0, sizeof(tcp));
	for (unsigned int w = 0; w < v->n_workers; w++)
		sl_tcp_stats_add(&tcp, v->tcp_stats[w]);
	rc = sl_metrics_tcp(p, &tcp);

	memset(ports, 0, sizeof(ports));
	memset(hw, 0, sizeof(hw));
	for (unsigned int i = 0; i < v->n_ports; i++) {
		struct sl_port_dev_stats d = {0};

		port_names[i] = v->port_names[i];
		for (unsigned int w = 0; w < v->n_workers; w++)
			sl_net_stats_add(&ports[i], v->net_stats[w][i]);
		if (v->dev_stats != NULL && v->dev_stats(v->port_ids[i], &d) == 0)
			hw[i] = (struct sl_metrics_port_hw){.rx_missed = d.imissed,
							    .rx_errors = d.ierrors,
							    .tx_errors = d.oerrors,
							    .rx_nombuf = d.rx_nombuf};
	}
	if (rc == 0)
		rc = sl_metrics_ports(p, port_names, ports, hw, v->n_ports);

	for (unsigned int w = 0; w < v->n_workers; w++)
		busy[w] = (double)__atomic_load_n(v->busy_cycles[w], __ATOMIC_RELAXED) /
			  (double)v->tsc_hz;
	if (rc == 0)
		rc = sl_metrics_workers(p, busy, v->n_workers);
	if (rc == 0 && M.live != NULL) { /* the liveness behind GET /health */
		uint64_t up[SL_MAX_WORKERS];

		for (unsigned int w = 0; w < v->n_workers; w++)
			up[w] = sl_cp_live_alive(M.live, w) ? 1 : 0;
		rc = sl_metrics_workers_up(p, up, v->n_workers);
	}

	if (rc == 0 && v->pool != NULL) {
		const char *name = v->pool->name;
		uint64_t size = v->pool->size;
		uint64_t in_use = rte_mempool_in_use_count(v->pool);

		rc = sl_metrics_mbuf_pools(p, &name, &size, &in_use, 1);
	}
	if (rc == 0 && v->pool != NULL) /* NULL: no data plane (unit tests), no mempools */
		rc = render_mempools(p, v);
	if (rc == 0 && v->rl_table != NULL) { /* a scan of the table's entries (4 MiB at most) */
		struct sl_metrics_rl_table t = {.capacity = sl_rl_table_capacity(v->rl_table),
						.entries = sl_rl_table_used(v->rl_table)};
		struct sl_rl_stats churn; /* and the workers' counters of it, summed */

		sl_rl_stats_sum(&churn, v->rl_stats, v->n_workers);
		t.inserted = churn.inserted;
		t.evicted_full = churn.evicted_full;
		t.evicted_debt = churn.evicted_debt;
		t.untracked = churn.untracked;
		rc = sl_metrics_rate_limit(p, &t);
	}

	if (rc == 0 && v->alog[0] != NULL) {
		uint64_t written[SL_MAX_WORKERS], dropped[SL_MAX_WORKERS], lost[SL_MAX_WORKERS];

		for (unsigned int w = 0; w < v->n_workers; w++) {
			written[w] = sl_alog_written(v->alog[w]);
			dropped[w] = sl_alog_dropped(v->alog[w]);
			lost[w] = sl_alog_lost(v->alog[w]);
		}
		rc = sl_metrics_access_log(p, written, dropped, lost, v->n_workers);
	}

	if (rc == 0 && v->tls_stats[0] != NULL)
		rc = sl_metrics_tls(p, v->tls_stats, v->n_workers);
	if (rc == 0 && v->be_tls_stats[0] != NULL)
		rc = sl_metrics_backend_tls(p, v->be_tls_stats, v->n_workers);

	req = merge_requests(v);
	if (rc == 0 && req != NULL)
		rc =
		    sl_metrics_requests(p, req, &M.names, sl_prom_le_default, sl_prom_n_le_default);
	sl_req_stats_free(req);
	if (rc == 0)
		rc = render_backends(p, v);
	return rc ? rc : sl_prom_finish(p);
}

/* Families other modules render (sl_api_metrics_extra), after the view's, in that order. */
#define MAX_EXTRAS 4
static struct {
	int (*fn)(void *arg, struct sl_prom *p);
	void *arg;
} extras[MAX_EXTRAS];
static unsigned int n_extras;

int
sl_api_metrics_extra(int (*fn)(void *arg, struct sl_prom *p), void *arg)
{
	for (unsigned int i = 0; i < n_extras; i++)
		if (extras[i].fn == fn && extras[i].arg == arg)
			return 0;
	if (n_extras == MAX_EXTRAS)
		return -ENOSPC;
	extras[n_extras].fn = fn;
	extras[n_extras].arg = arg;
	n_extras++;
	return 0;
}

static int
get_metrics(struct sl_admin_req *r)
{
	struct sl_prom p;
	int rc;

	sl_prom_init(&p);
	rc = view_enter();
	if (rc == 0) {
		rc = render(&p, M.view);
		view_leave();
	}
	for (unsigned int i = 0; i < n_extras && rc == 0; i++)
		rc = extras[i].fn(extras[i].arg, &p);
	if (rc != 0) {
		sl_prom_free(&p);
		return sl_admin_reply_error(r, 500, "internal error",
					    "cannot render the metrics: %s", strerror(-rc));
	}
	mg_printf(r->conn,
		  "HTTP/1.1 200 OK\r\n"
		  "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n"
		  "\r\n",
		  p.len);
	mg_write(r->conn, p.buf, p.len);
	sl_prom_free(&p);
	return 200;
}

static json_t *
row_json(const struct sl_req_stats *st, unsigned int row, const char *svc, const char *loc,
	 const char *be)
{
	const struct sl_req_row *rw = &st->rows[row];
	const struct sl_hist *h = &st->hists[row];
	json_t *o = json_object(), *req = json_object(), *errs = json_object(), *d = json_object();
	uint64_t count = sl_hist_count(h);

	json_object_set_new(o, "service", json_string(svc));
	json_object_set_new(o, "location", json_string(loc));
	json_object_set_new(o, "backend", json_string(be));
	for (unsigned int c = 0; c < SL_REQ_CLASS_MAX; c++)
		json_object_set_new(req, sl_req_class_name(c),
				    json_integer((json_int_t)rw->requests[c]));
	for (unsigned int e = 0; e < SL_PROXY_ERR_MAX; e++)
		if (rw->errors[e])
			json_object_set_new(errs, sl_proxy_error_name(e),
					    json_integer((json_int_t)rw->errors[e]));
	json_object_set_new(o, "requests", req);
	json_object_set_new(o, "errors", errs);
#define SL_ROW_JSON(f, metric, help) json_object_set_new(o, #f, json_integer((json_int_t)rw->f));
	SL_REQ_COUNTERS(SL_ROW_JSON)
#undef SL_ROW_JSON
	/* Gauges are sums of per-worker values that may wrap (req_stats.h): read them signed. */
#define SL_ROW_JSON(f, metric, help) json_object_set_new(o, #f, json_integer((int64_t)rw->f));
	SL_REQ_GAUGES(SL_ROW_JSON)
#undef SL_ROW_JSON
	json_object_set_new(d, "count", json_integer((json_int_t)count));
	json_object_set_new(d, "sum_seconds", json_real((double)sl_hist_sum(h) / 1e9));
	json_object_set_new(d, "p50_seconds",
			    count ? json_real((double)sl_hist_quantile(h, 0.50) / 1e9)
				  : json_null());
	json_object_set_new(d, "p95_seconds",
			    count ? json_real((double)sl_hist_quantile(h, 0.95) / 1e9)
				  : json_null());
	json_object_set_new(d, "p99_seconds",
			    count ? json_real((double)sl_hist_quantile(h, 0.99) / 1e9)
				  : json_null());
	json_object_set_new(o, "duration", d);
	return o;
}

/* Rows as metrics.c exports them: backends always, the others once they counted something. */
static json_t *
requests_json(const struct sl_req_stats *st)
{
	json_t *a = json_array();

	if (sl_req_row_used(st, sl_req_row_unrouted(st)))
		json_array_append_new(a, row_json(st, sl_req_row_unrouted(st), "", "", ""));
	for (unsigned int s = 0; s < M.n_services; s++)
		if (sl_req_row_used(st, sl_req_row_service(st, s)))
			json_array_append_new(
			    a, row_json(st, sl_req_row_service(st, s), M.services[s], "", ""));
	for (unsigned int l = 0; l < M.n_locations; l++)
		if (sl_req_row_used(st, sl_req_row_location(st, l)))
			json_array_append_new(a, row_json(st, sl_req_row_location(st, l),
							  M.services[M.location_service[l]],
							  M.locations[l], ""));
	for (unsigned int b = 0; b < M.n_backends; b++) {
		unsigned int l = M.backend_location[b];

		json_t *o =
		    row_json(st, sl_req_row_backend(st, b), M.services[M.location_service[l]],
			     M.locations[l], M.backends[b]);
		struct sl_metrics_backend bs;

		if (backend_state(M.view, b, &bs) == 0) {
			json_object_set_new(o, "up", json_boolean(bs.up));
			json_object_set_new(o, "draining", json_boolean(bs.draining));
			json_object_set_new(o, "weight", json_integer(bs.weight));
			json_object_set_new(o, "in_flight", json_integer((json_int_t)bs.in_flight));
			json_object_set_new(o, "circuit",
					    json_string(sl_metrics_circuit_name(bs.circuit)));
			json_object_set_new(o, "ejected", json_boolean(bs.ejected));
			if (bs.health_known) {
				json_object_set_new(o, "health_reason", json_string(bs.reason));
				json_object_set_new(o, "state_changes",
						    json_integer((json_int_t)bs.state_changes));
			}
		}
		json_array_append_new(a, o);
	}
	return a;
}

/*
 * Every request's duration in one histogram (the rows are disjoint, so their sum is all
 * requests): the nonzero buckets as [upper bound in ns, count]. A client that keeps two of
 * these computes quantiles over the interval between them (the web UI's live percentiles).
 */
static json_t *
latency_json(const struct sl_req_stats *st)
{
	struct sl_hist *h = calloc(1, sizeof(*h));
	json_t *o = json_object(), *b = json_array();

	if (h == NULL)
		return o;
	for (unsigned int r = 0; r < st->n_rows; r++)
		sl_hist_add(h, &st->hists[r]);
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++)
		if (h->buckets[i])
			json_array_append_new(b, json_pack("[I, I]", (json_int_t)sl_hist_upper(i),
							   (json_int_t)h->buckets[i]));
	json_object_set_new(o, "count", json_integer((json_int_t)sl_hist_count(h)));
	json_object_set_new(o, "sum_seconds", json_real((double)sl_hist_sum(h) / 1e9));
	json_object_set_new(o, "buckets", b);
	free(h);
	return o;
}

static int
get_stats(struct sl_admin_req *r)
{
	const struct sl_plane_view *v = M.view;
	json_t *root, *workers;
	struct sl_req_stats *req;

	if (view_enter() != 0)
		return sl_admin_reply_error(r, 500, "internal error", "out of memory");
	root = sl_cp_stats_object(v, false);
	workers = json_object_get(root, "workers");
	req = merge_requests(v);
	/* Each worker's share of the requests (its own counters, every row). */
	for (unsigned int w = 0; w < json_array_size(workers) && w < v->n_workers; w++) {
		const struct sl_req_stats *st = v->req_stats[w];
		uint64_t n = 0;

		for (unsigned int row = 0; st != NULL && row < st->n_rows; row++)
			for (unsigned int c = 0; c < SL_REQ_CLASS_MAX; c++)
				n += __atomic_load_n(&st->rows[row].requests[c], __ATOMIC_RELAXED);
		json_object_set_new(json_array_get(workers, w), "requests",
				    json_integer((json_int_t)n));
	}

	for (unsigned int w = 0; w < json_array_size(workers) && w < v->n_workers; w++) {
		json_t *al;

		if (v->alog[w] == NULL)
			continue;
		al = json_object();
		json_object_set_new(al, "written", json_integer((json_int_t)sl_alog_written(v->alog[w])));
		json_object_set_new(al, "dropped", json_integer((json_int_t)sl_alog_dropped(v->alog[w])));
		json_object_set_new(al, "lost", json_integer((json_int_t)sl_alog_lost(v->alog[w])));
		json_object_set_new(json_array_get(workers, w), "access_log", al);
	}
	if (M.live != NULL)
		for (unsigned int w = 0; w < json_array_size(workers); w++) {
			json_t *o = json_array_get(workers, w);
			bool alive = sl_cp_live_alive(M.live, w);

			json_object_set_new(o, "status",
					    json_string(alive ? "ok" : "not answering"));
			json_object_set_new(o, "last_answer_ms_ago",
					    json_integer((json_int_t)sl_msg_ping_age_ms(
						&M.live->ping[w], sl_cp_now_ns())));
		}
	json_object_set_new(root, "requests", req ? requests_json(req) : json_array());
	json_object_set_new(root, "generation", json_integer((json_int_t)v->generation));
	if (req != NULL)
		json_object_set_new(root, "latency", latency_json(req));
	sl_req_stats_free(req);
	view_leave();
	return sl_admin_reply_json(r, 200, root);
}

static const struct sl_admin_route routes[] = {
    {"GET", "/metrics", get_metrics, SL_ADMIN_PUBLIC},
    {"GET", "/api/stats", get_stats, SL_ADMIN_AUTH},
};

void
sl_api_metrics_fini(void)
{
	sl_config_free(M.cfg);
	free(M.services);
	free(M.locations);
	free(M.backends);
	free(M.location_service);
	free(M.backend_location);
	free(M.location_base);
	free(M.weights);
	memset(&M, 0, sizeof(M));
}

static int
names_build(const struct sl_config *cfg)
{
	const struct sl_plane_view *view = M.view;
	struct sl_cp_live *live = M.live;
	const struct sl_cp_health *health = M.health;
	unsigned int nl = 0, nb = 0;

	sl_api_metrics_fini();
	M.view = view;
	M.live = live;
	M.health = health;
	M.cfg = sl_config_dup(cfg);
	if (M.cfg == NULL)
		return -ENOMEM;
	cfg = M.cfg;
	M.n_services = cfg->n_services;
	for (unsigned int s = 0; s < cfg->n_services; s++)
		for (unsigned int l = 0; l < cfg->services[s].n_locations; l++) {
			nl++;
			nb += cfg->services[s].locations[l].n_backends;
		}
	M.n_locations = nl;
	M.n_backends = nb;
	M.services = calloc(M.n_services + 1, sizeof(*M.services));
	M.locations = calloc(nl + 1, sizeof(*M.locations));
	M.backends = calloc(nb + 1, sizeof(*M.backends));
	M.location_service = calloc(nl + 1, sizeof(*M.location_service));
	M.backend_location = calloc(nb + 1, sizeof(*M.backend_location));
	M.location_base = calloc(nl + 1, sizeof(*M.location_base));
	M.weights = calloc(nb + 1, sizeof(*M.weights));
	if (!M.services || !M.locations || !M.backends || !M.location_service ||
	    !M.backend_location || !M.location_base || !M.weights) {
		sl_api_metrics_fini();
		M.view = view;
		M.live = live;
		return -ENOMEM;
	}
	/* File order: the order the proxy numbers its stats rows in (dataplane/proxy). */
	nl = nb = 0;
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];

		M.services[s] = svc->name;
		for (unsigned int l = 0; l < svc->n_locations; l++, nl++) {
			const struct sl_config_location *loc = &svc->locations[l];

			M.locations[nl] = loc->path;
			M.location_service[nl] = s;
			M.location_base[nl] = nb;
			for (unsigned int b = 0; b < loc->n_backends; b++, nb++) {
				M.backends[nb] = loc->backends[b].url;
				M.backend_location[nb] = nl;
				M.weights[nb] = loc->backends[b].weight;
			}
		}
	}
	M.names = (struct sl_metrics_names){
	    .services = M.services,
	    .locations = M.locations,
	    .location_service = M.location_service,
	    .backends = M.backends,
	    .backend_location = M.backend_location,
	};
	M.generation = view ? view->generation : 0;
	return 0;
}

/*
 * A handler's entry: the view's read lock (the snapshot cannot change under it) and the
 * names of its generation. 0, or -ENOMEM with nothing held.
 */
static int
view_enter(void)
{
	struct sl_plane_view *v = (struct sl_plane_view *)M.view;
	int rc = 0;

	pthread_mutex_lock(&names_mu);
	pthread_rwlock_rdlock(&v->lock);
	if (v->generation != M.generation && v->cfg != NULL)
		rc = names_build(v->cfg);
	if (rc != 0) {
		pthread_rwlock_unlock(&v->lock);
		pthread_mutex_unlock(&names_mu);
	}
	return rc;
}

static void
view_leave(void)
{
	pthread_rwlock_unlock(&((struct sl_plane_view *)M.view)->lock);
	pthread_mutex_unlock(&names_mu);
}

int
sl_api_metrics_register(struct sl_admin_server *srv, const struct sl_plane_view *view,
			const struct sl_config *cfg, struct sl_cp_live *live)
{
	int rc;

	sl_api_metrics_fini();
	M.view = view;
	M.live = live;
	rc = names_build(cfg);
	if (rc != 0)
		return rc;
	return sl_admin_register(srv, routes, sizeof(routes) / sizeof(routes[0]));
}
