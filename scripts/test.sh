#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build and run every test suite: unit (CUnit, no EAL), dataplane (EAL
# in-process), the same two again built with AddressSanitizer, LeakSanitizer
# and UBSan (build-asan/), integration (the real binary in TAP testbeds against
# Linux peers), and a short libFuzzer run. Before any of it, a preflight names
# every program the suites need that is not on PATH. Exit status is non-zero on
# any failure; the last line of stdout is "N passed, M failed".
#
#   ./scripts/test.sh [--quick]     --quick skips the fuzz run
# Environment: SL_FUZZ_SECONDS (default 30) per fuzz target (five targets: about 2.5 min).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
quick=0
[ "${1:-}" = "--quick" ] && quick=1
fuzz_seconds=${SL_FUZZ_SECONDS:-30}

passed=0
failed=0
failures=()
record() { # name rc
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

# Every program the suites run, and every library the build links; integration tests add
# what they name with tb_need_cmd. Checked all at once before anything runs, so a machine
# where scripts/deps.sh missed a package fails here, naming each one, not minutes in.
needs=(gcc meson ninja pkg-config python3 ip ss ping nft hping3 curl ethtool tcpdump sysctl ps
	timeout sha256sum awk sed grep mktemp realpath nproc flock mount readlink seq head promtool)
[ "$quick" = 1 ] || needs+=(clang)
preflight() {
	local missing=() words c m
	while read -r -a words; do
		needs+=("${words[@]}")
	done < <(sed -n 's/#.*//; s/^[[:space:]]*tb_need_cmd[[:space:]]//p' tests/integration/*.sh)
	for c in "${needs[@]}"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if command -v pkg-config >/dev/null 2>&1; then
		for m in libdpdk yaml-0.1 jansson sqlite3 libargon2 libjwt cunit openssl; do
			pkg-config --exists "$m" || missing+=("pkg-config:$m")
		done
	fi
	[ -f /usr/include/civetweb.h ] || missing+=("civetweb.h")
	if command -v gcc >/dev/null 2>&1; then
		for m in libasan.so libubsan.so; do
			[ "$(gcc -print-file-name="$m")" != "$m" ] || missing+=("gcc:$m")
		done
	fi
	if [ -x /usr/bin/python3 ]; then
		/usr/bin/python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("scapy") is None)' ||
			missing+=("python3:scapy")
	fi
	if [ "$quick" = 0 ] && command -v clang >/dev/null 2>&1; then
		[ -f "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a" ] ||
			missing+=("clang:libFuzzer")
	fi
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "test.sh: preflight: missing $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
	echo "test.sh: scripts/deps.sh should have installed them: add their packages there"
	return 1
}

[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root (integration tests use namespaces)" >&2; exit 1; }
./scripts/deps.sh test || { echo "test.sh: scripts/deps.sh test failed"; echo "0 passed, 1 failed"; exit 1; }
preflight || { echo "0 passed, 1 failed"; exit 1; }
phase() { echo "== $* (at ${SECONDS} s)"; }
phase build
./scripts/build.sh || { echo "test.sh: build failed"; echo "0 passed, 1 failed"; exit 1; }

# meson_suites BUILD_DIR PREFIX: run the unit and dataplane suites of a build dir, record each.
meson_suites() {
	local dir=$1 prefix=$2 rc name result
	meson test -C "$dir" --print-errorlogs --no-rebuild --num-processes 1
	rc=$?
	while read -r name result; do
		record "$prefix:$name" "$([ "$result" = OK ] && echo 0 || echo 1)"
	done < <(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["name"].replace(" ", ""), t["result"])
PY
	)
	[ $rc -eq 0 ] || echo "meson test -C $dir failed (rc $rc)"
}

phase "unit and dataplane suites (meson test)"
meson_suites build meson

# The same suites built with ASan, LSan and UBSan (gcc; the dataplane tests start DPDK's EAL
# in-process with --no-huge, which ASan's shadow memory leaves room for). Any report fails the
# test: UBSan is built with -fno-sanitize-recover (meson.build), ASan halts on the first error
# and LSan checks for leaks at exit. No leak is suppressed: the suites free what EAL gave them.
# ASan does not see inside DPDK's mempools (Debian's DPDK is not built with ASan): an overrun
# of an mbuf's data room goes unnoticed here; the allocator-backed memory of lib/ and of the
# stack's own tables, the stack and globals are checked.
phase "unit and dataplane suites with sanitizers (build-asan/)"
if [ ! -f build-asan/build.ninja ]; then
	rm -rf build-asan
	meson setup build-asan -Db_sanitize=address,undefined >/dev/null
fi
if ninja -C build-asan --quiet; then
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson_suites build-asan asan
else
	record "asan build" 1
fi

phase integration
for t in tests/integration/test_*.sh; do
	echo "-- $t (at ${SECONDS} s)"
	timeout 900 bash "$t" "$top/build"
	record "$t" $?
done

# The container image and compose file (scripts/container.sh test), where podman can run
# containers. test.sh does not install podman: from scratch (debootstrap, the build stage's
# packages, a release build) the test takes several minutes, and CI runs test.sh inside a
# fresh container where podman is not installed. SL_CONTAINER_TEST=1 installs it
# (scripts/deps.sh container) and runs the test; SL_CONTAINER_TEST=0 skips it.
phase container
case "${SL_CONTAINER_TEST:-auto}" in
0) echo "SKIPPED: container test (SL_CONTAINER_TEST=0)" ;;
*)
	[ "${SL_CONTAINER_TEST:-auto}" != 1 ] || ./scripts/deps.sh container || true
	if ! command -v podman >/dev/null 2>&1; then
		echo "SKIPPED: container test: podman is not installed (SL_CONTAINER_TEST=1 installs it with scripts/deps.sh container)"
	else
		timeout 1200 ./scripts/container.sh test
		rc=$?
		if [ $rc -eq 3 ]; then
			echo "SKIPPED: container test: containers cannot run on this machine (reason above)"
		else
			record "scripts/container.sh test" $rc
		fi
	fi
	;;
esac

if [ "$quick" = 0 ]; then
	phase "fuzz (${fuzz_seconds}s per target)"
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
	fi
	if ninja -C build-fuzz --quiet; then
		for f in build-fuzz/tests/fuzz/fuzz_*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			name=$(basename "$f")
			corpus=$(mktemp -d)
			cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$corpus/" 2>/dev/null || true
			"$f" -max_total_time="$fuzz_seconds" -print_final_stats=0 "$corpus" \
				>"build-fuzz/$name.log" 2>&1
			rc=$?
			[ $rc -eq 0 ] || tail -40 "build-fuzz/$name.log"
			echo "$name: $(grep -Eo 'stat::number_of_executed_runs: *[0-9]+|Done [0-9]+ runs' "build-fuzz/$name.log" | tail -1) rc=$rc"
			rm -rf "$corpus"
			record "$name" $rc
		done
	else
		record "fuzz build" 1
	fi
fi

phase "done"
if [ $failed -gt 0 ]; then
	echo "FAILED: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
