/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <errno.h>
#include <string.h>

#include "lib/resilience/connlimit.h"
#include "resil_test.h"

static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void
test_limit_refuses_the_next_connection_and_a_close_frees_a_place(void)
{
	struct sl_cl_table *t;

	CU_ASSERT_EQUAL_FATAL(sl_cl_table_create(64, 3, key, &t), 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sl_cl_acquire(t, 0x0a000001), SL_CL_ADMITTED);
	CU_ASSERT_EQUAL(sl_cl_acquire(t, 0x0a000001), SL_CL_REFUSED);
	/* Another address is not affected. */
	CU_ASSERT_EQUAL(sl_cl_acquire(t, 0x0a000002), SL_CL_ADMITTED);
	CU_ASSERT_EQUAL(sl_cl_count(t, 0x0a000001), 3);
	sl_cl_release(t, 0x0a000001);
	CU_ASSERT_EQUAL(sl_cl_count(t, 0x0a000001), 2);
	CU_ASSERT_EQUAL(sl_cl_acquire(t, 0x0a000001), SL_CL_ADMITTED);
	CU_ASSERT_EQUAL(sl_cl_acquire(t, 0x0a000001), SL_CL_REFUSED);
	sl_cl_table_free(t);
}

static void
test_entries_free_themselves_and_a_full_set_lets_through_untracked(void)
{
	struct sl_cl_table *t;
	unsigned int untracked = 0;

	/* One set of 8 ways: the ninth address with a connection open finds no way. */
	CU_ASSERT_EQUAL_FATAL(sl_cl_table_create(8, 1, key, &t), 0);
	CU_ASSERT_EQUAL(t->n_sets, 1);
	for (uint32_t ip = 1; ip <= 8; ip++)
		CU_ASSERT_EQUAL(sl_cl_acquire(t, ip), SL_CL_ADMITTED);
	CU_ASSERT_EQUAL(sl_cl_acquire(t, 9), SL_CL_UNTRACKED);
	/* Closing frees the way: no eviction, no leftover state. */
	for (uint32_t ip = 1; ip <= 8; ip++)
		sl_cl_release(t, ip);
	for (uint32_t ip = 100; ip < 10100; ip++) {
		enum sl_cl_verdict v = sl_cl_acquire(t, ip);

		untracked += v == SL_CL_UNTRACKED;
		CU_ASSERT_NOT_EQUAL(v, SL_CL_REFUSED);
		if (v == SL_CL_ADMITTED)
			sl_cl_release(t, ip);
	}
	CU_ASSERT_EQUAL(untracked, 0);
	for (uint32_t ip = 1; ip <= 8; ip++)
		CU_ASSERT_EQUAL(sl_cl_count(t, ip), 0);
	/* A release of an address never counted changes nothing. */
	sl_cl_release(t, 12345);
	sl_cl_table_free(t);
	CU_ASSERT_EQUAL(sl_cl_table_create(8, 0, key, &t), -EINVAL);
}

#define THREADS 4
#define ROUNDS 200000

static struct sl_cl_table *shared;
static _Atomic uint32_t peak_seen;

static void *
churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		uint32_t ip = 1 + (uint32_t)(i % 4);

		if (sl_cl_acquire(shared, ip) == SL_CL_ADMITTED) {
			uint32_t n = sl_cl_count(shared, ip);
			uint32_t p = atomic_load(&peak_seen);

			while (n > p && !atomic_compare_exchange_weak(&peak_seen, &p, n))
				;
			sl_cl_release(shared, ip);
		}
	}
	return NULL;
}

/* Four threads opening and closing connections from four addresses at once: the count of an
 * address never goes past the limit and returns to 0. */
static void
test_limit_holds_across_threads(void)
{
	pthread_t th[THREADS];

	CU_ASSERT_EQUAL_FATAL(sl_cl_table_create(1024, 2, key, &shared), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, churn, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT(atomic_load(&peak_seen) <= 2);
	for (uint32_t ip = 1; ip <= 4; ip++)
		CU_ASSERT_EQUAL(sl_cl_count(shared, ip), 0);
	sl_cl_table_free(shared);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_limit_refuses_the_next_connection_and_a_close_frees_a_place),
	    T(test_entries_free_themselves_and_a_full_set_lets_through_untracked),
	    T(test_limit_holds_across_threads),
	};

	return SL_UNIT_RUN("resilience/connlimit", tests);
}
