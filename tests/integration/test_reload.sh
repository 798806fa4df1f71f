#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
#
# Live reconfiguration and the backends API in the TAP testbed (scripts/testbed.sh, namespace
# sl-rl-<pid>): sluice at 198.18.0.2 with a temporary config (location / round robin over
# sluice-backend .11-.13:8080, plus /w/ weighted), a 4th sluice-backend started here on
# 198.18.0.14:8080, wrk and curl as clients, the admin API on 127.0.0.1:1997 in the namespace
# with a users database made by sluicectl. Checks: unauthenticated calls refused; a backend
# added through the API under wrk load gets traffic; a drained backend's share goes to zero
# with no failed request; a changed config (weights, a new location) reloaded under wrk load
# with no failed request; a bad file refused with file:line:col while the old config serves;
# a restart-only key refused by name; SIGHUP; sluice_config_reloads_total{result} in
# /metrics counting each; DELETE drains then removes; sluicectl's
# backends/drain/enable/weight/add/remove/reload. Prints the figures (requests during a
# reload, errors, time for a change to take effect). Everything is removed on every exit.
#
# usage: test_reload.sh [BUILD_DIR]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
tb_init sl-rl "${1:-}"

tb_need_root
tb_need_cmd ip curl python3 wrk
ctl=$SL_BUILD/apps/sluicectl/sluicectl
[ -x "$ctl" ] || tb_die "no $ctl: build first"
VIP=198.18.0.2
B4=198.18.0.14
api=http://127.0.0.1:1997
nsx() { ip netns exec "$SL_NS" "$@"; }

TMP=$(mktemp -d /tmp/sl-rl-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"
cfg=$TMP/sluice.yaml

# write_config WEIGHT_11 EXTRA_LOCATION: the file sluice runs from, rewritten between reloads.
write_config() {
	cat >"$cfg" <<YAML
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
      mtu: 1500
  idle: adaptive
  mbufs: 8191
timeouts:
  client_keepalive: 10s
services:
  - name: demo
    host: "*"
    port: 80
    locations:
      - path: /
        lb_policy: round_robin
        backends:
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
          - url: http://198.18.0.13:8080
      - path: /w/
        lb_policy: weighted_round_robin
        backends:
          - url: http://198.18.0.11:8080
            weight: $1
          - url: http://198.18.0.12:8080
$2
admin:
  listen: 127.0.0.1:1997
  auth:
    db_path: $TMP/users.db
    jwt_secret: reload-test-secret-$$
  rate_limit:
    requests_per_second: 1000
    burst: 1000
YAML
}
write_config 1 ""
pw='reload test passphrase'
echo "$pw" | "$ctl" --config "$cfg" user add ops >/dev/null || tb_die "sluicectl user add failed"

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$cfg" >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
pid=$(cat "$state/sluice.pid")
tb_wait_for "nsx curl -s -m 1 -o /dev/null $api/health" 10 || tb_die "no admin API"

# A 4th backend on an address of its own, as the testbed starts the others.
nsx ip addr add "$B4/32" dev sl0
ip netns exec "$SL_NS" "$SL_BUILD/apps/sluice-backend/sluice-backend" --listen "$B4:8080" \
	--name backend4 </dev/null >"$TMP/backend4.log" 2>&1 &
b4pid=$!
tb_on_exit "kill $b4pid"
tb_wait_for "nsx ss -Hltn 'sport = :8080' | grep -q '$B4'" 5 || tb_die "backend4 does not listen"

# --- helpers -------------------------------------------------------------------------------
req() { # METHOD PATH [curl args...] -> "STATUS BODY"
	local m=$1 p=$2 out
	shift 2
	out=$(nsx curl -sS -m 10 -X "$m" -w '\n%{http_code}' "$@" "$api$p" 2>"$TMP/curl.err")
	# No answer at all: say why (curl's error and what sluice logged last).
	[ "${out##*$'\n'}" = 000 ] && tb_log "no answer to $m $p: $(cat "$TMP/curl.err")" \
		"$(tail -3 "$state/sluice.log" | tr '\n' ' ')"
	printf '%s %s\n' "${out##*$'\n'}" "$(tr -d '\n' <<<"${out%$'\n'*}")"
}
status_of() { printf '%s\n' "${1%% *}"; }
body_of() { printf '%s\n' "${1#* }"; }
py() { python3 -c "$@"; }
has() { [ "$(status_of "$1")" = "$2" ] && grep -qF -- "$3" <<<"$1"; } # RESPONSE STATUS TEXT
expect() { if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi; }

tok=$(req POST /api/auth/login -d "{\"username\":\"ops\",\"password\":\"$pw\"}" | cut -d' ' -f2- |
	py 'import json,sys; print(json.load(sys.stdin)["token"])')
[ -n "$tok" ] || tb_die "cannot log in"
A=(-H "Authorization: Bearer $tok")
# The token for sluicectl (its --token-file).
printf '%s\n' "$tok" >"$TMP/token"
chmod 600 "$TMP/token"
sctl() { nsx "$ctl" --token-file "$TMP/token" "$@"; }

# backends_json [SERVICE]: the list; bfield URL LOCATION FIELD: one field of one backend.
backends_json() { req GET "/api/backends${1:+?service_name=$1}" "${A[@]}" | cut -d' ' -f2-; }
bfield() {
	backends_json | py 'import json,sys
for b in json.load(sys.stdin)["backends"]:
    if b["url"] == sys.argv[1] and b["location"] == sys.argv[2]:
        print(b[sys.argv[3]]); break' "$1" "$2" "$3"
}
bid() { bfield "$1" "$2" id; }
# wrk_start SECONDS [PATH]: load in the background, output in $TMP/wrk.out
wrk_start() {
	nsx wrk -t1 -c8 -d"$1"s "http://$VIP${2:-/}" >"$TMP/wrk.out" 2>&1 &
	wrk_pid=$!
}
# wrk_end NAME: wait for wrk; pass if every request got a 2xx and no socket error.
wrk_end() {
	wait "$wrk_pid"
	wrk_reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	if [ -z "$wrk_reqs" ] || grep -q -E 'Non-2xx|Socket errors' "$TMP/wrk.out"; then
		tb_fail "$1" "$(tr '\n' ' ' <"$TMP/wrk.out")"
	else
		tb_pass "$1 ($wrk_reqs requests, 0 errors)"
	fi
}
now_ms() { date +%s%3N; }
# first_seen NAME PATH: ms until a response from backend NAME comes through PATH (max 5 s).
first_seen() {
	local t0 i
	t0=$(now_ms)
	for ((i = 0; i < 500; i++)); do
		if nsx curl -s -m 2 "http://$VIP$2" | grep -q "\"$1\""; then
			echo $(($(now_ms) - t0))
			return 0
		fi
	done
	return 1
}

# --- auth ----------------------------------------------------------------------------------
r=$(req GET /api/backends)
expect "GET /api/backends without a token is 401" "$(status_of "$r")" 401
r=$(req POST /api/config/reload)
expect "POST /api/config/reload without a token is 401" "$(status_of "$r")" 401
r=$(req PATCH /api/backends/1 -d '{"drain":true}')
expect "PATCH without a token is 401" "$(status_of "$r")" 401
r=$(req GET /api/backends -H 'Authorization: Bearer not.a.token')
expect "GET /api/backends with a bad token is 401" "$(status_of "$r")" 401

# --- listing --------------------------------------------------------------------------------
r=$(req GET /api/backends "${A[@]}")
expect "GET /api/backends is 200" "$(status_of "$r")" 200
n=$(body_of "$r" | py 'import json,sys; b=json.load(sys.stdin)["backends"]; print(len(b), all(x["source"]=="config" and x["state"]=="up" for x in b), set(b[0].keys()) >= set(["id","service","location","url","weight","max_connections","enabled","draining","state","health","circuit","inflight","open_connections","pool_idle","requests","source"]))')
expect "5 backends, all config and up, with the contract's fields" "$n" "5 True True"
r=$(req GET /api/services "${A[@]}")
expect "GET /api/services lists demo with / and /w/" \
	"$(body_of "$r" | py 'import json,sys; s=json.load(sys.stdin)["services"]; print(s[0]["name"], [l["path"] for l in s[0]["locations"]], len(s[0]["locations"][0]["backends"]))')" \
	"demo ['/', '/w/'] 3"
r=$(req GET /api/config "${A[@]}")
expect "GET /api/config redacts jwt_secret" \
	"$(body_of "$r" | py 'import json,sys; c=json.load(sys.stdin); print(c["admin"]["auth"]["jwt_secret"], c["services"][0]["name"])')" \
	"<redacted> demo"
tb_check "GET /api/config does not contain the secret" bash -c "! grep -q 'reload-test-secret' <<<'$r'"

# --- bad requests ----------------------------------------------------------------------------
r=$(req POST "/api/backends?service_name=demo&location=/" "${A[@]}" -d '{"url":')
expect "POST bad JSON is 400" "$(status_of "$r")" 400
r=$(req POST "/api/backends?service_name=demo&location=/" "${A[@]}" -d '{"url":"http://198.18.0.14:8080","wieght":2}')
tb_check "POST unknown field is 400 naming it ($r)" has "$r" 400 "unknown field 'wieght'"
r=$(req POST "/api/backends?service_name=demo&location=/" "${A[@]}" -d '{"url":"http://198.18.0.14:8080","weight":0}')
tb_check "POST weight 0 is 400 ($r)" has "$r" 400 "'weight' must be an integer from 1"
r=$(req POST "/api/backends?service_name=demo&location=/" "${A[@]}" -d '{"url":"http://backend.example:8080"}')
tb_check "POST a host name is 400 ($r)" has "$r" 400 "not an IPv4 address"
r=$(req POST "/api/backends?service_name=demo&location=/nope/" "${A[@]}" -d '{"url":"http://198.18.0.14:8080"}')
expect "POST to an unknown location is 404" "$(status_of "$r")" 404
r=$(req POST "/api/backends?service_name=demo&location=/" "${A[@]}" -d '{"url":"http://198.18.0.11:8080"}')
expect "POST a duplicate url is 409" "$(status_of "$r")" 409
r=$(req PATCH /api/backends/999 "${A[@]}" -d '{"drain":true}')
expect "PATCH an unknown id is 404" "$(status_of "$r")" 404
r=$(req PATCH /api/backends/1 "${A[@]}" -d '{"drain":"yes"}')
expect "PATCH drain:\"yes\" is 400" "$(status_of "$r")" 400
r=$(req PATCH /api/backends/1 "${A[@]}" -d '{}')
expect "PATCH with nothing to change is 400" "$(status_of "$r")" 400

# --- add a backend under load ------------------------------------------------------------------
wrk_start 6
sleep 1.5
t0=$(now_ms)
r=$(req POST "/api/backends?service_name=demo&location=/" "${A[@]}" -d "{\"url\":\"http://$B4:8080\",\"weight\":1}")
add_ms=$(($(now_ms) - t0))
expect "POST /api/backends under load is 201" "$(status_of "$r")" 201
b4=$(body_of "$r" | py 'import json,sys; b=json.load(sys.stdin); print(b["id"] if b["source"]=="runtime" else "")')
tb_check "the new backend has an id and source runtime" test -n "$b4"
wrk_end "wrk while a backend is added: no failed request"
n=$(bfield "http://$B4:8080" / requests)
tb_check "the added backend got traffic under load ($n requests)" test "${n:-0}" -gt 100
seen=$(first_seen backend4 /)
tb_log "figure: POST /api/backends took $add_ms ms (snapshot built, published, every worker on it)"

# --- drain: share to zero, no failed request ---------------------------------------------------
b1=$(bid http://198.18.0.11:8080 /)
wrk_start 7
sleep 1
t0=$(now_ms)
r=$(req PATCH "/api/backends/$b1" "${A[@]}" -d '{"drain":true}')
drain_ms=$(($(now_ms) - t0))
expect "PATCH drain is 200 with state draining" \
	"$(status_of "$r") $(body_of "$r" | py 'import json,sys; b=json.load(sys.stdin); print(b["state"], b["draining"])')" \
	"200 draining True"
sleep 0.5
c1=$(bfield http://198.18.0.11:8080 / requests)
c2=$(bfield http://198.18.0.12:8080 / requests)
wrk_end "wrk while a backend drains: no failed request"
d1=$(($(bfield http://198.18.0.11:8080 / requests) - c1))
d2=$(($(bfield http://198.18.0.12:8080 / requests) - c2))
[ "$d2" -gt 100 ] || tb_log "wrk: $(grep -E 'Latency|requests in' "$TMP/wrk.out" | tr '\n' ' ')"
tb_check "the drained backend's share is zero ($d1 new requests vs $d2 on another)" \
	bash -c "[ $d1 -eq 0 ] && [ $d2 -gt 100 ]"

# --- weight through PATCH (a new snapshot) --------------------------------------------------------
bw=$(bid http://198.18.0.12:8080 /w/)
t0=$(now_ms)
r=$(req PATCH "/api/backends/$bw" "${A[@]}" -d '{"weight":3}')
weight_ms=$(($(now_ms) - t0))
expect "PATCH weight is 200 with the weight" \
	"$(status_of "$r") $(body_of "$r" | py 'import json,sys; b=json.load(sys.stdin); print(b["weight"], b["source"])')" \
	"200 3 runtime"
cnt=$(for i in $(seq 1 40); do nsx curl -s -m 2 "http://$VIP/w/"; echo; done | grep -c '"backend2"')
tb_check "/w/ now sends 3 of 4 requests to backend2 ($cnt of 40)" bash -c "[ $cnt -ge 27 ] && [ $cnt -le 33 ]"

# --- reload a changed config under load ---------------------------------------------------------
write_config 2 "      - path: /v2/
        backends:
          - url: http://198.18.0.13:8080"
before=$(bfield http://198.18.0.13:8080 / requests)
wrk_start 6
sleep 1.5
t0=$(now_ms)
r=$(req POST /api/config/reload "${A[@]}")
reload_ms=$(($(now_ms) - t0))
expect "POST /api/config/reload is 200 reloaded" \
	"$(status_of "$r") $(body_of "$r" | py 'import json,sys; print(json.load(sys.stdin)["reloaded"])')" "200 True"
wrk_end "wrk across a reload: no failed request, no socket error"
reload_reqs=$wrk_reqs
after=$(bfield http://198.18.0.13:8080 / requests)
tb_check "request counters go on across a reload ($before before, $after after)" \
	test "$after" -gt "$((before + 100))"
expect "the new location /v2/ serves" "$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/v2/")" 200
expect "the file's new weight is in force" "$(bfield http://198.18.0.11:8080 /w/ weight)" 2
expect "the runtime weight override survived the reload" "$(bfield http://198.18.0.12:8080 /w/ weight)" 3
expect "the added backend survived the reload (same id, runtime)" \
	"$(bfield "http://$B4:8080" / id) $(bfield "http://$B4:8080" / source)" "$b4 runtime"
expect "the drained backend is still draining after the reload (flags carried)" \
	"$(bfield http://198.18.0.11:8080 / state)" draining
expect "ids are stable across the reload" "$(bid http://198.18.0.11:8080 /)" "$b1"

# --- refused reloads ------------------------------------------------------------------------------
# reloads RESULT: sluice_config_reloads_total{result=RESULT} from /metrics.
reloads() {
	nsx curl -s -m 5 "$api/metrics" | sed -n "s/^sluice_config_reloads_total{result=\"$1\"} //p"
}
last_ok() { nsx curl -s -m 5 "$api/metrics" | sed -n 's/^sluice_config_last_reload_successful //p'; }
ok0=$(reloads ok) failed0=$(reloads failed)
expect "/metrics counts the reload above (ok $ok0, failed $failed0), last one successful" \
	"$ok0 $failed0 $(last_ok)" "1 0 1"
cp "$cfg" "$TMP/good.yaml"
printf 'services:\n  - name: demo\n    locations: [\n' >"$cfg"
wrk_start 4
sleep 1
r=$(req POST /api/config/reload "${A[@]}")
tb_check "a bad file is refused with 400 and file:line:col ($r)" \
	has "$r" 400 "\"error\":\"config refused\",\"detail\":\"$cfg:4:1: invalid YAML"
wrk_end "wrk across a refused reload: no failed request"
expect "sluice_config_last_reload_successful is 0 after it" "$(last_ok)" 0
expect "the old config still serves /v2/" "$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/v2/")" 200
sed 's/mbufs: 8191/mbufs: 4095/' "$TMP/good.yaml" >"$cfg"
r=$(req POST /api/config/reload "${A[@]}")
tb_check "a changed dataplane.mbufs is refused naming the key ($r)" \
	has "$r" 400 "'dataplane.mbufs' differs from the running configuration; it cannot change on a reload (restart sluice"
sed 's/port: 80$/port: 8089/' "$TMP/good.yaml" >"$cfg"
r=$(req POST /api/config/reload "${A[@]}")
tb_check "a new service port is refused ($r)" has "$r" 400 "port 8089"

# --- SIGHUP -----------------------------------------------------------------------------------------
write_config 2 "      - path: /v3/
        backends:
          - url: http://198.18.0.12:8080"
t0=$(now_ms)
kill -HUP "$pid"
tb_check "SIGHUP reloads: /v3/ serves" tb_wait_for "[ \$(nsx curl -s -m 2 -o /dev/null -w '%{http_code}' http://$VIP/v3/) = 200 ]" 5
expect "sluice_config_last_reload_successful is 1 again" "$(last_ok)" 1
hup_ms=$(($(now_ms) - t0))
expect "after SIGHUP /v2/ is gone and /v3/ is there" \
	"$(req GET /api/services "${A[@]}" | cut -d' ' -f2- | py 'import json,sys; print([l["path"] for l in json.load(sys.stdin)["services"][0]["locations"]])')" \
	"['/', '/w/', '/v3/']"
printf 'services: [\n' >"$cfg"
kill -HUP "$pid"
tb_check "a bad file on SIGHUP is logged with file:line:col" \
	tb_wait_for "grep -qE 'SIGHUP: configuration refused.*$cfg:[0-9]+:[0-9]+' '$state/sluice.log'" 5
expect "and /v3/ still serves" "$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$VIP/v3/")" 200
expect "sluice_config_reloads_total: 3 refused POSTs and a refused SIGHUP failed, the good SIGHUP ok" \
	"$(reloads ok) $(reloads failed)" "$((ok0 + 1)) $((failed0 + 4))"
write_config 2 "      - path: /v3/
        backends:
          - url: http://198.18.0.12:8080"

# --- enable, DELETE ---------------------------------------------------------------------------------
r=$(req PATCH "/api/backends/$b1" "${A[@]}" -d '{"enabled":true}')
expect "PATCH enabled:true puts a drained backend back" "$(body_of "$r" | py 'import json,sys; print(json.load(sys.stdin)["state"])')" up
r=$(req DELETE "/api/backends/$b4" "${A[@]}")
expect "DELETE is 202 draining" \
	"$(status_of "$r") $(body_of "$r" | py 'import json,sys; print(json.load(sys.stdin)["state"])')" "202 draining"
tb_check "the deleted backend is gone once its requests finished" \
	tb_wait_for "[ -z \"\$(bfield http://$B4:8080 / id)\" ]" 5
tb_check "old configurations are freed once unused" \
	tb_wait_for "grep -q 'generation [0-9]* freed' '$state/sluice.log'" 15

# --- sluicectl ----------------------------------------------------------------------------------------
out=$(sctl backends --service demo)
tb_check "sluicectl backends prints a table" \
	bash -c 'grep -q "^ID  *SERVICE" <<<"$1" && grep -q "198.18.0.12:8080" <<<"$1"' _ "$out"
n=$(sctl --json backends | py 'import json,sys; print(len(json.load(sys.stdin)["backends"]))')
expect "sluicectl --json backends gives the API's list (/ 3, /w/ 2, /v3/ 1)" "$n" 6
b2=$(bid http://198.18.0.12:8080 /)
tb_check "sluicectl drain" sctl drain "$b2"
expect "  ... is draining" "$(bfield http://198.18.0.12:8080 / state)" draining
tb_check "sluicectl enable" sctl enable "$b2"
expect "  ... is up" "$(bfield http://198.18.0.12:8080 / state)" up
tb_check "sluicectl disable" sctl disable "$b2"
expect "  ... is disabled" "$(bfield http://198.18.0.12:8080 / state)" disabled
sctl enable "$b2" >/dev/null
tb_check "sluicectl weight" sctl weight "$b2" 4
expect "  ... has weight 4" "$(bfield http://198.18.0.12:8080 / weight)" 4
tb_check "sluicectl add" sctl add --service demo --location / "http://$B4:8080" --weight 2
expect "  ... is listed with weight 2" "$(bfield "http://$B4:8080" / weight)" 2
nid=$(bid "http://$B4:8080" /)
tb_check "sluicectl remove" sctl remove "$nid"
tb_check "  ... is gone" tb_wait_for "[ -z \"\$(bfield http://$B4:8080 / id)\" ]" 5
tb_check "sluicectl reload" sctl reload
sctl weight "$b2" 0 >/dev/null 2>&1
expect "sluicectl weight 0 exits 1 (refused)" "$?" 1
sctl drain >/dev/null 2>&1
expect "sluicectl drain without an id exits 2 (usage)" "$?" 2
sctl drain 999 >/dev/null 2>&1
expect "sluicectl drain of an unknown id exits 1" "$?" 1
nsx "$ctl" --token-file "$TMP/none" backends >/dev/null 2>&1
expect "sluicectl without a token exits 1" "$?" 1
nsx "$ctl" --url http://127.0.0.1:1 --token-file "$TMP/token" backends >/dev/null 2>&1
expect "sluicectl with no server exits 3" "$?" 3

kill -0 "$pid" 2>/dev/null
expect "sluice is still running" "$?" 0
printf '[%s] figures: add a backend %s ms (first response from it %s ms later), drain %s ms,\n' \
	"$TB_NAME" "$add_ms" "${seen:-?}" "$drain_ms" >&2
printf '[%s]   weight change %s ms, reload %s ms with %s requests by wrk during it and 0 errors,\n' \
	"$TB_NAME" "$weight_ms" "$reload_ms" "$reload_reqs" >&2
printf '[%s]   SIGHUP to the new location serving: %s ms\n' "$TB_NAME" "$hup_ms" >&2
tb_summary
