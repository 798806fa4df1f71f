/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/stats/req_stats.h"
#include "cunit_main.h"

static void
test_rows_are_distinct_and_cover_the_block(void)
{
	struct sl_req_stats *st = sl_req_stats_create(2, 3, 5);

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st->n_rows, 1 + 2 + 3 + 5);
	CU_ASSERT_EQUAL(sl_req_row_unrouted(st), 0);
	CU_ASSERT_EQUAL(sl_req_row_service(st, 0), 1);
	CU_ASSERT_EQUAL(sl_req_row_service(st, 1), 2);
	CU_ASSERT_EQUAL(sl_req_row_location(st, 0), 3);
	CU_ASSERT_EQUAL(sl_req_row_location(st, 2), 5);
	CU_ASSERT_EQUAL(sl_req_row_backend(st, 0), 6);
	CU_ASSERT_EQUAL(sl_req_row_backend(st, 4), st->n_rows - 1);
	/* histograms on cache lines of their own, after the rows */
	CU_ASSERT_EQUAL((uintptr_t)st->hists % 64, 0);
	CU_ASSERT((char *)st->hists >= (char *)(st->rows + st->n_rows));
	for (unsigned int r = 0; r < st->n_rows; r++)
		CU_ASSERT_FALSE(sl_req_row_used(st, r));
	sl_req_stats_free(st);
}

static void
test_status_classes(void)
{
	CU_ASSERT_EQUAL(sl_req_class_of(0), SL_REQ_CLASS_NONE);
	CU_ASSERT_EQUAL(sl_req_class_of(99), SL_REQ_CLASS_NONE);
	CU_ASSERT_EQUAL(sl_req_class_of(100), SL_REQ_CLASS_1XX);
	CU_ASSERT_EQUAL(sl_req_class_of(200), SL_REQ_CLASS_2XX);
	CU_ASSERT_EQUAL(sl_req_class_of(308), SL_REQ_CLASS_3XX);
	CU_ASSERT_EQUAL(sl_req_class_of(499), SL_REQ_CLASS_4XX);
	CU_ASSERT_EQUAL(sl_req_class_of(504), SL_REQ_CLASS_5XX);
	CU_ASSERT_EQUAL(sl_req_class_of(600), SL_REQ_CLASS_NONE);
	CU_ASSERT_STRING_EQUAL(sl_req_class_name(SL_REQ_CLASS_2XX), "2xx");
	CU_ASSERT_STRING_EQUAL(sl_proxy_error_name(SL_PROXY_ERR_BACKEND_TIMEOUT),
			       "backend_timeout");
	CU_ASSERT_STRING_EQUAL(sl_proxy_error_name(SL_PROXY_ERR_MAX), "unknown");
}

static void
test_worker_updates_land_in_their_row(void)
{
	struct sl_req_stats *st = sl_req_stats_create(1, 1, 2);
	unsigned int b1 = sl_req_row_backend(st, 1);

	sl_req_done(st, b1, 200, 1000);
	sl_req_done(st, b1, 503, 2000);
	sl_req_done(st, b1, 0, 3000);
	sl_req_error(st, b1, SL_PROXY_ERR_BACKEND_RESET);
	sl_req_inc(st, b1, retries);
	sl_req_inc(st, b1, pool_reused);
	sl_req_inc(st, b1, open_conns);
	sl_req_inc(st, b1, open_conns);
	sl_req_dec(st, b1, open_conns);
	CU_ASSERT_EQUAL(st->rows[b1].requests[SL_REQ_CLASS_2XX], 1);
	CU_ASSERT_EQUAL(st->rows[b1].requests[SL_REQ_CLASS_5XX], 1);
	CU_ASSERT_EQUAL(st->rows[b1].requests[SL_REQ_CLASS_NONE], 1);
	CU_ASSERT_EQUAL(st->rows[b1].errors[SL_PROXY_ERR_BACKEND_RESET], 1);
	CU_ASSERT_EQUAL(st->rows[b1].retries, 1);
	CU_ASSERT_EQUAL(st->rows[b1].open_conns, 1);
	CU_ASSERT_EQUAL(sl_hist_count(&st->hists[b1]), 3);
	CU_ASSERT_EQUAL(sl_hist_sum(&st->hists[b1]), 6000);
	for (unsigned int r = 0; r < st->n_rows; r++)
		CU_ASSERT_EQUAL(sl_req_row_used(st, r), r == b1);
	sl_req_stats_free(st);
}

static void
test_merge_sums_workers_and_gauges_that_went_negative(void)
{
	struct sl_req_stats *w[3], *sum = sl_req_stats_create(1, 2, 3);
	unsigned int loc = sl_req_row_location(sum, 1), b = sl_req_row_backend(sum, 2);

	for (int k = 0; k < 3; k++) {
		w[k] = sl_req_stats_create(1, 2, 3);
		for (int i = 0; i <= k; i++)
			sl_req_done(w[k], b, 200, 1000 * (k + 1));
		sl_req_error(w[k], loc, SL_PROXY_ERR_RATE_LIMITED);
	}
	/* a connection opened on worker 0 and counted closed on worker 2 */
	sl_req_inc(w[0], b, idle_conns);
	sl_req_dec(w[2], b, idle_conns);
	sl_req_dec(w[2], b, idle_conns);
	CU_ASSERT_EQUAL(sl_req_stats_merge(sum, (const struct sl_req_stats *const *)w, 3), 0);
	CU_ASSERT_EQUAL(sum->rows[b].requests[SL_REQ_CLASS_2XX], 6);
	CU_ASSERT_EQUAL(sum->rows[loc].errors[SL_PROXY_ERR_RATE_LIMITED], 3);
	CU_ASSERT_EQUAL((int64_t)sum->rows[b].idle_conns, -1);
	CU_ASSERT_EQUAL(sl_hist_count(&sum->hists[b]), 6);
	CU_ASSERT_EQUAL(sl_hist_sum(&sum->hists[b]), 1000 + 2 * 2000 + 3 * 3000);
	/* merging again starts from zero */
	CU_ASSERT_EQUAL(sl_req_stats_merge(sum, (const struct sl_req_stats *const *)w, 3), 0);
	CU_ASSERT_EQUAL(sum->rows[b].requests[SL_REQ_CLASS_2XX], 6);
	for (int k = 0; k < 3; k++)
		sl_req_stats_free(w[k]);
	sl_req_stats_free(sum);
}

static void
test_merge_refuses_blocks_of_another_snapshot(void)
{
	struct sl_req_stats *a = sl_req_stats_create(1, 2, 3), *b = sl_req_stats_create(1, 2, 4);

	CU_ASSERT_EQUAL(sl_req_stats_add(a, b), -EINVAL);
	sl_req_stats_free(a);
	sl_req_stats_free(b);
}

/* A worker counts while the control plane merges its block: the merged counts only grow and
 * end equal to what was counted. */
enum { CONC_N = 1000000 };
static struct sl_req_stats *conc_w;
static int conc_done;

static void *
conc_worker(void *arg)
{
	unsigned int row = sl_req_row_backend(conc_w, 1);

	for (unsigned int i = 0; i < CONC_N; i++) {
		sl_req_done(conc_w, row, 200, i);
		if (i % 4 == 0)
			sl_req_inc(conc_w, row, pool_reused);
	}
	__atomic_store_n(&conc_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_control_plane_merges_while_worker_counts(void)
{
	struct sl_req_stats *sum = sl_req_stats_create(1, 1, 2);
	const struct sl_req_stats *src[1];
	unsigned int row;
	uint64_t last = 0;
	int backwards = 0;
	pthread_t t;

	conc_w = sl_req_stats_create(1, 1, 2);
	src[0] = conc_w;
	row = sl_req_row_backend(sum, 1);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, conc_worker, NULL) == 0);
	while (!__atomic_load_n(&conc_done, __ATOMIC_ACQUIRE)) {
		sl_req_stats_merge(sum, src, 1);
		backwards |= sum->rows[row].requests[SL_REQ_CLASS_2XX] < last;
		last = sum->rows[row].requests[SL_REQ_CLASS_2XX];
	}
	pthread_join(t, NULL);
	CU_ASSERT_FALSE(backwards);
	sl_req_stats_merge(sum, src, 1);
	CU_ASSERT_EQUAL(sum->rows[row].requests[SL_REQ_CLASS_2XX], CONC_N);
	CU_ASSERT_EQUAL(sum->rows[row].pool_reused, CONC_N / 4);
	CU_ASSERT_EQUAL(sl_hist_count(&sum->hists[row]), CONC_N);
	CU_ASSERT_EQUAL(sl_hist_sum(&sum->hists[row]), (uint64_t)CONC_N * (CONC_N - 1) / 2);
	sl_req_stats_free(conc_w);
	sl_req_stats_free(sum);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_rows_are_distinct_and_cover_the_block),
	    SL_UNIT_TEST(test_status_classes),
	    SL_UNIT_TEST(test_worker_updates_land_in_their_row),
	    SL_UNIT_TEST(test_merge_sums_workers_and_gauges_that_went_negative),
	    SL_UNIT_TEST(test_merge_refuses_blocks_of_another_snapshot),
	    SL_UNIT_TEST(test_control_plane_merges_while_worker_counts),
	};

	return SL_UNIT_RUN("req_stats", tests);
}
