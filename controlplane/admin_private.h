/* SPDX-License-Identifier: MIT */
#ifndef SL_ADMIN_PRIVATE_H
#define SL_ADMIN_PRIVATE_H

#include "controlplane/admin_server.h"
#include "controlplane/auth_store.h"

#define SL_ADMIN_MAX_ROUTES 64

/* Failed logins per client address: 5, then one more every 12 s (5 a minute). */
#define SL_ADMIN_LOGIN_FAILURES 5
#define SL_ADMIN_LOGIN_WINDOW_S 60

struct sl_admin_server {
	struct sl_config_admin cfg;
	unsigned int n_workers;
	sl_admin_worker_alive worker_alive;
	void *worker_alive_arg;
	void *app;
	uint64_t started_ns;

	struct mg_context *ctx;
	struct sl_cp_rate_limit api_rl;	  /* admin.rate_limit, every request */
	struct sl_cp_rate_limit login_rl; /* failed logins */
	struct sl_auth_jwt_key key;

	/* NULL when admin.auth.db_path is empty: every login is refused (503). */
	pthread_mutex_t store_mu; /* one SQLite handle, several civetweb threads */
	struct sl_auth_store *store;
	char dummy_hash[SL_AUTH_HASH_MAX]; /* verified for unknown users */

	const struct sl_admin_route *routes[SL_ADMIN_MAX_ROUTES];
	unsigned int n_routes;
};

extern const struct sl_admin_route sl_api_auth_routes[];
extern const unsigned int sl_api_auth_n_routes;
/* The web UI (api_ui.c): /ui/ and its files, / and /ui redirect there. */
extern const struct sl_admin_route sl_api_ui_routes[];
extern const unsigned int sl_api_ui_n_routes;

/* Is the token's subject still a user whose password has not changed since it was issued? */
int sl__admin_token_current(struct sl_admin_server *srv, const struct sl_auth_claims *c);

int sl__admin_reply_error_hdr(struct sl_admin_req *r, int status, const char *headers,
			      const char *error, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
