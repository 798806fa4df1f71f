/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include <rte_ring.h>

#include "ring_client.h"

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
	for (unsigned int waited_us = 0; waited_us < timeout_ms * 1000u; waited_us += 200) {
		/* One caller at a time per worker (the control thread), so the first reply is ours. */
		if (rte_ring_sc_dequeue(v->evt[worker], &back) == 0)
			return back == msg ? 0 : -EPROTO;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}
