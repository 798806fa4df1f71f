/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"

static const char *const reason_names[] = {
#define SL_ALOG_REASON_NAME(id, name) name,
    SL_ALOG_REASONS(SL_ALOG_REASON_NAME)
#undef SL_ALOG_REASON_NAME
};

const char *
sl_alog_reason_name(unsigned int reason)
{
	return reason < SL_ALOG_REASON_MAX ? reason_names[reason] : "unknown";
}

/* ---- the rings: the producer owns head, the consumer tail; acquire/release pairs them ---- */

static int
ring_init(struct sl_alog_ring *r, uint32_t n)
{
	uint32_t cap = 1;

	while (cap < n)
		cap <<= 1;
	r->slot = calloc(cap, sizeof(*r->slot));
	r->mask = cap - 1;
	r->head = r->tail = 0;
	return r->slot ? 0 : -ENOMEM;
}

static bool
ring_put(struct sl_alog_ring *r, uint32_t v)
{
	uint32_t h = r->head, t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (h - t > r->mask)
		return false;
	r->slot[h & r->mask] = v;
	/* The record behind v is complete before the consumer can see v. */
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return true;
}

static bool
ring_get(struct sl_alog_ring *r, uint32_t *v)
{
	uint32_t t = r->tail, h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (h == t)
		return false;
	*v = r->slot[t & r->mask];
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	return true;
}

struct sl_alog *
sl_alog_create(uint32_t n, unsigned int worker)
{
	struct sl_alog *l;

	if (n == 0 || n > SL_ALOG_MAX_RECORDS)
		return NULL;
	if (posix_memalign((void **)&l, 64, sizeof(*l)) != 0)
		return NULL;
	memset(l, 0, sizeof(*l));
	l->n = n;
	l->worker = (uint16_t)worker;
	l->rec = calloc(n, sizeof(*l->rec));
	l->free_idx = calloc(n, sizeof(*l->free_idx));
	if (l->rec == NULL || l->free_idx == NULL || ring_init(&l->done, n) != 0 ||
	    ring_init(&l->back, n) != 0) {
		sl_alog_free(l);
		return NULL;
	}
	/* Lowest index on top: the first requests use the first records. */
	for (uint32_t i = 0; i < n; i++)
		l->free_idx[i] = n - 1 - i;
	l->n_free = n;
	return l;
}

void
sl_alog_free(struct sl_alog *l)
{
	if (l == NULL)
		return;
	free(l->rec);
	free(l->free_idx);
	free(l->done.slot);
	free(l->back.slot);
	free(l);
}

struct sl_alog_rec *
sl_alog_take(struct sl_alog *l, uint64_t start_tsc)
{
	struct sl_alog_rec *r;
	uint32_t i;

	if (l->n_free == 0) {
		/* Refill from what the control plane has written out since. */
		while (l->n_free < l->n && ring_get(&l->back, &i))
			l->free_idx[l->n_free++] = i;
		if (l->n_free == 0) {
			__atomic_store_n(&l->dropped, l->dropped + 1, __ATOMIC_RELAXED);
			return NULL;
		}
	}
	r = &l->rec[l->free_idx[--l->n_free]];
	/* The fixed part only: string fields are written (NUL-terminated) or emptied by the
	 * filler, so the worker does not clear 700 bytes per request. */
	memset(r, 0, offsetof(struct sl_alog_rec, method));
	r->method[0] = r->service[0] = r->location[0] = r->host[0] = r->path[0] = '\0';
	r->referer[0] = r->user_agent[0] = '\0';
	r->start_tsc = start_tsc;
	r->worker = l->worker;
	r->ttfb_us = SL_ALOG_NO_TTFB;
	return r;
}

void
sl_alog_commit(struct sl_alog *l, struct sl_alog_rec *r)
{
	/* Cannot fail: the ring holds every index (see the header). */
	ring_put(&l->done, (uint32_t)(r - l->rec));
	__atomic_store_n(&l->committed, l->committed + 1, __ATOMIC_RELAXED);
}

struct sl_alog_rec *
sl_alog_next(struct sl_alog *l)
{
	uint32_t i;

	if (!ring_get(&l->done, &i) || i >= l->n)
		return NULL;
	return &l->rec[i];
}

void
sl_alog_release(struct sl_alog *l, struct sl_alog_rec *r)
{
	ring_put(&l->back, (uint32_t)(r - l->rec));
}

void
sl_alog_add_written(struct sl_alog *l, uint64_t n)
{
	__atomic_store_n(&l->written, l->written + n, __ATOMIC_RELAXED);
}

void
sl_alog_add_lost(struct sl_alog *l, uint64_t n)
{
	__atomic_store_n(&l->lost, l->lost + n, __ATOMIC_RELAXED);
}

uint64_t
sl_alog_lost(const struct sl_alog *l)
{
	return __atomic_load_n(&l->lost, __ATOMIC_RELAXED);
}

uint64_t
sl_alog_dropped(const struct sl_alog *l)
{
	return __atomic_load_n(&l->dropped, __ATOMIC_RELAXED);
}

uint64_t
sl_alog_written(const struct sl_alog *l)
{
	return __atomic_load_n(&l->written, __ATOMIC_RELAXED);
}

bool
sl_alog_copy(char *dst, size_t cap, const char *src, size_t len)
{
	bool cut = len > cap - 1;

	if (cut)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return cut;
}

uint64_t
sl_alog_wall_ns(const struct sl_alog_clock *c, uint64_t tsc)
{
	__int128 d = (__int128)tsc - (__int128)c->tsc;

	if (c->tsc_hz == 0)
		return c->realtime_ns;
	return (uint64_t)((__int128)c->realtime_ns + d * 1000000000 / (__int128)c->tsc_hz);
}
