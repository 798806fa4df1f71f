/* SPDX-License-Identifier: MIT */
#ifndef SL_HTTP_NAME_H
#define SL_HTTP_NAME_H

/*
 * Comparing a token (a field name, a Connection or Transfer-Encoding token: tchar bytes only,
 * as the parser accepted them) with a name spelled in lower-case letters and '-', case aside.
 * Private to lib/http: the parser and the head writers both do it for every field.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Whether tok[0, n) is lname[0, n). c | 0x20 lowers a letter, and among tchar bytes only
 * letters become letters and only '-' stays '-' that way, so no lower() per byte is needed;
 * eight (or four) bytes at a time, the last load overlapping the one before it so that neither
 * side is read past n.
 */
static inline bool
sl__http_token_eq(const unsigned char *tok, const char *lname, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;
	size_t k;

	if (n >= 8) {
		for (k = 0;; k += 8) {
			if (k + 8 > n)
				k = n - 8;
			memcpy(&a, tok + k, 8);
			memcpy(&b, lname + k, 8);
			if ((a | 0x2020202020202020ull) != b)
				return false;
			if (k + 8 == n)
				return true;
		}
	}
	if (n >= 4) {
		memcpy(&x, tok, 4);
		memcpy(&y, lname, 4);
		if ((x | 0x20202020u) != y)
			return false;
		memcpy(&x, tok + n - 4, 4);
		memcpy(&y, lname + n - 4, 4);
		return (x | 0x20202020u) == y;
	}
	for (k = 0; k < n && (tok[k] | 0x20u) == (unsigned char)lname[k]; k++)
		;
	return k == n;
}

#endif
