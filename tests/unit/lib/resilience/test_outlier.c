/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <string.h>

#include "lib/balance/balance.h"
#include "lib/resilience/outlier.h"
#include "resil_test.h"

static struct sl_outlier_pool *
pool(unsigned int n, uint32_t pct)
{
	struct sl_outlier_cfg cfg;
	struct sl_outlier_pool *p;

	sl_outlier_cfg_default(&cfg);
	cfg.max_percent = pct;
	CU_ASSERT_EQUAL_FATAL(sl_outlier_pool_create(n, &cfg, &p), 0);
	return p;
}

static enum sl_outlier_event
fail_n(struct sl_outlier_pool *p, unsigned int i, int n, uint64_t now)
{
	enum sl_outlier_event e = SL_OUTLIER_NONE;

	for (int k = 0; k < n; k++)
		e = sl_outlier_report(p, i, true, now);
	return e;
}

static void
test_five_consecutive_failures_eject(void)
{
	struct sl_outlier_pool *p = pool(10, 50);
	unsigned int out[10];

	CU_ASSERT_EQUAL(fail_n(p, 3, 4, SEC(1)), SL_OUTLIER_NONE);
	sl_outlier_report(p, 3, false, SEC(1)); /* a success restarts the count */
	CU_ASSERT_EQUAL(fail_n(p, 3, 4, SEC(1)), SL_OUTLIER_NONE);
	CU_ASSERT_FALSE(sl_outlier_is_ejected(p, 3));
	CU_ASSERT_EQUAL(sl_outlier_report(p, 3, true, SEC(1)), SL_OUTLIER_EJECTED);
	CU_ASSERT_TRUE(sl_outlier_is_ejected(p, 3));
	/* In-flight requests that fail afterwards change nothing. */
	CU_ASSERT_EQUAL(fail_n(p, 3, 10, SEC(2)), SL_OUTLIER_NONE);
	/* Back after the base time, 30 s. */
	CU_ASSERT_EQUAL(sl_outlier_sweep(p, SEC(31) - 1, out, 10), 0);
	CU_ASSERT_EQUAL(sl_outlier_sweep(p, SEC(31), out, 10), 1);
	CU_ASSERT_EQUAL(out[0], 3);
	CU_ASSERT_FALSE(sl_outlier_is_ejected(p, 3));
	sl_outlier_pool_free(p);
}

static void
test_ejection_time_grows_with_repeats_and_is_capped(void)
{
	struct sl_outlier_pool *p = pool(4, 50);
	unsigned int out[4];
	uint64_t now = 0;
	static const uint64_t expect_s[] = {30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300};

	for (unsigned int k = 0; k < sizeof(expect_s) / sizeof(expect_s[0]); k++) {
		CU_ASSERT_EQUAL(fail_n(p, 0, 5, now), SL_OUTLIER_EJECTED);
		CU_ASSERT_EQUAL(sl_outlier_sweep(p, now + SEC(expect_s[k]) - 1, out, 4), 0);
		CU_ASSERT_EQUAL(sl_outlier_sweep(p, now + SEC(expect_s[k]), out, 4), 1);
		now += SEC(expect_s[k]);
	}
	CU_ASSERT_EQUAL(sl_outlier_duration(&p->cfg, 1000000), SEC(300));
	sl_outlier_pool_free(p);
}

static void
test_ejections_never_exceed_the_pool_share(void)
{
	struct sl_outlier_pool *p = pool(10, 20);
	unsigned int out[10], ejected = 0, capped = 0;

	CU_ASSERT_EQUAL(p->max_ejected, 2);
	for (unsigned int i = 0; i < 10; i++) {
		enum sl_outlier_event e = fail_n(p, i, 5, SEC(1));

		ejected += e == SL_OUTLIER_EJECTED;
		capped += e == SL_OUTLIER_CAPPED;
	}
	CU_ASSERT_EQUAL(ejected, 2);
	CU_ASSERT_EQUAL(capped, 8);
	/* Once the first two return, the next failure of a capped one ejects it. */
	CU_ASSERT_EQUAL(sl_outlier_sweep(p, SEC(31), out, 10), 2);
	CU_ASSERT_EQUAL(sl_outlier_report(p, 5, true, SEC(32)), SL_OUTLIER_EJECTED);
	sl_outlier_pool_free(p);
}

static void
test_small_pool_may_still_eject_one(void)
{
	struct sl_outlier_pool *p = pool(3, 10);

	CU_ASSERT_EQUAL(p->max_ejected, 1);
	CU_ASSERT_EQUAL(fail_n(p, 0, 5, 0), SL_OUTLIER_EJECTED);
	CU_ASSERT_EQUAL(fail_n(p, 1, 5, 0), SL_OUTLIER_CAPPED);
	sl_outlier_pool_free(p);
	p = pool(3, 0);
	CU_ASSERT_EQUAL(fail_n(p, 0, 5, 0), SL_OUTLIER_CAPPED);
	sl_outlier_pool_free(p);
}

static void
test_good_standing_shortens_the_next_ejection(void)
{
	struct sl_outlier_pool *p = pool(4, 50);
	unsigned int out[4];

	fail_n(p, 0, 5, 0);
	sl_outlier_sweep(p, SEC(30), out, 4);
	fail_n(p, 0, 5, SEC(30));
	sl_outlier_sweep(p, SEC(90), out, 4);
	CU_ASSERT_EQUAL(atomic_load(&p->b[0].n_ejections), 2);
	/* 300 s (max) in good standing: one step down; another 300 s: back to 0. */
	sl_outlier_sweep(p, SEC(390), out, 4);
	CU_ASSERT_EQUAL(atomic_load(&p->b[0].n_ejections), 1);
	sl_outlier_sweep(p, SEC(500), out, 4);
	CU_ASSERT_EQUAL(atomic_load(&p->b[0].n_ejections), 1);
	sl_outlier_sweep(p, SEC(690), out, 4);
	CU_ASSERT_EQUAL(atomic_load(&p->b[0].n_ejections), 0);
	CU_ASSERT_EQUAL(fail_n(p, 0, 5, SEC(700)), SL_OUTLIER_EJECTED);
	CU_ASSERT_EQUAL(sl_outlier_sweep(p, SEC(730), out, 4), 1);
	sl_outlier_pool_free(p);
}

/* Workers failing different backends at once never eject more than the cap together. */
#define N_THREADS 4
struct ej {
	struct sl_outlier_pool *p;
	pthread_barrier_t *bar;
	unsigned int first;
	unsigned int ejected;
};

static void *
ej_main(void *arg)
{
	struct ej *e = arg;

	pthread_barrier_wait(e->bar);
	for (unsigned int r = 0; r < 5; r++)
		for (unsigned int i = 0; i < e->p->n; i++)
			e->ejected += sl_outlier_report(e->p, (i + e->first) % e->p->n, true,
							SEC(1)) == SL_OUTLIER_EJECTED;
	return NULL;
}

static void
test_racing_workers_respect_the_cap(void)
{
	for (int round = 0; round < 200; round++) {
		struct sl_outlier_pool *p = pool(20, 25);
		pthread_barrier_t bar;
		struct ej e[N_THREADS];
		pthread_t th[N_THREADS];
		unsigned int total = 0, flagged = 0;

		pthread_barrier_init(&bar, NULL, N_THREADS);
		for (int i = 0; i < N_THREADS; i++) {
			e[i] = (struct ej){.p = p, .bar = &bar, .first = (unsigned int)i * 5};
			pthread_create(&th[i], NULL, ej_main, &e[i]);
		}
		for (int i = 0; i < N_THREADS; i++) {
			pthread_join(th[i], NULL);
			total += e[i].ejected;
		}
		pthread_barrier_destroy(&bar);
		for (unsigned int i = 0; i < p->n; i++)
			flagged += sl_outlier_is_ejected(p, i);
		CU_ASSERT_EQUAL(total, 5);
		CU_ASSERT_EQUAL(flagged, 5);
		CU_ASSERT_EQUAL(atomic_load(&p->n_ejected), 5);
		sl_outlier_pool_free(p);
	}
}

/* The flag it publishes is one the balancer already honours: an ejected backend is skipped. */
static void
test_balancer_skips_an_ejected_backend(void)
{
	struct sl_bal_backend_desc d[3] = {{"a", 1}, {"b", 1}, {"c", 1}};
	struct sl_outlier_pool *p = pool(3, 50);
	struct sl_bal_live *live;
	struct sl_balancer *b;
	struct sl_bal_req req;
	unsigned int out[3], hits[3] = {0};

	CU_ASSERT_EQUAL_FATAL(sl_bal_live_create(3, 1, NULL, &live), 0);
	CU_ASSERT_EQUAL_FATAL(sl_bal_create(SL_CONFIG_LB_ROUND_ROBIN, d, 3, live, 0, 1, &b), 0);
	if (fail_n(p, 1, 5, 0) == SL_OUTLIER_EJECTED)
		sl_bal_live_set_flags(live, 1, SL_RESIL_F_EJECTED, 0);
	for (int i = 0; i < 300; i++) {
		memset(&req, 0, sizeof(req));
		int k = sl_bal_pick(b, &req);

		CU_ASSERT_FATAL(k >= 0);
		hits[k]++;
	}
	CU_ASSERT_EQUAL(hits[1], 0);
	CU_ASSERT_EQUAL(hits[0] + hits[2], 300);
	for (unsigned int n = sl_outlier_sweep(p, SEC(30), out, 3), i = 0; i < n; i++)
		sl_bal_live_set_flags(live, out[i], 0, SL_RESIL_F_EJECTED);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), 0);
	sl_bal_destroy(b);
	sl_bal_live_free(live);
	sl_outlier_pool_free(p);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_five_consecutive_failures_eject),
	    T(test_ejection_time_grows_with_repeats_and_is_capped),
	    T(test_ejections_never_exceed_the_pool_share),
	    T(test_small_pool_may_still_eject_one),
	    T(test_good_standing_shortens_the_next_ejection),
	    T(test_racing_workers_respect_the_cap),
	    T(test_balancer_skips_an_ejected_backend),
	};

	return SL_UNIT_RUN("resil_outlier", tests);
}
