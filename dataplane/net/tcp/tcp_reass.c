/* SPDX-License-Identifier: MIT */
/*
 * The reassembly queue: segments that arrived beyond rcv_nxt wait here,
 * sorted by sequence number, without overlap, until the hole before them is
 * filled. Bounded by SL_TCP_OOO_MAX_SEGS, by the receive window and by the
 * connection's memory (tcp_rcvmem.c: each queued chain is charged its
 * truesize, and pruned from the far end when memory runs short). The same
 * queue is what our SACK blocks describe (RFC 2018), reneging included.
 *
 * Queued packets are payload-only chains linked through a registered mbuf
 * dynamic field that also keeps their sequence number.
 */
#include <errno.h>

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "dataplane/net/mbuf_chain.h"
#include "tcp_conn.h"
#include "tcp_rcvmem.h"
#include "tcp_reass.h"

int sl_tcp_ooo_field = -1;

int
sl_tcp_reass_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "sluice_tcp_ooo",
		.size = sizeof(struct sl_tcp_ooo_meta),
		.align = __alignof__(struct sl_tcp_ooo_meta),
	};

	sl_tcp_ooo_field = rte_mbuf_dynfield_register(&desc);
	return sl_tcp_ooo_field < 0 ? -rte_errno : 0;
}

static inline uint32_t
seg_end(struct rte_mbuf *m)
{
	return sl_tcp_ooo(m)->seq + m->pkt_len;
}

int
sl_tcp_ooo_insert(struct sl_tcp_conn *c, struct rte_mbuf *m, uint32_t seq)
{
	struct rte_mbuf **pp = &c->ooo;
	uint32_t end = seq + m->pkt_len;

	if (c->ooo_count >= SL_TCP_OOO_MAX_SEGS) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	/* Find the first queued segment that ends after our start. */
	while (*pp != NULL && sl_seq_leq(seg_end(*pp), seq))
		pp = &sl_tcp_ooo(*pp)->next;
	/* The front overlaps a queued segment: keep the old bytes, cut ours. */
	if (*pp != NULL && sl_seq_leq(sl_tcp_ooo(*pp)->seq, seq)) {
		if (sl_seq_leq(end, seg_end(*pp))) {
			rte_pktmbuf_free(m); /* nothing new */
			c->ooo_last_seq = sl_tcp_ooo(*pp)->seq;
			return 0;
		}
		uint32_t cut = seg_end(*pp) - seq;

		m = sl_mbuf_chain_adj(m, cut);
		seq += cut;
		pp = &sl_tcp_ooo(*pp)->next;
	}
	/* Swallow queued segments we cover entirely; cut ours short of a partial one. */
	while (*pp != NULL && sl_seq_lt(sl_tcp_ooo(*pp)->seq, end)) {
		struct rte_mbuf *q = *pp;

		if (sl_seq_leq(seg_end(q), end)) {
			*pp = sl_tcp_ooo(q)->next;
			c->ooo_bytes -= q->pkt_len;
			c->ooo_count--;
			sl_tcp_rcvmem_ooo_uncharge(c, sl_tcp_ooo(q)->truesize);
			rte_pktmbuf_free(q);
			continue;
		}
		/*
		 * q starts where we do now (the front cut above stopped at its
		 * start) and goes further: nothing new. Trimming to zero bytes
		 * queued an empty segment, hence empty SACK blocks (fuzz_tcp,
		 * corpus/tcp/regress_ooo_empty_segment).
		 */
		if (sl_tcp_ooo(q)->seq == seq) {
			rte_pktmbuf_free(m);
			c->ooo_last_seq = seq;
			return 0;
		}
		sl_mbuf_chain_trim(m, sl_tcp_ooo(q)->seq - seq);
		end = seq + m->pkt_len;
		break;
	}
	sl_tcp_ooo(m)->seq = seq;
	sl_tcp_ooo(m)->next = *pp;
	sl_tcp_ooo(m)->truesize = sl_tcp_truesize(c->tw, m); /* after the cuts */
	*pp = m;
	c->ooo_bytes += m->pkt_len;
	c->ooo_count++;
	sl_tcp_rcvmem_ooo_charge(c, sl_tcp_ooo(m)->truesize);
	/* The first SACK block will be the one holding this segment (RFC 2018 4). */
	c->ooo_last_seq = seq;
	return 0;
}

struct rte_mbuf *
sl_tcp_ooo_take(struct sl_tcp_conn *c, uint32_t *len)
{
	struct rte_mbuf *out = NULL;

	*len = 0;
	while (c->ooo != NULL && sl_seq_leq(sl_tcp_ooo(c->ooo)->seq, c->rcv_nxt)) {
		struct rte_mbuf *m = c->ooo;
		uint32_t seq = sl_tcp_ooo(m)->seq, plen = m->pkt_len;

		c->ooo = sl_tcp_ooo(m)->next;
		c->ooo_bytes -= plen;
		c->ooo_count--;
		/* Delivered data is charged again, as held, by the caller. */
		sl_tcp_rcvmem_ooo_uncharge(c, sl_tcp_ooo(m)->truesize);
		if (sl_seq_leq(seq + plen, c->rcv_nxt)) {
			rte_pktmbuf_free(m); /* already delivered by a retransmission */
			continue;
		}
		if (seq != c->rcv_nxt)
			m = sl_mbuf_chain_adj(m, c->rcv_nxt - seq);
		c->rcv_nxt += m->pkt_len;
		*len += m->pkt_len;
		if (out == NULL)
			out = m;
		else
			sl_mbuf_chain_cat(out, m);
	}
	return out;
}

void
sl_tcp_ooo_purge(struct sl_tcp_conn *c)
{
	while (c->ooo != NULL) {
		struct rte_mbuf *m = c->ooo;

		c->ooo = sl_tcp_ooo(m)->next;
		sl_tcp_rcvmem_ooo_uncharge(c, sl_tcp_ooo(m)->truesize);
		rte_pktmbuf_free(m);
	}
	c->ooo_bytes = 0;
	c->ooo_count = 0;
}

/*
 * One pass: the memory of the segments after `after`, then keep the longest
 * run of them from the front whose loss would not free `need`.
 */
unsigned int
sl_tcp_ooo_prune(struct sl_tcp_conn *c, uint32_t after, uint32_t need)
{
	struct rte_mbuf **pp = &c->ooo, *m;
	uint64_t avail = 0, keep;
	unsigned int n = 0;

	while (*pp != NULL && sl_seq_leq(sl_tcp_ooo(*pp)->seq, after))
		pp = &sl_tcp_ooo(*pp)->next;
	for (m = *pp; m != NULL; m = sl_tcp_ooo(m)->next)
		avail += sl_tcp_ooo(m)->truesize;
	keep = avail > need ? avail - need : 0;
	while (*pp != NULL && sl_tcp_ooo(*pp)->truesize <= keep) {
		keep -= sl_tcp_ooo(*pp)->truesize;
		pp = &sl_tcp_ooo(*pp)->next;
	}
	m = *pp;
	*pp = NULL;
	while (m != NULL) {
		struct rte_mbuf *next = sl_tcp_ooo(m)->next;

		c->ooo_bytes -= m->pkt_len;
		c->ooo_count--;
		sl_tcp_rcvmem_ooo_uncharge(c, sl_tcp_ooo(m)->truesize);
		rte_pktmbuf_free(m);
		m = next;
		n++;
	}
	return n;
}

unsigned int
sl_tcp_ooo_sack_blocks(const struct sl_tcp_conn *c, uint32_t (*blocks)[2], unsigned int max)
{
	uint32_t all[SL_TCP_SACK_BLOCKS_MAX][2];
	unsigned int n = 0, first = 0;
	struct rte_mbuf *m = c->ooo;

	/* Coalesce contiguous queued segments into blocks, lowest first. */
	while (m != NULL && n < SL_TCP_SACK_BLOCKS_MAX) {
		uint32_t start = sl_tcp_ooo(m)->seq, end = seg_end(m);

		for (m = sl_tcp_ooo(m)->next; m != NULL && sl_tcp_ooo(m)->seq == end;
		     m = sl_tcp_ooo(m)->next)
			end = seg_end(m);
		if (sl_seq_leq(start, c->ooo_last_seq) && sl_seq_lt(c->ooo_last_seq, end))
			first = n;
		all[n][0] = start;
		all[n][1] = end;
		n++;
	}
	if (n == 0 || max == 0)
		return 0;
	/* The most recently changed block first, then the others in sequence order. */
	unsigned int k = 0;

	blocks[k][0] = all[first][0];
	blocks[k][1] = all[first][1];
	k++;
	for (unsigned int i = 0; i < n && k < max; i++) {
		if (i == first)
			continue;
		blocks[k][0] = all[i][0];
		blocks[k][1] = all[i][1];
		k++;
	}
	return k;
}
