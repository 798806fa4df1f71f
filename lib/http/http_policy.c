/* SPDX-License-Identifier: MIT */
/*
 * Response policies the proxy applies on its own: the `security:` fields (HSTS,
 * X-Frame-Options, X-Content-Type-Options, Referrer-Policy, X-XSS-Protection) and CORS
 * (preflight answers, Access-Control-Allow-Origin on actual responses). Pure functions of the
 * settings and a parsed head; no allocation. The contracts are in http.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/http/http.h"
#include "lib/http/http_out.h"

static bool
same(const char *a, size_t an, const char *lit)
{
	return an == strlen(lit) && strncasecmp(a, lit, an) == 0;
}

/* ---- security fields ---- */

enum { SEC_HSTS, SEC_FRAME, SEC_NOSNIFF, SEC_REFERRER, SEC_XSS, SEC_N };

static const char *const sec_names[SEC_N] = {
    "strict-transport-security", "x-frame-options",  "x-content-type-options",
    "referrer-policy",		 "x-xss-protection",
};

int
sl_http_write_secure(const struct sl_http_secure *sec, bool tls, const char *head,
		     const struct sl_http_head *h, char *out, size_t cap)
{
	struct sl_out w = {.buf = out, .cap = cap};
	struct sl_http_span n, v;
	uint32_t pos = 0;
	unsigned int have = 0, i;

	while (h != NULL && sl_http_header_next(head, h, &pos, &n, &v))
		for (i = 0; i < SEC_N; i++)
			if (same(head + n.off, n.len, sec_names[i]))
				have |= 1u << i;
	if (sec->hsts && tls && !(have & 1u << SEC_HSTS)) {
		sl_out_puts(&w, "Strict-Transport-Security: max-age=");
		sl_out_uint(&w, sec->hsts_max_age);
		sl_out_puts(&w, "\r\n");
	}
	if (sec->frame_options && !(have & 1u << SEC_FRAME)) {
		sl_out_puts(&w, "X-Frame-Options: ");
		sl_out_puts(&w, sec->frame_options);
		sl_out_puts(&w, "\r\n");
	}
	if (sec->nosniff && !(have & 1u << SEC_NOSNIFF))
		sl_out_puts(&w, "X-Content-Type-Options: nosniff\r\n");
	if (sec->referrer_policy && sec->referrer_policy[0] && !(have & 1u << SEC_REFERRER)) {
		sl_out_puts(&w, "Referrer-Policy: ");
		sl_out_puts(&w, sec->referrer_policy);
		sl_out_puts(&w, "\r\n");
	}
	if (sec->xss && !(have & 1u << SEC_XSS))
		sl_out_puts(&w, "X-XSS-Protection: 1; mode=block\r\n");
	return sl_out_result(&w);
}

int
sl_http_insert_fields(char *buf, size_t len, size_t cap, const char *fields, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			break;
	if (i + 4 > len)
		return -EINVAL;
	if (n > cap || len > cap - n)
		return -ENOSPC;
	i += 2; /* after the last field's CRLF */
	memmove(buf + i + n, buf + i, len - i);
	memcpy(buf + i, fields, n);
	return (int)(len + n);
}

/* ---- CORS ---- */

static bool
listed(const char *const *list, unsigned int n, const char *s, size_t len, bool nocase, bool *star)
{
	bool found = false;

	for (unsigned int i = 0; i < n; i++) {
		if (list[i][0] == '*' && list[i][1] == 0) {
			*star = true;
		} else if (strlen(list[i]) == len && (nocase ? strncasecmp(list[i], s, len)
							     : strncmp(list[i], s, len)) == 0) {
			found = true;
		}
	}
	return found;
}

bool
sl_http_cors_request(const struct sl_http_cors *c, const char *head, const struct sl_http_head *h,
		     int *match)
{
	struct sl_http_span o, m;
	bool star = false;

	*match = SL_HTTP_CORS_NONE;
	if (!sl_http_header_find(head, h, "origin", &o))
		return false;
	for (unsigned int i = 0; i < c->n_origins; i++) {
		/* origins are stored lower case: a case-insensitive compare is exact otherwise */
		if (strlen(c->origins[i]) == o.len &&
		    strncasecmp(c->origins[i], head + o.off, o.len) == 0) {
			*match = (int)i;
			break;
		}
		if (c->origins[i][0] == '*' && c->origins[i][1] == 0)
			star = true;
	}
	if (*match == SL_HTTP_CORS_NONE && star)
		*match = SL_HTTP_CORS_ANY;
	else if (*match >= 0 && !strcmp(c->origins[*match], "*"))
		*match = SL_HTTP_CORS_ANY;
	return h->method == SL_HTTP_M_OPTIONS &&
	       sl_http_header_find(head, h, "access-control-request-method", &m);
}

static bool
method_allowed(const struct sl_http_cors *c, const char *s, size_t len)
{
	bool star = false;

	/* methods are case-sensitive (RFC 9110 9.1); browsers upper-case the standard ones */
	if (listed(c->methods, c->n_methods, s, len, false, &star) || star)
		return true;
	return same(s, len, "GET") || same(s, len, "HEAD") || same(s, len, "POST");
}

/* Every name in the comma-separated Access-Control-Request-Headers value is allowed. */
static bool
headers_allowed(const struct sl_http_cors *c, const char *s, size_t len)
{
	static const char *const safe[] = {"accept", "accept-language", "content-language",
					   "content-type"};
	size_t i = 0;

	while (i < len) {
		size_t t0, tl;
		bool star = false;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		t0 = i;
		while (i < len && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
			i++;
		tl = i - t0;
		if (tl == 0)
			continue;
		if (listed(c->headers, c->n_headers, s + t0, tl, true, &star) || star ||
		    listed(safe, 4, s + t0, tl, true, &star))
			continue;
		return false;
	}
	return true;
}

/* A field value that is a list of tokens: safe to echo into a field of ours. */
static bool
token_list(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || strchr("!#$%&'*+-.^_`|~, \t", ch)))
			return false;
	}
	return true;
}

static void
add_origin(struct sl_out *w, const struct sl_http_cors *c, int match)
{
	sl_out_puts(w, "Access-Control-Allow-Origin: ");
	sl_out_puts(w, match == SL_HTTP_CORS_ANY ? "*" : c->origins[match]);
	sl_out_puts(w, "\r\n");
	if (c->credentials && match != SL_HTTP_CORS_ANY)
		sl_out_puts(w, "Access-Control-Allow-Credentials: true\r\n");
}

int
sl_http_write_preflight(const struct sl_http_cors *c, const char *head,
			const struct sl_http_head *h, int match, const char *extra,
			size_t extra_len, bool close, char *out, size_t cap)
{
	struct sl_out w = {.buf = out, .cap = cap};
	struct sl_http_span m = {0, 0}, rh = {0, 0};
	bool has_rh = sl_http_header_find(head, h, "access-control-request-headers", &rh);
	bool ok = match != SL_HTTP_CORS_NONE &&
		  sl_http_header_find(head, h, "access-control-request-method", &m) && m.len > 0 &&
		  token_list(head + m.off, m.len) && method_allowed(c, head + m.off, m.len) &&
		  (!has_rh || (token_list(head + rh.off, rh.len) &&
			       headers_allowed(c, head + rh.off, rh.len)));

	sl_out_puts(&w, "HTTP/1.1 204 No Content\r\n");
	if (ok) {
		add_origin(&w, c, match);
		/* the method asked for: exact, and right whether the list has "*" or not */
		sl_out_puts(&w, "Access-Control-Allow-Methods: ");
		sl_out_put(&w, head + m.off, m.len);
		sl_out_puts(&w, "\r\n");
		if (has_rh && rh.len > 0) {
			sl_out_puts(&w, "Access-Control-Allow-Headers: ");
			sl_out_put(&w, head + rh.off, rh.len);
			sl_out_puts(&w, "\r\n");
		}
		if (c->max_age > 0) {
			sl_out_puts(&w, "Access-Control-Max-Age: ");
			sl_out_uint(&w, c->max_age);
			sl_out_puts(&w, "\r\n");
		}
	}
	sl_out_puts(&w, "Vary: Origin, Access-Control-Request-Method, "
			"Access-Control-Request-Headers\r\n");
	if (extra_len > 0)
		sl_out_put(&w, extra, extra_len);
	if (close)
		sl_out_puts(&w, "Connection: close\r\n");
	sl_out_puts(&w, "\r\n");
	return sl_out_result(&w);
}

/* A Vary field of the head `h` (may be NULL) already names Origin, or is "*". */
static bool
vary_has_origin(const char *head, const struct sl_http_head *h)
{
	struct sl_http_span n, v;
	uint32_t pos = 0;

	while (h != NULL && sl_http_header_next(head, h, &pos, &n, &v)) {
		if (!same(head + n.off, n.len, "vary"))
			continue;
		for (uint32_t i = 0; i < v.len;) {
			uint32_t t0;

			while (i < v.len && (head[v.off + i] == ',' || head[v.off + i] == ' ' ||
					     head[v.off + i] == '\t'))
				i++;
			t0 = i;
			while (i < v.len && head[v.off + i] != ',' && head[v.off + i] != ' ' &&
			       head[v.off + i] != '\t')
				i++;
			if (same(head + v.off + t0, i - t0, "origin") ||
			    same(head + v.off + t0, i - t0, "*"))
				return true;
		}
	}
	return false;
}

int
sl_http_write_cors_fields(const struct sl_http_cors *c, int match, const char *head,
			  const struct sl_http_head *h, char *out, size_t cap)
{
	struct sl_out w = {.buf = out, .cap = cap};
	struct sl_http_span v;
	bool star = false;

	if (h != NULL && sl_http_header_find(head, h, "access-control-allow-origin", &v))
		return 0;
	if (match != SL_HTTP_CORS_NONE)
		add_origin(&w, c, match);
	listed(c->origins, c->n_origins, "", 0, false, &star);
	if (!star && !vary_has_origin(head, h))
		sl_out_puts(&w, "Vary: Origin\r\n");
	return sl_out_result(&w);
}
