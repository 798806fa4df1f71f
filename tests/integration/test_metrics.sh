#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# GET /metrics, GET /api/stats and the worker status of GET /health, end to end.
# Topology: namespace sl-it-met-<pid> (scripts/testbed.sh): sluice at 198.18.0.2 with
# configs/tap-demo.yaml plus a users database (made with sluicectl), the three demo backends
# at 198.18.0.11-.13:8080, the admin API on 127.0.0.1:1997 inside the namespace. /metrics is
# scraped before and after N proxied requests: the request counter and the duration histogram
# grow by N, busy seconds and TCP passive opens grow; promtool checks both scrapes. Everything
# (namespace, processes, files) goes away on every exit path.
#
# usage: test_metrics.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-met "${1:-}"

tb_need_root
tb_need_cmd ip curl python3 promtool
api=http://127.0.0.1:1997
VIP=198.18.0.2
N=30
nsx() { ip netns exec "$SL_NS" "$@"; }

tmp=$(mktemp -d /tmp/sl-it-met.XXXXXX)
tb_on_exit "rm -rf '$tmp'"
pw='metrics test passphrase'
tb_demo_up "$tmp" ops "$pw"

# get PATH OUT [curl args]: the status on stdout, the body in OUT
get() {
	local p=$1 out=$2
	shift 2
	nsx curl -s -m 10 -o "$out" -w '%{http_code}' "$@" "$api$p"
}
# metric FILE NAME [LABEL=VALUE...]: the sum of the samples of NAME whose labels match
metric() {
	python3 - "$@" <<'PY'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
total, seen = 0.0, False
for line in open(path):
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line.strip())
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(4)); seen = True
print(repr(total) if seen else "missing")
PY
}
# check_delta NAME BEFORE AFTER OP VALUE: python comparison of after - before
check_delta() {
	local name=$1 b=$2 a=$3 op=$4 v=$5
	tb_check "$name (before $b, after $a)" \
		python3 -c "import sys; b, a = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if (a - b) $op $v else 1)" "$b" "$a"
}

# --- /health: every worker listed and answering its ring ---------------------------------
sleep 0.6 # a few ping rounds (every 250 ms)
code=$(get /health "$tmp/health.json")
tb_check "GET /health is 200 ($code)" test "$code" = 200
tb_check "/health lists worker 0 as ok" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
ws = h["worker_status"]
assert h["status"] == "ok" and len(ws) == h["workers"] == 1, h
assert all(w["status"] == "ok" for w in ws), ws' "$tmp/health.json"

# --- /metrics before and after N requests -----------------------------------------------
code=$(get /metrics "$tmp/m1.txt" -D "$tmp/m1.hdr")
tb_check "GET /metrics is 200 without a token ($code)" test "$code" = 200
tb_check "/metrics is text/plain version 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/m1.hdr"
tb_check "promtool check metrics passes on the first scrape" \
	bash -c "promtool check metrics <'$tmp/m1.txt' >'$tmp/promtool1.out' 2>&1 || { cat '$tmp/promtool1.out' >&2; false; }"

ok=0
for ((i = 0; i < N; i++)); do
	c=$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/m$i")
	[ "$c" = 200 ] && ok=$((ok + 1))
done
tb_check "$N proxied requests answered 200 ($ok)" test "$ok" = "$N"

code=$(get /metrics "$tmp/m2.txt")
tb_check "second scrape is 200 ($code)" test "$code" = 200
tb_check "promtool check metrics passes after traffic" \
	bash -c "promtool check metrics <'$tmp/m2.txt' >'$tmp/promtool2.out' 2>&1 || { cat '$tmp/promtool2.out' >&2; false; }"

for f in sluice_tcp_passive_opens_total sluice_worker_busy_seconds_total \
	sluice_http_requests_total sluice_http_request_duration_seconds_count \
	sluice_port_rx_packets_total sluice_port_rx_missed_total sluice_mbuf_pool_in_use \
	sluice_tcp_drops_total sluice_port_drops_total sluice_backend_in_flight_requests \
	sluice_backend_circuit_state sluice_backend_open_connections \
	sluice_backend_pool_idle_connections sluice_http_retries_total sluice_tcp_retransmits_total \
	sluice_port_tx_packets_total sluice_mempool_objects sluice_mempool_objects_in_use; do
	tb_check "/metrics has $f" test "$(metric "$tmp/m2.txt" "$f")" != missing
done
# The liveness /health reports, and the reload counters (test_reload.sh counts them moving).
tb_check "sluice_worker_up{worker=0} is 1, as /health says" test "$(metric "$tmp/m2.txt" sluice_worker_up worker=0)" = 1.0
tb_check "sluice_config_reloads_total is 0 ok, 0 failed before any reload" \
	test "$(metric "$tmp/m2.txt" sluice_config_reloads_total result=ok) $(metric "$tmp/m2.txt" sluice_config_reloads_total result=failed)" = "0.0 0.0"
tb_check "sluice_config_last_reload_successful is 1 before any reload" \
	test "$(metric "$tmp/m2.txt" sluice_config_last_reload_successful)" = 1.0
b=$(metric "$tmp/m1.txt" sluice_http_requests_total service=demo location=/ code=2xx)
a=$(metric "$tmp/m2.txt" sluice_http_requests_total service=demo location=/ code=2xx)
check_delta "requests_total{service=demo,location=/,code=2xx} grows by exactly $N" "$b" "$a" == "$N"
b=$(metric "$tmp/m1.txt" sluice_http_request_duration_seconds_count service=demo location=/)
a=$(metric "$tmp/m2.txt" sluice_http_request_duration_seconds_count service=demo location=/)
check_delta "the duration histogram's _count grows by exactly $N" "$b" "$a" == "$N"
b=$(metric "$tmp/m1.txt" sluice_http_request_duration_seconds_sum service=demo location=/)
a=$(metric "$tmp/m2.txt" sluice_http_request_duration_seconds_sum service=demo location=/)
check_delta "the duration histogram's _sum grows" "$b" "$a" '>' 0
b=$(metric "$tmp/m1.txt" sluice_worker_busy_seconds_total worker=0)
a=$(metric "$tmp/m2.txt" sluice_worker_busy_seconds_total worker=0)
check_delta "busy seconds of worker 0 grow" "$b" "$a" '>' 0
b=$(metric "$tmp/m1.txt" sluice_tcp_passive_opens_total)
a=$(metric "$tmp/m2.txt" sluice_tcp_passive_opens_total)
check_delta "TCP passive opens grow by at least $N" "$b" "$a" '>=' "$N"
b=$(metric "$tmp/m1.txt" sluice_port_rx_packets_total port=tap0)
a=$(metric "$tmp/m2.txt" sluice_port_rx_packets_total port=tap0)
check_delta "rx packets of tap0 grow" "$b" "$a" '>' 0

a=$(metric "$tmp/m2.txt" sluice_backend_up service=demo location=/)
tb_check "the 3 backends of demo / are up ($a)" python3 -c "import sys; sys.exit(float(sys.argv[1]) != 3)" "$a"
a=$(metric "$tmp/m2.txt" sluice_backend_in_flight_requests)
tb_check "nothing in flight once the requests are done ($a)" python3 -c "import sys; sys.exit(float(sys.argv[1]) != 0)" "$a"
a=$(metric "$tmp/m2.txt" sluice_backend_circuit_state location=/ state=closed)
tb_check "the circuits of demo / are closed ($a)" python3 -c "import sys; sys.exit(float(sys.argv[1]) != 3)" "$a"

a=$(metric "$tmp/m2.txt" sluice_mempool_objects pool=tcpc worker=0)
tb_check "worker 0's TCP connection pool is exported with its size ($a)" python3 -c "import sys; sys.exit(not float(sys.argv[1]) > 0)" "$a"
a=$(metric "$tmp/m2.txt" sluice_mempool_objects pool=px_sess worker=0)
tb_check "worker 0's proxy session pool is exported with its size ($a)" python3 -c "import sys; sys.exit(not float(sys.argv[1]) > 0)" "$a"
b=$(metric "$tmp/m2.txt" sluice_backend_connections_opened_total service=demo location=/)
tb_check "backend connections were opened for demo / ($b)" python3 -c "import sys; sys.exit(not float(sys.argv[1]) > 0)" "$b"
a=$(metric "$tmp/m2.txt" sluice_backend_open_connections service=demo location=/)
b=$(metric "$tmp/m2.txt" sluice_backend_pool_idle_connections service=demo location=/)
tb_check "backend pool: 0 <= idle ($b) <= open ($a)" python3 -c "import sys; o, i = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not 0 <= i <= o)" "$a" "$b"

# --- /api/stats: a token, then the same counters as JSON ----------------------------------
code=$(get /api/stats "$tmp/s0.json")
tb_check "GET /api/stats without a token is 401 ($code)" test "$code" = 401
nsx curl -s -m 10 -o "$tmp/login.json" -H 'Content-Type: application/json' \
	-d "{\"username\":\"ops\",\"password\":\"$pw\"}" "$api/api/auth/login"
tok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$tmp/login.json" 2>/dev/null)
tb_check "login for /api/stats" test -n "$tok"
code=$(get /api/stats "$tmp/s1.json" -H "Authorization: Bearer $tok")
tb_check "GET /api/stats with a token is 200 ($code)" test "$code" = 200
tb_check "/api/stats agrees with /metrics and lists workers, ports, backends" python3 - \
	"$tmp/s1.json" "$(metric "$tmp/m2.txt" sluice_http_requests_total service=demo location=/ code=2xx)" \
	"$(metric "$tmp/m2.txt" sluice_tcp_passive_opens_total)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
req2xx, passive = float(sys.argv[2]), float(sys.argv[3])
rows = [r for r in s["requests"] if r["service"] == "demo" and r["location"] == "/"]
got = sum(r["requests"]["2xx"] for r in rows)
# The JSON is read after the scrape: never less, and nothing else sent requests meanwhile.
assert got == req2xx, (got, req2xx)
be = [r for r in rows if r["backend"]]
assert len(be) == 3, rows
assert all(r["up"] and not r["draining"] and r["in_flight"] == 0 and r["weight"] == 1 for r in be), be
assert sum(r["duration"]["count"] for r in rows) >= req2xx
assert s["tcp"]["passive_opens"] >= passive, s["tcp"]
assert s["ports"][0]["name"] == "tap0" and s["ports"][0]["rx_packets"] > 0
assert [w["status"] for w in s["workers"]] == ["ok"], s["workers"]
assert s["workers"][0]["busy_seconds"] > 0
ph = s["workers"][0]["phase_seconds"]  # the same time by phase of the loop: sums to it
assert sorted(ph) == ["input", "other", "output", "rx", "timers", "tx"], ph
assert ph["rx"] > 0 and abs(sum(ph.values()) - s["workers"][0]["busy_seconds"]) < 1e-6, ph
assert "arp" not in s  # the handler never touches a ring
assert s["mbufs"]["size"] > 0
# The merged latency histogram: every row's requests, buckets in order, summing to the count.
lat = s["latency"]
assert lat["count"] == sum(r["duration"]["count"] for r in s["requests"]) >= req2xx, lat["count"]
assert sum(n for _, n in lat["buckets"]) == lat["count"], lat
uppers = [u for u, _ in lat["buckets"]]
assert uppers == sorted(uppers) and all(n > 0 for _, n in lat["buckets"]), lat["buckets"]
assert 0 < lat["sum_seconds"] < 30 * lat["count"], lat["sum_seconds"]
PY

# The SIGUSR1 dump (ARP over the rings) still works while pings run on the same rings.
dump=$(tb_sluice_stats "$top/.run/$SL_NS")
tb_check "the SIGUSR1 stats dump still has the ARP table" python3 -c \
	'import json,sys; assert len(json.loads(sys.argv[1])["arp"]) > 0' "$dump"

tb_summary
