#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# Fault injection against health checks, circuit breaker and slow start (issue 9), in the TAP
# testbed (scripts/testbed.sh --no-backends, namespace sl-res-<pid>): sluice at 198.18.0.2,
# three sluice-backend processes this test starts itself at 198.18.0.11-.13:8080 with
# --fault-file / --unhealthy-file, wrk and curl as clients, /metrics read from the admin
# listener. Everything lives in the namespace and goes away on every exit.
#   (a) a backend stopped under wrk leaves rotation within interval x unhealthy (+ slack), no
#       request fails, it returns within interval x healthy of its restart and ramps (slow start)
#   (b) a backend answering 500: the circuit opens after `threshold`, nothing reaches it while
#       open (the backend's own count), half-open probes close it once it recovers
#   (c) a backend that accepts and never answers: 504 after backend_response, then the
#       circuit opens and the next request is refused at once
#   (d) outlier detection alone (breaker off): 500s eject the backend for base_ejection_time,
#       then it returns
#   (e) a backend whose /health answers 503 (outside expected_status) goes down and comes back
#   (f) a reload (SIGHUP) keeps a down backend down; the new snapshot's probes bring it back
# GET /api/backends shows each state with (a) its reason and the slow-start ramp, (b) the open
# circuit, (d) the ejection.
# Each part prints its figures.
#
# Usage: test_resilience.sh [BUILD_DIR]   (default build/; SL_RES_WORKERS=2 for two workers)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-res "${1:-}"
VIP=198.18.0.2

tb_need_root
tb_need_cmd ip curl wrk python3
TMP=$(mktemp -d /tmp/sl-res-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

# Short timings so the whole file runs in about a minute.
cat >"$TMP/res.yaml" <<EOF
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
  idle: adaptive
admin:
  rate_limit: {requests_per_second: 1000, burst: 1000}   # the test scrapes /metrics often
  auth: {db_path: $TMP/users.db, jwt_secret: resilience-test-secret-$$}   # for /api/backends
timeouts:
  backend_connect: 1s
  backend_response: 2s
health_check:
  path: /health
  interval: 500ms
  timeout: 400ms
  thresholds: {healthy: 2, unhealthy: 3}
circuit_breaker:
  threshold: 5
  timeout: 4s
  half_open_requests: 1
outlier_detection:
  enabled: false
services:
  - name: res
    locations:
      - path: /
        slow_start: {window: 6s, min_weight_percent: 5}
        backends:
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
          - url: http://198.18.0.13:8080
      - path: /hang/
        circuit_breaker: {threshold: 2, timeout: 30s}
        backends:
          - url: http://198.18.0.11:8080
      - path: /o/
        circuit_breaker: {enabled: false}
        outlier_detection: {consecutive: 3, base_ejection_time: 3s, max_ejection_percent: 50}
        backends:
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
EOF
"$SL_BUILD/apps/sluice/sluice" --check --config "$TMP/res.yaml" >/dev/null ||
	tb_die "the test configuration does not load"
pw='resilience test passphrase'
echo "$pw" | "$SL_BUILD/apps/sluicectl/sluicectl" --config "$TMP/res.yaml" user add ops >/dev/null ||
	tb_die "sluicectl user add failed"

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --no-backends --workers "${SL_RES_WORKERS:-1}" --config "$TMP/res.yaml" >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }

nsx() { ip netns exec "$SL_NS" "$@"; }
declare -A BPID
start_backend() { # N
	# ip netns exec execs the backend: $! is its own PID, which tb_stop_pid stops.
	ip netns exec "$SL_NS" "$SL_BUILD/apps/sluice-backend/sluice-backend" --listen "198.18.0.1$1:8080" \
		--name "backend$1" --fault-file "$TMP/fault$1" --unhealthy-file "$TMP/sick$1" </dev/null >>"$TMP/backend$1.log" 2>&1 &
	BPID[$1]=$!
	tb_wait_for "nsx curl -s -m 1 -o /dev/null http://198.18.0.1$1:8080/health" 10 ||
		tb_die "backend$1 does not start"
}
stop_backends() { local n; for n in "${!BPID[@]}"; do tb_stop_pid "${BPID[$n]}"; done; }
tb_on_exit stop_backends
for n in 1 2 3; do start_backend $n; done
tb_wait_for "nsx curl -s -m 2 -o /dev/null http://$VIP/" 15 ||
	{ cat "$state/sluice.log" >&2; tb_die "sluice does not answer HTTP"; }

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
served() { nsx curl -s -m 2 "http://198.18.0.1$1:8080/served"; }
metrics() { nsx curl -s -m 2 http://127.0.0.1:1997/metrics; }
# metric NAME BACKEND_N [LABEL_FILTER [LOCATION]]: value of backend N's sample in LOCATION (/)
metric() {
	metrics | grep "^sluice_$1{" | grep "location=\"${4:-/}\"" |
		grep "backend=\"http://198.18.0.1$2:8080\"" | grep -F -- "${3:-}" | awk '{print $2}' | head -1
}
check() { # NAME VALUE BOUND: VALUE <= BOUND
	if le "$2" "$3"; then tb_pass "$1 ($2 <= $3)"; else tb_fail "$1" "$2 > $3"; fi
}
expect() { if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi; }
tok=$(nsx curl -s -m 10 http://127.0.0.1:1997/api/auth/login -d "{\"username\":\"ops\",\"password\":\"$pw\"}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || tb_die "cannot log in"
# api BACKEND_N LOCATION FIELD...: fields of the backend's object in one GET /api/backends, as
# Python prints them, joined by "/" ("?" when the answer is not a list of backends).
api() {
	{ nsx curl -sS -m 2 -H "Authorization: Bearer $tok" http://127.0.0.1:1997/api/backends || true; } |
		python3 -c '
import json, sys
n, loc, fields = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    bs = json.load(sys.stdin)["backends"]
except (ValueError, KeyError):
    bs = []
    print("?")
for b in bs:
    if b["url"] == "http://198.18.0.1%s:8080" % n and b["location"] == loc:
        print("/".join(str(b.get(f)) for f in fields))' "$@"
}

# The backends start after sluice: on a loaded machine its first probes may fail and take
# one down before it listens (then it comes back within healthy x interval).
up3() { echo "$(metric backend_up 1)$(metric backend_up 2)$(metric backend_up 3)"; }
tb_wait_for "[ \"\$(up3)\" = 111 ]" 10 || true
expect "all_backends_up_at_start" "$(up3)" 111
# "back in rotation" lines of backend3 so far (a startup flap above may have logged one).
rot3() { grep -c 'backend http://198.18.0.13:8080 (res / .*back in rotation' "$state/sluice.log" || true; }
rot3_0=$(rot3)

# ---- (a) a backend stopped under load, then restarted ----------------------------------
# 26 s: the ramp is sampled for 7.5 s after "back in rotation", which a half-open probe that
# met the restarting backend can delay by the open time (4 s).
ip netns exec "$SL_NS" wrk -t2 -c8 -d26s --timeout 10s --latency "http://$VIP/" >"$TMP/wrk_a.txt" 2>&1 &
wrk_pid=$!
tb_on_exit "tb_stop_pid $wrk_pid"
sleep 2
tb_stop_pid "${BPID[3]}"
t_kill=$(now)
if tb_wait_for "[ \"\$(metric backend_up 3)\" = 0 ]" 10; then t_eject=$(since "$t_kill"); else t_eject=99; fi
tb_log "(a) backend3 stopped: out of rotation after ${t_eject}s (interval 0.5s x unhealthy 3 = 1.5s)"
check "a_eject_within_interval_x_unhealthy_plus_slack" "$t_eject" 4.0
tb_log "(a) $(grep -o 'backend http://198.18.0.13:8080 .*health down.*' "$state/sluice.log" | head -1)"
expect "a_api_state_down" "$(api 3 / state health)" down/down
r=$(api 3 / health_reason)
tb_log "(a) GET /api/backends: health_reason \"$r\""
if [[ $r == "3 consecutive failed checks"* ]]; then tb_pass "a_api_health_reason"; else
	tb_fail "a_api_health_reason" "$r"; fi
sleep 1
base3=0
start_backend 3
t_start=$(now)
if tb_wait_for "[ \"\$(metric backend_up 3)\" = 1 ]" 10; then t_back=$(since "$t_start"); else t_back=99; fi
tb_log "(a) backend3 restarted: back in rotation after ${t_back}s (interval 0.5s x healthy 2 = 1s)"
check "a_restore_within_interval_x_healthy_plus_slack" "$t_back" 3.5
# Slow start runs from when every flag is clear again (the circuit its connect failures opened
# may still be open): backend3's share in the first 1.5 s of the 6 s ramp and once it is over.
tb_wait_for "[ \"\$(rot3)\" -gt $rot3_0 ]" 6 ||
	tb_fail "a_back_in_rotation_logged"
ramp=$(api 3 / slow_start_percent)
tb_log "(a) GET /api/backends at the start of the ramp: slow_start_percent $ramp (5% .. 100% over 6 s)"
check "a_api_slow_start_ramping (5 <= percent)" 5 "$ramp"
check "a_api_slow_start_ramping (percent <= 60)" "$ramp" 60
s1a=$(served 1); s2a=$(served 2); s3a=$(served 3)
sleep 1.5
s1b=$(served 1); s2b=$(served 2); s3b=$(served 3)
sleep 4.5
s1c=$(served 1); s2c=$(served 2); s3c=$(served 3)
sleep 1.5
s1d=$(served 1); s2d=$(served 2); s3d=$(served 3)
wait "$wrk_pid" || true
early=$(python3 -c "print('%.3f' % (($s3b-$s3a)/max(1,($s1b-$s1a)+($s2b-$s2a)+($s3b-$s3a))))")
late=$(python3 -c "print('%.3f' % (($s3d-$s3c)/max(1,($s1d-$s1c)+($s2d-$s2c)+($s3d-$s3c))))")
tb_log "(a) slow start: backend3's share $early in its first 1.5 s, $late 6-7.5 s later (full: 0.333)"
check "a_slow_start_ramps (early share < 0.6 x late share)" "$early" \
	"$(python3 -c "print($late * 0.6)")"
check "a_backend_takes_traffic_after_ramp (late share > 0.2)" 0.2 "$late"
cat "$TMP/wrk_a.txt" >&2
errs=$(grep -E "Non-2xx|Socket errors" "$TMP/wrk_a.txt" || true)
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk_a.txt")
tb_log "(a) wrk: $reqs requests, errors: ${errs:-none}"
expect "a_no_request_failed" "${errs:-none}" none
changes=$(metric backend_state_changes_total 3)
expect "a_two_state_changes_counted" "$changes" 2
grep -q "backend http://198.18.0.13:8080 .*health down: 3 consecutive" "$state/sluice.log" &&
	tb_pass "a_down_logged_with_reason" || tb_fail "a_down_logged_with_reason" "$(grep 'backend http' "$state/sluice.log" | head)"

# ---- (b) a backend answering 500 --------------------------------------------------------
echo 500 >"$TMP/fault2"
b0=$(served 2)
codes=""
# Until the circuit opens (at most 24): the open time runs from then, not from the last request.
for ((i = 0; i < 24; i++)); do
	codes+="$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/b")"$'\n'
	[ "$(metric backend_circuit_state 2 'state="open"')" = 1 ] && break
done
t_open=$(now)
b1=$(served 2)
n500=$(grep -c '^500$' <<<"$codes" || true)
tb_log "(b) $(grep -c . <<<"$codes") requests with backend2 failing: $n500 answered 500, backend2 saw $((b1 - b0))"
expect "b_circuit_open_after_threshold" "$(metric backend_circuit_state 2 'state="open"')" 1
expect "b_api_circuit_open" "$(api 2 / state circuit circuit_opens)" circuit_open/open/1
expect "b_backend_saw_threshold_requests" "$((b1 - b0))" 5
codes=""
while le "$(since "$t_open")" 3; do codes+="$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/b")"$'\n'; done
b2=$(served 2)
nreq=$(grep -c . <<<"$codes"); nbad=$(grep -v '^200$' <<<"$codes" | grep -c . || true)
tb_log "(b) while open: $nreq requests, $nbad not 200, backend2 saw $((b2 - b1))"
expect "b_nothing_reaches_open_backend" "$((b2 - b1))" 0
expect "b_no_error_while_open" "$nbad" 0
rm -f "$TMP/fault2"
t_fix=$(now)
while [ "$(metric backend_circuit_state 2 'state="closed"')" != 1 ] && le "$(since "$t_fix")" 14; do
	nsx curl -s -m 5 -o /dev/null "http://$VIP/b"
done
t_close=$(since "$t_fix")
tb_log "(b) backend2 recovered: circuit closed ${t_close}s later (open time 4s, 1 probe)"
expect "b_half_open_probe_closes" "$(metric backend_circuit_state 2 'state="closed"')" 1
check "b_closed_within_open_time_plus_slack" "$t_close" 7
grep -q "backend http://198.18.0.12:8080 .*circuit opened" "$state/sluice.log" &&
	tb_pass "b_open_logged" || tb_fail "b_open_logged"

# ---- (c) a backend that accepts and never answers ----------------------------------------
echo hang >"$TMP/fault1"
hang() { nsx curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' "http://$VIP/hang/x"; }
read -r c1 t1 <<<"$(hang)"
read -r c2 t2 <<<"$(hang)"
read -r c3 t3 <<<"$(hang)"
rm -f "$TMP/fault1"
tb_log "(c) hung backend: $c1 in ${t1}s, $c2 in ${t2}s, then $c3 in ${t3}s (backend_response 2s, threshold 2)"
expect "c_first_is_504" "$c1" 504
expect "c_second_is_504" "$c2" 504
check "c_504_after_response_timeout (s)" "$t1" 4.0
check "c_504_not_before_response_timeout (s)" 1.9 "$t1"
expect "c_then_refused_as_circuit_opened" "$c3" 503
check "c_refused_at_once (s)" "$t3" 0.5

# ---- (d) outlier detection: 500s eject for base_ejection_time ----------------------------
echo 500 >"$TMP/fault2"
d0=$(served 2)
codes=""
for ((i = 0; i < 12; i++)); do
	codes+="$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/o/")"$'\n'
	[ "$(metric backend_ejected 2 '' /o/)" = 1 ] && break
done
t_ej=$(now)
d1=$(served 2)
n500=$(grep -c '^500$' <<<"$codes" || true)
tb_log "(d) $(grep -c . <<<"$codes") requests with backend2 failing: $n500 answered 500, backend2 saw $((d1 - d0))"
expect "d_ejected_after_consecutive_5xx" "$(metric backend_ejected 2 '' /o/)" 1
expect "d_api_ejected" "$(api 2 /o/ state ejected ejections)" ejected/True/1
expect "d_backend_saw_consecutive_requests" "$((d1 - d0))" 3
while le "$(since "$t_ej")" 2; do nsx curl -s -m 5 -o /dev/null "http://$VIP/o/"; done
expect "d_nothing_reaches_ejected_backend" "$(($(served 2) - d1))" 0
rm -f "$TMP/fault2"
if tb_wait_for "[ \"\$(metric backend_ejected 2 '' /o/)\" = 0 ]" 8; then t_ret=$(since "$t_ej"); else t_ret=99; fi
tb_log "(d) backend2 returned ${t_ret}s after its ejection (base_ejection_time 3s)"
check "d_returns_after_base_time_not_before (s)" 2.7 "$t_ret"
check "d_returns_after_base_time_plus_slack (s)" "$t_ret" 7
expect "d_ejection_counted" "$(metric backend_ejections_total 2 '' /o/)" 1
grep -q "backend http://198.18.0.12:8080 (res /o/ .*ejected" "$state/sluice.log" &&
	tb_pass "d_ejection_logged" || tb_fail "d_ejection_logged"

# ---- (e) a status outside expected_status ----------------------------------------------------
touch "$TMP/sick1"
t_sick=$(now)
if tb_wait_for "[ \"\$(metric backend_up 1)\" = 0 ]" 6; then t_down=$(since "$t_sick"); else t_down=99; fi
rm -f "$TMP/sick1"
t_well=$(now)
if tb_wait_for "[ \"\$(metric backend_up 1)\" = 1 ]" 6; then t_up=$(since "$t_well"); else t_up=99; fi
tb_log "(e) /health 503: down after ${t_down}s, up ${t_up}s after it answers 200 again"
check "e_bad_status_takes_it_down (s)" "$t_down" 4.0
check "e_good_status_brings_it_back (s)" "$t_up" 3.0
grep -q "backend http://198.18.0.11:8080 (res / .*health down: 3 consecutive failed checks (last: unexpected status)" \
	"$state/sluice.log" && tb_pass "e_reason_logged" || tb_fail "e_reason_logged"
[ "$(metric backend_health_checks_total 1 'result="bad_status"')" -ge 3 ] &&
	tb_pass "e_bad_status_counted" || tb_fail "e_bad_status_counted"

# ---- (f) health state across a reload -------------------------------------------------------
touch "$TMP/sick1"
tb_wait_for "[ \"\$(metric backend_up 1)\" = 0 ]" 6 || tb_fail "f_down_before_reload"
kill -HUP "$(cat "$state/sluice.pid")"
if tb_wait_for "grep -q 'generation 2 published' '$state/sluice.log'" 10; then
	expect "f_still_down_after_reload" "$(metric backend_up 1)" 0
else
	tb_fail "f_reload_published" "$(tail -3 "$state/sluice.log")"
fi
rm -f "$TMP/sick1"
t_well=$(now)
if tb_wait_for "[ \"\$(metric backend_up 1)\" = 1 ]" 6; then t_up=$(since "$t_well"); else t_up=99; fi
tb_log "(f) after a reload: still down, up ${t_up}s after its /health answers 200 (the new snapshot's probes)"
check "f_new_probes_bring_it_back (s)" "$t_up" 3.0

metrics >"$TMP/metrics.txt"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.txt" 2>&1 &&
		tb_pass "promtool_check_metrics" || tb_fail "promtool_check_metrics" "$(head -5 "$TMP/promtool.txt")"
fi
grep -q '^sluice_backend_health_checks_total{.*result="pass"} [1-9]' "$TMP/metrics.txt" &&
	tb_pass "health_checks_counted" || tb_fail "health_checks_counted"
tb_summary
