/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_RETRY_H
#define SL_RESIL_RETRY_H

/*
 * Retry policy: may a failed attempt be sent again to a different backend?
 *
 * A retry is safe when the backend cannot have acted on the request, or when acting twice
 * does no harm, and possible only while the proxy can still send the whole request again:
 *   - nothing of the response has reached the client (response_started false);
 *   - the request never reached a backend (connect failed: any method), or its method is
 *     idempotent (RFC 9110 9.2.2: GET HEAD OPTIONS TRACE PUT DELETE);
 *   - its body, when any of it was sent, is still held whole (the proxy keeps references to
 *     the mbufs until the exchange ends; a body streamed past what is held cannot be
 *     replayed);
 *   - attempts so far <= max_retries (the first attempt is not a retry);
 *   - the retry budget has a token.
 *
 * The budget stops retry storms: each request deposits budget_pct / 100 of a token, each
 * retry takes one, plus min_per_s tokens a second so that a quiet service can still retry;
 * the balance is capped at cap tokens. Retries are then at most budget_pct % of requests
 * plus min_per_s a second. Per worker (no sharing: a ratio holds per worker as it does in
 * sum), integer milli-tokens, no floating point.
 *
 * No `retry` section in lib/config yet: sl_retry_cfg_default() (README.md).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_retry_cfg {
	uint32_t max_retries; /* default 2 */
	uint32_t budget_pct;  /* default 20 */
	uint32_t min_per_s;   /* default 3 */
	uint32_t cap;	      /* tokens; default 100 */
};

void sl_retry_cfg_default(struct sl_retry_cfg *cfg);

struct sl_retry_budget {
	uint64_t milli;	  /* balance, 1000 = one retry */
	uint64_t last_us; /* last time-based refill */
	uint32_t deposit; /* milli per request */
	uint32_t min_per_s;
	uint64_t cap_milli;
	uint64_t requests; /* counters for metrics */
	uint64_t retries;
	uint64_t refused;
};

void sl_retry_budget_init(struct sl_retry_budget *b, const struct sl_retry_cfg *cfg,
			  uint64_t now_us);
/* Every new request (not retries) deposits into the budget. */
void sl_retry_budget_deposit(struct sl_retry_budget *b);
/* Take a token for a retry: true if there was one. */
bool sl_retry_budget_take(struct sl_retry_budget *b, uint64_t now_us);

/* Is the method idempotent (RFC 9110 9.2.2)? Case-sensitive, as methods are. */
bool sl_retry_method_idempotent(const char *method, size_t len);

/* What the proxy knows about the attempt that failed. */
struct sl_retry_attempt {
	const char *method;
	size_t method_len;
	uint32_t attempts;     /* attempts made so far, including the one that failed (>= 1) */
	bool request_sent;     /* any byte of the request reached the backend's connection */
	bool response_started; /* any byte of the response went to the client */
	uint64_t body_len;     /* request body length (0 = none; chunked: bytes so far) */
	bool body_complete;    /* the whole body has been received from the client */
	uint64_t body_held;    /* bytes of the body still held from its first byte on */
};

enum sl_retry_verdict {
	SL_RETRY_YES = 0,
	SL_RETRY_NO_RESPONSE_STARTED, /* the client already has part of a response */
	SL_RETRY_NO_NOT_IDEMPOTENT,   /* sent, and the method is not idempotent */
	SL_RETRY_NO_BODY_GONE,	      /* part of the body was sent and is no longer held */
	SL_RETRY_NO_EXHAUSTED,	      /* max_retries reached */
	SL_RETRY_NO_BUDGET,	      /* the retry budget is empty */
};

/*
 * May the failed attempt be retried? The checks run in the order of the enum, so the
 * verdict names the first reason; the budget is consulted (and a token taken) only when
 * everything else allows, and only if `budget` is not NULL.
 */
enum sl_retry_verdict sl_retry_decide(const struct sl_retry_cfg *cfg,
				      const struct sl_retry_attempt *a,
				      struct sl_retry_budget *budget, uint64_t now_us);

const char *sl_retry_verdict_name(enum sl_retry_verdict v);

#endif
