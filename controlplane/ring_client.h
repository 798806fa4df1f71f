/* SPDX-License-Identifier: MIT */
#ifndef SL_RING_CLIENT_H
#define SL_RING_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/msg/msg.h"

/*
 * Send msg to a worker's command ring and wait (sleeping, on the control
 * thread) until the worker sends it back on its event ring. Returns 0, or
 * -ETIMEDOUT / -ENOBUFS. A message that timed out is still owned by the
 * worker until it comes back: the caller must not free it (it is leaked on
 * purpose; a worker that does not answer within the timeout is wedged).
 * Liveness pings that come back meanwhile are recorded, not mistaken for the answer.
 */
int sl_cp_call(const struct sl_plane_view *v, unsigned int worker, struct sl_msg *msg,
	       unsigned int timeout_ms);

/*
 * A round (lib/msg sl_msg_round): send msgs[w] (type `type`, one request id for the round) to
 * every worker w < v->n_workers and wait until each answered or timeout_ms passed. Returns 0
 * when all answered, -ETIMEDOUT otherwise: round->answered says who did, and
 * sl_msg_round_missing_text names the others for the report. *held gets the workers that
 * still hold their message (sent, not answered): the caller must not free those (they are
 * leaked on purpose, as with sl_cp_call). Control thread only.
 */
int sl_cp_call_all(const struct sl_plane_view *v, struct sl_msg *const *msgs,
		   enum sl_msg_type type, unsigned int timeout_ms, struct sl_msg_round *round,
		   uint32_t *held);

/* Pings every SL_CP_PING_PERIOD_MS; a worker silent for SL_CP_PING_DEADLINE_MS is down. */
#define SL_CP_PING_PERIOD_MS 250u
#define SL_CP_PING_DEADLINE_MS 1000u

/* Worker liveness (lib/msg sl_msg_ping), one record per worker. */
struct sl_cp_live {
	unsigned int n_workers;
	uint64_t deadline_ns;
	struct sl_msg_ping ping[SL_MAX_WORKERS];
};

void sl_cp_live_init(struct sl_cp_live *l, unsigned int n_workers, uint64_t now_ns);
/*
 * Control thread, before its first sl_cp_live_poll: the deadline counts from now, not from
 * init (start-up work between the two, such as the admin server's set-up, is not silence).
 * Safe while other threads call sl_cp_live_alive.
 */
void sl_cp_live_start(struct sl_cp_live *l, uint64_t now_ns);
/*
 * Control thread only (it owns the rings): collect the answers waiting on the event rings,
 * then send a ping to every worker that has none in flight and is due.
 */
void sl_cp_live_poll(struct sl_cp_live *l, const struct sl_plane_view *v, uint64_t now_ns);
/* Any thread: did worker w answer within the deadline? (the /health hook) */
bool sl_cp_live_alive(void *live, unsigned int w);

#endif
