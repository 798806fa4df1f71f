#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# Security headers and CORS end to end in the TAP testbed (scripts/testbed.sh, namespace
# sl-hd-<pid>): sluice at 198.18.0.2 with `security:` and `cors:` sections, sluice-backend at
# 198.18.0.11:8080 (the testbed's) and one more at 198.18.0.12:8092 that sets its own
# X-Frame-Options; curl and python3 as clients, all inside the namespace. The testbed and the
# extra backend go away on every exit.
#
# Usage: test_headers.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-hd "${1:-}"
VIP=198.18.0.2
APP=https://app.example.com

tb_need_root
tb_need_cmd ip curl python3
TMP=$(mktemp -d /tmp/sl-hd-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

cat >"$TMP/headers.yaml" <<'EOF'
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
      mtu: 1500
  idle: adaptive
  mbufs: 8191
health_check: {enabled: false}    # the probes would count as requests the backend served
security:
  hsts: true                      # plain HTTP here: must not be sent
  frame_options: DENY
  content_type_options: true
  referrer_policy: strict-origin-when-cross-origin
  xss_protection: true
cors:
  allowed_origins: ["HTTPS://App.Example.com"]   # kept in lower case
  allowed_methods: [PUT, DELETE]
  allowed_headers: [X-Requested-With]
  max_age: 600
  allow_credentials: true
services:
  - name: h
    host: "*"
    port: 80
    locations:
      - path: /api/
        backends:
          - url: http://198.18.0.11:8080
      - path: /own/
        backends:
          - url: http://198.18.0.12:8092
EOF
if ! "$SL_BUILD/apps/sluice/sluice" --check --config "$TMP/headers.yaml" >/dev/null 2>"$TMP/check.err"; then
	cat "$TMP/check.err" >&2
	tb_die "the test configuration does not load"
fi

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$TMP/headers.yaml" >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
nsx() { ip netns exec "$SL_NS" "$@"; }
# ip netns exec directly, not the nsx function: a backgrounded function makes $! a subshell's
# PID, and the backend outlived the test.
ip netns exec "$SL_NS" "$SL_BUILD/apps/sluice-backend/sluice-backend" --listen 198.18.0.12:8092 --name own \
	--header 'X-Frame-Options: SAMEORIGIN' </dev/null >"$TMP/own.log" 2>&1 &
own_pid=$!
tb_on_exit "kill $own_pid 2>/dev/null || true"
tb_wait_for "ip netns exec '$SL_NS' curl -s -m 2 -o /dev/null http://$VIP/api/ready" 15 ||
	{ cat "$state/sluice.log" >&2; tb_die "sluice does not answer HTTP"; }

# head ARGS...: the response head of one request (curl -D), CRs removed
head_of() { nsx curl -sS --max-time 10 -o /dev/null -D - "$@" | tr -d '\r'; }
# count NAME FILE: fields named NAME in the head in FILE (case-insensitive)
count() { grep -ci "^$1:" "$2" || true; }
value() { grep -i "^$1:" "$2" | head -1 | cut -d' ' -f2-; }
expect() {
	if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi
}
# security_once NAME FILE: each security field exactly once, and no HSTS on plain HTTP
security_once() {
	expect "$1_security_fields_once" "$(count X-Frame-Options "$2") $(count X-Content-Type-Options "$2") $(count Referrer-Policy "$2") $(count X-XSS-Protection "$2")" "1 1 1 1"
	expect "$1_no_hsts_on_plain_http" "$(count Strict-Transport-Security "$2")" 0
}
# served: request heads the /api/ backend has seen so far (this request included)
served() {
	nsx curl -sS --max-time 10 "http://$VIP/api/count" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["server_requests"])'
}

# --- security fields -------------------------------------------------------------------------

head_of "http://$VIP/api/x" >"$TMP/proxied"
expect "proxied_status" "$(head -1 "$TMP/proxied" | cut -d' ' -f2)" 200
security_once proxied "$TMP/proxied"
expect "proxied_values" "$(value X-Frame-Options "$TMP/proxied")|$(value X-Content-Type-Options "$TMP/proxied")|$(value Referrer-Policy "$TMP/proxied")|$(value X-XSS-Protection "$TMP/proxied")" \
	"DENY|nosniff|strict-origin-when-cross-origin|1; mode=block"

head_of "http://$VIP/nowhere" >"$TMP/404"
expect "own_page_status" "$(head -1 "$TMP/404" | cut -d' ' -f2)" 404
security_once own_404_page "$TMP/404"
expect "own_404_page_body_intact" \
	"$(nsx curl -sS --max-time 10 "http://$VIP/nowhere" | grep -c '</html>')" 1

head_of "http://$VIP/own/x" >"$TMP/own"
security_once backend_sets_frame_options "$TMP/own"
expect "backend_frame_options_kept" "$(value X-Frame-Options "$TMP/own")" SAMEORIGIN

# --- CORS preflight: answered by sluice, the backend does not see it --------------------------

before=$(served)
head_of -X OPTIONS -H "Origin: $APP" -H 'Access-Control-Request-Method: PUT' \
	-H 'Access-Control-Request-Headers: x-requested-with' "http://$VIP/api/items" >"$TMP/pre"
after=$(served)
expect "preflight_not_sent_to_backend" "$((after - before))" 1
expect "preflight_status" "$(head -1 "$TMP/pre" | cut -d' ' -f2)" 204
expect "preflight_allow_fields" "$(value Access-Control-Allow-Origin "$TMP/pre")|$(value Access-Control-Allow-Methods "$TMP/pre")|$(value Access-Control-Allow-Headers "$TMP/pre")|$(value Access-Control-Max-Age "$TMP/pre")|$(value Access-Control-Allow-Credentials "$TMP/pre")" \
	"$APP|PUT|x-requested-with|600|true"
security_once preflight "$TMP/pre"

head_of -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT' \
	"http://$VIP/api/items" >"$TMP/pre_evil"
expect "preflight_bad_origin_answered_204" "$(head -1 "$TMP/pre_evil" | cut -d' ' -f2)" 204
expect "preflight_bad_origin_no_cors_fields" "$(grep -ci '^access-control-' "$TMP/pre_evil" || true)" 0
head_of -X OPTIONS -H "Origin: $APP" -H 'Access-Control-Request-Method: PATCH' \
	"http://$VIP/api/items" >"$TMP/pre_patch"
expect "preflight_bad_method_no_cors_fields" "$(grep -ci '^access-control-' "$TMP/pre_patch" || true)" 0
expect "preflights_not_sent_to_backend" "$(($(served) - after))" 1

# A preflight then the actual request on one keep-alive connection.
cat >"$TMP/ka.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"OPTIONS /api/k HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\n"
          b"Access-Control-Request-Method: DELETE\r\n\r\n"
          b"DELETE /api/k HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\n"
          b"Connection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.count(b"HTTP/1.1 204 "), data.count(b"HTTP/1.1 200 "), data.count(b'"method":"DELETE"'))
EOF
expect "preflight_keeps_the_connection" "$(nsx python3 "$TMP/ka.py" "$VIP")" "1 1 1"

# --- CORS on actual responses ----------------------------------------------------------------

head_of -H "Origin: $APP" "http://$VIP/api/data" >"$TMP/actual"
expect "actual_allowed_origin_fields" "$(value Access-Control-Allow-Origin "$TMP/actual")|$(value Access-Control-Allow-Credentials "$TMP/actual")|$(grep -i '^vary:' "$TMP/actual" | grep -ci origin)" \
	"$APP|true|1"
head_of -H 'Origin: https://evil.example' "http://$VIP/api/data" >"$TMP/actual_evil"
expect "actual_bad_origin_no_cors_fields" "$(grep -ci '^access-control-' "$TMP/actual_evil" || true)" 0
head_of "http://$VIP/api/data" >"$TMP/no_origin"
expect "no_origin_no_cors_fields" "$(grep -ci '^access-control-' "$TMP/no_origin" || true)" 0

# --- reload: the sections change with the configuration -------------------------------------

sed -e 's/frame_options: DENY/frame_options: SAMEORIGIN/' -e '/^cors:/,/^services:/{/^services:/!d}' \
	"$TMP/headers.yaml" >"$TMP/reloaded.yaml"
cp "$TMP/reloaded.yaml" "$TMP/headers.yaml"
kill -HUP "$(cat "$state/sluice.pid")"
tb_check "reload_changes_frame_options" tb_wait_for \
	"[ \"\$(ip netns exec '$SL_NS' curl -s -m 2 -o /dev/null -D - http://$VIP/api/r | tr -d '\r' | grep -i '^x-frame-options:' | cut -d' ' -f2)\" = SAMEORIGIN ]" 10
before=$(served)
head_of -X OPTIONS -H "Origin: $APP" -H 'Access-Control-Request-Method: PUT' \
	"http://$VIP/api/items" >"$TMP/pre_off"
expect "without_cors_preflight_goes_to_backend" "$(head -1 "$TMP/pre_off" | cut -d' ' -f2) $(($(served) - before))" "200 2"
expect "without_cors_no_cors_fields" "$(grep -ci '^access-control-' "$TMP/pre_off" || true)" 0

if kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null; then tb_pass "sluice_still_running"; else
	tb_fail "sluice_still_running"; fi

tb_summary
