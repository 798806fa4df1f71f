#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# Topology: one network namespace sl-bk-<pid> with lo up and 198.18.5.1/32 on lo.
# sluice-backend listens on 198.18.5.1:8080 inside it; curl and python3 talk to it over lo.
# Nothing outside the namespace is touched; the backend and the namespace go away on every exit.
#
# Usage: test_backend.sh [PATH_TO_SLUICE_BACKEND]   (default build/apps/sluice-backend/sluice-backend)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

BIN=${1:-$REPO/build/apps/sluice-backend/sluice-backend}
# A build directory (as scripts/test.sh passes) names the binary inside it.
[ -d "$BIN" ] && BIN=$BIN/apps/sluice-backend/sluice-backend
NS=sl-bk-$$
ADDR=198.18.5.1
PORT=8080
URL=http://$ADDR:$PORT
NAME=b1

tb_need_root
tb_need_cmd ip curl python3 sha256sum
[ -x "$BIN" ] || tb_die "no executable at $BIN (build it, or pass its path as \$1)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

TMP=$(mktemp -d /tmp/sl-bk-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

tb_netns_add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add "$ADDR/32" dev lo

in_ns() {
	ip netns exec "$NS" "$@"
}

# Every request has a time limit, so a hung backend fails the test instead of stalling it.
ns_curl() {
	ip netns exec "$NS" curl --max-time 30 "$@"
}

# jget FILE KEY... : a field of a JSON document; list indexes are numbers, booleans print as
# true/false, null as null.
jget() {
	python3 - "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d) if isinstance(d, (bool, type(None))) else d)
EOF
}

# expect NAME ACTUAL EXPECTED
expect() {
	if [ "$2" = "$3" ]; then
		tb_pass "$1"
	else
		tb_fail "$1" "got '$2', expected '$3'"
	fi
}

# --- usage ---------------------------------------------------------------------------------

if "$BIN" --help | grep -q '^Usage: sluice-backend'; then
	tb_pass "help_prints_usage_and_exits_0"
else
	tb_fail "help_prints_usage_and_exits_0"
fi
if "$BIN" --name x >/dev/null 2>&1; then
	tb_fail "missing_listen_is_a_usage_error"
else
	tb_pass "missing_listen_is_a_usage_error"
fi

# --- start ---------------------------------------------------------------------------------

UNHEALTHY=$TMP/unhealthy
FAULT=$TMP/fault
# Started directly (not through a shell function) so that $! is the backend itself.
ip netns exec "$NS" "$BIN" --listen "$ADDR:$PORT" --name "$NAME" --unhealthy-file "$UNHEALTHY" \
	--fault-file "$FAULT" \
	>"$TMP/backend.out" 2>"$TMP/backend.err" </dev/null &
BK_PID=$!
tb_on_exit "tb_stop_pid $BK_PID"

if tb_wait_for "grep -q 'listening on' '$TMP/backend.out'" 10; then
	expect "start_logs_one_line" "$(cat "$TMP/backend.out")" \
		"sluice-backend $NAME listening on $ADDR:$PORT"
else
	cat "$TMP/backend.err" >&2 || true
	tb_die "sluice-backend did not start"
fi

# --- the echo ------------------------------------------------------------------------------

ns_curl -sS -o "$TMP/get.json" -H 'X-Test: abc' -H 'X-Dup: one' -H 'X-Dup: two' \
	"$URL/hello/world?x=1&y=2"
expect "get_echo_backend" "$(jget "$TMP/get.json" backend)" "$NAME"
expect "get_echo_method" "$(jget "$TMP/get.json" method)" GET
expect "get_echo_path" "$(jget "$TMP/get.json" path)" /hello/world
expect "get_echo_query" "$(jget "$TMP/get.json" query)" 'x=1&y=2'
expect "get_echo_target" "$(jget "$TMP/get.json" target)" '/hello/world?x=1&y=2'
expect "get_echo_version" "$(jget "$TMP/get.json" version)" HTTP/1.1
expect "get_echo_host" "$(jget "$TMP/get.json" host)" "$ADDR:$PORT"
expect "get_echo_header" "$(jget "$TMP/get.json" headers x-test)" abc
expect "get_echo_repeated_header_joined" "$(jget "$TMP/get.json" headers x-dup)" 'one, two'
expect "get_echo_header_list_keeps_duplicates" "$(python3 -c '
import json, sys
print(",".join(v for n, v in json.load(open(sys.argv[1]))["header_list"] if n == "X-Dup"))
' "$TMP/get.json")" "one,two"
expect "get_echo_body_bytes_zero" "$(jget "$TMP/get.json" body_bytes)" 0
expect "get_echo_empty_body_sha256" "$(jget "$TMP/get.json" body_sha256)" \
	e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
expect "get_echo_conn_requests_first" "$(jget "$TMP/get.json" conn_requests)" 1
case $(jget "$TMP/get.json" remote) in
$ADDR:*) tb_pass "get_echo_remote_is_ip_port" ;;
*) tb_fail "get_echo_remote_is_ip_port" "$(jget "$TMP/get.json" remote)" ;;
esac
expect "get_echo_local" "$(jget "$TMP/get.json" local)" "$ADDR:$PORT"

ns_curl -sS -o "$TMP/patch.json" -X PATCH "$URL/any/method"
expect "any_method_echoed" "$(jget "$TMP/patch.json" method)" PATCH

code=$(ns_curl -sS -o /dev/null -D "$TMP/get.head" -w '%{http_code}' "$URL/")
expect "any_path_answers_200" "$code" 200
if grep -qi "^X-Backend: $NAME" "$TMP/get.head"; then
	tb_pass "x_backend_header"
else
	tb_fail "x_backend_header"
fi

# --- bodies --------------------------------------------------------------------------------

head -c 300000 /dev/urandom >"$TMP/body.bin"
want_sha=$(sha256sum "$TMP/body.bin" | cut -d' ' -f1)
ns_curl -sS -o "$TMP/post.json" --data-binary "@$TMP/body.bin" "$URL/upload"
expect "post_body_bytes" "$(jget "$TMP/post.json" body_bytes)" 300000
expect "post_body_sha256_matches_sha256sum" "$(jget "$TMP/post.json" body_sha256)" "$want_sha"
expect "post_method" "$(jget "$TMP/post.json" method)" POST

ns_curl -sS -o "$TMP/chunked.json" -H 'Transfer-Encoding: chunked' \
	--data-binary "@$TMP/body.bin" "$URL/chunked"
expect "chunked_upload_is_chunked" "$(jget "$TMP/chunked.json" body_chunked)" true
expect "chunked_upload_body_bytes" "$(jget "$TMP/chunked.json" body_bytes)" 300000
expect "chunked_upload_sha256" "$(jget "$TMP/chunked.json" body_sha256)" "$want_sha"

# curl sends Expect: 100-continue above 1 MiB; a missing 100 would cost it a one-second wait.
head -c 2000000 /dev/urandom >"$TMP/big.bin"
want_big=$(sha256sum "$TMP/big.bin" | cut -d' ' -f1)
t=$(ns_curl -sS -o "$TMP/big.json" -w '%{time_total}' --data-binary "@$TMP/big.bin" \
	"$URL/big")
expect "expect_100_continue_upload_sha256" "$(jget "$TMP/big.json" body_sha256)" "$want_big"
if python3 -c "import sys; sys.exit(0 if float('$t') < 0.9 else 1)"; then
	tb_pass "expect_100_continue_is_answered"
else
	tb_fail "expect_100_continue_is_answered" "upload took ${t}s"
fi

# --- special paths -------------------------------------------------------------------------

expect "status_503" "$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/status/503")" 503
expect "status_204_without_body" \
	"$(ns_curl -s -o "$TMP/204.body" -w '%{http_code}' "$URL/status/204") $(wc -c <"$TMP/204.body")" \
	"204 0"
expect "status_out_of_range_is_400" \
	"$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/status/99")" 400

ns_curl -sS -o "$TMP/bytes.bin" "$URL/bytes/1000000"
expect "bytes_size" "$(wc -c <"$TMP/bytes.bin")" 1000000
want_pat=$(python3 -c '
import hashlib, string
pat = (string.ascii_lowercase * (1000000 // 26 + 1)).encode()[:1000000]
print(hashlib.sha256(pat).hexdigest())')
expect "bytes_pattern_sha256" "$(sha256sum "$TMP/bytes.bin" | cut -d' ' -f1)" "$want_pat"
expect "bytes_over_1gib_is_400" \
	"$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/bytes/1073741825")" 400

ns_curl -sS -I -o "$TMP/head.txt" "$URL/bytes/100"
if grep -qi '^Content-Length: 100' "$TMP/head.txt"; then
	tb_pass "head_has_length_without_body"
else
	tb_fail "head_has_length_without_body" "$(tr -d '\r' <"$TMP/head.txt")"
fi

t=$(ns_curl -sS -o "$TMP/delay.json" -w '%{time_total}' "$URL/delay/300")
if python3 -c "import sys; sys.exit(0 if float('$t') >= 0.29 else 1)"; then
	tb_pass "delay_300ms_waits"
else
	tb_fail "delay_300ms_waits" "answered after ${t}s"
fi
expect "delay_still_echoes" "$(jget "$TMP/delay.json" path)" /delay/300

ns_curl -sS -o /dev/null -D "$TMP/close.head" "$URL/close"
if grep -qi '^Connection: close' "$TMP/close.head"; then
	tb_pass "close_says_connection_close"
else
	tb_fail "close_says_connection_close"
fi

expect "health_ok" "$(ns_curl -s -w ' %{http_code}' "$URL/health")" "ok 200"
touch "$UNHEALTHY"
expect "health_503_while_unhealthy_file_exists" \
	"$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/health")" 503
rm -f "$UNHEALTHY"
expect "health_ok_again_after_file_removed" \
	"$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/health")" 200

# Fault injection (test_resilience.sh): every request but /health and /served, counted.
n0=$(ns_curl -s "$URL/served")
echo 500 >"$FAULT"
expect "fault_500" "$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/x")" 500
expect "fault_spares_health" "$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/health")" 200
echo hang >"$FAULT"
expect "fault_hang_never_answers" "$(ns_curl -s -m 1 -o /dev/null -w '%{http_code}' "$URL/x" || true)" 000
rm -f "$FAULT"
expect "fault_file_removed_200" "$(ns_curl -s -o /dev/null -w '%{http_code}' "$URL/x")" 200
expect "served_counts_requests_but_health" "$(($(ns_curl -s "$URL/served") - n0))" 3

# --- connections ---------------------------------------------------------------------------

ns_curl -sS -o "$TMP/ka1.json" "$URL/one" -o "$TMP/ka2.json" "$URL/two" \
	-w '%{num_connects} ' >"$TMP/ka.connects"
expect "keep_alive_two_requests_one_connection" \
	"$(jget "$TMP/ka1.json" conn_requests) $(jget "$TMP/ka2.json" conn_requests)" "1 2"
expect "keep_alive_curl_connected_once" "$(cat "$TMP/ka.connects")" "1 0 "

# Raw-socket checks: each prints one line that the shell compares.
cat >"$TMP/raw.py" <<'EOF'
import json, re, socket, sys

ADDR = (sys.argv[1], int(sys.argv[2]))
mode = sys.argv[3]

def talk(data, shut=False):
    s = socket.create_connection(ADDR, timeout=5)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out + b"<timeout>"
        except ConnectionResetError:
            return out + b"<reset>"
        if not d:
            return out
        out += d

def statuses(b):
    return " ".join(m.decode() for m in re.findall(rb"HTTP/1\.1 (\d\d\d)", b))

def counts(b):
    return " ".join(m.decode() for m in re.findall(rb'"conn_requests":(\d+)', b))

H = b"Host: t\r\n"
if mode == "pipelined":
    r = talk(b"GET /p1 HTTP/1.1\r\n" + H + b"\r\n"
             b"POST /p2 HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello"
             b"GET /p3 HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    print(statuses(r), "|", counts(r))
elif mode == "http10":
    r = talk(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    conn = re.findall(rb"Connection: ([a-z-]+)", r)
    print(statuses(r), "|", counts(r), "|", " ".join(c.decode() for c in conn))
elif mode == "malformed":
    r = talk(b"THIS IS NOT HTTP\r\n\r\n")
    print(statuses(r), "|", "closed" if not r.endswith(b"<timeout>") else "open")
elif mode == "bad_chunk":
    r = talk(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nxyz\r\n")
    print(statuses(r))
elif mode == "cl_and_te":
    r = talk(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    print(statuses(r))
elif mode == "big_head":
    r = talk(b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n")
    print(statuses(r))
elif mode == "no_host":
    print(statuses(talk(b"GET / HTTP/1.1\r\n\r\n")))
elif mode == "chunked_trailer_bytewise":
    req = (b"POST /t HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           b"5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    s = socket.create_connection(ADDR, timeout=5)
    for i in range(len(req)):
        s.send(req[i:i + 1])
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    body = json.loads(out.split(b"\r\n\r\n", 1)[1])
    print(statuses(out), body["body_bytes"], body["body_sha256"][:16])
elif mode == "half_close":
    r = talk(b"GET /h1 HTTP/1.1\r\n" + H + b"\r\nGET /h2 HTTP/1.1\r\n" + H + b"\r\n", shut=True)
    print(statuses(r), "|", counts(r))
elif mode == "many":
    import asyncio, resource
    n = int(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))

    async def one(i):
        r, w = await asyncio.open_connection(*ADDR)
        for k in (1, 2):
            w.write(b"GET /m%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            cl = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            body = json.loads(await r.readexactly(cl))
            assert body["conn_requests"] == k
        w.close()
        return True

    async def main():
        res = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n)),
                                                    return_exceptions=True), 60)
        print(sum(1 for x in res if x is True))

    asyncio.run(main())
EOF
raw() {
	in_ns python3 "$TMP/raw.py" "$ADDR" "$PORT" "$@"
}

expect "pipelined_requests_answered_in_order" "$(raw pipelined)" "200 200 200 | 1 2 3"
expect "http10_keep_alive" "$(raw http10)" "200 200 | 1 2 | keep-alive close"
expect "malformed_request_400_and_close" "$(raw malformed)" "400 | closed"
expect "bad_chunk_size_400" "$(raw bad_chunk)" 400
expect "content_length_with_transfer_encoding_400" "$(raw cl_and_te)" 400
expect "head_over_64k_is_431" "$(raw big_head)" 431
expect "http11_without_host_400" "$(raw no_host)" 400
expect "chunked_with_extension_and_trailer_one_byte_at_a_time" \
	"$(raw chunked_trailer_bytewise)" "200 11 b94d27b9934d3e08"
expect "half_closed_client_still_gets_answers" "$(raw half_close)" "200 200 | 1 2"
expect "many_concurrent_connections" "$(raw many 1000)" 1000

# --- shutdown ------------------------------------------------------------------------------

kill -TERM "$BK_PID"
rc=0
wait "$BK_PID" || rc=$?
expect "sigterm_exits_0" "$rc" 0
if [ -s "$TMP/backend.err" ]; then
	tb_fail "no_errors_logged" "$(head -c 2000 "$TMP/backend.err")"
else
	tb_pass "no_errors_logged"
fi

tb_summary
