/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/hash/siphash.h"
#include "cunit_main.h"

/*
 * The 64 SipHash-2-4 test vectors of the reference implementation (vectors.h,
 * Appendix A of the paper for len 15): key 00 01 .. 0f, message 00 01 .. (len-1).
 */
static const uint64_t vectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

static uint8_t key[16];
static uint8_t msg[64];

static void
fill(void)
{
	unsigned i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
}

static void
check_len(size_t len)
{
	fill();
	CU_ASSERT_EQUAL(sl_siphash24(key, msg, len), vectors[len]);
}

static void
test_siphash_empty_input_matches_reference_vector(void)
{
	fill();
	CU_ASSERT_EQUAL(sl_siphash24(key, NULL, 0), vectors[0]);
	CU_ASSERT_EQUAL(sl_siphash24(key, msg, 0), vectors[0]);
}

static void
test_siphash_7_bytes_partial_word_matches_reference_vector(void)
{
	check_len(7);
}

static void
test_siphash_8_bytes_one_full_word_matches_reference_vector(void)
{
	check_len(8);
}

static void
test_siphash_15_bytes_paper_example_matches_reference_vector(void)
{
	check_len(15);
}

static void
test_siphash_63_bytes_matches_reference_vector(void)
{
	check_len(63);
}

static void
test_siphash_all_64_reference_vectors_match(void)
{
	size_t len;

	fill();
	for (len = 0; len < 64; len++)
		CU_ASSERT_EQUAL(sl_siphash24(key, msg, len), vectors[len]);
}

static void
test_siphash_unaligned_input_gives_same_result(void)
{
	uint8_t buf[64 + 8];
	size_t off, len;

	fill();
	for (off = 1; off < 8; off++) {
		memcpy(buf + off, msg, 64);
		for (len = 0; len < 64; len++)
			CU_ASSERT_EQUAL(sl_siphash24(key, buf + off, len), vectors[len]);
	}
}

static void
test_siphash_every_key_bit_changes_the_result(void)
{
	uint64_t base, h;
	unsigned bit;

	fill();
	base = sl_siphash24(key, msg, 12);
	for (bit = 0; bit < 128; bit++) {
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		h = sl_siphash24(key, msg, 12);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CU_ASSERT_NOT_EQUAL(h, base);
	}
}

static void
test_siphash_lengths_equal_mod_256_still_differ(void)
{
	/* The length byte is len mod 256: 256 zero bytes and 0 bytes must still differ. */
	uint8_t *zeros = calloc(512, 1);

	fill();
	CU_ASSERT_PTR_NOT_NULL_FATAL(zeros);
	CU_ASSERT_NOT_EQUAL(sl_siphash24(key, zeros, 256), sl_siphash24(key, zeros, 0));
	CU_ASSERT_NOT_EQUAL(sl_siphash24(key, zeros, 264), sl_siphash24(key, zeros, 8));
	free(zeros);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_siphash_empty_input_matches_reference_vector),
	    T(test_siphash_7_bytes_partial_word_matches_reference_vector),
	    T(test_siphash_8_bytes_one_full_word_matches_reference_vector),
	    T(test_siphash_15_bytes_paper_example_matches_reference_vector),
	    T(test_siphash_63_bytes_matches_reference_vector),
	    T(test_siphash_all_64_reference_vectors_match),
	    T(test_siphash_unaligned_input_gives_same_result),
	    T(test_siphash_every_key_bit_changes_the_result),
	    T(test_siphash_lengths_equal_mod_256_still_differ),
#undef T
	};

	return SL_UNIT_RUN("siphash", tests);
}
