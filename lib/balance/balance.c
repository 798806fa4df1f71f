/* SPDX-License-Identifier: MIT */
/* The policy-independent part: live state, create/destroy by policy, the eligibility rule. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balance_private.h"

int
sl_bal_live_create(unsigned int n_backends, unsigned int n_workers, const uint32_t *max_connections,
		   struct sl_bal_live **out)
{
	struct sl_bal_live *live;
	size_t rows;

	if (!out || n_backends == 0 || n_backends > SL_BAL_MAX_BACKENDS || n_workers == 0 ||
	    n_workers > SL_BAL_MAX_WORKERS)
		return -EINVAL;
	live = calloc(1, sizeof(*live));
	if (!live)
		return -ENOMEM;
	live->n_backends = n_backends;
	live->n_workers = n_workers;
	/* Rows padded to whole cache lines so that no two workers write the same line. */
	live->stride = (n_backends + 15) & ~15u;
	rows = (size_t)n_workers * live->stride * sizeof(uint32_t);
	/* Each array on lines of its own: nothing else on the heap shares them. */
	live->max_connections = aligned_alloc(64, live->stride * sizeof(uint32_t));
	live->flags = aligned_alloc(64, live->stride * sizeof(uint32_t));
	live->inflight = aligned_alloc(64, rows);
	if (!live->max_connections || !live->flags || !live->inflight) {
		sl_bal_live_free(live);
		return -ENOMEM;
	}
	memset(live->max_connections, 0, live->stride * sizeof(uint32_t));
	memset((void *)live->flags, 0, live->stride * sizeof(uint32_t));
	memset((void *)live->inflight, 0, rows);
	if (max_connections)
		memcpy(live->max_connections, max_connections, n_backends * sizeof(uint32_t));
	*out = live;
	return 0;
}

void
sl_bal_live_free(struct sl_bal_live *live)
{
	if (!live)
		return;
	free(live->max_connections);
	free((void *)live->flags);
	free((void *)live->inflight);
	free(live);
}

const struct sl_balancer_ops *
sl_bal_policy_ops(enum sl_config_lb_policy policy)
{
	switch (policy) {
	case SL_CONFIG_LB_ROUND_ROBIN:
		return &sl_bal_rr_ops;
	case SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN:
		return &sl_bal_wrr_ops;
	case SL_CONFIG_LB_LEAST_CONNECTIONS:
		return &sl_bal_least_conn_ops;
	case SL_CONFIG_LB_CONSISTENT_HASHING:
		return &sl_bal_maglev_ops;
	case SL_CONFIG_LB_ADAPTIVE:
		return &sl_bal_adaptive_ops;
	}
	return NULL;
}

/* Fill the common part of a freshly made policy instance; destroys it on failure. */
static int
finish(struct sl_balancer *b, const struct sl_balancer_ops *ops, const uint32_t *weights,
       unsigned int n, struct sl_bal_live *live, unsigned int worker, uint64_t seed,
       const struct sl_bal_backend_desc *d)
{
	b->ops = ops;
	b->live = live;
	b->n = n;
	b->worker = worker;
	/* Run the seed through the mixer so that seeds 1, 2, 3 give unrelated streams. */
	b->rng = sl_hash_mix64(seed ^ 0x9e3779b97f4a7c15ULL);
	b->weights = malloc(n * sizeof(uint32_t));
	if (!b->weights) {
		ops->destroy(b);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++)
		b->weights[i] = weights ? weights[i] : d[i].weight;
	if (ops->start)
		ops->start(b);
	return 0;
}

int
sl_bal_create(enum sl_config_lb_policy policy, const struct sl_bal_backend_desc *backends,
	      unsigned int n, struct sl_bal_live *live, unsigned int worker, uint64_t seed,
	      struct sl_balancer **out)
{
	const struct sl_balancer_ops *ops = sl_bal_policy_ops(policy);
	struct sl_balancer *b;
	int err = -ENOMEM, rc;

	if (!ops || !backends || !live || !out || n == 0 || n != live->n_backends ||
	    worker >= live->n_workers)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if (backends[i].weight == 0 || !backends[i].name)
			return -EINVAL;
	b = ops->create(backends, n, &err);
	if (!b)
		return err;
	if ((rc = finish(b, ops, NULL, n, live, worker, seed, backends)) < 0)
		return rc;
	*out = b;
	return 0;
}

int
sl_bal_clone(const struct sl_balancer *proto, unsigned int worker, uint64_t seed,
	     struct sl_balancer **out)
{
	struct sl_balancer *b;
	int err = -ENOMEM, rc;

	if (!proto || !out || worker >= proto->live->n_workers)
		return -EINVAL;
	b = proto->ops->clone(proto, &err);
	if (!b)
		return err;
	if ((rc = finish(b, proto->ops, proto->weights, proto->n, proto->live, worker, seed,
			 NULL)) < 0)
		return rc;
	*out = b;
	return 0;
}

int
sl_bal_create_location(const struct sl_config_location *loc, struct sl_bal_live *live,
		       unsigned int worker, uint64_t seed, struct sl_balancer **out)
{
	struct sl_bal_backend_desc *d;
	int rc;

	if (!loc || loc->n_backends == 0)
		return -EINVAL;
	d = calloc(loc->n_backends, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (unsigned int i = 0; i < loc->n_backends; i++) {
		d[i].name = loc->backends[i].url;
		d[i].weight = loc->backends[i].weight;
	}
	rc = sl_bal_create(loc->lb_policy, d, loc->n_backends, live, worker, seed, out);
	free(d);
	return rc;
}

void
sl_bal_destroy(struct sl_balancer *b)
{
	if (!b)
		return;
	free(b->weights);
	b->weights = NULL;
	b->ops->destroy(b);
}

bool
sl_bal_eligible(const struct sl_balancer *b, unsigned int i, const struct sl_bal_req *req)
{
	static const struct sl_bal_req none;

	return i < b->n && sl__bal_eligible(b, i, req ? req : &none);
}
