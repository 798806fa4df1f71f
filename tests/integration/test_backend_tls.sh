#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# HTTPS to backends (https:// backend URLs, backend_tls), end to end in the TAP testbed
# (scripts/testbed.sh, namespace sl-btls-<pid>, 2 workers): sluice at 198.18.0.2 serves plain
# HTTP on port 80 and HTTPS on 443 (front.example); behind it python3 HTTPS backends (tls_backend.py) with certificates of a
# test CA made here with the openssl CLI, one with a certificate of another CA, one whose
# certificate names another host, one that speaks plain HTTP on an https:// URL; the testbed's
# sluice-backend as the plain half of a mixed pool. curl and python3 as clients in the
# namespace, /metrics and the admin API at 127.0.0.1:1997. Everything goes on every exit.
#
# Checks: requests over TLS (IP SAN verified, and a server_name override), a 3 MB download and
# a 2 MB upload intact (sha256), the same from an HTTPS client (re-encryption), a chunked
# response, keep-alive to the backend (40 requests,
# few TCP connections and handshakes), ticket resumption when the pool keeps nothing, an
# Upgrade tunnel over TLS; another CA and another host name: 502, reason verify counted and
# logged with OpenSSL's reason, and verify: false lets it through; plain HTTP on an https URL:
# 502, not_tls; a bad backend retried on a good one; a mixed http/https pool balanced; health
# checks over TLS (an https backend stays up and goes down when it stops; a certificate that
# does not verify is down); a client certificate to a backend that asks for one (and 502
# without); POST /api/backends with an https URL; a reload under load; a CA
# file that is not PEM refuses a reload, an unreadable one refuses --check at its line:col.
#
# Usage: test_backend_tls.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-btls "${1:-}"
VIP=198.18.0.2
api=http://127.0.0.1:1997
B1=198.18.0.11 B2=198.18.0.12 B3=198.18.0.13

tb_need_root
tb_need_cmd ip ss curl python3 openssl timeout sha256sum
TMP=$(mktemp -d /tmp/sl-btls-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

# --- certificates: a test CA, leaves it signs, and another CA ----------------------------------
ca() { # NAME: a self-signed CA certificate NAME.pem / NAME.key (2 days)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$TMP/$1.key" -out "$TMP/$1.pem" -subj "/CN=sluice test $1" 2>/dev/null ||
		tb_die "openssl cannot make a CA"
}
leaf() { # NAME CA SAN: a certificate NAME.pem / NAME.key signed by CA, for SAN
	printf 'subjectAltName=%s\n' "$3" >"$TMP/$1.ext"
	if ! openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/$1.key" \
		-out "$TMP/$1.csr" -subj "/CN=$1" 2>/dev/null ||
		! openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/$2.pem" -CAkey "$TMP/$2.key" \
			-CAcreateserial -days 2 -extfile "$TMP/$1.ext" -out "$TMP/$1.pem" 2>/dev/null; then
		tb_die "openssl cannot sign a certificate"
	fi
}
ca ca
ca evilca
leaf be1 ca "IP:$B1,DNS:be1.internal"
leaf hc ca "IP:$B3"
leaf evil evilca "IP:$B2"
leaf wrongname ca "DNS:other.internal,IP:198.18.0.99"
leaf front ca "DNS:front.example"
leaf client ca "DNS:sluice-client"
printf 'not a certificate\n' >"$TMP/bad.pem"

# --- configuration --------------------------------------------------------------------------
# config FILE CA_FILE [EXTRA LOCATION YAML]
config() {
	cat >"$1" <<EOF
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
      mtu: 1500
  idle: adaptive
  mbufs: 16383
health_check: {enabled: false}
backend_tls:
  ca_file: $2
admin:
  listen: 127.0.0.1:1997
  auth:
    db_path: $TMP/users.db
    jwt_secret: backend-tls-test-$$
services:
  - name: front
    port: 80
    locations:
      - path: /s/
        backends: [{url: "https://$B1:8443"}]
      - path: /named/
        backend_tls: {server_name: be1.internal}
        backends: [{url: "https://$B1:8443"}]
      - path: /evil/
        backends: [{url: "https://$B2:8443"}]
      - path: /wrongname/
        backends: [{url: "https://$B2:8444"}]
      - path: /noverify/
        backend_tls: {verify: false}
        backends: [{url: "https://$B2:8443"}]
      - path: /plain/
        backends: [{url: "https://$B3:8443"}]
      - path: /retry/
        backends: [{url: "https://$B2:8443"}, {url: "https://$B1:8443"}]
      - path: /mixed/
        backends: [{url: "http://$B1:8080"}, {url: "https://$B1:8443"}]
      - path: /fresh/
        connection_pool: {max_idle: 0}
        backends: [{url: "https://$B1:8443"}]
      - path: /added/
        backends: [{url: "https://$B1:8443"}]
      - path: /hc/
        health_check: {enabled: true, type: http, path: /health, interval: 1s, timeout: 1s,
                       thresholds: {healthy: 1, unhealthy: 2}}
        backends: [{url: "https://$B3:8445"}]
      - path: /hcbad/
        health_check: {enabled: true, type: http, path: /health, interval: 1s, timeout: 1s,
                       thresholds: {healthy: 1, unhealthy: 1}}
        backends: [{url: "https://$B2:8443"}]
      - path: /mtls/
        backend_tls: {cert_file: $TMP/client.pem, key_file: $TMP/client.key}
        backends: [{url: "https://$B1:8447"}]
      - path: /nomtls/
        backends: [{url: "https://$B1:8447"}]
${3:-}
  - name: reenc
    host: front.example
    port: 443
    tls: {cert_file: $TMP/front.pem, key_file: $TMP/front.key}
    locations:
      - path: /
        backends: [{url: "https://$B1:8443"}]
EOF
}
cfg=$TMP/btls.yaml
config "$cfg" "$TMP/ca.pem"
if ! "$SL_BUILD/apps/sluice/sluice" --check --config "$cfg" >"$TMP/check.json" 2>"$TMP/check.err"; then
	cat "$TMP/check.err" >&2
	tb_die "the test configuration does not load"
fi
pw='backend tls test passphrase'
echo "$pw" | "$SL_BUILD/apps/sluicectl/sluicectl" --config "$cfg" user add ops >/dev/null ||
	tb_die "sluicectl user add failed"

expect() {
	if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi
}
py() { python3 -c "$@"; }

# --check: the keys in the JSON dump; an unreadable CA file named at its line:col.
expect "check_dumps_backend_tls" "$(py 'import json,sys; l=json.load(sys.stdin)["services"][0]["locations"]; print(l[1]["backend_tls"]["server_name"], l[4]["backend_tls"]["verify"], l[0]["backend_tls"]["ca_file"].endswith("ca.pem"))' <"$TMP/check.json")" \
	"be1.internal False True"
config "$TMP/missing.yaml" "$TMP/nonexistent.pem"
if "$SL_BUILD/apps/sluice/sluice" --check --config "$TMP/missing.yaml" >/dev/null 2>"$TMP/missing.err"; then
	tb_fail "check_refuses_an_unreadable_ca_file" "accepted"
else
	tb_check "check_refuses_an_unreadable_ca_file_at_its_line_col" grep -qE \
		"missing.yaml:11:[0-9]+: backend_tls ca_file '[^']*nonexistent.pem': cannot read it" "$TMP/missing.err"
fi

# --- the testbed and the backends ---------------------------------------------------------------
tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$cfg" --workers 2 >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
nsx() { ip netns exec "$SL_NS" "$@"; }
pid=$(cat "$state/sluice.pid")

backend() { # ADDRESS PORT NAME CERT|plain [CA]: start one (CA: it asks for a client
	# certificate from CA), remember its PID in bpid
	# ip netns exec itself (not a shell function): $! is the server's PID
	if [ "$4" = plain ]; then
		ip netns exec "$SL_NS" python3 "$HERE/tls_backend.py" "$1" "$2" "$3" plain \
			</dev/null >/dev/null 2>&1 &
	else
		ip netns exec "$SL_NS" python3 "$HERE/tls_backend.py" "$1" "$2" "$3" "$TMP/$4.pem" \
			"$TMP/$4.key" ${5:+"$TMP/$5.pem"} </dev/null >/dev/null 2>&1 &
	fi
	bpid=$!
	tb_on_exit "kill $bpid 2>/dev/null || true"
	tb_wait_for "ip netns exec '$SL_NS' ss -Hltn 'sport = :$2' | grep -q '$1'" 10 ||
		tb_die "backend $3 does not listen on $1:$2"
}
backend "$B1" 8443 tls1 be1
backend "$B2" 8443 evil evil
backend "$B2" 8444 wrongname wrongname
backend "$B3" 8443 plainhttp plain
backend "$B3" 8445 hc hc
hc_pid=$bpid
backend "$B1" 8447 mtls be1 ca
tb_wait_for "ip netns exec '$SL_NS' curl -s -m 2 -o /dev/null http://$VIP/s/ready" 15 ||
	{ cat "$state/sluice.log" >&2; tb_die "sluice does not answer"; }

get() { nsx curl -s -m 10 "http://$VIP$1" "${@:2}"; }
code() { nsx curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$VIP$1" "${@:2}"; }
# metric NAME{LABELS}: its value in /metrics (0 when absent)
metric() {
	nsx curl -s -m 5 "$api/metrics" | awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}'
}
ge() { # NAME VALUE MIN: pass when VALUE >= MIN
	if [ "${2:-0}" -ge "$3" ] 2>/dev/null; then tb_pass "$1 ($2)"; else tb_fail "$1" "got '$2', expected >= $3"; fi
}
le() { # NAME VALUE MAX: pass when VALUE <= MAX
	if [ "${2:-999999}" -le "$3" ] 2>/dev/null; then tb_pass "$1 ($2)"; else tb_fail "$1" "got '$2', expected <= $3"; fi
}
HS=sluice_backend_tls_handshakes_total
FAIL='sluice_backend_tls_handshake_failures_total{reason='

# --- requests over TLS ------------------------------------------------------------------------
expect "https_backend_ip_san_verified" "$(get /s/x)" tls1
expect "https_backend_server_name_override" "$(get /named/x)" tls1
want=$(py 'import hashlib; n=3000000; print(hashlib.sha256((b"0123456789abcdef"*(n//16+1))[:n]).hexdigest())')
expect "download_3MB_intact" "$(get /s/bytes/3000000 | sha256sum | cut -d' ' -f1)" "$want"
head -c 2000000 /dev/urandom >"$TMP/up.bin"
expect "upload_2MB_intact" "$(get /s/up --data-binary "@$TMP/up.bin" -H 'Content-Type: application/octet-stream')" \
	"$(sha256sum <"$TMP/up.bin" | cut -d' ' -f1)"
expect "chunked_response" "$(get /s/chunked)" alpha-beta-gamma

# Re-encryption: an HTTPS client, TLS terminated and a new TLS connection to the backend.
R=(--cacert "$TMP/ca.pem" --resolve "front.example:443:$VIP")
expect "reencrypt_https_to_https" "$(nsx curl -s -m 10 "${R[@]}" https://front.example/s/x)" tls1
expect "reencrypt_download_3MB_intact" \
	"$(nsx curl -s -m 30 "${R[@]}" https://front.example/s/bytes/3000000 | sha256sum | cut -d' ' -f1)" "$want"
expect "reencrypt_upload_2MB_intact" \
	"$(nsx curl -s -m 30 "${R[@]}" https://front.example/s/up --data-binary "@$TMP/up.bin")" \
	"$(sha256sum <"$TMP/up.bin" | cut -d' ' -f1)"

# Keep-alive to the backend: 40 requests (each a new client connection) over few backend ones
# (the backend counts its TCP connections, each a handshake; probes of other backends count in
# the metric too, so it only has to have moved).
c0=$(get /s/conns)
for i in $(seq 40); do get /s/k -o /dev/null; done
c1=$(get /s/conns)
h1=$(metric $HS)
le "keepalive_40_requests_few_backend_connections" "$((c1 - c0))" 4
tb_log "figure: 40 requests took $((c1 - c0)) new backend TLS connections; handshakes metric $h1"
ge "backend_handshakes_counted" "$h1" 2

# No pool (max_idle 0): a connection per request, resumed with the backend's tickets.
r0=$(metric sluice_backend_tls_resumed_total)
b0=$(get /s/resumed)
for i in $(seq 6); do get /fresh/x -o /dev/null; done
ge "fresh_connections_resumed_seen_by_the_backend" "$(($(get /s/resumed) - b0))" 4
ge "fresh_connections_resumed_counted" "$(($(metric sluice_backend_tls_resumed_total) - r0))" 4
hsum=$(metric sluice_backend_tls_handshake_duration_seconds_sum)
hcnt=$(metric sluice_backend_tls_handshake_duration_seconds_count)
[ "${hcnt:-0}" -gt 0 ] && tb_log "figure: $hcnt backend handshakes, mean $(py "print(round($hsum / $hcnt * 1e6))") us" \
	"(ClientHello to done, a python backend's round trips included)"

# An Upgrade tunnel over TLS to the backend: echo, then our FIN passed on as close_notify.
cat >"$TMP/ws_client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /s/ws/x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    b = s.recv(4096)
    if not b: break
    buf += b
head, rest = buf.split(b"\r\n\r\n", 1) if b"\r\n\r\n" in buf else (buf, b"")
payload = b"hello over tls " * 1000
s.sendall(payload)
got = rest
while len(got) < len(payload):
    b = s.recv(65536)
    if not b: break
    got += b
s.shutdown(socket.SHUT_WR)
end = s.recv(10)  # b"": the backend saw our end and closed
print(head.split(b"\r\n")[0].decode(), got == payload, end == b"")
EOF
expect "upgrade_tunnel_over_backend_tls" "$(nsx python3 "$TMP/ws_client.py" "$VIP" 2>&1)" \
	"HTTP/1.1 101 Switching Protocols True True"

# --- verification ---------------------------------------------------------------------------
v0=$(metric "${FAIL}\"verify\"}")
expect "another_ca_is_502" "$(code /evil/x)" 502
expect "another_host_name_is_502" "$(code /wrongname/x)" 502
v1=$(metric "${FAIL}\"verify\"}")
ge "verify_failures_counted" "$((v1 - v0))" 2
tb_check "verify_failure_logged_with_the_reason" tb_wait_for \
	"grep -q 'backend https://$B2:8443 .*TLS handshake failed.*certificate verify failed: unable to get local issuer certificate' '$state/sluice.log'" 5
tb_check "wrong_name_logged_with_the_reason" tb_wait_for \
	"grep -q 'backend https://$B2:8444 .*TLS handshake failed.*certificate verify failed: .*mismatch' '$state/sluice.log'" 5
expect "verify_false_lets_it_through" "$(get /noverify/x)" evil
tb_check "verify_false_warned_at_load" grep -q "warning: .*location /noverify/: backend_tls verify is false" "$state/sluice.log"
n0=$(metric "${FAIL}\"not_tls\"}")
expect "plain_http_on_an_https_url_is_502" "$(code /plain/x)" 502
ge "plain_http_counted_not_tls" "$(($(metric "${FAIL}\"not_tls\"}") - n0))" 1
bad=0
for i in $(seq 6); do [ "$(get /retry/x)" = tls1 ] || bad=$((bad + 1)); done
expect "bad_backend_retried_on_the_good_one" "$bad failed of 6" "0 failed of 6"

# Mutual TLS: a backend that asks for a client certificate gets ours, or refuses the connection.
expect "client_certificate_to_a_backend_that_asks" "$(get /mtls/x)" mtls
expect "no_client_certificate_is_502" "$(code /nomtls/x)" 502

# --- a mixed pool: http and https backends balanced ---------------------------------------------
for i in $(seq 10); do get /mixed/x -o /dev/null -D - | tr -d '\r' | awk '/^X-Backend:/ {print $2}'; done |
	sort | uniq -c | awk '{print $2}' | sort | tr '\n' ' ' >"$TMP/mixed"
expect "mixed_pool_balances_http_and_https" "$(cat "$TMP/mixed")" "backend1 tls1 "

# --- health checks over TLS ---------------------------------------------------------------------
up() { metric "sluice_backend_up{service=\"front\",location=\"$1\",backend=\"$2\"}"; }
passes() { metric "sluice_backend_health_checks_total{service=\"front\",location=\"$1\",backend=\"$2\",result=\"$3\"}"; }
tb_check "https_probes_pass" tb_wait_for "[ \$(nsx curl -s -m 5 $api/metrics | awk '\$1 == \"sluice_backend_health_checks_total{service=\\\"front\\\",location=\\\"/hc/\\\",backend=\\\"https://$B3:8445\\\",result=\\\"pass\\\"}\" {print \$2}') -ge 2 ] 2>/dev/null" 10
expect "https_backend_with_health_check_up" "$(up /hc/ "https://$B3:8445")" 1
expect "https_backend_with_health_check_serves" "$(get /hc/x)" hc
tb_check "probe_of_a_certificate_that_does_not_verify_is_down" tb_wait_for \
	"[ \"\$(ip netns exec '$SL_NS' curl -s -m 5 $api/metrics | grep -F 'sluice_backend_up{service=\"front\",location=\"/hcbad/\"' | awk '{print \$2}')\" = 0 ]" 10
tb_check "probe_tls_failure_counted" test "$(passes /hcbad/ "https://$B2:8443" tls_failed)" -ge 1
tb_stop_pid "$hc_pid"
tb_check "https_backend_down_when_its_server_stops" tb_wait_for \
	"[ \"\$(ip netns exec '$SL_NS' curl -s -m 5 $api/metrics | grep -F 'sluice_backend_up{service=\"front\",location=\"/hc/\"' | awk '{print \$2}')\" = 0 ]" 10

# --- POST /api/backends with an https URL --------------------------------------------------------
tok=$(nsx curl -s -m 10 -X POST "$api/api/auth/login" -d "{\"username\":\"ops\",\"password\":\"$pw\"}" |
	py 'import json,sys; print(json.load(sys.stdin)["token"])') || tb_die "cannot log in"
backend "$B3" 8446 added hc
r=$(nsx curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
	"$api/api/backends?service_name=front&location=/added/" -d "{\"url\":\"https://$B3:8446\"}")
expect "post_api_backends_https_is_201" "$r" 201
seen=$(for i in $(seq 10); do get /added/x; echo; done | sort -u | tr '\n' ' ')
expect "added_https_backend_serves" "$seen" "added tls1 "

# --- reload under load; a CA file that is not PEM refuses one -----------------------------------
for i in $(seq 60); do code /s/loop; echo; done >"$TMP/loop" &
loop_pid=$!
sleep 0.5
config "$cfg" "$TMP/ca.pem" "      - path: /new/
        backends: [{url: \"https://$B1:8443\"}]"
kill -HUP "$pid"
tb_check "reload_adds_an_https_location" tb_wait_for "[ \"\$(ip netns exec '$SL_NS' curl -s -m 2 http://$VIP/new/x)\" = tls1 ]" 10
wait "$loop_pid"
expect "requests_through_the_reload" "$(grep -vc '^200$' "$TMP/loop" || true) failed of $(wc -l <"$TMP/loop")" "0 failed of 60"
config "$cfg" "$TMP/bad.pem"
kill -HUP "$pid"
tb_check "ca_file_not_pem_refuses_the_reload" tb_wait_for \
	"grep -q 'configuration refused.*backend_tls ca_file .*bad.pem' '$state/sluice.log'" 10
expect "after_the_refused_reload_tls_still_works" "$(get /s/x)" tls1

# --- counters in /api/stats-like JSON (SIGUSR1) ----------------------------------------------
st=$(tb_sluice_stats "$state") || st='{}'
expect "stats_json_has_backend_tls" "$(py 'import json,sys; w=json.load(sys.stdin)["workers"]; print(sum(x["backend_tls"]["handshakes"] for x in w) > 0, sum(x["backend_tls"]["failed_verify"] for x in w) >= 2)' <<<"$st" 2>&1)" "True True"

tb_summary
