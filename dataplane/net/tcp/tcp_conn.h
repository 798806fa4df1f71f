/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_CONN_H
#define SL_TCP_CONN_H

/*
 * The stack's private types: a connection (TCB), a listener, and the state
 * one worker keeps for TCP. Only dataplane/net/tcp/ includes this.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/net/netif.h"
#include "lib/config/config.h"
#include "tcp_worker.h"
#include "lib/stats/tcp_stats.h"
#include "lib/timer/timer_wheel.h"
#include "tcp.h"
#include "tcp_isn.h"
#include "tcp_sack.h"
#include "tcp_reass.h"
#include "tcp_seq.h"

/* RFC 9293 states, in the order of the RFC's diagram. */
enum sl_tcp_state {
	SL_TCP_CLOSED = 0,
	SL_TCP_LISTEN,
	SL_TCP_SYN_SENT,
	SL_TCP_SYN_RECEIVED,
	SL_TCP_ESTABLISHED,
	SL_TCP_FIN_WAIT_1,
	SL_TCP_FIN_WAIT_2,
	SL_TCP_CLOSE_WAIT,
	SL_TCP_CLOSING,
	SL_TCP_LAST_ACK,
	SL_TCP_TIME_WAIT,
	SL_TCP_NSTATES
};

const char *sl_tcp_state_name(enum sl_tcp_state s);

/* Header flags, as on the wire. */
#define SL_TH_FIN 0x01
#define SL_TH_SYN 0x02
#define SL_TH_RST 0x04
#define SL_TH_PSH 0x08
#define SL_TH_ACK 0x10
#define SL_TH_URG 0x20

/* Connection flags. */
#define SL_TF_ACK_NOW 0x0001     /* send an ACK at the next output */
#define SL_TF_DELACK 0x0002      /* an ACK is owed; the delayed-ACK timer runs */
#define SL_TF_SACK_OK 0x0004     /* both sides offered SACK */
#define SL_TF_TS_OK 0x0008       /* both sides use timestamps */
#define SL_TF_WS_OK 0x0010       /* both sides use window scaling */
#define SL_TF_FIN_QUEUED 0x0020  /* the user shut down sending: FIN after the data */
#define SL_TF_FIN_SENT 0x0040    /* our FIN has a sequence number (snd_max includes it) */
#define SL_TF_USER_GONE 0x0080   /* the user released its handle (close/abort) */
#define SL_TF_RECOVERY 0x0100    /* fast recovery until snd_una passes `recover` */
#define SL_TF_PASSIVE 0x0200     /* opened by a listener */
#define SL_TF_WANT_WRITE 0x0400  /* tell the user when send space frees up */
#define SL_TF_DEAD 0x0800        /* out of the table, freed at the end of the iteration */
#define SL_TF_RTT_TIMING 0x1000  /* rtt_seq/rtt_start time a segment (no timestamps) */
#define SL_TF_IN_LISTEN_Q 0x2000 /* counted in its listener's SYN backlog */
#define SL_TF_SWS_OVERRIDE 0x4000 /* the persist timer: send what a short window takes */

/* Which timer the retransmission timer is standing in for. */
enum sl_tcp_rtx_mode {
	SL_TCP_RTX_NONE = 0,
	SL_TCP_RTX_RTO,     /* data or SYN/FIN outstanding */
	SL_TCP_RTX_PERSIST, /* zero window with data waiting */
	SL_TCP_RTX_TLP,     /* tail loss probe (RFC 8985 7); the RTO is due at rto_at_ms */
};

/* The tail loss probe episode (RFC 8985 7.4): TLP.end_seq and TLP.is_retrans. */
enum sl_tcp_tlp_state {
	SL_TCP_TLP_NONE = 0, /* no probe outstanding: a PTO may be armed */
	SL_TCP_TLP_NEW,      /* the probe was new data, [tlp_seq, tlp_end) */
	SL_TCP_TLP_RETRANS,  /* the probe resent the last segment, [tlp_seq, tlp_end) */
};

struct sl_tcp_key {
	uint32_t raddr; /* all network byte order */
	uint32_t laddr;
	uint16_t rport;
	uint16_t lport;
};

struct sl_tcp_worker;

struct sl_tcp_listener {
	uint16_t port; /* network order; 0 = free slot */
	uint16_t next; /* index + 1 of the next listener on this port, 0 = last */
	uint32_t addr; /* network order; 0 = every local address (the wildcard) */
	uint32_t syn_queued; /* connections in SYN-RECEIVED */
	uint64_t overflow_ms; /* when the SYN backlog last overflowed (cookies sent), 0 = never */
	bool refusing;	      /* sl_tcp_listen_refuse: SYNs get RST, as on a closed port */
	const struct sl_tcp_ops *ops;
	void *arg;
};

struct sl_tcp_conn {
	struct sl_tcp_key key;
	struct sl_tcp_worker *tw;
	struct sl_netif *ifp;
	struct sl_tcp_listener *listener; /* passive opens only */
	uint8_t state;       /* enum sl_tcp_state */
	uint8_t rtx_mode;    /* enum sl_tcp_rtx_mode */
	uint8_t snd_wscale;  /* shift applied to the peer's advertised window */
	uint8_t rcv_wscale;  /* shift the peer applies to ours */
	uint16_t flags;      /* SL_TF_* */
	uint16_t mss;        /* most payload per segment we send (options excluded) */
	uint16_t peer_mss;   /* what the peer announced (536 if nothing) */
	uint16_t mss_cap;    /* path MTU - 40 after ICMP fragmentation-needed, 0 = none */
	uint8_t backoff;     /* consecutive RTO expirations */
	uint8_t dupacks;
	uint8_t probes;      /* keepalive or zero-window probes without answer */
	uint8_t soft_err;    /* errno of an ICMP soft error since the last ACK, or 0 */
	uint8_t writable_due; /* this segment freed send space: call writable at its end */
	uint8_t syn_resends; /* SYN-SENT: SYNs resent after an unacceptable ACK */
	uint8_t tlp_state;   /* enum sl_tcp_tlp_state */

	/* Send sequence space (RFC 9293 3.3.1). snd_max: highest sequence sent + 1. */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd; /* largest window the peer offered (RFC 5961 ACK check) */
	/* Receive sequence space. rcv_adv: right edge of the window we announced. */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t rcv_held;   /* bytes handed to the user and not yet consumed */
	uint32_t rcv_held_mem; /* what they occupy: mbuf truesize (tcp_rcvmem.c) */
	uint32_t rcv_ratio;  /* payload per byte of memory of recent segments, Q24; 0 = none yet */
	uint32_t rcvbuf, sndbuf;

	/* Timestamps (RFC 7323). */
	uint32_t ts_recent;
	uint32_t last_ack_sent;
	uint64_t last_rx_ms;   /* keepalive: when the peer was last heard */
	uint32_t last_oow_ack_ms; /* last ACK for an invalid segment (ms clock, 0 = never) */

	/* RTT estimation (RFC 6298), microseconds; srtt == 0 means no sample yet. */
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t rtt_seq;      /* without timestamps: the segment being timed */
	uint64_t rtt_start_us;

	/* Congestion control (RFC 5681, 6582; CUBIC from RFC 9438 when enabled). */
	uint32_t cwnd, ssthresh, recover, bytes_acked;
	uint32_t rtx_high;     /* SACK recovery: retransmitted up to here */
	uint32_t rtx_epoch_nxt; /* snd_nxt when the latest hole was retransmitted */
	uint32_t tlp_seq, tlp_end; /* the outstanding loss probe (tlp_state), FIN included */
	uint32_t cubic_wmax, cubic_k_ms, cubic_origin;
	uint64_t cubic_epoch_ms;

	/* Send queue: user data from snd_una on; sq_off bytes of the head are acked. */
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_bytes, sq_off;
	struct rte_mbuf *sq_cur; /* segment where the last send stopped (NULL: unknown) */
	uint32_t sq_cur_seq;     /* sequence number of sq_cur's first byte */

	/* Reassembly queue: out-of-order segments sorted by sequence (seq in m->hash.usr). */
	struct rte_mbuf *ooo;
	uint32_t ooo_bytes;
	uint32_t ooo_mem;       /* truesize of the queued mbufs */
	uint32_t ooo_last_seq;  /* start of the block most recently changed (first SACK block) */
	uint16_t ooo_count;
	uint8_t fin_ooo;        /* a FIN arrived beyond rcv_nxt: its seq is in fin_seq */
	uint32_t fin_seq;

	struct sl_sack_scoreboard sb;

	struct sl_timer rtx_timer;    /* RTO, persist or loss probe (rtx_mode) */
	uint64_t rto_at_ms;           /* when the RTO is due while rtx_timer waits for a probe */
	struct sl_timer delack_timer;
	struct sl_timer keep_timer;   /* keepalive, FIN-WAIT-2 timeout, TIME-WAIT, SYN-RECEIVED */

	/* The proxy's API (tcp.h): cork, lingering close, timeouts, counters for sl_tcp_info. */
	uint8_t api_flags;         /* SL_TA_* */
	uint32_t user_timeout_ms;  /* RFC 5482: abort when data stays unacknowledged this long */
	uint64_t progress_ms;      /* snd_una last moved, or data left with none in flight */
	uint64_t total_acked, total_received; /* bytes, for sl_tcp_info */
	uint32_t retransmits;
	uint32_t hold_until_us;    /* SL_TA_HOLD: low 32 bits of tw->now_us (wraps, compared as a difference) */
	struct sl_tcp_conn *next_flush; /* on tw->flush: corked output due at the iteration's end */

	const struct sl_tcp_ops *ops;
	void *user;
	struct sl_tcp_conn *next_dead;
} __rte_cache_aligned;

/* api_flags. */
#define SL_TA_CORK 0x01     /* partial segments wait for the end of the poll iteration */
#define SL_TA_FLUSH_Q 0x02  /* on tw->flush */
#define SL_TA_FLUSHING 0x04 /* sl_tcp_flush is running output: partial segments may go */
#define SL_TA_LINGER 0x08   /* closed with sl_tcp_close_linger: keep_timer is its deadline */
#define SL_TA_CONNECT_TO 0x10 /* keep_timer is the connect timeout (SYN-SENT) */
#define SL_TA_HOLD 0x20 /* corked past the iteration's end, until hold_until_us (sl_tcp_cork_hold) */
#define SL_TA_ACK_DUE 0x40 /* on tw->flush: two full segments came, acknowledge at the iteration's end */

/*
 * A 4-tuple in TIME-WAIT (tcp_timewait.c): what answering a retransmitted FIN
 * and judging a new SYN (RFC 6191) take, one cache line. No age is kept for
 * ts_recent: a record lives at most time_wait (240 s), far below the 24 days
 * after which RFC 7323 5.5 stops trusting it.
 */
#define SL_TCP_TW_TS 0x01 /* the connection used timestamps: ts_recent is valid */

struct sl_tcp_tw {
	struct sl_timer timer;    /* expiry; a retransmitted FIN restarts it */
	struct sl_tcp_key key;
	uint32_t rcv_nxt;         /* past the peer's FIN */
	uint32_t snd_nxt;         /* past our FIN: a new incarnation's ISN goes above */
	uint32_t ts_recent;       /* the peer's latest TSval */
	uint32_t last_oow_ack_ms; /* rate limit of ACKs to invalid segments, as a TCB's */
	uint16_t rcv_wnd;         /* window field of our ACKs (scaled) */
	uint8_t flags;            /* SL_TCP_TW_* */
	uint8_t port_index;       /* the netif: w->netif[port_index] */
};

#define SL_TCP_PORT_TABLE 256 /* active open port counters, picked by a hash of the destination */

struct sl_tcp_worker {
	struct sl_worker *w;
	struct rte_hash *table;      /* struct sl_tcp_key -> struct sl_tcp_conn * */
	struct rte_mempool *conn_pool;
	struct rte_hash *tw_table;   /* struct sl_tcp_key -> struct sl_tcp_tw * (TIME-WAIT) */
	struct rte_mempool *tw_pool;
	struct sl_timer_wheel wheel; /* ms ticks */
	struct sl_tcp_secret secret;
	/*
	 * Listeners: the head of each port's list in a direct table (one
	 * load for "is anything listening on this port", per segment when
	 * steering), and (addr, port) in a hash once a port has several, so
	 * a SYN finds its listener in O(1) however many VIPs share the port.
	 */
	struct sl_tcp_listener listeners[SL_TCP_LISTENERS_MAX];
	uint16_t listen_head[65536];  /* by port (network order): index + 1, 0 = none */
	struct rte_hash *listen_table; /* struct sl_tcp_listen_key -> listener */
	struct sl_tcp_conn *flush;    /* corked connections with output due (SL_TA_FLUSH_Q) */
	struct sl_tcp_conn *dead;    /* released at the end of the poll iteration */
	uint64_t now_us;
	uint32_t ts_offset;          /* random start of our TSval clock (RFC 7323 5.4) */
	uint64_t challenge_epoch_s;  /* RFC 5961 challenge ACKs: the second the budget is for */
	uint32_t challenge_budget;   /* what is left of it (random each second) */
	uint32_t port_perturb[SL_TCP_PORT_TABLE]; /* RFC 6056 Algorithm 4's table of counters */
	const struct sl_config_tcp *cfg;
	/* Receive memory (tcp_rcvmem.c); what is held is stats.rcv_mem. */
	uint64_t rcv_mem_max;        /* budget: bytes of mbufs receive buffers may hold */
	uint32_t mbuf_truesize;      /* one object of the pool: headers and data room */
	uint32_t mbuf_room;          /* frame bytes one mbuf takes (data room less headroom) */
	uint32_t pool_reserve;       /* free mbufs below which no payload is kept */
	uint32_t pool_free;          /* sampled each ms, less what was kept since */
	uint64_t pool_sampled_ms;
	bool rcv_pressure;           /* windows stop opening */
	/* the last (rcvbuf, MTU) a connection's memory limit was worked out for, and that limit */
	uint32_t mem_max_rcvbuf;
	uint32_t mem_max_mtu;        /* UINT32_MAX: none yet (an MTU is 16 bits) */
	uint64_t mem_max;
	struct sl_tcp_stats stats;
};

/* Limits that are not configuration. */
#define SL_TCP_MSS_DEFAULT 536
#define SL_TCP_MAX_WSCALE 14
#define SL_TCP_RTO_INITIAL_MS 1000
#define SL_TCP_RTO_MAX_MS 60000
#define SL_TCP_SYN_RETRIES 5
#define SL_TCP_SYN_BAD_ACK_RESENDS 3 /* SYNs resent at once after unacceptable ACKs */
#define SL_TCP_PORT_PROBES 256       /* source ports tried per active open, at most */
#define SL_TCP_RETRIES 12          /* data retransmissions before ETIMEDOUT */
#define SL_TCP_OOO_MAX_SEGS 256    /* per connection */
#define SL_TCP_FIN_WAIT_2_MS 60000
#define SL_TCP_KEEPALIVE_INTVL_MS 10000
#define SL_TCP_KEEPALIVE_PROBES 6
#define SL_TCP_PERSIST_MIN_MS 200
#define SL_TCP_TLP_DELACK_MS 200 /* PTO allowance for a delayed ACK of a lone segment (WCDelAckT) */
#define SL_TCP_TLP_MIN_MS 2      /* PTO allowance otherwise: one whole tick of our 1 ms clock */
#define SL_TCP_INVALID_RATELIMIT_MS 500 /* per connection, as Linux's tcp_invalid_ratelimit */
#define SL_TCP_CHALLENGE_ACK_LIMIT 1000 /* per worker and second, on average */
#define SL_TCP_EPHEMERAL_LO 10000
#define SL_TCP_EPHEMERAL_HI 65535

/* tcp_conn.c */
uint8_t sl_tcp_choose_wscale(uint32_t rcvbuf);
/* MSS for our data segments: what the peer takes, the port and the path carry, minus options. */
void sl_tcp_set_mss(struct sl_tcp_conn *c);
struct sl_tcp_conn *sl_tcp_conn_alloc(struct sl_tcp_worker *tw, struct sl_netif *ifp,
				      const struct sl_tcp_key *key, int *err);
struct sl_tcp_conn *sl_tcp_conn_lookup(struct sl_tcp_worker *tw, const struct sl_tcp_key *key);
void sl_tcp_set_state(struct sl_tcp_conn *c, enum sl_tcp_state s);
void sl_tcp_established(struct sl_tcp_conn *c);
/* Leave the table, stop timers, free queued data; memory goes back at sl_tcp_reap. */
void sl_tcp_conn_destroy(struct sl_tcp_conn *c);
/* Tell the user (if still there) and destroy. */
void sl_tcp_conn_fail(struct sl_tcp_conn *c, int err);
/* A listener on port (network order), any address: the head of the port's list, or NULL. */
struct sl_tcp_listener *sl_tcp_listener_find(struct sl_tcp_worker *tw, uint16_t port);
/* The listener a segment for laddr:port reaches: the exact address first, then the wildcard. */
struct sl_tcp_listener *sl_tcp_listener_lookup(struct sl_tcp_worker *tw, uint32_t laddr,
					       uint16_t port);

struct sl_tcp_listen_key {
	uint32_t addr;
	uint16_t port;
	uint16_t pad; /* zero */
};

/* tcp_input.c */
void sl_tcp_input(struct sl_netif *ifp, struct rte_mbuf *m);

/* tcp_output.c */
void sl_tcp_output(struct sl_tcp_conn *c);
void sl_tcp_flush_later(struct sl_tcp_conn *c);
int sl_tcp_send_syn(struct sl_tcp_conn *c, bool with_ack);
void sl_tcp_send_ack(struct sl_tcp_conn *c);
void sl_tcp_send_rst_for(struct sl_netif *ifp, const struct sl_tcp_key *key, uint32_t seq,
			 uint32_t ack, bool with_ack);
void sl_tcp_send_rst(struct sl_tcp_conn *c);
void sl_tcp_retransmit_una(struct sl_tcp_conn *c);
void sl_tcp_send_probe(struct sl_tcp_conn *c);
/* The tail loss probe (RFC 8985 7.3): one new segment, or the last one again. 0 or -errno. */
int sl_tcp_send_loss_probe(struct sl_tcp_conn *c);
/* A segment for no connection (RST, SYN cookie SYN-ACK): header and options only. */
int sl_tcp_emit_raw(struct sl_netif *ifp, const struct sl_tcp_key *key, uint32_t seq, uint32_t ack,
		    uint8_t flags, uint16_t win, const uint8_t *opts, unsigned int optlen);
uint32_t sl_tcp_rcv_window(const struct sl_tcp_conn *c);
void sl_tcp_sq_drop_acked(struct sl_tcp_conn *c, uint32_t acked);

/* tcp_timer.c */
void sl_tcp_timers_init(struct sl_tcp_conn *c);
void sl_tcp_timers_stop(struct sl_tcp_conn *c);
void sl_tcp_arm_rto(struct sl_tcp_conn *c);
/*
 * Data went out (restart false) or snd_una moved (restart true): a loss
 * probe if RFC 8985 7.2 allows one and it comes before the RTO, else the RTO
 * (restarted, or left where it runs).
 */
void sl_tcp_arm_xmit_timer(struct sl_tcp_conn *c, bool restart);
void sl_tcp_arm_persist(struct sl_tcp_conn *c);
void sl_tcp_arm_delack(struct sl_tcp_conn *c);
void sl_tcp_arm_keepalive(struct sl_tcp_conn *c);
void sl_tcp_rtt_sample(struct sl_tcp_conn *c, uint32_t rtt_us);
/* A connection given up for silence: the ICMP soft error seen meanwhile, or -ETIMEDOUT. */
int sl_tcp_timeout_err(const struct sl_tcp_conn *c);
uint32_t sl_tcp_now_ms32(const struct sl_tcp_worker *tw); /* the TSval clock */

/* tcp_timewait.c */
int sl_tcp_tw_init(struct sl_tcp_worker *tw, int socket, char *err, size_t errlen);
void sl_tcp_tw_fini(struct sl_tcp_worker *tw);
/* Move c to a TIME-WAIT record and release it (dead, state TIME-WAIT until reaped). */
void sl_tcp_enter_time_wait(struct sl_tcp_conn *c);
/* sig: rte_hash_hash of the key (the connection table's, the same function). */
struct sl_tcp_tw *sl_tcp_tw_lookup(struct sl_tcp_worker *tw, const struct sl_tcp_key *key,
				   hash_sig_t sig);
void sl_tcp_tw_free(struct sl_tcp_worker *tw, struct sl_tcp_tw *t);
/* A new connection takes over key: drop its TIME-WAIT record, if any, giving its snd_nxt. */
bool sl_tcp_tw_retire(struct sl_tcp_worker *tw, const struct sl_tcp_key *key, uint32_t *snd_nxt);
void sl_tcp_tw_restart(struct sl_tcp_worker *tw, struct sl_tcp_tw *t);
void sl_tcp_tw_send_ack(struct sl_tcp_worker *tw, const struct sl_tcp_tw *t);

/* tcp_cc.c */
void sl_tcp_cc_init(struct sl_tcp_conn *c);
void sl_tcp_cc_ack(struct sl_tcp_conn *c, uint32_t acked);
void sl_tcp_cc_enter_recovery(struct sl_tcp_conn *c);
void sl_tcp_cc_timeout(struct sl_tcp_conn *c);
/* A loss that a tail loss probe repaired (RFC 8985 7.4.2): a reduction, not a collapse. */
void sl_tcp_cc_tlp_loss(struct sl_tcp_conn *c);
uint32_t sl_tcp_flight(const struct sl_tcp_conn *c);

static inline uint64_t
sl_tcp_now_ms(const struct sl_tcp_worker *tw)
{
	return tw->now_us / 1000;
}

#endif
