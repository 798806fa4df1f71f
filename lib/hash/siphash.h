/* SPDX-License-Identifier: MIT */
#ifndef SL_SIPHASH_H
#define SL_SIPHASH_H

/*
 * SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012):
 * a keyed 64-bit PRF for short inputs. Use it wherever an attacker chooses the
 * input and must not predict or collide the output: TCP ISNs and SYN cookies,
 * hash tables keyed by addresses and ports.
 *
 * The key is 16 bytes (k0 = bytes 0-7, k1 = bytes 8-15, both little-endian,
 * as in the reference implementation); the result equals the reference
 * implementation's 8-byte output read as a little-endian integer, on any host.
 * Keep the key secret and random (from the OS at start-up).
 */

#include <stddef.h>
#include <stdint.h>

#define SL_SIPHASH_KEY_LEN 16

/* SipHash-2-4 of `len` bytes at `data` (NULL allowed when len is 0) under `key`. */
uint64_t sl_siphash24(const uint8_t key[SL_SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
