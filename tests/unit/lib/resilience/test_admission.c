/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/resilience/admission.h"
#include "resil_test.h"

static void
setup(struct sl_adm_shared *sh, struct sl_adm_queue *q, unsigned int n_q, uint32_t conc,
      uint32_t queue, uint32_t timeout_ms)
{
	struct sl_config_queue c = {
	    .enabled = true, .max_concurrent = conc, .max_queue = queue, .timeout_ms = timeout_ms};

	sl_adm_shared_init(sh, &c);
	for (unsigned int i = 0; i < n_q; i++)
		CU_ASSERT_EQUAL_FATAL(sl_adm_queue_init(&q[i], sh, n_q), 0);
}

static void
test_admit_then_queue_then_refuse(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint32_t tk;

	setup(&sh, &q, 1, 2, 2, 5000);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 1, 0, &tk), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 2, 0, &tk), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 3, 0, &tk), SL_ADM_QUEUED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 4, 0, &tk), SL_ADM_QUEUED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 5, 0, &tk), SL_ADM_REJECTED);
	CU_ASSERT_EQUAL(sl_adm_inflight(&sh), 2);
	sl_adm_queue_fini(&q);
}

static void
test_waiters_are_admitted_in_fifo_order(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint64_t h;
	uint32_t tk;

	setup(&sh, &q, 1, 1, 100, 5000);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 100, 0, &tk), SL_ADM_ADMITTED);
	for (uint64_t i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(sl_adm_enter(&q, i, i, &tk), SL_ADM_QUEUED);
	CU_ASSERT_EQUAL(sl_adm_next(&q, 60, &h), SL_ADM_NONE); /* no slot yet */
	for (uint64_t i = 0; i < 50; i++) {
		sl_adm_release(&q);
		CU_ASSERT_EQUAL(sl_adm_next(&q, 100, &h), SL_ADM_ADMITTED);
		CU_ASSERT_EQUAL(h, i);
		CU_ASSERT_EQUAL(sl_adm_next(&q, 100, &h), SL_ADM_NONE);
		CU_ASSERT_EQUAL(sl_adm_inflight(&sh), 1);
	}
	/* A newcomer while nobody waits takes a free slot at once. */
	sl_adm_release(&q);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 7, 200, &tk), SL_ADM_ADMITTED);
	sl_adm_queue_fini(&q);
}

static void
test_a_newcomer_does_not_overtake_waiters(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint64_t h;
	uint32_t tk;

	setup(&sh, &q, 1, 1, 10, 5000);
	sl_adm_enter(&q, 1, 0, &tk);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 2, 0, &tk), SL_ADM_QUEUED);
	sl_adm_release(&q);
	/* The slot is free but 2 waits: 3 queues behind it. */
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 3, 1, &tk), SL_ADM_QUEUED);
	CU_ASSERT_EQUAL(sl_adm_next(&q, 1, &h), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(h, 2);
	sl_adm_queue_fini(&q);
}

static void
test_waiters_time_out_in_order(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint64_t h;
	uint32_t tk;

	setup(&sh, &q, 1, 1, 10, 5000);
	sl_adm_enter(&q, 1, 0, &tk);
	CU_ASSERT_EQUAL(sl_adm_next_deadline(&q), UINT64_MAX);
	sl_adm_enter(&q, 2, SEC(0), &tk);
	sl_adm_enter(&q, 3, SEC(1), &tk);
	CU_ASSERT_EQUAL(sl_adm_next_deadline(&q), SEC(5));
	CU_ASSERT_EQUAL(sl_adm_next(&q, SEC(5) - 1, &h), SL_ADM_NONE);
	CU_ASSERT_EQUAL(sl_adm_next(&q, SEC(5), &h), SL_ADM_TIMED_OUT);
	CU_ASSERT_EQUAL(h, 2);
	CU_ASSERT_EQUAL(sl_adm_next(&q, SEC(5), &h), SL_ADM_NONE);
	CU_ASSERT_EQUAL(sl_adm_next_deadline(&q), SEC(6));
	CU_ASSERT_EQUAL(sl_adm_next(&q, SEC(6), &h), SL_ADM_TIMED_OUT);
	CU_ASSERT_EQUAL(h, 3);
	CU_ASSERT_EQUAL(atomic_load(&sh.waiting), 0);
	/* A timed-out waiter never held a slot: the one in flight is still the only one. */
	CU_ASSERT_EQUAL(sl_adm_inflight(&sh), 1);
	sl_adm_queue_fini(&q);
}

static void
test_cancelled_waiter_is_skipped_and_frees_its_place(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint64_t h;
	uint32_t t2, t3, t4;

	setup(&sh, &q, 1, 1, 2, 5000);
	sl_adm_enter(&q, 1, 0, NULL);
	sl_adm_enter(&q, 2, 0, &t2);
	sl_adm_enter(&q, 3, 0, &t3);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 4, 0, &t4), SL_ADM_REJECTED);
	CU_ASSERT_TRUE(sl_adm_cancel(&q, t2));
	CU_ASSERT_FALSE(sl_adm_cancel(&q, t2));
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 4, 0, &t4), SL_ADM_QUEUED);
	sl_adm_release(&q);
	CU_ASSERT_EQUAL(sl_adm_next(&q, 1, &h), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(h, 3);
	CU_ASSERT_FALSE(sl_adm_cancel(&q, t3)); /* no longer waiting */
	sl_adm_release(&q);
	CU_ASSERT_EQUAL(sl_adm_next(&q, 1, &h), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(h, 4);
	sl_adm_queue_fini(&q);
}

static void
test_zero_queue_refuses_at_once_and_disabled_admits_all(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	struct sl_config_queue off = {.enabled = false};

	setup(&sh, &q, 1, 1, 0, 5000);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 1, 0, NULL), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q, 2, 0, NULL), SL_ADM_REJECTED);
	sl_adm_queue_fini(&q);
	sl_adm_shared_init(&sh, &off);
	CU_ASSERT_EQUAL_FATAL(sl_adm_queue_init(&q, &sh, 1), 0);
	for (int i = 0; i < 10000; i++)
		CU_ASSERT_EQUAL(sl_adm_enter(&q, i, 0, NULL), SL_ADM_ADMITTED);
	sl_adm_release(&q);
	CU_ASSERT_EQUAL(sl_adm_inflight(&sh), 0);
	sl_adm_queue_fini(&q);
}

/* Two workers share the limit exactly; the queue room is split between them. */
static void
test_two_workers_share_the_limit_and_the_order(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q[2];
	uint64_t h;

	setup(&sh, q, 2, 3, 4, 5000);
	CU_ASSERT_EQUAL(q[0].cap, 2);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[0], 1, 0, NULL), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[1], 2, 0, NULL), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[0], 3, 0, NULL), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[1], 4, 0, NULL), SL_ADM_QUEUED);
	/* Worker 0 frees a slot; worker 0's newcomer queues behind worker 1's waiter. */
	sl_adm_release(&q[0]);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[0], 5, 1, NULL), SL_ADM_QUEUED);
	CU_ASSERT_EQUAL(sl_adm_next(&q[1], 1, &h), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(h, 4);
	CU_ASSERT_EQUAL(sl_adm_next(&q[0], 1, &h), SL_ADM_NONE);
	CU_ASSERT_EQUAL(sl_adm_inflight(&sh), 3);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[0], 6, 1, NULL), SL_ADM_QUEUED);
	CU_ASSERT_EQUAL(sl_adm_enter(&q[0], 7, 1, NULL), SL_ADM_REJECTED);
	sl_adm_release(&q[1]);
	CU_ASSERT_EQUAL(sl_adm_next(&q[0], 2, &h), SL_ADM_ADMITTED);
	CU_ASSERT_EQUAL(h, 5);
	sl_adm_queue_fini(&q[0]);
	sl_adm_queue_fini(&q[1]);
}

/* A burst: what fits is admitted or queued, the rest refused at once, nothing is lost. */
static void
test_burst_beyond_the_limit_loses_nothing(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	unsigned int admitted = 0, queued = 0, rejected = 0, done = 0, timed_out = 0;
	uint64_t h, now = 0;

	setup(&sh, &q, 1, 8, 32, 5000);
	for (uint64_t i = 0; i < 100; i++) {
		switch (sl_adm_enter(&q, i, 0, NULL)) {
		case SL_ADM_ADMITTED:
			admitted++;
			break;
		case SL_ADM_QUEUED:
			queued++;
			break;
		default:
			rejected++;
		}
	}
	CU_ASSERT_EQUAL(admitted, 8);
	CU_ASSERT_EQUAL(queued, 32);
	CU_ASSERT_EQUAL(rejected, 60);
	/* Each request takes 10 ms: 8 at a time, 40 in all, done within 50 ms. */
	while (done < admitted + queued && now < SEC(1)) {
		now += MS(10);
		for (unsigned int k = sl_adm_inflight(&sh); k > 0; k--, done++)
			sl_adm_release(&q);
		for (enum sl_adm_verdict v; (v = sl_adm_next(&q, now, &h)) != SL_ADM_NONE;)
			timed_out += v == SL_ADM_TIMED_OUT;
	}
	CU_ASSERT_EQUAL(done, 40);
	CU_ASSERT_EQUAL(timed_out, 0);
	sl_adm_queue_fini(&q);
}

static void
test_ring_wraps_many_times(void)
{
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint64_t h, expect = 0;
	uint32_t tk;

	setup(&sh, &q, 1, 1, 3, 5000);
	sl_adm_enter(&q, 999999, 0, NULL);
	for (uint64_t i = 0; i < 100000; i++) {
		CU_ASSERT_EQUAL_FATAL(sl_adm_enter(&q, i, 0, &tk), SL_ADM_QUEUED);
		if (i % 3 == 2)
			sl_adm_cancel(&q, tk);
		if (i % 2 == 1) {
			sl_adm_release(&q);
			CU_ASSERT_EQUAL_FATAL(sl_adm_next(&q, 0, &h), SL_ADM_ADMITTED);
			while (expect % 3 == 2)
				expect++;
			CU_ASSERT_EQUAL_FATAL(h, expect);
			expect++;
		}
		while (q.n_live >= 2) {
			sl_adm_release(&q);
			CU_ASSERT_EQUAL_FATAL(sl_adm_next(&q, 0, &h), SL_ADM_ADMITTED);
			while (expect % 3 == 2)
				expect++;
			CU_ASSERT_EQUAL_FATAL(h, expect);
			expect++;
		}
	}
	sl_adm_queue_fini(&q);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_admit_then_queue_then_refuse),
	    T(test_waiters_are_admitted_in_fifo_order),
	    T(test_a_newcomer_does_not_overtake_waiters),
	    T(test_waiters_time_out_in_order),
	    T(test_cancelled_waiter_is_skipped_and_frees_its_place),
	    T(test_zero_queue_refuses_at_once_and_disabled_admits_all),
	    T(test_two_workers_share_the_limit_and_the_order),
	    T(test_burst_beyond_the_limit_loses_nothing),
	    T(test_ring_wraps_many_times),
	};

	return SL_UNIT_RUN("resil_admission", tests);
}
