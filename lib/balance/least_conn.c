/* SPDX-License-Identifier: MIT */
/*
 * least_connections, weighted: the eligible backend with the fewest requests in flight per
 * unit of weight, (inflight + 1) / weight as in HAProxy's fwlc, so that when every backend is
 * idle the heavier one still goes first.
 *
 * In-flight counts are global: each is the sum of one counter per worker (struct
 * sl_bal_live), rows written only by their own worker, so there is no shared counter to
 * bounce between cores; a pick reads them, and a worker's own increments are visible to
 * itself at once.
 *
 * Up to SL_BAL_LC_SCAN_MAX backends the pick scans them all, starting one further each
 * time, and the first strictly best wins: ties rotate instead of always going to backend 0.
 * Above that a full scan would read too many remote lines per request, and the pick takes
 * the better of two random eligible backends (power of two choices, Mitzenmacher 2001),
 * which keeps the maximum load within O(log log n) of the mean.
 */

#include <errno.h>
#include <stdlib.h>

#include "balance_private.h"

#define SL_BAL_LC_SCAN_MAX 64

struct sl_bal_lc {
	struct sl_balancer base;
	unsigned int start; /* rotating start of the scan: fair tie-breaking */
};

static struct sl_balancer *
lc_create(const struct sl_bal_backend_desc *backends, unsigned int n, int *err)
{
	struct sl_bal_lc *lc = calloc(1, sizeof(*lc));

	if (!lc) {
		*err = -ENOMEM;
		return NULL;
	}
	return &lc->base;
}

/* A clone starts with fresh state of the same size: nothing here is worth sharing. */
static struct sl_balancer *
lc_clone(const struct sl_balancer *proto, int *err)
{
	return lc_create(NULL, proto->n, err);
}

static void
lc_destroy(struct sl_balancer *b)
{
	free(sl__bal_container_of(b, struct sl_bal_lc, base));
}

/* Worker w of W starts its tie-breaking rotation at w * n / W. */
static void
lc_start(struct sl_balancer *b)
{
	struct sl_bal_lc *lc = sl__bal_container_of(b, struct sl_bal_lc, base);

	lc->start = (unsigned int)((uint64_t)b->worker * b->n / b->live->n_workers);
}

/*
 * (li + 1) / wi < (lj + 1) / wj, exactly: loads are below 2^32 and weights too, so each
 * product fits in 64 bits.
 */
static inline bool
lc_better(const struct sl_balancer *b, unsigned int i, int64_t li, unsigned int j, int64_t lj)
{
	return ((uint64_t)li + 1) * b->weights[j] < ((uint64_t)lj + 1) * b->weights[i];
}

/*
 * Sum the rows first, worker by worker: each row is read front to back (the prefetcher's
 * favourite pattern, and vectorisable) instead of hopping between rows per backend.
 */
static int
lc_pick_scan(struct sl_balancer *b, const struct sl_bal_req *req)
{
	struct sl_bal_lc *lc = sl__bal_container_of(b, struct sl_bal_lc, base);
	const struct sl_bal_live *live = b->live;
	uint32_t load[SL_BAL_LC_SCAN_MAX];
	unsigned int i = lc->start, n = b->n;
	int best = -1;

	if (++lc->start >= n)
		lc->start = 0;
	for (unsigned int k = 0; k < n; k++)
		load[k] = atomic_load_explicit(&live->inflight[k], memory_order_relaxed);
	for (unsigned int w = 1; w < live->n_workers; w++) {
		const _Atomic uint32_t *row = &live->inflight[(size_t)w * live->stride];

		for (unsigned int k = 0; k < n; k++)
			load[k] += atomic_load_explicit(&row[k], memory_order_relaxed);
	}
	for (unsigned int k = 0; k < n; k++) {
		uint32_t max = live->max_connections[i];

		if (!sl_bal_live_flags(live, i) && (!max || load[i] < max) &&
		    (!req->n_tried || !sl__bal_tried(req, i)) &&
		    (best < 0 || lc_better(b, i, load[i], (unsigned int)best, load[best])))
			best = (int)i;
		if (++i == n)
			i = 0;
	}
	return best;
}

static int
lc_pick_p2c(struct sl_balancer *b, const struct sl_bal_req *req)
{
	int64_t la, lb;
	int a = sl__bal_draw(b, req, -1, &la);
	int c;

	if (a < 0)
		return -1;
	c = sl__bal_draw(b, req, a, &lb);
	if (c < 0)
		return a;
	return lc_better(b, (unsigned int)c, lb, (unsigned int)a, la) ? c : a;
}

static int
lc_pick(struct sl_balancer *b, const struct sl_bal_req *req)
{
	return b->n <= SL_BAL_LC_SCAN_MAX ? lc_pick_scan(b, req) : lc_pick_p2c(b, req);
}

const struct sl_balancer_ops sl_bal_least_conn_ops = {
    .name = "least_connections",
    .create = lc_create,
    .clone = lc_clone,
    .start = lc_start,
    .destroy = lc_destroy,
    .pick = lc_pick,
};
