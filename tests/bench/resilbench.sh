#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The cost of lib/resilience's per-request checks (tests/bench/resilbench.c), in ns on this
# CPU: rate limit with a 100k-address table, circuit breaker, admission, outlier. Pure
# user-space, no root, no network. Figures only.
#
# usage: tests/bench/resilbench.sh [BUILD_DIR] [ITERATIONS]   (default build/, 2000000)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "${1:-$top/build}")
iters=${2:-2000000}
ninja -C "$build" lib/resilience/libsl_resilience.a lib/balance/libsl_balance.a \
	lib/config/libsl_config.a lib/hash/libsl_hash.a >/dev/null
tool=$build/tests/bench/sl-resilbench
mkdir -p "$(dirname "$tool")"
gcc -O2 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I"$top" -pthread \
	-o "$tool" "$top/tests/bench/resilbench.c" \
	"$build/lib/resilience/libsl_resilience.a" "$build/lib/balance/libsl_balance.a" \
	"$build/lib/config/libsl_config.a" "$build/lib/hash/libsl_hash.a" \
	$(pkg-config --libs yaml-0.1 jansson) -lm
"$tool" "$iters"
