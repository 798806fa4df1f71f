/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/resilience/retry.h"

void
sl_retry_cfg_default(struct sl_retry_cfg *cfg)
{
	cfg->max_retries = 2;
	cfg->budget_pct = 20;
	cfg->min_per_s = 3;
	cfg->cap = 100;
}

void
sl_retry_budget_init(struct sl_retry_budget *b, const struct sl_retry_cfg *cfg, uint64_t now_us)
{
	memset(b, 0, sizeof(*b));
	b->deposit = (cfg->budget_pct > 100 ? 100 : cfg->budget_pct) * 10;
	b->min_per_s = cfg->min_per_s;
	b->cap_milli = (uint64_t)cfg->cap * 1000;
	b->last_us = now_us;
	/* Start with a second's worth of the minimum, so the very first failure can retry. */
	b->milli = (uint64_t)cfg->min_per_s * 1000;
	if (b->milli > b->cap_milli)
		b->milli = b->cap_milli;
}

void
sl_retry_budget_deposit(struct sl_retry_budget *b)
{
	b->requests++;
	b->milli += b->deposit;
	if (b->milli > b->cap_milli)
		b->milli = b->cap_milli;
}

bool
sl_retry_budget_take(struct sl_retry_budget *b, uint64_t now_us)
{
	if (now_us > b->last_us && b->min_per_s) {
		/* min_per_s tokens a second = min_per_s milli-tokens a millisecond. */
		uint64_t ms = (now_us - b->last_us) / 1000;

		if (ms) {
			b->milli += ms * b->min_per_s;
			if (b->milli > b->cap_milli)
				b->milli = b->cap_milli;
			b->last_us += ms * 1000;
		}
	} else if (now_us > b->last_us) {
		b->last_us = now_us;
	}
	if (b->milli < 1000) {
		b->refused++;
		return false;
	}
	b->milli -= 1000;
	b->retries++;
	return true;
}

bool
sl_retry_method_idempotent(const char *m, size_t len)
{
	static const char *const ok[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == len && memcmp(ok[i], m, len) == 0)
			return true;
	return false;
}

enum sl_retry_verdict
sl_retry_decide(const struct sl_retry_cfg *cfg, const struct sl_retry_attempt *a,
		struct sl_retry_budget *budget, uint64_t now_us)
{
	if (a->response_started)
		return SL_RETRY_NO_RESPONSE_STARTED;
	if (a->request_sent && !sl_retry_method_idempotent(a->method, a->method_len))
		return SL_RETRY_NO_NOT_IDEMPOTENT;
	/* Replaying needs the body from its first byte to its last: complete and all held. */
	if (a->request_sent && a->body_len > 0 && (!a->body_complete || a->body_held < a->body_len))
		return SL_RETRY_NO_BODY_GONE;
	if (a->attempts > cfg->max_retries)
		return SL_RETRY_NO_EXHAUSTED;
	if (budget && !sl_retry_budget_take(budget, now_us))
		return SL_RETRY_NO_BUDGET;
	return SL_RETRY_YES;
}

const char *
sl_retry_verdict_name(enum sl_retry_verdict v)
{
	static const char *const names[] = {"retry",
					    "response started",
					    "not idempotent",
					    "body no longer held",
					    "retries exhausted",
					    "retry budget empty"};

	return (unsigned int)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}
