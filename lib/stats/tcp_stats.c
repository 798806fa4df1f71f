/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "tcp_stats.h"

static const char *const drop_names[SL_TCP_DROP_MAX] = {
#define SL_TCP_DROP_NAME(id, name) [SL_TCP_DROP_##id] = name,
	SL_TCP_DROPS(SL_TCP_DROP_NAME)
#undef SL_TCP_DROP_NAME
};

const char *const sl_tcp_counter_names[] = {
#define SL_TCP_COUNTER_NAME(name) #name,
	SL_TCP_COUNTERS(SL_TCP_COUNTER_NAME)
#undef SL_TCP_COUNTER_NAME
};
const unsigned int sl_tcp_n_counters =
	sizeof(sl_tcp_counter_names) / sizeof(sl_tcp_counter_names[0]);

const char *
sl_tcp_drop_name(enum sl_tcp_drop reason)
{
	return (unsigned int)reason < SL_TCP_DROP_MAX ? drop_names[reason] : "unknown";
}

void
sl_tcp_stats_add(struct sl_tcp_stats *dst, const struct sl_tcp_stats *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	size_t n = offsetof(struct sl_tcp_stats, drops) / sizeof(uint64_t) + SL_TCP_DROP_MAX;

	for (size_t i = 0; i < n; i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
