#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The admin API answers every call while the proxy is under load and sluice gets signals.
# Topology: namespace sl-it-al-<pid> holding sluice on a TAP with the demo backends
# (scripts/testbed.sh, configs/tap-demo.yaml plus admin.auth and a high admin.rate_limit);
# wrk through the proxy at 198.18.0.2, curl to the admin API on 127.0.0.1:1997, both in the
# namespace.
#
# Why: process-directed signals go to any thread that does not block them. Under load the
# TAP PMD raises thousands a second (its Rx trigger, SIGRTMIN+1 on its queues), besides
# SIGHUP/SIGUSR1; civetweb 1.15 takes a poll() failing with EINTR for a broken connection
# and closes it without a reply (curl: "Empty reply from server"). Before civetweb's threads
# blocked signals, 4-15 % of the calls below failed so (15 of 330, 46 of 645, 27 of 175).
# Checks: civetweb's threads block every signal sluice handles; N admin calls (GET, POST,
# PATCH, reload, /health) during 15 s of wrk and a SIGUSR1 every 0.25 s all get an answer.
# Everything (namespace, processes, files) is removed on every exit path.
#
# usage: test_admin_load.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-al "${1:-}"

tb_need_root
tb_need_cmd ip curl python3 wrk
ctl=$SL_BUILD/apps/sluicectl/sluicectl
[ -x "$ctl" ] || tb_die "no $ctl: build first"
api=http://127.0.0.1:1997
nsx() { ip netns exec "$SL_NS" "$@"; }

tmp=$(mktemp -d /tmp/sl-it-al.XXXXXX)
tb_on_exit "rm -rf '$tmp'"
cfg=$tmp/sluice.yaml
cp "$top/configs/tap-demo.yaml" "$cfg"
cat >>"$cfg" <<YAML
  auth:
    db_path: $tmp/users.db
    jwt_secret: admin-load-secret-$$
  rate_limit:
    requests_per_second: 1000
    burst: 1000
YAML
pw='admin load pass phrase'
echo "$pw" | "$ctl" --config "$cfg" user add ops >/dev/null || tb_die "sluicectl user add failed"
tb_on_exit "'$top/scripts/testbed.sh' down >/dev/null 2>&1"
"$top/scripts/testbed.sh" up --config "$cfg" >"$tmp/up.log" 2>&1 ||
	{ cat "$tmp/up.log" >&2; tb_die "testbed did not come up"; }
pid=$(cat "$state/sluice.pid")
tb_wait_for "nsx curl -s -m 1 -o /dev/null $api/health" 10 || tb_die "no admin API"
tb_wait_for "nsx curl -s -m 2 -o /dev/null http://198.18.0.2/" 15 || tb_die "sluice does not proxy"

# --- civetweb's threads take no signal -------------------------------------------------------
# Every signal the process catches (SigCgt) must be blocked (SigBlk) in each civetweb thread,
# except glibc's own two (32 and 33), which pthread_sigmask never blocks.
cgt=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status")
n_civet=0
unblocked=""
for t in /proc/"$pid"/task/*; do
	case $(cat "$t/comm" 2>/dev/null) in civetweb-*) ;; *) continue ;; esac
	n_civet=$((n_civet + 1))
	blk=$(awk '/^SigBlk:/ {print $2}' "$t/status")
	left=$(((0x$cgt & ~0x$blk) & ~0x180000000))
	[ "$left" -eq 0 ] || unblocked+=" ${t##*/}:$(printf '%x' "$left")"
done
tb_check "civetweb runs threads ($n_civet)" test "$n_civet" -gt 0
tb_check "civetweb's threads block the signals sluice catches (caught $cgt; not blocked:${unblocked:- none})" \
	test -z "$unblocked"

# --- every call answered under load and signals --------------------------------------------------
tok=$(nsx curl -s -m 10 -X POST -d "{\"username\":\"ops\",\"password\":\"$pw\"}" "$api/api/auth/login" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
[ -n "$tok" ] || tb_die "cannot log in"
A=(-H "Authorization: Bearer $tok")

nsx wrk -t1 -c8 -d18s http://198.18.0.2/ >"$tmp/wrk.out" 2>&1 &
wrk_pid=$!
tb_on_exit "kill $wrk_pid 2>/dev/null || true"
(for ((i = 0; i < 72; i++)); do kill -USR1 "$pid" 2>/dev/null || exit 0; sleep 0.25; done) &
sig_pid=$!
tb_on_exit "kill $sig_pid 2>/dev/null || true"
sleep 1

calls=0
failed=0
odd=""
declare -A codes=()
end=$((SECONDS + 15))
while [ "$SECONDS" -lt "$end" ]; do
	for c in "GET /api/backends" "POST /api/backends?service_name=demo&location=/cart/" \
		"PATCH /api/backends/1" "POST /api/config/reload" "GET /health"; do
		m=${c%% *} p=${c#* } d=()
		case $c in
		"POST /api/backends"*) d=(-d '{"url":"http://198.18.0.13:8080"}') ;; # 409: there already
		PATCH*) d=(-d '{"drain":false}') ;;
		esac
		code=$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' -X "$m" "${A[@]}" "${d[@]}" \
			"$api$p" 2>"$tmp/curl.err")
		rc=$?
		calls=$((calls + 1))
		codes[$code]=$((${codes[$code]:-0} + 1))
		if [ "$rc" -ne 0 ]; then
			failed=$((failed + 1))
			tb_log "no answer to $m $p: $(cat "$tmp/curl.err")"
		else
			# /health says 503 when a worker was slow to answer its ping (a loaded machine).
			case $code in 200 | 409) ;; 503) [ "$p" = /health ] || odd+=" $m $p:$code" ;;
			*) odd+=" $m $p:$code" ;; esac
		fi
	done
done
wait "$wrk_pid"
wait "$sig_pid"
summary=$(for k in "${!codes[@]}"; do printf '%s:%s ' "$k" "${codes[$k]}"; done)
tb_log "figure: $calls admin calls under wrk and SIGUSR1, $failed unanswered (status: $summary)"
tb_log "wrk: $(grep -E 'requests in' "$tmp/wrk.out")"
tb_check "wrk ran through the proxy" grep -q 'requests in' "$tmp/wrk.out"
tb_check "enough admin calls to mean something ($calls)" test "$calls" -ge 40
tb_check "every admin call got an answer ($failed of $calls did not)" test "$failed" -eq 0
tb_check "the answers are the expected ones (200, 409 for the duplicate; unexpected:${odd:- none})" \
	test -z "$odd"
tb_check "sluice still runs" kill -0 "$pid"

tb_summary
