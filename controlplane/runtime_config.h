/* SPDX-License-Identifier: MIT */
#ifndef SL_RUNTIME_CONFIG_H
#define SL_RUNTIME_CONFIG_H

/*
 * The running configuration as the control plane keeps it: the file last loaded, the admin
 * API's runtime overrides (backend_overrides.h) and the stable backend ids. Every change
 * (reload, POST / PATCH weight / DELETE of a backend) builds a new tree = file + overrides
 * and hands it to the data plane (sl_plane_view.apply: a new RCU-published snapshot). Drain
 * and enable/disable are live flags, set at once on the running snapshot.
 *
 * Any control-plane thread (civetweb's handlers, the control loop on SIGHUP); one mutex
 * serialises them. Nothing here touches a worker ring.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config/config.h"
#include "lib/msg/msg.h"

struct sl_cp_runtime;

/* path: the file to reload (NULL: the built-in config, which reloads as itself). */
int sl_cp_runtime_create(struct sl_plane_view *v, const char *path, const struct sl_config *start,
			 struct sl_cp_runtime **out);
void sl_cp_runtime_free(struct sl_cp_runtime *rt);

/* The backend health table (backend_health.h) the backend objects take health_reason, a
 * half-open circuit and slow start from; without one they show the shared flags only. */
struct sl_cp_health;
void sl_cp_runtime_health(struct sl_cp_runtime *rt, const struct sl_cp_health *h);

/*
 * Reload the file. 0 with a summary object, or -errno with a sentence in err: the loader's
 * file:line:col message, the key that needs a restart, what the proxy cannot serve. A refused
 * reload changes nothing.
 */
int sl_cp_runtime_reload(struct sl_cp_runtime *rt, json_t **summary, char *err, size_t errlen);

/* sluice_config_reloads_total{result="ok"|"failed"}: the reloads above, by outcome, and
 * sluice_config_last_reload_successful (0 after a refused one, else 1). arg is the runtime
 * (sl_api_metrics_extra's signature). */
struct sl_prom;
int sl_cp_runtime_metrics(void *arg, struct sl_prom *p);

/* The control loop, every tick: removes deleted backends once their requests finished. */
void sl_cp_runtime_tick(struct sl_cp_runtime *rt);

/* {"backends": [...]} (API_BACKENDS.md), service NULL for all. */
json_t *sl_cp_runtime_backends(struct sl_cp_runtime *rt, const char *service);
/* {"services": [...]} */
json_t *sl_cp_runtime_services(struct sl_cp_runtime *rt);
/* The running configuration, normalised, secrets redacted. */
json_t *sl_cp_runtime_config(struct sl_cp_runtime *rt);

/*
 * Backend changes. Each returns an HTTP status (201, 200, 202 on success; 400, 404, 409, 500)
 * with *obj the backend object (success) or NULL and a sentence in err.
 */
int sl_cp_runtime_add(struct sl_cp_runtime *rt, const char *service, const char *location,
		      const char *url, int64_t weight, int64_t max_connections, json_t **obj,
		      char *err, size_t errlen);
struct sl_cp_patch {
	bool has_weight, has_drain, has_enabled;
	int64_t weight;
	bool drain, enabled;
};
int sl_cp_runtime_patch(struct sl_cp_runtime *rt, uint64_t id, const struct sl_cp_patch *p,
			json_t **obj, char *err, size_t errlen);
int sl_cp_runtime_delete(struct sl_cp_runtime *rt, uint64_t id, json_t **obj, char *err,
			 size_t errlen);

#endif
