/* SPDX-License-Identifier: MIT */
/* ICMP: answer echo requests; everything else is read, counted and dropped for now. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/net/tcp/tcp_worker.h"
#include "dataplane/worker.h"
#include "cksum.h"
#include "netif.h"

#define SL_ICMP_DEST_UNREACH 3

/*
 * Destination unreachable: hand the quoted IPv4 header and the first eight
 * bytes of the transport header to the protocol that sent the datagram.
 */
static void
icmp_unreachable(struct sl_netif *ifp, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	const struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, off);
	const struct rte_ipv4_hdr *quoted;
	uint32_t qoff = off + sizeof(*ic);
	uint16_t qhlen;

	if (len < sizeof(*ic) + sizeof(*quoted) + 8 ||
	    rte_pktmbuf_data_len(m) < qoff + sizeof(*quoted)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ICMP_TRUNCATED);
		return;
	}
	quoted = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, qoff);
	qhlen = rte_ipv4_hdr_len(quoted);
	if ((quoted->version_ihl >> 4) != 4 || qhlen < sizeof(*quoted) ||
	    len < sizeof(*ic) + qhlen + 8u || rte_pktmbuf_data_len(m) < qoff + qhlen + 8u ||
	    !sl_netif_is_local(ifp, quoted->src_addr)) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ICMP_TRUNCATED);
		return;
	}
	if (quoted->next_proto_id == IPPROTO_TCP) {
		sl_tcp_icmp_input(ifp, m); /* to the worker that owns the connection */
		return;
	}
	ifp->stats.drops[SL_NET_DROP_ICMP_TYPE]++;
	rte_pktmbuf_free(m);
}

void
sl_icmp_input(struct sl_netif *ifp, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	uint16_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t off = sizeof(struct rte_ether_hdr) + hlen;
	uint32_t len = rte_pktmbuf_pkt_len(m) - off;
	struct rte_icmp_hdr *ic;
	uint32_t sum;

	if (unlikely(len < sizeof(*ic) || rte_pktmbuf_data_len(m) < off + sizeof(*ic))) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ICMP_TRUNCATED);
		return;
	}
	ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, off);
	/* The checksum covers the whole message, which may span segments. */
	uint16_t cks;
	if (sl_cksum_mbuf(m, off, len, &cks) != 0 || cks != 0xffff) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ICMP_CHECKSUM);
		return;
	}
	if (ic->icmp_type == SL_ICMP_DEST_UNREACH) {
		icmp_unreachable(ifp, m, off, len);
		return;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		sl_netif_drop(ifp, m, SL_NET_DROP_ICMP_TYPE);
		return;
	}
	ifp->stats.icmp_rx_echo++;

	/* Reply in place: type 8 -> 0, checksum adjusted incrementally (RFC 1624). */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	sum = (uint16_t)~ic->icmp_cksum + (uint16_t)~RTE_BE16(RTE_IP_ICMP_ECHO_REQUEST << 8) +
	      RTE_BE16(RTE_IP_ICMP_ECHO_REPLY << 8);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ic->icmp_cksum = ~sum & 0xffff;

	/* From the address that was pinged: a VIP answers for itself. */
	uint32_t pinged = ip->dst_addr;
	ip->dst_addr = ip->src_addr;
	ip->src_addr = pinged;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	/* Drop any IP options: they described the request's path, not ours. */
	if (hlen > sizeof(*ip)) {
		uint16_t extra = hlen - sizeof(*ip);
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

		memmove((uint8_t *)eh + extra, eh, sizeof(*eh) + sizeof(*ip));
		rte_pktmbuf_adj(m, extra);
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(*eh));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + len);
	}
	ifp->stats.icmp_tx_echo_reply++;
	/* Forget the RX flags, but not who owns the buffer (external buffers: mlx5 MPRQ, ...). */
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	sl_ipv4_output(ifp, m);
}
