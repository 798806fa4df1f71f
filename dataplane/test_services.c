/* SPDX-License-Identifier: MIT */
/*
 * echo, discard, chargen and answer on the userspace stack. Each keeps its state in
 * the connection's user pointer (no allocation): echo the chain it could not
 * send yet, chargen its position in the stream.
 */
#include <errno.h>
#include <stdint.h>

#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/net/tcp/tcp.h"
#include "test_services.h"
#include "worker.h"

/* ---- discard: read and drop ---- */

static int
discard_accepted(struct sl_tcp_conn *c)
{
	sl_tcp_set_user(c, NULL);
	return 0;
}

static void
discard_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	rte_pktmbuf_free(data);
	sl_tcp_consumed(c, len);
}

static void
close_on_peer_close(struct sl_tcp_conn *c)
{
	sl_tcp_close(c);
}

static void
ignore_error(struct sl_tcp_conn *c, int err)
{
}

static const struct sl_tcp_ops discard_ops = {
	.accepted = discard_accepted,
	.readable = discard_readable,
	.peer_closed = close_on_peer_close,
	.error = ignore_error,
};

/* ---- echo: send back every byte; a slow reader slows the writer down ---- */

static void
echo_flush(struct sl_tcp_conn *c)
{
	struct rte_mbuf *pending = sl_tcp_user(c);
	uint32_t len;

	if (pending == NULL)
		return;
	len = rte_pktmbuf_pkt_len(pending);
	if (sl_tcp_send(c, pending) != 0)
		return; /* -EAGAIN: writable will call again */
	sl_tcp_set_user(c, NULL);
	/* Only now may the peer send more: the window reopens as we pass data on. */
	sl_tcp_consumed(c, len);
}

static void
echo_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct rte_mbuf *pending = sl_tcp_user(c);

	if (pending != NULL) {
		if (rte_pktmbuf_chain(pending, data) != 0) {
			rte_pktmbuf_free(data);
			sl_tcp_abort(c);
			return;
		}
	} else {
		sl_tcp_set_user(c, data);
	}
	echo_flush(c);
}

static void
echo_writable(struct sl_tcp_conn *c)
{
	echo_flush(c);
	if (sl_tcp_user(c) == NULL && sl_tcp_peer_done(c))
		sl_tcp_close(c);
}

static void
echo_peer_closed(struct sl_tcp_conn *c)
{
	if (sl_tcp_user(c) == NULL)
		sl_tcp_close(c); /* else after the last bytes go out, in echo_writable */
}

static void
echo_error(struct sl_tcp_conn *c, int err)
{
	rte_pktmbuf_free(sl_tcp_user(c));
}

static const struct sl_tcp_ops echo_ops = {
	.accepted = discard_accepted,
	.readable = echo_readable,
	.writable = echo_writable,
	.peer_closed = echo_peer_closed,
	.error = echo_error,
};

/* ---- chargen: an endless pattern until the peer closes ---- */

static void
chargen_fill(struct sl_tcp_conn *c)
{
	struct rte_mempool *pool = sl_tcp_pool(c);
	uint64_t pos = (uintptr_t)sl_tcp_user(c);

	while (sl_tcp_send_space(c) > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint16_t n;
		char *p;

		if (m == NULL)
			return; /* pool exhausted: the next ACK tries again */
		n = rte_pktmbuf_tailroom(m);
		p = rte_pktmbuf_append(m, n);
		/* Walk the lines instead of dividing for every byte (sl_chargen_byte). */
		uint64_t line = pos / 74;
		unsigned int col = (unsigned int)(pos % 74);
		unsigned int v = (unsigned int)((line + col) % 95);
		for (uint16_t i = 0; i < n; i++) {
			if (col < 72) {
				p[i] = (char)(' ' + v);
				v = v == 94 ? 0 : v + 1;
			} else {
				p[i] = col == 72 ? '\r' : '\n';
			}
			if (++col == 74) {
				col = 0;
				line++;
				v = (unsigned int)(line % 95);
			}
		}
		if (sl_tcp_send(c, m) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		pos += n;
		sl_tcp_set_user(c, (void *)(uintptr_t)pos);
	}
	sl_tcp_want_writable(c);
}

static int
chargen_accepted(struct sl_tcp_conn *c)
{
	sl_tcp_set_user(c, (void *)(uintptr_t)0);
	chargen_fill(c);
	return 0;
}

static void
chargen_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	rte_pktmbuf_free(data); /* RFC 864: what the client sends is ignored */
	sl_tcp_consumed(c, len);
}

static const struct sl_tcp_ops chargen_ops = {
	.accepted = chargen_accepted,
	.readable = chargen_readable,
	.writable = chargen_fill,
	.peer_closed = close_on_peer_close,
	.error = ignore_error,
};

/*
 * ---- answer: a response, then a lingering close with the request unread ----
 * What the proxy does with a request it refuses before its body ended (413,
 * 400): the whole answer must reach the client, never a reset that makes its
 * kernel drop what it received (with sl_tcp_close, test_tcp_api.sh saw 14 KB
 * of 100 KB arrive, then ECONNRESET). The answer is sent corked in mbufs of
 * the pool's size, so it leaves as full segments.
 */

#define ANSWER_BYTES 100000u

static void
answer_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct rte_mempool *pool = sl_tcp_pool(c);
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t pos = 0;

	(void)len;
	rte_pktmbuf_free(data); /* not consumed: the request is left unread */
	while (pos < ANSWER_BYTES) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint16_t n;
		uint8_t *p;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			sl_tcp_abort(c);
			return;
		}
		n = (uint16_t)RTE_MIN((uint32_t)rte_pktmbuf_tailroom(m), ANSWER_BYTES - pos);
		p = (uint8_t *)rte_pktmbuf_append(m, n);
		for (uint16_t i = 0; i < n; i++)
			p[i] = (uint8_t)((pos + i) % 251);
		pos += n;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
	}
	sl_tcp_cork(c, true);
	if (sl_tcp_send(c, head) != 0) {
		rte_pktmbuf_free(head);
		sl_tcp_abort(c);
		return;
	}
	sl_tcp_close_linger(c, 5000);
}

static const struct sl_tcp_ops answer_ops = {
	.readable = answer_readable,
	.peer_closed = close_on_peer_close,
	.error = ignore_error,
};

static int forward_start(struct sl_worker *w, const struct sl_config_forward *cfg, uint32_t pairs);

int
sl_test_services_start(struct sl_worker *w, const struct sl_config_test_services *cfg,
		       uint32_t max_connections)
{
	int rc = 0;

	if (cfg->echo != 0)
		rc = sl_tcp_listen(w, cfg->echo, &echo_ops, NULL);
	if (rc == 0 && cfg->discard != 0)
		rc = sl_tcp_listen(w, cfg->discard, &discard_ops, NULL);
	if (rc == 0 && cfg->chargen != 0)
		rc = sl_tcp_listen(w, cfg->chargen, &chargen_ops, NULL);
	if (rc == 0 && cfg->answer != 0)
		rc = sl_tcp_listen(w, cfg->answer, &answer_ops, NULL);
	if (rc == 0 && cfg->forward.port != 0)
		rc = forward_start(w, &cfg->forward, RTE_MAX(max_connections / 2, 1u));
	return rc;
}

/*
 * ---- forward: splice each accepted connection to a new one towards a fixed
 * target (active open). Data moves between the two by reference; a full send
 * buffer on one side stops the other side's window from reopening.
 */

struct fwd_pair {
	struct sl_tcp_conn *conn[2];   /* [0] accepted, [1] opened by us */
	struct rte_mbuf *pending[2];   /* read from conn[i], waiting to go to the other */
	uint32_t pending_len[2];
	bool eof[2];                   /* conn[i] sent FIN */
	bool gone[2];                  /* conn[i] handle released */
};

/* Per worker, reached through the listener's argument and w->services. */
struct fwd_service {
	struct sl_config_forward cfg;
	struct rte_mempool *pairs;
};

static int
fwd_side(const struct fwd_pair *p, const struct sl_tcp_conn *c)
{
	return p->conn[1] == c;
}

static void
fwd_release(struct fwd_pair *p, struct sl_tcp_conn *c)
{
	int i = fwd_side(p, c);

	p->gone[i] = true;
	p->conn[i] = NULL;
	rte_pktmbuf_free(p->pending[i]);
	p->pending[i] = NULL;
	if (p->gone[0] && p->gone[1])
		rte_mempool_put(rte_mempool_from_obj(p), p);
}

/* Push what side i read towards the other side; pass its FIN on once all is sent. */
static void
fwd_push(struct fwd_pair *p, int i)
{
	struct sl_tcp_conn *to = p->conn[!i];

	if (to == NULL)
		return;
	if (p->pending[i] != NULL) {
		if (sl_tcp_send(to, p->pending[i]) != 0)
			return;
		p->pending[i] = NULL;
		if (p->conn[i] != NULL)
			sl_tcp_consumed(p->conn[i], p->pending_len[i]);
		p->pending_len[i] = 0;
	}
	if (p->eof[i])
		sl_tcp_shutdown(to);
}

static void
fwd_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct fwd_pair *p = sl_tcp_user(c);
	int i = fwd_side(p, c);

	if (p->pending[i] != NULL) {
		if (rte_pktmbuf_chain(p->pending[i], data) != 0) {
			rte_pktmbuf_free(data);
			sl_tcp_abort(c);
			return;
		}
	} else {
		p->pending[i] = data;
	}
	p->pending_len[i] += len;
	fwd_push(p, i);
}

static void
fwd_writable(struct sl_tcp_conn *c)
{
	struct fwd_pair *p = sl_tcp_user(c);

	fwd_push(p, !fwd_side(p, c));
}

static void
fwd_peer_closed(struct sl_tcp_conn *c)
{
	struct fwd_pair *p = sl_tcp_user(c);
	int i = fwd_side(p, c);

	p->eof[i] = true;
	fwd_push(p, i);
}

static void
fwd_closed(struct sl_tcp_conn *c)
{
	fwd_release(sl_tcp_user(c), c);
}

static void
fwd_error(struct sl_tcp_conn *c, int err)
{
	struct fwd_pair *p = sl_tcp_user(c);
	struct sl_tcp_conn *other = p->conn[!fwd_side(p, c)];

	fwd_release(p, c);
	if (other != NULL) {
		fwd_release(p, other);
		sl_tcp_abort(other);
	}
}

static const struct sl_tcp_ops fwd_out_ops = {
	.readable = fwd_readable,
	.writable = fwd_writable,
	.peer_closed = fwd_peer_closed,
	.closed = fwd_closed,
	.error = fwd_error,
};

static int
fwd_accepted(struct sl_tcp_conn *c)
{
	struct fwd_service *svc = sl_tcp_user(c); /* the listener's argument */
	struct fwd_pair *p;
	int err;

	if (rte_mempool_get(svc->pairs, (void **)&p) != 0)
		return -ENOBUFS;
	memset(p, 0, sizeof(*p));
	p->conn[0] = c;
	sl_tcp_set_user(c, p);
	p->conn[1] = sl_tcp_connect(sl_tcp_worker_of(c), sl_tcp_port_index(c), svc->cfg.to_ip,
				    rte_cpu_to_be_16(svc->cfg.to_port), &fwd_out_ops, p, &err);
	if (p->conn[1] == NULL) {
		rte_mempool_put(svc->pairs, p);
		return err;
	}
	return 0;
}

static const struct sl_tcp_ops fwd_in_ops = {
	.accepted = fwd_accepted,
	.readable = fwd_readable,
	.writable = fwd_writable,
	.peer_closed = fwd_peer_closed,
	.closed = fwd_closed,
	.error = fwd_error,
};

static int
forward_start(struct sl_worker *w, const struct sl_config_forward *cfg, uint32_t pairs)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct fwd_service *svc;

	svc = rte_zmalloc_socket("sl_fwd", sizeof(*svc), 0, (int)rte_lcore_to_socket_id(w->lcore));
	if (svc == NULL)
		return -ENOMEM;
	w->services = svc;
	svc->cfg = *cfg;
	snprintf(name, sizeof(name), "sl_fwd_%u", w->id);
	svc->pairs = rte_mempool_create(name, pairs, sizeof(struct fwd_pair), 0, 0, NULL, NULL,
					NULL, NULL, (int)rte_lcore_to_socket_id(w->lcore),
					RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (svc->pairs == NULL)
		return -ENOMEM;
	return sl_tcp_listen(w, cfg->port, &fwd_in_ops, svc);
}

void
sl_test_services_stop(struct sl_worker *w)
{
	struct fwd_service *svc = w->services;

	if (svc == NULL)
		return;
	rte_mempool_free(svc->pairs);
	rte_free(svc);
	w->services = NULL;
}
