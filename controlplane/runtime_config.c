/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controlplane/backend_health.h"
#include "controlplane/backend_overrides.h"
#include "controlplane/runtime_config.h"
#include "lib/balance/balance.h"
#include "lib/stats/prom.h"
#include "lib/stats/req_stats.h"

/* A backend's identity across snapshots: (service, location, url) -> a stable id. */
struct ident {
	char service[SL_CONFIG_NAME_MAX];
	char location[SL_CONFIG_PATH_MAX];
	char url[SL_CONFIG_URL_MAX];
	uint64_t id;
	bool runtime;  /* added or changed through the API */
	bool deleting; /* DELETE seen: removed once its requests finished */
};

struct sl_cp_runtime {
	pthread_mutex_t mu;
	struct sl_plane_view *v;
	char path[SL_CONFIG_PATH_MAX]; /* "" = built-in */
	struct sl_config *file;	       /* the file as last loaded */
	struct sl_config *running;     /* file + overrides: what the snapshot was built from */
	struct sl_cp_override ov[SL_CP_MAX_OVERRIDES];
	unsigned int n_ov;
	struct ident *ids;
	unsigned int n_ids, cap_ids;
	uint64_t next_id;
	uint64_t reloads;
	uint64_t reloads_failed; /* refused: the file, a restart-only key, the proxy */
	bool last_reload_failed; /* the file on disk is not what runs */
	const struct sl_cp_health *health; /* NULL: health, circuit and ejection from the flags */
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct ident *
ident_find(struct sl_cp_runtime *rt, const char *svc, const char *loc, const char *url)
{
	for (unsigned int i = 0; i < rt->n_ids; i++) {
		struct ident *d = &rt->ids[i];

		if (strcmp(d->url, url) == 0 && strcmp(d->location, loc) == 0 &&
		    strcmp(d->service, svc) == 0)
			return d;
	}
	return NULL;
}

static struct ident *
ident_get(struct sl_cp_runtime *rt, const char *svc, const char *loc, const char *url)
{
	struct ident *d = ident_find(rt, svc, loc, url);

	if (d != NULL)
		return d;
	if (rt->n_ids == rt->cap_ids) {
		unsigned int cap = rt->cap_ids ? rt->cap_ids * 2 : 64;
		struct ident *n = realloc(rt->ids, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		rt->ids = n;
		rt->cap_ids = cap;
	}
	d = &rt->ids[rt->n_ids++];
	memset(d, 0, sizeof(*d));
	snprintf(d->service, sizeof(d->service), "%s", svc);
	snprintf(d->location, sizeof(d->location), "%s", loc);
	snprintf(d->url, sizeof(d->url), "%s", url);
	d->id = rt->next_id++;
	return d;
}

/* Give every backend of the running tree its id (new ones get the next number). */
static void
assign_ids(struct sl_cp_runtime *rt)
{
	const struct sl_config *c = rt->running;

	for (unsigned int s = 0; s < c->n_services; s++)
		for (unsigned int l = 0; l < c->services[s].n_locations; l++) {
			const struct sl_config_location *loc = &c->services[s].locations[l];

			for (unsigned int b = 0; b < loc->n_backends; b++)
				ident_get(rt, c->services[s].name, loc->path, loc->backends[b].url);
		}
}

/* Where backend `id` is in the running tree: global location index and index in it. */
struct where {
	unsigned int s, l, b;
	unsigned int gloc;  /* global location index (file order) */
	unsigned int gback; /* global backend index */
	struct ident *d;
};

static int
locate(struct sl_cp_runtime *rt, uint64_t id, struct where *w)
{
	const struct sl_config *c = rt->running;
	unsigned int gl = 0, gb = 0;

	for (unsigned int s = 0; s < c->n_services; s++)
		for (unsigned int l = 0; l < c->services[s].n_locations; l++, gl++) {
			const struct sl_config_location *loc = &c->services[s].locations[l];

			for (unsigned int b = 0; b < loc->n_backends; b++, gb++) {
				struct ident *d = ident_find(rt, c->services[s].name, loc->path,
							     loc->backends[b].url);

				if (d != NULL && d->id == id) {
					*w = (struct where){s, l, b, gl, gb, d};
					return 0;
				}
			}
		}
	return -ENOENT;
}

/* locate(), with the sentence for a 404 when there is no such id. */
static int
locate_or_say(struct sl_cp_runtime *rt, uint64_t id, struct where *w, char *err, size_t errlen)
{
	if (locate(rt, id, w) == 0)
		return 0;
	snprintf(err, errlen, "no backend with id %llu (GET /api/backends lists them)",
		 (unsigned long long)id);
	return -ENOENT;
}

/* The live state of the running snapshot's location gl (caller holds the view's lock). */
static struct sl_bal_live *
live_of(struct sl_cp_runtime *rt, unsigned int gl)
{
	const struct sl_plane_view *v = rt->v;

	return v->bal_live ? (struct sl_bal_live *)v->bal_live(v->proxy, gl) : NULL;
}

/* One backend as API_BACKENDS.md has it (caller holds rt->mu and the view's read lock). */
static json_t *
backend_json(struct sl_cp_runtime *rt, const struct where *w)
{
	const struct sl_config_service *svc = &rt->running->services[w->s];
	const struct sl_config_location *loc = &svc->locations[w->l];
	const struct sl_config_backend *be = &loc->backends[w->b];
	const struct sl_bal_live *live = live_of(rt, w->gloc);
	uint32_t f = 0, inflight = 0;
	uint64_t requests = 0, open = 0, idle = 0;
	const char *state;
	struct sl_cp_backend_health h;
	json_t *o;

	if (live != NULL && w->b < live->n_backends) {
		f = sl_bal_live_flags(live, w->b);
		inflight = sl_bal_live_inflight(live, w->b);
	}
	for (unsigned int k = 0; k < rt->v->n_workers; k++) {
		const struct sl_req_stats *st = rt->v->req_stats[k];
		unsigned int row;

		if (st == NULL || w->gback >= st->n_backends)
			continue;
		row = sl_req_row_backend(st, w->gback);
		for (unsigned int c = 0; c < SL_REQ_CLASS_MAX; c++)
			requests += __atomic_load_n(&st->rows[row].requests[c], __ATOMIC_RELAXED);
		open += __atomic_load_n(&st->rows[row].open_conns, __ATOMIC_RELAXED);
		idle += __atomic_load_n(&st->rows[row].idle_conns, __ATOMIC_RELAXED);
	}
	if (f & SL_BAL_F_DISABLED)
		state = "disabled";
	else if (f & SL_BAL_F_DRAINING)
		state = "draining";
	else if (f & SL_BAL_F_DOWN)
		state = "down";
	else if (f & SL_BAL_F_CIRCUIT_OPEN)
		state = "circuit_open";
	else if (f & SL_RESIL_F_EJECTED)
		state = "ejected";
	else
		state = "up";
	o = json_pack(
	    "{s:I, s:s, s:s, s:s, s:I, s:I, s:b, s:b, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:s}",
	    "id", (json_int_t)w->d->id, "service", svc->name, "location", loc->path, "url", be->url,
	    "weight", (json_int_t)be->weight, "max_connections", (json_int_t)be->max_connections,
	    "enabled", !(f & SL_BAL_F_DISABLED), "draining", !!(f & SL_BAL_F_DRAINING), "state",
	    state, "health",
	    !be->health_check.enabled ? "unknown"
	    : (f & SL_BAL_F_DOWN)     ? "down"
				      : "up",
	    "circuit", f & SL_BAL_F_CIRCUIT_OPEN ? "open" : "closed", "ejected",
	    !!(f & SL_RESIL_F_EJECTED), "inflight", (json_int_t)inflight, "open_connections",
	    (json_int_t)(int64_t)open, "pool_idle", (json_int_t)(int64_t)idle, "requests",
	    (json_int_t)requests, "source", w->d->runtime ? "runtime" : "config");
	/* The health table's view: why the health last changed, a half-open circuit, slow start. */
	if (o != NULL && sl_cp_health_backend(rt->health, w->gback, &h) == 0) {
		static const char *const circ[] = {
		    [SL_BREAKER_CLOSED] = "closed",
		    [SL_BREAKER_OPEN] = "open",
		    [SL_BREAKER_HALF_OPEN] = "half_open",
		};

		json_object_set_new(o, "circuit", json_string(circ[h.circuit]));
		json_object_set_new(o, "health_reason", json_string(h.reason));
		json_object_set_new(o, "slow_start_percent", json_integer(h.slow_start_pct));
		json_object_set_new(o, "ejections", json_integer((json_int_t)h.ejections));
		json_object_set_new(o, "circuit_opens", json_integer((json_int_t)h.circuit_opens));
	}
	return o;
}

static json_t *
backend_by_id(struct sl_cp_runtime *rt, uint64_t id)
{
	struct where w;
	json_t *o = NULL;

	if (locate(rt, id, &w) != 0)
		return NULL;
	pthread_rwlock_rdlock(&rt->v->lock);
	o = backend_json(rt, &w);
	pthread_rwlock_unlock(&rt->v->lock);
	return o;
}

/*
 * Build file + overrides and publish it. On success the running tree is replaced and
 * `dropped` (if not NULL) lists the overrides that no longer apply (they are forgotten).
 */
static int
rebuild(struct sl_cp_runtime *rt, const struct sl_config *file, json_t *dropped, char *err,
	size_t errlen)
{
	unsigned int skipped[SL_CP_MAX_OVERRIDES], n_skipped = 0;
	struct sl_config *eff = sl_config_dup(file), *copy = NULL;
	int rc;

	if (eff == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sl_cp_overrides_apply(eff, rt->ov, rt->n_ov, skipped, &n_skipped, err, errlen);
	if (rc == 0) {
		copy = sl_config_dup(eff);
		if (copy == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc == 0)
		rc = rt->v->apply ? rt->v->apply(rt->v->dp, eff, err, errlen) : -ENOTSUP;
	if (rc != 0) {
		if (rc == -ENOTSUP && err[0] == '\0')
			snprintf(err, errlen, "the data plane cannot be reconfigured");
		sl_config_free(eff);
		sl_config_free(copy);
		return rc;
	}
	/* Overrides whose service, location or backend went away are dropped, and said so. */
	for (unsigned int i = n_skipped; i-- > 0;) {
		const struct sl_cp_override *o = &rt->ov[skipped[i]];

		if (dropped != NULL)
			json_array_append_new(
			    dropped, json_pack("{s:s, s:s, s:s, s:s}", "service", o->service,
					       "location", o->location, "url", o->url, "change",
					       o->kind == SL_CP_OV_ADD	 ? "added"
					       : o->kind == SL_CP_OV_SET ? "changed"
									 : "removed"));
		memmove(&rt->ov[skipped[i]], &rt->ov[skipped[i] + 1],
			(rt->n_ov - skipped[i] - 1) * sizeof(rt->ov[0]));
		rt->n_ov--;
	}
	sl_config_free(rt->running);
	rt->running = copy;
	assign_ids(rt);
	return 0;
}

int
sl_cp_runtime_create(struct sl_plane_view *v, const char *path, const struct sl_config *start,
		     struct sl_cp_runtime **out)
{
	struct sl_cp_runtime *rt = calloc(1, sizeof(*rt));

	*out = NULL;
	if (rt == NULL)
		return -ENOMEM;
	pthread_mutex_init(&rt->mu, NULL);
	rt->v = v;
	rt->next_id = 1;
	snprintf(rt->path, sizeof(rt->path), "%s", path ? path : "");
	rt->file = sl_config_dup(start);
	rt->running = sl_config_dup(start);
	if (rt->file == NULL || rt->running == NULL) {
		sl_cp_runtime_free(rt);
		return -ENOMEM;
	}
	assign_ids(rt);
	*out = rt;
	return 0;
}

void
sl_cp_runtime_health(struct sl_cp_runtime *rt, const struct sl_cp_health *h)
{
	pthread_mutex_lock(&rt->mu);
	rt->health = h;
	pthread_mutex_unlock(&rt->mu);
}

void
sl_cp_runtime_free(struct sl_cp_runtime *rt)
{
	if (rt == NULL)
		return;
	sl_config_free(rt->file);
	sl_config_free(rt->running);
	free(rt->ids);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}

int
sl_cp_runtime_reload(struct sl_cp_runtime *rt, json_t **summary, char *err, size_t errlen)
{
	struct sl_config_error cerr;
	struct sl_config *file = NULL;
	json_t *dropped = json_array();
	uint64_t t0 = mono_ms();
	unsigned int n_ov;
	int rc;

	*summary = NULL;
	err[0] = '\0';
	pthread_mutex_lock(&rt->mu);
	if (rt->path[0] != '\0')
		rc = sl_config_load_file(rt->path, &file, &cerr);
	else
		rc = sl_config_load_buffer("<built-in tap-demo.yaml>", sl_config_default_yaml,
					   sl_config_default_yaml_len, &file, &cerr);
	if (rc != 0) {
		sl_config_error_format(&cerr, err, errlen);
		goto out;
	}
	n_ov = rt->n_ov;
	rc = rebuild(rt, file, dropped, err, errlen);
	if (rc != 0) {
		sl_config_free(file);
		goto out;
	}
	sl_config_free(rt->file);
	rt->file = file;
	rt->reloads++;
	*summary = json_pack("{s:b, s:s, s:I, s:I, s:I, s:O, s:I}", "reloaded", 1, "file",
			     rt->path[0] ? rt->path : "<built-in tap-demo.yaml>", "generation",
			     (json_int_t)rt->v->generation, "overrides_applied",
			     (json_int_t)(n_ov - json_array_size(dropped)), "overrides_kept",
			     (json_int_t)rt->n_ov, "overrides_dropped", dropped, "took_ms",
			     (json_int_t)(mono_ms() - t0));
out:
	if (rc != 0)
		rt->reloads_failed++;
	rt->last_reload_failed = rc != 0;
	json_decref(dropped);
	pthread_mutex_unlock(&rt->mu);
	return rc;
}

int
sl_cp_runtime_metrics(void *arg, struct sl_prom *p)
{
	struct sl_cp_runtime *rt = arg;
	struct sl_prom_label l;
	uint64_t ok, failed;
	bool last_failed;

	pthread_mutex_lock(&rt->mu);
	ok = rt->reloads;
	failed = rt->reloads_failed;
	last_failed = rt->last_reload_failed;
	pthread_mutex_unlock(&rt->mu);
	sl_prom_begin(p, "sluice_config_reloads_total", SL_PROM_COUNTER,
		      "Configuration reloads (SIGHUP, POST /api/config/reload), by result: ok or "
		      "failed (refused; the running configuration stays).");
	l = (struct sl_prom_label){"result", "ok"};
	sl_prom_u64(p, &l, 1, ok);
	l = (struct sl_prom_label){"result", "failed"};
	sl_prom_u64(p, &l, 1, failed);
	sl_prom_begin(p, "sluice_config_last_reload_successful", SL_PROM_GAUGE,
		      "0 when the last configuration reload was refused (the file on disk is not "
		      "what runs), 1 after a successful one or none.");
	sl_prom_u64(p, NULL, 0, last_failed ? 0 : 1);
	return sl_prom_finish(p);
}

json_t *
sl_cp_runtime_backends(struct sl_cp_runtime *rt, const char *service)
{
	json_t *arr = json_array();
	const struct sl_config *c;
	unsigned int gl = 0, gb = 0;

	pthread_mutex_lock(&rt->mu);
	pthread_rwlock_rdlock(&rt->v->lock);
	c = rt->running;
	for (unsigned int s = 0; s < c->n_services; s++)
		for (unsigned int l = 0; l < c->services[s].n_locations; l++, gl++) {
			const struct sl_config_location *loc = &c->services[s].locations[l];

			for (unsigned int b = 0; b < loc->n_backends; b++, gb++) {
				struct where w = {s, l, b, gl, gb, NULL};

				if (service != NULL && strcmp(service, c->services[s].name) != 0)
					continue;
				w.d = ident_find(rt, c->services[s].name, loc->path,
						 loc->backends[b].url);
				if (w.d != NULL)
					json_array_append_new(arr, backend_json(rt, &w));
			}
		}
	pthread_rwlock_unlock(&rt->v->lock);
	pthread_mutex_unlock(&rt->mu);
	return json_pack("{s:o}", "backends", arr);
}

json_t *
sl_cp_runtime_services(struct sl_cp_runtime *rt)
{
	json_t *arr = json_array();
	const struct sl_config *c;

	pthread_mutex_lock(&rt->mu);
	c = rt->running;
	for (unsigned int s = 0; s < c->n_services; s++) {
		const struct sl_config_service *svc = &c->services[s];
		json_t *locs = json_array();

		for (unsigned int l = 0; l < svc->n_locations; l++) {
			const struct sl_config_location *loc = &svc->locations[l];
			json_t *ids = json_array();

			for (unsigned int b = 0; b < loc->n_backends; b++) {
				struct ident *d =
				    ident_find(rt, svc->name, loc->path, loc->backends[b].url);

				if (d != NULL)
					json_array_append_new(ids, json_integer((json_int_t)d->id));
			}
			json_array_append_new(
			    locs,
			    json_pack("{s:s, s:s, s:o}", "path", loc->path, "lb_policy",
				      sl_config_lb_policy_name(loc->lb_policy), "backends", ids));
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:o}", "name", svc->name,
						     "host", svc->host, "port", (int)svc->port,
						     "locations", locs));
	}
	pthread_mutex_unlock(&rt->mu);
	return json_pack("{s:o}", "services", arr);
}

json_t *
sl_cp_runtime_config(struct sl_cp_runtime *rt)
{
	char *text;
	json_t *o;

	pthread_mutex_lock(&rt->mu);
	text = sl_config_to_json(rt->running); /* jwt_secret is written as "<redacted>" */
	pthread_mutex_unlock(&rt->mu);
	o = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return o;
}

static struct sl_cp_override *
override_find(struct sl_cp_runtime *rt, const struct ident *d)
{
	for (unsigned int i = 0; i < rt->n_ov; i++)
		if (strcmp(rt->ov[i].url, d->url) == 0 &&
		    strcmp(rt->ov[i].location, d->location) == 0 &&
		    strcmp(rt->ov[i].service, d->service) == 0)
			return &rt->ov[i];
	return NULL;
}

int
sl_cp_runtime_add(struct sl_cp_runtime *rt, const char *service, const char *location,
		  const char *url, int64_t weight, int64_t max_connections, json_t **obj, char *err,
		  size_t errlen)
{
	struct sl_cp_override *o;
	struct ident *d;
	unsigned int s, l;
	int status = 201, rc;

	*obj = NULL;
	if (sl_cp_backend_check(url, weight, max_connections, err, errlen) != 0)
		return 400;
	pthread_mutex_lock(&rt->mu);
	if (sl_cp_find_location(rt->running, service, location, &s, &l) != 0) {
		snprintf(err, errlen,
			 "no location '%s' in service '%s' (GET /api/services lists "
			 "them)",
			 location, service);
		status = 404;
		goto out;
	}
	for (unsigned int b = 0; b < rt->running->services[s].locations[l].n_backends; b++)
		if (strcmp(rt->running->services[s].locations[l].backends[b].url, url) == 0) {
			snprintf(err, errlen,
				 "location '%s' of service '%s' has backend %s already", location,
				 service, url);
			status = 409;
			goto out;
		}
	if (rt->n_ov == SL_CP_MAX_OVERRIDES) {
		snprintf(err, errlen,
			 "%u runtime changes are the most sluice keeps; put them in "
			 "the file and reload",
			 SL_CP_MAX_OVERRIDES);
		status = 409;
		goto out;
	}
	/* A backend of the file removed through the API and now added again: forget the removal. */
	d = ident_find(rt, service, location, url);
	o = d ? override_find(rt, d) : NULL;
	if (o == NULL)
		o = &rt->ov[rt->n_ov++];
	*o = (struct sl_cp_override){.kind = SL_CP_OV_ADD,
				     .weight = (uint32_t)weight,
				     .max_connections = (uint32_t)max_connections};
	snprintf(o->service, sizeof(o->service), "%s", service);
	snprintf(o->location, sizeof(o->location), "%s", location);
	snprintf(o->url, sizeof(o->url), "%s", url);
	rc = rebuild(rt, rt->file, NULL, err, errlen);
	if (rc != 0) {
		rt->n_ov--; /* the new entry is the last one */
		status = rc == -ENOMEM ? 500 : 400;
		goto out;
	}
	d = ident_get(rt, service, location, url);
	if (d != NULL) {
		d->runtime = true;
		d->deleting = false;
		*obj = backend_by_id(rt, d->id);
	}
out:
	pthread_mutex_unlock(&rt->mu);
	return status;
}

/* Record a weight change in the override list. */
static int
set_weight(struct sl_cp_runtime *rt, const struct ident *d, uint32_t weight)
{
	struct sl_cp_override *o = override_find(rt, d);

	if (o != NULL && o->kind == SL_CP_OV_ADD) {
		o->weight = weight;
		return 0;
	}
	if (o == NULL) {
		if (rt->n_ov == SL_CP_MAX_OVERRIDES)
			return -ENOSPC;
		o = &rt->ov[rt->n_ov++];
		memset(o, 0, sizeof(*o));
		o->kind = SL_CP_OV_SET;
		snprintf(o->service, sizeof(o->service), "%s", d->service);
		snprintf(o->location, sizeof(o->location), "%s", d->location);
		snprintf(o->url, sizeof(o->url), "%s", d->url);
	}
	o->has_weight = true;
	o->weight = weight;
	return 0;
}

int
sl_cp_runtime_patch(struct sl_cp_runtime *rt, uint64_t id, const struct sl_cp_patch *p,
		    json_t **obj, char *err, size_t errlen)
{
	struct sl_cp_override *saved = NULL;
	unsigned int n_saved;
	struct sl_bal_live *live;
	struct where w;
	int status = 200;

	*obj = NULL;
	if (p->has_weight && sl_cp_backend_check("http://127.0.0.1", p->weight, 0, err, errlen))
		return 400;
	pthread_mutex_lock(&rt->mu);
	if (locate_or_say(rt, id, &w, err, errlen) != 0) {
		status = 404;
		goto out;
	}
	if (p->has_weight &&
	    rt->running->services[w.s].locations[w.l].backends[w.b].weight != (uint32_t)p->weight) {
		struct ident d = *w.d;

		/* Weights live in the balancers' tables: a new snapshot. */
		saved = malloc(sizeof(rt->ov));
		if (saved == NULL) {
			snprintf(err, errlen, "out of memory");
			status = 500;
			goto out;
		}
		memcpy(saved, rt->ov, rt->n_ov * sizeof(rt->ov[0]));
		n_saved = rt->n_ov;
		if (set_weight(rt, &d, (uint32_t)p->weight) != 0) {
			snprintf(err, errlen, "%u runtime changes are the most sluice keeps",
				 SL_CP_MAX_OVERRIDES);
			status = 409;
			goto out;
		}
		if (rebuild(rt, rt->file, NULL, err, errlen) != 0) {
			memcpy(rt->ov, saved, n_saved * sizeof(rt->ov[0]));
			rt->n_ov = n_saved;
			status = 500;
			goto out;
		}
		if (locate(rt, id, &w) != 0) {
			snprintf(err, errlen, "backend %llu vanished", (unsigned long long)id);
			status = 500;
			goto out;
		}
	}
	/* Drain and enable are live flags of the running snapshot: every worker sees them at
	 * its next pick; a reload carries them over. */
	pthread_rwlock_rdlock(&rt->v->lock);
	live = live_of(rt, w.gloc);
	if (live != NULL && w.b < live->n_backends) {
		if (p->has_drain)
			sl_bal_live_set_flags(live, w.b, p->drain ? SL_BAL_F_DRAINING : 0,
					      p->drain ? 0 : SL_BAL_F_DRAINING);
		if (p->has_enabled)
			sl_bal_live_set_flags(live, w.b, p->enabled ? 0 : SL_BAL_F_DISABLED,
					      p->enabled ? SL_BAL_F_DISABLED | SL_BAL_F_DRAINING
							 : 0);
	}
	pthread_rwlock_unlock(&rt->v->lock);
	w.d->runtime = true;
	if ((p->has_enabled && p->enabled) || (p->has_drain && !p->drain))
		w.d->deleting = false; /* taken back before its removal */
	*obj = backend_by_id(rt, id);
out:
	pthread_mutex_unlock(&rt->mu);
	free(saved);
	return status;
}

int
sl_cp_runtime_delete(struct sl_cp_runtime *rt, uint64_t id, json_t **obj, char *err, size_t errlen)
{
	struct sl_bal_live *live;
	struct where w;
	int status = 202;

	*obj = NULL;
	pthread_mutex_lock(&rt->mu);
	if (locate_or_say(rt, id, &w, err, errlen) != 0) {
		status = 404;
		goto out;
	}
	if (rt->running->services[w.s].locations[w.l].n_backends == 1) {
		snprintf(err, errlen,
			 "backend %llu is the last of location '%s'; a location needs "
			 "one (drain it instead)",
			 (unsigned long long)id, w.d->location);
		status = 409;
		goto out;
	}
	pthread_rwlock_rdlock(&rt->v->lock);
	live = live_of(rt, w.gloc);
	if (live != NULL && w.b < live->n_backends)
		sl_bal_live_set_flags(live, w.b, SL_BAL_F_DRAINING, 0);
	pthread_rwlock_unlock(&rt->v->lock);
	w.d->deleting = true;
	w.d->runtime = true;
	*obj = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "draining");
out:
	pthread_mutex_unlock(&rt->mu);
	return status;
}

/* Remove backend w (its requests are done): drop its ADD override, or record a REMOVE. */
static void
remove_now(struct sl_cp_runtime *rt, const struct where *w)
{
	struct sl_cp_override *o = override_find(rt, w->d);
	struct sl_cp_override *saved = malloc(sizeof(rt->ov));
	unsigned int n_saved = rt->n_ov;
	char err[512], url[SL_CONFIG_URL_MAX];

	if (saved == NULL)
		return;
	snprintf(url, sizeof(url), "%s", w->d->url);
	memcpy(saved, rt->ov, rt->n_ov * sizeof(rt->ov[0]));
	if (o != NULL && o->kind == SL_CP_OV_ADD) {
		memmove(o, o + 1, (size_t)(&rt->ov[rt->n_ov] - (o + 1)) * sizeof(*o));
		rt->n_ov--;
	} else {
		if (o == NULL) {
			if (rt->n_ov == SL_CP_MAX_OVERRIDES) {
				free(saved);
				return;
			}
			o = &rt->ov[rt->n_ov++];
		}
		*o = (struct sl_cp_override){.kind = SL_CP_OV_REMOVE};
		snprintf(o->service, sizeof(o->service), "%s", w->d->service);
		snprintf(o->location, sizeof(o->location), "%s", w->d->location);
		snprintf(o->url, sizeof(o->url), "%s", w->d->url);
	}
	w->d->deleting = false;
	if (rebuild(rt, rt->file, NULL, err, sizeof(err)) != 0) {
		memcpy(rt->ov, saved, n_saved * sizeof(rt->ov[0]));
		rt->n_ov = n_saved;
		fprintf(stderr, "sluice: cannot remove backend %s: %s\n", url, err);
	}
	free(saved);
}

void
sl_cp_runtime_tick(struct sl_cp_runtime *rt)
{
	pthread_mutex_lock(&rt->mu);
	for (unsigned int i = 0; i < rt->n_ids; i++) {
		struct where w;
		const struct sl_bal_live *live;
		uint32_t inflight = 0;

		if (!rt->ids[i].deleting)
			continue;
		if (locate(rt, rt->ids[i].id, &w) != 0) {
			rt->ids[i].deleting = false;
			continue;
		}
		pthread_rwlock_rdlock(&rt->v->lock);
		live = live_of(rt, w.gloc);
		if (live != NULL && w.b < live->n_backends)
			inflight = sl_bal_live_inflight(live, w.b);
		pthread_rwlock_unlock(&rt->v->lock);
		if (inflight == 0) {
			remove_now(rt, &w);
			break; /* the tree changed under the loop; the next tick goes on */
		}
	}
	pthread_mutex_unlock(&rt->mu);
}
