/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_OUTLIER_H
#define SL_RESIL_OUTLIER_H

/*
 * Passive health (outlier detection), per pool (a location's backends), from real traffic:
 * `consecutive` connect failures or 5xx in a row eject a backend for base × (number of its
 * ejections so far, this one included), capped at max; never more than max_percent of the
 * pool is ejected at once (at least one backend may always be ejected when max_percent > 0,
 * as in Envoy: 10% of 3 backends would otherwise forbid ejection altogether). A backend
 * that stays in for `max` after an ejection has its count decremented, so an old incident
 * stops lengthening new ejections.
 *
 * Who does what. Workers report every outcome with sl_outlier_report() (a relaxed load on
 * success; a fetch_add on failure); the worker whose report ejects the backend (exactly one:
 * a CAS on the backend's `ejected` word after a CAS reserving room under the cap) gets
 * SL_OUTLIER_EJECTED and publishes it: sl_bal_live_set_flags(live, i, SL_RESIL_F_EJECTED, 0),
 * plus an event for the log. The control plane's tick calls sl_outlier_sweep(), which
 * returns the backends whose time is up; it clears their flag and logs them.
 *
 * SL_RESIL_F_EJECTED is a flag bit of struct sl_bal_live next to the balancer's own: any
 * non-zero flag makes a backend ineligible, so the balancer needs no change; its own header
 * should own the bit eventually (README.md).
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/balance/balance.h"

#define SL_RESIL_F_EJECTED 0x8u
_Static_assert((SL_RESIL_F_EJECTED & (SL_BAL_F_DOWN | SL_BAL_F_DRAINING | SL_BAL_F_CIRCUIT_OPEN)) ==
		   0,
	       "SL_RESIL_F_EJECTED collides with a balancer flag");

/* No such section in lib/config yet: defaults are Envoy's (README.md). */
struct sl_outlier_cfg {
	bool enabled;
	uint32_t consecutive; /* failures in a row that eject; default 5 */
	uint64_t base_us;     /* default 30 s */
	uint64_t max_us;      /* default 300 s */
	uint32_t max_percent; /* of the pool ejected at once; default 10 */
};

void sl_outlier_cfg_default(struct sl_outlier_cfg *cfg);

struct sl_outlier_backend {
	_Alignas(64) _Atomic uint32_t consec;
	_Atomic uint32_t ejected;     /* 0 or 1 */
	_Atomic uint32_t n_ejections; /* multiplier of base */
	_Atomic uint64_t until_us;    /* 0 while being ejected (not yet set) or when in */
	uint64_t decay_at_us;	      /* sweeper only */
};

struct sl_outlier_pool {
	unsigned int n;
	uint32_t max_ejected;
	_Atomic uint32_t n_ejected;
	struct sl_outlier_cfg cfg;
	struct sl_outlier_backend *b; /* n */
};

enum sl_outlier_event {
	SL_OUTLIER_NONE = 0,
	SL_OUTLIER_EJECTED, /* this call ejected the backend: publish the flag */
	SL_OUTLIER_CAPPED,  /* it would have, but max_percent of the pool is out already */
};

/* Allocate for n >= 1 backends, all in. Returns 0, -EINVAL or -ENOMEM. */
int sl_outlier_pool_create(unsigned int n, const struct sl_outlier_cfg *cfg,
			   struct sl_outlier_pool **out);
void sl_outlier_pool_free(struct sl_outlier_pool *p);

/*
 * The outcome of one request to backend i (failure: connect failure, reset before the
 * response, or 5xx). Outcomes for an ejected backend (requests already in flight) are
 * ignored. Lock-free, any thread.
 */
enum sl_outlier_event sl_outlier_report(struct sl_outlier_pool *p, unsigned int i, bool failure,
					uint64_t now_us);

/*
 * Un-eject every backend whose time is up and age the ejection counts. Writes up to `max`
 * restored indices to out[] and returns how many (call again if it returned max). One
 * caller at a time (the control plane's tick).
 */
unsigned int sl_outlier_sweep(struct sl_outlier_pool *p, uint64_t now_us, unsigned int *out,
			      unsigned int max);

static inline bool
sl_outlier_is_ejected(const struct sl_outlier_pool *p, unsigned int i)
{
	return atomic_load_explicit(&p->b[i].ejected, memory_order_acquire) != 0;
}

/* Duration of the k-th ejection (k >= 1): base * k, at most max. */
uint64_t sl_outlier_duration(const struct sl_outlier_cfg *cfg, uint32_t k);

#endif
