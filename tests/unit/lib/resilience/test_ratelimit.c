/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash/siphash.h"
#include "lib/resilience/ratelimit.h"
#include "resil_test.h"

static const uint8_t hkey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static struct sl_rl_table *
table(uint64_t cap)
{
	struct sl_rl_table *t;

	CU_ASSERT_EQUAL_FATAL(sl_rl_table_create(cap, hkey, &t), 0);
	return t;
}

static void
test_burst_is_honoured_then_retry_after(void)
{
	struct sl_rl_table *t = table(64);
	struct sl_rl_params p;
	uint64_t ra = 0;

	/* Terraster's global block: 100 requests/s, burst 150. */
	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 100, 150, 1), 0);
	for (int i = 0; i < 150; i++)
		CU_ASSERT_TRUE(sl_rl_check(t, &p, 0xc6120001, SEC(5), NULL, NULL));
	CU_ASSERT_FALSE(sl_rl_check(t, &p, 0xc6120001, SEC(5), &ra, NULL));
	CU_ASSERT_EQUAL(ra, MS(10));
	CU_ASSERT_EQUAL(sl_rl_retry_after_s(ra), 1);
	/* Another client is untouched. */
	CU_ASSERT_TRUE(sl_rl_check(t, &p, 0xc6120002, SEC(5), NULL, NULL));
	/* 10 ms later exactly one more request. */
	CU_ASSERT_FALSE(sl_rl_check(t, &p, 0xc6120001, SEC(5) + MS(10) - 1, &ra, NULL));
	CU_ASSERT_EQUAL(ra, 1);
	CU_ASSERT_TRUE(sl_rl_check(t, &p, 0xc6120001, SEC(5) + MS(10), NULL, NULL));
	CU_ASSERT_FALSE(sl_rl_check(t, &p, 0xc6120001, SEC(5) + MS(10), NULL, NULL));
	sl_rl_table_free(t);
}

static void
test_retry_after_counts_whole_seconds_up(void)
{
	struct sl_rl_params p;
	uint64_t tat = 0, ra = 0;

	/* requests_per_minute: 6 is stored as 0.1/s: one every 10 s, burst 1. */
	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 6.0 / 60.0, 1, 1), 0);
	CU_ASSERT_TRUE(sl_rl_bucket_check(&tat, &p, SEC(100), &ra));
	CU_ASSERT_FALSE(sl_rl_bucket_check(&tat, &p, SEC(100) + MS(300), &ra));
	CU_ASSERT_EQUAL(ra, MS(9700));
	CU_ASSERT_EQUAL(sl_rl_retry_after_s(ra), 10);
	CU_ASSERT_FALSE(sl_rl_bucket_check(&tat, &p, SEC(109) + 1, &ra));
	CU_ASSERT_EQUAL(sl_rl_retry_after_s(ra), 1);
	CU_ASSERT_TRUE(sl_rl_bucket_check(&tat, &p, SEC(110), &ra));
	CU_ASSERT_EQUAL(sl_rl_retry_after_s(0), 1);
	CU_ASSERT_EQUAL(sl_rl_retry_after_s(SEC(2)), 2);
	CU_ASSERT_EQUAL(sl_rl_retry_after_s(SEC(2) + 1), 3);
}

static void
test_idle_bucket_refills_to_burst_only(void)
{
	struct sl_rl_params p;
	uint64_t tat = 0;
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 10, 20, 1), 0);
	sl_rl_bucket_check(&tat, &p, SEC(1), NULL);
	for (int i = 0; i < 100; i++)
		n += sl_rl_bucket_check(&tat, &p, SEC(3600), NULL);
	CU_ASSERT_EQUAL(n, 20);
}

static void
test_params_reject_nonsense_and_split_per_worker(void)
{
	struct sl_rl_params p, q;
	struct sl_config_rate_limit c = {.enabled = true, .requests_per_second = 100, .burst = 150};

	CU_ASSERT_EQUAL(sl_rl_params_init(&p, 0, 10, 1), -EINVAL);
	CU_ASSERT_EQUAL(sl_rl_params_init(&p, -1, 10, 1), -EINVAL);
	CU_ASSERT_EQUAL(sl_rl_params_init(&p, 10, 0, 1), -EINVAL);
	CU_ASSERT_EQUAL(sl_rl_params_init(&p, 10, 10, 0), -EINVAL);
	CU_ASSERT_EQUAL(sl_rl_params_from_config(&p, &c, 4), 0);
	CU_ASSERT_EQUAL(sl_rl_params_init(&q, 25, 38, 1), 0);
	CU_ASSERT_EQUAL(p.t_fp, q.t_fp);
	CU_ASSERT_EQUAL(p.tau_fp, q.tau_fp); /* ceil(150 / 4) = 38 */
	c.enabled = false;
	CU_ASSERT_EQUAL(sl_rl_params_from_config(&p, &c, 1), -EINVAL);
}

/*
 * Retry-After is exact for any rate and burst: a denied request repeated retry_after later is
 * allowed, and one microsecond earlier still denied.
 */
static void
test_retry_after_is_exact_for_random_rates(void)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned int denials = 0;

	for (int round = 0; round < 200; round++) {
		struct sl_rl_params p;
		uint64_t tat = 0, now = SEC(1);
		double rate;
		uint32_t burst;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		rate = 0.01 + (double)(rng >> 40) / (double)(1 << 24) * 5000;
		burst = 1 + (uint32_t)(rng >> 20) % 50;
		CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, rate, burst, 1), 0);
		for (int i = 0; i < 200; i++) {
			uint64_t ra = 0, copy;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			now += (rng >> 33) % (uint64_t)(0.5e6 / rate + 1); /* 4x the rate */
			if (sl_rl_bucket_check(&tat, &p, now, &ra))
				continue;
			denials++;
			CU_ASSERT_FATAL(ra > 0);
			copy = tat;
			CU_ASSERT_FALSE(sl_rl_bucket_check(&copy, &p, now + ra - 1, NULL));
			copy = tat;
			CU_ASSERT_TRUE(sl_rl_bucket_check(&copy, &p, now + ra, NULL));
		}
	}
	CU_ASSERT(denials > 1000);
}

/* A client far above its limit for a long simulated run gets rate x time + burst, +-1%. */
static void
rate_run(double rate, uint32_t burst, double offered, double seconds)
{
	struct sl_rl_table *t = table(8);
	struct sl_rl_params p;
	uint64_t allowed = 0, n = (uint64_t)(offered * seconds);
	double expect = rate * seconds + burst;

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, rate, burst, 1), 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t now = (uint64_t)((double)i * 1e6 / offered);

		allowed += sl_rl_check(t, &p, 42, now, NULL, NULL);
	}
	CU_ASSERT(fabs((double)allowed - expect) <= expect * 0.01);
	if (fabs((double)allowed - expect) > expect * 0.01)
		printf("\nrate %.3f burst %u: %lu allowed, %.0f expected\n", rate, burst,
		       (unsigned long)allowed, expect);
	sl_rl_table_free(t);
}

static void
test_rate_is_accurate_over_a_long_run(void)
{
	rate_run(100, 150, 1000, 1000);
	/* Burst 1 loses the part of a token that arrives between two requests (a bucket of one
	 * token cannot hold 1.4): with burst >= 2 the long-run rate is exact. */
	rate_run(33.3, 2, 97, 3000);
	rate_run(0.5, 3, 10, 20000);
	rate_run(12345, 100, 40000, 30);
	rate_run(1000000, 1000, 3000000, 1);
}

/*
 * Table memory is fixed, and a flood of 100k addresses does not push out the steady
 * clients. Each flood address empties its bucket at once (11 requests for a burst of 10),
 * so its entry carries as much debt as a limited client's and "evict the most tokens" alone
 * would not tell them apart; the protected segment does. Each steady client, sending at twice
 * its limit the whole time, must get its limit within 10% (an evicted client comes back with
 * a full burst and gets more) and still be tracked and in debt at the end.
 */
static void
flood_run(unsigned int flood_per_s, unsigned int *bad_out, struct sl_rl_stats *st)
{
	const unsigned int n_steady = 200, seconds = 60, flood = 100000;
	struct sl_rl_table *t = table(2048);
	uint64_t bytes = sl_rl_table_bytes(t), cap = sl_rl_table_capacity(t);
	struct sl_rl_params p;
	uint64_t *allowed = calloc(n_steady, sizeof(*allowed));
	unsigned int next_flood = 0, bad = 0;
	double expect = 10.0 * seconds + 10;

	memset(st, 0, sizeof(*st));
	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 10, 10, 1), 0);
	/* 1 ms steps: each steady client sends 20/s; the flood starts at 5 s. */
	for (uint64_t ms = 0; ms < seconds * 1000ull; ms++) {
		uint64_t now = MS(ms);

		for (unsigned int c = 0; c < n_steady; c++)
			if ((ms + c) % 50 == 0)
				allowed[c] += sl_rl_check(t, &p, 0xc6120000u + c, now, NULL, st);
		while (ms >= 5000 && next_flood < flood &&
		       (uint64_t)next_flood * 1000 < (ms - 5000) * flood_per_s) {
			for (int k = 0; k < 11; k++)
				sl_rl_check(t, &p, 0xc6130000u + next_flood, now, NULL, st);
			next_flood++;
		}
	}
	CU_ASSERT_EQUAL(next_flood, flood);
	CU_ASSERT_EQUAL(sl_rl_table_bytes(t), bytes);
	CU_ASSERT_EQUAL(sl_rl_table_capacity(t), cap);
	CU_ASSERT(sl_rl_table_used(t) <= cap);
	for (unsigned int c = 0; c < n_steady; c++) {
		if (fabs((double)allowed[c] - expect) > expect * 0.10)
			bad++;
		else if (sl_rl_tokens(t, &p, 0xc6120000u + c, MS(seconds * 1000ull)) > 9.5)
			bad++;
	}
	*bad_out = bad;
	printf("\n      flood %u addresses/s: table %lu entries, %lu KiB; inserted %lu, evicted "
	       "full %lu, evicted with debt %lu, untracked %lu; steady clients off limit: %u ",
	       flood_per_s, (unsigned long)cap, (unsigned long)(bytes >> 10),
	       (unsigned long)st->inserted, (unsigned long)st->evicted_full,
	       (unsigned long)st->evicted_debt, (unsigned long)st->untracked, bad);
	free(allowed);
	sl_rl_table_free(t);
}

static void
test_flood_of_100k_addresses_keeps_steady_clients_limited(void)
{
	struct sl_rl_stats st;
	unsigned int bad;

	flood_run(2000, &bad, &st);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(st.evicted_debt > 50000); /* the flood did fight for the space */
	flood_run(20000, &bad, &st);
	CU_ASSERT_EQUAL(bad, 0);
}

/*
 * A set holds at most 6 protected keys (a 7th promotion demotes the protected key with the
 * most tokens), so new keys always find a probationary way.
 */
static void
test_protected_segment_is_bounded_per_set(void)
{
	struct sl_rl_table *t = table(8); /* one set */
	struct sl_rl_params p;
	unsigned int prot = 0;

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 1, 5, 1), 0);
	for (unsigned int c = 0; c < 8; c++) {
		sl_rl_check(t, &p, c, SEC(1), NULL, NULL);
		sl_rl_check(t, &p, c, SEC(1), NULL, NULL); /* too soon to be promoted */
	}
	for (unsigned int w = 0; w < SL_RL_WAYS; w++)
		prot += (atomic_load(&t->e[w].key) >> 62) & 1;
	CU_ASSERT_EQUAL(prot, 0);
	for (unsigned int c = 0; c < 8; c++)
		sl_rl_check(t, &p, c, SEC(3), NULL, NULL);
	for (unsigned int w = 0; w < SL_RL_WAYS; w++)
		prot += (atomic_load(&t->e[w].key) >> 62) & 1;
	CU_ASSERT_EQUAL(prot, SL_RL_PROTECTED_WAYS);
	/* New keys always find a probationary way: the table never refuses to track. */
	struct sl_rl_stats st = {0};

	for (unsigned int c = 100; c < 200; c++)
		sl_rl_check(t, &p, c, SEC(3), NULL, &st);
	CU_ASSERT_EQUAL(st.untracked, 0);
	CU_ASSERT_EQUAL(st.inserted, 100);
	sl_rl_table_free(t);
}

/* A full bucket is replaced before one that carries a debt, whatever the order. */
static void
test_full_buckets_are_evicted_before_indebted_ones(void)
{
	struct sl_rl_table *t = table(8);
	struct sl_rl_params p;
	struct sl_rl_stats st = {0};

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 1, 10, 1), 0);
	/* 8 one-shot keys at t=0: after 2 s keys 0-3 are full again... */
	for (unsigned int c = 0; c < 8; c++)
		sl_rl_check(t, &p, c, c < 4 ? 0 : SEC(2), NULL, NULL);
	/* ...so 4 newcomers at 2 s replace exactly those, losslessly. */
	for (unsigned int c = 10; c < 14; c++)
		sl_rl_check(t, &p, c, SEC(2), NULL, &st);
	CU_ASSERT_EQUAL(st.evicted_full, 4);
	CU_ASSERT_EQUAL(st.evicted_debt, 0);
	for (unsigned int c = 4; c < 8; c++)
		CU_ASSERT(sl_rl_tokens(t, &p, c, SEC(2)) < 9.5);
	sl_rl_table_free(t);
}

/*
 * Two callers (workers) charging one table, each with its own counters: the sum over them
 * (a NULL block skipped, the output overwritten) is what the table went through, every insert
 * into a full table an eviction: inserted - evicted = entries held.
 */
static void
test_stats_sum_over_callers_accounts_for_the_table(void)
{
	struct sl_rl_table *t = table(8); /* one set */
	struct sl_rl_params p;
	struct sl_rl_stats a = {0}, b = {0}, sum;
	const struct sl_rl_stats *w[3] = {&a, NULL, &b};

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 1, 2, 1), 0);
	/* Worker a: 10 new keys at 0 (8 fill the set, 2 replace buckets with debt). */
	for (unsigned int c = 0; c < 10; c++)
		sl_rl_check(t, &p, c, 0, NULL, &a);
	/* Worker b at 5 s: every bucket is full again. Key 9 (just inserted, so held) is charged
	 * three times: two allowed, one denied; then 3 new keys replace full buckets. */
	CU_ASSERT(sl_rl_check(t, &p, 9, SEC(5), NULL, &b));
	CU_ASSERT(sl_rl_check(t, &p, 9, SEC(5), NULL, &b));
	CU_ASSERT_FALSE(sl_rl_check(t, &p, 9, SEC(5), NULL, &b));
	for (unsigned int c = 20; c < 23; c++)
		sl_rl_check(t, &p, c, SEC(5), NULL, &b);
	memset(&sum, 0xa5, sizeof(sum));
	sl_rl_stats_sum(&sum, w, 3);
	CU_ASSERT_EQUAL(a.evicted_debt, 2);
	CU_ASSERT_EQUAL(b.evicted_full, 3);
	CU_ASSERT_EQUAL(sum.inserted, 13);
	CU_ASSERT_EQUAL(sum.evicted_full, 3);
	CU_ASSERT_EQUAL(sum.evicted_debt, 2);
	CU_ASSERT_EQUAL(sum.untracked, 0);
	CU_ASSERT_EQUAL(sum.allowed, 15);
	CU_ASSERT_EQUAL(sum.denied, 1);
	CU_ASSERT_EQUAL(sum.inserted - sum.evicted_full - sum.evicted_debt, sl_rl_table_used(t));
	sl_rl_stats_sum(&sum, w, 0);
	CU_ASSERT_EQUAL(sum.inserted + sum.allowed + sum.untracked, 0);
	sl_rl_table_free(t);
}

/*
 * N simulated workers, clients spread over them by an RSS-like hash of (address, port):
 * every request of a client goes out on one of its C connections in turn. Returns the worst
 * relative error of a client's allowed count against rate x time + burst.
 */
static double
workers_run(unsigned int n_workers, bool shared, unsigned int conns, double *mean_ratio)
{
	const unsigned int n_clients = 64, seconds = 100;
	const double rate = 50, offered = 150;
	struct sl_rl_table *t[8];
	struct sl_rl_params p;
	uint64_t allowed[64] = {0};
	double worst = 0, sum = 0;
	uint8_t rss_key[16] = {0x6d, 0x5a};

	for (unsigned int w = 0; w < n_workers; w++)
		t[w] = shared && w ? t[0] : table(4096);
	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, rate, 50, shared ? 1 : n_workers), 0);
	for (uint64_t i = 0; i < (uint64_t)(offered * seconds); i++) {
		uint64_t now = (uint64_t)((double)i * 1e6 / offered);

		for (unsigned int c = 0; c < n_clients; c++) {
			uint32_t tuple[2] = {0xc6120000u + c, 40000 + (uint32_t)(i % conns)};
			unsigned int w = sl_siphash24(rss_key, tuple, sizeof(tuple)) % n_workers;

			allowed[c] += sl_rl_check(t[w], &p, 0xc6120000u + c, now + c, NULL, NULL);
		}
	}
	for (unsigned int c = 0; c < n_clients; c++) {
		double r = (double)allowed[c] / (rate * seconds + 50);

		sum += r;
		worst = fabs(r - 1) > worst ? fabs(r - 1) : worst;
	}
	for (unsigned int w = 0; w < (shared ? 1 : n_workers); w++)
		sl_rl_table_free(t[w]);
	*mean_ratio = sum / n_clients;
	return worst;
}

static void
test_aggregate_rate_across_workers(void)
{
	double mean, worst;

	/* One shared table: exact whatever the number of connections. */
	worst = workers_run(4, true, 1, &mean);
	CU_ASSERT(worst < 0.01);
	worst = workers_run(4, true, 16, &mean);
	CU_ASSERT(worst < 0.01);
	/* Per-worker tables at rate / 4: right on average when a client's requests spread over
	 * many connections, within 10% for every client... */
	worst = workers_run(4, false, 64, &mean);
	printf("\n      per-worker split, 64 connections: worst %.1f%%, mean %.3f ", worst * 100,
	       mean);
	CU_ASSERT(worst < 0.10);
	/* ...and a client on one keep-alive connection gets only a quarter of its rate: why the
	 * shared table is the default. */
	worst = workers_run(4, false, 1, &mean);
	printf("1 connection: mean %.3f ", mean);
	CU_ASSERT(mean < 0.3);
}

/* Threads charging one key at one instant: together they get exactly the burst. */
#define N_THREADS 4
struct hammer {
	struct sl_rl_table *t;
	struct sl_rl_params *p;
	pthread_barrier_t *bar;
	unsigned int allowed;
};

static void *
hammer_main(void *arg)
{
	struct hammer *h = arg;

	pthread_barrier_wait(h->bar);
	for (int i = 0; i < 5000; i++)
		h->allowed += sl_rl_check(h->t, h->p, 7, SEC(5000), NULL, NULL);
	return NULL;
}

static void
test_threads_sharing_a_bucket_never_exceed_it(void)
{
	struct sl_rl_table *t = table(1024);
	struct sl_rl_params p;
	pthread_barrier_t bar;
	struct hammer h[N_THREADS];
	pthread_t th[N_THREADS];
	unsigned int total = 0;

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 1, 1000, 1), 0);
	sl_rl_check(t, &p, 7, 0, NULL, NULL); /* tracked, and full again at 5000 s */
	pthread_barrier_init(&bar, NULL, N_THREADS);
	for (int i = 0; i < N_THREADS; i++) {
		h[i] = (struct hammer){.t = t, .p = &p, .bar = &bar};
		pthread_create(&th[i], NULL, hammer_main, &h[i]);
	}
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(th[i], NULL);
		total += h[i].allowed;
	}
	pthread_barrier_destroy(&bar);
	CU_ASSERT_EQUAL(total, 1000);
	sl_rl_table_free(t);
}

/*
 * scripts/bench.sh's rate-limit case: 100k client addresses, each seen once over 10 s, then
 * again. 8-way sets fill unevenly (Poisson): a 262,144-entry table (4 MiB, the bench's
 * setting) keeps more than 99% of them; the 131,072 default about 94% (the rest take turns in
 * the fullest sets, each eviction a full bucket: nothing is lost, no limit loosens).
 */
static void
test_table_sized_for_100k_clients_holds_them(void)
{
	static const uint64_t caps[] = {262144, 131072};
	static const uint64_t lo[] = {99000, 90000}, hi[] = {100000, 98000};
	struct sl_rl_params p;

	CU_ASSERT_EQUAL_FATAL(sl_rl_params_init(&p, 10, 10, 1), 0);
	for (unsigned int i = 0; i < 2; i++) {
		struct sl_rl_table *t = table(caps[i]);
		struct sl_rl_stats st = {0};
		uint64_t used[2];

		CU_ASSERT_EQUAL(sl_rl_table_capacity(t), caps[i]);
		CU_ASSERT(sl_rl_table_bytes(t) >= caps[i] * 16 &&
			  sl_rl_table_bytes(t) < caps[i] * 16 + 4096);
		for (unsigned int pass = 0; pass < 2; pass++) {
			for (uint32_t c = 0; c < 100000; c++)
				CU_ASSERT(sl_rl_check(t, &p, 1ull << 32 | (0xc6124001u + c),
						      MS(pass * 15000ull + c / 10), NULL, &st));
			used[pass] = sl_rl_table_used(t);
			CU_ASSERT(used[pass] >= lo[i] && used[pass] <= hi[i]);
		}
		CU_ASSERT_EQUAL(st.evicted_debt, 0);
		CU_ASSERT_EQUAL(st.untracked, 0);
		printf("\n      %lu entries: %lu then %lu of 100000 clients held ",
		       (unsigned long)caps[i], (unsigned long)used[0], (unsigned long)used[1]);
		sl_rl_table_free(t);
	}
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_burst_is_honoured_then_retry_after),
	    T(test_retry_after_counts_whole_seconds_up),
	    T(test_idle_bucket_refills_to_burst_only),
	    T(test_retry_after_is_exact_for_random_rates),
	    T(test_params_reject_nonsense_and_split_per_worker),
	    T(test_rate_is_accurate_over_a_long_run),
	    T(test_flood_of_100k_addresses_keeps_steady_clients_limited),
	    T(test_protected_segment_is_bounded_per_set),
	    T(test_full_buckets_are_evicted_before_indebted_ones),
	    T(test_stats_sum_over_callers_accounts_for_the_table),
	    T(test_aggregate_rate_across_workers),
	    T(test_threads_sharing_a_bucket_never_exceed_it),
	    T(test_table_sized_for_100k_clients_holds_them),
	};

	return SL_UNIT_RUN("resil_ratelimit", tests);
}
