/* SPDX-License-Identifier: MIT */
/*
 * The network stack driven in-process: each test builds frames, feeds them
 * to a worker's netif as if the NIC had received them, and asserts on what
 * the stack hands to the device (a capture function stands in for
 * rte_eth_tx_burst) and on the counters.
 *
 * EAL runs once, without PCI and without hugepages, only for mbufs, rings
 * and rte_malloc. Time is a virtual clock: the test sets worker.now_ms.
 * After every test all mbufs must be back in the pool.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "dataplane/net/netif.h"
#include "dataplane/worker.h"
#include "eal_fixture.h"
#include "wire.h"

#define POOL_SIZE 4095
#define CAP_MAX 1024
#define T0 1000000ull /* virtual clock at the start of every test, in ms */
#define ETH_LEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define ICMP_LEN ((uint16_t)sizeof(struct rte_icmp_hdr))
#define ARP_LEN ((uint16_t)(ETH_LEN + sizeof(struct rte_arp_hdr)))
#define MIN_FRAME 60 /* shortest Ethernet frame without FCS: shorter ones arrive padded */
#define ECHO_ID 0x4242
#define ECHO_SEQ 7
#define ICMP_TIMESTAMP 13 /* RFC 792 timestamp request */

/* All addresses from 198.18.0.0/15 (RFC 2544 benchmarking). */
#define IP4(a, b, c, d)                                                                            \
	RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_IP IP4(198, 18, 0, 2)
#define PEER_IP IP4(198, 18, 0, 10)
#define OTHER_IP IP4(198, 18, 0, 3)
#define GW_IP IP4(198, 18, 0, 1)
#define FAR_IP IP4(198, 19, 5, 5)

static const struct rte_ether_addr our_mac = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x10}};
static const struct rte_ether_addr peer_mac2 = {{0x02, 0, 0, 0, 0, 0x11}};
static const struct rte_ether_addr other_mac = {{0x02, 0, 0, 0, 0, 0x03}};
static const struct rte_ether_addr gw_mac = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr zero_mac;

static struct rte_mempool *pool;
static unsigned int pool_avail_at_start;
static struct sl_worker worker;
static struct sl_netif ifp;

/* What the "device" accepted, in order. */
static struct rte_mbuf *cap[CAP_MAX];
static unsigned int n_cap;
static uint16_t tx_room; /* how many packets tx_capture accepts per call */
static unsigned int tx_calls;

static uint16_t
tx_capture(struct sl_netif *i, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t take = n < tx_room ? n : tx_room;

	(void)i;
	tx_calls++;
	for (uint16_t k = 0; k < take; k++) {
		CU_ASSERT_FATAL(n_cap < CAP_MAX);
		cap[n_cap++] = pkts[k];
	}
	return take;
}

static uint16_t
tx_refuse(struct sl_netif *i, struct rte_mbuf **pkts, uint16_t n)
{
	(void)i;
	(void)pkts;
	(void)n;
	tx_calls++;
	return 0;
}

static void
free_captured(void)
{
	for (unsigned int k = 0; k < n_cap; k++)
		rte_pktmbuf_free(cap[k]);
	n_cap = 0;
}

static void
setup(void)
{
	memset(&worker, 0, sizeof(worker));
	memset(&ifp, 0, sizeof(ifp));
	worker.n_workers = 1;
	worker.pool = pool;
	worker.now_ms = T0;
	worker.n_netif = 1;
	worker.netif[0] = &ifp;
	ifp.w = &worker;
	ifp.mtu = 1500;
	ifp.mac = our_mac;
	ifp.ip = OUR_IP;
	ifp.mask = IP4(255, 255, 255, 0);
	ifp.tx_burst = tx_capture;
	tx_room = UINT16_MAX;
	tx_calls = 0;
	n_cap = 0;
	pool_avail_at_start = rte_mempool_avail_count(pool);
}

static void
teardown(void)
{
	sl_arp_flush_pending(&ifp);
	sl_netif_flush(&ifp);
	sl_netif_tx_discard(&ifp);
	free_captured();
	/* No test may leak or double-free an mbuf. */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), pool_avail_at_start);
}

static uint64_t
drops_total(void)
{
	uint64_t n = 0;

	for (unsigned int r = 0; r < SL_NET_DROP_MAX; r++)
		n += ifp.stats.drops[r];
	return n;
}

/* Exactly n drops so far, all for this reason. */
#define EXPECT_DROPS(reason, n)                                                                    \
	do {                                                                                       \
		CU_ASSERT_EQUAL(ifp.stats.drops[SL_NET_DROP_##reason], (n));                       \
		CU_ASSERT_EQUAL(drops_total(), (n));                                               \
	} while (0)

/* ---- frame building ---- */

/* One's complement sum of big-endian 16-bit words, folded: 0xffff over a valid message. */
static uint16_t
sum16(const uint8_t *p, size_t len)
{
	return sum_fold(sum_add(0, p, len));
}

static struct rte_ipv4_hdr *
frame_ip(uint8_t *f)
{
	return (struct rte_ipv4_hdr *)(f + ETH_LEN);
}

static unsigned int
frame_ip_hlen(const uint8_t *f)
{
	return (f[ETH_LEN] & 0xf) * 4;
}

static void
fix_ip_cksum(uint8_t *f)
{
	uint8_t *ip = f + ETH_LEN;
	unsigned int hlen = frame_ip_hlen(f);

	put16(ip + 10, 0);
	put16(ip + 10, ~sum16(ip, hlen));
}

static void
fix_icmp_cksum(uint8_t *f)
{
	uint8_t *ip = f + ETH_LEN;
	unsigned int hlen = frame_ip_hlen(f);
	uint8_t *ic = ip + hlen;

	put16(ic + 2, 0);
	put16(ic + 2, ~sum16(ic, get16(ip + 2) - hlen));
}

static uint8_t
payload_byte(unsigned int i)
{
	/* High bytes on purpose: segment sums overflow 16 bits. */
	return (uint8_t)(0xf7 - i * 13);
}

/*
 * An ICMP message of type `type` with `plen` payload bytes in an IPv4
 * datagram with `optlen` bytes of options (NOPs), in an Ethernet frame from
 * the peer to us; checksums valid. f is zeroed up to the minimum frame
 * length, so feeding MIN_FRAME bytes of a short frame sends it padded.
 * Returns the frame length without padding.
 */
static uint16_t
build_icmp(uint8_t *f, uint32_t src, uint32_t dst, uint8_t type, uint16_t plen, uint8_t optlen)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = frame_ip(f);
	uint16_t hlen = IP_LEN + optlen;
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint8_t *payload = (uint8_t *)(ic + 1);
	uint16_t tlen = hlen + ICMP_LEN + plen;

	memset(f, 0, ETH_LEN + tlen < MIN_FRAME ? MIN_FRAME : ETH_LEN + tlen);
	eh->dst_addr = our_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x40 | hlen / 4;
	ip->total_length = rte_cpu_to_be_16(tlen);
	ip->packet_id = RTE_BE16(0x1234);
	ip->time_to_live = 61;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	memset(ip + 1, RTE_IPV4_HDR_OPT_NOP, optlen);
	ic->icmp_type = type;
	ic->icmp_ident = RTE_BE16(ECHO_ID);
	ic->icmp_seq_nb = RTE_BE16(ECHO_SEQ);
	for (unsigned int i = 0; i < plen; i++)
		payload[i] = payload_byte(i);
	fix_icmp_cksum(f);
	fix_ip_cksum(f);
	return ETH_LEN + tlen;
}

static uint16_t
build_echo(uint8_t *f, uint32_t src, uint16_t plen)
{
	return build_icmp(f, src, OUR_IP, RTE_IP_ICMP_ECHO_REQUEST, plen, 0);
}

static struct rte_arp_hdr *
frame_arp(uint8_t *f)
{
	return (struct rte_arp_hdr *)(f + ETH_LEN);
}

/* An ARP frame, zero padded to MIN_FRAME in f; returns its unpadded length. */
static uint16_t
build_arp(uint8_t *f, uint16_t op, const struct rte_ether_addr *eth_dst,
	  const struct rte_ether_addr *sha, uint32_t sip, const struct rte_ether_addr *tha,
	  uint32_t tip)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *ah = frame_arp(f);

	memset(f, 0, MIN_FRAME);
	eh->dst_addr = *eth_dst;
	eh->src_addr = *sha;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = sip;
	ah->arp_data.arp_tha = *tha;
	ah->arp_data.arp_tip = tip;
	return ARP_LEN;
}

static struct rte_mbuf *
mbuf_from(const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	p = rte_pktmbuf_append(m, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, f, len);
	return m;
}

/* Receive one frame, then flush TX as the worker does at the end of each iteration. */
static void
feed_mbuf(struct rte_mbuf *m)
{
	sl_eth_input(&ifp, m);
	sl_netif_flush(&ifp);
}

static void
feed(const uint8_t *f, uint16_t len)
{
	feed_mbuf(mbuf_from(f, len));
}

static void
tick_at(uint64_t now)
{
	worker.now_ms = now;
	sl_arp_tick(&ifp);
	sl_netif_flush(&ifp);
}

/* Teach the table ip -> mac with an ARP reply addressed to us (nothing is sent). */
static void
learn_host(uint32_t ip, const struct rte_ether_addr *mac)
{
	uint8_t f[MIN_FRAME];

	build_arp(f, RTE_ARP_OP_REPLY, &our_mac, mac, ip, &our_mac, OUR_IP);
	feed(f, MIN_FRAME);
}

/*
 * An outgoing IPv4 frame as sl_arp_output expects it, marked by its first
 * payload byte. A valid datagram (of an experimental protocol, RFC 3692):
 * tx_verify checks the header of everything that leaves.
 */
static struct rte_mbuf *
ip_frame_marked(uint8_t marker)
{
	uint8_t f[ETH_LEN + IP_LEN + 1];
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + ETH_LEN);

	memset(f, 0, sizeof(f));
	eh->src_addr = our_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(IP_LEN + 1);
	ip->time_to_live = 64;
	ip->next_proto_id = 253;
	ip->src_addr = OUR_IP;
	ip->dst_addr = PEER_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	f[ETH_LEN + IP_LEN] = marker;
	return mbuf_from(f, sizeof(f));
}

static uint8_t
marker_of(const struct rte_mbuf *m)
{
	return *rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH_LEN + IP_LEN);
}

static const struct rte_ether_hdr *
cap_eth(unsigned int k)
{
	return rte_pktmbuf_mtod(cap[k], const struct rte_ether_hdr *);
}

static const struct rte_arp_hdr *
cap_arp(unsigned int k)
{
	return rte_pktmbuf_mtod_offset(cap[k], const struct rte_arp_hdr *, ETH_LEN);
}

/* Captured frame k is an ARP request from us for tip, sent to eth_dst. */
static void
check_arp_request(unsigned int k, const struct rte_ether_addr *eth_dst, uint32_t tip)
{
	const struct rte_ether_hdr *eh = cap_eth(k);
	const struct rte_arp_hdr *ah = cap_arp(k);

	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(cap[k]), ARP_LEN);
	CU_ASSERT(rte_is_same_ether_addr(&eh->dst_addr, eth_dst));
	CU_ASSERT(rte_is_same_ether_addr(&eh->src_addr, &our_mac));
	CU_ASSERT_EQUAL(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	CU_ASSERT_EQUAL(ah->arp_hardware, RTE_BE16(RTE_ARP_HRD_ETHER));
	CU_ASSERT_EQUAL(ah->arp_protocol, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	CU_ASSERT_EQUAL(ah->arp_hlen, RTE_ETHER_ADDR_LEN);
	CU_ASSERT_EQUAL(ah->arp_plen, 4);
	CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &our_mac));
	CU_ASSERT_EQUAL(ah->arp_data.arp_sip, OUR_IP);
	CU_ASSERT(rte_is_zero_ether_addr(&ah->arp_data.arp_tha));
	CU_ASSERT_EQUAL(ah->arp_data.arp_tip, tip);
}

/*
 * Captured frame k is our echo reply to an echo request of plen payload
 * bytes (as built by build_icmp) from `to`, sent to eth_dst.
 */
static void
check_echo_reply(unsigned int k, uint32_t to, const struct rte_ether_addr *eth_dst, uint16_t plen)
{
	static uint8_t buf[RTE_MBUF_DEFAULT_BUF_SIZE * 2];
	uint16_t tlen = IP_LEN + ICMP_LEN + plen;
	const struct rte_mbuf *m = cap[k];
	const uint8_t *f;
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	const struct rte_icmp_hdr *ic;
	uint8_t copy[ICMP_LEN];

	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_pkt_len(m), ETH_LEN + tlen);
	f = rte_pktmbuf_read(m, 0, ETH_LEN + tlen, buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	eh = (const struct rte_ether_hdr *)f;
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	ic = (const struct rte_icmp_hdr *)(ip + 1);

	CU_ASSERT(rte_is_same_ether_addr(&eh->dst_addr, eth_dst));
	CU_ASSERT(rte_is_same_ether_addr(&eh->src_addr, &our_mac));
	CU_ASSERT_EQUAL(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));

	CU_ASSERT_EQUAL(ip->version_ihl, 0x45);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->total_length), tlen);
	CU_ASSERT_EQUAL(ip->fragment_offset & ~RTE_BE16(RTE_IPV4_HDR_DF_FLAG), 0);
	CU_ASSERT(ip->time_to_live > 0);
	CU_ASSERT_EQUAL(ip->next_proto_id, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(ip->src_addr, OUR_IP);
	CU_ASSERT_EQUAL(ip->dst_addr, to);
	if (ifp.tx_ip_cksum) {
		CU_ASSERT_EQUAL(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM),
				RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
		CU_ASSERT_EQUAL(m->l2_len, ETH_LEN);
		CU_ASSERT_EQUAL(m->l3_len, IP_LEN);
	} else {
		CU_ASSERT_EQUAL(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM, 0);
		CU_ASSERT_EQUAL(sum16((const uint8_t *)ip, IP_LEN), 0xffff);
	}

	CU_ASSERT_EQUAL(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	CU_ASSERT_EQUAL(ic->icmp_code, 0);
	CU_ASSERT_EQUAL(ic->icmp_ident, RTE_BE16(ECHO_ID));
	CU_ASSERT_EQUAL(ic->icmp_seq_nb, RTE_BE16(ECHO_SEQ));
	for (unsigned int i = 0; i < plen; i++) {
		if (((const uint8_t *)(ic + 1))[i] != payload_byte(i)) {
			CU_FAIL("echo reply payload differs from the request's");
			break;
		}
	}
	/* The checksum is valid, and is what a fresh computation gives. */
	CU_ASSERT_EQUAL(sum16((const uint8_t *)ic, ICMP_LEN + plen), 0xffff);
	memcpy(copy, ic, ICMP_LEN);
	put16(copy + 2, 0);
	{
		uint32_t s = sum16(copy, ICMP_LEN) + sum16((const uint8_t *)(ic + 1), plen);
		uint16_t fresh = ~((s & 0xffff) + (s >> 16)) & 0xffff;

		CU_ASSERT_EQUAL(get16((const uint8_t *)ic + 2), fresh);
	}
}

/* ---- Ethernet ---- */

static void
test_eth_runt_is_dropped(void)
{
	uint8_t f[MIN_FRAME] = {0};

	feed(f, ETH_LEN - 1);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ETH_RUNT, 1);
	CU_ASSERT_EQUAL(ifp.stats.rx_packets, 1);
	CU_ASSERT_EQUAL(ifp.stats.rx_bytes, ETH_LEN - 1);
}

static void
test_eth_unicast_to_other_mac_is_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	((struct rte_ether_hdr *)f)->dst_addr = other_mac;
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ETH_NOT_US, 1);
	CU_ASSERT_EQUAL(ifp.stats.ip_rx, 0);
}

static void
test_eth_multicast_is_dropped(void)
{
	static const struct rte_ether_addr mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	((struct rte_ether_hdr *)f)->dst_addr = mcast;
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ETH_NOT_US, 1);
}

static void
test_eth_unknown_ethertype_is_dropped(void)
{
	static const uint16_t types[] = {RTE_ETHER_TYPE_IPV6, RTE_ETHER_TYPE_VLAN,
					 RTE_ETHER_TYPE_QINQ, 0x0000};
	uint8_t f[MIN_FRAME];

	for (unsigned int i = 0; i < RTE_DIM(types); i++) {
		uint16_t len = build_echo(f, PEER_IP, 8);

		((struct rte_ether_hdr *)f)->ether_type = rte_cpu_to_be_16(types[i]);
		feed(f, len);
		CU_ASSERT_EQUAL(ifp.stats.drops[SL_NET_DROP_ETH_TYPE], i + 1);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ETH_TYPE, RTE_DIM(types));
	CU_ASSERT_EQUAL(ifp.stats.ip_rx, 0);
}

static void
test_eth_rx_counters_count_every_frame(void)
{
	uint8_t f[MIN_FRAME] = {0};
	uint16_t len;

	learn_host(PEER_IP, &peer_mac); /* 60 bytes */
	feed(f, 3);                     /* runt: counted all the same */
	len = build_echo(f, PEER_IP, 4);
	feed(f, MIN_FRAME); /* padding counts: it was on the wire */
	CU_ASSERT(len < MIN_FRAME);
	CU_ASSERT_EQUAL(ifp.stats.rx_packets, 3);
	CU_ASSERT_EQUAL(ifp.stats.rx_bytes, MIN_FRAME + 3 + MIN_FRAME);
	CU_ASSERT_EQUAL(n_cap, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_bytes, len);
}

static void
test_eth_frame_from_peer_worker_is_not_counted_as_received(void)
{
	uint8_t f[MIN_FRAME];

	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	sl_eth_input_from_peer(&ifp, mbuf_from(f, MIN_FRAME));
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(ifp.stats.rx_packets, 0);
	CU_ASSERT_EQUAL(ifp.stats.arp_rx_requests, 0);
	CU_ASSERT_EQUAL(n_cap, 0); /* the worker that received it answers */
	CU_ASSERT_PTR_NOT_NULL(sl_arp_lookup(&ifp, PEER_IP));
	EXPECT_DROPS(ETH_RUNT, 0);
}

/* ---- ARP ---- */

static void
test_arp_request_for_us_gets_reply(void)
{
	uint8_t f[MIN_FRAME];
	const struct sl_arp_entry *e;
	const struct rte_ether_hdr *eh;
	const struct rte_arp_hdr *ah;

	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	feed(f, MIN_FRAME);

	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	eh = cap_eth(0);
	ah = cap_arp(0);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(cap[0]), ARP_LEN); /* padding trimmed */
	CU_ASSERT(rte_is_same_ether_addr(&eh->dst_addr, &peer_mac));
	CU_ASSERT(rte_is_same_ether_addr(&eh->src_addr, &our_mac));
	CU_ASSERT_EQUAL(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	CU_ASSERT_EQUAL(ah->arp_hardware, RTE_BE16(RTE_ARP_HRD_ETHER));
	CU_ASSERT_EQUAL(ah->arp_protocol, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	CU_ASSERT_EQUAL(ah->arp_hlen, RTE_ETHER_ADDR_LEN);
	CU_ASSERT_EQUAL(ah->arp_plen, 4);
	CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &our_mac));
	CU_ASSERT_EQUAL(ah->arp_data.arp_sip, OUR_IP);
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_tha, &peer_mac));
	CU_ASSERT_EQUAL(ah->arp_data.arp_tip, PEER_IP);

	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, SL_ARP_REACHABLE);
	CU_ASSERT(rte_is_same_ether_addr(&e->mac, &peer_mac));
	CU_ASSERT_EQUAL(e->expire_ms, T0 + SL_ARP_REACHABLE_MS);

	CU_ASSERT_EQUAL(ifp.stats.arp_rx_requests, 1);
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_replies, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_bytes, ARP_LEN);
	EXPECT_DROPS(ARP_NOT_US, 0);
}

static void
test_arp_request_for_other_ip_is_dropped_as_not_us(void)
{
	uint8_t f[MIN_FRAME];

	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OTHER_IP);
	feed(f, MIN_FRAME);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ARP_NOT_US, 1);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, PEER_IP));
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
}

static void
test_arp_malformed_frames_are_counted_as_malformed(void)
{
	static const struct rte_ether_addr mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	enum { SHORT, HW_TYPE, PROTO, HLEN, PLEN, SHA_MCAST, SHA_BCAST, OP_RARP, OP_ZERO, N_CASES };
	uint8_t f[MIN_FRAME];

	for (unsigned int c = 0; c < N_CASES; c++) {
		struct rte_arp_hdr *ah = frame_arp(f);
		uint16_t len = MIN_FRAME;

		build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
		switch (c) {
		case SHORT:
			len = ARP_LEN - 1;
			break;
		case HW_TYPE:
			ah->arp_hardware = RTE_BE16(6); /* IEEE 802 */
			break;
		case PROTO:
			ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV6);
			break;
		case HLEN:
			ah->arp_hlen = 8;
			break;
		case PLEN:
			ah->arp_plen = 16;
			break;
		case SHA_MCAST:
			ah->arp_data.arp_sha = mcast;
			break;
		case SHA_BCAST:
			ah->arp_data.arp_sha = bcast_mac;
			break;
		case OP_RARP:
			ah->arp_opcode = RTE_BE16(3);
			break;
		case OP_ZERO:
			ah->arp_opcode = 0;
			break;
		}
		feed(f, len);
		CU_ASSERT_EQUAL(ifp.stats.drops[SL_NET_DROP_ARP_MALFORMED], c + 1);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ARP_MALFORMED, N_CASES);
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_replies, 0);
}

static void
test_arp_gratuitous_from_known_host_updates_its_mac(void)
{
	uint8_t f[MIN_FRAME];
	const struct sl_arp_entry *e;

	learn_host(PEER_IP, &peer_mac);
	worker.now_ms = T0 + 1000;
	/* Announcement as a request: sender and target address are the sender's. */
	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac2, PEER_IP, &zero_mac, PEER_IP);
	feed(f, MIN_FRAME);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(rte_is_same_ether_addr(&e->mac, &peer_mac2));
	CU_ASSERT_EQUAL(e->state, SL_ARP_REACHABLE);
	CU_ASSERT_EQUAL(e->expire_ms, T0 + 1000 + SL_ARP_REACHABLE_MS);

	/* ... and as a reply. */
	build_arp(f, RTE_ARP_OP_REPLY, &bcast_mac, &peer_mac, PEER_IP, &bcast_mac, PEER_IP);
	feed(f, MIN_FRAME);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(rte_is_same_ether_addr(&e->mac, &peer_mac));

	CU_ASSERT_EQUAL(n_cap, 0);
	CU_ASSERT_EQUAL(drops_total(), 0);
	CU_ASSERT_EQUAL(ifp.arp.n_used, 1);
}

static void
test_arp_gratuitous_from_unknown_host_creates_no_entry(void)
{
	uint8_t f[MIN_FRAME];

	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, PEER_IP);
	feed(f, MIN_FRAME);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, PEER_IP));
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ARP_NOT_US, 1);
}

static void
test_arp_announce_sends_gratuitous_request(void)
{
	sl_arp_announce(&ifp);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_arp_request(0, &bcast_mac, OUR_IP);
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_gratuitous, 1);
}

static void
test_arp_output_to_unknown_next_hop_queues_and_broadcasts_one_request(void)
{
	const struct sl_arp_entry *e;

	for (uint8_t k = 0; k < 3; k++)
		sl_arp_output(&ifp, ip_frame_marked(k), PEER_IP);
	sl_netif_flush(&ifp);

	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_arp_request(0, &bcast_mac, PEER_IP);
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_requests, 1);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, SL_ARP_INCOMPLETE);
	CU_ASSERT_EQUAL(e->n_pending, 3);
	CU_ASSERT_EQUAL(e->expire_ms, T0 + SL_ARP_RETRY_MS);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_arp_reply_releases_pending_frames_in_order(void)
{
	uint8_t f[MIN_FRAME];
	const struct sl_arp_entry *e;

	for (uint8_t k = 0; k < 3; k++)
		sl_arp_output(&ifp, ip_frame_marked(k), PEER_IP);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	free_captured();

	build_arp(f, RTE_ARP_OP_REPLY, &our_mac, &peer_mac, PEER_IP, &our_mac, OUR_IP);
	feed(f, MIN_FRAME);
	CU_ASSERT_EQUAL_FATAL(n_cap, 3);
	for (unsigned int k = 0; k < 3; k++) {
		CU_ASSERT(rte_is_same_ether_addr(&cap_eth(k)->dst_addr, &peer_mac));
		CU_ASSERT(rte_is_same_ether_addr(&cap_eth(k)->src_addr, &our_mac));
		CU_ASSERT_EQUAL(marker_of(cap[k]), k);
	}
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, SL_ARP_REACHABLE);
	CU_ASSERT_EQUAL(e->n_pending, 0);
	CU_ASSERT_EQUAL(ifp.stats.arp_rx_replies, 1);
	CU_ASSERT_EQUAL(drops_total(), 0);

	/* Later frames go straight out. */
	free_captured();
	sl_arp_output(&ifp, ip_frame_marked(9), PEER_IP);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	CU_ASSERT(rte_is_same_ether_addr(&cap_eth(0)->dst_addr, &peer_mac));
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_requests, 1);
}

static void
test_arp_pending_queue_is_bounded(void)
{
	const struct sl_arp_entry *e;

	for (unsigned int k = 0; k < SL_ARP_PENDING_MAX + 2; k++)
		sl_arp_output(&ifp, ip_frame_marked(k), PEER_IP);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(n_cap, 1);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->n_pending, SL_ARP_PENDING_MAX);
	/* The oldest are kept: they were queued first. */
	for (unsigned int k = 0; k < SL_ARP_PENDING_MAX; k++)
		CU_ASSERT_EQUAL(marker_of(e->pending[k]), k);
	EXPECT_DROPS(ARP_PENDING_FULL, 2);
}

static void
test_arp_tick_retries_then_drops_pending_as_unresolved(void)
{
	const struct sl_arp_entry *e;

	sl_arp_output(&ifp, ip_frame_marked(0), PEER_IP);
	sl_arp_output(&ifp, ip_frame_marked(1), PEER_IP);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);

	for (unsigned int t = 2; t <= SL_ARP_TRIES; t++) {
		uint64_t due = T0 + (uint64_t)(t - 1) * SL_ARP_RETRY_MS;

		tick_at(due - 1);
		CU_ASSERT_EQUAL(n_cap, t - 1);
		tick_at(due);
		CU_ASSERT_EQUAL_FATAL(n_cap, t);
		check_arp_request(t - 1, &bcast_mac, PEER_IP);
		e = sl_arp_lookup(&ifp, PEER_IP);
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		CU_ASSERT_EQUAL(e->n_pending, 2);
		CU_ASSERT_EQUAL(e->tries, t);
	}
	tick_at(T0 + (uint64_t)SL_ARP_TRIES * SL_ARP_RETRY_MS - 1);
	CU_ASSERT_PTR_NOT_NULL(sl_arp_lookup(&ifp, PEER_IP));
	EXPECT_DROPS(ARP_UNRESOLVED, 0);

	tick_at(T0 + (uint64_t)SL_ARP_TRIES * SL_ARP_RETRY_MS);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, PEER_IP));
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
	CU_ASSERT_EQUAL(n_cap, SL_ARP_TRIES);
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_requests, SL_ARP_TRIES);
	EXPECT_DROPS(ARP_UNRESOLVED, 2);

	/* The next frame starts a fresh resolution. */
	sl_arp_output(&ifp, ip_frame_marked(2), PEER_IP);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(n_cap, SL_ARP_TRIES + 1);
}

static void
test_arp_request_without_mbuf_counts_no_mbuf_and_retries_on_tick(void)
{
	struct rte_mbuf *frame = ip_frame_marked(0), *m;
	struct rte_mbuf *hoard[POOL_SIZE];
	unsigned int n = 0;
	const struct sl_arp_entry *e;

	while (n < RTE_DIM(hoard) && (m = rte_pktmbuf_alloc(pool)) != NULL)
		hoard[n++] = m;
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), 0);
	sl_arp_output(&ifp, frame, PEER_IP);
	sl_netif_flush(&ifp);
	for (unsigned int k = 0; k < n; k++)
		rte_pktmbuf_free(hoard[k]);

	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(NO_MBUF, 1);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->n_pending, 1);

	tick_at(T0 + SL_ARP_RETRY_MS);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_arp_request(0, &bcast_mac, PEER_IP);
}

static void
test_arp_reachable_entry_is_refreshed_by_unicast_then_expires(void)
{
	const uint64_t death = T0 + SL_ARP_REACHABLE_MS;
	const struct sl_arp_entry *e;

	learn_host(PEER_IP, &peer_mac);
	CU_ASSERT_EQUAL(n_cap, 0);

	tick_at(death - SL_ARP_REFRESH_MS - 1);
	CU_ASSERT_EQUAL(n_cap, 0);
	tick_at(death - SL_ARP_REFRESH_MS);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_arp_request(0, &peer_mac, PEER_IP);
	/* One refresh per life, not one per tick. */
	tick_at(death - SL_ARP_REFRESH_MS + SL_TICK_MS);
	tick_at(death - 1);
	CU_ASSERT_EQUAL(n_cap, 1);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, SL_ARP_REACHABLE);

	tick_at(death);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, PEER_IP));
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_arp_refresh_answered_keeps_entry_alive(void)
{
	const uint64_t death = T0 + SL_ARP_REACHABLE_MS;
	const uint64_t answered = death - SL_ARP_REFRESH_MS + 10;
	uint8_t f[MIN_FRAME];
	const struct sl_arp_entry *e;

	learn_host(PEER_IP, &peer_mac);
	tick_at(death - SL_ARP_REFRESH_MS);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);

	worker.now_ms = answered;
	build_arp(f, RTE_ARP_OP_REPLY, &our_mac, &peer_mac, PEER_IP, &our_mac, OUR_IP);
	feed(f, MIN_FRAME);
	tick_at(death);
	e = sl_arp_lookup(&ifp, PEER_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, SL_ARP_REACHABLE);
	CU_ASSERT_EQUAL(e->expire_ms, answered + SL_ARP_REACHABLE_MS);
	CU_ASSERT_EQUAL(e->tries, 0);

	/* The next life gets its own refresh. */
	tick_at(answered + SL_ARP_REACHABLE_MS - SL_ARP_REFRESH_MS);
	CU_ASSERT_EQUAL(n_cap, 2);
}

/*
 * Host i's address: a bijective mix of i over 198.18.0.0/15. Consecutive
 * addresses would hash to distinct slots (multiplicative hashing spreads
 * them evenly) and never build the long probe runs that deletion must repair.
 */
static uint32_t
churn_ip(unsigned int i)
{
	const uint32_t mask = (1u << 17) - 1;
	uint32_t x = (i + 1) & mask;

	x = (x * 0x1a3b5) & mask;
	x ^= x >> 9;
	x = (x * 0x0c2d7) & mask;
	x ^= x >> 7;
	return rte_cpu_to_be_32((198u << 24 | 18u << 16) + x);
}

static struct rte_ether_addr
churn_mac(unsigned int i)
{
	struct rte_ether_addr mac = {{0x02, 0, 0, 0x77, i >> 8, i & 0xff}};

	return mac;
}

/*
 * Hosts base .. base+n-1: those in `want` are found with their MAC, the
 * others are absent, and nothing else is in the table.
 */
static void
check_churn_table(unsigned int base, unsigned int n, bool (*want)(unsigned int))
{
	unsigned int present = 0, occupied = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct sl_arp_entry *e = sl_arp_lookup(&ifp, churn_ip(base + i));
		struct rte_ether_addr mac = churn_mac(base + i);

		if (want(i)) {
			CU_ASSERT_PTR_NOT_NULL(e);
			if (e != NULL) {
				CU_ASSERT(rte_is_same_ether_addr(&e->mac, &mac));
				present++;
			}
		} else {
			CU_ASSERT_PTR_NULL(e);
		}
	}
	for (unsigned int s = 0; s < SL_ARP_ENTRIES; s++)
		occupied += ifp.arp.e[s].ip != 0;
	CU_ASSERT_EQUAL(occupied, present);
	CU_ASSERT_EQUAL(ifp.arp.n_used, present);
}

static bool
is_odd(unsigned int i)
{
	return i & 1;
}

static bool
is_even(unsigned int i)
{
	return !(i & 1);
}

static bool
is_any(unsigned int i)
{
	(void)i;
	return true;
}

static void
learn_churn_hosts(unsigned int base, unsigned int first, unsigned int n)
{
	for (unsigned int i = first; i < n; i += 2) {
		struct rte_ether_addr mac = churn_mac(base + i);

		learn_host(churn_ip(base + i), &mac);
	}
}

static void
test_arp_table_churn_keeps_every_remaining_entry_reachable(void)
{
	const unsigned int n = 200, generations = 8;
	const uint64_t later = 10000;

	/* Each generation of hosts fills the table, loses half, refills, loses the other half. */
	for (unsigned int g = 0; g < generations; g++) {
		const unsigned int base = g * n;
		const uint64_t t0 = worker.now_ms;

		learn_churn_hosts(base, 0, n); /* even hosts at t0 */
		worker.now_ms = t0 + later;
		learn_churn_hosts(base, 1, n); /* odd hosts later */
		check_churn_table(base, n, is_any);

		/* The even half dies; the odd half is not even due for a refresh. */
		tick_at(t0 + SL_ARP_REACHABLE_MS);
		check_churn_table(base, n, is_odd);

		/* Re-learn the even half, let the odd half die. */
		learn_churn_hosts(base, 0, n);
		check_churn_table(base, n, is_any);
		tick_at(t0 + later + SL_ARP_REACHABLE_MS);
		check_churn_table(base, n, is_even);

		/* Everything dies. */
		tick_at(t0 + 2 * (uint64_t)SL_ARP_REACHABLE_MS + later);
		CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_arp_table_full_counts_table_full(void)
{
	const unsigned int cap_entries = SL_ARP_ENTRIES - 1; /* one slot stays free */
	uint8_t f[MIN_FRAME];

	for (unsigned int i = 0; i < cap_entries; i++) {
		struct rte_ether_addr mac = churn_mac(i);

		CU_ASSERT_FATAL(churn_ip(i) != PEER_IP && churn_ip(i) != OTHER_IP);
		learn_host(churn_ip(i), &mac);
	}
	CU_ASSERT_EQUAL(ifp.arp.n_used, cap_entries);
	check_churn_table(0, cap_entries, is_any);
	EXPECT_DROPS(ARP_TABLE_FULL, 0);

	/* A request for us from a new host: still answered, not learned. */
	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	feed(f, MIN_FRAME);
	CU_ASSERT_EQUAL(n_cap, 1);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, PEER_IP));
	EXPECT_DROPS(ARP_TABLE_FULL, 1);

	/* A frame to a new next hop: dropped, nobody asked. */
	sl_arp_output(&ifp, ip_frame_marked(0), OTHER_IP);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(n_cap, 1);
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_requests, 0);
	EXPECT_DROPS(ARP_TABLE_FULL, 2);
	CU_ASSERT_EQUAL(ifp.arp.n_used, cap_entries);
}

static void
test_arp_learned_frame_is_copied_to_peer_workers(void)
{
	struct rte_ring *r = rte_ring_create("sl_dptest_peer", 2, SOCKET_ID_ANY,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct sl_netif *peer_ifp = rte_zmalloc("sl_dptest_netif", sizeof(*peer_ifp),
						RTE_CACHE_LINE_SIZE);
	struct sl_worker *peer_w = rte_zmalloc("sl_dptest_worker", sizeof(*peer_w),
					       RTE_CACHE_LINE_SIZE);
	uint8_t f[MIN_FRAME];
	void *copy = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(peer_ifp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(peer_w);
	ifp.port_id = 3;
	worker.n_workers = 2;
	worker.to_peer[1] = r; /* capacity 1 */

	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	feed(f, MIN_FRAME);
	CU_ASSERT_EQUAL(n_cap, 1);
	CU_ASSERT_EQUAL(rte_ring_count(r), 1);
	/* The ring is full now: the next copy is counted and freed. */
	feed(f, MIN_FRAME);
	CU_ASSERT_EQUAL(n_cap, 2);
	EXPECT_DROPS(PEER_RING_FULL, 1);

	/* The peer gets the request as received, and learns from it without answering. */
	CU_ASSERT_EQUAL_FATAL(rte_ring_sc_dequeue(r, &copy), 0);
	CU_ASSERT_EQUAL(((struct rte_mbuf *)copy)->port, 3);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len((struct rte_mbuf *)copy), MIN_FRAME);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod((struct rte_mbuf *)copy, void *), f, MIN_FRAME), 0);
	peer_w->n_workers = 2;
	peer_w->pool = pool;
	peer_w->now_ms = T0;
	peer_ifp->w = peer_w;
	peer_ifp->mac = our_mac;
	peer_ifp->ip = OUR_IP;
	peer_ifp->mask = ifp.mask;
	peer_ifp->tx_burst = tx_capture;
	sl_eth_input_from_peer(peer_ifp, copy);
	sl_netif_flush(peer_ifp);
	CU_ASSERT_EQUAL(n_cap, 2);
	CU_ASSERT_PTR_NOT_NULL(sl_arp_lookup(peer_ifp, PEER_IP));
	CU_ASSERT_EQUAL(peer_ifp->stats.arp_rx_requests, 0);

	rte_ring_free(r);
	rte_free(peer_ifp);
	rte_free(peer_w);
}

/* ---- IPv4 ---- */

static void
test_ipv4_truncated_header_is_dropped(void)
{
	uint8_t f[MIN_FRAME];

	build_echo(f, PEER_IP, 0);
	feed(f, ETH_LEN + IP_LEN - 1);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_TRUNCATED, 1);
}

static void
test_ipv4_version_6_is_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	frame_ip(f)->version_ihl = 0x65;
	fix_ip_cksum(f);
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_VERSION, 1);
}

static void
test_ipv4_ihl_below_5_is_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	frame_ip(f)->version_ihl = 0x44;
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_HDRLEN, 1);
}

static void
test_ipv4_ihl_beyond_frame_is_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	frame_ip(f)->version_ihl = 0x4f; /* 60-byte header in a 50-byte frame */
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_HDRLEN, 1);
}

static void
test_ipv4_bad_header_checksum_is_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	frame_ip(f)->hdr_checksum ^= RTE_BE16(0x0100);
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_CHECKSUM, 1);
}

static void
test_ipv4_total_length_below_header_is_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	frame_ip(f)->total_length = rte_cpu_to_be_16(IP_LEN - 1);
	fix_ip_cksum(f);
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_LENGTH, 1);
}

static void
test_ipv4_total_length_beyond_frame_is_dropped_as_truncated(void)
{
	uint8_t f[128];
	uint16_t len = build_echo(f, PEER_IP, 40);

	frame_ip(f)->total_length = rte_cpu_to_be_16(len - ETH_LEN + 1);
	fix_ip_cksum(f);
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_TRUNCATED, 1);
}

static void
test_ipv4_other_destination_is_dropped_as_not_us(void)
{
	static const uint32_t dsts[] = {IP4(198, 18, 0, 3), IP4(198, 18, 0, 255),
					IP4(255, 255, 255, 255), IP4(224, 0, 0, 1)};
	uint8_t f[MIN_FRAME];

	for (unsigned int i = 0; i < RTE_DIM(dsts); i++) {
		uint16_t len = build_icmp(f, PEER_IP, dsts[i], RTE_IP_ICMP_ECHO_REQUEST, 8, 0);

		feed(f, len);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_NOT_US, RTE_DIM(dsts));
}

static void
test_ipv4_bad_sources_are_dropped(void)
{
	static const uint32_t srcs[] = {
		IP4(127, 0, 0, 1),   /* loopback */
		IP4(0, 1, 2, 3),     /* "this" network */
		IP4(0, 0, 0, 0),
		IP4(224, 0, 0, 1),   /* multicast */
		IP4(240, 0, 0, 1),   /* class E */
		IP4(255, 255, 255, 255),
		OUR_IP,
		IP4(198, 18, 0, 255), /* our subnet's broadcast */
	};
	uint8_t f[MIN_FRAME];

	for (unsigned int i = 0; i < RTE_DIM(srcs); i++) {
		uint16_t len = build_echo(f, srcs[i], 8);

		feed(f, len);
		CU_ASSERT_EQUAL(ifp.stats.drops[SL_NET_DROP_IP_BAD_SRC], i + 1);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_BAD_SRC, RTE_DIM(srcs));
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
}

static void
test_ipv4_fragments_are_dropped(void)
{
	static const uint16_t frag[] = {RTE_IPV4_HDR_MF_FLAG, 1, RTE_IPV4_HDR_MF_FLAG | 185,
					RTE_IPV4_HDR_DF_FLAG | 1};
	uint8_t f[MIN_FRAME];

	for (unsigned int i = 0; i < RTE_DIM(frag); i++) {
		uint16_t len = build_echo(f, PEER_IP, 8);

		frame_ip(f)->fragment_offset = rte_cpu_to_be_16(frag[i]);
		fix_ip_cksum(f);
		feed(f, len);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_FRAGMENT, RTE_DIM(frag));
}

static void
test_ipv4_dont_fragment_flag_is_accepted(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);

	learn_host(PEER_IP, &peer_mac);
	frame_ip(f)->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	fix_ip_cksum(f);
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 8);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_ipv4_unknown_protocol_is_dropped(void)
{
	static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_IGMP, 255};
	uint8_t f[MIN_FRAME];

	for (unsigned int i = 0; i < RTE_DIM(protos); i++) {
		uint16_t len = build_echo(f, PEER_IP, 8);

		frame_ip(f)->next_proto_id = protos[i];
		fix_ip_cksum(f);
		feed(f, len);
	}
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_PROTO, RTE_DIM(protos));
	CU_ASSERT_EQUAL(ifp.stats.ip_rx, RTE_DIM(protos));
}

static void
test_ipv4_ethernet_padding_is_trimmed(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 4);

	CU_ASSERT_EQUAL(len, ETH_LEN + IP_LEN + ICMP_LEN + 4);
	learn_host(PEER_IP, &peer_mac);
	feed(f, MIN_FRAME); /* 14 bytes of padding on the wire */
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 4);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(cap[0]), len);
	EXPECT_DROPS(ICMP_CHECKSUM, 0);
}

static void
test_ipv4_rx_cksum_bad_flag_drops_valid_header(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);
	struct rte_mbuf *m = mbuf_from(f, len);

	learn_host(PEER_IP, &peer_mac);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	feed_mbuf(m);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(IP_CHECKSUM, 1);
}

static void
test_ipv4_rx_cksum_good_flag_skips_verification(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 8);
	struct rte_mbuf *m;

	learn_host(PEER_IP, &peer_mac);
	frame_ip(f)->hdr_checksum ^= RTE_BE16(0x0100); /* the device vouched for it */
	m = mbuf_from(f, len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	feed_mbuf(m);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 8);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

/* ---- ICMP ---- */

static void
test_icmp_echo_request_gets_echo_reply(void)
{
	uint8_t f[256];
	uint16_t len = build_echo(f, PEER_IP, 56);

	learn_host(PEER_IP, &peer_mac);
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 56);
	CU_ASSERT_EQUAL(ifp.stats.ip_rx, 1);
	CU_ASSERT_EQUAL(ifp.stats.ip_tx, 1);
	CU_ASSERT_EQUAL(ifp.stats.icmp_rx_echo, 1);
	CU_ASSERT_EQUAL(ifp.stats.icmp_tx_echo_reply, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_bytes, len);
	CU_ASSERT_EQUAL(drops_total(), 0);

	/* Successive replies carry distinct IP identifications. */
	{
		rte_be16_t id0 =
			rte_pktmbuf_mtod_offset(cap[0], struct rte_ipv4_hdr *, ETH_LEN)->packet_id;

		feed(f, len);
		CU_ASSERT_EQUAL_FATAL(n_cap, 2);
		check_echo_reply(1, PEER_IP, &peer_mac, 56);
		CU_ASSERT_NOT_EQUAL(
			rte_pktmbuf_mtod_offset(cap[1], struct rte_ipv4_hdr *, ETH_LEN)->packet_id,
			id0);
	}
}

static void
test_icmp_echo_reply_requests_ip_checksum_offload(void)
{
	uint8_t f[256];
	uint16_t len = build_echo(f, PEER_IP, 32);
	const struct rte_ipv4_hdr *ip;

	ifp.tx_ip_cksum = true;
	learn_host(PEER_IP, &peer_mac);
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 32);
	ip = rte_pktmbuf_mtod_offset(cap[0], const struct rte_ipv4_hdr *, ETH_LEN);
	CU_ASSERT_EQUAL(ip->hdr_checksum, 0); /* the device fills it from zero */
}

static void
test_icmp_echo_with_ip_options_gets_reply_without_options(void)
{
	uint8_t f[256];
	uint16_t len = build_icmp(f, PEER_IP, OUR_IP, RTE_IP_ICMP_ECHO_REQUEST, 20, 8);

	CU_ASSERT_EQUAL(frame_ip_hlen(f), IP_LEN + 8);
	learn_host(PEER_IP, &peer_mac);
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 20);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(cap[0]), len - 8);

	/* Same with the device computing the header checksum. */
	ifp.tx_ip_cksum = true;
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 2);
	check_echo_reply(1, PEER_IP, &peer_mac, 20);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_icmp_bad_checksum_is_dropped(void)
{
	uint8_t f[256];
	uint16_t len = build_echo(f, PEER_IP, 56);

	learn_host(PEER_IP, &peer_mac);
	f[len - 1] ^= 0x01;
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ICMP_CHECKSUM, 1);
	CU_ASSERT_EQUAL(ifp.stats.icmp_rx_echo, 0);
}

static void
test_icmp_truncated_is_dropped(void)
{
	uint8_t f[MIN_FRAME];

	build_echo(f, PEER_IP, 0);
	frame_ip(f)->total_length = rte_cpu_to_be_16(IP_LEN + ICMP_LEN - 4);
	fix_ip_cksum(f);
	feed(f, MIN_FRAME); /* the padding must not pass for the rest of the header */
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ICMP_TRUNCATED, 1);
}

static void
test_icmp_other_types_are_dropped(void)
{
	uint8_t f[MIN_FRAME];
	uint16_t len;

	learn_host(PEER_IP, &peer_mac);
	len = build_icmp(f, PEER_IP, OUR_IP, ICMP_TIMESTAMP, 12, 0);
	feed(f, len);
	len = build_icmp(f, PEER_IP, OUR_IP, RTE_IP_ICMP_ECHO_REPLY, 8, 0);
	feed(f, len);
	len = build_icmp(f, PEER_IP, OUR_IP, RTE_IP_ICMP_ECHO_REQUEST, 8, 0);
	f[ETH_LEN + IP_LEN + 1] = 1; /* code 1: not an echo request */
	fix_icmp_cksum(f);
	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(ICMP_TYPE, 3);
}

static void
test_icmp_multi_segment_echo_request_gets_reply(void)
{
	const uint16_t plen = 301;
	/* First segment ends: inside the ICMP header, at odd and even payload offsets. */
	static const uint16_t heads[] = {ETH_LEN + IP_LEN + ICMP_LEN,
					 ETH_LEN + IP_LEN + ICMP_LEN + 33,
					 ETH_LEN + IP_LEN + ICMP_LEN + 34,
					 ETH_LEN + IP_LEN + ICMP_LEN + 300};
	uint8_t f[512];
	uint16_t len = build_echo(f, PEER_IP, plen);

	learn_host(PEER_IP, &peer_mac);
	for (unsigned int i = 0; i < RTE_DIM(heads); i++) {
		struct rte_mbuf *m1 = mbuf_from(f, heads[i]);
		struct rte_mbuf *m2 = mbuf_from(f + heads[i], len - heads[i]);

		CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_chain(m1, m2), 0);
		feed_mbuf(m1);
		CU_ASSERT_EQUAL_FATAL(n_cap, i + 1);
		CU_ASSERT_EQUAL(cap[i]->nb_segs, 2);
		check_echo_reply(i, PEER_IP, &peer_mac, plen);
	}
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_icmp_echo_reply_to_off_link_source_goes_via_gateway(void)
{
	uint8_t f[256], a[MIN_FRAME];
	uint16_t len = build_echo(f, FAR_IP, 24);
	const struct sl_arp_entry *e;

	ifp.gateway = GW_IP;
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_arp_request(0, &bcast_mac, GW_IP);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, FAR_IP));
	e = sl_arp_lookup(&ifp, GW_IP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->n_pending, 1);

	build_arp(a, RTE_ARP_OP_REPLY, &our_mac, &gw_mac, GW_IP, &our_mac, OUR_IP);
	feed(a, MIN_FRAME);
	CU_ASSERT_EQUAL_FATAL(n_cap, 2);
	check_echo_reply(1, FAR_IP, &gw_mac, 24);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

static void
test_icmp_echo_reply_to_unresolved_on_link_source_waits_for_arp(void)
{
	uint8_t f[256], a[MIN_FRAME];
	uint16_t len = build_echo(f, PEER_IP, 24);

	ifp.gateway = GW_IP; /* on-link: the gateway is not involved */
	feed(f, len);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_arp_request(0, &bcast_mac, PEER_IP);
	CU_ASSERT_PTR_NULL(sl_arp_lookup(&ifp, GW_IP));

	build_arp(a, RTE_ARP_OP_REPLY, &our_mac, &peer_mac, PEER_IP, &our_mac, OUR_IP);
	feed(a, MIN_FRAME);
	CU_ASSERT_EQUAL_FATAL(n_cap, 2);
	check_echo_reply(1, PEER_IP, &peer_mac, 24);
}

static void
test_icmp_echo_reply_to_off_link_source_without_gateway_counts_no_route(void)
{
	uint8_t f[256];
	uint16_t len = build_echo(f, FAR_IP, 24);

	feed(f, len);
	CU_ASSERT_EQUAL(n_cap, 0);
	EXPECT_DROPS(NO_ROUTE, 1);
	CU_ASSERT_EQUAL(ifp.stats.icmp_rx_echo, 1);
	CU_ASSERT_EQUAL(ifp.stats.ip_tx, 0);
	CU_ASSERT_EQUAL(ifp.arp.n_used, 0);
}

static bool ext_freed;

static void
ext_free_cb(void *addr, void *opaque)
{
	(void)addr;
	*(bool *)opaque = true;
}

static void
test_icmp_echo_reply_in_external_buffer_returns_it_to_its_owner(void)
{
	/* Drivers such as mlx5 (multi-packet RQ) hand out mbufs with external buffers. */
	uint16_t buf_len = RTE_MBUF_DEFAULT_BUF_SIZE + 256;
	void *buf = rte_malloc("sl_dptest_ext", buf_len, RTE_CACHE_LINE_SIZE);
	struct rte_mbuf_ext_shared_info *shinfo;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t f[256];
	uint16_t len = build_echo(f, PEER_IP, 56);

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ext_freed = false;
	shinfo = rte_pktmbuf_ext_shinfo_init_helper(buf, &buf_len, ext_free_cb, &ext_freed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shinfo);
	rte_pktmbuf_attach_extbuf(m, buf, rte_malloc_virt2iova(buf), buf_len, shinfo);
	memcpy(rte_pktmbuf_append(m, len), f, len);

	learn_host(PEER_IP, &peer_mac);
	feed_mbuf(m);
	CU_ASSERT_EQUAL_FATAL(n_cap, 1);
	check_echo_reply(0, PEER_IP, &peer_mac, 56);
	CU_ASSERT(RTE_MBUF_HAS_EXTBUF(cap[0]) != 0); /* a 64-bit flag: CU_ASSERT takes an int */
	free_captured();
	CU_ASSERT(ext_freed);
	/* If the mbuf forgot its buffer, the pool may still point into it: keep it. */
	if (ext_freed)
		rte_free(buf);
}

/* ---- TX ---- */

static void
test_netif_xmit_flushes_automatically_at_tx_burst(void)
{
	for (unsigned int k = 0; k < SL_TX_BURST - 1; k++)
		sl_netif_xmit(&ifp, ip_frame_marked(k));
	CU_ASSERT_EQUAL(n_cap, 0);
	CU_ASSERT_EQUAL(tx_calls, 0);
	CU_ASSERT_EQUAL(ifp.n_tx, SL_TX_BURST - 1);
	sl_netif_xmit(&ifp, ip_frame_marked(SL_TX_BURST - 1));
	CU_ASSERT_EQUAL(tx_calls, 1);
	CU_ASSERT_EQUAL_FATAL(n_cap, SL_TX_BURST);
	CU_ASSERT_EQUAL(ifp.n_tx, 0);
	for (unsigned int k = 0; k < SL_TX_BURST; k++)
		CU_ASSERT_EQUAL(marker_of(cap[k]), k);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, SL_TX_BURST);
	CU_ASSERT_EQUAL(ifp.stats.tx_bytes, SL_TX_BURST * (ETH_LEN + IP_LEN + 1));

	/* An empty flush does not bother the device. */
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(tx_calls, 1);
	CU_ASSERT_EQUAL(drops_total(), 0);
}

/* The captured frames carry the markers first, first + 1, ... (mod 256): none lost, none reordered. */
static void
expect_markers_in_order(unsigned int first, unsigned int n)
{
	unsigned int bad = 0;

	CU_ASSERT_EQUAL_FATAL(n_cap, n);
	for (unsigned int k = 0; k < n; k++)
		bad += marker_of(cap[k]) != (uint8_t)(first + k);
	CU_ASSERT_EQUAL(bad, 0);
}

/*
 * A full TX ring used to cost the packets it refused (issue 6): now they wait
 * in the backlog and go first at the next flush, before anything newer.
 */
static void
test_netif_flush_keeps_what_the_device_refused_and_sends_it_first(void)
{
	const unsigned int n = 20, room = 7;

	tx_room = room;
	for (unsigned int k = 0; k < n; k++)
		sl_netif_xmit(&ifp, ip_frame_marked(k));
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(tx_calls, 1);
	expect_markers_in_order(0, room);
	CU_ASSERT_EQUAL(ifp.n_tx, 0);
	CU_ASSERT_EQUAL(ifp.bl_n, n - room);
	CU_ASSERT(sl_netif_tx_pending(&ifp));
	CU_ASSERT_EQUAL(ifp.stats.tx_ring_full, 1);
	CU_ASSERT_EQUAL(ifp.stats.tx_backlogged, n - room);
	CU_ASSERT_EQUAL(drops_total(), 0);

	/* Newer frames queue behind the backlog; the device gets the oldest first. */
	for (unsigned int k = n; k < n + 5; k++)
		sl_netif_xmit(&ifp, ip_frame_marked(k));
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(tx_calls, 2); /* the backlog only: it stopped at the refusal */
	expect_markers_in_order(0, 2 * room);
	CU_ASSERT_EQUAL(ifp.bl_n, n + 5 - 2 * room);
	CU_ASSERT_EQUAL(ifp.stats.tx_ring_full, 2);
	CU_ASSERT_EQUAL(ifp.stats.tx_backlogged, n - room + 5);

	/* The ring drains: everything leaves, in order, and nothing was dropped. */
	tx_room = UINT16_MAX;
	sl_netif_flush(&ifp);
	expect_markers_in_order(0, n + 5);
	CU_ASSERT_EQUAL(ifp.bl_n, 0);
	CU_ASSERT_FALSE(sl_netif_tx_pending(&ifp));
	CU_ASSERT_EQUAL(drops_total(), 0);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, n + 5);
	CU_ASSERT_EQUAL(ifp.stats.tx_bytes, (n + 5) * (ETH_LEN + IP_LEN + 1));
	free_captured();
}

/* A device that takes a few packets per call, for many rounds: the backlog wraps, order holds. */
static void
test_netif_backlog_wraps_around_and_keeps_order(void)
{
	unsigned int sent = 0;

	for (unsigned int round = 0; round < 200; round++) {
		tx_room = (uint16_t)(1 + round % 5);
		for (unsigned int k = 0; k < 4; k++)
			sl_netif_xmit(&ifp, ip_frame_marked((uint8_t)sent++));
		sl_netif_flush(&ifp);
		CU_ASSERT_FATAL(ifp.bl_n < SL_TX_BACKLOG);
	}
	CU_ASSERT(ifp.stats.tx_ring_full > 0);
	tx_room = UINT16_MAX;
	sl_netif_flush(&ifp);
	expect_markers_in_order(0, sent);
	CU_ASSERT_EQUAL(drops_total(), 0);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, sent);
	free_captured();
}

/* The backlog is bounded: beyond it new packets are dropped and counted as tx_full. */
static void
test_netif_backlog_beyond_its_bound_drops_and_counts_tx_full(void)
{
	const unsigned int extra = 40;
	uint8_t f[MIN_FRAME];

	ifp.tx_burst = tx_refuse;
	for (unsigned int k = 0; k < SL_TX_BACKLOG + extra; k++)
		sl_netif_xmit(&ifp, ip_frame_marked((uint8_t)k));
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(ifp.bl_n, SL_TX_BACKLOG);
	EXPECT_DROPS(TX_FULL, extra);
	CU_ASSERT_EQUAL(ifp.stats.tx_backlogged, SL_TX_BACKLOG);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, SL_TX_BACKLOG);

	/* An ARP reply finds the backlog full too. */
	build_arp(f, RTE_ARP_OP_REQUEST, &bcast_mac, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	feed(f, MIN_FRAME);
	EXPECT_DROPS(TX_FULL, extra + 1);

	/* The oldest SL_TX_BACKLOG made it, in order, once the device takes packets again. */
	ifp.tx_burst = tx_capture;
	sl_netif_flush(&ifp);
	expect_markers_in_order(0, SL_TX_BACKLOG);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, SL_TX_BACKLOG);
	free_captured();
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), pool_avail_at_start);
}

/* At shutdown what still waits is freed and counted. */
static void
test_netif_tx_discard_frees_and_counts_the_backlog(void)
{
	ifp.tx_burst = tx_refuse;
	for (unsigned int k = 0; k < 10; k++)
		sl_netif_xmit(&ifp, ip_frame_marked((uint8_t)k));
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(ifp.bl_n, 10);
	sl_netif_tx_discard(&ifp);
	CU_ASSERT_EQUAL(ifp.bl_n, 0);
	EXPECT_DROPS(TX_FULL, 10);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), pool_avail_at_start);
}

/*
 * A device that takes nothing for SL_TX_STUCK_MS is stuck, not busy (or a
 * packet at the head is one it will never take): the backlog is dropped, and
 * what comes after flows again.
 */
static void
test_netif_backlog_of_a_stuck_device_is_dropped_after_a_while(void)
{
	ifp.tx_burst = tx_refuse;
	for (unsigned int k = 0; k < 10; k++)
		sl_netif_xmit(&ifp, ip_frame_marked((uint8_t)k));
	sl_netif_flush(&ifp);
	worker.now_ms = T0 + SL_TX_STUCK_MS - 1;
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(ifp.bl_n, 10);
	CU_ASSERT_EQUAL(drops_total(), 0);
	worker.now_ms = T0 + SL_TX_STUCK_MS;
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(ifp.bl_n, 0);
	EXPECT_DROPS(TX_FULL, 10);

	/* A device that takes a little now and then is busy: nothing is dropped. */
	ifp.tx_burst = tx_capture;
	tx_room = 1;
	for (unsigned int k = 0; k < 20; k++)
		sl_netif_xmit(&ifp, ip_frame_marked((uint8_t)k));
	for (unsigned int t = 1; t <= 20; t++) {
		worker.now_ms = T0 + SL_TX_STUCK_MS + t * (SL_TX_STUCK_MS - 1);
		sl_netif_flush(&ifp);
	}
	CU_ASSERT_EQUAL(ifp.bl_n, 0);
	EXPECT_DROPS(TX_FULL, 10);
	expect_markers_in_order(0, 20);
	free_captured();
}

static unsigned int prep_calls;

/* rte_eth_tx_prepare of a device that cannot send frames whose marker is 3 mod 5. */
static uint16_t
tx_prepare_refusing(struct sl_netif *i, struct rte_mbuf **pkts, uint16_t n)
{
	(void)i;
	prep_calls++;
	for (uint16_t k = 0; k < n; k++)
		if (marker_of(pkts[k]) % 5 == 3)
			return k;
	return n;
}

/* What tx_prepare refuses is dropped and counted; the rest goes out in order. */
static void
test_netif_tx_prepare_refusals_are_dropped_and_the_rest_sent_in_order(void)
{
	const unsigned int n = 20;
	unsigned int bad = 0, k = 0;

	ifp.tx_prepare = tx_prepare_refusing;
	for (unsigned int i = 0; i < n; i++)
		sl_netif_xmit(&ifp, ip_frame_marked((uint8_t)i));
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(prep_calls, 5);
	EXPECT_DROPS(TX_PREPARE, 4);
	CU_ASSERT_EQUAL_FATAL(n_cap, n - 4);
	for (unsigned int i = 0; i < n; i++) {
		if (i % 5 == 3)
			continue;
		bad += marker_of(cap[k++]) != i;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(ifp.stats.tx_packets, n - 4);
	CU_ASSERT_EQUAL(ifp.stats.tx_bytes, (n - 4) * (ETH_LEN + IP_LEN + 1));
	free_captured();
	prep_calls = 0;
}

/* ---- tx_verify ---- */

/*
 * A TCP segment as the stack builds one: headers in the first mbuf, then the
 * payload in pieces of the given lengths (odd ones included), each piece
 * starting `skew` bytes into its buffer. Checksums right, no offload.
 */
static struct rte_mbuf *
tcp_chain(const uint16_t *pieces, unsigned int n, uint16_t skew)
{
	uint8_t flat[ETH_LEN + 40 + 4096];
	uint32_t plen = 0, off;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *last;
	struct rte_ipv4_hdr *ip = frame_ip(flat);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (unsigned int i = 0; i < n; i++)
		plen += pieces[i];
	CU_ASSERT_FATAL(plen <= 4096);
	memset(flat, 0, sizeof(flat));
	memcpy(flat, &peer_mac, 6);
	memcpy(flat + 6, &our_mac, 6);
	put16(flat + 12, RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + plen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = OUR_IP;
	ip->dst_addr = PEER_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = RTE_BE16(80);
	th->dst_port = RTE_BE16(40000);
	th->data_off = 5 << 4;
	th->tcp_flags = 0x18;
	for (uint32_t i = 0; i < plen; i++)
		flat[ETH_LEN + 40 + i] = (uint8_t)(i * 37 + 11);
	/* The reference: the flat message, summed as RFC 1071 says. */
	uint8_t ph[12];
	memcpy(ph, &ip->src_addr, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, (uint16_t)(20 + plen));
	uint32_t sum = (uint32_t)sum16(ph, 12) + sum16(flat + ETH_LEN + 20, 20 + plen);
	put16((uint8_t *)&th->cksum, (uint16_t)~(uint16_t)((sum & 0xffff) + (sum >> 16)));
	memcpy(rte_pktmbuf_append(m, ETH_LEN + 40), flat, ETH_LEN + 40);
	last = m;
	off = ETH_LEN + 40;
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(pool);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		s->data_off += skew;
		memcpy(rte_pktmbuf_append(s, pieces[i]), flat + off, pieces[i]);
		off += pieces[i];
		last->next = s;
		last = s;
		m->nb_segs++;
		m->pkt_len += pieces[i];
	}
	return m;
}

static void
test_tx_verify_accepts_right_checksums_of_odd_chains(void)
{
	static const uint16_t pieces[] = {1, 1447, 3, 1, 500};

	for (uint16_t skew = 0; skew < 3; skew++) {
		struct rte_mbuf *m = tcp_chain(pieces, RTE_DIM(pieces), skew);

		CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), 0);
		rte_pktmbuf_free(m);
	}
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 0);
}

static void
test_tx_verify_catches_a_wrong_tcp_checksum_anywhere_in_the_chain(void)
{
	static const uint16_t pieces[] = {1, 1447, 3, 1, 500};
	struct rte_mbuf *m = tcp_chain(pieces, RTE_DIM(pieces), 1);

	/* One payload byte changed after the sum, in the last piece. */
	(*rte_pktmbuf_mtod_offset(rte_pktmbuf_lastseg(m), uint8_t *, 7))++;
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 1);
	rte_pktmbuf_free(m);

	/* A wrong IPv4 header checksum. */
	m = tcp_chain(pieces, 1, 0);
	rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH_LEN)->time_to_live--;
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 2);
	rte_pktmbuf_free(m);

	/* pkt_len that does not match the chain. */
	m = tcp_chain(pieces, RTE_DIM(pieces), 0);
	m->pkt_len++;
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	m->pkt_len--;
	rte_pktmbuf_free(m);

	/* More mbufs than the device takes. */
	m = tcp_chain(pieces, RTE_DIM(pieces), 0);
	ifp.tx_seg_max = RTE_DIM(pieces);
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	ifp.tx_seg_max = RTE_DIM(pieces) + 1;
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 4);
}

/* Ask the device to fill the TCP checksum of m: the pseudo-header's sum in the field. */
static void
offload_tcp_cksum(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH_LEN);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	m->l2_len = ETH_LEN;
	m->l3_len = 20;
	m->l4_len = 20;
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/*
 * With the offload the device completes the sum: what can be checked is the
 * seed and the set-up, and that a chain goes only to a device that sums
 * chains right (the TAP PMD does not: issue 6).
 */
static void
test_tx_verify_checks_offloaded_seed_and_refuses_chains_the_device_mis_sums(void)
{
	static const uint16_t pieces[] = {1, 1447};
	struct rte_mbuf *m = tcp_chain(pieces, RTE_DIM(pieces), 0);
	struct rte_tcp_hdr *th =
	    rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, ETH_LEN + 20);

	offload_tcp_cksum(m);
	/* Not a port with the offload. */
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	ifp.tx_tcp_cksum = true;
	/* A chain on a device that sums chains wrongly. */
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	ifp.tx_l4_cksum_chained = true;
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), 0);
	/* A wrong seed. */
	th->cksum ^= RTE_BE16(0x0100);
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	th->cksum ^= RTE_BE16(0x0100);
	/* A wrong header length for the device. */
	m->l4_len = 32;
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), -EBADMSG);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 4);

	/* A single segment may use the offload on any port that has it. */
	ifp.tx_l4_cksum_chained = false;
	m = tcp_chain(pieces, 0, 0);
	offload_tcp_cksum(m);
	CU_ASSERT_EQUAL(sl_netif_tx_verify(&ifp, m), 0);
	rte_pktmbuf_free(m);
}

/* ---- runner ---- */

#define T(fn) {#fn, fn}

static const struct sl_test_def eth_tests[] = {
	T(test_eth_runt_is_dropped),
	T(test_eth_unicast_to_other_mac_is_dropped),
	T(test_eth_multicast_is_dropped),
	T(test_eth_unknown_ethertype_is_dropped),
	T(test_eth_rx_counters_count_every_frame),
	T(test_eth_frame_from_peer_worker_is_not_counted_as_received),
};

static const struct sl_test_def arp_tests[] = {
	T(test_arp_request_for_us_gets_reply),
	T(test_arp_request_for_other_ip_is_dropped_as_not_us),
	T(test_arp_malformed_frames_are_counted_as_malformed),
	T(test_arp_gratuitous_from_known_host_updates_its_mac),
	T(test_arp_gratuitous_from_unknown_host_creates_no_entry),
	T(test_arp_announce_sends_gratuitous_request),
	T(test_arp_output_to_unknown_next_hop_queues_and_broadcasts_one_request),
	T(test_arp_reply_releases_pending_frames_in_order),
	T(test_arp_pending_queue_is_bounded),
	T(test_arp_tick_retries_then_drops_pending_as_unresolved),
	T(test_arp_request_without_mbuf_counts_no_mbuf_and_retries_on_tick),
	T(test_arp_reachable_entry_is_refreshed_by_unicast_then_expires),
	T(test_arp_refresh_answered_keeps_entry_alive),
	T(test_arp_table_churn_keeps_every_remaining_entry_reachable),
	T(test_arp_table_full_counts_table_full),
	T(test_arp_learned_frame_is_copied_to_peer_workers),
};

static const struct sl_test_def ipv4_tests[] = {
	T(test_ipv4_truncated_header_is_dropped),
	T(test_ipv4_version_6_is_dropped),
	T(test_ipv4_ihl_below_5_is_dropped),
	T(test_ipv4_ihl_beyond_frame_is_dropped),
	T(test_ipv4_bad_header_checksum_is_dropped),
	T(test_ipv4_total_length_below_header_is_dropped),
	T(test_ipv4_total_length_beyond_frame_is_dropped_as_truncated),
	T(test_ipv4_other_destination_is_dropped_as_not_us),
	T(test_ipv4_bad_sources_are_dropped),
	T(test_ipv4_fragments_are_dropped),
	T(test_ipv4_dont_fragment_flag_is_accepted),
	T(test_ipv4_unknown_protocol_is_dropped),
	T(test_ipv4_ethernet_padding_is_trimmed),
	T(test_ipv4_rx_cksum_bad_flag_drops_valid_header),
	T(test_ipv4_rx_cksum_good_flag_skips_verification),
};

static const struct sl_test_def icmp_tests[] = {
	T(test_icmp_echo_request_gets_echo_reply),
	T(test_icmp_echo_reply_requests_ip_checksum_offload),
	T(test_icmp_echo_with_ip_options_gets_reply_without_options),
	T(test_icmp_bad_checksum_is_dropped),
	T(test_icmp_truncated_is_dropped),
	T(test_icmp_other_types_are_dropped),
	T(test_icmp_multi_segment_echo_request_gets_reply),
	T(test_icmp_echo_reply_to_off_link_source_goes_via_gateway),
	T(test_icmp_echo_reply_to_unresolved_on_link_source_waits_for_arp),
	T(test_icmp_echo_reply_to_off_link_source_without_gateway_counts_no_route),
	T(test_icmp_echo_reply_in_external_buffer_returns_it_to_its_owner),
};

static const struct sl_test_def tx_tests[] = {
	T(test_netif_xmit_flushes_automatically_at_tx_burst),
	T(test_netif_flush_keeps_what_the_device_refused_and_sends_it_first),
	T(test_netif_backlog_wraps_around_and_keeps_order),
	T(test_netif_backlog_beyond_its_bound_drops_and_counts_tx_full),
	T(test_netif_tx_discard_frees_and_counts_the_backlog),
	T(test_netif_backlog_of_a_stuck_device_is_dropped_after_a_while),
	T(test_netif_tx_prepare_refusals_are_dropped_and_the_rest_sent_in_order),
	T(test_tx_verify_accepts_right_checksums_of_odd_chains),
	T(test_tx_verify_catches_a_wrong_tcp_checksum_anywhere_in_the_chain),
	T(test_tx_verify_checks_offloaded_seed_and_refuses_chains_the_device_mis_sums),
};

int
main(void)
{
	static const struct sl_test_suite suites[] = {
	    {"eth", eth_tests, RTE_DIM(eth_tests)},
	    {"arp", arp_tests, RTE_DIM(arp_tests)},
	    {"ipv4", ipv4_tests, RTE_DIM(ipv4_tests)},
	    {"icmp", icmp_tests, RTE_DIM(icmp_tests)},
	    {"tx", tx_tests, RTE_DIM(tx_tests)},
	};

	pool = sl_test_eal_start("test_net", "128", POOL_SIZE);
	if (pool == NULL)
		return 1;
	return sl_test_run("test_net", suites, RTE_DIM(suites), setup, teardown, pool);
}
