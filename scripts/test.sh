#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build and run every test suite: unit (CUnit, no EAL), dataplane (EAL
# in-process), integration (the real binary in TAP testbeds against Linux
# peers), and a short libFuzzer run. Exit status is non-zero on any failure.
#
#   ./scripts/test.sh [--quick]     --quick skips the fuzz run
# Environment: SL_FUZZ_SECONDS (default 45) per fuzz target.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
fuzz_seconds=${SL_FUZZ_SECONDS:-45}

passed=0
failed=0
failures=()
record() { # name rc
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root (integration tests use namespaces)" >&2; exit 1; }
./scripts/deps.sh all || exit 1
echo "== build"
./scripts/build.sh || { echo "test.sh: build failed"; echo "0 passed, 1 failed"; exit 1; }

echo "== unit and dataplane suites (meson test)"
meson test -C build --print-errorlogs --no-rebuild --num-processes 1
rc=$?
while read -r name result; do
	record "meson:$name" "$([ "$result" = OK ] && echo 0 || echo 1)"
done < <(python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["name"].replace(" ", ""), t["result"])
PY
)
[ $rc -eq 0 ] || echo "meson test failed (rc $rc)"

echo "== integration"
for t in tests/integration/test_*.sh; do
	echo "-- $t"
	timeout 900 bash "$t" "$top/build"
	record "$t" $?
done

if [ "$quick" = 0 ]; then
	echo "== fuzz (${fuzz_seconds}s per target)"
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

echo
if [ $failed -gt 0 ]; then
	echo "FAILED: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
