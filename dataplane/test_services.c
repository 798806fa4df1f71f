/* SPDX-License-Identifier: MIT */
/*
 * echo, discard and chargen on the userspace stack. Each keeps its state in
 * the connection's user pointer (no allocation): echo the chain it could not
 * send yet, chargen its position in the stream.
 */
#include <errno.h>
#include <stdint.h>

#include <rte_mbuf.h>

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
		for (uint16_t i = 0; i < n; i++)
			p[i] = sl_chargen_byte(pos + i);
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

int
sl_test_services_start(struct sl_worker *w, const struct sl_config_test_services *cfg)
{
	int rc = 0;

	if (cfg->echo != 0)
		rc = sl_tcp_listen(w, cfg->echo, &echo_ops, NULL);
	if (rc == 0 && cfg->discard != 0)
		rc = sl_tcp_listen(w, cfg->discard, &discard_ops, NULL);
	if (rc == 0 && cfg->chargen != 0)
		rc = sl_tcp_listen(w, cfg->chargen, &chargen_ops, NULL);
	return rc;
}
