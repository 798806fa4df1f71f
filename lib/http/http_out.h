/* SPDX-License-Identifier: MIT */
#ifndef SL_HTTP_OUT_H
#define SL_HTTP_OUT_H

/*
 * The bounded output buffer the writers of lib/http (heads, pages, policy fields) and the
 * access-log formatter append to: once a piece does not fit, the buffer stays full, nothing
 * more is written, and the writer returns -ENOSPC (sl_out_result). No allocation, no printf:
 * it runs on the workers' hot path.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sl_out {
	char *buf;
	size_t cap, len;
	bool full;
};

static inline void
sl_out_put(struct sl_out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline void
sl_out_puts(struct sl_out *o, const char *s)
{
	sl_out_put(o, s, strlen(s));
}

/* v in decimal. */
static inline void
sl_out_uint(struct sl_out *o, uint64_t v)
{
	char d[20];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sl_out_put(o, d + n, sizeof(d) - n);
}

/* The bytes written, or -ENOSPC when something did not fit. */
static inline int
sl_out_result(const struct sl_out *o)
{
	return o->full ? -ENOSPC : (int)o->len;
}

#endif
