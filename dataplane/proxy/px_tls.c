/* SPDX-License-Identifier: MIT */
/*
 * TLS on client connections (px_tls.h): an SSL per connection over a BIO of our own that
 * reads ciphertext straight out of the received mbuf chain and writes records straight into
 * mbufs for sl_tcp_send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "dataplane/net/mbuf_chain.h"
#include "dataplane/net/tcp/tcp.h"
#include "px_tls.h"

static BIO_METHOD *px_bio_meth;
static pthread_once_t px_bio_once = PTHREAD_ONCE_INIT;

/* ---- the BIO: one copy each way ---- */

/* Records OpenSSL writes, appended to the out chain (mbufs of the worker's pool). */
static int
bio_write(BIO *b, const char *buf, int len)
{
	struct px_tls *t = BIO_get_data(b);
	uint32_t left = (uint32_t)len;

	BIO_clear_retry_flags(b);
	while (left > 0) {
		struct rte_mbuf *m = t->cout_tail;
		uint32_t room = m != NULL ? rte_pktmbuf_tailroom(m) : 0, n;

		if (room == 0) {
			m = rte_pktmbuf_alloc(t->pool);
			if (m == NULL) {
				t->bio_fail = true;
				return -1;
			}
			if (t->cout == NULL) {
				t->cout = m;
			} else {
				t->cout_tail->next = m;
				t->cout->nb_segs++;
			}
			t->cout_tail = m;
			room = rte_pktmbuf_tailroom(m);
		}
		n = RTE_MIN(room, left);
		memcpy(rte_pktmbuf_mtod_offset(m, char *, m->data_len), buf, n);
		m->data_len = (uint16_t)(m->data_len + n);
		t->cout->pkt_len += n;
		buf += n;
		left -= n;
	}
	t->cout_len += (uint32_t)len;
	return len;
}

/* Ciphertext for OpenSSL, out of the received chain; what it took is given back to TCP. */
static int
bio_read(BIO *b, char *buf, int len)
{
	struct px_tls *t = BIO_get_data(b);
	uint32_t n;

	BIO_clear_retry_flags(b);
	if (t->cin_len == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = RTE_MIN((uint32_t)len, t->cin_len);
	{
		const void *p = rte_pktmbuf_read(t->cin, 0, n, buf);

		if (p != buf)
			memcpy(buf, p, n);
	}
	if (n == t->cin_len) {
		rte_pktmbuf_free(t->cin);
		t->cin = NULL;
	} else {
		t->cin = sl_mbuf_chain_adj(t->cin, n);
	}
	t->cin_len -= n;
	t->rd += n;
	return (int)n;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void
bio_meth_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice mbuf");

	if (m == NULL || !BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return;
	}
	px_bio_meth = m;
}

int
px_tls_global_init(void)
{
	pthread_once(&px_bio_once, bio_meth_init);
	return px_bio_meth != NULL ? 0 : -ENOMEM;
}

/* ---- connection ---- */

static int
tls_open(struct px_tls *t, SSL_CTX *ctx, struct sl_tcp_conn *c, void *user,
	 struct sl_tls_stats *stats, uint64_t tsc_per_us)
{
	BIO *b;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->user = user;
	t->stats = stats;
	t->pool = sl_tcp_pool(c);
	t->tsc_per_us = tsc_per_us;
	/*
	 * OpenSSL allocates: a handshake's cost (README, TLS). The SSL holds a reference to its
	 * SSL_CTX, which outlives the snapshot's struct sl_tls after a reload. The contexts'
	 * callbacks (servername, tickets) read that struct, and they run only during the
	 * handshake (no renegotiation; no ticket asked for afterwards), while the session still
	 * holds the generation it was accepted on: a session moves to a newer one only at its
	 * first request, after the handshake.
	 */
	t->ssl = SSL_new(ctx);
	b = t->ssl != NULL ? BIO_new(px_bio_meth) : NULL;
	if (b == NULL) {
		SSL_free(t->ssl);
		t->ssl = NULL;
		ERR_clear_error();
		return -ENOMEM;
	}
	BIO_set_data(b, t);
	SSL_set_bio(t->ssl, b, b); /* one BIO both ways: the SSL owns one reference */
	/* Idle connections give their 16 KB read and write buffers back to OpenSSL. */
	SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
	/* Whole records per BIO read when they are there: fewer calls. */
	SSL_set_read_ahead(t->ssl, 1);
	return 0;
}

int
px_tls_open(struct px_tls *t, SSL_CTX *ctx, struct sl_tcp_conn *c, void *user,
	    struct sl_tls_stats *stats, uint64_t tsc_per_us)
{
	int rc = tls_open(t, ctx, c, user, stats, tsc_per_us);

	if (rc == 0)
		SSL_set_accept_state(t->ssl);
	return rc;
}

int
px_tls_open_client(struct px_tls *t, SSL_CTX *ctx, struct sl_tcp_conn *c, void *user,
		   struct sl_tls_stats *stats, uint64_t tsc_per_us, const char *name,
		   void **sess_slot)
{
	int rc = tls_open(t, ctx, c, user, stats, tsc_per_us);
	struct in_addr ip;
	bool ok;

	if (rc != 0)
		return rc;
	t->client = true;
	t->sess_slot = sess_slot;
	SSL_set_connect_state(t->ssl);
	/* RFC 6066: SNI carries DNS names only; an address is checked against the IP SANs. */
	if (inet_pton(AF_INET, name, &ip) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) == 1;
	else
		ok = SSL_set_tlsext_host_name(t->ssl, name) == 1 && SSL_set1_host(t->ssl, name) == 1;
	/* A session the backend gave us before (a ticket): resume with it. */
	if (ok && sess_slot != NULL && *sess_slot != NULL)
		ok = SSL_set_session(t->ssl, *sess_slot) == 1;
	if (!ok) {
		ERR_clear_error();
		SSL_free(t->ssl);
		t->ssl = NULL;
		return -ENOMEM;
	}
	return 0;
}

/*
 * A newer resumable session than the slot's (the handshake's in TLS 1.2; in TLS 1.3 OpenSSL
 * makes a new session object for each ticket it reads): the slot takes a reference to it.
 * A pointer comparison when nothing changed.
 */
static void
keep_session(struct px_tls *t)
{
	SSL_SESSION *cur = SSL_get0_session(t->ssl);

	if (cur == NULL || cur == *t->sess_slot || !SSL_SESSION_is_resumable(cur))
		return;
	SSL_SESSION_up_ref(cur);
	SSL_SESSION_free(*t->sess_slot);
	*t->sess_slot = cur;
}

void
px_tls_session_free(void *sess)
{
	SSL_SESSION_free(sess);
}

static void
count_fail(struct px_tls *t, enum sl_tls_fail why)
{
	if (t->counted)
		return;
	t->counted = true;
	t->fail = (uint8_t)why;
	sl_counter_inc(&t->stats->failed[why]);
}

void
px_tls_close(struct px_tls *t)
{
	if (t->ssl == NULL)
		return;
	/* A backend connection that never came up (no ClientHello sent) is no TLS failure. */
	if (!t->hs_done && (!t->client || t->t0_tsc != 0))
		count_fail(t, SL_TLS_FAIL_EOF);
	SSL_free(t->ssl); /* and the BIO */
	t->ssl = NULL;
	rte_pktmbuf_free(t->cin);
	rte_pktmbuf_free(t->cout);
	t->cin = t->cout = t->cout_tail = NULL;
	t->cin_len = t->cout_len = 0;
}

void
px_tls_input(struct px_tls *t, struct rte_mbuf *data, uint32_t len)
{
	if (len == 0) {
		rte_pktmbuf_free(data);
		return;
	}
	if (t->t0_tsc == 0)
		t->t0_tsc = rte_rdtsc();
	if (t->cin == NULL)
		t->cin = data;
	else
		sl_mbuf_chain_cat(t->cin, data);
	t->cin_len += len;
}

/*
 * What OpenSSL read goes back to TCP; what it wrote goes out. 0, or -1: the records could not
 * be queued (the connection is gone, or its send queue was full: records cannot wait, a gap in
 * them would break the stream, so the connection cannot go on). Data waits for send space
 * before it is encrypted (px_tls_send), so only records OpenSSL writes on its own (a
 * KeyUpdate answer, close_notify) can meet a full queue.
 */
static int
settle(struct px_tls *t)
{
	int rc = 0;

	if (t->rd != 0) {
		sl_tcp_consumed(t->c, t->rd);
		t->rd = 0;
	}
	if (t->cout != NULL) {
		rc = sl_tcp_send(t->c, t->cout);
		if (rc != 0)
			rte_pktmbuf_free(t->cout);
		t->cout = t->cout_tail = NULL;
		t->cout_len = 0;
	}
	return rc == 0 && !t->bio_fail ? 0 : -1;
}

/* A failed handshake's reason, from OpenSSL's error queue (emptied). */
static enum sl_tls_fail
fail_reason(void)
{
	unsigned long e = ERR_peek_error();
	enum sl_tls_fail why = SL_TLS_FAIL_OTHER;

	if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL) {
		switch (ERR_GET_REASON(e)) {
		case SSL_R_WRONG_VERSION_NUMBER:
		case SSL_R_HTTP_REQUEST:
		case SSL_R_HTTPS_PROXY_REQUEST:
		case SSL_R_PACKET_LENGTH_TOO_LONG:
		case SSL_R_RECORD_LENGTH_MISMATCH:
		case SSL_R_UNEXPECTED_MESSAGE:
		case SSL_R_UNEXPECTED_RECORD:
		case SSL_R_LENGTH_MISMATCH:
		case SSL_R_LENGTH_TOO_SHORT:
		case SSL_R_BAD_PACKET_LENGTH:
		case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
			why = SL_TLS_FAIL_NOT_TLS;
			break;
		case SSL_R_UNSUPPORTED_PROTOCOL:
		case SSL_R_VERSION_TOO_LOW:
		case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		case SSL_R_UNKNOWN_PROTOCOL:
			why = SL_TLS_FAIL_VERSION;
			break;
		case SSL_R_NO_SHARED_CIPHER:
		case SSL_R_NO_SHARED_GROUPS:
		case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
			why = SL_TLS_FAIL_CIPHER;
			break;
		case SSL_R_CERTIFICATE_VERIFY_FAILED: /* a backend's certificate (client side) */
			why = SL_TLS_FAIL_VERIFY;
			break;
		default:
			break;
		}
	}
	ERR_clear_error();
	return why;
}

static int
handshake(struct px_tls *t)
{
	int rc;

	if (t->t0_tsc == 0) /* a client's handshake starts with our ClientHello */
		t->t0_tsc = rte_rdtsc();
	rc = SSL_do_handshake(t->ssl);

	if (rc == 1) {
		uint64_t ns = (rte_rdtsc() - t->t0_tsc) * 1000u / (t->tsc_per_us ? t->tsc_per_us : 1);

		t->hs_done = true;
		t->counted = true;
		sl_counter_inc(&t->stats->handshakes);
		if (SSL_session_reused(t->ssl))
			sl_counter_inc(&t->stats->resumed);
		sl_hist_record(&t->stats->hs_time, ns);
		return 0;
	}
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		ERR_clear_error();
		if (t->tcp_fin && t->cin_len == 0) {
			count_fail(t, SL_TLS_FAIL_EOF);
			return -1;
		}
		return 0;
	case SSL_ERROR_SYSCALL: /* our BIO: no mbuf for a record */
		ERR_clear_error();
		count_fail(t, t->bio_fail ? SL_TLS_FAIL_OTHER : SL_TLS_FAIL_EOF);
		return -1;
	default: {
		enum sl_tls_fail why = fail_reason();

		if (why == SL_TLS_FAIL_VERIFY)
			t->verify_err = (int)SSL_get_verify_result(t->ssl);
		count_fail(t, why);
		return -1;
	}
	}
}

int
px_tls_pump(struct px_tls *t, struct rte_mbuf **pt, uint32_t *ptlen)
{
	struct rte_mbuf *head = NULL;
	uint32_t total = 0;
	int rc = 0;

	*pt = NULL;
	*ptlen = 0;
	if (t->ssl == NULL)
		return -1;
	if (!t->hs_done) {
		rc = handshake(t);
		if (settle(t) != 0)
			rc = -1;
		if (rc != 0 || !t->hs_done)
			return rc;
	}
	t->stalled = false;
	while (!t->eof) {
		struct rte_mbuf *m;
		int n;

		if (t->held >= PX_TLS_HELD_MAX) {
			t->stalled = true;
			break;
		}
		m = rte_pktmbuf_alloc(t->pool);
		if (m == NULL) {
			t->stalled = true; /* tried again when the session consumes */
			break;
		}
		n = SSL_read(t->ssl, rte_pktmbuf_mtod(m, char *), (int)rte_pktmbuf_tailroom(m));
		if (n > 0) {
			m->data_len = (uint16_t)n;
			m->pkt_len = (uint32_t)n;
			if (head == NULL)
				head = m;
			else
				sl_mbuf_chain_cat(head, m);
			total += (uint32_t)n;
			t->held += (uint32_t)n;
			continue;
		}
		rte_pktmbuf_free(m);
		switch (SSL_get_error(t->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			ERR_clear_error();
			if (t->tcp_fin && t->cin_len == 0)
				t->eof = true; /* FIN without close_notify: what came is all */
			goto out;
		case SSL_ERROR_ZERO_RETURN: /* close_notify */
			ERR_clear_error();
			t->eof = true;
			goto out;
		default:
			ERR_clear_error();
			sl_counter_inc(&t->stats->bad_records);
			rc = -1;
			goto out;
		}
	}
out:
	if (settle(t) != 0)
		rc = -1;
	if (t->sess_slot != NULL && rc == 0)
		keep_session(t);
	*pt = head;
	*ptlen = total;
	return rc;
}

bool
px_tls_consumed(struct px_tls *t, uint32_t n)
{
	t->held -= RTE_MIN(t->held, n);
	return t->stalled && t->held < PX_TLS_HELD_MAX;
}

uint32_t
px_tls_send_space(struct px_tls *t)
{
	return sl_tcp_send_space(t->c);
}

int
px_tls_send(struct px_tls *t, struct rte_mbuf *m)
{
	if (t->ssl == NULL || t->notified)
		return -EPIPE;
	if (sl_tcp_send_space(t->c) == 0) {
		sl_tcp_want_writable(t->c);
		return -EAGAIN;
	}
	/* A record per segment: what the backend's segments hold, under the record limit. */
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const char *p = rte_pktmbuf_mtod(s, const char *);
		uint32_t left = s->data_len;

		while (left > 0) {
			int n = SSL_write(t->ssl, p, (int)RTE_MIN(left, 16384u));

			if (n <= 0) { /* the caller still owns m */
				ERR_clear_error();
				settle(t);
				return t->bio_fail ? -ENOBUFS : -EPIPE;
			}
			p += n;
			left -= (uint32_t)n;
		}
	}
	if (settle(t) != 0)
		return -EPIPE;
	rte_pktmbuf_free(m);
	return 0;
}

void
px_tls_notify(struct px_tls *t)
{
	if (t->ssl == NULL || !t->hs_done || t->notified)
		return;
	t->notified = true;
	if (SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
	settle(t);
}
