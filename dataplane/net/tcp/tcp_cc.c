/* SPDX-License-Identifier: MIT */
/*
 * Congestion control: slow start and congestion avoidance (RFC 5681) with
 * appropriate byte counting (RFC 3465, L = 2 SMSS), NewReno recovery
 * (RFC 6582) or SACK recovery (RFC 6675) entered by tcp_input, and CUBIC
 * (RFC 9438) for the congestion-avoidance growth when configured.
 */
#include <math.h>

#include "tcp_conn.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

void
sl_tcp_cc_init(struct sl_tcp_conn *c)
{
	uint32_t mss = c->mss ? c->mss : SL_TCP_MSS_DEFAULT;

	/* RFC 6928 initial window: min(10 MSS, max(2 MSS, 14600)). */
	c->cwnd = RTE_MIN(10 * mss, RTE_MAX(2 * mss, 14600u));
	c->ssthresh = UINT32_MAX;
	c->bytes_acked = 0;
	c->cubic_epoch_ms = 0;
}

/*
 * Bytes in the network: what was sent below snd_nxt and is not SACKed. In
 * SACK recovery this is RFC 6675's pipe: the holes below the highest SACK
 * that have not been retransmitted yet are presumed lost and left out too.
 */
uint32_t
sl_tcp_flight(const struct sl_tcp_conn *c)
{
	uint32_t out = c->snd_nxt - c->snd_una, gone = 0;

	if (!(c->flags & SL_TF_SACK_OK) || c->sb.n == 0)
		return out;
	/* SACKed bytes below snd_nxt. */
	for (uint32_t i = 0; i < c->sb.n; i++) {
		uint32_t s = sl_seq_max(c->sb.r[i].start, c->snd_una);
		uint32_t e = sl_seq_min(c->sb.r[i].end, c->snd_nxt);

		if (sl_seq_lt(s, e))
			gone += e - s;
	}
	if (c->flags & SL_TF_RECOVERY) {
		/* Un-SACKed bytes in [from, highest SACK), not retransmitted since. */
		uint32_t from = sl_seq_max(c->rtx_high, c->snd_una);
		uint32_t to = sl_seq_min(sl_sack_highest(&c->sb), c->snd_nxt);

		if (sl_seq_lt(from, to)) {
			uint32_t sacked = 0;

			for (uint32_t i = 0; i < c->sb.n; i++) {
				uint32_t s = sl_seq_max(c->sb.r[i].start, from);
				uint32_t e = sl_seq_min(c->sb.r[i].end, to);

				if (sl_seq_lt(s, e))
					sacked += e - s;
			}
			gone += (to - from) - sacked;
		}
	}
	return out > gone ? out - gone : 0;
}

static void
cubic_on_loss(struct sl_tcp_conn *c)
{
	c->cubic_wmax = c->cwnd;
	c->cubic_epoch_ms = 0;
}

/* CUBIC window growth per ACK in congestion avoidance (RFC 9438 4.2-4.4). */
static void
cubic_ack(struct sl_tcp_conn *c, uint32_t acked)
{
	uint64_t now = sl_tcp_now_ms(c->tw);
	double mss = c->mss, cwnd_seg = c->cwnd / mss;

	if (c->cubic_epoch_ms == 0) {
		c->cubic_epoch_ms = now ? now : 1;
		if (c->cubic_wmax < c->cwnd)
			c->cubic_wmax = c->cwnd;
		c->cubic_k_ms = (uint32_t)(cbrt((c->cubic_wmax / mss - cwnd_seg) / CUBIC_C) * 1000.0);
		c->cubic_origin = c->cwnd;
		c->bytes_acked = 0;
	}
	double t = (double)(now - c->cubic_epoch_ms + c->srtt_us / 1000) / 1000.0;
	double k = c->cubic_k_ms / 1000.0;
	double target = CUBIC_C * (t - k) * (t - k) * (t - k) + c->cubic_wmax / mss;
	/* The Reno-friendly estimate keeps CUBIC at least as fast as Reno (4.3). */
	c->bytes_acked += acked;
	/* W_est starts at the window of the epoch's start, already reduced by beta. */
	double w_est = c->cubic_origin / mss +
		       3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA) * (c->bytes_acked / (double)c->cwnd);
	if (w_est > target)
		target = w_est;
	if (target > 1.5 * cwnd_seg)
		target = 1.5 * cwnd_seg;
	if (target > cwnd_seg)
		c->cwnd += (uint32_t)((target - cwnd_seg) / cwnd_seg * mss * (acked / mss));
}

void
sl_tcp_cc_ack(struct sl_tcp_conn *c, uint32_t acked)
{
	if (c->cwnd < c->ssthresh) {
		c->cwnd += RTE_MIN(acked, 2u * c->mss);
		return;
	}
	if (c->tw->cfg->cubic) {
		cubic_ack(c, acked);
		return;
	}
	c->bytes_acked += acked;
	if (c->bytes_acked >= c->cwnd) {
		c->bytes_acked -= c->cwnd;
		c->cwnd += c->mss;
	}
}

/*
 * ssthresh after a loss: RFC 5681's max(FlightSize / 2, 2 SMSS), or CUBIC's
 * beta * cwnd (RFC 9438 4.6), which also starts a new CUBIC epoch.
 */
static void
tcp_cc_set_ssthresh(struct sl_tcp_conn *c, uint32_t flight)
{
	if (c->tw->cfg->cubic) {
		cubic_on_loss(c);
		c->ssthresh = RTE_MAX((uint32_t)(c->cwnd * CUBIC_BETA), 2u * c->mss);
	} else {
		c->ssthresh = RTE_MAX(flight / 2, 2u * c->mss);
	}
}

void
sl_tcp_cc_enter_recovery(struct sl_tcp_conn *c)
{
	tcp_cc_set_ssthresh(c, c->snd_max - c->snd_una);
	/* NewReno inflates by the three segments that left the network (RFC 6582 3.2). */
	c->cwnd = c->ssthresh + ((c->flags & SL_TF_SACK_OK) ? 0 : 3u * c->mss);
	c->recover = c->snd_max;
	c->rtx_high = c->snd_una;
	c->bytes_acked = 0;
	c->flags |= SL_TF_RECOVERY;
	c->tlp_state = SL_TCP_TLP_NONE; /* recovery takes over the episode (Linux, too) */
	c->tw->stats.fast_retransmits++;
}

void
sl_tcp_cc_timeout(struct sl_tcp_conn *c)
{
	if (c->backoff <= 1) /* the first timeout of a run sets ssthresh (RFC 5681 eq. 4) */
		tcp_cc_set_ssthresh(c, c->snd_max - c->snd_una);
	c->cwnd = c->mss;
	c->bytes_acked = 0;
	c->dupacks = 0;
	c->flags &= ~SL_TF_RECOVERY;
	c->tlp_state = SL_TCP_TLP_NONE; /* the probe did not help: the RTO's collapse is the reaction */
}

/*
 * RFC 8985 7.4.2: the probe repaired a loss (its retransmission was
 * acknowledged, with no D-SACK or duplicate ACK saying the original had
 * arrived). React as fast recovery would have, at once: cwnd down to the new
 * ssthresh, no collapse. The loss is found when the tail is acknowledged, so
 * the flight then (often nothing) says nothing about the window the tail
 * was sent with: cwnd stands for it, as in Linux (tcp_init_cwnd_reduction,
 * ssthresh from the congestion controller's cwnd-based rule, then
 * tcp_end_cwnd_reduction).
 */
void
sl_tcp_cc_tlp_loss(struct sl_tcp_conn *c)
{
	tcp_cc_set_ssthresh(c, c->cwnd);
	c->cwnd = c->ssthresh;
	c->bytes_acked = 0;
}
