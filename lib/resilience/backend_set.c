/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/resilience/backend_set.h"

void
sl_resil_set_free(struct sl_resil_set *s)
{
	if (s == NULL)
		return;
	for (unsigned int i = 0; s->locs != NULL && i < s->n_locs; i++)
		sl_outlier_pool_free(s->locs[i].outlier);
	free(s->locs);
	free(s->b);
	free(s);
}

int
sl_resil_set_create(const struct sl_config *cfg, struct sl_bal_live *const *lives,
		    unsigned int n_locs, uint16_t gen, uint64_t now_us, struct sl_resil_set **out)
{
	struct sl_resil_set *s;
	unsigned int l = 0, g = 0, n = 0;
	int rc = -ENOMEM;

	*out = NULL;
	for (unsigned int i = 0; i < cfg->n_services; i++)
		for (unsigned int j = 0; j < cfg->services[i].n_locations; j++, l++)
			n += cfg->services[i].locations[j].n_backends;
	if (l != n_locs)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->gen = gen;
	s->n_locs = n_locs;
	s->n_backends = n;
	s->locs = calloc(n_locs ? n_locs : 1, sizeof(*s->locs));
	/* Breakers are cache-line aligned (one shared line each). */
	s->b = aligned_alloc(64, ((n ? n : 1) * sizeof(*s->b) + 63) / 64 * 64);
	if (s->locs == NULL || s->b == NULL)
		goto fail;
	memset(s->b, 0, (n ? n : 1) * sizeof(*s->b));
	l = 0;
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		for (unsigned int j = 0; j < cfg->services[i].n_locations; j++, l++) {
			const struct sl_config_location *loc = &cfg->services[i].locations[j];
			struct sl_resil_loc *rl = &s->locs[l];
			struct sl_breaker_cfg bc;

			rl->live = lives[l];
			rl->base = g;
			rl->n = loc->n_backends;
			if (loc->slow_start.enabled) {
				rl->slow.window_us = (uint64_t)loc->slow_start.window_ms * 1000;
				rl->slow.aggression = 1.0;
				rl->slow.min_pct = loc->slow_start.min_weight_percent;
			}
			if (loc->outlier_detection.enabled) {
				const struct sl_config_outlier *od = &loc->outlier_detection;
				struct sl_outlier_cfg oc = {
				    .enabled = true,
				    .consecutive = od->consecutive,
				    .base_us = (uint64_t)od->base_ejection_ms * 1000,
				    .max_us = (uint64_t)od->max_ejection_ms * 1000,
				    .max_percent = od->max_ejection_percent,
				};

				rc = sl_outlier_pool_create(loc->n_backends, &oc, &rl->outlier);
				if (rc != 0)
					goto fail;
			}
			sl_breaker_cfg_from_config(&bc, &loc->circuit_breaker);
			for (unsigned int k = 0; k < loc->n_backends; k++, g++) {
				sl_breaker_init(&s->b[g].breaker, &bc, now_us);
				s->b[g].loc = l;
				s->b[g].idx = k;
			}
		}
	}
	*out = s;
	return 0;
fail:
	sl_resil_set_free(s);
	return rc;
}

const struct sl_config_backend *
sl_resil_backend_cfg(const struct sl_config *cfg, unsigned int g,
		     const struct sl_config_service **svc, const struct sl_config_location **loc)
{
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		for (unsigned int j = 0; j < cfg->services[i].n_locations; j++) {
			const struct sl_config_location *l = &cfg->services[i].locations[j];

			if (g < l->n_backends) {
				if (svc != NULL)
					*svc = &cfg->services[i];
				if (loc != NULL)
					*loc = l;
				return &l->backends[g];
			}
			g -= l->n_backends;
		}
	}
	return NULL;
}
