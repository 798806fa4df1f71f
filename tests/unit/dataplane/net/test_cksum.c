/* SPDX-License-Identifier: MIT */
/*
 * sl_cksum_mbuf over chains cut every way: one message split into pieces of
 * odd and even lengths (1-byte pieces, empty ones), each piece starting at an
 * odd or even address, must sum to what the flat message sums to. No EAL:
 * the mbufs are plain structs over static buffers, which is all the routine
 * reads (buf_addr, data_off, data_len, next).
 *
 * The reference is RFC 1071 done the slow way, byte by byte in network order,
 * so it shares nothing with the code under test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dataplane/net/cksum.h"
#include "cunit_main.h"

#define MSG_MAX 9000
#define PIECES_MAX 64
#define SKEW_MAX 8

static uint8_t msg[MSG_MAX];
static uint8_t bufs[PIECES_MAX][MSG_MAX + SKEW_MAX];
static struct rte_mbuf mbufs[PIECES_MAX];

/* RFC 1071 over bytes in network order; folded, not inverted. */
static uint16_t
ref_sum(const uint8_t *p, uint32_t len)
{
	uint64_t s = 0;

	for (uint32_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* sl_cksum_mbuf sums 16-bit words as they lie in memory: compare in network order. */
static uint16_t
to_net(uint16_t host_words_sum)
{
	return rte_be_to_cpu_16(host_words_sum);
}

/*
 * Build a chain over msg[0, len) cut at the given lengths (the last piece
 * takes the rest); piece i's data starts skew[i] bytes into its buffer.
 */
static struct rte_mbuf *
chain(uint32_t len, const uint32_t *cuts, unsigned int n, const unsigned int *skew)
{
	uint32_t off = 0;

	CU_ASSERT_FATAL(n >= 1 && n <= PIECES_MAX);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = &mbufs[i];
		uint32_t k = i + 1 < n ? cuts[i] : len - off;

		memset(m, 0, sizeof(*m));
		m->buf_addr = bufs[i];
		m->buf_len = sizeof(bufs[i]);
		m->data_off = (uint16_t)skew[i];
		m->data_len = (uint16_t)k;
		memcpy(bufs[i] + skew[i], msg + off, k);
		m->next = i + 1 < n ? &mbufs[i + 1] : NULL;
		off += k;
	}
	CU_ASSERT_FATAL(off == len);
	mbufs[0].pkt_len = len;
	mbufs[0].nb_segs = (uint16_t)n;
	return &mbufs[0];
}

static void
fill(uint32_t len, unsigned int seed)
{
	srand(seed);
	for (uint32_t i = 0; i < len; i++)
		msg[i] = (uint8_t)rand();
}

static void
test_cksum_of_one_piece_is_the_flat_sum(void)
{
	const unsigned int skew[1] = {0};
	uint16_t s = 0;

	for (uint32_t len = 0; len < 64; len++) {
		fill(len, len);
		CU_ASSERT_EQUAL(sl_cksum_mbuf(chain(len, NULL, 1, skew), 0, len, &s), 0);
		CU_ASSERT_EQUAL(to_net(s), ref_sum(msg, len));
	}
}

/* The case the TAP PMD gets wrong (issue 6): an odd piece first, the rest after it. */
static void
test_cksum_of_odd_pieces_is_the_flat_sum(void)
{
	static const uint32_t cuts[][4] = {
	    {1, 1, 1, 0}, {1, 1447, 0, 0}, {3, 5, 7, 0}, {1447, 1, 0, 0}, {841, 619, 0, 0},
	};
	static const unsigned int n[] = {4, 3, 3, 3, 3};
	const unsigned int skews[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {1, 0, 3, 2}, {7, 2, 5, 0}};
	uint16_t s = 0;

	fill(2000, 7);
	for (unsigned int c = 0; c < RTE_DIM(cuts); c++) {
		for (unsigned int k = 0; k < RTE_DIM(skews); k++) {
			struct rte_mbuf *m = chain(2000, cuts[c], n[c], skews[k]);

			CU_ASSERT_EQUAL(sl_cksum_mbuf(m, 0, 2000, &s), 0);
			CU_ASSERT_EQUAL(to_net(s), ref_sum(msg, 2000));
		}
	}
}

/*
 * Many random cuts of one message (1-byte and empty pieces common, starts at
 * odd addresses), and random windows [off, off + len) into the chain: always
 * the flat sum of that window.
 */
static void
test_cksum_of_random_splits_and_windows_is_the_flat_sum(void)
{
	uint32_t cuts[PIECES_MAX];
	unsigned int skew[PIECES_MAX];
	unsigned int bad = 0, runs = 0;
	uint16_t s = 0;

	for (unsigned int round = 0; round < 20000; round++) {
		uint32_t len = 1 + (uint32_t)rand() % (round % 7 == 0 ? MSG_MAX : 3000);
		unsigned int n = 1 + (unsigned int)rand() % 24, i;
		uint32_t left = len;

		fill(len, round);
		srand(round * 7919u + 1);
		for (i = 0; i + 1 < n; i++) {
			uint32_t k;

			switch (rand() % 4) {
			case 0:
				k = 1;
				break;
			case 1:
				k = 0;
				break;
			default:
				k = (uint32_t)rand() % (left + 1);
			}
			k = RTE_MIN(k, left);
			cuts[i] = k;
			left -= k;
		}
		for (i = 0; i < n; i++)
			skew[i] = (unsigned int)rand() % SKEW_MAX;
		struct rte_mbuf *m = chain(len, cuts, n, skew);
		uint32_t off = (uint32_t)rand() % len;
		uint32_t wlen = (uint32_t)rand() % (len - off + 1);

		if (sl_cksum_mbuf(m, 0, len, &s) != 0 || to_net(s) != ref_sum(msg, len))
			bad++;
		if (sl_cksum_mbuf(m, off, wlen, &s) != 0 || to_net(s) != ref_sum(msg + off, wlen))
			bad++;
		runs += 2;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(runs, 40000);
}

/* All ones and all zeros: the folding edge cases (0xffff, 0) come out as the flat sum. */
static void
test_cksum_folds_carries_like_the_flat_sum(void)
{
	const uint32_t cuts[3] = {1, 3, 1};
	const unsigned int skew[4] = {1, 0, 1, 0};
	uint16_t s = 0;

	memset(msg, 0xff, MSG_MAX);
	CU_ASSERT_EQUAL(sl_cksum_mbuf(chain(MSG_MAX, cuts, 4, skew), 0, MSG_MAX, &s), 0);
	CU_ASSERT_EQUAL(to_net(s), ref_sum(msg, MSG_MAX));
	CU_ASSERT_EQUAL(s, 0xffff);
	memset(msg, 0, MSG_MAX);
	CU_ASSERT_EQUAL(sl_cksum_mbuf(chain(MSG_MAX, cuts, 4, skew), 0, MSG_MAX, &s), 0);
	CU_ASSERT_EQUAL(s, 0);
}

/* sl_raw_cksum is rte_raw_cksum: every length to 300 at every alignment, long runs of ones. */
static void
test_raw_cksum_is_rte_raw_cksum(void)
{
	static uint8_t b[MSG_MAX + SKEW_MAX];
	unsigned int bad = 0;

	for (unsigned int v = 0; v < 3; v++) {
		srand(v);
		for (unsigned int i = 0; i < sizeof(b); i++)
			b[i] = v == 0 ? (uint8_t)rand() : v == 1 ? 0xff : 0;
		for (unsigned int a = 0; a < SKEW_MAX; a++) {
			for (uint32_t len = 0; len <= 300; len++) {
				if (sl_raw_cksum(b + a, len) != rte_raw_cksum(b + a, len))
					bad++;
				if (to_net(sl_raw_cksum(b + a, len)) != ref_sum(b + a, len))
					bad++;
			}
			if (sl_raw_cksum(b + a, MSG_MAX) != rte_raw_cksum(b + a, MSG_MAX))
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	memset(b, 0xff, sizeof(b));
	CU_ASSERT_EQUAL(sl_raw_cksum(b, MSG_MAX), 0xffff);
	CU_ASSERT_EQUAL(sl_raw_cksum(b, 0), 0);
}

/* The largest segment (64 KB) of ones and of random bytes: the wide lanes carry nothing away. */
static void
test_raw_cksum_of_64k_is_rte_raw_cksum(void)
{
	static uint8_t b[65536 + SKEW_MAX];

	memset(b, 0xff, sizeof(b));
	CU_ASSERT_EQUAL(sl_raw_cksum(b, 65535), rte_raw_cksum(b, 65535));
	CU_ASSERT_EQUAL(sl_raw_cksum(b + 1, 65536), rte_raw_cksum(b + 1, 65536));
	srand(11);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)rand();
	for (unsigned int a = 0; a < SKEW_MAX; a++)
		CU_ASSERT_EQUAL(sl_raw_cksum(b + a, 65536 - a), rte_raw_cksum(b + a, 65536 - a));
}

static void
test_cksum_of_a_chain_too_short_is_einval(void)
{
	const uint32_t cuts[1] = {3};
	const unsigned int skew[2] = {0, 1};
	uint16_t s = 0x1234;

	fill(10, 1);
	CU_ASSERT_EQUAL(sl_cksum_mbuf(chain(10, cuts, 2, skew), 4, 7, &s), -EINVAL);
	CU_ASSERT_EQUAL(sl_cksum_mbuf(chain(10, cuts, 2, skew), 11, 0, &s), 0);
	CU_ASSERT_EQUAL(sl_cksum_mbuf(chain(10, cuts, 2, skew), 3, 7, &s), 0);
	CU_ASSERT_EQUAL(to_net(s), ref_sum(msg + 3, 7));
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_cksum_of_one_piece_is_the_flat_sum),
	    T(test_cksum_of_odd_pieces_is_the_flat_sum),
	    T(test_cksum_of_random_splits_and_windows_is_the_flat_sum),
	    T(test_cksum_folds_carries_like_the_flat_sum),
	    T(test_raw_cksum_is_rte_raw_cksum),
	    T(test_raw_cksum_of_64k_is_rte_raw_cksum),
	    T(test_cksum_of_a_chain_too_short_is_einval),
#undef T
	};

	return SL_UNIT_RUN("cksum", tests);
}
