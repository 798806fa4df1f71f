/* SPDX-License-Identifier: MIT */
/*
 * The ACME HTTP-01 challenge table (acme_chal.h): an immutable array swapped with one atomic
 * pointer, freed after a grace period of the data plane's QSBR variable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

#include "acme_chal.h"

struct chal_entry {
	char token[SL_ACME_TOKEN_MAX + 1];
	char keyauth[SL_ACME_KEYAUTH_MAX + 1];
	size_t token_len;
};

struct chal_table {
	unsigned int n;
	struct chal_entry e[];
};

#define CHAL_RETIRED_MAX 16

static struct chal_table *chal_live; /* atomic: control plane -> workers */
static pthread_mutex_t chal_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct chal_table *t;
	uint64_t token;
} chal_retired[CHAL_RETIRED_MAX];
static unsigned int chal_n_retired;

static bool
b64url(const char *s, size_t max, bool dot_ok)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (n >= max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '-' || c == '_' ||
				  (dot_ok && c == '.')))
			return false;
	}
	return n > 0;
}

/* Free the retired tables whose grace period is over (all when qsbr is NULL). */
static void
chal_reap(struct rte_rcu_qsbr *qsbr)
{
	for (unsigned int i = 0; i < chal_n_retired;) {
		if (qsbr != NULL && rte_rcu_qsbr_check(qsbr, chal_retired[i].token, false) != 1) {
			i++;
			continue;
		}
		free(chal_retired[i].t);
		chal_retired[i] = chal_retired[--chal_n_retired];
	}
}

int
sl_acme_chal_set(struct rte_rcu_qsbr *qsbr, const char *token, const char *keyauth)
{
	struct chal_table *old, *t;
	unsigned int n, k = 0;
	uint64_t grace;
	int rc = 0;

	if (token == NULL || !b64url(token, SL_ACME_TOKEN_MAX, false) ||
	    (keyauth != NULL && !b64url(keyauth, SL_ACME_KEYAUTH_MAX, true)))
		return -EINVAL;
	pthread_mutex_lock(&chal_mu);
	old = chal_live;
	n = old != NULL ? old->n : 0;
	t = calloc(1, sizeof(*t) + (n + 1) * sizeof(t->e[0]));
	if (t == NULL) {
		pthread_mutex_unlock(&chal_mu);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(old->e[i].token, token) != 0)
			t->e[k++] = old->e[i];
	if (keyauth != NULL) {
		if (k == SL_ACME_CHAL_MAX) {
			free(t);
			pthread_mutex_unlock(&chal_mu);
			return -ENOSPC;
		}
		strcpy(t->e[k].token, token);
		strcpy(t->e[k].keyauth, keyauth);
		t->e[k].token_len = strlen(token);
		k++;
	}
	t->n = k;
	__atomic_store_n(&chal_live, t, __ATOMIC_RELEASE);
	if (old != NULL) {
		if (chal_n_retired == CHAL_RETIRED_MAX)
			chal_reap(qsbr);
		if (chal_n_retired == CHAL_RETIRED_MAX) {
			/* workers stuck for many changes: wait for the oldest */
			if (qsbr != NULL)
				rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
			chal_reap(NULL);
		}
		chal_retired[chal_n_retired].t = old;
		chal_retired[chal_n_retired].token = qsbr != NULL ? rte_rcu_qsbr_start(qsbr) : 0;
		chal_n_retired++;
	}
	/* Every worker past a quiescent state: each one reads the new table from now on. */
	if (qsbr != NULL) {
		struct timespec t0, now, ts = {0, 200000};

		clock_gettime(CLOCK_MONOTONIC, &t0);
		grace = rte_rcu_qsbr_start(qsbr);
		while (rte_rcu_qsbr_check(qsbr, grace, false) != 1) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
			    1000) {
				rc = -ETIMEDOUT;
				break;
			}
			nanosleep(&ts, NULL);
		}
	}
	chal_reap(qsbr);
	pthread_mutex_unlock(&chal_mu);
	return rc;
}

void
sl_acme_chal_clear(void)
{
	pthread_mutex_lock(&chal_mu);
	free(__atomic_exchange_n(&chal_live, NULL, __ATOMIC_ACQ_REL));
	chal_reap(NULL);
	pthread_mutex_unlock(&chal_mu);
}

unsigned int
sl_acme_chal_count(void)
{
	const struct chal_table *t = __atomic_load_n(&chal_live, __ATOMIC_ACQUIRE);

	return t != NULL ? t->n : 0;
}

const char *
sl_acme_chal_find(const char *token, size_t len)
{
	const struct chal_table *t = __atomic_load_n(&chal_live, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; t != NULL && i < t->n; i++)
		if (t->e[i].token_len == len && memcmp(t->e[i].token, token, len) == 0)
			return t->e[i].keyauth;
	return NULL;
}

