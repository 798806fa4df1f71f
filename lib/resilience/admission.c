/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/resilience/admission.h"

void
sl_adm_shared_init(struct sl_adm_shared *sh, const struct sl_config_queue *c)
{
	memset(sh, 0, sizeof(*sh));
	atomic_init(&sh->inflight, 0);
	atomic_init(&sh->waiting, 0);
	sh->enabled = c->enabled;
	sh->max_concurrent = c->max_concurrent;
	sh->max_queue = c->max_queue;
	sh->timeout_us = (uint64_t)c->timeout_ms * 1000;
}

int
sl_adm_queue_init(struct sl_adm_queue *q, struct sl_adm_shared *sh, unsigned int n_workers)
{
	uint32_t size = 1;

	memset(q, 0, sizeof(*q));
	if (n_workers == 0 || sh->max_queue > (1u << 24))
		return -EINVAL;
	q->sh = sh;
	q->cap = (sh->max_queue + n_workers - 1) / n_workers;
	/* Twice the live capacity: cancelled waiters keep their slot until they reach the head,
	 * and must not make the ring refuse live ones meanwhile. */
	while (size < 2 * q->cap)
		size <<= 1;
	q->ring_size = size;
	q->ring = calloc(size, sizeof(*q->ring));
	return q->ring ? 0 : -ENOMEM;
}

void
sl_adm_queue_fini(struct sl_adm_queue *q)
{
	free(q->ring);
	q->ring = NULL;
}

static bool
take_slot(struct sl_adm_shared *sh)
{
	uint32_t v = atomic_load_explicit(&sh->inflight, memory_order_relaxed);

	do {
		if (v >= sh->max_concurrent)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
	    &sh->inflight, &v, v + 1, memory_order_acquire, memory_order_relaxed));
	return true;
}

enum sl_adm_verdict
sl_adm_enter(struct sl_adm_queue *q, uint64_t handle, uint64_t now_us, uint32_t *ticket)
{
	struct sl_adm_shared *sh = q->sh;
	struct sl_adm_waiter *w;

	if (!sh->enabled)
		return SL_ADM_ADMITTED;
	if (atomic_load_explicit(&sh->waiting, memory_order_relaxed) == 0 && take_slot(sh))
		return SL_ADM_ADMITTED;
	if (q->n_live >= q->cap || q->tail - q->head >= q->ring_size)
		return SL_ADM_REJECTED;
	w = &q->ring[q->tail & (q->ring_size - 1)];
	w->handle = handle;
	w->deadline_us = now_us + sh->timeout_us;
	w->seq = q->tail;
	w->live = true;
	if (ticket)
		*ticket = q->tail;
	q->tail++;
	q->n_live++;
	atomic_fetch_add_explicit(&sh->waiting, 1, memory_order_relaxed);
	return SL_ADM_QUEUED;
}

void
sl_adm_release(struct sl_adm_queue *q)
{
	if (!q->sh->enabled)
		return;
	atomic_fetch_sub_explicit(&q->sh->inflight, 1, memory_order_release);
}

static void
pop_head(struct sl_adm_queue *q, bool live)
{
	q->head++;
	if (live) {
		q->n_live--;
		atomic_fetch_sub_explicit(&q->sh->waiting, 1, memory_order_relaxed);
	}
}

enum sl_adm_verdict
sl_adm_next(struct sl_adm_queue *q, uint64_t now_us, uint64_t *handle)
{
	while (q->head != q->tail) {
		struct sl_adm_waiter *w = &q->ring[q->head & (q->ring_size - 1)];

		if (!w->live) {
			pop_head(q, false);
			continue;
		}
		if (now_us >= w->deadline_us) {
			*handle = w->handle;
			w->live = false;
			pop_head(q, true);
			return SL_ADM_TIMED_OUT;
		}
		if (!take_slot(q->sh))
			return SL_ADM_NONE;
		*handle = w->handle;
		w->live = false;
		pop_head(q, true);
		return SL_ADM_ADMITTED;
	}
	return SL_ADM_NONE;
}

bool
sl_adm_cancel(struct sl_adm_queue *q, uint32_t ticket)
{
	struct sl_adm_waiter *w;

	if (q->ring == NULL || ticket - q->head >= q->tail - q->head)
		return false;
	w = &q->ring[ticket & (q->ring_size - 1)];
	if (!w->live || w->seq != ticket)
		return false;
	w->live = false;
	q->n_live--;
	atomic_fetch_sub_explicit(&q->sh->waiting, 1, memory_order_relaxed);
	return true;
}

uint64_t
sl_adm_next_deadline(const struct sl_adm_queue *q)
{
	for (uint32_t s = q->head; s != q->tail; s++) {
		const struct sl_adm_waiter *w = &q->ring[s & (q->ring_size - 1)];

		if (w->live)
			return w->deadline_us;
	}
	return UINT64_MAX;
}
