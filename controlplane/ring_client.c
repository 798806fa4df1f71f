/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include <rte_ring.h>

#include "ring_client.h"

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A notification (lib/msg sl_evt) on an event ring: hand it on. */
static bool
notification(const struct sl_plane_view *v, void *back)
{
	if (!sl_evt_is(back))
		return false;
	if (v->on_evt != NULL) {
		struct sl_evt e = sl_evt_unpack(back);

		v->on_evt(v->on_evt_arg, &e);
	}
	return true;
}

/* A message back on an event ring that is a liveness ping: its record is around it. */
static bool
ping_back(void *back)
{
	struct sl_msg *m = back;

	if (m->type != SL_MSG_PING)
		return false;
	sl_msg_ping_answer((struct sl_msg_ping *)m, m, mono_ns());
	return true;
}

int
sl_cp_call(const struct sl_plane_view *v, unsigned int worker, struct sl_msg *msg,
	   unsigned int timeout_ms)
{
	struct timespec ts = {0, 200000};
	void *back;

	if (worker >= v->n_workers)
		return -EINVAL;
	if (rte_ring_sp_enqueue(v->cmd[worker], msg) != 0)
		return -ENOBUFS;
	for (unsigned int waited_us = 0; waited_us < timeout_ms * 1000u;) {
		/* One caller at a time per worker (the control thread), so the first reply is ours.
		 */
		if (rte_ring_sc_dequeue(v->evt[worker], &back) == 0) {
			if (notification(v, back) || (back != msg && ping_back(back)))
				continue;
			return back == msg ? 0 : -EPROTO;
		}
		nanosleep(&ts, NULL);
		waited_us += 200;
	}
	return -ETIMEDOUT;
}

int
sl_cp_call_all(const struct sl_plane_view *v, struct sl_msg *const *msgs, enum sl_msg_type type,
	       unsigned int timeout_ms, struct sl_msg_round *round, uint32_t *held)
{
	static uint64_t next_id = 1; /* the control thread's request ids */
	struct timespec ts = {0, 200000};
	uint32_t sent = 0;

	sl_msg_round_start(round, v->n_workers, type, next_id++);
	for (unsigned int w = 0; w < round->n_workers; w++) {
		sl_msg_round_prepare(round, msgs[w]);
		if (rte_ring_sp_enqueue(v->cmd[w], msgs[w]) == 0)
			sent |= 1u << w;
	}
	for (unsigned int waited_us = 0;;) {
		bool got = false;

		for (unsigned int w = 0; w < round->n_workers; w++) {
			void *back;

			if (!(sent & ~round->answered & (1u << w)))
				continue;
			while (rte_ring_sc_dequeue(v->evt[w], &back) == 0) {
				got = true;
				if (back == msgs[w] ? sl_msg_round_answer(round, w, back) == 0
						    : notification(v, back) || ping_back(back))
					continue;
				/* A late answer to a call that timed out: it stays leaked. */
			}
		}
		if ((sent & ~round->answered) == 0 || waited_us >= timeout_ms * 1000u)
			break;
		if (!got) {
			nanosleep(&ts, NULL);
			waited_us += 200;
		}
	}
	*held = sent & ~round->answered;
	return sl_msg_round_complete(round) ? 0 : -ETIMEDOUT;
}

void
sl_cp_live_init(struct sl_cp_live *l, unsigned int n_workers, uint64_t now_ns)
{
	l->n_workers = n_workers;
	l->deadline_ns = SL_CP_PING_DEADLINE_MS * 1000000ull;
	for (unsigned int w = 0; w < SL_MAX_WORKERS; w++)
		sl_msg_ping_init(&l->ping[w], now_ns);
}

void
sl_cp_live_start(struct sl_cp_live *l, uint64_t now_ns)
{
	for (unsigned int w = 0; w < l->n_workers; w++)
		__atomic_store_n(&l->ping[w].last_ok_ns, now_ns, __ATOMIC_RELEASE);
}

void
sl_cp_live_poll(struct sl_cp_live *l, const struct sl_plane_view *v, uint64_t now_ns)
{
	for (unsigned int w = 0; w < l->n_workers && w < v->n_workers; w++) {
		struct sl_msg_ping *p = &l->ping[w];
		void *back;

		/* Anything else here is a reply to a call that timed out: it stays leaked. */
		while (rte_ring_sc_dequeue(v->evt[w], &back) == 0)
			if (notification(v, back))
				continue;
			else if (back == &p->msg)
				sl_msg_ping_answer(p, back, now_ns);
		if (!sl_msg_ping_due(p, now_ns, SL_CP_PING_PERIOD_MS * 1000000ull))
			continue;
		sl_msg_ping_prepare(p, now_ns);
		if (rte_ring_sp_enqueue(v->cmd[w], &p->msg) != 0)
			sl_msg_ping_unsent(p);
	}
}

bool
sl_cp_live_alive(void *live, unsigned int w)
{
	const struct sl_cp_live *l = live;

	return w < l->n_workers && sl_msg_ping_alive(&l->ping[w], mono_ns(), l->deadline_ns);
}
