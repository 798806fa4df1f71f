/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_REASS_H
#define SL_TCP_REASS_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

struct sl_tcp_conn;

#define SL_TCP_SACK_BLOCKS_MAX 4

/* Per-packet metadata while a packet waits in a reassembly queue. */
struct sl_tcp_ooo_meta {
	struct rte_mbuf *next;
	uint32_t seq;
	uint32_t truesize; /* what it was charged when queued (tcp_rcvmem.c) */
};

extern int sl_tcp_ooo_field;

static inline struct sl_tcp_ooo_meta *
sl_tcp_ooo(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, sl_tcp_ooo_field, struct sl_tcp_ooo_meta *);
}

/* Register the mbuf dynamic field (main lcore, before workers start). */
int sl_tcp_reass_register(void);
/*
 * Queue payload m (header-stripped, pkt_len bytes) starting at seq, which is
 * beyond rcv_nxt. Overlaps with queued data are cut from m. Takes ownership.
 * Returns 0, or -ENOBUFS when the queue is at its bound (m freed).
 */
int sl_tcp_ooo_insert(struct sl_tcp_conn *c, struct rte_mbuf *m, uint32_t seq);
/* Dequeue what now continues at rcv_nxt (advancing rcv_nxt) as one chain, or NULL. */
struct rte_mbuf *sl_tcp_ooo_take(struct sl_tcp_conn *c, uint32_t *len);
void sl_tcp_ooo_purge(struct sl_tcp_conn *c);
/*
 * Free queued segments from the far end, only ones that start after `after`,
 * until `need` bytes of memory are freed or none is left. Returns how many.
 */
unsigned int sl_tcp_ooo_prune(struct sl_tcp_conn *c, uint32_t after, uint32_t need);
/* Our SACK blocks (RFC 2018): the most recent first; returns how many (<= max). */
unsigned int sl_tcp_ooo_sack_blocks(const struct sl_tcp_conn *c, uint32_t (*blocks)[2],
				    unsigned int max);

#endif
