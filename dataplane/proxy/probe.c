/* SPDX-License-Identifier: MIT */
/*
 * Active health checks, sent by the workers themselves (on a NIC-bound host the backends are
 * reachable only through the NIC; a probe leaves from the port whose subnet holds the backend,
 * else from the first with a gateway). Backend g is probed by worker sl_probe_owner(g, n): one
 * probe at a time per backend, a TCP connect or an HTTP GET of health_check.path whose status
 * line is read and the connection reset. Each result goes to the control plane on the event
 * ring (SL_EVT_PROBE); the control plane applies the thresholds (lib/resilience health.c).
 * The first probes go out at the worker's first tick, spread over 100 ms; the next ones
 * interval +- 10% later (sl_probe_next). Probe state is allocated at start; nothing here
 * allocates afterwards but the request's mbuf.
 *
 * An https backend is probed over TLS (px_tls.c, the location's client context): the
 * handshake verifies its certificate as a request's would, a failed one is
 * SL_PROBE_TLS_FAILED (and logged with OpenSSL's reason), a `tcp` check passes once the
 * handshake is done, an `http` one sends its GET in a record.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/net/tcp/tcp.h"
#include "dataplane/worker.h"
#include "proxy_private.h"

enum { PROBE_IDLE, PROBE_CONNECTING, PROBE_HANDSHAKE, PROBE_WAITING };


#define PROBE_FIRST_SPREAD_US 100000u

static const struct sl_tcp_ops probe_ops;

static void
probe_schedule(struct px_probe *pr, uint64_t after_us)
{
	sl_tcp_timer_arm(pr->px->w, &pr->timer, (after_us + 999) / 1000);
}

static void
probe_tls_free(struct px_probe *pr)
{
	if (pr->tls == NULL)
		return;
	px_tls_close(pr->tls);
	rte_mempool_put(pr->px->tlss, pr->tls);
	pr->tls = NULL;
}

/* The probe ended with r: drop its connection, report, schedule the next. */
static void
probe_finish(struct px_probe *pr, enum sl_probe_result r)
{
	struct sl_proxy_worker *px = pr->px;
	uint64_t now = sl_tcp_clock_us(px->w);

	if (pr->tls != NULL && r == SL_PROBE_TLS_FAILED)
		px_tls_report_fail(px, pr->g->p, &pr->g->locs[pr->loc].backends[pr->idx], pr->tls,
				   pr->gidx);
	probe_tls_free(pr);
	if (pr->c != NULL) {
		struct sl_tcp_conn *c = pr->c;

		pr->c = NULL;
		sl_tcp_set_user(c, NULL);
		sl_tcp_abort(c);
	}
	pr->phase = PROBE_IDLE;
	px_evt_post(px, pr->g->p, SL_EVT_PROBE, r, pr->gidx);
	probe_schedule(pr, sl_probe_next(&px->sched, now, (uint64_t)pr->hc->interval_ms * 1000) -
			       now);
}

static void
probe_start(struct px_probe *pr)
{
	struct sl_proxy_worker *px = pr->px;
	const struct px_location *pl = &pr->g->p->locs[pr->loc];
	struct sl_tcp_connect_opts o = {.port_index = pr->port,
					.connect_timeout_ms = pr->hc->timeout_ms};
	int err = 0;

	pr->got = 0;
	pr->c = sl_tcp_connect_opts(px->w, pl->ip[pr->idx], pl->port[pr->idx], &o, &probe_ops, pr,
				    &err);
	if (pr->c == NULL) {
		/* No local resource (connection table, mbufs) says nothing about the backend:
		 * try again at the next interval without a verdict. */
		uint64_t now = sl_tcp_clock_us(px->w);

		if (err == -EMFILE || err == -ENOBUFS) {
			probe_schedule(pr, sl_probe_next(&px->sched, now,
							 (uint64_t)pr->hc->interval_ms * 1000) -
					       now);
			return;
		}
		probe_finish(pr, SL_PROBE_CONNECT_FAILED);
		return;
	}
	if (pl->be_ctx != NULL && pr->be->target.https &&
	    px_be_tls_open(px, pl, pr->idx, &pr->g->locs[pr->loc].backends[pr->idx], pr->c, pr,
			   &pr->tls) != 0) {
		uint64_t now = sl_tcp_clock_us(px->w);

		pr->tls = NULL;
		sl_tcp_set_user(pr->c, NULL);
		sl_tcp_abort(pr->c);
		pr->c = NULL;
		probe_schedule(pr, sl_probe_next(&px->sched, now, (uint64_t)pr->hc->interval_ms * 1000) -
				       now);
		return;
	}
	pr->phase = PROBE_CONNECTING;
	sl_tcp_timer_arm(px->w, &pr->timer, pr->hc->timeout_ms);
}

static void
probe_timer(struct sl_timer *t)
{
	struct px_probe *pr = sl_container_of(t, struct px_probe, timer);

	if (pr->phase == PROBE_IDLE)
		probe_start(pr);
	else
		probe_finish(pr, SL_PROBE_TIMEOUT);
}

static struct px_probe *
probe_of(struct sl_tcp_conn *c)
{
	struct px_probe *pr = sl_tcp_user(c);

	return pr != NULL && pr->c == c ? pr : NULL;
}

static void probe_tls_pump(struct px_probe *pr);

/* TCP is up (and for https the handshake done): a tcp check passes, an http one asks. */
static void
probe_ask(struct px_probe *pr)
{
	struct sl_tcp_conn *c = pr->c;
	struct rte_mbuf *m;
	char *p;
	int n;

	if (pr->hc->type == SL_CONFIG_HC_TCP)
		return probe_finish(pr, SL_PROBE_PASS);
	m = rte_pktmbuf_alloc(sl_tcp_pool(c));
	if (m == NULL)
		return probe_finish(pr, SL_PROBE_BAD_RESPONSE);
	p = rte_pktmbuf_mtod(m, char *);
	n = snprintf(p, rte_pktmbuf_tailroom(m),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sluice-health\r\n"
		     "Connection: close\r\n\r\n",
		     pr->hc->path, pr->be->target.host);
	if (n < 0 || (unsigned int)n >= rte_pktmbuf_tailroom(m) ||
	    rte_pktmbuf_append(m, (uint16_t)n) == NULL ||
	    (pr->tls != NULL ? px_tls_send(pr->tls, m) : sl_tcp_send(c, m)) != 0) {
		/* A path too long for one mbuf is refused by the config (PATH_MAX < mbuf). */
		rte_pktmbuf_free(m);
		return probe_finish(pr, SL_PROBE_BAD_RESPONSE);
	}
	pr->phase = PROBE_WAITING;
}

static void
probe_connected(struct sl_tcp_conn *c)
{
	struct px_probe *pr = probe_of(c);

	if (pr == NULL)
		return;
	if (pr->tls != NULL) {
		pr->phase = PROBE_HANDSHAKE;
		probe_tls_pump(pr); /* our ClientHello */
		return;
	}
	probe_ask(pr);
}

/* "HTTP/1.x SSS": the status, or -1 when these bytes are not a status line. */
static int
probe_status(const char *l)
{
	if (memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (l[i] < '0' || l[i] > '9')
			return -1;
	return (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
}

/* Status-line bytes of the response (data: freed). Returns true when the probe is over. */
static bool
probe_take(struct px_probe *pr, struct rte_mbuf *data)
{
	int st;

	for (struct rte_mbuf *m = data; m != NULL && pr->got < 12; m = m->next) {
		uint32_t k = RTE_MIN((uint32_t)m->data_len, 12u - pr->got);

		memcpy(pr->line + pr->got, rte_pktmbuf_mtod(m, char *), k);
		pr->got += (uint8_t)k;
	}
	rte_pktmbuf_free(data);
	if (pr->got < 12)
		return false;
	st = probe_status(pr->line);
	if (st < 0)
		probe_finish(pr, SL_PROBE_BAD_RESPONSE);
	else
		probe_finish(pr, st >= pr->hc->status_min && st <= pr->hc->status_max
				     ? SL_PROBE_PASS
				     : SL_PROBE_BAD_STATUS);
	return true;
}

/* Handshake, then the response's plaintext; the probe ends on a failure or its answer. */
static void
probe_tls_pump(struct px_probe *pr)
{
	struct px_tls *t = pr->tls;
	struct rte_mbuf *pt;
	uint32_t n;
	int rc = px_tls_pump(t, &pt, &n);

	if (pt != NULL) {
		px_tls_consumed(t, n);
		if (pr->phase != PROBE_WAITING) {
			rte_pktmbuf_free(pt); /* data before our request: not a status line */
			return probe_finish(pr, SL_PROBE_BAD_RESPONSE);
		}
		if (probe_take(pr, pt))
			return;
	}
	if (rc != 0)
		return probe_finish(pr, t->hs_done ? SL_PROBE_BAD_RESPONSE : SL_PROBE_TLS_FAILED);
	if (pr->phase == PROBE_HANDSHAKE && t->hs_done)
		return probe_ask(pr);
	if (t->eof)
		probe_finish(pr, SL_PROBE_BAD_RESPONSE);
}

static void
probe_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct px_probe *pr = probe_of(c);

	if (pr != NULL && pr->tls != NULL) {
		px_tls_input(pr->tls, data, len);
		probe_tls_pump(pr);
		return;
	}
	if (pr == NULL || pr->phase != PROBE_WAITING) {
		rte_pktmbuf_free(data);
		sl_tcp_consumed(c, len);
		return;
	}
	sl_tcp_consumed(c, len);
	probe_take(pr, data);
}

static void
probe_peer_closed(struct sl_tcp_conn *c)
{
	struct px_probe *pr = probe_of(c);

	if (pr != NULL && pr->tls != NULL) {
		pr->tls->tcp_fin = true;
		probe_tls_pump(pr); /* what came before the FIN first */
		if (pr->c == c)	    /* still running: the answer is incomplete */
			probe_finish(pr, pr->tls != NULL && !pr->tls->hs_done
					     ? SL_PROBE_TLS_FAILED
					     : SL_PROBE_BAD_RESPONSE);
		return;
	}
	if (pr != NULL)
		probe_finish(pr, SL_PROBE_BAD_RESPONSE);
}

/* The handle is gone: forget it first, then judge. */
static void
probe_gone(struct sl_tcp_conn *c, int err)
{
	struct px_probe *pr = probe_of(c);
	enum sl_probe_result r;

	if (pr == NULL)
		return;
	pr->c = NULL;
	if (pr->phase == PROBE_CONNECTING)
		r = err == -ETIMEDOUT ? SL_PROBE_TIMEOUT : SL_PROBE_CONNECT_FAILED;
	else if (pr->phase == PROBE_HANDSHAKE)
		r = SL_PROBE_TLS_FAILED;
	else
		r = SL_PROBE_BAD_RESPONSE;
	probe_finish(pr, r);
}

static void
probe_error(struct sl_tcp_conn *c, int err)
{
	probe_gone(c, err);
}

static void
probe_closed(struct sl_tcp_conn *c)
{
	probe_gone(c, 0);
}

static const struct sl_tcp_ops probe_ops = {
    .connected = probe_connected,
    .readable = probe_readable,
    .peer_closed = probe_peer_closed,
    .closed = probe_closed,
    .error = probe_error,
};

/* The port whose subnet holds ip, else the first with a gateway, else the first. */
static unsigned int
probe_port(const struct sl_worker *w, uint32_t ip)
{
	for (unsigned int i = 0; i < w->n_netif; i++)
		if (w->netif[i] != NULL && ((ip ^ w->netif[i]->ip) & w->netif[i]->mask) == 0)
			return i;
	for (unsigned int i = 0; i < w->n_netif; i++)
		if (w->netif[i] != NULL && w->netif[i]->gateway != 0)
			return i;
	return 0;
}

int
px_probes_create(struct px_gen *g, unsigned int worker, int socket)
{
	const struct sl_proxy *p = g->p;
	unsigned int n = 0, k = 0;

	for (unsigned int b = 0; b < p->n_backends; b++) {
		const struct sl_resil_backend *rb = &p->resil->b[b];

		if (sl_probe_owner(b, p->n_workers) == worker &&
		    p->locs[rb->loc].cfg->backends[rb->idx].health_check.enabled)
			n++;
	}
	if (n == 0)
		return 0;
	g->probes = rte_zmalloc_socket("sl_px_probe", sizeof(*g->probes) * n, RTE_CACHE_LINE_SIZE,
				       socket);
	if (g->probes == NULL)
		return -ENOMEM;
	for (unsigned int b = 0; b < p->n_backends; b++) {
		const struct sl_resil_backend *rb = &p->resil->b[b];
		const struct sl_config_backend *be = &p->locs[rb->loc].cfg->backends[rb->idx];
		struct px_probe *pr;

		if (sl_probe_owner(b, p->n_workers) != worker || !be->health_check.enabled)
			continue;
		pr = &g->probes[k++];
		pr->g = g;
		pr->hc = &be->health_check;
		pr->be = be;
		pr->loc = rb->loc;
		pr->idx = rb->idx;
		pr->gidx = b;
		sl_tcp_timer_init(&pr->timer, probe_timer);
	}
	g->n_probes = k;
	return 0;
}

void
px_probes_start(struct sl_proxy_worker *px, struct px_gen *g)
{
	uint64_t now = sl_tcp_clock_us(px->w);

	if (g->probing)
		return;
	g->probing = true;
	/* Configured backends are probed at once (DESIGN.md), spread over a few ticks. */
	for (unsigned int i = 0; i < g->n_probes; i++) {
		struct px_probe *pr = &g->probes[i];

		pr->px = px;
		pr->port = (uint8_t)probe_port(px->w, g->p->locs[pr->loc].ip[pr->idx]);
		probe_schedule(pr, sl_probe_first(&px->sched, now, PROBE_FIRST_SPREAD_US) - now);
	}
}

void
px_probes_stop(struct px_gen *g, bool abort)
{
	if (!g->probing)
		return;
	g->probing = false;
	for (unsigned int i = 0; i < g->n_probes; i++) {
		struct px_probe *pr = &g->probes[i];

		sl_tcp_timer_cancel(&pr->timer);
		probe_tls_free(pr);
		if (pr->c != NULL) {
			struct sl_tcp_conn *c = pr->c;

			pr->c = NULL;
			sl_tcp_set_user(c, NULL);
			if (abort) /* else the stack frees it with the worker */
				sl_tcp_abort(c);
		}
		pr->phase = PROBE_IDLE;
	}
}

void
px_probes_free(struct px_gen *g)
{
	rte_free(g->probes);
	g->probes = NULL;
	g->n_probes = 0;
}
