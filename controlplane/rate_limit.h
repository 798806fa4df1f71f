/* SPDX-License-Identifier: MIT */
#ifndef SL_CP_RATE_LIMIT_H
#define SL_CP_RATE_LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Token buckets per client address for the admin API (control plane only: a mutex,
 * civetweb calls from several threads). A fixed table: when it is full the bucket idle
 * the longest is reused, which at worst forgives a client that stopped for a while.
 */
#define SL_CP_RL_SLOTS 256
#define SL_CP_RL_ADDR_MAX 48

struct sl_cp_rl_slot {
	char addr[SL_CP_RL_ADDR_MAX];
	double tokens;
	uint64_t last_ns;
};

struct sl_cp_rate_limit {
	pthread_mutex_t mu;
	double rate;  /* tokens per second */
	double burst; /* bucket size */
	bool enabled;
	struct sl_cp_rl_slot slot[SL_CP_RL_SLOTS];
};

void sl_cp_rl_init(struct sl_cp_rate_limit *rl, bool enabled, double rate, double burst);
void sl_cp_rl_fini(struct sl_cp_rate_limit *rl);

/*
 * Take one token for addr at now_ns (CLOCK_MONOTONIC). Returns 0 if there was one, else
 * the whole seconds (>= 1) until the next one: the Retry-After value.
 */
unsigned int sl_cp_rl_take(struct sl_cp_rate_limit *rl, const char *addr, uint64_t now_ns);

/* Like take, without taking: whether addr has a token now (0) or the seconds to wait. */
unsigned int sl_cp_rl_peek(struct sl_cp_rate_limit *rl, const char *addr, uint64_t now_ns);

uint64_t sl_cp_now_ns(void);

#endif
