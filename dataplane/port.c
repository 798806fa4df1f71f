/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "lib/stats/net_stats.h"
#include "log.h"
#include "port.h"

#define RX_DESC 1024
#define TX_DESC 1024

static void
list_devices(char *buf, size_t len)
{
	uint16_t pid;
	size_t off = 0;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid) {
		char name[RTE_ETH_NAME_MAX_LEN];

		if (rte_eth_dev_get_name_by_port(pid, name) == 0 && off < len)
			off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", name);
	}
	if (off == 0)
		snprintf(buf, len, "none (give EAL a --vdev or -a)");
}

/*
 * Whether a driver's TX TCP checksum offload sums a chained packet right.
 * The TAP PMD (DPDK 22.11, drivers/net/tap/rte_eth_tap.c) completes the sum
 * in software segment by segment with __rte_raw_cksum and never swaps the
 * bytes of a segment that starts at an odd offset of the message: any chain
 * with an odd-length piece before the last leaves with a wrong checksum (a
 * peer that sends odd-sized segments makes such pieces; found with a raw
 * peer after a zero window, issue 6). Such a port gets single-segment
 * packets offloaded only; the stack sums chains itself.
 */
static bool
port_l4_cksum_chained(const char *driver)
{
	static const char *const broken[] = {"net_tap"};

	for (unsigned int i = 0; i < RTE_DIM(broken); i++)
		if (driver != NULL && strcmp(driver, broken[i]) == 0)
			return false;
	return true;
}

int
sl_port_setup(struct sl_port *p, const struct sl_config_port *cfg, uint16_t n_queues,
	      struct rte_mempool *pool, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	int rc;

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	if (rte_eth_dev_get_port_by_name(cfg->device, &p->port_id) != 0) {
		char devs[256];

		list_devices(devs, sizeof(devs));
		snprintf(err, errlen, "port '%s': no device named '%s'; devices: %s", cfg->name,
			 cfg->device, devs);
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0)
		goto fail;
	if (info.max_rx_queues < n_queues || info.max_tx_queues < n_queues) {
		snprintf(err, errlen, "port '%s': %u workers need %u queue pairs, device has %u/%u",
			 cfg->name, n_queues, n_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = cfg->mtu;
	if (n_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
	}
	/* TCP segments are a header mbuf followed by references to the data. */
	if (!(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
		snprintf(err, errlen, "port '%s' (%s): the device cannot send chained mbufs",
			 cfg->name, cfg->device);
		return -ENOTSUP;
	}
	conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->tx_ip_cksum = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->tx_tcp_cksum = true;
		p->tx_l4_cksum_chained = port_l4_cksum_chained(info.driver_name);
	}
	/*
	 * A packet is a header mbuf and a reference per piece of data: a chain
	 * longer than the device takes is copied (tcp_output.c). nb_mtu_seg_max
	 * bounds a non-TSO packet, nb_seg_max any packet; ethdev reports
	 * UINT16_MAX for a PMD that sets neither.
	 */
	p->tx_seg_max = RTE_MIN(info.tx_desc_lim.nb_seg_max, info.tx_desc_lim.nb_mtu_seg_max);
	if (p->tx_seg_max == 0 || p->tx_seg_max == UINT16_MAX)
		p->tx_seg_max = 0;
	else if (p->tx_seg_max < 2) {
		snprintf(err, errlen,
			 "port '%s' (%s): the device takes %u mbuf(s) per packet; TCP needs 2",
			 cfg->name, cfg->device, p->tx_seg_max);
		return -ENOTSUP;
	}
	if ((info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) ==
	    (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		p->rx_cksum = true;
	}

	rc = rte_eth_dev_configure(p->port_id, n_queues, n_queues, &conf);
	if (rc != 0)
		goto fail;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		goto fail;
	for (uint16_t q = 0; q < n_queues; q++) {
		int socket = rte_eth_dev_socket_id(p->port_id);

		rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, socket, NULL, pool);
		if (rc != 0)
			goto fail;
		rc = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, socket, NULL);
		if (rc != 0)
			goto fail;
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		goto fail;
	p->started = true;
	rte_eth_macaddr_get(p->port_id, &p->mac);

	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	SL_LOG(INFO, "port %s (%s, %s): %u queue pair(s), mtu %u, mac %s, offloads:%s%s%s%s, "
	       "tx segments per packet: %u (0: no limit)",
	       cfg->name, cfg->device, info.driver_name, n_queues, cfg->mtu, mac,
	       p->tx_ip_cksum ? " tx-ip-cksum" : "", p->tx_tcp_cksum ? " tx-tcp-cksum" : "",
	       p->tx_tcp_cksum && !p->tx_l4_cksum_chained ? " (single-segment only)" : "",
	       p->rx_cksum ? " rx-cksum" : "", p->tx_seg_max);
	sl_port_check_link(p);
	return 0;

fail:
	snprintf(err, errlen, "port '%s' (%s): %s", cfg->name, cfg->device, rte_strerror(-rc));
	if (p->started)
		rte_eth_dev_stop(p->port_id);
	return rc < 0 ? rc : -EIO;
}

void
sl_port_check_link(struct sl_port *p)
{
	struct rte_eth_link link;
	bool up;

	if (!p->started || rte_eth_link_get_nowait(p->port_id, &link) != 0)
		return;
	up = link.link_status == RTE_ETH_LINK_UP;
	if (p->link_known && up == p->link_up)
		return;
	if (up)
		SL_LOG(INFO, "port %s: link up, %u Mbps, %s-duplex", p->cfg->name, link.link_speed,
		       link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
	else
		SL_LOG(INFO, "port %s: link down", p->cfg->name);
	p->link_known = true;
	p->link_up = up;
}

int
sl_port_dev_stats(uint16_t port_id, struct sl_port_dev_stats *out)
{
	struct rte_eth_stats s;
	int rc = rte_eth_stats_get(port_id, &s);

	if (rc != 0)
		return rc;
	out->imissed = s.imissed;
	out->ierrors = s.ierrors;
	out->rx_nombuf = s.rx_nombuf;
	out->oerrors = s.oerrors;
	return 0;
}

void
sl_port_close(struct sl_port *p)
{
	if (!p->started)
		return;
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	p->started = false;
	SL_LOG(INFO, "port %s: stopped", p->cfg->name);
}
