/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash/siphash.h"
#include "lib/resilience/connlimit.h"
#include "lib/resilience/sets.h"

#define IP_OF(w) ((uint32_t)((w) >> 32))
#define COUNT_OF(w) ((uint32_t)(w))

int
sl_cl_table_create(uint64_t capacity, uint32_t limit, const uint8_t hash_key[16],
		   struct sl_cl_table **out)
{
	struct sl_cl_table *t;

	*out = NULL;
	if (limit == 0 || capacity > (1ull << 32))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->e = sl__resil_sets_alloc(capacity, SL_CL_WAYS, sizeof(*t->e), &t->n_sets);
	if (t->e == NULL) {
		free(t);
		return -ENOMEM;
	}
	t->limit = limit;
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	*out = t;
	return 0;
}

void
sl_cl_table_free(struct sl_cl_table *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t);
}

static _Atomic uint64_t *
set_of(const struct sl_cl_table *t, uint32_t ip)
{
	uint64_t h = sl_siphash24(t->hash_key, &ip, sizeof(ip));

	return &t->e[(h & (t->n_sets - 1)) * SL_CL_WAYS];
}

enum sl_cl_verdict
sl_cl_acquire(struct sl_cl_table *t, uint32_t ip)
{
	_Atomic uint64_t *s = set_of(t, ip);

	for (;;) {
		uint64_t w[SL_CL_WAYS];
		uint32_t total = 0;
		int mine = -1, free_way = -1;

		for (int i = 0; i < SL_CL_WAYS; i++) {
			w[i] = atomic_load_explicit(&s[i], memory_order_relaxed);
			if (COUNT_OF(w[i]) == 0) {
				if (free_way < 0)
					free_way = i;
			} else if (IP_OF(w[i]) == ip) {
				total += COUNT_OF(w[i]);
				if (mine < 0)
					mine = i;
			}
		}
		if (total >= t->limit)
			return SL_CL_REFUSED;
		if (mine >= 0) {
			if (atomic_compare_exchange_weak_explicit(&s[mine], &w[mine], w[mine] + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				return SL_CL_ADMITTED;
			continue; /* the entry moved: look again */
		}
		if (free_way < 0)
			return SL_CL_UNTRACKED;
		if (atomic_compare_exchange_weak_explicit(
			&s[free_way], &w[free_way], (uint64_t)ip << 32 | 1, memory_order_relaxed,
			memory_order_relaxed))
			return SL_CL_ADMITTED;
	}
}

void
sl_cl_release(struct sl_cl_table *t, uint32_t ip)
{
	_Atomic uint64_t *s = set_of(t, ip);

	for (;;) {
		int i;

		for (i = 0; i < SL_CL_WAYS; i++) {
			uint64_t w = atomic_load_explicit(&s[i], memory_order_relaxed);

			if (COUNT_OF(w) == 0 || IP_OF(w) != ip)
				continue;
			/* Down to 0 the entry is free, whatever address it still names. */
			if (atomic_compare_exchange_weak_explicit(
				&s[i], &w, w - 1, memory_order_relaxed, memory_order_relaxed))
				return;
			break; /* lost a race on this entry: look again from the start */
		}
		if (i == SL_CL_WAYS)
			return; /* not counted (a caller's mistake): nothing to take */
	}
}

uint32_t
sl_cl_count(const struct sl_cl_table *t, uint32_t ip)
{
	_Atomic uint64_t *s = set_of(t, ip);
	uint32_t total = 0;

	for (int i = 0; i < SL_CL_WAYS; i++) {
		uint64_t w = atomic_load_explicit(&s[i], memory_order_relaxed);

		if (COUNT_OF(w) != 0 && IP_OF(w) == ip)
			total += COUNT_OF(w);
	}
	return total;
}
