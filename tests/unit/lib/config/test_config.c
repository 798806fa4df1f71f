/* SPDX-License-Identifier: MIT */
/*
 * lib/config: every example configuration loads, every shorthand normalises to the canonical
 * tree, and every class of mistake is reported at the right line and column. No EAL, no root.
 * The source tree (for configs/) comes from SL_SOURCE_ROOT, or from argv[1] when given.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <CUnit/Basic.h>

#include "lib/config/config.h"
#include "cunit_main.h"

#ifndef SL_SOURCE_ROOT
#define SL_SOURCE_ROOT "."
#endif

static const char *source_root = SL_SOURCE_ROOT;

/* ------------------------------------------------------------------ helpers */

static void
report(unsigned int line, bool ok, const char *what)
{
	CU_assertImplementation(ok, line, what, __FILE__, "", CU_FALSE);
}

static struct sl_config *
load_at(unsigned int line, const char *yaml)
{
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	char msg[1024];

	if (sl_config_load_buffer("test.yaml", yaml, strlen(yaml), &cfg, &err) < 0) {
		sl_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "\n  unexpected error (test line %u): %s\n", line, msg);
		report(line, false, "configuration loads");
		return NULL;
	}
	return cfg;
}
#define LOAD(yaml) load_at(__LINE__, (yaml))

static void
error_at(unsigned int line, const char *yaml, int want_line, int want_col, const char *needle)
{
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	char msg[1024];
	int rc;

	rc = sl_config_load_buffer("test.yaml", yaml, strlen(yaml), &cfg, &err);
	if (rc == 0) {
		fprintf(stderr, "\n  expected an error (test line %u), the configuration loaded\n",
			line);
		sl_config_free(cfg);
		report(line, false, "configuration is refused");
		return;
	}
	sl_config_error_format(&err, msg, sizeof(msg));
	if (rc != -EINVAL || err.line != want_line || err.col != want_col ||
	    !strstr(err.msg, needle)) {
		fprintf(stderr, "\n  test line %u: want %d:%d '%s', got rc %d: %s\n", line,
			want_line, want_col, needle, rc, msg);
		report(line, false, "error position and message");
		return;
	}
	report(line, true, "error position and message");
}
#define ERROR_AT(yaml, l, c, needle) error_at(__LINE__, (yaml), (l), (c), (needle))

static struct sl_config *
load_config_file(const char *name)
{
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	char path[1024], msg[1024];

	snprintf(path, sizeof(path), "%s/configs/%s", source_root, name);
	if (sl_config_load_file(path, &cfg, &err) < 0) {
		sl_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "\n  %s\n", msg);
		return NULL;
	}
	return cfg;
}

static uint32_t
ip(const char *dotted)
{
	struct in_addr a;

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

/* JSON of the tree, loaded again: must give the same JSON. Returns the JSON (caller frees). */
static char *
json_round_trip(const struct sl_config *cfg)
{
	struct sl_config *again = NULL;
	struct sl_config_error err;
	char *json = sl_config_to_json(cfg), *json2;
	char msg[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	if (sl_config_load_buffer("out.json", json, strlen(json), &again, &err) < 0) {
		sl_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "\n  JSON does not load: %s\n%s\n", msg, json);
		CU_FAIL("JSON output loads as a configuration");
		return json;
	}
	json2 = sl_config_to_json(again);
	CU_ASSERT_PTR_NOT_NULL(json2);
	if (json2)
		CU_ASSERT_STRING_EQUAL(json, json2);
	free(json2);
	sl_config_free(again);
	return json;
}

/* ------------------------------------------------------------------ configs/ */

static void
test_every_config_in_configs_loads_and_round_trips_through_json(void)
{
	char dir[1024];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/configs", source_root);
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct sl_config *cfg;

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		n++;
		cfg = load_config_file(e->d_name);
		if (!cfg)
			fprintf(stderr, "  configs/%s does not load\n", e->d_name);
		CU_ASSERT_PTR_NOT_NULL(cfg);
		if (cfg) {
			free(json_round_trip(cfg));
			sl_config_free(cfg);
		}
	}
	closedir(d);
	CU_ASSERT(n >= 4);
}

static void
test_tap_demo_matches_the_testbed_contract(void)
{
	struct sl_config *cfg = load_config_file("tap-demo.yaml");
	const struct sl_config_port *port;
	const struct sl_config_location *loc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->dataplane.n_ports, 1);
	port = &cfg->dataplane.ports[0];
	CU_ASSERT_STRING_EQUAL(port->name, "tap0");
	CU_ASSERT_STRING_EQUAL(port->device, "net_tap0");
	CU_ASSERT_EQUAL(port->ip, ip("198.18.0.2"));
	CU_ASSERT_EQUAL(port->prefix, 24);
	CU_ASSERT_EQUAL(port->gateway, 0);
	CU_ASSERT_EQUAL(port->mtu, 1500);
	CU_ASSERT_EQUAL(cfg->dataplane.idle, SL_IDLE_ADAPTIVE);
	CU_ASSERT_EQUAL(cfg->dataplane.mbufs, 8191);

	CU_ASSERT_EQUAL_FATAL(cfg->n_services, 1);
	CU_ASSERT_STRING_EQUAL(cfg->services[0].name, "demo");
	CU_ASSERT_STRING_EQUAL(cfg->services[0].host, "");
	CU_ASSERT_EQUAL(cfg->services[0].port, 80);
	/* "/" round robin over the three backends, then one location per seed policy. */
	CU_ASSERT_EQUAL_FATAL(cfg->services[0].n_locations, 5);
	static const struct {
		const char *path;
		enum sl_config_lb_policy policy;
	} want[] = {
	    {"/", SL_CONFIG_LB_ROUND_ROBIN},
	    {"/cart/", SL_CONFIG_LB_CONSISTENT_HASHING},
	    {"/upload/", SL_CONFIG_LB_LEAST_CONNECTIONS},
	    {"/heavy/", SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN},
	    {"/api/", SL_CONFIG_LB_ADAPTIVE},
	};
	for (unsigned int l = 0; l < 5; l++) {
		loc = &cfg->services[0].locations[l];
		CU_ASSERT_STRING_EQUAL(loc->path, want[l].path);
		CU_ASSERT_EQUAL(loc->lb_policy, want[l].policy);
		CU_ASSERT_EQUAL(loc->n_backends, 3);
	}
	CU_ASSERT_EQUAL(cfg->services[0].locations[3].backends[0].weight, 8);
	CU_ASSERT_EQUAL(cfg->services[0].locations[3].backends[1].weight, 1);
	loc = &cfg->services[0].locations[0];
	CU_ASSERT_EQUAL_FATAL(loc->n_backends, 3);
	for (unsigned int i = 0; i < 3; i++) {
		char addr[16];

		snprintf(addr, sizeof(addr), "198.18.0.%u", 11 + i);
		CU_ASSERT_EQUAL(loc->backends[i].target.ip, ip(addr));
		CU_ASSERT_EQUAL(loc->backends[i].target.port, 8080);
		CU_ASSERT_FALSE(loc->backends[i].target.https);
		CU_ASSERT_EQUAL(loc->backends[i].weight, 1);
		CU_ASSERT_STRING_EQUAL(loc->backends[i].health_check.path, "/health");
		CU_ASSERT_EQUAL(loc->backends[i].health_check.interval_ms, 5000);
		CU_ASSERT_EQUAL(loc->backends[i].health_check.timeout_ms, 1000);
	}
	CU_ASSERT_TRUE(cfg->health_check.enabled);
	CU_ASSERT_STRING_EQUAL(cfg->health_check.path, "/health");
	CU_ASSERT_TRUE(cfg->rate_limit.enabled);
	CU_ASSERT_DOUBLE_EQUAL(cfg->rate_limit.requests_per_second, 1000, 1e-9);
	CU_ASSERT_EQUAL(cfg->rate_limit.burst, 2000);
	CU_ASSERT_TRUE(loc->rate_limit.enabled);
	CU_ASSERT_EQUAL(loc->rate_limit.burst, 2000);
	CU_ASSERT_EQUAL(cfg->admin.ip, ip("127.0.0.1"));
	CU_ASSERT_EQUAL(cfg->admin.port, 1997);
	sl_config_free(cfg);
}

static void
test_embedded_default_is_tap_demo_byte_for_byte(void)
{
	struct sl_config *file_cfg = load_config_file("tap-demo.yaml"), *embedded = NULL;
	char path[1024], *text, *a, *b;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/configs/tap-demo.yaml", source_root);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	text = malloc(sl_config_default_yaml_len + 2);
	len = fread(text, 1, sl_config_default_yaml_len + 1, f);
	fclose(f);
	CU_ASSERT_EQUAL(len, sl_config_default_yaml_len);
	CU_ASSERT(memcmp(text, sl_config_default_yaml, sl_config_default_yaml_len) == 0);
	CU_ASSERT_EQUAL(sl_config_default_yaml[sl_config_default_yaml_len], '\0');
	free(text);

	CU_ASSERT_EQUAL_FATAL(sl_config_load_buffer("<default>", sl_config_default_yaml,
						    sl_config_default_yaml_len, &embedded, NULL),
			      0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(file_cfg);
	a = sl_config_to_json(file_cfg);
	b = sl_config_to_json(embedded);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	sl_config_free(embedded);
	sl_config_free(file_cfg);
}

static void
test_advanced_yaml_resolves_inheritance_at_every_level(void)
{
	struct sl_config *cfg = load_config_file("advanced.yaml");
	const struct sl_config_service *api, *front;
	const struct sl_config_location *loc;
	const struct sl_config_backend *b0, *b1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->n_services, 2);
	api = &cfg->services[0];
	front = &cfg->services[1];

	CU_ASSERT_STRING_EQUAL(api->name, "backend-api");
	CU_ASSERT_STRING_EQUAL(api->host, "internal-api1.local.com");
	CU_ASSERT_EQUAL(api->port, 8455);
	CU_ASSERT_TRUE(api->tls.enabled);
	CU_ASSERT_STRING_EQUAL(api->tls.cert_file, "/path/to/api-cert.pem");
	CU_ASSERT_STRING_EQUAL(api->tls.key_file, "/path/to/api-key.pem");
	CU_ASSERT_STRING_EQUAL(api->health_check.path, "/");
	CU_ASSERT_EQUAL(api->health_check.interval_ms, 5000);
	CU_ASSERT_EQUAL(api->health_check.timeout_ms, 3000);

	loc = &api->locations[0];
	CU_ASSERT_STRING_EQUAL(loc->path, "/api/");
	CU_ASSERT_EQUAL(loc->lb_policy, SL_CONFIG_LB_ROUND_ROBIN);
	CU_ASSERT_TRUE(loc->http_redirect); /* as in the seed */
	CU_ASSERT_STRING_EQUAL(loc->redirect, "/");
	/* global sections written after `services:` still reach the locations */
	CU_ASSERT_TRUE(loc->rate_limit.enabled);
	CU_ASSERT_DOUBLE_EQUAL(loc->rate_limit.requests_per_second, 100, 1e-9);
	CU_ASSERT_EQUAL(loc->rate_limit.burst, 150);
	CU_ASSERT_EQUAL(loc->circuit_breaker.threshold, 5);
	CU_ASSERT_EQUAL(loc->circuit_breaker.timeout_ms, 60000);
	CU_ASSERT_EQUAL(loc->connection_pool.max_idle, 100);
	CU_ASSERT_EQUAL(loc->connection_pool.max_open, 1000);
	CU_ASSERT_EQUAL(loc->connection_pool.idle_timeout_ms, 90000);

	CU_ASSERT_EQUAL_FATAL(loc->n_backends, 2);
	b0 = &loc->backends[0];
	b1 = &loc->backends[1];
	CU_ASSERT_STRING_EQUAL(b0->target.host, "internal-api1.local.com");
	CU_ASSERT_EQUAL(b0->target.ip, 0);
	/* where its name is reported when it does not resolve: "          - url: http..." */
	CU_ASSERT_EQUAL(b0->url_line, b0->line);
	CU_ASSERT_EQUAL(b0->url_col, 18);
	CU_ASSERT_EQUAL(b0->target.port, 8455);
	CU_ASSERT_EQUAL(b0->weight, 5);
	CU_ASSERT_EQUAL(b0->max_connections, 1000);
	CU_ASSERT_STRING_EQUAL(b0->health_check.path, "/api_health");
	CU_ASSERT_EQUAL(b0->health_check.interval_ms, 4000);
	CU_ASSERT_EQUAL(b0->health_check.healthy, 1);
	CU_ASSERT_EQUAL(b0->health_check.unhealthy, 2);
	/* the second backend has no health_check: the service's */
	CU_ASSERT_STRING_EQUAL(b1->health_check.path, "/");
	CU_ASSERT_EQUAL(b1->health_check.interval_ms, 5000);
	CU_ASSERT_EQUAL(b1->health_check.healthy, 2);
	CU_ASSERT_EQUAL(b1->weight, 3);

	CU_ASSERT_STRING_EQUAL(front->name, "frontend");
	CU_ASSERT_EQUAL(front->port, 443); /* the top-level port */
	CU_ASSERT_FALSE(front->tls.enabled);
	CU_ASSERT_EQUAL(front->locations[0].lb_policy, SL_CONFIG_LB_LEAST_CONNECTIONS);
	CU_ASSERT_STRING_EQUAL(front->locations[0].rewrite, "/frontend/");
	CU_ASSERT_FALSE(front->locations[0].http_redirect);
	/* no service health_check: the global one */
	CU_ASSERT_STRING_EQUAL(front->locations[0].backends[0].health_check.path, "/health");
	CU_ASSERT_EQUAL(front->locations[0].backends[0].health_check.interval_ms, 10000);
	CU_ASSERT_EQUAL(front->locations[0].backends[0].health_check.timeout_ms, 2000);

	CU_ASSERT_TRUE(cfg->tls.enabled);
	CU_ASSERT_TRUE(cfg->tls.auto_cert);
	CU_ASSERT_EQUAL_FATAL(cfg->tls.domains.n, 1);
	CU_ASSERT_STRING_EQUAL(cfg->tls.domains.items[0], "example.com");
	CU_ASSERT_STRING_EQUAL(cfg->tls.cert_dir, "/etc/certs");
	CU_ASSERT_TRUE(cfg->cors.enabled);
	CU_ASSERT_EQUAL_FATAL(cfg->cors.allowed_methods.n, 2);
	CU_ASSERT_STRING_EQUAL(cfg->cors.allowed_methods.items[1], "POST");
	CU_ASSERT_EQUAL(cfg->cors.max_age, 3600);
	CU_ASSERT_TRUE(cfg->security.enabled);
	CU_ASSERT_TRUE(cfg->security.hsts);
	CU_ASSERT_EQUAL(cfg->security.hsts_max_age, 31536000);
	CU_ASSERT_EQUAL(cfg->security.frame_options, SL_CONFIG_FRAME_DENY);
	CU_ASSERT_TRUE(cfg->security.xss_protection);
	sl_config_free(cfg);
}

static void
test_terraster_admin_spellings_land_in_admin(void)
{
	struct sl_config *cfg = load_config_file("advanced.yaml");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->admin.ip, ip("127.0.0.1"));
	CU_ASSERT_EQUAL(cfg->admin.port, 4433);
	CU_ASSERT_STRING_EQUAL(cfg->admin.auth.jwt_secret, "mySecretKey");
	CU_ASSERT_STRING_EQUAL(cfg->admin.auth.db_path, "./auth.db");
	CU_ASSERT_EQUAL(cfg->admin.auth.password_expiry_days, 7);
	CU_ASSERT_EQUAL(cfg->admin.auth.password_history_size, 5);
	CU_ASSERT_TRUE(cfg->admin.rate_limit.enabled);
	CU_ASSERT_DOUBLE_EQUAL(cfg->admin.rate_limit.requests_per_second, 10, 1e-9);
	CU_ASSERT_EQUAL(cfg->admin.rate_limit.burst, 20);
	sl_config_free(cfg);
}

static void
test_minimal_shape_becomes_one_default_service(void)
{
	struct sl_config *cfg = load_config_file("basic.yaml");
	const struct sl_config_service *svc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->n_services, 1);
	svc = &cfg->services[0];
	CU_ASSERT_STRING_EQUAL(svc->name, "default");
	CU_ASSERT_STRING_EQUAL(svc->host, "");
	CU_ASSERT_EQUAL(svc->port, 8080);
	CU_ASSERT_EQUAL_FATAL(svc->n_locations, 1);
	CU_ASSERT_STRING_EQUAL(svc->locations[0].path, "/");
	CU_ASSERT_EQUAL(svc->locations[0].lb_policy, SL_CONFIG_LB_ROUND_ROBIN);
	CU_ASSERT_EQUAL_FATAL(svc->locations[0].n_backends, 2);
	CU_ASSERT_EQUAL(svc->locations[0].backends[0].target.ip, ip("198.18.0.11"));
	CU_ASSERT_EQUAL(svc->locations[0].backends[0].target.port, 8081);
	CU_ASSERT_EQUAL(svc->locations[0].backends[1].target.port, 8082);
	CU_ASSERT_EQUAL(cfg->dataplane.n_ports, 0);
	sl_config_free(cfg);
}

static void
test_teeter_routes_become_locations_of_one_default_service(void)
{
	static const struct {
		const char *path;
		enum sl_config_lb_policy policy;
		unsigned int n_backends;
	} want[] = {
	    {"/api/", SL_CONFIG_LB_ROUND_ROBIN, 3},
	    {"/upload/process", SL_CONFIG_LB_LEAST_CONNECTIONS, 2},
	    {"/heavy-data", SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN, 2},
	    {"/cart", SL_CONFIG_LB_CONSISTENT_HASHING, 2},
	};
	struct sl_config *cfg = load_config_file("teeter-routes.yaml");
	const struct sl_config_service *svc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->n_services, 1);
	svc = &cfg->services[0];
	CU_ASSERT_STRING_EQUAL(svc->name, "default");
	CU_ASSERT_STRING_EQUAL(svc->host, "");
	CU_ASSERT_EQUAL(svc->port, 80);
	CU_ASSERT_EQUAL_FATAL(svc->n_locations, 4);
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_STRING_EQUAL(svc->locations[i].path, want[i].path);
		CU_ASSERT_EQUAL(svc->locations[i].lb_policy, want[i].policy);
		CU_ASSERT_EQUAL(svc->locations[i].n_backends, want[i].n_backends);
	}
	CU_ASSERT_EQUAL(svc->locations[2].backends[0].weight, 8);
	CU_ASSERT_EQUAL(svc->locations[2].backends[1].weight, 2);
	CU_ASSERT_STRING_EQUAL(svc->locations[2].backends[0].target.host, "powerful-mainframe");
	CU_ASSERT_EQUAL(svc->locations[3].backends[1].target.port, 3000);
	sl_config_free(cfg);
}

/* ------------------------------------------------------------------ the seeds, verbatim */

static const char terraster_quick_start[] =
    "port: 443\n"
    "admin_port: 4433\n"
    "services:\n"
    "  - name: backend-api # service name\n"
    "    host: internal-api1.local.com # service listener hostname\n"
    "    port: 8455 # service listener port\n"
    "    tls: # service tls configuration\n"
    "      cert_file: \"/path/to/api-cert.pem\"\n"
    "      key_file: \"/path/to/api-key.pem\"\n"
    "    health_check: # service health check configuration - will be used by each location\n"
    "      type: \"http\"\n"
    "      path: \"/\"\n"
    "      interval: \"5s\"\n"
    "      timeout: \"3s\"\n"
    "      thresholds:\n"
    "        healthy: 2\n"
    "        unhealthy: 3\n"
    "    locations:\n"
    "      - path: \"/api/\" # served path suffix so \"https://internal-api1.local.com/api/\"\n"
    "        lb_policy: round-robin # load balancing policy\n"
    "        http_redirect: true # http to https redirect\n"
    "        redirect: \"/\" # redirect e.q. from \"/\" to \"/api/\"\n"
    "        backends:\n"
    "          - url: http://internal-api1.local.com:8455\n"
    "            weight: 5\n"
    "            max_connections: 1000\n"
    "            health_check: # or have separate health check for each backend\n"
    "              type: \"http\"\n"
    "              path: \"/api_health\"\n"
    "              interval: \"4s\"\n"
    "              timeout: \"3s\"\n"
    "              thresholds:\n"
    "                healthy: 1\n"
    "                unhealthy: 2\n"
    "          - url: http://internal-api2.local.com:8455\n"
    "            weight: 3\n"
    "            max_connections: 800\n"
    "  - name: frontend\n"
    "    host: frontend.local.com\n"
    "    locations:\n"
    "      - path: \"/\"\n"
    "        lb_policy: least_connections\n"
    "        http_redirect: false\n"
    "        rewrite: \"/frontend/\" # rewrite e.q. from \"/\" to \"/frontend/\"\n"
    "        backends:\n"
    "          - url: http://frontend-1.local.com:3000\n"
    "            weight: 5\n"
    "            max_connections: 1000\n"
    "          - url: http://frontend-2.local.com:3000\n"
    "            weight: 3\n"
    "            max_connections: 800\n"
    "# global health check will be used by every service that don't have health_check\n"
    "health_check:\n"
    "  interval: 10s\n"
    "  timeout: 2s\n"
    "  path: /health\n"
    "# api authentication\n"
    "auth:\n"
    "  jwt_secret: mySecretKey\n"
    "  db_path: ./auth.db\n"
    "  password_expiry_days: 7\n"
    "  password_history_size: 5\n"
    "admin_api:\n"
    "  rate_limit:\n"
    "    requests_per_second: 10\n"
    "    burst: 20\n"
    "rate_limit: # global rate limit for each service if not defined in the service\n"
    "  requests_per_second: 100\n"
    "  burst: 150\n"
    "connection_pool:\n"
    "  max_idle: 100\n"
    "  max_open: 1000\n"
    "  idle_timeout: 90s\n";

static const char terraster_basic[] = "port: 8080\n"
				      "algorithm: round-robin\n"
				      "backends:\n"
				      "  - url: http://localhost:8081\n"
				      "  - url: http://localhost:8082\n";

static const char terraster_advanced[] = "port: 8080\n"
					 "admin_port: 8081\n"
					 "algorithm: adaptive\n"
					 "tls:\n"
					 "  enabled: true\n"
					 "  domains:\n"
					 "    - example.com\n"
					 "  cert_dir: /etc/certs\n"
					 "  auto_cert: true\n"
					 "rate_limit:\n"
					 "  requests_per_second: 1000\n"
					 "  burst: 50\n"
					 "circuit_breaker:\n"
					 "  threshold: 5\n"
					 "  timeout: 60s\n"
					 "connection_pool:\n"
					 "  max_idle: 100\n"
					 "  max_open: 1000\n"
					 "  idle_timeout: 90s\n"
					 "cors:\n"
					 "  allowed_origins:\n"
					 "    - https://example.com\n"
					 "  allowed_methods:\n"
					 "    - GET\n"
					 "    - POST\n"
					 "  allowed_headers:\n"
					 "    - Content-Type\n"
					 "  max_age: 3600\n"
					 "security:\n"
					 "  hsts: true\n"
					 "  hsts_max_age: 31536000\n"
					 "  frame_options: DENY\n"
					 "  content_type_options: true\n"
					 "  xss_protection: true\n";

static const char *const teeter_routes[] = {
    "routes:\n"
    "- prefix: \"/api/\"\n"
    "  strategy: \"round_robin\"\n"
    "  backends:\n"
    "  - url: \"http://shoes-server-1:8080\"\n"
    "  - url: \"http://shoes-server-2:8080\"\n"
    "  - url: \"http://shoes-server-3:8080\"\n",
    "routes:\n"
    "- prefix: \"/upload/process\"\n"
    "  strategy: \"least_connections\"\n"
    "  backends:\n"
    "  - url: \"http://worker-1:9090\"\n"
    "  - url: \"http://worker-2:9090\"\n",
    "routes:\n"
    "- prefix: \"/heavy-data\"\n"
    "  strategy: \"weighted_round_robin\"\n"
    "  backends:\n"
    "  - url: \"http://powerful-mainframe:80\"\n"
    "    weight: 8\n"
    "  - url: \"http://weak-raspberry-pi:80\"\n"
    "    weight: 2\n",
    "routes:\n"
    "- prefix: \"/cart\"\n"
    "  strategy: \"consistent_hashing\"\n"
    "  backends:\n"
    "  - url: \"http://stateful-server-1:3000\"\n"
    "  - url: \"http://stateful-server-2:3000\"\n",
};

static void
test_seed_examples_load_verbatim(void)
{
	struct sl_config *cfg;

	cfg = LOAD(terraster_quick_start);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->n_services, 2);
	CU_ASSERT_EQUAL(cfg->services[1].port, 443);
	CU_ASSERT_EQUAL(cfg->admin.port, 4433);
	free(json_round_trip(cfg));
	sl_config_free(cfg);

	cfg = LOAD(terraster_basic);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->services[0].locations[0].backends[0].target.host, "localhost");
	sl_config_free(cfg);

	/* only global settings: no services at all, which is allowed */
	cfg = LOAD(terraster_advanced);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->n_services, 0);
	CU_ASSERT_EQUAL(cfg->admin.port, 8081);
	CU_ASSERT_EQUAL(cfg->rate_limit.burst, 50);
	free(json_round_trip(cfg));
	sl_config_free(cfg);

	for (size_t i = 0; i < sizeof(teeter_routes) / sizeof(teeter_routes[0]); i++) {
		cfg = LOAD(teeter_routes[i]);
		CU_ASSERT_PTR_NOT_NULL(cfg);
		if (cfg)
			CU_ASSERT_EQUAL(cfg->services[0].port, 80);
		sl_config_free(cfg);
	}
}

/* ------------------------------------------------------------------ normalisation */

static void
test_policy_names_accept_both_spellings(void)
{
	static const struct {
		const char *name;
		enum sl_config_lb_policy policy;
	} cases[] = {
	    {"round_robin", SL_CONFIG_LB_ROUND_ROBIN},
	    {"round-robin", SL_CONFIG_LB_ROUND_ROBIN},
	    {"least_connections", SL_CONFIG_LB_LEAST_CONNECTIONS},
	    {"least-connections", SL_CONFIG_LB_LEAST_CONNECTIONS},
	    {"least_conn", SL_CONFIG_LB_LEAST_CONNECTIONS},
	    {"weighted_round_robin", SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN},
	    {"weighted-round-robin", SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN},
	    {"consistent_hashing", SL_CONFIG_LB_CONSISTENT_HASHING},
	    {"consistent-hashing", SL_CONFIG_LB_CONSISTENT_HASHING},
	    {"ip_hash", SL_CONFIG_LB_CONSISTENT_HASHING},
	    {"adaptive", SL_CONFIG_LB_ADAPTIVE},
	    {"Round-Robin", SL_CONFIG_LB_ROUND_ROBIN},
	};
	char yaml[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_config *cfg;

		snprintf(yaml, sizeof(yaml),
			 "services:\n"
			 "  - name: s\n"
			 "    locations:\n"
			 "      - path: /\n"
			 "        lb_policy: %s\n"
			 "        backends: [{url: http://198.18.0.11}]\n",
			 cases[i].name);
		cfg = LOAD(yaml);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
		CU_ASSERT_EQUAL(cfg->services[0].locations[0].lb_policy, cases[i].policy);
		sl_config_free(cfg);
	}
	CU_ASSERT_STRING_EQUAL(sl_config_lb_policy_name(SL_CONFIG_LB_LEAST_CONNECTIONS),
			       "least_connections");
	CU_ASSERT_STRING_EQUAL(sl_config_lb_policy_name(SL_CONFIG_LB_CONSISTENT_HASHING),
			       "consistent_hashing");
}

static void
test_top_level_algorithm_is_the_default_policy_of_locations(void)
{
	struct sl_config *cfg = LOAD("algorithm: least-connections\n"
				     "services:\n"
				     "  - name: s\n"
				     "    locations:\n"
				     "      - path: /a\n"
				     "        backends: [{url: http://198.18.0.11}]\n"
				     "      - path: /b\n"
				     "        lb_policy: adaptive\n"
				     "        backends: [{url: http://198.18.0.11}]\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->services[0].locations[0].lb_policy, SL_CONFIG_LB_LEAST_CONNECTIONS);
	CU_ASSERT_EQUAL(cfg->services[0].locations[1].lb_policy, SL_CONFIG_LB_ADAPTIVE);
	sl_config_free(cfg);
}

static void
test_durations_accept_units_fractions_and_bare_seconds(void)
{
	static const struct {
		const char *text;
		int rc;
		uint32_t ms;
	} cases[] = {
	    {"250ms", 0, 250},	 {"5s", 0, 5000},	{"90s", 0, 90000},
	    {"1m", 0, 60000},	 {"2h", 0, 7200000},	{"1.5s", 0, 1500},
	    {"0.25m", 0, 15000}, {"5", 0, 5000},	{"1.5", 0, 1500},
	    {"0", 0, 0},	 {"1m30s", 0, 90000},	{"1h0m1ms", 0, 3600001},
	    {"", -EINVAL, 0},	 {"s", -EINVAL, 0},	{"5x", -EINVAL, 0},
	    {"5 s", -EINVAL, 0}, {"5min", -EINVAL, 0},	{"1s5", -EINVAL, 0},
	    {"-1s", -ERANGE, 0}, {"0.5ms", -ERANGE, 0}, {"1.0001s", -ERANGE, 0},
	    {"50d", -EINVAL, 0}, {"1200h", -ERANGE, 0}, {"4294967296ms", -ERANGE, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t ms = 0;
		int rc = sl_config_parse_duration(cases[i].text, &ms);

		if (rc != cases[i].rc || (rc == 0 && ms != cases[i].ms))
			fprintf(stderr, "\n  '%s': rc %d ms %u\n", cases[i].text, rc, ms);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0)
			CU_ASSERT_EQUAL(ms, cases[i].ms);
	}
}

static void
test_durations_format_in_their_shortest_exact_form(void)
{
	static const struct {
		uint32_t ms;
		const char *text;
	} cases[] = {{0, "0s"},	     {250, "250ms"}, {1500, "1500ms"}, {5000, "5s"},
		     {90000, "90s"}, {120000, "2m"}, {3600000, "1h"},  {3600001, "3600001ms"}};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sl_config_format_duration(cases[i].ms, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
	}
}

static void
test_duration_fields_take_every_form_in_yaml(void)
{
	struct sl_config *cfg = LOAD("health_check:\n"
				     "  interval: 1.5\n"
				     "  timeout: 250ms\n"
				     "circuit_breaker:\n"
				     "  timeout: 2\n"
				     "connection_pool:\n"
				     "  idle_timeout: \"1m30s\"\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->health_check.interval_ms, 1500);
	CU_ASSERT_EQUAL(cfg->health_check.timeout_ms, 250);
	CU_ASSERT_EQUAL(cfg->circuit_breaker.timeout_ms, 2000);
	CU_ASSERT_EQUAL(cfg->connection_pool.idle_timeout_ms, 90000);
	sl_config_free(cfg);
}

/* The proxy's timeouts: defaults when absent, every duration form, 0 refused. */
static void
test_timeouts_have_defaults_and_take_durations(void)
{
	struct sl_config *cfg = LOAD("port: 80\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->timeouts.client_header_ms, 10000);
	CU_ASSERT_EQUAL(cfg->timeouts.client_keepalive_ms, 60000);
	CU_ASSERT_EQUAL(cfg->timeouts.backend_connect_ms, 3000);
	CU_ASSERT_EQUAL(cfg->timeouts.backend_response_ms, 60000);
	sl_config_free(cfg);
	cfg = LOAD("timeouts:\n"
		   "  client_header: 2s\n"
		   "  client_keepalive: 1m\n"
		   "  backend_connect: 500ms\n"
		   "  backend_response: 90\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->timeouts.client_header_ms, 2000);
	CU_ASSERT_EQUAL(cfg->timeouts.client_keepalive_ms, 60000);
	CU_ASSERT_EQUAL(cfg->timeouts.backend_connect_ms, 500);
	CU_ASSERT_EQUAL(cfg->timeouts.backend_response_ms, 90000);
	sl_config_free(cfg);
	ERROR_AT("timeouts: {backend_connect: 0s}\n", 1, 29,
		 "'backend_connect' must be at least 1ms");
	ERROR_AT("timeouts: {client_body: 1s}\n", 1, 12, "client_body");
}

/* The HTTP request limits: lib/http's defaults, sizes with units, JSON that loads again. */
static void
test_limits_have_defaults_and_take_sizes(void)
{
	struct sl_config *cfg = LOAD("port: 80\n");
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->limits.max_request_line, 8192);
	CU_ASSERT_EQUAL(cfg->limits.max_header_size, 16384);
	CU_ASSERT_EQUAL(cfg->limits.max_headers, 100);
	CU_ASSERT_EQUAL(cfg->limits.max_body, 0);
	sl_config_free(cfg);
	cfg = LOAD("limits:\n"
		   "  max_request_line: 2048\n"
		   "  max_header_size: 8k\n"
		   "  max_headers: 50\n"
		   "  max_body: 1m\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->limits.max_request_line, 2048);
	CU_ASSERT_EQUAL(cfg->limits.max_header_size, 8192);
	CU_ASSERT_EQUAL(cfg->limits.max_headers, 50);
	CU_ASSERT_EQUAL(cfg->limits.max_body, 1048576);
	json = json_round_trip(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"max_body\": 1048576"));
	free(json);
	sl_config_free(cfg);
	ERROR_AT("limits: {max_header_size: 128k}\n", 1, 27, "'max_header_size' must be from 256");
	ERROR_AT("limits: {max_headers: 0}\n", 1, 23, "'max_headers' must be an integer from 1");
	ERROR_AT("limits: {max_uri: 10}\n", 1, 10, "max_uri");
}

/* Admission keys (issue 9): per-IP connections, the rate-limit table, the shutdown grace. */
static void
test_admission_keys_have_defaults_and_are_checked(void)
{
	struct sl_config *cfg = LOAD("port: 80\n");
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->limits.max_connections_per_ip, 0);
	CU_ASSERT_EQUAL(cfg->limits.rate_limit_table_size, 131072);
	CU_ASSERT_EQUAL(cfg->timeouts.shutdown_grace_ms, 30000);
	sl_config_free(cfg);
	cfg = LOAD("limits: {max_connections_per_ip: 8, rate_limit_table_size: 100000}\n"
		   "timeouts: {shutdown_grace: 2500ms}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->limits.max_connections_per_ip, 8);
	CU_ASSERT_EQUAL(cfg->limits.rate_limit_table_size, 100000);
	CU_ASSERT_EQUAL(cfg->timeouts.shutdown_grace_ms, 2500);
	json = json_round_trip(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"max_connections_per_ip\": 8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"shutdown_grace\": \"2500ms\""));
	free(json);
	sl_config_free(cfg);
	cfg = LOAD("timeouts: {shutdown_grace: 0s}\n"); /* 0: stop at once */
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->timeouts.shutdown_grace_ms, 0);
	sl_config_free(cfg);
	ERROR_AT("limits: {max_connections_per_ip: -1}\n", 1, 34, "max_connections_per_ip");
	ERROR_AT("limits: {rate_limit_table_size: 4}\n", 1, 33,
		 "'rate_limit_table_size' must be an integer from 8");
	ERROR_AT("timeouts: {shutdown_grace: soon}\n", 1, 28, "shutdown_grace");
}

/* The queue: global, and a service's own block overriding only the keys it names. */
static void
test_service_queue_inherits_and_overrides(void)
{
	struct sl_config *cfg = LOAD("services:\n"
				     "  - name: a\n"
				     "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
				     "  - name: b\n"
				     "    port: 81\n"
				     "    queue: {max_concurrent: 2}\n"
				     "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
				     "queue: {max_queue: 7, timeout: 1s, enabled: false}\n");
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_FALSE(cfg->services[0].queue.enabled);
	CU_ASSERT_EQUAL(cfg->services[0].queue.max_queue, 7);
	CU_ASSERT_TRUE(cfg->services[1].queue.enabled);
	CU_ASSERT_EQUAL(cfg->services[1].queue.max_concurrent, 2);
	CU_ASSERT_EQUAL(cfg->services[1].queue.max_queue, 7);
	CU_ASSERT_EQUAL(cfg->services[1].queue.timeout_ms, 1000);
	json = json_round_trip(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"max_concurrent\": 2"));
	free(json);
	sl_config_free(cfg);
	ERROR_AT("services:\n  - name: a\n    queue: {max_concurrent: 0}\n"
		 "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n",
		 3, 29, "'max_concurrent' must be an integer from 1");
}

static void
test_dataplane_defaults_apply_when_the_section_is_absent(void)
{
	struct sl_config *cfg = LOAD("backends: [{url: http://198.18.0.11}]\n");
	const struct sl_config_dataplane *dp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	dp = &cfg->dataplane;
	CU_ASSERT_EQUAL(dp->n_ports, 0);
	CU_ASSERT_PTR_NULL(dp->ports);
	CU_ASSERT_EQUAL(dp->workers, 0);
	CU_ASSERT_EQUAL(dp->mbufs, 16383);
	CU_ASSERT_EQUAL(dp->idle, SL_IDLE_ADAPTIVE);
	CU_ASSERT_EQUAL(dp->tcp.max_connections, 65536);
	CU_ASSERT_EQUAL(dp->tcp.syn_backlog, 1024);
	CU_ASSERT_EQUAL(dp->tcp.time_wait_ms, 2000);
	CU_ASSERT_EQUAL(dp->tcp.rcvbuf, 262144);
	CU_ASSERT_EQUAL(dp->tcp.sndbuf, 262144);
	CU_ASSERT_EQUAL(dp->tcp.rcv_mem_percent, 50);
	CU_ASSERT_EQUAL(dp->tcp.keepalive_ms, 60000);
	CU_ASSERT_EQUAL(dp->tcp.rto_min_ms, 200);
	CU_ASSERT_EQUAL(dp->tcp.delayed_ack_ms, 40);
	CU_ASSERT_FALSE(dp->tcp.cubic);
	CU_ASSERT_EQUAL(dp->test_services.echo, 0);
	/* and the service defaults */
	CU_ASSERT_EQUAL(cfg->services[0].port, 80);
	CU_ASSERT_TRUE(cfg->services[0].health_check.enabled);
	CU_ASSERT_STRING_EQUAL(cfg->services[0].health_check.path, "/health");
	CU_ASSERT_EQUAL(cfg->services[0].health_check.interval_ms, 10000);
	CU_ASSERT_FALSE(cfg->services[0].locations[0].rate_limit.enabled);
	CU_ASSERT_TRUE(cfg->services[0].locations[0].circuit_breaker.enabled);
	CU_ASSERT_EQUAL(cfg->admin.port, 1997);
	sl_config_free(cfg);
}

static void
test_dataplane_section_reads_every_key(void)
{
	struct sl_config *cfg = LOAD("dataplane:\n"
				     "  ports:\n"
				     "    - device: net_tap0\n"
				     "      ip: 198.18.0.2\n"
				     "      prefix: 24\n"
				     "      gateway: 198.18.0.1\n"
				     "      mtu: 9000\n"
				     "    - name: uplink\n"
				     "      device: \"0000:03:00.0\"\n"
				     "      ip: 198.19.0.2/16\n"
				     "  workers: 2\n"
				     "  mbufs: 1023\n"
				     "  idle: poll\n"
				     "  tcp:\n"
				     "    max_connections: 1000\n"
				     "    syn_backlog: 64\n"
				     "    time_wait: 1s\n"
				     "    rcvbuf: 256k\n"
				     "    sndbuf: 1m\n"
				     "    rcv_mem_percent: 25\n"
				     "    keepalive: 0\n"
				     "    rto_min: 50ms\n"
				     "    delayed_ack: 0ms\n"
				     "    congestion: cubic\n"
				     "  test_services: {echo: 7, discard: 9, chargen: 19,"
				     " answer: 8}\n");
	const struct sl_config_dataplane *dp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	dp = &cfg->dataplane;
	CU_ASSERT_EQUAL_FATAL(dp->n_ports, 2);
	CU_ASSERT_STRING_EQUAL(dp->ports[0].name, "port0");
	CU_ASSERT_EQUAL(dp->ports[0].ip, ip("198.18.0.2"));
	CU_ASSERT_EQUAL(dp->ports[0].prefix, 24);
	CU_ASSERT_EQUAL(dp->ports[0].gateway, ip("198.18.0.1"));
	CU_ASSERT_EQUAL(dp->ports[0].mtu, 9000);
	CU_ASSERT_STRING_EQUAL(dp->ports[1].name, "uplink");
	CU_ASSERT_STRING_EQUAL(dp->ports[1].device, "0000:03:00.0");
	CU_ASSERT_EQUAL(dp->ports[1].prefix, 16);
	CU_ASSERT_EQUAL(dp->ports[1].mtu, 1500);
	CU_ASSERT_EQUAL(dp->workers, 2);
	CU_ASSERT_EQUAL(dp->mbufs, 1023);
	CU_ASSERT_EQUAL(dp->idle, SL_IDLE_POLL);
	CU_ASSERT_EQUAL(dp->tcp.max_connections, 1000);
	CU_ASSERT_EQUAL(dp->tcp.syn_backlog, 64);
	CU_ASSERT_EQUAL(dp->tcp.time_wait_ms, 1000);
	CU_ASSERT_EQUAL(dp->tcp.rcvbuf, 262144);
	CU_ASSERT_EQUAL(dp->tcp.sndbuf, 1048576);
	CU_ASSERT_EQUAL(dp->tcp.rcv_mem_percent, 25);
	CU_ASSERT_EQUAL(dp->tcp.keepalive_ms, 0);
	CU_ASSERT_EQUAL(dp->tcp.rto_min_ms, 50);
	CU_ASSERT_EQUAL(dp->tcp.delayed_ack_ms, 0);
	CU_ASSERT_TRUE(dp->tcp.cubic);
	CU_ASSERT_EQUAL(dp->test_services.echo, 7);
	CU_ASSERT_EQUAL(dp->test_services.discard, 9);
	CU_ASSERT_EQUAL(dp->test_services.chargen, 19);
	CU_ASSERT_EQUAL(dp->test_services.answer, 8);
	CU_ASSERT_EQUAL(cfg->n_services, 0);
	free(json_round_trip(cfg));
	sl_config_free(cfg);
}

static void
test_lower_levels_override_only_the_keys_they_name(void)
{
	struct sl_config *cfg = LOAD("services:\n"
				     "  - name: s\n"
				     "    health_check: {path: /ping}\n"
				     "    rate_limit: {requests_per_second: 5}\n"
				     "    locations:\n"
				     "      - path: /\n"
				     "        circuit_breaker: {threshold: 2}\n"
				     "        health_check: {type: tcp}\n"
				     "        backends:\n"
				     "          - url: http://198.18.0.11\n"
				     "          - url: http://198.18.0.12\n"
				     "            health_check: {interval: 30s, enabled: false}\n"
				     "health_check: {interval: 20s, timeout: 4s}\n"
				     "rate_limit: {requests_per_second: 50, burst: 70}\n"
				     "circuit_breaker: {timeout: 10s}\n");
	const struct sl_config_service *svc;
	const struct sl_config_location *loc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	svc = &cfg->services[0];
	loc = &svc->locations[0];
	/* globals as written */
	CU_ASSERT_STRING_EQUAL(cfg->health_check.path, "/health");
	CU_ASSERT_EQUAL(cfg->health_check.interval_ms, 20000);
	CU_ASSERT_EQUAL(cfg->rate_limit.burst, 70);
	/* service: path overridden, interval and timeout inherited */
	CU_ASSERT_STRING_EQUAL(svc->health_check.path, "/ping");
	CU_ASSERT_EQUAL(svc->health_check.interval_ms, 20000);
	CU_ASSERT_EQUAL(svc->health_check.timeout_ms, 4000);
	/* a rate without a burst: one second's worth */
	CU_ASSERT_DOUBLE_EQUAL(svc->rate_limit.requests_per_second, 5, 1e-9);
	CU_ASSERT_EQUAL(svc->rate_limit.burst, 5);
	CU_ASSERT_EQUAL(loc->rate_limit.burst, 5);
	/* location */
	CU_ASSERT_EQUAL(loc->health_check.type, SL_CONFIG_HC_TCP);
	CU_ASSERT_STRING_EQUAL(loc->health_check.path, "/ping");
	CU_ASSERT_EQUAL(loc->circuit_breaker.threshold, 2);
	CU_ASSERT_EQUAL(loc->circuit_breaker.timeout_ms, 10000);
	CU_ASSERT_EQUAL(svc->circuit_breaker.threshold, 5);
	/* backends */
	CU_ASSERT_EQUAL(loc->backends[0].health_check.type, SL_CONFIG_HC_TCP);
	CU_ASSERT_TRUE(loc->backends[0].health_check.enabled);
	CU_ASSERT_EQUAL(loc->backends[0].health_check.interval_ms, 20000);
	CU_ASSERT_FALSE(loc->backends[1].health_check.enabled);
	CU_ASSERT_EQUAL(loc->backends[1].health_check.interval_ms, 30000);
	CU_ASSERT_EQUAL(loc->backends[1].health_check.type, SL_CONFIG_HC_TCP);
	free(json_round_trip(cfg));
	sl_config_free(cfg);
}

static void
test_resilience_keys_have_defaults_and_inherit(void)
{
	struct sl_config *cfg = LOAD("health_check: {expected_status: 200-299}\n"
				     "circuit_breaker: {half_open_requests: 2}\n"
				     "outlier_detection: {consecutive: 3, base_ejection_time: 10s}\n"
				     "services:\n"
				     "  - name: s\n"
				     "    slow_start: {window: 20s}\n"
				     "    locations:\n"
				     "      - path: /\n"
				     "        outlier_detection: {enabled: false}\n"
				     "        backends:\n"
				     "          - url: http://198.18.0.11\n"
				     "            health_check: {expected_status: 204}\n"
				     "      - path: /b/\n"
				     "        circuit_breaker: {half_open_successes: 2, error_ratio: 50,\n"
				     "                          window: 30s}\n"
				     "        backends:\n"
				     "          - url: http://198.18.0.12\n");
	const struct sl_config_service *svc;
	const struct sl_config_location *l0, *l1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	svc = &cfg->services[0];
	l0 = &svc->locations[0];
	l1 = &svc->locations[1];
	CU_ASSERT_EQUAL(cfg->health_check.status_min, 200);
	CU_ASSERT_EQUAL(cfg->health_check.status_max, 299);
	CU_ASSERT_EQUAL(l0->backends[0].health_check.status_min, 204);
	CU_ASSERT_EQUAL(l0->backends[0].health_check.status_max, 204);
	CU_ASSERT_EQUAL(l1->backends[0].health_check.status_max, 299);
	/* circuit breaker: defaults 3 and 1, overridden per level */
	CU_ASSERT_EQUAL(l0->circuit_breaker.half_open_requests, 2);
	CU_ASSERT_EQUAL(l0->circuit_breaker.half_open_successes, 1);
	CU_ASSERT_EQUAL(l1->circuit_breaker.half_open_successes, 2);
	CU_ASSERT_EQUAL(l1->circuit_breaker.threshold, 5);
	CU_ASSERT_EQUAL(l0->circuit_breaker.error_ratio, 0);
	CU_ASSERT_EQUAL(l0->circuit_breaker.window_ms, 10000);
	CU_ASSERT_EQUAL(l1->circuit_breaker.error_ratio, 50);
	CU_ASSERT_EQUAL(l1->circuit_breaker.window_ms, 30000);
	CU_ASSERT_EQUAL(l1->circuit_breaker.min_requests, 20);
	/* outlier detection: on by default; global keys inherited, a location turns it off */
	CU_ASSERT_TRUE(svc->outlier_detection.enabled);
	CU_ASSERT_EQUAL(svc->outlier_detection.consecutive, 3);
	CU_ASSERT_EQUAL(svc->outlier_detection.base_ejection_ms, 10000);
	CU_ASSERT_EQUAL(svc->outlier_detection.max_ejection_ms, 300000);
	CU_ASSERT_EQUAL(svc->outlier_detection.max_ejection_percent, 10);
	CU_ASSERT_FALSE(l0->outlier_detection.enabled);
	CU_ASSERT_TRUE(l1->outlier_detection.enabled);
	/* slow start: off unless the section is present */
	CU_ASSERT_FALSE(cfg->slow_start.enabled);
	CU_ASSERT_TRUE(l0->slow_start.enabled);
	CU_ASSERT_EQUAL(l1->slow_start.window_ms, 20000);
	CU_ASSERT_EQUAL(l1->slow_start.min_weight_percent, 10);
	free(json_round_trip(cfg));
	sl_config_free(cfg);
}

static void
test_bad_resilience_values_are_refused(void)
{
	ERROR_AT("health_check: {expected_status: 99}\n", 1, 33,
		 "'expected_status' must be statuses from 100 to 599");
	ERROR_AT("health_check: {expected_status: 300-200}\n", 1, 33,
		 "'expected_status' must be statuses from 100 to 599, low-high");
	ERROR_AT("health_check: {expected_status: 2xx}\n", 1, 33,
		 "a status like 200 or a range like 200-399");
	ERROR_AT("circuit_breaker: {half_open_requests: 0}\n", 1, 39,
		 "'half_open_requests' must be an integer from 1 to 1000");
	ERROR_AT("circuit_breaker: {error_ratio: 101}\n", 1, 32,
		 "'error_ratio' must be an integer from 0 to 100");
	ERROR_AT("circuit_breaker: {window: 50ms}\n", 1, 27, "'window' must be from 100ms to 1h");
	ERROR_AT("outlier_detection: {max_ejection_percent: 101}\n", 1, 43,
		 "'max_ejection_percent' must be an integer from 0 to 100");
	ERROR_AT("outlier_detection: {base_ejection_time: 1m, max_ejection_time: 10s}\n", 1, 20,
		 "max_ejection_time (10s) must not be shorter than base_ejection_time (1m)");
	ERROR_AT("slow_start: {window: 0s}\n", 1, 22, "'window'");
	ERROR_AT("slow_start: {aggression: 2}\n", 1, 14, "aggression");
}

static void
test_requests_per_minute_is_converted_to_per_second(void)
{
	struct sl_config *cfg = LOAD("rate_limit: {requests_per_minute: 120}\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(cfg->rate_limit.enabled);
	CU_ASSERT_DOUBLE_EQUAL(cfg->rate_limit.requests_per_second, 2, 1e-9);
	CU_ASSERT_EQUAL(cfg->rate_limit.burst, 2);
	sl_config_free(cfg);
}

static void
test_queue_and_admin_listen_forms(void)
{
	struct sl_config *cfg = LOAD("queue: {max_concurrent: 64, max_queue: 0, timeout: 3s}\n"
				     "admin: {listen: \":2000\"}\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(cfg->queue.enabled);
	CU_ASSERT_EQUAL(cfg->queue.max_concurrent, 64);
	CU_ASSERT_EQUAL(cfg->queue.max_queue, 0);
	CU_ASSERT_EQUAL(cfg->queue.timeout_ms, 3000);
	CU_ASSERT_EQUAL(cfg->admin.ip, 0);
	CU_ASSERT_EQUAL(cfg->admin.port, 2000);
	sl_config_free(cfg);

	cfg = LOAD("admin: {listen: localhost:1998}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->admin.ip, ip("127.0.0.1"));
	CU_ASSERT_EQUAL(cfg->admin.port, 1998);
	sl_config_free(cfg);

	cfg = LOAD("admin: {listen: 1999}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->admin.ip, ip("127.0.0.1"));
	CU_ASSERT_EQUAL(cfg->admin.port, 1999);
	sl_config_free(cfg);
}

static void
test_service_host_star_or_absent_means_any_host(void)
{
	struct sl_config *cfg =
	    LOAD("services:\n"
		 "  - name: a\n"
		 "    host: \"*\"\n"
		 "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
		 "  - name: b\n"
		 "    host: Example.COM\n"
		 "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
		 "  - name: c\n"
		 "    host: \"*.example.com\"\n"
		 "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"
		 "  - name: d\n"
		 "    port: 81\n"
		 "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->services[0].host, "");
	CU_ASSERT_STRING_EQUAL(cfg->services[1].host, "example.com");
	CU_ASSERT_STRING_EQUAL(cfg->services[2].host, "*.example.com");
	CU_ASSERT_STRING_EQUAL(cfg->services[3].host, "");
	CU_ASSERT_EQUAL(cfg->services[3].port, 81);
	sl_config_free(cfg);
}

static void
test_backend_urls_are_split_into_parts(void)
{
	struct sl_config_url u;
	char why[160];

	CU_ASSERT_EQUAL(
	    sl_config_parse_url("https://API.example.com/base?x=1", &u, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(u.https);
	CU_ASSERT_STRING_EQUAL(u.host, "api.example.com");
	CU_ASSERT_EQUAL(u.port, 443);
	CU_ASSERT_EQUAL(u.ip, 0);
	CU_ASSERT_STRING_EQUAL(u.path, "/base?x=1");
	CU_ASSERT_EQUAL(sl_config_parse_url("http://198.18.0.11:8080", &u, why, sizeof(why)), 0);
	CU_ASSERT_FALSE(u.https);
	CU_ASSERT_EQUAL(u.ip, ip("198.18.0.11"));
	CU_ASSERT_EQUAL(u.port, 8080);
	CU_ASSERT_STRING_EQUAL(u.path, "");
	CU_ASSERT_EQUAL(sl_config_parse_url("http://h?q", &u, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(u.path, "/?q");
}

static void
test_json_uses_duration_strings_dotted_addresses_and_cidr(void)
{
	struct sl_config *cfg = load_config_file("tap-demo.yaml");
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	json = json_round_trip(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"ip\": \"198.18.0.2/24\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"interval\": \"5s\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"timeout\": \"1s\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"listen\": \"127.0.0.1:1997\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"lb_policy\": \"round_robin\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"host\": \"*\""));
	free(json);
	sl_config_free(cfg);
}

static void
test_json_redacts_the_jwt_secret(void)
{
	struct sl_config *cfg = load_config_file("advanced.yaml");
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	json = sl_config_to_json(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NULL(strstr(json, "mySecretKey"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"jwt_secret\": \"<redacted>\""));
	free(json);
	sl_config_free(cfg);
}

/* ------------------------------------------------------------------ errors */

#define ONE_BACKEND "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"

static void
test_forward_test_service_reads_address_and_port(void)
{
	struct sl_config *cfg = LOAD("dataplane:\n"
				     "  test_services:\n"
				     "    forward: { port: 5001, to: 198.18.0.1:6001 }\n");

	if (cfg == NULL)
		return;
	CU_ASSERT_EQUAL(cfg->dataplane.test_services.forward.port, 5001);
	CU_ASSERT_EQUAL(cfg->dataplane.test_services.forward.to_ip, ip("198.18.0.1"));
	CU_ASSERT_EQUAL(cfg->dataplane.test_services.forward.to_port, 6001);
	sl_config_free(cfg);
	ERROR_AT("dataplane:\n  test_services:\n    forward: { port: 5001, to: 198.18.0.1 }\n", 3,
		 32, "expected an IPv4 address and a port");
	ERROR_AT("dataplane:\n  test_services:\n    forward: { port: 5001, to: 198.18.0.1:0 }\n", 3,
		 32, "bad port '0'");
	ERROR_AT("dataplane:\n  test_services:\n    forward: { to: 198.18.0.1:7 }\n", 3, 14,
		 "port");
}

static void
test_unknown_key_names_line_and_column(void)
{
	ERROR_AT("services:\n"
		 "  - name: api\n"
		 "    bogus: 1\n" ONE_BACKEND,
		 3, 5, "unknown key 'bogus' in service; expected one of: name, host, port");
	ERROR_AT("port: 80\nbackend:\n  - url: http://198.18.0.11\n", 2, 1,
		 "unknown key 'backend' in the top level; expected one of: dataplane");
	ERROR_AT("health_check:\n  intervall: 5s\n", 2, 3,
		 "unknown key 'intervall' in health_check; expected one of: enabled, type, path, "
		 "interval");
}

static void
test_wrong_type_says_what_was_expected(void)
{
	ERROR_AT("health_check: 5\n", 1, 15, "expected a mapping for 'health_check', got '5'");
	ERROR_AT("services: {name: a}\n", 1, 11,
		 "expected a sequence for 'services', got a mapping");
	ERROR_AT("dataplane:\n  workers: two\n", 2, 12, "expected an integer for 'workers'");
	ERROR_AT("dataplane:\n  workers: 1.5\n", 2, 12, "expected an integer for 'workers'");
	ERROR_AT("services:\n"
		 "  - name: a\n"
		 "    locations:\n"
		 "      - path: /\n"
		 "        http_redirect: maybe\n"
		 "        backends: [{url: http://198.18.0.11}]\n",
		 5, 24, "expected a boolean (true or false) for 'http_redirect', got 'maybe'");
	ERROR_AT("health_check:\n  interval: soon\n", 2, 13,
		 "expected a duration like 5s, 250ms or 1m for 'interval', got 'soon'");
	ERROR_AT("dataplane:\n  tcp:\n    rcvbuf: lots\n", 3, 13,
		 "expected a size in bytes like 262144 or 256k for 'rcvbuf'");
	ERROR_AT("cors:\n  allowed_origins: https://example.com\n", 2, 20,
		 "expected a sequence of strings for 'allowed_origins'");
	ERROR_AT("backends:\n  - http://198.18.0.11\n", 2, 5,
		 "each backend must be a mapping like {url: http://198.18.0.11}");
	ERROR_AT("rate_limit:\n  requests_per_second: many\n", 2, 24,
		 "expected a number for 'requests_per_second'");
	ERROR_AT("- a\n- b\n", 1, 1, "expected a mapping for 'the top level', got a sequence");
}

static void
test_bad_url_says_what_was_wrong(void)
{
	ERROR_AT("backends:\n  - url: ftp://198.18.0.11\n", 2, 10,
		 "bad backend url 'ftp://198.18.0.11': unsupported scheme 'ftp'; expected http:// "
		 "or https://");
	ERROR_AT("backends:\n  - url: 198.18.0.11:8080\n", 2, 10,
		 "missing scheme; expected http://198.18.0.11:8080");
	ERROR_AT("backends:\n  - url: http://:8080/\n", 2, 10, "the URL has no host");
	ERROR_AT("backends:\n  - url: http://a:0\n", 2, 10,
		 "port must be a number from 1 to 65535, got '0'");
	ERROR_AT("backends:\n  - url: http://a:65536\n", 2, 10,
		 "port must be a number from 1 to 65535, got '65536'");
	ERROR_AT("backends:\n  - url: \"http://a:\"\n", 2, 10, "empty port after ':'");
	ERROR_AT("backends:\n  - url: http://198.18.0.300\n", 2, 10,
		 "'198.18.0.300' is not a valid IPv4 address");
	ERROR_AT("backends:\n  - url: http://bad host\n", 2, 10, "invalid character ' ' in host");
	ERROR_AT("backends:\n  - url: http://user@h\n", 2, 10, "user names or passwords");
	ERROR_AT("backends:\n  - url: http://[::1]:80\n", 2, 10,
		 "IPv6 addresses are not supported");
}

static void
test_weight_must_be_at_least_one(void)
{
	ERROR_AT("backends:\n  - url: http://198.18.0.11\n    weight: 0\n", 3, 13,
		 "'weight' must be an integer >= 1, got 0");
	ERROR_AT("backends:\n  - url: http://198.18.0.11\n    weight: -3\n", 3, 13,
		 "'weight' must be an integer >= 1, got -3");
}

static void
test_duplicate_service_names_are_refused(void)
{
	ERROR_AT("services:\n"
		 "  - name: api\n" ONE_BACKEND "  - name: api\n"
		 "    port: 81\n" ONE_BACKEND,
		 4, 11, "duplicate service name 'api' (first at line 2)");
}

static void
test_services_on_the_same_host_and_port_are_refused(void)
{
	ERROR_AT("services:\n"
		 "  - name: a\n" ONE_BACKEND "  - name: b\n" ONE_BACKEND,
		 4, 5, "service 'b' has the same host, port and address as service 'a' (line 2)");
}

static void
test_location_without_backends_is_refused(void)
{
	ERROR_AT("services:\n"
		 "  - name: a\n"
		 "    locations:\n"
		 "      - path: /api\n"
		 "        backends: []\n",
		 5, 19, "location '/api' has no backends");
	ERROR_AT("services:\n"
		 "  - name: a\n"
		 "    locations:\n"
		 "      - path: /api\n"
		 "        backends:\n",
		 5, 9, "location '/api' has no backends");
	ERROR_AT("services:\n"
		 "  - name: a\n"
		 "    locations:\n"
		 "      - path: /api\n",
		 4, 9, "missing required key 'backends' in location");
	ERROR_AT("services:\n  - name: a\n    locations: []\n", 3, 16,
		 "service 'a' has no locations");
}

static void
test_port_out_of_range_is_refused(void)
{
	ERROR_AT("services:\n  - name: a\n    port: 0\n" ONE_BACKEND, 3, 11,
		 "'port' must be an integer from 1 to 65535, got 0");
	ERROR_AT("services:\n  - name: a\n    port: 65536\n" ONE_BACKEND, 3, 11,
		 "'port' must be an integer from 1 to 65535, got 65536");
	ERROR_AT("port: 99999999999999999999999\n", 1, 7,
		 "'port' must be an integer from 1 to 65535");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24, mtu: 100}\n", 3, 43,
		 "'mtu' must be an integer from 576 to 9000, got 100");
	ERROR_AT("dataplane:\n  mbufs: 100\n", 2, 10,
		 "'mbufs' must be an integer from 1023 to 16777215");
}

static void
test_unreadable_file_names_the_file_and_the_reason(void)
{
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	char msg[1024], want[512];
	int rc;

	rc = sl_config_load_file("/nonexistent/sluice.yaml", &cfg, &err);
	CU_ASSERT_EQUAL(rc, -ENOENT);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(err.line, 0);
	CU_ASSERT_STRING_EQUAL(err.file, "/nonexistent/sluice.yaml");
	sl_config_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), "/nonexistent/sluice.yaml: cannot open configuration file: %s",
		 strerror(ENOENT));
	CU_ASSERT_STRING_EQUAL(msg, want);

	rc = sl_config_load_file("/", &cfg, &err);
	CU_ASSERT_EQUAL(rc, -EISDIR);
	CU_ASSERT_EQUAL(err.line, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, strerror(EISDIR)));
}

static void
test_yaml_syntax_errors_carry_libyaml_position(void)
{
	ERROR_AT("services:\n  - name: a\n   bad: [\n", 3, 4,
		 "invalid YAML: did not find expected '-' indicator (while parsing a block "
		 "collection at line 2)");
	ERROR_AT("port: 80\nadmin: {listen: \"127.0.0.1:1997\"\n", 3, 1,
		 "invalid YAML: did not find expected ',' or '}'");
	ERROR_AT("a: b: c\n", 1, 5, "invalid YAML: mapping values are not allowed");
	ERROR_AT("port: *nothing\n", 1, 7, "invalid YAML: found undefined alias");
	ERROR_AT("port: 80\n\xff\n", 2, 1, "invalid text");
	ERROR_AT("port: 80\n---\nport: 81\n", 3, 1, "only one YAML document is allowed");
	ERROR_AT("", 1, 1, "the configuration is empty");
	ERROR_AT("# nothing but a comment\n", 1, 1, "the configuration is empty");
}

static void
test_duplicate_key_names_both_lines(void)
{
	ERROR_AT("port: 80\nalgorithm: adaptive\nport: 81\n", 3, 1,
		 "duplicate key 'port' in the top level (first at line 1)");
	ERROR_AT("backends:\n  - url: http://198.18.0.11\n    weight: 1\n    weight: 2\n", 4, 5,
		 "duplicate key 'weight' in backend (first at line 3)");
}

static void
test_prefix_out_of_range_is_refused(void)
{
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/33}\n", 3, 23,
		 "prefix length must be from 1 to 32, got '33'");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/0}\n", 3, 23,
		 "prefix length must be from 1 to 32");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2, prefix: 40}\n", 3, 43,
		 "'prefix' must be an integer from 1 to 32, got 40");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2}\n", 3, 7,
		 "port 'd' has no prefix length");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24, prefix: 24}\n", 3, 38,
		 "the prefix length is given twice");
}

static void
test_bad_ipv4_is_refused(void)
{
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.256/24}\n", 3, 23,
		 "bad IPv4 address '198.18.0.256/24' for 'ip'");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24, gateway: 198.18.1}\n",
		 3, 47, "bad IPv4 address '198.18.1' for 'gateway'");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.018.0.2/24}\n", 3, 23,
		 "bad IPv4 address");
	ERROR_AT(
	    "dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24, gateway: 198.19.0.1}\n", 3,
	    7, "the gateway of port 'd' is not in its subnet");
	ERROR_AT(
	    "dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/32, gateway: 198.18.0.1}\n", 3,
	    7, "the gateway of port 'd' is not in its subnet");
	ERROR_AT("admin: {listen: 127.0.0.256:1997}\n", 1, 17, "bad 'listen' address");
}

/* services[].address: a VIP of a dataplane port; services on one port told apart by it. */
static void
test_service_address_is_a_port_address(void)
{
#define VIP_PORTS                                                                                  \
	"dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"                               \
	" addresses: [198.18.0.60, 198.18.0.61]}\n"
	struct sl_config *cfg = LOAD(VIP_PORTS "services:\n"
					       "  - name: a\n    address: 198.18.0.60\n" ONE_BACKEND
					       "  - name: b\n    address: 198.18.0.61\n" ONE_BACKEND
					       "  - name: c\n    address: 198.18.0.2\n" ONE_BACKEND
					       "  - name: d\n" ONE_BACKEND);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->services[0].address, ip("198.18.0.60"));
	CU_ASSERT_EQUAL(cfg->services[1].address, ip("198.18.0.61"));
	CU_ASSERT_EQUAL(cfg->services[2].address, ip("198.18.0.2"));
	CU_ASSERT_EQUAL(cfg->services[3].address, 0);
	sl_config_free(cfg);
	ERROR_AT(VIP_PORTS "services:\n  - name: a\n    address: 198.18.0.62\n" ONE_BACKEND, 6, 14,
		 "service address 198.18.0.62 is not an address of any dataplane port; add it to "
		 "the 'addresses'");
	ERROR_AT("services:\n  - name: a\n    address: 198.18.0.60\n" ONE_BACKEND, 3, 14,
		 "is not an address of any dataplane port");
	ERROR_AT(VIP_PORTS "services:\n  - name: a\n    address: 198.18.0.600\n" ONE_BACKEND, 6, 14,
		 "bad IPv4 address '198.18.0.600' for 'address'");
	ERROR_AT(VIP_PORTS "services:\n  - name: a\n    address: [198.18.0.60]\n" ONE_BACKEND, 6,
		 14, "address");
	ERROR_AT(VIP_PORTS "services:\n  - name: a\n    address: 198.18.0.60\n" ONE_BACKEND
			   "  - name: b\n    address: 198.18.0.60\n" ONE_BACKEND,
		 8, 5, "service 'b' has the same host, port and address as service 'a'");
#undef VIP_PORTS
}

static void
test_port_addresses_are_further_hosts_of_its_subnet(void)
{
	struct sl_config *cfg = LOAD("dataplane:\n"
				     "  ports:\n"
				     "    - {device: d, ip: 198.18.0.2/24,"
				     " addresses: [198.18.0.60, 198.18.0.61]}\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->dataplane.ports[0].n_addresses, 2);
	CU_ASSERT_EQUAL(cfg->dataplane.ports[0].addresses[0], ip("198.18.0.60"));
	CU_ASSERT_EQUAL(cfg->dataplane.ports[0].addresses[1], ip("198.18.0.61"));
	sl_config_free(cfg);
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
		 " addresses: [198.18.0.60, 198.18.0.60]}\n",
		 3, 63, "'addresses' lists 198.18.0.60 twice");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
		 " addresses: [198.18.0.600]}\n",
		 3, 50, "bad IPv4 address '198.18.0.600' in 'addresses'");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
		 " addresses: 198.18.0.60}\n",
		 3, 49, "addresses");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
		 " addresses: [198.18.1.60]}\n",
		 3, 7, "an address in 'addresses' of port 'd' is not a host of its subnet");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
		 " addresses: [198.18.0.255]}\n",
		 3, 7, "is not a host of its subnet");
	ERROR_AT("dataplane:\n  ports:\n    - {device: d, ip: 198.18.0.2/24,"
		 " addresses: [198.18.0.2]}\n",
		 3, 7, "port 'd' lists its own ip in 'addresses'");
}

static void
test_mixing_services_with_routes_or_backends_is_refused(void)
{
	ERROR_AT("services:\n"
		 "  - name: a\n" ONE_BACKEND "routes:\n"
		 "  - prefix: /\n"
		 "    backends: [{url: http://198.18.0.11}]\n",
		 4, 1, "'routes' cannot be combined with 'services' (line 1)");
	ERROR_AT("backends: [{url: http://198.18.0.11}]\n"
		 "services:\n"
		 "  - name: a\n" ONE_BACKEND,
		 2, 1, "'services' cannot be combined with 'backends' (line 1)");
}

static void
test_health_check_timeout_longer_than_interval_is_refused(void)
{
	ERROR_AT("health_check:\n  interval: 2s\n  timeout: 3s\n", 2, 3,
		 "health_check timeout (3s) must not be longer than its interval (2s)");
	/* an inherited timeout counts too */
	ERROR_AT("backends:\n"
		 "  - url: http://198.18.0.11\n"
		 "    health_check: {interval: 500ms}\n",
		 3, 19, "timeout (2s) must not be longer than its interval (500ms)");
}

static void
test_missing_required_keys_are_named(void)
{
	ERROR_AT("backends:\n  - weight: 2\n", 2, 5, "missing required key 'url' in backend");
	ERROR_AT("services:\n  - port: 80\n" ONE_BACKEND, 2, 5,
		 "missing required key 'name' in service");
	ERROR_AT("routes:\n  - strategy: adaptive\n    backends: [{url: http://198.18.0.11}]\n", 2,
		 5, "missing required key 'prefix' in route");
	ERROR_AT("dataplane:\n  ports:\n    - ip: 198.18.0.2/24\n", 3, 7,
		 "missing required key 'device' in port");
}

static void
test_paths_must_start_with_a_slash(void)
{
	ERROR_AT("services:\n"
		 "  - name: a\n"
		 "    locations: [{path: api, backends: [{url: http://198.18.0.11}]}]\n",
		 3, 24, "'path' must start with '/', got 'api'");
	ERROR_AT("routes:\n  - prefix: api\n    backends: [{url: http://198.18.0.11}]\n", 2, 13,
		 "'prefix' must start with '/'");
	ERROR_AT("health_check: {path: health}\n", 1, 22, "'path' must start with '/'");
	ERROR_AT("services:\n"
		 "  - name: a\n"
		 "    locations: [{path: /, rewrite: x, backends: [{url: http://198.18.0.11}]}]\n",
		 3, 36, "'rewrite' must start with '/'");
}

static void
test_unknown_policy_lists_the_choices(void)
{
	ERROR_AT("algorithm: random\nbackends: [{url: http://198.18.0.11}]\n", 1, 12,
		 "unknown algorithm 'random'; expected round_robin, least_connections");
	ERROR_AT("dataplane: {idle: sleepy}\n", 1, 19, "unknown idle policy 'sleepy'");
}

static void
test_auth_token_ttl_and_secret_file(void)
{
	struct sl_config *cfg = LOAD("admin: {auth: {jwt_secret_file: /etc/sluice/jwt, "
				     "token_ttl: 90s}}\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->admin.auth.jwt_secret_file, "/etc/sluice/jwt");
	CU_ASSERT_EQUAL(cfg->admin.auth.token_ttl_ms, 90000);
	sl_config_free(cfg);
	cfg = LOAD("admin: {listen: 127.0.0.1:1997}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->admin.auth.token_ttl_ms, 3600 * 1000); /* default: one hour */
	sl_config_free(cfg);
	ERROR_AT("auth: {jwt_secret: a, jwt_secret_file: /b}\n", 1, 7,
		 "auth has both jwt_secret and jwt_secret_file; keep one");
	ERROR_AT("auth: {token_ttl: 1500ms}\n", 1, 7, "token_ttl must be whole seconds");
	ERROR_AT("auth: {token_ttl: 500ms}\n", 1, 19, "token_ttl");
	ERROR_AT("auth: {token_ttl: 8d}\n", 1, 19, "token_ttl");
}

/* backend_tls: defaults, inheritance global -> service -> location, the dump, the errors. */
static void
test_backend_tls_keys(void)
{
	struct sl_config *cfg = LOAD("backends: [{url: \"https://198.18.0.11\"}]\n");
	const struct sl_config_location *loc;
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	loc = &cfg->services[0].locations[0];
	CU_ASSERT_TRUE(loc->backends[0].target.https);
	CU_ASSERT_EQUAL(loc->backends[0].target.port, 443);
	CU_ASSERT_TRUE(loc->backend_tls.verify); /* verified by default */
	CU_ASSERT_STRING_EQUAL(loc->backend_tls.ca_file, SL_CONFIG_DEFAULT_CA_FILE);
	CU_ASSERT_STRING_EQUAL(loc->backend_tls.server_name, "");
	CU_ASSERT_EQUAL(loc->backend_tls.ca_line, 0);
	sl_config_free(cfg);

	cfg = LOAD("backend_tls: {ca_file: /dev/null}\n"
		   "services:\n"
		   "  - name: a\n"
		   "    backend_tls: {server_name: API.internal}\n"
		   "    locations:\n"
		   "      - path: /\n"
		   "        backends: [{url: https://198.18.0.11:8443}]\n"
		   "      - path: /x/\n"
		   "        backend_tls: {verify: false}\n"
		   "        backends: [{url: https://198.18.0.12}]\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	loc = &cfg->services[0].locations[0];
	CU_ASSERT_TRUE(loc->backend_tls.verify);
	CU_ASSERT_STRING_EQUAL(loc->backend_tls.ca_file, "/dev/null");
	CU_ASSERT_EQUAL(loc->backend_tls.ca_line, 1);
	CU_ASSERT_EQUAL(loc->backend_tls.ca_col, 24);
	CU_ASSERT_STRING_EQUAL(loc->backend_tls.server_name, "api.internal"); /* lower case */
	loc = &cfg->services[0].locations[1];
	CU_ASSERT_FALSE(loc->backend_tls.verify);
	CU_ASSERT_STRING_EQUAL(loc->backend_tls.server_name, "api.internal");
	CU_ASSERT_EQUAL(loc->backend_tls.line, 9);
	json = sl_config_to_json(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"backend_tls\": {"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"ca_file\": \"/dev/null\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"server_name\": \"api.internal\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"verify\": false"));
	free(json);
	sl_config_free(cfg);

	ERROR_AT("backend_tls: {ca_file: /nonexistent/ca.pem}\n", 1, 24,
		 "backend_tls ca_file '/nonexistent/ca.pem': cannot read it: No such file");
	ERROR_AT("backend_tls: {verify: maybe}\n", 1, 23, "expected a boolean");
	ERROR_AT("backend_tls: {verify: false, ca_file: /dev/null}\n", 1, 14,
		 "backend_tls has ca_file but verify: false");
	ERROR_AT("backend_tls: {server_name: \"bad name\"}\n", 1, 28,
		 "backend_tls server_name 'bad name'");
	ERROR_AT("backend_tls: {sni: a.example}\n", 1, 15,
		 "unknown key 'sni' in backend_tls; expected one of: verify, ca_file, server_name, "
		 "cert_file, key_file");
	ERROR_AT("backend_tls: {cert_file: /dev/null}\n", 1, 14,
		 "backend_tls needs both cert_file and key_file (a client certificate), or neither");
	ERROR_AT("backend_tls: {cert_file: /dev/null, key_file: /nonexistent/c.key}\n", 1, 47,
		 "backend_tls key_file '/nonexistent/c.key': cannot read it");
	cfg = LOAD("backend_tls: {cert_file: /dev/null, key_file: /dev/null}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->backend_tls.cert_file, "/dev/null");
	CU_ASSERT_EQUAL(cfg->backend_tls.cert_line, 1);
	CU_ASSERT_EQUAL(cfg->backend_tls.cert_col, 26);
	json = sl_config_to_json(cfg);
	CU_ASSERT_PTR_NOT_NULL(json != NULL ? strstr(json, "\"key_file\": \"/dev/null\"") : NULL);
	free(json);
	sl_config_free(cfg);
	ERROR_AT("backend_tls: {ca_file: [a]}\n", 1, 24, "expected a PEM file for 'ca_file'");
	ERROR_AT("services:\n  - name: a\n    locations:\n      - path: /\n"
		 "        backend_tls: {ca_file: /nonexistent/x.pem}\n        backends: [{url: https://a.b}]\n",
		 5, 32, "cannot read it");
}

static void
test_access_log_keys(void)
{
	struct sl_config *cfg = LOAD("admin: {listen: 127.0.0.1:1997}\n");
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_FALSE(cfg->admin.access_log.enabled); /* off unless the section is there */
	sl_config_free(cfg);
	cfg = LOAD("admin:\n  access_log: {}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(cfg->admin.access_log.enabled);
	CU_ASSERT_STRING_EQUAL(cfg->admin.access_log.path, "stdout");
	CU_ASSERT_EQUAL(cfg->admin.access_log.format, SL_CONFIG_LOG_JSON);
	CU_ASSERT_EQUAL(cfg->admin.access_log.ring_size, 4096);
	sl_config_free(cfg);
	cfg = LOAD("admin:\n  access_log:\n    path: /var/log/sluice/access.log\n"
		   "    format: Combined\n    ring_size: 8\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(cfg->admin.access_log.enabled);
	CU_ASSERT_STRING_EQUAL(cfg->admin.access_log.path, "/var/log/sluice/access.log");
	CU_ASSERT_EQUAL(cfg->admin.access_log.format, SL_CONFIG_LOG_COMBINED);
	CU_ASSERT_EQUAL(cfg->admin.access_log.ring_size, 8);
	json = sl_config_to_json(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"access_log\": {"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"path\": \"/var/log/sluice/access.log\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"format\": \"combined\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"ring_size\": 8"));
	free(json);
	sl_config_free(cfg);
	cfg = LOAD("admin: {access_log: {enabled: false, format: json}}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_FALSE(cfg->admin.access_log.enabled);
	sl_config_free(cfg);

	ERROR_AT("admin: {access_log: {format: xml}}\n", 1, 30,
		 "unknown access log format 'xml'; expected json or combined");
	ERROR_AT("admin:\n  access_log:\n    ring_size: 0\n", 3, 16, "'ring_size' must be");
	ERROR_AT("admin:\n  access_log:\n    ring_size: 2000000\n", 3, 16, "'ring_size' must be");
	ERROR_AT("admin:\n  access_log:\n    path: /var/log/\n", 3, 11,
		 "'path' names a directory");
	ERROR_AT("admin:\n  access_log:\n    path: \"\"\n", 3, 11,
		 "expected a file name or stdout for 'path'");
	ERROR_AT("admin:\n  access_log:\n    path:\n", 3, 10,
		 "expected a file name or stdout for 'path'");
	ERROR_AT("admin:\n  access_log:\n    fromat: json\n", 3, 5,
		 "unknown key 'fromat' in access_log; expected one of: enabled, path, format, "
		 "ring_size");
	ERROR_AT("admin: {access_log: stdout}\n", 1, 21, "expected a mapping for 'access_log'");
}

static void
test_repeated_admin_settings_are_refused(void)
{
	ERROR_AT("admin: {listen: 127.0.0.1:1997}\nadmin_port: 4433\n", 2, 1,
		 "'admin_port' sets the admin address again (already set at line 1)");
	ERROR_AT("auth: {jwt_secret: a}\nadmin:\n  auth: {jwt_secret: b}\n", 3, 3,
		 "'auth' sets the admin authentication again (already set at line 1)");
}

static void
test_duplicate_locations_and_backends_are_refused(void)
{
	ERROR_AT("routes:\n"
		 "  - prefix: /a\n"
		 "    backends: [{url: http://198.18.0.11}]\n"
		 "  - prefix: /a\n"
		 "    backends: [{url: http://198.18.0.11}]\n",
		 4, 13, "location '/a' appears twice in service 'default' (first at line 2)");
	ERROR_AT("backends:\n"
		 "  - url: http://198.18.0.11\n"
		 "  - url: http://198.18.0.11:80/\n"
		 "  - url: http://198.18.0.11:80\n",
		 4, 10, "appears twice in location '/' (first at line 2)");
}

static void
test_bad_values_in_policy_sections_are_refused(void)
{
	ERROR_AT("rate_limit: {burst: 10}\n", 1, 13, "rate_limit needs requests_per_second");
	ERROR_AT("rate_limit: {requests_per_second: 0}\n", 1, 35,
		 "'requests_per_second' must be a number above 0");
	ERROR_AT("rate_limit: {requests_per_second: 1, requests_per_minute: 60}\n", 1, 13,
		 "rate_limit has both requests_per_second and requests_per_minute");
	ERROR_AT("circuit_breaker: {threshold: 0}\n", 1, 30,
		 "'threshold' must be an integer from 1 to 1000000, got 0");
	ERROR_AT("connection_pool: {max_idle: 10, max_open: 5}\n", 1, 18,
		 "max_idle (10) must not exceed max_open (5)");
	ERROR_AT("health_check: {interval: 0s}\n", 1, 26, "'interval' must be at least 1ms");
	ERROR_AT("health_check: {interval: 0.5ms}\n", 1, 26, "whole number of milliseconds");
	ERROR_AT("dataplane: {tcp: {delayed_ack: 1s}}\n", 1, 32,
		 "'delayed_ack' must be from 0s to 500ms, got '1s'");
	ERROR_AT("dataplane: {tcp: {rcv_mem_percent: 95}}\n", 1, 36,
		 "'rcv_mem_percent' must be an integer from 1 to 90, got 95");
	ERROR_AT("security: {frame_options: ALLOW}\n", 1, 27,
		 "unknown frame_options 'ALLOW'; expected DENY or SAMEORIGIN");
	ERROR_AT("tls: {enabled: true}\n", 1, 6, "tls is enabled but names no certificate");
	ERROR_AT("services:\n  - name: a\n    tls: {cert_file: /c.pem}\n" ONE_BACKEND, 3, 10,
		 "tls needs both cert_file and key_file");
	ERROR_AT("services:\n  - name: a\n    tls: {}\n" ONE_BACKEND, 3, 10,
		 "tls needs cert_file and key_file (or a global tls section with cert_file");
	{
		/* the global certificate serves a service whose tls names none */
		struct sl_config *cfg = LOAD("tls: {cert_file: /g.pem, key_file: /g.key}\n"
					     "services:\n  - name: a\n    tls: {}\n" ONE_BACKEND);

		CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
		CU_ASSERT_TRUE(cfg->services[0].tls.enabled);
		CU_ASSERT_STRING_EQUAL(cfg->services[0].tls.cert_file, "");
		sl_config_free(cfg);
	}
	ERROR_AT("services:\n  - name: a b\n" ONE_BACKEND, 2, 11,
		 "service name 'a b' may hold only letters");
}

static void
test_security_and_cors_entries_are_checked_and_origins_lowered(void)
{
	struct sl_config *cfg = LOAD("security: {referrer_policy: Strict-Origin}\n"
				     "cors:\n"
				     "  allowed_origins: [\"HTTPS://App.Example.com:8443\", \"*\"]\n"
				     "  allowed_methods: [PUT, \"*\"]\n"
				     "  allowed_headers: [X-Requested-With]\n");

	if (cfg) {
		CU_ASSERT_STRING_EQUAL(cfg->security.referrer_policy, "strict-origin");
		CU_ASSERT_STRING_EQUAL(cfg->cors.allowed_origins.items[0],
				       "https://app.example.com:8443");
		CU_ASSERT_STRING_EQUAL(cfg->cors.allowed_headers.items[0], "X-Requested-With");
		sl_config_free(cfg);
	}
	ERROR_AT("security: {referrer_policy: always}\n", 1, 29,
		 "unknown referrer_policy 'always'; expected a Referrer-Policy");
	ERROR_AT("cors:\n  allowed_origins: [https://a.example, app.example.com]\n", 2, 40,
		 "bad entry 'app.example.com' in 'allowed_origins'");
	ERROR_AT("cors:\n  allowed_origins:\n    - https://a.example/app\n", 3, 7,
		 "expected an origin (scheme://host[:port], no path)");
	ERROR_AT("cors:\n  allowed_origins: [\"https://\"]\n", 2, 21, "bad entry 'https://'");
	ERROR_AT("cors:\n  allowed_methods: [GET, \"PO ST\"]\n", 2, 26,
		 "bad entry 'PO ST' in 'allowed_methods'; expected an HTTP token");
	ERROR_AT("cors:\n  allowed_headers: [\"X-A:b\"]\n", 2, 21,
		 "bad entry 'X-A:b' in 'allowed_headers'");
	ERROR_AT("cors:\n  allowed_origins: [\"*\"]\n  allow_credentials: true\n", 2, 3,
		 "allow_credentials cannot be used with allowed_origins '*'");
}

/* Found checking the JSON round trip: YAML reads U+2028 and U+0085 as line breaks. */
static void
test_strings_that_cannot_be_written_back_are_refused(void)
{
	ERROR_AT("health_check: {path: \"/a\\u2028b\"}\n", 1, 22,
		 "'path' must be printable ASCII without spaces");
	ERROR_AT("health_check: {path: \"/caf\\u00e9\"}\n", 1, 22,
		 "'path' must be printable ASCII without spaces");
	ERROR_AT("auth: {db_path: \"/a\\u2028b\"}\n", 1, 17, "'db_path' contains a line separator");
	ERROR_AT("auth: {jwt_secret: \"a\\x85b\"}\n", 1, 20,
		 "'jwt_secret' contains a control character");
	ERROR_AT("auth: {jwt_secret: \"a\\tb\"}\n", 1, 20,
		 "'jwt_secret' contains a control character");
	ERROR_AT("auth: {db_path: \"a\\uFFFE\"}\n", 1, 17,
		 "'db_path' contains a Unicode non-character");
	ERROR_AT("cors: {allowed_origins: [\"a\\u2029\"]}\n", 1, 26,
		 "'allowed_origins' contains a line separator");
	ERROR_AT("backends: [{url: \"http://h/caf\\u00e9\"}]\n", 1, 18,
		 "the path must be printable ASCII");
	ERROR_AT("\"port\\0x\": 80\n", 1, 1, "a key in the top level contains a NUL character");
	ERROR_AT("auth: {db_path: \"a\\0b\"}\n", 1, 17, "'db_path' contains a NUL character");
}

static void
test_error_format_is_file_line_col_message(void)
{
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	char msg[1024];
	const char *yaml = "port: 80\nfoo: 1\n";

	CU_ASSERT_EQUAL(sl_config_load_buffer("configs/x.yaml", yaml, strlen(yaml), &cfg, &err),
			-EINVAL);
	sl_config_error_format(&err, msg, sizeof(msg));
	CU_ASSERT_NSTRING_EQUAL(msg, "configs/x.yaml:2:1: unknown key 'foo' in the top level; ",
				strlen("configs/x.yaml:2:1: unknown key 'foo' in the top level; "));
}

/* ------------------------------------------------------------------ main */

/* ------------------------------------------------------------------ tls cipher policy */

static void
test_tls_cipher_keys_are_kept_with_their_position_or_refused(void)
{
	struct sl_config *cfg;
	char *json;

	cfg = LOAD("tls:\n  cert_file: /c.pem\n  key_file: /c.key\n"
		   "  ciphers: \"ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL\"\n"
		   "  ciphersuites: TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->tls.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL");
	CU_ASSERT_STRING_EQUAL(cfg->tls.ciphersuites,
			       "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	CU_ASSERT_EQUAL(cfg->tls.ciphers_line, 4);
	CU_ASSERT_EQUAL(cfg->tls.ciphers_col, 12);
	json = json_round_trip(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "TLS_CHACHA20_POLY1305_SHA256"));
	free(json);
	sl_config_free(cfg);

	cfg = LOAD("tls: {cert_file: /c.pem, key_file: /c.key}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->tls.ciphers, "");
	CU_ASSERT_STRING_EQUAL(cfg->tls.ciphersuites, "");
	sl_config_free(cfg);

	ERROR_AT("tls: {cert_file: /c.pem, key_file: /c.key, ciphers: \"AES 128\"}\n", 1, 53,
		 "'ciphers' holds ' '; expected an OpenSSL cipher list");
	ERROR_AT("tls: {cert_file: /c.pem, key_file: /c.key, ciphers: [a]}\n", 1, 53,
		 "expected an OpenSSL cipher list for 'ciphers', got a sequence");
	ERROR_AT("tls:\n  cert_file: /c.pem\n  key_file: /c.key\n"
		 "  ciphersuites: TLS_AES_128_GCM_SHA256:TLS_RSA_WITH_RC4_128_SHA\n",
		 4, 17, "unknown TLS 1.3 suite 'TLS_RSA_WITH_RC4_128_SHA' in 'ciphersuites'");
	ERROR_AT("tls: {cert_file: /c.pem, key_file: /c.key, ciphersuites: \"TLS_AES_128_GCM_SHA256:\"}\n",
		 1, 58, "unknown TLS 1.3 suite '' in 'ciphersuites'");
}

int
main(int argc, char **argv)
{
	static const struct sl_unit_test tests[] = {
#define T(fn) {#fn, fn}
	    T(test_every_config_in_configs_loads_and_round_trips_through_json),
	    T(test_tap_demo_matches_the_testbed_contract),
	    T(test_embedded_default_is_tap_demo_byte_for_byte),
	    T(test_advanced_yaml_resolves_inheritance_at_every_level),
	    T(test_timeouts_have_defaults_and_take_durations),
	    T(test_limits_have_defaults_and_take_sizes),
	    T(test_admission_keys_have_defaults_and_are_checked),
	    T(test_service_queue_inherits_and_overrides),
	    T(test_terraster_admin_spellings_land_in_admin),
	    T(test_minimal_shape_becomes_one_default_service),
	    T(test_teeter_routes_become_locations_of_one_default_service),
	    T(test_seed_examples_load_verbatim),
	    T(test_policy_names_accept_both_spellings),
	    T(test_top_level_algorithm_is_the_default_policy_of_locations),
	    T(test_durations_accept_units_fractions_and_bare_seconds),
	    T(test_durations_format_in_their_shortest_exact_form),
	    T(test_duration_fields_take_every_form_in_yaml),
	    T(test_dataplane_defaults_apply_when_the_section_is_absent),
	    T(test_dataplane_section_reads_every_key),
	    T(test_lower_levels_override_only_the_keys_they_name),
	    T(test_requests_per_minute_is_converted_to_per_second),
	    T(test_queue_and_admin_listen_forms),
	    T(test_service_host_star_or_absent_means_any_host),
	    T(test_backend_urls_are_split_into_parts),
	    T(test_json_uses_duration_strings_dotted_addresses_and_cidr),
	    T(test_json_redacts_the_jwt_secret),
	    T(test_forward_test_service_reads_address_and_port),
	    T(test_unknown_key_names_line_and_column),
	    T(test_security_and_cors_entries_are_checked_and_origins_lowered),
	    T(test_wrong_type_says_what_was_expected),
	    T(test_bad_url_says_what_was_wrong),
	    T(test_weight_must_be_at_least_one),
	    T(test_duplicate_service_names_are_refused),
	    T(test_services_on_the_same_host_and_port_are_refused),
	    T(test_location_without_backends_is_refused),
	    T(test_port_out_of_range_is_refused),
	    T(test_unreadable_file_names_the_file_and_the_reason),
	    T(test_yaml_syntax_errors_carry_libyaml_position),
	    T(test_duplicate_key_names_both_lines),
	    T(test_prefix_out_of_range_is_refused),
	    T(test_bad_ipv4_is_refused),
	    T(test_port_addresses_are_further_hosts_of_its_subnet),
	    T(test_service_address_is_a_port_address),
	    T(test_mixing_services_with_routes_or_backends_is_refused),
	    T(test_health_check_timeout_longer_than_interval_is_refused),
	    T(test_missing_required_keys_are_named),
	    T(test_paths_must_start_with_a_slash),
	    T(test_unknown_policy_lists_the_choices),
	    T(test_auth_token_ttl_and_secret_file),
	    T(test_access_log_keys),
	    T(test_backend_tls_keys),
	    T(test_repeated_admin_settings_are_refused),
	    T(test_duplicate_locations_and_backends_are_refused),
	    T(test_bad_values_in_policy_sections_are_refused),
	    T(test_strings_that_cannot_be_written_back_are_refused),
	    T(test_error_format_is_file_line_col_message),
	    T(test_resilience_keys_have_defaults_and_inherit),
	    T(test_bad_resilience_values_are_refused),
	    T(test_tls_cipher_keys_are_kept_with_their_position_or_refused),
#undef T
	};

	if (argc > 1)
		source_root = argv[1];
	return SL_UNIT_RUN("lib/config", tests);
}
