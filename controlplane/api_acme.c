/* SPDX-License-Identifier: MIT */
/*
 * GET  /api/tls/acme   (token) each auto_cert name: the certificate on disk (issuer, serial,
 *                      notAfter, placeholder or not), issuances, failures, the last error and
 *                      the next check.
 * POST /api/tls/renew  (token) renew every name now, whatever its expiry: 202, the thread does
 *                      it (GET /api/tls/acme shows the outcome).
 * Both answer 404 when auto_cert is off.
 */
#include <stdlib.h>
#include <time.h>

#include "controlplane/acme.h"
#include "controlplane/admin_server.h"
#include "controlplane/api_acme.h"

static struct sl_acme *acme;

static json_t *
unix_time(int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0)
		return json_null();
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static int
get_acme(struct sl_admin_req *r)
{
	struct sl_acme_status *st;
	unsigned int n;
	json_t *arr;

	if (acme == NULL)
		return sl_admin_reply_error(r, 404, "not found", "tls.auto_cert is off");
	/* on the heap: civetweb's thread stacks are small */
	st = calloc(sl_acme_n_names(acme), sizeof(*st));
	if (st == NULL)
		return sl_admin_reply_error(r, 500, "internal error", "out of memory");
	n = sl_acme_status(acme, st, sl_acme_n_names(acme));
	arr = json_array();
	for (unsigned int i = 0; arr != NULL && i < n; i++)
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s, s:o, s:b, s:I, s:I, s:o, s:o, s:s?}", "domain",
				   st[i].domain, "issuer", st[i].issuer, "serial", st[i].serial,
				   "not_after", unix_time(st[i].not_after), "placeholder",
				   st[i].placeholder, "issued", (json_int_t)st[i].issued, "failures",
				   (json_int_t)st[i].failures, "last_success",
				   unix_time(st[i].last_success), "next_check",
				   unix_time(st[i].next_check), "last_error",
				   st[i].last_error[0] ? st[i].last_error : NULL));
	free(st);
	return sl_admin_reply_json(r, 200, json_pack("{s:o}", "certificates", arr));
}

static int
post_renew(struct sl_admin_req *r)
{
	if (acme == NULL)
		return sl_admin_reply_error(r, 404, "not found", "tls.auto_cert is off");
	sl_acme_renew_now(acme);
	return sl_admin_reply_json(r, 202, json_pack("{s:s}", "status", "renewing"));
}

static const struct sl_admin_route routes[] = {
    {"GET", "/api/tls/acme", get_acme, SL_ADMIN_AUTH},
    {"POST", "/api/tls/renew", post_renew, SL_ADMIN_AUTH},
};

int
sl_api_acme_register(struct sl_admin_server *srv, struct sl_acme *a)
{
	acme = a;
	return sl_admin_register(srv, routes, sizeof(routes) / sizeof(routes[0]));
}
