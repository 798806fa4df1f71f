/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_RCVMEM_H
#define SL_TCP_RCVMEM_H

/*
 * Receive memory accounting (tcp_rcvmem.c): what the mbufs a connection
 * holds cost, not the payload they carry. Only dataplane/net/tcp/ includes
 * this, after tcp_conn.h.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "tcp_conn.h"

#define SL_TCP_RCV_MEM_PERCENT_DEFAULT 50

/* What a chain really occupies: each segment is a whole object of the worker's pool. */
static inline uint32_t
sl_tcp_truesize(const struct sl_tcp_worker *tw, const struct rte_mbuf *m)
{
	return (uint32_t)m->nb_segs * tw->mbuf_truesize;
}

/* Worker budget and pool reserve, from its pool and configuration (sl_tcp_worker_create). */
void sl_tcp_rcvmem_init(struct sl_tcp_worker *tw);
/* Once per ms (sl_tcp_poll): how many mbufs the pool has left. */
void sl_tcp_rcvmem_tick(struct sl_tcp_worker *tw);

/*
 * May c keep payload m (at seq; in_order: seq == rcv_nxt)? Makes room by
 * pruning c's reassembly queue from the far end first. false: drop m
 * (counted in drops[tcp_rcv_mem]). Also learns the segment's payload per
 * byte of memory, which the window follows.
 */
bool sl_tcp_rcvmem_admit(struct sl_tcp_conn *c, const struct rte_mbuf *m, uint32_t seq,
			 bool in_order);
/* In-order data m (len bytes) handed to the user: it counts until sl_tcp_rcvmem_consumed. */
void sl_tcp_rcvmem_hold(struct sl_tcp_conn *c, const struct rte_mbuf *m, uint32_t len);
/* The user consumed len bytes of what it holds: their share of the memory goes back. */
void sl_tcp_rcvmem_consumed(struct sl_tcp_conn *c, uint32_t len);
/* The connection is destroyed: what it still holds is no longer ours to count. */
void sl_tcp_rcvmem_forget(struct sl_tcp_conn *c);
/* The reassembly queue took (charge) or let go of (uncharge) truesize bytes. */
void sl_tcp_rcvmem_ooo_charge(struct sl_tcp_conn *c, uint32_t truesize);
void sl_tcp_rcvmem_ooo_uncharge(struct sl_tcp_conn *c, uint32_t truesize);

#endif
