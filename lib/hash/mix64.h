/* SPDX-License-Identifier: MIT */
#ifndef SL_HASH_MIX64_H
#define SL_HASH_MIX64_H

#include <stdint.h>

/* MurmurHash3's 64-bit finaliser (fmix64), not keyed: each input bit flips about half of the
 * output bits. The balancers and the route table use it to spread keys. */
static inline uint64_t
sl_hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif
