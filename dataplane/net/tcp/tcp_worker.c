/* SPDX-License-Identifier: MIT */
/* A worker's TCP state: its table, its connection pool, its timer wheel, its secret. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "dataplane/pool_poison.h"
#include "dataplane/worker.h"
#include "tcp_conn.h"
#include "tcp_rcvmem.h"
#include "tcp_worker.h"

/*
 * The secret behind ISNs and SYN cookies: one for the process, drawn from the
 * kernel once at start (never on a worker's hot path) and copied into every
 * worker. All workers must agree: a cookie one worker issued may come back to
 * another, and the ISNs of successive incarnations of a 4-tuple must increase
 * whichever worker owns them. Written before any worker starts, read only after.
 */
static struct sl_tcp_secret tcp_secret;
static bool tcp_secret_ready;

static int
tcp_secret_draw(void)
{
	uint8_t seed[SL_SIPHASH_KEY_LEN];
	size_t got = 0;

	while (got < sizeof(seed)) {
		ssize_t n = getrandom(seed + got, sizeof(seed) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	sl_tcp_secret_init(&tcp_secret, seed);
	tcp_secret_ready = true;
	return 0;
}

int
sl_tcp_global_init(void)
{
	int rc = tcp_secret_draw();

	if (rc != 0)
		return rc;
	return sl_tcp_reass_register();
}

const struct sl_tcp_secret *
sl_tcp_global_secret(void)
{
	return tcp_secret_ready ? &tcp_secret : NULL;
}

struct sl_tcp_worker *
sl_tcp_worker_create(struct sl_worker *w, const struct sl_config_tcp *cfg, int socket, char *err,
		     size_t errlen)
{
	struct sl_tcp_worker *tw;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_hash_parameters hp = {
		.key_len = sizeof(struct sl_tcp_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* One writer and reader (the worker): no locks; the extendable table never refuses. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	RTE_BUILD_BUG_ON(sizeof(struct sl_tcp_key) != 12);
	tw = rte_zmalloc_socket("sl_tcp_worker", sizeof(*tw), RTE_CACHE_LINE_SIZE, socket);
	if (tw == NULL) {
		snprintf(err, errlen, "worker %u: no memory for TCP state", w->id);
		return NULL;
	}
	tw->w = w;
	tw->cfg = cfg;
	snprintf(name, sizeof(name), "sl_tcpt_%u", w->id);
	hp.name = name;
	hp.entries = RTE_MAX(cfg->max_connections, 64u);
	tw->table = rte_hash_create(&hp);
	if (tw->table == NULL) {
		snprintf(err, errlen, "worker %u: cannot create a table of %u connections: %s",
			 w->id, cfg->max_connections, rte_strerror(rte_errno));
		goto fail;
	}
	snprintf(name, sizeof(name), "sl_tcpc_%u", w->id);
	tw->conn_pool = rte_mempool_create(name, cfg->max_connections, sizeof(struct sl_tcp_conn),
					   0, 0, NULL, NULL, NULL, NULL, socket,
					   RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (tw->conn_pool == NULL) {
		snprintf(err, errlen,
			 "worker %u: cannot reserve memory for %u connections (%zu bytes each): %s; "
			 "lower dataplane.tcp.max_connections",
			 w->id, cfg->max_connections, sizeof(struct sl_tcp_conn),
			 rte_strerror(rte_errno));
		goto fail;
	}
	sl_pool_poison_all(tw->conn_pool);
	if (sl_tcp_tw_init(tw, socket, err, errlen) != 0)
		goto fail;
	snprintf(name, sizeof(name), "sl_tcpl_%u", w->id);
	hp.name = name;
	hp.entries = SL_TCP_LISTENERS_MAX;
	hp.key_len = sizeof(struct sl_tcp_listen_key);
	tw->listen_table = rte_hash_create(&hp);
	if (tw->listen_table == NULL) {
		snprintf(err, errlen, "worker %u: cannot create the listener table: %s", w->id,
			 rte_strerror(rte_errno));
		goto fail;
	}
	/* Programs that create a worker without sl_tcp_global_init (benchmarks) draw it here. */
	if (!tcp_secret_ready && tcp_secret_draw() != 0) {
		snprintf(err, errlen, "worker %u: getrandom failed: %s", w->id, strerror(errno));
		goto fail;
	}
	tw->secret = tcp_secret;
	/*
	 * Our TSval clock starts at a random point, per worker and per start: it
	 * grows for every 4-tuple within a run (one worker owns each source port)
	 * and says nothing about uptime. A peer's TIME-WAIT from before a restart
	 * may remember a larger one; tcp_input.c (SYN-SENT) deals with that.
	 */
	tw->ts_offset = (uint32_t)rte_rand();
	tw->now_us = rte_rdtsc() / (rte_get_tsc_hz() / 1000000);
	/* RFC 6056 3.3.4: the counters start at random values. */
	for (unsigned int i = 0; i < SL_TCP_PORT_TABLE; i++)
		tw->port_perturb[i] = (uint32_t)rte_rand();
	sl_timer_wheel_init(&tw->wheel, sl_tcp_now_ms(tw));
	sl_tcp_rcvmem_init(tw);
	return tw;

fail:
	sl_tcp_worker_free(tw);
	return NULL;
}

void
sl_tcp_worker_free(struct sl_tcp_worker *tw)
{
	const void *key;
	void *data;
	uint32_t next = 0;

	if (tw == NULL)
		return;
	/* Connections still open at shutdown: free their queued data. */
	if (tw->table != NULL) {
		while (rte_hash_iterate(tw->table, &key, &data, &next) >= 0) {
			struct sl_tcp_conn *c = data;

			rte_pktmbuf_free(c->sq_head);
			sl_tcp_ooo_purge(c);
		}
		rte_hash_free(tw->table);
	}
	sl_pool_unpoison_all(tw->conn_pool);
	rte_mempool_free(tw->conn_pool);
	rte_hash_free(tw->listen_table);
	sl_tcp_tw_fini(tw);
	rte_free(tw);
}

unsigned int
sl_tcp_listener_ports(const struct sl_tcp_worker *tw, uint16_t *ports, unsigned int max)
{
	unsigned int n = 0;

	/* Each port once, however many addresses listen on it: the heads of the lists. */
	for (unsigned int p = 1; p < RTE_DIM(tw->listen_head) && n < max; p++)
		if (tw->listen_head[p] != 0)
			ports[n++] = rte_be_to_cpu_16((uint16_t)p);
	return n;
}

const struct sl_tcp_stats *
sl_tcp_worker_stats(const struct sl_tcp_worker *tw)
{
	return &tw->stats;
}

void
sl_tcp_clock(struct sl_tcp_worker *tw, uint64_t now_us)
{
	tw->now_us = now_us;
}

void
sl_tcp_poll(struct sl_tcp_worker *tw, uint64_t now_us)
{
	tw->now_us = now_us;
	sl_tcp_rcvmem_tick(tw);
	sl_timer_wheel_advance(&tw->wheel, now_us / 1000);
}
