/* SPDX-License-Identifier: MIT */
/*
 * How the proxy cuts chains (sl_mbuf_chain_split, dataplane/net/mbuf_chain.h): a body that
 * ends inside a piece that is itself a cut (an indirect mbuf), freed in any order, no mbuf
 * lost or freed twice (the pool's count is exact: no per-lcore cache). Every offset of a
 * chain, direct and cloned, is test_tcp.c's proxy_api suite
 * (chain_split_at_every_offset_shares_the_data).
 *
 * Reload (proxy_reload): a new snapshot built beside the running one takes over the live
 * flags and the request counters of the backends whose (service, location, url) it keeps, and
 * finds a backend by (service, location, host:port) for the health checker.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>

#include <CUnit/CUnit.h>
#include <rte_mbuf.h>

#include "dataplane/net/mbuf_chain.h"
#include "dataplane/proxy/proxy.h"
#include "dataplane/worker.h"
#include "eal_fixture.h"
#include "lib/balance/balance.h"
#include "lib/stats/req_stats.h"

#define POOL_SIZE 511

static struct rte_mempool *pool;
static const uint16_t seg_lens[] = {7, 1, 300, 2, 90};

/* A chain of the segments above holding bytes 0, 1, 2, ... (mod 251). */
static struct rte_mbuf *
make_chain(uint32_t *total)
{
	struct rte_mbuf *head = NULL;
	uint32_t k = 0;

	for (unsigned int i = 0; i < RTE_DIM(seg_lens); i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p = rte_pktmbuf_append(m, seg_lens[i]);

		for (uint16_t j = 0; j < seg_lens[i]; j++)
			p[j] = (char)(k++ % 251);
		if (head == NULL)
			head = m;
		else
			rte_pktmbuf_chain(head, m);
	}
	*total = k;
	return head;
}

/* The chain holds bytes first, first+1, ... and its head's counts match its segments. */
static bool
chain_ok(const struct rte_mbuf *m, uint32_t first, uint32_t len)
{
	uint32_t n = 0, segs = 0;

	if (m->pkt_len != len)
		return false;
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const char *p = rte_pktmbuf_mtod(s, const char *);

		for (uint16_t j = 0; j < s->data_len; j++, n++)
			if (p[j] != (char)((first + n) % 251))
				return false;
		segs++;
	}
	return n == len && segs == m->nb_segs;
}

static void
test_split_a_split_piece(void)
{
	unsigned int avail = rte_mempool_avail_count(pool);
	uint32_t total;
	struct rte_mbuf *m = make_chain(&total);
	/* 100 falls inside the 300-byte segment: rest starts with an indirect mbuf. */
	struct rte_mbuf *rest = NULL, *rest2 = NULL;

	CU_ASSERT_EQUAL_FATAL(sl_mbuf_chain_split(m, 100, pool, &rest), 0);
	CU_ASSERT_EQUAL_FATAL(sl_mbuf_chain_split(rest, 50, pool, &rest2), 0);
	CU_ASSERT_TRUE(chain_ok(m, 0, 100));
	CU_ASSERT_TRUE(chain_ok(rest, 100, 50));
	CU_ASSERT_TRUE(chain_ok(rest2, 150, total - 150));
	/* Free in an order where the direct segment goes before its views. */
	rte_pktmbuf_free(m);
	CU_ASSERT_TRUE(chain_ok(rest2, 150, total - 150));
	rte_pktmbuf_free(rest2);
	rte_pktmbuf_free(rest);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), avail);
}

static const struct sl_test_def split_tests[] = {
    {"split_a_split_piece", test_split_a_split_piece},
};

/* ---- reload ---- */

static const char reload_v1[] = "services:\n"
				"  - name: demo\n"
				"    locations:\n"
				"      - path: /\n"
				"        backends:\n"
				"          - url: http://198.18.0.11:8080\n"
				"          - url: http://198.18.0.12:8080\n"
				"          - url: http://198.18.0.13:8080\n";
/* .12 left, .14 came, a location was added in front (global indices all move). */
static const char reload_v2[] = "services:\n"
				"  - name: demo\n"
				"    locations:\n"
				"      - path: /new/\n"
				"        backends:\n"
				"          - url: http://198.18.0.11:8080\n"
				"      - path: /\n"
				"        backends:\n"
				"          - url: http://198.18.0.14:8080\n"
				"          - url: http://198.18.0.13:8080\n"
				"            weight: 5\n"
				"          - url: http://198.18.0.11:8080\n";

static struct sl_proxy *
reload_build(const char *yaml, struct sl_config **cfg, struct sl_worker *const *ws)
{
	struct sl_config_error e;
	struct sl_proxy *p = NULL;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(sl_config_load_buffer("t.yaml", yaml, strlen(yaml), cfg, &e), 0);
	CU_ASSERT_EQUAL_FATAL(sl_proxy_create(*cfg, 2, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sl_proxy_gens_create(p, ws, 2, err, sizeof(err)), 0);
	return p;
}

static void
test_reload_carries_flags_and_counters_by_identity(void)
{
	static struct sl_worker w0, w1;
	struct sl_worker *const ws[2] = {&w0, &w1};
	struct sl_config *c1, *c2;
	struct sl_proxy *p1, *p2;
	struct sl_req_stats *st;
	struct sl_bal_live *live;
	unsigned int i;

	w0.id = 0;
	w1.id = 1;
	w0.lcore = w1.lcore = rte_lcore_id();
	p1 = reload_build(reload_v1, &c1, ws);
	p2 = reload_build(reload_v2, &c2, ws);
	/* v1: .11 down, .12 draining, .13 circuit open; counters on worker 1. */
	live = (struct sl_bal_live *)sl_proxy_location_live(p1, 0);
	sl_bal_live_set_flags(live, 0, SL_BAL_F_DOWN, 0);
	sl_bal_live_set_flags(live, 1, SL_BAL_F_DRAINING, 0);
	sl_bal_live_set_flags(live, 2, SL_BAL_F_CIRCUIT_OPEN | SL_BAL_F_DISABLED, 0);
	st = (struct sl_req_stats *)sl_proxy_stats_of(p1, 1);
	st->rows[sl_req_row_backend(st, 2)].requests[SL_REQ_CLASS_2XX] = 42; /* .13 */
	st->rows[sl_req_row_backend(st, 2)].open_conns = 3;		     /* a gauge */
	st->rows[sl_req_row_location(st, 0)].errors[SL_PROXY_ERR_NO_BACKEND] = 7;

	/* Two of v2's four backends are in v1 under the same identity (/new/ is new). */
	CU_ASSERT_EQUAL(sl_proxy_carry_flags(p2, p1), 2);
	live = (struct sl_bal_live *)sl_proxy_location_live(p2, 1); /* "/" is second now */
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 0), 0);		    /* .14: new, eligible */
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 1), SL_BAL_F_CIRCUIT_OPEN | SL_BAL_F_DISABLED);
	CU_ASSERT_EQUAL(sl_bal_live_flags(live, 2), SL_BAL_F_DOWN); /* .11 stays down */
	/* /new/'s .11 is another location's backend: not the down one. */
	CU_ASSERT_EQUAL(sl_bal_live_flags(sl_proxy_location_live(p2, 0), 0), 0);

	sl_proxy_seed_stats(p2, p1);
	st = (struct sl_req_stats *)sl_proxy_stats_of(p2, 1);
	/* "/" is location 1 and its backends start at global index 1 in v2; .13 is the 2nd. */
	CU_ASSERT_EQUAL(st->rows[sl_req_row_backend(st, 2)].requests[SL_REQ_CLASS_2XX], 42);
	CU_ASSERT_EQUAL(st->rows[sl_req_row_backend(st, 2)].open_conns, 0);
	CU_ASSERT_EQUAL(st->rows[sl_req_row_location(st, 1)].errors[SL_PROXY_ERR_NO_BACKEND], 7);
	CU_ASSERT_EQUAL(st->rows[sl_req_row_location(st, 0)].errors[SL_PROXY_ERR_NO_BACKEND], 0);
	CU_ASSERT_EQUAL(
	    sl_proxy_stats_of(p2, 0)->rows[sl_req_row_backend(st, 2)].requests[SL_REQ_CLASS_2XX],
	    0);

	/* The health checker's lookup: by service, location path and address. */
	CU_ASSERT_EQUAL(sl_proxy_find_backend(p2, "demo", "/", htonl(0xc612000d), 8080, &live, &i),
			0);
	CU_ASSERT_PTR_EQUAL(live, sl_proxy_location_live(p2, 1));
	CU_ASSERT_EQUAL(i, 1);
	CU_ASSERT_EQUAL(sl_proxy_find_backend(p2, "demo", "/", htonl(0xc612000c), 8080, &live, &i),
			-ENOENT);
	CU_ASSERT_EQUAL(
	    sl_proxy_find_backend(p2, "demo", "/x/", htonl(0xc612000b), 8080, &live, &i), -ENOENT);
	/* Nobody has moved onto p2 or off p1: neither is unused. */
	CU_ASSERT_FALSE(sl_proxy_unused(p1));
	sl_proxy_adopt(p2, c2, 2);
	CU_ASSERT_EQUAL(sl_proxy_generation(p2), 2);
	sl_proxy_free(p2); /* frees c2 too */
	sl_proxy_free(p1);
	sl_config_free(c1);
}

static const struct sl_test_def reload_tests[] = {
    {"reload_carries_flags_and_counters_by_identity",
     test_reload_carries_flags_and_counters_by_identity},
};

int
main(void)
{
	static const struct sl_test_suite suites[] = {
	    {"proxy_chain", split_tests, RTE_DIM(split_tests)},
	    {"proxy_reload", reload_tests, RTE_DIM(reload_tests)},
	};

	pool = sl_test_eal_start("test_proxy", "64", POOL_SIZE);
	if (pool == NULL)
		return 1;
	return sl_test_run("test_proxy", suites, RTE_DIM(suites), NULL, NULL, pool);
}
