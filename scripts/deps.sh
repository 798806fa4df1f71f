#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what sluice needs to build, test and run on Debian 12, once.
# Usage: scripts/deps.sh [build|test|all]   (default all)
set -euo pipefail

build_pkgs=(gcc meson ninja-build pkg-config python3 dpdk dpdk-dev libdpdk-dev
	libyaml-dev libjansson-dev libcivetweb-dev libcunit1-dev)
test_pkgs=(clang libclang-rt-14-dev python3-scapy nftables iproute2 iputils-ping curl procps
	tcpdump wrk hping3)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
test | all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
