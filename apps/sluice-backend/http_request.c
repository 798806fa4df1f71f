/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 request heads (RFC 9112) and request bodies, Content-Length or chunked.
 *
 * Strict where leniency lets a proxy get away with a framing bug: whitespace before the colon,
 * obs-fold, bare CR, both Content-Length and Transfer-Encoding, differing Content-Lengths and a
 * missing Host in HTTP/1.1 are all 400. A bare LF as line end is accepted (RFC 9112 §2.2).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"

#define CL_MAX (1ULL << 62)

static bool
is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool
is_field_vchar(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static bool
range_ieq(const char *p, size_t len, const char *s)
{
	return strlen(s) == len && strncasecmp(p, s, len) == 0;
}

/*
 * The line starting at from ends with the first LF before limit (the caller knows there is one).
 * Sets *end to the end of its content (without CR LF) and *next to the following line.
 * Returns -1 when a CR appears anywhere but right before the LF.
 */
static int
next_line(const char *p, size_t from, size_t limit, size_t *end, size_t *next)
{
	const char *lf = memchr(p + from, '\n', limit - from);
	size_t e = (size_t)(lf - p);

	*next = e + 1;
	if (e > from && p[e - 1] == '\r')
		e--;
	if (memchr(p + from, '\r', e - from) != NULL)
		return -1;
	*end = e;
	return 0;
}

static int
add_header(struct bk_request *r, uint32_t name, uint32_t name_len, uint32_t value,
	   uint32_t value_len)
{
	if (r->n_hdrs == r->cap_hdrs) {
		size_t cap = r->cap_hdrs ? r->cap_hdrs * 2 : 32;
		struct bk_header *h = realloc(r->hdrs, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		r->hdrs = h;
		r->cap_hdrs = cap;
	}
	r->hdrs[r->n_hdrs++] = (struct bk_header){name, name_len, value, value_len};
	return 0;
}

static int
parse_request_line(struct bk_conn *c, size_t end, const char **detail)
{
	struct bk_request *r = &c->req;
	const char *p = c->in;
	size_t i = 0, t;

	while (i < end && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= end || p[i] != ' ') {
		*detail = "request line must be: METHOD SP request-target SP HTTP-version";
		return 400;
	}
	r->method = 0;
	r->method_len = (uint32_t)i;
	t = ++i;
	while (i < end && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i >= end || p[i] != ' ') {
		*detail = "request-target must be non-empty visible ASCII followed by one space";
		return 400;
	}
	r->target = (uint32_t)t;
	r->target_len = (uint32_t)(i - t);
	r->path_len = r->target_len;
	{
		const char *q = memchr(p + t, '?', i - t);

		if (q != NULL)
			r->path_len = (uint32_t)(q - (p + t));
	}
	i++;
	if (end - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 || p[i + 5] < '0' || p[i + 5] > '9' ||
	    p[i + 6] != '.' || p[i + 7] < '0' || p[i + 7] > '9') {
		*detail = "HTTP-version must be HTTP/DIGIT.DIGIT";
		return 400;
	}
	if (p[i + 5] != '1') {
		*detail = "only HTTP/1.x is supported";
		return 505;
	}
	/* A later 1.x minor version is answered as 1.1 (RFC 9110 §6.2). */
	r->minor = p[i + 7] == '0' ? 0 : 1;
	return 0;
}

static bool
parse_content_length(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v[i] - '0');
		if (n > CL_MAX)
			return false;
	}
	*out = n;
	return true;
}

/* Notes the "close" and "keep-alive" options of a Connection field (comma-separated). */
static void
parse_connection(const char *v, size_t len, bool *close_opt, bool *keep_alive_opt)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (range_ieq(v + s, e - s, "close"))
			*close_opt = true;
		else if (range_ieq(v + s, e - s, "keep-alive"))
			*keep_alive_opt = true;
	}
}

/* Decides framing, persistence and expectations from the parsed fields. */
static int
interpret_headers(struct bk_conn *c, const char **detail)
{
	struct bk_request *r = &c->req;
	bool have_cl = false, close_seen = false, keep_alive_seen = false;
	uint64_t cl = 0;
	size_t n_te = 0, n_host = 0, i;
	const char *te = NULL;
	size_t te_len = 0;

	for (i = 0; i < r->n_hdrs; i++) {
		const struct bk_header *h = &r->hdrs[i];
		const char *name = c->in + h->name, *v = c->in + h->value;

		if (range_ieq(name, h->name_len, "host")) {
			n_host++;
			r->host_idx = (int)i;
		} else if (range_ieq(name, h->name_len, "content-length")) {
			uint64_t n;

			if (!parse_content_length(v, h->value_len, &n)) {
				*detail = "Content-Length must be a decimal number";
				return 400;
			}
			if (have_cl && n != cl) {
				*detail = "differing Content-Length values";
				return 400;
			}
			have_cl = true;
			cl = n;
		} else if (range_ieq(name, h->name_len, "transfer-encoding")) {
			n_te++;
			te = v;
			te_len = h->value_len;
		} else if (range_ieq(name, h->name_len, "connection")) {
			parse_connection(v, h->value_len, &close_seen, &keep_alive_seen);
		} else if (range_ieq(name, h->name_len, "expect")) {
			if (!range_ieq(v, h->value_len, "100-continue")) {
				*detail = "the only supported expectation is 100-continue";
				return 417;
			}
			r->expect_continue = r->minor >= 1;
		}
	}
	/* HTTP/1.1 persists unless told "close"; HTTP/1.0 only when asked (RFC 9112 §9.3). */
	r->keep_alive = !close_seen && (r->minor >= 1 || keep_alive_seen);
	if (n_host > 1) {
		*detail = "more than one Host header";
		return 400;
	}
	if (n_host == 0 && r->minor >= 1) {
		*detail = "HTTP/1.1 request without Host";
		return 400;
	}
	if (n_te > 0) {
		if (r->minor == 0) {
			*detail = "Transfer-Encoding in an HTTP/1.0 request";
			return 400;
		}
		if (have_cl) {
			*detail = "both Content-Length and Transfer-Encoding";
			return 400;
		}
		if (n_te > 1 || !range_ieq(te, te_len, "chunked")) {
			*detail = "the only supported transfer coding is a single 'chunked'";
			return 501;
		}
		r->body_kind = BK_BODY_CHUNKED;
		r->chunk_state = BK_CH_SIZE;
	} else if (have_cl && cl > 0) {
		r->body_kind = BK_BODY_LENGTH;
		r->remaining = cl;
	}
	if (r->body_kind == BK_BODY_NONE)
		r->expect_continue = false;
	r->is_head = range_ieq(c->in + r->method, r->method_len, "HEAD");
	return 0;
}

int
bk_req_parse_head(struct bk_conn *c, size_t head_len, const char **detail)
{
	struct bk_request *r = &c->req;
	const char *p = c->in;
	size_t pos = 0, end, next;
	int st;

	if (memchr(p, '\0', head_len) != NULL) {
		*detail = "NUL byte in the request head";
		return 400;
	}
	if (next_line(p, pos, head_len, &end, &next) < 0) {
		*detail = "bare CR in the request line";
		return 400;
	}
	st = parse_request_line(c, end, detail);
	if (st != 0)
		return st;
	for (pos = next; pos < head_len; pos = next) {
		size_t i, colon, vs, ve;

		if (next_line(p, pos, head_len, &end, &next) < 0) {
			*detail = "bare CR in a header line";
			return 400;
		}
		if (end == pos)
			break; /* the blank line that ends the head */
		if (p[pos] == ' ' || p[pos] == '\t') {
			*detail = "obsolete line folding is not accepted";
			return 400;
		}
		for (i = pos; i < end && is_tchar((unsigned char)p[i]); i++)
			;
		if (i == pos || i >= end || p[i] != ':') {
			*detail = "header line must be: field-name ':' field-value";
			return 400;
		}
		colon = i;
		for (vs = colon + 1; vs < end && (p[vs] == ' ' || p[vs] == '\t'); vs++)
			;
		for (ve = end; ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'); ve--)
			;
		for (i = vs; i < ve; i++) {
			if (!is_field_vchar((unsigned char)p[i])) {
				*detail = "control character in a header value";
				return 400;
			}
		}
		if (r->n_hdrs >= BK_MAX_HEADERS) {
			*detail = "too many header fields";
			return 431;
		}
		if (add_header(r, (uint32_t)pos, (uint32_t)(colon - pos), (uint32_t)vs,
			       (uint32_t)(ve - vs)) < 0) {
			*detail = "out of memory";
			return 500;
		}
	}
	return interpret_headers(c, detail);
}

/* Feeds one framing byte of a chunked body. Returns 0, or -1 with *detail set. */
static int
chunk_byte(struct bk_request *r, unsigned char ch, const char **detail)
{
	switch (r->chunk_state) {
	case BK_CH_SIZE: {
		int v = -1;

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		if (v >= 0) {
			if (r->remaining > (UINT64_MAX >> 4) || r->chunk_line > 16) {
				*detail = "chunk size too large";
				return -1;
			}
			r->remaining = r->remaining * 16 + (uint64_t)v;
			r->chunk_digits = true;
			r->chunk_line++;
			return 0;
		}
		if (!r->chunk_digits) {
			*detail = "chunk size must start with a hex digit";
			return -1;
		}
		if (ch == ';' || ch == ' ' || ch == '\t') {
			r->chunk_state = BK_CH_EXT;
			r->chunk_line++;
			return 0;
		}
		if (ch == '\r') {
			r->chunk_state = BK_CH_SIZE_LF;
			return 0;
		}
		if (ch == '\n')
			goto size_line_done;
		*detail = "invalid character in chunk size";
		return -1;
	}
	case BK_CH_EXT:
		if (ch == '\r') {
			r->chunk_state = BK_CH_SIZE_LF;
			return 0;
		}
		if (ch == '\n')
			goto size_line_done;
		if (!is_field_vchar(ch) || ++r->chunk_line > BK_CHUNK_LINE_MAX) {
			*detail = "invalid or overlong chunk extension";
			return -1;
		}
		return 0;
	case BK_CH_SIZE_LF:
		if (ch != '\n') {
			*detail = "CR without LF after chunk size";
			return -1;
		}
		goto size_line_done;
	case BK_CH_DATA_CR:
		if (ch == '\r') {
			r->chunk_state = BK_CH_DATA_LF;
			return 0;
		}
		/* A bare LF ends the chunk data too. */
		__attribute__((fallthrough));
	case BK_CH_DATA_LF:
		if (ch != '\n') {
			*detail = "chunk data not followed by CRLF";
			return -1;
		}
		r->chunk_state = BK_CH_SIZE;
		r->chunk_digits = false;
		r->chunk_line = 0;
		r->remaining = 0;
		return 0;
	case BK_CH_TRAILER_BOL:
		if (ch == '\r') {
			r->chunk_state = BK_CH_TRAILER_END_LF;
			return 0;
		}
		if (ch == '\n') {
			r->chunk_state = BK_CH_DONE;
			return 0;
		}
		r->chunk_state = BK_CH_TRAILER_LINE;
		__attribute__((fallthrough));
	case BK_CH_TRAILER_LINE:
		if (++r->trailer_bytes > BK_TRAILER_MAX) {
			*detail = "trailer section too large";
			return -1;
		}
		if (ch == '\n')
			r->chunk_state = BK_CH_TRAILER_BOL;
		else if (ch != '\r' && !is_field_vchar(ch)) {
			*detail = "control character in a trailer";
			return -1;
		}
		return 0;
	case BK_CH_TRAILER_END_LF:
		if (ch != '\n') {
			*detail = "CR without LF at the end of the trailer section";
			return -1;
		}
		r->chunk_state = BK_CH_DONE;
		return 0;
	case BK_CH_DATA:
	case BK_CH_DONE:
		break;
	}
	*detail = "internal error in the chunked decoder";
	return -1;

size_line_done:
	r->chunk_state = r->remaining == 0 ? BK_CH_TRAILER_BOL : BK_CH_DATA;
	return 0;
}

int
bk_req_consume_body(struct bk_conn *c, const char **detail)
{
	struct bk_request *r = &c->req;

	while (c->in_pos < c->in_len) {
		const char *p = c->in + c->in_pos;
		size_t avail = c->in_len - c->in_pos;

		if (r->body_kind == BK_BODY_LENGTH || r->chunk_state == BK_CH_DATA) {
			size_t take = avail < r->remaining ? avail : (size_t)r->remaining;

			bk_sha256_update(&r->sha, p, take);
			r->body_bytes += take;
			r->remaining -= take;
			c->in_pos += take;
			if (r->remaining == 0) {
				if (r->body_kind == BK_BODY_LENGTH)
					return 1;
				r->chunk_state = BK_CH_DATA_CR;
			}
			continue;
		}
		if (r->chunk_state == BK_CH_DONE)
			return 1;
		if (chunk_byte(r, (unsigned char)*p, detail) < 0)
			return -1;
		c->in_pos++;
	}
	if (r->body_kind == BK_BODY_LENGTH)
		return r->remaining == 0;
	return r->chunk_state == BK_CH_DONE;
}

const char *
bk_req_header(const struct bk_conn *c, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < c->req.n_hdrs; i++) {
		const struct bk_header *h = &c->req.hdrs[i];

		if (range_ieq(c->in + h->name, h->name_len, name)) {
			*len = h->value_len;
			return c->in + h->value;
		}
	}
	return NULL;
}
