/* SPDX-License-Identifier: MIT */
/*
 * The parser fed in pieces: for a set of request and response streams (valid ones, pipelined
 * ones, chunked with extensions and trailers, refused ones, ones hitting a limit), a cut at
 * every byte offset, every pair of offsets for the short ones, one byte at a time, and random
 * piece sizes must all give the same result as the whole buffer: same events, same head spans,
 * same payload, same bytes per message, same error.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "http_harness.h"
#include "cunit_main.h"

static struct ht_trace whole, cut;

static const struct sl_http_limits LIM = {
    .max_line = 8192, .max_head = 16384, .max_headers = 100, .max_body = 1 << 20};
static const struct sl_http_limits SMALL = {
    .max_line = 40, .max_head = 120, .max_headers = 4, .max_body = 8};

struct stream {
	enum sl_http_kind kind;
	enum sl_http_method method;
	const struct sl_http_limits *lim;
	const char *s;
	int end; /* how the last message ends when parsed whole */
};

#define REQ(str, e)                                                                                \
	{                                                                                          \
		SL_HTTP_REQUEST, 0, &LIM, str, e                                                   \
	}
#define REQS(str, e)                                                                               \
	{                                                                                          \
		SL_HTTP_REQUEST, 0, &SMALL, str, e                                                 \
	}
#define RESP(m, str, e)                                                                            \
	{                                                                                          \
		SL_HTTP_RESPONSE, m, &LIM, str, e                                                  \
	}

static const struct stream streams[] = {
    REQ("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", SL_HTTP_DONE),
    REQ("GET /products/shoes?color=blue HTTP/1.1\r\nHost: shop.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,*/*;q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n",
	SL_HTTP_DONE),
    REQ("\r\nPOST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n"
	"\r\nhello world",
	SL_HTTP_DONE),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", SL_HTTP_ERROR),
    REQ("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	"5;name=value\r\nhello\r\n6 ; a ; b = \"q\\\"d;\"\r\n world\r\nA\r\n0123456789\r\n"
	"0;x\r\nX-Trailer: yes\r\nX-Other:  v \r\n\r\n",
	SL_HTTP_DONE),
    REQ("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
	"abcGET /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
	"GET /4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	SL_HTTP_DONE),
    REQ("GET http://a.example:8080/p?q HTTP/1.1\r\nHost: x\r\nConnection: close, X-A\r\nX-A: 1\r\n"
	"Upgrade: websocket\r\n\r\n",
	SL_HTTP_DONE),
    REQ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_DONE),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
	SL_HTTP_ERROR),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
	SL_HTTP_ERROR),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", SL_HTTP_ERROR),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
	SL_HTTP_ERROR),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/1.1\r\nX: y\r\n\r\n", SL_HTTP_ERROR),
    REQ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", SL_HTTP_ERROR),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX",
	SL_HTTP_ERROR),
    REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", SL_HTTP_ERROR),
    REQS("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
	 SL_HTTP_ERROR),
    REQS("GET / HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
	 SL_HTTP_ERROR),
    REQS("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", SL_HTTP_ERROR),
    REQS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n123456789", SL_HTTP_ERROR),
    REQS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n"
	 "4\r\n6789\r\n0\r\n\r\n",
	 SL_HTTP_ERROR),
    REQS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Pad: "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
	 SL_HTTP_ERROR),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello",
	 SL_HTTP_DONE),
    RESP(SL_HTTP_M_GET,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	 "3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n",
	 SL_HTTP_DONE),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close",
	 SL_HTTP_DONE),
    RESP(SL_HTTP_M_POST,
	 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
	 "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
	 "HTTP/1.0 200\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
	 SL_HTTP_DONE),
    RESP(SL_HTTP_M_HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", SL_HTTP_DONE),
    RESP(SL_HTTP_M_GET,
	 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	 "Connection: Upgrade\r\n\r\n\x81\x02hi",
	 SL_HTTP_UPGRADE),
    RESP(SL_HTTP_M_GET,
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
	 SL_HTTP_ERROR),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 2000 OK\r\n\r\n", SL_HTTP_ERROR),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", SL_HTTP_ERROR),
    /* list tokens: whole within a piece or cut anywhere, the same flags (list_run) */
    RESP(SL_HTTP_M_GET,
	 "HTTP/1.1 200 OK\r\nConnection: Keep-Alive ,\t,UPGRADE, keep-alivex,close\r\n"
	 "Connection: keep-aliv, clos, upgrades\r\nContent-Length: 2\r\n\r\nok",
	 SL_HTTP_DONE),
    RESP(SL_HTTP_M_GET,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: GZip ,\tChunKed \r\n\r\n0\r\n\r\n",
	 SL_HTTP_DONE),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nConnection: close keep-alive\r\n\r\n",
	 SL_HTTP_ERROR),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nConnection: close;q=1\r\n\r\n", SL_HTTP_ERROR),
    RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,chunked\r\n\r\n",
	 SL_HTTP_ERROR),
};

#define N_STREAMS (sizeof(streams) / sizeof(streams[0]))

static bool
same(const struct stream *st, const size_t *cuts, size_t n, const char *what)
{
	char why[256];

	ht_run(st->kind, st->method, st->lim, st->s, strlen(st->s), cuts, n, &cut);
	if (ht_equal(&whole, &cut, why, sizeof(why)))
		return true;
	fprintf(stderr, "\n%s cut at", what);
	for (size_t i = 0; i < n && i < 8; i++)
		fprintf(stderr, " %zu", cuts[i]);
	fprintf(stderr, ": %s\nstream: %.60s...\n", why, st->s);
	return false;
}

static void
parse_whole(const struct stream *st)
{
	ht_whole(st->kind, st->method, st->lim, st->s, strlen(st->s), &whole);
}

static void
test_streams_parsed_whole_end_as_expected(void)
{
	size_t i;

	for (i = 0; i < N_STREAMS; i++) {
		parse_whole(&streams[i]);
		if (whole.n == 0 || whole.m[whole.n - 1].end != streams[i].end) {
			fprintf(stderr, "\nstream %zu ends %d (%s), expected %d\n", i,
				whole.n ? whole.m[whole.n - 1].end : -1,
				whole.n && whole.m[whole.n - 1].reason ? whole.m[whole.n - 1].reason
								       : "-",
				streams[i].end);
			CU_FAIL("stream does not end as expected");
		}
	}
}

static void
test_split_at_every_offset_gives_the_whole_buffer_result(void)
{
	size_t i, k, len;

	for (i = 0; i < N_STREAMS; i++) {
		parse_whole(&streams[i]);
		len = strlen(streams[i].s);
		for (k = 0; k <= len; k++)
			if (!same(&streams[i], &k, 1, "one"))
				CU_FAIL_FATAL("piecewise result differs");
	}
}

static void
test_split_at_every_pair_of_offsets_gives_the_whole_buffer_result(void)
{
	size_t i, len, cuts[2];

	for (i = 0; i < N_STREAMS; i++) {
		len = strlen(streams[i].s);
		if (len > 260)
			continue;
		parse_whole(&streams[i]);
		for (cuts[0] = 0; cuts[0] <= len; cuts[0]++)
			for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1]++)
				if (!same(&streams[i], cuts, 2, "two"))
					CU_FAIL_FATAL("piecewise result differs");
	}
}

static void
test_one_byte_at_a_time_gives_the_whole_buffer_result(void)
{
	static size_t cuts[4096];
	size_t i, k, len;

	for (i = 0; i < N_STREAMS; i++) {
		len = strlen(streams[i].s);
		for (k = 0; k < len; k++)
			cuts[k] = k + 1;
		parse_whole(&streams[i]);
		CU_ASSERT(same(&streams[i], cuts, len, "bytewise"));
	}
}

static void
test_random_pieces_give_the_whole_buffer_result(void)
{
	static size_t cuts[4096];
	unsigned seed = 12345;
	size_t i, n, at, len;
	int round;

	for (i = 0; i < N_STREAMS; i++) {
		len = strlen(streams[i].s);
		parse_whole(&streams[i]);
		for (round = 0; round < 200; round++) {
			for (n = 0, at = 0; at < len && n < 4096; n++) {
				seed = seed * 1103515245 + 12345;
				at += (seed >> 16) % 17;
				cuts[n] = at < len ? at : len;
			}
			if (!same(&streams[i], cuts, n, "random"))
				CU_FAIL_FATAL("piecewise result differs");
		}
	}
}

/* The empty pieces the proxy may pass (an empty mbuf segment) change nothing. */
static void
test_empty_pieces_change_nothing(void)
{
	size_t cuts[64], i, k, len;

	for (i = 0; i < N_STREAMS; i++) {
		len = strlen(streams[i].s);
		parse_whole(&streams[i]);
		for (k = 0; k < 64; k++)
			cuts[k] = k < 32 ? len / 3 : 2 * len / 3;
		CU_ASSERT(same(&streams[i], cuts, 64, "empty"));
	}
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_streams_parsed_whole_end_as_expected),
	    T(test_split_at_every_offset_gives_the_whole_buffer_result),
	    T(test_split_at_every_pair_of_offsets_gives_the_whole_buffer_result),
	    T(test_one_byte_at_a_time_gives_the_whole_buffer_result),
	    T(test_random_pieces_give_the_whole_buffer_result),
	    T(test_empty_pieces_change_nothing),
#undef T
	};

	return SL_UNIT_RUN("http_split", tests);
}
