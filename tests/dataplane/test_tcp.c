/* SPDX-License-Identifier: MIT */
/*
 * The userspace TCP stack driven in-process, one segment at a time: each
 * test plays the peer. It builds frames (valid IPv4 and TCP checksums, the
 * options it wants), feeds them to a worker's netif as if the NIC had
 * received them, and parses what the stack hands to the device (a capture
 * function stands in for rte_eth_tx_burst). A recording set of callbacks
 * stands in for the proxy and can be told to close, abort or send from
 * inside a callback.
 *
 * EAL runs once, without PCI and without hugepages. Time is a virtual clock
 * advanced one millisecond at a time, the way the worker loop runs:
 * sl_tcp_poll (timers), flush TX, sl_tcp_reap. Every test gets a fresh TCP
 * worker; after each one every mbuf must be back in the pool, and no
 * callback may have been made on a handle the user had released.
 *
 * Peer 198.18.0.1, us 198.18.0.2; the listener is on port 80.
 */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "dataplane/net/cksum.h"
#include "dataplane/net/mbuf_chain.h"
#include "dataplane/net/netif.h"
#include "dataplane/net/tcp/tcp.h"
#include "dataplane/net/tcp/tcp_conn.h"
#include "dataplane/net/tcp/tcp_syncookie.h"
#include "dataplane/net/tcp/tcp_worker.h"
#include "dataplane/test_services.h"
#include "dataplane/worker.h"
#include "eal_fixture.h"
#include "wire.h"

#define POOL_SIZE 8191
#define CAP_MAX 2048
#define REC_MAX 300
#define FRAME_MAX 2048
#define MIN_FRAME 60
#define ETH_LEN 14u
#define T0_MS 1000000ull      /* virtual clock at the start of every test */
#define TS_OFFSET 0x12345000u /* our TSval clock starts here (tw->ts_offset) */
#define LPORT 80
#define MSS_TS 1448 /* 1500 - 40 - 12 */

#define IP4(a, b, c, d)                                                                            \
	RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_IP IP4(198, 18, 0, 2)
#define PEER_IP IP4(198, 18, 0, 1)

#define TH_FIN SL_TH_FIN
#define TH_SYN SL_TH_SYN
#define TH_RST SL_TH_RST
#define TH_PSH SL_TH_PSH
#define TH_ACK SL_TH_ACK

static const struct rte_ether_addr our_mac = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};

static struct rte_mempool *pool;
static unsigned int pool_avail_at_start;
static struct sl_worker worker;
static struct sl_netif ifp;
static struct sl_tcp_worker *tw;
static struct sl_config_tcp cfg;
static uint64_t now_us;
static uint32_t our_ip_cur; /* the address the peer talks to: OUR_IP, or a VIP in some tests */

/* ---- the device: what the stack sent, in order, with the time it left ---- */

static struct rte_mbuf *cap[CAP_MAX];
static uint64_t cap_t[CAP_MAX];
static unsigned int n_cap, cap_head, cap_overflow;

static uint16_t
tx_capture(struct sl_netif *i, struct rte_mbuf **pkts, uint16_t n)
{
	(void)i;
	for (uint16_t k = 0; k < n; k++) {
		if (n_cap == CAP_MAX) {
			cap_overflow++;
			rte_pktmbuf_free(pkts[k]);
			continue;
		}
		cap_t[n_cap] = now_us;
		cap[n_cap++] = pkts[k];
	}
	return n;
}

static unsigned int
pending(void)
{
	return n_cap - cap_head;
}

static void
drain(void)
{
	while (cap_head < n_cap)
		rte_pktmbuf_free(cap[cap_head++]);
	n_cap = cap_head = 0;
}

/* ---- the worker loop, with a virtual clock ---- */

static void
flush_and_reap(void)
{
	sl_tcp_flush(tw);
	sl_netif_flush(&ifp);
	sl_tcp_reap(tw);
}

/* Only when no timer is armed: the wheel starts over at `us`. */
static void
set_clock(uint64_t us)
{
	now_us = us;
	worker.now_ms = us / 1000;
	tw->now_us = us;
	sl_timer_wheel_init(&tw->wheel, us / 1000);
}

static void
advance_ms(uint64_t ms)
{
	while (ms-- > 0) {
		now_us += 1000;
		worker.now_ms = now_us / 1000;
		sl_tcp_poll(tw, now_us);
		flush_and_reap();
	}
}

/* Advance until the stack sends something; returns the ms waited, or 0 if nothing came. */
static uint64_t
wait_frame(uint64_t max_ms)
{
	for (uint64_t i = 1; i <= max_ms; i++) {
		advance_ms(1);
		if (pending() > 0)
			return i;
	}
	return 0;
}

static uint32_t
now_ms32(void)
{
	return (uint32_t)(now_us / 1000) + TS_OFFSET;
}

/* ---- checksums and byte order ---- */

/* TCP pseudo-header of the IPv4 header at ip, for a TCP message of l4len bytes. */
static uint32_t
pseudo_sum(const uint8_t *ip, uint16_t l4len)
{
	return sum_add(0, ip + 12, 8) + IPPROTO_TCP + l4len;
}

/* The two byte streams: what the peer sends us, what we send the peer. */
static uint8_t
pat_in(uint32_t off)
{
	return (uint8_t)(off * 31u + 7u + (off >> 8));
}

static uint8_t
pat_out(uint32_t off)
{
	return (uint8_t)(off * 17u + 3u + (off >> 9));
}

/* ---- frames from the peer ---- */

struct seg_spec {
	uint16_t sport, dport; /* host order */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	const uint8_t *opt;
	unsigned int optlen; /* a multiple of 4 */
	const uint8_t *data;
	uint32_t len;
	uint8_t doff;	/* data offset to write instead of the right one (0: the right one) */
	bool bad_cksum; /* spoil the TCP checksum */
};

static struct rte_mbuf *
mbuf_from(const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, f, len);
	return m;
}

/* An Ethernet frame from the peer to us holding the segment; padded to 60 bytes like a NIC's. */
static struct rte_mbuf *
tcp_frame(const struct seg_spec *s)
{
	uint8_t f[FRAME_MAX];
	unsigned int hlen = 20 + s->optlen, l4 = hlen + s->len, tot = 20 + l4;
	unsigned int flen = ETH_LEN + tot;
	uint32_t src = PEER_IP, dst = our_ip_cur;
	uint8_t *ip = f + ETH_LEN, *th = ip + 20;

	CU_ASSERT_FATAL(s->optlen % 4 == 0 && s->optlen <= 40 && flen <= sizeof(f));
	memset(f, 0, flen < MIN_FRAME ? MIN_FRAME : flen);
	memcpy(f, &our_mac, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0x4321);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, 20)));
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)((s->doff ? s->doff : hlen / 4) << 4);
	th[13] = s->flags;
	put16(th + 14, s->win);
	if (s->optlen > 0)
		memcpy(th + 20, s->opt, s->optlen);
	if (s->len > 0)
		memcpy(th + hlen, s->data, s->len);
	uint16_t ck = (uint16_t)~sum_fold(sum_add(pseudo_sum(ip, (uint16_t)l4), th, l4));
	put16(th + 16, s->bad_cksum ? (uint16_t)(ck ^ 0x5555) : ck);
	return mbuf_from(f, flen < MIN_FRAME ? MIN_FRAME : flen);
}

/* True: frames go in as one RX burst, without the end of a poll iteration after each. */
static bool in_burst;

/* Receive one frame, then do what the worker loop does after a burst. */
static void
feed(struct rte_mbuf *m)
{
	sl_eth_input(&ifp, m);
	if (!in_burst)
		flush_and_reap();
}

static void
feed_spec(const struct seg_spec *s)
{
	feed(tcp_frame(s));
}

/* ---- frames from us ---- */

struct oseg {
	uint64_t t_us;
	bool tcp;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	unsigned int optlen;
	bool mss_ok, ws_ok, sackp, ts_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	unsigned int nsack;
	uint32_t sack[4][2];
	uint32_t len;
	uint8_t data[FRAME_MAX];
};

static void
parse_options(const uint8_t *p, unsigned int len, struct oseg *o)
{
	for (unsigned int i = 0; i < len;) {
		uint8_t kind = p[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		CU_ASSERT_FATAL(i + 1 < len && p[i + 1] >= 2 && i + p[i + 1] <= len);
		switch (kind) {
		case 2:
			CU_ASSERT(p[i + 1] == 4);
			o->mss_ok = true;
			o->mss = get16(p + i + 2);
			break;
		case 3:
			CU_ASSERT(p[i + 1] == 3);
			o->ws_ok = true;
			o->ws = p[i + 2];
			break;
		case 4:
			CU_ASSERT(p[i + 1] == 2);
			o->sackp = true;
			break;
		case 5:
			CU_ASSERT((p[i + 1] - 2) % 8 == 0);
			o->nsack = (p[i + 1] - 2) / 8;
			CU_ASSERT_FATAL(o->nsack <= 4);
			for (unsigned int k = 0; k < o->nsack; k++) {
				o->sack[k][0] = get32(p + i + 2 + 8 * k);
				o->sack[k][1] = get32(p + i + 6 + 8 * k);
			}
			break;
		case 8:
			CU_ASSERT(p[i + 1] == 10);
			o->ts_ok = true;
			o->tsval = get32(p + i + 2);
			o->tsecr = get32(p + i + 6);
			break;
		default:
			CU_FAIL("unknown option sent");
		}
		i += p[i + 1];
	}
}

/* Checks every frame needs (addresses, checksums, size) so that no test has to. */
static void
parse_frame(const struct rte_mbuf *m, struct oseg *o)
{
	uint8_t f[FRAME_MAX];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *ip = f + ETH_LEN, *th;
	uint32_t src = our_ip_cur, dst = PEER_IP;
	unsigned int tot, doff;

	memset(o, 0, offsetof(struct oseg, data));
	/* Never more than the MTU on the wire. */
	CU_ASSERT(len <= ETH_LEN + ifp.mtu);
	CU_ASSERT_FATAL(len <= sizeof(f));
	const void *d = rte_pktmbuf_read(m, 0, len, f);
	CU_ASSERT_FATAL(d != NULL);
	if (d != f)
		memcpy(f, d, len);
	CU_ASSERT_FATAL(len >= ETH_LEN + 20);
	if (get16(f + 12) != RTE_ETHER_TYPE_IPV4 || ip[9] != IPPROTO_TCP)
		return;
	o->tcp = true;
	CU_ASSERT(memcmp(f, &peer_mac, 6) == 0);
	CU_ASSERT(memcmp(f + 6, &our_mac, 6) == 0);
	CU_ASSERT_EQUAL(ip[0], 0x45);
	tot = get16(ip + 2);
	CU_ASSERT_FATAL(tot == len - ETH_LEN && tot >= 40);
	CU_ASSERT(memcmp(ip + 12, &src, 4) == 0);
	CU_ASSERT(memcmp(ip + 16, &dst, 4) == 0);
	CU_ASSERT_EQUAL(sum_fold(sum_add(0, ip, 20)), 0xffff);
	th = ip + 20;
	CU_ASSERT_EQUAL(sum_fold(sum_add(pseudo_sum(ip, (uint16_t)(tot - 20)), th, tot - 20)),
			0xffff);
	o->sport = get16(th);
	o->dport = get16(th + 2);
	o->seq = get32(th + 4);
	o->ack = get32(th + 8);
	doff = (th[12] >> 4) * 4u;
	CU_ASSERT_FATAL(doff >= 20 && doff <= tot - 20);
	o->flags = th[13];
	o->win = get16(th + 14);
	o->optlen = doff - 20;
	parse_options(th + 20, doff - 20, o);
	o->len = tot - 20 - doff;
	memcpy(o->data, th + doff, o->len);
}

static bool
pop_frame(struct oseg *o)
{
	struct rte_mbuf *m;

	sl_netif_flush(&ifp); /* what an API call outside a poll iteration left in the TX buffer */
	if (cap_head == n_cap) {
		n_cap = cap_head = 0;
		return false;
	}
	m = cap[cap_head];
	o->t_us = cap_t[cap_head];
	cap_head++;
	parse_frame(m, o);
	o->t_us = cap_t[cap_head - 1];
	rte_pktmbuf_free(m);
	if (cap_head == n_cap)
		n_cap = cap_head = 0;
	return true;
}

#define EXPECT_NOTHING() CU_ASSERT_EQUAL(pending(), 0)

/* ---- the user: callbacks that record, and act when told to ---- */

enum act {
	ACT_NONE = 0,
	ACT_CLOSE,	   /* sl_tcp_close */
	ACT_ABORT,	   /* sl_tcp_abort */
	ACT_REJECT,	   /* accepted returns -1 */
	ACT_CONSUME_CLOSE, /* sl_tcp_consumed on everything, then sl_tcp_close */
	ACT_SEND,	   /* sl_tcp_send send_len more bytes of the stream */
};

struct rec {
	struct sl_tcp_conn *c;
	bool live; /* the handle is valid for the user */
	unsigned int accepted, connected, readable, writable, peer_closed, closed, errors;
	int err;
	uint32_t bytes;	    /* payload delivered */
	uint32_t held;	    /* delivered, not yet passed to sl_tcp_consumed */
	uint32_t bad_bytes; /* delivered bytes that are not the peer's stream at their offset */
	bool len_mismatch;  /* `len` differed from the chain's pkt_len */
	void *first_buf;    /* buf_addr of the first mbuf ever delivered */
	bool consume;	    /* call sl_tcp_consumed at once */
	enum act on_accept, on_readable, on_peer_closed, on_error, on_writable;
	uint32_t send_off, send_len; /* ACT_SEND: stream offset and length of the next send */
	uint32_t wnd_at_writable;    /* the send window the last writable callback saw */
	int send_rc;
};

static struct rec recs[REC_MAX];
static unsigned int n_recs;
static struct rec rec_template;	    /* what a new rec is told to do */
static unsigned int dead_callbacks; /* callbacks on a handle the user had released */

static struct rec *
rec_new(void)
{
	struct rec *r;

	CU_ASSERT_FATAL(n_recs < REC_MAX);
	r = &recs[n_recs++];
	*r = rec_template;
	return r;
}

static struct rec *
rec_of(struct sl_tcp_conn *c)
{
	struct rec *r = sl_tcp_user(c);

	if (r == NULL || !r->live || r->c != c)
		dead_callbacks++;
	return r;
}

/* A chain of len bytes of our stream from offset off, in mbufs of `piece` bytes. */
static struct rte_mbuf *
make_data(uint32_t off, uint32_t len, uint32_t piece)
{
	struct rte_mbuf *head = NULL;

	while (len > 0) {
		uint32_t n = RTE_MIN(len, piece);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *p;

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (uint32_t i = 0; i < n; i++)
			p[i] = pat_out(off + i);
		if (head == NULL)
			head = m;
		else
			CU_ASSERT_FATAL(rte_pktmbuf_chain(head, m) == 0);
		off += n;
		len -= n;
	}
	return head;
}

/* sl_tcp_send of our stream [off, off + len); frees the chain if the stack refuses it. */
static int
send_data(struct sl_tcp_conn *c, uint32_t off, uint32_t len)
{
	struct rte_mbuf *m = make_data(off, len, 2000);
	int rc = sl_tcp_send(c, m);

	if (rc != 0)
		rte_pktmbuf_free(m);
	flush_and_reap();
	return rc;
}

static void
do_act(struct rec *r, struct sl_tcp_conn *c, enum act a)
{
	switch (a) {
	case ACT_CLOSE:
		r->live = false;
		sl_tcp_close(c);
		break;
	case ACT_ABORT:
		r->live = false;
		sl_tcp_abort(c);
		break;
	case ACT_CONSUME_CLOSE:
		sl_tcp_consumed(c, r->held);
		r->held = 0;
		r->live = false;
		sl_tcp_close(c);
		break;
	case ACT_SEND: {
		struct rte_mbuf *m = make_data(r->send_off, r->send_len, 2000);

		r->send_rc = sl_tcp_send(c, m);
		if (r->send_rc == 0)
			r->send_off += r->send_len;
		else
			rte_pktmbuf_free(m);
		break;
	}
	default:
		break;
	}
}

static int
on_accepted(struct sl_tcp_conn *c)
{
	struct rec *r = sl_tcp_user(c);

	if (r == NULL) { /* the listener's arg: a new passive connection */
		r = rec_new();
		r->c = c;
		r->live = true;
		sl_tcp_set_user(c, r);
	} else {
		rec_of(c);
	}
	r->accepted++;
	if (r->on_accept == ACT_REJECT) {
		r->live = false;
		return -1;
	}
	do_act(r, c, r->on_accept);
	return 0;
}

static void
on_connected(struct sl_tcp_conn *c)
{
	rec_of(c)->connected++;
}

static void
on_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct rec *r = rec_of(c);
	uint32_t off = 0;

	r->readable++;
	if (r->first_buf == NULL)
		r->first_buf = data->buf_addr;
	if (rte_pktmbuf_pkt_len(data) != len)
		r->len_mismatch = true;
	for (struct rte_mbuf *s = data; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		for (uint32_t i = 0; i < s->data_len; i++, off++)
			if (p[i] != pat_in(r->bytes + off))
				r->bad_bytes++;
	}
	if (off != len)
		r->len_mismatch = true;
	rte_pktmbuf_free(data);
	r->bytes += len;
	if (r->consume)
		sl_tcp_consumed(c, len);
	else
		r->held += len;
	do_act(r, c, r->on_readable);
}

static void
on_writable(struct sl_tcp_conn *c)
{
	struct rec *r = rec_of(c);

	r->writable++;
	r->wnd_at_writable = c->snd_wnd;
	do_act(r, c, r->on_writable);
}

static void
on_peer_closed(struct sl_tcp_conn *c)
{
	struct rec *r = rec_of(c);

	r->peer_closed++;
	do_act(r, c, r->on_peer_closed);
}

static void
on_closed(struct sl_tcp_conn *c)
{
	struct rec *r = rec_of(c);

	r->closed++;
	r->live = false;
}

static void
on_error(struct sl_tcp_conn *c, int err)
{
	struct rec *r = rec_of(c);

	r->errors++;
	r->err = err;
	/* The handle is still valid while the callback runs. */
	if (r->on_error == ACT_ABORT)
		sl_tcp_abort(c);
	else if (r->on_error == ACT_CLOSE)
		sl_tcp_close(c);
	r->live = false;
}

static const struct sl_tcp_ops rec_ops = {
    .accepted = on_accepted,
    .connected = on_connected,
    .readable = on_readable,
    .writable = on_writable,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
    .error = on_error,
};

/* ---- the peer ---- */

#define PO_MSS 0x01
#define PO_WS 0x02
#define PO_SACK 0x04
#define PO_TS 0x08
#define PO_ALL (PO_MSS | PO_WS | PO_SACK | PO_TS)

struct peer {
	uint16_t port;	    /* the peer's port, host order */
	uint16_t lport;	    /* ours, host order */
	uint8_t opts;	    /* PO_*: what the peer offers in its SYN */
	uint8_t ws;	    /* the peer's window scale */
	uint16_t mss;	    /* the peer's MSS option */
	uint32_t iss;	    /* the peer's ISN */
	uint32_t our_iss;   /* ours, from the SYN-ACK (or SYN) */
	uint32_t snd_nxt;   /* the peer's next sequence number */
	uint32_t rcv_nxt;   /* what the peer acknowledges */
	uint16_t win;	    /* window field the peer sends */
	bool ts;	    /* timestamps negotiated */
	uint32_t ts_base;   /* the peer's TSval is ts_base + virtual ms */
	uint32_t ts_recent; /* our last TSval, which the peer echoes */
	struct rec *r;
	struct sl_tcp_conn *c;
};

/* The peer's stream offset `off` as a sequence number, and ours. */
#define IN(p, off) ((uint32_t)((p)->iss + 1u + (uint32_t)(off)))
#define OUT(p, off) ((uint32_t)((p)->our_iss + 1u + (uint32_t)(off)))

static void
peer_init(struct peer *p, uint16_t port, uint8_t opts)
{
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->lport = LPORT;
	p->opts = opts;
	p->ws = 7;
	p->mss = 1460;
	p->iss = 0x10000000u + (uint32_t)port * 0x10000u;
	p->snd_nxt = p->iss;
	p->win = 65535;
	p->ts_base = 0x01000000u;
}

static uint32_t
peer_tsval(const struct peer *p)
{
	return p->ts_base + (uint32_t)(now_us / 1000);
}

static unsigned int
syn_options(const struct peer *p, uint8_t *o, uint32_t tsecr)
{
	unsigned int n = 0;

	if (p->opts & PO_MSS) {
		o[n++] = 2;
		o[n++] = 4;
		put16(o + n, p->mss);
		n += 2;
	}
	if (p->opts & PO_SACK) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 4;
		o[n++] = 2;
	}
	if (p->opts & PO_TS) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 8;
		o[n++] = 10;
		put32(o + n, peer_tsval(p));
		put32(o + n + 4, tsecr);
		n += 8;
	}
	if (p->opts & PO_WS) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = p->ws;
	}
	return n;
}

/* A segment from the peer with its usual options (timestamps if negotiated) and SACK blocks. */
static void
peer_send(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data,
	  uint32_t len, const uint32_t (*sack)[2], unsigned int nsack)
{
	uint8_t opt[40];
	unsigned int n = 0;
	struct seg_spec s = {
	    .sport = p->port,
	    .dport = p->lport,
	    .flags = flags,
	    .seq = seq,
	    .ack = (flags & TH_ACK) ? ack : 0,
	    .win = p->win,
	    .opt = opt,
	    .data = data,
	    .len = len,
	};

	if (p->ts) {
		opt[n++] = 1;
		opt[n++] = 1;
		opt[n++] = 8;
		opt[n++] = 10;
		put32(opt + n, peer_tsval(p));
		put32(opt + n + 4, p->ts_recent);
		n += 8;
	}
	if (nsack > 0) {
		opt[n++] = 1;
		opt[n++] = 1;
		opt[n++] = 5;
		opt[n++] = (uint8_t)(2 + 8 * nsack);
		for (unsigned int i = 0; i < nsack; i++) {
			put32(opt + n, sack[i][0]);
			put32(opt + n + 4, sack[i][1]);
			n += 8;
		}
	}
	s.optlen = n;
	feed_spec(&s);
}

static void
peer_syn(struct peer *p)
{
	uint8_t opt[40];
	struct seg_spec s = {
	    .sport = p->port,
	    .dport = p->lport,
	    .flags = TH_SYN,
	    .seq = p->iss,
	    .win = p->win,
	    .opt = opt,
	};

	s.optlen = syn_options(p, opt, 0);
	p->snd_nxt = p->iss + 1;
	feed_spec(&s);
}

/* The peer's SYN-ACK to our SYN (active open) or to our SYN-ACK's SYN (simultaneous open). */
static void
peer_syn_ack(struct peer *p, uint32_t ack)
{
	uint8_t opt[40];
	struct seg_spec s = {
	    .sport = p->port,
	    .dport = p->lport,
	    .flags = TH_SYN | TH_ACK,
	    .seq = p->iss,
	    .ack = ack,
	    .win = p->win,
	    .opt = opt,
	};

	s.optlen = syn_options(p, opt, p->ts_recent);
	p->snd_nxt = p->iss + 1;
	feed_spec(&s);
}

static void
peer_ack(struct peer *p)
{
	peer_send(p, TH_ACK, p->snd_nxt, p->rcv_nxt, NULL, 0, NULL, 0);
}

/* The peer acknowledges our stream up to offset off. */
static void
peer_ack_out(struct peer *p, uint32_t off)
{
	p->rcv_nxt = OUT(p, off);
	peer_ack(p);
}

/* Bytes [off, off + len) of the peer's stream, with extra flags (FIN, PSH). */
static void
peer_data_flags(struct peer *p, uint32_t off, uint32_t len, uint8_t flags)
{
	uint8_t d[FRAME_MAX];
	uint32_t end;

	CU_ASSERT_FATAL(len <= 1500);
	for (uint32_t i = 0; i < len; i++)
		d[i] = pat_in(off + i);
	peer_send(p, TH_ACK | flags, IN(p, off), p->rcv_nxt, d, len, NULL, 0);
	end = IN(p, off + len) + ((flags & TH_FIN) ? 1 : 0);
	if (sl_seq_gt(end, p->snd_nxt))
		p->snd_nxt = end;
}

static void
peer_data(struct peer *p, uint32_t off, uint32_t len)
{
	peer_data_flags(p, off, len, 0);
}

/* The peer's FIN after `off` bytes of its stream. */
static void
peer_fin(struct peer *p, uint32_t off)
{
	peer_send(p, TH_ACK | TH_FIN, IN(p, off), p->rcv_nxt, NULL, 0, NULL, 0);
	if (sl_seq_gt(IN(p, off) + 1, p->snd_nxt))
		p->snd_nxt = IN(p, off) + 1;
}

static void
peer_rst(struct peer *p, uint32_t seq)
{
	peer_send(p, TH_RST, seq, 0, NULL, 0, NULL, 0);
}

/* The next frame we sent: a segment of p's connection. Learns our TSval for the echo. */
static void
expect_seg(struct peer *p, struct oseg *o)
{
	CU_ASSERT_FATAL(pop_frame(o));
	CU_ASSERT_FATAL(o->tcp);
	CU_ASSERT_EQUAL(o->dport, p->port);
	if (p->lport != 0)
		CU_ASSERT_EQUAL(o->sport, p->lport);
	if (o->ts_ok)
		p->ts_recent = o->tsval;
}

/* Flags, sequence and acknowledgment numbers of the next segment. */
#define EXPECT_SEG(p, o, fl, sq, ak)                                                               \
	do {                                                                                       \
		expect_seg((p), (o));                                                              \
		CU_ASSERT_EQUAL((o)->flags, (fl));                                                 \
		CU_ASSERT_EQUAL((o)->seq, (uint32_t)(sq));                                         \
		CU_ASSERT_EQUAL((o)->ack, (uint32_t)(ak));                                         \
	} while (0)

/* The payload of o is our stream at its sequence number. */
static void
check_out_payload(const struct peer *p, const struct oseg *o)
{
	uint32_t off = o->seq - OUT(p, 0), bad = 0;

	for (uint32_t i = 0; i < o->len; i++)
		if (o->data[i] != pat_out(off + i))
			bad++;
	CU_ASSERT_EQUAL(bad, 0);
}

/* A data segment of ours: [OUT(off), +len), ACK set, payload checked. */
#define EXPECT_DATA(p, o, off, n)                                                                  \
	do {                                                                                       \
		expect_seg((p), (o));                                                              \
		CU_ASSERT_EQUAL((o)->seq, OUT((p), (off)));                                        \
		CU_ASSERT_EQUAL((o)->len, (uint32_t)(n));                                          \
		CU_ASSERT((o)->flags &TH_ACK);                                                     \
		check_out_payload((p), (o));                                                       \
	} while (0)

static void
peer_got_syn_ack(struct peer *p, const struct oseg *o)
{
	p->our_iss = o->seq;
	p->rcv_nxt = o->seq + 1;
	p->ts = (p->opts & PO_TS) && o->ts_ok;
}

static struct sl_tcp_conn *
find_conn(const struct peer *p)
{
	struct sl_tcp_key k;

	memset(&k, 0, sizeof(k));
	k.raddr = PEER_IP;
	k.laddr = OUR_IP;
	k.rport = rte_cpu_to_be_16(p->port);
	k.lport = rte_cpu_to_be_16(p->lport);
	return sl_tcp_conn_lookup(tw, &k);
}

/* p's 4-tuple in TIME-WAIT: the record that replaced the connection, or NULL. */
static struct sl_tcp_tw *
find_tw(const struct peer *p)
{
	struct sl_tcp_key k;

	memset(&k, 0, sizeof(k));
	k.raddr = PEER_IP;
	k.laddr = OUR_IP;
	k.rport = rte_cpu_to_be_16(p->port);
	k.lport = rte_cpu_to_be_16(p->lport);
	return sl_tcp_tw_lookup(tw, &k, rte_hash_hash(tw->tw_table, &k));
}

/* SYN, SYN-ACK, ACK with the peer's options; returns the accepted connection's record. */
static struct rec *
passive_open(struct peer *p)
{
	unsigned int before = n_recs;
	struct oseg o;

	peer_syn(p);
	expect_seg(p, &o);
	CU_ASSERT_FATAL(o.flags == (TH_SYN | TH_ACK) && o.ack == p->iss + 1);
	peer_got_syn_ack(p, &o);
	peer_ack(p);
	CU_ASSERT_FATAL(n_recs == before + 1);
	p->r = &recs[before];
	p->c = p->r->c;
	CU_ASSERT_EQUAL(p->r->accepted, 1);
	return p->r;
}

/* sl_tcp_connect to the peer; the peer answers with a SYN-ACK; returns the record. */
static struct rec *
active_open(struct peer *p)
{
	struct rec *r = rec_new();
	struct oseg o;
	int err = 1;

	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(p->port), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	CU_ASSERT_EQUAL(err, 0);
	r->live = true;
	p->lport = 0;
	expect_seg(p, &o);
	CU_ASSERT_FATAL(o.flags == TH_SYN);
	p->lport = o.sport;
	p->our_iss = o.seq;
	p->rcv_nxt = o.seq + 1;
	peer_syn_ack(p, o.seq + 1);
	p->ts = (p->opts & PO_TS) && o.ts_ok;
	EXPECT_SEG(p, &o, TH_ACK, OUT(p, 0), IN(p, 0));
	CU_ASSERT_EQUAL(r->connected, 1);
	p->r = r;
	p->c = r->c;
	return r;
}

/* Every connection is gone: table empty, gauges at zero, the connection pool full. */
static void
expect_all_closed(void)
{
	sl_tcp_reap(tw);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
	CU_ASSERT_EQUAL(tw->stats.conns_established, 0);
	CU_ASSERT_EQUAL(rte_hash_count(tw->table), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tw->conn_pool), cfg.max_connections);
	CU_ASSERT_EQUAL(tw->stats.conns_time_wait, 0);
	CU_ASSERT_EQUAL(rte_hash_count(tw->tw_table), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tw->tw_pool), RTE_MAX(cfg.max_connections, 64u));
}

static struct sl_tcp_listener *
listener(void)
{
	return sl_tcp_listener_find(tw, rte_cpu_to_be_16(LPORT));
}

/* ---- set-up ---- */

static void
learn_peer(void)
{
	uint8_t f[MIN_FRAME];
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(f + ETH_LEN);

	/* An ARP request from the peer for our address: we learn its MAC (and answer). */
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = peer_mac;
	ah->arp_data.arp_sip = PEER_IP;
	ah->arp_data.arp_tip = OUR_IP;
	feed(mbuf_from(f, sizeof(f)));
	CU_ASSERT_PTR_NOT_NULL(sl_arp_lookup(&ifp, PEER_IP));
	drain(); /* our ARP reply */
}

static void
start_worker(void)
{
	char err[256] = "";

	tw = sl_tcp_worker_create(&worker, &cfg, SOCKET_ID_ANY, err, sizeof(err));
	if (tw == NULL)
		fprintf(stderr, "sl_tcp_worker_create: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tw);
	worker.tcp = tw;
	tw->ts_offset = TS_OFFSET;
	set_clock(T0_MS * 1000);
	CU_ASSERT_FATAL(sl_tcp_listen(&worker, LPORT, &rec_ops, NULL) == 0);
}

static void
stop_worker(void)
{
	drain();
	sl_tcp_worker_free(tw);
	tw = NULL;
	worker.tcp = NULL;
}

/* Start over with another configuration (call before any connection exists). */
static void
restart_worker(void)
{
	stop_worker();
	start_worker();
}

static void
setup(void)
{
	memset(&worker, 0, sizeof(worker));
	memset(&ifp, 0, sizeof(ifp));
	memset(recs, 0, sizeof(recs));
	memset(&rec_template, 0, sizeof(rec_template));
	rec_template.consume = true;
	n_recs = 0;
	dead_callbacks = 0;
	cap_overflow = 0;
	n_cap = cap_head = 0;
	worker.n_workers = 1;
	worker.pool = pool;
	worker.n_netif = 1;
	worker.netif[0] = &ifp;
	ifp.w = &worker;
	ifp.mtu = 1500;
	ifp.mac = our_mac;
	ifp.ip = OUR_IP;
	our_ip_cur = OUR_IP;
	ifp.mask = IP4(255, 255, 255, 0);
	ifp.tx_burst = tx_capture;
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_connections = 256;
	cfg.syn_backlog = 8;
	cfg.time_wait_ms = 2000;
	cfg.rcvbuf = 65536;
	cfg.sndbuf = 65536;
	cfg.keepalive_ms = 0;
	cfg.rto_min_ms = 200;
	cfg.delayed_ack_ms = 40;
	pool_avail_at_start = rte_mempool_avail_count(pool);
	start_worker();
	worker.now_ms = T0_MS;
	learn_peer();
}

static void
teardown(void)
{
	stop_worker();
	sl_arp_flush_pending(&ifp);
	sl_netif_flush(&ifp);
	drain();
	CU_ASSERT_EQUAL(cap_overflow, 0);
	/* Nothing may call back on a handle the user released. */
	CU_ASSERT_EQUAL(dead_callbacks, 0);
	for (unsigned int i = 0; i < n_recs; i++) {
		CU_ASSERT_EQUAL(recs[i].bad_bytes, 0);
		CU_ASSERT_FALSE(recs[i].len_mismatch);
	}
	/* No test may leak or double-free an mbuf. */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), pool_avail_at_start);
}

/* ---- handshakes ---- */

static void
test_passive_open_answers_syn_with_the_options_offered(void)
{
	struct peer p;
	struct oseg o;
	struct sl_tcp_conn *c;

	peer_init(&p, 40001, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_EQUAL(o.ack, p.iss + 1);
	CU_ASSERT_EQUAL(o.len, 0);
	CU_ASSERT(o.mss_ok && o.mss == 1460); /* mtu - 40 */
	CU_ASSERT(o.ws_ok && o.ws == 1);      /* 65536 needs one shift */
	CU_ASSERT(o.sackp);
	CU_ASSERT(o.ts_ok);
	CU_ASSERT_EQUAL(o.tsecr, peer_tsval(&p));
	CU_ASSERT_EQUAL(o.tsval, now_ms32());
	CU_ASSERT_EQUAL(o.win, 65535); /* never scaled in a SYN */
	c = find_conn(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->state, SL_TCP_SYN_RECEIVED);
	CU_ASSERT_EQUAL(listener()->syn_queued, 1);
	CU_ASSERT_EQUAL(n_recs, 0); /* not shown to the user before the handshake completes */

	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].accepted, 1);
	CU_ASSERT_PTR_EQUAL(recs[0].c, c);
	CU_ASSERT_EQUAL(c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(c->flags & (SL_TF_TS_OK | SL_TF_SACK_OK | SL_TF_WS_OK),
			SL_TF_TS_OK | SL_TF_SACK_OK | SL_TF_WS_OK);
	CU_ASSERT_EQUAL(c->snd_wscale, 7);
	CU_ASSERT_EQUAL(c->rcv_wscale, 1);
	CU_ASSERT_EQUAL(c->mss, MSS_TS);
	CU_ASSERT_EQUAL(c->snd_wnd, 65535u << 7);
	CU_ASSERT_EQUAL(listener()->syn_queued, 0);
	CU_ASSERT_EQUAL(tw->stats.passive_opens, 1);
	CU_ASSERT_EQUAL(tw->stats.conns, 1);
	CU_ASSERT_EQUAL(tw->stats.conns_established, 1);
	EXPECT_NOTHING();
}

static void
test_passive_open_without_options_answers_with_mss_only(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40002, 0);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT(o.mss_ok && o.mss == 1460);
	CU_ASSERT_FALSE(o.ws_ok);
	CU_ASSERT_FALSE(o.sackp);
	CU_ASSERT_FALSE(o.ts_ok);
	CU_ASSERT_EQUAL(o.optlen, 4);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	p.c = recs[0].c;
	CU_ASSERT_EQUAL(p.c->flags & (SL_TF_TS_OK | SL_TF_SACK_OK | SL_TF_WS_OK), 0);
	CU_ASSERT_EQUAL(p.c->mss, 536);	     /* RFC 9293: no MSS option means 536 */
	CU_ASSERT_EQUAL(p.c->rcvbuf, 65535); /* no window scaling: at most 64 KiB - 1 */
	CU_ASSERT_EQUAL(p.c->snd_wnd, 65535);
}

static void
test_syn_ack_announces_mss_of_mtu_minus_40(void)
{
	struct peer p;
	struct oseg o;

	ifp.mtu = 1400;
	peer_init(&p, 40003, PO_MSS);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT(o.mss_ok && o.mss == 1360);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].c->mss, 1360); /* the peer's 1460 does not fit our MTU */
}

static void
test_syn_ack_is_retransmitted_with_exponential_backoff_then_given_up(void)
{
	static const uint64_t gaps[] = {1000, 2000, 4000, 8000, 16000};
	struct peer p;
	struct oseg o;
	uint32_t iss;

	peer_init(&p, 40004, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	iss = o.seq;
	for (unsigned int i = 0; i < RTE_DIM(gaps); i++) {
		CU_ASSERT_EQUAL(wait_frame(gaps[i] + 10), gaps[i]);
		EXPECT_SEG(&p, &o, TH_SYN | TH_ACK, iss, p.iss + 1);
		EXPECT_NOTHING();
	}
	CU_ASSERT_EQUAL(tw->stats.retransmits, RTE_DIM(gaps));
	/* SL_TCP_SYN_RETRIES retransmissions, then one more backed-off RTO and it is dropped. */
	advance_ms(32000 - 1);
	CU_ASSERT_PTR_NOT_NULL(find_conn(&p));
	advance_ms(1);
	CU_ASSERT_PTR_NULL(find_conn(&p));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(n_recs, 0); /* never accepted, so never told about */
	CU_ASSERT_EQUAL(tw->stats.conn_timeouts, 1);
	CU_ASSERT_EQUAL(listener()->syn_queued, 0);
	expect_all_closed();
}

static void
test_syn_ack_retransmission_keeps_room_for_timestamps_in_mss(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40005, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o); /* lost */
	CU_ASSERT_EQUAL(wait_frame(1010), 1000);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	p.c = recs[0].c;
	CU_ASSERT_EQUAL(p.c->mss, MSS_TS);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 3000), 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS); /* parse_frame also checks the frame fits the MTU */
	EXPECT_DATA(&p, &o, MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 2 * MSS_TS, 3000 - 2 * MSS_TS);
}

static void
test_duplicate_syn_in_syn_received_is_answered_with_syn_ack(void)
{
	struct peer p;
	struct oseg o;
	uint32_t iss;

	peer_init(&p, 40006, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	iss = o.seq;
	advance_ms(300);
	peer_syn(&p); /* our SYN-ACK was lost and the peer retransmits */
	EXPECT_SEG(&p, &o, TH_SYN | TH_ACK, iss, p.iss + 1);
	CU_ASSERT(o.mss_ok && o.ts_ok && o.sackp && o.ws_ok);
	CU_ASSERT_EQUAL(o.tsecr, peer_tsval(&p));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.conns, 1);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(recs[0].c->mss, MSS_TS);
}

static void
test_active_open_offers_every_option_and_completes(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	int err = 1;

	peer_init(&p, 8080, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(8080), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	CU_ASSERT_EQUAL(err, 0);
	p.lport = 0;
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN);
	CU_ASSERT(o.sport >= SL_TCP_EPHEMERAL_LO);
	CU_ASSERT(o.mss_ok && o.mss == 1460);
	CU_ASSERT(o.ws_ok && o.ws == 1);
	CU_ASSERT(o.sackp);
	CU_ASSERT(o.ts_ok && o.tsval == now_ms32() && o.tsecr == 0);
	CU_ASSERT_EQUAL(o.win, 65535);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(tw->stats.active_opens, 1);
	p.lport = o.sport;
	p.our_iss = o.seq;
	p.rcv_nxt = o.seq + 1;
	advance_ms(5);
	peer_syn_ack(&p, o.seq + 1);
	p.ts = true;
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT(o.ts_ok && o.tsecr == peer_tsval(&p));
	CU_ASSERT_FALSE(o.mss_ok || o.ws_ok || o.sackp);
	CU_ASSERT_EQUAL(o.win, 65536 >> 1);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->connected, 1);
	CU_ASSERT_EQUAL(r->accepted, 0);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(r->c->snd_wscale, 7);
	CU_ASSERT_EQUAL(r->c->mss, MSS_TS);
	CU_ASSERT_EQUAL(r->c->snd_wnd, 65535); /* unscaled in a SYN-ACK */
	CU_ASSERT_EQUAL(r->c->srtt_us, 5000);  /* from the timestamp echo */
}

static void
test_active_open_refused_by_rst_reports_econnrefused(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	int err;

	peer_init(&p, 8081, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(8081), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	p.lport = 0;
	expect_seg(&p, &o);
	p.lport = o.sport;
	/* A RST whose ACK is not for our SYN is ignored (RFC 9293 3.10.7.3). */
	peer_send(&p, TH_RST | TH_ACK, 0, o.seq + 5, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(r->errors, 0);
	peer_send(&p, TH_RST, 0, 0, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_SYN_SENT);
	peer_send(&p, TH_RST | TH_ACK, 0, o.seq + 1, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ECONNREFUSED);
	CU_ASSERT_EQUAL(tw->stats.connect_failures, 1);
	EXPECT_NOTHING();
	expect_all_closed();
}

static void
test_active_open_syn_ack_with_bad_ack_gets_rst(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	int err;

	peer_init(&p, 8082, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(8082), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	p.lport = 0;
	expect_seg(&p, &o);
	p.lport = o.sport;
	p.our_iss = o.seq;
	peer_syn_ack(&p, o.seq + 1000);
	EXPECT_SEG(&p, &o, TH_RST, p.our_iss + 1000, 0);
	/* The SYN again at once, behind the RST (tcp_syn_sent_bad_ack). */
	EXPECT_SEG(&p, &o, TH_SYN, p.our_iss, 0);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_ACK], 1);
	CU_ASSERT_EQUAL(r->errors + r->connected, 0);
	/* The right SYN-ACK still completes the handshake. */
	p.rcv_nxt = p.our_iss + 1;
	peer_syn_ack(&p, p.our_iss + 1);
	p.ts = true;
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(r->connected, 1);
}

/*
 * The peer's TIME-WAIT for our 4-tuple (from before a restart, or another
 * process that held the address) refuses our SYN with a bare ACK of its own
 * sequence space. We answer with the RST it needs (seq = SEG.ACK) and send
 * the SYN again right behind it, rather than a whole RTO later: a second of
 * stall per reused port was the p99 under connection churn. At most
 * SL_TCP_SYN_BAD_ACK_RESENDS times per connection; then only the RST, and
 * the RTO resends as before.
 */
static void
test_active_open_bad_ack_gets_rst_and_the_syn_again_at_once(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	uint32_t tw_snd = 0x7000000u, tw_rcv = 0x55555555u; /* the TIME-WAIT's sequence spaces */
	int err;

	peer_init(&p, 8090, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(8090), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	p.lport = 0;
	expect_seg(&p, &o);
	p.lport = o.sport;
	p.our_iss = o.seq;
	for (unsigned int i = 0; i < SL_TCP_SYN_BAD_ACK_RESENDS; i++) {
		advance_ms(1);
		peer_send(&p, TH_ACK, tw_snd, tw_rcv, NULL, 0, NULL, 0);
		EXPECT_SEG(&p, &o, TH_RST, tw_rcv, 0);
		EXPECT_SEG(&p, &o, TH_SYN, p.our_iss, 0);
		CU_ASSERT(o.mss_ok && o.ts_ok && o.sackp && o.ws_ok);
		EXPECT_NOTHING();
	}
	CU_ASSERT_EQUAL(tw->stats.syn_resends, SL_TCP_SYN_BAD_ACK_RESENDS);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_ACK], SL_TCP_SYN_BAD_ACK_RESENDS);
	/* Bounded: one more such ACK only gets its RST, and the RTO resends the SYN. */
	peer_send(&p, TH_ACK, tw_snd, tw_rcv, NULL, 0, NULL, 0);
	EXPECT_SEG(&p, &o, TH_RST, tw_rcv, 0);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.syn_resends, SL_TCP_SYN_BAD_ACK_RESENDS);
	CU_ASSERT_EQUAL(wait_frame(1100), 1000 - SL_TCP_SYN_BAD_ACK_RESENDS);
	EXPECT_SEG(&p, &o, TH_SYN, p.our_iss, 0);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 1);
	CU_ASSERT_EQUAL(r->errors, 0);
	/* The TIME-WAIT is gone: the answer is a SYN-ACK and the connection opens. */
	p.rcv_nxt = p.our_iss + 1;
	peer_syn_ack(&p, p.our_iss + 1);
	p.ts = true;
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(r->connected, 1);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_ESTABLISHED);
}

/* Open one connection to PEER_IP:port; its source port (host order), 0 on failure. */
static uint16_t
connect_port(uint16_t port, int *err)
{
	struct rec *r = rec_new();
	struct oseg o;

	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(port), &rec_ops, r, err);
	if (r->c == NULL)
		return 0;
	r->live = true;
	CU_ASSERT_FATAL(pop_frame(&o));
	CU_ASSERT_EQUAL(o.flags, TH_SYN);
	return o.sport;
}

static void
abort_all(void)
{
	for (unsigned int i = 0; i < n_recs; i++)
		if (recs[i].live) {
			recs[i].live = false;
			sl_tcp_abort(recs[i].c);
		}
	flush_and_reap();
	drain();
}

/*
 * RFC 6056 Algorithm 4: connections to one destination take successive
 * ports from a keyed starting point, each one owned by this worker; another
 * destination starts somewhere else. With three workers, worker 1 owns the
 * ports whose two low bits are 1.
 */
static void
test_active_open_ports_follow_rfc6056_and_stay_with_their_worker(void)
{
	uint16_t first, prev, p, other;
	int err;

	worker.n_workers = 3;
	worker.id = 1;
	first = prev = connect_port(8091, &err);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	for (unsigned int i = 0; i < 20; i++) {
		p = connect_port(8091, &err);
		CU_ASSERT_EQUAL_FATAL(err, 0);
		CU_ASSERT(p >= SL_TCP_EPHEMERAL_LO);
		CU_ASSERT_EQUAL(sl_tcp_port_owner(p, 3), 1);
		CU_ASSERT_EQUAL(p & 3, 1);
		/* The next port this worker owns, or the range wrapped. */
		CU_ASSERT(p == prev + 4 || p < prev);
		prev = p;
	}
	other = connect_port(8092, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(sl_tcp_port_owner(other, 3), 1);
	/* A different start for another destination (by 2^-13 chance the same). */
	CU_ASSERT(other != prev + 4 && other != first);
	abort_all();
	worker.n_workers = 1;
	worker.id = 0;
}

/*
 * When the ports near a destination's starting point are all taken, the
 * search gives up after SL_TCP_PORT_PROBES candidates with -EADDRNOTAVAIL,
 * counted, instead of walking the whole range; one free port among them is
 * found.
 */
static void
test_active_open_port_search_is_bounded(void)
{
	uint16_t ports[SL_TCP_PORT_PROBES], p;
	int err;

	CU_ASSERT_FATAL(cfg.max_connections >= SL_TCP_PORT_PROBES);
	memset(tw->port_perturb, 0, sizeof(tw->port_perturb));
	for (unsigned int i = 0; i < SL_TCP_PORT_PROBES; i++) {
		ports[i] = connect_port(8093, &err);
		CU_ASSERT_EQUAL_FATAL(err, 0);
	}
	/* Back to the first candidate: every port it may try is in use. */
	memset(tw->port_perturb, 0, sizeof(tw->port_perturb));
	p = connect_port(8093, &err);
	CU_ASSERT_EQUAL(p, 0);
	CU_ASSERT_EQUAL(err, -EADDRNOTAVAIL);
	CU_ASSERT_EQUAL(tw->stats.ports_exhausted, 1);
	n_recs--; /* that record never got a connection */
	/* Free the last one: it is found again, within the bound. */
	recs[SL_TCP_PORT_PROBES - 1].live = false;
	sl_tcp_abort(recs[SL_TCP_PORT_PROBES - 1].c);
	flush_and_reap();
	drain();
	memset(tw->port_perturb, 0, sizeof(tw->port_perturb));
	p = connect_port(8093, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(p, ports[SL_TCP_PORT_PROBES - 1]);
	CU_ASSERT_EQUAL(tw->stats.ports_exhausted, 1);
	abort_all();
}

static void
test_active_open_syn_is_retransmitted_then_times_out(void)
{
	static const uint64_t gaps[] = {1000, 2000, 4000, 8000, 16000};
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	int err;

	peer_init(&p, 8083, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(8083), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	p.lport = 0;
	expect_seg(&p, &o);
	p.lport = o.sport;
	for (unsigned int i = 0; i < RTE_DIM(gaps); i++) {
		CU_ASSERT_EQUAL(wait_frame(gaps[i] + 10), gaps[i]);
		expect_seg(&p, &o);
		CU_ASSERT_EQUAL(o.flags, TH_SYN);
	}
	CU_ASSERT_EQUAL(wait_frame(32000), 0);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ETIMEDOUT);
	CU_ASSERT_EQUAL(tw->stats.connect_failures, 1);
	expect_all_closed();
}

static void
test_simultaneous_open_reports_connected(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	int err;

	peer_init(&p, 8084, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(8084), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	p.lport = 0;
	expect_seg(&p, &o);
	p.lport = o.sport;
	p.our_iss = o.seq;
	p.ts_recent = o.tsval;
	/* The peer's SYN crosses ours (RFC 9293 figure 8). */
	peer_syn(&p);
	EXPECT_SEG(&p, &o, TH_SYN | TH_ACK, p.our_iss, p.iss + 1);
	CU_ASSERT(o.mss_ok && o.ws_ok && o.sackp && o.ts_ok);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_SYN_RECEIVED);
	p.ts = true;
	p.rcv_nxt = p.our_iss + 1;
	peer_syn_ack(&p, p.our_iss + 1);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(r->connected, 1);
	CU_ASSERT_EQUAL(r->accepted, 0);
	CU_ASSERT_EQUAL(n_recs, 1);
	CU_ASSERT_EQUAL(tw->stats.passive_opens, 0);
	drain();
	/* The peer's ACK of our SYN-ACK changes nothing. */
	peer_ack(&p);
	CU_ASSERT_EQUAL(r->connected, 1);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_ESTABLISHED);
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->bytes, 100);
}

/* ---- receiving ---- */

static void
test_in_order_data_is_handed_over_without_copy(void)
{
	struct peer p;
	struct rec *r;
	struct rte_mbuf *m;
	uint8_t d[1000], opt[12];
	void *buf;

	peer_init(&p, 40010, PO_ALL);
	r = passive_open(&p);
	for (unsigned int i = 0; i < sizeof(d); i++)
		d[i] = pat_in(i);
	opt[0] = opt[1] = 1;
	opt[2] = 8;
	opt[3] = 10;
	put32(opt + 4, peer_tsval(&p));
	put32(opt + 8, p.ts_recent);
	struct seg_spec s = {.sport = p.port,
			     .dport = LPORT,
			     .flags = TH_ACK | TH_PSH,
			     .seq = IN(&p, 0),
			     .ack = p.rcv_nxt,
			     .win = p.win,
			     .opt = opt,
			     .optlen = 12,
			     .data = d,
			     .len = sizeof(d)};
	m = tcp_frame(&s);
	buf = m->buf_addr;
	feed(m);
	CU_ASSERT_EQUAL(r->readable, 1);
	CU_ASSERT_EQUAL(r->bytes, 1000);
	CU_ASSERT_PTR_EQUAL(r->first_buf, buf); /* the very buffer the NIC filled */
	CU_ASSERT_EQUAL(tw->stats.bytes_in, 1000);
}

static void
test_single_segment_ack_is_delayed_by_delayed_ack_ms(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40011, PO_ALL);
	passive_open(&p);
	peer_data(&p, 0, 1000);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(wait_frame(100), 40);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 1000));
	CU_ASSERT_EQUAL(o.len, 0);
	EXPECT_NOTHING();
}

static void
test_second_full_segment_is_acked_at_once(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40012, PO_ALL);
	passive_open(&p);
	peer_data(&p, 0, MSS_TS);
	EXPECT_NOTHING();
	advance_ms(10);
	EXPECT_NOTHING();
	peer_data(&p, MSS_TS, MSS_TS);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 2 * MSS_TS));
	EXPECT_NOTHING();
	/* And the delayed-ACK timer is gone with it. */
	CU_ASSERT_EQUAL(wait_frame(100), 0);
}

/*
 * Full segments that come in one RX burst get one ACK, at the end of the poll
 * iteration, for all of them: not one per pair.
 */
static void
test_full_segments_of_one_burst_share_one_ack(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40014, PO_ALL);
	passive_open(&p);
	in_burst = true;
	for (uint32_t k = 0; k < 8; k++)
		peer_data(&p, k * MSS_TS, MSS_TS);
	sl_netif_flush(&ifp);
	EXPECT_NOTHING(); /* nothing during the burst */
	in_burst = false;
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 8 * MSS_TS));
	CU_ASSERT_EQUAL(o.len, 0);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(wait_frame(100), 0); /* and no delayed ACK after it */
	/* The same when the data is answered in that iteration: the ACK rides on the answer. */
	in_burst = true;
	peer_data(&p, 8 * MSS_TS, MSS_TS);
	peer_data(&p, 9 * MSS_TS, MSS_TS);
	in_burst = false;
	CU_ASSERT_EQUAL(sl_tcp_send(p.c, make_data(0, 100, 2000)), 0);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK | TH_PSH, OUT(&p, 0), IN(&p, 10 * MSS_TS));
	CU_ASSERT_EQUAL(o.len, 100);
	EXPECT_NOTHING();
}

/*
 * Two small segments in a large window (a backend's response head, then its
 * body) are not worth a pure ACK each: the ACK waits for the timer (or for
 * data going the other way), as Linux's receiver does.
 */
static void
test_two_small_segments_share_one_delayed_ack(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40013, PO_ALL);
	passive_open(&p);
	peer_data(&p, 0, 235);
	peer_data(&p, 235, 6);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(wait_frame(100), 40);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 241));
	CU_ASSERT_EQUAL(o.len, 0);
	EXPECT_NOTHING();
}

/* Without window scaling (64 KiB - 1 buffer) and without reading: fill `total` of the window. */
static void
fill_window(struct peer *p, uint32_t total)
{
	struct oseg o;
	uint32_t off = 0, last_ack = 0, last_win = 0;

	while (off < total) {
		uint32_t n = RTE_MIN((uint32_t)MSS_TS, total - off);

		peer_data(p, off, n);
		off += n;
		if (off == total)
			advance_ms(cfg.delayed_ack_ms);
		/* The right edge of the window never moves while nothing is consumed. */
		while (pending() > 0) {
			expect_seg(p, &o);
			CU_ASSERT_EQUAL(o.flags, TH_ACK);
			CU_ASSERT_EQUAL(o.ack, IN(p, off));
			CU_ASSERT_EQUAL(o.ack + o.win, IN(p, 65535));
			last_ack = o.ack;
			last_win = o.win;
		}
	}
	CU_ASSERT_EQUAL(last_ack, IN(p, total));
	CU_ASSERT_EQUAL(last_win, 65535 - total);
}

static void
test_receive_window_shrinks_until_consumed_then_reopens_with_update(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.consume = false;
	peer_init(&p, 40013, PO_MSS | PO_SACK | PO_TS);
	r = passive_open(&p);
	CU_ASSERT_EQUAL(p.c->rcvbuf, 65535);
	fill_window(&p, 65535);
	CU_ASSERT_EQUAL(r->bytes, 65535);
	CU_ASSERT_EQUAL(r->held, 65535);
	/* Consuming a little does not announce a silly window. */
	sl_tcp_consumed(p.c, 100);
	flush_and_reap();
	EXPECT_NOTHING();
	/* A segment's worth does: a window update, at once. */
	sl_tcp_consumed(p.c, 65435);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 65535));
	CU_ASSERT_EQUAL(o.win, 65535);
	EXPECT_NOTHING();
	/* And the peer may send again. */
	peer_data(&p, 65535, 1000);
	CU_ASSERT_EQUAL(r->bytes, 66535);
}

static void
test_segment_into_zero_window_is_dropped_and_acked(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.consume = false;
	peer_init(&p, 40014, PO_MSS | PO_SACK | PO_TS);
	r = passive_open(&p);
	fill_window(&p, 65535);
	peer_data(&p, 65535, 100);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 65535));
	CU_ASSERT_EQUAL(o.win, 0);
	CU_ASSERT_EQUAL(r->bytes, 65535);
	EXPECT_NOTHING();
}

static void
test_data_beyond_the_window_is_trimmed_to_fit(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.consume = false;
	peer_init(&p, 40015, PO_MSS | PO_SACK | PO_TS);
	r = passive_open(&p);
	fill_window(&p, 65535 - 100);
	peer_data(&p, 65535 - 100, 1000); /* 100 bytes fit */
	CU_ASSERT_EQUAL(r->bytes, 65535);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 65535));
	CU_ASSERT_EQUAL(o.win, 0);
	EXPECT_NOTHING();
}

static void
test_window_scale_shifts_both_directions(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	cfg.rcvbuf = 262144;
	restart_worker();
	rec_template.consume = false;
	peer_init(&p, 40016, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT(o.ws_ok && o.ws == 3); /* 262144 >> 3 fits in 16 bits */
	CU_ASSERT_EQUAL(o.win, 65535);
	peer_got_syn_ack(&p, &o);
	p.win = 40; /* the peer's window: 40 << 7 = 5120 bytes */
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	r = &recs[0];
	p.c = r->c;
	CU_ASSERT_EQUAL(p.c->snd_wscale, 7);
	CU_ASSERT_EQUAL(p.c->rcv_wscale, 3);
	CU_ASSERT_EQUAL(p.c->snd_wnd, 40u << 7);
	/* Our window, scaled down on the wire. */
	peer_data(&p, 0, 1000);
	CU_ASSERT_EQUAL(wait_frame(100), 40);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 1000));
	CU_ASSERT_EQUAL(o.win, (262144 - 1000) >> 3);
	/* The peer's window, scaled up: three full segments fit in 5120 bytes. */
	CU_ASSERT_EQUAL(send_data(p.c, 0, 10000), 0);
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
	p.win = 80;
	peer_ack_out(&p, 3 * MSS_TS); /* 10240 more bytes of window: the rest fits */
	for (unsigned int i = 3; i < 6; i++)
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 6 * MSS_TS, 10000 - 6 * MSS_TS);
	CU_ASSERT(o.flags & TH_PSH);
	EXPECT_NOTHING();
}

/* The clock that makes our ISN for the peer's 4-tuple `target`. */
static void
set_clock_for_iss(const struct peer *p, uint32_t target)
{
	uint32_t f = sl_tcp_isn(&tw->secret, OUR_IP, rte_cpu_to_be_16(p->lport), PEER_IP,
				rte_cpu_to_be_16(p->port), 0);

	set_clock(((uint64_t)(uint32_t)(target - f) << 2) + (1ull << 34));
}

static void
test_sequence_numbers_wrap_in_both_directions(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40017, PO_ALL);
	p.iss = 0xffffff80u;		    /* the peer's data crosses 2^32 */
	set_clock_for_iss(&p, 0xfffffc00u); /* and so does ours */
	r = passive_open(&p);
	CU_ASSERT_EQUAL(p.our_iss, 0xfffffc00u);
	for (uint32_t off = 0; off < 600; off += 100)
		peer_data(&p, off, 100);
	CU_ASSERT_EQUAL(r->bytes, 600);
	CU_ASSERT_EQUAL(p.c->rcv_nxt, 0xffffff81u + 600);
	advance_ms(40);
	while (pending() > 0)
		expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.ack, IN(&p, 600));
	CU_ASSERT(o.ack < 0x1000); /* wrapped */

	CU_ASSERT_EQUAL(send_data(p.c, 0, 4000), 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	EXPECT_DATA(&p, &o, MSS_TS, MSS_TS);
	CU_ASSERT(o.seq < 0x1000); /* crossed 2^32 */
	EXPECT_DATA(&p, &o, 2 * MSS_TS, 4000 - 2 * MSS_TS);
	peer_ack_out(&p, 2000);
	CU_ASSERT_EQUAL(p.c->snd_una, OUT(&p, 2000));
	CU_ASSERT_EQUAL(p.c->sq_bytes, 2000);
	peer_ack_out(&p, 4000);
	CU_ASSERT_EQUAL(p.c->snd_una, p.c->snd_max);
	CU_ASSERT_EQUAL(p.c->sq_bytes, 0);
	CU_ASSERT_EQUAL(wait_frame(1000), 0); /* no retransmission */
}

static void
test_out_of_order_segments_wait_for_the_hole(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40018, PO_ALL);
	r = passive_open(&p);
	peer_data(&p, 100, 100);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0)); /* at once: a duplicate ACK */
	CU_ASSERT_EQUAL(o.nsack, 1);
	CU_ASSERT(o.sack[0][0] == IN(&p, 100) && o.sack[0][1] == IN(&p, 200));
	peer_data(&p, 200, 100);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(o.nsack, 1);
	CU_ASSERT(o.sack[0][0] == IN(&p, 100) && o.sack[0][1] == IN(&p, 300));
	CU_ASSERT_EQUAL(r->bytes, 0);
	CU_ASSERT_EQUAL(tw->stats.ooo_segments, 2);
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->readable, 1); /* one chain */
	CU_ASSERT_EQUAL(r->bytes, 300);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 300)); /* at once: the hole is filled */
	CU_ASSERT_EQUAL(o.nsack, 0);
	CU_ASSERT_EQUAL(p.c->ooo_count, 0);
	EXPECT_NOTHING();
}

static void
test_dup_acks_carry_sack_blocks_most_recent_first(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40019, PO_ALL);
	passive_open(&p);
	peer_data(&p, 200, 100);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL_FATAL(o.nsack, 1);
	CU_ASSERT(o.sack[0][0] == IN(&p, 200) && o.sack[0][1] == IN(&p, 300));
	peer_data(&p, 400, 100);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL_FATAL(o.nsack, 2);
	CU_ASSERT(o.sack[0][0] == IN(&p, 400) && o.sack[0][1] == IN(&p, 500));
	CU_ASSERT(o.sack[1][0] == IN(&p, 200) && o.sack[1][1] == IN(&p, 300));
	peer_data(&p, 600, 100);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL_FATAL(o.nsack, 3);
	CU_ASSERT(o.sack[0][0] == IN(&p, 600) && o.sack[0][1] == IN(&p, 700));
	/* Filling between two blocks merges them, and the merged block comes first. */
	peer_data(&p, 300, 100);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.ack, IN(&p, 0));
	CU_ASSERT_EQUAL_FATAL(o.nsack, 2);
	CU_ASSERT(o.sack[0][0] == IN(&p, 200) && o.sack[0][1] == IN(&p, 500));
	CU_ASSERT(o.sack[1][0] == IN(&p, 600) && o.sack[1][1] == IN(&p, 700));
	EXPECT_NOTHING();
}

static void
test_duplicate_and_overlapping_segments_are_trimmed(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40020, PO_ALL);
	r = passive_open(&p);
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->bytes, 100);
	/* An exact duplicate: nothing delivered, an immediate ACK. */
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->readable, 1);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 100));
	/* Half old, half new: only the new half. */
	peer_data(&p, 50, 100);
	CU_ASSERT_EQUAL(r->bytes, 150);
	drain();
	/* Overlaps in the reassembly queue too. */
	peer_data(&p, 300, 100);
	peer_data(&p, 250, 100);
	peer_data(&p, 320, 30);
	peer_data(&p, 380, 100);
	CU_ASSERT_EQUAL(r->bytes, 150);
	CU_ASSERT_EQUAL(p.c->ooo_bytes, 230); /* [250, 480) */
	drain();
	peer_data(&p, 100, 160);
	CU_ASSERT_EQUAL(r->bytes, 480);
	CU_ASSERT_EQUAL(p.c->ooo_count, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 480));
	/* teardown checks every delivered byte against the peer's stream */
}

/* ---- sending ---- */

static void
test_send_cuts_segments_at_mss_and_pushes_the_last(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40030, PO_ALL);
	passive_open(&p);
	/* One chain of mbufs whose boundaries fall anywhere in the segments. */
	struct rte_mbuf *m = make_data(0, 5000, 1700);

	CU_ASSERT_EQUAL(sl_tcp_send(p.c, m), 0);
	flush_and_reap();
	for (unsigned int i = 0; i < 3; i++) {
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
		CU_ASSERT_EQUAL(o.flags, TH_ACK);
		CU_ASSERT_EQUAL(o.ack, IN(&p, 0));
		CU_ASSERT(o.ts_ok);
	}
	EXPECT_DATA(&p, &o, 3 * MSS_TS, 5000 - 3 * MSS_TS);
	CU_ASSERT_EQUAL(o.flags, TH_ACK | TH_PSH);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.bytes_out, 5000);
	/* Acknowledged data leaves the send queue, and no timer is left to fire. */
	peer_ack_out(&p, 5000);
	CU_ASSERT_EQUAL(p.c->sq_bytes, 0);
	CU_ASSERT_PTR_NULL(p.c->sq_head);
	CU_ASSERT_EQUAL(wait_frame(2000), 0);
}

static void
test_initial_window_is_ten_segments_and_grows_in_slow_start(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40031, PO_ALL);
	passive_open(&p);
	CU_ASSERT_EQUAL(p.c->cwnd, 10 * MSS_TS);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 60000), 0);
	for (unsigned int i = 0; i < 10; i++) {
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
		CU_ASSERT_EQUAL(o.flags, TH_ACK); /* not the last of the data: no PSH */
	}
	EXPECT_NOTHING();
	/* Two segments acknowledged: cwnd grows by 2 MSS (RFC 3465, L = 2), four go out. */
	peer_ack_out(&p, 2 * MSS_TS);
	CU_ASSERT_EQUAL(p.c->cwnd, 12 * MSS_TS);
	for (unsigned int i = 10; i < 14; i++)
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
}

static void
test_send_stops_at_the_peer_window(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40032, PO_MSS | PO_SACK | PO_TS); /* no window scaling */
	p.win = 4000;
	passive_open(&p);
	CU_ASSERT_EQUAL(p.c->snd_wnd, 4000);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 10000), 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	EXPECT_DATA(&p, &o, MSS_TS, MSS_TS);
	EXPECT_NOTHING(); /* 1104 bytes of window left: not worth a short segment */
	peer_ack_out(&p, 2 * MSS_TS);
	EXPECT_DATA(&p, &o, 2 * MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 3 * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
	CU_ASSERT(sl_seq_leq(p.c->snd_max, OUT(&p, 2 * MSS_TS) + 4000));
}

static void
test_zero_window_is_probed_with_backoff_until_it_opens(void)
{
	static const uint64_t gaps[] = {200, 400, 800, 1600, 3200};
	struct peer p;
	struct oseg o;

	peer_init(&p, 40033, PO_ALL);
	p.win = 0;
	passive_open(&p);
	CU_ASSERT_EQUAL(p.c->snd_wnd, 0);
	CU_ASSERT_EQUAL(p.c->rto_ms, 200);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_NOTHING();
	for (unsigned int i = 0; i < RTE_DIM(gaps); i++) {
		CU_ASSERT_EQUAL(wait_frame(gaps[i] + 10), gaps[i]);
		/* An ACK for a byte we sent long ago: no new data is committed. */
		EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0) - 1, IN(&p, 0));
		CU_ASSERT_EQUAL(o.len, 0);
		EXPECT_NOTHING();
		peer_ack(&p); /* the peer answers: still zero */
		EXPECT_NOTHING();
	}
	CU_ASSERT_EQUAL(tw->stats.zero_window_probes, RTE_DIM(gaps));
	CU_ASSERT_PTR_NOT_NULL(find_conn(&p)); /* a peer that answers is never given up */
	/* The window opens: the data goes at once. */
	p.win = 1000;
	peer_ack(&p);
	EXPECT_DATA(&p, &o, 0, 1000);
	CU_ASSERT(o.flags & TH_PSH);
	EXPECT_NOTHING();
	peer_ack_out(&p, 1000);
	CU_ASSERT_EQUAL(wait_frame(10000), 0); /* no probe, no retransmission */
}

static void
test_full_send_buffer_refuses_then_calls_writable(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40034, PO_ALL);
	r = passive_open(&p);
	CU_ASSERT_EQUAL(sl_tcp_send_space(p.c), 65536);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 65536), 0);
	CU_ASSERT_EQUAL(sl_tcp_send_space(p.c), 0);
	CU_ASSERT_EQUAL(send_data(p.c, 65536, 100), -EAGAIN);
	CU_ASSERT_EQUAL(r->writable, 0);
	for (unsigned int i = 0; i < 10; i++)
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
	/* Space frees up when data is acknowledged: writable, and the user sends from it. */
	r->on_writable = ACT_SEND;
	r->send_off = 65536;
	r->send_len = 100;
	peer_ack_out(&p, MSS_TS);
	CU_ASSERT_EQUAL(r->writable, 1);
	CU_ASSERT_EQUAL(r->send_rc, 0);
	CU_ASSERT_EQUAL(p.c->sq_bytes, 65536 - MSS_TS + 100);
	drain();
	/* Only once per refusal. */
	peer_ack_out(&p, 2 * MSS_TS);
	CU_ASSERT_EQUAL(r->writable, 1);
}

/* ---- loss recovery ---- */

static void
test_rto_retransmits_with_backoff_then_times_out(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;
	uint64_t rto = 200;

	peer_init(&p, 40040, PO_ALL);
	r = passive_open(&p);
	CU_ASSERT_EQUAL(p.c->rto_ms, 200); /* a tiny RTT: rto_min */
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	for (unsigned int i = 0; i < SL_TCP_RETRIES; i++) {
		CU_ASSERT_EQUAL(wait_frame(rto + 10), rto);
		EXPECT_DATA(&p, &o, 0, 1000);
		EXPECT_NOTHING();
		rto = RTE_MIN(rto * 2, (uint64_t)SL_TCP_RTO_MAX_MS);
	}
	CU_ASSERT_EQUAL(tw->stats.retransmits, SL_TCP_RETRIES);
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(wait_frame(rto), 0);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ETIMEDOUT);
	CU_ASSERT_EQUAL(tw->stats.conn_timeouts, 1);
	expect_all_closed();
}

static void
test_karn_retransmitted_segment_gives_no_rtt_sample(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40041, PO_MSS | PO_WS | PO_SACK); /* no timestamps */
	passive_open(&p);
	CU_ASSERT_EQUAL(p.c->srtt_us, 0);
	CU_ASSERT_EQUAL(p.c->rto_ms, 1000);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	CU_ASSERT_EQUAL(wait_frame(1010), 1000);
	EXPECT_DATA(&p, &o, 0, 1000);
	advance_ms(50);
	peer_ack_out(&p, 1000); /* for the original or the retransmission? Nobody knows. */
	CU_ASSERT_EQUAL(p.c->srtt_us, 0);
	CU_ASSERT_EQUAL(p.c->rto_ms, 1000);
	CU_ASSERT_EQUAL(p.c->backoff, 0);
	/* A segment sent once is timed. */
	CU_ASSERT_EQUAL(send_data(p.c, 1000, 1000), 0);
	EXPECT_DATA(&p, &o, 1000, 1000);
	advance_ms(100);
	peer_ack_out(&p, 2000);
	CU_ASSERT_EQUAL(p.c->srtt_us, 100000);
}

static void
test_rtt_samples_set_rto_per_rfc6298(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40042, PO_MSS | PO_WS | PO_SACK);
	passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	advance_ms(100);
	peer_ack_out(&p, 1000);
	/* First sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR. */
	CU_ASSERT_EQUAL(p.c->srtt_us, 100000);
	CU_ASSERT_EQUAL(p.c->rttvar_us, 50000);
	CU_ASSERT_EQUAL(p.c->rto_ms, 300);
	CU_ASSERT_EQUAL(send_data(p.c, 1000, 1000), 0);
	EXPECT_DATA(&p, &o, 1000, 1000);
	advance_ms(200);
	peer_ack_out(&p, 2000);
	/* RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R. */
	CU_ASSERT_EQUAL(p.c->rttvar_us, 62500);
	CU_ASSERT_EQUAL(p.c->srtt_us, 112500);
	CU_ASSERT_EQUAL(p.c->rto_ms, 362);
	/* And the timer uses it. */
	CU_ASSERT_EQUAL(send_data(p.c, 2000, 1000), 0);
	EXPECT_DATA(&p, &o, 2000, 1000);
	CU_ASSERT_EQUAL(wait_frame(400), 362);
	EXPECT_DATA(&p, &o, 2000, 1000);
}

/* Ten full segments in flight, [0, 10 MSS). */
static void
ten_segments_in_flight(struct peer *p)
{
	struct oseg o;

	CU_ASSERT_EQUAL(send_data(p->c, 0, 10 * MSS_TS), 0);
	for (unsigned int i = 0; i < 10; i++)
		EXPECT_DATA(p, &o, i * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
}

static void
test_fast_retransmit_on_third_duplicate_ack_not_second(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40043, PO_MSS | PO_WS | PO_TS); /* NewReno: no SACK */
	passive_open(&p);
	ten_segments_in_flight(&p);
	peer_ack_out(&p, 0); /* segment 0 was lost; 1 and 2 arrived */
	peer_ack_out(&p, 0);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.dup_acks_in, 2);
	CU_ASSERT_EQUAL(tw->stats.fast_retransmits, 0);
	peer_ack_out(&p, 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.fast_retransmits, 1);
	CU_ASSERT(p.c->flags & SL_TF_RECOVERY);
	/* ssthresh = FlightSize / 2, cwnd = ssthresh + 3 MSS (RFC 6582). */
	CU_ASSERT_EQUAL(p.c->ssthresh, 5 * MSS_TS);
	CU_ASSERT_EQUAL(p.c->cwnd, 8 * MSS_TS);
}

/*
 * CUBIC (RFC 9438) after a loss at W_max = 100 segments, with a 100 ms RTT so
 * that the cubic curve, not the Reno-friendly estimate, drives the window:
 * cwnd drops to beta W_max, climbs back concavely to W_max at t = K, then
 * probes beyond it.
 */
static void
test_cubic_regrows_to_wmax_at_k_then_probes_beyond(void)
{
	struct peer p;
	const uint32_t mss = MSS_TS;
	const double k_s = cbrt(100 * (1 - 0.7) / 0.4); /* 4.217 s */
	uint32_t at_half_k = 0, at_k = 0, at_2k = 0;

	cfg.cubic = true;
	restart_worker();
	peer_init(&p, 40060, PO_ALL);
	passive_open(&p);
	p.c->srtt_us = 100000;
	p.c->cwnd = 100 * mss;
	p.c->ssthresh = 50 * mss;
	sl_tcp_cc_enter_recovery(p.c);
	CU_ASSERT_EQUAL(p.c->ssthresh, 70 * mss);
	CU_ASSERT_EQUAL(p.c->cwnd, 70 * mss); /* SACK: no NewReno inflation */
	p.c->flags &= ~SL_TF_RECOVERY;
	/* One window of ACKs per RTT, for 2 K. */
	uint64_t start = now_us;
	for (unsigned int rtt = 0; rtt * 0.1 <= 2 * k_s + 0.2; rtt++) {
		set_clock(start + rtt * 100000ull);
		for (uint32_t acked = 0; acked < p.c->cwnd; acked += mss)
			sl_tcp_cc_ack(p.c, mss);
		double t = rtt * 0.1;
		if (at_half_k == 0 && t >= k_s / 2)
			at_half_k = p.c->cwnd / mss;
		if (at_k == 0 && t >= k_s)
			at_k = p.c->cwnd / mss;
		if (at_2k == 0 && t >= 2 * k_s)
			at_2k = p.c->cwnd / mss;
	}
	/* Concave: most of the way back by K/2; at W_max near K; beyond it later. */
	CU_ASSERT(at_half_k >= 94 && at_half_k <= 98); /* C (K/2)^3 below W_max: 96.25 */
	CU_ASSERT(at_k >= 97 && at_k <= 103);
	CU_ASSERT(at_2k > 110);
	cfg.cubic = false;
}

static void
test_newreno_partial_ack_retransmits_next_hole_and_full_ack_ends_recovery(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40044, PO_MSS | PO_WS | PO_TS);
	passive_open(&p);
	ten_segments_in_flight(&p); /* 0 and 3 are lost */
	for (unsigned int i = 0; i < 3; i++)
		peer_ack_out(&p, 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	/* The retransmission fills the first hole: a partial ACK up to the second. */
	peer_ack_out(&p, 3 * MSS_TS);
	EXPECT_DATA(&p, &o, 3 * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
	CU_ASSERT(p.c->flags & SL_TF_RECOVERY);
	/* Deflate by what was acknowledged, add back one MSS (RFC 6582 3.2 step 5). */
	CU_ASSERT_EQUAL(p.c->cwnd, 8 * MSS_TS - 3 * MSS_TS + MSS_TS);
	peer_ack_out(&p, 10 * MSS_TS);
	CU_ASSERT_FALSE(p.c->flags & SL_TF_RECOVERY);
	CU_ASSERT_EQUAL(p.c->ssthresh, 5 * MSS_TS);
	/* min(ssthresh, max(FlightSize, MSS) + MSS) with nothing left in flight. */
	CU_ASSERT_EQUAL(p.c->cwnd, 2 * MSS_TS);
	CU_ASSERT_EQUAL(tw->stats.retransmits, 2);
	EXPECT_NOTHING();
}

/* The peer's duplicate ACK for segment 0 with SACK blocks in MSS units [a, b). */
static void
sack_dup(struct peer *p, const unsigned int (*seg)[2], unsigned int n)
{
	uint32_t blocks[4][2];

	for (unsigned int i = 0; i < n; i++) {
		blocks[i][0] = OUT(p, seg[i][0] * MSS_TS);
		blocks[i][1] = OUT(p, seg[i][1] * MSS_TS);
	}
	peer_send(p, TH_ACK, p->snd_nxt, OUT(p, 0), NULL, 0, (const uint32_t(*)[2])blocks, n);
}

static void
test_sack_recovery_retransmits_only_lost_holes(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40045, PO_ALL);
	passive_open(&p);
	p.rcv_nxt = OUT(&p, 0);
	ten_segments_in_flight(&p); /* 0 and 2 are lost */
	sack_dup(&p, (const unsigned int[][2]){{1, 2}}, 1);
	sack_dup(&p, (const unsigned int[][2]){{3, 4}, {1, 2}}, 2);
	EXPECT_NOTHING();
	/* Three segments SACKed above segment 0: it is lost (RFC 6675 IsLost). */
	sack_dup(&p, (const unsigned int[][2]){{3, 5}, {1, 2}}, 2);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	EXPECT_NOTHING();
	CU_ASSERT(p.c->flags & SL_TF_RECOVERY);
	CU_ASSERT_EQUAL(p.c->ssthresh, 5 * MSS_TS);
	CU_ASSERT_EQUAL(p.c->cwnd, 5 * MSS_TS);
	sack_dup(&p, (const unsigned int[][2]){{3, 6}, {1, 2}}, 2);
	EXPECT_NOTHING(); /* the pipe is still full */
	sack_dup(&p, (const unsigned int[][2]){{3, 7}, {1, 2}}, 2);
	EXPECT_DATA(&p, &o, 2 * MSS_TS, MSS_TS); /* the second hole, once the pipe has room */
	EXPECT_NOTHING();
	sack_dup(&p, (const unsigned int[][2]){{3, 8}, {1, 2}}, 2);
	sack_dup(&p, (const unsigned int[][2]){{3, 9}, {1, 2}}, 2);
	sack_dup(&p, (const unsigned int[][2]){{3, 10}, {1, 2}}, 2);
	EXPECT_NOTHING(); /* nothing else is missing */
	CU_ASSERT_EQUAL(tw->stats.retransmits, 2);
	peer_ack_out(&p, 10 * MSS_TS);
	CU_ASSERT_FALSE(p.c->flags & SL_TF_RECOVERY);
	CU_ASSERT_EQUAL(p.c->ssthresh, 5 * MSS_TS);
	CU_ASSERT_EQUAL(p.c->cwnd, 2 * MSS_TS);
	CU_ASSERT_EQUAL(wait_frame(1000), 0);
}

static void
test_timeout_sets_ssthresh_to_half_flight_and_cwnd_to_one_segment(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40046, PO_ALL);
	passive_open(&p);
	ten_segments_in_flight(&p);
	/*
	 * The tail loss probe first (the tlp suite tests it), unanswered: at 2
	 * SRTT (under 1 ms, rounded up) + 2 ms, and the RTO when it was due.
	 */
	CU_ASSERT(p.c->srtt_us > 0 && p.c->srtt_us <= 500);
	CU_ASSERT_EQUAL(wait_frame(210), 3);
	EXPECT_DATA(&p, &o, 9 * MSS_TS, MSS_TS);
	CU_ASSERT_EQUAL(wait_frame(210), 197);
	EXPECT_DATA(&p, &o, 0, MSS_TS); /* one segment: cwnd = 1 MSS */
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.c->ssthresh, 5 * MSS_TS);
	CU_ASSERT_EQUAL(p.c->cwnd, MSS_TS);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 1);
	/* Slow start again from the first ACK, resending what followed (go-back-N). */
	peer_ack_out(&p, MSS_TS);
	CU_ASSERT_EQUAL(p.c->cwnd, 2 * MSS_TS);
	EXPECT_DATA(&p, &o, MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 2 * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
}

/* ---- tail loss probe (RFC 8985 7) ---- */

#define MSS_NOTS 1460 /* no timestamps: 1500 - 40 */
#define TLP_OFF 1000  /* stream offset after the RTT sample of tlp_open */

/*
 * A connection whose SRTT is `rtt_ms` exactly: no timestamps (the handshake
 * gives no sample then), one segment of TLP_OFF bytes acknowledged rtt_ms
 * later (RFC 6298 first sample: RTTVAR = R/2, RTO = max(3 R, rto_min)).
 */
static void
tlp_open(struct peer *p, uint16_t port, uint8_t opts, uint32_t rtt_ms)
{
	struct oseg o;

	peer_init(p, port, opts);
	passive_open(p);
	CU_ASSERT_EQUAL_FATAL(p->c->srtt_us, 0);
	CU_ASSERT_EQUAL(send_data(p->c, 0, TLP_OFF), 0);
	EXPECT_DATA(p, &o, 0, TLP_OFF);
	advance_ms(rtt_ms);
	peer_ack_out(p, TLP_OFF);
	CU_ASSERT_EQUAL_FATAL(p->c->srtt_us, rtt_ms * 1000);
	CU_ASSERT_EQUAL(p->c->mss, MSS_NOTS);
	EXPECT_NOTHING();
}

/* n full segments from TLP_OFF, all sent at once. */
static void
tlp_send_segments(struct peer *p, unsigned int n)
{
	struct oseg o;

	CU_ASSERT_EQUAL(send_data(p->c, TLP_OFF, n * MSS_NOTS), 0);
	for (unsigned int i = 0; i < n; i++)
		EXPECT_DATA(p, &o, TLP_OFF + i * MSS_NOTS, MSS_NOTS);
	EXPECT_NOTHING();
}

/*
 * Four segments; the last is lost and the peer's ACKs of the others are
 * late. The probe resends the last segment at 2 SRTT + 2 ms (42 ms), long
 * before the RTO (200 ms); its ACK completes the tail and no RTO fires.
 */
static void
test_tlp_resends_the_last_segment_at_two_srtt_and_its_ack_completes_the_tail(void)
{
	struct peer p;
	struct oseg o;

	tlp_open(&p, 40600, PO_MSS | PO_WS | PO_SACK, 20);
	CU_ASSERT_EQUAL(p.c->rto_ms, 200);
	tlp_send_segments(&p, 4);
	CU_ASSERT_EQUAL(p.c->rtx_mode, SL_TCP_RTX_TLP);
	CU_ASSERT_EQUAL(wait_frame(300), 42);
	EXPECT_DATA(&p, &o, TLP_OFF + 3 * MSS_NOTS, MSS_NOTS);
	CU_ASSERT(o.flags & TH_PSH);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
	CU_ASSERT_EQUAL(tw->stats.retransmits, 1);
	CU_ASSERT_EQUAL(p.c->retransmits, 1);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 0);
	/* After the probe, the RTO: no second probe in the episode. */
	CU_ASSERT_EQUAL(p.c->rtx_mode, SL_TCP_RTX_RTO);
	CU_ASSERT_EQUAL(p.c->tlp_state, SL_TCP_TLP_RETRANS);
	advance_ms(20);
	peer_ack_out(&p, TLP_OFF + 4 * MSS_NOTS);
	CU_ASSERT_EQUAL(p.c->snd_una, p.c->snd_max);
	CU_ASSERT_EQUAL(p.c->rtx_mode, SL_TCP_RTX_NONE);
	CU_ASSERT_EQUAL(wait_frame(1000), 0);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 0);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
	CU_ASSERT_EQUAL(p.r->errors, 0);
}

/*
 * The last two of four segments are lost; the ACK of the first two arrives
 * after an RTT and arms a new PTO (two segments out: no delayed-ACK
 * allowance). The probe is SACKed, which with two segments out is enough
 * for early retransmit (RFC 5827): the hole is resent at once, 62 ms after
 * the segments were sent instead of the RTO's 220.
 */
static void
test_tlp_sack_of_the_probe_repairs_the_hole_before_the_rto(void)
{
	struct peer p;
	struct oseg o;
	uint32_t blocks[1][2];

	tlp_open(&p, 40601, PO_MSS | PO_WS | PO_SACK, 20);
	tlp_send_segments(&p, 4);
	advance_ms(20);
	peer_ack_out(&p, TLP_OFF + 2 * MSS_NOTS);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.c->rtx_mode, SL_TCP_RTX_TLP);
	CU_ASSERT_EQUAL(wait_frame(300), 42);
	EXPECT_DATA(&p, &o, TLP_OFF + 3 * MSS_NOTS, MSS_NOTS);
	EXPECT_NOTHING();
	blocks[0][0] = OUT(&p, TLP_OFF + 3 * MSS_NOTS);
	blocks[0][1] = OUT(&p, TLP_OFF + 4 * MSS_NOTS);
	advance_ms(20);
	peer_send(&p, TH_ACK, p.snd_nxt, OUT(&p, TLP_OFF + 2 * MSS_NOTS), NULL, 0,
		  (const uint32_t(*)[2])blocks, 1);
	EXPECT_DATA(&p, &o, TLP_OFF + 2 * MSS_NOTS, MSS_NOTS);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.fast_retransmits, 1);
	CU_ASSERT_EQUAL(p.c->tlp_state, SL_TCP_TLP_NONE); /* recovery took the episode over */
	peer_ack_out(&p, TLP_OFF + 4 * MSS_NOTS);
	CU_ASSERT_EQUAL(p.c->snd_una, p.c->snd_max);
	CU_ASSERT_EQUAL(wait_frame(1000), 0);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 0);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
}

/*
 * Data waits behind the congestion window: the probe is a new segment
 * (RFC 8985 7.3), sent although cwnd is full. Unanswered, it is the only
 * probe of the episode, and the RTO comes when it was due without the probe
 * (200 ms after the flight left), with its usual backoff after.
 */
static void
test_tlp_sends_new_data_when_queued_and_an_unanswered_probe_leaves_the_rto_as_it_was(void)
{
	struct peer p;
	struct oseg o;
	unsigned int in_cwnd;

	tlp_open(&p, 40602, PO_MSS | PO_WS | PO_SACK, 20);
	in_cwnd = p.c->cwnd / MSS_NOTS;
	CU_ASSERT_FATAL(in_cwnd >= 4 && in_cwnd < 40);
	CU_ASSERT_EQUAL(send_data(p.c, TLP_OFF, (in_cwnd + 2) * MSS_NOTS), 0);
	for (unsigned int i = 0; i < in_cwnd; i++)
		EXPECT_DATA(&p, &o, TLP_OFF + i * MSS_NOTS, MSS_NOTS);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(wait_frame(300), 42);
	EXPECT_DATA(&p, &o, TLP_OFF + in_cwnd * MSS_NOTS, MSS_NOTS);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.c->tlp_state, SL_TCP_TLP_NEW);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
	CU_ASSERT_EQUAL(tw->stats.retransmits, 0);
	CU_ASSERT_EQUAL(p.c->snd_max, OUT(&p, TLP_OFF + (in_cwnd + 1) * MSS_NOTS));
	CU_ASSERT_EQUAL(wait_frame(300), 200 - 42);
	EXPECT_DATA(&p, &o, TLP_OFF, MSS_NOTS);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.timeouts, 1);
	CU_ASSERT_EQUAL(wait_frame(500), 400); /* backed off as ever */
	EXPECT_DATA(&p, &o, TLP_OFF, MSS_NOTS);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 2);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
}

/* One segment sent and never acknowledged: the ms until it goes again, and again after that. */
static void
tlp_lone_segment(struct peer *p, uint16_t port, uint64_t *first, uint64_t *second)
{
	struct oseg o;

	tlp_open(p, port, PO_MSS | PO_WS | PO_SACK, 20);
	tlp_send_segments(p, 1);
	*first = wait_frame(1100);
	EXPECT_DATA(p, &o, TLP_OFF, MSS_NOTS);
	*second = wait_frame(2100);
	EXPECT_DATA(p, &o, TLP_OFF, MSS_NOTS);
	peer_ack_out(p, TLP_OFF + MSS_NOTS);
	EXPECT_NOTHING();
}

/*
 * One segment in flight: the PTO adds 200 ms for the peer's delayed ACK, so
 * with rto_min 200 ms the RTO comes first and no probe is sent. With an RTO
 * of 1 s the probe goes at 2 SRTT + 200 ms, and the RTO when it was due.
 */
static void
test_tlp_with_one_segment_out_waits_for_a_delayed_ack_or_leaves_it_to_an_earlier_rto(void)
{
	struct peer p, q;
	uint64_t first, second;

	tlp_lone_segment(&p, 40603, &first, &second);
	CU_ASSERT_EQUAL(first, 200); /* the RTO */
	CU_ASSERT_EQUAL(second, 400);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 2);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 0);

	cfg.rto_min_ms = 1000;
	tlp_lone_segment(&q, 40604, &first, &second);
	CU_ASSERT_EQUAL(q.c->rto_ms, 1000);
	CU_ASSERT_EQUAL(first, 240); /* the probe: 2 x 20 + 200 */
	CU_ASSERT_EQUAL(second, 1000 - 240); /* the RTO, 1 s after the segment left */
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 3);
}

/* No probe without SACK, in fast recovery, or with nothing in flight: the RTO, or nothing. */
static void
test_tlp_not_without_sack_nor_in_recovery_nor_with_nothing_in_flight(void)
{
	struct peer p, q;
	struct oseg o;

	/* Without SACK: the RTO. */
	tlp_open(&p, 40605, PO_MSS | PO_WS, 20);
	tlp_send_segments(&p, 4);
	CU_ASSERT_EQUAL(p.c->rtx_mode, SL_TCP_RTX_RTO);
	CU_ASSERT_EQUAL(wait_frame(300), 200);
	EXPECT_DATA(&p, &o, TLP_OFF, MSS_NOTS);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 0);
	peer_ack_out(&p, TLP_OFF + 4 * MSS_NOTS);
	EXPECT_NOTHING();
	/* Nothing in flight: no timer at all. */
	CU_ASSERT_EQUAL(p.c->rtx_mode, SL_TCP_RTX_NONE);
	CU_ASSERT_EQUAL(wait_frame(1000), 0);

	/* In SACK recovery, a partial ACK restarts the RTO, not a PTO. */
	tlp_open(&q, 40606, PO_MSS | PO_WS | PO_SACK, 20);
	tlp_send_segments(&q, 8);
	uint32_t b[2][2] = {{OUT(&q, TLP_OFF + MSS_NOTS), OUT(&q, TLP_OFF + 2 * MSS_NOTS)},
			    {OUT(&q, TLP_OFF + 3 * MSS_NOTS), OUT(&q, TLP_OFF + 8 * MSS_NOTS)}};
	q.rcv_nxt = OUT(&q, TLP_OFF);
	peer_send(&q, TH_ACK, q.snd_nxt, q.rcv_nxt, NULL, 0, (const uint32_t(*)[2])b, 2);
	CU_ASSERT_FATAL(q.c->flags & SL_TF_RECOVERY);
	EXPECT_DATA(&q, &o, TLP_OFF, MSS_NOTS);
	drain();
	CU_ASSERT_EQUAL(q.c->rtx_mode, SL_TCP_RTX_RTO);
	advance_ms(20);
	peer_send(&q, TH_ACK, q.snd_nxt, OUT(&q, TLP_OFF + MSS_NOTS), NULL, 0,
		  (const uint32_t(*)[2])b, 2);
	CU_ASSERT(q.c->flags & SL_TF_RECOVERY);
	CU_ASSERT_EQUAL(q.c->rtx_mode, SL_TCP_RTX_RTO);
	drain();
	advance_ms(150);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 0);
}

/*
 * RFC 8985 7.4.2. The probe resent the tail, and an ACK beyond it comes
 * with no D-SACK or duplicate ACK before: the probe repaired a loss, cwnd
 * is halved (Reno), not collapsed. A D-SACK for the probe, or a duplicate
 * ACK of its end from a peer without D-SACK, says the original arrived:
 * cwnd keeps growing.
 */
static void
tlp_probe_then_ack_its_end(struct peer *p, uint16_t port)
{
	struct oseg o;

	tlp_open(p, port, PO_MSS | PO_WS | PO_SACK, 20);
	tlp_send_segments(p, 4);
	CU_ASSERT_EQUAL(wait_frame(300), 42);
	EXPECT_DATA(p, &o, TLP_OFF + 3 * MSS_NOTS, MSS_NOTS);
	advance_ms(20);
	peer_ack_out(p, TLP_OFF + 4 * MSS_NOTS);
	/* The original's ACK may have been late: nothing is known yet. */
	CU_ASSERT_EQUAL(p->c->tlp_state, SL_TCP_TLP_RETRANS);
	CU_ASSERT_EQUAL(p->c->ssthresh, UINT32_MAX);
}

/* More data, acknowledged: the ACK beyond the probe. */
static void
tlp_next_transfer(struct peer *p)
{
	struct oseg o;

	CU_ASSERT_EQUAL(send_data(p->c, TLP_OFF + 4 * MSS_NOTS, 1000), 0);
	EXPECT_DATA(p, &o, TLP_OFF + 4 * MSS_NOTS, 1000);
	advance_ms(20);
	peer_ack_out(p, TLP_OFF + 4 * MSS_NOTS + 1000);
	EXPECT_NOTHING();
}

static void
test_tlp_repairing_a_loss_halves_cwnd_and_a_dsack_or_dup_ack_does_not(void)
{
	struct peer p, q, r;
	uint32_t cwnd, blocks[1][2];

	/* Repaired a loss. */
	tlp_probe_then_ack_its_end(&p, 40607);
	cwnd = p.c->cwnd;
	tlp_next_transfer(&p);
	CU_ASSERT_EQUAL(p.c->tlp_state, SL_TCP_TLP_NONE);
	CU_ASSERT_EQUAL(p.c->ssthresh, cwnd / 2);
	CU_ASSERT_EQUAL(p.c->cwnd, cwnd / 2);
	CU_ASSERT_FALSE(p.c->flags & SL_TF_RECOVERY);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 0);

	/* A D-SACK for the probe: both copies arrived. */
	tlp_probe_then_ack_its_end(&q, 40608);
	blocks[0][0] = OUT(&q, TLP_OFF + 3 * MSS_NOTS);
	blocks[0][1] = OUT(&q, TLP_OFF + 4 * MSS_NOTS);
	peer_send(&q, TH_ACK, q.snd_nxt, q.rcv_nxt, NULL, 0, (const uint32_t(*)[2])blocks, 1);
	CU_ASSERT_EQUAL(q.c->tlp_state, SL_TCP_TLP_NONE);
	cwnd = q.c->cwnd;
	tlp_next_transfer(&q);
	CU_ASSERT_EQUAL(q.c->ssthresh, UINT32_MAX);
	CU_ASSERT_EQUAL(q.c->cwnd, cwnd + 1000); /* slow start goes on */

	/* A pure duplicate ACK of the probe's end (a peer without D-SACK): the same. */
	tlp_probe_then_ack_its_end(&r, 40609);
	peer_ack(&r);
	CU_ASSERT_EQUAL(r.c->tlp_state, SL_TCP_TLP_NONE);
	cwnd = r.c->cwnd;
	tlp_next_transfer(&r);
	CU_ASSERT_EQUAL(r.c->ssthresh, UINT32_MAX);
	CU_ASSERT_EQUAL(r.c->cwnd, cwnd + 1000);
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 3);
}

/* Our FIN at the tail: the probe resends the last segment with it. */
static void
test_tlp_resends_the_fin_with_the_last_segment(void)
{
	struct peer p;
	struct oseg o;

	tlp_open(&p, 40610, PO_MSS | PO_WS | PO_SACK, 20);
	CU_ASSERT_EQUAL(send_data(p.c, TLP_OFF, 3 * MSS_NOTS), 0);
	sl_tcp_shutdown(p.c);
	flush_and_reap();
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_DATA(&p, &o, TLP_OFF + i * MSS_NOTS, MSS_NOTS);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, TLP_OFF + 3 * MSS_NOTS), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_FIN_WAIT_1);
	CU_ASSERT_EQUAL(wait_frame(300), 42);
	EXPECT_DATA(&p, &o, TLP_OFF + 2 * MSS_NOTS, MSS_NOTS);
	CU_ASSERT(o.flags & TH_FIN);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.tlp_probes, 1);
	p.rcv_nxt = OUT(&p, TLP_OFF + 3 * MSS_NOTS) + 1;
	peer_ack(&p);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_FIN_WAIT_2);
	CU_ASSERT_EQUAL(tw->stats.timeouts, 0);
}

/* ---- closing ---- */

/* Our close, the peer's ACK and FIN: ends in TIME-WAIT (p's connection, nothing sent before). */
static void
close_to_time_wait(struct peer *p)
{
	struct oseg o;

	p->r->live = false;
	sl_tcp_close(p->c);
	flush_and_reap();
	EXPECT_SEG(p, &o, TH_ACK | TH_FIN, OUT(p, 0), IN(p, 0));
	CU_ASSERT_EQUAL(p->c->state, SL_TCP_FIN_WAIT_1);
	peer_ack_out(p, 1);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p->c->state, SL_TCP_FIN_WAIT_2);
	peer_fin(p, 0);
	EXPECT_SEG(p, &o, TH_ACK, OUT(p, 1), IN(p, 0) + 1);
	EXPECT_NOTHING();
	CU_ASSERT_PTR_NOT_NULL(find_tw(p));
	CU_ASSERT_PTR_NULL(find_conn(p)); /* the TCB is gone; a small record stands in */
}

/* Our close, the peer's ACK and FIN: as close_to_time_wait, whether or not a record is left. */
static void
close_to_time_wait_or_not(struct peer *p)
{
	struct oseg o;

	p->r->live = false;
	sl_tcp_close(p->c);
	flush_and_reap();
	EXPECT_SEG(p, &o, TH_ACK | TH_FIN, OUT(p, 0), IN(p, 0));
	peer_ack_out(p, 1);
	peer_fin(p, 0);
	EXPECT_SEG(p, &o, TH_ACK, OUT(p, 1), IN(p, 0) + 1);
	EXPECT_NOTHING();
	CU_ASSERT_PTR_NULL(find_conn(p));
}

static void
test_active_close_passes_fin_wait_and_time_wait(void)
{
	struct peer p;

	peer_init(&p, 40050, PO_ALL);
	passive_open(&p);
	close_to_time_wait(&p);
	CU_ASSERT_EQUAL(tw->stats.time_wait, 1);
	CU_ASSERT_EQUAL(tw->stats.conns_established, 0);
	advance_ms(cfg.time_wait_ms - 1);
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	CU_ASSERT_EQUAL(tw->stats.conns_time_wait, 1);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
	advance_ms(1);
	CU_ASSERT_PTR_NULL(find_tw(&p));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.r->closed + p.r->errors, 0); /* the user let go at close */
	expect_all_closed();
}

static void
test_passive_close_passes_close_wait_and_last_ack(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40051, PO_ALL);
	r = passive_open(&p);
	peer_fin(&p, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0) + 1); /* at once, not delayed */
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_CLOSE_WAIT);
	CU_ASSERT(sl_tcp_peer_done(p.c));
	/* We may still send in CLOSE-WAIT. */
	CU_ASSERT_EQUAL(send_data(p.c, 0, 100), 0);
	EXPECT_DATA(&p, &o, 0, 100);
	r->live = false;
	sl_tcp_close(p.c);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 100), IN(&p, 0) + 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_LAST_ACK);
	peer_ack_out(&p, 101);
	CU_ASSERT_PTR_NULL(find_conn(&p));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->closed + r->errors, 0);
	expect_all_closed();
}

static void
test_simultaneous_close_passes_closing(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40052, PO_ALL);
	passive_open(&p);
	p.r->live = false;
	sl_tcp_close(p.c);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, 0));
	peer_fin(&p, 0); /* crosses ours: does not acknowledge it */
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 0) + 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_CLOSING);
	peer_ack_out(&p, 1);
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	EXPECT_NOTHING();
	advance_ms(cfg.time_wait_ms);
	CU_ASSERT_PTR_NULL(find_conn(&p));
	expect_all_closed();
}

static void
test_half_close_still_receives_until_the_peer_closes(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40053, PO_ALL);
	r = passive_open(&p);
	sl_tcp_shutdown(p.c);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(send_data(p.c, 0, 10), -EPIPE);
	peer_ack_out(&p, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_FIN_WAIT_2);
	peer_data(&p, 0, 500);
	CU_ASSERT_EQUAL(r->bytes, 500);
	peer_fin(&p, 500);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 501));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	CU_ASSERT_EQUAL(r->closed, 1); /* both directions done while the user held the handle */
	CU_ASSERT_FALSE(r->live);
	advance_ms(cfg.time_wait_ms);
	expect_all_closed();
}

static void
test_close_with_unread_data_sends_rst(void)
{
	struct peer p;
	struct oseg o;

	rec_template.consume = false;
	peer_init(&p, 40054, PO_ALL);
	passive_open(&p);
	peer_data(&p, 0, 100);
	p.r->live = false;
	sl_tcp_close(p.c);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 100));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.resets_sent, 1);
	CU_ASSERT_EQUAL(wait_frame(1000), 0); /* not even the delayed ACK */
	expect_all_closed();
}

static void
test_time_wait_reacks_a_retransmitted_fin_and_restarts(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40055, PO_ALL);
	passive_open(&p);
	close_to_time_wait(&p);
	advance_ms(1000);
	peer_fin(&p, 0); /* our ACK of its FIN was lost */
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 0) + 1);
	EXPECT_NOTHING();
	advance_ms(cfg.time_wait_ms - 1);
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	advance_ms(1);
	CU_ASSERT_PTR_NULL(find_tw(&p));
	expect_all_closed();
}

static void
test_time_wait_ignores_rst(void)
{
	struct peer p;

	peer_init(&p, 40056, PO_ALL);
	passive_open(&p);
	close_to_time_wait(&p);
	peer_rst(&p, IN(&p, 0) + 1); /* RFC 1337: no TIME-WAIT assassination */
	EXPECT_NOTHING();
	CU_ASSERT_PTR_NOT_NULL_FATAL(find_tw(&p));
	CU_ASSERT_EQUAL(tw->stats.resets_received, 0);
	advance_ms(cfg.time_wait_ms);
	CU_ASSERT_PTR_NULL(find_tw(&p));
	expect_all_closed();
}

static void
test_fin_out_of_order_is_processed_when_the_hole_fills(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40057, PO_ALL);
	r = passive_open(&p);
	peer_data_flags(&p, 100, 100, TH_FIN);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(r->peer_closed, 0);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->bytes, 200);
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_CLOSE_WAIT);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 201));
	EXPECT_NOTHING();
}

static void
test_bare_fin_out_of_order_is_processed_when_the_hole_fills(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40058, PO_ALL);
	r = passive_open(&p);
	peer_fin(&p, 100);
	drain(); /* whether a lone FIN beyond rcv_nxt gets a duplicate ACK is not the point */
	CU_ASSERT_EQUAL(r->peer_closed, 0);
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_CLOSE_WAIT);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 101));
}

static void
test_fin_wait_2_is_given_up_after_its_limit_once_closed(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40059, PO_ALL);
	passive_open(&p);
	p.r->live = false;
	sl_tcp_close(p.c);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, 0));
	peer_ack_out(&p, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_FIN_WAIT_2);
	advance_ms(SL_TCP_FIN_WAIT_2_MS - 1);
	CU_ASSERT_PTR_NOT_NULL(find_conn(&p));
	advance_ms(1);
	CU_ASSERT_PTR_NULL(find_conn(&p));
	EXPECT_NOTHING();
	expect_all_closed();
}

static void
test_fin_is_retransmitted_on_rto(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40060, PO_ALL);
	passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 500), 0);
	EXPECT_DATA(&p, &o, 0, 500);
	p.r->live = false;
	sl_tcp_close(p.c);
	flush_and_reap();
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 500), IN(&p, 0));
	peer_ack_out(&p, 500); /* the data arrived, the FIN did not */
	CU_ASSERT_EQUAL(wait_frame(210), 200);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 500), IN(&p, 0));
	CU_ASSERT_EQUAL(o.len, 0);
	peer_ack_out(&p, 501);
	CU_ASSERT_EQUAL(find_conn(&p)->state, SL_TCP_FIN_WAIT_2);
	peer_fin(&p, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 501), IN(&p, 0) + 1);
	advance_ms(cfg.time_wait_ms);
	expect_all_closed();
}

/* ---- robustness (RFC 5961, RFC 7323, malformed segments) ---- */

static void
test_rst_with_exact_sequence_resets_the_connection(void)
{
	struct peer p;
	struct rec *r;

	peer_init(&p, 40070, PO_ALL);
	r = passive_open(&p);
	peer_rst(&p, IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ECONNRESET);
	CU_ASSERT_EQUAL(tw->stats.resets_received, 1);
	expect_all_closed();
}

static void
test_rst_in_window_but_not_exact_gets_challenge_ack(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40071, PO_ALL);
	r = passive_open(&p);
	peer_rst(&p, IN(&p, 10));
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 1);
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	/* The real peer answers the challenge with an exact RST. */
	peer_rst(&p, IN(&p, 0));
	CU_ASSERT_EQUAL(r->err, -ECONNRESET);
	expect_all_closed();
}

static void
test_rst_out_of_window_is_ignored(void)
{
	struct peer p;
	struct rec *r;

	peer_init(&p, 40072, PO_ALL);
	r = passive_open(&p);
	peer_rst(&p, IN(&p, 0) + 0x40000000u);
	peer_rst(&p, IN(&p, 0) - 1);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_OUT_OF_WINDOW], 2);
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 0);
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
}

static void
test_syn_in_established_gets_challenge_ack(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40073, PO_ALL);
	r = passive_open(&p);
	peer_send(&p, TH_SYN, IN(&p, 5), 0, NULL, 0, NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(r->errors + r->bytes, 0);
	/*
	 * An old SYN (the one that opened the connection) is answered with an
	 * ACK too, once the per-connection limit allows another one.
	 */
	advance_ms(SL_TCP_INVALID_RATELIMIT_MS);
	peer_send(&p, TH_SYN, p.iss, 0, NULL, 0, NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	peer_data(&p, 0, 10);
	CU_ASSERT_EQUAL(r->bytes, 10);
}

static void
test_ack_for_unsent_data_is_dropped_and_acked(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;
	uint8_t d[100];

	peer_init(&p, 40074, PO_ALL);
	r = passive_open(&p);
	for (unsigned int i = 0; i < sizeof(d); i++)
		d[i] = pat_in(i);
	peer_send(&p, TH_ACK, IN(&p, 0), OUT(&p, 1000), d, sizeof(d), NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->bytes, 0);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_ACK], 1);
	CU_ASSERT_EQUAL(p.c->snd_una, OUT(&p, 0));
}

static void
test_ack_too_old_gets_challenge_ack(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;
	uint8_t d[100];

	peer_init(&p, 40075, PO_MSS | PO_SACK | PO_TS); /* window 65535, unscaled */
	r = passive_open(&p);
	for (unsigned int i = 0; i < sizeof(d); i++)
		d[i] = pat_in(i);
	peer_send(&p, TH_ACK, IN(&p, 0), OUT(&p, 0) - 100000, d, sizeof(d), NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 1);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_ACK], 1);
	CU_ASSERT_EQUAL(r->bytes, 0);
	/* Old but within a window of SND.UNA is only a duplicate: accepted. */
	peer_send(&p, TH_ACK, IN(&p, 0), OUT(&p, 0) - 1000, d, sizeof(d), NULL, 0);
	CU_ASSERT_EQUAL(r->bytes, 100);
}

static void
test_ack_echoes_the_latest_timestamp_of_the_peer(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40076, PO_ALL);
	passive_open(&p);
	advance_ms(500);
	peer_data(&p, 0, 100);
	uint32_t sent = peer_tsval(&p);

	advance_ms(40);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 100));
	CU_ASSERT(o.ts_ok);
	CU_ASSERT_EQUAL(o.tsecr, sent); /* not the SYN's, 540 ms older */
	CU_ASSERT_EQUAL(o.tsval, now_ms32());
}

static void
test_paws_drops_a_segment_with_an_old_timestamp(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40077, PO_ALL);
	r = passive_open(&p);
	advance_ms(500);
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(r->bytes, 100);
	advance_ms(40);
	drain();
	/* A wrapped duplicate: new sequence numbers, a timestamp older than the last. */
	p.ts_base -= 300;
	peer_data(&p, 100, 100);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 100));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->bytes, 100);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_PAWS], 1);
	/* The same bytes with a current timestamp are taken. */
	p.ts_base += 300;
	peer_data(&p, 100, 100);
	CU_ASSERT_EQUAL(r->bytes, 200);
}

static void
test_segment_to_a_closed_port_gets_rst(void)
{
	struct peer p;
	struct oseg o;
	uint8_t d[10] = {0};

	peer_init(&p, 40078, 0);
	p.lport = 81;
	/* Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counted. */
	peer_syn(&p);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, 0, p.iss + 1);
	CU_ASSERT_EQUAL(o.len, 0);
	peer_send(&p, TH_FIN, p.iss + 1, 0, d, sizeof(d), NULL, 0);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, 0, p.iss + 1 + sizeof(d) + 1);
	/* With ACK: <SEQ=SEG.ACK><CTL=RST>. */
	peer_send(&p, TH_ACK, p.iss + 1, 0x55667788u, d, sizeof(d), NULL, 0);
	EXPECT_SEG(&p, &o, TH_RST, 0x55667788u, 0);
	/* Never a RST for a RST. */
	peer_rst(&p, p.iss + 1);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_NO_LISTENER], 4);
	CU_ASSERT_EQUAL(tw->stats.resets_sent, 3);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
}

static void
test_bad_checksum_is_dropped(void)
{
	struct peer p;
	struct seg_spec s = {.sport = 40079,
			     .dport = LPORT,
			     .flags = TH_SYN,
			     .seq = 1,
			     .win = 65535,
			     .bad_cksum = true};

	peer_init(&p, 40079, 0);
	feed_spec(&s);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_CHECKSUM], 1);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
	CU_ASSERT_EQUAL(tw->stats.segments_in, 0);
}

static void
test_bad_data_offset_is_dropped_as_truncated(void)
{
	struct seg_spec s = {
	    .sport = 40080, .dport = LPORT, .flags = TH_SYN, .seq = 1, .win = 65535};
	uint8_t opt[4] = {2, 4, 5, 0xb4};

	s.doff = 4; /* below the header */
	feed_spec(&s);
	s.doff = 15; /* 60 bytes of header in a 20-byte segment */
	feed_spec(&s);
	s.doff = 0; /* an option running past the header */
	opt[0] = 8;
	opt[1] = 10;
	s.opt = opt;
	s.optlen = 4;
	feed_spec(&s);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_TRUNCATED], 3);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
}

static void
test_impossible_flag_combinations_are_dropped(void)
{
	struct seg_spec s = {.sport = 40081, .dport = LPORT, .seq = 1, .win = 65535};

	s.flags = TH_SYN | TH_FIN;
	feed_spec(&s);
	s.flags = TH_SYN | TH_RST;
	feed_spec(&s);
	s.flags = 0;
	feed_spec(&s);
	s.flags = TH_PSH;
	feed_spec(&s);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_FLAGS], 4);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
}

/* ---- SYN cookies ---- */

/* syn_backlog half-open connections on the listener. */
static void
fill_syn_backlog(void)
{
	struct peer q;
	struct oseg o;

	for (unsigned int i = 0; i < cfg.syn_backlog; i++) {
		peer_init(&q, (uint16_t)(41000 + i), PO_ALL);
		peer_syn(&q);
		expect_seg(&q, &o);
		CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	}
	CU_ASSERT_EQUAL(listener()->syn_queued, cfg.syn_backlog);
	CU_ASSERT_EQUAL(tw->stats.syncookies_sent, 0);
}

static void
test_syn_cookie_when_backlog_full_completes_with_options(void)
{
	struct peer p;
	struct oseg o;

	fill_syn_backlog();
	peer_init(&p, 40090, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_EQUAL(o.ack, p.iss + 1);
	CU_ASSERT(o.mss_ok && o.mss == 1460);
	CU_ASSERT(o.sackp);
	CU_ASSERT(o.ts_ok && o.tsecr == peer_tsval(&p));
	CU_ASSERT(sl_seq_leq(o.tsval, now_ms32())); /* never ahead of our clock */
	CU_ASSERT(o.ws_ok && o.ws == 1);
	CU_ASSERT_EQUAL(tw->stats.syncookies_sent, 1);
	CU_ASSERT_EQUAL(tw->stats.conns, cfg.syn_backlog); /* no state kept */
	CU_ASSERT_PTR_NULL(find_conn(&p));
	advance_ms(3);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].accepted, 1);
	p.c = recs[0].c;
	CU_ASSERT_EQUAL(tw->stats.syncookies_ok, 1);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	/* Window scale and SACK came back in the timestamp echo. */
	CU_ASSERT(p.c->flags & SL_TF_WS_OK);
	CU_ASSERT(p.c->flags & SL_TF_SACK_OK);
	CU_ASSERT(p.c->flags & SL_TF_TS_OK);
	CU_ASSERT_EQUAL(p.c->snd_wscale, 7);
	CU_ASSERT_EQUAL(p.c->rcv_wscale, 1);
	CU_ASSERT_EQUAL(p.c->mss, MSS_TS);
	CU_ASSERT_EQUAL(p.c->snd_wnd, 65535u << 7);
	/* The echo of a cookie TSval is stale: no RTT sample from it. */
	CU_ASSERT_EQUAL(p.c->srtt_us, 0);
	/* And it carries data both ways. */
	peer_data(&p, 0, 100);
	CU_ASSERT_EQUAL(recs[0].bytes, 100);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 3000), 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	CU_ASSERT_EQUAL(o.ack, IN(&p, 100));
	EXPECT_DATA(&p, &o, MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 2 * MSS_TS, 3000 - 2 * MSS_TS);
}

static void
test_syn_cookie_without_timestamps_has_no_scaling_or_sack(void)
{
	struct peer p;
	struct oseg o;

	fill_syn_backlog();
	peer_init(&p, 40091, PO_MSS | PO_WS | PO_SACK);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT(o.mss_ok);
	CU_ASSERT_FALSE(o.ws_ok || o.sackp || o.ts_ok);
	CU_ASSERT_EQUAL(tw->stats.syncookies_sent, 1);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	p.c = recs[0].c;
	CU_ASSERT_EQUAL(p.c->flags & (SL_TF_TS_OK | SL_TF_SACK_OK | SL_TF_WS_OK), 0);
	CU_ASSERT_EQUAL(p.c->mss, 1460);
	CU_ASSERT_EQUAL(p.c->snd_wnd, 65535);
}

static void
test_forged_cookie_ack_gets_rst_and_counts_bad_cookie(void)
{
	struct peer p;
	struct oseg o;

	fill_syn_backlog();
	peer_init(&p, 40092, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	peer_got_syn_ack(&p, &o);
	p.rcv_nxt = o.seq + 2; /* not our cookie + 1 */
	peer_ack(&p);
	EXPECT_SEG(&p, &o, TH_RST, p.rcv_nxt, 0);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_COOKIE], 1);
	CU_ASSERT_EQUAL(tw->stats.syncookies_failed, 1);
	CU_ASSERT_EQUAL(tw->stats.syncookies_ok, 0);
	CU_ASSERT_EQUAL(n_recs, 0);
	CU_ASSERT_PTR_NULL(find_conn(&p));
	/* A cookie for another 4-tuple does not open this one either. */
	struct peer q;

	peer_init(&q, 40093, PO_ALL);
	q.rcv_nxt = p.rcv_nxt - 1;
	q.ts = true;
	q.ts_recent = p.ts_recent;
	q.snd_nxt = p.snd_nxt;
	peer_ack(&q);
	EXPECT_SEG(&q, &o, TH_RST, q.rcv_nxt, 0);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_COOKIE], 2);
	CU_ASSERT_EQUAL(n_recs, 0);
}

/* ---- limits ---- */

static void
test_connection_limit_is_counted_and_survived(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;
	int err = 0;

	for (unsigned int i = 0; i < cfg.max_connections; i++) {
		peer_init(&p, (uint16_t)(42000 + i), 0);
		passive_open(&p);
	}
	CU_ASSERT_EQUAL(tw->stats.conns, cfg.max_connections);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tw->conn_pool), 0);
	peer_init(&p, 43000, 0);
	peer_syn(&p);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_CONN_LIMIT], 1);
	r = rec_new();
	CU_ASSERT_PTR_NULL(
	    sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(80), &rec_ops, r, &err));
	CU_ASSERT_EQUAL(err, -EMFILE);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_CONN_LIMIT], 2);
	EXPECT_NOTHING();
	/* Everything still works, and closing everything returns every slot. */
	peer_init(&p, 42000, 0);
	p.r = &recs[0];
	p.c = recs[0].c;
	p.iss = 0x10000000u + 42000u * 0x10000u;
	p.our_iss = p.c->iss;
	p.rcv_nxt = OUT(&p, 0);
	peer_data(&p, 0, 10);
	CU_ASSERT_EQUAL(recs[0].bytes, 10);
	for (unsigned int i = 0; i < cfg.max_connections; i++) {
		recs[i].live = false;
		sl_tcp_abort(recs[i].c);
		flush_and_reap();
		CU_ASSERT_FATAL(pop_frame(&o));
		CU_ASSERT(o.flags & TH_RST);
	}
	expect_all_closed();
}

/* ---- keepalive ---- */

static void
test_keepalive_probes_an_idle_connection_then_gives_up(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	cfg.keepalive_ms = 5000;
	peer_init(&p, 40100, PO_ALL);
	r = passive_open(&p);
	CU_ASSERT_EQUAL(wait_frame(6000), 5000);
	for (unsigned int i = 0; i < SL_TCP_KEEPALIVE_PROBES; i++) {
		if (i > 0)
			CU_ASSERT_EQUAL(wait_frame(SL_TCP_KEEPALIVE_INTVL_MS + 10),
					SL_TCP_KEEPALIVE_INTVL_MS);
		EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0) - 1, IN(&p, 0));
		CU_ASSERT_EQUAL(o.len, 0);
		EXPECT_NOTHING();
	}
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(wait_frame(SL_TCP_KEEPALIVE_INTVL_MS), 0);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ETIMEDOUT);
	CU_ASSERT_EQUAL(tw->stats.keepalive_timeouts, 1);
	expect_all_closed();
}

static void
test_answered_keepalive_probe_keeps_the_connection(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	cfg.keepalive_ms = 5000;
	peer_init(&p, 40101, PO_ALL);
	r = passive_open(&p);
	for (unsigned int i = 0; i < 20; i++) {
		/* Idle for keepalive_ms since the peer was last heard: one probe. */
		CU_ASSERT_EQUAL(wait_frame(SL_TCP_KEEPALIVE_INTVL_MS + 10), 5000);
		EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0) - 1, IN(&p, 0));
		peer_ack(&p);
		EXPECT_NOTHING();
	}
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	/* Traffic postpones the probe. */
	advance_ms(3000);
	peer_data(&p, 0, 10);
	CU_ASSERT_EQUAL(wait_frame(SL_TCP_KEEPALIVE_INTVL_MS), 40); /* the delayed ACK */
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(wait_frame(SL_TCP_KEEPALIVE_INTVL_MS), 5000 - 40);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0) - 1, IN(&p, 10));
}

/* ---- the user closing or aborting from inside its callbacks ---- */

static void
test_abort_in_readable_resets_and_forgets_the_connection(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.on_readable = ACT_ABORT;
	peer_init(&p, 40110, PO_ALL);
	r = passive_open(&p);
	peer_data_flags(&p, 0, 100,
			TH_FIN); /* the FIN must not be processed on a dead connection */
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 100));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->readable, 1);
	CU_ASSERT_EQUAL(r->peer_closed + r->errors + r->closed, 0);
	expect_all_closed();
	/* What the peer sends next finds no connection. */
	peer_data(&p, 100, 100);
	expect_seg(&p, &o);
	CU_ASSERT(o.flags & TH_RST);
	CU_ASSERT_EQUAL(r->readable, 1);
}

static void
test_close_in_readable_with_unconsumed_data_resets(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.consume = false;
	rec_template.on_readable = ACT_CLOSE;
	peer_init(&p, 40111, PO_ALL);
	r = passive_open(&p);
	peer_data(&p, 0, 100);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 100));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->readable, 1);
	expect_all_closed();
}

static void
test_close_in_readable_after_consuming_sends_fin_then_handles_the_peers(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.consume = false;
	rec_template.on_readable = ACT_CONSUME_CLOSE;
	peer_init(&p, 40112, PO_ALL);
	r = passive_open(&p);
	peer_data_flags(&p, 0, 100, TH_FIN);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, 100));
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 101));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->peer_closed, 0); /* the user is gone */
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_CLOSING);
	peer_ack_out(&p, 1);
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	advance_ms(cfg.time_wait_ms);
	expect_all_closed();
}

static void
test_abort_in_peer_closed_is_safe(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.on_peer_closed = ACT_ABORT;
	peer_init(&p, 40113, PO_ALL);
	r = passive_open(&p);
	peer_data_flags(&p, 0, 100, TH_FIN);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 101));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->bytes, 100);
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	expect_all_closed();
}

static void
test_close_in_peer_closed_sends_fin(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	rec_template.on_peer_closed = ACT_CLOSE;
	peer_init(&p, 40114, PO_ALL);
	r = passive_open(&p);
	peer_fin(&p, 0);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, 0) + 1);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_LAST_ACK);
	peer_ack_out(&p, 1);
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	CU_ASSERT_EQUAL(r->closed + r->errors, 0);
	expect_all_closed();
}

static void
test_accepted_returning_error_resets_the_connection(void)
{
	struct peer p;
	struct oseg o;

	rec_template.on_accept = ACT_REJECT;
	peer_init(&p, 40115, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].accepted, 1);
	expect_all_closed();
}

static void
test_accepted_with_data_and_fin_returning_error_is_safe(void)
{
	struct peer p;
	struct oseg o;

	rec_template.on_accept = ACT_REJECT;
	peer_init(&p, 40116, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	peer_got_syn_ack(&p, &o);
	peer_data_flags(&p, 0, 100, TH_FIN); /* the handshake's ACK carries data and a FIN */
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].readable + recs[0].peer_closed, 0);
	expect_all_closed();
}

static void
test_close_in_accepted_sends_fin(void)
{
	struct peer p;
	struct oseg o;

	rec_template.on_accept = ACT_CLOSE;
	peer_init(&p, 40117, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	peer_got_syn_ack(&p, &o);
	peer_ack(&p);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	p.c = find_conn(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.c);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_FIN_WAIT_1);
	p.rcv_nxt = OUT(&p, 1);
	peer_fin(&p, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 0) + 1);
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	advance_ms(cfg.time_wait_ms);
	expect_all_closed();
}

static void
test_abort_in_accepted_is_safe(void)
{
	struct peer p;
	struct oseg o;

	rec_template.on_accept = ACT_ABORT;
	peer_init(&p, 40118, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	peer_got_syn_ack(&p, &o);
	peer_data(&p, 0, 100);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 0), IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].readable, 0);
	expect_all_closed();
}

static void
test_abort_or_close_in_error_is_harmless(void)
{
	struct peer p, q;
	struct rec *r;

	rec_template.on_error = ACT_ABORT;
	peer_init(&p, 40119, PO_ALL);
	r = passive_open(&p);
	peer_rst(&p, IN(&p, 0));
	EXPECT_NOTHING(); /* a dead connection sends no RST */
	CU_ASSERT_EQUAL(r->errors, 1);
	rec_template.on_error = ACT_CLOSE;
	peer_init(&q, 40120, PO_ALL);
	r = passive_open(&q);
	peer_rst(&q, IN(&q, 0));
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->errors, 1);
	expect_all_closed();
}

static void
test_abort_in_writable_is_safe(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40121, PO_ALL);
	r = passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 65536), 0);
	CU_ASSERT_EQUAL(send_data(p.c, 65536, 10), -EAGAIN);
	drain();
	r->on_writable = ACT_ABORT;
	peer_ack_out(&p, MSS_TS);
	CU_ASSERT_EQUAL(r->writable, 1);
	/* writable runs once the ACK is fully processed: after what the ACK let out. */
	EXPECT_DATA(&p, &o, 10 * MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 11 * MSS_TS, MSS_TS);
	EXPECT_SEG(&p, &o, TH_RST | TH_ACK, OUT(&p, 12 * MSS_TS), IN(&p, 0));
	EXPECT_NOTHING();
	expect_all_closed();
}

/* ---- more ---- */

static void
test_active_connection_exchanges_data_and_closes_after_the_peer(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 8090, PO_ALL);
	r = active_open(&p);
	CU_ASSERT_EQUAL(send_data(r->c, 0, 2000), 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	EXPECT_DATA(&p, &o, MSS_TS, 2000 - MSS_TS);
	CU_ASSERT(o.flags & TH_PSH);
	p.rcv_nxt = OUT(&p, 2000);
	peer_data(&p, 0, 700);
	CU_ASSERT_EQUAL(r->bytes, 700);
	CU_ASSERT_EQUAL(r->c->snd_una, OUT(&p, 2000));
	peer_fin(&p, 700);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 2000), IN(&p, 701));
	CU_ASSERT_EQUAL(r->peer_closed, 1);
	r->live = false;
	sl_tcp_close(r->c);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 2000), IN(&p, 701));
	peer_ack_out(&p, 2001);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->closed + r->errors, 0);
	CU_ASSERT_EQUAL(tw->stats.active_opens, 1);
	CU_ASSERT_EQUAL(tw->stats.passive_opens, 0);
	expect_all_closed();
}

static void
test_rst_in_syn_received_drops_the_connection_silently(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40130, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	peer_got_syn_ack(&p, &o);
	peer_rst(&p, IN(&p, 0));
	EXPECT_NOTHING();
	CU_ASSERT_PTR_NULL(find_conn(&p));
	CU_ASSERT_EQUAL(n_recs, 0);
	CU_ASSERT_EQUAL(listener()->syn_queued, 0);
	CU_ASSERT_EQUAL(wait_frame(5000), 0); /* no SYN-ACK retransmission either */
	expect_all_closed();
}

static void
test_segment_in_a_chain_of_mbufs_is_delivered(void)
{
	struct peer p;
	struct rec *r;
	uint8_t d[1200];
	struct rte_mbuf *m, *tail;
	uint32_t split =
	    ETH_LEN + 20 + 32 + 333; /* headers + timestamps + an odd part of the data */

	peer_init(&p, 40131, PO_ALL);
	r = passive_open(&p);
	for (unsigned int i = 0; i < sizeof(d); i++)
		d[i] = pat_in(i);
	uint8_t opt[12] = {1, 1, 8, 10};

	put32(opt + 4, peer_tsval(&p));
	put32(opt + 8, p.ts_recent);
	struct seg_spec s = {.sport = p.port,
			     .dport = LPORT,
			     .flags = TH_ACK,
			     .seq = IN(&p, 0),
			     .ack = p.rcv_nxt,
			     .win = p.win,
			     .opt = opt,
			     .optlen = 12,
			     .data = d,
			     .len = sizeof(d)};
	/* Move the end of the frame to a second mbuf, as a NIC with small buffers would. */
	m = tcp_frame(&s);
	tail = mbuf_from(rte_pktmbuf_mtod_offset(m, uint8_t *, split), m->data_len - split);
	rte_pktmbuf_trim(m, m->data_len - split);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(m, tail) == 0);
	feed(m);
	CU_ASSERT_EQUAL(r->bytes, sizeof(d));
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_CHECKSUM], 0);
}

/* ---- runner ---- */

#define T(fn)                                                                                      \
	{                                                                                          \
#fn, fn                                                                            \
	}

static const struct sl_test_def handshake_tests[] = {
    T(test_passive_open_answers_syn_with_the_options_offered),
    T(test_passive_open_without_options_answers_with_mss_only),
    T(test_syn_ack_announces_mss_of_mtu_minus_40),
    T(test_syn_ack_is_retransmitted_with_exponential_backoff_then_given_up),
    T(test_syn_ack_retransmission_keeps_room_for_timestamps_in_mss),
    T(test_duplicate_syn_in_syn_received_is_answered_with_syn_ack),
    T(test_active_open_offers_every_option_and_completes),
    T(test_active_open_refused_by_rst_reports_econnrefused),
    T(test_active_open_syn_ack_with_bad_ack_gets_rst),
    T(test_active_open_bad_ack_gets_rst_and_the_syn_again_at_once),
    T(test_active_open_ports_follow_rfc6056_and_stay_with_their_worker),
    T(test_active_open_port_search_is_bounded),
    T(test_active_open_syn_is_retransmitted_then_times_out),
    T(test_simultaneous_open_reports_connected),
};

static const struct sl_test_def receive_tests[] = {
    T(test_in_order_data_is_handed_over_without_copy),
    T(test_single_segment_ack_is_delayed_by_delayed_ack_ms),
    T(test_second_full_segment_is_acked_at_once),
    T(test_two_small_segments_share_one_delayed_ack),
    T(test_full_segments_of_one_burst_share_one_ack),
    T(test_receive_window_shrinks_until_consumed_then_reopens_with_update),
    T(test_segment_into_zero_window_is_dropped_and_acked),
    T(test_data_beyond_the_window_is_trimmed_to_fit),
    T(test_window_scale_shifts_both_directions),
    T(test_sequence_numbers_wrap_in_both_directions),
    T(test_out_of_order_segments_wait_for_the_hole),
    T(test_dup_acks_carry_sack_blocks_most_recent_first),
    T(test_duplicate_and_overlapping_segments_are_trimmed),
};

/* ---- ICMP errors about our segments ---- */

/* ICMP destination unreachable from a router, quoting a TCP segment we sent to p. */
static void
feed_icmp_unreach(const struct peer *p, uint8_t code, uint16_t mtu, uint32_t quoted_seq)
{
	uint8_t f[128];
	uint8_t *ip = f + ETH_LEN, *ic = ip + 20, *q = ic + 8, *qt = q + 20;
	uint32_t router = IP4(198, 18, 0, 254), ours = OUR_IP, peer = PEER_IP;
	unsigned int tot = 20 + 8 + 20 + 8;

	memset(f, 0, sizeof(f));
	memcpy(f, &our_mac, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, &router, 4);
	memcpy(ip + 16, &ours, 4);
	put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, 20)));
	ic[0] = 3;
	ic[1] = code;
	put16(ic + 6, mtu);
	q[0] = 0x45; /* the datagram we sent, as the router quotes it */
	put16(q + 2, 1500);
	q[8] = 64;
	q[9] = IPPROTO_TCP;
	memcpy(q + 12, &ours, 4);
	memcpy(q + 16, &peer, 4);
	put16(qt, p->lport);
	put16(qt + 2, p->port);
	put32(qt + 4, quoted_seq);
	put16(ic + 2, (uint16_t)~sum_fold(sum_add(0, ic, 8 + 20 + 8)));
	feed(mbuf_from(f, ETH_LEN + tot < MIN_FRAME ? MIN_FRAME : ETH_LEN + tot));
}

static void
test_icmp_frag_needed_lowers_mss_and_resends_smaller(void)
{
	struct peer p;
	struct oseg o;
	const uint32_t mss = 1000 - 40 - 12; /* the path MTU less headers and timestamps */

	peer_init(&p, 40090, PO_ALL);
	passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 3000), 0);
	EXPECT_DATA(&p, &o, 0, MSS_TS);
	EXPECT_DATA(&p, &o, MSS_TS, MSS_TS);
	EXPECT_DATA(&p, &o, 2 * MSS_TS, 3000 - 2 * MSS_TS);
	feed_icmp_unreach(&p, 4, 1000, OUT(&p, 0));
	CU_ASSERT_EQUAL(tw->stats.pmtu_updates, 1);
	CU_ASSERT_EQUAL(p.c->mss, mss);
	/* Sent again at once, in segments that fit the path. */
	EXPECT_DATA(&p, &o, 0, mss);
	EXPECT_DATA(&p, &o, mss, mss);
	EXPECT_DATA(&p, &o, 2 * mss, mss);
	EXPECT_DATA(&p, &o, 3 * mss, 3000 - 3 * mss);
	/* A larger MTU later never raises the MSS again. */
	feed_icmp_unreach(&p, 4, 1400, OUT(&p, 0));
	CU_ASSERT_EQUAL(p.c->mss, mss);
	peer_ack_out(&p, 3000);
	CU_ASSERT_EQUAL(p.c->sq_bytes, 0);
}

static void
test_icmp_quoting_a_sequence_outside_the_window_is_ignored(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40091, PO_ALL);
	passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	/* RFC 5927: a blind attacker does not know what is in flight. */
	feed_icmp_unreach(&p, 4, 576, OUT(&p, 0) + 100000);
	feed_icmp_unreach(&p, 3, 0, OUT(&p, 0) - 100000);
	CU_ASSERT_EQUAL(p.c->mss, MSS_TS);
	CU_ASSERT_EQUAL(p.r->errors, 0);
	CU_ASSERT_EQUAL(tw->stats.pmtu_updates, 0);
	EXPECT_NOTHING();
}

static void
test_icmp_port_unreachable_aborts_an_active_open(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = rec_new();
	int err;

	peer_init(&p, 40092, PO_ALL);
	r->c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(p.port), &rec_ops, r, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	r->live = true;
	p.lport = 0;
	expect_seg(&p, &o);
	p.lport = o.sport;
	feed_icmp_unreach(&p, 3, 0, o.seq);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ECONNREFUSED);
	CU_ASSERT_EQUAL(tw->stats.icmp_unreachable, 1);
	expect_all_closed();
}

static void
test_icmp_host_unreachable_leaves_an_established_connection(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40093, PO_ALL);
	passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	feed_icmp_unreach(&p, 1, 0, OUT(&p, 0)); /* a soft error (RFC 1122 4.2.3.9) */
	CU_ASSERT_EQUAL(p.r->errors, 0);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	peer_ack_out(&p, 1000);
}

/* ---- several workers: a packet for a connection another worker owns ---- */

/*
 * With two workers, the source port of a connection this side opened names
 * its owner (sl_tcp_port_owner). A segment for such a port that lands on the
 * wrong worker goes over the per-pair ring untouched, and the owner processes
 * it; listener ports stay with whoever receives them.
 */
static void
test_foreign_segment_is_handed_to_its_owner_over_the_ring(void)
{
	struct rte_ring *ring = rte_ring_create("sl_test_handoff", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct seg_spec spec = {.sport = 40200, .flags = TH_ACK, .seq = 1, .ack = 1, .win = 1000};
	struct oseg o;
	void *m = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	worker.n_workers = 2;
	worker.to_peer[1] = ring;
	spec.dport = 50001; /* odd: worker 1's */
	CU_ASSERT_EQUAL(sl_tcp_port_owner(50001, 2), 1);
	uint64_t seg_in = tw->stats.segments_in;
	feed_spec(&spec);
	CU_ASSERT_EQUAL(rte_ring_count(ring), 1);
	CU_ASSERT_EQUAL(tw->stats.segments_in, seg_in); /* not processed here */
	EXPECT_NOTHING();
	/* The owner (worker 1) takes it from the ring: no connection, so a RST. */
	CU_ASSERT_EQUAL(rte_ring_sc_dequeue(ring, &m), 0);
	worker.id = 1;
	sl_eth_input_from_peer(&ifp, m);
	flush_and_reap();
	CU_ASSERT_FATAL(pop_frame(&o));
	CU_ASSERT_EQUAL(o.flags, TH_RST);
	CU_ASSERT_EQUAL(o.seq, 1u);
	CU_ASSERT_EQUAL(tw->stats.segments_in, seg_in + 1);
	EXPECT_NOTHING();
	/* An odd listener port stays on the worker that received the segment. */
	worker.id = 0;
	CU_ASSERT_EQUAL(sl_tcp_listen(&worker, 50003, &rec_ops, NULL), 0);
	spec.dport = 50003;
	spec.flags = TH_SYN;
	spec.ack = 0;
	feed_spec(&spec);
	CU_ASSERT_EQUAL(rte_ring_count(ring), 0);
	CU_ASSERT_FATAL(pop_frame(&o));
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	worker.n_workers = 1;
	worker.to_peer[1] = NULL;
	rte_ring_free(ring);
}

/* ---- receive memory: what mbufs cost, not what they carry (tcp_rcvmem.c) ---- */

/* Read our ACKs: the right edge never moves left; *edge and *win are the last announced. */
static void
read_acks(struct peer *p, uint32_t *edge, uint32_t *win)
{
	struct oseg o;

	while (pending() > 0) {
		uint32_t w;

		expect_seg(p, &o);
		CU_ASSERT_EQUAL(o.flags, TH_ACK);
		w = (uint32_t)o.win << p->c->rcv_wscale;
		CU_ASSERT(sl_seq_geq(o.ack + w, *edge));
		*edge = o.ack + w;
		*win = w;
	}
}

/*
 * The peer sends its stream from *off in segments of `size` bytes, or what
 * is left of the window we announced, at most n segments; when the window
 * is closed it waits for our delayed ACK once, then stops.
 */
static void
send_into_window(struct peer *p, uint32_t *off, uint32_t size, unsigned int n, uint32_t *edge,
		 uint32_t *win)
{
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = RTE_MIN(size, *edge - IN(p, *off));

		if (len == 0) {
			advance_ms(cfg.delayed_ack_ms);
			read_acks(p, edge, win);
			len = RTE_MIN(size, *edge - IN(p, *off));
			if (len == 0)
				break;
		}
		peer_data(p, *off, len);
		*off += len;
		read_acks(p, edge, win);
	}
	advance_ms(cfg.delayed_ack_ms);
	read_acks(p, edge, win);
}

/*
 * A 2 KB buffer: the connection may pin twice the mbufs two full segments
 * take, four, so once the window announced with full segments in mind has
 * been used up, its window is four segments of whatever size the peer sends:
 * in proportion to the segments, in bytes. Full segments bring it back.
 */
static void
test_tiny_segments_get_a_window_in_proportion_to_their_size(void)
{
	static const uint32_t sizes[] = {1, 8, 40};
	struct peer p;
	uint32_t off = 0, edge, win = 0, w[3];

	cfg.rcvbuf = 2048;
	restart_worker();
	peer_init(&p, 40300, PO_MSS | PO_SACK | PO_TS); /* no window scaling: exact windows */
	passive_open(&p);
	edge = p.c->rcv_adv;
	CU_ASSERT_EQUAL(edge - IN(&p, 0), 2048u);
	/* Through the 2048 bytes promised in the SYN-ACK, then 60 more segments. */
	send_into_window(&p, &off, 1, 2048 + 60, &edge, &win);
	CU_ASSERT_EQUAL_FATAL(off, 2048u + 60);
	w[0] = win;
	for (unsigned int i = 1; i < 3; i++) {
		send_into_window(&p, &off, sizes[i], 60, &edge, &win);
		w[i] = win;
	}
	/* Four segments' worth, to the precision of the average and the rounding down. */
	for (unsigned int i = 0; i < 3; i++)
		CU_ASSERT(w[i] + sizes[i] / 8 + 1 >= 4 * sizes[i] && w[i] <= 4 * sizes[i]);
	CU_ASSERT_EQUAL(p.r->bytes, off);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 0);
	/* Full segments: the window grows back to the whole buffer. */
	send_into_window(&p, &off, MSS_TS, 20, &edge, &win);
	CU_ASSERT_EQUAL(win, 2048u);
	CU_ASSERT_EQUAL(p.r->bytes, off);
	CU_ASSERT_EQUAL(tw->stats.rcv_mem, 0); /* all consumed */
}

/*
 * The same connection with a user that does not read: a peer filling the
 * 2 KB window it was promised with 1-byte segments pins four mbufs, not 2048;
 * the rest is dropped and counted, and comes again once the user reads.
 */
static void
test_tiny_segments_pin_no_more_than_twice_a_full_window(void)
{
	struct peer p;
	struct oseg last;
	uint32_t off;

	cfg.rcvbuf = 2048;
	restart_worker();
	rec_template.consume = false;
	peer_init(&p, 40301, PO_MSS | PO_SACK | PO_TS);
	passive_open(&p);
	for (off = 0; off < 2048; off++) {
		peer_data(&p, off, 1);
		while (pop_frame(&last))
			; /* a dropped segment is answered at once: ACK_NOW */
	}
	CU_ASSERT_EQUAL(p.r->bytes, 4);
	CU_ASSERT_EQUAL(p.c->rcv_held_mem, 4 * tw->mbuf_truesize);
	CU_ASSERT_EQUAL(tw->stats.rcv_mem, 4 * tw->mbuf_truesize);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 2044);
	/* The right edge stays where the SYN-ACK put it (RFC 9293 3.8.6). */
	CU_ASSERT_EQUAL(last.flags, TH_ACK);
	CU_ASSERT_EQUAL(last.ack, IN(&p, 4));
	CU_ASSERT_EQUAL(last.ack + last.win, IN(&p, 2048));
	/* The user reads; the peer sends the rest again, coalesced as Linux does. */
	sl_tcp_consumed(p.c, 4);
	p.r->held = 0;
	CU_ASSERT_EQUAL(tw->stats.rcv_mem, 0);
	peer_data(&p, 4, MSS_TS);
	peer_data(&p, 4 + MSS_TS, 2048 - 4 - MSS_TS);
	CU_ASSERT_EQUAL(p.r->bytes, 2048);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 2044);
	drain();
}

/*
 * A hole, then 100-byte segments beyond it: the reassembly queue takes what
 * the connection's memory allows (twice a full 64 KB window of full
 * segments: 90 mbufs) and refuses the rest. The segment that fills the hole
 * needs one more mbuf: the far end of the queue is pruned for it and
 * counted. The peer sends again what was refused or pruned, and the stream
 * arrives whole and the connection closes normally.
 */
static void
test_reassembly_queue_over_budget_is_pruned_and_the_transfer_completes(void)
{
	struct peer p;
	struct oseg o;
	uint32_t total = 1000 + 120 * 100, max_segs;

	rec_template.on_peer_closed = ACT_CLOSE;
	peer_init(&p, 40302, PO_MSS | PO_SACK | PO_TS);
	passive_open(&p);
	CU_ASSERT_EQUAL(p.c->rcvbuf, 65535);
	max_segs = 2 * ((65535 + 1459) / 1460); /* memory for 90 one-mbuf segments */
	for (uint32_t off = 1000; off < total; off += 100)
		peer_data(&p, off, 100);
	drain();
	CU_ASSERT_EQUAL(p.c->ooo_count, max_segs);
	CU_ASSERT_EQUAL(p.c->ooo_mem, max_segs * tw->mbuf_truesize);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 120 - max_segs);
	CU_ASSERT_EQUAL(tw->stats.ooo_pruned, 0);
	CU_ASSERT_EQUAL(p.r->bytes, 0);
	/* The hole is filled: one queued segment goes, from the far end, for it. */
	peer_data(&p, 0, 1000);
	CU_ASSERT_EQUAL(tw->stats.ooo_pruned, 1);
	CU_ASSERT_EQUAL(p.r->bytes, 1000 + (max_segs - 1) * 100);
	CU_ASSERT_EQUAL(p.c->ooo_count, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, p.r->bytes));
	CU_ASSERT_EQUAL(o.nsack, 0);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.rcv_mem, 0);
	/* The peer resends from what we acknowledged, then closes. */
	for (uint32_t off = p.r->bytes; off < total; off += RTE_MIN((uint32_t)MSS_TS, total - off))
		peer_data(&p, off, RTE_MIN((uint32_t)MSS_TS, total - off));
	CU_ASSERT_EQUAL(p.r->bytes, total);
	drain();
	peer_fin(&p, total);
	EXPECT_SEG(&p, &o, TH_ACK | TH_FIN, OUT(&p, 0), IN(&p, total) + 1);
	peer_ack_out(&p, 1);
	CU_ASSERT_EQUAL(p.r->peer_closed, 1);
	CU_ASSERT_EQUAL(p.r->errors, 0);
	expect_all_closed();
}

/*
 * rcv_mem_percent: 1 gives this worker 81 mbufs of an 8191-mbuf pool, less
 * than the 256 KB window of a user who does not read. The window the worker
 * can afford is offered, and once 7/8 of the budget is held the worker is
 * under pressure: the right edge stops moving, the peer fills up to it,
 * nothing is dropped. When the user consumes, the window opens again.
 */
static void
test_worker_budget_stops_the_window_opening_until_the_user_consumes(void)
{
	struct peer p;
	uint32_t off = 0, edge, win = 0, frozen;
	uint64_t budget;

	cfg.rcvbuf = 262144;
	cfg.rcv_mem_percent = 1;
	restart_worker();
	budget = (uint64_t)POOL_SIZE * tw->mbuf_truesize / 100;
	CU_ASSERT_EQUAL(tw->rcv_mem_max, budget);
	rec_template.consume = false;
	peer_init(&p, 40303, PO_ALL);
	passive_open(&p);
	edge = p.c->rcv_adv;
	/* Until the worker is under pressure: the edge moves, never past what the budget holds. */
	while (!tw->rcv_pressure) {
		send_into_window(&p, &off, MSS_TS, 1, &edge, &win);
		CU_ASSERT_FATAL(off < 262144);
		CU_ASSERT(tw->stats.rcv_mem +
			      (uint64_t)(edge - IN(&p, off)) / MSS_TS * tw->mbuf_truesize <=
			  budget + tw->mbuf_truesize);
	}
	CU_ASSERT_EQUAL(tw->stats.rcv_mem_pressure, 1);
	CU_ASSERT(tw->stats.rcv_mem >= budget - budget / 8);
	frozen = edge;
	/* Under pressure: the peer fills what was promised; the edge does not move. */
	send_into_window(&p, &off, MSS_TS, 100, &edge, &win);
	CU_ASSERT_EQUAL(edge, frozen);
	CU_ASSERT_EQUAL(IN(&p, off), frozen);
	CU_ASSERT_EQUAL(win, 0);
	CU_ASSERT(tw->stats.rcv_mem <= budget);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 0);
	CU_ASSERT_EQUAL(p.r->bytes, off);
	/* The user reads everything: a window update, as wide as the budget affords. */
	sl_tcp_consumed(p.c, p.r->held);
	p.r->held = 0;
	flush_and_reap();
	CU_ASSERT_FALSE(tw->rcv_pressure);
	CU_ASSERT_EQUAL(pending(), 1);
	read_acks(&p, &edge, &win);
	CU_ASSERT(win >= budget / tw->mbuf_truesize * MSS_TS * 3 / 4);
	CU_ASSERT(sl_seq_gt(edge, frozen));
	/* And data flows again. */
	send_into_window(&p, &off, MSS_TS, 10, &edge, &win);
	CU_ASSERT_EQUAL(p.r->bytes, off);
	CU_ASSERT_EQUAL(tw->stats.rcv_mem_pressure, 1);
	drain();
}

/*
 * When the mbuf pool is down to its reserve no payload is kept, whatever
 * the budgets: the data is dropped and counted, but the ACK it carries is
 * processed (it frees our send queue), and windows stop opening even when
 * the user reads. A millisecond after the pool has recovered, data is taken
 * again and the window opens.
 */
static void
test_pool_at_its_reserve_keeps_no_payload_but_takes_the_ack(void)
{
	struct peer p;
	struct oseg o;
	uint8_t d[100];
	uint32_t edge;

	rec_template.consume = false;
	peer_init(&p, 40304, PO_MSS | PO_SACK | PO_TS);
	passive_open(&p);
	CU_ASSERT(tw->pool_reserve > 0 && tw->pool_reserve <= POOL_SIZE / 4);
	peer_data(&p, 0, MSS_TS);
	peer_data(&p, MSS_TS, MSS_TS);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 2 * MSS_TS));
	edge = o.ack + o.win;
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	tw->pool_reserve = POOL_SIZE; /* as if the pool were nearly empty */
	advance_ms(1);
	CU_ASSERT_TRUE(tw->rcv_pressure);
	CU_ASSERT_EQUAL(tw->stats.rcv_mem_pressure, 1);
	/* The user reads: the window does not open. */
	sl_tcp_consumed(p.c, p.r->held);
	p.r->held = 0;
	flush_and_reap();
	EXPECT_NOTHING();
	for (uint32_t i = 0; i < sizeof(d); i++)
		d[i] = pat_in(2 * MSS_TS + i);
	peer_send(&p, TH_ACK, IN(&p, 2 * MSS_TS), OUT(&p, 1000), d, sizeof(d), NULL, 0);
	CU_ASSERT_EQUAL(p.r->bytes, 2 * MSS_TS);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 1);
	CU_ASSERT_EQUAL(p.c->snd_una, OUT(&p, 1000)); /* the ACK was taken */
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1000), IN(&p, 2 * MSS_TS));
	CU_ASSERT_EQUAL(o.ack + o.win, edge);
	tw->pool_reserve = 0;
	advance_ms(1);
	CU_ASSERT_FALSE(tw->rcv_pressure);
	p.rcv_nxt = OUT(&p, 1000);
	peer_data(&p, 2 * MSS_TS, 100);
	CU_ASSERT_EQUAL(p.r->bytes, 2 * MSS_TS + 100);
	advance_ms(cfg.delayed_ack_ms);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1000), IN(&p, 2 * MSS_TS + 100));
	CU_ASSERT(sl_seq_gt(o.ack + o.win, edge));
	drain();
}

/*
 * A worker over its budget still lets a connection that holds almost
 * nothing (under two mbufs) take in-order data, as Linux guarantees
 * tcp_rmem[0]: one connection's hoard cannot starve the others.
 */
static void
test_connection_holding_nothing_gets_in_when_the_worker_is_over_budget(void)
{
	struct peer p;

	rec_template.consume = false;
	peer_init(&p, 40305, PO_MSS | PO_SACK | PO_TS);
	passive_open(&p);
	tw->rcv_mem_max = 0; /* as if other connections held it all */
	for (uint32_t i = 0; i < 3; i++)
		peer_data(&p, i * MSS_TS, MSS_TS);
	CU_ASSERT_EQUAL(p.r->bytes, 2 * MSS_TS);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_RCV_MEM], 1);
	CU_ASSERT_EQUAL(tw->stats.rcv_mem, 2 * tw->mbuf_truesize);
	CU_ASSERT_TRUE(tw->rcv_pressure);
	drain();
}

static const struct sl_test_def send_tests[] = {
    T(test_send_cuts_segments_at_mss_and_pushes_the_last),
    T(test_icmp_frag_needed_lowers_mss_and_resends_smaller),
    T(test_icmp_quoting_a_sequence_outside_the_window_is_ignored),
    T(test_icmp_port_unreachable_aborts_an_active_open),
    T(test_icmp_host_unreachable_leaves_an_established_connection),
    T(test_foreign_segment_is_handed_to_its_owner_over_the_ring),
    T(test_initial_window_is_ten_segments_and_grows_in_slow_start),
    T(test_send_stops_at_the_peer_window),
    T(test_zero_window_is_probed_with_backoff_until_it_opens),
    T(test_full_send_buffer_refuses_then_calls_writable),
};

static const struct sl_test_def recovery_tests[] = {
    T(test_rto_retransmits_with_backoff_then_times_out),
    T(test_karn_retransmitted_segment_gives_no_rtt_sample),
    T(test_rtt_samples_set_rto_per_rfc6298),
    T(test_fast_retransmit_on_third_duplicate_ack_not_second),
    T(test_cubic_regrows_to_wmax_at_k_then_probes_beyond),
    T(test_newreno_partial_ack_retransmits_next_hole_and_full_ack_ends_recovery),
    T(test_sack_recovery_retransmits_only_lost_holes),
    T(test_timeout_sets_ssthresh_to_half_flight_and_cwnd_to_one_segment),
};

static const struct sl_test_def tlp_tests[] = {
    T(test_tlp_resends_the_last_segment_at_two_srtt_and_its_ack_completes_the_tail),
    T(test_tlp_sack_of_the_probe_repairs_the_hole_before_the_rto),
    T(test_tlp_sends_new_data_when_queued_and_an_unanswered_probe_leaves_the_rto_as_it_was),
    T(test_tlp_with_one_segment_out_waits_for_a_delayed_ack_or_leaves_it_to_an_earlier_rto),
    T(test_tlp_not_without_sack_nor_in_recovery_nor_with_nothing_in_flight),
    T(test_tlp_repairing_a_loss_halves_cwnd_and_a_dsack_or_dup_ack_does_not),
    T(test_tlp_resends_the_fin_with_the_last_segment),
};

static const struct sl_test_def close_tests[] = {
    T(test_active_close_passes_fin_wait_and_time_wait),
    T(test_passive_close_passes_close_wait_and_last_ack),
    T(test_simultaneous_close_passes_closing),
    T(test_half_close_still_receives_until_the_peer_closes),
    T(test_close_with_unread_data_sends_rst),
    T(test_time_wait_reacks_a_retransmitted_fin_and_restarts),
    T(test_time_wait_ignores_rst),
    T(test_fin_out_of_order_is_processed_when_the_hole_fills),
    T(test_bare_fin_out_of_order_is_processed_when_the_hole_fills),
    T(test_fin_wait_2_is_given_up_after_its_limit_once_closed),
    T(test_fin_is_retransmitted_on_rto),
};

static const struct sl_test_def robustness_tests[] = {
    T(test_rst_with_exact_sequence_resets_the_connection),
    T(test_rst_in_window_but_not_exact_gets_challenge_ack),
    T(test_rst_out_of_window_is_ignored),
    T(test_syn_in_established_gets_challenge_ack),
    T(test_ack_for_unsent_data_is_dropped_and_acked),
    T(test_ack_too_old_gets_challenge_ack),
    T(test_ack_echoes_the_latest_timestamp_of_the_peer),
    T(test_paws_drops_a_segment_with_an_old_timestamp),
    T(test_segment_to_a_closed_port_gets_rst),
    T(test_bad_checksum_is_dropped),
    T(test_bad_data_offset_is_dropped_as_truncated),
    T(test_impossible_flag_combinations_are_dropped),
};

static const struct sl_test_def syncookie_tests[] = {
    T(test_syn_cookie_when_backlog_full_completes_with_options),
    T(test_syn_cookie_without_timestamps_has_no_scaling_or_sack),
    T(test_forged_cookie_ack_gets_rst_and_counts_bad_cookie),
};

static const struct sl_test_def limit_tests[] = {
    T(test_connection_limit_is_counted_and_survived),
    T(test_keepalive_probes_an_idle_connection_then_gives_up),
    T(test_answered_keepalive_probe_keeps_the_connection),
};

static const struct sl_test_def callback_tests[] = {
    T(test_abort_in_readable_resets_and_forgets_the_connection),
    T(test_close_in_readable_with_unconsumed_data_resets),
    T(test_close_in_readable_after_consuming_sends_fin_then_handles_the_peers),
    T(test_abort_in_peer_closed_is_safe),
    T(test_close_in_peer_closed_sends_fin),
    T(test_accepted_returning_error_resets_the_connection),
    T(test_accepted_with_data_and_fin_returning_error_is_safe),
    T(test_close_in_accepted_sends_fin),
    T(test_abort_in_accepted_is_safe),
    T(test_abort_or_close_in_error_is_harmless),
    T(test_abort_in_writable_is_safe),
};

static const struct sl_test_def more_tests[] = {
    T(test_active_connection_exchanges_data_and_closes_after_the_peer),
    T(test_rst_in_syn_received_drops_the_connection_silently),
    T(test_segment_in_a_chain_of_mbufs_is_delivered),
};

/* ---- review findings (issue 6): shared secret, ICMP, rate limits, cookies, TIME-WAIT ---- */

/*
 * A second TCP worker beside the test's own, for what workers must share. It
 * is created as worker 1 (its table and pool need their own names) and then
 * lives on the same sl_worker and netif; use_worker() makes it the one that
 * frames reach and the clock drives.
 */
static struct sl_tcp_worker *
other_worker_create(void)
{
	char err[256] = "";
	struct sl_tcp_worker *t;

	worker.id = 1;
	t = sl_tcp_worker_create(&worker, &cfg, SOCKET_ID_ANY, err, sizeof(err));
	worker.id = 0;
	if (t == NULL)
		fprintf(stderr, "sl_tcp_worker_create: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	t->ts_offset = TS_OFFSET;
	t->now_us = now_us;
	sl_timer_wheel_init(&t->wheel, now_us / 1000);
	return t;
}

static void
use_worker(struct sl_tcp_worker *t)
{
	tw = t;
	worker.tcp = t;
	t->now_us = now_us;
}

static void
test_workers_share_one_secret_and_check_each_others_cookies(void)
{
	struct sl_tcp_worker *a = tw, *b = other_worker_create();
	struct peer p;
	struct oseg o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sl_tcp_global_secret());
	CU_ASSERT(memcmp(&a->secret, &b->secret, sizeof(a->secret)) == 0);
	CU_ASSERT(memcmp(&a->secret, sl_tcp_global_secret(), sizeof(a->secret)) == 0);
	/* Not the all-zero key of a secret that was never drawn. */
	static const struct sl_tcp_secret zero;
	CU_ASSERT(memcmp(&a->secret, &zero, sizeof(zero)) != 0);

	/* Worker 0 issues a cookie during a SYN flood... */
	fill_syn_backlog();
	peer_init(&p, 40300, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_EQUAL(a->stats.syncookies_sent, 1);
	peer_got_syn_ack(&p, &o);
	/* ...and worker 1, flooded too, completes the handshake from it. */
	use_worker(b);
	CU_ASSERT_FATAL(sl_tcp_listen(&worker, LPORT, &rec_ops, NULL) == 0);
	fill_syn_backlog();
	struct peer f;
	struct oseg fo;

	peer_init(&f, 41100, PO_ALL);
	peer_syn(&f); /* beyond the backlog: worker 1 sends cookies too */
	expect_seg(&f, &fo);
	CU_ASSERT_EQUAL(b->stats.syncookies_sent, 1);
	advance_ms(2);
	peer_ack(&p);
	CU_ASSERT_EQUAL(b->stats.syncookies_ok, 1);
	CU_ASSERT_EQUAL(b->stats.syncookies_failed, 0);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].accepted, 1);
	CU_ASSERT_EQUAL(recs[0].c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(recs[0].c->iss, o.seq);
	/* Same 4-tuple, same clock: the same ISN from either worker. */
	CU_ASSERT_EQUAL(sl_tcp_isn(&a->secret, OUR_IP, 80, PEER_IP, 40300, now_us),
			sl_tcp_isn(&b->secret, OUR_IP, 80, PEER_IP, 40300, now_us));
	recs[0].live = false;
	drain();
	use_worker(a);
	sl_tcp_worker_free(b);
}

/*
 * A TSecr from the future or from long ago gives no RTT sample: the segment
 * timed without timestamps (Karn) does. Unchecked, (now - tsecr) * 1000
 * wrapped into an RTT of about an hour and the RTO jumped to its 60 s cap.
 */
static void
test_bogus_tsecr_gives_no_rtt_sample_and_karn_timing_stands_in(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40301, PO_ALL);
	passive_open(&p);
	uint32_t srtt0 = p.c->srtt_us;

	/* From the future: 1,000 s ahead of our clock. */
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	advance_ms(30);
	p.ts_recent = now_ms32() + 1000000u;
	peer_ack_out(&p, 1000);
	CU_ASSERT_EQUAL(p.c->sq_bytes, 0);
	CU_ASSERT(p.c->rto_ms < 1000);
	/* Karn's sample of the one timed segment: 30 ms, folded into SRTT. */
	CU_ASSERT_EQUAL(p.c->srtt_us, (7 * srtt0 + 30000) / 8);

	/* From long ago: older than the largest RTO (here 50 minutes). */
	uint32_t srtt1 = p.c->srtt_us;

	CU_ASSERT_EQUAL(send_data(p.c, 1000, 1000), 0);
	EXPECT_DATA(&p, &o, 1000, 1000);
	advance_ms(20);
	p.ts_recent = now_ms32() - 3000000u;
	peer_ack_out(&p, 2000);
	CU_ASSERT(p.c->rto_ms < 1000);
	CU_ASSERT_EQUAL(p.c->srtt_us, (7 * srtt1 + 20000) / 8);

	/* A believable echo still gives the sample: sent 40 ms ago. */
	CU_ASSERT_EQUAL(send_data(p.c, 2000, 1000), 0);
	EXPECT_DATA(&p, &o, 2000, 1000);
	uint32_t sent_ts = o.tsval, srtt2 = p.c->srtt_us;

	advance_ms(40);
	p.ts_recent = sent_ts;
	peer_ack_out(&p, 3000);
	CU_ASSERT_EQUAL(p.c->srtt_us, (7 * srtt2 + 40000) / 8);
	EXPECT_NOTHING();
}

/* Retransmit until the connection is given up; returns when the error was reported. */
static void
wait_for_give_up(struct rec *r)
{
	for (unsigned int i = 0; i < 400 && r->errors == 0; i++) {
		advance_ms(1000);
		drain();
	}
	CU_ASSERT_EQUAL(r->errors, 1);
}

/*
 * Port and protocol unreachable are soft errors once the connection is
 * synchronized (RFC 1122 4.2.3.9, RFC 5927 5.2): the connection lives on,
 * and if it then times out, the error names the ICMP message; an ACK in
 * between forgets it. They used to abort established connections.
 */
static void
test_port_unreachable_is_soft_once_established_and_named_at_timeout(void)
{
	struct peer p, q;
	struct oseg o;

	peer_init(&p, 40302, PO_ALL);
	passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	feed_icmp_unreach(&p, 3, 0, OUT(&p, 0));
	feed_icmp_unreach(&p, 2, 0, OUT(&p, 0));
	CU_ASSERT_EQUAL(p.r->errors, 0);
	CU_ASSERT_EQUAL(p.c->state, SL_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(tw->stats.icmp_unreachable, 0);
	/* The peer was reachable after all: its ACK clears the soft error. */
	peer_ack_out(&p, 1000);
	CU_ASSERT_EQUAL(send_data(p.c, 1000, 1000), 0);
	EXPECT_DATA(&p, &o, 1000, 1000);
	wait_for_give_up(p.r);
	CU_ASSERT_EQUAL(p.r->err, -ETIMEDOUT);

	/* Unanswered after a port unreachable: the timeout reports ECONNREFUSED. */
	peer_init(&q, 40303, PO_ALL);
	passive_open(&q);
	CU_ASSERT_EQUAL(send_data(q.c, 0, 1000), 0);
	EXPECT_DATA(&q, &o, 0, 1000);
	feed_icmp_unreach(&q, 3, 0, OUT(&q, 0));
	CU_ASSERT_EQUAL(q.r->errors, 0);
	wait_for_give_up(q.r);
	CU_ASSERT_EQUAL(q.r->err, -ECONNREFUSED);
	CU_ASSERT_EQUAL(tw->stats.icmp_unreachable, 0);
	CU_ASSERT_EQUAL(tw->stats.conn_timeouts, 2);
	expect_all_closed();
}

/* While connecting they stay hard: a passive open in SYN-RECEIVED goes away at once. */
static void
test_port_unreachable_still_aborts_syn_received(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40304, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_PTR_NOT_NULL(find_conn(&p));
	feed_icmp_unreach(&p, 3, 0, o.seq);
	CU_ASSERT_PTR_NULL(find_conn(&p));
	CU_ASSERT_EQUAL(tw->stats.icmp_unreachable, 1);
	CU_ASSERT_EQUAL(listener()->syn_queued, 0);
	CU_ASSERT_EQUAL(n_recs, 0); /* never shown to the user */
	expect_all_closed();
}

/* Play worker `id` of two, whose ring to the other is `ring` (NULL to itself). */
static void
be_worker(unsigned int id, struct rte_ring *ring)
{
	worker.id = id;
	worker.n_workers = ring != NULL ? 2 : 1;
	worker.to_peer[id] = NULL;
	worker.to_peer[1 - id] = ring;
}

/* What the owner does with a frame a peer worker put on its ring. */
static void
take_from_ring(struct rte_ring *ring)
{
	void *m = NULL;

	CU_ASSERT_EQUAL_FATAL(rte_ring_sc_dequeue(ring, &m), 0);
	sl_eth_input_from_peer(&ifp, m);
	flush_and_reap();
}

/*
 * Fragmentation-needed for a connection that worker 1 opened, received by
 * worker 0, goes to worker 1 over the ring like the connection's segments;
 * worker 1 lowers the MSS and resends. It used to be looked up only in the
 * receiving worker's table and lost: a PMTU black hole.
 */
static void
test_icmp_error_for_another_workers_connection_is_handed_to_the_owner(void)
{
	struct rte_ring *ring = rte_ring_create("sl_test_icmp1", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	const uint32_t mss = 1000 - 40 - 12;
	struct peer p;
	struct oseg o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	be_worker(1, ring);
	peer_init(&p, 40305, PO_ALL);
	active_open(&p);
	CU_ASSERT_EQUAL(sl_tcp_port_owner(p.lport, 2), 1);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);

	/* Worker 0 receives the ICMP error: not its connection, onto the ring. */
	be_worker(0, ring);
	feed_icmp_unreach(&p, 4, 1000, OUT(&p, 0));
	CU_ASSERT_EQUAL(rte_ring_count(ring), 1);
	CU_ASSERT_EQUAL(tw->stats.pmtu_updates, 0);
	CU_ASSERT_EQUAL(p.c->mss, MSS_TS);
	EXPECT_NOTHING();

	/* Worker 1 takes it and resends in segments that fit the path. */
	be_worker(1, ring);
	take_from_ring(ring);
	CU_ASSERT_EQUAL(rte_ring_count(ring), 0); /* not passed on again */
	CU_ASSERT_EQUAL(tw->stats.pmtu_updates, 1);
	CU_ASSERT_EQUAL(p.c->mss, mss);
	EXPECT_DATA(&p, &o, 0, mss);
	EXPECT_DATA(&p, &o, mss, 1000 - mss);
	peer_ack_out(&p, 1000);

	/* A port unreachable takes the same way; soft, since established. */
	CU_ASSERT_EQUAL(send_data(p.c, 1000, 100), 0);
	EXPECT_DATA(&p, &o, 1000, 100);
	be_worker(0, ring);
	feed_icmp_unreach(&p, 3, 0, OUT(&p, 1000));
	CU_ASSERT_EQUAL(rte_ring_count(ring), 1);
	be_worker(1, ring);
	take_from_ring(ring);
	CU_ASSERT_EQUAL(p.c->soft_err, ECONNREFUSED);
	CU_ASSERT_EQUAL(p.r->errors, 0);
	peer_ack_out(&p, 1100);

	be_worker(0, NULL);
	rte_ring_free(ring);
}

/*
 * A connection accepted on a listener port belongs to the worker that took
 * its SYN, which the port does not tell: a worker without the connection
 * gives the error to its peers, and the owner applies it.
 */
static void
test_icmp_error_for_a_passive_connection_reaches_the_worker_that_has_it(void)
{
	struct rte_ring *ring = rte_ring_create("sl_test_icmp2", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct sl_tcp_worker *a = tw, *b = other_worker_create();
	const uint32_t mss = 1000 - 40 - 12;
	struct peer p;
	struct oseg o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	be_worker(0, ring);
	peer_init(&p, 40306, PO_ALL);
	passive_open(&p); /* on worker 0 */
	CU_ASSERT_EQUAL(send_data(p.c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);

	/* Worker 1, listening on the same port, gets the error and has no such connection. */
	use_worker(b);
	be_worker(1, ring);
	CU_ASSERT_FATAL(sl_tcp_listen(&worker, LPORT, &rec_ops, NULL) == 0);
	feed_icmp_unreach(&p, 4, 1000, OUT(&p, 0));
	CU_ASSERT_EQUAL(rte_ring_count(ring), 1);
	CU_ASSERT_EQUAL(b->stats.pmtu_updates, 0);
	EXPECT_NOTHING();

	use_worker(a);
	be_worker(0, ring);
	take_from_ring(ring);
	CU_ASSERT_EQUAL(rte_ring_count(ring), 0);
	CU_ASSERT_EQUAL(a->stats.pmtu_updates, 1);
	CU_ASSERT_EQUAL(p.c->mss, mss);
	EXPECT_DATA(&p, &o, 0, mss);
	EXPECT_DATA(&p, &o, mss, 1000 - mss);

	/* Received by the worker that has it: applied there, no copies. */
	feed_icmp_unreach(&p, 4, 900, OUT(&p, 0));
	CU_ASSERT_EQUAL(rte_ring_count(ring), 0);
	CU_ASSERT_EQUAL(a->stats.pmtu_updates, 2);
	drain();
	peer_ack_out(&p, 1000);

	be_worker(0, NULL);
	rte_ring_free(ring);
	sl_tcp_worker_free(b);
}

/*
 * ACKs for segments that do not belong go out at most once per 500 ms per
 * connection (Linux's tcp_invalid_ratelimit); another connection is not
 * affected. Data out of window is always answered.
 */
static void
test_challenge_acks_are_limited_per_connection(void)
{
	struct peer p, q;
	struct oseg o;

	peer_init(&p, 40307, PO_ALL);
	passive_open(&p);
	peer_init(&q, 40308, PO_ALL);
	passive_open(&q);
	peer_rst(&p, IN(&p, 10));
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	advance_ms(SL_TCP_INVALID_RATELIMIT_MS - 1);
	peer_rst(&p, IN(&p, 20));
	peer_send(&p, TH_SYN, IN(&p, 5), 0, NULL, 0, NULL, 0);
	peer_send(&p, TH_ACK, IN(&p, 0) + 200000, OUT(&p, 0), NULL, 0, NULL, 0); /* out of window */
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 1);
	/* The other connection has its own limit. */
	peer_rst(&q, IN(&q, 10));
	EXPECT_SEG(&q, &o, TH_ACK, OUT(&q, 0), IN(&q, 0));
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 2);
	/* Old data is answered whatever the limit: the sender needs to know where we are. */
	uint8_t d[10] = {0};

	peer_send(&p, TH_ACK, IN(&p, 0) - 10, OUT(&p, 0), d, sizeof(d), NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	/* 500 ms after the first, the next challenge goes out. */
	advance_ms(1);
	peer_rst(&p, IN(&p, 20));
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(tw->stats.challenge_acks, 3);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(p.r->errors + q.r->errors, 0);
}

/*
 * The per-worker budget of challenge ACKs is drawn at random each second
 * (Linux since CVE-2016-5696): an attacker who exhausts it cannot infer from
 * a fixed count what the victim connection spent. Here the per-connection
 * limit is lifted by hand before each segment, standing in for thousands of
 * connections.
 */
static void
test_challenge_ack_budget_is_random_each_second(void)
{
	enum { SECONDS = 6, TRIES = 2000 };
	uint64_t sent[SECONDS];
	bool all_same = true;
	struct peer p;

	peer_init(&p, 40309, PO_ALL);
	passive_open(&p);
	for (unsigned int sec = 0; sec < SECONDS; sec++) {
		uint64_t before = tw->stats.challenge_acks;

		advance_ms(1000);
		for (unsigned int i = 0; i < TRIES; i++) {
			p.c->last_oow_ack_ms = 0;
			peer_rst(&p, IN(&p, 10));
			if (pending() > 1000)
				drain();
		}
		drain();
		sent[sec] = tw->stats.challenge_acks - before;
		CU_ASSERT(sent[sec] >= SL_TCP_CHALLENGE_ACK_LIMIT / 2);
		CU_ASSERT(sent[sec] < SL_TCP_CHALLENGE_ACK_LIMIT * 3 / 2);
		if (sec > 0 && sent[sec] != sent[0])
			all_same = false;
	}
	CU_ASSERT_FALSE(all_same);
	CU_ASSERT_EQUAL(p.r->errors, 0);
}

/* The ACK completing a cookie handshake that p might have made, built by hand. */
static void
peer_cookie_ack(struct peer *p)
{
	uint32_t cookie = sl_syncookie_make(&tw->secret, OUR_IP, rte_cpu_to_be_16(p->lport), PEER_IP,
					    rte_cpu_to_be_16(p->port), p->iss, 1460,
					    now_us / 1000000, NULL);

	p->our_iss = cookie;
	p->rcv_nxt = cookie + 1;
	p->snd_nxt = p->iss + 1;
	peer_ack(p);
}

/*
 * A bare ACK to a listener is checked as a SYN cookie only while cookies can
 * be out: the listener's backlog overflowed within a cookie's lifetime (as
 * Linux's tcp_synq_no_recent_overflow). Otherwise even a valid cookie gets a
 * RST: no SYN-ACK was sent for it, and checking every stray ACK cost a
 * SipHash and gave a forger a chance per guess.
 */
static void
test_cookie_ack_without_recent_overflow_gets_rst(void)
{
	struct peer p, q;
	struct oseg o;

	peer_init(&p, 40310, 0);
	peer_cookie_ack(&p);
	EXPECT_SEG(&p, &o, TH_RST, p.rcv_nxt, 0);
	CU_ASSERT_EQUAL(tw->stats.syncookies_ok + tw->stats.syncookies_failed, 0);
	CU_ASSERT_EQUAL(tw->stats.drops[SL_TCP_DROP_BAD_ACK], 1);
	CU_ASSERT_EQUAL(n_recs, 0);
	CU_ASSERT_PTR_NULL(find_conn(&p));

	/* Once the backlog overflows, the same kind of ACK opens a connection... */
	fill_syn_backlog();
	peer_init(&q, 40311, 0);
	peer_syn(&q);
	expect_seg(&q, &o);
	CU_ASSERT_EQUAL(tw->stats.syncookies_sent, 1);
	peer_init(&p, 40312, 0);
	peer_cookie_ack(&p);
	CU_ASSERT_EQUAL(tw->stats.syncookies_ok, 1);
	CU_ASSERT_EQUAL_FATAL(n_recs, 1);
	CU_ASSERT_EQUAL(recs[0].c->state, SL_TCP_ESTABLISHED);
	EXPECT_NOTHING();

	/* ...for two cookie periods (128 s) after the last overflow, no longer. */
	advance_ms((2000u << SL_SYNCOOKIE_PERIOD_SHIFT) - 1000);
	drain();
	peer_init(&p, 40313, 0);
	peer_cookie_ack(&p);
	CU_ASSERT_EQUAL(tw->stats.syncookies_ok, 2);
	advance_ms(1000);
	drain();
	peer_init(&p, 40314, 0);
	peer_cookie_ack(&p);
	EXPECT_SEG(&p, &o, TH_RST, p.rcv_nxt, 0);
	CU_ASSERT_EQUAL(tw->stats.syncookies_ok, 2);
	CU_ASSERT_EQUAL(tw->stats.syncookies_failed, 0);
	CU_ASSERT_EQUAL(n_recs, 2);
	EXPECT_NOTHING();
}

/*
 * writable runs once the segment that freed the space is fully processed, so
 * that what the user sends from it meets the window that segment announced.
 * It used to run before the window update: the data sent from the callback
 * went out against the old, larger window, beyond the peer's new right edge.
 */
static void
test_writable_runs_after_the_window_update_of_the_same_segment(void)
{
	const uint32_t flight = 10 * MSS_TS, wnd = 10000; /* below the congestion window */
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 40315, PO_MSS | PO_SACK | PO_TS); /* no window scaling: windows as sent */
	r = passive_open(&p);
	CU_ASSERT_EQUAL(send_data(p.c, 0, 65536), 0);
	CU_ASSERT_EQUAL(send_data(p.c, 65536, 10), -EAGAIN);
	for (unsigned int i = 0; i < 10; i++)
		EXPECT_DATA(&p, &o, i * MSS_TS, MSS_TS);
	EXPECT_NOTHING();
	r->on_writable = ACT_SEND;
	r->send_off = 65536;
	r->send_len = 1000;
	p.win = (uint16_t)wnd;
	peer_ack_out(&p, flight); /* all acknowledged, and the window shrinks to 10,000 */
	CU_ASSERT_EQUAL(r->writable, 1);
	CU_ASSERT_EQUAL(r->send_rc, 0);
	CU_ASSERT_EQUAL(r->wnd_at_writable, wnd);
	uint32_t end = OUT(&p, flight);

	while (pop_frame(&o)) {
		CU_ASSERT(o.tcp && o.len > 0);
		if (sl_seq_gt(o.seq + o.len, end))
			end = o.seq + o.len;
	}
	CU_ASSERT(sl_seq_leq(end, OUT(&p, flight + wnd))); /* never beyond the peer's window */
	CU_ASSERT(sl_seq_gt(end, OUT(&p, flight + wnd - MSS_TS)));
}

/*
 * The peer reuses its port for a new connection while we hold the old one in
 * TIME-WAIT (we closed first, as a server often does). Its SYN carries a new
 * ISN; it used to get only an ACK and wait until TIME-WAIT ended.
 */
static void
reuse_peer(struct peer *p, uint32_t iss)
{
	p->iss = iss;
	p->snd_nxt = iss;
	p->rcv_nxt = 0;
	p->ts = false;
	p->ts_recent = 0;
	p->r = NULL;
	p->c = NULL;
}

/* The new SYN is answered with a SYN-ACK whose ISN is above old_snd_nxt; the handshake completes. */
static void
expect_reopened(struct peer *p, uint32_t old_snd_nxt)
{
	unsigned int before = n_recs;
	struct oseg o;

	expect_seg(p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_EQUAL(o.ack, p->iss + 1);
	CU_ASSERT(sl_seq_gt(o.seq, old_snd_nxt));
	CU_ASSERT_PTR_NULL(find_tw(p));
	CU_ASSERT_EQUAL(tw->stats.conns_time_wait, 0);
	peer_got_syn_ack(p, &o);
	peer_ack(p);
	CU_ASSERT_EQUAL_FATAL(n_recs, before + 1);
	p->r = &recs[before];
	p->c = p->r->c;
	CU_ASSERT_EQUAL(p->c->state, SL_TCP_ESTABLISHED);
	peer_data(p, 0, 100);
	CU_ASSERT_EQUAL(p->r->bytes, 100);
	advance_ms(cfg.delayed_ack_ms);
	EXPECT_SEG(p, &o, TH_ACK, OUT(p, 0), IN(p, 100));
}

static void
test_syn_with_a_newer_sequence_number_reopens_a_time_wait_tuple(void)
{
	struct peer p;

	peer_init(&p, 40316, PO_MSS | PO_WS | PO_SACK); /* no timestamps: sequence numbers decide */
	passive_open(&p);
	uint32_t old_snd_nxt = OUT(&p, 1), old_rcv_nxt = IN(&p, 0) + 1;

	close_to_time_wait(&p);
	advance_ms(100);
	reuse_peer(&p, old_rcv_nxt + 5000);
	peer_syn(&p);
	expect_reopened(&p, old_snd_nxt);
	CU_ASSERT_EQUAL(tw->stats.passive_opens, 2);
}

static void
test_syn_with_a_newer_timestamp_reopens_a_time_wait_tuple(void)
{
	struct peer p;

	peer_init(&p, 40317, PO_ALL);
	passive_open(&p);
	uint32_t old_snd_nxt = OUT(&p, 1), old_rcv_nxt = IN(&p, 0) + 1;

	close_to_time_wait(&p);
	advance_ms(100); /* the peer's TSval clock moved on */
	reuse_peer(&p, old_rcv_nxt - 100000); /* an older sequence number */
	peer_syn(&p);
	expect_reopened(&p, old_snd_nxt);
}

/*
 * The new ISN goes above what the old connection sent even when the RFC 6528
 * clock alone would not (a connection that sent more than 250,000 bytes per
 * second of its life): here the record's snd_nxt is set past the clock.
 */
static void
test_reopened_time_wait_tuple_gets_an_isn_above_the_old_snd_nxt(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40318, PO_ALL);
	passive_open(&p);
	uint32_t old_rcv_nxt = IN(&p, 0) + 1;

	close_to_time_wait(&p);
	advance_ms(100);
	struct sl_tcp_tw *t = find_tw(&p);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	uint32_t isn = sl_tcp_isn(&tw->secret, OUR_IP, rte_cpu_to_be_16(LPORT), PEER_IP,
				  rte_cpu_to_be_16(p.port), now_us);
	t->snd_nxt = isn + 100000;
	reuse_peer(&p, old_rcv_nxt + 1);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_EQUAL(o.seq, isn + 100000 + 65537); /* as Linux: old snd_nxt + 65535 + 2 */
}

/* An old SYN (not newer by sequence or timestamp) is an old duplicate: an ACK, and TIME-WAIT stays. */
static void
test_old_syn_in_time_wait_gets_an_ack_and_changes_nothing(void)
{
	struct peer p;
	struct oseg o;

	peer_init(&p, 40319, PO_ALL);
	passive_open(&p);
	uint32_t old_iss = p.iss;

	close_to_time_wait(&p);
	advance_ms(100);
	p.ts_base -= 1000; /* an older timestamp, and the old ISN */
	peer_send(&p, TH_SYN, old_iss, 0, NULL, 0, NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 0) + 1);
	EXPECT_NOTHING();
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	CU_ASSERT_PTR_NULL(find_conn(&p));
	CU_ASSERT_EQUAL(n_recs, 1);
	/* The same timestamp as the last one is not newer either; answered, rate limited. */
	advance_ms(SL_TCP_INVALID_RATELIMIT_MS);
	p.ts_base = find_tw(&p)->ts_recent - (uint32_t)(now_us / 1000);
	peer_send(&p, TH_SYN, old_iss, 0, NULL, 0, NULL, 0);
	peer_send(&p, TH_SYN, old_iss, 0, NULL, 0, NULL, 0);
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 1), IN(&p, 0) + 1);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(n_recs, 1);
	advance_ms(cfg.time_wait_ms);
	expect_all_closed();
}

/*
 * TIME-WAIT keeps a record of one cache line, not the connection (about
 * 700 bytes with its queues and timers): the TCB goes back to the pool at
 * once and no longer counts against max_connections.
 */
static void
test_time_wait_keeps_a_small_record_not_the_connection(void)
{
	struct peer p;

	CU_ASSERT(sizeof(struct sl_tcp_tw) <= 32 + sizeof(struct sl_timer));
	CU_ASSERT(sizeof(struct sl_tcp_tw) * 8 <= sizeof(struct sl_tcp_conn));
	CU_ASSERT(tw->tw_pool->elt_size <= RTE_CACHE_LINE_SIZE);
	/* With the pool's per-object header: still a fifth of a connection's. */
	unsigned int tw_bytes = tw->tw_pool->header_size + tw->tw_pool->elt_size +
				tw->tw_pool->trailer_size;
	unsigned int conn_bytes = tw->conn_pool->header_size + tw->conn_pool->elt_size +
				  tw->conn_pool->trailer_size;

	fprintf(stderr, "[TIME-WAIT record %u bytes with its pool header, connection %u] ",
		tw_bytes, conn_bytes);
	CU_ASSERT(tw_bytes <= 2 * RTE_CACHE_LINE_SIZE);
	CU_ASSERT(tw_bytes * 5 <= conn_bytes);
	peer_init(&p, 40320, PO_ALL);
	passive_open(&p);
	close_to_time_wait(&p);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
	CU_ASSERT_EQUAL(tw->stats.conns_time_wait, 1);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tw->conn_pool), cfg.max_connections);
	CU_ASSERT_EQUAL(rte_hash_count(tw->table), 0);
	CU_ASSERT_EQUAL(tw->stats.time_wait, 1);
}

/* More TIME-WAITs than records: the extra ones close at once, counted. */
static void
test_time_wait_records_run_out_gracefully(void)
{
	unsigned int n = rte_mempool_avail_count(tw->tw_pool);
	struct peer p;

	for (unsigned int i = 0; i <= n; i++) {
		peer_init(&p, (uint16_t)(42000 + i), PO_ALL);
		passive_open(&p);
		close_to_time_wait_or_not(&p);
		drain();
	}
	CU_ASSERT_EQUAL(tw->stats.conns_time_wait, n);
	CU_ASSERT_EQUAL(tw->stats.time_wait, n + 1);
	CU_ASSERT_EQUAL(tw->stats.time_wait_overflow, 1);
	CU_ASSERT_EQUAL(tw->stats.conns, 0);
	advance_ms(cfg.time_wait_ms);
	expect_all_closed();
}

static const struct sl_test_def review_tests[] = {
    T(test_syn_with_a_newer_sequence_number_reopens_a_time_wait_tuple),
    T(test_syn_with_a_newer_timestamp_reopens_a_time_wait_tuple),
    T(test_reopened_time_wait_tuple_gets_an_isn_above_the_old_snd_nxt),
    T(test_old_syn_in_time_wait_gets_an_ack_and_changes_nothing),
    T(test_time_wait_keeps_a_small_record_not_the_connection),
    T(test_time_wait_records_run_out_gracefully),
    T(test_writable_runs_after_the_window_update_of_the_same_segment),
    T(test_cookie_ack_without_recent_overflow_gets_rst),
    T(test_challenge_acks_are_limited_per_connection),
    T(test_challenge_ack_budget_is_random_each_second),
    T(test_icmp_error_for_another_workers_connection_is_handed_to_the_owner),
    T(test_icmp_error_for_a_passive_connection_reaches_the_worker_that_has_it),
    T(test_port_unreachable_is_soft_once_established_and_named_at_timeout),
    T(test_port_unreachable_still_aborts_syn_received),
    T(test_bogus_tsecr_gives_no_rtt_sample_and_karn_timing_stands_in),
    T(test_workers_share_one_secret_and_check_each_others_cookies),
};

/* ---- the transmit path: checksums, segment limits (issue 6) ---- */

/*
 * A device that does what it is asked: fills the IPv4 header checksum and
 * completes the TCP one from the pseudo-header's seed. With dev_tap_style it
 * completes the TCP sum as the TAP PMD of DPDK 22.11 does, segment by segment
 * with no byte swap for a segment at an odd offset: right for one segment,
 * wrong for a chain with an odd piece. It also counts packets with more
 * mbufs than ifp.tx_seg_max, then hands everything to tx_capture.
 */
static bool dev_tap_style;
static unsigned int dev_over_seg_max, dev_chains_offloaded, dev_seg_max_seen;
static uint16_t dev_room; /* packets the device takes per call (its ring's free slots) */

static void
device_fill_cksums(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH_LEN);
	uint32_t l4_off = m->l2_len + m->l3_len;
	struct rte_tcp_hdr *th;
	uint16_t sum = 0;

	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_TCP_CKSUM)
		return;
	th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l4_off);
	if (m->nb_segs > 1)
		dev_chains_offloaded++;
	if (dev_tap_style) {
		uint32_t raw = 0;

		for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
			uint32_t from = s == m ? l4_off : 0;

			raw = __rte_raw_cksum(rte_pktmbuf_mtod_offset(s, const void *, from),
					      s->data_len - from, raw);
		}
		sum = __rte_raw_cksum_reduce(raw);
	} else {
		CU_ASSERT_FATAL(sl_cksum_mbuf(m, l4_off, m->pkt_len - l4_off, &sum) == 0);
	}
	th->cksum = (uint16_t)~sum; /* the seed in the field took part in the sum */
}

static uint16_t
tx_device(struct sl_netif *i, struct rte_mbuf **pkts, uint16_t n)
{
	n = RTE_MIN(n, dev_room);
	for (uint16_t k = 0; k < n; k++) {
		if (ifp.tx_seg_max != 0 && pkts[k]->nb_segs > ifp.tx_seg_max)
			dev_over_seg_max++;
		dev_seg_max_seen = RTE_MAX(dev_seg_max_seen, (unsigned int)pkts[k]->nb_segs);
		device_fill_cksums(pkts[k]);
	}
	return tx_capture(i, pkts, n);
}

static void
device_reset(void)
{
	dev_tap_style = false;
	dev_over_seg_max = dev_chains_offloaded = dev_seg_max_seen = 0;
	dev_room = UINT16_MAX;
	ifp.tx_burst = tx_device;
}

#define ZW_BYTES 65536u
#define ZW_PORT 7

/* The echo test service (dataplane/test_services.c) on port 7 of the test worker. */
static void
start_echo(void)
{
	struct sl_config_test_services svc = {.echo = ZW_PORT};

	CU_ASSERT_FATAL(sl_test_services_start(&worker, &svc, cfg.max_connections) == 0);
}

/*
 * The raw peer of issue 6 against the echo service: MSS 1460 and nothing
 * else offered, data sent as the echo's window allows, echoes read into a
 * window of `win` bytes that it does not empty: the window closes, the stack
 * probes, the probe opens it to 65535. Every frame goes through the device
 * and parse_frame, which checks both checksums; every byte must come back.
 */
static void
zero_window_echo(uint16_t win)
{
	uint8_t d[1460];
	struct peer p;
	struct oseg o;
	uint32_t sent = 0, acked = 0, got = 0, unread = 0, snd_wnd, bad = 0;
	uint64_t probes_before = tw->stats.zero_window_probes;
	bool opened = false, zero_seen = false;

	peer_init(&p, (uint16_t)(41000 + win % 1000), PO_MSS);
	p.lport = ZW_PORT;
	p.win = win;
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_FATAL(o.flags == (TH_SYN | TH_ACK));
	peer_got_syn_ack(&p, &o);
	snd_wnd = o.win;
	peer_ack(&p);
	p.c = find_conn(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.c);

	for (unsigned int ms = 0; got < ZW_BYTES && ms < 60000; ms++) {
		/* The peer sends what the echo's window allows. */
		while (sent < ZW_BYTES && sent - acked < snd_wnd) {
			uint32_t n = RTE_MIN(RTE_MIN(1460u, ZW_BYTES - sent), snd_wnd - (sent - acked));

			for (uint32_t i = 0; i < n; i++)
				d[i] = pat_in(sent + i);
			peer_send(&p, TH_ACK | TH_PSH, IN(&p, sent), p.rcv_nxt, d, n, NULL, 0);
			sent += n;
			p.snd_nxt = IN(&p, sent);
		}
		if (pending() == 0) {
			advance_ms(1);
			continue;
		}
		while (pending() > 0) {
			expect_seg(&p, &o);
			if (o.flags & TH_RST)
				CU_FAIL_FATAL("the echo service reset the connection");
			if (sl_seq_gt(o.ack, IN(&p, acked)) && sl_seq_leq(o.ack, IN(&p, sent)))
				acked = o.ack - IN(&p, 0);
			snd_wnd = o.win;
			if (o.len > 0 && o.seq == p.rcv_nxt && o.len <= (opened ? 65535u : win - unread)) {
				for (uint32_t i = 0; i < o.len; i++)
					bad += o.data[i] != pat_in(got + i);
				got += o.len;
				p.rcv_nxt += o.len;
				if (!opened)
					unread += o.len;
			} else if (o.len == 0 && o.seq == p.rcv_nxt - 1 && !opened) {
				/* A zero-window probe: now the peer reads everything. */
				CU_ASSERT_EQUAL(win - unread, 0);
				opened = true;
			} else if (o.len == 0) {
				continue; /* a pure ACK */
			}
			p.win = (uint16_t)(opened ? 65535u : win - unread);
			zero_seen |= p.win == 0;
			peer_ack(&p);
		}
	}
	if (got != ZW_BYTES)
		fprintf(stderr, "zero_window_echo(%u): %u of %u bytes back, %u sent, %u acked, "
			"window %s\n", win, got, ZW_BYTES, sent, acked, opened ? "opened" : "closed");
	CU_ASSERT_EQUAL(got, ZW_BYTES);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(zero_seen);
	CU_ASSERT(opened);
	CU_ASSERT(tw->stats.zero_window_probes > probes_before);
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 0);
	/* Done: the peer resets; the echo forgets the connection. */
	peer_rst(&p, IN(&p, sent));
	flush_and_reap();
	CU_ASSERT_PTR_NULL(find_conn(&p));
	drain();
}

/* Software checksums: the sum over odd pieces is right (sl_cksum_mbuf). */
static void
test_zero_window_echo_completes_with_software_checksums(void)
{
	device_reset();
	start_echo();
	zero_window_echo(4999);
	zero_window_echo(4096);
	zero_window_echo(1);
}

/*
 * A device that sums chains like the TAP PMD: the stack must not hand it a
 * chain to complete (issue 6: 6 segments with bad checksums, then a stall).
 */
static void
test_zero_window_echo_never_offloads_a_chain_to_a_tap_like_device(void)
{
	device_reset();
	start_echo();
	dev_tap_style = true;
	ifp.tx_ip_cksum = ifp.tx_tcp_cksum = true;
	ifp.tx_l4_cksum_chained = false;
	zero_window_echo(4999);
	zero_window_echo(4096);
	CU_ASSERT_EQUAL(dev_chains_offloaded, 0);
}

/* A device that sums chains right gets them: the data stays where it is. */
static void
test_zero_window_echo_offloads_chains_to_a_device_that_sums_them(void)
{
	device_reset();
	start_echo();
	ifp.tx_ip_cksum = ifp.tx_tcp_cksum = true;
	ifp.tx_l4_cksum_chained = true;
	zero_window_echo(4999);
	CU_ASSERT(dev_chains_offloaded > 0);
}

/*
 * Data handed over as a chain of small mbufs, on a device that takes at most
 * `limit` mbufs per packet: every frame within the limit, the data intact,
 * the copies counted.
 */
static void
send_within_segment_limit(uint16_t limit, uint32_t piece, uint32_t total, bool expect_copies)
{
	struct peer p;
	struct oseg o;
	uint32_t got = 0;

	ifp.tx_seg_max = limit;
	peer_init(&p, (uint16_t)(42000 + limit * 10 + piece % 10), PO_ALL);
	passive_open(&p);
	struct rte_mbuf *m = make_data(0, total, piece);
	CU_ASSERT_FATAL(sl_tcp_send(p.c, m) == 0);
	flush_and_reap();
	for (unsigned int ms = 0; got < total && ms < 10000; ms++) {
		if (pending() == 0) {
			advance_ms(1);
			continue;
		}
		while (pending() > 0) {
			expect_seg(&p, &o);
			if (o.len == 0)
				continue;
			CU_ASSERT_EQUAL(o.seq, OUT(&p, got));
			check_out_payload(&p, &o);
			got += o.len;
		}
		peer_ack_out(&p, got);
	}
	CU_ASSERT_EQUAL(got, total);
	CU_ASSERT_EQUAL(dev_over_seg_max, 0);
	CU_ASSERT(limit == 0 || dev_seg_max_seen <= limit);
	if (expect_copies) {
		CU_ASSERT(ifp.stats.tx_linearized > 0);
	} else {
		CU_ASSERT_EQUAL(ifp.stats.tx_linearized, 0);
	}
	CU_ASSERT_EQUAL(ifp.stats.tx_bad_cksum, 0);
	ifp.tx_seg_max = 0;
	ifp.stats.tx_linearized = 0;
}

static void
test_segments_respect_the_devices_mbuf_limit_by_copying_small_pieces(void)
{
	device_reset();
	send_within_segment_limit(2, 100, 40000, true);
	send_within_segment_limit(4, 333, 40000, true);
	send_within_segment_limit(4, 1, 3000, true);
}

static void
test_segments_within_the_limit_are_not_copied(void)
{
	/* 2000-byte pieces: a segment spans at most two, plus its header. */
	device_reset();
	send_within_segment_limit(3, 2000, 40000, false);
}

/*
 * A device whose ring takes one packet per call: a burst of ten segments
 * used to lose nine of them (issue 6). Now they wait for the next poll
 * iteration: every byte arrives in order, nothing is retransmitted.
 */
static void
test_a_full_tx_ring_delays_segments_but_loses_none(void)
{
	device_reset();
	dev_room = 1;
	send_within_segment_limit(0, 2000, 40000, false);
	CU_ASSERT(ifp.stats.tx_ring_full > 0);
	CU_ASSERT(ifp.stats.tx_backlogged > 0);
	CU_ASSERT_EQUAL(ifp.stats.drops[SL_NET_DROP_TX_FULL], 0);
	CU_ASSERT_EQUAL(tw->stats.retransmits, 0);
}

static const struct sl_test_def tx_path_tests[] = {
    T(test_zero_window_echo_completes_with_software_checksums),
    T(test_zero_window_echo_never_offloads_a_chain_to_a_tap_like_device),
    T(test_zero_window_echo_offloads_chains_to_a_device_that_sums_them),
    T(test_segments_respect_the_devices_mbuf_limit_by_copying_small_pieces),
    T(test_segments_within_the_limit_are_not_copied),
    T(test_a_full_tx_ring_delays_segments_but_loses_none),
};

static const struct sl_test_def rcvmem_tests[] = {
    T(test_tiny_segments_get_a_window_in_proportion_to_their_size),
    T(test_tiny_segments_pin_no_more_than_twice_a_full_window),
    T(test_reassembly_queue_over_budget_is_pruned_and_the_transfer_completes),
    T(test_worker_budget_stops_the_window_opening_until_the_user_consumes),
    T(test_pool_at_its_reserve_keeps_no_payload_but_takes_the_ack),
    T(test_connection_holding_nothing_gets_in_when_the_worker_is_over_budget),
};

/* ---- what the proxy needs from the stack (tcp.h): addresses, timeouts, cork, info ---- */

#define VIP IP4(198, 18, 0, 50)

/* A chain of the given piece sizes holding pat_in(0..); its pieces' data addresses in addr[]. */
static struct rte_mbuf *
chain_of(const uint16_t *pieces, unsigned int n, uint8_t **addr)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *p;

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		p = (uint8_t *)rte_pktmbuf_append(m, pieces[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (uint32_t k = 0; k < pieces[i]; k++)
			p[k] = pat_in(off + k);
		if (addr != NULL)
			addr[i] = p;
		off += pieces[i];
		if (head == NULL)
			head = m;
		else
			CU_ASSERT_FATAL(rte_pktmbuf_chain(head, m) == 0);
	}
	return head;
}

/* m's bookkeeping is right and it holds pat_in(from .. from + len). */
static void
check_chain(const struct rte_mbuf *m, uint32_t from, uint32_t len)
{
	uint32_t sum = 0, bad = 0;
	uint16_t n = 0;

	CU_ASSERT_EQUAL(m->pkt_len, len);
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next, n++) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		for (uint32_t k = 0; k < s->data_len; k++)
			bad += p[k] != pat_in(from + sum + k);
		sum += s->data_len;
	}
	CU_ASSERT_EQUAL(sum, len);
	CU_ASSERT_EQUAL(m->nb_segs, n);
	CU_ASSERT_EQUAL(bad, 0);
}

/* Split a fresh chain of `pieces` (or a clone of it) at off and check both sides. */
static void
split_case(const uint16_t *pieces, unsigned int n, uint32_t len, uint32_t off, bool clone)
{
	uint8_t *addr[8];
	struct rte_mbuf *orig = chain_of(pieces, n, addr);
	struct rte_mbuf *m = orig, *tail = NULL;
	const uint8_t *at = NULL;
	uint32_t before = 0;
	int rc;

	/* A clone: every piece indirect, as data the stack hands over may be. */
	if (clone) {
		m = rte_pktmbuf_clone(orig, pool);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	}
	for (unsigned int i = 0; i < n && off < len; i++) {
		if (off < before + pieces[i]) {
			at = addr[i] + (off - before);
			break;
		}
		before += pieces[i];
	}
	rc = sl_mbuf_chain_split(m, off, pool, &tail);
	if (off == 0 || off == len) {
		CU_ASSERT_EQUAL(rc, -EINVAL);
		check_chain(m, 0, len);
	} else {
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		check_chain(m, 0, off);
		check_chain(tail, off, len - off);
		/* No copy: the tail's first byte is the original's byte at off. */
		CU_ASSERT_PTR_EQUAL(rte_pktmbuf_mtod(tail, const uint8_t *), at);
		rte_pktmbuf_free(tail);
	}
	/* Either side alone keeps the data alive: the head goes last. */
	if (clone)
		rte_pktmbuf_free(orig);
	else
		check_chain(m, 0, off == 0 || off == len ? len : off);
	rte_pktmbuf_free(m);
}

static void
test_chain_split_at_every_offset_shares_the_data(void)
{
	static const uint16_t a[] = {1, 7, 13, 100, 1, 333};
	static const uint16_t b[] = {1000};
	static const uint16_t c[] = {2, 1, 1, 2, 5, 3};
	static const struct {
		const uint16_t *p;
		unsigned int n;
	} chains[] = {{a, RTE_DIM(a)}, {b, RTE_DIM(b)}, {c, RTE_DIM(c)}};
	unsigned int avail = rte_mempool_avail_count(pool);

	for (unsigned int ci = 0; ci < RTE_DIM(chains); ci++) {
		uint32_t len = 0;

		for (unsigned int i = 0; i < chains[ci].n; i++)
			len += chains[ci].p[i];
		for (uint32_t off = 0; off <= len; off++) {
			split_case(chains[ci].p, chains[ci].n, len, off, false);
			CU_ASSERT_EQUAL_FATAL(rte_mempool_avail_count(pool), avail);
			split_case(chains[ci].p, chains[ci].n, len, off, true);
			CU_ASSERT_EQUAL_FATAL(rte_mempool_avail_count(pool), avail);
		}
	}
	/* Out of mbufs: nothing changes. */
	{
		struct rte_mbuf *m = chain_of(a, RTE_DIM(a), NULL), *tail = NULL, *hog[POOL_SIZE];
		unsigned int n = 0;

		while (n < RTE_DIM(hog) && (hog[n] = rte_pktmbuf_alloc(pool)) != NULL)
			n++;
		CU_ASSERT_EQUAL(sl_mbuf_chain_split(m, 3, pool, &tail), -ENOBUFS);
		check_chain(m, 0, 455);
		/* A cut on a boundary needs no mbuf. */
		CU_ASSERT_EQUAL(sl_mbuf_chain_split(m, 8, pool, &tail), 0);
		check_chain(m, 0, 8);
		check_chain(tail, 8, 447);
		while (n > 0)
			rte_pktmbuf_free(hog[--n]);
		rte_pktmbuf_free(tail);
		rte_pktmbuf_free(m);
		CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), avail);
	}
}

/* An ARP request from the peer for `tip`. */
static void
peer_arp_request(uint32_t tip)
{
	uint8_t f[MIN_FRAME];
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(f + ETH_LEN);

	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = peer_mac;
	ah->arp_data.arp_sip = PEER_IP;
	ah->arp_data.arp_tip = tip;
	feed(mbuf_from(f, sizeof(f)));
}

static void
test_vip_is_answered_by_arp_and_accepted_by_ipv4(void)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;
	struct peer p;
	struct oseg o;

	/* Before: not ours. */
	peer_arp_request(VIP);
	EXPECT_NOTHING();
	our_ip_cur = VIP;
	peer_init(&p, 40700, PO_ALL);
	peer_syn(&p);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(ifp.stats.drops[SL_NET_DROP_IP_NOT_US], 1);

	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, VIP), 0);
	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, VIP), -EEXIST);
	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, OUR_IP), -EEXIST);
	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, 0), -EINVAL);
	peer_arp_request(VIP);
	CU_ASSERT_FATAL(pending() == 1);
	m = cap[cap_head];
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, ETH_LEN);
	CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	CU_ASSERT_EQUAL(ah->arp_data.arp_sip, VIP); /* answered for the VIP, with our MAC */
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &our_mac));
	CU_ASSERT_EQUAL(ah->arp_data.arp_tip, PEER_IP);
	drain();
	/* The wildcard listener takes a SYN to the VIP, and answers from the VIP. */
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	/* Announcements cover the VIP too. */
	sl_arp_announce(&ifp);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(pending(), 2);
	drain();
	CU_ASSERT_EQUAL(ifp.stats.arp_tx_gratuitous, 2);
}

/* The listener a passive connection came through. */
static struct sl_tcp_listener *
listener_of(const struct rec *r)
{
	return r->c->listener;
}

static void
test_listen_on_address_and_port_picks_the_exact_address_first(void)
{
	struct peer p1, p2, p3;
	struct rec *r;
	uint32_t laddr, raddr;
	uint16_t lport, rport;

	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, VIP), 0);
	CU_ASSERT_EQUAL(sl_tcp_listen_addr(&worker, VIP, LPORT, &rec_ops, NULL), 0);
	CU_ASSERT_EQUAL(sl_tcp_listen_addr(&worker, VIP, LPORT, &rec_ops, NULL), -EADDRINUSE);
	CU_ASSERT_EQUAL(sl_tcp_listen(&worker, LPORT, &rec_ops, NULL), -EADDRINUSE);
	CU_ASSERT_EQUAL(sl_tcp_listen_addr(&worker, VIP, 0, &rec_ops, NULL), -EINVAL);
	/* Port 81 on the VIP only. */
	CU_ASSERT_EQUAL(sl_tcp_listen_addr(&worker, VIP, 81, &rec_ops, NULL), 0);

	our_ip_cur = VIP;
	peer_init(&p1, 40710, PO_ALL);
	r = passive_open(&p1);
	CU_ASSERT_EQUAL(listener_of(r)->addr, VIP);
	sl_tcp_endpoints(r->c, &laddr, &lport, &raddr, &rport);
	CU_ASSERT_EQUAL(laddr, VIP);
	CU_ASSERT_EQUAL(lport, rte_cpu_to_be_16(LPORT));

	our_ip_cur = OUR_IP;
	peer_init(&p2, 40711, PO_ALL);
	r = passive_open(&p2);
	CU_ASSERT_EQUAL(listener_of(r)->addr, 0); /* the wildcard */

	/* 81 on the port's own address: nobody listens there. */
	peer_init(&p3, 40712, PO_ALL);
	p3.lport = 81;
	peer_syn(&p3);
	{
		struct oseg o;

		expect_seg(&p3, &o);
		CU_ASSERT_EQUAL(o.flags, TH_RST | TH_ACK);
	}
	our_ip_cur = VIP;
	r = passive_open(&p3);
	CU_ASSERT_EQUAL(listener_of(r)->addr, VIP);
	CU_ASSERT_EQUAL(listener_of(r)->port, rte_cpu_to_be_16(81));
	{
		uint16_t ports[8];

		CU_ASSERT_EQUAL(sl_tcp_listener_ports(tw, ports, 8), 2); /* 80 once, 81 */
	}
	sl_tcp_abort(p1.c);
	sl_tcp_abort(p2.c);
	sl_tcp_abort(p3.c);
	p1.r->live = p2.r->live = p3.r->live = false;
	drain();
}

static void
test_a_thousand_listeners_are_found_per_segment(void)
{
	struct peer p;
	struct rec *r;
	unsigned int n = 1;

	/* Port 80 (setup), then ports and VIP:ports up to the limit. */
	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, VIP), 0);
	for (uint16_t port = 1000; n < SL_TCP_LISTENERS_MAX; port++) {
		CU_ASSERT_EQUAL_FATAL(sl_tcp_listen(&worker, port, &rec_ops, NULL), 0);
		n++;
		if (n < SL_TCP_LISTENERS_MAX && port % 2 == 0) {
			CU_ASSERT_EQUAL_FATAL(
			    sl_tcp_listen_addr(&worker, VIP, port, &rec_ops, NULL), 0);
			n++;
		}
	}
	CU_ASSERT_EQUAL(sl_tcp_listen(&worker, 9999, &rec_ops, NULL), -ENOSPC);
	peer_init(&p, 40720, PO_ALL);
	p.lport = 1600;
	our_ip_cur = VIP;
	r = passive_open(&p);
	CU_ASSERT_EQUAL(listener_of(r)->addr, VIP);
	sl_tcp_abort(p.c);
	r->live = false;
	flush_and_reap();
	drain();
	peer_init(&p, 40721, PO_ALL);
	p.lport = 1601; /* odd: the wildcard only */
	r = passive_open(&p);
	CU_ASSERT_EQUAL(listener_of(r)->addr, 0);
	CU_ASSERT_EQUAL(listener_of(r)->port, rte_cpu_to_be_16(1601));
	sl_tcp_abort(p.c);
	r->live = false;
	drain();
}

/* sl_tcp_connect_opts to the peer; returns the record once the SYN is out (not answered). */
static struct rec *
connect_opts(struct peer *p, const struct sl_tcp_connect_opts *o, struct oseg *syn)
{
	struct rec *r = rec_new();
	int err = 1;

	r->c = sl_tcp_connect_opts(&worker, PEER_IP, rte_cpu_to_be_16(p->port), o, &rec_ops, r,
				   &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	CU_ASSERT_EQUAL(err, 0);
	r->live = true;
	p->lport = 0;
	expect_seg(p, syn);
	CU_ASSERT_FATAL(syn->flags == TH_SYN);
	p->lport = syn->sport;
	p->our_iss = syn->seq;
	p->rcv_nxt = syn->seq + 1;
	p->r = r;
	p->c = r->c;
	return r;
}

static void
test_connect_from_a_chosen_address(void)
{
	struct sl_tcp_connect_opts o = {.port_index = 0, .laddr = VIP};
	struct peer p;
	struct oseg syn;
	struct rec *r;
	int err = 0;

	CU_ASSERT_PTR_NULL(sl_tcp_connect_opts(&worker, PEER_IP, RTE_BE16(8080), &o, &rec_ops, NULL,
					       &err));
	CU_ASSERT_EQUAL(err, -EADDRNOTAVAIL); /* not ours yet */
	CU_ASSERT_EQUAL(sl_netif_add_addr(&ifp, VIP), 0);
	our_ip_cur = VIP; /* parse_frame checks the source address */
	peer_init(&p, 8080, PO_ALL);
	r = connect_opts(&p, &o, &syn);
	peer_syn_ack(&p, syn.seq + 1);
	p.ts = true;
	EXPECT_SEG(&p, &syn, TH_ACK, OUT(&p, 0), IN(&p, 0));
	CU_ASSERT_EQUAL(r->connected, 1);
	CU_ASSERT_EQUAL(r->c->key.laddr, VIP);
	sl_tcp_abort(r->c);
	r->live = false;
	drain();
}

static void
test_connect_timeout_fails_the_open_in_time(void)
{
	struct sl_tcp_connect_opts o = {.connect_timeout_ms = 2500};
	struct peer p;
	struct oseg syn;
	struct rec *r;

	peer_init(&p, 8081, PO_ALL);
	r = connect_opts(&p, &o, &syn);
	CU_ASSERT_EQUAL(wait_frame(1100), 1000); /* the SYN again at the RTO */
	drain();
	advance_ms(1499);
	CU_ASSERT_EQUAL(r->errors, 0);
	advance_ms(1);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ETIMEDOUT);
	EXPECT_NOTHING();
	expect_all_closed();

	/* A connection that opens in time is not touched by it. */
	peer_init(&p, 8082, PO_ALL);
	r = connect_opts(&p, &o, &syn);
	peer_syn_ack(&p, syn.seq + 1);
	p.ts = true;
	EXPECT_SEG(&p, &syn, TH_ACK, OUT(&p, 0), IN(&p, 0));
	advance_ms(5000);
	CU_ASSERT_EQUAL(r->errors, 0);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_ESTABLISHED);
	sl_tcp_abort(r->c);
	r->live = false;
	drain();
}

static void
test_user_timeout_aborts_when_sent_data_stays_unacknowledged(void)
{
	struct sl_tcp_connect_opts opts = {.user_timeout_ms = 2500};
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 8083, PO_ALL);
	r = connect_opts(&p, &opts, &o);
	peer_syn_ack(&p, o.seq + 1);
	p.ts = true;
	EXPECT_SEG(&p, &o, TH_ACK, OUT(&p, 0), IN(&p, 0));
	/* Acknowledged progress keeps it alive however long it takes in all (3 s here). */
	for (uint32_t i = 0; i < 30; i++) {
		CU_ASSERT_EQUAL(send_data(r->c, i * 100, 100), 0);
		EXPECT_DATA(&p, &o, i * 100, 100);
		advance_ms(100);
		peer_ack_out(&p, (i + 1) * 100);
	}
	CU_ASSERT_EQUAL(r->errors, 0);
	/* Then nothing acknowledged: retransmissions (backed off), cut at 2.5 s exactly. */
	CU_ASSERT_EQUAL(send_data(r->c, 3000, 100), 0);
	EXPECT_DATA(&p, &o, 3000, 100);
	for (unsigned int i = 0; i < 2499; i++) {
		advance_ms(1);
		drain();
	}
	CU_ASSERT_EQUAL(r->errors, 0);
	advance_ms(1);
	CU_ASSERT_EQUAL(r->errors, 1);
	CU_ASSERT_EQUAL(r->err, -ETIMEDOUT);
	drain();
	expect_all_closed();
}

static void
test_user_timeout_leaves_a_simultaneous_open_to_its_syn_timer(void)
{
	struct sl_tcp_connect_opts opts = {.user_timeout_ms = 2500};
	struct peer p;
	struct oseg o;
	struct rec *r;

	peer_init(&p, 8084, PO_ALL);
	r = connect_opts(&p, &opts, &o);
	peer_syn(&p); /* the peer's SYN crosses ours: SYN-RECEIVED, our SYN-ACK */
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_SYN | TH_ACK);
	CU_ASSERT_EQUAL(r->c->state, SL_TCP_SYN_RECEIVED);
	/* The SYN-ACK again at the RTO, then backed off: not once per millisecond. */
	CU_ASSERT(wait_frame(1100) > 0);
	drain();
	advance_ms(100);
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(r->errors, 0);
	sl_tcp_abort(r->c);
	r->live = false;
	flush_and_reap();
	drain();
}

struct api_timer {
	struct sl_timer t;
	unsigned int fired;
	uint64_t at_ms;
};

static void
api_timer_fire(struct sl_timer *t)
{
	struct api_timer *a = sl_container_of(t, struct api_timer, t);

	a->fired++;
	a->at_ms = sl_tcp_clock_ms(&worker);
}

static void
test_timers_for_the_layers_above_run_on_the_worker_wheel(void)
{
	struct api_timer a, b;
	uint64_t t0 = sl_tcp_clock_ms(&worker);

	CU_ASSERT_EQUAL(t0, now_us / 1000);
	CU_ASSERT_EQUAL(sl_tcp_clock_us(&worker), now_us);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	sl_tcp_timer_init(&a.t, api_timer_fire);
	sl_tcp_timer_init(&b.t, api_timer_fire);
	sl_tcp_timer_arm(&worker, &a.t, 50);
	sl_tcp_timer_arm_at(&worker, &b.t, t0 + 20);
	CU_ASSERT(sl_tcp_timer_armed(&a.t));
	advance_ms(20);
	CU_ASSERT_EQUAL(b.fired, 1);
	CU_ASSERT_EQUAL(b.at_ms, t0 + 20);
	CU_ASSERT_FALSE(sl_tcp_timer_armed(&b.t));
	sl_tcp_timer_arm(&worker, &a.t, 50); /* moved: now due at t0 + 70 */
	advance_ms(49);
	CU_ASSERT_EQUAL(a.fired, 0);
	advance_ms(1);
	CU_ASSERT_EQUAL(a.fired, 1);
	CU_ASSERT_EQUAL(a.at_ms, t0 + 70);
	sl_tcp_timer_arm(&worker, &a.t, 10);
	sl_tcp_timer_cancel(&a.t);
	advance_ms(20);
	CU_ASSERT_EQUAL(a.fired, 1);
	sl_tcp_timer_cancel(&a.t); /* harmless when not armed */
}

/*
 * The peer's request (500 bytes, unread by the user) and our 3,000-byte
 * response queued; then the user closes. Returns the connection's record.
 */
static struct rec *
response_queued_request_unread(struct peer *p)
{
	struct rec *r;

	rec_template.consume = false;
	/* The peer reads slowly (a 1,000-byte window): the response drains in pieces. */
	peer_init(p, 40730, PO_MSS | PO_SACK | PO_TS);
	p->win = 1000;
	r = passive_open(p);
	peer_data(p, 0, 500);
	CU_ASSERT_EQUAL(r->held, 500);
	drain(); /* our ACK */
	CU_ASSERT_EQUAL(send_data(r->c, 0, 3000), 0);
	return r;
}

static void
test_close_with_unread_data_resets_and_loses_the_response(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = response_queued_request_unread(&p);

	drain();
	r->live = false;
	sl_tcp_close(r->c);
	expect_seg(&p, &o);
	CU_ASSERT(o.flags & TH_RST); /* what sl_tcp_close_linger is for */
	expect_all_closed();
}

static void
test_linger_close_drains_the_response_then_fin_and_discards_input(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = response_queued_request_unread(&p);
	uint32_t got = 0;
	bool fin = false;

	EXPECT_DATA(&p, &o, 0, 1000); /* what the window takes before the close */
	got = 1000;
	r->live = false;
	sl_tcp_close_linger(r->c, 10000);
	EXPECT_NOTHING();
	/* The peer still sends (the rest of a body): acknowledged and dropped, no reset. */
	peer_data(&p, 500, 700);
	while (pending() > 0) {
		expect_seg(&p, &o);
		CU_ASSERT_FALSE(o.flags & TH_RST);
	}
	CU_ASSERT_EQUAL(p.r->bytes, 500); /* the user heard nothing more */
	/* The peer reads and acknowledges: the whole response, then FIN. */
	while (!fin) {
		p.rcv_nxt = OUT(&p, got);
		peer_ack(&p);
		CU_ASSERT_FATAL(pending() > 0);
		while (pending() > 0) {
			expect_seg(&p, &o);
			CU_ASSERT_FALSE_FATAL(o.flags & TH_RST);
			if (o.len > 0) {
				CU_ASSERT_EQUAL(o.seq, OUT(&p, got));
				check_out_payload(&p, &o);
				got += o.len;
			}
			if (o.flags & TH_FIN) {
				CU_ASSERT_EQUAL(got, 3000); /* FIN after the last byte */
				fin = true;
			}
		}
	}
	p.rcv_nxt = OUT(&p, 3000) + 1;
	peer_ack(&p);
	CU_ASSERT_EQUAL(find_conn(&p)->state, SL_TCP_FIN_WAIT_2);
	/* The peer closes too: TIME-WAIT, as any close. */
	peer_fin(&p, 1200);
	expect_seg(&p, &o);
	CU_ASSERT_EQUAL(o.flags, TH_ACK);
	CU_ASSERT_EQUAL(o.ack, IN(&p, 1200) + 1);
	CU_ASSERT_PTR_NOT_NULL(find_tw(&p));
	CU_ASSERT_EQUAL(tw->stats.resets_sent, 0);
	advance_ms(cfg.time_wait_ms + 10);
	drain();
	expect_all_closed();
}

static void
test_linger_close_resets_at_its_timeout(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r = response_queued_request_unread(&p);
	uint64_t t0;
	bool rst = false;

	drain();
	r->live = false;
	sl_tcp_close_linger(r->c, 1500);
	t0 = now_us;
	/* The peer never acknowledges: retransmissions, then the reset at 1.5 s. */
	while (!rst && now_us - t0 < 3000000) {
		advance_ms(1);
		while (pending() > 0) {
			expect_seg(&p, &o);
			if (o.flags & TH_RST) {
				rst = true;
				CU_ASSERT_EQUAL(now_us - t0, 1500000);
			}
		}
	}
	CU_ASSERT(rst);
	CU_ASSERT_EQUAL(tw->stats.conn_timeouts, 1);
	expect_all_closed();
}

/* Our segments now in flight: their lengths and flags. */
static unsigned int
collect(struct peer *p, uint32_t *lens, uint8_t *flags, unsigned int max)
{
	struct oseg o;
	unsigned int n = 0;

	while (pending() > 0 && n < max) {
		expect_seg(p, &o);
		check_out_payload(p, &o);
		lens[n] = o.len;
		flags[n] = o.flags;
		n++;
	}
	return n;
}

static void
test_cork_sends_a_head_and_its_body_as_full_segments(void)
{
	struct peer p;
	struct rec *r;
	uint32_t lens[8];
	uint8_t flags[8];
	struct rte_mbuf *head, *body;

	/* Uncorked, as before: the head leaves alone with PSH. */
	peer_init(&p, 40740, PO_ALL);
	r = passive_open(&p);
	head = make_data(0, 200, 2000);
	body = make_data(200, 3000, 2000);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, head), 0);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, body), 0);
	flush_and_reap();
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 4);
	CU_ASSERT_EQUAL(lens[0], 200);
	CU_ASSERT(flags[0] & TH_PSH);

	/* Corked: full segments only; the rest at the end of the iteration. */
	peer_init(&p, 40741, PO_ALL);
	r = passive_open(&p);
	sl_tcp_cork(r->c, true);
	head = make_data(0, 200, 2000);
	body = make_data(200, 3000, 2000);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, head), 0);
	sl_netif_flush(&ifp);
	EXPECT_NOTHING(); /* a short segment waits */
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, body), 0);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 2);
	CU_ASSERT_EQUAL(lens[0], MSS_TS);
	CU_ASSERT_EQUAL(lens[1], MSS_TS);
	CU_ASSERT_FALSE(flags[0] & TH_PSH);
	CU_ASSERT_FALSE(flags[1] & TH_PSH);
	flush_and_reap(); /* the end of the poll iteration */
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 1);
	CU_ASSERT_EQUAL(lens[0], 3200 - 2 * MSS_TS);
	CU_ASSERT(flags[0] & TH_PSH);
	EXPECT_NOTHING();
	/* Uncorking sends what waits at once. */
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(3200, 100, 2000)), 0);
	sl_netif_flush(&ifp);
	EXPECT_NOTHING();
	sl_tcp_cork(r->c, false);
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 1);
	CU_ASSERT_EQUAL(lens[0], 100);
	/* A corked connection closed before the end of the iteration is skipped safely. */
	sl_tcp_cork(r->c, true);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(3300, 10, 2000)), 0);
	r->live = false;
	sl_tcp_abort(r->c);
	flush_and_reap();
	drain();
}

static void
test_cork_hold_keeps_a_head_back_until_its_body_or_a_deadline(void)
{
	struct peer p;
	struct rec *r;
	uint32_t lens[8];
	uint8_t flags[8];

	/* Held: the head stays back past the iteration's end; the body joins it. */
	peer_init(&p, 40750, PO_ALL);
	r = passive_open(&p);
	sl_tcp_cork_hold(r->c, 1000);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(0, 200, 2000)), 0);
	flush_and_reap();
	EXPECT_NOTHING();
	flush_and_reap(); /* a second iteration within the hold: still nothing */
	EXPECT_NOTHING();
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(200, 6, 2000)), 0);
	sl_netif_flush(&ifp);
	EXPECT_NOTHING();
	sl_tcp_cork(r->c, false); /* the body came: both at once, one segment */
	sl_netif_flush(&ifp);
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 1);
	CU_ASSERT_EQUAL(lens[0], 206);
	CU_ASSERT(flags[0] & TH_PSH);
	flush_and_reap(); /* still on the flush list, with nothing to send */
	EXPECT_NOTHING();

	/* No body within the hold: the head goes alone at the first iteration past it. */
	peer_init(&p, 40751, PO_ALL);
	r = passive_open(&p);
	sl_tcp_cork_hold(r->c, 1500);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(0, 100, 2000)), 0);
	advance_ms(1);
	EXPECT_NOTHING();
	advance_ms(1);
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 1);
	CU_ASSERT_EQUAL(lens[0], 100);
	/* Not held again: the cork that stays on waits for the iteration's end only. */
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(100, 50, 2000)), 0);
	sl_netif_flush(&ifp);
	EXPECT_NOTHING();
	flush_and_reap();
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 1);
	CU_ASSERT_EQUAL(lens[0], 50);

	/* A FIN is never held: a shutdown sends what waits at the iteration's end. */
	peer_init(&p, 40752, PO_ALL);
	r = passive_open(&p);
	sl_tcp_cork_hold(r->c, 1000);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(0, 80, 2000)), 0);
	sl_tcp_shutdown(r->c);
	flush_and_reap();
	CU_ASSERT_EQUAL(collect(&p, lens, flags, 8), 1);
	CU_ASSERT_EQUAL(lens[0], 80);
	CU_ASSERT(flags[0] & TH_FIN);

	/* A held connection that dies is taken off the list safely. */
	peer_init(&p, 40753, PO_ALL);
	r = passive_open(&p);
	sl_tcp_cork_hold(r->c, 1000);
	CU_ASSERT_EQUAL(sl_tcp_send(r->c, make_data(0, 10, 2000)), 0);
	flush_and_reap();
	r->live = false;
	sl_tcp_abort(r->c);
	flush_and_reap();
	flush_and_reap();
	drain();
}

static void
test_info_reports_rtt_in_microseconds_and_counters(void)
{
	struct peer p;
	struct oseg o;
	struct rec *r;
	struct sl_tcp_info info;

	/* 250 µs round trips: below the timestamps' 1 ms tick, which made them 0 or 1 ms. */
	peer_init(&p, 40750, PO_ALL);
	peer_syn(&p);
	expect_seg(&p, &o);
	CU_ASSERT_FATAL(o.flags == (TH_SYN | TH_ACK));
	peer_got_syn_ack(&p, &o);
	now_us += 250;
	sl_tcp_poll(tw, now_us);
	peer_ack(&p);
	CU_ASSERT_FATAL(n_recs == 1);
	r = &recs[0];
	p.r = r;
	p.c = r->c;
	sl_tcp_info(r->c, &info);
	CU_ASSERT_EQUAL(info.srtt_us, 250);
	CU_ASSERT_EQUAL(info.rttvar_us, 125);
	CU_ASSERT_EQUAL(send_data(r->c, 0, 1000), 0);
	EXPECT_DATA(&p, &o, 0, 1000);
	now_us += 250;
	sl_tcp_poll(tw, now_us);
	peer_ack_out(&p, 1000);
	sl_tcp_info(r->c, &info);
	CU_ASSERT_EQUAL(info.srtt_us, 250);
	CU_ASSERT_EQUAL(info.rttvar_us, 93); /* 3/4 of 125 */
	CU_ASSERT_STRING_EQUAL(info.state, "ESTABLISHED");
	CU_ASSERT_EQUAL(info.mss, MSS_TS);
	CU_ASSERT_EQUAL(info.bytes_acked, 1000);
	CU_ASSERT_EQUAL(info.retransmits, 0);
	CU_ASSERT(info.cwnd >= 10u * MSS_TS);
	/* Received bytes, and a retransmission. */
	peer_data(&p, 0, 700);
	CU_ASSERT_EQUAL(send_data(r->c, 1000, 500), 0);
	drain();
	CU_ASSERT(wait_frame(2000) > 0);
	drain();
	sl_tcp_info(r->c, &info);
	CU_ASSERT_EQUAL(info.bytes_received, 700);
	CU_ASSERT_EQUAL(info.retransmits, 1);
	CU_ASSERT_EQUAL(info.unacked, 500);
	CU_ASSERT_EQUAL(info.bytes_acked, 1000);
	sl_tcp_abort(r->c);
	r->live = false;
	drain();
}

static const struct sl_test_def proxy_api_tests[] = {
    T(test_chain_split_at_every_offset_shares_the_data),
    T(test_vip_is_answered_by_arp_and_accepted_by_ipv4),
    T(test_listen_on_address_and_port_picks_the_exact_address_first),
    T(test_a_thousand_listeners_are_found_per_segment),
    T(test_connect_from_a_chosen_address),
    T(test_connect_timeout_fails_the_open_in_time),
    T(test_user_timeout_aborts_when_sent_data_stays_unacknowledged),
    T(test_user_timeout_leaves_a_simultaneous_open_to_its_syn_timer),
    T(test_timers_for_the_layers_above_run_on_the_worker_wheel),
    T(test_close_with_unread_data_resets_and_loses_the_response),
    T(test_linger_close_drains_the_response_then_fin_and_discards_input),
    T(test_linger_close_resets_at_its_timeout),
    T(test_cork_sends_a_head_and_its_body_as_full_segments),
    T(test_cork_hold_keeps_a_head_back_until_its_body_or_a_deadline),
    T(test_info_reports_rtt_in_microseconds_and_counters),
};

int
main(void)
{
	static const struct sl_test_suite suites[] = {
	    {"handshake", handshake_tests, RTE_DIM(handshake_tests)},
	    {"receive", receive_tests, RTE_DIM(receive_tests)},
	    {"send", send_tests, RTE_DIM(send_tests)},
	    {"recovery", recovery_tests, RTE_DIM(recovery_tests)},
	    {"tlp", tlp_tests, RTE_DIM(tlp_tests)},
	    {"close", close_tests, RTE_DIM(close_tests)},
	    {"robustness", robustness_tests, RTE_DIM(robustness_tests)},
	    {"syncookie", syncookie_tests, RTE_DIM(syncookie_tests)},
	    {"limits", limit_tests, RTE_DIM(limit_tests)},
	    {"callbacks", callback_tests, RTE_DIM(callback_tests)},
	    {"more", more_tests, RTE_DIM(more_tests)},
	    {"review", review_tests, RTE_DIM(review_tests)},
	    {"tx_path", tx_path_tests, RTE_DIM(tx_path_tests)},
	    {"rcvmem", rcvmem_tests, RTE_DIM(rcvmem_tests)},
	    {"proxy_api", proxy_api_tests, RTE_DIM(proxy_api_tests)},
	};

	pool = sl_test_eal_start("test_tcp", "256", POOL_SIZE);
	if (pool == NULL)
		return 1;
	if (sl_tcp_global_init() != 0) {
		fprintf(stderr, "test_tcp: sl_tcp_global_init failed\n");
		sl_test_eal_stop(pool);
		return 1;
	}
	return sl_test_run("test_tcp", suites, RTE_DIM(suites), setup, teardown, pool);
}
