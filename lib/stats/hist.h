/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_HIST_H
#define SL_STATS_HIST_H

/*
 * Log-linear latency histograms (the HdrHistogram layout), values in nanoseconds.
 *
 * Layout. A value v > 0 is filed by x = v - 1. Below 64 ns every nanosecond has its bucket.
 * Above, each power of two [2^k, 2^(k+1)) is cut into 32 equal sub-buckets of width 2^(k-5).
 * Bucket i therefore holds the values (lower(i), upper(i)] -- upper bound *included*, so that
 * "v <= upper" is exact, which is what a Prometheus `le` means. The width of a bucket is at most
 * 1/32 of its lower bound: a value reported as its bucket's upper bound is at most 3.125 % too
 * high, never too low. 0 ns is filed with 1 ns. The top bucket (2^37 - 2^31 ns, 2^37 ns]
 * (2^37 ns = 137.4 s) also takes every larger value (it is the overflow bucket).
 *
 * Size: SL_HIST_BUCKETS = 1056 counters + the sum, 8,512 bytes per histogram.
 *
 * Recording is O(1): one count-leading-zeros, a branch-free clamp, two increments; no loop
 * and no branch (23 instructions on x86-64).
 *
 * Consistency. A histogram has one writer (the worker that owns it), which increments with
 * relaxed atomic loads and stores (counter.h): plain moves on x86-64. A reader (the control
 * plane) may merge it at any time without stopping the writer. What it gets: every counter is
 * a value the writer really stored (never torn); a record in flight may be seen in the bucket
 * and not yet in the sum, or not at all; so a snapshot is off by at most the records made
 * while it was taken, and counts never go backwards between snapshots. The count is the sum of
 * the buckets (there is no separate count field), so the count and the buckets of one
 * snapshot always agree; only the sum may be a record ahead or behind.
 *
 * The sum is in nanoseconds on 64 bits: it wraps after 584 years of accumulated request time
 * per worker (213 days at 1,000 requests in flight on one worker all the time).
 */

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

#define SL_HIST_SUB_BITS 5u
#define SL_HIST_SUB (1u << SL_HIST_SUB_BITS)		   /* sub-buckets per power of two */
#define SL_HIST_RANGE_BITS 37u				   /* top of the range: 2^37 ns */
#define SL_HIST_MAX_NS (UINT64_C(1) << SL_HIST_RANGE_BITS) /* 137.4 s */
#define SL_HIST_BUCKETS ((SL_HIST_RANGE_BITS - SL_HIST_SUB_BITS + 1) * SL_HIST_SUB) /* 1056 */

struct sl_hist {
	uint64_t sum_ns; /* sum of the recorded values (clamped ones as recorded) */
	uint64_t buckets[SL_HIST_BUCKETS];
} __attribute__((aligned(64)));

/* Bucket index of a value in ns. */
static inline unsigned int
sl_hist_index(uint64_t v)
{
	uint64_t x = v - (v != 0);
	unsigned int e;

	x = x < SL_HIST_MAX_NS ? x : SL_HIST_MAX_NS - 1;
	/* OR-ing 32 in makes every x < 64 look like 32..63: exponent 0, linear nanoseconds. */
	e = 63u - (unsigned int)__builtin_clzll(x | SL_HIST_SUB) - SL_HIST_SUB_BITS;
	return (e << SL_HIST_SUB_BITS) + (unsigned int)(x >> e);
}

/* Record one value (ns). Only the owner of h may call this. */
static inline void
sl_hist_record(struct sl_hist *h, uint64_t v)
{
	sl_counter_inc(&h->buckets[sl_hist_index(v)]);
	sl_counter_add(&h->sum_ns, v);
}

/* The values of bucket i are (sl_hist_lower(i), sl_hist_upper(i)], in ns. */
uint64_t sl_hist_lower(unsigned int i);
uint64_t sl_hist_upper(unsigned int i);

/*
 * Number of buckets, from bucket 0, whose upper bound is <= ns: the buckets a cumulative
 * count "<= ns" may include without counting a value above ns. The overflow bucket is never
 * included (its values have no upper bound).
 */
unsigned int sl_hist_n_below(uint64_t ns);

/* h = 0. */
void sl_hist_reset(struct sl_hist *h);

/* dst += src, reading src with relaxed loads (its writer may be running). dst is private. */
void sl_hist_add(struct sl_hist *dst, const struct sl_hist *src);

/* dst = the sum of src[0..n-1]. */
void sl_hist_merge(struct sl_hist *dst, const struct sl_hist *const *src, unsigned int n);

/* Number of values recorded (sum of the buckets) and their sum in ns. */
uint64_t sl_hist_count(const struct sl_hist *h);
uint64_t sl_hist_sum(const struct sl_hist *h);

/*
 * The q-quantile (0 <= q <= 1) in ns: the upper bound of the bucket holding the value of rank
 * ceil(q * count) (at least 1) in sorted order. It is never below the exact quantile of the
 * recorded values and at most 1/32 above it (values in the overflow bucket excepted). 0 when
 * the histogram is empty. Read it on a merged copy: on a live one the count may move.
 */
uint64_t sl_hist_quantile(const struct sl_hist *h, double q);

#endif
