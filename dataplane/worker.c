/* SPDX-License-Identifier: MIT */
/*
 * The worker poll loop: run to completion, one burst at a time.
 *
 * Each iteration: RX from every port queue this worker owns, frames handed
 * over by peer workers, control commands, housekeeping when due, then TX of
 * everything produced. TX is flushed at the end of every iteration, so a
 * reply never waits for a fuller burst while the worker has nothing to do.
 */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "net/tcp/tcp.h"
#include "net/tcp/tcp_worker.h"
#include "proxy/proxy.h"
#include "worker.h"

/*
 * Adaptive idle: spin for a while (traffic often comes back within
 * microseconds), then pause, then sleep for growing periods up to a cap.
 * The cap bounds the extra latency of the first packet after a quiet spell.
 */
#define IDLE_SPIN 256
#define IDLE_PAUSE 2048
#define IDLE_SLEEP_MAX_NS 200000

static void
worker_idle(struct sl_worker *w, unsigned int *empty)
{
	unsigned int n = ++*empty;

	if (w->idle == SL_IDLE_POLL || n < IDLE_SPIN)
		return;
	if (n < IDLE_PAUSE) {
		rte_pause();
		return;
	}
	unsigned int shift = (n - IDLE_PAUSE) / 64;
	long ns = 5000L << (shift > 6 ? 6 : shift);
	struct timespec ts = {0, ns > IDLE_SLEEP_MAX_NS ? IDLE_SLEEP_MAX_NS : ns};

	nanosleep(&ts, NULL);
}

static struct sl_netif *
worker_netif_by_port(struct sl_worker *w, uint16_t port_id)
{
	for (unsigned int i = 0; i < w->n_netif; i++)
		if (w->netif[i]->port_id == port_id)
			return w->netif[i];
	return NULL;
}

void
sl_worker_share_with_peers(struct sl_worker *w, struct sl_netif *ifp, const struct rte_mbuf *m)
{
	for (unsigned int p = 0; p < w->n_workers; p++) {
		struct rte_mbuf *c;

		if (w->to_peer[p] == NULL)
			continue;
		c = rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);
		if (c == NULL) {
			ifp->stats.drops[SL_NET_DROP_NO_MBUF]++;
			continue;
		}
		c->port = ifp->port_id;
		if (rte_ring_sp_enqueue(w->to_peer[p], c) != 0)
			sl_netif_drop(ifp, c, SL_NET_DROP_PEER_RING_FULL);
	}
}

static unsigned int
worker_poll_peers(struct sl_worker *w)
{
	struct rte_mbuf *pkts[SL_RX_BURST];
	unsigned int total = 0;

	for (unsigned int p = 0; p < w->n_workers; p++) {
		unsigned int n;

		if (w->from_peer[p] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->from_peer[p], (void **)pkts, SL_RX_BURST, NULL);
		for (unsigned int i = 0; i < n; i++) {
			struct sl_netif *ifp = worker_netif_by_port(w, pkts[i]->port);

			if (ifp != NULL)
				sl_eth_input_from_peer(ifp, pkts[i]);
			else
				rte_pktmbuf_free(pkts[i]);
		}
		total += n;
	}
	return total;
}

static void
worker_command(struct sl_worker *w, struct sl_msg *msg)
{
	msg->worker = w->id;
	msg->result = 0;
	switch (msg->type) {
	case SL_MSG_ARP_DUMP:
		msg->n = 0;
		for (unsigned int i = 0; i < w->n_netif; i++)
			msg->n += sl_arp_dump(w->netif[i], msg->u.arp + msg->n, msg->cap - msg->n);
		break;
	case SL_MSG_PING: /* answering at all is the point: this loop still runs */
		break;
	default:
		msg->result = -ENOTSUP;
	}
	/* The event ring is sized to hold every command in flight; it cannot be full. */
	rte_ring_sp_enqueue(w->evt, msg);
}

static unsigned int
worker_poll_commands(struct sl_worker *w)
{
	void *msgs[8];
	unsigned int n = rte_ring_sc_dequeue_burst(w->cmd, msgs, RTE_DIM(msgs), NULL);

	for (unsigned int i = 0; i < n; i++)
		worker_command(w, msgs[i]);
	return n;
}

/*
 * The phase clock: charge the cycles since the last mark to phase k. An
 * iteration's phases are kept in ph[] and added to the worker's counters
 * only when the iteration did work, like busy_cycles.
 */
static inline void
phase_mark(uint64_t *ph, unsigned int k, uint64_t *t)
{
	uint64_t now = rte_rdtsc();

	ph[k] += now - *t;
	*t = now;
}

static unsigned int
worker_poll_ports(struct sl_worker *w, uint64_t *ph, uint64_t *t)
{
	struct rte_mbuf *pkts[SL_RX_BURST];
	unsigned int total = 0;

	for (unsigned int i = 0; i < w->n_netif; i++) {
		struct sl_netif *ifp = w->netif[i];
		uint16_t n = rte_eth_rx_burst(ifp->port_id, ifp->queue_id, pkts, SL_RX_BURST);

		phase_mark(ph, SL_PHASE_RX, t);
		if (n == 0)
			continue;
		for (uint16_t k = 0; k < n; k++) {
			if (k + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[k + 1], void *));
			sl_eth_input(ifp, pkts[k]);
		}
		phase_mark(ph, SL_PHASE_INPUT, t);
		total += n;
	}
	return total;
}

int
sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	unsigned int empty = 0;

	w->now_ms = rte_rdtsc() / w->tsc_per_ms;
	w->next_tick_ms = w->now_ms + SL_TICK_MS;
	/* One worker announces each address; the peers learn from the answers. */
	if (w->id == 0)
		for (unsigned int i = 0; i < w->n_netif; i++)
			sl_arp_announce(w->netif[i]);
	if (w->qsbr != NULL) {
		rte_rcu_qsbr_thread_register(w->qsbr, w->id);
		rte_rcu_qsbr_thread_online(w->qsbr, w->id);
	}

	while (!*w->stop) {
		uint64_t t0 = rte_rdtsc(), t = t0, ph[SL_PHASE_N] = {0};
		unsigned int work;

		w->now_ms = t0 / w->tsc_per_ms;
		/*
		 * A newly published snapshot is taken here, between requests' events, and the
		 * quiescent state reported right after: from now on this worker loads no pointer
		 * to the old snapshot but through the sessions that still hold it (proxy.h).
		 */
		sl_proxy_worker_poll(w);
		if (w->qsbr != NULL)
			rte_rcu_qsbr_quiescent(w->qsbr, w->id);
		sl_tcp_clock(w->tcp, t0 / w->tsc_per_us);
		work = worker_poll_ports(w, ph, &t);
		work += worker_poll_peers(w);
		/*
		 * Timers after input: when the worker did not run for a while (a slow
		 * iteration, a shared CPU), the ACKs waiting in the RX ring stop the
		 * retransmission timers they answer instead of finding them fired.
		 * Timers first cost a spurious timeout per pause longer than the RTO:
		 * cwnd back to one segment and everything in flight sent again.
		 */
		phase_mark(ph, SL_PHASE_OTHER, &t);
		sl_tcp_poll(w->tcp, t0 / w->tsc_per_us);
		phase_mark(ph, SL_PHASE_TIMERS, &t);
		work += worker_poll_commands(w);
		if (unlikely(*w->drain) && !w->draining) {
			/* Graceful stop: no new connection; the proxy finishes what it has. */
			w->draining = true;
			sl_tcp_listen_refuse(w);
			sl_proxy_worker_drain(w);
		}
		if (w->now_ms >= w->next_tick_ms) {
			w->next_tick_ms = w->now_ms + SL_TICK_MS;
			for (unsigned int i = 0; i < w->n_netif; i++)
				sl_arp_tick(w->netif[i]);
			sl_proxy_worker_tick(w);
		}
		phase_mark(ph, SL_PHASE_OTHER, &t);
		sl_tcp_flush(w->tcp); /* corked connections' output (sl_tcp_cork) */
		phase_mark(ph, SL_PHASE_OUTPUT, &t);
		for (unsigned int i = 0; i < w->n_netif; i++) {
			if (sl_netif_tx_pending(w->netif[i])) {
				sl_netif_flush(w->netif[i]);
				work++;
			}
		}
		phase_mark(ph, SL_PHASE_TX, &t);
		sl_tcp_reap(w->tcp);
		w->iterations++;
		if (work) {
			phase_mark(ph, SL_PHASE_OTHER, &t);
			w->busy_cycles += t - t0;
			for (unsigned int k = 0; k < SL_PHASE_N; k++)
				w->phase_cycles[k] += ph[k];
			empty = 0;
		} else {
			worker_idle(w, &empty);
		}
	}
	if (w->qsbr != NULL) {
		rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
		rte_rcu_qsbr_thread_unregister(w->qsbr, w->id);
	}
	for (unsigned int i = 0; i < w->n_netif; i++) {
		sl_arp_flush_pending(w->netif[i]);
		sl_netif_flush(w->netif[i]);
		sl_netif_tx_discard(w->netif[i]);
	}
	return 0;
}
