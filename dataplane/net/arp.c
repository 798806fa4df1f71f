/* SPDX-License-Identifier: MIT */
/*
 * ARP (RFC 826) for one worker and one port: answer requests for our address,
 * resolve next hops with a bounded queue of waiting frames per entry, cache
 * answers with expiry and refresh entries in use before they die.
 *
 * Each worker keeps its own table. A reply may land on another worker's
 * queue than the one that asked, so every ARP frame a worker learns from is
 * also copied to its peers (sl_worker_share_with_peers), which only learn.
 *
 * The table is open addressing with linear probing and backward-shift
 * deletion: no tombstones, lookups stay short however the table churns.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/worker.h"
#include "netif.h"

#define ARP_MASK (SL_ARP_ENTRIES - 1)
#define ARP_FRAME_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr))

static inline unsigned int
arp_slot(uint32_t ip)
{
	return (rte_be_to_cpu_32(ip) * 2654435761u) >> 24 & ARP_MASK;
}

static struct sl_arp_entry *
arp_find(struct sl_arp_table *t, uint32_t ip)
{
	for (unsigned int i = arp_slot(ip), n = 0; n < SL_ARP_ENTRIES; i = (i + 1) & ARP_MASK, n++) {
		if (t->e[i].ip == ip)
			return &t->e[i];
		if (t->e[i].ip == 0)
			return NULL;
	}
	return NULL;
}

const struct sl_arp_entry *
sl_arp_lookup(const struct sl_netif *ifp, uint32_t ip)
{
	return arp_find((struct sl_arp_table *)&ifp->arp, ip);
}

static struct sl_arp_entry *
arp_insert(struct sl_arp_table *t, uint32_t ip)
{
	unsigned int i = arp_slot(ip);

	/* Keep one slot free so probing always terminates on an empty slot. */
	if (t->n_used >= SL_ARP_ENTRIES - 1)
		return NULL;
	while (t->e[i].ip != 0)
		i = (i + 1) & ARP_MASK;
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].ip = ip;
	t->n_used++;
	return &t->e[i];
}

static void
arp_remove(struct sl_arp_table *t, struct sl_arp_entry *e)
{
	unsigned int i = e - t->e, j = i;

	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->n_used--;
	/* Backward shift: pull later members of the probe run into the hole. */
	for (;;) {
		j = (j + 1) & ARP_MASK;
		if (t->e[j].ip == 0)
			return;
		unsigned int home = arp_slot(t->e[j].ip);
		/* Move e[j] to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->e[i] = t->e[j];
		memset(&t->e[j], 0, sizeof(t->e[j]));
		i = j;
	}
}

static void
arp_send(struct sl_netif *ifp, uint16_t op, const struct rte_ether_addr *eth_dst,
	 const struct rte_ether_addr *tha, uint32_t tip, uint32_t sip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ifp->w->pool);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (m == NULL) {
		ifp->stats.drops[SL_NET_DROP_NO_MBUF]++;
		return;
	}
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, ARP_FRAME_LEN);
	ah = (struct rte_arp_hdr *)(eh + 1);
	eh->dst_addr = *eth_dst;
	eh->src_addr = ifp->mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(uint32_t);
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = ifp->mac;
	ah->arp_data.arp_sip = sip;
	ah->arp_data.arp_tha = *tha;
	ah->arp_data.arp_tip = tip;
	sl_netif_xmit(ifp, m);
}

static const struct rte_ether_addr bcast = {.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr zero_mac;

static void
arp_request(struct sl_netif *ifp, uint32_t tip, const struct rte_ether_addr *unicast)
{
	ifp->stats.arp_tx_requests++;
	arp_send(ifp, RTE_ARP_OP_REQUEST, unicast ? unicast : &bcast, &zero_mac, tip, ifp->ip);
}

void
sl_arp_announce(struct sl_netif *ifp)
{
	ifp->stats.arp_tx_gratuitous++;
	arp_send(ifp, RTE_ARP_OP_REQUEST, &bcast, &zero_mac, ifp->ip, ifp->ip);
	for (unsigned int i = 0; i < ifp->n_addrs; i++) {
		ifp->stats.arp_tx_gratuitous++;
		arp_send(ifp, RTE_ARP_OP_REQUEST, &bcast, &zero_mac, ifp->addrs[i], ifp->addrs[i]);
	}
}

static void
arp_confirm(struct sl_netif *ifp, struct sl_arp_entry *e, const struct rte_ether_addr *mac)
{
	e->mac = *mac;
	e->state = SL_ARP_REACHABLE;
	e->tries = 0;
	e->expire_ms = sl_netif_now_ms(ifp) + SL_ARP_REACHABLE_MS;
	for (unsigned int i = 0; i < e->n_pending; i++) {
		struct rte_mbuf *m = e->pending[i];

		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = *mac;
		sl_netif_xmit(ifp, m);
	}
	e->n_pending = 0;
}

void
sl_arp_input(struct sl_netif *ifp, struct rte_mbuf *m, bool from_peer)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	struct sl_arp_entry *e;
	uint32_t sip, tip;
	uint16_t op;
	bool for_us;

	if (rte_pktmbuf_data_len(m) < ARP_FRAME_LEN ||
	    ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != sizeof(uint32_t)) {
		goto malformed;
	}
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		goto malformed;
	/* A sender claiming a broadcast or multicast hardware address is lying. */
	if (!rte_is_unicast_ether_addr(&ah->arp_data.arp_sha) ||
	    rte_is_zero_ether_addr(&ah->arp_data.arp_sha))
		goto malformed;

	sip = ah->arp_data.arp_sip;
	tip = ah->arp_data.arp_tip;
	for_us = sl_netif_is_local(ifp, tip); /* the port's address or one of its VIPs */
	if (!from_peer) {
		if (op == RTE_ARP_OP_REQUEST)
			ifp->stats.arp_rx_requests++;
		else
			ifp->stats.arp_rx_replies++;
	}

	/*
	 * RFC 826 merge: refresh what we already know about the sender; learn a
	 * new sender only when it is talking to us. A probe (sender 0.0.0.0)
	 * teaches nothing; a sender using our own address is a conflict we
	 * do not want in the table.
	 */
	e = NULL;
	if (sip != 0 && !sl_netif_is_local(ifp, sip)) {
		e = arp_find(&ifp->arp, sip);
		if (e == NULL && for_us) {
			e = arp_insert(&ifp->arp, sip);
			if (e == NULL && !from_peer)
				ifp->stats.drops[SL_NET_DROP_ARP_TABLE_FULL]++;
		}
		if (e != NULL)
			arp_confirm(ifp, e, &ah->arp_data.arp_sha);
	}
	if (from_peer) {
		rte_pktmbuf_free(m);
		return;
	}
	if (e != NULL)
		sl_worker_share_with_peers(ifp->w, ifp, m);

	if (!for_us || op != RTE_ARP_OP_REQUEST) {
		if (for_us || e != NULL)
			rte_pktmbuf_free(m); /* a reply or announcement we learned from */
		else
			sl_netif_drop(ifp, m, SL_NET_DROP_ARP_NOT_US);
		return;
	}

	/* Turn the request into our reply in place. */
	ifp->stats.arp_tx_replies++;
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - ARP_FRAME_LEN);
	eh->dst_addr = ah->arp_data.arp_sha;
	eh->src_addr = ifp->mac;
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	ah->arp_data.arp_tha = ah->arp_data.arp_sha;
	ah->arp_data.arp_tip = sip;
	ah->arp_data.arp_sha = ifp->mac;
	ah->arp_data.arp_sip = tip; /* the address asked for: ours or a VIP */
	sl_netif_xmit(ifp, m);
	return;

malformed:
	if (from_peer)
		rte_pktmbuf_free(m);
	else
		sl_netif_drop(ifp, m, SL_NET_DROP_ARP_MALFORMED);
}

void
sl_arp_output(struct sl_netif *ifp, struct rte_mbuf *m, uint32_t nh)
{
	struct sl_arp_entry *e = arp_find(&ifp->arp, nh);

	if (likely(e != NULL && e->state == SL_ARP_REACHABLE)) {
		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = e->mac;
		sl_netif_xmit(ifp, m);
		return;
	}
	if (e == NULL) {
		e = arp_insert(&ifp->arp, nh);
		if (e == NULL) {
			sl_netif_drop(ifp, m, SL_NET_DROP_ARP_TABLE_FULL);
			return;
		}
		e->state = SL_ARP_INCOMPLETE;
		e->tries = 1;
		e->expire_ms = sl_netif_now_ms(ifp) + SL_ARP_RETRY_MS;
		arp_request(ifp, nh, NULL);
	}
	if (e->n_pending == SL_ARP_PENDING_MAX) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ARP_PENDING_FULL);
		return;
	}
	e->pending[e->n_pending++] = m;
}

static void
arp_drop_pending(struct sl_netif *ifp, struct sl_arp_entry *e)
{
	for (unsigned int i = 0; i < e->n_pending; i++)
		sl_netif_drop(ifp, e->pending[i], SL_NET_DROP_ARP_UNRESOLVED);
	e->n_pending = 0;
}

void
sl_arp_tick(struct sl_netif *ifp)
{
	struct sl_arp_table *t = &ifp->arp;
	uint64_t now = sl_netif_now_ms(ifp);

	for (unsigned int i = 0; i < SL_ARP_ENTRIES && t->n_used > 0; i++) {
		struct sl_arp_entry *e = &t->e[i];

		if (e->ip == 0)
			continue;
		if (e->state == SL_ARP_INCOMPLETE && now >= e->expire_ms) {
			if (e->tries < SL_ARP_TRIES) {
				e->tries++;
				e->expire_ms = now + SL_ARP_RETRY_MS;
				arp_request(ifp, e->ip, NULL);
				continue;
			}
			arp_drop_pending(ifp, e);
		} else if (e->state == SL_ARP_REACHABLE && now >= e->expire_ms) {
			/* Nobody confirmed it, refresh probes included: forget it. */
		} else {
			if (e->state == SL_ARP_REACHABLE && e->tries == 0 &&
			    now + SL_ARP_REFRESH_MS >= e->expire_ms) {
				/* Ask the holder directly, as Linux does, before the entry dies. */
				e->tries = 1;
				arp_request(ifp, e->ip, &e->mac);
			}
			continue;
		}
		arp_remove(t, e);
		i--; /* the backward shift may have pulled another entry into slot i */
	}
}

uint32_t
sl_arp_dump(const struct sl_netif *ifp, struct sl_msg_arp_entry *out, uint32_t cap)
{
	uint64_t now = sl_netif_now_ms(ifp);
	uint32_t n = 0;

	for (unsigned int i = 0; i < SL_ARP_ENTRIES && n < cap; i++) {
		const struct sl_arp_entry *e = &ifp->arp.e[i];

		if (e->ip == 0)
			continue;
		out[n].ip = e->ip;
		memcpy(out[n].mac, e->mac.addr_bytes, sizeof(out[n].mac));
		out[n].state = e->state;
		out[n].port = ifp->index;
		out[n].expires_in_ms = e->expire_ms > now ? (uint32_t)(e->expire_ms - now) : 0;
		n++;
	}
	return n;
}

void
sl_arp_flush_pending(struct sl_netif *ifp)
{
	for (unsigned int i = 0; i < SL_ARP_ENTRIES; i++) {
		struct sl_arp_entry *e = &ifp->arp.e[i];

		for (unsigned int k = 0; k < e->n_pending; k++)
			rte_pktmbuf_free(e->pending[k]);
		e->n_pending = 0;
	}
}
