#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# monitoring/ end to end: Debian's prometheus scrapes a running sluice with
# monitoring/prometheus.yml, every query of the Grafana dashboard
# (monitoring/grafana/sluice-dashboard.json) returns data, and the alerting rules
# (monitoring/alerts.yml) stay quiet on a healthy sluice and fire on a dead backend.
# Topology: namespace sl-it-mon-<pid> (scripts/testbed.sh, configs/tap-demo.yaml): sluice at
# 198.18.0.2, the demo backends, the admin API (and /metrics) on 127.0.0.1:1997 inside the
# namespace. Prometheus runs in the same namespace on 127.0.0.1:9090 with a copy of
# prometheus.yml whose only change is a 1 s scrape interval, and a storage directory in the
# test's temp dir. After a bounded burst of requests the test asks Prometheus's HTTP API:
# /api/v1/targets (the sluice target is up) and /api/v1/query for each dashboard expression,
# with Grafana's variables replaced ($__rate_interval by 30s, $service by .*).
# Then the alerting rules (monitoring/alerts.yml, every for: cut to 2 s in the test's copy):
# Prometheus loaded them all and evaluates them without error, every metric they read is in
# sluice's scrape (or, for ACME and the access log, off in the demo config, in the sources),
# no alert is pending or firing on the healthy testbed, and once one backend is killed
# SluiceBackendDown fires for it in each of its 5 locations (within 45 s; health checks every
# 5 s, 3 failures) with nothing else firing, as /api/v1/alerts shows; with the two others
# killed too, SluiceLocationNoBackend fires for every location, whose clients then get 503.
# Prometheus is stopped by its PID; namespace, processes and files go away on every exit path.
#
# usage: test_monitoring.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-mon "${1:-}"

tb_need_root
tb_need_cmd ip curl python3 prometheus
VIP=198.18.0.2
prom=http://127.0.0.1:9090
dash=$top/monitoring/grafana/sluice-dashboard.json
nsx() { ip netns exec "$SL_NS" "$@"; }

tmp=$(mktemp -d /tmp/sl-it-mon.XXXXXX)
tb_on_exit "rm -rf '$tmp'"
tb_demo_up "$tmp"

# The shipped file, scraping every second instead of every 5 s; the target stays as it is.
sed -E 's/^(\s*(scrape|evaluation)_interval:).*/\1 1s/' "$top/monitoring/prometheus.yml" >"$tmp/prometheus.yml"
tb_check "the test's prometheus.yml differs from the shipped one only in its intervals" \
	bash -c "diff '$top/monitoring/prometheus.yml' '$tmp/prometheus.yml' | grep '^[<>]' | grep -v '_interval:' | grep -q . && exit 1 || exit 0"
tb_check "prometheus.yml scrapes 127.0.0.1:1997/metrics" \
	grep -q '"127.0.0.1:1997"' "$tmp/prometheus.yml"
# The shipped rules beside it (prometheus.yml loads alerts.yml from its own directory), every
# for: shortened to 2 s: whatever a rule finds on the testbed shows at once.
sed -E 's/^(\s*for:).*/\1 2s/' "$top/monitoring/alerts.yml" >"$tmp/alerts.yml"
n_rules=$(grep -c '^\s*- alert:' "$tmp/alerts.yml")
tb_check "the test's alerts.yml has every for: at 2s ($n_rules rules)" \
	test "$(grep -c '^\s*for: 2s$' "$tmp/alerts.yml")" = "$n_rules"

# Not through nsx: a function run in the background is a subshell, and $! would be its PID.
ip netns exec "$SL_NS" prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address=127.0.0.1:9090 --log.level=warn </dev/null >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
tb_on_exit "tb_stop_pid $prom_pid 10"
tb_wait_for "nsx curl -sf -m 1 -o /dev/null $prom/-/ready" 30 ||
	{ tail -20 "$tmp/prometheus.log" >&2; tb_die "prometheus did not become ready"; }
# The first scrape before the traffic, so that increase() sees all of it.
tb_wait_for "nsx curl -s -m 1 '$prom/api/v1/query?query=up%7Bjob%3D%22sluice%22%7D%3D%3D1' | grep -q '\"value\"'" 30 ||
	tb_die "prometheus never scraped sluice"
sleep 1

# Traffic over a few scrapes: at most 400 requests or 12 s, whichever comes first.
ok=0 sent=0 end=$((SECONDS + 12))
while [ "$sent" -lt 400 ] && [ "$SECONDS" -lt "$end" ]; do
	for p in / /cart/ /heavy/ /api/ /upload/; do
		c=$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP${p}m$sent")
		[ "$c" = 200 ] && ok=$((ok + 1))
		sent=$((sent + 1))
	done
done
tb_check "requests during the scrapes answered 200 ($ok of $sent)" test "$ok" = "$sent"
sleep 3 # two more scrapes after the last request

nsx curl -s -m 5 "$prom/api/v1/targets" >"$tmp/targets.json"
tb_check "prometheus's sluice target is up" python3 - "$tmp/targets.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["data"]["activeTargets"]
s = [x for x in t if x["labels"].get("job") == "sluice"]
assert len(s) == 1, t
assert s[0]["health"] == "up", s[0]
assert s[0]["scrapeUrl"] == "http://127.0.0.1:1997/metrics", s[0]["scrapeUrl"]
PY

# Every expression of the dashboard, Grafana variables replaced, one per line.
python3 - "$dash" >"$tmp/exprs.txt" <<'PY' || tb_die "cannot read the dashboard's expressions"
import json, sys
d = json.load(open(sys.argv[1]))
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
seen = []
for p in panels(d["panels"]):
    for t in p.get("targets") or []:
        e = t["expr"].replace("$__rate_interval", "30s").replace("$__interval", "5s")
        e = e.replace("$service", ".*")
        assert "$" not in e, "a Grafana variable the test does not know: " + e
        if e not in seen:
            seen.append(e)
assert len(seen) >= 10, seen
print("\n".join(seen))
PY
n=$(wc -l <"$tmp/exprs.txt")
tb_log "$n distinct dashboard expressions"
i=0
while IFS= read -r expr; do
	i=$((i + 1))
	nsx curl -s -m 10 -G --data-urlencode "query=$expr" "$prom/api/v1/query" >"$tmp/q$i.json"
	tb_check "dashboard query returns data: $expr" python3 - "$tmp/q$i.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "success", r
res = r["data"]["result"]
assert len(res) > 0, "empty result"
vals = [float(x["value"][1]) for x in res]
# Rates and quantiles over a window with traffic: at least one real number.
assert any(not math.isnan(v) for v in vals), vals
PY
done <"$tmp/exprs.txt"

# The figures agree with the traffic: the request rate is above 0 and every backend is up.
nsx curl -s -m 10 -G --data-urlencode 'query=sum(increase(sluice_http_requests_total{code="2xx"}[1m]))' \
	"$prom/api/v1/query" >"$tmp/inc.json"
tb_check "prometheus saw the 2xx requests grow by about the $ok sent" python3 - "$tmp/inc.json" "$ok" <<'PY'
import json, sys
v = float(json.load(open(sys.argv[1]))["data"]["result"][0]["value"][1])
sent = int(sys.argv[2])
# increase() extrapolates to the window's edges: allow a generous margin either way.
assert 0.5 * sent <= v <= 2.0 * sent, (v, sent)
PY
nsx curl -s -m 10 -G --data-urlencode 'query=sum(sluice_backend_up) == count(sluice_backend_up)' \
	"$prom/api/v1/query" >"$tmp/up.json"
tb_check "every backend is up in prometheus" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["data"]["result"], "not all up"' "$tmp/up.json"

# --- alerts.yml against the real sluice ------------------------------------------------------
nsx curl -s -m 10 "$prom/api/v1/rules?type=alert" >"$tmp/rules.json"
tb_check "prometheus loaded the $n_rules alerting rules and evaluates them without error" \
	python3 - "$tmp/rules.json" "$n_rules" <<'PY'
import json, sys
rules = [r for g in json.load(open(sys.argv[1]))["data"]["groups"] for r in g["rules"]]
assert len(rules) == int(sys.argv[2]), (len(rules), sys.argv[2])
bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
assert not bad, bad
PY

# Every metric a rule reads is in sluice's scrape, but those of features the demo config
# leaves off (ACME: tls.auto_cert; the access log: admin.access_log), whose family names
# must then be in the sources that render them.
nsx curl -s -m 5 http://127.0.0.1:1997/metrics >"$tmp/metrics.txt"
missing=""
grep -oE 'sluice_[a-z0-9_]+' "$tmp/alerts.yml" | sed -E 's/_(bucket|count|sum)$//' | sort -u >"$tmp/used.txt"
while read -r m; do
	case $m in
	sluice_acme_*) grep -qF "\"$m\"" "$top/controlplane/acme.c" || missing="$missing $m" ;;
	sluice_access_log_*) grep -qF "\"${m#sluice_}\"" "$top/lib/stats/metrics.c" || missing="$missing $m" ;;
	*) grep -qE "^# TYPE $m " "$tmp/metrics.txt" || missing="$missing $m" ;;
	esac
done <"$tmp/used.txt"
tb_check "every metric alerts.yml reads is one sluice exports" test -z "$missing"
[ -z "$missing" ] || tb_log "not exported:$missing"

# alerts_lines FILE: Prometheus's /api/v1/alerts as "name state backend location severity" lines.
alerts_lines() {
	python3 -c '
import json, sys
for a in json.load(open(sys.argv[1]))["data"]["alerts"]:
    l = a["labels"]
    print(l["alertname"], a["state"], l.get("backend", "-"), l.get("location", "-"), l.get("severity"))
' "$1"
}
# Healthy and after traffic: with every for: at 2 s, a rule that held on this sluice would be
# pending or firing by now (evaluation every second, the last request 3 s ago).
nsx curl -s -m 5 "$prom/api/v1/alerts" >"$tmp/alerts0.json"
alerts_lines "$tmp/alerts0.json" >"$tmp/alerts0.txt"
tb_check "a healthy testbed has no pending or firing alert" test ! -s "$tmp/alerts0.txt"
[ ! -s "$tmp/alerts0.txt" ] || tb_log "alerts on the healthy testbed: $(tr '\n' ';' <"$tmp/alerts0.txt")"

# One backend down (198.18.0.13, in every location of the demo): its health checks fail
# (3 in a row, 5 s apart), sluice_backend_up drops to 0 and SluiceBackendDown fires once per
# location; the locations keep two backends, so SluiceLocationNoBackend must not fire.
bpid=$(cat "$state/backend-3.pid")
kill -TERM "$bpid"
rm -f "$state/backend-3.pid" # gone: testbed.sh down must not signal the PID again
t0=$SECONDS seen_pending=0
fired() {
	nsx curl -s -m 2 "$prom/api/v1/alerts" >"$tmp/alerts1.json" || return 1
	alerts_lines "$tmp/alerts1.json" >"$tmp/alerts1.txt"
	grep -q '^SluiceBackendDown pending ' "$tmp/alerts1.txt" && seen_pending=1
	[ "$(grep -c '^SluiceBackendDown firing http://198.18.0.13:8080 ' "$tmp/alerts1.txt")" -ge 5 ]
}
while ! fired && [ $((SECONDS - t0)) -lt 45 ]; do
	sleep 0.5
done
tb_log "after $((SECONDS - t0)) s: $(tr '\n' ';' <"$tmp/alerts1.txt") (pending seen: $seen_pending)"
tb_check "SluiceBackendDown fires for http://198.18.0.13:8080 in its 5 locations within 45 s" \
	test "$(grep -c '^SluiceBackendDown firing http://198.18.0.13:8080 .* ticket$' "$tmp/alerts1.txt")" = 5
tb_check "no other alert fires (the locations keep two backends)" \
	bash -c "! grep -v '^SluiceBackendDown .* http://198.18.0.13:8080 ' '$tmp/alerts1.txt'"
tb_check "the alert's annotations name the backend" python3 - "$tmp/alerts1.json" <<'PY'
import json, sys
a = [x for x in json.load(open(sys.argv[1]))["data"]["alerts"] if x["labels"]["alertname"] == "SluiceBackendDown"]
assert a, "none"
for x in a:
    s, d = x["annotations"]["summary"], x["annotations"]["description"]
    assert s == "sluice backend http://198.18.0.13:8080 is down", s
    assert "of demo " + x["labels"]["location"] + " on 127.0.0.1:1997" in d, d
PY

# Then the two others: no backend left anywhere, every location answers 503, and
# SluiceLocationNoBackend (page) fires for each of the 5 locations.
for n in 1 2; do
	kill -TERM "$(cat "$state/backend-$n.pid")"
	rm -f "$state/backend-$n.pid"
done
t0=$SECONDS
nobackend() {
	nsx curl -s -m 2 "$prom/api/v1/alerts" >"$tmp/alerts2.json" || return 1
	alerts_lines "$tmp/alerts2.json" >"$tmp/alerts2.txt"
	[ "$(grep -c '^SluiceLocationNoBackend firing - ' "$tmp/alerts2.txt")" -ge 5 ]
}
while ! nobackend && [ $((SECONDS - t0)) -lt 45 ]; do
	sleep 0.5
done
tb_log "after $((SECONDS - t0)) s: $(grep -v '^SluiceBackendDown' "$tmp/alerts2.txt" | tr '\n' ';')"
tb_check "SluiceLocationNoBackend fires (page) for the 5 locations within 45 s" python3 - "$tmp/alerts2.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["data"]["alerts"]
nb = sorted(x["labels"]["location"] for x in a
            if x["labels"]["alertname"] == "SluiceLocationNoBackend" and x["state"] == "firing")
assert nb == ["/", "/api/", "/cart/", "/heavy/", "/upload/"], nb
assert all(x["labels"]["severity"] == "page" for x in a if x["labels"]["alertname"] == "SluiceLocationNoBackend")
bd = [x for x in a if x["labels"]["alertname"] == "SluiceBackendDown"]
assert len(bd) == 15, len(bd)  # 3 backends x 5 locations, pending or firing
other = {x["labels"]["alertname"] for x in a} - {"SluiceLocationNoBackend", "SluiceBackendDown"}
assert not other, other
PY
tb_check "and the clients get 503, as the alert says" \
	test "$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/nb")" = 503

tb_stop_pid "$prom_pid" 10
tb_check "prometheus ($prom_pid) stopped" bash -c "! kill -0 $prom_pid 2>/dev/null"

tb_summary
