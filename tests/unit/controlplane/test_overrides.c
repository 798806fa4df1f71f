/* SPDX-License-Identifier: MIT */
/*
 * Live reconfiguration's pure parts: the deep copy of a tree (lib/config sl_config_dup), the
 * keys a reload may not change (sl_config_restart_key), the admin API's runtime overrides
 * (controlplane/backend_overrides.c) and its checks of a backend given as JSON values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <CUnit/Basic.h>

#include "controlplane/backend_overrides.h"
#include "lib/config/config.h"
#include "cunit_main.h"

static const char base_yaml[] = "dataplane:\n"
				"  ports:\n"
				"    - name: tap0\n"
				"      device: net_tap0\n"
				"      ip: 198.18.0.2/24\n"
				"  mbufs: 8191\n"
				"services:\n"
				"  - name: demo\n"
				"    locations:\n"
				"      - path: /\n"
				"        health_check:\n"
				"          path: /hc\n"
				"        backends:\n"
				"          - url: http://198.18.0.11:8080\n"
				"          - url: http://198.18.0.12:8080\n"
				"            weight: 3\n"
				"      - path: /one/\n"
				"        backends:\n"
				"          - url: http://198.18.0.13:8080\n"
				"admin:\n"
				"  auth:\n"
				"    jwt_secret: first-secret\n";

static struct sl_config *
load(const char *yaml)
{
	struct sl_config *c = NULL;
	struct sl_config_error e;

	CU_ASSERT_EQUAL_FATAL(sl_config_load_buffer("t.yaml", yaml, strlen(yaml), &c, &e), 0);
	return c;
}

/* base_yaml with the first occurrence of `from` replaced by `to`. */
static struct sl_config *
load_changed(const char *from, const char *to)
{
	char buf[4096];
	const char *p = strstr(base_yaml, from);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - base_yaml), base_yaml, to,
		 p + strlen(from));
	return load(buf);
}

static struct sl_cp_override
ov(enum sl_cp_override_kind k, const char *svc, const char *loc, const char *url, uint32_t w)
{
	struct sl_cp_override o = {.kind = k, .weight = w, .has_weight = w != 0};

	snprintf(o.service, sizeof(o.service), "%s", svc);
	snprintf(o.location, sizeof(o.location), "%s", loc);
	snprintf(o.url, sizeof(o.url), "%s", url);
	return o;
}

static void
test_dup_is_deep_and_frees_alone(void)
{
	struct sl_config *a = load(base_yaml), *b = sl_config_dup(a);
	char *ja, *jb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_EQUAL(a->services, b->services);
	CU_ASSERT_PTR_NOT_EQUAL(a->services[0].locations, b->services[0].locations);
	CU_ASSERT_PTR_NOT_EQUAL(a->services[0].locations[0].backends,
				b->services[0].locations[0].backends);
	CU_ASSERT_PTR_NOT_EQUAL(a->dataplane.ports, b->dataplane.ports);
	ja = sl_config_to_json(a);
	jb = sl_config_to_json(b);
	CU_ASSERT_STRING_EQUAL(ja, jb);
	free(ja);
	free(jb);
	/* Changing the copy leaves the original alone; each frees on its own. */
	b->services[0].locations[0].backends[0].weight = 9;
	CU_ASSERT_EQUAL(a->services[0].locations[0].backends[0].weight, 1);
	sl_config_free(a);
	CU_ASSERT_EQUAL(b->services[0].locations[1].backends[0].target.port, 8080);
	sl_config_free(b);
}

static void
test_restart_key_names_what_needs_a_restart(void)
{
	struct sl_config *a = load(base_yaml), *b;
	char key[256];

	b = load_changed("weight: 3", "weight: 5");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 0);
	sl_config_free(b);
	b = load_changed("      - path: /one/\n", "      - path: /two/\n");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 0);
	sl_config_free(b);

	b = load_changed("mbufs: 8191", "mbufs: 4095");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_STRING_EQUAL(key, "dataplane.mbufs");
	sl_config_free(b);
	b = load_changed("  mbufs: 8191\n", "  mbufs: 8191\n  workers: 2\n");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_STRING_EQUAL(key, "dataplane.workers");
	sl_config_free(b);
	b = load_changed("ip: 198.18.0.2/24", "ip: 198.18.0.3/24");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(key, "dataplane.ports[0]"));
	sl_config_free(b);
	b = load_changed("admin:\n", "admin:\n  listen: 127.0.0.1:1998\n");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_STRING_EQUAL(key, "admin.listen");
	sl_config_free(b);
	/* The JSON dump redacts the secret; the comparison must not miss it. */
	b = load_changed("first-secret", "second-secret");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_STRING_EQUAL(key, "admin.auth.jwt_secret");
	sl_config_free(b);
	/* The admission tables are built at start. */
	b = load_changed("admin:\n", "limits: {max_connections_per_ip: 8}\nadmin:\n");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_STRING_EQUAL(key, "limits.max_connections_per_ip");
	sl_config_free(b);
	b = load_changed("admin:\n", "limits: {rate_limit_table_size: 1024}\nadmin:\n");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 1);
	CU_ASSERT_STRING_EQUAL(key, "limits.rate_limit_table_size");
	sl_config_free(b);
	/* A rate limit or a queue may change on a reload. */
	b = load_changed("admin:\n",
			 "rate_limit: {requests_per_second: 5}\nqueue: {max_queue: 3}\nadmin:\n");
	CU_ASSERT_EQUAL(sl_config_restart_key(a, b, key, sizeof(key)), 0);
	sl_config_free(b);
	sl_config_free(a);
}

static void
test_overrides_add_set_remove(void)
{
	struct sl_config *c = load(base_yaml);
	struct sl_cp_override o[3] = {
	    ov(SL_CP_OV_ADD, "demo", "/", "http://198.18.0.14:8080", 2),
	    ov(SL_CP_OV_SET, "demo", "/", "http://198.18.0.12:8080", 7),
	    ov(SL_CP_OV_REMOVE, "demo", "/", "http://198.18.0.11:8080", 0),
	};
	unsigned int skipped[3], ns = 99;
	char err[256] = "";
	const struct sl_config_location *loc;

	o[0].max_connections = 10;
	CU_ASSERT_EQUAL_FATAL(sl_cp_overrides_apply(c, o, 3, skipped, &ns, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ns, 0);
	loc = &c->services[0].locations[0];
	CU_ASSERT_EQUAL_FATAL(loc->n_backends, 2);
	CU_ASSERT_STRING_EQUAL(loc->backends[0].url, "http://198.18.0.12:8080");
	CU_ASSERT_EQUAL(loc->backends[0].weight, 7);
	CU_ASSERT_STRING_EQUAL(loc->backends[1].url, "http://198.18.0.14:8080");
	CU_ASSERT_EQUAL(loc->backends[1].weight, 2);
	CU_ASSERT_EQUAL(loc->backends[1].max_connections, 10);
	CU_ASSERT_EQUAL(loc->backends[1].target.port, 8080);
	CU_ASSERT_EQUAL(loc->backends[1].target.ip, htonl(0xc612000e)); /* 198.18.0.14 */
	/* An added backend inherits its location's health check, as one in the file does. */
	CU_ASSERT_STRING_EQUAL(loc->backends[1].health_check.path, "/hc");
	sl_config_free(c);
}

static void
test_overrides_that_no_longer_apply_are_skipped(void)
{
	struct sl_config *c = load(base_yaml);
	struct sl_cp_override o[5] = {
	    ov(SL_CP_OV_ADD, "gone", "/", "http://198.18.0.14:8080", 1),
	    ov(SL_CP_OV_ADD, "demo", "/nope/", "http://198.18.0.14:8080", 1),
	    ov(SL_CP_OV_ADD, "demo", "/", "http://198.18.0.11:8080", 1), /* in the file now */
	    ov(SL_CP_OV_SET, "demo", "/", "http://198.18.0.99:8080", 4), /* left the file */
	    ov(SL_CP_OV_SET, "demo", "/", "http://198.18.0.11:8080", 4),
	};
	unsigned int skipped[5], ns = 0;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(sl_cp_overrides_apply(c, o, 5, skipped, &ns, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ns, 4);
	CU_ASSERT_EQUAL(skipped[0], 0);
	CU_ASSERT_EQUAL(skipped[1], 1);
	CU_ASSERT_EQUAL(skipped[2], 2);
	CU_ASSERT_EQUAL(skipped[3], 3);
	CU_ASSERT_EQUAL(c->services[0].locations[0].n_backends, 2);
	CU_ASSERT_EQUAL(c->services[0].locations[0].backends[0].weight, 4);
	sl_config_free(c);
}

static void
test_removing_the_last_backend_is_refused(void)
{
	struct sl_config *c = load(base_yaml);
	struct sl_cp_override o =
	    ov(SL_CP_OV_REMOVE, "demo", "/one/", "http://198.18.0.13:8080", 0);
	char err[256] = "";

	CU_ASSERT_EQUAL(sl_cp_overrides_apply(c, &o, 1, NULL, NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no backend left"));
	sl_config_free(c);
}

static void
test_backend_check_explains_bad_values(void)
{
	char err[256];

	CU_ASSERT_EQUAL(sl_cp_backend_check("http://198.18.0.14:8080", 1, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_cp_backend_check(NULL, 1, 0, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'url' is required"));
	CU_ASSERT_EQUAL(sl_cp_backend_check("ftp://198.18.0.14", 1, 0, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'url' ftp://198.18.0.14"));
	/* https: the location's backend_tls settings apply (controlplane/tls_ctx.c) */
	CU_ASSERT_EQUAL(sl_cp_backend_check("https://198.18.0.14", 1, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_cp_backend_check("http://backend.example:80", 1, 0, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an IPv4 address"));
	CU_ASSERT_EQUAL(sl_cp_backend_check("http://198.18.0.14", 0, 0, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'weight' must be an integer from 1"));
	CU_ASSERT_EQUAL(sl_cp_backend_check("http://198.18.0.14", 1000001, 0, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(sl_cp_backend_check("http://198.18.0.14", 1, -1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'max_connections'"));
}

static void
test_find_location(void)
{
	struct sl_config *c = load(base_yaml);
	unsigned int s = 9, l = 9;

	CU_ASSERT_EQUAL(sl_cp_find_location(c, "demo", "/one/", &s, &l), 0);
	CU_ASSERT_EQUAL(s, 0);
	CU_ASSERT_EQUAL(l, 1);
	CU_ASSERT_EQUAL(sl_cp_find_location(c, "demo", "/one", &s, &l), -ENOENT);
	CU_ASSERT_EQUAL(sl_cp_find_location(c, "other", "/", &s, &l), -ENOENT);
	sl_config_free(c);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_dup_is_deep_and_frees_alone),
	    T(test_restart_key_names_what_needs_a_restart),
	    T(test_overrides_add_set_remove),
	    T(test_overrides_that_no_longer_apply_are_skipped),
	    T(test_removing_the_last_backend_is_refused),
	    T(test_backend_check_explains_bad_values),
	    T(test_find_location),
#undef T
	};

	return SL_UNIT_RUN("controlplane/overrides", tests);
}
