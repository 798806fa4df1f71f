/* SPDX-License-Identifier: MIT */
/*
 * Receive memory: what the mbufs a connection pins cost, not the bytes they
 * carry.
 *
 * A 1-byte segment pins a whole mbuf (2 KB of data room, the mbuf and
 * mempool headers). Counting payload only, a peer sending tiny segments
 * made one connection hold a thousand times its window in memory, and a
 * few such connections emptied the pool the NIC refills its RX ring from;
 * then even the ACKs that would free memory could not arrive. So, after
 * Linux's skb->truesize accounting:
 *
 *  - a connection is charged the real size of the mbufs it holds (a whole
 *    pool object per segment): in-order data handed to the user and not
 *    consumed yet, and its reassembly queue. The worker's sum is the gauge
 *    stats.rcv_mem;
 *  - a connection may hold twice what a full window (rcvbuf) of full-sized
 *    segments takes; twice, so that a peer's other segment sizes (1448 with
 *    timestamps, a short one per burst) never make a difference;
 *  - the window it offers is the memory it has left times the payload it
 *    has been getting per byte of memory (a moving average over its
 *    segments, rcv_ratio), capped by rcvbuf as before: full-sized segments
 *    see the same window as before, tiny ones a window in proportion to
 *    their size;
 *  - the worker has a budget, a share of the mbuf pool
 *    (dataplane.tcp.rcv_mem_percent, split among the workers). Windows offer
 *    no more than what is left of 7/8 of it, and from there the worker is
 *    under pressure (counted each time it starts, until back under 3/4):
 *    windows stop opening; the right edge stays where it was (RFC 9293
 *    3.8.6), and the last 1/8 takes what was promised;
 *  - a segment that finds its connection or the worker over budget costs
 *    the connection's out-of-order data first, pruned from the far end
 *    (stats.ooo_pruned); failing that it is dropped (drops[tcp_rcv_mem]) and
 *    the peer sends it again, unless the connection holds almost nothing
 *    (under two mbufs): every connection can make progress, as Linux
 *    guarantees tcp_rmem[0] whatever the pressure;
 *  - whatever the budgets, once the pool is down to its reserve (1/16 of it
 *    plus what other lcores' mempool caches may hide) no payload is kept at
 *    all: the segment's ACK is processed and its mbuf goes back at once, so
 *    the RX ring can always be refilled.
 */
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/worker.h"
#include "tcp_conn.h"
#include "tcp_rcvmem.h"
#include "tcp_reass.h"

#define FRAME_OVERHEAD (14u + 20u + 20u) /* Ethernet, IPv4 and TCP headers of a full segment */
/* rcv_ratio is fixed point: 1 byte in a 2 KB mbuf is still ~7,000, a 9 KB segment fits 32 bits. */
#define RATIO_SHIFT 24

/* The payload of the full-sized segments the peer was told to send (our MSS option). */
static inline uint32_t
tcp_rmss(const struct sl_tcp_conn *c)
{
	return RTE_MAX((uint32_t)c->ifp->mtu - 40u, 536u);
}

/* Memory of one full-sized segment: one mbuf, or several for jumbo frames in small mbufs. */
static inline uint32_t
tcp_full_truesize(const struct sl_tcp_conn *c)
{
	const struct sl_tcp_worker *tw = c->tw;
	uint32_t frame = tcp_rmss(c) + FRAME_OVERHEAD;

	return (frame + tw->mbuf_room - 1) / tw->mbuf_room * tw->mbuf_truesize;
}

/*
 * Remembered for the last (rcvbuf, MTU) asked about: the window is worked out several times per
 * segment (each output, before and after each consumed piece), and the connections of a worker
 * share the configured rcvbuf and their port's MTU, so the two divisions are rarely needed.
 */
static __rte_noinline uint64_t
tcp_conn_mem_max_compute(const struct sl_tcp_conn *c)
{
	struct sl_tcp_worker *tw = c->tw;
	uint32_t rmss = tcp_rmss(c);
	uint64_t full = ((uint64_t)c->rcvbuf + rmss - 1) / rmss;

	tw->mem_max_rcvbuf = c->rcvbuf;
	tw->mem_max_mtu = c->ifp->mtu;
	tw->mem_max = 2 * full * tcp_full_truesize(c);
	return tw->mem_max;
}

static inline uint64_t
tcp_conn_mem_max(const struct sl_tcp_conn *c)
{
	const struct sl_tcp_worker *tw = c->tw;

	if (c->rcvbuf == tw->mem_max_rcvbuf && c->ifp->mtu == tw->mem_max_mtu)
		return tw->mem_max;
	return tcp_conn_mem_max_compute(c);
}

static inline uint32_t
tcp_ratio(const struct sl_tcp_conn *c)
{
	if (c->rcv_ratio != 0)
		return c->rcv_ratio;
	return (uint32_t)(((uint64_t)tcp_rmss(c) << RATIO_SHIFT) / tcp_full_truesize(c));
}

/* A moving average with gain 1/8, as RFC 6298 uses for the RTT. */
static void
tcp_ratio_sample(struct sl_tcp_conn *c, uint32_t len, uint32_t truesize)
{
	int64_t s = (int64_t)(((uint64_t)len << RATIO_SHIFT) / truesize);
	int64_t r = tcp_ratio(c);

	r += (s - r) / 8;
	c->rcv_ratio = r > 0 ? (uint32_t)r : 1;
}

static void
tcp_rcvmem_pressure(struct sl_tcp_worker *tw)
{
	bool low = tw->pool_free < tw->pool_reserve;

	if (!tw->rcv_pressure) {
		if (low || tw->stats.rcv_mem >= tw->rcv_mem_max - tw->rcv_mem_max / 8) {
			tw->rcv_pressure = true;
			tw->stats.rcv_mem_pressure++;
		}
	} else if (!low && tw->stats.rcv_mem <= tw->rcv_mem_max - tw->rcv_mem_max / 4) {
		tw->rcv_pressure = false;
	}
}

void
sl_tcp_rcvmem_init(struct sl_tcp_worker *tw)
{
	struct rte_mempool *mp = tw->w->pool;
	unsigned int pct = tw->cfg->rcv_mem_percent;
	unsigned int workers = RTE_MAX(tw->w->n_workers, 1u);
	uint32_t reserve;

	if (pct == 0)
		pct = SL_TCP_RCV_MEM_PERCENT_DEFAULT;
	tw->mbuf_truesize = mp->header_size + mp->elt_size + mp->trailer_size;
	tw->mbuf_room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	tw->mem_max_mtu = UINT32_MAX; /* tcp_conn_mem_max depends on the two above */
	tw->rcv_mem_max = (uint64_t)mp->size * tw->mbuf_truesize * pct / 100 / workers;
	/*
	 * rte_mempool_avail_count counts the free mbufs in every lcore's cache,
	 * which only that lcore can take: up to 1.5 caches for each of the
	 * others (the other workers and the main lcore).
	 */
	reserve = mp->size / 16 + workers * mp->cache_size * 3 / 2;
	tw->pool_reserve = RTE_MIN(reserve, mp->size / 4);
	tw->pool_free = rte_mempool_avail_count(mp);
	tw->pool_sampled_ms = sl_tcp_now_ms(tw);
	tw->rcv_pressure = false;
}

/*
 * Once per ms rather than per segment: the count walks every lcore's cache.
 * In between, sl_tcp_rcvmem_admit takes off what it keeps.
 */
void
sl_tcp_rcvmem_tick(struct sl_tcp_worker *tw)
{
	uint64_t ms = sl_tcp_now_ms(tw);

	if (ms == tw->pool_sampled_ms)
		return;
	tw->pool_sampled_ms = ms;
	tw->pool_free = rte_mempool_avail_count(tw->w->pool);
	tcp_rcvmem_pressure(tw);
}

static inline bool
tcp_fits(const struct sl_tcp_conn *c, uint32_t truesize)
{
	const struct sl_tcp_worker *tw = c->tw;

	return (uint64_t)c->rcv_held_mem + c->ooo_mem + truesize <= tcp_conn_mem_max(c) &&
	       tw->stats.rcv_mem + truesize <= tw->rcv_mem_max;
}

bool
sl_tcp_rcvmem_admit(struct sl_tcp_conn *c, const struct rte_mbuf *m, uint32_t seq, bool in_order)
{
	struct sl_tcp_worker *tw = c->tw;
	uint32_t t = sl_tcp_truesize(tw, m);
	bool pool_low = tw->pool_free < tw->pool_reserve + m->nb_segs;
	uint64_t held = (uint64_t)c->rcv_held_mem + c->ooo_mem, need = 0, over;

	tcp_ratio_sample(c, m->pkt_len, t);
	if (!pool_low && tcp_fits(c, t))
		goto keep;
	if (c->ooo != NULL) {
		if (pool_low) {
			need = UINT32_MAX;
		} else {
			over = held + t > tcp_conn_mem_max(c) ? held + t - tcp_conn_mem_max(c) : 0;
			need = tw->stats.rcv_mem + t > tw->rcv_mem_max
				   ? tw->stats.rcv_mem + t - tw->rcv_mem_max
				   : 0;
			need = RTE_MIN(RTE_MAX(need, over), (uint64_t)UINT32_MAX);
		}
		/* Only what lies beyond this segment: what is closer fills the hole sooner. */
		tw->stats.ooo_pruned += sl_tcp_ooo_prune(c, seq, (uint32_t)need);
		held = (uint64_t)c->rcv_held_mem + c->ooo_mem;
		if (!pool_low && tcp_fits(c, t))
			goto keep;
	}
	if (!pool_low && in_order && held < 2u * tw->mbuf_truesize)
		goto keep;
	tw->stats.drops[SL_TCP_DROP_RCV_MEM]++;
	return false;

keep:
	tw->pool_free = tw->pool_free > m->nb_segs ? tw->pool_free - m->nb_segs : 0;
	return true;
}

void
sl_tcp_rcvmem_hold(struct sl_tcp_conn *c, const struct rte_mbuf *m, uint32_t len)
{
	uint32_t t = sl_tcp_truesize(c->tw, m);

	c->rcv_held += len;
	c->rcv_held_mem += t;
	c->tw->stats.rcv_mem += t;
	tcp_rcvmem_pressure(c->tw);
}

/*
 * The user reports bytes, not mbufs: each consumed byte gives back its share
 * of what the held bytes occupy, and the last one all of it.
 */
void
sl_tcp_rcvmem_consumed(struct sl_tcp_conn *c, uint32_t len)
{
	uint32_t t;

	if (len >= c->rcv_held) {
		t = c->rcv_held_mem;
		c->rcv_held = 0;
	} else {
		t = (uint32_t)((uint64_t)c->rcv_held_mem * len / c->rcv_held);
		c->rcv_held -= len;
	}
	c->rcv_held_mem -= t;
	c->tw->stats.rcv_mem -= t;
	tcp_rcvmem_pressure(c->tw);
}

void
sl_tcp_rcvmem_forget(struct sl_tcp_conn *c)
{
	c->tw->stats.rcv_mem -= c->rcv_held_mem;
	c->rcv_held_mem = 0;
	tcp_rcvmem_pressure(c->tw);
}

void
sl_tcp_rcvmem_ooo_charge(struct sl_tcp_conn *c, uint32_t truesize)
{
	c->ooo_mem += truesize;
	c->tw->stats.rcv_mem += truesize;
	tcp_rcvmem_pressure(c->tw);
}

void
sl_tcp_rcvmem_ooo_uncharge(struct sl_tcp_conn *c, uint32_t truesize)
{
	c->ooo_mem -= truesize;
	c->tw->stats.rcv_mem -= truesize;
	tcp_rcvmem_pressure(c->tw);
}

static inline uint32_t
tcp_rcvmem_window(const struct sl_tcp_conn *c)
{
	const struct sl_tcp_worker *tw = c->tw;
	uint64_t max = tcp_conn_mem_max(c), used = (uint64_t)c->rcv_held_mem + c->ooo_mem;
	uint64_t room, soft, wroom, win;

	if (tw->rcv_pressure)
		return 0;
	room = max > used ? max - used : 0;
	/*
	 * Promise no more than 7/8 of the budget: the rest absorbs what a
	 * window in bytes cannot say (a short segment costs a whole mbuf, the
	 * ratio is an average), so promised data is never over budget.
	 */
	soft = tw->rcv_mem_max - tw->rcv_mem_max / 8;
	wroom = soft > tw->stats.rcv_mem ? soft - tw->stats.rcv_mem : 0;
	room = RTE_MIN(room, wroom);
	win = room * tcp_ratio(c) >> RATIO_SHIFT;
	return win > UINT32_MAX ? UINT32_MAX : (uint32_t)win;
}

/*
 * rcvbuf less what the user holds, and no more than memory allows. Here rather than in
 * tcp_output.c so that the memory window inlines into it: it runs twice per consumed piece
 * and once per segment out.
 */
uint32_t
sl_tcp_rcv_window(const struct sl_tcp_conn *c)
{
	uint32_t win = c->rcvbuf > c->rcv_held ? c->rcvbuf - c->rcv_held : 0;

	return RTE_MIN(win, tcp_rcvmem_window(c));
}
