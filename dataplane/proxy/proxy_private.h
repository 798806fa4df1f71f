/* SPDX-License-Identifier: MIT */
#ifndef SL_PROXY_PRIVATE_H
#define SL_PROXY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "lib/accesslog/accesslog.h"
#include "lib/balance/balance.h"
#include "lib/msg/msg.h"
#include "lib/http/http.h"
#include "lib/resilience/backend_set.h"
#include "lib/resilience/health.h"
#include "lib/resilience/admission.h"
#include "lib/resilience/connlimit.h"
#include "lib/resilience/ratelimit.h"
#include "lib/resilience/retry.h"
#include "lib/route/route.h"
#include "lib/stats/req_stats.h"
#include "lib/timer/timer_wheel.h"
#include "proxy.h"
#include "px_tls.h"

struct sl_tcp_conn;

/* Sessions, backend connections and head buffers per worker (bounded by tcp.max_connections). */
#define PX_MAX_SESSIONS 4096u
#define PX_MAX_HEAD_BUFS 1024u
/* Service ports: the stack holds up to 1024 listeners per worker (tcp.h, sl_tcp_listen_addr). */
#define PX_MAX_PORTS 1024u
#define PX_LINGER_MS 2000u /* after our own reply: how long the client may take to close */
/* After a response on a connection that does not stay open: time to drain what is queued. */
#define PX_CLOSE_LINGER_MS 30000u
/* Graceful stop: an idle keep-alive client connection is closed this long after it began. */
#define PX_DRAIN_IDLE_MS 250u
/* The session's connect timer backs up the stack's connect timeout by this much. */
#define PX_CONNECT_SLACK_MS 100u
/*
 * A response head whose body has not come yet is held back this long at most
 * (sl_tcp_cork_hold), so that head and body leave in one segment when the
 * backend wrote them with two calls (nginx with sendfile: writev, then
 * sendfile). Beyond it the head goes alone.
 */
#define PX_HEAD_HOLD_US 1000u
/* Spread of health probe times around their interval (sl_probe_sched_init). */
#define PX_PROBE_JITTER_PCT 10u
/* A rewritten head: the longest head lib/http allows (limits.max_header_size) + our fields. */
#define PX_SCRATCH (SL_HTTP_HEAD_MAX + 4096u)

/* A location of the snapshot: its route entry and its shared live state. */
struct px_location {
	const struct sl_route_location *rl;
	const struct sl_config_location *cfg;
	struct sl_bal_live *live;
	unsigned int n_backends;
	unsigned int backend_base; /* global index of its first backend (stats rows) */
	uint32_t *ip;		   /* n_backends, network order */
	uint16_t *port;		   /* n_backends, network order */
	struct ssl_ctx_st *be_ctx; /* TLS client context of its https backends, or NULL */
};

/*
 * Admission (px_admit.c), shared by every worker. The rate-limit and per-IP connection tables
 * are the process's (built at start with the first snapshot, kept across reloads, freed by
 * worker 0's stop: every worker points at them); the rates, scopes and concurrency limits are
 * the snapshot's.
 */
struct px_admit {
	struct sl_rl_table *rl;		/* per-client buckets (set at start only) */
	struct sl_cl_table *conns;	/* open connections per client IP; NULL: no limit */
	struct sl_rl_params *rl_params; /* by location */
	uint32_t *rl_scope;		/* by location: bucket scope, 0 = no limit */
	struct sl_adm_shared *svc;	/* by service: concurrency limit; NULL: queue off */
};

struct sl_proxy {
	const struct sl_config *cfg;
	struct sl_config *own_cfg; /* freed with the snapshot (reloads); NULL at start */
	uint64_t generation;	   /* 1 at start, +1 per publish */
	struct px_admit adm;
	struct sl_route_table *routes;
	unsigned int n_workers;
	unsigned int n_locations, n_backends;
	struct px_location *locs; /* by route location id */
	/* Listeners: (port_addr[i], ports[i]); address 0 = every address of the port. */
	uint16_t ports[PX_MAX_PORTS];
	uint32_t port_addr[PX_MAX_PORTS]; /* network order: a service's `address`, or 0 */
	bool port_tls[PX_MAX_PORTS];	  /* its services terminate TLS (px_tls.c) */
	unsigned int n_ports;
	struct sl_tls *tls; /* the TLS contexts (sl_proxy_tls_build), or NULL: no TLS service */
	struct sl_http_limits limits;
	struct sl_retry_cfg retry;
	struct sl_balancer **protos; /* worker 0's balancers, which the others clone */
	struct px_gen *gens[SL_MAX_WORKERS]; /* each worker's part of this snapshot */
	/* `security:` and `cors:`, NULL when the section is absent (no per-request work) */
	const struct sl_http_secure *secure;
	const struct sl_http_cors *cors;
	struct sl_http_secure secure_cfg;
	struct sl_http_cors cors_cfg;
	struct sl_resil_set *resil;  /* breakers, outlier pools, slow start (lib/resilience) */
	struct px_plain *plain;	     /* TLS services' plain-HTTP ports (px_plain.c) */
	unsigned int n_plain;
};

/* A TLS service's plain-HTTP listener: http_redirect and ACME HTTP-01 (px_plain.c). */
struct px_plain {
	uint32_t addr;	   /* network order, 0 = every address */
	uint16_t port;	   /* the plain port (host order) */
	uint16_t tls_port; /* the TLS port whose services redirect from it */
};

/* One active health check a worker owns (probe.c): a backend's probe, one at a time. */
struct px_probe {
	struct sl_proxy_worker *px;
	struct px_gen *g;     /* the generation it belongs to */
	struct sl_timer timer; /* next probe while idle; the probe's timeout while running */
	struct sl_tcp_conn *c; /* the probe's connection, or NULL */
	const struct sl_config_health_check *hc;
	const struct sl_config_backend *be;
	unsigned int loc, idx, gidx;
	uint8_t port;  /* the worker's port that reaches the backend */
	uint8_t phase; /* enum in probe.c */
	uint8_t got;   /* status-line bytes in line[] */
	char line[14]; /* "HTTP/1.1 200 " */
	struct px_tls *tls; /* an https backend's probe: its TLS state, or NULL */
};

struct px_sconn;

/* One worker's pool of connections to one backend of one location. */
struct px_backend {
	struct px_sconn *idle; /* LIFO list of idle keep-alive connections */
	unsigned int n_idle;
	unsigned int n_open;
	void *tls_sess;		 /* https: the newest SSL_SESSION it gave (resumption), or NULL */
	uint64_t tls_evt_tsc;	 /* https: when a handshake failure was last reported */
};

struct px_wloc {
	struct sl_balancer *bal;
	struct px_backend *backends;
};

/*
 * One worker's part of one snapshot (a "generation"): its balancers, its backend pools and
 * its request counters. Built by the control plane, used by that worker only. A session
 * holds a reference from its request's start (keep-alive connections move to the newest
 * generation at their next request); a backend connection holds one while it lives. When
 * the worker moves to a newer generation it closes the old one's idle pooled connections and
 * marks it retired; once retired with no reference left it sets `done` (release), which the
 * control plane polls before it frees the generation (after an RCU grace period).
 */
struct px_gen {
	struct sl_proxy *p;
	struct px_wloc *locs;
	struct sl_req_stats *stats;
	struct px_probe *probes; /* the backends this worker probes (probe.c, sl_probe_owner) */
	unsigned int n_probes;
	bool probing; /* its probes run (the worker's current generation) */
	uint32_t refs;	  /* worker only */
	bool retired;	  /* worker only */
	bool done;	  /* atomic: worker -> control plane */
	/* Admission queues of the snapshot's services on this worker (px_admit.c). */
	struct sl_proxy_worker *px;
	struct sl_adm_queue *adm;  /* by service; NULL: queue off */
	struct sl_timer adm_timer; /* resumes waiters: slots freed here or elsewhere, deadlines */
};

struct sl_proxy_worker {
	struct sl_worker *w;
	struct px_gen *gen;	/* the generation new requests use (worker only) */
	struct px_gen *pending; /* atomic: the newest published generation (control -> worker) */
	struct rte_mempool *sessions, *sconns, *heads;
	struct rte_mempool *tlss; /* struct px_tls, one per TLS client connection */
	struct sl_tls_stats tls_stats; /* read by the control plane (/metrics) */
	struct sl_tls_stats be_tls_stats; /* the same, of connections to https backends */
	struct sl_retry_budget budget;
	struct sl_probe_sched sched;
	uint64_t rng;		 /* slow start's draws */
	uint64_t evt_dropped;	 /* notifications the full event ring refused */
	uint64_t tsc_per_us;
	/* Admission and graceful stop (px_admit.c). */
	struct sl_rl_table *rl;	   /* the process's tables (struct px_admit) */
	struct sl_cl_table *conns; /* NULL: no per-IP limit */
	struct sl_rl_stats rl_stats;
	struct px_session *live; /* every session of this worker */
	uint32_t n_sessions;	 /* read by the control thread */
	bool draining;		 /* SIGTERM: no new connection, close after each response */
	/* the last client address written as text (px_client_ip_text) */
	uint32_t ip_text_of;
	char ip_text[16]; /* "" until the first */
	char scratch[PX_SCRATCH];
};

/* One direction's input: bytes received and not yet given up (sl_tcp_consumed). */
struct px_dir {
	struct rte_mbuf *in; /* chain, or NULL */
	uint32_t len;	     /* bytes in `in` */
	uint32_t parsed;     /* bytes of `in` from its front already fed to the parser */
	uint32_t fwd;	     /* bytes of `in` from its front that belong to the message, unsent */
};

/*
 * The session's state (HAProxy's stream): the client connection and at most one backend
 * connection. px_run() is the only function that changes it.
 */
enum sl_session_state {
	SL_SS_IDLE,	/* keep-alive: waiting for the first byte of the next request */
	SL_SS_HEAD,	/* reading the request head (header timeout armed) */
	SL_SS_CONNECT,	/* routed and a backend picked: its connection is opening */
	SL_SS_EXCHANGE, /* request head sent; body out, response back */
	SL_SS_TUNNEL,	/* after a 101: raw bytes both ways, half-closes passed on */
	SL_SS_QUEUED,	/* routed, waiting in its service's admission queue */
};

struct px_session {
	struct sl_proxy_worker *px;
	struct px_gen *gen; /* the snapshot this session's request runs on (a reference) */
	struct sl_tcp_conn *cli;
	struct px_sconn *srv;
	enum sl_session_state state;
	struct sl_timer timer; /* the state's timeout: header, idle, connect, response */
	struct px_dir req, resp;
	struct sl_http_parser rp, sp;
	char *head;    /* head buffer (request head, then the response head), or NULL */
	uint32_t hlen; /* head bytes in it */
	struct rte_mbuf *cli_out, *srv_out; /* our own bytes (heads) waiting for send space */
	/* The request being served. */
	struct px_location *loc;
	unsigned int loc_id;
	int bidx; /* backend index in the location, -1 while none */
	struct sl_bal_req breq;
	uint32_t attempts;
	struct sl_breaker_ticket bt; /* from sl_breaker_allow, while bt_held */
	bool bt_held;
	uint64_t t0_tsc, t_sent_tsc;
	unsigned int row; /* stats row the request counts in */
	uint16_t status;
	uint16_t lport; /* host order: the service port */
	uint32_t laddr; /* network order: the address the client connected to */
	uint32_t client_ip;
	bool head_ok;		 /* the request head was parsed (a reply may keep the client) */
	bool req_done;		 /* the parser saw the request's end */
	bool resp_head;		 /* the final response head was relayed */
	bool resp_done;		 /* the parser saw the response's end */
	bool resp_started;	 /* a byte of the response went to the client */
	bool srv_eof;		 /* the backend sent FIN */
	bool cli_eof;		 /* the client sent FIN */
	bool cli_keep;		 /* keep the client connection after this exchange */
	bool json;		 /* the client prefers JSON error pages */
	bool inflight;		 /* counted in the location's live in-flight counters */
	bool reused;		 /* the backend connection came from the pool */
	bool resp_begun;	 /* a byte of the (first) response head arrived */
	bool upgrade;		 /* the request asks for an Upgrade (forwarded with it) */
	bool cli_shut, srv_shut; /* TUNNEL: FIN passed on to that side */
	bool cli_cork, srv_cork; /* corked for a head and the first body piece (sl_tcp_cork) */
	bool dechunk;	   /* chunked response to an HTTP/1.0 client: payload only, then close */
	uint64_t body_out; /* request body bytes handed to the backend connection */
	/* The access log (session_log.c). */
	struct sl_alog_rec *log; /* this request's record; NULL: the log is off or full */
	uint64_t t_first_tsc;	 /* the first response byte went to the client; 0 not yet */
	uint16_t client_port;	 /* host order */
	uint8_t err;		 /* the request's last enum sl_proxy_error + 1; 0 none */
	bool tls;		 /* the client connection is HTTPS (HSTS); set by TLS */
	struct px_tls *tlsc;	 /* its TLS state (px_tls.h); NULL: plain HTTP */
	int cors_match;		 /* the request's sl_http_cors_request origin match */
	/* Admission (px_admit.c). */
	struct px_session *next_live, **pprev_live;
	uint32_t adm_ticket;  /* in the queue: for sl_adm_cancel */
	uint32_t retry_after; /* seconds, for a 429 or 503 page; 0 = none */
	bool adm_slot;	      /* holds a slot of its service's concurrency limit */
	bool adm_wait;	      /* waiting in its service's queue */
	bool cl_counted;      /* counted in the per-IP connection table */
	bool be_tls_failed;   /* TLS with an https backend failed for this request */
};

/* A connection to a backend: in a session, or idle in its backend's pool. */
struct px_sconn {
	struct sl_tcp_conn *c;
	struct sl_proxy_worker *px;
	struct px_gen *gen; /* the snapshot whose pool it belongs to (a reference) */
	struct px_backend *be;
	unsigned int gidx;    /* global backend index (stats) */
	struct px_session *s; /* NULL while idle */
	struct px_sconn *next_idle, **pprev_idle;
	struct sl_timer idle_timer;
	struct px_tls *tls; /* an https backend's TLS state (px_tls.h), or NULL: plain */
	bool connected;	    /* TCP up, and for https the handshake done */
};

/* session.c */
extern const struct sl_tcp_ops sl_px_client_ops;
/* The worker moves from its generation to a newer one (close the old pools, mark it). */
void sl__px_gen_retire(struct sl_proxy_worker *px, struct px_gen *g);

/* session_log.c: the request's access-log record; each does nothing when s->log is NULL. */
void px_log_begin(struct px_session *s);			/* t0_tsc is set */
void px_log_request(struct px_session *s, bool head_complete); /* the head is in s->head */
void px_log_sent(struct px_session *s, uint64_t head, uint64_t body); /* bytes to the client */
void px_log_reply(struct px_session *s, const char *page, int n);     /* our own response */
void px_log_end(struct px_session *s, unsigned int status, uint64_t ns);
void px_admit_pump(struct sl_timer *t); /* adm_timer's callback */
void px_drain(struct sl_proxy_worker *px);

/* px_admit.c */
int px_admit_build(struct sl_proxy *p, char *err, size_t errlen);
void px_admit_free(struct sl_proxy *p);
/* The process's tables (worker 0 makes them from p, the others take them). */
int px_admit_worker_start(struct sl_proxy_worker *px, struct sl_proxy *p, unsigned int worker);
void px_admit_worker_stop(struct sl_proxy_worker *px, unsigned int worker);
/* A generation's queues (control thread) and their end (worker: its timer). */
int px_admit_gen_init(struct px_gen *g, unsigned int n_workers);
void px_admit_gen_fini(struct px_gen *g);
/* After routing: 0 go on, 1 queued (state QUEUED), else the status to answer (counted). */
int px_admit_request(struct px_session *s);
/* The request ends or its session goes: give back its slot or its place in the queue. */
void px_admit_leave(struct px_session *s);
/* A client connection from ip: 1 counted, 0 not counted, -ECONNREFUSED over the limit. */
int px_admit_conn(struct sl_proxy_worker *px, uint32_t ip);
void px_admit_conn_release(struct sl_proxy_worker *px, uint32_t ip);

/* session.c: a reply sluice makes with a text/plain body (text NULL: the status' page). */
bool px_reply_text(struct px_session *s, unsigned int status, const char *text);

/* px_plain.c: the plain-HTTP ports of TLS services. */
int px_plain_build(struct sl_proxy *p, char *err, size_t errlen); /* p->plain, n_plain */
/* Before routing: an ACME HTTP-01 challenge on a plain port is answered (*ret: px_reply's). */
bool px_plain_acme(struct px_session *s, bool *ret);
/* The request on a plain port goes to an http_redirect location: *m is its 308 match. */
bool px_plain_match(const struct px_session *s, const char *host, size_t host_len,
		    struct sl_route_match *m);

/* resil.c: the pick with breaker and slow start, and the verdict after the request. */
int px_resil_pick(struct px_session *s);
void px_resil_done(struct px_session *s, bool failure);
/* Post a notification about backend gidx of snapshot p on the worker's event ring (lib/msg
 * sl_evt), or count it dropped. */
void px_evt_post(struct sl_proxy_worker *px, const struct sl_proxy *p, enum sl_evt_kind kind,
		 unsigned int arg, unsigned int gidx);
/* session.c: TLS client state for connection c (user: its owner) to https backend idx of pl,
 * be its pool on this worker (the session slot it resumes with). 0, or -ENOBUFS. */
int px_be_tls_open(struct sl_proxy_worker *px, const struct px_location *pl, unsigned int idx,
		   struct px_backend *be, struct sl_tcp_conn *c, void *user, struct px_tls **out);
/* session.c: a failed handshake with https backend gidx (be: its pool on this worker) goes to
 * the control plane's log (SL_EVT_TLS_FAILED), at most once a second per backend and worker. */
void px_tls_report_fail(struct sl_proxy_worker *px, const struct sl_proxy *p,
			struct px_backend *be, const struct px_tls *t, unsigned int gidx);

/*
 * probe.c: a generation's active health checks. Allocated with the generation (control
 * thread); started on the worker when the generation becomes its current one, stopped when
 * it retires (abort: close the probes' connections; false once the loop has stopped).
 */
int px_probes_create(struct px_gen *g, unsigned int worker, int socket);
void px_probes_start(struct sl_proxy_worker *px, struct px_gen *g);
void px_probes_stop(struct px_gen *g, bool abort);
void px_probes_free(struct px_gen *g);

#endif
