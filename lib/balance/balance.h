/* SPDX-License-Identifier: MIT */
#ifndef SL_BALANCE_H
#define SL_BALANCE_H

/*
 * Load-balancing policies: which backend of a location gets the next request.
 *
 * Two objects, so that picks need neither locks nor a shared hot spot:
 *
 *   struct sl_bal_live   The live state of one location's backends, shared by every worker:
 *                        eligibility flags (health, drain, circuit), max_connections, and the
 *                        in-flight counters, one row per worker. Built by the control plane
 *                        at snapshot time (may allocate); written afterwards only through
 *                        the inline helpers below.
 *   struct sl_balancer   One policy instance for one location and one worker: the policy's
 *                        state (round-robin cursor, smooth-WRR currents, Maglev table, EWMA
 *                        latencies, PRNG). Built at snapshot time (sl_bal_create for the
 *                        first worker, sl_bal_clone for the others), used by its worker only.
 *
 * A backend is eligible for a pick when its flags are 0 (up, not draining, circuit closed),
 * its in-flight count summed over all workers is below max_connections (0 = unlimited), and
 * the request has not tried it already (retries go to a different backend).
 *
 * The proxy's part of the contract, per request on a worker:
 *   i = sl_bal_pick(b, &req);               -1: nothing eligible, answer 503
 *   sl_bal_live_acquire(live, worker, i);   before the request goes out
 *   ...
 *   sl_bal_live_release(live, worker, i);   when the exchange ends, however it ends
 *   sl_bal_observe(b, i, latency_us);       response time (head received), for `adaptive`
 *
 * Picks, acquire/release and observe allocate nothing, take no lock and make no system call.
 * In-flight counts are read without synchronisation between workers: two workers may both
 * see a backend one below max_connections and both send, so the limit can be exceeded by at
 * most (workers - 1). That is the price of having no shared counter to fight over.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config/config.h"

/* Eligibility flags of a backend (struct sl_bal_live.flags); 0 = may take traffic. */
#define SL_BAL_F_DOWN 0x1u	   /* failed its health checks */
#define SL_BAL_F_DRAINING 0x2u	   /* taken out by the operator; in-flight requests finish */
#define SL_BAL_F_CIRCUIT_OPEN 0x4u /* circuit breaker open */
#define SL_BAL_F_DISABLED 0x10u	   /* disabled by the operator (admin API, sluicectl disable) */

#define SL_BAL_MAX_WORKERS 128
#define SL_BAL_MAX_BACKENDS 16384 /* = SL_CONFIG_MAX_BACKENDS; Maglev stores indices in 16 bits */
#define SL_BAL_MAX_TRIED 8	  /* backends a request may exclude (its earlier attempts) */

/*
 * The live state of the n backends of one location. Layout: `flags` and `max_connections`
 * are read-mostly arrays; `inflight` is n_workers rows of `stride` counters, each row on its
 * own cache lines and written by its worker only, so a worker's acquire/release never
 * touches a line another worker writes. Summing a backend's count reads one counter per
 * worker; a full scan of the location reads n_workers * ceil(n / 16) lines.
 */
struct sl_bal_live {
	unsigned int n_backends;
	unsigned int n_workers;
	unsigned int stride;	    /* counters per row; a multiple of 16 (64 bytes) */
	uint32_t *max_connections;  /* n_backends; 0 = unlimited */
	_Atomic uint32_t *flags;    /* n_backends; SL_BAL_F_* */
	_Atomic uint32_t *inflight; /* n_workers * stride */
};

/*
 * Allocate the live state for n_backends (>= 1) and n_workers (1..SL_BAL_MAX_WORKERS).
 * max_connections may be NULL (all unlimited). Every backend starts eligible (flags 0) with
 * nothing in flight. Returns 0 or -EINVAL / -ENOMEM.
 */
int sl_bal_live_create(unsigned int n_backends, unsigned int n_workers,
		       const uint32_t *max_connections, struct sl_bal_live **out);
void sl_bal_live_free(struct sl_bal_live *live);

/* Set and clear flag bits of backend i (control plane, circuit breaker). Any thread. */
static inline void
sl_bal_live_set_flags(struct sl_bal_live *live, unsigned int i, uint32_t set, uint32_t clear)
{
	if (set)
		atomic_fetch_or_explicit(&live->flags[i], set, memory_order_relaxed);
	if (clear)
		atomic_fetch_and_explicit(&live->flags[i], ~clear, memory_order_relaxed);
}

static inline uint32_t
sl_bal_live_flags(const struct sl_bal_live *live, unsigned int i)
{
	return atomic_load_explicit(&live->flags[i], memory_order_relaxed);
}

/*
 * A request to backend i starts / ends on `worker` (the same worker for both: a request is
 * run to completion where it was accepted). Only that worker may call these for its row: the
 * counter is updated with a plain load and store (no locked instruction), which is correct because
 * nobody else writes it. Release never takes a counter below 0.
 */
static inline void
sl_bal_live_acquire(struct sl_bal_live *live, unsigned int worker, unsigned int i)
{
	_Atomic uint32_t *c = &live->inflight[(size_t)worker * live->stride + i];

	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline void
sl_bal_live_release(struct sl_bal_live *live, unsigned int worker, unsigned int i)
{
	_Atomic uint32_t *c = &live->inflight[(size_t)worker * live->stride + i];
	uint32_t v = atomic_load_explicit(c, memory_order_relaxed);

	if (v)
		atomic_store_explicit(c, v - 1, memory_order_relaxed);
}

/* Requests in flight to backend i, summed over all workers (a snapshot, not exact). */
static inline uint32_t
sl_bal_live_inflight(const struct sl_bal_live *live, unsigned int i)
{
	uint32_t sum = 0;

	for (unsigned int w = 0; w < live->n_workers; w++)
		sum += atomic_load_explicit(&live->inflight[(size_t)w * live->stride + i],
					    memory_order_relaxed);
	return sum;
}

/* One backend as the policy sees it at build time. */
struct sl_bal_backend_desc {
	const char *name; /* stable identity (the URL); Maglev places a backend by its name */
	uint32_t weight;  /* >= 1 */
};

/* What a pick knows about the request. Zero-initialise, then fill what applies. */
struct sl_bal_req {
	uint32_t client_ip; /* network byte order; the key of consistent_hashing */
	unsigned int n_tried;
	uint16_t tried[SL_BAL_MAX_TRIED]; /* backends this request already failed on */
};

struct sl_balancer;

/*
 * A policy, h2o style: one file per policy fills one of these. `create` allocates the
 * policy's struct (which begins with struct sl_balancer) and its tables; balance.c fills the
 * common part. `pick` and `observe` run on the worker: no allocation, no lock, no syscall.
 */
struct sl_balancer_ops {
	const char *name;
	/* Build from n descriptors (weights >= 1). NULL with *err = -errno on failure. */
	struct sl_balancer *(*create)(const struct sl_bal_backend_desc *backends, unsigned int n,
				      int *err);
	/*
	 * Another instance for another worker: the same backends and weights, its own mutable
	 * state; immutable tables (Maglev's) are shared, not copied.
	 */
	struct sl_balancer *(*clone)(const struct sl_balancer *proto, int *err);
	/*
	 * Optional, called once the common part is filled (worker, weights, live): spread the
	 * workers' starting points so that W workers do not all begin with backend 0.
	 */
	void (*start)(struct sl_balancer *b);
	void (*destroy)(struct sl_balancer *b);
	/* An eligible backend's index, or -1 when none is eligible. */
	int (*pick)(struct sl_balancer *b, const struct sl_bal_req *req);
	/* A response time sample for backend i; NULL when the policy does not use them. */
	void (*observe)(struct sl_balancer *b, unsigned int i, uint32_t latency_us);
};

/* The part every policy shares; policies embed it first. Read-only outside lib/balance. */
struct sl_balancer {
	const struct sl_balancer_ops *ops;
	struct sl_bal_live *live;
	unsigned int n;
	unsigned int worker;
	uint32_t *weights; /* n, from the descriptors */
	uint64_t rng;	   /* wyrand state */
};

extern const struct sl_balancer_ops sl_bal_rr_ops;
extern const struct sl_balancer_ops sl_bal_wrr_ops;
extern const struct sl_balancer_ops sl_bal_least_conn_ops;
extern const struct sl_balancer_ops sl_bal_maglev_ops;
extern const struct sl_balancer_ops sl_bal_adaptive_ops;

/* The ops of a configured policy (never NULL for a valid enum value). */
const struct sl_balancer_ops *sl_bal_policy_ops(enum sl_config_lb_policy policy);

/*
 * Build a balancer for `worker` over n backends (n == live->n_backends, worker <
 * live->n_workers). `seed` seeds the policy's PRNG; give each worker a different one.
 * The balancer keeps `live` (not owned; it must outlive the balancer). May allocate.
 * Returns 0 or -EINVAL (bad arguments, weight 0) / -ENOMEM.
 */
int sl_bal_create(enum sl_config_lb_policy policy, const struct sl_bal_backend_desc *backends,
		  unsigned int n, struct sl_bal_live *live, unsigned int worker, uint64_t seed,
		  struct sl_balancer **out);

/* Same, from a configured location: names are the backend URLs, weights as configured. */
int sl_bal_create_location(const struct sl_config_location *loc, struct sl_bal_live *live,
			   unsigned int worker, uint64_t seed, struct sl_balancer **out);

/*
 * The balancer of the same location for another worker, built from `proto` without the
 * descriptors: same policy, backends and weights, fresh state and its own PRNG seed, and
 * Maglev's table shared rather than rebuilt (one 128 KB table per location, not per worker).
 * Create, clone and destroy run on one thread (the control thread); the clones may then be
 * used on their workers concurrently. Returns 0 or -EINVAL / -ENOMEM.
 */
int sl_bal_clone(const struct sl_balancer *proto, unsigned int worker, uint64_t seed,
		 struct sl_balancer **out);

void sl_bal_destroy(struct sl_balancer *b);

/* The index of an eligible backend for this request, or -1 (the proxy answers 503). */
static inline int
sl_bal_pick(struct sl_balancer *b, const struct sl_bal_req *req)
{
	return b->ops->pick(b, req);
}

/* Report how long backend i took to answer (microseconds). Ignored by most policies. */
static inline void
sl_bal_observe(struct sl_balancer *b, unsigned int i, uint32_t latency_us)
{
	if (b->ops->observe && i < b->n)
		b->ops->observe(b, i, latency_us);
}

/*
 * Consistent hashing only (diagnostics, tests): the Maglev lookup table, `*size` entries of
 * backend indices. -EINVAL for another policy.
 */
int sl_bal_maglev_table(const struct sl_balancer *b, const uint16_t **table, uint32_t *size);

/* The Maglev table size used for n backends: the smallest prime >= max(65537, 100 n). */
uint32_t sl_bal_maglev_size(unsigned int n);

/* Whether backend i may take this request now (the rule every policy applies). */
bool sl_bal_eligible(const struct sl_balancer *b, unsigned int i, const struct sl_bal_req *req);

#endif
