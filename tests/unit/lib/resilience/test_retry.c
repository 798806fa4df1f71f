/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/resilience/retry.h"
#include "resil_test.h"

static struct sl_retry_attempt
attempt(const char *method)
{
	struct sl_retry_attempt a;

	memset(&a, 0, sizeof(a));
	a.method = method;
	a.method_len = strlen(method);
	a.attempts = 1;
	a.request_sent = true;
	return a;
}

static void
test_idempotent_methods(void)
{
	static const char *yes[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
	static const char *no[] = {"POST", "PATCH", "CONNECT", "get", "GETX", "GE", ""};

	for (unsigned int i = 0; i < 6; i++)
		CU_ASSERT_TRUE(sl_retry_method_idempotent(yes[i], strlen(yes[i])));
	for (unsigned int i = 0; i < 7; i++)
		CU_ASSERT_FALSE(sl_retry_method_idempotent(no[i], strlen(no[i])));
}

static void
test_what_may_be_retried(void)
{
	struct sl_retry_cfg cfg;
	struct sl_retry_attempt a;

	sl_retry_cfg_default(&cfg);
	a = attempt("GET");
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_YES);
	a = attempt("POST");
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_NO_NOT_IDEMPOTENT);
	/* A POST whose connection never opened reached nobody: safe to send elsewhere. */
	a.request_sent = false;
	a.body_len = 100;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_YES);
	a = attempt("GET");
	a.response_started = true;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_NO_RESPONSE_STARTED);
	/* A PUT with a body: only when the whole body is in hand. */
	a = attempt("PUT");
	a.body_len = 1 << 20;
	a.body_complete = true;
	a.body_held = 1 << 20;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_YES);
	a.body_held = (1 << 20) - 1;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_NO_BODY_GONE);
	a.body_held = 1 << 20;
	a.body_complete = false;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_NO_BODY_GONE);
}

static void
test_retry_count_from_config(void)
{
	struct sl_retry_cfg cfg;
	struct sl_retry_attempt a = attempt("GET");

	sl_retry_cfg_default(&cfg);
	CU_ASSERT_EQUAL(cfg.max_retries, 2);
	a.attempts = 2;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_YES);
	a.attempts = 3;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_NO_EXHAUSTED);
	cfg.max_retries = 0;
	a.attempts = 1;
	CU_ASSERT_EQUAL(sl_retry_decide(&cfg, &a, NULL, 0), SL_RETRY_NO_EXHAUSTED);
	CU_ASSERT_STRING_EQUAL(sl_retry_verdict_name(SL_RETRY_NO_EXHAUSTED), "retries exhausted");
}

/* Every request fails: retries stay at budget_pct of requests plus the per-second floor. */
static void
test_budget_bounds_a_retry_storm(void)
{
	struct sl_retry_cfg cfg;
	struct sl_retry_budget b;
	struct sl_retry_attempt a = attempt("GET");
	unsigned int retries = 0;
	const unsigned int n = 100000;

	sl_retry_cfg_default(&cfg); /* 20%, 3/s, cap 100 */
	sl_retry_budget_init(&b, &cfg, 0);
	/* 10000 requests a second for 10 s, each failing once. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t now = (uint64_t)i * 100;

		sl_retry_budget_deposit(&b);
		retries += sl_retry_decide(&cfg, &a, &b, now) == SL_RETRY_YES;
	}
	/* 20% of 100000 + 3/s x 10 s + the initial 3 tokens. */
	CU_ASSERT(retries >= 20000 && retries <= 20000 + 30 + 3 + 1);
	CU_ASSERT_EQUAL(b.retries, retries);
	CU_ASSERT_EQUAL(b.refused, n - retries);
}

static void
test_budget_allows_a_quiet_service_to_retry(void)
{
	struct sl_retry_cfg cfg;
	struct sl_retry_budget b;
	unsigned int ok = 0;

	sl_retry_cfg_default(&cfg);
	sl_retry_budget_init(&b, &cfg, 0);
	/* One request every 2 s, each failing: 20% of 1 would never make a token, the floor
	 * (3/s) does. */
	for (unsigned int i = 0; i < 100; i++) {
		sl_retry_budget_deposit(&b);
		ok += sl_retry_budget_take(&b, SEC(2) * i);
	}
	CU_ASSERT_EQUAL(ok, 100);
	/* The balance is capped: an hour of quiet does not bank an hour of retries. */
	sl_retry_budget_init(&b, &cfg, 0);
	ok = 0;
	for (unsigned int i = 0; i < 1000; i++)
		ok += sl_retry_budget_take(&b, SEC(3600));
	CU_ASSERT_EQUAL(ok, 100);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    T(test_idempotent_methods),
	    T(test_what_may_be_retried),
	    T(test_retry_count_from_config),
	    T(test_budget_bounds_a_retry_storm),
	    T(test_budget_allows_a_quiet_service_to_retry),
	};

	return SL_UNIT_RUN("resil_retry", tests);
}
