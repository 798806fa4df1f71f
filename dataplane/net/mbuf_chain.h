/* SPDX-License-Identifier: MIT */
#ifndef SL_MBUF_CHAIN_H
#define SL_MBUF_CHAIN_H

/*
 * Cutting chains where rte_pktmbuf_adj/trim cannot: they only touch the
 * first or last segment and fail when the cut is longer than it.
 */

#include <errno.h>

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

/*
 * Split chain m at byte off (0 < off < pkt_len) without copying: m keeps
 * [0, off) and *tail gets [off, pkt_len), both with their pkt_len and
 * nb_segs right. At a boundary between segments the links are cut; inside a
 * segment, that segment keeps its first part and the tail starts with an
 * indirect mbuf from pool attached to the same buffer (one more reference,
 * so each side frees its part independently; an indirect or external-buffer
 * segment is handled by rte_pktmbuf_attach). For pipelined requests and a
 * body that ends inside a segment. Returns 0, -EINVAL (off out of range), or
 * -ENOBUFS (pool empty; m is unchanged).
 */
static inline int
sl_mbuf_chain_split(struct rte_mbuf *m, uint32_t off, struct rte_mempool *pool,
		    struct rte_mbuf **tail)
{
	struct rte_mbuf *s = m, *t;
	uint32_t total = m->pkt_len, before = 0;
	uint16_t i = 1; /* s is the i-th segment: the head's last */

	if (off == 0 || off >= total)
		return -EINVAL;
	while (before + s->data_len < off) {
		before += s->data_len;
		s = s->next;
		i++;
	}
	if (before + s->data_len == off) {
		/* On a boundary: the rest of the chain is the tail (off < total: s->next). */
		t = s->next;
		s->next = NULL;
		t->nb_segs = (uint16_t)(m->nb_segs - i);
	} else {
		uint32_t k = off - before; /* bytes of s the head keeps, 0 < k < data_len */

		t = rte_pktmbuf_alloc(pool);
		if (t == NULL)
			return -ENOBUFS;
		rte_pktmbuf_attach(t, s);
		t->data_off = (uint16_t)(s->data_off + k);
		t->data_len = (uint16_t)(s->data_len - k);
		t->next = s->next;
		s->data_len = (uint16_t)k;
		s->next = NULL;
		t->nb_segs = (uint16_t)(m->nb_segs - i + 1);
	}
	t->pkt_len = total - off;
	m->nb_segs = i;
	m->pkt_len = off;
	*tail = t;
	return 0;
}

#endif
