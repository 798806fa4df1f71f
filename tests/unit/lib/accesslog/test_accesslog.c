/* SPDX-License-Identifier: MIT */
/*
 * lib/accesslog: records go round worker -> control -> worker without loss or reordering, a
 * full log drops and counts, and both line formats survive hostile bytes (quotes,
 * backslashes, control characters, valid and invalid UTF-8). No EAL, no root.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <CUnit/Basic.h>
#include <jansson.h>

#include "lib/accesslog/accesslog.h"
#include "cunit_main.h"

/* 2026-12-03T13:20:01.123456Z */
#define WALL_NS 1796304001123456789ull

static struct sl_alog_rec
sample(void)
{
	struct sl_alog_rec r;

	memset(&r, 0, sizeof(r));
	r.client_ip = inet_addr("198.18.0.1");
	r.client_port = 43210;
	r.worker = 1;
	r.status = 200;
	r.version = 11;
	r.bytes_received = 78;
	r.bytes_sent = 1234;
	r.body_bytes_sent = 1000;
	r.duration_us = 812;
	r.ttfb_us = 700;
	r.backend_ip = inet_addr("198.18.0.11");
	r.backend_port = 8080;
	r.retries = 1;
	r.reason = SL_ALOG_OK;
	r.flags = SL_ALOG_F_HAS_REQUEST;
	strcpy(r.method, "GET");
	strcpy(r.host, "www.example.com");
	strcpy(r.path, "/a/b?x=1");
	strcpy(r.service, "web");
	strcpy(r.location, "/a/");
	strcpy(r.referer, "http://ref.example/");
	strcpy(r.user_agent, "curl/7.88.1");
	return r;
}

static json_t *
json_line(const struct sl_alog_rec *r, char *line)
{
	json_error_t e;
	int n = sl_alog_format(SL_ALOG_FORMAT_JSON, r, WALL_NS, line, SL_ALOG_LINE_MAX);
	json_t *o;

	CU_ASSERT_TRUE_FATAL(n > 0);
	CU_ASSERT_EQUAL(line[n - 1], '\n');
	CU_ASSERT_PTR_NULL(memchr(line, '\n', (size_t)n - 1)); /* one line, whatever the input */
	o = json_loadb(line, (size_t)n, 0, &e);
	if (o == NULL)
		fprintf(stderr, "\n  not JSON (%s): %s", e.text, line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	return o;
}

/* ---- the rings ---- */

static void
test_records_come_back_in_order_and_are_reused(void)
{
	struct sl_alog *l = sl_alog_create(4, 3);
	struct sl_alog_rec *r[4], *got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (int i = 0; i < 4; i++) {
		r[i] = sl_alog_take(l, 100 + i);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
		CU_ASSERT_EQUAL(r[i]->worker, 3);
		CU_ASSERT_EQUAL(r[i]->start_tsc, 100u + i);
		CU_ASSERT_EQUAL(r[i]->ttfb_us, SL_ALOG_NO_TTFB);
	}
	/* Requests end out of order: the log follows the order they ended in. */
	sl_alog_commit(l, r[2]);
	sl_alog_commit(l, r[0]);
	CU_ASSERT_PTR_EQUAL(sl_alog_next(l), r[2]);
	got = sl_alog_next(l);
	CU_ASSERT_PTR_EQUAL(got, r[0]);
	CU_ASSERT_PTR_NULL(sl_alog_next(l));
	sl_alog_release(l, r[2]);
	sl_alog_release(l, got);
	sl_alog_add_written(l, 1); /* one line out, the other lost to a write error */
	sl_alog_add_lost(l, 1);
	CU_ASSERT_EQUAL(sl_alog_written(l), 1);
	CU_ASSERT_EQUAL(sl_alog_lost(l), 1);
	/* Released records serve new requests. */
	CU_ASSERT_PTR_NOT_NULL(sl_alog_take(l, 7));
	CU_ASSERT_PTR_NOT_NULL(sl_alog_take(l, 8));
	CU_ASSERT_EQUAL(sl_alog_dropped(l), 0);
	sl_alog_free(l);
}

static void
test_full_log_drops_and_counts(void)
{
	struct sl_alog *l = sl_alog_create(2, 0);
	struct sl_alog_rec *a, *b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	a = sl_alog_take(l, 1);
	b = sl_alog_take(l, 2);
	CU_ASSERT_PTR_NULL(sl_alog_take(l, 3));
	CU_ASSERT_PTR_NULL(sl_alog_take(l, 4));
	CU_ASSERT_EQUAL(sl_alog_dropped(l), 2);
	/* Committed but not yet written out: still not free. */
	sl_alog_commit(l, a);
	CU_ASSERT_PTR_NULL(sl_alog_take(l, 5));
	CU_ASSERT_EQUAL(sl_alog_dropped(l), 3);
	sl_alog_release(l, sl_alog_next(l));
	CU_ASSERT_PTR_EQUAL(sl_alog_take(l, 6), a);
	sl_alog_commit(l, b);
	CU_ASSERT_PTR_EQUAL(sl_alog_next(l), b);
	sl_alog_free(l);
	CU_ASSERT_PTR_NULL(sl_alog_create(0, 0));
	CU_ASSERT_PTR_NULL(sl_alog_create(SL_ALOG_MAX_RECORDS + 1, 0));
}

/* A worker thread and a control thread at full speed: nothing lost, nothing reordered, and
 * every request is either written or counted as dropped. */
#define STRESS_N 200000u

static void *
producer(void *arg)
{
	struct sl_alog *l = arg;

	for (uint64_t i = 1; i <= STRESS_N; i++) {
		struct sl_alog_rec *r = sl_alog_take(l, i);

		if (r == NULL)
			continue;
		r->bytes_received = i;
		snprintf(r->path, sizeof(r->path), "/%llu", (unsigned long long)i);
		sl_alog_commit(l, r);
	}
	return NULL;
}

static void
test_two_threads_lose_nothing(void)
{
	struct sl_alog *l = sl_alog_create(64, 0);
	pthread_t t;
	uint64_t last = 0, seen = 0;
	bool ordered = true, intact = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, producer, l), 0);
	for (;;) {
		struct sl_alog_rec *r = sl_alog_next(l);
		char want[32];

		if (r == NULL) {
			if (__atomic_load_n(&l->committed, __ATOMIC_RELAXED) == seen &&
			    seen + sl_alog_dropped(l) == STRESS_N)
				break;
			continue;
		}
		snprintf(want, sizeof(want), "/%llu", (unsigned long long)r->bytes_received);
		ordered &= r->bytes_received > last && r->start_tsc == r->bytes_received;
		intact &= strcmp(r->path, want) == 0;
		last = r->bytes_received;
		seen++;
		sl_alog_release(l, r);
		sl_alog_add_written(l, 1);
	}
	pthread_join(t, NULL);
	CU_ASSERT_TRUE(ordered);
	CU_ASSERT_TRUE(intact);
	CU_ASSERT_EQUAL(sl_alog_written(l) + sl_alog_dropped(l), STRESS_N);
	CU_ASSERT_TRUE(seen > 0);
	sl_alog_free(l);
}

static void
test_copy_cuts_and_flags(void)
{
	char buf[8];

	CU_ASSERT_FALSE(sl_alog_copy(buf, sizeof(buf), "abcdefg", 7));
	CU_ASSERT_STRING_EQUAL(buf, "abcdefg");
	CU_ASSERT_TRUE(sl_alog_copy(buf, sizeof(buf), "abcdefgh", 8));
	CU_ASSERT_STRING_EQUAL(buf, "abcdefg");
	CU_ASSERT_FALSE(sl_alog_copy(buf, sizeof(buf), "xyz-not-this", 3));
	CU_ASSERT_STRING_EQUAL(buf, "xyz");
}

static void
test_wall_clock_from_tsc(void)
{
	struct sl_alog_clock c = {.tsc = 1000000, .realtime_ns = WALL_NS, .tsc_hz = 2000000000};

	CU_ASSERT_EQUAL(sl_alog_wall_ns(&c, 1000000), WALL_NS);
	CU_ASSERT_EQUAL(sl_alog_wall_ns(&c, 1000000 + 2000000000ull * 3600), WALL_NS + 3600e9);
	CU_ASSERT_EQUAL(sl_alog_wall_ns(&c, 1000000 + 3), WALL_NS + 1); /* 1.5 ns, truncated */
	CU_ASSERT_EQUAL(sl_alog_wall_ns(&c, 0), WALL_NS - 500000);	/* before the sample */
}

/* ---- JSON ---- */

static void
test_json_line_has_every_field(void)
{
	struct sl_alog_rec r = sample();
	char line[SL_ALOG_LINE_MAX];
	json_t *o = json_line(&r, line);

	CU_ASSERT_STRING_EQUAL(
	    line,
	    "{\"time\":\"2026-12-03T13:20:01.123456Z\",\"client\":\"198.18.0.1:43210\","
	    "\"worker\":1,\"method\":\"GET\",\"host\":\"www.example.com\",\"path\":\"/a/b?x=1\","
	    "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes_received\":78,"
	    "\"bytes_sent\":1234,\"body_bytes_sent\":1000,\"duration_us\":812,"
	    "\"ttfb_us\":700,\"service\":\"web\",\"location\":\"/a/\","
	    "\"backend\":\"198.18.0.11:8080\",\"retries\":1,\"reason\":\"ok\","
	    "\"referer\":\"http://ref.example/\",\"user_agent\":\"curl/7.88.1\"}\n");
	json_decref(o);
}

static void
test_json_own_reply_has_null_backend_and_ttfb(void)
{
	struct sl_alog_rec r = sample();
	char line[SL_ALOG_LINE_MAX];
	json_t *o;

	r.backend_ip = 0;
	r.ttfb_us = SL_ALOG_NO_TTFB;
	r.status = 0;
	r.reason = SL_ALOG_CLIENT_CLOSED;
	r.flags |= SL_ALOG_F_PATH_CUT | SL_ALOG_F_UA_CUT;
	o = json_line(&r, line);
	CU_ASSERT_TRUE(json_is_null(json_object_get(o, "backend")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(o, "ttfb_us")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "reason")), "client_closed");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "truncated")), 2);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(o, "truncated"), 0)), "path");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(o, "truncated"), 1)), "user_agent");
	json_decref(o);
}

static void
test_json_escapes_hostile_bytes(void)
{
	struct sl_alog_rec r = sample();
	char line[SL_ALOG_LINE_MAX];
	json_t *o;

	/* A path that tries to close the string and add a field, with a backslash, control
	 * characters and a line break. */
	strcpy(r.path, "/x\",\"status\":999,\"y\":\"\\\x01\x1f\x7f\n\r\t");
	/* Valid UTF-8 (2, 3 and 4 bytes) is kept as it is. */
	strcpy(r.host, "caf\xc3\xa9.\xe2\x82\xac.\xf0\x9d\x84\x9e");
	/* Not UTF-8: a lone byte, an overlong '/', a surrogate, a cut sequence at the end. */
	strcpy(r.user_agent, "a\xff"
			     "b\xc0\xaf"
			     "c\xed\xa0\x80"
			     "d\xe2\x82");
	strcpy(r.referer, "\"\\");
	o = json_line(&r, line);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "status")), 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "path")), r.path);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "host")), r.host);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "referer")), "\"\\");
	/* Each bad byte is the code point of its value: visible, and the line stays UTF-8. */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "user_agent")),
			       "a\xc3\xbf"
			       "b\xc3\x80\xc2\xaf"
			       "c\xc3\xad\xc2\xa0\xc2\x80"
			       "d\xc3\xa2\xc2\x82");
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(line, "\"path\":\"/x\\\",\\\"status\\\":999,\\\"y\\\":\\\"\\\\\\u0001\\u001f"
			 "\\u007f\\n\\r\\t\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"user_agent\":\"a\\u00ffb\\u00c0\\u00afc"));
	json_decref(o);
}

static void
test_longest_record_fits_a_line(void)
{
	struct sl_alog_rec r = sample();
	char line[SL_ALOG_LINE_MAX];

	/* Every byte of every text field escaped to six: still within SL_ALOG_LINE_MAX. */
	memset(r.method, 0x01, sizeof(r.method) - 1);
	memset(r.host, 0x01, sizeof(r.host) - 1);
	memset(r.path, 0x01, sizeof(r.path) - 1);
	memset(r.referer, 0xff, sizeof(r.referer) - 1);
	memset(r.user_agent, 0xff, sizeof(r.user_agent) - 1);
	memset(r.service, 'a', sizeof(r.service) - 1);
	memset(r.location, 0x02, sizeof(r.location) - 1);
	r.flags = 0xff;
	r.bytes_received = r.bytes_sent = r.body_bytes_sent = INT64_MAX; /* jansson reads int64 */
	json_decref(json_line(&r, line));
	CU_ASSERT_TRUE(sl_alog_format(SL_ALOG_FORMAT_COMBINED, &r, WALL_NS, line, sizeof(line)) >
		       0);
	CU_ASSERT_EQUAL(sl_alog_format(SL_ALOG_FORMAT_JSON, &r, WALL_NS, line, 64), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(line, "");
}

/* ---- combined ---- */

static void
test_combined_line(void)
{
	struct sl_alog_rec r = sample();
	char line[SL_ALOG_LINE_MAX];
	int n = sl_alog_format(SL_ALOG_FORMAT_COMBINED, &r, WALL_NS, line, sizeof(line));

	CU_ASSERT_TRUE(n > 0);
	CU_ASSERT_STRING_EQUAL(line, "198.18.0.1 - - [03/Dec/2026:13:20:01 +0000] "
				     "\"GET /a/b?x=1 HTTP/1.1\" 200 1000 \"http://ref.example/\" "
				     "\"curl/7.88.1\"\n");
}

static void
test_combined_quotes_hostile_bytes_and_dashes_empty_fields(void)
{
	struct sl_alog_rec r = sample();
	char line[SL_ALOG_LINE_MAX];

	strcpy(r.path, "/\" 200 5 \"x\\\n\xc3\xa9");
	r.referer[0] = '\0';
	strcpy(r.user_agent, "ua\"\x01");
	r.body_bytes_sent = 0;
	r.status = 404;
	sl_alog_format(SL_ALOG_FORMAT_COMBINED, &r, WALL_NS, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line,
			       "198.18.0.1 - - [03/Dec/2026:13:20:01 +0000] "
			       "\"GET /\\x22 200 5 \\x22x\\x5C\\x0A\\xC3\\xA9 HTTP/1.1\" 404 - "
			       "\"-\" \"ua\\x22\\x01\"\n");
	/* No request line read (a timeout before it, garbage): "-". */
	memset(&r, 0, sizeof(r));
	r.client_ip = inet_addr("198.18.0.9");
	r.status = 408;
	r.bytes_sent = 150;
	r.body_bytes_sent = 120;
	sl_alog_format(SL_ALOG_FORMAT_COMBINED, &r, WALL_NS, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "198.18.0.9 - - [03/Dec/2026:13:20:01 +0000] \"-\" 408 120 "
				     "\"-\" \"-\"\n");
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_records_come_back_in_order_and_are_reused),
	    SL_UNIT_TEST(test_full_log_drops_and_counts),
	    SL_UNIT_TEST(test_two_threads_lose_nothing),
	    SL_UNIT_TEST(test_copy_cuts_and_flags),
	    SL_UNIT_TEST(test_wall_clock_from_tsc),
	    SL_UNIT_TEST(test_json_line_has_every_field),
	    SL_UNIT_TEST(test_json_own_reply_has_null_backend_and_ttfb),
	    SL_UNIT_TEST(test_json_escapes_hostile_bytes),
	    SL_UNIT_TEST(test_longest_record_fits_a_line),
	    SL_UNIT_TEST(test_combined_line),
	    SL_UNIT_TEST(test_combined_quotes_hostile_bytes_and_dashes_empty_fields),
	};

	return SL_UNIT_RUN("accesslog", tests);
}
