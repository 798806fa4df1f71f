/* SPDX-License-Identifier: MIT */
/*
 * A deep copy of a configuration tree: the control plane keeps the file it loaded and builds
 * each snapshot's own tree from it plus the admin API's runtime changes (a snapshot owns the
 * tree it points into, so the next change cannot pull memory from under a worker).
 */

#include <stdlib.h>
#include <string.h>

#include "config.h"

static int
dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0 || src == NULL)
		return 0;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return -1;
	memcpy(*dst, src, n * size);
	return 0;
}

static int
dup_strlist(struct sl_config_strlist *l)
{
	char **items = l->items;

	l->items = NULL;
	if (l->n == 0)
		return 0;
	l->items = calloc(l->n, sizeof(*l->items));
	if (l->items == NULL) {
		l->n = 0;
		return -1;
	}
	for (unsigned int i = 0; i < l->n; i++) {
		l->items[i] = strdup(items[i]);
		if (l->items[i] == NULL)
			return -1;
	}
	return 0;
}

struct sl_config *
sl_config_dup(const struct sl_config *src)
{
	struct sl_config *c = malloc(sizeof(*c));
	int bad = 0;

	if (c == NULL)
		return NULL;
	memcpy(c, src, sizeof(*c));
	/* Every pointer first cleared or copied, so sl_config_free works on a partial copy. */
	c->services = NULL;
	c->n_services = 0;
	bad |= dup_array((void **)&c->dataplane.ports, src->dataplane.ports, src->dataplane.n_ports,
			 sizeof(*src->dataplane.ports));
	bad |= dup_strlist(&c->cors.allowed_origins);
	bad |= dup_strlist(&c->cors.allowed_methods);
	bad |= dup_strlist(&c->cors.allowed_headers);
	bad |= dup_strlist(&c->tls.domains);
	if (!bad && src->n_services) {
		c->services = calloc(src->n_services, sizeof(*c->services));
		bad |= c->services == NULL;
	}
	for (unsigned int s = 0; !bad && s < src->n_services; s++) {
		struct sl_config_service *svc = &c->services[s];

		*svc = src->services[s];
		svc->locations = calloc(svc->n_locations, sizeof(*svc->locations));
		if (svc->locations == NULL) {
			svc->n_locations = 0;
			bad = 1;
		}
		c->n_services = s + 1;
		for (unsigned int l = 0; !bad && l < svc->n_locations; l++) {
			struct sl_config_location *loc = &svc->locations[l];

			*loc = src->services[s].locations[l];
			bad |= dup_array((void **)&loc->backends, loc->backends, loc->n_backends,
					 sizeof(*loc->backends));
			if (bad)
				loc->n_backends = 0;
		}
	}
	if (bad) {
		sl_config_free(c);
		return NULL;
	}
	return c;
}
