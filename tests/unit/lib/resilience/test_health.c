/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/balance/balance.h"
#include "lib/resilience/health.h"
#include "resil_test.h"

static struct sl_config_health_check
hc(uint32_t interval_s, uint32_t healthy, uint32_t unhealthy)
{
	struct sl_config_health_check c;

	memset(&c, 0, sizeof(c));
	c.enabled = true;
	c.type = SL_CONFIG_HC_HTTP;
	strcpy(c.path, "/health");
	c.interval_ms = interval_s * 1000;
	c.timeout_ms = 2000;
	c.healthy = healthy;
	c.unhealthy = unhealthy;
	return c;
}

static void
test_configured_backend_starts_up(void)
{
	struct sl_config_health_check c = hc(10, 2, 3);
	struct sl_health h;

	sl_health_init(&h, &c, true, 0);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_UP);
	CU_ASSERT_EQUAL(sl_health_flags_set(&h), 0);
	CU_ASSERT_EQUAL(sl_health_flags_clear(&h), SL_BAL_F_DOWN);
}

static void
test_down_after_unhealthy_consecutive_failures(void)
{
	struct sl_config_health_check c = hc(10, 2, 3);
	struct sl_health h;

	sl_health_init(&h, &c, true, 0);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 1), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 2), SL_HEALTH_T_NONE);
	/* A pass in between restarts the run of failures. */
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 3), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_CONNECT_FAILED, 4), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_BAD_STATUS, 5), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_UP);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 6), SL_HEALTH_T_WENT_DOWN);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_DOWN);
	CU_ASSERT_EQUAL(h.since_us, 6);
	CU_ASSERT_STRING_EQUAL(h.reason, "3 consecutive failed checks (last: timeout)");
	CU_ASSERT_EQUAL(sl_health_flags_set(&h), SL_BAL_F_DOWN);
	CU_ASSERT_EQUAL(sl_health_flags_clear(&h), 0);
	/* Further failures report nothing: a transition is logged once. */
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 7), SL_HEALTH_T_NONE);
}

static void
test_up_after_healthy_consecutive_passes(void)
{
	struct sl_config_health_check c = hc(10, 2, 1);
	struct sl_health h;

	sl_health_init(&h, &c, true, 0);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_BAD_RESPONSE, 1), SL_HEALTH_T_WENT_DOWN);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 2), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 3), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 4), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_DOWN);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 5), SL_HEALTH_T_WENT_UP);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_UP);
	CU_ASSERT_STRING_EQUAL(h.reason, "2 consecutive passing checks");
}

static void
test_runtime_backend_up_after_first_pass(void)
{
	struct sl_config_health_check c = hc(10, 3, 3);
	struct sl_health h;

	sl_health_init(&h, &c, false, 0);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_DOWN);
	CU_ASSERT_EQUAL(sl_health_flags_set(&h), SL_BAL_F_DOWN);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 1), SL_HEALTH_T_NONE);
	/* healthy is 3, but a new backend enters rotation on its first passing check. */
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 2), SL_HEALTH_T_WENT_UP);
	CU_ASSERT_STRING_EQUAL(h.reason, "first check passed");
	/* From then on the thresholds apply as usual. */
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 3), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 4), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 5), SL_HEALTH_T_WENT_DOWN);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 6), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 7), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 8), SL_HEALTH_T_WENT_UP);
}

static void
test_disabled_checks_stay_up(void)
{
	struct sl_config_health_check c = hc(10, 1, 1);
	struct sl_health h;

	c.enabled = false;
	sl_health_init(&h, &c, false, 0);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_UP);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 1), SL_HEALTH_T_NONE);
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_UP);
}

static void
test_zero_thresholds_act_as_one(void)
{
	struct sl_config_health_check c = hc(10, 0, 0);
	struct sl_health h;

	sl_health_init(&h, &c, true, 0);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 1), SL_HEALTH_T_WENT_DOWN);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 2), SL_HEALTH_T_WENT_UP);
}

static void
test_transitions_publish_down_flag_to_live_state(void)
{
	struct sl_config_health_check c = hc(10, 1, 1);
	struct sl_bal_live *live;
	struct sl_health h;

	CU_ASSERT_EQUAL_FATAL(sl_bal_live_create(3, 1, NULL, &live), 0);
	sl_bal_live_set_flags(live, 1, SL_BAL_F_DRAINING, 0);
	sl_health_init(&h, &c, true, 0);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_TIMEOUT, 1), SL_HEALTH_T_WENT_DOWN);
	sl_bal_live_set_flags(live, 1, sl_health_flags_set(&h), sl_health_flags_clear(&h));
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), SL_BAL_F_DOWN | SL_BAL_F_DRAINING);
	CU_ASSERT_EQUAL(sl_health_report(&h, SL_PROBE_PASS, 2), SL_HEALTH_T_WENT_UP);
	sl_bal_live_set_flags(live, 1, sl_health_flags_set(&h), sl_health_flags_clear(&h));
	/* Health owns only its bit: the operator's drain stays. */
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), SL_BAL_F_DRAINING);
	sl_bal_live_free(live);
}

static void
test_probe_next_stays_within_jitter_and_spreads(void)
{
	struct sl_probe_sched s;
	uint64_t now = SEC(100), lo = UINT64_MAX, hi = 0, sum = 0;
	unsigned int below = 0;
	const unsigned int n = 10000;

	sl_probe_sched_init(&s, 42, 10);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t = sl_probe_next(&s, now, SEC(10));

		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
		sum += t - now;
		below += t - now < SEC(10);
	}
	CU_ASSERT(lo >= now + SEC(9));
	CU_ASSERT(hi < now + SEC(11));
	/* Spread over the whole band, centred on the interval. */
	CU_ASSERT(lo < now + SEC(9) + MS(20));
	CU_ASSERT(hi > now + SEC(11) - MS(20));
	CU_ASSERT(sum / n > SEC(10) - MS(50) && sum / n < SEC(10) + MS(50));
	CU_ASSERT(below > n * 45 / 100 && below < n * 55 / 100);
}

static void
test_probe_sched_same_seed_replays_other_seed_differs(void)
{
	struct sl_probe_sched a, b, c;
	unsigned int same_ab = 0, same_ac = 0;

	sl_probe_sched_init(&a, 7, 10);
	sl_probe_sched_init(&b, 7, 10);
	sl_probe_sched_init(&c, 8, 10);
	for (unsigned int i = 0; i < 100; i++) {
		uint64_t ta = sl_probe_next(&a, 0, SEC(5));

		same_ab += ta == sl_probe_next(&b, 0, SEC(5));
		same_ac += ta == sl_probe_next(&c, 0, SEC(5));
	}
	CU_ASSERT_EQUAL(same_ab, 100);
	CU_ASSERT(same_ac < 5);
}

static void
test_first_probes_spread_over_the_interval(void)
{
	struct sl_probe_sched s;
	unsigned int bins[10] = {0};

	sl_probe_sched_init(&s, 1, 10);
	/* 10000 backends loaded at once: their first probes fill the interval evenly. */
	for (unsigned int i = 0; i < 10000; i++) {
		uint64_t t = sl_probe_first(&s, SEC(1), SEC(10));

		CU_ASSERT_FATAL(t >= SEC(1) && t < SEC(11));
		bins[(t - SEC(1)) / SEC(1)]++;
	}
	for (unsigned int i = 0; i < 10; i++)
		CU_ASSERT(bins[i] > 800 && bins[i] < 1200);
	CU_ASSERT_EQUAL(sl_probe_first(&s, SEC(1), 0), SEC(1));
	CU_ASSERT_EQUAL(sl_probe_owner(7, 3), 1);
	CU_ASSERT_EQUAL(sl_probe_owner(7, 0), 0);
}

/*
 * The promise in lib terms: a backend that starts failing at t0 leaves rotation
 * within interval x unhealthy (plus jitter), and returns within interval x healthy once it
 * passes again. Terraster seed values: interval 5s, healthy 2, unhealthy 3.
 */
static void
test_seed_backend_leaves_and_returns_within_thresholds(void)
{
	struct sl_config_health_check c = hc(5, 2, 3);
	struct sl_probe_sched s;
	struct sl_health h;
	uint64_t t = 0, t_fail = SEC(31), t_back = SEC(120), down_at = 0, up_at = 0;

	sl_health_init(&h, &c, true, 0);
	sl_probe_sched_init(&s, 99, 10);
	t = sl_probe_first(&s, 0, 0);
	while (t < SEC(300)) {
		bool pass = t < t_fail || t >= t_back;
		enum sl_health_transition tr =
		    sl_health_report(&h, pass ? SL_PROBE_PASS : SL_PROBE_CONNECT_FAILED, t);

		if (tr == SL_HEALTH_T_WENT_DOWN)
			down_at = t;
		if (tr == SL_HEALTH_T_WENT_UP)
			up_at = t;
		t = sl_probe_next(&s, t, c.interval_ms * 1000ull);
	}
	CU_ASSERT(down_at > t_fail);
	CU_ASSERT(down_at - t_fail <= 3 * MS(5500));
	CU_ASSERT(up_at > t_back);
	CU_ASSERT(up_at - t_back <= 2 * MS(5500));
	CU_ASSERT_EQUAL(h.state, SL_HEALTH_UP);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_configured_backend_starts_up),
	    T(test_down_after_unhealthy_consecutive_failures),
	    T(test_up_after_healthy_consecutive_passes),
	    T(test_runtime_backend_up_after_first_pass),
	    T(test_disabled_checks_stay_up),
	    T(test_zero_thresholds_act_as_one),
	    T(test_transitions_publish_down_flag_to_live_state),
	    T(test_probe_next_stays_within_jitter_and_spreads),
	    T(test_probe_sched_same_seed_replays_other_seed_differs),
	    T(test_first_probes_spread_over_the_interval),
	    T(test_seed_backend_leaves_and_returns_within_thresholds),
	};

	return SL_UNIT_RUN("resil_health", tests);
}
