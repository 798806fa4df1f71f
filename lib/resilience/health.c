/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "lib/balance/balance.h"
#include "lib/resilience/health.h"

static const char *const result_names[SL_PROBE_RESULT_MAX] = {
    [SL_PROBE_PASS] = "pass",
    [SL_PROBE_TIMEOUT] = "timeout",
    [SL_PROBE_CONNECT_FAILED] = "connect failed",
    [SL_PROBE_BAD_STATUS] = "unexpected status",
    [SL_PROBE_BAD_RESPONSE] = "bad response",
    [SL_PROBE_TLS_FAILED] = "tls handshake failed",
};

const char *
sl_probe_result_name(enum sl_probe_result r)
{
	return (unsigned int)r < SL_PROBE_RESULT_MAX ? result_names[r] : "?";
}

const char *
sl_health_state_name(enum sl_health_state s)
{
	return s == SL_HEALTH_UP ? "up" : "down";
}

void
sl_health_init(struct sl_health *h, const struct sl_config_health_check *cfg, bool from_config,
	       uint64_t now_us)
{
	memset(h, 0, sizeof(*h));
	h->enabled = cfg->enabled;
	h->healthy = cfg->healthy ? cfg->healthy : 1;
	h->unhealthy = cfg->unhealthy ? cfg->unhealthy : 1;
	h->since_us = now_us;
	h->last = SL_PROBE_PASS;
	if (!from_config && h->enabled) {
		h->state = SL_HEALTH_DOWN;
		h->awaiting_first = true;
		snprintf(h->reason, sizeof(h->reason), "added at runtime, awaiting first check");
	} else {
		h->state = SL_HEALTH_UP;
		snprintf(h->reason, sizeof(h->reason),
			 h->enabled ? "in configuration" : "health checks disabled");
	}
}

enum sl_health_transition
sl_health_report(struct sl_health *h, enum sl_probe_result r, uint64_t now_us)
{
	if (!h->enabled)
		return SL_HEALTH_T_NONE;
	h->checks++;
	h->last = r;
	if (r == SL_PROBE_PASS) {
		h->failures = 0;
		if (h->passes < UINT32_MAX)
			h->passes++;
		if (h->state == SL_HEALTH_DOWN && (h->awaiting_first || h->passes >= h->healthy)) {
			h->state = SL_HEALTH_UP;
			h->since_us = now_us;
			if (h->awaiting_first)
				snprintf(h->reason, sizeof(h->reason), "first check passed");
			else
				snprintf(h->reason, sizeof(h->reason),
					 "%u consecutive passing checks", h->passes);
			h->awaiting_first = false;
			return SL_HEALTH_T_WENT_UP;
		}
		return SL_HEALTH_T_NONE;
	}
	h->passes = 0;
	if (h->failures < UINT32_MAX)
		h->failures++;
	if (h->state == SL_HEALTH_UP && h->failures >= h->unhealthy) {
		h->state = SL_HEALTH_DOWN;
		h->since_us = now_us;
		snprintf(h->reason, sizeof(h->reason), "%u consecutive failed checks (last: %s)",
			 h->failures, sl_probe_result_name(r));
		return SL_HEALTH_T_WENT_DOWN;
	}
	return SL_HEALTH_T_NONE;
}

uint32_t
sl_health_flags_set(const struct sl_health *h)
{
	return h->state == SL_HEALTH_DOWN ? SL_BAL_F_DOWN : 0;
}

uint32_t
sl_health_flags_clear(const struct sl_health *h)
{
	return h->state == SL_HEALTH_UP ? SL_BAL_F_DOWN : 0;
}

uint64_t
sl_resil_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
sl_probe_sched_init(struct sl_probe_sched *s, uint64_t seed, uint32_t jitter_pct)
{
	s->rng = seed;
	s->jitter_pct = jitter_pct > 50 ? 50 : jitter_pct;
}

uint64_t
sl_probe_first(struct sl_probe_sched *s, uint64_t now_us, uint64_t spread_us)
{
	if (spread_us == 0)
		return now_us;
	return now_us + sl_resil_rand(&s->rng) % spread_us;
}

uint64_t
sl_probe_next(struct sl_probe_sched *s, uint64_t now_us, uint64_t interval_us)
{
	uint64_t span = interval_us * s->jitter_pct / 100; /* half-width of the spread */
	uint64_t next = now_us + interval_us;

	if (span) {
		uint64_t u = sl_resil_rand(&s->rng) % (2 * span);

		next = next - span + u;
	}
	return next > now_us ? next : now_us + 1;
}
