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

/* Listen on our address(es), TCP port `port` (host order), on this worker. */
int sl_tcp_listen(struct sl_worker *w, uint16_t port, const struct sl_tcp_ops *ops, void *arg);

/*
 * Open a connection to raddr:rport (network order) from port `port_index`'s
 * address, choosing a source port this worker owns. Returns NULL and sets
 * *err (-EADDRNOTAVAIL, -ENOBUFS, -EMFILE at the connection limit).
 */
struct sl_tcp_conn *sl_tcp_connect(struct sl_worker *w, unsigned int port_index, uint32_t raddr,
				   uint16_t rport, const struct sl_tcp_ops *ops, void *user,
				   int *err);

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
