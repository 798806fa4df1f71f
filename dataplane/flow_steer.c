/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_thash.h>

#include "flow_steer.h"
#include "log.h"
#include "net/tcp/tcp_worker.h"
#include "port.h"

#define RSS_KEY_MAX 64

/* 0x6d5a repeated: a Toeplitz key whose hash is the same for a tuple and its reverse. */
static void
symmetric_key(uint8_t *key, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		key[i] = (i & 1) ? 0x5a : 0x6d;
}

static bool
key_is_symmetric(const uint8_t *key)
{
	/* Sample tuple, both directions, in the layout rte_softrss expects. */
	uint32_t fwd[3] = {0xc6120001, 0xc6120002, (40000u << 16) | 80u};
	uint32_t rev[3] = {0xc6120002, 0xc6120001, (80u << 16) | 40000u};

	return rte_softrss(fwd, 3, key) == rte_softrss(rev, 3, key);
}

static bool
rss_setup(struct sl_port *p)
{
	struct rte_eth_dev_info info;
	struct rte_eth_rss_conf conf;
	uint8_t key[RSS_KEY_MAX], got[RSS_KEY_MAX];

	if (rte_eth_dev_info_get(p->port_id, &info) != 0 || info.hash_key_size == 0 ||
	    info.hash_key_size > RSS_KEY_MAX)
		return false;
	symmetric_key(key, info.hash_key_size);
	memset(&conf, 0, sizeof(conf));
	conf.rss_key = key;
	conf.rss_key_len = info.hash_key_size;
	conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
	if (rte_eth_dev_rss_hash_update(p->port_id, &conf) != 0)
		return false;
	/* Read back what the device uses: trust, but verify. */
	memset(&conf, 0, sizeof(conf));
	conf.rss_key = got;
	conf.rss_key_len = info.hash_key_size;
	if (rte_eth_dev_rss_hash_conf_get(p->port_id, &conf) != 0)
		return false;
	return key_is_symmetric(got);
}

static struct rte_flow *
flow_create(uint16_t port_id, uint32_t priority, uint16_t dport_spec, uint16_t dport_mask,
	    const struct rte_flow_action *action, struct rte_flow_error *err)
{
	struct rte_flow_attr attr = {.ingress = 1, .priority = priority};
	struct rte_flow_item_tcp tcp_spec = {.hdr.dst_port = rte_cpu_to_be_16(dport_spec)};
	struct rte_flow_item_tcp tcp_mask = {.hdr.dst_port = rte_cpu_to_be_16(dport_mask)};
	struct rte_flow_item pattern[] = {
		{.type = RTE_FLOW_ITEM_TYPE_ETH},
		{.type = RTE_FLOW_ITEM_TYPE_IPV4},
		{.type = RTE_FLOW_ITEM_TYPE_TCP, .spec = &tcp_spec, .mask = &tcp_mask},
		{.type = RTE_FLOW_ITEM_TYPE_END},
	};
	struct rte_flow_action actions[] = {*action, {.type = RTE_FLOW_ACTION_TYPE_END}};

	if (rte_flow_validate(port_id, &attr, pattern, actions, err) != 0)
		return NULL;
	return rte_flow_create(port_id, &attr, pattern, actions, err);
}

static bool
flow_rules_setup(struct sl_port *p, uint16_t n_queues, const uint16_t *listen_ports,
		 unsigned int n_listen)
{
	uint16_t queues[RTE_MAX_QUEUES_PER_PORT];
	struct rte_flow_action_rss rss = {
		.types = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP,
		.queue_num = n_queues,
		.queue = queues,
	};
	struct rte_flow_action to_rss = {.type = RTE_FLOW_ACTION_TYPE_RSS, .conf = &rss};
	struct rte_flow_error err;
	uint16_t mask = (uint16_t)(rte_align32pow2(n_queues) - 1);

	for (uint16_t q = 0; q < n_queues; q++)
		queues[q] = q;
	for (unsigned int i = 0; i < n_listen; i++) {
		if (flow_create(p->port_id, 0, listen_ports[i], 0xffff, &to_rss, &err) == NULL)
			goto refused;
	}
	for (uint16_t v = 0; v <= mask; v++) {
		struct rte_flow_action_queue qa = {.index = (uint16_t)sl_tcp_port_owner(v, n_queues)};
		struct rte_flow_action to_queue = {.type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &qa};

		if (flow_create(p->port_id, 1, v, mask, &to_queue, &err) == NULL)
			goto refused;
	}
	return true;

refused:
	SL_LOG(INFO, "port %s: no rte_flow steering (%s); workers hand packets over in software",
	       p->cfg->name, err.message ? err.message : "refused");
	rte_flow_flush(p->port_id, &err);
	return false;
}

bool
sl_flow_steer_setup(struct sl_port *p, uint16_t n_queues, const uint16_t *listen_ports,
		    unsigned int n_listen)
{
	bool rss, rules;

	struct rte_eth_dev_info info;

	if (n_queues < 2)
		return true;
	/*
	 * The TAP PMD disables its flow support when the kernel lacks the multiq
	 * qdisc, and then crashes inside rte_flow_validate: do not ask it.
	 */
	if (rte_eth_dev_info_get(p->port_id, &info) == 0 && strcmp(info.driver_name, "net_tap") == 0) {
		SL_LOG(INFO, "port %s: TAP cannot steer flows; workers hand packets over in software",
		       p->cfg->name);
		return false;
	}
	rss = rss_setup(p);
	SL_LOG(INFO, "port %s: %s", p->cfg->name,
	       rss ? "symmetric RSS key set and verified"
		   : "RSS key not settable or not symmetric; flows may cross queues");
	rules = flow_rules_setup(p, n_queues, listen_ports, n_listen);
	return rss && rules;
}
