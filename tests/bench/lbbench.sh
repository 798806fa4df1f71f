#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The cost of a balancing pick per policy and of a route match (tests/bench/lbbench.c), in
# ns on this CPU. Pure user-space, no root, no network. Figures only.
#
# usage: tests/bench/lbbench.sh [BUILD_DIR] [ITERATIONS]   (default build/, 2000000)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "${1:-$top/build}")
iters=${2:-2000000}
ninja -C "$build" lib/balance/libsl_balance.a lib/route/libsl_route.a \
	lib/config/libsl_config.a lib/hash/libsl_hash.a >/dev/null
tool=$build/tests/bench/sl-lbbench
mkdir -p "$(dirname "$tool")"
gcc -O2 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I"$top" \
	-o "$tool" "$top/tests/bench/lbbench.c" \
	"$build/lib/balance/libsl_balance.a" "$build/lib/route/libsl_route.a" \
	"$build/lib/config/libsl_config.a" "$build/lib/hash/libsl_hash.a" \
	$(pkg-config --libs yaml-0.1 jansson) -lm
taskset -c 0 "$tool" "$iters" 2>/dev/null || "$tool" "$iters"
