/* SPDX-License-Identifier: MIT */
#ifndef SL_MSG_H
#define SL_MSG_H

/*
 * What the two planes share. The control plane reaches a worker only through
 * that worker's command ring (control -> worker, single producer) and hears
 * back on its event ring (worker -> control, single producer). Messages are
 * allocated by the control plane; a worker fills in a request and sends the
 * same message back, so workers never allocate.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/stats/net_stats.h"
#include "lib/stats/tcp_stats.h"

struct sl_req_stats;
struct sl_alog;
struct sl_proxy;
struct sl_bal_live;
struct sl_config;
struct sl_resil_set;
struct sl_rl_table;
struct sl_rl_stats;

#define SL_MAX_WORKERS 16
#define SL_MAX_PORTS 8
#define SL_PORT_NAME_MAX 64

struct rte_ring; /* DPDK types, used only by pointer here */
struct rte_mempool;

enum sl_msg_type {
	SL_MSG_ARP_DUMP = 1, /* worker copies its ARP tables into msg->u.arp[] */
	SL_MSG_PING = 2,     /* worker sends it back untouched but for worker/result: liveness */
};

enum sl_arp_state {
	SL_ARP_FREE = 0,
	SL_ARP_INCOMPLETE, /* request sent, packets waiting */
	SL_ARP_REACHABLE,
};

struct sl_msg_arp_entry {
	uint32_t ip; /* network byte order */
	uint8_t mac[6];
	uint8_t state; /* enum sl_arp_state */
	uint8_t port;
	uint32_t expires_in_ms;
};

struct sl_msg {
	uint32_t type;   /* enum sl_msg_type */
	uint32_t worker; /* filled by the worker */
	int32_t result;  /* 0 or -errno, filled by the worker */
	uint32_t cap;    /* capacity of the array below, set by the sender */
	uint32_t n;      /* entries filled */
	uint64_t id;     /* request id, set by the sender, echoed by the worker */
	union {
		struct sl_msg_arp_entry arp[0];
	} u;
};

/*
 * Worker -> control notifications (health probe results, breaker transitions, ejections).
 * They travel on the event ring like replies, but carried in the ring slot itself, so a
 * worker never allocates to report: bit 0 set tells them from message pointers (always
 * aligned). A worker posts one only while the ring keeps SL_CMD_RING_SIZE slots free for
 * replies (sl_evt_post in the data plane); a full ring drops the notification and counts it.
 *
 *   bits 0      1
 *   bits 1..7   kind (enum sl_evt_kind)
 *   bits 8..15  argument: enum sl_probe_result, enum sl_breaker_transition, ...
 *   bits 16..31 generation of the snapshot whose backend index this is (reload)
 *   bits 32..63 global backend index (file order)
 */
enum sl_evt_kind {
	SL_EVT_PROBE = 1,   /* arg: enum sl_probe_result */
	SL_EVT_BREAKER = 2, /* arg: enum sl_breaker_transition performed by the worker */
	SL_EVT_EJECTED = 3, /* outlier detection ejected the backend; arg 0 */
	/* A TLS handshake with an https backend failed (at most one a second per backend and
	 * worker); arg: OpenSSL's X509_V_ERR_* (1..127) for a certificate that did not verify,
	 * else 0x80 | enum sl_tls_fail. */
	SL_EVT_TLS_FAILED = 4,
};

struct sl_evt {
	enum sl_evt_kind kind;
	uint8_t arg;
	uint16_t gen;
	uint32_t backend;
};

static inline void *
sl_evt_pack(enum sl_evt_kind kind, unsigned int arg, uint16_t gen, uint32_t backend)
{
	return (void *)(uintptr_t)(1u | ((uint64_t)(kind & 0x7f) << 1) |
				   ((uint64_t)(arg & 0xff) << 8) | ((uint64_t)gen << 16) |
				   ((uint64_t)backend << 32));
}

/* Is this event-ring entry a notification (not a message pointer)? */
static inline bool
sl_evt_is(const void *slot)
{
	return ((uintptr_t)slot & 1u) != 0;
}

static inline struct sl_evt
sl_evt_unpack(const void *slot)
{
	uint64_t v = (uint64_t)(uintptr_t)slot;

	return (struct sl_evt){.kind = (enum sl_evt_kind)((v >> 1) & 0x7f),
			       .arg = (uint8_t)(v >> 8),
			       .gen = (uint16_t)(v >> 16),
			       .backend = (uint32_t)(v >> 32)};
}

_Static_assert(sizeof(void *) == 8, "notifications need 64-bit ring slots");

/*
 * The phases of a worker's poll loop, for the busy-time breakdown: receive
 * (the device's rx_burst: for af_packet the ring scan and the copy into an
 * mbuf), input (Ethernet to TCP to the proxy, and the output that makes),
 * timers (the TCP timer wheel and the layers' timers), output (corked
 * connections flushed), tx (the device's tx_burst: for af_packet the copy
 * into the ring and the sendto kick), other (peer rings, commands, ARP,
 * reaping).
 */
enum sl_worker_phase {
	SL_PHASE_RX,
	SL_PHASE_INPUT,
	SL_PHASE_TIMERS,
	SL_PHASE_OUTPUT,
	SL_PHASE_TX,
	SL_PHASE_OTHER,
	SL_PHASE_N
};
#define SL_PHASE_NAMES {"rx", "input", "timers", "output", "tx", "other"}

/* The data plane as the control plane sees it: counters to read, rings to talk on. */
struct sl_tls_stats;

struct sl_plane_view {
	unsigned int n_workers;
	unsigned int n_ports;
	char port_names[SL_MAX_PORTS][SL_PORT_NAME_MAX];
	const struct sl_net_stats *net_stats[SL_MAX_WORKERS][SL_MAX_PORTS];
	const struct sl_tcp_stats *tcp_stats[SL_MAX_WORKERS];
	const uint64_t *busy_cycles[SL_MAX_WORKERS]; /* TSC cycles in iterations that did work */
	/* The same cycles by phase of the loop (enum sl_worker_phase); they sum to busy_cycles. */
	const uint64_t *phase_cycles[SL_MAX_WORKERS];
	const struct sl_req_stats *req_stats[SL_MAX_WORKERS]; /* HTTP proxy counters; NULL: none */
	const struct sl_tls_stats *tls_stats[SL_MAX_WORKERS]; /* TLS counters; NULL: no proxy */
	const struct sl_tls_stats *be_tls_stats[SL_MAX_WORKERS]; /* to https backends */
	/* Access-log records of each worker (lib/accesslog); NULL: the log is off. The control
	 * plane's access-log thread is their only consumer. */
	struct sl_alog *alog[SL_MAX_WORKERS];
	uint64_t tsc_hz;
	uint16_t port_ids[SL_MAX_PORTS]; /* ethdev port ids, for dev_stats */
	/* The device's counters of a port (thread safe, main lcore); 0 or -errno. */
	int (*dev_stats)(uint16_t port_id, struct sl_port_dev_stats *out);
	const struct rte_mempool *pool; /* the mbuf pool, for its occupancy */
	/* The balancer's live state of a location (global index, file order): health, drain and
	 * circuit flags, in-flight counts; NULL without a proxy or past the last location. */
	const struct sl_proxy *proxy;
	const struct sl_bal_live *(*bal_live)(const struct sl_proxy *proxy, unsigned int location);
	struct rte_ring *cmd[SL_MAX_WORKERS];
	struct rte_ring *evt[SL_MAX_WORKERS];
	/*
	 * Live reconfiguration. `proxy` and `req_stats` change when a new snapshot is published:
	 * a thread other than the control thread holds `lock` for reading while it uses them
	 * (the publisher swaps them under the write lock; the old snapshot is freed later).
	 * `apply` builds and publishes a snapshot from cfg (it takes cfg on success; on failure
	 * the caller still owns it): 0, or -errno with a sentence in err. Callers serialise
	 * their calls. `generation` counts publishes (1 at start). `dp` is apply's argument.
	 */
	pthread_rwlock_t lock;
	uint64_t generation;
	const struct sl_config *cfg; /* the running snapshot's tree (names of the stats rows) */
	int (*apply)(void *dp, struct sl_config *cfg, char *err, size_t errlen);
	void *dp;
	/* Breakers, outlier pools, slow start of the proxy's backends (lib/resilience); NULL
	 * without a proxy. The control plane's backend health module ticks them. */
	struct sl_resil_set *resil;
	/* The per-client rate-limit table (lib/resilience ratelimit.h), the process's (built at
	 * start, kept across reloads); NULL without a proxy. Read-only here: its occupancy. */
	const struct sl_rl_table *rl_table;
	/* Each worker's counters of that table (inserts, evictions, untracked; the worker
	 * writes, the control plane sums with sl_rl_stats_sum); NULL without a proxy. */
	const struct sl_rl_stats *rl_stats[SL_MAX_WORKERS];
	/* Where the control thread hands the notifications it finds on event rings (set by the
	 * application; NULL: dropped). */
	void (*on_evt)(void *arg, const struct sl_evt *e);
	void *on_evt_arg;
};

const char *sl_arp_state_name(enum sl_arp_state s);

/*
 * Worker liveness, kept by the control thread (the only one that touches the rings): one
 * ping message per worker, at most one in flight, a new request id each time. A worker is
 * alive while its last answer is younger than the deadline; a ping still unanswered after
 * the deadline makes it "not answering". last_ok_ns is atomic so that other threads
 * (civetweb's /health) may read it while the control thread writes it.
 */
struct sl_msg_ping {
	struct sl_msg msg; /* first: the ring carries &ping->msg */
	uint64_t next_id;
	uint64_t sent_ns; /* when the ping in flight was sent */
	bool in_flight;
	uint64_t last_ok_ns;  /* atomic: when the last answer came (start time before any) */
	uint64_t last_rtt_ns; /* atomic */
};

/* Start the record at now_ns: a worker gets one deadline of grace before its first answer. */
void sl_msg_ping_init(struct sl_msg_ping *p, uint64_t now_ns);
/* Should a ping be sent now (none in flight, the last sent at least period_ns ago)? */
bool sl_msg_ping_due(const struct sl_msg_ping *p, uint64_t now_ns, uint64_t period_ns);
/* Fill the message for a new ping; the caller enqueues &p->msg. Returns its id. */
uint64_t sl_msg_ping_prepare(struct sl_msg_ping *p, uint64_t now_ns);
/* The enqueue failed: the ping is not in flight. */
void sl_msg_ping_unsent(struct sl_msg_ping *p);
/* A message came back on the event ring: 0 if it answers the ping in flight, -EPROTO if it
 * is this record's message with another id or type, -ENOENT if it is not this record's. */
int sl_msg_ping_answer(struct sl_msg_ping *p, const struct sl_msg *m, uint64_t now_ns);
/* Did the worker answer within deadline_ns of now (any thread)? */
bool sl_msg_ping_alive(const struct sl_msg_ping *p, uint64_t now_ns, uint64_t deadline_ns);
/* Milliseconds since the last answer (any thread). */
uint64_t sl_msg_ping_age_ms(const struct sl_msg_ping *p, uint64_t now_ns);

/*
 * A request to every worker at once (a round): the control side sends one message per worker,
 * all with the round's request id, and waits for every answer until one deadline. An answer
 * counts when it comes back on worker w's event ring with the round's id and type and
 * worker == w; anything else is refused, so a late answer to an earlier round (same message
 * memory, older id) is never taken for this one. What is missing at the deadline names the
 * workers that did not answer.
 */
struct sl_msg_round {
	unsigned int n_workers;
	uint32_t type;	   /* enum sl_msg_type */
	uint64_t id;	   /* the round's request id */
	uint32_t answered; /* bit w: worker w answered */
};

_Static_assert(SL_MAX_WORKERS <= 32, "struct sl_msg_round keeps a 32-bit mask of workers");

/* Start a round of `type` to n_workers workers with request id `id`. */
void sl_msg_round_start(struct sl_msg_round *r, unsigned int n_workers, enum sl_msg_type type,
			uint64_t id);
/* Fill worker w's message for the round (its payload, cap and the like are the caller's). */
void sl_msg_round_prepare(const struct sl_msg_round *r, struct sl_msg *m);
/* A message came back on worker w's event ring: 0 counted, -EPROTO not this round's answer
 * from w, -EALREADY w answered already. */
int sl_msg_round_answer(struct sl_msg_round *r, unsigned int w, const struct sl_msg *m);
bool sl_msg_round_complete(const struct sl_msg_round *r);
/* Bit w set: worker w has not answered. */
uint32_t sl_msg_round_missing(const struct sl_msg_round *r);
/* "worker 1, worker 3" for a report; "" when none is missing. Returns the length. */
int sl_msg_round_missing_text(const struct sl_msg_round *r, char *buf, size_t len);

#endif
