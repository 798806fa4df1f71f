/* SPDX-License-Identifier: MIT */
#ifndef SL_ROUTE_H
#define SL_ROUTE_H

/*
 * Request routing: (listener port, Host, request target) -> a service's location, or a
 * redirect, or 404.
 *
 * The table is built once per configuration snapshot from struct sl_config (it may allocate
 * and keeps pointers into the configuration, which must outlive it); matching is read-only,
 * allocates nothing and may run on any number of workers at once.
 *
 * Services: matched by (address, port) (a service's `address`, a VIP, claims the pair;
 * the port's services without one answer on its other addresses), then by Host in this
 * order of precedence (as nginx's server_name):
 *   1. an exact host            api.example.com
 *   2. the longest wildcard     *.example.com matches a.example.com and a.b.example.com,
 *                               not example.com itself
 *   3. the port's default       host "" (written "*" or left out): any host, no host
 * Host is compared without regard to case, after removing a ":port" suffix and one
 * trailing dot ("API.Example.com.:8080" is "api.example.com"). An IPv6 literal keeps its
 * brackets. A request in absolute form (GET http://h/p HTTP/1.1) is routed by the host in its
 * target, which takes precedence over the Host header (RFC 9112, 3.2.2).
 *
 * Locations: the longest `path` that is a byte prefix of the request path (the target up to
 * '?' or '#'), like nginx prefix locations: "/api" matches "/api/x" and also "/apix"; write
 * "/api/" to match the segment only. The path is compared as received, neither
 * percent-decoded nor normalised ("/a/../b" is not "/b"): routing picks a backend pool, it is
 * not an access control.
 *
 * Cost per request: the port is an array index; the exact host is one hash probe; wildcards
 * are one probe per label of the Host, all suffix hashes computed in one right-to-left pass;
 * locations are scanned longest first with memcmp, O(locations of the service). Nothing is
 * copied.
 *
 * Actions, in order:
 *   1. `http_redirect: true` sends a plain-HTTP client to https://host[:port]/target
 *      (SL_ROUTE_HTTPS_REDIRECT_STATUS; the port is the service's when it is not 443). The
 *      service must be a TLS one; plain clients reach it on its plain port
 *      (sl_config_plain_port).
 *   2. `redirect: X` answers a request whose path is exactly the location's path (the query
 *      does not count) with Location: X as written (SL_ROUTE_REDIRECT_STATUS); every other
 *      request under the location is proxied. This is Terraster's rule (its location "/"
 *      with redirect "/app/" sends "/" to "/app/" and proxies the rest), generalised from
 *      "/" to any location path; it is why a location with a redirect still has backends.
 *   3. Otherwise the request is proxied, with `rewrite` replacing the matched prefix.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config/config.h"

/*
 * The configuration has no field for a redirect's status code. 301 for `redirect` (what
 * Terraster answers); 308 for http -> https, which unlike 301 keeps a POST a POST.
 */
#define SL_ROUTE_REDIRECT_STATUS 301
#define SL_ROUTE_HTTPS_REDIRECT_STATUS 308

enum sl_route_action {
	SL_ROUTE_NOT_FOUND = 0, /* no service or no location: 404 */
	SL_ROUTE_PROXY,		/* pick a backend of the location; rewrite the target */
	SL_ROUTE_REDIRECT,	/* answer `status` with a Location header */
};

/* A location as the table holds it. */
struct sl_route_location {
	const struct sl_config_service *service;
	const struct sl_config_location *location;
	unsigned int id;	     /* 0..n-1 over the whole configuration, in file order */
	unsigned int service_index;  /* into cfg->services */
	unsigned int location_index; /* into service->locations */
	uint32_t prefix_len;
	uint32_t rewrite_len;  /* 0 = no rewrite */
	uint32_t redirect_len; /* 0 = no redirect */
};

struct sl_route_match {
	enum sl_route_action action;
	unsigned int status; /* 404, a 3xx for SL_ROUTE_REDIRECT, 0 for SL_ROUTE_PROXY */
	bool https;	     /* a redirect to https:// (http_redirect) rather than `redirect` */
	const struct sl_route_location *loc; /* NULL for SL_ROUTE_NOT_FOUND */
	/* Where things are in the caller's strings (valid while those are). */
	const char *host; /* the effective host, without port or trailing dot */
	size_t host_len;
	const char *path; /* within the target: from '/' up to '?', '#' or the end */
	size_t path_len;
	const char *query; /* from '?' (included) to the end or '#'; query_len 0 = none */
	size_t query_len;
};

struct sl_route_table;

/* Flags of sl_route_match(). */
#define SL_ROUTE_F_TLS 0x1u /* the request came over TLS: http_redirect does not apply */

/*
 * Build the table for every service of cfg. Returns 0, or -ENOMEM, or -EINVAL with a
 * sentence in err (two services with the same port and host, which the loader already
 * refuses).
 */
int sl_route_build(const struct sl_config *cfg, struct sl_route_table **out, char *err,
		   size_t err_len);
void sl_route_free(struct sl_route_table *t);

/* Number of locations in the table (ids run 0..n-1). */
unsigned int sl_route_n_locations(const struct sl_route_table *t);

/* Location `id` (0..n-1, file order), or NULL. */
const struct sl_route_location *sl_route_location_at(const struct sl_route_table *t,
						     unsigned int id);

/*
 * Route one request. `host` is the Host header's value (NULL or empty when absent),
 * `target` the request target as received. Fills *m; never fails (an unroutable request
 * is SL_ROUTE_NOT_FOUND, status 404).
 */
void sl_route_match(const struct sl_route_table *t, uint16_t port, const char *host,
		    size_t host_len, const char *target, size_t target_len, unsigned int flags,
		    struct sl_route_match *m);
/*
 * The same for a connection to local address `addr` (network order): services with that
 * `address` (a VIP) when any claim (addr, port), and only those (as nginx's listen on an
 * address); else the port's services without an address. sl_route_match is addr 0.
 */
void sl_route_match_addr(const struct sl_route_table *t, uint32_t addr, uint16_t port,
			 const char *host, size_t host_len, const char *target, size_t target_len,
			 unsigned int flags, struct sl_route_match *m);

/*
 * The target to send upstream for a SL_ROUTE_PROXY match, in origin form: the location's
 * `rewrite` in place of its prefix (when set), then the rest of the path, then the query
 * string as received ("/api/u?x=1" with path /api/ and rewrite /v1/ is "/v1/u?x=1").
 * Returns the length written to buf (not NUL-terminated), or -ENOSPC when cap is too small,
 * or -EINVAL for a match that is not a proxy match.
 */
int sl_route_upstream_target(const struct sl_route_match *m, char *buf, size_t cap);

/*
 * The Location header value for a SL_ROUTE_REDIRECT match: the configured `redirect` as
 * written (a path or an absolute URL), or for http_redirect "https://" + host + path +
 * query. Returns the length written (not NUL-terminated), -ENOSPC, or -EINVAL (not a
 * redirect, or a host with characters that have no place in a Location header).
 */
int sl_route_location_header(const struct sl_route_match *m, char *buf, size_t cap);

/*
 * What the routing part of a configuration cannot do yet or would loop on; the app prints
 * the message and refuses to start (a reload is refused). Returns 0, or -ENOTSUP /
 * -ELOOP with one sentence in msg:
 *   - a location with http_redirect: true in a service without TLS;
 *   - a location whose `redirect` is a path that leads back to it, directly or through other
 *     locations' redirects (clients would be redirected forever).
 */
int sl_route_check(const struct sl_config *cfg, char *msg, size_t msg_len);

#endif
