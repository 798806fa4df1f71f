/* SPDX-License-Identifier: MIT */
/*
 * Admission (issue 9): what a request or a connection must pass before it may cost a backend
 * anything. The logic is lib/resilience's; this file builds its shared state at start (on the
 * control thread) and applies it on the workers:
 *   - per client IP rate limit: one GCRA table shared by every worker (ratelimit.h), a bucket
 *     per (client address, scope); a location's scope is the first location of its service
 *     with the same effective rate_limit, so a service-wide limit is one bucket per client
 *     and a location that overrides it has its own;
 *   - concurrency limit with a bounded FIFO queue per service (admission.h): the service's
 *     `queue` block, else the global one;
 *   - open client connections per address (connlimit.h), refused with a RST at accept.
 * Nothing here allocates after start; the hot path is a table lookup and a CAS or two.
 *
 * Across reloads: the two tables are the process's (built at start, sized by the start
 * configuration: limits.rate_limit_table_size and max_connections_per_ip take a restart), so
 * clients keep their buckets and their connection counts; a bucket's scope is a location
 * index of the snapshot. The concurrency limits are the snapshot's: requests in flight on
 * the old one count against its limit until they end, as its waiters wait in its queues.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>

#include "dataplane/net/tcp/tcp.h"
#include "dataplane/worker.h"
#include "proxy_private.h"

/* Open connections a worker can hold (sessions): the per-IP table is sized for all of them. */
static uint64_t
max_open_conns(const struct sl_proxy *p)
{
	uint64_t per = p->cfg->dataplane.tcp.max_connections;

	return (per < PX_MAX_SESSIONS ? per : PX_MAX_SESSIONS) * p->n_workers;
}

static bool
same_rate(const struct sl_config_rate_limit *a, const struct sl_config_rate_limit *b)
{
	return a->enabled == b->enabled && a->requests_per_second == b->requests_per_second &&
	       a->burst == b->burst;
}

int
px_admit_build(struct sl_proxy *p, char *err, size_t errlen)
{
	const struct sl_config *cfg = p->cfg;
	struct px_admit *a = &p->adm;
	bool any_q = false;
	int rc;

	a->rl_params = calloc(p->n_locations + 1, sizeof(*a->rl_params));
	a->rl_scope = calloc(p->n_locations + 1, sizeof(*a->rl_scope));
	if (a->rl_params == NULL || a->rl_scope == NULL)
		return -ENOMEM;
	for (unsigned int l = 0; l < p->n_locations; l++) {
		const struct sl_route_location *rl = p->locs[l].rl;
		const struct sl_config_rate_limit *c = &rl->location->rate_limit;

		if (!c->enabled)
			continue;
		rc = sl_rl_params_from_config(&a->rl_params[l], c, 1);
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: location %s: rate_limit %g/s burst %u is out of range",
				 cfg->file, rl->location->line, rl->location->path,
				 c->requests_per_second, c->burst);
			return rc;
		}
		/* The first location of the service with the same limit names the scope. */
		a->rl_scope[l] = l + 1;
		for (unsigned int k = l - rl->location_index; k < l; k++)
			if (same_rate(&p->locs[k].rl->location->rate_limit, c)) {
				a->rl_scope[l] = a->rl_scope[k];
				break;
			}
	}
	for (unsigned int s = 0; s < cfg->n_services; s++)
		any_q |= cfg->services[s].queue.enabled;
	if (any_q) {
		/* A service whose queue is off gets a disabled one: it admits everything. */
		a->svc = aligned_alloc(64, sizeof(*a->svc) * cfg->n_services);
		if (a->svc == NULL)
			return -ENOMEM;
		for (unsigned int s = 0; s < cfg->n_services; s++)
			sl_adm_shared_init(&a->svc[s], &cfg->services[s].queue);
	}
	return 0;
}

void
px_admit_free(struct sl_proxy *p)
{
	/* p->adm.rl and .conns are the process's: px_admit_worker_stop frees them. */
	free(p->adm.svc);
	free(p->adm.rl_params);
	free(p->adm.rl_scope);
	memset(&p->adm, 0, sizeof(p->adm));
}

int
px_admit_worker_start(struct sl_proxy_worker *px, struct sl_proxy *p, unsigned int worker)
{
	const struct sl_config *cfg = p->cfg;
	uint8_t key[16];
	int rc;

	if (worker == 0) {
		if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
			return -EIO;
		rc = sl_rl_table_create(cfg->limits.rate_limit_table_size, key, &p->adm.rl);
		if (rc == 0 && cfg->limits.max_connections_per_ip > 0)
			rc = sl_cl_table_create(2 * max_open_conns(p),
						cfg->limits.max_connections_per_ip, key, &p->adm.conns);
		if (rc != 0)
			return rc;
	}
	px->rl = p->adm.rl;
	px->conns = p->adm.conns;
	return 0;
}

void
px_admit_worker_stop(struct sl_proxy_worker *px, unsigned int worker)
{
	if (worker == 0) {
		sl_rl_table_free(px->rl);
		sl_cl_table_free(px->conns);
	}
	px->rl = NULL;
	px->conns = NULL;
}

int
px_admit_gen_init(struct px_gen *g, unsigned int n_workers)
{
	const struct sl_proxy *p = g->p;

	sl_tcp_timer_init(&g->adm_timer, px_admit_pump);
	if (p->adm.svc == NULL)
		return 0;
	g->adm = calloc(p->cfg->n_services, sizeof(*g->adm));
	if (g->adm == NULL)
		return -ENOMEM;
	for (unsigned int s = 0; s < p->cfg->n_services; s++) {
		int rc = sl_adm_queue_init(&g->adm[s], &p->adm.svc[s], n_workers);

		if (rc != 0)
			return rc;
	}
	return 0;
}

void
px_admit_gen_fini(struct px_gen *g)
{
	if (g->adm == NULL)
		return;
	for (unsigned int s = 0; s < g->p->cfg->n_services; s++)
		sl_adm_queue_fini(&g->adm[s]);
	free(g->adm);
	g->adm = NULL;
}

/*
 * Now, read at the check: the worker clock is refreshed once per poll iteration, and a worker
 * preempted inside one (two workers sharing a CPU) would charge a bucket that another worker
 * moved on with a stale time, refusing clients under their limit. The TSC is one clock for
 * every lcore; reading it is no system call.
 */
static inline uint64_t
now_us(const struct sl_proxy_worker *px)
{
	return rte_rdtsc() / px->tsc_per_us;
}

int
px_admit_request(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	struct px_gen *g = s->gen;
	const struct px_admit *a = &g->p->adm;
	uint32_t scope = a->rl_scope[s->loc_id];

	if (scope != 0) {
		uint64_t key = (uint64_t)scope << 32 | s->client_ip, wait_us = 0;

		if (!sl_rl_check(px->rl, &a->rl_params[s->loc_id], key, now_us(px), &wait_us,
				 &px->rl_stats)) {
			sl_req_error(g->stats, s->row, SL_PROXY_ERR_RATE_LIMITED);
			sl_req_inc(g->stats, s->row, rate_limited);
			s->retry_after = sl_rl_retry_after_s(wait_us);
			return 429;
		}
	}
	if (g->adm == NULL)
		return 0;
	switch (sl_adm_enter(&g->adm[s->loc->rl->service_index], (uintptr_t)s, now_us(px),
			     &s->adm_ticket)) {
	case SL_ADM_ADMITTED:
		s->adm_slot = true;
		return 0;
	case SL_ADM_QUEUED:
		s->adm_wait = true;
		s->state = SL_SS_QUEUED;
		sl_req_inc(g->stats, s->row, queued);
		sl_req_inc(g->stats, s->row, queue_waits);
		/* Slots freed on other workers are seen by polling while anyone waits here. */
		if (!sl_tcp_timer_armed(&g->adm_timer))
			sl_tcp_timer_arm(px->w, &g->adm_timer, 1);
		return 1;
	default:
		sl_req_error(g->stats, s->row, SL_PROXY_ERR_QUEUE_FULL);
		sl_req_inc(g->stats, s->row, queue_rejected);
		s->retry_after = 1;
		return 503;
	}
}

void
px_admit_leave(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	struct px_gen *g = s->gen;
	struct sl_adm_queue *q = &g->adm[s->loc->rl->service_index];

	if (s->adm_wait) {
		sl_adm_cancel(q, s->adm_ticket);
		sl_req_dec(g->stats, s->row, queued);
		s->adm_wait = false;
	}
	if (s->adm_slot) {
		sl_adm_release(q);
		s->adm_slot = false;
		/* A waiter of this worker may take the slot: at the next poll, not from inside
		 * whatever ended this request. */
		if (q->n_live > 0)
			sl_tcp_timer_arm(px->w, &g->adm_timer, 0);
	}
}

int
px_admit_conn(struct sl_proxy_worker *px, uint32_t ip)
{
	if (px->conns == NULL)
		return 0;
	switch (sl_cl_acquire(px->conns, ip)) {
	case SL_CL_ADMITTED:
		return 1;
	case SL_CL_UNTRACKED:
		return 0;
	default:
		sl_req_inc(px->gen->stats, sl_req_row_unrouted(px->gen->stats), conns_refused);
		return -ECONNREFUSED;
	}
}

void
px_admit_conn_release(struct sl_proxy_worker *px, uint32_t ip)
{
	sl_cl_release(px->conns, ip);
}
