/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_ADMISSION_H
#define SL_RESIL_ADMISSION_H

/*
 * Admission: at most max_concurrent requests of a service in flight, the next ones waiting
 * in FIFO order for at most timeout, and beyond max_queue waiting a refusal at once (503).
 * Teeter's worker pool and queue (struct sl_config_queue).
 *
 * Global limit, per-worker queues. The in-flight count is one atomic per service shared by
 * every worker, so max_concurrent holds exactly across workers (a slot is taken by a CAS that
 * never goes past the limit). A waiting request is a session on the worker that accepted
 * it, and only that worker can resume it, so each worker keeps its own ring of waiters
 * (opaque 64-bit handles, e.g. session pointers) with room for ceil(max_queue / workers)
 * of them, allocated at init. A shared count of waiters keeps the order fair across
 * workers: while anyone waits, a new request queues behind them instead of taking a slot
 * that was freed for a waiter. Within a worker the order is strict FIFO; across workers a
 * freed slot goes to whichever worker with waiters polls first (within one poll iteration).
 *
 * Per request on the worker:
 *   v = sl_adm_enter(q, handle, now, &ticket);
 *       SL_ADM_ADMITTED  run it now; sl_adm_release(q) when it ends, however it ends
 *       SL_ADM_QUEUED    park the session; keep `ticket` for sl_adm_cancel()
 *       SL_ADM_REJECTED  503 at once
 *   in the poll loop (and after each release), until it returns SL_ADM_NONE:
 *       v = sl_adm_next(q, now, &handle);
 *       SL_ADM_ADMITTED  resume the parked session `handle` (it now holds a slot)
 *       SL_ADM_TIMED_OUT the session waited `timeout`: 503 to it
 *   sl_adm_next_deadline(q) says when to poll next at the latest (for the timer wheel).
 *
 * The shared counters are written only when a request starts or ends (a fetch_add / CAS on
 * the service's line); a disabled queue costs nothing and counts nothing.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config/config.h"

enum sl_adm_verdict {
	SL_ADM_NONE = 0,
	SL_ADM_ADMITTED,
	SL_ADM_QUEUED,
	SL_ADM_REJECTED,
	SL_ADM_TIMED_OUT,
};

/* One per service, shared by all workers. */
struct sl_adm_shared {
	_Alignas(64) _Atomic uint32_t inflight;
	_Atomic uint32_t waiting; /* waiters over all workers */
	bool enabled;
	uint32_t max_concurrent;
	uint32_t max_queue; /* over all workers */
	uint64_t timeout_us;
};

struct sl_adm_waiter {
	uint64_t handle;
	uint64_t deadline_us;
	uint32_t seq;
	bool live; /* false once cancelled */
};

/* One per service and worker; used by its worker only. */
struct sl_adm_queue {
	struct sl_adm_shared *sh;
	struct sl_adm_waiter *ring; /* ring_size slots, a power of two >= 2 * cap */
	uint32_t ring_size;
	uint32_t cap;	 /* live waiters allowed on this worker */
	uint32_t n_live; /* live waiters queued */
	uint32_t head;	 /* sequence numbers; ring index = seq & (ring_size - 1) */
	uint32_t tail;
};

/* Initialise the shared part from the service's queue block. */
void sl_adm_shared_init(struct sl_adm_shared *sh, const struct sl_config_queue *c);

/*
 * Set up worker `q` of n_workers for shared `sh`: allocates its ring (the only allocation;
 * before the worker runs). Returns 0, -EINVAL or -ENOMEM.
 */
int sl_adm_queue_init(struct sl_adm_queue *q, struct sl_adm_shared *sh, unsigned int n_workers);
void sl_adm_queue_fini(struct sl_adm_queue *q);

/*
 * A new request. ADMITTED (it holds a slot), QUEUED (*ticket identifies it for cancel) or
 * REJECTED (queue full, or max_queue 0 and no slot). A disabled queue always admits.
 */
enum sl_adm_verdict sl_adm_enter(struct sl_adm_queue *q, uint64_t handle, uint64_t now_us,
				 uint32_t *ticket);

/* An admitted request ended: its slot is free. Then call sl_adm_next() until SL_ADM_NONE. */
void sl_adm_release(struct sl_adm_queue *q);

/*
 * The next event for this worker's waiters: the head timed out (SL_ADM_TIMED_OUT, *handle),
 * or a slot was free and the head took it (SL_ADM_ADMITTED, *handle), or nothing to do
 * (SL_ADM_NONE). Waiters behind the head cannot time out before it (same timeout, FIFO).
 */
enum sl_adm_verdict sl_adm_next(struct sl_adm_queue *q, uint64_t now_us, uint64_t *handle);

/*
 * A queued request went away (client closed). Returns true if it was still waiting; it
 * will not be returned by sl_adm_next(). O(1).
 */
bool sl_adm_cancel(struct sl_adm_queue *q, uint32_t ticket);

/* Deadline of this worker's oldest waiter, UINT64_MAX when none. */
uint64_t sl_adm_next_deadline(const struct sl_adm_queue *q);

static inline uint32_t
sl_adm_inflight(const struct sl_adm_shared *sh)
{
	return atomic_load_explicit(&sh->inflight, memory_order_relaxed);
}

#endif
