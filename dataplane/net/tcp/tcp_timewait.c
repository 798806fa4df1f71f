/* SPDX-License-Identifier: MIT */
/*
 * TIME-WAIT (RFC 9293 3.6.1) in a small record instead of the whole TCB.
 *
 * A closed connection stays in TIME-WAIT for dataplane.tcp.time_wait so that
 * a retransmitted FIN is acknowledged and old duplicates of the connection
 * do not reach a new one on the same 4-tuple. For that it needs the 4-tuple,
 * both edges of the sequence space, the peer's last timestamp, the window to
 * put in an ACK and a timer: one cache line (struct sl_tcp_tw), taken from a
 * per-worker pool and table of their own, where it used to keep the ~700-byte
 * connection with its queues for the whole time. The connection itself is
 * released on entry.
 *
 * The timer callback finds the worker through the pool's private area, so
 * that the record need not carry a pointer to it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_mempool.h>

#include "dataplane/worker.h"
#include "tcp_conn.h"
#include "tcp_options.h"

static void tcp_tw_expire(struct sl_timer *t);

int
sl_tcp_tw_init(struct sl_tcp_worker *tw, int socket, char *err, size_t errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int n = RTE_MAX(tw->cfg->max_connections, 64u);
	struct rte_hash_parameters hp = {
	    .name = name,
	    .entries = n,
	    .key_len = sizeof(struct sl_tcp_key),
	    .hash_func = rte_hash_crc, /* as the connection table: one hash serves both */
	    .socket_id = socket,
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(name, sizeof(name), "sl_tcptw_%u", tw->w->id);
	tw->tw_table = rte_hash_create(&hp);
	if (tw->tw_table == NULL) {
		snprintf(err, errlen, "worker %u: cannot create a TIME-WAIT table of %u: %s",
			 tw->w->id, n, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "sl_tcptwp_%u", tw->w->id);
	/*
	 * NO_SPREAD: the padding that spreads objects over memory channels
	 * would make each 64-byte record take 192 bytes; 128 with the header.
	 */
	tw->tw_pool = rte_mempool_create(
	    name, n, sizeof(struct sl_tcp_tw), 0, sizeof(struct sl_tcp_worker *), NULL, NULL, NULL,
	    NULL, socket, RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET | RTE_MEMPOOL_F_NO_SPREAD);
	if (tw->tw_pool == NULL) {
		snprintf(err, errlen, "worker %u: cannot reserve %u TIME-WAIT records: %s",
			 tw->w->id, n, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	*(struct sl_tcp_worker **)rte_mempool_get_priv(tw->tw_pool) = tw;
	return 0;
}

void
sl_tcp_tw_fini(struct sl_tcp_worker *tw)
{
	rte_hash_free(tw->tw_table);
	rte_mempool_free(tw->tw_pool);
	tw->tw_table = NULL;
	tw->tw_pool = NULL;
}

struct sl_tcp_tw *
sl_tcp_tw_lookup(struct sl_tcp_worker *tw, const struct sl_tcp_key *key, hash_sig_t sig)
{
	void *data;

	if (rte_hash_lookup_with_hash_data(tw->tw_table, key, sig, &data) < 0)
		return NULL;
	return data;
}

void
sl_tcp_tw_free(struct sl_tcp_worker *tw, struct sl_tcp_tw *t)
{
	sl_timer_cancel(&t->timer);
	rte_hash_del_key(tw->tw_table, &t->key);
	rte_mempool_put(tw->tw_pool, t);
	tw->stats.conns_time_wait--;
}

bool
sl_tcp_tw_retire(struct sl_tcp_worker *tw, const struct sl_tcp_key *key, uint32_t *snd_nxt)
{
	struct sl_tcp_tw *t;

	if (tw->stats.conns_time_wait == 0)
		return false;
	t = sl_tcp_tw_lookup(tw, key, rte_hash_hash(tw->tw_table, key));
	if (t == NULL)
		return false;
	*snd_nxt = t->snd_nxt;
	sl_tcp_tw_free(tw, t);
	return true;
}

void
sl_tcp_tw_restart(struct sl_tcp_worker *tw, struct sl_tcp_tw *t)
{
	sl_timer_arm(&tw->wheel, &t->timer, sl_tcp_now_ms(tw) + tw->cfg->time_wait_ms);
}

void
sl_tcp_tw_send_ack(struct sl_tcp_worker *tw, const struct sl_tcp_tw *t)
{
	uint8_t opts[12];
	unsigned int n = 0;

	if (t->flags & SL_TCP_TW_TS) {
		opts[n++] = SL_TCPOPT_NOP;
		opts[n++] = SL_TCPOPT_NOP;
		opts[n++] = SL_TCPOPT_TS;
		opts[n++] = SL_TCPOLEN_TS;
		sl_tcpopt_put32(opts + n, sl_tcp_now_ms32(tw));
		sl_tcpopt_put32(opts + n + 4, t->ts_recent);
		n += 8;
	}
	sl_tcp_emit_raw(tw->w->netif[t->port_index], &t->key, t->snd_nxt, t->rcv_nxt, SL_TH_ACK,
			t->rcv_wnd, opts, n);
}

static void
tcp_tw_expire(struct sl_timer *tm)
{
	struct sl_tcp_tw *t = sl_container_of(tm, struct sl_tcp_tw, timer);
	struct sl_tcp_worker *tw =
	    *(struct sl_tcp_worker **)rte_mempool_get_priv(rte_mempool_from_obj(t));

	sl_tcp_tw_free(tw, t);
}

/* The record of c's TIME-WAIT; false when none is free (the connection closes without one). */
static bool
tcp_tw_record(struct sl_tcp_conn *c)
{
	struct sl_tcp_worker *tw = c->tw;
	uint32_t win = sl_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	struct sl_tcp_tw *t;
	void *obj;

	if (rte_mempool_get(tw->tw_pool, &obj) != 0)
		return false;
	t = obj;
	memset(t, 0, sizeof(*t));
	if (rte_hash_add_key_data(tw->tw_table, &c->key, t) != 0) {
		rte_mempool_put(tw->tw_pool, t);
		return false;
	}
	t->key = c->key;
	t->rcv_nxt = c->rcv_nxt;
	t->snd_nxt = c->snd_max; /* our FIN included */
	if (c->flags & SL_TF_TS_OK) {
		t->flags |= SL_TCP_TW_TS;
		t->ts_recent = c->ts_recent;
	}
	t->rcv_wnd = (uint16_t)RTE_MIN(win >> c->rcv_wscale, 65535u);
	t->port_index = c->ifp->index;
	t->last_oow_ack_ms = c->last_oow_ack_ms;
	sl_timer_init(&t->timer, tcp_tw_expire);
	sl_tcp_tw_restart(tw, t);
	tw->stats.conns_time_wait++;
	return true;
}

void
sl_tcp_enter_time_wait(struct sl_tcp_conn *c)
{
	struct sl_tcp_worker *tw = c->tw;

	tw->stats.time_wait++;
	if (tw->cfg->time_wait_ms > 0 && !tcp_tw_record(c))
		tw->stats.time_wait_overflow++;
	/*
	 * The TCB goes now. Its memory stays until the end of the poll
	 * iteration (sl_tcp_reap), where the callbacks still running on it see
	 * it in TIME-WAIT, dead: nothing more can be sent or received on it.
	 */
	sl_tcp_conn_destroy(c);
	c->state = SL_TCP_TIME_WAIT;
}
