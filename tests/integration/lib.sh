# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Helpers for integration tests, sourced after `set -euo pipefail`:
#
#   tb_init PREFIX [BUILD_DIR]  the test's testbed names: exports SL_BUILD (BUILD_DIR, default
#                             build/ at the repo root, made absolute; tb_die if it is not a
#                             directory) and SL_NS=PREFIX-$$, and sets state (the testbed's
#                             .run/$SL_NS at the repo root); call it right after sourcing
#   tb_log MSG...             a line on stderr, prefixed with the test's name
#   tb_pass NAME              count a passed check and say so
#   tb_fail NAME [DETAIL...]  count a failed check and say why (does not exit)
#   tb_check NAME CMD...      run CMD; pass if it succeeds, fail otherwise
#   tb_summary                print "N passed, M failed"; return 1 if anything failed
#   tb_die MSG...             the test cannot go on: say why and exit 1 (cleanup runs)
#   tb_on_exit CMD            run CMD (a string, eval'd) on EXIT/INT/TERM; last registered runs
#                             first; a failing command does not stop the others
#   tb_wait_for CMD TIMEOUT_S poll CMD (a string, eval'd) every 0.1 s until it succeeds;
#                             return 1 after TIMEOUT_S seconds
#   tb_need_root, tb_need_cmd CMD...
#   tb_netns_add NAME         create a network namespace, deleted on exit
#   tb_stop_pid PID [GRACE_S] SIGTERM the process we started, SIGKILL after GRACE_S (5)
#   tb_sluice_stats STATE_DIR  SIGUSR1 the sluice of a testbed (STATE_DIR/sluice.pid) and print
#                             the JSON of the stats line it writes to STATE_DIR/sluice.log
#   tb_demo_up DIR [USER PASSWORD]  the TAP testbed ($SL_NS, torn down on exit) with
#                             configs/tap-demo.yaml and the demo backends; with USER, a users
#                             database in DIR (DIR/sluice.yaml, DIR/users.db) holding USER;
#                             waits until the admin API and the proxy answer (tb_die if not)
#
# No colours, no global side effects beyond the traps it installs and TB_* variables (and
# what tb_init is asked to set).

TB_NAME=${TB_NAME:-$(basename "${0:-test}" .sh)}
TB_PASSED=0
TB_FAILED=0
TB_CLEANUP=()
TB_CLEANING=0

tb_init() {
	local prefix=$1 top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	SL_BUILD=${2:-$top/build}
	[ -d "$SL_BUILD" ] || tb_die "no build directory $SL_BUILD (./scripts/build.sh)"
	SL_BUILD=$(cd "$SL_BUILD" && pwd)
	export SL_BUILD
	export SL_NS=$prefix-$$
	state=$top/.run/$SL_NS
}

tb_log() {
	printf '[%s] %s\n' "$TB_NAME" "$*" >&2
}

tb_pass() {
	TB_PASSED=$((TB_PASSED + 1))
	printf 'ok   - %s\n' "$1"
}

tb_fail() {
	local name=$1
	shift
	TB_FAILED=$((TB_FAILED + 1))
	if [ $# -gt 0 ]; then
		printf 'FAIL - %s: %s\n' "$name" "$*"
	else
		printf 'FAIL - %s\n' "$name"
	fi
}

tb_check() {
	local name=$1
	shift
	if "$@"; then
		tb_pass "$name"
	else
		tb_fail "$name" "command failed: $*"
	fi
}

tb_summary() {
	printf '%d passed, %d failed\n' "$TB_PASSED" "$TB_FAILED"
	[ "$TB_FAILED" -eq 0 ]
}

tb_die() {
	tb_log "fatal: $*"
	exit 1
}

# Runs the registered commands once, newest first. Errors are reported, never fatal.
tb__cleanup() {
	local i
	[ "$TB_CLEANING" -eq 0 ] || return 0
	TB_CLEANING=1
	set +e
	for ((i = ${#TB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${TB_CLEANUP[i]}" >/dev/null 2>&1 ||
			tb_log "cleanup step failed: ${TB_CLEANUP[i]}"
	done
	TB_CLEANUP=()
}

tb_on_exit() {
	TB_CLEANUP+=("$1")
}

trap 'tb__cleanup' EXIT
trap 'tb__cleanup; trap - INT; exit 130' INT
trap 'tb__cleanup; trap - TERM; exit 143' TERM

tb_wait_for() {
	local cmd=$1 timeout_s=$2 tries
	tries=$((timeout_s * 10))
	[ "$tries" -gt 0 ] || tries=1
	while [ "$tries" -gt 0 ]; do
		if eval "$cmd" >/dev/null 2>&1; then
			return 0
		fi
		tries=$((tries - 1))
		sleep 0.1
	done
	return 1
}

tb_need_root() {
	[ "$(id -u)" -eq 0 ] || tb_die "needs root (network namespaces)"
}

tb_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || tb_die "needs '$c' on PATH"
	done
}

tb_netns_add() {
	local ns=$1
	if [ -e "/run/netns/$ns" ]; then
		tb_die "namespace $ns already exists; not touching it"
	fi
	ip netns add "$ns"
	tb_on_exit "ip netns delete '$ns'"
}

# Stops a process this test started, by its PID only.
tb_stop_pid() {
	local pid=$1 grace=${2:-5} tries
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	tries=$((grace * 10))
	while [ "$tries" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		# A child of ours that has exited stays a zombie until waited for.
		if [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
			break
		fi
		tries=$((tries - 1))
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

tb_sluice_stats() {
	local state=$1 before
	before=$(grep -c '^stats: ' "$state/sluice.log")
	kill -USR1 "$(cat "$state/sluice.pid")"
	tb_wait_for "[ \$(grep -c '^stats: ' '$state/sluice.log') -gt $before ]" 5 || return 1
	grep '^stats: ' "$state/sluice.log" | tail -1 | cut -d' ' -f2-
}

tb_demo_up() {
	local dir=$1 user=${2:-} pw=${3:-} top ctl args=()
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	ctl=${SL_BUILD:-$top/build}/apps/sluicectl/sluicectl
	if [ -n "$user" ]; then
		[ -x "$ctl" ] || tb_die "no $ctl: build first"
		cp "$top/configs/tap-demo.yaml" "$dir/sluice.yaml"
		printf '  auth:\n    db_path: %s\n    jwt_secret: %s\n' "$dir/users.db" \
			"test-secret-$$-$RANDOM" >>"$dir/sluice.yaml"
		# shellcheck disable=SC2016 # the inner shell expands its own arguments
		tb_check "sluicectl user add $user" \
			bash -c 'echo "$1" | "$2" --config "$3" user add "$4" >/dev/null' _ \
			"$pw" "$ctl" "$dir/sluice.yaml" "$user"
		args=(--config "$dir/sluice.yaml")
	fi
	tb_on_exit "'$top/scripts/testbed.sh' down >/dev/null 2>&1"
	"$top/scripts/testbed.sh" up "${args[@]}" >"$dir/up.log" 2>&1 ||
		{ cat "$dir/up.log" >&2; tb_die "testbed did not come up"; }
	tb_wait_for "ip netns exec '$SL_NS' curl -s -m 1 -o /dev/null http://127.0.0.1:1997/health" 10 ||
		tb_die "no admin API"
	tb_wait_for "ip netns exec '$SL_NS' curl -s -m 2 -o /dev/null http://198.18.0.2/" 15 ||
		tb_die "sluice does not proxy"
}
