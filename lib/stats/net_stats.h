/* SPDX-License-Identifier: MIT */
#ifndef SL_NET_STATS_H
#define SL_NET_STATS_H

/*
 * Network-layer counters, one block per (worker, port). Workers write them
 * with plain increments (each block has a single writer); the control plane
 * reads them with relaxed loads and sums over workers. Shared by both planes,
 * hence here in lib/ and free of DPDK types.
 */

#include <stdint.h>

/* Why a frame was dropped. Names (sl_net_drop_name) are the Prometheus `reason` label. */
#define SL_NET_DROPS(X)                                                                            \
	X(ETH_RUNT, "eth_runt")                 /* shorter than an Ethernet header */              \
	X(ETH_NOT_US, "eth_not_us")             /* unicast to another MAC, or multicast */         \
	X(ETH_TYPE, "eth_type")                 /* ethertype we do not speak (IPv6, VLAN, ...) */  \
	X(ARP_MALFORMED, "arp_malformed")       /* bad length, hardware or protocol type */        \
	X(ARP_NOT_US, "arp_not_us")             /* request for an address that is not ours */      \
	X(ARP_PENDING_FULL, "arp_pending_full") /* next hop unresolved and its queue is full */    \
	X(ARP_UNRESOLVED, "arp_unresolved")     /* next hop never answered: queued packets lost */ \
	X(ARP_TABLE_FULL, "arp_table_full")                                                        \
	X(IP_TRUNCATED, "ip_truncated")         /* frame shorter than the IPv4 header says */      \
	X(IP_VERSION, "ip_version")                                                                \
	X(IP_HDRLEN, "ip_hdrlen")               /* IHL < 5 or beyond the total length */           \
	X(IP_CHECKSUM, "ip_checksum")                                                              \
	X(IP_LENGTH, "ip_length")               /* total length below the header length */         \
	X(IP_BAD_SRC, "ip_bad_src")             /* broadcast, multicast, loopback or our own */    \
	X(IP_NOT_US, "ip_not_us")               /* we are a host, not a router */                  \
	X(IP_FRAGMENT, "ip_fragment")           /* fragments are not reassembled yet */            \
	X(IP_PROTO, "ip_proto")                 /* no handler for this protocol */                 \
	X(ICMP_TRUNCATED, "icmp_truncated")                                                        \
	X(ICMP_CHECKSUM, "icmp_checksum")                                                          \
	X(ICMP_TYPE, "icmp_type")               /* a type we read and ignore */                    \
	X(NO_ROUTE, "no_route")                 /* off-link destination and no gateway */          \
	X(NO_MBUF, "no_mbuf")                   /* pool exhausted while building a reply */        \
	X(TX_FULL, "tx_full")                   /* the NIC's TX ring and our TX backlog were full */ \
	X(PEER_RING_FULL, "peer_ring_full")     /* handing a packet to another worker failed */    \
	X(TX_PREPARE, "tx_prepare")             /* the device cannot send it (rte_eth_tx_prepare) */

enum sl_net_drop {
#define SL_NET_DROP_ENUM(id, name) SL_NET_DROP_##id,
	SL_NET_DROPS(SL_NET_DROP_ENUM)
#undef SL_NET_DROP_ENUM
	SL_NET_DROP_MAX
};

struct sl_net_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t arp_rx_requests;
	uint64_t arp_rx_replies;
	uint64_t arp_tx_requests;
	uint64_t arp_tx_replies;
	uint64_t arp_tx_gratuitous;
	uint64_t ip_rx;
	uint64_t ip_tx;
	uint64_t icmp_rx_echo;
	uint64_t icmp_tx_echo_reply;
	/* TX path: how often the ring was full and what that cost. */
	uint64_t tx_bursts;     /* calls to the device's tx_burst (af_packet: one sendto each) */
	uint64_t tx_ring_full;  /* bursts of which the device took only a part */
	uint64_t tx_backlogged; /* packets kept for a later poll iteration instead */
	uint64_t tx_linearized; /* TCP segments copied: more pieces than the device takes */
	uint64_t tx_bad_cksum;  /* packets whose checksums failed the tx_verify check */
	uint64_t drops[SL_NET_DROP_MAX];
} __attribute__((aligned(64)));

/*
 * The device's own counters of frames it lost, per port (not per worker): what
 * never reached a worker, so no drop reason above can count it. Read from the
 * PMD (rte_eth_stats) by the control plane through the dataplane.
 */
#define SL_PORT_DEV_COUNTERS(X)                                                                    \
	X(imissed)   /* RX ring full: the workers did not poll fast enough */                      \
	X(ierrors)   /* erroneous frames received */                                               \
	X(rx_nombuf) /* RX refill failed: the mbuf pool was empty */                               \
	X(oerrors)   /* frames the device failed to send */

struct sl_port_dev_stats {
#define SL_PORT_DEV_FIELD(name) uint64_t name;
	SL_PORT_DEV_COUNTERS(SL_PORT_DEV_FIELD)
#undef SL_PORT_DEV_FIELD
};

/* Reason label for a drop, e.g. "ip_checksum". */
const char *sl_net_drop_name(enum sl_net_drop reason);

/* Named access to the plain counters above, in declaration order, for exporters. */
struct sl_net_stats_field {
	const char *name;
	unsigned int offset;
};
extern const struct sl_net_stats_field sl_net_stats_fields[];
extern const unsigned int sl_net_stats_n_fields;

/* dst += src, field by field, with relaxed loads of src (a worker may be writing it). */
void sl_net_stats_add(struct sl_net_stats *dst, const struct sl_net_stats *src);

#endif
