/* SPDX-License-Identifier: MIT */
#ifndef SL_RING_CLIENT_H
#define SL_RING_CLIENT_H

#include "lib/msg/msg.h"

/*
 * Send msg to a worker's command ring and wait (sleeping, on the control
 * thread) until the worker sends it back on its event ring. Returns 0, or
 * -ETIMEDOUT / -ENOBUFS. A message that timed out is still owned by the
 * worker until it comes back: the caller must not free it (it is leaked on
 * purpose; a worker that does not answer within the timeout is wedged).
 */
int sl_cp_call(const struct sl_plane_view *v, unsigned int worker, struct sl_msg *msg,
	       unsigned int timeout_ms);

#endif
