/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_WORKER_H
#define SL_TCP_WORKER_H

/* What the worker loop and start-up code need from the TCP stack. */

#include <stdint.h>

#include "lib/config/config.h"
#include "lib/stats/tcp_stats.h"

struct sl_worker;
struct sl_tcp_worker;
struct sl_netif;
struct rte_mbuf;

#define SL_TCP_LISTENERS_MAX 1024 /* (address, port) pairs per worker */

/* The ports (host order) this worker listens on; returns how many. */
unsigned int sl_tcp_listener_ports(const struct sl_tcp_worker *tw, uint16_t *ports,
				   unsigned int max);

/*
 * Once, on the main lcore, before any worker starts: draws the ISN and SYN
 * cookie secret shared by all workers (getrandom) and registers the mbuf field.
 */
int sl_tcp_global_init(void);

/* The secret every worker copies at creation; NULL before sl_tcp_global_init. */
struct sl_tcp_secret;
const struct sl_tcp_secret *sl_tcp_global_secret(void);

/* A worker's TCP state, sized by cfg (max_connections per worker). */
struct sl_tcp_worker *sl_tcp_worker_create(struct sl_worker *w, const struct sl_config_tcp *cfg,
					   int socket, char *err, size_t errlen);
void sl_tcp_worker_free(struct sl_tcp_worker *tw);
const struct sl_tcp_stats *sl_tcp_worker_stats(const struct sl_tcp_worker *tw);

/*
 * Per poll iteration: sl_tcp_clock before the received segments (their RTT
 * samples and timestamps use it), sl_tcp_poll after them to run due timers,
 * sl_tcp_reap at the end to release connections destroyed meanwhile.
 */
void sl_tcp_clock(struct sl_tcp_worker *tw, uint64_t now_us);
void sl_tcp_poll(struct sl_tcp_worker *tw, uint64_t now_us);
void sl_tcp_reap(struct sl_tcp_worker *tw);
/*
 * End of a poll iteration, before the ports are flushed: output of corked
 * connections (sl_tcp_cork). sl_tcp_reap runs it too, in case.
 */
void sl_tcp_flush(struct sl_tcp_worker *tw);

/* IPv4 hands TCP segments here (m: Ethernet + IPv4 + TCP, IPv4 validated). */
void sl_tcp_input(struct sl_netif *ifp, struct rte_mbuf *m);

/*
 * ICMP destination unreachable about a TCP segment we sent: m is the whole
 * frame, its quoted IPv4 header and first 8 TCP bytes checked by icmp.c; TCP
 * takes m. The error goes to the worker that owns the connection, as its
 * segments do. Fragmentation-needed lowers the MSS (RFC 1191); port and
 * protocol unreachable abort a connection that is still opening, the others
 * only an active open in SYN-SENT (RFC 1122 4.2.3.9); once synchronized they
 * are all soft errors, kept and reported if the connection later times out
 * (RFC 5927 5.2). Checked against the send window first (RFC 5927).
 */
void sl_tcp_icmp_input(struct sl_netif *ifp, struct rte_mbuf *m);

/* A frame a peer worker handed over: a TCP segment or an ICMP error about one. */
void sl_tcp_input_from_peer(struct sl_netif *ifp, struct rte_mbuf *m);

/*
 * The worker that owns a connection this side opened, from its local port:
 * the one owner function both directions use. Passive connections belong to
 * the worker the SYN arrived on.
 */
static inline unsigned int
sl_tcp_port_owner(uint16_t lport_host, unsigned int n_workers)
{
	/* The low bits only, so that a NIC can steer with one masked rule per value. */
	unsigned int mask = n_workers <= 1 ? 0 : (1u << (32 - __builtin_clz(n_workers - 1))) - 1;

	return (lport_host & mask) % n_workers;
}

#endif
