/* SPDX-License-Identifier: MIT */
/*
 * sl-lbbench: the cost of a balancing pick per policy and of a route match, in ns, on this
 * CPU, single thread. Figures only; nothing passes or fails. Built and run by
 * tests/bench/lbbench.sh.
 *
 * Picks run with every backend eligible and a few requests in flight; "4 workers" reads
 * four rows of in-flight counters per backend, as a 4-worker sluice does.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/balance/balance.h"
#include "lib/route/route.h"

static volatile long sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double
bench_policy(enum sl_config_lb_policy p, unsigned int n, unsigned int workers, long iters,
	     int full_cycle)
{
	struct sl_bal_backend_desc d[256];
	char names[256][40];
	struct sl_bal_live *live;
	struct sl_balancer *b;
	struct sl_bal_req req = {0};
	double t0, best = 1e18;

	for (unsigned int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "http://198.18.1.%u:8080", i + 1);
		d[i] = (struct sl_bal_backend_desc){names[i], 1 + i % 3};
	}
	if (sl_bal_live_create(n, workers, NULL, &live) || sl_bal_create(p, d, n, live, 0, 1, &b)) {
		fprintf(stderr, "create failed\n");
		exit(1);
	}
	for (unsigned int w = 0; w < workers; w++)
		for (unsigned int i = 0; i < n; i++)
			for (unsigned int k = 0; k < (i * 7 + w) % 5; k++)
				sl_bal_live_acquire(live, w, i);
	for (unsigned int i = 0; i < n; i++)
		sl_bal_observe(b, i, 1000 + 100 * i);
	for (int round = 0; round < 5; round++) {
		t0 = now_ns();
		for (long k = 0; k < iters; k++) {
			req.client_ip = (uint32_t)k * 2654435761u;
			int i = sl_bal_pick(b, &req);
			if (full_cycle) {
				sl_bal_live_acquire(live, 0, (unsigned int)i);
				sl_bal_live_release(live, 0, (unsigned int)i);
				sl_bal_observe(b, (unsigned int)i, 1000);
			}
			sink += i;
		}
		double t = (now_ns() - t0) / iters;
		if (t < best)
			best = t;
	}
	sl_bal_destroy(b);
	sl_bal_live_free(live);
	return best;
}

#define BE "        backends: [{url: 'http://198.18.0.11:8080'}]\n"
static const char yaml[] =
    "services:\n"
    "  - name: api\n"
    "    host: api.example.com\n"
    "    locations:\n"
    "      - path: /\n" BE "      - path: /api/\n" BE "      - path: /api/v2/\n" BE
    "      - path: /static/\n" BE "      - path: /cart/\n" BE "      - path: /upload/\n" BE
    "      - path: /rw/\n"
    "        rewrite: /backend/\n" BE "  - name: shop\n"
    "    host: '*.shop.example.com'\n"
    "    locations:\n"
    "      - path: /\n" BE "      - path: /cart/\n" BE "  - name: default\n"
    "    locations:\n"
    "      - path: /\n" BE "      - path: /heavy/\n" BE;

int
main(int argc, char **argv)
{
	static const struct {
		enum sl_config_lb_policy p;
		const char *name;
	} pol[] = {
	    {SL_CONFIG_LB_ROUND_ROBIN, "round_robin"},
	    {SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, "weighted_round_robin"},
	    {SL_CONFIG_LB_LEAST_CONNECTIONS, "least_connections"},
	    {SL_CONFIG_LB_CONSISTENT_HASHING, "consistent_hashing"},
	    {SL_CONFIG_LB_ADAPTIVE, "adaptive"},
	};
	static const unsigned int ns[] = {3, 16, 100};
	long iters = argc > 1 ? atol(argv[1]) : 2000000;

	printf("ns per pick (best of 5 x %ld), all backends eligible\n", iters);
	printf("%-22s %8s %8s %8s %8s %14s\n", "policy", "n=3", "n=16", "n=100", "n=16/4w",
	       "n=3 +acq/rel");
	for (unsigned int p = 0; p < sizeof(pol) / sizeof(pol[0]); p++) {
		printf("%-22s", pol[p].name);
		for (unsigned int k = 0; k < 3; k++)
			printf(" %8.1f", bench_policy(pol[p].p, ns[k], 1, iters, 0));
		printf(" %8.1f", bench_policy(pol[p].p, 16, 4, iters, 0));
		printf(" %14.1f\n", bench_policy(pol[p].p, 3, 1, iters, 1));
	}

	struct sl_config *cfg;
	struct sl_config_error err;
	struct sl_route_table *t;
	char msg[256], buf[512];
	static const struct {
		const char *host, *target;
	} reqs[] = {
	    {"api.example.com", "/api/v2/users/42?expand=1"},
	    {"API.Example.com:80", "/static/css/site.css"},
	    {"eu.shop.example.com", "/cart/items"},
	    {"www.other.org", "/heavy/x"},
	    {"api.example.com", "/rw/a/b?q=1"},
	    {NULL, "/"},
	};
	const unsigned int nr = sizeof(reqs) / sizeof(reqs[0]);
	size_t hl[8], tl[8];
	struct sl_route_match m;
	double best = 1e18, best_rw = 1e18;

	if (sl_config_load_buffer("bench.yaml", yaml, sizeof(yaml) - 1, &cfg, &err) ||
	    sl_route_build(cfg, &t, msg, sizeof(msg))) {
		fprintf(stderr, "route table failed\n");
		return 1;
	}
	for (unsigned int k = 0; k < nr; k++) {
		hl[k] = reqs[k].host ? strlen(reqs[k].host) : 0;
		tl[k] = strlen(reqs[k].target);
	}
	for (int round = 0; round < 5; round++) {
		double t0 = now_ns();
		for (long k = 0; k < iters; k++) {
			unsigned int r = (unsigned int)(k % nr);
			sl_route_match(t, 80, reqs[r].host, hl[r], reqs[r].target, tl[r], 0, &m);
			sink += m.status;
		}
		double x = (now_ns() - t0) / iters;
		if (x < best)
			best = x;
		t0 = now_ns();
		for (long k = 0; k < iters; k++) {
			sl_route_match(t, 80, reqs[4].host, hl[4], reqs[4].target, tl[4], 0, &m);
			sink += sl_route_upstream_target(&m, buf, sizeof(buf));
		}
		x = (now_ns() - t0) / iters;
		if (x < best_rw)
			best_rw = x;
	}
	printf("\nns per route match (3 services, 11 locations; exact, wildcard, default hosts):"
	       " %.1f\n",
	       best);
	printf("ns per route match + rewritten upstream target: %.1f\n", best_rw);
	sl_route_free(t);
	sl_config_free(cfg);
	return 0;
}
