/* SPDX-License-Identifier: MIT */
/*
 * Reading an accepted head (field iteration) and writing the heads the proxy sends on: the
 * request to a backend, the response to a client. The input was validated by the parser, so
 * the scans here trust its shape (every line ends in CRLF, every field has a colon) and need no
 * error paths of their own; the output goes into a caller's fixed buffer with no allocation and
 * no printf, since this runs on a worker once per request.
 */
#include <errno.h>
#include <string.h>

#include "lib/http/http.h"
#include "lib/http/http_name.h"
#include "lib/http/http_out.h"

/*
 * sl_http_header_next's body, inlined into the writers here: they walk every field of every
 * head the proxy forwards, and a call per field cost more than its two memchr.
 */
static inline bool
header_next(const char *head, const struct sl_http_head *h, uint32_t *pos,
	    struct sl_http_span *name, struct sl_http_span *value)
{
	/* *pos == 0 can mean "start": no field begins at offset 0, the start line is there */
	uint32_t i = *pos ? *pos : h->fields.off, end = h->head_len - 2u, v, e;

	if (h->head_len < 2 || i >= end)
		return false;
	name->off = i;
	i = (const char *)memchr(head + i, ':', end - i) - head;
	name->len = i - name->off;
	i++;
	while (head[i] == ' ' || head[i] == '\t')
		i++;
	v = i;
	i = (const char *)memchr(head + i, '\r', end - i) - head;
	e = i;
	while (e > v && (head[e - 1] == ' ' || head[e - 1] == '\t'))
		e--;
	value->off = v;
	value->len = e - v;
	*pos = i + 2;
	return true;
}

bool
sl_http_header_next(const char *head, const struct sl_http_head *h, uint32_t *pos,
		    struct sl_http_span *name, struct sl_http_span *value)
{
	return header_next(head, h, pos, name, value);
}

static inline unsigned
lower(char ch)
{
	unsigned c = (unsigned char)ch;

	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Whether the head's bytes at `s` are `lname` (lower case), ignoring case. */
static bool
span_is(const char *head, struct sl_http_span s, const char *lname, size_t n)
{
	size_t i;

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower(head[s.off + i]) != (unsigned char)lname[i])
			return false;
	return true;
}

/* span_is for a field name and a literal of lower-case letters and '-' (http_name.h). */
static inline bool
name_is(const char *head, struct sl_http_span s, const char *lname, size_t n)
{
	return s.len == n && sl__http_token_eq((const unsigned char *)head + s.off, lname, n);
}

#define IS(head, s, lit) name_is(head, s, lit, sizeof(lit) - 1)

bool
sl_http_header_find(const char *head, const struct sl_http_head *h, const char *name,
		    struct sl_http_span *value)
{
	struct sl_http_span n, v;
	uint32_t pos = 0;
	size_t len = strlen(name);

	while (header_next(head, h, &pos, &n, &v))
		if (span_is(head, n, name, len)) {
			*value = v;
			return true;
		}
	return false;
}

/*
 * Whether a Connection field of the head names the field `name`, which then ends here too.
 * Never Host nor the framing fields: a client naming them would otherwise have the backend
 * receive a Host-less request, or a body without the framing the parser went by.
 */
static bool
named_by_connection(const char *head, const struct sl_http_head *h, struct sl_http_span name)
{
	struct sl_http_span n, v, t;
	uint32_t pos = 0, i, end;

	if (IS(head, name, "host") || IS(head, name, "transfer-encoding") ||
	    IS(head, name, "content-length"))
		return false;

	while (header_next(head, h, &pos, &n, &v)) {
		if (!IS(head, n, "connection"))
			continue;
		i = v.off;
		end = v.off + v.len;
		while (i < end) {
			while (i < end && (head[i] == ',' || head[i] == ' ' || head[i] == '\t'))
				i++;
			t.off = i;
			while (i < end && head[i] != ',' && head[i] != ' ' && head[i] != '\t')
				i++;
			t.len = i - t.off;
			if (t.len == name.len && t.len > 0) {
				uint32_t k;

				for (k = 0; k < t.len; k++)
					if (lower(head[t.off + k]) != lower(head[name.off + k]))
						break;
				if (k == t.len)
					return true;
			}
		}
	}
	return false;
}

#define PUT(o, lit) sl_out_put(o, lit, sizeof(lit) - 1)

static void
put_span(struct sl_out *o, const char *head, struct sl_http_span s)
{
	sl_out_put(o, head + s.off, s.len);
}

/* Hop-by-hop fields, which end at the proxy (RFC 9110 7.6.1), Upgrade apart. */
static bool
hop_by_hop(const char *head, struct sl_http_span n)
{
	switch (n.len) {
	case 2:
		return IS(head, n, "te");
	case 7:
		return IS(head, n, "trailer");
	case 10:
		return IS(head, n, "connection") || IS(head, n, "keep-alive");
	case 16:
		return IS(head, n, "proxy-connection");
	}
	return false;
}

/* The path to send: the target's origin form, with the rewrite prefix replaced. */
static void
put_path(struct sl_out *o, const char *head, const struct sl_http_head *h,
	 const struct sl_http_fwd *fwd)
{
	struct sl_http_span p = h->path;
	size_t from = fwd->prefix_from ? strlen(fwd->prefix_from) : 0;
	const char *to = NULL;

	if (h->flags & SL_HTTP_F_ASTERISK) {
		PUT(o, "*");
		return;
	}
	if (from && p.len >= from && memcmp(head + p.off, fwd->prefix_from, from) == 0) {
		p.off += from;
		p.len -= from;
		to = fwd->prefix_to && fwd->prefix_to[0] ? fwd->prefix_to : NULL;
	}
	/* the path always starts with '/': after "http://a", a "?q" alone, or a stripped prefix */
	if (to ? to[0] != '/' : (p.len == 0 || head[p.off] != '/'))
		PUT(o, "/");
	if (to)
		sl_out_puts(o, to);
	put_span(o, head, p);
}

int
sl_http_write_request_head(const char *head, const struct sl_http_head *h,
			   const struct sl_http_fwd *fwd, char *buf, size_t cap)
{
	struct sl_out o = {.buf = buf, .cap = cap};
	struct sl_http_span n, v;
	uint32_t pos = 0, run;
	bool upgrade = fwd->upgrade && (h->flags & SL_HTTP_F_UPGRADE);
	bool conn_named = h->flags & SL_HTTP_F_CONN_OTHER;
	bool absolute = h->flags & SL_HTTP_F_ABSOLUTE, xff = false;

	put_span(&o, head, h->method_s);
	PUT(&o, " ");
	put_path(&o, head, h, fwd);
	PUT(&o, " HTTP/1.1\r\n");
	if (absolute) {
		/* RFC 9112 3.2.2: the target's authority replaces the Host field */
		PUT(&o, "Host: ");
		put_span(&o, head, h->authority);
		PUT(&o, "\r\n");
	}
	/* the fields kept are copied as received, in runs of consecutive lines */
	run = h->fields.off;
	while (header_next(head, h, &pos, &n, &v)) {
		bool is_upgrade = n.len == 7 && IS(head, n, "upgrade");
		bool drop = is_upgrade ? !upgrade /* whatever Connection names */
				       : hop_by_hop(head, n) || (absolute && IS(head, n, "host")) ||
					     /* written below: folded, or replaced by sluice's */
					     IS(head, n, "content-length") ||
					     IS(head, n, "x-forwarded-for") ||
					     IS(head, n, "x-forwarded-proto") ||
					     IS(head, n, "x-real-ip") ||
					     (conn_named && named_by_connection(head, h, n));

		if (drop) {
			sl_out_put(&o, head + run, n.off - run);
			run = pos;
		}
	}
	sl_out_put(&o, head + run, h->head_len - 2u - run);
	if (!(h->flags & SL_HTTP_F_HOST) && !absolute && fwd->host) {
		PUT(&o, "Host: ");
		sl_out_puts(&o, fwd->host);
		PUT(&o, "\r\n");
	}
	if (h->flags & SL_HTTP_F_CONTENT_LENGTH) {
		PUT(&o, "Content-Length: ");
		sl_out_uint(&o, h->content_length);
		PUT(&o, "\r\n");
	}
	if (h->flags & SL_HTTP_F_XFF || fwd->client_ip) {
		/* all X-Forwarded-For fields as one list, the client appended */
		PUT(&o, "X-Forwarded-For: ");
		pos = 0;
		while ((h->flags & SL_HTTP_F_XFF) && header_next(head, h, &pos, &n, &v)) {
			if (!IS(head, n, "x-forwarded-for") || v.len == 0)
				continue;
			if (xff)
				PUT(&o, ", ");
			put_span(&o, head, v);
			xff = true;
		}
		if (fwd->client_ip) {
			if (xff)
				PUT(&o, ", ");
			sl_out_puts(&o, fwd->client_ip);
		}
		PUT(&o, "\r\n");
	}
	if (fwd->proto) {
		PUT(&o, "X-Forwarded-Proto: ");
		sl_out_puts(&o, fwd->proto);
		PUT(&o, "\r\n");
	}
	if (fwd->client_ip) {
		PUT(&o, "X-Real-IP: ");
		sl_out_puts(&o, fwd->client_ip);
		PUT(&o, "\r\n");
	}
	if (fwd->via) {
		sl_out_puts(&o, h->version == 10 ? "Via: 1.0 " : "Via: 1.1 ");
		sl_out_puts(&o, fwd->via);
		PUT(&o, "\r\n");
	}
	if (upgrade)
		PUT(&o, "Connection: upgrade\r\n");
	PUT(&o, "\r\n");
	return sl_out_result(&o);
}

int
sl_http_write_response_head(const char *head, const struct sl_http_head *h,
			    const struct sl_http_fwd_resp *fwd, char *buf, size_t cap)
{
	struct sl_out o = {.buf = buf, .cap = cap};
	struct sl_http_span n, v;
	uint32_t pos = 0, run;
	bool upgrade = h->status == 101;
	bool conn_named = h->flags & SL_HTTP_F_CONN_OTHER;

	PUT(&o, "HTTP/1.1 ");
	sl_out_uint(&o, h->status);
	PUT(&o, " ");
	put_span(&o, head, h->reason);
	PUT(&o, "\r\n");
	run = h->fields.off;
	while (header_next(head, h, &pos, &n, &v)) {
		bool is_upgrade = n.len == 7 && IS(head, n, "upgrade");
		bool drop = is_upgrade ? !upgrade
				       : hop_by_hop(head, n) || IS(head, n, "content-length") ||
					     (fwd->dechunk && IS(head, n, "transfer-encoding")) ||
					     (conn_named && named_by_connection(head, h, n));

		if (drop) {
			sl_out_put(&o, head + run, n.off - run);
			run = pos;
		}
	}
	sl_out_put(&o, head + run, h->head_len - 2u - run);
	if (h->flags & SL_HTTP_F_CONTENT_LENGTH) {
		PUT(&o, "Content-Length: ");
		sl_out_uint(&o, h->content_length);
		PUT(&o, "\r\n");
	}
	if (fwd->via) {
		sl_out_puts(&o, h->version == 10 ? "Via: 1.0 " : "Via: 1.1 ");
		sl_out_puts(&o, fwd->via);
		PUT(&o, "\r\n");
	}
	if (h->status >= 200 && !o.full) {
		/* the policy fields of `security:` and `cors:` (http_policy.c) */
		int k = 0;

		if (fwd->secure && (k = sl_http_write_secure(fwd->secure, fwd->tls, head, h,
							     o.buf + o.len, o.cap - o.len)) > 0)
			o.len += (size_t)k;
		if (fwd->cors && k >= 0 &&
		    (k = sl_http_write_cors_fields(fwd->cors, fwd->cors_match, head, h,
						   o.buf + o.len, o.cap - o.len)) > 0)
			o.len += (size_t)k;
		o.full = k < 0;
	}
	if (upgrade)
		PUT(&o, "Connection: upgrade\r\n");
	else if (fwd->close)
		PUT(&o, "Connection: close\r\n");
	else if (fwd->keep_alive_10)
		PUT(&o, "Connection: keep-alive\r\n");
	PUT(&o, "\r\n");
	return sl_out_result(&o);
}
