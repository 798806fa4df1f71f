/* SPDX-License-Identifier: MIT */
#ifndef SL_PX_TLS_H
#define SL_PX_TLS_H

/*
 * TLS on a client connection (the worker's record layer), between the userspace TCP stack
 * and the session: OpenSSL drives an SSL over a BIO of our own whose read side copies
 * ciphertext out of the mbufs TCP handed over and whose write side copies records into mbufs
 * of the worker's pool, which go to sl_tcp_send. One copy each way, no BIO pair, no lock,
 * no system call; OpenSSL allocates during handshakes (SSL_new, its buffers), nowhere else
 * on our side.
 *
 * Flow control: ciphertext is given back to TCP (sl_tcp_consumed) as OpenSSL reads it, and
 * it reads only while the plaintext the session holds (handed over, not yet consumed) is
 * under PX_TLS_HELD_MAX: a slow backend still closes a TLS client's window.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "lib/stats/counter.h"
#include "lib/stats/tls_stats.h"
#include "lib/timer/timer_wheel.h"

struct sl_tcp_conn;
struct ssl_st;
struct ssl_ctx_st;

/* Plaintext the session may hold before we stop decrypting (>= the longest head + a record). */
#define PX_TLS_HELD_MAX (128u * 1024u)

struct px_tls {
	struct ssl_st *ssl;
	struct sl_tcp_conn *c;
	void *user;			  /* the session */
	struct sl_tls_stats *stats;
	struct rte_mempool *pool;
	struct rte_mbuf *cin;		  /* ciphertext received, not yet read by OpenSSL */
	uint32_t cin_len;
	uint32_t rd;			  /* ciphertext OpenSSL took in this call (to consume) */
	struct rte_mbuf *cout, *cout_tail; /* records OpenSSL wrote in this call */
	uint32_t cout_len;
	uint32_t held;			  /* plaintext with the session, not consumed yet */
	uint64_t t0_tsc;		  /* first byte of the handshake */
	uint64_t tsc_per_us;
	struct sl_timer kick;		  /* decrypt more once the session consumed (timer 0) */
	bool hs_done;
	bool stalled;	/* stopped at PX_TLS_HELD_MAX */
	bool tcp_fin;	/* the TCP peer sent FIN */
	bool eof;	/* no more plaintext: close_notify, or FIN with nothing left */
	bool bio_fail;	/* no mbuf for a record */
	bool counted;	/* the handshake's outcome is counted */
	bool notified;	/* our close_notify is out */
	bool client;	/* our side connects (an HTTPS backend) */
	uint8_t fail;	/* enum sl_tls_fail of a failed handshake (once counted) */
	int verify_err; /* SL_TLS_FAIL_VERIFY: OpenSSL's X509_V_ERR_* */
	void **sess_slot; /* client: the session to resume with, kept up to date, or NULL */
};

/* Once per process (the BIO method). 0 or -ENOMEM. */
int px_tls_global_init(void);

/* A server SSL from ctx for connection c (ctx's servername callback may move it). */
int px_tls_open(struct px_tls *t, struct ssl_ctx_st *ctx, struct sl_tcp_conn *c, void *user,
		struct sl_tls_stats *stats, uint64_t tsc_per_us);
/*
 * A client SSL from ctx (sl_tls_client_ctx) for backend connection c: `name` is sent as SNI and
 * verified against the certificate (an IPv4 literal: no SNI, checked against its IP SANs); the
 * session in *sess_slot, if any, is offered for resumption, and a newer resumable one replaces
 * it (a TLS 1.2 session after the handshake, a TLS 1.3 ticket when it arrives; px_tls_pump
 * looks). The handshake starts with the first px_tls_pump, once TCP is up.
 */
int px_tls_open_client(struct px_tls *t, struct ssl_ctx_st *ctx, struct sl_tcp_conn *c,
		       void *user, struct sl_tls_stats *stats, uint64_t tsc_per_us,
		       const char *name, void **sess_slot);
/* A session a slot holds (NULL: nothing). */
void px_tls_session_free(void *sess);
/* Free the SSL and what is held; counts an unfinished handshake as SL_TLS_FAIL_EOF. */
void px_tls_close(struct px_tls *t);

/* Ciphertext from TCP (ownership passes). */
void px_tls_input(struct px_tls *t, struct rte_mbuf *data, uint32_t len);
/*
 * Handshake and decrypt what can be: the plaintext comes out as a chain (*pt, *ptlen: the
 * caller owns it; NULL when none), records OpenSSL wrote (handshake, alerts) are sent.
 * Returns 0, or -1 the connection cannot go on (handshake failure, bad record: counted; an
 * alert may be queued). t->eof is set when no more plaintext will come.
 */
int px_tls_pump(struct px_tls *t, struct rte_mbuf **pt, uint32_t *ptlen);
/* The session is done with n bytes of plaintext. True: decrypting was stalled and may go on
 * (arm t->kick). */
bool px_tls_consumed(struct px_tls *t, uint32_t n);
/* Bytes the session may send now (0: TCP's send queue is full; writable follows). */
uint32_t px_tls_send_space(struct px_tls *t);
/* Encrypt the chain and queue the records; ownership passes on 0. -EAGAIN (nothing taken),
 * -EPIPE / -ENOBUFS (the connection cannot go on). */
int px_tls_send(struct px_tls *t, struct rte_mbuf *m);
/* Our close_notify, before a close or a half-close (once; not after a failure). */
void px_tls_notify(struct px_tls *t);

#endif
