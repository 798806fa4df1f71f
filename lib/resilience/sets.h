/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_SETS_H
#define SL_RESIL_SETS_H

/* Private to lib/resilience: the memory of a set-associative table (ratelimit, connlimit). */

#include <stddef.h>
#include <stdint.h>

/*
 * Zeroed memory for at least `capacity` entries of entry_size bytes in sets of `ways`:
 * *n_sets, a power of two, with n_sets * ways >= capacity (at least one set). 64-byte
 * aligned; a table of 2 MiB or more on 2 MiB pages when THP allows (looked up at random, it
 * then costs a TLB miss less per lookup; the hint is a system call at creation only).
 * NULL when out of memory. free() releases it.
 */
void *sl__resil_sets_alloc(uint64_t capacity, unsigned int ways, size_t entry_size,
			   uint64_t *n_sets);

#endif
