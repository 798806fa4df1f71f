/* SPDX-License-Identifier: MIT */
/*
 * The three timers a connection has, on the worker's timer wheel (ms ticks):
 *   rtx    retransmission (RFC 6298), the tail loss probe before it (RFC 8985
 *          7), or, with a zero window, persist;
 *   delack delayed ACK;
 *   keep   keepalive, the FIN-WAIT-2 limit, or TIME-WAIT, by state.
 */
#include <errno.h>

#include "tcp_conn.h"

#define USEC_PER_MS 1000u

static void tcp_rtx_fire(struct sl_timer *t);
static void tcp_delack_fire(struct sl_timer *t);
static void tcp_keep_fire(struct sl_timer *t);

uint32_t
sl_tcp_now_ms32(const struct sl_tcp_worker *tw)
{
	return (uint32_t)sl_tcp_now_ms(tw) + tw->ts_offset;
}

void
sl_tcp_timers_init(struct sl_tcp_conn *c)
{
	sl_timer_init(&c->rtx_timer, tcp_rtx_fire);
	sl_timer_init(&c->delack_timer, tcp_delack_fire);
	sl_timer_init(&c->keep_timer, tcp_keep_fire);
}

void
sl_tcp_timers_stop(struct sl_tcp_conn *c)
{
	sl_timer_cancel(&c->rtx_timer);
	sl_timer_cancel(&c->delack_timer);
	sl_timer_cancel(&c->keep_timer);
	c->rtx_mode = SL_TCP_RTX_NONE;
}

static uint32_t
tcp_backed_off(uint32_t base_ms, unsigned int backoff)
{
	uint64_t v = (uint64_t)base_ms << (backoff > 16 ? 16 : backoff);

	return v > SL_TCP_RTO_MAX_MS ? SL_TCP_RTO_MAX_MS : (uint32_t)v;
}

/* RFC 5482 user timeout: when data in flight since progress_ms must have been acknowledged. */
static inline uint64_t
tcp_user_deadline(const struct sl_tcp_conn *c)
{
	return c->progress_ms + c->user_timeout_ms;
}

/* When the RTO is due if (re)started now: backed off, and not after the user timeout. */
static uint64_t
tcp_rto_deadline(const struct sl_tcp_conn *c)
{
	uint64_t expire = sl_tcp_now_ms(c->tw) + tcp_backed_off(c->rto_ms, c->backoff);

	/*
	 * Not after the user timeout: the abort is due then, not at the next
	 * backed-off RTO. Synchronized states only: the handshake has its own
	 * limits, and progress_ms means nothing before (a simultaneous open in
	 * SYN-RECEIVED resent its SYN-ACK every millisecond).
	 */
	if (c->user_timeout_ms != 0 && c->snd_una != c->snd_max &&
	    c->state >= SL_TCP_ESTABLISHED && tcp_user_deadline(c) < expire)
		expire = RTE_MAX(tcp_user_deadline(c), sl_tcp_now_ms(c->tw));
	return expire;
}

static void
tcp_arm_rto_at(struct sl_tcp_conn *c, uint64_t expire)
{
	c->rtx_mode = SL_TCP_RTX_RTO;
	c->rto_at_ms = expire;
	sl_timer_arm(&c->tw->wheel, &c->rtx_timer, expire);
}

void
sl_tcp_arm_rto(struct sl_tcp_conn *c)
{
	tcp_arm_rto_at(c, tcp_rto_deadline(c));
}

/*
 * May a tail loss probe be scheduled (RFC 8985 7.2, Linux's
 * tcp_schedule_loss_probe)? Data or our FIN in flight in a synchronized
 * state; SACK, so that the peer can tell which copy it got (the probe's
 * D-SACK, 7.4); no recovery: not fast recovery, and not going back over
 * data after a timeout (snd_nxt below snd_max, or a backoff no ACK has
 * cleared yet), where the RTO's own machinery runs; no probe of this episode
 * outstanding (one per episode); and an RTT sample, since the PTO is made of
 * it (RFC 8985 allows a 1 s PTO without one: our initial RTO is 1 s too, so
 * the probe would gain nothing).
 */
static bool
tcp_tlp_allowed(const struct sl_tcp_conn *c)
{
	/* ESTABLISHED to LAST-ACK; FIN-WAIT-2 among them has nothing in flight. */
	if (c->state < SL_TCP_ESTABLISHED || c->state >= SL_TCP_TIME_WAIT)
		return false;
	return (c->flags & (SL_TF_SACK_OK | SL_TF_RECOVERY)) == SL_TF_SACK_OK &&
	       c->tlp_state == SL_TCP_TLP_NONE && c->srtt_us != 0 && c->backoff == 0 &&
	       c->snd_nxt == c->snd_max && c->snd_una != c->snd_max;
}

/*
 * PTO = 2 SRTT (rounded up to our 1 ms ticks) plus an allowance for the
 * peer's ACK. With one segment in flight the peer may hold its ACK for its
 * delayed-ACK timer: 200 ms, RFC 8985's WCDelAckT and Linux's TCP_RTO_MIN.
 * "One segment" is counted in bytes (at most an MSS, and the FIN), as the
 * peer counts what it owes an ACK for: two short segments (a response's
 * head and body) wait for its delayed ACK as one does. With more, the peer
 * acknowledges at once (every second full segment) and Linux adds 2
 * jiffies; we add 2 ticks: a timer
 * armed for now + 1 may fire within the same millisecond (the clock is read
 * in whole ms), so 2 is the smallest that leaves a whole tick, and on a LAN
 * where SRTT is tens of µs it keeps the PTO from being shorter than the
 * time a peer takes to be scheduled.
 */
static uint32_t
tcp_pto_ms(const struct sl_tcp_conn *c)
{
	uint32_t pto = (2u * c->srtt_us + USEC_PER_MS - 1) / USEC_PER_MS;

	if (c->snd_max - c->snd_una <= (uint32_t)c->mss + 1u)
		return pto + SL_TCP_TLP_DELACK_MS;
	return pto + SL_TCP_TLP_MIN_MS;
}

void
sl_tcp_arm_xmit_timer(struct sl_tcp_conn *c, bool restart)
{
	bool running = c->rtx_mode == SL_TCP_RTX_RTO || c->rtx_mode == SL_TCP_RTX_TLP;
	uint64_t rto_at = restart || !running ? tcp_rto_deadline(c) : c->rto_at_ms;

	/*
	 * A probe only when it comes before the RTO would: at the same time
	 * it gains nothing, and the RTO retransmits the head with the usual
	 * backoff. (Linux probes at the RTO's time then; with one segment in
	 * flight and rto_min 200 ms, that is nearly always, and its RTO comes a
	 * tick after the probe.) Like Linux, new data pushes the PTO back
	 * (the tail moved) but never the RTO.
	 */
	if (tcp_tlp_allowed(c)) {
		uint64_t pto_at = sl_tcp_now_ms(c->tw) + tcp_pto_ms(c);

		if (pto_at < rto_at) {
			c->rto_at_ms = rto_at;
			c->rtx_mode = SL_TCP_RTX_TLP;
			sl_timer_arm(&c->tw->wheel, &c->rtx_timer, pto_at);
			return;
		}
	}
	if (restart || c->rtx_mode != SL_TCP_RTX_RTO)
		tcp_arm_rto_at(c, rto_at);
}

void
sl_tcp_arm_persist(struct sl_tcp_conn *c)
{
	uint32_t base = RTE_MAX(c->rto_ms, (uint32_t)SL_TCP_PERSIST_MIN_MS);

	c->rtx_mode = SL_TCP_RTX_PERSIST;
	sl_timer_arm(&c->tw->wheel, &c->rtx_timer,
		     sl_tcp_now_ms(c->tw) + tcp_backed_off(base, c->backoff));
}

void
sl_tcp_arm_delack(struct sl_tcp_conn *c)
{
	if (!sl_timer_armed(&c->delack_timer))
		sl_timer_arm(&c->tw->wheel, &c->delack_timer,
			     sl_tcp_now_ms(c->tw) + c->tw->cfg->delayed_ack_ms);
}

/* Keepalive in synchronized states; the FIN-WAIT-2 limit once the user is gone. */
void
sl_tcp_arm_keepalive(struct sl_tcp_conn *c)
{
	uint32_t after;

	if (c->api_flags & SL_TA_LINGER)
		return; /* keep_timer is the lingering close's deadline */
	if (c->state == SL_TCP_FIN_WAIT_2 && (c->flags & SL_TF_USER_GONE))
		after = SL_TCP_FIN_WAIT_2_MS;
	else if (c->tw->cfg->keepalive_ms != 0)
		after = c->probes ? SL_TCP_KEEPALIVE_INTVL_MS : c->tw->cfg->keepalive_ms;
	else
		return;
	sl_timer_arm(&c->tw->wheel, &c->keep_timer, sl_tcp_now_ms(c->tw) + after);
}

void
sl_tcp_rtt_sample(struct sl_tcp_conn *c, uint32_t rtt_us)
{
	uint32_t rto_us;

	if (c->srtt_us == 0) {
		c->srtt_us = rtt_us ? rtt_us : 1;
		c->rttvar_us = rtt_us / 2;
	} else {
		uint32_t delta = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
		c->srtt_us = (7 * c->srtt_us + rtt_us) / 8;
		if (c->srtt_us == 0)
			c->srtt_us = 1;
	}
	/* RTO = SRTT + max(G, 4 RTTVAR), G being our 1 ms clock (RFC 6298 2.3). */
	rto_us = c->srtt_us + RTE_MAX(USEC_PER_MS, 4 * c->rttvar_us);
	c->rto_ms = RTE_MIN(RTE_MAX(rto_us / USEC_PER_MS, c->tw->cfg->rto_min_ms),
			    (uint32_t)SL_TCP_RTO_MAX_MS);
}

/*
 * RFC 1122 4.2.3.9 / RFC 5927 5.2: an ICMP error that does not abort a
 * connection is kept and reported if the connection later times out, as
 * Linux reports sk_err_soft: "port unreachable" says more than "timed out".
 */
int
sl_tcp_timeout_err(const struct sl_tcp_conn *c)
{
	return c->soft_err != 0 ? -(int)c->soft_err : -ETIMEDOUT;
}

/*
 * The PTO (RFC 8985 7.3): one probe, new data or the last segment again,
 * whose ACK (or SACK, or D-SACK) tells what the tail needs; then the RTO at
 * the time it was due anyway (Linux's tcp_rearm_rto after a probe), so an
 * unanswered probe costs nothing: the RTO and its backoff are as without it.
 */
static void
tcp_tlp_fire(struct sl_tcp_conn *c)
{
	uint64_t rto_at = RTE_MAX(c->rto_at_ms, sl_tcp_now_ms(c->tw));

	c->rtx_mode = SL_TCP_RTX_NONE;
	if (c->snd_una == c->snd_max)
		return; /* everything was acknowledged meanwhile */
	if (sl_tcp_send_loss_probe(c) == 0)
		c->tw->stats.tlp_probes++;
	tcp_arm_rto_at(c, rto_at);
}

static void
tcp_rtx_fire(struct sl_timer *t)
{
	struct sl_tcp_conn *c = sl_container_of(t, struct sl_tcp_conn, rtx_timer);
	struct sl_tcp_worker *tw = c->tw;

	if (c->rtx_mode == SL_TCP_RTX_TLP) {
		tcp_tlp_fire(c);
		return;
	}
	if (c->rtx_mode == SL_TCP_RTX_PERSIST) {
		/*
		 * A window probe. Nothing is in flight, so the RTO backoff counts the
		 * probes; it never gives up while the peer answers.
		 *
		 * But it does when the peer stops answering: c->probes counts the
		 * probes since the peer was last heard (tcp_input clears it), and as
		 * many as the retransmissions allowed mean a dead peer (RFC 1122
		 * 4.2.2.17 only requires patience while probes are acknowledged).
		 * Before, a peer that announced a zero window and fell silent held
		 * the connection forever, even one its user had closed: fuzz_tcp
		 * found it (corpus/tcp/regress_silent_zero_window).
		 */
		if (c->probes >= SL_TCP_RETRIES) {
			tw->stats.conn_timeouts++;
			sl_tcp_conn_fail(c, sl_tcp_timeout_err(c));
			return;
		}
		c->probes++;
		c->rtx_mode = SL_TCP_RTX_NONE;
		if (c->snd_wnd > 0) {
			/* A short window, not a closed one: send what it takes (sl_tcp_output). */
			c->flags |= SL_TF_SWS_OVERRIDE;
			sl_tcp_output(c);
			c->flags &= ~SL_TF_SWS_OVERRIDE;
			if (c->rtx_mode != SL_TCP_RTX_NONE)
				return; /* sent, the RTO runs; or output armed this timer again */
		}
		sl_tcp_send_probe(c);
		tw->stats.zero_window_probes++; /* the metric stayed at 0 without this */
		if (c->backoff < 16)
			c->backoff++;
		sl_tcp_arm_persist(c);
		return;
	}
	c->rtx_mode = SL_TCP_RTX_NONE;
	tw->stats.timeouts++;
	switch (c->state) {
	case SL_TCP_SYN_SENT:
	case SL_TCP_SYN_RECEIVED:
		if (c->backoff >= SL_TCP_SYN_RETRIES) {
			tw->stats.conn_timeouts++;
			sl_tcp_conn_fail(c, sl_tcp_timeout_err(c));
			return;
		}
		c->backoff++;
		/* RFC 6298 5.7: a lost SYN leaves the RTO at 3 s once data flows. */
		sl_tcp_send_syn(c, c->state == SL_TCP_SYN_RECEIVED);
		tw->stats.retransmits++;
		c->retransmits++;
		sl_tcp_arm_rto(c);
		return;
	case SL_TCP_TIME_WAIT:
	case SL_TCP_CLOSED:
	case SL_TCP_LISTEN:
		return;
	default:
		break;
	}
	if (c->snd_una == c->snd_max)
		return; /* everything was acknowledged meanwhile */
	if (c->backoff >= SL_TCP_RETRIES ||
	    (c->user_timeout_ms != 0 && sl_tcp_now_ms(tw) >= tcp_user_deadline(c))) {
		tw->stats.conn_timeouts++;
		sl_tcp_conn_fail(c, sl_tcp_timeout_err(c));
		return;
	}
	c->backoff++;
	sl_tcp_cc_timeout(c);
	/*
	 * The scoreboard stays (RFC 6675 5.1): going back to snd_una, output
	 * skips what the peer holds already. A peer that reneges on its SACKs
	 * costs one more timeout, after which the ACKs move past them anyway.
	 */
	c->flags &= ~SL_TF_RTT_TIMING; /* Karn: no sample from a retransmitted segment */
	c->snd_nxt = c->snd_una;
	sl_tcp_output(c);
	/*
	 * The peer shrank its window to zero under data in flight: output sends
	 * nothing, so the head goes anyway, as a probe the peer must answer.
	 */
	if (!(c->flags & SL_TF_DEAD) && c->snd_nxt == c->snd_una)
		sl_tcp_retransmit_una(c);
	if (c->rtx_mode != SL_TCP_RTX_RTO && !(c->flags & SL_TF_DEAD))
		sl_tcp_arm_rto(c);
}

static void
tcp_delack_fire(struct sl_timer *t)
{
	struct sl_tcp_conn *c = sl_container_of(t, struct sl_tcp_conn, delack_timer);

	if (c->flags & SL_TF_DELACK) {
		c->flags |= SL_TF_ACK_NOW;
		sl_tcp_output(c);
	}
}

static void
tcp_keep_fire(struct sl_timer *t)
{
	struct sl_tcp_conn *c = sl_container_of(t, struct sl_tcp_conn, keep_timer);
	struct sl_tcp_worker *tw = c->tw;
	uint64_t now = sl_tcp_now_ms(tw);

	/* The lingering close's deadline: the peer did not finish in time. */
	if ((c->api_flags & SL_TA_LINGER) && c->state != SL_TCP_TIME_WAIT) {
		/* The peer must learn that what it sent since was never read (RFC 2525 2.17). */
		tw->stats.conn_timeouts++;
		if (c->state != SL_TCP_SYN_SENT)
			sl_tcp_send_rst(c);
		sl_tcp_conn_destroy(c); /* the user is gone already: no callback */
		return;
	}
	/* The connect timeout of sl_tcp_connect_opts (a simultaneous open is in SYN-RECEIVED). */
	if (c->api_flags & SL_TA_CONNECT_TO) {
		if (c->state == SL_TCP_SYN_SENT || c->state == SL_TCP_SYN_RECEIVED) {
			tw->stats.conn_timeouts++;
			sl_tcp_conn_fail(c, -ETIMEDOUT);
		}
		return;
	}
	switch (c->state) {
	case SL_TCP_TIME_WAIT:
		sl_tcp_conn_destroy(c);
		return;
	case SL_TCP_FIN_WAIT_2:
		if (c->flags & SL_TF_USER_GONE) {
			sl_tcp_conn_destroy(c);
			return;
		}
		break;
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
		break;
	default:
		return;
	}
	if (tw->cfg->keepalive_ms == 0)
		return;
	/* Lazy: segments do not re-arm the timer, they move last_rx_ms. */
	if (c->probes == 0 && now < c->last_rx_ms + tw->cfg->keepalive_ms) {
		sl_timer_arm(&tw->wheel, &c->keep_timer, c->last_rx_ms + tw->cfg->keepalive_ms);
		return;
	}
	if (c->probes >= SL_TCP_KEEPALIVE_PROBES) {
		tw->stats.keepalive_timeouts++;
		sl_tcp_conn_fail(c, sl_tcp_timeout_err(c));
		return;
	}
	c->probes++;
	sl_tcp_send_probe(c);
	sl_tcp_arm_keepalive(c);
}
