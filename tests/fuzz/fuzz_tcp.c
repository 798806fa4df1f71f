/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TCP stack: arbitrary segments, ICMP errors, timer runs and user calls
 * against one live worker, in the order a worker loop would see them.
 *
 * EAL runs once (no PCI, no hugepages, one lcore). One worker with one netif: us 198.18.0.2/24,
 * the peer 198.18.0.1 already in the ARP table so that nothing waits for ARP, and for a device a
 * function that checks every frame the stack sends and frees it. Time is a virtual clock. The
 * user: an echo-like service on port 7, a slow reader on port 80 (it holds what it is given until
 * told to consume it), nothing on port 81, and active opens to the peer's ports 9000 and 9001.
 *
 * The input is two set-up bytes and then records (see run_input below); what a record means is
 * relative to the live state where that helps the fuzzer go deep: "seq = rcv_nxt + 3",
 * "ack = what we sent last", "SACK the second segment in flight", "timestamps that pass PAWS".
 *
 * After each input the user closes whatever it holds and the clock runs (without the peer)
 * until no timer is left; then nothing may be left over: no connection, every mbuf back in the
 * pool, the connection pool full, no connection counted. Checked after every record: what the
 * stack sent is well formed and fits the MTU; its payload is our stream at its sequence number;
 * what it delivered is the peer's stream, in order, with no byte missing or repeated; no callback
 * reaches a handle the user released; each connection's send queue, reassembly queue, SACK
 * scoreboard, sequence variables and timers agree with one another; the gauges count what the
 * table holds. A violation prints what was wrong and aborts, which libFuzzer reports as a crash.
 *
 * Run: <builddir>/tests/fuzz/fuzz_tcp -max_total_time=60 <scratch dir> tests/fuzz/corpus/tcp
 * and, to read what a crashing input does, FUZZ_TCP_TRACE=1 <builddir>/tests/fuzz/fuzz_tcp <file>.
 * The seeds are written by tests/fuzz/tcp_corpus.py (regress_* ones failed before a fix that
 * names them in dataplane/net/tcp/); a change of the record format must update both.
 */
#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "dataplane/net/netif.h"
#include "dataplane/net/tcp/tcp.h"
#include "dataplane/net/tcp/tcp_conn.h"
#include "dataplane/net/tcp/tcp_worker.h"
#include "dataplane/worker.h"
#include "tests/dataplane/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_SIZE 2047 /* small enough for the stack to run out */
#define MAX_CONNS 16   /* fewer than the tuples: the limit is reached too */
#define APPS_MAX 256
#define ETH_LEN 14u
#define MIN_FRAME 60
#define FRAME_BUF 2048	      /* one mbuf's room: 2048 + 128 headroom */
#define OUT_FRAME_MAX 4096    /* what we read of a frame we sent (more is a failure anyway) */
#define T0_MS 1000000ull      /* virtual clock at the start of every input */
#define TS_OFFSET 0x12345000u /* our TSval clock starts here */
#define PEER_TS_BASE 0x01000000u
#define IDLE_HORIZON_MS (2 * 3600 * 1000ull) /* no timer sequence of the stack lasts longer */
#define IDLE_STEPS_MAX 20000		     /* nor takes more timer runs */

#define IP4(a, b, c, d)                                                                            \
	RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_IP IP4(198, 18, 0, 2)
#define PEER_IP IP4(198, 18, 0, 1)
#define ROUTER_IP IP4(198, 18, 0, 254)

#define ECHO_PORT 7
#define SINK_PORT 80
#define CLOSED_PORT 81

static const struct rte_ether_addr our_mac = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};

static struct rte_mempool *pool;
static unsigned int pool_avail_at_start;
static struct sl_worker worker;
static struct sl_netif ifp;
static struct sl_tcp_worker *tw;
static struct sl_config_tcp cfg;
static uint64_t now_us;
static char runtime_dir[PATH_MAX];
static bool trace; /* FUZZ_TCP_TRACE=1: tell what happens, for reading a crash */

#define TRACE(...)                                                                                 \
	do {                                                                                       \
		if (trace)                                                                         \
			fprintf(stderr, __VA_ARGS__);                                              \
	} while (0)

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_tcp: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/* ---- the 4-tuples the peer can use ---- */

enum tuple_kind {
	TK_ECHO,   /* peer -> our port 7 */
	TK_SINK,   /* peer -> our port 80 */
	TK_ACTIVE, /* our active open to the peer; lport from sl_tcp_connect */
	TK_CLOSED, /* peer -> our port 81, where nobody listens */
	TK_STRAY,  /* peer -> the local port of active open 0, from another port */
};

struct tuple {
	uint8_t kind;
	uint16_t rport, lport; /* host order */
	uint32_t peer_iss;
	uint32_t peer_nxt;  /* the peer's next sequence number, as the peer sees it */
	uint32_t our_nxt;   /* highest sequence number we sent + 1 */
	uint32_t our_iss;   /* our ISN of the connection the user holds or held last */
	uint32_t our_tsval; /* our last TSval, for the peer's echo */
	bool iss_known, nxt_known;
	uint8_t cmd;	 /* what the user does with the next data it is given */
	struct app *app; /* the user's record of the connection, NULL if none */
};

static const struct {
	uint8_t kind;
	uint16_t rport, lport;
} tuple_def[] = {
    {TK_ECHO, 40000, ECHO_PORT}, {TK_ECHO, 40001, ECHO_PORT}, {TK_ECHO, 40002, ECHO_PORT},
    {TK_ECHO, 40003, ECHO_PORT}, {TK_SINK, 40004, SINK_PORT}, {TK_SINK, 40005, SINK_PORT},
    {TK_ACTIVE, 9000, 0},	 {TK_ACTIVE, 9001, 0},	      {TK_CLOSED, 40008, CLOSED_PORT},
    {TK_STRAY, 40009, 0},	 {TK_ECHO, 40010, ECHO_PORT}, {TK_ECHO, 40011, ECHO_PORT},
    {TK_ECHO, 40012, ECHO_PORT}, {TK_ECHO, 40013, ECHO_PORT}, {TK_ECHO, 40014, ECHO_PORT},
    {TK_ECHO, 40015, ECHO_PORT}, {TK_ECHO, 40016, ECHO_PORT}, {TK_ECHO, 40017, ECHO_PORT},
    {TK_ECHO, 40018, ECHO_PORT}, {TK_ECHO, 40019, ECHO_PORT}, {TK_ECHO, 40020, ECHO_PORT},
    {TK_ECHO, 40021, ECHO_PORT}, {TK_ECHO, 40022, ECHO_PORT}, {TK_ECHO, 40023, ECHO_PORT},
};
#define N_TUPLES RTE_DIM(tuple_def)
#define ACTIVE0 6 /* sl_tcp_connect at the start of every input */
#define STRAY 9	  /* aims at ACTIVE0's local port */

static struct tuple tuples[N_TUPLES];

static struct tuple *
tuple_find(uint16_t rport, uint16_t lport)
{
	for (unsigned int i = 0; i < N_TUPLES; i++)
		if (tuples[i].rport == rport && tuples[i].lport == lport)
			return &tuples[i];
	return NULL;
}

static struct sl_tcp_conn *
tuple_conn(const struct tuple *t)
{
	struct sl_tcp_key k = {
	    .raddr = PEER_IP,
	    .laddr = OUR_IP,
	    .rport = rte_cpu_to_be_16(t->rport),
	    .lport = rte_cpu_to_be_16(t->lport),
	};

	return sl_tcp_conn_lookup(tw, &k);
}

/* The two byte streams: the peer's by sequence number, ours by offset from our ISN + 1. */
static inline uint8_t
pat_in(uint32_t seq)
{
	return (uint8_t)((seq * 0x9e3779b1u) >> 24);
}

static inline uint8_t
pat_out(uint32_t off)
{
	return (uint8_t)(((off * 0x85ebca6bu) >> 24) ^ 0x5a);
}

static uint32_t
peer_tsval(void)
{
	return PEER_TS_BASE + (uint32_t)(now_us / 1000);
}

/* ---- checksums and byte order ---- */

/* ---- mbufs ---- */

static void
mbuf_ok(const struct rte_mbuf *m, bool is_header, const char *what)
{
	const char *reason = NULL;

	if (rte_mbuf_check(m, is_header, &reason) != 0)
		fail("%s: broken mbuf: %s", what, reason);
}

/*
 * Frame f (len bytes) as the NIC would hand it over: one mbuf, or a chain cut at cut1 (and
 * cut2 if not 0). NULL when the pool is empty: the record is skipped.
 */
static struct rte_mbuf *
frame_mbuf(const uint8_t *f, uint32_t len, uint32_t cut1, uint32_t cut2)
{
	uint32_t cuts[3] = {len, 0, 0}, from = 0;
	unsigned int n = 1;
	struct rte_mbuf *head = NULL;

	if (cut1 > 0 && cut1 < len) {
		cuts[0] = cut1;
		cuts[n++] = len;
		if (cut2 > cut1 && cut2 < len) {
			cuts[1] = cut2;
			cuts[n++] = len;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p;

		if (m == NULL)
			goto nomem;
		p = rte_pktmbuf_append(m, (uint16_t)(cuts[i] - from));
		if (p == NULL) {
			rte_pktmbuf_free(m);
			goto nomem;
		}
		memcpy(p, f + from, cuts[i] - from);
		from = cuts[i];
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			goto nomem;
		}
	}
	return head;

nomem:
	rte_pktmbuf_free(head);
	return NULL;
}

/* ---- the device: every frame the stack sends is checked, then freed ---- */

static void
parse_out_options(const uint8_t *p, unsigned int len, struct tuple *t, const char *what)
{
	for (unsigned int i = 0; i < len;) {
		uint8_t kind = p[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
			fail("%s: malformed option %u at %u of %u", what, kind, i, len);
		switch (kind) {
		case 2:
		case 3:
		case 4:
			break;
		case 5:
			if (p[i + 1] < 10 || (p[i + 1] - 2) % 8 != 0)
				fail("%s: SACK option of length %u", what, p[i + 1]);
			break;
		case 8:
			if (p[i + 1] != 10)
				fail("%s: timestamp option of length %u", what, p[i + 1]);
			if (t != NULL)
				t->our_tsval = get32(p + i + 2);
			break;
		default:
			fail("%s: unknown option %u sent", what, kind);
		}
		i += p[i + 1];
	}
}

static void
check_out_frame(const struct rte_mbuf *m)
{
	static uint8_t f[OUT_FRAME_MAX];
	uint32_t len = rte_pktmbuf_pkt_len(m), src = OUR_IP, dst = PEER_IP;
	const uint8_t *ip = f + ETH_LEN, *th, *d;
	unsigned int tot, doff, plen;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	struct tuple *t;

	mbuf_ok(m, true, "frame sent");
	if (len > ETH_LEN + ifp.mtu) {
		const struct sl_tcp_conn *c = NULL;

		d = rte_pktmbuf_read(m, 0, ETH_LEN + 40, f);
		t = d != NULL ? tuple_find(get16(d + ETH_LEN + 22), get16(d + ETH_LEN + 20)) : NULL;
		if (t != NULL && t->lport != 0)
			c = tuple_conn(t);
		fail(
		    "frame sent: %u bytes, more than the MTU (%u) allows (%s, mss %u, peer_mss %u, "
		    "flags %#x)",
		    len, ifp.mtu, c != NULL ? sl_tcp_state_name(c->state) : "no connection",
		    c != NULL ? c->mss : 0, c != NULL ? c->peer_mss : 0, c != NULL ? c->flags : 0);
	}
	if (len < ETH_LEN + 40)
		fail("frame sent: runt of %u bytes", len);
	d = rte_pktmbuf_read(m, 0, len, f);
	if (d == NULL)
		fail("frame sent: chain shorter than pkt_len");
	if (d != f)
		memcpy(f, d, len);
	/* The NIC fills in what it was asked to: the TCP sum starts from the pseudo-header's. */
	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		if (!ifp.tx_ip_cksum || m->l2_len != ETH_LEN || m->l3_len != 20)
			fail("frame sent: IPv4 checksum offload not set up right");
		put16(f + ETH_LEN + 10, (uint16_t)~sum_fold(sum_add(0, ip, 20)));
	}
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) {
		if (!ifp.tx_tcp_cksum || !(m->ol_flags & RTE_MBUF_F_TX_IPV4))
			fail("frame sent: TCP checksum offload not set up right");
		put16(f + ETH_LEN + 36,
		      (uint16_t)~sum_fold(sum_add(0, ip + 20, len - ETH_LEN - 20)));
	}
	if (memcmp(f, &peer_mac, 6) != 0 || memcmp(f + 6, &our_mac, 6) != 0)
		fail("frame sent: wrong MAC addresses");
	if (get16(f + 12) != RTE_ETHER_TYPE_IPV4 || ip[9] != IPPROTO_TCP || ip[0] != 0x45)
		fail("frame sent: not IPv4/TCP without options (type %#x proto %u vhl %#x)",
		     get16(f + 12), ip[9], ip[0]);
	tot = get16(ip + 2);
	if (tot != len - ETH_LEN)
		fail("frame sent: IP total length %u in a frame of %u", tot, len);
	if (memcmp(ip + 12, &src, 4) != 0 || memcmp(ip + 16, &dst, 4) != 0)
		fail("frame sent: wrong IP addresses");
	if (sum_fold(sum_add(0, ip, 20)) != 0xffff)
		fail("frame sent: bad IP checksum");
	th = ip + 20;
	if (sum_fold(sum_add(sum_add(0, ip + 12, 8) + IPPROTO_TCP + (tot - 20), th, tot - 20)) !=
	    0xffff)
		fail("frame sent: bad TCP checksum");
	doff = (th[12] >> 4) * 4u;
	if (doff < 20 || doff > tot - 20)
		fail("frame sent: data offset %u in a segment of %u", doff, tot - 20);
	sport = get16(th);
	dport = get16(th + 2);
	seq = get32(th + 4);
	flags = th[13];
	plen = tot - 20 - doff;
	if ((flags & (SL_TH_SYN | SL_TH_FIN | SL_TH_RST | SL_TH_ACK)) == 0 ||
	    (flags & (SL_TH_SYN | SL_TH_FIN)) == (SL_TH_SYN | SL_TH_FIN) ||
	    (flags & (SL_TH_SYN | SL_TH_RST)) == (SL_TH_SYN | SL_TH_RST))
		fail("frame sent: flags %#x", flags);
	if ((flags & (SL_TH_SYN | SL_TH_RST)) && plen > 0)
		fail("frame sent: %u bytes of data on a SYN or RST (flags %#x)", plen, flags);
	t = tuple_find(dport, sport);
	TRACE("  <- %u>%u %s%s%s%s%s seq %u ack %u win %u len %u\n", sport, dport,
	      (flags & SL_TH_SYN) ? "S" : "", (flags & SL_TH_FIN) ? "F" : "",
	      (flags & SL_TH_RST) ? "R" : "", (flags & SL_TH_PSH) ? "P" : "",
	      (flags & SL_TH_ACK) ? "." : "", seq, get32(th + 8), get16(th + 14), plen);
	parse_out_options(th + 20, doff - 20, t, "frame sent");
	if (t == NULL)
		return; /* a connection whose tuple was reused by a later active open */
	if (flags & SL_TH_SYN) {
		t->our_nxt = seq + 1;
		t->nxt_known = true;
		return;
	}
	if (flags & SL_TH_RST)
		return;
	/* The payload is our stream at its sequence number: retransmissions included. */
	if (plen > 0 && t->iss_known) {
		uint32_t off = seq - (t->our_iss + 1);

		for (unsigned int i = 0; i < plen; i++)
			if (th[doff + i] != pat_out(off + i))
				fail("frame sent: byte %u of a segment at stream offset %u is %#x, "
				     "expected %#x",
				     i, off, th[doff + i], pat_out(off + i));
	}
	uint32_t end = seq + plen + ((flags & SL_TH_FIN) ? 1 : 0);
	if (!t->nxt_known || sl_seq_gt(end, t->our_nxt))
		t->our_nxt = end;
	t->nxt_known = true;
}

static uint16_t
tx_check_free(struct sl_netif *i, struct rte_mbuf **pkts, uint16_t n)
{
	(void)i;
	for (uint16_t k = 0; k < n; k++) {
		check_out_frame(pkts[k]);
		rte_pktmbuf_free(pkts[k]);
	}
	return n;
}

/* ---- invariants ---- */

static bool
state_sends_data(uint8_t s)
{
	switch (s) {
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
	case SL_TCP_FIN_WAIT_1:
	case SL_TCP_CLOSING:
	case SL_TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

static void
check_conn(struct sl_tcp_conn *c, const struct sl_tcp_key *key)
{
	const char *st = sl_tcp_state_name(c->state);
	uint64_t qbytes = 0;
	const struct rte_mbuf *last = NULL;
	uint32_t n = 0, bytes = 0, prev_end = 0;
	bool cur_found = false;

	if (memcmp(key, &c->key, sizeof(*key)) != 0 || c->tw != tw)
		fail("table entry does not match its connection");
	if (c->flags & SL_TF_DEAD)
		fail("a dead connection (%s) is still in the table", st);
	if (c->state <= SL_TCP_LISTEN || c->state >= SL_TCP_NSTATES)
		fail("connection in state %u", c->state);
	if (!sl_seq_leq(c->snd_una, c->snd_nxt) || !sl_seq_leq(c->snd_nxt, c->snd_max))
		fail("%s: snd_una %u snd_nxt %u snd_max %u out of order", st, c->snd_una,
		     c->snd_nxt, c->snd_max);

	/*
	 * The send queue holds sq_bytes from snd_una on, after sq_off acknowledged bytes; the
	 * cursor is one of its mbufs, with the sequence number of that mbuf's first byte.
	 */
	for (const struct rte_mbuf *m = c->sq_head; m != NULL; m = m->next) {
		mbuf_ok(m, false, "send queue");
		if (m == c->sq_cur) {
			if (c->sq_cur_seq != c->snd_una - c->sq_off + (uint32_t)qbytes)
				fail("%s: the send-queue cursor says %u, its mbuf starts at %u", st,
				     c->sq_cur_seq, c->snd_una - c->sq_off + (uint32_t)qbytes);
			cur_found = true;
		}
		qbytes += m->data_len;
		last = m;
	}
	if (last != c->sq_tail)
		fail("%s: sq_tail is not the last mbuf of the send queue", st);
	if (c->sq_cur != NULL && !cur_found)
		fail("%s: the send-queue cursor is not in the send queue", st);
	if (qbytes < c->sq_off || qbytes - c->sq_off != c->sq_bytes)
		fail("%s: send queue holds %lu bytes from offset %u, sq_bytes says %u", st,
		     (unsigned long)qbytes, c->sq_off, c->sq_bytes);
	if (c->state != SL_TCP_SYN_SENT && c->state != SL_TCP_SYN_RECEIVED &&
	    c->state != SL_TCP_TIME_WAIT) {
		uint32_t end = c->snd_una + c->sq_bytes + ((c->flags & SL_TF_FIN_SENT) ? 1 : 0);

		if (sl_seq_gt(c->snd_max, end))
			fail("%s: snd_max %u beyond the queued data and FIN (%u)", st, c->snd_max,
			     end);
	}

	/* Reassembly queue: sorted, disjoint, beyond rcv_nxt while data is still accepted. */
	for (struct rte_mbuf *m = c->ooo; m != NULL; m = sl_tcp_ooo(m)->next) {
		uint32_t seq = sl_tcp_ooo(m)->seq;

		mbuf_ok(m, true, "reassembly queue");
		if (m->pkt_len == 0)
			fail("%s: empty segment in the reassembly queue", st);
		if (n > 0 && sl_seq_lt(seq, prev_end))
			fail("%s: reassembly queue overlaps or is out of order", st);
		if ((c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_FIN_WAIT_1 ||
		     c->state == SL_TCP_FIN_WAIT_2) &&
		    !sl_seq_gt(seq, c->rcv_nxt))
			fail("%s: queued out-of-order segment at %u, rcv_nxt is %u", st, seq,
			     c->rcv_nxt);
		prev_end = seq + m->pkt_len;
		bytes += m->pkt_len;
		if (++n > SL_TCP_OOO_MAX_SEGS + 1)
			fail("%s: reassembly queue longer than its limit (or a loop)", st);
	}
	if (n != c->ooo_count || bytes != c->ooo_bytes)
		fail("%s: reassembly queue has %u segments, %u bytes; counted %u, %u", st, n, bytes,
		     c->ooo_count, c->ooo_bytes);

	/* SACK scoreboard: ascending, disjoint, never adjacent, bytes the sum. */
	if (c->sb.n > SL_SACK_MAX_RANGES)
		fail("%s: %u SACK ranges", st, c->sb.n);
	bytes = 0;
	for (uint32_t i = 0; i < c->sb.n; i++) {
		const struct sl_sack_range *r = &c->sb.r[i];

		if (!sl_seq_lt(r->start, r->end) ||
		    (i > 0 && !sl_seq_lt(c->sb.r[i - 1].end, r->start)))
			fail("%s: SACK scoreboard ranges out of order", st);
		bytes += r->end - r->start;
	}
	if (bytes != c->sb.bytes)
		fail("%s: SACK scoreboard counts %u bytes, ranges hold %u", st, c->sb.bytes, bytes);

	/* Timers: the mode says what the retransmission timer stands for, and something runs. */
	if ((c->rtx_mode != SL_TCP_RTX_NONE) != sl_timer_armed(&c->rtx_timer))
		fail("%s: rtx_mode %u but the timer is %sarmed", st, c->rtx_mode,
		     sl_timer_armed(&c->rtx_timer) ? "" : "not ");
	if ((c->state == SL_TCP_SYN_SENT || c->state == SL_TCP_SYN_RECEIVED) &&
	    !sl_timer_armed(&c->rtx_timer))
		fail("%s: no retransmission timer during the handshake", st);
	if (c->rtx_mode == SL_TCP_RTX_PERSIST && c->snd_una != c->snd_max)
		fail("%s: the persist timer stands in for the RTO of %u bytes in flight", st,
		     c->snd_max - c->snd_una);
	/* A loss probe stands before the RTO of data in flight, once per episode. */
	if (c->rtx_mode == SL_TCP_RTX_TLP &&
	    (c->snd_una == c->snd_max || c->tlp_state != SL_TCP_TLP_NONE ||
	     !(c->flags & SL_TF_SACK_OK) || (c->flags & SL_TF_RECOVERY) ||
	     c->rtx_timer.expire >= c->rto_at_ms))
		fail("%s: a loss probe armed where none may be (in flight %u, episode %u)", st,
		     c->snd_max - c->snd_una, c->tlp_state);
	if (state_sends_data(c->state) && c->snd_una != c->snd_max &&
	    !sl_timer_armed(&c->rtx_timer))
		fail("%s: %u bytes in flight and no retransmission timer", st,
		     c->snd_max - c->snd_una);
	if (c->state == SL_TCP_TIME_WAIT && !sl_timer_armed(&c->keep_timer))
		fail("TIME-WAIT without its timer");
	if (c->state == SL_TCP_FIN_WAIT_2 && (c->flags & SL_TF_USER_GONE) &&
	    !sl_timer_armed(&c->keep_timer))
		fail("FIN-WAIT-2 without a user and without the FIN-WAIT-2 timer");
}

static void
check_all(void)
{
	const void *key;
	void *data;
	uint32_t next = 0, n = 0, established = 0;
	uint32_t queued[SL_TCP_LISTENERS_MAX] = {0};
	uint64_t rcv_mem = 0;

	while (rte_hash_iterate(tw->table, &key, &data, &next) >= 0) {
		struct sl_tcp_conn *c = data;
		uint32_t ooo_mem = 0;

		check_conn(c, key);
		n++;
		/* Receive memory (tcp_rcvmem.c): what the queue holds, and the worker's sum. */
		for (struct rte_mbuf *m = c->ooo; m != NULL; m = sl_tcp_ooo(m)->next)
			ooo_mem += sl_tcp_ooo(m)->truesize;
		if (ooo_mem != c->ooo_mem)
			fail("reassembly queue holds %u bytes of mbufs, ooo_mem says %u", ooo_mem,
			     c->ooo_mem);
		if ((c->rcv_held == 0) != (c->rcv_held_mem == 0))
			fail("rcv_held %u but rcv_held_mem %u", c->rcv_held, c->rcv_held_mem);
		rcv_mem += (uint64_t)c->rcv_held_mem + c->ooo_mem;
		if (c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_CLOSE_WAIT)
			established++;
		if (c->flags & SL_TF_IN_LISTEN_Q) {
			if (c->state != SL_TCP_SYN_RECEIVED || c->listener == NULL)
				fail("%s: counted in a SYN backlog", sl_tcp_state_name(c->state));
			queued[c->listener - tw->listeners]++;
		}
	}
	if (n != tw->stats.conns)
		fail("%u connections in the table, the gauge says %lu", n,
		     (unsigned long)tw->stats.conns);
	if (rcv_mem != tw->stats.rcv_mem)
		fail("connections hold %lu bytes of receive memory, the gauge says %lu",
		     (unsigned long)rcv_mem, (unsigned long)tw->stats.rcv_mem);
	if (established != tw->stats.conns_established)
		fail("%u connections established, the gauge says %lu", established,
		     (unsigned long)tw->stats.conns_established);
	for (unsigned int i = 0; i < SL_TCP_LISTENERS_MAX; i++)
		if (queued[i] != tw->listeners[i].syn_queued)
			fail("listener %u: %u connections in SYN-RECEIVED, syn_queued says %u", i,
			     queued[i], tw->listeners[i].syn_queued);
}

/* The end of a poll iteration: release the dead, which must hold nothing any more. */
static void
flush_and_reap(void)
{
	sl_tcp_flush(tw); /* corked output, as the worker loop does before the ports */
	sl_netif_flush(&ifp);
	for (const struct sl_tcp_conn *c = tw->dead; c != NULL; c = c->next_dead) {
		if (!(c->flags & SL_TF_DEAD))
			fail("a connection on the dead list is not marked dead");
		if (sl_timer_armed(&c->rtx_timer) || sl_timer_armed(&c->delack_timer) ||
		    sl_timer_armed(&c->keep_timer))
			fail("a dead connection still has a timer armed");
		if (c->sq_head != NULL || c->ooo != NULL)
			fail("a dead connection still holds data");
	}
	sl_tcp_reap(tw);
}

/* ---- the user ---- */

/* What the user does with data it is given, from the record's command byte (low 4 bits). */
enum cmd {
	CMD_ECHO = 0,	     /* 0-5: consume and send back as much of our stream */
	CMD_CONSUME = 6,     /* consume */
	CMD_HOLD = 7,	     /* hold (the receive window shrinks) */
	CMD_SHUTDOWN = 8,    /* consume, half-close */
	CMD_CLOSE = 9,	     /* consume, close */
	CMD_HOLD_CLOSE = 10, /* close with unread data: becomes a reset */
	CMD_ABORT = 11,
	CMD_SEND_BIG = 12, /* consume, send more than the send buffer takes */
	CMD_CONSUME_ALL = 13,
	CMD_CONSUME_HALF = 14,
	CMD_ECHO_CLOSE = 15,
};

/* Set-up byte 1: what the user does on events (the other byte is the configuration). */
#define AP_PEER_CLOSED 0x03 /* 0 close, 1 shutdown, 2 nothing, 3 abort */
#define AP_ERROR_SHIFT 2    /* 0 nothing, 1 close, 2 abort, 3 nothing (inside the callback) */
#define AP_REJECT_SINK 0x10 /* port 80 refuses connections (accepted returns -1) */
#define AP_WRITABLE_FILL 0x20
#define AP_GREETING 0x40    /* port 7 sends first, from the accepted callback */
#define AP_SINK_CLOSES 0x80 /* port 80 closes at once, from the accepted callback */

struct app {
	struct sl_tcp_conn *c;
	bool live; /* the handle is the user's */
	bool open; /* accepted or connected */
	bool sink; /* holds data until told to consume */
	uint8_t tuple;
	uint32_t rcv_seq; /* the peer's sequence number of the next byte we should be given */
	uint32_t held;	  /* given, not yet passed to sl_tcp_consumed */
	uint32_t out_off; /* bytes of our stream passed to sl_tcp_send */
};

static struct app apps[APPS_MAX];
static unsigned int n_apps;
static uint8_t app_policy;
static const char listener_echo, listener_sink; /* listener arguments */

static struct app *
app_new(struct sl_tcp_conn *c, struct tuple *t)
{
	struct app *a;

	if (n_apps == APPS_MAX)
		return NULL;
	a = &apps[n_apps++];
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->live = true;
	a->sink = t->kind == TK_SINK;
	a->tuple = (uint8_t)(t - tuples);
	t->app = a;
	sl_tcp_set_user(c, a);
	return a;
}

static struct app *
app_of(struct sl_tcp_conn *c, const char *cb)
{
	struct app *a = sl_tcp_user(c);
	uintptr_t p = (uintptr_t)a;

	if (p < (uintptr_t)apps || p >= (uintptr_t)(apps + n_apps) || !a->live || a->c != c)
		fail("`%s` called on a handle the user does not hold", cb);
	return a;
}

/* The handle is gone (the user let go, or the stack said so). */
static void
app_release(struct app *a)
{
	a->live = false;
	if (tuples[a->tuple].app == a)
		tuples[a->tuple].app = NULL;
}

static void
app_consume(struct app *a, uint32_t n)
{
	if (n > a->held)
		n = a->held;
	a->held -= n;
	sl_tcp_consumed(a->c, n);
}

static void
app_close(struct app *a)
{
	app_release(a);
	sl_tcp_close(a->c);
}

static void
app_abort(struct app *a)
{
	app_release(a);
	sl_tcp_abort(a->c);
}

/* Overwrite chain m with our stream from a->out_off and send it; frees it if refused. */
static int
app_send_chain(struct app *a, struct rte_mbuf *m)
{
	uint32_t off = a->out_off, len = rte_pktmbuf_pkt_len(m);
	int rc;

	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		uint8_t *p = rte_pktmbuf_mtod(s, uint8_t *);

		for (uint32_t i = 0; i < s->data_len; i++)
			p[i] = pat_out(off++);
	}
	rc = sl_tcp_send(a->c, m);
	if (rc == 0)
		a->out_off += len;
	else
		rte_pktmbuf_free(m);
	return rc;
}

/* len bytes of our stream in at most 256 mbufs of `piece` bytes; an empty mbuf when len is 0. */
static int
app_send(struct app *a, uint32_t len, uint32_t piece)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	piece = RTE_MAX(piece, (len + 255) / 256);
	if (piece == 0 || piece > 2000)
		piece = 2000;
	do {
		uint32_t n = RTE_MIN(len, piece);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

		if (m == NULL || rte_pktmbuf_append(m, (uint16_t)n) == NULL) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return -ENOBUFS; /* the pool is empty: a fact of life, not a failure */
		}
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
		len -= n;
	} while (len > 0);
	return app_send_chain(a, head);
}

static void
app_opened(struct app *a, struct sl_tcp_conn *c)
{
	a->open = true;
	a->rcv_seq = c->irs + 1;
}

static int
on_accepted(struct sl_tcp_conn *c)
{
	const void *arg = sl_tcp_user(c);
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	struct tuple *t;
	struct app *a;

	if (arg != &listener_echo && arg != &listener_sink)
		fail("accepted: the user pointer is not the listener's argument");
	sl_tcp_endpoints(c, &laddr, &lport, &raddr, &rport);
	t = tuple_find(rte_be_to_cpu_16(rport), rte_be_to_cpu_16(lport));
	if (t == NULL || laddr != OUR_IP || raddr != PEER_IP)
		fail("accepted a connection from nobody the peer plays");
	if ((arg == &listener_sink) != (t->kind == TK_SINK))
		fail("accepted on the wrong listener");
	TRACE("   accepted on tuple %u\n", (unsigned int)(t - tuples));
	if (t->kind == TK_SINK && (app_policy & AP_REJECT_SINK))
		return -1;
	a = app_new(c, t);
	if (a == NULL)
		return -1;
	app_opened(a, c);
	t->our_iss = c->iss;
	t->iss_known = true;
	if (t->kind == TK_ECHO && (app_policy & AP_GREETING))
		app_send(a, 100, 60);
	if (t->kind == TK_SINK && (app_policy & AP_SINK_CLOSES))
		app_close(a);
	return 0;
}

static void
on_connected(struct sl_tcp_conn *c)
{
	struct app *a = app_of(c, "connected");

	if (a->open)
		fail("connected twice");
	TRACE("   connected on tuple %u\n", a->tuple);
	app_opened(a, c);
}

static void
on_readable(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len)
{
	struct app *a = app_of(c, "readable");
	uint32_t seq = a->rcv_seq, n = 0;
	uint8_t cmd;

	if (!a->open)
		fail("readable before accepted/connected");
	mbuf_ok(data, true, "readable");
	if (len == 0 || rte_pktmbuf_pkt_len(data) != len)
		fail("readable: len %u, chain of %u", len, rte_pktmbuf_pkt_len(data));
	/* The peer's stream, in order: nothing lost, repeated or shifted. */
	for (const struct rte_mbuf *s = data; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		for (uint32_t i = 0; i < s->data_len; i++, n++)
			if (p[i] != pat_in(seq + n))
				fail("readable: byte at sequence %u is %#x, expected %#x", seq + n,
				     p[i], pat_in(seq + n));
	}
	if (seq + len != c->rcv_nxt && !(sl_tcp_peer_done(c) && seq + len + 1 == c->rcv_nxt))
		fail("readable: %u bytes from %u, but rcv_nxt is %u", len, seq, c->rcv_nxt);
	a->rcv_seq += len;
	a->held += len;
	cmd = tuples[a->tuple].cmd & 15;
	TRACE("   readable %u bytes on tuple %u, command %u\n", len, a->tuple, cmd);
	if (a->sink && cmd < CMD_SHUTDOWN)
		cmd = CMD_HOLD;
	if (cmd < CMD_CONSUME || cmd == CMD_ECHO_CLOSE) {
		app_consume(a, len);
		app_send_chain(a, data);
		if (cmd == CMD_ECHO_CLOSE)
			app_close(a);
		return;
	}
	rte_pktmbuf_free(data);
	switch (cmd) {
	case CMD_CONSUME:
		app_consume(a, len);
		break;
	case CMD_SHUTDOWN:
		app_consume(a, len);
		sl_tcp_shutdown(c);
		break;
	case CMD_CLOSE:
		app_consume(a, len);
		app_close(a);
		break;
	case CMD_HOLD_CLOSE:
		app_close(a);
		break;
	case CMD_ABORT:
		app_abort(a);
		break;
	case CMD_SEND_BIG:
		app_consume(a, len);
		app_send(a, cfg.sndbuf + 1000, 700);
		break;
	case CMD_CONSUME_ALL:
		app_consume(a, a->held);
		break;
	case CMD_CONSUME_HALF:
		app_consume(a, a->held / 2);
		break;
	default:
		break;
	}
}

static void
on_writable(struct sl_tcp_conn *c)
{
	struct app *a = app_of(c, "writable");
	uint32_t space = sl_tcp_send_space(c);

	if (space == 0)
		fail("writable without send space");
	if (app_policy & AP_WRITABLE_FILL)
		app_send(a, RTE_MIN(space, 3000u), 1000);
}

static void
on_peer_closed(struct sl_tcp_conn *c)
{
	struct app *a = app_of(c, "peer_closed");

	TRACE("   peer_closed on tuple %u\n", a->tuple);
	if (!sl_tcp_peer_done(c))
		fail("peer_closed, but the peer is not done");
	switch (app_policy & AP_PEER_CLOSED) {
	case 0:
		app_consume(a, a->held);
		app_close(a);
		break;
	case 1:
		sl_tcp_shutdown(c);
		break;
	case 3:
		app_abort(a);
		break;
	default:
		break;
	}
}

static void
on_closed(struct sl_tcp_conn *c)
{
	struct app *a = app_of(c, "closed");

	TRACE("   closed on tuple %u\n", a->tuple);
	app_release(a);
}

static void
on_error(struct sl_tcp_conn *c, int err)
{
	struct app *a = app_of(c, "error");

	TRACE("   error %d on tuple %u\n", err, a->tuple);
	/* ENETUNREACH and ENOPROTOOPT: ICMP errors, hard in SYN-SENT or soft and named at a timeout. */
	if (err != -ECONNRESET && err != -ECONNREFUSED && err != -ETIMEDOUT && err != -EHOSTUNREACH &&
	    err != -ENETUNREACH && err != -ENOPROTOOPT)
		fail("error %d", err);
	/* The handle is still valid while the callback runs: closing it there must be harmless. */
	switch ((app_policy >> AP_ERROR_SHIFT) & 3) {
	case 1:
		sl_tcp_close(c);
		break;
	case 2:
		sl_tcp_abort(c);
		break;
	default:
		break;
	}
	app_release(a);
}

static const struct sl_tcp_ops app_ops = {
    .accepted = on_accepted,
    .connected = on_connected,
    .readable = on_readable,
    .writable = on_writable,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
    .error = on_error,
};

static void
app_connect(struct tuple *t)
{
	struct sl_tcp_conn *c;
	int err = 0;

	if (n_apps == APPS_MAX)
		return;
	c = sl_tcp_connect(&worker, 0, PEER_IP, rte_cpu_to_be_16(t->rport), &app_ops, NULL, &err);
	if (c == NULL) {
		if (err != -ENOBUFS && err != -EMFILE && err != -EADDRNOTAVAIL)
			fail("sl_tcp_connect: %d", err);
		return;
	}
	if (t->app != NULL)
		t->app =
		    NULL; /* the older connection keeps its record, the tuple follows the new */
	{
		uint16_t lport, rport;
		uint32_t laddr, raddr;

		sl_tcp_endpoints(c, &laddr, &lport, &raddr, &rport);
		t->lport = rte_be_to_cpu_16(lport);
	}
	app_new(c, t);
	t->our_iss = c->iss;
	t->iss_known = true;
	if (t == &tuples[ACTIVE0])
		tuples[STRAY].lport = t->lport;
}

/* ---- the worker loop on a virtual clock ---- */

static void
clock_to(uint64_t us)
{
	if (us != now_us)
		TRACE("   clock +%lu ms\n", (unsigned long)((us - now_us) / 1000));
	now_us = us;
	worker.now_ms = us / 1000;
	sl_tcp_poll(tw, now_us);
	flush_and_reap();
	check_all();
}

/*
 * The earliest armed timer, UINT64_MAX if none. Every timer on the wheel is a connection's,
 * so this is a walk of the table, cheaper than sl_timer_wheel_next_hint's of the wheel.
 */
static uint64_t
next_expiry(void)
{
	const void *key;
	void *data;
	uint32_t next = 0;
	uint64_t t = UINT64_MAX;

	if (tw->wheel.due != NULL)
		return tw->wheel.now;
	while (rte_hash_iterate(tw->table, &key, &data, &next) >= 0) {
		const struct sl_tcp_conn *c = data;

		if (sl_timer_armed(&c->rtx_timer))
			t = RTE_MIN(t, c->rtx_timer.expire);
		if (sl_timer_armed(&c->delack_timer))
			t = RTE_MIN(t, c->delack_timer.expire);
		if (sl_timer_armed(&c->keep_timer))
			t = RTE_MIN(t, c->keep_timer.expire);
	}
	next = 0;
	while (rte_hash_iterate(tw->tw_table, &key, &data, &next) >= 0) {
		const struct sl_tcp_tw *r = data;

		if (sl_timer_armed(&r->timer))
			t = RTE_MIN(t, r->timer.expire);
	}
	return t;
}

/* Run to the next armed timer; false when none is armed. */
static bool
clock_to_next_timer(void)
{
	uint64_t t = next_expiry();

	if (t == UINT64_MAX)
		return false;
	clock_to(RTE_MAX(t * 1000, now_us));
	return true;
}

/* ---- records ---- */

struct input {
	const uint8_t *p;
	size_t left;
};

static bool
take(struct input *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static uint8_t
take8(struct input *in, bool *ok)
{
	uint8_t v = 0;

	if (!take(in, &v, 1))
		*ok = false;
	return v;
}

static uint16_t
take16(struct input *in, bool *ok)
{
	uint8_t b[2] = {0, 0};

	if (!take(in, b, 2))
		*ok = false;
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t
take32(struct input *in, bool *ok)
{
	uint8_t b[4] = {0, 0, 0, 0};

	if (!take(in, b, 4))
		*ok = false;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Payload length from one byte: exact up to 127, then steps of 12 up to 1652. */
static uint32_t
payload_len(uint8_t b)
{
	return b < 128 ? b : 128u + (uint32_t)(b - 128) * 12u;
}

static unsigned int
put_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, tsval);
	put32(o + 8, tsecr);
	return 12;
}

/* Corruptions (the byte after the options when flags bit 7 is set): kind in the low 3 bits. */
enum corrupt {
	CO_TCP_CKSUM,  /* wrong TCP checksum */
	CO_IP_CKSUM,   /* wrong IPv4 header checksum */
	CO_TRUNCATE,   /* the frame loses its last 1-32 bytes */
	CO_DATA_OFF,   /* a data offset under 5 words, or past the segment */
	CO_IP_SHORTER, /* the IPv4 total length cuts 1-32 bytes: the rest is padding (valid) */
	CO_IP_OPTIONS, /* 4-32 bytes of IPv4 options (valid) */
	CO_RX_CKSUM,   /* the NIC says the L4 checksum is good (arg odd) or bad (even) */
	CO_HDR_SPLIT,  /* the frame is cut into two mbufs inside the headers */
};

static const char *const corrupt_names[] = {
    " bad-tcp-cksum", " bad-ip-cksum", " truncated", " bad-data-offset",
    " ip-shorter",    " ip-options",   " nic-cksum", " header-split",
};

/*
 * A segment record:
 *   [0] type  [1] tuple  [2] flags: low 6 bits TCP flags, bit 7 a corruption byte follows
 *   [3] mode: bits 0-1 seq, 2-3 ack, 4-6 options, bit 7 a split byte follows
 *   [4-7] seq, [8-11] ack (little endian; a delta or the value, by mode)
 *   [12-13] window  [14] payload length (payload_len)  [15] the user's command for this tuple
 *   options bytes (by mode), split byte, corruption byte.
 * seq modes: 0 rcv_nxt + v (or the peer's next sequence number without a connection),
 *   1 rcv_adv + v (the right edge of our window), 2 v, 3 the peer's next sequence number + v.
 * ack modes: 0 what we sent last + v, 1 snd_una + v, 2 v, 3 snd_nxt + v.
 * option modes: 0 none; 1, 6, 7 timestamps (TSval the peer's clock, TSecr our last TSval);
 *   2 SYN options [mask mss_hi mss_lo wscale]: mask bit 0 MSS, 1 SACK-permitted, 2 timestamps,
 *   3 window scale; 3 timestamps (unless bit 7 of n) and SACK [n] then n x [start int16 len u16]
 *   from snd_una; 4 raw [len] + len bytes (EOL padded); 5 timestamps with [tsval int16] from
 *   ts_recent and [tsecr int16] from our last TSval.
 */
static bool
rec_segment(struct input *in, uint8_t tuple_idx)
{
	static uint8_t f[FRAME_BUF + 64];
	struct tuple *t = &tuples[tuple_idx % N_TUPLES];
	struct sl_tcp_conn *c = t->lport != 0 ? tuple_conn(t) : NULL;
	bool ok = true, sync = c != NULL && c->state != SL_TCP_SYN_SENT;
	uint8_t flags = take8(in, &ok), mode = take8(in, &ok);
	uint32_t v_seq = take32(in, &ok), v_ack = take32(in, &ok);
	uint16_t win = take16(in, &ok);
	uint32_t len = payload_len(take8(in, &ok));
	uint8_t cmd = take8(in, &ok);
	uint8_t opt[44];
	unsigned int optlen = 0, ihl = 20;
	uint32_t seq, ack, our = t->nxt_known ? t->our_nxt : 0;
	uint8_t split = 0, corrupt = 0;

	if (!ok)
		return false;
	t->cmd = cmd;
	switch (mode & 3) {
	case 0:
		seq = (sync ? c->rcv_nxt : t->peer_nxt) + v_seq;
		break;
	case 1:
		seq = (sync ? c->rcv_adv : t->peer_nxt) + v_seq;
		break;
	case 2:
		seq = v_seq;
		break;
	default:
		seq = t->peer_nxt + v_seq;
		break;
	}
	switch ((mode >> 2) & 3) {
	case 0:
		ack = our + v_ack;
		break;
	case 1:
		ack = (c != NULL ? c->snd_una : our) + v_ack;
		break;
	case 2:
		ack = v_ack;
		break;
	default:
		ack = (c != NULL ? c->snd_nxt : our) + v_ack;
		break;
	}
	switch ((mode >> 4) & 7) {
	case 0:
		break;
	case 2: {
		uint8_t mask = take8(in, &ok), mss_hi = take8(in, &ok), mss_lo = take8(in, &ok);
		uint8_t ws = take8(in, &ok);

		if (mask & 1) {
			opt[optlen++] = 2;
			opt[optlen++] = 4;
			opt[optlen++] = mss_hi;
			opt[optlen++] = mss_lo;
		}
		if (mask & 2) {
			opt[optlen++] = 1;
			opt[optlen++] = 1;
			opt[optlen++] = 4;
			opt[optlen++] = 2;
		}
		if (mask & 4)
			optlen += put_ts(opt + optlen, peer_tsval(), t->our_tsval);
		if (mask & 8) {
			opt[optlen++] = 1;
			opt[optlen++] = 3;
			opt[optlen++] = 3;
			opt[optlen++] = ws;
		}
		break;
	}
	case 3: {
		uint8_t nb = take8(in, &ok);
		bool ts = !(nb & 0x80);
		unsigned int n = 1 + (nb & 0x7f) % (ts ? 3 : 4);
		uint32_t base = c != NULL ? c->snd_una : our;

		if (ts)
			optlen += put_ts(opt + optlen, peer_tsval(), t->our_tsval);
		opt[optlen++] = 1;
		opt[optlen++] = 1;
		opt[optlen++] = 5;
		opt[optlen++] = (uint8_t)(2 + 8 * n);
		for (unsigned int i = 0; i < n; i++) {
			int16_t start = (int16_t)take16(in, &ok);
			uint16_t blen = take16(in, &ok);

			put32(opt + optlen, base + (uint32_t)(int32_t)start);
			put32(opt + optlen + 4, base + (uint32_t)(int32_t)start + blen);
			optlen += 8;
		}
		break;
	}
	case 4: {
		uint8_t n = take8(in, &ok) % 41;

		if (!take(in, opt, n))
			return false;
		optlen = n;
		break;
	}
	case 5: {
		int16_t dv = (int16_t)take16(in, &ok), de = (int16_t)take16(in, &ok);
		uint32_t base = c != NULL && (c->flags & SL_TF_TS_OK) ? c->ts_recent : peer_tsval();

		optlen +=
		    put_ts(opt, base + (uint32_t)(int32_t)dv, t->our_tsval + (uint32_t)(int32_t)de);
		break;
	}
	default:
		optlen += put_ts(opt, peer_tsval(), t->our_tsval);
		break;
	}
	while (optlen % 4)
		opt[optlen++] = 0;
	if (mode & 0x80)
		split = take8(in, &ok);
	if (flags & 0x80)
		corrupt = take8(in, &ok);
	if (!ok)
		return false;

	/* The frame, valid unless corrupted on purpose. */
	unsigned int kind = corrupt & 7, arg = corrupt >> 3;
	if ((flags & 0x80) && kind == CO_IP_OPTIONS)
		ihl = 20 + 4 * (1 + arg % 8);
	unsigned int hlen = 20 + optlen, l4 = hlen + len, tot = ihl + l4;
	unsigned int flen = ETH_LEN + tot;
	uint8_t *ip = f + ETH_LEN, *th = ip + ihl;
	uint32_t src = PEER_IP, dst = OUR_IP;

	if (flen > FRAME_BUF)
		return true;
	memset(f, 0, RTE_MAX(flen, (unsigned int)MIN_FRAME));
	memcpy(f, &our_mac, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0x4321);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	memset(ip + 20, 1, ihl - 20); /* NOP options */
	put16(th, t->rport);
	put16(th + 2, t->lport != 0 ? t->lport : 10000);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((hlen / 4) << 4);
	th[13] = flags & 0x3f;
	put16(th + 14, win);
	memcpy(th + 20, opt, optlen);
	for (uint32_t i = 0; i < len; i++)
		th[hlen + i] = pat_in(seq + ((flags & SL_TH_SYN) ? 1 : 0) + i);
	if ((flags & 0x80) && kind == CO_IP_SHORTER) {
		unsigned int cut = RTE_MIN(1 + arg, l4 - 20);

		l4 -= cut;
		tot -= cut;
		put16(ip + 2, (uint16_t)tot);
	}
	/* Under 20 bytes, or past the segment: one that fits is valid, with other data. */
	if ((flags & 0x80) && kind == CO_DATA_OFF)
		th[12] = (uint8_t)((arg < 16 || l4 >= 60 ? arg % 5 : 15) << 4);
	put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, ihl)));
	put16(th + 16,
	      (uint16_t)~sum_fold(sum_add(sum_add(0, ip + 12, 8) + IPPROTO_TCP + l4, th, l4)));
	if (flags & 0x80) {
		switch (kind) {
		case CO_TCP_CKSUM:
			th[16] ^= (uint8_t)(1 + arg);
			break;
		case CO_IP_CKSUM:
			ip[10] ^= (uint8_t)(1 + arg);
			break;
		case CO_TRUNCATE:
			flen -= RTE_MIN(1 + arg, flen - ETH_LEN);
			break;
		default:
			break;
		}
	}
	/* The peer's view of its own sequence space moves on with what it sends. */
	uint32_t end = seq + len + ((flags & SL_TH_SYN) ? 1 : 0) + ((flags & SL_TH_FIN) ? 1 : 0);
	if (!(flags & SL_TH_RST) && sl_seq_gt(end, t->peer_nxt))
		t->peer_nxt = end;

	uint32_t hdrs = ETH_LEN + ihl + hlen, cut1 = 0, cut2 = 0;
	if ((flags & 0x80) && kind == CO_HDR_SPLIT)
		cut1 = ETH_LEN + 1 + arg * 3;
	else if ((mode & 0x80) && len > 0) {
		cut1 = hdrs + (uint32_t)(split & 0x7f) * len / 128;
		if (split & 0x80)
			cut2 = cut1 + (flen - cut1) / 2;
	}
	TRACE("-> %u>%u flags %#x seq %u ack %u win %u len %u opt %u%s%s (%s)\n", t->rport,
	      get16(th + 2), flags & 0x3f, seq, ack, win, len, optlen,
	      (flags & 0x80) ? corrupt_names[kind] : "", (mode & 0x80) ? " split" : "",
	      c != NULL ? sl_tcp_state_name(c->state) : "no connection");
	struct rte_mbuf *m = frame_mbuf(f, RTE_MAX(flen, (unsigned int)MIN_FRAME), cut1, cut2);
	if (m == NULL)
		return true;
	if ((flags & 0x80) && kind == CO_RX_CKSUM)
		m->ol_flags |= (arg & 1) ? RTE_MBUF_F_RX_L4_CKSUM_GOOD : RTE_MBUF_F_RX_L4_CKSUM_BAD;
	sl_eth_input(&ifp, m);
	return true;
}

/*
 * ICMP destination unreachable about one of our segments:
 *   [0] type  [1] tuple  [2] code (low 4 bits)  [3-4] next-hop MTU  [5-8] quoted seq
 *   [9] bit 0 the seq is raw (else snd_una + v), bit 1 bad ICMP checksum,
 *       bit 2 the quoted source is not us, bit 3 only 4 bytes of TCP quoted.
 */
static bool
rec_icmp(struct input *in, uint8_t tuple_idx)
{
	uint8_t f[MIN_FRAME + 60];
	struct tuple *t = &tuples[tuple_idx % N_TUPLES];
	struct sl_tcp_conn *c = t->lport != 0 ? tuple_conn(t) : NULL;
	bool ok = true;
	uint8_t code = take8(in, &ok) & 15;
	uint16_t mtu = take16(in, &ok);
	uint32_t v = take32(in, &ok);
	uint8_t fl = take8(in, &ok);
	uint32_t src = ROUTER_IP, dst = OUR_IP, peer = PEER_IP;
	uint32_t qsrc = (fl & 4) ? PEER_IP : OUR_IP;
	uint32_t seq = (fl & 1) ? v : (c != NULL ? c->snd_una : t->our_nxt) + v;
	unsigned int l4 = (fl & 8) ? 4 : 8, icmp_len = 8 + 20 + l4, tot = 20 + icmp_len;
	uint8_t *ip = f + ETH_LEN, *ic = ip + 20, *q = ic + 8;

	if (!ok)
		return false;
	TRACE("-> ICMP unreachable code %u mtu %u about seq %u of tuple %u\n", code, mtu, seq,
	      (unsigned int)(t - tuples));
	memset(f, 0, sizeof(f));
	memcpy(f, &our_mac, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, 20)));
	ic[0] = 3;
	ic[1] = code;
	put16(ic + 6, mtu);
	q[0] = 0x45;
	put16(q + 2, 1500);
	q[8] = 64;
	q[9] = IPPROTO_TCP;
	memcpy(q + 12, &qsrc, 4);
	memcpy(q + 16, &peer, 4);
	put16(q + 10, (uint16_t)~sum_fold(sum_add(0, q, 20)));
	put16(q + 20, t->lport != 0 ? t->lport : 10000);
	put16(q + 22, t->rport);
	if (l4 == 8)
		put32(q + 24, seq);
	put16(ic + 2, (uint16_t)~sum_fold(sum_add(0, ic, icmp_len)));
	if (fl & 2)
		ic[2] ^= 0x40;
	struct rte_mbuf *m = frame_mbuf(f, RTE_MAX(ETH_LEN + tot, (unsigned int)MIN_FRAME), 0, 0);
	if (m != NULL)
		sl_eth_input(&ifp, m);
	return true;
}

/*
 * Time: [0] type [1] mode (bits 6-7) and n (bits 0-5): 0 n+1 ms, 1 (n+1) x 50 ms, 2 to the next
 * armed timer, (n % 8) + 1 times, 3 n+1 seconds. Each at once: after a long jump the timers due
 * fire late, as after a stall of the worker loop.
 */
static bool
rec_time(struct input *in)
{
	bool ok = true;
	uint8_t b = take8(in, &ok);
	unsigned int n = (b & 63) + 1;

	if (!ok)
		return false;
	switch (b >> 6) {
	case 0:
		clock_to(now_us + n * 1000ull);
		break;
	case 1:
		clock_to(now_us + n * 50000ull);
		break;
	case 2:
		for (unsigned int i = 0; i < (n - 1) % 8 + 1; i++)
			if (!clock_to_next_timer())
				break;
		break;
	default:
		clock_to(now_us + n * 1000000ull);
		break;
	}
	return true;
}

/*
 * The user acts on the connection it holds for a tuple:
 *   [0] type [1] tuple [2] action [3-4] argument
 * actions: 0 consume arg, 1 send arg bytes (in pieces of arg/4+1), 2 shutdown, 3 close,
 *   4 abort, 5 want_writable, 6 consume all, 7 send exactly the send space, 8 connect (active
 *   tuples), 9 send an empty mbuf, 10 the NIC computes checksums from now on, or stops (any
 *   tuple: the port's setting).
 * Arguments that close and want_writable ignore select the proxy's calls (tcp.h) instead,
 * leaving what older corpus inputs do as it was: close with arg >= 0xf000 is
 * sl_tcp_close_linger(arg & 0xfff ms), want_writable with arg >= 0xf000 is
 * sl_tcp_cork(arg & 1), or with bit 1 set too sl_tcp_cork_hold((arg >> 2 & 0x3ff) * 8 us).
 */
static bool
rec_user(struct input *in, uint8_t tuple_idx)
{
	struct tuple *t = &tuples[tuple_idx % N_TUPLES];
	bool ok = true;
	uint8_t action = take8(in, &ok) % 11;
	uint16_t arg = take16(in, &ok);
	struct app *a = t->app;

	if (!ok)
		return false;
	TRACE("   user action %u arg %u on tuple %u\n", action, arg, (unsigned int)(t - tuples));
	if (action == 8) {
		if (t->kind == TK_ACTIVE)
			app_connect(t);
		return true;
	}
	if (action == 10) {
		ifp.tx_ip_cksum = ifp.tx_tcp_cksum = !ifp.tx_tcp_cksum;
		return true;
	}
	if (a == NULL || !a->live)
		return true;
	switch (action) {
	case 0:
		app_consume(a, arg);
		break;
	case 1:
		app_send(a, arg, arg / 4u + 1);
		break;
	case 2:
		sl_tcp_shutdown(a->c);
		break;
	case 3:
		if (arg >= 0xf000) {
			app_release(a);
			sl_tcp_close_linger(a->c, arg & 0xfffu);
		} else {
			app_close(a);
		}
		break;
	case 4:
		app_abort(a);
		break;
	case 5:
		if (arg >= 0xf000 && (arg & 2))
			sl_tcp_cork_hold(a->c, (arg >> 2 & 0x3ffu) * 8u);
		else if (arg >= 0xf000)
			sl_tcp_cork(a->c, arg & 1);
		else
			sl_tcp_want_writable(a->c);
		break;
	case 6:
		app_consume(a, a->held);
		break;
	case 7:
		app_send(a, sl_tcp_send_space(a->c), 1 + arg % 2000u);
		break;
	default:
		app_send(a, 0, 1);
		break;
	}
	return true;
}

/* ---- one input ---- */

/* Set-up byte 0: the configuration of the worker for this input. */
static void
configure(uint8_t b)
{
	static const uint32_t rcvbuf[4] = {2048, 8192, 65535, 262144};
	static const uint32_t sndbuf[4] = {2048, 8192, 65536, 131072};

	cfg.rcvbuf = rcvbuf[b & 3];
	cfg.sndbuf = sndbuf[(b >> 2) & 3];
	cfg.cubic = (b & 0x10) != 0;
	cfg.keepalive_ms = (b & 0x20) ? 5000 : 0;
	cfg.syn_backlog = (b & 0x40) ? 1 : 4;
	cfg.delayed_ack_ms = (b & 0x80) ? 200 : 40;
}

static void
reset_state(void)
{
	now_us = T0_MS * 1000;
	worker.now_ms = T0_MS;
	tw->now_us = now_us;
	sl_timer_wheel_init(&tw->wheel, T0_MS);
	memset(&tw->stats, 0, sizeof(tw->stats));
	memset(&ifp.stats, 0, sizeof(ifp.stats));
	ifp.ip_id = 0;
	ifp.tx_ip_cksum = ifp.tx_tcp_cksum = false;
	tw->challenge_epoch_s = 0;
	tw->challenge_budget = 0;
	rte_srand(1); /* the challenge ACK budget is random: the same draws for the same input */
	for (unsigned int i = 0; i < SL_TCP_LISTENERS_MAX; i++)
		tw->listeners[i].overflow_ms = 0; /* cookies are checked only after an overflow */
	memset(tw->port_perturb, 0, sizeof(tw->port_perturb));
	n_apps = 0;
	for (unsigned int i = 0; i < N_TUPLES; i++) {
		struct tuple *t = &tuples[i];

		memset(t, 0, sizeof(*t));
		t->kind = tuple_def[i].kind;
		t->rport = tuple_def[i].rport;
		t->lport = tuple_def[i].lport;
		t->peer_iss = 0x10000000u * (i + 1) + 0x1234u;
		t->peer_nxt = t->peer_iss;
	}
}

/*
 * The user closes what it holds; the clock runs to each timer in turn, without the peer,
 * until none is left; then every connection must be gone: one still there after two hours
 * is one the stack would keep forever. And every mbuf and connection back in its pool.
 */
static void
finish_input(void)
{
	const void *key;
	void *data;
	uint32_t next = 0;
	struct sl_tcp_conn *c = NULL;
	unsigned int n = 0, steps = 0;
	uint64_t horizon_ms;

	for (unsigned int i = 0; i < n_apps; i++)
		if (apps[i].live) {
			app_consume(&apps[i], apps[i].held);
			app_close(&apps[i]);
		}
	flush_and_reap();
	check_all();
	TRACE("   end of input: the user has closed everything; timers run\n");
	horizon_ms = now_us / 1000 + IDLE_HORIZON_MS;
	while ((tw->stats.conns > 0 || tw->stats.conns_time_wait > 0) && steps++ < IDLE_STEPS_MAX &&
	       now_us / 1000 < horizon_ms)
		if (!clock_to_next_timer())
			break;
	while (rte_hash_iterate(tw->table, &key, &data, &next) >= 0)
		if (n++ == 0)
			c = data;
	if (c != NULL) {
		fail("%u connection(s) left with no user and no peer after %u timer runs "
		     "(%.0f s); first: %s, snd_una %u snd_max %u snd_wnd %u sq_bytes %u, "
		     "timers rtx %d (mode %u) keep %d",
		     n, steps, (double)(now_us / 1000 - T0_MS) / 1000.0,
		     sl_tcp_state_name(c->state), c->snd_una, c->snd_max, c->snd_wnd, c->sq_bytes,
		     sl_timer_armed(&c->rtx_timer), c->rtx_mode, sl_timer_armed(&c->keep_timer));
	}
	sl_arp_flush_pending(&ifp);
	flush_and_reap();
	check_all();
	if (tw->stats.conns != 0 || tw->stats.conns_established != 0 ||
	    rte_hash_count(tw->table) != 0)
		fail("connections counted after everything was closed");
	/* TIME-WAIT records (tcp_timewait.c) expire with the clock, too. */
	if (tw->stats.conns_time_wait != 0 || rte_hash_count(tw->tw_table) != 0 ||
	    rte_mempool_avail_count(tw->tw_pool) != RTE_MAX(MAX_CONNS, 64u))
		fail("%lu TIME-WAIT record(s) left (%u in the table, %u of %u free)",
		     (unsigned long)tw->stats.conns_time_wait, rte_hash_count(tw->tw_table),
		     rte_mempool_avail_count(tw->tw_pool), RTE_MAX(MAX_CONNS, 64u));
	if (rte_mempool_avail_count(tw->conn_pool) != MAX_CONNS)
		fail("connection pool: %u of %u free after everything was closed",
		     rte_mempool_avail_count(tw->conn_pool), MAX_CONNS);
	if (rte_mempool_avail_count(pool) != pool_avail_at_start)
		fail("mbuf pool: %u free, %u at the start: %s", rte_mempool_avail_count(pool),
		     pool_avail_at_start,
		     rte_mempool_avail_count(pool) < pool_avail_at_start ? "leak" : "double free");
}

/*
 * The input: [0] configuration (configure), [1] user policy (AP_*), then records until the
 * input ends. Record type [0] % 16: 0-8 segment, 9-10 time, 11-13 user, 14 ICMP, 15 time.
 */
static void
run_input(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	bool ok = true;
	uint8_t b0 = take8(&in, &ok), b1 = take8(&in, &ok);

	configure(ok ? b0 : 0);
	app_policy = ok ? b1 : 0;
	reset_state();
	app_connect(&tuples[ACTIVE0]);
	flush_and_reap();
	check_all();
	while (in.left > 0) {
		uint8_t type = take8(&in, &ok) % 16, tup = 0;

		if (type != 9 && type != 10 && type != 15)
			tup = take8(&in, &ok);
		if (!ok)
			break;
		if (type <= 8)
			ok = rec_segment(&in, tup);
		else if (type <= 10 || type == 15)
			ok = rec_time(&in);
		else if (type <= 13)
			ok = rec_user(&in, tup);
		else
			ok = rec_icmp(&in, tup);
		if (!ok)
			break;
		/* The rest of the poll iteration: timers due now, TX, release. */
		clock_to(now_us);
	}
	finish_input();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_input(data, size);
	return 0;
}

/* ---- set-up, once ---- */

/* EAL leaves its runtime directory behind; the prefix is ours alone, so remove it. */
static void
cleanup(void)
{
	char path[PATH_MAX + 256];
	struct dirent *d;
	DIR *dp;

	if (tw != NULL) {
		sl_tcp_worker_free(tw);
		tw = NULL;
	}
	rte_mempool_free(pool);
	pool = NULL;
	rte_eal_cleanup();
	dp = opendir(runtime_dir);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", runtime_dir, d->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(runtime_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t secret[SL_SIPHASH_KEY_LEN] = "sluice-fuzz-tcp";
	char prefix[64], lcore[16], err[256] = "";
	char *eal_argv[] = {"fuzz_tcp", "--no-pci",	  "--no-huge",	 "-m",
			    "256",	"--no-telemetry", "--no-shconf", "-l",
			    lcore,	"--file-prefix",  prefix,	 "--log-level=*:error",
			    NULL};
	cpu_set_t cpus;
	int cpu = 0;

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TCP_TRACE") != NULL;
	/* One lcore, one this process may run on: EAL starts no other thread. */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &cpus))
			cpu++;
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	snprintf(prefix, sizeof(prefix), "sl-fuzz-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv) - 1, eal_argv) < 0)
		fail("EAL init failed: %s", rte_strerror(rte_errno));
	/* --no-shconf: nothing goes into the runtime directory, so it need not outlive a crash. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rmdir(runtime_dir);
	atexit(cleanup);
	rte_srand(1);
	if (sl_tcp_global_init() != 0)
		fail("sl_tcp_global_init failed");
	/* No per-lcore cache, so the available count is exact. */
	pool = rte_pktmbuf_pool_create("sl_fuzz_tcp", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		fail("mbuf pool: %s", rte_strerror(rte_errno));
	pool_avail_at_start = rte_mempool_avail_count(pool);

	worker.n_workers = 1;
	worker.pool = pool;
	worker.n_netif = 1;
	worker.netif[0] = &ifp;
	worker.now_ms = T0_MS;
	ifp.w = &worker;
	ifp.mtu = 1500;
	ifp.mac = our_mac;
	ifp.ip = OUR_IP;
	ifp.mask = IP4(255, 255, 255, 0);
	ifp.tx_burst = tx_check_free;

	cfg.max_connections = MAX_CONNS;
	cfg.time_wait_ms = 2000;
	cfg.rto_min_ms = 200;
	configure(0);
	tw = sl_tcp_worker_create(&worker, &cfg, SOCKET_ID_ANY, err, sizeof(err));
	if (tw == NULL)
		fail("sl_tcp_worker_create: %s", err);
	worker.tcp = tw;
	/* Determinism: the same ISNs, cookies and TSvals for the same input, every run. */
	sl_tcp_secret_init(&tw->secret, secret);
	tw->ts_offset = TS_OFFSET;
	if (sl_tcp_listen(&worker, ECHO_PORT, &app_ops, (void *)&listener_echo) != 0 ||
	    sl_tcp_listen(&worker, SINK_PORT, &app_ops, (void *)&listener_sink) != 0)
		fail("sl_tcp_listen failed");

	/* The peer asks for our address: we learn its MAC (and answer, which the device eats). */
	{
		uint8_t f[MIN_FRAME];
		uint32_t peer = PEER_IP, us = OUR_IP;
		struct rte_mbuf *m;

		memset(f, 0, sizeof(f));
		memset(f, 0xff, 6);
		memcpy(f + 6, &peer_mac, 6);
		put16(f + 12, RTE_ETHER_TYPE_ARP);
		put16(f + 14, 1);      /* Ethernet */
		put16(f + 16, 0x0800); /* IPv4 */
		f[18] = 6;
		f[19] = 4;
		put16(f + 20, 1); /* request */
		memcpy(f + 22, &peer_mac, 6);
		memcpy(f + 28, &peer, 4);
		memcpy(f + 38, &us, 4);
		/* The reply is not TCP: take it off the wire before the frame checks see it. */
		ifp.tx_burst = NULL;
		m = frame_mbuf(f, sizeof(f), 0, 0);
		if (m == NULL)
			fail("no mbuf for the ARP request");
		sl_eth_input(&ifp, m);
		if (sl_arp_lookup(&ifp, PEER_IP) == NULL)
			fail("the peer's MAC was not learnt");
		for (unsigned int i = 0; i < ifp.n_tx; i++)
			rte_pktmbuf_free(ifp.tx[i]);
		ifp.n_tx = 0;
		ifp.tx_burst = tx_check_free;
	}
	return 0;
}
