/* SPDX-License-Identifier: MIT */
#ifndef SL_ADMIN_SERVER_H
#define SL_ADMIN_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "controlplane/auth_jwt.h"
#include "controlplane/rate_limit.h"
#include "lib/config/config.h"

/*
 * The admin API on the kernel stack: civetweb threads, one dispatch table, JSON errors,
 * bearer tokens on every /api/ route but login, a token bucket per client address.
 * Handlers run on civetweb's threads, never on a worker lcore; they reach the workers
 * only through lib/msg rings (controlplane/ring_client.c).
 */
struct sl_admin_server;
struct mg_connection;

/* One request as a handler sees it. */
struct sl_admin_req {
	struct sl_admin_server *srv;
	struct mg_connection *conn;
	const char *method;
	const char *path;	    /* without the query */
	const char *query;	    /* NULL when none */
	const char *client;	    /* the peer's address */
	struct sl_auth_claims auth; /* the verified token (routes with SL_ADMIN_AUTH) */
};

enum sl_admin_route_flags {
	SL_ADMIN_PUBLIC = 0,	    /* no token (only /health and the login) */
	SL_ADMIN_AUTH = 1 << 0,	    /* a valid token of scope "api" */
	SL_ADMIN_PASSWORD = 1 << 1, /* also a token of scope "password_change" */
	SL_ADMIN_PREFIX = 1 << 2,   /* path is a prefix ("/api/backends/" for /api/backends/{id}) */
};

/* A handler writes the whole response (sl_admin_reply_*) and returns the status it sent. */
typedef int (*sl_admin_handler)(struct sl_admin_req *r);

struct sl_admin_route {
	const char *method;
	const char *path;
	sl_admin_handler fn;
	unsigned int flags;
};

/*
 * The worker-liveness hook of GET /health: returns true if worker w answered its ring in
 * time. NULL until the ring protocol has a ping: /health then reports the process alive and
 * the worker count only.
 */
typedef bool (*sl_admin_worker_alive)(void *arg, unsigned int w);

struct sl_admin_opts {
	const struct sl_config_admin *cfg; /* copied at create */
	unsigned int n_workers;
	sl_admin_worker_alive worker_alive;
	void *worker_alive_arg;
	void *app; /* for handlers of other resources (the data plane's view, ...) */
};

/*
 * Create the server (users database, JWT key, rate limiters) and register the built-in
 * routes (/health, /api/auth/...). 0 or -errno with a sentence in err.
 */
int sl_admin_create(const struct sl_admin_opts *o, struct sl_admin_server **out, char *err,
		    size_t errlen);
/* Add routes before sl_admin_start; the table must outlive the server. */
int sl_admin_register(struct sl_admin_server *srv, const struct sl_admin_route *routes,
		      unsigned int n);
/* Start listening on admin.ip:port. 0 or -errno with a sentence in err. */
int sl_admin_start(struct sl_admin_server *srv, char *err, size_t errlen);
/* Stop (waits for running handlers) and free. NULL is fine. */
void sl_admin_destroy(struct sl_admin_server *srv);

/* Accessors for handlers. */
const struct sl_config_admin *sl_admin_config(const struct sl_admin_server *srv);
void *sl_admin_app(const struct sl_admin_server *srv);

/* Replies. Each returns the status it sent. reply_json steals body. */
int sl_admin_reply_json(struct sl_admin_req *r, int status, json_t *body);
int sl_admin_reply_error(struct sl_admin_req *r, int status, const char *error,
			 const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Read the request body as a JSON object whose keys are all in allowed (NULL-terminated).
 * Returns the object, or NULL after replying 400/413/415 with a detail that says what is
 * wrong (then return r's status: 400).
 */
json_t *sl_admin_read_object(struct sl_admin_req *r, const char *const *allowed, int *status);

#endif
