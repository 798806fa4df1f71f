/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/route/route.h"
#include "cunit_main.h"

/*
 * One configuration exercises every rule: services on port 80 told apart by Host (exact,
 * two nested wildcards, the default), another port, and locations with rewrite and redirect.
 * Each service's name says which rule picked it; each location's path is unique enough to
 * identify it.
 */

#define BE "        backends: [{url: 'http://198.18.0.11:8080'}]\n"

/* clang-format off */
static const char yaml[] =
	"services:\n"
	"  - name: exact\n"
	"    host: api.example.com\n"
	"    locations:\n"
	"      - path: /\n"
	BE
	"      - path: /api\n"
	BE
	"      - path: /api/v2/\n"
	BE
	"      - path: /old/\n"
	"        redirect: /new/\n"
	BE
	"      - path: /away\n"
	"        redirect: 'https://elsewhere.example.net/x'\n"
	BE
	"      - path: /rw/\n"
	"        rewrite: /backend/\n"
	BE
	"      - path: /strip/\n"
	"        rewrite: /\n"
	BE
	"  - name: wild\n"
	"    host: '*.example.com'\n"
	"    locations:\n"
	"      - path: /\n"
	BE
	"  - name: wild-deep\n"
	"    host: '*.eu.example.com'\n"
	"    locations:\n"
	"      - path: /\n"
	BE
	"  - name: default80\n"
	"    locations:\n"
	"      - path: /only/\n"
	BE
	"  - name: other-port\n"
	"    host: api.example.com\n"
	"    port: 8080\n"
	"    locations:\n"
	"      - path: /\n"
	BE;
/* clang-format on */

static struct sl_config *cfg;
static struct sl_route_table *table;

static int
setup(void)
{
	struct sl_config_error err;
	char msg[256];

	if (sl_config_load_buffer("route.yaml", yaml, sizeof(yaml) - 1, &cfg, &err) < 0) {
		sl_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	return sl_route_build(cfg, &table, msg, sizeof(msg)) == 0 ? 0 : 1;
}

static int
teardown(void)
{
	sl_route_free(table);
	sl_config_free(cfg);
	return 0;
}

static struct sl_route_match m;

static void
route(uint16_t port, const char *host, const char *target)
{
	sl_route_match(table, port, host, host ? strlen(host) : 0, target, strlen(target), 0, &m);
}

static const char *
svc(void)
{
	return m.loc ? m.loc->service->name : "(none)";
}

static const char *
loc(void)
{
	return m.loc ? m.loc->location->path : "(none)";
}

static void
test_exact_host_beats_wildcard_and_default(void)
{
	route(80, "api.example.com", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "exact");
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_PROXY);
	CU_ASSERT_EQUAL(m.status, 0);
}

static void
test_wildcard_matches_subdomains_longest_first(void)
{
	route(80, "www.example.com", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "wild");
	route(80, "a.b.example.com", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "wild");
	route(80, "x.eu.example.com", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "wild-deep");
	route(80, "y.x.eu.example.com", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "wild-deep");
	/* "*.eu.example.com" does not match eu.example.com itself; "*.example.com" does. */
	route(80, "eu.example.com", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "wild");
}

static void
test_wildcard_does_not_match_the_bare_domain(void)
{
	route(80, "example.com", "/only/x");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
	route(80, "notexample.com", "/only/x");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
	route(80, ".example.com", "/only/x");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
}

static void
test_unknown_or_missing_host_goes_to_default(void)
{
	route(80, "other.org", "/only/a");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
	route(80, NULL, "/only/a");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
	route(80, "", "/only/a");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
}

static void
test_host_case_port_and_trailing_dot_ignored(void)
{
	route(80, "API.Example.COM", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "exact");
	route(80, "api.example.com:80", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "exact");
	route(80, "Api.Example.Com.:8080", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "exact");
	CU_ASSERT_EQUAL(m.host_len, strlen("api.example.com"));
	route(80, "WWW.EXAMPLE.COM:80", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "wild");
	route(80, " api.example.com ", "/");
	CU_ASSERT_STRING_EQUAL(svc(), "exact");
	/* An IPv6 literal keeps its brackets and colons; only the port goes. */
	route(80, "[2001:db8::1]:8080", "/only/");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
	CU_ASSERT_EQUAL(m.host_len, strlen("[2001:db8::1]"));
	/* Not a port: the colon stays and the name matches nothing but the default. */
	route(80, "api.example.com:x", "/only/");
	CU_ASSERT_STRING_EQUAL(svc(), "default80");
}

static void
test_ports_are_separate(void)
{
	route(8080, "api.example.com", "/api");
	CU_ASSERT_STRING_EQUAL(svc(), "other-port");
	/* Port 8080 has no wildcard and no default. */
	route(8080, "www.example.com", "/");
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(m.status, 404);
	CU_ASSERT_PTR_NULL(m.loc);
	route(9999, "api.example.com", "/");
	CU_ASSERT_EQUAL(m.status, 404);
}

static void
test_longest_prefix_wins(void)
{
	route(80, "api.example.com", "/api/v2/users");
	CU_ASSERT_STRING_EQUAL(loc(), "/api/v2/");
	route(80, "api.example.com", "/api/v1/users");
	CU_ASSERT_STRING_EQUAL(loc(), "/api");
	/* A byte prefix, as nginx: /api also takes /apix. */
	route(80, "api.example.com", "/apix");
	CU_ASSERT_STRING_EQUAL(loc(), "/api");
	route(80, "api.example.com", "/api/v2");
	CU_ASSERT_STRING_EQUAL(loc(), "/api");
	route(80, "api.example.com", "/elsewhere");
	CU_ASSERT_STRING_EQUAL(loc(), "/");
	/* The query string is not part of the path. */
	route(80, "api.example.com", "/api?/api/v2/");
	CU_ASSERT_STRING_EQUAL(loc(), "/api");
	CU_ASSERT_EQUAL(m.path_len, 4);
	CU_ASSERT_EQUAL(m.query_len, strlen("?/api/v2/"));
}

static void
test_no_location_is_404(void)
{
	route(80, "other.org", "/elsewhere");
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(m.status, 404);
	route(80, "other.org", "/only");
	CU_ASSERT_EQUAL(m.status, 404);
	route(80, "api.example.com", "*");
	CU_ASSERT_EQUAL(m.status, 404);
}

static void
test_location_ids_are_flat_in_file_order(void)
{
	route(80, "www.example.com", "/");
	CU_ASSERT_EQUAL(m.loc->id, 7);
	CU_ASSERT_EQUAL(m.loc->service_index, 1);
	CU_ASSERT_EQUAL(m.loc->location_index, 0);
	CU_ASSERT_EQUAL(sl_route_n_locations(table), 11);
}

static int
upstream(const char *target, char *buf, size_t cap)
{
	route(80, "api.example.com", target);
	CU_ASSERT_EQUAL_FATAL(m.action, SL_ROUTE_PROXY);
	int n = sl_route_upstream_target(&m, buf, cap);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void
test_rewrite_replaces_prefix_and_keeps_query(void)
{
	char buf[256];

	CU_ASSERT(upstream("/rw/a/b?x=1&y=/rw/", buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "/backend/a/b?x=1&y=/rw/");
	CU_ASSERT(upstream("/rw/", buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "/backend/");
	CU_ASSERT(upstream("/strip/file.txt?q", buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "/file.txt?q");
	/* Without a rewrite the target goes as it came (a fragment is dropped). */
	CU_ASSERT(upstream("/api/v2/x?k=v#frag", buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "/api/v2/x?k=v");
	/* Too small a buffer is an error, not a truncation. */
	CU_ASSERT_EQUAL(upstream("/rw/a/b?x=1", buf, 15), -ENOSPC);
	CU_ASSERT_EQUAL(upstream("/rw/a/b?x=1", buf, 16), 16);
}

static void
test_absolute_form_target_routes_by_its_host(void)
{
	char buf[256];

	sl_route_match(table, 80, "other.org", 9, "http://API.example.com:80/rw/z?q=1",
		       strlen("http://API.example.com:80/rw/z?q=1"), 0, &m);
	CU_ASSERT_STRING_EQUAL(svc(), "exact");
	CU_ASSERT_STRING_EQUAL(loc(), "/rw/");
	CU_ASSERT_EQUAL(sl_route_upstream_target(&m, buf, sizeof(buf)), 14);
	buf[14] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "/backend/z?q=1");
	sl_route_match(table, 80, NULL, 0, "http://www.example.com", 22, 0, &m);
	CU_ASSERT_STRING_EQUAL(svc(), "wild");
	CU_ASSERT_EQUAL(m.path_len, 1);
}

static void
test_redirect_on_the_exact_location_path_and_proxy_below_it(void)
{
	char buf[256];
	int n;

	route(80, "api.example.com", "/old/?x=1");
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_REDIRECT);
	CU_ASSERT_EQUAL(m.status, 301);
	CU_ASSERT_FALSE(m.https);
	n = sl_route_location_header(&m, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "/new/");
	route(80, "api.example.com", "/old/page");
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_PROXY);
	CU_ASSERT_STRING_EQUAL(loc(), "/old/");
	route(80, "api.example.com", "/away");
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_REDIRECT);
	n = sl_route_location_header(&m, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "https://elsewhere.example.net/x");
	/* A redirect has no upstream target, a proxy match has no Location. */
	CU_ASSERT_EQUAL(sl_route_upstream_target(&m, buf, sizeof(buf)), -EINVAL);
	route(80, "api.example.com", "/");
	CU_ASSERT_EQUAL(sl_route_location_header(&m, buf, sizeof(buf)), -EINVAL);
}

/* http_redirect: a TLS service's location sends plain-HTTP clients to https://host[:port]. */
static void
test_http_redirect_matched_over_plain_http(void)
{
	static const char y[] = "services:\n"
				"  - name: secure\n"
				"    host: shop.example.com\n"
				"    port: 443\n"
				"    tls: {cert_file: a.pem, key_file: a.key}\n"
				"    locations:\n"
				"      - path: /\n"
				"        http_redirect: true\n" BE
				"  - name: alt\n"
				"    host: alt.example.com\n"
				"    port: 8443\n"
				"    http_port: 8080\n"
				"    tls: {cert_file: a.pem, key_file: a.key}\n"
				"    locations:\n"
				"      - path: /keep\n" BE
				"      - path: /\n"
				"        http_redirect: true\n" BE
				"  - name: plain\n"
				"    host: plain.example.com\n"
				"    port: 443\n"
				"    tls: {cert_file: a.pem, key_file: a.key}\n"
				"    locations:\n"
				"      - path: /\n" BE;
	struct sl_config *c = NULL;
	struct sl_config_error err;
	struct sl_route_table *t = NULL;
	char msg[512], buf[256];
	int n;

	CU_ASSERT_FATAL(sl_config_load_buffer("h.yaml", y, sizeof(y) - 1, &c, &err) == 0);
	CU_ASSERT_EQUAL(sl_route_check(c, msg, sizeof(msg)), 0);
	/* the plain ports: 80 by default, http_port when named, none without a reason */
	CU_ASSERT_EQUAL(sl_config_plain_port(c, &c->services[0]), 80);
	CU_ASSERT_EQUAL(sl_config_plain_port(c, &c->services[1]), 8080);
	CU_ASSERT_EQUAL(sl_config_plain_port(c, &c->services[2]), 0);
	CU_ASSERT_FATAL(sl_route_build(c, &t, msg, sizeof(msg)) == 0);
	sl_route_match(t, 443, "Shop.Example.com:80", 19, "/cart?id=7", 10, 0, &m);
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_REDIRECT);
	CU_ASSERT_EQUAL(m.status, 308);
	n = sl_route_location_header(&m, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "https://Shop.Example.com/cart?id=7");
	/* a TLS port other than 443 is in the URL; the query stays, the fragment-less path too */
	sl_route_match(t, 8443, "alt.example.com", 15, "/a/b?x=1&y=%20", 14, 0, &m);
	CU_ASSERT_EQUAL(m.status, 308);
	n = sl_route_location_header(&m, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "https://alt.example.com:8443/a/b?x=1&y=%20");
	/* too small a buffer: -ENOSPC, never a cut URL */
	CU_ASSERT_EQUAL(sl_route_location_header(&m, buf, 25), -ENOSPC);
	/* only the locations that ask */
	sl_route_match(t, 8443, "alt.example.com", 15, "/keep/x", 7, 0, &m);
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_PROXY);
	/* over TLS: proxied */
	sl_route_match(t, 443, "shop.example.com", 16, "/cart", 5, SL_ROUTE_F_TLS, &m);
	CU_ASSERT_EQUAL(m.action, SL_ROUTE_PROXY);
	sl_route_free(t);
	/* a configuration built by hand with http_redirect on a plain service: refused */
	c->services[0].tls.enabled = false;
	CU_ASSERT_EQUAL(sl_route_check(c, msg, sizeof(msg)), -ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "http_redirect needs a TLS service"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 7"));
	sl_config_free(c);
}

/* services[].address: a VIP's services answer there only; the port's others elsewhere. */
static void
test_services_told_apart_by_address(void)
{
	static const char y[] =
	    "dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
	    " addresses: [198.18.0.60, 198.18.0.61]}\n"
	    "services:\n"
	    "  - name: vip60\n    address: 198.18.0.60\n"
	    "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
	    "  - name: vip60-api\n    address: 198.18.0.60\n    host: api.test\n"
	    "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
	    "  - name: vip61-api\n    address: 198.18.0.61\n    host: api.test\n"
	    "    locations: [{path: /, backends: [{url: http://198.18.0.12}]}]\n"
	    "  - name: port\n"
	    "    locations: [{path: /, backends: [{url: http://198.18.0.13}]}]\n";
	struct sl_config *c = NULL;
	struct sl_config_error err;
	struct sl_route_table *t = NULL;
	char msg[512];
	uint32_t v60 = htonl(0xc612003c), v61 = htonl(0xc612003d), own = htonl(0xc6120002);

	CU_ASSERT_FATAL(sl_config_load_buffer("v.yaml", y, sizeof(y) - 1, &c, &err) == 0);
	CU_ASSERT_FATAL(sl_route_build(c, &t, msg, sizeof(msg)) == 0);
#define ROUTE_AT(addr, host) sl_route_match_addr(t, addr, 80, host, strlen(host), "/x", 2, 0, &m)
	ROUTE_AT(v60, "other");
	CU_ASSERT_STRING_EQUAL(m.loc ? m.loc->service->name : "", "vip60");
	ROUTE_AT(v60, "api.test");
	CU_ASSERT_STRING_EQUAL(m.loc ? m.loc->service->name : "", "vip60-api");
	ROUTE_AT(v61, "api.test");
	CU_ASSERT_STRING_EQUAL(m.loc ? m.loc->service->name : "", "vip61-api");
	/* 61 has no default service: another Host is a 404 there, not the port's service. */
	ROUTE_AT(v61, "other");
	CU_ASSERT_EQUAL(m.status, 404);
	ROUTE_AT(own, "api.test");
	CU_ASSERT_STRING_EQUAL(m.loc ? m.loc->service->name : "", "port");
	sl_route_match(t, 80, "api.test", 8, "/x", 2, 0, &m);
	CU_ASSERT_STRING_EQUAL(m.loc ? m.loc->service->name : "", "port");
	sl_route_match_addr(t, v60, 81, "other", 5, "/x", 2, 0, &m);
	CU_ASSERT_EQUAL(m.status, 404); /* no service on port 81 */
#undef ROUTE_AT
	sl_route_free(t);
	sl_config_free(c);
}

static int
check_yaml(const char *y, char *msg, size_t len)
{
	struct sl_config *c = NULL;
	struct sl_config_error err;
	int rc;

	CU_ASSERT_FATAL(sl_config_load_buffer("c.yaml", y, strlen(y), &c, &err) == 0);
	rc = sl_route_check(c, msg, len);
	sl_config_free(c);
	return rc;
}

static void
test_check_accepts_the_test_config_and_refuses_redirect_loops(void)
{
	char msg[512];

	CU_ASSERT_EQUAL(sl_route_check(cfg, msg, sizeof(msg)), 0);
	/* /a/ -> /b/ -> /a/ */
	CU_ASSERT_EQUAL(check_yaml("services:\n"
				   "  - name: loop\n"
				   "    locations:\n"
				   "      - path: /\n" BE "      - path: /a/\n"
				   "        redirect: /b/?from=a\n" BE "      - path: /b/\n"
				   "        redirect: /a/\n" BE,
				   msg, sizeof(msg)),
			-ELOOP);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "redirected forever"));
	/* "/" -> "/" */
	CU_ASSERT_EQUAL(check_yaml("services:\n"
				   "  - name: self\n"
				   "    locations:\n"
				   "      - path: /\n"
				   "        redirect: /\n" BE,
				   msg, sizeof(msg)),
			-ELOOP);
	/* "/" -> "/app/", a proxied location: fine (Terraster's example). */
	CU_ASSERT_EQUAL(check_yaml("services:\n"
				   "  - name: app\n"
				   "    locations:\n"
				   "      - path: /\n"
				   "        redirect: /app/\n" BE "      - path: /app/\n" BE,
				   msg, sizeof(msg)),
			0);
	/* "/a/" -> "/a/x": below the location, which proxies it: fine. */
	CU_ASSERT_EQUAL(check_yaml("services:\n"
				   "  - name: down\n"
				   "    locations:\n"
				   "      - path: /a/\n"
				   "        redirect: /a/x\n" BE,
				   msg, sizeof(msg)),
			0);
}

/* A Host that could split a header never reaches a Location. */
static void
test_https_location_refuses_a_bad_host(void)
{
	struct sl_route_location rl = {0};
	struct sl_config_location l = {0};
	struct sl_route_match x = {0};
	char buf[128];

	l.http_redirect = true;
	rl.location = &l;
	x.loc = &rl;
	x.action = SL_ROUTE_REDIRECT;
	x.https = true;
	x.host = "a\r\nSet-Cookie: x";
	x.host_len = strlen(x.host);
	x.path = "/";
	x.path_len = 1;
	x.query = "";
	CU_ASSERT_EQUAL(sl_route_location_header(&x, buf, sizeof(buf)), -EINVAL);
}

static void
test_build_refuses_an_empty_table_gracefully(void)
{
	struct sl_config empty = {0};
	struct sl_route_table *t = NULL;
	char msg[128];

	CU_ASSERT_EQUAL(sl_route_build(&empty, &t, msg, sizeof(msg)), 0);
	sl_route_match(t, 80, "x", 1, "/", 1, 0, &m);
	CU_ASSERT_EQUAL(m.status, 404);
	sl_route_free(t);
}

/*
 * Arbitrary bytes as Host and target, each in a heap block of exactly its size (so that a
 * sanitizer build catches a read past the end): the match always lands inside its inputs
 * and answers one of the statuses it may answer.
 */
static void
test_match_stays_inside_arbitrary_input(void)
{
	static const char alphabet[] = "/?#:.*[]@aA-zZ09 \t%";
	uint64_t x = 88172645463325252ULL;
	char out[1024];

	for (int round = 0; round < 20000; round++) {
		size_t hl, tl;
		char *h, *tg;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		hl = x % 24;
		tl = (x >> 8) % 40;
		h = malloc(hl ? hl : 1);
		tg = malloc(tl ? tl : 1);
		CU_ASSERT_FATAL(h && tg);
		for (size_t i = 0; i < hl; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			h[i] = x & 1 ? (char)(x >> 8) : alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		}
		for (size_t i = 0; i < tl; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			tg[i] =
			    x & 1 ? (char)(x >> 8) : alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		}
		/* Half of them start like real targets and hosts. */
		if (round & 1 && tl)
			tg[0] = '/';
		if (round & 2 && hl > 4)
			memcpy(h, "api.", 4);
		sl_route_match(table, round & 4 ? 80 : 8080, h, hl, tg, tl, 0, &m);
		CU_ASSERT(m.status == 0 || m.status == 301 || m.status == 404);
		CU_ASSERT((m.host >= h && m.host + m.host_len <= h + hl) ||
			  (m.host >= tg && m.host + m.host_len <= tg + tl) || m.host_len == 0);
		CU_ASSERT((m.path >= tg && m.path + m.path_len <= tg + tl) ||
			  (m.path_len == 1 && m.path[0] == '/') || m.path_len == 0);
		CU_ASSERT(m.query_len == 0 || (m.query >= tg && m.query + m.query_len <= tg + tl));
		if (m.action == SL_ROUTE_PROXY)
			CU_ASSERT(sl_route_upstream_target(&m, out, sizeof(out)) >= 0);
		if (m.action == SL_ROUTE_REDIRECT)
			CU_ASSERT(sl_route_location_header(&m, out, sizeof(out)) > 0);
		free(h);
		free(tg);
	}
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_exact_host_beats_wildcard_and_default),
	    SL_UNIT_TEST(test_wildcard_matches_subdomains_longest_first),
	    SL_UNIT_TEST(test_wildcard_does_not_match_the_bare_domain),
	    SL_UNIT_TEST(test_unknown_or_missing_host_goes_to_default),
	    SL_UNIT_TEST(test_host_case_port_and_trailing_dot_ignored),
	    SL_UNIT_TEST(test_ports_are_separate),
	    SL_UNIT_TEST(test_services_told_apart_by_address),
	    SL_UNIT_TEST(test_longest_prefix_wins),
	    SL_UNIT_TEST(test_no_location_is_404),
	    SL_UNIT_TEST(test_location_ids_are_flat_in_file_order),
	    SL_UNIT_TEST(test_rewrite_replaces_prefix_and_keeps_query),
	    SL_UNIT_TEST(test_absolute_form_target_routes_by_its_host),
	    SL_UNIT_TEST(test_redirect_on_the_exact_location_path_and_proxy_below_it),
	    SL_UNIT_TEST(test_http_redirect_matched_over_plain_http),
	    SL_UNIT_TEST(test_check_accepts_the_test_config_and_refuses_redirect_loops),
	    SL_UNIT_TEST(test_https_location_refuses_a_bad_host),
	    SL_UNIT_TEST(test_match_stays_inside_arbitrary_input),
	    SL_UNIT_TEST(test_build_refuses_an_empty_table_gracefully),
	};

	return sl_unit_run("route", setup, teardown, tests, sizeof(tests) / sizeof(tests[0]));
}
