/* SPDX-License-Identifier: MIT */
/*
 * The head writers: what a backend receives for a client's request (hop-by-hop fields gone,
 * forwarding fields added, Host kept, path rewritten) and what a client receives for a
 * backend's response; the buffer-size contract; and that what is written parses again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "http_harness.h"
#include "cunit_main.h"

static struct ht_trace T;
static char out[8192];

/* Parse `s` (one head) into T; the head bytes are in T.m[0].headbuf. */
static const struct ht_msg *
head_of(enum sl_http_kind kind, const char *s)
{
	ht_whole(kind, SL_HTTP_M_GET, NULL, s, strlen(s), &T);
	CU_ASSERT_FATAL(T.m[0].has_head);
	return &T.m[0];
}

static int
rewrite_req(const char *s, const struct sl_http_fwd *f)
{
	const struct ht_msg *m = head_of(SL_HTTP_REQUEST, s);
	int n = sl_http_write_request_head(m->headbuf, &m->head, f, out, sizeof(out) - 1);

	CU_ASSERT_FATAL(n > 0);
	out[n] = 0;
	return n;
}

static int
rewrite_resp(const char *s, const struct sl_http_fwd_resp *f)
{
	const struct ht_msg *m = head_of(SL_HTTP_RESPONSE, s);
	int n = sl_http_write_response_head(m->headbuf, &m->head, f, out, sizeof(out) - 1);

	CU_ASSERT_FATAL(n > 0);
	out[n] = 0;
	return n;
}

/* `out` contains the line (CRLF-terminated) exactly once / not at all, case-insensitively. */
static int
count_line(const char *line)
{
	return ht_count(out, "\r\n", line, "\r\n");
}

static bool
has_field(const char *name)
{
	return ht_count(out, "\r\n", name, ":") > 0;
}

static const struct sl_http_fwd fwd = {
    .client_ip = "198.18.0.10", .proto = "http", .via = "sluice"};

static void
test_header_iteration_gives_trimmed_fields_in_order(void)
{
	const struct ht_msg *m = head_of(
	    SL_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost:  a \r\nX-Empty:\r\nX-B:\tb c\t\r\n\r\n");
	struct sl_http_span n, v;
	uint32_t pos = 0;

	CU_ASSERT(sl_http_header_next(m->headbuf, &m->head, &pos, &n, &v));
	CU_ASSERT(ht_span_is(m, n, "Host") && ht_span_is(m, v, "a"));
	CU_ASSERT(sl_http_header_next(m->headbuf, &m->head, &pos, &n, &v));
	CU_ASSERT(ht_span_is(m, n, "X-Empty") && v.len == 0);
	CU_ASSERT(sl_http_header_next(m->headbuf, &m->head, &pos, &n, &v));
	CU_ASSERT(ht_span_is(m, n, "X-B") && ht_span_is(m, v, "b c"));
	CU_ASSERT(!sl_http_header_next(m->headbuf, &m->head, &pos, &n, &v));
	CU_ASSERT(sl_http_header_find(m->headbuf, &m->head, "x-b", &v));
	CU_ASSERT(ht_span_is(m, v, "b c"));
	CU_ASSERT(!sl_http_header_find(m->headbuf, &m->head, "x-c", &v));
}

static void
test_request_hop_by_hop_fields_are_removed(void)
{
	rewrite_req("GET /a HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Secret\r\n"
		    "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
		    "Trailer: X-T\r\nUpgrade: h2c\r\nX-Secret: s\r\nAccept: */*\r\n\r\n",
		    &fwd);
	CU_ASSERT(strncmp(out, "GET /a HTTP/1.1\r\n", 17) == 0);
	CU_ASSERT(!has_field("Connection"));
	CU_ASSERT(!has_field("Keep-Alive"));
	CU_ASSERT(!has_field("Proxy-Connection"));
	CU_ASSERT(!has_field("TE"));
	CU_ASSERT(!has_field("Trailer"));
	CU_ASSERT(!has_field("Upgrade"));
	CU_ASSERT(!has_field("X-Secret"));
	CU_ASSERT_EQUAL(count_line("Host: example.com"), 1);
	CU_ASSERT_EQUAL(count_line("Accept: */*"), 1);
}

static void
test_request_fields_kept_stay_in_order_around_removed_ones(void)
{
	static const char want[] =
	    "GET / HTTP/1.1\r\nA: 1\r\nHost: h\r\nC:  3 \r\nX-Forwarded-For: ";

	rewrite_req("GET / HTTP/1.1\r\nA: 1\r\nConnection: x-b\r\nHost: h\r\nX-B: 2\r\n"
		    "Keep-Alive: 1\r\nKeep-Alive: 2\r\nC:  3 \r\nTE: trailers\r\n\r\n",
		    &fwd);
	CU_ASSERT(strncmp(out, want, sizeof(want) - 1) == 0);
}

static void
test_connection_cannot_remove_host_or_framing_fields(void)
{
	struct sl_http_fwd_resp f = {0};

	/* dropping them would send a Host-less request, or a body without its framing */
	rewrite_req("POST / HTTP/1.1\r\nHost: h\r\nConnection: host, transfer-encoding\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		    &fwd);
	CU_ASSERT_EQUAL(count_line("Host: h"), 1);
	CU_ASSERT_EQUAL(count_line("Transfer-Encoding: chunked"), 1);
	rewrite_req("POST / HTTP/1.1\r\nHost: h\r\nConnection: Content-Length\r\n"
		    "Content-Length: 2\r\n\r\nok",
		    &fwd);
	CU_ASSERT_EQUAL(count_line("Content-Length: 2"), 1);
	rewrite_resp("HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n",
		     &f);
	CU_ASSERT_EQUAL(count_line("Transfer-Encoding: chunked"), 1);
}

static void
test_request_gets_forwarding_fields(void)
{
	rewrite_req("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.1\r\n"
		    "X-Forwarded-For: 203.0.113.2, 203.0.113.3\r\nX-Forwarded-Proto: https\r\n"
		    "X-Real-IP: 6.6.6.6\r\nVia: 1.0 other\r\n\r\n",
		    &fwd);
	CU_ASSERT_EQUAL(count_line("X-Forwarded-For: 203.0.113.1, 203.0.113.2, 203.0.113.3, "
				   "198.18.0.10"),
			1);
	CU_ASSERT_EQUAL(count_line("X-Forwarded-Proto: http"), 1);
	CU_ASSERT(!strstr(out, "https"));
	CU_ASSERT_EQUAL(count_line("X-Real-IP: 198.18.0.10"), 1);
	CU_ASSERT(!strstr(out, "6.6.6.6"));
	CU_ASSERT_EQUAL(count_line("Via: 1.0 other"), 1);
	CU_ASSERT_EQUAL(count_line("Via: 1.1 sluice"), 1);
	rewrite_req("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &fwd);
	CU_ASSERT_EQUAL(count_line("X-Forwarded-For: 198.18.0.10"), 1);
}

static void
test_request_upgrade_is_kept_only_when_upgrading(void)
{
	static const char ws[] = "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n";
	struct sl_http_fwd f = fwd;

	rewrite_req(ws, &f);
	CU_ASSERT(!has_field("Upgrade"));
	CU_ASSERT(!has_field("Connection"));
	f.upgrade = true;
	rewrite_req(ws, &f);
	CU_ASSERT_EQUAL(count_line("Upgrade: websocket"), 1);
	CU_ASSERT_EQUAL(count_line("Connection: upgrade"), 1);
	CU_ASSERT_EQUAL(count_line("Sec-WebSocket-Key: k"), 1);
	/* Connection naming another field besides upgrade does not take Upgrade away */
	rewrite_req("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade, X-Foo\r\nX-Foo: 1\r\n\r\n",
		    &f);
	CU_ASSERT_EQUAL(count_line("Upgrade: websocket"), 1);
	CU_ASSERT(!has_field("X-Foo"));
}

static void
test_request_path_prefix_is_replaced(void)
{
	struct sl_http_fwd f = fwd;

	f.prefix_from = "/api/";
	f.prefix_to = "/v2/";
	rewrite_req("GET /api/users?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET /v2/users?x=1 HTTP/1.1\r\n", 28) == 0);
	f.prefix_from = "/api";
	f.prefix_to = "";
	rewrite_req("GET /api/users HTTP/1.1\r\nHost: a\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET /users HTTP/1.1\r\n", 21) == 0);
	rewrite_req("GET /api HTTP/1.1\r\nHost: a\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET / HTTP/1.1\r\n", 16) == 0);
	rewrite_req("GET /api?q HTTP/1.1\r\nHost: a\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET /?q HTTP/1.1\r\n", 18) == 0);
	rewrite_req("GET /other HTTP/1.1\r\nHost: a\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET /other HTTP/1.1\r\n", 21) == 0);
	f.prefix_from = "/";
	f.prefix_to = "app/";
	rewrite_req("GET /x HTTP/1.1\r\nHost: a\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET /app/x HTTP/1.1\r\n", 21) == 0);
}

static void
test_request_absolute_form_becomes_origin_form_with_its_host(void)
{
	rewrite_req("GET http://b.example:81/p?q HTTP/1.1\r\nHost: wrong\r\n\r\n", &fwd);
	CU_ASSERT(strncmp(out, "GET /p?q HTTP/1.1\r\n", 19) == 0);
	CU_ASSERT_EQUAL(count_line("Host: b.example:81"), 1);
	CU_ASSERT(!strstr(out, "wrong"));
	rewrite_req("GET http://b HTTP/1.1\r\nHost: b\r\n\r\n", &fwd);
	CU_ASSERT(strncmp(out, "GET / HTTP/1.1\r\n", 16) == 0);
}

static void
test_request_http10_without_host_gets_one(void)
{
	struct sl_http_fwd f = fwd;

	f.host = "svc.example";
	rewrite_req("GET / HTTP/1.0\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "GET / HTTP/1.1\r\n", 16) == 0);
	CU_ASSERT_EQUAL(count_line("Host: svc.example"), 1);
	CU_ASSERT_EQUAL(count_line("Via: 1.0 sluice"), 1);
}

static void
test_request_duplicate_content_length_is_folded(void)
{
	rewrite_req(
	    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
	    &fwd);
	CU_ASSERT_EQUAL(count_line("Content-Length: 3"), 1);
	CU_ASSERT(strstr(out, "content-length") == NULL);
}

static void
test_request_chunked_framing_is_kept(void)
{
	rewrite_req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		    &fwd);
	CU_ASSERT_EQUAL(count_line("Transfer-Encoding: chunked"), 1);
	CU_ASSERT(!has_field("Content-Length"));
}

static void
test_rewritten_request_parses_and_keeps_framing(void)
{
	static struct ht_trace again;
	int n =
	    rewrite_req("POST /api/x HTTP/1.1\r\nHost: a\r\nConnection: close, X-Y\r\nX-Y: 1\r\n"
			"Content-Length: 2\r\nTE: trailers\r\n\r\nok",
			&fwd);

	memcpy(out + n, "ok", 2);
	ht_whole(SL_HTTP_REQUEST, 0, NULL, out, n + 2, &again);
	CU_ASSERT_EQUAL(again.n, 1);
	CU_ASSERT_EQUAL(again.m[0].end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(again.m[0].body_len, 2);
	CU_ASSERT(sl_http_keep_alive(&again.m[0].head));
	CU_ASSERT(ht_span_is(&again.m[0], again.m[0].head.host, "a"));
}

static void
test_request_writer_reports_enospc_for_every_short_buffer(void)
{
	const struct ht_msg *m = head_of(
	    SL_HTTP_REQUEST, "GET /a HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");
	int need = sl_http_write_request_head(m->headbuf, &m->head, &fwd, out, sizeof(out));
	size_t cap;

	CU_ASSERT_FATAL(need > 0);
	for (cap = 0; cap < (size_t)need; cap++)
		CU_ASSERT_EQUAL(sl_http_write_request_head(m->headbuf, &m->head, &fwd, out, cap),
				-ENOSPC);
	CU_ASSERT_EQUAL(sl_http_write_request_head(m->headbuf, &m->head, &fwd, out, need), need);
}

static void
test_response_hop_by_hop_fields_are_removed(void)
{
	struct sl_http_fwd_resp f = {.via = "sluice"};

	rewrite_resp(
	    "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n"
	    "X-Internal: 1\r\nUpgrade: h2c\r\nContent-Length: 0\r\nServer: b\r\n\r\n",
	    &f);
	CU_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CU_ASSERT(!has_field("Connection"));
	CU_ASSERT(!has_field("Keep-Alive"));
	CU_ASSERT(!has_field("X-Internal"));
	CU_ASSERT(!has_field("Upgrade"));
	CU_ASSERT_EQUAL(count_line("Content-Length: 0"), 1);
	CU_ASSERT_EQUAL(count_line("Server: b"), 1);
	CU_ASSERT_EQUAL(count_line("Via: 1.1 sluice"), 1);
}

static void
test_response_connection_field_follows_the_client_side(void)
{
	struct sl_http_fwd_resp f = {.close = true};

	rewrite_resp("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CU_ASSERT_EQUAL(count_line("Connection: close"), 1);
	f.close = false;
	f.keep_alive_10 = true;
	rewrite_resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &f);
	CU_ASSERT_EQUAL(count_line("Connection: keep-alive"), 1);
}

/* A chunked response for an HTTP/1.0 client goes de-chunked: no Transfer-Encoding, close. */
static void
test_response_dechunk_drops_transfer_encoding(void)
{
	struct sl_http_fwd_resp f = {.close = true, .dechunk = true};
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer: b\r\n\r\n";

	rewrite_resp(resp, &f);
	CU_ASSERT(!has_field("Transfer-Encoding"));
	CU_ASSERT_EQUAL(count_line("Server: b"), 1);
	CU_ASSERT_EQUAL(count_line("Connection: close"), 1);
	f.dechunk = false;
	rewrite_resp(resp, &f);
	CU_ASSERT_EQUAL(count_line("Transfer-Encoding: chunked"), 1);
}

static void
test_response_101_keeps_upgrade(void)
{
	struct sl_http_fwd_resp f = {.via = "sluice"};

	rewrite_resp(
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: x\r\n\r\n",
	    &f);
	CU_ASSERT_EQUAL(count_line("Upgrade: websocket"), 1);
	CU_ASSERT_EQUAL(count_line("Connection: upgrade"), 1);
	CU_ASSERT_EQUAL(count_line("Sec-WebSocket-Accept: x"), 1);
}

static void
test_response_status_without_reason_is_written(void)
{
	struct sl_http_fwd_resp f = {0};

	rewrite_resp("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", &f);
	CU_ASSERT(strncmp(out, "HTTP/1.1 404 \r\n", 15) == 0);
}

static void
test_response_writer_reports_enospc_for_every_short_buffer(void)
{
	struct sl_http_fwd_resp f = {.via = "sluice", .close = true};
	const struct ht_msg *m =
	    head_of(SL_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nA: b\r\n\r\n");
	int need = sl_http_write_response_head(m->headbuf, &m->head, &f, out, sizeof(out));
	size_t cap;

	CU_ASSERT_FATAL(need > 0);
	for (cap = 0; cap < (size_t)need; cap++)
		CU_ASSERT_EQUAL(sl_http_write_response_head(m->headbuf, &m->head, &f, out, cap),
				-ENOSPC);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_header_iteration_gives_trimmed_fields_in_order),
	    T(test_request_hop_by_hop_fields_are_removed),
	    T(test_request_fields_kept_stay_in_order_around_removed_ones),
	    T(test_connection_cannot_remove_host_or_framing_fields),
	    T(test_request_gets_forwarding_fields),
	    T(test_request_upgrade_is_kept_only_when_upgrading),
	    T(test_request_path_prefix_is_replaced),
	    T(test_request_absolute_form_becomes_origin_form_with_its_host),
	    T(test_request_http10_without_host_gets_one),
	    T(test_request_duplicate_content_length_is_folded),
	    T(test_request_chunked_framing_is_kept),
	    T(test_rewritten_request_parses_and_keeps_framing),
	    T(test_request_writer_reports_enospc_for_every_short_buffer),
	    T(test_response_hop_by_hop_fields_are_removed),
	    T(test_response_connection_field_follows_the_client_side),
	    T(test_response_dechunk_drops_transfer_encoding),
	    T(test_response_101_keeps_upgrade),
	    T(test_response_status_without_reason_is_written),
	    T(test_response_writer_reports_enospc_for_every_short_buffer),
#undef T
	};

	return SL_UNIT_RUN("http_head", tests);
}
