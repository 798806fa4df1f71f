#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Is this host ready to run sluice on a NIC? One line per check:
#   OK       what was found
#   MISSING  what is missing, and the command that fixes it
#   WARN     recommended, not required (same format)
# Exit status 0 when every required check passes, 1 otherwise.
#
#   host-check.sh [--tap] [--quiet]
#     --tap    checking for TAP mode only: IOMMU, vfio-pci and hugepages become
#              recommendations (TAP tests run with --no-huge)
#     --quiet  print nothing; the exit status says it all
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QUIET=0
TAP=0
FAILED=0

usage() {
	awk 'NR >= 3 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 3 { exit }' "${BASH_SOURCE[0]}"
}

for a in "$@"; do
	case $a in
	--quiet | -q) QUIET=1 ;;
	--tap) TAP=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "host-check.sh: unknown argument $a" >&2
		usage >&2
		exit 2
		;;
	esac
done

say() {
	[ "$QUIET" -eq 1 ] || printf '%s\n' "$*"
}

ok() {
	say "$(printf '%-8s %s' OK "$1")"
}

# missing LEVEL WHAT FIX: LEVEL is required or recommended.
missing() {
	if [ "$1" = required ]; then
		FAILED=1
		say "$(printf '%-8s %s -- fix: %s' MISSING "$2" "$3")"
	else
		say "$(printf '%-8s %s (recommended) -- fix: %s' WARN "$2" "$3")"
	fi
}

has_cpu_flag() {
	grep -m1 '^flags' /proc/cpuinfo | grep -qw -- "$1"
}

check_cpu() {
	if has_cpu_flag sse4_2; then
		ok "CPU flag sse4_2 (DPDK's x86 baseline)"
	else
		missing required "CPU flag sse4_2" "a CPU (or VM CPU model) with SSE4.2, e.g. -cpu host"
	fi
	if has_cpu_flag avx2; then
		ok "CPU flag avx2 (vector PMD paths)"
	else
		missing recommended "CPU flag avx2" "a CPU (or VM CPU model) with AVX2"
	fi
	if has_cpu_flag pdpe1gb; then
		ok "CPU flag pdpe1gb (1 GiB hugepages possible)"
	else
		missing recommended "CPU flag pdpe1gb (1 GiB hugepages)" \
			"use 2 MiB hugepages (the default), or a CPU model with pdpe1gb"
	fi
}

check_iommu() {
	local level=required groups cmdline
	[ "$TAP" -eq 0 ] || level=recommended
	groups=$(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	cmdline=$(cat /proc/cmdline)
	if [ "$groups" -gt 0 ]; then
		ok "IOMMU active: $groups groups in /sys/kernel/iommu_groups"
	elif [ "$(cat /sys/module/vfio/parameters/enable_unsafe_noiommu_mode 2>/dev/null || true)" = Y ]; then
		ok "no IOMMU, but vfio no-IOMMU mode is enabled (unsafe: no DMA isolation)"
	else
		missing "$level" "IOMMU (no groups in /sys/kernel/iommu_groups)" \
			"enable VT-d/AMD-Vi in firmware, add intel_iommu=on iommu=pt (or amd_iommu=on) to GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot"
	fi
	if [[ $cmdline =~ (intel_iommu=on|amd_iommu=on|iommu=pt) ]]; then
		ok "kernel command line enables the IOMMU (${BASH_REMATCH[1]})"
	else
		missing recommended "intel_iommu=on / amd_iommu=on / iommu=pt on the kernel command line" \
			"add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX, update-grub, reboot"
	fi
	if command -v dmesg >/dev/null 2>&1 && dmesg 2>/dev/null | grep -q -E 'DMAR: IOMMU enabled|AMD-Vi: .*[Ee]nabled|Adding to iommu group'; then
		ok "dmesg reports the IOMMU enabled"
	fi
}

check_hugepages() {
	local level=required d n found="" mounts
	[ "$TAP" -eq 0 ] || level=recommended
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		[ -r "$d/nr_hugepages" ] || continue
		n=$(cat "$d/nr_hugepages")
		[ "$n" -eq 0 ] || found+="${found:+, }$n x ${d##*/hugepages-}"
	done
	if [ -n "$found" ]; then
		ok "hugepages reserved: $found"
	else
		missing "$level" "hugepages reserved (none of any size)" "$HERE/hugepages.sh reserve 512"
	fi
	mounts=$(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | paste -sd ' ' -)
	if [ -n "$mounts" ]; then
		ok "hugetlbfs mounted at $mounts"
	else
		missing "$level" "hugetlbfs mount" "$HERE/hugepages.sh reserve 512 (mounts /dev/hugepages)"
	fi
}

check_numa() {
	local nodes
	nodes=$(find /sys/devices/system/node -maxdepth 1 -name 'node[0-9]*' 2>/dev/null | wc -l)
	if [ "$nodes" -gt 0 ]; then
		ok "NUMA nodes: $nodes (online: $(cat /sys/devices/system/node/online 2>/dev/null || echo ?)); put cores and hugepages on the NIC's node"
	else
		missing recommended "NUMA topology in /sys/devices/system/node" \
			"a kernel with CONFIG_NUMA (DPDK then assumes one socket)"
	fi
}

check_vfio() {
	local level=required kver
	[ "$TAP" -eq 0 ] || level=recommended
	kver=$(uname -r)
	if [ -d /sys/bus/pci/drivers/vfio-pci ]; then
		ok "vfio-pci driver loaded"
	elif [ -d /sys/module/vfio_pci ]; then
		ok "vfio-pci module present"
	elif command -v modinfo >/dev/null 2>&1 && modinfo vfio-pci >/dev/null 2>&1; then
		ok "vfio-pci module available (loaded by nic.sh bind)"
	elif grep -qs 'vfio-pci\.ko\|vfio_pci\.ko' "/lib/modules/$kver/modules.builtin" \
		"/lib/modules/$kver/modules.dep" 2>/dev/null; then
		ok "vfio-pci module available (loaded by nic.sh bind)"
	else
		missing "$level" "vfio-pci kernel module" \
			"apt-get install -y linux-image-$(dpkg --print-architecture 2>/dev/null || echo amd64) kmod, then modprobe vfio-pci"
	fi
}

# An installed sluice (sluice.service runs this check) needs DPDK's libraries, not its
# development files: those only matter where sluice is built.
check_dpdk() {
	local eal
	# awk reads to the end: an early exit would SIGPIPE ldconfig, and pipefail end the script.
	eal=$(ldconfig -p 2>/dev/null | awk '/librte_eal\.so\./ && !found { print $NF; found = 1 }') || eal=""
	if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libdpdk; then
		ok "DPDK $(pkg-config --modversion libdpdk) (pkg-config libdpdk)"
	elif [ -n "$eal" ]; then
		ok "DPDK libraries ($eal)"
		missing recommended "DPDK development files (to build sluice on this host)" \
			"apt-get install -y libdpdk-dev pkg-config"
	else
		missing required "DPDK (librte_eal)" \
			"apt-get install -y dpdk dpdk-dev libdpdk-dev pkg-config"
	fi
	if command -v dpdk-testpmd >/dev/null 2>&1; then
		ok "dpdk-testpmd on PATH"
	else
		missing recommended "dpdk-testpmd" "apt-get install -y dpdk"
	fi
}

if [ "$TAP" -eq 1 ]; then
	say "sluice host check (TAP mode), kernel $(uname -r)"
else
	say "sluice host check (NIC mode), kernel $(uname -r)"
fi
check_cpu
check_iommu
check_hugepages
check_numa
check_vfio
check_dpdk
if [ "$FAILED" -eq 0 ]; then
	say "RESULT   ready"
else
	say "RESULT   not ready: fix the MISSING lines above"
fi
exit "$FAILED"
