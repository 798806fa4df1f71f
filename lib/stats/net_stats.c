/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "net_stats.h"

static const char *const drop_names[SL_NET_DROP_MAX] = {
#define SL_NET_DROP_NAME(id, name) [SL_NET_DROP_##id] = name,
	SL_NET_DROPS(SL_NET_DROP_NAME)
#undef SL_NET_DROP_NAME
};

#define FIELD(f) {#f, offsetof(struct sl_net_stats, f)}
const struct sl_net_stats_field sl_net_stats_fields[] = {
	FIELD(rx_packets),        FIELD(rx_bytes),          FIELD(tx_packets),
	FIELD(tx_bytes),          FIELD(arp_rx_requests),   FIELD(arp_rx_replies),
	FIELD(arp_tx_requests),   FIELD(arp_tx_replies),    FIELD(arp_tx_gratuitous),
	FIELD(ip_rx),             FIELD(ip_tx),             FIELD(icmp_rx_echo),
	FIELD(icmp_tx_echo_reply),
	FIELD(tx_bursts),         FIELD(tx_ring_full),      FIELD(tx_backlogged),
	FIELD(tx_linearized),
	FIELD(tx_bad_cksum),
};
#undef FIELD
const unsigned int sl_net_stats_n_fields =
	sizeof(sl_net_stats_fields) / sizeof(sl_net_stats_fields[0]);

const char *
sl_net_drop_name(enum sl_net_drop reason)
{
	if ((unsigned int)reason >= SL_NET_DROP_MAX)
		return "unknown";
	return drop_names[reason];
}

void
sl_net_stats_add(struct sl_net_stats *dst, const struct sl_net_stats *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	size_t n = offsetof(struct sl_net_stats, drops) / sizeof(uint64_t) + SL_NET_DROP_MAX;

	for (size_t i = 0; i < n; i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
