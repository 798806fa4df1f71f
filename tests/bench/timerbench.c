/* SPDX-License-Identifier: MIT */
/*
 * sl-timerbench: what the timer wheel (lib/timer) costs per operation, on the
 * CPU alone (no EAL, no I/O). Prints nanoseconds per arm, re-arm and cancel
 * of 1M timers spread over hours, and per advance of one tick while 100k
 * connections each hold a keepalive two hours away (the load that made the
 * one-level wheel relink every such timer once a second), and how many timers
 * the wheel moved down a level meanwhile.
 *
 * build: gcc -O2 -std=gnu11 -I. -o sl-timerbench tests/bench/timerbench.c \
 *            lib/timer/timer_wheel.c
 * usage: sl-timerbench   (from the repository root; takes a few seconds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/timer/timer_wheel.h"

#define N_TIMERS 1000000u
#define N_CONNS 100000u
#define KEEPALIVE_MS 7200000u
#define ADVANCE_MS 60000u

static struct sl_timer_wheel wheel;
static unsigned long fired;

static void
count_fire(struct sl_timer *t)
{
	(void)t;
	fired++;
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(void)
{
	struct sl_timer *t = calloc(N_TIMERS, sizeof(*t));
	uint64_t *exp = malloc(N_TIMERS * sizeof(*exp));
	double t0, t1;
	unsigned i;

	if (t == NULL || exp == NULL)
		return 1;
	for (i = 0; i < N_TIMERS; i++) {
		sl_timer_init(&t[i], count_fire);
		exp[i] = 1 + rnd() % (4 * 3600 * 1000u);
	}

	sl_timer_wheel_init(&wheel, 0);
	t0 = now_ns();
	for (i = 0; i < N_TIMERS; i++)
		sl_timer_arm(&wheel, &t[i], exp[i]);
	t1 = now_ns();
	printf("arm      %6.1f ns  (1M timers, expiries up to 4 h)\n", (t1 - t0) / N_TIMERS);
	t0 = now_ns();
	for (i = 0; i < N_TIMERS; i++)
		sl_timer_arm(&wheel, &t[i], exp[N_TIMERS - 1 - i]);
	t1 = now_ns();
	printf("re-arm   %6.1f ns\n", (t1 - t0) / N_TIMERS);
	t0 = now_ns();
	for (i = 0; i < N_TIMERS; i++)
		sl_timer_cancel(&t[i]);
	t1 = now_ns();
	printf("cancel   %6.1f ns\n", (t1 - t0) / N_TIMERS);

	/* 100k idle connections, keepalive due in two hours, and the clock ticking each ms. */
	sl_timer_wheel_init(&wheel, 0);
	for (i = 0; i < N_CONNS; i++)
		sl_timer_arm(&wheel, &t[i], KEEPALIVE_MS + rnd() % 1000);
	t0 = now_ns();
	for (i = 1; i <= ADVANCE_MS; i++)
		sl_timer_wheel_advance(&wheel, i);
	t1 = now_ns();
	printf("advance  %6.1f ns per 1 ms tick, 100k keepalives armed (%lu fired)\n",
	       (t1 - t0) / ADVANCE_MS, fired);
	/* ...and a jump of an hour in one call. */
	t0 = now_ns();
	sl_timer_wheel_advance(&wheel, ADVANCE_MS + 3600000u);
	t1 = now_ns();
	printf("jump 1 h %6.1f us in one call (%lu fired)\n", (t1 - t0) / 1e3, fired);
	/* Everything fires, one tick at a time through the second the keepalives fall in. */
	sl_timer_wheel_advance(&wheel, KEEPALIVE_MS - 10);
	t0 = now_ns();
	for (i = 0; i <= 1010; i++)
		sl_timer_wheel_advance(&wheel, KEEPALIVE_MS - 10 + i);
	t1 = now_ns();
	printf("fire     %6.1f ns per timer fired (%lu fired, %.2f moves down a level each)\n",
	       (t1 - t0) / N_CONNS, fired, (double)wheel.cascaded / N_CONNS);
	free(t);
	free(exp);
	return fired != N_CONNS;
}
