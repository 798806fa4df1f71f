/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controlplane/rate_limit.h"

void
sl_cp_rl_init(struct sl_cp_rate_limit *rl, bool enabled, double rate, double burst)
{
	memset(rl, 0, sizeof(*rl));
	pthread_mutex_init(&rl->mu, NULL);
	rl->enabled = enabled && rate > 0 && burst >= 1;
	rl->rate = rate;
	rl->burst = burst;
}

void
sl_cp_rl_fini(struct sl_cp_rate_limit *rl)
{
	pthread_mutex_destroy(&rl->mu);
}

uint64_t
sl_cp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct sl_cp_rl_slot *
find(struct sl_cp_rate_limit *rl, const char *addr, uint64_t now_ns)
{
	struct sl_cp_rl_slot *oldest = &rl->slot[0];

	for (unsigned int i = 0; i < SL_CP_RL_SLOTS; i++) {
		struct sl_cp_rl_slot *s = &rl->slot[i];

		if (s->addr[0] != '\0' && strcmp(s->addr, addr) == 0)
			return s;
		if (s->addr[0] == '\0' || s->last_ns < oldest->last_ns)
			oldest = s;
		if (s->addr[0] == '\0')
			break;
	}
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	oldest->tokens = rl->burst;
	oldest->last_ns = now_ns;
	return oldest;
}

static unsigned int
take(struct sl_cp_rate_limit *rl, const char *addr, uint64_t now_ns, bool consume)
{
	struct sl_cp_rl_slot *s;
	unsigned int wait = 0;

	if (!rl->enabled)
		return 0;
	pthread_mutex_lock(&rl->mu);
	s = find(rl, addr, now_ns);
	if (now_ns > s->last_ns) {
		s->tokens += (double)(now_ns - s->last_ns) / 1e9 * rl->rate;
		if (s->tokens > rl->burst)
			s->tokens = rl->burst;
		s->last_ns = now_ns;
	}
	if (s->tokens >= 1) {
		if (consume)
			s->tokens -= 1;
	} else {
		double secs = ceil((1 - s->tokens) / rl->rate);

		wait = secs < 1 ? 1 : secs > 86400 ? 86400 : (unsigned int)secs;
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

unsigned int
sl_cp_rl_take(struct sl_cp_rate_limit *rl, const char *addr, uint64_t now_ns)
{
	return take(rl, addr, now_ns, true);
}

unsigned int
sl_cp_rl_peek(struct sl_cp_rate_limit *rl, const char *addr, uint64_t now_ns)
{
	return take(rl, addr, now_ns, false);
}
