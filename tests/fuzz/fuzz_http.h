/* SPDX-License-Identifier: MIT */
/*
 * The body of both HTTP fuzz targets (fuzz_http_request.c, fuzz_http_response.c): the input's
 * first two bytes choose the limits, the request method a response answers and the seed of
 * the piece sizes; the rest is a byte stream. Parsed whole and parsed in pieces, the results
 * must be identical (the parser's central promise); every head it accepts must survive the
 * proxy's rewrite and parse again with the same framing.
 */
#ifndef SL_FUZZ_HTTP_H
#define SL_FUZZ_HTTP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define HT_MAX_MSGS 4
#define HT_HEAD_MAX 4096
#define HT_BODY_MAX 4096
#include "tests/unit/lib/http/http_harness.h"

static const struct sl_http_limits fuzz_limits[2] = {
    {.max_line = 4096, .max_head = 4096, .max_headers = 100, .max_body = 1 << 20},
    {.max_line = 64, .max_head = 256, .max_headers = 8, .max_body = 64},
};

/* A rewritten head parses again, with the same framing as the original. */
static void
fuzz_rewrite(enum sl_http_kind kind, enum sl_http_method method, const struct ht_msg *m)
{
	static char out[3 * HT_HEAD_MAX];
	static const struct sl_http_limits big = {
	    .max_line = sizeof(out), .max_head = sizeof(out), .max_headers = 1000};
	struct sl_http_parser again;
	struct sl_http_result r;
	enum sl_http_event ev;
	static const struct sl_http_fwd fwd = {.client_ip = "198.18.0.1",
					       .proto = "http",
					       .via = "sluice",
					       .host = "fallback",
					       .prefix_from = "/a",
					       .prefix_to = "/b/"};
	/* the security and CORS fields too (http_policy.c): the head must still parse */
	static const struct sl_http_secure sec = {true, 600, "DENY", true, "no-referrer", true};
	static const char *const origins[] = {"https://a.example", "*"};
	static const char *const methods[] = {"PUT"};
	static const struct sl_http_cors cors = {origins, 2, methods, 1, methods, 1, 60, false};
	static const struct sl_http_fwd_resp fwd_resp = {
	    .via = "sluice", .secure = &sec, .tls = true, .cors = &cors, .cors_match = 0};
	int match;
	const struct sl_http_head *h = &m->head, *g;
	int n;

	if (!m->has_head || m->head_bytes < h->head_len)
		return;
	if (kind == SL_HTTP_REQUEST && sl_http_cors_request(&cors, m->headbuf, h, &match)) {
		/* a preflight answer is a complete 204 head whatever the request asked for */
		n = sl_http_write_preflight(&cors, m->headbuf, h, match, NULL, 0, false, out,
					    sizeof(out));
		sl_http_parser_init(&again, SL_HTTP_RESPONSE, &big, SL_HTTP_M_OPTIONS);
		if (n < 0 || sl_http_parse(&again, out, n, &r) != SL_HTTP_HEAD ||
		    r.consumed != (size_t)n || again.head.status != 204) {
			fprintf(stderr, "preflight answer does not parse: %d\n%.*s\n", n,
				n > 0 ? n : 0, out);
			abort();
		}
	}
	if (kind == SL_HTTP_REQUEST)
		n = sl_http_write_request_head(m->headbuf, h, &fwd, out, sizeof(out));
	else
		n = sl_http_write_response_head(m->headbuf, h, &fwd_resp, out, sizeof(out));
	if (n < 0) {
		fprintf(stderr, "rewrite failed: %d\n", n);
		abort();
	}
	sl_http_parser_init(&again, kind, &big, method);
	ev = sl_http_parse(&again, out, n, &r);
	g = &again.head;
	if (ev != SL_HTTP_HEAD || r.consumed != (size_t)n || g->framing != h->framing ||
	    g->content_length != h->content_length || g->status != h->status ||
	    g->method != h->method) {
		fprintf(stderr, "rewritten head does not parse the same: %s\n%.*s\n",
			again.reason ? again.reason : "-", n, out);
		abort();
	}
}

static bool
fuzz_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool
fuzz_name_is(const char *b, struct sl_http_span n, const char *lname)
{
	return n.len == strlen(lname) && strncasecmp(b + n.off, lname, n.len) == 0;
}

/*
 * An independent look at every head the parser accepted: the rules against smuggling hold
 * whatever the parser's own reasoning was.
 */
static void
fuzz_check_head(enum sl_http_kind kind, const struct ht_msg *m)
{
	const struct sl_http_head *h = &m->head;
	struct sl_http_span n, v;
	uint32_t pos = 0, k, hosts = 0;
	bool cl = false, te = false;

	if (!m->has_head || m->head_bytes < h->head_len)
		return;
	for (k = h->line.off; k < (uint32_t)h->line.off + h->line.len; k++)
		if (((unsigned char)m->headbuf[k] < 0x20 || m->headbuf[k] == 0x7f) &&
		    !(kind == SL_HTTP_RESPONSE && m->headbuf[k] == '\t')) /* reason phrase */
			goto bad;
	while (sl_http_header_next(m->headbuf, h, &pos, &n, &v)) {
		uint64_t x = 0;

		if (n.len == 0)
			goto bad;
		for (k = n.off; k < (uint32_t)n.off + n.len; k++)
			if (!fuzz_tchar(m->headbuf[k]))
				goto bad;
		for (k = v.off; k < (uint32_t)v.off + v.len; k++) {
			unsigned char c = m->headbuf[k];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				goto bad;
		}
		if (fuzz_name_is(m->headbuf, n, "content-length")) {
			if (v.len == 0)
				goto bad;
			for (k = v.off; k < (uint32_t)v.off + v.len; k++) {
				if (m->headbuf[k] < '0' || m->headbuf[k] > '9' ||
				    x > (1ull << 62) / 10)
					goto bad;
				x = x * 10 + (m->headbuf[k] - '0');
			}
			if (x != h->content_length)
				goto bad;
			cl = true;
		}
		te |= fuzz_name_is(m->headbuf, n, "transfer-encoding");
		hosts += fuzz_name_is(m->headbuf, n, "host");
	}
	if (cl && te)
		goto bad;
	if (cl != !!(h->flags & SL_HTTP_F_CONTENT_LENGTH))
		goto bad;
	if (te && h->framing != SL_HTTP_BODY_CHUNKED && h->framing != SL_HTTP_BODY_NONE)
		goto bad;
	if (!te && h->framing == SL_HTTP_BODY_CHUNKED)
		goto bad;
	if (kind == SL_HTTP_REQUEST &&
	    (hosts > 1 || (h->version == 11 && hosts != 1) || h->framing == SL_HTTP_BODY_CLOSE))
		goto bad;
	return;
bad:
	fprintf(stderr, "accepted head breaks a rule:\n%.*s\n", (int)h->head_len, m->headbuf);
	abort();
}

static int
fuzz_http(enum sl_http_kind kind, const uint8_t *data, size_t size)
{
	static struct ht_trace whole, cut;
	static size_t cuts[8192];
	enum sl_http_method method = SL_HTTP_M_GET;
	const struct sl_http_limits *lim;
	uint32_t seed;
	size_t n = 0, at = 0, i;
	char why[256];

	if (size < 2)
		return 0;
	lim = &fuzz_limits[data[0] & 1];
	if (kind == SL_HTTP_RESPONSE)
		method = (data[0] >> 1) % 3 == 0 ? SL_HTTP_M_HEAD : SL_HTTP_M_GET;
	seed = data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	/* piece sizes: mostly small, sometimes empty, now and then large */
	while (at < size && n < sizeof(cuts) / sizeof(cuts[0])) {
		seed = seed * 1103515245u + 12345u;
		at += (seed >> 16) % 8 == 0 ? (seed >> 8) % 300 : (seed >> 16) % 9;
		cuts[n++] = at < size ? at : size;
	}
	ht_whole(kind, method, lim, (const char *)data, size, &whole);
	ht_run(kind, method, lim, (const char *)data, size, cuts, n, &cut);
	if (!ht_equal(&whole, &cut, why, sizeof(why))) {
		fprintf(stderr, "piecewise parse differs from the whole: %s\n", why);
		abort();
	}
	for (i = 0; i < whole.n; i++) {
		if (whole.m[i].bad_span) {
			fprintf(stderr, "body span outside its piece\n");
			abort();
		}
		if (whole.m[i].end == SL_HTTP_ERROR && !(whole.m[i].reason && whole.m[i].status))
			abort();
		fuzz_check_head(kind, &whole.m[i]);
		fuzz_rewrite(kind, method, &whole.m[i]);
	}
	return 0;
}

#endif /* SL_FUZZ_HTTP_H */
