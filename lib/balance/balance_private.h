/* SPDX-License-Identifier: MIT */
#ifndef SL_BALANCE_PRIVATE_H
#define SL_BALANCE_PRIVATE_H

/* Helpers shared by the policy files; not part of the API. */

#include "balance.h"
#include "lib/hash/mix64.h"

#define sl__bal_container_of(ptr, type, member)                                                    \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline bool
sl__bal_tried(const struct sl_bal_req *req, unsigned int i)
{
	for (unsigned int k = 0; k < req->n_tried && k < SL_BAL_MAX_TRIED; k++)
		if (req->tried[k] == i)
			return true;
	return false;
}

/*
 * The eligibility rule. Flags first: they are one read-mostly line, and a down backend
 * should not cost the per-worker counter reads.
 */
static inline bool
sl__bal_eligible(const struct sl_balancer *b, unsigned int i, const struct sl_bal_req *req)
{
	const struct sl_bal_live *live = b->live;
	uint32_t max = live->max_connections[i];

	if (sl_bal_live_flags(live, i))
		return false;
	if (max && sl_bal_live_inflight(live, i) >= max)
		return false;
	return !req->n_tried || !sl__bal_tried(req, i);
}

/* wyrand (Wang Yi): 64-bit state, passes BigCrush/PractRand, one multiply per draw. */
static inline uint64_t
sl__bal_rand(struct sl_balancer *b)
{
	b->rng += 0xa0761d6478bd642fULL;
	__uint128_t t = (__uint128_t)b->rng * (b->rng ^ 0xe7037ed1a0b428dbULL);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* Uniform in [0, n) without a division (Lemire's multiply-shift; bias < n / 2^32). */
static inline unsigned int
sl__bal_rand_below(struct sl_balancer *b, unsigned int n)
{
	return (unsigned int)(((sl__bal_rand(b) >> 32) * (uint64_t)n) >> 32);
}

/* First eligible backend at or after `start`, wrapping; -1 when there is none. */
static inline int
sl__bal_scan_from(const struct sl_balancer *b, unsigned int start, const struct sl_bal_req *req)
{
	unsigned int i = start;

	for (unsigned int k = 0; k < b->n; k++) {
		if (sl__bal_eligible(b, i, req))
			return (int)i;
		if (++i == b->n)
			i = 0;
	}
	return -1;
}

/* Eligible -> its global in-flight count, else -1 (the power-of-two-choices policies' load). */
static inline int64_t
sl__bal_inflight_load(const struct sl_balancer *b, unsigned int i, const struct sl_bal_req *req)
{
	const struct sl_bal_live *live = b->live;
	uint32_t max = live->max_connections[i];
	uint32_t inflight;

	if (sl_bal_live_flags(live, i) || (req->n_tried && sl__bal_tried(req, i)))
		return -1;
	inflight = sl_bal_live_inflight(live, i);
	if (max && inflight >= max)
		return -1;
	return inflight;
}

/*
 * A random eligible backend other than `not` (-1: any), its load in *load: a few draws, then
 * a scan from a random start. -1 when none is eligible.
 */
static inline int
sl__bal_draw(struct sl_balancer *b, const struct sl_bal_req *req, int not, int64_t *load)
{
	unsigned int start;

	for (int t = 0; t < 4; t++) {
		unsigned int i = sl__bal_rand_below(b, b->n);

		if ((int)i != not && (*load = sl__bal_inflight_load(b, i, req)) >= 0)
			return (int)i;
	}
	start = sl__bal_rand_below(b, b->n);
	for (unsigned int k = 0, i = start; k < b->n; k++) {
		if ((int)i != not && (*load = sl__bal_inflight_load(b, i, req)) >= 0)
			return (int)i;
		if (++i == b->n)
			i = 0;
	}
	return -1;
}

#endif
