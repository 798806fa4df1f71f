/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/timer/timer_wheel.h"
#include "cunit_main.h"

/*
 * All tests run the wheel on a virtual clock. Timers live in `struct tt`; the
 * callbacks log (id, tick) into `fired[]` and apply the per-timer `action`.
 */

enum tt_action {
	TT_NOTHING,
	TT_PERIODIC,	 /* re-arm self at now + period */
	TT_REARM_NOW,	 /* re-arm self for the tick being processed */
	TT_CANCEL_OTHER, /* cancel `other` */
	TT_REARM_OTHER,	 /* re-arm `other` at now + period */
	TT_ARM_OTHER,	 /* arm `other` at now + period */
};

struct tt {
	int id;
	enum tt_action action;
	uint64_t period;
	struct tt *other;
	unsigned count;
	uint64_t last_tick;
	struct sl_timer timer; /* not first, so that sl_container_of has work to do */
};

struct fire {
	int id;
	uint64_t tick;
	bool armed_in_cb; /* sl_timer_armed() as seen by the callback on entry */
};

/*
 * The revolution of the one-level wheel this one replaced: the cases written
 * for it (timers sharing a slot a revolution apart) stay, as timers in
 * different levels now.
 */
#define REV 1024u
#define CATCHUP SL_TIMER_WHEEL_CATCHUP

static struct sl_timer_wheel wheel;
static struct fire fired[4096];
static unsigned n_fired;

static void
tt_fire(struct sl_timer *t)
{
	struct tt *x = sl_container_of(t, struct tt, timer);

	if (n_fired < sizeof(fired) / sizeof(fired[0]))
		fired[n_fired++] = (struct fire){x->id, wheel.now, sl_timer_armed(t)};
	x->count++;
	x->last_tick = wheel.now;
	switch (x->action) {
	case TT_NOTHING:
		break;
	case TT_PERIODIC:
		sl_timer_arm(&wheel, t, wheel.now + x->period);
		break;
	case TT_REARM_NOW:
		sl_timer_arm(&wheel, t, wheel.now);
		break;
	case TT_CANCEL_OTHER:
		sl_timer_cancel(&x->other->timer);
		break;
	case TT_REARM_OTHER:
	case TT_ARM_OTHER:
		sl_timer_arm(&wheel, &x->other->timer, wheel.now + x->period);
		break;
	}
}

static void
tt_init(struct tt *x, int id)
{
	memset(x, 0, sizeof(*x));
	x->id = id;
	sl_timer_init(&x->timer, tt_fire);
}

static void
reset(uint64_t now)
{
	sl_timer_wheel_init(&wheel, now);
	n_fired = 0;
}

static void
test_timer_fires_at_its_exact_tick(void)
{
	struct tt a;

	reset(0);
	tt_init(&a, 1);
	sl_timer_arm(&wheel, &a.timer, 5);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 4), 0);
	CU_ASSERT_EQUAL(a.count, 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 5), 1);
	CU_ASSERT_EQUAL(a.count, 1);
	CU_ASSERT_EQUAL(a.last_tick, 5);
	CU_ASSERT_FALSE(sl_timer_armed(&a.timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 100), 0);
	CU_ASSERT_EQUAL(a.count, 1);
}

static void
test_timers_fire_in_expiry_order_each_at_its_tick(void)
{
	static const uint64_t exp[] = {30, 10, 20, 10, 1023, 1, 1024, 999};
	struct tt t[8];
	unsigned i;

	reset(0);
	for (i = 0; i < 8; i++) {
		tt_init(&t[i], (int)i);
		sl_timer_arm(&wheel, &t[i].timer, exp[i]);
	}
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1000), 6);
	CU_ASSERT_EQUAL(n_fired, 6);
	for (i = 0; i < n_fired; i++) {
		CU_ASSERT_EQUAL(fired[i].tick, exp[fired[i].id]);
		if (i > 0)
			CU_ASSERT(fired[i - 1].tick <= fired[i].tick);
	}
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1024), 2);
	CU_ASSERT_EQUAL(t[4].last_tick, 1023);
	CU_ASSERT_EQUAL(t[6].last_tick, 1024);
}

static void
test_timer_is_disarmed_when_its_callback_runs(void)
{
	struct tt a;

	reset(0);
	tt_init(&a, 1);
	CU_ASSERT_FALSE(sl_timer_armed(&a.timer));
	sl_timer_arm(&wheel, &a.timer, 3);
	CU_ASSERT_TRUE(sl_timer_armed(&a.timer));
	sl_timer_wheel_advance(&wheel, 3);
	CU_ASSERT_EQUAL(n_fired, 1);
	CU_ASSERT_FALSE(fired[0].armed_in_cb);
	CU_ASSERT_FALSE(sl_timer_armed(&a.timer));
}

static void
test_timer_cancelled_does_not_fire(void)
{
	struct tt a, b, c;

	reset(0);
	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&c, 3);
	/* Same slot: cancelling the one in the middle of the list keeps the others. */
	sl_timer_arm(&wheel, &a.timer, 10);
	sl_timer_arm(&wheel, &b.timer, 10);
	sl_timer_arm(&wheel, &c.timer, 10 + REV);
	sl_timer_cancel(&b.timer);
	CU_ASSERT_FALSE(sl_timer_armed(&b.timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 10 + REV), 2);
	CU_ASSERT_EQUAL(a.count, 1);
	CU_ASSERT_EQUAL(b.count, 0);
	CU_ASSERT_EQUAL(c.count, 1);
}

static void
test_timer_cancel_of_unarmed_or_fired_timer_is_harmless(void)
{
	struct tt a;

	reset(0);
	tt_init(&a, 1);
	sl_timer_cancel(&a.timer);
	sl_timer_cancel(&a.timer);
	sl_timer_arm(&wheel, &a.timer, 1);
	sl_timer_cancel(&a.timer);
	sl_timer_cancel(&a.timer);
	sl_timer_arm(&wheel, &a.timer, 2);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 2), 1);
	sl_timer_cancel(&a.timer);
	CU_ASSERT_FALSE(sl_timer_armed(&a.timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 5000), 0);
	CU_ASSERT_EQUAL(a.count, 1);
}

static void
test_timer_rearm_moves_it_later_or_earlier(void)
{
	struct tt a, b;

	reset(0);
	tt_init(&a, 1);
	tt_init(&b, 2);
	sl_timer_arm(&wheel, &a.timer, 10);
	sl_timer_arm(&wheel, &a.timer, 20);
	sl_timer_arm(&wheel, &b.timer, 500);
	sl_timer_arm(&wheel, &b.timer, 7);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 15), 1);
	CU_ASSERT_EQUAL(b.last_tick, 7);
	CU_ASSERT_EQUAL(a.count, 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 20), 1);
	CU_ASSERT_EQUAL(a.last_tick, 20);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 600), 0);
	CU_ASSERT_EQUAL(b.count, 1);
}

static void
test_timer_expired_in_the_past_fires_on_next_advance_even_without_time_moving(void)
{
	struct tt a, b;

	reset(100);
	tt_init(&a, 1);
	tt_init(&b, 2);
	sl_timer_arm(&wheel, &a.timer, 50);
	sl_timer_arm(&wheel, &b.timer, 100);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), 100);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 100), 2);
	CU_ASSERT_EQUAL(a.count, 1);
	CU_ASSERT_EQUAL(b.count, 1);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 100), 0);
}

static void
test_timer_expired_in_the_past_fires_before_timers_due_later(void)
{
	struct tt a, b;

	reset(100);
	tt_init(&a, 1);
	tt_init(&b, 2);
	sl_timer_arm(&wheel, &b.timer, 101);
	sl_timer_arm(&wheel, &a.timer, 3);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 200), 2);
	CU_ASSERT_EQUAL(fired[0].id, 1);
	CU_ASSERT_EQUAL(fired[0].tick, 100);
	CU_ASSERT_EQUAL(fired[1].id, 2);
	CU_ASSERT_EQUAL(fired[1].tick, 101);
}

static void
test_timer_armed_in_callback_fires_in_same_advance_at_its_tick(void)
{
	struct tt a, b;

	reset(0);
	tt_init(&a, 1);
	tt_init(&b, 2);
	a.action = TT_ARM_OTHER;
	a.other = &b;
	a.period = 5;
	sl_timer_arm(&wheel, &a.timer, 10);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 20), 2);
	CU_ASSERT_EQUAL(a.last_tick, 10);
	CU_ASSERT_EQUAL(b.last_tick, 15);
}

static void
test_timer_armed_in_callback_for_next_tick_fires_next_tick(void)
{
	struct tt a;

	reset(0);
	tt_init(&a, 1);
	a.action = TT_PERIODIC;
	a.period = 1;
	sl_timer_arm(&wheel, &a.timer, 1);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1), 1);
	CU_ASSERT_TRUE(sl_timer_armed(&a.timer));
	CU_ASSERT_EQUAL(a.timer.expire, 2);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 2), 1);
	CU_ASSERT_EQUAL(a.last_tick, 2);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 2), 0);
}

static void
test_timer_periodic_rearming_itself_fires_every_period(void)
{
	struct tt a;
	uint64_t now;
	unsigned total = 0;
	unsigned i;

	reset(0);
	tt_init(&a, 1);
	a.action = TT_PERIODIC;
	a.period = 7;
	sl_timer_arm(&wheel, &a.timer, 7);
	/* One tick at a time... */
	for (now = 1; now <= 100; now++)
		total += sl_timer_wheel_advance(&wheel, now);
	CU_ASSERT_EQUAL(total, 14);
	for (i = 0; i < n_fired; i++)
		CU_ASSERT_EQUAL(fired[i].tick, 7 * (i + 1));
	/* ...or many periods in one call: each firing lands inside the walk. */
	n_fired = 0;
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1000), 128);
	for (i = 0; i < n_fired; i++)
		CU_ASSERT_EQUAL(fired[i].tick, 105 + 7 * i);
	CU_ASSERT_EQUAL(a.timer.expire, 1001);
}

static void
test_timer_rearmed_for_current_tick_in_callback_fires_on_next_advance_not_in_a_loop(void)
{
	struct tt a;

	reset(0);
	tt_init(&a, 1);
	a.action = TT_REARM_NOW;
	sl_timer_arm(&wheel, &a.timer, 10);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 50), 1);
	CU_ASSERT_EQUAL(a.last_tick, 10);
	CU_ASSERT_TRUE(sl_timer_armed(&a.timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 50), 1);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 50), 1);
	CU_ASSERT_EQUAL(a.count, 3);
	sl_timer_cancel(&a.timer);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 60), 0);
}

static void
test_timer_cancelling_another_timer_of_the_same_tick_from_callback_stops_it(void)
{
	struct tt a, b;

	reset(0);
	tt_init(&a, 1);
	tt_init(&b, 2);
	a.action = TT_CANCEL_OTHER;
	a.other = &b;
	b.action = TT_CANCEL_OTHER;
	b.other = &a;
	sl_timer_arm(&wheel, &a.timer, 10);
	sl_timer_arm(&wheel, &b.timer, 10);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 10), 1);
	CU_ASSERT_EQUAL(a.count + b.count, 1);
	CU_ASSERT_FALSE(sl_timer_armed(&a.timer));
	CU_ASSERT_FALSE(sl_timer_armed(&b.timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 5000), 0);
}

static void
test_timer_cancelling_a_far_timer_of_the_same_slot_from_callback_stops_it(void)
{
	struct tt a, far, c;

	reset(0);
	tt_init(&a, 1);
	tt_init(&far, 2);
	tt_init(&c, 3);
	a.action = TT_CANCEL_OTHER;
	a.other = &far;
	/* `far` is pending in the spliced list while a's callback runs. */
	sl_timer_arm(&wheel, &far.timer, 10 + 3 * REV);
	sl_timer_arm(&wheel, &c.timer, 10 + REV);
	sl_timer_arm(&wheel, &a.timer, 10);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 10), 1);
	CU_ASSERT_FALSE(sl_timer_armed(&far.timer));
	CU_ASSERT_TRUE(sl_timer_armed(&c.timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 10 + REV), 1);
	CU_ASSERT_EQUAL(c.last_tick, 10 + REV);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 10 + 4 * REV), 0);
	CU_ASSERT_EQUAL(far.count, 0);
}

static void
test_timer_rearming_another_timer_of_the_same_tick_from_callback_delays_it(void)
{
	struct tt a, b;

	reset(0);
	tt_init(&a, 1);
	tt_init(&b, 2);
	a.action = TT_REARM_OTHER;
	a.other = &b;
	a.period = 2;
	b.action = TT_REARM_OTHER;
	b.other = &a;
	b.period = 2;
	sl_timer_arm(&wheel, &a.timer, 10);
	sl_timer_arm(&wheel, &b.timer, 10);
	/* The first to fire pushes the other to tick 12, which then pushes nobody pending. */
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 11), 1);
	CU_ASSERT_EQUAL(n_fired, 1);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 12), 1);
	CU_ASSERT_EQUAL(fired[1].tick, 12);
	CU_ASSERT_NOT_EQUAL(fired[0].id, fired[1].id);
	/* ...and that one armed the first again for 14. */
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 14), 1);
	CU_ASSERT_EQUAL(fired[2].id, fired[0].id);
	CU_ASSERT_EQUAL(fired[2].tick, 14);
}

static void
test_timer_far_future_fires_after_several_revolutions_at_its_tick(void)
{
	struct tt t[4];
	uint64_t now;
	unsigned i;

	reset(0);
	for (i = 0; i < 4; i++) {
		tt_init(&t[i], (int)i);
		sl_timer_arm(&wheel, &t[i].timer, 7 + (4 - i) * REV);
	}
	for (now = 0; now <= 6 * REV; now += 13)
		sl_timer_wheel_advance(&wheel, now);
	CU_ASSERT_EQUAL(n_fired, 4);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(t[i].count, 1);
		CU_ASSERT_EQUAL(t[i].last_tick, t[i].timer.expire);
		CU_ASSERT_EQUAL(fired[i].id, 3 - (int)i);
	}
}

static void
test_timer_large_jump_fires_every_due_timer_and_keeps_the_rest(void)
{
	struct tt t[6];
	static const uint64_t exp[] = {5, 500, 1500, 1000003, 1000010, 1005000};
	unsigned i;

	reset(0);
	for (i = 0; i < 6; i++) {
		tt_init(&t[i], (int)i);
		sl_timer_arm(&wheel, &t[i].timer, exp[i]);
	}
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1000010), 5);
	CU_ASSERT_EQUAL(wheel.now, 1000010);
	/* Due more than CATCHUP before the end of the jump: at the catch-up tick, in order. */
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(fired[i].id, (int)i);
		CU_ASSERT_EQUAL(fired[i].tick, 1000010 - CATCHUP);
	}
	/* Due within the last CATCHUP ticks: at their own tick. */
	CU_ASSERT_EQUAL(t[3].last_tick, 1000003);
	CU_ASSERT_EQUAL(t[4].last_tick, 1000010);
	CU_ASSERT_TRUE(sl_timer_armed(&t[5].timer));
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), 1005000);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1004999), 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 1005000), 1);
	CU_ASSERT_EQUAL(t[5].last_tick, 1005000);
}

static void
test_timer_jump_up_to_catchup_fires_every_timer_at_its_tick_in_order(void)
{
	static const uint64_t exp[] = {CATCHUP, 7,    1,   64,	  63,	       65,	   4095,
				       4096,	4097, 500, 12288, CATCHUP - 1, CATCHUP + 1};
	struct tt t[13];
	unsigned i;

	reset(0);
	for (i = 0; i < 13; i++) {
		tt_init(&t[i], (int)i);
		sl_timer_arm(&wheel, &t[i].timer, exp[i]);
	}
	/* One call of exactly CATCHUP ticks: nothing is late. */
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, CATCHUP), 12);
	CU_ASSERT_EQUAL(n_fired, 12);
	for (i = 0; i < n_fired; i++) {
		CU_ASSERT_EQUAL(fired[i].tick, exp[fired[i].id]);
		if (i > 0)
			CU_ASSERT(fired[i - 1].tick < fired[i].tick);
	}
	CU_ASSERT_EQUAL(t[12].count, 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), CATCHUP + 1);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, CATCHUP + 1), 1);
	CU_ASSERT_EQUAL(t[12].last_tick, CATCHUP + 1);
}

/*
 * Timers just before, at and after the first tick of a slot of each level,
 * from clocks that sit at, before and after such boundaries themselves: the
 * clock stops one tick before each expiry (nothing fires) and then on it
 * (exactly its timers fire, at that tick).
 */
static void
test_timer_fires_exactly_at_level_boundaries_from_any_clock(void)
{
	static const uint64_t starts[] = {
	    0, 1, 63, 64, 4095, 4096, 262143, 262144, 262145, 1000000, (UINT64_C(1) << 40) - 3};
	/* clang-format off */
	static const uint64_t offs[] = {
		1, 2, 62, 63, 64, 65, 127, 128, 4031, 4032, 4095, 4096, 4097, 8191,
		262143, 262144, 262145, 1u << 24, (1u << 24) + 1, (UINT64_C(1) << 30) - 1,
		(UINT64_C(1) << 36) + 1,
	};
	/* clang-format on */
	enum { N_OFFS = sizeof(offs) / sizeof(offs[0]) };
	static struct tt t[N_OFFS];
	uint64_t start, e;
	unsigned i, j, k, due;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		start = starts[i];
		reset(start);
		for (j = 0; j < N_OFFS; j++) {
			tt_init(&t[j], (int)j);
			sl_timer_arm(&wheel, &t[j].timer, start + offs[j]);
		}
		for (j = 0; j < N_OFFS; j++) {
			e = start + offs[j];
			n_fired = 0;
			CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), e);
			CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, e - 1), 0);
			due = 0;
			for (k = 0; k < N_OFFS; k++)
				due += start + offs[k] == e;
			CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, e), due);
			CU_ASSERT_EQUAL(t[j].count, 1);
			CU_ASSERT_EQUAL(t[j].last_tick, e);
		}
		CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), UINT64_MAX);
		/* Each timer moved down at most once per level below the one it started in. */
		CU_ASSERT(wheel.cascaded <= 6 * N_OFFS);
	}
}

/*
 * Connection timers hours and days away (ms ticks) fire at their tick while
 * the clock moves in small and large steps; each moves down a few times in
 * all, not once per second as with one level of 1,024 ms.
 */
static void
test_timer_hours_away_fire_at_their_tick_after_few_moves(void)
{
	static const uint64_t exp[] = {
	    2 * 3600 * 1000u,			     /* keepalive */
	    2 * 3600 * 1000u + 75000,		     /* and its first probe */
	    60000,				     /* TIME-WAIT */
	    (uint64_t)5 * 3600 * 1000,		     /* 5 h, level 4 */
	    (uint64_t)24 * 3600 * 1000 + 1,	     /* a day */
	    (uint64_t)30 * 24 * 3600 * 1000 + 12345, /* a month */
	};
	enum { N = sizeof(exp) / sizeof(exp[0]) };
	struct tt t[N];
	uint64_t now = 0, step;
	unsigned i, calls = 0;

	reset(0);
	for (i = 0; i < N; i++) {
		tt_init(&t[i], (int)i);
		sl_timer_arm(&wheel, &t[i].timer, exp[i]);
	}
	/* 1 ms steps for the first 10 s: no timer moves. */
	for (now = 1; now <= 10000; now++)
		CU_ASSERT_EQUAL_FATAL(sl_timer_wheel_advance(&wheel, now), 0);
	CU_ASSERT_EQUAL(wheel.cascaded, 0);
	while (now < exp[N - 1] + 10) {
		step = calls % 3 == 0 ? 1 + calls % 997 : CATCHUP - calls % 5;
		now += step;
		sl_timer_wheel_advance(&wheel, now);
		calls++;
	}
	for (i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(t[i].count, 1);
		CU_ASSERT_EQUAL(t[i].last_tick, exp[i]);
	}
	/* 2 h from 0 is level 3, a month level 5: at most 3 and 5 moves. */
	CU_ASSERT(wheel.cascaded <= 2 + 3 + 3 + 4 + 4 + 5);
}

static void
test_timer_huge_jump_costs_the_timers_it_passes_not_the_ticks(void)
{
	struct tt a, b;
	uint64_t far = UINT64_C(1) << 50;

	reset(0);
	tt_init(&a, 1);
	tt_init(&b, 2);
	a.action = TT_PERIODIC;
	a.period = 1000;
	sl_timer_arm(&wheel, &a.timer, 10);
	sl_timer_arm(&wheel, &b.timer, far + 5);
	/*
	 * 2^50 ticks one by one would never end, nor would a timer re-arming
	 * itself relative to w->now every 1000 ticks: it fires late once, at
	 * far - CATCHUP, then every 1000 ticks of the last CATCHUP.
	 */
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, far), 1 + CATCHUP / 1000);
	CU_ASSERT_EQUAL(fired[0].tick, far - CATCHUP);
	CU_ASSERT_EQUAL(a.last_tick, far - CATCHUP + 1000 * (CATCHUP / 1000));
	CU_ASSERT_EQUAL(b.count, 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, far + 4), 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, far + 5), 1);
	CU_ASSERT_EQUAL(b.last_tick, far + 5);
}

static void
test_timer_clock_going_backwards_is_ignored(void)
{
	struct tt a;

	reset(50);
	tt_init(&a, 1);
	sl_timer_arm(&wheel, &a.timer, 55);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 40), 0);
	CU_ASSERT_EQUAL(wheel.now, 50);
	CU_ASSERT_EQUAL(sl_timer_wheel_advance(&wheel, 55), 1);
}

static void
test_timer_next_hint_returns_earliest_expire(void)
{
	struct tt a, b, c;

	reset(1000);
	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&c, 3);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), UINT64_MAX);
	sl_timer_arm(&wheel, &a.timer, 1000 + 5 * REV);
	sl_timer_arm(&wheel, &b.timer, 1000 + 3 * REV + 1);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), 1000 + 3 * REV + 1);
	/* Same slot as b, sooner. */
	sl_timer_arm(&wheel, &c.timer, 1001);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), 1001);
	sl_timer_arm(&wheel, &c.timer, 999);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), 1000);
	sl_timer_cancel(&c.timer);
	sl_timer_cancel(&b.timer);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), 1000 + 5 * REV);
}

/*
 * Stress against a reference model: a binary min-heap of (expire, arming) with
 * lazy deletion. Every arming has a state; after each advance every arming the
 * heap says was due must have fired or been cancelled, and the callback checks
 * that what fires was armed, is due, and fires at its exact tick unless it was
 * late (armed in the past, or left more than CATCHUP behind by a jump).
 */

#define STRESS_TIMERS 100000
#define STRESS_CALLS 20000

enum { ARMING_ARMED = 1, ARMING_CANCELLED, ARMING_FIRED };

struct st {
	struct sl_timer timer;
	uint32_t id;
	uint32_t arming; /* index into st_state of the current arming, 0 when unarmed */
};

struct heap_ent {
	uint64_t expire;
	uint32_t arming;
};

static struct {
	struct st *timers;
	uint8_t *state;
	uint64_t *expire;
	uint32_t n_armings, cap_armings;
	struct heap_ent *heap;
	uint32_t n_heap, cap_heap;
	uint64_t rng;
	uint64_t prev_now, target;
	unsigned fired_in_call;
	unsigned errors;
	bool draining; /* callbacks arm nothing */
} S;

static uint64_t
rnd(void)
{
	S.rng ^= S.rng << 13;
	S.rng ^= S.rng >> 7;
	S.rng ^= S.rng << 17;
	return S.rng;
}

static void
heap_push(uint64_t expire, uint32_t arming)
{
	uint32_t i, p;

	if (S.n_heap == S.cap_heap) {
		S.cap_heap *= 2;
		S.heap = realloc(S.heap, S.cap_heap * sizeof(*S.heap));
	}
	i = S.n_heap++;
	while (i > 0 && S.heap[p = (i - 1) / 2].expire > expire) {
		S.heap[i] = S.heap[p];
		i = p;
	}
	S.heap[i] = (struct heap_ent){expire, arming};
}

static struct heap_ent
heap_pop(void)
{
	struct heap_ent top = S.heap[0], last = S.heap[--S.n_heap];
	uint32_t i = 0, c;

	while ((c = 2 * i + 1) < S.n_heap) {
		if (c + 1 < S.n_heap && S.heap[c + 1].expire < S.heap[c].expire)
			c++;
		if (S.heap[c].expire >= last.expire)
			break;
		S.heap[i] = S.heap[c];
		i = c;
	}
	S.heap[i] = last;
	return top;
}

static void
st_arm(struct st *x, uint64_t expire)
{
	if (x->arming != 0 && S.state[x->arming] == ARMING_ARMED)
		S.state[x->arming] = ARMING_CANCELLED;
	if (S.n_armings == S.cap_armings) {
		S.cap_armings *= 2;
		S.state = realloc(S.state, S.cap_armings);
		S.expire = realloc(S.expire, S.cap_armings * sizeof(*S.expire));
	}
	x->arming = S.n_armings++;
	S.state[x->arming] = ARMING_ARMED;
	S.expire[x->arming] = expire;
	heap_push(expire, x->arming);
	sl_timer_arm(&wheel, &x->timer, expire);
}

static void
st_cancel(struct st *x)
{
	if (x->arming != 0 && S.state[x->arming] == ARMING_ARMED)
		S.state[x->arming] = ARMING_CANCELLED;
	x->arming = 0;
	sl_timer_cancel(&x->timer);
}

static void
st_fire(struct sl_timer *t)
{
	struct st *x = sl_container_of(t, struct st, timer);
	uint64_t exp;
	uint64_t r;
	bool at_tick;

	S.fired_in_call++;
	if (x->arming == 0 || S.state[x->arming] != ARMING_ARMED) {
		S.errors++;
		return;
	}
	exp = S.expire[x->arming];
	/*
	 * Exact: at its own tick, but for a timer armed in the past (at the
	 * clock of the call) and one left more than CATCHUP behind by a jump (at
	 * the catch-up tick).
	 */
	if (exp <= S.prev_now)
		at_tick = wheel.now == S.prev_now;
	else if (S.target - S.prev_now > CATCHUP && exp <= S.target - CATCHUP)
		at_tick = wheel.now == S.target - CATCHUP;
	else
		at_tick = wheel.now == exp;
	if (exp > S.target || exp != t->expire || !at_tick)
		S.errors++;
	S.state[x->arming] = ARMING_FIRED;
	x->arming = 0;

	r = S.draining ? 15 : rnd() % 16;
	if (r < 4)
		st_arm(x, wheel.now + 1 + rnd() % 3000);
	else if (r == 4)
		st_cancel(&S.timers[rnd() % STRESS_TIMERS]);
	else if (r == 5)
		st_arm(&S.timers[rnd() % STRESS_TIMERS], wheel.now + 1 + rnd() % 50);
}

static void
test_timer_100k_random_timers_match_reference_model(void)
{
	struct heap_ent e;
	uint64_t now = 0, step;
	unsigned expected, i, checked = 0, calls = 0, total_fired = 0;
	uint64_t r;

	memset(&S, 0, sizeof(S));
	S.rng = 0x9e3779b97f4a7c15ULL;
	S.cap_armings = 4 * STRESS_TIMERS;
	S.state = malloc(S.cap_armings);
	S.expire = malloc(S.cap_armings * sizeof(*S.expire));
	S.cap_heap = 4 * STRESS_TIMERS;
	S.heap = malloc(S.cap_heap * sizeof(*S.heap));
	S.timers = calloc(STRESS_TIMERS, sizeof(*S.timers));
	S.n_armings = 1; /* arming 0 means "none" */
	reset(now);
	for (i = 0; i < STRESS_TIMERS; i++) {
		S.timers[i].id = i;
		sl_timer_init(&S.timers[i].timer, st_fire);
		r = rnd() % 100;
		if (r < 90)
			st_arm(&S.timers[i], rnd() % 5000);
		else if (r < 98)
			st_arm(&S.timers[i], rnd() % 40000);
		/* the rest stay unarmed until the loop picks them */
	}

	while (calls < STRESS_CALLS) {
		/* Outside callbacks: re-arm (sometimes in the past) and cancel at random. */
		for (i = 0; i < 20; i++) {
			struct st *x = &S.timers[rnd() % STRESS_TIMERS];

			r = rnd() % 10;
			if (r < 6)
				st_arm(x, now + rnd() % 4000);
			else if (r < 7)
				st_arm(x, now > 20 ? now - rnd() % 20 : 0);
			else if (r < 8)
				st_arm(x, now + 2000 + rnd() % 20000);
			else
				st_cancel(x);
		}
		r = rnd() % 1000;
		if (r == 0)
			step = 2000 + rnd() % 5000; /* several of the old wheel's revolutions */
		else if (r == 1)
			step = CATCHUP + rnd() % 100000; /* beyond the catch-up: some fire late */
		else if (r < 10)
			step = 0;
		else
			step = 1 + rnd() % 20;

		S.prev_now = wheel.now;
		S.target = now + step;
		S.fired_in_call = 0;
		expected = sl_timer_wheel_advance(&wheel, now + step);
		now += step;
		calls++;
		CU_ASSERT_EQUAL_FATAL(expected, S.fired_in_call);
		total_fired += expected;
		CU_ASSERT_EQUAL_FATAL(wheel.now, now);
		while (S.n_heap > 0 && S.heap[0].expire <= now) {
			e = heap_pop();
			if (S.state[e.arming] == ARMING_ARMED)
				S.errors++;
			checked++;
		}
		CU_ASSERT_EQUAL_FATAL(S.errors, 0);
	}
	/* Drain: everything still armed fires, and then the wheel is empty. */
	S.prev_now = wheel.now;
	S.target = UINT64_MAX / 2;
	S.draining = true;
	sl_timer_wheel_advance(&wheel, UINT64_MAX / 2);
	for (i = 1; i < S.n_armings; i++)
		if (S.state[i] == ARMING_ARMED)
			S.errors++;
	CU_ASSERT_EQUAL(S.errors, 0);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), UINT64_MAX);
	CU_ASSERT(total_fired > STRESS_TIMERS);
	CU_ASSERT(checked > STRESS_TIMERS);
	free(S.state);
	free(S.expire);
	free(S.heap);
	free(S.timers);
}

/*
 * A million timers over 2^24 ms (4.7 hours), half of them cancelled at random
 * (a quarter before the clock moves, a quarter while it does); the clock
 * moves one tick at a time for 20 s, then in steps up to 3 x CATCHUP. Every
 * timer not cancelled fires exactly once, at its tick (or at the catch-up
 * tick of a longer jump), in expiry order; none cancelled fires; and the
 * wheel moved each timer down at most 3 times (2^24 ticks from 0 is level 3):
 * the work per timer does not grow with how long it waited.
 */
#define MILLION 1000000u
#define MILLION_RANGE (1u << 24)

enum { MT_ARMED = 1, MT_CANCELLED, MT_FIRED };

struct mt {
	struct sl_timer timer;
	uint8_t state;
};

static struct {
	struct mt *t;
	uint64_t prev_now, target, last_tick, last_expire;
	unsigned errors, fired;
} M;

static void
mt_fire(struct sl_timer *t)
{
	struct mt *x = sl_container_of(t, struct mt, timer);
	uint64_t want = t->expire;

	if (M.target - M.prev_now > CATCHUP && want <= M.target - CATCHUP)
		want = M.target - CATCHUP;
	if (x->state != MT_ARMED || wheel.now != want || wheel.now < M.last_tick ||
	    t->expire < M.last_expire)
		M.errors++;
	M.last_tick = wheel.now;
	M.last_expire = t->expire;
	x->state = MT_FIRED;
	M.fired++;
}

static void
mt_advance(uint64_t now)
{
	unsigned n;

	M.prev_now = wheel.now;
	M.target = now;
	n = M.fired;
	CU_ASSERT_EQUAL_FATAL(sl_timer_wheel_advance(&wheel, now), M.fired - n);
	CU_ASSERT_EQUAL_FATAL(M.errors, 0);
}

static void
test_timer_million_timers_fire_once_at_their_tick_with_bounded_work(void)
{
	uint32_t *order = malloc(MILLION * sizeof(*order));
	unsigned i, j, tmp, next_cancel = MILLION / 4, cancelled = 0, calls = 0;
	uint64_t now = 0, step, r;

	memset(&M, 0, sizeof(M));
	M.t = calloc(MILLION, sizeof(*M.t));
	CU_ASSERT_FATAL(M.t != NULL && order != NULL);
	S.rng = 0x853c49e6748fea9bULL;
	reset(0);
	for (i = 0; i < MILLION; i++) {
		sl_timer_init(&M.t[i].timer, mt_fire);
		M.t[i].state = MT_ARMED;
		sl_timer_arm(&wheel, &M.t[i].timer, 1 + rnd() % MILLION_RANGE);
		order[i] = i;
	}
	for (i = MILLION - 1; i > 0; i--) {
		j = (unsigned)(rnd() % (i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < MILLION / 4; i++) {
		sl_timer_cancel(&M.t[order[i]].timer);
		M.t[order[i]].state = MT_CANCELLED;
		cancelled++;
	}
	for (now = 1; now <= 20000; now++)
		mt_advance(now);
	now--;
	while (now < MILLION_RANGE) {
		r = rnd();
		step = r % 4 == 0 ? 1 + (r >> 8) % (3 * CATCHUP) : 1 + (r >> 8) % CATCHUP;
		now += step;
		mt_advance(now);
		calls++;
		/* The second quarter, cancelled while the clock runs: those not fired yet. */
		for (i = 0; i < 2000 && next_cancel < MILLION / 2; i++, next_cancel++) {
			struct mt *x = &M.t[order[next_cancel]];

			if (x->state == MT_ARMED) {
				sl_timer_cancel(&x->timer);
				x->state = MT_CANCELLED;
				cancelled++;
			}
		}
	}
	CU_ASSERT_EQUAL(next_cancel, MILLION / 2);
	CU_ASSERT_EQUAL(sl_timer_wheel_next_hint(&wheel), UINT64_MAX);
	for (i = 0, j = 0; i < MILLION; i++) {
		CU_ASSERT_FATAL(M.t[i].state == MT_FIRED || M.t[i].state == MT_CANCELLED);
		j += M.t[i].state == MT_FIRED;
	}
	CU_ASSERT_EQUAL(j, M.fired);
	CU_ASSERT_EQUAL(M.fired + cancelled, MILLION);
	CU_ASSERT(cancelled > MILLION / 2 - MILLION / 20);
	/* One level of 1,024 ticks would have relinked them ~8,000 times each. */
	CU_ASSERT(wheel.cascaded <= 3 * (uint64_t)MILLION);
	CU_ASSERT(calls > 100);
	free(order);
	free(M.t);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_timer_fires_at_its_exact_tick),
	    T(test_timers_fire_in_expiry_order_each_at_its_tick),
	    T(test_timer_is_disarmed_when_its_callback_runs),
	    T(test_timer_cancelled_does_not_fire),
	    T(test_timer_cancel_of_unarmed_or_fired_timer_is_harmless),
	    T(test_timer_rearm_moves_it_later_or_earlier),
	    T(test_timer_expired_in_the_past_fires_on_next_advance_even_without_time_moving),
	    T(test_timer_expired_in_the_past_fires_before_timers_due_later),
	    T(test_timer_armed_in_callback_fires_in_same_advance_at_its_tick),
	    T(test_timer_armed_in_callback_for_next_tick_fires_next_tick),
	    T(test_timer_periodic_rearming_itself_fires_every_period),
	    T(test_timer_rearmed_for_current_tick_in_callback_fires_on_next_advance_not_in_a_loop),
	    T(test_timer_cancelling_another_timer_of_the_same_tick_from_callback_stops_it),
	    T(test_timer_cancelling_a_far_timer_of_the_same_slot_from_callback_stops_it),
	    T(test_timer_rearming_another_timer_of_the_same_tick_from_callback_delays_it),
	    T(test_timer_far_future_fires_after_several_revolutions_at_its_tick),
	    T(test_timer_large_jump_fires_every_due_timer_and_keeps_the_rest),
	    T(test_timer_jump_up_to_catchup_fires_every_timer_at_its_tick_in_order),
	    T(test_timer_fires_exactly_at_level_boundaries_from_any_clock),
	    T(test_timer_hours_away_fire_at_their_tick_after_few_moves),
	    T(test_timer_huge_jump_costs_the_timers_it_passes_not_the_ticks),
	    T(test_timer_clock_going_backwards_is_ignored),
	    T(test_timer_next_hint_returns_earliest_expire),
	    T(test_timer_100k_random_timers_match_reference_model),
	    T(test_timer_million_timers_fire_once_at_their_tick_with_bounded_work),
#undef T
	};

	return SL_UNIT_RUN("timer_wheel", tests);
}
