/* SPDX-License-Identifier: MIT */
#ifndef SL_PORT_H
#define SL_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "lib/config/config.h"

/* One ethdev as configured: any PMD (TAP, ring, null, a PCI NIC). */
struct sl_port {
	uint16_t port_id;
	bool started;
	bool link_known;
	bool link_up;
	bool tx_ip_cksum;
	bool tx_tcp_cksum;
	bool tx_l4_cksum_chained; /* the TCP checksum offload is right for chained mbufs too */
	bool rx_cksum;
	uint16_t tx_seg_max; /* most mbufs per packet the device takes (tx_desc_lim) */
	struct rte_ether_addr mac;
	const struct sl_config_port *cfg;
};

/*
 * Find cfg->device among the ethdevs, configure one RX/TX queue pair per
 * worker, set the MTU and whatever checksum offloads the device has, start
 * it. On failure returns -errno and writes a sentence into err.
 */
int sl_port_setup(struct sl_port *p, const struct sl_config_port *cfg, uint16_t n_queues,
		  struct rte_mempool *pool, char *err, size_t errlen);
/* Log a line when the link changed since the last call (main lcore). */
void sl_port_check_link(struct sl_port *p);
/* The device's own drop counters (rte_eth_stats); for struct sl_plane_view.dev_stats. */
struct sl_port_dev_stats;
int sl_port_dev_stats(uint16_t port_id, struct sl_port_dev_stats *out);
/* Stop and close; for a TAP this removes the kernel interface. */
void sl_port_close(struct sl_port *p);

#endif
