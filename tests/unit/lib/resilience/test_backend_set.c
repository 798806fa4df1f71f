/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "lib/balance/balance.h"
#include "lib/config/config.h"
#include "lib/resilience/backend_set.h"
#include "resil_test.h"

static const char yaml[] = "circuit_breaker: {threshold: 2, timeout: 1s, half_open_requests: 2}\n"
			   "services:\n"
			   "  - name: a\n"
			   "    locations:\n"
			   "      - path: /\n"
			   "        slow_start: {window: 10s, min_weight_percent: 20}\n"
			   "        backends:\n"
			   "          - url: http://198.18.0.11\n"
			   "          - url: http://198.18.0.12\n"
			   "      - path: /x/\n"
			   "        outlier_detection: {enabled: false}\n"
			   "        backends:\n"
			   "          - url: http://198.18.0.13\n"
			   "  - name: b\n"
			   "    port: 81\n"
			   "    locations:\n"
			   "      - path: /\n"
			   "        backends:\n"
			   "          - url: http://198.18.0.14\n"
			   "          - url: http://198.18.0.15\n"
			   "          - url: http://198.18.0.16\n";

struct fixture {
	struct sl_config *cfg;
	struct sl_bal_live *lives[3];
	struct sl_resil_set *s;
};

static void
setup(struct fixture *f)
{
	struct sl_config_error err;
	unsigned int n[3] = {2, 1, 3};

	memset(f, 0, sizeof(*f));
	CU_ASSERT_EQUAL_FATAL(
	    sl_config_load_buffer("t.yaml", yaml, strlen(yaml), &f->cfg, &err), 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(sl_bal_live_create(n[i], 1, NULL, &f->lives[i]), 0);
	CU_ASSERT_EQUAL_FATAL(sl_resil_set_create(f->cfg, f->lives, 3, 7, SEC(1), &f->s), 0);
}

static void
teardown(struct fixture *f)
{
	sl_resil_set_free(f->s);
	for (int i = 0; i < 3; i++)
		sl_bal_live_free(f->lives[i]);
	sl_config_free(f->cfg);
}

static void
test_backends_are_numbered_in_file_order(void)
{
	struct fixture f;
	const struct sl_config_service *svc;
	const struct sl_config_location *loc;

	setup(&f);
	CU_ASSERT_EQUAL(f.s->n_backends, 6);
	CU_ASSERT_EQUAL(f.s->gen, 7);
	CU_ASSERT_EQUAL(f.s->locs[2].base, 3);
	CU_ASSERT_EQUAL(f.s->b[4].loc, 2);
	CU_ASSERT_EQUAL(f.s->b[4].idx, 1);
	CU_ASSERT_PTR_EQUAL(f.s->locs[1].live, f.lives[1]);
	CU_ASSERT_STRING_EQUAL(sl_resil_backend_cfg(f.cfg, 4, &svc, &loc)->target.host,
			       "198.18.0.15");
	CU_ASSERT_STRING_EQUAL(svc->name, "b");
	CU_ASSERT_PTR_NULL(sl_resil_backend_cfg(f.cfg, 6, NULL, NULL));
	teardown(&f);
}

static void
test_each_location_gets_its_own_settings(void)
{
	struct fixture f;

	setup(&f);
	/* slow start only where configured */
	CU_ASSERT_EQUAL(f.s->locs[0].slow.window_us, SEC(10));
	CU_ASSERT_EQUAL(f.s->locs[0].slow.min_pct, 20);
	CU_ASSERT_EQUAL(f.s->locs[1].slow.window_us, 0);
	/* outlier pools unless turned off */
	CU_ASSERT_PTR_NOT_NULL(f.s->locs[0].outlier);
	CU_ASSERT_PTR_NULL(f.s->locs[1].outlier);
	CU_ASSERT_EQUAL(f.s->locs[2].outlier->n, 3);
	/* breakers carry the configured thresholds, half-open budget included */
	CU_ASSERT_EQUAL(f.s->b[5].breaker.cfg.threshold, 2);
	CU_ASSERT_EQUAL(f.s->b[5].breaker.cfg.half_open_max, 2);
	CU_ASSERT_EQUAL(f.s->b[5].breaker.cfg.open_us, SEC(1));
	teardown(&f);
}

/* The protocol of lib/resilience/README.md end to end on one backend: two failures open the
 * circuit and set the flag; the tick's poll half-opens it and clears the flag; a probe
 * closes it. */
static void
test_breaker_flags_follow_the_protocol(void)
{
	struct fixture f;
	struct sl_breaker_ticket t;
	struct sl_resil_backend *rb;
	struct sl_bal_live *live;
	enum sl_breaker_transition tr;

	setup(&f);
	rb = &f.s->b[1];
	live = f.s->locs[rb->loc].live;
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_TRUE(sl_breaker_allow(&rb->breaker, SEC(2), &t, NULL));
		tr = sl_breaker_report(&rb->breaker, &t, true, SEC(2));
		sl_breaker_sync_flags(&rb->breaker, live, rb->idx);
	}
	CU_ASSERT_EQUAL(tr, SL_BREAKER_T_OPENED);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, rb->idx), SL_BAL_F_CIRCUIT_OPEN);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 0), 0);
	CU_ASSERT_EQUAL(sl_breaker_poll(&rb->breaker, SEC(3) + 1), SL_BREAKER_T_HALF_OPENED);
	sl_breaker_sync_flags(&rb->breaker, live, rb->idx);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, rb->idx), 0);
	CU_ASSERT_TRUE(sl_breaker_allow(&rb->breaker, SEC(4), &t, NULL));
	CU_ASSERT_EQUAL(sl_breaker_report(&rb->breaker, &t, false, SEC(4)), SL_BREAKER_T_CLOSED);
	teardown(&f);
}

static void
test_wrong_location_count_is_refused(void)
{
	struct fixture f;
	struct sl_resil_set *s = NULL;

	setup(&f);
	CU_ASSERT_EQUAL(sl_resil_set_create(f.cfg, f.lives, 2, 1, 0, &s), -EINVAL);
	CU_ASSERT_PTR_NULL(s);
	teardown(&f);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_backends_are_numbered_in_file_order),
	    T(test_each_location_gets_its_own_settings),
	    T(test_breaker_flags_follow_the_protocol),
	    T(test_wrong_location_count_is_refused),
	};

	return SL_UNIT_RUN("resil_backend_set", tests);
}
