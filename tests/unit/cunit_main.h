/* SPDX-License-Identifier: MIT */
#ifndef SL_TEST_CUNIT_MAIN_H
#define SL_TEST_CUNIT_MAIN_H

/* The CUnit runner every unit test program shares: one suite of named tests, verbose output,
 * exit status 0 when every test passed and 1 otherwise (a failed assertion, a suite whose init
 * failed, or CUnit itself failing). */

#include <stddef.h>

#include <CUnit/Basic.h>

struct sl_unit_test {
	const char *name;
	CU_TestFunc fn;
};

#define SL_UNIT_TEST(f) {#f, f}

int sl_unit_run(const char *suite_name, CU_InitializeFunc init, CU_CleanupFunc clean,
		const struct sl_unit_test *tests, size_t n);

/* The usual case: a static array of tests, no suite init or cleanup. */
#define SL_UNIT_RUN(suite_name, tests)                                                             \
	sl_unit_run(suite_name, NULL, NULL, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
