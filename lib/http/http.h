/* SPDX-License-Identifier: MIT */
/*
 * lib/http: an incremental HTTP/1.1 parser for requests and responses, the writers of the
 * rewritten request and response heads, and sluice's own error pages. Pure C: no DPDK, no
 * allocation, no copy; the proxy feeds it the pieces (mbuf segments) of a byte stream.
 *
 * The contract in short (lib/http/README.md has the long form):
 *
 * - The parser is fed a stream one piece at a time, (buf, len), and may be cut at ANY byte:
 *   the result (events, spans, errors) is the same as when the whole stream comes in one piece.
 *   It never looks back at an earlier piece and never copies a byte.
 * - The head (start line and header fields, up to and including the empty line) is bounded by
 *   `max_head` (at most SL_HTTP_HEAD_MAX). All head spans the parser reports (method, target,
 *   path, Host, reason...) are offsets from the first byte of the message, NOT pointers into a
 *   piece: the caller keeps the head bytes contiguous in a head buffer of `max_head` bytes (or
 *   points into one segment when the whole head arrived in it), and reads them there. This is
 *   what the proxy needs anyway, since it rewrites the head into a fresh buffer.
 * - The body is never kept: in the body phase every byte the parser consumes belongs to the
 *   message (chunk framing included), so a proxy relaying the body verbatim forwards exactly the
 *   consumed bytes, by reference; SL_HTTP_BODY events also give the payload bytes' span within
 *   the current piece for callers that want the decoded data.
 * - Line endings are CRLF only. A bare LF or a bare CR anywhere in a head, a chunk line or a
 *   trailer is a 400 (a 502 for a response): strict on purpose, as lenient line parsing is the
 *   root of most request-smuggling differentials.
 * - An error is sticky: the parser stays in the error state, with `status` (400, 405, 413, 414,
 *   431, 505 for requests; 502 for every response error) and `reason`, a short static string.
 *   The connection must be closed after it.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Head spans are 16-bit offsets, so no head may be longer than this. */
#define SL_HTTP_HEAD_MAX 65535u

/* Defaults, close to nginx's large_client_header_buffers and HAProxy's tune.bufsize. */
#define SL_HTTP_DEFAULT_MAX_LINE 8192u	 /* request line: past it 414 */
#define SL_HTTP_DEFAULT_MAX_HEAD 16384u	 /* start line + fields + empty line: past it 431 */
#define SL_HTTP_DEFAULT_MAX_HEADERS 100u /* header fields: past it 431 */
#define SL_HTTP_CHUNK_LINE_MAX 4096u	 /* chunk-size line with its extensions: past it 400 */

/* All but max_body must be non-zero; a NULL limits pointer means the defaults. */
struct sl_http_limits {
	uint32_t max_line;    /* request/status line without CRLF; > it: 414 (502 for responses) */
	uint32_t max_head;    /* whole head; > it: 431; also bounds the trailer section */
	uint32_t max_headers; /* number of header fields; > it: 431 */
	uint64_t max_body;    /* request payload bytes (chunked: summed); > it: 413; 0 = no limit */
};

enum sl_http_kind {
	SL_HTTP_REQUEST,
	SL_HTTP_RESPONSE,
};

enum sl_http_method {
	SL_HTTP_M_OTHER = 0, /* a valid token that is none of the below */
	SL_HTTP_M_GET,
	SL_HTTP_M_HEAD,
	SL_HTTP_M_POST,
	SL_HTTP_M_PUT,
	SL_HTTP_M_DELETE,
	SL_HTTP_M_CONNECT,
	SL_HTTP_M_OPTIONS,
	SL_HTTP_M_TRACE,
	SL_HTTP_M_PATCH,
};

/* How the body of a message is delimited, known once the head is complete. */
enum sl_http_framing {
	SL_HTTP_BODY_NONE,   /* no body: requests without CL/TE, HEAD/1xx/204/304 responses, CL 0 */
	SL_HTTP_BODY_LENGTH, /* Content-Length bytes */
	SL_HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	SL_HTTP_BODY_CLOSE,   /* responses only: until the backend closes (sl_http_parse_eof) */
};

/* Flags of the head (struct sl_http_head.flags). */
#define SL_HTTP_F_CONN_CLOSE (1u << 0)	    /* Connection: close */
#define SL_HTTP_F_CONN_KEEPALIVE (1u << 1)  /* Connection: keep-alive */
#define SL_HTTP_F_CONN_UPGRADE (1u << 2)    /* Connection: upgrade */
#define SL_HTTP_F_CONN_OTHER (1u << 3)	    /* Connection names another header (to remove) */
#define SL_HTTP_F_UPGRADE (1u << 4)	    /* an Upgrade header field is present */
#define SL_HTTP_F_EXPECT_CONTINUE (1u << 5) /* Expect: 100-continue (HTTP/1.1) */
#define SL_HTTP_F_CONTENT_LENGTH (1u << 6)  /* Content-Length present (value in content_length) */
#define SL_HTTP_F_CHUNKED (1u << 7)	    /* Transfer-Encoding with a final chunked */
#define SL_HTTP_F_HOST (1u << 8)	    /* a Host field is present (span in host) */
#define SL_HTTP_F_ABSOLUTE (1u << 9)	    /* request target in absolute form (authority set) */
#define SL_HTTP_F_ASTERISK (1u << 10)	    /* request target "*" (OPTIONS only) */
#define SL_HTTP_F_XFF (1u << 11)	    /* an X-Forwarded-For field is present */
#define SL_HTTP_F_INTERIM (1u << 12)	    /* response 1xx other than 101: a final one follows */
#define SL_HTTP_F_ACCEPT (1u << 13)	    /* a request has an Accept field */

/* A span of the head: bytes [off, off + len) from the first byte of the message. */
struct sl_http_span {
	uint16_t off;
	uint16_t len;
};

/* What the parser learnt from a head; valid from the SL_HTTP_HEAD event on. */
struct sl_http_head {
	uint16_t head_len;	       /* bytes of the head, empty line included */
	uint16_t n_headers;	       /* header fields */
	uint16_t flags;		       /* SL_HTTP_F_* */
	uint8_t version;	       /* 10 or 11 (HTTP/1.x with x >= 1 counts as 11) */
	uint8_t method;		       /* enum sl_http_method; responses: the request's, as given */
	uint16_t status;	       /* responses: 100..599 */
	uint8_t framing;	       /* enum sl_http_framing */
	struct sl_http_span line;      /* start line without CRLF (after skipped empty lines) */
	struct sl_http_span method_s;  /* requests */
	struct sl_http_span target;    /* requests: the request target as sent */
	struct sl_http_span path;      /* requests: origin-form part of the target (path?query) */
	struct sl_http_span authority; /* absolute form: host[:port]; routes instead of Host */
	struct sl_http_span host;      /* Host value, trimmed (when SL_HTTP_F_HOST) */
	struct sl_http_span reason;    /* responses: reason phrase (may be empty) */
	struct sl_http_span fields;    /* the header fields: from the first one to the empty line */
	uint64_t content_length;       /* when SL_HTTP_F_CONTENT_LENGTH */
};

/* The parser's state: 136 bytes on x86-64, no pointer into any piece. Treat as opaque. */
struct sl_http_parser {
	const struct sl_http_limits *limits;
	uint8_t kind;  /* enum sl_http_kind */
	uint8_t state; /* internal enum */
	uint8_t sub;   /* sub-state of the value of a field the parser interprets */
	uint8_t field; /* which interpreted field the current line is */
	uint16_t mask; /* candidate field names while the name is read */
	uint16_t name_len;
	uint16_t tok;	 /* start of the token being read (message offset) */
	uint16_t vend;	 /* value: end of its last non-whitespace byte (message offset) */
	uint16_t status; /* error status; 0 while no error */
	uint8_t host_count;
	uint8_t te_state; /* Transfer-Encoding codings seen so far (internal) */
	uint8_t trailer;  /* reading the trailer section of a chunked body */
	uint8_t nbuf;	  /* bytes in mbuf (method prefix, version, status digits) */
	char mbuf[9];
	uint32_t pos;	     /* message bytes consumed so far while in the head or trailers */
	uint32_t line_start; /* message offset (head) / bytes (chunk line, trailers) of the line */
	uint64_t value;	     /* number being read: Content-Length, chunk size */
	uint64_t remaining;  /* body: bytes left of the body or of the current chunk */
	uint64_t body_total; /* request payload so far, against max_body */
	const char *reason;  /* error reason, static */
	struct sl_http_head head;
};

/* Result of one sl_http_parse call. */
enum sl_http_event {
	SL_HTTP_NEED_MORE, /* the whole piece is consumed; feed the next one */
	SL_HTTP_HEAD,	   /* the head is complete (parser->head); consumed ends after its CRLF */
	SL_HTTP_BODY,	   /* payload bytes at buf[data_off, data_off + data_len) */
	SL_HTTP_DONE,	   /* the message is complete; consumed ends just after its last byte */
	SL_HTTP_UPGRADE,   /* after a 101 head: the connection is raw bytes from here on (the
			    * proxy checks that the request asked for an upgrade) */
	SL_HTTP_ERROR,	   /* parser->status and parser->reason say why; close the connection */
};

struct sl_http_result {
	size_t consumed; /* bytes of the piece that this call took; the rest is not looked at */
	size_t data_off; /* SL_HTTP_BODY: payload span within the piece */
	size_t data_len;
};

/*
 * Prepare `p` to parse one message of `kind`. `limits` must outlive the parser (the proxy points
 * it into its configuration); a max_head above SL_HTTP_HEAD_MAX counts as SL_HTTP_HEAD_MAX.
 * For a response, `req_method` is the method of the request it answers (a response to HEAD has
 * no body); for a request it is ignored.
 */
void sl_http_parser_init(struct sl_http_parser *p, enum sl_http_kind kind,
			 const struct sl_http_limits *limits, enum sl_http_method req_method);

/*
 * Start the next message on the same stream (pipelined requests, the final response after a
 * 1xx): keeps kind, limits and (for responses) the request method; the response to another
 * request takes sl_http_parser_init() with that request's method. The caller feeds the bytes
 * after the previous message's DONE.
 */
void sl_http_parser_next(struct sl_http_parser *p);

/*
 * Feed the piece buf[0, len). Returns the event and fills `r`: the parser consumed
 * r->consumed bytes of the piece and stops early only to report an event, so the caller calls
 * again with the rest (buf + consumed, len - consumed). After SL_HTTP_HEAD call again even when
 * len is 0: a message without body then reports SL_HTTP_DONE at once. After SL_HTTP_DONE the
 * parser consumes nothing until sl_http_parser_next(); after SL_HTTP_UPGRADE and
 * SL_HTTP_ERROR, nothing ever. With a request parser, the bytes of the head must be kept by the
 * caller as the header comment says, if it wants to read the spans in parser->head.
 */
enum sl_http_event sl_http_parse(struct sl_http_parser *p, const char *buf, size_t len,
				 struct sl_http_result *r);

/*
 * The peer closed its sending side. Returns SL_HTTP_DONE when that ends a close-delimited
 * response body, SL_HTTP_NEED_MORE when no byte of a message had arrived (a clean close between
 * messages), and SL_HTTP_ERROR (status 400, or 502 for responses, reason "truncated message")
 * when a message was cut short.
 */
enum sl_http_event sl_http_parse_eof(struct sl_http_parser *p);

/*
 * Whether the connection stays open after this message, from the peer's point of view:
 * HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive"; never after
 * a close-delimited response body. A proxy ANDs the request's answer with the response's.
 */
bool sl_http_keep_alive(const struct sl_http_head *h);

/* The request method is safe to send twice (retry on another backend): GET HEAD OPTIONS
 * TRACE PUT DELETE. */
bool sl_http_idempotent(enum sl_http_method m);

/*
 * Iterate the header fields of a head the parser accepted: `*pos` starts at 0 (from then on it
 * is opaque). Returns true and sets the name and value spans (value trimmed of OWS) while a
 * field remains. `head` is the caller's copy of the head bytes.
 */
bool sl_http_header_next(const char *head, const struct sl_http_head *h, uint32_t *pos,
			 struct sl_http_span *name, struct sl_http_span *value);

/* The first field named `name` (case-insensitive; `name` lower case). Returns true if found. */
bool sl_http_header_find(const char *head, const struct sl_http_head *h, const char *name,
			 struct sl_http_span *value);

/* What the proxy adds to a request it forwards. NULL strings are left out. */
struct sl_http_fwd {
	const char *client_ip;	 /* text; appended to X-Forwarded-For, X-Real-IP (replaced) */
	const char *proto;	 /* "http" or "https": X-Forwarded-Proto (replaced) */
	const char *via;	 /* pseudonym in Via, e.g. "sluice": "Via: 1.1 sluice" appended */
	const char *host;	 /* Host to add when the request has none (HTTP/1.0 client) */
	const char *prefix_from; /* path rewrite: a path beginning with prefix_from ... */
	const char *prefix_to;	 /* ... has that prefix replaced by prefix_to */
	bool upgrade;		 /* forward Upgrade and send "Connection: upgrade" */
};

/*
 * Write the request head to send to a backend into out[0, cap): "METHOD path HTTP/1.1", the
 * fields without the hop-by-hop ones (Connection and every field it names, Keep-Alive,
 * Proxy-Connection, TE, Trailer, and Upgrade unless fwd->upgrade), X-Forwarded-For extended
 * with the client address, X-Forwarded-Proto and X-Real-IP replaced, one Content-Length
 * (duplicates folded), Via appended, Host kept (the target's authority in absolute form wins),
 * and the empty line. `head` holds the head bytes the parser accepted, `h` what it learnt.
 * Returns the number of bytes written or -ENOSPC when out is too small.
 */
int sl_http_write_request_head(const char *head, const struct sl_http_head *h,
			       const struct sl_http_fwd *fwd, char *out, size_t cap);

/* ---- Response security fields and CORS (http_secure.c, http_cors.c) ---- */

/* The `security:` settings, as lib/http writes them. Everything off when zeroed. */
struct sl_http_secure {
	bool hsts;		     /* Strict-Transport-Security: max-age=N (HTTPS only) */
	uint32_t hsts_max_age;	     /* seconds */
	const char *frame_options;   /* X-Frame-Options value ("DENY", "SAMEORIGIN") or NULL */
	bool nosniff;		     /* X-Content-Type-Options: nosniff */
	const char *referrer_policy; /* Referrer-Policy value, or NULL / "" for none */
	bool xss;		     /* legacy X-XSS-Protection: 1; mode=block */
};

/*
 * Write the security fields ("Name: value\r\n" each) into out[0, cap), leaving out those the
 * response head (`head`, `h`) already has, whatever their case, so a backend's own value wins
 * and no field appears twice. `h` NULL: a response sluice makes, nothing to leave out.
 * Strict-Transport-Security only when `tls` (RFC 6797 7.2: never over plain HTTP).
 * Returns bytes written (0 when nothing applies) or -ENOSPC.
 */
int sl_http_write_secure(const struct sl_http_secure *sec, bool tls, const char *head,
			 const struct sl_http_head *h, char *out, size_t cap);

/*
 * Insert `fields` (n bytes of complete "Name: value\r\n" lines) at the end of the head of the
 * response in buf[0, len) (before its empty line), moving the body up. Returns the new length,
 * -ENOSPC when cap is too small, -EINVAL when buf holds no complete head.
 */
int sl_http_insert_fields(char *buf, size_t len, size_t cap, const char *fields, size_t n);

/* The `cors:` settings. Origins in lower case; "*" in a list means any. */
struct sl_http_cors {
	const char *const *origins;
	unsigned int n_origins;
	const char *const *methods; /* empty: the CORS-safelisted GET, HEAD, POST only */
	unsigned int n_methods;
	const char *const *headers; /* besides the safelisted Accept, Accept-Language,
				     * Content-Language, Content-Type */
	unsigned int n_headers;
	uint32_t max_age; /* Access-Control-Max-Age; 0 = not sent */
	bool credentials; /* Access-Control-Allow-Credentials: true (never with "*") */
};

#define SL_HTTP_CORS_NONE (-1) /* no Origin field, or an origin not allowed */
#define SL_HTTP_CORS_ANY (-2)  /* allowed through "*" */

/*
 * Classify a request: *match is the index of the allowed origin its Origin field equals
 * (scheme and host case-insensitive, otherwise exact: the port must match as written),
 * SL_HTTP_CORS_ANY, or SL_HTTP_CORS_NONE. Returns true when the request is a preflight
 * (OPTIONS with Origin and Access-Control-Request-Method), which sluice answers itself.
 */
bool sl_http_cors_request(const struct sl_http_cors *c, const char *head,
			  const struct sl_http_head *h, int *match);

/*
 * The answer to a preflight request (`head`, `h`): "204 No Content" with
 * Access-Control-Allow-Origin, -Methods, -Headers, -Max-Age and -Credentials when the origin
 * matched and the requested method and every requested header are allowed; the same 204 with
 * no Access-Control-* field otherwise (the browser then fails the preflight, as it would on a
 * 403). `extra` (extra_len bytes of field lines, e.g. the security fields) is added; `close`
 * adds "Connection: close". Returns bytes written or -ENOSPC.
 */
int sl_http_write_preflight(const struct sl_http_cors *c, const char *head,
			    const struct sl_http_head *h, int match, const char *extra,
			    size_t extra_len, bool close, char *out, size_t cap);

/*
 * The CORS fields of an actual response for a request classified `match`:
 * Access-Control-Allow-Origin ("*", or the origin with Vary: Origin) and, when configured,
 * Access-Control-Allow-Credentials. A disallowed origin gets no Access-Control-* field, only
 * "Vary: Origin" when the answer depends on the origin (no "*" in the list), so that a cache
 * keeps the answers apart (not when the head's Vary names Origin already, or is "*").
 * Nothing when the response head `h` (may be NULL) already has an
 * Access-Control-Allow-Origin: the backend does CORS itself. Returns bytes or -ENOSPC.
 */
int sl_http_write_cors_fields(const struct sl_http_cors *c, int match, const char *head,
			      const struct sl_http_head *h, char *out, size_t cap);

/* What the proxy changes in a response it relays. */
struct sl_http_fwd_resp {
	const char *via; /* as in struct sl_http_fwd */
	bool close;	 /* the client connection closes after this response: "Connection: close" */
	bool keep_alive_10; /* HTTP/1.0 client kept alive: "Connection: keep-alive" */
	/* The body goes de-chunked and close-delimited (a chunked response to an HTTP/1.0
	 * client): Transfer-Encoding is left out; set close too. */
	bool dechunk;
	/* Final responses (status >= 200) get these fields, NULL = none; see above. */
	const struct sl_http_secure *secure;
	bool tls; /* the client connection is HTTPS: HSTS may be sent */
	const struct sl_http_cors *cors;
	int cors_match; /* from sl_http_cors_request */
};

/*
 * Write the response head to send to the client: "HTTP/1.1 status reason", the fields without
 * the hop-by-hop ones (Upgrade kept for a 101, with "Connection: upgrade"), Via appended, the
 * Connection field `fwd` asks for, and the empty line. Returns bytes written or -ENOSPC.
 */
int sl_http_write_response_head(const char *head, const struct sl_http_head *h,
				const struct sl_http_fwd_resp *fwd, char *out, size_t cap);

/* The standard reason phrase of a status ("Bad Request"), "Unknown" for others. */
const char *sl_http_reason(unsigned status);

/*
 * Whether a client sending this Accept value prefers application/json over text/html: the
 * media range that matches each most specifically gives its q value; JSON wins on a higher q,
 * or on an equal q when its range is more specific ("application/json, *\/\*" is JSON,
 * "*\/\*" and a browser's Accept are HTML). NULL or empty: HTML.
 */
bool sl_http_accept_json(const char *accept, size_t len);

/*
 * Write a complete response that sluice makes itself (400, 404, 408, 413, 414, 429, 431, 502,
 * 503, 504, and any other status with its reason phrase) into out[0, cap): a small HTML page,
 * or JSON {"status":..,"error":".."} when `json`. `close` adds "Connection: close".
 * Returns the number of bytes written or -ENOSPC.
 */
int sl_http_write_error(unsigned status, bool json, bool close, char *out, size_t cap);
/* The same with "Retry-After: retry_after_s" (seconds; 0 = no field): 429 and 503 pages. */
int sl_http_write_error_retry(unsigned status, bool json, bool close, uint32_t retry_after_s,
			      char *out, size_t cap);

/*
 * A redirect (301, 302, 307, 308) to `location` (len bytes, checked for CR, LF and other
 * control characters: -EINVAL), with a small body. Returns bytes written, -ENOSPC or -EINVAL.
 */
int sl_http_write_redirect(unsigned status, const char *location, size_t len, bool close, char *out,
			   size_t cap);

/* A 200 (or other status) with a text/plain body `text` (NUL-terminated), e.g. an ACME HTTP-01
 * key authorization. Returns bytes written, -ENOSPC or -EINVAL. */
int sl_http_write_text(unsigned status, const char *text, bool close, char *out, size_t cap);

#endif /* SL_HTTP_H */
