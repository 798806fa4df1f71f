/* SPDX-License-Identifier: MIT */
#ifndef SL_CONFIG_TYPES_H
#define SL_CONFIG_TYPES_H

/*
 * The configuration tree below `dataplane`: services -> locations -> backends, the global
 * policy sections and the admin section. Included by config.h; include config.h, not this.
 *
 * Conventions of the tree:
 *   - Durations are uint32_t milliseconds (members end in _ms). In YAML a duration is written
 *     250ms, 5s, 1.5s, 1m, 1h or 1m30s; a bare number means seconds (`timeout: 5` is 5s).
 *   - Byte sizes take plain integers or binary suffixes: 256k = 262144, 1m = 1048576.
 *   - IPv4 addresses are uint32_t in network byte order; 0 = none.
 *   - Scalar strings live in fixed arrays, NUL-terminated, never truncated: a longer value is a
 *     configuration error. An empty string means "not set".
 *   - Arrays (ports, services, locations, backends, lists of strings) are heap memory owned by
 *     the tree; sl_config_free() releases everything. Nothing points back into the YAML text.
 *   - Inheritance is resolved by the loader. Every service, location and backend carries its
 *     effective policy sections (global -> service -> location -> backend), so a consumer never
 *     walks up the tree. A block at a lower level starts from the effective block of the level
 *     above and overrides only the keys it names.
 *   - `line` members give where an item was written (1-based) in the source, for messages that
 *     the control plane prints later (for example a backend whose host does not resolve).
 */

#include <stdbool.h>
#include <stdint.h>

#define SL_CONFIG_HOST_MAX 256	 /* a DNS name (253) or dotted IPv4, plus NUL */
#define SL_CONFIG_PATH_MAX 512	 /* HTTP paths, rewrite targets, file names */
#define SL_CONFIG_URL_MAX 1024	 /* backend URLs, redirect targets */
#define SL_CONFIG_SECRET_MAX 256 /* jwt_secret */

/* Hard limits; past them the loader refuses the file rather than allocate without bound. */
#define SL_CONFIG_MAX_PORTS 32
#define SL_CONFIG_MAX_SERVICES 1024
#define SL_CONFIG_MAX_LOCATIONS 4096 /* in all services together */
#define SL_CONFIG_MAX_BACKENDS 16384 /* in all locations together */
#define SL_CONFIG_MAX_LIST 256	     /* entries in a list of strings (cors, tls domains) */

#define SL_CONFIG_DEFAULT_SERVICE_PORT 80
#define SL_CONFIG_DEFAULT_ADMIN_PORT 1997

enum sl_config_lb_policy {
	SL_CONFIG_LB_ROUND_ROBIN = 0,	   /* round_robin, round-robin */
	SL_CONFIG_LB_LEAST_CONNECTIONS,	   /* least_connections, least-connections, least_conn */
	SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, /* weighted_round_robin, weighted-round-robin */
	SL_CONFIG_LB_CONSISTENT_HASHING,   /* consistent_hashing, consistent-hashing, ip_hash */
	SL_CONFIG_LB_ADAPTIVE,		   /* adaptive */
};

enum sl_config_hc_type {
	SL_CONFIG_HC_HTTP = 0, /* GET path, 2xx/3xx = pass */
	SL_CONFIG_HC_TCP,      /* a completed handshake = pass */
};

/* Defaults: on, http, "/health", 10s, 2s, healthy 2, unhealthy 3. timeout <= interval. */
struct sl_config_health_check {
	bool enabled;
	enum sl_config_hc_type type;
	char path[SL_CONFIG_PATH_MAX];
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t healthy;   /* consecutive passes before a down backend is up again */
	uint32_t unhealthy; /* consecutive failures before an up backend is down */
	/* http: a status in [status_min, status_max] passes; `expected_status: 200-399` */
	uint16_t status_min, status_max;
};

/* Per client IP token bucket. Off unless configured somewhere up the tree. */
struct sl_config_rate_limit {
	bool enabled;
	double requests_per_second; /* > 0; `requests_per_minute: N` is stored as N / 60 */
	/* Bucket size, >= 1. When a block names a rate but no burst: ceil(rate). */
	uint32_t burst;
};

/* Defaults: on, 5 consecutive failures open the circuit for 60s. */
struct sl_config_circuit_breaker {
	bool enabled;
	uint32_t threshold;
	uint32_t timeout_ms;
	uint32_t half_open_requests;  /* probes let through per half-open period; default 3 */
	uint32_t half_open_successes; /* probe successes that close it; default 1 */
	uint32_t error_ratio;	      /* percent of failures in `window` that opens; 0 = off */
	uint32_t window_ms;	      /* the ratio's sliding window; default 10s */
	uint32_t min_requests;	      /* requests in the window before the ratio counts; 20 */
};

/* Passive health from real traffic (issue 9). Defaults: on, 5 in a row, 30s, 300s, 10%. */
struct sl_config_outlier {
	bool enabled;
	uint32_t consecutive;	       /* connect failures or 5xx in a row that eject */
	uint32_t base_ejection_ms;     /* the k-th ejection lasts k x base ... */
	uint32_t max_ejection_ms;      /* ... at most this */
	uint32_t max_ejection_percent; /* of a location's backends ejected at once */
};

/* Ramp of a backend that comes back. Off unless the section is present; default 30s, 10%. */
struct sl_config_slow_start {
	bool enabled;
	uint32_t window_ms;
	uint32_t min_weight_percent; /* share at the start of the ramp */
};

/* Keep-alive connections to backends. Defaults: 100 idle, 1000 open, 90s idle timeout. */
struct sl_config_connection_pool {
	uint32_t max_idle;
	uint32_t max_open; /* 0 = unlimited */
	uint32_t idle_timeout_ms;
};

/*
 * HTTPS backends (`backend_tls:`, a policy section: global, service, location): how sluice
 * checks a backend's certificate. Default: verified against the system bundle, the name
 * checked (and sent as SNI) the URL's host.
 */
#define SL_CONFIG_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
struct sl_config_backend_tls {
	bool verify;			      /* [true]; false: any certificate (logged) */
	char ca_file[SL_CONFIG_PATH_MAX];     /* PEM CA bundle [SL_CONFIG_DEFAULT_CA_FILE] */
	char server_name[SL_CONFIG_HOST_MAX]; /* SNI and verified name; "" = the URL's host */
	/* A client certificate (PEM, chain after the leaf) and its key, for backends that ask
	 * for one (mutual TLS); "" = none. Both or neither. */
	char cert_file[SL_CONFIG_PATH_MAX];
	char key_file[SL_CONFIG_PATH_MAX];
	uint32_t ca_line, ca_col;	      /* where ca_file is written; 0 = the default */
	uint32_t cert_line, cert_col;	      /* where cert_file is written */
	uint32_t line;			      /* where the section is written; 0 = defaults */
};

/* Teeter's worker pool and queue: a concurrency limit with a bounded wait. Off by default. */
/* Proxy timeouts (top-level `timeouts:`), all in milliseconds, each >= 1. */
struct sl_config_timeouts {
	uint32_t client_header_ms;    /* whole request head must arrive within it: else 408 */
	uint32_t client_keepalive_ms; /* idle client connection between requests: closed */
	uint32_t backend_connect_ms;  /* backend handshake: else retry elsewhere or 503 */
	uint32_t backend_response_ms; /* response head after the request was sent: else 504 */
	/* Admission (issue 9): after SIGTERM, how long in-flight requests may take to finish. */
	uint32_t shutdown_grace_ms; /* default 30s */
};

/* HTTP request limits (lib/http sl_http_limits); past them the request is refused and the
 * connection closed. */
struct sl_config_limits {
	uint32_t max_request_line; /* request line without CRLF: past it 414 */
	uint32_t max_header_size;  /* request line + fields + empty line: past it 431 */
	uint32_t max_headers;	   /* header fields: past it 431 */
	uint32_t max_body;	   /* request body bytes (chunked: summed): past it 413; 0 = none */
	/* Admission (issue 9). */
	uint32_t max_connections_per_ip; /* open client connections per address; 0 = no limit */
	uint32_t rate_limit_table_size;	 /* clients tracked by rate_limit (entries); 131072 */
};

struct sl_config_queue {
	bool enabled;
	uint32_t max_concurrent; /* requests in flight; default 1024 */
	uint32_t max_queue;	 /* requests waiting for a slot; 0 = refuse at once; default 1024 */
	uint32_t timeout_ms;	 /* longest wait in the queue, default 5s */
};

struct sl_config_strlist {
	char **items; /* n heap strings */
	unsigned int n;
};

/* Off unless the `cors` section is present. */
struct sl_config_cors {
	bool enabled;
	struct sl_config_strlist allowed_origins;
	struct sl_config_strlist allowed_methods;
	struct sl_config_strlist allowed_headers;
	uint32_t max_age; /* seconds */
	bool allow_credentials;
};

enum sl_config_frame_options {
	SL_CONFIG_FRAME_NONE = 0, /* no X-Frame-Options header */
	SL_CONFIG_FRAME_DENY,
	SL_CONFIG_FRAME_SAMEORIGIN,
};

/* Response security headers; off unless the `security` section is present. */
struct sl_config_security {
	bool enabled;
	bool hsts;
	uint32_t hsts_max_age; /* seconds, default 31536000 */
	enum sl_config_frame_options frame_options;
	bool content_type_options; /* X-Content-Type-Options: nosniff */
	bool xss_protection;	   /* X-XSS-Protection: 1; mode=block */
	char referrer_policy[40];  /* Referrer-Policy token (checked); "" = no header */
};

#define SL_CONFIG_ACME_DEFAULT_DIRECTORY "https://acme-v02.api.letsencrypt.org/directory"

/* tls.acme: where and how auto_cert obtains certificates (controlplane/acme.c, uacme). */
struct sl_config_acme {
	char directory[SL_CONFIG_URL_MAX]; /* the ACME server's directory URL [Let's Encrypt] */
	char email[SL_CONFIG_HOST_MAX];	   /* account contact; "" = none */
	uint32_t renew_before_days;	   /* renew when it expires sooner [30] */
	uint32_t check_interval_ms;	   /* how often expiry is checked [12h] */
	char ca_file[SL_CONFIG_PATH_MAX];  /* PEM CAs uacme trusts instead of the system's */
};

/* Global TLS. Certificate files are not opened by the loader. */
struct sl_config_tls {
	bool enabled; /* default true once the section is present */
	struct sl_config_strlist domains;
	char cert_dir[SL_CONFIG_PATH_MAX];
	bool auto_cert;
	char cert_file[SL_CONFIG_PATH_MAX];
	char key_file[SL_CONFIG_PATH_MAX];
	/* Cipher policy for every TLS context (controlplane/tls_ctx.c); "" = its safe default.
	 * ciphers: the TLS 1.2 list in OpenSSL syntax; ciphersuites: TLS 1.3 suite names. The
	 * loader checks the syntax; OpenSSL's verdict is reported at ciphers_line:ciphers_col. */
	char ciphers[SL_CONFIG_PATH_MAX];
	char ciphersuites[SL_CONFIG_PATH_MAX];
	uint32_t ciphers_line, ciphers_col;
	struct sl_config_acme acme;
};

/* A service's own certificate (Terraster's services[].tls). */
struct sl_config_service_tls {
	bool enabled; /* default true once the section is present */
	char cert_file[SL_CONFIG_PATH_MAX];
	char key_file[SL_CONFIG_PATH_MAX];
};

/* Empty strings = not configured: the control plane chooses (e.g. a random per-run secret). */
struct sl_config_auth {
	char jwt_secret[SL_CONFIG_SECRET_MAX];
	char db_path[SL_CONFIG_PATH_MAX];
	uint32_t password_expiry_days;	/* 0 = passwords never expire */
	uint32_t password_history_size; /* 0 = reuse allowed */
	char jwt_secret_file[SL_CONFIG_PATH_MAX]; /* the secret in a file; exclusive with jwt_secret */
	uint32_t token_ttl_ms;			  /* lifetime of an issued token; default 1h */
};

/* The access log (admin.access_log): off unless the section is present. */
enum sl_config_log_format {
	SL_CONFIG_LOG_JSON = 0,	 /* one JSON object per line */
	SL_CONFIG_LOG_COMBINED, /* Apache/nginx "combined" */
};

#define SL_CONFIG_LOG_STDOUT "stdout"

struct sl_config_access_log {
	bool enabled;			  /* default true once the section is present */
	char path[SL_CONFIG_PATH_MAX];	  /* a file (appended to) or "stdout" [stdout] */
	enum sl_config_log_format format; /* [json] */
	uint32_t ring_size;		  /* records per worker, 1..1048576 [4096] */
};

/* The management listener on the kernel stack. Terraster's admin_port/auth/admin_api land here. */
struct sl_config_admin {
	uint32_t ip;   /* network byte order; default 127.0.0.1 */
	uint16_t port; /* default 1997 */
	struct sl_config_auth auth;
	struct sl_config_rate_limit rate_limit; /* default on: 10 requests/s, burst 20 */
	struct sl_config_access_log access_log;
};

/* A parsed http:// or https:// URL (backends, and the admin API's POST /api/backends). */
struct sl_config_url {
	bool https;
	char host[SL_CONFIG_HOST_MAX]; /* lower case; a name or dotted IPv4 */
	uint32_t ip;		       /* network byte order when host is an IPv4 literal, else 0 */
	uint16_t port;		       /* default 80 (http) or 443 (https) */
	char path[SL_CONFIG_PATH_MAX]; /* "" when the URL has none; else starts with '/' */
};

struct sl_config_backend {
	char url[SL_CONFIG_URL_MAX]; /* as written */
	struct sl_config_url target;
	uint32_t weight;	  /* >= 1, default 1; sums over a location need 64 bits */
	uint32_t max_connections; /* 0 = unlimited */
	struct sl_config_health_check health_check; /* effective */
	uint32_t line;
	uint32_t url_line, url_col; /* where the url value is written (a name that does not
				       resolve is reported there) */
};

struct sl_config_location {
	char path[SL_CONFIG_PATH_MAX]; /* prefix, starts with '/' */
	enum sl_config_lb_policy lb_policy;
	bool http_redirect;			    /* send plain-HTTP clients to https:// */
	char redirect[SL_CONFIG_URL_MAX];	    /* "" = none; a path or an http(s):// URL */
	char rewrite[SL_CONFIG_PATH_MAX];	    /* "" = none; replaces `path` before proxying */
	struct sl_config_health_check health_check; /* effective, inherited by backends */
	struct sl_config_rate_limit rate_limit;	    /* effective */
	struct sl_config_circuit_breaker circuit_breaker; /* effective */
	struct sl_config_outlier outlier_detection;	  /* effective */
	struct sl_config_slow_start slow_start;		  /* effective */
	struct sl_config_connection_pool connection_pool; /* effective */
	struct sl_config_backend_tls backend_tls;	  /* effective */
	struct sl_config_backend *backends;
	unsigned int n_backends; /* >= 1 */
	uint32_t line;
};

struct sl_config_service {
	char name[SL_CONFIG_NAME_MAX]; /* unique; letters, digits, '-', '_', '.' */
	char host[SL_CONFIG_HOST_MAX]; /* lower case; "" = any host; may start with "*." */
	uint16_t port;		       /* default: top-level `port`, else 80 */
	/* Its own address (a VIP), network order: the `ip` or one of the `addresses` of a
	 * dataplane port; the service answers only there. 0 = every address of its port that no
	 * service claims (the wildcard). */
	uint32_t address;
	struct sl_config_service_tls tls;
	/* Plain-HTTP port of a TLS service: http_redirect answers and ACME HTTP-01 challenges
	 * there; 0 = 80 when the service needs one (sl_config_plain_port). */
	uint16_t http_port;
	struct sl_config_health_check health_check;	  /* effective */
	struct sl_config_rate_limit rate_limit;		  /* effective */
	struct sl_config_circuit_breaker circuit_breaker; /* effective */
	struct sl_config_outlier outlier_detection;	  /* effective */
	struct sl_config_slow_start slow_start;		  /* effective */
	struct sl_config_connection_pool connection_pool; /* effective */
	struct sl_config_backend_tls backend_tls;	  /* effective */
	struct sl_config_queue queue; /* effective: the global block unless the service has one */
	struct sl_config_location *locations;
	unsigned int n_locations; /* >= 1 */
	uint32_t line;
};

struct sl_config {
	char file[256]; /* where it was loaded from ("<buffer>" without a name): for messages */
	struct sl_config_dataplane dataplane; /* no ports when the section is absent */
	struct sl_config_admin admin;

	/* Global sections as written (with defaults); services below hold the effective copies. */
	struct sl_config_health_check health_check;
	struct sl_config_rate_limit rate_limit;
	struct sl_config_circuit_breaker circuit_breaker;
	struct sl_config_outlier outlier_detection;
	struct sl_config_slow_start slow_start;
	struct sl_config_connection_pool connection_pool;
	struct sl_config_backend_tls backend_tls;
	struct sl_config_queue queue;
	struct sl_config_timeouts timeouts;
	struct sl_config_limits limits;
	struct sl_config_cors cors;
	struct sl_config_security security;
	struct sl_config_tls tls;

	struct sl_config_service *services;
	unsigned int n_services; /* may be 0: a file may hold only global settings */
};

#endif
