/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <arpa/inet.h>

#include <civetweb.h>

#include "controlplane/admin_private.h"

#define BODY_MAX (64 * 1024)

/* ------------------------------------------------------------------ replies */

static int
reply(struct sl_admin_req *r, int status, const char *headers, const char *body)
{
	size_t len = strlen(body);

	mg_printf(r->conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: application/json\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n"
		  "X-Content-Type-Options: nosniff\r\n"
		  "%s"
		  "\r\n",
		  status, mg_get_response_code_text(r->conn, status), len, headers ? headers : "");
	mg_write(r->conn, body, len);
	return status;
}

int
sl_admin_reply_json(struct sl_admin_req *r, int status, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc;

	json_decref(body);
	if (s == NULL)
		return reply(r, 500, NULL,
			     "{\"error\":\"internal error\",\"detail\":\"out of memory\"}\n");
	/* A newline at the end: curl output and shell pipelines read better. */
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);

	if (t == NULL) {
		free(s);
		return reply(r, 500, NULL,
			     "{\"error\":\"internal error\",\"detail\":\"out of memory\"}\n");
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	rc = reply(r, status, NULL, t);
	free(t);
	return rc;
}

static int
reply_error_v(struct sl_admin_req *r, int status, const char *headers, const char *error,
	      const char *fmt, va_list ap)
{
	char detail[512];
	json_t *o;
	char *s;
	int rc;

	vsnprintf(detail, sizeof(detail), fmt, ap);
	o = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL)
		return reply(r, status, headers,
			     "{\"error\":\"internal error\",\"detail\":\"\"}\n");
	char *t = realloc(s, strlen(s) + 2);

	if (t == NULL) {
		free(s);
		return reply(r, status, headers,
			     "{\"error\":\"internal error\",\"detail\":\"\"}\n");
	}
	strcat(t, "\n");
	rc = reply(r, status, headers, t);
	free(t);
	return rc;
}

int
sl__admin_reply_error_hdr(struct sl_admin_req *r, int status, const char *headers,
			  const char *error, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_error_v(r, status, headers, error, fmt, ap);
	va_end(ap);
	return rc;
}

int
sl_admin_reply_error(struct sl_admin_req *r, int status, const char *error, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_error_v(r, status, NULL, error, fmt, ap);
	va_end(ap);
	return rc;
}

/* ------------------------------------------------------------------ request bodies */

json_t *
sl_admin_read_object(struct sl_admin_req *r, const char *const *allowed, int *status)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	char *buf = malloc(BODY_MAX + 1);
	size_t len = 0;
	json_error_t jerr;
	json_t *o = NULL;
	const char *key;
	json_t *val;
	int n;

	if (buf == NULL) {
		*status = sl_admin_reply_error(r, 500, "internal error", "out of memory");
		return NULL;
	}
	if (ri->content_length > BODY_MAX) {
		*status = sl_admin_reply_error(r, 413, "body too large",
					       "the request body has %lld bytes; at most %d",
					       ri->content_length, BODY_MAX);
		goto out;
	}
	while (len <= BODY_MAX && (n = mg_read(r->conn, buf + len, BODY_MAX + 1 - len)) > 0)
		len += n;
	if (len > BODY_MAX) {
		*status = sl_admin_reply_error(
		    r, 413, "body too large", "the request body is larger than %d bytes", BODY_MAX);
		goto out;
	}
	if (len == 0) {
		*status = sl_admin_reply_error(r, 400, "bad request",
					       "the request needs a JSON object as its body");
		goto out;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		*status = sl_admin_reply_error(r, 400, "invalid JSON", "line %d, column %d: %s",
					       jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(o)) {
		*status = sl_admin_reply_error(r, 400, "bad request",
					       "the body must be a JSON object, not a %s",
					       json_is_array(o) ? "list" : "scalar");
		json_decref(o);
		o = NULL;
		goto out;
	}
	json_object_foreach(o, key, val)
	{
		bool ok = false;
		char expected[256] = "";

		for (const char *const *a = allowed; *a; a++) {
			if (strcmp(*a, key) == 0)
				ok = true;
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 "%s'%s'", a == allowed ? "" : ", ", *a);
		}
		if (!ok) {
			*status =
			    sl_admin_reply_error(r, 400, "unknown field",
						 "unknown field '%s'; expected %s", key, expected);
			json_decref(o);
			o = NULL;
			goto out;
		}
	}
out:
	free(buf);
	return o;
}

/* ------------------------------------------------------------------ auth middleware */

int
sl__admin_token_current(struct sl_admin_server *srv, const struct sl_auth_claims *c)
{
	struct sl_auth_user u;
	int rc;

	if (srv->store == NULL)
		return -ENOENT;
	pthread_mutex_lock(&srv->store_mu);
	rc = sl_auth_store_get(srv->store, c->sub, &u);
	pthread_mutex_unlock(&srv->store_mu);
	if (rc)
		return rc;
	/* A password change (or a deleted and re-created user) revokes older tokens. */
	return c->iat >= u.changed_at ? 0 : -EKEYREVOKED;
}

#define WWW_AUTH "WWW-Authenticate: Bearer realm=\"sluice\"\r\n"

static int
authenticate(struct sl_admin_req *r, unsigned int flags)
{
	const char *h = mg_get_header(r->conn, "Authorization");
	int rc;

	if (h == NULL)
		return sl__admin_reply_error_hdr(
		    r, 401, WWW_AUTH, "unauthorized",
		    "this route needs 'Authorization: Bearer <token>'; get a token "
		    "with POST /api/auth/login or 'sluicectl login'");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return sl__admin_reply_error_hdr(
		    r, 401, WWW_AUTH, "unauthorized",
		    "the Authorization header must be 'Bearer <token>'");
	h += 7;
	while (*h == ' ')
		h++;
	rc = sl_auth_jwt_verify(&r->srv->key, h, time(NULL), &r->auth);
	if (rc == -EKEYEXPIRED)
		return sl__admin_reply_error_hdr(r, 401, WWW_AUTH, "token expired",
						 "the token has expired; log in again");
	if (rc)
		return sl__admin_reply_error_hdr(
		    r, 401, WWW_AUTH, "invalid token",
		    "the token is malformed, not signed by this server or not "
		    "HS256; log in again");
	rc = sl__admin_token_current(r->srv, &r->auth);
	if (rc == -EKEYREVOKED || rc == -ENOENT)
		return sl__admin_reply_error_hdr(
		    r, 401, WWW_AUTH, "token revoked",
		    "the user was removed or changed its password since the "
		    "token was issued; log in again");
	if (rc)
		return sl_admin_reply_error(r, 500, "internal error",
					    "cannot read the user database");
	if (strcmp(r->auth.scope, SL_AUTH_SCOPE_API) != 0 &&
	    !(strcmp(r->auth.scope, SL_AUTH_SCOPE_PASSWORD) == 0 && (flags & SL_ADMIN_PASSWORD)))
		return sl_admin_reply_error(r, 403, "password expired",
					    "this token only allows changing the password: "
					    "POST /api/auth/password {\"old_password\", "
					    "\"new_password\"}, then log in again");
	return 0;
}

/* ------------------------------------------------------------------ dispatch */

static bool
path_matches(const struct sl_admin_route *rt, const char *path)
{
	if (rt->flags & SL_ADMIN_PREFIX)
		return strncmp(path, rt->path, strlen(rt->path)) == 0;
	return strcmp(path, rt->path) == 0;
}

static int
dispatch(struct mg_connection *conn, void *cbdata)
{
	struct sl_admin_server *srv = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const struct sl_admin_route *found = NULL;
	bool path_public = false;
	char allow[128] = "";
	struct sl_admin_req r = {
	    .srv = srv,
	    .conn = conn,
	    .method = ri->request_method,
	    .path = ri->local_uri ? ri->local_uri : "/",
	    .query = ri->query_string,
	    .client = ri->remote_addr,
	};
	unsigned int wait;
	int rc;

	wait = sl_cp_rl_take(&srv->api_rl, r.client, sl_cp_now_ns());
	if (wait) {
		char h[64];

		snprintf(h, sizeof(h), "Retry-After: %u\r\n", wait);
		return sl__admin_reply_error_hdr(
		    &r, 429, h, "too many requests",
		    "the admin API allows %.4g requests/s per client address "
		    "(burst %.0f); retry in %u s",
		    srv->api_rl.rate, srv->api_rl.burst, wait);
	}
	for (unsigned int i = 0; i < srv->n_routes; i++) {
		const struct sl_admin_route *rt = srv->routes[i];

		if (!path_matches(rt, r.path))
			continue;
		if (strcmp(rt->method, r.method) == 0) {
			found = rt;
			break;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			 allow[0] ? ", " : "", rt->method);
		path_public |= !(rt->flags & (SL_ADMIN_AUTH | SL_ADMIN_PASSWORD));
	}
	/* Unknown /api/ routes need a token too: what exists behind it is not public either. */
	if (found == NULL && !path_public && strncmp(r.path, "/api/", 5) == 0 &&
	    (rc = authenticate(&r, 0)) != 0)
		return rc;
	if (found == NULL && allow[0]) {
		char h[160];

		snprintf(h, sizeof(h), "Allow: %s\r\n", allow);
		return sl__admin_reply_error_hdr(&r, 405, h, "method not allowed",
						 "%s is not allowed on %s; allowed: %s", r.method,
						 r.path, allow);
	}
	if (found == NULL)
		return sl_admin_reply_error(&r, 404, "not found", "no route %s %s", r.method,
					    r.path);
	if ((found->flags & (SL_ADMIN_AUTH | SL_ADMIN_PASSWORD)) &&
	    (rc = authenticate(&r, found->flags)) != 0)
		return rc;
	return found->fn(&r);
}

/* ------------------------------------------------------------------ /health */

static int
health(struct sl_admin_req *r)
{
	struct sl_admin_server *srv = r->srv;
	json_t *o, *ws = NULL;
	bool all = true;

	o = json_pack("{s:s, s:I, s:i}", "status", "ok", "uptime_seconds",
		      (json_int_t)((sl_cp_now_ns() - srv->started_ns) / 1000000000ull), "workers",
		      (int)srv->n_workers);
	if (o && srv->worker_alive) {
		ws = json_array();
		for (unsigned int w = 0; ws && w < srv->n_workers; w++) {
			bool alive = srv->worker_alive(srv->worker_alive_arg, w);

			all &= alive;
			json_array_append_new(ws,
					      json_pack("{s:i, s:s}", "worker", (int)w, "status",
							alive ? "ok" : "not answering"));
		}
		json_object_set_new(o, "worker_status", ws);
		if (!all)
			json_object_set_new(o, "status", json_string("degraded"));
	}
	return sl_admin_reply_json(r, all ? 200 : 503, o);
}

static const struct sl_admin_route health_routes[] = {
    {"GET", "/health", health, SL_ADMIN_PUBLIC},
};

/* ------------------------------------------------------------------ life cycle */

const struct sl_config_admin *
sl_admin_config(const struct sl_admin_server *srv)
{
	return &srv->cfg;
}

void *
sl_admin_app(const struct sl_admin_server *srv)
{
	return srv->app;
}

int
sl_admin_register(struct sl_admin_server *srv, const struct sl_admin_route *routes, unsigned int n)
{
	if (srv->ctx != NULL || srv->n_routes + n > SL_ADMIN_MAX_ROUTES)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		srv->routes[srv->n_routes++] = &routes[i];
	return 0;
}

int
sl_admin_create(const struct sl_admin_opts *o, struct sl_admin_server **out, char *err,
		size_t errlen)
{
	struct sl_admin_server *srv;
	const struct sl_config_auth *auth = &o->cfg->auth;
	int rc;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	srv->cfg = *o->cfg;
	srv->n_workers = o->n_workers;
	srv->worker_alive = o->worker_alive;
	srv->worker_alive_arg = o->worker_alive_arg;
	srv->app = o->app;
	srv->started_ns = sl_cp_now_ns();
	pthread_mutex_init(&srv->store_mu, NULL);
	sl_cp_rl_init(&srv->api_rl, o->cfg->rate_limit.enabled,
		      o->cfg->rate_limit.requests_per_second, o->cfg->rate_limit.burst);
	sl_cp_rl_init(&srv->login_rl, true,
		      (double)SL_ADMIN_LOGIN_FAILURES / SL_ADMIN_LOGIN_WINDOW_S,
		      SL_ADMIN_LOGIN_FAILURES);
	rc = sl_auth_jwt_key_init(&srv->key, auth->jwt_secret, auth->jwt_secret_file, err, errlen);
	if (rc)
		goto fail;
	if (auth->db_path[0] != '\0') {
		rc = sl_auth_store_open(auth->db_path, &srv->store, err, errlen);
		if (rc)
			goto fail;
		rc = sl_auth_password_hash("not a password of anyone", srv->dummy_hash,
					   sizeof(srv->dummy_hash));
		if (rc) {
			snprintf(err, errlen, "cannot hash with argon2id: %s", strerror(-rc));
			goto fail;
		}
	}
	sl_admin_register(srv, health_routes, 1);
	sl_admin_register(srv, sl_api_auth_routes, sl_api_auth_n_routes);
	sl_admin_register(srv, sl_api_ui_routes, sl_api_ui_n_routes);
	*out = srv;
	return 0;
fail:
	sl_admin_destroy(srv);
	return rc;
}

int
sl_admin_start(struct sl_admin_server *srv, char *err, size_t errlen)
{
	char listen[64], etext[256] = "";
	unsigned int ecode = 0;
	struct in_addr a = {.s_addr = srv->cfg.ip};
	const char *opts[] = {
	    "listening_ports",
	    listen,
	    /* The admin API is small: a few threads, short timeouts, no files served. */
	    "num_threads",
	    "4",
	    "request_timeout_ms",
	    "10000",
	    "enable_keep_alive",
	    "no",
	    NULL,
	};
	struct mg_callbacks cb = {0};
	struct mg_init_data init = {
	    .callbacks = &cb, .user_data = srv, .configuration_options = opts};
	struct mg_error_data e = {.code = &ecode, .text = etext, .text_buffer_size = sizeof(etext)};
	char ip[INET_ADDRSTRLEN];
	sigset_t all, old;

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(listen, sizeof(listen), "%s:%u", ip, srv->cfg.port);
	mg_init_library(0);
	/*
	 * civetweb's threads (created by mg_start2, they inherit this mask) take no signal:
	 * civetweb 1.15 treats a poll() that fails with EINTR as a broken connection and closes
	 * it without a reply (curl: "Empty reply from server"). Process-directed signals go to
	 * any thread that does not block them: SIGHUP/SIGUSR1 for the control loop, and the TAP
	 * PMD's Rx trigger (SIGRTMIN+1, F_SETSIG on its queues: thousands a second under load).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	srv->ctx = mg_start2(&init, &e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (srv->ctx == NULL) {
		snprintf(err, errlen, "cannot start the admin API on %s: %s", listen,
			 etext[0] ? etext : "civetweb failed to start");
		mg_exit_library();
		return -EADDRINUSE;
	}
	mg_set_request_handler(srv->ctx, "/", dispatch, srv);
	return 0;
}

void
sl_admin_destroy(struct sl_admin_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->ctx != NULL) {
		mg_stop(srv->ctx);
		mg_exit_library();
	}
	sl_auth_store_close(srv->store);
	sl_cp_rl_fini(&srv->api_rl);
	sl_cp_rl_fini(&srv->login_rl);
	pthread_mutex_destroy(&srv->store_mu);
	explicit_bzero(&srv->key, sizeof(srv->key));
	free(srv);
}
