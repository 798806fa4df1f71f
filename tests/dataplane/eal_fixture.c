/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "eal_fixture.h"

static char runtime_dir[PATH_MAX];

/* EAL leaves its runtime files behind; the prefix is ours alone, so remove them. */
static void
remove_runtime_dir(const char *dir)
{
	char path[PATH_MAX + 256];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

struct rte_mempool *
sl_test_eal_start(const char *prog, const char *mem_mb, unsigned int pool_size)
{
	char prefix[64], pool_name[RTE_MEMPOOL_NAMESIZE];
	char *eal_argv[] = {(char *)prog, "--no-pci",	   "--no-huge", "-m", (char *)mem_mb,
			    "--file-prefix", prefix, "--log-level=lib.*:error", NULL};
	struct rte_mempool *pool;

	snprintf(prefix, sizeof(prefix), "sl-%s-%d", prog, (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", prog, rte_strerror(rte_errno));
		return NULL;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	snprintf(pool_name, sizeof(pool_name), "sl_%s", prog);
	pool = rte_pktmbuf_pool_create(pool_name, pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "%s: mbuf pool: %s\n", prog, rte_strerror(rte_errno));
		sl_test_eal_stop(NULL);
	}
	return pool;
}

void
sl_test_eal_stop(struct rte_mempool *pool)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
}

int
sl_test_run(const char *prog, const struct sl_test_suite *suites, unsigned int n,
	    CU_SetUpFunc setup, CU_TearDownFunc teardown, struct rte_mempool *pool)
{
	unsigned int failures = 1;

	if (CU_initialize_registry() != CUE_SUCCESS)
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		CU_pSuite s = CU_add_suite_with_setup_and_teardown(suites[i].name, NULL, NULL,
								   setup, teardown);

		for (unsigned int k = 0; s != NULL && k < suites[i].n; k++)
			if (CU_add_test(s, suites[i].tests[k].name, suites[i].tests[k].fn) == NULL)
				s = NULL;
		if (s == NULL) {
			fprintf(stderr, "%s: %s\n", prog, CU_get_error_msg());
			CU_cleanup_registry();
			goto out;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
out:
	sl_test_eal_stop(pool);
	return failures == 0 ? 0 : 1;
}
