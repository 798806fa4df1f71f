/* SPDX-License-Identifier: MIT */
/*
 * Proxy sessions: a client connection, at most one backend connection, and the state machine
 * between them (enum sl_session_state; px_run() is the only function that changes the state).
 *
 * One request at a time per client connection: bytes of a pipelined next request stay in the
 * client's input chain, unconsumed (so they count against the client's window), and are
 * parsed once the current exchange has ended. Heads are copied into the session's head buffer
 * (the parser wants them contiguous, and they are rewritten anyway); bodies move by mbuf
 * reference, cut at message boundaries with sl_mbuf_chain_split. A direction's bytes are given
 * back to TCP (sl_tcp_consumed) only when the other side's send queue has taken them: a slow
 * reader on either side slows the writer on the other.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "controlplane/tls_ctx.h"
#include "dataplane/net/mbuf_chain.h"
#include "dataplane/net/tcp/tcp.h"
#include "dataplane/worker.h"
#include "proxy_private.h"

static const struct sl_tcp_ops srv_ops;

/* ---- small helpers ---- */

static inline const struct sl_config_timeouts *
px_timeouts(const struct sl_proxy_worker *px)
{
	return &px->gen->p->cfg->timeouts;
}

static void
px_arm(struct px_session *s, uint32_t ms)
{
	sl_tcp_timer_arm(s->px->w, &s->timer, ms);
}

static void
dir_append(struct px_dir *d, struct rte_mbuf *m, uint32_t len)
{
	if (d->in == NULL)
		d->in = m;
	else
		sl_mbuf_chain_cat(d->in, m);
	d->len += len;
}

/* The bytes of d->in from offset off to the end of the segment holding it. */
static const char *
dir_piece(const struct px_dir *d, uint32_t off, uint32_t *n)
{
	const struct rte_mbuf *seg = d->in;

	while (off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	*n = seg->data_len - off;
	return rte_pktmbuf_mtod_offset(seg, const char *, off);
}

/* Drop the first n bytes (n <= len). */
static void
dir_drop(struct px_dir *d, uint32_t n)
{
	if (n == 0)
		return;
	if (n == d->len) {
		rte_pktmbuf_free(d->in);
		d->in = NULL;
	} else {
		d->in = sl_mbuf_chain_adj(d->in, n);
	}
	d->len -= n;
	d->parsed -= RTE_MIN(d->parsed, n);
	d->fwd -= RTE_MIN(d->fwd, n);
}

/* Remove n parsed bytes at offset off (off + n <= parsed), no payload copied. 0, or -ENOBUFS
 * (no mbuf for a cut inside a segment; nothing changed). */
static int
dir_cut(struct px_dir *d, uint32_t off, uint32_t n, struct rte_mempool *pool)
{
	struct rte_mbuf *tail;

	if (n == 0)
		return 0;
	if (off == 0) {
		dir_drop(d, n);
		return 0;
	}
	if (off + n == d->len) {
		sl_mbuf_chain_trim(d->in, off);
	} else {
		if (sl_mbuf_chain_split(d->in, off, pool, &tail) != 0)
			return -ENOBUFS;
		sl_mbuf_chain_cat(d->in, sl_mbuf_chain_adj(tail, n));
	}
	d->len -= n;
	d->parsed -= n;
	return 0;
}

/* Take the first n bytes (0 < n <= len) as a chain of their own; NULL without an mbuf. */
static struct rte_mbuf *
dir_take(struct px_dir *d, uint32_t n, struct rte_mempool *pool)
{
	struct rte_mbuf *front = d->in;

	if (n < d->len) {
		struct rte_mbuf *rest;

		if (sl_mbuf_chain_split(d->in, n, pool, &rest) != 0)
			return NULL;
		d->in = rest;
	} else {
		d->in = NULL;
	}
	d->len -= n;
	d->parsed -= n;
	d->fwd -= n;
	return front;
}

static void
dir_free(struct px_dir *d)
{
	rte_pktmbuf_free(d->in);
	memset(d, 0, sizeof(*d));
}

/* Our own bytes (heads, error pages) into a fresh chain: the head is the one copy we make. */
static struct rte_mbuf *
px_mbufs(struct rte_mempool *pool, const char *buf, uint32_t len)
{
	struct rte_mbuf *head = NULL;

	while (len > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t n;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		n = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), buf, n);
		if (head == NULL)
			head = m;
		else
			sl_mbuf_chain_cat(head, m);
		buf += n;
		len -= n;
	}
	return head;
}

/* Dotted quad of a network-order address, NUL-terminated; buf has 16 bytes. */
static void
px_ip_text(uint32_t ip, char *buf)
{
	const uint8_t *b = (const uint8_t *)&ip;
	char *p = buf;

	for (int i = 0; i < 4; i++) {
		unsigned int v = b[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

/* ---- the client connection: TCP, or TLS over TCP (px_tls.c) ---- */

/* Decrypting stops at PX_TLS_HELD_MAX held bytes: the longest head must fit under it. */
_Static_assert(PX_TLS_HELD_MAX >= SL_HTTP_HEAD_MAX + 16384u,
	       "a request head could not be completed over TLS");

/*
 * Every byte to or from the client or the backend goes through these: straight to the stack
 * for a plain connection (one predictable branch), through the record layer for TLS (an HTTPS
 * client, an https:// backend). Cork, pool and want_writable act on the TCP connection either
 * way.
 */
static inline struct px_tls *
px_tls_of(const struct px_session *s, const struct sl_tcp_conn *c)
{
	if (c == s->cli)
		return s->tlsc;
	return s->srv != NULL && c == s->srv->c ? s->srv->tls : NULL;
}

static inline int
px_send(struct px_session *s, struct sl_tcp_conn *to, struct rte_mbuf *m)
{
	struct px_tls *t = px_tls_of(s, to);

	if (unlikely(t != NULL))
		return px_tls_send(t, m);
	return sl_tcp_send(to, m);
}

static inline uint32_t
px_send_space(struct px_session *s, struct sl_tcp_conn *to)
{
	struct px_tls *t = px_tls_of(s, to);

	if (unlikely(t != NULL))
		return px_tls_send_space(t);
	return sl_tcp_send_space(to);
}

/* n bytes of what connection c delivered are done with (t: its TLS state, or NULL). */
static inline void
px_tls_or_tcp_consumed(struct sl_proxy_worker *px, struct px_tls *t, struct sl_tcp_conn *c,
		       uint32_t n)
{
	if (unlikely(t != NULL)) {
		/* Decrypting stopped at the cap: go on at the next poll, outside this run. */
		if (px_tls_consumed(t, n))
			sl_tcp_timer_arm(px->w, &t->kick, 0);
		return;
	}
	sl_tcp_consumed(c, n);
}

static inline void
px_consumed(struct px_session *s, struct sl_tcp_conn *from, uint32_t n)
{
	px_tls_or_tcp_consumed(s->px, px_tls_of(s, from), from, n);
}

/* The same for a backend connection, in or out of a session. */
static inline void
sconn_consumed(struct px_sconn *sc, uint32_t n)
{
	px_tls_or_tcp_consumed(sc->px, sc->tls, sc->c, n);
}

static inline int
px_cli_send(struct px_session *s, struct rte_mbuf *m)
{
	return px_send(s, s->cli, m);
}

/* close_notify first, then the stack's lingering close (c: the session's client handle). */
static void
px_cli_close_linger(struct px_session *s, struct sl_tcp_conn *c, uint32_t ms)
{
	if (unlikely(s->tlsc != NULL))
		px_tls_notify(s->tlsc);
	sl_tcp_close_linger(c, ms);
}

static void
px_cli_shutdown(struct px_session *s)
{
	if (unlikely(s->tlsc != NULL))
		px_tls_notify(s->tlsc);
	sl_tcp_shutdown(s->cli);
}

/* ---- generations (snapshots) ---- */

static inline void
px_gen_get(struct px_gen *g)
{
	g->refs++;
}

/* The last user of a retired generation lets the control plane free it. */
static inline void
px_gen_put(struct px_gen *g)
{
	if (--g->refs == 0 && g->retired) {
		sl_tcp_timer_cancel(&g->adm_timer); /* no waiter is left: the queue's poll ends */
		__atomic_store_n(&g->done, true, __ATOMIC_RELEASE);
	}
}

/* ---- backend connections and pools ---- */

static void
sconn_unlink_idle(struct px_sconn *sc)
{
	if (sc->pprev_idle == NULL)
		return;
	*sc->pprev_idle = sc->next_idle;
	if (sc->next_idle != NULL)
		sc->next_idle->pprev_idle = sc->pprev_idle;
	sc->pprev_idle = NULL;
	sc->next_idle = NULL;
	sc->be->n_idle--;
	sl_req_dec(sc->gen->stats, sc->gidx, idle_conns);
}

/* The TCP handle is gone (closed, aborted, or died): give the object back. */
static void
sconn_release(struct px_sconn *sc)
{
	sconn_unlink_idle(sc);
	sl_tcp_timer_cancel(&sc->idle_timer);
	if (sc->tls != NULL) {
		sl_tcp_timer_cancel(&sc->tls->kick);
		px_tls_close(sc->tls);
		rte_mempool_put(sc->px->tlss, sc->tls);
		sc->tls = NULL;
	}
	sc->be->n_open--;
	sl_req_dec(sc->gen->stats, sc->gidx, open_conns);
	px_gen_put(sc->gen);
	rte_mempool_put(sc->px->sconns, sc);
}

static void
sconn_close(struct px_sconn *sc, bool abort)
{
	if (abort) {
		sl_tcp_abort(sc->c);
	} else {
		if (unlikely(sc->tls != NULL))
			px_tls_notify(sc->tls); /* close_notify before the FIN */
		sl_tcp_close(sc->c);
	}
	sconn_release(sc);
}

static void
sconn_idle_expired(struct sl_timer *t)
{
	sconn_close(sl_container_of(t, struct px_sconn, idle_timer), false);
}

static void
pool_put(struct px_sconn *sc, const struct sl_config_connection_pool *cp)
{
	struct px_backend *be = sc->be;

	sc->s = NULL;
	/* A retired generation's pool is being emptied, and a draining worker's: they close. */
	if (be->n_idle >= cp->max_idle || cp->idle_timeout_ms == 0 || sc->gen->retired ||
	    sc->px->draining) {
		sconn_close(sc, false);
		return;
	}
	sc->next_idle = be->idle;
	if (be->idle != NULL)
		be->idle->pprev_idle = &sc->next_idle;
	be->idle = sc;
	sc->pprev_idle = &be->idle;
	be->n_idle++;
	sl_req_inc(sc->gen->stats, sc->gidx, idle_conns);
	sl_tcp_timer_arm(sc->px->w, &sc->idle_timer, cp->idle_timeout_ms);
}

/* An idle connection still good for a request, or NULL. */
static struct px_sconn *
pool_get(struct px_backend *be)
{
	struct px_sconn *sc;

	while ((sc = be->idle) != NULL) {
		sconn_unlink_idle(sc);
		sl_tcp_timer_cancel(&sc->idle_timer);
		/* The backend closed it (its FIN is in): never send a request into that. */
		if (!sl_tcp_peer_done(sc->c) && (sc->tls == NULL || !sc->tls->eof))
			return sc;
		sconn_close(sc, false);
	}
	return NULL;
}

/* ---- session life ---- */

static void px_run(struct px_session *s);

static unsigned int
px_row_backend(const struct px_session *s)
{
	return sl_req_row_backend(s->gen->stats, s->loc->backend_base + (unsigned int)s->bidx);
}

/* The request ends, however: counters, the in-flight count, the balancer's latency sample. */
static void
px_req_finish(struct px_session *s, unsigned int status)
{
	struct sl_proxy_worker *px = s->px;
	uint64_t ns = (rte_rdtsc() - s->t0_tsc) * 1000 / px->tsc_per_us;

	sl_req_done(s->gen->stats, s->row, status, ns);
	px_log_end(s, status, ns);
	if (status != 0) /* 0: the client left; no verdict on the backend */
		px_resil_done(s, status >= 500);
	s->bt_held = false;
	if (s->inflight) {
		sl_bal_live_release(s->loc->live, px->w->id, (unsigned int)s->bidx);
		s->inflight = false;
	}
	if (s->adm_slot || s->adm_wait)
		px_admit_leave(s);
	s->t0_tsc = 0;
}

static void
px_error(struct px_session *s, enum sl_proxy_error e)
{
	sl_req_error(s->gen->stats, s->row, e);
	s->err = (uint8_t)(e + 1);
}

/* Let go of the backend connection: back to the pool when it is clean, else closed. */
static void
px_srv_detach(struct px_session *s, bool reusable)
{
	struct px_sconn *sc = s->srv;

	if (sc == NULL) {
		/* Its handle died (srv_error): what it had sent goes with it. */
		dir_free(&s->resp);
		rte_pktmbuf_free(s->srv_out);
		s->srv_out = NULL;
		s->srv_eof = false;
		return;
	}
	s->srv = NULL;
	rte_pktmbuf_free(s->srv_out);
	s->srv_out = NULL;
	if (s->srv_cork) {
		sl_tcp_cork(sc->c, false);
		s->srv_cork = false;
	}
	if (s->resp.len > 0) {
		sconn_consumed(sc, s->resp.len);
		reusable = false;
	}
	dir_free(&s->resp);
	if (reusable && sc->connected && !s->srv_eof)
		pool_put(sc, &s->loc->cfg->connection_pool);
	else
		sconn_close(sc, !reusable);
	s->srv_eof = false;
}

static void
px_head_put(struct px_session *s)
{
	if (s->head != NULL) {
		rte_mempool_put(s->px->heads, s->head);
		s->head = NULL;
	}
}

/* The client handle is gone (or we just closed it): free everything. */
static void
px_end(struct px_session *s)
{
	if (s->t0_tsc != 0) {
		px_error(s, SL_PROXY_ERR_CLIENT_ABORT);
		px_req_finish(s, 0);
	}
	sl_tcp_timer_cancel(&s->timer);
	px_srv_detach(s, false);
	if (s->tlsc != NULL) {
		sl_tcp_timer_cancel(&s->tlsc->kick);
		px_tls_close(s->tlsc);
		rte_mempool_put(s->px->tlss, s->tlsc);
		s->tlsc = NULL;
	}
	if (s->cl_counted)
		px_admit_conn_release(s->px, s->client_ip);
	*s->pprev_live = s->next_live;
	if (s->next_live != NULL)
		s->next_live->pprev_live = s->pprev_live;
	s->px->n_sessions--;
	rte_pktmbuf_free(s->cli_out);
	rte_pktmbuf_free(s->srv_out);
	dir_free(&s->req);
	dir_free(&s->resp);
	px_head_put(s);
	px_gen_put(s->gen);
	rte_mempool_put(s->px->sessions, s);
}

/* Close the client connection (FIN after what is queued) and end the session. */
static bool
px_close_client(struct px_session *s, bool abort)
{
	struct sl_tcp_conn *c = s->cli;

	s->cli = NULL;
	if (c != NULL) {
		/* Lingering: what the client still sends (a pipelined request we will not
		 * answer) is dropped, and the response already queued drains before FIN. */
		if (abort)
			sl_tcp_abort(c);
		else
			px_cli_close_linger(s, c, PX_CLOSE_LINGER_MS);
	}
	px_end(s);
	return false;
}

/* The `security:` and `cors:` fields into a page sluice wrote in buf[0, n) (http_policy.c). */
static int
px_page_policy(struct px_session *s, char *buf, int n, size_t cap)
{
	const struct sl_proxy *p = s->gen->p;
	char f[768];
	int k = 0, c = 0;

	if (n <= 0 || (p->secure == NULL && p->cors == NULL))
		return n;
	if (p->secure != NULL)
		k = sl_http_write_secure(p->secure, s->tls, NULL, NULL, f, sizeof(f));
	if (p->cors != NULL && k >= 0)
		c = sl_http_write_cors_fields(p->cors, s->cors_match, NULL, NULL, f + k,
					      sizeof(f) - (size_t)k);
	if (k < 0 || c < 0 ||
	    (k = sl_http_insert_fields(buf, (size_t)n, cap, f, (size_t)(k + c))) < 0)
		return n; /* a long configured origin: the page goes without the fields */
	return k;
}

/*
 * May the client connection outlive a reply sluice makes? Only when HTTP allows it: the request
 * head was parsed and nothing of the request is left unread (no body, or all of it taken),
 * the client asked for no close (HTTP/1.1: HTTP/1.0 would need an explicit keep-alive reply),
 * the request is not HEAD (our page has a body), no byte of a response went out, and the error
 * is not one of framing or syntax (400, 408, 413, 414, 431), after which the connection's
 * bytes cannot be trusted to start a next request.
 */
static bool
px_reply_keeps(const struct px_session *s, unsigned int status)
{
	const struct sl_http_head *h = &s->rp.head;

	if (!s->head_ok || s->cli_eof || s->resp_started || s->upgrade || h->version != 11 ||
	    h->method == SL_HTTP_M_HEAD || !sl_http_keep_alive(h) || s->px->draining)
		return false;
	if (h->framing != SL_HTTP_BODY_NONE && !(s->req_done && s->req.fwd == 0))
		return false;
	switch (status) {
	case 400:
	case 408:
	case 413:
	case 414:
	case 431:
		return false;
	default:
		return true;
	}
}

/* Our pending bytes (a reply, a relayed head) to the client. 0 sent or waiting for space
 * (the stack calls `writable`), -1 the connection is gone. */
static int
px_flush_client(struct px_session *s)
{
	int rc;

	if (s->cli_out == NULL)
		return 0;
	rc = px_cli_send(s, s->cli_out);
	if (rc == -EAGAIN)
		return 0;
	if (rc != 0)
		return -1;
	s->cli_out = NULL;
	return 0;
}

/*
 * Answer with a response sluice makes (error page or redirect). When px_reply_keeps() allows
 * it the connection stays open for the next request (state IDLE; returns true). Else the
 * reply goes out, then FIN; input is read and dropped until the client closes or
 * PX_LINGER_MS pass, and the session ends (returns false).
 */
static bool px_reply_ex(struct px_session *s, unsigned int status, const char *location,
			size_t loc_len, const char *text);

static bool
px_reply(struct px_session *s, unsigned int status, const char *location, size_t loc_len)
{
	return px_reply_ex(s, status, location, loc_len, NULL);
}

bool
px_reply_text(struct px_session *s, unsigned int status, const char *text)
{
	return px_reply_ex(s, status, NULL, 0, text);
}

static bool
px_reply_ex(struct px_session *s, unsigned int status, const char *location, size_t loc_len,
	    const char *text)
{
	struct sl_proxy_worker *px = s->px;
	struct rte_mbuf *m;
	bool keep;
	int n;

	px_srv_detach(s, false);
	if (s->resp_started || s->cli == NULL) {
		/* Part of a response is out: a clean page cannot follow it. */
		if (s->t0_tsc != 0)
			px_req_finish(s, s->status);
		return px_close_client(s, true);
	}
	keep = px_reply_keeps(s, status);
	if (location != NULL) /* the Location is in scratch[2048..] */
		n = sl_http_write_redirect(status, location, loc_len, !keep, px->scratch, 2048);
	else if (text != NULL)
		n = sl_http_write_text(status, text, !keep, px->scratch, sizeof(px->scratch));
	else
		n = sl_http_write_error_retry(status, s->json, !keep, s->retry_after, px->scratch,
					      sizeof(px->scratch));
	n = px_page_policy(s, px->scratch, n, location != NULL ? 2048 : sizeof(px->scratch));
	px_log_reply(s, px->scratch, n);
	if (s->t0_tsc != 0)
		px_req_finish(s, status);
	m = n > 0 ? px_mbufs(px->w->pool, px->scratch, (uint32_t)n) : NULL;
	if (m == NULL)
		return px_close_client(s, true);
	if (keep) {
		/* After what is still queued for the client, in order; then the next request. */
		if (s->cli_out != NULL)
			sl_mbuf_chain_cat(s->cli_out, m);
		else
			s->cli_out = m;
		if (px_flush_client(s) != 0)
			return px_close_client(s, true);
		sl_tcp_timer_cancel(&s->timer);
		px_head_put(s);
		s->state = SL_SS_IDLE;
		px_arm(s, px_timeouts(px)->client_keepalive_ms);
		return true;
	}
	if (s->cli_out != NULL)
		sl_mbuf_chain_cat(s->cli_out, m);
	else
		s->cli_out = m;
	if (px_cli_send(s, s->cli_out) != 0)
		return px_close_client(s, true);
	s->cli_out = NULL;
	/* The stack drains the reply and drops further input; the session ends now. */
	px_cli_close_linger(s, s->cli, PX_LINGER_MS);
	s->cli = NULL;
	px_end(s);
	return false;
}

static enum sl_proxy_error
px_status_error(unsigned int status)
{
	switch (status) {
	case 413:
		return SL_PROXY_ERR_BODY_TOO_LARGE;
	case 414:
		return SL_PROXY_ERR_URI_TOO_LONG;
	case 431:
		return SL_PROXY_ERR_HEADERS_TOO_LARGE;
	default:
		return SL_PROXY_ERR_BAD_REQUEST;
	}
}

/* ---- request head: route, pick, connect ---- */

/*
 * TLS client state for a connection c (user: its owner) to backend idx of location pl, an
 * https one: the name checked is the location's server_name or the URL's host, and be's
 * session slot resumes. 0 and *out, or -ENOBUFS (nothing taken).
 */
int
px_be_tls_open(struct sl_proxy_worker *px, const struct px_location *pl, unsigned int idx,
	       struct px_backend *be, struct sl_tcp_conn *c, void *user, struct px_tls **out)
{
	const char *name = pl->cfg->backend_tls.server_name[0] ? pl->cfg->backend_tls.server_name
							       : pl->cfg->backends[idx].target.host;
	struct px_tls *t;

	if (rte_mempool_get(px->tlss, (void **)&t) != 0)
		return -ENOBUFS;
	if (px_tls_open_client(t, pl->be_ctx, c, user, &px->be_tls_stats, px->tsc_per_us, name,
			       &be->tls_sess) != 0) {
		rte_mempool_put(px->tlss, t);
		return -ENOBUFS;
	}
	*out = t;
	return 0;
}

/* An https backend's connection: its TLS state, the handshake to start once TCP is up. */
static void srv_tls_kick(struct sl_timer *tm);

static int
sconn_tls_open(struct px_sconn *sc, const struct px_location *pl, unsigned int idx)
{
	if (px_be_tls_open(sc->px, pl, idx, sc->be, sc->c, sc, &sc->tls) != 0)
		return -ENOBUFS;
	sl_tcp_timer_init(&sc->tls->kick, srv_tls_kick);
	return 0;
}

/* Open or reuse a connection to the picked backend. 0, or -errno (no connection). */
static int
px_connect(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	struct px_location *pl = s->loc;
	struct px_backend *be = &s->gen->locs[s->loc_id].backends[s->bidx];
	unsigned int gidx = px_row_backend(s);
	struct px_sconn *sc = NULL;
	int err = 0;

	s->row = gidx;
	/* A request that must not be sent twice goes on a fresh connection: a pooled one may
	 * be closing under us, and then its bytes would be lost or acted on twice. */
	if (sl_http_idempotent(s->rp.head.method) && s->rp.head.framing == SL_HTTP_BODY_NONE)
		sc = pool_get(be);
	if (sc != NULL) {
		s->reused = true;
		sl_req_inc(s->gen->stats, gidx, pool_reused);
	} else {
		uint32_t max_open = pl->cfg->connection_pool.max_open;

		if (max_open != 0 && be->n_open >= max_open)
			return -EMFILE;
		if (rte_mempool_get(px->sconns, (void **)&sc) != 0)
			return -ENOBUFS;
		memset(sc, 0, sizeof(*sc));
		sc->px = px;
		sc->gen = s->gen;
		sc->be = be;
		sc->gidx = gidx;
		sl_tcp_timer_init(&sc->idle_timer, sconn_idle_expired);
		/* The stack times the connect out (error -ETIMEDOUT, a connect failure). */
		struct sl_tcp_connect_opts o = {
		    .port_index = sl_tcp_port_index(s->cli),
		    .connect_timeout_ms = px_timeouts(px)->backend_connect_ms,
		};

		sc->c = sl_tcp_connect_opts(px->w, pl->ip[s->bidx], pl->port[s->bidx], &o, &srv_ops,
					    sc, &err);
		if (sc->c == NULL) {
			rte_mempool_put(px->sconns, sc);
			return err ? err : -ENOBUFS;
		}
		if (unlikely(pl->be_ctx != NULL) && pl->cfg->backends[s->bidx].target.https &&
		    sconn_tls_open(sc, pl, (unsigned int)s->bidx) != 0) {
			sl_tcp_abort(sc->c);
			rte_mempool_put(px->sconns, sc);
			return -ENOBUFS;
		}
		be->n_open++;
		px_gen_get(sc->gen);
		sl_req_inc(s->gen->stats, gidx, open_conns);
		sl_req_inc(s->gen->stats, gidx, pool_opened);
		s->reused = false;
	}
	sc->s = s;
	s->srv = sc;
	sl_bal_live_acquire(pl->live, px->w->id, (unsigned int)s->bidx);
	s->inflight = true;
	s->attempts++;
	s->state = SL_SS_CONNECT;
	/* A fresh connection's connect timeout is the stack's (connect_timeout_ms); this one
	 * only backs it up, should the stack's never fire. */
	px_arm(s, px_timeouts(px)->backend_connect_ms + PX_CONNECT_SLACK_MS);
	return 0;
}

/* Pick a backend (not one tried already) and connect; on failure the reply is sent. */
static bool
px_pick_and_connect(struct px_session *s)
{
	for (;;) {
		int rc;

		s->bidx = px_resil_pick(s); /* balancer, breaker, slow start */
		if (s->bidx < 0) {
			s->row = sl_req_row_location(s->gen->stats, s->loc_id);
			s->bidx = 0;
			/* Every backend tried, and TLS with one failed: a bad gateway (nginx's 502
			 * too), the failure already counted. */
			if (s->be_tls_failed)
				return px_reply(s, 502, NULL, 0);
			px_error(s, SL_PROXY_ERR_NO_BACKEND);
			return px_reply(s, 503, NULL, 0);
		}
		rc = px_connect(s);
		if (rc == 0)
			return true;
		s->row = px_row_backend(s);
		px_error(s, rc == -ENOBUFS ? SL_PROXY_ERR_NO_MEMORY : SL_PROXY_ERR_CONNECT_FAILURE);
		s->bt_held &= rc != -ENOBUFS && rc != -EMFILE; /* ours, not the backend's */
		px_resil_done(s, true);
		if (s->breq.n_tried >= SL_BAL_MAX_TRIED)
			return px_reply(s, 503, NULL, 0);
		s->breq.tried[s->breq.n_tried++] = (uint16_t)s->bidx;
	}
}

/* A CORS preflight: sluice answers it (http_policy.c); the backend never sees it. */
static bool
px_preflight(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	const struct sl_proxy *p = s->gen->p;
	const struct sl_http_head *h = &s->rp.head;
	/* a body (rare in a preflight) is not read past: then the connection closes */
	bool keep = !s->cli_eof && h->version == 11 && sl_http_keep_alive(h) &&
		    h->framing == SL_HTTP_BODY_NONE;
	struct rte_mbuf *m;
	char f[512];
	int k = 0, n;

	if (p->secure != NULL &&
	    (k = sl_http_write_secure(p->secure, s->tls, NULL, NULL, f, sizeof(f))) < 0)
		k = 0;
	n = sl_http_write_preflight(p->cors, s->head, h, s->cors_match, f, (size_t)k, !keep,
				    px->scratch, sizeof(px->scratch));
	if (n < 0) /* the requested headers, echoed, do not fit */
		return px_reply(s, 431, NULL, 0);
	px_log_reply(s, px->scratch, n);
	px_req_finish(s, 204);
	m = px_mbufs(px->w->pool, px->scratch, (uint32_t)n);
	if (m == NULL || px_cli_send(s, m) != 0) {
		rte_pktmbuf_free(m);
		return px_close_client(s, true);
	}
	px_head_put(s);
	if (!keep)
		return px_close_client(s, false);
	s->state = SL_SS_IDLE;
	px_arm(s, px_timeouts(px)->client_keepalive_ms);
	return true;
}

static bool
px_route(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	const struct sl_http_head *h = &s->rp.head;
	struct sl_http_span v;
	struct sl_route_match m;
	const char *host = NULL;
	size_t host_len = 0;

	/* the parser noted whether there is an Accept field: no walk of the head without one */
	s->json = (h->flags & SL_HTTP_F_ACCEPT) && sl_http_header_find(s->head, h, "accept", &v) &&
		  sl_http_accept_json(s->head + v.off, v.len);
	if (h->flags & SL_HTTP_F_HOST) {
		host = s->head + h->host.off;
		host_len = h->host.len;
	}
	if (s->gen->p->n_plain != 0) { /* a TLS service's plain port (px_plain.c) */
		bool ret;

		if (px_plain_acme(s, &ret))
			return ret;
		if (px_plain_match(s, host, host_len, &m))
			goto routed;
	}
	sl_route_match_addr(s->gen->p->routes, s->laddr, s->lport, host, host_len,
			    s->head + h->target.off, h->target.len, s->tls ? SL_ROUTE_F_TLS : 0,
			    &m);
routed:
	if (m.action == SL_ROUTE_NOT_FOUND) {
		s->row = sl_req_row_unrouted(s->gen->stats);
		px_error(s, SL_PROXY_ERR_NO_ROUTE);
		return px_reply(s, 404, NULL, 0);
	}
	s->loc_id = m.loc->id;
	s->loc = &s->gen->p->locs[s->loc_id];
	s->row = sl_req_row_location(s->gen->stats, s->loc_id);
	if (m.action == SL_ROUTE_REDIRECT) {
		int n =
		    sl_route_location_header(&m, px->scratch + 2048, sizeof(px->scratch) - 2048);

		if (n < 0)
			return px_reply(s, 400, NULL, 0);
		/* px_reply writes the page into scratch[0..2048): keep the Location apart. */
		return px_reply(s, m.status, px->scratch + 2048, (size_t)n);
	}
	if (s->gen->p->cors != NULL &&
	    sl_http_cors_request(s->gen->p->cors, s->head, h, &s->cors_match))
		return px_preflight(s);
	/* A WebSocket-style upgrade: a GET naming Upgrade in Connection, with an Upgrade field. */
	s->upgrade = h->method == SL_HTTP_M_GET && h->framing == SL_HTTP_BODY_NONE &&
		     (h->flags & (SL_HTTP_F_UPGRADE | SL_HTTP_F_CONN_UPGRADE)) ==
			 (SL_HTTP_F_UPGRADE | SL_HTTP_F_CONN_UPGRADE);
	memset(&s->breq, 0, sizeof(s->breq));
	s->breq.client_ip = s->client_ip;
	s->attempts = 0;
	sl_retry_budget_deposit(&px->budget);
	int adm = px_admit_request(s); /* rate limit, concurrency limit */

	if (adm > 1)
		return px_reply(s, (unsigned int)adm, NULL, 0);
	return adm == 1 || px_pick_and_connect(s);
}

/*
 * The client's address as text (X-Forwarded-For, X-Real-IP), remembered for the last address
 * asked about: a keep-alive client sends its requests from one address, and many clients often
 * share one (a NAT, a load generator).
 */
static const char *
px_client_ip_text(struct sl_proxy_worker *px, uint32_t ip)
{
	if (px->ip_text[0] == '\0' || px->ip_text_of != ip) {
		px_ip_text(ip, px->ip_text);
		px->ip_text_of = ip;
	}
	return px->ip_text;
}

/* The request head, rewritten for the backend, into srv_out. */
static int
px_write_request_head(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	const struct sl_config_location *loc = s->loc->cfg;
	struct sl_http_fwd fwd = {
	    .client_ip = px_client_ip_text(px, s->client_ip),
	    .proto = s->tls ? "https" : "http",
	    .via = "sluice",
	    .host = loc->backends[s->bidx].target.host,
	    .prefix_from = loc->rewrite[0] ? loc->path : NULL,
	    .prefix_to = loc->rewrite[0] ? loc->rewrite : NULL,
	    .upgrade = s->upgrade,
	};
	int n;

	n = sl_http_write_request_head(s->head, &s->rp.head, &fwd, px->scratch,
				       sizeof(px->scratch));
	if (n < 0)
		return n;
	s->srv_out = px_mbufs(px->w->pool, px->scratch, (uint32_t)n);
	if (s->srv_out == NULL)
		return -ENOBUFS;
	/* The head and the body that follows it leave as full segments (px_exchange uncorks
	 * once the first body piece is queued; the worker flushes at the iteration's end). */
	sl_tcp_cork(s->srv->c, true);
	s->srv_cork = true;
	return 0;
}

/* ---- failures on the backend side: retry, or the right page ---- */

static bool
px_backend_failed(struct px_session *s, enum sl_proxy_error e, unsigned int status)
{
	struct sl_proxy_worker *px = s->px;
	const struct sl_http_head *h = &s->rp.head;
	uint64_t now_us = rte_rdtsc() / px->tsc_per_us;
	bool sent = s->state == SL_SS_EXCHANGE;
	struct sl_retry_attempt a = {
	    .method = s->head != NULL ? s->head + h->method_s.off : "",
	    .method_len = s->head != NULL ? h->method_s.len : 0,
	    .attempts = s->attempts,
	    .request_sent = sent,
	    .response_started = s->resp_started || s->resp_begun || s->resp.len > 0,
	    .body_len =
		h->framing == SL_HTTP_BODY_NONE ? 0 : (h->content_length ? h->content_length : 1),
	    .body_complete = s->req_done,
	    .body_held = 0,
	};

	/* The body leaves only once the connection is up: after a connect failure all of it is
	 * still in the client's input; after sending, what went out is gone. */
	if (!sent || s->body_out == 0)
		a.body_held = a.body_len;
	/* A connection that never came up carried no byte of the request: retrying it costs the
	 * backends nothing, so it takes nothing from the retry budget (which guards against
	 * storms of requests sent again). */
	px_error(s, e);
	px_resil_done(s, true);
	if (s->inflight) {
		sl_bal_live_release(s->loc->live, px->w->id, (unsigned int)s->bidx);
		s->inflight = false;
	}
	px_srv_detach(s, false);
	if (s->cli != NULL && e != SL_PROXY_ERR_BACKEND_TIMEOUT &&
	    sl_retry_decide(&s->gen->p->retry, &a, sent ? &px->budget : NULL, now_us) == SL_RETRY_YES &&
	    s->breq.n_tried < SL_BAL_MAX_TRIED) {
		s->breq.tried[s->breq.n_tried++] = (uint16_t)s->bidx;
		sl_req_inc(s->gen->stats, s->row, retries);
		s->state = SL_SS_CONNECT;
		return px_pick_and_connect(s);
	}
	return px_reply(s, status, NULL, 0);
}

/* ---- the exchange ---- */

/* Feed head bytes of d to parser p, copying them into the head buffer. 1 head done, 0 more
 * needed, -1 error. */
static int
px_parse_head(struct px_session *s, struct px_dir *d, struct sl_http_parser *p)
{
	while (d->parsed < d->len) {
		struct sl_http_result r;
		enum sl_http_event ev;
		uint32_t n;
		const char *piece = dir_piece(d, d->parsed, &n);

		ev = sl_http_parse(p, piece, n, &r);
		if (ev == SL_HTTP_ERROR)
			return -1;
		/* The parser never accepts more than max_head bytes of head: the buffer fits. */
		memcpy(s->head + s->hlen, piece, r.consumed);
		s->hlen += (uint32_t)r.consumed;
		d->parsed += (uint32_t)r.consumed;
		if (ev == SL_HTTP_HEAD)
			return 1;
	}
	return 0;
}

/*
 * Parse body bytes of d (after its head). With `from` (de-chunking a response for an HTTP/1.0
 * client) only the payload spans stay to be forwarded: the chunk framing is cut out of the
 * chain by reference and given back to `from` at once. Returns -1 on a framing error.
 */
static int
px_parse_body(struct px_dir *d, struct sl_http_parser *p, bool *done, bool fresh,
	      struct px_sconn *from)
{
	while (!*done && (d->parsed < d->len || fresh)) {
		struct sl_http_result r;
		enum sl_http_event ev;
		uint32_t n = 0;
		const char *piece = d->parsed < d->len ? dir_piece(d, d->parsed, &n) : "";

		fresh = false;
		ev = sl_http_parse(p, piece, n, &r);
		if (ev == SL_HTTP_ERROR || ev == SL_HTTP_UPGRADE)
			return -1;
		if (from != NULL) {
			uint32_t base = d->parsed, pay = 0, lead = (uint32_t)r.consumed, trail = 0;

			if (ev == SL_HTTP_BODY) {
				lead = (uint32_t)r.data_off;
				pay = (uint32_t)r.data_len;
				trail = (uint32_t)r.consumed - lead - pay;
			}
			d->parsed += (uint32_t)r.consumed;
			/* The parser has moved on: a cut that finds no mbuf cannot wait. */
			if (dir_cut(d, base + lead + pay, trail, sl_tcp_pool(from->c)) != 0 ||
			    dir_cut(d, base, lead, sl_tcp_pool(from->c)) != 0)
				return -1;
			sconn_consumed(from, lead + trail);
			d->fwd += pay;
		} else {
			d->parsed += (uint32_t)r.consumed;
			d->fwd += (uint32_t)r.consumed;
		}
		if (ev == SL_HTTP_DONE)
			*done = true;
		/* A BODY event may end exactly at the message's end: DONE comes from the next
		 * call, even with no byte left. */
		fresh = ev == SL_HTTP_BODY;
	}
	return 0;
}

/* Send our pending bytes, then the forwardable bytes of `from`, to `to`. -1: `to` is gone. */
static int
px_push(struct px_session *s, struct sl_tcp_conn *to, struct rte_mbuf **pending,
	struct px_dir *from, struct sl_tcp_conn *from_conn, uint64_t *count)
{
	if (*pending != NULL) {
		int rc = px_send(s, to, *pending);

		if (rc == -EAGAIN)
			return 0;
		if (rc != 0)
			return -1;
		*pending = NULL;
	}
	if (from->fwd == 0)
		return 0;
	if (px_send_space(s, to) == 0) {
		sl_tcp_want_writable(to);
		return 0;
	}
	uint32_t n = from->fwd;
	struct rte_mbuf *m = dir_take(from, n, sl_tcp_pool(to));

	if (m == NULL)
		return 0; /* no mbuf for the cut: the next event tries again */
	if (px_send(s, to, m) != 0) {
		rte_pktmbuf_free(m);
		return -1;
	}
	if (from_conn != NULL)
		px_consumed(s, from_conn, n);
	if (count != NULL)
		*count += n;
	return 0;
}

/* The response head is in: relay it (1xx) or start the response. 0; else a reply was sent
 * instead: 1 the session lives on, -1 it has ended. */
static int
px_response_head(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;
	const struct sl_http_head *rh = &s->sp.head;
	const struct sl_http_head *qh = &s->rp.head;
	struct sl_http_fwd_resp fr = {.via = "sluice",
				      .secure = s->gen->p->secure,
				      .tls = s->tls,
				      .cors = s->gen->p->cors,
				      .cors_match = s->cors_match};
	uint32_t n_head = s->resp.parsed;
	int n;

	dir_drop(&s->resp, n_head);
	sconn_consumed(s->srv, n_head);
	if (rh->flags & SL_HTTP_F_INTERIM) {
		/* 100 Continue and friends: pass on, the final response follows. */
		fr.close = false;
	} else {
		s->status = rh->status;
		s->err = 0; /* failed attempts before this response were retried */
		s->cli_keep = !s->cli_eof && sl_http_keep_alive(qh) && s->req_done && !px->draining;
		fr.close = !s->cli_keep;
		fr.keep_alive_10 = s->cli_keep && qh->version == 10;
		if (qh->version == 10 && rh->framing == SL_HTTP_BODY_CHUNKED) {
			/* HTTP/1.0 has no chunked coding: the payload alone, ended by our close. */
			s->dechunk = true;
			s->cli_keep = false;
			fr.close = fr.dechunk = true;
			fr.keep_alive_10 = false;
		}
		sl_tcp_timer_cancel(&s->timer);
		sl_bal_observe(s->gen->locs[s->loc_id].bal, (unsigned int)s->bidx,
			       (uint32_t)((rte_rdtsc() - s->t_sent_tsc) / px->tsc_per_us));
	}
	n = sl_http_write_response_head(s->head, rh, &fr, px->scratch, sizeof(px->scratch));
	if (n < 0) {
		px_error(s, SL_PROXY_ERR_BAD_RESPONSE);
		return px_reply(s, 502, NULL, 0) ? 1 : -1;
	}
	struct rte_mbuf *m = px_mbufs(px->w->pool, px->scratch, (uint32_t)n);

	if (m == NULL) {
		px_error(s, SL_PROXY_ERR_NO_MEMORY);
		return px_reply(s, 502, NULL, 0) ? 1 : -1;
	}
	if (s->cli_out != NULL)
		sl_mbuf_chain_cat(s->cli_out, m);
	else
		s->cli_out = m;
	px_log_sent(s, (uint64_t)n, 0);
	s->resp_started = true;
	s->hlen = 0;
	if (rh->flags & SL_HTTP_F_INTERIM) {
		sl_http_parser_next(&s->sp);
		return 0;
	}
	s->resp_head = true;
	if (s->cli != NULL && !s->cli_cork) {
		sl_tcp_cork_hold(s->cli, PX_HEAD_HOLD_US);
		s->cli_cork = true;
	}
	return 0;
}

/* The exchange ended cleanly: account, recycle the backend, next request or close. */
static bool
px_exchange_done(struct px_session *s)
{
	bool srv_keep = s->req_done && s->req.fwd == 0 &&
			s->sp.head.framing != SL_HTTP_BODY_CLOSE &&
			sl_http_keep_alive(&s->sp.head) && s->resp.len == 0 && !s->srv_eof;

	px_req_finish(s, s->status);
	sl_tcp_timer_cancel(&s->timer);
	px_srv_detach(s, srv_keep);
	px_head_put(s);
	if (!s->cli_keep || s->px->draining)
		return px_close_client(s, false);
	s->state = SL_SS_IDLE;
	px_arm(s, px_timeouts(s->px)->client_keepalive_ms);
	return true;
}

/* Runs the exchange as far as the bytes allow. Returns false when the session has ended. */
static bool
px_exchange(struct px_session *s)
{
	struct px_sconn *sc = s->srv;
	int rc;

	/* Request: body bytes towards the backend. */
	if (!s->req_done || s->req.fwd > 0 || s->srv_out != NULL) {
		uint64_t before = s->body_out;

		if (px_parse_body(&s->req, &s->rp, &s->req_done, false, NULL) != 0) {
			px_error(s, SL_PROXY_ERR_BAD_REQUEST);
			return px_reply(s, s->rp.status ? s->rp.status : 400, NULL, 0);
		}
		if (px_push(s, sc->c, &s->srv_out, &s->req, s->cli, &s->body_out) != 0) {
			return px_backend_failed(s, SL_PROXY_ERR_BACKEND_RESET, 502);
		}
		/* backend_response counts from the end of the request: while the body moves, the
		 * clock restarts (a slow upload is not a backend that does not answer). */
		if (s->body_out != before && !s->resp_begun)
			px_arm(s, px_timeouts(s->px)->backend_response_ms);
		if (s->srv_cork && s->srv_out == NULL &&
		    (s->body_out > 0 || (s->req_done && s->req.fwd == 0))) {
			sl_tcp_cork(sc->c, false);
			s->srv_cork = false;
		}
	}
	/* Response: head, then body towards the client. */
	if (s->resp.len > 0 && !s->resp_head) {
		if (!s->resp_begun) {
			/* No retry from here on: the request head may give its buffer up. */
			s->resp_begun = true;
			s->hlen = 0;
		}
		rc = px_parse_head(s, &s->resp, &s->sp);
		if (rc < 0) {
			px_error(s, SL_PROXY_ERR_BAD_RESPONSE);
			return px_reply(s, 502, NULL, 0);
		}
		while (rc == 1) {
			bool interim = s->sp.head.flags & SL_HTTP_F_INTERIM;

			rc = px_response_head(s);
			if (rc != 0)
				return rc > 0;
			if (!interim && s->sp.head.status == 101) {
				/* Switching protocols: from here on both ways are raw bytes. */
				if (!s->upgrade || !s->req_done || s->req.fwd > 0 ||
				    s->srv_out != NULL) {
					px_error(s, SL_PROXY_ERR_BAD_RESPONSE);
					return px_reply(s, 502, NULL, 0);
				}
				px_req_finish(s, 101);
				px_head_put(s);
				s->state = SL_SS_TUNNEL;
				return true;
			}
			if (!interim) {
				if (px_parse_body(&s->resp, &s->sp, &s->resp_done, true,
						  s->dechunk ? sc : NULL) != 0) {
					px_error(s, SL_PROXY_ERR_BAD_RESPONSE);
					return px_reply(s, 502, NULL, 0);
				}
				break;
			}
			rc = px_parse_head(s, &s->resp, &s->sp);
			if (rc < 0) {
				px_error(s, SL_PROXY_ERR_BAD_RESPONSE);
				return px_reply(s, 502, NULL, 0);
			}
		}
	} else if (s->resp_head && !s->resp_done) {
		if (px_parse_body(&s->resp, &s->sp, &s->resp_done, false,
				  s->dechunk ? sc : NULL) != 0) {
			px_error(s, SL_PROXY_ERR_BAD_RESPONSE);
			return px_reply(s, 502, NULL, 0);
		}
	}
	if (s->srv_eof && !s->resp_done && s->resp.parsed == s->resp.len) {
		if (!s->resp_head && s->resp.len == 0 && !s->resp_started) {
			/* Closed before any response byte: a reset in effect; retry if allowed. */
			return px_backend_failed(s, SL_PROXY_ERR_BACKEND_RESET, 502);
		}
		if (s->resp_head && sl_http_parse_eof(&s->sp) == SL_HTTP_DONE) {
			s->resp_done = true;
		} else {
			px_error(s, SL_PROXY_ERR_BACKEND_RESET);
			return px_reply(s, 502, NULL, 0);
		}
	}
	uint64_t resp_out = 0;

	if (px_push(s, s->cli, &s->cli_out, &s->resp, sc->c, &resp_out) != 0) {
		return px_close_client(s, true);
	}
	px_log_sent(s, 0, resp_out);
	if (s->cli_cork && s->resp_head && s->cli_out == NULL &&
	    (resp_out > 0 || (s->resp_done && s->resp.fwd == 0))) {
		sl_tcp_cork(s->cli, false);
		s->cli_cork = false;
	}
	if (s->resp_done && s->resp.fwd == 0 && s->cli_out == NULL) {
		if (!s->req_done || s->req.fwd > 0) {
			/* The backend answered before taking the whole request: neither
			 * connection can carry another message. */
			s->cli_keep = false;
		}
		return px_exchange_done(s);
	}
	return true;
}

/* TUNNEL: relay whatever arrives, pass FINs on, end when both sides are done. */
static void
px_tunnel(struct px_session *s)
{
	struct px_sconn *sc = s->srv;

	s->req.parsed = s->req.fwd = s->req.len;
	s->resp.parsed = s->resp.fwd = s->resp.len;
	if (sc != NULL && px_push(s, sc->c, &s->srv_out, &s->req, s->cli, NULL) != 0) {
		px_close_client(s, true);
		return;
	}
	if (px_push(s, s->cli, &s->cli_out, &s->resp, sc != NULL ? sc->c : NULL, NULL) != 0) {
		px_close_client(s, true);
		return;
	}
	if (s->cli_eof && s->req.len == 0 && !s->srv_shut && sc != NULL) {
		if (unlikely(sc->tls != NULL))
			px_tls_notify(sc->tls); /* the client's close_notify, passed on */
		sl_tcp_shutdown(sc->c);
		s->srv_shut = true;
	}
	if ((s->srv_eof || sc == NULL) && s->resp.len == 0 && s->cli_out == NULL && !s->cli_shut) {
		px_cli_shutdown(s);
		s->cli_shut = true;
	}
	if (s->cli_shut && s->cli_eof && (sc == NULL || (s->srv_shut && s->srv_eof))) {
		if (sc != NULL) {
			s->srv = NULL;
			sconn_close(sc, false);
		}
		px_close_client(s, false);
	}
}

static void
px_run(struct px_session *s)
{
	struct sl_proxy_worker *px = s->px;

	for (;;) {
		switch (s->state) {
		case SL_SS_IDLE:
			/* A reply of ours still waits for send space: answer in order. */
			if (px_flush_client(s) != 0) {
				px_close_client(s, true);
				return;
			}
			if (s->cli_out != NULL)
				return;
			if (s->req.len == 0) {
				if (s->cli_eof)
					px_close_client(s, false);
				return;
			}
			/* A new request runs on the newest snapshot (live reconfiguration). */
			if (s->gen != px->gen) {
				px_gen_put(s->gen);
				s->gen = px->gen;
				px_gen_get(s->gen);
			}
			s->cors_match = SL_HTTP_CORS_NONE;
			if (rte_mempool_get(px->heads, (void **)&s->head) != 0) {
				s->head = NULL;
				s->t0_tsc = rte_rdtsc();
				px_log_begin(s);
				s->row = sl_req_row_unrouted(s->gen->stats);
				px_error(s, SL_PROXY_ERR_NO_MEMORY);
				px_reply(s, 503, NULL, 0);
				return;
			}
			s->hlen = 0;
			s->req.parsed = 0;
			s->req.fwd = 0;
			sl_http_parser_init(&s->rp, SL_HTTP_REQUEST, &s->gen->p->limits,
					    SL_HTTP_M_OTHER);
			s->req_done = s->resp_head = s->resp_done = s->resp_started = false;
			s->resp_begun = s->cli_keep = s->upgrade = s->dechunk = false;
			s->head_ok = false;
			s->srv_eof = false;
			s->status = 0;
			s->retry_after = 0;
			s->body_out = 0;
			s->be_tls_failed = false;
			s->bidx = -1;
			s->t0_tsc = rte_rdtsc();
			px_log_begin(s);
			s->row = sl_req_row_unrouted(s->gen->stats);
			s->state = SL_SS_HEAD;
			px_arm(s, px_timeouts(px)->client_header_ms);
			break;
		case SL_SS_HEAD: {
			int rc = px_parse_head(s, &s->req, &s->rp);

			if (rc != 0)
				px_log_request(s, rc > 0);
			if (rc < 0) {
				px_error(s, px_status_error(s->rp.status));
				px_reply(s, s->rp.status ? s->rp.status : 400, NULL, 0);
				return;
			}
			if (rc == 0) {
				if (s->cli_eof) {
					/* Closed in the middle of a head: nothing to answer. */
					px_close_client(s, false);
				}
				return;
			}
			/* The head is in our buffer: give its bytes back to TCP. */
			uint32_t n = s->req.parsed;

			dir_drop(&s->req, n);
			px_consumed(s, s->cli, n);
			sl_tcp_timer_cancel(&s->timer);
			s->head_ok = true;
			if (!px_route(s))
				return;
			break;
		}
		case SL_SS_CONNECT:
			if (s->srv == NULL || !s->srv->connected)
				return;
			sl_tcp_timer_cancel(&s->timer);
			if (px_write_request_head(s) != 0) {
				px_error(s, SL_PROXY_ERR_NO_MEMORY);
				if (!px_reply(s, 503, NULL, 0))
					return;
				break;
			}
			sl_http_parser_init(&s->sp, SL_HTTP_RESPONSE, &s->gen->p->limits,
					    (enum sl_http_method)s->rp.head.method);
			s->state = SL_SS_EXCHANGE;
			s->t_sent_tsc = rte_rdtsc();
			px_arm(s, px_timeouts(px)->backend_response_ms);
			/* The body starts right after the head. */
			if (px_parse_body(&s->req, &s->rp, &s->req_done, true, NULL) != 0) {
				px_error(s, SL_PROXY_ERR_BAD_REQUEST);
				px_reply(s, s->rp.status ? s->rp.status : 400, NULL, 0);
				return;
			}
			break;
		case SL_SS_EXCHANGE:
			if (!px_exchange(s))
				return;
			if (s->state == SL_SS_EXCHANGE)
				return;
			break;
		case SL_SS_TUNNEL:
			px_tunnel(s);
			return;
		case SL_SS_QUEUED: /* px_admit_pump resumes it */
			return;
		}
	}
}

static void
px_timer_fired(struct sl_timer *t)
{
	struct px_session *s = sl_container_of(t, struct px_session, timer);

	switch (s->state) {
	case SL_SS_IDLE:
		px_close_client(s, false);
		break;
	case SL_SS_HEAD:
		px_error(s, SL_PROXY_ERR_HEADER_TIMEOUT);
		px_reply(s, 408, NULL, 0);
		break;
	case SL_SS_CONNECT:
		/* A retry may have taken a pooled connection that is up already: go on. */
		if (px_backend_failed(s, SL_PROXY_ERR_CONNECT_TIMEOUT, 503))
			px_run(s);
		break;
	case SL_SS_EXCHANGE:
		if (px_backend_failed(s, SL_PROXY_ERR_BACKEND_TIMEOUT, 504))
			px_run(s);
		break;
	case SL_SS_TUNNEL:
	case SL_SS_QUEUED: /* no timer: the tunnel has TCP keepalive, the queue its deadline */
		break;
	}
}

/* ---- admission queue and graceful stop ---- */

/* A generation's waiters on this worker: slots freed (here or elsewhere), deadlines passed. */
void
px_admit_pump(struct sl_timer *t)
{
	struct px_gen *g = sl_container_of(t, struct px_gen, adm_timer);
	struct sl_proxy_worker *px = g->px;
	bool waiting = false;

	for (unsigned int i = 0; g->adm != NULL && i < g->p->cfg->n_services; i++) {
		enum sl_adm_verdict v;
		uint64_t h;

		while ((v = sl_adm_next(&g->adm[i], rte_rdtsc() / px->tsc_per_us, &h)) !=
		       SL_ADM_NONE) {
			struct px_session *s = (struct px_session *)(uintptr_t)h;

			s->adm_wait = false;
			sl_req_dec(g->stats, s->row, queued);
			if (v == SL_ADM_ADMITTED) {
				s->adm_slot = true;
				if (px_pick_and_connect(s))
					px_run(s);
				continue;
			}
			px_error(s, SL_PROXY_ERR_QUEUE_TIMEOUT);
			sl_req_inc(g->stats, s->row, queue_rejected);
			s->retry_after = 1;
			px_reply(s, 503, NULL, 0);
		}
		waiting |= g->adm[i].n_live > 0;
	}
	/* A waiter holds a reference: while anyone waits, g cannot be freed. */
	if (waiting)
		sl_tcp_timer_arm(px->w, &g->adm_timer, 1);
}

void
px_drain(struct sl_proxy_worker *px)
{
	struct px_session *s, *next;

	px->draining = true;
	/* An idle keep-alive connection gets its FIN after PX_DRAIN_IDLE_MS: a client that was
	 * about to send its next request (wrk, a browser) is served, with Connection: close. */
	for (s = px->live; s != NULL; s = next) {
		next = s->next_live;
		if (s->state == SL_SS_IDLE && s->req.len == 0)
			px_arm(s, PX_DRAIN_IDLE_MS);
	}
	/* Idle backend connections (older generations' pools are emptied when retired). */
	for (unsigned int l = 0; l < px->gen->p->n_locations; l++)
		for (unsigned int b = 0; b < px->gen->p->locs[l].n_backends; b++) {
			struct px_sconn *sc;

			while ((sc = pool_get(&px->gen->locs[l].backends[b])) != NULL)
				sconn_close(sc, false);
		}
}

/* ---- client side callbacks ---- */

/* Is (laddr, port) a TLS listener of snapshot p? Its exact address, else the wildcard. */
static bool
px_port_tls(const struct sl_proxy *p, uint32_t laddr, uint16_t port)
{
	int wild = -1;

	for (unsigned int i = 0; i < p->n_ports; i++) {
		if (p->ports[i] != port)
			continue;
		if (p->port_addr[i] == laddr)
			return p->port_tls[i];
		if (p->port_addr[i] == 0)
			wild = (int)i;
	}
	return wild >= 0 && p->port_tls[wild];
}

/* Handshake, decrypt, hand the plaintext to the session as TCP data would be. */
static void
cli_tls_pump(struct px_session *s)
{
	struct px_tls *t = s->tlsc;
	struct rte_mbuf *pt;
	uint32_t n;
	int rc = px_tls_pump(t, &pt, &n);

	if (pt != NULL)
		dir_append(&s->req, pt, n);
	if (rc != 0) {
		/* A failed handshake (its alert is queued) or a record that does not decrypt. */
		px_close_client(s, false);
		return;
	}
	if (t->eof)
		s->cli_eof = true;
	px_run(s);
}

static void
cli_tls_kick(struct sl_timer *tm)
{
	struct px_tls *t = sl_container_of(tm, struct px_tls, kick);

	cli_tls_pump(t->user);
}

static int
cli_accepted(struct sl_tcp_conn *c)
{
	struct sl_proxy_worker *px = sl_tcp_user(c); /* the listener's argument */
	struct px_session *s;
	uint32_t laddr, raddr;
	uint16_t lport, rport;

	struct px_tls *t = NULL;
	int counted;

	sl_tcp_endpoints(c, &laddr, &lport, &raddr, &rport);
	if (px->draining)
		return -ECONNREFUSED;
	counted = px_admit_conn(px, raddr); /* limits.max_connections_per_ip */
	if (counted < 0)
		return counted;
	/* TLS as the newest snapshot says (a reload may turn a listener's services to TLS). */
	if (unlikely(px_port_tls(px->gen->p, laddr, rte_be_to_cpu_16(lport))) &&
	    (px->gen->p->tls == NULL || rte_mempool_get(px->tlss, (void **)&t) != 0))
		goto refuse;
	if (rte_mempool_get(px->sessions, (void **)&s) != 0)
		goto refuse;
	if (t != NULL &&
	    px_tls_open(t, sl_tls_default_ctx(px->gen->p->tls), c, s, &px->tls_stats,
			px->tsc_per_us) != 0) {
		rte_mempool_put(px->sessions, s);
		goto refuse;
	}
	memset(s, 0, sizeof(*s));
	if (t != NULL) {
		s->tlsc = t;
		s->tls = true;
		sl_tcp_timer_init(&t->kick, cli_tls_kick);
	}
	s->px = px;
	s->gen = px->gen;
	px_gen_get(s->gen);
	s->cli = c;
	s->bidx = -1;
	s->cl_counted = counted;
	s->next_live = px->live;
	if (px->live != NULL)
		px->live->pprev_live = &s->next_live;
	px->live = s;
	s->pprev_live = &px->live;
	px->n_sessions++;
	s->client_ip = raddr;
	s->laddr = laddr;
	s->lport = rte_be_to_cpu_16(lport);
	s->client_port = rte_be_to_cpu_16(rport);
	sl_tcp_timer_init(&s->timer, px_timer_fired);
	s->state = SL_SS_IDLE;
	sl_tcp_set_user(c, s);
	/* A connection that sends nothing is as much a slowloris as one that sends slowly
	 * (and a TLS handshake that stalls: the same timer covers it). */
	px_arm(s, px_timeouts(px)->client_header_ms);
	return 0;
refuse:
	if (t != NULL)
		rte_mempool_put(px->tlss, t);
	if (counted)
		px_admit_conn_release(px, raddr);
	return -ENOBUFS;
}

static void
cli_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct px_session *s = sl_tcp_user(c);

	if (unlikely(s->tlsc != NULL)) {
		px_tls_input(s->tlsc, data, len);
		cli_tls_pump(s);
		return;
	}
	dir_append(&s->req, data, len);
	px_run(s);
}

static void
cli_writable(struct sl_tcp_conn *c)
{
	px_run(sl_tcp_user(c));
}

static void
cli_peer_closed(struct sl_tcp_conn *c)
{
	struct px_session *s = sl_tcp_user(c);

	if (unlikely(s->tlsc != NULL)) {
		/* Records still held are read first: EOF once nothing is left (px_tls_pump). */
		s->tlsc->tcp_fin = true;
		cli_tls_pump(s);
		return;
	}
	s->cli_eof = true;
	px_run(s);
}

static void
cli_gone(struct sl_tcp_conn *c)
{
	struct px_session *s = sl_tcp_user(c);

	s->cli = NULL;
	px_end(s);
}

static void
cli_error(struct sl_tcp_conn *c, int err)
{
	(void)err;
	cli_gone(c);
}

const struct sl_tcp_ops sl_px_client_ops = {
    .accepted = cli_accepted,
    .readable = cli_readable,
    .writable = cli_writable,
    .peer_closed = cli_peer_closed,
    .closed = cli_gone,
    .error = cli_error,
};

/* ---- backend side callbacks ---- */

void
px_tls_report_fail(struct sl_proxy_worker *px, const struct sl_proxy *p, struct px_backend *be,
		   const struct px_tls *t, unsigned int gidx)
{
	uint64_t now = rte_rdtsc();
	unsigned int arg;

	/* At most one report per backend and worker per second (the log has its own limit). */
	if (be->tls_evt_tsc != 0 && now - be->tls_evt_tsc < px->tsc_per_us * 1000000u)
		return;
	be->tls_evt_tsc = now;
	if (!t->counted) /* the connection died before OpenSSL gave a verdict */
		arg = 0x80u | SL_TLS_FAIL_EOF;
	else if (t->fail == SL_TLS_FAIL_VERIFY && t->verify_err > 0 && t->verify_err < 0x80)
		arg = (unsigned int)t->verify_err;
	else
		arg = 0x80u | t->fail;
	px_evt_post(px, p, SL_EVT_TLS_FAILED, arg, gidx);
}

/*
 * An https backend's connection could not go on: a failed handshake (a connect failure of that
 * backend: retried elsewhere as one, 502 when none is left; reported to the control plane,
 * which logs it with OpenSSL's reason) or a record that does not decrypt (a reset).
 */
static void
srv_tls_failed(struct px_sconn *sc)
{
	struct px_session *s = sc->s;
	struct sl_proxy_worker *px = sc->px;
	struct px_tls *t = sc->tls;
	bool hs = !t->hs_done;
	bool alive;

	/* 502 when no backend is left, a handshake or a record that failed alike (a TLS 1.3
	 * backend refuses a client certificate after the handshake, in the client's view). */
	s->be_tls_failed = true;
	if (hs && s->bidx >= 0)
		px_tls_report_fail(px, s->gen->p, sc->be, t,
				   s->loc->backend_base + (unsigned int)s->bidx);
	if (s->state == SL_SS_TUNNEL) {
		s->srv = NULL;
		sconn_close(sc, true);
		px_tunnel(s);
		return;
	}
	alive = px_backend_failed(s,
				  hs ? SL_PROXY_ERR_CONNECT_FAILURE : SL_PROXY_ERR_BACKEND_RESET,
				  502);
	if (alive)
		px_run(s);
}

/* Handshake, decrypt, hand the plaintext to the session as TCP data would be. */
static void
srv_tls_pump(struct px_sconn *sc)
{
	struct px_tls *t = sc->tls;
	struct px_session *s = sc->s;
	struct rte_mbuf *pt;
	uint32_t n;
	int rc = px_tls_pump(t, &pt, &n);

	if (s == NULL) {
		/* Idle in the pool: a TLS 1.3 ticket is read (and kept); data, close_notify or
		 * a failure ends it. */
		if (pt != NULL) {
			rte_pktmbuf_free(pt);
			rc = -1;
		}
		if (rc != 0 || t->eof)
			sconn_close(sc, rc != 0);
		return;
	}
	if (pt != NULL)
		dir_append(&s->resp, pt, n);
	if (rc != 0) {
		srv_tls_failed(sc);
		return;
	}
	if (t->eof)
		s->srv_eof = true;
	if (!sc->connected) {
		if (!t->hs_done)
			return;
		sc->connected = true;
	}
	px_run(s);
}

static void
srv_tls_kick(struct sl_timer *tm)
{
	struct px_tls *t = sl_container_of(tm, struct px_tls, kick);

	srv_tls_pump(t->user);
}

static void
srv_connected(struct sl_tcp_conn *c)
{
	struct px_sconn *sc = sl_tcp_user(c);

	if (unlikely(sc->tls != NULL)) {
		srv_tls_pump(sc); /* our ClientHello; connected once the handshake is done */
		return;
	}
	sc->connected = true;
	if (sc->s != NULL)
		px_run(sc->s);
}

static void
srv_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct px_sconn *sc = sl_tcp_user(c);
	struct px_session *s = sc->s;

	if (unlikely(sc->tls != NULL)) {
		px_tls_input(sc->tls, data, len);
		srv_tls_pump(sc);
		return;
	}
	if (s == NULL) {
		/* Bytes on an idle connection answer nothing: it cannot be trusted again. */
		rte_pktmbuf_free(data);
		sl_tcp_consumed(c, len);
		sconn_close(sc, true);
		return;
	}
	dir_append(&s->resp, data, len);
	px_run(s);
}

static void
srv_writable(struct sl_tcp_conn *c)
{
	struct px_sconn *sc = sl_tcp_user(c);

	if (sc->s != NULL)
		px_run(sc->s);
}

static void
srv_peer_closed(struct sl_tcp_conn *c)
{
	struct px_sconn *sc = sl_tcp_user(c);

	if (unlikely(sc->tls != NULL)) {
		/* Records still held are read first: EOF once nothing is left (px_tls_pump). */
		sc->tls->tcp_fin = true;
		srv_tls_pump(sc);
		return;
	}
	if (sc->s == NULL) {
		sconn_close(sc, false);
		return;
	}
	sc->s->srv_eof = true;
	px_run(sc->s);
}

static void
srv_error(struct sl_tcp_conn *c, int err)
{
	struct px_sconn *sc = sl_tcp_user(c);
	struct px_session *s = sc->s;

	/* The handle dies with this callback: detach it before anything may touch it. */
	if (s != NULL) {
		s->srv = NULL;
		/* A tunnel still owes the client what the backend sent before it went. */
		if (s->state != SL_SS_TUNNEL)
			dir_free(&s->resp);
		rte_pktmbuf_free(s->srv_out);
		s->srv_out = NULL;
	}
	sconn_release(sc);
	if (s == NULL)
		return;
	bool alive = true;

	if (s->state == SL_SS_CONNECT)
		alive = px_backend_failed(s,
					  err == -ETIMEDOUT ? SL_PROXY_ERR_CONNECT_TIMEOUT
							    : SL_PROXY_ERR_CONNECT_FAILURE,
					  503);
	else if (s->state == SL_SS_EXCHANGE)
		alive = px_backend_failed(s, SL_PROXY_ERR_BACKEND_RESET, 502);
	else if (s->state == SL_SS_TUNNEL) {
		/* Closed both ways (closed) or died (error): flush what it sent, then end. */
		px_tunnel(s);
		return;
	}
	/* A retry may have taken a pooled connection that is up already: go on with it; after
	 * a reply that kept the client, a pipelined request may be waiting. */
	if (alive)
		px_run(s);
}

static void
srv_closed(struct sl_tcp_conn *c)
{
	srv_error(c, -ECONNRESET);
}

static const struct sl_tcp_ops srv_ops = {
    .connected = srv_connected,
    .readable = srv_readable,
    .writable = srv_writable,
    .peer_closed = srv_peer_closed,
    .closed = srv_closed,
    .error = srv_error,
};

void
sl__px_gen_retire(struct sl_proxy_worker *px, struct px_gen *g)
{
	(void)px;
	g->retired = true;
	/* Its idle keep-alive connections serve no new request: close them. Connections in use
	 * close when their request ends (pool_put). */
	for (unsigned int l = 0; l < g->p->n_locations; l++) {
		for (unsigned int b = 0; b < g->p->locs[l].n_backends; b++) {
			struct px_backend *be = &g->locs[l].backends[b];
			struct px_sconn *sc;

			while ((sc = be->idle) != NULL)
				sconn_close(sc, false);
		}
	}
	if (g->refs == 0) {
		sl_tcp_timer_cancel(&g->adm_timer);
		__atomic_store_n(&g->done, true, __ATOMIC_RELEASE);
	}
}
