/* SPDX-License-Identifier: MIT */
/* `sluicectl user ...`: the users database, directly, with the same rules as the API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "apps/sluicectl/sluicectl.h"
#include "controlplane/auth_password.h"
#include "controlplane/auth_store.h"
#include "lib/config/config.h"

struct user_ctx {
	const struct sluicectl *c;
	struct sl_auth_store *store;
	uint32_t history_size;
	uint32_t expiry_days;
	char db[4096];
};

static int
open_store(const struct sluicectl *c, struct user_ctx *u)
{
	char err[1024];
	int rc;

	if (c->config) {
		struct sl_config_error cerr;
		struct sl_config *cfg;

		if (sl_config_load_file(c->config, &cfg, &cerr) != 0) {
			sl_config_error_format(&cerr, err, sizeof(err));
			return slctl_fail(c, SLCTL_UNAVAILABLE, "bad configuration", "%s", err);
		}
		snprintf(u->db, sizeof(u->db), "%s", cfg->admin.auth.db_path);
		u->history_size = cfg->admin.auth.password_history_size;
		u->expiry_days = cfg->admin.auth.password_expiry_days;
		sl_config_free(cfg);
	}
	if (c->db)
		snprintf(u->db, sizeof(u->db), "%s", c->db);
	if (u->db[0] == '\0')
		return slctl_fail(c, SLCTL_USAGE, "no database",
				  c->config ? "the configuration sets no admin.auth.db_path; "
					      "give --db PATH"
					    : "give --db PATH or --config FILE");
	rc = sl_auth_store_open(u->db, &u->store, err, sizeof(err));
	if (rc)
		return slctl_fail(c, SLCTL_UNAVAILABLE, "database unavailable", "%s", err);
	return 0;
}

static void
say_done(const struct sluicectl *c, const char *action, const char *name)
{
	if (c->json)
		printf("{\"user\":\"%s\",\"result\":\"%s\"}\n", name, action);
	else
		printf("user %s %s\n", name, action);
}

static int
refusal(const struct sluicectl *c, int rc, const char *err)
{
	switch (rc) {
	case -EEXIST:
		return slctl_fail(c, SLCTL_REFUSED,
				  strstr(err, "exists") ? "user exists" : "password reused", "%s",
				  err);
	case -ENOENT:
		return slctl_fail(c, SLCTL_REFUSED, "no such user", "%s", err);
	case -EINVAL:
		return slctl_fail(c, SLCTL_REFUSED, "refused", "%s", err);
	default:
		return slctl_fail(c, SLCTL_UNAVAILABLE, "database error", "%s", err);
	}
}

static int
list_one(const struct sl_auth_user *user, void *arg)
{
	struct user_ctx *u = arg;
	time_t now = time(NULL);
	bool expired = sl_auth_password_expired(user->changed_at, now, u->expiry_days);
	char changed[32];
	struct tm tm;
	time_t t = (time_t)user->changed_at;

	gmtime_r(&t, &tm);
	strftime(changed, sizeof(changed), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-24s %-22s %s\n", user->name, changed, expired ? "expired" : "ok");
	return 0;
}

struct list_json {
	struct user_ctx *u;
	json_t *a;
};

static int
list_collect(const struct sl_auth_user *user, void *arg)
{
	struct list_json *l = arg;
	bool expired = sl_auth_password_expired(user->changed_at, time(NULL), l->u->expiry_days);

	return json_array_append_new(l->a, json_pack("{s:s, s:I, s:I, s:b}", "name", user->name,
						     "created_at", (json_int_t)user->created_at,
						     "changed_at", (json_int_t)user->changed_at,
						     "password_expired", expired))
		   ? -ENOMEM
		   : 0;
}

int
slctl_cmd_user(struct sluicectl *c, int argc, char **argv)
{
	char password[SLCTL_PASSWORD_BUF], err[512];
	struct user_ctx u = {.c = c};
	const char *sub, *name = NULL;
	int rc;

	if (argc < 1)
		return slctl_fail(c, SLCTL_USAGE, "usage",
				  "user needs a subcommand: add, passwd, del or list");
	sub = argv[0];
	if (strcmp(sub, "list") == 0) {
		if (argc != 1)
			return slctl_fail(c, SLCTL_USAGE, "usage", "user list takes no arguments");
	} else if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0 ||
		   strcmp(sub, "del") == 0) {
		if (argc != 2)
			return slctl_fail(c, SLCTL_USAGE, "usage", "user %s takes one user name",
					  sub);
		name = argv[1];
		if (sl_auth_name_check(name, err, sizeof(err)) != 0)
			return slctl_fail(c, SLCTL_USAGE, "bad user name", "%s", err);
	} else {
		return slctl_fail(c, SLCTL_USAGE, "usage",
				  "unknown user subcommand '%s'; expected add, passwd, del or list",
				  sub);
	}
	rc = open_store(c, &u);
	if (rc)
		return rc;

	if (strcmp(sub, "list") == 0) {
		if (c->json) {
			struct list_json l = {&u, json_array()};
			char *s;

			rc = l.a ? sl_auth_store_list(u.store, list_collect, &l) : -ENOMEM;
			s = rc == 0 ? json_dumps(l.a, JSON_COMPACT) : NULL;
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(l.a);
		} else {
			printf("%-24s %-22s %s\n", "NAME", "PASSWORD CHANGED", "PASSWORD");
			rc = sl_auth_store_list(u.store, list_one, &u);
		}
		rc = rc ? slctl_fail(c, SLCTL_UNAVAILABLE, "database error", "%s",
				     sl_auth_store_errmsg(u.store))
			: SLCTL_OK;
	} else if (strcmp(sub, "del") == 0) {
		rc = sl_auth_store_del(u.store, name);
		if (rc == -ENOENT)
			rc = slctl_fail(c, SLCTL_REFUSED, "no such user", "no user '%s' in %s",
					name, u.db);
		else if (rc)
			rc = slctl_fail(c, SLCTL_UNAVAILABLE, "database error", "%s",
					sl_auth_store_errmsg(u.store));
		else
			say_done(c, "deleted", name);
	} else {
		bool add = strcmp(sub, "add") == 0;

		rc = slctl_read_password(c, "new password: ", true, password, sizeof(password));
		if (rc == 0) {
			rc = add ? sl_auth_user_create(u.store, name, password, time(NULL), err,
						       sizeof(err))
				 : sl_auth_password_change(u.store, name, password, u.history_size,
							   time(NULL), err, sizeof(err));
			rc = rc ? refusal(c, rc, err) : SLCTL_OK;
			if (rc == SLCTL_OK)
				say_done(c, add ? "added" : "password changed", name);
		}
		explicit_bzero(password, sizeof(password));
	}
	sl_auth_store_close(u.store);
	return rc;
}
