/* SPDX-License-Identifier: MIT */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/net/tcp/tcp_worker.h"
#include "dataplane/worker.h"
#include "netif.h"

uint64_t
sl_netif_now_ms(const struct sl_netif *ifp)
{
	return ifp->w->now_ms;
}

void
sl_netif_drop(struct sl_netif *ifp, struct rte_mbuf *m, enum sl_net_drop reason)
{
	ifp->stats.drops[reason]++;
	rte_pktmbuf_free(m);
}

void
sl_netif_flush(struct sl_netif *ifp)
{
	uint16_t n = ifp->n_tx, sent;

	if (n == 0)
		return;
	sent = ifp->tx_burst(ifp, ifp->tx, n);
	for (uint16_t i = sent; i < n; i++) {
		/* Counted as sent when queued: a refused packet is a drop, not both. */
		ifp->stats.tx_packets--;
		ifp->stats.tx_bytes -= rte_pktmbuf_pkt_len(ifp->tx[i]);
		sl_netif_drop(ifp, ifp->tx[i], SL_NET_DROP_TX_FULL);
	}
	ifp->n_tx = 0;
}

void
sl_netif_xmit(struct sl_netif *ifp, struct rte_mbuf *m)
{
	ifp->stats.tx_packets++;
	ifp->stats.tx_bytes += rte_pktmbuf_pkt_len(m);
	ifp->tx[ifp->n_tx++] = m;
	if (ifp->n_tx == SL_TX_BURST)
		sl_netif_flush(ifp);
}

static void
eth_dispatch(struct sl_netif *ifp, struct rte_mbuf *m, bool from_peer)
{
	const struct rte_ether_hdr *eh;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eh))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ETH_RUNT);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eh->dst_addr, &ifp->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ETH_NOT_US);
		return;
	}
	switch (eh->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		/* From a peer: a TCP segment or an ICMP error about one, handed to its owner. */
		if (from_peer)
			sl_tcp_input_from_peer(ifp, m);
		else
			sl_ipv4_input(ifp, m);
		return;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		sl_arp_input(ifp, m, from_peer);
		return;
	}
	sl_netif_drop(ifp, m, SL_NET_DROP_ETH_TYPE);
}

void
sl_eth_input(struct sl_netif *ifp, struct rte_mbuf *m)
{
	ifp->stats.rx_packets++;
	ifp->stats.rx_bytes += rte_pktmbuf_pkt_len(m);
	eth_dispatch(ifp, m, false);
}

void
sl_eth_input_from_peer(struct sl_netif *ifp, struct rte_mbuf *m)
{
	eth_dispatch(ifp, m, true);
}
