/* SPDX-License-Identifier: MIT */
/*
 * Access-log lines: JSON and the combined log format. Every byte of a record that came from
 * the client (method, host, path, Referer, User-Agent) is escaped here, so a hostile request
 * cannot break a line, forge a field or a second line, or make the JSON invalid.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accesslog.h"
#include "lib/http/http_out.h"

static void putf(struct sl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* printf onto the buffer; its terminating NUL goes into the byte sl_alog_format keeps free. */
static void
putf(struct sl_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned int lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string: "..." with RFC 8259 escapes; a byte that is not valid UTF-8 as \u00XX. */
static void
json_str(struct sl_out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	char esc[8];

	sl_out_put(o, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t run = i;

		/* Plain ASCII runs go out in one copy. */
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i) {
			sl_out_put(o, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sl_out_put(o, esc, 2);
			i++;
		} else if (c == '\n') {
			sl_out_put(o, "\\n", 2), i++;
		} else if (c == '\r') {
			sl_out_put(o, "\\r", 2), i++;
		} else if (c == '\t') {
			sl_out_put(o, "\\t", 2), i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sl_out_put(o, esc, 6);
			i++;
		} else {
			size_t len = utf8_len(s + i, n - i);

			if (len > 0) {
				sl_out_put(o, (const char *)s + i, len);
				i += len;
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				sl_out_put(o, esc, 6);
				i++;
			}
		}
	}
	sl_out_put(o, "\"", 1);
}

/* Inside a quoted field of the combined format: nginx's escaping (" \ and bytes outside
 * printable ASCII as \xHH). An empty value is "-". */
static void
clf_str(struct sl_out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];

	if (*s == '\0') {
		sl_out_put(o, "-", 1);
		return;
	}
	for (; *s; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') {
			sl_out_put(o, (const char *)s, 1);
			continue;
		}
		snprintf(esc, sizeof(esc), "\\x%02X", *s);
		sl_out_put(o, esc, 4);
	}
}

static void
ip_text(uint32_t ip_be, char *buf, size_t cap)
{
	const uint8_t *b = (const uint8_t *)&ip_be;

	snprintf(buf, cap, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

static const char *
protocol(const struct sl_alog_rec *r)
{
	return r->version == 10 ? "HTTP/1.0" : r->version == 11 ? "HTTP/1.1" : "";
}

static void
format_json(struct sl_out *o, const struct sl_alog_rec *r, uint64_t wall_ns)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} cuts[] = {
	    {SL_ALOG_F_METHOD_CUT, "method"},	  {SL_ALOG_F_HOST_CUT, "host"},
	    {SL_ALOG_F_PATH_CUT, "path"},	  {SL_ALOG_F_REFERER_CUT, "referer"},
	    {SL_ALOG_F_UA_CUT, "user_agent"},	  {SL_ALOG_F_SERVICE_CUT, "service"},
	    {SL_ALOG_F_LOCATION_CUT, "location"},
	};
	time_t secs = (time_t)(wall_ns / 1000000000u);
	struct tm tm;
	char ip[16], when[32];
	bool any = false;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	ip_text(r->client_ip, ip, sizeof(ip));
	putf(o, "{\"time\":\"%s.%06uZ\",\"client\":\"%s:%u\",\"worker\":%u,\"method\":", when,
	     (unsigned int)(wall_ns / 1000u % 1000000u), ip, r->client_port, r->worker);
	json_str(o, r->method);
	sl_out_puts(o, ",\"host\":");
	json_str(o, r->host);
	sl_out_puts(o, ",\"path\":");
	json_str(o, r->path);
	putf(o,
	     ",\"protocol\":\"%s\",\"status\":%u,\"bytes_received\":%llu,\"bytes_sent\":%llu,"
	     "\"body_bytes_sent\":%llu,\"duration_us\":%u,\"ttfb_us\":",
	     protocol(r), r->status, (unsigned long long)r->bytes_received,
	     (unsigned long long)r->bytes_sent, (unsigned long long)r->body_bytes_sent,
	     r->duration_us);
	if (r->ttfb_us == SL_ALOG_NO_TTFB)
		sl_out_puts(o, "null");
	else
		putf(o, "%u", r->ttfb_us);
	sl_out_puts(o, ",\"service\":");
	json_str(o, r->service);
	sl_out_puts(o, ",\"location\":");
	json_str(o, r->location);
	if (r->backend_ip != 0) {
		ip_text(r->backend_ip, ip, sizeof(ip));
		putf(o, ",\"backend\":\"%s:%u\"", ip, r->backend_port);
	} else {
		sl_out_puts(o, ",\"backend\":null");
	}
	putf(o, ",\"retries\":%u,\"reason\":\"%s\",\"referer\":", r->retries,
	     sl_alog_reason_name(r->reason));
	json_str(o, r->referer);
	sl_out_puts(o, ",\"user_agent\":");
	json_str(o, r->user_agent);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (!(r->flags & cuts[i].flag))
			continue;
		putf(o, "%s\"%s\"", any ? "," : ",\"truncated\":[", cuts[i].name);
		any = true;
	}
	if (any)
		sl_out_puts(o, "]");
	sl_out_puts(o, "}\n");
}

static void
format_combined(struct sl_out *o, const struct sl_alog_rec *r, uint64_t wall_ns)
{
	time_t secs = (time_t)(wall_ns / 1000000000u);
	struct tm tm;
	char ip[16], when[40];

	gmtime_r(&secs, &tm);
	/* %b is English whatever the locale: the format is for log parsers. */
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	snprintf(when, sizeof(when), "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
		 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	ip_text(r->client_ip, ip, sizeof(ip));
	putf(o, "%s - - [%s] \"", ip, when);
	if (r->flags & SL_ALOG_F_HAS_REQUEST) {
		clf_str(o, r->method);
		sl_out_put(o, " ", 1);
		clf_str(o, r->path);
		if (r->version) {
			sl_out_put(o, " ", 1);
			sl_out_puts(o, protocol(r));
		}
	} else {
		sl_out_put(o, "-", 1);
	}
	putf(o, "\" %u ", r->status);
	if (r->body_bytes_sent)
		putf(o, "%llu", (unsigned long long)r->body_bytes_sent);
	else
		sl_out_put(o, "-", 1);
	sl_out_puts(o, " \"");
	clf_str(o, r->referer);
	sl_out_puts(o, "\" \"");
	clf_str(o, r->user_agent);
	sl_out_puts(o, "\"\n");
}

int
sl_alog_format(enum sl_alog_format fmt, const struct sl_alog_rec *r, uint64_t wall_ns, char *buf,
	       size_t cap)
{
	struct sl_out o = {.buf = buf, .cap = cap - 1}; /* one byte kept for the NUL */

	if (cap == 0)
		return -ENOSPC;
	if (fmt == SL_ALOG_FORMAT_COMBINED)
		format_combined(&o, r, wall_ns);
	else
		format_json(&o, r, wall_ns);
	if (o.full) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	buf[o.len] = '\0';
	return (int)o.len;
}
