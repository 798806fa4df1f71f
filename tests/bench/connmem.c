/* SPDX-License-Identifier: MIT */
/*
 * sl-bench-connmem: how much memory sluice reserves per TCP connection slot.
 *
 * Calls sluice's own sl_tcp_worker_create() (linked from the dataplane
 * library, so nothing is re-derived here) for two values of
 * dataplane.tcp.max_connections and reads the DPDK heap's allocated bytes
 * around each call: the difference divided by the difference in slots is what
 * one more connection slot costs (the connection mempool, the rte_hash
 * connection table and its key store and free-slot ring). Also prints
 * sizeof(struct sl_tcp_conn), the mempool's per-object size, what one mbuf of sluice's
 * pool takes (data room, struct rte_mbuf and mempool header) and the TSC rate.
 *
 * EAL runs with --no-pci --no-huge --no-shconf --no-telemetry and no device: it touches no
 * NIC. EAL still makes a runtime directory for FILE_PREFIX, which the caller removes.
 *
 * usage: sl-bench-connmem [MAX_CONNECTIONS [FILE_PREFIX]]
 *        (defaults: 65536, the configuration's default, and sl-bench-connmem-<pid>)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/net/tcp/tcp_conn.h"
#include "dataplane/net/tcp/tcp_worker.h"
#include "dataplane/worker.h"

static size_t
heap_allocated(void)
{
	size_t total = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats s;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0)
			total += s.heap_allocsz_bytes;
	}
	return total;
}

/* The worker's mbuf pool: the TCP worker sizes its receive memory from it (made once, before
 * any measurement, so it is not counted). */
static struct rte_mempool *mbuf_pool;

/* Heap bytes that one TCP worker state with max_conn slots takes, or 0 on failure. */
static size_t
worker_bytes(unsigned int id, uint32_t max_conn)
{
	struct sl_config_tcp cfg = {
	    .max_connections = max_conn,
	    .syn_backlog = 1024,
	    .time_wait_ms = 2000,
	    .rcvbuf = 262144,
	    .sndbuf = 262144,
	    .keepalive_ms = 60000,
	    .rto_min_ms = 200,
	    .delayed_ack_ms = 40,
	};
	struct sl_worker w;
	struct sl_tcp_worker *tw;
	char err[256];
	size_t before, after;

	memset(&w, 0, sizeof(w));
	w.id = id;
	w.pool = mbuf_pool;
	w.n_workers = 1;
	before = heap_allocated();
	tw = sl_tcp_worker_create(&w, &cfg, (int)rte_socket_id(), err, sizeof(err));
	if (tw == NULL) {
		fprintf(stderr, "sl-bench-connmem: %s\n", err);
		return 0;
	}
	after = heap_allocated();
	sl_tcp_worker_free(tw);
	return after - before;
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = {"sl-bench-connmem",
		       "--no-pci",
		       "--no-huge",
		       "-m",
		       "512",
		       "--no-shconf",
		       "--no-telemetry",
		       prefix,
		       "--log-level=lib.*:error",
		       "-l",
		       "0"};
	uint32_t hi = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 65536, lo = 64;
	struct rte_mempool_objsz objsz, mbufsz;
	size_t b_lo, b_hi;

	if (argc > 2)
		snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[2]);
	else
		snprintf(prefix, sizeof(prefix), "--file-prefix=sl-bench-connmem-%d",
			 (int)getpid());
	if (hi <= lo) {
		fprintf(stderr, "usage: sl-bench-connmem [MAX_CONNECTIONS > %u [FILE_PREFIX]]\n",
			lo);
		return 2;
	}
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "sl-bench-connmem: EAL initialisation failed\n");
		return 1;
	}
	rte_mempool_calc_obj_size(sizeof(struct sl_tcp_conn), 0, &objsz);
	/* As rte_pktmbuf_pool_create() in dataplane.c sizes them (no private area). */
	rte_mempool_calc_obj_size(sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, 0, &mbufsz);
	mbuf_pool = rte_pktmbuf_pool_create("sl_connmem_mb", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    (int)rte_socket_id());
	if (mbuf_pool == NULL) {
		fprintf(stderr, "sl-bench-connmem: no mbuf pool\n");
		rte_eal_cleanup();
		return 1;
	}
	b_lo = worker_bytes(0, lo);
	b_hi = worker_bytes(1, hi);
	if (b_lo == 0 || b_hi == 0) {
		rte_eal_cleanup();
		return 1;
	}
	printf("sizeof_conn=%zu mempool_obj=%u slot_bytes=%.1f max_connections=%u "
	       "total_bytes=%zu mbuf_bytes=%u tsc_hz=%llu\n",
	       sizeof(struct sl_tcp_conn), objsz.total_size,
	       (double)(b_hi - b_lo) / (double)(hi - lo), hi, b_hi, mbufsz.total_size,
	       (unsigned long long)rte_get_tsc_hz());
	rte_eal_cleanup();
	return 0;
}
