/* SPDX-License-Identifier: MIT */
#ifndef SL_EAL_FIXTURE_H
#define SL_EAL_FIXTURE_H

/*
 * What every EAL in-process test program shares: start EAL without PCI or
 * hugepages under a prefix of its own, make an mbuf pool without per-lcore
 * cache (so its available count is exact), run CUnit suites, and leave
 * nothing behind (EAL's runtime directory included).
 */

#include <CUnit/CUnit.h>
#include <rte_mempool.h>

struct sl_test_def {
	const char *name;
	CU_TestFunc fn;
};

struct sl_test_suite {
	const char *name;
	const struct sl_test_def *tests;
	unsigned int n;
};

/* EAL with mem_mb MB and a pool of pool_size mbufs; NULL (reported on stderr) on failure. */
struct rte_mempool *sl_test_eal_start(const char *prog, const char *mem_mb,
				      unsigned int pool_size);
/* Free the pool, clean EAL up and remove its runtime directory. */
void sl_test_eal_stop(struct rte_mempool *pool);
/* Run the suites, each test between setup and teardown; then stop. Returns the exit status. */
int sl_test_run(const char *prog, const struct sl_test_suite *suites, unsigned int n,
		CU_SetUpFunc setup, CU_TearDownFunc teardown, struct rte_mempool *pool);

#endif
