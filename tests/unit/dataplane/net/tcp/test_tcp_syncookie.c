/* SPDX-License-Identifier: MIT */
#include <CUnit/Basic.h>

#include "dataplane/net/tcp/tcp_seq.h"
#include "dataplane/net/tcp/tcp_syncookie.h"
#include "cunit_main.h"

#define LADDR 0x0a000001u
#define RADDR 0xc0a80117u
#define LPORT 443
#define RPORT 40000
#define PEER_ISN 0x12345678u
#define NOW UINT64_C(1700000000) /* seconds; a multiple of 64 */

static struct sl_tcp_secret secret;

static void
init_secret(uint8_t first)
{
	uint8_t seed[16];
	unsigned i;

	for (i = 0; i < 16; i++)
		seed[i] = (uint8_t)(first * 31 + i);
	sl_tcp_secret_init(&secret, seed);
}

static uint32_t
make(uint16_t peer_mss, uint64_t now_s, uint16_t *mss)
{
	return sl_syncookie_make(&secret, LADDR, LPORT, RADDR, RPORT, PEER_ISN, peer_mss, now_s,
				 mss);
}

static int
check(uint32_t cookie, uint64_t now_s, uint16_t *mss)
{
	return sl_syncookie_check(&secret, LADDR, LPORT, RADDR, RPORT, PEER_ISN, cookie, now_s,
				  mss);
}

static void
test_syncookie_mss_table_is_the_linux_one(void)
{
	CU_ASSERT_EQUAL(SL_SYNCOOKIE_MSS_COUNT, 4);
	CU_ASSERT_EQUAL(sl_syncookie_mss_table[0], 536);
	CU_ASSERT_EQUAL(sl_syncookie_mss_table[1], 1300);
	CU_ASSERT_EQUAL(sl_syncookie_mss_table[2], 1440);
	CU_ASSERT_EQUAL(sl_syncookie_mss_table[3], 1460);
}

static void
test_syncookie_round_trips_every_mss_bucket_rounding_down(void)
{
	static const struct {
		uint16_t peer, want;
	} cases[] = {
	    {0, 536},	  {100, 536},	{535, 536},    {536, 536},   {1299, 536},
	    {1300, 1300}, {1439, 1300}, {1440, 1440},  {1459, 1440}, {1460, 1460},
	    {1461, 1460}, {9000, 1460}, {65535, 1460},
	};
	uint16_t mss_made, mss_checked;
	uint32_t cookie;
	unsigned i;

	init_secret(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mss_made = mss_checked = 0;
		cookie = make(cases[i].peer, NOW, &mss_made);
		CU_ASSERT_EQUAL(mss_made, cases[i].want);
		CU_ASSERT_EQUAL(check(cookie, NOW, &mss_checked), 0);
		CU_ASSERT_EQUAL(mss_checked, cases[i].want);
	}
	/* NULL mss pointers are allowed. */
	CU_ASSERT_EQUAL(check(make(1460, NOW, NULL), NOW, NULL), 0);
}

static void
test_syncookie_rejects_any_changed_tuple_bit(void)
{
	uint32_t cookie;
	unsigned bit;

	init_secret(1);
	cookie = make(1460, NOW, NULL);
	for (bit = 0; bit < 32; bit++) {
		CU_ASSERT_EQUAL(sl_syncookie_check(&secret, LADDR ^ (1u << bit), LPORT, RADDR,
						   RPORT, PEER_ISN, cookie, NOW, NULL),
				-EINVAL);
		CU_ASSERT_EQUAL(sl_syncookie_check(&secret, LADDR, LPORT, RADDR ^ (1u << bit),
						   RPORT, PEER_ISN, cookie, NOW, NULL),
				-EINVAL);
	}
	for (bit = 0; bit < 16; bit++) {
		CU_ASSERT_EQUAL(sl_syncookie_check(&secret, LADDR, LPORT ^ (1u << bit), RADDR,
						   RPORT, PEER_ISN, cookie, NOW, NULL),
				-EINVAL);
		CU_ASSERT_EQUAL(sl_syncookie_check(&secret, LADDR, LPORT, RADDR,
						   RPORT ^ (1u << bit), PEER_ISN, cookie, NOW,
						   NULL),
				-EINVAL);
	}
	/* The reverse direction is another connection. */
	CU_ASSERT_EQUAL(
	    sl_syncookie_check(&secret, RADDR, RPORT, LADDR, LPORT, PEER_ISN, cookie, NOW, NULL),
	    -EINVAL);
}

static void
test_syncookie_rejects_a_changed_peer_isn(void)
{
	uint32_t cookie;
	unsigned bit;

	init_secret(1);
	cookie = make(1460, NOW, NULL);
	for (bit = 0; bit < 32; bit++)
		CU_ASSERT_EQUAL(sl_syncookie_check(&secret, LADDR, LPORT, RADDR, RPORT,
						   PEER_ISN ^ (1u << bit), cookie, NOW, NULL),
				-EINVAL);
}

static void
test_syncookie_rejects_a_wrong_cookie(void)
{
	uint32_t cookie;
	unsigned bit, accepted = 0;
	uint32_t c;

	init_secret(1);
	cookie = make(1300, NOW, NULL);
	/* Every single-bit change, the MSS index and counter bits included. */
	for (bit = 0; bit < 32; bit++)
		CU_ASSERT_EQUAL(check(cookie ^ (1u << bit), NOW, NULL), -EINVAL);
	/* Neighbours, as an ACK for cookie + 1 would give. */
	CU_ASSERT_EQUAL(check(cookie + 1, NOW, NULL), -EINVAL);
	CU_ASSERT_EQUAL(check(cookie - 1, NOW, NULL), -EINVAL);
	/* A blind guesser: 2^20 guesses, expected 2^-9 successes with a 29-bit MAC. */
	for (c = 0; c < (1u << 20); c++)
		accepted += check(c * 0x9e3779b1u, NOW, NULL) == 0;
	CU_ASSERT(accepted <= 1);
}

static void
test_syncookie_rejects_another_secret(void)
{
	uint32_t cookie;

	init_secret(1);
	cookie = make(1460, NOW, NULL);
	init_secret(2);
	CU_ASSERT_EQUAL(check(cookie, NOW, NULL), -EINVAL);
}

static void
test_syncookie_accepted_across_one_counter_tick(void)
{
	uint16_t mss = 0;
	uint32_t cookie;

	init_secret(1);
	/* Made in the last second of a period, checked in the next one. */
	cookie = make(1440, NOW + 63, NULL);
	CU_ASSERT_EQUAL(check(cookie, NOW + 64, &mss), 0);
	CU_ASSERT_EQUAL(mss, 1440);
	/* Made in the first second of a period: good to the end of the next one. */
	cookie = make(1440, NOW, NULL);
	CU_ASSERT_EQUAL(check(cookie, NOW + 63, NULL), 0);
	CU_ASSERT_EQUAL(check(cookie, NOW + 64, NULL), 0);
	CU_ASSERT_EQUAL(check(cookie, NOW + 127, NULL), 0);
	/* Same on the other counter parity. */
	cookie = make(1440, NOW + 64, NULL);
	CU_ASSERT_EQUAL(check(cookie, NOW + 128, NULL), 0);
	CU_ASSERT_EQUAL(check(cookie, NOW + 191, NULL), 0);
}

static void
test_syncookie_rejected_after_two_counter_periods(void)
{
	uint32_t cookie;
	unsigned k;

	init_secret(1);
	cookie = make(1460, NOW, NULL);
	CU_ASSERT_EQUAL(check(cookie, NOW + 128, NULL), -EINVAL);
	for (k = 2; k < 40; k++)
		CU_ASSERT_EQUAL(check(cookie, NOW + 64 * k + k, NULL), -EINVAL);
	/* Made late in a period, it still dies at the start of the second next one. */
	cookie = make(1460, NOW + 63, NULL);
	CU_ASSERT_EQUAL(check(cookie, NOW + 127, NULL), 0);
	CU_ASSERT_EQUAL(check(cookie, NOW + 128, NULL), -EINVAL);
}

static void
test_syncookie_rejected_before_the_period_it_was_made_in(void)
{
	uint32_t cookie;

	init_secret(1);
	cookie = make(1460, NOW + 64, NULL);
	CU_ASSERT_EQUAL(check(cookie, NOW + 63, NULL), -EINVAL);
	/* Near the epoch the previous counter would be -1: still just a mismatch. */
	cookie = make(1460, 70, NULL);
	CU_ASSERT_EQUAL(check(cookie, 5, NULL), -EINVAL);
	CU_ASSERT_EQUAL(check(make(536, 5, NULL), 5, NULL), 0);
}

static void
test_syncookie_differs_per_peer_isn_and_period(void)
{
	uint32_t a, b, c;

	init_secret(1);
	a = make(1460, NOW, NULL);
	b = sl_syncookie_make(&secret, LADDR, LPORT, RADDR, RPORT, PEER_ISN + 1, 1460, NOW, NULL);
	c = make(1460, NOW + 64, NULL);
	CU_ASSERT_NOT_EQUAL(a, b);
	CU_ASSERT_NOT_EQUAL(a, c);
	CU_ASSERT_EQUAL(a, make(1460, NOW + 63, NULL));
}

static void
test_syncookie_ts_round_trips_every_wscale_and_sack_flag(void)
{
	static const uint32_t clocks[] = {0,	       1,	    5,		 63,
					  64,	       65,	    1000,	 0x7fffffffu,
					  0x80000000u, 0xffffffc0u, 0xffffffffu, 0x12345678u};
	unsigned c, ws, sack;
	uint32_t ts;
	uint8_t got_ws;
	bool got_sack;

	for (c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++) {
		for (ws = 0; ws <= 15; ws++) {
			for (sack = 0; sack <= 1; sack++) {
				ts = sl_syncookie_ts_encode(clocks[c], (uint8_t)ws, sack);
				sl_syncookie_ts_decode(ts, &got_ws, &got_sack);
				CU_ASSERT_EQUAL(got_ws, ws);
				CU_ASSERT_EQUAL(got_sack, (bool)sack);
				/* Not ahead of the clock, and less than 64 behind it. */
				CU_ASSERT_TRUE(sl_seq_leq(ts, clocks[c]));
				CU_ASSERT(clocks[c] - ts < 64);
				CU_ASSERT_EQUAL(ts & 0x20, 0);
			}
		}
	}
}

static void
test_syncookie_ts_wscale_above_14_means_none(void)
{
	uint8_t ws;
	bool sack;

	sl_syncookie_ts_decode(sl_syncookie_ts_encode(1000, 200, true), &ws, &sack);
	CU_ASSERT_EQUAL(ws, SL_SYNCOOKIE_WSCALE_NONE);
	CU_ASSERT_TRUE(sack);
}

static void
test_syncookie_ts_keeps_tsval_monotonic_as_the_clock_advances(void)
{
	uint32_t now, prev, ts;

	/* For fixed options, a later clock never gives an earlier TSval. */
	prev = sl_syncookie_ts_encode(0xfffffe00u, 7, true);
	for (now = 0xfffffe01u; now != 0x400; now++) {
		ts = sl_syncookie_ts_encode(now, 7, true);
		CU_ASSERT_TRUE(sl_seq_geq(ts, prev));
		prev = ts;
	}
	/* When the clock's low bits already hold the options, the TSval is the clock. */
	CU_ASSERT_EQUAL(sl_syncookie_ts_encode(0x1000 | 0x17, 7, true), 0x1017);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_syncookie_mss_table_is_the_linux_one),
	    T(test_syncookie_round_trips_every_mss_bucket_rounding_down),
	    T(test_syncookie_rejects_any_changed_tuple_bit),
	    T(test_syncookie_rejects_a_changed_peer_isn),
	    T(test_syncookie_rejects_a_wrong_cookie),
	    T(test_syncookie_rejects_another_secret),
	    T(test_syncookie_accepted_across_one_counter_tick),
	    T(test_syncookie_rejected_after_two_counter_periods),
	    T(test_syncookie_rejected_before_the_period_it_was_made_in),
	    T(test_syncookie_differs_per_peer_isn_and_period),
	    T(test_syncookie_ts_round_trips_every_wscale_and_sack_flag),
	    T(test_syncookie_ts_wscale_above_14_means_none),
	    T(test_syncookie_ts_keeps_tsval_monotonic_as_the_clock_advances),
#undef T
	};

	return SL_UNIT_RUN("tcp_syncookie", tests);
}
