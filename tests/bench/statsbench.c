/* SPDX-License-Identifier: MIT */
/*
 * sl-bench-stats: what the stats cost, run by hand (built as build/tests/unit/lib/stats/
 * sl-bench-stats). Prints ns per histogram record (alone, and while another thread merges
 * the same histogram, as the control plane does on a scrape), ns per merge of two workers'
 * histograms and request blocks, and the time to render a /metrics page. Figures, no
 * pass/fail. Times are the thread's CPU time, so that other load on the machine does not count
 * (it still shares the caches).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/stats/metrics.h"

#define N_VALUES 4096

static uint64_t values[N_VALUES];
static struct sl_hist *shared;
static volatile int stop;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double
bench_record(struct sl_hist *h, unsigned long n)
{
	double t0 = now_ns();

	for (unsigned long i = 0; i < n; i++)
		sl_hist_record(h, values[i & (N_VALUES - 1)]);
	return (now_ns() - t0) / n;
}

static void *
merger(void *arg)
{
	struct sl_hist *m = malloc(sizeof(*m));
	const struct sl_hist *src[1] = {shared};
	unsigned long *merges = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		sl_hist_merge(m, src, 1);
		(*merges)++;
	}
	free(m);
	return NULL;
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 50000000ul, merges = 0;
	struct sl_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
		       *m = malloc(sizeof(*m));
	const struct sl_hist *two[2] = {a, b};
	uint64_t seed = 12345;
	double t0, per;
	pthread_t t;
	int reps = 20000;

	for (int i = 0; i < N_VALUES; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		values[i] = 1000 + (seed >> 30) % 100000000; /* 1 us .. 100 ms */
	}
	bench_record(a, n / 10); /* warm up */
	printf("hist record:                     %.2f ns\n", bench_record(a, n));

	shared = b;
	pthread_create(&t, NULL, merger, &merges);
	per = bench_record(b, n);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	printf("hist record, reader merging:     %.2f ns (%lu merges meanwhile)\n", per, merges);

	t0 = now_ns();
	for (int i = 0; i < reps; i++)
		sl_hist_merge(m, two, 2);
	printf("hist merge of 2 workers:         %.0f ns (%u buckets each)\n",
	       (now_ns() - t0) / reps, SL_HIST_BUCKETS);

	/* 1 service, 10 locations, 100 backends: 112 rows. */
	{
		struct sl_req_stats *w[2], *sum = sl_req_stats_create(1, 10, 100);
		const char *svc[] = {"web"};
		const char *locs[10], *bes[100];
		unsigned int loc_svc[10] = {0}, be_loc[100];
		char lbuf[10][16], bbuf[100][40];
		struct sl_metrics_names names = {svc, locs, loc_svc, bes, be_loc};
		struct sl_prom p;
		int r = 200;

		for (int i = 0; i < 10; i++) {
			snprintf(lbuf[i], sizeof(lbuf[i]), "/l%d/", i);
			locs[i] = lbuf[i];
		}
		for (int i = 0; i < 100; i++) {
			snprintf(bbuf[i], sizeof(bbuf[i]), "http://198.18.1.%d:8080", i);
			bes[i] = bbuf[i];
			be_loc[i] = i / 10;
		}
		for (int k = 0; k < 2; k++) {
			w[k] = sl_req_stats_create(1, 10, 100);
			for (int i = 0; i < 100000; i++)
				sl_req_done(w[k], sl_req_row_backend(w[k], i % 100), 200,
					    values[i & (N_VALUES - 1)]);
		}
		t0 = now_ns();
		for (int i = 0; i < r; i++)
			sl_req_stats_merge(sum, (const struct sl_req_stats *const *)w, 2);
		printf("request block merge, 2 workers:  %.1f us (112 rows, %.0f KB a block)\n",
		       (now_ns() - t0) / r / 1e3,
		       (112.0 * (sizeof(struct sl_req_row) + sizeof(struct sl_hist))) / 1024);
		t0 = now_ns();
		for (int i = 0; i < r; i++) {
			sl_prom_init(&p);
			sl_metrics_requests(&p, sum, &names, sl_prom_le_default,
					    sl_prom_n_le_default);
			if (i + 1 < r)
				sl_prom_free(&p);
		}
		printf("render request families:         %.1f us (%zu bytes)\n",
		       (now_ns() - t0) / r / 1e3, p.len);
		sl_prom_free(&p);
		for (int k = 0; k < 2; k++)
			sl_req_stats_free(w[k]);
		sl_req_stats_free(sum);
	}
	free(a);
	free(b);
	free(m);
	return 0;
}
