/* SPDX-License-Identifier: MIT */
#ifndef SL_TEST_RESIL_H
#define SL_TEST_RESIL_H

/* The CUnit runner every test program of lib/resilience shares. */

#include <CUnit/Basic.h>

#define US_PER_S 1000000ull
#define MS(x) ((uint64_t)(x)*1000ull)
#define SEC(x) ((uint64_t)(x)*US_PER_S)

struct resil_test {
	const char *name;
	CU_TestFunc fn;
};

#define T(f)                                                                                       \
	{                                                                                          \
#f, f                                                                              \
	}

static inline int
resil_run(const char *suite_name, const struct resil_test *tests, unsigned int n)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	suite = CU_add_suite(suite_name, NULL, NULL);
	for (unsigned int i = 0; suite && i < n; i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			break;
	if (CU_get_error() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return CU_get_error();
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#endif
