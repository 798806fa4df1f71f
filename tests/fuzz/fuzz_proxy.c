/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the proxy sessions (dataplane/proxy/session.c and proxy.c, compiled
 * into this program as they are): the TCP stack under them is replaced by a model of its API
 * (tcp.h) that delivers what the input says, in the order a worker would: client connections
 * opened, client and backend bytes in arbitrary pieces, FINs, resets, connects that succeed or
 * fail, send space that runs out and comes back, and time (the session timers on a real wheel).
 *
 * The snapshot is built from one configuration (a service on port 80 with a plain location, a
 * rewrite, a redirect and a location whose backend is a second one; one on port 8081; a TLS
 * service on 8443 with http_redirect, whose plain port 8080 also answers the ACME challenge
 * /.well-known/acme-challenge/tok; short
 * timeouts; max_body), EAL once (no PCI, no hugepages, one lcore).
 *
 * Checked: no sanitizer finding; the session never consumes more bytes than it was given, never
 * sends on a handle it released or after its shutdown, and no callback reaches a released
 * handle (the model's slots are poisoned); every byte sent to a backend is a sequence of
 * well-formed requests (the request parser, with room for the added fields, until an
 * upgrade): a malformed or smuggled request never gets through. After each input every
 * connection the session still holds dies (error), time runs until no timer is left, and then
 * nothing may remain: no connection open, every mbuf, session, backend connection and head
 * buffer back in its pool.
 *
 * The TLS services (443, and 8443 with its plain port) use a certificate made at start; on
 * 443 the harness's own client (OpenSSL over memory BIOs) shakes hands through the session and
 * sends template requests in records delivered whole, truncated, with a bit flipped or
 * followed by the input's bytes, so the record layer (px_tls.c) meets garbage and truncated
 * records; its states must all be back in their pool too.
 *
 * An https backend (location /s/, 198.18.0.14:8443, verify off) is answered by the harness's
 * own TLS server on the connection (memory BIOs): what the session sends is decrypted and
 * checked as requests like any backend's bytes, and the server's records (its handshake, a
 * template response, whole, truncated or damaged) reach the session when the input says;
 * raw input bytes and plain templates on that connection meet the client side of px_tls.c.
 *
 * Input: records of one op byte and its arguments (see run_input); a data record either takes
 * its bytes from the input or a template (a valid request or response) so the fuzzer reaches
 * the exchange quickly. Run: build-fuzz/tests/fuzz/fuzz_proxy -dict=tests/fuzz/http.dict
 * scratch/ tests/fuzz/corpus/proxy
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "controlplane/tls_ctx.h"
#include "dataplane/proxy/acme_chal.h"
#include "dataplane/net/tcp/tcp.h"
#include "dataplane/proxy/proxy_private.h"
#include "dataplane/worker.h"
#include "lib/http/http.h"
#include "lib/timer/timer_wheel.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_SIZE 1023
#define MAX_CONNS 24
#define CHECK_HEAD 65536
#define IP4(a, b, c, d) RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (c) << 8 | (d))

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_proxy: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* ---- the model of the stack ---- */

struct sl_tcp_conn {
	bool used;	/* slot taken: the session may hold the handle */
	bool released;	/* the session closed or aborted it (or the handle died) */
	bool backend;	/* opened by sl_tcp_connect_opts */
	bool connected; /* backend: `connected` delivered */
	bool peer_fin, shut, want_w;
	const struct sl_tcp_ops *ops;
	void *user;
	uint32_t unconsumed; /* delivered and not yet consumed */
	uint32_t space;	     /* send space left */
	uint16_t lport, rport;
	uint32_t laddr, raddr;
	/* backend: what the session sent, checked as requests */
	struct sl_http_parser check;
	bool check_off;
};

static struct sl_tcp_conn conns[MAX_CONNS];
/* The harness's TLS client on a client connection to the TLS service (memory BIOs), or NULL:
 * what the session sends on that connection goes into its read BIO. */
static SSL *cli_ssl[MAX_CONNS];
static SSL_CTX *cli_ctx;
/* The harness's TLS server on a connection to the https backend (memory BIOs), or NULL. */
static SSL *srv_ssl[MAX_CONNS];
static SSL_CTX *srv_ctx;
static struct sl_tls_tickets *tickets;
static char cert_path[64], key_path[64];
static const struct sl_tcp_ops *listen_ops[8];
static void *listen_arg[8];
static uint16_t listen_port[8];
static uint32_t listen_addr[8];
static unsigned int n_listen;
static struct sl_timer_wheel wheel;
static uint64_t now_ms;
static struct rte_mempool *pool;
static struct sl_worker worker;
static struct sl_proxy *proxy;
static struct sl_config *cfg;
static unsigned int pool_avail0;
/* FUZZ_PROXY_TRACE=1: per input, the requests the backends got and the bytes clients got. */
static bool trace;
static unsigned long n_backend_requests, n_client_bytes;
static const struct sl_http_limits check_limits = {
    .max_line = CHECK_HEAD, .max_head = CHECK_HEAD, .max_headers = 10000, .max_body = 0};

static struct sl_tcp_conn *
live(struct sl_tcp_conn *c, const char *what)
{
	if (c < conns || c >= conns + MAX_CONNS || !c->used)
		fail("%s on a handle that is not a connection", what);
	if (c->released)
		fail("%s on a handle the session released", what);
	return c;
}

int
sl_tcp_listen_addr(struct sl_worker *w, uint32_t addr, uint16_t port, const struct sl_tcp_ops *ops,
		   void *arg)
{
	(void)w;
	if (n_listen == RTE_DIM(listen_ops))
		return -ENOSPC;
	listen_ops[n_listen] = ops;
	listen_arg[n_listen] = arg;
	listen_addr[n_listen] = addr;
	listen_port[n_listen++] = port;
	return 0;
}

void *
sl_tcp_user(const struct sl_tcp_conn *c)
{
	return c->user;
}

void
sl_tcp_set_user(struct sl_tcp_conn *c, void *user)
{
	live(c, "set_user")->user = user;
}

void
sl_tcp_endpoints(const struct sl_tcp_conn *c, uint32_t *laddr, uint16_t *lport, uint32_t *raddr,
		 uint16_t *rport)
{
	*laddr = c->laddr;
	*lport = rte_cpu_to_be_16(c->lport);
	*raddr = c->raddr;
	*rport = rte_cpu_to_be_16(c->rport);
}

struct rte_mempool *
sl_tcp_pool(const struct sl_tcp_conn *c)
{
	(void)c;
	return pool;
}

unsigned int
sl_tcp_port_index(const struct sl_tcp_conn *c)
{
	(void)c;
	return 0;
}

/* A backend's byte stream must parse as requests. */
static void
check_backend_piece(struct sl_tcp_conn *c, const char *p, size_t len)
{
	while (len > 0 && !c->check_off) {
		struct sl_http_result r;
		enum sl_http_event ev = sl_http_parse(&c->check, p, len, &r);

		if (ev == SL_HTTP_ERROR)
			fail("a backend got a malformed request (%u %s)", c->check.status,
			     c->check.reason ? c->check.reason : "");
		if (ev == SL_HTTP_HEAD)
			n_backend_requests++;
		if (ev == SL_HTTP_HEAD && (c->check.head.flags & SL_HTTP_F_UPGRADE))
			c->check_off = true; /* raw bytes may follow a 101 */
		if (ev == SL_HTTP_DONE)
			sl_http_parser_next(&c->check);
		else if (ev == SL_HTTP_NEED_MORE || ev == SL_HTTP_UPGRADE)
			break; /* the piece is consumed */
		p += r.consumed;
		len -= r.consumed;
	}
}

static void
check_backend_bytes(struct sl_tcp_conn *c, const struct rte_mbuf *m)
{
	for (const struct rte_mbuf *s = m; s != NULL && !c->check_off; s = s->next)
		check_backend_piece(c, rte_pktmbuf_mtod(s, const char *), s->data_len);
}

/* Ciphertext the session sent to the https backend: the harness's server reads it (its
 * handshake answers wait in its write BIO) and the plaintext is checked as requests. */
static void
tls_backend_in(struct sl_tcp_conn *c, const struct rte_mbuf *m)
{
	static char buf[1 << 16];
	SSL *ssl = srv_ssl[c - conns];
	int n;

	for (const struct rte_mbuf *s = m; s != NULL; s = s->next)
		BIO_write(SSL_get_rbio(ssl), rte_pktmbuf_mtod(s, const void *), s->data_len);
	if (!SSL_is_init_finished(ssl))
		SSL_do_handshake(ssl);
	while (SSL_is_init_finished(ssl) && (n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		check_backend_piece(c, buf, (size_t)n);
	ERR_clear_error();
}

int
sl_tcp_send(struct sl_tcp_conn *c, struct rte_mbuf *m)
{
	live(c, "send");
	if (c->shut)
		fail("send after shutdown");
	if (c->backend && !c->connected)
		fail("send on a backend connection before it connected");
	if (m->pkt_len > c->space) {
		c->want_w = true;
		return -EAGAIN;
	}
	c->space -= m->pkt_len;
	if (srv_ssl[c - conns] != NULL)
		tls_backend_in(c, m);
	else if (c->backend)
		check_backend_bytes(c, m);
	else
		n_client_bytes += m->pkt_len;
	if (cli_ssl[c - conns] != NULL)
		for (const struct rte_mbuf *s = m; s != NULL; s = s->next)
			BIO_write(SSL_get_rbio(cli_ssl[c - conns]), rte_pktmbuf_mtod(s, const void *),
				  s->data_len);
	rte_pktmbuf_free(m);
	return 0;
}

uint32_t
sl_tcp_send_space(const struct sl_tcp_conn *c)
{
	return c->space;
}

void
sl_tcp_want_writable(struct sl_tcp_conn *c)
{
	live(c, "want_writable")->want_w = true;
}

void
sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t len)
{
	live(c, "consumed");
	if (len > c->unconsumed)
		fail("consumed %u bytes, %u were delivered and not consumed", len, c->unconsumed);
	c->unconsumed -= len;
}

void
sl_tcp_cork(struct sl_tcp_conn *c, bool on)
{
	(void)on;
	live(c, "cork");
}

void
sl_tcp_cork_hold(struct sl_tcp_conn *c, uint32_t us)
{
	(void)us;
	live(c, "cork_hold");
}

bool
sl_tcp_peer_done(const struct sl_tcp_conn *c)
{
	return c->peer_fin;
}

void
sl_tcp_shutdown(struct sl_tcp_conn *c)
{
	live(c, "shutdown")->shut = true;
}

static void
release(struct sl_tcp_conn *c, const char *what)
{
	live(c, what)->released = true;
}

void
sl_tcp_close(struct sl_tcp_conn *c)
{
	release(c, "close");
}

void
sl_tcp_close_linger(struct sl_tcp_conn *c, uint32_t ms)
{
	(void)ms;
	release(c, "close_linger");
}

void
sl_tcp_abort(struct sl_tcp_conn *c)
{
	release(c, "abort");
}

static struct sl_tcp_conn *
conn_new(void)
{
	for (unsigned int i = 0; i < MAX_CONNS; i++)
		if (!conns[i].used) {
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].used = true;
			conns[i].space = 1 << 20;
			return &conns[i];
		}
	return NULL;
}

struct sl_tcp_conn *
sl_tcp_connect_opts(struct sl_worker *w, uint32_t raddr, uint16_t rport,
		    const struct sl_tcp_connect_opts *opts, const struct sl_tcp_ops *ops, void *user,
		    int *err)
{
	struct sl_tcp_conn *c = conn_new();

	(void)w;
	(void)opts;
	if (c == NULL) {
		*err = -EMFILE;
		return NULL;
	}
	c->backend = true;
	c->ops = ops;
	c->user = user;
	c->raddr = raddr;
	c->rport = rte_be_to_cpu_16(rport);
	c->laddr = IP4(198, 18, 0, 2);
	c->lport = 40000;
	sl_http_parser_init(&c->check, SL_HTTP_REQUEST, &check_limits, SL_HTTP_M_OTHER);
	if (c->rport == 8443) { /* the https backend: the harness's TLS server answers */
		SSL *ssl = SSL_new(srv_ctx);

		if (ssl == NULL)
			fail("backend SSL_new");
		SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
		SSL_set_accept_state(ssl);
		srv_ssl[c - conns] = ssl;
	}
	return c;
}

void
sl_tcp_timer_init(struct sl_timer *t, sl_timer_fn fn)
{
	sl_timer_init(t, fn);
}

void
sl_tcp_timer_arm(struct sl_worker *w, struct sl_timer *t, uint64_t after_ms)
{
	(void)w;
	sl_timer_arm(&wheel, t, now_ms + after_ms);
}

void
sl_tcp_timer_cancel(struct sl_timer *t)
{
	sl_timer_cancel(t);
}

uint64_t
sl_tcp_clock_us(const struct sl_worker *w)
{
	(void)w;
	return now_ms * 1000u;
}

bool
sl_tcp_timer_armed(const struct sl_timer *t)
{
	return sl_timer_armed(t);
}

/* Slots the session released, or whose handle died, go back to the model. */
static void
reap(void)
{
	for (unsigned int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].released) {
			memset(&conns[i], 0x5a, sizeof(conns[i]));
			conns[i].used = false;
			SSL_free(cli_ssl[i]);
			cli_ssl[i] = NULL;
			SSL_free(srv_ssl[i]);
			srv_ssl[i] = NULL;
		}
}

/* ---- events ---- */

static void
ev_error(struct sl_tcp_conn *c, int err)
{
	const struct sl_tcp_ops *ops = c->ops;

	c->released = true; /* the handle dies with the callback */
	ops->error(c, err);
}

static void
ev_data(struct sl_tcp_conn *c, const uint8_t *p, size_t len, uint8_t cut)
{
	struct rte_mbuf *head = NULL;
	size_t off = 0;

	if (c->peer_fin || len == 0)
		return;
	/* pieces of 1 + cut bytes, at most one mbuf each: the session sees chains */
	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		size_t n = RTE_MIN(len - off, (size_t)cut + 1);

		if (m == NULL)
			break;
		n = RTE_MIN(n, (size_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), p + off, n);
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		off += n;
	}
	if (head == NULL)
		return;
	c->unconsumed += head->pkt_len;
	c->ops->readable(c, head, head->pkt_len);
}

static const char *const req_templates[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /rw/x?q=1 HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n",
    "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    "GET /old/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /ws/ HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "GET /b/ HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
    "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nxyz",
    "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "GET /s/x HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /s/p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
};
static const char *const resp_templates[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\n\r\nclose-delimited",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
};

static void
clock_to(uint64_t ms)
{
	now_ms = ms;
	sl_timer_wheel_advance(&wheel, now_ms);
}

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t
take8(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* The n-th used, unreleased connection of a kind (client or backend), or NULL. */
static struct sl_tcp_conn *
pick(bool backend, uint8_t n)
{
	unsigned int count = 0, k;

	for (unsigned int i = 0; i < MAX_CONNS; i++)
		count += conns[i].used && !conns[i].released && conns[i].backend == backend;
	if (count == 0)
		return NULL;
	k = n % count;
	for (unsigned int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && !conns[i].released && conns[i].backend == backend && k-- == 0)
			return &conns[i];
	return NULL;
}

/* A client connection to listener arg % n_listen; it, or NULL (no slot, or refused). */
static struct sl_tcp_conn *
op_open(uint8_t arg)
{
	unsigned int l = arg % n_listen;
	struct sl_tcp_conn *c = conn_new();

	if (c == NULL)
		return NULL;
	c->ops = listen_ops[l];
	c->user = listen_arg[l];
	c->lport = listen_port[l];
	c->laddr = listen_addr[l] ? listen_addr[l] : IP4(198, 18, 0, 2);
	c->raddr = IP4(198, 18, 0, 1 + (arg >> 4));
	c->rport = (uint16_t)(50000 + (c - conns));
	if (c->ops->accepted(c) != 0) {
		c->released = true; /* refused: the stack frees it */
		return NULL;
	}
	return c;
}

/* ---- TLS: the harness's client over a connection to the TLS service (port 443) ---- */

/* What the client wrote, out of its write BIO into buf (at most cap bytes). */
static size_t
tls_out(SSL *ssl, uint8_t *buf, size_t cap)
{
	int n = BIO_read(SSL_get_wbio(ssl), buf, (int)cap);

	return n > 0 ? (size_t)n : 0;
}

/* Let the client run (handshake, read what came) and deliver what it writes, a few rounds. */
static void
tls_flow(struct sl_tcp_conn *c, uint8_t cut)
{
	static uint8_t buf[1 << 16];
	SSL *ssl = cli_ssl[c - conns];

	for (int round = 0; round < 8 && ssl != NULL && !c->released; round++) {
		size_t n;

		if (!SSL_is_init_finished(ssl)) {
			SSL_do_handshake(ssl);
		} else {
			while (SSL_read(ssl, buf, sizeof(buf)) > 0)
				;
		}
		ERR_clear_error();
		n = tls_out(ssl, buf, sizeof(buf));
		if (n == 0)
			break;
		ev_data(c, buf, n, cut);
	}
}

/* Open a connection to the TLS service with a client (TLS 1.2 or 1.3) and shake hands. */
static void
tls_open(uint8_t arg, uint8_t cut)
{
	struct sl_tcp_conn *c;
	unsigned int l;
	SSL *ssl;

	for (l = 0; l < n_listen && listen_port[l] != 443; l++)
		;
	if (l == n_listen || (ssl = SSL_new(cli_ctx)) == NULL)
		return;
	c = op_open((uint8_t)l); /* l % n_listen = l: the TLS listener */
	if (c == NULL) {
		SSL_free(ssl);
		return;
	}
	SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	SSL_set_connect_state(ssl);
	SSL_set_tlsext_host_name(ssl, ((arg & 2) ? "tls.example" : "other.example"));
	if (arg & 1)
		SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
	cli_ssl[c - conns] = ssl;
	tls_flow(c, cut);
}

/*
 * Records in buf[0, n) as the input says: whole (mode 0), truncated (1), with a bit flipped
 * (2), or followed by the input's bytes (3). Returns the bytes to deliver.
 */
static size_t
damage(struct input *in, uint8_t *buf, size_t n, size_t cap, unsigned int mode, uint8_t k,
       uint8_t cut)
{
	switch (mode) {
	case 1:
		return k % n;
	case 2:
		buf[k % n] ^= (uint8_t)(1u << (cut & 7));
		return n;
	case 3: {
		size_t extra = RTE_MIN((size_t)k, RTE_MIN(in->left, cap - n));

		memcpy(buf + n, in->p, extra);
		in->p += extra;
		in->left -= extra;
		return n + extra;
	}
	default:
		return n;
	}
}

/*
 * A template request through the client of a TLS connection, its records delivered whole
 * (mode 0), truncated (1), with a byte flipped (2), or followed by the input's bytes (3).
 */
static void
tls_request(struct input *in, uint8_t arg)
{
	static uint8_t buf[1 << 16];
	struct sl_tcp_conn *c = NULL;
	const char *t = req_templates[take8(in) % RTE_DIM(req_templates)];
	uint8_t k = take8(in), cut = take8(in);
	size_t n;
	SSL *ssl;

	for (unsigned int i = 0, want = arg >> 2; i < MAX_CONNS; i++)
		if (cli_ssl[i] != NULL && conns[i].used && !conns[i].released) {
			c = &conns[i];
			if (want-- == 0)
				break;
		}
	if (c == NULL || !SSL_is_init_finished(ssl = cli_ssl[c - conns]))
		return;
	if (SSL_write(ssl, t, (int)strlen(t)) <= 0) {
		ERR_clear_error();
		return;
	}
	n = tls_out(ssl, buf, sizeof(buf));
	if (n == 0)
		return;
	n = damage(in, buf, n, sizeof(buf), arg & 3, k, cut);
	if (n > 0)
		ev_data(c, buf, n, cut);
	if (!c->released)
		tls_flow(c, cut);
}

/*
 * The https backend's server: a template response written when `arg & 1` (once its handshake
 * is done), then what it wrote delivered whole (mode 0 of arg >> 1), truncated (1), with a bit
 * flipped (2), or followed by the input's bytes (3).
 */
static void
tls_backend_out(struct input *in, uint8_t arg)
{
	static uint8_t buf[1 << 16];
	struct sl_tcp_conn *c = NULL;
	uint8_t k = take8(in), cut = take8(in);
	size_t n;
	SSL *ssl;

	for (unsigned int i = 0, want = arg >> 3; i < MAX_CONNS; i++)
		if (srv_ssl[i] != NULL && conns[i].used && !conns[i].released && conns[i].connected) {
			c = &conns[i];
			if (want-- == 0)
				break;
		}
	if (c == NULL)
		return;
	ssl = srv_ssl[c - conns];
	if ((arg & 1) && SSL_is_init_finished(ssl)) {
		const char *t = resp_templates[k % RTE_DIM(resp_templates)];

		if (SSL_write(ssl, t, (int)strlen(t)) <= 0)
			ERR_clear_error();
	}
	n = tls_out(ssl, buf, sizeof(buf));
	if (n == 0)
		return;
	n = damage(in, buf, n, sizeof(buf), (arg >> 1) & 3, k, cut);
	if (n > 0)
		ev_data(c, buf, n, cut);
}

static void
run_input(struct input *in)
{
	while (in->left > 0) {
		uint8_t op = take8(in), a = take8(in);
		struct sl_tcp_conn *c;

		switch (op % 12) {
		case 0:
			op_open(a);
			break;
		case 1: /* client bytes from the input */
		case 2: /* backend bytes from the input */
		{
			size_t n = RTE_MIN((size_t)take8(in) * 4 + 1, in->left);

			c = pick(op % 12 == 2, a);
			if (c != NULL && (!c->backend || c->connected))
				ev_data(c, in->p, n, take8(in));
			in->p += RTE_MIN(n, in->left);
			in->left -= RTE_MIN(n, in->left);
			break;
		}
		case 3: /* a template request or response */
		{
			bool be = a & 1;
			const char *t = be ? resp_templates[(a >> 1) % RTE_DIM(resp_templates)]
					   : req_templates[(a >> 1) % RTE_DIM(req_templates)];

			c = pick(be, take8(in));
			if (c != NULL && (!c->backend || c->connected))
				ev_data(c, (const uint8_t *)t, strlen(t), take8(in));
			break;
		}
		case 4: /* FIN */
			c = pick(a & 1, a >> 1);
			if (c != NULL && !c->peer_fin && (!c->backend || c->connected)) {
				c->peer_fin = true;
				c->ops->peer_closed(c);
			}
			break;
		case 5: /* a backend connects */
			c = pick(true, a);
			if (c != NULL && !c->connected) {
				c->connected = true;
				c->ops->connected(c);
			}
			break;
		case 6: /* a connection dies */
		{
			static const int errs[] = {-ECONNRESET, -ECONNREFUSED, -ETIMEDOUT,
						   -EHOSTUNREACH};

			c = pick(a & 1, a >> 3);
			if (c != NULL)
				ev_error(c, errs[(a >> 1) & 3]);
			break;
		}
		case 7: /* both directions closed after our shutdown */
			c = pick(a & 1, a >> 1);
			if (c != NULL && c->shut && c->peer_fin) {
				c->released = true;
				c->ops->closed(c);
			}
			break;
		case 8: /* time passes */
			clock_to(now_ms + (a < 200 ? a : (uint64_t)(a - 199) * 500));
			break;
		case 9: /* send space runs out, or comes back */
			c = pick(a & 1, a >> 2);
			if (c == NULL)
				break;
			if (a & 2) {
				c->space = 0;
			} else {
				c->space = 1 << 20;
				if (c->want_w) {
					c->want_w = false;
					if (c->ops->writable != NULL &&
					    (!c->backend || c->connected))
						c->ops->writable(c);
				}
			}
			break;
		case 11: /* TLS: a handshake, or a request in records whole, cut or damaged; or
			  * the https backend's records */
			if (a & 0x80)
				tls_request(in, a & 0x7f);
			else if (a & 0x40)
				tls_backend_out(in, a & 0x3f);
			else
				tls_open(a, take8(in));
			break;
		default: /* a valid request on a new connection, the usual start */
			op_open(a);
			c = pick(false, 255);
			if (c != NULL) {
				const char *t = req_templates[a % RTE_DIM(req_templates)];

				ev_data(c, (const uint8_t *)t, strlen(t), 255);
			}
			break;
		}
		reap();
	}
}

/* Everything the session still holds dies; time runs out; nothing may be left. */
static void
finish_input(void)
{
	for (int round = 0; round < 4; round++) {
		for (unsigned int i = 0; i < MAX_CONNS; i++) {
			reap();
			if (conns[i].used && !conns[i].released)
				ev_error(&conns[i], -ECONNRESET);
		}
		reap();
		for (int k = 0; k < 100 && sl_timer_wheel_next_hint(&wheel) != UINT64_MAX; k++) {
			clock_to(RTE_MAX(sl_timer_wheel_next_hint(&wheel), now_ms + 1));
			reap();
		}
	}
	for (unsigned int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			fail("connection %u still open after the input", i);
	if (sl_timer_wheel_next_hint(&wheel) != UINT64_MAX)
		fail("a timer is still armed");
	struct sl_proxy_worker *px = worker.proxy;

	if (rte_mempool_full(px->sessions) == 0 || rte_mempool_full(px->sconns) == 0 ||
	    rte_mempool_full(px->heads) == 0 || rte_mempool_full(px->tlss) == 0)
		fail("sessions %u/%u, backend connections %u/%u, heads %u/%u, TLS states %u/%u back "
		     "in their pools",
		     rte_mempool_avail_count(px->sessions), px->sessions->size,
		     rte_mempool_avail_count(px->sconns), px->sconns->size,
		     rte_mempool_avail_count(px->heads), px->heads->size,
		     rte_mempool_avail_count(px->tlss), px->tlss->size);
	if (rte_mempool_avail_count(pool) != pool_avail0)
		fail("%u mbufs lost", pool_avail0 - rte_mempool_avail_count(pool));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	n_backend_requests = n_client_bytes = 0;
	run_input(&in);
	finish_input();
	if (trace)
		fprintf(stderr, "fuzz_proxy: %lu requests to backends, %lu bytes to clients\n",
			n_backend_requests, n_client_bytes);
	return 0;
}

static const char config_yaml[] = "timeouts: {client_header: 2s, client_keepalive: 5s,"
				  " backend_connect: 1s, backend_response: 3s}\n"
				  "limits: {max_body: 64k, max_header_size: 2k}\n"
				  "dataplane: {tcp: {max_connections: 64}}\n"
				  "services:\n"
				  "  - name: web\n"
				  "    port: 80\n"
				  "    locations:\n"
				  "      - path: /\n"
				  "        backends: [{url: http://198.18.0.11:8080},"
				  " {url: http://198.18.0.12:8080}]\n"
				  "      - path: /rw/\n"
				  "        rewrite: /v1/\n"
				  "        backends: [{url: http://198.18.0.11:8080}]\n"
				  "      - path: /old/\n"
				  "        redirect: /new/\n"
				  "        backends: [{url: http://198.18.0.11:8080}]\n"
				  "      - path: /b/\n"
				  "        lb_policy: least_connections\n"
				  "        connection_pool: {max_idle: 1, idle_timeout: 2s}\n"
				  "        backends: [{url: http://198.18.0.13:8080}]\n"
				  "      - path: /s/\n"
				  "        backend_tls: {verify: false}\n"
				  "        backends: [{url: https://198.18.0.14:8443}]\n"
				  "  - name: other\n"
				  "    port: 8081\n"
				  "    locations:\n"
				  "      - path: /only/\n"
				  "        backends: [{url: http://198.18.0.13:8080}]\n"
				  "  - name: sec\n"
				  "    host: sec.test\n"
				  "    port: 8443\n"
				  "    http_port: 8080\n"
				  "    tls: {cert_file: CERT, key_file: KEY}\n" /* make_cert's */
				  "    locations:\n"
				  "      - path: /\n"
				  "        http_redirect: true\n"
				  "        backends: [{url: http://198.18.0.13:8080}]\n"
				  "      - path: /in/\n"
				  "        backends: [{url: http://198.18.0.13:8080}]\n";

/* A self-signed ECDSA P-256 certificate for tls.example into cert_path / key_path. */
static void
make_cert(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	FILE *f;

	if (pk == NULL || x == NULL)
		fail("cannot make a key");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"tls.example", -1,
				   -1, 0);
	X509_set_issuer_name(x, nm);
	if (X509_sign(x, pk, EVP_sha256()) <= 0)
		fail("cannot sign the certificate");
	snprintf(cert_path, sizeof(cert_path), "/tmp/sl-fuzzpx-%d.pem", (int)getpid());
	snprintf(key_path, sizeof(key_path), "/tmp/sl-fuzzpx-%d.key", (int)getpid());
	if ((f = fopen(cert_path, "w")) == NULL || !PEM_write_X509(f, x) || fclose(f) != 0 ||
	    (f = fopen(key_path, "w")) == NULL ||
	    !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
		fail("cannot write %s / %s", cert_path, key_path);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
cleanup(void)
{
	for (unsigned int i = 0; i < MAX_CONNS; i++) {
		SSL_free(cli_ssl[i]);
		SSL_free(srv_ssl[i]);
	}
	SSL_CTX_free(cli_ctx);
	SSL_CTX_free(srv_ctx);
	sl_proxy_worker_stop(&worker);
	sl_proxy_free(proxy);
	sl_tls_tickets_free(tickets);
	unlink(cert_path);
	unlink(key_path);
	sl_config_free(cfg);
	sl_acme_chal_clear();
	rte_mempool_free(pool);
	rte_eal_cleanup();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64], lcore[16], err[256] = "", yaml[sizeof(config_yaml) + 1024];
	char *eal_argv[] = {"fuzz_proxy", "--no-pci",	    "--no-huge",   "-m",
			    "256",	  "--no-telemetry", "--no-shconf", "-l",
			    lcore,	  "--file-prefix",  prefix,	   "--log-level=*:error",
			    NULL};
	struct sl_config_error cerr;
	cpu_set_t cpus;
	int cpu = 0;

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_PROXY_TRACE") != NULL;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &cpus))
			cpu++;
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	snprintf(prefix, sizeof(prefix), "sl-fuzzpx-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv) - 1, eal_argv) < 0)
		fail("EAL init failed: %s", rte_strerror(rte_errno));
	rmdir(rte_eal_get_runtime_dir()); /* --no-shconf: nothing in it */
	/* No per-lcore cache: the available count is exact. */
	pool = rte_pktmbuf_pool_create("sl_fuzz_px", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		fail("mbuf pool: %s", rte_strerror(rte_errno));
	pool_avail0 = rte_mempool_avail_count(pool);
	/* A TLS service on port 443 with a certificate made here (the record layer, px_tls.c). */
	make_cert();
	snprintf(yaml, sizeof(yaml),
		 "%s  - name: secure\n"
		 "    port: 443\n"
		 "    tls: {cert_file: %s, key_file: %s}\n"
		 "    locations:\n"
		 "      - path: /\n"
		 "        backends: [{url: http://198.18.0.12:8080}]\n",
		 config_yaml, cert_path, key_path);
	{
		/* CERT and KEY in config_yaml: the same pair (one SSL_CTX for both services) */
		char *at, rest[sizeof(yaml)];

		if ((at = strstr(yaml, "{cert_file: CERT, key_file: KEY}")) == NULL)
			fail("config_yaml has no CERT placeholder");
		snprintf(rest, sizeof(rest), "%s", at + strlen("{cert_file: CERT, key_file: KEY}"));
		snprintf(at, sizeof(yaml) - (size_t)(at - yaml), "{cert_file: %s, key_file: %s}%s",
			 cert_path, key_path, rest);
	}
	if (sl_config_load_buffer("fuzz.yaml", yaml, strlen(yaml), &cfg, &cerr) != 0)
		fail("configuration: line %d: %s", cerr.line, cerr.msg);
	if (sl_proxy_create(cfg, 1, &proxy, err, sizeof(err)) != 0)
		fail("sl_proxy_create: %s", err);
	/* an ACME challenge the plain port 8080 answers (px_plain.c) */
	if (sl_acme_chal_set(NULL, "tok", "tok.ka") != 0)
		fail("sl_acme_chal_set");
	if (sl_tls_tickets_create(&tickets) != 0 ||
	    sl_proxy_tls_build(proxy, tickets, err, sizeof(err)) != 0)
		fail("TLS: %s", err);
	cli_ctx = SSL_CTX_new(TLS_client_method());
	if (cli_ctx == NULL)
		fail("client SSL_CTX");
	SSL_CTX_set_verify(cli_ctx, SSL_VERIFY_NONE, NULL);
	srv_ctx = SSL_CTX_new(TLS_server_method());
	if (srv_ctx == NULL || SSL_CTX_use_certificate_file(srv_ctx, cert_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(srv_ctx, key_path, SSL_FILETYPE_PEM) != 1)
		fail("backend server SSL_CTX");
	sl_timer_wheel_init(&wheel, now_ms);
	worker.id = 0;
	worker.lcore = rte_lcore_id();
	worker.n_workers = 1;
	worker.pool = pool;
	worker.tsc_per_us = 1000;
	if (sl_proxy_worker_start(proxy, &worker, err, sizeof(err)) != 0)
		fail("sl_proxy_worker_start: %s", err);
	atexit(cleanup);
	return 0;
}
