/* SPDX-License-Identifier: MIT */
/*
 * The configuration schema: one table of keys per section, and the walker that applies a YAML
 * mapping to a struct through such a table. The walker rejects unknown and repeated keys before
 * it reads any value, then parses in two phases: phase 0 for plain keys, phase 1 for the
 * children (services, locations, backends) so that a child always inherits from a parent that
 * is complete, wherever the operator wrote the parent's keys.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "config.h"
#include "config_private.h"

struct field;
struct section;

typedef int parse_fn(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		     yaml_node_t *val, void *obj);

#define F_REQUIRED 0x1
#define F_LATE 0x2 /* phase 1: after every other key of the mapping */

struct field {
	const char *key;
	parse_fn *parse;
	size_t off;	  /* member offset in the object the section fills */
	size_t size;	  /* member size: integer width, or string capacity */
	long long lo, hi; /* integer range; milliseconds for durations; bytes for sizes */
	const struct section *sub;
	unsigned int flags;
};

struct section {
	const char *name; /* for messages: "unknown key 'x' in <name>" */
	const struct field *fields;
	size_t n_fields;
	void (*begin)(void *obj); /* the block is present: e.g. enabled = true */
	int (*finish)(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen);
};

#define MAX_FIELDS 32
#define UNBOUNDED ((long long)UINT32_MAX)

#define EXPECT_INT "an integer"
#define EXPECT_BOOL "a boolean (true or false)"
#define EXPECT_DURATION "a duration like 5s, 250ms or 1m"
#define EXPECT_BYTES "a size in bytes like 262144 or 256k"
#define EXPECT_NUMBER "a number"
#define EXPECT_STRING "a string"

static const struct section top_section, dataplane_section, port_section, tcp_section,
    test_services_section, forward_section, hc_section, thresholds_section, rl_section, cb_section, cp_section,
    queue_section, timeouts_section, limits_section, cors_section, security_section, tls_section, service_tls_section, acme_section, admin_section,
    auth_section, admin_api_section, access_log_section, service_section, location_section, route_section,
    backend_section;
static const struct section od_section, ss_section; /* outlier_detection, slow_start */
static const struct section btls_section;	    /* backend_tls */

static int walk(struct sl__config_ctx *c, yaml_node_t *node, const char *what,
		const struct section *s, void *obj);

/* ------------------------------------------------------------------ node helpers */

static unsigned long
line_of(const yaml_node_t *n)
{
	return (unsigned long)n->start_mark.line + 1;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcasecmp(v, "null"));
}

/* What a node is, for "expected X, got Y". */
static const char *
describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	if (is_null(n))
		return "nothing";
	snprintf(buf, len, "'%.48s%s'", (const char *)n->data.scalar.value,
		 n->data.scalar.length > 48 ? "..." : "");
	return buf;
}

static int
expected(struct sl__config_ctx *c, const yaml_node_t *n, const char *what, const char *kind)
{
	char buf[64];

	return sl__config_fail(c, n, "expected %s for '%s', got %s", kind, what,
			       describe(n, buf, sizeof(buf)));
}

/* The text of a scalar that holds a value (not null, no NUL byte inside). */
static int
get_scalar(struct sl__config_ctx *c, yaml_node_t *n, const char *what, const char *kind,
	   const char **out)
{
	*out = NULL; /* set on every path: callers read it only when this returns 0, which the
		      * compiler cannot tell (-Wmaybe-uninitialized in release builds) */
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return expected(c, n, what, kind);
	*out = (const char *)n->data.scalar.value;
	if (strlen(*out) != n->data.scalar.length)
		return sl__config_fail(c, n, "'%s' contains a NUL character", what);
	return 0;
}

static int
get_sequence(struct sl__config_ctx *c, yaml_node_t *n, const char *what, yaml_node_item_t **items,
	     size_t *count)
{
	if (is_null(n)) { /* `backends:` with nothing after it: an empty list */
		*items = NULL;
		*count = 0;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return expected(c, n, what, "a sequence");
	*items = n->data.sequence.items.start;
	*count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	return 0;
}

static yaml_node_t *
node_at(struct sl__config_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

/*
 * What makes a string unprintable in a configuration, or NULL. Besides C0 controls and DEL
 * this refuses what a YAML escape can produce but YAML text cannot hold as written: C1
 * controls, U+2028/U+2029 (read as line breaks) and U+FFFE/U+FFFF. Such a value would not
 * survive being written out (sl_config_to_json) and read back.
 */
static const char *
unprintable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return "a control character";
		if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			return "a line separator";
		if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
			return "a Unicode non-character";
	}
	return NULL;
}

/* Copy a string value into a fixed array, refusing what does not fit or cannot be printed. */
static int
copy_string(struct sl__config_ctx *c, yaml_node_t *val, const char *what, const char *s, char *dst,
	    size_t cap)
{
	size_t len = strlen(s);
	const char *bad = unprintable(s);

	if (len >= cap)
		return sl__config_fail(c, val, "'%s' is longer than %zu characters", what, cap - 1);
	if (bad)
		return sl__config_fail(c, val, "'%s' contains %s", what, bad);
	memcpy(dst, s, len + 1);
	return 0;
}

/* An HTTP path is ASCII without spaces (RFC 3986: anything else is percent-encoded). */
static int
check_http_path(struct sl__config_ctx *c, yaml_node_t *val, const char *what, const char *s)
{
	if (s[0] != '/')
		return sl__config_fail(c, val, "'%s' must start with '/', got '%.64s'", what, s);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return sl__config_fail(c, val,
					       "'%s' must be printable ASCII without spaces; "
					       "percent-encode other characters",
					       what);
	return 0;
}

static void *
member(void *obj, const struct field *f)
{
	return (char *)obj + f->off;
}

/* ------------------------------------------------------------------ generic parsers */

static int
p_uint(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
       void *obj)
{
	const char *s;
	long long v;
	int rc;

	if ((rc = get_scalar(c, val, f->key, EXPECT_INT, &s)) < 0)
		return rc;
	rc = sl__config_parse_int(s, &v);
	if (rc == -EINVAL)
		return expected(c, val, f->key, EXPECT_INT);
	if (rc < 0 || v < f->lo || v > f->hi) {
		if (f->hi >= UNBOUNDED)
			return sl__config_fail(c, val, "'%s' must be an integer >= %lld, got %.32s",
					       f->key, f->lo, s);
		return sl__config_fail(c, val,
				       "'%s' must be an integer from %lld to %lld, got %.32s",
				       f->key, f->lo, f->hi, s);
	}
	switch (f->size) {
	case 1:
		*(uint8_t *)member(obj, f) = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)member(obj, f) = (uint16_t)v;
		break;
	default:
		*(uint32_t *)member(obj, f) = (uint32_t)v;
		break;
	}
	return 0;
}

static int
p_bool(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
       void *obj)
{
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, f->key, EXPECT_BOOL, &s)) < 0)
		return rc;
	if (sl__config_parse_bool(s, (bool *)member(obj, f)) < 0)
		return expected(c, val, f->key, EXPECT_BOOL);
	return 0;
}

static int
p_duration(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	   void *obj)
{
	char lo[16], hi[16];
	const char *s;
	uint32_t ms;
	int rc;

	if ((rc = get_scalar(c, val, f->key, EXPECT_DURATION, &s)) < 0)
		return rc;
	rc = sl_config_parse_duration(s, &ms);
	if (rc == -EINVAL)
		return sl__config_fail(c, val,
				       "expected %s for '%s', got '%.32s' (units: ms, s, m, h)",
				       EXPECT_DURATION, f->key, s);
	if (rc == -ERANGE)
		return sl__config_fail(c, val,
				       "'%s' must be a whole number of milliseconds from 0 to 49 "
				       "days, got '%.32s'",
				       f->key, s);
	if (ms < f->lo || ms > f->hi) {
		sl_config_format_duration((uint32_t)f->lo, lo, sizeof(lo));
		sl_config_format_duration((uint32_t)f->hi, hi, sizeof(hi));
		if (f->hi >= UNBOUNDED)
			return sl__config_fail(c, val, "'%s' must be at least %s, got '%.32s'",
					       f->key, lo, s);
		return sl__config_fail(c, val, "'%s' must be from %s to %s, got '%.32s'", f->key,
				       lo, hi, s);
	}
	*(uint32_t *)member(obj, f) = ms;
	return 0;
}

static int
p_bytes(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	void *obj)
{
	const char *s;
	uint64_t v;
	int rc;

	if ((rc = get_scalar(c, val, f->key, EXPECT_BYTES, &s)) < 0)
		return rc;
	rc = sl__config_parse_bytes(s, &v);
	if (rc == -EINVAL)
		return expected(c, val, f->key, EXPECT_BYTES);
	if (rc < 0 || v < (uint64_t)f->lo || v > (uint64_t)f->hi)
		return sl__config_fail(c, val, "'%s' must be from %lld to %lld bytes, got '%.32s'",
				       f->key, f->lo, f->hi, s);
	*(uint32_t *)member(obj, f) = (uint32_t)v;
	return 0;
}

/* A string member of capacity f->size. */
static int
p_string(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	 void *obj)
{
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, f->key, EXPECT_STRING, &s)) < 0)
		return rc;
	return copy_string(c, val, f->key, s, member(obj, f), f->size);
}

/* An HTTP path: a string that starts with '/'. */
static int
p_http_path(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	    void *obj)
{
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, f->key, "a path starting with '/'", &s)) < 0 ||
	    (rc = check_http_path(c, val, f->key, s)) < 0)
		return rc;
	return copy_string(c, val, f->key, s, member(obj, f), f->size);
}

static int
p_ipv4(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
       void *obj)
{
	const char *s;
	uint32_t ip;
	int rc;

	if ((rc = get_scalar(c, val, f->key, "an IPv4 address", &s)) < 0)
		return rc;
	if (sl__config_parse_ipv4(s, &ip) < 0)
		return sl__config_fail(c, val,
				       "bad IPv4 address '%.32s' for '%s'; expected four numbers "
				       "0..255 like 198.18.0.1",
				       s, f->key);
	if (ip == 0)
		return sl__config_fail(c, val, "0.0.0.0 is not a usable address for '%s'", f->key);
	*(uint32_t *)member(obj, f) = ip;
	return 0;
}

/* "198.18.0.11:5001" into a struct sl_config_forward's to_ip and to_port. */
static int
p_forward_to(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	     void *obj)
{
	struct sl_config_forward *fw = obj;
	const char *s, *colon;
	char addr[16];
	unsigned long port;
	char *end;
	int rc;

	if ((rc = get_scalar(c, val, f->key, "an address and port like 198.18.0.11:5001", &s)) < 0)
		return rc;
	colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(addr))
		return sl__config_fail(c, val, "bad '%s' value '%.40s'; expected an IPv4 address and "
					       "a port like 198.18.0.11:5001", f->key, s);
	memcpy(addr, s, colon - s);
	addr[colon - s] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (sl__config_parse_ipv4(addr, &fw->to_ip) < 0 || fw->to_ip == 0)
		return sl__config_fail(c, val, "bad IPv4 address '%.16s' in '%s'; expected four "
					       "numbers 0..255 like 198.18.0.11", addr, f->key);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port == 0 || port > 65535)
		return sl__config_fail(c, val, "bad port '%.10s' in '%s'; expected 1..65535",
				       colon + 1, f->key);
	fw->to_port = (uint16_t)port;
	return 0;
}

static int
p_strlist(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	  void *obj)
{
	struct sl_config_strlist *list = member(obj, f);
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if (val->type != YAML_SEQUENCE_NODE)
		return expected(c, val, f->key, "a sequence of strings");
	if ((rc = get_sequence(c, val, f->key, &items, &n)) < 0)
		return rc;
	if (n > SL_CONFIG_MAX_LIST)
		return sl__config_fail(c, val, "'%s' has more than %d entries", f->key,
				       SL_CONFIG_MAX_LIST);
	if (n == 0)
		return 0;
	list->items = calloc(n, sizeof(*list->items));
	if (!list->items)
		return -ENOMEM;
	list->n = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_at(c, items[i]);
		const char *s;

		if ((rc = get_scalar(c, item, f->key, EXPECT_STRING, &s)) < 0)
			return rc;
		if (!*s)
			return sl__config_fail(c, item, "empty entry in '%s'", f->key);
		if (unprintable(s))
			return sl__config_fail(c, item, "'%s' contains %s", f->key, unprintable(s));
		list->items[i] = strdup(s);
		if (!list->items[i])
			return -ENOMEM;
	}
	return 0;
}

static int
p_section(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	  void *obj)
{
	return walk(c, val, f->key, f->sub, member(obj, f));
}

/* A word from a fixed list, case-insensitive; stores its index as an enum. */
static int
pick_word(struct sl__config_ctx *c, const char *what, yaml_node_t *val, const char *const *words,
	  size_t n, const char *expect, int *out)
{
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, what, expect, &s)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(s, words[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return sl__config_fail(c, val, "unknown %s '%.32s'; expected %s", what, s, expect);
}

/* ------------------------------------------------------------------ policy names, enums */

#define POLICY_NAMES                                                                               \
	"round_robin, least_connections, weighted_round_robin, consistent_hashing or adaptive "    \
	"(with _ or -)"

static int
parse_policy(struct sl__config_ctx *c, const char *what, yaml_node_t *val,
	     enum sl_config_lb_policy *out)
{
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, what, "a policy name", &s)) < 0)
		return rc;
	if (sl_config_parse_lb_policy(s, out) < 0)
		return sl__config_fail(c, val, "unknown %s '%.32s'; expected " POLICY_NAMES, what,
				       s);
	return 0;
}

static int
p_policy(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	 void *obj)
{
	return parse_policy(c, f->key, val, member(obj, f));
}

static int
p_idle(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
       void *obj)
{
	/* index = enum value */
	static const char *const words[] = {"adaptive", "poll"};
	int v = 0, rc;

	if ((rc = pick_word(c, "idle policy", val, words, 2, "adaptive or poll", &v)) < 0)
		return rc;
	((struct sl_config_dataplane *)obj)->idle = (enum sl_idle_policy)v;
	return 0;
}

static int
p_congestion(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	     void *obj)
{
	static const char *const words[] = {"newreno", "cubic"};
	int v = 0, rc;

	if ((rc = pick_word(c, "congestion control", val, words, 2, "newreno or cubic", &v)) < 0)
		return rc;
	((struct sl_config_tcp *)obj)->cubic = v == 1;
	return 0;
}

static int
p_hc_type(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	  void *obj)
{
	static const char *const words[] = {"http", "tcp"};
	int v = 0, rc;

	if ((rc = pick_word(c, "health check type", val, words, 2, "http or tcp", &v)) < 0)
		return rc;
	((struct sl_config_health_check *)obj)->type = (enum sl_config_hc_type)v;
	return 0;
}

static int
p_frame_options(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
		void *obj)
{
	static const char *const words[] = {"none", "DENY", "SAMEORIGIN"};
	int v = 0, rc;

	if ((rc = pick_word(c, "frame_options", val, words, 3, "DENY or SAMEORIGIN", &v)) < 0)
		return rc;
	((struct sl_config_security *)obj)->frame_options = (enum sl_config_frame_options)v;
	return 0;
}

/* security.referrer_policy: one of the tokens of the W3C Referrer Policy spec. */
static int
p_referrer_policy(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		  yaml_node_t *val, void *obj)
{
	static const char *const words[] = {"no-referrer",
					    "no-referrer-when-downgrade",
					    "origin",
					    "origin-when-cross-origin",
					    "same-origin",
					    "strict-origin",
					    "strict-origin-when-cross-origin",
					    "unsafe-url"};
	struct sl_config_security *sec = obj;
	int v = 0, rc;

	if ((rc = pick_word(c, "referrer_policy", val, words, 8,
			    "a Referrer-Policy like no-referrer or strict-origin-when-cross-origin",
			    &v)) < 0)
		return rc;
	snprintf(sec->referrer_policy, sizeof(sec->referrer_policy), "%s", words[v]);
	return 0;
}

/*
 * cors.allowed_origins: "*" or an origin as browsers send it, scheme://host[:port] with no
 * path; stored in lower case (browsers serialise origins in lower case and compare the
 * Access-Control-Allow-Origin they get byte for byte). cors.allowed_methods and
 * cors.allowed_headers: "*" or HTTP tokens.
 */
static int
p_cors_list(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	    void *obj)
{
	struct sl_config_strlist *list = member(obj, f);
	bool origins = !strcmp(f->key, "allowed_origins");
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if ((rc = p_strlist(c, f, key, val, obj)) < 0)
		return rc;
	if ((rc = get_sequence(c, val, f->key, &items, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n && i < list->n; i++) {
		char *s = list->items[i];
		const char *bad = NULL;

		if (!strcmp(s, "*"))
			continue;
		if (origins) {
			char *h = strstr(s, "://");

			for (char *p = s; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if ((strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) || !h[3])
				bad = "an origin like https://app.example.com[:port] or *";
			for (char *p = h ? h + 3 : s; !bad && *p; p++)
				if (!isalnum((unsigned char)*p) && !strchr("-.:[]", *p))
					bad = "an origin (scheme://host[:port], no path) or *";
		} else {
			for (char *p = s; !bad && *p; p++)
				if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
					bad = "an HTTP token (like PUT or X-Requested-With) or *";
		}
		if (bad)
			return sl__config_fail(c, node_at(c, items[i]), "bad entry '%.64s' in '%s'; "
					       "expected %s", s, f->key, bad);
	}
	return 0;
}

static int
cors_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	const struct sl_config_cors *cors = obj;

	/* Fetch spec: a credentialed request never matches "*"; reflecting any origin with
	 * credentials would hand every site the user's session, so it is refused too. */
	for (unsigned int i = 0; cors->allow_credentials && i < cors->allowed_origins.n; i++)
		if (!strcmp(cors->allowed_origins.items[i], "*"))
			return sl__config_fail(c, node,
					       "cors allow_credentials cannot be used with "
					       "allowed_origins '*'; list the origins");
	return 0;
}

/* ------------------------------------------------------------------ dataplane */

/* `ip: 198.18.0.2/24`, or `ip: 198.18.0.2` with a separate `prefix: 24`. */
static int
p_port_ip(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	  void *obj)
{
	struct sl_config_port *port = obj;
	char addr[32];
	const char *s, *slash;
	long long prefix;
	size_t len;
	int rc;

	if ((rc = get_scalar(c, val, "ip", "an IPv4 address like 198.18.0.2/24", &s)) < 0)
		return rc;
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	snprintf(addr, sizeof(addr), "%.*s", (int)(len < sizeof(addr) ? len : 0), s);
	if (len >= sizeof(addr) || sl__config_parse_ipv4(addr, &port->ip) < 0 || port->ip == 0)
		return sl__config_fail(c, val,
				       "bad IPv4 address '%.32s' for 'ip'; expected an address "
				       "with prefix length like 198.18.0.2/24",
				       s);
	if (!slash)
		return 0;
	if (port->prefix)
		return sl__config_fail(c, val,
				       "the prefix length is given twice, in 'ip' and in "
				       "'prefix'; keep one");
	if (sl__config_parse_int(slash + 1, &prefix) < 0 || prefix < 1 || prefix > 32)
		return sl__config_fail(c, val, "prefix length must be from 1 to 32, got '%.16s'",
				       slash + 1);
	port->prefix = (uint8_t)prefix;
	return 0;
}

/* `addresses: [198.18.0.60, ...]`: the port's VIPs, checked against its subnet in port_finish. */
static int
p_port_addresses(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		 yaml_node_t *val, void *obj)
{
	struct sl_config_port *port = obj;
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if (val->type != YAML_SEQUENCE_NODE)
		return expected(c, val, f->key, "a sequence of IPv4 addresses");
	if ((rc = get_sequence(c, val, f->key, &items, &n)) < 0)
		return rc;
	if (n > SL_CONFIG_PORT_ADDRS_MAX)
		return sl__config_fail(c, val, "'%s' has more than %d entries", f->key,
				       SL_CONFIG_PORT_ADDRS_MAX);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_at(c, items[i]);
		const char *s;
		uint32_t ip;

		if ((rc = get_scalar(c, item, f->key, "an IPv4 address", &s)) < 0)
			return rc;
		if (sl__config_parse_ipv4(s, &ip) < 0 || ip == 0)
			return sl__config_fail(c, item,
					       "bad IPv4 address '%.32s' in '%s'; expected four "
					       "numbers 0..255 like 198.18.0.60",
					       s, f->key);
		for (size_t k = 0; k < i; k++)
			if (port->addresses[k] == ip)
				return sl__config_fail(c, item, "'%s' lists %.32s twice", f->key,
						       s);
		port->addresses[i] = ip;
	}
	port->n_addresses = (uint8_t)n;
	return 0;
}

static int
p_port_prefix(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	      void *obj)
{
	struct sl_config_port *port = obj;

	if (port->prefix)
		return sl__config_fail(c, key,
				       "the prefix length is given twice, in 'ip' and in "
				       "'prefix'; keep one");
	return p_uint(c, f, key, val, obj);
}

static int
port_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_port *port = obj;
	struct sl_config_dataplane *dp = &c->cfg->dataplane;
	unsigned int index = (unsigned int)(port - dp->ports);
	uint32_t mask;

	if (!port->prefix)
		return sl__config_fail(c, node,
				       "port '%s' has no prefix length; write ip: "
				       "198.18.0.2/24 or add prefix: 24",
				       port->device);
	/* a shift by 32 is undefined: /32 is its own case */
	mask = htonl(port->prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> port->prefix));
	if (port->gateway && (port->gateway & mask) != (port->ip & mask))
		return sl__config_fail(c, node, "the gateway of port '%s' is not in its subnet",
				       port->device);
	for (unsigned int i = 0; i < port->n_addresses; i++) {
		uint32_t a = port->addresses[i];

		if (a == port->ip)
			return sl__config_fail(c, node,
					       "port '%s' lists its own ip in 'addresses'; keep it "
					       "in 'ip' only",
					       port->device);
		if ((a & mask) != (port->ip & mask) || (port->prefix < 31 && (a | mask) == ~0u))
			return sl__config_fail(c, node,
					       "an address in 'addresses' of port '%s' is not a "
					       "host of its subnet",
					       port->device);
	}
	if (!port->name[0])
		snprintf(port->name, sizeof(port->name), "port%u", index);
	for (unsigned int i = 0; i < index; i++) {
		if (!strcmp(dp->ports[i].name, port->name))
			return sl__config_fail(c, node, "two ports are named '%s'", port->name);
		if (!strcmp(dp->ports[i].device, port->device))
			return sl__config_fail(c, node, "two ports use device '%s'", port->device);
	}
	return 0;
}

static int
p_ports(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	void *obj)
{
	struct sl_config_dataplane *dp = obj;
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if ((rc = get_sequence(c, val, "ports", &items, &n)) < 0)
		return rc;
	if (n > SL_CONFIG_MAX_PORTS)
		return sl__config_fail(c, val, "at most %d ports are supported",
				       SL_CONFIG_MAX_PORTS);
	if (n == 0)
		return 0;
	dp->ports = calloc(n, sizeof(*dp->ports));
	if (!dp->ports)
		return -ENOMEM;
	dp->n_ports = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		dp->ports[i].mtu = 1500;
		if ((rc = walk(c, node_at(c, items[i]), "ports", &port_section, &dp->ports[i])) < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ policy sections */

static void
enable(void *obj)
{
	/* every section with a begin hook has `bool enabled` first */
	*(bool *)obj = true;
}

static bool
seen_key(const struct section *s, uint64_t seen, const char *key)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (!strcmp(s->fields[i].key, key))
			return seen & (1ull << i);
	return false;
}

static int
hc_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_health_check *hc = obj;
	char t[16], i[16];

	if (hc->timeout_ms > hc->interval_ms) {
		sl_config_format_duration(hc->timeout_ms, t, sizeof(t));
		sl_config_format_duration(hc->interval_ms, i, sizeof(i));
		return sl__config_fail(c, node,
				       "health_check timeout (%s) must not be longer than its "
				       "interval (%s)",
				       t, i);
	}
	return 0;
}

/* health_check.expected_status: one status (200) or a range (200-399), each 100..599. */
static int
p_status_range(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	       void *obj)
{
	struct sl_config_health_check *hc = obj;
	const char *s;
	unsigned int lo, hi;
	char tail;
	int rc;

	if ((rc = get_scalar(c, val, f->key, "a status like 200 or a range like 200-399", &s)) < 0)
		return rc;
	if (sscanf(s, "%u-%u%c", &lo, &hi, &tail) == 2) {
	} else if (sscanf(s, "%u%c", &lo, &tail) == 1) {
		hi = lo;
	} else {
		return expected(c, val, f->key, "a status like 200 or a range like 200-399");
	}
	if (lo < 100 || hi > 599 || lo > hi)
		return sl__config_fail(c, val,
				       "'%s' must be statuses from 100 to 599, low-high, got %.32s",
				       f->key, s);
	hc->status_min = (uint16_t)lo;
	hc->status_max = (uint16_t)hi;
	return 0;
}

static int
od_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	const struct sl_config_outlier *od = obj;
	char b[16], m[16];

	if (od->max_ejection_ms < od->base_ejection_ms) {
		sl_config_format_duration(od->base_ejection_ms, b, sizeof(b));
		sl_config_format_duration(od->max_ejection_ms, m, sizeof(m));
		return sl__config_fail(c, node,
				       "outlier_detection max_ejection_time (%s) must not be "
				       "shorter than base_ejection_time (%s)",
				       m, b);
	}
	return 0;
}

static int
p_rate(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
       void *obj)
{
	struct sl_config_rate_limit *rl = obj;
	bool per_minute = !strcmp(f->key, "requests_per_minute");
	const char *s;
	double v;
	int rc;

	if ((rc = get_scalar(c, val, f->key, EXPECT_NUMBER, &s)) < 0)
		return rc;
	rc = sl__config_parse_double(s, &v);
	if (rc == -EINVAL)
		return expected(c, val, f->key, EXPECT_NUMBER);
	if (rc < 0 || !(v > 0) || v > 1e9)
		return sl__config_fail(c, val,
				       "'%s' must be a number above 0 (at most 1e9), got "
				       "'%.32s'",
				       f->key, s);
	rl->requests_per_second = per_minute ? v / 60 : v;
	return 0;
}

static int
rl_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_rate_limit *rl = obj;
	bool rps = seen_key(&rl_section, seen, "requests_per_second");
	bool rpm = seen_key(&rl_section, seen, "requests_per_minute");

	if (rps && rpm)
		return sl__config_fail(c, node,
				       "rate_limit has both requests_per_second and "
				       "requests_per_minute; keep one");
	if (!rl->enabled)
		return 0;
	if (!(rl->requests_per_second > 0))
		return sl__config_fail(c, node,
				       "rate_limit needs requests_per_second (or "
				       "requests_per_minute)");
	/* A block that names a rate but no burst allows one second's worth of requests. */
	if (!rl->burst || ((rps || rpm) && !seen_key(&rl_section, seen, "burst"))) {
		double b = ceil(rl->requests_per_second);

		rl->burst = b < 1 ? 1 : b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
	}
	return 0;
}

static int
auth_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_auth *auth = obj;

	if (auth->jwt_secret[0] && auth->jwt_secret_file[0])
		return sl__config_fail(c, node,
				       "auth has both jwt_secret and jwt_secret_file; keep one");
	if (auth->token_ttl_ms % 1000)
		return sl__config_fail(c, node,
				       "token_ttl must be whole seconds (a token's expiry is in "
				       "seconds), e.g. 90s or 1h");
	return 0;
}

static int
cp_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_connection_pool *cp = obj;

	if (cp->max_open && cp->max_idle > cp->max_open)
		return sl__config_fail(
		    c, node, "connection_pool max_idle (%u) must not exceed max_open (%u)",
		    cp->max_idle, cp->max_open);
	return 0;
}

/* ------------------------------------------------------------------ backend_tls */

/*
 * backend_tls.ca_file, cert_file, key_file: files the loader can read now; where ca_file and
 * cert_file are written is kept, for OpenSSL's verdict on their contents (controlplane/
 * tls_ctx.c, sl_tls_client_ctx).
 */
static int
p_btls_file(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	    void *obj)
{
	struct sl_config_backend_tls *bt = obj;
	const char *s;
	FILE *fp;
	int rc;

	if ((rc = get_scalar(c, val, f->key, "a PEM file", &s)) < 0 ||
	    (rc = copy_string(c, val, f->key, s, member(obj, f), f->size)) < 0)
		return rc;
	fp = fopen(s, "r");
	if (fp == NULL)
		return sl__config_fail(c, val, "backend_tls %s '%.200s': cannot read it: %s", f->key,
				       s, strerror(errno));
	fclose(fp);
	if (!strcmp(f->key, "ca_file")) {
		bt->ca_line = (uint32_t)val->start_mark.line + 1;
		bt->ca_col = (uint32_t)val->start_mark.column + 1;
	} else if (!strcmp(f->key, "cert_file")) {
		bt->cert_line = (uint32_t)val->start_mark.line + 1;
		bt->cert_col = (uint32_t)val->start_mark.column + 1;
	}
	return 0;
}

/* backend_tls.server_name: a DNS name or an IPv4 address, as in a backend URL. */
static int
p_btls_server_name(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		   yaml_node_t *val, void *obj)
{
	struct sl_config_backend_tls *bt = obj;
	char why[128];
	const char *s;
	uint32_t ip;
	int rc;

	if ((rc = get_scalar(c, val, "server_name", "a host name", &s)) < 0)
		return rc;
	if (sl__config_check_host(s, &ip, why, sizeof(why)) < 0)
		return sl__config_fail(c, val, "backend_tls server_name '%.200s': %s", s, why);
	rc = copy_string(c, val, "server_name", s, bt->server_name, sizeof(bt->server_name));
	for (char *p = bt->server_name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return rc;
}

static int
btls_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_backend_tls *bt = obj;

	bt->line = (uint32_t)node->start_mark.line + 1;
	if (!bt->verify && seen_key(&btls_section, seen, "ca_file"))
		return sl__config_fail(c, node,
				       "backend_tls has ca_file but verify: false; a CA file is "
				       "only read to verify, keep one");
	if (!bt->cert_file[0] != !bt->key_file[0])
		return sl__config_fail(c, node,
				       "backend_tls needs both cert_file and key_file (a client "
				       "certificate), or neither");
	return 0;
}

/* ------------------------------------------------------------------ tls.acme (auto_cert) */

static int
acme_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_acme *a = obj;

	if (strncmp(a->directory, "https://", 8) && strncmp(a->directory, "http://", 7))
		return sl__config_fail(c, node,
				       "tls.acme directory '%.200s' is not an http:// or https:// URL",
				       a->directory);
	if (strpbrk(a->directory, " \t\r\n") || strpbrk(a->email, " \t\r\n,;<>"))
		return sl__config_fail(c, node, "tls.acme directory and email take no spaces, "
						"commas or angle brackets");
	if (a->email[0] && (!strchr(a->email, '@') || a->email[0] == '@'))
		return sl__config_fail(c, node, "tls.acme email '%.200s' is not an address",
				       a->email);
	return 0;
}

/* auto_cert: a certificate directory, an ACME server and HTTP-01-able names. */
static int
acme_check(struct sl__config_ctx *c, yaml_node_t *node, const struct sl_config_tls *tls)
{
	char why[128];
	uint32_t ip;

	if (!tls->cert_dir[0])
		return sl__config_fail(c, node,
				       "tls auto_cert needs cert_dir, where the certificates it "
				       "obtains are kept");
	for (unsigned int i = 0; i < tls->domains.n; i++) {
		const char *d = tls->domains.items[i];

		if (!strncmp(d, "*.", 2))
			return sl__config_fail(c, node,
					       "tls domain '%.200s': auto_cert answers HTTP-01 "
					       "challenges, which cannot validate a wildcard name",
					       d);
		if (sl__config_check_host(d, &ip, why, sizeof(why)) < 0 || ip != 0 ||
		    !strchr(d, '.'))
			return sl__config_fail(c, node,
					       "tls domain '%.200s' is not a DNS name an ACME server "
					       "can validate%s%s",
					       d, ip || !strchr(d, '.') ? "" : ": ",
					       ip || !strchr(d, '.') ? "" : why);
		for (const char *p = d; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				return sl__config_fail(c, node,
						       "tls domain '%.200s': write it in lower case", d);
	}
	return 0;
}

static int
tls_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_tls *tls = obj;

	if (!tls->enabled)
		return 0;
	if (!tls->cert_file[0] != !tls->key_file[0])
		return sl__config_fail(c, node,
				       "tls needs both cert_file and key_file, or neither");
	if (tls->auto_cert && tls->domains.n == 0)
		return sl__config_fail(c, node,
				       "tls auto_cert needs at least one entry in domains");
	if (!tls->cert_file[0] && !tls->cert_dir[0] && !tls->auto_cert)
		return sl__config_fail(c, node,
				       "tls is enabled but names no certificate; set "
				       "cert_file and key_file, cert_dir, or auto_cert: true");
	return tls->auto_cert ? acme_check(c, node, tls) : 0;
}

static int
service_tls_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_service_tls *tls = obj;
	const struct sl_config_tls *global = &c->cfg->tls;

	if (!tls->enabled)
		return 0;
	if (!tls->cert_file[0] != !tls->key_file[0])
		return sl__config_fail(c, node, "tls needs both cert_file and key_file");
	/* Without its own pair the service serves the global certificate (the section must come
	 * before `services:`). */
	if (!tls->cert_file[0] &&
	    !(global->enabled && (global->cert_file[0] || global->cert_dir[0] || global->auto_cert)))
		return sl__config_fail(c, node,
				       "tls needs cert_file and key_file (or a global tls "
				       "section with cert_file, cert_dir or auto_cert)");
	return 0;
}

/*
 * tls.ciphers: a TLS 1.2 cipher list in OpenSSL's syntax (names, '+' combinations, '!' '-'
 * '+' prefixes, @STRENGTH, separated by ':' or ','). Only the characters are checked here;
 * whether OpenSSL knows a name is decided where the contexts are built, which reports it at
 * the line and column kept in ciphers_line/ciphers_col.
 */
static int
p_tls_ciphers(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	      void *obj)
{
	struct sl_config_tls *tls = obj;
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, "ciphers", "an OpenSSL cipher list", &s)) < 0)
		return rc;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_:,+!@=.", *p))
			return sl__config_fail(c, val,
					       "'ciphers' holds '%c'; expected an OpenSSL cipher list "
					       "like ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
					       *p);
	if ((rc = copy_string(c, val, "ciphers", s, tls->ciphers, sizeof(tls->ciphers))) < 0)
		return rc;
	tls->ciphers_line = (uint32_t)val->start_mark.line + 1;
	tls->ciphers_col = (uint32_t)val->start_mark.column + 1;
	return 0;
}

/* tls.ciphersuites: TLS 1.3 suites separated by ':', each one RFC 8446 defines. */
static int
p_tls_ciphersuites(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		   yaml_node_t *val, void *obj)
{
	static const char *const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
					     "TLS_CHACHA20_POLY1305_SHA256",
					     "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};
	struct sl_config_tls *tls = obj;
	const char *s, *p, *end;
	int rc;

	if ((rc = get_scalar(c, val, "ciphersuites", "TLS 1.3 suite names", &s)) < 0)
		return rc;
	for (p = s;; p = end + 1) {
		size_t i, len;

		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
			if (strlen(suites[i]) == len && !strncmp(p, suites[i], len))
				break;
		if (i == sizeof(suites) / sizeof(suites[0]))
			return sl__config_fail(c, val,
					       "unknown TLS 1.3 suite '%.*s' in 'ciphersuites'; "
					       "expected names like TLS_AES_128_GCM_SHA256 "
					       "separated by ':'",
					       (int)(len > 64 ? 64 : len), p);
		if (!end)
			break;
	}
	return copy_string(c, val, "ciphersuites", s, tls->ciphersuites,
			   sizeof(tls->ciphersuites));
}

/* ------------------------------------------------------------------ admin */

/* admin.access_log: `format: json | combined`, `path: stdout | <file>`. */
static int
p_log_format(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	     void *obj)
{
	static const char *const words[] = {"json", "combined"};
	int v = 0, rc;

	if ((rc = pick_word(c, "access log format", val, words, 2, "json or combined", &v)) < 0)
		return rc;
	((struct sl_config_access_log *)obj)->format = (enum sl_config_log_format)v;
	return 0;
}

static int
p_log_path(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	   void *obj)
{
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, f->key, "a file name or stdout", &s)) < 0)
		return rc;
	if (s[0] == '\0')
		return expected(c, val, f->key, "a file name or stdout");
	if (s[strlen(s) - 1] == '/')
		return sl__config_fail(c, val,
				       "'path' names a directory ('%.64s'); expected a file name "
				       "or stdout",
				       s);
	return copy_string(c, val, f->key, s, member(obj, f), f->size);
}

/* The first of two spellings of one admin setting wins the right to exist. */
static int
claim(struct sl__config_ctx *c, const yaml_node_t **slot, yaml_node_t *key, const char *what)
{
	if (*slot)
		return sl__config_fail(c, key,
				       "'%s' sets the %s again (already set at line %lu); "
				       "keep one",
				       (const char *)key->data.scalar.value, what, line_of(*slot));
	*slot = key;
	return 0;
}

/* "127.0.0.1:1997", "localhost:1997", ":1997" / "*:1997" (all addresses), or a bare port. */
static int
p_listen(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	 void *obj)
{
	struct sl_config_admin *admin = &c->cfg->admin;
	const char *s, *colon, *port_text;
	char host[32];
	long long port;
	int rc;

	if ((rc = claim(c, &c->admin_listen, key, "admin address")) < 0)
		return rc;
	if ((rc = get_scalar(c, val, "listen", "an address like 127.0.0.1:1997", &s)) < 0)
		return rc;
	colon = strrchr(s, ':');
	if (!colon) {
		/* a bare port keeps the default address */
		snprintf(host, sizeof(host), "127.0.0.1");
		port_text = s;
	} else if (colon - s >= (long)sizeof(host)) {
		goto bad;
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port_text = colon + 1;
	}
	if (sl__config_parse_int(port_text, &port) < 0 || port < 1 || port > 65535)
		return sl__config_fail(c, val,
				       "the port in 'listen' must be from 1 to 65535, got "
				       "'%.32s'",
				       s);
	if (!strcmp(host, "") || !strcmp(host, "*"))
		admin->ip = 0;
	else if (!strcasecmp(host, "localhost"))
		admin->ip = htonl(0x7f000001);
	else if (sl__config_parse_ipv4(host, &admin->ip) < 0)
		goto bad;
	admin->port = (uint16_t)port;
	return 0;
bad:
	return sl__config_fail(c, val,
			       "bad 'listen' address '%.32s'; expected IPv4:port like "
			       "127.0.0.1:1997",
			       s);
}

static int
p_admin_port(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	     void *obj)
{
	struct sl_config_admin *admin = &c->cfg->admin;
	int rc;

	if ((rc = claim(c, &c->admin_listen, key, "admin address")) < 0)
		return rc;
	admin->ip = htonl(0x7f000001);
	return p_uint(c, f, key, val, admin);
}

static int
p_auth(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
       void *obj)
{
	int rc;

	if ((rc = claim(c, &c->admin_auth, key, "admin authentication")) < 0)
		return rc;
	return walk(c, val, "auth", &auth_section, &c->cfg->admin.auth);
}

static int
p_admin_rate_limit(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		   yaml_node_t *val, void *obj)
{
	int rc;

	if ((rc = claim(c, &c->admin_rate_limit, key, "admin API rate limit")) < 0)
		return rc;
	return walk(c, val, "rate_limit", &rl_section, &c->cfg->admin.rate_limit);
}

static int
p_admin_api(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	    void *obj)
{
	return walk(c, val, "admin_api", &admin_api_section, c->cfg);
}

/* ------------------------------------------------------------------ backends */

static int
p_url(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
      void *obj)
{
	struct sl_config_backend *be = obj;
	struct sl_config_location *loc = c->location;
	char why[160];
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, "url", "a URL like http://198.18.0.11:8080", &s)) < 0)
		return rc;
	if ((rc = copy_string(c, val, "url", s, be->url, sizeof(be->url))) < 0)
		return rc;
	if (sl_config_parse_url(s, &be->target, why, sizeof(why)) < 0)
		return sl__config_fail(c, val, "bad backend url '%.64s': %s", s, why);
	be->url_line = (uint32_t)val->start_mark.line + 1;
	be->url_col = (uint32_t)val->start_mark.column + 1;
	for (const struct sl_config_backend *o = loc->backends; o < be; o++) {
		if (o->target.https == be->target.https && o->target.port == be->target.port &&
		    !strcmp(o->target.host, be->target.host) &&
		    !strcmp(o->target.path, be->target.path))
			return sl__config_fail(c, val,
					       "backend '%.64s' appears twice in location '%s' "
					       "(first at line %u); use weight instead",
					       s, loc->path, o->line);
	}
	return 0;
}

/* The backends of c->location, from a sequence of {url, weight, ...}. */
static int
read_backends(struct sl__config_ctx *c, yaml_node_t *key, yaml_node_t *val)
{
	struct sl_config_location *loc = c->location;
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if ((rc = get_sequence(c, val, "backends", &items, &n)) < 0)
		return rc;
	if (n == 0)
		return sl__config_fail(c, is_null(val) ? key : val,
				       "location '%s' has no backends; list at least one url",
				       loc->path);
	if (n > SL_CONFIG_MAX_BACKENDS - c->n_backends)
		return sl__config_fail(c, val, "too many backends: at most %d in a configuration",
				       SL_CONFIG_MAX_BACKENDS);
	c->n_backends += (unsigned int)n;
	loc->backends = calloc(n, sizeof(*loc->backends));
	if (!loc->backends)
		return -ENOMEM;
	loc->n_backends = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		struct sl_config_backend *be = &loc->backends[i];
		yaml_node_t *item = node_at(c, items[i]);

		be->weight = 1;
		be->health_check = loc->health_check;
		be->line = (uint32_t)line_of(item);
		if (item->type == YAML_SCALAR_NODE && !is_null(item))
			return sl__config_fail(c, item,
					       "each backend must be a mapping like {url: %.64s}",
					       (const char *)item->data.scalar.value);
		if ((rc = walk(c, item, "backends", &backend_section, be)) < 0)
			return rc;
	}
	return 0;
}

static int
p_backends(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	   void *obj)
{
	c->location = obj;
	return read_backends(c, key, val);
}

/* ------------------------------------------------------------------ locations */

static int
p_location_path(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
		void *obj)
{
	struct sl_config_location *loc = obj;
	int rc;

	if ((rc = p_http_path(c, f, key, val, obj)) < 0)
		return rc;
	for (const struct sl_config_location *o = c->service->locations; o < loc; o++)
		if (!strcmp(o->path, loc->path))
			return sl__config_fail(c, val,
					       "location '%s' appears twice in service '%s' (first "
					       "at line %u)",
					       loc->path, c->service->name, o->line);
	return 0;
}

static int
p_redirect(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	   void *obj)
{
	struct sl_config_url url;
	char why[160];
	const char *s;
	int rc;

	if ((rc = get_scalar(c, val, "redirect", "a path or an http(s):// URL", &s)) < 0)
		return rc;
	if (s[0] == '/' && (rc = check_http_path(c, val, "redirect", s)) < 0)
		return rc;
	if (s[0] != '/' && sl_config_parse_url(s, &url, why, sizeof(why)) < 0)
		return sl__config_fail(c, val,
				       "bad redirect '%.64s': expected a path starting with '/' or "
				       "a URL (%s)",
				       s, why);
	return copy_string(c, val, "redirect", s, member(obj, f), f->size);
}

static void
init_location(struct sl__config_ctx *c, struct sl_config_location *loc, yaml_node_t *node)
{
	const struct sl_config_service *svc = c->service;

	loc->lb_policy = c->default_policy;
	loc->health_check = svc->health_check;
	loc->rate_limit = svc->rate_limit;
	loc->circuit_breaker = svc->circuit_breaker;
	loc->outlier_detection = svc->outlier_detection;
	loc->slow_start = svc->slow_start;
	loc->connection_pool = svc->connection_pool;
	loc->backend_tls = svc->backend_tls;
	loc->line = (uint32_t)line_of(node);
}

/* Locations of c->service from a sequence of `section` mappings (locations or Teeter routes). */
static int
read_locations(struct sl__config_ctx *c, yaml_node_t *key, yaml_node_t *val, const char *what,
	       const struct section *section)
{
	struct sl_config_service *svc = c->service;
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if ((rc = get_sequence(c, val, what, &items, &n)) < 0)
		return rc;
	if (n == 0)
		return sl__config_fail(c, is_null(val) ? key : val,
				       "service '%s' has no locations; '%s' needs at least one "
				       "entry",
				       svc->name, what);
	if (n > SL_CONFIG_MAX_LOCATIONS - c->n_locations)
		return sl__config_fail(c, val, "too many locations: at most %d in a configuration",
				       SL_CONFIG_MAX_LOCATIONS);
	c->n_locations += (unsigned int)n;
	svc->locations = calloc(n, sizeof(*svc->locations));
	if (!svc->locations)
		return -ENOMEM;
	svc->n_locations = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_at(c, items[i]);

		init_location(c, &svc->locations[i], item);
		if ((rc = walk(c, item, what, section, &svc->locations[i])) < 0)
			return rc;
	}
	return 0;
}

static int
p_locations(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	    void *obj)
{
	c->service = obj;
	return read_locations(c, key, val, "locations", &location_section);
}

/* ------------------------------------------------------------------ services */

static int
p_service_name(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	       void *obj)
{
	struct sl_config_service *svc = obj;
	int rc;

	if ((rc = p_string(c, f, key, val, obj)) < 0)
		return rc;
	if (!svc->name[0] || strspn(svc->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
					       "XYZ0123456789-_.") != strlen(svc->name))
		return sl__config_fail(c, val,
				       "service name '%s' may hold only letters, digits, "
				       "'-', '_' and '.'",
				       svc->name);
	for (const struct sl_config_service *o = c->cfg->services; o < svc; o++)
		if (!strcmp(o->name, svc->name))
			return sl__config_fail(c, val,
					       "duplicate service name '%s' (first at line "
					       "%u)",
					       svc->name, o->line);
	return 0;
}

/* A host name, "*.example.com", or "*" / "" for any host. */
static int
p_service_host(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	       void *obj)
{
	struct sl_config_service *svc = obj;
	char why[128];
	const char *s;
	uint32_t ip;
	int rc;

	if (val->type == YAML_SCALAR_NODE && !val->data.scalar.value[0]) {
		svc->host[0] = '\0';
		return 0;
	}
	if ((rc = get_scalar(c, val, "host", "a host name or '*'", &s)) < 0)
		return rc;
	if (!strcmp(s, "*")) {
		svc->host[0] = '\0';
		return 0;
	}
	if ((rc = copy_string(c, val, "host", s, svc->host, sizeof(svc->host))) < 0)
		return rc;
	for (char *p = svc->host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (sl__config_check_host(strncmp(svc->host, "*.", 2) ? svc->host : svc->host + 2, &ip, why,
				  sizeof(why)) < 0)
		return sl__config_fail(c, val, "bad host '%.64s': %s", s, why);
	return 0;
}

/* `address: 198.18.0.60`: the service's VIP, which a dataplane port must hold (its `ip` or one
 * of its `addresses`; sluice adds no address on its own). `dataplane` is read before
 * `services` (F_LATE), so the ports are known here. */
static int
p_service_address(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key,
		  yaml_node_t *val, void *obj)
{
	const struct sl_config_dataplane *dp = &c->cfg->dataplane;
	uint32_t ip;
	int rc;

	if ((rc = p_ipv4(c, f, key, val, obj)) < 0)
		return rc;
	ip = ((struct sl_config_service *)obj)->address;
	for (unsigned int i = 0; i < dp->n_ports; i++) {
		if (dp->ports[i].ip == ip)
			return 0;
		for (unsigned int k = 0; k < dp->ports[i].n_addresses; k++)
			if (dp->ports[i].addresses[k] == ip)
				return 0;
	}
	return sl__config_fail(c, val,
			       "service address %s is not an address of any dataplane port; add it "
			       "to the 'addresses' of the port whose subnet holds it",
			       (const char *)val->data.scalar.value);
}

uint16_t
sl_config_plain_port(const struct sl_config *cfg, const struct sl_config_service *svc)
{
	bool need = svc->http_port || (cfg->tls.enabled && cfg->tls.auto_cert &&
				       !svc->tls.cert_file[0]);

	if (!svc->tls.enabled)
		return 0;
	for (unsigned int l = 0; l < svc->n_locations && !need; l++)
		need = svc->locations[l].http_redirect;
	return need ? (svc->http_port ? svc->http_port : 80) : 0;
}

/* http_redirect and http_port (a TLS service's plain port); auto_cert's names. */
static int
service_plain_check(struct sl__config_ctx *c, yaml_node_t *node,
		    const struct sl_config_service *svc)
{
	const struct sl_config_tls *g = &c->cfg->tls;
	bool auto_cert = g->enabled && g->auto_cert && svc->tls.enabled && !svc->tls.cert_file[0];
	uint16_t hp = sl_config_plain_port(c->cfg, svc);

	for (unsigned int l = 0; l < svc->n_locations; l++)
		if (svc->locations[l].http_redirect && !svc->tls.enabled)
			return sl__config_fail(
			    c, node,
			    "service '%s', location '%s' (line %u): http_redirect sends plain-HTTP "
			    "clients to https://, so the service needs a tls section",
			    svc->name, svc->locations[l].path, svc->locations[l].line);
	if (svc->http_port && !svc->tls.enabled)
		return sl__config_fail(c, node,
				       "service '%s': http_port is the plain-HTTP port of a TLS "
				       "service; this service has no tls section",
				       svc->name);
	if (hp && hp == svc->port)
		return sl__config_fail(c, node,
				       "service '%s': http_port %u is its TLS port too; set "
				       "http_port to another port (default 80)",
				       svc->name, hp);
	if (auto_cert) {
		bool listed = false;

		for (unsigned int i = 0; i < g->domains.n && !listed; i++)
			listed = !strcmp(g->domains.items[i], svc->host);
		if (!listed)
			return sl__config_fail(
			    c, node,
			    "service '%s' takes its certificate from auto_cert, but its host "
			    "'%s' is not in tls.domains",
			    svc->name, svc->host[0] ? svc->host : "*");
	}
	/* A plain port must not be another TLS service's port on the same address. */
	for (const struct sl_config_service *o = c->cfg->services; o < svc; o++) {
		uint16_t ohp = sl_config_plain_port(c->cfg, o);

		if (o->address != svc->address || !svc->tls.enabled || !o->tls.enabled)
			continue;
		if ((ohp && ohp == svc->port) || (hp && hp == o->port))
			return sl__config_fail(
			    c, node,
			    "services '%s' and '%s' (line %u): port %u is the TLS port of one "
			    "and the plain http_port of the other",
			    svc->name, o->name, o->line, ohp == svc->port ? svc->port : o->port);
	}
	return 0;
}

static int
service_finish(struct sl__config_ctx *c, yaml_node_t *node, void *obj, uint64_t seen)
{
	struct sl_config_service *svc = obj;
	int rc = service_plain_check(c, node, svc);

	if (rc < 0)
		return rc;

	for (const struct sl_config_service *o = c->cfg->services; o < svc; o++)
		if (o->port == svc->port && o->address == svc->address &&
		    !strcmp(o->host, svc->host))
			return sl__config_fail(
			    c, node,
			    "service '%s' has the same host, port and address as service "
			    "'%s' (line %u); put their locations in one service",
			    svc->name, o->name, o->line);
	return 0;
}

static void
init_service(struct sl__config_ctx *c, struct sl_config_service *svc, yaml_node_t *node)
{
	const struct sl_config *cfg = c->cfg;

	svc->port = c->default_port;
	svc->health_check = cfg->health_check;
	svc->rate_limit = cfg->rate_limit;
	svc->circuit_breaker = cfg->circuit_breaker;
	svc->outlier_detection = cfg->outlier_detection;
	svc->slow_start = cfg->slow_start;
	svc->connection_pool = cfg->connection_pool;
	svc->backend_tls = cfg->backend_tls;
	svc->queue = cfg->queue;
	svc->line = (uint32_t)line_of(node);
}

/* services, routes and top-level backends are three shapes of one thing: only one may appear. */
static int
claim_shape(struct sl__config_ctx *c, yaml_node_t *key)
{
	if (c->shape_key)
		return sl__config_fail(c, key,
				       "'%s' cannot be combined with '%s' (line %lu): use "
				       "services, routes or backends, not a mix",
				       (const char *)key->data.scalar.value,
				       (const char *)c->shape_key->data.scalar.value,
				       line_of(c->shape_key));
	c->shape_key = key;
	return 0;
}

static int
p_services(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	   void *obj)
{
	struct sl_config *cfg = c->cfg;
	yaml_node_item_t *items = NULL;
	size_t n = 0;
	int rc;

	if ((rc = claim_shape(c, key)) < 0)
		return rc;
	if ((rc = get_sequence(c, val, "services", &items, &n)) < 0)
		return rc;
	if (n > SL_CONFIG_MAX_SERVICES)
		return sl__config_fail(c, val, "too many services: at most %d",
				       SL_CONFIG_MAX_SERVICES);
	if (n == 0)
		return 0;
	cfg->services = calloc(n, sizeof(*cfg->services));
	if (!cfg->services)
		return -ENOMEM;
	cfg->n_services = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_at(c, items[i]);

		init_service(c, &cfg->services[i], item);
		if ((rc = walk(c, item, "services", &service_section, &cfg->services[i])) < 0)
			return rc;
	}
	return 0;
}

/* Teeter's routes and the minimal form both become one service "default" for any host. */
static int
make_default_service(struct sl__config_ctx *c, yaml_node_t *node)
{
	struct sl_config *cfg = c->cfg;

	cfg->services = calloc(1, sizeof(*cfg->services));
	if (!cfg->services)
		return -ENOMEM;
	cfg->n_services = 1;
	init_service(c, cfg->services, node);
	snprintf(cfg->services->name, sizeof(cfg->services->name), "default");
	c->service = cfg->services;
	return 0;
}

static int
p_routes(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	 void *obj)
{
	int rc;

	if ((rc = claim_shape(c, key)) < 0 || (rc = make_default_service(c, key)) < 0)
		return rc;
	return read_locations(c, key, val, "routes", &route_section);
}

static int
p_top_backends(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	       void *obj)
{
	struct sl_config_location *loc;
	int rc;

	if ((rc = claim_shape(c, key)) < 0 || (rc = make_default_service(c, key)) < 0)
		return rc;
	loc = calloc(1, sizeof(*loc));
	if (!loc)
		return -ENOMEM;
	c->service->locations = loc;
	c->service->n_locations = 1;
	c->n_locations++;
	init_location(c, loc, key);
	snprintf(loc->path, sizeof(loc->path), "/");
	c->location = loc;
	return read_backends(c, key, val);
}

static int
p_default_port(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	       void *obj)
{
	return p_uint(c, f, key, val, c);
}

static int
p_algorithm(struct sl__config_ctx *c, const struct field *f, yaml_node_t *key, yaml_node_t *val,
	    void *obj)
{
	return parse_policy(c, "algorithm", val, &c->default_policy);
}

/* ------------------------------------------------------------------ tables */

/* clang-format off */

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define AT(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define UINT(T, m, l, h) .parse = p_uint, AT(T, m), .lo = (l), .hi = (h)
#define BOOL(T, m) .parse = p_bool, AT(T, m)
#define DURATION(T, m, l, h) .parse = p_duration, AT(T, m), .lo = (l), .hi = (h)
#define STRING(T, m) .parse = p_string, AT(T, m)
#define STRLIST(T, m) .parse = p_strlist, AT(T, m)
#define SECTION(T, m, s) .parse = p_section, AT(T, m), .sub = &(s)

static const struct field tcp_fields[] = {
	{"max_connections", UINT(struct sl_config_tcp, max_connections, 1, 1 << 24)},
	{"syn_backlog", UINT(struct sl_config_tcp, syn_backlog, 1, 1 << 20)},
	{"time_wait", DURATION(struct sl_config_tcp, time_wait_ms, 0, 240000)},
	{"rcvbuf", .parse = p_bytes, AT(struct sl_config_tcp, rcvbuf), .lo = 1024, .hi = 1 << 30},
	{"sndbuf", .parse = p_bytes, AT(struct sl_config_tcp, sndbuf), .lo = 1024, .hi = 1 << 30},
	{"rcv_mem_percent", UINT(struct sl_config_tcp, rcv_mem_percent, 1, 90)},
	{"keepalive", DURATION(struct sl_config_tcp, keepalive_ms, 0, UNBOUNDED)},
	{"rto_min", DURATION(struct sl_config_tcp, rto_min_ms, 1, 60000)},
	{"delayed_ack", DURATION(struct sl_config_tcp, delayed_ack_ms, 0, 500)},
	{"congestion", .parse = p_congestion},
};

static const struct field test_services_fields[] = {
	{"echo", UINT(struct sl_config_test_services, echo, 0, 65535)},
	{"discard", UINT(struct sl_config_test_services, discard, 0, 65535)},
	{"chargen", UINT(struct sl_config_test_services, chargen, 0, 65535)},
	{"answer", UINT(struct sl_config_test_services, answer, 0, 65535)},
	{"forward", SECTION(struct sl_config_test_services, forward, forward_section)},
};

static const struct field forward_fields[] = {
	{"port", UINT(struct sl_config_forward, port, 1, 65535), .flags = F_REQUIRED},
	{"to", .parse = p_forward_to, .flags = F_REQUIRED},
};

static const struct field port_fields[] = {
	{"name", STRING(struct sl_config_port, name)},
	{"device", STRING(struct sl_config_port, device), .flags = F_REQUIRED},
	{"ip", .parse = p_port_ip, .flags = F_REQUIRED},
	{"prefix", .parse = p_port_prefix, AT(struct sl_config_port, prefix), .lo = 1, .hi = 32},
	{"gateway", .parse = p_ipv4, AT(struct sl_config_port, gateway)},
	{"mtu", UINT(struct sl_config_port, mtu, 576, 9000)},
	{"addresses", .parse = p_port_addresses},
};

static const struct field dataplane_fields[] = {
	{"ports", .parse = p_ports},
	{"workers", UINT(struct sl_config_dataplane, workers, 0, 1024)},
	{"mbufs", UINT(struct sl_config_dataplane, mbufs, 1023, 16777215)},
	{"idle", .parse = p_idle},
	{"tcp", SECTION(struct sl_config_dataplane, tcp, tcp_section)},
	{"test_services", SECTION(struct sl_config_dataplane, test_services, test_services_section)},
};

#define HC struct sl_config_health_check
static const struct field thresholds_fields[] = {
	{"healthy", UINT(HC, healthy, 1, 1000)},
	{"unhealthy", UINT(HC, unhealthy, 1, 1000)},
};

static const struct field hc_fields[] = {
	{"enabled", BOOL(HC, enabled)},
	{"type", .parse = p_hc_type},
	{"path", .parse = p_http_path, AT(HC, path)},
	{"interval", DURATION(HC, interval_ms, 1, UNBOUNDED)},
	{"timeout", DURATION(HC, timeout_ms, 1, UNBOUNDED)},
	{"thresholds", .parse = p_section, .sub = &thresholds_section},
	{"expected_status", .parse = p_status_range},
};
#undef HC

static const struct field rl_fields[] = {
	{"enabled", BOOL(struct sl_config_rate_limit, enabled)},
	{"requests_per_second", .parse = p_rate},
	{"requests_per_minute", .parse = p_rate},
	{"burst", UINT(struct sl_config_rate_limit, burst, 1, UNBOUNDED)},
};

static const struct field cb_fields[] = {
	{"enabled", BOOL(struct sl_config_circuit_breaker, enabled)},
	{"threshold", UINT(struct sl_config_circuit_breaker, threshold, 1, 1000000)},
	{"timeout", DURATION(struct sl_config_circuit_breaker, timeout_ms, 1, UNBOUNDED)},
	{"half_open_requests", UINT(struct sl_config_circuit_breaker, half_open_requests, 1, 1000)},
	{"half_open_successes", UINT(struct sl_config_circuit_breaker, half_open_successes, 1, 1000)},
	{"error_ratio", UINT(struct sl_config_circuit_breaker, error_ratio, 0, 100)},
	{"window", DURATION(struct sl_config_circuit_breaker, window_ms, 100, 3600000)},
	{"min_requests", UINT(struct sl_config_circuit_breaker, min_requests, 1, 1000000)},
};

#define OD struct sl_config_outlier
static const struct field od_fields[] = {
	{"enabled", BOOL(OD, enabled)},
	{"consecutive", UINT(OD, consecutive, 1, 1000000)},
	{"base_ejection_time", DURATION(OD, base_ejection_ms, 1, UNBOUNDED)},
	{"max_ejection_time", DURATION(OD, max_ejection_ms, 1, UNBOUNDED)},
	{"max_ejection_percent", UINT(OD, max_ejection_percent, 0, 100)},
};
#undef OD

static const struct field ss_fields[] = {
	{"enabled", BOOL(struct sl_config_slow_start, enabled)},
	{"window", DURATION(struct sl_config_slow_start, window_ms, 1, UNBOUNDED)},
	{"min_weight_percent", UINT(struct sl_config_slow_start, min_weight_percent, 0, 100)},
};

static const struct field cp_fields[] = {
	{"max_idle", UINT(struct sl_config_connection_pool, max_idle, 0, 1 << 24)},
	{"max_open", UINT(struct sl_config_connection_pool, max_open, 0, 1 << 24)},
	{"idle_timeout", DURATION(struct sl_config_connection_pool, idle_timeout_ms, 0, UNBOUNDED)},
};

static const struct field btls_fields[] = {
	{"verify", BOOL(struct sl_config_backend_tls, verify)},
	{"ca_file", .parse = p_btls_file, AT(struct sl_config_backend_tls, ca_file)},
	{"server_name", .parse = p_btls_server_name},
	{"cert_file", .parse = p_btls_file, AT(struct sl_config_backend_tls, cert_file)},
	{"key_file", .parse = p_btls_file, AT(struct sl_config_backend_tls, key_file)},
};

static const struct field timeouts_fields[] = {
	{"client_header", DURATION(struct sl_config_timeouts, client_header_ms, 1, UNBOUNDED)},
	{"client_keepalive", DURATION(struct sl_config_timeouts, client_keepalive_ms, 1, UNBOUNDED)},
	{"backend_connect", DURATION(struct sl_config_timeouts, backend_connect_ms, 1, UNBOUNDED)},
	{"backend_response", DURATION(struct sl_config_timeouts, backend_response_ms, 1, UNBOUNDED)},
	{"shutdown_grace", DURATION(struct sl_config_timeouts, shutdown_grace_ms, 0, UNBOUNDED)},
};

#define LIM struct sl_config_limits
static const struct field limits_fields[] = {
	{"max_request_line", UINT(LIM, max_request_line, 16, 65535)},
	{"max_header_size", .parse = p_bytes, AT(LIM, max_header_size), .lo = 256, .hi = 65535},
	{"max_headers", UINT(LIM, max_headers, 1, 10000)},
	{"max_body", .parse = p_bytes, AT(LIM, max_body), .lo = 0, .hi = 0xffffffffLL},
	{"max_connections_per_ip", UINT(LIM, max_connections_per_ip, 0, 1 << 24)},
	{"rate_limit_table_size", UINT(LIM, rate_limit_table_size, 8, 1 << 26)},
};
#undef LIM

static const struct field queue_fields[] = {
	{"enabled", BOOL(struct sl_config_queue, enabled)},
	{"max_concurrent", UINT(struct sl_config_queue, max_concurrent, 1, 1 << 24)},
	{"max_queue", UINT(struct sl_config_queue, max_queue, 0, 1 << 24)},
	{"timeout", DURATION(struct sl_config_queue, timeout_ms, 1, UNBOUNDED)},
};

static const struct field cors_fields[] = {
	{"enabled", BOOL(struct sl_config_cors, enabled)},
	{"allowed_origins", .parse = p_cors_list, AT(struct sl_config_cors, allowed_origins)},
	{"allowed_methods", .parse = p_cors_list, AT(struct sl_config_cors, allowed_methods)},
	{"allowed_headers", .parse = p_cors_list, AT(struct sl_config_cors, allowed_headers)},
	{"max_age", UINT(struct sl_config_cors, max_age, 0, INT32_MAX)},
	{"allow_credentials", BOOL(struct sl_config_cors, allow_credentials)},
};

static const struct field security_fields[] = {
	{"enabled", BOOL(struct sl_config_security, enabled)},
	{"hsts", BOOL(struct sl_config_security, hsts)},
	{"hsts_max_age", UINT(struct sl_config_security, hsts_max_age, 0, INT32_MAX)},
	{"frame_options", .parse = p_frame_options},
	{"content_type_options", BOOL(struct sl_config_security, content_type_options)},
	{"xss_protection", BOOL(struct sl_config_security, xss_protection)},
	{"referrer_policy", .parse = p_referrer_policy},
};

static const struct field tls_fields[] = {
	{"enabled", BOOL(struct sl_config_tls, enabled)},
	{"domains", STRLIST(struct sl_config_tls, domains)},
	{"cert_dir", STRING(struct sl_config_tls, cert_dir)},
	{"auto_cert", BOOL(struct sl_config_tls, auto_cert)},
	{"cert_file", STRING(struct sl_config_tls, cert_file)},
	{"key_file", STRING(struct sl_config_tls, key_file)},
	{"ciphers", .parse = p_tls_ciphers},
	{"ciphersuites", .parse = p_tls_ciphersuites},
	{"acme", SECTION(struct sl_config_tls, acme, acme_section)},
};

static const struct field acme_fields[] = {
	{"directory", STRING(struct sl_config_acme, directory)},
	{"email", STRING(struct sl_config_acme, email)},
	{"renew_before_days", UINT(struct sl_config_acme, renew_before_days, 1, 36500)},
	{"check_interval", DURATION(struct sl_config_acme, check_interval_ms, 1000, 7 * 86400 * 1000)},
	{"ca_file", STRING(struct sl_config_acme, ca_file)},
};

static const struct field service_tls_fields[] = {
	{"enabled", BOOL(struct sl_config_service_tls, enabled)},
	{"cert_file", STRING(struct sl_config_service_tls, cert_file)},
	{"key_file", STRING(struct sl_config_service_tls, key_file)},
};

static const struct field auth_fields[] = {
	{"jwt_secret", STRING(struct sl_config_auth, jwt_secret)},
	{"db_path", STRING(struct sl_config_auth, db_path)},
	{"password_expiry_days", UINT(struct sl_config_auth, password_expiry_days, 0, 36500)},
	{"password_history_size", UINT(struct sl_config_auth, password_history_size, 0, 1000)},
	{"jwt_secret_file", STRING(struct sl_config_auth, jwt_secret_file)},
	/* Whole seconds (a JWT's exp is in seconds), at most a week. */
	{"token_ttl", DURATION(struct sl_config_auth, token_ttl_ms, 1000, 7 * 86400 * 1000)},
};

static const struct field access_log_fields[] = {
	{"enabled", BOOL(struct sl_config_access_log, enabled)},
	{"path", .parse = p_log_path, AT(struct sl_config_access_log, path)},
	{"format", .parse = p_log_format},
	{"ring_size", UINT(struct sl_config_access_log, ring_size, 1, 1 << 20)},
};

static const struct field admin_fields[] = {
	{"listen", .parse = p_listen},
	{"auth", .parse = p_auth},
	{"rate_limit", .parse = p_admin_rate_limit},
	{"access_log", SECTION(struct sl_config_admin, access_log, access_log_section)},
};

static const struct field admin_api_fields[] = {
	{"rate_limit", .parse = p_admin_rate_limit},
};

#define POLICY_SECTIONS(T)                                                                         \
	{"health_check", SECTION(T, health_check, hc_section)},                                    \
	{"rate_limit", SECTION(T, rate_limit, rl_section)},                                        \
	{"circuit_breaker", SECTION(T, circuit_breaker, cb_section)},                              \
	{"outlier_detection", SECTION(T, outlier_detection, od_section)},                          \
	{"slow_start", SECTION(T, slow_start, ss_section)},                                        \
	{"connection_pool", SECTION(T, connection_pool, cp_section)},                              \
	{"backend_tls", SECTION(T, backend_tls, btls_section)}

static const struct field backend_fields[] = {
	{"url", .parse = p_url, .flags = F_REQUIRED},
	{"weight", UINT(struct sl_config_backend, weight, 1, UNBOUNDED)},
	{"max_connections", UINT(struct sl_config_backend, max_connections, 0, UNBOUNDED)},
	{"health_check", SECTION(struct sl_config_backend, health_check, hc_section)},
};

#define LOC struct sl_config_location
static const struct field location_fields[] = {
	{"path", .parse = p_location_path, AT(LOC, path), .flags = F_REQUIRED},
	{"lb_policy", .parse = p_policy, AT(LOC, lb_policy)},
	{"http_redirect", BOOL(LOC, http_redirect)},
	{"redirect", .parse = p_redirect, AT(LOC, redirect)},
	{"rewrite", .parse = p_http_path, AT(LOC, rewrite)},
	POLICY_SECTIONS(LOC),
	{"backends", .parse = p_backends, .flags = F_REQUIRED | F_LATE},
};

/* Teeter's spelling of a location. */
static const struct field route_fields[] = {
	{"prefix", .parse = p_location_path, AT(LOC, path), .flags = F_REQUIRED},
	{"strategy", .parse = p_policy, AT(LOC, lb_policy)},
	{"backends", .parse = p_backends, .flags = F_REQUIRED | F_LATE},
};
#undef LOC

static const struct field service_fields[] = {
	{"name", .parse = p_service_name, AT(struct sl_config_service, name), .flags = F_REQUIRED},
	{"host", .parse = p_service_host},
	{"port", UINT(struct sl_config_service, port, 1, 65535)},
	{"address", .parse = p_service_address, AT(struct sl_config_service, address)},
	{"http_port", UINT(struct sl_config_service, http_port, 1, 65535)},
	{"tls", SECTION(struct sl_config_service, tls, service_tls_section)},
	POLICY_SECTIONS(struct sl_config_service),
	{"queue", SECTION(struct sl_config_service, queue, queue_section)},
	{"locations", .parse = p_locations, .flags = F_REQUIRED | F_LATE},
};

#define CFG struct sl_config
static const struct field top_fields[] = {
	{"dataplane", SECTION(CFG, dataplane, dataplane_section)},
	{"admin", SECTION(CFG, admin, admin_section)},
	{"port", .parse = p_default_port, AT(struct sl__config_ctx, default_port),
	 .lo = 1, .hi = 65535},
	{"algorithm", .parse = p_algorithm},
	POLICY_SECTIONS(CFG),
	{"queue", SECTION(CFG, queue, queue_section)},
	{"timeouts", SECTION(CFG, timeouts, timeouts_section)},
	{"limits", SECTION(CFG, limits, limits_section)},
	{"cors", SECTION(CFG, cors, cors_section)},
	{"security", SECTION(CFG, security, security_section)},
	{"tls", SECTION(CFG, tls, tls_section)},
	{"services", .parse = p_services, .flags = F_LATE},
	{"routes", .parse = p_routes, .flags = F_LATE},
	{"backends", .parse = p_top_backends, .flags = F_LATE},
	/* Terraster's spellings of admin settings */
	{"admin_port", .parse = p_admin_port, AT(struct sl_config_admin, port), .lo = 1, .hi = 65535},
	{"auth", .parse = p_auth},
	{"admin_api", .parse = p_admin_api},
};
#undef CFG

#define SECTION_DEF(var, label, fields_, begin_, finish_)                                          \
	_Static_assert(N(fields_) <= MAX_FIELDS, "walk() tracks at most MAX_FIELDS keys");         \
	static const struct section var = {label, fields_, N(fields_), begin_, finish_}

SECTION_DEF(top_section, "the top level", top_fields, NULL, NULL);
SECTION_DEF(dataplane_section, "dataplane", dataplane_fields, NULL, NULL);
SECTION_DEF(port_section, "port", port_fields, NULL, port_finish);
SECTION_DEF(tcp_section, "tcp", tcp_fields, NULL, NULL);
SECTION_DEF(forward_section, "forward", forward_fields, NULL, NULL);
SECTION_DEF(test_services_section, "test_services", test_services_fields, NULL, NULL);
SECTION_DEF(hc_section, "health_check", hc_fields, enable, hc_finish);
SECTION_DEF(thresholds_section, "thresholds", thresholds_fields, NULL, NULL);
SECTION_DEF(rl_section, "rate_limit", rl_fields, enable, rl_finish);
SECTION_DEF(cb_section, "circuit_breaker", cb_fields, enable, NULL);
SECTION_DEF(od_section, "outlier_detection", od_fields, enable, od_finish);
SECTION_DEF(ss_section, "slow_start", ss_fields, enable, NULL);
SECTION_DEF(cp_section, "connection_pool", cp_fields, NULL, cp_finish);
SECTION_DEF(btls_section, "backend_tls", btls_fields, NULL, btls_finish);
SECTION_DEF(queue_section, "queue", queue_fields, enable, NULL);
SECTION_DEF(timeouts_section, "timeouts", timeouts_fields, NULL, NULL);
SECTION_DEF(limits_section, "limits", limits_fields, NULL, NULL);
SECTION_DEF(cors_section, "cors", cors_fields, enable, cors_finish);
SECTION_DEF(security_section, "security", security_fields, enable, NULL);
SECTION_DEF(tls_section, "tls", tls_fields, enable, tls_finish);
SECTION_DEF(service_tls_section, "tls", service_tls_fields, enable, service_tls_finish);
SECTION_DEF(acme_section, "acme", acme_fields, NULL, acme_finish);
SECTION_DEF(admin_section, "admin", admin_fields, NULL, NULL);
SECTION_DEF(auth_section, "auth", auth_fields, NULL, auth_finish);
SECTION_DEF(admin_api_section, "admin_api", admin_api_fields, NULL, NULL);
SECTION_DEF(access_log_section, "access_log", access_log_fields, enable, NULL);
SECTION_DEF(service_section, "service", service_fields, NULL, service_finish);
SECTION_DEF(location_section, "location", location_fields, NULL, NULL);
SECTION_DEF(route_section, "route", route_fields, NULL, NULL);
SECTION_DEF(backend_section, "backend", backend_fields, NULL, NULL);
/* clang-format on */

/* ------------------------------------------------------------------ the walker */

static int
unknown_key(struct sl__config_ctx *c, yaml_node_t *key, const struct section *s)
{
	char list[400];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < s->n_fields && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 s->fields[i].key);
	return sl__config_fail(c, key, "unknown key '%.64s' in %s; expected one of: %s",
			       (const char *)key->data.scalar.value, s->name, list);
}

/*
 * Apply mapping `node` to `obj` through section `s`. `what` names the node for a type error
 * ("expected a mapping for 'health_check'"). Returns 0, -EINVAL (error recorded) or -ENOMEM;
 * whatever it allocated before failing hangs off obj and goes with sl_config_free().
 */
static int
walk(struct sl__config_ctx *c, yaml_node_t *node, const char *what, const struct section *s,
     void *obj)
{
	yaml_node_t *keys[MAX_FIELDS] = {NULL}, *vals[MAX_FIELDS];
	unsigned char order[MAX_FIELDS];
	size_t n = 0;
	uint64_t seen = 0;
	int rc;

	if (node->type != YAML_MAPPING_NODE)
		return expected(c, node, what, "a mapping");
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key = node_at(c, p->key);
		size_t i;

		if (key->type != YAML_SCALAR_NODE)
			return sl__config_fail(
			    c, key, "a key in %s must be a plain name, not %s", s->name,
			    key->type == YAML_MAPPING_NODE ? "a mapping" : "a sequence");
		/* "port\0x" would otherwise pass for "port" */
		if (strlen((const char *)key->data.scalar.value) != key->data.scalar.length)
			return sl__config_fail(c, key, "a key in %s contains a NUL character",
					       s->name);
		for (i = 0; i < s->n_fields; i++)
			if (!strcmp((const char *)key->data.scalar.value, s->fields[i].key))
				break;
		if (i == s->n_fields)
			return unknown_key(c, key, s);
		if (keys[i])
			return sl__config_fail(c, key,
					       "duplicate key '%s' in %s (first at line %lu)",
					       s->fields[i].key, s->name, line_of(keys[i]));
		keys[i] = key;
		vals[i] = node_at(c, p->value);
		seen |= 1ull << i;
		order[n++] = (unsigned char)i;
	}
	for (size_t i = 0; i < s->n_fields; i++)
		if ((s->fields[i].flags & F_REQUIRED) && !keys[i])
			return sl__config_fail(c, node, "missing required key '%s' in %s",
					       s->fields[i].key, s->name);
	if (s->begin)
		s->begin(obj);
	for (unsigned int late = 0; late <= F_LATE; late += F_LATE) {
		for (size_t k = 0; k < n; k++) {
			const struct field *f = &s->fields[order[k]];

			if ((f->flags & F_LATE) != late)
				continue;
			if ((rc = f->parse(c, f, keys[order[k]], vals[order[k]], obj)) < 0)
				return rc;
		}
	}
	return s->finish ? s->finish(c, node, obj, seen) : 0;
}

void
sl__config_set_defaults(struct sl_config *cfg)
{
	struct sl_config_dataplane *dp = &cfg->dataplane;

	memset(cfg, 0, sizeof(*cfg));
	dp->mbufs = 16383;
	dp->idle = SL_IDLE_ADAPTIVE;
	dp->tcp = (struct sl_config_tcp){
	    .max_connections = 65536,
	    .syn_backlog = 1024,
	    .time_wait_ms = 2000,
	    .rcvbuf = 262144,
	    .sndbuf = 262144,
	    .rcv_mem_percent = 50,
	    .keepalive_ms = 60000,
	    .rto_min_ms = 200,
	    .delayed_ack_ms = 40,
	};
	cfg->admin.ip = htonl(0x7f000001);
	cfg->admin.port = SL_CONFIG_DEFAULT_ADMIN_PORT;
	cfg->admin.rate_limit = (struct sl_config_rate_limit){true, 10, 20};
	cfg->admin.auth.token_ttl_ms = 3600 * 1000;
	cfg->admin.access_log = (struct sl_config_access_log){
	    .path = SL_CONFIG_LOG_STDOUT, .format = SL_CONFIG_LOG_JSON, .ring_size = 4096};
	cfg->health_check = (struct sl_config_health_check){
	    .enabled = true,
	    .type = SL_CONFIG_HC_HTTP,
	    .path = "/health",
	    .interval_ms = 10000,
	    .timeout_ms = 2000,
	    .healthy = 2,
	    .unhealthy = 3,
	};
	cfg->health_check.status_min = 200;
	cfg->health_check.status_max = 399;
	cfg->circuit_breaker = (struct sl_config_circuit_breaker){true, 5, 60000, 3, 1, 0, 10000, 20};
	cfg->outlier_detection = (struct sl_config_outlier){true, 5, 30000, 300000, 10};
	cfg->slow_start = (struct sl_config_slow_start){false, 30000, 10};
	cfg->connection_pool = (struct sl_config_connection_pool){100, 1000, 90000};
	cfg->queue = (struct sl_config_queue){false, 1024, 1024, 5000};
	cfg->backend_tls.verify = true;
	snprintf(cfg->backend_tls.ca_file, sizeof(cfg->backend_tls.ca_file), "%s",
		 SL_CONFIG_DEFAULT_CA_FILE);
	/* nginx's client_header_timeout and keepalive_timeout; HAProxy-like connect. */
	cfg->timeouts = (struct sl_config_timeouts){10000, 60000, 3000, 60000, 30000};
	/* lib/http's defaults (nginx's large_client_header_buffers); no body limit unless set. */
	/* Admission (issue 9): no per-IP connection limit, a 2 MiB rate-limit table; and
	 * (above) 30 s to finish requests on SIGTERM. */
	cfg->limits = (struct sl_config_limits){8192, 16384, 100, 0, 0, 131072};
	cfg->security.hsts_max_age = 31536000;
	snprintf(cfg->tls.acme.directory, sizeof(cfg->tls.acme.directory), "%s",
		 SL_CONFIG_ACME_DEFAULT_DIRECTORY);
	cfg->tls.acme.renew_before_days = 30;
	cfg->tls.acme.check_interval_ms = 12 * 3600 * 1000;
}

int
sl__config_apply(struct sl__config_ctx *c, yaml_node_t *root)
{
	c->default_port = SL_CONFIG_DEFAULT_SERVICE_PORT;
	c->default_policy = SL_CONFIG_LB_ROUND_ROBIN;
	return walk(c, root, "the top level", &top_section, c->cfg);
}
