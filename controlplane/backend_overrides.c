/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/backend_overrides.h"

#define WEIGHT_MAX 1000000
#define MAXCONN_MAX 1000000

int
sl_cp_find_location(const struct sl_config *cfg, const char *service, const char *location,
		    unsigned int *s, unsigned int *l)
{
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct sl_config_service *svc = &cfg->services[i];

		if (strcmp(svc->name, service) != 0)
			continue;
		for (unsigned int k = 0; k < svc->n_locations; k++)
			if (strcmp(svc->locations[k].path, location) == 0) {
				*s = i;
				*l = k;
				return 0;
			}
		return -ENOENT;
	}
	return -ENOENT;
}

static int
find_backend(const struct sl_config_location *loc, const char *url)
{
	for (unsigned int b = 0; b < loc->n_backends; b++)
		if (strcmp(loc->backends[b].url, url) == 0)
			return (int)b;
	return -1;
}

int
sl_cp_backend_check(const char *url, int64_t weight, int64_t max_connections, char *err,
		    size_t errlen)
{
	struct sl_config_url u;
	char why[256];

	if (url == NULL || url[0] == '\0') {
		snprintf(err, errlen, "'url' is required, e.g. \"http://198.18.0.14:8080\"");
		return -EINVAL;
	}
	if (strlen(url) >= SL_CONFIG_URL_MAX) {
		snprintf(err, errlen, "'url' is longer than %d bytes", SL_CONFIG_URL_MAX - 1);
		return -EINVAL;
	}
	if (sl_config_parse_url(url, &u, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "'url' %s: %s", url, why);
		return -EINVAL;
	}
	if (u.ip == 0) {
		snprintf(err, errlen,
			 "'url' %s: '%s' is not an IPv4 address; the proxy resolves "
			 "no names",
			 url, u.host);
		return -EINVAL;
	}
	if (weight < 1 || weight > WEIGHT_MAX) {
		snprintf(err, errlen,
			 "'weight' must be an integer from 1 to %d (0 is not a weight: "
			 "drain the backend instead)",
			 WEIGHT_MAX);
		return -EINVAL;
	}
	if (max_connections < 0 || max_connections > MAXCONN_MAX) {
		snprintf(err, errlen,
			 "'max_connections' must be an integer from 0 (unlimited) to "
			 "%d",
			 MAXCONN_MAX);
		return -EINVAL;
	}
	return 0;
}

static int
add_backend(struct sl_config_location *loc, const struct sl_cp_override *o)
{
	struct sl_config_backend *nb = realloc(loc->backends, (loc->n_backends + 1) * sizeof(*nb));
	struct sl_config_backend *be;
	char why[256];

	if (nb == NULL)
		return -ENOMEM;
	loc->backends = nb;
	be = &nb[loc->n_backends];
	memset(be, 0, sizeof(*be));
	snprintf(be->url, sizeof(be->url), "%s", o->url);
	if (sl_config_parse_url(o->url, &be->target, why, sizeof(why)) != 0)
		return -EINVAL;
	be->weight = o->weight ? o->weight : 1;
	be->max_connections = o->max_connections;
	be->health_check = loc->health_check; /* inherited, as the loader does */
	be->line = 0;
	loc->n_backends++;
	return 0;
}

int
sl_cp_overrides_apply(struct sl_config *cfg, const struct sl_cp_override *ov, unsigned int n,
		      unsigned int *skipped, unsigned int *n_skipped, char *err, size_t errlen)
{
	unsigned int ns = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct sl_cp_override *o = &ov[i];
		struct sl_config_location *loc;
		unsigned int s, l;
		int b, rc;

		if (sl_cp_find_location(cfg, o->service, o->location, &s, &l) != 0)
			goto skip;
		loc = &cfg->services[s].locations[l];
		b = find_backend(loc, o->url);
		switch (o->kind) {
		case SL_CP_OV_ADD:
			if (b >= 0)
				goto skip;
			rc = add_backend(loc, o);
			if (rc != 0) {
				snprintf(err, errlen, "cannot add backend %s: %s", o->url,
					 rc == -ENOMEM ? "out of memory" : "bad url");
				return rc;
			}
			break;
		case SL_CP_OV_SET:
			if (b < 0)
				goto skip;
			if (o->has_weight)
				loc->backends[b].weight = o->weight;
			break;
		case SL_CP_OV_REMOVE:
			if (b < 0)
				goto skip;
			if (loc->n_backends == 1) {
				snprintf(err, errlen,
					 "location %s of service %s would have no backend left; a "
					 "location needs at least one (drain it instead)",
					 o->location, o->service);
				return -EINVAL;
			}
			memmove(&loc->backends[b], &loc->backends[b + 1],
				(loc->n_backends - (unsigned int)b - 1) * sizeof(*loc->backends));
			loc->n_backends--;
			break;
		}
		continue;
	skip:
		if (skipped != NULL)
			skipped[ns] = i;
		ns++;
	}
	if (n_skipped != NULL)
		*n_skipped = ns;
	return 0;
}
