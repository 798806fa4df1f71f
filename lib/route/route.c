/* SPDX-License-Identifier: MIT */
/* Host + longest-prefix routing, rewrite and redirect targets; see route.h for the rules. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash/mix64.h"
#include "route.h"

enum host_kind {
	HOST_EXACT = 0,
	HOST_WILDCARD = 1, /* name is the suffix with its dot: ".example.com" */
	HOST_DEFAULT = 2,  /* name is "" */
	HOST_ADDR = 3,	   /* name is "": services claim this (address, port), a VIP */
};

/* Services are keyed by (address, port); address 0 for those on every address of the port. */
static inline uint64_t
key_of(uint32_t addr, uint16_t port)
{
	return (uint64_t)addr << 16 | port;
}

struct host_entry {
	uint64_t hash;
	const char *name; /* lower case, in the configuration */
	uint32_t len;
	uint64_t key; /* key_of(address, port) */
	uint8_t kind;
	uint8_t used;
	unsigned int service;
};

struct route_service {
	struct sl_route_location **by_len; /* longest prefix first */
	unsigned int n;
};

struct sl_route_table {
	struct sl_route_location *locs;
	unsigned int n_locs;
	struct route_service *services;
	unsigned int n_services;
	struct host_entry *hosts; /* open addressing, linear probing */
	uint64_t mask;		  /* size - 1, a power of two */
	unsigned int n_kind[4];	  /* entries per host_kind: skip the probes that cannot hit */
};

#define HOST_MAX 255

static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* FNV-1a, fed from the last byte to the first so that every suffix's hash is on the way. */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline uint64_t
fnv_step(uint64_t h, unsigned char c)
{
	return (h ^ lower(c)) * FNV_PRIME;
}

static inline uint64_t
finish(uint64_t h, uint64_t key, enum host_kind kind)
{
	return sl_hash_mix64(h ^ (key * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)kind << 48));
}

static uint64_t
hash_name(const char *s, size_t len, uint64_t key, enum host_kind kind)
{
	uint64_t h = FNV_OFFSET;

	while (len)
		h = fnv_step(h, (unsigned char)s[--len]);
	return finish(h, key, kind);
}

/* Request bytes (any case) equal to configuration bytes (lower case). */
static inline bool
eq_lower(const char *req, const char *cfg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (lower((unsigned char)req[i]) != (unsigned char)cfg[i])
			return false;
	return true;
}

static const struct host_entry *
lookup(const struct sl_route_table *t, uint64_t h, uint64_t key, enum host_kind kind,
       const char *name, size_t len)
{
	for (uint64_t s = h & t->mask;; s = (s + 1) & t->mask) {
		const struct host_entry *e = &t->hosts[s];

		if (!e->used)
			return NULL;
		if (e->hash == h && e->key == key && e->kind == kind && e->len == len &&
		    eq_lower(name, e->name, len))
			return e;
	}
}

static void
put_host(struct sl_route_table *t, uint64_t h, uint64_t key, enum host_kind kind, const char *name,
	 size_t len, unsigned int svc)
{
	uint64_t slot;

	for (slot = h & t->mask; t->hosts[slot].used; slot = (slot + 1) & t->mask)
		;
	t->n_kind[kind]++;
	t->hosts[slot] = (struct host_entry){
	    .hash = h,
	    .name = name,
	    .len = (uint32_t)len,
	    .key = key,
	    .kind = (uint8_t)kind,
	    .used = 1,
	    .service = svc,
	};
}

static int
insert(struct sl_route_table *t, const struct sl_config *cfg, unsigned int svc, char *err,
       size_t err_len)
{
	const struct sl_config_service *s = &cfg->services[svc];
	enum host_kind kind = s->host[0] == '\0'	   ? HOST_DEFAULT
			      : !strncmp(s->host, "*.", 2) ? HOST_WILDCARD
							   : HOST_EXACT;
	const char *name = kind == HOST_WILDCARD ? s->host + 1 : s->host;
	size_t len = strlen(name);
	uint64_t key = key_of(s->address, s->port);
	uint64_t h = hash_name(name, len, key, kind);
	const struct host_entry *dup = lookup(t, h, key, kind, name, len);

	if (dup) {
		snprintf(err, err_len,
			 "services '%s' and '%s' both listen on port %u%s for host '%s'; give one "
			 "of them another host, port or address",
			 cfg->services[dup->service].name, s->name, s->port,
			 s->address ? " of their address" : "", s->host[0] ? s->host : "*");
		return -EINVAL;
	}
	put_host(t, h, key, kind, name, len, svc);
	/* A VIP's mark: its (address, port) is claimed, the port's other services stay out. */
	h = finish(FNV_OFFSET, key, HOST_ADDR);
	if (s->address && !lookup(t, h, key, HOST_ADDR, "", 0))
		put_host(t, h, key, HOST_ADDR, "", 0, svc);
	return 0;
}

static int
cmp_prefix_len(const void *a, const void *b)
{
	const struct sl_route_location *x = *(const struct sl_route_location *const *)a;
	const struct sl_route_location *y = *(const struct sl_route_location *const *)b;

	/* Longest first; equal lengths keep file order (the loader refuses duplicates anyway). */
	if (x->prefix_len != y->prefix_len)
		return x->prefix_len > y->prefix_len ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

int
sl_route_build(const struct sl_config *cfg, struct sl_route_table **out, char *err, size_t err_len)
{
	struct sl_route_table *t;
	unsigned int n_locs = 0, id = 0;
	uint64_t size = 16;
	int rc = -ENOMEM;

	if (!cfg || !out)
		return -EINVAL;
	if (err && err_len)
		err[0] = '\0';
	for (unsigned int s = 0; s < cfg->n_services; s++)
		n_locs += cfg->services[s].n_locations;
	/* Up to two entries per service (its host, a VIP's mark): at most half full. */
	while (size < 4ull * cfg->n_services)
		size <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n_services = cfg->n_services;
	t->n_locs = n_locs;
	t->mask = size - 1;
	t->hosts = calloc(size, sizeof(*t->hosts));
	t->services = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*t->services));
	t->locs = calloc(n_locs ? n_locs : 1, sizeof(*t->locs));
	if (!t->hosts || !t->services || !t->locs)
		goto fail;
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];
		struct route_service *rs = &t->services[s];

		rs->n = svc->n_locations;
		rs->by_len = calloc(rs->n ? rs->n : 1, sizeof(*rs->by_len));
		if (!rs->by_len)
			goto fail;
		for (unsigned int l = 0; l < svc->n_locations; l++, id++) {
			const struct sl_config_location *loc = &svc->locations[l];
			struct sl_route_location *rl = &t->locs[id];

			*rl = (struct sl_route_location){
			    .service = svc,
			    .location = loc,
			    .id = id,
			    .service_index = s,
			    .location_index = l,
			    .prefix_len = (uint32_t)strlen(loc->path),
			    .rewrite_len = (uint32_t)strlen(loc->rewrite),
			    .redirect_len = (uint32_t)strlen(loc->redirect),
			};
			rs->by_len[l] = rl;
		}
		qsort(rs->by_len, rs->n, sizeof(*rs->by_len), cmp_prefix_len);
		if ((rc = insert(t, cfg, s, err, err_len)) < 0)
			goto fail;
	}
	*out = t;
	return 0;
fail:
	if (rc == -ENOMEM && err && err_len)
		snprintf(err, err_len, "out of memory building the route table");
	sl_route_free(t);
	return rc;
}

void
sl_route_free(struct sl_route_table *t)
{
	if (!t)
		return;
	if (t->services)
		for (unsigned int s = 0; s < t->n_services; s++)
			free(t->services[s].by_len);
	free(t->services);
	free(t->locs);
	free(t->hosts);
	free(t);
}

unsigned int
sl_route_n_locations(const struct sl_route_table *t)
{
	return t ? t->n_locs : 0;
}

const struct sl_route_location *
sl_route_location_at(const struct sl_route_table *t, unsigned int id)
{
	return t != NULL && id < t->n_locs ? &t->locs[id] : NULL;
}

/* Host header value -> the name to match: no surrounding blanks, no port, no trailing dot. */
static void
normalise_host(const char *h, size_t len, const char **out, size_t *out_len)
{
	while (len && (*h == ' ' || *h == '\t'))
		h++, len--;
	while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (len && h[0] == '[') {
		const char *close = memchr(h, ']', len);

		if (close)
			len = (size_t)(close - h) + 1;
	} else {
		size_t i = len;

		while (i && h[i - 1] >= '0' && h[i - 1] <= '9')
			i--;
		if (i && h[i - 1] == ':')
			len = i - 1;
	}
	if (len && h[len - 1] == '.')
		len--;
	*out = h;
	*out_len = len;
}

static bool
prefix_ci(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && eq_lower(s, p, n);
}

/*
 * Split the target into path and query; an absolute-form target also gives the host.
 * Returns true when the target carried an authority (*host set).
 */
static bool
split_target(const char *target, size_t len, struct sl_route_match *m, const char **host,
	     size_t *host_len)
{
	const char *p = target, *end = target + len, *q;
	bool absolute = false;

	if (len && target[0] != '/') {
		size_t skip = prefix_ci(target, len, "http://")	   ? 7
			      : prefix_ci(target, len, "https://") ? 8
								   : 0;
		if (skip) {
			const char *a = target + skip, *ae = a, *at;

			while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
				ae++;
			/* userinfo@ is not part of the host (and is deprecated, RFC 9110 4.2.4). */
			for (at = ae; at > a && at[-1] != '@'; at--)
				;
			*host = at > a ? at : a;
			*host_len = (size_t)(ae - *host);
			absolute = true;
			p = ae;
		}
	}
	for (q = p; q < end && *q != '?' && *q != '#'; q++)
		;
	if (absolute && (q == p)) {
		/* "http://h" or "http://h?x": the path is "/" (RFC 9112 3.2.2). */
		m->path = "/";
		m->path_len = 1;
	} else {
		m->path = p;
		m->path_len = (size_t)(q - p);
	}
	m->query = q;
	m->query_len = 0;
	if (q < end && *q == '?') {
		const char *f = memchr(q, '#', (size_t)(end - q));

		m->query_len = (size_t)((f ? f : end) - q);
	}
	return absolute;
}

static const struct host_entry *
find_host(const struct sl_route_table *t, uint64_t key, const char *h, size_t len)
{
	uint64_t suffix[HOST_MAX / 2 + 2];
	size_t suffix_at[HOST_MAX / 2 + 2];
	unsigned int n_suffix = 0;
	const struct host_entry *e;

	if (len && len <= HOST_MAX && (t->n_kind[HOST_EXACT] || t->n_kind[HOST_WILDCARD])) {
		uint64_t acc = FNV_OFFSET;
		bool wild = t->n_kind[HOST_WILDCARD] != 0;

		for (size_t i = len; i-- > 0;) {
			acc = fnv_step(acc, (unsigned char)h[i]);
			/* ".example.com" with at least one byte before it: a wildcard candidate. */
			if (wild && h[i] == '.' && i > 0 &&
			    n_suffix < sizeof(suffix) / sizeof(suffix[0])) {
				suffix[n_suffix] = acc;
				suffix_at[n_suffix++] = i;
			}
		}
		if (t->n_kind[HOST_EXACT] &&
		    (e = lookup(t, finish(acc, key, HOST_EXACT), key, HOST_EXACT, h, len)))
			return e;
		/* The last suffix recorded is the leftmost dot: the longest wildcard first. */
		while (n_suffix--) {
			size_t at = suffix_at[n_suffix];
			uint64_t hs = finish(suffix[n_suffix], key, HOST_WILDCARD);

			if ((e = lookup(t, hs, key, HOST_WILDCARD, h + at, len - at)))
				return e;
		}
	}
	if (!t->n_kind[HOST_DEFAULT])
		return NULL;
	return lookup(t, finish(FNV_OFFSET, key, HOST_DEFAULT), key, HOST_DEFAULT, "", 0);
}

/* The services of a VIP's (address, port) when some claim it, else those of the port. */
static const struct host_entry *
find_service(const struct sl_route_table *t, uint32_t addr, uint16_t port, const char *h,
	     size_t len)
{
	uint64_t key = key_of(addr, port);

	if (addr && t->n_kind[HOST_ADDR] &&
	    lookup(t, finish(FNV_OFFSET, key, HOST_ADDR), key, HOST_ADDR, "", 0))
		return find_host(t, key, h, len);
	return find_host(t, key_of(0, port), h, len);
}

void
sl_route_match(const struct sl_route_table *t, uint16_t port, const char *host, size_t host_len,
	       const char *target, size_t target_len, unsigned int flags, struct sl_route_match *m)
{
	sl_route_match_addr(t, 0, port, host, host_len, target, target_len, flags, m);
}

void
sl_route_match_addr(const struct sl_route_table *t, uint32_t addr, uint16_t port, const char *host,
		    size_t host_len, const char *target, size_t target_len, unsigned int flags,
		    struct sl_route_match *m)
{
	const struct host_entry *e;
	const struct route_service *rs;

	memset(m, 0, sizeof(*m));
	m->action = SL_ROUTE_NOT_FOUND;
	m->status = 404;
	if (!host)
		host_len = 0;
	split_target(target ? target : "", target ? target_len : 0, m, &host, &host_len);
	normalise_host(host ? host : "", host_len, &m->host, &m->host_len);
	if (!t || !(e = find_service(t, addr, port, m->host, m->host_len)))
		return;
	rs = &t->services[e->service];
	for (unsigned int k = 0; k < rs->n; k++) {
		const struct sl_route_location *rl = rs->by_len[k];

		if (rl->prefix_len <= m->path_len &&
		    !memcmp(m->path, rl->location->path, rl->prefix_len)) {
			m->loc = rl;
			break;
		}
	}
	if (!m->loc)
		return;
	if (m->loc->location->http_redirect && !(flags & SL_ROUTE_F_TLS)) {
		m->action = SL_ROUTE_REDIRECT;
		m->status = SL_ROUTE_HTTPS_REDIRECT_STATUS;
		m->https = true;
	} else if (m->loc->redirect_len && m->path_len == m->loc->prefix_len) {
		m->action = SL_ROUTE_REDIRECT;
		m->status = SL_ROUTE_REDIRECT_STATUS;
	} else {
		m->action = SL_ROUTE_PROXY;
		m->status = 0;
	}
}

static inline int
put(char *buf, size_t cap, size_t *at, const char *s, size_t len)
{
	if (len > cap - *at)
		return -ENOSPC;
	memcpy(buf + *at, s, len);
	*at += len;
	return 0;
}

int
sl_route_upstream_target(const struct sl_route_match *m, char *buf, size_t cap)
{
	const struct sl_route_location *rl = m ? m->loc : NULL;
	size_t at = 0;

	if (!rl || m->action != SL_ROUTE_PROXY || !buf)
		return -EINVAL;
	if (rl->rewrite_len) {
		if (put(buf, cap, &at, rl->location->rewrite, rl->rewrite_len) < 0 ||
		    put(buf, cap, &at, m->path + rl->prefix_len, m->path_len - rl->prefix_len) < 0)
			return -ENOSPC;
	} else if (put(buf, cap, &at, m->path, m->path_len) < 0) {
		return -ENOSPC;
	}
	if (put(buf, cap, &at, m->query, m->query_len) < 0)
		return -ENOSPC;
	return at > (size_t)INT32_MAX ? -ENOSPC : (int)at;
}

/* Letters, digits, '-', '.', and an IPv6 literal's "[:]" : nothing that could split a header. */
static bool
host_fits_location(const char *h, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '[' || c == ']' || c == ':'))
			return false;
	}
	return true;
}

int
sl_route_location_header(const struct sl_route_match *m, char *buf, size_t cap)
{
	char port_text[8];
	size_t at = 0, plen = 0;

	if (!m || !m->loc || m->action != SL_ROUTE_REDIRECT || !buf)
		return -EINVAL;
	if (!m->https) {
		if (put(buf, cap, &at, m->loc->location->redirect, m->loc->redirect_len) < 0)
			return -ENOSPC;
		return (int)at;
	}
	if (!host_fits_location(m->host, m->host_len))
		return -EINVAL;
	if (m->loc->service->port != 443) { /* the TLS port, when it is not https' default */
		char d[5];
		unsigned int port = m->loc->service->port, n = 0;

		do
			d[n++] = (char)('0' + port % 10);
		while ((port /= 10) != 0);
		port_text[plen++] = ':';
		while (n)
			port_text[plen++] = d[--n];
	}
	if (put(buf, cap, &at, "https://", 8) < 0 || put(buf, cap, &at, m->host, m->host_len) < 0 ||
	    put(buf, cap, &at, port_text, plen) < 0 ||
	    put(buf, cap, &at, m->path, m->path_len) < 0 ||
	    put(buf, cap, &at, m->query, m->query_len) < 0)
		return -ENOSPC;
	return (int)at;
}

/* The location of svc that `path` (up to '?') routes to, or NULL. */
static const struct sl_config_location *
longest(const struct sl_config_service *svc, const char *path)
{
	const struct sl_config_location *best = NULL;
	size_t plen = strcspn(path, "?#"), best_len = 0;

	for (unsigned int l = 0; l < svc->n_locations; l++) {
		const struct sl_config_location *loc = &svc->locations[l];
		size_t n = strlen(loc->path);

		if (n <= plen && !memcmp(path, loc->path, n) && (!best || n > best_len)) {
			best = loc;
			best_len = n;
		}
	}
	return best;
}

int
sl_route_check(const struct sl_config *cfg, char *msg, size_t msg_len)
{
	if (msg && msg_len)
		msg[0] = '\0';
	if (!cfg)
		return -EINVAL;
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];

		for (unsigned int l = 0; l < svc->n_locations; l++) {
			const struct sl_config_location *loc = &svc->locations[l], *at = loc;

			if (loc->http_redirect && !svc->tls.enabled) {
				snprintf(msg, msg_len,
					 "service '%s', location '%s' (line %u): http_redirect "
					 "needs a TLS service (a tls section) to redirect to",
					 svc->name, loc->path, loc->line);
				return -ENOTSUP;
			}
			/*
			 * Follow path redirects within the service: a hop continues when the
			 * target is exactly the path of a location that redirects too.
			 */
			for (unsigned int hops = 0; at->redirect[0] == '/'; hops++) {
				const struct sl_config_location *next = longest(svc, at->redirect);

				if (!next || !next->redirect[0] ||
				    strlen(next->path) != strcspn(at->redirect, "?#"))
					break;
				at = next;
				if (at == loc || hops > svc->n_locations) {
					snprintf(msg, msg_len,
						 "service '%s', location '%s' (line %u): redirect "
						 "'%.200s' leads back to this location, so clients "
						 "would be redirected forever",
						 svc->name, loc->path, loc->line, loc->redirect);
					return -ELOOP;
				}
			}
		}
	}
	return 0;
}
