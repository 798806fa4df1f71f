/* SPDX-License-Identifier: MIT */
#include <CUnit/Basic.h>

#include "dataplane/net/tcp/tcp_seq.h"
#include "cunit_main.h"

static void
test_seq_compare_orders_plain_numbers(void)
{
	CU_ASSERT_TRUE(sl_seq_lt(1, 2));
	CU_ASSERT_FALSE(sl_seq_lt(2, 1));
	CU_ASSERT_FALSE(sl_seq_lt(5, 5));
	CU_ASSERT_TRUE(sl_seq_leq(5, 5));
	CU_ASSERT_TRUE(sl_seq_leq(4, 5));
	CU_ASSERT_FALSE(sl_seq_leq(6, 5));
	CU_ASSERT_TRUE(sl_seq_gt(2, 1));
	CU_ASSERT_FALSE(sl_seq_gt(5, 5));
	CU_ASSERT_TRUE(sl_seq_geq(5, 5));
	CU_ASSERT_FALSE(sl_seq_geq(4, 5));
}

static void
test_seq_compare_orders_across_wrap_around(void)
{
	CU_ASSERT_TRUE(sl_seq_lt(0xfffffff0u, 0x10));
	CU_ASSERT_TRUE(sl_seq_lt(0xffffffffu, 0));
	CU_ASSERT_TRUE(sl_seq_leq(0xffffffffu, 0));
	CU_ASSERT_FALSE(sl_seq_lt(0x10, 0xfffffff0u));
	CU_ASSERT_TRUE(sl_seq_gt(0, 0xffffffffu));
	CU_ASSERT_TRUE(sl_seq_geq(0x10, 0xfffffff0u));
	CU_ASSERT_FALSE(sl_seq_gt(0xfffffff0u, 0x10));
}

static void
test_seq_compare_holds_up_to_half_the_space(void)
{
	uint32_t a = 0xc0000000u;

	CU_ASSERT_TRUE(sl_seq_lt(a, a + 0x7fffffffu));
	CU_ASSERT_FALSE(sl_seq_lt(a + 0x7fffffffu, a));
	CU_ASSERT_TRUE(sl_seq_gt(a + 0x7fffffffu, a));
	/* Past half the space the order flips. */
	CU_ASSERT_TRUE(sl_seq_gt(a, a + 0x80000001u));
	/* Exactly half: ambiguous, both "before" (documented, as Linux before()). */
	CU_ASSERT_TRUE(sl_seq_lt(a, a + 0x80000000u));
	CU_ASSERT_TRUE(sl_seq_lt(a + 0x80000000u, a));
}

static void
test_seq_max_and_min_pick_later_and_earlier_across_wrap(void)
{
	CU_ASSERT_EQUAL(sl_seq_max(0xfffffff0u, 0x10), 0x10);
	CU_ASSERT_EQUAL(sl_seq_max(0x10, 0xfffffff0u), 0x10);
	CU_ASSERT_EQUAL(sl_seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
	CU_ASSERT_EQUAL(sl_seq_min(0x10, 0xfffffff0u), 0xfffffff0u);
	CU_ASSERT_EQUAL(sl_seq_max(7, 7), 7);
	CU_ASSERT_EQUAL(sl_seq_min(3, 9), 3);
}

static void
test_seq_between_includes_both_ends(void)
{
	CU_ASSERT_TRUE(sl_seq_between(100, 100, 200));
	CU_ASSERT_TRUE(sl_seq_between(200, 100, 200));
	CU_ASSERT_TRUE(sl_seq_between(150, 100, 200));
	CU_ASSERT_FALSE(sl_seq_between(99, 100, 200));
	CU_ASSERT_FALSE(sl_seq_between(201, 100, 200));
	/* b == c: the single number. */
	CU_ASSERT_TRUE(sl_seq_between(42, 42, 42));
	CU_ASSERT_FALSE(sl_seq_between(43, 42, 42));
}

static void
test_seq_between_follows_an_arc_across_wrap_around(void)
{
	CU_ASSERT_TRUE(sl_seq_between(0xfffffff0u, 0xfffffff0u, 0x10));
	CU_ASSERT_TRUE(sl_seq_between(0xffffffffu, 0xfffffff0u, 0x10));
	CU_ASSERT_TRUE(sl_seq_between(0, 0xfffffff0u, 0x10));
	CU_ASSERT_TRUE(sl_seq_between(0x10, 0xfffffff0u, 0x10));
	CU_ASSERT_FALSE(sl_seq_between(0x11, 0xfffffff0u, 0x10));
	CU_ASSERT_FALSE(sl_seq_between(0xffffffefu, 0xfffffff0u, 0x10));
}

static void
test_seq_between_is_exact_for_arcs_longer_than_half_the_space(void)
{
	/* [0, 0xc0000000]: 0x90000000 is on it, though sl_seq_leq(0, 0x90000000) fails. */
	CU_ASSERT_TRUE(sl_seq_between(0x90000000u, 0, 0xc0000000u));
	CU_ASSERT_FALSE(sl_seq_leq(0, 0x90000000u));
	CU_ASSERT_FALSE(sl_seq_between(0xc0000001u, 0, 0xc0000000u));
	/* High before low: the arc wraps nearly all the way round. */
	CU_ASSERT_TRUE(sl_seq_between(5, 200, 100));
	CU_ASSERT_FALSE(sl_seq_between(150, 200, 100));
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_seq_compare_orders_plain_numbers),
	    T(test_seq_compare_orders_across_wrap_around),
	    T(test_seq_compare_holds_up_to_half_the_space),
	    T(test_seq_max_and_min_pick_later_and_earlier_across_wrap),
	    T(test_seq_between_includes_both_ends),
	    T(test_seq_between_follows_an_arc_across_wrap_around),
	    T(test_seq_between_is_exact_for_arcs_longer_than_half_the_space),
#undef T
	};

	return SL_UNIT_RUN("tcp_seq", tests);
}
