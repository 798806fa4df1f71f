/* SPDX-License-Identifier: MIT */
#include "lib/timer/timer_wheel.h"

/*
 * Lists are Linux hlist style: `pprev` points at whatever points at the timer
 * (a slot head, the `due` head, the previous timer's `next`, or the local head
 * of a list being run), so unlinking needs neither the wheel nor a walk.
 */

static inline void
timer_link(struct sl_timer **head, struct sl_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static inline void
timer_unlink(struct sl_timer *t)
{
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void
sl_timer_wheel_init(struct sl_timer_wheel *w, uint64_t now)
{
	unsigned i;

	w->now = now;
	w->due = NULL;
	for (i = 0; i < SL_TIMER_WHEEL_SLOTS; i++)
		w->slot[i] = NULL;
}

void
sl_timer_init(struct sl_timer *t, sl_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expire = 0;
	t->fn = fn;
}

void
sl_timer_arm(struct sl_timer_wheel *w, struct sl_timer *t, uint64_t expire)
{
	if (t->pprev != NULL)
		timer_unlink(t);
	t->expire = expire;
	/*
	 * A slot at or behind the clock will not be visited before a whole
	 * revolution, so what is already due waits on its own list.
	 */
	if (expire <= w->now)
		timer_link(&w->due, t);
	else
		timer_link(&w->slot[expire & SL_TIMER_WHEEL_MASK], t);
}

void
sl_timer_cancel(struct sl_timer *t)
{
	if (t->pprev != NULL)
		timer_unlink(t);
}

/*
 * Fire the timers of list `*head` whose expire <= tick and put the others
 * back on it. Returns how many fired.
 *
 * The list is first moved to a local head, so what callbacks do cannot
 * disturb the walk: a timer they arm goes on a live list (never this local
 * one, so a timer re-armed for this very slot waits for the next visit); a
 * pending timer they cancel or re-arm simply unlinks itself from the local
 * list, whose head stays valid for the whole loop.
 */
static unsigned
timer_run_list(struct sl_timer **head, uint64_t tick)
{
	struct sl_timer *pending = *head;
	struct sl_timer *t;
	unsigned fired = 0;

	if (pending == NULL)
		return 0;
	*head = NULL;
	pending->pprev = &pending;
	while (pending != NULL) {
		t = pending;
		timer_unlink(t);
		if (t->expire <= tick) {
			fired++;
			t->fn(t);
		} else {
			timer_link(head, t);
		}
	}
	return fired;
}

/*
 * First the timers that were already due when armed (all older than any tick
 * still to visit), then each tick from w->now + 1 to now, setting w->now to the
 * tick before running its slot so that callbacks see the time they fire at.
 *
 * When the clock jumps by more than one revolution only the last revolution,
 * ticks now - SLOTS + 1 .. now, is walked: each slot is visited once, a timer
 * due in that revolution fires at its own tick (so in expiry order), and one
 * due earlier fires at the visit of its slot, so these late ones come out in
 * slot order, interleaved with the others. That bounds the work of any call
 * to SLOTS visits plus the armed timers.
 */
unsigned
sl_timer_wheel_advance(struct sl_timer_wheel *w, uint64_t now)
{
	unsigned fired;
	uint64_t tick;

	if (now < w->now)
		now = w->now;
	fired = timer_run_list(&w->due, w->now);
	if (now == w->now)
		return fired;

	if (now - w->now > SL_TIMER_WHEEL_SLOTS)
		tick = now - SL_TIMER_WHEEL_SLOTS + 1;
	else
		tick = w->now + 1;
	for (;;) {
		w->now = tick;
		fired += timer_run_list(&w->slot[tick & SL_TIMER_WHEEL_MASK], tick);
		if (tick == now)
			break;
		tick++;
	}
	return fired;
}

/*
 * Outside advance every timer in a slot has expire > w->now, so visiting the
 * ticks of the next revolution in order, the first timer due at the tick
 * visited is the earliest; failing that, every timer is further than one
 * revolution away and the earliest is the smallest expire seen.
 */
uint64_t
sl_timer_wheel_next_hint(const struct sl_timer_wheel *w)
{
	const struct sl_timer *t;
	uint64_t best = UINT64_MAX;
	uint64_t tick;
	unsigned i;

	if (w->due != NULL)
		return w->now;
	for (i = 1; i <= SL_TIMER_WHEEL_SLOTS; i++) {
		tick = w->now + i;
		for (t = w->slot[tick & SL_TIMER_WHEEL_MASK]; t != NULL; t = t->next) {
			if (t->expire <= tick)
				return t->expire;
			if (t->expire < best)
				best = t->expire;
		}
	}
	return best;
}
