#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The access log end to end, and `sluicectl stats`.
# Topology: namespace sl-it-alog-<pid> (scripts/testbed.sh): sluice at 198.18.0.2, one worker,
# a service `alog` with one location /app/ (rewritten to /) over the backends 198.18.0.11 and
# .12:8080, a 1 KiB body limit and a 1 s header timeout; the admin API on 127.0.0.1:1997
# inside the namespace, a users database made with sluicectl.
#   1. JSON lines to a file: ten requests of different kinds (200, 404, 413, POST with a body,
#      HEAD, HTTP/1.0, a hostile path and User-Agent, a malformed request, a client that
#      leaves mid-head, a header timeout) give exactly ten lines with the right fields; a wrk
#      run gives one line per request (sluice's own request counter, and wrk's count give or
#      take the requests in flight when wrk stopped); SIGUSR2 reopens the file after a
#      rotation; sluicectl stats shows the tables and --json the counters.
#   2. The combined format on stdout with a ring of 4 records: the same ten requests give
#      ten well-quoted lines; wrk with 32 connections makes the worker drop records, and
#      sluice_access_log_dropped_total equals the requests minus the lines written.
#   3. path: /dev/full: every line is lost, sluice_access_log_lost_total counts them, the error
#      is logged once, and requests are served as before.
# Everything (namespace, processes, files) goes away on every exit path.
#
# usage: test_access_log.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-alog "${1:-}"

tb_need_root
tb_need_cmd ip curl python3 wrk
ctl=$SL_BUILD/apps/sluicectl/sluicectl
[ -x "$ctl" ] || tb_die "no $ctl: build first"
api=http://127.0.0.1:1997
VIP=198.18.0.2
nsx() { ip netns exec "$SL_NS" "$@"; }

tmp=$(mktemp -d /tmp/sl-it-alog.XXXXXX)
tb_on_exit "rm -rf '$tmp'"
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"

# config FORMAT PATH RING: the test's configuration on stdout
config() {
	cat <<YAML
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
  idle: adaptive
  mbufs: 8191
services:
  - name: alog
    host: "*"
    port: 80
    locations:
      - path: /app/
        rewrite: /
        backends:
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
      - path: /retry/
        rewrite: /
        health_check: {enabled: false}
        backends:
          - url: http://198.18.0.11:8081   # nobody listens: refused, retried on the other
          - url: http://198.18.0.12:8080
limits: {max_body: 1k}
timeouts: {client_header: 1s}
admin:
  listen: 127.0.0.1:1997
  auth:
    db_path: $tmp/users.db
    jwt_secret: access-log-test-secret-$$
  access_log:
    format: $1
    path: $2
    ring_size: $3
YAML
}

up() {
	"$top/scripts/testbed.sh" up --config "$1" >"$tmp/up.log" 2>&1 ||
		{ cat "$tmp/up.log" >&2; tb_die "testbed did not come up"; }
	tb_wait_for "nsx curl -s -m 1 -o /dev/null $api/health" 10 || tb_die "no admin API"
	# Wait for the backends without sending a request through sluice (it would be logged).
	tb_wait_for "nsx curl -s -m 1 -o /dev/null http://198.18.0.11:8080/health" 10 ||
		tb_die "no backend"
}

# The ten requests, in order; each waits for its answer, so the log has them in this order.
ten_requests() {
	local big
	big=$(head -c 2048 /dev/zero | tr '\0' a)
	nsx curl -s -m 5 -o /dev/null -A 'alog-test/1 "quoted"' -e 'http://ref.example/p?a=1' \
		"http://$VIP/app/x?q=1"
	nsx curl -s -m 5 -o /dev/null "http://$VIP/nothing"
	nsx curl -s -m 5 -o /dev/null --data-binary "$big" "http://$VIP/app/big"
	nsx curl -s -m 5 -o /dev/null -d 'hello=world' "http://$VIP/app/post"
	nsx curl -s -m 5 -o /dev/null -I "http://$VIP/app/h"
	nsx curl -s -m 5 -o /dev/null -0 "http://$VIP/app/ten"
	nsx python3 - "$VIP" <<'PY'
import socket, sys, time
vip = sys.argv[1]
def exchange(data, linger=0.0):
    s = socket.create_connection((vip, 80), timeout=5)
    s.sendall(data)
    if linger:
        time.sleep(linger)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
# A path and a User-Agent with a quote and a backslash (valid HTTP, hostile to a log).
exchange(b'GET /app/q"u\\o?<x> HTTP/1.1\r\nHost: h\r\nUser-Agent: ev"il\\ a\r\n'
         b'Connection: close\r\n\r\n')
# Not HTTP: 400.
exchange(b'GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n')
# Half a head, then the client leaves: no status.
s = socket.create_connection((vip, 80), timeout=5)
s.sendall(b'GET /app/gone HTTP/1.1\r\nHost: h\r\n')
time.sleep(0.2)
s.close()
time.sleep(0.2)
# Half a head, then nothing: 408 after client_header (1 s).
exchange(b'GET /app/slow HTTP/1.1\r\nHost: h\r\n')
PY
}

# metric NAME [LABEL=VALUE...]: the sum of NAME's samples whose labels match, from /metrics
metric() {
	nsx curl -s -m 5 "$api/metrics" | python3 -c '
import re, sys
name, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
total = 0
for line in sys.stdin:
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line.strip())
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r"([a-zA-Z_]\w*)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(3) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(4))
print(int(total))' "$@"
}

# ================================ 1. JSON lines to a file =================================
log=$tmp/access.log
config json "$log" 4096 >"$tmp/a.yaml"
pw='access log test passphrase'
tb_check "sluicectl user add ops" bash -c "echo '$pw' | '$ctl' --config '$tmp/a.yaml' user add ops"
up "$tmp/a.yaml"
tb_check "the log file is created at start (mode 0640)" \
	bash -c "[ -f '$log' ] && [ \$(stat -c %a '$log') = 640 ]"

ten_requests
tb_wait_for "[ \$(wc -l <'$log') -ge 10 ]" 10
sleep 0.3
tb_check "ten requests, exactly ten JSON lines ($(wc -l <"$log"))" test "$(wc -l <"$log")" = 10
tb_check "every line is a JSON object with the right fields" python3 - "$log" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
recs = [json.loads(l) for l in lines]
keys = ["time", "client", "worker", "method", "host", "path", "protocol", "status",
        "bytes_received", "bytes_sent", "body_bytes_sent", "duration_us", "ttfb_us", "service",
        "location", "backend", "retries", "reason", "referer", "user_agent"]
for r in recs:
    assert list(r)[:len(keys)] == keys, r
    assert r["client"].startswith("198.18.0.1:") and r["worker"] == 0, r
    assert r["time"].endswith("Z") and len(r["time"]) == 27, r
want = [  # method, path, protocol, status, reason
    ("GET", "/app/x?q=1", "HTTP/1.1", 200, "ok"),
    ("GET", "/nothing", "HTTP/1.1", 404, "no_route"),
    ("POST", "/app/big", "HTTP/1.1", 413, "too_large"),
    ("POST", "/app/post", "HTTP/1.1", 200, "ok"),
    ("HEAD", "/app/h", "HTTP/1.1", 200, "ok"),
    ("GET", "/app/ten", "HTTP/1.0", 200, "ok"),
    ("GET", '/app/q"u\\o?<x>', "HTTP/1.1", 200, "ok"),
    ("GET", "", "", 400, "parse_error"),
    ("", "", "", 0, "client_closed"),
    ("", "", "", 408, "header_timeout"),
]
for i, (r, w) in enumerate(zip(recs, want)):
    got = (r["method"], r["path"], r["protocol"], r["status"], r["reason"])
    assert got == w, (i, got, w)
proxied = [recs[i] for i in (0, 3, 4, 5, 6)]
for r in proxied:
    assert r["service"] == "alog" and r["location"] == "/app/", r
    assert r["backend"] in ("198.18.0.11:8080", "198.18.0.12:8080"), r
    assert r["ttfb_us"] is not None and 0 <= r["ttfb_us"] <= r["duration_us"], r
    assert r["bytes_sent"] > r["body_bytes_sent"] and r["retries"] == 0, r
for r in recs[1:3] + recs[7:]:
    assert r["backend"] is None and r["service"] == "", r
r = recs[0]
assert r["referer"] == "http://ref.example/p?a=1" and r["user_agent"] == 'alog-test/1 "quoted"', r
assert r["host"] == "198.18.0.2" and r["body_bytes_sent"] > 0, r
assert recs[2]["bytes_received"] > 0, recs[2]  # the head (curl waits for 100-continue)
assert recs[3]["bytes_received"] >= 11 + 60, recs[3]  # head and the 11-byte body
assert recs[4]["body_bytes_sent"] == 0 and recs[4]["bytes_sent"] > 0, recs[4]  # HEAD
assert recs[6]["user_agent"] == 'ev"il\\ a' and recs[6]["host"] == "h", recs[6]
assert recs[8]["ttfb_us"] is None and recs[8]["bytes_sent"] == 0, recs[8]
assert recs[9]["duration_us"] >= 900000, recs[9]  # the 1 s header timeout
PY
tb_check "the hostile path is escaped in the file (no raw quote inside a string)" \
	grep -qF '"path":"/app/q\"u\\o?<x>"' "$log"

# --- sluicectl stats ---------------------------------------------------------------------
tok=$tmp/token
nsx "$ctl" --token-file "$tmp/none" stats 2>"$tmp/st0.err"
rc=$?
tb_check "sluicectl stats without a token is refused (exit $rc, 1 expected)" \
	bash -c "[ $rc = 1 ] && grep -q 'sluicectl login' '$tmp/st0.err'"
tb_check "sluicectl login" bash -c \
	"echo '$pw' | ip netns exec '$SL_NS' '$ctl' --token-file '$tok' login -u ops >/dev/null"
nsx "$ctl" --token-file "$tok" stats >"$tmp/stats.txt" 2>&1
tb_check "sluicectl stats exits 0" test $? = 0
tb_check "sluicectl stats shows totals, workers, ports and the backends" python3 - "$tmp/stats.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
assert re.search(r"^requests  1xx 0  2xx 5  3xx 0  4xx 4  5xx 0  none 1", t, re.M), t
assert re.search(r"^WORKER\s+STATUS\s+BUSY_S\s+LOG_WRITTEN\s+LOG_DROPPED$", t, re.M), t
assert re.search(r"^0\s+ok\s+[0-9.]+\s+10\s+0$", t, re.M), t
assert re.search(r"^tap0\s+\d+", t, re.M), t
rows = re.findall(r"^alog\s+/app/\s+http://198\.18\.0\.1[12]:8080\s+up\s+0\s+(\d+)", t, re.M)
assert len(rows) == 2 and sum(map(int, rows)) == 5, rows
assert re.search(r"^\(none\)\s+-\s+-\s+-", t, re.M), t  # requests no service took
PY
nsx "$ctl" --token-file "$tok" --json stats >"$tmp/stats.json" 2>&1
tb_check "sluicectl --json stats is the API's JSON with the access-log counters" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
w = s["workers"][0]
assert w["access_log"] == {"written": 10, "dropped": 0, "lost": 0}, w
assert s["http"]["requests"]["2xx"] == 5, s["http"]' "$tmp/stats.json"

# --- a retried request: one line, with its retry and the backend that answered -------------
for i in 1 2; do nsx curl -s -m 5 -o /dev/null "http://$VIP/retry/r$i"; done
tb_wait_for "[ \$(wc -l <'$log') -ge 12 ]" 5
tb_check "a request retried after a refused connect is one line with retries 1" \
	python3 - "$log" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb").read().split(b"\n")[10:-1]]
assert len(recs) == 2 and all(r["status"] == 200 and r["reason"] == "ok" for r in recs), recs
retried = [r for r in recs if r["retries"] == 1]
assert retried and all(r["backend"] == "198.18.0.12:8080" for r in retried), recs
assert all(r["location"] == "/retry/" for r in recs), recs
PY

# --- log rotation: SIGUSR2 reopens the file -------------------------------------------------
mv "$log" "$log.1"
kill -USR2 "$(cat "$state/sluice.pid")"
sleep 0.3
nsx curl -s -m 5 -o /dev/null "http://$VIP/app/after-rotation"
tb_wait_for "[ -s '$log' ]" 5
tb_check "after SIGUSR2 the next line goes to a new file" \
	bash -c "[ \$(wc -l <'$log') = 1 ] && grep -q '/app/after-rotation' '$log' && [ \$(wc -l <'$log.1') = 12 ]"

# --- wrk: one line per request -------------------------------------------------------------
req0=$(metric sluice_http_requests_total)
lines0=$(cat "$log" "$log.1" | wc -l)
tb_check "requests counted so far equal the lines ($req0, 13 expected)" \
	test "$req0" = "$lines0" -a "$req0" = 13
nsx wrk -t1 -c8 -d3s "http://$VIP/app/" >"$tmp/wrk.out" 2>&1
wrk_n=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
tb_log "wrk: ${wrk_n:-?} requests"
tb_check "wrk completed requests" test "${wrk_n:-0}" -gt 100
lines() { cat "$log" "$log.1" | wc -l; }
tb_wait_for "[ \$(lines) -ge \$((\$(metric sluice_http_requests_total))) ]" 10
req1=$(metric sluice_http_requests_total)
lines1=$(lines)
tb_check "one line per request sluice counted ($((lines1 - lines0)) lines, $((req1 - req0)) requests)" \
	test "$((lines1 - lines0))" = "$((req1 - req0))"
ok200=$(tail -n "$((lines1 - lines0))" "$log" | grep -c '"status":200,')
tb_check "200 lines match wrk's count give or take the 8 in flight ($ok200 vs $wrk_n)" \
	test "$ok200" -ge "$wrk_n" -a "$ok200" -le "$((wrk_n + 8))"
tb_check "no record dropped with 4096 records" test "$(metric sluice_access_log_dropped_total)" = 0
tb_check "sluice_access_log_records_total counts the lines" \
	test "$(metric sluice_access_log_records_total worker=0)" = "$lines1"
"$top/scripts/testbed.sh" down >/dev/null 2>&1

# =================== 2. combined on stdout, a ring of 4: quoting and drops =====================
config combined stdout 4 >"$tmp/b.yaml"
up "$tmp/b.yaml"
clf() { grep -a '^198\.18\.0\.1 - - \[' "$state/sluice.log"; }
ten_requests
tb_wait_for "[ \$(clf | wc -l) -ge 10 ]" 10
sleep 0.3
clf >"$tmp/clf.txt"
tb_check "ten requests, exactly ten combined lines on stdout ($(wc -l <"$tmp/clf.txt"))" \
	test "$(wc -l <"$tmp/clf.txt")" = 10
tb_check "combined lines: request line, status, size, Referer and User-Agent, quoted" \
	python3 - "$tmp/clf.txt" <<'PY'
import re, sys
lines = open(sys.argv[1], "rb").read().decode("ascii").split("\n")[:-1]
head = r'^198\.18\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
want = [
    r'"GET /app/x\?q=1 HTTP/1\.1" 200 \d+ "http://ref\.example/p\?a=1" "alog-test/1 \\x22quoted\\x22"$',
    r'"GET /nothing HTTP/1\.1" 404 \d+ "-" "curl/[^"]+"$',
    r'"POST /app/big HTTP/1\.1" 413 \d+ "-" "-"$',
    r'"POST /app/post HTTP/1\.1" 200 \d+ "-" "curl/[^"]+"$',
    r'"HEAD /app/h HTTP/1\.1" 200 - "-" "curl/[^"]+"$',
    r'"GET /app/ten HTTP/1\.0" 200 \d+ "-" "curl/[^"]+"$',
    r'"GET /app/q\\x22u\\x5Co\?<x> HTTP/1\.1" 200 \d+ "-" "ev\\x22il\\x5C a"$',
    r'"GET -" 400 \d+ "-" "-"$',
    r'"-" 0 - "-" "-"$',
    r'"-" 408 \d+ "-" "-"$',
]
assert len(lines) == len(want), lines
for l, w in zip(lines, want):
    assert re.match(head + w, l), (l, w)
    assert l.count('"') == 6, l  # nothing from the client can add a quote
PY

# --- a tiny ring under load: drops are counted, never silent ------------------------------
req0=$(metric sluice_http_requests_total)
clf0=$(clf | wc -l)
nsx wrk -t2 -c32 -d3s "http://$VIP/app/" >"$tmp/wrk2.out" 2>&1
tb_log "wrk: $(awk '/requests in/ {print $1}' "$tmp/wrk2.out") requests with 32 connections"
settled() {
	local r d w
	r=$(metric sluice_http_requests_total)
	d=$(metric sluice_access_log_dropped_total)
	w=$(metric sluice_access_log_records_total)
	[ "$((d + w))" = "$r" ]
}
tb_wait_for settled 10
req1=$(metric sluice_http_requests_total)
dropped=$(metric sluice_access_log_dropped_total)
written=$(metric sluice_access_log_records_total)
clf1=$(clf | wc -l)
tb_log "requests $((req1 - req0)), lines $((clf1 - clf0)), dropped $dropped"
tb_check "records are dropped with a ring of 4 under 32 connections ($dropped)" test "$dropped" -gt 0
tb_check "dropped = requests - lines written ($dropped = $((req1 - req0)) - $((clf1 - clf0)))" \
	test "$dropped" = "$((req1 - req0 - (clf1 - clf0)))"
tb_check "records_total equals the lines on stdout ($written)" test "$written" = "$clf1"
tb_check "sluice still answers after dropping" \
	test "$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/app/")" = 200
"$top/scripts/testbed.sh" down >/dev/null 2>&1

# ============== 3. a file that cannot be written: lines lost, counted, said once ==============
config json /dev/full 4096 >"$tmp/c.yaml"
up "$tmp/c.yaml"
for i in 1 2 3; do nsx curl -s -m 5 -o /dev/null "http://$VIP/app/full$i"; done
tb_wait_for "[ \$(metric sluice_access_log_lost_total) = 3 ]" 5
tb_check "three lines lost to /dev/full are counted ($(metric sluice_access_log_lost_total)), none written" \
	test "$(metric sluice_access_log_lost_total)" = 3 -a "$(metric sluice_access_log_records_total)" = 0
tb_check "the write error is said once, with the file and the reason" \
	test "$(grep -c 'access log: cannot write to /dev/full: No space left on device' "$state/sluice.log")" = 1
tb_check "sluice still answers while its log cannot be written" \
	test "$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/app/")" = 200

tb_summary
