/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/resilience/outlier.h"

void
sl_outlier_cfg_default(struct sl_outlier_cfg *cfg)
{
	cfg->enabled = true;
	cfg->consecutive = 5;
	cfg->base_us = 30000000ull;
	cfg->max_us = 300000000ull;
	cfg->max_percent = 10;
}

int
sl_outlier_pool_create(unsigned int n, const struct sl_outlier_cfg *cfg,
		       struct sl_outlier_pool **out)
{
	struct sl_outlier_pool *p;

	*out = NULL;
	if (n == 0 || cfg->max_percent > 100)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->b = aligned_alloc(64, sizeof(*p->b) * n);
	if (p->b == NULL) {
		free(p);
		return -ENOMEM;
	}
	memset(p->b, 0, sizeof(*p->b) * n);
	p->n = n;
	p->cfg = *cfg;
	if (p->cfg.consecutive == 0)
		p->cfg.consecutive = 1;
	p->max_ejected = (uint32_t)((uint64_t)n * cfg->max_percent / 100);
	if (p->max_ejected == 0 && cfg->max_percent > 0)
		p->max_ejected = 1;
	atomic_init(&p->n_ejected, 0);
	*out = p;
	return 0;
}

void
sl_outlier_pool_free(struct sl_outlier_pool *p)
{
	if (p == NULL)
		return;
	free(p->b);
	free(p);
}

uint64_t
sl_outlier_duration(const struct sl_outlier_cfg *cfg, uint32_t k)
{
	if (k == 0)
		k = 1;
	if (cfg->base_us && k > cfg->max_us / cfg->base_us)
		return cfg->max_us;
	return cfg->base_us * k < cfg->max_us ? cfg->base_us * k : cfg->max_us;
}

/* Reserve one ejection under the pool's cap. */
static bool
reserve(struct sl_outlier_pool *p)
{
	uint32_t v = atomic_load_explicit(&p->n_ejected, memory_order_relaxed);

	do {
		if (v >= p->max_ejected)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
	    &p->n_ejected, &v, v + 1, memory_order_acq_rel, memory_order_relaxed));
	return true;
}

enum sl_outlier_event
sl_outlier_report(struct sl_outlier_pool *p, unsigned int i, bool failure, uint64_t now_us)
{
	struct sl_outlier_backend *b = &p->b[i];
	uint32_t zero = 0, k;

	if (!p->cfg.enabled || i >= p->n)
		return SL_OUTLIER_NONE;
	if (!failure) {
		/* Written only when not already 0: a healthy backend's line stays shared. */
		if (atomic_load_explicit(&b->consec, memory_order_relaxed))
			atomic_store_explicit(&b->consec, 0, memory_order_relaxed);
		return SL_OUTLIER_NONE;
	}
	if (atomic_load_explicit(&b->ejected, memory_order_relaxed))
		return SL_OUTLIER_NONE;
	if (atomic_fetch_add_explicit(&b->consec, 1, memory_order_relaxed) + 1 < p->cfg.consecutive)
		return SL_OUTLIER_NONE;
	if (!reserve(p))
		return SL_OUTLIER_CAPPED;
	if (!atomic_compare_exchange_strong_explicit(&b->ejected, &zero, 1, memory_order_acq_rel,
						     memory_order_relaxed)) {
		atomic_fetch_sub_explicit(&p->n_ejected, 1, memory_order_relaxed);
		return SL_OUTLIER_NONE; /* another worker ejected it */
	}
	atomic_store_explicit(&b->consec, 0, memory_order_relaxed);
	k = atomic_fetch_add_explicit(&b->n_ejections, 1, memory_order_relaxed) + 1;
	/* Published last: the sweeper treats until == 0 as "not yet set", never as expired. */
	atomic_store_explicit(&b->until_us, now_us + sl_outlier_duration(&p->cfg, k),
			      memory_order_release);
	return SL_OUTLIER_EJECTED;
}

unsigned int
sl_outlier_sweep(struct sl_outlier_pool *p, uint64_t now_us, unsigned int *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->n && n < max; i++) {
		struct sl_outlier_backend *b = &p->b[i];

		if (atomic_load_explicit(&b->ejected, memory_order_acquire)) {
			uint64_t until = atomic_load_explicit(&b->until_us, memory_order_acquire);

			if (until == 0 || now_us < until)
				continue;
			atomic_store_explicit(&b->until_us, 0, memory_order_relaxed);
			atomic_store_explicit(&b->consec, 0, memory_order_relaxed);
			atomic_store_explicit(&b->ejected, 0, memory_order_release);
			atomic_fetch_sub_explicit(&p->n_ejected, 1, memory_order_relaxed);
			b->decay_at_us = now_us + p->cfg.max_us;
			out[n++] = i;
			continue;
		}
		if (b->decay_at_us && now_us >= b->decay_at_us) {
			uint32_t k = atomic_load_explicit(&b->n_ejections, memory_order_relaxed);

			/* A CAS, not a store: a worker may be ejecting it right now. */
			if (k)
				atomic_compare_exchange_strong_explicit(&b->n_ejections, &k, k - 1,
									memory_order_relaxed,
									memory_order_relaxed);
			b->decay_at_us = k > 1 ? now_us + p->cfg.max_us : 0;
		}
	}
	return n;
}
