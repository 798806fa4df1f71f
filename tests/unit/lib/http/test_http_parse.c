/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1.1 parser on whole buffers: conformance, every smuggling case the parser must
 * refuse (one test each), chunked edge cases, pipelining, responses, limits and statuses.
 * Piecewise parsing is test_http_split.c's subject.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "http_harness.h"
#include "cunit_main.h"

static struct ht_trace T;
static const struct sl_http_limits LIM = {
    .max_line = 8192, .max_head = 16384, .max_headers = 100, .max_body = 1 << 20};

#define REQ(s) ht_whole(SL_HTTP_REQUEST, 0, &LIM, s, sizeof(s) - 1, &T)
#define RESP(method, s) ht_whole(SL_HTTP_RESPONSE, method, &LIM, s, sizeof(s) - 1, &T)
#define M0 (&T.m[0])

/* The first message of `s` fails with `status`; says which case failed otherwise. */
static void
check_error(enum sl_http_kind kind, enum sl_http_method method, const struct sl_http_limits *l,
	    const char *s, size_t len, unsigned status, int line)
{
	const struct ht_msg *m;

	ht_whole(kind, method, l, s, len, &T);
	m = &T.m[T.n ? T.n - 1 : 0];
	if (T.n != 1 || m->end != SL_HTTP_ERROR || m->status != status || !m->reason ||
	    !m->reason[0]) {
		fprintf(stderr,
			"\nline %d: expected error %u, got %u messages, end %d status %u (%s)\n",
			line, status, T.n, m->end, m->status, m->reason ? m->reason : "-");
		CU_FAIL("expected error");
	}
}

#define REQ_ERR(s, st) check_error(SL_HTTP_REQUEST, 0, &LIM, s, sizeof(s) - 1, st, __LINE__)
#define RESP_ERR(s)                                                                                \
	check_error(SL_HTTP_RESPONSE, SL_HTTP_M_GET, &LIM, s, sizeof(s) - 1, 502, __LINE__)

static void
check_ok(enum sl_http_kind kind, const char *s, size_t len, int line)
{
	ht_whole(kind, SL_HTTP_M_GET, &LIM, s, len, &T);
	if (T.n != 1 || M0->end != SL_HTTP_DONE || M0->raw != len) {
		fprintf(stderr, "\nline %d: expected one complete message, got %u, end %d (%s)\n",
			line, T.n, M0->end, M0->reason ? M0->reason : "-");
		CU_FAIL("expected a complete message");
	}
}

#define REQ_OK(s) check_ok(SL_HTTP_REQUEST, s, sizeof(s) - 1, __LINE__)
#define RESP_OK(s) check_ok(SL_HTTP_RESPONSE, s, sizeof(s) - 1, __LINE__)

/* ---- conformance ---- */

static void
test_simple_get_reports_line_parts_and_host(void)
{
	REQ("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
	CU_ASSERT_EQUAL(T.n, 1);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(M0->has_head);
	CU_ASSERT_EQUAL(M0->head.method, SL_HTTP_M_GET);
	CU_ASSERT(ht_span_is(M0, M0->head.method_s, "GET"));
	CU_ASSERT(ht_span_is(M0, M0->head.target, "/index.html?q=1"));
	CU_ASSERT(ht_span_is(M0, M0->head.path, "/index.html?q=1"));
	CU_ASSERT(ht_span_is(M0, M0->head.host, "example.com"));
	CU_ASSERT(ht_span_is(M0, M0->head.line, "GET /index.html?q=1 HTTP/1.1"));
	CU_ASSERT_EQUAL(M0->head.version, 11);
	CU_ASSERT_EQUAL(M0->head.n_headers, 2);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_NONE);
	CU_ASSERT_EQUAL(M0->head.head_len, M0->raw);
	CU_ASSERT(sl_http_keep_alive(&M0->head));
	CU_ASSERT_EQUAL(M0->body_len, 0);
}

/* The proxy walks the head for Accept only when the parser saw one (any case, whole name). */
static void
test_accept_field_is_noted_in_requests_only(void)
{
	REQ("GET / HTTP/1.1\r\nHost: a\r\nACCEPT: */*\r\n\r\n");
	CU_ASSERT(M0->head.flags & SL_HTTP_F_ACCEPT);
	REQ("GET / HTTP/1.1\r\nHost: a\r\nAccept:\r\n\r\n");
	CU_ASSERT(M0->head.flags & SL_HTTP_F_ACCEPT);
	REQ("GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nX-Accept: 1\r\nAccep: 1\r\n"
	    "Acceptx: 1\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(!(M0->head.flags & SL_HTTP_F_ACCEPT));
	RESP(SL_HTTP_M_GET, "HTTP/1.1 204 No Content\r\nAccept: */*\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(!(M0->head.flags & SL_HTTP_F_ACCEPT));
}

static const char browser_req[] =
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

static void
test_browser_request_parses_with_all_fields(void)
{
	ht_whole(SL_HTTP_REQUEST, 0, &LIM, browser_req, sizeof(browser_req) - 1, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.n_headers, 8);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONN_KEEPALIVE);
	CU_ASSERT(!(M0->head.flags & SL_HTTP_F_UPGRADE)); /* Upgrade-Insecure-Requests is not it */
	CU_ASSERT(ht_span_is(M0, M0->head.host, "shop.example.com"));
	CU_ASSERT_EQUAL(M0->raw, sizeof(browser_req) - 1);
}

static void
test_post_content_length_body_is_reported(void)
{
	REQ("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.method, SL_HTTP_M_POST);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_LENGTH);
	CU_ASSERT_EQUAL(M0->head.content_length, 11);
	CU_ASSERT_EQUAL(M0->body_len, 11);
	CU_ASSERT(memcmp(M0->body, "hello world", 11) == 0);
}

static void
test_content_length_zero_has_no_body(void)
{
	REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_NONE);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONTENT_LENGTH);
}

static void
test_chunked_body_is_decoded(void)
{
	REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_CHUNKED);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CHUNKED);
	CU_ASSERT_EQUAL(M0->body_len, 11);
	CU_ASSERT(memcmp(M0->body, "hello world", 11) == 0);
	CU_ASSERT_EQUAL(T.n, 1);
}

static void
test_transfer_encoding_is_case_insensitive(void)
{
	REQ_OK("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: ChUnKeD\r\n\r\n0\r\n\r\n");
}

static void
test_http10_closes_unless_keep_alive(void)
{
	REQ("GET / HTTP/1.0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.version, 10);
	CU_ASSERT(!sl_http_keep_alive(&M0->head));
	REQ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	CU_ASSERT(sl_http_keep_alive(&M0->head));
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	CU_ASSERT(!sl_http_keep_alive(&M0->head));
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n");
	CU_ASSERT(!sl_http_keep_alive(&M0->head));
}

static void
test_http_1_x_minor_above_1_counts_as_11(void)
{
	REQ("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.version, 11);
}

static void
test_expect_100_continue_is_detected(void)
{
	REQ("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue \r\nContent-Length: 3\r\n\r\nabc");
	CU_ASSERT(M0->head.flags & SL_HTTP_F_EXPECT_CONTINUE);
	REQ("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continuex\r\nContent-Length: 3\r\n\r\nabc");
	CU_ASSERT(!(M0->head.flags & SL_HTTP_F_EXPECT_CONTINUE));
	REQ("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(!(M0->head.flags & SL_HTTP_F_EXPECT_CONTINUE));
}

static void
test_websocket_upgrade_request_is_reported(void)
{
	REQ("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_UPGRADE);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONN_UPGRADE);
}

static void
test_connection_naming_other_fields_is_flagged(void)
{
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\n\r\n");
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONN_OTHER);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONN_CLOSE);
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n");
	CU_ASSERT(!(M0->head.flags & SL_HTTP_F_CONN_CLOSE));
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONN_OTHER);
}

static void
test_list_tokens_match_whole_and_case_blind_only(void)
{
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: KEEP-alive\r\n\r\n");
	CU_ASSERT_EQUAL(M0->head.flags & (SL_HTTP_F_CONN_KEEPALIVE | SL_HTTP_F_CONN_OTHER),
			SL_HTTP_F_CONN_KEEPALIVE);
	CU_ASSERT(ht_span_is(M0, M0->head.line, "GET / HTTP/1.1"));
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive-x, clos, up\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.flags & (SL_HTTP_F_CONN_KEEPALIVE | SL_HTTP_F_CONN_CLOSE |
					  SL_HTTP_F_CONN_UPGRADE | SL_HTTP_F_CONN_OTHER),
			SL_HTTP_F_CONN_OTHER);
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,, Close ,\tupgrade\t\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.flags & (SL_HTTP_F_CONN_KEEPALIVE | SL_HTTP_F_CONN_CLOSE |
					  SL_HTTP_F_CONN_UPGRADE | SL_HTTP_F_CONN_OTHER),
			SL_HTTP_F_CONN_CLOSE | SL_HTTP_F_CONN_UPGRADE);
	/* '-' is the one non-letter in the known tokens: no other byte stands in for it */
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep_alive, keep\ralive\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_ERROR);
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep_alive\r\n\r\n");
	CU_ASSERT_EQUAL(M0->head.flags & (SL_HTTP_F_CONN_KEEPALIVE | SL_HTTP_F_CONN_OTHER),
			SL_HTTP_F_CONN_OTHER);
	REQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: KEEP\x0d\x0a\r\n");
	CU_ASSERT(M0->head.flags & SL_HTTP_F_CONN_OTHER);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nConnection: close x\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nConnection: close/1\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED, chunked\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x-gzip ,Chunked\r\n\r\n", 400);
	RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: x-gzip ,Chunked\r\n\r\n0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_CHUNKED);
	/* field names: case-blind, whole */
	REQ("POST / HTTP/1.1\r\nHost: a\r\nCONTENT-length: 2\r\nContent-Lengthx: 9\r\n\r\nok");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.content_length, 2);
}

static void
test_absolute_form_target_gives_authority_and_path(void)
{
	REQ("GET http://Example.com:8080/a/b?c HTTP/1.1\r\nHost: other\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_ABSOLUTE);
	CU_ASSERT(ht_span_is(M0, M0->head.authority, "Example.com:8080"));
	CU_ASSERT(ht_span_is(M0, M0->head.path, "/a/b?c"));
	REQ("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(ht_span_is(M0, M0->head.authority, "h"));
	CU_ASSERT_EQUAL(M0->head.path.len, 0);
}

static void
test_absolute_form_with_userinfo_or_other_scheme_is_refused(void)
{
	REQ_ERR("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REQ_ERR("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REQ_ERR("GET http:/h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REQ_ERR("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void
test_asterisk_form_only_for_options(void)
{
	REQ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_ASTERISK);
	REQ_ERR("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_leading_empty_lines_are_skipped(void)
{
	REQ("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.line.off, 4);
	CU_ASSERT(ht_span_is(M0, M0->head.method_s, "GET"));
}

static void
test_methods_are_recognised_case_sensitively(void)
{
	static const struct {
		const char *req;
		int method;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_GET},
	    {"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_HEAD},
	    {"PUT / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_PUT},
	    {"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_DELETE},
	    {"OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_OPTIONS},
	    {"PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_PATCH},
	    {"TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_TRACE},
	    {"PURGE / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_OTHER},
	    {"get / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_OTHER},
	    {"GETTINGLONG / HTTP/1.1\r\nHost: a\r\n\r\n", SL_HTTP_M_OTHER},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ht_whole(SL_HTTP_REQUEST, 0, &LIM, cases[i].req, strlen(cases[i].req), &T);
		CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
		CU_ASSERT_EQUAL(M0->head.method, cases[i].method);
	}
	CU_ASSERT(sl_http_idempotent(SL_HTTP_M_GET));
	CU_ASSERT(!sl_http_idempotent(SL_HTTP_M_POST));
	CU_ASSERT(!sl_http_idempotent(SL_HTTP_M_PATCH));
}

static void
test_field_values_are_trimmed_and_may_hold_obs_text(void)
{
	REQ("GET / HTTP/1.1\r\nHost: \t a.b \t\r\nX-Name: caf\xc3\xa9 au lait  "
	    "\r\nX-Empty:\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(ht_span_is(M0, M0->head.host, "a.b"));
	CU_ASSERT_EQUAL(M0->head.n_headers, 3);
}

static void
test_field_names_are_case_insensitive(void)
{
	REQ("POST / HTTP/1.1\r\nhOsT: a\r\ncontent-LENGTH: 2\r\n\r\nok");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->body_len, 2);
}

static void
test_similar_field_names_are_not_taken_for_known_ones(void)
{
	REQ("GET / HTTP/1.1\r\nHost: a\r\nContent-Lengths: 5\r\nHosts: b\r\nContent-Length-X: 1\r\n"
	    "Transfer-Encodings: gzip\r\nConnectio: close\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.flags &
			    (SL_HTTP_F_CONTENT_LENGTH | SL_HTTP_F_CHUNKED | SL_HTTP_F_CONN_CLOSE),
			0);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_NONE);
}

static void
test_pipelined_requests_are_parsed_in_order(void)
{
	static const char s[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
				"GET /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				"3\r\nabc\r\n0\r\n\r\n"
				"GET /4 HTTP/1.1\r\nHost: a\r\n\r\n";

	REQ(s);
	CU_ASSERT_EQUAL(T.n, 4);
	CU_ASSERT(ht_span_is(&T.m[0], T.m[0].head.target, "/1"));
	CU_ASSERT(ht_span_is(&T.m[1], T.m[1].head.target, "/2"));
	CU_ASSERT(ht_span_is(&T.m[2], T.m[2].head.target, "/3"));
	CU_ASSERT(ht_span_is(&T.m[3], T.m[3].head.target, "/4"));
	CU_ASSERT_EQUAL(T.m[0].raw, 28);
	CU_ASSERT_EQUAL(T.m[1].body_len, 5);
	CU_ASSERT_EQUAL(T.m[2].body_len, 3);
	CU_ASSERT_EQUAL(T.m[0].raw + T.m[1].raw + T.m[2].raw + T.m[3].raw, sizeof(s) - 1);
	CU_ASSERT_EQUAL(T.m[3].end, SL_HTTP_DONE);
}

static void
test_parser_stops_at_message_end_until_next(void)
{
	static const char s[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\n";
	struct sl_http_parser p;
	struct sl_http_result r;

	sl_http_parser_init(&p, SL_HTTP_REQUEST, &LIM, 0);
	CU_ASSERT_EQUAL(sl_http_parse(&p, s, sizeof(s) - 1, &r), SL_HTTP_HEAD);
	CU_ASSERT_EQUAL(r.consumed, 27);
	CU_ASSERT_EQUAL(sl_http_parse(&p, s + 27, sizeof(s) - 1 - 27, &r), SL_HTTP_DONE);
	CU_ASSERT_EQUAL(r.consumed, 0);
	CU_ASSERT_EQUAL(sl_http_parse(&p, s + 27, sizeof(s) - 1 - 27, &r), SL_HTTP_DONE);
	CU_ASSERT_EQUAL(r.consumed, 0);
	sl_http_parser_next(&p);
	CU_ASSERT_EQUAL(sl_http_parse(&p, s + 27, sizeof(s) - 1 - 27, &r), SL_HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(r.consumed, sizeof(s) - 1 - 27);
	/* the client closes mid-head: a truncated message */
	CU_ASSERT_EQUAL(sl_http_parse_eof(&p), SL_HTTP_ERROR);
	CU_ASSERT_EQUAL(p.status, 400);
}

static void
test_eof_between_messages_is_clean(void)
{
	struct sl_http_parser p;

	sl_http_parser_init(&p, SL_HTTP_REQUEST, &LIM, 0);
	CU_ASSERT_EQUAL(sl_http_parse_eof(&p), SL_HTTP_NEED_MORE);
}

static void
test_truncated_body_at_eof_is_an_error(void)
{
	REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_ERROR);
	CU_ASSERT_EQUAL(M0->body_len, 3);
}

/* ---- smuggling: one test per refused construct ---- */

static void
test_smuggling_content_length_with_transfer_encoding(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
		"\r\n0\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n"
		"\r\n0\r\n\r\n",
		400);
}

static void
test_smuggling_differing_content_lengths(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
		400);
	/* identical duplicates are one value (RFC 9110 8.6) */
	REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd");
}

static void
test_smuggling_content_length_list(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd", 400);
}

static void
test_smuggling_content_length_with_sign(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -4\r\n\r\nabcd", 400);
}

static void
test_smuggling_content_length_with_space_inside(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\nabcdefghijkl", 400);
}

static void
test_smuggling_content_length_not_decimal(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4a\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4.0\r\n\r\n", 400);
}

static void
test_smuggling_content_length_empty(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  \r\n\r\n", 400);
}

static void
test_smuggling_content_length_overflow(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551617\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		400);
	/* a value that wraps around 2^64 to a small one when multiplied by 10 */
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 19000000000000000000\r\n\r\n", 400);
	/* padded with zeros it is still a small number */
	REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0000000000000000000000000002\r\n\r\nab");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->body_len, 2);
}

static void
test_smuggling_transfer_encoding_chunked_not_last(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
}

static void
test_smuggling_transfer_encoding_other_than_chunked(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		400);
}

static void
test_smuggling_transfer_encoding_chunked_twice(void)
{
	REQ_ERR(
	    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
	    400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		400);
}

static void
test_smuggling_transfer_encoding_with_parameters(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
		400);
}

static void
test_smuggling_transfer_encoding_empty(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", 400);
}

static void
test_smuggling_transfer_encoding_in_http10(void)
{
	REQ_ERR("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

static void
test_smuggling_transfer_encoding_with_control_character(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b"
		"chunked\r\n\r\n0\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0c\r\n\r\n0\r\n\r\n",
		400);
}

static void
test_smuggling_obs_fold(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
		400);
}

static void
test_smuggling_whitespace_before_first_field(void)
{
	REQ_ERR("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
}

static void
test_smuggling_nul_in_value(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 400);
}

static void
test_smuggling_nul_in_target(void)
{
	REQ_ERR("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_smuggling_bare_cr_in_value(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400);
}

static void
test_smuggling_bare_lf_ends_field(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
}

static void
test_smuggling_bare_lf_ends_request_line(void)
{
	REQ_ERR("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
	REQ_ERR("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_smuggling_bare_cr_ends_request_line(void)
{
	REQ_ERR("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
}

static void
test_smuggling_other_c0_in_value(void)
{
	char s[64];
	unsigned c;

	for (c = 1; c < 0x20; c++) {
		if (c == '\t' || c == '\r' || c == '\n')
			continue;
		snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: a\r\nX-A: b%cc\r\n\r\n", c);
		check_error(SL_HTTP_REQUEST, 0, &LIM, s, strlen(s), 400, __LINE__);
	}
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n", 400);
}

static void
test_smuggling_c0_in_name(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX\x01A: b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX\tA: b\r\n\r\n", 400);
}

static void
test_smuggling_whitespace_before_colon(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 1\r\n\r\nx", 400);
}

static void
test_smuggling_invalid_name_characters(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-\xc3\xa9: b\r\n\r\n", 400);
}

static void
test_smuggling_invalid_method_characters(void)
{
	REQ_ERR("G(ET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_smuggling_invalid_target_characters(void)
{
	REQ_ERR("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_smuggling_invalid_version(void)
{
	REQ_ERR("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/11\r\nHost: a\r\n\r\n", 400);
	REQ_ERR("GET /\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
}

static void
test_smuggling_missing_host_in_http11(void)
{
	REQ_ERR("GET / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", 400);
}

static void
test_smuggling_several_host_fields(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
}

static void
test_smuggling_invalid_host_value(void)
{
	REQ_ERR("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
	REQ_OK("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
}

static void
test_smuggling_connect_is_refused(void)
{
	REQ_ERR("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 400);
	REQ_ERR("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 405);
}

static void
test_smuggling_content_length_boundary_keeps_next_request_apart(void)
{
	/* the bytes after the body are a second request, never part of the first */
	REQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /admin HTTP/1.1\r\n"
	    "Host: a\r\n\r\n");
	CU_ASSERT_EQUAL(T.n, 2);
	CU_ASSERT_EQUAL(T.m[0].body_len, 5);
	CU_ASSERT(ht_span_is(&T.m[1], T.m[1].head.target, "/admin"));
}

/* ---- chunked edge cases ---- */

static void
test_chunked_extensions_are_accepted_and_skipped(void)
{
	REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;name=value\r\nhello\r\n"
	    "6 ; a ; b = \"q\\\"uoted;\" ;c=d\r\n world\r\n"
	    "0;last\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->body_len, 11);
	CU_ASSERT(memcmp(M0->body, "hello world", 11) == 0);
}

static void
test_chunked_trailers_are_accepted(void)
{
	REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other: v\r\n\r\n"
	    "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
	CU_ASSERT_EQUAL(T.n, 2);
	CU_ASSERT_EQUAL(T.m[0].end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(T.m[0].body_len, 3);
	CU_ASSERT(ht_span_is(&T.m[1], T.m[1].head.target, "/next"));
}

static void
test_chunked_invalid_trailer_is_refused(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nX-A : b\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nX-A: b\r\n c\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", 400);
}

static void
test_chunked_hex_sizes_upper_and_lower_case(void)
{
	static char s[512];
	int n = snprintf(s, sizeof(s),
			 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "a\r\n0123456789\r\nB\r\n0123456789A\r\n0000\r\n\r\n");

	ht_whole(SL_HTTP_REQUEST, 0, &LIM, s, n, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->body_len, 21);
}

static void
test_chunked_invalid_sizes_are_refused(void)
{
	static const char *const bad[] = {
	    "0x5\r\nhello\r\n0\r\n\r\n", /* prefix */
	    "-5\r\nhello\r\n0\r\n\r\n",	 /* sign */
	    "+5\r\nhello\r\n0\r\n\r\n",
	    "\r\n",			     /* empty */
	    "g\r\n",			     /* not hex */
	    "5 \r\nhello\r\n0\r\n\r\n",	     /* trailing whitespace */
	    " 5\r\nhello\r\n0\r\n\r\n",	     /* leading whitespace */
	    "5\nhello\r\n0\r\n\r\n",	     /* bare LF */
	    "5\rhello\r\n0\r\n\r\n",	     /* bare CR */
	    "10000000000000000\r\n",	     /* 2^64 */
	    "4000000000000000\r\n",	     /* 2^62 */
	    "5;\r\nhello\r\n0\r\n\r\n",	     /* empty extension name */
	    "5;a=\r\nhello\r\n0\r\n\r\n",    /* empty extension value */
	    "5;a=\"b\r\nhello\r\n0\r\n\r\n", /* unterminated quote */
	    "5;a b\r\nhello\r\n0\r\n\r\n",   /* two names */
	    "5;a@\r\nhello\r\n0\r\n\r\n",    /* not a token */
	    "5;a=b \r\nhello\r\n0\r\n\r\n",  /* trailing whitespace */
	    "5;a\x01\r\nhello\r\n0\r\n\r\n", /* control */
	};
	static char s[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = snprintf(
		    s, sizeof(s),
		    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n%s", bad[i]);

		check_error(SL_HTTP_REQUEST, 0, &LIM, s, n, 400, __LINE__ * 1000 + (int)i);
	}
}

static void
test_chunk_size_wrapping_around_2_64_is_refused(void)
{
	/* 2^64 + 5 must not be read as 5 */
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"10000000000000005\r\nhello\r\n0\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0000000000000000000000010000000000000005\r\nhello\r\n0\r\n\r\n",
		400);
	/* leading zeros alone are fine */
	REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "000000000000000000000005\r\nhello\r\n0\r\n\r\n");
}

static void
test_chunk_data_must_end_in_crlf(void)
{
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhelloX\r\n0\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\n0\r\n\r\n",
		400);
	REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r0\r\n\r\n",
		400);
}

static void
test_chunked_truncated_at_eof_is_an_error(void)
{
	REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_ERROR);
	REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_ERROR);
	REQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_ERROR);
}

static void
test_chunk_line_longer_than_limit_is_refused(void)
{
	static char s[SL_HTTP_CHUNK_LINE_MAX + 256];
	int n = snprintf(s, sizeof(s),
			 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;x=");

	memset(s + n, 'a', SL_HTTP_CHUNK_LINE_MAX);
	n += SL_HTTP_CHUNK_LINE_MAX;
	memcpy(s + n, "\r\nx\r\n0\r\n\r\n", 10);
	check_error(SL_HTTP_REQUEST, 0, &LIM, s, n + 10, 400, __LINE__);
}

/* ---- limits ---- */

static void
test_request_line_over_limit_is_414(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 32, .max_head = 4096, .max_headers = 10};
	/* "GET " + target + " HTTP/1.1" is exactly 32 bytes with a 19-byte target */
	static const char ok[] = "GET /aaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char bad[] = "GET /aaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n";

	ht_whole(SL_HTTP_REQUEST, 0, &l, ok, sizeof(ok) - 1, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.line.len, 32);
	check_error(SL_HTTP_REQUEST, 0, &l, bad, sizeof(bad) - 1, 414, __LINE__);
	check_error(SL_HTTP_REQUEST, 0, &l, "GETGETGETGETGETGETGETGETGETGETGETGET / HTTP/1.1\r\n",
		    48, 414, __LINE__);
}

static void
test_header_section_over_limit_is_431(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 1024, .max_head = 64, .max_headers = 10};
	/* 64 bytes exactly */
	static const char ok[] =
	    "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	static const char bad[] =
	    "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

	CU_ASSERT_EQUAL(sizeof(ok) - 1, 64);
	ht_whole(SL_HTTP_REQUEST, 0, &l, ok, sizeof(ok) - 1, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	check_error(SL_HTTP_REQUEST, 0, &l, bad, sizeof(bad) - 1, 431, __LINE__);
}

static void
test_too_many_header_fields_is_431(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 1024, .max_head = 4096, .max_headers = 3};

	ht_whole(SL_HTTP_REQUEST, 0, &l, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", 40,
		 &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	check_error(SL_HTTP_REQUEST, 0, &l,
		    "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 46, 431, __LINE__);
}

static void
test_content_length_over_body_limit_is_413(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 1024, .max_head = 4096, .max_headers = 10, .max_body = 4};

	ht_whole(SL_HTTP_REQUEST, 0, &l,
		 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", 51, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	check_error(SL_HTTP_REQUEST, 0, &l,
		    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde", 52, 413,
		    __LINE__);
}

static void
test_chunked_body_over_limit_is_413(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 1024, .max_head = 4096, .max_headers = 10, .max_body = 4};
	static const char ok[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
	static const char bad[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n";

	ht_whole(SL_HTTP_REQUEST, 0, &l, ok, sizeof(ok) - 1, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	check_error(SL_HTTP_REQUEST, 0, &l, bad, sizeof(bad) - 1, 413, __LINE__);
	/* the first chunk was passed on before the limit was crossed */
	CU_ASSERT_EQUAL(M0->body_len, 2);
}

static void
test_trailer_section_over_limit_is_refused(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 1024, .max_head = 80, .max_headers = 10};
	static char s[512];
	int n = snprintf(s, sizeof(s),
			 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
			 "X-T: %090d\r\n\r\n",
			 0);

	check_error(SL_HTTP_REQUEST, 0, &l, s, n, 400, __LINE__);
}

static void
test_response_body_has_no_limit(void)
{
	static const struct sl_http_limits l = {
	    .max_line = 1024, .max_head = 4096, .max_headers = 10, .max_body = 1};

	ht_whole(SL_HTTP_RESPONSE, SL_HTTP_M_GET, &l,
		 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 43, &T);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->body_len, 5);
}

/* ---- responses ---- */

static void
test_response_with_content_length(void)
{
	RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.status, 200);
	CU_ASSERT(ht_span_is(M0, M0->head.reason, "OK"));
	CU_ASSERT_EQUAL(M0->body_len, 5);
	CU_ASSERT(sl_http_keep_alive(&M0->head));
}

static void
test_response_chunked_with_other_codings_first(void)
{
	RESP(SL_HTTP_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
			    "3\r\nabc\r\n0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_CHUNKED);
	CU_ASSERT_EQUAL(M0->body_len, 3);
}

static void
test_response_close_delimited_ends_at_eof(void)
{
	RESP(SL_HTTP_M_GET,
	     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until close");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.framing, SL_HTTP_BODY_CLOSE);
	CU_ASSERT_EQUAL(M0->body_len, 23);
	CU_ASSERT(!sl_http_keep_alive(&M0->head));
}

static void
test_response_204_304_and_head_have_no_body(void)
{
	RESP(SL_HTTP_M_GET,
	     "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(T.n, 2);
	CU_ASSERT_EQUAL(T.m[0].head.framing, SL_HTTP_BODY_NONE);
	CU_ASSERT_EQUAL(T.m[1].head.status, 200);
	RESP(SL_HTTP_M_GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n");
	CU_ASSERT_EQUAL(T.n, 1);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->body_len, 0);
	RESP(SL_HTTP_M_HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
	CU_ASSERT_EQUAL(T.n, 1);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.content_length, 100);
	CU_ASSERT_EQUAL(M0->body_len, 0);
	RESP(SL_HTTP_M_HEAD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT(sl_http_keep_alive(&M0->head));
}

static void
test_response_interim_100_then_final(void)
{
	RESP(SL_HTTP_M_POST, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
			     "Content-Length: 2\r\n\r\nok");
	CU_ASSERT_EQUAL(T.n, 2);
	CU_ASSERT(T.m[0].head.flags & SL_HTTP_F_INTERIM);
	CU_ASSERT_EQUAL(T.m[0].head.status, 100);
	CU_ASSERT_EQUAL(T.m[1].head.status, 201);
	CU_ASSERT_EQUAL(T.m[1].body_len, 2);
}

static void
test_response_101_switches_to_raw_bytes(void)
{
	RESP(SL_HTTP_M_GET, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\n\r\n\x81\x05hello");
	CU_ASSERT_EQUAL(T.n, 1);
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_UPGRADE);
	CU_ASSERT(M0->head.flags & SL_HTTP_F_UPGRADE);
	/* the frame bytes after the head are not the parser's */
	CU_ASSERT_EQUAL(M0->raw, M0->head.head_len);
	CU_ASSERT(!sl_http_keep_alive(&M0->head));
}

static void
test_response_http10_keep_alive(void)
{
	RESP(SL_HTTP_M_GET, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(!sl_http_keep_alive(&M0->head));
	RESP(SL_HTTP_M_GET,
	     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(sl_http_keep_alive(&M0->head));
}

static void
test_response_status_line_without_reason(void)
{
	RESP(SL_HTTP_M_GET, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(M0->head.reason.len, 0);
	RESP(SL_HTTP_M_GET, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(M0->end, SL_HTTP_DONE);
}

static void
test_bad_responses_are_502(void)
{
	RESP_ERR("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
	RESP_ERR("HTTP/1.1 20 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 600 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 099 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 2000 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 O\x01K\r\n\r\n");
	RESP_ERR("HTTP/2 200 OK\r\n\r\n");
	RESP_ERR("HTTP/2.0 200 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"); /* truncated at eof */
	RESP_ERR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcdefg\r\n");
	RESP_ERR("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_simple_get_reports_line_parts_and_host),
	    T(test_accept_field_is_noted_in_requests_only),
	    T(test_browser_request_parses_with_all_fields),
	    T(test_post_content_length_body_is_reported),
	    T(test_content_length_zero_has_no_body),
	    T(test_chunked_body_is_decoded),
	    T(test_transfer_encoding_is_case_insensitive),
	    T(test_http10_closes_unless_keep_alive),
	    T(test_http_1_x_minor_above_1_counts_as_11),
	    T(test_expect_100_continue_is_detected),
	    T(test_websocket_upgrade_request_is_reported),
	    T(test_connection_naming_other_fields_is_flagged),
	    T(test_list_tokens_match_whole_and_case_blind_only),
	    T(test_absolute_form_target_gives_authority_and_path),
	    T(test_absolute_form_with_userinfo_or_other_scheme_is_refused),
	    T(test_asterisk_form_only_for_options),
	    T(test_leading_empty_lines_are_skipped),
	    T(test_methods_are_recognised_case_sensitively),
	    T(test_field_values_are_trimmed_and_may_hold_obs_text),
	    T(test_field_names_are_case_insensitive),
	    T(test_similar_field_names_are_not_taken_for_known_ones),
	    T(test_pipelined_requests_are_parsed_in_order),
	    T(test_parser_stops_at_message_end_until_next),
	    T(test_eof_between_messages_is_clean),
	    T(test_truncated_body_at_eof_is_an_error),
	    T(test_smuggling_content_length_with_transfer_encoding),
	    T(test_smuggling_differing_content_lengths),
	    T(test_smuggling_content_length_list),
	    T(test_smuggling_content_length_with_sign),
	    T(test_smuggling_content_length_with_space_inside),
	    T(test_smuggling_content_length_not_decimal),
	    T(test_smuggling_content_length_empty),
	    T(test_smuggling_content_length_overflow),
	    T(test_smuggling_transfer_encoding_chunked_not_last),
	    T(test_smuggling_transfer_encoding_other_than_chunked),
	    T(test_smuggling_transfer_encoding_chunked_twice),
	    T(test_smuggling_transfer_encoding_with_parameters),
	    T(test_smuggling_transfer_encoding_empty),
	    T(test_smuggling_transfer_encoding_in_http10),
	    T(test_smuggling_transfer_encoding_with_control_character),
	    T(test_smuggling_obs_fold),
	    T(test_smuggling_whitespace_before_first_field),
	    T(test_smuggling_nul_in_value),
	    T(test_smuggling_nul_in_target),
	    T(test_smuggling_bare_cr_in_value),
	    T(test_smuggling_bare_lf_ends_field),
	    T(test_smuggling_bare_lf_ends_request_line),
	    T(test_smuggling_bare_cr_ends_request_line),
	    T(test_smuggling_other_c0_in_value),
	    T(test_smuggling_c0_in_name),
	    T(test_smuggling_whitespace_before_colon),
	    T(test_smuggling_invalid_name_characters),
	    T(test_smuggling_invalid_method_characters),
	    T(test_smuggling_invalid_target_characters),
	    T(test_smuggling_invalid_version),
	    T(test_smuggling_missing_host_in_http11),
	    T(test_smuggling_several_host_fields),
	    T(test_smuggling_invalid_host_value),
	    T(test_smuggling_connect_is_refused),
	    T(test_smuggling_content_length_boundary_keeps_next_request_apart),
	    T(test_chunked_extensions_are_accepted_and_skipped),
	    T(test_chunked_trailers_are_accepted),
	    T(test_chunked_invalid_trailer_is_refused),
	    T(test_chunked_hex_sizes_upper_and_lower_case),
	    T(test_chunked_invalid_sizes_are_refused),
	    T(test_chunk_size_wrapping_around_2_64_is_refused),
	    T(test_chunk_data_must_end_in_crlf),
	    T(test_chunked_truncated_at_eof_is_an_error),
	    T(test_chunk_line_longer_than_limit_is_refused),
	    T(test_request_line_over_limit_is_414),
	    T(test_header_section_over_limit_is_431),
	    T(test_too_many_header_fields_is_431),
	    T(test_content_length_over_body_limit_is_413),
	    T(test_chunked_body_over_limit_is_413),
	    T(test_trailer_section_over_limit_is_refused),
	    T(test_response_body_has_no_limit),
	    T(test_response_with_content_length),
	    T(test_response_chunked_with_other_codings_first),
	    T(test_response_close_delimited_ends_at_eof),
	    T(test_response_204_304_and_head_have_no_body),
	    T(test_response_interim_100_then_final),
	    T(test_response_101_switches_to_raw_bytes),
	    T(test_response_http10_keep_alive),
	    T(test_response_status_line_without_reason),
	    T(test_bad_responses_are_502),
#undef T
	};

	return SL_UNIT_RUN("http_parse", tests);
}
