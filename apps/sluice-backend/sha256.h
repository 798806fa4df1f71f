/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_BACKEND_SHA256_H
#define SLUICE_BACKEND_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define BK_SHA256_DIGEST_LEN 32
#define BK_SHA256_HEX_LEN 64

/* Streaming SHA-256 (FIPS 180-4): init, update any number of times, final. */
struct bk_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[64];
	size_t block_len;
};

void bk_sha256_init(struct bk_sha256 *ctx);
void bk_sha256_update(struct bk_sha256 *ctx, const void *data, size_t len);
void bk_sha256_final(struct bk_sha256 *ctx, uint8_t digest[BK_SHA256_DIGEST_LEN]);
/* Finishes ctx and writes the digest as 64 lower-case hex digits plus a NUL. */
void bk_sha256_final_hex(struct bk_sha256 *ctx, char hex[BK_SHA256_HEX_LEN + 1]);

#endif
