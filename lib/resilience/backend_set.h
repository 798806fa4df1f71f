/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_BACKEND_SET_H
#define SL_RESIL_BACKEND_SET_H

/*
 * The resilience state of one snapshot's backends, shared by both planes: a circuit breaker
 * and a slow-start clock per backend, an outlier pool per location, and each location's
 * balancer live state (whose flags every mechanism publishes into, README.md). Built with
 * the proxy snapshot (dataplane/proxy), read by the workers per request and by the control
 * plane's tick (controlplane/backend_health.c). Backends and locations are numbered in file
 * order (the proxy's global indices).
 */

#include <stdatomic.h>
#include <stdint.h>

#include "lib/balance/balance.h"
#include "lib/config/config.h"
#include "lib/resilience/breaker.h"
#include "lib/resilience/outlier.h"
#include "lib/resilience/slowstart.h"

struct sl_resil_backend {
	struct sl_breaker breaker;
	/* When the backend last came back (health up, un-ejected, circuit closed): slow start
	 * runs from here; 0 = never left. Written by the control plane, read by workers. */
	_Atomic uint64_t back_us;
	unsigned int loc; /* global location index */
	unsigned int idx; /* index in its location */
};

struct sl_resil_loc {
	struct sl_bal_live *live;
	unsigned int base; /* global index of its first backend */
	unsigned int n;
	struct sl_outlier_pool *outlier; /* NULL: outlier detection off */
	struct sl_slowstart_cfg slow;	 /* window 0: off */
};

struct sl_resil_set {
	uint16_t gen; /* snapshot generation (lib/msg sl_evt) */
	unsigned int n_locs, n_backends;
	struct sl_resil_loc *locs;
	struct sl_resil_backend *b; /* n_backends */
};

/*
 * Build for cfg's locations in file order; lives[i] is location i's live state (not owned).
 * Breakers closed, nothing ejected, no slow start running. 0, -EINVAL or -ENOMEM.
 */
int sl_resil_set_create(const struct sl_config *cfg, struct sl_bal_live *const *lives,
			unsigned int n_locs, uint16_t gen, uint64_t now_us,
			struct sl_resil_set **out);
void sl_resil_set_free(struct sl_resil_set *s);

/* The configuration of global backend g (and of its location), or NULL past the end. */
const struct sl_config_backend *sl_resil_backend_cfg(const struct sl_config *cfg, unsigned int g,
						     const struct sl_config_service **svc,
						     const struct sl_config_location **loc);

#endif
