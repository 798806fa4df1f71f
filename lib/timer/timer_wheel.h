/* SPDX-License-Identifier: MIT */
#ifndef SL_TIMER_WHEEL_H
#define SL_TIMER_WHEEL_H

/*
 * A per-lcore hierarchical timer wheel (Varghese & Lauck, scheme 7): levels
 * of 64 slots, a slot of level L standing for 64^L ticks. A timer sits in the
 * level of the highest 6-bit group in which its expire differs from the
 * clock, so level 0 holds the timers of the current 64-tick block, level 1
 * those of the later 64-tick blocks of the current 4,096-tick block, and so
 * on; with 11 levels every 64-bit expire has its place. When the clock
 * reaches the first tick of a slot of level L >= 1, the slot's timers move
 * down (to a lower level, by the same rule) before anything in the slot's
 * block is due, so every timer fires at its exact tick.
 *
 *  - arm, re-arm and cancel are O(1). A timer moves down at most once per
 *    level it started above 0: a timer armed 2 hours ahead (level 3 with 1 ms
 *    ticks) costs 3 moves in all, never one per revolution. Advancing the
 *    clock costs O(levels) plus the timers fired or moved: empty stretches
 *    are skipped (a bitmap of the occupied slots of each level), so a jump of
 *    any length costs no more than the timers it passes;
 *  - timers are intrusive: embed a struct sl_timer in your own struct and get
 *    back to it in the callback with sl_container_of. The wheel never
 *    allocates; it owns nothing but the list links of armed timers;
 *  - the time unit is the caller's (the TCP stack uses milliseconds). Only
 *    differences matter, never wall-clock values;
 *  - not thread-safe: one wheel per lcore, used by that lcore only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_TIMER_WHEEL_LEVEL_BITS 6
#define SL_TIMER_WHEEL_LEVEL_SLOTS (1u << SL_TIMER_WHEEL_LEVEL_BITS) /* 64: one uint64_t bitmap */
/* 11 * 6 >= 64 bits of expire: no overflow list, no clamping. */
#define SL_TIMER_WHEEL_LEVELS 11
/*
 * The longest stretch one advance walks tick by tick (as seen by callbacks):
 * 2^16 ticks, 65.5 s at 1 ms. See sl_timer_wheel_advance.
 */
#define SL_TIMER_WHEEL_CATCHUP (UINT64_C(1) << 16)

/* Pointer to the struct of type `type` whose member `member` is at `ptr`. */
/* clang-format takes (ptr) for a cast and would glue the minus to it. */
/* clang-format off */
#define sl_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
/* clang-format on */

struct sl_timer;
typedef void (*sl_timer_fn)(struct sl_timer *t);

/*
 * Embedded in the user's struct. Fields are the wheel's: read `expire` if you
 * like, write none of them. `pprev` is NULL while the timer is not armed.
 */
struct sl_timer {
	struct sl_timer *next, **pprev;
	uint64_t expire;
	sl_timer_fn fn;
};

struct sl_timer_wheel {
	/*
	 * Every timer with expire <= now has fired or sits on `due`. Inside a
	 * callback, `now` is the tick being processed, which may be behind the
	 * time given to sl_timer_wheel_advance.
	 */
	uint64_t now;
	/* Armed with an expire <= now: fire on the next advance, whatever its time. */
	struct sl_timer *due;
	/*
	 * Timers moved down a level since init: the whole cost of far timers,
	 * for tests and benchmarks to bound (at most levels - 1 per arming).
	 */
	uint64_t cascaded;
	/*
	 * Bit s of occupied[L]: slot[L][s] may hold timers. Set on arm; a cancel
	 * cannot clear it (it does not know the wheel), so a stale bit is dropped
	 * when a search finds its slot empty.
	 */
	uint64_t occupied[SL_TIMER_WHEEL_LEVELS];
	struct sl_timer *slot[SL_TIMER_WHEEL_LEVELS][SL_TIMER_WHEEL_LEVEL_SLOTS];
};

/* Empty wheel whose clock starts at `now`. */
void sl_timer_wheel_init(struct sl_timer_wheel *w, uint64_t now);

/* Unarmed timer that will call `fn` when it fires. Call once before first use. */
void sl_timer_init(struct sl_timer *t, sl_timer_fn fn);

/*
 * Arm `t` to fire at `expire` (an armed timer is moved; one armed for that very tick stays where it
 * is). An expire at or before w->now fires on the next sl_timer_wheel_advance call, even one whose
 * time has not moved; from inside a callback, that is the next call, not the
 * running one, so a timer re-arming itself for "now" cannot loop forever.
 */
void sl_timer_arm(struct sl_timer_wheel *w, struct sl_timer *t, uint64_t expire);

/* Disarm `t`; harmless on a timer that is not armed (or has just fired). */
void sl_timer_cancel(struct sl_timer *t);

static inline bool
sl_timer_armed(const struct sl_timer *t)
{
	return t->pprev != NULL;
}

/*
 * Fire every timer whose expire <= now and return how many fired. Order: the
 * timers armed already due first (w->now unchanged), then the others by
 * expiry tick (order among timers of one tick is unspecified). Precision: a
 * callback finds in w->now its own expire, exactly, however far ahead the
 * timer was armed and however far this call moves the clock; with one
 * exception that bounds the work of a call: when now is more than
 * SL_TIMER_WHEEL_CATCHUP ticks past w->now, the timers due at or before
 * now - CATCHUP fire first, still in expiry order, all seeing
 * w->now = now - CATCHUP (late, by the length of the jump less CATCHUP). So
 * a callback re-arming its timer relative to w->now fires once per period
 * over at most CATCHUP ticks, not over an unbounded jump; the TCP stack
 * re-arms relative to its own clock and never sees the difference.
 *
 * A timer is disarmed before its callback runs; callbacks may arm and cancel
 * any timer, themselves included. A timer armed from a callback fires in the
 * same call when its expire is after the tick being processed and <= now.
 * A time before w->now is taken as w->now. Not to be called from a callback.
 */
unsigned sl_timer_wheel_advance(struct sl_timer_wheel *w, uint64_t now);

/*
 * The expire of the earliest armed timer (w->now if one is already due), or
 * UINT64_MAX when none is armed. O(levels + the timers of one slot): cheap
 * enough for deciding how long an idle loop may sleep.
 */
uint64_t sl_timer_wheel_next_hint(const struct sl_timer_wheel *w);

#endif
