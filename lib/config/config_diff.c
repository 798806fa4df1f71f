/* SPDX-License-Identifier: MIT */
/*
 * What a reload may not change. The data plane's ports, workers, mbufs, TCP sizing and the
 * admin listener are set up once at start (devices, memory pools, sockets); a reload whose
 * file changes one of them is refused with the key's name, so nobody believes a change took
 * effect when it did not. Compared through the normalised JSON (config_json.c), so every
 * key, present or future, of those sections is covered without a list to keep up to date.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

/* First path where a and b differ, written into key; 1 if they differ, 0 if equal. */
static int
first_diff(const json_t *a, const json_t *b, const char *prefix, char *key, size_t len)
{
	const char *k;
	json_t *va;

	if (json_equal(a, b))
		return 0;
	if (json_is_object(a) && json_is_object(b)) {
		json_t *vb;
		/* Keys of a (changed or removed), then keys only b has (added). */
		json_object_foreach((json_t *)a, k, va)
		{
			char sub[256];

			snprintf(sub, sizeof(sub), "%s.%s", prefix, k);
			vb = json_object_get(b, k);
			if (vb == NULL) {
				snprintf(key, len, "%s", sub);
				return 1;
			}
			if (first_diff(va, vb, sub, key, len))
				return 1;
		}
		json_object_foreach((json_t *)b, k, vb)
		{
			if (json_object_get(a, k) == NULL) {
				snprintf(key, len, "%s.%s", prefix, k);
				return 1;
			}
		}
	}
	if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
		for (size_t i = 0; i < json_array_size(a); i++) {
			char sub[256];

			snprintf(sub, sizeof(sub), "%s[%zu]", prefix, i);
			if (first_diff(json_array_get(a, i), json_array_get(b, i), sub, key, len))
				return 1;
		}
	}
	snprintf(key, len, "%s", prefix);
	return 1;
}

int
sl_config_restart_key(const struct sl_config *running, const struct sl_config *next, char *key,
		      size_t len)
{
	static const char *const sections[] = {"dataplane", "admin"};
	char *ta = sl_config_to_json(running), *tb = sl_config_to_json(next);
	json_t *a = ta ? json_loads(ta, 0, NULL) : NULL, *b = tb ? json_loads(tb, 0, NULL) : NULL;
	int rc = 0;

	free(ta);
	free(tb);
	if (a == NULL || b == NULL) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]) && rc == 0; i++)
		rc = first_diff(json_object_get(a, sections[i]), json_object_get(b, sections[i]),
				sections[i], key, len);
	/* The dump redacts the secret: compare it here. */
	if (rc == 0 && strcmp(running->admin.auth.jwt_secret, next->admin.auth.jwt_secret) != 0) {
		snprintf(key, len, "admin.auth.jwt_secret");
		rc = 1;
	}
	/* Head buffers are a per-worker pool sized at start. */
	if (rc == 0 && running->limits.max_header_size != next->limits.max_header_size) {
		snprintf(key, len, "limits.max_header_size");
		rc = 1;
	}
	/* The admission tables are the process's, sized at start (dataplane/proxy/px_admit.c). */
	if (rc == 0 && running->limits.rate_limit_table_size != next->limits.rate_limit_table_size) {
		snprintf(key, len, "limits.rate_limit_table_size");
		rc = 1;
	}
	if (rc == 0 &&
	    running->limits.max_connections_per_ip != next->limits.max_connections_per_ip) {
		snprintf(key, len, "limits.max_connections_per_ip");
		rc = 1;
	}
out:
	json_decref(a);
	json_decref(b);
	return rc;
}
