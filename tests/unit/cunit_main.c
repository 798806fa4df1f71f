/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cunit_main.h"

int
sl_unit_run(const char *suite_name, CU_InitializeFunc init, CU_CleanupFunc clean,
	    const struct sl_unit_test *tests, size_t n)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, init, clean);
	for (size_t i = 0; suite != NULL && i < n; i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			suite = NULL;
	if (suite == NULL) {
		fprintf(stderr, "%s: cannot register the tests: %s\n", suite_name,
			CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed != 0;
}
