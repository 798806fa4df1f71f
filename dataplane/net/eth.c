/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_debug.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/net/cksum.h"
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

/*
 * Take a packet we counted as sent off the books: it is dropped after all.
 * (Counted as sent when queued, so that a refused packet is a drop, not both.)
 */
static void
netif_tx_drop(struct sl_netif *ifp, struct rte_mbuf *m, enum sl_net_drop reason)
{
	ifp->stats.tx_packets--;
	ifp->stats.tx_bytes -= rte_pktmbuf_pkt_len(m);
	sl_netif_drop(ifp, m, reason);
}

/* Keep m for the next flush, after what waits already; drop it when there is no room. */
static void
netif_backlog_push(struct sl_netif *ifp, struct rte_mbuf *m)
{
	if (ifp->bl_n == SL_TX_BACKLOG) {
		netif_tx_drop(ifp, m, SL_NET_DROP_TX_FULL);
		return;
	}
	if (ifp->bl_n == 0)
		ifp->bl_moved_ms = ifp->w->now_ms;
	ifp->backlog[(ifp->bl_head + ifp->bl_n) & (SL_TX_BACKLOG - 1)] = m;
	ifp->bl_n++;
	ifp->stats.tx_backlogged++;
}

/* Offer the backlog to the device, oldest first; stop at the first refusal. */
static void
netif_backlog_drain(struct sl_netif *ifp)
{
	while (ifp->bl_n > 0) {
		uint16_t run = RTE_MIN(ifp->bl_n, (uint16_t)(SL_TX_BACKLOG - ifp->bl_head));
		uint16_t sent = ifp->tx_burst(ifp, ifp->backlog + ifp->bl_head, run);

		ifp->stats.tx_bursts++;

		ifp->bl_head = (ifp->bl_head + sent) & (SL_TX_BACKLOG - 1);
		ifp->bl_n -= sent;
		if (sent > 0)
			ifp->bl_moved_ms = ifp->w->now_ms;
		if (sent < run) {
			ifp->stats.tx_ring_full++;
			if (ifp->w->now_ms - ifp->bl_moved_ms >= SL_TX_STUCK_MS)
				sl_netif_tx_discard(ifp);
			return;
		}
	}
	ifp->bl_head = 0;
}

/*
 * Run the device's tx_prepare over pkts (offload fix-ups, and the check for
 * what it cannot send at all), drop and count what it refuses, and close the
 * gaps. With tx_verify, check every packet the device will get. Returns how
 * many remain, in their order.
 */
static uint16_t
netif_prepare(struct sl_netif *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t done = 0;

	while (ifp->tx_prepare != NULL && done < n) {
		uint16_t ok = ifp->tx_prepare(ifp, pkts + done, n - done);

		done += ok;
		if (done == n)
			break;
		netif_tx_drop(ifp, pkts[done], SL_NET_DROP_TX_PREPARE);
		memmove(pkts + done, pkts + done + 1, (size_t)(n - done - 1) * sizeof(*pkts));
		n--;
	}
#ifdef SL_TX_VERIFY
	for (uint16_t i = 0; i < n; i++) {
		if (unlikely(sl_netif_tx_verify(ifp, pkts[i]) != 0)) {
			rte_pktmbuf_dump(stderr, pkts[i], 128);
			rte_panic(
			    "sluice: tx_verify: a packet with a wrong checksum or offload set-up "
			    "was about to leave port %u (see the dump above)\n",
			    ifp->port_id);
		}
	}
#endif
	return n;
}

void
sl_netif_flush(struct sl_netif *ifp)
{
	uint16_t n, sent = 0;

	if (ifp->bl_n > 0)
		netif_backlog_drain(ifp);
	if (ifp->n_tx == 0)
		return;
	n = netif_prepare(ifp, ifp->tx, ifp->n_tx);
	ifp->n_tx = 0;
	/* Nothing may overtake what waits in the backlog: the device gets it first. */
	if (ifp->bl_n == 0 && n > 0) {
		sent = ifp->tx_burst(ifp, ifp->tx, n);
		ifp->stats.tx_bursts++;
		if (sent < n)
			ifp->stats.tx_ring_full++;
	}
	for (uint16_t i = sent; i < n; i++)
		netif_backlog_push(ifp, ifp->tx[i]);
}

void
sl_netif_tx_discard(struct sl_netif *ifp)
{
	while (ifp->bl_n > 0) {
		netif_tx_drop(ifp, ifp->backlog[ifp->bl_head], SL_NET_DROP_TX_FULL);
		ifp->bl_head = (ifp->bl_head + 1) & (SL_TX_BACKLOG - 1);
		ifp->bl_n--;
	}
	ifp->bl_head = 0;
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

/* ---- tx_verify ---- */

static int
tx_verify_fail(struct sl_netif *ifp)
{
	ifp->stats.tx_bad_cksum++;
	return -EBADMSG;
}

int
sl_netif_tx_verify(struct sl_netif *ifp, const struct rte_mbuf *m)
{
	const uint32_t eth_len = sizeof(struct rte_ether_hdr);
	const struct rte_ipv4_hdr *ip;
	uint32_t len = 0, ihl, tot, l4_len;
	uint16_t segs = 0, sum;
	uint64_t fl = m->ol_flags;

	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		len += s->data_len;
		segs++;
	}
	if (len != m->pkt_len || segs != m->nb_segs ||
	    (ifp->tx_seg_max != 0 && segs > ifp->tx_seg_max))
		return tx_verify_fail(ifp);
	if (m->data_len < eth_len)
		return tx_verify_fail(ifp);
	if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type !=
	    RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return 0; /* ARP: no checksum */
	/* The stack writes every header into the first mbuf. */
	if (m->data_len < eth_len + sizeof(*ip))
		return tx_verify_fail(ifp);
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, eth_len);
	ihl = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	/* An echo reply reuses a request that the sender's NIC may have padded: tot <= len. */
	if (ihl < sizeof(*ip) || m->data_len < eth_len + ihl || tot < ihl || tot > len - eth_len)
		return tx_verify_fail(ifp);
	if (fl & RTE_MBUF_F_TX_IP_CKSUM) {
		if (!ifp->tx_ip_cksum || !(fl & RTE_MBUF_F_TX_IPV4) || m->l2_len != eth_len ||
		    m->l3_len != ihl)
			return tx_verify_fail(ifp);
	} else if (rte_raw_cksum(ip, ihl) != 0xffff) {
		return tx_verify_fail(ifp);
	}
	l4_len = tot - ihl;
	if (ip->next_proto_id == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th;

		if (l4_len < sizeof(*th) || m->data_len < eth_len + ihl + sizeof(*th))
			return tx_verify_fail(ifp);
		th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
		if ((fl & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM) {
			/* The device completes the sum from the pseudo-header's, which we check. */
			if (!ifp->tx_tcp_cksum || !(fl & RTE_MBUF_F_TX_IPV4) ||
			    m->l2_len != eth_len || m->l3_len != ihl ||
			    m->l4_len != (th->data_off >> 4) * 4u ||
			    m->data_len < eth_len + ihl + m->l4_len ||
			    (m->nb_segs > 1 && !ifp->tx_l4_cksum_chained) ||
			    th->cksum != rte_ipv4_phdr_cksum(ip, fl))
				return tx_verify_fail(ifp);
			return 0;
		}
		if ((fl & RTE_MBUF_F_TX_L4_MASK) != 0)
			return tx_verify_fail(ifp);
		if (sl_cksum_mbuf(m, eth_len + ihl, l4_len, &sum) != 0 ||
		    sl_cksum_fold((uint32_t)sum + rte_ipv4_phdr_cksum(ip, 0)) != 0xffff)
			return tx_verify_fail(ifp);
		return 0;
	}
	if ((fl & RTE_MBUF_F_TX_L4_MASK) != 0)
		return tx_verify_fail(ifp);
	if (ip->next_proto_id == IPPROTO_ICMP &&
	    (sl_cksum_mbuf(m, eth_len + ihl, l4_len, &sum) != 0 || sum != 0xffff))
		return tx_verify_fail(ifp);
	return 0;
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
