/* SPDX-License-Identifier: MIT */
/*
 * Connection lifetime: the per-worker table (rte_hash on the 4-tuple),
 * connection memory (a per-worker mempool with a hard size), listeners, and
 * the calls the layers above make.
 *
 * A connection is never freed while the stack may still be looking at it:
 * destroy takes it out of the table and stops its timers at once, and the
 * memory goes back to the pool at the end of the poll iteration (sl_tcp_reap),
 * so a user callback may close or abort a connection the input path is
 * processing.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "dataplane/pool_poison.h"
#include "dataplane/worker.h"
#include "tcp_conn.h"
#include "tcp_rcvmem.h"
#include "tcp_worker.h"

static const char *const state_names[SL_TCP_NSTATES] = {
	"CLOSED",      "LISTEN",    "SYN-SENT",   "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2",  "CLOSE-WAIT", "CLOSING",   "LAST-ACK",     "TIME-WAIT",
};

const char *
sl_tcp_state_name(enum sl_tcp_state s)
{
	return (unsigned int)s < SL_TCP_NSTATES ? state_names[s] : "?";
}

void
sl_tcp_set_mss(struct sl_tcp_conn *c)
{
	uint32_t mss = RTE_MIN((uint32_t)c->peer_mss, (uint32_t)c->ifp->mtu - 40u);

	if (c->mss_cap != 0 && mss > c->mss_cap)
		mss = c->mss_cap; /* the path MTU learnt from ICMP */
	/*
	 * Not below zero: a peer announcing an MSS under 12 with timestamps made
	 * this wrap, and the MSS became 65529 (fuzz_tcp found 1717-byte frames,
	 * corpus/tcp/regress_tiny_peer_mss). The 64-byte floor still applies.
	 */
	if (c->flags & SL_TF_TS_OK)
		mss = mss > 12 ? mss - 12 : 0;
	c->mss = (uint16_t)RTE_MAX(mss, 64u);
}

uint8_t
sl_tcp_choose_wscale(uint32_t rcvbuf)
{
	uint8_t ws = 0;

	while ((rcvbuf >> ws) > 65535 && ws < SL_TCP_MAX_WSCALE)
		ws++;
	return ws;
}

struct sl_tcp_conn *
sl_tcp_conn_lookup(struct sl_tcp_worker *tw, const struct sl_tcp_key *key)
{
	void *data;

	if (rte_hash_lookup_data(tw->table, key, &data) < 0)
		return NULL;
	return data;
}

struct sl_tcp_listener *
sl_tcp_listener_find(struct sl_tcp_worker *tw, uint16_t port)
{
	uint16_t i = tw->listen_head[port];

	return i != 0 ? &tw->listeners[i - 1] : NULL;
}

/*
 * A port's list keeps its wildcard listener, if any, at the head: a port
 * with one listener (the common case) costs one load and a compare; one
 * with several costs a hash lookup, then the head as the fallback.
 */
struct sl_tcp_listener *
sl_tcp_listener_lookup(struct sl_tcp_worker *tw, uint32_t laddr, uint16_t port)
{
	struct sl_tcp_listener *l = sl_tcp_listener_find(tw, port);
	struct sl_tcp_listen_key k = {.addr = laddr, .port = port};
	void *data;

	if (l == NULL)
		return NULL;
	if (l->next == 0)
		return l->addr == 0 || l->addr == laddr ? l : NULL;
	if (rte_hash_lookup_data(tw->listen_table, &k, &data) >= 0)
		return data;
	return l->addr == 0 ? l : NULL;
}

struct sl_tcp_conn *
sl_tcp_conn_alloc(struct sl_tcp_worker *tw, struct sl_netif *ifp, const struct sl_tcp_key *key,
		  int *err)
{
	struct sl_tcp_conn *c;
	void *obj;

	if (rte_mempool_get(tw->conn_pool, &obj) != 0) {
		tw->stats.drops[SL_TCP_DROP_CONN_LIMIT]++;
		*err = -EMFILE;
		return NULL;
	}
	c = obj;
	sl_pool_unpoison(c, sizeof(*c));
	memset(c, 0, sizeof(*c));
	if (rte_hash_add_key_data(tw->table, key, c) != 0) {
		sl_pool_poison(c, sizeof(*c));
		rte_mempool_put(tw->conn_pool, c);
		tw->stats.drops[SL_TCP_DROP_CONN_LIMIT]++;
		*err = -EMFILE;
		return NULL;
	}
	c->key = *key;
	c->tw = tw;
	c->ifp = ifp;
	/*
	 * RFC 6528. A new incarnation of a 4-tuple in TIME-WAIT takes over its
	 * record, and its ISN goes above what the old one sent (RFC 1122
	 * 4.2.2.13, RFC 6191), as Linux's snd_nxt + 65535 + 2 when the clock
	 * alone is not enough, so that the old duplicates stay out of the new
	 * window. A SYN cookie's ISN overrides this: a flood leaves no choice.
	 */
	c->iss = sl_tcp_isn(&tw->secret, key->laddr, key->lport, key->raddr, key->rport, tw->now_us);
	uint32_t old_nxt;
	if (sl_tcp_tw_retire(tw, key, &old_nxt) && !sl_seq_gt(c->iss, old_nxt))
		c->iss = old_nxt + 65535 + 2;
	c->rcvbuf = tw->cfg->rcvbuf;
	c->sndbuf = tw->cfg->sndbuf;
	c->peer_mss = SL_TCP_MSS_DEFAULT;
	c->rto_ms = SL_TCP_RTO_INITIAL_MS;
	sl_sack_reset(&c->sb);
	sl_tcp_timers_init(c);
	tw->stats.conns++;
	return c;
}

/* The handshake completed: ESTABLISHED, or FIN-WAIT-1 if the user shut down meanwhile. */
void
sl_tcp_established(struct sl_tcp_conn *c)
{
	if (c->api_flags & SL_TA_CONNECT_TO) {
		c->api_flags &= ~SL_TA_CONNECT_TO;
		sl_timer_cancel(&c->keep_timer); /* the callers arm keepalive next */
	}
	sl_tcp_set_state(c, SL_TCP_ESTABLISHED);
	if (c->flags & SL_TF_FIN_QUEUED)
		sl_tcp_set_state(c, SL_TCP_FIN_WAIT_1);
}

void
sl_tcp_set_state(struct sl_tcp_conn *c, enum sl_tcp_state s)
{
	bool was = c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_CLOSE_WAIT;
	bool is = s == SL_TCP_ESTABLISHED || s == SL_TCP_CLOSE_WAIT;

	if (was != is)
		c->tw->stats.conns_established += is ? 1 : -1;
	if (c->flags & SL_TF_IN_LISTEN_Q && s != SL_TCP_SYN_RECEIVED) {
		c->flags &= ~SL_TF_IN_LISTEN_Q;
		c->listener->syn_queued--;
	}
	c->state = s;
}

void
sl_tcp_conn_destroy(struct sl_tcp_conn *c)
{
	struct sl_tcp_worker *tw = c->tw;

	if (c->flags & SL_TF_DEAD)
		return;
	sl_tcp_set_state(c, SL_TCP_CLOSED);
	rte_hash_del_key(tw->table, &c->key);
	sl_tcp_timers_stop(c);
	rte_pktmbuf_free(c->sq_head);
	c->sq_head = c->sq_tail = c->sq_cur = NULL;
	c->sq_bytes = 0;
	sl_tcp_ooo_purge(c);
	sl_tcp_rcvmem_forget(c);
	c->flags |= SL_TF_DEAD;
	c->next_dead = tw->dead;
	tw->dead = c;
	tw->stats.conns--;
}

void
sl_tcp_conn_fail(struct sl_tcp_conn *c, int err)
{
	const struct sl_tcp_ops *ops = c->ops;

	if (c->flags & SL_TF_DEAD)
		return;
	if (c->state == SL_TCP_SYN_SENT)
		c->tw->stats.connect_failures++;
	/* A passive connection still in SYN-RECEIVED was never shown to the user. */
	if (c->state == SL_TCP_SYN_RECEIVED && (c->flags & SL_TF_PASSIVE))
		c->flags |= SL_TF_USER_GONE;
	/* Destroy first: whatever the user does in the callback finds a closed connection. */
	sl_tcp_conn_destroy(c);
	if (!(c->flags & SL_TF_USER_GONE) && ops != NULL && ops->error != NULL) {
		c->flags |= SL_TF_USER_GONE;
		ops->error(c, err);
	}
}

/* Whether a held connection (sl_tcp_cork_hold) still keeps its short segment back. */
static bool
tcp_hold_on(const struct sl_tcp_conn *c)
{
	return (c->api_flags & SL_TA_HOLD) && !(c->flags & SL_TF_FIN_QUEUED) &&
	       (int32_t)(c->hold_until_us - (uint32_t)c->tw->now_us) > 0;
}

void
sl_tcp_flush(struct sl_tcp_worker *tw)
{
	struct sl_tcp_conn *held = NULL;

	while (tw->flush != NULL) {
		struct sl_tcp_conn *c = tw->flush;

		tw->flush = c->next_flush;
		c->next_flush = NULL;
		c->api_flags &= ~SL_TA_FLUSH_Q;
		if (c->flags & SL_TF_DEAD)
			continue; /* its memory goes back in sl_tcp_reap, after this */
		if (c->api_flags & SL_TA_ACK_DUE) {
			c->api_flags &= ~SL_TA_ACK_DUE;
			if (c->rcv_nxt != c->last_ack_sent)
				c->flags |= SL_TF_ACK_NOW;
		}
		if (tcp_hold_on(c)) {
			if (c->flags & SL_TF_ACK_NOW)
				sl_tcp_send_ack(c); /* the held data stays */
			/* Back on the list after this loop: a later iteration looks again. */
			c->api_flags |= SL_TA_FLUSH_Q;
			c->next_flush = held;
			held = c;
			continue;
		}
		c->api_flags &= ~SL_TA_HOLD;
		c->api_flags |= SL_TA_FLUSHING;
		sl_tcp_output(c);
		c->api_flags &= ~SL_TA_FLUSHING;
	}
	tw->flush = held;
}

void
sl_tcp_reap(struct sl_tcp_worker *tw)
{
	/* A dead connection may still be on the flush list: empty it before freeing. */
	sl_tcp_flush(tw);
	while (tw->dead != NULL) {
		struct sl_tcp_conn *c = tw->dead;

		tw->dead = c->next_dead;
		sl_pool_poison(c, sizeof(*c));
		rte_mempool_put(tw->conn_pool, c);
	}
}

/* ---- the API of tcp.h ---- */

int
sl_tcp_listen_addr(struct sl_worker *w, uint32_t addr, uint16_t port, const struct sl_tcp_ops *ops,
		   void *arg)
{
	struct sl_tcp_worker *tw = w->tcp;
	uint16_t nport = rte_cpu_to_be_16(port);
	struct sl_tcp_listen_key k = {.addr = addr, .port = nport};
	struct sl_tcp_listener *head = sl_tcp_listener_find(tw, nport), *l = NULL;
	uint16_t idx;

	if (port == 0)
		return -EINVAL;
	if (rte_hash_lookup(tw->listen_table, &k) >= 0)
		return -EADDRINUSE;
	for (idx = 0; idx < SL_TCP_LISTENERS_MAX; idx++)
		if (tw->listeners[idx].port == 0) {
			l = &tw->listeners[idx];
			break;
		}
	if (l == NULL)
		return -ENOSPC;
	memset(l, 0, sizeof(*l));
	l->port = nport;
	l->addr = addr;
	l->ops = ops;
	l->arg = arg;
	if (rte_hash_add_key_data(tw->listen_table, &k, l) != 0) {
		l->port = 0;
		return -ENOSPC;
	}
	/* The wildcard heads the port's list (sl_tcp_listener_lookup's fallback). */
	if (head == NULL || addr == 0) {
		l->next = tw->listen_head[nport];
		tw->listen_head[nport] = idx + 1;
	} else {
		l->next = head->next;
		head->next = idx + 1;
	}
	return 0;
}

int
sl_tcp_listen(struct sl_worker *w, uint16_t port, const struct sl_tcp_ops *ops, void *arg)
{
	return sl_tcp_listen_addr(w, 0, port, ops, arg);
}

/* The listeners stay in their tables: flow steering still finds the port a listener port. */
void
sl_tcp_listen_refuse(struct sl_worker *w)
{
	for (unsigned int i = 0; i < SL_TCP_LISTENERS_MAX; i++)
		w->tcp->listeners[i].refusing = true;
}

/*
 * The source port of an active open, after RFC 6056 3.3.4 (Algorithm 4,
 * "double-hash"): candidates start at a keyed hash of the destination
 * (laddr, raddr, rport) plus a counter, one of SL_TCP_PORT_TABLE picked by
 * another part of the same hash, that advances past every port handed out.
 * Successive connections to one destination walk the whole range before a
 * port comes back (the longest time for the destination's TIME-WAIT to end,
 * where a port reused too soon costs a refused SYN), different destinations
 * start at unrelated places, and no one off the path can guess either.
 *
 * Only ports this worker owns are candidates (sl_tcp_port_owner looks at the
 * low bits): they are enumerated directly, block by block, never drawn and
 * skipped. The search stops after SL_TCP_PORT_PROBES ports in use, so a
 * destination whose ports run short costs a bounded time per attempt, not a
 * walk over tens of thousands of table lookups, and fails with
 * -EADDRNOTAVAIL, counted in ports_exhausted.
 */
static int
tcp_pick_port(struct sl_tcp_worker *tw, const struct sl_worker *w, struct sl_tcp_key *key)
{
	unsigned int n = w->n_workers ? w->n_workers : 1;
	unsigned int block = n <= 1 ? 1 : 1u << (32 - __builtin_clz(n - 1));
	unsigned int own[SL_MAX_WORKERS], k = 0, first, n_ports, probes, i;
	uint32_t *counter;
	uint64_t h;

	for (unsigned int v = 0; v < block; v++)
		if (sl_tcp_port_owner((uint16_t)v, n) == w->id)
			own[k++] = v;
	first = RTE_ALIGN_CEIL(SL_TCP_EPHEMERAL_LO, block);
	n_ports = (SL_TCP_EPHEMERAL_HI + 1 - first) / block * k;
	if (n_ports == 0)
		goto exhausted;
	h = sl_tcp_port_hash(&tw->secret, key->laddr, key->raddr, key->rport);
	counter = &tw->port_perturb[(h >> 32) % SL_TCP_PORT_TABLE];
	probes = RTE_MIN(n_ports, (unsigned int)SL_TCP_PORT_PROBES);
	for (i = 0; i < probes; i++) {
		uint32_t idx = (uint32_t)(((uint64_t)(uint32_t)h + *counter + i) % n_ports);
		uint16_t p = (uint16_t)(first + idx / k * block + own[idx % k]);

		if (sl_tcp_listener_find(tw, rte_cpu_to_be_16(p)) != NULL)
			continue;
		key->lport = rte_cpu_to_be_16(p);
		if (sl_tcp_conn_lookup(tw, key) == NULL) {
			*counter += i + 1;
			return 0;
		}
	}
	*counter += i;
exhausted:
	tw->stats.ports_exhausted++;
	return -EADDRNOTAVAIL;
}

struct sl_tcp_conn *
sl_tcp_connect(struct sl_worker *w, unsigned int port_index, uint32_t raddr, uint16_t rport,
	       const struct sl_tcp_ops *ops, void *user, int *err)
{
	struct sl_tcp_connect_opts o = {.port_index = port_index};

	return sl_tcp_connect_opts(w, raddr, rport, &o, ops, user, err);
}

struct sl_tcp_conn *
sl_tcp_connect_opts(struct sl_worker *w, uint32_t raddr, uint16_t rport,
		    const struct sl_tcp_connect_opts *opts, const struct sl_tcp_ops *ops,
		    void *user, int *err)
{
	unsigned int port_index = opts->port_index;
	struct sl_tcp_worker *tw = w->tcp;
	struct sl_tcp_conn *c;
	struct sl_tcp_key key;

	if (port_index >= w->n_netif) {
		*err = -EINVAL;
		return NULL;
	}
	if (opts->laddr != 0 && !sl_netif_is_local(w->netif[port_index], opts->laddr)) {
		*err = -EADDRNOTAVAIL;
		return NULL;
	}
	key.raddr = raddr;
	key.laddr = opts->laddr != 0 ? opts->laddr : w->netif[port_index]->ip;
	key.rport = rport;
	/*
	 * The source port names the owning worker (sl_tcp_port_owner), so that
	 * replies find their way back to us whichever queue they arrive on.
	 */
	*err = tcp_pick_port(tw, w, &key);
	if (*err != 0)
		return NULL;
	c = sl_tcp_conn_alloc(tw, w->netif[port_index], &key, err);
	if (c == NULL)
		return NULL;
	c->ops = ops;
	c->user = user;
	c->snd_una = c->snd_nxt = c->snd_max = c->iss; /* c->iss from sl_tcp_conn_alloc */
	c->rcv_wscale = sl_tcp_choose_wscale(c->rcvbuf);
	sl_tcp_set_state(c, SL_TCP_SYN_SENT);
	sl_tcp_cc_init(c);
	tw->stats.active_opens++;
	*err = sl_tcp_send_syn(c, false);
	if (*err != 0) {
		sl_tcp_conn_destroy(c);
		return NULL;
	}
	sl_tcp_arm_rto(c);
	c->user_timeout_ms = opts->user_timeout_ms;
	if (opts->connect_timeout_ms != 0) {
		/* keep_timer is idle until the handshake completes (sl_tcp_established). */
		c->api_flags |= SL_TA_CONNECT_TO;
		sl_timer_arm(&tw->wheel, &c->keep_timer,
			     sl_tcp_now_ms(tw) + opts->connect_timeout_ms);
	}
	return c;
}

uint32_t
sl_tcp_send_space(const struct sl_tcp_conn *c)
{
	return c->sq_bytes >= c->sndbuf ? 0 : c->sndbuf - c->sq_bytes;
}

int
sl_tcp_send(struct sl_tcp_conn *c, struct rte_mbuf *data)
{
	uint32_t len = rte_pktmbuf_pkt_len(data);

	if (c->flags & (SL_TF_FIN_QUEUED | SL_TF_DEAD))
		return -EPIPE;
	switch (c->state) {
	case SL_TCP_SYN_SENT:
	case SL_TCP_SYN_RECEIVED:
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
		break;
	default:
		return -EPIPE;
	}
	/* Accept a whole chain while there is any room: a chain is never split here. */
	if (sl_tcp_send_space(c) == 0) {
		c->flags |= SL_TF_WANT_WRITE;
		return -EAGAIN;
	}
	if (len == 0) {
		rte_pktmbuf_free(data);
		return 0;
	}
	if (c->sq_tail == NULL)
		c->sq_head = data;
	else
		c->sq_tail->next = data;
	/* Keep one chain: the head's nb_segs/pkt_len are not maintained, only sq_bytes. */
	for (c->sq_tail = data; c->sq_tail->next != NULL; c->sq_tail = c->sq_tail->next)
		;
	c->sq_bytes += len;
	if (c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_CLOSE_WAIT)
		sl_tcp_output(c);
	return 0;
}

void
sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t len)
{
	uint32_t before = sl_tcp_rcv_window(c);

	sl_tcp_rcvmem_consumed(c, len);
	if (c->flags & SL_TF_DEAD)
		return;
	/*
	 * Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): announce
	 * the reopened window only once it grew by a segment or half the buffer.
	 */
	uint32_t after = sl_tcp_rcv_window(c);
	if (before < c->mss && after >= c->mss) {
		c->flags |= SL_TF_ACK_NOW;
		sl_tcp_output(c);
	} else if (after - before >= RTE_MIN((uint32_t)c->mss, c->rcvbuf / 2) &&
		   sl_seq_lt(c->rcv_adv, c->rcv_nxt + after) &&
		   sl_seq_leq(c->rcv_adv, c->rcv_nxt + c->mss)) {
		c->flags |= SL_TF_ACK_NOW;
		sl_tcp_output(c);
	}
}

void
sl_tcp_shutdown(struct sl_tcp_conn *c)
{
	if (c->flags & (SL_TF_FIN_QUEUED | SL_TF_DEAD))
		return;
	switch (c->state) {
	case SL_TCP_SYN_SENT:
	case SL_TCP_SYN_RECEIVED:
		/* The FIN follows the handshake and the queued data (see sl_tcp_established). */
		c->flags |= SL_TF_FIN_QUEUED;
		return;
	case SL_TCP_ESTABLISHED:
		c->flags |= SL_TF_FIN_QUEUED;
		if (c->state == SL_TCP_ESTABLISHED)
			sl_tcp_set_state(c, SL_TCP_FIN_WAIT_1);
		break;
	case SL_TCP_CLOSE_WAIT:
		c->flags |= SL_TF_FIN_QUEUED;
		sl_tcp_set_state(c, SL_TCP_LAST_ACK);
		break;
	default:
		return;
	}
	sl_tcp_output(c);
}

void
sl_tcp_close(struct sl_tcp_conn *c)
{
	c->flags |= SL_TF_USER_GONE;
	if (c->flags & SL_TF_DEAD)
		return;
	/* Data we will never read: the peer must learn it was lost (RFC 2525 2.17). */
	if (c->rcv_held > 0 || c->ooo != NULL) {
		sl_tcp_abort(c);
		return;
	}
	if (c->state == SL_TCP_SYN_SENT) {
		sl_tcp_conn_destroy(c); /* RFC 9293 3.10.4: nothing sent yet, delete the TCB */
		return;
	}
	sl_tcp_shutdown(c);
	if (c->state == SL_TCP_FIN_WAIT_2)
		sl_tcp_arm_keepalive(c); /* becomes the FIN-WAIT-2 timeout */
}

void
sl_tcp_close_linger(struct sl_tcp_conn *c, uint32_t timeout_ms)
{
	c->flags |= SL_TF_USER_GONE;
	if (c->flags & SL_TF_DEAD)
		return;
	if (c->state == SL_TCP_SYN_SENT) {
		sl_tcp_conn_destroy(c);
		return;
	}
	/*
	 * From here on tcp_process_data frees what arrives (USER_GONE) and the
	 * window stays open: the peer is never stopped short of its FIN, and
	 * never reset while the response drains.
	 */
	sl_tcp_consumed(c, c->rcv_held);
	c->api_flags |= SL_TA_LINGER;
	sl_tcp_shutdown(c);
	if (c->flags & SL_TF_DEAD)
		return;
	/* keep_timer holds the deadline; sl_tcp_arm_keepalive leaves it alone from now on. */
	sl_timer_arm(&c->tw->wheel, &c->keep_timer,
		     sl_tcp_now_ms(c->tw) + (timeout_ms != 0 ? timeout_ms : SL_TCP_FIN_WAIT_2_MS));
}

void
sl_tcp_cork(struct sl_tcp_conn *c, bool on)
{
	if (on) {
		c->api_flags |= SL_TA_CORK;
		return;
	}
	c->api_flags &= ~(SL_TA_CORK | SL_TA_HOLD);
	sl_tcp_output(c);
}

void
sl_tcp_cork_hold(struct sl_tcp_conn *c, uint32_t us)
{
	c->api_flags |= SL_TA_CORK | SL_TA_HOLD;
	c->hold_until_us = (uint32_t)c->tw->now_us + us;
}

void
sl_tcp_set_user_timeout(struct sl_tcp_conn *c, uint32_t ms)
{
	c->user_timeout_ms = ms;
}

void
sl_tcp_info(const struct sl_tcp_conn *c, struct sl_tcp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->state = sl_tcp_state_name(c->state);
	info->srtt_us = c->srtt_us;
	info->rttvar_us = c->rttvar_us;
	info->rto_ms = c->rto_ms;
	info->mss = c->mss;
	info->cwnd = c->cwnd;
	info->ssthresh = c->ssthresh;
	info->snd_wnd = c->snd_wnd;
	info->unacked = c->snd_max - c->snd_una;
	info->send_queued = c->sq_bytes;
	info->bytes_acked = c->total_acked;
	info->bytes_received = c->total_received;
	info->retransmits = c->retransmits;
}

void
sl_tcp_timer_init(struct sl_timer *t, sl_timer_fn fn)
{
	sl_timer_init(t, fn);
}

void
sl_tcp_timer_arm(struct sl_worker *w, struct sl_timer *t, uint64_t after_ms)
{
	sl_timer_arm(&w->tcp->wheel, t, sl_tcp_now_ms(w->tcp) + after_ms);
}

void
sl_tcp_timer_arm_at(struct sl_worker *w, struct sl_timer *t, uint64_t expire_ms)
{
	sl_timer_arm(&w->tcp->wheel, t, expire_ms);
}

void
sl_tcp_timer_cancel(struct sl_timer *t)
{
	sl_timer_cancel(t);
}

bool
sl_tcp_timer_armed(const struct sl_timer *t)
{
	return sl_timer_armed(t);
}

uint64_t
sl_tcp_clock_ms(const struct sl_worker *w)
{
	return sl_tcp_now_ms(w->tcp);
}

uint64_t
sl_tcp_clock_us(const struct sl_worker *w)
{
	return w->tcp->now_us;
}

void
sl_tcp_abort(struct sl_tcp_conn *c)
{
	c->flags |= SL_TF_USER_GONE;
	if (c->flags & SL_TF_DEAD)
		return;
	switch (c->state) {
	case SL_TCP_SYN_RECEIVED:
	case SL_TCP_ESTABLISHED:
	case SL_TCP_FIN_WAIT_1:
	case SL_TCP_FIN_WAIT_2:
	case SL_TCP_CLOSE_WAIT:
		sl_tcp_send_rst(c);
		break;
	default:
		break;
	}
	sl_tcp_conn_destroy(c);
}

void
sl_tcp_want_writable(struct sl_tcp_conn *c)
{
	c->flags |= SL_TF_WANT_WRITE;
}

bool
sl_tcp_peer_done(const struct sl_tcp_conn *c)
{
	switch (c->state) {
	case SL_TCP_CLOSE_WAIT:
	case SL_TCP_LAST_ACK:
	case SL_TCP_CLOSING:
	case SL_TCP_TIME_WAIT:
		return true;
	default:
		return false;
	}
}

struct sl_worker *
sl_tcp_worker_of(const struct sl_tcp_conn *c)
{
	return c->ifp->w;
}

unsigned int
sl_tcp_port_index(const struct sl_tcp_conn *c)
{
	return c->ifp->index;
}

struct rte_mempool *
sl_tcp_pool(const struct sl_tcp_conn *c)
{
	return c->ifp->w->pool;
}

void *
sl_tcp_user(const struct sl_tcp_conn *c)
{
	return c->user;
}

void
sl_tcp_set_user(struct sl_tcp_conn *c, void *user)
{
	c->user = user;
}

void
sl_tcp_endpoints(const struct sl_tcp_conn *c, uint32_t *laddr, uint16_t *lport, uint32_t *raddr,
		 uint16_t *rport)
{
	*laddr = c->key.laddr;
	*lport = c->key.lport;
	*raddr = c->key.raddr;
	*rport = c->key.rport;
}
