/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "lib/stats/metrics.h"
#include "lib/stats/tls_stats.h"
#include "lib/stats/prom.h"
#include "cunit_main.h"

static void
test_counter_with_escaped_labels_and_help(void)
{
	struct sl_prom p;
	struct sl_prom_label l[2] = {{"a", "q\"b\\c\nd"}, {"b", ""}};

	sl_prom_init(&p);
	CU_ASSERT_EQUAL(sl_prom_begin(&p, "sluice_x_total", SL_PROM_COUNTER, "Things.\nA \\ \"b\""),
			0);
	CU_ASSERT_EQUAL(sl_prom_u64(&p, l, 2, 3), 0);
	CU_ASSERT_EQUAL(sl_prom_u64(&p, NULL, 0, UINT64_MAX), 0);
	CU_ASSERT_EQUAL(sl_prom_finish(&p), 0);
	CU_ASSERT_STRING_EQUAL(p.buf, "# HELP sluice_x_total Things.\\nA \\\\ \"b\"\n"
				      "# TYPE sluice_x_total counter\n"
				      "sluice_x_total{a=\"q\\\"b\\\\c\\nd\",b=\"\"} 3\n"
				      "sluice_x_total 18446744073709551615\n");
	sl_prom_free(&p);
}

static void
test_gauge_values_print_shortest_exact_form(void)
{
	struct sl_prom p;

	sl_prom_init(&p);
	sl_prom_begin(&p, "g", SL_PROM_GAUGE, "G.");
	sl_prom_double(&p, NULL, 0, 0.1);
	sl_prom_double(&p, NULL, 0, 1e-9);
	sl_prom_double(&p, NULL, 0, -3);
	sl_prom_double(&p, NULL, 0, 1.0 / 3);
	sl_prom_double(&p, NULL, 0, NAN);
	sl_prom_double(&p, NULL, 0, -INFINITY);
	CU_ASSERT_EQUAL(sl_prom_finish(&p), 0);
	CU_ASSERT_STRING_EQUAL(p.buf,
			       "# HELP g G.\n# TYPE g gauge\n"
			       "g 0.1\ng 1e-09\ng -3\ng 0.3333333333333333\ng NaN\ng -Inf\n");
	sl_prom_free(&p);
}

static void
test_histogram_is_cumulative_and_never_counts_a_straddling_bucket(void)
{
	static const double le[] = {0.001, 0.01};
	struct sl_hist *h = calloc(1, sizeof(*h));
	struct sl_prom_label l = {"service", "a"};
	struct sl_prom p;

	sl_hist_record(h, 500000);   /* 0.5 ms: its bucket ends below 1 ms */
	sl_hist_record(h, 999424);   /* a bucket bound: counted under 1 ms */
	sl_hist_record(h, 1000000);  /* 1 ms is inside (999424, 1015808]: under 10 ms */
	sl_hist_record(h, 20000000); /* 20 ms: only under +Inf */
	sl_prom_init(&p);
	sl_prom_begin(&p, "sluice_d_seconds", SL_PROM_HISTOGRAM, "Durations.");
	CU_ASSERT_EQUAL(sl_prom_hist(&p, &l, 1, h, le, 2), 0);
	CU_ASSERT_STRING_EQUAL(p.buf, "# HELP sluice_d_seconds Durations.\n"
				      "# TYPE sluice_d_seconds histogram\n"
				      "sluice_d_seconds_bucket{service=\"a\",le=\"0.001\"} 2\n"
				      "sluice_d_seconds_bucket{service=\"a\",le=\"0.01\"} 3\n"
				      "sluice_d_seconds_bucket{service=\"a\",le=\"+Inf\"} 4\n"
				      "sluice_d_seconds_sum{service=\"a\"} 0.022499424\n"
				      "sluice_d_seconds_count{service=\"a\"} 4\n");
	sl_prom_free(&p);
	free(h);
}

static void
test_writer_refuses_what_prometheus_would(void)
{
	struct sl_prom p;
	struct sl_prom_label le = {"le", "1"}, bad = {"1a", "x"}, reserved = {"__x", "y"};
	struct sl_hist *h = calloc(1, sizeof(*h));
	static const double unordered[] = {1, 0.5};

#define FRESH() (sl_prom_free(&p), sl_prom_init(&p))
	sl_prom_init(&p);
	CU_ASSERT_EQUAL(sl_prom_u64(&p, NULL, 0, 1), -EINVAL); /* no family yet */
	FRESH();
	CU_ASSERT_EQUAL(sl_prom_begin(&p, "c", SL_PROM_COUNTER, "no _total"), -EINVAL);
	FRESH();
	CU_ASSERT_EQUAL(sl_prom_begin(&p, "g_total", SL_PROM_GAUGE, "a gauge named as a counter"),
			-EINVAL);
	FRESH();
	CU_ASSERT_EQUAL(sl_prom_begin(&p, "a-b", SL_PROM_GAUGE, "bad name"), -EINVAL);
	FRESH();
	sl_prom_begin(&p, "x_total", SL_PROM_COUNTER, "x");
	CU_ASSERT_EQUAL(sl_prom_begin(&p, "x_total", SL_PROM_COUNTER, "x again"), -EEXIST);
	/* sticky: later calls fail the same way and write nothing */
	{
		size_t len = p.len;

		CU_ASSERT_EQUAL(sl_prom_u64(&p, NULL, 0, 1), -EEXIST);
		CU_ASSERT_EQUAL(p.len, len);
		CU_ASSERT_EQUAL(sl_prom_finish(&p), -EEXIST);
	}
	FRESH();
	sl_prom_begin(&p, "x_total", SL_PROM_COUNTER, "x");
	CU_ASSERT_EQUAL(sl_prom_double(&p, NULL, 0, -1), -EINVAL); /* counters do not go down */
	FRESH();
	sl_prom_begin(&p, "x_total", SL_PROM_COUNTER, "x");
	CU_ASSERT_EQUAL(sl_prom_hist(&p, NULL, 0, h, NULL, 0), -EINVAL);
	FRESH();
	sl_prom_begin(&p, "h", SL_PROM_HISTOGRAM, "h");
	CU_ASSERT_EQUAL(sl_prom_u64(&p, NULL, 0, 1), -EINVAL);
	FRESH();
	sl_prom_begin(&p, "h", SL_PROM_HISTOGRAM, "h");
	CU_ASSERT_EQUAL(sl_prom_hist(&p, &le, 1, h, NULL, 0), -EINVAL);
	FRESH();
	sl_prom_begin(&p, "h", SL_PROM_HISTOGRAM, "h");
	CU_ASSERT_EQUAL(sl_prom_hist(&p, NULL, 0, h, unordered, 2), -EINVAL);
	FRESH();
	sl_prom_begin(&p, "g", SL_PROM_GAUGE, "g");
	CU_ASSERT_EQUAL(sl_prom_u64(&p, &bad, 1, 1), -EINVAL);
	FRESH();
	sl_prom_begin(&p, "g", SL_PROM_GAUGE, "g");
	CU_ASSERT_EQUAL(sl_prom_u64(&p, &reserved, 1, 1), -EINVAL);
	sl_prom_free(&p);
	free(h);
#undef FRESH
}

static void
test_escape_label(void)
{
	char out[32];

	CU_ASSERT_EQUAL(sl_prom_escape_label("a\\b\"c\nd", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "a\\\\b\\\"c\\nd");
	CU_ASSERT_EQUAL(sl_prom_escape_label("\"\"\"\"", out, 8), -ENOSPC);
}

/* A small world: 2 services, 3 locations, 5 backends, 2 workers. */
static const char *const svc_names[] = {"web", "api \"v2\""};
static const char *const loc_names[] = {"/", "/cart/", "/api/"};
static const unsigned int loc_svc[] = {0, 0, 1};
static const char *const be_names[] = {"http://198.18.0.10:8080", "http://198.18.0.11:8080",
				       "http://198.18.0.12:8080", "http://198.18.0.10:9090",
				       "http://198.18.0.11:9090"};
static const unsigned int be_loc[] = {0, 0, 1, 2, 2};
static const struct sl_metrics_names names = {svc_names, loc_names, loc_svc, be_names, be_loc};

static struct sl_req_stats *
world_sum(void)
{
	struct sl_req_stats *w[2], *sum = sl_req_stats_create(2, 3, 5);
	uint64_t seed = 1;

	for (int k = 0; k < 2; k++) {
		w[k] = sl_req_stats_create(2, 3, 5);
		for (unsigned int b = 0; b < 5; b++)
			for (int i = 0; i < 100; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				sl_req_done(w[k], sl_req_row_backend(w[k], b), i % 10 ? 200 : 502,
					    (seed >> 40) * 100);
			}
		sl_req_error(w[k], sl_req_row_backend(w[k], 3), SL_PROXY_ERR_CONNECT_FAILURE);
		sl_req_inc(w[k], sl_req_row_backend(w[k], 3), retries);
		sl_req_inc(w[k], sl_req_row_backend(w[k], 0), pool_opened);
		sl_req_inc(w[k], sl_req_row_backend(w[k], 0), open_conns);
	}
	sl_req_done(w[0], sl_req_row_unrouted(w[0]), 400, 20000);
	sl_req_error(w[0], sl_req_row_unrouted(w[0]), SL_PROXY_ERR_BAD_REQUEST);
	sl_req_done(w[1], sl_req_row_location(w[1], 2), 429, 3000);
	sl_req_error(w[1], sl_req_row_location(w[1], 2), SL_PROXY_ERR_RATE_LIMITED);
	CU_ASSERT_EQUAL(sl_req_stats_merge(sum, (const struct sl_req_stats *const *)w, 2), 0);
	sl_req_stats_free(w[0]);
	sl_req_stats_free(w[1]);
	return sum;
}

static void
test_request_families_label_rows_and_skip_idle_ones(void)
{
	struct sl_req_stats *sum = world_sum();
	struct sl_prom p;

	sl_prom_init(&p);
	CU_ASSERT_EQUAL_FATAL(
	    sl_metrics_requests(&p, sum, &names, sl_prom_le_default, sl_prom_n_le_default), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_http_requests_total{service=\"web\","
					     "location=\"/\",backend=\"http://198.18.0.10:8080\","
					     "code=\"2xx\"} 180\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_http_requests_total{service=\"web\","
					     "location=\"/\",backend=\"http://198.18.0.10:8080\","
					     "code=\"5xx\"} 20\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_http_requests_total{service=\"\","
					     "location=\"\",backend=\"\",code=\"4xx\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_http_request_errors_total{service=\"api "
					     "\\\"v2\\\"\",location=\"/api/\",backend=\"\","
					     "reason=\"rate_limited\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "sluice_http_retries_total{service=\"api \\\"v2\\\"\","
				      "location=\"/api/\",backend=\"http://198.18.0.10:9090\"}"
				      " 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "sluice_backend_open_connections{service=\"web\","
				      "location=\"/\",backend=\"http://198.18.0.10:8080\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "sluice_http_request_duration_seconds_count{service="
				      "\"web\",location=\"/cart/\",backend=\"http://198.18.0."
				      "12:8080\"} 200\n"));
	/* services 0 and 1 and location 0 never counted anything: not written */
	CU_ASSERT_PTR_NULL(strstr(p.buf, "{service=\"web\",location=\"\","));
	CU_ASSERT_PTR_NULL(strstr(p.buf, "{service=\"web\",location=\"/\",backend=\"\""));
	/* a second call would write the families twice */
	CU_ASSERT_EQUAL(sl_metrics_requests(&p, sum, &names, sl_prom_le_default, 1), -EEXIST);
	sl_prom_free(&p);
	sl_req_stats_free(sum);
}

static void
test_tcp_and_port_families_follow_the_field_tables(void)
{
	struct sl_tcp_stats tcp;
	struct sl_net_stats net[2];
	const char *ports[] = {"sl0", "eth1"};
	char line[256];
	struct sl_prom p;

	memset(&tcp, 0, sizeof(tcp));
	memset(net, 0, sizeof(net));
	/* the counters come first in the struct, in table order: give each its own value */
	for (unsigned int i = 0; i < sl_tcp_n_counters; i++)
		((uint64_t *)&tcp)[i] = 1000 + i;
	tcp.drops[SL_TCP_DROP_CHECKSUM] = 7;
	for (unsigned int f = 0; f < sl_net_stats_n_fields; f++)
		*(uint64_t *)((char *)&net[1] + sl_net_stats_fields[f].offset) = 2000 + f;
	net[1].drops[SL_NET_DROP_IP_CHECKSUM] = 9;
	sl_prom_init(&p);
	CU_ASSERT_EQUAL(sl_metrics_tcp(&p, &tcp), 0);
	CU_ASSERT_EQUAL(sl_metrics_ports(&p, ports, net, NULL, 2), 0);
	for (unsigned int i = 0; i < sl_tcp_n_counters; i++) {
		snprintf(line, sizeof(line), "\nsluice_tcp_%s_total %u\n", sl_tcp_counter_names[i],
			 1000 + i);
		CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, line));
	}
	for (unsigned int f = 0; f < sl_net_stats_n_fields; f++) {
		snprintf(line, sizeof(line), "\nsluice_port_%s_total{port=\"eth1\"} %u\n",
			 sl_net_stats_fields[f].name, 2000 + f);
		CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, line));
	}
	snprintf(line, sizeof(line), "sluice_tcp_drops_total{reason=\"%s\"} 7\n",
		 sl_tcp_drop_name(SL_TCP_DROP_CHECKSUM));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, line));
	snprintf(line, sizeof(line), "sluice_port_drops_total{port=\"eth1\",reason=\"%s\"} 9\n",
		 sl_net_drop_name(SL_NET_DROP_IP_CHECKSUM));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, line));
	CU_ASSERT_PTR_NULL(strstr(p.buf, "rx_missed")); /* no NIC counters given */
	/* every plain counter of struct sl_net_stats is in its name table, hence exported */
	CU_ASSERT_EQUAL(sl_net_stats_n_fields, offsetof(struct sl_net_stats, drops) / 8);
	sl_prom_free(&p);
}

/* Every family, as the control plane writes them on a scrape. */
static int
write_full_sample(struct sl_prom *p)
{
	struct sl_req_stats *sum = world_sum();
	struct sl_metrics_backend be[5] = {
	    {.up = 1, .weight = 8, .in_flight = 3, .circuit = SL_METRICS_CIRCUIT_CLOSED},
	    {.up = 1, .disabled = 1, .weight = 2, .circuit = SL_METRICS_CIRCUIT_CLOSED},
	    {.weight = 1, .circuit = SL_METRICS_CIRCUIT_OPEN, .ejected = 1},
	    {.up = 1, .draining = 1, .weight = 1, .in_flight = 1,
	     .circuit = SL_METRICS_CIRCUIT_HALF_OPEN},
	    {.up = 1, .weight = 1, .circuit = SL_METRICS_CIRCUIT_CLOSED, .health_known = true,
	     .checks = {10, 1, 2, 3, 4}, .state_changes = 2, .circuit_opens = 1, .ejections = 1},
	};
	struct sl_tcp_stats tcp;
	struct sl_net_stats net[2];
	struct sl_metrics_port_hw hw[2] = {{1, 2, 3, 4}, {0, 0, 0, 0}};
	const char *ports[] = {"sl0", "eth1"};
	const double busy[] = {12.5, 0.000125};
	const char *pools[] = {"mbuf_pool_0"};
	const uint64_t size[] = {8191}, in_use[] = {1024};
	const uint64_t log_written[] = {5000, 4990}, log_dropped[] = {0, 10}, log_lost[] = {3, 0};
	const struct sl_metrics_mempool mempools[] = {
	    {"tcpc", 0, 4096, 7}, {"px_sess", 1, 1024, 0}, {"shared", -1, 10, 10}};
	int rc = 0;

	memset(&tcp, 0, sizeof(tcp));
	memset(net, 0, sizeof(net));
	tcp.passive_opens = 10;
	tcp.conns = 3;
	net[0].rx_packets = 100;
	rc |= sl_metrics_requests(p, sum, &names, sl_prom_le_default, sl_prom_n_le_default);
	rc |= sl_metrics_backends(p, &names, be, 5);
	rc |= sl_metrics_tcp(p, &tcp);
	rc |= sl_metrics_ports(p, ports, net, hw, 2);
	rc |= sl_metrics_workers(p, busy, 2);
	rc |= sl_metrics_workers_up(p, (const uint64_t[]){1, 0}, 2);
	rc |= sl_metrics_access_log(p, log_written, log_dropped, log_lost, 2);
	rc |= sl_metrics_mbuf_pools(p, pools, size, in_use, 1);
	rc |= sl_metrics_rate_limit(
	    p, &(struct sl_metrics_rl_table){131072, 100003, 250000, 120000, 30000, 7});
	rc |= sl_metrics_mempools(p, mempools, 3);
	{
		/* two workers' TLS blocks and an absent one, summed */
		static struct sl_tls_stats t0, t1;
		const struct sl_tls_stats *tls[3] = {&t0, NULL, &t1};

		memset(&t0, 0, sizeof(t0));
		memset(&t1, 0, sizeof(t1));
		t0.handshakes = 10;
		t1.handshakes = 5;
		t1.resumed = 4;
		t0.failed[SL_TLS_FAIL_NOT_TLS] = 2;
		t1.failed[SL_TLS_FAIL_NOT_TLS] = 1;
		t1.failed[SL_TLS_FAIL_EOF] = 7;
		sl_hist_record(&t0.hs_time, 300000);  /* 0.3 ms */
		sl_hist_record(&t1.hs_time, 2000000); /* 2 ms */
		rc |= sl_metrics_tls(p, tls, 3);
	}
	sl_req_stats_free(sum);
	return rc;
}

static int
promtool_accepts(const char *text, size_t len, char *path, size_t path_cap, int quiet)
{
	char cmd[256];
	FILE *f;
	int fd, status;

	snprintf(path, path_cap, "/tmp/sl-prom-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s%s", path,
		 quiet ? " >/dev/null 2>&1" : "");
	status = system(cmd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_full_sample_passes_promtool(void)
{
	static const char bad[] = "# HELP x_count a\n# TYPE x_count counter\nx_count 1\n";
	char path[64];
	struct sl_prom p;
	FILE *f;
	int ok;

	/* the check can fail: promtool refuses a counter not named *_total */
	CU_ASSERT_EQUAL(promtool_accepts(bad, sizeof(bad) - 1, path, sizeof(path), 1), 0);
	unlink(path);
	sl_prom_init(&p);
	CU_ASSERT_EQUAL_FATAL(write_full_sample(&p), 0);
	/* SL_PROM_SAMPLE=file keeps a copy of the sample for reading. */
	if (getenv("SL_PROM_SAMPLE") != NULL &&
	    (f = fopen(getenv("SL_PROM_SAMPLE"), "w")) != NULL) {
		fwrite(p.buf, 1, p.len, f);
		fclose(f);
	}
	ok = promtool_accepts(p.buf, p.len, path, sizeof(path), 0);
	CU_ASSERT_EQUAL(ok, 1);
	if (ok != 1)
		printf("\n    promtool refused %s (kept for reading) ", path);
	else
		unlink(path);
	sl_prom_free(&p);
}

static void
test_full_sample_has_every_family(void)
{
	struct sl_prom p;

	sl_prom_init(&p);
	CU_ASSERT_EQUAL_FATAL(write_full_sample(&p), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_worker_busy_seconds_total{worker=\"1\"} "
					     "0.000125\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "# TYPE sluice_worker_up gauge\n"
					     "sluice_worker_up{worker=\"0\"} 1\n"
					     "sluice_worker_up{worker=\"1\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "sluice_backend_circuit_state{service=\"web\","
				      "location=\"/cart/\",backend=\"http://198.18.0.12:8080\","
				      "state=\"open\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "# TYPE sluice_backend_disabled gauge\n"
					     "sluice_backend_disabled{service=\"web\",location=\"/\","
					     "backend=\"http://198.18.0.10:8080\"} 0\n"
					     "sluice_backend_disabled{service=\"web\",location=\"/\","
					     "backend=\"http://198.18.0.11:8080\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_port_rx_missed_total{port=\"sl0\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_mbuf_pool_in_use{pool=\"mbuf_pool_0\"} 1024\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_rate_limit_table_capacity 131072\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "# TYPE sluice_rate_limit_table_entries gauge\n"
					     "sluice_rate_limit_table_entries 100003\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "# TYPE sluice_rate_limit_table_inserted_total counter\n"
				      "sluice_rate_limit_table_inserted_total 250000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "# TYPE sluice_rate_limit_table_evicted_total counter\n"
				      "sluice_rate_limit_table_evicted_total{reason=\"full\"} "
				      "120000\n"
				      "sluice_rate_limit_table_evicted_total{reason=\"debt\"} "
				      "30000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf,
				      "# TYPE sluice_rate_limit_table_untracked_total counter\n"
				      "sluice_rate_limit_table_untracked_total 7\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_tcp_passive_opens_total 10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "# TYPE sluice_access_log_records_total counter\n"
					     "sluice_access_log_records_total{worker=\"0\"} 5000\n"
					     "sluice_access_log_records_total{worker=\"1\"} 4990\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_access_log_dropped_total{worker=\"1\"} 10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_access_log_lost_total{worker=\"0\"} 3\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_mempool_objects_in_use{pool=\"tcpc\",worker=\"0\"} 7\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_mempool_objects{pool=\"shared\",worker=\"\"} 10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_tls_handshakes_total 15\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_tls_resumed_total 4\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_tls_handshake_failures_total{reason=\"not_tls\"} 3\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_tls_handshake_failures_total{reason=\"eof_or_timeout\"} 7\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_tls_handshake_failures_total{reason=\"no_shared_cipher\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_tls_handshake_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(p.buf, "sluice_tls_handshake_duration_seconds_bucket{le=\"0.0025\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "sluice_tls_handshake_duration_seconds_count 2\n"));
	sl_prom_free(&p);
}

/*
 * `test_prom` runs the unit tests; `test_prom promtool` validates the full sample with
 * Debian's promtool, and exits 77 (meson: SKIP) with a message when promtool is missing.
 */
int
main(int argc, char **argv)
{
	static const struct sl_unit_test promtool_tests[] = {
	    SL_UNIT_TEST(test_full_sample_passes_promtool),
	};
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_counter_with_escaped_labels_and_help),
	    SL_UNIT_TEST(test_gauge_values_print_shortest_exact_form),
	    SL_UNIT_TEST(test_histogram_is_cumulative_and_never_counts_a_straddling_bucket),
	    SL_UNIT_TEST(test_writer_refuses_what_prometheus_would),
	    SL_UNIT_TEST(test_escape_label),
	    SL_UNIT_TEST(test_request_families_label_rows_and_skip_idle_ones),
	    SL_UNIT_TEST(test_tcp_and_port_families_follow_the_field_tables),
	    SL_UNIT_TEST(test_full_sample_has_every_family),
	};

	if (argc > 1 && strcmp(argv[1], "promtool") == 0) {
		if (system("command -v promtool >/dev/null 2>&1") != 0) {
			printf("SKIPPED: promtool not found (Debian package prometheus): the "
			       "Prometheus output was not validated\n");
			return 77;
		}
		return SL_UNIT_RUN("promtool", promtool_tests);
	}
	return SL_UNIT_RUN("prom", tests);
}
