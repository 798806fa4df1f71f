/* SPDX-License-Identifier: MIT */
/*
 * Speed of lib/http's parser (and of the request head rewrite) on typical heads, beside the
 * Node.js http-parser from Debian (libhttp-parser-dev) measured in the same run when built
 * with it. Figures only, no pass or fail. Run by hand:
 *   gcc -O2 -std=gnu11 -I. -DWITH_HTTP_PARSER tests/bench/http_parse.c lib/http/http_parse.c \
 *       lib/http/http_head.c -lhttp_parser -o /tmp/sl-bench-http && /tmp/sl-bench-http
 * (leave out -DWITH_HTTP_PARSER and -lhttp_parser without the peer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "lib/http/http.h"

#ifdef WITH_HTTP_PARSER
#include <http_parser.h>
#endif

static const char browser[] =
    "GET /products/shoes/running?color=blue&size=42 HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=4f2a9c1b7e; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";
static const char curl[] = "GET /api/v1/items HTTP/1.1\r\nHost: 198.18.0.2\r\n"
			   "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\nServer: sluice-backend\r\n"
			       "Date: Thu, 03 Dec 2026 10:00:00 GMT\r\n"
			       "Content-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";

#define ROUNDS 7

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile uint64_t sink;

/* Parse `s` completely, in `pieces` equal pieces; returns the message's bytes. */
static size_t
sl_parse(enum sl_http_kind kind, const char *s, size_t len, int pieces)
{
	struct sl_http_parser p;
	struct sl_http_result r;
	size_t at = 0, step = (len + pieces - 1) / pieces, total = 0;

	sl_http_parser_init(&p, kind, NULL, SL_HTTP_M_GET);
	while (at < len) {
		size_t l = len - at < step ? len - at : step;
		const char *b = s + at;

		at += l;
		for (;;) {
			enum sl_http_event ev = sl_http_parse(&p, b, l, &r);

			b += r.consumed;
			l -= r.consumed;
			total += r.consumed;
			if (ev == SL_HTTP_DONE)
				return total;
			if (ev == SL_HTTP_ERROR)
				abort();
			if (ev == SL_HTTP_NEED_MORE)
				break;
		}
	}
	abort();
}

#ifdef WITH_HTTP_PARSER
static int
on_complete(http_parser *hp)
{
	sink++;
	return 0;
}

static http_parser_settings hp_settings = {.on_message_complete = on_complete};

static size_t
hp_parse(enum http_parser_type type, const char *s, size_t len)
{
	http_parser hp;
	size_t n;

	http_parser_init(&hp, type);
	n = http_parser_execute(&hp, &hp_settings, s, len);
	if (HTTP_PARSER_ERRNO(&hp) != HPE_OK)
		abort();
	return n;
}
#endif

enum which { SL_WHOLE, SL_PIECES, SL_REWRITE, HP };

static void
measure(const char *name, enum which w, enum sl_http_kind kind, const char *s, size_t len)
{
	static char out[4096];
	const unsigned n = 200000;
	double ns[ROUNDS], cyc[ROUNDS];
	struct sl_http_parser p;
	struct sl_http_result r;
	struct sl_http_fwd fwd = {.client_ip = "198.18.0.10", .proto = "http", .via = "sluice"};
	int k;

	if (w == SL_REWRITE) {
		sl_http_parser_init(&p, kind, NULL, 0);
		if (sl_http_parse(&p, s, len, &r) != SL_HTTP_HEAD)
			abort();
	}
	for (k = 0; k < ROUNDS; k++) {
		double t0 = now_ns();
		uint64_t c0 = __rdtsc();
		unsigned i;

		for (i = 0; i < n; i++) {
			switch (w) {
			case SL_WHOLE:
				sink += sl_parse(kind, s, len, 1);
				break;
			case SL_PIECES:
				sink += sl_parse(kind, s, len, 4);
				break;
			case SL_REWRITE:
				sink +=
				    sl_http_write_request_head(s, &p.head, &fwd, out, sizeof(out));
				break;
			case HP:
#ifdef WITH_HTTP_PARSER
				sink += hp_parse(
				    kind == SL_HTTP_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, s, len);
#endif
				break;
			}
		}
		cyc[k] = (double)(__rdtsc() - c0) / n;
		ns[k] = (now_ns() - t0) / n;
	}
	qsort(ns, ROUNDS, sizeof(double), cmp);
	qsort(cyc, ROUNDS, sizeof(double), cmp);
	printf("%-44s %5zu B %8.1f ns %8.0f TSC cycles %7.2f cycles/B %6.0f MB/s\n", name, len,
	       ns[ROUNDS / 2], cyc[ROUNDS / 2], cyc[ROUNDS / 2] / len, len / ns[ROUNDS / 2] * 1e3);
}

int
main(void)
{
	printf("median of %d rounds of 200000; TSC cycles are reference cycles\n", ROUNDS);
	measure("sluice: browser request, one piece", SL_WHOLE, SL_HTTP_REQUEST, browser,
		sizeof(browser) - 1);
	measure("sluice: browser request, 4 pieces", SL_PIECES, SL_HTTP_REQUEST, browser,
		sizeof(browser) - 1);
	measure("sluice: curl request, one piece", SL_WHOLE, SL_HTTP_REQUEST, curl,
		sizeof(curl) - 1);
	measure("sluice: response head + 6 B body", SL_WHOLE, SL_HTTP_RESPONSE, response,
		sizeof(response) - 1);
	measure("sluice: rewrite browser request head", SL_REWRITE, SL_HTTP_REQUEST, browser,
		sizeof(browser) - 1);
#ifdef WITH_HTTP_PARSER
	measure("http-parser 2.9: browser request", HP, SL_HTTP_REQUEST, browser,
		sizeof(browser) - 1);
	measure("http-parser 2.9: curl request", HP, SL_HTTP_REQUEST, curl, sizeof(curl) - 1);
	measure("http-parser 2.9: response head + 6 B body", HP, SL_HTTP_RESPONSE, response,
		sizeof(response) - 1);
#endif
	return sink == 42;
}
