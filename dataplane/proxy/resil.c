/* SPDX-License-Identifier: MIT */
/*
 * The proxy's side of lib/resilience on the request path: the circuit breaker and slow start
 * decide whether a pick stands, and every request's verdict goes to the breaker and the
 * outlier pool (README.md of lib/resilience: who owns which flag). Allocation-free; what
 * workers share is the resilience set's atomics.
 */
#include <rte_cycles.h>
#include <rte_ring.h>

#include "dataplane/worker.h"
#include "proxy_private.h"

void
px_evt_post(struct sl_proxy_worker *px, const struct sl_proxy *p, enum sl_evt_kind kind,
	    unsigned int arg, unsigned int gidx)
{
	struct rte_ring *r = px->w->evt;

	/* Replies to commands must always find room: notifications keep off their share. */
	if (r == NULL || rte_ring_free_count(r) <= SL_CMD_RING_SIZE ||
	    rte_ring_sp_enqueue(r, sl_evt_pack(kind, arg, p->resil->gen, gidx)) != 0)
		px->evt_dropped++;
}

static void
px_breaker_moved(struct px_session *s, struct sl_resil_backend *rb, enum sl_breaker_transition t,
		 unsigned int gidx)
{
	const struct sl_proxy *p = s->gen->p;

	if (t == SL_BREAKER_T_NONE)
		return;
	sl_breaker_sync_flags(&rb->breaker, p->resil->locs[rb->loc].live, rb->idx);
	px_evt_post(s->px, p, SL_EVT_BREAKER, t, gidx);
}

int
px_resil_pick(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	struct sl_resil_set *rs = s->gen->p->resil;
	const struct sl_resil_loc *rl = &rs->locs[s->loc_id];
	uint64_t now_us = rte_rdtsc() / px->tsc_per_us;
	int thinned = -1; /* a backend slow start passed over: taken if nothing else is left */

	s->bt_held = false;
	for (;;) {
		int b = sl_bal_pick(s->gen->locs[s->loc_id].bal, &s->breq);
		struct sl_resil_backend *rb;
		enum sl_breaker_transition t;

		if (b < 0) {
			if (thinned < 0)
				return -1;
			b = thinned;
			thinned = -1;
		} else if (rl->slow.window_us != 0 && s->breq.n_tried < SL_BAL_MAX_TRIED) {
			uint64_t back = atomic_load_explicit(&rs->b[rl->base + b].back_us,
							     memory_order_relaxed);

			/* Half-open probes go through unthinned: slow start follows the close. */
			if (back != 0 &&
			    !sl_slowstart_accept(sl_slowstart_factor(&rl->slow, back, now_us),
						 (uint32_t)sl_resil_rand(&px->rng)) &&
			    sl_breaker_state(&rs->b[rl->base + b].breaker) != SL_BREAKER_HALF_OPEN) {
				s->breq.tried[s->breq.n_tried++] = (uint16_t)b;
				if (thinned < 0)
					thinned = b;
				continue;
			}
		}
		rb = &rs->b[rl->base + b];
		if (sl_breaker_allow(&rb->breaker, now_us, &s->bt, &t)) {
			px_breaker_moved(s, rb, t, rl->base + b);
			s->bt_held = true;
			return b;
		}
		px_breaker_moved(s, rb, t, rl->base + b);
		if (s->breq.n_tried >= SL_BAL_MAX_TRIED)
			return -1;
		s->breq.tried[s->breq.n_tried++] = (uint16_t)b;
	}
}

void
px_resil_done(struct px_session *s, bool failure)
{
	struct sl_proxy_worker *px = s->px;
	struct sl_resil_set *rs = s->gen->p->resil;
	const struct sl_resil_loc *rl;
	struct sl_resil_backend *rb;
	unsigned int g;
	uint64_t now_us;

	if (!s->bt_held || s->bidx < 0)
		return;
	s->bt_held = false;
	rl = &rs->locs[s->loc_id];
	g = rl->base + (unsigned int)s->bidx;
	rb = &rs->b[g];
	now_us = rte_rdtsc() / px->tsc_per_us;
	px_breaker_moved(s, rb, sl_breaker_report(&rb->breaker, &s->bt, failure, now_us), g);
	if (rl->outlier != NULL) {
		enum sl_outlier_event e =
		    sl_outlier_report(rl->outlier, (unsigned int)s->bidx, failure, now_us);

		/* A capped ejection is not reported: it would repeat on every failure. */
		if (e == SL_OUTLIER_EJECTED) {
			sl_bal_live_set_flags(rl->live, (unsigned int)s->bidx, SL_RESIL_F_EJECTED, 0);
			px_evt_post(px, s->gen->p, SL_EVT_EJECTED, 0, g);
		}
	}
}
