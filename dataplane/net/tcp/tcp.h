/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_H
#define SL_TCP_H

/*
 * The userspace TCP stack's API to the layers above (the proxy, the test
 * services). Per worker, share-nothing, event driven: no sockets, no locks,
 * no copies, no allocation on the hot path.
 *
 * Ownership rules:
 *  - A connection handle is valid from `accepted` (passive) or the return of
 *    sl_tcp_connect (active) until the user calls sl_tcp_close/sl_tcp_abort,
 *    or until the `error` or `closed` callback returns. After either, forget the pointer:
 *    the stack finishes the close on its own and frees the connection.
 *  - `readable` hands over an mbuf chain of in-order payload: the user owns
 *    it and frees it (or passes it on to sl_tcp_send of another connection).
 *    The receive window shrinks by what was handed over until the user says
 *    it has consumed the bytes with sl_tcp_consumed: that is how a slow
 *    consumer slows the sender down.
 *  - sl_tcp_send takes ownership of the chain on success, never copies it,
 *    and keeps it until the peer has acknowledged every byte.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "lib/timer/timer_wheel.h"

struct sl_tcp_conn;
struct sl_worker;

struct sl_tcp_ops {
	/* A passive open completed. Return 0 to keep it, <0 to reset it. */
	int (*accepted)(struct sl_tcp_conn *c);
	/* An active open completed (SYN-ACK received and acknowledged). */
	void (*connected)(struct sl_tcp_conn *c);
	/* In-order payload; ownership of `data` (len bytes) passes to the user. */
	void (*readable)(struct sl_tcp_conn *c, struct rte_mbuf *data, uint32_t len);
	/* Send space became available after sl_tcp_send returned -EAGAIN. */
	void (*writable)(struct sl_tcp_conn *c);
	/* The peer sent FIN: no more data will come; we may still send. */
	void (*peer_closed)(struct sl_tcp_conn *c);
	/*
	 * Both directions are closed while the user still held the handle (it
	 * used sl_tcp_shutdown, not sl_tcp_close). The handle is gone after this.
	 */
	void (*closed)(struct sl_tcp_conn *c);
	/*
	 * The connection died: -ECONNRESET (RST received), -ECONNREFUSED (active
	 * open refused), -ETIMEDOUT (retransmissions or keepalive exhausted),
	 * -EHOSTUNREACH (ICMP). The connection is freed when this returns.
	 */
	void (*error)(struct sl_tcp_conn *c, int err);
};

/* Listen on every local address (the wildcard), TCP port `port` (host order), on this worker. */
int sl_tcp_listen(struct sl_worker *w, uint16_t port, const struct sl_tcp_ops *ops, void *arg);
/*
 * Listen on addr:port only (addr network order, a port's own address or a
 * VIP added with sl_netif_add_addr; 0 is the wildcard, as sl_tcp_listen).
 * A SYN goes to the listener of its exact destination address, else to the
 * port's wildcard listener. Up to SL_TCP_LISTENERS_MAX pairs per worker.
 * 0, -EINVAL, -EADDRINUSE (that pair is taken), -ENOSPC.
 */
int sl_tcp_listen_addr(struct sl_worker *w, uint32_t addr, uint16_t port,
		       const struct sl_tcp_ops *ops, void *arg);

/*
 * Graceful stop: every listener of this worker refuses new connections from now on (a SYN
 * gets a RST, as on a closed port); connections already open are not touched.
 */
void sl_tcp_listen_refuse(struct sl_worker *w);

/*
 * Open a connection to raddr:rport (network order) from port `port_index`'s
 * address, choosing a source port this worker owns. Returns NULL and sets
 * *err (-EADDRNOTAVAIL, -ENOBUFS, -EMFILE at the connection limit).
 */
struct sl_tcp_conn *sl_tcp_connect(struct sl_worker *w, unsigned int port_index, uint32_t raddr,
				   uint16_t rport, const struct sl_tcp_ops *ops, void *user,
				   int *err);

struct sl_tcp_connect_opts {
	unsigned int port_index; /* the worker's port (netif) to leave from */
	uint32_t laddr;          /* source address, network order; 0: the port's own */
	/* No connection this long after the call: error(-ETIMEDOUT). 0: SYN retries only. */
	uint32_t connect_timeout_ms;
	/*
	 * RFC 5482 user timeout, kept locally (not sent as an option): data
	 * sent and not acknowledged for this long aborts the connection with
	 * error(-ETIMEDOUT) (time since snd_una last moved, or since data
	 * left with nothing in flight). 0: the retransmission limit only.
	 * sl_tcp_set_user_timeout sets it on any connection.
	 */
	uint32_t user_timeout_ms;
};

/*
 * sl_tcp_connect with a chosen source address (one of the port's, see
 * sl_netif_add_addr: else -EADDRNOTAVAIL) and timeouts. NULL and *err as
 * sl_tcp_connect.
 */
struct sl_tcp_conn *sl_tcp_connect_opts(struct sl_worker *w, uint32_t raddr, uint16_t rport,
					const struct sl_tcp_connect_opts *opts,
					const struct sl_tcp_ops *ops, void *user, int *err);
void sl_tcp_set_user_timeout(struct sl_tcp_conn *c, uint32_t ms);

/* Queue a chain for sending. 0, or -EAGAIN when the send buffer is full, -EPIPE after shutdown. */
int sl_tcp_send(struct sl_tcp_conn *c, struct rte_mbuf *data);
/* Bytes that sl_tcp_send would accept now. */
uint32_t sl_tcp_send_space(const struct sl_tcp_conn *c);
/* The user is done with `len` bytes handed over by `readable`: reopen the window. */
void sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t len);
/* Half-close: send FIN after the queued data; we can still receive. */
void sl_tcp_shutdown(struct sl_tcp_conn *c);
/* Full close (FIN after queued data); the handle is gone when this returns. */
void sl_tcp_close(struct sl_tcp_conn *c);
/* Reset now and discard queued data; the handle is gone when this returns. */
void sl_tcp_abort(struct sl_tcp_conn *c);
/*
 * Lingering close, for a server that answers and stops reading (an error
 * response before the request body ended): the handle is gone when this
 * returns; what the user held from `readable` counts as consumed; input from
 * now on is acknowledged and discarded, never answered with a reset; the
 * queued data goes out, then FIN. The connection ends normally when both
 * sides have closed (our FIN acknowledged, the peer's FIN received), and is
 * reset if that has not happened within timeout_ms (0: 60 s), so a peer
 * that keeps sending cannot hold it. sl_tcp_close resets at once when
 * unread data is queued, which loses the response the peer is waiting for.
 */
void sl_tcp_close_linger(struct sl_tcp_conn *c, uint32_t timeout_ms);
/*
 * Cork: while on, a segment shorter than the MSS waits for the end of the
 * poll iteration (sl_tcp_flush), so that a head sent with one sl_tcp_send and
 * the body with the next leave as full segments, not a short PSH segment
 * first. Full segments go at once. Turning it off sends what waits now.
 */
void sl_tcp_cork(struct sl_tcp_conn *c, bool on);
/*
 * Cork, and keep a short segment back past the end of the poll iteration too,
 * for at most us microseconds (then sl_tcp_flush sends it): for a head whose
 * body is known to follow but has not arrived yet (the backend wrote them with
 * two calls), so that both leave in one segment, as Linux's MSG_MORE does.
 * sl_tcp_cork(c, false) ends it and sends at once; a queued FIN is not held.
 */
void sl_tcp_cork_hold(struct sl_tcp_conn *c, uint32_t us);

/* What sl_tcp_info reports. */
struct sl_tcp_info {
	const char *state;       /* RFC 9293 name: "ESTABLISHED", ... */
	uint32_t srtt_us;        /* smoothed RTT (RFC 6298), µs; 0: no sample yet */
	uint32_t rttvar_us;
	uint32_t rto_ms;
	uint32_t mss;            /* payload per segment we send */
	uint32_t cwnd, ssthresh; /* bytes */
	uint32_t snd_wnd;        /* the peer's window, bytes */
	uint32_t unacked;        /* bytes in flight */
	uint32_t send_queued;    /* bytes queued, sent or not, not yet acknowledged */
	uint64_t bytes_acked;    /* of ours, acknowledged by the peer */
	uint64_t bytes_received; /* in order from the peer */
	uint32_t retransmits;    /* segments sent again (RTO, fast retransmit, SACK, SYN) */
};
void sl_tcp_info(const struct sl_tcp_conn *c, struct sl_tcp_info *info);

/*
 * Timers for the layers above (request and idle timeouts), on the worker's
 * own wheel: embed a struct sl_timer, sl_tcp_timer_init it once with its
 * callback (sl_container_of gets back to the embedding struct), arm it in
 * ms. Callbacks run in the worker's poll loop with the stack's timers
 * (sl_tcp_poll), after the iteration's received segments; they may call
 * anything here, close connections and re-arm themselves. One worker only:
 * never arm a timer on another worker's wheel. Cancel a timer before freeing
 * the struct that holds it. The clock is the stack's, refreshed once per
 * poll iteration (1 ms resolution for timers).
 */
void sl_tcp_timer_init(struct sl_timer *t, sl_timer_fn fn);
/* Fire after_ms from now (an armed timer is moved). */
void sl_tcp_timer_arm(struct sl_worker *w, struct sl_timer *t, uint64_t after_ms);
/* Fire at the stack clock's expire_ms (see sl_tcp_clock_ms); a past time fires at the next poll. */
void sl_tcp_timer_arm_at(struct sl_worker *w, struct sl_timer *t, uint64_t expire_ms);
/* Disarm; harmless when not armed. */
void sl_tcp_timer_cancel(struct sl_timer *t);
bool sl_tcp_timer_armed(const struct sl_timer *t);
/* The worker's clock: ms (what timers use) and µs. Only differences mean anything. */
uint64_t sl_tcp_clock_ms(const struct sl_worker *w);
uint64_t sl_tcp_clock_us(const struct sl_worker *w);

/* Call `writable` when space frees up, even if no send has failed yet. */
void sl_tcp_want_writable(struct sl_tcp_conn *c);
/* The peer has closed its direction (its FIN arrived). */
bool sl_tcp_peer_done(const struct sl_tcp_conn *c);
/* The worker that owns the connection, and the index of its port in that worker. */
struct sl_worker *sl_tcp_worker_of(const struct sl_tcp_conn *c);
unsigned int sl_tcp_port_index(const struct sl_tcp_conn *c);
/* The worker's mbuf pool, for building data to send. */
struct rte_mempool *sl_tcp_pool(const struct sl_tcp_conn *c);

void *sl_tcp_user(const struct sl_tcp_conn *c);
void sl_tcp_set_user(struct sl_tcp_conn *c, void *user);
/* Addresses and ports in network byte order. */
void sl_tcp_endpoints(const struct sl_tcp_conn *c, uint32_t *laddr, uint16_t *lport,
		      uint32_t *raddr, uint16_t *rport);

#endif
