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

#include <stdint.h>

#include "lib/stats/net_stats.h"
#include "lib/stats/tcp_stats.h"

struct sl_req_stats;

#define SL_MAX_WORKERS 16
#define SL_MAX_PORTS 8
#define SL_PORT_NAME_MAX 64

struct rte_ring; /* DPDK types, used only by pointer here */
struct rte_mempool;

enum sl_msg_type {
	SL_MSG_ARP_DUMP = 1, /* worker copies its ARP tables into msg->u.arp[] */
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
	union {
		struct sl_msg_arp_entry arp[0];
	} u;
};

/* The data plane as the control plane sees it: counters to read, rings to talk on. */
struct sl_plane_view {
	unsigned int n_workers;
	unsigned int n_ports;
	char port_names[SL_MAX_PORTS][SL_PORT_NAME_MAX];
	const struct sl_net_stats *net_stats[SL_MAX_WORKERS][SL_MAX_PORTS];
	const struct sl_tcp_stats *tcp_stats[SL_MAX_WORKERS];
	const uint64_t *busy_cycles[SL_MAX_WORKERS]; /* TSC cycles in iterations that did work */
	const struct sl_req_stats *req_stats[SL_MAX_WORKERS]; /* HTTP proxy counters; NULL: none */
	uint64_t tsc_hz;
	uint16_t port_ids[SL_MAX_PORTS]; /* ethdev port ids, for dev_stats */
	/* The device's counters of a port (thread safe, main lcore); 0 or -errno. */
	int (*dev_stats)(uint16_t port_id, struct sl_port_dev_stats *out);
	const struct rte_mempool *pool; /* the mbuf pool, for its occupancy */
	struct rte_ring *cmd[SL_MAX_WORKERS];
	struct rte_ring *evt[SL_MAX_WORKERS];
};

const char *sl_arp_state_name(enum sl_arp_state s);

#endif
