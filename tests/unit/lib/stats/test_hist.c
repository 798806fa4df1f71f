/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/stats/hist.h"
#include "cunit_main.h"

/* xorshift64*: reproducible data without global libc state. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Log-uniform over [lo, hi] ns: every decade gets the same share, like real latencies. */
static uint64_t
rnd_latency(uint64_t *s, double lo, double hi)
{
	double u = (double)(rnd(s) >> 11) / 9007199254740992.0;

	return (uint64_t)exp(log(lo) + u * (log(hi) - log(lo)));
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_buckets_tile_the_range_with_bounded_width(void)
{
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++) {
		uint64_t lo = sl_hist_lower(i), hi = sl_hist_upper(i);

		CU_ASSERT_FATAL(lo < hi);
		/* (lo, hi]: both ends of the range file into i, the values around it do not. */
		CU_ASSERT_EQUAL(sl_hist_index(hi), i);
		CU_ASSERT_EQUAL(sl_hist_index(lo + 1), i);
		if (i > 0)
			CU_ASSERT_EQUAL(sl_hist_index(lo), i - 1);
		if (i + 1 < SL_HIST_BUCKETS)
			CU_ASSERT_EQUAL(sl_hist_upper(i), sl_hist_lower(i + 1));
		/* relative width at most 1/32 (3.125 %) */
		if (i >= 64)
			CU_ASSERT((hi - lo) * 32 <= lo);
	}
	CU_ASSERT_EQUAL(sl_hist_upper(SL_HIST_BUCKETS - 1), SL_HIST_MAX_NS);
}

static void
test_small_values_get_their_own_buckets(void)
{
	CU_ASSERT_EQUAL(sl_hist_index(0), 0);
	CU_ASSERT_EQUAL(sl_hist_index(1), 0);
	for (uint64_t v = 1; v <= 64; v++)
		CU_ASSERT_EQUAL(sl_hist_upper(sl_hist_index(v)), v);
	/* 1 us and 100 s are inside the range */
	CU_ASSERT(sl_hist_upper(sl_hist_index(1000)) - 1000 <= 1000 / 32);
	CU_ASSERT(sl_hist_index(100000000000ull) < SL_HIST_BUCKETS - 1);
}

static void
test_values_above_range_go_to_overflow_bucket(void)
{
	struct sl_hist *h = calloc(1, sizeof(*h));

	CU_ASSERT_EQUAL(sl_hist_index(SL_HIST_MAX_NS), SL_HIST_BUCKETS - 1);
	CU_ASSERT_EQUAL(sl_hist_index(SL_HIST_MAX_NS + 1), SL_HIST_BUCKETS - 1);
	CU_ASSERT_EQUAL(sl_hist_index(UINT64_MAX), SL_HIST_BUCKETS - 1);
	sl_hist_record(h, UINT64_MAX / 2);
	CU_ASSERT_EQUAL(sl_hist_count(h), 1);
	CU_ASSERT_EQUAL(h->buckets[SL_HIST_BUCKETS - 1], 1);
	free(h);
}

static void
test_count_and_sum(void)
{
	struct sl_hist *h = calloc(1, sizeof(*h));

	CU_ASSERT_EQUAL(sl_hist_quantile(h, 0.5), 0);
	sl_hist_record(h, 1000);
	sl_hist_record(h, 2000);
	sl_hist_record(h, 3000000);
	CU_ASSERT_EQUAL(sl_hist_count(h), 3);
	CU_ASSERT_EQUAL(sl_hist_sum(h), 3003000);
	CU_ASSERT_EQUAL(sl_hist_quantile(h, 0), sl_hist_upper(sl_hist_index(1000)));
	CU_ASSERT_EQUAL(sl_hist_quantile(h, 1), sl_hist_upper(sl_hist_index(3000000)));
	sl_hist_reset(h);
	CU_ASSERT_EQUAL(sl_hist_count(h), 0);
	free(h);
}

static void
test_quantiles_within_relative_error_of_exact(void)
{
	enum { N = 200000 };
	static const double qs[] = {0.5, 0.9, 0.95, 0.99, 0.999, 0.9999};
	uint64_t *v = malloc(N * sizeof(*v)), seed = 42;
	struct sl_hist *h = calloc(1, sizeof(*h));
	double worst = 0;

	for (int i = 0; i < N; i++) {
		v[i] = rnd_latency(&seed, 1e3, 1e11); /* 1 us .. 100 s */
		sl_hist_record(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (unsigned int k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t exact = v[(size_t)ceil(qs[k] * N) - 1];
		uint64_t got = sl_hist_quantile(h, qs[k]);
		double err = ((double)got - (double)exact) / (double)exact;

		/* never below the exact quantile, at most one bucket width (1/32) above */
		CU_ASSERT(got >= exact);
		CU_ASSERT(err <= 1.0 / 32);
		if (err > worst)
			worst = err;
	}
	printf("(worst relative error %.4f%%) ", worst * 100);
	free(v);
	free(h);
}

static void
test_merge_equals_recording_everything_in_one(void)
{
	enum { W = 4, N = 50000 };
	struct sl_hist *w[W], *all = calloc(1, sizeof(*all)), *m = calloc(1, sizeof(*m));
	uint64_t seed = 7;

	for (int k = 0; k < W; k++)
		w[k] = calloc(1, sizeof(*w[k]));
	for (int i = 0; i < N; i++) {
		uint64_t x = rnd_latency(&seed, 1, 1e12);

		sl_hist_record(w[rnd(&seed) % W], x);
		sl_hist_record(all, x);
	}
	sl_hist_merge(m, (const struct sl_hist *const *)w, W);
	CU_ASSERT_EQUAL(memcmp(m, all, sizeof(*m)), 0);
	CU_ASSERT_EQUAL(sl_hist_count(m), N);
	CU_ASSERT_EQUAL(sl_hist_quantile(m, 0.99), sl_hist_quantile(all, 0.99));
	for (int k = 0; k < W; k++)
		free(w[k]);
	free(all);
	free(m);
}

static void
test_n_below_never_counts_a_straddling_bucket(void)
{
	unsigned int j = sl_hist_index(500000); /* 0.5 ms lies inside (499712, 507904] */
	unsigned int n = sl_hist_n_below(500000);

	CU_ASSERT_EQUAL(sl_hist_lower(j), 499712);
	CU_ASSERT_EQUAL(sl_hist_upper(j), 507904);
	CU_ASSERT_EQUAL(n, j);				 /* buckets 0..j-1 only */
	CU_ASSERT_EQUAL(sl_hist_n_below(507904), j + 1); /* a bound: its bucket is in */
	CU_ASSERT_EQUAL(sl_hist_n_below(0), 0);
	CU_ASSERT_EQUAL(sl_hist_n_below(1), 1);
	CU_ASSERT_EQUAL(sl_hist_n_below(UINT64_MAX), SL_HIST_BUCKETS - 1);
	CU_ASSERT_EQUAL(sl_hist_n_below(SL_HIST_MAX_NS), SL_HIST_BUCKETS - 1);
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++)
		CU_ASSERT(sl_hist_n_below(sl_hist_upper(i)) ==
			  (i + 1 < SL_HIST_BUCKETS ? i + 1 : i));
}

/* One writer records while a reader merges; the reader never sees a count go backwards or
 * exceed what was recorded, and the final merge has every record. */
enum { CONC_N = 2000000 };
static struct sl_hist *conc_h;
static volatile int conc_done;

static void *
conc_writer(void *arg)
{
	uint64_t seed = 99;

	for (int i = 0; i < CONC_N; i++)
		sl_hist_record(conc_h, rnd(&seed) % 100000000);
	__atomic_store_n(&conc_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_reader_merges_while_writer_records(void)
{
	struct sl_hist *m = malloc(sizeof(*m));
	const struct sl_hist *src[1];
	uint64_t last = 0, merges = 0;
	int bad_order = 0, too_many = 0;
	pthread_t t;

	conc_h = calloc(1, sizeof(*conc_h));
	src[0] = conc_h;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, conc_writer, NULL) == 0);
	while (!__atomic_load_n(&conc_done, __ATOMIC_ACQUIRE)) {
		uint64_t c;

		sl_hist_merge(m, src, 1);
		c = sl_hist_count(m);
		bad_order |= c < last;
		too_many |= c > CONC_N;
		last = c;
		merges++;
	}
	pthread_join(t, NULL);
	CU_ASSERT_FALSE(bad_order);
	CU_ASSERT_FALSE(too_many);
	sl_hist_merge(m, src, 1);
	CU_ASSERT_EQUAL(sl_hist_count(m), CONC_N);
	printf("(%lu merges during the writes) ", (unsigned long)merges);
	free(m);
	free(conc_h);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_buckets_tile_the_range_with_bounded_width),
	    SL_UNIT_TEST(test_small_values_get_their_own_buckets),
	    SL_UNIT_TEST(test_values_above_range_go_to_overflow_bucket),
	    SL_UNIT_TEST(test_count_and_sum),
	    SL_UNIT_TEST(test_quantiles_within_relative_error_of_exact),
	    SL_UNIT_TEST(test_merge_equals_recording_everything_in_one),
	    SL_UNIT_TEST(test_n_below_never_counts_a_straddling_bucket),
	    SL_UNIT_TEST(test_reader_merges_while_writer_records),
	};

	return SL_UNIT_RUN("hist", tests);
}
