/* SPDX-License-Identifier: MIT */
/*
 * adaptive: the better of two random eligible backends (power of two choices), where a
 * backend's cost is (in flight + 1) x EWMA of its response time / weight — the Terraster
 * seed's policy, close to Finagle's "peak EWMA". A slow backend costs more per request it
 * holds, so it gets fewer; a stalled one collects in-flight requests and is avoided at
 * once, before any sample arrives.
 *
 * The proxy reports each response time through sl_bal_observe(). The EWMA weight of a new
 * sample is 1/8 (a backend's estimate follows a change within about 16 requests to it);
 * values are microseconds in 28.4 fixed point. A backend with no sample yet is costed at the
 * mean of all samples of this balancer, so a newcomer is tried without being flooded.
 *
 * Because a backend that is never picked never gets a new sample, 1 pick in
 * SL_BAL_ADAPTIVE_EXPLORE takes the first random candidate without comparing: a backend that
 * was slow and has recovered is noticed, at the price of that small share of traffic.
 * Samples and estimates are per worker (no sharing); in-flight counts are global.
 */

#include <errno.h>
#include <stdlib.h>

#include "balance_private.h"

#define SL_BAL_ADAPTIVE_EXPLORE 64
#define SL_BAL_EWMA_SHIFT 3 /* new sample weight 1/8 */
#define SL_BAL_FIX 4	    /* fractional bits */

struct sl_bal_adaptive {
	struct sl_balancer base;
	uint64_t *ewma; /* n; 0 = no sample yet */
	uint64_t mean;	/* EWMA over every sample; 0 = none yet */
	uint32_t picks;
};

static struct sl_balancer *
adaptive_create(const struct sl_bal_backend_desc *backends, unsigned int n, int *err)
{
	struct sl_bal_adaptive *a = calloc(1, sizeof(*a));

	if (!a || !(a->ewma = calloc(n, sizeof(uint64_t)))) {
		free(a);
		*err = -ENOMEM;
		return NULL;
	}
	return &a->base;
}

/* A clone starts with fresh state of the same size: nothing here is worth sharing. */
static struct sl_balancer *
adaptive_clone(const struct sl_balancer *proto, int *err)
{
	return adaptive_create(NULL, proto->n, err);
}

static void
adaptive_destroy(struct sl_balancer *b)
{
	struct sl_bal_adaptive *a = sl__bal_container_of(b, struct sl_bal_adaptive, base);

	free(a->ewma);
	free(a);
}

static inline void
ewma_add(uint64_t *e, uint64_t sample)
{
	if (*e == 0)
		*e = sample ? sample : 1;
	else if (sample >= *e)
		*e += (sample - *e) >> SL_BAL_EWMA_SHIFT;
	else
		*e -= (*e - sample) >> SL_BAL_EWMA_SHIFT;
	if (*e == 0)
		*e = 1; /* 0 means "no sample" */
}

static void
adaptive_observe(struct sl_balancer *b, unsigned int i, uint32_t latency_us)
{
	struct sl_bal_adaptive *a = sl__bal_container_of(b, struct sl_bal_adaptive, base);
	uint64_t s = (uint64_t)latency_us << SL_BAL_FIX;

	ewma_add(&a->ewma[i], s);
	ewma_add(&a->mean, s);
}

static inline uint64_t
latency_of(const struct sl_bal_adaptive *a, unsigned int i)
{
	if (a->ewma[i])
		return a->ewma[i];
	return a->mean ? a->mean : 1;
}

static int
adaptive_pick(struct sl_balancer *b, const struct sl_bal_req *req)
{
	struct sl_bal_adaptive *a = sl__bal_container_of(b, struct sl_bal_adaptive, base);
	int64_t lx, ly;
	int x = sl__bal_draw(b, req, -1, &lx), y;
	__uint128_t cx, cy;

	if (x < 0)
		return -1;
	if (++a->picks >= SL_BAL_ADAPTIVE_EXPLORE) {
		a->picks = 0;
		return x;
	}
	y = sl__bal_draw(b, req, x, &ly);
	if (y < 0)
		return x;
	/* cost_x < cost_y  <=>  (lx+1) lat_x w_y < (ly+1) lat_y w_x; below 2^100, exact. */
	cx = (__uint128_t)(uint64_t)(lx + 1) * latency_of(a, (unsigned int)x) * b->weights[y];
	cy = (__uint128_t)(uint64_t)(ly + 1) * latency_of(a, (unsigned int)y) * b->weights[x];
	return cy < cx ? y : x;
}

const struct sl_balancer_ops sl_bal_adaptive_ops = {
    .name = "adaptive",
    .create = adaptive_create,
    .clone = adaptive_clone,
    .destroy = adaptive_destroy,
    .pick = adaptive_pick,
    .observe = adaptive_observe,
};
