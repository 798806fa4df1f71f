#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure (once) and build into build/. Extra arguments go to `meson setup`.
# SL_TARGETS: build only these ninja targets (e.g. apps/sluice/sluice; the Containerfile).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
	meson setup build "$@" >/dev/null
fi
read -ra targets <<<"${SL_TARGETS:-}"
ninja -C build --quiet "${targets[@]}"
