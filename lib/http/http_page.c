/* SPDX-License-Identifier: MIT */
/*
 * The responses sluice makes itself: a small clean HTML page per status (like the Teeter seed's
 * "Service Unavailable" page), or JSON for API clients, chosen from the client's Accept.
 * Written into a caller's buffer without printf: these go out from the workers.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/http/http.h"
#include "lib/http/http_out.h"

/* clang-format off: one status a line reads best */
const char *
sl_http_reason(unsigned status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Unknown";
}

/* The sentence under the title: what happened, in the client's terms. */
static const char *
explanation(unsigned status)
{
	switch (status) {
	case 400:
		return "The request could not be understood.";
	case 404:
		return "No service or location matches this request.";
	case 405:
		return "This method is not allowed here.";
	case 408:
		return "The request took too long to arrive.";
	case 413:
		return "The request body is larger than this service accepts.";
	case 414:
		return "The request target is longer than this service accepts.";
	case 429:
		return "Too many requests. Please try again later.";
	case 431:
		return "The request header fields are larger than this service accepts.";
	case 502:
		return "The backend server sent an invalid response.";
	case 503:
		return "No backend server is available to handle this request right now. "
		       "Please try again later.";
	case 504:
		return "The backend server did not answer in time.";
	case 505:
		return "This HTTP version is not supported.";
	}
	return "The request could not be completed.";
}
/* clang-format on */

static const char html_1[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
static const char html_2[] =
    "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;"
    "padding:0 1em;color:#222}h1{font-weight:600;font-size:1.6em}"
    "p{line-height:1.5}footer{color:#888;font-size:.85em;margin-top:3em}</style>\n"
    "</head>\n<body>\n<h1>";
static const char html_3[] = "</h1>\n<p>";
static const char html_4[] = "</p>\n<footer>sluice</footer>\n</body>\n</html>\n";

/* Write the head and body of a page; `parts` are the body's pieces (NULL-terminated). */
static int
write_page(unsigned status, const char *ctype, const char *location, size_t loc_len, bool close,
	   uint32_t retry_after, const char *const *parts, char *buf, size_t cap)
{
	struct sl_out o = {.buf = buf, .cap = cap};
	size_t body = 0, i;

	for (i = 0; parts[i]; i++)
		body += strlen(parts[i]);
	sl_out_puts(&o, "HTTP/1.1 ");
	sl_out_uint(&o, status);
	sl_out_puts(&o, " ");
	sl_out_puts(&o, sl_http_reason(status));
	sl_out_puts(&o, "\r\nContent-Type: ");
	sl_out_puts(&o, ctype);
	sl_out_puts(&o, "\r\nContent-Length: ");
	sl_out_uint(&o, body);
	sl_out_puts(&o, "\r\nCache-Control: no-store\r\n");
	if (location) {
		sl_out_puts(&o, "Location: ");
		sl_out_put(&o, location, loc_len);
		sl_out_puts(&o, "\r\n");
	}
	if (retry_after) {
		sl_out_puts(&o, "Retry-After: ");
		sl_out_uint(&o, retry_after);
		sl_out_puts(&o, "\r\n");
	}
	if (close)
		sl_out_puts(&o, "Connection: close\r\n");
	sl_out_puts(&o, "\r\n");
	for (i = 0; parts[i]; i++)
		sl_out_puts(&o, parts[i]);
	return sl_out_result(&o);
}

int
sl_http_write_error(unsigned status, bool json, bool close, char *buf, size_t cap)
{
	return sl_http_write_error_retry(status, json, close, 0, buf, cap);
}

int
sl_http_write_error_retry(unsigned status, bool json, bool close, uint32_t retry_after_s, char *buf,
			  size_t cap)
{
	char code[4];
	const char *reason = sl_http_reason(status);

	if (status < 100 || status > 999)
		return -EINVAL;
	code[0] = '0' + status / 100;
	code[1] = '0' + status / 10 % 10;
	code[2] = '0' + status % 10;
	code[3] = 0;
	if (json) {
		/* the strings are ours, with nothing to escape */
		const char *const parts[] = {"{\"status\":",
					     code,
					     ",\"error\":\"",
					     reason,
					     "\",\"message\":\"",
					     explanation(status),
					     "\"}\n",
					     NULL};

		return write_page(status, "application/json", NULL, 0, close, retry_after_s, parts,
				  buf, cap);
	} else {
		const char *const parts[] = {html_1, code, " ",	   reason, html_2,
					     code,   " ",  reason, html_3, explanation(status),
					     html_4, NULL};

		return write_page(status, "text/html; charset=utf-8", NULL, 0, close, retry_after_s,
				  parts, buf, cap);
	}
}

int
sl_http_write_redirect(unsigned status, const char *location, size_t len, bool close, char *buf,
		       size_t cap)
{
	char code[4];
	const char *reason = sl_http_reason(status);
	size_t i;

	if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
		return -EINVAL;
	/* a field value without whitespace or controls: nothing can end the line early */
	for (i = 0; i < len; i++)
		if ((unsigned char)location[i] <= 0x20 || (unsigned char)location[i] == 0x7f)
			return -EINVAL;
	if (len == 0)
		return -EINVAL;
	code[0] = '0' + status / 100;
	code[1] = '0' + status / 10 % 10;
	code[2] = '0' + status % 10;
	code[3] = 0;
	{
		const char *const parts[] = {
		    html_1, code, " ",	  reason, html_2,
		    code,   " ",  reason, html_3, "The document has moved.",
		    html_4, NULL};

		return write_page(status, "text/html; charset=utf-8", location, len, close, 0,
				  parts, buf, cap);
	}
}

int
sl_http_write_text(unsigned status, const char *text, bool close, char *buf, size_t cap)
{
	const char *const parts[] = {text, NULL};

	if (status < 100 || status > 999 || !text)
		return -EINVAL;
	return write_page(status, "text/plain", NULL, 0, close, 0, parts, buf, cap);
}

/* How well a media range matches a type: 3 exact, 2 "type/\*", 1 "*\/\*", 0 not at all. */
static int
range_match(const char *r, size_t rl, const char *type, size_t tl, const char *sub, size_t sl)
{
	size_t slash;

	for (slash = 0; slash < rl && r[slash] != '/'; slash++)
		;
	if (slash == rl)
		return 0;
	if (rl == 3 && memcmp(r, "*/*", 3) == 0)
		return 1;
	if (slash != tl || strncasecmp(r, type, tl) != 0)
		return 0;
	if (rl - slash - 1 == 1 && r[slash + 1] == '*')
		return 2;
	if (rl - slash - 1 == sl && strncasecmp(r + slash + 1, sub, sl) == 0)
		return 3;
	return 0;
}

/* A qvalue ("0", "0.5", "1", "1.000") in thousandths; a malformed one counts as 1. */
static int
qvalue(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return 1000;
	q = (s[0] - '0') * 1000;
	if (n > 1 && s[1] != '.')
		return 1000;
	for (i = 2; i < n && i < 5; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 1000;
		q += (s[i] - '0') * scale;
		scale /= 10;
	}
	return q > 1000 ? 1000 : q;
}

bool
sl_http_accept_json(const char *a, size_t len)
{
	int html_q = 0, html_spec = 0, json_q = 0, json_spec = 0;
	size_t i = 0;

	if (!a)
		return false;
	while (i < len) {
		size_t r0, rl, e;
		int q = 1000, m;

		while (i < len && (a[i] == ' ' || a[i] == '\t' || a[i] == ','))
			i++;
		r0 = i;
		while (i < len && a[i] != ',' && a[i] != ';' && a[i] != ' ' && a[i] != '\t')
			i++;
		rl = i - r0;
		/* parameters up to the next element; only q matters */
		for (e = i; e < len && a[e] != ','; e++)
			;
		while (i < e) {
			size_t p0;

			while (i < e && (a[i] == ';' || a[i] == ' ' || a[i] == '\t'))
				i++;
			p0 = i;
			while (i < e && a[i] != ';' && a[i] != ' ' && a[i] != '\t')
				i++;
			if (i - p0 >= 2 && (a[p0] == 'q' || a[p0] == 'Q') && a[p0 + 1] == '=')
				q = qvalue(a + p0 + 2, i - p0 - 2);
		}
		i = e;
		if (rl == 0)
			continue;
		m = range_match(a + r0, rl, "text", 4, "html", 4);
		if (m > html_spec) {
			html_spec = m;
			html_q = q;
		}
		m = range_match(a + r0, rl, "application", 11, "json", 4);
		if (m > json_spec) {
			json_spec = m;
			json_q = q;
		}
	}
	if (json_spec == 0 || json_q == 0)
		return false;
	return json_q > html_q || (json_q == html_q && json_spec > html_spec);
}
