#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# The HTTP proxy with loss and reordering on the backend side. Topology (namespace
# sl-pximp-<pid>): testbed.sh up --impair, i.e. sl-impair relaying between sluice's TAP and
# the kernel side, told with --net 198.18.0.8/29 to impair only frames to or from the
# backends .11-.13: 2 % loss and 5 % held back 3 ms (reordered) each way, plus 1 ms of delay on
# every backend frame. The client (198.18.0.1) and a control backend at 198.18.0.21 (outside
# the /29) pass the relay untouched.
#
# Two locations, same work: /clean/ -> .21, /lossy/ -> .11-.13. Through each, 4 keep-alive
# client connections send 120 requests in all, alternating GET of 64 KB and POST of 64 KB,
# the bodies checked (pattern, sha256). Checks: every request completes, correctly, through
# both; sluice's request histogram (/metrics sluice_http_request_duration_seconds) counts
# them all; sluice's TCP counters show the recovery at work (retransmits). Figures printed:
# client-side p50/p99/max per location and sluice's mean and p99 bucket per location.
#
# Usage: test_proxy_impaired.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-pximp "${1:-}"
VIP=198.18.0.2
CLEAN=198.18.0.21
N=${SL_PXIMP_REQUESTS:-120}

tb_need_root
tb_need_cmd ip curl python3 ethtool
TMP=$(mktemp -d /tmp/sl-pximp-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

cat >"$TMP/proxy.yaml" <<EOF
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
      mtu: 1500
  idle: adaptive
  mbufs: 8191
timeouts:
  backend_response: 30s
services:
  - name: imp
    port: 80
    locations:
      - path: /clean/
        rewrite: /
        backends:
          - url: http://$CLEAN:8080
      - path: /lossy/
        rewrite: /
        backends:
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
          - url: http://198.18.0.13:8080
admin:
  listen: 127.0.0.1:1997
EOF

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$TMP/proxy.yaml" \
	--impair "--net 198.18.0.8/29 --loss 2 --reorder 5 --reorder-gap 3 --delay 1 --seed 7 --duration 900" \
	>"$TMP/up.log" 2>&1 || { cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
nsx() { ip netns exec "$SL_NS" "$@"; }
nsx ip addr add "$CLEAN/32" dev sl0c
ip netns exec "$SL_NS" "$SL_BUILD/apps/sluice-backend/sluice-backend" --listen "$CLEAN:8080" \
	--name clean </dev/null >"$TMP/clean.log" 2>&1 &
tb_on_exit "tb_stop_pid $!"
tb_wait_for "nsx curl -s -m 2 -o /dev/null http://$VIP/clean/health" 15 ||
	{ cat "$state/sluice.log" >&2; tb_die "no answer through /clean/"; }
tb_wait_for "nsx curl -s -m 5 -o /dev/null http://$VIP/lossy/health" 15 ||
	tb_die "no answer through /lossy/"

cat >"$TMP/load.py" <<'EOF'
import hashlib, http.client, json, os, sys, threading, time
vip, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = 65536
pat = bytes(97 + i % 26 for i in range(size))
body = os.urandom(size)
want = hashlib.sha256(body).hexdigest()
lat, bad, lock = [], [], threading.Lock()
def worker(k, count):
    c = None
    for i in range(count):
        t0 = time.monotonic()
        try:
            if c is None:
                c = http.client.HTTPConnection(vip, 80, timeout=60)
            if i % 2:
                c.request("POST", prefix + "up", body=body)
                r = c.getresponse(); data = r.read()
                ok = r.status == 200 and json.loads(data)["body_sha256"] == want
            else:
                c.request("GET", prefix + "bytes/%d" % size)
                r = c.getresponse(); data = r.read()
                ok = r.status == 200 and data == pat
        except Exception as e:
            ok, data = False, repr(e).encode()
            c = None
        with lock:
            if ok: lat.append(time.monotonic() - t0)
            else: bad.append("%s %s" % (i, data[:80]))
threads = [threading.Thread(target=worker, args=(k, n // 4)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else -1
print(len(lat), len(bad), "%.1f %.1f %.1f" % (q(0.5), q(0.99), lat[-1] * 1000 if lat else -1))
for b in bad[:5]: print("  failed:", b, file=sys.stderr)
EOF

declare -A res
for loc in clean lossy; do
	t0=$(date +%s%N)
	res[$loc]=$(nsx python3 "$TMP/load.py" "$VIP" "/$loc/" "$N")
	ms=$((($(date +%s%N) - t0) / 1000000))
	read -r ok failed p50 p99 max <<<"${res[$loc]}"
	tb_log "/$loc/: $ok ok, $failed failed in ${ms} ms; client latency p50 ${p50} ms, p99 ${p99} ms, max ${max} ms"
	expect_n=$((N / 4 * 4))
	if [ "$ok" = "$expect_n" ] && [ "$failed" = 0 ]; then
		tb_pass "all_requests_complete_through_$loc ($ok; p50 ${p50} ms, p99 ${p99} ms)"
	else
		tb_fail "all_requests_complete_through_$loc" "$ok ok, $failed failed of $expect_n"
	fi
done

# sluice's own view: the request histogram per location, the stack's retransmissions.
nsx curl -s -m 5 http://127.0.0.1:1997/metrics >"$TMP/metrics.txt" || true
python3 - "$TMP/metrics.txt" "$((N / 4 * 4))" >"$TMP/hist.txt" <<'EOF'
import re, sys
count, total, buckets = {}, {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'^(sluice_http_request_duration_seconds_(count|sum|bucket))\{(.*)\} (\S+)$', line.strip())
    if not m:
        continue
    lab = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3)))
    # Proxied requests count in their backend's rows: sum a location's backends.
    if lab.get("backend", "") == "" or lab.get("location") not in ("/clean/", "/lossy/"):
        continue
    loc, v = lab["location"], float(m.group(4))
    if m.group(2) == "count": count[loc] = count.get(loc, 0) + v
    elif m.group(2) == "sum": total[loc] = total.get(loc, 0) + v
    else:
        le = float(lab["le"])
        buckets.setdefault(loc, {})[le] = buckets.get(loc, {}).get(le, 0) + v
want = int(sys.argv[2])
for loc in ("/clean/", "/lossy/"):
    c = count.get(loc, 0)
    b = sorted(buckets.get(loc, {}).items())
    p99 = next((le for le, v in b if v >= 0.99 * c), float("nan")) if c else float("nan")
    mean = total.get(loc, 0) / c * 1000 if c else float("nan")
    # (and the health requests made while waiting for the testbed)
    print(loc, int(c), "%.1f" % mean, "%.1f" % (p99 * 1000), int(c) >= want)
EOF
while read -r loc c mean p99 enough; do
	tb_log "sluice histogram $loc: $c requests, mean ${mean} ms, p99 <= ${p99} ms"
	if [ "$enough" = True ]; then tb_pass "histogram_counts_$loc ($c, mean ${mean} ms, p99 <= ${p99} ms)"; else
		tb_fail "histogram_counts_$loc" "$c requests counted"; fi
done <"$TMP/hist.txt"
[ -s "$TMP/hist.txt" ] || tb_fail "histogram_counts" "no sluice_http_request_duration_seconds in /metrics"

if tb_sluice_stats "$state" >"$TMP/stats.json"; then
	rtx=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("retransmits", "retransmitted_segments", "rexmit"): return v
            r = find(v)
            if r is not None: return r
    return None
print(find(d))' "$TMP/stats.json")
	kill -USR1 "$(cat "$state/impair.pid")" 2>/dev/null || true
	sleep 0.5
	tb_log "sluice retransmits: $rtx; relay: $(grep -E 'dropped|reordered' "$state/impair.log" | tail -2 | tr '\n' ' ')"
	if [ "${rtx:-0}" != None ] && [ "${rtx:-0}" -gt 0 ]; then tb_pass "sluice_retransmitted ($rtx)"; else
		tb_fail "sluice_retransmitted" "retransmits: $rtx"; fi
else
	tb_fail "sluice_retransmitted" "no stats line"
fi

tb_summary
