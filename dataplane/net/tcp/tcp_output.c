/* SPDX-License-Identifier: MIT */
/*
 * Everything the stack sends: segments with data from the send queue
 * (attached by reference, never copied), pure ACKs, SYNs, RSTs.
 *
 * A segment is one header mbuf (Ethernet + IPv4 + TCP + options) followed by
 * indirect mbufs that point into the user's data, so a retransmission costs
 * a header and a few references, and the data stays where it arrived.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/net/cksum.h"
#include "dataplane/worker.h"
#include "tcp_conn.h"
#include "tcp_options.h"
#include "tcp_rcvmem.h"
#include "tcp_reass.h"

#define HDRS_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))

/*
 * The window to announce, already scaled. The right edge never moves left
 * (RFC 9293 3.8.6), and rounding for the scale never announces more than
 * we have.
 */
static uint16_t
tcp_announce_window(struct sl_tcp_conn *c, bool syn)
{
	uint32_t win;

	/* The handshake code sets rcv_adv from rcvbuf: what a SYN announces. */
	if (syn)
		return (uint16_t)RTE_MIN(c->rcvbuf, 65535u);
	win = sl_tcp_rcv_window(c);
	if (sl_seq_lt(c->rcv_nxt + win, c->rcv_adv))
		win = c->rcv_adv - c->rcv_nxt;
	win >>= c->rcv_wscale;
	if (win > 65535)
		win = 65535;
	uint32_t edge = c->rcv_nxt + (win << c->rcv_wscale);
	if (sl_seq_gt(edge, c->rcv_adv))
		c->rcv_adv = edge;
	return (uint16_t)win;
}

/* How many pieces [off, off + len) of the chain from s takes, counting no further than max. */
static unsigned int
tcp_count_pieces(const struct rte_mbuf *s, uint32_t off, uint32_t len, unsigned int max)
{
	unsigned int pieces = 0;

	for (; s != NULL && len > 0 && pieces < max; s = s->next, off = 0) {
		uint32_t n = RTE_MIN((uint32_t)s->data_len - off, len);

		pieces += n > 0;
		len -= n;
	}
	return pieces;
}

/* Copy n bytes of s from off to the end of the chain at hdr (*last its last mbuf). */
static int
tcp_copy_piece(struct rte_mempool *pool, struct rte_mbuf *hdr, struct rte_mbuf **last,
	       const struct rte_mbuf *s, uint32_t off, uint32_t n)
{
	const uint8_t *src = rte_pktmbuf_mtod_offset(s, const uint8_t *, off);

	while (n > 0) {
		uint32_t k = rte_pktmbuf_tailroom(*last);

		if (k == 0) {
			struct rte_mbuf *nm = rte_pktmbuf_alloc(pool);

			if (nm == NULL)
				return -ENOBUFS;
			(*last)->next = nm;
			*last = nm;
			hdr->nb_segs++;
			k = rte_pktmbuf_tailroom(nm);
		}
		k = RTE_MIN(k, n);
		memcpy(rte_pktmbuf_mtod_offset(*last, uint8_t *, (*last)->data_len), src, k);
		(*last)->data_len += k;
		hdr->pkt_len += k;
		src += k;
		n -= k;
	}
	return 0;
}

/*
 * Attach [seq, seq + len) of the send queue to hdr by reference: one
 * indirect mbuf per piece of the queue it spans. When that makes more mbufs
 * than the device takes in one packet (a chain of small mbufs handed over by
 * the layer above), copy the data behind the headers instead: rare, counted
 * (`tx_linearized`), and the only copy of a body the stack makes.
 */
static int
tcp_attach_data(struct sl_tcp_conn *c, struct rte_mbuf *hdr, uint32_t seq, uint32_t len)
{
	struct sl_netif *ifp = c->ifp;
	struct rte_mempool *pool = ifp->w->pool;
	struct rte_mbuf *s, *last = hdr;
	uint32_t off, s_seq;
	bool copy;

	/* New data continues where the last segment stopped: start at the cursor. */
	if (c->sq_cur != NULL && sl_seq_leq(c->sq_cur_seq, seq)) {
		s = c->sq_cur;
		off = seq - c->sq_cur_seq;
	} else {
		s = c->sq_head;
		off = seq - c->snd_una + c->sq_off;
	}
	s_seq = seq - off;
	while (s != NULL && off >= s->data_len) {
		off -= s->data_len;
		s_seq += s->data_len;
		s = s->next;
	}
	copy = ifp->tx_seg_max != 0 &&
	       tcp_count_pieces(s, off, len, ifp->tx_seg_max) + 1u > ifp->tx_seg_max;
	if (copy)
		ifp->stats.tx_linearized++;
	while (len > 0 && s != NULL) {
		uint32_t n = RTE_MIN((uint32_t)s->data_len - off, len);
		struct rte_mbuf *mi;

		if (n > 0 && copy) {
			if (tcp_copy_piece(pool, hdr, &last, s, off, n) != 0)
				return -ENOBUFS;
			len -= n;
		} else if (n > 0) {
			mi = rte_pktmbuf_alloc(pool);
			if (mi == NULL)
				return -ENOBUFS;
			rte_pktmbuf_attach(mi, s);
			mi->data_off += off;
			mi->data_len = n;
			mi->pkt_len = n;
			last->next = mi;
			last = mi;
			hdr->nb_segs++;
			hdr->pkt_len += n;
			len -= n;
		}
		if (off + n < s->data_len)
			break; /* done inside this segment: the next send starts here */
		off = 0;
		s_seq += s->data_len;
		s = s->next;
	}
	c->sq_cur = s;
	c->sq_cur_seq = s_seq;
	return len == 0 ? 0 : -EINVAL;
}

/*
 * Build and send one segment from ifp for the 4-tuple `key` (our side is
 * laddr/lport). With c, data [seq, seq + len) comes from c's send queue.
 */
static int
tcp_emit(struct sl_netif *ifp, const struct sl_tcp_key *key, uint32_t seq, uint32_t ack,
	 uint8_t flags, uint16_t win, const uint8_t *opts, unsigned int optlen,
	 struct sl_tcp_conn *c, uint32_t len)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	struct rte_mbuf *m = rte_pktmbuf_alloc(ifp->w->pool);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint16_t l4_len = sizeof(*th) + optlen + len;

	if (m == NULL) {
		tw->stats.drops[SL_TCP_DROP_NO_MBUF]++;
		return -ENOBUFS;
	}
	ip = (struct rte_ipv4_hdr *)(rte_pktmbuf_mtod(m, char *) + sizeof(struct rte_ether_hdr));
	if (rte_pktmbuf_append(m, HDRS_LEN + optlen) == NULL) {
		rte_pktmbuf_free(m);
		tw->stats.drops[SL_TCP_DROP_NO_MBUF]++;
		return -ENOBUFS;
	}
	th = (struct rte_tcp_hdr *)(ip + 1);
	if (len > 0 && tcp_attach_data(c, m, seq, len) != 0) {
		rte_pktmbuf_free(m);
		tw->stats.drops[SL_TCP_DROP_NO_MBUF]++;
		return -ENOBUFS;
	}
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4_len);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = key->laddr;
	ip->dst_addr = key->raddr;
	th->src_port = key->lport;
	th->dst_port = key->rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & SL_TH_ACK) ? rte_cpu_to_be_32(ack) : 0;
	th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	th->tcp_urp = 0;
	if (optlen > 0)
		memcpy(th + 1, opts, optlen); /* RSTs pass opts == NULL: memcpy(NULL) is undefined */
	/* A chain goes to the device's checksum only where it sums chains right (netif.h). */
	if (ifp->tx_tcp_cksum && (m->nb_segs == 1 || ifp->tx_l4_cksum_chained)) {
		m->l2_len = sizeof(struct rte_ether_hdr);
		m->l3_len = sizeof(*ip);
		m->l4_len = sizeof(*th) + optlen;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		uint16_t body = 0;

		th->cksum = 0;
		sl_cksum_mbuf(m, sizeof(struct rte_ether_hdr) + sizeof(*ip), l4_len, &body);
		th->cksum = (uint16_t)~sl_cksum_fold((uint32_t)body + rte_ipv4_phdr_cksum(ip, 0));
	}
	tw->stats.segments_out++;
	tw->stats.bytes_out += len;
	sl_ipv4_output(ifp, m);
	return 0;
}

int
sl_tcp_emit_raw(struct sl_netif *ifp, const struct sl_tcp_key *key, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t win, const uint8_t *opts, unsigned int optlen)
{
	return tcp_emit(ifp, key, seq, ack, flags, win, opts, optlen, NULL, 0);
}

static unsigned int
tcp_put_ts(const struct sl_tcp_conn *c, uint8_t *p)
{
	p[0] = SL_TCPOPT_NOP;
	p[1] = SL_TCPOPT_NOP;
	p[2] = SL_TCPOPT_TS;
	p[3] = SL_TCPOLEN_TS;
	sl_tcpopt_put32(p + 4, sl_tcp_now_ms32(c->tw));
	sl_tcpopt_put32(p + 8, c->ts_recent);
	return 12;
}

/* Options on a segment of an established connection: timestamps, SACK blocks. */
static unsigned int
tcp_data_options(struct sl_tcp_conn *c, uint8_t *p)
{
	unsigned int n = 0;

	if (c->flags & SL_TF_TS_OK)
		n += tcp_put_ts(c, p);
	if ((c->flags & SL_TF_SACK_OK) && c->ooo != NULL) {
		uint32_t blocks[SL_TCP_SACK_BLOCKS_MAX][2];
		unsigned int k = sl_tcp_ooo_sack_blocks(c, blocks, (c->flags & SL_TF_TS_OK) ? 3 : 4);

		p[n++] = SL_TCPOPT_NOP;
		p[n++] = SL_TCPOPT_NOP;
		p[n++] = SL_TCPOPT_SACK;
		p[n++] = (uint8_t)(2 + 8 * k);
		for (unsigned int i = 0; i < k; i++) {
			sl_tcpopt_put32(p + n, blocks[i][0]);
			sl_tcpopt_put32(p + n + 4, blocks[i][1]);
			n += 8;
		}
	}
	return n;
}

/*
 * The payload that fits a data segment now. c->mss leaves room for the
 * timestamps only: the SACK blocks tcp_data_options adds while our
 * reassembly queue holds data take up to 36 bytes more, which must come out
 * of the payload, or a full segment exceeds the MTU (as Linux's
 * tcp_current_mss does). fuzz_tcp found 1526-byte frames: a full segment
 * with one SACK block (corpus/tcp/regress_sack_over_mtu).
 */
static uint32_t
tcp_seg_mss(const struct sl_tcp_conn *c)
{
	uint32_t blocks[SL_TCP_SACK_BLOCKS_MAX][2];
	unsigned int k;

	if (!(c->flags & SL_TF_SACK_OK) || c->ooo == NULL)
		return c->mss;
	k = sl_tcp_ooo_sack_blocks(c, blocks, (c->flags & SL_TF_TS_OK) ? 3 : 4);
	return c->mss - (4u + 8u * k);
}

/* Send [seq, seq + len) with flags; the ACK field and window come from the connection. */
static int
tcp_send_segment(struct sl_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	uint8_t opts[SL_TCPOPT_MAX];
	unsigned int optlen = tcp_data_options(c, opts);
	int rc;

	flags |= SL_TH_ACK;
	rc = tcp_emit(c->ifp, &c->key, seq, c->rcv_nxt, flags, tcp_announce_window(c, false), opts,
		      optlen, c, len);
	if (rc == 0) {
		c->last_ack_sent = c->rcv_nxt;
		c->flags &= ~(SL_TF_ACK_NOW | SL_TF_DELACK);
		sl_timer_cancel(&c->delack_timer);
	}
	return rc;
}

int
sl_tcp_send_syn(struct sl_tcp_conn *c, bool with_ack)
{
	uint8_t opts[SL_TCPOPT_MAX];
	unsigned int n = 0;
	bool active = !with_ack;

	/*
	 * A SYN-ACK retransmitted by the RTO timer comes after negotiation: the
	 * MSS keeps room for the timestamps every data segment will carry.
	 */
	sl_tcp_set_mss(c);
	opts[n++] = SL_TCPOPT_MSS;
	opts[n++] = SL_TCPOLEN_MSS;
	opts[n++] = (uint8_t)((c->ifp->mtu - 40) >> 8);
	opts[n++] = (uint8_t)((c->ifp->mtu - 40) & 0xff);
	/* On a SYN-ACK, only what the peer offered (RFC 7323 1.3, RFC 2018 2). */
	if (active || (c->flags & SL_TF_SACK_OK)) {
		opts[n++] = SL_TCPOPT_SACK_PERM;
		opts[n++] = SL_TCPOLEN_SACK_PERM;
	}
	if (active || (c->flags & SL_TF_TS_OK)) {
		opts[n++] = SL_TCPOPT_TS;
		opts[n++] = SL_TCPOLEN_TS;
		sl_tcpopt_put32(opts + n, sl_tcp_now_ms32(c->tw));
		sl_tcpopt_put32(opts + n + 4, active ? 0 : c->ts_recent);
		n += 8;
	}
	if (active || (c->flags & SL_TF_WS_OK)) {
		opts[n++] = SL_TCPOPT_NOP;
		opts[n++] = SL_TCPOPT_WS;
		opts[n++] = SL_TCPOLEN_WS;
		opts[n++] = c->rcv_wscale;
	}
	while (n % 4)
		opts[n++] = SL_TCPOPT_NOP;
	/* The handshake's RTT in µs, from the first SYN only (Karn): a resent one leaves TSecr. */
	c->rtt_start_us = c->snd_max == c->iss ? c->tw->now_us : 0;
	c->snd_nxt = c->iss + 1;
	if (sl_seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	c->last_ack_sent = c->rcv_nxt; /* RFC 7323 4.3: the handshake's ACK takes TS.Recent */
	return tcp_emit(c->ifp, &c->key, c->iss, c->rcv_nxt, SL_TH_SYN | (with_ack ? SL_TH_ACK : 0),
			tcp_announce_window(c, true), opts, n, NULL, 0);
}

void
sl_tcp_send_ack(struct sl_tcp_conn *c)
{
	tcp_send_segment(c, c->snd_nxt, 0, 0);
}

void
sl_tcp_send_rst_for(struct sl_netif *ifp, const struct sl_tcp_key *key, uint32_t seq, uint32_t ack,
		    bool with_ack)
{
	ifp->w->tcp->stats.resets_sent++;
	tcp_emit(ifp, key, seq, ack, SL_TH_RST | (with_ack ? SL_TH_ACK : 0), 0, NULL, 0, NULL, 0);
}

void
sl_tcp_send_rst(struct sl_tcp_conn *c)
{
	sl_tcp_send_rst_for(c->ifp, &c->key, c->snd_max, c->rcv_nxt, true);
}

/* Sequence number just past the last byte of queued data (the FIN's, if any). */
static inline uint32_t
tcp_data_end(const struct sl_tcp_conn *c)
{
	return c->snd_una + c->sq_bytes;
}

void
sl_tcp_retransmit_una(struct sl_tcp_conn *c)
{
	uint32_t end = tcp_data_end(c);
	uint32_t len = sl_seq_lt(c->snd_una, end) ? RTE_MIN(end - c->snd_una, tcp_seg_mss(c)) : 0;
	bool fin = (c->flags & SL_TF_FIN_SENT) && c->snd_una + len == end;

	if (len == 0 && !fin)
		return;
	if (tcp_send_segment(c, c->snd_una, len, fin ? SL_TH_FIN : 0) == 0) {
		c->tw->stats.retransmits++;
		c->retransmits++;
	}
}

/*
 * Going back over data sent before (after a timeout): step over what the
 * peer has SACKed already. Returns how much may be sent from the new snd_nxt
 * before the next SACKed range (UINT32_MAX: no limit).
 */
static uint32_t
tcp_skip_sacked(struct sl_tcp_conn *c)
{
	uint32_t hs, hl;

	if (!(c->flags & SL_TF_SACK_OK) || c->sb.n == 0 || !sl_seq_lt(c->snd_nxt, c->snd_max))
		return UINT32_MAX;
	if (sl_sack_next_hole(&c->sb, c->snd_una, c->snd_max, c->snd_nxt, &hs, &hl)) {
		c->snd_nxt = hs;
		return hl;
	}
	/*
	 * No hole below the highest SACK: resume above it, but not past our
	 * data: a block covering the FIN's sequence number (SACK is for data,
	 * the peer is wrong) moved snd_nxt beyond it, and the FIN went out
	 * again one further (fuzz_tcp, corpus/tcp/regress_sacked_fin).
	 */
	if (sl_seq_lt(c->snd_nxt, sl_sack_highest(&c->sb)))
		c->snd_nxt = sl_seq_min(sl_sack_highest(&c->sb), tcp_data_end(c));
	return UINT32_MAX;
}

/*
 * RFC 6675 NextSeg, rule 1: retransmit holes the scoreboard says are lost,
 * lowest first, while the pipe leaves room in the congestion window.
 */
static void
tcp_sack_retransmit(struct sl_tcp_conn *c)
{
	while (sl_tcp_flight(c) + c->mss <= c->cwnd) {
		uint32_t from = sl_seq_max(c->rtx_high, c->snd_una), hs, hl;

		if (!sl_sack_next_hole(&c->sb, c->snd_una, c->snd_max, from, &hs, &hl))
			return;
		if (!sl_sack_is_lost(&c->sb, hs, c->mss))
			return;
		hl = RTE_MIN(hl, tcp_seg_mss(c));
		if (sl_seq_gt(hs + hl, tcp_data_end(c)))
			hl = tcp_data_end(c) - hs;
		if (hl == 0 || tcp_send_segment(c, hs, hl, 0) != 0)
			return;
		c->rtx_high = hs + hl;
		c->rtx_epoch_nxt = c->snd_nxt;
		c->tw->stats.retransmits++;
		c->retransmits++;
	}
}

/* [snd_nxt, + len) and the FIN if `fin` went out: move snd_nxt (and snd_max), time it. */
static void
tcp_sent_at_nxt(struct sl_tcp_conn *c, uint32_t len, bool fin)
{
	/* Timed with timestamps too: the fallback when an echo is not believable. */
	if (!(c->flags & SL_TF_RTT_TIMING) && c->snd_nxt == c->snd_max && len > 0) {
		c->flags |= SL_TF_RTT_TIMING;
		c->rtt_seq = c->snd_nxt;
		c->rtt_start_us = c->tw->now_us;
	}
	c->snd_nxt += len + (fin ? 1 : 0);
	if (fin)
		c->flags |= SL_TF_FIN_SENT;
	if (sl_seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
}

/*
 * The tail loss probe (RFC 8985 7.3, Linux's tcp_send_loss_probe), from the
 * PTO. New data if the peer's window takes a segment of it, whatever cwnd
 * says: it probes as well as a retransmission and carries the transfer on.
 * Otherwise the highest-sequence segment again: up to an MSS of data ending
 * where the data sent ends, with our FIN if it was sent. Our segments are
 * not kept as sent, so "the last segment" is the last MSS: the same bytes
 * when the tail was a full segment, a little more when it was short (the
 * receiver keeps what it lacks, and a D-SACK covers the rest).
 * Records the episode (tlp_state, tlp_seq, tlp_end) for tcp_input.
 */
int
sl_tcp_send_loss_probe(struct sl_tcp_conn *c)
{
	uint32_t end = tcp_data_end(c), mss = tcp_seg_mss(c);
	uint32_t left = sl_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
	uint32_t len = RTE_MIN(left, mss), seq, sent_end;
	bool fin;
	int rc;

	if (len > 0 && c->snd_nxt == c->snd_max &&
	    sl_seq_leq(c->snd_nxt + len, c->snd_una + c->snd_wnd)) {
		fin = (c->flags & SL_TF_FIN_QUEUED) && len == left;
		seq = c->snd_nxt;
		rc = tcp_send_segment(c, seq, len, (len == left ? SL_TH_PSH : 0) | (fin ? SL_TH_FIN : 0));
		if (rc != 0)
			return rc;
		tcp_sent_at_nxt(c, len, fin);
		c->tlp_state = SL_TCP_TLP_NEW;
	} else {
		fin = (c->flags & SL_TF_FIN_SENT) != 0;
		sent_end = c->snd_max - (fin ? 1u : 0u);
		len = sl_seq_lt(c->snd_una, sent_end) ? RTE_MIN(sent_end - c->snd_una, mss) : 0;
		seq = sent_end - len;
		if (len == 0 && !fin)
			return -ENODATA;
		/* PSH as the tail had it: the peer delivers what it completes at once. */
		rc = tcp_send_segment(c, seq, len,
				      (len > 0 && seq + len == end ? SL_TH_PSH : 0) | (fin ? SL_TH_FIN : 0));
		if (rc != 0)
			return rc;
		/* Karn: no sample from a timed segment this may have resent a part of. */
		if ((c->flags & SL_TF_RTT_TIMING) && sl_seq_gt(c->rtt_seq + mss, seq))
			c->flags &= ~SL_TF_RTT_TIMING;
		c->tw->stats.retransmits++;
		c->retransmits++;
		c->tlp_state = SL_TCP_TLP_RETRANS;
	}
	c->tlp_seq = seq;
	c->tlp_end = c->snd_max;
	return 0;
}

/* Output for c at the end of this poll iteration (once, however often it is asked). */
void
sl_tcp_flush_later(struct sl_tcp_conn *c)
{
	if (c->api_flags & SL_TA_FLUSH_Q)
		return;
	c->api_flags |= SL_TA_FLUSH_Q;
	c->next_flush = c->tw->flush;
	c->tw->flush = c;
}

void
sl_tcp_output(struct sl_tcp_conn *c)
{
	if (c->flags & SL_TF_DEAD)
		return;
	switch (c->state) {
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
	case SL_TCP_FIN_WAIT_1:
	case SL_TCP_CLOSING:
	case SL_TCP_LAST_ACK:
		break;
	case SL_TCP_SYN_RECEIVED:
	case SL_TCP_FIN_WAIT_2:
	case SL_TCP_TIME_WAIT:
		if (c->flags & SL_TF_ACK_NOW)
			sl_tcp_send_ack(c);
		return;
	default:
		return;
	}
	if ((c->flags & (SL_TF_RECOVERY | SL_TF_SACK_OK)) == (SL_TF_RECOVERY | SL_TF_SACK_OK))
		tcp_sack_retransmit(c);

	uint32_t end = tcp_data_end(c), left = 0, mss = tcp_seg_mss(c);
	bool corked = false, sent = false;
	for (;;) {
		bool fin_pending = (c->flags & SL_TF_FIN_QUEUED) && sl_seq_leq(c->snd_nxt, end);

		/*
		 * Nothing new to send and nothing to resend (most calls: after an ACK, a
		 * cork, the flush): the rest of the loop would find len == 0 and no FIN and
		 * change nothing on the way (tcp_skip_sacked moves snd_nxt only below
		 * snd_max), so its window arithmetic is skipped.
		 */
		left = sl_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
		if (left == 0 && !fin_pending && !sl_seq_lt(c->snd_nxt, c->snd_max))
			break;

		uint32_t edge = c->snd_una + c->snd_wnd;
		uint32_t rwnd_room = sl_seq_lt(c->snd_nxt, edge) ? edge - c->snd_nxt : 0;
		uint32_t pipe = sl_tcp_flight(c);
		/* Limited transmit (RFC 3042): a new segment for each of the first two dup ACKs. */
		uint32_t cwnd = c->cwnd + ((c->flags & SL_TF_RECOVERY) || c->dupacks > 2
						   ? 0u
						   : (uint32_t)c->dupacks * c->mss);
		uint32_t room = RTE_MIN(rwnd_room, cwnd > pipe ? cwnd - pipe : 0u);
		uint32_t hole = tcp_skip_sacked(c);
		uint32_t len;
		bool fin;

		left = sl_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
		len = RTE_MIN(RTE_MIN(RTE_MIN(left, mss), room), hole);
		fin = fin_pending && len == left;
		if (len == 0 && !fin)
			break;
		/*
		 * Sender silly-window avoidance (RFC 9293 3.8.6.2.1) without Nagle:
		 * a short segment goes only when it carries everything queued or
		 * when the window is at least half the largest one offered.
		 */
		if (len < mss && len < left && room < c->max_snd_wnd / 2 &&
		    !(c->flags & SL_TF_SWS_OVERRIDE))
			break;
		/* Corked: a short segment waits for the poll iteration's end (sl_tcp_flush). */
		if (len > 0 && len < mss &&
		    (c->api_flags & (SL_TA_CORK | SL_TA_FLUSHING)) == SL_TA_CORK) {
			sl_tcp_flush_later(c);
			corked = true;
			break;
		}
		bool idle = c->snd_una == c->snd_max;
		if (sl_seq_lt(c->snd_nxt, c->snd_max)) {
			c->tw->stats.retransmits++;
			c->retransmits++;
		}
		if (tcp_send_segment(c, c->snd_nxt, len,
				     (len == left && len > 0 ? SL_TH_PSH : 0) | (fin ? SL_TH_FIN : 0)) != 0)
			break;
		if (idle) /* the user timeout counts from here */
			c->progress_ms = sl_tcp_now_ms(c->tw);
		tcp_sent_at_nxt(c, len, fin);
		sent = true;
		if (fin)
			break;
	}
	/* Once per call, not per segment: the RTO, or the loss probe that comes before it. */
	if (sent)
		sl_tcp_arm_xmit_timer(c, false);
	if (c->flags & SL_TF_ACK_NOW)
		sl_tcp_send_ack(c);
	/*
	 * Data waits and nothing is in flight, so no ACK will come to move it: a
	 * zero window (probe it, RFC 9293 3.8.6.1), a short one that sender SWS
	 * avoidance leaves alone, or no mbuf. The persist timer probes, or sends
	 * what a short window takes (the override timeout of RFC 1122 4.2.3.4).
	 * Only a zero window armed it before: after a short window whose update
	 * was lost, the connection waited forever (fuzz_tcp found it,
	 * corpus/tcp/regress_sws_stall).
	 */
	/*
	 * The same for a FIN that could not go (no mbuf, device queue full) with
	 * nothing in flight: nothing else would send it, and the connection stayed
	 * in FIN-WAIT-1 with no timer (fuzz_tcp found it).
	 */
	bool fin_waits = (c->flags & (SL_TF_FIN_QUEUED | SL_TF_FIN_SENT)) == SL_TF_FIN_QUEUED;

	if ((left > 0 || fin_waits) && !corked && c->snd_una == c->snd_max &&
	    c->rtx_mode == SL_TCP_RTX_NONE)
		sl_tcp_arm_persist(c);
}

void
sl_tcp_sq_drop_acked(struct sl_tcp_conn *c, uint32_t acked)
{
	c->sq_bytes -= acked;
	acked += c->sq_off;
	while (c->sq_head != NULL && acked >= c->sq_head->data_len) {
		struct rte_mbuf *s = c->sq_head;

		/* A zero-length segment at the end of the queue goes too. */
		if (s->next == NULL && acked > s->data_len)
			acked = s->data_len;
		acked -= s->data_len;
		c->sq_head = s->next;
		if (s == c->sq_cur)
			c->sq_cur = NULL;
		s->next = NULL;
		s->nb_segs = 1;
		rte_pktmbuf_free_seg(s);
	}
	if (c->sq_head == NULL)
		c->sq_tail = NULL;
	c->sq_off = acked;
}

/*
 * Zero-window and keepalive probe: an ACK for one sequence number we sent
 * long ago (snd_una - 1, no data). The peer must answer with its current
 * ACK and window (RFC 9293 3.8.4, 3.8.6.1), and no byte is committed.
 */
void
sl_tcp_send_probe(struct sl_tcp_conn *c)
{
	uint8_t opts[SL_TCPOPT_MAX];
	unsigned int optlen = tcp_data_options(c, opts);

	tcp_emit(c->ifp, &c->key, c->snd_una - 1, c->rcv_nxt, SL_TH_ACK,
		 tcp_announce_window(c, false), opts, optlen, NULL, 0);
}
