/* SPDX-License-Identifier: MIT */
#ifndef SL_MBUF_CHAIN_H
#define SL_MBUF_CHAIN_H

/*
 * Cutting chains where rte_pktmbuf_adj/trim cannot: they only touch the
 * first or last segment and fail when the cut is longer than it.
 */

#include <rte_mbuf.h>

/* Remove len (< pkt_len) bytes from the front; returns the new head. */
static inline struct rte_mbuf *
sl_mbuf_chain_adj(struct rte_mbuf *m, uint32_t len)
{
	uint32_t total = m->pkt_len - len;
	uint16_t nsegs = m->nb_segs;

	while (len >= m->data_len && m->next != NULL) {
		struct rte_mbuf *next = m->next;

		len -= m->data_len;
		nsegs--;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	m->data_off += len;
	m->data_len -= len;
	m->pkt_len = total;
	m->nb_segs = nsegs;
	return m;
}

/* Keep the first keep (>= 1, <= pkt_len) bytes. */
static inline void
sl_mbuf_chain_trim(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *s = m;
	uint32_t before = 0;
	uint16_t n = 1;

	while (before + s->data_len < keep) {
		before += s->data_len;
		s = s->next;
		n++;
	}
	s->data_len = keep - before;
	rte_pktmbuf_free(s->next);
	s->next = NULL;
	m->pkt_len = keep;
	m->nb_segs = n;
}

/* Append chain b to chain a (both heads); a's pkt_len and nb_segs cover both. */
static inline void
sl_mbuf_chain_cat(struct rte_mbuf *a, struct rte_mbuf *b)
{
	rte_pktmbuf_lastseg(a)->next = b;
	a->pkt_len += b->pkt_len;
	a->nb_segs += b->nb_segs;
}

#endif
