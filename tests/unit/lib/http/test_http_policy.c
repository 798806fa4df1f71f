/* SPDX-License-Identifier: MIT */
/*
 * Response policies (http_policy.c): the security fields are added once, never over a value
 * the backend set (whatever its case), HSTS only on HTTPS; sluice's own pages get them too;
 * CORS: origin matching, preflight answers (allowed, and disallowed without Access-Control-*),
 * the fields of actual responses (Vary, credentials, never "*" with credentials).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "http_harness.h"
#include "cunit_main.h"

static struct ht_trace TQ, TR;
static char out[8192];

static const struct sl_http_secure all_on = {
    .hsts = true,
    .hsts_max_age = 600,
    .frame_options = "DENY",
    .nosniff = true,
    .referrer_policy = "no-referrer",
    .xss = true,
};

static const char *const origins[] = {"https://app.example.com", "http://localhost:8080"};
static const char *const methods[] = {"PUT", "DELETE"};
static const char *const headers[] = {"X-Requested-With"};
static const struct sl_http_cors cors = {origins, 2, methods, 2, headers, 1, 600, true};
static const char *const any[] = {"*"};
static const struct sl_http_cors cors_any = {any, 1, any, 1, NULL, 0, 0, false};

static const struct ht_msg *
parse(struct ht_trace *t, enum sl_http_kind kind, const char *s)
{
	ht_whole(kind, SL_HTTP_M_GET, NULL, s, strlen(s), t);
	CU_ASSERT_FATAL(t->m[0].has_head);
	return &t->m[0];
}

/* Fields named `name` (case-insensitive) at the start of a line of out[0, n). */
static int
count_field(const char *name)
{
	return ht_count(out, "\n", name, ":");
}

static int
rewrite(const char *resp, const struct sl_http_fwd_resp *f)
{
	const struct ht_msg *m = parse(&TR, SL_HTTP_RESPONSE, resp);
	int n = sl_http_write_response_head(m->headbuf, &m->head, f, out, sizeof(out) - 1);

	CU_ASSERT_FATAL(n > 0);
	out[n] = 0;
	return n;
}

static void
test_security_fields_are_added_once_and_the_backends_value_wins(void)
{
	struct sl_http_fwd_resp f = {.via = "sluice", .secure = &all_on};

	rewrite("HTTP/1.1 200 OK\r\nx-frame-options: SAMEORIGIN\r\nREFERRER-POLICY: origin\r\n"
		"Content-Length: 0\r\n\r\n",
		&f);
	CU_ASSERT_EQUAL(count_field("X-Frame-Options"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nx-frame-options: SAMEORIGIN\r\n"));
	CU_ASSERT_EQUAL(count_field("Referrer-Policy"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nREFERRER-POLICY: origin\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nX-Content-Type-Options: nosniff\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nX-XSS-Protection: 1; mode=block\r\n"));
	/* plain HTTP: never HSTS (RFC 6797 7.2) */
	CU_ASSERT_EQUAL(count_field("Strict-Transport-Security"), 0);
	/* the head still parses, and ends where it should */
	ht_whole(SL_HTTP_RESPONSE, SL_HTTP_M_GET, NULL, out, strlen(out), &TR);
	CU_ASSERT_EQUAL(TR.m[0].end, SL_HTTP_DONE);
}

static void
test_hsts_is_sent_only_on_tls_and_not_twice(void)
{
	char buf[512];
	const struct ht_msg *m;
	int n;

	n = sl_http_write_secure(&all_on, true, NULL, NULL, buf, sizeof(buf) - 1);
	CU_ASSERT_FATAL(n > 0);
	buf[n] = 0;
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Strict-Transport-Security: max-age=600\r\n"));
	n = sl_http_write_secure(&all_on, false, NULL, NULL, buf, sizeof(buf) - 1);
	buf[n] = 0;
	CU_ASSERT_PTR_NULL(strstr(buf, "Strict-Transport-Security"));
	m = parse(&TR, SL_HTTP_RESPONSE,
		  "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nContent-Length: "
		  "0\r\n\r\n");
	n = sl_http_write_secure(&all_on, true, m->headbuf, &m->head, buf, sizeof(buf) - 1);
	buf[n] = 0;
	CU_ASSERT_PTR_NULL(strstr(buf, "Strict-Transport-Security"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "X-Frame-Options: DENY\r\n"));
	/* every short buffer: -ENOSPC */
	n = sl_http_write_secure(&all_on, true, NULL, NULL, buf, sizeof(buf));
	for (int cap = 0; cap < n; cap++)
		CU_ASSERT_EQUAL(sl_http_write_secure(&all_on, true, NULL, NULL, buf, cap), -ENOSPC);
}

static void
test_no_policy_fields_when_unset_or_on_interim_responses(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct sl_http_fwd_resp plain = {.via = "sluice"};
	struct sl_http_fwd_resp f = {.via = "sluice", .secure = &all_on, .cors = &cors};
	char base[512];
	int n;

	n = rewrite(resp, &plain);
	memcpy(base, out, (size_t)n + 1);
	CU_ASSERT_EQUAL(count_field("X-Frame-Options") + count_field("Vary"), 0);
	rewrite("HTTP/1.1 100 Continue\r\n\r\n", &f);
	CU_ASSERT_EQUAL(count_field("X-Frame-Options") + count_field("Vary"), 0);
	/* a zeroed struct sl_http_secure writes nothing */
	struct sl_http_secure off = {0};

	f.cors = NULL;
	f.secure = &off;
	rewrite(resp, &f);
	CU_ASSERT_STRING_EQUAL(out, base);
}

static void
test_own_pages_get_the_fields_and_stay_valid(void)
{
	char f[512];
	int k = sl_http_write_secure(&all_on, false, NULL, NULL, f, sizeof(f));
	int n = sl_http_write_error(404, false, true, out, sizeof(out));
	int m;

	CU_ASSERT_FATAL(k > 0 && n > 0);
	m = sl_http_insert_fields(out, (size_t)n, sizeof(out) - 1, f, (size_t)k);
	CU_ASSERT_EQUAL_FATAL(m, n + k);
	out[m] = 0;
	CU_ASSERT_EQUAL(count_field("X-Frame-Options"), 1);
	CU_ASSERT_EQUAL(count_field("X-Content-Type-Options"), 1);
	ht_whole(SL_HTTP_RESPONSE, SL_HTTP_M_GET, NULL, out, (size_t)m, &TR);
	CU_ASSERT_EQUAL(TR.m[0].end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(TR.m[0].raw, (size_t)m);
	CU_ASSERT_EQUAL(TR.m[0].head.status, 404);
	CU_ASSERT_EQUAL(TR.m[0].head.content_length, TR.m[0].body_len);
	CU_ASSERT_PTR_NOT_NULL(strstr(TR.m[0].body, "</html>"));
	CU_ASSERT_EQUAL(sl_http_insert_fields(out, (size_t)m, (size_t)m + 3, f, 4), -ENOSPC);
	CU_ASSERT_EQUAL(sl_http_insert_fields(out, 10, sizeof(out), f, 4), -EINVAL);
}

static int
classify(const struct sl_http_cors *c, const char *req, int *match)
{
	const struct ht_msg *m = parse(&TQ, SL_HTTP_REQUEST, req);

	return sl_http_cors_request(c, m->headbuf, &m->head, match);
}

static void
test_cors_origin_match_is_exact_with_case_insensitive_scheme_and_host(void)
{
	int match;

	CU_ASSERT_FALSE(classify(
	    &cors, "GET / HTTP/1.1\r\nHost: a\r\nOrigin: HTTPS://App.Example.COM\r\n\r\n", &match));
	CU_ASSERT_EQUAL(match, 0);
	classify(&cors, "GET / HTTP/1.1\r\nHost: a\r\nOrigin: http://localhost:8080\r\n\r\n",
		 &match);
	CU_ASSERT_EQUAL(match, 1);
	/* the port as written: an explicit default port is another origin string */
	classify(&cors, "GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com:443\r\n\r\n",
		 &match);
	CU_ASSERT_EQUAL(match, SL_HTTP_CORS_NONE);
	classify(&cors, "GET / HTTP/1.1\r\nHost: a\r\nOrigin: http://app.example.com\r\n\r\n",
		 &match);
	CU_ASSERT_EQUAL(match, SL_HTTP_CORS_NONE);
	classify(&cors, "GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com.evil\r\n\r\n",
		 &match);
	CU_ASSERT_EQUAL(match, SL_HTTP_CORS_NONE);
	classify(&cors, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", &match);
	CU_ASSERT_EQUAL(match, SL_HTTP_CORS_NONE);
	classify(&cors_any, "GET / HTTP/1.1\r\nHost: a\r\nOrigin: null\r\n\r\n", &match);
	CU_ASSERT_EQUAL(match, SL_HTTP_CORS_ANY);
	/* preflight: OPTIONS with Origin and Access-Control-Request-Method, nothing less */
	CU_ASSERT_TRUE(classify(&cors,
				"OPTIONS /x HTTP/1.1\r\nHost: a\r\nOrigin: https://evil.example\r\n"
				"Access-Control-Request-Method: PUT\r\n\r\n",
				&match));
	CU_ASSERT_EQUAL(match, SL_HTTP_CORS_NONE);
	CU_ASSERT_FALSE(classify(
	    &cors, "OPTIONS /x HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n\r\n",
	    &match));
	CU_ASSERT_FALSE(classify(&cors,
				 "PUT /x HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
				 "Access-Control-Request-Method: PUT\r\n\r\n",
				 &match));
	CU_ASSERT_FALSE(classify(&cors,
				 "OPTIONS /x HTTP/1.1\r\nHost: a\r\n"
				 "Access-Control-Request-Method: PUT\r\n\r\n",
				 &match));
}

/* The preflight answer for `req` into out; checks it is a valid 204 without body. */
static void
preflight(const struct sl_http_cors *c, const char *req, bool close)
{
	const struct ht_msg *m = parse(&TQ, SL_HTTP_REQUEST, req);
	int match, n;

	CU_ASSERT_TRUE_FATAL(sl_http_cors_request(c, m->headbuf, &m->head, &match));
	n = sl_http_write_preflight(c, m->headbuf, &m->head, match, "X-Frame-Options: DENY\r\n", 23,
				    close, out, sizeof(out) - 1);
	CU_ASSERT_FATAL(n > 0);
	out[n] = 0;
	ht_whole(SL_HTTP_RESPONSE, SL_HTTP_M_OPTIONS, NULL, out, (size_t)n, &TR);
	CU_ASSERT_EQUAL(TR.m[0].end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(TR.m[0].raw, (size_t)n);
	CU_ASSERT_EQUAL(TR.m[0].head.status, 204);
	CU_ASSERT_EQUAL(count_field("Content-Length"), 0);
	CU_ASSERT_EQUAL(count_field("X-Frame-Options"), 1);
	CU_ASSERT_EQUAL(count_field("Connection"), close ? 1 : 0);
}

static void
test_preflight_from_an_allowed_origin_gets_the_allow_fields(void)
{
	preflight(&cors,
		  "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
		  "Access-Control-Request-Method: PUT\r\n"
		  "Access-Control-Request-Headers: x-requested-with, content-type\r\n\r\n",
		  false);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "\r\nAccess-Control-Allow-Origin: https://app.example.com\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nAccess-Control-Allow-Methods: PUT\r\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "\r\nAccess-Control-Allow-Headers: x-requested-with, content-type\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nAccess-Control-Max-Age: 600\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nAccess-Control-Allow-Credentials: true\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nVary: Origin"));
	/* a safelisted method needs no listing; "*" lets any method through, and any origin */
	preflight(&cors,
		  "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
		  "Access-Control-Request-Method: POST\r\n\r\n",
		  true);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nAccess-Control-Allow-Methods: POST\r\n"));
	CU_ASSERT_EQUAL(count_field("Access-Control-Allow-Headers"), 0);
	preflight(&cors_any,
		  "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://x.example\r\n"
		  "Access-Control-Request-Method: PATCH\r\n\r\n",
		  false);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nAccess-Control-Allow-Origin: *\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nAccess-Control-Allow-Methods: PATCH\r\n"));
	CU_ASSERT_EQUAL(count_field("Access-Control-Allow-Credentials"), 0);
	CU_ASSERT_EQUAL(count_field("Access-Control-Max-Age"), 0);
}

static void
test_preflight_refused_gets_a_204_without_access_control_fields(void)
{
	static const char *const refused[] = {
	    /* origin not listed */
	    "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://evil.example\r\n"
	    "Access-Control-Request-Method: PUT\r\n\r\n",
	    /* method not listed (and case matters: methods are case-sensitive) */
	    "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
	    "Access-Control-Request-Method: PATCH\r\n\r\n",
	    "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
	    "Access-Control-Request-Method: put\r\n\r\n",
	    /* one header not listed */
	    "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
	    "Access-Control-Request-Method: PUT\r\n"
	    "Access-Control-Request-Headers: x-requested-with,x-secret\r\n\r\n",
	    /* an empty method */
	    "OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
	    "Access-Control-Request-Method: \r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		preflight(&cors, refused[i], false);
		CU_ASSERT_PTR_NULL(strcasestr(out, "\nAccess-Control-Allow"));
		CU_ASSERT_PTR_NULL(strcasestr(out, "\nAccess-Control-Max-Age"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nVary: Origin"));
	}
}

static int
cors_fields(const struct sl_http_cors *c, int match, const char *resp)
{
	const struct ht_msg *m = resp ? parse(&TR, SL_HTTP_RESPONSE, resp) : NULL;
	int n = sl_http_write_cors_fields(c, match, m ? m->headbuf : NULL, m ? &m->head : NULL, out,
					  sizeof(out) - 1);

	CU_ASSERT_FATAL(n >= 0);
	out[n] = 0;
	return n;
}

static void
test_actual_responses_get_acao_and_vary_for_allowed_origins_only(void)
{
	struct sl_http_fwd_resp f = {.via = "sluice", .cors = &cors, .cors_match = 1};

	cors_fields(&cors, 0, NULL);
	CU_ASSERT_STRING_EQUAL(out, "Access-Control-Allow-Origin: https://app.example.com\r\n"
				    "Access-Control-Allow-Credentials: true\r\n"
				    "Vary: Origin\r\n");
	/* disallowed or no origin: no CORS field; Vary so that caches keep answers apart */
	cors_fields(&cors, SL_HTTP_CORS_NONE, NULL);
	CU_ASSERT_STRING_EQUAL(out, "Vary: Origin\r\n");
	/* "*": the same answer for everyone, no Vary, and never with credentials */
	cors_fields(&cors_any, SL_HTTP_CORS_ANY, NULL);
	CU_ASSERT_STRING_EQUAL(out, "Access-Control-Allow-Origin: *\r\n");
	struct sl_http_cors any_cred = cors_any;

	any_cred.credentials = true;
	cors_fields(&any_cred, SL_HTTP_CORS_ANY, NULL);
	CU_ASSERT_STRING_EQUAL(out, "Access-Control-Allow-Origin: *\r\n");
	CU_ASSERT_EQUAL(cors_fields(&cors_any, SL_HTTP_CORS_NONE, NULL), 0);
	/* the backend does CORS itself: left alone */
	CU_ASSERT_EQUAL(cors_fields(&cors, 0,
				    "HTTP/1.1 200 OK\r\naccess-control-allow-origin: https://b\r\n"
				    "Content-Length: 0\r\n\r\n"),
			0);
	/* through the response writer */
	rewrite("HTTP/1.1 200 OK\r\nVary: Accept-Encoding\r\nContent-Length: 2\r\n\r\n", &f);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "\r\nAccess-Control-Allow-Origin: http://localhost:8080\r\n"));
	CU_ASSERT_EQUAL(count_field("Vary"), 2);
	CU_ASSERT_EQUAL(count_field("Access-Control-Allow-Credentials"), 1);
	/* the backend's Vary names Origin already: not twice */
	rewrite("HTTP/1.1 200 OK\r\nvary: Accept-Encoding,ORIGIN\r\nContent-Length: 2\r\n\r\n", &f);
	CU_ASSERT_EQUAL(count_field("Vary"), 1);
	CU_ASSERT_EQUAL(count_field("Access-Control-Allow-Origin"), 1);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_security_fields_are_added_once_and_the_backends_value_wins),
	    T(test_hsts_is_sent_only_on_tls_and_not_twice),
	    T(test_no_policy_fields_when_unset_or_on_interim_responses),
	    T(test_own_pages_get_the_fields_and_stay_valid),
	    T(test_cors_origin_match_is_exact_with_case_insensitive_scheme_and_host),
	    T(test_preflight_from_an_allowed_origin_gets_the_allow_fields),
	    T(test_preflight_refused_gets_a_204_without_access_control_fields),
	    T(test_actual_responses_get_acao_and_vary_for_allowed_origins_only),
#undef T
	};

	return SL_UNIT_RUN("http_policy", tests);
}
