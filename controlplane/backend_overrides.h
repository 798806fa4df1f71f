/* SPDX-License-Identifier: MIT */
#ifndef SL_BACKEND_OVERRIDES_H
#define SL_BACKEND_OVERRIDES_H

/*
 * Runtime overrides: the admin API's changes to the backends (POST, PATCH weight, DELETE),
 * kept by the control plane apart from the file and applied to a copy of it whenever a
 * snapshot is built, so they survive a reload for as long as their service and location
 * exist. Drain and enable/disable are live flags (lib/balance), carried over by the reload
 * itself; they are recorded here only so the API reports such a backend as "runtime".
 *
 * Pure C (no DPDK, no civetweb): the CUnit tests call it directly.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config/config.h"

enum sl_cp_override_kind {
	SL_CP_OV_ADD,	 /* a backend that is not in the file */
	SL_CP_OV_SET,	 /* a backend of the file whose weight / state was changed */
	SL_CP_OV_REMOVE, /* a backend of the file removed through the API */
};

struct sl_cp_override {
	enum sl_cp_override_kind kind;
	char service[SL_CONFIG_NAME_MAX];
	char location[SL_CONFIG_PATH_MAX];
	char url[SL_CONFIG_URL_MAX];
	uint32_t weight;	  /* ADD; SET when has_weight */
	uint32_t max_connections; /* ADD */
	bool has_weight;
};

#define SL_CP_MAX_OVERRIDES 1024

/* The indices of (service, location) in cfg, or -ENOENT. */
int sl_cp_find_location(const struct sl_config *cfg, const char *service, const char *location,
			unsigned int *s, unsigned int *l);

/*
 * Apply ov[0..n) to cfg in order. An override whose service or location no longer exists,
 * whose backend is gone (SET, REMOVE) or already in the file (ADD), is skipped and its index
 * written to skipped[] (at most n) with *n_skipped; skipped may be NULL. A location left
 * without backends is refused. Returns 0, -ENOMEM, or -EINVAL with a sentence in err.
 */
int sl_cp_overrides_apply(struct sl_config *cfg, const struct sl_cp_override *ov, unsigned int n,
			  unsigned int *skipped, unsigned int *n_skipped, char *err, size_t errlen);

/*
 * Check a backend given through the API (url, weight, max_connections) as the loader
 * checks one in a file: http:// with an IPv4 host (the proxy resolves no names), weight
 * 1..1000000, max_connections 0..1000000. 0 or -EINVAL with a sentence in err.
 */
int sl_cp_backend_check(const char *url, int64_t weight, int64_t max_connections, char *err,
			size_t errlen);

#endif
