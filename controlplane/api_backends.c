/* SPDX-License-Identifier: MIT */
/*
 * The backends, services and configuration resources of the admin API (API_BACKENDS.md):
 *   GET    /api/backends[?service_name=S]
 *   POST   /api/backends?service_name=S&location=/path   {"url", "weight", "max_connections"}
 *   PATCH  /api/backends/{id}                            {"weight", "drain", "enabled"}
 *   DELETE /api/backends/{id}                            drain, then remove
 *   GET    /api/services
 *   GET    /api/config                                   the running configuration
 *   POST   /api/config/reload                            the file again (as SIGHUP)
 * The work is in runtime_config.c; this file is JSON in and out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "controlplane/api_backends.h"

static struct sl_cp_runtime *RT; /* set once at register, before the server starts */

/* A query parameter, URL-decoded: 1 found, 0 absent, -1 too long (replied 400). */
static int
query_var(struct sl_admin_req *r, const char *name, char *buf, size_t len, int *status)
{
	int n;

	if (r->query == NULL)
		return 0;
	n = mg_get_var(r->query, strlen(r->query), name, buf, len);
	if (n == -1)
		return 0;
	if (n < 0) {
		*status = sl_admin_reply_error(r, 400, "bad request",
					       "query parameter '%s' is too long", name);
		return -1;
	}
	return 1;
}

/* The {id} of /api/backends/{id}: 0 or replied 400/404. */
static int
path_id(struct sl_admin_req *r, uint64_t *id, int *status)
{
	const char *s = r->path + strlen("/api/backends/");
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s < '0' || *s > '9') {
		*status = sl_admin_reply_error(r, 404, "not found",
					       "expected /api/backends/{id} with a numeric id");
		return -1;
	}
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v == 0) {
		*status = sl_admin_reply_error(r, 404, "not found",
					       "'%s' is not a backend id (a positive integer)", s);
		return -1;
	}
	*id = v;
	return 0;
}

static int
reply_result(struct sl_admin_req *r, int status, json_t *obj, const char *err)
{
	static const char *const names[] = {[400] = "bad request",
					    [404] = "not found",
					    [409] = "conflict",
					    [500] = "internal error"};

	if (status < 300 && obj != NULL)
		return sl_admin_reply_json(r, status, obj);
	json_decref(obj);
	if (status < 300)
		status = 500;
	return sl_admin_reply_error(r, status,
				    status < 501 && names[status] ? names[status] : "error", "%s",
				    err[0] ? err : "unknown error");
}

static int
get_backends(struct sl_admin_req *r)
{
	char svc[SL_CONFIG_NAME_MAX + 1];
	int status = 0, q = query_var(r, "service_name", svc, sizeof(svc), &status);

	if (q < 0)
		return status;
	return sl_admin_reply_json(r, 200, sl_cp_runtime_backends(RT, q > 0 ? svc : NULL));
}

/* An integer field (absent: def). 0, or replied 400. */
static int
int_field(struct sl_admin_req *r, json_t *o, const char *key, int64_t def, int64_t *out,
	  int *status)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v)) {
		*status = sl_admin_reply_error(r, 400, "bad value", "'%s' must be an integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
bool_field(struct sl_admin_req *r, json_t *o, const char *key, bool *has, bool *out, int *status)
{
	json_t *v = json_object_get(o, key);

	*has = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		*status =
		    sl_admin_reply_error(r, 400, "bad value", "'%s' must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int
post_backend(struct sl_admin_req *r)
{
	static const char *const allowed[] = {"url", "weight", "max_connections", NULL};
	char svc[SL_CONFIG_NAME_MAX + 1], loc[SL_CONFIG_PATH_MAX + 1], err[512] = "";
	int status = 0, qs, ql;
	int64_t weight, maxc;
	json_t *o, *url, *res = NULL;

	qs = query_var(r, "service_name", svc, sizeof(svc), &status);
	if (qs < 0)
		return status;
	ql = query_var(r, "location", loc, sizeof(loc), &status);
	if (ql < 0)
		return status;
	if (qs == 0 || ql == 0)
		return sl_admin_reply_error(
		    r, 400, "bad request",
		    "POST /api/backends needs ?service_name=S&location=/path "
		    "(GET /api/services lists them)");
	o = sl_admin_read_object(r, allowed, &status);
	if (o == NULL)
		return status;
	url = json_object_get(o, "url");
	if (url != NULL && !json_is_string(url)) {
		json_decref(o);
		return sl_admin_reply_error(r, 400, "bad value", "'url' must be a string");
	}
	if (int_field(r, o, "weight", 1, &weight, &status) ||
	    int_field(r, o, "max_connections", 0, &maxc, &status)) {
		json_decref(o);
		return status;
	}
	status = sl_cp_runtime_add(RT, svc, loc, url ? json_string_value(url) : NULL, weight, maxc,
				   &res, err, sizeof(err));
	json_decref(o);
	return reply_result(r, status, res, err);
}

static int
patch_backend(struct sl_admin_req *r)
{
	static const char *const allowed[] = {"weight", "drain", "enabled", NULL};
	struct sl_cp_patch p = {0};
	char err[512] = "";
	json_t *o, *res = NULL;
	uint64_t id;
	int status = 0;

	if (path_id(r, &id, &status) != 0)
		return status;
	o = sl_admin_read_object(r, allowed, &status);
	if (o == NULL)
		return status;
	p.has_weight = json_object_get(o, "weight") != NULL;
	if (int_field(r, o, "weight", 0, &p.weight, &status) ||
	    bool_field(r, o, "drain", &p.has_drain, &p.drain, &status) ||
	    bool_field(r, o, "enabled", &p.has_enabled, &p.enabled, &status)) {
		json_decref(o);
		return status;
	}
	json_decref(o);
	if (!p.has_weight && !p.has_drain && !p.has_enabled)
		return sl_admin_reply_error(r, 400, "bad request",
					    "nothing to change: give any of 'weight' (>= 1), "
					    "'drain' (true/false), 'enabled' (true/false)");
	status = sl_cp_runtime_patch(RT, id, &p, &res, err, sizeof(err));
	return reply_result(r, status, res, err);
}

static int
delete_backend(struct sl_admin_req *r)
{
	char err[512] = "";
	json_t *res = NULL;
	uint64_t id;
	int status = 0;

	if (path_id(r, &id, &status) != 0)
		return status;
	status = sl_cp_runtime_delete(RT, id, &res, err, sizeof(err));
	return reply_result(r, status, res, err);
}

static int
get_services(struct sl_admin_req *r)
{
	return sl_admin_reply_json(r, 200, sl_cp_runtime_services(RT));
}

static int
get_config(struct sl_admin_req *r)
{
	json_t *o = sl_cp_runtime_config(RT);

	if (o == NULL)
		return sl_admin_reply_error(r, 500, "internal error", "out of memory");
	return sl_admin_reply_json(r, 200, o);
}

static int
post_reload(struct sl_admin_req *r)
{
	char err[1024] = "";
	json_t *summary = NULL;
	int rc = sl_cp_runtime_reload(RT, &summary, err, sizeof(err));

	if (rc == 0)
		return sl_admin_reply_json(r, 200, summary);
	return sl_admin_reply_error(r, rc == -ENOMEM ? 500 : 400, "config refused", "%s", err);
}

static const struct sl_admin_route routes[] = {
    {"GET", "/api/backends", get_backends, SL_ADMIN_AUTH},
    {"POST", "/api/backends", post_backend, SL_ADMIN_AUTH},
    {"PATCH", "/api/backends/", patch_backend, SL_ADMIN_AUTH | SL_ADMIN_PREFIX},
    {"DELETE", "/api/backends/", delete_backend, SL_ADMIN_AUTH | SL_ADMIN_PREFIX},
    {"GET", "/api/services", get_services, SL_ADMIN_AUTH},
    {"GET", "/api/config", get_config, SL_ADMIN_AUTH},
    {"POST", "/api/config/reload", post_reload, SL_ADMIN_AUTH},
};

int
sl_api_backends_register(struct sl_admin_server *srv, struct sl_cp_runtime *rt)
{
	RT = rt;
	return sl_admin_register(srv, routes, sizeof(routes) / sizeof(routes[0]));
}
