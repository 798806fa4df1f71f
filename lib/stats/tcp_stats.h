/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_STATS_H
#define SL_TCP_STATS_H

/*
 * TCP counters, one block per worker, single writer (the worker). Read by the
 * control plane with relaxed loads, like struct sl_net_stats.
 */

#include <stdint.h>

#define SL_TCP_COUNTERS(X)                                                                         \
	X(active_opens)        /* SYN sent by sl_tcp_connect */                                    \
	X(passive_opens)       /* connections accepted (3WHS complete) */                           \
	X(connect_failures)    /* active opens that ended in RST or timeout */                      \
	X(resets_sent)                                                                             \
	X(resets_received)                                                                         \
	X(segments_in)                                                                             \
	X(segments_out)                                                                            \
	X(bytes_in)            /* payload delivered in order */                                    \
	X(bytes_out)           /* payload sent, retransmissions included */                       \
	X(retransmits)         /* segments sent again */                                            \
	X(fast_retransmits)    /* recoveries entered on duplicate ACKs or SACK */                   \
	X(lost_retransmits)    /* retransmissions found lost by later SACKs, sent again */          \
	X(timeouts)            /* RTO expirations */                                                \
	X(tlp_probes)          /* tail loss probes sent (RFC 8985 7.3) */                           \
	X(conn_timeouts)       /* connections given up after too many retransmissions */           \
	X(keepalive_timeouts)                                                                      \
	X(syncookies_sent)                                                                         \
	X(syncookies_ok)                                                                           \
	X(syncookies_failed)                                                                       \
	X(challenge_acks)      /* RFC 5961 */                                                       \
	X(ooo_segments)        /* segments queued for reassembly */                                 \
	X(rcv_mem_pressure)    /* times receive memory reached the worker's budget */               \
	X(ooo_pruned)          /* queued out-of-order segments freed for memory */                  \
	X(dup_acks_in)                                                                             \
	X(zero_window_probes)                                                                      \
	X(pmtu_updates)        /* ICMP fragmentation-needed applied */                             \
	X(icmp_unreachable)    /* connections failed by ICMP destination unreachable */            \
	X(time_wait)           /* connections that entered TIME-WAIT */                             \
	X(time_wait_overflow)  /* closed without TIME-WAIT: no record free */               \
	X(syn_resends)         /* SYNs sent again at once after an unacceptable ACK */            \
	X(ports_exhausted)     /* active opens refused: no free source port within the bound */

#define SL_TCP_DROPS(X)                                                                            \
	X(TRUNCATED, "tcp_truncated")       /* header or options beyond the datagram */        \
	X(CHECKSUM, "tcp_checksum")                                                                \
	X(BAD_FLAGS, "tcp_bad_flags")       /* SYN+FIN, no flags, SYN+RST ... */                  \
	X(NO_LISTENER, "tcp_no_listener")   /* answered with RST */                              \
	X(OUT_OF_WINDOW, "tcp_out_of_window")                                                      \
	X(PAWS, "tcp_paws")                 /* old timestamp (RFC 7323) */                       \
	X(BAD_ACK, "tcp_bad_ack")           /* acknowledges what we never sent */                \
	X(OOO_FULL, "tcp_ooo_full")         /* reassembly queue at its bound */                  \
	X(RCV_MEM, "tcp_rcv_mem")           /* payload refused: receive memory budget spent */   \
	X(CONN_LIMIT, "tcp_conn_limit")     /* dataplane.tcp.max_connections reached */          \
	X(SYN_BACKLOG, "tcp_syn_backlog")   /* SYN dropped: backlog full and cookies refused */  \
	X(BAD_COOKIE, "tcp_bad_cookie")     /* ACK to a listener with an invalid SYN cookie */   \
	X(NO_MBUF, "tcp_no_mbuf")           /* pool exhausted building a segment */              \
	X(HANDOFF_FULL, "tcp_handoff_full") /* owner worker's ring full */

enum sl_tcp_drop {
#define SL_TCP_DROP_ENUM(id, name) SL_TCP_DROP_##id,
	SL_TCP_DROPS(SL_TCP_DROP_ENUM)
#undef SL_TCP_DROP_ENUM
	SL_TCP_DROP_MAX
};

struct sl_tcp_stats {
#define SL_TCP_COUNTER_FIELD(name) uint64_t name;
	SL_TCP_COUNTERS(SL_TCP_COUNTER_FIELD)
#undef SL_TCP_COUNTER_FIELD
	uint64_t conns;          /* gauge: connections (TCBs) in the table */
	uint64_t conns_established; /* gauge */
	uint64_t conns_time_wait;   /* gauge: TIME-WAIT records (not TCBs, not in conns) */
	uint64_t rcv_mem;        /* gauge: bytes of mbufs held by receive buffers (truesize) */
	uint64_t drops[SL_TCP_DROP_MAX];
} __attribute__((aligned(64)));

const char *sl_tcp_drop_name(enum sl_tcp_drop reason);
extern const char *const sl_tcp_counter_names[];
extern const unsigned int sl_tcp_n_counters;
/* dst += src with relaxed loads of src; gauges are summed too. */
void sl_tcp_stats_add(struct sl_tcp_stats *dst, const struct sl_tcp_stats *src);

#endif
