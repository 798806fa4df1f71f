/* SPDX-License-Identifier: MIT */
/*
 * sluice's own responses: every error page is a complete, valid HTTP response (our parser
 * accepts it, Content-Length matches the body), HTML or JSON as the client's Accept prefers;
 * redirects carry a clean Location; short buffers give -ENOSPC.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "http_harness.h"
#include "cunit_main.h"

static struct ht_trace T;
static char out[8192];

static const unsigned statuses[] = {400, 404, 408, 413, 414, 429, 431, 502, 503, 504};

/* out[0, n) parses as one complete response with `status` and a body; returns the body. */
static const char *
check_response(int n, unsigned status)
{
	static char body[8192];

	CU_ASSERT_FATAL(n > 0);
	ht_whole(SL_HTTP_RESPONSE, SL_HTTP_M_GET, NULL, out, n, &T);
	CU_ASSERT_EQUAL(T.n, 1);
	CU_ASSERT_EQUAL(T.m[0].end, SL_HTTP_DONE);
	CU_ASSERT_EQUAL(T.m[0].raw, (size_t)n);
	CU_ASSERT_EQUAL(T.m[0].head.status, status);
	CU_ASSERT_EQUAL(T.m[0].head.framing, SL_HTTP_BODY_LENGTH);
	CU_ASSERT_EQUAL(T.m[0].head.content_length, T.m[0].body_len);
	memcpy(body, T.m[0].body, T.m[0].body_len);
	body[T.m[0].body_len] = 0;
	return body;
}

static void
test_every_error_page_is_a_valid_html_response(void)
{
	char title[128];
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		int n = sl_http_write_error(statuses[i], false, true, out, sizeof(out));
		const char *body = check_response(n, statuses[i]);

		snprintf(title, sizeof(title), "<h1>%u %s</h1>", statuses[i],
			 sl_http_reason(statuses[i]));
		CU_ASSERT(strstr(body, "<!DOCTYPE html>") == body);
		CU_ASSERT(strstr(body, title) != NULL);
		CU_ASSERT(strstr(out, "\r\nContent-Type: text/html; charset=utf-8\r\n") != NULL);
		CU_ASSERT(strstr(out, "\r\nConnection: close\r\n") != NULL);
		CU_ASSERT(!sl_http_keep_alive(&T.m[0].head));
	}
	sl_http_write_error(503, false, false, out, sizeof(out));
	CU_ASSERT(strstr(out, "Service Unavailable") != NULL);
	CU_ASSERT(strstr(out, "Connection:") == NULL);
}

static void
test_every_error_page_has_a_json_form(void)
{
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		int n = sl_http_write_error(statuses[i], true, false, out, sizeof(out));
		const char *body = check_response(n, statuses[i]);

		snprintf(want, sizeof(want), "{\"status\":%u,\"error\":\"%s\",\"message\":\"",
			 statuses[i], sl_http_reason(statuses[i]));
		CU_ASSERT(strncmp(body, want, strlen(want)) == 0);
		CU_ASSERT(strstr(out, "\r\nContent-Type: application/json\r\n") != NULL);
		CU_ASSERT(sl_http_keep_alive(&T.m[0].head));
	}
}

/* A 429 (or 503) with Retry-After: the field is in the head, in both forms. */
static void
test_error_page_carries_retry_after(void)
{
	int n = sl_http_write_error_retry(429, true, true, 3, out, sizeof(out));

	check_response(n, 429);
	CU_ASSERT(strstr(out, "\r\nRetry-After: 3\r\n") != NULL);
	CU_ASSERT(strstr(out, "\"status\":429") != NULL);
	n = sl_http_write_error_retry(503, false, true, 0, out, sizeof(out));
	check_response(n, 503);
	CU_ASSERT(strstr(out, "Retry-After") == NULL);
}

static void
test_error_page_short_buffer_is_enospc(void)
{
	int need = sl_http_write_error(404, false, false, out, sizeof(out));
	size_t cap;

	CU_ASSERT_FATAL(need > 0);
	for (cap = 0; cap < (size_t)need; cap++)
		CU_ASSERT_EQUAL(sl_http_write_error(404, false, false, out, cap), -ENOSPC);
	CU_ASSERT_EQUAL(sl_http_write_error(404, false, false, out, need), need);
}

static void
test_accept_prefers_json_only_when_it_ranks_higher(void)
{
	static const struct {
		const char *accept;
		bool json;
	} cases[] = {
	    {NULL, false},
	    {"", false},
	    {"*/*", false},
	    {"application/json", true},
	    {"Application/JSON", true},
	    {"application/json, text/plain, */*", true}, /* axios */
	    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
	    {"text/html;q=0.5, application/json", true},
	    {"text/html, application/json;q=0.9", false},
	    {"application/json;q=0, */*", false},
	    {"application/*", true},
	    {"application/*;q=0.5, text/*;q=0.4", true},
	    {"text/*, application/json;q=0.999", false},
	    {"application/json;q=1.0, text/html;q=1", false}, /* equal q, equally specific */
	    {"application/json ; q=0.8 , text/html ; q=0.7", true},
	    {"image/png", false},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *a = cases[i].accept;
		bool got = sl_http_accept_json(a, a ? strlen(a) : 0);

		if (got != cases[i].json)
			fprintf(stderr, "\nAccept \"%s\": json %d, expected %d\n", a ? a : "(null)",
				got, cases[i].json);
		CU_ASSERT_EQUAL(got, cases[i].json);
	}
}

static void
test_redirect_has_location_and_refuses_control_characters(void)
{
	static const char loc[] = "https://example.com/path?q=1";
	int n = sl_http_write_redirect(301, loc, sizeof(loc) - 1, false, out, sizeof(out));

	check_response(n, 301);
	CU_ASSERT(strstr(out, "\r\nLocation: https://example.com/path?q=1\r\n") != NULL);
	n = sl_http_write_redirect(308, "/x", 2, true, out, sizeof(out));
	check_response(n, 308);
	CU_ASSERT_EQUAL(
	    sl_http_write_redirect(301, "/a\r\nSet-Cookie: x", 17, false, out, sizeof(out)),
	    -EINVAL);
	CU_ASSERT_EQUAL(sl_http_write_redirect(302, "/a b", 4, false, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(sl_http_write_redirect(302, "", 0, false, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(sl_http_write_redirect(200, "/", 1, false, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(sl_http_write_redirect(307, "/", 1, false, out, 10), -ENOSPC);
}

static void
test_reason_phrases(void)
{
	CU_ASSERT_STRING_EQUAL(sl_http_reason(503), "Service Unavailable");
	CU_ASSERT_STRING_EQUAL(sl_http_reason(431), "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(sl_http_reason(299), "Unknown");
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_every_error_page_is_a_valid_html_response),
	    T(test_every_error_page_has_a_json_form),
	    T(test_error_page_short_buffer_is_enospc),
	    T(test_error_page_carries_retry_after),
	    T(test_accept_prefers_json_only_when_it_ranks_higher),
	    T(test_redirect_has_location_and_refuses_control_characters),
	    T(test_reason_phrases),
#undef T
	};

	return SL_UNIT_RUN("http_page", tests);
}
