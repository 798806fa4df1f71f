#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# Admission end to end (issue 9) in the TAP testbed (scripts/testbed.sh, namespace
# sl-adm-<pid>): sluice at 198.18.0.2, sluice-backend at 198.18.0.11-.13:8080, clients wrk and
# python3 (admission_client.py) from 198.18.0.1 and extra kernel-side addresses .3-.7.
#   (a) per-client rate limit: a wrk client over the limit gets 429s and exactly the
#       configured rate of 200s (within 10%, over the time sluice saw its requests, from the
#       access log; which counts what wrk counts), while a client from another address under
#       the limit and a wrk on an unlimited location are untouched; with 1 worker, then 2;
#   (b) concurrency limit and queue: a burst of 14 slow requests, 4 run, 4 wait, 6 get 503
#       at once; with waits longer than the queue timeout, the 4 waiting get 503; a
#       backend's max_connections holds;
#   (c) per-IP connection limit: 16 connections answered, the next 4 reset;
#   (d) SIGTERM during a wrk run and long requests: every request in flight gets its full
#       200 with Connection: close, idle keep-alive connections get a FIN, new connections
#       are refused, sluice exits 0.
# Metrics: the admission counters, and promtool checks the scrape.
#   (e) the rate-limit table's churn counters: with 1 worker and the default table every key
#       inserted is still held; with 2 workers and `limits.rate_limit_table_size: 8` (one
#       8-way set), 20 client addresses .40-.59 on / then the same 20 on /slow/ (a 10 s
#       interval): every insert past the 8th evicts, full buckets first, then ones with debt;
#       /metrics and the SIGUSR1 stats line (sums over both workers) agree.
#
# Usage: test_admission.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-adm "${1:-}"
VIP=198.18.0.2
RATE=50
BURST=100 # a token bucket loses what overflows while nobody asks: absorbs stalls of up to 2 s
# (2 workers sharing a CPU on a loaded machine)

tb_need_root
tb_need_cmd ip curl python3 wrk promtool
TMP=$(mktemp -d /tmp/sl-adm-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"
CLIENT="$HERE/admission_client.py"

cat >"$TMP/adm.yaml" <<YAML
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
  idle: adaptive
  mbufs: 8191
timeouts:
  backend_response: 10s
  shutdown_grace: 8s
limits:
  max_connections_per_ip: 16
rate_limit: {requests_per_second: $RATE, burst: $BURST}   # global default
queue: {max_concurrent: 64, max_queue: 64, timeout: 2500ms}  # each service's, unless it has one
admin:
  access_log: {path: $TMP/access.log, format: json, ring_size: 65536}
services:
  - name: limited
    port: 80
    locations:
      - path: /
        backends: &three
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
          - url: http://198.18.0.13:8080
      - path: /free/
        rewrite: /
        rate_limit: {enabled: false}
        backends: *three
      - path: /slow/
        rate_limit: {requests_per_minute: 6, burst: 2}
        backends: *three
  - name: queued
    port: 8081
    rate_limit: {enabled: false}
    queue: {max_concurrent: 4, max_queue: 4}   # timeout inherited
    locations:
      - path: /
        backends: *three
      - path: /capped/
        rewrite: /
        backends:
          - url: http://198.18.0.11:8080
            max_connections: 2
YAML

nsx() { ip netns exec "$SL_NS" "$@"; }
# within NAME VALUE LO HI
within() {
	if python3 -c 'import sys; v,lo,hi=map(float,sys.argv[1:]); sys.exit(not lo<=v<=hi)' "$2" "$3" "$4"; then
		tb_pass "$1 ($2 in [$3, $4])"
	else tb_fail "$1" "'$2' not in [$3, $4]"; fi
}
expect() {
	if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi
}
# jq_ FILE EXPR: a Python expression over the JSON document d
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# metric NAME LABELS: the value of one sample of the last scrape
metric() { awk -v k="$1{$2}" '$1 == k {print $2}' "$TMP/metrics"; }
scrape() { nsx curl -sS -m 5 -o "$TMP/metrics" http://127.0.0.1:1997/metrics; }

# up WORKERS [CONFIG]
up() {
	"$top/scripts/testbed.sh" up --config "${2:-$TMP/adm.yaml}" --workers "$1" >"$TMP/up.log" 2>&1 ||
		{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
	local a
	for a in 3 4 5 6 7; do nsx ip addr add "198.18.0.$a/32" dev sl0; done
	tb_wait_for "ip netns exec '$SL_NS' curl -s -m 2 -o /dev/null http://$VIP/free/" 15 ||
		{ cat "$state/sluice.log" >&2; tb_die "sluice does not answer HTTP"; }
}

# (a) one limited client, one under its limit, one on an unlimited location, at once.
rate_phase() {
	local w=$1 d=4 reqs secs non2xx ok want py wf logged span logged_ok logged_no
	sleep 1 # earlier requests from .1 refilled
	logged=$(wc -l <"$TMP/access.log")
	nsx python3 "$CLIENT" steady 198.18.0.3 "http://$VIP/under" 20 "$d" >"$TMP/steady.json" &
	py=$!
	nsx wrk -t1 -c2 -d"${d}s" "http://$VIP/free/x" >"$TMP/wrk-free.out" 2>&1 &
	wf=$!
	nsx wrk -t1 -c2 -d"${d}s" "http://$VIP/limited" >"$TMP/wrk-lim.out" 2>&1 || true
	wait "$wf" || true
	wait "$py" || true
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk-lim.out")
	secs=$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$TMP/wrk-lim.out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$TMP/wrk-lim.out")
	non2xx=${non2xx:-0}
	ok=$((reqs - non2xx))
	LIMITED_OK=$ok LIMITED_REFUSED=$non2xx
	# The bucket runs on sluice's clock: from the first request sluice saw from the client to
	# its last (the access log's times), not wrk's, whose clock starts before it connects. A
	# stall of wrk at its start would otherwise count as time the bucket, full already,
	# could not give.
	sleep 0.5 # the control plane writes the log in batches every 2 ms
	read -r span logged_ok logged_no < <(tail -n +"$((logged + 1))" "$TMP/access.log" | python3 -c '
import json, sys
from datetime import datetime
t, ok, no = [], 0, 0
for line in sys.stdin:
    r = json.loads(line)
    if r["path"] == "/limited" and r["client"].startswith("198.18.0.1:"):
        t.append(datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp())
        ok += r["status"] == 200
        no += r["status"] == 429
print(round(max(t) - min(t), 3) if t else 0, ok, no)')
	want=$(python3 -c "print(round($RATE * $span + $BURST, 1))")
	tb_log "workers=$w limited client: $reqs requests in ${secs}s (wrk), ${span}s from first to last (sluice), $ok answered 200 ($(python3 -c "print(round(($ok - $BURST) / $span, 1) if $span else 0)")/s), $non2xx refused; expected $want"
	# (wrk does not count the requests in flight when it stops: up to its 2 connections)
	within "w${w}_access_log_has_wrks_200s" "$logged_ok" "$ok" "$((ok + 2))"
	within "w${w}_access_log_has_wrks_429s" "$logged_no" "$non2xx" "$((non2xx + 2))"
	within "w${w}_limited_client_gets_the_configured_rate" "$ok" \
		"$(python3 -c "print(round($want - 0.1 * $RATE * $span, 1))")" "$(python3 -c "print(round($want + 0.1 * $RATE * $span, 1))")"
	within "w${w}_limited_client_refused_beyond_it" "$non2xx" 1 1e9
	tb_log "workers=$w unlimited location: $(grep -E 'requests in|Non-2xx|Socket' "$TMP/wrk-free.out" | tr -s ' ' | tr '\n' ' ')"
	if grep -qE 'Non-2xx|Socket errors' "$TMP/wrk-free.out" || ! grep -q 'requests in' "$TMP/wrk-free.out"; then
		tb_fail "w${w}_unlimited_location_untouched" "$(tr '\n' ' ' <"$TMP/wrk-free.out")"
	else tb_pass "w${w}_unlimited_location_untouched"; fi
	tb_log "workers=$w client under its limit from .3: $(cat "$TMP/steady.json")"
	expect "w${w}_other_client_untouched" "$(jq_ "$TMP/steady.json" 'd["codes"]')" "{'200': $((20 * d))}"
}

# --- one worker ------------------------------------------------------------------------------
tb_on_exit "'$top/scripts/testbed.sh' down"
up 1

# The 429 page: Retry-After, JSON when the client prefers it (a location's own limit, 6/min).
nsx curl -s -o /dev/null -o /dev/null "http://$VIP/slow/1" "http://$VIP/slow/2" || true
nsx curl -s -D "$TMP/429.head" -o "$TMP/429.body" -H 'Accept: application/json' "http://$VIP/slow/3" || true
expect "over_limit_is_429" "$(head -1 "$TMP/429.head" | tr -d '\r')" "HTTP/1.1 429 Too Many Requests"
if grep -qiE '^Retry-After: [1-9][0-9]*' "$TMP/429.head"; then tb_pass "429_has_retry_after"; else
	tb_fail "429_has_retry_after" "$(tr '\r\n' '  ' <"$TMP/429.head")"; fi
expect "429_is_json_when_accept_prefers_it" "$(jq_ "$TMP/429.body" 'd["status"]')" 429

rate_phase 1

# (b) the queue: 4 run, 4 wait, 6 refused at once; then the 4 waiting time out.
# burst_check NAME PATH 200s 503s [503s within 0.9 s] [requests, 14]
burst_check() {
	nsx python3 "$CLIENT" burst 198.18.0.4 "http://$VIP:8081$2" "${6:-14}" >"$TMP/burst.json"
	python3 - "$TMP/burst.json" >"$TMP/burst.sum" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = [x for x in r if x["status"] == 200]
no = [x for x in r if x["status"] == 503]
fast = [x for x in no if x["s"] is not None and x["s"] < 0.9]
print(len(ok), len(no), len(fast), all(x["body_ok"] for x in ok), len(r) - len(ok) - len(no),
      sorted(x["s"] for x in r if x["s"] is not None))
PY
	tb_log "$1: 200s, 503s, 503s within 0.9 s, bodies whole, other, times: $(cat "$TMP/burst.sum")"
	expect "$1" "$(cut -d' ' -f1-5 "$TMP/burst.sum")" "$3 $4 ${5:-$4} True 0"
}
burst_check queue_absorbs_what_fits_rest_503_at_once /delay/1000 8 6
# Waits of 4 s against a 2.5 s queue timeout: the 4 waiting get 503, the others at once.
burst_check queue_waiters_time_out_with_503 /delay/4000 4 10 6
# A backend's max_connections (lib/balance): 2 of 4 requests in flight at once, 2 get 503.
burst_check backend_max_connections_honoured /capped/delay/1000 2 2 2 4

# (c) per-IP connection limit: 16 answered, 4 reset; closing 2 makes room for 2.
nsx python3 "$CLIENT" conns 198.18.0.5 "$VIP" 8081 20 >"$TMP/conns.json"
tb_log "connection limit 16 per IP, 20 opened: $(cat "$TMP/conns.json")"
expect "per_ip_connection_limit_16_of_20_then_room_after_close" \
	"$(jq_ "$TMP/conns.json" 'd["answered"], len(d["failed"]), d["again"]')" "(16, 4, ['200', '200'])"

scrape
tb_check "promtool_check_metrics" bash -c "promtool check metrics <'$TMP/metrics' >'$TMP/promtool.out' 2>&1 || { cat '$TMP/promtool.out' >&2; false; }"
# (wrk does not count the answers to the requests it had in flight when it stopped: 2 at most)
within "metric_rate_limited_counted" "$(metric sluice_http_rate_limited_total 'service="limited",location="/",backend=""')" "$LIMITED_REFUSED" "$((LIMITED_REFUSED + 2))"
# What reached the backends of / is exactly what was answered 200 (the limited wrk's and the
# 80 of the client from .3): a refused request never reaches one.
within "refused_requests_never_reach_a_backend" "$(awk '$1 ~ /^sluice_http_requests_total\{service="limited",location="\/",backend="http/ {n += $2} END {print n}' "$TMP/metrics")" "$((LIMITED_OK + 80))" "$((LIMITED_OK + 82))"
expect "metric_queue_rejected" "$(metric sluice_http_queue_rejected_total 'service="queued",location="/",backend=""')" 16
expect "metric_queue_waits" "$(metric sluice_http_queue_waits_total 'service="queued",location="/",backend=""')" 8
expect "metric_queue_depth_back_to_0" "$(metric sluice_http_queued_requests 'service="queued",location="/",backend=""')" 0
expect "metric_connections_refused" "$(metric sluice_http_connections_refused_total 'service="",location="",backend=""')" 4
expect "metric_errors_queue_timeout" "$(metric sluice_http_request_errors_total 'service="queued",location="/",backend="",reason="queue_timeout"')" 4
# The rate-limit table: the default size, and a bucket for each (client, scope) seen since
# this sluice started (wrk from .1 and the client from .3 on / at least; a handful in all).
expect "metric_rate_limit_table_capacity" "$(awk '$1 == "sluice_rate_limit_table_capacity" {print $2}' "$TMP/metrics")" 131072
within "metric_rate_limit_table_entries" "$(awk '$1 == "sluice_rate_limit_table_entries" {print $2}' "$TMP/metrics")" 2 64
# (e) Its churn: a key per (client, scope) seen (.1 on / and on /slow/, .3 on /), none evicted
# from 131072 entries, so every key inserted is one held.
rl_metrics() {
	local x
	for x in inserted_total 'evicted_total{reason="full"}' 'evicted_total{reason="debt"}' untracked_total; do
		awk -v k="sluice_rate_limit_table_$x" '$1 == k {print $2}' "$TMP/metrics"
	done | paste -sd' '
}
read -r rl_ins rl_full rl_debt rl_untr <<<"$(rl_metrics)"
tb_log "rate-limit table, 1 worker: inserted ${rl_ins:-?}, evicted full ${rl_full:-?} / debt ${rl_debt:-?}, untracked ${rl_untr:-?}"
within "metric_rate_limit_table_inserted" "${rl_ins:-none}" 3 64
expect "metric_rate_limit_table_inserted_all_held" "${rl_ins:-none}" "$(awk '$1 == "sluice_rate_limit_table_entries" {print $2}' "$TMP/metrics")"
expect "metric_rate_limit_table_nothing_evicted_or_untracked" "${rl_full:-none} ${rl_debt:-none} ${rl_untr:-none}" "0 0 0"

# (d) graceful stop: 4 long requests in flight and 2 idle keep-alive connections, wrk running.
nsx wrk -t1 -c2 -d4s "http://$VIP:8081/w" >"$TMP/wrk-stop.out" 2>&1 &
wrk_pid=$!
nsx python3 "$CLIENT" drain 198.18.0.6 "$VIP" 80 /free/delay/2000 6 >"$TMP/drain.json" 2>"$TMP/drain.err" &
py=$!
tb_wait_for "grep -q sent '$TMP/drain.err'" 10 || tb_fail "drain_client_started" "$(cat "$TMP/drain.err")"
sleep 0.5
t0=$(date +%s.%N)
kill -TERM "$(cat "$state/sluice.pid")"
wait "$py" || true
wait "$wrk_pid" || true
tb_wait_for "[ -s '$state/sluice.rc' ]" 10 || true
t1=$(date +%s.%N)
tb_log "graceful stop: $(cat "$TMP/drain.json")"
tb_log "wrk across the stop: $(grep -E 'requests in|Non-2xx|Socket' "$TMP/wrk-stop.out" | tr -s ' ' | tr '\n' ' ')"
tb_log "sluice: $(grep 'graceful stop' "$state/sluice.log" | tr '\n' ' ') exit $(cat "$state/sluice.rc" 2>/dev/null), $(python3 -c "print(round($t1 - $t0, 2))") s after SIGTERM"
expect "stop_in_flight_requests_complete_with_full_200" \
	"$(jq_ "$TMP/drain.json" 'all(x.get("status") == 200 and x.get("body_ok") for x in d["results"][:-2])')" True
expect "stop_last_response_says_connection_close_then_eof" \
	"$(jq_ "$TMP/drain.json" 'all((x.get("connection") or "").lower() == "close" and x.get("eof_after") for x in d["results"][:-2])')" True
expect "stop_idle_keep_alive_gets_fin" "$(jq_ "$TMP/drain.json" '[x.get("idle") for x in d["results"][-2:]]')" "['fin', 'fin']"
expect "stop_new_connection_refused" "$(jq_ "$TMP/drain.json" 'd["late"]')" ConnectionRefusedError
if grep -qE 'Non-2xx' "$TMP/wrk-stop.out" || ! grep -q 'requests in' "$TMP/wrk-stop.out"; then
	tb_fail "stop_wrk_sees_no_error_status" "$(tr '\n' ' ' <"$TMP/wrk-stop.out")"
else tb_pass "stop_wrk_sees_no_error_status"; fi
expect "stop_exit_status_0" "$(cat "$state/sluice.rc" 2>/dev/null)" 0
"$top/scripts/testbed.sh" down >/dev/null 2>&1 || true

# --- two workers: the shared table holds the limit across them -------------------------------
# ... even when it is one 8-way set (a table of 8 entries): the limited client and the one
# from .3 are protected (promoted by their requests 2 s apart), newcomers churn the other 6.
sed 's/^limits:$/limits:\n  rate_limit_table_size: 8/' "$TMP/adm.yaml" >"$TMP/adm-small.yaml"
up 2 "$TMP/adm-small.yaml"
rate_phase 2

# (e) churn: 20 new addresses once on / (rate 50/s: their buckets are full again 20 ms later),
# then, after 0.5 s, the same 20 on /slow/ (6/min: each leaves a debt for 10 s). The first of
# the second round replace full buckets of the first; the rest replace each other's debt.
for a in $(seq 40 59); do nsx ip addr add "198.18.0.$a/32" dev sl0; done
for a in $(seq 40 59); do nsx curl -s -o /dev/null -m 5 --interface "198.18.0.$a" "http://$VIP/c$a" || true; done
sleep 0.5
t0=$(date +%s.%N)
for a in $(seq 40 59); do nsx curl -s -o /dev/null -m 5 --interface "198.18.0.$a" "http://$VIP/slow/c$a" || true; done
tb_log "second round of 20 addresses in $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s (must stay under 10 s)"
scrape
read -r rl_ins rl_full rl_debt rl_untr <<<"$(rl_metrics)"
rl_used=$(awk '$1 == "sluice_rate_limit_table_entries" {print $2}' "$TMP/metrics")
tb_log "rate-limit table of 8, 2 workers: inserted ${rl_ins:-?}, evicted full ${rl_full:-?} / debt ${rl_debt:-?}, untracked ${rl_untr:-?}, entries ${rl_used:-?}"
# 2 (.1 and .3 on /) + 40; no insert raced another (one client at a time).
expect "w2_small_table_inserted_every_new_key" "${rl_ins:-none}" 42
expect "w2_small_table_every_insert_past_8_evicts" "$((${rl_full:-0} + ${rl_debt:-0}))" "$((${rl_ins:-0} - 8))"
within "w2_small_table_evicted_full_first" "${rl_full:-none}" 6 34
within "w2_small_table_evicted_with_debt" "${rl_debt:-none}" 13 34
expect "w2_small_table_untracked_0_entries_8" "${rl_untr:-none} ${rl_used:-none}" "0 8"
# The SIGUSR1 stats line: the same sums.
if tb_sluice_stats "$state" >"$TMP/stats.json"; then
	expect "w2_stats_line_rate_limit_table" \
		"$(jq_ "$TMP/stats.json" '" ".join(str(d["rate_limit_table"][k]) for k in ("inserted", "evicted_full", "evicted_debt", "untracked", "entries", "capacity"))')" \
		"$rl_ins $rl_full $rl_debt $rl_untr $rl_used 8"
else tb_fail "w2_stats_line_rate_limit_table" "no stats line after SIGUSR1"; fi

tb_summary
