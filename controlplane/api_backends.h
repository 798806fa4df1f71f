/* SPDX-License-Identifier: MIT */
#ifndef SL_API_BACKENDS_H
#define SL_API_BACKENDS_H

#include "controlplane/admin_server.h"
#include "controlplane/runtime_config.h"

/*
 * /api/backends, /api/services, /api/config and /api/config/reload (API_BACKENDS.md),
 * all with a token. rt must outlive the server.
 */
int sl_api_backends_register(struct sl_admin_server *srv, struct sl_cp_runtime *rt);

#endif
