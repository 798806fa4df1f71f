/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_SEQ_H
#define SL_TCP_SEQ_H

/*
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4): a is
 * "before" b when b - a, taken mod 2^32, is in 1 .. 2^31 - 1. Values in host
 * byte order. Comparisons are only meaningful between numbers less than 2^31
 * apart, which the windows guarantee (at most 2^30 with window scaling); at
 * exactly 2^31 apart both a < b and b < a hold, as with the Linux before().
 *
 * Pure C, no DPDK: shared by the stack and its unit tests.
 */

#include <stdbool.h>
#include <stdint.h>

/* a < b */
static inline bool
sl_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* a <= b */
static inline bool
sl_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* a > b */
static inline bool
sl_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) < 0;
}

/* a >= b */
static inline bool
sl_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) <= 0;
}

/* The later of a and b. */
static inline uint32_t
sl_seq_max(uint32_t a, uint32_t b)
{
	return sl_seq_gt(a, b) ? a : b;
}

/* The earlier of a and b. */
static inline uint32_t
sl_seq_min(uint32_t a, uint32_t b)
{
	return sl_seq_lt(a, b) ? a : b;
}

/*
 * b <= a <= c: true when a lies on the closed arc that starts at b and runs
 * forward (increasing, wrapping at 2^32) to c, i.e. (a - b) <= (c - b) mod 2^32.
 * Both ends are included; b == c is the one-number arc {b}. Unlike
 * sl_seq_leq(b, a) && sl_seq_leq(a, c) this is exact for arcs of any length up
 * to 2^32 - 1, and when c is before b the arc wraps almost all the way round:
 * order the arguments as (value, low, high) and keep low at or before high.
 * For a half-open window [b, c) test sl_seq_between(a, b, c - 1) with c != b,
 * or (a - b) < (c - b).
 */
static inline bool
sl_seq_between(uint32_t a, uint32_t b, uint32_t c)
{
	return a - b <= c - b;
}

#endif
