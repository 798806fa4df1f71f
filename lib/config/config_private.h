/* SPDX-License-Identifier: MIT */
#ifndef SL_CONFIG_PRIVATE_H
#define SL_CONFIG_PRIVATE_H

/*
 * Shared by the files of lib/config only. Names with a double underscore (sl__config_*) are
 * internal to the library, as uv__ is in libuv; nothing outside lib/config may call them.
 */

#include <stdarg.h>
#include <yaml.h>

#include "config.h"

/* One load: where errors go and what the schema has seen so far. */
struct sl__config_ctx {
	const char *file;
	struct sl_config_error *err;
	struct sl_config *cfg;
	yaml_document_t *doc;

	/* Parents of the item being read: for duplicate checks and inheritance. */
	struct sl_config_service *service;
	struct sl_config_location *location;

	/* Top-level `port` and `algorithm`: defaults for services and locations. */
	uint16_t default_port;
	enum sl_config_lb_policy default_policy;

	/* Which of services / routes / backends shaped the file, to refuse a mix. */
	const yaml_node_t *shape_key;

	/* Terraster's top-level admin spellings must not repeat what `admin:` says. */
	const yaml_node_t *admin_listen, *admin_auth, *admin_rate_limit;

	unsigned int n_locations, n_backends; /* totals, against SL_CONFIG_MAX_* */
};

/* Record "message" at node's position (1-based; no position when node is NULL); -EINVAL. */
int sl__config_fail(struct sl__config_ctx *c, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill c->cfg (already holding the defaults) from the document's root node. */
int sl__config_apply(struct sl__config_ctx *c, yaml_node_t *root);

/* Defaults of the whole tree, as if the file were `{}`. */
void sl__config_set_defaults(struct sl_config *cfg);

/* config_value.c: 0, -EINVAL (syntax) or -ERANGE. */
int sl__config_parse_int(const char *s, long long *out);
int sl__config_parse_double(const char *s, double *out);
int sl__config_parse_bool(const char *s, bool *out);
int sl__config_parse_bytes(const char *s, uint64_t *out);
int sl__config_parse_ipv4(const char *s, uint32_t *be);
int sl__config_check_host(const char *host, uint32_t *ip, char *why, size_t why_len);

#endif
