/* SPDX-License-Identifier: MIT */
/*
 * IPv4 as a host (RFC 1122): validate, deliver locally, never forward.
 * Fragments are counted and dropped until reassembly exists.
 */
#include <errno.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/net/tcp/tcp_worker.h"
#include "dataplane/worker.h"
#include "netif.h"

/* Sources no host may use: 0/8, loopback, multicast and class E, limited broadcast. */
static inline bool
ipv4_bad_source(const struct sl_netif *ifp, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);
	uint8_t first = h >> 24;

	return first == 0 || first == 127 || first >= 224 || sl_netif_is_local(ifp, src) ||
	       (ifp->mask != RTE_BE32(0xffffffff) && (src | ifp->mask) == 0xffffffff &&
		(src & ifp->mask) == (ifp->ip & ifp->mask));
}

void
sl_ipv4_input(struct sl_netif *ifp, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	uint32_t avail = rte_pktmbuf_pkt_len(m) - sizeof(struct rte_ether_hdr);
	uint16_t hlen, tlen;

	ifp->stats.ip_rx++;
	if (unlikely(avail < sizeof(*ip) ||
		     rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr) + sizeof(*ip))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_TRUNCATED);
		return;
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	if (unlikely((ip->version_ihl >> 4) != 4)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_VERSION);
		return;
	}
	hlen = rte_ipv4_hdr_len(ip);
	if (unlikely(hlen < sizeof(*ip) ||
		     sizeof(struct rte_ether_hdr) + hlen > rte_pktmbuf_data_len(m))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_HDRLEN);
		return;
	}
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tlen < hlen)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_LENGTH);
		return;
	}
	if (unlikely(tlen > avail)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_TRUNCATED);
		return;
	}
	/* Trust the device's verdict when it gives one; verify ourselves otherwise. */
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		     (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, hlen) != 0xffff))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_CHECKSUM);
		return;
	}
	if (unlikely(!sl_netif_is_local(ifp, ip->dst_addr))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_NOT_US);
		return;
	}
	if (unlikely(ipv4_bad_source(ifp, ip->src_addr))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_BAD_SRC);
		return;
	}
	if (unlikely((ip->fragment_offset &
		      RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_IP_FRAGMENT);
		return;
	}
	/* Ethernet pads short frames: cut the padding so upper layers see the datagram only. */
	if (avail > tlen)
		rte_pktmbuf_trim(m, avail - tlen);

	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		sl_icmp_input(ifp, m);
		return;
	case IPPROTO_TCP:
		sl_tcp_input(ifp, m);
		return;
	}
	sl_netif_drop(ifp, m, SL_NET_DROP_IP_PROTO);
}

void
sl_ipv4_output(struct sl_netif *ifp, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint32_t nh = ip->dst_addr;

	if ((nh & ifp->mask) != (ifp->ip & ifp->mask)) {
		if (ifp->gateway == 0) {
			sl_netif_drop(ifp, m, SL_NET_DROP_NO_ROUTE);
			return;
		}
		nh = ifp->gateway;
	}
	eh->src_addr = ifp->mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->packet_id = rte_cpu_to_be_16(ifp->ip_id++);
	ip->hdr_checksum = 0;
	if (ifp->tx_ip_cksum) {
		m->l2_len = sizeof(*eh);
		m->l3_len = rte_ipv4_hdr_len(ip);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	ifp->stats.ip_tx++;
	sl_arp_output(ifp, m, nh);
}

int
sl_netif_add_addr(struct sl_netif *ifp, uint32_t ip)
{
	if (ip == 0 || ip == RTE_BE32(0xffffffff))
		return -EINVAL;
	if (sl_netif_is_local(ifp, ip))
		return -EEXIST;
	if (ifp->n_addrs >= SL_NETIF_ADDRS_MAX)
		return -ENOSPC;
	ifp->addrs[ifp->n_addrs++] = ip;
	return 0;
}
