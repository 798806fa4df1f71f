/* SPDX-License-Identifier: MIT */
/*
 * POST /api/auth/login      {"username", "password"} -> {"token", "token_type", "expires_at",
 *                           "expires_in"}; an expired password gets a token that only allows
 *                           POST /api/auth/password ("password_expired": true).
 * POST /api/auth/password   {"old_password", "new_password"} with a bearer token: changes
 *                           the caller's own password, revokes its older tokens and returns
 *                           a fresh one.
 * GET /api/auth/whoami     the token's user, scope and times.
 * Failed logins (and wrong old passwords) are limited per client address.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "controlplane/admin_private.h"

/* Tokens for an expired password live at most this long. */
#define PASSWORD_SCOPE_TTL_S 600

static int
retry_later(struct sl_admin_req *r, unsigned int wait)
{
	char h[64];

	snprintf(h, sizeof(h), "Retry-After: %u\r\n", wait);
	return sl__admin_reply_error_hdr(r, 429, h, "too many failed logins",
					 "%d failed attempts from this address within %d s; "
					 "retry in %u s",
					 SL_ADMIN_LOGIN_FAILURES, SL_ADMIN_LOGIN_WINDOW_S, wait);
}

/* A non-empty string field, or a 400 that names it. */
static const char *
string_field(struct sl_admin_req *r, json_t *o, const char *key, int *status)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*status = sl_admin_reply_error(r, 400, "missing field",
					       "the field '%s' is required", key);
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		*status = sl_admin_reply_error(r, 400, "bad value",
					       "'%s' must be a non-empty string", key);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		*status = sl_admin_reply_error(r, 400, "bad value",
					       "'%s' must not contain a NUL character", key);
		return NULL;
	}
	return json_string_value(v);
}

static int
reply_token(struct sl_admin_req *r, const char *user, const char *scope, uint32_t ttl_s)
{
	struct sl_auth_claims c;
	char tok[SL_AUTH_TOKEN_MAX], when[32];
	struct tm tm;
	json_t *o;

	if (sl_auth_jwt_issue(&r->srv->key, user, scope, time(NULL), ttl_s, tok, sizeof(tok), &c) !=
	    0)
		return sl_admin_reply_error(r, 500, "internal error", "cannot issue a token");
	time_t exp = (time_t)c.exp;

	gmtime_r(&exp, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "token", tok, "token_type", "Bearer",
		      "expires_at", when, "expires_in", (json_int_t)ttl_s, "scope", scope);
	if (o && strcmp(scope, SL_AUTH_SCOPE_PASSWORD) == 0)
		json_object_set_new(o, "password_expired", json_true());
	return sl_admin_reply_json(r, 200, o);
}

/*
 * Check name/password against the database. Returns 0 (and fills u), -EACCES after
 * replying 401 (counted as a failure), or the status of another reply already sent (> 0).
 */
static int
check_password(struct sl_admin_req *r, const char *name, const char *password,
	       struct sl_auth_user *u)
{
	struct sl_admin_server *srv = r->srv;
	unsigned int wait;
	int rc;

	wait = sl_cp_rl_peek(&srv->login_rl, r->client, sl_cp_now_ns());
	if (wait)
		return retry_later(r, wait);
	pthread_mutex_lock(&srv->store_mu);
	rc = sl_auth_store_get(srv->store, name, u);
	pthread_mutex_unlock(&srv->store_mu);
	if (rc != 0 && rc != -ENOENT)
		return sl_admin_reply_error(r, 500, "internal error",
					    "cannot read the user database");
	/* Outside the mutex: argon2 takes tens of milliseconds. */
	if (rc == -ENOENT) {
		/* The same work as for a real user: no timing oracle for user names. */
		sl_auth_password_verify(srv->dummy_hash, password);
		rc = -EACCES;
	} else {
		rc = sl_auth_password_verify(u->hash, password) == 0 ? 0 : -EACCES;
	}
	if (rc == 0)
		return 0;
	sl_cp_rl_take(&srv->login_rl, r->client, sl_cp_now_ns());
	return -EACCES;
}

static int
login(struct sl_admin_req *r)
{
	static const char *const fields[] = {"username", "password", NULL};
	struct sl_admin_server *srv = r->srv;
	const struct sl_config_auth *auth = &srv->cfg.auth;
	struct sl_auth_user u;
	const char *name, *password;
	int status = 400, rc;
	json_t *o;

	if (srv->store == NULL)
		return sl_admin_reply_error(r, 503, "no user database",
					    "admin.auth.db_path is not set, so there are no users: "
					    "set it and add a user with 'sluicectl user add'");
	o = sl_admin_read_object(r, fields, &status);
	if (o == NULL)
		return status;
	if ((name = string_field(r, o, "username", &status)) == NULL ||
	    (password = string_field(r, o, "password", &status)) == NULL)
		goto out;
	rc = check_password(r, name, password, &u);
	if (rc > 0) {
		status = rc;
		goto out;
	}
	if (rc < 0) {
		status = sl_admin_reply_error(r, 401, "invalid credentials",
					      "wrong user name or password");
		goto out;
	}
	if (sl_auth_password_expired(u.changed_at, time(NULL), auth->password_expiry_days)) {
		uint32_t ttl = auth->token_ttl_ms / 1000;

		status = reply_token(r, u.name, SL_AUTH_SCOPE_PASSWORD,
				     ttl < PASSWORD_SCOPE_TTL_S ? ttl : PASSWORD_SCOPE_TTL_S);
		goto out;
	}
	status = reply_token(r, u.name, SL_AUTH_SCOPE_API, auth->token_ttl_ms / 1000);
out:
	json_decref(o);
	return status;
}

static int
change_password(struct sl_admin_req *r)
{
	static const char *const fields[] = {"old_password", "new_password", NULL};
	struct sl_admin_server *srv = r->srv;
	const struct sl_config_auth *auth = &srv->cfg.auth;
	struct sl_auth_user u;
	const char *oldp, *newp;
	char err[256];
	int status = 400, rc;
	json_t *o;

	o = sl_admin_read_object(r, fields, &status);
	if (o == NULL)
		return status;
	if ((oldp = string_field(r, o, "old_password", &status)) == NULL ||
	    (newp = string_field(r, o, "new_password", &status)) == NULL)
		goto out;
	/* The old password again: a stolen token alone does not change the password. */
	rc = check_password(r, r->auth.sub, oldp, &u);
	if (rc > 0) {
		status = rc;
		goto out;
	}
	if (rc < 0) {
		status = sl_admin_reply_error(r, 403, "wrong password",
					      "old_password is not the current password");
		goto out;
	}
	pthread_mutex_lock(&srv->store_mu);
	rc = sl_auth_password_change(srv->store, r->auth.sub, newp, auth->password_history_size,
				     time(NULL), err, sizeof(err));
	pthread_mutex_unlock(&srv->store_mu);
	if (rc == -EINVAL)
		status = sl_admin_reply_error(r, 400, "weak password", "%s", err);
	else if (rc == -EEXIST)
		status = sl_admin_reply_error(r, 400, "password reused", "%s", err);
	else if (rc == -ENOENT)
		status = sl_admin_reply_error(r, 401, "token revoked", "%s", err);
	else if (rc)
		status = sl_admin_reply_error(r, 500, "internal error", "%s", err);
	else
		status = reply_token(r, r->auth.sub, SL_AUTH_SCOPE_API, auth->token_ttl_ms / 1000);
out:
	json_decref(o);
	return status;
}

/* Who the token belongs to: lets a client check a token without side effects. */
static int
whoami(struct sl_admin_req *r)
{
	return sl_admin_reply_json(r, 200,
				   json_pack("{s:s, s:s, s:I, s:I}", "user", r->auth.sub, "scope",
					     r->auth.scope, "issued_at", (json_int_t)r->auth.iat,
					     "expires_at", (json_int_t)r->auth.exp));
}

const struct sl_admin_route sl_api_auth_routes[] = {
    {"POST", "/api/auth/login", login, SL_ADMIN_PUBLIC},
    {"POST", "/api/auth/password", change_password, SL_ADMIN_AUTH | SL_ADMIN_PASSWORD},
    {"GET", "/api/auth/whoami", whoami, SL_ADMIN_AUTH | SL_ADMIN_PASSWORD},
};
const unsigned int sl_api_auth_n_routes =
    sizeof(sl_api_auth_routes) / sizeof(sl_api_auth_routes[0]);
