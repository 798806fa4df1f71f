/* SPDX-License-Identifier: MIT */
#ifndef SL_TIMER_WHEEL_H
#define SL_TIMER_WHEEL_H

/*
 * A per-lcore hashed timer wheel (Varghese & Lauck, scheme 6), as in the
 * Linux timer_list before it grew levels: SL_TIMER_WHEEL_SLOTS singly-linked
 * lists, a timer due at tick E sits in slot E % SLOTS whatever the number of
 * revolutions until E, and each visit of a slot fires the timers whose expire
 * has come and leaves the others for the next revolution.
 *
 *  - arm, re-arm and cancel are O(1); advancing by one tick is O(1) plus the
 *    timers in the visited slot (a timer more than one revolution away is
 *    looked at once per revolution);
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

#define SL_TIMER_WHEEL_BITS 10
#define SL_TIMER_WHEEL_SLOTS (1u << SL_TIMER_WHEEL_BITS) /* 1024, a power of two */
#define SL_TIMER_WHEEL_MASK (SL_TIMER_WHEEL_SLOTS - 1)

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
	struct sl_timer *slot[SL_TIMER_WHEEL_SLOTS];
};

/* Empty wheel whose clock starts at `now`. */
void sl_timer_wheel_init(struct sl_timer_wheel *w, uint64_t now);

/* Unarmed timer that will call `fn` when it fires. Call once before first use. */
void sl_timer_init(struct sl_timer *t, sl_timer_fn fn);

/*
 * Arm `t` to fire at `expire` (an armed timer is moved). An expire at or
 * before w->now fires on the next sl_timer_wheel_advance call, even one whose
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
 * timers armed already due first, then by expiry tick (order among timers of
 * one tick is unspecified); a callback finds in w->now the tick it fires at,
 * its expire unless it fires late. When
 * now is more than SLOTS ticks past w->now, only the last revolution is
 * walked, so the call costs at most SLOTS slot visits: timers due in that
 * revolution still fire at their tick, older ones fire late, at the visit of
 * their slot, in slot order.
 *
 * A timer is disarmed before its callback runs; callbacks may arm and cancel
 * any timer, themselves included. A timer armed from a callback fires in the
 * same call when its expire is after the tick being processed and <= now.
 * A time before w->now is taken as w->now. Not to be called from a callback.
 */
unsigned sl_timer_wheel_advance(struct sl_timer_wheel *w, uint64_t now);

/*
 * The expire of the earliest armed timer (w->now if one is already due), or
 * UINT64_MAX when none is armed. O(SLOTS + timers): for deciding how long an
 * idle loop may sleep, not for every iteration.
 */
uint64_t sl_timer_wheel_next_hint(const struct sl_timer_wheel *w);

#endif
