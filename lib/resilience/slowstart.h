/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_SLOWSTART_H
#define SL_RESIL_SLOWSTART_H

/*
 * Slow start: a backend that comes back (health up, un-ejected, circuit closed, added at
 * runtime) takes a share of traffic that ramps over `window`, Envoy's curve:
 *
 *   factor(t) = max(min_pct / 100, (t / window) ^ (1 / aggression)),  t = time since return
 *
 * aggression 1 is a straight line; above 1 the ramp is steeper early. After the window the
 * factor is 1. Factors are fixed point, SL_SLOWSTART_ONE = 1.0.
 *
 * Applying it without rebuilding balancers: the balancer's weights are fixed per snapshot,
 * so the proxy thins the picks instead. When the pick lands on a backend in slow start, the
 * proxy keeps it with probability factor (sl_slowstart_accept) and otherwise picks again
 * excluding it, the way it handles a refused circuit. For round robin and the weighted
 * policies the backend then gets factor × its normal share. The control plane keeps the
 * start time per backend and publishes it with the live state; no flag is needed.
 */

#include <stdbool.h>
#include <stdint.h>

#define SL_SLOWSTART_ONE 65536u

/* No slow_start section in lib/config yet: window 0 = off (README.md). */
struct sl_slowstart_cfg {
	uint64_t window_us; /* 0 = off: full weight at once */
	double aggression;  /* >= 1 recommended; <= 0 is taken as 1 */
	uint32_t min_pct;   /* floor of the factor, percent; Envoy's default 10 */
};

/*
 * Weight factor (0..SL_SLOWSTART_ONE) of a backend that returned at start_us, at now_us.
 * now before start counts as the start. Linear aggression needs no floating point.
 */
uint32_t sl_slowstart_factor(const struct sl_slowstart_cfg *cfg, uint64_t start_us,
			     uint64_t now_us);

/* Keep a pick of a backend whose factor is f? rnd: 32 random bits from the worker's PRNG. */
static inline bool
sl_slowstart_accept(uint32_t f, uint32_t rnd)
{
	return f >= SL_SLOWSTART_ONE || (rnd & (SL_SLOWSTART_ONE - 1)) < f;
}

#endif
