/* SPDX-License-Identifier: MIT */
/*
 * Segment arrival, after RFC 9293 3.10.7, with RFC 5961 (blind RST, SYN and
 * ACK attacks), RFC 7323 (PAWS), SYN cookies, NewReno/SACK loss recovery
 * and out-of-order reassembly.
 *
 * Every user callback may close or abort the connection it is given: after
 * each one the code checks SL_TF_DEAD and stops touching the connection.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "dataplane/net/cksum.h"
#include "dataplane/net/mbuf_chain.h"
#include "dataplane/worker.h"
#include "tcp_conn.h"
#include "tcp_options.h"
#include "tcp_rcvmem.h"
#include "tcp_reass.h"
#include "tcp_syncookie.h"
#include "tcp_worker.h"

/* One arriving segment, decoded; m holds its payload only (len bytes) or is NULL. */
struct tcp_seg {
	uint32_t seq, ack, len;
	uint32_t win; /* as on the wire, unscaled */
	uint8_t flags;
	struct sl_tcp_opts o;
	struct rte_mbuf *m;
};

static inline void
seg_free(struct tcp_seg *s)
{
	rte_pktmbuf_free(s->m);
	s->m = NULL;
}

static inline uint32_t
seg_seqlen(const struct tcp_seg *s)
{
	return s->len + ((s->flags & SL_TH_SYN) ? 1 : 0) + ((s->flags & SL_TH_FIN) ? 1 : 0);
}

/* Reply to a segment that belongs to no connection (RFC 9293 3.10.7.1). */
static void
tcp_reset_stray(struct sl_netif *ifp, const struct sl_tcp_key *key, const struct tcp_seg *s)
{
	if (s->flags & SL_TH_RST)
		return;
	if (s->flags & SL_TH_ACK)
		sl_tcp_send_rst_for(ifp, key, s->ack, 0, false);
	else
		sl_tcp_send_rst_for(ifp, key, 0, s->seq + seg_seqlen(s), true);
}

/*
 * ACKs answering segments that do not belong (out of window, PAWS, RFC 5961
 * challenges) at most one per SL_TCP_INVALID_RATELIMIT_MS per connection, as
 * Linux's __tcp_oow_rate_limited: two endpoints that disagree about the
 * sequence space must not ping-pong ACKs at line rate. Returns true when this
 * one must not be sent.
 */
static bool
tcp_oow_rate_limited(struct sl_tcp_conn *c)
{
	uint32_t now = (uint32_t)sl_tcp_now_ms(c->tw);

	if (c->last_oow_ack_ms != 0 && now - c->last_oow_ack_ms < SL_TCP_INVALID_RATELIMIT_MS)
		return true;
	c->last_oow_ack_ms = now != 0 ? now : 1;
	return false;
}

/*
 * The ACK owed to an out-of-window or PAWS-rejected segment. Data is always
 * answered (it is not part of an ACK loop, and the sender needs to hear where
 * we are); a bare ACK or a SYN is rate limited, as Linux's tcp_oow_rate_limited.
 */
static void
tcp_oow_ack(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	if ((s->len > 0 && !(s->flags & SL_TH_SYN)) || !tcp_oow_rate_limited(c))
		c->flags |= SL_TF_ACK_NOW;
}

/*
 * RFC 5961 7: challenge ACKs are rate limited. A fixed budget per second
 * shared by all connections is a side channel (CVE-2016-5696): an off-path
 * attacker who exhausts it and counts the challenge ACKs still coming to
 * him learns whether his guessed 4-tuple or sequence number made the
 * victim connection spend one. As Linux does since the fix: a limit per
 * connection first, then a per-worker budget drawn afresh every second at
 * random between half and one and a half times SL_TCP_CHALLENGE_ACK_LIMIT,
 * so that the count left over is not observable.
 */
static void
tcp_challenge_ack(struct sl_tcp_conn *c)
{
	struct sl_tcp_worker *tw = c->tw;
	uint64_t now_s = sl_tcp_now_ms(tw) / 1000;

	if (tcp_oow_rate_limited(c))
		return;
	if (now_s != tw->challenge_epoch_s) {
		uint32_t half = (SL_TCP_CHALLENGE_ACK_LIMIT + 1) / 2;

		tw->challenge_epoch_s = now_s;
		tw->challenge_budget = half + (uint32_t)rte_rand_max(SL_TCP_CHALLENGE_ACK_LIMIT);
	}
	if (tw->challenge_budget == 0)
		return;
	tw->challenge_budget--;
	tw->stats.challenge_acks++;
	sl_tcp_send_ack(c);
}

/*
 * An RTT sample from the timestamp the peer echoed (RFC 7323 4.1), if the
 * echo is believable: non-zero, not ahead of our clock, and not older than the
 * largest RTO, as Linux checks (tcp_rtt_tsopt_us). Anything else is a bogus
 * or forged TSecr: its (now - tsecr) * 1000 used to wrap into an RTT of up to
 * 71 minutes, which pinned the RTO at its maximum. Returns false when no
 * sample was taken, so that the caller can fall back to Karn's timing.
 */
static bool
tcp_ts_rtt_sample(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t delta_ms;

	if (!(c->flags & SL_TF_TS_OK) || !s->o.ts_ok || s->o.tsecr == 0)
		return false;
	delta_ms = sl_tcp_now_ms32(c->tw) - s->o.tsecr;
	if ((int32_t)delta_ms < 0 || delta_ms > SL_TCP_RTO_MAX_MS)
		return false;
	sl_tcp_rtt_sample(c, (uint32_t)((uint64_t)delta_ms * 1000u));
	return true;
}

/* Negotiated options from a SYN (or a SYN-ACK, active side). */
static void
tcp_negotiate(struct sl_tcp_conn *c, const struct tcp_seg *s, bool we_offered_all)
{
	c->peer_mss = s->o.mss_ok && s->o.mss > 0 ? s->o.mss : SL_TCP_MSS_DEFAULT;
	if (s->o.ws_ok && we_offered_all) {
		c->flags |= SL_TF_WS_OK;
		c->snd_wscale = RTE_MIN(s->o.ws, (uint8_t)SL_TCP_MAX_WSCALE);
		c->rcv_wscale = sl_tcp_choose_wscale(c->rcvbuf);
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
	}
	if (s->o.sack_perm && we_offered_all)
		c->flags |= SL_TF_SACK_OK;
	if (s->o.ts_ok && we_offered_all) {
		c->flags |= SL_TF_TS_OK;
		c->ts_recent = s->o.tsval;
	}
	/* Without window scaling, never offer more than 64 KiB - 1. */
	if (!(c->flags & SL_TF_WS_OK) && c->rcvbuf > 65535)
		c->rcvbuf = 65535;
}

static void
tcp_user_closed(struct sl_tcp_conn *c)
{
	if (!(c->flags & SL_TF_USER_GONE)) {
		c->flags |= SL_TF_USER_GONE;
		if (c->ops->closed != NULL)
			c->ops->closed(c);
	}
}

/* ---- connections that do not exist yet: listeners and SYN cookies ---- */

static void
tcp_syn_cookie_reply(struct sl_netif *ifp, const struct sl_tcp_key *key, const struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	uint16_t mss;
	uint8_t opts[SL_TCPOPT_MAX];
	unsigned int n = 0;
	uint32_t cookie;

	cookie = sl_syncookie_make(&tw->secret, key->laddr, key->lport, key->raddr, key->rport, s->seq,
				   s->o.mss_ok ? s->o.mss : SL_TCP_MSS_DEFAULT,
				   sl_tcp_now_ms(tw) / 1000, &mss);
	opts[n++] = SL_TCPOPT_MSS;
	opts[n++] = SL_TCPOLEN_MSS;
	opts[n++] = (uint8_t)((ifp->mtu - 40) >> 8);
	opts[n++] = (uint8_t)((ifp->mtu - 40) & 0xff);
	/* Window scale and SACK survive only inside the timestamp (as in Linux). */
	if (s->o.ts_ok) {
		if (s->o.sack_perm) {
			opts[n++] = SL_TCPOPT_SACK_PERM;
			opts[n++] = SL_TCPOLEN_SACK_PERM;
		}
		opts[n++] = SL_TCPOPT_TS;
		opts[n++] = SL_TCPOLEN_TS;
		sl_tcpopt_put32(opts + n, sl_syncookie_ts_encode(
						  sl_tcp_now_ms32(tw),
						  s->o.ws_ok ? RTE_MIN(s->o.ws, (uint8_t)14)
							     : SL_SYNCOOKIE_WSCALE_NONE,
						  s->o.sack_perm));
		sl_tcpopt_put32(opts + n + 4, s->o.tsval);
		n += 8;
		if (s->o.ws_ok) {
			opts[n++] = SL_TCPOPT_NOP;
			opts[n++] = SL_TCPOPT_WS;
			opts[n++] = SL_TCPOLEN_WS;
			opts[n++] = sl_tcp_choose_wscale(tw->cfg->rcvbuf);
		}
	}
	while (n % 4)
		opts[n++] = SL_TCPOPT_NOP;
	tw->stats.syncookies_sent++;
	sl_tcp_emit_raw(ifp, key, cookie, s->seq + 1, SL_TH_SYN | SL_TH_ACK,
			(uint16_t)RTE_MIN(tw->cfg->rcvbuf, 65535u), opts, n);
}

static void tcp_input_sync(struct sl_tcp_conn *c, struct tcp_seg *s);
static void tcp_handshake_rtt(struct sl_tcp_conn *c, const struct tcp_seg *s);

/* A bare ACK to a listener: the third step of a handshake answered with a cookie? */
static void
tcp_syn_cookie_ack(struct sl_netif *ifp, struct sl_tcp_listener *l, const struct sl_tcp_key *key,
		   struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	struct sl_tcp_conn *c;
	uint16_t mss;
	int err;

	if (sl_syncookie_check(&tw->secret, key->laddr, key->lport, key->raddr, key->rport,
			       s->seq - 1, s->ack - 1, sl_tcp_now_ms(tw) / 1000, &mss) != 0) {
		tw->stats.syncookies_failed++;
		tw->stats.drops[SL_TCP_DROP_BAD_COOKIE]++;
		tcp_reset_stray(ifp, key, s);
		seg_free(s);
		return;
	}
	c = sl_tcp_conn_alloc(tw, ifp, key, &err);
	if (c == NULL) {
		seg_free(s);
		return;
	}
	tw->stats.syncookies_ok++;
	c->listener = l;
	c->ops = l->ops;
	c->user = l->arg;
	c->flags |= SL_TF_PASSIVE;
	c->iss = s->ack - 1;
	c->snd_una = c->iss; /* the SYN-ACK is acknowledged by this very segment */
	c->snd_nxt = c->snd_max = s->ack;
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->peer_mss = mss;
	if (s->o.ts_ok) {
		uint8_t ws;
		bool sack;

		sl_syncookie_ts_decode(s->o.tsecr, &ws, &sack);
		/* Up to 63 ms stale (tcp_syncookie.h): no RTT sample from this echo. */
		s->o.tsecr = 0;
		c->flags |= SL_TF_TS_OK;
		c->ts_recent = s->o.tsval;
		if (sack)
			c->flags |= SL_TF_SACK_OK;
		if (ws != SL_SYNCOOKIE_WSCALE_NONE) {
			c->flags |= SL_TF_WS_OK;
			c->snd_wscale = ws;
			c->rcv_wscale = sl_tcp_choose_wscale(c->rcvbuf);
		}
	}
	if (!(c->flags & SL_TF_WS_OK) && c->rcvbuf > 65535)
		c->rcvbuf = 65535;
	c->rcv_adv = c->rcv_nxt + RTE_MIN(c->rcvbuf, 65535u);
	c->last_ack_sent = c->rcv_nxt; /* what the cookie SYN-ACK acknowledged */
	sl_tcp_set_mss(c);
	sl_tcp_cc_init(c);
	sl_tcp_set_state(c, SL_TCP_SYN_RECEIVED);
	/* The ACK completes the handshake in the usual place. */
	tcp_input_sync(c, s);
}

static void
tcp_listen_syn(struct sl_netif *ifp, struct sl_tcp_listener *l, const struct sl_tcp_key *key,
	       struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	struct sl_tcp_conn *c;
	int err;

	seg_free(s); /* data on a SYN is not queued (no TCP Fast Open); the peer sends it again */
	if (l->syn_queued >= tw->cfg->syn_backlog) {
		l->overflow_ms = RTE_MAX(sl_tcp_now_ms(tw), (uint64_t)1);
		tcp_syn_cookie_reply(ifp, key, s);
		return;
	}
	c = sl_tcp_conn_alloc(tw, ifp, key, &err);
	if (c == NULL)
		return;
	c->listener = l;
	c->ops = l->ops;
	c->user = l->arg;
	c->flags |= SL_TF_PASSIVE | SL_TF_IN_LISTEN_Q;
	l->syn_queued++;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	tcp_negotiate(c, s, true);
	c->snd_wnd = s->win; /* never scaled in a SYN (RFC 7323 2.2) */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_una = c->snd_nxt = c->snd_max = c->iss; /* c->iss from sl_tcp_conn_alloc */
	sl_tcp_set_state(c, SL_TCP_SYN_RECEIVED);
	c->rcv_adv = c->rcv_nxt + RTE_MIN(c->rcvbuf, 65535u);
	sl_tcp_set_mss(c);
	sl_tcp_cc_init(c);
	sl_tcp_send_syn(c, true);
	sl_tcp_arm_rto(c);
}

/*
 * Whether a bare ACK to this listener may complete a cookie handshake: only
 * when its backlog overflowed within a cookie's lifetime (two counter
 * periods), as Linux's tcp_synq_no_recent_overflow. Otherwise every stray or
 * forged ACK cost a SipHash and a 2^-29 chance of opening a connection,
 * though no cookie was ever sent; it gets a RST.
 */
static bool
tcp_cookies_in_flight(const struct sl_tcp_worker *tw, const struct sl_tcp_listener *l)
{
	return l->overflow_ms != 0 &&
	       sl_tcp_now_ms(tw) - l->overflow_ms < (2000u << SL_SYNCOOKIE_PERIOD_SHIFT);
}

static void
tcp_input_closed(struct sl_netif *ifp, const struct sl_tcp_key *key, struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	struct sl_tcp_listener *l = sl_tcp_listener_lookup(tw, key->laddr, key->lport);

	if (l != NULL && l->refusing)
		l = NULL; /* graceful stop: refused as a closed port is */
	if (l != NULL && !(s->flags & SL_TH_RST)) {
		switch (s->flags & (SL_TH_SYN | SL_TH_ACK)) {
		case SL_TH_SYN:
			tcp_listen_syn(ifp, l, key, s);
			return;
		case SL_TH_ACK:
			if (tcp_cookies_in_flight(tw, l)) {
				tcp_syn_cookie_ack(ifp, l, key, s);
				return;
			}
			/* No cookie can be out: an ACK for a SYN-ACK we never sent. */
			tw->stats.drops[SL_TCP_DROP_BAD_ACK]++;
			break;
		}
	}
	if (l == NULL)
		tw->stats.drops[SL_TCP_DROP_NO_LISTENER]++;
	tcp_reset_stray(ifp, key, s);
	seg_free(s);
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ---- */

/*
 * An ACK for something our SYN never sent. The usual sender is the peer's
 * TIME-WAIT for the same 4-tuple, left by an earlier connection from our
 * address and port (ours before the ports wrapped, or another process's that
 * held the address before us): it refuses a SYN whose ISN and timestamp are
 * not newer than what it saw last (RFC 6191) and answers with an ACK. The RST
 * with seq = SEG.ACK (RFC 9293) is exactly in its window and, carrying no
 * timestamp, escapes PAWS: Linux then drops the TIME-WAIT (RFC 1337 not
 * enforced, its default), so a SYN sent right behind the RST opens the
 * connection. Waiting for the RTO instead cost a full second per collision,
 * a p99 of a second under connection churn.
 *
 * At once, not after a delay: the RST and the SYN leave in the same burst and
 * in order, and the peer handles them in order. Bounded per connection, so a
 * peer that keeps its TIME-WAIT (RFC 1337) or an attacker who injects such
 * ACKs gets at most SL_TCP_SYN_BAD_ACK_RESENDS extra SYNs, each one answering
 * one of its segments; after that the RTO takes over as before. Linux rate
 * limits a TIME-WAIT's ACKs (one per 500 ms), so a loop is short anyway.
 *
 * The TSval clock (tw->ts_offset, random per worker and per start) is left
 * as it is. Within a run it only grows for a given 4-tuple, since one worker
 * owns each source port; after a restart it is as likely older as newer than
 * what a TIME-WAIT remembers, and so would be any keyed offset with a fresh
 * secret (Linux's per-address-pair offset included). What makes the reopening
 * work either way is the RST, which is not subject to PAWS, and this SYN.
 */
static void
tcp_syn_sent_bad_ack(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = c->tw;

	sl_tcp_send_rst_for(c->ifp, &c->key, s->ack, 0, false);
	if (c->syn_resends >= SL_TCP_SYN_BAD_ACK_RESENDS)
		return;
	c->syn_resends++;
	if (sl_tcp_send_syn(c, false) == 0) {
		tw->stats.syn_resends++;
		tw->stats.retransmits++;
	}
}

static void
tcp_input_syn_sent(struct sl_tcp_conn *c, struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = c->tw;
	bool ack_ok = false;

	seg_free(s); /* data on a SYN-ACK is rare; the peer sends it again */
	if (s->flags & SL_TH_ACK) {
		if (sl_seq_leq(s->ack, c->iss) || sl_seq_gt(s->ack, c->snd_max)) {
			tw->stats.drops[SL_TCP_DROP_BAD_ACK]++;
			if (!(s->flags & SL_TH_RST))
				tcp_syn_sent_bad_ack(c, s);
			return;
		}
		ack_ok = true;
	}
	if (s->flags & SL_TH_RST) {
		if (ack_ok) {
			tw->stats.resets_received++;
			sl_tcp_conn_fail(c, -ECONNREFUSED);
		}
		return;
	}
	if (!(s->flags & SL_TH_SYN))
		return;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	tcp_negotiate(c, s, true);
	sl_tcp_set_mss(c);
	c->rcv_adv = c->rcv_nxt + RTE_MIN(c->rcvbuf, 65535u);
	if (!ack_ok) {
		/* Simultaneous open: answer with SYN-ACK for our ISS. */
		sl_tcp_set_state(c, SL_TCP_SYN_RECEIVED);
		c->snd_wnd = s->win;
		sl_tcp_send_syn(c, true);
		return;
	}
	c->snd_una = s->ack;
	tcp_handshake_rtt(c, s);
	c->backoff = 0;
	sl_timer_cancel(&c->rtx_timer);
	c->rtx_mode = SL_TCP_RTX_NONE;
	c->snd_wnd = s->win; /* unscaled in a SYN-ACK */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	sl_tcp_cc_init(c);
	sl_tcp_established(c);
	c->last_rx_ms = sl_tcp_now_ms(tw);
	sl_tcp_arm_keepalive(c);
	c->flags |= SL_TF_ACK_NOW;
	sl_tcp_output(c);
	if (c->ops->connected != NULL)
		c->ops->connected(c);
}

/*
 * Duplicate ACKs that start a fast retransmit: three, or fewer when fewer
 * than four segments are outstanding and nothing new can be sent to make
 * more dup ACKs (early retransmit, RFC 5827).
 */
static unsigned int
tcp_dupthresh(const struct sl_tcp_conn *c)
{
	uint32_t out = c->snd_max - c->snd_una;
	uint32_t segs = (out + c->mss - 1) / c->mss;

	/* One segment out makes no duplicate ACK at all: that is the RTO's (or a probe's) job. */
	if (segs >= 4 || segs < 2 || sl_seq_lt(c->snd_max, c->snd_una + c->sq_bytes))
		return 3;
	return segs - 1;
}

/* ---- the ACK field (RFC 9293 3.10.7.4, fifth check) ---- */

/*
 * The ACK of our SYN in SYN-RECEIVED: the handshake is complete. The user
 * hears of a passive open here (accepted) and may close it at once. Returns
 * false when the segment must be dropped or the connection went away.
 */
static bool
tcp_ack_handshake(struct sl_tcp_conn *c, struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = c->tw;
	uint32_t ack = s->ack;

	if (!sl_seq_lt(c->snd_una, ack) || sl_seq_gt(ack, c->snd_max)) {
		sl_tcp_send_rst_for(c->ifp, &c->key, ack, 0, false);
		tw->stats.drops[SL_TCP_DROP_BAD_ACK]++;
		return false;
	}
	/* The ACK covers our SYN: take it here so data accounting starts at iss + 1. */
	c->snd_una = c->iss + 1;
	tcp_handshake_rtt(c, s);
	c->backoff = 0;
	sl_timer_cancel(&c->rtx_timer);
	c->rtx_mode = SL_TCP_RTX_NONE;
	sl_tcp_established(c);
	if (c->flags & SL_TF_PASSIVE)
		tw->stats.passive_opens++;
	c->snd_wnd = s->win << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = ack;
	c->last_rx_ms = sl_tcp_now_ms(tw);
	sl_tcp_arm_keepalive(c);
	if (!(c->flags & SL_TF_PASSIVE)) {
		/*
		 * A simultaneous open: the user opened it, it is not a new
		 * connection; unless the user closed it meanwhile, when the
		 * callback reached a released handle (fuzz_tcp,
		 * corpus/tcp/regress_connected_after_close).
		 */
		if (!(c->flags & SL_TF_USER_GONE) && c->ops->connected != NULL)
			c->ops->connected(c);
	} else if (c->ops->accepted != NULL && c->ops->accepted(c) != 0) {
		sl_tcp_abort(c);
		return false;
	}
	return !(c->flags & SL_TF_DEAD);
}

/* RFC 5961 5.2: an ACK far behind or ahead of what we sent is an attack or a bug. */
static bool
tcp_ack_validate(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = c->tw;

	if (sl_seq_gt(s->ack, c->snd_max)) {
		tw->stats.drops[SL_TCP_DROP_BAD_ACK]++;
		tcp_oow_ack(c, s);
		return false;
	}
	if (sl_seq_lt(s->ack, c->snd_una - RTE_MAX(c->max_snd_wnd, 1u))) {
		tcp_challenge_ack(c);
		tw->stats.drops[SL_TCP_DROP_BAD_ACK]++;
		return false;
	}
	return true;
}

/*
 * SACK blocks into the scoreboard (RFC 2018, 6675). Returns true when the
 * first block is a D-SACK (RFC 2883) for bytes of the outstanding loss probe
 * that resent the tail: the peer got them twice (RFC 8985 7.4.2).
 */
static bool
tcp_ack_sack(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t una = sl_seq_max(c->snd_una, s->ack);
	uint32_t blocks[4][2];
	unsigned int n = 0;
	bool dsack = false;

	if (!(c->flags & SL_TF_SACK_OK) || s->o.n_sack == 0)
		return false;
	for (unsigned int i = 0; i < s->o.n_sack; i++) {
		/* A block beyond what we sent is bogus; ignore it. */
		if (sl_seq_gt(s->o.sack[i][1], c->snd_max))
			continue;
		blocks[n][0] = s->o.sack[i][0];
		blocks[n][1] = s->o.sack[i][1];
		n++;
	}
	if (n > 0)
		sl_sack_update(&c->sb, una, blocks, n, &dsack);
	/*
	 * Data sent after our latest retransmission is SACKed while that
	 * retransmission's hole is still open: it was lost too. Walk the holes
	 * again rather than wait for the RTO.
	 */
	if ((c->flags & SL_TF_RECOVERY) && sl_seq_gt(c->rtx_high, una) &&
	    sl_seq_gt(sl_sack_highest(&c->sb), c->rtx_epoch_nxt)) {
		c->tw->stats.lost_retransmits++;
		c->rtx_high = una;
		c->rtx_epoch_nxt = c->snd_nxt;
	}
	return dsack && c->tlp_state == SL_TCP_TLP_RETRANS && sl_seq_lt(blocks[0][0], c->tlp_end) &&
	       sl_seq_gt(blocks[0][1], c->tlp_seq);
}

/*
 * The loss probe's episode (RFC 8985 7.4.2; Linux's tcp_process_tlp_ack),
 * from an ACK at or past the probe's end, before snd_una moves. A probe of
 * new data ends it: a loss before it shows in SACKs like any other. A
 * resent tail ends it without a loss when the peer says it got both copies:
 * a D-SACK for the probe, or (a peer without D-SACK) a pure duplicate ACK
 * of the probe's end. An ACK past the probe's end with neither seen first
 * means one copy was needed: the probe repaired a loss, and the congestion
 * controller reduces (sl_tcp_cc_tlp_loss). An ACK of exactly the probe's end
 * that moves snd_una cannot tell yet (the original's ACK may have been
 * delayed): the episode waits for the next ACK.
 */
static void
tcp_ack_tlp(struct sl_tcp_conn *c, const struct tcp_seg *s, bool dsack)
{
	if (sl_seq_lt(s->ack, c->tlp_end))
		return;
	if (c->tlp_state == SL_TCP_TLP_NEW || dsack) {
		c->tlp_state = SL_TCP_TLP_NONE;
	} else if (sl_seq_gt(s->ack, c->tlp_end)) {
		c->tlp_state = SL_TCP_TLP_NONE;
		sl_tcp_cc_tlp_loss(c);
	} else if (s->ack == c->snd_una && s->len == 0 && s->o.n_sack == 0 &&
		   !(s->flags & (SL_TH_SYN | SL_TH_FIN)) && (s->win << c->snd_wscale) == c->snd_wnd) {
		c->tlp_state = SL_TCP_TLP_NONE;
	}
}

/*
 * RTT of newly acknowledged data. The timed segment (Karn-safe, one per
 * round trip) is measured on the µs clock; timestamps tick in ms, so an
 * echo is used only while no segment is being timed (after a timeout, when
 * Karn stops timing): mixing ms samples in made a sub-millisecond RTT read
 * as 0 or 1 ms, and the adaptive balancer needs better than that.
 */
static void
tcp_ack_rtt(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	bool timed = (c->flags & SL_TF_RTT_TIMING) && sl_seq_gt(s->ack, c->rtt_seq);

	if (timed) {
		sl_tcp_rtt_sample(c, (uint32_t)(c->tw->now_us - c->rtt_start_us));
		c->flags &= ~SL_TF_RTT_TIMING;
	} else if (!(c->flags & SL_TF_RTT_TIMING)) {
		tcp_ts_rtt_sample(c, s);
	}
}

/*
 * The handshake's RTT where it was taken before, with timestamps, but from
 * the first SYN's send time on the µs clock (sl_tcp_send_syn) rather than
 * the ms echo. Without timestamps, no sample, as before (RFC 6298's 1 s
 * start stands until data is timed).
 */
static void
tcp_handshake_rtt(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	if (c->backoff != 0)
		return;
	if (c->rtt_start_us != 0 && (c->flags & SL_TF_TS_OK) && s->o.ts_ok)
		sl_tcp_rtt_sample(c, (uint32_t)(c->tw->now_us - c->rtt_start_us));
	else
		tcp_ts_rtt_sample(c, s);
}

/* Congestion window for `acked` new bytes, in or out of loss recovery (RFC 5681, 6582). */
static void
tcp_ack_cc(struct sl_tcp_conn *c, uint32_t acked)
{
	if (!(c->flags & SL_TF_RECOVERY)) {
		c->dupacks = 0;
		sl_tcp_cc_ack(c, acked);
	} else if (sl_seq_geq(c->snd_una, c->recover)) {
		/* Full ACK: leave recovery with cwnd at ssthresh (RFC 6582 3.2 step 3). */
		c->flags &= ~SL_TF_RECOVERY;
		c->cwnd = RTE_MIN(c->ssthresh,
				  RTE_MAX(c->snd_max - c->snd_una, (uint32_t)c->mss) + c->mss);
		c->dupacks = 0;
	} else if (!(c->flags & SL_TF_SACK_OK)) {
		/* Partial ACK: the next hole is lost too; deflate (RFC 6582 3.2 step 4). */
		sl_tcp_retransmit_una(c);
		c->cwnd = c->cwnd > acked ? c->cwnd - acked : c->mss;
		if (acked >= c->mss)
			c->cwnd += c->mss;
	}
}

/* Our FIN is acknowledged: the next state of an active or simultaneous close. */
static bool
tcp_ack_fin(struct sl_tcp_conn *c)
{
	switch (c->state) {
	case SL_TCP_FIN_WAIT_1:
		sl_tcp_set_state(c, SL_TCP_FIN_WAIT_2);
		if (c->flags & SL_TF_USER_GONE)
			sl_tcp_arm_keepalive(c); /* the FIN-WAIT-2 limit */
		return true;
	case SL_TCP_CLOSING:
		sl_tcp_enter_time_wait(c);
		tcp_user_closed(c);
		return false;
	case SL_TCP_LAST_ACK:
		sl_tcp_conn_destroy(c);
		tcp_user_closed(c);
		return false;
	default:
		return true;
	}
}

/*
 * snd_una advances: RTT, drop what is acknowledged, congestion control and
 * recovery, the retransmission timer, our FIN. The user hears of freed send
 * space only once the whole segment is processed (tcp_notify_writable).
 * Returns false when the connection went away.
 */
static bool
tcp_ack_advance(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t ack = s->ack;
	uint32_t acked = ack - c->snd_una;
	bool fin_acked = (c->flags & SL_TF_FIN_SENT) && ack == c->snd_max;
	uint32_t data_acked = RTE_MIN(acked - (fin_acked ? 1 : 0), c->sq_bytes);

	tcp_ack_rtt(c, s);
	c->backoff = 0;
	c->soft_err = 0; /* something got through: forget an ICMP soft error */
	c->total_acked += data_acked;
	c->progress_ms = sl_tcp_now_ms(c->tw); /* the user timeout starts over */
	sl_tcp_sq_drop_acked(c, data_acked);
	c->snd_una = ack;
	if (sl_seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	sl_sack_advance(&c->sb, ack);
	tcp_ack_cc(c, acked);
	if (c->snd_una == c->snd_max) {
		sl_timer_cancel(&c->rtx_timer);
		c->rtx_mode = SL_TCP_RTX_NONE;
	} else {
		sl_tcp_arm_xmit_timer(c, true); /* RFC 8985 7.2: a new PTO, or the RTO restarted */
	}
	if (fin_acked && !tcp_ack_fin(c))
		return false;
	if ((c->flags & SL_TF_WANT_WRITE) && sl_tcp_send_space(c) > 0)
		c->writable_due = 1;
	return true;
}

/* A duplicate ACK (RFC 5681 2): nothing new acknowledged, nothing else in it. */
static bool
tcp_ack_is_dup(const struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	return s->ack == c->snd_una && s->len == 0 && !(s->flags & (SL_TH_SYN | SL_TH_FIN)) &&
	       (s->win << c->snd_wscale) == c->snd_wnd && c->snd_una != c->snd_max;
}

/* Fast retransmit on the dupthresh-th duplicate ACK or a SACKed loss; NewReno inflation. */
static void
tcp_ack_dup(struct sl_tcp_conn *c)
{
	c->tw->stats.dup_acks_in++;
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (!(c->flags & SL_TF_RECOVERY)) {
		if (c->dupacks >= tcp_dupthresh(c) ||
		    ((c->flags & SL_TF_SACK_OK) && sl_sack_is_lost(&c->sb, c->snd_una, c->mss))) {
			sl_tcp_cc_enter_recovery(c);
			sl_tcp_retransmit_una(c);
			c->rtx_high = c->snd_una + c->mss;
			c->rtx_epoch_nxt = c->snd_nxt;
			sl_tcp_arm_rto(c);
		}
	} else if (!(c->flags & SL_TF_SACK_OK)) {
		c->cwnd += c->mss; /* NewReno inflation: a segment left the network */
	}
}

/* Window update (RFC 9293 3.10.7.4): only from a segment newer than the last one used. */
static void
tcp_ack_window(struct sl_tcp_conn *c, const struct tcp_seg *s)
{
	if (!(sl_seq_lt(c->snd_wl1, s->seq) ||
	      (c->snd_wl1 == s->seq && sl_seq_leq(c->snd_wl2, s->ack))))
		return;
	c->snd_wnd = s->win << c->snd_wscale;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (c->snd_wnd > c->max_snd_wnd)
		c->max_snd_wnd = c->snd_wnd;
	if (c->snd_wnd > 0 && c->rtx_mode == SL_TCP_RTX_PERSIST) {
		sl_timer_cancel(&c->rtx_timer);
		c->rtx_mode = SL_TCP_RTX_NONE;
		c->backoff = 0;
		c->snd_nxt = c->snd_una;
	}
}

/* The ACK field, step by step. Returns false when the segment must be dropped (or c went away). */
static bool
tcp_process_ack(struct sl_tcp_conn *c, struct tcp_seg *s)
{
	bool handshake = c->state == SL_TCP_SYN_RECEIVED; /* this ACK is for our SYN, not a dup */

	if (handshake && !tcp_ack_handshake(c, s))
		return false;
	if (!tcp_ack_validate(c, s))
		return false;
	bool dsack_tlp = tcp_ack_sack(c, s);

	if (c->tlp_state != SL_TCP_TLP_NONE)
		tcp_ack_tlp(c, s, dsack_tlp);
	if (sl_seq_gt(s->ack, c->snd_una)) {
		if (!tcp_ack_advance(c, s))
			return false;
	} else if (!handshake && tcp_ack_is_dup(c, s)) {
		tcp_ack_dup(c);
	}
	tcp_ack_window(c, s);
	return true;
}

/*
 * Send space freed by this segment's ACK: tell the user now that the whole
 * segment is processed, so that what it sends from the callback sees the
 * window this segment announced (it was called before the window update).
 */
static void
tcp_notify_writable(struct sl_tcp_conn *c)
{
	if (!c->writable_due)
		return;
	c->writable_due = 0;
	if ((c->flags & (SL_TF_DEAD | SL_TF_USER_GONE)) || !(c->flags & SL_TF_WANT_WRITE) ||
	    sl_tcp_send_space(c) == 0)
		return;
	c->flags &= ~SL_TF_WANT_WRITE;
	if (c->ops->writable != NULL)
		c->ops->writable(c);
}

/* An in-order FIN (RFC 9293 3.10.7.4, eighth check). Returns false if c went away. */
static bool
tcp_process_fin(struct sl_tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= SL_TF_ACK_NOW;
	c->fin_ooo = 0;
	switch (c->state) {
	case SL_TCP_SYN_RECEIVED:
	case SL_TCP_ESTABLISHED:
		sl_tcp_set_state(c, SL_TCP_CLOSE_WAIT);
		break;
	case SL_TCP_FIN_WAIT_1:
		if ((c->flags & SL_TF_FIN_SENT) && c->snd_una == c->snd_max) {
			sl_tcp_send_ack(c);
			sl_tcp_enter_time_wait(c);
		} else {
			sl_tcp_set_state(c, SL_TCP_CLOSING);
		}
		break;
	case SL_TCP_FIN_WAIT_2:
		sl_tcp_send_ack(c);
		sl_tcp_enter_time_wait(c);
		break;
	default:
		return true;
	}
	if (!(c->flags & SL_TF_USER_GONE) && c->ops->peer_closed != NULL)
		c->ops->peer_closed(c);
	/* TIME-WAIT released the connection (dead from here): both directions are done. */
	if (c->state == SL_TCP_TIME_WAIT) {
		tcp_user_closed(c);
		return false;
	}
	return !(c->flags & SL_TF_DEAD);
}

/* In-window payload: deliver what is in order, queue the rest. */
static bool
tcp_process_data(struct sl_tcp_conn *c, struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = c->tw;
	struct rte_mbuf *data;
	uint32_t len;

	/*
	 * No memory for it (tcp_rcvmem.c): as if it had not come, FIN included;
	 * the peer sends it again, and our ACK shows where we are.
	 */
	if (!sl_tcp_rcvmem_admit(c, s->m, s->seq, s->seq == c->rcv_nxt)) {
		seg_free(s);
		s->flags &= ~SL_TH_FIN;
		c->flags |= SL_TF_ACK_NOW;
		return true;
	}
	if (s->seq != c->rcv_nxt) {
		/* Out of order: keep it, and tell the sender at once (dup ACK + SACK). */
		tw->stats.ooo_segments++;
		if (sl_tcp_ooo_insert(c, s->m, s->seq) != 0)
			tw->stats.drops[SL_TCP_DROP_OOO_FULL]++;
		s->m = NULL;
		c->flags |= SL_TF_ACK_NOW;
		return true;
	}
	data = s->m;
	len = s->len;
	s->m = NULL;
	c->rcv_nxt += len;
	if (c->ooo != NULL) {
		uint32_t more;
		struct rte_mbuf *rest = sl_tcp_ooo_take(c, &more);

		if (rest != NULL) {
			sl_mbuf_chain_cat(data, rest);
			len += more;
		}
		c->flags |= SL_TF_ACK_NOW; /* a hole was filled (RFC 5681 4.2) */
	}
	/*
	 * Delayed ACK: at least every second full-sized segment (RFC 9293
	 * 3.8.6.3), counted in bytes as Linux does: two small segments (a
	 * backend's response head and its body) wait for the delayed-ACK timer
	 * or, far more often, ride on the next request on the connection,
	 * instead of costing a pure ACK each. A second segment is still
	 * acknowledged at once when the peer has used half the window we
	 * offered (small segments into a small buffer): it needs the update.
	 */
	/*
	 * Two full-sized segments are acknowledged at the end of the poll
	 * iteration (sl_tcp_flush), once for all that came in its RX burst,
	 * rather than for each pair: a backend's 64 KB response reaches us in
	 * bursts of tens of segments, and each pure ACK costs a frame (with
	 * af_packet, the peer's kernel processes it in our sendto).
	 */
	uint32_t unacked = c->rcv_nxt - c->last_ack_sent;

	if ((c->flags & SL_TF_DELACK) && 2u * unacked >= c->rcv_adv - c->last_ack_sent) {
		c->flags |= SL_TF_ACK_NOW;
	} else {
		if (unacked >= 2u * c->mss) {
			c->api_flags |= SL_TA_ACK_DUE;
			sl_tcp_flush_later(c);
		}
		c->flags |= SL_TF_DELACK;
		sl_tcp_arm_delack(c);
	}
	tw->stats.bytes_in += len;
	c->total_received += len;
	sl_tcp_rcvmem_hold(c, data, len);
	if (c->flags & SL_TF_USER_GONE) {
		rte_pktmbuf_free(data); /* nobody reads: count it consumed */
		sl_tcp_rcvmem_consumed(c, len);
	} else {
		c->ops->readable(c, data, len);
		if (c->flags & SL_TF_DEAD)
			return false;
	}
	if (c->fin_ooo && c->rcv_nxt == c->fin_seq)
		return tcp_process_fin(c);
	return true;
}

static void
tcp_input_sync(struct sl_tcp_conn *c, struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = c->tw;
	uint32_t wnd = sl_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	c->last_rx_ms = sl_tcp_now_ms(tw);
	if (c->probes != 0) {
		/*
		 * A probe was answered: the next one is due keepalive_ms from now,
		 * not SL_TCP_KEEPALIVE_INTVL_MS after the probe (later, when
		 * keepalive_ms is the shorter).
		 */
		c->probes = 0;
		sl_tcp_arm_keepalive(c);
	}

	/* PAWS (RFC 7323 5.3): an older timestamp than the last one is a wrapped duplicate. */
	if ((c->flags & SL_TF_TS_OK) && s->o.ts_ok && !(s->flags & SL_TH_RST) &&
	    (int32_t)(s->o.tsval - c->ts_recent) < 0) {
		tw->stats.drops[SL_TCP_DROP_PAWS]++;
		tcp_oow_ack(c, s);
		goto drop;
	}

	/* RST (RFC 5961 3.2): exact match resets; elsewhere in the window is challenged. */
	if (s->flags & SL_TH_RST) {
		if (s->seq == c->rcv_nxt) {
			tw->stats.resets_received++;
			seg_free(s);
			if (c->state == SL_TCP_SYN_RECEIVED && (c->flags & SL_TF_PASSIVE))
				sl_tcp_conn_destroy(c); /* never surfaced to the user */
			else if (c->state == SL_TCP_CLOSING || c->state == SL_TCP_LAST_ACK) {
				sl_tcp_conn_destroy(c);
				tcp_user_closed(c);
			} else
				sl_tcp_conn_fail(c, -ECONNRESET);
			return;
		}
		if (sl_seq_between(s->seq, c->rcv_nxt, c->rcv_nxt + RTE_MAX(wnd, 1u) - 1))
			tcp_challenge_ack(c);
		else
			tw->stats.drops[SL_TCP_DROP_OUT_OF_WINDOW]++;
		seg_free(s);
		return;
	}

	/*
	 * The peer's SYN again in SYN-RECEIVED. Its only sequence number is below
	 * rcv_nxt, so the acceptability test below would answer it with a bare
	 * ACK. A SYN means our SYN-ACK was lost: send it again. A SYN-ACK is the
	 * other half of a simultaneous open (RFC 9293 figure 8): its SYN is old
	 * news, its ACK completes the handshake.
	 */
	if ((s->flags & SL_TH_SYN) && c->state == SL_TCP_SYN_RECEIVED && s->seq == c->irs) {
		if (!(s->flags & SL_TH_ACK)) {
			/* Echo this SYN's TSval: the peer times the handshake from it. */
			if ((c->flags & SL_TF_TS_OK) && s->o.ts_ok)
				c->ts_recent = s->o.tsval;
			seg_free(s);
			sl_tcp_send_syn(c, true);
			return;
		}
		s->flags &= ~SL_TH_SYN;
		s->seq++;
	}

	/* Acceptability (RFC 9293 3.10.7.4, first check). */
	uint32_t slen = seg_seqlen(s);
	bool ok;
	if (slen == 0)
		ok = wnd == 0 ? s->seq == c->rcv_nxt
			      : sl_seq_between(s->seq, c->rcv_nxt, c->rcv_nxt + wnd - 1);
	else
		ok = wnd > 0 && (sl_seq_between(s->seq, c->rcv_nxt, c->rcv_nxt + wnd - 1) ||
				 sl_seq_between(s->seq + slen - 1, c->rcv_nxt, c->rcv_nxt + wnd - 1));
	/* A zero window still takes ACKs and FINs at rcv_nxt; and duplicates get an ACK. */
	if (!ok && !(wnd == 0 && s->seq == c->rcv_nxt)) {
		tw->stats.drops[SL_TCP_DROP_OUT_OF_WINDOW]++;
		tcp_oow_ack(c, s);
		goto drop;
	}
	/*
	 * RFC 7323 4.3: echo the timestamp of the segment that our next ACK
	 * acknowledges first. Without this, every ACK echoed the SYN's TSval,
	 * which misleads the peer's RTT estimate and makes PAWS compare with a
	 * timestamp as old as the connection. (PAWS above ensured TSval >= it.)
	 */
	if ((c->flags & SL_TF_TS_OK) && s->o.ts_ok && sl_seq_leq(s->seq, c->last_ack_sent))
		c->ts_recent = s->o.tsval;

	/* Cut what we already have from the front, what does not fit from the back. */
	if (sl_seq_lt(s->seq, c->rcv_nxt)) {
		uint32_t cut = c->rcv_nxt - s->seq;

		if (s->flags & SL_TH_SYN) {
			s->flags &= ~SL_TH_SYN;
			cut--;
			s->seq++;
		}
		if (cut >= s->len) {
			if (s->len + ((s->flags & SL_TH_FIN) ? 1 : 0) <= cut)
				s->flags &= ~SL_TH_FIN; /* an old FIN */
			s->seq += s->len;
			s->len = 0;
			seg_free(s);
		} else {
			s->m = sl_mbuf_chain_adj(s->m, cut);
			s->seq += cut;
			s->len -= cut;
		}
		c->flags |= SL_TF_ACK_NOW; /* a duplicate: tell the sender where we are */
	}
	if (s->len > 0 && sl_seq_gt(s->seq + s->len, c->rcv_nxt + wnd)) {
		uint32_t keep = c->rcv_nxt + wnd - s->seq;

		if (keep == 0) {
			s->len = 0;
			seg_free(s);
		} else {
			sl_mbuf_chain_trim(s->m, keep);
			s->len = keep;
		}
		s->flags &= ~SL_TH_FIN;
		c->flags |= SL_TF_ACK_NOW;
	}

	/* A SYN in a synchronized state (RFC 5961 4.2). */
	if (s->flags & SL_TH_SYN) {
		tcp_challenge_ack(c);
		goto drop;
	}
	if (!(s->flags & SL_TH_ACK))
		goto drop;
	if (!tcp_process_ack(c, s))
		goto drop;

	switch (c->state) {
	case SL_TCP_ESTABLISHED:
	case SL_TCP_FIN_WAIT_1:
	case SL_TCP_FIN_WAIT_2:
		if (s->len > 0 && !tcp_process_data(c, s))
			goto drop;
		break;
	default:
		/* Data after the peer's FIN is not accepted. */
		seg_free(s);
		break;
	}
	if (s->flags & SL_TH_FIN) {
		uint32_t fin_seq = s->seq + s->len;

		if (fin_seq == c->rcv_nxt) {
			if (!tcp_process_fin(c))
				goto drop;
		} else if (sl_seq_gt(fin_seq, c->rcv_nxt)) {
			c->fin_ooo = 1;
			c->fin_seq = fin_seq;
			c->flags |= SL_TF_ACK_NOW; /* out of order: say where the hole is */
		}
	}
	sl_tcp_output(c);
	seg_free(s);
	tcp_notify_writable(c);
	return;

drop:
	seg_free(s);
	if (!(c->flags & SL_TF_DEAD) && (c->flags & SL_TF_ACK_NOW))
		sl_tcp_output(c);
	tcp_notify_writable(c);
}

/*
 * A segment for a 4-tuple in TIME-WAIT (RFC 9293 3.10.7.4; RFC 6191 and RFC
 * 1337 as Linux's tcp_timewait_state_process). A retransmitted FIN is
 * acknowledged and restarts the clock. A SYN that is newer than the old
 * connection, by sequence number or by timestamp, opens a new one at once:
 * a client reusing its port used to get only an ACK and stall until TIME-WAIT
 * ended. An older SYN is an old duplicate and gets an ACK; so does anything
 * else with a sequence number or an old timestamp, rate limited; a RST is
 * ignored.
 */
static void
tcp_input_time_wait(struct sl_netif *ifp, struct sl_tcp_tw *t, const struct sl_tcp_key *key,
		    struct tcp_seg *s)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	bool ts = (t->flags & SL_TCP_TW_TS) && s->o.ts_ok;
	bool paws = ts && (int32_t)(s->o.tsval - t->ts_recent) < 0;
	uint32_t now = (uint32_t)sl_tcp_now_ms(tw);

	if (s->flags & SL_TH_RST) {
		seg_free(s);
		return; /* RFC 1337: a RST must not cut TIME-WAIT short */
	}
	if ((s->flags & (SL_TH_SYN | SL_TH_ACK)) == SL_TH_SYN && !paws &&
	    (sl_seq_gt(s->seq, t->rcv_nxt) || (ts && (int32_t)(s->o.tsval - t->ts_recent) > 0))) {
		struct sl_tcp_listener *l = sl_tcp_listener_lookup(tw, key->laddr, key->lport);

		if (l != NULL) {
			/*
			 * sl_tcp_conn_alloc retires the record and keeps the new ISN
			 * above its snd_nxt. A cookie answer (backlog full) keeps no
			 * state: the record must go now, or it would take the ACK.
			 */
			if (l->syn_queued >= tw->cfg->syn_backlog)
				sl_tcp_tw_free(tw, t);
			tcp_input_closed(ifp, key, s);
			return;
		}
	}
	seg_free(s);
	if ((s->flags & SL_TH_FIN) && !paws && s->seq + s->len + 1 == t->rcv_nxt) {
		if (ts)
			t->ts_recent = s->o.tsval;
		sl_tcp_tw_send_ack(tw, t);
		sl_tcp_tw_restart(tw, t);
		return;
	}
	if (seg_seqlen(s) == 0 && !paws)
		return; /* a bare ACK: nothing to say */
	if (t->last_oow_ack_ms != 0 && now - t->last_oow_ack_ms < SL_TCP_INVALID_RATELIMIT_MS)
		return;
	t->last_oow_ack_ms = now != 0 ? now : 1;
	sl_tcp_tw_send_ack(tw, t);
}

/*
 * Hand a frame about the flow of local port lport (network order) to the
 * worker that owns it: a TCP segment, or an ICMP error quoting one of our
 * segments. The one owner decision for both. Returns true if m was handed over.
 */
static bool
tcp_steer(struct sl_netif *ifp, struct rte_mbuf *m, uint16_t lport)
{
	struct sl_worker *w = ifp->w;
	unsigned int owner;

	if (w->n_workers == 1 || sl_tcp_listener_find(w->tcp, lport) != NULL)
		return false;
	owner = sl_tcp_port_owner(rte_be_to_cpu_16(lport), w->n_workers);
	if (owner == w->id)
		return false;
	m->port = ifp->port_id;
	if (rte_ring_sp_enqueue(w->to_peer[owner], m) != 0) {
		w->tcp->stats.drops[SL_TCP_DROP_HANDOFF_FULL]++;
		rte_pktmbuf_free(m);
	}
	return true;
}

void
sl_tcp_input(struct sl_netif *ifp, struct rte_mbuf *m)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	uint16_t ihl = rte_ipv4_hdr_len(ip);
	uint32_t off = sizeof(struct rte_ether_hdr) + ihl;
	uint16_t tcp_len = rte_be_to_cpu_16(ip->total_length) - ihl;
	struct rte_tcp_hdr *th;
	struct sl_tcp_key key;
	struct sl_tcp_conn *c;
	struct tcp_seg s;
	unsigned int doff;

	if (tcp_len < sizeof(*th) || rte_pktmbuf_data_len(m) < off + sizeof(*th))
		goto truncated;
	th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, off);
	doff = (th->data_off >> 4) * 4u;
	if (doff < sizeof(*th) || doff > tcp_len || off + doff > rte_pktmbuf_data_len(m))
		goto truncated;
	if (tcp_steer(ifp, m, th->dst_port))
		return;

	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD && !sl_cksum_l4_ok(m, ip, off, tcp_len))) {
		tw->stats.drops[SL_TCP_DROP_CHECKSUM]++;
		rte_pktmbuf_free(m);
		return;
	}
	tw->stats.segments_in++;
	s.flags = th->tcp_flags & (SL_TH_FIN | SL_TH_SYN | SL_TH_RST | SL_TH_PSH | SL_TH_ACK |
				   SL_TH_URG);
	if ((s.flags & (SL_TH_SYN | SL_TH_FIN)) == (SL_TH_SYN | SL_TH_FIN) ||
	    (s.flags & (SL_TH_SYN | SL_TH_RST)) == (SL_TH_SYN | SL_TH_RST) ||
	    (s.flags & (SL_TH_SYN | SL_TH_RST | SL_TH_ACK | SL_TH_FIN)) == 0) {
		tw->stats.drops[SL_TCP_DROP_BAD_FLAGS]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (sl_tcp_parse_options((const uint8_t *)(th + 1), doff - sizeof(*th),
				 s.flags & SL_TH_SYN, &s.o) != 0)
		goto truncated;
	s.seq = rte_be_to_cpu_32(th->sent_seq);
	s.ack = rte_be_to_cpu_32(th->recv_ack);
	s.win = rte_be_to_cpu_16(th->rx_win);
	s.len = tcp_len - doff;
	key.raddr = ip->src_addr;
	key.laddr = ip->dst_addr;
	key.rport = th->src_port;
	key.lport = th->dst_port;

	/* Keep the payload only. Headers are in the first segment (checked above). */
	if (s.len == 0) {
		rte_pktmbuf_free(m);
		s.m = NULL;
	} else {
		s.m = sl_mbuf_chain_adj(m, off + doff);
	}

	/* One hash for both tables (the same function): a miss costs no second hashing. */
	hash_sig_t sig = rte_hash_hash(tw->table, &key);
	void *data;

	c = rte_hash_lookup_with_hash_data(tw->table, &key, sig, &data) >= 0 ? data : NULL;
	if (c == NULL) {
		struct sl_tcp_tw *t = tw->stats.conns_time_wait != 0
					      ? sl_tcp_tw_lookup(tw, &key, sig)
					      : NULL;

		if (t != NULL)
			tcp_input_time_wait(ifp, t, &key, &s);
		else
			tcp_input_closed(ifp, &key, &s);
	} else if (c->state == SL_TCP_SYN_SENT)
		tcp_input_syn_sent(c, &s);
	else
		tcp_input_sync(c, &s);
	return;

truncated:
	tw->stats.drops[SL_TCP_DROP_TRUNCATED]++;
	rte_pktmbuf_free(m);
}

/* Apply an ICMP error to the connection it names; false if this worker has no such connection. */
static bool
tcp_icmp_unreachable(struct sl_netif *ifp, const struct rte_ipv4_hdr *quoted, const uint8_t *l4,
		     uint8_t code, uint16_t mtu)
{
	struct sl_tcp_worker *tw = ifp->w->tcp;
	struct sl_tcp_key key;
	struct sl_tcp_conn *c;
	uint32_t seq;
	int err;

	key.laddr = quoted->src_addr;
	key.raddr = quoted->dst_addr;
	memcpy(&key.lport, l4, 2);
	memcpy(&key.rport, l4 + 2, 2);
	seq = sl_tcpopt_get32(l4 + 4);
	c = sl_tcp_conn_lookup(tw, &key);
	if (c == NULL) /* in TIME-WAIT here is ours too: nothing to do, nothing to pass on */
		return sl_tcp_tw_lookup(tw, &key, rte_hash_hash(tw->tw_table, &key)) != NULL;
	/* Only about something in flight: a blind attacker cannot guess the window. */
	if (!sl_seq_between(seq, c->snd_una, c->snd_max))
		return true;
	switch (code) {
	case 4: { /* fragmentation needed and DF set */
		uint32_t pmtu = mtu >= 576 ? mtu : 576; /* old routers send 0; RFC 1191 floor */
		uint32_t mss = pmtu - 40 - ((c->flags & SL_TF_TS_OK) ? 12 : 0);

		if (mss >= c->mss)
			return true;
		c->mss_cap = (uint16_t)(pmtu - 40);
		sl_tcp_set_mss(c);
		tw->stats.pmtu_updates++;
		/* The segment was dropped: send again now, smaller, without waiting for the RTO. */
		if (c->state != SL_TCP_SYN_SENT && c->state != SL_TCP_SYN_RECEIVED) {
			c->snd_nxt = c->snd_una;
			sl_tcp_output(c);
		}
		return true;
	}
	case 2: /* protocol unreachable */
	case 3: /* port unreachable */
		/*
		 * Hard only while connecting. Once synchronized they are soft
		 * (RFC 1122 4.2.3.9, RFC 5927 5.2): a forged or stale one must not
		 * kill a working connection; a real one shows in the timeout.
		 */
		err = code == 2 ? ENOPROTOOPT : ECONNREFUSED;
		if (c->state == SL_TCP_SYN_SENT || c->state == SL_TCP_SYN_RECEIVED) {
			tw->stats.icmp_unreachable++;
			sl_tcp_conn_fail(c, -err);
		} else {
			c->soft_err = (uint8_t)err;
		}
		return true;
	default:
		err = code == 0 || code == 6 || code == 9 || code == 11 ? ENETUNREACH : EHOSTUNREACH;
		if (c->state == SL_TCP_SYN_SENT) {
			tw->stats.icmp_unreachable++;
			sl_tcp_conn_fail(c, -err);
		} else {
			c->soft_err = (uint8_t)err;
		}
		return true;
	}
}

/* The quoted datagram of an ICMP error (validated by icmp.c) inside frame m. */
static void
tcp_icmp_parse(struct rte_mbuf *m, const struct rte_ipv4_hdr **quoted, const uint8_t **l4,
	       uint8_t *code, uint16_t *mtu)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	uint32_t off = sizeof(struct rte_ether_hdr) + rte_ipv4_hdr_len(ip);
	const struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, off);

	*quoted = (const struct rte_ipv4_hdr *)(ic + 1);
	*l4 = (const uint8_t *)*quoted + rte_ipv4_hdr_len(*quoted);
	*code = ic->icmp_code;
	/* Bytes 6-7 of the ICMP header carry the next-hop MTU for code 4 (RFC 1191). */
	*mtu = rte_be_to_cpu_16(ic->icmp_seq_nb);
}

/*
 * An ICMP error reaches the worker that owns the connection, like the
 * connection's segments: on a NIC its hash is the router's, not the flow's,
 * so it lands on any queue. Without this, fragmentation-needed for another
 * worker's connection was lost while every segment carries DF: a PMTU black
 * hole. A port this side opened names its owner (tcp_steer). A connection
 * accepted on a listener port belongs to whichever worker took its SYN, which
 * no function of the port tells: when it is not ours, every peer gets a copy
 * and the one that has it applies it (ICMP errors are rare; copies from a
 * peer are never passed on again).
 */
static void
tcp_icmp_input(struct sl_netif *ifp, struct rte_mbuf *m, bool from_peer)
{
	struct sl_worker *w = ifp->w;
	const struct rte_ipv4_hdr *quoted;
	const uint8_t *l4;
	uint16_t lport, mtu;
	uint8_t code;

	tcp_icmp_parse(m, &quoted, &l4, &code, &mtu);
	memcpy(&lport, l4, 2);
	if (!from_peer && tcp_steer(ifp, m, lport))
		return;
	if (!tcp_icmp_unreachable(ifp, quoted, l4, code, mtu) && !from_peer && w->n_workers > 1 &&
	    sl_tcp_listener_find(w->tcp, lport) != NULL)
		sl_worker_share_with_peers(w, ifp, m);
	rte_pktmbuf_free(m);
}

void
sl_tcp_icmp_input(struct sl_netif *ifp, struct rte_mbuf *m)
{
	tcp_icmp_input(ifp, m, false);
}

void
sl_tcp_input_from_peer(struct sl_netif *ifp, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));

	if (ip->next_proto_id == IPPROTO_ICMP)
		tcp_icmp_input(ifp, m, true);
	else
		sl_tcp_input(ifp, m);
}
