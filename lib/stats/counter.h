/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_COUNTER_H
#define SL_STATS_COUNTER_H

/*
 * Single-writer counters that another thread reads while they move.
 *
 * The owner (a worker) is the only thread that stores to a counter; the control plane only
 * loads. A relaxed load followed by a relaxed store is then a correct increment under the C11
 * model (no other thread stores, so nothing is lost), and it compiles to the plain load, add,
 * store an unsynchronised `++` would: no lock prefix, no fence. The reader's relaxed load sees
 * some value the writer stored, never a torn one (64-bit aligned accesses are single-copy
 * atomic on x86-64 and AArch64), and values that only grow are seen to grow.
 */

#include <stdint.h>

static inline void
sl_counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void
sl_counter_inc(uint64_t *c)
{
	sl_counter_add(c, 1);
}

/* Gauges that go down are stored as uint64_t and wrap; a sum over workers cast to int64_t is
 * right as long as the true sum fits. */
static inline void
sl_counter_sub(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) - n, __ATOMIC_RELAXED);
}

static inline uint64_t
sl_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
