/* SPDX-License-Identifier: MIT */
/*
 * Responses: the JSON echo of a request, the special paths (/health, /status/NNN, /delay/MS,
 * /bytes/N, /close) and error replies.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

int
bk_buf_reserve(struct bk_buf *b, size_t extra)
{
	size_t cap;
	char *d;

	if (b->cap - b->len >= extra)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap - b->len < extra)
		cap *= 2;
	d = realloc(b->data, cap);
	if (d == NULL)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

int
bk_buf_append(struct bk_buf *b, const void *data, size_t len)
{
	if (bk_buf_reserve(b, len) < 0)
		return -ENOMEM;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int
bk_buf_printf(struct bk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || bk_buf_reserve(b, (size_t)n + 1) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

static const struct {
	int status;
	const char *text;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {417, "Expectation Failed"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

static const char *
reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Status";
}

/* Length of a well-formed UTF-8 sequence of 2 to 4 bytes at p, or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Appends a JSON string; bytes that are not valid UTF-8 are written as \u00XX (Latin-1). */
static int
json_str(struct bk_buf *b, const char *s, size_t len, bool lower)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (bk_buf_reserve(b, len + 2) < 0 || bk_buf_append(b, "\"", 1) < 0)
		return -ENOMEM;
	while (i < len) {
		unsigned char ch = p[i];
		size_t seq;
		int rc;

		if (ch == '"' || ch == '\\') {
			char esc[2] = {'\\', (char)ch};

			rc = bk_buf_append(b, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			rc = bk_buf_printf(b, "\\u%04x", ch);
		} else if (ch < 0x80) {
			char out = lower && ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : (char)ch;

			rc = bk_buf_append(b, &out, 1);
		} else if ((seq = utf8_seq(p + i, len - i)) > 0) {
			rc = bk_buf_append(b, p + i, seq);
			i += seq - 1;
		} else {
			rc = bk_buf_printf(b, "\\u%04x", ch);
		}
		if (rc < 0)
			return -ENOMEM;
		i++;
	}
	return bk_buf_append(b, "\"", 1);
}

static int
json_cstr(struct bk_buf *b, const char *s)
{
	return json_str(b, s, strlen(s), false);
}

static bool
name_eq(const struct bk_conn *c, const struct bk_header *a, const struct bk_header *h)
{
	return a->name_len == h->name_len &&
	       strncasecmp(c->in + a->name, c->in + h->name, a->name_len) == 0;
}

/*
 * "headers": names lower-cased, repeated fields joined with ", " in arrival order (RFC 9110
 * §5.3); "header_list": every field as received, so duplicates and case stay visible.
 */
static int
json_headers(struct bk_buf *b, const struct bk_conn *c)
{
	const struct bk_request *r = &c->req;
	bool first = true;
	size_t i, j;
	int rc = bk_buf_append(b, "\"headers\":{", 11);

	for (i = 0; rc == 0 && i < r->n_hdrs; i++) {
		const struct bk_header *h = &r->hdrs[i];
		bool seen = false, joined = false;

		for (j = 0; j < i && !seen; j++)
			seen = name_eq(c, &r->hdrs[j], h);
		if (seen)
			continue;
		rc |= bk_buf_append(b, ",", first ? 0 : 1);
		first = false;
		rc |= json_str(b, c->in + h->name, h->name_len, true);
		rc |= bk_buf_append(b, ":", 1);
		for (j = i + 1; j < r->n_hdrs; j++)
			joined |= name_eq(c, &r->hdrs[j], h);
		if (!joined) {
			rc |= json_str(b, c->in + h->value, h->value_len, false);
			continue;
		}
		{
			/* Build the joined value in place: escape each part into a string. */
			struct bk_buf v = {0};

			for (j = i; j < r->n_hdrs; j++) {
				if (!name_eq(c, &r->hdrs[j], h))
					continue;
				if (v.len > 0)
					rc |= bk_buf_append(&v, ", ", 2);
				rc |= bk_buf_append(&v, c->in + r->hdrs[j].value,
						    r->hdrs[j].value_len);
			}
			if (rc == 0)
				rc |= json_str(b, v.data, v.len, false);
			free(v.data);
		}
	}
	rc |= bk_buf_append(b, "},\"header_list\":[", 17);
	for (i = 0; rc == 0 && i < r->n_hdrs; i++) {
		const struct bk_header *h = &r->hdrs[i];

		rc |= bk_buf_append(b, i ? ",[" : "[", i ? 2 : 1);
		rc |= json_str(b, c->in + h->name, h->name_len, false);
		rc |= bk_buf_append(b, ",", 1);
		rc |= json_str(b, c->in + h->value, h->value_len, false);
		rc |= bk_buf_append(b, "]", 1);
	}
	rc |= bk_buf_append(b, "],", 2);
	return rc ? -ENOMEM : 0;
}

/* The echo: everything the backend saw of this request, one JSON object and a newline. */
static int
json_echo(struct bk_buf *b, struct bk_conn *c)
{
	struct bk_request *r = &c->req;
	const char *t = c->in + r->target;
	char hex[BK_SHA256_HEX_LEN + 1];
	int rc = 0;

	bk_sha256_final_hex(&r->sha, hex);
	rc |= bk_buf_append(b, "{\"backend\":", 11);
	rc |= json_cstr(b, c->srv->name);
	rc |= bk_buf_append(b, ",\"method\":", 10);
	rc |= json_str(b, c->in + r->method, r->method_len, false);
	rc |= bk_buf_append(b, ",\"path\":", 8);
	rc |= json_str(b, t, r->path_len, false);
	rc |= bk_buf_append(b, ",\"query\":", 9);
	if (r->path_len < r->target_len)
		rc |= json_str(b, t + r->path_len + 1, r->target_len - r->path_len - 1, false);
	else
		rc |= bk_buf_append(b, "null", 4);
	rc |= bk_buf_append(b, ",\"target\":", 10);
	rc |= json_str(b, t, r->target_len, false);
	rc |= bk_buf_printf(b, ",\"version\":\"HTTP/1.%d\",\"host\":", r->minor);
	if (r->host_idx >= 0)
		rc |= json_str(b, c->in + r->hdrs[r->host_idx].value,
			       r->hdrs[r->host_idx].value_len, false);
	else
		rc |= bk_buf_append(b, "null", 4);
	rc |= bk_buf_append(b, ",", 1);
	rc |= json_headers(b, c);
	rc |= bk_buf_printf(b,
			    "\"body_bytes\":%llu,\"body_sha256\":\"%s\",\"body_chunked\":%s,"
			    "\"remote\":",
			    (unsigned long long)r->body_bytes, hex,
			    r->body_kind == BK_BODY_CHUNKED ? "true" : "false");
	rc |= json_cstr(b, c->remote);
	rc |= bk_buf_append(b, ",\"local\":", 9);
	rc |= json_cstr(b, c->local);
	rc |= bk_buf_printf(b, ",\"conn_requests\":%llu,\"server_requests\":%llu}\n",
			    (unsigned long long)c->n_requests,
			    (unsigned long long)c->srv->n_requests);
	return rc ? -ENOMEM : 0;
}

/*
 * Appends status line and headers. content_length < 0 omits Content-Length (204, 304).
 * The connection stays open only when both sides want it.
 */
static int
reply_head(struct bk_conn *c, int status, const char *ctype, long long content_length)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	bool keep = c->req.keep_alive && !c->close_after;
	int rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	c->close_after = !keep;
	rc = bk_buf_printf(&c->out,
			   "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: sluice-backend\r\n"
			   "X-Backend: %s\r\nConnection: %s\r\n",
			   status, reason(status), date, c->srv->name,
			   keep ? "keep-alive" : "close");
	if (rc == 0 && ctype != NULL)
		rc = bk_buf_printf(&c->out, "Content-Type: %s\r\n", ctype);
	if (rc == 0 && content_length >= 0)
		rc = bk_buf_printf(&c->out, "Content-Length: %lld\r\n", content_length);
	for (unsigned int i = 0; rc == 0 && i < c->srv->n_add_header; i++)
		rc = bk_buf_printf(&c->out, "%s\r\n", c->srv->add_header[i]);
	if (rc == 0)
		rc = bk_buf_append(&c->out, "\r\n", 2);
	return rc;
}

/* A whole response whose body is in s->scratch. */
static int
reply_scratch(struct bk_conn *c, int status, const char *ctype)
{
	struct bk_buf *body = &c->srv->scratch;
	bool no_body = status == 204 || status == 304;

	if (reply_head(c, status, no_body ? NULL : ctype, no_body ? -1 : (long long)body->len) < 0)
		return -ENOMEM;
	if (no_body || c->req.is_head)
		return 0;
	return bk_buf_append(&c->out, body->data, body->len);
}

/* Non-negative decimal number of at most 18 digits making up all of [s, s + len). */
static bool
parse_uint(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long n = 0;
	size_t i;

	if (len == 0 || len > 18)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = n;
	return true;
}

static bool
path_is(const char *p, size_t len, const char *what)
{
	return strlen(what) == len && memcmp(p, what, len) == 0;
}

/* path starts with prefix; *rest is what follows. */
static bool
path_arg(const char *p, size_t len, const char *prefix, const char **rest, size_t *rest_len)
{
	size_t n = strlen(prefix);

	if (len < n || memcmp(p, prefix, n) != 0)
		return false;
	*rest = p + n;
	*rest_len = len - n;
	return true;
}

/* A well-formed request we decline (bad /status value, /bytes too large): the connection stays. */
static int
reply_refusal(struct bk_conn *c, int status, const char *detail)
{
	struct bk_buf *b = &c->srv->scratch;
	int rc = 0;

	b->len = 0;
	rc |= bk_buf_append(b, "{\"backend\":", 11);
	rc |= json_cstr(b, c->srv->name);
	rc |= bk_buf_append(b, ",\"error\":", 9);
	rc |= json_cstr(b, reason(status));
	rc |= bk_buf_append(b, ",\"detail\":", 10);
	rc |= json_cstr(b, detail);
	rc |= bk_buf_append(b, "}\n", 2);
	if (rc != 0)
		return -ENOMEM;
	return reply_scratch(c, status, "application/json");
}

int
bk_reply_request(struct bk_conn *c)
{
	struct bk_request *r = &c->req;
	struct bk_buf *b = &c->srv->scratch;
	const char *path = c->in + r->target, *arg;
	size_t len = r->path_len, arg_len;
	unsigned long long n;
	int status = 200, delay = 0;

	b->len = 0;
	if (path_is(path, len, "/health")) {
		bool sick =
		    c->srv->unhealthy_file != NULL && access(c->srv->unhealthy_file, F_OK) == 0;

		if (bk_buf_append(b, sick ? "unhealthy" : "ok", sick ? 9 : 2) < 0)
			return -ENOMEM;
		return reply_scratch(c, sick ? 503 : 200, "text/plain");
	}
	if (path_is(path, len, "/served")) {
		if (bk_buf_printf(b, "%llu\n", (unsigned long long)c->srv->n_served) < 0)
			return -ENOMEM;
		return reply_scratch(c, 200, "text/plain");
	}
	c->srv->n_served++;
	if (c->srv->fault_file != NULL) {
		/* Fault injection: the file's first word says what every other request gets. */
		FILE *f = fopen(c->srv->fault_file, "r");
		char word[16] = "";

		if (f != NULL) {
			if (fscanf(f, "%15s", word) != 1)
				word[0] = '\0';
			fclose(f);
		}
		if (!strcmp(word, "500")) {
			if (bk_buf_append(b, "fault", 5) < 0)
				return -ENOMEM;
			return reply_scratch(c, 500, "text/plain");
		}
		if (!strcmp(word, "hang")) {
			if (json_echo(b, c) < 0 || reply_scratch(c, 200, "application/json") < 0)
				return -ENOMEM;
			return BK_DELAY_MAX_MS; /* answers after a minute: a hung backend */
		}
	}
	if (path_arg(path, len, "/bytes/", &arg, &arg_len)) {
		if (!parse_uint(arg, arg_len, &n) || n > BK_BYTES_MAX)
			return reply_refusal(c, 400, "/bytes/N takes N from 0 to 1073741824");
		/* Byte i of the body is 'a' + i % 26. */
		if (reply_head(c, 200, "application/octet-stream", (long long)n) < 0)
			return -ENOMEM;
		c->gen_off = 0;
		c->gen_end = r->is_head ? 0 : n;
		return 0;
	}
	if (path_arg(path, len, "/status/", &arg, &arg_len)) {
		if (arg_len != 3 || !parse_uint(arg, arg_len, &n) || n < 200 || n > 599)
			return reply_refusal(c, 400, "/status/NNN takes a status from 200 to 599");
		status = (int)n;
	} else if (path_arg(path, len, "/delay/", &arg, &arg_len)) {
		if (!parse_uint(arg, arg_len, &n))
			return reply_refusal(c, 400, "/delay/MS takes a number of milliseconds");
		delay = n > BK_DELAY_MAX_MS ? BK_DELAY_MAX_MS : (int)n;
	} else if (path_is(path, len, "/close")) {
		c->close_after = true;
	}
	if (json_echo(b, c) < 0 || reply_scratch(c, status, "application/json") < 0)
		return -ENOMEM;
	return delay;
}

int
bk_reply_error(struct bk_conn *c, int status, const char *detail)
{
	c->close_after = true;
	c->req.is_head = false;
	c->gen_off = c->gen_end = 0;
	return reply_refusal(c, status, detail);
}

int
bk_reply_generate(struct bk_conn *c)
{
	static char pattern[BK_GEN_CHUNK + 26];
	uint64_t left = c->gen_end - c->gen_off;
	size_t n = left < BK_GEN_CHUNK ? (size_t)left : BK_GEN_CHUNK;

	if (pattern[0] == 0) {
		size_t i;

		for (i = 0; i < sizeof(pattern); i++)
			pattern[i] = (char)('a' + i % 26);
	}
	c->out.off = c->out.len = 0;
	if (bk_buf_append(&c->out, pattern + c->gen_off % 26, n) < 0)
		return -ENOMEM;
	c->gen_off += n;
	return 0;
}
