/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_cycles.h>

#include "controlplane/backend_health.h"
#include "lib/balance/balance.h"
#include "cunit_main.h"

/* Two services, one location each; b is /api/ with two backends. */
static const char yaml_a[] = "health_check: {thresholds: {healthy: 2, unhealthy: 3}}\n"
			     "services:\n"
			     "  - name: a\n"
			     "    locations:\n"
			     "      - path: /\n"
			     "        backends:\n"
			     "          - url: http://198.18.0.11:8080\n"
			     "  - name: b\n"
			     "    port: 81\n"
			     "    locations:\n"
			     "      - path: /api/\n"
			     "        backends:\n"
			     "          - url: http://198.18.0.12:8080\n"
			     "          - url: http://198.18.0.13:8080\n";
/* The reload: b's backends swapped and one added in front, a's gone. */
static const char yaml_b[] = "health_check: {thresholds: {healthy: 2, unhealthy: 3}}\n"
			     "services:\n"
			     "  - name: b\n"
			     "    port: 81\n"
			     "    locations:\n"
			     "      - path: /api/\n"
			     "        backends:\n"
			     "          - url: http://198.18.0.14:8080\n"
			     "          - url: http://198.18.0.13:8080\n"
			     "          - url: http://198.18.0.12:8080\n";

struct snap {
	struct sl_config *cfg;
	struct sl_bal_live *lives[2];
	unsigned int n_locs;
	struct sl_resil_set *rs;
};

static void
snap_load(struct snap *s, const char *yaml, uint16_t gen)
{
	struct sl_config_error err;

	memset(s, 0, sizeof(*s));
	CU_ASSERT_EQUAL_FATAL(sl_config_load_buffer("t.yaml", yaml, strlen(yaml), &s->cfg, &err),
			      0);
	for (unsigned int i = 0; i < s->cfg->n_services; i++)
		CU_ASSERT_EQUAL_FATAL(sl_bal_live_create(s->cfg->services[i].locations[0].n_backends,
							 1, NULL, &s->lives[s->n_locs++]),
				      0);
	CU_ASSERT_EQUAL_FATAL(sl_resil_set_create(s->cfg, s->lives, s->n_locs, gen, 0, &s->rs), 0);
}

static void
snap_free(struct snap *s)
{
	sl_resil_set_free(s->rs);
	for (unsigned int i = 0; i < s->n_locs; i++)
		sl_bal_live_free(s->lives[i]);
	sl_config_free(s->cfg);
}

static void
probe(struct sl_cp_health *h, uint16_t gen, unsigned int g, enum sl_probe_result r)
{
	struct sl_evt e = {SL_EVT_PROBE, (uint8_t)r, gen, g};

	sl_cp_health_on_evt(h, &e);
}

static void
test_thresholds_set_and_clear_the_down_flag(void)
{
	struct snap s;
	struct sl_cp_health *h;
	struct sl_cp_backend_health bh;

	snap_load(&s, yaml_a, 1);
	h = sl_cp_health_create(s.cfg, s.rs, 1000000000ull);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	/* backend 2 = b /api/ 198.18.0.13: two failures are not enough */
	probe(h, 1, 2, SL_PROBE_CONNECT_FAILED);
	probe(h, 1, 2, SL_PROBE_TIMEOUT);
	CU_ASSERT_EQUAL(sl_bal_live_flags(s.lives[1], 1), 0);
	probe(h, 1, 2, SL_PROBE_BAD_STATUS);
	CU_ASSERT_EQUAL(sl_bal_live_flags(s.lives[1], 1), SL_BAL_F_DOWN);
	CU_ASSERT_EQUAL(sl_bal_live_flags(s.lives[1], 0), 0);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 2, &bh), 0);
	CU_ASSERT_FALSE(bh.up);
	CU_ASSERT_EQUAL(bh.state_changes, 1);
	CU_ASSERT_EQUAL(bh.checks[SL_PROBE_CONNECT_FAILED], 1);
	CU_ASSERT_EQUAL(bh.checks[SL_PROBE_BAD_STATUS], 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(bh.reason, "3 consecutive failed checks"));
	/* a notification of another snapshot is ignored */
	probe(h, 9, 2, SL_PROBE_PASS);
	probe(h, 9, 2, SL_PROBE_PASS);
	CU_ASSERT_EQUAL(sl_bal_live_flags(s.lives[1], 1), SL_BAL_F_DOWN);
	/* healthy 2: back */
	probe(h, 1, 2, SL_PROBE_PASS);
	CU_ASSERT_EQUAL(sl_bal_live_flags(s.lives[1], 1), SL_BAL_F_DOWN);
	probe(h, 1, 2, SL_PROBE_PASS);
	CU_ASSERT_EQUAL(sl_bal_live_flags(s.lives[1], 1), 0);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 2, &bh), 0);
	CU_ASSERT_TRUE(bh.up);
	CU_ASSERT_EQUAL(bh.state_changes, 2);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 3, &bh), -ENOENT);
	sl_cp_health_free(h);
	snap_free(&s);
}

/* slow_start_pct: 100 without slow start or before any return; on the ramp, its share. */
static void
test_slow_start_percent(void)
{
	struct snap s;
	struct sl_cp_health *h;
	struct sl_cp_backend_health bh;
	uint64_t now_us, win = 1000ull * 1000000; /* 1000 s: the test's own time does not count */

	snap_load(&s, yaml_a, 1);
	h = sl_cp_health_create(s.cfg, s.rs, 1000000000ull); /* the clock: rdtsc / 1000 */
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 1, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 100); /* no slow_start section */
	s.rs->locs[1].slow =
	    (struct sl_slowstart_cfg){.window_us = win, .aggression = 1, .min_pct = 5};
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 1, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 100); /* never left */
	now_us = rte_rdtsc() / 1000;
	atomic_store(&s.rs->b[1].back_us, now_us);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 1, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 5); /* the floor, rounded (4.99..) */
	atomic_store(&s.rs->b[2].back_us, now_us - win / 2);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 2, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 50);
	atomic_store(&s.rs->b[2].back_us, now_us - 2 * win);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 2, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 100); /* the ramp is over */
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 0, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 100); /* another location, no slow start */
	sl_cp_health_free(h);
	snap_free(&s);
}

static void
test_reload_carries_states_over_by_key(void)
{
	struct snap a, b;
	struct sl_cp_health *h;
	struct sl_cp_backend_health bh;

	snap_load(&a, yaml_a, 1);
	h = sl_cp_health_create(a.cfg, a.rs, 1000000000ull);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	for (int i = 0; i < 3; i++)
		probe(h, 1, 1, SL_PROBE_CONNECT_FAILED); /* b /api/ 198.18.0.12 down */
	probe(h, 1, 2, SL_PROBE_PASS);			 /* 198.18.0.13: one check */
	CU_ASSERT_EQUAL(sl_bal_live_flags(a.lives[1], 0), SL_BAL_F_DOWN);

	snap_load(&b, yaml_b, 2);
	CU_ASSERT_EQUAL(sl_cp_health_attach(h, b.cfg, b.rs), 0);
	/* 198.18.0.12 is index 2 now and still down, in the new live state too */
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 2, &bh), 0);
	CU_ASSERT_FALSE(bh.up);
	CU_ASSERT_EQUAL(bh.checks[SL_PROBE_CONNECT_FAILED], 3);
	CU_ASSERT_EQUAL(sl_bal_live_flags(b.lives[0], 2), SL_BAL_F_DOWN);
	/* 198.18.0.13 kept its count; the new 198.18.0.14 starts up with none */
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 1, &bh), 0);
	CU_ASSERT_TRUE(bh.up);
	CU_ASSERT_EQUAL(bh.checks[SL_PROBE_PASS], 1);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 0, &bh), 0);
	CU_ASSERT_TRUE(bh.up);
	CU_ASSERT_EQUAL(bh.checks[SL_PROBE_PASS], 0);
	CU_ASSERT_EQUAL(sl_bal_live_flags(b.lives[0], 0), 0);
	/* the old snapshot's notifications no longer count; the new ones do */
	probe(h, 1, 2, SL_PROBE_PASS);
	probe(h, 1, 2, SL_PROBE_PASS);
	CU_ASSERT_EQUAL(sl_bal_live_flags(b.lives[0], 2), SL_BAL_F_DOWN);
	probe(h, 2, 2, SL_PROBE_PASS);
	probe(h, 2, 2, SL_PROBE_PASS);
	CU_ASSERT_EQUAL(sl_bal_live_flags(b.lives[0], 2), 0);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 3, &bh), -ENOENT);
	sl_cp_health_free(h);
	snap_free(&b);
	snap_free(&a);
}

/*
 * The API reads the table on its own threads while a reload retires the snapshot whose
 * resilience set the table still points to, and the data plane may free that set before the
 * control thread looks again. Freed here before the look: the API must not touch it (under
 * the sanitizers a read is a heap-use-after-free) and says -EAGAIN; the tick attaches.
 */
static void
test_api_never_reads_a_retired_set(void)
{
	struct snap a, b;
	struct sl_plane_view v;
	struct sl_cp_health *h;
	struct sl_cp_backend_health bh;

	memset(&v, 0, sizeof(v));
	CU_ASSERT_EQUAL_FATAL(pthread_rwlock_init(&v.lock, NULL), 0);
	snap_load(&a, yaml_a, 1);
	h = sl_cp_health_create(a.cfg, a.rs, 1000000000ull);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	v.cfg = a.cfg;
	v.resil = a.rs;
	sl_cp_health_follow(h, &v);
	pthread_rwlock_rdlock(&v.lock);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 1, &bh), 0);
	CU_ASSERT_EQUAL(bh.slow_start_pct, 100);
	pthread_rwlock_unlock(&v.lock);

	snap_load(&b, yaml_b, 2); /* the reload publishes b ... */
	pthread_rwlock_wrlock(&v.lock);
	v.cfg = b.cfg;
	v.resil = b.rs;
	pthread_rwlock_unlock(&v.lock);
	snap_free(&a); /* ... and the reap frees a before the control thread's next tick */
	pthread_rwlock_rdlock(&v.lock);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 1, &bh), -EAGAIN);
	pthread_rwlock_unlock(&v.lock);

	sl_cp_health_tick(h); /* the control thread attaches to b */
	pthread_rwlock_rdlock(&v.lock);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 2, &bh), 0);
	CU_ASSERT_TRUE(bh.up);
	CU_ASSERT_EQUAL(sl_cp_health_backend(h, 3, &bh), -ENOENT);
	pthread_rwlock_unlock(&v.lock);
	sl_cp_health_free(h);
	snap_free(&b);
	pthread_rwlock_destroy(&v.lock);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_thresholds_set_and_clear_the_down_flag),
	    SL_UNIT_TEST(test_reload_carries_states_over_by_key),
	    SL_UNIT_TEST(test_slow_start_percent),
	    SL_UNIT_TEST(test_api_never_reads_a_retired_set),
	};

	return SL_UNIT_RUN("backend_health", tests);
}
