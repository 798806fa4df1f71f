#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# TLS termination on the workers, end to end in the TAP testbed (scripts/testbed.sh, namespace
# sl-tls-<pid>, 2 workers): sluice at 198.18.0.2 with two TLS services on port 443 (a.example
# and b.example, certificates of their own made here with the openssl CLI, a global default
# certificate) and a plain one on port 80; the testbed's sluice-backends behind them; curl,
# openssl s_client, wrk and python3 as clients inside the namespace; /metrics on the admin
# API at 127.0.0.1:1997 in the namespace. The testbed and the temporary files go on every exit.
#
# Checks: SNI picks each service's certificate, no SNI gets the default one; TLS 1.0 and 1.1
# refused; resumption (TLS 1.2 -reconnect, TLS 1.3 -sess_out/-sess_in) on 2 workers; a 10 MB
# download (sha256) and a 1 MB upload (the backend's sha256); keep-alive; HSTS on HTTPS only;
# garbage instead of a ClientHello closed and counted; a stalled handshake timed out and
# counted; certificates swapped by a reload (SIGHUP) under wrk and a curl loop over https with
# no failed request, new connections see the new certificate; a bad certificate and a plain
# service on the TLS port refused by a reload, naming the reason; the metrics.
#
# Usage: test_tls.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-tls "${1:-}"
VIP=198.18.0.2
api=http://127.0.0.1:1997

tb_need_root
tb_need_cmd ip curl python3 openssl wrk timeout sha256sum
TMP=$(mktemp -d /tmp/sl-tls-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

# cert NAME CN: an ECDSA P-256 self-signed certificate NAME.pem / NAME.key for CN (2 days)
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$TMP/$1.key" -out "$TMP/$1.pem" -subj "/CN=$2" \
		-addext "subjectAltName=DNS:$2" 2>/dev/null || tb_die "openssl cannot make a certificate"
}
cert a a.example
cert b b.example
cert d default.example
cert a2 a-renewed.example
printf 'not a certificate\n' >"$TMP/bad.pem"

# config FILE A_CERT [EXTRA SERVICE YAML]
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
timeouts:
  client_header: 4s   # a stalled handshake's end; generous for a loaded machine (ASan)
security:
  hsts: true
tls:
  cert_file: $TMP/d.pem
  key_file: $TMP/d.key
admin:
  listen: 127.0.0.1:1997
services:
  - name: a
    host: a.example
    port: 443
    tls: {cert_file: $TMP/$2.pem, key_file: $TMP/$2.key}
    locations:
      - path: /
        backends:
          - url: http://198.18.0.11:8080
      - path: /ws/
        backends:
          - url: http://198.18.0.11:8090
      - path: /slow/
        backends:
          - url: http://198.18.0.12:8091
  - name: b
    host: b.example
    port: 443
    tls: {cert_file: $TMP/b.pem, key_file: $TMP/b.key}
    locations:
      - path: /
        backends:
          - url: http://198.18.0.12:8080
  - name: g
    host: g.example
    port: 443
    tls: {}
    locations:
      - path: /
        backends:
          - url: http://198.18.0.13:8080
  - name: plain
    host: "*"
    port: 80
    locations:
      - path: /
        backends:
          - url: http://198.18.0.13:8080
${3:-}
EOF
}
cfg=$TMP/tls.yaml
config "$cfg" a
if ! "$SL_BUILD/apps/sluice/sluice" --check --config "$cfg" >/dev/null 2>"$TMP/check.err"; then
	cat "$TMP/check.err" >&2
	tb_die "the test configuration does not load"
fi

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$cfg" --workers 2 >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
nsx() { ip netns exec "$SL_NS" "$@"; }
pid=$(cat "$state/sluice.pid")
R=(--resolve "a.example:443:$VIP" --resolve "b.example:443:$VIP")
tb_wait_for "ip netns exec '$SL_NS' curl -sk -m 2 -o /dev/null ${R[*]} https://a.example/ready" 15 ||
	{ cat "$state/sluice.log" >&2; tb_die "sluice does not answer HTTPS"; }

expect() {
	if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi
}
# subject [s_client options...]: the CN of the certificate the server shows
subject() {
	echo | nsx timeout 10 openssl s_client -connect "$VIP:443" "$@" 2>/dev/null |
		sed -n 's/^subject=.*CN *= *\([^,/]*\).*/\1/p' | head -1
}
# metric NAME{LABELS}: its value in /metrics (0 when absent)
metric() {
	nsx curl -s -m 5 "$api/metrics" | awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}'
}

# --- certificates by SNI ---------------------------------------------------------------------

expect "sni_a_gets_its_certificate" "$(subject -servername a.example)" a.example
expect "sni_b_gets_its_certificate" "$(subject -servername b.example)" b.example
expect "no_sni_gets_the_default" "$(subject -noservername)" default.example
expect "unknown_sni_gets_the_default" "$(subject -servername c.example)" default.example
expect "sni_case_insensitive" "$(subject -servername B.Example)" b.example
expect "tls_without_own_pair_gets_the_global_certificate" "$(subject -servername g.example)" default.example
expect "curl_https_a_reaches_its_backend" \
	"$(nsx curl -sk -m 10 "${R[@]}" https://a.example/x -o /dev/null -D - | tr -d '\r' | awk '/^X-Backend:/ {print $2}')" backend1
expect "curl_https_b_reaches_its_backend" \
	"$(nsx curl -sk -m 10 "${R[@]}" https://b.example/x -o /dev/null -D - | tr -d '\r' | awk '/^X-Backend:/ {print $2}')" backend2
expect "alpn_http11" \
	"$(echo | nsx timeout 10 openssl s_client -connect $VIP:443 -servername a.example -alpn h2,http/1.1 2>/dev/null | sed -n 's/^ALPN protocol: //p')" http/1.1
expect "x_forwarded_proto_https" \
	"$(nsx curl -sk -m 10 "${R[@]}" https://a.example/x | python3 -c 'import json,sys; h=json.load(sys.stdin)["headers"]; print(h.get("x-forwarded-proto", h.get("X-Forwarded-Proto")))')" https

# --- versions --------------------------------------------------------------------------------

# proto_ok OPTIONS...: "yes" when a handshake with these client options completes
proto_ok() {
	if echo | nsx timeout 10 openssl s_client -connect "$VIP:443" -servername a.example "$@" 2>/dev/null |
		grep -q '^New, TLSv1'; then echo yes; else echo no; fi
}
ver_before=$(metric 'sluice_tls_handshake_failures_total{reason="protocol_version"}')
expect "tls1_0_refused" "$(proto_ok -tls1 -cipher 'DEFAULT@SECLEVEL=0')" no
expect "tls1_1_refused" "$(proto_ok -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')" no
expect "tls1_2_accepted" "$(proto_ok -tls1_2)" yes
expect "tls1_3_accepted" "$(proto_ok -tls1_3)" yes
ver_after=$(metric 'sluice_tls_handshake_failures_total{reason="protocol_version"}')
expect "old_versions_counted" "$((ver_after - ver_before))" 2

# --- resumption (2 workers: a reconnection lands on either) ---------------------------------

res_before=$(metric sluice_tls_resumed_total)
reused=$(echo | nsx timeout 20 openssl s_client -connect "$VIP:443" -servername a.example -tls1_2 -reconnect 2>/dev/null | grep -c '^Reused, TLSv1.2' || true)
expect "tls12_resumed_on_every_reconnect" "$reused" 5
printf 'GET /x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n' |
	nsx timeout 10 openssl s_client -connect "$VIP:443" -servername a.example -tls1_3 \
		-sess_out "$TMP/s13" -ign_eof >/dev/null 2>&1 || true
r13=0
for _ in 1 2 3 4; do
	if echo | nsx timeout 10 openssl s_client -connect "$VIP:443" -servername a.example -tls1_3 \
		-sess_in "$TMP/s13" 2>/dev/null | grep -q '^Reused, TLSv1.3'; then r13=$((r13 + 1)); fi
done
expect "tls13_resumed_with_ticket" "$r13" 4
res_after=$(metric sluice_tls_resumed_total)
expect "resumptions_counted" "$((res_after - res_before))" 9
# Whichever worker a connection lands on resumes: the per-worker counts (SIGUSR1's JSON) show
# both workers resuming (9 resumptions all on one worker: 2 in 512 if flows spread evenly).
kill -USR1 "$pid"
tb_wait_for "grep -q '^stats: ' '$state/sluice.log'" 5 || true
expect "resumed_on_both_workers" "$(grep '^stats: ' "$state/sluice.log" | tail -1 | cut -d' ' -f2- |
	python3 -c 'import json,sys; print(all(w["tls"]["resumed"] > 0 for w in json.load(sys.stdin)["workers"]))')" True

# --- data ------------------------------------------------------------------------------------

want=$(python3 -c 'import hashlib; print(hashlib.sha256(bytes(97 + i % 26 for i in range(10485760))).hexdigest())')
got=$(nsx curl -sk -m 60 "${R[@]}" https://a.example/bytes/10485760 | sha256sum | cut -d' ' -f1)
expect "download_10MB_sha256" "$got" "$want"
head -c 1048576 /dev/urandom >"$TMP/up.bin"
want=$(sha256sum "$TMP/up.bin" | cut -d' ' -f1)
got=$(nsx curl -sk -m 60 "${R[@]}" https://a.example/upload --data-binary @"$TMP/up.bin" |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["body_bytes"], d["body_sha256"])')
expect "upload_1MB_sha256" "$got" "1048576 $want"
expect "keepalive_5_requests_one_connection" \
	"$(nsx curl -sk -m 20 "${R[@]}" -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		-w '%{http_code}:%{num_connects} ' https://a.example/[1-5])" "200:1 200:0 200:0 200:0 200:0 "

# --- an Upgrade tunnel over TLS: raw bytes both ways, close_notify passed on as a half-close --

cat >"$TMP/ws_client.py" <<'EOF'
import socket, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 443), timeout=10), server_hostname="a.example")
s.sendall(b"GET /ws/chat HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, got = buf.split(b"\r\n\r\n", 1)
payload = bytes(range(256)) * 1000
s.sendall(payload)
while len(got) < len(payload):
    b = s.recv(65536)
    if not b: break
    got += b
try:
    s.unwrap()  # our close_notify, then the server's once the backend has closed
    closed = True
except (ssl.SSLError, OSError) as e:
    closed = repr(e)
print(head.split(b"\r\n")[0].decode(), got == payload, closed)
EOF
ip netns exec "$SL_NS" python3 "$HERE/ws_server.py" 198.18.0.11 8090 </dev/null >/dev/null 2>&1 &
ws_pid=$!
tb_on_exit "kill $ws_pid 2>/dev/null || true"
tb_wait_for "ip netns exec '$SL_NS' python3 -c 'import socket; socket.create_connection((\"198.18.0.11\", 8090), timeout=1)'" 5 ||
	tb_log "the upgrade test server did not start"
expect "upgrade_tunnel_over_tls_with_close_notify" "$(nsx python3 "$TMP/ws_client.py" "$VIP" 2>&1)" \
	"HTTP/1.1 101 Switching Protocols True True"

# --- back-pressure: a backend that does not read slows a TLS upload down ---------------------

cat >"$TMP/stall_server.py" <<'EOF'
import socket, sys, time
# stall_server.py ADDR PORT: accept one connection, read nothing for 8 s, close
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(4); srv.settimeout(30)
c, _ = srv.accept(); time.sleep(8); c.close()
EOF
cat >"$TMP/upload.py" <<'EOF'
import socket, ssl, sys, time
# upload.py ADDR: offer 64 MB over TLS for 4 s; print the MB the client could send
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
raw = socket.socket(); raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
raw.settimeout(10); raw.connect((sys.argv[1], 443))
s = ctx.wrap_socket(raw, server_hostname="a.example")
s.sendall(b"POST /slow/up HTTP/1.1\r\nHost: a.example\r\nContent-Length: 67108864\r\n\r\n")
s.settimeout(0.2)
chunk, sent, end = b"x" * 16384, 0, time.time() + 4
while time.time() < end and sent < 64 << 20:
    try:
        sent += s.send(chunk)
    except (socket.timeout, ssl.SSLWantWriteError):
        pass
print(round(sent / 1048576, 1))
EOF
ip netns exec "$SL_NS" python3 "$TMP/stall_server.py" 198.18.0.12 8091 </dev/null >/dev/null 2>&1 &
stall_pid=$!
tb_on_exit "kill $stall_pid 2>/dev/null || true"
tb_wait_for "ip netns exec '$SL_NS' ss -Hltn 'sport = :8091' | grep -q ." 5 || tb_log "the stalled backend did not start"
mb=$(nsx python3 "$TMP/upload.py" "$VIP" 2>&1)
if python3 -c "import sys; sys.exit(not (float('$mb') < 4.0))" 2>/dev/null; then
	tb_pass "upload_to_a_stalled_backend_is_held_back (${mb} MB of 64 sent in 4 s)"
else
	tb_fail "upload_to_a_stalled_backend_is_held_back" "the client sent ${mb} MB in 4 s"
fi

# --- HSTS on HTTPS only ----------------------------------------------------------------------

expect "hsts_on_https" \
	"$(nsx curl -sk -m 10 "${R[@]}" -o /dev/null -D - https://a.example/h | tr -d '\r' | grep -ci '^strict-transport-security: max-age=31536000' || true)" 1
expect "hsts_on_https_own_page" \
	"$(nsx curl -sk -m 10 --resolve "c.example:443:$VIP" -o /dev/null -D - https://c.example/h | tr -d '\r' | grep -ci '^strict-transport-security:' || true)" 1
expect "no_hsts_on_plain_http" \
	"$(nsx curl -s -m 10 -o /dev/null -D - "http://$VIP/h" | tr -d '\r' | grep -ci '^strict-transport-security:' || true)" 0

# --- garbage and stalls ----------------------------------------------------------------------

cat >"$TMP/raw.py" <<'EOF'
import socket, sys, time
# raw.py ADDR DATA: send DATA (may be empty), then print how the server ended it and when
s = socket.create_connection((sys.argv[1], 443), timeout=10)
if sys.argv[2]:
    s.sendall(sys.argv[2].encode())
t = time.time()
n = 0
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        n += len(b)
    how = "closed"
except socket.timeout:
    how = "open"
except ConnectionResetError:
    how = "reset"
print(how, round(time.time() - t, 1) < 8.0 and how != "open")
EOF
bad_before=$(metric 'sluice_tls_handshake_failures_total{reason="not_tls"}')
expect "garbage_closed" "$(nsx python3 "$TMP/raw.py" "$VIP" 'this is no ClientHello, just garbage\r\n\r\n' | cut -d' ' -f2)" True
expect "plain_http_on_tls_port_closed" "$(nsx python3 "$TMP/raw.py" "$VIP" $'GET / HTTP/1.1\r\nHost: a.example\r\n\r\n' | cut -d' ' -f2)" True
bad_after=$(metric 'sluice_tls_handshake_failures_total{reason="not_tls"}')
expect "garbage_counted_not_tls" "$((bad_after - bad_before))" 2
eof_before=$(metric 'sluice_tls_handshake_failures_total{reason="eof_or_timeout"}')
expect "stalled_handshake_closed_by_header_timeout" "$(nsx python3 "$TMP/raw.py" "$VIP" '' | cut -d' ' -f2)" True
eof_after=$(metric 'sluice_tls_handshake_failures_total{reason="eof_or_timeout"}')
expect "stalled_handshake_counted" "$((eof_after - eof_before))" 1
hist_n=$(metric sluice_tls_handshake_duration_seconds_count)
hs_n=$(metric sluice_tls_handshakes_total)
if [ "${hist_n%.*}" -gt 0 ] && [ "${hist_n%.*}" = "${hs_n%.*}" ]; then
	tb_pass "handshake_histogram_counts_every_handshake ($hist_n)"
else
	tb_fail "handshake_histogram_counts_every_handshake" "histogram $hist_n, handshakes $hs_n"
fi

# --- reload: certificates swapped under load -------------------------------------------------

# curl_loop N OUT: N requests over new HTTPS connections; the status codes into OUT
curl_loop() {
	local i
	for ((i = 0; i < $1; i++)); do
		nsx curl -sk -m 10 "${R[@]}" -o /dev/null -w '%{http_code}\n' https://a.example/loop || echo fail
	done >"$2"
}
nsx wrk -t1 -c8 -d6s --timeout 10s -H 'Host: a.example' "https://$VIP/wrk" >"$TMP/wrk.out" 2>&1 &
wrk_pid=$!
curl_loop 150 "$TMP/loop1" &
loop_pid=$!
sleep 1.5
config "$cfg" a2
kill -HUP "$pid"
tb_check "new_connections_see_the_new_certificate" tb_wait_for \
	"[ \"\$(echo | ip netns exec '$SL_NS' timeout 5 openssl s_client -connect $VIP:443 -servername a.example 2>/dev/null | sed -n 's/^subject=.*CN *= *//p')\" = a-renewed.example ]" 10
wait "$loop_pid"
wait "$wrk_pid"
expect "curl_loop_no_failed_request" "$(grep -vc '^200$' "$TMP/loop1" || true) of $(wc -l <"$TMP/loop1")" "0 of 150"
wrk_reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
if [ -n "$wrk_reqs" ] && ! grep -q -E 'Non-2xx|Socket errors' "$TMP/wrk.out"; then
	tb_pass "wrk_over_https_through_reload ($wrk_reqs requests, 0 errors)"
else
	tb_fail "wrk_over_https_through_reload" "$(tr '\n' ' ' <"$TMP/wrk.out")"
fi
expect "b_keeps_its_certificate" "$(subject -servername b.example)" b.example

# A bad certificate: refused, named; the running snapshot stays.
config "$cfg" bad
cp "$TMP/a.key" "$TMP/bad.key"
kill -HUP "$pid"
tb_check "bad_certificate_reload_refused_naming_the_file" tb_wait_for \
	"grep -q 'configuration refused.*bad.pem' '$state/sluice.log'" 10
expect "after_refused_reload_certificate_stays" "$(subject -servername a.example)" a-renewed.example
# A plain service on the TLS port: refused.
config "$cfg" a2 "  - name: clash
    host: c.example
    port: 443
    locations:
      - path: /
        backends:
          - url: http://198.18.0.13:8080"
kill -HUP "$pid"
tb_check "plain_and_tls_on_one_port_refused" tb_wait_for \
	"grep -q 'configuration refused.*one listener serves either plain HTTP or TLS' '$state/sluice.log'" 10
expect "https_still_served" "$(nsx curl -sk -m 10 "${R[@]}" -o /dev/null -w '%{http_code}' https://b.example/z)" 200

hs=$(metric sluice_tls_handshakes_total)
if [ "${hs%.*}" -ge 20 ]; then tb_pass "handshakes_counted ($hs)"; else tb_fail "handshakes_counted" "$hs"; fi
if kill -0 "$pid" 2>/dev/null; then tb_pass "sluice_still_running"; else tb_fail "sluice_still_running"; fi

tb_summary
