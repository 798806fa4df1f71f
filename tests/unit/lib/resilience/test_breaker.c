/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <string.h>

#include "lib/resilience/breaker.h"
#include "resil_test.h"

static struct sl_breaker_cfg
seed_cfg(void)
{
	/* The Terraster seed: circuit_breaker: {threshold: 5, timeout: 60s}. */
	struct sl_config_circuit_breaker c = {.enabled = true, .threshold = 5, .timeout_ms = 60000};
	struct sl_breaker_cfg cfg;

	sl_breaker_cfg_from_config(&cfg, &c);
	return cfg;
}

/* Send one request at `now` and report its outcome; returns the report's transition. */
static enum sl_breaker_transition
exchange(struct sl_breaker *b, uint64_t now, bool failure, bool *allowed)
{
	struct sl_breaker_ticket tk;

	*allowed = sl_breaker_allow(b, now, &tk, NULL);
	if (!*allowed)
		return SL_BREAKER_T_NONE;
	return sl_breaker_report(b, &tk, failure, now);
}

/* lib/config's keys land in the breaker's settings; zeros (an old caller) take the defaults. */
static void
test_config_keys_map_to_settings(void)
{
	struct sl_config_circuit_breaker c = {.enabled = true,
					      .threshold = 3,
					      .timeout_ms = 2000,
					      .half_open_requests = 4,
					      .half_open_successes = 2,
					      .error_ratio = 50,
					      .window_ms = 30000,
					      .min_requests = 7};
	struct sl_breaker_cfg cfg;

	sl_breaker_cfg_from_config(&cfg, &c);
	CU_ASSERT_EQUAL(cfg.half_open_max, 4);
	CU_ASSERT_EQUAL(cfg.half_open_successes, 2);
	CU_ASSERT_EQUAL(cfg.ratio_pct, 50);
	CU_ASSERT_EQUAL(cfg.window_us, SEC(30));
	CU_ASSERT_EQUAL(cfg.min_requests, 7);
	cfg = seed_cfg();
	CU_ASSERT_EQUAL(cfg.half_open_max, SL_BREAKER_DEFAULT_HALF_OPEN_MAX);
	CU_ASSERT_EQUAL(cfg.half_open_successes, SL_BREAKER_DEFAULT_HALF_OPEN_SUCCESSES);
	CU_ASSERT_EQUAL(cfg.window_us, SL_BREAKER_DEFAULT_WINDOW_US);
	CU_ASSERT_EQUAL(cfg.min_requests, SL_BREAKER_DEFAULT_MIN_REQUESTS);
}

static void
test_seed_five_failures_open_the_circuit_for_60s(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	struct sl_breaker_ticket tk;
	enum sl_breaker_transition t;
	bool ok;

	CU_ASSERT_EQUAL(cfg.threshold, 5);
	CU_ASSERT_EQUAL(cfg.open_us, SEC(60));
	CU_ASSERT_EQUAL(cfg.ratio_pct, 0);
	sl_breaker_init(&b, &cfg, 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(exchange(&b, SEC(1) + i, true, &ok), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	CU_ASSERT_EQUAL(exchange(&b, SEC(2), true, &ok), SL_BREAKER_T_OPENED);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_OPEN);
	/* No request at all while open, up to the last microsecond. */
	CU_ASSERT_FALSE(sl_breaker_allow(&b, SEC(2), &tk, NULL));
	CU_ASSERT_FALSE(sl_breaker_allow(&b, SEC(62) - 1, &tk, &t));
	CU_ASSERT_EQUAL(t, SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(62) - 1), SL_BREAKER_T_NONE);
	/* At 60 s the next request is a half-open probe, and its success closes. */
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(62), &tk, &t));
	CU_ASSERT_EQUAL(t, SL_BREAKER_T_HALF_OPENED);
	CU_ASSERT_TRUE(tk.probe);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_HALF_OPEN);
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk, false, SEC(62)), SL_BREAKER_T_CLOSED);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	CU_ASSERT_EQUAL(sl_breaker_transitions(&b), 3);
	/* Closed again with a fresh count: four failures do not open it. */
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(exchange(&b, SEC(63), true, &ok), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
}

static void
test_success_resets_the_consecutive_count(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	bool ok;

	sl_breaker_init(&b, &cfg, 0);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 4; i++)
			exchange(&b, SEC(1), true, &ok);
		exchange(&b, SEC(1), false, &ok);
	}
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
}

static void
open_it(struct sl_breaker *b, uint64_t now)
{
	bool ok;

	for (uint32_t i = 0; i < b->cfg.threshold; i++)
		exchange(b, now, true, &ok);
	CU_ASSERT_EQUAL_FATAL(sl_breaker_state(b), SL_BREAKER_OPEN);
}

static void
test_half_open_admits_a_bounded_number_of_probes(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	struct sl_breaker_ticket tk[5];

	sl_breaker_init(&b, &cfg, 0);
	open_it(&b, SEC(1));
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(61)), SL_BREAKER_T_HALF_OPENED);
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(61)), SL_BREAKER_T_NONE);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(61), &tk[i], NULL));
	CU_ASSERT_FALSE(sl_breaker_allow(&b, SEC(61), &tk[3], NULL));
	CU_ASSERT_FALSE(sl_breaker_allow(&b, SEC(70), &tk[4], NULL));
	/* The first probe's success closes; the others' verdicts belong to the past epoch. */
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk[1], false, SEC(62)), SL_BREAKER_T_CLOSED);
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk[0], true, SEC(62)), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
}

static void
test_probe_failure_reopens_for_another_timeout(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	struct sl_breaker_ticket tk;

	sl_breaker_init(&b, &cfg, 0);
	open_it(&b, SEC(1));
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(61), &tk, NULL));
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk, true, SEC(65)), SL_BREAKER_T_REOPENED);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_OPEN);
	CU_ASSERT_FALSE(sl_breaker_allow(&b, SEC(125) - 1, &tk, NULL));
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(125), &tk, NULL));
	CU_ASSERT_TRUE(tk.probe);
}

static void
test_half_open_needs_the_configured_successes(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	struct sl_breaker_ticket tk[3];

	cfg.half_open_successes = 2;
	sl_breaker_init(&b, &cfg, 0);
	open_it(&b, 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(60), &tk[i], NULL));
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk[0], false, SEC(60)), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_HALF_OPEN);
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk[1], false, SEC(60)), SL_BREAKER_T_CLOSED);
	/* More successes than probes would never close: clamped to the probe count. */
	cfg.half_open_max = 1;
	cfg.half_open_successes = 4;
	sl_breaker_init(&b, &cfg, 0);
	CU_ASSERT_EQUAL(b.cfg.half_open_successes, 1);
}

static void
test_stale_verdicts_are_ignored(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	struct sl_breaker_ticket slow, probe;
	bool ok;

	sl_breaker_init(&b, &cfg, 0);
	/* A request sent while closed, answered only after the circuit opened and half-opened. */
	CU_ASSERT_TRUE(sl_breaker_allow(&b, 0, &slow, NULL));
	open_it(&b, SEC(1));
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(61), &probe, NULL));
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &slow, true, SEC(61)), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &slow, false, SEC(61)), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_HALF_OPEN);
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &probe, false, SEC(61)), SL_BREAKER_T_CLOSED);
	/* The failures of a closed epoch's requests that finish after a new epoch count not. */
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(62), &slow, NULL));
	open_it(&b, SEC(62));
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(122), &probe, NULL));
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &probe, false, SEC(122)), SL_BREAKER_T_CLOSED);
	for (int i = 0; i < 10; i++)
		sl_breaker_report(&b, &slow, true, SEC(122));
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	(void)ok;
}

static void
test_lost_probes_reopen_after_a_whole_timeout(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	struct sl_breaker_ticket tk;
	enum sl_breaker_transition t;

	cfg.half_open_max = 1;
	sl_breaker_init(&b, &cfg, 0);
	open_it(&b, 0);
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(60), &tk, NULL));
	/* The probe never reports. Until a whole timeout has passed, nothing else goes. */
	CU_ASSERT_FALSE(sl_breaker_allow(&b, SEC(119), &tk, &t));
	CU_ASSERT_EQUAL(t, SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(119)), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(120)), SL_BREAKER_T_REOPENED);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_OPEN);
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(180)), SL_BREAKER_T_HALF_OPENED);
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(180), &tk, NULL));
	CU_ASSERT_EQUAL(sl_breaker_report(&b, &tk, false, SEC(181)), SL_BREAKER_T_CLOSED);
}

static void
test_flags_follow_the_state(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_bal_live *live;
	struct sl_breaker b;
	struct sl_breaker_ticket tk;

	CU_ASSERT_EQUAL_FATAL(sl_bal_live_create(2, 1, NULL, &live), 0);
	sl_bal_live_set_flags(live, 1, SL_BAL_F_DOWN, 0);
	sl_breaker_init(&b, &cfg, 0);
	open_it(&b, 0);
	sl_breaker_sync_flags(&b, live, 1);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), SL_BAL_F_DOWN | SL_BAL_F_CIRCUIT_OPEN);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 0), 0);
	/* Half-open clears the flag so that the balancer picks it and probes reach it. */
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(60)), SL_BREAKER_T_HALF_OPENED);
	sl_breaker_sync_flags(&b, live, 1);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), SL_BAL_F_DOWN);
	CU_ASSERT_TRUE(sl_breaker_allow(&b, SEC(60), &tk, NULL));
	sl_breaker_report(&b, &tk, true, SEC(60));
	sl_breaker_sync_flags(&b, live, 1);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), SL_BAL_F_DOWN | SL_BAL_F_CIRCUIT_OPEN);
	sl_bal_live_free(live);
}

static void
test_error_ratio_over_the_window_opens(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	enum sl_breaker_transition t = SL_BREAKER_T_NONE;
	bool ok;
	int i;

	cfg.threshold = 0; /* the ratio rule alone */
	cfg.ratio_pct = 50;
	cfg.min_requests = 20;
	cfg.window_us = SEC(10);
	sl_breaker_init(&b, &cfg, 0);
	/* 40% failures for a long time: never opens. */
	for (i = 0; i < 5000; i++)
		CU_ASSERT_EQUAL(exchange(&b, MS(i * 10), i % 5 < 2, &ok), SL_BREAKER_T_NONE);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	/* 60% failures: the window's ratio climbs past 50% and it opens, once. */
	int opened = 0;

	for (i = 5000; i < 10000 && sl_breaker_state(&b) == SL_BREAKER_CLOSED; i++) {
		t = exchange(&b, MS(i * 10), i % 5 < 3, &ok);
		opened += t == SL_BREAKER_T_OPENED;
	}
	CU_ASSERT_EQUAL(opened, 1);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_OPEN);
	/* It took a good part of the window for the ratio to move from 40% past 50%. */
	CU_ASSERT(i - 5000 > 100 && i - 5000 < 1000);
}

static void
test_error_ratio_needs_min_requests_and_forgets_old_slots(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	bool ok;

	cfg.threshold = 0;
	cfg.ratio_pct = 50;
	cfg.min_requests = 20;
	cfg.window_us = SEC(10);
	sl_breaker_init(&b, &cfg, 0);
	/* 19 failures: all failed, but too few to judge. */
	for (int i = 0; i < 19; i++)
		exchange(&b, SEC(1), true, &ok);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	/* 11 s later they are out of the window: 19 more failures still judge nothing. */
	for (int i = 0; i < 19; i++)
		exchange(&b, SEC(12), true, &ok);
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	CU_ASSERT_EQUAL(exchange(&b, SEC(12), true, &ok), SL_BREAKER_T_OPENED);
	/* Closing starts a clean window: one failure after closing does not reopen. */
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(72)), SL_BREAKER_T_HALF_OPENED);
	CU_ASSERT_EQUAL(exchange(&b, SEC(72), false, &ok), SL_BREAKER_T_CLOSED);
	for (int i = 0; i < 19; i++)
		CU_ASSERT_EQUAL(exchange(&b, SEC(73), i % 2, &ok), SL_BREAKER_T_NONE);
}

static void
test_disabled_breaker_always_allows(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	struct sl_breaker b;
	bool ok;

	cfg.enabled = false;
	sl_breaker_init(&b, &cfg, 0);
	for (int i = 0; i < 100; i++) {
		exchange(&b, SEC(1), true, &ok);
		CU_ASSERT_TRUE(ok);
	}
	CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_CLOSED);
	CU_ASSERT_EQUAL(sl_breaker_poll(&b, SEC(1000)), SL_BREAKER_T_NONE);
}

/* Several workers at once: exactly one performs each transition, probes stay bounded. */
#define N_THREADS 4
struct race {
	struct sl_breaker *b;
	pthread_barrier_t *bar;
	int mode; /* 0: report failures while closed; 1: ask for probes while half-open */
	int transitions;
	int admitted;
};

static void *
race_main(void *arg)
{
	struct race *r = arg;
	struct sl_breaker_ticket tk;
	enum sl_breaker_transition t;

	pthread_barrier_wait(r->bar);
	for (int i = 0; i < 2000; i++) {
		if (r->mode == 0) {
			if (!sl_breaker_allow(r->b, SEC(1), &tk, &t))
				continue;
			r->transitions +=
			    sl_breaker_report(r->b, &tk, true, SEC(1)) == SL_BREAKER_T_OPENED;
		} else {
			if (sl_breaker_allow(r->b, SEC(100), &tk, &t))
				r->admitted++;
			r->transitions += t == SL_BREAKER_T_HALF_OPENED;
		}
	}
	return NULL;
}

static void
test_workers_racing_agree_on_one_transition(void)
{
	struct sl_breaker_cfg cfg = seed_cfg();
	pthread_barrier_t bar;

	for (int round = 0; round < 50; round++) {
		struct sl_breaker b;
		struct race r[N_THREADS];
		pthread_t th[N_THREADS];
		int opened = 0, halfopened = 0, admitted = 0;

		sl_breaker_init(&b, &cfg, 0);
		for (int mode = 0; mode < 2; mode++) {
			pthread_barrier_init(&bar, NULL, N_THREADS);
			for (int i = 0; i < N_THREADS; i++) {
				r[i] = (struct race){.b = &b, .bar = &bar, .mode = mode};
				pthread_create(&th[i], NULL, race_main, &r[i]);
			}
			for (int i = 0; i < N_THREADS; i++) {
				pthread_join(th[i], NULL);
				if (mode == 0)
					opened += r[i].transitions;
				else {
					halfopened += r[i].transitions;
					admitted += r[i].admitted;
				}
			}
			pthread_barrier_destroy(&bar);
		}
		CU_ASSERT_EQUAL(opened, 1);
		CU_ASSERT_EQUAL(halfopened, 1);
		CU_ASSERT_EQUAL(admitted, (int)cfg.half_open_max);
		CU_ASSERT_EQUAL(sl_breaker_state(&b), SL_BREAKER_HALF_OPEN);
	}
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_config_keys_map_to_settings),
	    T(test_seed_five_failures_open_the_circuit_for_60s),
	    T(test_success_resets_the_consecutive_count),
	    T(test_half_open_admits_a_bounded_number_of_probes),
	    T(test_probe_failure_reopens_for_another_timeout),
	    T(test_half_open_needs_the_configured_successes),
	    T(test_stale_verdicts_are_ignored),
	    T(test_lost_probes_reopen_after_a_whole_timeout),
	    T(test_flags_follow_the_state),
	    T(test_error_ratio_over_the_window_opens),
	    T(test_error_ratio_needs_min_requests_and_forgets_old_slots),
	    T(test_disabled_breaker_always_allows),
	    T(test_workers_racing_agree_on_one_transition),
	};

	return SL_UNIT_RUN("resil_breaker", tests);
}
