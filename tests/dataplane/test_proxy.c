/* SPDX-License-Identifier: MIT */
/*
 * How the proxy cuts chains (sl_mbuf_chain_split, dataplane/net/mbuf_chain.h): a body that
 * ends inside a piece that is itself a cut (an indirect mbuf), freed in any order, no mbuf
 * lost or freed twice (the pool's count is exact: no per-lcore cache). Every offset of a
 * chain, direct and cloned, is test_tcp.c's proxy_api suite
 * (chain_split_at_every_offset_shares_the_data).
 */
#include <stdbool.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_mbuf.h>

#include "dataplane/net/mbuf_chain.h"
#include "eal_fixture.h"

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

int
main(void)
{
	static const struct sl_test_suite suites[] = {
	    {"proxy_chain", split_tests, RTE_DIM(split_tests)},
	};

	pool = sl_test_eal_start("test_proxy", "64", POOL_SIZE);
	if (pool == NULL)
		return 1;
	return sl_test_run("test_proxy", suites, RTE_DIM(suites), NULL, NULL, pool);
}
