/* SPDX-License-Identifier: MIT */
/*
 * A TLS service's plain-HTTP port (its `http_port`, default 80; lib/route sl_route_plain_port):
 *   - GET /.well-known/acme-challenge/<token> is answered from the ACME challenge table the
 *     control plane publishes (acme_chal.h): 200 text/plain with the key authorization, or
 *     404; before routing, no backend is involved;
 *   - a request whose Host and path route, on the service's TLS port, to a location with
 *     `http_redirect: true` gets a 308 to https://host[:tls port]/path?query;
 *   - every other request is routed as any request on that port (a plain service there, or
 *     404).
 * The challenge table: an immutable array swapped with one atomic pointer, freed after a
 * grace period of the data plane's QSBR variable (the workers' quiescent states).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

#include "acme_chal.h"
#include "proxy_private.h"

/* ------------------------------------------------------------------ the challenge table */

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

/* ------------------------------------------------------------------ plain ports */

int
px_plain_build(struct sl_proxy *p, char *err, size_t errlen)
{
	const struct sl_config *cfg = p->cfg;
	unsigned int n = 0;

	for (unsigned int s = 0; s < cfg->n_services; s++)
		n += sl_route_plain_port(cfg, &cfg->services[s]) != 0;
	if (n == 0)
		return 0;
	p->plain = calloc(n, sizeof(*p->plain));
	if (p->plain == NULL) {
		snprintf(err, errlen, "out of memory building the plain-HTTP ports");
		return -ENOMEM;
	}
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];
		uint16_t port = sl_route_plain_port(cfg, svc);
		bool dup = false;

		for (unsigned int i = 0; i < p->n_plain && !dup; i++)
			dup = p->plain[i].addr == svc->address && p->plain[i].port == port &&
			      p->plain[i].tls_port == svc->port;
		if (port == 0 || dup)
			continue;
		p->plain[p->n_plain++] =
		    (struct px_plain){.addr = svc->address, .port = port, .tls_port = svc->port};
	}
	return 0;
}

static bool
is_plain(const struct sl_proxy *p, uint32_t laddr, uint16_t lport)
{
	for (unsigned int i = 0; i < p->n_plain; i++)
		if (p->plain[i].port == lport && (p->plain[i].addr == 0 || p->plain[i].addr == laddr))
			return true;
	return false;
}

bool
px_plain_acme(struct px_session *s, bool *ret)
{
	const struct sl_proxy *p = s->gen->p;
	const struct sl_http_head *h = &s->rp.head;
	const size_t plen = sizeof(SL_ACME_CHAL_PREFIX) - 1;
	const char *target = s->head + h->target.off, *ka;
	size_t len = h->target.len, tlen;

	if (p->n_plain == 0 || (h->method != SL_HTTP_M_GET && h->method != SL_HTTP_M_HEAD) ||
	    len <= plen || memcmp(target, SL_ACME_CHAL_PREFIX, plen) != 0 ||
	    !is_plain(p, s->laddr, s->lport))
		return false;
	for (tlen = 0; plen + tlen < len && target[plen + tlen] != '?'; tlen++)
		;
	ka = sl_acme_chal_find(target + plen, tlen);
	s->row = sl_req_row_unrouted(s->gen->stats);
	*ret = px_reply_text(s, ka != NULL ? 200 : 404, ka);
	return true;
}

bool
px_plain_match(const struct px_session *s, const char *host, size_t host_len,
	       struct sl_route_match *m)
{
	const struct sl_proxy *p = s->gen->p;
	const struct sl_http_head *h = &s->rp.head;

	for (unsigned int i = 0; i < p->n_plain; i++) {
		const struct px_plain *e = &p->plain[i];

		if (e->port != s->lport || (e->addr != 0 && e->addr != s->laddr))
			continue;
		sl_route_match_addr(p->routes, s->laddr, e->tls_port, host, host_len,
				    s->head + h->target.off, h->target.len, 0, m);
		if (m->action == SL_ROUTE_REDIRECT && m->https &&
		    sl_route_plain_port(p->cfg, m->loc->service) == s->lport)
			return true;
	}
	return false;
}
