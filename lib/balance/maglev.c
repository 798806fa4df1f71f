/* SPDX-License-Identifier: MIT */
/*
 * consistent_hashing: Maglev (Eisenbud et al., NSDI 2016) on the client's IPv4 address.
 *
 * Build: every backend has a pseudo-random permutation of the M table slots, given by an
 * offset and a skip derived from its name (SipHash under two fixed keys). Backends take turns
 * claiming their next free preferred slot until the table is full, so each owns M/N slots
 * (within one), and the table depends only on the set of names and weights: the backend list
 * is sorted by name first, so reordering the configuration moves nobody. Weights follow
 * Envoy's variant: a backend of weight w takes a turn in w/max(w) of the rounds.
 *
 * Table size: the smallest prime >= max(65537, 100 * N). Maglev's guarantees need M prime
 * (every skip in [1, M-1] then visits every slot) and M >> N; at M >= 100 N the per-backend
 * share is within 1% and a removal moves little more than the ideal 1/N. 65537 slots of 16
 * bits are 128 KB per location, which holds N up to 655 at that ratio; the workers' balancers
 * of a location share one table (sl_bal_clone).
 *
 * Pick: slot = hash(client_ip) mapped onto [0, M). An ineligible owner (down, draining,
 * circuit open, full, or already tried by this request) is skipped by probing the following
 * slots; the table is never rebuilt for a health change, and only the clients of the missing
 * backend move, to owners spread as the table is. After SL_BAL_MAGLEV_PROBES misses (most
 * backends out) the pick falls back to rendezvous hashing over the eligible backends: still
 * a function of the client, at O(N).
 *
 * The client hash is unkeyed (a fixed mixer) on purpose: every worker, and every restart,
 * must send a client to the same backend. A client cannot choose its address freely, so it
 * cannot aim much load at one backend with it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balance_private.h"
#include "lib/hash/siphash.h"

#define SL_BAL_MAGLEV_MIN_SIZE 65537u
#define SL_BAL_MAGLEV_PROBES 64
#define SL_BAL_MAGLEV_EMPTY 0xffffu

/*
 * The table is immutable once built, so the balancers of one location on every worker share
 * it (sl_bal_clone); `refs` counts them. Clones and destroys happen on the control thread.
 */
struct sl_bal_maglev_shared {
	unsigned int refs;
	uint32_t m;
	uint16_t *table;     /* m backend indices */
	uint64_t *name_hash; /* n, for the rendezvous fallback */
};

struct sl_bal_maglev {
	struct sl_balancer base;
	uint32_t m; /* copies of shared->m and ->table: one less pointer per pick */
	const uint16_t *table;
	const uint64_t *name_hash;
	struct sl_bal_maglev_shared *shared;
};

static void
shared_put(struct sl_bal_maglev_shared *sh)
{
	if (sh && --sh->refs == 0) {
		free(sh->table);
		free(sh->name_hash);
		free(sh);
	}
}

static struct sl_bal_maglev *
attach(struct sl_bal_maglev_shared *sh, int *err)
{
	struct sl_bal_maglev *mg = calloc(1, sizeof(*mg));

	if (!mg) {
		*err = -ENOMEM;
		return NULL;
	}
	sh->refs++;
	mg->shared = sh;
	mg->m = sh->m;
	mg->table = sh->table;
	mg->name_hash = sh->name_hash;
	return mg;
}

static const uint8_t k_offset[SL_SIPHASH_KEY_LEN] = "sluice-maglev-o";
static const uint8_t k_skip[SL_SIPHASH_KEY_LEN] = "sluice-maglev-s";

static bool
is_prime(uint32_t x)
{
	if (x < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= x; d++)
		if (x % d == 0)
			return false;
	return true;
}

uint32_t
sl_bal_maglev_size(unsigned int n)
{
	uint32_t m = (uint32_t)n * 100u;

	if (m < SL_BAL_MAGLEV_MIN_SIZE)
		m = SL_BAL_MAGLEV_MIN_SIZE;
	while (!is_prime(m))
		m++;
	return m;
}

static int
cmp_name(const void *a, const void *b, void *arg)
{
	const struct sl_bal_backend_desc *d = arg;
	unsigned int i = *(const unsigned int *)a, j = *(const unsigned int *)b;
	int c = strcmp(d[i].name, d[j].name);

	return c ? c : (i > j) - (i < j);
}

/* Min-heap of sorted positions keyed by (round, position); only the root ever changes. */
static inline bool
turn_before(const uint64_t *round, unsigned int a, unsigned int b)
{
	return round[a] < round[b] || (round[a] == round[b] && a < b);
}

static void
sift_down(unsigned int *heap, unsigned int n, const uint64_t *round)
{
	unsigned int at = 0;

	for (;;) {
		unsigned int l = 2 * at + 1, r = l + 1, min = at, t;

		if (l < n && turn_before(round, heap[l], heap[min]))
			min = l;
		if (r < n && turn_before(round, heap[r], heap[min]))
			min = r;
		if (min == at)
			return;
		t = heap[at];
		heap[at] = heap[min];
		heap[min] = t;
		at = min;
	}
}

static struct sl_balancer *
maglev_create(const struct sl_bal_backend_desc *d, unsigned int n, int *err)
{
	struct sl_bal_maglev_shared *sh = calloc(1, sizeof(*sh));
	struct sl_bal_maglev *mg = NULL;
	unsigned int *order = NULL;
	uint32_t *skip = NULL, *pos = NULL;
	uint64_t *target = NULL, *round = NULL;
	unsigned int *heap = NULL;
	uint64_t max_w = 0;
	uint32_t m, filled = 0;

	*err = -ENOMEM;
	if (!sh)
		return NULL;
	if (n >= SL_BAL_MAGLEV_EMPTY) {
		*err = -EINVAL;
		goto out;
	}
	sh->refs = 0;
	m = sh->m = sl_bal_maglev_size(n);
	sh->table = malloc(m * sizeof(uint16_t));
	sh->name_hash = calloc(n, sizeof(uint64_t));
	order = calloc(n, sizeof(*order));
	skip = calloc(n, sizeof(*skip));
	pos = calloc(n, sizeof(*pos));
	target = calloc(n, sizeof(*target));
	round = calloc(n, sizeof(*round));
	heap = calloc(n, sizeof(*heap));
	if (!sh->table || !sh->name_hash || !order || !skip || !pos || !target || !round || !heap)
		goto out;
	memset(sh->table, 0xff, m * sizeof(uint16_t));

	for (unsigned int i = 0; i < n; i++) {
		size_t len = strlen(d[i].name);

		order[i] = i;
		sh->name_hash[i] = sl_siphash24(k_offset, d[i].name, len);
		pos[i] = (uint32_t)(sh->name_hash[i] % m); /* the permutation's offset */
		skip[i] = (uint32_t)(sl_siphash24(k_skip, d[i].name, len) % (m - 1)) + 1;
		if (d[i].weight > max_w)
			max_w = d[i].weight;
	}
	qsort_r(order, n, sizeof(*order), cmp_name, (void *)d);

	/*
	 * Turns in order of (round, position by name), as Envoy's loop over rounds takes them,
	 * but from a heap: a loop over every backend in every round costs O(M N) when one
	 * weight dwarfs the others; this is O(M log N) whatever the weights.
	 */
	for (unsigned int k = 0; k < n; k++) {
		heap[k] = k;
		round[k] = 1;
	}
	while (filled < m) {
		unsigned int k = heap[0], i = order[k];
		uint64_t next;

		while (sh->table[pos[i]] != SL_BAL_MAGLEV_EMPTY) {
			pos[i] += skip[i];
			if (pos[i] >= m)
				pos[i] -= m;
		}
		sh->table[pos[i]] = (uint16_t)i;
		filled++;
		/* The next round r > this one with r * w >= (turns taken) * max_w. */
		target[k] += max_w;
		next = (target[k] + d[i].weight - 1) / d[i].weight;
		round[k] = next > round[k] ? next : round[k] + 1;
		sift_down(heap, n, round);
	}
	mg = attach(sh, err);
out:
	free(order);
	free(skip);
	free(pos);
	free(target);
	free(round);
	free(heap);
	if (!mg) {
		sh->refs = 1;
		shared_put(sh);
		return NULL;
	}
	return &mg->base;
}

static struct sl_balancer *
maglev_clone(const struct sl_balancer *proto, int *err)
{
	const struct sl_bal_maglev *p =
	    sl__bal_container_of(proto, const struct sl_bal_maglev, base);
	struct sl_bal_maglev *mg = attach(p->shared, err);

	return mg ? &mg->base : NULL;
}

static void
maglev_destroy(struct sl_balancer *b)
{
	struct sl_bal_maglev *mg = sl__bal_container_of(b, struct sl_bal_maglev, base);

	shared_put(mg->shared);
	free(mg);
}

static inline uint64_t
client_hash(uint32_t client_ip)
{
	return sl_hash_mix64((uint64_t)client_ip ^ 0x5f1c3e0a2b7d9481ULL);
}

static int
maglev_pick(struct sl_balancer *b, const struct sl_bal_req *req)
{
	struct sl_bal_maglev *mg = sl__bal_container_of(b, struct sl_bal_maglev, base);
	uint64_t h = client_hash(req->client_ip);
	uint32_t slot = (uint32_t)(((h >> 32) * mg->m) >> 32);
	uint64_t best_score = 0;
	int best = -1;

	for (int k = 0; k < SL_BAL_MAGLEV_PROBES; k++) {
		unsigned int i = mg->table[slot];

		if (sl__bal_eligible(b, i, req))
			return (int)i;
		if (++slot == mg->m)
			slot = 0;
	}
	/* Rendezvous: the eligible backend with the highest hash of (client, backend). */
	for (unsigned int i = 0; i < b->n; i++) {
		uint64_t s;

		if (!sl__bal_eligible(b, i, req))
			continue;
		s = sl_hash_mix64(h ^ mg->name_hash[i]);
		if (best < 0 || s > best_score) {
			best = (int)i;
			best_score = s;
		}
	}
	return best;
}

int
sl_bal_maglev_table(const struct sl_balancer *b, const uint16_t **table, uint32_t *size)
{
	const struct sl_bal_maglev *mg;

	if (!b || b->ops != &sl_bal_maglev_ops)
		return -EINVAL;
	mg = sl__bal_container_of(b, const struct sl_bal_maglev, base);
	*table = mg->table;
	*size = mg->m;
	return 0;
}

const struct sl_balancer_ops sl_bal_maglev_ops = {
    .name = "consistent_hashing",
    .create = maglev_create,
    .clone = maglev_clone,
    .destroy = maglev_destroy,
    .pick = maglev_pick,
};
