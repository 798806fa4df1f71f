/* SPDX-License-Identifier: MIT */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

/*
 * sluice configuration: YAML -> an immutable tree of plain structs.
 *
 * The loader accepts three shapes and normalises them to the canonical one
 * (services -> locations -> backends, plus `dataplane:` and `admin:`):
 *   - canonical / Terraster's shape,
 *   - Teeter's `routes: [{prefix, strategy, backends}]`,
 *   - the minimal `port` / `algorithm` / `backends` form.
 * Every error names file:line:col and what was expected.
 *
 * lib/ never includes DPDK: addresses are stored as uint32_t in network byte order.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_CONFIG_NAME_MAX 64
#define SL_CONFIG_DEVICE_MAX 128

struct sl_config_error {
	char file[256];
	int line; /* 1-based; 0 when the error has no position (unreadable file) */
	int col;  /* 1-based */
	char msg[512];
};

enum sl_idle_policy {
	SL_IDLE_ADAPTIVE = 0, /* back off after a run of empty polls (testbeds, shared CPUs) */
	SL_IDLE_POLL,         /* spin forever (production, benchmarks) */
};

#define SL_CONFIG_PORT_ADDRS_MAX 32 /* as SL_NETIF_ADDRS_MAX */

struct sl_config_port {
	char name[SL_CONFIG_NAME_MAX];     /* default "port<N>" */
	char device[SL_CONFIG_DEVICE_MAX]; /* ethdev name: "net_tap0", "0000:03:00.0" */
	uint32_t ip;                       /* network byte order */
	uint8_t prefix;                    /* 1..32 */
	uint32_t gateway;                  /* network byte order, 0 = none */
	uint16_t mtu;                      /* 576..9000, default 1500 */
	/* `addresses`: further local addresses (service VIPs) in the port's subnet. */
	uint8_t n_addresses;
	uint32_t addresses[SL_CONFIG_PORT_ADDRS_MAX]; /* network byte order */
};

struct sl_config_tcp {
	uint32_t max_connections; /* hard limit per worker, default 65536 */
	uint32_t syn_backlog;     /* half-open connections per listener before SYN cookies, 1024 */
	uint32_t time_wait_ms;    /* default 2000 */
	uint32_t rcvbuf;          /* bytes per connection, default 262144 */
	uint32_t sndbuf;          /* bytes per connection, default 262144 */
	/* share of the mbuf pool (percent, split among workers) receive buffers may hold; 50 */
	uint32_t rcv_mem_percent;
	uint32_t keepalive_ms;    /* idle before keepalive probes, default 60000; 0 = off */
	uint32_t rto_min_ms;      /* default 200 */
	uint32_t delayed_ack_ms;  /* default 40 */
	bool cubic;               /* `congestion: cubic` (default newreno) */
};

/* forward: each connection to `port` is spliced to a new one towards to_ip:to_port. */
struct sl_config_forward {
	uint16_t port;    /* 0 = off */
	uint32_t to_ip;   /* network byte order */
	uint16_t to_port; /* host order */
};

struct sl_config_test_services {
	uint16_t echo;    /* 0 = off */
	uint16_t discard; /* 0 = off */
	uint16_t chargen; /* 0 = off */
	/*
	 * answer: on the first bytes of a connection, a 100,000-byte answer
	 * (byte i is i % 251), corked, then a lingering close with the rest of
	 * the request unread, as a server refusing a request body. 0 = off.
	 */
	uint16_t answer;
	struct sl_config_forward forward;
};

struct sl_config_dataplane {
	struct sl_config_port *ports;
	unsigned int n_ports;
	unsigned int workers; /* 0 = one per worker lcore given to EAL */
	uint32_t mbufs;       /* mbuf pool size, default 16383 */
	enum sl_idle_policy idle;
	struct sl_config_tcp tcp;
	struct sl_config_test_services test_services;
};

/* Everything below `dataplane` (services, policies, admin) is declared in config_types.h. */
#include "config_types.h"

/*
 * Load and validate a configuration. On success returns 0 and stores a tree
 * that the caller frees with sl_config_free(). On failure returns -errno
 * (-EINVAL for bad content, -ENOENT/-EACCES/... for an unreadable file) and
 * fills *err; *out is untouched.
 */
int sl_config_load_file(const char *path, struct sl_config **out, struct sl_config_error *err);
int sl_config_load_buffer(const char *name, const char *buf, size_t len, struct sl_config **out,
			  struct sl_config_error *err);
void sl_config_free(struct sl_config *cfg);

/*
 * A deep copy that sl_config_free() releases on its own (the control plane builds each
 * snapshot's tree from the loaded file and its runtime changes). NULL when out of memory.
 */
struct sl_config *sl_config_dup(const struct sl_config *cfg);

/*
 * Does `next` change a key that only a restart applies (anything under dataplane: or admin:,
 * admin.auth.jwt_secret, limits.max_header_size)? 1 with the first such key's dotted path in
 * key ("dataplane.workers", "admin.listen"), 0 if not, -1 when out of memory.
 */
int sl_config_restart_key(const struct sl_config *running, const struct sl_config *next,
			  char *key, size_t len);

/* "file:line:col: message" (or "file: message" without a position) into buf. */
void sl_config_error_format(const struct sl_config_error *err, char *buf, size_t len);

/* The normalised configuration as JSON (for --check); caller frees the string. */
char *sl_config_to_json(const struct sl_config *cfg);

/* The default configuration built into the binary (configs/tap-demo.yaml). */
extern const char sl_config_default_yaml[];
extern const size_t sl_config_default_yaml_len;

/*
 * Helpers shared with the control plane, which must accept exactly what the loader accepts
 * (a backend added through the admin API, a policy name in a query string).
 */

/* Canonical (underscore) name of a policy: "round_robin", "least_connections", ... */
const char *sl_config_lb_policy_name(enum sl_config_lb_policy policy);

/* Either spelling, case-insensitive; also least_conn and ip_hash. 0 or -EINVAL. */
int sl_config_parse_lb_policy(const char *name, enum sl_config_lb_policy *out);

/*
 * "250ms", "5s", "1.5s", "1m", "2h", "1m30s"; a bare number is seconds. Returns 0, -EINVAL for
 * bad syntax, or -ERANGE for a negative value, a fraction of a millisecond or more than 2^32 ms.
 */
int sl_config_parse_duration(const char *text, uint32_t *ms);

/* Shortest exact form of a duration: "0s", "250ms", "1500ms", "5s", "2m", "1h". */
void sl_config_format_duration(uint32_t ms, char *buf, size_t len);

/* Parse http[s]://host[:port][/path]. On error returns -EINVAL and puts the reason in why. */
int sl_config_parse_url(const char *text, struct sl_config_url *out, char *why, size_t why_len);

/*
 * The plain-HTTP port sluice listens on for a TLS service (its `http_port`, default 80): when
 * it names one, when one of its locations has http_redirect, or when its certificate comes
 * from auto_cert (ACME HTTP-01 challenges are answered there). 0 = none. On that port a request
 * whose Host and path route (on the service's TLS port) to an http_redirect location gets the
 * 308; every other request is routed as any request on that port (dataplane/proxy/px_plain.c).
 */
uint16_t sl_config_plain_port(const struct sl_config *cfg, const struct sl_config_service *svc);

#endif
