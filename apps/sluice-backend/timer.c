/* SPDX-License-Identifier: MIT */
/* One deadline per connection in a binary min-heap: idle timeout, /delay/MS, lingering close. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "backend.h"

#define NO_SLOT ((size_t)-1)

uint64_t
bk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
heap_put(struct bk_server *s, size_t i, struct bk_conn *c)
{
	s->heap[i] = c;
	c->heap_idx = i;
}

static void
sift_up(struct bk_server *s, size_t i)
{
	struct bk_conn *c = s->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (s->heap[parent]->deadline_ms <= c->deadline_ms)
			break;
		heap_put(s, i, s->heap[parent]);
		i = parent;
	}
	heap_put(s, i, c);
}

static void
sift_down(struct bk_server *s, size_t i)
{
	struct bk_conn *c = s->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = l;

		if (l >= s->heap_len)
			break;
		if (r < s->heap_len && s->heap[r]->deadline_ms < s->heap[l]->deadline_ms)
			m = r;
		if (s->heap[m]->deadline_ms >= c->deadline_ms)
			break;
		heap_put(s, i, s->heap[m]);
		i = m;
	}
	heap_put(s, i, c);
}

/* Sets or moves c's deadline. Returns 0 or -ENOMEM (only when c was not in the heap yet). */
int
bk_timer_set(struct bk_server *s, struct bk_conn *c, uint64_t deadline_ms)
{
	if (c->heap_idx == NO_SLOT) {
		if (s->heap_len == s->heap_cap) {
			size_t cap = s->heap_cap ? s->heap_cap * 2 : 256;
			struct bk_conn **h = realloc(s->heap, cap * sizeof(*h));

			if (h == NULL)
				return -ENOMEM;
			s->heap = h;
			s->heap_cap = cap;
		}
		c->deadline_ms = deadline_ms;
		heap_put(s, s->heap_len++, c);
		sift_up(s, c->heap_idx);
		return 0;
	}
	if (deadline_ms < c->deadline_ms) {
		c->deadline_ms = deadline_ms;
		sift_up(s, c->heap_idx);
	} else if (deadline_ms > c->deadline_ms) {
		c->deadline_ms = deadline_ms;
		sift_down(s, c->heap_idx);
	}
	return 0;
}

void
bk_timer_remove(struct bk_server *s, struct bk_conn *c)
{
	size_t i = c->heap_idx;
	struct bk_conn *last;

	if (i == NO_SLOT)
		return;
	c->heap_idx = NO_SLOT;
	last = s->heap[--s->heap_len];
	if (last == c)
		return;
	heap_put(s, i, last);
	if (i > 0 && s->heap[(i - 1) / 2]->deadline_ms > last->deadline_ms)
		sift_up(s, i);
	else
		sift_down(s, i);
}

/* Removes and returns a connection whose deadline has passed, or NULL. */
struct bk_conn *
bk_timer_expired(struct bk_server *s)
{
	struct bk_conn *c;

	if (s->heap_len == 0 || s->heap[0]->deadline_ms > s->now_ms)
		return NULL;
	c = s->heap[0];
	bk_timer_remove(s, c);
	return c;
}

/* epoll_wait timeout in ms: until the earliest deadline, at most a second. */
int
bk_timer_wait_ms(const struct bk_server *s)
{
	uint64_t now = bk_now_ms(), d;

	if (s->heap_len == 0)
		return 1000;
	d = s->heap[0]->deadline_ms;
	if (d <= now)
		return 0;
	return d - now > 1000 ? 1000 : (int)(d - now);
}
