/* SPDX-License-Identifier: MIT */
/*
 * The backends commands: thin clients of /api/backends and /api/config/reload
 * (API_BACKENDS.md). A table for people, the API's JSON with --json. Exit codes as main.c's
 * --help says: 1 when the server refused (4xx: bad value, unknown id, no token), 3 when it
 * could not be asked (unreachable, 5xx).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "apps/sluicectl/sluicectl.h"

/*
 * One API call. On a 2xx, *out is the parsed JSON body (may be NULL) and 0 is returned; else
 * the error is said and the exit code returned.
 */
static int
call(const struct sluicectl *c, const char *method, const char *path, json_t *body, json_t **out)
{
	char token[4096], err[512];
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, *resp = NULL;
	int status = 0, rc;
	json_t *o;

	*out = NULL;
	rc = slctl_token(c, token, sizeof(token));
	if (rc != 0) {
		free(text);
		return rc;
	}
	rc =
	    slctl_http_request(c->url, method, path, token, text, &status, &resp, err, sizeof(err));
	free(text);
	if (rc != 0)
		return slctl_fail(c, SLCTL_UNAVAILABLE, "unreachable", "%s", err);
	o = resp && resp[0] ? json_loads(resp, 0, NULL) : NULL;
	free(resp);
	if (status >= 200 && status < 300) {
		*out = o;
		return SLCTL_OK;
	}
	{
		const char *e = json_string_value(json_object_get(o, "error"));
		const char *d = json_string_value(json_object_get(o, "detail"));

		rc = slctl_fail(c, status >= 500 ? SLCTL_UNAVAILABLE : SLCTL_REFUSED,
				e ? e : "error", "%s (HTTP %d)", d ? d : "no detail", status);
	}
	json_decref(o);
	return rc;
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long
jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void
table(const json_t *list)
{
	size_t i;
	json_t *b;

	printf("%-4s %-12s %-16s %-28s %-10s %6s %8s %8s %10s %s\n", "ID", "SERVICE", "LOCATION",
	       "URL", "STATE", "WEIGHT", "INFLIGHT", "OPEN", "REQUESTS", "SOURCE");
	json_array_foreach(list, i, b)
	{
		printf("%-4lld %-12s %-16s %-28s %-10s %6lld %8lld %8lld %10lld %s\n",
		       jint(b, "id"), jstr(b, "service"), jstr(b, "location"), jstr(b, "url"),
		       jstr(b, "state"), jint(b, "weight"), jint(b, "inflight"),
		       jint(b, "open_connections"), jint(b, "requests"), jstr(b, "source"));
	}
}

/* Print a result: the JSON, or a table / a line. */
static int
show(const struct sluicectl *c, json_t *o, const char *what)
{
	if (c->json) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", s ? s : "null");
		free(s);
	} else if (json_object_get(o, "backends") != NULL) {
		table(json_object_get(o, "backends"));
	} else if (json_object_get(o, "url") != NULL) {
		json_t *l = json_array();

		printf("%s\n", what);
		json_array_append(l, o);
		table(l);
		json_decref(l);
	} else {
		printf("%s\n", what);
	}
	json_decref(o);
	return SLCTL_OK;
}

/* A positive integer argument, or a usage error. */
static int
parse_num(const struct sluicectl *c, const char *what, const char *s, long long min, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = s ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno != 0)
		return slctl_fail(c, SLCTL_USAGE, "usage", "%s must be a number, not '%s'", what,
				  s ? s : "");
	if (v < min)
		return slctl_fail(c, SLCTL_REFUSED, "bad value", "%s must be at least %lld", what,
				  min);
	*out = v;
	return 0;
}

static int
cmd_list(const struct sluicectl *c, int argc)
{
	char path[512], *q = NULL;
	json_t *o;
	int rc;

	(void)argc;
	if (c->service != NULL) {
		size_t n = strlen(c->service) * 3 + 1;

		q = malloc(n);
		if (q == NULL || mg_url_encode(c->service, q, n) < 0) {
			free(q);
			return slctl_fail(c, SLCTL_USAGE, "usage", "--service is too long");
		}
	}
	snprintf(path, sizeof(path), "/api/backends%s%s", q ? "?service_name=" : "", q ? q : "");
	free(q);
	rc = call(c, "GET", path, NULL, &o);
	return rc ? rc : show(c, o, "");
}

static int
cmd_patch(const struct sluicectl *c, const char *name, int argc, char **argv)
{
	long long id, w = 0;
	char path[64], what[128];
	json_t *body, *o;
	int rc;

	if (argc < 1 || argc > (strcmp(name, "weight") == 0 ? 2 : 1) ||
	    (strcmp(name, "weight") == 0 && argc != 2))
		return slctl_fail(c, SLCTL_USAGE, "usage", "%s %s", name,
				  strcmp(name, "weight") == 0 ? "ID N" : "ID");
	if ((rc = parse_num(c, "ID", argv[0], 1, &id)) != 0)
		return rc;
	if (strcmp(name, "weight") == 0 && (rc = parse_num(c, "the weight", argv[1], 1, &w)) != 0)
		return rc;
	if (strcmp(name, "drain") == 0)
		body = json_pack("{s:b}", "drain", 1);
	else if (strcmp(name, "enable") == 0)
		body = json_pack("{s:b}", "enabled", 1);
	else if (strcmp(name, "disable") == 0)
		body = json_pack("{s:b}", "enabled", 0);
	else
		body = json_pack("{s:I}", "weight", (json_int_t)w);
	snprintf(path, sizeof(path), "/api/backends/%lld", id);
	rc = call(c, "PATCH", path, body, &o);
	json_decref(body);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "backend %lld: %s", id,
		 strcmp(name, "weight") == 0	    ? "weight set"
		 : name[0] == 'd' && name[1] == 'r' ? "draining"
		 : name[0] == 'e'		    ? "enabled"
						    : "disabled");
	return show(c, o, what);
}

static int
cmd_add(const struct sluicectl *c, int argc, char **argv)
{
	long long w = 1, m = 0;
	char *qs, *ql, path[2048];
	size_t ns, nl;
	json_t *body, *o;
	int rc;

	if (argc != 1 || c->service == NULL || c->location == NULL)
		return slctl_fail(c, SLCTL_USAGE, "usage",
				  "add --service S --location L URL [--weight N] "
				  "[--max-connections N]");
	if (c->weight && (rc = parse_num(c, "--weight", c->weight, 1, &w)) != 0)
		return rc;
	if (c->max_connections &&
	    (rc = parse_num(c, "--max-connections", c->max_connections, 0, &m)) != 0)
		return rc;
	ns = strlen(c->service) * 3 + 1;
	nl = strlen(c->location) * 3 + 1;
	qs = malloc(ns);
	ql = malloc(nl);
	if (qs == NULL || ql == NULL || mg_url_encode(c->service, qs, ns) < 0 ||
	    mg_url_encode(c->location, ql, nl) < 0 ||
	    (size_t)snprintf(path, sizeof(path), "/api/backends?service_name=%s&location=%s", qs,
			     ql) >= sizeof(path)) {
		free(qs);
		free(ql);
		return slctl_fail(c, SLCTL_USAGE, "usage", "--service or --location is too long");
	}
	free(qs);
	free(ql);
	body = json_pack("{s:s, s:I, s:I}", "url", argv[0], "weight", (json_int_t)w,
			 "max_connections", (json_int_t)m);
	rc = call(c, "POST", path, body, &o);
	json_decref(body);
	return rc ? rc : show(c, o, "added");
}

static int
cmd_remove(const struct sluicectl *c, int argc, char **argv)
{
	char path[64], what[128];
	long long id;
	json_t *o;
	int rc;

	if (argc != 1)
		return slctl_fail(c, SLCTL_USAGE, "usage", "remove ID");
	if ((rc = parse_num(c, "ID", argv[0], 1, &id)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/backends/%lld", id);
	rc = call(c, "DELETE", path, NULL, &o);
	if (rc)
		return rc;
	snprintf(what, sizeof(what),
		 "backend %lld: draining; it is removed once its requests have finished", id);
	return show(c, o, what);
}

static int
cmd_reload(const struct sluicectl *c, int argc)
{
	char what[256];
	json_t *o;
	int rc;

	if (argc != 0)
		return slctl_fail(c, SLCTL_USAGE, "usage", "reload takes no argument");
	rc = call(c, "POST", "/api/config/reload", NULL, &o);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "reloaded %s: generation %lld, %lld runtime override(s) kept",
		 jstr(o, "file"), jint(o, "generation"), jint(o, "overrides_kept"));
	return show(c, o, what);
}

int
slctl_cmd_backends(struct sluicectl *c, const char *name, int argc, char **argv)
{
	if (strcmp(name, "backends") == 0)
		return argc ? slctl_fail(c, SLCTL_USAGE, "usage", "backends [--service S]")
			    : cmd_list(c, argc);
	if (strcmp(name, "drain") == 0 || strcmp(name, "enable") == 0 ||
	    strcmp(name, "disable") == 0 || strcmp(name, "weight") == 0)
		return cmd_patch(c, name, argc, argv);
	if (strcmp(name, "add") == 0)
		return cmd_add(c, argc, argv);
	if (strcmp(name, "remove") == 0)
		return cmd_remove(c, argc, argv);
	if (strcmp(name, "reload") == 0)
		return cmd_reload(c, argc);
	return -1;
}
