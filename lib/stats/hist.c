/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "hist.h"

_Static_assert(SL_HIST_BUCKETS == 1056, "layout described in hist.h");

static unsigned int
bucket_exp(unsigned int i)
{
	return i < 2 * SL_HIST_SUB ? 0 : (i >> SL_HIST_SUB_BITS) - 1;
}

uint64_t
sl_hist_lower(unsigned int i)
{
	unsigned int e = bucket_exp(i);

	return (uint64_t)(i - (e << SL_HIST_SUB_BITS)) << e;
}

uint64_t
sl_hist_upper(unsigned int i)
{
	unsigned int e = bucket_exp(i);

	return (uint64_t)(i - (e << SL_HIST_SUB_BITS) + 1) << e;
}

unsigned int
sl_hist_n_below(uint64_t ns)
{
	unsigned int j;

	if (ns == 0)
		return 0;
	if (ns >= SL_HIST_MAX_NS)
		return SL_HIST_BUCKETS - 1;
	j = sl_hist_index(ns); /* lower(j) < ns <= upper(j) */
	return sl_hist_upper(j) == ns ? j + 1 : j;
}

void
sl_hist_reset(struct sl_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
sl_hist_add(struct sl_hist *dst, const struct sl_hist *src)
{
	dst->sum_ns += sl_counter_read(&src->sum_ns);
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++)
		dst->buckets[i] += sl_counter_read(&src->buckets[i]);
}

void
sl_hist_merge(struct sl_hist *dst, const struct sl_hist *const *src, unsigned int n)
{
	sl_hist_reset(dst);
	for (unsigned int k = 0; k < n; k++)
		sl_hist_add(dst, src[k]);
}

uint64_t
sl_hist_count(const struct sl_hist *h)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++)
		n += sl_counter_read(&h->buckets[i]);
	return n;
}

uint64_t
sl_hist_sum(const struct sl_hist *h)
{
	return sl_counter_read(&h->sum_ns);
}

uint64_t
sl_hist_quantile(const struct sl_hist *h, double q)
{
	uint64_t n = sl_hist_count(h), rank, seen = 0;

	if (n == 0)
		return 0;
	if (!(q > 0)) /* also NaN */
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++) {
		seen += sl_counter_read(&h->buckets[i]);
		if (seen >= rank)
			return sl_hist_upper(i);
	}
	return sl_hist_upper(SL_HIST_BUCKETS - 1); /* the buckets moved under us */
}
