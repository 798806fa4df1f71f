/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/balance/balance.h"
#include "cunit_main.h"

/*
 * Each test builds a live table and one balancer (worker 0) over backends named like URLs.
 * The simulations run on a virtual clock of ticks: a request holds its backend (in flight)
 * for that backend's service time, then completes and reports its latency.
 */

#define MAXB 16

static char names[MAXB][64];
static struct sl_bal_backend_desc descs[MAXB];
static const struct sl_bal_req no_req;

static void
fill_descs(unsigned int n, const uint32_t *weights)
{
	for (unsigned int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "http://198.18.0.%u:8080", 11 + i);
		descs[i].name = names[i];
		descs[i].weight = weights ? weights[i] : 1;
	}
}

static struct sl_balancer *
mk(enum sl_config_lb_policy policy, unsigned int n, const uint32_t *weights,
   const uint32_t *max_conns, unsigned int workers, struct sl_bal_live **live)
{
	struct sl_balancer *b = NULL;

	fill_descs(n, weights);
	CU_ASSERT_FATAL(sl_bal_live_create(n, workers, max_conns, live) == 0);
	CU_ASSERT_FATAL(sl_bal_create(policy, descs, n, *live, 0, 42, &b) == 0);
	return b;
}

static void
rm(struct sl_balancer *b, struct sl_bal_live *live)
{
	sl_bal_destroy(b);
	sl_bal_live_free(live);
}

static const enum sl_config_lb_policy all_policies[] = {
    SL_CONFIG_LB_ROUND_ROBIN,	    SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN,
    SL_CONFIG_LB_LEAST_CONNECTIONS, SL_CONFIG_LB_CONSISTENT_HASHING,
    SL_CONFIG_LB_ADAPTIVE,
};
#define N_POLICIES (sizeof(all_policies) / sizeof(all_policies[0]))

/* ------------------------------------------------------------------ simulation */

struct job {
	uint64_t end;
	uint64_t start;
	int backend;
};

/*
 * One request every `gap` ticks for `ticks` ticks; backend i takes service[i] ticks
 * (service_late[i] from tick `change_at` on, when service_late is given). Counts the picks
 * per backend made at or after `count_from`. Returns the number of -1 picks.
 */
static unsigned int
simulate(struct sl_balancer *b, struct sl_bal_live *live, const uint32_t *service,
	 const uint32_t *service_late, uint64_t change_at, uint64_t ticks, unsigned int gap,
	 uint64_t count_from, unsigned int *counts)
{
	static struct job jobs[4096];
	unsigned int n_jobs = 0, refused = 0;

	memset(counts, 0, b->n * sizeof(*counts));
	for (uint64_t t = 0; t < ticks; t++) {
		for (unsigned int k = 0; k < n_jobs;) {
			if (jobs[k].end == t) {
				sl_bal_live_release(live, 0, (unsigned int)jobs[k].backend);
				sl_bal_observe(b, (unsigned int)jobs[k].backend,
					       (uint32_t)(t - jobs[k].start) * 100);
				jobs[k] = jobs[--n_jobs];
			} else {
				k++;
			}
		}
		if (t % gap)
			continue;
		int i = sl_bal_pick(b, &no_req);
		if (i < 0) {
			refused++;
			continue;
		}
		const uint32_t *svc = service_late && t >= change_at ? service_late : service;
		sl_bal_live_acquire(live, 0, (unsigned int)i);
		CU_ASSERT_FATAL(n_jobs < sizeof(jobs) / sizeof(jobs[0]));
		jobs[n_jobs++] = (struct job){t + svc[i], t, i};
		if (t >= count_from)
			counts[i]++;
	}
	/* Leave the counters as found. */
	for (unsigned int k = 0; k < n_jobs; k++)
		sl_bal_live_release(live, 0, (unsigned int)jobs[k].backend);
	return refused;
}

static double
share(const unsigned int *counts, unsigned int n, unsigned int i)
{
	unsigned long total = 0;

	for (unsigned int k = 0; k < n; k++)
		total += counts[k];
	return total ? (double)counts[i] / (double)total : 0;
}

/* ------------------------------------------------------------------ round robin */

static void
test_rr_rotates_in_order(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_ROUND_ROBIN, 3, NULL, NULL, 1, &live);

	for (int k = 0; k < 30; k++)
		CU_ASSERT_EQUAL(sl_bal_pick(b, &no_req), k % 3);
	rm(b, live);
}

static void
test_rr_skips_a_down_backend_and_alternates_the_rest(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_ROUND_ROBIN, 3, NULL, NULL, 1, &live);

	sl_bal_live_set_flags(live, 1, SL_BAL_F_DOWN, 0);
	for (int k = 0; k < 10; k++)
		CU_ASSERT_EQUAL(sl_bal_pick(b, &no_req), k % 2 ? 2 : 0);
	rm(b, live);
}

/* Workers start their rotations at different backends, not all at backend 0. */
static void
test_rr_and_least_conn_workers_start_apart(void)
{
	static const enum sl_config_lb_policy ps[] = {SL_CONFIG_LB_ROUND_ROBIN,
						      SL_CONFIG_LB_LEAST_CONNECTIONS};

	for (unsigned int p = 0; p < 2; p++) {
		struct sl_bal_live *live;
		struct sl_balancer *b = mk(ps[p], 3, NULL, NULL, 3, &live), *c[2];

		CU_ASSERT_FATAL(sl_bal_clone(b, 1, 1, &c[0]) == 0);
		CU_ASSERT_FATAL(sl_bal_clone(b, 2, 2, &c[1]) == 0);
		CU_ASSERT_EQUAL(sl_bal_pick(b, &no_req), 0);
		CU_ASSERT_EQUAL(sl_bal_pick(c[0], &no_req), 1);
		CU_ASSERT_EQUAL(sl_bal_pick(c[1], &no_req), 2);
		CU_ASSERT_EQUAL(sl_bal_pick(c[1], &no_req), 0);
		sl_bal_destroy(c[0]);
		sl_bal_destroy(c[1]);
		rm(b, live);
	}
}

/* ------------------------------------------------------------------ smooth WRR */

static void
test_wrr_8_2_shares_within_one_percent(void)
{
	static const uint32_t w[] = {8, 2};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, 2, w, NULL, 1, &live);
	unsigned int c[2] = {0, 0};

	for (int k = 0; k < 10000; k++) {
		int i = sl_bal_pick(b, &no_req);
		CU_ASSERT_FATAL(i == 0 || i == 1);
		c[i]++;
	}
	CU_ASSERT(c[0] >= 7900 && c[0] <= 8100);
	CU_ASSERT(c[1] >= 1900 && c[1] <= 2100);
	rm(b, live);
}

/* Longest run of `who` in seq[0..n). */
static unsigned int
longest_run(const int *seq, unsigned int n, int who)
{
	unsigned int best = 0, run = 0;

	for (unsigned int k = 0; k < n; k++) {
		run = seq[k] == who ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/*
 * nginx's algorithm on 8:2 gives the period a a b a a; two periods back to back put 4 a's
 * together, which is the longest run. A plain weighted rotation would give 8.
 */
static void
test_wrr_8_2_interleaves(void)
{
	static const uint32_t w[] = {8, 2};
	static const int period[] = {0, 0, 1, 0, 0};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, 2, w, NULL, 1, &live);
	int seq[1000];

	for (unsigned int k = 0; k < 1000; k++)
		seq[k] = sl_bal_pick(b, &no_req);
	for (unsigned int k = 0; k < 1000; k++)
		CU_ASSERT_EQUAL(seq[k], period[k % 5]);
	CU_ASSERT_EQUAL(longest_run(seq, 1000, 0), 4);
	CU_ASSERT_EQUAL(longest_run(seq, 1000, 1), 1);
	rm(b, live);
}

/* 8:1:1 (the demo's /heavy/): a a a b a a c a a a, longest run 6 across periods. */
static void
test_wrr_8_1_1_sequence(void)
{
	static const uint32_t w[] = {8, 1, 1};
	static const int period[] = {0, 0, 0, 1, 0, 0, 2, 0, 0, 0};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, 3, w, NULL, 1, &live);
	int seq[1000];

	for (unsigned int k = 0; k < 1000; k++)
		seq[k] = sl_bal_pick(b, &no_req);
	for (unsigned int k = 0; k < 1000; k++)
		CU_ASSERT_EQUAL(seq[k], period[k % 10]);
	CU_ASSERT_EQUAL(longest_run(seq, 1000, 0), 6);
	rm(b, live);
}

static void
test_wrr_out_of_rotation_backend_returns_to_its_share(void)
{
	static const uint32_t w[] = {3, 1};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, 2, w, NULL, 1, &live);
	unsigned int c[2] = {0, 0};

	sl_bal_live_set_flags(live, 0, SL_BAL_F_DRAINING, 0);
	for (int k = 0; k < 100; k++)
		CU_ASSERT_EQUAL(sl_bal_pick(b, &no_req), 1);
	sl_bal_live_set_flags(live, 0, 0, SL_BAL_F_DRAINING);
	for (int k = 0; k < 4000; k++)
		c[sl_bal_pick(b, &no_req)]++;
	CU_ASSERT(c[0] >= 2990 && c[0] <= 3010);
	rm(b, live);
}

/* ------------------------------------------------------------------ least connections */

static void
test_least_conn_idle_ties_rotate(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_LEAST_CONNECTIONS, 3, NULL, NULL, 1, &live);

	for (int k = 0; k < 30; k++)
		CU_ASSERT_EQUAL(sl_bal_pick(b, &no_req), k % 3);
	rm(b, live);
}

static void
test_least_conn_picks_fewest_in_flight(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_LEAST_CONNECTIONS, 3, NULL, NULL, 1, &live);

	sl_bal_live_acquire(live, 0, 0);
	sl_bal_live_acquire(live, 0, 0);
	sl_bal_live_acquire(live, 0, 2);
	for (int k = 0; k < 10; k++)
		CU_ASSERT_EQUAL(sl_bal_pick(b, &no_req), 1);
	rm(b, live);
}

/* Requests held forever pile up in proportion to the weights, 2:1. */
static void
test_least_conn_weighted(void)
{
	static const uint32_t w[] = {2, 1};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_LEAST_CONNECTIONS, 2, w, NULL, 1, &live);

	for (int k = 0; k < 300; k++)
		sl_bal_live_acquire(live, 0, (unsigned int)sl_bal_pick(b, &no_req));
	CU_ASSERT(sl_bal_live_inflight(live, 0) >= 199 && sl_bal_live_inflight(live, 0) <= 201);
	rm(b, live);
}

/* Another worker's in-flight requests count: worker 0 steers around them. */
static void
test_least_conn_counts_every_worker(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_LEAST_CONNECTIONS, 2, NULL, NULL, 4, &live);

	for (int k = 0; k < 5; k++)
		sl_bal_live_acquire(live, 3, 0);
	CU_ASSERT_EQUAL(sl_bal_live_inflight(live, 0), 5);
	for (int k = 0; k < 5; k++) {
		int i = sl_bal_pick(b, &no_req);
		CU_ASSERT_EQUAL(i, 1);
		sl_bal_live_acquire(live, 0, (unsigned int)i);
	}
	CU_ASSERT_EQUAL(sl_bal_live_inflight(live, 1), 5);
	rm(b, live);
}

/*
 * Three backends, the third 10x slower, one request every 2 ticks. Round robin gives it a
 * third of the requests whatever its speed; least connections must give it clearly fewer.
 */
static void
test_least_conn_sends_less_to_a_slow_backend_than_rr(void)
{
	static const uint32_t svc[] = {10, 10, 100};
	struct sl_bal_live *live;
	struct sl_balancer *b;
	unsigned int c[3];
	double rr, lc;

	b = mk(SL_CONFIG_LB_ROUND_ROBIN, 3, NULL, NULL, 1, &live);
	CU_ASSERT_EQUAL(simulate(b, live, svc, NULL, 0, 60000, 2, 1000, c), 0);
	rr = share(c, 3, 2);
	rm(b, live);
	b = mk(SL_CONFIG_LB_LEAST_CONNECTIONS, 3, NULL, NULL, 1, &live);
	CU_ASSERT_EQUAL(simulate(b, live, svc, NULL, 0, 60000, 2, 1000, c), 0);
	lc = share(c, 3, 2);
	rm(b, live);
	printf("\n    slow backend share: round robin %.3f, least connections %.3f ", rr, lc);
	CU_ASSERT(rr > 0.33 && rr < 0.34);
	CU_ASSERT(lc < rr / 2);
}

/* Above the scan limit the pick is two random choices; it must still avoid loaded ones. */
static void
test_least_conn_many_backends_uses_two_choices(void)
{
	enum { N = 100 };
	struct sl_bal_live *live;
	struct sl_balancer *b = NULL;
	static struct sl_bal_backend_desc d[N];
	static char nm[N][32];
	unsigned int hit_loaded = 0;

	for (unsigned int i = 0; i < N; i++) {
		snprintf(nm[i], sizeof(nm[i]), "b%u", i);
		d[i] = (struct sl_bal_backend_desc){nm[i], 1};
	}
	CU_ASSERT_FATAL(sl_bal_live_create(N, 1, NULL, &live) == 0);
	CU_ASSERT_FATAL(sl_bal_create(SL_CONFIG_LB_LEAST_CONNECTIONS, d, N, live, 0, 7, &b) == 0);
	/* Half the backends carry 10 requests each. */
	for (unsigned int i = 0; i < N; i += 2)
		for (int k = 0; k < 10; k++)
			sl_bal_live_acquire(live, 0, i);
	for (int k = 0; k < 1000; k++) {
		int i = sl_bal_pick(b, &no_req);
		CU_ASSERT_FATAL(i >= 0 && i < N);
		hit_loaded += i % 2 == 0;
	}
	/* Both draws must land on loaded ones: about 1 in 4. */
	CU_ASSERT(hit_loaded > 150 && hit_loaded < 350);
	rm(b, live);
}

/*
 * Two workers hammer their own rows while a third thread sums them: no update is lost (each
 * row returns to 0) and a sum never exceeds what is really in flight, with no locked
 * instruction on the workers' side.
 */
struct hammer {
	struct sl_bal_live *live;
	unsigned int worker;
};

static void *
hammer_row(void *arg)
{
	struct hammer *h = arg;

	for (int k = 0; k < 200000; k++) {
		for (unsigned int i = 0; i < 3; i++)
			sl_bal_live_acquire(h->live, h->worker, i);
		for (unsigned int i = 0; i < 3; i++)
			sl_bal_live_release(h->live, h->worker, i);
	}
	return NULL;
}

static void
test_inflight_rows_are_private_to_their_worker(void)
{
	struct sl_bal_live *live;
	struct hammer h[2];
	pthread_t t[2];
	unsigned int worst = 0;

	CU_ASSERT_FATAL(sl_bal_live_create(3, 2, NULL, &live) == 0);
	for (unsigned int w = 0; w < 2; w++) {
		h[w] = (struct hammer){live, w};
		CU_ASSERT_FATAL(pthread_create(&t[w], NULL, hammer_row, &h[w]) == 0);
	}
	for (int k = 0; k < 200000; k++) {
		unsigned int v = sl_bal_live_inflight(live, (unsigned int)k % 3);
		if (v > worst)
			worst = v;
	}
	for (unsigned int w = 0; w < 2; w++)
		pthread_join(t[w], NULL);
	CU_ASSERT(worst <= 2);
	for (unsigned int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sl_bal_live_inflight(live, i), 0);
	sl_bal_live_free(live);
}

/* ------------------------------------------------------------------ Maglev */

static struct sl_balancer *
mk_maglev(const char *const *nm, unsigned int n, const uint32_t *w, struct sl_bal_live **live)
{
	struct sl_bal_backend_desc d[MAXB];
	struct sl_balancer *b = NULL;

	for (unsigned int i = 0; i < n; i++)
		d[i] = (struct sl_bal_backend_desc){nm[i], w ? w[i] : 1};
	CU_ASSERT_FATAL(sl_bal_live_create(n, 1, NULL, live) == 0);
	CU_ASSERT_FATAL(sl_bal_create(SL_CONFIG_LB_CONSISTENT_HASHING, d, n, *live, 0, 1, &b) == 0);
	return b;
}

static const char *const mg_names[] = {
    "http://10.0.0.1:80", "http://10.0.0.2:80",	 "http://10.0.0.3:80", "http://10.0.0.4:80",
    "http://10.0.0.5:80", "http://10.0.0.6:80",	 "http://10.0.0.7:80", "http://10.0.0.8:80",
    "http://10.0.0.9:80", "http://10.0.0.10:80",
};

#define CLIENTS 200000u

static uint32_t
client(unsigned int k)
{
	/* Addresses 198.18.0.0 upwards and a scattered set; both kinds of client exist. */
	return k & 1 ? 0xc6120000u + k : k * 2654435761u;
}

/* The name each client maps to. */
static void
map_clients(struct sl_balancer *b, const char *const *nm, const char **out)
{
	struct sl_bal_req req = {0};

	for (unsigned int k = 0; k < CLIENTS; k++) {
		req.client_ip = client(k);
		int i = sl_bal_pick(b, &req);
		CU_ASSERT_FATAL(i >= 0);
		out[k] = nm[i];
	}
}

static void
test_maglev_table_is_balanced(void)
{
	static const unsigned int ns[] = {3, 5, 10};

	for (unsigned int t = 0; t < 3; t++) {
		unsigned int n = ns[t], cnt[MAXB] = {0};
		struct sl_bal_live *live;
		struct sl_balancer *b = mk_maglev(mg_names, n, NULL, &live);
		const uint16_t *table;
		uint32_t m;

		CU_ASSERT_FATAL(sl_bal_maglev_table(b, &table, &m) == 0);
		CU_ASSERT_EQUAL(m, 65537);
		for (uint32_t s = 0; s < m; s++) {
			CU_ASSERT_FATAL(table[s] < n);
			cnt[table[s]]++;
		}
		for (unsigned int i = 0; i < n; i++)
			CU_ASSERT(abs((int)cnt[i] - (int)(m / n)) <= (int)(m / n) / 50);
		rm(b, live);
	}
}

static void
test_maglev_weights_shape_the_table(void)
{
	static const uint32_t w[] = {2, 1, 1};
	unsigned int cnt[3] = {0};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk_maglev(mg_names, 3, w, &live);
	const uint16_t *table;
	uint32_t m;

	CU_ASSERT_FATAL(sl_bal_maglev_table(b, &table, &m) == 0);
	for (uint32_t s = 0; s < m; s++)
		cnt[table[s]]++;
	CU_ASSERT(fabs((double)cnt[0] / m - 0.5) < 0.02);
	CU_ASSERT(fabs((double)cnt[1] / m - 0.25) < 0.02);
	rm(b, live);
}

/*
 * One heavy backend among 2000 of weight 1: every light one gets its first turn (one slot)
 * and the heavy one the rest. Turns come from a heap, so this builds in O(M log N); a loop
 * over all backends in every round would take 2000 x 200k steps.
 */
static void
test_maglev_extreme_weights(void)
{
	enum { N = 2000 };
	static struct sl_bal_backend_desc d[N];
	static char nm[N][24];
	static unsigned int cnt[N];
	struct sl_bal_live *live;
	struct sl_balancer *b = NULL;
	const uint16_t *table;
	uint32_t m;

	for (unsigned int i = 0; i < N; i++) {
		snprintf(nm[i], sizeof(nm[i]), "http://h%u", i);
		d[i] = (struct sl_bal_backend_desc){nm[i], i == 0 ? UINT32_MAX : 1};
	}
	CU_ASSERT_FATAL(sl_bal_live_create(N, 1, NULL, &live) == 0);
	CU_ASSERT_FATAL(sl_bal_create(SL_CONFIG_LB_CONSISTENT_HASHING, d, N, live, 0, 1, &b) == 0);
	CU_ASSERT_FATAL(sl_bal_maglev_table(b, &table, &m) == 0);
	CU_ASSERT_EQUAL(m, sl_bal_maglev_size(N));
	CU_ASSERT(m >= 100 * N);
	for (uint32_t s = 0; s < m; s++)
		cnt[table[s]]++;
	CU_ASSERT_EQUAL(cnt[0], m - (N - 1));
	for (unsigned int i = 1; i < N; i++)
		CU_ASSERT_EQUAL(cnt[i], 1);
	rm(b, live);
}

/*
 * One of N leaves the configuration (a rebuild without it): at most 1/N + 2% of the clients
 * move. It comes back (a rebuild with it, listed in another order): every client is where it
 * was.
 */
static void
test_maglev_removal_moves_about_one_nth_and_readd_restores(void)
{
	static const unsigned int ns[] = {3, 5, 10};
	static const char *before[CLIENTS], *after[CLIENTS], *back[CLIENTS];

	for (unsigned int t = 0; t < 3; t++) {
		unsigned int n = ns[t], gone = n / 2, moved = 0, k;
		const char *less[MAXB], *rev[MAXB];
		struct sl_bal_live *live;
		struct sl_balancer *b;

		b = mk_maglev(mg_names, n, NULL, &live);
		map_clients(b, mg_names, before);
		rm(b, live);

		for (unsigned int i = 0, j = 0; i < n; i++)
			if (i != gone)
				less[j++] = mg_names[i];
		b = mk_maglev(less, n - 1, NULL, &live);
		map_clients(b, less, after);
		rm(b, live);
		for (k = 0; k < CLIENTS; k++)
			moved += before[k] != after[k];
		printf("\n    N=%u: %.4f of clients moved (1/N = %.4f) ", n,
		       (double)moved / CLIENTS, 1.0 / n);
		CU_ASSERT((double)moved / CLIENTS <= 1.0 / n + 0.02);
		CU_ASSERT((double)moved / CLIENTS >= 1.0 / n - 0.02);

		for (unsigned int i = 0; i < n; i++)
			rev[i] = mg_names[n - 1 - i];
		b = mk_maglev(rev, n, NULL, &live);
		map_clients(b, rev, back);
		rm(b, live);
		for (k = 0; k < CLIENTS; k++)
			if (strcmp(before[k], back[k]))
				break;
		CU_ASSERT_EQUAL(k, CLIENTS);
	}
}

/*
 * A backend that goes down is skipped by probing: exactly its clients move, spread over
 * the others, and they come back when it is up again. No rebuild.
 */
static void
test_maglev_down_backend_moves_only_its_clients(void)
{
	static const char *before[CLIENTS], *during[CLIENTS], *after[CLIENTS];
	unsigned int n = 5, got[5] = {0};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk_maglev(mg_names, n, NULL, &live);

	map_clients(b, mg_names, before);
	sl_bal_live_set_flags(live, 2, SL_BAL_F_DOWN, 0);
	map_clients(b, mg_names, during);
	for (unsigned int k = 0; k < CLIENTS; k++) {
		if (before[k] == mg_names[2]) {
			CU_ASSERT_FATAL(during[k] != mg_names[2]);
			got[(during[k][14] - '1')]++; /* "http://10.0.0.X" */
		} else {
			CU_ASSERT_FATAL(during[k] == before[k]);
		}
	}
	for (unsigned int i = 0; i < n; i++)
		if (i != 2)
			CU_ASSERT(got[i] > CLIENTS / n / 8);
	sl_bal_live_set_flags(live, 2, 0, SL_BAL_F_DOWN);
	map_clients(b, mg_names, after);
	CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
	rm(b, live);
}

/*
 * Every worker (each its own balancer, its own seed) sends a client to the same backend:
 * a balancer built separately and a clone that shares the first one's table agree.
 */
static void
test_maglev_same_client_same_backend_on_every_worker(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b0 = NULL, *b1 = NULL, *b2 = NULL;
	struct sl_bal_req req = {0};
	const uint16_t *t0, *t1, *t2;
	uint32_t m;

	fill_descs(5, NULL);
	CU_ASSERT_FATAL(sl_bal_live_create(5, 3, NULL, &live) == 0);
	CU_ASSERT_FATAL(sl_bal_create(SL_CONFIG_LB_CONSISTENT_HASHING, descs, 5, live, 0, 1, &b0) ==
			0);
	CU_ASSERT_FATAL(
	    sl_bal_create(SL_CONFIG_LB_CONSISTENT_HASHING, descs, 5, live, 1, 99, &b1) == 0);
	CU_ASSERT_FATAL(sl_bal_clone(b0, 2, 7, &b2) == 0);
	sl_bal_maglev_table(b0, &t0, &m);
	sl_bal_maglev_table(b1, &t1, &m);
	sl_bal_maglev_table(b2, &t2, &m);
	CU_ASSERT(t0 != t1);
	CU_ASSERT(t0 == t2);
	CU_ASSERT_EQUAL(b2->worker, 2);
	/* The clone keeps the shared table alive after the original is gone. */
	sl_bal_destroy(b0);
	for (unsigned int k = 0; k < 10000; k++) {
		req.client_ip = client(k);
		CU_ASSERT_EQUAL(sl_bal_pick(b1, &req), sl_bal_pick(b2, &req));
	}
	sl_bal_destroy(b1);
	sl_bal_destroy(b2);
	sl_bal_live_free(live);
}

/* A clone of every policy is the same policy over the same weights, with fresh state. */
static void
test_clone_keeps_policy_and_weights(void)
{
	static const uint32_t w[] = {8, 2};

	for (unsigned int p = 0; p < N_POLICIES; p++) {
		struct sl_bal_live *live;
		struct sl_balancer *b = mk(all_policies[p], 2, w, NULL, 2, &live), *c = NULL;

		for (int k = 0; k < 3; k++)
			sl_bal_pick(b, &no_req);
		CU_ASSERT_FATAL(sl_bal_clone(b, 1, 5, &c) == 0);
		CU_ASSERT_PTR_EQUAL(c->ops, b->ops);
		CU_ASSERT_EQUAL(c->n, 2);
		CU_ASSERT_EQUAL(c->weights[0], 8);
		CU_ASSERT_EQUAL(c->weights[1], 2);
		CU_ASSERT_PTR_EQUAL(c->live, live);
		CU_ASSERT_EQUAL(sl_bal_clone(b, 2, 5, &c), -EINVAL); /* no worker 2 */
		if (all_policies[p] == SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN) {
			static const int period[] = {0, 0, 1, 0, 0};

			for (int k = 0; k < 10; k++)
				CU_ASSERT_EQUAL(sl_bal_pick(c, &no_req), period[k % 5]);
		}
		sl_bal_destroy(c);
		rm(b, live);
	}
}

/* With all but one backend out, probing gives up and the fallback still finds the one. */
static void
test_maglev_falls_back_when_most_are_out(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = mk_maglev(mg_names, 10, NULL, &live);
	struct sl_bal_req req = {0};

	for (unsigned int i = 0; i < 10; i++)
		if (i != 7)
			sl_bal_live_set_flags(live, i, SL_BAL_F_CIRCUIT_OPEN, 0);
	for (unsigned int k = 0; k < 5000; k++) {
		req.client_ip = client(k);
		CU_ASSERT_EQUAL(sl_bal_pick(b, &req), 7);
	}
	rm(b, live);
}

/* ------------------------------------------------------------------ adaptive */

static void
test_adaptive_sends_less_to_a_slow_backend(void)
{
	static const uint32_t svc[] = {10, 10, 100};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_ADAPTIVE, 3, NULL, NULL, 1, &live);
	unsigned int c[3];
	double s;

	CU_ASSERT_EQUAL(simulate(b, live, svc, NULL, 0, 60000, 2, 5000, c), 0);
	s = share(c, 3, 2);
	printf("\n    slow backend share: adaptive %.3f ", s);
	CU_ASSERT(s < 0.10);
	rm(b, live);
}

/* All equal, then backend 1 turns slow: traffic moves away from it. */
static void
test_adaptive_moves_away_when_a_backend_turns_slow(void)
{
	static const uint32_t fast[] = {10, 10, 10}, late[] = {10, 100, 10};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_ADAPTIVE, 3, NULL, NULL, 1, &live);
	unsigned int c[3];
	double early, after;

	simulate(b, live, fast, NULL, 0, 20000, 2, 0, c);
	early = share(c, 3, 1);
	simulate(b, live, late, late, 0, 40000, 2, 10000, c);
	after = share(c, 3, 1);
	printf("\n    backend 1 share: %.3f before, %.3f after it slowed down ", early, after);
	CU_ASSERT(early > 0.25);
	CU_ASSERT(after < 0.10);
	rm(b, live);
}

/* A backend that recovers gets its share back (exploration refreshes its estimate). */
static void
test_adaptive_returns_to_a_recovered_backend(void)
{
	static const uint32_t slow[] = {10, 100, 10}, fast[] = {10, 10, 10};
	struct sl_bal_live *live;
	struct sl_balancer *b = mk(SL_CONFIG_LB_ADAPTIVE, 3, NULL, NULL, 1, &live);
	unsigned int c[3];

	simulate(b, live, slow, NULL, 0, 20000, 2, 0, c);
	simulate(b, live, fast, NULL, 0, 60000, 2, 30000, c);
	printf("\n    recovered backend share: %.3f ", share(c, 3, 1));
	CU_ASSERT(share(c, 3, 1) > 0.25);
	rm(b, live);
}

/* ------------------------------------------------------------------ eligibility, all policies */

static void
test_every_policy_picks_only_eligible_backends(void)
{
	static const uint32_t maxc[] = {0, 0, 0, 0, 2};

	for (unsigned int p = 0; p < N_POLICIES; p++) {
		unsigned int failures = CU_get_number_of_failures();
		struct sl_bal_live *live;
		struct sl_balancer *b = mk(all_policies[p], 5, NULL, maxc, 2, &live);
		struct sl_bal_req req = {0};

		sl_bal_live_set_flags(live, 0, SL_BAL_F_DOWN, 0);
		sl_bal_live_set_flags(live, 1, SL_BAL_F_DRAINING, 0);
		sl_bal_live_set_flags(live, 2, SL_BAL_F_CIRCUIT_OPEN, 0);
		/* 3 and 4 are eligible; 4 (max 2) fills up from another worker. */
		for (unsigned int k = 0; k < 300; k++) {
			req.client_ip = client(k);
			int i = sl_bal_pick(b, &req);
			CU_ASSERT(i == 3 || i == 4);
		}
		sl_bal_live_acquire(live, 1, 4);
		sl_bal_live_acquire(live, 1, 4);
		CU_ASSERT(!sl_bal_eligible(b, 4, NULL));
		for (unsigned int k = 0; k < 300; k++) {
			req.client_ip = client(k);
			CU_ASSERT_EQUAL(sl_bal_pick(b, &req), 3);
		}
		/* A retry excludes what the request already tried: nothing left. */
		req.n_tried = 1;
		req.tried[0] = 3;
		CU_ASSERT_EQUAL(sl_bal_pick(b, &req), -1);
		req.n_tried = 0;
		sl_bal_live_set_flags(live, 3, SL_BAL_F_DOWN, 0);
		CU_ASSERT_EQUAL(sl_bal_pick(b, &req), -1);
		/* One slot frees up on 4: it is eligible again. */
		sl_bal_live_release(live, 1, 4);
		CU_ASSERT_EQUAL(sl_bal_pick(b, &req), 4);
		/* Circuit closes on 2: 2 and 4 share again. */
		sl_bal_live_set_flags(live, 2, 0, SL_BAL_F_CIRCUIT_OPEN);
		unsigned int seen2 = 0;
		for (unsigned int k = 0; k < 300; k++) {
			req.client_ip = client(k);
			int i = sl_bal_pick(b, &req);
			CU_ASSERT(i == 2 || i == 4);
			seen2 += i == 2;
		}
		CU_ASSERT(seen2 > 0);
		if (CU_get_number_of_failures() != failures)
			printf("\n    (policy %s) ", b->ops->name);
		rm(b, live);
	}
}

static void
test_create_refuses_bad_arguments(void)
{
	struct sl_bal_live *live;
	struct sl_balancer *b = NULL;
	struct sl_bal_backend_desc d[2] = {{"a", 1}, {"b", 0}};

	CU_ASSERT_FATAL(sl_bal_live_create(2, 1, NULL, &live) == 0);
	for (unsigned int p = 0; p < N_POLICIES; p++) {
		CU_ASSERT_EQUAL(sl_bal_create(all_policies[p], d, 2, live, 0, 1, &b), -EINVAL);
		d[1].weight = 1;
		CU_ASSERT_EQUAL(sl_bal_create(all_policies[p], d, 1, live, 0, 1, &b), -EINVAL);
		CU_ASSERT_EQUAL(sl_bal_create(all_policies[p], d, 2, live, 1, 1, &b), -EINVAL);
		d[1].weight = 0;
	}
	CU_ASSERT_EQUAL(sl_bal_create((enum sl_config_lb_policy)99, d, 2, live, 0, 1, &b), -EINVAL);
	CU_ASSERT_EQUAL(sl_bal_live_create(0, 1, NULL, &live), -EINVAL);
	CU_ASSERT_EQUAL(sl_bal_live_create(1, 0, NULL, &live), -EINVAL);
	sl_bal_live_free(live);
}

/* From a loaded configuration: the /heavy/ location of the demo shape, weighted 8:1:1. */
static void
test_create_from_config_location(void)
{
	static const char yaml[] = "services:\n"
				   "  - name: web\n"
				   "    locations:\n"
				   "      - path: /heavy/\n"
				   "        lb_policy: weighted_round_robin\n"
				   "        backends:\n"
				   "          - {url: 'http://198.18.0.11:8080', weight: 8}\n"
				   "          - {url: 'http://198.18.0.12:8080', weight: 1}\n"
				   "          - {url: 'http://198.18.0.13:8080', weight: 1, "
				   "max_connections: 5}\n";
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	const struct sl_config_location *loc;
	struct sl_bal_live *live;
	struct sl_balancer *b = NULL;
	uint32_t maxc[3];
	unsigned int c[3] = {0};

	CU_ASSERT_FATAL(sl_config_load_buffer("t.yaml", yaml, sizeof(yaml) - 1, &cfg, &err) == 0);
	loc = &cfg->services[0].locations[0];
	for (unsigned int i = 0; i < 3; i++)
		maxc[i] = loc->backends[i].max_connections;
	CU_ASSERT_FATAL(sl_bal_live_create(3, 1, maxc, &live) == 0);
	CU_ASSERT_FATAL(sl_bal_create_location(loc, live, 0, 1, &b) == 0);
	CU_ASSERT_STRING_EQUAL(b->ops->name, "weighted_round_robin");
	CU_ASSERT_EQUAL(live->max_connections[2], 5);
	for (int k = 0; k < 1000; k++)
		c[sl_bal_pick(b, &no_req)]++;
	CU_ASSERT_EQUAL(c[0], 800);
	CU_ASSERT_EQUAL(c[1], 100);
	rm(b, live);
	sl_config_free(cfg);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_rr_rotates_in_order),
	    SL_UNIT_TEST(test_rr_skips_a_down_backend_and_alternates_the_rest),
	    SL_UNIT_TEST(test_rr_and_least_conn_workers_start_apart),
	    SL_UNIT_TEST(test_wrr_8_2_shares_within_one_percent),
	    SL_UNIT_TEST(test_wrr_8_2_interleaves),
	    SL_UNIT_TEST(test_wrr_8_1_1_sequence),
	    SL_UNIT_TEST(test_wrr_out_of_rotation_backend_returns_to_its_share),
	    SL_UNIT_TEST(test_least_conn_idle_ties_rotate),
	    SL_UNIT_TEST(test_least_conn_picks_fewest_in_flight),
	    SL_UNIT_TEST(test_least_conn_weighted),
	    SL_UNIT_TEST(test_least_conn_counts_every_worker),
	    SL_UNIT_TEST(test_least_conn_sends_less_to_a_slow_backend_than_rr),
	    SL_UNIT_TEST(test_least_conn_many_backends_uses_two_choices),
	    SL_UNIT_TEST(test_inflight_rows_are_private_to_their_worker),
	    SL_UNIT_TEST(test_maglev_table_is_balanced),
	    SL_UNIT_TEST(test_maglev_weights_shape_the_table),
	    SL_UNIT_TEST(test_maglev_extreme_weights),
	    SL_UNIT_TEST(test_maglev_removal_moves_about_one_nth_and_readd_restores),
	    SL_UNIT_TEST(test_maglev_down_backend_moves_only_its_clients),
	    SL_UNIT_TEST(test_maglev_same_client_same_backend_on_every_worker),
	    SL_UNIT_TEST(test_clone_keeps_policy_and_weights),
	    SL_UNIT_TEST(test_maglev_falls_back_when_most_are_out),
	    SL_UNIT_TEST(test_adaptive_sends_less_to_a_slow_backend),
	    SL_UNIT_TEST(test_adaptive_moves_away_when_a_backend_turns_slow),
	    SL_UNIT_TEST(test_adaptive_returns_to_a_recovered_backend),
	    SL_UNIT_TEST(test_every_policy_picks_only_eligible_backends),
	    SL_UNIT_TEST(test_create_refuses_bad_arguments),
	    SL_UNIT_TEST(test_create_from_config_location),
	};

	return SL_UNIT_RUN("balance", tests);
}
