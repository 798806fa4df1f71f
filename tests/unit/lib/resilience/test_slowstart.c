/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "lib/resilience/slowstart.h"
#include "resil_test.h"

#define ONE SL_SLOWSTART_ONE

static void
test_linear_ramp_over_the_window(void)
{
	struct sl_slowstart_cfg c = {.window_us = SEC(60), .aggression = 1.0, .min_pct = 10};
	uint32_t prev = 0;

	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(100)), ONE / 10);
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(103)), ONE / 10); /* floor */
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(115)), ONE / 4);
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(130)), ONE / 2);
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(160) - 1), ONE - 1);
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(160)), ONE);
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(1000)), ONE);
	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(100), SEC(50)), ONE / 10); /* clock before */
	for (uint64_t t = 0; t <= SEC(61); t += MS(250)) {
		uint32_t f = sl_slowstart_factor(&c, 0, t);

		CU_ASSERT(f >= prev);
		prev = f;
	}
}

static void
test_aggression_follows_envoys_curve(void)
{
	struct sl_slowstart_cfg c = {.window_us = SEC(100), .aggression = 2.0, .min_pct = 0};

	/* (t / window) ^ (1 / aggression): a quarter of the window gives half the weight. */
	CU_ASSERT(abs((int)sl_slowstart_factor(&c, 0, SEC(25)) - (int)(ONE / 2)) <= 1);
	CU_ASSERT(abs((int)sl_slowstart_factor(&c, 0, SEC(1)) - (int)(ONE / 10)) <= 1);
	c.aggression = 0.5; /* below 1: slower early */
	CU_ASSERT(abs((int)sl_slowstart_factor(&c, 0, SEC(50)) - (int)(ONE / 4)) <= 1);
}

static void
test_off_means_full_weight(void)
{
	struct sl_slowstart_cfg c = {.window_us = 0};

	CU_ASSERT_EQUAL(sl_slowstart_factor(&c, SEC(5), SEC(5)), ONE);
	CU_ASSERT_TRUE(sl_slowstart_accept(ONE, 0xffffffffu));
}

static void
test_accept_keeps_the_factors_share_of_picks(void)
{
	uint64_t rng = 12345;
	unsigned int kept = 0;

	for (unsigned int i = 0; i < 100000; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		kept += sl_slowstart_accept(ONE / 4, (uint32_t)(rng >> 32));
	}
	CU_ASSERT(kept > 24000 && kept < 26000);
	CU_ASSERT_FALSE(sl_slowstart_accept(0, 0));
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_linear_ramp_over_the_window),
	    T(test_aggression_follows_envoys_curve),
	    T(test_off_means_full_weight),
	    T(test_accept_keeps_the_factors_share_of_picks),
	};

	return SL_UNIT_RUN("resil_slowstart", tests);
}
