/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include <openssl/x509.h>

#include "controlplane/backend_health.h"
#include "lib/stats/tls_stats.h"
#include "lib/resilience/outlier.h"

/* One backend's record, owned by the control thread; readers take the lock. */
struct cp_backend {
	char key[SL_CONFIG_NAME_MAX + SL_CONFIG_PATH_MAX + SL_CONFIG_HOST_MAX + 16];
	const char *url;
	struct sl_health h;
	uint32_t flags; /* the live flags the last tick saw */
	enum sl_breaker_state circuit;
	bool ejected;
	uint64_t checks[SL_PROBE_RESULT_MAX];
	uint64_t state_changes, circuit_opens, ejections;
	uint64_t tls_log_us;	  /* the last TLS-failure line (one per SL_CP_TLS_LOG_US) */
	uint64_t tls_unlogged;	  /* failures reported since, not logged */
};

/* Backend TLS handshake failures are logged at most once per backend in this time. */
#define SL_CP_TLS_LOG_US (10u * 1000u * 1000u)

struct sl_cp_health {
	pthread_mutex_t lock;
	const struct sl_config *cfg;
	struct sl_resil_set *rs;
	uint64_t tsc_per_us;
	unsigned int n;
	struct cp_backend *b;
	uint64_t stale; /* notifications of another snapshot, ignored */
	struct sl_plane_view *view; /* followed for new snapshots, or NULL */
};

static uint64_t
now_us(const struct sl_cp_health *h)
{
	/* The workers' clock (rte_rdtsc / tsc_per_us): breakers compare times from both. */
	return rte_rdtsc() / h->tsc_per_us;
}

static struct cp_backend *
table_build(const struct sl_config *cfg, unsigned int *n_out, uint64_t now)
{
	unsigned int n = 0, g = 0;
	struct cp_backend *t;

	for (unsigned int s = 0; s < cfg->n_services; s++)
		for (unsigned int l = 0; l < cfg->services[s].n_locations; l++)
			n += cfg->services[s].locations[l].n_backends;
	t = calloc(n ? n : 1, sizeof(*t));
	if (t == NULL)
		return NULL;
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];

		for (unsigned int l = 0; l < svc->n_locations; l++) {
			const struct sl_config_location *loc = &svc->locations[l];

			for (unsigned int b = 0; b < loc->n_backends; b++, g++) {
				const struct sl_config_backend *be = &loc->backends[b];

				snprintf(t[g].key, sizeof(t[g].key), "%s %s %s:%u", svc->name,
					 loc->path, be->target.host, be->target.port);
				t[g].url = be->url;
				sl_health_init(&t[g].h, &be->health_check, true, now);
			}
		}
	}
	*n_out = n;
	return t;
}

struct sl_cp_health *
sl_cp_health_create(const struct sl_config *cfg, struct sl_resil_set *rs, uint64_t tsc_hz)
{
	struct sl_cp_health *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	h->tsc_per_us = tsc_hz / 1000000 ? tsc_hz / 1000000 : 1;
	h->cfg = cfg;
	h->rs = rs;
	h->b = table_build(cfg, &h->n, now_us(h));
	if (h->b == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

void
sl_cp_health_free(struct sl_cp_health *h)
{
	if (h == NULL)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h->b);
	free(h);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cp_backend *const *)a)[0]->key,
		      ((const struct cp_backend *const *)b)[0]->key);
}

int
sl_cp_health_attach(struct sl_cp_health *h, const struct sl_config *cfg, struct sl_resil_set *rs)
{
	unsigned int n;
	struct cp_backend *t = table_build(cfg, &n, now_us(h));
	struct cp_backend **old = calloc(h->n ? h->n : 1, sizeof(*old));

	if (t == NULL || old == NULL) {
		free(t);
		free(old);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < h->n; i++)
		old[i] = &h->b[i];
	qsort(old, h->n, sizeof(*old), key_cmp);
	for (unsigned int g = 0; g < n; g++) {
		struct cp_backend *k = &t[g], **hit;
		const char *url = k->url;
		struct sl_health fresh = k->h;

		hit = bsearch(&k, old, h->n, sizeof(*old), key_cmp);
		if (hit == NULL)
			continue;
		*k = **hit;
		k->url = url;
		/* The thresholds are the new file's; the state and its reason carry over. */
		k->h.enabled = fresh.enabled;
		k->h.healthy = fresh.healthy;
		k->h.unhealthy = fresh.unhealthy;
		k->flags = 0;
		k->ejected = false;
		k->circuit = SL_BREAKER_CLOSED;
	}
	for (unsigned int g = 0; rs != NULL && g < n && g < rs->n_backends; g++) {
		const struct sl_resil_backend *rb = &rs->b[g];

		sl_bal_live_set_flags(rs->locs[rb->loc].live, rb->idx, sl_health_flags_set(&t[g].h),
				      sl_health_flags_clear(&t[g].h) | SL_RESIL_F_EJECTED);
	}
	pthread_mutex_lock(&h->lock);
	free(h->b);
	h->b = t;
	h->n = n;
	h->cfg = cfg;
	h->rs = rs;
	pthread_mutex_unlock(&h->lock);
	free(old);
	return 0;
}

static void
log_line(const struct cp_backend *b, const char *what, const char *reason)
{
	fprintf(stderr, "sluice: backend %s (%s): %s: %s\n", b->url, b->key, what, reason);
}

void
sl_cp_health_follow(struct sl_cp_health *h, struct sl_plane_view *v)
{
	h->view = v;
}

/* A new snapshot published since the last look: attach to it before touching h->rs. */
static void
refresh(struct sl_cp_health *h)
{
	struct sl_plane_view *v = h->view;

	if (v == NULL)
		return;
	pthread_rwlock_rdlock(&v->lock);
	if (v->resil != h->rs && v->cfg != NULL && sl_cp_health_attach(h, v->cfg, v->resil) != 0)
		fprintf(stderr, "sluice: no memory to carry backend health over the reload\n");
	pthread_rwlock_unlock(&v->lock);
}

void
sl_cp_health_on_evt(void *arg, const struct sl_evt *e)
{
	struct sl_cp_health *h = arg;
	struct cp_backend *b;
	char why[96];

	refresh(h);
	if (h->rs == NULL || e->gen != h->rs->gen || e->backend >= h->n) {
		h->stale++;
		return;
	}
	b = &h->b[e->backend];
	pthread_mutex_lock(&h->lock);
	switch (e->kind) {
	case SL_EVT_PROBE: {
		const struct sl_resil_backend *rb = &h->rs->b[e->backend];
		enum sl_probe_result r =
		    e->arg < SL_PROBE_RESULT_MAX ? (enum sl_probe_result)e->arg : SL_PROBE_BAD_RESPONSE;

		b->checks[r]++;
		if (sl_health_report(&b->h, r, now_us(h)) == SL_HEALTH_T_NONE)
			break;
		sl_bal_live_set_flags(h->rs->locs[rb->loc].live, rb->idx, sl_health_flags_set(&b->h),
				      sl_health_flags_clear(&b->h));
		b->state_changes++;
		log_line(b, b->h.state == SL_HEALTH_UP ? "health up" : "health down", b->h.reason);
		break;
	}
	case SL_EVT_BREAKER:
		if (e->arg == SL_BREAKER_T_OPENED || e->arg == SL_BREAKER_T_REOPENED)
			b->circuit_opens++;
		b->circuit = sl_breaker_state(&h->rs->b[e->backend].breaker);
		snprintf(why, sizeof(why), "circuit %s",
			 sl_breaker_transition_name((enum sl_breaker_transition)e->arg));
		log_line(b, why,
			 e->arg == SL_BREAKER_T_OPENED	   ? "consecutive failures or error ratio"
			 : e->arg == SL_BREAKER_T_REOPENED ? "a half-open probe failed"
			 : e->arg == SL_BREAKER_T_CLOSED   ? "half-open probes succeeded"
							   : "open time elapsed");
		break;
	case SL_EVT_EJECTED:
		b->ejections++;
		b->ejected = true;
		log_line(b, "ejected", "consecutive connect failures or 5xx from traffic");
		break;
	case SL_EVT_TLS_FAILED: {
		static const char *const reasons[] = {
#define SL_TLS_FAIL_TEXT(e, name) name,
		    SL_TLS_FAILS(SL_TLS_FAIL_TEXT)
#undef SL_TLS_FAIL_TEXT
		};
		uint64_t now = now_us(h);
		char what[96];

		if (b->tls_log_us != 0 && now - b->tls_log_us < SL_CP_TLS_LOG_US) {
			b->tls_unlogged++;
			break;
		}
		if (b->tls_unlogged)
			snprintf(what, sizeof(what), "TLS handshake failed (and %llu more not logged)",
				 (unsigned long long)b->tls_unlogged);
		else
			snprintf(what, sizeof(what), "TLS handshake failed");
		b->tls_log_us = now;
		b->tls_unlogged = 0;
		if (e->arg < 0x80) {
			snprintf(why, sizeof(why), "certificate verify failed: %s",
				 X509_verify_cert_error_string(e->arg));
			log_line(b, what, why);
		} else {
			log_line(b, what,
				 (e->arg & 0x7f) < SL_TLS_FAIL_N ? reasons[e->arg & 0x7f] : "other");
		}
		break;
	}
	}
	pthread_mutex_unlock(&h->lock);
}

void
sl_cp_health_tick(struct sl_cp_health *h)
{
	struct sl_resil_set *rs;
	uint64_t now = now_us(h);
	unsigned int out[64];

	refresh(h);
	rs = h->rs;
	if (rs == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	for (unsigned int g = 0; g < rs->n_backends && g < h->n; g++) {
		struct sl_resil_backend *rb = &rs->b[g];
		struct sl_bal_live *live = rs->locs[rb->loc].live;
		enum sl_breaker_transition t = sl_breaker_poll(&rb->breaker, now);
		uint32_t f;

		sl_breaker_sync_flags(&rb->breaker, live, rb->idx);
		if (t != SL_BREAKER_T_NONE) {
			struct sl_evt e = {SL_EVT_BREAKER, (uint8_t)t, rs->gen, g};

			pthread_mutex_unlock(&h->lock);
			sl_cp_health_on_evt(h, &e);
			pthread_mutex_lock(&h->lock);
		}
		h->b[g].circuit = sl_breaker_state(&rb->breaker);
		/* Back in rotation (every flag clear again and the circuit closed, so that the
		 * half-open probes are not thinned): slow start from now. */
		f = sl_bal_live_flags(live, rb->idx) & ~SL_BAL_F_DRAINING;
		if (h->b[g].circuit != SL_BREAKER_CLOSED)
			f |= SL_BAL_F_CIRCUIT_OPEN;
		if (h->b[g].flags != 0 && f == 0 && rs->locs[rb->loc].slow.window_us != 0) {
			atomic_store_explicit(&rb->back_us, now, memory_order_relaxed);
			log_line(&h->b[g], "back in rotation", "slow start begins");
		}
		h->b[g].flags = f;
	}
	for (unsigned int l = 0; l < rs->n_locs; l++) {
		struct sl_resil_loc *rl = &rs->locs[l];
		unsigned int k;

		if (rl->outlier == NULL)
			continue;
		do {
			k = sl_outlier_sweep(rl->outlier, now, out, 64);
			for (unsigned int i = 0; i < k; i++) {
				sl_bal_live_set_flags(rl->live, out[i], 0, SL_RESIL_F_EJECTED);
				h->b[rl->base + out[i]].ejected = false;
				log_line(&h->b[rl->base + out[i]], "returned", "ejection time over");
			}
		} while (k == 64);
	}
	pthread_mutex_unlock(&h->lock);
}

/* Backend g's share of its weight while slow start ramps, percent rounded (the 5% floor shows
 * as 5); 100 when it never left, the ramp is over or slow start is off. Under h->lock. */
static uint32_t
slow_start_pct(const struct sl_cp_health *h, unsigned int g)
{
	const struct sl_resil_backend *rb;
	const struct sl_slowstart_cfg *sc;
	uint64_t back, f;

	if (h->rs == NULL || g >= h->rs->n_backends)
		return 100;
	rb = &h->rs->b[g];
	sc = &h->rs->locs[rb->loc].slow;
	back = atomic_load_explicit(&rb->back_us, memory_order_relaxed);
	if (sc->window_us == 0 || back == 0)
		return 100;
	f = sl_slowstart_factor(sc, back, now_us(h));
	return (uint32_t)((f * 100u + SL_SLOWSTART_ONE / 2) / SL_SLOWSTART_ONE);
}

int
sl_cp_health_backend(const struct sl_cp_health *h, unsigned int g, struct sl_cp_backend_health *out)
{
	struct sl_cp_health *m = (struct sl_cp_health *)h;
	int rc = 0;

	if (h == NULL)
		return -ENOENT;
	pthread_mutex_lock(&m->lock);
	/*
	 * Between a reload's publish and the control thread's next refresh, h->rs and h->b are
	 * the retired snapshot's, and sl_dataplane_reap may free that set as soon as no request
	 * uses it: slow_start_pct would read freed memory (an admin thread crashed so, GET
	 * /api/backends right after POST /api/config/reload under load), and g, an index into
	 * the new configuration, would name another backend of the old table. The caller holds
	 * the view's lock, so the view's set is the live one and stays so while we look.
	 */
	if (h->view != NULL && h->view->resil != h->rs) {
		rc = -EAGAIN;
	} else if (g >= h->n) {
		rc = -ENOENT;
	} else {
		const struct cp_backend *b = &h->b[g];

		out->up = b->h.state == SL_HEALTH_UP;
		out->reason = b->h.reason; /* stable while the table lives */
		out->circuit = b->circuit;
		out->ejected = b->ejected;
		memcpy(out->checks, b->checks, sizeof(out->checks));
		out->state_changes = b->state_changes;
		out->circuit_opens = b->circuit_opens;
		out->ejections = b->ejections;
		out->slow_start_pct = slow_start_pct(h, g);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
