/* SPDX-License-Identifier: MIT */
/*
 * sl-resilbench: the cost of lib/resilience's per-request checks, in ns, on this CPU. Figures
 * only; nothing passes or fails. Built and run by tests/bench/resilbench.sh.
 *
 *   rate limit  one sl_rl_check against a table holding 100k client addresses (131072
 *               entries, 2 MiB: larger than L2, so most checks miss the cache like a
 *               worker's would), clients drawn at random; then with every request from a new
 *               address (insert + eviction each time); then 2 threads on one shared table.
 *   breaker     sl_breaker_allow + sl_breaker_report(success) on a closed breaker, one
 *               thread and 2 threads on the same breaker (the shared-line case).
 *   admission   sl_adm_enter + sl_adm_release with room, one thread.
 *   outlier     sl_outlier_report(success), one thread.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/resilience/resilience.h"

static volatile uint64_t sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t
xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const uint8_t hkey[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

struct rl_arg {
	struct sl_rl_table *t;
	struct sl_rl_params *p;
	long iters;
	uint64_t seed;
	unsigned int n_clients; /* 0: a new address every request */
	double ns;
};

static void *
rl_main(void *arg)
{
	struct rl_arg *a = arg;
	uint64_t s = a->seed, allowed = 0, fresh = a->seed << 24;
	/* Precomputed keys keep the PRNG out of the figure as far as possible. */
	double t0 = now_ns();

	for (long i = 0; i < a->iters; i++) {
		uint64_t key = a->n_clients ? 0xc6120000u + xs(&s) % a->n_clients : fresh++;

		allowed += sl_rl_check(a->t, a->p, key, 1000000 + (uint64_t)i / 16, NULL, NULL);
	}
	a->ns = (now_ns() - t0) / a->iters;
	sink += allowed;
	return NULL;
}

static double
rl_run(unsigned int threads, unsigned int n_clients, long iters)
{
	struct sl_rl_table *t;
	struct sl_rl_params p;
	struct rl_arg a[8];
	pthread_t th[8];
	double sum = 0;

	sl_rl_table_create(131072, hkey, &t);
	sl_rl_params_init(&p, 100, 150, 1);
	/* Warm: every client tracked. */
	for (unsigned int c = 0; c < n_clients; c++)
		sl_rl_check(t, &p, 0xc6120000u + c, 0, NULL, NULL);
	for (unsigned int i = 0; i < threads; i++) {
		a[i] = (struct rl_arg){.t = t,
				       .p = &p,
				       .iters = iters,
				       .seed = 88172645463325252ull + i,
				       .n_clients = n_clients};
		pthread_create(&th[i], NULL, rl_main, &a[i]);
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		sum += a[i].ns;
	}
	sl_rl_table_free(t);
	return sum / threads;
}

/* The PRNG and key arithmetic alone, to subtract from the figures above. */
static double
rl_overhead(long iters)
{
	uint64_t s = 88172645463325252ull, acc = 0;
	double t0 = now_ns();

	for (long i = 0; i < iters; i++)
		acc += 0xc6120000u + xs(&s) % 100000;
	sink += acc;
	return (now_ns() - t0) / iters;
}

struct br_arg {
	struct sl_breaker *b;
	long iters;
	double ns;
};

static void *
br_main(void *arg)
{
	struct br_arg *a = arg;
	struct sl_breaker_ticket tk;
	uint64_t n = 0;
	double t0 = now_ns();

	for (long i = 0; i < a->iters; i++) {
		if (sl_breaker_allow(a->b, (uint64_t)i, &tk, NULL)) {
			n++;
			/* One failure in 64 so that the shared counter is written now and then. */
			sl_breaker_report(a->b, &tk, (i & 63) == 0, (uint64_t)i);
		}
	}
	a->ns = (now_ns() - t0) / a->iters;
	sink += n;
	return NULL;
}

static double
br_run(unsigned int threads, long iters, uint32_t ratio_pct)
{
	struct sl_config_circuit_breaker c = {.enabled = true, .threshold = 5, .timeout_ms = 60000};
	struct sl_breaker_cfg cfg;
	struct sl_breaker *b = aligned_alloc(64, sizeof(*b));
	struct br_arg a[8];
	pthread_t th[8];
	double sum = 0;

	sl_breaker_cfg_from_config(&cfg, &c);
	cfg.ratio_pct = ratio_pct;
	sl_breaker_init(b, &cfg, 0);
	for (unsigned int i = 0; i < threads; i++) {
		a[i] = (struct br_arg){.b = b, .iters = iters};
		pthread_create(&th[i], NULL, br_main, &a[i]);
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		sum += a[i].ns;
	}
	free(b);
	return sum / threads;
}

static double
adm_run(long iters)
{
	struct sl_config_queue c = {
	    .enabled = true, .max_concurrent = 1024, .max_queue = 1024, .timeout_ms = 5000};
	struct sl_adm_shared sh;
	struct sl_adm_queue q;
	uint64_t n = 0;
	double t0;

	sl_adm_shared_init(&sh, &c);
	sl_adm_queue_init(&q, &sh, 1);
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		n += sl_adm_enter(&q, (uint64_t)i, (uint64_t)i, NULL) == SL_ADM_ADMITTED;
		sl_adm_release(&q);
	}
	t0 = (now_ns() - t0) / iters;
	sink += n;
	sl_adm_queue_fini(&q);
	return t0;
}

static double
outlier_run(long iters)
{
	struct sl_outlier_cfg cfg;
	struct sl_outlier_pool *p;
	double t0;

	sl_outlier_cfg_default(&cfg);
	sl_outlier_pool_create(16, &cfg, &p);
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		sink += sl_outlier_report(p, (unsigned int)(i & 15), false, (uint64_t)i);
	t0 = (now_ns() - t0) / iters;
	sl_outlier_pool_free(p);
	return t0;
}

int
main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000000;

	if (iters < 1000)
		iters = 1000;
	printf("%-58s %8s\n", "check (per request)", "ns");
	printf("%-58s %8.1f\n", "rate limit, 100k clients, 2 MiB table, 1 thread",
	       rl_run(1, 100000, iters));
	printf("%-58s %8.1f\n", "  (PRNG + key arithmetic in that loop)", rl_overhead(iters));
	printf("%-58s %8.1f\n", "rate limit, 1k clients (cache-resident), 1 thread",
	       rl_run(1, 1000, iters));
	printf("%-58s %8.1f\n", "rate limit, every request a new address (insert+evict)",
	       rl_run(1, 0, iters));
	printf("%-58s %8.1f\n", "rate limit, 100k clients, shared table, 2 threads",
	       rl_run(2, 100000, iters));
	printf("%-58s %8.1f\n", "breaker allow+report, closed, 1 thread", br_run(1, iters, 0));
	printf("%-58s %8.1f\n", "breaker allow+report, closed, 2 threads, same breaker",
	       br_run(2, iters, 0));
	printf("%-58s %8.1f\n", "breaker with error-ratio window, 1 thread", br_run(1, iters, 50));
	printf("%-58s %8.1f\n", "breaker with error-ratio window, 2 threads", br_run(2, iters, 50));
	printf("%-58s %8.1f\n", "admission enter+release, 1 thread", adm_run(iters));
	printf("%-58s %8.1f\n", "outlier report (success), 1 thread", outlier_run(iters));
	return 0;
}
