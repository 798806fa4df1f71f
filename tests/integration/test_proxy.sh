#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# The HTTP proxy end to end in the TAP testbed (scripts/testbed.sh, namespace sl-px-<pid>):
# sluice at 198.18.0.2 with the test's own configuration (tap-demo's locations plus a few for
# failures), sluice-backend at 198.18.0.11-.13:8080, curl / python3 / wrk as clients, all
# inside the namespace. The testbed goes away on every exit.
#
# Usage: test_proxy.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-px "${1:-}"
VIP=198.18.0.2

tb_need_root
tb_need_cmd ip curl python3 sha256sum wrk
TMP=$(mktemp -d /tmp/sl-px-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

# tap-demo's five locations, and for the failure cases: a service on port 8081 that only
# knows /only/ (404 elsewhere), a location whose backends refuse (503), short timeouts; two
# services on port 80 with their own addresses (VIPs .60 and .61), one backend each.
cat >"$TMP/proxy.yaml" <<'EOF'
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
      mtu: 1500
      addresses: [198.18.0.60, 198.18.0.61]
  idle: adaptive
  mbufs: 8191
timeouts:
  client_header: 2s
  client_keepalive: 10s
  backend_connect: 1s
  backend_response: 2s
limits:
  max_body: 11m               # above the 10 MB uploads below
services:
  - name: demo
    host: "*"
    port: 80
    locations:
      - path: /
        lb_policy: round_robin
        backends: &three
          - url: http://198.18.0.11:8080
          - url: http://198.18.0.12:8080
          - url: http://198.18.0.13:8080
      - path: /cart/
        lb_policy: consistent_hashing
        backends: *three
      - path: /upload/
        lb_policy: least_connections
        backends: *three
      - path: /heavy/
        lb_policy: weighted_round_robin
        backends:
          - url: http://198.18.0.11:8080
            weight: 8
          - url: http://198.18.0.12:8080
          - url: http://198.18.0.13:8080
      - path: /api/
        lb_policy: adaptive
        backends: *three
      - path: /down/
        backends:
          - url: http://198.18.0.11:8099
          - url: http://198.18.0.12:8099
      - path: /old/
        redirect: /new/
        backends: *three
      # Their backends exist only during their check (or never): no health checks, so the
      # checks see the proxy's own handling rather than a backend already marked down.
      - path: /ws/
        health_check: {enabled: false}
        backends:
          - url: http://198.18.0.11:8090
      - path: /chunked/
        health_check: {enabled: false}
        backends:
          - url: http://198.18.0.11:8091
      - path: /blackhole/
        health_check: {enabled: false}
        backends:
          - url: http://198.18.0.250:8080
  - name: strict
    host: "*"
    port: 8081
    locations:
      - path: /only/
        backends: *three
  - name: vip60
    address: 198.18.0.60
    port: 80
    locations:
      - path: /
        backends:
          - url: http://198.18.0.12:8080
  - name: vip61
    address: 198.18.0.61
    port: 80
    locations:
      - path: /
        backends:
          - url: http://198.18.0.13:8080
EOF
if ! "$SL_BUILD/apps/sluice/sluice" --check --config "$TMP/proxy.yaml" >/dev/null 2>"$TMP/check.err"; then
	cat "$TMP/check.err" >&2
	tb_die "the test configuration does not load"
fi

# --- what the proxy refuses at start (EAL on a null device; no namespace needed) -------------

# refused NAME YAML_SERVICES NEEDLE: sluice must exit non-zero saying NEEDLE.
refused() {
	local prefix=sl-px-chk-$$-$1 out rc=0
	printf 'dataplane:\n  ports:\n    - name: n0\n      device: net_null0\n      ip: 198.18.9.2/24\n%s\n' \
		"$2" >"$TMP/$1.yaml"
	out=$(timeout 60 "$SL_BUILD/apps/sluice/sluice" -l 0-1 --no-pci --no-huge -m 256 \
		--file-prefix "$prefix" --vdev net_null0 --log-level=pmd:error -- \
		--config "$TMP/$1.yaml" 2>&1 </dev/null) || rc=$?
	rm -rf "/var/run/dpdk/$prefix"
	if [ "$rc" -ne 0 ] && grep -qF -- "$3" <<<"$out"; then tb_pass "refused_at_start_$1"; else
		tb_fail "refused_at_start_$1" "rc=$rc: $(tail -2 <<<"$out" | tr '\n' ' ')"; fi
}
# (A backend name that does not resolve: test_configs.sh, where the namespace has its hosts file.)
refused http_redirect "$(printf 'services:\n  - name: s\n    locations:\n      - path: /\n        http_redirect: true\n        backends:\n          - url: http://198.18.9.11:8080\n')" \
	"http_redirect sends plain-HTTP clients to https://, so the service needs a tls section"

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$TMP/proxy.yaml" >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
tb_wait_for "ip netns exec '$SL_NS' curl -s -m 2 -o /dev/null http://$VIP/health" 15 ||
	{ cat "$state/sluice.log" >&2; tb_die "sluice does not answer HTTP"; }

nsx() { ip netns exec "$SL_NS" "$@"; }
pcurl() { nsx curl -sS --max-time 20 "$@"; }
# field FILE KEY: a top-level field of a JSON document
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
expect() {
	if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi
}
# names PATH N: the backend names of N requests, one a line
names() {
	local i
	for ((i = 0; i < $2; i++)); do
		pcurl "http://$VIP$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backend"])'
	done
}

# --- routing and policies --------------------------------------------------------------------

pcurl -o "$TMP/get.json" -H 'X-Forwarded-For: 203.0.113.9' "http://$VIP/hello?x=1"
expect "get_proxied_path" "$(field "$TMP/get.json" target)" "/hello?x=1"
expect "get_x_forwarded_for_appended" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["headers"]["x-forwarded-for"])' "$TMP/get.json")" \
	"203.0.113.9, 198.18.0.1"
expect "get_via_added" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["headers"]["via"])' "$TMP/get.json")" \
	"1.1 sluice"

names / 9 | sort | uniq -c | awk '{print $1}' | tr '\n' ' ' >"$TMP/rr"
expect "round_robin_spreads_evenly_over_3" "$(cat "$TMP/rr")" "3 3 3 "

names /heavy/ 100 | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ' >"$TMP/wrr"
expect "weighted_8_1_1_over_100" "$(cat "$TMP/wrr")" "backend1=80 backend2=10 backend3=10 "

expect "consistent_hashing_sticky_per_client" "$(names /cart/ 10 | sort -u | wc -l)" 1
expect "least_connections_serves" "$(names /upload/ 3 | wc -l)" 3
expect "adaptive_serves" "$(names /api/ 3 | wc -l)" 3

# Services on one port told apart by the address the client connected to (services[].address).
expect "vip_services_told_apart_by_address" \
	"$(for a in 198.18.0.60 198.18.0.61 198.18.0.60 198.18.0.61; do
		pcurl "http://$a/v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backend"])'
	done | tr '\n' ' ')" "backend2 backend3 backend2 backend3 "

code=$(pcurl -o "$TMP/404" -w '%{http_code}' "http://$VIP:8081/elsewhere")
expect "no_route_is_404" "$code" 404
code=$(pcurl -o /dev/null -w '%{http_code} %{redirect_url}' "http://$VIP/old/")
expect "redirect_is_301_with_location" "$code" "301 http://$VIP/new/"

# --- bodies ----------------------------------------------------------------------------------

head -c 10485760 /dev/urandom >"$TMP/up.bin"
want=$(sha256sum <"$TMP/up.bin" | cut -d' ' -f1)
pcurl -o "$TMP/up.json" --data-binary "@$TMP/up.bin" -H 'Content-Type: application/octet-stream' \
	"http://$VIP/upload/x"
expect "upload_10MB_sha256" "$(field "$TMP/up.json" body_sha256)" "$want"
expect "upload_10MB_length" "$(field "$TMP/up.json" body_bytes)" 10485760
pcurl -o "$TMP/up2.json" -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/up.bin" \
	"http://$VIP/upload/chunked"
expect "upload_chunked_sha256" "$(field "$TMP/up2.json" body_sha256)" "$want"

pcurl -o "$TMP/down.bin" "http://$VIP/bytes/10485760"
want=$(python3 -c '
import hashlib,sys
n=10485760; pat=bytes(97+i%26 for i in range(26)); h=hashlib.sha256()
h.update((pat*(n//26+1))[:n]); print(h.hexdigest())')
expect "download_10MB_sha256" "$(sha256sum <"$TMP/down.bin" | cut -d' ' -f1)" "$want"
code=$(pcurl -o /dev/null -w '%{http_code} %{size_download}' -I "http://$VIP/bytes/100")
expect "head_has_no_body" "$code" "200 0"

# --- keep-alive and pipelining ---------------------------------------------------------------

out=$(pcurl -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
	"http://$VIP/a" "http://$VIP/b" "http://$VIP/c" | tr '\n' ' ')
expect "client_keep_alive_one_connection" "$out" "1 0 0 "
# Every backend has had several requests by now: the pool reuses their connections.
pcurl -o "$TMP/ka.json" "http://$VIP/ka"
n=$(field "$TMP/ka.json" conn_requests)
if [ "$n" -gt 1 ]; then tb_pass "backend_connection_reused ($n requests)"; else
	tb_fail "backend_connection_reused" "conn_requests=$n"; fi

cat >"$TMP/pipe.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
reqs = b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3))
reqs += b"GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
s.sendall(reqs)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
import re
print(" ".join(m.decode() for m in re.findall(rb'"target":"(/p\d)"', data)))
EOF
expect "pipelined_answered_in_order" "$(nsx python3 "$TMP/pipe.py" "$VIP")" "/p0 /p1 /p2 /p3"

# Replies sluice makes itself keep the connection when HTTP allows it (the request was read
# whole, the client did not ask to close, not a framing or syntax error).
out=$(pcurl -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	"http://$VIP:8081/elsewhere" "http://$VIP:8081/only/x" | tr '\n' ' ')
expect "keep_alive_after_404" "$out" "404 1 200 0 "
out=$(pcurl -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	"http://$VIP/old/" "http://$VIP/x" | tr '\n' ' ')
expect "keep_alive_after_redirect" "$out" "301 1 200 0 "
out=$(pcurl -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	"http://$VIP/down/" "http://$VIP/x" | tr '\n' ' ')
expect "keep_alive_after_503" "$out" "503 1 200 0 "

# pipe2.py PORT REQ...: the requests at once on one connection (the last with Connection:
# close; REQ is a path, or METHOD:PATH:BODY); prints each response's status and target (the
# backend's echo) or Location, then "eof" if the server closed.
cat >"$TMP/pipe2.py" <<'EOF2'
import json, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
reqs = sys.argv[3:]
out = b""
for i, r in enumerate(reqs):
    m, _, rest = r.partition(":") if ":" in r else ("GET", "", r)
    path, _, body = rest.partition(":")
    close = b"Connection: close\r\n" if i == len(reqs) - 1 else b""
    out += b"%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s" % (
        m.encode(), path.encode(), close, len(body), body.encode())
s.sendall(out)
f = s.makefile("rb")
res = []
while True:
    line = f.readline()
    if not line:
        res.append("eof")
        break
    status = line.split()[1].decode()
    hdr = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, _, v = h.decode().partition(":")
        hdr[k.strip().lower()] = v.strip()
    body = f.read(int(hdr.get("content-length", 0)))
    what = hdr.get("location") or (json.loads(body).get("target") if status == "200" else "-")
    res.append("%s:%s" % (status, what))
print(" ".join(res))
EOF2
expect "pipelined_with_own_replies_in_order" \
	"$(nsx python3 "$TMP/pipe2.py" "$VIP" 80 /q0 /old/ /q2 /down/ /q4 2>&1)" \
	"200:/q0 301:/new/ 200:/q2 503:- 200:/q4 eof"
expect "pipelined_404_between_proxied" \
	"$(nsx python3 "$TMP/pipe2.py" "$VIP" 8081 /only/a /nowhere /only/b 2>&1)" \
	"200:/only/a 404:- 200:/only/b eof"
# A request whose body sluice did not read: the reply closes (its bytes are not a request).
expect "404_with_unread_body_closes" \
	"$(nsx python3 "$TMP/pipe2.py" "$VIP" 8081 POST:/nowhere:hello /only/c 2>&1)" "404:- eof"

# --- upgrade: a raw echo behind a 101, half-closes passed on ---------------------------------

# The backend is ws_server.py: RFC 6455 with Sec-WebSocket-Key, raw bytes echoed without.
cat >"$TMP/ws_client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /ws/chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, rest = buf.split(b"\r\n\r\n", 1)
status = head.split(b"\r\n")[0].decode()
payload = bytes(range(256)) * 400
s.sendall(payload)
got = rest
while len(got) < len(payload):
    b = s.recv(65536)
    if not b: break
    got += b
s.shutdown(socket.SHUT_WR)
eof = s.recv(10) == b""
print(status, got == payload, eof)
EOF
nsx python3 "$HERE/ws_server.py" 198.18.0.11 8090 &
ws_pid=$!
tb_on_exit "kill $ws_pid"
tb_wait_for "nsx python3 -c 'import socket; socket.create_connection((\"198.18.0.11\", 8090), timeout=1)'" 5 ||
	tb_log "the upgrade test server did not start"
expect "upgrade_relays_raw_bytes_and_half_close" "$(nsx python3 "$TMP/ws_client.py" "$VIP" 2>&1)" \
	"HTTP/1.1 101 Switching Protocols True True"
# A WebSocket echo (RFC 6455): the handshake's accept key, masked frames of 5 B, 300 B and
# 100 KB echoed, a close frame answered, then the server's FIN passed on.
cat >"$TMP/ws_echo.py" <<'EOF'
import base64, hashlib, os, socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
key = base64.b64encode(os.urandom(16))
s.sendall(b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
want = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
ok = head.startswith(b"HTTP/1.1 101") and b"sec-websocket-accept: " + want.lower() in head.lower()
def recvn(n):
    global buf
    while len(buf) < n:
        b = s.recv(65536)
        if not b: raise EOFError
        buf += b
    r, buf = buf[:n], buf[n:]
    return r
def frame(op, data):
    n = len(data); m = os.urandom(4)
    ln = bytes([0x80 | n]) if n < 126 else (bytes([0xfe]) + n.to_bytes(2, "big") if n < 65536
                                              else bytes([0xff]) + n.to_bytes(8, "big"))
    return bytes([0x80 | op]) + ln + m + bytes(b ^ m[i % 4] for i, b in enumerate(data))
def read_frame():
    h = recvn(2); n = h[1] & 0x7f
    if n == 126: n = int.from_bytes(recvn(2), "big")
    elif n == 127: n = int.from_bytes(recvn(8), "big")
    return h[0] & 0x0f, recvn(n)
for data in (b"hello", os.urandom(300), os.urandom(100000)):
    s.sendall(frame(2, data))
    ok = ok and read_frame() == (2, data)
s.sendall(frame(8, b"\x03\xe8"))
ok = ok and read_frame() == (8, b"\x03\xe8")
print(ok, s.recv(10) == b"")
EOF
expect "websocket_echo" "$(nsx python3 "$TMP/ws_echo.py" "$VIP" 2>&1)" "True True"

# --- a chunked response to an HTTP/1.0 client: payload only, close-delimited ---------------

cat >"$TMP/chunked_server.py" <<'EOF'
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(8); srv.settimeout(60)
parts = [b"hello ", bytes(97 + i % 26 for i in range(100000)), b"", b" end"]
body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\nX-T: 1\r\n\r\n"
def serve(c):
    c.settimeout(20); buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                b = c.recv(4096)
                if not b: return
                buf += b
            buf = buf.split(b"\r\n\r\n", 1)[1]
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
                      + body)
    except OSError:
        pass  # the proxy's pooled connection idled out
    finally:
        c.close()
while True:
    try: c, _ = srv.accept()
    except socket.timeout: break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
cat >"$TMP/chunked_client.py" <<'EOF'
import socket, sys
want = b"hello " + bytes(97 + i % 26 for i in range(100000)) + b" end"
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /chunked/ HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
head, body = data.split(b"\r\n\r\n", 1)
h = head.lower()
print(head.split(b"\r\n")[0].decode(), b"transfer-encoding" in h, b"connection: close" in h,
      body == want, len(body))
EOF
nsx python3 "$TMP/chunked_server.py" 198.18.0.11 8091 &
ch_pid=$!
tb_on_exit "kill $ch_pid"
tb_wait_for "nsx python3 -c 'import socket; socket.create_connection((\"198.18.0.11\", 8091), timeout=1)'" 5 ||
	tb_log "the chunked test server did not start"
expect "chunked_response_to_http10_dechunked_and_closed" \
	"$(nsx python3 "$TMP/chunked_client.py" "$VIP" 2>&1)" "HTTP/1.1 200 OK False True True 100010"
expect "chunked_response_to_http11_unchanged" \
	"$(pcurl -s "http://$VIP/chunked/" | sha256sum | cut -d' ' -f1)" \
	"$(python3 -c 'import hashlib; print(hashlib.sha256(b"hello " + bytes(97 + i % 26 for i in range(100000)) + b" end").hexdigest())')"

# --- bad requests ----------------------------------------------------------------------------

# raw BYTES: send them (printf format), print the status line and whether the server closed.
cat >"$TMP/raw.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    print("timeout", end=" ")
print(data.split(b"\r\n")[0].decode(errors="replace"))
EOF
raw() { nsx python3 "$TMP/raw.py" "$VIP" "$1"; }
expect "no_host_is_400_and_close" "$(raw 'GET / HTTP/1.1\r\n\r\n')" "HTTP/1.1 400 Bad Request"
expect "cl_and_te_is_400" \
	"$(raw 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" \
	"HTTP/1.1 400 Bad Request"
expect "two_content_lengths_is_400" \
	"$(raw 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd')" \
	"HTTP/1.1 400 Bad Request"
expect "obs_fold_is_400" "$(raw 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n')" \
	"HTTP/1.1 400 Bad Request"
expect "space_before_colon_is_400" "$(raw 'GET / HTTP/1.1\r\nHost : x\r\n\r\n')" \
	"HTTP/1.1 400 Bad Request"
long=$(python3 -c 'print("/" + "a" * 9000)')
expect "long_target_is_414" "$(raw "GET $long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")" \
	"HTTP/1.1 414 URI Too Long"

# limits.max_body (11m): a Content-Length above it is refused at the head, a chunked body
# when a chunk takes it over (10 MB forwarded, then a 2 MB chunk announced).
expect "content_length_over_max_body_is_413" \
	"$(raw 'POST /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n')" \
	"HTTP/1.1 413 Content Too Large"
cat >"$TMP/chunk413.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"POST /upload/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
s.sendall(b"a00000\r\n" + b"x" * 0xa00000 + b"\r\n" + b"200000\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode(errors="replace"))
EOF
expect "chunked_body_crossing_max_body_is_413" "$(nsx python3 "$TMP/chunk413.py" "$VIP" 2>&1)" \
	"HTTP/1.1 413 Content Too Large"

# --- failures --------------------------------------------------------------------------------

code=$(pcurl -o "$TMP/503.html" -w '%{http_code}' "http://$VIP/down/")
expect "all_backends_down_503" "$code" 503
if grep -qi "Service Unavailable" "$TMP/503.html"; then tb_pass "503_html_page"; else
	tb_fail "503_html_page"; fi
pcurl -o "$TMP/503.json" -H 'Accept: application/json' "http://$VIP/down/" || true
expect "503_json_page" "$(field "$TMP/503.json" status)" 503
pcurl -o "$TMP/404.json" -H 'Accept: text/html;q=0.5, application/json' "http://$VIP:8081/x" || true
expect "404_json_page_when_accept_prefers_json" "$(field "$TMP/404.json" status)" 404

t0=$(date +%s%N)
expect "slowloris_is_408" "$(raw 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ')" \
	"HTTP/1.1 408 Request Timeout"
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -ge 1500 ] && [ "$ms" -lt 6000 ]; then tb_pass "slowloris_after_header_timeout (${ms} ms)"; else
	tb_fail "slowloris_after_header_timeout" "${ms} ms"; fi

code=$(pcurl -o /dev/null -w '%{http_code}' "http://$VIP/delay/3500")
expect "backend_never_answers_504" "$code" 504

# A backend killed in the middle of a load run: GETs are retried, the client sees no error.
nsx wrk -t1 -c8 -d5s "http://$VIP/" >"$TMP/wrk.out" 2>&1 &
wrk_pid=$!
sleep 2
tb_stop_pid "$(cat "$state/backend-3.pid")" 2
wait "$wrk_pid" || true
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
if grep -q -E 'Non-2xx|Socket errors' "$TMP/wrk.out"; then
	tb_fail "backend_killed_under_load_no_client_error" "$(tr '\n' ' ' <"$TMP/wrk.out")"
elif [ "${reqs:-0}" -gt 100 ]; then
	tb_pass "backend_killed_under_load_no_client_error ($reqs requests)"
else
	tb_fail "backend_killed_under_load_no_client_error" "only ${reqs:-0} requests"
fi
names / 6 | sort -u | tr '\n' ' ' >"$TMP/left"
expect "requests_go_to_the_living_backends" "$(cat "$TMP/left")" "backend1 backend2 "

# No host at the address: the stack's connect timeout (timeouts.backend_connect, 1s) ends it.
t0=$(date +%s%N)
code=$(pcurl -o /dev/null -w '%{http_code}' "http://$VIP/blackhole/")
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$code" = 503 ] && [ "$ms" -ge 900 ] && [ "$ms" -lt 4000 ]; then
	tb_pass "backend_connect_timeout_is_503 (${ms} ms)"
else
	tb_fail "backend_connect_timeout_is_503" "$code after ${ms} ms"
fi

# --- counters --------------------------------------------------------------------------------

if tb_sluice_stats "$state" >"$TMP/stats.json"; then
	python3 - "$TMP/stats.json" >"$TMP/http.txt" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["http"]
print(h["requests"]["2xx"] > 100, h["requests"]["4xx"] >= 7, h["requests"]["5xx"] >= 3,
      h["errors"].get("no_route", 0) >= 1, h["errors"].get("header_timeout", 0) == 1,
      h["errors"].get("backend_timeout", 0) == 1, h["retries"] >= 2, h["pool_reused"] > 10,
      h["errors"].get("connect_timeout", 0) >= 1)
EOF
	expect "stats_http_counters" "$(cat "$TMP/http.txt")" "True True True True True True True True True"
else
	tb_fail "stats_http_counters" "no stats line"
fi
if kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null; then tb_pass "sluice_still_running"; else
	tb_fail "sluice_still_running"; fi

tb_summary
