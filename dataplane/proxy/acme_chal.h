/* SPDX-License-Identifier: MIT */
#ifndef SL_ACME_CHAL_H
#define SL_ACME_CHAL_H

/*
 * ACME HTTP-01 challenges (RFC 8555, 8.3) answered by the workers: a table token -> key
 * authorization that the control plane publishes and the workers read without a lock.
 *
 * The table is immutable once published: a change copies it, edits the copy and swaps one
 * pointer (a release store); the workers load it (acquire) per challenge request. The
 * replaced table is freed once every worker has passed a quiescent state of the data plane's
 * RCU variable (rte_rcu_qsbr, which the workers report to once per loop iteration); a worker
 * that has not passed one within a second leaves it for a later change to free.
 *
 * sl_acme_chal_set returns once every worker sees the new table (or after that second, with
 * -ETIMEDOUT): an ACME client's hook may then tell the server to validate.
 */

#include <stdbool.h>
#include <stddef.h>

struct rte_rcu_qsbr;

#define SL_ACME_CHAL_MAX 64	  /* challenges pending at once */
#define SL_ACME_TOKEN_MAX 128	  /* base64url; RFC 8555 tokens are >= 22 characters */
#define SL_ACME_KEYAUTH_MAX 256 /* token "." base64url(SHA-256 thumbprint) */
#define SL_ACME_CHAL_PREFIX "/.well-known/acme-challenge/"

/*
 * Control plane (any thread; serialised inside). keyauth NULL removes the token. qsbr may be
 * NULL (no workers yet: nothing to wait for). 0, -EINVAL (a token or key authorization that
 * is not base64url, or too long), -ENOSPC (table full), -ENOMEM, -ETIMEDOUT (published, but
 * a worker has not confirmed within a second).
 */
int sl_acme_chal_set(struct rte_rcu_qsbr *qsbr, const char *token, const char *keyauth);
/* Empty the table and free every table (at exit, workers stopped). */
void sl_acme_chal_clear(void);
/* Entries in the published table (tests, metrics). */
unsigned int sl_acme_chal_count(void);

/*
 * Worker: the key authorization of token[0, len), or NULL. The pointer is valid until the
 * worker's next quiescent state (it is copied into the reply at once).
 */
const char *sl_acme_chal_find(const char *token, size_t len);

#endif
