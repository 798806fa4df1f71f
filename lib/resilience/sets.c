/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/resilience/sets.h"

#define HUGE_2M (2u << 20)

void *
sl__resil_sets_alloc(uint64_t capacity, unsigned int ways, size_t entry_size, uint64_t *n_sets)
{
	uint64_t sets = 1;
	size_t bytes;
	void *e;

	while (sets * ways < capacity)
		sets <<= 1;
	bytes = sets * ways * entry_size;
	if (bytes >= HUGE_2M) {
		e = aligned_alloc(HUGE_2M, bytes);
		if (e != NULL)
			madvise(e, bytes, MADV_HUGEPAGE);
	} else {
		e = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	}
	if (e != NULL) {
		memset(e, 0, bytes);
		*n_sets = sets;
	}
	return e;
}
