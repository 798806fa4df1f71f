/* SPDX-License-Identifier: MIT */
#include <math.h>

#include "lib/resilience/slowstart.h"

uint32_t
sl_slowstart_factor(const struct sl_slowstart_cfg *cfg, uint64_t start_us, uint64_t now_us)
{
	uint64_t t = now_us > start_us ? now_us - start_us : 0;
	uint32_t floor_f = (uint32_t)((uint64_t)(cfg->min_pct > 100 ? 100 : cfg->min_pct) *
				      SL_SLOWSTART_ONE / 100);
	uint32_t f;

	if (cfg->window_us == 0 || t >= cfg->window_us)
		return SL_SLOWSTART_ONE;
	if (cfg->aggression <= 0 || cfg->aggression == 1.0) {
		/* t < window < 2^64 / 2^16 in practice; the 128-bit product keeps it exact. */
		f = (uint32_t)(((unsigned __int128)t * SL_SLOWSTART_ONE) / cfg->window_us);
	} else {
		double x = pow((double)t / (double)cfg->window_us, 1.0 / cfg->aggression);

		f = (uint32_t)(x * SL_SLOWSTART_ONE);
	}
	return f > floor_f ? f : floor_f;
}
