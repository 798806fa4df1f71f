/* SPDX-License-Identifier: MIT */
/*
 * The incremental HTTP/1.1 parser: one named state per position in the grammar, moved byte by
 * byte as in nginx's ngx_http_parse.c, so a piece may end anywhere; where a state can take many
 * bytes (target, field name, field value, body) an inner loop scans with a class table, which is
 * where picohttpparser gets its speed. The fields that decide framing and connection semantics
 * (Content-Length, Transfer-Encoding, Connection, Host, Expect, Upgrade) are recognised while
 * their name goes by and their value is checked byte by byte as it arrives, so the parser never
 * needs to look back at an earlier piece.
 */
#include <errno.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lib/http/http.h"
#include "lib/http/http_name.h"

enum state {
	/* head (and, with p->trailer, the trailer section) */
	S_START,
	S_START_LF,
	S_METHOD,
	S_TARGET,
	S_VERSION,
	S_RVERSION,
	S_STATUS,
	S_REASON,
	S_LINE_LF,
	S_FIELD_START,
	S_NAME,
	S_VALUE_OWS,
	S_VALUE,
	S_VALUE_LF,
	S_HEAD_LF,
	/* body */
	S_BODY_LENGTH,
	S_CHUNK_SIZE_START,
	S_CHUNK_SIZE,
	S_CHUNK_EXT,
	S_CHUNK_LF,
	S_CHUNK_DATA,
	S_CHUNK_DATA_CR,
	S_CHUNK_DATA_LF,
	S_BODY_CLOSE,
	/* ends */
	S_BODY_END, /* the head said "no body": DONE or UPGRADE is reported by the next call */
	S_DONE,
	S_UPGRADE,
	S_ERROR,
};

/* Sub-states of the request target. */
enum {
	T_BEGIN,
	T_PATH,
	T_STAR,
	T_SCHEME,
	T_SLASH1,
	T_SLASH2,
	T_AUTH,
};

/* Sub-states of chunk extensions: *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted ) ] ). */
enum {
	E_BWS,	      /* whitespace that must lead to ';' (no trailing whitespace before CR) */
	E_NAME_START, /* after ';' */
	E_NAME,
	E_AFTER_NAME, /* whitespace after a name: '=' or ';' */
	E_VAL_START,
	E_VAL_TOKEN,
	E_QUOTED,
	E_QPAIR,
	E_AFTER_QUOTE,
};

/* The header fields the parser interprets; bit (id - 1) in the name candidate mask. */
enum field {
	F_NONE,
	F_CONTENT_LENGTH,
	F_TRANSFER_ENCODING,
	F_CONNECTION,
	F_HOST,
	F_EXPECT,
	F_UPGRADE,
	F_XFF,
	F_ACCEPT, /* only noted: the proxy reads it for its own pages' format */
};

struct name {
	const char *name;
	uint8_t len;
};

static const struct name known[] = {
    {"content-length", 14},  {"transfer-encoding", 17},
    {"connection", 10},	     {"host", 4},
    {"expect", 6},	     {"upgrade", 7},
    {"x-forwarded-for", 15}, {"accept", 6},
};

/* Tokens of the Connection and Transfer-Encoding lists the parser acts on. */
static const struct name conn_tokens[] = {{"close", 5}, {"keep-alive", 10}, {"upgrade", 7}};
static const struct name te_tokens[] = {{"chunked", 7}};

/* Sub-states of a list value (Connection, Transfer-Encoding). */
enum {
	L_START,
	L_TOKEN,
	L_AFTER,
};

/* Content-Length value. */
enum {
	CL_START,
	CL_DIGITS,
	CL_TRAIL,
};

/* te_state bits */
#define TE_PRESENT 1u
#define TE_LAST_CHUNKED 2u
#define TE_OTHER 4u
#define TE_FIELD_TOKEN 8u

/* Character classes (generated: see the bits). */
#define C_TCHAR 1u  /* token: field names, methods, codings */
#define C_VCHAR 2u  /* field-vchar: VCHAR and obs-text (no SP, HTAB) */
#define C_TARGET 4u /* request target: visible ASCII */
#define C_HEX 8u
#define C_AUTH 16u   /* authority / Host: unreserved, sub-delims, ':', '[', ']', '%' */
#define C_SCHEME 32u /* scheme after its first letter */
#define C_QD 64u     /* qdtext of a quoted string */

/* clang-format off */
static const uint8_t cls[256] = {
	  0,   0,   0,   0,   0,   0,   0,   0,   0,  64,   0,   0,   0,   0,   0,   0,
	  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
	 64,  87,   6,  71,  87,  87,  87,  87,  86,  86,  87, 119,  86, 119, 119,  70,
	127, 127, 127, 127, 127, 127, 127, 127, 127, 127,  86,  86,  70,  86,  70,  70,
	 70, 127, 127, 127, 127, 127, 127, 119, 119, 119, 119, 119, 119, 119, 119, 119,
	119, 119, 119, 119, 119, 119, 119, 119, 119, 119, 119,  86,   6,  86,  71,  87,
	 71, 127, 127, 127, 127, 127, 127, 119, 119, 119, 119, 119, 119, 119, 119, 119,
	119, 119, 119, 119, 119, 119, 119, 119, 119, 119, 119,  70,  71,  70,  87,   0,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
	 66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,  66,
};
/* clang-format on */

/* Content-Length and chunk sizes stay below 2^62, far above any body and safe to add up. */
#define SIZE_LIMIT (1ull << 62)

static inline unsigned
lower(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static inline int
hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c - 'a' + 10;
}

/*
 * The long runs: a request target (visible ASCII) and a field value (VCHAR, obs-text, SP,
 * HTAB). Sixteen bytes at a time with SSE2 (in every x86-64), looking for any byte that is not
 * plainly allowed; the byte loop after it decides about that byte and goes on from there.
 * Both return the index of the first byte that ends the run (or n).
 */
static inline size_t
scan_target(const unsigned char *s, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);

	while (n - i >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, sp), x),
					   _mm_cmpeq_epi8(_mm_max_epu8(x, del), x));
		int m = _mm_movemask_epi8(bad);

		if (m)
			return i + __builtin_ctz(m);
		i += 16;
	}
#endif
	while (i < n && (cls[s[i]] & C_TARGET))
		i++;
	return i;
}

static inline size_t
scan_value(const unsigned char *s, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i us = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);

	while (n - i >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i bad =
		    _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, us), x), _mm_cmpeq_epi8(x, del));
		int m = _mm_movemask_epi8(bad);

		if (m) {
			i += __builtin_ctz(m);
			break; /* maybe only a HTAB: the byte loop looks */
		}
		i += 16;
	}
#endif
	while (i < n && ((cls[s[i]] & C_VCHAR) || s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * The index of the first byte from s[i] not in class `c` (or n): a field name, a list token,
 * a Host value. Unrolled by four, one bound check per four bytes: these runs are short.
 */
static inline size_t
scan_class(const unsigned char *s, size_t i, size_t n, uint8_t c)
{
	for (; n - i >= 4; i += 4) {
		if (!(cls[s[i]] & c))
			return i;
		if (!(cls[s[i + 1]] & c))
			return i + 1;
		if (!(cls[s[i + 2]] & c))
			return i + 2;
		if (!(cls[s[i + 3]] & c))
			return i + 3;
	}
	while (i < n && (cls[s[i]] & c))
		i++;
	return i;
}

static const struct sl_http_limits default_limits = {
    .max_line = SL_HTTP_DEFAULT_MAX_LINE,
    .max_head = SL_HTTP_DEFAULT_MAX_HEAD,
    .max_headers = SL_HTTP_DEFAULT_MAX_HEADERS,
    .max_body = 0,
};

void
sl_http_parser_init(struct sl_http_parser *p, enum sl_http_kind kind,
		    const struct sl_http_limits *limits, enum sl_http_method req_method)
{
	memset(p, 0, sizeof(*p));
	p->limits = limits ? limits : &default_limits;
	p->kind = kind;
	p->state = S_START;
	if (kind == SL_HTTP_RESPONSE)
		p->head.method = req_method;
}

void
sl_http_parser_next(struct sl_http_parser *p)
{
	sl_http_parser_init(p, p->kind, p->limits, p->head.method);
}

static uint32_t
max_head(const struct sl_http_parser *p)
{
	uint32_t m = p->limits->max_head;

	return m == 0 || m > SL_HTTP_HEAD_MAX ? SL_HTTP_HEAD_MAX : m;
}

static enum sl_http_event
fail(struct sl_http_parser *p, unsigned status, const char *reason)
{
	/* whatever a backend did wrong, the client sees a bad gateway */
	p->status = p->kind == SL_HTTP_RESPONSE ? 502 : status;
	p->reason = reason;
	p->state = S_ERROR;
	return SL_HTTP_ERROR;
}

static const char *
method_name(unsigned m)
{
	static const char *const names[] = {
	    [SL_HTTP_M_GET] = "GET",	     [SL_HTTP_M_HEAD] = "HEAD",
	    [SL_HTTP_M_POST] = "POST",	     [SL_HTTP_M_PUT] = "PUT",
	    [SL_HTTP_M_DELETE] = "DELETE",   [SL_HTTP_M_CONNECT] = "CONNECT",
	    [SL_HTTP_M_OPTIONS] = "OPTIONS", [SL_HTTP_M_TRACE] = "TRACE",
	    [SL_HTTP_M_PATCH] = "PATCH",
	};
	return m < sizeof(names) / sizeof(names[0]) ? names[m] : NULL;
}

static uint8_t
method_of(const char *s, unsigned n)
{
	unsigned m;
	const char *name;

	for (m = SL_HTTP_M_GET; (name = method_name(m)) != NULL; m++)
		if (strlen(name) == n && memcmp(name, s, n) == 0)
			return m;
	return SL_HTTP_M_OTHER;
}

/* The candidates for a field name that starts with `c` (lower case). */
static uint16_t
name_candidates(const struct sl_http_parser *p, unsigned c)
{
	switch (c) {
	case 'c':
		return 1u << (F_CONTENT_LENGTH - 1) | 1u << (F_CONNECTION - 1);
	case 't':
		return 1u << (F_TRANSFER_ENCODING - 1);
	case 'u':
		return 1u << (F_UPGRADE - 1);
	}
	if (p->kind != SL_HTTP_REQUEST)
		return 0;
	switch (c) {
	case 'h':
		return 1u << (F_HOST - 1);
	case 'e':
		return 1u << (F_EXPECT - 1);
	case 'x':
		return 1u << (F_XFF - 1);
	case 'a':
		return 1u << (F_ACCEPT - 1);
	}
	return 0;
}

/* Drop the candidates whose k-th letter is not `c` (lower case). */
static uint16_t
narrow(uint16_t mask, unsigned k, unsigned c, const struct name *table)
{
	uint16_t m = mask;

	while (m) {
		unsigned b = __builtin_ctz(m);

		m &= m - 1;
		if (k >= table[b].len || (unsigned char)table[b].name[k] != c)
			mask &= ~(1u << b);
	}
	return mask;
}

/* The candidate of `mask` whose length is exactly n, as its bit index + 1, or 0. */
static unsigned
resolve(uint16_t mask, unsigned n, const struct name *table)
{
	while (mask) {
		unsigned b = __builtin_ctz(mask);

		mask &= mask - 1;
		if (table[b].len == n)
			return b + 1;
	}
	return 0;
}

#define KNOWN known

/* Whether the token s[0, n) (tchar bytes only) is `name`, case aside. */
static inline bool
token_is(const unsigned char *s, size_t n, const struct name *name)
{
	return name->len == n && sl__http_token_eq(s, name->name, n);
}

/* The known field among the candidates in `mask` that the name s[0, n) is, or F_NONE. */
static unsigned
match_name(const unsigned char *s, size_t n, uint16_t mask)
{
	while (mask) {
		unsigned b = __builtin_ctz(mask);

		mask &= mask - 1;
		if (token_is(s, n, &known[b]))
			return b + 1;
	}
	return F_NONE;
}
#define CONN conn_tokens
#define TE te_tokens

/* A token of a Connection or Transfer-Encoding list is complete. */
static int
list_commit(struct sl_http_parser *p)
{
	unsigned t;

	if (p->field == F_CONNECTION) {
		t = resolve(p->mask, p->name_len, CONN);
		p->head.flags |= t == 1	  ? SL_HTTP_F_CONN_CLOSE
				 : t == 2 ? SL_HTTP_F_CONN_KEEPALIVE
				 : t == 3 ? SL_HTTP_F_CONN_UPGRADE
					  : SL_HTTP_F_CONN_OTHER;
		return 0;
	}
	/* Transfer-Encoding: nothing may follow chunked, not even a second chunked */
	if (p->te_state & TE_LAST_CHUNKED)
		return -EINVAL;
	t = resolve(p->mask, p->name_len, TE);
	p->te_state |= TE_FIELD_TOKEN | (t == 1 ? TE_LAST_CHUNKED : TE_OTHER);
	return 0;
}

/* One byte (already known to be VCHAR, SP or HTAB) of a Connection or Transfer-Encoding value. */
static int
list_char(struct sl_http_parser *p, unsigned c)
{
	bool ws = c == ' ' || c == '\t';

	switch (p->sub) {
	case L_START:
		if (ws || c == ',')
			return 0;
		if (!(cls[c] & C_TCHAR))
			return -EINVAL;
		p->sub = L_TOKEN;
		p->name_len = 0;
		p->mask = p->field == F_CONNECTION ? 0x7 : 0x1;
		__attribute__((fallthrough));
	case L_TOKEN:
		if (cls[c] & C_TCHAR) {
			if (p->mask)
				p->mask = p->field == F_CONNECTION
					      ? narrow(p->mask, p->name_len, lower(c), CONN)
					      : narrow(p->mask, p->name_len, lower(c), TE);
			p->name_len++;
			return 0;
		}
		if (list_commit(p) < 0)
			return -EINVAL;
		if (c == ',') {
			p->sub = L_START;
			return 0;
		}
		if (!ws)
			return -EINVAL; /* parameters (';') and anything else */
		p->sub = L_AFTER;
		return 0;
	case L_AFTER:
		if (ws)
			return 0;
		if (c == ',') {
			p->sub = L_START;
			return 0;
		}
		return -EINVAL;
	}
	return -EINVAL;
}

/*
 * A run of token bytes in a Connection or Transfer-Encoding list, from s[i] (a tchar, in
 * L_START or L_TOKEN) on: what list_char does for each of them, at once. A token that ends
 * within the piece and began in it is compared whole. Returns the index past the run.
 */
static size_t
list_run(struct sl_http_parser *p, const unsigned char *s, size_t i, size_t n)
{
	const struct name *table = p->field == F_CONNECTION ? CONN : TE;
	size_t j = i + 1, k;

	j = scan_class(s, j, n, C_TCHAR);
	if (p->sub == L_START) {
		p->sub = L_TOKEN;
		p->name_len = 0;
		p->mask = p->field == F_CONNECTION ? 0x7 : 0x1;
	}
	if (p->mask && p->name_len == 0 && j < n) {
		uint16_t m = p->mask;

		p->mask = 0;
		while (m) {
			unsigned b = __builtin_ctz(m);

			m &= m - 1;
			if (token_is(s + i, j - i, &table[b]))
				p->mask = (uint16_t)(1u << b);
		}
	} else {
		for (k = i; k < j && p->mask; k++)
			p->mask = narrow(p->mask, p->name_len + (k - i), lower(s[k]), table);
	}
	p->name_len += j - i;
	return j;
}

/* One byte of the value of an interpreted field; `c` is VCHAR, SP or HTAB. */
static enum sl_http_event
field_char(struct sl_http_parser *p, unsigned c)
{
	bool ws = c == ' ' || c == '\t';

	switch (p->field) {
	case F_CONTENT_LENGTH:
		if (c >= '0' && c <= '9' && p->sub != CL_TRAIL) {
			/* checked before the multiplication, which could wrap around 2^64 */
			if (p->value > (SIZE_LIMIT - 1 - (c - '0')) / 10)
				return fail(p, 400, "Content-Length too large");
			p->value = p->value * 10 + (c - '0');
			p->sub = CL_DIGITS;
			return SL_HTTP_NEED_MORE;
		}
		if (ws && p->sub != CL_START) {
			p->sub = CL_TRAIL;
			return SL_HTTP_NEED_MORE;
		}
		return fail(p, 400, "invalid Content-Length");
	case F_TRANSFER_ENCODING:
		if (list_char(p, c) < 0)
			return fail(p, 400, "invalid Transfer-Encoding");
		return SL_HTTP_NEED_MORE;
	case F_CONNECTION:
		if (list_char(p, c) < 0)
			return fail(p, 400, "invalid Connection");
		return SL_HTTP_NEED_MORE;
	case F_HOST:
		if (ws) {
			p->sub = 1;
			return SL_HTTP_NEED_MORE;
		}
		if (p->sub || !(cls[c] & C_AUTH))
			return fail(p, 400, "invalid Host");
		return SL_HTTP_NEED_MORE;
	case F_EXPECT:
		/* name_len: letters of "100-continue" matched; 0xffff once it cannot match */
		if (p->name_len < 12 && lower(c) == (unsigned char)"100-continue"[p->name_len])
			p->name_len++;
		else if (!(ws && p->name_len == 12))
			p->name_len = 0xffff;
		return SL_HTTP_NEED_MORE;
	}
	return SL_HTTP_NEED_MORE;
}

/* The value of an interpreted field is complete (its CRLF seen). */
static enum sl_http_event
field_end(struct sl_http_parser *p)
{
	struct sl_http_head *h = &p->head;

	switch (p->field) {
	case F_CONTENT_LENGTH:
		if (p->sub == CL_START)
			return fail(p, 400, "invalid Content-Length");
		if ((h->flags & SL_HTTP_F_CONTENT_LENGTH) && h->content_length != p->value)
			return fail(p, 400, "differing Content-Length");
		h->flags |= SL_HTTP_F_CONTENT_LENGTH;
		h->content_length = p->value;
		break;
	case F_TRANSFER_ENCODING:
	case F_CONNECTION:
		if (p->sub == L_TOKEN && list_commit(p) < 0)
			return fail(p, 400, "invalid Transfer-Encoding");
		if (p->field == F_TRANSFER_ENCODING) {
			if (!(p->te_state & TE_FIELD_TOKEN))
				return fail(p, 400, "invalid Transfer-Encoding");
			p->te_state = (p->te_state & ~TE_FIELD_TOKEN) | TE_PRESENT;
		}
		break;
	case F_HOST:
		if (++p->host_count > 1)
			return fail(p, 400, "several Host fields");
		if (p->vend == p->tok)
			return fail(p, 400, "empty Host");
		h->flags |= SL_HTTP_F_HOST;
		h->host.off = p->tok;
		h->host.len = p->vend - p->tok;
		break;
	case F_EXPECT:
		if (p->name_len == 12)
			h->flags |= SL_HTTP_F_EXPECT_CONTINUE;
		break;
	case F_UPGRADE:
		if (p->vend != p->tok)
			h->flags |= SL_HTTP_F_UPGRADE;
		break;
	case F_XFF:
		h->flags |= SL_HTTP_F_XFF;
		break;
	case F_ACCEPT:
		h->flags |= SL_HTTP_F_ACCEPT;
		break;
	}
	return SL_HTTP_NEED_MORE;
}

/* The empty line ending a head is read: settle the framing. Returns SL_HTTP_HEAD or an error. */
static enum sl_http_event
head_end(struct sl_http_parser *p)
{
	struct sl_http_head *h = &p->head;
	bool te = p->te_state & TE_PRESENT, cl = h->flags & SL_HTTP_F_CONTENT_LENGTH;
	bool no_body = false;

	if (te && cl)
		return fail(p, 400, "Content-Length with Transfer-Encoding");
	if (te && h->version == 10)
		return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
	if (te && !(p->te_state & TE_LAST_CHUNKED))
		return fail(p, 400, "Transfer-Encoding not ending in chunked");
	if (p->kind == SL_HTTP_REQUEST) {
		/* the proxy does not interpret codings; only a bare chunked is forwarded */
		if (te && (p->te_state & TE_OTHER))
			return fail(p, 400, "unsupported Transfer-Encoding");
		if (h->version == 11 && !(h->flags & SL_HTTP_F_HOST))
			return fail(p, 400, "missing Host");
		if (h->method == SL_HTTP_M_CONNECT)
			return fail(p, 405, "CONNECT not allowed");
		if ((h->flags & SL_HTTP_F_ASTERISK) && h->method != SL_HTTP_M_OPTIONS)
			return fail(p, 400, "invalid request target");
		if (cl && p->limits->max_body && h->content_length > p->limits->max_body)
			return fail(p, 413, "body too large");
		/* RFC 9110 10.1.1: a 100-continue from an HTTP/1.0 client is ignored */
		if (h->version == 10)
			h->flags &= ~SL_HTTP_F_EXPECT_CONTINUE;
	} else {
		no_body = h->method == SL_HTTP_M_HEAD || h->status < 200 || h->status == 204 ||
			  h->status == 304;
		if (h->status < 200 && h->status != 101)
			h->flags |= SL_HTTP_F_INTERIM;
	}
	if (no_body) {
		h->framing = SL_HTTP_BODY_NONE;
		p->state = S_BODY_END;
	} else if (te) {
		h->flags |= SL_HTTP_F_CHUNKED;
		h->framing = SL_HTTP_BODY_CHUNKED;
		p->state = S_CHUNK_SIZE_START;
		p->pos = 0;
	} else if (cl && h->content_length > 0) {
		h->framing = SL_HTTP_BODY_LENGTH;
		p->remaining = h->content_length;
		p->state = S_BODY_LENGTH;
	} else if (cl || p->kind == SL_HTTP_REQUEST) {
		h->framing = SL_HTTP_BODY_NONE;
		p->state = S_BODY_END;
	} else {
		h->framing = SL_HTTP_BODY_CLOSE;
		p->state = S_BODY_CLOSE;
	}
	return SL_HTTP_HEAD;
}

/*
 * Run the head (or trailer) states over s[0, len); *used gets the bytes consumed. Returns
 * SL_HTTP_NEED_MORE when the piece ran out, SL_HTTP_HEAD at the end of a head, SL_HTTP_DONE at
 * the end of a trailer section, or SL_HTTP_ERROR.
 */
static enum sl_http_event
run_head(struct sl_http_parser *p, const unsigned char *s, size_t len, size_t *used)
{
	const struct sl_http_limits *lim = p->limits;
	struct sl_http_head *h = &p->head;
	uint32_t base = p->pos, room = max_head(p) - base;
	size_t i = 0, n = len < room ? len : room;
	enum sl_http_event ev = SL_HTTP_NEED_MORE;
	unsigned c;

/* a byte of the start line at message offset base + i beyond max_line */
#define LINE_TOO_LONG() (base + i - p->line_start >= lim->max_line)
#define FAIL(st, why)                                                                              \
	do {                                                                                       \
		ev = fail(p, st, why);                                                             \
		goto out;                                                                          \
	} while (0)

	while (i < n) {
		c = s[i];
		switch (p->state) {
		case S_START:
			if (c == '\r') {
				p->state = S_START_LF;
				i++;
				break;
			}
			if (c == '\n')
				FAIL(400, "bare LF");
			p->line_start = base + i;
			h->line.off = base + i;
			p->nbuf = 0;
			p->state = p->kind == SL_HTTP_REQUEST ? S_METHOD : S_RVERSION;
			break;
		case S_START_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			p->state = S_START;
			i++;
			break;
		case S_METHOD:
			/* the common case at once; the byte loop below gives the same result */
			if (p->nbuf == 0 && n - i >= 4 && memcmp(s + i, "GET ", 4) == 0 &&
			    lim->max_line >= 3) {
				h->method_s.off = p->line_start;
				h->method_s.len = 3;
				h->method = SL_HTTP_M_GET;
				p->state = S_TARGET;
				p->sub = T_BEGIN;
				i += 4;
				break;
			}
			if (cls[c] & C_TCHAR) {
				if (LINE_TOO_LONG())
					FAIL(414, "request line too long");
				if (p->nbuf < 8)
					p->mbuf[p->nbuf] = c;
				if (p->nbuf < 9)
					p->nbuf++;
				i++;
				break;
			}
			if (c != ' ' || base + i == p->line_start)
				FAIL(400, "invalid method");
			h->method_s.off = p->line_start;
			h->method_s.len = base + i - p->line_start;
			h->method = p->nbuf <= 8 ? method_of(p->mbuf, p->nbuf) : SL_HTTP_M_OTHER;
			p->state = S_TARGET;
			p->sub = T_BEGIN;
			i++;
			break;
		case S_TARGET:
			if (LINE_TOO_LONG())
				FAIL(414, "request line too long");
			switch (p->sub) {
			case T_BEGIN:
				p->tok = base + i;
				if (c == '/') {
					h->path.off = base + i;
					p->sub = T_PATH;
				} else if (c == '*') {
					p->sub = T_STAR;
					i++;
				} else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
					p->sub = T_SCHEME;
					p->nbuf = 0;
				} else {
					FAIL(400, "invalid request target");
				}
				break;
			case T_PATH: {
				size_t stop = p->line_start + lim->max_line - base;

				if (stop > n)
					stop = n;
				i = scan_target(s, i, stop);
				if (i == n || i == stop)
					break; /* out of bytes, or the line check above fires */
				if (s[i] != ' ')
					FAIL(400, "invalid character in request target");
				h->path.len = base + i - h->path.off;
				goto target_end;
			}
			case T_STAR:
				if (c != ' ')
					FAIL(400, "invalid request target");
				h->flags |= SL_HTTP_F_ASTERISK;
				h->path.off = p->tok;
				h->path.len = 1;
				goto target_end;
			case T_SCHEME:
				if (c == ':') {
					if (!((p->nbuf == 4 && memcmp(p->mbuf, "http", 4) == 0) ||
					      (p->nbuf == 5 && memcmp(p->mbuf, "https", 5) == 0)))
						FAIL(400, "unsupported scheme in request target");
					p->sub = T_SLASH1;
				} else if ((cls[c] & C_SCHEME) && p->nbuf < 6) {
					p->mbuf[p->nbuf++] = lower(c);
				} else {
					FAIL(400, "invalid request target");
				}
				i++;
				break;
			case T_SLASH1:
			case T_SLASH2:
				if (c != '/')
					FAIL(400, "invalid request target");
				if (p->sub == T_SLASH2) {
					h->authority.off = base + i + 1;
					p->sub = T_AUTH;
				} else {
					p->sub = T_SLASH2;
				}
				i++;
				break;
			case T_AUTH:
				if (cls[c] & C_AUTH) {
					i++;
					break;
				}
				if (c != '/' && c != '?' && c != ' ')
					FAIL(400, "invalid authority in request target");
				h->authority.len = base + i - h->authority.off;
				if (h->authority.len == 0)
					FAIL(400, "empty authority in request target");
				h->flags |= SL_HTTP_F_ABSOLUTE;
				h->path.off = base + i;
				p->sub = T_PATH;
				break;
			}
			break;
		target_end:
			h->target.off = p->tok;
			h->target.len = base + i - p->tok;
			p->state = S_VERSION;
			p->nbuf = 0;
			i++;
			break;
		case S_VERSION:
			/* "HTTP/1.x" CRLF at once when the line limit allows, as the byte loop
			 * would */
			if (p->nbuf == 0 && n - i >= 10 && memcmp(s + i, "HTTP/1.", 7) == 0 &&
			    s[i + 7] >= '0' && s[i + 7] <= '9' && s[i + 8] == '\r' &&
			    s[i + 9] == '\n' && base + i + 8 - p->line_start <= lim->max_line) {
				h->version = s[i + 7] == '0' ? 10 : 11;
				h->line.len = base + i + 8 - h->line.off;
				i += 10;
				h->fields.off = base + i;
				p->state = S_FIELD_START;
				break;
			}
			__attribute__((fallthrough));
		case S_RVERSION:
			/*
			 * "HTTP/1.x ddd" and the SP or CR after it at once, when none of these 13
			 * bytes is past the line limit: what the byte loop would do with them.
			 */
			if (p->state == S_RVERSION && p->nbuf == 0 && n - i >= 13 &&
			    memcmp(s + i, "HTTP/1.", 7) == 0 && s[i + 7] >= '0' && s[i + 7] <= '9' &&
			    s[i + 8] == ' ' && s[i + 9] >= '1' && s[i + 9] <= '5' &&
			    s[i + 10] >= '0' && s[i + 10] <= '9' && s[i + 11] >= '0' &&
			    s[i + 11] <= '9' && (s[i + 12] == ' ' || s[i + 12] == '\r') &&
			    base + i + 12 - p->line_start < lim->max_line) {
				h->version = s[i + 7] == '0' ? 10 : 11;
				h->status = (s[i + 9] - '0') * 100 + (s[i + 10] - '0') * 10 +
					    (s[i + 11] - '0');
				if (s[i + 12] == ' ') {
					h->reason.off = base + i + 13;
					p->state = S_REASON;
				} else {
					h->reason.off = base + i + 12;
					h->reason.len = 0;
					h->line.len = base + i + 12 - h->line.off;
					p->state = S_LINE_LF;
				}
				i += 13;
				break;
			}
			/* the CR ending the request line is not part of it */
			if ((p->nbuf < 8 || p->state == S_RVERSION) && LINE_TOO_LONG())
				FAIL(414, "request line too long");
			if (p->nbuf < 8) {
				bool ok = p->nbuf < 5	 ? c == (unsigned char)"HTTP/"[p->nbuf]
					  : p->nbuf == 6 ? c == '.'
							 : c >= '0' && c <= '9';
				if (!ok)
					FAIL(400, "invalid HTTP version");
				p->mbuf[p->nbuf++] = c;
				i++;
				break;
			}
			if (c != (p->state == S_VERSION ? '\r' : ' '))
				FAIL(400, "invalid HTTP version");
			if (p->mbuf[5] != '1')
				FAIL(505, "HTTP version not supported");
			h->version = p->mbuf[7] == '0' ? 10 : 11;
			if (p->state == S_VERSION) {
				h->line.len = base + i - h->line.off;
				p->state = S_LINE_LF;
			} else {
				p->state = S_STATUS;
				p->nbuf = 0;
			}
			i++;
			break;
		case S_STATUS:
			if ((p->nbuf < 3 || c != '\r') && LINE_TOO_LONG())
				FAIL(502, "status line too long");
			if (p->nbuf < 3) {
				if (c < '0' || c > '9' || (p->nbuf == 0 && (c < '1' || c > '5')))
					FAIL(502, "invalid status code");
				h->status = h->status * 10 + (c - '0');
				p->nbuf++;
				i++;
				break;
			}
			if (c == ' ') {
				h->reason.off = base + i + 1;
				p->state = S_REASON;
				i++;
				break;
			}
			if (c != '\r')
				FAIL(502, "invalid status line");
			h->reason.off = base + i;
			h->reason.len = 0;
			h->line.len = base + i - h->line.off;
			p->state = S_LINE_LF;
			i++;
			break;
		case S_REASON:
			while (i < n && ((cls[s[i]] & C_VCHAR) || s[i] == ' ' || s[i] == '\t')) {
				if (LINE_TOO_LONG())
					FAIL(502, "status line too long");
				i++;
			}
			if (i == n)
				break;
			if (s[i] != '\r')
				FAIL(502, "invalid reason phrase");
			h->reason.len = base + i - h->reason.off;
			h->line.len = base + i - h->line.off;
			p->state = S_LINE_LF;
			i++;
			break;
		case S_LINE_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			p->state = S_FIELD_START;
			h->fields.off = base + i + 1;
			i++;
			break;
		case S_FIELD_START:
			if (c == '\r') {
				p->state = S_HEAD_LF;
				i++;
				break;
			}
			if (!(cls[c] & C_TCHAR)) {
				if (c == ' ' || c == '\t')
					FAIL(400, "obs-fold or whitespace before a field");
				if (c == ':')
					FAIL(400, "empty field name");
				if (c == '\n')
					FAIL(400, "bare LF");
				FAIL(400, "invalid character in field name");
			}
			if (!p->trailer && ++h->n_headers > lim->max_headers)
				FAIL(431, "too many header fields");
			p->tok = base + i;
			p->name_len = 1;
			p->mask = p->trailer ? 0 : name_candidates(p, lower(c));
			p->state = S_NAME;
			if (++i == n)
				break;
			/* the states of a field line follow each other within a piece */
			__attribute__((fallthrough));
		case S_NAME: {
			size_t from = i, k;
			unsigned field = F_NONE;

			i = scan_class(s, i, n, C_TCHAR);
			if (p->mask && i < n && s[i] == ':' && p->tok >= base) {
				/* the whole name is in this piece: compare it at once */
				field = match_name(s + (p->tok - base), base + i - p->tok, p->mask);
				p->mask = 0;
			} else {
				/* a piece ends in the name: narrow letter by letter */
				for (k = from; k < i && p->mask; k++)
					p->mask = narrow(p->mask, p->name_len + (k - from),
							 lower(s[k]), KNOWN);
			}
			p->name_len += i - from;
			if (i == n)
				break;
			c = s[i];
			if (c != ':') {
				if (c == ' ' || c == '\t')
					FAIL(400, "whitespace before colon");
				FAIL(400, "invalid character in field name");
			}
			p->field = p->mask ? resolve(p->mask, p->name_len, KNOWN) : field;
			p->sub = 0;
			p->value = 0;
			p->name_len = 0;
			p->state = S_VALUE_OWS;
			if (++i == n)
				break;
		}
			__attribute__((fallthrough));
		case S_VALUE_OWS:
			/* most fields have one SP after the colon */
			if (n - i >= 2 && s[i] == ' ' && s[i + 1] > ' ')
				i++;
			else
				while (i < n && (s[i] == ' ' || s[i] == '\t'))
					i++;
			if (i == n)
				break;
			p->tok = p->vend = base + i;
			p->state = S_VALUE;
			__attribute__((fallthrough));
		case S_VALUE:
			if (p->field == F_NONE || p->field == F_ACCEPT) {
				size_t from = i, j;

				i = scan_value(s, i, n);
				for (j = i; j > from && (s[j - 1] == ' ' || s[j - 1] == '\t'); j--)
					;
				if (j > from)
					p->vend = base + j;
			} else {
				if (p->field == F_HOST && !p->sub) {
					/* the common Host value: host[:port] characters only */
					size_t from = i;

					i = scan_class(s, i, n, C_AUTH);
					if (i > from)
						p->vend = base + i;
				}
				for (; i < n; i++) {
					c = s[i];
					if (!(cls[c] & C_VCHAR) && c != ' ' && c != '\t')
						break;
					if ((p->field == F_CONNECTION ||
					     p->field == F_TRANSFER_ENCODING) &&
					    p->sub != L_AFTER && (cls[c] & C_TCHAR)) {
						i = list_run(p, s, i, n);
						p->vend = base + i;
						i--; /* the loop's i++ */
						continue;
					}
					if (field_char(p, c) == SL_HTTP_ERROR) {
						ev = SL_HTTP_ERROR;
						goto out;
					}
					if (c != ' ' && c != '\t')
						p->vend = base + i + 1;
				}
			}
			if (i == n)
				break;
			c = s[i];
			if (c != '\r') {
				if (c == '\n')
					FAIL(400, "bare LF");
				FAIL(400, "control character in field value");
			}
			p->state = S_VALUE_LF;
			if (++i == n)
				break;
			c = s[i];
			__attribute__((fallthrough));
		case S_VALUE_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			if (field_end(p) == SL_HTTP_ERROR) {
				ev = SL_HTTP_ERROR;
				goto out;
			}
			p->field = F_NONE;
			p->state = S_FIELD_START;
			i++;
			break;
		case S_HEAD_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			i++;
			if (p->trailer) {
				p->state = S_DONE;
				ev = SL_HTTP_DONE;
				goto out;
			}
			h->head_len = base + i;
			h->fields.len = base + i - h->fields.off;
			ev = head_end(p);
			goto out;
		default:
			FAIL(400, "parser misuse");
		}
	}
	if (n < len)
		FAIL(p->trailer ? 400 : 431,
		     p->trailer ? "trailer section too large" : "header section too large");
out:
	*used = i;
	if (ev != SL_HTTP_HEAD && p->state < S_BODY_LENGTH)
		p->pos = base + i;
	return ev;
#undef FAIL
#undef LINE_TOO_LONG
}

/* One byte of the chunk extensions (after the size, before the CRLF). */
static int
chunk_ext(struct sl_http_parser *p, unsigned c)
{
	bool ws = c == ' ' || c == '\t', tchar = cls[c] & C_TCHAR;

	switch (p->sub) {
	case E_BWS:
		if (ws)
			return 0;
		if (c != ';')
			return -EINVAL;
		p->sub = E_NAME_START;
		return 0;
	case E_NAME_START:
		if (ws)
			return 0;
		if (!tchar)
			return -EINVAL;
		p->sub = E_NAME;
		return 0;
	case E_NAME:
	case E_AFTER_NAME:
		if (tchar && p->sub == E_NAME)
			return 0;
		if (ws)
			p->sub = E_AFTER_NAME;
		else if (c == '=')
			p->sub = E_VAL_START;
		else if (c == ';')
			p->sub = E_NAME_START;
		else if (c == '\r' && p->sub == E_NAME)
			p->state = S_CHUNK_LF;
		else
			return -EINVAL;
		return 0;
	case E_VAL_START:
		if (ws)
			return 0;
		if (c == '"')
			p->sub = E_QUOTED;
		else if (tchar)
			p->sub = E_VAL_TOKEN;
		else
			return -EINVAL;
		return 0;
	case E_VAL_TOKEN:
	case E_AFTER_QUOTE:
		if (tchar && p->sub == E_VAL_TOKEN)
			return 0;
		if (ws)
			p->sub = E_BWS;
		else if (c == ';')
			p->sub = E_NAME_START;
		else if (c == '\r')
			p->state = S_CHUNK_LF;
		else
			return -EINVAL;
		return 0;
	case E_QUOTED:
		if (c == '"')
			p->sub = E_AFTER_QUOTE;
		else if (c == '\\')
			p->sub = E_QPAIR;
		else if (!(cls[c] & C_QD))
			return -EINVAL;
		return 0;
	case E_QPAIR:
		if (!(cls[c] & C_VCHAR) && !ws)
			return -EINVAL;
		p->sub = E_QUOTED;
		return 0;
	}
	return -EINVAL;
}

/*
 * Run the chunk framing states over s[0, len) until payload bytes or the trailer section
 * start, the piece ends or an error. *used gets the bytes consumed.
 */
static enum sl_http_event
run_chunk(struct sl_http_parser *p, const unsigned char *s, size_t len, size_t *used)
{
	size_t i = 0;
	unsigned c;

#define FAIL(why)                                                                                  \
	do {                                                                                       \
		*used = i;                                                                         \
		return fail(p, 400, why);                                                          \
	} while (0)

	while (i < len) {
		c = s[i];
		/* p->pos counts the bytes of the chunk line, against SL_HTTP_CHUNK_LINE_MAX */
		if (p->state <= S_CHUNK_LF && ++p->pos > SL_HTTP_CHUNK_LINE_MAX)
			FAIL("chunk line too long");
		switch (p->state) {
		case S_CHUNK_SIZE_START:
			if (!(cls[c] & C_HEX))
				FAIL("invalid chunk size");
			p->value = hexval(c);
			p->state = S_CHUNK_SIZE;
			break;
		case S_CHUNK_SIZE:
			if (cls[c] & C_HEX) {
				/* checked before the shift, which could push bits out */
				if (p->value >= SIZE_LIMIT >> 4)
					FAIL("chunk size too large");
				p->value = p->value << 4 | hexval(c);
			} else if (c == '\r') {
				p->state = S_CHUNK_LF;
			} else if (c == ';' || c == ' ' || c == '\t') {
				p->state = S_CHUNK_EXT;
				p->sub = c == ';' ? E_NAME_START : E_BWS;
			} else {
				FAIL("invalid chunk size");
			}
			break;
		case S_CHUNK_EXT:
			if (chunk_ext(p, c) < 0)
				FAIL("invalid chunk extension");
			break;
		case S_CHUNK_LF:
			if (c != '\n')
				FAIL("bare CR in chunk line");
			i++;
			if (p->value == 0) {
				/* last chunk: the trailer section follows, read like a head */
				p->trailer = 1;
				p->state = S_FIELD_START;
				p->pos = 0;
				*used = i;
				return SL_HTTP_NEED_MORE;
			}
			if (p->kind == SL_HTTP_REQUEST && p->limits->max_body &&
			    p->body_total + p->value > p->limits->max_body) {
				*used = i;
				return fail(p, 413, "body too large");
			}
			p->body_total += p->value;
			p->remaining = p->value;
			p->state = S_CHUNK_DATA;
			*used = i;
			return SL_HTTP_NEED_MORE;
		case S_CHUNK_DATA_CR:
			if (c != '\r')
				FAIL("chunk data not followed by CRLF");
			p->state = S_CHUNK_DATA_LF;
			break;
		case S_CHUNK_DATA_LF:
			if (c != '\n')
				FAIL("bare CR after chunk data");
			p->state = S_CHUNK_SIZE_START;
			p->pos = 0;
			break;
		default:
			FAIL("parser misuse");
		}
		i++;
	}
	*used = i;
	return SL_HTTP_NEED_MORE;
#undef FAIL
}

enum sl_http_event
sl_http_parse(struct sl_http_parser *p, const char *buf, size_t len, struct sl_http_result *r)
{
	const unsigned char *s = (const unsigned char *)buf;
	enum sl_http_event ev;
	size_t i = 0, used, n;

	r->data_off = r->data_len = 0;
	for (;;) {
		switch (p->state) {
		case S_BODY_LENGTH:
		case S_CHUNK_DATA:
			if (i == len) {
				ev = SL_HTTP_NEED_MORE;
				goto out;
			}
			n = len - i < p->remaining ? len - i : p->remaining;
			r->data_off = i;
			r->data_len = n;
			i += n;
			p->remaining -= n;
			if (p->remaining == 0)
				p->state = p->state == S_CHUNK_DATA ? S_CHUNK_DATA_CR : S_DONE;
			ev = SL_HTTP_BODY;
			goto out;
		case S_BODY_CLOSE:
			if (i == len) {
				ev = SL_HTTP_NEED_MORE;
				goto out;
			}
			r->data_off = i;
			r->data_len = len - i;
			i = len;
			ev = SL_HTTP_BODY;
			goto out;
		case S_CHUNK_SIZE_START:
		case S_CHUNK_SIZE:
		case S_CHUNK_EXT:
		case S_CHUNK_LF:
		case S_CHUNK_DATA_CR:
		case S_CHUNK_DATA_LF:
			if (i == len) {
				ev = SL_HTTP_NEED_MORE;
				goto out;
			}
			ev = run_chunk(p, s + i, len - i, &used);
			i += used;
			if (ev == SL_HTTP_ERROR)
				goto out;
			continue;
		case S_BODY_END:
			p->state = p->kind == SL_HTTP_RESPONSE && p->head.status == 101 ? S_UPGRADE
											: S_DONE;
			continue;
		case S_DONE:
			ev = SL_HTTP_DONE;
			goto out;
		case S_UPGRADE:
			ev = SL_HTTP_UPGRADE;
			goto out;
		case S_ERROR:
			ev = SL_HTTP_ERROR;
			goto out;
		default: /* the head or the trailer section */
			if (i == len) {
				ev = SL_HTTP_NEED_MORE;
				goto out;
			}
			ev = run_head(p, s + i, len - i, &used);
			i += used;
			if (ev != SL_HTTP_NEED_MORE)
				goto out;
			continue;
		}
	}
out:
	r->consumed = i;
	return ev;
}

enum sl_http_event
sl_http_parse_eof(struct sl_http_parser *p)
{
	switch (p->state) {
	case S_BODY_CLOSE:
		p->state = S_DONE;
		return SL_HTTP_DONE;
	case S_START:
	case S_BODY_END:
	case S_DONE:
	case S_UPGRADE:
		return SL_HTTP_NEED_MORE;
	case S_ERROR:
		return SL_HTTP_ERROR;
	}
	return fail(p, 400, "truncated message");
}

bool
sl_http_keep_alive(const struct sl_http_head *h)
{
	if (h->framing == SL_HTTP_BODY_CLOSE || (h->flags & SL_HTTP_F_CONN_CLOSE))
		return false;
	if (h->status == 101)
		return false;
	return h->version == 11 || (h->flags & SL_HTTP_F_CONN_KEEPALIVE);
}

bool
sl_http_idempotent(enum sl_http_method m)
{
	switch (m) {
	case SL_HTTP_M_GET:
	case SL_HTTP_M_HEAD:
	case SL_HTTP_M_OPTIONS:
	case SL_HTTP_M_TRACE:
	case SL_HTTP_M_PUT:
	case SL_HTTP_M_DELETE:
		return true;
	default:
		return false;
	}
}
