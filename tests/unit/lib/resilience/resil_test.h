/* SPDX-License-Identifier: MIT */
#ifndef SL_TEST_RESIL_H
#define SL_TEST_RESIL_H

/* The tests of lib/resilience: virtual clocks in microseconds, the shared CUnit runner. */

#include "cunit_main.h"

#define US_PER_S 1000000ull
#define MS(x) ((uint64_t)(x)*1000ull)
#define SEC(x) ((uint64_t)(x)*US_PER_S)

#define T(f) SL_UNIT_TEST(f)

#endif
