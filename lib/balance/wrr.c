/* SPDX-License-Identifier: MIT */
/*
 * weighted_round_robin: nginx's smooth weighted round robin (ngx_http_upstream_round_robin.c,
 * 2012). Each pick adds every eligible backend's weight to its `current`, takes the largest
 * `current`, and subtracts the total weight of the eligible from the winner. Over any window
 * of sum(weights) picks each backend gets exactly its weight, and the heavy one's turns are
 * spread out: 8:2 gives a a b a a a a b a a, never more than 4 in a row, where a naive
 * weighted rotation sends 8 in a row.
 *
 * An ineligible backend neither gains nor loses `current` while it is out, so it comes back
 * where it left off. Per worker, like every policy's state.
 */

#include <errno.h>
#include <stdlib.h>

#include "balance_private.h"

struct sl_bal_wrr {
	struct sl_balancer base;
	int64_t *current; /* n; int64 because sums of 16384 weights of 2^32 do not fit in 32 */
};

static struct sl_balancer *
wrr_create(const struct sl_bal_backend_desc *backends, unsigned int n, int *err)
{
	struct sl_bal_wrr *w = calloc(1, sizeof(*w));

	if (!w || !(w->current = calloc(n, sizeof(int64_t)))) {
		free(w);
		*err = -ENOMEM;
		return NULL;
	}
	return &w->base;
}

/* A clone starts with fresh state of the same size: nothing here is worth sharing. */
static struct sl_balancer *
wrr_clone(const struct sl_balancer *proto, int *err)
{
	return wrr_create(NULL, proto->n, err);
}

static void
wrr_destroy(struct sl_balancer *b)
{
	struct sl_bal_wrr *w = sl__bal_container_of(b, struct sl_bal_wrr, base);

	free(w->current);
	free(w);
}

static int wrr_pick(struct sl_balancer *b, const struct sl_bal_req *req);

/*
 * Worker w of W starts w/W of the way into the period (sum of weights, capped at 4096 picks
 * to bound the build), so that the workers' heavy turns do not coincide.
 */
static void
wrr_start(struct sl_balancer *b)
{
	static const struct sl_bal_req none;
	uint64_t total = 0, steps;

	for (unsigned int i = 0; i < b->n; i++)
		total += b->weights[i];
	if (total > 4096)
		total = 4096;
	steps = b->worker * total / b->live->n_workers;
	for (uint64_t k = 0; k < steps; k++)
		wrr_pick(b, &none);
}

/* Ties go to the lowest index, as in nginx; the sequence is then fully deterministic. */
static int
wrr_pick(struct sl_balancer *b, const struct sl_bal_req *req)
{
	struct sl_bal_wrr *w = sl__bal_container_of(b, struct sl_bal_wrr, base);
	int64_t total = 0;
	int best = -1;

	for (unsigned int i = 0; i < b->n; i++) {
		if (!sl__bal_eligible(b, i, req))
			continue;
		w->current[i] += b->weights[i];
		total += b->weights[i];
		if (best < 0 || w->current[i] > w->current[best])
			best = (int)i;
	}
	if (best >= 0)
		w->current[best] -= total;
	return best;
}

const struct sl_balancer_ops sl_bal_wrr_ops = {
    .name = "weighted_round_robin",
    .create = wrr_create,
    .clone = wrr_clone,
    .start = wrr_start,
    .destroy = wrr_destroy,
    .pick = wrr_pick,
};
