/* SPDX-License-Identifier: MIT */
#ifndef SL_CP_BACKEND_HEALTH_H
#define SL_CP_BACKEND_HEALTH_H

/*
 * The control plane's view of every backend's health (issue 9), on the control thread:
 *  - active checks: the workers' probe results (lib/msg SL_EVT_PROBE) go through each
 *    backend's threshold state (lib/resilience sl_health); a transition sets or clears
 *    SL_BAL_F_DOWN in the shared live state;
 *  - the tick: sl_breaker_poll + sync for every backend (open -> half-open), the outlier
 *    sweep (ejections that ended), and slow start: a backend whose flags went from non-zero
 *    to zero starts its ramp (sl_resil_backend.back_us);
 *  - every state change is logged once, with its reason, and counted for /metrics.
 * States are keyed by (service, location, backend host:port): sl_cp_health_attach carries
 * them over to the resilience set of a reloaded snapshot.
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/config/config.h"
#include "lib/msg/msg.h"
#include "lib/resilience/backend_set.h"
#include "lib/resilience/health.h"

struct sl_cp_health;

/* What /metrics and /api/stats show of backend g; counters only grow. */
struct sl_cp_backend_health {
	bool up;
	const char *reason; /* why the last health transition happened */
	enum sl_breaker_state circuit;
	bool ejected;
	uint64_t checks[SL_PROBE_RESULT_MAX];
	uint64_t state_changes;	 /* health up/down transitions */
	uint64_t circuit_opens;	 /* closed or half-open -> open */
	uint64_t ejections;	 /* outlier ejections */
	uint32_t slow_start_pct; /* share of its weight while slow start ramps; 100 otherwise */
};

/* For cfg's backends (file order) and rs (may be NULL: no proxy). NULL on no memory. */
struct sl_cp_health *sl_cp_health_create(const struct sl_config *cfg, struct sl_resil_set *rs,
					 uint64_t tsc_hz);
void sl_cp_health_free(struct sl_cp_health *h);

/*
 * A reloaded snapshot: cfg and rs replace the old ones; backends with the same (service,
 * location, host:port) keep their health state and counters, and their DOWN flag is
 * published into rs (set or cleared); new ones start as configured backends do. Ejections
 * do not carry over (rs's outlier pools start empty): the flag is cleared. 0 or -ENOMEM.
 */
int sl_cp_health_attach(struct sl_cp_health *h, const struct sl_config *cfg,
			struct sl_resil_set *rs);

/*
 * Follow the snapshots the data plane publishes: before it handles a notification or ticks,
 * h compares v->resil with its own (under v->lock) and attaches to a new one. Control thread.
 */
void sl_cp_health_follow(struct sl_cp_health *h, struct sl_plane_view *v);

/* lib/msg sl_plane_view.on_evt: a worker's notification (control thread). */
void sl_cp_health_on_evt(void *h, const struct sl_evt *e);

/* Time-driven work, every control-loop iteration (control thread). */
void sl_cp_health_tick(struct sl_cp_health *h);

/* Backend g's state for the API (any thread, holding the followed view's lock for reading;
 * values may be one tick old). -ENOENT past the end; -EAGAIN between a reload and the
 * control thread's next look at it (the table is still the retired snapshot's). */
int sl_cp_health_backend(const struct sl_cp_health *h, unsigned int g,
			 struct sl_cp_backend_health *out);

#endif
