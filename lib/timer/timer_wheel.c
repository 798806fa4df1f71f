/* SPDX-License-Identifier: MIT */
#include "lib/timer/timer_wheel.h"

#define LVL_BITS SL_TIMER_WHEEL_LEVEL_BITS
#define LVL_MASK (SL_TIMER_WHEEL_LEVEL_SLOTS - 1)

_Static_assert(SL_TIMER_WHEEL_LEVELS *SL_TIMER_WHEEL_LEVEL_BITS >= 64,
	       "every 64-bit expire needs a level");
_Static_assert(SL_TIMER_WHEEL_LEVEL_SLOTS <= 64, "a level's occupancy is one uint64_t");

/*
 * Lists are Linux hlist style: `pprev` points at whatever points at the timer
 * (a slot head, the `due` head, the previous timer's `next`, or the local head
 * of a list being run), so unlinking needs neither the wheel nor a walk.
 *
 * The invariant everything rests on, true outside sl_timer_wheel_advance:
 * a timer in slot[L][s] has expire > now, agrees with now on every bit above
 * level L's group, and has s, its group L, greater than now's group L. So
 * the timers of a lower level are all due before those of a higher one, the
 * first occupied slot of the lowest occupied level holds the earliest timer,
 * and no slot ever wraps around: slot indexes only grow ahead of the clock.
 * Moving the clock to a time t keeps it provided no slot whose block starts
 * at or before t is left unprocessed, which is how advance moves it.
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

/* The level of the highest group where expire and now differ; 0 within now's 64-tick block. */
static inline unsigned
timer_level(uint64_t expire, uint64_t now)
{
	uint64_t diff = (expire ^ now) | LVL_MASK;

	return (unsigned)(63 - __builtin_clzll(diff)) / LVL_BITS;
}

/* Link `t` (expire > w->now, unlinked) into the slot the invariant gives it. */
static inline void
timer_place(struct sl_timer_wheel *w, struct sl_timer *t)
{
	unsigned lvl = timer_level(t->expire, w->now);
	unsigned s = (unsigned)(t->expire >> (lvl * LVL_BITS)) & LVL_MASK;

	timer_link(&w->slot[lvl][s], t);
	w->occupied[lvl] |= UINT64_C(1) << s;
}

/* First tick of the block slot s of level lvl stands for, given the clock `now`. */
static inline uint64_t
slot_start(uint64_t now, unsigned lvl, unsigned s)
{
	unsigned shift = lvl * LVL_BITS;
	unsigned above = shift + LVL_BITS;
	uint64_t high = above >= 64 ? 0 : now >> above << above;

	return high | (uint64_t)s << shift;
}

/*
 * The first non-empty slot of the lowest occupied level, the earliest by the
 * invariant, in *lvl and *slot; false when the wheel holds nothing. Drops the
 * bits that cancels left behind on the way.
 */
static bool
timer_first_slot(struct sl_timer_wheel *w, unsigned *lvl, unsigned *slot)
{
	unsigned l, s;

	for (l = 0; l < SL_TIMER_WHEEL_LEVELS; l++) {
		while (w->occupied[l] != 0) {
			s = (unsigned)__builtin_ctzll(w->occupied[l]);
			if (w->slot[l][s] != NULL) {
				*lvl = l;
				*slot = s;
				return true;
			}
			w->occupied[l] &= ~(UINT64_C(1) << s);
		}
	}
	return false;
}

/*
 * Move the clock to the first tick D of slot (lvl, s) and empty the slot:
 * its timers due at D are appended at *tail (so a list built by successive
 * calls stays in expiry order) and the others, later in the slot's block,
 * move down relative to D. No callback runs here. Returns the new tail.
 */
static struct sl_timer **
timer_take_slot(struct sl_timer_wheel *w, unsigned lvl, unsigned s, struct sl_timer **tail)
{
	struct sl_timer *pending = w->slot[lvl][s];
	struct sl_timer *t;

	w->now = slot_start(w->now, lvl, s);
	w->slot[lvl][s] = NULL;
	w->occupied[lvl] &= ~(UINT64_C(1) << s);
	while ((t = pending) != NULL) {
		pending = t->next;
		if (t->expire == w->now) {
			t->next = NULL;
			t->pprev = tail;
			*tail = t;
			tail = &t->next;
		} else {
			/* Level 0 holds only timers of their exact tick: this is L >= 1. */
			timer_place(w, t);
			w->cascaded++;
		}
	}
	return tail;
}

/*
 * Fire the timers of the list at *head, a local head its first timer's
 * `pprev` points at. What callbacks do cannot disturb the walk: a timer they
 * arm goes on a live list (never this local one), and a pending timer they
 * cancel or re-arm unlinks itself from this list, whose head stays valid.
 */
static unsigned
timer_run(struct sl_timer **head)
{
	struct sl_timer *t;
	unsigned fired = 0;

	while ((t = *head) != NULL) {
		timer_unlink(t);
		fired++;
		t->fn(t);
	}
	return fired;
}

void
sl_timer_wheel_init(struct sl_timer_wheel *w, uint64_t now)
{
	unsigned l, s;

	w->now = now;
	w->due = NULL;
	w->cascaded = 0;
	for (l = 0; l < SL_TIMER_WHEEL_LEVELS; l++) {
		w->occupied[l] = 0;
		for (s = 0; s < SL_TIMER_WHEEL_LEVEL_SLOTS; s++)
			w->slot[l][s] = NULL;
	}
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
	if (t->pprev != NULL) {
		/* Already waiting for that tick: the wheel finds it where it is. */
		if (t->expire == expire)
			return;
		timer_unlink(t);
	}
	t->expire = expire;
	/* No slot stands for the current tick or the past: what is due waits on its own list. */
	if (expire <= w->now)
		timer_link(&w->due, t);
	else
		timer_place(w, t);
}

void
sl_timer_cancel(struct sl_timer *t)
{
	if (t->pprev != NULL)
		timer_unlink(t);
}

/*
 * The clock moves from slot start to slot start, earliest first, never past
 * `now`: each step either fires the timers of one tick (level 0, or those of
 * a higher slot due at its very first tick) or moves a higher slot down, so
 * the steps are bounded by the timers fired plus the timers moved, whatever
 * the distance. A jump longer than CATCHUP first gathers every timer due by
 * now - CATCHUP without running anything (the same steps), then runs them at
 * that tick: callbacks re-arming relative to w->now then land in the last
 * CATCHUP ticks at worst.
 */
unsigned
sl_timer_wheel_advance(struct sl_timer_wheel *w, uint64_t now)
{
	struct sl_timer *list, **tail;
	unsigned fired, lvl, s;
	uint64_t cut;

	if (now < w->now)
		now = w->now;
	/* Moved to a local head, so that callbacks re-arming for "now" wait for the next call. */
	list = w->due;
	w->due = NULL;
	if (list != NULL)
		list->pprev = &list;
	fired = timer_run(&list);

	if (now - w->now > SL_TIMER_WHEEL_CATCHUP) {
		cut = now - SL_TIMER_WHEEL_CATCHUP;
		list = NULL;
		tail = &list;
		while (timer_first_slot(w, &lvl, &s) && slot_start(w->now, lvl, s) <= cut)
			tail = timer_take_slot(w, lvl, s, tail);
		w->now = cut;
		fired += timer_run(&list);
	}
	while (timer_first_slot(w, &lvl, &s) && slot_start(w->now, lvl, s) <= now) {
		list = NULL;
		timer_take_slot(w, lvl, s, &list);
		fired += timer_run(&list);
	}
	w->now = now;
	return fired;
}

/*
 * The earliest timer is in the first non-empty slot of the lowest occupied
 * level (the invariant); a slot of level 0 holds one tick only, a higher one
 * a block whose timers must be compared.
 */
uint64_t
sl_timer_wheel_next_hint(const struct sl_timer_wheel *w)
{
	const struct sl_timer *t;
	uint64_t bits, best;
	unsigned l, s;

	if (w->due != NULL)
		return w->now;
	for (l = 0; l < SL_TIMER_WHEEL_LEVELS; l++) {
		for (bits = w->occupied[l]; bits != 0; bits &= bits - 1) {
			s = (unsigned)__builtin_ctzll(bits);
			if (w->slot[l][s] == NULL)
				continue;
			best = UINT64_MAX;
			for (t = w->slot[l][s]; t != NULL; t = t->next)
				if (t->expire < best)
					best = t->expire;
			return best;
		}
	}
	return UINT64_MAX;
}
