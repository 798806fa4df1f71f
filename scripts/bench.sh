#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sluice's HTTP proxy beside HAProxy 2.6 and nginx 1.22 (Debian), on the same wires and the
# same CPU, in one run. Run by hand (root); never by scripts/test.sh. Figures only, but for the
# checks of the 100k-address rate limit (exit status 1 when one fails).
#
# Topology (all removed on every exit):
#   $SL_NS-dp  sluice, owning sl0d through net_af_packet (scripts/testbed.sh up --afp),
#              198.18.0.2:80, one worker, `idle: adaptive`, --lcores 0@1,1@1 (both lcores
#              CPU 1). Not `idle: poll`: a spinning worker would take half of CPU 1 from
#              HAProxy and nginx during their phases (their req/s rose 1.5-1.6x with adaptive)
#   $SL_NS     the kernel side: sl0 198.18.0.1/24 (wrk) and the three backends, one nginx
#              (worker_processes 1, CPU 0) on 198.18.0.11-.13:8080 serving /s (6 bytes) and
#              /l (64 KB); sl1 198.18.2.1/24, the peers' veth; wrk on CPU 0
#   $SL_NS-k   the peers on a normal veth (sl1k 198.18.2.2/24, same offloads off as sl0d):
#              HAProxy (nbthread 1, taskset CPU 1) on :80 and nginx (worker_processes 1,
#              taskset CPU 1) on :81, both round robin over the three backends with keep-alive
# nginx is the backend rather than sluice-backend because it is the faster of the two, so the
# proxy under test is the bottleneck.
#
# Cases: keep-alive and `Connection: close`, /s and /l; wrk -t1 -c$CONNS --latency; and
# keep-alive /rl/s, the same 6 bytes behind a per-client rate limit that never refuses
# (1,000,000/s): sluice's shared table of 262,144 entries (4 MiB), HAProxy's stick table of
# 100k addresses with http_req_rate and a deny rule, nginx's limit_req zone of 16 MB. Rounds
# interleave sluice, haproxy, nginx per case; the report gives medians over rounds and ratios
# against HAProxy. CPU per request: sluice's worker busy seconds (stats line: busy TSC cycles /
# TSC Hz) over wrk's requests; peers: process user+sys time from /proc/PID/stat. The failing
# backend case, keep-alive /f/s (sluice and HAProxy; open-source nginx has no active checks):
# round robin over .11, .12 and a third backend, its own nginx on 198.18.0.14:8080, killed
# (SIGKILL) one second into the phase, so that its port refuses connections as a stopped
# backend's does; both proxies check GET /s every 1 s, timeout 1 s, down after 3 failures, up
# after 2 passes, retry a refused connect or an empty answer on another backend (twice at
# most), and eject after 5 consecutive errors from traffic (HAProxy: `observe layer7
# error-limit 5 on-error mark-down`). Before each such phase the third backend is restarted
# and the proxies get 4 s to see it up. The rate limit with 100k client addresses, /rm/s
# (sluice and HAProxy): sl-manysrc (tests/tools/manysrc.c) sends from BENCH_ADDRS addresses of
# 198.18.64.0-198.19.255.255 (AnyIP: `ip route add local` on lo in $SL_NS, a route back through
# 198.18.0.1 on sluice's port and through 198.18.2.1 in $SL_NS-k), 4 requests per connection,
# each address in turn; the limit is 10 requests/s per address, burst 10 (sluice's GCRA in a
# 262,144-entry table; HAProxy's stick table of 256k entries counting admitted requests with
# gpc0_rate(1s), deny 429 at 10); 10 more send 50/s each (4 connections each), must get 429s. Each
# proxy first sees every address once (the fill, timed too), then each round runs ${secs} s
# from where the last stopped; the table must hold >= 90% of the addresses, the normal
# addresses get no 429 and no error, and sluice's hot addresses are admitted at 10/s +-10%
# (checked; the script exits 1 when a check fails). HTTPS (one ECDSA P-256 certificate made
# here with the openssl CLI, TLS 1.3, the proxies' default ciphers; backends plain HTTP):
# keep-alive /s, and /s with `Connection: close` so every request is a new TLS connection
# (handshakes/s; wrk resumes about half of them with the previous connection's session:
# sluice counted 463 resumed of 928), sluice on 443, HAProxy on 443, nginx on 444. Then sluice on
# the TAP testbed (one row, keep-alive /s), and memory per idle keep-alive client connection.
#
# usage: scripts/bench.sh [--short | --ka] [--perf] [BUILD_DIR]
#   --short: 1 round of 3 s phases (~3 min); default: 3 rounds of 5 s (~8 min)
#   --ka: the keep-alive 6 B case only, 5 rounds of 5 s (~2 min; for work on the fast path)
#   --perf: sample every CPU during each phase with perf and add the table "CPU per request
#           on equal terms" (what veth charges to the wrong side; README, Benchmark)
# Environment: BENCH_SECONDS (1-60), BENCH_ROUNDS (1-9), BENCH_CONNS (50), BENCH_IDLE (2000),
# BENCH_ADDRS (100000: client addresses of the rate-limit case, 1000-110000), BENCH_PERF_KEEP
# (--perf: a folder to keep the perf data files in, for `perf report -i`).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
here=$top/tests/bench
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-50}
nidle=${BENCH_IDLE:-2000}
idle_policy=${BENCH_IDLE_POLICY:-adaptive}
naddrs=${BENCH_ADDRS:-100000}
mode=default
if [ "${1:-}" = --short ]; then
	secs=${BENCH_SECONDS:-3}
	rounds=${BENCH_ROUNDS:-1}
	mode=short
	shift
elif [ "${1:-}" = --ka ]; then
	rounds=${BENCH_ROUNDS:-5}
	nidle=0
	mode=ka
	shift
fi
perf=""
perf_period_ns=250000
if [ "${1:-}" = --perf ]; then
	perf=1
	shift
fi

export TB_NAME=bench
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
tb_init sl-bench "${1:-}"

tb_need_root
tb_need_cmd wrk haproxy nginx ethtool taskset python3 openssl
[ -z "$perf" ] || tb_need_cmd perf
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ] || [ "$secs" -gt 60 ]; then
	tb_die "BENCH_SECONDS must be 1-60, not '$secs'"
fi
[[ $rounds =~ ^[1-9]$ ]] || tb_die "BENCH_ROUNDS must be 1-9, not '$rounds'"
case $idle_policy in adaptive | poll) ;; *) tb_die "BENCH_IDLE_POLICY must be adaptive or poll" ;; esac
if ! [[ $nidle =~ ^[0-9]+$ ]] || [ "$nidle" -gt 20000 ]; then
	tb_die "BENCH_IDLE must be 0-20000, not '$nidle'"
fi
if ! [[ $naddrs =~ ^[0-9]+$ ]] || [ "$naddrs" -lt 1000 ] || [ "$naddrs" -gt 110000 ]; then
	tb_die "BENCH_ADDRS must be 1000-110000, not '$naddrs'"
fi
[ -x "$SL_BUILD/apps/sluice/sluice" ] || tb_die "build sluice first (./scripts/build.sh)"
manysrc=$SL_BUILD/tests/tools/sl-manysrc
[ -x "$manysrc" ] || tb_die "build sl-manysrc first (./scripts/build.sh)"

ns=$SL_NS
ns_k=$SL_NS-k
sl_ip=198.18.0.2
peer_ip=198.18.2.2
backends=(198.18.0.11 198.18.0.12 198.18.0.13)
flaky=198.18.0.14 # the failing backend's address (its own nginx, killed during /f/ phases)
# The rate-limit case's client addresses: 198.18.64.0-198.19.255.255 (114,688; the testbed
# and the tests use 198.18.0-9.x), made local to $ns by these routes, not by interface
# addresses; sl-manysrc skips .0 and .255.
mc_first=198.18.64.0
mc_prefixes=(198.18.64.0/18 198.18.128.0/17 198.19.0.0/16)
mc_rate=10 mc_burst=10 mc_hot=10 mc_hot_rate=50 mc_k=4
work=$(mktemp -d /tmp/sl-bench.XXXXXX)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tb_on_exit "rm -rf '$work'"
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"
tb_on_exit "ip netns delete '$ns_k' 2>/dev/null; true"
# shellcheck disable=SC2016 # expanded when the cleanup runs
tb_on_exit 'for f in "$work"/*.pid; do [ -f "$f" ] && bench_stop_pid "$(cat "$f")"; done; true'

# ---- configurations ----
mkdir -p "$work/www" "$work/be" "$work/px"
# The HTTPS cases' certificate, the same for the three proxies (HAProxy wants cert and key in
# one file).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.test \
	-keyout "$work/tls.key" -out "$work/tls.pem" 2>/dev/null || tb_die "openssl cannot make a certificate"
cat "$work/tls.pem" "$work/tls.key" >"$work/haproxy-tls.pem"
printf 'hello\n' >"$work/www/s"
head -c 65536 /dev/zero | tr '\0' x >"$work/www/l"
listen_be=""
for b in "${backends[@]}"; do listen_be+="listen $b:8080 backlog=4096; "; done
cat >"$work/backend.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $work/backend.run.pid;
error_log $work/backend.err;
events { worker_connections 16384; }
http {
	access_log off;
	keepalive_requests 100000000;
	sendfile on;
	tcp_nopush on; # as Debian's nginx.conf: head and a small body leave in one segment
	$(bench_nginx_paths "$work/be")
	server { $listen_be root $work/www; }
}
EOF
sed -e "s|$work/backend.run.pid|$work/flaky.run.pid|" -e "s|$work/backend.err|$work/flaky.err|" \
	-e "s|listen [^;]*; listen [^;]*; listen [^;]*;|listen $flaky:8080 backlog=4096;|" \
	"$work/backend.conf" >"$work/flaky.conf"
up_ha="" up_ng=""
for b in "${backends[@]}"; do
	up_ha+="	server b$b $b:8080"$'\n'
	up_ng+="server $b:8080; "
done
cat >"$work/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 9000
	stats socket $work/haproxy.sock
defaults
	mode http
	option http-keep-alive
	http-reuse always
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	timeout http-keep-alive 60s
frontend fe
	bind $peer_ip:80 backlog 4096
	stick-table type ip size 100k expire 30s store http_req_rate(1s)
	http-request track-sc0 src if { path_beg /rl/ }
	http-request deny deny_status 429 if { path_beg /rl/ } { sc_http_req_rate(0) gt 1000000 }
	http-request set-path %[path,regsub(^/rl/,/)] if { path_beg /rl/ }
	http-request track-sc1 src table st_rm if { path_beg /rm/ }
	http-request deny deny_status 429 if { path_beg /rm/ } { sc_gpc0_rate(1) ge $mc_rate }
	http-request sc-inc-gpc0(1) if { path_beg /rm/ }
	http-request set-path %[path,regsub(^/rm/,/)] if { path_beg /rm/ }
	use_backend be_f if { path_beg /f/ }
	default_backend be
frontend fe_tls
	bind $peer_ip:443 ssl crt $work/haproxy-tls.pem backlog 4096
	default_backend be
backend be
	balance roundrobin
$up_ha
backend st_rm
	stick-table type ip size 256k expire 10m store gpc0_rate(1s)
backend be_f
	balance roundrobin
	http-request set-path %[path,regsub(^/f/,/)]
	option httpchk GET /s
	timeout check 1s
	retries 2
	retry-on conn-failure empty-response
	option redispatch 1
	default-server check inter 1s fall 3 rise 2 observe layer7 error-limit 5 on-error mark-down
	server f1 ${backends[0]}:8080
	server f2 ${backends[1]}:8080
	server f3 $flaky:8080
EOF
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $work/nginx.run.pid;
error_log $work/nginx.err;
events { worker_connections 9000; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 60s;
	$(bench_nginx_paths "$work/px")
	upstream be { $up_ng keepalive 128; keepalive_requests 100000000; }
	limit_req_zone \$binary_remote_addr zone=rl:16m rate=1000000r/s;
	server {
		listen $peer_ip:81 backlog=4096;
		listen $peer_ip:444 ssl backlog=4096; # the HTTPS cases
		ssl_certificate $work/tls.pem;
		ssl_certificate_key $work/tls.key;
		location /rl/ {
			limit_req zone=rl burst=1000000 nodelay;
			proxy_pass http://be/;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering on;
		}
		location / {
			proxy_pass http://be;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering on;
		}
	}
}
EOF
# The three backends as a location's list (mkcfg).
be_yaml=$(for b in "${backends[@]}"; do printf '          - url: http://%s:8080\n' "$b"; done)
mkcfg() { # DEVICE IDLE
	cat <<-EOF
		dataplane:
		  workers: 1
		  idle: $2
		  ports:
		    - name: p0
		      device: $1
		      ip: $sl_ip/24
		      gateway: 198.18.0.1 # the rate-limit case's clients are behind it
		  mbufs: 65535
		  tcp:
		    max_connections: 32768
		    syn_backlog: 4096
		services:
		  - name: bench
		    host: "*"
		    port: 80
		    locations:
		      - path: /
		        lb_policy: round_robin
		        backends:
$be_yaml
		      - path: /f/
		        rewrite: /
		        lb_policy: round_robin
		        health_check: {enabled: true, type: http, path: /s, interval: 1s, timeout: 1s,
		                       thresholds: {healthy: 2, unhealthy: 3}}
		        outlier_detection: {consecutive: 5, base_ejection_time: 2s, max_ejection_time: 10s}
		        backends:
		          - url: http://${backends[0]}:8080
		          - url: http://${backends[1]}:8080
		          - url: http://$flaky:8080
		      - path: /rl/
		        rewrite: /
		        rate_limit: {requests_per_second: 1000000, burst: 1000000}
		        backends:
$be_yaml
		      - path: /rm/
		        rewrite: /
		        rate_limit: {requests_per_second: $mc_rate, burst: $mc_burst}
		        backends:
$be_yaml
		  - name: bench-tls
		    host: "*"
		    port: 443
		    tls: {cert_file: $work/tls.pem, key_file: $work/tls.key}
		    locations:
		      - path: /
		        lb_policy: round_robin
		        backends:
$be_yaml
		limits:
		  rate_limit_table_size: 262144 # 8-way sets: 100k clients in 131072 would overflow ~6%
		health_check: {enabled: false} # on for /f/ only, as HAProxy checks be_f only
		timeouts:
		  client_keepalive: 60s
	EOF
}
mkcfg net_tap0 "$idle_policy" >"$work/sluice.yaml"

start_backend() { # NS
	ip netns exec "$1" taskset -c 0 nginx -p "$work" -c "$work/backend.conf" \
		</dev/null >"$work/backend.log" 2>&1 &
	echo $! >"$work/backend.pid"
	bench_wait_listening "$1" "${backends[2]}:8080"
}

start_flaky() {
	ip netns exec "$ns" taskset -c 0 nginx -p "$work" -c "$work/flaky.conf" \
		</dev/null >"$work/flaky.log" 2>&1 &
	echo $! >"$work/flaky.pid"
	disown $! # killed on purpose: no "Killed" job report
	bench_wait_listening "$ns" "$flaky:8080"
}

# ---- the af_packet testbed, the peers' veth, the backends ----
load0=$(cut -d' ' -f1-3 /proc/loadavg)
start_date=$(date -u '+%Y-%m-%d %H:%M UTC')
"$top/scripts/testbed.sh" up --afp --no-backends --lcores 0@1,1@1 --config "$work/sluice.yaml" ||
	tb_die "the af_packet testbed did not come up"
if grep -q 'tx_verify:' "$state/sluice.log" 2>/dev/null; then
	tb_log "warning: this sluice checks every outgoing checksum (tx_verify); build with" \
		"-Dtx_verify=false for figures"
fi
ip netns add "$ns_k" || tb_die "cannot make $ns_k"
ip link add sl1 netns "$ns" type veth peer name sl1k netns "$ns_k" || tb_die "no veth"
ip -n "$ns" addr add 198.18.2.1/24 dev sl1
ip -n "$ns" link set sl1 up
ip -n "$ns_k" addr add "$peer_ip/24" dev sl1k
ip -n "$ns_k" link set sl1k up
ip -n "$ns_k" link set lo up
ip -n "$ns_k" route add 198.18.0.0/24 via 198.18.2.1
for pfx in "${mc_prefixes[@]}"; do
	ip -n "$ns" route add local "$pfx" dev lo || tb_die "cannot route $pfx to lo in $ns"
	ip -n "$ns_k" route add "$pfx" via 198.18.2.1 || tb_die "cannot route $pfx in $ns_k"
done
# The same wires as sluice's: the offloads testbed.sh turns off for af_packet, off here too.
ip netns exec "$ns" ethtool -K sl1 tx off rx off tso off gso off gro off >/dev/null 2>&1
ip netns exec "$ns_k" ethtool -K sl1k tx off rx off tso off gso off gro off >/dev/null 2>&1
start_backend "$ns" || tb_die "the backend nginx did not start: $(tail -5 "$work/backend.err")"
ip -n "$ns" addr add "$flaky/32" dev sl0 || tb_die "cannot add $flaky"
ip netns exec "$ns_k" taskset -c 1 haproxy -f "$work/haproxy.cfg" -db \
	</dev/null >"$work/haproxy.log" 2>&1 &
echo $! >"$work/haproxy.pid"
ip netns exec "$ns_k" taskset -c 1 nginx -p "$work" -c "$work/nginx.conf" \
	</dev/null >"$work/nginx.log" 2>&1 &
echo $! >"$work/nginx.pid"
bench_wait_listening "$ns_k" "$peer_ip:80" || tb_die "HAProxy did not start: $(tail -5 "$work/haproxy.log")"
bench_wait_listening "$ns_k" "$peer_ip:81" || tb_die "nginx did not start: $(tail -5 "$work/nginx.err")"

url_of() { # PROXY [CASE]
	case $1-${2:-ka} in
	sluice-tls* | tap-tls*) echo "https://$sl_ip:443" ;;
	haproxy-tls*) echo "https://$peer_ip:443" ;;
	nginx-tls*) echo "https://$peer_ip:444" ;;
	sluice-* | tap-*) echo "http://$sl_ip" ;;
	haproxy-*) echo "http://$peer_ip:80" ;;
	nginx-*) echo "http://$peer_ip:81" ;;
	esac
}
# CPU seconds so far of a proxy: sluice's worker busy seconds, a peer's user+sys time.
# sluice's whole stats line goes to SAVE too (the report reads its TCP counters).
cpu_of() { # PROXY SAVE
	case $1 in
	sluice | tap) tb_sluice_stats "$state" | tee "$2" |
		python3 -c 'import json,sys; print(sum(w["busy_seconds"] for w in json.load(sys.stdin)["workers"]))' ;;
	*) bench_proc_cpu_s "$(cat "$work/$1.pid")" ;;
	esac
}
# One phase: wrk against PROXY, pinned to CPU 0; wrk's output and the CPU seconds it cost.
phase() { # PROXY CASE(ka|close|tls|tlsnew) PATH ROUND
	local p=$1 c=$2 path=$3 r=$4 hdr=() c0 c1 out
	[ "$c" = close ] || [ "$c" = tlsnew ] && hdr=(-H "Connection: close")
	out=$work/res-$p-$c-$(tr / _ <<<"${path#/}")-$r
	c0=$(cpu_of "$p" "$out.s0") || return 1
	[ -n "$perf" ] && perf_start "$out.perf"
	ip netns exec "$ns" timeout -k 5 $((secs + 30)) taskset -c 0 wrk -t1 -c"$conns" \
		-d"${secs}s" --timeout 5s --latency "${hdr[@]}" "$(url_of "$p" "$c")$path" >"$out.wrk" 2>&1
	[ -n "$perf" ] && perf_stop "$out.perf" "$p" >"$out.attr"
	c1=$(cpu_of "$p" "$out.s1") || return 1
	python3 -c "print($c1 - $c0)" >"$out.cpu"
}
# --perf: every CPU sampled during a phase (perf record -a -g, one sample per 250 us of CPU
# time), reduced by tests/bench/perf_attrib.py to the samples of the proxy's receive work
# charged elsewhere and of its peers' receive work charged to it (see the report).
perf_start() { # DATAFILE
	perf record -e cpu-clock -c "$perf_period_ns" -a -g -o "$1" >/dev/null 2>"$1.err" &
	echo $! >"$work/perf.pid"
	sleep 0.5 # perf sets up its buffers before it samples
}
perf_stop() { # DATAFILE PROXY: the attribution (one JSON line) on stdout
	local comm
	bench_stop_pid_int "$(cat "$work/perf.pid")"
	rm -f "$work/perf.pid"
	case $2 in
	sluice | tap) comm=rte-worker ;;
	*) comm=$2 ;;
	esac
	perf script -i "$1" -F comm,cpu,ip,sym 2>/dev/null |
		python3 "$here/perf_attrib.py" --cpu 1 --comm "$comm" --period-ns "$perf_period_ns"
	[ -n "${BENCH_PERF_KEEP:-}" ] && cp "$1" "$BENCH_PERF_KEEP/"
	rm -f "$1" "$1.old"
}
warm() { # PROXY
	ip netns exec "$ns" timeout 10 taskset -c 0 wrk -t1 -c"$conns" -d1s "$(url_of "$1")/s" \
		>/dev/null 2>&1
}

# A failing backend: the third one is up when the phase starts and killed one second in.
phase_failing() { # PROXY ROUND
	local fp kp
	if ! { [ -f "$work/flaky.pid" ] && kill -0 "$(cat "$work/flaky.pid")" 2>/dev/null; }; then
		start_flaky || return 1
		sleep 4 # rise 2 x inter 1 s, and a margin for the probes' jitter
	fi
	fp=$(cat "$work/flaky.pid")
	(sleep 1 && kill -KILL "$fp" 2>/dev/null) &
	kp=$!
	phase "$1" ka /f/s "$2" || return 1
	wait "$kp"
	rm -f "$work/flaky.pid"
}

# ---- the rate limit with many client addresses (sl-manysrc, /rm/s) ----
# Entries in HAProxy's st_rm stick table (`show table` lists the tables' headers only).
haproxy_table() {
	python3 - "$work/haproxy.sock" <<-'PY'
		import re, socket, sys
		s = socket.socket(socket.AF_UNIX)
		s.settimeout(5)
		s.connect(sys.argv[1])
		s.sendall(b"show table\n")
		d = b""
		while True:
		    x = s.recv(65536)
		    if not x:
		        break
		    d += x
		m = re.search(rb"table: st_rm,.*used:(\d+)", d)
		print(m.group(1).decode() if m else -1)
	PY
}
declare -A mc_next=([sluice]=0 [haproxy]=0)
# One run of sl-manysrc against PROXY's /rm/s from CPU 0, with the CPU it cost the proxy and,
# after it, the table's occupancy (sluice: in the stats line saved as .s1).
mc_phase() { # PROXY TAG(fill|ROUND) SL-MANYSRC-ARGS...
	local p=$1 tag=$2 out c0 c1 dst=$sl_ip
	shift 2
	[ "$p" = haproxy ] && dst=$peer_ip
	out=$work/mc-$p-$tag
	c0=$(cpu_of "$p" "$out.s0") || return 1
	ip netns exec "$ns" timeout -k 5 200 taskset -c 0 "$manysrc" -a "$dst" -p 80 -u /rm/s \
		-s "$mc_first" -n "$naddrs" -o "${mc_next[$p]}" -c "$conns" "$@" >"$out.out" 2>"$out.err" ||
		{ tb_log "sl-manysrc against $p failed: $(tail -3 "$out.err")"; return 1; }
	c1=$(cpu_of "$p" "$out.s1") || return 1
	python3 -c "print($c1 - $c0)" >"$out.cpu"
	[ "$p" = haproxy ] && haproxy_table >"$out.tbl"
	mc_next[$p]=$(sed -n 's/.* next=\([0-9]*\).*/\1/p' "$out.out")
}

tb_log "$mode: $rounds round(s) x 7 cases x 3 proxies + a failing backend x 2 + a 100k-address rate limit x 2, ${secs} s each, wrk -t1 -c$conns"
for p in sluice haproxy nginx; do warm "$p"; done
if [ "$mode" = ka ]; then
	for r in $(seq 1 "$rounds"); do
		for p in sluice haproxy nginx; do
			phase "$p" ka /s "$r" || tb_die "phase $p ka /s failed"
		done
	done
	ka_rounds=$rounds rounds=0 # the loops below, the memory probe and the TAP row are skipped
fi
for p in sluice haproxy; do
	[ "$mode" = ka ] && break
	tb_log "rate limit: $p sees each of $naddrs client addresses once (the fill)"
	mc_phase "$p" fill -k 1 -m "$naddrs" -d 150 || tb_die "the fill of $p's table failed"
done
for r in $(seq 1 "$rounds"); do
	for c in ka close; do
		for path in /s /l; do
			for p in sluice haproxy nginx; do
				phase "$p" "$c" "$path" "$r" || tb_die "phase $p $c $path failed"
			done
		done
	done
	for p in sluice haproxy nginx; do
		phase "$p" ka /rl/s "$r" || tb_die "phase $p ka /rl/s failed"
	done
	for p in sluice haproxy; do
		phase_failing "$p" "$r" || tb_die "phase $p ka /f/s (a failing backend) failed"
	done
	for p in sluice haproxy; do
		mc_phase "$p" "$r" -k "$mc_k" -m 10000000 -d "$secs" -H "$mc_hot" -R "$mc_hot_rate" ||
			tb_die "phase $p /rm/s (100k addresses) failed"
	done
	for c in tls tlsnew; do
		for p in sluice haproxy nginx; do
			phase "$p" "$c" /s "$r" || tb_die "phase $p $c /s failed"
		done
	done
done

# ---- memory per idle keep-alive client connection ----
# Opens N connections from 198.18.0.1, one request each with keep-alive, then holds them idle
# until its stdin closes (bounded: 120 s).
idle_clients() { # URL N READYFILE
	ip netns exec "$ns" timeout 120 python3 - "$@" <<-'PY'
		import socket, sys, time, urllib.parse
		u = urllib.parse.urlsplit(sys.argv[1]); n = int(sys.argv[2])
		port = u.port or 80
		req = ("GET /s HTTP/1.1\r\nHost: b\r\n\r\n").encode()
		socks = []
		for i in range(n):
		    s = socket.create_connection((u.hostname, port), timeout=5)
		    s.sendall(req)
		    got = b""
		    while not got.endswith(b"hello\n"):
		        d = s.recv(4096)
		        if not d: raise SystemExit("closed after %d" % i)
		        got += d
		    socks.append(s)
		open(sys.argv[3], "w").write("%d\n" % len(socks))
		t = time.time()
		while time.time() - t < 100 and not __import__("os").path.exists(sys.argv[3] + ".done"):
		    time.sleep(0.1)
	PY
}
mem_probe() { # PROXY: writes res-mem-PROXY with before/after figures
	local p=$1 before after cpid
	local rf=$work/idle-$p.ready
	rm -f "$rf" "$rf.done"
	case $p in
	sluice) before=$(tb_sluice_stats "$state") ;;
	*) before=$(bench_rss_kb "$(cat "$work/$p.pid")") ;;
	esac
	idle_clients "$(url_of "$p")" "$nidle" "$rf" &
	cpid=$!
	tb_wait_for "[ -s '$rf' ] || ! kill -0 $cpid 2>/dev/null" 60 || true
	sleep 1
	case $p in
	sluice) after=$(tb_sluice_stats "$state") ;;
	*) after=$(bench_rss_kb "$(cat "$work/$p.pid")") ;;
	esac
	touch "$rf.done"
	wait "$cpid" 2>/dev/null
	{ echo "opened $(cat "$rf" 2>/dev/null || echo 0)"; echo "before $before"; echo "after $after"; } \
		>"$work/res-mem-$p"
}
if [ "$nidle" -gt 0 ]; then
	tb_log "memory: $nidle idle keep-alive clients on each proxy"
	for p in sluice haproxy nginx; do mem_probe "$p"; done
	# What sluice reserves per connection: the TCP slot as sl-bench-connmem measures it (the
	# connection mempool, hash table, key store, free ring) and the proxy's session object.
	if bench_build_connmem "$SL_BUILD" "$top"; then
		"$SL_BUILD/tests/bench/sl-bench-connmem" 32768 "sl-bench-connmem-$$" \
			>"$work/connmem.txt" 2>&1
		rm -rf "/var/run/dpdk/sl-bench-connmem-$$"
	fi
	printf '#include <stdio.h>\n#include "dataplane/proxy/proxy_private.h"\n%s\n' \
		'int main(void) { printf("%zu\n", sizeof(struct px_session)); return 0; }' >"$work/sz.c"
	# shellcheck disable=SC2046 # pkg-config prints several words on purpose
	gcc -std=gnu11 -D_GNU_SOURCE -I"$top" -I"$SL_BUILD" $(pkg-config --cflags libdpdk) \
		-o "$work/sz" "$work/sz.c" && BENCH_SESSION_BYTES=$("$work/sz") &&
		export BENCH_SESSION_BYTES
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the TAP testbed, for reference: keep-alive /s ----
for f in haproxy nginx backend flaky; do [ -f "$work/$f.pid" ] || continue; bench_stop_pid "$(cat "$work/$f.pid")"; rm -f "$work/$f.pid"; done
ip netns delete "$ns_k"
"$top/scripts/testbed.sh" down >/dev/null 2>&1
tb_log "sluice on the TAP testbed (reference)"
if [ "$mode" != ka ] && "$top/scripts/testbed.sh" up --no-backends --lcores 0@1,1@1 --config "$work/sluice.yaml"; then
	if start_backend "$ns"; then
		warm tap
		for r in $(seq 1 "$rounds"); do phase tap ka /s "$r" || break; done
	fi
fi
load2=$(cut -d' ' -f1-3 /proc/loadavg)

echo "sluice HTTP proxy benchmark ($mode), $start_date, $(nproc) CPUs;" \
	"HAProxy $(haproxy -v | awk 'NR==1 {print $3}'), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
echo "proxies on CPU 1 (sluice: 1 worker, idle: $idle_policy, --lcores 0@1,1@1); wrk -t1 -c$conns and" \
	"the backend nginx on CPU 0; ${ka_rounds:-$rounds} round(s) of ${secs} s per case, medians"
BENCH_MC="$naddrs $mc_rate $mc_burst $mc_hot $mc_hot_rate $mc_k" python3 "$here/bench_report.py" "$work" "$nidle"
rc=$?
echo "load average: before $load0; after the af_packet rounds $load1; at the end $load2"
exit $rc
