/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash/siphash.h"
#include "lib/resilience/ratelimit.h"
#include "lib/resilience/sets.h"
#include "lib/stats/counter.h"

#define F_USED (1ull << 63)
#define F_PROT (1ull << 62)
#define STAMP_SHIFT 48
#define STAMP_MASK 0x3fffull /* seconds, modulo 2^14 (4.5 hours) */
#define FP_SHIFT 16

/* A probationary key is promoted by a request at least this many seconds after it came:
 * a flood address that sends its burst and goes never gets there. */
#define PROMOTE_AGE_S 2

static inline uint64_t
stamp_of(uint64_t now_us)
{
	return (now_us / 1000000) & STAMP_MASK;
}

int
sl_rl_params_init(struct sl_rl_params *p, double rate, uint32_t burst, unsigned int n_split)
{
	double t;

	if (!(rate > 0) || burst == 0 || n_split == 0)
		return -EINVAL;
	rate /= n_split;
	burst = (burst + n_split - 1) / n_split;
	t = 1e6 * (double)(1u << FP_SHIFT) / rate;
	/* Below one fixed-point unit the rate is past 65 billion/s: take it as that. Above
	 * 2^62 (a request every 2000 years) the arithmetic would overflow. */
	if (t < 1)
		t = 1;
	if (t > (double)(1ull << 62) / (burst ? burst : 1))
		return -EINVAL;
	p->t_fp = (uint64_t)llround(t);
	p->tau_fp = p->t_fp * (uint64_t)(burst - 1);
	return 0;
}

int
sl_rl_params_from_config(struct sl_rl_params *p, const struct sl_config_rate_limit *c,
			 unsigned int n_split)
{
	if (!c->enabled)
		return -EINVAL;
	return sl_rl_params_init(p, c->requests_per_second, c->burst, n_split);
}

static inline uint64_t
now_fp(uint64_t now_us)
{
	return now_us << FP_SHIFT;
}

/* The GCRA step on one atomic TAT. */
static bool
gcra(_Atomic uint64_t *tatp, const struct sl_rl_params *p, uint64_t now_us,
     uint64_t *retry_after_us)
{
	uint64_t n = now_fp(now_us);
	uint64_t old = atomic_load_explicit(tatp, memory_order_relaxed);

	for (;;) {
		uint64_t t = old > n ? old : n;

		if (t - n > p->tau_fp) {
			if (retry_after_us) {
				uint64_t d = t - n - p->tau_fp;

				*retry_after_us = (d + (1u << FP_SHIFT) - 1) >> FP_SHIFT;
			}
			return false;
		}
		if (atomic_compare_exchange_weak_explicit(
			tatp, &old, t + p->t_fp, memory_order_relaxed, memory_order_relaxed))
			return true;
	}
}

bool
sl_rl_bucket_check(uint64_t *tat, const struct sl_rl_params *p, uint64_t now_us,
		   uint64_t *retry_after_us)
{
	uint64_t n = now_fp(now_us);
	uint64_t t = *tat > n ? *tat : n;

	if (t - n > p->tau_fp) {
		if (retry_after_us)
			*retry_after_us = (t - n - p->tau_fp + (1u << FP_SHIFT) - 1) >> FP_SHIFT;
		return false;
	}
	*tat = t + p->t_fp;
	return true;
}

int
sl_rl_table_create(uint64_t capacity, const uint8_t hash_key[16], struct sl_rl_table **out)
{
	struct sl_rl_table *t;

	*out = NULL;
	if (capacity > (1ull << 40))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->e = sl__resil_sets_alloc(capacity, SL_RL_WAYS, sizeof(struct sl_rl_entry), &t->n_sets);
	if (t->e == NULL) {
		free(t);
		return -ENOMEM;
	}
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	*out = t;
	return 0;
}

void
sl_rl_table_free(struct sl_rl_table *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t);
}

uint64_t
sl_rl_table_capacity(const struct sl_rl_table *t)
{
	return t->n_sets * SL_RL_WAYS;
}

uint64_t
sl_rl_table_bytes(const struct sl_rl_table *t)
{
	return sizeof(*t) + t->n_sets * SL_RL_WAYS * sizeof(struct sl_rl_entry);
}

uint64_t
sl_rl_table_used(const struct sl_rl_table *t)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < t->n_sets * SL_RL_WAYS; i++)
		if (atomic_load_explicit(&t->e[i].key, memory_order_relaxed) & F_USED)
			n++;
	return n;
}

static inline struct sl_rl_entry *
set_of(const struct sl_rl_table *t, uint64_t key)
{
	uint64_t h = sl_siphash24(t->hash_key, &key, sizeof(key));

	return &t->e[(h & (t->n_sets - 1)) * SL_RL_WAYS];
}

/*
 * Promote way w of set s (a probationary key on its second request). With the protected
 * segment full, the protected entry with the most tokens (smallest TAT) goes back to
 * probation first. Either CAS may lose a race; promotion is then simply tried again on the
 * key's next request.
 */
static void
promote(struct sl_rl_entry *s, unsigned int w, uint64_t kw)
{
	unsigned int prot = 0, victim = SL_RL_WAYS;
	uint64_t victim_tat = UINT64_MAX, vk = 0;

	for (unsigned int i = 0; i < SL_RL_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&s[i].key, memory_order_relaxed);
		uint64_t tat;

		if (!(k & F_PROT))
			continue;
		prot++;
		tat = atomic_load_explicit(&s[i].tat, memory_order_relaxed);
		if (tat < victim_tat) {
			victim_tat = tat;
			victim = i;
			vk = k;
		}
	}
	if (prot >= SL_RL_PROTECTED_WAYS && victim < SL_RL_WAYS)
		atomic_compare_exchange_strong_explicit(&s[victim].key, &vk, vk & ~F_PROT,
							memory_order_relaxed, memory_order_relaxed);
	atomic_compare_exchange_strong_explicit(&s[w].key, &kw, kw | F_PROT, memory_order_relaxed,
						memory_order_relaxed);
}

/* The probationary way a new key should take, or SL_RL_WAYS when every way is protected. */
static unsigned int
victim_of(struct sl_rl_entry *s, uint64_t n, uint64_t *kw_out, bool *lossy)
{
	unsigned int best = SL_RL_WAYS;
	uint64_t best_tat = UINT64_MAX, best_kw = 0;

	for (unsigned int i = 0; i < SL_RL_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&s[i].key, memory_order_relaxed);
		uint64_t tat;

		if (k == 0) {
			*kw_out = 0;
			*lossy = false;
			return i;
		}
		if (k & F_PROT)
			continue;
		tat = atomic_load_explicit(&s[i].tat, memory_order_relaxed);
		if (tat < best_tat) {
			best_tat = tat;
			best = i;
			best_kw = k;
		}
	}
	*kw_out = best_kw;
	*lossy = best_tat > n;
	return best;
}

bool
sl_rl_check(struct sl_rl_table *t, const struct sl_rl_params *p, uint64_t key, uint64_t now_us,
	    uint64_t *retry_after_us, struct sl_rl_stats *st)
{
	struct sl_rl_entry *s;
	uint64_t want;
	bool ok;

	key &= SL_RL_KEY_MASK;
	want = F_USED | key;
	s = set_of(t, key);
	for (int attempt = 0; attempt < 2; attempt++) {
		unsigned int w;
		uint64_t kw;
		bool lossy;

		for (w = 0; w < SL_RL_WAYS; w++) {
			kw = atomic_load_explicit(&s[w].key, memory_order_acquire);
			if ((kw & (F_USED | SL_RL_KEY_MASK)) == want)
				break;
		}
		if (w < SL_RL_WAYS) {
			ok = gcra(&s[w].tat, p, now_us, retry_after_us);
			if (!(kw & F_PROT) && ((stamp_of(now_us) - (kw >> STAMP_SHIFT)) &
					       STAMP_MASK) >= PROMOTE_AGE_S)
				promote(s, w, kw);
			goto done;
		}
		w = victim_of(s, now_fp(now_us), &kw, &lossy);
		if (w == SL_RL_WAYS) {
			/* Every way protected (only through racing promotions): demote one. */
			w = 0;
			kw = atomic_load_explicit(&s[0].key, memory_order_relaxed);
			lossy = true;
		}
		/* The bucket is written before the key is published, so that a worker that finds
		 * the key also finds its bucket: one request charged, a full bucket otherwise. */
		atomic_store_explicit(&s[w].tat, now_fp(now_us) + p->t_fp, memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(
			&s[w].key, &kw, want | stamp_of(now_us) << STAMP_SHIFT,
			memory_order_release, memory_order_relaxed)) {
			if (st) {
				sl_counter_inc(&st->inserted);
				if (kw & F_USED) {
					if (lossy)
						sl_counter_inc(&st->evicted_debt);
					else
						sl_counter_inc(&st->evicted_full);
				}
			}
			ok = true;
			goto done;
		}
	}
	if (st)
		sl_counter_inc(&st->untracked);
	ok = true;
done:
	if (st) {
		if (ok)
			sl_counter_inc(&st->allowed);
		else
			sl_counter_inc(&st->denied);
	}
	return ok;
}

void
sl_rl_stats_sum(struct sl_rl_stats *sum, const struct sl_rl_stats *const *w, unsigned int n)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < n; i++) {
		if (w[i] == NULL)
			continue;
		sum->allowed += sl_counter_read(&w[i]->allowed);
		sum->denied += sl_counter_read(&w[i]->denied);
		sum->inserted += sl_counter_read(&w[i]->inserted);
		sum->evicted_full += sl_counter_read(&w[i]->evicted_full);
		sum->evicted_debt += sl_counter_read(&w[i]->evicted_debt);
		sum->untracked += sl_counter_read(&w[i]->untracked);
	}
}

double
sl_rl_tokens(const struct sl_rl_table *t, const struct sl_rl_params *p, uint64_t key,
	     uint64_t now_us)
{
	const struct sl_rl_entry *s;
	double burst = (double)(p->tau_fp / p->t_fp) + 1;
	uint64_t want;

	key &= SL_RL_KEY_MASK;
	want = F_USED | key;
	s = set_of(t, key);
	for (unsigned int w = 0; w < SL_RL_WAYS; w++) {
		uint64_t kw = atomic_load_explicit(&s[w].key, memory_order_acquire);
		uint64_t tat, n = now_fp(now_us);

		if ((kw & (F_USED | SL_RL_KEY_MASK)) != want)
			continue;
		tat = atomic_load_explicit(&s[w].tat, memory_order_relaxed);
		if (tat <= n)
			return burst;
		return burst - (double)(tat - n) / (double)p->t_fp;
	}
	return burst;
}
