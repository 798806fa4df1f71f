/* SPDX-License-Identifier: MIT */
/*
 * Test harness of the HTTP parser: feeds a byte stream cut into pieces at given offsets, the
 * way the proxy feeds mbuf segments, and records per message what a proxy would see: the head
 * (kept in a head buffer from the consumed bytes, as the proxy does), the payload, the bytes
 * the message took and how it ended. Two records are equal when the parse results are.
 * The fuzzers include it too.
 */
#ifndef SL_TEST_HTTP_HARNESS_H
#define SL_TEST_HTTP_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/http/http.h"

/* The fuzzers shrink these (a trace is zeroed per run) */
#ifndef HT_MAX_MSGS
#define HT_MAX_MSGS 8
#endif
#ifndef HT_HEAD_MAX
#define HT_HEAD_MAX 16384
#endif
#ifndef HT_BODY_MAX
#define HT_BODY_MAX 65536
#endif

struct ht_msg {
	int end; /* enum sl_http_event: DONE, UPGRADE, ERROR; NEED_MORE while incomplete */
	unsigned status;
	const char *reason;
	bool has_head;
	struct sl_http_head head;
	size_t head_bytes;
	char headbuf[HT_HEAD_MAX];
	size_t body_len;
	char body[HT_BODY_MAX];
	size_t raw;    /* bytes of the stream the message took */
	bool bad_span; /* a BODY span outside the consumed bytes, or NEED_MORE with bytes left */
};

struct ht_trace {
	unsigned n;
	struct ht_msg m[HT_MAX_MSGS];
};

/*
 * Parse data[0, len) cut at the sorted offsets cuts[0..ncuts) (each in [0, len]); a stream of
 * messages (pipelining, 1xx then final response) continues with sl_http_parser_next() after
 * each DONE. Ends with sl_http_parse_eof(). The trace must be zeroed by the caller or is
 * zeroed here (big: keep it static).
 */
static inline void
ht_run(enum sl_http_kind kind, enum sl_http_method req_method, const struct sl_http_limits *lim,
       const char *data, size_t len, const size_t *cuts, size_t ncuts, struct ht_trace *t)
{
	struct sl_http_parser p;
	struct sl_http_result r;
	struct ht_msg *m;
	size_t k, a = 0, b, l;
	const char *buf;
	enum sl_http_event ev;

	memset(t, 0, sizeof(*t));
	sl_http_parser_init(&p, kind, lim, req_method);
	m = &t->m[0];
	for (k = 0; k <= ncuts; k++) {
		b = k < ncuts ? cuts[k] : len;
		if (b < a)
			b = a;
		buf = data + a;
		l = b - a;
		a = b;
		for (;;) {
			ev = sl_http_parse(&p, buf, l, &r);
			if (r.consumed > l ||
			    (ev == SL_HTTP_BODY &&
			     (r.data_off + r.data_len > r.consumed || r.data_len == 0)))
				m->bad_span = true;
			if (!m->has_head) {
				size_t c = r.consumed;

				if (m->head_bytes + c > HT_HEAD_MAX)
					c = HT_HEAD_MAX - m->head_bytes;
				memcpy(m->headbuf + m->head_bytes, buf, c);
				m->head_bytes += c;
			}
			if (ev == SL_HTTP_BODY) {
				size_t c = r.data_len;

				if (m->body_len + c > HT_BODY_MAX)
					c = HT_BODY_MAX - m->body_len;
				memcpy(m->body + m->body_len, buf + r.data_off, c);
				m->body_len += c;
			}
			m->raw += r.consumed;
			buf += r.consumed;
			l -= r.consumed;
			if ((m->raw > 0 || ev != SL_HTTP_NEED_MORE) &&
			    t->n < (unsigned)(m - t->m) + 1)
				t->n = (unsigned)(m - t->m) + 1;
			switch (ev) {
			case SL_HTTP_NEED_MORE:
				if (l != 0)
					m->bad_span = true;
				goto next_piece;
			case SL_HTTP_HEAD:
				m->has_head = true;
				memcpy(&m->head, &p.head, sizeof(m->head));
				continue;
			case SL_HTTP_BODY:
				continue;
			case SL_HTTP_DONE:
				m->end = SL_HTTP_DONE;
				if (m + 1 == t->m + HT_MAX_MSGS)
					return;
				m++;
				sl_http_parser_next(&p);
				continue;
			case SL_HTTP_UPGRADE:
			case SL_HTTP_ERROR:
				m->end = ev;
				m->status = p.status;
				m->reason = p.reason;
				return;
			}
		}
	next_piece:;
	}
	ev = sl_http_parse_eof(&p);
	if (ev == SL_HTTP_DONE || ev == SL_HTTP_ERROR) {
		m->end = ev;
		m->status = p.status;
		m->reason = p.reason;
		t->n = (unsigned)(m - t->m) + 1;
	}
}

static inline void
ht_whole(enum sl_http_kind kind, enum sl_http_method req_method, const struct sl_http_limits *lim,
	 const char *data, size_t len, struct ht_trace *t)
{
	ht_run(kind, req_method, lim, data, len, NULL, 0, t);
}

/* Whether two traces agree; on a difference, says where into `why` (may be NULL). */
static inline bool
ht_equal(const struct ht_trace *x, const struct ht_trace *y, char *why, size_t n)
{
	unsigned i;

#define HT_DIFF(...)                                                                               \
	do {                                                                                       \
		if (why)                                                                           \
			snprintf(why, n, __VA_ARGS__);                                             \
		return false;                                                                      \
	} while (0)
	if (x->n != y->n)
		HT_DIFF("%u messages against %u", x->n, y->n);
	for (i = 0; i < x->n; i++) {
		const struct ht_msg *a = &x->m[i], *b = &y->m[i];

		if (a->end != b->end || a->status != b->status)
			HT_DIFF("message %u: end %d/%u against %d/%u (%s / %s)", i, a->end,
				a->status, b->end, b->status, a->reason ? a->reason : "-",
				b->reason ? b->reason : "-");
		if ((a->reason == NULL) != (b->reason == NULL) ||
		    (a->reason && strcmp(a->reason, b->reason) != 0))
			HT_DIFF("message %u: reason %s against %s", i, a->reason, b->reason);
		if (a->has_head != b->has_head)
			HT_DIFF("message %u: head %d against %d", i, a->has_head, b->has_head);
		if (a->has_head && memcmp(&a->head, &b->head, sizeof(a->head)) != 0)
			HT_DIFF("message %u: heads differ", i);
		if (a->has_head && (a->head_bytes != b->head_bytes ||
				    memcmp(a->headbuf, b->headbuf, a->head_bytes) != 0))
			HT_DIFF("message %u: head bytes differ", i);
		if (a->body_len != b->body_len || memcmp(a->body, b->body, a->body_len) != 0)
			HT_DIFF("message %u: body %zu bytes against %zu", i, a->body_len,
				b->body_len);
		if (a->raw != b->raw)
			HT_DIFF("message %u: %zu bytes against %zu", i, a->raw, b->raw);
		if (a->bad_span || b->bad_span)
			HT_DIFF("message %u: a span outside the piece", i);
	}
	return true;
#undef HT_DIFF
}

/* The head bytes of a span of message m, compared with a string. */
static inline bool
ht_span_is(const struct ht_msg *m, struct sl_http_span s, const char *want)
{
	return s.len == strlen(want) && (size_t)s.off + s.len <= m->head_bytes &&
	       memcmp(m->headbuf + s.off, want, s.len) == 0;
}

/* How many times `pre` `s` `post` stands in the string hay, case-insensitively (a match may
 * overlap the previous one). The tests count header lines and field names in what a writer
 * wrote with it. */
static inline int
ht_count(const char *hay, const char *pre, const char *s, const char *post)
{
	char want[512];
	int n = 0;

	snprintf(want, sizeof(want), "%s%s%s", pre, s, post);
	for (const char *p = hay; (p = strcasestr(p, want)) != NULL; p++)
		n++;
	return n;
}

#endif /* SL_TEST_HTTP_HARNESS_H */
