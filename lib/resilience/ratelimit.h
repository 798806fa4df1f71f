/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_RATELIMIT_H
#define SL_RESIL_RATELIMIT_H

/*
 * Per-client rate limit: a token bucket per (scope, client address) in a bounded table.
 *
 * The bucket. Each bucket is kept as GCRA's "theoretical arrival time" (TAT), the exact
 * equivalent of a token bucket of `burst` tokens refilled at `requests_per_second`: the
 * bucket holds tokens = burst - (TAT - now) / T, where T = 1 / rate. A request is allowed
 * when TAT - now <= (burst - 1) T, and then TAT = max(TAT, now) + T. One 64-bit word per
 * bucket, updated with one CAS; time in fixed point (microseconds << 16), so the rate is
 * exact to better than 1 part in 10^4 at any rate between 10^-3 and 10^6 per second, with no
 * floating point on the request path. A bucket whose TAT is <= now is full: it carries no
 * information, and forgetting it changes nothing.
 *
 * The table. A fixed number of entries allocated at creation, 8-way set associative: the
 * key's keyed SipHash picks a set of 8 entries (two cache lines), the key is looked up there
 * and nowhere else; nothing is ever allocated afterwards and memory is capacity * 16 bytes.
 * Eviction, within the set only, is a segmented LRU in spirit:
 *   - an entry starts on probation; a request 2 s or more after its first promotes it to
 *     protected (a flood address that sends its burst and goes never gets there);
 *   - at most SL_RL_PROTECTED_WAYS (6) of a set's 8 entries are protected (promoting a
 *     seventh demotes the protected one with the most tokens, the least to lose);
 *   - a new key replaces, among the probationary entries only: an empty one, else a full
 *     bucket (lossless), else the one with the most tokens (it loses least).
 * So a flood of new addresses, each sending once or a few times, only ever churns the two or
 * more probationary ways of each set; a client that sends repeatedly, and above all one that
 * is being limited, sits in a protected way and keeps its state. The SipHash key is random
 * per table, so an attacker cannot aim addresses at a victim's set.
 *
 * Sharing across workers. All functions are lock-free and safe from any thread: one table per
 * sluice process, shared by every worker, holds the limit exactly whatever the number of
 * workers and however RSS spreads a client's connections over them (a client on one
 * keep-alive connection reaches one worker only; a per-worker table at rate/N would give it
 * rate/N). The cost is one CAS on a line that other workers may also write, only for the
 * same client at the same moment. The per-worker alternative (sl_rl_params_init with
 * n_split = N, one table per worker) needs no shared line and holds the aggregate only when
 * each client's requests spread evenly over the workers (many connections); both are tested.
 *
 * Races, bounded and documented: when two workers insert into the same set at the same time,
 * one may retry once and then allow without tracking; the loser of an insert race may have
 * refilled the bucket of the probationary entry both meant to replace (the one with the most
 * tokens in the set, so the least to gain); a key evicted while another worker is charging
 * it may charge the new occupant one request. Protected entries are never touched by them.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config/config.h"

#define SL_RL_WAYS 8
#define SL_RL_PROTECTED_WAYS 6
/*
 * Keys are 48 bits: (uint64_t)scope << 32 | IPv4 address, scope < 65536 (a location's index
 * when locations have their own limits); an IPv6 client as 48 bits of a keyed hash of its
 * /64. The entry's other 16 bits hold flags and the second the key came in.
 */
#define SL_RL_KEY_MASK ((1ull << 48) - 1)

/* The rate of one scope, in the table's fixed point. */
struct sl_rl_params {
	uint64_t t_fp;	 /* emission interval: microseconds per request << 16 */
	uint64_t tau_fp; /* (burst - 1) * t_fp */
};

/*
 * rate requests per second (> 0), burst >= 1 tokens, split over n_split >= 1 per-worker
 * tables (1 for the shared table): each gets rate / n_split and ceil(burst / n_split),
 * at least 1. Returns 0 or -EINVAL.
 */
int sl_rl_params_init(struct sl_rl_params *p, double rate, uint32_t burst, unsigned int n_split);
/* From a config block; -EINVAL when it is disabled or invalid. */
int sl_rl_params_from_config(struct sl_rl_params *p, const struct sl_config_rate_limit *c,
			     unsigned int n_split);

struct sl_rl_entry {
	_Atomic uint64_t key; /* used | protected | arrival second (14 bits) | key; 0 = empty */
	_Atomic uint64_t tat; /* fixed point */
};

struct sl_rl_table {
	struct sl_rl_entry *e; /* n_sets * SL_RL_WAYS, 64-byte aligned */
	uint64_t n_sets;       /* a power of two */
	uint8_t hash_key[16];
};

/*
 * Counters of one caller (a worker's own, so that counting costs no shared write). Any may be
 * NULL when passed. The caller is their only writer (lib/stats/counter.h increments); another
 * thread may read them meanwhile: sl_rl_stats_sum.
 */
struct sl_rl_stats {
	uint64_t allowed;
	uint64_t denied;
	uint64_t inserted;     /* new keys tracked */
	uint64_t evicted_full; /* a full bucket replaced: nothing lost */
	uint64_t evicted_debt; /* a probationary bucket with tokens missing replaced */
	uint64_t untracked;    /* insert lost a race twice: allowed without a bucket */
};

/*
 * *sum = the sum of the n callers' counters w[i] (NULL entries skipped), each read with a
 * relaxed load while its owner may be counting (the control plane over the workers' blocks).
 */
void sl_rl_stats_sum(struct sl_rl_stats *sum, const struct sl_rl_stats *const *w, unsigned int n);

/*
 * Allocate a table of at least `capacity` entries (rounded up to 8 * a power of two; at
 * least 8) with a SipHash key (16 random bytes from the caller; the OS at start-up).
 * Returns 0, -EINVAL or -ENOMEM. Memory: sl_rl_table_bytes().
 */
int sl_rl_table_create(uint64_t capacity, const uint8_t hash_key[16], struct sl_rl_table **out);
void sl_rl_table_free(struct sl_rl_table *t);
uint64_t sl_rl_table_capacity(const struct sl_rl_table *t);
uint64_t sl_rl_table_bytes(const struct sl_rl_table *t);
/* Entries in use (a scan; for tests and the API, not the request path). */
uint64_t sl_rl_table_used(const struct sl_rl_table *t);

/*
 * Charge one request of `key` at now_us against params p. true: allowed. false: over the
 * limit; *retry_after_us (may be NULL) is how long until one request would be allowed
 * (> 0). No allocation, no lock; any thread.
 */
bool sl_rl_check(struct sl_rl_table *t, const struct sl_rl_params *p, uint64_t key, uint64_t now_us,
		 uint64_t *retry_after_us, struct sl_rl_stats *st);

/*
 * The same test against a bucket held by the caller (no table): *tat is the bucket, 0 for a
 * new one. For per-connection or per-scope buckets and for tests.
 */
bool sl_rl_bucket_check(uint64_t *tat, const struct sl_rl_params *p, uint64_t now_us,
			uint64_t *retry_after_us);

/* Tokens currently in key's bucket (burst for an untracked key); for the API and tests. */
double sl_rl_tokens(const struct sl_rl_table *t, const struct sl_rl_params *p, uint64_t key,
		    uint64_t now_us);

/* The Retry-After header value for a 429: whole seconds, rounded up, at least 1. */
static inline uint32_t
sl_rl_retry_after_s(uint64_t retry_after_us)
{
	uint64_t s = (retry_after_us + 999999) / 1000000;

	return s == 0 ? 1 : s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

#endif
