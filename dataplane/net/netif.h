/* SPDX-License-Identifier: MIT */
#ifndef SL_NETIF_H
#define SL_NETIF_H

/*
 * One worker's view of one port: the queue pair it owns, the port's
 * addresses, its ARP table, its TX buffer and its counters. Everything here
 * has a single writer (the owning worker), so nothing is locked or atomic.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "lib/msg/msg.h"
#include "lib/stats/net_stats.h"

/*
 * Packets buffered before the device gets them: the loop flushes once per
 * iteration, and sooner only when this fills. A device call can cost a
 * system call (af_packet kicks its TX ring with a sendto per burst), so it
 * holds what one iteration usually makes: an RX burst of 32 requests makes
 * 32 to 64 packets (forwarded request, response, ACKs).
 */
#define SL_TX_BURST 128
/*
 * What the device's TX ring did not take waits here for the next poll
 * iteration, oldest first, instead of being dropped (power of two). Beyond
 * it, new packets are dropped (`tx_full`): a ring that stays full for this
 * long means the link is slower than what we produce, and TCP backs off.
 */
#define SL_TX_BACKLOG 256
/*
 * A device that takes nothing from the backlog for this long is not busy but
 * stuck (link down, or a packet it will never take at the head, which would
 * hold everything behind it): the backlog is dropped (`tx_full`).
 */
#define SL_TX_STUCK_MS 100
#define SL_NETIF_ADDRS_MAX 32 /* extra addresses (VIPs) per port, besides its own */
#define SL_ARP_ENTRIES 256 /* power of two */
#define SL_ARP_PENDING_MAX 8
#define SL_ARP_REACHABLE_MS 60000 /* an entry lives this long after its last confirmation */
#define SL_ARP_REFRESH_MS 5000    /* re-ask this long before it dies */
#define SL_ARP_RETRY_MS 1000
#define SL_ARP_TRIES 3

struct sl_worker;
struct sl_netif;

struct sl_arp_entry {
	uint32_t ip; /* network byte order; 0 = free slot */
	struct rte_ether_addr mac;
	uint8_t state; /* enum sl_arp_state */
	uint8_t tries;
	uint8_t n_pending;
	uint64_t expire_ms; /* REACHABLE: death; INCOMPLETE: next retry */
	struct rte_mbuf *pending[SL_ARP_PENDING_MAX];
};

struct sl_arp_table {
	unsigned int n_used;
	struct sl_arp_entry e[SL_ARP_ENTRIES];
};

/* Hands a burst to the device; returns how many it took. Tests substitute a capture. */
typedef uint16_t (*sl_netif_tx_fn)(struct sl_netif *ifp, struct rte_mbuf **pkts, uint16_t n);
/*
 * rte_eth_tx_prepare: returns how many packets from the front the device can
 * send; pkts[return] (when < n) is one it cannot. NULL: every packet can go.
 */
typedef uint16_t (*sl_netif_prep_fn)(struct sl_netif *ifp, struct rte_mbuf **pkts, uint16_t n);

struct sl_netif {
	struct sl_worker *w;
	uint16_t port_id;
	uint16_t queue_id;
	uint8_t index; /* position in the worker's netif[] and in the config's ports */
	bool tx_ip_cksum; /* the device fills the IPv4 header checksum */
	bool tx_tcp_cksum; /* the device fills the TCP checksum (pseudo-header sum given) */
	/*
	 * ... and gets it right for a chain of mbufs too. The TAP PMD of DPDK
	 * 22.11 does not: it sums each segment on its own without swapping the
	 * bytes of one that starts at an odd offset of the message, so a chain
	 * with an odd-length piece goes out with a bad checksum. Without it,
	 * the stack asks the device only for single-segment packets.
	 */
	bool tx_l4_cksum_chained;
	uint16_t tx_seg_max; /* most mbufs in one packet the device takes; 0 = no limit */
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint32_t ip;      /* network byte order */
	uint32_t mask;    /* network byte order */
	uint32_t gateway; /* network byte order, 0 = none */
	/*
	 * Further local addresses (service VIPs) besides ip: answered by ARP,
	 * accepted by IPv4, usable as a listener's or an active open's address.
	 * Network byte order; same subnet and gateway as ip.
	 */
	uint8_t n_addrs;
	uint32_t addrs[SL_NETIF_ADDRS_MAX];
	uint16_t ip_id;

	sl_netif_tx_fn tx_burst;
	sl_netif_prep_fn tx_prepare;
	uint16_t n_tx;
	struct rte_mbuf *tx[SL_TX_BURST];
	uint16_t bl_head, bl_n; /* the backlog: bl_n packets from backlog[bl_head], wrapping */
	uint64_t bl_moved_ms;   /* when the device last took from the backlog (or it filled) */
	struct rte_mbuf *backlog[SL_TX_BACKLOG];

	struct sl_net_stats stats;
	struct sl_arp_table arp;
} __rte_cache_aligned;

/*
 * Whether ip (network order) is one of ours on this port. The port's own
 * address costs one compare; a VIP a scan of at most SL_NETIF_ADDRS_MAX.
 */
static inline bool
sl_netif_is_local(const struct sl_netif *ifp, uint32_t ip)
{
	if (ip == ifp->ip)
		return true;
	for (unsigned int i = 0; i < ifp->n_addrs; i++)
		if (ifp->addrs[i] == ip)
			return true;
	return false;
}

/*
 * Add a local address (a VIP) to this worker's view of the port: call it on
 * every worker's netif of the port, before traffic for it is expected (the
 * next sl_arp_announce announces it). 0, -EEXIST, -EINVAL (0 or broadcast),
 * -ENOSPC beyond SL_NETIF_ADDRS_MAX.
 */
int sl_netif_add_addr(struct sl_netif *ifp, uint32_t ip);

/* Frame input: takes ownership of m (consumed, forwarded or freed). */
void sl_eth_input(struct sl_netif *ifp, struct rte_mbuf *m);
/* A frame another worker received and copied to us: ARP learning only. */
void sl_eth_input_from_peer(struct sl_netif *ifp, struct rte_mbuf *m);

/* Queue a complete frame for transmission; flushes when the buffer is full. */
void sl_netif_xmit(struct sl_netif *ifp, struct rte_mbuf *m);
/*
 * Push the backlog, then everything buffered, to the device now. What the
 * device's ring does not take stays in the backlog for the next call (counted
 * as `tx_ring_full`, `tx_backlogged`); what does not fit there is dropped
 * (`tx_full`), and what tx_prepare refuses too (`tx_prepare`).
 */
void sl_netif_flush(struct sl_netif *ifp);
/* Packets waiting to be sent (buffered or in the backlog): the loop must flush. */
static inline bool
sl_netif_tx_pending(const struct sl_netif *ifp)
{
	return ifp->n_tx != 0 || ifp->bl_n != 0;
}
/* Shutdown: drop (and count) whatever the backlog still holds. */
void sl_netif_tx_discard(struct sl_netif *ifp);
/*
 * The checksums the wire will carry, verified in software: the IPv4 header's
 * and the TCP or ICMP one's, or, where the device is asked to fill them, the
 * offload set-up (lengths, flags, the pseudo-header seed, a chain only on a
 * device that sums chains right). Also the chain's own bookkeeping and the
 * device's segment limit. Returns 0, or -EBADMSG and counts `tx_bad_cksum`.
 * Builds with tx_verify (meson -Dtx_verify, on in debug builds) run it on
 * every packet in sl_netif_flush and abort on the first failure.
 */
int sl_netif_tx_verify(struct sl_netif *ifp, const struct rte_mbuf *m);
/* Count a drop and free the mbuf. */
void sl_netif_drop(struct sl_netif *ifp, struct rte_mbuf *m, enum sl_net_drop reason);

void sl_arp_input(struct sl_netif *ifp, struct rte_mbuf *m, bool from_peer);
/*
 * Send an IPv4 frame (Ethernet header present, source MAC and type filled) to
 * next hop `nh`: fills the destination MAC from the cache, or queues the frame
 * (bounded) and asks. Takes ownership of m.
 */
void sl_arp_output(struct sl_netif *ifp, struct rte_mbuf *m, uint32_t nh);
/* Expire entries, retry requests, refresh entries about to die. Call every ~100 ms. */
void sl_arp_tick(struct sl_netif *ifp);
/* Announce our addresses, the port's and its VIPs (gratuitous ARP requests). */
void sl_arp_announce(struct sl_netif *ifp);
/* Copy the table into a dump message; returns entries written. */
uint32_t sl_arp_dump(const struct sl_netif *ifp, struct sl_msg_arp_entry *out, uint32_t cap);
/* Free every pending mbuf (shutdown). */
void sl_arp_flush_pending(struct sl_netif *ifp);
/* Test and export helper: the entry for ip, or NULL. */
const struct sl_arp_entry *sl_arp_lookup(const struct sl_netif *ifp, uint32_t ip);

void sl_ipv4_input(struct sl_netif *ifp, struct rte_mbuf *m);
/*
 * m holds Ethernet + IPv4 headers with src, dst, proto, total length and TTL
 * set; fills id and checksum (or asks the device), routes and sends.
 */
void sl_ipv4_output(struct sl_netif *ifp, struct rte_mbuf *m);

void sl_icmp_input(struct sl_netif *ifp, struct rte_mbuf *m);

/* Current time in ms on this worker's clock. */
uint64_t sl_netif_now_ms(const struct sl_netif *ifp);

#endif
