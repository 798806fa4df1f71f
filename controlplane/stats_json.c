/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_mempool.h>

#include "lib/resilience/ratelimit.h"
#include "lib/stats/counter.h"
#include "lib/stats/req_stats.h"
#include "lib/stats/tls_stats.h"
#include "ring_client.h"
#include "stats_json.h"

#define ARP_DUMP_CAP 1024
#define CALL_TIMEOUT_MS 1000

/* The device's own counters: frames lost before any worker saw them. */
static json_t *
dev_json(const struct sl_plane_view *v, unsigned int port)
{
	struct sl_port_dev_stats d;
	json_t *o = json_object();

	memset(&d, 0, sizeof(d));
	if (v->dev_stats != NULL)
		v->dev_stats(v->port_ids[port], &d);
#define SL_PORT_DEV_JSON(name) json_object_set_new(o, #name, json_integer((json_int_t)d.name));
	SL_PORT_DEV_COUNTERS(SL_PORT_DEV_JSON)
#undef SL_PORT_DEV_JSON
	return o;
}

static json_t *
port_json(const struct sl_plane_view *v, unsigned int port)
{
	struct sl_net_stats sum;
	json_t *o = json_object(), *drops = json_object();

	memset(&sum, 0, sizeof(sum));
	for (unsigned int w = 0; w < v->n_workers; w++)
		sl_net_stats_add(&sum, v->net_stats[w][port]);
	json_object_set_new(o, "name", json_string(v->port_names[port]));
	for (unsigned int i = 0; i < sl_net_stats_n_fields; i++) {
		const uint64_t *f = (const uint64_t *)((const char *)&sum +
						       sl_net_stats_fields[i].offset);

		json_object_set_new(o, sl_net_stats_fields[i].name, json_integer((json_int_t)*f));
	}
	for (unsigned int r = 0; r < SL_NET_DROP_MAX; r++)
		json_object_set_new(drops, sl_net_drop_name(r), json_integer((json_int_t)sum.drops[r]));
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "device", dev_json(v, port));
	return o;
}

/*
 * Every worker's ARP table, asked of all workers at once (one round, one deadline). A worker
 * that does not answer in time is named in "not_answering" and keeps its message.
 */
static void
arp_json(const struct sl_plane_view *v, json_t *root)
{
	const size_t size = sizeof(struct sl_msg) + ARP_DUMP_CAP * sizeof(struct sl_msg_arp_entry);
	struct sl_msg *msgs[SL_MAX_WORKERS] = {NULL};
	struct sl_msg_round round;
	json_t *a = json_array();
	uint32_t held = 0;
	char missing[256];

	json_object_set_new(root, "arp", a);
	for (unsigned int w = 0; w < v->n_workers; w++) {
		msgs[w] = calloc(1, size);
		if (msgs[w] == NULL)
			goto out;
		msgs[w]->cap = ARP_DUMP_CAP;
	}
	if (sl_cp_call_all(v, msgs, SL_MSG_ARP_DUMP, CALL_TIMEOUT_MS, &round, &held) != 0 &&
	    sl_msg_round_missing_text(&round, missing, sizeof(missing)) > 0)
		json_object_set_new(root, "not_answering", json_string(missing));
	for (unsigned int w = 0; w < v->n_workers; w++) {
		const struct sl_msg *msg = msgs[w];

		if (!(round.answered & (1u << w)))
			continue;
		for (uint32_t i = 0; i < msg->n && i < msg->cap; i++) {
			const struct sl_msg_arp_entry *e = &msg->u.arp[i];
			char ip[INET_ADDRSTRLEN], mac[18];
			json_t *o = json_object();

			inet_ntop(AF_INET, &e->ip, ip, sizeof(ip));
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0],
				 e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
			json_object_set_new(o, "worker", json_integer(w));
			json_object_set_new(o, "port", json_string(v->port_names[e->port]));
			json_object_set_new(o, "ip", json_string(ip));
			json_object_set_new(o, "mac", json_string(mac));
			json_object_set_new(o, "state", json_string(sl_arp_state_name(e->state)));
			json_object_set_new(o, "expires_in_ms", json_integer(e->expires_in_ms));
			json_array_append_new(a, o);
		}
	}
out:
	for (unsigned int w = 0; w < v->n_workers; w++)
		if (!(held & (1u << w))) /* a worker still holding its message may write to it */
			free(msgs[w]);
}

static json_t *
tcp_json(const struct sl_plane_view *v)
{
	struct sl_tcp_stats sum;
	json_t *o = json_object(), *drops = json_object();
	const uint64_t *f = (const uint64_t *)&sum;

	memset(&sum, 0, sizeof(sum));
	for (unsigned int w = 0; w < v->n_workers; w++)
		sl_tcp_stats_add(&sum, v->tcp_stats[w]);
	for (unsigned int i = 0; i < sl_tcp_n_counters; i++)
		json_object_set_new(o, sl_tcp_counter_names[i], json_integer((json_int_t)f[i]));
	json_object_set_new(o, "conns", json_integer((json_int_t)sum.conns));
	json_object_set_new(o, "conns_established", json_integer((json_int_t)sum.conns_established));
	json_object_set_new(o, "conns_time_wait", json_integer((json_int_t)sum.conns_time_wait));
	json_object_set_new(o, "rcv_mem", json_integer((json_int_t)sum.rcv_mem));
	for (unsigned int r = 0; r < SL_TCP_DROP_MAX; r++)
		json_object_set_new(drops, sl_tcp_drop_name(r), json_integer((json_int_t)sum.drops[r]));
	json_object_set_new(o, "drops", drops);
	return o;
}

/* A worker's TLS counters (clients, or https backends with their verify failures). */
static json_t *
tls_json(const struct sl_tls_stats *t, bool be)
{
	json_t *tls = json_object();
	uint64_t failed = 0;

	for (unsigned int r = 0; r < SL_TLS_FAIL_N; r++)
		failed += sl_counter_read(&t->failed[r]);
	json_object_set_new(tls, "handshakes",
			    json_integer((json_int_t)sl_counter_read(&t->handshakes)));
	json_object_set_new(tls, "resumed", json_integer((json_int_t)sl_counter_read(&t->resumed)));
	json_object_set_new(tls, "failed", json_integer((json_int_t)failed));
	if (be)
		json_object_set_new(
		    tls, "failed_verify",
		    json_integer((json_int_t)sl_counter_read(&t->failed[SL_TLS_FAIL_VERIFY])));
	return tls;
}

/* The proxy's counters summed over workers and rows: requests by status class, errors by
 * reason, retries, pool use and admission (the per-row export is the control plane issue's). */
static json_t *
http_json(const struct sl_plane_view *v)
{
	struct sl_req_row sum;
	json_t *o = json_object(), *req = json_object(), *errs = json_object();

	memset(&sum, 0, sizeof(sum));
	for (unsigned int w = 0; w < v->n_workers; w++) {
		const struct sl_req_stats *st = v->req_stats[w];

		if (st == NULL)
			continue;
		for (unsigned int r = 0; r < st->n_rows; r++) {
			const uint64_t *src = (const uint64_t *)&st->rows[r];
			uint64_t *dst = (uint64_t *)&sum;

			for (size_t i = 0; i < sizeof(sum) / sizeof(uint64_t); i++)
				dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		}
	}
	for (unsigned int c = 0; c < SL_REQ_CLASS_MAX; c++)
		json_object_set_new(req, sl_req_class_name(c), json_integer((json_int_t)sum.requests[c]));
	for (unsigned int e = 0; e < SL_PROXY_ERR_MAX; e++)
		if (sum.errors[e])
			json_object_set_new(errs, sl_proxy_error_name(e),
					    json_integer((json_int_t)sum.errors[e]));
	json_object_set_new(o, "requests", req);
	json_object_set_new(o, "errors", errs);
	/* Every counter and gauge of a row (retries, pool use, admission), by its field name;
	 * gauges are sums of per-worker values that may wrap: read them signed. */
#define SL_SUM_JSON(f, metric, help) json_object_set_new(o, #f, json_integer((json_int_t)sum.f));
	SL_REQ_COUNTERS(SL_SUM_JSON)
#undef SL_SUM_JSON
#define SL_SUM_JSON(f, metric, help) json_object_set_new(o, #f, json_integer((int64_t)sum.f));
	SL_REQ_GAUGES(SL_SUM_JSON)
#undef SL_SUM_JSON
	return o;
}

json_t *
sl_cp_stats_object(const struct sl_plane_view *v, bool with_arp)
{
	json_t *root = json_object(), *ports = json_array(), *workers = json_array();

	for (unsigned int p = 0; p < v->n_ports; p++)
		json_array_append_new(ports, port_json(v, p));
	for (unsigned int w = 0; w < v->n_workers; w++) {
		json_t *o = json_object();
		uint64_t busy = __atomic_load_n(v->busy_cycles[w], __ATOMIC_RELAXED);

		json_object_set_new(o, "id", json_integer(w));
		json_object_set_new(o, "busy_seconds", json_real((double)busy / (double)v->tsc_hz));
		if (v->phase_cycles[w] != NULL) {
			static const char *const names[SL_PHASE_N] = SL_PHASE_NAMES;
			json_t *ph = json_object();

			for (unsigned int k = 0; k < SL_PHASE_N; k++)
				json_object_set_new(
					ph, names[k],
					json_real((double)__atomic_load_n(&v->phase_cycles[w][k],
									  __ATOMIC_RELAXED) /
						  (double)v->tsc_hz));
			json_object_set_new(o, "phase_seconds", ph);
		}
		if (v->tls_stats[w] != NULL)
			json_object_set_new(o, "tls", tls_json(v->tls_stats[w], false));
		if (v->be_tls_stats[w] != NULL)
			json_object_set_new(o, "backend_tls", tls_json(v->be_tls_stats[w], true));
		json_array_append_new(workers, o);
	}
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "workers", workers);
	json_object_set_new(root, "tcp", tcp_json(v));
	json_object_set_new(root, "http", http_json(v));
	json_t *mbufs = json_object();
	json_object_set_new(mbufs, "size", json_integer(v->pool->size));
	json_object_set_new(mbufs, "in_use", json_integer(rte_mempool_in_use_count(v->pool)));
	json_object_set_new(root, "mbufs", mbufs);
	json_object_set_new(root, "tsc_hz", json_integer((json_int_t)v->tsc_hz));
	if (v->rl_table != NULL) { /* the per-client rate-limit table: a scan of its entries */
		json_t *rl = json_object();
		struct sl_rl_stats churn; /* and the workers' counters of it, summed */

		sl_rl_stats_sum(&churn, v->rl_stats, v->n_workers);
		json_object_set_new(rl, "capacity",
				    json_integer((json_int_t)sl_rl_table_capacity(v->rl_table)));
		json_object_set_new(rl, "entries",
				    json_integer((json_int_t)sl_rl_table_used(v->rl_table)));
		json_object_set_new(rl, "inserted", json_integer((json_int_t)churn.inserted));
		json_object_set_new(rl, "evicted_full",
				    json_integer((json_int_t)churn.evicted_full));
		json_object_set_new(rl, "evicted_debt",
				    json_integer((json_int_t)churn.evicted_debt));
		json_object_set_new(rl, "untracked", json_integer((json_int_t)churn.untracked));
		json_object_set_new(root, "rate_limit_table", rl);
	}
	if (with_arp)
		arp_json(v, root);
	return root;
}

char *
sl_cp_stats_json(const struct sl_plane_view *v)
{
	json_t *root = sl_cp_stats_object(v, true);
	char *s;

	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}
