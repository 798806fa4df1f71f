/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "dataplane/net/tcp/tcp_isn.h"
#include "cunit_main.h"

#define LADDR 0x0a000001u /* values as the stack passes them; the order does not matter here */
#define RADDR 0xc0a80117u
#define LPORT 80
#define RPORT 51234
#define T0 UINT64_C(1700000000000000)

static struct sl_tcp_secret secret;

static void
init_secret(uint8_t first)
{
	uint8_t seed[16];
	unsigned i;

	for (i = 0; i < 16; i++)
		seed[i] = (uint8_t)(first + 17 * i);
	sl_tcp_secret_init(&secret, seed);
}

static uint32_t
isn_at(uint64_t now_us)
{
	return sl_tcp_isn(&secret, LADDR, LPORT, RADDR, RPORT, now_us);
}

static void
test_isn_is_deterministic_for_same_inputs(void)
{
	init_secret(1);
	CU_ASSERT_EQUAL(isn_at(T0), isn_at(T0));
	CU_ASSERT_EQUAL(isn_at(0), isn_at(0));
}

static void
test_isn_differs_when_any_tuple_field_changes(void)
{
	uint32_t base;

	init_secret(1);
	base = isn_at(T0);
	CU_ASSERT_NOT_EQUAL(sl_tcp_isn(&secret, LADDR + 1, LPORT, RADDR, RPORT, T0), base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_isn(&secret, LADDR, LPORT + 1, RADDR, RPORT, T0), base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_isn(&secret, LADDR, LPORT, RADDR ^ 0x80000000u, RPORT, T0),
			    base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_isn(&secret, LADDR, LPORT, RADDR, RPORT ^ 1, T0), base);
	/* The two directions of a connection are different tuples. */
	CU_ASSERT_NOT_EQUAL(sl_tcp_isn(&secret, RADDR, RPORT, LADDR, LPORT, T0), base);
}

static void
test_isn_offsets_look_unrelated_across_source_ports(void)
{
	/* 4096 consecutive client ports at one instant: no two ISNs equal, no constant step. */
	enum { N = 4096 };
	uint32_t *v = malloc(N * sizeof(*v));
	unsigned i, j, equal = 0, same_step = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	init_secret(1);
	for (i = 0; i < N; i++)
		v[i] = sl_tcp_isn(&secret, LADDR, LPORT, RADDR, (uint16_t)(1024 + i), T0);
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			equal += v[i] == v[j];
	for (i = 2; i < N; i++)
		same_step += v[i] - v[i - 1] == v[i - 1] - v[i - 2];
	CU_ASSERT_EQUAL(equal, 0);
	CU_ASSERT(same_step < 4);
	free(v);
}

static void
test_isn_depends_on_the_secret(void)
{
	uint32_t a, b;

	init_secret(1);
	a = isn_at(T0);
	init_secret(2);
	b = isn_at(T0);
	CU_ASSERT_NOT_EQUAL(a, b);
}

static void
test_isn_advances_250000_per_second(void)
{
	init_secret(1);
	CU_ASSERT_EQUAL(isn_at(T0 + 1000000) - isn_at(T0), 250000);
	CU_ASSERT_EQUAL(isn_at(T0 + 60 * 1000000) - isn_at(T0), 60 * 250000);
	/* One step per 4 us, none in between. */
	CU_ASSERT_EQUAL(isn_at(T0 + 4) - isn_at(T0), 1);
	CU_ASSERT_EQUAL(isn_at(T0 + 3), isn_at(T0));
}

static void
test_isn_clock_wraps_after_2_pow_32_steps_of_4_us(void)
{
	init_secret(1);
	CU_ASSERT_EQUAL(isn_at(T0 + (UINT64_C(4) << 32)), isn_at(T0));
	CU_ASSERT_EQUAL(isn_at(T0 + (UINT64_C(4) << 32) - 4), isn_at(T0) - 1);
}

/* RFC 6056's hash of a destination: keyed, depends on each field, not on the source port. */
static void
test_port_hash_depends_on_destination_and_secret(void)
{
	uint64_t base, again;

	init_secret(1);
	base = sl_tcp_port_hash(&secret, LADDR, RADDR, RPORT);
	CU_ASSERT_EQUAL(sl_tcp_port_hash(&secret, LADDR, RADDR, RPORT), base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_port_hash(&secret, LADDR + 1, RADDR, RPORT), base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_port_hash(&secret, LADDR, RADDR + 1, RPORT), base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_port_hash(&secret, LADDR, RADDR, RPORT + 1), base);
	CU_ASSERT_NOT_EQUAL(sl_tcp_port_hash(&secret, LADDR, RADDR, RPORT + 256), base);
	/* Not the ISN's hash in disguise (another domain byte). */
	CU_ASSERT_NOT_EQUAL((uint32_t)base, sl_tcp_isn(&secret, LADDR, 0, RADDR, RPORT, 0));
	init_secret(2);
	again = sl_tcp_port_hash(&secret, LADDR, RADDR, RPORT);
	CU_ASSERT_NOT_EQUAL(again, base);
	/* Both halves are used (offset and table index): neither is constant. */
	CU_ASSERT_NOT_EQUAL((uint32_t)again, (uint32_t)base);
	CU_ASSERT_NOT_EQUAL(again >> 32, base >> 32);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_isn_is_deterministic_for_same_inputs),
	    T(test_isn_differs_when_any_tuple_field_changes),
	    T(test_isn_offsets_look_unrelated_across_source_ports),
	    T(test_isn_depends_on_the_secret),
	    T(test_isn_advances_250000_per_second),
	    T(test_isn_clock_wraps_after_2_pow_32_steps_of_4_us),
	    T(test_port_hash_depends_on_destination_and_secret),
#undef T
	};

	return SL_UNIT_RUN("tcp_isn", tests);
}
