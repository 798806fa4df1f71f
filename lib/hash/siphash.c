/* SPDX-License-Identifier: MIT */
#include "lib/hash/siphash.h"

#include <string.h>

/* Little-endian loads whatever the host order and alignment. */
static inline uint64_t
load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

static inline uint64_t
rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl64(v1, 13);                                                               \
		v1 ^= v0;                                                                          \
		v0 = rotl64(v0, 32);                                                               \
		v2 += v3;                                                                          \
		v3 = rotl64(v3, 16);                                                               \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl64(v3, 21);                                                               \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl64(v1, 17);                                                               \
		v1 ^= v2;                                                                          \
		v2 = rotl64(v2, 32);                                                               \
	} while (0)

/*
 * Two compression rounds per 8-byte word, the last word padded with zeros and
 * carrying len mod 256 in its top byte, then four finalisation rounds.
 */
uint64_t
sl_siphash24(const uint8_t key[SL_SIPHASH_KEY_LEN], const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t words = len / 8, i;
	uint64_t k0 = load_le64(key);
	uint64_t k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575); /* "somepseu" */
	uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d); /* "dorandom" */
	uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261); /* "lygenera" */
	uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573); /* "tedbytes" */
	uint8_t tail[8] = {0};
	uint64_t m;

	for (i = 0; i < words; i++) {
		m = load_le64(p + 8 * i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	if ((len & 7) != 0)
		memcpy(tail, p + 8 * words, len & 7); /* p is not NULL here */
	m = load_le64(tail) | (uint64_t)(len & 0xff) << 56;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;

	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
