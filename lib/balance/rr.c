/* SPDX-License-Identifier: MIT */
/*
 * round_robin: backends in turn, skipping the ineligible. Each worker keeps its own cursor,
 * so with W workers the global order is W interleaved rotations; each is exact.
 */

#include <errno.h>
#include <stdlib.h>

#include "balance_private.h"

struct sl_bal_rr {
	struct sl_balancer base;
	unsigned int next; /* where the next scan starts */
};

static struct sl_balancer *
rr_create(const struct sl_bal_backend_desc *backends, unsigned int n, int *err)
{
	struct sl_bal_rr *rr = calloc(1, sizeof(*rr));

	if (!rr) {
		*err = -ENOMEM;
		return NULL;
	}
	return &rr->base;
}

/* A clone starts with fresh state of the same size: nothing here is worth sharing. */
static struct sl_balancer *
rr_clone(const struct sl_balancer *proto, int *err)
{
	return rr_create(NULL, proto->n, err);
}

static void
rr_destroy(struct sl_balancer *b)
{
	free(sl__bal_container_of(b, struct sl_bal_rr, base));
}

/* Worker w of W starts at backend w * n / W: the workers' rotations are spread out. */
static void
rr_start(struct sl_balancer *b)
{
	struct sl_bal_rr *rr = sl__bal_container_of(b, struct sl_bal_rr, base);

	rr->next = (unsigned int)((uint64_t)b->worker * b->n / b->live->n_workers);
}

/*
 * The cursor moves past the backend picked, not merely by one: when B of A,B,C is down, A
 * and C alternate instead of C taking B's turns too.
 */
static int
rr_pick(struct sl_balancer *b, const struct sl_bal_req *req)
{
	struct sl_bal_rr *rr = sl__bal_container_of(b, struct sl_bal_rr, base);
	int i = sl__bal_scan_from(b, rr->next, req);

	if (i >= 0)
		rr->next = (unsigned int)i + 1 == b->n ? 0 : (unsigned int)i + 1;
	return i;
}

const struct sl_balancer_ops sl_bal_rr_ops = {
    .name = "round_robin",
    .create = rr_create,
    .clone = rr_clone,
    .start = rr_start,
    .destroy = rr_destroy,
    .pick = rr_pick,
};
