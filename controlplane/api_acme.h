/* SPDX-License-Identifier: MIT */
#ifndef SL_API_ACME_H
#define SL_API_ACME_H

/* GET /api/tls/acme and POST /api/tls/renew (api_acme.c); a may be NULL (auto_cert off). */
struct sl_admin_server;
struct sl_acme;
int sl_api_acme_register(struct sl_admin_server *srv, struct sl_acme *a);

#endif
